/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Goal: the seeds named after a lockless race reach it.  A seed whose
 * schedule lets every vCPU finish before the host thread starts runs no
 * lockless walk at all, and the fuzzer starts from nothing while the
 * corpus claims otherwise.  After a change to the model, a seed can lose
 * its race silently: this test says so.  corpus/make_seeds.py has the
 * seeds and how their schedules were picked.
 *
 * Usage: seeds_test FILE...  (the mmu seed corpus; each file whose name
 * starts with one of the prefixes below must run at least one lockless
 * spte read, faithful model, no divergence).
 */
#include <stdio.h>
#include <string.h>

#include "fuzz/program.h"
#include "testing/check.h"

static const char *const lockless_seeds[] = {
	"change-pte-aba-vs-fast-pf", "fast-pf-dirty-log", "dirty-bit-vs-unmap",
	"mmio-walk-direct", "walkers-vs-zap-tso",
};

static bool wants_lockless(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	for (size_t i = 0; i < sizeof(lockless_seeds) / sizeof(lockless_seeds[0]); i++)
		if (strncmp(base, lockless_seeds[i], strlen(lockless_seeds[i])) == 0)
			return true;
	return false;
}

static void every_lockless_race_seed_runs_a_lockless_read(void)
{
	static uint8_t buf[FZ_INPUT_MAX];
	static struct fz_program p;
	struct fz_exec *x = fz_exec_new();
	struct fz_options o = { 0 };
	struct fz_result res;
	unsigned seeds = 0;

	for (int i = 1; i < check_argc; i++) {
		const char *path = check_argv[i];
		FILE *f;
		size_t n;

		if (!wants_lockless(path))
			continue;
		f = fopen(path, "rb");
		CHECK(f != NULL);
		if (!f)
			continue;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		fz_decode(FZ_TARGET_MMU, buf, n, &p);
		fz_exec_run(x, &p, &o, &res);
		seeds++;
		if (res.stats.reads == 0 || res.divergence)
			fprintf(stderr, "%s: %llu lockless reads%s\n", path,
				(unsigned long long)res.stats.reads,
				res.divergence ? ", and a divergence" : "");
		CHECK(res.stats.reads > 0);
		CHECK(!res.divergence);
	}
	/* Each race has its byte-stream seed and its PCT variant. */
	CHECK(seeds >= 10);
	fz_exec_free(x);
}

TEST_MAIN(TEST(every_lockless_race_seed_runs_a_lockless_read))
