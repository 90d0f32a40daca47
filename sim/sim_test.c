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

/* ---- PCT (SIM_SCHED_PCT) ---- */

/* Which agent took each step of the last run, as a string of digits. */
static void agent_string(char *out, size_t cap)
{
	size_t len;
	const uint8_t *t = sim_agent_trace(sim, &len);

	for (size_t i = 0; i < len && i + 1 < cap; i++)
		*out++ = (char)('0' + t[i]);
	*out = 0;
}

/*
 * Six steps per CPU, four of them relevant (in a site): steps 0, 1, 2 and 5
 * of the CPU's own sequence.
 */
static void site_tracer_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)cpu;
	(void)arg;
	sim_site(s, 1);
	for (int i = 0; i < 3; i++)
		sim_load32(s, X);
	sim_site(s, 0);
	sim_load32(s, Y);
	sim_load32(s, Y);
	sim_site(s, 1);
	sim_load32(s, X);
	sim_site(s, 0);
}

static void run_pct(uint32_t cpus, enum sim_mm mm, sim_cpu_fn fn, const uint8_t *b, size_t len,
		    char *agents, size_t cap)
{
	setup(cpus, mm, SIM_SCHED_PCT, b, len);
	for (uint32_t i = 0; i < cpus; i++)
		sim_spawn(sim, i, fn, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	agent_string(agents, cap);
}

static void pct_without_change_points_runs_highest_priority_agent_to_completion(void)
{
	char got[64];

	/* d = 0; priorities cpu0 5, cpu1 9, cpu2 7. */
	run_pct(3, SIM_MM_SC, tracer_cpu, (const uint8_t[]){ 0, 5, 9, 7 }, 4, got, sizeof(got));
	CHECK(strcmp(got, "111122220000") == 0);
	/* Equal priorities: the lower agent index first. */
	run_pct(3, SIM_MM_SC, tracer_cpu, (const uint8_t[]){ 0, 3, 3, 3 }, 4, got, sizeof(got));
	CHECK(strcmp(got, "000011112222") == 0);
	/*
	 * Until blocked: cpu0 (highest) loads X and waits for a store; cpu1
	 * runs until its store of X, and cpu0 takes the very next step.
	 */
	setup(2, SIM_MM_SC, SIM_SCHED_PCT, (const uint8_t[]){ 0, 9, 1 }, 3);
	results[0] = 0;
	sim_spawn(sim, 0, retry_cpu, NULL);
	sim_spawn(sim, 1, retry_cpu, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	CHECK_EQ_U64(results[0], 1);
	agent_string(got, sizeof(got));
	CHECK(strcmp(got, "01110") == 0);
	/* Under TSO a drain agent with the top priority drains at once. */
	run_pct(2, SIM_MM_TSO, forward_cpu, (const uint8_t[]){ 0, 5, 1, 9, 0 }, 5, got,
		sizeof(got));
	CHECK(strcmp(got, "0201") == 0);
}

static void pct_change_point_drops_running_agent_below_the_others_at_that_relevant_step(void)
{
	/* The relevant steps of cpu0 are its steps 0, 1, 2 and 5. */
	static const unsigned pos[] = { 0, 1, 2, 5 };
	char got[64], want[64];

	for (unsigned c = 0; c < 4; c++) {
		/* d = 1 (bound 8); cpu0 9 > cpu1 5 > cpu2 3; change point c. */
		const uint8_t b[] = { 1, 9, 5, 3, (uint8_t)c, 0 };
		unsigned n = 0;

		for (unsigned i = 0; i <= pos[c]; i++)
			want[n++] = '0';
		for (unsigned i = 0; i < 6; i++)
			want[n++] = '1';
		for (unsigned i = 0; i < 6; i++)
			want[n++] = '2';
		for (unsigned i = pos[c] + 1; i < 6; i++)
			want[n++] = '0';
		want[n] = 0;
		run_pct(3, SIM_MM_SC, site_tracer_cpu, b, sizeof(b), got, sizeof(got));
		CHECK(strcmp(got, want) == 0);
		CHECK_EQ_U64(sim_relevant_steps(sim), 12);
	}
	/*
	 * Two change points: relevant step 1 (cpu0's second) drops cpu0 to
	 * level 0, relevant step 3 (cpu1's second) drops cpu1 to level 1:
	 * cpu2 runs, then cpu1, then cpu0.  The index is modulo the bound
	 * (byte 0 bits 2-4: 1, bound 16): 19 is step 3.
	 */
	run_pct(3, SIM_MM_SC, site_tracer_cpu, (const uint8_t[]){ 2 | 1 << 2, 9, 5, 3, 1, 0, 19, 0 },
		8, got, sizeof(got));
	CHECK(strcmp(got, "001122222211110000") == 0);
	/* Steps outside a site are not counted: no change point lands on them. */
	run_pct(3, SIM_MM_SC, tracer_cpu, (const uint8_t[]){ 1, 9, 5, 3, 0, 0 }, 6, got,
		sizeof(got));
	CHECK(strcmp(got, "000011112222") == 0);
	CHECK_EQ_U64(sim_relevant_steps(sim), 0);
}

/* cpu0 stores X inside a site and Y outside; the drain of X is relevant. */
static void site_store_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	if (cpu != 0)
		return;
	sim_site(s, 1);
	sim_store32(s, X, 1);
	sim_site(s, 0);
	sim_store32(s, Y, 1);
	sim_load32(s, R0);
}

static void pct_drain_is_relevant_when_its_store_was_issued_in_a_site(void)
{
	char got[64];

	/* Agents cpu0, drain0; cpu0 first, then the two drains. */
	run_pct(1, SIM_MM_TSO, site_store_cpu, (const uint8_t[]){ 0, 9, 1 }, 3, got, sizeof(got));
	CHECK(strcmp(got, "00011") == 0);
	CHECK_EQ_U64(sim_relevant_steps(sim), 2);   /* store X, drain of X */
}

/* Each CPU adds 1 to X three times under the lock, inside a site. */
static void site_counter_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	sim_site(s, (uint8_t)(cpu + 1));
	counter_cpu(s, cpu, arg);
}

static uint64_t run_pct_counter(enum sim_mm mm, const uint8_t *b, size_t len, uint64_t seed,
				enum sim_result *res)
{
	struct sim_config c = { .cpus = 3, .mm = mm, .sched = SIM_SCHED_PCT, .sched_bytes = b,
				.sched_len = len, .seed = seed };

	sim_reset(sim, &c);
	for (uint32_t i = 0; i < 3; i++)
		sim_spawn(sim, i, site_counter_cpu, NULL);
	*res = sim_run(sim);
	return sim_hash(sim);
}

static void pct_same_bytes_give_same_run(void)
{
	static const uint8_t bytes[] = { 0x07, 200, 10, 99, 3, 4, 5, 6, 7, 8, 9, 1, 2 };
	uint8_t agents1[SIM_TRACE_MAX], trace[64];
	size_t len1, len2, tlen;
	enum sim_result r;

	if (!sim)
		sim = sim_new();
	for (int mm = SIM_MM_SC; mm <= SIM_MM_TSO; mm++) {
		for (size_t cut = 0; cut <= sizeof(bytes); cut++) {
			uint64_t h1 = run_pct_counter(mm, bytes, cut, 11, &r);
			const uint8_t *t = sim_sched_trace(sim, &tlen);

			CHECK(r == SIM_DONE);
			memcpy(agents1, sim_agent_trace(sim, &len1), len1);
			CHECK(tlen <= sizeof(trace));
			memcpy(trace, t, tlen);
			CHECK_EQ_U64(run_pct_counter(mm, bytes, cut, 11, &r), h1);
			CHECK(len1 == sim_steps(sim));
			CHECK(memcmp(agents1, sim_agent_trace(sim, &len2), len1) == 0);
			/* The parameter bytes used give the run under any seed. */
			CHECK_EQ_U64(run_pct_counter(mm, trace, tlen, 12345, &r), h1);
		}
	}
}

static void pct_every_byte_string_gives_a_valid_run(void)
{
	uint8_t bytes[40];
	uint64_t x = 99;
	enum sim_result r;

	if (!sim)
		sim = sim_new();
	for (int i = 0; i < 1500; i++) {
		enum sim_mm mm = (enum sim_mm)(i % 2 ? SIM_MM_TSO : SIM_MM_SC);
		size_t len = i < 40 ? (size_t)i : (size_t)(x % sizeof(bytes)), tlen;
		const uint8_t *t;
		uint32_t agents = mm == SIM_MM_TSO ? 6 : 3;

		for (size_t k = 0; k < sizeof(bytes); k++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			if (i >= 40 || k == 0)
				bytes[k] = (uint8_t)(x >> 56);
		}
		run_pct_counter(mm, bytes, len, (uint64_t)i, &r);
		CHECK(r == SIM_DONE);
		CHECK_EQ_U64(sim_mem_peek32(sim, X), 9);
		/* The trace is the parameters: head, a priority per agent, the change points. */
		t = sim_sched_trace(sim, &tlen);
		CHECK_EQ_U64(tlen, 1 + agents + 2 * (t[0] & 3));
		CHECK(memcmp(t, bytes, len < tlen ? len : tlen) == 0);
	}
}

/* A bug of depth 1: cpu1 reads X before cpu0 initialised it. */
static void init_order_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	sim_site(s, 1);
	if (cpu == 0) {
		sim_load32(s, Y);
		sim_store32(s, X, 1);
	} else if (cpu == 1) {
		results[1] = sim_load32(s, X);
	} else {
		sim_load32(s, Y);
		sim_load32(s, Y);
	}
}

/* A bug of depth 2: cpu1 reads X's new half and Y's old half between cpu0's stores. */
static void torn_pair_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	sim_site(s, 1);
	if (cpu == 0) {
		sim_store32(s, X, 1);
		sim_store32(s, Y, 1);
	} else if (cpu == 1) {
		results[0] = sim_load32(s, X);
		results[1] = sim_load32(s, Y);
	}
}

static unsigned pct_random_hits(uint32_t cpus, sim_cpu_fn fn, unsigned runs, bool torn)
{
	uint8_t bytes[16];
	uint64_t x = 7;
	unsigned hits = 0;

	for (unsigned i = 0; i < runs; i++) {
		for (size_t k = 0; k < sizeof(bytes); k++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			bytes[k] = (uint8_t)(x >> 56);
		}
		setup(cpus, SIM_MM_SC, SIM_SCHED_PCT, bytes, sizeof(bytes));
		results[0] = results[1] = 99;
		for (uint32_t c = 0; c < cpus; c++)
			sim_spawn(sim, c, fn, NULL);
		CHECK(sim_run(sim) == SIM_DONE);
		hits += torn ? results[0] == 1 && results[1] == 0 : results[1] == 0;
	}
	return hits;
}

static void pct_finds_shallow_bugs_within_a_few_hundred_random_inputs(void)
{
	/*
	 * PCT finds a bug of depth 1 with probability at least 1/n (n
	 * agents): here n = 3, and at least 100 of 300 random inputs must
	 * find it.
	 */
	CHECK(pct_random_hits(3, init_order_cpu, 300, false) >= 100);
	/*
	 * Depth 2 needs cpu0 first (1/2) and a change point on its first store
	 * (relevant step 0): each change point is 0 with probability about
	 * 1/32 (modulo a bound of 8 .. 1024), and there are 1.5 on average:
	 * about 12 in 500 (9 with these inputs).
	 */
	CHECK(pct_random_hits(2, torn_pair_cpu, 500, true) >= 4);
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
	  TEST(load_forwards_from_own_store_buffer),
	  TEST(pct_without_change_points_runs_highest_priority_agent_to_completion),
	  TEST(pct_change_point_drops_running_agent_below_the_others_at_that_relevant_step),
	  TEST(pct_drain_is_relevant_when_its_store_was_issued_in_a_site),
	  TEST(pct_same_bytes_give_same_run),
	  TEST(pct_every_byte_string_gives_a_valid_run),
	  TEST(pct_finds_shallow_bugs_within_a_few_hundred_random_inputs))
