/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The structure-aware mutator (libFuzzer's LLVMFuzzerCustomMutator).
 *
 * Byte mutations are blind to the input format: inserting a byte shifts
 * every operation after it, and a byte-stream schedule changed at a random
 * position mostly changes steps where nothing is shared.  This mutator
 * works on the decoded program instead and mixes five kinds of mutation:
 *
 *   steer      (byte-stream schedules) one preemption placed at a relevant
 *              step: the program runs once with a struct sim_steer that,
 *              at the k-th access to an spte half, a count or vcpu->mode
 *              (mostly one that splits a CPU's accesses of a site while
 *              another CPU is inside one), gives the CPU to another agent
 *              for a few steps or a few of the protocol's accesses (or
 *              keeps the preempted one off them), a third of the time
 *              twice with a few of the preempted agent's steps in between,
 *              and the choices that run made become the new schedule.
 *              Preemptions pile up over generations, each kept when it
 *              reaches a new interleaving counter: the torn reads of the
 *              protocol need three or four of them at the right steps.
 *   pct        (PCT schedules, or --sched pct) one parameter redrawn: a
 *              change point moved to another relevant step or nudged, a
 *              priority, the depth.
 *   preempt    (preemption lists) one (gap, target) pair redrawn.
 *   ops        one operation changed field by field, or duplicated,
 *              removed, moved; the schedule bytes stay.
 *   config     the CPU count, memory model, host width, paging mode or a
 *              knob.
 *
 * fz_crossover (libFuzzer's LLVMFuzzerCustomCrossOver, AFL++'s splice
 * buffer) combines two programs: a run of one's operations inserted into
 * the other, or one's operations under the other's configuration (paging
 * mode, CPUs, memory model, host width, knobs).  Features that seeds keep
 * apart (dirty logging and shadow paging, a remap and an MMIO hole) meet
 * this way without a chain of single-field edits.
 *
 * and, a third of the time, libFuzzer's own byte mutations
 * (LLVMFuzzerMutate: its dictionary, compare table and cross-over).  Every
 * output is the canonical encoding of a program (fz_encode) and fits in
 * max_size.  The steered run costs one execution; the number of relevant
 * steps of a corpus input is cached by its hash, so a second one is rare.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz/harness.h"

/* libFuzzer's own mutations; absent under AFL++'s driver and the replay main. */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size) __attribute__((weak));

static uint64_t rng_next(uint64_t *r)
{
	uint64_t x = *r;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *r = x;
}

static uint32_t rng_below(uint64_t *r, uint32_t n)
{
	return n ? (uint32_t)(rng_next(r) % n) : 0;
}

/*
 * Facts about a corpus input's run, cached by the input's hash (direct
 * mapped).  A corpus passes 4000 inputs within a minute: with 4096 entries
 * about a quarter of the lookups missed, each a learning run (1025 in 30 s
 * of fuzzing the mmu seeds); with 65536 (2 MiB), 265 did.
 */
#define RELEVANT_CACHE 65536

static uint64_t bytes_hash(const uint8_t *data, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < size; i++) {
		h ^= data[i];
		h *= 0x100000001b3ull;
	}
	return h | 1;   /* 0 marks an empty cache entry */
}

static struct fz_exec *mut_exec;
static struct fz_program mut_prog, mut_run, mut_other;

/* Run p as the harness would (its overrides, no feedback), steered by st. */
static bool mut_execute(const struct fz_program *p, const struct fz_options *o,
			const struct sim_steer *st)
{
	struct fz_options q = *o;
	struct fz_result res;

	if (!mut_exec && !(mut_exec = fz_exec_new()))
		return false;
	q.feedback = NULL;
	q.feedback_size = 0;
	q.log = false;
	q.steer = st;
	fz_exec_run(mut_exec, p, &q, &res);
	return true;
}

/*
 * What a run of p offers the mutations (cached by the input's hash): its
 * relevant steps, its steering points of each kind and, under PCT, the
 * number of agents it read a priority for.  NULL if p cannot run.
 */
struct mut_facts {
	uint64_t key;
	uint32_t relevant;
	uint32_t points[SIM_STEER_POINTS];
	uint32_t agents;
};

static struct mut_facts mut_cache[RELEVANT_CACHE];

/* Record what the run just done on sim offers, under key. */
static struct mut_facts *mut_record(uint64_t key, struct sim *sim)
{
	struct mut_facts *f = &mut_cache[key % RELEVANT_CACHE];
	const uint8_t *trace;
	size_t len;

	f->relevant = (uint32_t)sim_relevant_steps(sim);
	for (int k = 0; k < SIM_STEER_POINTS; k++)
		f->points[k] = (uint32_t)sim_steer_points(sim, (enum sim_steer_points)k);
	trace = sim_sched_trace(sim, &len);
	f->agents = 0;
	if (len > 0 && len >= 1 + 2 * (size_t)(trace[0] & 3))
		f->agents = (uint32_t)(len - 1 - 2 * (trace[0] & 3));
	f->key = key;
	return f;
}

/*
 * Near misses: inputs whose run had a guard of the protocol fire (enum
 * mmu_guard: a lockless read that retried, a fast page fault's cmpxchg64
 * inside a locked update's window, a remote request that found a lockless
 * walker or read its mode a few steps from its mode store, a gpte that
 * changed under FNAME(fetch)), whether or not they reached new coverage --
 * most do not, and libFuzzer keeps only those that do.  A guard that fired
 * means the schedule hit the window the guard is for, and a mutant that
 * weakens the guard turns runs a shift away into divergences: one-byte
 * variants of the schedule of an input whose read retried diverge under
 * no-clear-count about once in 700, those of an input without a retry
 * never (docs/results.md).  So a quarter of the structure-aware mutations
 * start from a near miss instead of the input the engine picked.
 *
 * Each guard has its own ring of the last NEAR_MAX distinct runs it fired
 * in, and a mutation picks a ring first, each non-empty one alike: one pool
 * for all let a guard that fires often (a changed gpte, in a third of the
 * runs) push out a rarer one (a retry) and cost the mutants that need the
 * rarer one (docs/results.md).  Only libFuzzer runs the harness in the mutator's
 * process; under AFL++ (whose mutator runs in afl-fuzz) the rings stay
 * empty.
 */
#define NEAR_MAX 32

struct near_entry {
	uint64_t key;
	size_t size;
	uint8_t data[FZ_INPUT_MAX];
};

static struct near_ring {
	uint32_t count, next;
	struct near_entry e[NEAR_MAX];
} near_rings[MMU_GUARD_NR];

/*
 * Not instrumented: its branches depend on what earlier inputs left in the
 * rings, so as coverage they would make one input's run look different
 * each time.
 */
__attribute__((no_sanitize("coverage")))
static void near_add(struct near_ring *ring, const uint8_t *data, size_t size, uint64_t key)
{
	struct near_entry *e;

	if (size > FZ_INPUT_MAX)
		return;
	for (uint32_t i = 0; i < ring->count; i++)
		if (ring->e[i].key == key)
			return;
	e = &ring->e[ring->next];
	e->key = key;
	e->size = size;
	memcpy(e->data, data, size);
	ring->next = (ring->next + 1) % NEAR_MAX;
	if (ring->count < NEAR_MAX)
		ring->count++;
}

/* A near miss to start from, picked ring first (NULL: none yet). */
__attribute__((no_sanitize("coverage")))
static const struct near_entry *near_pick(uint64_t *r)
{
	uint32_t nonempty = 0, k;

	for (uint32_t g = 0; g < MMU_GUARD_NR; g++)
		nonempty += near_rings[g].count > 0;
	if (!nonempty)
		return NULL;
	k = rng_below(r, nonempty);
	for (uint32_t g = 0; g < MMU_GUARD_NR; g++) {
		const struct near_ring *ring = &near_rings[g];

		if (ring->count && k-- == 0)
			return &ring->e[rng_below(r, ring->count)];
	}
	return NULL;
}

void fz_mutator_note(const struct fz_options *o, const uint8_t *data, size_t size,
		     struct sim *sim, const struct fz_result *res)
{
	uint64_t key;

	/* Without libFuzzer (the replay main) nothing mutates in this process. */
	if (!LLVMFuzzerMutate)
		return;
	key = bytes_hash(data, size);
	mut_record(key, sim);
	if (!o->near_misses || res->divergence)
		return;
	for (uint32_t g = 0; g < MMU_GUARD_NR; g++)
		if (res->guards[g])
			near_add(&near_rings[g], data, size, key);
}

static const struct mut_facts *mut_learn(const struct fz_program *p, const struct fz_options *o,
					 uint64_t key)
{
	struct mut_facts *f = &mut_cache[key % RELEVANT_CACHE];

	if (f->key == key)
		return f;
	if (!mut_execute(p, o, NULL))
		return NULL;
	return mut_record(key, fz_exec_sim(mut_exec));
}

/* The schedule bytes that fit after the header and the operations. */
static size_t sched_room(const struct fz_program *p, size_t max_size)
{
	size_t used = FZ_HEADER_BYTES_EXT + p->ops_count * FZ_OP_BYTES;
	size_t room = max_size > used ? max_size - used : 0;

	return room < FZ_SCHED_MAX ? room : FZ_SCHED_MAX;
}

/*
 * steer: p's effective schedule is the byte stream.  One run learns the
 * number of relevant steps (unless cached), a second one takes the
 * preemption, and its choices become p's schedule.  *whole: they all fit,
 * so p's run is the steered run.
 */
static bool mutate_steer(struct fz_program *p, const struct fz_options *o, uint64_t key,
			 size_t max_size, uint64_t *r, bool *whole)
{
	struct fz_program *run = &mut_run;
	const struct mut_facts *f = mut_learn(p, o, key);
	struct sim_steer st = { 0 };
	const uint8_t *trace;
	size_t len, room;
	uint32_t kind = rng_below(r, 4);

	if (!f || f->points[SIM_STEER_RELEVANT] == 0)
		return false;
	/*
	 * Half the time at a split point (a CPU mid-way through a site while
	 * another is inside one: where a preemption tears something), a
	 * quarter at a contended one, a quarter anywhere relevant.
	 */
	st.points = kind < 2 ? SIM_STEER_SPLIT : kind < 3 ? SIM_STEER_CONTENDED : SIM_STEER_RELEVANT;
	while (st.points > SIM_STEER_RELEVANT && f->points[st.points] == 0)
		st.points--;
	st.at = rng_below(r, f->points[st.points]);
	st.rank = rng_below(r, 8);
	st.delay = rng_below(r, 3) == 0;
	st.hold_kind = (enum sim_hold)rng_below(r, 3);
	if (st.hold_kind == SIM_HOLD_CONFLICTS) {
		/* A clear is two writes to the spte, a clear and a set four. */
		st.hold = 1 + rng_below(r, 4);
	} else if (st.hold_kind == SIM_HOLD_RELEVANT) {
		/* A few of the protocol's accesses. */
		st.hold = 1 + rng_below(r, 1u << rng_below(r, 5));
	} else {
		/*
		 * Up to 64 steps, any length (a window between two of a
		 * writer's stores is a few steps wide, anywhere), short ones
		 * likelier; or until the agent blocks.
		 */
		st.hold = rng_below(r, 8) == 0 ? SIM_STEER_CAP
					       : 1 + rng_below(r, 1u << rng_below(r, 7));
	}
	/*
	 * A third of the switches hold twice: the preempted agent takes a few
	 * relevant steps in between (a reader's load between a writer's clear
	 * and its set).
	 */
	if (!st.delay && rng_below(r, 3) == 0) {
		st.again = 1 + rng_below(r, 4);
		st.hold2 = st.hold_kind == SIM_HOLD_STEPS ? 1 + rng_below(r, 1u << rng_below(r, 7))
							 : 1 + rng_below(r, 4);
	}
	*run = *p;
	if (!mut_execute(run, o, &st))
		return false;
	trace = sim_sched_trace(fz_exec_sim(mut_exec), &len);
	room = sched_room(p, max_size);
	*whole = len <= room && len < SIM_TRACE_MAX;
	if (len > room)
		len = room;
	memcpy(p->sched, trace, len);
	p->sched_len = len;
	return true;
}

/*
 * pct: the parameter bytes are byte 0 (depth, bound), one priority per
 * agent, then 2 bytes per change point (sim/sim.h).  Missing ones come
 * from the PRNG, so the bytes are first made explicit up to what is
 * changed.
 */
static bool mutate_pct(struct fz_program *p, const struct fz_options *o, uint64_t key,
		       size_t max_size, uint64_t *r)
{
	const struct mut_facts *f = mut_learn(p, o, key);
	uint32_t relevant, agents, depth, cp;
	size_t need, room = sched_room(p, max_size);
	uint8_t *b = p->sched;

	if (!f || f->agents == 0)
		return false;
	relevant = f->relevant;
	agents = f->agents;
	need = 1 + agents + 2 * SIM_PCT_DEPTH_MAX;
	if (need > room)
		return false;
	while (p->sched_len < need)
		p->sched[p->sched_len++] = (uint8_t)rng_next(r);
	depth = b[0] & 3;
	switch (rng_below(r, 4)) {
	case 0:   /* the depth: often the bug needs one more change point */
		b[0] = (uint8_t)((b[0] & ~3u) | rng_below(r, SIM_PCT_DEPTH_MAX + 1));
		break;
	case 1:   /* a priority */
		b[1 + rng_below(r, agents)] = (uint8_t)rng_next(r);
		break;
	default:  /* a change point: anywhere in the run, or nearby */
		if (depth == 0)
			b[0] = (uint8_t)((b[0] & ~3u) | (depth = 1 + rng_below(r, SIM_PCT_DEPTH_MAX)));
		cp = 1 + agents + 2 * rng_below(r, depth);
		{
			uint32_t v = b[cp] | (uint32_t)b[cp + 1] << 8;

			if (relevant && rng_below(r, 2) == 0) {
				v = rng_below(r, relevant);
				/* The smallest bound that holds it: the index is modulo B. */
				uint32_t s = 0;

				while (s < 7 && (SIM_PCT_BOUND_MIN << s) <= v)
					s++;
				if ((SIM_PCT_BOUND_MIN << (b[0] >> 2 & 7)) <= v)
					b[0] = (uint8_t)((b[0] & ~(7u << 2)) | s << 2);
			} else {
				v += rng_below(r, 17) - 8;
			}
			b[cp] = (uint8_t)v;
			b[cp + 1] = (uint8_t)(v >> 8);
		}
		break;
	}
	return true;
}

/* preempt: one (gap, target) pair redrawn or added. */
static bool mutate_preempt(struct fz_program *p, size_t max_size, uint64_t *r)
{
	size_t pairs = p->sched_len / 2, room = sched_room(p, max_size), i;

	if (pairs == 0 || (rng_below(r, 3) == 0 && p->sched_len + 2 <= room)) {
		i = p->sched_len & ~(size_t)1;
		if (i + 2 > room)
			return false;
		p->sched_len = i + 2;
	} else {
		i = 2 * rng_below(r, (uint32_t)pairs);
	}
	p->sched[i] = (uint8_t)(rng_below(r, 2) ? rng_below(r, 16) : rng_next(r));
	p->sched[i + 1] = (uint8_t)rng_next(r);
	return true;
}

/* A value byte: a neighbour, a small value, or anything. */
static uint8_t mutate_value(uint8_t v, uint64_t *r)
{
	switch (rng_below(r, 3)) {
	case 0: return (uint8_t)(v + rng_below(r, 5) - 2);
	case 1: return (uint8_t)rng_below(r, 8);
	default: return (uint8_t)rng_next(r);
	}
}

/* ops: one operation changed, duplicated, removed or moved. */
static bool mutate_ops(struct fz_program *p, size_t max_size, uint64_t *r)
{
	uint32_t n = p->ops_count, i = rng_below(r, n), j;
	struct fz_op *op = &p->ops[i], tmp;
	bool room = n < FZ_OPS_MAX &&
		    FZ_HEADER_BYTES_EXT + (n + 1) * FZ_OP_BYTES + p->sched_len <= max_size;

	if (n == 0) {
		if (!room)
			return false;
		memset(op, 0, sizeof(*op));
		op->kind = (uint8_t)rng_below(r, fz_target_op_count(p->target));
		op->cpu = (uint8_t)rng_below(r, p->cpus);
		p->ops_count = 1;
		return true;
	}
	switch (rng_below(r, 8)) {
	case 0:
		op->kind = (uint8_t)rng_below(r, fz_target_op_count(p->target));
		break;
	case 1:
		op->cpu = (uint8_t)rng_below(r, p->cpus);
		break;
	case 2:
		op->slot = (uint8_t)rng_below(r, FZ_SLOTS);
		break;
	case 3:
		op->a = mutate_value(op->a, r);
		break;
	case 4:
		op->b = mutate_value(op->b, r);
		break;
	case 5:   /* a copy, on its own CPU or another one's */
		if (!room)
			return false;
		j = rng_below(r, n + 1);
		tmp = *op;
		if (rng_below(r, 2))
			tmp.cpu = (uint8_t)rng_below(r, p->cpus);
		memmove(&p->ops[j + 1], &p->ops[j], (n - j) * sizeof(*op));
		p->ops[j] = tmp;
		p->ops_count++;
		break;
	case 6:
		memmove(&p->ops[i], &p->ops[i + 1], (n - i - 1) * sizeof(*op));
		p->ops_count--;
		break;
	default:  /* moved: the order of a CPU's operations is its program */
		j = rng_below(r, n);
		tmp = p->ops[i];
		p->ops[i] = p->ops[j];
		p->ops[j] = tmp;
		break;
	}
	return true;
}

/* config: one header field. */
static bool mutate_config(struct fz_program *p, uint64_t *r)
{
	switch (rng_below(r, 5)) {
	case 0:
		p->cpus = 2 + rng_below(r, 3);
		for (uint32_t i = 0; i < p->ops_count; i++)
			p->ops[i].cpu %= p->cpus;
		break;
	case 1:
		p->mm = p->mm == SIM_MM_SC ? SIM_MM_TSO : SIM_MM_SC;
		break;
	case 2:
		p->width = p->width == MMU_HOST_32 ? MMU_HOST_64 : MMU_HOST_32;
		break;
	case 3:
		if (p->target != FZ_TARGET_MMU)
			return false;
		p->config_high = (uint8_t)rng_below(r, 8);
		break;
	default:
		if (p->version == FZ_FORMAT_LEGACY)
			return false;
		p->knobs ^= (uint8_t)(1u << rng_below(r, FZ_KNOBS_COUNT));
		break;
	}
	return true;
}

/* libFuzzer's own mutation, or (without libFuzzer) the input as it was. */
static size_t mutate_bytes(uint8_t *data, size_t size, size_t max_size)
{
	return LLVMFuzzerMutate ? LLVMFuzzerMutate(data, size, max_size) : size;
}

size_t fz_mutate(enum fz_target target, const struct fz_options *o, uint8_t *data, size_t size,
		 size_t max_size, unsigned int seed)
{
	struct fz_program *p = &mut_prog, eff;
	uint64_t r = (uint64_t)seed * 0x9e3779b97f4a7c15ull | 1, key = bytes_hash(data, size);
	bool done = false, whole = false;

	if (!o->mutator || (rng_below(&r, 3) == 0 && LLVMFuzzerMutate))
		return mutate_bytes(data, size, max_size);
	if (o->near_misses && rng_below(&r, 4) == 0) {
		const struct near_entry *e = near_pick(&r);

		if (e && e->size <= max_size) {
			memcpy(data, e->data, e->size);
			size = e->size;
			key = e->key;
		}
	}
	fz_decode(target, data, size, p);
	eff = *p;
	fz_program_apply(&eff, o);
	for (int tries = 0; tries < 4 && !done; tries++) {
		uint32_t kind = rng_below(&r, 10);

		if (kind < 4 && eff.sched_kind == SIM_SCHED_BYTES)
			done = mutate_steer(p, o, key, max_size, &r, &whole);
		else if (kind < 4 && eff.sched_kind == SIM_SCHED_PCT)
			done = mutate_pct(p, o, key, max_size, &r);
		else if (kind < 4)
			done = mutate_preempt(p, max_size, &r);
		else if (kind < 9)
			done = mutate_ops(p, max_size, &r);
		else
			done = mutate_config(p, &r);
	}
	if (!done || FZ_HEADER_BYTES_EXT + p->ops_count * FZ_OP_BYTES + p->sched_len > max_size)
		return mutate_bytes(data, size, max_size);
	p->seed = fz_program_seed(p);
	size_t n = fz_encode(p, data, max_size);

	/* A steered output's run is known: a later mutation of it needs no run. */
	if (whole)
		mut_record(bytes_hash(data, n), fz_exec_sim(mut_exec));
	return n;
}

size_t fz_crossover(enum fz_target target, const struct fz_options *o, const uint8_t *a,
		    size_t asize, const uint8_t *b, size_t bsize, uint8_t *out, size_t max_size,
		    unsigned int seed)
{
	struct fz_program *p = &mut_prog, *q = &mut_other;
	uint64_t r = (uint64_t)seed * 0x9e3779b97f4a7c15ull | 1;
	uint32_t at, from, count;

	/* Half the calls decline: libFuzzer then picks its other mutator. */
	if (!o->mutator || rng_below(&r, 2) == 0 || max_size < FZ_HEADER_BYTES_EXT)
		return 0;
	fz_decode(target, a, asize, p);
	fz_decode(target, b, bsize, q);
	if (rng_below(&r, 3) == 0) {
		/* a's operations and schedule under b's configuration */
		p->config_high = q->config_high;
		p->width = q->width;
		p->mm = q->mm;
		p->knobs = p->version == FZ_FORMAT_LEGACY ? p->knobs : q->knobs;
		p->cpus = q->cpus;
		for (uint32_t i = 0; i < p->ops_count; i++)
			p->ops[i].cpu %= p->cpus;
	} else {
		/* a run of b's operations (on a's CPUs) inserted into a's */
		if (q->ops_count == 0 || p->ops_count >= FZ_OPS_MAX)
			return 0;
		at = rng_below(&r, p->ops_count + 1);
		from = rng_below(&r, q->ops_count);
		count = 1 + rng_below(&r, q->ops_count - from);
		if (count > FZ_OPS_MAX - p->ops_count)
			count = FZ_OPS_MAX - p->ops_count;
		memmove(&p->ops[at + count], &p->ops[at], (p->ops_count - at) * sizeof(p->ops[0]));
		for (uint32_t i = 0; i < count; i++) {
			p->ops[at + i] = q->ops[from + i];
			p->ops[at + i].cpu %= p->cpus;
		}
		p->ops_count += count;
	}
	/* Operations first: a schedule cut to fit loses only its tail. */
	while (p->ops_count > 0 && FZ_HEADER_BYTES_EXT + p->ops_count * FZ_OP_BYTES > max_size)
		p->ops_count--;
	if (FZ_HEADER_BYTES_EXT + p->ops_count * FZ_OP_BYTES + p->sched_len > max_size)
		p->sched_len = max_size - FZ_HEADER_BYTES_EXT - p->ops_count * FZ_OP_BYTES;
	p->seed = fz_program_seed(p);
	return fz_encode(p, out, max_size);
}
