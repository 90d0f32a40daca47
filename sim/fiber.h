/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fibers for the simulated CPUs: a hand-written x86-64 context switch with
 * the ASan, MSan and TSan fiber annotations, and ucontext as a portable
 * fallback.  Plain swapcontext under ASan hides stack bugs in frames that
 * live across a yield (docs/fuzz-infra.md 6.4), so the fallback is only used
 * where there is no x86-64 switch.
 *
 * Rules for using fibers:
 *  - One "host" context (the scheduler) switches to fibers and back; fibers
 *    never switch to each other.
 *  - A fiber leaves for the last time through fiber_exit(), never by
 *    returning from its entry function.
 */
#ifndef SPTERACE_SIM_FIBER_H
#define SPTERACE_SIM_FIBER_H

#include <stddef.h>

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

struct fiber {
	void *sp;                /* saved stack pointer (x86-64 switch) */
#if !defined(__x86_64__)
	ucontext_t uc;
#endif
	unsigned char *stack;    /* lowest usable address */
	size_t stack_size;
	void *asan_fake_stack;   /* ASan fake stack saved while switched out */
	void *tsan_fiber;
	void (*entry)(void *);
	void *arg;
};

struct fiber_host {
	void *sp;
#if !defined(__x86_64__)
	ucontext_t uc;
#endif
	const void *stack_bottom; /* learned from ASan on the first switch */
	size_t stack_size;
	void *asan_fake_stack;
	void *tsan_fiber;
};

/* Allocate an mmap'd stack with a PROT_NONE guard page below it. */
int fiber_alloc(struct fiber *f, size_t stack_size);
void fiber_release(struct fiber *f);
/* Prepare f to run entry(arg) from the top of its stack on the next switch. */
void fiber_prepare(struct fiber *f, void (*entry)(void *), void *arg);
/* Host side: run f until it switches back. */
void fiber_switch_to(struct fiber_host *h, struct fiber *f);
/* Fiber side: return to the host; resumes here on the next fiber_switch_to. */
void fiber_yield(struct fiber *f, struct fiber_host *h);
/* Fiber side: return to the host for the last time. */
__attribute__((noreturn)) void fiber_exit(struct fiber *f, struct fiber_host *h);

#endif
