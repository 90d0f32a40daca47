/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tests of the model: run one step of a scenario on simulated CPU 0,
 * keeping memory from the previous step (only the scheduler restarts).
 */
#ifndef SPTERACE_TESTING_ON_CPU_H
#define SPTERACE_TESTING_ON_CPU_H

#include "sim/sim.h"
#include "testing/check.h"

static void (*on_cpu_fn)(void);
static bool on_cpu_locked;

static void on_cpu_entry(struct sim *s, uint32_t cpu, void *arg)
{
	sim_addr lock = (sim_addr)(uintptr_t)arg;

	(void)cpu;
	if (on_cpu_locked)
		sim_spin_lock(s, lock);
	on_cpu_fn();
	if (on_cpu_locked)
		sim_spin_unlock(s, lock);
}

/* Run fn on CPU 0 of s (x86-TSO); with lock_held, inside spin_lock(lock). */
static inline void on_cpu_run(struct sim *s, void (*fn)(void), bool lock_held, sim_addr lock)
{
	struct sim_config c = { .cpus = 1, .mm = SIM_MM_TSO, .sched = SIM_SCHED_PREEMPT };

	sim_reset_keep_memory(s, &c);
	on_cpu_fn = fn;
	on_cpu_locked = lock_held;
	sim_spawn(s, 0, on_cpu_entry, (void *)(uintptr_t)lock);
	CHECK(sim_run(s) == SIM_DONE);
}

#endif
