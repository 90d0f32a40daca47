/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Goal: the simulated host is deterministic, its two schedule sources do
 * what the input says, blocking and deadlock are verdicts rather than hangs,
 * and the memory models allow exactly the litmus outcomes they should.
 *
 * Method: small CPU programs on a reused struct sim.  Litmus tests run every
 * schedule the byte-stream source can express with short inputs (each byte
 * ranges over every enabled agent), and collect the set of outcomes.
 */
#include "sim/sim.h"

#include <string.h>

#include "testing/check.h"

enum { X = 16, Y = 17, LOCK = 18, R0 = 19, R1 = 20 };

static struct sim *sim;

static void setup(uint32_t cpus, enum sim_mm mm, enum sim_sched_kind k,
		  const uint8_t *bytes, size_t len)
{
	struct sim_config c = { .cpus = cpus, .mm = mm, .sched = k, .sched_bytes = bytes,
				.sched_len = len, .seed = 1, .log = true };

	if (!sim)
		sim = sim_new();
	sim_reset(sim, &c);
}

/* Results of the litmus CPUs: loaded values, kept on the host side. */
static uint32_t results[4];

static void sb_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	sim_store32(s, cpu == 0 ? X : Y, 1);
	results[cpu] = sim_load32(s, cpu == 0 ? Y : X);
}

static void sb_fenced_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	sim_store32(s, cpu == 0 ? X : Y, 1);
	sim_smp_mb(s);
	results[cpu] = sim_load32(s, cpu == 0 ? Y : X);
}

static void mp_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	if (cpu == 0) {
		sim_store32(s, X, 1);   /* data */
		sim_smp_wmb(s);
		sim_store32(s, Y, 1);   /* flag */
	} else {
		results[0] = sim_load32(s, Y);
		sim_smp_rmb(s);
		results[1] = sim_load32(s, X);
	}
}

/*
 * Run fn on two CPUs under every byte string of length len over [0, 4),
 * and report whether outcome (r0, r1) was ever observed.
 */
static bool litmus_observes(sim_cpu_fn fn, enum sim_mm mm, uint32_t r0, uint32_t r1)
{
	enum { LEN = 8 };
	uint8_t bytes[LEN];
	bool seen = false;

	for (uint32_t code = 0; code < (1u << (2 * LEN)); code++) {
		for (int i = 0; i < LEN; i++)
			bytes[i] = (code >> (2 * i)) & 3;
		setup(2, mm, SIM_SCHED_BYTES, bytes, LEN);
		results[0] = results[1] = 99;
		sim_spawn(sim, 0, fn, NULL);
		sim_spawn(sim, 1, fn, NULL);
		if (sim_run(sim) != SIM_DONE)
			return false;
		if (results[0] == r0 && results[1] == r1)
			seen = true;
	}
	return seen;
}

static void store_buffering_observable_under_tso_not_sc(void)
{
	CHECK(litmus_observes(sb_cpu, SIM_MM_TSO, 0, 0));
	CHECK(!litmus_observes(sb_cpu, SIM_MM_SC, 0, 0));
	/* Every SC outcome stays reachable under TSO. */
	CHECK(litmus_observes(sb_cpu, SIM_MM_TSO, 1, 1));
	CHECK(litmus_observes(sb_cpu, SIM_MM_TSO, 0, 1));
	CHECK(litmus_observes(sb_cpu, SIM_MM_TSO, 1, 0));
}

static void store_buffering_forbidden_with_smp_mb(void)
{
	CHECK(!litmus_observes(sb_fenced_cpu, SIM_MM_TSO, 0, 0));
	CHECK(litmus_observes(sb_fenced_cpu, SIM_MM_TSO, 1, 1));
}

static void message_passing_stale_data_forbidden_under_sc_and_tso(void)
{
	/* flag seen set but data still old: forbidden under both models. */
	CHECK(!litmus_observes(mp_cpu, SIM_MM_SC, 1, 0));
	CHECK(!litmus_observes(mp_cpu, SIM_MM_TSO, 1, 0));
	CHECK(litmus_observes(mp_cpu, SIM_MM_TSO, 1, 1));
	CHECK(litmus_observes(mp_cpu, SIM_MM_TSO, 0, 0));
}

static void counter_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)cpu;
	(void)arg;
	for (int i = 0; i < 3; i++) {
		sim_spin_lock(s, LOCK);
		sim_store32(s, X, sim_load32(s, X) + 1);
		sim_spin_unlock(s, LOCK);
	}
}

static uint64_t run_counter(enum sim_mm mm, enum sim_sched_kind k, const uint8_t *b,
			    size_t len, enum sim_result *res)
{
	setup(3, mm, k, b, len);
	for (uint32_t i = 0; i < 3; i++)
		sim_spawn(sim, i, counter_cpu, NULL);
	*res = sim_run(sim);
	return sim_hash(sim);
}

static void replaying_same_input_gives_same_log_hash(void)
{
	static const uint8_t bytes[] = { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7 };
	enum sim_result r1, r2;

	for (int mm = 0; mm < SIM_MM_COUNT; mm++) {
		for (int k = 0; k < SIM_SCHED_COUNT; k++) {
			uint64_t h1 = run_counter(mm, k, bytes, sizeof(bytes), &r1);
			uint64_t h2 = run_counter(mm, k, bytes, sizeof(bytes), &r2);

			CHECK_EQ_U64(h1, h2);
			CHECK(r1 == SIM_DONE && r2 == SIM_DONE);
			CHECK_EQ_U64(sim_mem_peek32(sim, X), 9);
		}
	}
}

static uint32_t order[64], order_len;

static void tracer_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	for (int i = 0; i < 4; i++) {
		sim_load32(s, X);
		order[order_len++] = cpu;
	}
}

static uint64_t run_tracers(const uint8_t *b, size_t len)
{
	setup(2, SIM_MM_SC, SIM_SCHED_BYTES, b, len);
	order_len = 0;
	sim_spawn(sim, 0, tracer_cpu, NULL);
	sim_spawn(sim, 1, tracer_cpu, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	return sim_hash(sim);
}

static void different_schedules_give_different_hashes(void)
{
	static const uint8_t a[] = { 0, 1, 0, 1 }, b[] = { 1, 0, 0, 1 };

	CHECK(run_tracers(a, sizeof(a)) != run_tracers(b, sizeof(b)));
	CHECK_EQ_U64(run_tracers(a, sizeof(a)), run_tracers(a, sizeof(a)));
}

static void preemption_list_runs_cpu_until_preempted(void)
{
	/* After 2 steps switch to CPU 1; after 3 more steps back to CPU 0. */
	static const uint8_t list[] = { 2, 1, 3, 0 };
	static const uint32_t want[] = { 0, 0, 1, 1, 1, 0, 0, 1 };

	setup(2, SIM_MM_SC, SIM_SCHED_PREEMPT, list, sizeof(list));
	order_len = 0;
	sim_spawn(sim, 0, tracer_cpu, NULL);
	sim_spawn(sim, 1, tracer_cpu, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	CHECK_EQ_U64(order_len, 8);
	for (uint32_t i = 0; i < 8; i++)
		CHECK_EQ_U64(order[i], want[i]);
}

static void empty_preemption_list_runs_cpus_in_order(void)
{
	setup(2, SIM_MM_SC, SIM_SCHED_PREEMPT, NULL, 0);
	order_len = 0;
	sim_spawn(sim, 0, tracer_cpu, NULL);
	sim_spawn(sim, 1, tracer_cpu, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	for (uint32_t i = 0; i < 8; i++)
		CHECK_EQ_U64(order[i], i < 4 ? 0 : 1);
}

static void byte_stream_picks_each_step(void)
{
	/* Byte b picks enabled agent b % 2 while both CPUs are enabled. */
	static const uint8_t bytes[] = { 1, 0, 1, 1, 0, 0 };
	static const uint32_t want[] = { 1, 0, 1, 1, 0, 0 };

	setup(2, SIM_MM_SC, SIM_SCHED_BYTES, bytes, sizeof(bytes));
	order_len = 0;
	sim_spawn(sim, 0, tracer_cpu, NULL);
	sim_spawn(sim, 1, tracer_cpu, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	for (uint32_t i = 0; i < 6; i++)
		CHECK_EQ_U64(order[i], want[i]);
}

static void byte_stream_continues_with_seeded_prng(void)
{
	uint64_t h[3];

	for (int i = 0; i < 3; i++) {
		struct sim_config c = { .cpus = 2, .sched = SIM_SCHED_BYTES,
					.seed = i == 2 ? 7 : 5 };

		sim_reset(sim, &c);
		order_len = 0;
		sim_spawn(sim, 0, tracer_cpu, NULL);
		sim_spawn(sim, 1, tracer_cpu, NULL);
		CHECK(sim_run(sim) == SIM_DONE);
		h[i] = sim_hash(sim);
	}
	CHECK_EQ_U64(h[0], h[1]);
	CHECK(h[0] != h[2]);
}

static void spin_lock_gives_mutual_exclusion_under_every_schedule(void)
{
	uint8_t bytes[12];
	enum sim_result r;

	for (int mm = 0; mm < SIM_MM_COUNT; mm++) {
		for (uint32_t seed = 0; seed < 300; seed++) {
			for (size_t i = 0; i < sizeof(bytes); i++)
				bytes[i] = (uint8_t)((seed * 2654435761u) >> (i * 2));
			run_counter(mm, seed & 1 ? SIM_SCHED_BYTES : SIM_SCHED_PREEMPT, bytes,
				    sizeof(bytes), &r);
			CHECK(r == SIM_DONE);
			CHECK_EQ_U64(sim_mem_peek32(sim, X), 9);
		}
	}
}

static void self_deadlock_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)cpu;
	(void)arg;
	sim_spin_lock(s, LOCK);
	sim_spin_lock(s, LOCK);
}

static void double_lock_is_deadlock_verdict(void)
{
	setup(1, SIM_MM_TSO, SIM_SCHED_PREEMPT, NULL, 0);
	sim_spawn(sim, 0, self_deadlock_cpu, NULL);
	CHECK(sim_run(sim) == SIM_DEADLOCK);
	/* The sim is reusable after a deadlock. */
	run_counter(SIM_MM_TSO, SIM_SCHED_PREEMPT, NULL, 0, &(enum sim_result){ 0 });
	CHECK_EQ_U64(sim_mem_peek32(sim, X), 9);
}

static void retry_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	if (cpu == 0) {
		/* Spin until X becomes 1, blocking between tries. */
		for (;;) {
			uint64_t mark = sim_retry_mark(s);

			if (sim_load32(s, X) == 1)
				break;
			sim_retry_wait(s, mark);
		}
		results[0] = 1;
	} else {
		sim_load32(s, Y);
		sim_load32(s, Y);
		sim_store32(s, X, 1);
	}
}

static void retry_without_write_blocks_until_a_store(void)
{
	setup(2, SIM_MM_TSO, SIM_SCHED_PREEMPT, NULL, 0);
	results[0] = 0;
	sim_spawn(sim, 0, retry_cpu, NULL);
	sim_spawn(sim, 1, retry_cpu, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	CHECK_EQ_U64(results[0], 1);
	/* The reader tried once, blocked, and tried once more. */
	CHECK(sim_steps(sim) <= 6);
}

static void lonely_retry_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)cpu;
	(void)arg;
	for (;;) {
		uint64_t mark = sim_retry_mark(s);

		if (sim_load32(s, X) == 1)
			return;
		sim_retry_wait(s, mark);
	}
}

static void retry_with_no_writer_is_deadlock_not_hang(void)
{
	setup(1, SIM_MM_SC, SIM_SCHED_BYTES, NULL, 0);
	sim_spawn(sim, 0, lonely_retry_cpu, NULL);
	CHECK(sim_run(sim) == SIM_DEADLOCK);
}

static void spinner_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)cpu;
	(void)arg;
	for (;;)
		sim_load32(s, X);
}

static void endless_cpu_hits_step_limit(void)
{
	struct sim_config c = { .cpus = 2, .sched = SIM_SCHED_BYTES, .steps_max = 500 };

	sim_reset(sim, &c);
	sim_spawn(sim, 0, spinner_cpu, NULL);
	sim_spawn(sim, 1, tracer_cpu, NULL);
	CHECK(sim_run(sim) == SIM_STEP_LIMIT);
	CHECK_EQ_U64(sim_steps(sim), 500);
}

static uint64_t visible_step;

static void record_visible(void *ctx, uint64_t step)
{
	(void)ctx;
	visible_step = step;
}

static void visible_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	if (cpu == 0) {
		sim_store32(s, X, 1);
		sim_when_visible(s, record_visible, NULL);
		sim_load32(s, Y);
		sim_load32(s, Y);
	}
}

static void tso_store_visible_at_its_drain_step(void)
{
	/* Agents under TSO: cpu0, cpu1, drain0, drain1.  Byte picks among enabled. */
	setup(2, SIM_MM_TSO, SIM_SCHED_PREEMPT, (const uint8_t[]){ 2, 2 }, 2);
	visible_step = 0;
	sim_spawn(sim, 0, visible_cpu, NULL);
	sim_spawn(sim, 1, visible_cpu, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	/* store (1), load (2), then the drain agent runs: step 3. */
	CHECK_EQ_U64(visible_step, 3);
	CHECK_EQ_U64(sim_mem_peek32(sim, X), 1);
}

static void forward_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	if (cpu == 0) {
		sim_store32(s, X, 5);
		results[0] = sim_load32(s, X);
	} else {
		results[1] = sim_load32(s, X);
	}
}

static void load_forwards_from_own_store_buffer(void)
{
	/* cpu0 stores and loads (steps 1, 2), then cpu1 loads before the drain. */
	setup(2, SIM_MM_TSO, SIM_SCHED_PREEMPT, (const uint8_t[]){ 2, 1 }, 2);
	results[0] = results[1] = 99;
	sim_spawn(sim, 0, forward_cpu, NULL);
	sim_spawn(sim, 1, forward_cpu, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	CHECK_EQ_U64(results[0], 5);
	CHECK_EQ_U64(results[1], 0);
	CHECK_EQ_U64(sim_mem_peek32(sim, X), 5);
}

/*
 * cpu0 disables interrupts, publishes X = 1 (and that it started), waits a
 * while and clears X; cpu1 waits until cpu0 started, sends it an IPI and
 * records X right after the IPI returned: the sender can only return once
 * cpu0 enabled interrupts again, so X is 0.
 */
static void ipi_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	if (cpu == 0) {
		sim_irq_disable(s);
		sim_store32(s, X, 1);
		sim_store32(s, R0, 1);   /* started: never cleared */
		sim_smp_mb(s);
		for (int i = 0; i < 3; i++)
			sim_load32(s, Y);
		results[2] = sim_ipi_pending(s);
		sim_store32(s, X, 0);
		sim_smp_mb(s);
		sim_irq_enable(s);
	} else {
		while (sim_load32(s, R0) == 0)
			sim_retry_wait(s, sim_retry_mark(s));
		sim_ipi(s, 1u << 0);
		results[1] = sim_load32(s, X);
	}
}

static void ipi_waits_until_target_enables_interrupts(void)
{
	uint8_t bytes[64];
	unsigned waited = 0, waited_relaxed = 0;

	/*
	 * 200 byte-stream schedules per model: none returns early, some really
	 * wait.  Under RELAXED the sender's wait ends with an acquire, so it
	 * sees what the target stored before taking the interrupt.
	 */
	for (unsigned seed = 0; seed < 400; seed++) {
		for (unsigned i = 0; i < sizeof(bytes); i++)
			bytes[i] = (uint8_t)(seed * 31 + i * 7 + (seed >> 3) * i);
		setup(2, seed < 200 ? SIM_MM_TSO : SIM_MM_RELAXED, SIM_SCHED_BYTES, bytes,
		      sizeof(bytes));
		results[1] = 99;
		results[2] = 0;
		sim_spawn(sim, 0, ipi_cpu, NULL);
		sim_spawn(sim, 1, ipi_cpu, NULL);
		CHECK(sim_run(sim) == SIM_DONE);
		CHECK_EQ_U64(results[1], 0);
		waited += results[2];
		waited_relaxed += seed >= 200 && results[2];
	}
	CHECK(waited > waited_relaxed && waited_relaxed > 0);
}

static void ipi_to_cpu_with_interrupts_enabled_returns_at_once(void)
{
	setup(2, SIM_MM_SC, SIM_SCHED_PREEMPT, NULL, 0);
	results[1] = 99;
	/* cpu0 finishes first (preemption list empty: CPUs in order). */
	sim_spawn(sim, 0, ipi_cpu, NULL);
	sim_spawn(sim, 1, ipi_cpu, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	CHECK_EQ_U64(results[1], 0);
	CHECK_EQ_U64(results[2], 0);
}

static void bare_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	sim_spin_lock(s, LOCK);
	/* Each CPU sees everything the CPUs before it did, and nothing after. */
	results[cpu] = sim_load32(s, X);
	sim_store32(s, X, results[cpu] + 1);
	sim_ipi(s, 3u & ~(1u << cpu));   /* taken at once: nothing to wait for */
	sim_spin_unlock(s, LOCK);
}

static void bare_run_executes_cpus_one_after_the_other(void)
{
	struct sim_config c = { .cpus = 3, .mm = SIM_MM_TSO, .bare = true };

	if (!sim)
		sim = sim_new();
	sim_reset(sim, &c);
	for (uint32_t i = 0; i < 3; i++)
		sim_spawn(sim, i, bare_cpu, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	CHECK_EQ_U64(results[0], 0);
	CHECK_EQ_U64(results[1], 1);
	CHECK_EQ_U64(results[2], 2);
	CHECK_EQ_U64(sim_mem_peek32(sim, X), 3);
}

/* Interleaving feedback: a writer at site 1, a reader at site 2. */
static uint16_t tags[4];

static void feedback_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	if (cpu == 0) {
		sim_site(s, 1);
		sim_store32(s, X, 1);
	} else {
		sim_site(s, 2);
		results[1] = sim_load32(s, X);
		tags[1] = sim_load_tag(s);
	}
}

static uint8_t counters[256];

/* Run feedback_cpu with cpu1 first (order 1) or cpu0 first (order 0). */
static uint64_t run_feedback(uint8_t first, bool on)
{
	uint8_t bytes[] = { first, first, first, first };
	struct sim_config c = { .cpus = 2, .mm = SIM_MM_SC, .sched = SIM_SCHED_BYTES,
				.sched_bytes = bytes, .sched_len = sizeof(bytes), .seed = 1,
				.feedback = on ? counters : NULL, .feedback_size = sizeof(counters) };

	memset(counters, 0, sizeof(counters));
	memset(tags, 0, sizeof(tags));
	if (!sim)
		sim = sim_new();
	sim_reset(sim, &c);
	sim_spawn(sim, 0, feedback_cpu, NULL);
	sim_spawn(sim, 1, feedback_cpu, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	return sim_hash(sim);
}

static void feedback_tells_which_cpu_and_site_wrote_the_value_read(void)
{
	uint8_t reader_first[sizeof(counters)];

	run_feedback(1, true);
	CHECK_EQ_U64(results[1], 0);
	CHECK_EQ_U64(tags[1], 0);                 /* the host's initial value */
	memcpy(reader_first, counters, sizeof(counters));
	run_feedback(0, true);
	CHECK_EQ_U64(results[1], 1);
	CHECK_EQ_U64(tags[1], 1 << 4 | 1);        /* site 1, cpu0 */
	/* The two interleavings give different counters. */
	CHECK(memcmp(reader_first, counters, sizeof(counters)) != 0);
}

static void feedback_changes_nothing_in_the_run(void)
{
	uint64_t on = run_feedback(0, true), off;

	off = run_feedback(0, false);
	CHECK_EQ_U64(on, off);
	for (size_t i = 0; i < sizeof(counters); i++)
		CHECK_EQ_U64(counters[i], 0);     /* off: nothing counted */
}

TEST_MAIN(TEST(feedback_tells_which_cpu_and_site_wrote_the_value_read),
	  TEST(feedback_changes_nothing_in_the_run),
	  TEST(store_buffering_observable_under_tso_not_sc),
	  TEST(bare_run_executes_cpus_one_after_the_other),
	  TEST(ipi_waits_until_target_enables_interrupts),
	  TEST(ipi_to_cpu_with_interrupts_enabled_returns_at_once),
	  TEST(store_buffering_forbidden_with_smp_mb),
	  TEST(message_passing_stale_data_forbidden_under_sc_and_tso),
	  TEST(replaying_same_input_gives_same_log_hash),
	  TEST(different_schedules_give_different_hashes),
	  TEST(preemption_list_runs_cpu_until_preempted),
	  TEST(empty_preemption_list_runs_cpus_in_order),
	  TEST(byte_stream_picks_each_step),
	  TEST(byte_stream_continues_with_seeded_prng),
	  TEST(spin_lock_gives_mutual_exclusion_under_every_schedule),
	  TEST(double_lock_is_deadlock_verdict),
	  TEST(retry_without_write_blocks_until_a_store),
	  TEST(retry_with_no_writer_is_deadlock_not_hang),
	  TEST(endless_cpu_hits_step_limit),
	  TEST(tso_store_visible_at_its_drain_step),
	  TEST(load_forwards_from_own_store_buffer))
