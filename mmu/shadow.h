/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shadow pages (struct kvm_mmu_page), the pte_list encoding of rmaps and
 * parent_ptes, and the direct-map fault path of Linux 3.11's mmu.c:
 * kvm_mmu_get_page, link_shadow_page, mmu_set_spte / set_spte, rmap_add /
 * rmap_remove, drop_spte, prepare and commit zap, the direct roots, and
 * __direct_map as nonpaging_map and tdp_page_fault call it.
 *
 * Shadow page tables live in sim/ memory (mmu.h's layout); a shadow page's
 * host physical address is SPT_PFN_BASE + index, below 4 GiB as the
 * kernel's lowmem pages are, so a non-leaf spte has a zero high half.  The
 * bookkeeping (role, hash, rmaps, parent_ptes) is only touched under
 * mmu_lock and by no lockless path, so it is plain C memory.
 *
 * Not in this slice (see mmu/README.md): indirect (shadow-paging) pages and
 * FNAME(fetch), unsync and resync, kvm_mmu_pte_write, invlpg, page
 * recycling, fast zap-all, dirty logging and large-page accounting.
 */
#ifndef SPTERACE_MMU_SHADOW_H
#define SPTERACE_MMU_SHADOW_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/guest.h"
#include "mmu/mmu.h"

#define SPT_PFN_BASE 0x3f000ull          /* host pfn of shadow page 0 */
#define PTE_LIST_EXT 3
#define PTE_LIST_DESC_MAX 256
#define RMAP_SLOTS 1024                  /* (level, gfn) -> rmap head; open addressing */
#define INVALID_PAGE (~0ull)
#define KVM_NR_PAGE_SIZES 3

/* union kvm_mmu_page_role, as one word. */
union kvm_mmu_page_role {
	uint32_t word;
	struct {
		uint32_t level : 4;
		uint32_t cr4_pae : 1;
		uint32_t quadrant : 2;
		uint32_t pad_for_nice_hex_output : 6;
		uint32_t direct : 1;
		uint32_t access : 3;
		uint32_t invalid : 1;
		uint32_t nxe : 1;
		uint32_t cr0_wp : 1;
		uint32_t smep_andnot_wp : 1;
	};
};

struct pte_list_desc {
	sim_addr sptes[PTE_LIST_EXT];
	uint32_t more;                   /* index + 1 of the next desc; 0: none */
	bool used;
};

struct kvm_mmu_page {
	bool allocated;
	uint32_t link_seq;               /* position in active_mmu_pages (FIFO) */
	uint64_t gfn;
	union kvm_mmu_page_role role;
	/* spt: sim address MMU_ADDR_SPT + index * MMU_SP_WORDS */
	unsigned long parent_ptes;       /* pte_list head: parents pointing here */
	int root_count;                  /* >0 while a vCPU root points here: never freed */
	unsigned unsync_children;
	uint64_t unsync_child_bitmap[8];   /* entries leading to unsync pages */
	bool unsync;
	uint64_t gfns[512];                /* indirect pages: the gfn of each spte */
	uint64_t mmu_valid_gen;
	int write_flooding_count;
	bool zapped;                     /* on invalid_list, waiting for commit */
};

struct kvm_rmap_entry {
	uint64_t key;                    /* level << 56 | gfn; 0: free */
	unsigned long head;
};

/* The VM-wide shadow MMU state (parts of struct kvm_arch). */
struct kvm_shadow {
	struct kvm_mmu_page pages[MMU_SP_MAX];
	uint32_t n_used_mmu_pages;
	uint32_t link_seq;
	uint64_t mmu_valid_gen;
	uint32_t indirect_shadow_pages;
	struct { uint64_t key; uint32_t write_count; } lpage[256];  /* lpage_info, by large frame */
	struct pte_list_desc descs[PTE_LIST_DESC_MAX];
	struct kvm_rmap_entry rmap[RMAP_SLOTS];
	/* Counter: kvm_flush_remote_tlbs() calls. */
	uint64_t remote_flushes;
	/* The host page tables' memory (for host_mapping_level), if any. */
	const struct sim *sim;
	/* For checks: allocations of each page, and the step it was last freed at. */
	uint32_t alloc_gen[MMU_SP_MAX];
	uint64_t freed_step[MMU_SP_MAX];
};

/* Per-vCPU MMU roots (parts of struct kvm_vcpu_arch / kvm_mmu). */
struct kvm_vcpu_mmu {
	struct kvm_mmu ctx;              /* guest paging context (guest.h) */
	union kvm_mmu_page_role base_role;
	uint32_t vcpu_id;                /* its simulated CPU; requests live in sim memory */
	bool direct_map;
	int shadow_root_level;
	uint64_t root_hpa;               /* INVALID_PAGE, a shadow page's hpa, or PAE_ROOT_HPA */
	uint64_t pae_root[4];            /* written only by its own vCPU: private */
	/* The per-vCPU MMIO cache (vcpu_cache_mmio_info); gfn 0 means empty. */
	uint64_t mmio_gva, mmio_gfn;
	unsigned mmio_access;
	bool mmio_from_cache;            /* for checks: the last MMIO fault hit the cache */
};

/* Outcomes of the fault handlers (besides the guest #PF of shadow paging). */
enum {
	MMU_PF_BUG = -1,       /* RET_MMIO_PF_BUG: handle_mmio_page_fault WARNs */
	MMU_PF_RETRY = 1,      /* fixed, or let the vCPU fault again */
	MMU_PF_EMULATE = 2,    /* emulate the access (MMIO, or a write to a shadowed table) */
};

#define PAE_ROOT_HPA 0x3e000000ull      /* __pa(pae_root): below 4 GiB (__GFP_DMA32) */

/* The sim address of a shadow page's spt, and its host physical address. */
sim_addr sp_spt(uint32_t index);
uint64_t sp_hpa(uint32_t index);
/* page_header(): the shadow page owning an spte, or of an hpa. */
uint32_t page_header_of_sptep(sim_addr sptep);
bool page_header_of_hpa(uint64_t hpa, uint32_t *index);

void kvm_shadow_init(struct kvm_shadow *sh);
void kvm_vcpu_mmu_init(struct kvm_vcpu_mmu *vm, enum guest_paging paging, bool tdp,
		       enum mmu_host_width width);
/*
 * Shadow paging (kvm_init_shadow_mmu): the guest context and base role for
 * its paging mode and control bits.  Roots must be unloaded.
 */
void kvm_vcpu_mmu_set_paging(struct kvm_vcpu_mmu *vm, enum guest_paging paging, uint64_t cr3,
			     const uint64_t pdptrs[4], bool nx, bool cr0_wp, bool cr4_smep,
			     enum mmu_host_width width);

/* pte_list (rmap and parent_ptes) primitives, for tests. */
int pte_list_add(struct kvm_shadow *sh, unsigned long *head, sim_addr spte);
void pte_list_remove(struct kvm_shadow *sh, unsigned long *head, sim_addr spte);
uint32_t pte_list_count(const struct kvm_shadow *sh, unsigned long head);
bool pte_list_contains(const struct kvm_shadow *sh, unsigned long head, sim_addr spte);
unsigned long *gfn_to_rmap(struct kvm_shadow *sh, uint64_t gfn, int level, bool create);
/* kvm_mmu_page_get_gfn(): the gfn spte `index` of page spi maps. */
uint64_t kvm_mmu_page_gfn(const struct kvm_shadow *sh, uint32_t spi, unsigned index);

/*
 * The direct-map page fault under mmu_lock: nonpaging_map / tdp_page_fault
 * after the pfn is known.  Returns 1 to emulate (never for direct maps).
 * The caller holds mmu_lock; gfn must be in a memslot.
 */
int kvm_direct_map_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			  struct kvm_vcpu_mmu *vm, uint64_t gpa, bool write, int level);
/*
 * The host's gfn -> pfn (gfn_to_pfn after the memslot lookup): one load of
 * the host pte, which the host thread rewrites when it remaps a page.
 * False for a gfn outside every memslot (KVM_PFN_NOSLOT).
 */
bool host_gfn_to_pfn(struct kvm *kvm, const struct kvm_guest *g, uint64_t gfn, uint64_t *pfn);
/* The same without a step, for checks. */
bool host_gfn_to_pfn_peek(const struct sim *s, const struct kvm_guest *g, uint64_t gfn,
			  uint64_t *pfn);
/*
 * nonpaging_page_fault / tdp_page_fault for a direct-map vCPU: the MMIO
 * fast path on a reserved-bit fault, fast_page_fault, then mmu_seq,
 * gfn_to_pfn and __direct_map under mmu_lock with the notifier re-check.
 * Returns MMU_PF_RETRY, MMU_PF_EMULATE (MMIO) or MMU_PF_BUG.
 */
int nonpaging_page_fault(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			 struct kvm_vcpu_mmu *vm, uint64_t gva, uint32_t error_code);

/* MMU notifiers (kvm_main.c's handlers and mmu.c's rmap callbacks), from a host thread. */
void kvm_mmu_notifier_invalidate_range_start(struct kvm *kvm, struct kvm_shadow *sh,
					     struct kvm_guest *g, uint64_t gfn);
void kvm_mmu_notifier_invalidate_range_end(struct kvm *kvm, struct kvm_shadow *sh);
void kvm_mmu_notifier_change_pte(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
				 uint64_t gfn, uint64_t new_pfn, bool writable);
bool kvm_mmu_notifier_clear_flush_young(struct kvm *kvm, struct kvm_shadow *sh,
					struct kvm_guest *g, uint64_t gfn);
bool kvm_mmu_notifier_test_young(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
				 uint64_t gfn);
/*
 * Dirty logging of memslot 0: kvm_mmu_slot_remove_write_access (what
 * kvm_arch_commit_memory_region does once the new memslots, with the
 * flag, are published and SRCU readers are gone) and collecting.
 */
void kvm_mmu_slot_remove_write_access(struct kvm *kvm, struct kvm_shadow *sh,
				      struct kvm_guest *g);
/* kvm_vm_ioctl_get_dirty_log: the collected bitmap into out (MMU_DIRTY_BITMAP_WORDS). */
void kvm_vm_ioctl_get_dirty_log(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
				uint32_t *out);
/* kvm_mmu_invalidate_zap_all_pages(): fast zap of every page through mmu_valid_gen. */
void kvm_mmu_invalidate_zap_all_pages(struct kvm *kvm, struct kvm_shadow *sh);

/* mapping_level(): the largest mapping level allowed for gfn (1 for 4K). */
int mapping_level(struct kvm_shadow *sh, const struct kvm_guest *g, uint64_t large_gfn);
/* mmu_alloc_direct_roots / mmu_alloc_shadow_roots / mmu_free_roots, under mmu_lock. */
void mmu_alloc_direct_roots_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_vcpu_mmu *vm);
void mmu_alloc_shadow_roots_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
				   struct kvm_vcpu_mmu *vm);
/*
 * FNAME(page_fault) for a shadow-paging vCPU, on its simulated CPU: the
 * guest walk without mmu_lock, then FNAME(fetch) under it.  Returns 0 with
 * the guest's #PF error code in *guest_fault when the guest's own tables
 * fault (the fault is injected), 1 when the fault was fixed or is to be
 * retried, 2 when the access must be emulated (a write to a shadowed gfn).
 */
int kvm_shadow_page_fault(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			  struct kvm_vcpu_mmu *vm, uint64_t gva, uint32_t error_code,
			  uint32_t *guest_fault);
/* handle_mmio_page_fault_common(): MMU_PF_EMULATE, _RETRY, _BUG, or 0 (invalid: slow path). */
int handle_mmio_page_fault_common(struct kvm *kvm, struct kvm_shadow *sh,
				  struct kvm_vcpu_mmu *vm, uint64_t addr, bool direct);
/*
 * kvm_mmu_get_spte_hierarchy: the sptes a lockless walk of addr reads,
 * sptes[level - 1], down to the first non-present one; returns how many.
 */
int kvm_mmu_get_spte_hierarchy(struct kvm *kvm, struct kvm_vcpu_mmu *vm, uint64_t addr,
			       uint64_t sptes[4]);
/* make_mmu_pages_available(), under mmu_lock. */
void make_mmu_pages_available_locked(struct kvm *kvm, struct kvm_shadow *sh);
/*
 * kvm_mmu_pte_write(): after the emulator wrote `bytes` of new_val at gpa
 * (a guest page table), update or zap the sptes shadowing it.  Takes
 * mmu_lock itself, on the calling simulated CPU.
 */
void kvm_mmu_pte_write(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
		       struct kvm_vcpu_mmu *vm, uint64_t gpa, uint64_t new_val, int bytes);
/* kvm_mmu_invlpg(): FNAME(invlpg) under mmu_lock, then a local flush request. */
void kvm_mmu_invlpg(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
		    struct kvm_vcpu_mmu *vm, uint64_t gva);
/*
 * The MMU part of vcpu_enter_guest(), on the vCPU's simulated CPU:
 * KVM_REQ_MMU_RELOAD (kvm_mmu_unload), KVM_REQ_MMU_SYNC (kvm_mmu_sync_roots),
 * KVM_REQ_TLB_FLUSH, then kvm_mmu_reload.  Takes mmu_lock as needed.
 * Returns true when the vCPU's TLB must be flushed before it enters.
 */
bool kvm_mmu_process_requests(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			      struct kvm_vcpu_mmu *vm);
/* kvm_make_request() / kvm_check_request() on vcpu->requests (sim memory). */
void kvm_make_request(struct kvm *kvm, unsigned req, uint32_t vcpu);
bool kvm_check_request(struct kvm *kvm, unsigned req, uint32_t vcpu);
/* kvm_mmu_sync_roots(): resync every unsync page below the roots, under mmu_lock. */
void kvm_mmu_sync_roots_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			       struct kvm_vcpu_mmu *vm);
void mmu_free_roots_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_vcpu_mmu *vm);
/* Zap every shadow page of a (pseudo-)gfn: kvm_mmu_unprotect_page, under mmu_lock. */
int kvm_mmu_unprotect_page_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
				  uint64_t gfn);
/* kvm_unmap_rmapp for one gfn at every level (an MMU-notifier invalidate), under mmu_lock. */
bool kvm_unmap_gfn_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			  uint64_t gfn);

/*
 * Walk the shadow tables of vm for gpa as the hardware would (atomic 64-bit
 * loads, private: no steps, for checks between operations).  Returns the
 * leaf spte, or 0 when the walk stops at a non-present entry.
 */
uint64_t shadow_translate_peek(const struct sim *s, const struct kvm *kvm,
			       const struct kvm_vcpu_mmu *vm, uint64_t gpa, int *out_level);

/*
 * Check the structural invariants (numbered in mmu/README.md); returns the
 * number of the first one violated, 0 if all hold, and a message in why.
 * Reads sim memory privately (no steps): call between operations.
 */
int kvm_shadow_check(const struct sim *s, const struct kvm *kvm, const struct kvm_shadow *sh,
		     const struct kvm_guest *g, const struct kvm_vcpu_mmu *const *vcpus,
		     uint32_t nvcpus, char *why, size_t why_cap);

#endif
