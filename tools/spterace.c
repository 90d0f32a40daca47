/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The spterace CLI (reached through the root launcher ./spterace):
 *
 *   spterace mutants            list every mutant with a one-line description
 *   spterace decode FILE        print an input's program in its text form
 *   spterace repro FILE         replay a crash file (target and mutant come
 *                               from its sidecar FILE.txt) and explain it
 *
 * Exit status: repro 1 when the divergence reproduces, 0 when the input
 * passes; 2 for bad usage or an unreadable or malformed file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/program.h"

static int usage(void)
{
	fprintf(stderr, "usage: spterace mutants | decode FILE | repro FILE\n");
	return 2;
}

struct sidecar {
	enum fz_target target;
	enum mmu_mutant mutant;
	unsigned format;
	bool strict;
};

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

/* Missing sidecar: the spte target, faithful model.  Returns 0 or 2. */
static int read_sidecar(const char *path, struct sidecar *out)
{
	char name[4096], line[512];
	FILE *f;

	out->target = FZ_TARGET_SPTE;
	out->mutant = MMU_MUTANT_NONE;
	out->format = FZ_FORMAT_VERSION;
	out->strict = false;
	snprintf(name, sizeof(name), "%s.txt", path);
	f = fopen(name, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *key, *value;

		if (!colon || line[0] == '#')
			continue;
		*colon = 0;
		key = trim(line);
		value = trim(colon + 1);
		if (strcmp(key, "target") == 0) {
			out->target = fz_target_by_name(value);
			if (out->target == FZ_TARGET_COUNT) {
				fprintf(stderr, "spterace: %s: unknown target '%s'\n", name, value);
				fclose(f);
				return 2;
			}
		} else if (strcmp(key, "mutant") == 0) {
			out->mutant = mmu_mutant_by_name(value);
			if (out->mutant == MMU_MUTANT_COUNT) {
				fprintf(stderr, "spterace: %s: unknown mutant '%s'\n", name, value);
				fclose(f);
				return 2;
			}
		} else if (strcmp(key, "format") == 0) {
			out->format = (unsigned)strtoul(value, NULL, 10);
			if (out->format != FZ_FORMAT_VERSION) {
				fprintf(stderr, "spterace: %s: unsupported format %s\n", name, value);
				fclose(f);
				return 2;
			}
		} else if (strcmp(key, "strict") == 0) {
			out->strict = strcmp(value, "yes") == 0;
		}
	}
	fclose(f);
	return 0;
}

static int read_input(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	FILE *f = fopen(path, "rb");

	if (!f) {
		fprintf(stderr, "spterace: %s: %s\n", path, strerror(errno));
		return 2;
	}
	*len = fread(buf, 1, cap, f);
	fclose(f);
	return 0;
}

static int cmd_mutants(void)
{
	for (int m = 1; m < MMU_MUTANT_COUNT; m++) {
		const struct mmu_mutant_info *i = mmu_mutant_info((enum mmu_mutant)m);

		printf("%-26s %s\n", i->name, i->summary);
	}
	return 0;
}

static int cmd_decode(const char *path)
{
	static uint8_t buf[FZ_INPUT_MAX];
	static struct fz_program p;
	struct sidecar sc;
	size_t len;
	int rc;

	if ((rc = read_sidecar(path, &sc)) || (rc = read_input(path, buf, sizeof(buf), &len)))
		return rc;
	fz_decode(sc.target, buf, len, &p);
	fz_program_print(stdout, &p);
	return 0;
}

static int cmd_repro(const char *path)
{
	static uint8_t buf[FZ_INPUT_MAX];
	static struct fz_program p;
	struct fz_options o = { 0 };
	struct fz_result r;
	struct sidecar sc;
	struct fz_exec *x;
	size_t len;
	int rc;

	if ((rc = read_sidecar(path, &sc)) || (rc = read_input(path, buf, sizeof(buf), &len)))
		return rc;
	o.mutant = sc.mutant;
	o.strict = sc.strict;
	fz_decode(sc.target, buf, len, &p);
	x = fz_exec_new();
	if (!x) {
		fprintf(stderr, "spterace: out of memory\n");
		return 2;
	}
	fz_exec_run(x, &p, &o, &r);
	fz_exec_free(x);
	fz_report_print(stdout, &p, &o, &r);
	printf("program:\n");
	fz_program_print(stdout, &p);
	printf("reproduce: ./spterace repro %s\n", path);
	return r.divergence ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "mutants") == 0 && argc == 2)
		return cmd_mutants();
	if (strcmp(argv[1], "decode") == 0 && argc == 3)
		return cmd_decode(argv[2]);
	if (strcmp(argv[1], "repro") == 0 && argc == 3)
		return cmd_repro(argv[2]);
	return usage();
}
