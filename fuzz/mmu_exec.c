/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The executor of the mmu target: 2 to 4 vCPUs running a guest on the full
 * shadow MMU (shadow paging for 32-bit, PAE and long-mode guests, the
 * direct map with fast page fault for a guest with paging off), and one or
 * two host threads that remap guest frames through the MMU notifiers, age
 * pages, run dirty logging and zap everything.  Each simulated CPU runs its
 * own operations in program order, on x86-TSO unless the input says SC.
 *
 * The guest: one memslot of 4096 frames mapped above 4 GiB, with an MMIO
 * hole above it, and page tables for every paging mode (all built before
 * the run).  Its window of virtual addresses is two page tables of 16
 * entries (various permissions, one clean page, one non-executable page,
 * an MMIO hole, and the guest's own page tables mapped writable) and one
 * large page.
 *
 * A vCPU access enters the guest (vcpu_enter_guest: requests, then
 * vcpu->mode = IN_GUEST_MODE, smp_mb, interrupts off, re-check) and runs on
 * the vCPU's TLB; a miss walks the shadow tables as the hardware does
 * (atomic 64-bit loads, each one judged by the oracle) and fills the TLB.
 * An IPI (a remote flush) makes the vCPU leave the guest; the TLB is
 * emptied only by a flush request.  When the tables do not allow the
 * access, the MMU's fault handler runs outside the guest.
 *
 * What is checked, and when:
 *   - every lockless spte read (fast page fault, the MMIO walk) and every
 *     hardware-walker load, by the oracle's read verdict (oracle/oracle.h);
 *   - no lockless walker or hardware walk reads a shadow page freed after
 *     its walk began (the IPI-and-wait of kvm_mmu_commit_zap_page);
 *   - every completed guest access, through the TLB or a walk: allowed by
 *     the reference translation (unless the guest changed that translation
 *     and has not invalidated it yet: "stale"), and through a host frame
 *     the host has not taken away (MMU notifiers);
 *   - dirty logging: every page written after logging began is in a
 *     get_dirty_log result or still set in the bitmap, or owed to the next
 *     get_dirty_log while a fast page fault that made it writable has not
 *     marked it yet;
 *   - whenever mmu_lock is free between operations: the structural
 *     invariants (mmu/check.c) and every shadow translation of the window
 *     of every vCPU against the reference and the host mapping.
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
#define MEMSLOT_PFN_BASE 0x7000000ull
/* The memslot the host adds over the MMIO holes and deletes again. */
#define HOLE_SLOT_BASE (MEMSLOT_PAGES + 0x10)
#define HOLE_SLOT_PAGES 16
#define HOLE_SLOT_PFN 0x5000000ull
#define RETRIES_MAX 8
#define TLB_ENTRIES 16
#define REVOKED_MAX 64
#define FRAMES_MAX 128
/* Guest frames below this are the page tables and the window's data frames. */
#define GFN_FRAMES_END 0x140
#define SPT_WORDS_ALL (MMU_SP_MAX * MMU_SP_WORDS)

struct tlb_entry {
	bool valid;
	uint64_t page;      /* gva >> 12 */
	uint64_t pfn;       /* host frame of the 4K page */
	bool w, u, nx;
	bool dirty;         /* the spte's dirty bit was set when the entry was made */
};

struct vcpu {
	struct kvm_vcpu_mmu vm;
	bool nx, use_b;
	bool stale[3][WINDOW_PTES];        /* per window address, see the coherence rule */
	struct tlb_entry tlb[TLB_ENTRIES];
	uint32_t tlb_next;
	uint64_t guest_entry_step;         /* the IN_GUEST_MODE store of the current entry */
	/*
	 * What its window's shadow translations were last checked against:
	 * with no store since and the same vCPU state they are as checked.
	 */
	struct {
		uint64_t mark;
		struct kvm_vcpu_mmu vm;
		bool stale[3][WINDOW_PTES];
		bool nx;
		uint32_t revoked_count, memslot_epoch;
		bool transit, memslot_updating;
	} checked;
	/* Guest pte writes seen when the current operation began. */
	uint32_t op_write_epoch;
	bool op_began_during_write;
};

struct mmu_world {
	struct sim *sim;
	struct kvm kvm;
	struct kvm_shadow sh;
	struct kvm_guest guest;
	struct vcpu v[MMU_VCPUS_MAX];
	uint32_t nvcpus, nhosts;
	uint32_t cur_op[SIM_CPUS_MAX];     /* the operation each simulated CPU runs */
	bool in_op[SIM_CPUS_MAX];          /* ... and whether it is running it now */
	/*
	 * Per CPU, the walk in progress: the step its pointer to the page it
	 * reads next was read at (the walk's start, for the root it holds).
	 */
	uint64_t walk_ptr_step[SIM_CPUS_MAX];
	uint64_t walk_seen_begin[SIM_CPUS_MAX];
	uint32_t gpte_writes_in_flight;
	uint32_t gpte_write_epoch;          /* guest pte writes begun so far */
	uint64_t checked_mark;              /* stores visible at the last invariant check */
	uint32_t memslot_epoch;             /* memslot updates begun */
	bool memslot_updating;
	/* Host frames taken away by the host (after an invalidate or change_pte). */
	uint64_t revoked[REVOKED_MAX];
	uint32_t revoked_count;
	/* Gfns whose host pte a host operation ever changed (gfn_of_frame). */
	uint64_t remapped[FZ_OPS_MAX];
	uint32_t remapped_count;
	/* During change_pte: the host pte is new, the sptes may keep the old frame. */
	uint64_t transit_gfn, transit_pfn;
	bool transit;
	/* Dirty logging: active once enabling finished; pages written since. */
	bool dirty_log_active;
	/* written[g] == run: gfn g was written (stamped, so nothing to clear per run). */
	uint32_t written[MMU_DIRTY_BITMAP_WORDS * 32];
	uint32_t written_op[MMU_DIRTY_BITMAP_WORDS * 32];
	uint64_t written_step[MMU_DIRTY_BITMAP_WORDS * 32];
	/*
	 * D2 (format 2): host frames the guest wrote through a shadow mapping
	 * (and the first operation that did), and the kvm_set_pfn_dirty calls
	 * the host has had; a large mark covers the whole large frame.
	 */
	bool hw_ad;
	bool bare;            /* bench speed's baseline: no checks at all */
	struct { uint64_t pfn; uint32_t op; } frame_written[FRAMES_MAX];
	struct { uint64_t pfn; bool large; } frame_dirty[FRAMES_MAX];
	uint32_t frame_written_count, frame_dirty_count;
	bool frames_untracked;
	/* The oracle: spte -> id, stamped with the run so nothing needs clearing. */
	struct orc_state orc;
	bool orc_ready;
	uint32_t run;
	uint32_t id_run[SPT_WORDS_ALL / 2];
	uint16_t id_of[SPT_WORDS_ALL / 2];
	uint32_t page_of_id[ORC_SPTES_MAX];	/* the shadow page of each id's spte */
	uint32_t ids_used, untracked;
	uint32_t token[SIM_CPUS_MAX];
	struct { uint32_t id, token; } commits[4096];
	uint32_t commits_count;
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
		return MEMSLOT_PAGES + 0x10 + table;   /* MMIO holes, one per table */
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

static enum guest_paging paging(const struct vcpu *v)
{
	return v->vm.ctx.paging;
}

static unsigned window_tables(const struct vcpu *v)
{
	return paging(v) == GUEST_PAGING_32 ? 2 : 3;
}

/*
 * Window address (table t: pde 5, 6 or 7; entry i).  With paging off the
 * window is the frames the paged window maps (the MMIO hole included).
 */
static uint64_t window_gva(const struct vcpu *v, unsigned t, unsigned i)
{
	if (paging(v) == GUEST_PAGING_OFF)
		return window_gfn(t < 2 ? t : 0, i, false) << PAGE_SHIFT;
	if (paging(v) == GUEST_PAGING_32)
		return ((uint64_t)(5 + t) << 22) | ((uint64_t)i << 12);
	return ((uint64_t)(5 + t) << 21) | ((uint64_t)i << 12);
}

static uint64_t mode_cr3(const struct vcpu *v, enum guest_paging m)
{
	switch (m) {
	case GUEST_PAGING_64:
		return (uint64_t)(v->use_b ? GFN_PML4_B : GFN_PML4_A) << PAGE_SHIFT;
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

/* ---- divergences ---- */

static bool diverge(const char *cls, uint32_t cpu, const char *fmt, uint64_t a, uint64_t b)
{
	struct fz_result *r = W->res;

	if (W->bare)
		return true;   /* no checks in a bare run */
	if (r->divergence)
		return false;
	r->divergence = true;
	r->divergence_class = cls;
	r->cpu = cpu;
	r->op_index = W->cur_op[cpu];
	snprintf(r->message, sizeof(r->message), fmt, (unsigned long long)a, (unsigned long long)b);
	return false;
}

/* ---- the oracle ---- */

static bool oracle_id(sim_addr sptep, uint32_t *id)
{
	uint32_t k = (sptep - MMU_ADDR_SPT) / 2;

	if (sptep < MMU_ADDR_SPT || k >= SPT_WORDS_ALL / 2)
		return false;
	if (W->id_run[k] == W->run) {
		*id = W->id_of[k];
		return true;
	}
	if (W->ids_used == ORC_SPTES_MAX) {
		W->untracked++;
		return false;
	}
	W->id_run[k] = W->run;
	W->id_of[k] = (uint16_t)W->ids_used;
	W->page_of_id[W->ids_used] = k / MMU_SPTES_PER_SP;
	*id = W->ids_used++;
	return true;
}

static void on_write_begin(void *ctx, sim_addr sptep, uint64_t v, uint64_t step)
{
	uint32_t id;

	(void)ctx;
	if (oracle_id(sptep, &id))
		W->token[sim_current_cpu(W->sim)] = orc_write_begin(&W->orc, id, v, step);
}

static void on_visible(void *ctx, uint64_t step)
{
	uint32_t i = (uint32_t)(uintptr_t)ctx;

	orc_write_commit(&W->orc, W->commits[i].id, W->commits[i].token, step);
}

static void on_write_end(void *ctx, sim_addr sptep)
{
	uint32_t id, i;

	(void)ctx;
	if (!oracle_id(sptep, &id))
		return;
	if (W->commits_count == sizeof(W->commits) / sizeof(W->commits[0])) {
		W->untracked++;
		return;
	}
	i = W->commits_count++;
	W->commits[i].id = id;
	W->commits[i].token = W->token[sim_current_cpu(W->sim)];
	sim_when_visible(W->sim, on_visible, (void *)(uintptr_t)i);
}

static void on_page_alloc(void *ctx, uint32_t spi)
{
	uint32_t page = (sp_spt(spi) - MMU_ADDR_SPT) / 2 / MMU_SPTES_PER_SP;

	(void)ctx;
	/* The page's sptes the oracle tracks: far fewer ids than sptes. */
	for (uint32_t id = 0; id < W->ids_used; id++)
		if (W->page_of_id[id] == page)
			orc_spte_restart(&W->orc, id, sim_steps(W->sim));
}

static void on_read(void *ctx, sim_addr sptep, enum mmu_read_kind kind, uint64_t start,
		    uint64_t end, uint64_t value)
{
	uint32_t cpu = sim_current_cpu(W->sim), spi = page_header_of_sptep(sptep), id;
	struct orc_verdict verdict;
	uint64_t ptr;

	(void)ctx;
	if (kind == MMU_READ_LOCKLESS &&
	    W->kvm.lockless_begin_step[cpu] != W->walk_seen_begin[cpu]) {
		/* A new lockless walk: its root is the vCPU's own. */
		W->walk_seen_begin[cpu] = W->kvm.lockless_begin_step[cpu];
		W->walk_ptr_step[cpu] = W->kvm.lockless_begin_step[cpu];
	}
	ptr = W->walk_ptr_step[cpu];
	W->walk_ptr_step[cpu] = end;
	/*
	 * Freeing waits for every walker (kvm_mmu_commit_zap_page's IPI):
	 * no walk reads a page freed after it read the pointer to it.
	 */
	if (!W->sh.pages[spi].allocated || W->sh.freed_step[spi] > ptr) {
		diverge("use-after-free", cpu, kind == MMU_READ_HW_WALK
			? "a hardware walk read shadow page %llu (through a pointer read at step "
			  "%llu) after the page was freed"
			: "a lockless walk read shadow page %llu (through a pointer read at step "
			  "%llu) after the page was freed", spi, ptr);
		return;
	}
	if (!oracle_id(sptep, &id))
		return;
	orc_judge_read(&W->orc, id, start, end, value, kind == MMU_READ_HW_WALK, &verdict);
	fz_verdict_feedback(W->sim, &verdict, kind);
	if (verdict.divergence && !W->res->divergence) {
		struct fz_result *r = W->res;

		r->verdict = verdict;
		r->read_kind = kind;
		diverge(fz_divergence_class(&verdict), cpu,
			"torn spte read: returned %llx, a value the spte (at %llx) never held",
			value, sptep);
		r->divergence_class = fz_divergence_class(&verdict);
	}
}

static void on_pfn_dirty(void *ctx, uint64_t pfn, bool large)
{
	(void)ctx;
	if (W->frame_dirty_count == FRAMES_MAX) {
		W->frames_untracked = true;
		return;
	}
	W->frame_dirty[W->frame_dirty_count].pfn = pfn;
	W->frame_dirty[W->frame_dirty_count++].large = large;
}

static const struct mmu_observer observer = {
	.write_begin = on_write_begin,
	.write_end = on_write_end,
	.read = on_read,
	.page_alloc = on_page_alloc,
	.pfn_dirty = on_pfn_dirty,
};

/* ---- the reference ---- */

static bool read_guest(void *ctx, uint64_t gpa, uint64_t *out, unsigned bytes)
{
	(void)ctx;
	return guest_peek_gpa(W->sim, &W->guest, gpa, out, bytes);
}

static void reference(const struct vcpu *v, uint64_t gva, unsigned acc,
		      struct orc_translation *t)
{
	struct orc_cpu_state cpu = {
		.mode = (enum orc_paging)paging(v), .cr3 = v->vm.ctx.cr3,
		.cr0_wp = v->vm.ctx.cr0_wp, .cr4_pse = true, .cr4_smep = v->vm.ctx.cr4_smep,
		.efer_nxe = v->nx, .maxphyaddr = MMU_PHYS_BITS,
	};

	memcpy(cpu.pdptr, v->vm.ctx.pdptrs, sizeof(cpu.pdptr));
	orc_translate(&cpu, read_guest, NULL, gva, acc, t);
}

static bool pfn_revoked(uint64_t pfn)
{
	for (uint32_t i = 0; i < W->revoked_count; i++)
		if (W->revoked[i] == pfn)
			return true;
	return false;
}

static void revoke_pfn(uint64_t pfn, bool revoked)
{
	for (uint32_t i = 0; i < W->revoked_count; i++) {
		if (W->revoked[i] == pfn) {
			if (!revoked)
				W->revoked[i] = W->revoked[--W->revoked_count];
			return;
		}
	}
	if (revoked && W->revoked_count < REVOKED_MAX)
		W->revoked[W->revoked_count++] = pfn;
}

/* ---- D2: the host hears of every write to its frames ---- */

static void frame_note_write(uint64_t pfn, uint32_t op)
{
	for (uint32_t i = 0; i < W->frame_written_count; i++)
		if (W->frame_written[i].pfn == pfn)
			return;
	if (W->frame_written_count == FRAMES_MAX) {
		W->frames_untracked = true;
		return;
	}
	W->frame_written[W->frame_written_count].pfn = pfn;
	W->frame_written[W->frame_written_count++].op = op;
}

static bool frame_host_dirty(uint64_t pfn)
{
	for (uint32_t i = 0; i < W->frame_dirty_count; i++) {
		uint64_t head = W->frame_dirty[i].pfn;

		/* A large spte's head page: 1G at most (PDPE level). */
		if (head == pfn || (W->frame_dirty[i].large && pfn > head &&
				    pfn - head < (1ull << 18)))
			return true;
	}
	return false;
}

/* The frame starts a new life (handed out, or freed): forget its past. */
static void frame_forget(uint64_t pfn)
{
	for (uint32_t i = 0; i < W->frame_written_count; i++)
		if (W->frame_written[i].pfn == pfn)
			W->frame_written[i] = W->frame_written[--W->frame_written_count];
	for (uint32_t i = 0; i < W->frame_dirty_count; i++)
		if (W->frame_dirty[i].pfn == pfn && !W->frame_dirty[i].large)
			W->frame_dirty[i--] = W->frame_dirty[--W->frame_dirty_count];
}

/*
 * The host frees frame pfn (after invalidate_range_end, when every spte
 * that mapped it has been dropped and every TLB flushed): if the guest
 * wrote it, the host must have heard through kvm_set_pfn_dirty, or it
 * may drop the page as clean and lose the write.
 */
static bool check_frame_freed(uint32_t cpu, uint64_t pfn)
{
	bool ok = true;

	for (uint32_t i = 0; i < W->frame_written_count && !W->frames_untracked; i++) {
		if (W->frame_written[i].pfn != pfn || frame_host_dirty(pfn))
			continue;
		ok = diverge("lost-dirty", cpu, "host frame %llx was written by the guest "
			     "(operation %llu) but its dirty bit never reached the host "
			     "(kvm_set_pfn_dirty) before the host took the frame away", pfn,
			     (unsigned long long)W->frame_written[i].op);
	}
	frame_forget(pfn);
	return ok;
}

/* Is gva (its 4K page) of vCPU v stale under the coherence rule? */
static bool is_stale(const struct vcpu *v, uint64_t gva)
{
	for (unsigned t = 0; t < window_tables(v); t++)
		for (unsigned i = 0; i < WINDOW_PTES; i++)
			if (window_gva(v, t, i) == (gva & ~4095ull))
				return v->stale[t][i];
	return false;
}

static void mark_all_stale(void)
{
	for (uint32_t c = 0; c < W->nvcpus; c++)
		memset(W->v[c].stale, 1, sizeof(W->v[c].stale));
}

/*
 * A vCPU may forget its stale addresses (invlpg, a cr3 load) only when no
 * guest pte write is half done: an emulated write stores the gpte, then
 * updates the shadow under mmu_lock.
 */
static void clear_stale(struct vcpu *v, int t, int i)
{
	/* Nor when one was under way at any time during this operation. */
	if (W->gpte_writes_in_flight || v->op_began_during_write ||
	    v->op_write_epoch != W->gpte_write_epoch)
		return;
	if (t < 0)
		memset(v->stale, 0, sizeof(v->stale));
	else
		v->stale[t][i] = false;
}

/*
 * A translation the vCPU is using or could use: the host frame must be one
 * the host still gives the guest and, unless stale, the one the guest's
 * tables and the memslots lead to, with no permission the guest denies.
 */
static bool check_mapping(uint32_t cpu, uint64_t gva, uint64_t pfn, bool w, bool u,
			  const char *what)
{
	struct vcpu *v = &W->v[cpu];
	struct orc_translation tr;
	uint64_t want;
	char fmt[160];

	if (W->bare)
		return true;
	if (pfn_revoked(pfn)) {
		snprintf(fmt, sizeof(fmt), "%s: gva %%llx maps host pfn %%llx, which the host "
			 "has taken away (MMU notifier)", what);
		/* A prefetch mapped it during the invalidation: a recorded finding. */
		if (mmu_prefetched_in_invalidation(&W->kvm, pfn))
			return diverge("prefetch-in-invalidation", cpu, fmt, gva, pfn);
		return diverge("stale-pfn", cpu, fmt, gva, pfn);
	}
	if (is_stale(v, gva))
		return true;
	reference(v, gva, 0, &tr);
	if (!tr.leaf) {
		snprintf(fmt, sizeof(fmt), "%s: gva %%llx is mapped (pfn %%llx) but not by the "
			 "guest", what);
		return diverge("translation", cpu, fmt, gva, pfn);
	}
	if (W->transit && tr.gpa >> PAGE_SHIFT == W->transit_gfn && pfn == W->transit_pfn)
		want = pfn;
	else if (!host_gfn_to_pfn_peek(W->sim, &W->guest, tr.gpa >> PAGE_SHIFT, &want))
		want = ~pfn;
	if (want != pfn) {
		snprintf(fmt, sizeof(fmt), "%s: gva %%llx uses pfn %%llx, not the host frame of "
			 "the guest's gfn", what);
		return diverge("translation", cpu, fmt, gva, pfn);
	}
	if (w && !tr.writable && !tr.user) {
		snprintf(fmt, sizeof(fmt), "%s: gva %%llx writable (pfn %%llx), not for the guest",
			 what);
		return diverge("translation", cpu, fmt, gva, pfn);
	}
	if (u && !tr.user) {
		snprintf(fmt, sizeof(fmt), "%s: gva %%llx user (pfn %%llx), supervisor for the "
			 "guest", what);
		return diverge("translation", cpu, fmt, gva, pfn);
	}
	return true;
}

/*
 * Between operations, when nobody holds mmu_lock: the invariants and every
 * shadow translation and TLB entry of every vCPU's window.
 */
/* Has nothing the window check of v depends on changed since it passed? */
static bool window_unchanged(struct vcpu *v)
{
	uint64_t mark = sim_retry_mark(W->sim);
	bool same = v->checked.mark == mark && v->checked.nx == v->nx &&
		    v->checked.revoked_count == W->revoked_count &&
		    v->checked.memslot_epoch == W->memslot_epoch &&
		    v->checked.transit == W->transit &&
		    v->checked.memslot_updating == W->memslot_updating &&
		    memcmp(&v->checked.vm, &v->vm, sizeof(v->vm)) == 0 &&
		    memcmp(v->checked.stale, v->stale, sizeof(v->stale)) == 0;

	if (same)
		return true;
	/* Recorded now: a failed check ends the run, so this is only reused on a pass. */
	v->checked.mark = mark;
	v->checked.nx = v->nx;
	v->checked.revoked_count = W->revoked_count;
	v->checked.memslot_epoch = W->memslot_epoch;
	v->checked.transit = W->transit;
	v->checked.memslot_updating = W->memslot_updating;
	memcpy(&v->checked.vm, &v->vm, sizeof(v->vm));
	memcpy(v->checked.stale, v->stale, sizeof(v->stale));
	return false;
}

static bool check_world(uint32_t cpu)
{
	char why[200];
	const struct kvm_vcpu_mmu *vcpus[MMU_VCPUS_MAX];
	int n;

	if (W->bare)
		return true;
	if (sim_mem_peek32(W->sim, MMU_ADDR_LOCK))
		return true;   /* a lock holder is mid-update */
	for (uint32_t c = 0; c < W->nvcpus; c++)
		vcpus[c] = &W->v[c].vm;
	/*
	 * The structures change only under mmu_lock, whose every release is a
	 * store: with no store since the last check they are as checked.
	 */
	n = 0;
	if (sim_retry_mark(W->sim) != W->checked_mark) {
		W->checked_mark = sim_retry_mark(W->sim);
		n = kvm_shadow_check(W->sim, &W->kvm, &W->sh, &W->guest, vcpus, W->nvcpus, why,
				     sizeof(why));
	}
	if (n) {
		struct fz_result *r = W->res;

		if (r->divergence)
			return false;
		r->divergence = true;
		r->divergence_class = "invariant";
		r->cpu = cpu;
		r->op_index = W->cur_op[cpu];
		snprintf(r->message, sizeof(r->message), "invariant R%d: %s", n, why);
		return false;
	}
	for (uint32_t c = 0; c < W->nvcpus; c++) {
		struct vcpu *v = &W->v[c];

		/*
		 * A vCPU told to reload (its root was zapped) cannot enter the
		 * guest on that root again: its tables are no longer kept up.
		 */
		if (sim_mem_peek32(W->sim, MMU_ADDR_REQ + c) &
		    (1u << KVM_REQ_MMU_RELOAD | 1u << KVM_REQ_MMU_SYNC))
			continue;
		/*
		 * Mid-operation (outside the guest, or between loading and
		 * syncing its roots) a vCPU's tables are not in use; its TLB
		 * and walks are checked on every access it completes.
		 */
		if (W->in_op[c] && c != cpu)
			continue;
		if (window_unchanged(v))
			continue;
		for (unsigned t = 0; t < window_tables(v); t++) {
			for (unsigned i = 0; i < WINDOW_PTES; i++) {
				uint64_t gva = window_gva(v, t, i), spte;
				int level = 0;

				if (v->stale[t][i])
					continue;
				spte = shadow_translate_peek(W->sim, &W->kvm, &v->vm, gva, &level);
				if (spte && !check_mapping(c, gva, leaf_pfn(spte, level, gva),
							   spte & PT_WRITABLE_MASK,
							   spte & PT_USER_MASK, "shadow"))
					return false;
			}
		}
	}
	return true;
}

/* ---- the vCPU ---- */

static void tlb_flush(struct vcpu *v)
{
	memset(v->tlb, 0, sizeof(v->tlb));
}

static struct tlb_entry *tlb_lookup(struct vcpu *v, uint64_t gva)
{
	for (uint32_t i = 0; i < TLB_ENTRIES; i++)
		if (v->tlb[i].valid && v->tlb[i].page == gva >> PAGE_SHIFT)
			return &v->tlb[i];
	return NULL;
}

static void tlb_fill(struct vcpu *v, uint64_t gva, uint64_t pfn, bool w, bool u, bool nx,
		     bool dirty)
{
	struct tlb_entry *e = tlb_lookup(v, gva);

	if (!e) {
		e = &v->tlb[v->tlb_next];
		v->tlb_next = (v->tlb_next + 1) % TLB_ENTRIES;
	}
	*e = (struct tlb_entry){ true, gva >> PAGE_SHIFT, pfn, w, u, nx, dirty };
}

static bool permits(bool w, bool u, bool nx, uint32_t access, const struct vcpu *v)
{
	if ((access & PFERR_WRITE_MASK) && !w)
		return false;
	if ((access & PFERR_USER_MASK) && !u)
		return false;
	if ((access & PFERR_FETCH_MASK) && nx)
		return false;
	/*
	 * The CPU runs the guest with the guest's CR4.SMEP (and with CR0.WP
	 * set, which shadow paging needs): no supervisor fetch from a page
	 * the shadow makes user-accessible.  Without guest paging SMEP is
	 * inert.
	 */
	if ((access & PFERR_FETCH_MASK) && !(access & PFERR_USER_MASK) && u &&
	    v->vm.ctx.cr4_smep && paging(v) != GUEST_PAGING_OFF)
		return false;
	return true;
}

enum guest_outcome { ACCESS_DONE, ACCESS_FAULT, ACCESS_EXIT };

/*
 * In guest mode: the TLB, else the hardware walk of the shadow tables
 * (atomic 64-bit loads, each judged by the oracle).  An IPI makes the vCPU
 * exit between two loads.  On success *pfn is the host frame used.
 *
 * In format 2 the CPU also keeps the leaf's accessed and dirty bits: a
 * walk sets A, and D for a write, with a locked cmpxchg of the leaf (a
 * failed one walks again); the first write through a TLB entry made
 * without D walks again to set it.
 */
static enum guest_outcome guest_run_access(struct vcpu *v, uint64_t gva, uint32_t access,
					   uint64_t *pfn, uint32_t *pfec)
{
	struct kvm_vcpu_mmu *vm = &v->vm;
	struct tlb_entry *e = tlb_lookup(v, gva);
	uint64_t table, spte = 0;
	sim_addr sptep = 0;
	int level, rewalks = 0;
	bool w, u;

	*pfec = access;
	if (sim_ipi_pending(W->sim))
		return ACCESS_EXIT;
	if (e && permits(e->w, e->u, e->nx, access, v) &&
	    (e->dirty || !W->hw_ad || !(access & PFERR_WRITE_MASK))) {
		*pfn = e->pfn;
		return ACCESS_DONE;
	}
	if (e)
		e->valid = false;   /* a faulting access drops the entry */
walk:
	table = vm->root_hpa;
	level = vm->shadow_root_level;
	w = u = true;
	if (table == INVALID_PAGE)
		return ACCESS_FAULT;
	/* The root is held by this vCPU (root_count): never freed under it. */
	W->walk_ptr_step[v->vm.vcpu_id] = sim_steps(W->sim);
	if (level == PT64_ROOT_LEVEL && vm->ctx.root_level < PT64_ROOT_LEVEL && !vm->direct_map)
		level--;
	if (level == PT32E_ROOT_LEVEL) {
		table = vm->pae_root[(gva >> 30) & 3];
		if (!(table & PT_PRESENT_MASK))
			return ACCESS_FAULT;
		table &= PT64_BASE_ADDR_MASK;
		level--;
	}
	for (; level >= 1; level--) {
		uint32_t spi;

		if (sim_ipi_pending(W->sim))
			return ACCESS_EXIT;
		if (!page_header_of_hpa(table, &spi))
			return ACCESS_FAULT;
		sptep = sp_spt(spi) + 2 * (unsigned)((gva >> (12 + 9 * (level - 1))) & 511);
		spte = mmu_hw_walk_spte(&W->kvm, sptep);
		if (W->res->divergence)
			return ACCESS_EXIT;
		if (is_mmio_spte(&W->kvm, spte)) {
			*pfec |= PFERR_PRESENT_MASK | PFERR_RSVD_MASK;
			return ACCESS_FAULT;
		}
		if (!(spte & PT_PRESENT_MASK))
			return ACCESS_FAULT;
		w &= !!(spte & PT_WRITABLE_MASK);
		u &= !!(spte & PT_USER_MASK);
		if (is_last_spte(spte, level))
			break;
		table = spte & PT64_BASE_ADDR_MASK;
	}
	*pfec |= PFERR_PRESENT_MASK;
	if (!permits(w, u, spte & PT64_NX_MASK, access, v))
		return ACCESS_FAULT;
	if (W->hw_ad) {
		uint64_t bits = (spte & PT_ACCESSED_MASK ? 0 : PT_ACCESSED_MASK) |
				(!(access & PFERR_WRITE_MASK) || (spte & PT_DIRTY_MASK)
				 ? 0 : PT_DIRTY_MASK);

		if (bits && !mmu_hw_set_ad(&W->kvm, sptep, spte, bits)) {
			if (W->res->divergence || ++rewalks == RETRIES_MAX)
				return ACCESS_EXIT;
			goto walk;
		}
		spte |= bits;
	}
	*pfn = leaf_pfn(spte, level, gva);
	tlb_fill(v, gva, *pfn, w, u, spte & PT64_NX_MASK, spte & PT_DIRTY_MASK);
	return ACCESS_DONE;
}

/*
 * kvm->srcu, the read side: a vCPU thread holds it while it runs KVM code
 * (srcu_read_lock in __vcpu_run, dropped around the guest's run).  The
 * word is the vCPU's count of lock and unlock events: odd inside.
 */
static void srcu_read_lock(uint32_t cpu)
{
	struct sim *s = W->sim;

	sim_store32(s, MMU_ADDR_SRCU + cpu, sim_load32(s, MMU_ADDR_SRCU + cpu) + 1);
	sim_smp_mb(s);
}

static void srcu_read_unlock(uint32_t cpu)
{
	struct sim *s = W->sim;

	sim_smp_mb(s);
	sim_store32(s, MMU_ADDR_SRCU + cpu, sim_load32(s, MMU_ADDR_SRCU + cpu) + 1);
}

/* synchronize_srcu(): wait for every read-side section that began before. */
static void synchronize_srcu(void)
{
	struct sim *s = W->sim;

	sim_smp_mb(s);
	for (uint32_t c = 0; c < W->nvcpus; c++) {
		uint32_t seen = sim_load32(s, MMU_ADDR_SRCU + c);

		while ((seen & 1) && sim_load32(s, MMU_ADDR_SRCU + c) == seen)
			sim_retry_wait(s, sim_retry_mark(s));
	}
	sim_smp_mb(s);
}

/*
 * Models: x86.c: vcpu_enter_guest(), the part around the MMU: requests
 * (and kvm_mmu_reload), then mode = IN_GUEST_MODE, smp_mb, interrupts off,
 * and a re-check of the mode and the requests.  False if the entry was
 * cancelled.
 */
static bool vcpu_enter_guest(uint32_t cpu)
{
	struct vcpu *v = &W->v[cpu];
	struct sim *s = W->sim;

	if (kvm_mmu_process_requests(&W->kvm, &W->sh, &W->guest, &v->vm))
		tlb_flush(v);   /* kvm_x86_ops->tlb_flush */
	sim_site(s, MMU_SITE_GUEST_ENTRY_EXIT);   /* the vcpu->mode handshake */
	sim_store32(s, MMU_ADDR_MODE + cpu, IN_GUEST_MODE);
	v->guest_entry_step = sim_last_step(s);
	/* We should set ->mode before check ->requests. */
	sim_smp_mb(s);
	sim_irq_disable(s);
	if (sim_load32(s, MMU_ADDR_MODE + cpu) == EXITING_GUEST_MODE ||
	    sim_load32(s, MMU_ADDR_REQ + cpu)) {
		sim_store32(s, MMU_ADDR_MODE + cpu, OUTSIDE_GUEST_MODE);
		sim_smp_wmb(s);
		sim_irq_enable(s);
		sim_site(s, 0);
		return false;
	}
	sim_site(s, 0);
	srcu_read_unlock(cpu);
	return true;
}

static void vcpu_exit_guest(uint32_t cpu)
{
	struct sim *s = W->sim;

	sim_site(s, MMU_SITE_GUEST_ENTRY_EXIT);
	sim_store32(s, MMU_ADDR_MODE + cpu, OUTSIDE_GUEST_MODE);
	sim_smp_wmb(s);
	sim_irq_enable(s);
	sim_site(s, 0);
	srcu_read_lock(cpu);
}

/*
 * The guest frame, other than `except`, whose host frame is pfn: among the
 * page tables and the window's data frames, the only frames host
 * operations move or hand out.
 */
static bool frame_of_gfn_is(uint64_t g, uint64_t except, uint64_t pfn)
{
	uint64_t p;

	return g < GFN_FRAMES_END && g != except &&
	       host_gfn_to_pfn_peek(W->sim, &W->guest, g, &p) && p == pfn;
}

static bool gfn_of_frame(uint64_t pfn, uint64_t except, uint64_t *gfn)
{
	/* A frame is the linear frame of a gfn of some memslot... */
	for (uint32_t s = 0; s < W->guest.slots_count; s++) {
		const struct kvm_memory_slot *slot = &W->guest.slots[s];
		uint64_t g = slot->base_gfn + (pfn - slot->pfn_base);

		if (pfn >= slot->pfn_base && pfn - slot->pfn_base < slot->npages &&
		    frame_of_gfn_is(g, except, pfn)) {
			*gfn = g;
			return true;
		}
	}
	/* ... or one a host remap put in a gfn's host pte. */
	for (uint32_t i = 0; i < W->remapped_count; i++) {
		if (frame_of_gfn_is(W->remapped[i], except, pfn)) {
			*gfn = W->remapped[i];
			return true;
		}
	}
	return false;
}

/*
 * A guest page-table write becomes visible to the other CPUs when its
 * stores drain: until then it is still in flight for the coherence rule.
 */
static bool gpte_store_pending[SIM_CPUS_MAX];
/* Per CPU: parts of its gpte write still to finish (its op, the stores' drain). */
static uint32_t gpte_write_parts[SIM_CPUS_MAX];

static void gpte_write_part_done(uint32_t cpu)
{
	if (--gpte_write_parts[cpu])
		return;
	W->gpte_writes_in_flight--;
	mark_all_stale();
}

static void gpte_write_visible(void *ctx, uint64_t step)
{
	(void)step;
	gpte_write_part_done((uint32_t)(uintptr_t)ctx);
}

static void guest_store_gpte(sim_addr a, uint64_t wval, unsigned wbytes)
{
	uint32_t cpu = sim_current_cpu(W->sim);

	sim_store32(W->sim, a, (uint32_t)wval);
	if (wbytes == 8)
		sim_store32(W->sim, a + 1, (uint32_t)(wval >> 32));
	if (gpte_store_pending[cpu]) {
		gpte_store_pending[cpu] = false;
		gpte_write_parts[cpu]++;
		sim_when_visible(W->sim, gpte_write_visible, (void *)(uintptr_t)cpu);
	}
}

/* A completed guest access through pfn: the checks, and the write itself. */
static bool access_done(uint32_t cpu, uint64_t gva, uint32_t access, uint64_t pfn,
			const struct orc_translation *tr, bool stale, bool is_gpte_write,
			uint64_t wval, unsigned wbytes)
{
	uint64_t gfn, own;

	if (!stale && !tr->ok)
		return diverge("access", cpu, "gva %llx: the guest accessed it through host pfn "
			       "%llx although its tables deny the access", gva, pfn);
	if (!check_mapping(cpu, gva, pfn, access & PFERR_WRITE_MASK, access & PFERR_USER_MASK,
			   "access"))
		return false;
	if (!(access & PFERR_WRITE_MASK))
		return true;
	if (W->hw_ad)
		frame_note_write(pfn, W->cur_op[cpu]);
	/* The frame's gfn: the guest's own (check_mapping compared them), else a search. */
	gfn = tr->gpa >> PAGE_SHIFT;
	if ((stale || !tr->leaf || !host_gfn_to_pfn_peek(W->sim, &W->guest, gfn, &own) ||
	     own != pfn) && !gfn_of_frame(pfn, UINT64_MAX, &gfn))
		return true;
	if (W->dirty_log_active && gfn < MMU_DIRTY_BITMAP_WORDS * 32) {
		W->written[gfn] = W->run;
		W->written_op[gfn] = W->cur_op[cpu];
		W->written_step[gfn] = sim_last_step(W->sim);
	}
	if (is_gpte_write) {
		sim_addr a;

		if (guest_gpa_addr(&W->guest, gfn << PAGE_SHIFT | (gva & 4095), &a))
			guest_store_gpte(a, wval, wbytes);
	}
	return true;
}

/*
 * One guest access: enter the guest, run it on the TLB or the hardware
 * walk, and on a fault run the MMU's handler outside the guest, until the
 * access completes, the guest takes a #PF, or the access is emulated.
 * Returns false on a divergence.
 */
static bool guest_access(uint32_t cpu, uint64_t gva, uint32_t access, bool is_gpte_write,
			 uint64_t wval, unsigned wbytes)
{
	struct vcpu *v = &W->v[cpu];
	unsigned acc = (access & PFERR_WRITE_MASK ? ORC_ACC_WRITE : 0) |
		       (access & PFERR_USER_MASK ? ORC_ACC_USER : 0) |
		       (access & PFERR_FETCH_MASK ? ORC_ACC_FETCH : 0);
	struct orc_translation tr;

	uint32_t epoch = W->memslot_updating ? ~0u : W->memslot_epoch;

	for (int attempt = 0; attempt < RETRIES_MAX; attempt++) {
		uint32_t pfec, guest_fault = 0;
		enum guest_outcome out;
		uint64_t pfn = 0;
		bool stale;
		int r;

		if (!vcpu_enter_guest(cpu))
			continue;
		stale = is_stale(v, gva);
		reference(v, gva, acc, &tr);
		out = guest_run_access(v, gva, access, &pfn, &pfec);
		if (out == ACCESS_DONE) {
			bool ok = access_done(cpu, gva, access, pfn, &tr, stale, is_gpte_write, wval,
					      wbytes);

			vcpu_exit_guest(cpu);
			return ok;
		}
		vcpu_exit_guest(cpu);
		if (W->res->divergence)
			return false;
		if (out == ACCESS_EXIT)
			continue;
		if (v->vm.direct_map) {
			r = nonpaging_page_fault(&W->kvm, &W->sh, &W->guest, &v->vm,
						 gva & 0xffffffffull, pfec);
		} else {
			r = kvm_shadow_page_fault(&W->kvm, &W->sh, &W->guest, &v->vm, gva, pfec,
						  &guest_fault);
		}
		if (W->res->divergence)
			return false;
		if (r == MMU_PF_BUG) {
			uint64_t sptes[4];

			/*
			 * handle_ept_misconfig on RET_MMIO_PF_BUG: dump the
			 * hierarchy with another lockless walk (whose reads the
			 * oracle judges too), then report.
			 */
			kvm_mmu_get_spte_hierarchy(&W->kvm, &v->vm, gva & 0xffffffffull, sptes);
			if (W->res->divergence)
				return false;
		}
		if (r == MMU_PF_BUG)
			return diverge("mmio-pf-bug", cpu, "gva %llx: handle_mmio_page_fault found a "
				       "present spte on a direct MMU (RET_MMIO_PF_BUG, error code %llx)",
				       gva, pfec);
		if (r == 0) {
			/* The guest takes a #PF: the reference must agree. */
			stale = is_stale(v, gva);
			reference(v, gva, acc, &tr);
			if (!stale && tr.ok)
				return diverge("fault", cpu, "gva %llx: #PF %llx injected for an access "
					       "the guest's tables allow", gva, guest_fault);
			if (!stale && guest_fault != tr.fault)
				return diverge("fault", cpu, "gva %llx: #PF error code %llx injected",
					       gva, guest_fault);
			return true;
		}
		if (r == MMU_PF_EMULATE) {
			const struct kvm_memory_slot *slot;

			stale = is_stale(v, gva);
			reference(v, gva, acc, &tr);
			slot = gfn_to_memslot(&W->guest, tr.gpa >> PAGE_SHIFT);
			/* A memslot update racing with the access may go either way. */
			if (W->memslot_updating || W->memslot_epoch != epoch)
				slot = NULL;
			/*
			 * The MMIO path answered from the vCPU's MMIO cache, or from
			 * an MMIO spte whose generation is the current one.
			 */
			if (!stale && tr.ok && slot && !slot->invalid &&
			    !is_gpte_write && !(access & PFERR_WRITE_MASK))
				return diverge(v->vm.mmio_from_cache ? "stale-mmio-cache"
								     : "stale-mmio-spte", cpu,
					       "gva %llx: a read of RAM (gpa %llx) was sent to the "
					       "emulator as MMIO", gva, tr.gpa);
			/* Emulated: a write to a shadowed page table, or MMIO. */
			if (is_gpte_write && tr.ok) {
				sim_addr a;

				if (guest_gpa_addr(&W->guest, tr.gpa, &a))
					guest_store_gpte(a, wval, wbytes);
				kvm_mmu_pte_write(&W->kvm, &W->sh, &W->guest, &v->vm, tr.gpa, wval,
						  (int)wbytes);
			}
			return true;
		}
	}
	/* Other CPUs kept changing the tables: the guest would retry. */
	return true;
}

static void reload_roots(uint32_t cpu, bool free_first)
{
	struct vcpu *v = &W->v[cpu];

	if (free_first) {
		sim_spin_lock(W->sim, MMU_ADDR_LOCK);
		mmu_free_roots_locked(&W->kvm, &W->sh, &v->vm);
		sim_spin_unlock(W->sim, MMU_ADDR_LOCK);
	} else if (!v->vm.direct_map) {
		/* kvm_set_cr3 with the same cr3: kvm_mmu_sync_roots now, then a flush. */
		sim_spin_lock(W->sim, MMU_ADDR_LOCK);
		kvm_mmu_sync_roots_locked(&W->kvm, &W->sh, &W->guest, &v->vm);
		sim_spin_unlock(W->sim, MMU_ADDR_LOCK);
	}
	kvm_make_request(&W->kvm, KVM_REQ_TLB_FLUSH, cpu);
	clear_stale(v, -1, 0);
}

/* The PDPTEs a mov cr3 loads in PAE mode. */
static void load_pdptrs(uint64_t pdptrs[4], uint64_t cr3)
{
	for (int i = 0; i < 4; i++) {
		uint64_t val = 0;

		read_guest(NULL, (cr3 & ~31ull) + 8 * (uint64_t)i, &val, 8);
		pdptrs[i] = val;
	}
}

static void set_mode(uint32_t cpu, enum guest_paging m, bool wp, bool nx, bool smep)
{
	struct vcpu *v = &W->v[cpu];
	uint64_t pdptrs[4] = { 0 };

	if (m == GUEST_PAGING_64 && W->kvm.width == MMU_HOST_32)
		m = GUEST_PAGING_PAE;   /* a 32-bit host cannot run long mode */
	sim_spin_lock(W->sim, MMU_ADDR_LOCK);
	mmu_free_roots_locked(&W->kvm, &W->sh, &v->vm);
	sim_spin_unlock(W->sim, MMU_ADDR_LOCK);
	v->nx = nx;
	if (m == GUEST_PAGING_PAE)
		load_pdptrs(pdptrs, mode_cr3(v, m));
	kvm_vcpu_mmu_set_paging(&v->vm, m, mode_cr3(v, m), pdptrs, nx, wp, smep, W->kvm.width);
	v->vm.vcpu_id = cpu;
	kvm_make_request(&W->kvm, KVM_REQ_TLB_FLUSH, cpu);
	clear_stale(v, -1, 0);
	if (W->gpte_writes_in_flight)
		memset(v->stale, 1, sizeof(v->stale));
}

static void op_gpte_write(uint32_t cpu, const struct fz_op *op)
{
	struct vcpu *v = &W->v[cpu];
	/* Entry a & 15 of one of the tables the window maps (window entries 12..15). */
	unsigned which = 12 + ((op->a >> 4) & 3), index = op->a & 15;
	bool two = paging(v) == GUEST_PAGING_32;
	unsigned bytes = two ? 4 : 8;
	uint64_t flags = (op->b & 1 ? P : 0) | (op->b & 2 ? RW : 0) | (op->b & 4 ? US : 0) |
			 (op->b & 8 ? A : 0) | (op->b & 16 ? D : 0) | (op->b & 32 ? XD : 0);
	uint64_t target = op->b & 64 ? window_gfn(1, index, two) : window_gfn(0, index ^ 1, two);
	uint64_t val = target << PAGE_SHIFT | flags;

	if (two)
		val &= 0xffffffffull;
	if (paging(v) == GUEST_PAGING_OFF)
		return;
	/*
	 * The write is in flight, for every vCPU's coherence, until the
	 * instruction is over (the emulator's kvm_mmu_pte_write included)
	 * and its stores are visible.
	 */
	mark_all_stale();
	W->gpte_writes_in_flight++;
	W->gpte_write_epoch++;
	gpte_write_parts[cpu] = 1;
	gpte_store_pending[cpu] = true;
	/* A supervisor write through the window entry that maps the table. */
	guest_access(cpu, window_gva(v, 0, which) + index * bytes, PFERR_WRITE_MASK, true, val,
		     bytes);
	gpte_store_pending[cpu] = false;
	gpte_write_part_done(cpu);
}

static void run_vcpu_op(uint32_t cpu, const struct fz_op *op)
{
	struct vcpu *v = &W->v[cpu];
	unsigned t = (op->a >> 4) % window_tables(v), i = op->a & 15;

	switch (op->kind) {
	case FZ_MMU_ACCESS: {
		uint32_t access = (op->b & 1 ? PFERR_WRITE_MASK : 0) | (op->b & 2 ? PFERR_USER_MASK : 0);

		if (op->b & 4)
			access = (access & PFERR_USER_MASK) | PFERR_FETCH_MASK;
		guest_access(cpu, window_gva(v, t, i), access, false, 0, 0);
		break;
	}
	case FZ_MMU_GPTE_WRITE:
		op_gpte_write(cpu, op);
		break;
	case FZ_MMU_INVLPG: {
		struct tlb_entry *e = tlb_lookup(v, window_gva(v, t, i));

		kvm_mmu_invlpg(&W->kvm, &W->sh, &W->guest, &v->vm, window_gva(v, t, i));
		if (e)
			e->valid = false;   /* the guest's invlpg itself */
		clear_stale(v, (int)t, (int)i);
		break;
	}
	case FZ_MMU_MOV_CR3:
		/*
		 * kvm_set_cr3 -> kvm_mmu_new_cr3 frees the old roots; the
		 * checks read cr3 and the PDPTEs, so they change after.
		 */
		if (op->b & 1 && paging(v) == GUEST_PAGING_64) {
			reload_roots(cpu, true);
			v->use_b = !v->use_b;
			v->vm.ctx.cr3 = mode_cr3(v, GUEST_PAGING_64);
		} else if (paging(v) == GUEST_PAGING_PAE) {
			/* kvm_set_cr3 reloads the PDPTEs; new ones mean new roots. */
			reload_roots(cpu, true);
			load_pdptrs(v->vm.ctx.pdptrs, v->vm.ctx.cr3);
		} else {
			reload_roots(cpu, false);
		}
		break;
	case FZ_MMU_MODE:
		set_mode(cpu, (enum guest_paging)(op->a & 3), op->b & 1, op->b & 2, op->b & 4);
		break;
	default:
		break;
	}
}

/* ---- the host threads ---- */

/* The guest frame a host operation acts on: a data page of the window. */
static uint64_t host_op_gfn(const struct fz_op *op)
{
	unsigned i = op->a & 15;

	if (i >= 12 || i == 10 || i == 9)
		i %= 9;
	return window_gfn((op->a >> 4) & 1, i, false);
}

/*
 * The frame the host moves gfn to: the slot's own frame, or one with the
 * same low 20 bits above a different 4 GiB boundary, or the frame the host
 * took from another gfn most recently (the page allocator hands freed
 * pages out again: the gfn -> pfn ABA of locking.txt), or a different one.
 */
static uint64_t host_new_pfn(uint64_t gfn, uint8_t b)
{
	uint64_t linear = MEMSLOT_PFN_BASE + gfn, pfn, old, other;

	switch (b & 3) {
	case 0:
		pfn = linear;
		break;
	case 1:
		pfn = 0x100000ull | (linear & 0xfffff);
		break;
	case 2:
		pfn = 0x200000ull | (linear & 0xfffff);
		break;
	default:
		if (W->revoked_count && (b & 4))
			pfn = W->revoked[W->revoked_count - 1];
		else
			pfn = 0x300000ull | ((gfn * 7 + 0x40) & 0xfffff);
		break;
	}
	/* A frame another gfn uses is not free: the page stays where it is. */
	if (gfn_of_frame(pfn, gfn, &other) && host_gfn_to_pfn_peek(W->sim, &W->guest, gfn, &old))
		return old;
	return pfn;
}

/* The host pte of gfn now points at new_pfn (0 in the word means the linear frame). */
static void host_set_pte(uint64_t gfn, uint64_t new_pfn)
{
	bool known = false;

	sim_store32(W->sim, MMU_ADDR_HOST_PTE + (sim_addr)gfn,
		    new_pfn == MEMSLOT_PFN_BASE + gfn ? 0 : (uint32_t)new_pfn);
	for (uint32_t i = 0; i < W->remapped_count; i++)
		known |= W->remapped[i] == gfn;
	if (!known && new_pfn != MEMSLOT_PFN_BASE + gfn) {
		assert(W->remapped_count < FZ_OPS_MAX);
		W->remapped[W->remapped_count++] = gfn;
	}
}

/*
 * Dirty logging: every page written since logging began is reported or
 * still set, or (fast page faults) about to be set: a write through an
 * spte that a fast page fault made writable before marking the page stays
 * owed, so the next get_dirty_log must report it (mmu_fast_pf_mark_pending).
 */
static bool check_dirty_log(uint32_t cpu, const uint32_t *reported)
{
	for (uint32_t g = 0; g < MMU_DIRTY_BITMAP_WORDS * 32; g++) {
		uint32_t bit = 1u << (g % 32);
		bool set;

		if (W->written[g] != W->run)
			continue;
		set = sim_mem_peek32(W->sim, MMU_ADDR_DIRTY_BITMAP + g / 32) & bit;
		if (reported[g / 32] & bit) {
			W->written[g] = 0;
			continue;
		}
		if (!set && !mmu_fast_pf_mark_pending(&W->kvm, g, W->written_step[g]))
			return diverge("dirty-log", cpu, "gfn %llx was written (by operation %llu) but "
				       "get_dirty_log did not report it and its bit is clear", g,
				       W->written_op[g]);
	}
	return true;
}

/*
 * install_new_memslots(): the new memslots and their generation are
 * published together (one pointer; here one locked step, with the private
 * memslot array changed right after it), then synchronize_srcu waits for
 * every vCPU that may still use the old ones.
 */
static void install_new_memslots(bool add, bool invalidate, bool del)
{
	struct sim *s = W->sim;

	sim_xchg32(s, MMU_ADDR_MEMSLOTS_GEN, sim_mem_peek32(s, MMU_ADDR_MEMSLOTS_GEN) + 1);
	if (add) {
		guest_add_memslot(&W->guest, HOLE_SLOT_BASE, HOLE_SLOT_PAGES, HOLE_SLOT_PFN);
	} else if (invalidate) {
		for (uint32_t i = 1; i < W->guest.slots_count; i++)
			if (W->guest.slots[i].base_gfn == HOLE_SLOT_BASE)
				W->guest.slots[i].invalid = true;
	} else if (del) {
		guest_del_memslot(&W->guest, HOLE_SLOT_BASE);
	}
	synchronize_srcu();
}

/*
 * Models: kvm_main.c: __kvm_set_memory_region() for the memslot over the
 * MMIO holes.  Creating it publishes the new memslots (stale MMIO sptes
 * are found by their generation; kvm_mmu_invalidate_mmio_sptes only zaps
 * on wrap-around, 150 updates away).  Deleting it first publishes the
 * slot as KVM_MEMSLOT_INVALID, zaps every shadow page
 * (kvm_arch_flush_shadow_memslot), then publishes the memslots without it.
 */
static void memslot_update(void)
{
	bool present = false;

	for (uint32_t i = 1; i < W->guest.slots_count; i++)
		present |= W->guest.slots[i].base_gfn == HOLE_SLOT_BASE;
	W->memslot_updating = true;
	W->memslot_epoch++;
	if (!present) {
		install_new_memslots(true, false, false);
	} else {
		install_new_memslots(false, true, false);
		kvm_mmu_invalidate_zap_all_pages(&W->kvm, &W->sh);
		install_new_memslots(false, false, true);
	}
	W->memslot_updating = false;
}

static void run_host_op(uint32_t cpu, const struct fz_op *op)
{
	uint64_t gfn = host_op_gfn(op), old_pfn, new_pfn;

	/*
	 * The host changes one page's pte at a time (the page-table lock and
	 * the page lock of a KSM merge, COW break or migration).
	 */
	if (op->kind == FZ_MMU_INVALIDATE || op->kind == FZ_MMU_CHANGE_PTE)
		sim_spin_lock(W->sim, MMU_ADDR_HOST_MM_LOCK);
	/* Under the host's lock: the frame chosen is still free when it is used. */
	new_pfn = host_new_pfn(gfn, op->b);
	host_gfn_to_pfn_peek(W->sim, &W->guest, gfn, &old_pfn);
	switch (op->kind) {
	case FZ_MMU_INVALIDATE:
		kvm_mmu_notifier_invalidate_range_start(&W->kvm, &W->sh, &W->guest, gfn);
		/* The old frame may be freed from here on: nobody may map it. */
		if (new_pfn != old_pfn) {
			revoke_pfn(old_pfn, true);
			frame_forget(new_pfn);
		}
		revoke_pfn(new_pfn, false);
		host_set_pte(gfn, new_pfn);
		kvm_mmu_notifier_invalidate_range_end(&W->kvm, &W->sh);
		if (new_pfn != old_pfn)
			check_frame_freed(cpu, old_pfn);
		break;
	case FZ_MMU_CHANGE_PTE:
		/* The host pte first (a KSM merge or COW break), then the notifier. */
		if (new_pfn != old_pfn)
			frame_forget(new_pfn);
		revoke_pfn(new_pfn, false);
		W->transit = true;
		W->transit_gfn = gfn;
		W->transit_pfn = old_pfn;
		host_set_pte(gfn, new_pfn);
		kvm_mmu_notifier_change_pte(&W->kvm, &W->sh, &W->guest, gfn, new_pfn, op->b & 4);
		W->transit = false;
		if (new_pfn != old_pfn) {
			revoke_pfn(old_pfn, true);
			check_frame_freed(cpu, old_pfn);
		}
		break;
	case FZ_MMU_AGE:
		if (op->b & 1)
			kvm_mmu_notifier_test_young(&W->kvm, &W->sh, &W->guest, gfn);
		else
			kvm_mmu_notifier_clear_flush_young(&W->kvm, &W->sh, &W->guest, gfn);
		break;
	case FZ_MMU_DIRTY_LOG:
		/* Both ioctls run under kvm->slots_lock, as memslot updates do. */
		sim_spin_lock(W->sim, MMU_ADDR_SLOTS_LOCK);
		if (!(op->b & 1) || !W->guest.slots[0].dirty_log) {
			if (!W->guest.slots[0].dirty_log) {
				/*
				 * __kvm_set_memory_region: publish the memslots with
				 * the flag, wait for SRCU readers, then commit.
				 */
				W->guest.slots[0].dirty_log = true;
				synchronize_srcu();
				kvm_mmu_slot_remove_write_access(&W->kvm, &W->sh, &W->guest);
				W->dirty_log_active = true;
			}
		} else {
			static uint32_t reported[MMU_DIRTY_BITMAP_WORDS];

			kvm_vm_ioctl_get_dirty_log(&W->kvm, &W->sh, &W->guest, reported);
			check_dirty_log(cpu, reported);
		}
		sim_spin_unlock(W->sim, MMU_ADDR_SLOTS_LOCK);
		break;
	case FZ_MMU_ZAP_ALL:
		kvm_mmu_invalidate_zap_all_pages(&W->kvm, &W->sh);
		break;
	case FZ_MMU_MEMSLOT:
		sim_spin_lock(W->sim, MMU_ADDR_SLOTS_LOCK);
		memslot_update();
		sim_spin_unlock(W->sim, MMU_ADDR_SLOTS_LOCK);
		break;
	default:
		break;
	}
	if (op->kind == FZ_MMU_INVALIDATE || op->kind == FZ_MMU_CHANGE_PTE)
		sim_spin_unlock(W->sim, MMU_ADDR_HOST_MM_LOCK);
}

/* ---- the CPUs ---- */

static void mmu_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	const struct fz_program *p = arg;
	bool host = cpu >= W->nvcpus;

	(void)s;
	if (!host) {
		W->in_op[cpu] = true;
		W->v[cpu].op_write_epoch = W->gpte_write_epoch;
		W->v[cpu].op_began_during_write = W->gpte_writes_in_flight != 0;
		srcu_read_lock(cpu);
		set_mode(cpu, (enum guest_paging)(p->config_high & 3), p->config_high & 4, true, false);
		/* The first entry loads the roots. */
		if (kvm_mmu_process_requests(&W->kvm, &W->sh, &W->guest, &W->v[cpu].vm))
			tlb_flush(&W->v[cpu]);
		srcu_read_unlock(cpu);
		W->in_op[cpu] = false;
	}
	for (uint32_t i = 0; i < p->ops_count; i++) {
		const struct fz_op *op = &p->ops[i];

		if (fz_mmu_op_is_host(op->kind) != host)
			continue;
		if (host ? (op->cpu & 1) != cpu - W->nvcpus : op->cpu % W->nvcpus != cpu)
			continue;
		W->cur_op[cpu] = i;
		W->in_op[cpu] = true;
		sim_note(W->sim, FZ_NOTE_OP, 0, i, op->kind);
		if (host) {
			run_host_op(cpu, op);
		} else {
			W->v[cpu].op_write_epoch = W->gpte_write_epoch;
			W->v[cpu].op_began_during_write = W->gpte_writes_in_flight != 0;
			srcu_read_lock(cpu);
			run_vcpu_op(cpu, op);
			srcu_read_unlock(cpu);
		}
		W->in_op[cpu] = false;
		if (W->res->divergence || !check_world(cpu))
			return;
	}
}

void fz_mmu_run(struct sim *sim, const struct fz_program *p, const struct fz_options *o,
		struct fz_result *out)
{
	static struct mmu_world world;
	struct orc_config oc = { .phys_bits = MMU_PHYS_BITS, .mmio_enabled = true,
				 .strict = o->strict };
	struct sim_config sc = { .mm = p->mm, .sched = p->sched_kind, .sched_bytes = p->sched,
				 .sched_len = p->sched_len, .seed = p->seed, .log = o->log,
				 .bare = o->bare,
				 .lazy_drains = (p->knobs & FZ_KNOB_LAZY_DRAINS) != 0 };

	W = &world;
	W->sim = sim;
	W->res = out;
	W->prog = p;
	W->nvcpus = o->vcpus ? o->vcpus : p->cpus < 2 ? 2 : p->cpus > 4 ? 4 : p->cpus;
	W->nhosts = 0;
	for (uint32_t i = 0; i < p->ops_count; i++)
		if (fz_mmu_op_is_host(p->ops[i].kind) && (p->ops[i].cpu & 1) + 1u > W->nhosts)
			W->nhosts = (p->ops[i].cpu & 1) + 1u;
	sc.cpus = W->nvcpus + W->nhosts;
	W->gpte_writes_in_flight = 0;
	W->gpte_write_epoch = 0;
	W->checked_mark = ~0ull;
	W->memslot_epoch = 0;
	W->memslot_updating = false;
	memset(gpte_store_pending, 0, sizeof(gpte_store_pending));
	memset(gpte_write_parts, 0, sizeof(gpte_write_parts));
	W->revoked_count = 0;
	W->remapped_count = 0;
	W->transit = false;
	W->dirty_log_active = false;
	W->hw_ad = p->version != FZ_FORMAT_LEGACY;
	W->frame_written_count = W->frame_dirty_count = 0;
	W->frames_untracked = false;
	W->run++;
	W->ids_used = 0;
	W->untracked = 0;
	W->commits_count = 0;
	if (!W->orc_ready || W->orc.config.strict != oc.strict) {
		orc_init(&W->orc, &oc);
		W->orc_ready = true;
	} else {
		orc_reset(&W->orc);
	}
	sc.feedback = o->bare ? NULL : o->feedback;
	sc.feedback_size = o->feedback_size;
	sc.steer = o->steer;
	sim_reset(sim, &sc);
	mmu_init(&W->kvm, sim, p->width, o->mutant, o->bare ? NULL : &observer, NULL);
	mmu_set_knobs(&W->kvm, p->knobs & FZ_KNOB_NARROW_COUNT, p->knobs & FZ_KNOB_FORCE_SLOW);
	W->bare = o->bare;
	W->kvm.nr_vcpus = W->nvcpus;
	W->kvm.memslots_shared = true;
	kvm_shadow_init(&W->sh);
	W->sh.sim = sim;
	memset(W->cur_op, 0, sizeof(W->cur_op));
	memset(W->in_op, 0, sizeof(W->in_op));
	memset(W->walk_ptr_step, 0, sizeof(W->walk_ptr_step));
	memset(W->walk_seen_begin, 0, sizeof(W->walk_seen_begin));
	guest_init(&W->guest);
	guest_add_memslot(&W->guest, 0, MEMSLOT_PAGES, MEMSLOT_PFN_BASE);
	/*
	 * The host backs guest memory with transparent huge pages: 2M sptes
	 * are possible (transparent_hugepage_adjust) until the host remaps a
	 * page of a 2M frame, which splits it.
	 */
	W->guest.slots[0].thp = true;
	for (uint32_t c = 0; c < W->nvcpus; c++) {
		memset(&W->v[c], 0, sizeof(W->v[c]));
		W->v[c].checked.mark = ~0ull;
		kvm_vcpu_mmu_init(&W->v[c].vm, GUEST_PAGING_OFF, false, p->width);
		W->v[c].vm.vcpu_id = c;
	}
	build_guest_tables();
	for (uint32_t c = 0; c < sc.cpus; c++)
		sim_spawn(sim, c, mmu_cpu, (void *)p);
	out->sim_result = sim_run(sim);
	out->hash = sim_hash(sim);
	out->steps = sim_steps(sim);
	out->stats = W->orc.stats;
	out->retries = W->kvm.read_retries;
	mmu_guard_counts(&W->kvm, out->guards);
	if (!out->divergence_class)
		out->divergence_class = "-";
}
