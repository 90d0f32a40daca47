/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pick_schedule: find a schedule under which a seed reaches its race.
 *
 * Usage: pick_schedule FILE [--tries N] [--len L] [--pct] [--seed S]
 *
 * Keeps FILE's operations and configuration, tries N random schedules
 * (byte streams of L bytes, or with --pct PCT parameters), runs each on
 * the faithful model and prints, as hexadecimal bytes on one line, the
 * schedule with the most lockless spte reads, cut to its shortest prefix
 * that still reaches as many (a byte stream; the PRNG continues after it),
 * then "# lockless reads: K, hits: H of N" (H: schedules with at least
 * one).  corpus/make_seeds.py records what it printed for its seeds.
 * Exit 1 when no schedule reaches a lockless read, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/program.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint8_t rng_byte(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)(rng >> 24);
}

static int usage(const char *why)
{
	fprintf(stderr, "pick_schedule: %s (usage: pick_schedule FILE [--tries N] [--len L] [--pct] [--seed S])\n",
		why);
	return 2;
}

int main(int argc, char **argv)
{
	static uint8_t buf[FZ_INPUT_MAX], best[FZ_SCHED_MAX];
	static struct fz_program p;
	struct fz_options o = { 0 };
	struct fz_result res;
	unsigned long tries = 2000, len = 512, hits = 0;
	uint64_t best_reads = 0;
	size_t best_len = 0, n;
	bool pct = false;
	const char *file = NULL;
	struct fz_exec *x;
	FILE *f;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tries") == 0 && i + 1 < argc)
			tries = strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--len") == 0 && i + 1 < argc)
			len = strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			rng = strtoull(argv[++i], NULL, 0) * 0x9e3779b97f4a7c15ull | 1;
		else if (strcmp(argv[i], "--pct") == 0)
			pct = true;
		else if (argv[i][0] == '-' || file)
			return usage("bad argument");
		else
			file = argv[i];
	}
	if (!file || tries == 0 || len == 0 || len > FZ_SCHED_MAX)
		return usage("a file, --tries >= 1 and 1 <= --len <= 4096 are needed");
	f = fopen(file, "rb");
	if (!f)
		return usage("cannot open the file");
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	fz_decode(FZ_TARGET_MMU, buf, n, &p);
	p.sched_kind = pct ? SIM_SCHED_PCT : SIM_SCHED_BYTES;
	if (p.version == FZ_FORMAT_LEGACY)
		p.version = FZ_FORMAT_VERSION;
	p.version = fz_program_needs_ext(&p) ? FZ_FORMAT_EXT : FZ_FORMAT_VERSION;
	x = fz_exec_new();
	if (!x)
		return usage("out of memory");
	for (unsigned long t = 0; t < tries; t++) {
		p.sched_len = len;
		for (size_t i = 0; i < len; i++)
			p.sched[i] = rng_byte();
		p.seed = fz_program_seed(&p);
		fz_exec_run(x, &p, &o, &res);
		if (res.divergence || res.stats.reads == 0)
			continue;
		hits++;
		if (res.stats.reads > best_reads) {
			const uint8_t *trace;

			best_reads = res.stats.reads;
			/* The choices the run made: the same run, with no PRNG continuation. */
			trace = sim_sched_trace(fz_exec_sim(x), &best_len);
			if (pct || best_len > FZ_SCHED_MAX) {
				best_len = len;
				trace = p.sched;
			}
			memcpy(best, trace, best_len);
		}
	}
	/*
	 * The shortest prefix of the byte stream that still reaches as many
	 * lockless reads (the PRNG continues after it): long seeds make the
	 * fuzzer's inputs long from the start.
	 */
	if (hits && !pct) {
		for (size_t keep = 16; keep < best_len; keep += keep / 4 + 1) {
			p.sched_len = keep;
			memcpy(p.sched, best, keep);
			p.seed = fz_program_seed(&p);
			fz_exec_run(x, &p, &o, &res);
			if (!res.divergence && res.stats.reads >= best_reads) {
				best_len = keep;
				break;
			}
		}
	}
	fz_exec_free(x);
	if (!hits) {
		printf("# lockless reads: 0, hits: 0 of %lu\n", tries);
		return 1;
	}
	for (size_t i = 0; i < best_len; i++)
		printf("%s%u", i ? ", " : "", best[i]);
	printf("\n# lockless reads: %llu, hits: %lu of %lu\n", (unsigned long long)best_reads, hits,
	       tries);
	return 0;
}
