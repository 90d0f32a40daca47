/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz/explore: bounded-exhaustive schedule search, CHESS-style preemption
 * bounding, over one program (`./spterace explore`).
 *
 * The program's operations and configuration are kept, its schedule is
 * replaced by a preemption list (sim/sim.h, SIM_SCHED_PREEMPT), and every
 * list of at most K preemptions is run: a schedule is a list of (absolute
 * step, target agent) pairs with increasing steps; its children add one
 * more preemption at a later step of its own run.  Only steps that another
 * agent can observe are preemption points:
 *
 *   - an access to a word that another CPU (or its store buffer) also
 *     accesses in the run, with at least one write among them; under x86-TSO
 *     a CPU's buffered store and a load it forwards from its own buffer are
 *     local, the store becomes visible at its drain step;
 *   - a fence or locked operation that drains a store (TSO), a lock, an
 *     IPI, its wait, and interrupt enabling when the run sends IPIs.
 *
 * Under the relaxed model (SIM_MM_RELAXED) stores are buffered as under
 * TSO and a drain (any eligible entry: the youngest under the preemption
 * list) is the write to memory.  What a CPU sees also depends on its stale
 * table, which the analysis rebuilds from the log with the simulator's
 * rules (a write reaching memory leaves an entry in every other running
 * CPU, groups, the 8-entry limit):
 *   - an invalidate agent's step on a word is a read-side event of its CPU
 *     on that word: visible if the word is shared and the CPU itself
 *     accesses it in the run (an entry for a word the CPU never touches
 *     changes nothing it can observe);
 *   - smp_rmb, smp_mb, locked operations, an IPI and its wait apply every
 *     entry of their CPU: visible if one of them is such a word;
 *   - smp_wmb only marks the buffer (it changes no entry's eligibility):
 *     invisible;
 *   - a load that returns a stale value read from the write that was in
 *     memory when the entry was made (for the trace hash).
 * The invalidate agent of a CPU is a candidate when it holds an entry of
 * such a word; a drain agent when its buffer is not empty (its oldest
 * store may always drain).
 *
 * A fence or locked operation that drains nothing and touches no shared
 * word commutes with every other agent's step, so preempting before it is
 * the same as preempting before the running agent's next visible step.
 * Targets that cannot run at that step (a finished CPU, an empty store
 * buffer, an invalidate agent with nothing its CPU would notice) are not
 * tried; a target that turns out blocked (a lock, a retry wait) makes the
 * scheduler pick another agent, which is some other schedule already
 * counted: such runs are counted as duplicates, not schedules, and not
 * expanded.
 *
 * Distinct interleavings are counted by a Mazurkiewicz-trace hash: per
 * word, the sequence of writes (agent, kind, value) and, for every load
 * not forwarded from the CPU's own buffer, the write it read from (the
 * last one in memory, or under RELAXED the one its stale entry kept).
 */
#ifndef SPTERACE_FUZZ_EXPLORE_H
#define SPTERACE_FUZZ_EXPLORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz/program.h"

#define FZ_EXPLORE_DEPTH_MAX 8
#define FZ_EXPLORE_FEEDBACK 4096

struct fz_explore_opts {
	uint32_t preemptions;     /* K */
	uint64_t budget;          /* at most this many schedules */
	bool report_known;        /* stop on known findings too */
	/*
	 * --seeds: run with interleaving feedback and call on_seed with every
	 * input whose run sets a counter no earlier run set.
	 */
	void (*on_seed)(void *ctx, const uint8_t *input, size_t len);
	void *ctx;
};

struct fz_explore_result {
	/* The base run (no preemption). */
	uint32_t points;          /* its preemption points */
	uint32_t agents;
	uint64_t base_steps;
	double estimate;          /* schedules with at most K preemptions, from the base run */
	/* The search. */
	uint64_t schedules;       /* schedules run, duplicates excluded */
	uint64_t duplicates;      /* runs whose target could not run (not counted above) */
	uint64_t distinct;        /* distinct interleavings (trace hashes) */
	uint64_t known;           /* runs that diverged as a recorded finding */
	const char *known_class;  /* the class of the first of them */
	uint64_t deadlocks, step_limits;
	uint64_t long_runs;       /* runs longer than SIM_TRACE_MAX steps */
	uint64_t seeds;           /* on_seed calls */
	uint32_t max_depth;       /* most preemptions of a schedule run */
	bool over_budget;         /* stopped: the budget ran out */
	bool divergence;          /* stopped at a divergence */
	uint32_t divergence_depth;
	struct fz_result res;     /* the divergent run */
	uint8_t input[FZ_INPUT_MAX];   /* the divergent input */
	size_t input_len;
};

/*
 * Run the base schedule and fill points, agents, base_steps and estimate
 * (K = o->preemptions).  The program's schedule is ignored.  Returns false
 * (with a one-line reason in why) when the program cannot be explored.
 */
bool fz_explore_base(struct fz_exec *x, const struct fz_program *p, const struct fz_options *o,
		     const struct fz_explore_opts *eo, struct fz_explore_result *r, char *why,
		     size_t why_cap);

/* The whole search (calls fz_explore_base first). */
void fz_explore(struct fz_exec *x, const struct fz_program *p, const struct fz_options *o,
		const struct fz_explore_opts *eo, struct fz_explore_result *r);

/*
 * The schedule bytes of a preemption list: (gap, target) pairs, with a
 * filler pair (255, the agent that runs then) for every 255 steps of a
 * longer gap.  agent_at gives the agent of each step of the run the list
 * extends (steps < SIM_TRACE_MAX).  Returns the length, 0 if it does not
 * fit in cap.
 */
size_t fz_explore_encode(const uint32_t *steps, const uint8_t *targets, uint32_t n,
			 const uint8_t *agent_at, size_t agent_len, uint8_t *out, size_t cap);

#endif
