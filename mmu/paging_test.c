/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Goal: shadow paging (FNAME(page_fault) and FNAME(fetch) of Linux 3.11)
 * builds, for every guest paging mode, shadow translations that the
 * reference translation allows: the same host frame, and no permission the
 * guest's own tables do not grant; guest page tables end up write-protected
 * (or their leaf pages unsync), and the structural invariants hold after
 * every fault.
 *
 * Method: one simulated CPU; a guest with a four-, three- or two-level
 * table chain mapping a few pages with assorted permissions; faults with
 * every access type; after each, the shadow tables are walked privately
 * and compared with the oracle's translation of the same guest memory.
 */
#include "mmu/shadow.h"

#include <stdio.h>
#include <string.h>

#include "oracle/walk.h"
#include "testing/check.h"
#include "testing/on_cpu.h"

enum { P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80 };
#define XD (1ull << 63)

static struct sim *sim;
static struct kvm kvm;
static struct kvm_shadow sh;
static struct kvm_guest guest;
static struct kvm_vcpu_mmu vm;
static char why[256];

static const uint64_t GFN_L4 = 0x10, GFN_L3 = 0x11, GFN_L2 = 0x12, GFN_L1 = 0x13;

static bool read_sim(void *ctx, uint64_t gpa, uint64_t *out, unsigned bytes)
{
	(void)ctx;
	return guest_peek_gpa(sim, &guest, gpa, out, bytes);
}

static void put(uint64_t gfn, unsigned index, uint64_t v, unsigned bytes)
{
	guest_init_entry(sim, &guest, gfn, index, v, bytes);
}

/* The pages the guest maps: index in the last table, target gfn, flags. */
static const struct { unsigned index; uint64_t gfn; uint64_t flags; } maps[] = {
	{ 0, 0x100, P | RW | US | A | D },
	{ 1, 0x101, P | US | A },              /* read-only user */
	{ 2, 0x102, P | RW | A },              /* supervisor only, clean */
	{ 3, 0x103, P | RW | US | A | D | XD },/* no execute */
	{ 7, GFN_L1, P | RW | US | A | D },    /* the guest's own page table */
	{ 8, GFN_L2, P | RW | US | A | D },    /* its page directory: never unsync */
	{ 9, 0x20000, P | RW | US | A | D },   /* an MMIO hole */
};

static uint64_t gva_of(unsigned index)
{
	return (5ull << 21) | ((uint64_t)index << 12);
}

static uint64_t gva32_of(unsigned index)
{
	return (5ull << 22) | ((uint64_t)index << 12);
}

static enum guest_paging mode;
static uint32_t fault_error;
static uint64_t fault_gva;
static int fault_ret;
static uint32_t fault_guest_error;
static void on_cpu(void (*fn)(void))
{
	on_cpu_run(sim, fn, false, 0);
}

static void do_load_roots(void)
{
	sim_spin_lock(sim, MMU_ADDR_LOCK);
	mmu_alloc_shadow_roots_locked(&kvm, &sh, &guest, &vm);
	kvm_mmu_sync_roots_locked(&kvm, &sh, &guest, &vm);
	sim_spin_unlock(sim, MMU_ADDR_LOCK);
}

static void do_fault(void)
{
	fault_guest_error = 0;
	fault_ret = kvm_shadow_page_fault(&kvm, &sh, &guest, &vm, fault_gva, fault_error,
					  &fault_guest_error);
}

static void check_invariants(void)
{
	const struct kvm_vcpu_mmu *vcpus[] = { &vm };
	int n = kvm_shadow_check(sim, &kvm, &sh, &guest, vcpus, 1, why, sizeof(why));

	if (n)
		fprintf(stderr, "invariant R%d: %s\n", n, why);
	CHECK_EQ_U64(n, 0);
}

static void setup(enum guest_paging m, enum mmu_host_width width, bool wp)
{
	struct sim_config c = { .cpus = 1, .mm = SIM_MM_TSO, .sched = SIM_SCHED_PREEMPT };
	unsigned bytes = m == GUEST_PAGING_32 ? 4 : 8;
	uint64_t cr3 = 0, pdptrs[4] = { 0 };

	if (!sim)
		sim = sim_new();
	sim_reset(sim, &c);
	mmu_init(&kvm, sim, width, MMU_MUTANT_NONE, NULL, NULL);
	kvm_shadow_init(&sh);
	guest_init(&guest);
	guest_add_memslot(&guest, 0, 0x1000, 0x7000000);
	mode = m;
	kvm_vcpu_mmu_init(&vm, GUEST_PAGING_OFF, false, width);
	switch (m) {
	case GUEST_PAGING_64:
		cr3 = GFN_L4 << PAGE_SHIFT;
		put(GFN_L4, 0, (GFN_L3 << PAGE_SHIFT) | P | RW | US | A, 8);
		put(GFN_L3, 0, (GFN_L2 << PAGE_SHIFT) | P | RW | US | A, 8);
		break;
	case GUEST_PAGING_PAE:
		cr3 = GFN_L3 << PAGE_SHIFT;
		pdptrs[0] = (GFN_L2 << PAGE_SHIFT) | P;
		put(GFN_L3, 0, pdptrs[0], 8);
		break;
	default:
		cr3 = GFN_L2 << PAGE_SHIFT;
		break;
	}
	put(GFN_L2, 5, (GFN_L1 << PAGE_SHIFT) | P | RW | US | A, bytes);
	for (unsigned i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		uint64_t flags = maps[i].flags;

		if (bytes == 4)
			flags &= 0xffffffffull;   /* no XD in two-level paging */
		put(GFN_L1, maps[i].index, (maps[i].gfn << PAGE_SHIFT) | flags, bytes);
	}
	vm.root_hpa = INVALID_PAGE;
	kvm_vcpu_mmu_set_paging(&vm, m, cr3, pdptrs, true, wp, false, width);
	on_cpu(do_load_roots);
	check_invariants();
}

/* Every present shadow leaf for gva is allowed by the reference translation. */
static bool shadow_allowed(uint64_t gva, unsigned access, char *msg, size_t cap)
{
	struct orc_cpu_state cpu = { .mode = (enum orc_paging)mode, .cr3 = vm.ctx.cr3,
				     .cr0_wp = vm.ctx.cr0_wp, .cr4_pse = true,
				     .efer_nxe = vm.ctx.nx, .maxphyaddr = MMU_PHYS_BITS };
	struct orc_translation t;
	uint64_t spte, pfn;
	int level = 0;

	memcpy(cpu.pdptr, vm.ctx.pdptrs, sizeof(cpu.pdptr));
	orc_translate(&cpu, read_sim, NULL, gva, access, &t);
	spte = shadow_translate_peek(sim, &kvm, &vm, gva, &level);
	if (!spte)
		return true;   /* nothing mapped: nothing to allow */
	if (!t.leaf) {
		snprintf(msg, cap, "gva %llx: shadow maps %llx, the guest maps nothing",
			 (unsigned long long)gva, (unsigned long long)spte);
		return false;
	}
	if (!guest_gfn_to_pfn(&guest, t.gpa >> PAGE_SHIFT, &pfn) || spte_to_pfn(spte) != pfn) {
		snprintf(msg, cap, "gva %llx: shadow pfn %llx, guest gpa %llx", (unsigned long long)gva,
			 (unsigned long long)spte_to_pfn(spte), (unsigned long long)t.gpa);
		return false;
	}
	if ((spte & PT_WRITABLE_MASK) && !t.writable) {
		snprintf(msg, cap, "gva %llx: shadow writable, guest not", (unsigned long long)gva);
		return false;
	}
	if ((spte & PT_USER_MASK) && !t.user) {
		snprintf(msg, cap, "gva %llx: shadow user, guest supervisor", (unsigned long long)gva);
		return false;
	}
	if (!(spte & PT64_NX_MASK) && !t.executable && !(access & ORC_ACC_USER)) {
		snprintf(msg, cap, "gva %llx: shadow executable, guest not", (unsigned long long)gva);
		return false;
	}
	return true;
}

static const uint32_t accesses[] = {
	0, PFERR_WRITE_MASK, PFERR_USER_MASK, PFERR_USER_MASK | PFERR_WRITE_MASK, PFERR_FETCH_MASK,
};

static void faults_agree_with_reference(enum guest_paging m, enum mmu_host_width width, bool wp)
{
	char msg[256];

	setup(m, width, wp);
	for (unsigned ai = 0; ai < sizeof(accesses) / sizeof(accesses[0]); ai++) {
		for (unsigned i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
			uint64_t gva = m == GUEST_PAGING_32 ? gva32_of(maps[i].index) : gva_of(maps[i].index);
			unsigned acc = (accesses[ai] & PFERR_WRITE_MASK ? ORC_ACC_WRITE : 0) |
				       (accesses[ai] & PFERR_USER_MASK ? ORC_ACC_USER : 0) |
				       (accesses[ai] & PFERR_FETCH_MASK ? ORC_ACC_FETCH : 0);

			fault_gva = gva;
			fault_error = accesses[ai];
			on_cpu(do_fault);
			check_invariants();
			if (!shadow_allowed(gva, acc, msg, sizeof(msg))) {
				printf("  %s (mode %d, access %x)\n", msg, m, accesses[ai]);
				CHECK(0);
			}
		}
	}
	/* The guest's page tables are write-protected in the shadow (or unsync leaves). */
	{
		int level;
		uint64_t gva = m == GUEST_PAGING_32 ? gva32_of(7) : gva_of(7);
		uint64_t spte = shadow_translate_peek(sim, &kvm, &vm, gva, &level);

		bool unsync = false;

		for (uint32_t i = 0; i < MMU_SP_MAX; i++)
			if (sh.pages[i].allocated && !sh.pages[i].role.direct &&
			    sh.pages[i].gfn == GFN_L1 && sh.pages[i].role.level == 1)
				unsync |= sh.pages[i].unsync;
		CHECK(spte != 0);
		/* Writable only if the leaf table it maps went unsync (mmu_need_write_protect). */
		CHECK(!(spte & PT_WRITABLE_MASK) || unsync);
		/* An upper-level table is never writable through the shadow. */
		spte = shadow_translate_peek(sim, &kvm, &vm,
					     m == GUEST_PAGING_32 ? gva32_of(8) : gva_of(8), &level);
		CHECK(spte != 0);
		CHECK(!(spte & PT_WRITABLE_MASK));
		/* Every RAM page the guest maps got a shadow translation. */
		for (unsigned i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
			uint64_t g = m == GUEST_PAGING_32 ? gva32_of(maps[i].index) : gva_of(maps[i].index);
			uint64_t leaf = shadow_translate_peek(sim, &kvm, &vm, g, &level);

			CHECK(maps[i].gfn >= 0x1000 || leaf != 0);
		}
	}
}

static void long_mode_shadow_translations_are_allowed(void)
{
	faults_agree_with_reference(GUEST_PAGING_64, MMU_HOST_64, true);
	faults_agree_with_reference(GUEST_PAGING_64, MMU_HOST_64, false);
}

static void pae_shadow_translations_are_allowed_on_32_bit_host(void)
{
	faults_agree_with_reference(GUEST_PAGING_PAE, MMU_HOST_32, true);
	faults_agree_with_reference(GUEST_PAGING_PAE, MMU_HOST_32, false);
}

static void two_level_shadow_translations_are_allowed(void)
{
	faults_agree_with_reference(GUEST_PAGING_32, MMU_HOST_32, true);
	faults_agree_with_reference(GUEST_PAGING_32, MMU_HOST_64, false);
}

static void guest_fault_is_injected_not_fixed(void)
{
	setup(GUEST_PAGING_64, MMU_HOST_64, true);
	fault_gva = gva_of(1);
	fault_error = PFERR_WRITE_MASK | PFERR_USER_MASK;   /* read-only user page */
	on_cpu(do_fault);
	CHECK_EQ_U64(fault_ret, 0);
	CHECK_EQ_U64(fault_guest_error, PFERR_PRESENT_MASK | PFERR_WRITE_MASK | PFERR_USER_MASK);
}


static void guest_large_page_on_large_host_page_maps_large_spte(void)
{
	int level = 0;
	uint64_t spte, gva = (6ull << 21) | (3ull << 12);

	setup(GUEST_PAGING_64, MMU_HOST_64, true);
	/* The host backs guest memory with 2M pages; the guest maps pde 6 as 2M. */
	guest.slots[0].host_level = PT_DIRECTORY_LEVEL;
	put(GFN_L2, 6, (0x200ull << PAGE_SHIFT) | P | RW | US | A | D | PS, 8);
	fault_gva = gva;
	fault_error = PFERR_WRITE_MASK;
	on_cpu(do_fault);
	check_invariants();
	spte = shadow_translate_peek(sim, &kvm, &vm, gva, &level);
	CHECK_EQ_U64(level, 2);
	CHECK(spte & PT_PAGE_SIZE_MASK);
	CHECK_EQ_U64(spte_to_pfn(spte), 0x7000000 + 0x200);
	/* A shadowed table inside the frame forbids the large mapping (lpage_info). */
	setup(GUEST_PAGING_64, MMU_HOST_64, true);
	guest.slots[0].host_level = PT_DIRECTORY_LEVEL;
	put(GFN_L2, 6, (0x0ull << PAGE_SHIFT) | P | RW | US | A | D | PS, 8);   /* frame 0 holds the tables */
	fault_gva = gva;
	on_cpu(do_fault);
	check_invariants();
	spte = shadow_translate_peek(sim, &kvm, &vm, gva, &level);
	CHECK_EQ_U64(level, 1);
}

TEST_MAIN(TEST(long_mode_shadow_translations_are_allowed),
	  TEST(pae_shadow_translations_are_allowed_on_32_bit_host),
	  TEST(two_level_shadow_translations_are_allowed),
	  TEST(guest_fault_is_injected_not_fixed),
	  TEST(guest_large_page_on_large_host_page_maps_large_spte))
