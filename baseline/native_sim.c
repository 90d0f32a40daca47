/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sim/ accessor API on real memory and real threads, for the "stress"
 * baseline of ./spterace bench detect.  mmu/spte.c links against it
 * unchanged: every accessor is the plain access an x86 host would do.
 *
 *   sim_load32/store32      volatile 32-bit accesses (atomic when aligned)
 *   sim_load64/store64      one 64-bit access (cmpxchg8b-free: x86-64 movq)
 *   sim_xchg32, sim_and32, sim_cmpxchg32/64
 *                           lock-prefixed read-modify-writes
 *   sim_smp_mb              mfence; sim_smp_wmb/rmb: compiler barriers, as
 *                           on x86 where TSO already orders what they order
 *   interrupts, notes       nothing (no IPI is ever sent here)
 *   sim_retry_wait          a pause: some other thread will store
 *
 * Only what mmu/spte.c uses is provided, so the linker never needs sim/.
 */
#include "sim/sim.h"

#include <sched.h>
#include <stdatomic.h>

static uint32_t memory[SIM_MEM_WORDS] __attribute__((aligned(64)));
static _Thread_local uint32_t this_cpu;

struct sim {
	int unused;
};

static struct sim the_sim;

struct sim *native_sim(void)
{
	return &the_sim;
}

void native_sim_set_cpu(uint32_t cpu)
{
	this_cpu = cpu;
}

uint32_t *native_sim_memory(void)
{
	return memory;
}

#define BARRIER() __asm__ __volatile__("" ::: "memory")

/* sptes sit at even word addresses of a 64-byte aligned array: 8-aligned. */
#define WORD64(a) ((volatile uint64_t *)&memory[(a)])

uint32_t sim_load32(struct sim *s, sim_addr a)
{
	(void)s;
	return __atomic_load_n(&memory[a], __ATOMIC_RELAXED);
}

void sim_store32(struct sim *s, sim_addr a, uint32_t v)
{
	(void)s;
	__atomic_store_n(&memory[a], v, __ATOMIC_RELAXED);
}

uint64_t sim_load64(struct sim *s, sim_addr a)
{
	(void)s;
	return *WORD64(a);   /* one movq */
}

void sim_store64(struct sim *s, sim_addr a, uint64_t v)
{
	(void)s;
	*WORD64(a) = v;
}

uint32_t sim_xchg32(struct sim *s, sim_addr a, uint32_t v)
{
	(void)s;
	return __atomic_exchange_n(&memory[a], v, __ATOMIC_SEQ_CST);
}

uint32_t sim_and32(struct sim *s, sim_addr a, uint32_t mask)
{
	(void)s;
	return __atomic_fetch_and(&memory[a], mask, __ATOMIC_SEQ_CST);
}

uint32_t sim_cmpxchg32(struct sim *s, sim_addr a, uint32_t old, uint32_t v)
{
	(void)s;
	__atomic_compare_exchange_n(&memory[a], &old, v, false, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	return old;
}

uint64_t sim_cmpxchg64(struct sim *s, sim_addr a, uint64_t old, uint64_t v)
{
	(void)s;
	return __sync_val_compare_and_swap((uint64_t *)&memory[a], old, v);   /* lock cmpxchg */
}

void sim_smp_mb(struct sim *s)
{
	(void)s;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void sim_smp_wmb(struct sim *s)
{
	(void)s;
	BARRIER();
}

void sim_smp_rmb(struct sim *s)
{
	(void)s;
	BARRIER();
}

void sim_irq_disable(struct sim *s)
{
	(void)s;
}

void sim_irq_enable(struct sim *s)
{
	(void)s;
}

void sim_note(struct sim *s, uint16_t note, sim_addr a, uint64_t value, uint64_t arg)
{
	(void)s; (void)note; (void)a; (void)value; (void)arg;
}

/* Interleaving feedback is the fuzzers' business: nothing to record here. */
void sim_site(struct sim *s, uint8_t site)
{
	(void)s; (void)site;
}

uint16_t sim_load_tag(const struct sim *s)
{
	(void)s;
	return 0;
}

void sim_feedback(struct sim *s, uint32_t key)
{
	(void)s; (void)key;
}

uint64_t sim_last_step(const struct sim *s)
{
	(void)s;
	return 0;
}

uint64_t sim_last_load_since(const struct sim *s)
{
	(void)s;
	return 0;
}

uint64_t sim_retry_mark(struct sim *s)
{
	(void)s;
	return 0;
}

void sim_retry_wait(struct sim *s, uint64_t mark)
{
	(void)s; (void)mark;
	__builtin_ia32_pause();
}

uint32_t sim_current_cpu(const struct sim *s)
{
	(void)s;
	return this_cpu;
}
