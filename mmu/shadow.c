/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shadow pages, rmaps and the direct-map fault path of Linux 3.11's mmu.c.
 *
 * Every spte access goes through the split-spte layer of spte.c (so the
 * lock holder's writes race with lockless readers exactly as in the
 * kernel); the bookkeeping around them is plain memory, touched only under
 * mmu_lock.
 *
 * Invariants owned here (checked by kvm_shadow_check, numbered in
 * mmu/README.md):
 *   R1  every shadow-present leaf spte is in exactly one rmap chain: the
 *       one of its gfn and level; every rmap entry is such an spte.
 *   R2  every present non-leaf spte points at an allocated shadow page and
 *       is in that page's parent_ptes; every parent_ptes entry is such an
 *       spte.
 *   R3  a shadow page with root_count > 0 is allocated; a zapped page that
 *       was committed is back in the pool with no parents and no sptes
 *       pointing at it.
 *   R4  no present spte points into a free shadow page.
 *   R5  n_used_mmu_pages equals the number of allocated, uncommitted pages.
 */
#include "mmu/shadow.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define PT64_ENT_PER_PAGE 512
#define SHADOW_PT_INDEX(addr, level) \
	((unsigned)((addr) >> (PAGE_SHIFT + ((level) - 1) * 9)) & 511)

sim_addr sp_spt(uint32_t index)
{
	assert(index < MMU_SP_MAX);
	return MMU_ADDR_SPT + index * MMU_SP_WORDS;
}

uint64_t sp_hpa(uint32_t index)
{
	return (SPT_PFN_BASE + index) << PAGE_SHIFT;
}

uint32_t page_header_of_sptep(sim_addr sptep)
{
	assert(sptep >= MMU_ADDR_SPT && sptep < MMU_ADDR_SPT + MMU_SP_MAX * MMU_SP_WORDS);
	return (sptep - MMU_ADDR_SPT) / MMU_SP_WORDS;
}

bool page_header_of_hpa(uint64_t hpa, uint32_t *index)
{
	uint64_t pfn = hpa >> PAGE_SHIFT;

	if (pfn < SPT_PFN_BASE || pfn >= SPT_PFN_BASE + MMU_SP_MAX)
		return false;
	*index = (uint32_t)(pfn - SPT_PFN_BASE);
	return true;
}

static unsigned sptep_index(sim_addr sptep)
{
	return (sptep - MMU_ADDR_SPT) % MMU_SP_WORDS / 2;
}

void kvm_shadow_init(struct kvm_shadow *sh)
{
	memset(sh, 0, sizeof(*sh));
}

void kvm_vcpu_mmu_init(struct kvm_vcpu_mmu *vm, enum guest_paging paging, bool tdp,
		       enum mmu_host_width width)
{
	memset(vm, 0, sizeof(*vm));
	kvm_mmu_context_init(&vm->ctx, paging, 0, false, true, true, false);
	vm->direct_map = tdp || paging == GUEST_PAGING_OFF;
	/*
	 * nonpaging_init_context: PAE shadow root.  TDP: EPT is four levels;
	 * NPT is four levels on a 64-bit host and three on a 32-bit one.
	 */
	if (tdp)
		vm->shadow_root_level = width == MMU_HOST_64 ? PT64_ROOT_LEVEL : PT32E_ROOT_LEVEL;
	else
		vm->shadow_root_level = PT32E_ROOT_LEVEL;
	vm->root_hpa = INVALID_PAGE;
}

/* ---- pte_list: 0 empty; even: one spte; odd: (desc index << 1) | 1 ---- */

static struct pte_list_desc *desc_of(struct kvm_shadow *sh, unsigned long head)
{
	assert(head & 1);
	assert((head >> 1) < PTE_LIST_DESC_MAX);
	return &sh->descs[head >> 1];
}

static unsigned long desc_alloc(struct kvm_shadow *sh)
{
	/* mmu_topup_memory_caches filled the cache before the lock; it never runs dry. */
	for (unsigned i = 0; i < PTE_LIST_DESC_MAX; i++) {
		if (!sh->descs[i].used) {
			memset(&sh->descs[i], 0, sizeof(sh->descs[i]));
			sh->descs[i].used = true;
			return (unsigned long)i << 1 | 1;
		}
	}
	assert(0 && "pte_list_desc pool exhausted");
	return 0;
}

/* Models: mmu.c: pte_list_add(): returns the number of entries before. */
int pte_list_add(struct kvm_shadow *sh, unsigned long *head, sim_addr spte)
{
	struct pte_list_desc *desc;
	int i, count = 0;

	assert(spte && !(spte & 1));
	if (!*head) {
		*head = spte;
		return 0;
	}
	if (!(*head & 1)) {
		unsigned long d = desc_alloc(sh);

		desc = desc_of(sh, d);
		desc->sptes[0] = (sim_addr)*head;
		desc->sptes[1] = spte;
		*head = d;
		return 1;
	}
	desc = desc_of(sh, *head);
	while (desc->sptes[PTE_LIST_EXT - 1] && desc->more) {
		desc = desc_of(sh, ((unsigned long)(desc->more - 1) << 1) | 1);
		count += PTE_LIST_EXT;
	}
	if (desc->sptes[PTE_LIST_EXT - 1]) {
		unsigned long d = desc_alloc(sh);

		desc->more = (uint32_t)(d >> 1) + 1;
		desc = desc_of(sh, d);
	}
	for (i = 0; desc->sptes[i]; ++i)
		++count;
	desc->sptes[i] = spte;
	return count;
}

/* Models: mmu.c: pte_list_desc_remove_entry(): the last entry fills the hole. */
static void pte_list_desc_remove_entry(struct kvm_shadow *sh, unsigned long *head,
				       unsigned long d, int i, unsigned long prev)
{
	struct pte_list_desc *desc = desc_of(sh, d);
	int j;

	for (j = PTE_LIST_EXT - 1; !desc->sptes[j] && j > i; --j)
		;
	desc->sptes[i] = desc->sptes[j];
	desc->sptes[j] = 0;
	if (j != 0)
		return;
	if (!prev && !desc->more) {
		*head = desc->sptes[0];
	} else if (prev) {
		desc_of(sh, prev)->more = desc->more;
	} else {
		*head = ((unsigned long)(desc->more - 1) << 1) | 1;
	}
	desc->used = false;
}

/* Models: mmu.c: pte_list_remove(): BUG()s if the entry is missing. */
void pte_list_remove(struct kvm_shadow *sh, unsigned long *head, sim_addr spte)
{
	unsigned long d, prev = 0;

	assert(*head && "pte_list_remove: empty list");
	if (!(*head & 1)) {
		assert(*head == spte && "pte_list_remove: not in the list");
		*head = 0;
		return;
	}
	d = *head;
	while (d) {
		struct pte_list_desc *desc = desc_of(sh, d);

		for (int i = 0; i < PTE_LIST_EXT && desc->sptes[i]; ++i) {
			if (desc->sptes[i] == spte) {
				pte_list_desc_remove_entry(sh, head, d, i, prev);
				return;
			}
		}
		prev = d;
		d = desc->more ? ((unsigned long)(desc->more - 1) << 1) | 1 : 0;
	}
	assert(0 && "pte_list_remove: not in the list");
}

/* Call fn on every entry; stops early when fn returns false. */
static void pte_list_walk(const struct kvm_shadow *sh, unsigned long head,
			  bool (*fn)(sim_addr spte, void *ctx), void *ctx)
{
	if (!head)
		return;
	if (!(head & 1)) {
		fn((sim_addr)head, ctx);
		return;
	}
	while (head) {
		const struct pte_list_desc *desc = &sh->descs[head >> 1];

		for (int i = 0; i < PTE_LIST_EXT && desc->sptes[i]; ++i)
			if (!fn(desc->sptes[i], ctx))
				return;
		head = desc->more ? ((unsigned long)(desc->more - 1) << 1) | 1 : 0;
	}
}

static bool count_one(sim_addr spte, void *ctx)
{
	(void)spte;
	(*(uint32_t *)ctx)++;
	return true;
}

uint32_t pte_list_count(const struct kvm_shadow *sh, unsigned long head)
{
	uint32_t n = 0;

	pte_list_walk(sh, head, count_one, &n);
	return n;
}

struct find_ctx {
	sim_addr spte;
	bool found;
};

static bool find_one(sim_addr spte, void *ctx)
{
	struct find_ctx *f = ctx;

	if (spte == f->spte)
		f->found = true;
	return !f->found;
}

bool pte_list_contains(const struct kvm_shadow *sh, unsigned long head, sim_addr spte)
{
	struct find_ctx f = { spte, false };

	pte_list_walk(sh, head, find_one, &f);
	return f.found;
}

/* The first entry (rmap_get_first), or 0. */
static sim_addr pte_list_first(const struct kvm_shadow *sh, unsigned long head)
{
	if (!head)
		return 0;
	if (!(head & 1))
		return (sim_addr)head;
	return sh->descs[head >> 1].sptes[0];
}

/* ---- rmaps: memslot->arch.rmap[level][gfn], as an open-addressed table ---- */

unsigned long *gfn_to_rmap(struct kvm_shadow *sh, uint64_t gfn, int level, bool create)
{
	/* gfn_to_index: the rmap of a large page is indexed by its first gfn. */
	uint64_t base = gfn & ~((1ull << ((level - 1) * 9)) - 1);
	uint64_t key = (uint64_t)level << 56 | base | 1ull << 60;
	uint32_t h = (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 54) % RMAP_SLOTS;

	for (uint32_t n = 0; n < RMAP_SLOTS; n++, h = (h + 1) % RMAP_SLOTS) {
		struct kvm_rmap_entry *e = &sh->rmap[h];

		if (e->key == key)
			return &e->head;
		if (!e->key) {
			if (!create)
				return NULL;
			e->key = key;
			e->head = 0;
			return &e->head;
		}
	}
	assert(0 && "rmap table full");
	return NULL;
}

/* kvm_mmu_page_get_gfn() for a direct page: the gfn an spte maps. */
static uint64_t kvm_mmu_page_get_gfn(const struct kvm_shadow *sh, uint32_t spi, unsigned index)
{
	const struct kvm_mmu_page *sp = &sh->pages[spi];

	assert(sp->role.direct && "indirect shadow pages are not modelled yet");
	return sp->gfn + ((uint64_t)index << ((sp->role.level - 1) * 9));
}

/* Models: mmu.c: rmap_add() */
static int rmap_add(struct kvm_shadow *sh, sim_addr spte, uint64_t gfn)
{
	uint32_t spi = page_header_of_sptep(spte);

	return pte_list_add(sh, gfn_to_rmap(sh, gfn, sh->pages[spi].role.level, true), spte);
}

/* Models: mmu.c: rmap_remove() */
static void rmap_remove(struct kvm_shadow *sh, sim_addr spte)
{
	uint32_t spi = page_header_of_sptep(spte);
	uint64_t gfn = kvm_mmu_page_get_gfn(sh, spi, sptep_index(spte));

	pte_list_remove(sh, gfn_to_rmap(sh, gfn, sh->pages[spi].role.level, false), spte);
}

/* Models: mmu.c: drop_spte() */
static void drop_spte(struct kvm *kvm, struct kvm_shadow *sh, sim_addr sptep)
{
	if (mmu_spte_clear_track_bits(kvm, sptep))
		rmap_remove(sh, sptep);
}

/* Models: kvm_main.c: kvm_flush_remote_tlbs() -- counted; the IPIs come with issue 5. */
static void kvm_flush_remote_tlbs(struct kvm_shadow *sh)
{
	sh->remote_flushes++;
}

/* ---- shadow pages ---- */

static bool is_large_pte(uint64_t spte)
{
	return spte & PT_PAGE_SIZE_MASK;
}

/* Models: mmu.c: mmu_page_add_parent_pte() */
static void mmu_page_add_parent_pte(struct kvm_shadow *sh, uint32_t spi, sim_addr parent_pte)
{
	if (!parent_pte)
		return;
	pte_list_add(sh, &sh->pages[spi].parent_ptes, parent_pte);
}

/* Models: mmu.c: mmu_page_remove_parent_pte() + drop_parent_pte() */
static void drop_parent_pte(struct kvm *kvm, struct kvm_shadow *sh, uint32_t spi, sim_addr parent_pte)
{
	pte_list_remove(sh, &sh->pages[spi].parent_ptes, parent_pte);
	mmu_spte_clear_no_track(kvm, parent_pte);
}

/*
 * Models: mmu.c: kvm_mmu_alloc_page().  The page comes from the per-vCPU
 * cache topped up before the lock; the pool here is the VM's pages.
 */
static uint32_t kvm_mmu_alloc_page(struct kvm_shadow *sh, sim_addr parent_pte, bool direct)
{
	(void)direct;
	for (uint32_t i = 0; i < MMU_SP_MAX; i++) {
		struct kvm_mmu_page *sp = &sh->pages[i];

		if (sp->allocated)
			continue;
		memset(sp, 0, sizeof(*sp));
		sp->allocated = true;
		sp->link_seq = ++sh->link_seq;   /* list_add: newest at the head */
		mmu_page_add_parent_pte(sh, i, parent_pte);
		sh->n_used_mmu_pages++;
		return i;
	}
	assert(0 && "shadow page pool exhausted (make_mmu_pages_available is not modelled yet)");
	return 0;
}

static bool is_obsolete_sp(const struct kvm_shadow *sh, const struct kvm_mmu_page *sp)
{
	return sp->mmu_valid_gen != sh->mmu_valid_gen;
}

/*
 * Models: mmu.c: kvm_mmu_get_page(), direct pages only: find a page of the
 * same gfn and role in the hash, or allocate one and clear its 512 sptes.
 */
static uint32_t kvm_mmu_get_page(struct kvm_vcpu_mmu *vm, struct kvm *kvm,
				 struct kvm_shadow *sh, uint64_t gfn, int level, bool direct,
				 unsigned access, sim_addr parent_pte)
{
	union kvm_mmu_page_role role = { 0 };
	uint32_t spi;

	(void)vm;
	assert(direct);
	role.level = (uint32_t)level;
	role.direct = direct;
	role.access = access;   /* direct pages: ACC_ALL */
	for (uint32_t i = 0; i < MMU_SP_MAX; i++) {
		struct kvm_mmu_page *sp = &sh->pages[i];

		if (!sp->allocated || sp->zapped || sp->gfn != gfn || sp->role.invalid)
			continue;
		if (is_obsolete_sp(sh, sp))
			continue;
		if (sp->role.word != role.word)
			continue;
		mmu_page_add_parent_pte(sh, i, parent_pte);
		sp->write_flooding_count = 0;
		return i;
	}
	spi = kvm_mmu_alloc_page(sh, parent_pte, direct);
	sh->pages[spi].gfn = gfn;
	sh->pages[spi].role = role;
	sh->pages[spi].mmu_valid_gen = sh->mmu_valid_gen;
	/* init_shadow_page_table: nobody can reach the page yet. */
	sim_mem_private_zero(kvm->sim, sp_spt(spi), MMU_SP_WORDS);
	return spi;
}

/* Models: mmu.c: link_shadow_page(): a non-leaf spte, low half only on a 32-bit host. */
static void link_shadow_page(struct kvm *kvm, sim_addr sptep, uint32_t spi)
{
	uint64_t spte = sp_hpa(spi) | PT_PRESENT_MASK | PT_ACCESSED_MASK | PT_WRITABLE_MASK |
			PT_USER_MASK;

	mmu_spte_set(kvm, sptep, spte);
}

/* Models: mmu.c: mmu_page_zap_pte(): returns true if a leaf was dropped. */
static bool mmu_page_zap_pte(struct kvm *kvm, struct kvm_shadow *sh, uint32_t spi, sim_addr spte)
{
	uint64_t pte = mmu_spte_read_locked(kvm, spte);

	if (is_shadow_present_pte(kvm, pte)) {
		if (is_last_spte(pte, sh->pages[spi].role.level)) {
			drop_spte(kvm, sh, spte);
			return true;
		}
		{
			uint32_t child;

			if (!page_header_of_hpa(pte & PT64_BASE_ADDR_MASK, &child))
				assert(0 && "non-leaf spte outside the shadow pages");
			drop_parent_pte(kvm, sh, child, spte);
		}
		return true;
	}
	if (is_mmio_spte(kvm, pte))
		mmu_spte_clear_no_track(kvm, spte);
	return false;
}

/* Models: mmu.c: kvm_mmu_page_unlink_children() */
static void kvm_mmu_page_unlink_children(struct kvm *kvm, struct kvm_shadow *sh, uint32_t spi)
{
	for (unsigned i = 0; i < PT64_ENT_PER_PAGE; ++i) {
		sim_addr spte = sp_spt(spi) + 2 * i;

		/*
		 * The kernel reads all 512; the model skips entries that are
		 * zero in memory without a step (nobody else writes a
		 * page's sptes while we hold mmu_lock but the lockless
		 * cmpxchg64, which needs a present spte).
		 */
		if (!sim_mem_peek64(kvm->sim, spte))
			continue;
		mmu_page_zap_pte(kvm, sh, spi, spte);
	}
}

/* Models: mmu.c: kvm_mmu_unlink_parents() */
static void kvm_mmu_unlink_parents(struct kvm *kvm, struct kvm_shadow *sh, uint32_t spi)
{
	sim_addr sptep;

	while ((sptep = pte_list_first(sh, sh->pages[spi].parent_ptes)))
		drop_parent_pte(kvm, sh, spi, sptep);
}

/*
 * Models: mmu.c: kvm_mmu_prepare_zap_page() (direct pages: no unsync
 * children).  A page still used as a root stays on the active list,
 * invalid; otherwise it waits on the invalid list for the commit.
 */
static int kvm_mmu_prepare_zap_page(struct kvm *kvm, struct kvm_shadow *sh, uint32_t spi)
{
	struct kvm_mmu_page *sp = &sh->pages[spi];

	kvm_mmu_page_unlink_children(kvm, sh, spi);
	kvm_mmu_unlink_parents(kvm, sh, spi);
	if (!sp->root_count) {
		sh->n_used_mmu_pages--;
		sp->zapped = true;
	} else {
		/* kvm_reload_remote_mmus(): the vCPUs drop this root at their next entry. */
		sh->local_flushes++;
	}
	sp->role.invalid = 1;
	return 1;
}

/*
 * Models: mmu.c: kvm_mmu_commit_zap_page(): smp_mb, flush (IPI-and-wait for
 * every vCPU not outside guest mode: issue 5 models the wait), then free.
 */
static void kvm_mmu_commit_zap_page(struct kvm *kvm, struct kvm_shadow *sh)
{
	bool any = false;

	for (uint32_t i = 0; i < MMU_SP_MAX; i++)
		any |= sh->pages[i].zapped;
	if (!any)
		return;
	sim_smp_mb(kvm->sim);
	kvm_flush_remote_tlbs(sh);
	for (uint32_t i = 0; i < MMU_SP_MAX; i++) {
		struct kvm_mmu_page *sp = &sh->pages[i];

		if (!sp->zapped)
			continue;
		assert(!sp->parent_ptes);
		memset(sp, 0, sizeof(*sp));   /* kvm_mmu_free_page */
	}
}

int kvm_mmu_unprotect_page_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
				  uint64_t gfn)
{
	int r = 0;

	(void)g;
	for (uint32_t i = 0; i < MMU_SP_MAX; i++) {
		struct kvm_mmu_page *sp = &sh->pages[i];

		if (sp->allocated && !sp->zapped && !sp->role.invalid && sp->gfn == gfn) {
			r = 1;
			kvm_mmu_prepare_zap_page(kvm, sh, i);
		}
	}
	kvm_mmu_commit_zap_page(kvm, sh);
	return r;
}

/* Models: mmu.c: kvm_unmap_rmapp() for every level of one gfn. */
bool kvm_unmap_gfn_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			  uint64_t gfn)
{
	bool need_flush = false;

	(void)g;
	for (int level = PT_PAGE_TABLE_LEVEL; level < PT_PAGE_TABLE_LEVEL + KVM_NR_PAGE_SIZES; level++) {
		unsigned long *rmapp = gfn_to_rmap(sh, gfn, level, false);
		sim_addr sptep;

		while (rmapp && (sptep = pte_list_first(sh, *rmapp))) {
			drop_spte(kvm, sh, sptep);
			need_flush = true;
		}
	}
	if (need_flush)
		kvm_flush_remote_tlbs(sh);
	return need_flush;
}

/* ---- set_spte / mmu_set_spte ---- */

/*
 * Models: mmu.c: set_spte() for direct maps (no indirect page can shadow a
 * gfn, so mmu_need_write_protect never protects, and there are no large
 * pages with write-protected frames).  Returns 1 if the spte had to be
 * write-protected.
 */
static int set_spte(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g, sim_addr sptep,
		    unsigned pte_access, int level, uint64_t gfn, uint64_t pfn, bool speculative,
		    bool host_writable)
{
	uint64_t spte = PT_PRESENT_MASK;

	(void)sh;
	if (!speculative)
		spte |= PT_ACCESSED_MASK;
	if (!(pte_access & ACC_EXEC_MASK))
		spte |= PT64_NX_MASK;
	if (pte_access & ACC_USER_MASK)
		spte |= PT_USER_MASK;
	if (level > PT_PAGE_TABLE_LEVEL)
		spte |= PT_PAGE_SIZE_MASK;
	if (host_writable)
		spte |= SPTE_HOST_WRITEABLE;
	else
		pte_access &= ~ACC_WRITE_MASK;
	spte |= pfn << PAGE_SHIFT;
	if (pte_access & ACC_WRITE_MASK) {
		spte |= PT_WRITABLE_MASK | SPTE_MMU_WRITEABLE;
		mark_page_dirty(g, gfn);
	}
	if (mmu_spte_update(kvm, sptep, spte))
		kvm_flush_remote_tlbs(sh);
	return 0;
}

/* Models: mmu.c: mmu_set_spte() */
static void mmu_set_spte(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			 sim_addr sptep, unsigned pte_access, int write_fault, int level,
			 uint64_t gfn, uint64_t pfn, bool speculative, bool host_writable)
{
	uint64_t old = mmu_spte_read_locked(kvm, sptep);
	bool was_rmapped = false;

	(void)write_fault;
	if (is_shadow_present_pte(kvm, old)) {
		if (level > PT_PAGE_TABLE_LEVEL && !is_large_pte(old)) {
			/* A 2 MiB mapping replaces a page-table pointer. */
			uint32_t child;

			if (!page_header_of_hpa(old & PT64_BASE_ADDR_MASK, &child))
				assert(0);
			drop_parent_pte(kvm, sh, child, sptep);
			kvm_flush_remote_tlbs(sh);
		} else if (pfn != spte_to_pfn(old)) {
			drop_spte(kvm, sh, sptep);
			kvm_flush_remote_tlbs(sh);
		} else {
			was_rmapped = true;
		}
	}
	if (set_spte(kvm, sh, g, sptep, pte_access, level, gfn, pfn, speculative, host_writable))
		sh->local_flushes++;
	if (!was_rmapped && is_shadow_present_pte(kvm, mmu_spte_read_locked(kvm, sptep)))
		rmap_add(sh, sptep, gfn);
}

/* ---- roots and the shadow walk ---- */

void mmu_alloc_direct_roots_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_vcpu_mmu *vm)
{
	if (vm->shadow_root_level == PT64_ROOT_LEVEL) {
		uint32_t spi = kvm_mmu_get_page(vm, kvm, sh, 0, PT64_ROOT_LEVEL, true, ACC_ALL, 0);

		++sh->pages[spi].root_count;
		vm->root_hpa = sp_hpa(spi);
		return;
	}
	for (int i = 0; i < 4; ++i) {
		uint32_t spi = kvm_mmu_get_page(vm, kvm, sh, (uint64_t)i << (30 - PAGE_SHIFT),
						PT32_ROOT_LEVEL, true, ACC_ALL, 0);

		++sh->pages[spi].root_count;
		vm->pae_root[i] = sp_hpa(spi) | PT_PRESENT_MASK;
	}
	vm->root_hpa = PAE_ROOT_HPA;
}

void mmu_free_roots_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_vcpu_mmu *vm)
{
	uint32_t spi;

	if (vm->root_hpa == INVALID_PAGE)
		return;
	if (vm->shadow_root_level == PT64_ROOT_LEVEL) {
		if (page_header_of_hpa(vm->root_hpa, &spi)) {
			--sh->pages[spi].root_count;
			if (!sh->pages[spi].root_count && sh->pages[spi].role.invalid) {
				/* Prepared earlier while rooted: now it can go. */
				sh->n_used_mmu_pages--;
				sh->pages[spi].zapped = true;
				kvm_mmu_commit_zap_page(kvm, sh);
			}
		}
		vm->root_hpa = INVALID_PAGE;
		return;
	}
	for (int i = 0; i < 4; ++i) {
		if (vm->pae_root[i] && page_header_of_hpa(vm->pae_root[i] & PT64_BASE_ADDR_MASK, &spi)) {
			--sh->pages[spi].root_count;
			if (!sh->pages[spi].root_count && sh->pages[spi].role.invalid) {
				sh->n_used_mmu_pages--;
				sh->pages[spi].zapped = true;
			}
		}
		vm->pae_root[i] = 0;
	}
	kvm_mmu_commit_zap_page(kvm, sh);
	vm->root_hpa = INVALID_PAGE;
}

struct shadow_walk {
	uint64_t addr;
	uint64_t shadow_addr;
	int level;
	sim_addr sptep;
};

/* Models: mmu.c: shadow_walk_init() */
static void shadow_walk_init(struct shadow_walk *it, const struct kvm_vcpu_mmu *vm, uint64_t addr)
{
	it->addr = addr;
	it->shadow_addr = vm->root_hpa;
	it->level = vm->shadow_root_level;
	if (it->level == PT64_ROOT_LEVEL && vm->ctx.root_level < PT64_ROOT_LEVEL && !vm->direct_map)
		--it->level;
	if (it->level == PT32E_ROOT_LEVEL) {
		it->shadow_addr = vm->pae_root[(addr >> 30) & 3] & PT64_BASE_ADDR_MASK;
		--it->level;
		if (!it->shadow_addr)
			it->level = 0;
	}
}

/* Models: mmu.c: shadow_walk_okay() */
static bool shadow_walk_okay(struct shadow_walk *it)
{
	uint32_t spi;

	if (it->level < PT_PAGE_TABLE_LEVEL)
		return false;
	if (!page_header_of_hpa(it->shadow_addr, &spi))
		assert(0 && "shadow walk left the shadow pages");
	it->sptep = sp_spt(spi) + 2 * SHADOW_PT_INDEX(it->addr, it->level);
	return true;
}

/* Models: mmu.c: __shadow_walk_next() */
static void shadow_walk_next(struct shadow_walk *it, uint64_t spte)
{
	if (is_last_spte(spte, it->level)) {
		it->level = 0;
		return;
	}
	it->shadow_addr = spte & PT64_BASE_ADDR_MASK;
	--it->level;
}

/*
 * Models: mmu.c: __direct_map() (3.11: no drop_large_spte on the way down;
 * that came with 404381c5839d in 2014).
 */
int kvm_direct_map_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			  struct kvm_vcpu_mmu *vm, uint64_t gpa, bool write, int level)
{
	struct shadow_walk it;
	uint64_t gfn = gpa >> PAGE_SHIFT, pfn;

	if (!guest_gfn_to_pfn(g, gfn, &pfn))
		return 0;   /* an MMIO hole: handle_abnormal_pfn caches it, no spte here */
	gfn &= ~((1ull << ((level - 1) * 9)) - 1);
	pfn &= ~((1ull << ((level - 1) * 9)) - 1);
	for (shadow_walk_init(&it, vm, gfn << PAGE_SHIFT); shadow_walk_okay(&it);) {
		uint64_t spte;

		if (it.level == level) {
			mmu_set_spte(kvm, sh, g, it.sptep, ACC_ALL, write, level, gfn, pfn, false, true);
			break;
		}
		spte = mmu_spte_read_locked(kvm, it.sptep);
		if (!is_shadow_present_pte(kvm, spte)) {
			uint64_t base_addr = it.addr & ~((1ull << (PAGE_SHIFT + (it.level - 1) * 9)) - 1);
			uint32_t spi = kvm_mmu_get_page(vm, kvm, sh, base_addr >> PAGE_SHIFT,
							it.level - 1, true, ACC_ALL, it.sptep);

			link_shadow_page(kvm, it.sptep, spi);
			spte = sp_hpa(spi) | PT_PRESENT_MASK;
		}
		shadow_walk_next(&it, spte);
	}
	return 0;
}

/* ---- checks between operations (no steps) ---- */

uint64_t shadow_translate_peek(const struct sim *s, const struct kvm *kvm,
			       const struct kvm_vcpu_mmu *vm, uint64_t gpa, int *out_level)
{
	struct shadow_walk it;
	uint64_t spte = 0;

	if (vm->root_hpa == INVALID_PAGE)
		return 0;
	shadow_walk_init(&it, vm, gpa);
	while (shadow_walk_okay(&it)) {
		spte = sim_mem_peek64(s, it.sptep);
		if (!is_shadow_present_pte(kvm, spte))
			return 0;
		*out_level = it.level;
		if (is_last_spte(spte, it.level))
			return spte;
		shadow_walk_next(&it, spte);
	}
	return 0;
}

#define FAIL(n, ...)                                        \
	do {                                                \
		snprintf(why, why_cap, __VA_ARGS__);        \
		return n;                                   \
	} while (0)

int kvm_shadow_check(const struct sim *s, const struct kvm *kvm, const struct kvm_shadow *sh,
		     const struct kvm_guest *g, const struct kvm_vcpu_mmu *const *vcpus,
		     uint32_t nvcpus, char *why, size_t why_cap)
{
	uint32_t used = 0, rmap_entries = 0, leaves = 0;

	(void)g;
	for (uint32_t i = 0; i < MMU_SP_MAX; i++) {
		const struct kvm_mmu_page *sp = &sh->pages[i];

		if (sp->allocated && !sp->zapped)
			used++;
		for (unsigned e = 0; e < PT64_ENT_PER_PAGE; e++) {
			sim_addr sptep = sp_spt(i) + 2 * e;
			uint64_t spte = sim_mem_peek64(s, sptep);
			uint32_t child;

			if (!is_shadow_present_pte(kvm, spte))
				continue;
			if (!sp->allocated)
				FAIL(4, "present spte %llx in free shadow page %u", (unsigned long long)spte, i);
			if (is_last_spte(spte, sp->role.level)) {
				uint64_t gfn = sp->gfn + ((uint64_t)e << ((sp->role.level - 1) * 9));
				unsigned long *head = gfn_to_rmap((struct kvm_shadow *)sh, gfn,
								 sp->role.level, false);

				leaves++;
				if (!head || !pte_list_contains(sh, *head, sptep))
					FAIL(1, "leaf spte sp%u[%u] (gfn %llx) missing from its rmap", i, e,
					     (unsigned long long)gfn);
				continue;
			}
			if (!page_header_of_hpa(spte & PT64_BASE_ADDR_MASK, &child))
				FAIL(2, "non-leaf spte sp%u[%u] points outside the shadow pages", i, e);
			if (!sh->pages[child].allocated || sh->pages[child].zapped)
				FAIL(4, "non-leaf spte sp%u[%u] points at freed page %u", i, e, child);
			if (!pte_list_contains(sh, sh->pages[child].parent_ptes, sptep))
				FAIL(2, "sp%u[%u] is not in page %u's parent_ptes", i, e, child);
		}
		if (sp->allocated && !sp->zapped && sp->parent_ptes) {
			/* Every parent entry points back here. */
			unsigned long head = sp->parent_ptes;
			uint32_t n = pte_list_count(sh, head);

			for (uint32_t k = 0; k < MMU_SP_MAX; k++) {
				for (unsigned e = 0; e < PT64_ENT_PER_PAGE && n; e++) {
					sim_addr sptep = sp_spt(k) + 2 * e;

					if (pte_list_contains(sh, head, sptep)) {
						uint64_t spte = sim_mem_peek64(s, sptep);
						uint32_t child;

						if (!page_header_of_hpa(spte & PT64_BASE_ADDR_MASK, &child) ||
						    child != i || !is_shadow_present_pte(kvm, spte))
							FAIL(2, "parent_ptes of page %u lists sp%u[%u], which does "
								"not point at it", i, k, e);
						n--;
					}
				}
			}
		}
	}
	for (uint32_t r = 0; r < RMAP_SLOTS; r++)
		rmap_entries += pte_list_count(sh, sh->rmap[r].head);
	if (rmap_entries != leaves)
		FAIL(1, "%u rmap entries for %u present leaf sptes", rmap_entries, leaves);
	if (used != sh->n_used_mmu_pages)
		FAIL(5, "n_used_mmu_pages %u, but %u pages are in use", sh->n_used_mmu_pages, used);
	for (uint32_t v = 0; v < nvcpus; v++) {
		const struct kvm_vcpu_mmu *vm = vcpus[v];
		uint32_t spi;

		if (vm->root_hpa == INVALID_PAGE)
			continue;
		if (vm->root_hpa != PAE_ROOT_HPA) {
			if (!page_header_of_hpa(vm->root_hpa, &spi) || !sh->pages[spi].allocated)
				FAIL(3, "vCPU %u's root is not an allocated shadow page", v);
			continue;
		}
		for (int i = 0; i < 4; i++)
			if (vm->pae_root[i] &&
			    (!page_header_of_hpa(vm->pae_root[i] & PT64_BASE_ADDR_MASK, &spi) ||
			     !sh->pages[spi].allocated || sh->pages[spi].root_count <= 0))
				FAIL(3, "vCPU %u's pae_root[%d] is not a rooted shadow page", v, i);
	}
	return 0;
}
