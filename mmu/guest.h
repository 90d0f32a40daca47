/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest and the host side of guest memory, and the guest page-table
 * walk of arch/x86/kvm/paging_tmpl.h (Linux 3.11).
 *
 * Guest physical memory: frames that hold guest page tables are backed by
 * sim/ memory (1024 words each, from MMU_ADDR_GUEST), so every read and
 * write of a guest pte, by KVM or by the guest, is a schedulable step.
 * Other frames of a memslot are RAM whose content the model never needs;
 * they read as zero.  A gfn outside every memslot is an MMIO hole.
 *
 * Host mapping: each memslot maps its gfns to consecutive host pfns from
 * pfn_base; the bases put most pfns above 4 GiB, so split sptes on a 32-bit
 * host carry non-zero high halves.
 */
#ifndef SPTERACE_MMU_GUEST_H
#define SPTERACE_MMU_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/mmu.h"

#define MMU_ADDR_GUEST 69632u          /* sim address of the first backed guest frame */
#define GUEST_FRAME_WORDS 1024
#define GUEST_BACKED_MAX 16            /* guest frames backed by sim memory */
#define KVM_MEMSLOTS_MAX 4

/* Page-fault error code bits (PFERR_*). */
#define PFERR_PRESENT_MASK (1u << 0)
#define PFERR_WRITE_MASK (1u << 1)
#define PFERR_USER_MASK (1u << 2)
#define PFERR_RSVD_MASK (1u << 3)
#define PFERR_FETCH_MASK (1u << 4)

/* Access bits of shadow page roles and of the walker (ACC_*). */
#define ACC_EXEC_MASK 1u
#define ACC_WRITE_MASK PT_WRITABLE_MASK
#define ACC_USER_MASK PT_USER_MASK
#define ACC_ALL (ACC_EXEC_MASK | ACC_WRITE_MASK | ACC_USER_MASK)

#define PT64_ROOT_LEVEL 4
#define PT32E_ROOT_LEVEL 3
#define PT32_ROOT_LEVEL 2
#define PT_DIRECTORY_LEVEL 2
#define PT_PDPE_LEVEL 3
#define PTE_PREFETCH_NUM 8

enum guest_paging {
	GUEST_PAGING_OFF = 0,  /* nonpaging: direct map of the guest physical space */
	GUEST_PAGING_32,       /* 32-bit two-level (with CR4.PSE 4 MiB pages, PSE-36) */
	GUEST_PAGING_PAE,      /* PAE: PDPTEs cached at mov cr3, 2 MiB pages */
	GUEST_PAGING_64,       /* long mode: four levels, 2 MiB and 1 GiB pages (64-bit host) */
	GUEST_PAGING_COUNT,
};

struct kvm_memory_slot {
	uint64_t base_gfn;
	uint64_t npages;
	uint64_t pfn_base;     /* host pfn of base_gfn */
	bool dirty_log;
	uint64_t dirty_pages;  /* mark_page_dirty() count, while dirty logging */
	int host_level;        /* host page size backing the slot: 1 (4K), 2 (2M, hugetlbfs) */
	bool invalid;          /* KVM_MEMSLOT_INVALID: being deleted, no new mappings */
	bool thp;              /* 4K anonymous memory the host backs with transparent
				  huge pages: 2M frames until a page of one is remapped */
};

/* Guest control state and the per-mode tables of struct kvm_mmu. */
struct kvm_mmu {
	enum guest_paging paging;
	int root_level;        /* 0 (nonpaging), 2, 3 or 4 */
	uint64_t cr3;
	uint64_t pdptrs[4];    /* PAE: loaded at mov cr3 */
	bool nx;               /* EFER.NXE */
	bool cr0_wp, cr4_pse, cr4_smep;
	uint32_t maxphyaddr;
	/* Built by the context reset, as the kernel does on every mode change. */
	uint8_t permissions[16];      /* update_permission_bitmask() */
	uint64_t rsvd_bits_mask[2][4];/* reset_rsvds_bits_mask(): [PS][level - 1] */
	uint8_t last_pte_bitmap;      /* update_last_pte_bitmap() */
};

struct kvm_guest {
	uint64_t backed_gfn[GUEST_BACKED_MAX];
	uint32_t backed_count;
	struct kvm_memory_slot slots[KVM_MEMSLOTS_MAX];
	uint32_t slots_count;
};

/*
 * The guest walker (struct guest_walker).  ptes[] and prefetch_ptes[] are
 * one array, because 3.11's update_accessed_dirty_bits() stores the updated
 * gpte into ptes[level] instead of ptes[level - 1]: at the top level that
 * store lands in the first prefetch pte, as it does in the kernel's struct
 * layout (prefetch_ptes is re-read before use, so the kernel bug is
 * harmless there; modelling it keeps the model's state honest).
 */
struct guest_walker {
	int level;
	unsigned max_level;
	uint64_t table_gfn[4];
	uint64_t ptes[4 + PTE_PREFETCH_NUM];   /* ptes[0..max_full), then prefetch_ptes */
	uint32_t max_full_levels;              /* PT_MAX_FULL_LEVELS of this PTTYPE and host */
	uint64_t pte_gpa[4];
	uint64_t gfn;
	unsigned pt_access, pte_access;
	uint32_t fault_error_code;             /* when the walk fails */
	uint32_t retries;                      /* A/D cmpxchg lost: the walk restarted */
};

void guest_init(struct kvm_guest *g);
/* Add a memslot; returns false when full. */
bool guest_add_memslot(struct kvm_guest *g, uint64_t base_gfn, uint64_t npages, uint64_t pfn_base);
/* Remove the memslot at base_gfn (never slot 0); returns false if there is none. */
bool guest_del_memslot(struct kvm_guest *g, uint64_t base_gfn);
/* Back gfn with sim memory (a guest page table lives there); returns its word address. */
sim_addr guest_back_gfn(struct kvm_guest *g, uint64_t gfn);
/* The sim address of guest physical address gpa, if its frame is backed. */
bool guest_gpa_addr(const struct kvm_guest *g, uint64_t gpa, sim_addr *out);
const struct kvm_memory_slot *gfn_to_memslot(const struct kvm_guest *g, uint64_t gfn);
/*
 * Read 4 or 8 bytes of guest memory as they are, outside any CPU (no step):
 * the oracle's view for checks between operations.  False outside every
 * memslot.
 */
bool guest_peek_gpa(const struct sim *s, const struct kvm_guest *g, uint64_t gpa, uint64_t *out,
		    unsigned bytes);
/*
 * Store entry `index` (4 or 8 bytes wide) of guest page `gfn`, backing the
 * page first if needed, outside any CPU: how tests and harnesses build the
 * guest's page tables before the run.
 */
void guest_init_entry(struct sim *s, struct kvm_guest *g, uint64_t gfn, unsigned index, uint64_t v,
		      unsigned bytes);
/* mark_page_dirty(): count the page in its memslot's dirty log, if logging. */
void mark_page_dirty(struct kvm *kvm, struct kvm_guest *g, uint64_t gfn);
/* gfn_to_pfn: the host pfn, or false for an MMIO hole. */
bool guest_gfn_to_pfn(const struct kvm_guest *g, uint64_t gfn, uint64_t *pfn);

/* Set the paging mode and build the context tables (init_kvm_softmmu and friends). */
void kvm_mmu_context_init(struct kvm_mmu *mmu, enum guest_paging paging, uint64_t cr3,
			  bool nx, bool cr0_wp, bool cr4_pse, bool cr4_smep);
/*
 * FNAME(walk_addr_generic): walk the guest's page tables for gva with the
 * given PFERR access bits; sets A and D with cmpxchg on the guest ptes and
 * restarts the walk when a cmpxchg loses.  Returns 1 and fills gfn and
 * pte_access, or 0 with the #PF error code in fault_error_code.  Runs on a
 * simulated CPU: every guest pte read and cmpxchg is a step.
 */
int guest_walk_addr(struct kvm *kvm, struct kvm_guest *g, const struct kvm_mmu *mmu,
		    struct guest_walker *w, uint64_t gva, uint32_t access);
/* Helpers of paging_tmpl.h shared with the shadow-page code. */
unsigned gpte_access(uint64_t gpte);
bool is_rsvd_bits_set(const struct kvm_mmu *m, uint64_t gpte, int level);
void protect_clean_gpte(unsigned *access, uint64_t gpte);
/* kvm_read_guest_atomic of one gpte (4 or 8 bytes): steps, as the walk reads. */
uint64_t guest_read_gpte(struct kvm *kvm, const struct kvm_guest *g, uint64_t pte_gpa, int bytes);
/* permission_fault(): true if pte_access does not allow the PFERR access. */
bool permission_fault(const struct kvm_mmu *mmu, unsigned pte_access, uint32_t pfec);

#endif
