/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Two-dimensional minimization of a diverging input: first the operations,
 * then the schedule (preemptions, or schedule bytes).  Every candidate is
 * encoded canonically and decoded again before it runs, so what is checked
 * is exactly what will be written; the PRNG seed is a hash of those bytes.
 * A candidate is kept only if it reproduces the same divergence: the same
 * verdict kind and the same divergence class.
 */
#include "fuzz/program.h"

#include <string.h>

struct min_ctx {
	struct fz_exec *x;
	const struct fz_options *o;
	enum fz_target target;
	enum orc_kind kind;
	const char *divergence_class;
	uint32_t runs;
	uint8_t buf[FZ_INPUT_MAX];
};

static bool same_divergence(struct min_ctx *m, const struct fz_program *candidate, size_t *len)
{
	static struct fz_program decoded;
	struct fz_result r;

	*len = fz_encode(candidate, m->buf, sizeof(m->buf));
	fz_decode(m->target, m->buf, *len, &decoded);
	fz_exec_run(m->x, &decoded, m->o, &r);
	m->runs++;
	return r.divergence && r.verdict.kind == m->kind &&
	       strcmp(r.divergence_class, m->divergence_class) == 0;
}

static void remove_op(struct fz_program *p, uint32_t i)
{
	memmove(&p->ops[i], &p->ops[i + 1], (p->ops_count - i - 1) * sizeof(p->ops[0]));
	p->ops_count--;
}

static void remove_sched(struct fz_program *p, size_t at, size_t n)
{
	memmove(&p->sched[at], &p->sched[at + n], p->sched_len - at - n);
	p->sched_len -= n;
}

/*
 * Remove preemption (gap, target) at `at` but keep every later preemption
 * at the step it had: its gap absorbs the removed one.  Returns false if
 * the merged gap does not fit a byte.
 */
static bool remove_preemption(struct fz_program *p, size_t at)
{
	if (at + 3 < p->sched_len) {
		unsigned merged = p->sched[at] + p->sched[at + 2];

		if (merged > 255)
			return false;
		p->sched[at + 2] = (uint8_t)merged;
	}
	remove_sched(p, at, 2);
	return true;
}

/* Write an agent-per-step sequence as a preemption list into out. */
static bool agents_to_preemptions(const uint8_t *agents, size_t steps, struct fz_program *out)
{
	size_t last = 0, n = 0;
	uint8_t current = 0;

	out->sched_kind = SIM_SCHED_PREEMPT;
	for (size_t k = 0; k < steps; k++) {
		if (agents[k] == current)
			continue;
		/* Gaps longer than a byte go in hops that keep the agent. */
		for (; k - last > 255; last += 255) {
			if (n + 2 > FZ_SCHED_MAX)
				return false;
			out->sched[n++] = 255;
			out->sched[n++] = current;
		}
		if (n + 2 > FZ_SCHED_MAX)
			return false;
		out->sched[n++] = (uint8_t)(k - last);
		out->sched[n++] = agents[k];
		last = k;
		current = agents[k];
	}
	out->sched_len = n;
	return true;
}

/*
 * Run p and record, for each step up to the first divergence, the agent
 * that took it and the operation that CPU was running (-1 for a drain).
 */
static size_t record_steps(struct min_ctx *m, const struct fz_program *p, uint8_t *agents,
			   int16_t *ops)
{
	struct fz_options o = *m->o;
	struct fz_result r;
	const struct sim_event *log;
	const uint8_t *trace;
	size_t steps, count;
	int16_t cur_op[SIM_CPUS_MAX];

	o.log = true;
	fz_exec_run(m->x, p, &o, &r);
	m->runs++;
	trace = sim_agent_trace(fz_exec_sim(m->x), &steps);
	if (steps >= SIM_TRACE_MAX)
		return 0;
	if (r.divergence && r.verdict.end < steps)
		steps = (size_t)r.verdict.end;
	memcpy(agents, trace, steps);
	for (uint32_t c = 0; c < SIM_CPUS_MAX; c++)
		cur_op[c] = -1;
	log = sim_log(fz_exec_sim(m->x), &count);
	for (size_t i = 0, k = 0; i < count && k < steps; i++) {
		const struct sim_event *e = &log[i];

		if (e->kind == SIM_EV_NOTE && e->note == FZ_NOTE_OP && e->cpu < SIM_CPUS_MAX) {
			cur_op[e->cpu] = (int16_t)e->value;
			continue;
		}
		if (e->kind == SIM_EV_NOTE || e->kind == SIM_EV_FINISH || e->step != k + 1)
			continue;
		ops[k] = agents[k] < p->cpus ? cur_op[agents[k]] : -1;
		k++;
	}
	return steps;
}

/*
 * The program without operation i, keeping the interleaving of every other
 * step: the run's agent sequence minus the steps op i took, as a
 * preemption list.  Removing an operation this way does not disturb how
 * the rest interleave, which a plain removal (later steps shift under a
 * fixed schedule) does.
 */
static bool remove_op_keeping_interleaving(struct min_ctx *m, const struct fz_program *p,
					   uint32_t i, struct fz_program *out)
{
	static uint8_t agents[SIM_TRACE_MAX], kept[SIM_TRACE_MAX];
	static int16_t ops[SIM_TRACE_MAX];
	size_t steps = record_steps(m, p, agents, ops), n = 0;

	if (!steps)
		return false;
	for (size_t k = 0; k < steps; k++)
		if (!(agents[k] == p->ops[i].cpu && ops[k] == (int16_t)i))
			kept[n++] = agents[k];
	*out = *p;
	remove_op(out, i);
	return agents_to_preemptions(kept, n, out);
}

/* The run of p re-expressed as a preemption list (seed-independent). */
static bool as_preemption_list(struct min_ctx *m, const struct fz_program *p,
			       struct fz_program *out)
{
	static uint8_t agents[SIM_TRACE_MAX];
	static int16_t ops[SIM_TRACE_MAX];
	size_t steps = record_steps(m, p, agents, ops);

	*out = *p;
	return steps && agents_to_preemptions(agents, steps, out);
}

/*
 * Shrink p in place: pass 1 removes operations, pass 2 shrinks the
 * schedule (preemptions, or schedule bytes); each can unlock the other, so
 * they alternate until neither removes anything.
 */
static void shrink(struct min_ctx *m, struct fz_program *best)
{
	static struct fz_program cand;
	bool progress;
	size_t len;

	do {
		bool any = false;

		do {
			progress = false;
			for (uint32_t i = best->ops_count; i-- > 0;) {
				cand = *best;
				remove_op(&cand, i);
				if (same_divergence(m, &cand, &len) ||
				    (best->sched_kind == SIM_SCHED_PREEMPT &&
				     remove_op_keeping_interleaving(m, best, i, &cand) &&
				     same_divergence(m, &cand, &len))) {
					*best = cand;
					progress = any = true;
				}
			}
		} while (progress);

		if (best->sched_kind == SIM_SCHED_PREEMPT) {
			do {
				progress = false;
				for (size_t at = best->sched_len & ~(size_t)1; at >= 2;) {
					at -= 2;
					cand = *best;
					if (remove_preemption(&cand, at) && same_divergence(m, &cand, &len)) {
						*best = cand;
						progress = any = true;
					}
				}
			} while (progress);
		} else {
			/* Shortest prefix first, then single bytes. */
			size_t lo = 0, hi = best->sched_len;

			while (lo < hi) {
				size_t mid = (lo + hi) / 2;

				cand = *best;
				cand.sched_len = mid;
				if (same_divergence(m, &cand, &len))
					hi = mid;
				else
					lo = mid + 1;
			}
			if (hi < best->sched_len) {
				best->sched_len = hi;
				any = true;
			}
			do {
				progress = false;
				for (size_t at = best->sched_len; at-- > 0;) {
					cand = *best;
					remove_sched(&cand, at, 1);
					if (same_divergence(m, &cand, &len)) {
						*best = cand;
						progress = any = true;
					}
				}
			} while (progress);
		}
		progress = any;
	} while (progress);
}

static size_t encoded_len(const struct fz_program *p)
{
	return (fz_program_needs_ext(p) ? FZ_HEADER_BYTES_EXT : FZ_HEADER_BYTES) +
	       p->ops_count * FZ_OP_BYTES + p->sched_len;
}

/* a is a better result than b: fewer operations, then fewer bytes. */
static bool better(const struct fz_program *a, const struct fz_program *b)
{
	return a->ops_count < b->ops_count ||
	       (a->ops_count == b->ops_count && encoded_len(a) < encoded_len(b));
}

bool fz_minimize(struct fz_exec *x, enum fz_target target, const struct fz_options *o,
		 const uint8_t *data, size_t size, uint8_t *out, size_t *out_size,
		 struct fz_min_stats *stats)
{
	static struct min_ctx m;
	static struct fz_program orig, best, alt;
	struct fz_result r;
	size_t len;

	memset(stats, 0, sizeof(*stats));
	stats->size_before = size;
	fz_decode(target, data, size, &orig);
	stats->ops_before = orig.ops_count;
	stats->sched_before = orig.sched_len;
	fz_exec_run(x, &orig, o, &r);
	m.x = x;
	m.o = o;
	m.target = target;
	m.runs = 1;
	if (!r.divergence)
		return false;
	m.kind = r.verdict.kind;
	m.divergence_class = r.divergence_class;

	best = orig;
	if (same_divergence(&m, &orig, &len)) {
		/*
		 * Two candidates: the program with its own schedule, and with
		 * the schedule its run took written as a preemption list.  Each
		 * is shrunk; the one with fewer operations that is not longer
		 * than the input wins.
		 */
		shrink(&m, &best);
		if (as_preemption_list(&m, &orig, &alt) && same_divergence(&m, &alt, &len)) {
			shrink(&m, &alt);
			if (encoded_len(&alt) <= size && (better(&alt, &best) || encoded_len(&best) > size))
				best = alt;
		}
	}
	len = fz_encode(&best, out, FZ_INPUT_MAX);
	if (len > size || (len == size && best.ops_count >= orig.ops_count)) {
		/* Never grow: the original bytes are at least as small. */
		memcpy(out, data, size);
		len = size;
		best = orig;
	}
	*out_size = len;
	stats->size_after = len;
	stats->ops_after = best.ops_count;
	stats->sched_after = best.sched_len;
	stats->runs = m.runs;
	return true;
}
