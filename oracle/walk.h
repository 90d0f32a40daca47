/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * oracle/: the reference translation.
 *
 * An independent restatement of the x86 guest page walk as the architecture
 * defines it (Intel SDM vol. 3, ch. 4), for the CPUs Linux 3.11 supported:
 * paging off, 32-bit two-level paging (with PSE and PSE-36), PAE paging and
 * 4-level paging, with CR0.WP, CR4.SMEP and EFER.NXE.  It is written from the
 * architecture, not from KVM's walker, so that it can judge the shadow MMU
 * model instead of repeating its mistakes.
 *
 * The walk only reads guest memory.  Where the hardware would set accessed
 * and dirty flags, the translation says so (sets_accessed_levels,
 * sets_dirty) and the caller compares that with what the model wrote.
 *
 * Not modeled: SMAP, protection keys, 5-level paging, PCID, memory types
 * (PAT, MTRR, PCD/PWT), global pages and TLBs, non-canonical addresses
 * (#GP, not #PF), implicit supervisor accesses (descriptor tables), and
 * CPUs without PSE-36 or 1 GiB pages (both are assumed present).
 */
#ifndef SPTERACE_ORACLE_WALK_H
#define SPTERACE_ORACLE_WALK_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Guest physical memory, as the oracle reads it: one little-endian value of
 * bytes (4 or 8) bytes at guest physical address gpa, which is aligned to
 * bytes.  Returns false if gpa is outside guest RAM (no memslot).
 */
typedef bool (*orc_read_gpa_fn)(void *ctx, uint64_t gpa, uint64_t *out, unsigned bytes);

enum orc_paging {
	ORC_PAGING_OFF = 0,     /* CR0.PG = 0: linear = physical, 32 bits */
	ORC_PAGING_32,          /* CR0.PG = 1, CR4.PAE = 0: 2 levels, 4-byte entries */
	ORC_PAGING_PAE,         /* CR4.PAE = 1, EFER.LMA = 0: PDPTE + 2 levels */
	ORC_PAGING_64,          /* EFER.LMA = 1: 4 levels */
};

/* Guest control state. */
struct orc_cpu_state {
	enum orc_paging mode;
	uint64_t cr3;
	bool cr0_wp, cr4_pse, cr4_smep, efer_nxe;
	/*
	 * PAE only: the four PDPTEs as the CPU loaded them at the last
	 * mov to cr3.  The walk uses these and never re-reads the PDPT, so a
	 * guest that rewrites its PDPT without reloading cr3 keeps the old
	 * PDPTEs.
	 */
	uint64_t pdptr[4];
	uint32_t maxphyaddr;    /* guest MAXPHYADDR, 32..52: physical address bits */
};

/*
 * Access type bits.  WRITE and FETCH are exclusive; neither is a read.
 * Without USER the access is a supervisor-mode one (CPL < 3).
 */
enum { ORC_ACC_WRITE = 1, ORC_ACC_USER = 2, ORC_ACC_FETCH = 4 };

/* #PF error code bits (SDM 4.7). */
enum {
	ORC_PF_P = 1u << 0,     /* 0: not present; 1: protection or reserved-bit fault */
	ORC_PF_W = 1u << 1,     /* the access was a write */
	ORC_PF_U = 1u << 2,     /* the access was a user-mode access */
	ORC_PF_RSVD = 1u << 3,  /* a present entry had a reserved bit set */
	ORC_PF_ID = 1u << 4,    /* a fetch, when SMEP is on or NXE is on with PAE/64 */
};

#define ORC_GPA_NONE UINT64_MAX /* pte_gpa[] of a level the walk did not reach */

struct orc_translation {
	/* The access is allowed.  When false, fault is the #PF error code. */
	bool ok;
	uint32_t fault;
	/*
	 * Level of the entry that stopped the walk: not present or with a
	 * reserved bit set.  For a protection fault, the leaf level.  0 when
	 * ok.
	 */
	int fault_level;
	/*
	 * A paging-structure entry lies outside guest RAM (read returned
	 * false).  The architecture reads whatever that address decodes to;
	 * the oracle reports a not-present fault at that level (fault has P
	 * clear) and sets this flag, so that a caller can treat the case
	 * apart from an architectural not-present entry.
	 */
	bool table_outside_ram;

	/*
	 * The walk reached a leaf (ok, or a protection fault).  Only then are
	 * gpa .. executable meaningful; otherwise they are 0 / false.
	 */
	bool leaf;
	uint64_t gpa;           /* the translated guest physical address */
	int level;              /* leaf level: 1 = 4K, 2 = 2M/4M, 3 = 1G; 0 = paging off */
	uint64_t page_size;     /* 4K, 2M, 4M, 1G; 4 GiB with paging off (no page boundaries) */
	/*
	 * Effective permissions of the page, combining every level of the
	 * walk, for accesses made at the privilege of this access (its
	 * ORC_ACC_USER bit) from this cpu state.  ok equals the one that
	 * matches the access type.
	 *   user        every entry that has a U/S bit has it set (the SDM's
	 *               "user-mode address").  Independent of privilege.
	 *   readable    a read would be allowed: user-mode reads need user;
	 *               supervisor reads are always allowed (no SMAP).
	 *   writable    a write would be allowed: user-mode writes need user
	 *               and R/W = 1 at every level; supervisor writes need
	 *               R/W = 1 at every level, or CR0.WP = 0.
	 *   executable  a fetch would be allowed: no level has XD = 1 (only
	 *               with EFER.NXE and PAE/64; 32-bit paging has no XD);
	 *               and user-mode fetches need user, supervisor fetches
	 *               need !user when CR4.SMEP = 1.
	 * The dirty flag plays no part: a clean writable page is writable
	 * (the write sets D; see sets_dirty).
	 */
	bool readable, writable, user, executable;

	/*
	 * Accessed/dirty flags the access would set, when ok (0 / false when
	 * it faults).  Bit (1u << level) of sets_accessed_levels is set for
	 * every entry the walk used whose A flag (bit 5) is clear; PAE PDPTEs
	 * have no A flag and never appear.  sets_dirty: a write whose leaf has
	 * D (bit 6) clear.  On a fault the oracle makes no claim: the SDM
	 * (vol. 3, 6.15, #PF) says a protection fault still sets A in the
	 * page-directory entry and leaves the PTE's A model specific, so a
	 * caller must neither require nor forbid A updates on faulting walks.
	 */
	uint32_t sets_accessed_levels;
	bool sets_dirty;

	/*
	 * The entry used at each level (index = level) and its gpa, for tests
	 * and for comparing shadow pages with the guest tables they shadow.
	 * A level the walk did not reach has pte_gpa ORC_GPA_NONE and pte 0.
	 * PAE level 3 is the cached pdptr[] value, which the walk does not
	 * read; its pte_gpa is where it sits in the PDPT (cr3 bits 31:5).
	 */
	uint64_t pte_gpa[5];
	uint64_t pte[5];
};

/*
 * Translate gva for an access of type access (ORC_ACC_*) from state cpu,
 * reading the guest's paging structures through read(ctx, ...).  In 64-bit
 * mode gva must be canonical; in the other modes only its low 32 bits are
 * used.  Deterministic, allocation-free, and it never writes guest memory.
 */
void orc_translate(const struct orc_cpu_state *cpu, orc_read_gpa_fn read, void *ctx,
		   uint64_t gva, unsigned access, struct orc_translation *out);

#endif
