/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The "stress" baseline of ./spterace bench detect: what a kernel developer
 * would otherwise run.  The split-spte protocol of mmu/spte.c, unchanged,
 * on real POSIX threads and real memory (baseline/native_sim.c maps the
 * accessors to plain x86 accesses), in the style of the kernel's torture
 * tests: one writer under the (implicit) mmu_lock cycling an spte through
 * sets, in-place updates, clears and kvm_set_pte_rmapp rewrites, and
 * readers spinning on mmu_spte_get_lockless.
 *
 * The writer only ever stores values of three frames above 4 GiB, and its
 * rewrites go A -> B -> C -> A: A and B have equal low halves (A -> 0 -> B
 * is the ABA that clear_spte_count exists for), B and C differ in both.
 * The oracle rule is the platform's, for this value set: a read that
 * returns a present value must return one of the three frames (a
 * same-frame blend of W or A bits is benign); any other present value is
 * torn.
 *
 * Usage: stress [--mutant=NAME] [--time=SECONDS] [--seed=N] [--readers=N]
 *               [--artifact=FILE]
 * Prints "stress: divergence after N executions, M ms" (an execution is
 * one lockless read) and exits 1, or "stress: no divergence in N
 * executions, S s" and exits 0.  A mutant this loop cannot express (one of
 * the full model, or one that needs a lockless writer) exits 3.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mmu/mmu.h"

struct sim *native_sim(void);
void native_sim_set_cpu(uint32_t cpu);

#define PFN_A 0x712345ull
#define PFN_B 0x812345ull
#define PFN_C 0x71abcdull
#define READERS_MAX 8

static struct kvm kvm;
static sim_addr S0;
static atomic_bool stop;
static atomic_ullong reads;
static atomic_ullong torn_value;
static atomic_bool torn;
static uint64_t seed = 1;

static uint64_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static uint64_t leaf(uint64_t pfn, uint64_t flags)
{
	return pfn << PAGE_SHIFT | PT_PRESENT_MASK | PT_USER_MASK | SPTE_HOST_WRITEABLE | flags;
}

static bool legal(uint64_t v)
{
	uint64_t pfn;

	if (!is_shadow_present_pte(&kvm, v))
		return true;
	pfn = spte_to_pfn(v);
	return pfn == PFN_A || pfn == PFN_B || pfn == PFN_C;
}

/* The writer: the one lock holder. */
static void *writer(void *arg)
{
	uint64_t s = seed * 0x9e3779b97f4a7c15ull | 1, pfn = PFN_A;

	(void)arg;
	native_sim_set_cpu(0);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t cur = mmu_spte_read_locked(&kvm, S0), r = next(&s);

		if (!is_shadow_present_pte(&kvm, cur)) {
			mmu_spte_set(&kvm, S0, leaf(pfn, r & 1 ? PT_ACCESSED_MASK : 0));
			continue;
		}
		switch (r % 4) {
		case 0:   /* in place, same frame: W and A/D bits change (W2 or W3) */
			mmu_spte_update(&kvm, S0, leaf(pfn, (r >> 8 & 1 ? PT_WRITABLE_MASK : 0) |
							    (r >> 9 & 1 ? PT_ACCESSED_MASK : 0) |
							    (r >> 10 & 1 ? PT_DIRTY_MASK : 0)));
			break;
		case 1:   /* drop_spte */
			mmu_spte_clear_track_bits(&kvm, S0);
			break;
		default:  /* kvm_set_pte_rmapp to the next frame: present -> 0 -> present */
			pfn = pfn == PFN_A ? PFN_B : pfn == PFN_B ? PFN_C : PFN_A;
			kvm_set_pte_rmapp_one(&kvm, S0, pfn, false);
			break;
		}
	}
	return NULL;
}

static void *reader(void *arg)
{
	native_sim_set_cpu((uint32_t)(uintptr_t)arg);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t v = mmu_spte_get_lockless(&kvm, S0);

		atomic_fetch_add_explicit(&reads, 1, memory_order_relaxed);
		if (!legal(v)) {
			atomic_store(&torn_value, v);
			atomic_store(&torn, true);
			atomic_store(&stop, true);
		}
	}
	return NULL;
}

/* The mutants of the writer and reader protocol that this loop exercises. */
static bool expressible(enum mmu_mutant m)
{
	switch (m) {
	case MMU_MUTANT_NONE:
	case MMU_MUTANT_NO_CLEAR_COUNT:
	case MMU_MUTANT_SET_SPTE_LOW_FIRST:
	case MMU_MUTANT_READER_NO_LOW_RECHECK:
	case MMU_MUTANT_READER_NO_COUNT_RECHECK:
	case MMU_MUTANT_SET_PTE_RMAPP_NO_CLEAR:
		return true;
	default:
		return false;
	}
}

static int usage(const char *why)
{
	fprintf(stderr, "stress: %s (usage: [--mutant=NAME] [--time=SECONDS] [--seed=N] "
			"[--readers=N] [--artifact=FILE])\n", why);
	return 2;
}

int main(int argc, char **argv)
{
	enum mmu_mutant mutant = MMU_MUTANT_NONE;
	const char *artifact = NULL;
	double limit = 60, elapsed;
	unsigned readers = 1;
	pthread_t w, r[READERS_MAX];
	struct timespec t0, now;

	for (int i = 1; i < argc; i++) {
		char *end;

		if (strncmp(argv[i], "--mutant=", 9) == 0) {
			mutant = mmu_mutant_by_name(argv[i] + 9);
			if (mutant == MMU_MUTANT_COUNT)
				return usage("unknown mutant");
		} else if (strncmp(argv[i], "--time=", 7) == 0) {
			limit = strtod(argv[i] + 7, &end);
			if (*end || limit <= 0)
				return usage("--time takes a positive number of seconds");
		} else if (strncmp(argv[i], "--seed=", 7) == 0) {
			seed = strtoull(argv[i] + 7, &end, 10);
			if (*end)
				return usage("--seed takes a number");
		} else if (strncmp(argv[i], "--readers=", 10) == 0) {
			readers = (unsigned)strtoul(argv[i] + 10, &end, 10);
			if (*end || readers < 1 || readers > READERS_MAX)
				return usage("--readers takes 1 to 8");
		} else if (strncmp(argv[i], "--artifact=", 11) == 0) {
			artifact = argv[i] + 11;
		} else {
			return usage("unknown option");
		}
	}
	if (!expressible(mutant)) {
		fprintf(stderr, "stress: mutant %s is outside this baseline (it needs the full model "
				"or a lockless writer)\n", mmu_mutant_info(mutant)->name);
		return 3;
	}
	mmu_init(&kvm, native_sim(), MMU_HOST_32, mutant, NULL, NULL);
	S0 = mmu_sptep(0, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&w, NULL, writer, NULL);
	for (unsigned i = 0; i < readers; i++)
		pthread_create(&r[i], NULL, reader, (void *)(uintptr_t)(i + 1));
	do {
		usleep(1000);
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
	} while (!atomic_load(&stop) && elapsed < limit);
	atomic_store(&stop, true);
	pthread_join(w, NULL);
	for (unsigned i = 0; i < readers; i++)
		pthread_join(r[i], NULL);
	if (atomic_load(&torn)) {
		fprintf(stderr, "stress: divergence after %llu executions, %lld ms: torn read %016llx\n",
			(unsigned long long)atomic_load(&reads), (long long)(elapsed * 1000),
			(unsigned long long)atomic_load(&torn_value));
		if (artifact) {
			FILE *f = fopen(artifact, "wx");

			if (f) {
				fprintf(f, "mutant %s: torn read %016llx\n", mmu_mutant_info(mutant)->name,
					(unsigned long long)atomic_load(&torn_value));
				fclose(f);
			}
		}
		return 1;
	}
	fprintf(stderr, "stress: no divergence in %llu executions, %.0f s\n",
		(unsigned long long)atomic_load(&reads), elapsed);
	return 0;
}
