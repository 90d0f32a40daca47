/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Goal: the mutator's near-miss rings (fuzz/mutator.c) keep the runs they
 * claim to and nothing else, and the model counts the guards it claims.
 *   - A noted run that was a near miss becomes the starting point of about
 *     a sixth of the mutations (a quarter of the structure-aware two
 *     thirds); a run without a near miss, a diverging run, or any run with
 *     --near-misses=off never does.
 *   - A rare guard's near miss keeps its share however many near misses of
 *     a frequent guard come after it: half the pool's picks when two rings
 *     hold entries.
 *   - On the faithful model, each guard counts where it fires: the
 *     regression witnesses of no-clear-count (a retried lockless read),
 *     volatile-ignores-lockless-w (a fast page fault's cmpxchg64 inside a
 *     locked update's window), lockless-begin-no-mb (a zap's request
 *     finding a lockless walker a few steps after its mode store) and
 *     fast-pf-indirect (a gpte changed under FNAME(fetch), and a write
 *     fault on a dirty-logging write-protected spte that maps another gfn
 *     than the guest walk found) are near misses of those guards on the
 *     faithful model, and a serial run is none.
 *
 * Usage: near_miss_test FILE...  (the mmu regression corpus)
 */
#include <stdio.h>
#include <string.h>

#include "fuzz/harness.h"
#include "testing/check.h"

/*
 * libFuzzer's own mutation, which the mutator calls for a third of its
 * mutations and which marks a process where the harness feeds the mutator:
 * here the input as it was.
 */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size)
{
	(void)data;
	(void)max_size;
	return size;
}

static const char near_text[] =
	"format 2\ntarget mmu\nhost 32\nmemory tso\nschedule bytes\ncpus 2\npaging off wp\n"
	"op cpu0 change-pte slot0 a=0x00 b=0x01\nop cpu0 change-pte slot0 a=0x00 b=0x02\n"
	"op cpu1 change-pte slot0 a=0x00 b=0x01\nop cpu1 change-pte slot0 a=0x00 b=0x02\n";
static const char other_text[] =
	"format 2\ntarget mmu\nhost 32\nmemory tso\nschedule bytes\ncpus 2\npaging off wp\n"
	"op cpu0 access slot0 a=0x00 b=0x01\nop cpu1 access slot0 a=0x00 b=0x01\n"
	"op cpu0 access slot0 a=0x00 b=0x01\nop cpu1 access slot0 a=0x00 b=0x01\n";

static size_t encode_text(const char *text, uint8_t *buf, size_t room, struct fz_program *p)
{
	char err[256];

	if (!fz_program_parse(text, p, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		CHECK(!"the test program parses");
		return 0;
	}
	return fz_encode(p, buf, room);
}

/*
 * Note the near program's run with res, then mutate the other program
 * `rounds` times: how many outputs start from the near program (most of
 * their operations are its change-pte).
 */
static unsigned from_noted(const struct fz_options *o, const struct fz_result *res,
			   unsigned rounds)
{
	static uint8_t near[FZ_INPUT_MAX], other[FZ_INPUT_MAX], buf[FZ_INPUT_MAX];
	static struct fz_program p, q;
	struct fz_exec *x = fz_exec_new();
	struct fz_result ran;
	size_t nn = encode_text(near_text, near, sizeof(near), &p);
	size_t on = encode_text(other_text, other, sizeof(other), &q);
	uint32_t change_pte = p.ops[0].kind;
	unsigned from = 0;

	CHECK(x != NULL && nn > 0 && on > 0 && change_pte != q.ops[0].kind);
	if (!x)
		return 0;
	fz_exec_run(x, &p, o, &ran);
	fz_mutator_note(o, near, nn, fz_exec_sim(x), res);
	for (unsigned i = 0; i < rounds; i++) {
		unsigned changes = 0;
		size_t n;

		memcpy(buf, other, on);
		n = fz_mutate(FZ_TARGET_MMU, o, buf, on, sizeof(buf), 1000 + i);
		fz_decode(FZ_TARGET_MMU, buf, n, &q);
		for (uint32_t k = 0; k < q.ops_count; k++)
			changes += q.ops[k].kind == change_pte;
		from += changes * 2 > q.ops_count;
	}
	fz_exec_free(x);
	return from;
}

static void only_near_misses_start_a_share_of_the_mutations(void)
{
	struct fz_options off = { .mutator = true }, on = { .mutator = true, .near_misses = true };
	struct fz_result near = { .guards[MMU_GUARD_RETRY] = 1 };
	struct fz_result none = { 0 };
	struct fz_result diverged = { .guards[MMU_GUARD_RETRY] = 1,
				      .divergence = true };
	unsigned n;

	/* Before anything is in the pool: these must not put anything there. */
	CHECK_EQ_U64(from_noted(&off, &near, 600), 0);
	CHECK_EQ_U64(from_noted(&on, &none, 600), 0);
	CHECK_EQ_U64(from_noted(&on, &diverged, 600), 0);
	n = from_noted(&on, &near, 600);
	fprintf(stderr, "%u of 600 mutations started from the near miss\n", n);
	CHECK(n >= 50 && n <= 180);   /* expected 100 */
	/* In the pool now, but off is off. */
	CHECK_EQ_U64(from_noted(&off, &none, 600), 0);
}

/*
 * The near program's retry is noted first, then 3 * NEAR_MAX-many distinct
 * programs whose gpte changed (the other program with one byte varied):
 * with one pool for all, they would push the retry out.
 */
static void a_frequent_guard_does_not_crowd_out_a_rare_one(void)
{
	struct fz_options on = { .mutator = true, .near_misses = true };
	struct fz_result retry = { .guards[MMU_GUARD_RETRY] = 1 };
	struct fz_result gpte = { .guards[MMU_GUARD_GPTE_CHANGED] = 1 };
	static uint8_t near[FZ_INPUT_MAX], other[FZ_INPUT_MAX];
	static struct fz_program p, q;
	struct fz_exec *x = fz_exec_new();
	size_t nn = encode_text(near_text, near, sizeof(near), &p);
	size_t on_n = encode_text(other_text, other, sizeof(other), &q);
	unsigned n;

	CHECK(x != NULL && nn > 0 && on_n > 8);
	if (!x)
		return;
	fz_exec_run(x, &p, &on, &retry);
	fz_mutator_note(&on, near, nn, fz_exec_sim(x), &retry);
	for (unsigned i = 0; i < 96; i++) {
		other[on_n - 1] = (uint8_t)i;
		fz_mutator_note(&on, other, on_n, fz_exec_sim(x), &gpte);
	}
	fz_exec_free(x);
	/* Notes nothing more (no near miss); about 50 of 600 start from the retry. */
	n = from_noted(&on, &(struct fz_result){ 0 }, 600);
	fprintf(stderr, "%u of 600 mutations started from the retry among %u gpte near misses\n",
		n, 96u);
	CHECK(n >= 20 && n <= 90);
}

/* The faithful run of the regression witness named base (in check_argv). */
static bool run_witness(const char *base, struct fz_result *res)
{
	static uint8_t buf[FZ_INPUT_MAX];
	static struct fz_program p;
	struct fz_options o = { 0 };

	for (int i = 1; i < check_argc; i++) {
		const char *slash = strrchr(check_argv[i], '/');
		FILE *f;
		size_t n;

		if (strcmp(slash ? slash + 1 : check_argv[i], base) != 0)
			continue;
		f = fopen(check_argv[i], "rb");
		if (!f)
			break;
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		fz_decode(FZ_TARGET_MMU, buf, n, &p);
		struct fz_exec *x = fz_exec_new();

		fz_exec_run(x, &p, &o, res);
		fz_exec_free(x);
		return true;
	}
	fprintf(stderr, "%s: not among the arguments\n", base);
	CHECK(!"the witness is there");
	return false;
}

static void each_guard_counts_a_near_miss_on_the_faithful_model(void)
{
	static const struct {
		const char *witness;
		enum mmu_guard guard;
	} guarded[] = {
		{ "change-pte-aba-without-count", MMU_GUARD_RETRY },
		{ "dirty-bit-lost-under-a-fast-clear", MMU_GUARD_UPDATE_WINDOW },
		{ "walker-mode-store-buffered-page-freed", MMU_GUARD_WALKER_FOUND },
		{ "walker-mode-store-buffered-page-freed", MMU_GUARD_WALKER_CLOSE },
		{ "fast-pf-on-shadow-page-loses-dirty-page", MMU_GUARD_GPTE_CHANGED },
		{ "fast-pf-on-shadow-page-loses-dirty-page", MMU_GUARD_STALE_WP },
	};
	struct fz_result res;

	for (size_t i = 0; i < sizeof(guarded) / sizeof(guarded[0]); i++) {
		if (!run_witness(guarded[i].witness, &res))
			continue;
		fprintf(stderr, "%s: %llu retries, %llu %s\n",
			guarded[i].witness, (unsigned long long)res.retries,
			(unsigned long long)res.guards[guarded[i].guard],
			mmu_guard_name(guarded[i].guard));
		CHECK(!res.divergence);
		CHECK(res.guards[guarded[i].guard] > 0);
		/* A retry is counted in retries, and only a retry is. */
		CHECK_EQ_U64(res.guards[MMU_GUARD_RETRY], res.retries);
	}
	/* One CPU's operations at a time: no window, no guard. */
	{
		static struct fz_program p;
		static uint8_t buf[FZ_INPUT_MAX];
		struct fz_exec *x = fz_exec_new();
		struct fz_options o = { 0 };

		encode_text("format 2\ntarget mmu\nhost 32\nmemory tso\nschedule preempt\ncpus 2\n"
			    "paging off wp\nop cpu0 access slot0 a=0x00 b=0x01\n"
			    "op cpu0 change-pte slot0 a=0x00 b=0x02\n",
			    buf, sizeof(buf), &p);
		fz_exec_run(x, &p, &o, &res);
		CHECK(!res.divergence);
		for (uint32_t g = 0; g < MMU_GUARD_NR; g++)
			CHECK_EQ_U64(res.guards[g], 0);
		fz_exec_free(x);
	}
}

TEST_MAIN(TEST(only_near_misses_start_a_share_of_the_mutations),
	  TEST(a_frequent_guard_does_not_crowd_out_a_rare_one),
	  TEST(each_guard_counts_a_near_miss_on_the_faithful_model))
