/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Goal: the structure-aware mutator (fuzz/mutator.c) and the steered
 * preemption it rests on (struct sim_steer) do what they claim.
 *   - Every mutation fits the room libFuzzer gives and decodes to a
 *     program whose canonical bytes it is.
 *   - A crossover of two programs fits, is canonical and takes each of
 *     its operations from one of them; over many seeds it both inserts
 *     the other's operations and takes the other's configuration.
 *   - A steered run's choices, used as a schedule, replay that run.
 *   - One steered preemption at a relevant step turns a serial run into
 *     the torn read of set-spte-low-first, and none diverges on the
 *     faithful model.
 *   - A steer with a second hold turns a serial run into no-clear-count's
 *     torn read (the reader's loads around both halves of a rewrite),
 *     which no single hold does; none diverges on the faithful model.
 */
#include <string.h>

#include "fuzz/harness.h"
#include "testing/check.h"

static uint64_t test_rng = 88172645463325252ull;

static uint32_t test_below(uint32_t n)
{
	test_rng ^= test_rng << 13;
	test_rng ^= test_rng >> 7;
	test_rng ^= test_rng << 17;
	return (uint32_t)(test_rng % n);
}

static void parse_or_fail(const char *text, struct fz_program *p)
{
	char err[256];

	if (!fz_program_parse(text, p, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		CHECK(!"the test program parses");
	}
}

static void every_mutation_fits_and_is_a_canonical_program(void)
{
	static uint8_t buf[FZ_INPUT_MAX], again[FZ_INPUT_MAX];
	static struct fz_program p;
	struct fz_options o = { .mutator = true };
	unsigned canonical = 0, total = 0;

	for (enum fz_target t = 0; t < FZ_TARGET_COUNT; t++) {
		for (unsigned i = 0; i < (t == FZ_TARGET_MMU ? 150u : 600u); i++) {
			size_t size = test_below(300), max = size + test_below(200), n;

			for (size_t k = 0; k < size; k++)
				buf[k] = (uint8_t)test_below(256);
			/* Small programs on purpose: a byte-stream schedule, a few operations. */
			if (size > 3 && test_below(2))
				buf[0] = (uint8_t)(2 + test_below(2)), buf[2] = (uint8_t)(test_below(8));
			n = fz_mutate(t, &o, buf, size, max, test_below(1u << 30));
			CHECK(n <= (max > size ? max : size));
			total++;
			if (n > max)
				continue;
			fz_decode(t, buf, n, &p);
			if (fz_encode(&p, again, sizeof(again)) == n && memcmp(again, buf, n) == 0)
				canonical++;
		}
	}
	/*
	 * Without libFuzzer (this test) a mutation the input has no room for
	 * leaves it as it was; every other output is canonical.
	 */
	CHECK(canonical * 10 >= total * 9);
}

static bool op_in(const struct fz_op *op, const struct fz_program *p, uint32_t cpus)
{
	for (uint32_t i = 0; i < p->ops_count; i++)
		if (p->ops[i].kind == op->kind && p->ops[i].slot == op->slot &&
		    p->ops[i].a == op->a && p->ops[i].b == op->b && p->ops[i].cpu % cpus == op->cpu)
			return true;
	return false;
}

static void crossover_is_canonical_and_mixes_operations_and_configuration(void)
{
	static const char *const shadow =
		"format 2\ntarget mmu\nhost 32\nmemory sc\nschedule bytes\ncpus 2\npaging 32 wp\n"
		"op cpu0 access slot0 a=0x00 b=0x01\nop cpu1 gpte-write slot0 a=0x01 b=0x1b\n"
		"op cpu0 access slot0 a=0x01 b=0x01\nsched 00 01 00 01\n";
	static const char *const dirty =
		"format 2\ntarget mmu\nhost 64\nmemory tso\nschedule bytes\ncpus 3\npaging off wp\n"
		"op cpu0 dirty-log slot0 a=0x00 b=0x00\nop cpu2 access slot0 a=0x02 b=0x01\n"
		"op cpu1 dirty-log slot0 a=0x00 b=0x01\n";
	static struct fz_program a, b, c;
	static uint8_t ab[FZ_INPUT_MAX], bb[FZ_INPUT_MAX], out[FZ_INPUT_MAX], again[FZ_INPUT_MAX];
	struct fz_options o = { .mutator = true }, off = { .mutator = false };
	size_t an, bn, n;
	unsigned declined = 0, inserted = 0, configured = 0;

	parse_or_fail(shadow, &a);
	parse_or_fail(dirty, &b);
	an = fz_encode(&a, ab, sizeof(ab));
	bn = fz_encode(&b, bb, sizeof(bb));
	CHECK(fz_crossover(FZ_TARGET_MMU, &off, ab, an, bb, bn, out, sizeof(out), 1) == 0);
	for (unsigned seed = 1; seed <= 400; seed++) {
		size_t max = seed % 5 == 0 ? an + 6 : sizeof(out);
		bool from_b = false;

		n = fz_crossover(FZ_TARGET_MMU, &o, ab, an, bb, bn, out, max, seed);
		if (n == 0) {
			declined++;
			continue;
		}
		CHECK(n <= max);
		fz_decode(FZ_TARGET_MMU, out, n, &c);
		CHECK(fz_encode(&c, again, sizeof(again)) == n && memcmp(again, out, n) == 0);
		for (uint32_t i = 0; i < c.ops_count; i++) {
			CHECK(op_in(&c.ops[i], &a, c.cpus) || op_in(&c.ops[i], &b, c.cpus));
			from_b |= !op_in(&c.ops[i], &a, c.cpus);
		}
		inserted += from_b && c.config_high == a.config_high;
		configured += !from_b && c.config_high == b.config_high && c.cpus == 3 &&
			      c.width == b.width;
	}
	CHECK(declined > 100 && declined < 300);
	CHECK(inserted > 20);
	CHECK(configured > 20);
}

static const char *const writer_reader =
	"format 2\ntarget spte\nhost 32\nmemory tso\nschedule bytes\ncpus 2\n"
	"op cpu0 set slot0 a=0x04 b=0x01\n"
	"op cpu1 read slot0 a=0x00 b=0x00\n"
	"op cpu0 remap slot0 a=0x08 b=0x01\n"
	"op cpu1 read slot0 a=0x00 b=0x00\n";

static void a_steered_runs_choices_replay_it(void)
{
	static struct fz_program p, q;
	struct fz_exec *x = fz_exec_new();
	struct fz_result plain, steered, replay;
	struct fz_options o = { 0 };
	unsigned differs = 0;

	parse_or_fail(writer_reader, &p);
	fz_exec_run(x, &p, &o, &plain);
	uint32_t relevant = (uint32_t)sim_relevant_steps(fz_exec_sim(x));

	uint32_t points[SIM_STEER_POINTS];

	for (int k = 0; k < SIM_STEER_POINTS; k++)
		points[k] = (uint32_t)sim_steer_points(fz_exec_sim(x), (enum sim_steer_points)k);
	CHECK(relevant > 4);
	CHECK_EQ_U64(points[SIM_STEER_RELEVANT], relevant);
	/* Each kind is a part of the one before. */
	CHECK(points[SIM_STEER_SPLIT] > 0 && points[SIM_STEER_SPLIT] < points[SIM_STEER_CONTENDED] &&
	      points[SIM_STEER_CONTENDED] < relevant);
	for (uint32_t at = 0; at < relevant; at++) {
		/* Every kind of point in turn (at modulo their count), both holds. */
		enum sim_steer_points kind = (enum sim_steer_points)(at % SIM_STEER_POINTS);
		struct sim_steer st = { .at = at % points[kind], .rank = at % 3,
					.hold = 1u << (at % 5), .delay = at & 1,
					.hold_kind = (enum sim_hold)(at / 3 % 3),
					.points = kind,
					.again = at % 4 == 1 ? 1 + at % 3 : 0,
					.hold2 = 1 + at % 5 };
		struct fz_options so = { .steer = &st };
		const uint8_t *trace;
		size_t len;

		fz_exec_run(x, &p, &so, &steered);
		trace = sim_sched_trace(fz_exec_sim(x), &len);
		q = p;
		CHECK(len <= sizeof(q.sched));
		memcpy(q.sched, trace, len);
		q.sched_len = len;
		q.seed = fz_program_seed(&q);
		fz_exec_run(x, &q, &o, &replay);
		CHECK_EQ_U64(replay.hash, steered.hash);
		if (steered.hash != plain.hash)
			differs++;
	}
	/* Most relevant steps have another agent to give the step to. */
	CHECK(differs * 2 >= relevant);
	fz_exec_free(x);
}

/* Every single steered preemption of a program; returns how many diverged. */
static unsigned steer_all(struct fz_exec *x, const struct fz_program *p, enum mmu_mutant m,
			  unsigned *runs)
{
	static const uint32_t holds[] = { 1, 2, 4, 8, 16, 4096 };
	struct fz_options o = { .mutant = m };
	struct fz_result res;
	unsigned found = 0;

	fz_exec_run(x, p, &o, &res);
	uint32_t relevant = (uint32_t)sim_relevant_steps(fz_exec_sim(x));

	for (uint32_t at = 0; at < relevant; at++)
		for (uint32_t rank = 0; rank < 3; rank++)
			for (unsigned h = 0; h < sizeof(holds) / sizeof(holds[0]); h++)
				for (int kind = 0; kind < 6; kind++) {
					struct sim_steer st = { .at = at, .rank = rank,
								.hold = holds[h],
								.delay = kind & 1,
								.hold_kind = (enum sim_hold)(kind / 2) };

					o.steer = &st;
					fz_exec_run(x, p, &o, &res);
					found += res.divergence;
					++*runs;
				}
	return found;
}

/* Every steered preemption with a second hold (small holds); how many diverged. */
static unsigned steer_all_twice(struct fz_exec *x, const struct fz_program *p, enum mmu_mutant m,
				unsigned *runs)
{
	struct fz_options o = { .mutant = m };
	struct fz_result res;
	unsigned found = 0;

	fz_exec_run(x, p, &o, &res);
	uint32_t relevant = (uint32_t)sim_relevant_steps(fz_exec_sim(x));

	for (uint32_t at = 0; at < relevant; at++)
		for (int kind = 0; kind < 3; kind++)
			for (uint32_t hold = 1; hold <= 6; hold++)
				for (uint32_t hold2 = 1; hold2 <= 3; hold2++)
					for (uint32_t again = 1; again <= 4; again++) {
						struct sim_steer st = {
							.at = at, .hold = hold,
							.hold_kind = (enum sim_hold)kind,
							.again = again, .hold2 = hold2 };

						o.steer = &st;
						fz_exec_run(x, p, &o, &res);
						found += res.divergence;
						++*runs;
					}
	return found;
}

static void one_steered_preemption_finds_set_spte_low_first_and_nothing_on_faithful(void)
{
	static struct fz_program p;
	struct fz_exec *x = fz_exec_new();
	struct fz_options o = { .mutant = MMU_MUTANT_SET_SPTE_LOW_FIRST };
	struct fz_result res;
	unsigned runs = 0;

	/* All-zero bytes: each step goes to the first enabled agent, a serial run. */
	parse_or_fail("format 2\ntarget spte\nhost 32\nmemory sc\nschedule bytes\ncpus 2\n"
		      "op cpu0 set slot0 a=0x04 b=0x01\n"
		      "op cpu1 read slot0 a=0x00 b=0x00\n"
		      "sched 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
		      "sched 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
		      "sched 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n",
		      &p);
	fz_exec_run(x, &p, &o, &res);
	CHECK(!res.divergence);
	CHECK(steer_all(x, &p, MMU_MUTANT_SET_SPTE_LOW_FIRST, &runs) > 0);
	CHECK_EQ_U64(steer_all(x, &p, MMU_MUTANT_NONE, &runs), 0);
	CHECK(runs > 0);
	fz_exec_free(x);
}

/*
 * no-clear-count needs the reader's first load before kvm_set_pte_rmapp's
 * clear, its second between the clear and the set, and its re-check after
 * the set (the set restores the low half, and the count that should have
 * changed does not).  From a serial run (the reader between the two
 * remaps) one hold cannot place both; two holds can.
 */
static void two_holds_find_no_clear_count_where_one_hold_does_not(void)
{
	static struct fz_program p;
	struct fz_exec *x = fz_exec_new();
	struct fz_options o = { .mutant = MMU_MUTANT_NO_CLEAR_COUNT };
	struct fz_result res;
	unsigned runs = 0;

	/* The remaps keep the low 20 bits of the pfn: the low half is rewritten as it was. */
	parse_or_fail("format 2\ntarget spte\nhost 32\nmemory sc\nschedule bytes\ncpus 2\n"
		      "op cpu0 set slot0 a=0x00 b=0x00\n"
		      "op cpu0 remap slot0 a=0x5b b=0x7c\n"
		      "op cpu1 read slot0 a=0x00 b=0x00\n"
		      "op cpu0 remap slot0 a=0x0f b=0x00\n",
		      &p);
	/* All-zero bytes: each step to the first enabled agent, cpu0's operations first. */
	memset(p.sched, 0, 400);
	p.sched_len = 400;
	p.seed = fz_program_seed(&p);
	fz_exec_run(x, &p, &o, &res);
	CHECK(!res.divergence);
	CHECK_EQ_U64(steer_all(x, &p, MMU_MUTANT_NO_CLEAR_COUNT, &runs), 0);
	CHECK(steer_all_twice(x, &p, MMU_MUTANT_NO_CLEAR_COUNT, &runs) > 0);
	CHECK_EQ_U64(steer_all_twice(x, &p, MMU_MUTANT_NONE, &runs), 0);
	CHECK(runs > 1000);
	fz_exec_free(x);
}

TEST_MAIN(TEST(every_mutation_fits_and_is_a_canonical_program),
	  TEST(crossover_is_canonical_and_mixes_operations_and_configuration),
	  TEST(a_steered_runs_choices_replay_it),
	  TEST(one_steered_preemption_finds_set_spte_low_first_and_nothing_on_faithful),
	  TEST(two_holds_find_no_clear_count_where_one_hold_does_not))
