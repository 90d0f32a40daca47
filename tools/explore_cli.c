/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `spterace explore FILE [--preemptions K] ...`: the bounded-exhaustive
 * schedule search of fuzz/explore.h over one program, from the command line.
 *
 * Exit status: 0 no divergence within the bound, 1 a divergence (saved as a
 * crash file and reported as `repro` reports it), 2 bad usage, an input
 * that cannot be read, or a search the budget cannot cover.
 */
#include "tools/explore_cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuzz/explore.h"
#include "fuzz/program.h"

static int err1(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "spterace: explore: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 2;
}

/* ---- SHA-1 (content-hash names, as libFuzzer names its files) ---- */

static uint32_t rol(uint32_t x, int n)
{
	return x << n | x >> (32 - n);
}

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;

		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

static void sha1_hex(const uint8_t *data, size_t len, char out[41])
{
	uint32_t h[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
	uint8_t block[64];
	size_t i = 0;
	uint64_t bits = (uint64_t)len * 8;

	for (; i + 64 <= len; i += 64)
		sha1_block(h, data + i);
	memset(block, 0, sizeof(block));
	memcpy(block, data + i, len - i);
	block[len - i] = 0x80;
	if (len - i >= 56) {
		sha1_block(h, block);
		memset(block, 0, sizeof(block));
	}
	for (int k = 0; k < 8; k++)
		block[63 - k] = (uint8_t)(bits >> (8 * k));
	sha1_block(h, block);
	for (int k = 0; k < 5; k++)
		snprintf(out + 8 * k, 9, "%08x", h[k]);
}

/* ---- files ---- */

static int mkdir_p(const char *dir)
{
	char buf[4200];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, dir, n + 1);
	for (char *c = buf + 1; ; c++) {
		char saved = *c;

		if (saved != '/' && saved != 0)
			continue;
		*c = 0;
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return -1;
		*c = saved;
		if (!saved)
			break;
	}
	return 0;
}

/*
 * Write data to dir/<prefix><sha1>, never over an existing file (a file of
 * that name has the same content).  Returns 1 if written, 0 if it was
 * there, -1 on error; path gets the name.
 */
static int write_hashed(const char *dir, const char *prefix, const uint8_t *data, size_t len,
			char *path, size_t cap)
{
	char hex[41], tmp[4300];
	struct stat st;
	FILE *f;
	int rc;

	sha1_hex(data, len, hex);
	snprintf(path, cap, "%s/%s%s", dir, prefix, hex);
	if (stat(path, &st) == 0)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "wb");
	if (!f)
		return -1;
	if (fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		remove(tmp);
		return -1;
	}
	rc = link(tmp, path);
	remove(tmp);
	if (rc != 0)
		return errno == EEXIST ? 0 : -1;
	return 1;
}

static int write_sidecar(const char *path, const struct fz_program *p, enum sim_mm mm,
			 enum mmu_mutant m, bool strict, uint8_t knobs, size_t size, uint32_t k)
{
	char side[4300], tmp[4400];
	const char *src = getenv("SPTERACE_PROTOCOL_SRC"), *sha = getenv("SPTERACE_PROTOCOL_SHA1");
	struct stat st;
	FILE *f;

	snprintf(side, sizeof(side), "%s.txt", path);
	if (stat(side, &st) == 0)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", side, (int)getpid());
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "target: %s\nmutant: %s\nformat: %u\nsize: %zu\nexpect: divergence\n",
		fz_target_name(p->target), mmu_mutant_info(m)->name, p->version, size);
	/* A format-1 input cannot say `relaxed`: its sidecar does, as repro reads it. */
	if (p->mm != mm)
		fprintf(f, "mm: %s\n", sim_mm_name(mm));
	if (strict)
		fprintf(f, "strict: yes\n");
	if (knobs) {
		char names[200];

		fz_knobs_names(knobs, names, sizeof(names));
		fprintf(f, "knobs: %s\n", names);
	}
	if (src && *src) {
		fprintf(f, "protocol: %s\n", src);
		if (sha && *sha)
			fprintf(f, "protocol-sha1: %s\n", sha);
	}
	fprintf(f, "found: ./spterace explore, %u preemptions at most, %s\n", k,
		sim_mm_name(mm));
	if (fclose(f) != 0 || rename(tmp, side) != 0) {
		remove(tmp);
		return -1;
	}
	return 0;
}

struct seeds_ctx {
	const char *dir;
	uint64_t written;
};

static void save_seed(void *ctx, const uint8_t *input, size_t len)
{
	struct seeds_ctx *c = ctx;
	char path[4300];

	if (write_hashed(c->dir, "", input, len, path, sizeof(path)) == 1)
		c->written++;
}

/* The text form: printable ASCII and blanks only. */
static bool looks_like_text(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!(buf[i] == '\n' || buf[i] == '\t' || buf[i] == '\r' ||
		      (buf[i] >= 0x20 && buf[i] < 0x7f)))
			return false;
	return len > 0;
}

static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *mm_upper(enum sim_mm m)
{
	return m == SIM_MM_SC ? "SC" : m == SIM_MM_TSO ? "TSO" : "RELAXED";
}

int explore_main(int argc, char **argv, int (*report)(const char *path))
{
	static uint8_t buf[FZ_INPUT_MAX + 1];
	static struct fz_program prog;
	static struct fz_explore_result res;
	static char text[1 << 16];
	const char *file = NULL, *target_name = NULL, *mutant_name = NULL, *mm_name = NULL;
	const char *out = "out/explore", *seeds = NULL;
	uint64_t k = 2, budget = 200000;
	bool report_known = false;
	struct fz_sidecar sc;
	struct fz_options o;
	struct fz_exec *x;
	enum sim_mm mms[SIM_MM_COUNT];
	double est[SIM_MM_COUNT] = { 0 };
	uint32_t nmm;
	char err[600];
	size_t len;
	FILE *f;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char **val = NULL;
		uint64_t *num = NULL, max = 0;

		if (strcmp(a, "--preemptions") == 0) {
			num = &k;
			max = FZ_EXPLORE_DEPTH_MAX;
		} else if (strcmp(a, "--budget") == 0) {
			num = &budget;
			max = UINT64_MAX / 2;
		} else if (strcmp(a, "--target") == 0) {
			val = &target_name;
		} else if (strcmp(a, "--mutant") == 0) {
			val = &mutant_name;
		} else if (strcmp(a, "--mm") == 0) {
			val = &mm_name;
		} else if (strcmp(a, "--out") == 0) {
			val = &out;
		} else if (strcmp(a, "--seeds") == 0) {
			val = &seeds;
		} else if (strcmp(a, "--report-known") == 0) {
			report_known = true;
			continue;
		} else if (a[0] == '-' && a[1]) {
			return err1("unknown option '%s' (options: --preemptions, --target, --mutant, "
				    "--mm, --budget, --out, --seeds, --report-known, --protocol)%s",
				    a, "");
		} else if (!file) {
			file = a;
			continue;
		} else {
			return err1("one input file only, not '%s'%s", a, "");
		}
		if (i + 1 >= argc)
			return err1("%s needs a value%s", a, "");
		if (num) {
			if (!parse_uint(argv[i + 1], max, num) || (num == &budget && *num == 0)) {
				if (num == &k) {
					char m[16];

					snprintf(m, sizeof(m), "%d", FZ_EXPLORE_DEPTH_MAX);
					return err1("--preemptions must be a number from 0 to %s, not "
						    "'%s'", m, argv[i + 1]);
				}
				return err1("--budget must be a positive number, not '%s'%s",
					    argv[i + 1], "");
			}
		} else {
			*val = argv[i + 1];
		}
		i++;
	}
	if (!file)
		return err1("usage: spterace explore FILE [--preemptions K] [--target spte|mmu] "
			    "[--mutant NAME] [--mm sc|tso|relaxed|both|all] [--budget N] [--out DIR] "
			    "[--seeds DIR] [--report-known]%s%s", "", "");

	/* The input and its sidecar. */
	if (fz_sidecar_read(file, &sc, err, sizeof(err)) != 0) {
		fprintf(stderr, "spterace: %s\n", err);
		return 2;
	}
	f = fopen(file, "rb");
	if (!f)
		return err1("%s: %s", file, strerror(errno));
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (len == 0)
		return err1("%s: %s", file, "empty file: not an spterace input");
	if (looks_like_text(buf, len)) {
		if (len >= sizeof(text))
			return err1("%s: %s", file, "text form too long");
		memcpy(text, buf, len);
		text[len] = 0;
		if (!fz_program_parse(text, &prog, err, sizeof(err)))
			return err1("%s: %s", file, err);
		if (target_name && fz_target_by_name(target_name) != prog.target &&
		    fz_target_by_name(target_name) != FZ_TARGET_COUNT)
			return err1("%s: the text form says target %s", file,
				    fz_target_name(prog.target));
	} else {
		enum fz_target t = sc.present ? sc.target : FZ_TARGET_SPTE;

		if (len > FZ_INPUT_MAX)
			return err1("%s: %s", file, "malformed: longer than any spterace input");
		if (sc.size >= 0 && (size_t)sc.size != len)
			return err1("%s: %s", file, "truncated or altered: its sidecar gives another size");
		if (target_name)
			t = fz_target_by_name(target_name);
		if (t == FZ_TARGET_COUNT)
			return err1("unknown target '%s' (targets: spte, mmu)%s", target_name, "");
		fz_decode(t, buf, len, &prog);
	}
	if (target_name && fz_target_by_name(target_name) == FZ_TARGET_COUNT)
		return err1("unknown target '%s' (targets: spte, mmu)%s", target_name, "");

	memset(&o, 0, sizeof(o));
	o.mutant = sc.mutant;
	o.strict = sc.strict;
	/* The knobs the input was found with (its sidecar's), as repro applies them. */
	o.force.knobs = sc.force.knobs;
	if (sc.force.mm && !mm_name)
		prog.mm = (enum sim_mm)(sc.force.mm - 1);
	if (mutant_name) {
		o.mutant = mmu_mutant_by_name(mutant_name);
		if (o.mutant == MMU_MUTANT_COUNT)
			return err1("unknown mutant '%s' (see: ./spterace mutants)%s", mutant_name, "");
	}
	if (!mm_name) {
		mms[0] = prog.mm;
		nmm = 1;
	} else if (strcmp(mm_name, "sc") == 0) {
		mms[0] = SIM_MM_SC;
		nmm = 1;
	} else if (strcmp(mm_name, "tso") == 0) {
		mms[0] = SIM_MM_TSO;
		nmm = 1;
	} else if (strcmp(mm_name, "relaxed") == 0) {
		mms[0] = SIM_MM_RELAXED;
		nmm = 1;
	} else if (strcmp(mm_name, "both") == 0) {
		mms[0] = SIM_MM_SC;
		mms[1] = SIM_MM_TSO;
		nmm = 2;
	} else if (strcmp(mm_name, "all") == 0) {
		mms[0] = SIM_MM_SC;
		mms[1] = SIM_MM_TSO;
		mms[2] = SIM_MM_RELAXED;
		nmm = 3;
	} else {
		return err1("--mm must be sc, tso, relaxed, both (sc and tso) or all, not '%s'%s",
			    mm_name, "");
	}
	x = fz_exec_new();
	if (!x)
		return err1("out of memory for the simulator%s%s", "", "");

	struct seeds_ctx sctx = { seeds, 0 };
	struct fz_explore_opts eo = {
		.preemptions = (uint32_t)k,
		.budget = budget,
		.report_known = report_known,
		.on_seed = seeds ? save_seed : NULL,
		.ctx = &sctx,
	};

	/* Refuse before running anything: never a silently truncated search. */
	for (uint32_t m = 0; m < nmm; m++) {
		prog.mm = mms[m];
		if (!fz_explore_base(x, &prog, &o, &eo, &res, err, sizeof(err))) {
			fz_exec_free(x);
			return err1("%s: %s", file, err);
		}
		est[m] = res.estimate;
		if (res.estimate > (double)budget) {
			fprintf(stderr,
				"spterace: explore: about %.0f schedules exceed the budget %" PRIu64
				"; raise --budget or lower --preemptions\n",
				res.estimate, budget);
			fz_exec_free(x);
			return 2;
		}
	}

	if (mkdir_p(out) != 0 || (seeds && mkdir_p(seeds) != 0)) {
		fz_exec_free(x);
		return err1("%s: cannot create: %s", mkdir_p(out) != 0 ? out : seeds,
			    strerror(errno));
	}

	uint64_t total = 0, runs = 0;
	double t0 = now(), secs;
	int rc = 0;

	for (uint32_t m = 0; m < nmm && rc == 0; m++) {
		prog.mm = mms[m];
		fz_explore(x, &prog, &o, &eo, &res);
		total += res.schedules;
		runs += res.schedules + res.duplicates;
		if (res.over_budget) {
			fprintf(stderr,
				"spterace: explore: the search under %s reached the budget %" PRIu64
				" schedules before its end (estimated %.0f); raise --budget\n",
				mm_upper(prog.mm), budget, est[m]);
			rc = 2;
			break;
		}
		if (res.divergence) {
			char path[4300];
			struct fz_program cp;

			printf("explore: divergence at schedule %" PRIu64 " (%u preemptions; %" PRIu64
			       " distinct interleavings, %u preemption points) with at most %u "
			       "preemptions under %s\n",
			       res.schedules, res.divergence_depth, res.distinct, res.points,
			       (unsigned)k, mm_upper(prog.mm));
			fz_decode(prog.target, res.input, res.input_len, &cp);
			if (write_hashed(out, "crash-", res.input, res.input_len, path,
					 sizeof(path)) < 0 ||
			    write_sidecar(path, &cp, prog.mm, o.mutant, o.strict, o.force.knobs, res.input_len,
					  (unsigned)k) != 0) {
				fz_exec_free(x);
				return err1("%s: cannot write the crash file: %s", out,
					    strerror(errno));
			}
			printf("crash: %s\n", path);
			fflush(stdout);
			secs = now() - t0;
			report(path);
			fflush(stdout);
			printf("time: %.2f s, %.0f schedules/s\n", secs,
			       secs > 0 ? (double)total / secs : 0.0);
			rc = 1;
			break;
		}
		printf("explore: %" PRIu64 " schedules (%" PRIu64 " distinct interleavings, %u "
		       "preemption points) with at most %u preemptions under %s: no divergence\n",
		       res.schedules, res.distinct, res.points, (unsigned)k, mm_upper(prog.mm));
		printf("  estimate: %.0f schedules (base run: %" PRIu64 " steps, %u agents)\n",
		       est[m], res.base_steps, res.agents);
		if (res.known) {
			const char *where = "";

			fz_known_finding(prog.target, res.known_class, &where);
			printf("  known findings: %" PRIu64 " schedules diverge as recorded "
			       "(first: %s, %s)\n", res.known, res.known_class, where);
		}
		if (res.deadlocks || res.step_limits)
			printf("  runs that did not finish: %" PRIu64 " deadlocks, %" PRIu64
			       " step limits\n", res.deadlocks, res.step_limits);
		if (res.long_runs)
			printf("  runs longer than %d steps: %" PRIu64 " (no preemption after that "
			       "step)\n", SIM_TRACE_MAX, res.long_runs);
	}
	if (rc == 0) {
		secs = now() - t0;
		printf("time: %.2f s, %.0f schedules/s (%" PRIu64 " runs; %" PRIu64
		       " preemptions to an agent that could not run, not counted)\n",
		       secs, secs > 0 ? (double)total / secs : 0.0, runs, runs - total);
	}
	if (seeds)
		printf("seeds: %" PRIu64 " new in %s\n", sctx.written, seeds);
	fz_exec_free(x);
	return rc;
}
