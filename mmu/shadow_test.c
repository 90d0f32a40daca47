/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Goal: the shadow-page machinery keeps its structural invariants (R1-R5
 * of mmu/README.md) through faults, unmaps, zaps and root changes, and the
 * direct map translates every faulted gfn to the host pfn of its memslot.
 * Method: one simulated CPU runs sequences of locked operations; between
 * them the test walks the shadow tables privately and runs the checker.
 */
#include "mmu/shadow.h"

#include <string.h>

#include "testing/check.h"
#include "testing/on_cpu.h"

static struct sim *sim;
static struct kvm kvm;
static struct kvm_shadow sh;
static struct kvm_guest guest;
static struct kvm_vcpu_mmu vm;

static void setup(bool tdp, enum mmu_host_width width)
{
	struct sim_config c = { .cpus = 1, .mm = SIM_MM_TSO, .sched = SIM_SCHED_PREEMPT };

	if (!sim)
		sim = sim_new();
	sim_reset(sim, &c);
	mmu_init(&kvm, sim, width, MMU_MUTANT_NONE, NULL, NULL);
	kvm_shadow_init(&sh);
	guest_init(&guest);
	guest_add_memslot(&guest, 0, 0x800, 0x7000000);       /* above 4 GiB */
	guest_add_memslot(&guest, 0x40000, 0x400, 0x100200);
	kvm_vcpu_mmu_init(&vm, GUEST_PAGING_OFF, tdp, width);
}

/* Run fn as one locked operation on the simulated CPU. */
static void locked(void (*fn)(void))
{
	on_cpu_run(sim, fn, true, MMU_ADDR_LOCK);
}

static char why[256];

static void check_invariants(void)
{
	const struct kvm_vcpu_mmu *vcpus[] = { &vm };
	int n = kvm_shadow_check(sim, &kvm, &sh, &guest, vcpus, 1, why, sizeof(why));

	if (n)
		fprintf(stderr, "invariant R%d: %s\n", n, why);
	CHECK_EQ_U64(n, 0);
}

static void pte_list_add_remove_restores_empty(void)
{
	unsigned long head = 0;

	kvm_shadow_init(&sh);
	for (sim_addr a = 2; a <= 40; a += 2) {
		int before = (int)a / 2 - 1, ret = pte_list_add(&sh, &head, a);

		/*
		 * pte_list_add returns the entries before it, except that when
		 * it starts a new descriptor it does not count the full one
		 * before (as 3.11 does; only rmap recycling reads the value).
		 */
		CHECK(ret == before || (ret == before - PTE_LIST_EXT && before % PTE_LIST_EXT == 0));
		CHECK_EQ_U64(pte_list_count(&sh, head), a / 2);
	}
	for (sim_addr a = 2; a <= 40; a += 2)
		CHECK(pte_list_contains(&sh, head, a));
	/* Remove from the middle, the ends, then everything. */
	for (sim_addr a = 20; a >= 2; a -= 2) {
		pte_list_remove(&sh, &head, a);
		CHECK(!pte_list_contains(&sh, head, a));
	}
	for (sim_addr a = 40; a > 20; a -= 2)
		pte_list_remove(&sh, &head, a);
	CHECK_EQ_U64(head, 0);
	for (unsigned i = 0; i < PTE_LIST_DESC_MAX; i++)
		CHECK(!sh.descs[i].used);
}

static uint64_t fault_gpa;
static int fault_level;
static uint64_t unmap_gfn;

static void do_roots(void) { mmu_alloc_direct_roots_locked(&kvm, &sh, &vm); }
static void do_fault(void) { kvm_direct_map_locked(&kvm, &sh, &guest, &vm, fault_gpa, true, fault_level); }
static void do_unmap(void) { kvm_unmap_gfn_locked(&kvm, &sh, &guest, unmap_gfn); }
static void do_free_roots(void) { mmu_free_roots_locked(&kvm, &sh, &vm); }

static void fault(uint64_t gpa, int level)
{
	fault_gpa = gpa;
	fault_level = level;
	locked(do_fault);
	check_invariants();
}

static void direct_map_translates_to_memslot_pfn(bool tdp, enum mmu_host_width width)
{
	static const uint64_t gfns[] = { 0x1, 0x2, 0x3ff, 0x400, 0x7ff, 0x40000, 0x40001, 0x403ff };
	int level;

	setup(tdp, width);
	locked(do_roots);
	check_invariants();
	for (unsigned i = 0; i < sizeof(gfns) / sizeof(gfns[0]); i++)
		fault(gfns[i] << PAGE_SHIFT, PT_PAGE_TABLE_LEVEL);
	for (unsigned i = 0; i < sizeof(gfns) / sizeof(gfns[0]); i++) {
		uint64_t pfn = 0, spte;

		CHECK(guest_gfn_to_pfn(&guest, gfns[i], &pfn));
		spte = shadow_translate_peek(sim, &kvm, &vm, gfns[i] << PAGE_SHIFT, &level);
		CHECK_EQ_U64(spte_to_pfn(spte), pfn);
		CHECK_EQ_U64(level, 1);
		CHECK(spte & PT_WRITABLE_MASK);
	}
	/* A gfn outside every memslot gets no spte. */
	fault(0x20000ull << PAGE_SHIFT, PT_PAGE_TABLE_LEVEL);
	CHECK_EQ_U64(shadow_translate_peek(sim, &kvm, &vm, 0x20000ull << PAGE_SHIFT, &level), 0);

	/* An unmap drops exactly that gfn. */
	unmap_gfn = 0x400;
	locked(do_unmap);
	check_invariants();
	CHECK_EQ_U64(shadow_translate_peek(sim, &kvm, &vm, 0x400ull << PAGE_SHIFT, &level), 0);
	CHECK(shadow_translate_peek(sim, &kvm, &vm, 0x3ffull << PAGE_SHIFT, &level) != 0);
	/* Refault, then free the roots: every page goes back. */
	fault(0x400ull << PAGE_SHIFT, PT_PAGE_TABLE_LEVEL);
	locked(do_free_roots);
	CHECK_EQ_U64(vm.root_hpa, INVALID_PAGE);
}

static uint64_t hier_addr, hier_sptes[4];
static int hier_count;

static void do_hierarchy(void)
{
	hier_count = kvm_mmu_get_spte_hierarchy(&kvm, &vm, hier_addr, hier_sptes);
}

static void spte_hierarchy_reads_each_level_down_to_the_first_non_present(void)
{
	uint64_t pfn = 0;

	setup(true, MMU_HOST_64);   /* a four-level TDP-style root */
	locked(do_roots);
	fault(0x3ffull << PAGE_SHIFT, PT_PAGE_TABLE_LEVEL);
	hier_addr = 0x3ffull << PAGE_SHIFT;
	on_cpu_run(sim, do_hierarchy, false, MMU_ADDR_LOCK);
	CHECK_EQ_U64(hier_count, 4);
	CHECK(guest_gfn_to_pfn(&guest, 0x3ff, &pfn));
	CHECK_EQ_U64(spte_to_pfn(hier_sptes[0]), pfn);
	for (int level = 2; level <= 4; level++)
		CHECK(is_shadow_present_pte(&kvm, hier_sptes[level - 1]) &&
		      !is_last_spte(hier_sptes[level - 1], level));
	/*
	 * A page of the same page table outside the prefetch group (0x3f8..
	 * 0x3ff, which __direct_pte_prefetch mapped): the walk ends at its
	 * empty leaf.
	 */
	hier_addr = 0x3f0ull << PAGE_SHIFT;
	on_cpu_run(sim, do_hierarchy, false, MMU_ADDR_LOCK);
	CHECK_EQ_U64(hier_count, 4);
	CHECK_EQ_U64(hier_sptes[0], 0);
	/* Another 1G region: the root entry itself is empty. */
	hier_addr = 0x40000ull << PAGE_SHIFT;
	on_cpu_run(sim, do_hierarchy, false, MMU_ADDR_LOCK);
	CHECK_EQ_U64(hier_count, 2);
	CHECK_EQ_U64(hier_sptes[2], 0);
}

static void nonpaging_direct_map_on_32_bit_host_keeps_invariants(void)
{
	direct_map_translates_to_memslot_pfn(false, MMU_HOST_32);
}

static void tdp_direct_map_on_64_bit_host_keeps_invariants(void)
{
	direct_map_translates_to_memslot_pfn(true, MMU_HOST_64);
}

static void large_mapping_replaces_table_pointer_and_unlinks_child(void)
{
	int level;
	uint64_t spte;

	setup(true, MMU_HOST_64);
	locked(do_roots);
	fault(0x200ull << PAGE_SHIFT, PT_PAGE_TABLE_LEVEL);
	fault(0x201ull << PAGE_SHIFT, PT_PAGE_TABLE_LEVEL);
	/* A 2 MiB mapping of the same range: mmu_set_spte drops the PT pointer. */
	fault(0x200ull << PAGE_SHIFT, PT_DIRECTORY_LEVEL);
	spte = shadow_translate_peek(sim, &kvm, &vm, 0x201ull << PAGE_SHIFT, &level);
	CHECK_EQ_U64(level, 2);
	CHECK(spte & PT_PAGE_SIZE_MASK);
	CHECK(sh.remote_flushes >= 1);
}


static void checker_reports_each_broken_invariant(void)
{
	const struct kvm_vcpu_mmu *vcpus[] = { &vm };
	uint64_t gfn = 0x3;
	unsigned long *head;
	sim_addr leaf;
	uint32_t spi;
	int level;

	setup(true, MMU_HOST_64);
	locked(do_roots);
	fault(gfn << PAGE_SHIFT, PT_PAGE_TABLE_LEVEL);
	CHECK_EQ_U64(kvm_shadow_check(sim, &kvm, &sh, &guest, vcpus, 1, why, sizeof(why)), 0);

	/* R1: a present leaf missing from its rmap. */
	head = gfn_to_rmap(&sh, gfn, 1, false);
	CHECK(head && *head);
	leaf = (sim_addr)*head;
	pte_list_remove(&sh, head, leaf);
	CHECK_EQ_U64(kvm_shadow_check(sim, &kvm, &sh, &guest, vcpus, 1, why, sizeof(why)), 1);
	pte_list_add(&sh, head, leaf);

	/* R5: the used-page count drifts. */
	sh.n_used_mmu_pages++;
	CHECK_EQ_U64(kvm_shadow_check(sim, &kvm, &sh, &guest, vcpus, 1, why, sizeof(why)), 5);
	sh.n_used_mmu_pages--;

	/* R4: a table pointer into a page that was freed. */
	spi = page_header_of_sptep(leaf);
	sh.pages[spi].allocated = false;
	CHECK_EQ_U64(kvm_shadow_check(sim, &kvm, &sh, &guest, vcpus, 1, why, sizeof(why)), 4);
	sh.pages[spi].allocated = true;
	CHECK(shadow_translate_peek(sim, &kvm, &vm, gfn << PAGE_SHIFT, &level) != 0);
	CHECK_EQ_U64(kvm_shadow_check(sim, &kvm, &sh, &guest, vcpus, 1, why, sizeof(why)), 0);
}

/*
 * Two CPUs: CPU 1 is vCPU 1, a lockless walker reading the 4K spte of a
 * level-1 shadow page again and again between walk_shadow_page_lockless_
 * begin and _end; CPU 0 zaps every page (kvm_mmu_invalidate_zap_all_pages).
 * The walker records whether the page was freed while it held it.
 */
static uint32_t walked_sp;
static sim_addr walked_sptep;
static bool read_freed_page;

static void zap_or_walk(struct sim *s, uint32_t cpu, void *arg)
{
	(void)arg;
	if (cpu == 0) {
		kvm_mmu_invalidate_zap_all_pages(&kvm, &sh);
		return;
	}
	uint64_t first_read = 0;

	walk_shadow_page_lockless_begin(&kvm, 1);
	for (int i = 0; i < 3; i++) {
		mmu_spte_get_lockless(&kvm, walked_sptep);
		if (!first_read)
			first_read = sim_last_step(s);
		/*
		 * Freed after the walk's first read, when the walker held the
		 * page (a real walker reaches a page freed before that through
		 * a cleared pointer, never).
		 */
		read_freed_page |= !sh.pages[walked_sp].allocated &&
				   sh.freed_step[walked_sp] > first_read;
	}
	walk_shadow_page_lockless_end(&kvm, 1);
}

static void map_one_page(void)
{
	mmu_alloc_direct_roots_locked(&kvm, &sh, &vm);
	kvm_direct_map_locked(&kvm, &sh, &guest, &vm, 0x5000, true, PT_PAGE_TABLE_LEVEL);
}

/* The walker's page is in use from the walker's first read; no zap frees it before. */
static unsigned zap_during_walks(enum mmu_mutant mutant, enum sim_mm mm, unsigned runs)
{
	unsigned bad = 0;

	for (unsigned seed = 0; seed < runs; seed++) {
		/*
		 * Random byte-stream schedules, and for the first runs a
		 * preemption list: the walker runs `seed` steps, then the
		 * zapper runs to its end, then the walker finishes.
		 */
		uint8_t list[4] = { 0, 1, (uint8_t)seed, 0 };
		struct sim_config c = { .cpus = 2, .mm = mm, .sched = SIM_SCHED_BYTES,
					.seed = seed + 1 };
		int level = 0;

		if (seed < 16) {
			c.sched = SIM_SCHED_PREEMPT;
			c.sched_bytes = list;
			c.sched_len = sizeof(list);
		}

		setup(false, MMU_HOST_32);
		kvm.mutant = mutant;
		kvm.nr_vcpus = 2;
		vm.vcpu_id = 1;
		locked(map_one_page);
		CHECK(shadow_translate_peek(sim, &kvm, &vm, 0x5000, &level) != 0);
		CHECK_EQ_U64(level, 1);
		walked_sptep = sp_spt(0);
		for (uint32_t i = 0; i < MMU_SP_MAX; i++)
			if (sh.pages[i].allocated && sh.pages[i].role.level == 1)
				walked_sp = i;
		walked_sptep = sp_spt(walked_sp) + 2 * 5;
		read_freed_page = false;
		sim_reset_keep_memory(sim, &c);
		sim_spawn(sim, 0, zap_or_walk, NULL);
		sim_spawn(sim, 1, zap_or_walk, NULL);
		CHECK(sim_run(sim) == SIM_DONE);
		bad += read_freed_page;
	}
	return bad;
}

static void zap_all_waits_for_lockless_walkers_under_sc_and_tso(void)
{
	CHECK_EQ_U64(zap_during_walks(MMU_MUTANT_NONE, SIM_MM_SC, 300), 0);
	CHECK_EQ_U64(zap_during_walks(MMU_MUTANT_NONE, SIM_MM_TSO, 300), 0);
}

static void zap_frees_under_a_walker_without_the_wait(void)
{
	CHECK(zap_during_walks(MMU_MUTANT_ZAP_NO_WAIT_WALKERS, SIM_MM_SC, 300) > 0);
}

static void walker_without_mb_is_missed_only_under_tso(void)
{
	CHECK_EQ_U64(zap_during_walks(MMU_MUTANT_LOCKLESS_BEGIN_NO_MB, SIM_MM_SC, 300), 0);
	CHECK(zap_during_walks(MMU_MUTANT_LOCKLESS_BEGIN_NO_MB, SIM_MM_TSO, 300) > 0);
}

static void zap_frees_under_a_walker_the_request_skips(void)
{
	CHECK(zap_during_walks(MMU_MUTANT_REQUEST_SKIPS_WALKERS, SIM_MM_SC, 300) > 0);
}

static void zap_frees_under_a_walker_with_interrupts_on(void)
{
	CHECK(zap_during_walks(MMU_MUTANT_LOCKLESS_WALK_IRQS_ON, SIM_MM_SC, 300) > 0);
}

TEST_MAIN(TEST(pte_list_add_remove_restores_empty),
	  TEST(walker_without_mb_is_missed_only_under_tso),
	  TEST(zap_all_waits_for_lockless_walkers_under_sc_and_tso),
	  TEST(zap_frees_under_a_walker_without_the_wait),
	  TEST(nonpaging_direct_map_on_32_bit_host_keeps_invariants),
	  TEST(tdp_direct_map_on_64_bit_host_keeps_invariants),
	  TEST(large_mapping_replaces_table_pointer_and_unlinks_child),
	  TEST(checker_reports_each_broken_invariant),
	  TEST(zap_frees_under_a_walker_the_request_skips),
	  TEST(zap_frees_under_a_walker_with_interrupts_on),
	  TEST(spte_hierarchy_reads_each_level_down_to_the_first_non_present))
