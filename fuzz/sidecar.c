/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Sidecars: FILE.txt next to an input, whose header (up to the first blank
 * line) holds "key: value" lines; the rest is free text for people.
 *
 *   target: NAME               the harness (default: the target a directory
 *                              of the input's path names, as in corpus/mmu/,
 *                              corpus/regressions/spte/ or out/fuzz/mmu-none-...;
 *                              else spte)
 *   mutant: NAME               the mutant the input was found with (default none)
 *   format: 1|2|3              the input format version
 *   mm: sc|tso|relaxed         the harness forced this memory model (--mm)
 *   sched: preempt|bytes|pct   ... this schedule source (--sched)
 *   knobs: LIST                ... these small-scope knobs (--knobs)
 *   size: N                    the input's length, to detect truncation
 *   strict: yes                benign blends count as divergences
 *   expect: divergence|pass    what a run with the mutant must give
 *   faithful: divergence       the faithful model diverges too (a finding)
 *
 * Unknown keys are ignored, so sidecars can carry more for people.
 */
#include "fuzz/program.h"

#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		*--end = 0;
	return s;
}

/*
 * The target a directory of the path names: the nearest one called after a
 * target, or starting with its name and a dash (out/fuzz/mmu-none-...).
 */
static enum fz_target target_of_path(const char *input)
{
	const char *end = strrchr(input, '/');

	while (end && end > input) {
		const char *start = end - 1;

		while (start > input && start[-1] != '/')
			start--;
		for (enum fz_target t = 0; t < FZ_TARGET_COUNT; t++) {
			const char *name = fz_target_name(t);
			size_t n = strlen(name);

			if ((size_t)(end - start) >= n && strncmp(start, name, n) == 0 &&
			    (start + n == end || start[n] == '-'))
				return t;
		}
		if (start == input)
			break;
		end = start - 1;
	}
	return FZ_TARGET_SPTE;
}

int fz_sidecar_read(const char *input, struct fz_sidecar *out, char *err, size_t cap)
{
	char name[4096], line[512];
	int rc = 0;
	FILE *f;

	memset(out, 0, sizeof(*out));
	out->target = target_of_path(input);
	out->mutant = MMU_MUTANT_NONE;
	out->size = -1;
	snprintf(name, sizeof(name), "%s.txt", input);
	f = fopen(name, "r");
	if (!f)
		return 0;
	out->present = true;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *key, *value;

		if (line[0] == '\n' || line[0] == '\r')
			break;
		if (line[0] == '#' || !colon)
			continue;
		*colon = 0;
		key = trim(line);
		value = trim(colon + 1);
		rc = -1;
		if (strcmp(key, "target") == 0) {
			out->target = fz_target_by_name(value);
			if (out->target == FZ_TARGET_COUNT)
				snprintf(err, cap, "%s: malformed sidecar: unknown target '%s'", name, value);
			else
				rc = 0;
		} else if (strcmp(key, "mutant") == 0) {
			out->mutant = mmu_mutant_by_name(value);
			if (out->mutant == MMU_MUTANT_COUNT)
				snprintf(err, cap, "%s: malformed sidecar: unknown mutant '%s'", name, value);
			else
				rc = 0;
		} else if (strcmp(key, "format") == 0) {
			if (strcmp(value, "1") != 0 && strcmp(value, "2") != 0 && strcmp(value, "3") != 0)
				snprintf(err, cap, "%s: malformed sidecar: format %s (this build reads formats 1, 2 and 3)",
					 name, value);
			else
				rc = 0;
		} else if (strcmp(key, "mm") == 0 || strcmp(key, "sched") == 0 ||
			   strcmp(key, "knobs") == 0) {
			if (!fz_overrides_set(&out->force, key, value))
				snprintf(err, cap, "%s: malformed sidecar: %s '%s' (%s)", name, key, value,
					 fz_overrides_expected(key));
			else
				rc = 0;
		} else if (strcmp(key, "size") == 0) {
			char *end;

			out->size = strtol(value, &end, 10);
			if (*end || out->size < 0)
				snprintf(err, cap, "%s: malformed sidecar: size '%s'", name, value);
			else
				rc = 0;
		} else {
			if (strcmp(key, "strict") == 0)
				out->strict = strcmp(value, "yes") == 0;
			else if (strcmp(key, "expect") == 0)
				out->expect_divergence = strcmp(value, "divergence") == 0;
			else if (strcmp(key, "faithful") == 0)
				out->faithful_divergence = strcmp(value, "divergence") == 0;
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

void fz_sidecar_write_overrides(FILE *f, const struct fz_overrides *force)
{
	char knobs[64];

	if (force->mm)
		fprintf(f, "mm: %s\n", sim_mm_name((enum sim_mm)(force->mm - 1)));
	if (force->sched)
		fprintf(f, "sched: %s\n", sim_sched_name((enum sim_sched_kind)(force->sched - 1)));
	if (force->knobs) {
		fz_knobs_names(force->knobs, knobs, sizeof(knobs));
		fprintf(f, "knobs: %s\n", knobs);
	}
}
