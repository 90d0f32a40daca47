/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Goal: minimization keeps the divergence and never grows the input.
 * Method: minimize every regression witness given on the command line with
 * the mutant its sidecar names (findings: the faithful model), then replay
 * the result and compare sizes.  Minimizing a passing input must refuse.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz/program.h"
#include "testing/check.h"

/* The mutant and the overrides (knobs, memory model) a witness was found with. */
static enum mmu_mutant sidecar_options(const char *path, struct fz_options *o)
{
	struct fz_sidecar sc;
	char err[600];

	if (fz_sidecar_read(path, &sc, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return MMU_MUTANT_COUNT;
	}
	o->force = sc.force;
	return sc.mutant;
}

static void minimized_witness_keeps_divergence_and_never_grows(void)
{
	static uint8_t in[FZ_INPUT_MAX], out[FZ_INPUT_MAX];
	static struct fz_program p;
	struct fz_exec *x = fz_exec_new();
	int witnesses = 0;

	for (int i = 1; i < check_argc; i++) {
		const char *path = check_argv[i];
		struct fz_options o = { 0 };
		struct fz_min_stats st;
		struct fz_result r;
		size_t size, out_size;
		FILE *f;

		if (strstr(path, ".txt"))
			continue;
		f = fopen(path, "rb");
		CHECK(f != NULL);
		if (!f)
			continue;
		size = fread(in, 1, sizeof(in), f);
		fclose(f);
		o.mutant = sidecar_options(path, &o);
		CHECK(o.mutant != MMU_MUTANT_COUNT);
		CHECK(fz_minimize(x, FZ_TARGET_SPTE, &o, in, size, out, &out_size, &st));
		CHECK(out_size <= size);
		CHECK(st.ops_after <= st.ops_before);
		fz_decode(FZ_TARGET_SPTE, out, out_size, &p);
		fz_exec_run(x, &p, &o, &r);
		CHECK(r.divergence);
		printf("  %s: %zu -> %zu bytes, %u -> %u ops, %u runs\n", path, size, out_size,
		       st.ops_before, st.ops_after, st.runs);
		witnesses++;
	}
	CHECK(witnesses > 0);
	fz_exec_free(x);
}

static void minimize_refuses_a_passing_input(void)
{
	static uint8_t out[FZ_INPUT_MAX];
	struct fz_exec *x = fz_exec_new();
	struct fz_options o = { 0 };
	struct fz_min_stats st;
	size_t out_size;

	CHECK(!fz_minimize(x, FZ_TARGET_SPTE, &o, (const uint8_t *)"", 0, out, &out_size, &st));
	fz_exec_free(x);
}

TEST_MAIN(TEST(minimized_witness_keeps_divergence_and_never_grows),
	  TEST(minimize_refuses_a_passing_input))
