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

bool fz_minimize(struct fz_exec *x, enum fz_target target, const struct fz_options *o,
		 const uint8_t *data, size_t size, uint8_t *out, size_t *out_size,
		 struct fz_min_stats *stats)
{
	static struct min_ctx m;
	static struct fz_program best, cand;
	struct fz_result r;
	size_t len;
	bool progress;

	memset(stats, 0, sizeof(*stats));
	stats->size_before = size;
	fz_decode(target, data, size, &best);
	stats->ops_before = best.ops_count;
	stats->sched_before = best.sched_len;
	fz_exec_run(x, &best, o, &r);
	if (!r.divergence)
		return false;
	m.x = x;
	m.o = o;
	m.target = target;
	m.kind = r.verdict.kind;
	m.divergence_class = r.divergence_class;
	m.runs = 1;

	/* The canonical form may differ from the raw bytes (seed, trailing bytes). */
	if (!same_divergence(&m, &best, &len)) {
		/* Only the raw bytes reproduce: keep them as they are. */
		memcpy(out, data, size);
		*out_size = size;
		stats->size_after = size;
		stats->ops_after = best.ops_count;
		stats->sched_after = best.sched_len;
		stats->runs = m.runs;
		return true;
	}

	/*
	 * Write the schedule the run actually took as a preemption list: one
	 * (gap, agent) pair per switch of agent.  It replays the same run,
	 * does not depend on a PRNG seed (a byte-stream schedule that ran out
	 * continued on a PRNG seeded from the whole program, so removing any
	 * operation would reshuffle the rest), and is usually much shorter.
	 */
	{
		size_t steps;
		const uint8_t *agents;
		uint8_t current = 0;
		size_t last = 0, n = 0;
		bool fits = true;

		fz_exec_run(x, &best, o, &r);
		m.runs++;
		agents = sim_agent_trace(fz_exec_sim(x), &steps);
		/* Only the first divergence counts: later switches cannot matter. */
		if (r.divergence && r.verdict.end < steps)
			steps = (size_t)r.verdict.end;
		cand = best;
		cand.sched_kind = SIM_SCHED_PREEMPT;
		for (size_t k = 0; k < steps && fits; k++) {
			if (agents[k] == current)
				continue;
			/* Gaps longer than a byte go in hops that keep the agent. */
			while (k - last > 255 && fits) {
				fits = n + 2 <= FZ_SCHED_MAX;
				if (fits) {
					cand.sched[n++] = 255;
					cand.sched[n++] = current;
					last += 255;
				}
			}
			fits = fits && n + 2 <= FZ_SCHED_MAX;
			if (fits) {
				cand.sched[n++] = (uint8_t)(k - last);
				cand.sched[n++] = agents[k];
				last = k;
				current = agents[k];
			}
		}
		cand.sched_len = n;
		if (fits && steps < SIM_TRACE_MAX && same_divergence(&m, &cand, &len))
			best = cand;
	}

	/*
	 * Pass 1 removes operations, pass 2 shrinks the schedule; each can
	 * unlock the other, so they alternate until neither removes anything.
	 */
	do {
		bool any = false;

		do {
			progress = false;
			for (uint32_t i = best.ops_count; i-- > 0;) {
				cand = best;
				remove_op(&cand, i);
				if (same_divergence(&m, &cand, &len)) {
					best = cand;
					progress = any = true;
				}
			}
		} while (progress);

		if (best.sched_kind == SIM_SCHED_PREEMPT) {
			do {
				progress = false;
				for (size_t at = best.sched_len & ~(size_t)1; at >= 2;) {
					at -= 2;
					cand = best;
					if (remove_preemption(&cand, at) &&
					    same_divergence(&m, &cand, &len)) {
						best = cand;
						progress = any = true;
					}
				}
			} while (progress);
		} else {
			/* Shortest prefix first, then single bytes. */
			size_t lo = 0, hi = best.sched_len;

			while (lo < hi) {
				size_t mid = (lo + hi) / 2;

				cand = best;
				cand.sched_len = mid;
				if (same_divergence(&m, &cand, &len))
					hi = mid;
				else
					lo = mid + 1;
			}
			if (hi < best.sched_len) {
				best.sched_len = hi;
				any = true;
			}
			do {
				progress = false;
				for (size_t at = best.sched_len; at-- > 0;) {
					cand = best;
					remove_sched(&cand, at, 1);
					if (same_divergence(&m, &cand, &len)) {
						best = cand;
						progress = any = true;
					}
				}
			} while (progress);
		}
		progress = any;
	} while (progress);

	len = fz_encode(&best, out, FZ_INPUT_MAX);
	if (len >= size) {
		/* Never grow: the original bytes are at least as small. */
		memcpy(out, data, size);
		len = size;
		fz_decode(target, data, size, &best);
	}
	*out_size = len;
	stats->size_after = len;
	stats->ops_after = best.ops_count;
	stats->sched_after = best.sched_len;
	stats->runs = m.runs;
	return true;
}
