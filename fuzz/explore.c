/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Bounded-exhaustive schedule search with preemption bounding (explore.h).
 *
 * Depth-first: a level holds one schedule's run (its agent per step and its
 * preemption points with the agents that may take each), copied out of the
 * simulator before its children run.
 */
#include "fuzz/explore.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

/* ---- per-word analysis of one run ---- */

#define WT_SIZE 16384   /* words one run touches: the spte target a few dozen */

struct word {
	sim_addr addr1;       /* addr + 1; 0: free */
	uint16_t owners;      /* CPUs that access it (a drain counts for its CPU) */
	uint16_t writers;
	uint32_t writes;      /* writes so far (pass 2) */
	uint64_t whash;       /* the sequence of writes */
	uint64_t rsum;        /* reads, each with the write it followed (commutative) */
	uint8_t pending[SIM_CPUS_MAX];   /* buffered stores not yet drained (pass 2) */
};

/*
 * RELAXED: a mirror of one CPU's stale table, rebuilt from the log with
 * sim.c's rules (the log records drains, locked writes and invalidations,
 * not the entries themselves): a store reaching memory leaves an entry in
 * every other running CPU without one for the word, the entries one store
 * leaves in one CPU form a group (merged with the groups of the CPU's
 * entries for the store's other word), a full table applies its oldest
 * entry's group first, smp_rmb, smp_mb, locked operations and the end of
 * the CPU apply them all, the invalidate agent's steps are logged one word
 * at a time.  seen: the word's writes count when the entry was made, so a
 * load that returns the stale value read from write number `seen`.
 */
struct stale_mirror {
	uint32_t count, groups;
	struct {
		sim_addr a;
		uint32_t group;
		uint32_t seen;
	} e[SIM_STALE_MAX];
};

struct level {
	uint32_t n;                        /* preemptions of this schedule */
	uint32_t steps[FZ_EXPLORE_DEPTH_MAX];
	uint8_t targets[FZ_EXPLORE_DEPTH_MAX];
	size_t trace_len;
	uint8_t agent[SIM_TRACE_MAX];
	uint32_t npoints;
	uint32_t point[SIM_TRACE_MAX];
	uint32_t cand[SIM_TRACE_MAX];      /* agents other than the default that may run */
};

struct explorer {
	struct fz_exec *x;
	const struct fz_options *o;
	const struct fz_explore_opts *eo;
	struct fz_explore_result *r;
	struct fz_program prog;
	struct fz_options opts;
	uint32_t cpus, agents;
	bool buffers;                      /* TSO, RELAXED: stores go through a buffer */
	bool relaxed;                      /* RELAXED: stale tables, invalidate agents */
	struct stale_mirror stale[SIM_CPUS_MAX];
	struct word *wt;
	uint32_t *wt_used;
	uint32_t wt_count;
	uint64_t *traces;                  /* set of trace hashes, open addressing */
	size_t traces_cap;
	uint8_t feedback[FZ_EXPLORE_FEEDBACK];
	uint8_t seen[FZ_EXPLORE_FEEDBACK];
	struct level *levels;
	uint8_t input[FZ_INPUT_MAX];
	size_t input_len;
	bool stop;
};

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static struct word *word_get(struct explorer *e, sim_addr a)
{
	uint32_t i = (uint32_t)mix(a) & (WT_SIZE - 1);

	for (;;) {
		struct word *w = &e->wt[i];

		if (w->addr1 == a + 1)
			return w;
		if (w->addr1 == 0) {
			if (e->wt_count >= WT_SIZE / 2)
				return NULL;   /* too many words: treated as shared */
			memset(w, 0, sizeof(*w));
			w->addr1 = a + 1;
			e->wt_used[e->wt_count++] = i;
			return w;
		}
		i = (i + 1) & (WT_SIZE - 1);
	}
}

static void words_clear(struct explorer *e)
{
	for (uint32_t i = 0; i < e->wt_count; i++)
		e->wt[e->wt_used[i]].addr1 = 0;
	e->wt_count = 0;
}

enum acc { ACC_NONE, ACC_READ, ACC_WRITE, ACC_BUFFERED };

/* What an event does to memory, and how many words from e->addr. */
static enum acc event_access(const struct explorer *e, const struct sim_event *ev, uint32_t *words)
{
	*words = 1;
	switch (ev->kind) {
	case SIM_EV_LOAD64:
		*words = 2;
		/* fall through */
	case SIM_EV_LOAD32:
		return ACC_READ;
	case SIM_EV_STORE64:
		*words = 2;
		/* fall through */
	case SIM_EV_STORE32:
	case SIM_EV_UNLOCK:
		return e->buffers ? ACC_BUFFERED : ACC_WRITE;
	case SIM_EV_DRAIN64:
	case SIM_EV_CMPXCHG64:
		*words = 2;
		return ACC_WRITE;
	case SIM_EV_DRAIN32:
	case SIM_EV_XCHG32:
	case SIM_EV_CMPXCHG32:
	case SIM_EV_AND32:
	case SIM_EV_OR32:
	case SIM_EV_LOCK:
		return ACC_WRITE;
	default:
		return ACC_NONE;
	}
}

static bool shared(const struct word *w)
{
	/* Someone writes it and more than one CPU touches it. */
	return !w || (w->writers && (w->owners & (w->owners - 1)));
}

/* The word's entry if pass 1 saw it (pass 2 must not add words). */
static struct word *word_find(struct explorer *e, sim_addr a)
{
	uint32_t i = (uint32_t)mix(a) & (WT_SIZE - 1);

	for (;;) {
		struct word *w = &e->wt[i];

		if (w->addr1 == a + 1)
			return w;
		if (w->addr1 == 0)
			return NULL;
		i = (i + 1) & (WT_SIZE - 1);
	}
}

/* ---- RELAXED: stale tables ---- */

/*
 * Does CPU cpu's view of word a matter: the word is shared and the CPU
 * itself reads or writes it in the run?  An entry for a word the CPU never
 * touches changes nothing it can observe.  A word pass 1 did not keep
 * (table full) counts.
 */
static bool stale_relevant(struct explorer *e, uint32_t cpu, sim_addr a)
{
	const struct word *w = word_find(e, a);

	if (!w)
		return e->wt_count >= WT_SIZE / 2;
	return shared(w) && (w->owners >> cpu & 1);
}

static int stale_find(const struct stale_mirror *m, sim_addr a)
{
	for (uint32_t i = 0; i < m->count; i++)
		if (m->e[i].a == a)
			return (int)i;
	return -1;
}

/* Drop the entries of word a, or of group g when g != 0. */
static void stale_drop(struct stale_mirror *m, sim_addr a, uint32_t g)
{
	uint32_t keep = 0;

	for (uint32_t i = 0; i < m->count; i++)
		if (g ? m->e[i].group != g : m->e[i].a != a)
			m->e[keep++] = m->e[i];
	m->count = keep;
}

/* Has CPU cpu an entry whose application it can observe? */
static bool stale_any_relevant(struct explorer *e, uint32_t cpu)
{
	const struct stale_mirror *m = &e->stale[cpu];

	for (uint32_t i = 0; i < m->count; i++)
		if (stale_relevant(e, cpu, m->e[i].a))
			return true;
	return false;
}

/*
 * smp_rmb, smp_mb, a locked operation, an IPI or its wait: CPU cpu applies
 * every entry.  Returns whether that changed something it observes.
 */
static bool stale_apply_all(struct explorer *e, uint32_t cpu)
{
	bool relevant = stale_any_relevant(e, cpu);

	e->stale[cpu].count = 0;
	return relevant;
}

/* CPU writer's store to words a .. a + words - 1 reaches memory (sim.c: stale_publish). */
static void stale_publish(struct explorer *e, uint32_t writer, uint32_t running, sim_addr a,
			  uint32_t words)
{
	for (uint32_t j = 0; j < e->cpus; j++) {
		struct stale_mirror *m = &e->stale[j];
		uint32_t group = 0, need;

		if (j == writer) {
			for (uint32_t k = 0; k < words; k++)
				stale_drop(m, a + k, 0);
			continue;
		}
		if (!(running >> j & 1))
			continue;
		for (;;) {
			need = 0;
			for (uint32_t k = 0; k < words; k++)
				need += stale_find(m, a + k) < 0;
			if (m->count + need <= SIM_STALE_MAX)
				break;
			stale_drop(m, 0, m->e[0].group);
		}
		for (uint32_t k = 0; k < words; k++) {
			int i = stale_find(m, a + k);

			if (i < 0)
				continue;
			if (!group) {
				group = m->e[i].group;
			} else if (m->e[i].group != group) {
				uint32_t from = m->e[i].group > group ? m->e[i].group : group;
				uint32_t to = m->e[i].group > group ? group : m->e[i].group;

				for (uint32_t t = 0; t < m->count; t++)
					if (m->e[t].group == from)
						m->e[t].group = to;
				group = to;
			}
		}
		for (uint32_t k = 0; k < words; k++) {
			const struct word *w;

			if (stale_find(m, a + k) >= 0)
				continue;
			if (!group)
				group = ++m->groups;
			w = word_find(e, a + k);
			m->e[m->count].a = a + k;
			m->e[m->count].group = group;
			m->e[m->count].seen = w ? w->writes : 0;
			m->count++;
		}
	}
}

static bool trace_insert(struct explorer *e, uint64_t h)
{
	size_t i;

	if (h == 0)
		h = 1;
	if (e->r->distinct * 2 >= e->traces_cap) {
		size_t cap = e->traces_cap ? e->traces_cap * 2 : 1 << 12;
		uint64_t *t = calloc(cap, sizeof(*t));

		assert(t);
		for (size_t j = 0; j < e->traces_cap; j++) {
			if (!e->traces[j])
				continue;
			for (i = mix(e->traces[j]) & (cap - 1); t[i]; i = (i + 1) & (cap - 1))
				;
			t[i] = e->traces[j];
		}
		free(e->traces);
		e->traces = t;
		e->traces_cap = cap;
	}
	for (i = mix(h) & (e->traces_cap - 1); e->traces[i]; i = (i + 1) & (e->traces_cap - 1))
		if (e->traces[i] == h)
			return false;
	e->traces[i] = h;
	e->r->distinct++;
	return true;
}

/*
 * Analyse the run just made: the agent of each step, the preemption points
 * after step `after` (all of them when after < 0) with their candidate
 * targets, and the run's trace hash.
 */
static uint64_t analyse(struct explorer *e, struct level *lv, int64_t after)
{
	struct sim *s = fz_exec_sim(e->x);
	const struct sim_event *log;
	size_t count, len;
	const uint8_t *agents = sim_agent_trace(s, &len);
	uint64_t steps = sim_steps(s), hash = 0, ipis = 0;
	bool ipi_run = false;
	uint32_t finished = 0;   /* CPUs finished before the current step */
	uint32_t buffered[SIM_CPUS_MAX] = { 0 };   /* store-buffer occupancy */

	log = sim_log(s, &count);
	lv->trace_len = len;
	memcpy(lv->agent, agents, len);
	lv->npoints = 0;
	words_clear(e);

	/* Pass 1: who touches which word. */
	for (size_t i = 0; i < count; i++) {
		const struct sim_event *ev = &log[i];
		uint32_t words;
		enum acc acc = event_access(e, ev, &words);

		if (ev->kind == SIM_EV_IPI)
			ipi_run = true;
		if (acc == ACC_NONE || acc == ACC_BUFFERED)
			continue;
		for (uint32_t k = 0; k < words; k++) {
			struct word *w = word_get(e, ev->addr + k);

			if (!w)
				continue;
			w->owners |= (uint16_t)(1u << ev->cpu);
			if (acc == ACC_WRITE)
				w->writers |= (uint16_t)(1u << ev->cpu);
		}
	}

	/*
	 * Pass 2, step by step: is the step visible, which agents could have
	 * taken it, and the trace hash.
	 */
	size_t i = 0;

	/* Annotations before the first step (and CPUs with nothing to do). */
	for (; i < count && log[i].step == 0; i++)
		if (log[i].kind == SIM_EV_FINISH)
			finished |= 1u << log[i].cpu;
	if (e->relaxed)
		memset(e->stale, 0, sizeof(e->stale));
	for (uint64_t step = 0; step < steps; step++) {
		uint32_t agent = step < len ? agents[step] : UINT32_MAX;
		bool visible = false;
		uint32_t cand = 0;

		/* Who could have taken this step instead. */
		for (uint32_t a = 0; a < e->agents; a++) {
			if (a == agent)
				continue;
			if (a < e->cpus) {
				if (!(finished >> a & 1))
					cand |= 1u << a;
			} else if (a < 2 * e->cpus) {
				/* An empty buffer cannot drain (the oldest store always may). */
				if (buffered[a - e->cpus])
					cand |= 1u << a;
			} else {
				/* RELAXED: an invalidate agent with an entry its CPU would notice. */
				if (stale_any_relevant(e, a - 2 * e->cpus))
					cand |= 1u << a;
			}
		}
		for (; i < count && log[i].step == step + 1; i++) {
			const struct sim_event *ev = &log[i];
			uint32_t words;
			enum acc acc = event_access(e, ev, &words);
			bool drain = ev->kind == SIM_EV_DRAIN32 || ev->kind == SIM_EV_DRAIN64;

			switch (ev->kind) {
			case SIM_EV_FINISH:
				finished |= 1u << ev->cpu;
				if (e->relaxed)
					e->stale[ev->cpu].count = 0;   /* nobody left to see them */
				continue;
			case SIM_EV_NOTE:
				continue;
			case SIM_EV_IPI:
			case SIM_EV_IPI_DONE:
				/* RELAXED: sending is a full barrier, the wait ends with an acquire. */
				if (e->relaxed)
					stale_apply_all(e, ev->cpu);
				visible = true;
				hash += mix(0x1b1ull << 40 | (uint64_t)ev->cpu << 32 | ipis++);
				continue;
			case SIM_EV_IRQ_ON:
			case SIM_EV_IRQ_OFF:
				visible |= ipi_run;
				continue;
			case SIM_EV_INVAL32:
				/* RELAXED: CPU ev->cpu now sees the word's memory value: a read. */
				if (e->relaxed) {
					int k = stale_find(&e->stale[ev->cpu], ev->addr);

					visible |= stale_relevant(e, ev->cpu, ev->addr);
					if (k >= 0)
						stale_drop(&e->stale[ev->cpu], ev->addr, 0);
				}
				continue;
			case SIM_EV_MB:
			case SIM_EV_RMB:
				/* RELAXED: every stale entry of the CPU goes (its drains are logged). */
				if (e->relaxed)
					visible |= stale_apply_all(e, ev->cpu);
				continue;
			case SIM_EV_XCHG32:
			case SIM_EV_CMPXCHG32:
			case SIM_EV_AND32:
			case SIM_EV_OR32:
			case SIM_EV_CMPXCHG64:
			case SIM_EV_LOCK:
				/*
				 * RELAXED: a full fence first (its drains are logged before
				 * it), then the write reaches memory at once (a cmpxchg only
				 * if it succeeded).
				 */
				if (e->relaxed) {
					visible |= stale_apply_all(e, ev->cpu);
					if (!((ev->kind == SIM_EV_CMPXCHG32 ||
					       ev->kind == SIM_EV_CMPXCHG64) && !ev->note))
						stale_publish(e, ev->cpu, ~finished, ev->addr, words);
				}
				break;
			default:
				break;
			}
			if (acc == ACC_BUFFERED)
				buffered[ev->cpu]++;
			else if (drain && buffered[ev->cpu])
				buffered[ev->cpu]--;
			if (drain && e->relaxed)
				stale_publish(e, ev->cpu, ~finished, ev->addr, words);
			for (uint32_t k = 0; k < words; k++) {
				struct word *w = word_get(e, ev->addr + k);
				uint32_t part = (uint32_t)(ev->value >> (32 * k));

				if (acc == ACC_BUFFERED) {
					if (w && w->pending[ev->cpu] < 255)
						w->pending[ev->cpu]++;
					continue;
				}
				if (acc == ACC_READ) {
					uint32_t from = w ? w->writes : 0;

					/* A load forwarded from the CPU's own buffer is local. */
					if (w && w->pending[ev->cpu])
						continue;
					visible |= shared(w);
					if (e->relaxed) {
						/* RELAXED: a stale value was written by an older write. */
						int st = stale_find(&e->stale[ev->cpu], ev->addr + k);

						if (st >= 0)
							from = e->stale[ev->cpu].e[st].seen;
					}
					if (w)
						w->rsum += mix(from * 0x10001ull ^
							       (uint64_t)ev->cpu << 56 ^
							       (uint64_t)ev->kind << 48 ^ part);
					continue;
				}
				if (acc != ACC_WRITE)
					continue;
				visible |= shared(w);
				if (!w)
					continue;
				if (drain && w->pending[ev->cpu])
					w->pending[ev->cpu]--;
				w->writes++;
				w->whash = mix(w->whash ^ ((uint64_t)(drain ? ev->cpu + SIM_CPUS_MAX
									    : ev->cpu) << 56 |
							   (uint64_t)ev->kind << 48 | part));
			}
		}
		if (visible && (int64_t)step > after && step < len && cand) {
			lv->point[lv->npoints] = (uint32_t)step;
			lv->cand[lv->npoints++] = cand;
		}
	}
	for (uint32_t w = 0; w < e->wt_count; w++) {
		const struct word *wd = &e->wt[e->wt_used[w]];

		hash += mix(mix(wd->addr1) ^ wd->whash ^ mix(wd->rsum));
	}
	return hash;
}

/* ---- schedules ---- */

size_t fz_explore_encode(const uint32_t *steps, const uint8_t *targets, uint32_t n,
			 const uint8_t *agent_at, size_t agent_len, uint8_t *out, size_t cap)
{
	size_t len = 0;
	uint32_t last = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t gap = steps[i] - last;

		assert(i == 0 || steps[i] > last);
		while (gap > 255) {
			/* A filler: switch to the agent that runs then anyway. */
			last += 255;
			gap -= 255;
			if (len + 2 > cap || last >= agent_len)
				return 0;
			out[len++] = 255;
			out[len++] = agent_at[last];
		}
		if (len + 2 > cap)
			return 0;
		out[len++] = (uint8_t)gap;
		out[len++] = targets[i];
		last = steps[i];
	}
	return len;
}

/* Run the schedule of lv (its preemptions; parent: the run it extends). */
static void run_schedule(struct explorer *e, const struct level *lv, const struct level *parent,
			 struct fz_result *res)
{
	size_t len = fz_explore_encode(lv->steps, lv->targets, lv->n,
				       parent ? parent->agent : NULL, parent ? parent->trace_len : 0,
				       e->prog.sched, sizeof(e->prog.sched));

	assert(lv->n == 0 || len > 0);
	e->prog.sched_len = len;
	if (e->opts.feedback)
		memset(e->feedback, 0, sizeof(e->feedback));
	fz_exec_run(e->x, &e->prog, &e->opts, res);
}

static void keep_input(struct explorer *e, uint8_t *out, size_t *out_len)
{
	*out_len = fz_encode(&e->prog, out, FZ_INPUT_MAX);
}

/* Account for one schedule's run; false when the search must stop. */
static bool account(struct explorer *e, const struct level *lv, const struct fz_result *res,
		    uint64_t hash)
{
	struct fz_explore_result *r = e->r;

	r->schedules++;
	if (lv->n > r->max_depth)
		r->max_depth = lv->n;
	trace_insert(e, hash);
	if (res->sim_result == SIM_DEADLOCK)
		r->deadlocks++;
	else if (res->sim_result == SIM_STEP_LIMIT)
		r->step_limits++;
	if (res->steps > SIM_TRACE_MAX)
		r->long_runs++;
	if (e->opts.feedback && e->eo->on_seed) {
		bool fresh = false;

		for (uint32_t i = 0; i < FZ_EXPLORE_FEEDBACK; i++)
			if (e->feedback[i] && !e->seen[i]) {
				e->seen[i] = 1;
				fresh = true;
			}
		if (fresh) {
			keep_input(e, e->input, &e->input_len);
			e->eo->on_seed(e->eo->ctx, e->input, e->input_len);
			r->seeds++;
		}
	}
	if (res->divergence) {
		if (!e->eo->report_known &&
		    fz_known_finding(e->prog.target, res->divergence_class, NULL)) {
			if (!r->known++)
				r->known_class = res->divergence_class;
		} else {
			r->divergence = true;
			r->divergence_depth = lv->n;
			r->res = *res;
			keep_input(e, r->input, &r->input_len);
			return false;
		}
	}
	if (r->schedules >= e->eo->budget && !(lv->n == 0 && e->eo->preemptions == 0)) {
		r->over_budget = true;
		return false;
	}
	return true;
}

/* The children of the schedule whose run is in levels[depth]. */
static void expand(struct explorer *e, uint32_t depth)
{
	struct level *lv = &e->levels[depth], *child = &e->levels[depth + 1];
	static struct fz_result res;

	if (depth >= e->eo->preemptions)
		return;
	for (uint32_t p = 0; p < lv->npoints && !e->stop; p++) {
		uint32_t step = lv->point[p];

		for (uint32_t t = 0; t < e->agents && !e->stop; t++) {
			if (!(lv->cand[p] >> t & 1))
				continue;
			child->n = lv->n + 1;
			memcpy(child->steps, lv->steps, lv->n * sizeof(lv->steps[0]));
			memcpy(child->targets, lv->targets, lv->n);
			child->steps[lv->n] = step;
			child->targets[lv->n] = (uint8_t)t;
			run_schedule(e, child, lv, &res);
			{
				size_t len;
				const uint8_t *ag = sim_agent_trace(fz_exec_sim(e->x), &len);

				if (step >= len || ag[step] != t) {
					/* t could not run: the scheduler took another agent. */
					e->r->duplicates++;
					continue;
				}
			}
			uint64_t hash = analyse(e, child, step);

			if (!account(e, child, &res, hash)) {
				e->stop = true;
				break;
			}
			expand(e, depth + 1);
		}
	}
}

/* e^k of the candidate counts: the number of schedules with k preemptions. */
static double estimate(const struct level *lv, uint32_t k_max)
{
	double e[FZ_EXPLORE_DEPTH_MAX + 1] = { 1 }, total = 0;

	for (uint32_t p = 0; p < lv->npoints; p++) {
		double c = __builtin_popcount(lv->cand[p]);

		for (uint32_t k = k_max; k >= 1; k--)
			e[k] += e[k - 1] * c;
	}
	for (uint32_t k = 0; k <= k_max; k++)
		total += e[k];
	return total;
}

static bool setup(struct explorer *e, struct fz_exec *x, const struct fz_program *p,
		  const struct fz_options *o, const struct fz_explore_opts *eo,
		  struct fz_explore_result *r)
{
	memset(r, 0, sizeof(*r));
	e->x = x;
	e->o = o;
	e->eo = eo;
	e->r = r;
	e->prog = *p;
	e->prog.sched_kind = SIM_SCHED_PREEMPT;
	e->prog.sched_len = 0;
	e->opts = *o;
	e->opts.log = true;
	e->opts.feedback = NULL;
	e->opts.feedback_size = 0;
	if (eo->on_seed) {
		e->opts.feedback = e->feedback;
		e->opts.feedback_size = FZ_EXPLORE_FEEDBACK;
	}
	e->buffers = p->mm != SIM_MM_SC;
	e->relaxed = p->mm == SIM_MM_RELAXED;
	e->wt = calloc(WT_SIZE, sizeof(*e->wt));
	e->wt_used = calloc(WT_SIZE, sizeof(*e->wt_used));
	e->levels = calloc(FZ_EXPLORE_DEPTH_MAX + 1, sizeof(*e->levels));
	return e->wt && e->wt_used && e->levels;
}

static void teardown(struct explorer *e)
{
	free(e->wt);
	free(e->wt_used);
	free(e->levels);
	free(e->traces);
	e->traces = NULL;
	e->traces_cap = 0;
}

/* The base run, analysed into levels[0]. */
static bool base(struct explorer *e, struct fz_result *res, uint64_t *hash, char *why,
		 size_t why_cap)
{
	struct sim *s;
	const struct sim_event *log;
	size_t count;
	uint32_t cpus = 0;

	if (e->eo->preemptions > FZ_EXPLORE_DEPTH_MAX) {
		snprintf(why, why_cap, "at most %d preemptions", FZ_EXPLORE_DEPTH_MAX);
		return false;
	}
	e->levels[0].n = 0;
	run_schedule(e, &e->levels[0], NULL, res);
	s = fz_exec_sim(e->x);
	log = sim_log(s, &count);
	/* Every CPU the executor spawns leaves an event, if only its end. */
	for (size_t i = 0; i < count; i++)
		if (log[i].cpu + 1u > cpus)
			cpus = log[i].cpu + 1u;
	if (count >= SIM_LOG_MAX) {
		snprintf(why, why_cap, "the run logs more than %d events; explore needs all of them",
			 SIM_LOG_MAX);
		return false;
	}
	if (res->steps > SIM_TRACE_MAX) {
		snprintf(why, why_cap,
			 "the run takes %llu steps; explore preempts runs of at most %d steps",
			 (unsigned long long)res->steps, SIM_TRACE_MAX);
		return false;
	}
	e->cpus = cpus;
	{
		struct sim_config c = { .cpus = cpus, .mm = e->prog.mm };

		e->agents = sim_agents_count(&c);
	}
	*hash = analyse(e, &e->levels[0], -1);
	e->r->points = e->levels[0].npoints;
	e->r->agents = e->agents;
	e->r->base_steps = res->steps;
	e->r->estimate = estimate(&e->levels[0], e->eo->preemptions);
	return true;
}

/*
 * A better estimate: run the schedules with one preemption (exact, and
 * cheap: one run per point and target) and count each one's descendants
 * from its own run's points.  Exact for K <= 1; for K = 2 it misses only
 * the grandchildren whose target turns out unable to run.
 */
static void estimate_refined(struct explorer *e, struct fz_result *res)
{
	struct level *lv = &e->levels[0], *child = &e->levels[1];
	uint32_t k = e->eo->preemptions;
	double total = 1;
	uint64_t runs = 0;

	if (k == 0)
		return;
	for (uint32_t p = 0; p < lv->npoints; p++) {
		for (uint32_t t = 0; t < e->agents; t++) {
			size_t len;
			const uint8_t *ag;

			if (!(lv->cand[p] >> t & 1))
				continue;
			if (++runs > e->eo->budget) {
				/* Even the first level is over budget: the base estimate says by how much. */
				return;
			}
			child->n = 1;
			child->steps[0] = lv->point[p];
			child->targets[0] = (uint8_t)t;
			run_schedule(e, child, lv, res);
			ag = sim_agent_trace(fz_exec_sim(e->x), &len);
			if (lv->point[p] >= len || ag[lv->point[p]] != t)
				continue;
			analyse(e, child, lv->point[p]);
			total += estimate(child, k - 1);
		}
	}
	e->r->estimate = total;
}

bool fz_explore_base(struct fz_exec *x, const struct fz_program *p, const struct fz_options *o,
		     const struct fz_explore_opts *eo, struct fz_explore_result *r, char *why,
		     size_t why_cap)
{
	static struct explorer e;
	static struct fz_result res;
	uint64_t hash;
	bool ok;

	memset(&e, 0, sizeof(e));
	if (!setup(&e, x, p, o, eo, r)) {
		teardown(&e);
		snprintf(why, why_cap, "out of memory");
		return false;
	}
	ok = base(&e, &res, &hash, why, why_cap);
	if (ok)
		estimate_refined(&e, &res);
	teardown(&e);
	return ok;
}

void fz_explore(struct fz_exec *x, const struct fz_program *p, const struct fz_options *o,
		const struct fz_explore_opts *eo, struct fz_explore_result *r)
{
	static struct explorer e;
	static struct fz_result res;
	char why[200];
	uint64_t hash;

	memset(&e, 0, sizeof(e));
	if (!setup(&e, x, p, o, eo, r) || !base(&e, &res, &hash, why, sizeof(why))) {
		teardown(&e);
		return;
	}
	if (account(&e, &e.levels[0], &res, hash))
		expand(&e, 0);
	teardown(&e);
}
