/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mmu/: the KVM x86 shadow MMU model (Linux 3.11), the system under test.
 *
 * This slice is the spte layer of arch/x86/kvm/mmu.c: the spte layout, the
 * shadow page with its 512 sptes and clear_spte_count, the split-spte
 * primitives of both host widths and their callers, and the lockless
 * readers.  Everything shared lives in sim/ memory and is touched only
 * through sim/ accessors, so every load and store is a schedulable step.
 *
 * Memory layout (sim/ word addresses):
 *   MMU_ADDR_LOCK              kvm->mmu_lock
 *   MMU_ADDR_MODE + vcpu       vcpu->mode
 *   MMU_ADDR_REQ + vcpu        vcpu->requests (KVM_REQ_* bits)
 *   MMU_ADDR_TLBS_DIRTY        kvm->tlbs_dirty
 *   MMU_ADDR_NOTIFIER_SEQ      kvm->mmu_notifier_seq
 *   MMU_ADDR_NOTIFIER_COUNT    kvm->mmu_notifier_count
 *   MMU_ADDR_MEMSLOTS_GEN      kvm_memslots(kvm)->generation
 *   MMU_ADDR_HOST_MM_LOCK      the host's lock over its page tables (remaps)
 *   MMU_ADDR_SLOTS_LOCK        kvm->slots_lock (memslot updates, dirty-log ioctls)
 *   MMU_ADDR_COUNT + sp        sp->clear_spte_count
 *   MMU_ADDR_SRCU + vcpu       the vCPU's kvm->srcu read-side state (odd: inside)
 *   MMU_ADDR_DIRTY_BITMAP      memslot 0's dirty bitmap (one bit per gfn)
 *   MMU_ADDR_SPT + sp * 1024   sp->spt: 512 sptes, low word then high word
 *   MMU_ADDR_HOST_PTE + gfn    the host pte of guest frame gfn (0: the slot's
 *                              linear pfn; else the pfn the host remapped it to)
 */
#ifndef SPTERACE_MMU_MMU_H
#define SPTERACE_MMU_MMU_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/sim.h"

/* ---- spte layout (mmu.h, mmu.c of 3.11, shadow paging masks) ---- */
#define PT_PRESENT_MASK (1ull << 0)
#define PT_WRITABLE_MASK (1ull << 1)
#define PT_USER_MASK (1ull << 2)
#define PT_ACCESSED_SHIFT 5
#define PT_ACCESSED_MASK (1ull << PT_ACCESSED_SHIFT)
#define PT_DIRTY_MASK (1ull << 6)
#define PT_PAGE_SIZE_MASK (1ull << 7)
#define PT64_NX_MASK (1ull << 63)
#define SPTE_HOST_WRITEABLE (1ull << 10)
#define SPTE_MMU_WRITEABLE (1ull << 11)
#define PAGE_SHIFT 12
#define PT64_BASE_ADDR_MASK (((1ull << 52) - 1) & ~((1ull << PAGE_SHIFT) - 1))
#define PT_PAGE_TABLE_LEVEL 1

#define MMIO_SPTE_GEN_LOW_SHIFT 3
#define MMIO_SPTE_GEN_HIGH_SHIFT 52
#define MMIO_GEN_SHIFT 19
#define MMIO_GEN_LOW_SHIFT 9
#define MMIO_GEN_LOW_MASK ((1u << MMIO_GEN_LOW_SHIFT) - 1)
#define MMIO_GEN_MASK ((1u << MMIO_GEN_SHIFT) - 1)

#define MMU_SPTES_PER_SP 512
#define MMU_SP_MAX 64   /* n_max_mmu_pages: KVM_MIN_ALLOC_MMU_PAGES, the smallest VM */
#define MMU_VCPUS_MAX SIM_CPUS_MAX
#define MMU_PHYS_BITS 40  /* host MAXPHYADDR; pfns >= 2^20 are common */

#define MMU_ADDR_LOCK 0u
#define MMU_ADDR_MODE 8u
#define MMU_ADDR_REQ 16u
#define MMU_ADDR_TLBS_DIRTY 24u
#define MMU_ADDR_NOTIFIER_SEQ 25u
#define MMU_ADDR_NOTIFIER_COUNT 26u
#define MMU_ADDR_MEMSLOTS_GEN 27u
#define MMU_ADDR_HOST_MM_LOCK 28u
#define MMU_ADDR_SLOTS_LOCK 29u
#define MMU_ADDR_COUNT 32u
#define MMU_ADDR_SRCU 96u
#define MMU_ADDR_DIRTY_BITMAP 128u
#define MMU_DIRTY_BITMAP_WORDS 128u   /* 4096 gfns */
#define MMU_ADDR_SPT 256u
#define MMU_ADDR_HOST_PTE 90112u
#define MMU_HOST_PTES 4096u

/* vcpu->requests bits (kvm_host.h) */
enum {
	KVM_REQ_TLB_FLUSH = 0,
	KVM_REQ_MMU_RELOAD,
	KVM_REQ_MMU_SYNC,
};
#define MMU_SP_WORDS (2 * MMU_SPTES_PER_SP)

/* vcpu->mode values (include/linux/kvm_host.h) */
enum {
	OUTSIDE_GUEST_MODE = 0,
	IN_GUEST_MODE,
	EXITING_GUEST_MODE,
	READING_SHADOW_PAGE_TABLES,
};

enum mmu_host_width {
	MMU_HOST_32 = 0,   /* 32-bit PAE: split halves and clear_spte_count */
	MMU_HOST_64,       /* 64-bit: one atomic access per spte */
};

/*
 * Mutants, selected at run time by name.  Each brings back a historical bug
 * or race class (docs/mutants.md will be generated from this table).
 */
enum mmu_mutant {
	MMU_MUTANT_NONE = 0,
	MMU_MUTANT_NO_CLEAR_COUNT,
	MMU_MUTANT_SET_SPTE_LOW_FIRST,
	MMU_MUTANT_READER_NO_LOW_RECHECK,
	MMU_MUTANT_READER_NO_COUNT_RECHECK,
	/* Mutants of the full model (mmu target). */
	MMU_MUTANT_SET_PTE_RMAPP_NO_CLEAR,
	MMU_MUTANT_LOCKLESS_BEGIN_NO_MB,
	MMU_MUTANT_ZAP_NO_WAIT_WALKERS,
	MMU_MUTANT_FAST_PF_INDIRECT,
	MMU_MUTANT_VOLATILE_IGNORES_LOCKLESS_W,
	MMU_MUTANT_NOTIFIER_NO_RETRY,
	/* The bug zoo: more historical race classes. */
	MMU_MUTANT_UPDATE_SLOW_PLAIN_READ,
	MMU_MUTANT_REQUEST_SKIPS_WALKERS,
	MMU_MUTANT_LOCKLESS_WALK_IRQS_ON,
	MMU_MUTANT_NOTIFIER_SEQ_AFTER_PFN,
	MMU_MUTANT_FETCH_NO_GPTE_RECHECK,
	MMU_MUTANT_UPDATE_DROPS_DIRTY,
	/* Barrier mutants: found only under the relaxed memory model. */
	MMU_MUTANT_SET_SPTE_NO_WMB,
	MMU_MUTANT_CLEAR_FAST_NO_WMB,
	MMU_MUTANT_COUNT_CLEAR_NO_WMB,
	MMU_MUTANT_READER_NO_RMB_COUNT_LOW,
	MMU_MUTANT_READER_NO_RMB_LOW_HIGH,
	/* Found only with the narrow counter (input knob). */
	MMU_MUTANT_COUNT_WRAP,
	MMU_MUTANT_COUNT,
};

struct mmu_mutant_info {
	const char *name;
	const char *summary;  /* one line, for `spterace mutants` */
	const char *origin;   /* kernel commit or race class it brings back */
	const char *caught_by;/* the check expected to catch it */
	const char *needs;    /* target, host width and memory model it needs */
};

const struct mmu_mutant_info *mmu_mutant_info(enum mmu_mutant m);
/* Returns MMU_MUTANT_COUNT for an unknown name; "none" is the faithful model. */
enum mmu_mutant mmu_mutant_by_name(const char *name);

/*
 * Annotations in the sim/ event log (not steps), so tools can say which
 * kernel function made each access.  MMU_NOTE_FN: value is an enum mmu_fn,
 * noted on entry (and again in a caller that accesses memory after a callee
 * returned); MMU_NOTE_WRITE: a logical write of value begins; MMU_NOTE_READ:
 * a lockless read or snapshot returned value (arg: enum mmu_read_kind).
 */
enum {
	MMU_NOTE_FN = 1,
	MMU_NOTE_WRITE,
	MMU_NOTE_READ,
};

enum mmu_fn {
	MMU_FN_SET_SPTE = 0,
	MMU_FN_UPDATE_CLEAR_SPTE_FAST,
	MMU_FN_UPDATE_CLEAR_SPTE_SLOW,
	MMU_FN_COUNT_SPTE_CLEAR,
	MMU_FN_GET_SPTE_LOCKLESS,
	MMU_FN_SPTE_READ_LOCKED,
	MMU_FN_MMU_SPTE_SET,
	MMU_FN_MMU_SPTE_UPDATE,
	MMU_FN_MMU_SPTE_CLEAR_TRACK_BITS,
	MMU_FN_MMU_SPTE_CLEAR_NO_TRACK,
	MMU_FN_MARK_MMIO_SPTE,
	MMU_FN_KVM_SET_PTE_RMAPP,
	MMU_FN_KVM_AGE_RMAPP,
	MMU_FN_LOCKLESS_BEGIN,
	MMU_FN_LOCKLESS_END,
	MMU_FN_FAST_PAGE_FAULT,
	MMU_FN_FAST_PF_FIX_DIRECT_SPTE,
	MMU_FN_HW_WALK,
	MMU_FN_HW_SET_AD,
	MMU_FN_COUNT,
};

const char *mmu_fn_name(enum mmu_fn f);

/*
 * The model's sites (sim_site: interleaving feedback, and PCT's relevant
 * steps) are its function ids, except two: __set_spte's id 0 is sim/'s "no
 * site", so it runs as MMU_SITE_SET_SPTE; and make_all_cpus_request (the
 * freer's side of the vcpu->mode handshake with lockless walkers) and the
 * vCPU's guest entry and exit (vcpu_enter_guest's mode store and re-check,
 * fuzz/mmu_exec.c) are sites of their own.
 */
enum {
	MMU_SITE_SET_SPTE = MMU_FN_COUNT,
	MMU_SITE_MAKE_ALL_CPUS_REQUEST,
	MMU_SITE_GUEST_ENTRY_EXIT,
};

/* What the model reports to the executor (which forwards it to oracle/). */
enum mmu_read_kind {
	MMU_READ_LOCKLESS = 0,  /* mmu_spte_get_lockless */
	MMU_READ_HW_WALK,       /* a hardware page-walk snapshot (atomic 64-bit) */
};

struct mmu_observer {
	/* A logical spte write whose first store executed at `step`. */
	void (*write_begin)(void *ctx, sim_addr sptep, uint64_t new_spte, uint64_t step);
	/* The same write's last store has been issued by the calling CPU. */
	void (*write_end)(void *ctx, sim_addr sptep);
	/* A lockless read or snapshot over [start, end] returned value. */
	void (*read)(void *ctx, sim_addr sptep, enum mmu_read_kind kind, uint64_t start,
		     uint64_t end, uint64_t value);
	/*
	 * Optional: shadow page `sp` was just allocated (its sptes were
	 * zeroed privately), so the history of its sptes starts again.
	 */
	void (*page_alloc)(void *ctx, uint32_t sp);
	/*
	 * Optional: kvm_set_pfn_dirty(pfn) from a dirty bit that an spte
	 * write dropped; `large` when the spte mapped a large page, whose
	 * head page carries the dirty flag for all of it.
	 */
	void (*pfn_dirty)(void *ctx, uint64_t pfn, bool large);
};

/*
 * A split-spte protocol plugged in from a developer's own kernel-style C
 * file (./spterace fuzz --protocol FILE.c, docs/your-protocol.md).  The
 * functions take the kernel's arguments: sptep points into mmu/plug.c's
 * proxy of the shadow pages, whose plain loads and stores the file's
 * thread-sanitizer instrumentation turns into sim/ steps.  A NULL member
 * keeps the built-in function.  They replace the 32-bit (CONFIG_X86_32)
 * primitives only: a 64-bit host keeps its atomic built-in accesses.
 */
#define MMU_PROTOCOL_ABI 1
struct mmu_protocol {
	uint32_t abi;   /* MMU_PROTOCOL_ABI */
	const char *name;
	void (*set_spte)(uint64_t *sptep, uint64_t spte);
	void (*update_clear_spte_fast)(uint64_t *sptep, uint64_t spte);
	uint64_t (*update_clear_spte_slow)(uint64_t *sptep, uint64_t spte);
	uint64_t (*get_spte_lockless)(uint64_t *sptep);
	void (*count_spte_clear)(uint64_t *sptep, uint64_t spte);
};

/*
 * The protocol every later mmu_init() plugs in (NULL: the built-in one).
 * Set once, before any run.
 */
void mmu_set_protocol(const struct mmu_protocol *proto);
const struct mmu_protocol *mmu_get_protocol(void);

/*
 * Guards of the protocol, counted when one fires on a run (struct kvm's
 * guards; fuzzing bookkeeping that adds no steps).  A guard that fired means
 * the schedule hit the window the guard exists for, and a mutant that
 * weakens it turns schedules a shift away into divergences.
 */
enum mmu_guard {
	/* A lockless read retried (counted in read_retries). */
	MMU_GUARD_RETRY,
	/* A fast page fault's cmpxchg64 landed inside a locked update's window
	 * (what spte_has_volatile_bits guards). */
	MMU_GUARD_UPDATE_WINDOW,
	/* A remote request found a lockless walker (what the walker's mode
	 * store is for). */
	MMU_GUARD_WALKER_FOUND,
	/* ... within MMU_GUARD_CLOSE_STEPS steps of the walker's mode store
	 * (what the smp_mb after that store is for: without it, the store
	 * may still sit in the store buffer that soon after). */
	MMU_GUARD_WALKER_CLOSE,
	/* FNAME(fetch)'s re-read found a gpte changed since the guest walk
	 * (the gfn->pfn window fast_page_fault must stay out of on indirect
	 * pages). */
	MMU_GUARD_GPTE_CHANGED,
	/* A shadow-paging write fault found its spte present, write-protected
	 * and locklessly modifiable (dirty logging's write protection), and
	 * mapping another gfn than the guest walk found: the fault 3.11 keeps
	 * fast_page_fault away from on indirect pages, whose gfn is not
	 * stable. */
	MMU_GUARD_STALE_WP,
	MMU_GUARD_NR
};
#define MMU_GUARD_CLOSE_STEPS 24

struct kvm {
	struct sim *sim;
	const struct mmu_protocol *proto;   /* NULL: the built-in primitives */
	enum mmu_host_width width;
	enum mmu_mutant mutant;
	uint64_t shadow_mmio_mask;
	uint32_t mmio_generation;   /* kvm_current_mmio_generation(), unless memslots_shared */
	bool memslots_shared;       /* the memslots generation is a sim word (mmu target) */
	const struct mmu_observer *obs;
	void *obs_ctx;
	uint32_t nr_vcpus;          /* vCPU i runs on simulated CPU i */
	/*
	 * Small-scope knobs (mmu_set_knobs), chosen by the input.  count_mask:
	 * the values clear_spte_count can hold (the kernel's int: all 32 bits).
	 * force_slow: every update and clear takes __update_clear_spte_slow.
	 */
	uint32_t count_mask;
	bool force_slow;
	/*
	 * The last __get_spte_lockless try passed its re-checks with a count
	 * re-read older than memory's (relaxed memory: a stale value).
	 */
	bool recheck_count_stale;
	/*
	 * Checker bookkeeping, not kernel state (no step): host pfns a prefetch
	 * mapped while an MMU-notifier invalidation was in progress, which
	 * 3.11's prefetch paths do not look at (corpus/findings/mmu/).
	 */
	uint64_t prefetched_in_invalidation[8];
	uint32_t prefetched_in_invalidation_count;
	/*
	 * Checker bookkeeping too: per vCPU, the gfn (+ 1; 0: none) of a fast
	 * page fault whose cmpxchg64 made an spte writable at step
	 * fast_pf_unmarked_step and whose mark_page_dirty has not run yet.
	 * 3.11 marks the page after the spte is writable (set_spte marks it
	 * before), so another vCPU's write in that window is reported by the
	 * next get_dirty_log, not the one that returns in it.
	 */
	uint64_t fast_pf_unmarked_gfn1[MMU_VCPUS_MAX];
	uint64_t fast_pf_unmarked_step[MMU_VCPUS_MAX];
	/* Step of each vCPU's walk_shadow_page_lockless_begin mode store (for checks). */
	uint64_t lockless_begin_step[MMU_VCPUS_MAX];
	/*
	 * Fuzzing bookkeeping (no steps): the spte (+ 1; 0: none) the mmu_lock
	 * holder is updating between its plain read and its write, and how
	 * often each guard of the protocol fired (enum mmu_guard) -- a run that
	 * came within one shift of a schedule the guard exists for
	 * (fuzz/mutator.c keeps such runs).
	 */
	sim_addr locked_update_sptep1;
	uint64_t guards[MMU_GUARD_NR];
	/* Counters: private to the lock holder or to one CPU, never shared. */
	uint64_t read_retries;
	uint64_t pfn_dirty_marks, pfn_accessed_marks, page_dirty_marks;
};

/* How often each guard fired in a run, lockless read retries included. */
static inline void mmu_guard_counts(const struct kvm *kvm, uint64_t counts[MMU_GUARD_NR])
{
	for (uint32_t g = 0; g < MMU_GUARD_NR; g++)
		counts[g] = g == MMU_GUARD_RETRY ? kvm->read_retries : kvm->guards[g];
}

/* A guard's name in reports ("retry", "update-window", ...). */
const char *mmu_guard_name(enum mmu_guard g);

void mmu_init(struct kvm *kvm, struct sim *sim, enum mmu_host_width width,
	      enum mmu_mutant mutant, const struct mmu_observer *obs, void *obs_ctx);

/*
 * Small-scope knobs.  narrow_count scales clear_spte_count down so that its
 * wrap-around is reachable in a short run: the kernel's 32-bit int becomes 8
 * bits (and the count-wrap mutant's u8 becomes 2 bits).  force_slow makes
 * every mmu_spte_update and mmu_spte_clear_track_bits use the slow path,
 * which is correct for any old value, only slower.
 */
void mmu_set_knobs(struct kvm *kvm, bool narrow_count, bool force_slow);
/* Did a prefetch map pfn while an invalidation was in progress (bookkeeping above)? */
bool mmu_prefetched_in_invalidation(const struct kvm *kvm, uint64_t pfn);
/*
 * Is a fast page fault between making an spte for gfn writable (at or
 * before step `since`) and marking gfn dirty (bookkeeping above)?
 */
bool mmu_fast_pf_mark_pending(const struct kvm *kvm, uint64_t gfn, uint64_t since);

static inline sim_addr mmu_sptep(uint32_t sp, uint32_t index)
{
	return MMU_ADDR_SPT + sp * MMU_SP_WORDS + 2 * index;
}

/* Pure spte predicates (no memory access). */
bool is_mmio_spte(const struct kvm *kvm, uint64_t spte);
bool is_shadow_present_pte(const struct kvm *kvm, uint64_t spte);
bool is_writable_pte(uint64_t spte);
bool is_last_spte(uint64_t spte, int level);
bool spte_is_locklessly_modifiable(uint64_t spte);
bool spte_has_volatile_bits(const struct kvm *kvm, uint64_t spte);
uint64_t spte_to_pfn(uint64_t spte);
uint64_t make_mmio_spte(const struct kvm *kvm, uint64_t gfn, unsigned access, uint32_t gen);
uint32_t get_mmio_spte_generation(uint64_t spte);
/* kvm_current_mmio_generation(): one load of the memslots generation when shared. */
uint32_t kvm_current_mmio_generation(struct kvm *kvm);

/* Writers: the caller holds mmu_lock. */
void mmu_spte_set(struct kvm *kvm, sim_addr sptep, uint64_t new_spte);
bool mmu_spte_update(struct kvm *kvm, sim_addr sptep, uint64_t new_spte);
int mmu_spte_clear_track_bits(struct kvm *kvm, sim_addr sptep);
void mmu_spte_clear_no_track(struct kvm *kvm, sim_addr sptep);
void mark_mmio_spte(struct kvm *kvm, sim_addr sptep, uint64_t gfn, unsigned access);
/* kvm_set_pte_rmapp for one spte: drop, or clear then set with no flush. */
bool kvm_set_pte_rmapp_one(struct kvm *kvm, sim_addr sptep, uint64_t new_pfn,
			   bool host_pte_writable);
/* kvm_age_rmapp for one spte: clear A atomically; returns young. */
bool kvm_age_rmapp_one(struct kvm *kvm, sim_addr sptep);
/* The plain `*sptep` read of a lock holder. */
uint64_t mmu_spte_read_locked(struct kvm *kvm, sim_addr sptep);

/* Lockless side. */
void walk_shadow_page_lockless_begin(struct kvm *kvm, uint32_t vcpu);
void walk_shadow_page_lockless_end(struct kvm *kvm, uint32_t vcpu);
uint64_t mmu_spte_get_lockless(struct kvm *kvm, sim_addr sptep);
/*
 * fast_pf_fix_direct_spte's cmpxchg64 adding W; true if it succeeded (the
 * caller marks the gfn dirty).
 */
bool fast_pf_cmpxchg_w(struct kvm *kvm, sim_addr sptep, uint64_t spte);
/* fast_page_fault on one leaf spte of a direct page; returns its verdict. */
bool fast_page_fault_spte(struct kvm *kvm, uint32_t vcpu, sim_addr sptep);
/* A hardware page walker's atomic 64-bit load of an spte. */
uint64_t mmu_hw_walk_spte(struct kvm *kvm, sim_addr sptep);
/* The CPU sets `bits` (A, D) in the leaf it walked, if it still holds spte. */
bool mmu_hw_set_ad(struct kvm *kvm, sim_addr sptep, uint64_t spte, uint64_t bits);

#endif
