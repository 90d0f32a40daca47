/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The spte layer of the Linux 3.11 shadow MMU (arch/x86/kvm/mmu.c), modelled
 * function by function and barrier by barrier.  Each function names the
 * kernel function it models; the order of shared accesses and barriers is
 * the kernel's.  Shared memory is touched only through sim/ accessors.
 *
 * The split-spte protocol on a 32-bit PAE host (docs/kvm-shadow-mmu.md 3):
 *
 *   W1 __set_spte (not present -> anything):     high, wmb, low
 *   W2 __update_clear_spte_fast (old not volatile): low, wmb, high, count
 *   W3 __update_clear_spte_slow (old volatile):   xchg low, high, count
 *   R  __get_spte_lockless: count, rmb, low, rmb, high, rmb,
 *                           retry if low or count changed
 *
 * count_spte_clear bumps sp->clear_spte_count after a write of a
 * non-present value, behind a wmb, so that a reader which assembled an old
 * low half with a new high half across a present -> 0 -> present sequence
 * (kvm_set_pte_rmapp, with no TLB flush in between) sees the count move and
 * retries even when the two low halves are equal.
 *
 * Invariants owned here:
 *   M1  Only lock holders write the high half; the lockless writers
 *       (fast page fault's cmpxchg64, the CPU's A/D updates) change only
 *       the low half.
 *   M2  clear_spte_count moves only on W2/W3 writes of a non-present value.
 *   M3  A logical write is reported to the observer between its first and
 *       its last store, so the oracle sees every value the spte held.
 */
#include "mmu/mmu.h"
#include "mmu/plug.h"

#include <assert.h>
#include <string.h>

static const struct mmu_mutant_info mutants[MMU_MUTANT_COUNT] = {
	[MMU_MUTANT_NONE] = {
		"none", "the faithful Linux 3.11 model", "-", "-", "any",
	},
	[MMU_MUTANT_NO_CLEAR_COUNT] = {
		"no-clear-count",
		"count_spte_clear never increments clear_spte_count",
		"c2a2ac2b563c (KVM: MMU: lockless walking shadow page table) without its count",
		"read verdict: torn read {old low, stale high} across a present->0->present "
		"kvm_set_pte_rmapp rewrite",
		"spte or mmu target, 32-bit host, SC or TSO",
	},
	[MMU_MUTANT_SET_SPTE_LOW_FIRST] = {
		"set-spte-low-first",
		"__set_spte stores the low half before the high half",
		"603e0651cfc8 (do not need atomicly to set/clear spte) with W1's order reversed",
		"read verdict and hardware-walker check: present value with a stale high half",
		"spte or mmu target, 32-bit host, SC or TSO",
	},
	[MMU_MUTANT_READER_NO_LOW_RECHECK] = {
		"reader-no-low-recheck",
		"__get_spte_lockless does not re-read the low half before returning",
		"gup_get_pte-style reader without its only defence (race class 3.3 c)",
		"read verdict: {old low, zeroed high} during a W2/W3 clear",
		"spte or mmu target, 32-bit host, SC or TSO",
	},
	[MMU_MUTANT_READER_NO_COUNT_RECHECK] = {
		"reader-no-count-recheck",
		"__get_spte_lockless does not re-read clear_spte_count before returning",
		"c2a2ac2b563c reader without the count check (race class 3.3 a)",
		"read verdict: torn read across a present->0->present rewrite with equal low halves",
		"spte or mmu target, 32-bit host, SC or TSO",
	},
	[MMU_MUTANT_SET_PTE_RMAPP_NO_CLEAR] = {
		"set-pte-rmapp-no-clear",
		"kvm_set_pte_rmapp rewrites a present spte to the new pfn in place",
		"the present->non-present->present rewrite that clear_spte_count exists for, "
		"collapsed into one W3 update (race class 3.3 a, docs section 3.2)",
		"read verdict: {new low, old high} of two pfns, a frame nobody mapped",
		"spte or mmu target, 32-bit host, SC or TSO",
	},
	[MMU_MUTANT_LOCKLESS_BEGIN_NO_MB] = {
		"lockless-begin-no-mb",
		"walk_shadow_page_lockless_begin has no smp_mb after setting vcpu->mode",
		"c142786c6291 (Don't use RCU for lockless shadow walking) without its barrier",
		"use-after-free check: a lockless walker reads a shadow page freed after its "
		"walk began (the freer saw OUTSIDE_GUEST_MODE and sent no IPI)",
		"mmu target, x86-TSO only",
	},
	[MMU_MUTANT_ZAP_NO_WAIT_WALKERS] = {
		"zap-no-wait-walkers",
		"kvm_mmu_commit_zap_page frees shadow pages without the IPI-and-wait flush",
		"c142786c6291's freeing side removed (race class 3)",
		"use-after-free check on lockless walkers; stale TLB entries",
		"mmu target, SC or TSO",
	},
	[MMU_MUTANT_FAST_PF_INDIRECT] = {
		"fast-pf-indirect",
		"fast_page_fault also runs for shadow-paging (indirect) MMUs",
		"c7ba5b48cc8d's restriction to direct pages removed (locking.txt case 1: "
		"gfn->pfn ABA marks the wrong gfn dirty)",
		"write-protection check: a write through an spte of a shadowed guest page "
		"table, or a dirty page missing from the log",
		"mmu target, SC or TSO",
	},
	[MMU_MUTANT_VOLATILE_IGNORES_LOCKLESS_W] = {
		"volatile-ignores-lockless-w",
		"spte_has_volatile_bits forgets that fast page fault may set W locklessly",
		"c7ba5b48cc8d without 'locklessly modifiable => volatile' (locking.txt cases 2-3)",
		"D2 (lost-dirty): a plain clear wipes the W that fast page fault set and the D "
		"the CPU set after it, and the host frees a written frame as clean; on the "
		"spte target, the read verdict sees the lost write",
		"mmu target (input format 2) or spte target, SC or TSO",
	},
	[MMU_MUTANT_NOTIFIER_NO_RETRY] = {
		"notifier-no-retry",
		"the fault path ignores mmu_notifier_seq and mmu_notifier_count",
		"the mmu-notifier seq/count protocol (mmu_notifier_retry) removed",
		"reference translation: an spte maps a pfn the host already took away",
		"mmu target, SC or TSO",
	},
	[MMU_MUTANT_UPDATE_SLOW_PLAIN_READ] = {
		"update-slow-plain-read",
		"__update_clear_spte_slow reads the old low half plainly instead of with xchg",
		"c7ba5b48cc8d, locking.txt case 3: W3 with a plain read (the old value read "
		"non-atomically)",
		"D2 (lost-dirty): a W or D set between the read and the store is lost; on the "
		"spte target, the read verdict sees the lost write",
		"mmu target (input format 2) or spte target, 32-bit host, SC or TSO",
	},
	[MMU_MUTANT_REQUEST_SKIPS_WALKERS] = {
		"request-skips-walkers",
		"make_all_cpus_request sends no IPI to a vCPU in READING_SHADOW_PAGE_TABLES",
		"c142786c6291 with the IPI sent only to vCPUs in the guest",
		"W1 (use-after-free): a lockless walk reads a shadow page freed under it",
		"mmu target, SC or TSO",
	},
	[MMU_MUTANT_LOCKLESS_WALK_IRQS_ON] = {
		"lockless-walk-irqs-on",
		"walk_shadow_page_lockless_begin leaves interrupts enabled",
		"c142786c6291 without local_irq_disable: the walker acknowledges the flush IPI "
		"at once",
		"W1 (use-after-free): the zapper's wait returns while the walk goes on",
		"mmu target, SC or TSO",
	},
	[MMU_MUTANT_NOTIFIER_SEQ_AFTER_PFN] = {
		"notifier-seq-after-pfn",
		"the fault path samples mmu_notifier_seq after gfn_to_pfn instead of before",
		"the mmu-notifier seq/count protocol with its sample moved (docs section 7, #26)",
		"T2 (stale-pfn): an spte maps a pfn an invalidation that ended in between took away",
		"mmu target, SC or TSO",
	},
	[MMU_MUTANT_FETCH_NO_GPTE_RECHECK] = {
		"fetch-no-gpte-recheck",
		"FNAME(fetch) does not re-check the gptes after write-protecting the tables",
		"ad86b6c36bbb (the gpte changes unseen between the walk and the write "
		"protection of its table)",
		"T1 (translation): a shadow translation the guest's tables no longer allow",
		"mmu target, shadow paging, SC or TSO",
	},
	[MMU_MUTANT_UPDATE_DROPS_DIRTY] = {
		"update-drops-dirty",
		"mmu_spte_update does not call kvm_set_pfn_dirty when the new spte lacks D",
		"9ed5520dd3c9 (page dirty tracking lost while sync page): dirty state not "
		"propagated when an spte is rewritten",
		"D2 (lost-dirty): the host frees a frame the guest wrote as if it were clean",
		"mmu target, input format 2, SC or TSO",
	},
	[MMU_MUTANT_SET_SPTE_NO_WMB] = {
		"set-spte-no-wmb",
		"__set_spte has no smp_wmb between the high and the low half",
		"603e0651cfc8's W1 without its barrier (x86 orders the stores anyway)",
		"read verdict and hardware-walker check: the new low half (P set) with the "
		"old high half",
		"spte target, 32-bit host, relaxed memory model only (--mm relaxed)",
	},
	[MMU_MUTANT_CLEAR_FAST_NO_WMB] = {
		"clear-fast-no-wmb",
		"__update_clear_spte_fast has no smp_wmb between the low and the high half",
		"603e0651cfc8's W2 without its barrier",
		"read verdict: the old low half (P set) with the new high half",
		"spte target, 32-bit host, relaxed memory model only (--mm relaxed)",
	},
	[MMU_MUTANT_COUNT_CLEAR_NO_WMB] = {
		"count-clear-no-wmb",
		"count_spte_clear increments clear_spte_count without the smp_wmb before it",
		"c2a2ac2b563c's count_spte_clear without its barrier",
		"none: not observable (an equivalent mutant here): W2's own wmb and W3's xchg "
		"already order the low half before the count, so a reader that sees the new "
		"count sees a cleared or newer low half; an earlier count only causes retries",
		"spte target, 32-bit host, relaxed memory model only (--mm relaxed)",
	},
	[MMU_MUTANT_READER_NO_RMB_COUNT_LOW] = {
		"reader-no-rmb-count-low",
		"__get_spte_lockless has no smp_rmb between the count and the low half",
		"c2a2ac2b563c's reader without its first barrier",
		"read verdict: a low half older than the count snapshot, across a "
		"present->0->present rewrite",
		"spte target, 32-bit host, relaxed memory model only (--mm relaxed)",
	},
	[MMU_MUTANT_READER_NO_RMB_LOW_HIGH] = {
		"reader-no-rmb-low-high",
		"__get_spte_lockless has no smp_rmb between the low and the high half",
		"c2a2ac2b563c's reader without its second barrier",
		"read verdict: a new low half (P set) with a high half older than it",
		"spte target, 32-bit host, relaxed memory model only (--mm relaxed)",
	},
	[MMU_MUTANT_COUNT_WRAP] = {
		"count-wrap",
		"clear_spte_count is a u8, so it wraps after 256 clears",
		"c2a2ac2b563c with a narrow counter: wrap-around defeats the count re-check",
		"read verdict: torn read across as many present->0->present rewrites as the "
		"counter has values (4 under the narrow-count knob)",
		"spte or mmu target, 32-bit host, narrow-count knob (input format 3)",
	},
};

const struct mmu_mutant_info *mmu_mutant_info(enum mmu_mutant m)
{
	assert(m < MMU_MUTANT_COUNT);
	return &mutants[m];
}

enum mmu_mutant mmu_mutant_by_name(const char *name)
{
	for (int m = 0; m < MMU_MUTANT_COUNT; m++)
		if (strcmp(mutants[m].name, name) == 0)
			return (enum mmu_mutant)m;
	return MMU_MUTANT_COUNT;
}

/* Models: arch/x86/kvm/x86.c: kvm_set_mmio_spte_mask() (shadow paging). */
static uint64_t mmio_spte_mask(uint32_t maxphyaddr)
{
	uint64_t mask = ((1ull << (52 - maxphyaddr)) - 1) << maxphyaddr;

	mask |= 0x3ull << 62;   /* reserved bits 62 and 63 */
	mask |= 1ull;           /* present: the access faults with PFERR_RSVD */
	return mask;
}

const char *mmu_guard_name(enum mmu_guard g)
{
	static const char *const names[MMU_GUARD_NR] = {
		[MMU_GUARD_RETRY] = "retry",
		[MMU_GUARD_UPDATE_WINDOW] = "update-window",
		[MMU_GUARD_WALKER_FOUND] = "walker-found",
		[MMU_GUARD_WALKER_CLOSE] = "walker-close",
		[MMU_GUARD_GPTE_CHANGED] = "gpte-changed",
		[MMU_GUARD_STALE_WP] = "stale-wp",
	};

	return (unsigned)g < MMU_GUARD_NR ? names[g] : "?";
}

void mmu_init(struct kvm *kvm, struct sim *sim, enum mmu_host_width width,
	      enum mmu_mutant mutant, const struct mmu_observer *obs, void *obs_ctx)
{
	memset(kvm, 0, sizeof(*kvm));
	kvm->sim = sim;
	kvm->width = width;
	kvm->mutant = mutant;
	kvm->shadow_mmio_mask = mmio_spte_mask(MMU_PHYS_BITS);
	/* kvm_current_mmio_generation(): memslots generation 0, offset near wrap. */
	kvm->mmio_generation = (0 + MMIO_GEN_MASK - 150) & MMIO_GEN_MASK;
	kvm->obs = obs;
	kvm->obs_ctx = obs_ctx;
	kvm->proto = mmu_get_protocol();
	if (kvm->proto && sim)
		plug_reset();
	mmu_set_knobs(kvm, false, false);
}

bool mmu_prefetched_in_invalidation(const struct kvm *kvm, uint64_t pfn)
{
	for (uint32_t i = 0; i < kvm->prefetched_in_invalidation_count; i++)
		if (kvm->prefetched_in_invalidation[i] == pfn)
			return true;
	return false;
}

bool mmu_fast_pf_mark_pending(const struct kvm *kvm, uint64_t gfn, uint64_t since)
{
	for (uint32_t v = 0; v < kvm->nr_vcpus && v < MMU_VCPUS_MAX; v++)
		if (kvm->fast_pf_unmarked_gfn1[v] == gfn + 1 && kvm->fast_pf_unmarked_step[v] <= since)
			return true;
	return false;
}

void mmu_set_knobs(struct kvm *kvm, bool narrow_count, bool force_slow)
{
	bool u8 = kvm->mutant == MMU_MUTANT_COUNT_WRAP;

	if (narrow_count)
		kvm->count_mask = u8 ? 0x3u : 0xffu;
	else
		kvm->count_mask = u8 ? 0xffu : 0xffffffffu;
	kvm->force_slow = force_slow;
}

/* ---- predicates ---- */

/* Models: mmu.c: is_mmio_spte() */
bool is_mmio_spte(const struct kvm *kvm, uint64_t spte)
{
	return (spte & kvm->shadow_mmio_mask) == kvm->shadow_mmio_mask;
}

/* Models: mmu.c: is_shadow_present_pte() */
bool is_shadow_present_pte(const struct kvm *kvm, uint64_t spte)
{
	return (spte & PT_PRESENT_MASK) && !is_mmio_spte(kvm, spte);
}

/* Models: mmu.c: is_writable_pte() */
bool is_writable_pte(uint64_t spte)
{
	return spte & PT_WRITABLE_MASK;
}

/* Models: mmu.c: is_last_spte() */
bool is_last_spte(uint64_t spte, int level)
{
	if (level == PT_PAGE_TABLE_LEVEL)
		return true;
	return spte & PT_PAGE_SIZE_MASK;
}

/* Models: mmu.c: spte_is_locklessly_modifiable() */
bool spte_is_locklessly_modifiable(uint64_t spte)
{
	return (spte & (SPTE_HOST_WRITEABLE | SPTE_MMU_WRITEABLE)) ==
	       (SPTE_HOST_WRITEABLE | SPTE_MMU_WRITEABLE);
}

/*
 * Models: mmu.c: spte_has_volatile_bits()
 *
 * Can another agent change this spte while we hold mmu_lock?  Fast page
 * fault may set W on a locklessly modifiable spte; the CPU may set A, and D
 * through a writable entry.  Shadow paging has A/D masks, so the
 * "no accessed mask" early return of EPT without A/D never applies here.
 */
bool spte_has_volatile_bits(const struct kvm *kvm, uint64_t spte)
{
	if (kvm->mutant != MMU_MUTANT_VOLATILE_IGNORES_LOCKLESS_W &&
	    spte_is_locklessly_modifiable(spte))
		return true;
	if (!is_shadow_present_pte(kvm, spte))
		return false;
	if ((spte & PT_ACCESSED_MASK) &&
	    (!is_writable_pte(spte) || (spte & PT_DIRTY_MASK)))
		return false;
	return true;
}

/* Models: mmu.c: spte_to_pfn() */
uint64_t spte_to_pfn(uint64_t spte)
{
	return (spte & PT64_BASE_ADDR_MASK) >> PAGE_SHIFT;
}

/* Models: mmu.c: generation_mmio_spte_mask() */
static uint64_t generation_mmio_spte_mask(uint32_t gen)
{
	uint64_t mask;

	mask = (uint64_t)(gen & MMIO_GEN_LOW_MASK) << MMIO_SPTE_GEN_LOW_SHIFT;
	mask |= ((uint64_t)gen >> MMIO_GEN_LOW_SHIFT) << MMIO_SPTE_GEN_HIGH_SHIFT;
	return mask;
}

/* Models: mmu.c: get_mmio_spte_generation() */
uint32_t get_mmio_spte_generation(uint64_t spte)
{
	uint32_t gen;

	spte &= ~(1ull << 63) & ~(1ull << 62);  /* the mask's reserved bits */
	gen = (spte >> MMIO_SPTE_GEN_LOW_SHIFT) & MMIO_GEN_LOW_MASK;
	gen |= (uint32_t)((spte >> MMIO_SPTE_GEN_HIGH_SHIFT) << MMIO_GEN_LOW_SHIFT);
	return gen & MMIO_GEN_MASK;
}

/* The value mark_mmio_spte() installs (access limited to W|U). */
uint64_t make_mmio_spte(const struct kvm *kvm, uint64_t gfn, unsigned access, uint32_t gen)
{
	uint64_t mask = generation_mmio_spte_mask(gen);

	access &= PT_WRITABLE_MASK | PT_USER_MASK;
	return mask | kvm->shadow_mmio_mask | access | gfn << PAGE_SHIFT;
}

/* ---- reporting ---- */

static const char *const fn_names[MMU_FN_COUNT] = {
	[MMU_FN_SET_SPTE] = "__set_spte",
	[MMU_FN_UPDATE_CLEAR_SPTE_FAST] = "__update_clear_spte_fast",
	[MMU_FN_UPDATE_CLEAR_SPTE_SLOW] = "__update_clear_spte_slow",
	[MMU_FN_COUNT_SPTE_CLEAR] = "count_spte_clear",
	[MMU_FN_GET_SPTE_LOCKLESS] = "__get_spte_lockless",
	[MMU_FN_SPTE_READ_LOCKED] = "*sptep",
	[MMU_FN_MMU_SPTE_SET] = "mmu_spte_set",
	[MMU_FN_MMU_SPTE_UPDATE] = "mmu_spte_update",
	[MMU_FN_MMU_SPTE_CLEAR_TRACK_BITS] = "mmu_spte_clear_track_bits",
	[MMU_FN_MMU_SPTE_CLEAR_NO_TRACK] = "mmu_spte_clear_no_track",
	[MMU_FN_MARK_MMIO_SPTE] = "mark_mmio_spte",
	[MMU_FN_KVM_SET_PTE_RMAPP] = "kvm_set_pte_rmapp",
	[MMU_FN_KVM_AGE_RMAPP] = "kvm_age_rmapp",
	[MMU_FN_LOCKLESS_BEGIN] = "walk_shadow_page_lockless_begin",
	[MMU_FN_LOCKLESS_END] = "walk_shadow_page_lockless_end",
	[MMU_FN_FAST_PAGE_FAULT] = "fast_page_fault",
	[MMU_FN_FAST_PF_FIX_DIRECT_SPTE] = "fast_pf_fix_direct_spte",
	[MMU_FN_HW_WALK] = "hardware page walk",
	[MMU_FN_HW_SET_AD] = "hardware A/D update",
};

const char *mmu_fn_name(enum mmu_fn f)
{
	return f < MMU_FN_COUNT ? fn_names[f] : "?";
}

/* Tell the event log which kernel function the next accesses belong to. */
static void fn(struct kvm *kvm, enum mmu_fn f, sim_addr sptep)
{
	if (kvm->sim) {
		sim_note(kvm->sim, MMU_NOTE_FN, sptep, f, 0);
		sim_site(kvm->sim, f == MMU_FN_SET_SPTE ? MMU_SITE_SET_SPTE : (uint8_t)f);
	}
}

/*
 * Interleaving feedback of the lockless reader (not part of the kernel
 * function): which writers' stores a try assembled (the count, the low and
 * high halves, and the last re-check), and why it retried.
 */
void mmu_reader_try_feedback(struct kvm *kvm, bool retried, uint16_t count_tag, uint16_t low_tag,
			     uint16_t high_tag, uint16_t check_tag, uint32_t cause)
{
	/* Writers' sites; whether the halves and the re-check share a writer. */
	uint32_t same = (low_tag == high_tag) | (low_tag == check_tag) << 1;

	sim_feedback(kvm->sim, (retried ? 2u : 1u) << 30 | cause << 28 | same << 26 |
				       (uint32_t)(count_tag >> 4 & 3) << 24 |
				       (uint32_t)(low_tag >> 4) << 16 | (uint32_t)(high_tag >> 4) << 8 |
				       (uint32_t)(check_tag >> 4));
}

void mmu_report_write_begin(struct kvm *kvm, sim_addr sptep, uint64_t v)
{
	sim_note(kvm->sim, MMU_NOTE_WRITE, sptep, v, 0);
	if (kvm->obs && kvm->obs->write_begin)
		kvm->obs->write_begin(kvm->obs_ctx, sptep, v, sim_last_step(kvm->sim));
}

void mmu_report_write_end(struct kvm *kvm, sim_addr sptep)
{
	sim_site(kvm->sim, 0);   /* the logical write is over */
	if (kvm->obs && kvm->obs->write_end)
		kvm->obs->write_end(kvm->obs_ctx, sptep);
}

void mmu_note_fn(struct kvm *kvm, enum mmu_fn f, sim_addr sptep)
{
	fn(kvm, f, sptep);
}

/*
 * A plugged protocol (struct mmu_protocol, mmu/plug.c) replaces the 32-bit
 * primitive `member` when it provides it; the built-in path stays as it is.
 */
#define PLUGGED(kvm, member) \
	((kvm)->proto && (kvm)->proto->member && (kvm)->width == MMU_HOST_32)

static void report_read(struct kvm *kvm, sim_addr sptep, enum mmu_read_kind kind,
			uint64_t start, uint64_t end, uint64_t v)
{
	sim_note(kvm->sim, MMU_NOTE_READ, sptep, v, kind);
	sim_site(kvm->sim, 0);   /* the read is over */
	if (kvm->obs && kvm->obs->read)
		kvm->obs->read(kvm->obs_ctx, sptep, kind, start, end, v);
}

/* page_header(__pa(sptep))->clear_spte_count */
static sim_addr clear_spte_count_addr(sim_addr sptep)
{
	assert(sptep >= MMU_ADDR_SPT);
	return MMU_ADDR_COUNT + (sptep - MMU_ADDR_SPT) / MMU_SP_WORDS;
}

/* ---- the split-spte primitives ---- */

/*
 * Models: mmu.c: count_spte_clear() (CONFIG_X86_32)
 *
 * The wmb orders both halves of the clear before the increment; it pairs
 * with the rmb between the two half reads and the final re-checks in
 * __get_spte_lockless().  Without it a reader could take the new count
 * first, then the old low half and a cleared high half, and pass both
 * re-checks.  The increment itself is a plain read-modify-write: only lock
 * holders write the count.
 */
static void count_spte_clear(struct kvm *kvm, sim_addr sptep, uint64_t spte)
{
	struct sim *s = kvm->sim;
	sim_addr count = clear_spte_count_addr(sptep);
	uint32_t c;

	fn(kvm, MMU_FN_COUNT_SPTE_CLEAR, sptep);
	if (PLUGGED(kvm, count_spte_clear)) {
		plug_enter_other(kvm, sptep);
		kvm->proto->count_spte_clear(plug_sptep(sptep), spte);
		plug_leave(kvm);
		return;
	}
	if (is_shadow_present_pte(kvm, spte))
		return;
	if (kvm->mutant != MMU_MUTANT_COUNT_CLEAR_NO_WMB)
		sim_smp_wmb(s);
	c = sim_load32(s, count);
	if (kvm->mutant == MMU_MUTANT_NO_CLEAR_COUNT)
		return;
	sim_store32(s, count, (c + 1) & kvm->count_mask);
}

/*
 * Models: mmu.c: __set_spte()
 *
 * Only for a not-present -> anything transition.  32-bit: the high half
 * goes first and the wmb keeps it ahead of the low half, so whoever sees
 * the new low half (with P set) also sees the new high half.  That covers
 * the hardware walker of another vCPU as well as the lockless readers;
 * W1 never bumps the count, so the order is the only defence.
 */
static void __set_spte(struct kvm *kvm, sim_addr sptep, uint64_t spte)
{
	struct sim *s = kvm->sim;

	fn(kvm, MMU_FN_SET_SPTE, sptep);
	if (PLUGGED(kvm, set_spte)) {
		plug_enter_write(kvm, sptep, spte, false);
		kvm->proto->set_spte(plug_sptep(sptep), spte);
		plug_leave(kvm);
		return;
	}
	if (kvm->width == MMU_HOST_64) {
		sim_store64(s, sptep, spte);
		mmu_report_write_begin(kvm, sptep, spte);
		mmu_report_write_end(kvm, sptep);
		return;
	}
	if (kvm->mutant == MMU_MUTANT_SET_SPTE_LOW_FIRST) {
		sim_store32(s, sptep, (uint32_t)spte);
		mmu_report_write_begin(kvm, sptep, spte);
		sim_smp_wmb(s);
		sim_store32(s, sptep + 1, (uint32_t)(spte >> 32));
		mmu_report_write_end(kvm, sptep);
		return;
	}
	sim_store32(s, sptep + 1, (uint32_t)(spte >> 32));
	mmu_report_write_begin(kvm, sptep, spte);
	if (kvm->mutant != MMU_MUTANT_SET_SPTE_NO_WMB)
		sim_smp_wmb(s);
	sim_store32(s, sptep, (uint32_t)spte);
	mmu_report_write_end(kvm, sptep);
}

/*
 * Models: mmu.c: __update_clear_spte_fast()
 *
 * The old value is not volatile, so nobody else can change it: plain
 * stores suffice.  Low half first: for a clear, P disappears before the
 * high half changes, so no reader pairs an old present low half with a new
 * high half without seeing the low half change on its re-check.
 */
static void __update_clear_spte_fast(struct kvm *kvm, sim_addr sptep, uint64_t spte)
{
	struct sim *s = kvm->sim;

	fn(kvm, MMU_FN_UPDATE_CLEAR_SPTE_FAST, sptep);
	if (PLUGGED(kvm, update_clear_spte_fast)) {
		/* The plugged function calls its own count_spte_clear(). */
		plug_enter_write(kvm, sptep, spte, true);
		kvm->proto->update_clear_spte_fast(plug_sptep(sptep), spte);
		plug_leave(kvm);
		return;
	}
	if (kvm->width == MMU_HOST_64) {
		sim_store64(s, sptep, spte);
		mmu_report_write_begin(kvm, sptep, spte);
		mmu_report_write_end(kvm, sptep);
		return;
	}
	sim_store32(s, sptep, (uint32_t)spte);
	mmu_report_write_begin(kvm, sptep, spte);
	if (kvm->mutant != MMU_MUTANT_CLEAR_FAST_NO_WMB)
		sim_smp_wmb(s);
	sim_store32(s, sptep + 1, (uint32_t)(spte >> 32));
	mmu_report_write_end(kvm, sptep);
	count_spte_clear(kvm, sptep, spte);
}

/*
 * Models: mmu.c: __update_clear_spte_slow()
 *
 * The old value is volatile: fast page fault may set W, the CPU may set A
 * or D, both in the low half only.  xchg on the low half returns exactly
 * what they left there and is a full barrier; the high half is read plainly
 * because no lockless agent ever writes it (M1).
 */
static uint64_t __update_clear_spte_slow(struct kvm *kvm, sim_addr sptep, uint64_t spte)
{
	struct sim *s = kvm->sim;
	uint32_t old_low, old_high;

	fn(kvm, MMU_FN_UPDATE_CLEAR_SPTE_SLOW, sptep);
	if (PLUGGED(kvm, update_clear_spte_slow)) {
		uint64_t old;

		plug_enter_write(kvm, sptep, spte, true);
		old = kvm->proto->update_clear_spte_slow(plug_sptep(sptep), spte);
		plug_leave(kvm);
		return old;
	}
	if (kvm->width == MMU_HOST_64) {
		/* xchg64: a cmpxchg64 loop, as the kernel's xchg on u64 is. */
		uint64_t old = sim_load64(s, sptep), seen;

		while ((seen = sim_cmpxchg64(s, sptep, old, spte)) != old)
			old = seen;
		mmu_report_write_begin(kvm, sptep, spte);
		mmu_report_write_end(kvm, sptep);
		return old;
	}
	if (kvm->mutant == MMU_MUTANT_UPDATE_SLOW_PLAIN_READ) {
		old_low = sim_load32(s, sptep);
		sim_store32(s, sptep, (uint32_t)spte);
	} else {
		old_low = sim_xchg32(s, sptep, (uint32_t)spte);
	}
	mmu_report_write_begin(kvm, sptep, spte);
	old_high = sim_load32(s, sptep + 1);
	sim_store32(s, sptep + 1, (uint32_t)(spte >> 32));
	mmu_report_write_end(kvm, sptep);
	count_spte_clear(kvm, sptep, spte);
	return old_low | (uint64_t)old_high << 32;
}

/*
 * Models: mmu.c: __get_spte_lockless() (CONFIG_X86_32)
 *
 * The first rmb pairs with count_spte_clear's wmb: the count snapshot is
 * older than the halves.  The second pairs with __set_spte's wmb: a new low
 * half implies the new high half.  The third keeps the re-checks after the
 * half reads.  A retry with no store anywhere since the try began could only
 * spin, so the simulated CPU blocks until some store lands.
 */
static uint64_t __get_spte_lockless(struct kvm *kvm, sim_addr sptep, uint64_t *out_start)
{
	struct sim *s = kvm->sim;
	sim_addr count_addr = clear_spte_count_addr(sptep);

	fn(kvm, MMU_FN_GET_SPTE_LOCKLESS, sptep);
	if (PLUGGED(kvm, get_spte_lockless)) {
		uint64_t v;

		plug_enter_read(kvm, sptep);
		v = kvm->proto->get_spte_lockless(plug_sptep(sptep));
		*out_start = plug_leave(kvm);
		return v;
	}
	if (kvm->width == MMU_HOST_64) {
		uint64_t v = sim_load64(s, sptep);  /* ACCESS_ONCE(*sptep) */

		*out_start = sim_last_load_since(s);
		return v;
	}
	for (;;) {
		uint64_t mark = sim_retry_mark(s);
		uint32_t count, low, high;
		bool changed;

		uint16_t count_tag, low_tag, high_tag;
		uint32_t cause = 0;

		kvm->recheck_count_stale = false;
		count = sim_load32(s, count_addr);
		count_tag = sim_load_tag(s);
		*out_start = sim_last_step(s);
		if (kvm->mutant != MMU_MUTANT_READER_NO_RMB_COUNT_LOW)
			sim_smp_rmb(s);
		low = sim_load32(s, sptep);
		low_tag = sim_load_tag(s);
		/* Relaxed memory: a stale half widens the window back to its write. */
		if (sim_last_load_since(s) < *out_start)
			*out_start = sim_last_load_since(s);
		if (kvm->mutant != MMU_MUTANT_READER_NO_RMB_LOW_HIGH)
			sim_smp_rmb(s);
		high = sim_load32(s, sptep + 1);
		high_tag = sim_load_tag(s);
		if (sim_last_load_since(s) < *out_start)
			*out_start = sim_last_load_since(s);
		sim_smp_rmb(s);
		/* cause: 1 the low half changed, 2 the count changed. */
		switch (kvm->mutant) {
		case MMU_MUTANT_READER_NO_LOW_RECHECK:
			if (count != sim_load32(s, count_addr))
				cause = 2;
			break;
		case MMU_MUTANT_READER_NO_COUNT_RECHECK:
			if (low != sim_load32(s, sptep))
				cause = 1;
			break;
		default:
			/* Short-circuit, as in C: the count is re-read only if low held. */
			if (low != sim_load32(s, sptep))
				cause = 1;
			else if (count != sim_load32(s, count_addr))
				cause = 2;
			else
				/*
				 * Relaxed memory only: nothing orders the two
				 * re-checks, so the count may be older than the low
				 * half (a count bump this CPU has not seen yet).
				 */
				kvm->recheck_count_stale = sim_last_load_since(s) < sim_last_step(s);
			break;
		}
		changed = cause != 0;
		mmu_reader_try_feedback(kvm, changed, count_tag, low_tag, high_tag, sim_load_tag(s),
					cause);
		if (!changed)
			return low | (uint64_t)high << 32;
		kvm->read_retries++;
		sim_retry_wait(s, mark);
	}
}

/* ---- callers, under mmu_lock ---- */

/*
 * The lock holder's plain `*sptep`.  On a 32-bit host a u64 load is two
 * 32-bit loads (low, then high); nothing else writes the high half while we
 * hold the lock, and a racing low-half change is what the volatile-bits
 * logic is for.
 */
uint64_t mmu_spte_read_locked(struct kvm *kvm, sim_addr sptep)
{
	struct sim *s = kvm->sim;
	uint32_t low, high;

	fn(kvm, MMU_FN_SPTE_READ_LOCKED, sptep);
	if (kvm->width == MMU_HOST_64)
		return sim_load64(s, sptep);
	low = sim_load32(s, sptep);
	high = sim_load32(s, sptep + 1);
	return low | (uint64_t)high << 32;
}

/*
 * Models: mmu.c: mmu_spte_set()
 *
 * Rules for using mmu_spte_set: the spte must not be shadow-present (MMIO
 * counts as not present).  Nothing but the two halves is written.
 */
void mmu_spte_set(struct kvm *kvm, sim_addr sptep, uint64_t new_spte)
{
	uint64_t old;

	fn(kvm, MMU_FN_MMU_SPTE_SET, sptep);
	old = mmu_spte_read_locked(kvm, sptep);  /* WARN_ON(present) */
	assert(!is_shadow_present_pte(kvm, old));
	(void)old;
	__set_spte(kvm, sptep, new_spte);
}

/*
 * Models: mmu.c: kvm_set_pfn_dirty(spte_to_pfn(old_spte)): the host learns
 * that the guest wrote the page, from the dirty bit of an spte being
 * dropped.  A dirty bit lost on the way is a write the host never hears of.
 */
static void kvm_set_pfn_dirty(struct kvm *kvm, uint64_t old_spte)
{
	kvm->pfn_dirty_marks++;
	if (kvm->obs && kvm->obs->pfn_dirty)
		kvm->obs->pfn_dirty(kvm->obs_ctx, spte_to_pfn(old_spte),
				    old_spte & PT_PAGE_SIZE_MASK);
}

/*
 * Models: mmu.c: mmu_spte_update()
 *
 * Rules for using mmu_spte_update: the caller holds mmu_lock and keeps the
 * pfn (a pfn change goes through drop_spte first).  Returns true when the
 * old value was writable and the new one is not: a remote TLB flush is
 * needed.  The old value is read plainly; if fast page fault could change
 * it behind our back (volatile bits), W3's xchg gives the exact old value,
 * so neither the flush decision nor a dirty bit is lost.
 */
bool mmu_spte_update(struct kvm *kvm, sim_addr sptep, uint64_t new_spte)
{
	uint64_t old_spte;
	bool ret = false;

	fn(kvm, MMU_FN_MMU_SPTE_UPDATE, sptep);
	kvm->locked_update_sptep1 = sptep + 1;
	old_spte = mmu_spte_read_locked(kvm, sptep);
	assert(is_shadow_present_pte(kvm, new_spte));
	if (!is_shadow_present_pte(kvm, old_spte)) {
		kvm->locked_update_sptep1 = 0;
		mmu_spte_set(kvm, sptep, new_spte);
		return ret;
	}
	/* The model's callers keep the pfn; only the mutant rewrites it in place. */
	assert(spte_to_pfn(old_spte) == spte_to_pfn(new_spte) ||
	       kvm->mutant == MMU_MUTANT_SET_PTE_RMAPP_NO_CLEAR);
	if (!kvm->force_slow && !spte_has_volatile_bits(kvm, old_spte))
		__update_clear_spte_fast(kvm, sptep, new_spte);
	else
		old_spte = __update_clear_spte_slow(kvm, sptep, new_spte);
	kvm->locked_update_sptep1 = 0;

	if (is_writable_pte(old_spte) && !is_writable_pte(new_spte))
		ret = true;
	/* kvm_set_pfn_accessed/dirty for an A or D bit being cleared. */
	if ((old_spte & PT_ACCESSED_MASK) && !(new_spte & PT_ACCESSED_MASK))
		kvm->pfn_accessed_marks++;
	if ((old_spte & PT_DIRTY_MASK) && !(new_spte & PT_DIRTY_MASK) &&
	    kvm->mutant != MMU_MUTANT_UPDATE_DROPS_DIRTY)
		kvm_set_pfn_dirty(kvm, old_spte);
	return ret;
}

/*
 * Models: mmu.c: mmu_spte_clear_track_bits()
 *
 * Present -> 0 for a leaf spte, propagating A and D to the page.  Returns 1
 * if the old value was shadow-present (the caller then removes the rmap).
 */
int mmu_spte_clear_track_bits(struct kvm *kvm, sim_addr sptep)
{
	uint64_t old_spte;

	fn(kvm, MMU_FN_MMU_SPTE_CLEAR_TRACK_BITS, sptep);
	kvm->locked_update_sptep1 = sptep + 1;
	old_spte = mmu_spte_read_locked(kvm, sptep);
	if (!kvm->force_slow && !spte_has_volatile_bits(kvm, old_spte))
		__update_clear_spte_fast(kvm, sptep, 0ull);
	else
		old_spte = __update_clear_spte_slow(kvm, sptep, 0ull);
	kvm->locked_update_sptep1 = 0;
	if (!is_shadow_present_pte(kvm, old_spte))
		return 0;
	if (old_spte & PT_ACCESSED_MASK)
		kvm->pfn_accessed_marks++;
	if (old_spte & PT_DIRTY_MASK)
		kvm_set_pfn_dirty(kvm, old_spte);
	return 1;
}

/*
 * Models: mmu.c: mmu_spte_clear_no_track()
 *
 * For non-leaf and MMIO sptes: W2 to 0, which still bumps the count.
 */
void mmu_spte_clear_no_track(struct kvm *kvm, sim_addr sptep)
{
	fn(kvm, MMU_FN_MMU_SPTE_CLEAR_NO_TRACK, sptep);
	__update_clear_spte_fast(kvm, sptep, 0ull);
}

uint32_t kvm_current_mmio_generation(struct kvm *kvm)
{
	if (!kvm->memslots_shared)
		return kvm->mmio_generation;
	return (sim_load32(kvm->sim, MMU_ADDR_MEMSLOTS_GEN) + MMIO_GEN_MASK - 150) & MMIO_GEN_MASK;
}

/* Models: mmu.c: mark_mmio_spte() */
void mark_mmio_spte(struct kvm *kvm, sim_addr sptep, uint64_t gfn, unsigned access)
{
	fn(kvm, MMU_FN_MARK_MMIO_SPTE, sptep);
	mmu_spte_set(kvm, sptep, make_mmio_spte(kvm, gfn, access, kvm_current_mmio_generation(kvm)));
}

/*
 * Models: mmu.c: kvm_set_pte_rmapp(), for one rmap entry.
 *
 * A writable host pte drops the spte.  Otherwise the spte is rewritten to
 * the new pfn, read-only, not host-writable and not accessed, as a clear
 * followed by a set, and the caller flushes once for the whole rmap: within
 * one reader window the spte can go present(A) -> 0 -> present(B).  This is
 * the reason clear_spte_count exists.  Returns need_flush.
 */
bool kvm_set_pte_rmapp_one(struct kvm *kvm, sim_addr sptep, uint64_t new_pfn,
			   bool host_pte_writable)
{
	uint64_t spte, new_spte;

	fn(kvm, MMU_FN_KVM_SET_PTE_RMAPP, sptep);
	spte = mmu_spte_read_locked(kvm, sptep);
	if (!is_shadow_present_pte(kvm, spte))
		return false;   /* not in the rmap */
	if (host_pte_writable) {
		mmu_spte_clear_track_bits(kvm, sptep);  /* drop_spte */
		return true;
	}
	new_spte = spte & ~PT64_BASE_ADDR_MASK;
	new_spte |= new_pfn << PAGE_SHIFT;
	new_spte &= ~PT_WRITABLE_MASK;
	new_spte &= ~SPTE_HOST_WRITEABLE;
	new_spte &= ~PT_ACCESSED_MASK;
	if (kvm->mutant == MMU_MUTANT_SET_PTE_RMAPP_NO_CLEAR) {
		mmu_spte_update(kvm, sptep, new_spte);
		return true;
	}
	mmu_spte_clear_track_bits(kvm, sptep);
	mmu_spte_set(kvm, sptep, new_spte);
	return true;
}

/*
 * Models: mmu.c: kvm_age_rmapp(), for one rmap entry.
 *
 * clear_bit on the low half: a locked and, atomic against the CPU's A/D
 * updates and fast page fault's cmpxchg64.  It bypasses mmu_spte_update and
 * never bumps the count: a present -> present change of the low half only.
 */
bool kvm_age_rmapp_one(struct kvm *kvm, sim_addr sptep)
{
	uint64_t spte;
	uint32_t old_low;

	fn(kvm, MMU_FN_KVM_AGE_RMAPP, sptep);
	spte = mmu_spte_read_locked(kvm, sptep);
	if (!is_shadow_present_pte(kvm, spte))
		return false;
	if (!(spte & PT_ACCESSED_MASK))
		return false;
	fn(kvm, MMU_FN_KVM_AGE_RMAPP, sptep);
	old_low = sim_and32(kvm->sim, sptep, ~(uint32_t)PT_ACCESSED_MASK);
	mmu_report_write_begin(kvm, sptep, ((spte & ~0xffffffffull) | old_low) & ~PT_ACCESSED_MASK);
	mmu_report_write_end(kvm, sptep);
	return true;
}

/* ---- lockless side ---- */

/*
 * Models: mmu.c: walk_shadow_page_lockless_begin()
 *
 * Interrupts off holds off the TLB-flush IPI that kvm_mmu_commit_zap_page
 * waits for before freeing shadow pages; the mode store tells the freer to
 * send it.  The smp_mb orders the mode store before every spte load (a
 * store-buffer pattern with the freer's page-table stores and mode load).
 */
void walk_shadow_page_lockless_begin(struct kvm *kvm, uint32_t vcpu)
{
	struct sim *s = kvm->sim;

	fn(kvm, MMU_FN_LOCKLESS_BEGIN, 0);
	if (kvm->mutant != MMU_MUTANT_LOCKLESS_WALK_IRQS_ON)
		sim_irq_disable(s);
	sim_store32(s, MMU_ADDR_MODE + vcpu, READING_SHADOW_PAGE_TABLES);
	kvm->lockless_begin_step[vcpu] = sim_last_step(s);
	if (kvm->mutant != MMU_MUTANT_LOCKLESS_BEGIN_NO_MB)
		sim_smp_mb(s);
}

/* Models: mmu.c: walk_shadow_page_lockless_end() */
void walk_shadow_page_lockless_end(struct kvm *kvm, uint32_t vcpu)
{
	struct sim *s = kvm->sim;

	fn(kvm, MMU_FN_LOCKLESS_END, 0);
	/* Every spte load completes before we let the freer go. */
	sim_smp_mb(s);
	sim_store32(s, MMU_ADDR_MODE + vcpu, OUTSIDE_GUEST_MODE);
	if (kvm->mutant != MMU_MUTANT_LOCKLESS_WALK_IRQS_ON)
		sim_irq_enable(s);
}

/* Models: mmu.c: mmu_spte_get_lockless() */
uint64_t mmu_spte_get_lockless(struct kvm *kvm, sim_addr sptep)
{
	uint64_t start, v = __get_spte_lockless(kvm, sptep, &start);

	report_read(kvm, sptep, MMU_READ_LOCKLESS, start, sim_last_step(kvm->sim), v);
	return v;
}

/*
 * Models: mmu.c: fast_pf_fix_direct_spte()
 *
 * The only software spte write outside mmu_lock.  cmpxchg64 (cmpxchg8b on a
 * 32-bit host) succeeds only if the whole spte still equals what the walk
 * read, so a torn read can only make it fail (I4); it changes the low half
 * only (M1).
 */
bool fast_pf_cmpxchg_w(struct kvm *kvm, sim_addr sptep, uint64_t spte)
{
	uint64_t seen;

	fn(kvm, MMU_FN_FAST_PF_FIX_DIRECT_SPTE, sptep);
	seen = sim_cmpxchg64(kvm->sim, sptep, spte, spte | PT_WRITABLE_MASK);
	if (seen != spte)
		return false;
	if (kvm->locked_update_sptep1 == sptep + 1)
		kvm->guards[MMU_GUARD_UPDATE_WINDOW]++;
	mmu_report_write_begin(kvm, sptep, spte | PT_WRITABLE_MASK);
	mmu_report_write_end(kvm, sptep);
	return true;
}

static bool fast_pf_fix_direct_spte(struct kvm *kvm, sim_addr sptep, uint64_t spte)
{
	if (fast_pf_cmpxchg_w(kvm, sptep, spte))
		kvm->page_dirty_marks++;   /* mark_page_dirty(gfn) */
	return true;
}

/*
 * Models: mmu.c: fast_page_fault(), for a write-protection fault on one leaf
 * spte of a direct shadow page (page_fault_can_be_fast() already passed:
 * error code P|W, no RSVD).
 */
bool fast_page_fault_spte(struct kvm *kvm, uint32_t vcpu, sim_addr sptep)
{
	bool ret = false;
	uint64_t spte;

	fn(kvm, MMU_FN_FAST_PAGE_FAULT, sptep);
	walk_shadow_page_lockless_begin(kvm, vcpu);
	spte = mmu_spte_get_lockless(kvm, sptep);
	if (!is_shadow_present_pte(kvm, spte)) {
		ret = true;    /* the mapping changed: let the vCPU retry */
		goto exit;
	}
	if (!is_last_spte(spte, PT_PAGE_TABLE_LEVEL))
		goto exit;
	if (is_writable_pte(spte)) {
		ret = true;    /* a spurious fault from a lazily flushed TLB */
		goto exit;
	}
	if (!spte_is_locklessly_modifiable(spte))
		goto exit;
	ret = fast_pf_fix_direct_spte(kvm, sptep, spte);
exit:
	walk_shadow_page_lockless_end(kvm, vcpu);
	return ret;
}

/*
 * The hardware page walker: one atomic 64-bit load of the entry, as the
 * CPU's walk does (a locked cmpxchg8b is not needed: PAE walks read the
 * entry atomically).
 */
uint64_t mmu_hw_walk_spte(struct kvm *kvm, sim_addr sptep)
{
	uint64_t v, step;

	fn(kvm, MMU_FN_HW_WALK, sptep);
	v = sim_load64(kvm->sim, sptep);
	step = sim_last_step(kvm->sim);

	report_read(kvm, sptep, MMU_READ_HW_WALK, sim_last_load_since(kvm->sim), step, v);
	return v;
}

/*
 * The CPU's accessed and dirty bit update on a leaf spte: a locked
 * cmpxchg8b of the entry it walked, which fails if the entry changed since
 * (the CPU then walks again).  It runs outside mmu_lock, so every spte
 * without both bits is volatile (spte_has_volatile_bits) and lock holders
 * must clear it with xchg to learn a dirty bit set under them.
 */
bool mmu_hw_set_ad(struct kvm *kvm, sim_addr sptep, uint64_t spte, uint64_t bits)
{
	fn(kvm, MMU_FN_HW_SET_AD, sptep);
	if (sim_cmpxchg64(kvm->sim, sptep, spte, spte | bits) != spte)
		return false;
	mmu_report_write_begin(kvm, sptep, spte | bits);
	mmu_report_write_end(kvm, sptep);
	return true;
}
