/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replay engine: a main() that runs a harness over files without
 * fuzzing.  `bazel test` runs every harness this way over its seed corpus,
 * its regressions and its findings.
 *
 * Expectations come from each input's sidecar (FILE.txt), whose header lines
 * (up to the first blank line) are "key: value":
 *   mutant: NAME             the input is a witness for mutant NAME: it must
 *                            diverge with NAME and pass on the faithful model
 *   expect: divergence|pass  what the run with that mutant must give
 *   faithful: divergence     (findings/) the faithful model diverges too
 * An input without a sidecar must pass on the faithful model.  Every input
 * is run twice and must give the same event-log hash both times.
 *
 * --expect=divergence|pass overrides every sidecar: each input runs once
 * more, with --mutant (default the faithful model), and must give that (a
 * plugged protocol's mutant replaying the built-in mutant's witnesses).
 *
 * Usage: replay [--mutant=NAME] [--strict] [--protocol=SO] [--expect=WHAT] PATH...
 *        (directories are walked)
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz/harness.h"

struct expectation {
	enum mmu_mutant mutant;
	bool mutant_diverges;
	struct fz_sidecar sidecar;
	bool faithful_diverges;
};

static struct fz_exec *exec;
static int passed, failed;
static struct fz_options base;
static int expect_override = -1;   /* --expect: 1 divergence, 0 pass */

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool skip_name(const char *path)
{
	const char *base_name = strrchr(path, '/');

	base_name = base_name ? base_name + 1 : path;
	return base_name[0] == '.' || ends_with(path, ".txt") || ends_with(path, ".md") ||
	       strcmp(base_name, "BUILD") == 0;
}

/* Returns false (after reporting) if the sidecar is malformed. */
static bool read_sidecar(const char *path, struct expectation *e)
{
	struct fz_sidecar sc;
	char err[600];

	if (fz_sidecar_read(path, &sc, err, sizeof(err)) != 0) {
		printf("FAIL %s\n", err);
		return false;
	}
	e->sidecar = sc;
	e->mutant = sc.present ? sc.mutant : base.mutant;
	e->faithful_diverges = sc.faithful_divergence;
	e->mutant_diverges = sc.expect_divergence ||
			     (e->mutant == MMU_MUTANT_NONE && sc.faithful_divergence);
	return true;
}

static bool run_expect(const char *path, const struct fz_program *p, enum mmu_mutant m,
		       bool want_divergence, const struct fz_sidecar *sc)
{
	struct fz_options o = base;
	struct fz_result r1, r2;

	o.mutant = m;
	o.force = sc->force;
	fz_exec_run(exec, p, &o, &r1);
	fz_exec_run(exec, p, &o, &r2);
	if (r1.hash != r2.hash) {
		printf("FAIL %s [%s]: replay is not deterministic (hash %016" PRIx64
		       " then %016" PRIx64 ")\n",
		       path, mmu_mutant_info(m)->name, r1.hash, r2.hash);
		return false;
	}
	if (r1.divergence != want_divergence) {
		printf("FAIL %s [%s]: expected %s, got %s\n", path, mmu_mutant_info(m)->name,
		       want_divergence ? "a divergence" : "a pass",
		       r1.divergence ? "a divergence" : "a pass");
		fz_report_print(stdout, p, &o, &r1);
		return false;
	}
	printf("ok   %s [%s]: %s, %s, hash %016" PRIx64 "\n", path, mmu_mutant_info(m)->name,
	       r1.divergence ? orc_kind_name(r1.verdict.kind) : "pass",
	       sim_result_name(r1.sim_result), r1.hash);
	return true;
}

static void replay_file(const char *path)
{
	static uint8_t data[FZ_INPUT_MAX];
	static struct fz_program prog;
	struct expectation e;
	size_t size;
	bool ok = true;
	FILE *f;

	if (!read_sidecar(path, &e)) {
		failed++;
		return;
	}
	f = fopen(path, "rb");
	if (!f) {
		printf("FAIL %s: %s\n", path, strerror(errno));
		failed++;
		return;
	}
	/* Inputs longer than the format can use decode the same when cut. */
	size = fread(data, 1, sizeof(data), f);
	fclose(f);
	fz_decode(fz_harness_target, data, size, &prog);
	if (expect_override >= 0) {
		if (run_expect(path, &prog, base.mutant, expect_override, &e.sidecar))
			passed++;
		else
			failed++;
		return;
	}
	if (e.mutant != MMU_MUTANT_NONE)
		ok = run_expect(path, &prog, e.mutant, e.mutant_diverges, &e.sidecar);
	ok = run_expect(path, &prog, MMU_MUTANT_NONE, e.faithful_diverges, &e.sidecar) && ok;
	if (ok)
		passed++;
	else
		failed++;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		printf("FAIL %s: %s\n", path, strerror(errno));
		failed++;
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		/* Sorted, so the output is the same on every machine. */
		DIR *d = opendir(path);
		struct dirent *ent;
		char **names = NULL;
		size_t count = 0, cap = 0;

		if (!d) {
			printf("FAIL %s: %s\n", path, strerror(errno));
			failed++;
			return;
		}
		while ((ent = readdir(d))) {
			if (ent->d_name[0] == '.')
				continue;
			if (count == cap) {
				cap = cap ? 2 * cap : 64;
				names = realloc(names, cap * sizeof(*names));
				if (!names)
					abort();
			}
			names[count] = malloc(strlen(path) + strlen(ent->d_name) + 2);
			if (!names[count])
				abort();
			sprintf(names[count++], "%s/%s", path, ent->d_name);
		}
		closedir(d);
		qsort(names, count, sizeof(*names), compare_names);
		for (size_t i = 0; i < count; i++) {
			replay_path(names[i]);
			free(names[i]);
		}
		free(names);
		return;
	}
	if (!skip_name(path))
		replay_file(path);
}

int main(int argc, char **argv)
{
	int inputs = 0;

	fz_harness_init(&argc, &argv, &base);
	exec = fz_exec_new();
	if (!exec) {
		fprintf(stderr, "replay: out of memory\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--expect=divergence") == 0)
			expect_override = 1;
		else if (strcmp(argv[i], "--expect=pass") == 0)
			expect_override = 0;
		else if (strncmp(argv[i], "--expect=", 9) == 0) {
			fprintf(stderr, "replay: --expect must be divergence or pass\n");
			return 2;
		}
	}
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0)
			continue;
		replay_path(argv[i]);
		inputs++;
	}
	fz_exec_free(exec);
	if (inputs == 0) {
		fprintf(stderr, "usage: %s [--mutant=NAME] [--strict] PATH...\n", argv[0]);
		return 2;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed || passed == 0 ? 1 : 0;
}
