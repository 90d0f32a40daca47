/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest side: guest physical memory, memslots and the host mapping, the
 * per-mode context tables of struct kvm_mmu, and the guest page-table walk
 * of arch/x86/kvm/paging_tmpl.h, FNAME(walk_addr_generic), for both pte
 * sizes (PTTYPE 32 and 64), as Linux 3.11 has them.
 *
 * The walk reads guest ptes without mmu_lock, as the kernel does with
 * __copy_from_user: a 64-bit gpte on a 32-bit host is two 32-bit loads, so
 * a guest writing the pte concurrently can be seen half-updated, exactly as
 * in the kernel.  A/D bits are set with cmpxchg on the guest pte; a lost
 * cmpxchg restarts the whole walk (the "retry_walk" loop).
 *
 * Invariants owned here:
 *   G1  The walk never writes a guest pte except through cmpxchg, and only
 *       to set A (any level) or D (the leaf, on a write fault).
 *   G2  A walk that returns 1 read every level from guest memory in this
 *       attempt: no value from an abandoned attempt is used.
 */
#include "mmu/guest.h"

#include <assert.h>
#include <string.h>

#define PT_PRESENT_BIT PT_PRESENT_MASK
#define PT_WRITABLE_SHIFT 1
#define PT_DIRTY_SHIFT 6
#define PT_PAGE_SIZE_SHIFT 7
#define PT64_NX_SHIFT 63
#define PT64_LEVEL_BITS 9
#define PT32_LEVEL_BITS 10
#define PT32_DIR_PSE36_SHIFT 13
#define PT32_DIR_PSE36_MASK (((1ull << 4) - 1) << PT32_DIR_PSE36_SHIFT)

static uint64_t rsvd_bits(int s, int e)
{
	return ((1ull << (e - s + 1)) - 1) << s;
}

/* ---- guest memory and the host mapping ---- */

void guest_init(struct kvm_guest *g)
{
	memset(g, 0, sizeof(*g));
}

bool guest_add_memslot(struct kvm_guest *g, uint64_t base_gfn, uint64_t npages, uint64_t pfn_base)
{
	struct kvm_memory_slot *s;

	if (g->slots_count == KVM_MEMSLOTS_MAX)
		return false;
	s = &g->slots[g->slots_count++];
	memset(s, 0, sizeof(*s));
	s->base_gfn = base_gfn;
	s->npages = npages;
	s->pfn_base = pfn_base;
	s->host_level = PT_PAGE_TABLE_LEVEL;
	return true;
}

bool guest_del_memslot(struct kvm_guest *g, uint64_t base_gfn)
{
	for (uint32_t i = 1; i < g->slots_count; i++) {
		if (g->slots[i].base_gfn != base_gfn)
			continue;
		g->slots[i] = g->slots[--g->slots_count];
		return true;
	}
	return false;
}

sim_addr guest_back_gfn(struct kvm_guest *g, uint64_t gfn)
{
	for (uint32_t i = 0; i < g->backed_count; i++)
		if (g->backed_gfn[i] == gfn)
			return MMU_ADDR_GUEST + i * GUEST_FRAME_WORDS;
	assert(g->backed_count < GUEST_BACKED_MAX);
	g->backed_gfn[g->backed_count] = gfn;
	return MMU_ADDR_GUEST + g->backed_count++ * GUEST_FRAME_WORDS;
}

bool guest_gpa_addr(const struct kvm_guest *g, uint64_t gpa, sim_addr *out)
{
	uint64_t gfn = gpa >> PAGE_SHIFT;

	for (uint32_t i = 0; i < g->backed_count; i++) {
		if (g->backed_gfn[i] == gfn) {
			*out = MMU_ADDR_GUEST + i * GUEST_FRAME_WORDS +
			       (uint32_t)((gpa & 4095) / 4);
			return true;
		}
	}
	return false;
}

bool guest_peek_gpa(const struct sim *s, const struct kvm_guest *g, uint64_t gpa, uint64_t *out,
		    unsigned bytes)
{
	sim_addr a;

	if (!gfn_to_memslot(g, gpa >> PAGE_SHIFT))
		return false;
	*out = 0;
	if (!guest_gpa_addr(g, gpa, &a))
		return true;   /* RAM that holds no page table reads as zero */
	*out = sim_mem_peek32(s, a);
	if (bytes == 8)
		*out |= (uint64_t)sim_mem_peek32(s, a + 1) << 32;
	return true;
}

void guest_init_entry(struct sim *s, struct kvm_guest *g, uint64_t gfn, unsigned index, uint64_t v,
		      unsigned bytes)
{
	sim_addr a = guest_back_gfn(g, gfn) + index * bytes / 4;

	sim_mem_init32(s, a, (uint32_t)v);
	if (bytes == 8)
		sim_mem_init32(s, a + 1, (uint32_t)(v >> 32));
}

/* Models: include/linux/kvm_host.h: gfn_to_memslot() (search_memslots) */
const struct kvm_memory_slot *gfn_to_memslot(const struct kvm_guest *g, uint64_t gfn)
{
	for (uint32_t i = 0; i < g->slots_count; i++) {
		const struct kvm_memory_slot *s = &g->slots[i];

		if (gfn >= s->base_gfn && gfn < s->base_gfn + s->npages)
			return s;
	}
	return NULL;
}

bool guest_gfn_to_pfn(const struct kvm_guest *g, uint64_t gfn, uint64_t *pfn)
{
	const struct kvm_memory_slot *s = gfn_to_memslot(g, gfn);

	if (!s)
		return false;
	*pfn = s->pfn_base + (gfn - s->base_gfn);
	return true;
}

/* Models: virt/kvm/kvm_main.c: mark_page_dirty() */
void mark_page_dirty(struct kvm *kvm, struct kvm_guest *g, uint64_t gfn)
{
	struct kvm_memory_slot *s = (struct kvm_memory_slot *)gfn_to_memslot(g, gfn);
	uint64_t rel;

	if (!s || !s->dirty_log)
		return;
	s->dirty_pages++;
	rel = gfn - s->base_gfn;
	/* set_bit_le: an atomic or.  Only memslot 0 has a bitmap in sim memory. */
	if (s == &g->slots[0] && rel < MMU_DIRTY_BITMAP_WORDS * 32)
		sim_or32(kvm->sim, MMU_ADDR_DIRTY_BITMAP + (sim_addr)(rel / 32), 1u << (rel % 32));
}

/* ---- context tables ---- */

/* Models: mmu.c: reset_rsvds_bits_mask() (3.11) */
static void reset_rsvds_bits_mask(struct kvm_mmu *m)
{
	uint64_t exb_bit_rsvd = m->nx ? 0 : rsvd_bits(63, 63);
	int maxphyaddr = (int)m->maxphyaddr;

	memset(m->rsvd_bits_mask, 0, sizeof(m->rsvd_bits_mask));
	switch (m->root_level) {
	case PT32_ROOT_LEVEL:
		/* 4K entries of a two-level table have no reserved bits. */
		if (!m->cr4_pse)
			break;
		/* A PSE-36 4 MiB page: bits 13..16 are address bits 32..35. */
		m->rsvd_bits_mask[1][1] = rsvd_bits(17, 21);
		break;
	case PT32E_ROOT_LEVEL:
		m->rsvd_bits_mask[0][2] = rsvd_bits(maxphyaddr, 63) | rsvd_bits(7, 8) |
					  rsvd_bits(1, 2);
		m->rsvd_bits_mask[0][1] = exb_bit_rsvd | rsvd_bits(maxphyaddr, 62);
		m->rsvd_bits_mask[0][0] = exb_bit_rsvd | rsvd_bits(maxphyaddr, 62);
		m->rsvd_bits_mask[1][1] = exb_bit_rsvd | rsvd_bits(maxphyaddr, 62) |
					  rsvd_bits(13, 20);
		m->rsvd_bits_mask[1][0] = m->rsvd_bits_mask[0][0];
		break;
	case PT64_ROOT_LEVEL:
		m->rsvd_bits_mask[0][3] = exb_bit_rsvd | rsvd_bits(maxphyaddr, 51) |
					  rsvd_bits(7, 8);
		m->rsvd_bits_mask[0][2] = exb_bit_rsvd | rsvd_bits(maxphyaddr, 51) |
					  rsvd_bits(7, 8);
		m->rsvd_bits_mask[0][1] = exb_bit_rsvd | rsvd_bits(maxphyaddr, 51);
		m->rsvd_bits_mask[0][0] = exb_bit_rsvd | rsvd_bits(maxphyaddr, 51);
		m->rsvd_bits_mask[1][3] = m->rsvd_bits_mask[0][3];
		m->rsvd_bits_mask[1][2] = exb_bit_rsvd | rsvd_bits(maxphyaddr, 51) |
					  rsvd_bits(13, 29);
		m->rsvd_bits_mask[1][1] = exb_bit_rsvd | rsvd_bits(maxphyaddr, 51) |
					  rsvd_bits(13, 20);
		m->rsvd_bits_mask[1][0] = m->rsvd_bits_mask[0][0];
		break;
	default:
		break;
	}
}

/*
 * Models: mmu.c: update_permission_bitmask() (3.11, shadow paging)
 *
 * permissions[pfec >> 1] has bit `pte_access` set when an access with
 * those error-code bits faults on a page with those ACC_* bits.
 */
static void update_permission_bitmask(struct kvm_mmu *m)
{
	for (unsigned byte = 0; byte < 16; byte++) {
		unsigned pfec = byte << 1;
		bool wf = pfec & PFERR_WRITE_MASK, uf = pfec & PFERR_USER_MASK;
		bool ff = pfec & PFERR_FETCH_MASK;
		uint8_t map = 0;

		for (unsigned bit = 0; bit < 8; bit++) {
			bool x = bit & ACC_EXEC_MASK, w = bit & ACC_WRITE_MASK;
			bool u = bit & ACC_USER_MASK;

			/* Without EFER.NXE nothing is non-executable. */
			x |= !m->nx;
			/* CR0.WP clear: supervisor writes ignore R/W. */
			w |= !m->cr0_wp && !uf;
			/* CR4.SMEP: no supervisor fetch from a user page. */
			x &= !(m->cr4_smep && u && !uf);
			if ((ff && !x) || (uf && !u) || (wf && !w))
				map |= 1u << bit;
		}
		m->permissions[byte] = map;
	}
}

/* Models: mmu.c: update_last_pte_bitmap() */
static void update_last_pte_bitmap(struct kvm_mmu *m)
{
	const unsigned ps_set_index = 1u << 2;
	int root_level = m->root_level;
	uint8_t map;

	if (root_level == PT32E_ROOT_LEVEL)
		--root_level;
	/* The 4K level always ends the walk, PS or not (PAT). */
	map = 1 | (1u << ps_set_index);
	for (int level = PT_DIRECTORY_LEVEL; level <= root_level; ++level)
		if (level <= PT_PDPE_LEVEL && (m->root_level >= PT32E_ROOT_LEVEL || m->cr4_pse))
			map |= 1u << (ps_set_index | (unsigned)(level - 1));
	m->last_pte_bitmap = map;
}

/*
 * Models: mmu.c: nonpaging_init_context(), paging32_init_context(),
 * paging32E_init_context(), paging64_init_context() via kvm_init_shadow_mmu().
 */
void kvm_mmu_context_init(struct kvm_mmu *m, enum guest_paging paging, uint64_t cr3, bool nx,
			  bool cr0_wp, bool cr4_pse, bool cr4_smep)
{
	memset(m, 0, sizeof(*m));
	m->paging = paging;
	m->cr3 = cr3;
	m->cr0_wp = cr0_wp;
	m->cr4_pse = cr4_pse;
	m->cr4_smep = cr4_smep;
	m->maxphyaddr = MMU_PHYS_BITS;
	switch (paging) {
	case GUEST_PAGING_OFF:
		m->root_level = 0;
		m->nx = false;
		break;
	case GUEST_PAGING_32:
		m->root_level = PT32_ROOT_LEVEL;
		m->nx = false;   /* no NX in two-level paging */
		break;
	case GUEST_PAGING_PAE:
		m->root_level = PT32E_ROOT_LEVEL;
		m->nx = nx;
		break;
	case GUEST_PAGING_64:
		m->root_level = PT64_ROOT_LEVEL;
		m->nx = nx;
		break;
	default:
		assert(0);
	}
	reset_rsvds_bits_mask(m);
	update_permission_bitmask(m);
	update_last_pte_bitmap(m);
}

/* Models: mmu.h: permission_fault() (3.11) */
bool permission_fault(const struct kvm_mmu *mmu, unsigned pte_access, uint32_t pfec)
{
	return (mmu->permissions[pfec >> 1] >> pte_access) & 1;
}

/* ---- the walk ---- */

/* Models: mmu.c: gpte_access() */
unsigned gpte_access(uint64_t gpte)
{
	unsigned access = (unsigned)(gpte & (PT_WRITABLE_MASK | PT_USER_MASK)) | ACC_EXEC_MASK;

	/* A 32-bit gpte has no bit 63: the shift leaves exec alone. */
	access &= ~(unsigned)(gpte >> PT64_NX_SHIFT);
	return access;
}

/* Models: mmu.c: is_last_gpte() */
static bool is_last_gpte(const struct kvm_mmu *m, unsigned level, uint64_t gpte)
{
	unsigned index = level - 1;

	index |= (unsigned)((gpte & PT_PAGE_SIZE_MASK) >> (PT_PAGE_SIZE_SHIFT - 2));
	return m->last_pte_bitmap & (1u << index);
}

/* Models: mmu.c: is_rsvd_bits_set() */
bool is_rsvd_bits_set(const struct kvm_mmu *m, uint64_t gpte, int level)
{
	int bit7 = (gpte >> 7) & 1;

	return (gpte & m->rsvd_bits_mask[bit7][level - 1]) != 0;
}

/* Models: mmu.c: protect_clean_gpte(): a clean gpte maps read-only, so the write faults and D gets set. */
void protect_clean_gpte(unsigned *access, uint64_t gpte)
{
	unsigned mask = ~(unsigned)ACC_WRITE_MASK;

	mask |= (unsigned)(gpte >> (PT_DIRTY_SHIFT - PT_WRITABLE_SHIFT)) & PT_WRITABLE_MASK;
	*access &= mask;
}

/* The two pte formats of paging_tmpl.h (PTTYPE 32 and 64). */
struct pttype {
	int bytes;            /* sizeof(pt_element_t) */
	int level_bits;       /* PT_LEVEL_BITS */
	uint64_t base_mask;   /* PT_BASE_ADDR_MASK */
};

static const struct pttype pt32 = { 4, PT32_LEVEL_BITS, 0xfffff000ull };
static const struct pttype pt64 = { 8, PT64_LEVEL_BITS, PT64_BASE_ADDR_MASK };

static unsigned pt_index(const struct pttype *t, uint64_t addr, int level)
{
	return (unsigned)(addr >> (PAGE_SHIFT + (level - 1) * t->level_bits)) &
	       ((1u << t->level_bits) - 1);
}

/* PT_LVL_ADDR_MASK / PT_LVL_OFFSET_MASK */
static uint64_t lvl_addr_mask(const struct pttype *t, int level)
{
	return t->base_mask & ~((1ull << (PAGE_SHIFT + (level - 1) * t->level_bits)) - 1);
}

static uint64_t lvl_offset_mask(const struct pttype *t, int level)
{
	return t->base_mask & ((1ull << (PAGE_SHIFT + (level - 1) * t->level_bits)) - 1);
}

/* Models: FNAME(gpte_to_gfn_lvl)() */
static uint64_t gpte_to_gfn_lvl(const struct pttype *t, uint64_t gpte, int level)
{
	return (gpte & lvl_addr_mask(t, level)) >> PAGE_SHIFT;
}

/* Models: mmu.c: pse36_gfn_delta(): PDE bits 13..16 become gfn bits 20..23. */
static uint64_t pse36_gfn_delta(uint64_t gpte)
{
	int shift = 32 - PT32_DIR_PSE36_SHIFT - PAGE_SHIFT;

	return (gpte & PT32_DIR_PSE36_MASK) << shift;
}

/*
 * __copy_from_user of one gpte: a 32-bit gpte is one load; a 64-bit gpte
 * is one atomic load on a 64-bit host and two 32-bit loads (low, then high)
 * on a 32-bit host.  A frame that is RAM but holds no page table reads as
 * zero and costs no step.
 */
static uint64_t read_gpte(struct kvm *kvm, const struct kvm_guest *g, const struct pttype *t,
			  uint64_t pte_gpa);

uint64_t guest_read_gpte(struct kvm *kvm, const struct kvm_guest *g, uint64_t pte_gpa,
			 int bytes)
{
	return read_gpte(kvm, g, bytes == 4 ? &pt32 : &pt64, pte_gpa);
}

static uint64_t read_gpte(struct kvm *kvm, const struct kvm_guest *g, const struct pttype *t,
			  uint64_t pte_gpa)
{
	sim_addr a;
	uint64_t low, high;

	if (!guest_gpa_addr(g, pte_gpa, &a))
		return 0;
	if (t->bytes == 4)
		return sim_load32(kvm->sim, a);
	if (kvm->width == MMU_HOST_64)
		return sim_load64(kvm->sim, a);
	low = sim_load32(kvm->sim, a);
	high = sim_load32(kvm->sim, a + 1);
	return low | high << 32;
}

/*
 * Models: FNAME(cmpxchg_gpte)(): returns 1 when the guest pte no longer held
 * orig_pte (the walk restarts).  cmpxchg8b for a 64-bit gpte on any host.
 */
static int cmpxchg_gpte(struct kvm *kvm, const struct kvm_guest *g, const struct pttype *t,
			uint64_t pte_gpa, uint64_t orig_pte, uint64_t new_pte)
{
	sim_addr a;
	uint64_t ret;

	if (!guest_gpa_addr(g, pte_gpa, &a))
		return -1;   /* get_user_pages_fast failed */
	if (t->bytes == 4)
		ret = sim_cmpxchg32(kvm->sim, a, (uint32_t)orig_pte, (uint32_t)new_pte);
	else
		ret = sim_cmpxchg64(kvm->sim, a, orig_pte, new_pte);
	return ret != orig_pte;
}

/* Models: FNAME(update_accessed_dirty_bits)() (3.11, with its ptes[level] store). */
static int update_accessed_dirty_bits(struct kvm *kvm, struct kvm_guest *g,
				      const struct pttype *t, struct guest_walker *w,
				      int write_fault)
{
	for (unsigned level = w->max_level; level >= (unsigned)w->level; --level) {
		uint64_t pte = w->ptes[level - 1], orig_pte = pte;
		int ret;

		if (!(pte & PT_ACCESSED_MASK))
			pte |= PT_ACCESSED_MASK;
		if (level == (unsigned)w->level && write_fault && !(pte & PT_DIRTY_MASK))
			pte |= PT_DIRTY_MASK;
		if (pte == orig_pte)
			continue;
		ret = cmpxchg_gpte(kvm, g, t, w->pte_gpa[level - 1], orig_pte, pte);
		if (ret)
			return ret;
		mark_page_dirty(kvm, g, w->table_gfn[level - 1]);
		/*
		 * 3.11 stores into ptes[level], one above the entry it
		 * updated; for the top level that is past ptes[] (here: the
		 * first prefetch pte, as in the kernel's struct layout).
		 */
		w->ptes[level] = pte;
	}
	return 0;
}

/* Models: FNAME(walk_addr_generic)() for PTTYPE 32 and 64 (no nested paging). */
int guest_walk_addr(struct kvm *kvm, struct kvm_guest *g, const struct kvm_mmu *mmu,
		    struct guest_walker *w, uint64_t addr, uint32_t access)
{
	const struct pttype *t = mmu->root_level == PT32_ROOT_LEVEL ? &pt32 : &pt64;
	const int write_fault = access & PFERR_WRITE_MASK;
	const int user_fault = access & PFERR_USER_MASK;
	const int fetch_fault = access & PFERR_FETCH_MASK;
	unsigned pt_access, pte_access, accessed_dirty;
	uint32_t errcode = 0;
	uint64_t pte, gfn;
	int ret;

	assert(mmu->root_level >= PT32_ROOT_LEVEL);
	memset(w, 0, sizeof(*w));
	w->max_full_levels = t->bytes == 4 ? 2 : (kvm->width == MMU_HOST_64 ? 4 : 2);
retry_walk:
	w->level = mmu->root_level;
	pte = mmu->cr3;
	if (t == &pt64 && w->level == PT32E_ROOT_LEVEL) {
		/* The PDPTEs were loaded at mov cr3; no memory is read here. */
		pte = mmu->pdptrs[(addr >> 30) & 3];
		if (!(pte & PT_PRESENT_BIT))
			goto error;
		--w->level;
	}
	w->max_level = (unsigned)w->level;
	accessed_dirty = PT_ACCESSED_MASK;
	pt_access = pte_access = ACC_ALL;
	++w->level;
	do {
		uint64_t table_gfn, pte_gpa;

		pt_access &= pte_access;
		--w->level;
		table_gfn = gpte_to_gfn_lvl(t, pte, PT_PAGE_TABLE_LEVEL);
		pte_gpa = (table_gfn << PAGE_SHIFT) + pt_index(t, addr, w->level) * (uint64_t)t->bytes;
		w->table_gfn[w->level - 1] = table_gfn;
		w->pte_gpa[w->level - 1] = pte_gpa;
		/* gfn_to_hva: a table outside every memslot is an error. */
		if (!gfn_to_memslot(g, table_gfn))
			goto error;
		pte = read_gpte(kvm, g, t, pte_gpa);
		if (!(pte & PT_PRESENT_BIT))
			goto error;
		if (is_rsvd_bits_set(mmu, pte, w->level)) {
			errcode |= PFERR_RSVD_MASK | PFERR_PRESENT_MASK;
			goto error;
		}
		accessed_dirty &= (unsigned)pte;
		pte_access = pt_access & gpte_access(pte);
		w->ptes[w->level - 1] = pte;
	} while (!is_last_gpte(mmu, (unsigned)w->level, pte));

	if (permission_fault(mmu, pte_access, access)) {
		errcode |= PFERR_PRESENT_MASK;
		goto error;
	}
	gfn = gpte_to_gfn_lvl(t, pte, w->level);
	gfn += (addr & lvl_offset_mask(t, w->level)) >> PAGE_SHIFT;
	if (t == &pt32 && w->level == PT_DIRECTORY_LEVEL)
		gfn += pse36_gfn_delta(pte);   /* is_cpuid_PSE36(): always */
	w->gfn = gfn;

	if (!write_fault)
		protect_clean_gpte(&pte_access, pte);
	else
		/* Fold D into the check: shift it one place right, onto A. */
		accessed_dirty &= (unsigned)(pte >> (PT_DIRTY_SHIFT - PT_ACCESSED_SHIFT));
	if (!accessed_dirty) {
		ret = update_accessed_dirty_bits(kvm, g, t, w, write_fault);
		if (ret < 0)
			goto error;
		if (ret) {
			w->retries++;
			goto retry_walk;
		}
	}
	w->pt_access = pt_access;
	w->pte_access = pte_access;
	return 1;

error:
	errcode |= (uint32_t)(write_fault | user_fault);
	if (fetch_fault && (mmu->nx || mmu->cr4_smep))
		errcode |= PFERR_FETCH_MASK;
	w->fault_error_code = errcode;
	return 0;
}
