/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Goal: each memory model allows exactly the litmus outcomes it should: SC
 * none of the weak ones; x86-TSO those of Sewell et al., "x86-TSO: A
 * Rigorous and Usable Programmer's Model for x86 Multiprocessors" (CACM
 * 2010): store buffering only; RELAXED those of the Linux-kernel memory
 * model (tools/memory-model) except where sim/README.md says it is
 * deliberately stronger (LB, IRIW+rmbs, 2+2W+wmbs).
 *
 * Method: every reachable outcome, exhaustively.  A byte-stream run with
 * enough bytes takes choice bytes[i] at its i-th decision, and
 * sim_choice_trace() says how many choices each decision had, so a
 * depth-first walk over byte strings (increment the last byte that has a
 * next choice, zero the rest) visits every leaf of the choice tree once.
 */
#include "sim/sim.h"

#include <stdio.h>
#include <string.h>

#include "testing/check.h"

/*
 * ASan with detect_stack_use_after_return (test:asan in .bazelrc) makes a
 * run about a hundred times slower: there the two 3.6-million-schedule
 * RELAXED enumerations (IRIW+rmbs, IRIW+mbs) are left out, and every other
 * one still runs in full.  The plain build runs them all.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SLOW_RUNS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLOW_RUNS 1
#endif
#endif
#ifndef SLOW_RUNS
#define SLOW_RUNS 0
#endif

enum { X = 32, Y = 33, HI = 40, LO = 41 };
enum { BYTES = 256, OUTCOMES_MAX = 1024 };

static struct sim *sim;
static uint32_t r[4];   /* the loads' results */
static bool lazy;       /* enumerate() under lazy drains */

/* ---- the litmus programs (Linux names: once = READ_ONCE/WRITE_ONCE) ---- */

static void sb(struct sim *s, uint32_t cpu, bool mb)
{
	sim_store32(s, cpu ? Y : X, 1);
	if (mb)
		sim_smp_mb(s);
	r[cpu] = sim_load32(s, cpu ? X : Y);
}

static void sb_cpu(struct sim *s, uint32_t cpu, void *arg) { (void)arg; sb(s, cpu, false); }
static void sb_mbs_cpu(struct sim *s, uint32_t cpu, void *arg) { (void)arg; sb(s, cpu, true); }

static void mp(struct sim *s, uint32_t cpu, bool wmb, bool rmb)
{
	if (cpu == 0) {
		sim_store32(s, X, 1);
		if (wmb)
			sim_smp_wmb(s);
		sim_store32(s, Y, 1);
	} else {
		r[0] = sim_load32(s, Y);
		if (rmb)
			sim_smp_rmb(s);
		r[1] = sim_load32(s, X);
	}
}

static void mp_cpu(struct sim *s, uint32_t cpu, void *arg) { (void)arg; mp(s, cpu, false, false); }
static void mp_wmb_cpu(struct sim *s, uint32_t cpu, void *arg) { (void)arg; mp(s, cpu, true, false); }
static void mp_rmb_cpu(struct sim *s, uint32_t cpu, void *arg) { (void)arg; mp(s, cpu, false, true); }
static void mp_wmb_rmb_cpu(struct sim *s, uint32_t cpu, void *arg) { (void)arg; mp(s, cpu, true, true); }

static void lb(struct sim *s, uint32_t cpu, bool mb)
{
	r[cpu] = sim_load32(s, cpu ? Y : X);
	if (mb)
		sim_smp_mb(s);
	sim_store32(s, cpu ? X : Y, 1);
}

static void lb_cpu(struct sim *s, uint32_t cpu, void *arg) { (void)arg; lb(s, cpu, false); }
static void lb_mbs_cpu(struct sim *s, uint32_t cpu, void *arg) { (void)arg; lb(s, cpu, true); }

/* cpu0 writes x, cpu1 writes y, cpu2 reads x then y, cpu3 reads y then x. */
enum fence { NONE, WMB, RMB, MB };

static void iriw(struct sim *s, uint32_t cpu, enum fence f)
{
	if (cpu < 2) {
		sim_store32(s, cpu ? Y : X, 1);
		return;
	}
	r[2 * (cpu - 2)] = sim_load32(s, cpu == 2 ? X : Y);
	if (f == RMB)
		sim_smp_rmb(s);
	else if (f == MB)
		sim_smp_mb(s);
	r[2 * (cpu - 2) + 1] = sim_load32(s, cpu == 2 ? Y : X);
}

static void iriw_cpu(struct sim *s, uint32_t cpu, void *arg) { (void)arg; iriw(s, cpu, NONE); }
static void iriw_rmbs_cpu(struct sim *s, uint32_t cpu, void *arg) { (void)arg; iriw(s, cpu, RMB); }
static void iriw_mbs_cpu(struct sim *s, uint32_t cpu, void *arg) { (void)arg; iriw(s, cpu, MB); }

/* cpu0: x = 1; y = 2.  cpu1: y = 1; x = 2.  Weak: both end at 1. */
static void w22(struct sim *s, uint32_t cpu, bool wmb)
{
	sim_store32(s, cpu ? Y : X, 1);
	if (wmb)
		sim_smp_wmb(s);
	sim_store32(s, cpu ? X : Y, 2);
}

static void w22_cpu(struct sim *s, uint32_t cpu, void *arg) { (void)arg; w22(s, cpu, false); }
static void w22_wmbs_cpu(struct sim *s, uint32_t cpu, void *arg) { (void)arg; w22(s, cpu, true); }

/* ---- outcomes ---- */

/* An outcome: the four results and the final x and y, a nibble each. */
static uint32_t outcome_key(void)
{
	return r[0] | r[1] << 4 | r[2] << 8 | r[3] << 12 | sim_mem_peek32(sim, X) << 16 |
	       sim_mem_peek32(sim, Y) << 20;
}

static bool sb_weak(uint32_t o) { return (o & 0xff) == 0x00; }            /* r0 = r1 = 0 */
static bool mp_weak(uint32_t o) { return (o & 0xff) == 0x01; }            /* flag 1, data 0 */
static bool lb_weak(uint32_t o) { return (o & 0xff) == 0x11; }            /* r0 = r1 = 1 */
static bool iriw_weak(uint32_t o) { return (o & 0xffff) == 0x0101; }      /* disagree */
static bool w22_weak(uint32_t o) { return (o >> 16) == 0x11; }            /* x = y = 1 */

struct litmus {
	const char *name;
	uint32_t cpus;
	sim_cpu_fn fn;
	bool (*weak)(uint32_t outcome);
	/* Is the weak outcome allowed?  [SC, TSO, RELAXED], and by LKMM. */
	bool allowed[SIM_MM_COUNT];
	bool lkmm;
	bool huge;   /* millions of RELAXED schedules: see SLOW_RUNS */
};

/*
 * LKMM column: the Result line of the test of that shape in the kernel's
 * tools/memory-model/litmus-tests/ where there is one, else what
 * linux-kernel.cat gives (sim/README.md has the reasoning).
 */
static const struct litmus tests[] = {
	{ "SB", 2, sb_cpu, sb_weak, { false, true, true }, true, false },
	{ "SB+mbs", 2, sb_mbs_cpu, sb_weak, { false, false, false }, false, false },
	{ "MP", 2, mp_cpu, mp_weak, { false, false, true }, true, false },
	{ "MP+wmb", 2, mp_wmb_cpu, mp_weak, { false, false, true }, true, false },
	{ "MP+rmb", 2, mp_rmb_cpu, mp_weak, { false, false, true }, true, false },
	{ "MP+wmb+rmb", 2, mp_wmb_rmb_cpu, mp_weak, { false, false, false }, false, false },
	{ "LB", 2, lb_cpu, lb_weak, { false, false, false }, true, false },
	{ "LB+mbs", 2, lb_mbs_cpu, lb_weak, { false, false, false }, false, false },
	{ "IRIW", 4, iriw_cpu, iriw_weak, { false, false, true }, true, false },
	{ "IRIW+rmbs", 4, iriw_rmbs_cpu, iriw_weak, { false, false, false }, true, true },
	{ "IRIW+mbs", 4, iriw_mbs_cpu, iriw_weak, { false, false, false }, false, true },
	{ "2+2W", 2, w22_cpu, w22_weak, { false, false, true }, true, false },
	{ "2+2W+wmbs", 2, w22_wmbs_cpu, w22_weak, { false, false, false }, true, false },
};

struct outcomes {
	uint32_t key[OUTCOMES_MAX];
	uint32_t count;
	uint64_t runs;
};

static void add_outcome(struct outcomes *o, uint32_t key)
{
	for (uint32_t i = 0; i < o->count; i++)
		if (o->key[i] == key)
			return;
	CHECK(o->count < OUTCOMES_MAX);
	if (o->count < OUTCOMES_MAX)
		o->key[o->count++] = key;
}

static bool has_outcome(const struct outcomes *o, uint32_t key)
{
	for (uint32_t i = 0; i < o->count; i++)
		if (o->key[i] == key)
			return true;
	return false;
}

/* Every outcome of fn on cpus CPUs under mm, by walking the choice tree. */
static void enumerate(uint32_t cpus, sim_cpu_fn fn, enum sim_mm mm, struct outcomes *o)
{
	uint8_t bytes[BYTES] = { 0 };

	if (!sim)
		sim = sim_new();
	memset(o, 0, sizeof(*o));
	for (;;) {
		struct sim_config c = { .cpus = cpus, .mm = mm, .sched = SIM_SCHED_BYTES,
					.sched_bytes = bytes, .sched_len = BYTES,
					.lazy_drains = lazy };
		const uint8_t *counts;
		size_t len, i;

		sim_reset(sim, &c);
		memset(r, 0, sizeof(r));
		for (uint32_t k = 0; k < cpus; k++)
			sim_spawn(sim, k, fn, NULL);
		CHECK(sim_run(sim) == SIM_DONE);
		o->runs++;
		add_outcome(o, outcome_key());
		counts = sim_choice_trace(sim, &len);
		CHECK(len < BYTES);   /* every decision came from the bytes */
		for (i = len; i > 0 && bytes[i - 1] + 1u >= counts[i - 1]; i--)
			;
		if (i == 0)
			return;
		bytes[i - 1]++;
		memset(bytes + i, 0, BYTES - i);
	}
}

static bool any_weak(const struct litmus *t, const struct outcomes *o)
{
	for (uint32_t i = 0; i < o->count; i++)
		if (t->weak(o->key[i]))
			return true;
	return false;
}

static void litmus_outcomes_match_published_models(void)
{
	static struct outcomes per_mm[SIM_MM_COUNT];

	printf("  %-11s %-9s %-9s %-9s %-9s %s\n", "test", "SC", "TSO", "relaxed", "LKMM",
	       "runs (sc/tso/relaxed)");
	for (size_t k = 0; k < sizeof(tests) / sizeof(tests[0]); k++) {
		const struct litmus *t = &tests[k];
		bool weak[SIM_MM_COUNT];

		bool skip = SLOW_RUNS && t->huge;

		for (int mm = 0; mm < SIM_MM_COUNT; mm++) {
			if (skip && mm == SIM_MM_RELAXED) {
				/* Not run: keep the expected answer and the TSO outcomes. */
				weak[mm] = t->allowed[mm];
				per_mm[mm] = per_mm[SIM_MM_TSO];
				per_mm[mm].runs = 0;
				continue;
			}
			enumerate(t->cpus, t->fn, mm, &per_mm[mm]);
			weak[mm] = any_weak(t, &per_mm[mm]);
			if (weak[mm] != t->allowed[mm])
				fprintf(stderr, "%s under %s: weak outcome %s, expected %s\n", t->name,
					sim_mm_name(mm), weak[mm] ? "seen" : "not seen",
					t->allowed[mm] ? "allowed" : "forbidden");
			CHECK(weak[mm] == t->allowed[mm]);
		}
		/* A weaker model keeps every outcome of a stronger one. */
		for (uint32_t i = 0; i < per_mm[SIM_MM_SC].count; i++)
			CHECK(has_outcome(&per_mm[SIM_MM_TSO], per_mm[SIM_MM_SC].key[i]));
		for (uint32_t i = 0; i < per_mm[SIM_MM_TSO].count; i++)
			CHECK(has_outcome(&per_mm[SIM_MM_RELAXED], per_mm[SIM_MM_TSO].key[i]));
		printf("  %-11s %-9s %-9s %-9s %-9s %llu/%llu/%llu%s%s\n", t->name,
		       weak[0] ? "allowed" : "forbidden", weak[1] ? "allowed" : "forbidden",
		       weak[2] ? "allowed" : "forbidden", t->lkmm ? "allowed" : "forbidden",
		       (unsigned long long)per_mm[0].runs, (unsigned long long)per_mm[1].runs,
		       (unsigned long long)per_mm[2].runs,
		       weak[2] != t->lkmm ? "  <- relaxed is stronger than LKMM (sim/README.md)" : "",
		       skip ? "  (relaxed not run under ASan)" : "");
		fflush(stdout);
		/* Deliberate deviations go one way only: never weaker than LKMM. */
		CHECK(!weak[SIM_MM_RELAXED] || t->lkmm);
	}
}

/*
 * The split-spte shape: a writer stores the high half, then the low half;
 * a reader loads the low half, then the high half.  Observed "low new,
 * high old" means the two became visible (or were read) out of order.
 */
static bool writer_wmb, reader_rmb;

static void halves_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	if (cpu == 0) {
		sim_store32(s, HI, 1);
		if (writer_wmb)
			sim_smp_wmb(s);
		sim_store32(s, LO, 1);
	} else {
		r[0] = sim_load32(s, LO);
		if (reader_rmb)
			sim_smp_rmb(s);
		r[1] = sim_load32(s, HI);
	}
}

static bool halves_torn(bool wmb, bool rmb)
{
	struct outcomes o;

	writer_wmb = wmb;
	reader_rmb = rmb;
	enumerate(2, halves_cpu, SIM_MM_RELAXED, &o);
	return any_weak(&tests[2], &o);   /* MP's weak outcome: r0 = 1, r1 = 0 */
}

static void relaxed_reorders_unfenced_halves_and_fences_forbid_it(void)
{
	/* Reader with smp_rmb: only the writer's store order matters. */
	CHECK(halves_torn(false, true));
	CHECK(!halves_torn(true, true));
	/* Reader without smp_rmb: its two loads reorder even behind a wmb. */
	CHECK(halves_torn(true, false));
}

/* A lock-protected counter stays exact under RELAXED (spin_lock/unlock). */
static void counter_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)cpu;
	(void)arg;
	sim_spin_lock(s, 50);
	sim_store32(s, X, sim_load32(s, X) + 1);
	sim_store32(s, Y, sim_load32(s, Y) + 1);
	sim_spin_unlock(s, 50);
}

static void relaxed_spin_lock_keeps_critical_sections_exact(void)
{
	struct outcomes o;

	enumerate(2, counter_cpu, SIM_MM_RELAXED, &o);
	printf("  %llu runs\n", (unsigned long long)o.runs);
	CHECK_EQ_U64(o.count, 1);
	CHECK_EQ_U64(o.key[0], 0x220000);   /* x = y = 2 */
}

/* A 64-bit store is never seen by halves, even with stale entries around. */
static uint64_t seen64[4];

static void atomic64_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	if (cpu == 0) {
		sim_store32(s, X + 1, 7);         /* a 32-bit store first: a stale entry */
		sim_store64(s, X, 0x500000005ull);
	} else {
		for (int i = 0; i < 3; i++)
			seen64[i] = sim_load64(s, X);
	}
}

static void relaxed_load64_never_splits_a_store64(void)
{
	uint8_t bytes[BYTES] = { 0 };
	uint64_t runs = 0;
	bool seen_7 = false, seen_5 = false;

	for (;;) {
		struct sim_config c = { .cpus = 2, .mm = SIM_MM_RELAXED, .sched = SIM_SCHED_BYTES,
					.sched_bytes = bytes, .sched_len = BYTES };
		const uint8_t *counts;
		size_t len, i;

		sim_reset(sim, &c);
		sim_spawn(sim, 0, atomic64_cpu, NULL);
		sim_spawn(sim, 1, atomic64_cpu, NULL);
		CHECK(sim_run(sim) == SIM_DONE);
		runs++;
		for (int k = 0; k < 3; k++) {
			uint64_t v = seen64[k];

			CHECK(v == 0 || v == 0x700000000ull || v == 0x500000005ull);
			seen_7 |= v == 0x700000000ull;
			seen_5 |= v == 0x500000005ull;
		}
		counts = sim_choice_trace(sim, &len);
		for (i = len; i > 0 && bytes[i - 1] + 1u >= counts[i - 1]; i--)
			;
		if (i == 0)
			break;
		bytes[i - 1]++;
		memset(bytes + i, 0, BYTES - i);
	}
	printf("  %llu runs\n", (unsigned long long)runs);
	CHECK(runs > 100);
	CHECK(seen_7 && seen_5);
}

/*
 * An aligned 64-bit load is one access: it never returns the second of two
 * ordered 32-bit stores without the first (the writer stores the low word,
 * smp_wmb, then the high word).  Without the wmb the stores themselves may
 * reach memory in either order, so the split is allowed.  And the window of
 * a stale load reaches back to the write of the value it returned
 * (sim_last_load_since).
 */
static bool pair_wmb;
static uint64_t pair_since_gap;

static void pair_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	if (cpu == 0) {
		sim_store32(s, X, 1);
		if (pair_wmb)
			sim_smp_wmb(s);
		sim_store32(s, Y, 1);
	} else {
		uint64_t v = sim_load64(s, X);

		r[0] = (uint32_t)v;
		r[1] = (uint32_t)(v >> 32);
		if (sim_last_step(s) - sim_last_load_since(s) > pair_since_gap)
			pair_since_gap = sim_last_step(s) - sim_last_load_since(s);
	}
}

static bool pair_split(bool wmb)
{
	struct outcomes o;

	pair_wmb = wmb;
	enumerate(2, pair_cpu, SIM_MM_RELAXED, &o);
	for (uint32_t i = 0; i < o.count; i++)
		if ((o.key[i] & 0xff) == 0x10)   /* r0 (low) = 0, r1 (high) = 1 */
			return true;
	return false;
}

static void relaxed_load64_is_single_copy_atomic_and_its_window_reaches_stale_values(void)
{
	pair_since_gap = 0;
	CHECK(!pair_split(true));
	CHECK(pair_split(false));
	CHECK(pair_since_gap > 0);   /* some load returned a value older than its step */
}

/* Read-read coherence: a CPU never sees a word go back to an older value. */
static void corr_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	if (cpu == 0) {
		sim_store32(s, X, 1);
		sim_store32(s, X, 2);
	} else {
		for (int i = 0; i < 3; i++)
			r[i] = sim_load32(s, X);
	}
}

static void relaxed_keeps_read_read_coherence(void)
{
	struct outcomes o;
	bool saw_stale_after_drain = false;

	enumerate(2, corr_cpu, SIM_MM_RELAXED, &o);
	for (uint32_t i = 0; i < o.count; i++) {
		uint32_t a = o.key[i] & 15, b = o.key[i] >> 4 & 15, c = o.key[i] >> 8 & 15;

		CHECK(a <= b && b <= c);
		saw_stale_after_drain |= a == 0 && c == 2;
	}
	CHECK(saw_stale_after_drain);
}

/*
 * A reader spinning with sim_retry_wait until it sees the flag: the store
 * may reach memory while the reader still sees the old value, so the wait
 * must also end when the reader's stale entry goes.  Never a deadlock.
 */
static void retry_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	if (cpu == 0) {
		sim_store32(s, X, 1);
		return;
	}
	for (;;) {
		uint64_t mark = sim_retry_mark(s);

		if (sim_load32(s, X) == 1)
			break;
		sim_retry_wait(s, mark);
	}
	r[0] = 1;
}

static void relaxed_retry_wait_wakes_when_a_stale_value_goes(void)
{
	struct outcomes o;

	enumerate(2, retry_cpu, SIM_MM_RELAXED, &o);   /* checks SIM_DONE on every run */
	CHECK_EQ_U64(o.count, 1);
	CHECK_EQ_U64(o.key[0], 0x10001);
}

/* The preemption list drains the youngest store first: stores reorder. */
static void two_stores_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	if (cpu == 0) {
		sim_store32(s, X, 1);
		sim_store32(s, Y, 1);
	}
}

static void relaxed_preemption_list_drains_youngest_first(void)
{
	/* cpu0 runs to its end (2 steps), then its drain agent (agent 2). */
	struct sim_config c = { .cpus = 2, .mm = SIM_MM_RELAXED, .sched = SIM_SCHED_PREEMPT,
				.sched_bytes = (const uint8_t[]){ 2, 2 }, .sched_len = 2, .log = true };
	const struct sim_event *ev;
	size_t n, drains = 0;

	sim_reset(sim, &c);
	sim_spawn(sim, 0, two_stores_cpu, NULL);
	sim_spawn(sim, 1, two_stores_cpu, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	CHECK_EQ_U64(sim_agents_count(&c), 6);
	ev = sim_log(sim, &n);
	for (size_t i = 0; i < n; i++) {
		if (ev[i].kind != SIM_EV_DRAIN32)
			continue;
		CHECK_EQ_U64(ev[i].addr, drains == 0 ? Y : X);
		drains++;
	}
	CHECK_EQ_U64(drains, 2);
}

/*
 * Lazy drains (the lazy-drains knob) pick among x86-TSO's executions, never
 * outside them: every outcome of every two-CPU litmus test under TSO with
 * lazy drains is a TSO outcome.  Store buffering always shows its weak
 * outcome (both stores wait in their buffers while both loads run) and
 * never with smp_mb; message passing stays forbidden.
 */
static void lazy_drains_keep_stores_buffered_within_tso(void)
{
	static struct outcomes eager, lazy_o;

	for (size_t k = 0; k < sizeof(tests) / sizeof(tests[0]); k++) {
		const struct litmus *t = &tests[k];

		if (t->cpus != 2)
			continue;
		lazy = false;
		enumerate(t->cpus, t->fn, SIM_MM_TSO, &eager);
		lazy = true;
		enumerate(t->cpus, t->fn, SIM_MM_TSO, &lazy_o);
		lazy = false;
		printf("  %-11s TSO: %u outcomes in %llu runs; lazy drains: %u in %llu\n", t->name,
		       eager.count, (unsigned long long)eager.runs, lazy_o.count,
		       (unsigned long long)lazy_o.runs);
		for (uint32_t i = 0; i < lazy_o.count; i++)
			CHECK(has_outcome(&eager, lazy_o.key[i]));
		CHECK(lazy_o.runs <= eager.runs);
		if (strcmp(t->name, "SB") == 0)
			CHECK(lazy_o.count == 1 && t->weak(lazy_o.key[0]));
		if (strcmp(t->name, "SB+mbs") == 0 || strncmp(t->name, "MP", 2) == 0)
			CHECK(!any_weak(t, &lazy_o));
	}
}

TEST_MAIN(TEST(litmus_outcomes_match_published_models),
	  TEST(lazy_drains_keep_stores_buffered_within_tso),
	  TEST(relaxed_reorders_unfenced_halves_and_fences_forbid_it),
	  TEST(relaxed_spin_lock_keeps_critical_sections_exact),
	  TEST(relaxed_load64_never_splits_a_store64),
	  TEST(relaxed_load64_is_single_copy_atomic_and_its_window_reaches_stale_values),
	  TEST(relaxed_keeps_read_read_coherence),
	  TEST(relaxed_retry_wait_wakes_when_a_stale_value_goes),
	  TEST(relaxed_preemption_list_drains_youngest_first))
