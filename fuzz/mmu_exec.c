/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The executor of the mmu target: one vCPU running a guest on the full
 * shadow MMU (shadow paging for 32-bit, PAE and long-mode guests, the
 * direct map for a guest with paging off), judged after every operation
 * against the oracle's reference translation and the structural
 * invariants of mmu/.
 *
 * The guest: one memslot of 4096 frames mapped above 4 GiB, with an MMIO
 * hole above it, and page tables for every paging mode (all built before
 * the run).  Its window of virtual addresses is two page tables of 16
 * entries (various permissions, one clean page, one non-executable page,
 * an MMIO hole, and the guest's own page tables mapped writable) and one
 * large page.  A vCPU access walks the shadow tables as the hardware does
 * (atomic 64-bit loads); when they do not allow it, the MMU's page-fault
 * handler runs, and its outcome (fixed, emulated, or a #PF injected into
 * the guest) is compared with the reference translation.
 *
 * Coherence rule: the architecture lets a guest see its old translation
 * after it writes a pte, until invlpg of the address or a cr3 load.  So
 * after a gpte write every address is "stale" until one of those; stale
 * addresses are not checked.  Everything else is checked after every
 * operation: every shadow leaf reachable from the root must map the host
 * frame of the guest's gfn with no permission the guest's tables deny.
 */
#include "fuzz/program.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "mmu/shadow.h"
#include "oracle/walk.h"

enum { P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80 };
#define XD (1ull << 63)

/* Guest frames holding page tables. */
enum {
	GFN_PML4_A = 0x10, GFN_PDPT = 0x11, GFN_PD = 0x12, GFN_PT0 = 0x13, GFN_PT1 = 0x14,
	GFN_PDPT_PAE = 0x15, GFN_PD32 = 0x16, GFN_PT32 = 0x17, GFN_PML4_B = 0x18,
};
#define WINDOW_PTES 16
#define MEMSLOT_PAGES 0x1000
#define RETRIES_MAX 4

struct mmu_world {
	struct sim *sim;
	struct kvm kvm;
	struct kvm_shadow sh;
	struct kvm_guest guest;
	struct kvm_vcpu_mmu vm;
	bool cr0_wp, nx, smep;
	bool use_b;                       /* long mode: cr3 is PML4 B */
	bool stale[3][WINDOW_PTES];        /* per window address, see the coherence rule */
	struct fz_result *res;
	const struct fz_program *prog;
};

static struct mmu_world *W;

/* The permissions of the window's 4K pages (entries 12..15 map page tables). */
static const uint64_t window_flags[WINDOW_PTES] = {
	P | RW | US | A | D, P | US | A, P | RW | A, P | RW | US | A | D | XD,
	P | RW | US | A, P | RW | US, P | US | A | D, P | RW | A | D,
	P | RW | US | A | D, 0, P | RW | US | A | D, P | RW | US | A | D,
	P | RW | A | D, P | RW | A | D, P | RW | A | D, P | RW | A | D,
};

static uint64_t window_gfn(unsigned table, unsigned i, bool two_level)
{
	static const uint64_t tables64[4] = { GFN_PD, GFN_PT0, GFN_PT1, GFN_PML4_A };
	static const uint64_t tables32[4] = { GFN_PD32, GFN_PT32, GFN_PD, GFN_PT0 };

	if (i >= 12)
		return two_level ? tables32[i - 12] : tables64[i - 12];
	if (i == 10)
		return MEMSLOT_PAGES + 0x10;   /* an MMIO hole */
	return 0x100 + table * 0x20 + i;
}

static void put(uint64_t gfn, unsigned index, uint64_t v, unsigned bytes)
{
	guest_init_entry(W->sim, &W->guest, gfn, index, v, bytes);
}

static void build_guest_tables(void)
{
	/* Long mode: PML4 A and B share the lower levels; B's top entry is read-only. */
	put(GFN_PML4_A, 0, (uint64_t)GFN_PDPT << PAGE_SHIFT | P | RW | US | A, 8);
	put(GFN_PML4_B, 0, (uint64_t)GFN_PDPT << PAGE_SHIFT | P | US | A, 8);
	put(GFN_PDPT, 0, (uint64_t)GFN_PD << PAGE_SHIFT | P | RW | US | A, 8);
	/* PAE: its PDPT points at the same page directory. */
	put(GFN_PDPT_PAE, 0, (uint64_t)GFN_PD << PAGE_SHIFT | P, 8);
	put(GFN_PD, 5, (uint64_t)GFN_PT0 << PAGE_SHIFT | P | RW | US | A, 8);
	put(GFN_PD, 6, (uint64_t)GFN_PT1 << PAGE_SHIFT | P | RW | US | A, 8);
	put(GFN_PD, 7, 0x200ull << PAGE_SHIFT | P | RW | US | A | D | PS, 8);
	for (unsigned i = 0; i < WINDOW_PTES; i++) {
		if (window_flags[i]) {
			put(GFN_PT0, i, window_gfn(0, i, false) << PAGE_SHIFT | window_flags[i], 8);
			put(GFN_PT1, i, window_gfn(1, i, false) << PAGE_SHIFT | (window_flags[i] & ~XD), 8);
			put(GFN_PT32, i, window_gfn(0, i, true) << PAGE_SHIFT | (window_flags[i] & 0xfff),
			    4);
		}
	}
	/* 32-bit: one page table and a 4 MiB page. */
	put(GFN_PD32, 5, (uint64_t)GFN_PT32 << PAGE_SHIFT | P | RW | US | A, 4);
	put(GFN_PD32, 6, 0x400ull << PAGE_SHIFT | P | RW | US | A | D | PS, 4);
}

static enum guest_paging paging(void)
{
	return W->vm.ctx.paging;
}

static unsigned window_tables(void)
{
	return paging() == GUEST_PAGING_32 ? 2 : 3;
}

/* Window address (table t: pde 5, 6 or 7; entry i). */
static uint64_t window_gva(unsigned t, unsigned i)
{
	if (paging() == GUEST_PAGING_32)
		return ((uint64_t)(5 + t) << 22) | ((uint64_t)i << 12);
	return ((uint64_t)(5 + t) << 21) | ((uint64_t)i << 12);
}

static uint64_t mode_cr3(enum guest_paging m)
{
	switch (m) {
	case GUEST_PAGING_64:
		return (uint64_t)(W->use_b ? GFN_PML4_B : GFN_PML4_A) << PAGE_SHIFT;
	case GUEST_PAGING_PAE:
		return (uint64_t)GFN_PDPT_PAE << PAGE_SHIFT;
	case GUEST_PAGING_32:
		return (uint64_t)GFN_PD32 << PAGE_SHIFT;
	default:
		return 0;
	}
}

/* The host frame of gva's 4K page inside a leaf spte of the given level. */
static uint64_t leaf_pfn(uint64_t spte, int level, uint64_t gva)
{
	return spte_to_pfn(spte) + ((gva >> PAGE_SHIFT) & ((1ull << (9 * (level - 1))) - 1));
}

/* ---- the reference ---- */

static bool read_guest(void *ctx, uint64_t gpa, uint64_t *out, unsigned bytes)
{
	(void)ctx;
	return guest_peek_gpa(W->sim, &W->guest, gpa, out, bytes);
}

static void reference(uint64_t gva, unsigned acc, struct orc_translation *t)
{
	struct orc_cpu_state cpu = {
		.mode = (enum orc_paging)paging(), .cr3 = W->vm.ctx.cr3, .cr0_wp = W->vm.ctx.cr0_wp,
		.cr4_pse = true, .cr4_smep = W->vm.ctx.cr4_smep, .efer_nxe = W->nx,
		.maxphyaddr = MMU_PHYS_BITS,
	};

	memcpy(cpu.pdptr, W->vm.ctx.pdptrs, sizeof(cpu.pdptr));
	orc_translate(&cpu, read_guest, NULL, gva, acc, t);
}

static bool diverge(const char *cls, const char *fmt, uint64_t a, uint64_t b)
{
	struct fz_result *r = W->res;

	if (r->divergence)
		return false;
	r->divergence = true;
	r->divergence_class = cls;
	r->cpu = 0;
	snprintf(r->message, sizeof(r->message), fmt, (unsigned long long)a, (unsigned long long)b);
	return false;
}

/* Every shadow translation of a window address that is not stale is allowed. */
static bool check_translations(void)
{
	char why[200];
	const struct kvm_vcpu_mmu *vcpus[] = { &W->vm };
	int n = kvm_shadow_check(W->sim, &W->kvm, &W->sh, &W->guest, vcpus, 1, why, sizeof(why));

	if (n) {
		static char msg[256];

		snprintf(msg, sizeof(msg), "invariant R%d: %s", n, why);
		W->res->divergence = true;
		W->res->divergence_class = "invariant";
		snprintf(W->res->message, sizeof(W->res->message), "%s", msg);
		return false;
	}
	for (unsigned t = 0; t < window_tables(); t++) {
		for (unsigned i = 0; i < WINDOW_PTES; i++) {
			uint64_t gva = window_gva(t, i), spte, pfn;
			struct orc_translation tr;
			int level = 0;

			if (W->stale[t][i])
				continue;
			spte = shadow_translate_peek(W->sim, &W->kvm, &W->vm, gva, &level);
			if (!spte)
				continue;
			reference(gva, 0, &tr);
			if (!tr.leaf)
				return diverge("translation", "gva %llx is mapped by the shadow (spte %llx) "
					       "but not by the guest", gva, spte);
			if (!guest_gfn_to_pfn(&W->guest, tr.gpa >> PAGE_SHIFT, &pfn) ||
			    leaf_pfn(spte, level, gva) != pfn)
				return diverge("translation", "gva %llx: the shadow maps pfn %llx, not the "
					       "guest's gfn", gva, leaf_pfn(spte, level, gva));
			if ((spte & PT_WRITABLE_MASK) && !tr.writable && !tr.user)
				return diverge("translation", "gva %llx: writable in the shadow (spte "
					       "%llx), not for the guest", gva, spte);
			if ((spte & PT_USER_MASK) && !tr.user)
				return diverge("translation", "gva %llx: user in the shadow (spte %llx), "
					       "supervisor for the guest", gva, spte);
		}
	}
	return true;
}

/* ---- the vCPU ---- */

/*
 * The hardware walk of the shadow tables for one access: atomic 64-bit
 * loads, one step per level.  Returns the leaf spte if it allows the
 * access, else 0 with the #PF error code the CPU would report.
 */
static int hw_walk_level;   /* level of the leaf the last hw_walk found */

static uint64_t hw_walk(uint64_t gva, uint32_t access, uint32_t *pfec)
{
	struct kvm_vcpu_mmu *vm = &W->vm;
	uint64_t table = vm->root_hpa, spte = 0;
	int level = vm->shadow_root_level;
	bool writable = true, user = true;

	*pfec = access;
	if (table == INVALID_PAGE)
		return 0;
	if (level == PT32E_ROOT_LEVEL) {
		table = vm->pae_root[(gva >> 30) & 3];
		if (!(table & PT_PRESENT_MASK))
			return 0;
		table &= PT64_BASE_ADDR_MASK;
		level--;
	}
	for (; level >= 1; level--) {
		uint32_t spi;
		sim_addr sptep;

		if (!page_header_of_hpa(table, &spi))
			return 0;
		sptep = sp_spt(spi) + 2 * (unsigned)((gva >> (12 + 9 * (level - 1))) & 511);
		spte = sim_load64(W->sim, sptep);
		if (!(spte & PT_PRESENT_MASK) || is_mmio_spte(&W->kvm, spte)) {
			if (is_mmio_spte(&W->kvm, spte))
				*pfec |= PFERR_PRESENT_MASK | PFERR_RSVD_MASK;
			return 0;
		}
		writable &= !!(spte & PT_WRITABLE_MASK);
		user &= !!(spte & PT_USER_MASK);
		hw_walk_level = level;
		if (is_last_spte(spte, level))
			break;
		table = spte & PT64_BASE_ADDR_MASK;
	}
	*pfec |= PFERR_PRESENT_MASK;
	if ((access & PFERR_WRITE_MASK) && !writable)
		return 0;
	if ((access & PFERR_USER_MASK) && !user)
		return 0;
	if ((access & PFERR_FETCH_MASK) && (spte & PT64_NX_MASK))
		return 0;
	/*
	 * The CPU runs the guest with the guest's CR4.SMEP (and with CR0.WP
	 * set, which shadow paging needs): no supervisor fetch from a page
	 * the shadow makes user-accessible.  Without guest paging SMEP is
	 * inert, as the architecture says (how vmx.c programs the real CR4
	 * for such a guest is not modelled).
	 */
	if ((access & PFERR_FETCH_MASK) && !(access & PFERR_USER_MASK) && user &&
	    W->vm.ctx.cr4_smep && paging() != GUEST_PAGING_OFF)
		return 0;
	return spte;
}

static void mark_all_stale(bool stale)
{
	memset(W->stale, stale, sizeof(W->stale));
}

/* mov cr3 / context reset: kvm_mmu_unload, then kvm_mmu_load. */
static void reload_roots(bool free_first)
{
	sim_spin_lock(W->sim, MMU_ADDR_LOCK);
	if (free_first)
		mmu_free_roots_locked(&W->kvm, &W->sh, &W->vm);
	if (W->vm.root_hpa == INVALID_PAGE) {
		if (W->vm.direct_map)
			mmu_alloc_direct_roots_locked(&W->kvm, &W->sh, &W->vm);
		else
			mmu_alloc_shadow_roots_locked(&W->kvm, &W->sh, &W->guest, &W->vm);
	}
	if (!W->vm.direct_map)
		kvm_mmu_sync_roots_locked(&W->kvm, &W->sh, &W->guest, &W->vm);
	sim_spin_unlock(W->sim, MMU_ADDR_LOCK);
	mark_all_stale(false);
}

/* The PDPTEs a mov cr3 loads in PAE mode. */
static void load_pdptrs(uint64_t pdptrs[4], uint64_t cr3)
{
	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;

		read_guest(NULL, (cr3 & ~31ull) + 8 * (uint64_t)i, &v, 8);
		pdptrs[i] = v;
	}
}

static void set_mode(enum guest_paging m, bool wp, bool nx, bool smep)
{
	uint64_t pdptrs[4] = { 0 };

	if (m == GUEST_PAGING_64 && W->kvm.width == MMU_HOST_32)
		m = GUEST_PAGING_PAE;   /* a 32-bit host cannot run long mode */
	sim_spin_lock(W->sim, MMU_ADDR_LOCK);
	mmu_free_roots_locked(&W->kvm, &W->sh, &W->vm);
	sim_spin_unlock(W->sim, MMU_ADDR_LOCK);
	W->cr0_wp = wp;
	W->nx = nx;
	W->smep = smep;
	if (m == GUEST_PAGING_PAE)
		load_pdptrs(pdptrs, mode_cr3(m));
	kvm_vcpu_mmu_set_paging(&W->vm, m, mode_cr3(m), pdptrs, nx, wp, smep, W->kvm.width);
	reload_roots(false);
}

/*
 * One guest access: the hardware walk, and on a fault the MMU's handler,
 * until the access completes, the guest takes a #PF, or the access is
 * emulated.  Returns false on a divergence.
 */
static bool guest_access(uint64_t gva, uint32_t access, bool is_gpte_write, uint64_t wval,
			 unsigned wbytes)
{
	unsigned acc = (access & PFERR_WRITE_MASK ? ORC_ACC_WRITE : 0) |
		       (access & PFERR_USER_MASK ? ORC_ACC_USER : 0) |
		       (access & PFERR_FETCH_MASK ? ORC_ACC_FETCH : 0);
	struct orc_translation tr;
	uint32_t pfec;
	bool stale = false;

	reference(gva, acc, &tr);
	for (unsigned t = 0; t < window_tables(); t++)
		for (unsigned i = 0; i < WINDOW_PTES; i++)
			if (window_gva(t, i) == (gva & ~4095ull))
				stale = W->stale[t][i];
	for (int attempt = 0; attempt < RETRIES_MAX; attempt++) {
		uint32_t guest_fault = 0;
		uint64_t spte;
		int r;

		/* Between the fault and the retried access the vCPU enters the guest again. */
		if (attempt)
			kvm_mmu_process_requests(&W->kvm, &W->sh, &W->guest, &W->vm);
		spte = hw_walk(gva, access, &pfec);
		if (spte) {
			/* The access happens. */
			if (!stale && !tr.ok)
				return diverge("access", "gva %llx: the shadow allowed an access the "
					       "guest's tables deny (spte %llx)", gva, spte);
			if (is_gpte_write) {
				sim_addr a;
				uint64_t gpa = (leaf_pfn(spte, hw_walk_level, gva) -
						W->guest.slots[0].pfn_base) << PAGE_SHIFT | (gva & 4095);

				if (guest_gpa_addr(&W->guest, gpa, &a)) {
					sim_store32(W->sim, a, (uint32_t)wval);
					if (wbytes == 8)
						sim_store32(W->sim, a + 1, (uint32_t)(wval >> 32));
				}
			}
			return true;
		}
		if (W->vm.direct_map) {
			/* nonpaging_map: 2M at most on this PAE shadow. */
			int level = mapping_level(&W->sh, &W->guest, (gva & 0xffffffffull) >> PAGE_SHIFT);

			if (level > PT_DIRECTORY_LEVEL)
				level = PT_DIRECTORY_LEVEL;
			sim_spin_lock(W->sim, MMU_ADDR_LOCK);
			kvm_direct_map_locked(&W->kvm, &W->sh, &W->guest, &W->vm, gva & 0xffffffffull,
					      access & PFERR_WRITE_MASK, level);
			sim_spin_unlock(W->sim, MMU_ADDR_LOCK);
			if (!gfn_to_memslot(&W->guest, (gva & 0xffffffffull) >> PAGE_SHIFT))
				return true;   /* MMIO: emulated by userspace */
			continue;
		}
		r = kvm_shadow_page_fault(&W->kvm, &W->sh, &W->guest, &W->vm, gva, pfec,
					  &guest_fault);
		if (r == 0) {
			/* The guest takes a #PF: the reference must agree. */
			if (!stale && tr.ok)
				return diverge("fault", "gva %llx: #PF %llx injected for an access the "
					       "guest's tables allow", gva, guest_fault);
			if (!stale && guest_fault != tr.fault)
				return diverge("fault", "gva %llx: #PF error code %llx injected",
					       gva, guest_fault);
			return true;
		}
		if (r == 2 || !gfn_to_memslot(&W->guest, tr.gpa >> PAGE_SHIFT)) {
			/* Emulated: a write to a shadowed page table, or MMIO. */
			if (is_gpte_write && tr.ok) {
				sim_addr a;

				if (guest_gpa_addr(&W->guest, tr.gpa, &a)) {
					sim_store32(W->sim, a, (uint32_t)wval);
					if (wbytes == 8)
						sim_store32(W->sim, a + 1, (uint32_t)(wval >> 32));
				}
				kvm_mmu_pte_write(&W->kvm, &W->sh, &W->guest, &W->vm, tr.gpa, wval,
						  (int)wbytes);
			}
			return true;
		}
	}
	if (stale)
		return true;
	return diverge("no-progress", "gva %llx: access %llx still faults after the MMU fixed it "
		       "four times", gva, access);
}

static void op_gpte_write(const struct fz_op *op)
{
	/* Entry a & 15 of one of the tables the window maps (window entries 12..15). */
	unsigned which = 12 + ((op->a >> 4) & 3), index = op->a & 15;
	bool two = paging() == GUEST_PAGING_32;
	unsigned bytes = two ? 4 : 8;
	uint64_t flags = (op->b & 1 ? P : 0) | (op->b & 2 ? RW : 0) | (op->b & 4 ? US : 0) |
			 (op->b & 8 ? A : 0) | (op->b & 16 ? D : 0) | (op->b & 32 ? XD : 0);
	uint64_t target = op->b & 64 ? window_gfn(1, index, two) : window_gfn(0, index ^ 1, two);
	uint64_t val = target << PAGE_SHIFT | flags;

	if (two)
		val &= 0xffffffffull;
	if (paging() == GUEST_PAGING_OFF)
		return;
	/* A supervisor write through the window entry that maps the table. */
	guest_access(window_gva(0, which) + index * bytes, PFERR_WRITE_MASK, true, val, bytes);
	mark_all_stale(true);
}

static void run_op(const struct fz_op *op)
{
	unsigned t = (op->a >> 4) % window_tables(), i = op->a & 15;

	switch (op->kind) {
	case FZ_MMU_ACCESS: {
		uint32_t access = (op->b & 1 ? PFERR_WRITE_MASK : 0) | (op->b & 2 ? PFERR_USER_MASK : 0);

		if (op->b & 4)
			access = (access & PFERR_USER_MASK) | PFERR_FETCH_MASK;
		guest_access(window_gva(t, i), access, false, 0, 0);
		break;
	}
	case FZ_MMU_GPTE_WRITE:
		op_gpte_write(op);
		break;
	case FZ_MMU_INVLPG:
		kvm_mmu_invlpg(&W->kvm, &W->sh, &W->guest, &W->vm, window_gva(t, i));
		W->stale[t][i] = false;
		break;
	case FZ_MMU_MOV_CR3:
		if (op->b & 1 && paging() == GUEST_PAGING_64) {
			W->use_b = !W->use_b;
			W->vm.ctx.cr3 = mode_cr3(GUEST_PAGING_64);
			reload_roots(true);
		} else if (paging() == GUEST_PAGING_PAE) {
			/* kvm_set_cr3 reloads the PDPTEs; new ones mean new roots. */
			load_pdptrs(W->vm.ctx.pdptrs, W->vm.ctx.cr3);
			reload_roots(true);
		} else {
			/* Same cr3: kvm_mmu_sync_roots and a flush. */
			reload_roots(false);
		}
		break;
	case FZ_MMU_MODE:
		set_mode((enum guest_paging)(op->a & 3), op->b & 1, op->b & 2, op->b & 4);
		break;
	default:
		break;
	}
}

static void mmu_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	const struct fz_program *p = arg;

	(void)s;
	(void)cpu;
	set_mode((enum guest_paging)(p->config_high & 3), p->config_high & 4, true, false);
	/*
	 * Checks run at VM entry, which is serializing: the vCPU's store
	 * buffer is empty, so memory is what the next guest access sees.
	 */
	sim_smp_mb(W->sim);
	if (!check_translations())
		return;
	for (uint32_t i = 0; i < p->ops_count; i++) {
		W->res->op_index = i;
		sim_note(W->sim, FZ_NOTE_OP, 0, i, p->ops[i].kind);
		run_op(&p->ops[i]);
		/* vcpu_enter_guest: the MMU requests posted during the exit. */
		kvm_mmu_process_requests(&W->kvm, &W->sh, &W->guest, &W->vm);
		sim_smp_mb(W->sim);
		if (W->res->divergence || !check_translations())
			return;
	}
}

void fz_mmu_run(struct sim *sim, const struct fz_program *p, const struct fz_options *o,
		struct fz_result *out)
{
	static struct mmu_world world;
	struct sim_config sc = { .cpus = 1, .mm = p->mm, .sched = p->sched_kind,
				 .sched_bytes = p->sched, .sched_len = p->sched_len,
				 .seed = p->seed, .log = o->log };

	W = &world;
	W->sim = sim;
	W->res = out;
	W->prog = p;
	W->use_b = false;
	mark_all_stale(false);
	sim_reset(sim, &sc);
	mmu_init(&W->kvm, sim, p->width, o->mutant, NULL, NULL);
	kvm_shadow_init(&W->sh);
	guest_init(&W->guest);
	guest_add_memslot(&W->guest, 0, MEMSLOT_PAGES, 0x7000000);
	/* The host backs guest memory with 2M pages: large sptes are possible. */
	W->guest.slots[0].host_level = PT_DIRECTORY_LEVEL;
	kvm_vcpu_mmu_init(&W->vm, GUEST_PAGING_OFF, false, p->width);
	build_guest_tables();
	sim_spawn(sim, 0, mmu_cpu, (void *)p);
	out->sim_result = sim_run(sim);
	out->hash = sim_hash(sim);
	out->steps = sim_steps(sim);
	if (!out->divergence_class)
		out->divergence_class = "-";
}
