/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Goal: the decoder is total and bounded, the encoder is its inverse on
 * canonical programs, and the executor is a pure function of its input.
 * Method: decode pseudo-random byte strings of every length up to the
 * format's maximum and check the program's bounds; re-encode and decode.
 */
#include "fuzz/program.h"

#include <string.h>

#include "testing/check.h"

static uint8_t buf[FZ_INPUT_MAX + 64], out[FZ_INPUT_MAX];
static struct fz_program a, b;

static void fill(uint32_t seed, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
}

static void every_byte_string_decodes_to_a_bounded_program(void)
{
	for (size_t len = 0; len < sizeof(buf); len += 7) {
		fill((uint32_t)len, len);
		fz_decode(FZ_TARGET_SPTE, buf, len, &a);
		CHECK(a.cpus >= 2 && a.cpus <= 4);
		CHECK(a.ops_count <= FZ_OPS_MAX);
		CHECK(a.sched_len <= FZ_SCHED_MAX);
		for (uint32_t i = 0; i < a.ops_count; i++) {
			CHECK(a.ops[i].kind < FZ_OP_COUNT);
			CHECK(a.ops[i].cpu < a.cpus);
			CHECK(a.ops[i].slot < FZ_SLOTS);
		}
	}
}

static void empty_input_is_the_default_program(void)
{
	fz_decode(FZ_TARGET_SPTE, NULL, 0, &a);
	CHECK(a.width == MMU_HOST_32);
	CHECK(a.mm == SIM_MM_TSO);
	CHECK(a.sched_kind == SIM_SCHED_PREEMPT);
	CHECK_EQ_U64(a.cpus, 2);
	CHECK_EQ_U64(a.ops_count, 0);
}

static void encode_then_decode_round_trips(void)
{
	for (uint32_t seed = 1; seed < 200; seed++) {
		size_t len = 3 + seed % 150, n;

		fill(seed, len);
		fz_decode(FZ_TARGET_SPTE, buf, len, &a);
		n = fz_encode(&a, out, sizeof(out));
		fz_decode(FZ_TARGET_SPTE, out, n, &b);
		b.version = a.version;
		CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	}
}

static void format3_extension_byte_selects_relaxed_memory_pct_and_knobs(void)
{
	static const uint8_t in[] = { 3, 0x02, 1, 0xff, 7, 0x10, 1, 2, 0xaa, 0xbb };
	size_t n;

	fz_decode(FZ_TARGET_SPTE, in, sizeof(in), &a);
	CHECK_EQ_U64(a.version, FZ_FORMAT_EXT);
	CHECK(a.mm == SIM_MM_RELAXED);          /* overrides config bit 1 (SC) */
	CHECK(a.sched_kind == SIM_SCHED_PCT);
	CHECK_EQ_U64(a.knobs, FZ_KNOBS_ALL);
	CHECK_EQ_U64(a.ops_count, 1);
	CHECK_EQ_U64(a.ops[0].kind, 7);
	CHECK_EQ_U64(a.sched_len, 2);
	n = fz_encode(&a, out, sizeof(out));
	CHECK_EQ_U64(n, sizeof(in));
	CHECK_EQ_U64(out[0], 3);
	CHECK_EQ_U64(out[3], 0x3f);              /* bits 6-7 are not kept */
	fz_decode(FZ_TARGET_SPTE, out, n, &b);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
}

static void programs_without_extension_keep_format2_bytes_and_seed(void)
{
	static const uint8_t in[] = { 2, 0x06, 1, 7, 0x10, 1, 2, 0xaa };
	static const uint8_t ext0[] = { 3, 0x06, 1, 0, 7, 0x10, 1, 2, 0xaa };
	size_t n;

	fz_decode(FZ_TARGET_SPTE, in, sizeof(in), &a);
	n = fz_encode(&a, out, sizeof(out));
	CHECK_EQ_U64(n, sizeof(in));
	CHECK(memcmp(out, in, n) == 0);
	/* Format 3 with an empty extension is the same program, written as format 2. */
	fz_decode(FZ_TARGET_SPTE, ext0, sizeof(ext0), &b);
	CHECK_EQ_U64(b.seed, a.seed);
	CHECK_EQ_U64(fz_encode(&b, out, sizeof(out)), sizeof(in));
	CHECK(memcmp(out, in, sizeof(in)) == 0);
}

static void overrides_rewrite_the_program_and_its_seed(void)
{
	struct fz_options o = { 0 };
	uint64_t seed;

	fz_decode(FZ_TARGET_SPTE, (const uint8_t[]){ 2, 0x04, 0, 9, 9 }, 5, &a);
	seed = a.seed;
	fz_program_apply(&a, &o);                /* no override: nothing changes */
	CHECK_EQ_U64(a.seed, seed);
	CHECK_EQ_U64(a.version, FZ_FORMAT_VERSION);
	o.force.mm = SIM_MM_RELAXED + 1;
	o.force.sched = SIM_SCHED_PCT + 1;
	o.force.knobs = FZ_KNOB_NARROW_COUNT;
	fz_program_apply(&a, &o);
	CHECK(a.mm == SIM_MM_RELAXED && a.sched_kind == SIM_SCHED_PCT);
	CHECK_EQ_U64(a.knobs, FZ_KNOB_NARROW_COUNT);
	CHECK_EQ_U64(a.version, FZ_FORMAT_EXT);
	CHECK(a.seed != seed);
}

static void knob_and_schedule_names_round_trip(void)
{
	char names[64];
	uint8_t k;
	enum sim_sched_kind sk;
	enum sim_mm mm;

	CHECK(fz_knobs_by_names("lazy-drains", &k) && k == FZ_KNOB_LAZY_DRAINS);
	CHECK(fz_knobs_by_names("narrow-count,volatile", &k));
	CHECK_EQ_U64(k, FZ_KNOB_NARROW_COUNT | FZ_KNOB_VOLATILE);
	fz_knobs_names(k, names, sizeof(names));
	CHECK(strcmp(names, "narrow-count,volatile") == 0);
	CHECK(fz_knobs_by_names("none", &k) && k == 0);
	CHECK(!fz_knobs_by_names("narrow", &k));
	CHECK(!fz_knobs_by_names("", &k));
	CHECK(fz_sched_by_name("pct", &sk) && sk == SIM_SCHED_PCT);
	CHECK(!fz_sched_by_name("random", &sk));
	CHECK(fz_mm_by_name("relaxed", &mm) && mm == SIM_MM_RELAXED);
	CHECK(!fz_mm_by_name("arm", &mm));
}

static void afl_warmup_input_runs_without_divergence(void)
{
	/* AFL++'s driver first calls the harness with 4 dummy bytes. */
	static const uint8_t warmup[4] = { 0x41, 0x41, 0x41, 0x41 };
	struct fz_exec *x = fz_exec_new();
	struct fz_options o = { 0 };
	struct fz_result r;

	fz_decode(FZ_TARGET_SPTE, warmup, sizeof(warmup), &a);
	fz_exec_run(x, &a, &o, &r);
	CHECK(!r.divergence);
	CHECK(r.sim_result == SIM_DONE);
	fz_exec_free(x);
}

static void same_input_gives_same_hash_and_verdict(void)
{
	struct fz_exec *x = fz_exec_new();
	struct fz_options o = { 0 };
	struct fz_result r1, r2;

	for (uint32_t seed = 1; seed < 300; seed++) {
		fill(seed, 120);
		buf[2] = 12;
		fz_decode(FZ_TARGET_SPTE, buf, 120, &a);
		fz_exec_run(x, &a, &o, &r1);
		fz_exec_run(x, &a, &o, &r2);
		CHECK_EQ_U64(r1.hash, r2.hash);
		CHECK_EQ_U64(r1.steps, r2.steps);
		CHECK(r1.divergence == r2.divergence);
	}
	fz_exec_free(x);
}


static void text_form_round_trips(void)
{
	static char text[1 << 16];

	for (uint32_t seed = 1; seed < 200; seed++) {
		size_t len = 3 + seed % 300;
		char err[200];
		FILE *f;

		fill(seed, len);
		fz_decode(FZ_TARGET_SPTE, buf, len, &a);
		f = fmemopen(text, sizeof(text), "w");
		fz_program_print(f, &a);
		fclose(f);
		CHECK(fz_program_parse(text, &b, err, sizeof(err)));
		CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	}
}

static void text_form_errors_name_the_line(void)
{
	char err[200];

	CHECK(!fz_program_parse("target spte\nop cpu0 jump slot0 a=0x00 b=0x00\n", &a, err,
				sizeof(err)));
	CHECK(strcmp(err, "line 2: unknown operation") == 0);
	CHECK(!fz_program_parse("cpus 2\n", &a, err, sizeof(err)));
	CHECK(strstr(err, "missing 'target'") != NULL);
	CHECK(!fz_program_parse("target spte\ncpus 2\nop cpu3 read slot0 a=0x00 b=0x00\n", &a,
				err, sizeof(err)));
	CHECK(!fz_program_parse("target spte\nsched 1g\n", &a, err, sizeof(err)));
	CHECK(!fz_program_parse("target spte\nhost 16\n", &a, err, sizeof(err)));
	CHECK(fz_program_parse("# a comment\ntarget spte   # trailing\n\n", &a, err, sizeof(err)));
}

TEST_MAIN(TEST(every_byte_string_decodes_to_a_bounded_program),
	  TEST(empty_input_is_the_default_program),
	  TEST(encode_then_decode_round_trips),
	  TEST(format3_extension_byte_selects_relaxed_memory_pct_and_knobs),
	  TEST(programs_without_extension_keep_format2_bytes_and_seed),
	  TEST(overrides_rewrite_the_program_and_its_seed),
	  TEST(knob_and_schedule_names_round_trip),
	  TEST(afl_warmup_input_runs_without_divergence),
	  TEST(same_input_gives_same_hash_and_verdict),
	  TEST(text_form_round_trips),
	  TEST(text_form_errors_name_the_line))
