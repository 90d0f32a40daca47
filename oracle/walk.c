// SPDX-License-Identifier: GPL-2.0-only
/*
 * oracle/: the reference translation (see walk.h and README.md).
 *
 * The walk follows the SDM's description directly: read the entry for the
 * current level, stop on P = 0, stop on a reserved bit, fold the entry's
 * R/W, U/S and XD into the access rights, and stop at a leaf.  Permissions
 * are judged only once a leaf is reached, because the SDM reports a
 * not-present or reserved-bit fault in preference to an access-rights one:
 * those stop the walk before any rights are known.
 *
 * The format of each mode (levels, entry size, index bits, reserved bits,
 * where the physical address sits) is spelled out in small per-mode
 * helpers instead of tables, so that each rule can be checked against the
 * SDM text on its own.
 */
#include "oracle/walk.h"

#include <assert.h>
#include <string.h>

/* Paging-structure entry bits common to every mode (SDM tables 4-4 .. 4-20). */
#define ORC_G_P (1ull << 0)
#define ORC_G_RW (1ull << 1)
#define ORC_G_US (1ull << 2)
#define ORC_G_A (1ull << 5)
#define ORC_G_D (1ull << 6)
#define ORC_G_PS (1ull << 7)
#define ORC_G_XD (1ull << 63)

#define ORC_4K (1ull << 12)
#define ORC_2M (1ull << 21)
#define ORC_4M (1ull << 22)
#define ORC_1G (1ull << 30)

/* Bits lo..hi inclusive; empty when lo > hi. */
static uint64_t bits(unsigned lo, unsigned hi)
{
	assert(hi <= 63);
	if (lo > hi)
		return 0;
	return (~0ull >> (63 - hi)) & ~((1ull << lo) - 1);
}

static unsigned levels_of(enum orc_paging mode)
{
	switch (mode) {
	case ORC_PAGING_32:
		return 2;
	case ORC_PAGING_PAE:
		return 3;
	case ORC_PAGING_64:
		return 4;
	default:
		assert(0);
		return 0;
	}
}

/* Bits of gva that index the table at level. */
static uint64_t index_of(enum orc_paging mode, int level, uint64_t gva)
{
	if (mode == ORC_PAGING_32)
		return (gva >> (12 + 10 * (level - 1))) & 0x3ff;
	if (mode == ORC_PAGING_PAE && level == 3)
		return (gva >> 30) & 0x3;
	return (gva >> (12 + 9 * (level - 1))) & 0x1ff;
}

/*
 * XD exists only in 8-byte entries, and only means "no fetch" when
 * EFER.NXE = 1; otherwise bit 63 is reserved (see rsvd_mask).
 */
static bool nx_active(const struct orc_cpu_state *cpu)
{
	return cpu->efer_nxe && cpu->mode != ORC_PAGING_32;
}

/*
 * Does entry e at level map a page?  Level 1 always does.  A PS bit asks for
 * a large page at levels 2 (PAE, 64) and 3 (64 only); PS in a PML4E is a
 * reserved bit, caught before this is asked.  In 32-bit paging PS counts
 * only with CR4.PSE; without it the bit is ignored and the PDE points to a
 * page table.
 */
static bool is_leaf(const struct orc_cpu_state *cpu, int level, uint64_t e)
{
	if (level == 1)
		return true;
	switch (cpu->mode) {
	case ORC_PAGING_32:
		return level == 2 && cpu->cr4_pse && (e & ORC_G_PS);
	case ORC_PAGING_PAE:
		return level == 2 && (e & ORC_G_PS);
	case ORC_PAGING_64:
		return (level == 2 || level == 3) && (e & ORC_G_PS);
	default:
		assert(0);
		return false;
	}
}

/*
 * Reserved bits of a present entry e at level (SDM "reserved" / "must be 0"
 * columns).  M is MAXPHYADDR.
 *
 * 32-bit: only a 4 MiB PDE has any.  PSE-36 puts physical address bits
 *   32..39 in PDE bits 13..20; those that would give an address bit >= M
 *   (PDE bits M-19 .. 20) are reserved, and so is bit 21.  The address is
 *   at most 40 bits, so for M >= 40 only bit 21 is left.
 * PAE: a PDPTE reserves bits 1, 2, 5..8 and M..63 (it has no R/W, U/S, A or
 *   XD).  Other entries reserve M..62, and 63 unless NXE.  A 2 MiB PDE also
 *   reserves 13..20 (bit 12 is PAT).
 * 64: every entry reserves M..51, and 63 unless NXE; 52..62 are ignored
 *   (no protection keys).  A PML4E reserves PS (7).  A 1 GiB PDPTE reserves
 *   13..29 and a 2 MiB PDE 13..20 (bit 12 is PAT).
 */
static uint64_t rsvd_mask(const struct orc_cpu_state *cpu, int level, uint64_t e)
{
	unsigned m = cpu->maxphyaddr;
	uint64_t r = 0;

	switch (cpu->mode) {
	case ORC_PAGING_32:
		if (is_leaf(cpu, level, e) && level == 2)
			r = (1ull << 21) | (m < 40 ? bits(m - 19, 20) : 0);
		return r;
	case ORC_PAGING_PAE:
		if (level == 3)
			return bits(1, 2) | bits(5, 8) | bits(m, 63);
		r = bits(m, 62);
		break;
	case ORC_PAGING_64:
		r = bits(m, 51);
		if (level == 4)
			r |= ORC_G_PS;
		break;
	default:
		assert(0);
		return 0;
	}
	if (!cpu->efer_nxe)
		r |= ORC_G_XD;
	if (level == 3 && is_leaf(cpu, level, e))
		r |= bits(13, 29);
	if (level == 2 && is_leaf(cpu, level, e))
		r |= bits(13, 20);
	return r;
}

/* Physical address of the table a non-leaf entry e points to. */
static uint64_t table_of(const struct orc_cpu_state *cpu, uint64_t e)
{
	if (cpu->mode == ORC_PAGING_32)
		return e & bits(12, 31);
	return e & bits(12, cpu->maxphyaddr - 1);
}

/* Physical address of the page a leaf entry e at level maps. */
static uint64_t frame_of(const struct orc_cpu_state *cpu, int level, uint64_t e)
{
	if (cpu->mode == ORC_PAGING_32) {
		if (level == 1)
			return e & bits(12, 31);
		/*
		 * PSE-36: bits 22..31 in place, bits 13..20 shifted up to
		 * 32..39.  Bits that would reach M or above are reserved and
		 * were refused already, so no masking by M is needed.
		 */
		return (e & bits(22, 31)) | ((e & bits(13, 20)) << 19);
	}
	switch (level) {
	case 1:
		return e & bits(12, cpu->maxphyaddr - 1);
	case 2:
		return e & bits(21, cpu->maxphyaddr - 1);
	case 3:
		return e & bits(30, cpu->maxphyaddr - 1);
	default:
		assert(0);
		return 0;
	}
}

static uint64_t page_size_of(enum orc_paging mode, int level)
{
	if (level == 1)
		return ORC_4K;
	if (level == 2)
		return mode == ORC_PAGING_32 ? ORC_4M : ORC_2M;
	assert(level == 3 && mode == ORC_PAGING_64);
	return ORC_1G;
}

/*
 * The error code bits that depend on the access, not on the fault.  I/D
 * follows SDM 4.7 to the letter: set for a fetch only when CR4.SMEP = 1, or
 * when CR4.PAE = 1 (PAE or 4-level paging) and EFER.NXE = 1.  So a fetch
 * under 32-bit paging with NXE on and SMEP off reports I/D = 0.
 */
static uint32_t access_bits(const struct orc_cpu_state *cpu, unsigned access)
{
	uint32_t f = 0;

	if (access & ORC_ACC_WRITE)
		f |= ORC_PF_W;
	if (access & ORC_ACC_USER)
		f |= ORC_PF_U;
	if ((access & ORC_ACC_FETCH) &&
	    (cpu->cr4_smep || (cpu->mode != ORC_PAGING_32 && cpu->efer_nxe)))
		f |= ORC_PF_ID;
	return f;
}

static void fail(struct orc_translation *out, const struct orc_cpu_state *cpu,
		 unsigned access, int level, uint32_t cause)
{
	out->ok = false;
	out->fault = cause | access_bits(cpu, access);
	out->fault_level = level;
}

/* Rights accumulated over the levels walked so far. */
struct orc_rights {
	bool all_rw;            /* R/W = 1 at every level that has the bit */
	bool all_us;            /* U/S = 1 at every level that has the bit */
	bool any_xd;            /* XD = 1 at some level, counted only with nx_active */
};

static void judge(const struct orc_cpu_state *cpu, const struct orc_rights *r,
		  unsigned access, struct orc_translation *out)
{
	bool nx = nx_active(cpu) && r->any_xd;

	out->user = r->all_us;
	if (access & ORC_ACC_USER) {
		/* CR0.WP and SMEP govern supervisor accesses only. */
		out->readable = r->all_us;
		out->writable = r->all_us && r->all_rw;
		out->executable = r->all_us && !nx;
	} else {
		/* No SMAP: a supervisor may read and (WP = 0) write user pages. */
		out->readable = true;
		out->writable = r->all_rw || !cpu->cr0_wp;
		out->executable = !nx && !(cpu->cr4_smep && r->all_us);
	}
	if (access & ORC_ACC_WRITE)
		out->ok = out->writable;
	else if (access & ORC_ACC_FETCH)
		out->ok = out->executable;
	else
		out->ok = out->readable;
}

void orc_translate(const struct orc_cpu_state *cpu, orc_read_gpa_fn read, void *ctx,
		   uint64_t gva, unsigned access, struct orc_translation *out)
{
	struct orc_rights rights = { .all_rw = true, .all_us = true, .any_xd = false };
	uint32_t accessed = 0;
	unsigned bytes;
	uint64_t table, e = 0;
	int level, l;

	assert(!(access & ~(unsigned)(ORC_ACC_WRITE | ORC_ACC_USER | ORC_ACC_FETCH)));
	assert(!((access & ORC_ACC_WRITE) && (access & ORC_ACC_FETCH)));
	assert(cpu->maxphyaddr >= 32 && cpu->maxphyaddr <= 52);

	memset(out, 0, sizeof(*out));
	for (l = 0; l < 5; l++)
		out->pte_gpa[l] = ORC_GPA_NONE;

	if (cpu->mode == ORC_PAGING_OFF) {
		/* No paging: the 32-bit linear address is the physical one. */
		out->ok = true;
		out->leaf = true;
		out->gpa = gva & 0xffffffffull;
		out->level = 0;
		out->page_size = 1ull << 32;
		out->readable = out->writable = out->user = out->executable = true;
		return;
	}

	if (cpu->mode == ORC_PAGING_64) {
		/* A non-canonical address is a #GP before any walk: not ours. */
		assert((uint64_t)((int64_t)(gva << 16) >> 16) == gva);
	} else {
		gva &= 0xffffffffull;
	}

	level = (int)levels_of(cpu->mode);
	bytes = cpu->mode == ORC_PAGING_32 ? 4 : 8;

	if (cpu->mode == ORC_PAGING_PAE) {
		/*
		 * The PDPTEs were loaded at mov cr3; the walk starts from the
		 * cached copy and never reads the PDPT.  A PDPTE has no rights
		 * and no A flag.  Real hardware refuses reserved bits when it
		 * loads a PDPTE (#GP on mov cr3), so a cached PDPTE with one
		 * cannot occur there; given one anyway, the oracle reports a
		 * reserved-bit #PF rather than translating through it.
		 */
		uint64_t i = index_of(cpu->mode, 3, gva);

		e = cpu->pdptr[i];
		out->pte_gpa[3] = (cpu->cr3 & bits(5, 31)) + 8 * i;
		out->pte[3] = e;
		if (!(e & ORC_G_P)) {
			fail(out, cpu, access, 3, 0);
			return;
		}
		if (e & rsvd_mask(cpu, 3, e)) {
			fail(out, cpu, access, 3, ORC_PF_P | ORC_PF_RSVD);
			return;
		}
		table = table_of(cpu, e);
		level = 2;
	} else if (cpu->mode == ORC_PAGING_32) {
		table = cpu->cr3 & bits(12, 31);
	} else {
		/* cr3 bits at or above M would have made mov cr3 #GP. */
		table = cpu->cr3 & bits(12, cpu->maxphyaddr - 1);
	}

	for (;; level--) {
		uint64_t gpa = table + bytes * index_of(cpu->mode, level, gva);

		assert(level >= 1);
		if (!read(ctx, gpa, &e, bytes)) {
			out->table_outside_ram = true;
			fail(out, cpu, access, level, 0);
			return;
		}
		if (bytes == 4)
			e &= 0xffffffffull;
		out->pte_gpa[level] = gpa;
		out->pte[level] = e;

		if (!(e & ORC_G_P)) {
			fail(out, cpu, access, level, 0);
			return;
		}
		if (e & rsvd_mask(cpu, level, e)) {
			fail(out, cpu, access, level, ORC_PF_P | ORC_PF_RSVD);
			return;
		}

		rights.all_rw = rights.all_rw && (e & ORC_G_RW);
		rights.all_us = rights.all_us && (e & ORC_G_US);
		if (nx_active(cpu) && (e & ORC_G_XD))
			rights.any_xd = true;
		if (!(e & ORC_G_A))
			accessed |= 1u << level;

		if (is_leaf(cpu, level, e))
			break;
		table = table_of(cpu, e);
	}

	out->leaf = true;
	out->level = level;
	out->page_size = page_size_of(cpu->mode, level);
	out->gpa = frame_of(cpu, level, e) | (gva & (out->page_size - 1));
	judge(cpu, &rights, access, out);
	if (!out->ok) {
		fail(out, cpu, access, level, ORC_PF_P);
		return;
	}

	/* A is set in every entry used; D only in the leaf, only by a write. */
	out->sets_accessed_levels = accessed;
	out->sets_dirty = (access & ORC_ACC_WRITE) && !(e & ORC_G_D);
}
