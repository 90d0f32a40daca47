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
	/*
	 * Everything but the pages' gfns arrays (nine tenths of the size, and
	 * cleared when a page is allocated: nothing reads them before).
	 */
	memset(sh, 0, offsetof(struct kvm_shadow, pages));
	for (uint32_t i = 0; i < MMU_SP_MAX; i++) {
		struct kvm_mmu_page *sp = &sh->pages[i];

		memset(sp, 0, offsetof(struct kvm_mmu_page, gfns));
		memset(&sp->mmu_valid_gen, 0,
		       sizeof(*sp) - offsetof(struct kvm_mmu_page, mmu_valid_gen));
	}
	memset(&sh->n_used_mmu_pages, 0,
	       sizeof(*sh) - offsetof(struct kvm_shadow, n_used_mmu_pages));
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

/* Models: mmu.c: kvm_mmu_page_get_gfn(): the gfn an spte of the page maps. */
static uint64_t kvm_mmu_page_get_gfn(const struct kvm_shadow *sh, uint32_t spi, unsigned index)
{
	const struct kvm_mmu_page *sp = &sh->pages[spi];

	if (!sp->role.direct)
		return sp->gfns[index];
	return sp->gfn + ((uint64_t)index << ((sp->role.level - 1) * 9));
}

uint64_t kvm_mmu_page_gfn(const struct kvm_shadow *sh, uint32_t spi, unsigned index)
{
	return kvm_mmu_page_get_gfn(sh, spi, index);
}

/* Models: mmu.c: kvm_mmu_page_set_gfn() */
static void kvm_mmu_page_set_gfn(struct kvm_shadow *sh, uint32_t spi, unsigned index, uint64_t gfn)
{
	struct kvm_mmu_page *sp = &sh->pages[spi];

	if (sp->role.direct)
		assert(gfn == kvm_mmu_page_get_gfn(sh, spi, index));
	else
		sp->gfns[index] = gfn;
}

/* Models: mmu.c: rmap_add() */
static int rmap_add(struct kvm_shadow *sh, sim_addr spte, uint64_t gfn)
{
	uint32_t spi = page_header_of_sptep(spte);

	kvm_mmu_page_set_gfn(sh, spi, sptep_index(spte), gfn);
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

/* ---- requests and remote flushes (kvm_main.c, x86.c) ---- */

/* Models: kvm_host.h: kvm_make_request(): set_bit on vcpu->requests. */
void kvm_make_request(struct kvm *kvm, unsigned req, uint32_t vcpu)
{
	sim_or32(kvm->sim, MMU_ADDR_REQ + vcpu, 1u << req);
}

/* Models: kvm_host.h: kvm_check_request(): test_bit, then clear_bit if set. */
bool kvm_check_request(struct kvm *kvm, unsigned req, uint32_t vcpu)
{
	if (!(sim_load32(kvm->sim, MMU_ADDR_REQ + vcpu) & (1u << req)))
		return false;
	sim_and32(kvm->sim, MMU_ADDR_REQ + vcpu, ~(1u << req));
	return true;
}

/* Models: mmu.c: kvm_mmu_flush_tlb(): a local flush at the next guest entry. */
static void kvm_mmu_flush_tlb(struct kvm *kvm, const struct kvm_vcpu_mmu *vm)
{
	if (vm)
		kvm_make_request(kvm, KVM_REQ_TLB_FLUSH, vm->vcpu_id);
}

/*
 * Models: kvm_main.c: make_all_cpus_request().  For each vCPU: set the
 * request bit, smp_mb, and (not for the caller's own vCPU) move it from
 * IN_GUEST_MODE to EXITING_GUEST_MODE with a cmpxchg; every vCPU whose mode
 * was not OUTSIDE_GUEST_MODE (in the guest, or a lockless walker) gets an
 * IPI, and smp_call_function_many waits until each has taken it.  A
 * lockless walker runs with interrupts off, so the wait lasts until its
 * walk is over.  Returns whether any IPI was sent.
 */
static bool make_all_cpus_request(struct kvm *kvm, unsigned req)
{
	struct sim *s = kvm->sim;
	uint32_t me = sim_current_cpu(s), mask = 0;

	sim_site(s, MMU_SITE_MAKE_ALL_CPUS_REQUEST);
	for (uint32_t v = 0; v < kvm->nr_vcpus; v++) {
		uint32_t mode;

		kvm_make_request(kvm, req, v);
		/* Set ->requests bit before we read ->mode. */
		sim_smp_mb(s);
		if (v == me)
			continue;
		mode = sim_cmpxchg32(s, MMU_ADDR_MODE + v, IN_GUEST_MODE, EXITING_GUEST_MODE);
		if (mode == READING_SHADOW_PAGE_TABLES) {
			kvm->guards[MMU_GUARD_WALKER_FOUND]++;
			if (sim_last_step(s) <= kvm->lockless_begin_step[v] + MMU_GUARD_CLOSE_STEPS)
				kvm->guards[MMU_GUARD_WALKER_CLOSE]++;
		}
		if (mode != OUTSIDE_GUEST_MODE &&
		    (mode == IN_GUEST_MODE || kvm->mutant != MMU_MUTANT_REQUEST_SKIPS_WALKERS))
			mask |= 1u << v;
	}
	if (!mask)
		return false;
	sim_ipi(s, mask);
	return true;
}

/* Models: kvm_main.c: kvm_flush_remote_tlbs() */
static void kvm_flush_remote_tlbs(struct kvm *kvm, struct kvm_shadow *sh)
{
	struct sim *s = kvm->sim;
	uint32_t dirty_count = sim_load32(s, MMU_ADDR_TLBS_DIRTY);

	sim_smp_mb(s);
	sh->remote_flushes++;
	make_all_cpus_request(kvm, KVM_REQ_TLB_FLUSH);
	sim_cmpxchg32(s, MMU_ADDR_TLBS_DIRTY, dirty_count, 0);
}

/* Models: kvm_main.c: kvm_reload_remote_mmus() */
static void kvm_reload_remote_mmus(struct kvm *kvm)
{
	make_all_cpus_request(kvm, KVM_REQ_MMU_RELOAD);
}

/* kvm->tlbs_dirty++ (under mmu_lock: a plain increment). */
static void tlbs_dirty_inc(struct kvm *kvm)
{
	sim_store32(kvm->sim, MMU_ADDR_TLBS_DIRTY, sim_load32(kvm->sim, MMU_ADDR_TLBS_DIRTY) + 1);
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
		sh->alloc_gen[i]++;
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

/* for_each_gfn_indirect_valid_sp */
static bool indirect_valid_sp(const struct kvm_mmu_page *sp, uint64_t gfn)
{
	return sp->allocated && !sp->zapped && sp->gfn == gfn && !sp->role.direct &&
	       !sp->role.invalid;
}

/* lpage_info[level][gfn].write_count (account_shadowed), open addressing by large frame. */
static uint32_t *lpage_write_count(struct kvm_shadow *sh, uint64_t gfn, int level)
{
	uint64_t key = (uint64_t)level << 56 | (gfn >> ((level - 1) * 9)) | 1ull << 60;
	uint32_t n = sizeof(sh->lpage) / sizeof(sh->lpage[0]);
	uint32_t h = (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 56) % n;

	for (uint32_t k = 0; k < n; k++, h = (h + 1) % n) {
		if (sh->lpage[h].key == key)
			return &sh->lpage[h].write_count;
		if (!sh->lpage[h].key) {
			sh->lpage[h].key = key;
			sh->lpage[h].write_count = 0;
			return &sh->lpage[h].write_count;
		}
	}
	assert(0 && "lpage_info table full");
	return NULL;
}

/* Models: mmu.c: account_shadowed() / unaccount_shadowed() */
static void account_shadowed(struct kvm_shadow *sh, uint64_t gfn, int delta)
{
	for (int level = PT_DIRECTORY_LEVEL; level < PT_PAGE_TABLE_LEVEL + KVM_NR_PAGE_SIZES; level++)
		*lpage_write_count(sh, gfn, level) += (uint32_t)delta;
	sh->indirect_shadow_pages += (uint32_t)delta;
}

/* Models: mmu.c: has_wrprotected_page() */
static bool has_wrprotected_page(struct kvm_shadow *sh, uint64_t gfn, int level)
{
	return *lpage_write_count(sh, gfn, level) != 0;
}

static bool __drop_large_spte(struct kvm *kvm, struct kvm_shadow *sh, sim_addr sptep);

#define KVM_PFN_NOSLOT (~0ull)   /* gfn_to_pfn of a gfn outside every memslot */

/* Memslot 0's frames have host ptes in sim memory (0: the slot's linear frame). */
static bool has_host_pte(const struct kvm_guest *g, const struct kvm_memory_slot *slot,
			 uint64_t gfn)
{
	return slot == &g->slots[0] && gfn < MMU_HOST_PTES;
}

static uint64_t host_pte_pfn(const struct kvm_memory_slot *slot, uint64_t gfn, uint32_t pte)
{
	return pte ? pte : slot->pfn_base + (gfn - slot->base_gfn);
}

/* Models: mmu.c: host_mapping_level(): the size of the host page backing gfn. */
static int host_mapping_level(const struct kvm_guest *g, uint64_t gfn)
{
	const struct kvm_memory_slot *slot = gfn_to_memslot(g, gfn);

	/* kvm_host_page_size: the vma's page size; THP memory is a 4K vma. */
	if (!slot || slot->thp)
		return PT_PAGE_TABLE_LEVEL;
	return slot->host_level;
}

/*
 * PageTransCompound(pfn_to_page(pfn)) for THP memory: pfn is one of the
 * slot's own frames (not a page the host moved a gfn to) and its 2M frame
 * is still one huge page (no page of it was remapped, which splits it).
 * A look at the host page tables, made under mmu_lock after
 * mmu_notifier_retry, so no split can be in progress.
 */
static bool host_page_trans_compound(const struct kvm_shadow *sh, const struct kvm_guest *g,
				     uint64_t gfn, uint64_t pfn)
{
	const struct kvm_memory_slot *slot = gfn_to_memslot(g, gfn);
	uint64_t first;

	if (!slot || !slot->thp || !sh->sim || pfn < slot->pfn_base ||
	    pfn >= slot->pfn_base + slot->npages)
		return false;
	first = (slot->base_gfn + (pfn - slot->pfn_base)) & ~511ull;
	if (first < slot->base_gfn || first + 512 > slot->base_gfn + slot->npages)
		return false;
	for (uint64_t f = first; f < first + 512; f++)
		if (has_host_pte(g, slot, f) && sim_mem_peek32(sh->sim, MMU_ADDR_HOST_PTE + (sim_addr)f))
			return false;
	return true;
}

/*
 * Models: mmu.c: transparent_hugepage_adjust(): under mmu_lock, after the
 * notifier re-check, a 4K mapping of a page inside a transparent huge
 * page becomes a 2M mapping of the whole frame.
 */
static void transparent_hugepage_adjust(struct kvm_shadow *sh, const struct kvm_guest *g,
					uint64_t *gfnp, uint64_t *pfnp, int *levelp)
{
	uint64_t mask = (1ull << 9) - 1;

	if (*pfnp == KVM_PFN_NOSLOT || *levelp != PT_PAGE_TABLE_LEVEL ||
	    !host_page_trans_compound(sh, g, *gfnp, *pfnp) ||
	    has_wrprotected_page(sh, *gfnp, PT_DIRECTORY_LEVEL))
		return;
	*levelp = PT_DIRECTORY_LEVEL;
	assert((*gfnp & mask) == (*pfnp & mask));
	*gfnp &= ~mask;
	*pfnp &= ~mask;
}

bool host_gfn_to_pfn_peek(const struct sim *s, const struct kvm_guest *g, uint64_t gfn,
			  uint64_t *pfn)
{
	const struct kvm_memory_slot *slot = gfn_to_memslot(g, gfn);

	if (!slot)
		return false;
	*pfn = host_pte_pfn(slot, gfn, has_host_pte(g, slot, gfn) ?
			    sim_mem_peek32(s, MMU_ADDR_HOST_PTE + (sim_addr)gfn) : 0);
	return true;
}

bool host_gfn_to_pfn(struct kvm *kvm, const struct kvm_guest *g, uint64_t gfn, uint64_t *pfn)
{
	const struct kvm_memory_slot *slot = gfn_to_memslot(g, gfn);

	/* __gfn_to_hva_many: an invalid (deleted) slot has no hva: KVM_PFN_NOSLOT. */
	if (!slot || slot->invalid)
		return false;
	*pfn = host_pte_pfn(slot, gfn, has_host_pte(g, slot, gfn) ?
			    sim_load32(kvm->sim, MMU_ADDR_HOST_PTE + (sim_addr)gfn) : 0);
	return true;
}

/*
 * Models: mmu.c: mapping_level(): the largest level the host page allows
 * whose frame holds no write-protected (shadowed) gfn.  get_lpage_level is
 * PT_PDPE_LEVEL for shadow paging; the host's pages cap it lower.
 */
int mapping_level(struct kvm_shadow *sh, const struct kvm_guest *g, uint64_t large_gfn)
{
	int host_level = host_mapping_level(g, large_gfn), level, max_level;

	if (host_level == PT_PAGE_TABLE_LEVEL)
		return host_level;
	max_level = host_level < PT_PDPE_LEVEL ? host_level : PT_PDPE_LEVEL;
	for (level = PT_DIRECTORY_LEVEL; level <= max_level; ++level)
		if (!gfn_to_memslot(g, large_gfn) || has_wrprotected_page(sh, large_gfn, level))
			break;
	return level - 1;
}

/*
 * Models: mmu.c: spte_write_protect().  Returns true when the spte was
 * dropped (a large spte), so the caller restarts its rmap walk.
 */
static bool spte_write_protect(struct kvm *kvm, struct kvm_shadow *sh, sim_addr sptep,
			       bool *flush, bool pt_protect)
{
	uint64_t spte = mmu_spte_read_locked(kvm, sptep);

	if (!is_writable_pte(spte) && !(pt_protect && spte_is_locklessly_modifiable(spte)))
		return false;
	if (__drop_large_spte(kvm, sh, sptep)) {
		*flush |= true;
		return true;
	}
	if (pt_protect)
		spte &= ~SPTE_MMU_WRITEABLE;
	spte &= ~PT_WRITABLE_MASK;
	*flush |= mmu_spte_update(kvm, sptep, spte);
	return false;
}

/* The n-th entry of a pte_list (rmap_get_first / rmap_get_next), or 0. */
static sim_addr pte_list_nth(const struct kvm_shadow *sh, unsigned long head, uint32_t n)
{
	if (!head)
		return 0;
	if (!(head & 1))
		return n == 0 ? (sim_addr)head : 0;
	while (head) {
		const struct pte_list_desc *desc = &sh->descs[head >> 1];

		for (int i = 0; i < PTE_LIST_EXT && desc->sptes[i]; ++i)
			if (n-- == 0)
				return desc->sptes[i];
		head = desc->more ? ((unsigned long)(desc->more - 1) << 1) | 1 : 0;
	}
	return 0;
}

/* Models: mmu.c: __rmap_write_protect() */
static bool __rmap_write_protect(struct kvm *kvm, struct kvm_shadow *sh, unsigned long *rmapp,
				 bool pt_protect)
{
	bool flush = false;
	uint32_t n = 0;
	sim_addr sptep;

	while ((sptep = pte_list_nth(sh, *rmapp, n))) {
		if (spte_write_protect(kvm, sh, sptep, &flush, pt_protect)) {
			n = 0;   /* the chain changed: restart from rmap_get_first */
			continue;
		}
		n++;
	}
	return flush;
}

/* Models: mmu.c: rmap_write_protect(): all three levels, pt_protect. */
static bool rmap_write_protect(struct kvm *kvm, struct kvm_shadow *sh, uint64_t gfn)
{
	bool write_protected = false;

	for (int level = PT_PAGE_TABLE_LEVEL; level < PT_PAGE_TABLE_LEVEL + KVM_NR_PAGE_SIZES; level++) {
		unsigned long *rmapp = gfn_to_rmap(sh, gfn, level, false);

		if (rmapp)
			write_protected |= __rmap_write_protect(kvm, sh, rmapp, true);
	}
	return write_protected;
}

static void kvm_mmu_mark_parents_unsync(struct kvm_shadow *sh, uint32_t spi);

/* Models: mmu.c: mark_unsync() */
static void mark_unsync(struct kvm_shadow *sh, sim_addr spte)
{
	uint32_t spi = page_header_of_sptep(spte);
	struct kvm_mmu_page *sp = &sh->pages[spi];
	unsigned index = sptep_index(spte);

	if (sp->unsync_child_bitmap[index / 64] & (1ull << (index % 64)))
		return;
	sp->unsync_child_bitmap[index / 64] |= 1ull << (index % 64);
	if (sp->unsync_children++)
		return;
	kvm_mmu_mark_parents_unsync(sh, spi);
}

/* Models: mmu.c: kvm_mmu_mark_parents_unsync() (pte_list_walk of parent_ptes) */
static void kvm_mmu_mark_parents_unsync(struct kvm_shadow *sh, uint32_t spi)
{
	sim_addr parents[64];
	uint32_t n = 0;
	sim_addr p;

	while (n < 64 && (p = pte_list_nth(sh, sh->pages[spi].parent_ptes, n)))
		parents[n++] = p;
	for (uint32_t i = 0; i < n; i++)
		mark_unsync(sh, parents[i]);
}

/* Models: mmu.c: kvm_unsync_pages() / __kvm_unsync_page() */
static void kvm_unsync_pages(struct kvm_shadow *sh, uint64_t gfn)
{
	for (uint32_t i = 0; i < MMU_SP_MAX; i++) {
		struct kvm_mmu_page *s = &sh->pages[i];

		if (!indirect_valid_sp(s, gfn) || s->unsync)
			continue;
		assert(s->role.level == PT_PAGE_TABLE_LEVEL);
		s->unsync = true;
		kvm_mmu_mark_parents_unsync(sh, i);
	}
}

/* Models: mmu.c: mmu_need_write_protect() */
static bool mmu_need_write_protect(struct kvm_shadow *sh, uint64_t gfn, bool can_unsync)
{
	bool need_unsync = false;

	for (uint32_t i = 0; i < MMU_SP_MAX; i++) {
		const struct kvm_mmu_page *s = &sh->pages[i];

		if (!indirect_valid_sp(s, gfn))
			continue;
		if (!can_unsync)
			return true;
		if (s->role.level != PT_PAGE_TABLE_LEVEL)
			return true;
		if (!s->unsync)
			need_unsync = true;
	}
	if (need_unsync)
		kvm_unsync_pages(sh, gfn);
	return false;
}

static int kvm_mmu_prepare_zap_page(struct kvm *kvm, struct kvm_shadow *sh, uint32_t spi);
static void kvm_mmu_commit_zap_page(struct kvm *kvm, struct kvm_shadow *sh);
static int sync_page(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
		     struct kvm_vcpu_mmu *vm, uint32_t spi);

/*
 * Models: mmu.c: __kvm_sync_page(): zap on a CR4.PAE mismatch or when
 * FNAME(sync_page) finds nothing present; else a local TLB flush.
 * Returns 1 if the page was zapped (prepared).
 */
static int __kvm_sync_page(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			   struct kvm_vcpu_mmu *vm, uint32_t spi, bool clear_unsync)
{
	struct kvm_mmu_page *sp = &sh->pages[spi];

	if (sp->role.cr4_pae != vm->base_role.cr4_pae) {
		kvm_mmu_prepare_zap_page(kvm, sh, spi);
		return 1;
	}
	if (clear_unsync)
		sp->unsync = false;   /* kvm_unlink_unsync_page */
	if (sync_page(kvm, sh, g, vm, spi)) {
		kvm_mmu_prepare_zap_page(kvm, sh, spi);
		return 1;
	}
	kvm_mmu_flush_tlb(kvm, vm);
	return 0;
}

/* Models: mmu.c: kvm_sync_pages(): an upper-level table replaces unsync leaves of its gfn. */
static void kvm_sync_pages(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			   struct kvm_vcpu_mmu *vm, uint64_t gfn)
{
	bool flush = false;

	for (uint32_t i = 0; i < MMU_SP_MAX; i++) {
		struct kvm_mmu_page *s = &sh->pages[i];

		if (!indirect_valid_sp(s, gfn) || !s->unsync)
			continue;
		assert(s->role.level == PT_PAGE_TABLE_LEVEL);
		s->unsync = false;
		if (s->role.cr4_pae != vm->base_role.cr4_pae || sync_page(kvm, sh, g, vm, i)) {
			kvm_mmu_prepare_zap_page(kvm, sh, i);
			continue;
		}
		flush = true;
	}
	kvm_mmu_commit_zap_page(kvm, sh);
	if (flush)
		kvm_mmu_flush_tlb(kvm, vm);
}

/*
 * Models: mmu.c: kvm_mmu_get_page(): find a page of the same gfn and role
 * in the hash, or allocate one; an indirect page write-protects its gfn
 * (and resyncs unsync leaves of it when it is a higher-level table).
 */
static uint32_t kvm_mmu_get_page(struct kvm_vcpu_mmu *vm, struct kvm *kvm,
				 struct kvm_shadow *sh, struct kvm_guest *g, uint64_t gfn,
				 uint64_t gaddr, int level, bool direct, unsigned access,
				 sim_addr parent_pte)
{
	union kvm_mmu_page_role role = vm->base_role;
	bool need_sync = false;
	uint32_t spi;

	role.level = (uint32_t)level;
	role.direct = direct;
	if (direct)
		role.cr4_pae = 0;
	role.access = access;
	if (!vm->direct_map && vm->ctx.root_level <= PT32_ROOT_LEVEL) {
		/* A 32-bit guest table is shadowed by 2 (PT) or 4 (PD) PAE pages. */
		unsigned quadrant = (unsigned)(gaddr >> (PAGE_SHIFT + 9 * level));

		quadrant &= (1u << ((10 - 9) * level)) - 1;
		role.quadrant = quadrant;
	}
	for (uint32_t i = 0; i < MMU_SP_MAX; i++) {
		struct kvm_mmu_page *sp = &sh->pages[i];

		if (!sp->allocated || sp->zapped || sp->gfn != gfn)
			continue;
		if (is_obsolete_sp(sh, sp))
			continue;
		if (!need_sync && sp->unsync)
			need_sync = true;
		if (sp->role.word != role.word)
			continue;
		if (sp->unsync) {
			/* kvm_sync_page_transient: sync but leave it unsync. */
			if (__kvm_sync_page(kvm, sh, g, vm, i, false)) {
				kvm_mmu_commit_zap_page(kvm, sh);
				break;
			}
		}
		mmu_page_add_parent_pte(sh, i, parent_pte);
		if (sp->unsync_children) {
			kvm_make_request(kvm, KVM_REQ_MMU_SYNC, vm->vcpu_id);
			kvm_mmu_mark_parents_unsync(sh, i);
		} else if (sp->unsync) {
			kvm_mmu_mark_parents_unsync(sh, i);
		}
		sp->write_flooding_count = 0;
		return i;
	}
	spi = kvm_mmu_alloc_page(sh, parent_pte, direct);
	sh->pages[spi].gfn = gfn;
	sh->pages[spi].role = role;
	if (!direct) {
		if (rmap_write_protect(kvm, sh, gfn))
			kvm_flush_remote_tlbs(kvm, sh);
		if (level > PT_PAGE_TABLE_LEVEL && need_sync)
			kvm_sync_pages(kvm, sh, g, vm, gfn);
		account_shadowed(sh, gfn, +1);
	}
	sh->pages[spi].mmu_valid_gen = sh->mmu_valid_gen;
	/* init_shadow_page_table: nobody can reach the page yet. */
	sim_mem_private_zero(kvm->sim, sp_spt(spi), MMU_SP_WORDS);
	if (kvm->obs && kvm->obs->page_alloc)
		kvm->obs->page_alloc(kvm->obs_ctx, spi);
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
	if (!sp->role.invalid && !sp->role.direct)
		account_shadowed(sh, sp->gfn, -1);
	sp->unsync = false;   /* kvm_unlink_unsync_page */
	if (!sp->root_count) {
		sh->n_used_mmu_pages--;
		sp->zapped = true;
	} else {
		/* Still a root: back to the head of active_mmu_pages; vCPUs reload. */
		sp->link_seq = ++sh->link_seq;
		if (!sp->role.invalid && !is_obsolete_sp(sh, sp))
			kvm_reload_remote_mmus(kvm);
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
	/*
	 * Wait for all vcpus to exit guest mode and/or lockless shadow page
	 * table walks.
	 */
	sim_smp_mb(kvm->sim);
	if (kvm->mutant != MMU_MUTANT_ZAP_NO_WAIT_WALKERS)
		kvm_flush_remote_tlbs(kvm, sh);
	for (uint32_t i = 0; i < MMU_SP_MAX; i++) {
		struct kvm_mmu_page *sp = &sh->pages[i];

		if (!sp->zapped)
			continue;
		assert(!sp->parent_ptes);
		memset(sp, 0, sizeof(*sp));   /* kvm_mmu_free_page */
		sh->freed_step[i] = sim_steps(kvm->sim);
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

static bool kvm_unmap_gfn_locked_noflush(struct kvm *kvm, struct kvm_shadow *sh,
					 struct kvm_guest *g, uint64_t gfn);

/* Models: mmu.c: kvm_unmap_rmapp() for every level of one gfn, and a flush. */
bool kvm_unmap_gfn_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			  uint64_t gfn)
{
	bool need_flush = kvm_unmap_gfn_locked_noflush(kvm, sh, g, gfn);

	if (need_flush)
		kvm_flush_remote_tlbs(kvm, sh);
	return need_flush;
}

/* kvm_unmap_hva(): kvm_unmap_rmapp on every level; the caller flushes. */
static bool kvm_unmap_gfn_locked_noflush(struct kvm *kvm, struct kvm_shadow *sh,
					 struct kvm_guest *g, uint64_t gfn)
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
	return need_flush;
}

/* ---- set_spte / mmu_set_spte ---- */


/* Models: mmu.c: __drop_large_spte() */
static bool __drop_large_spte(struct kvm *kvm, struct kvm_shadow *sh, sim_addr sptep)
{
	if (is_large_pte(mmu_spte_read_locked(kvm, sptep))) {
		assert(sh->pages[page_header_of_sptep(sptep)].role.level != PT_PAGE_TABLE_LEVEL);
		drop_spte(kvm, sh, sptep);
		return true;
	}
	return false;
}

/* Models: mmu.c: drop_large_spte() */
static void drop_large_spte(struct kvm *kvm, struct kvm_shadow *sh, sim_addr sptep)
{
	if (__drop_large_spte(kvm, sh, sptep))
		kvm_flush_remote_tlbs(kvm, sh);
}

/*
 * Models: mmu.c: set_spte().  Returns 1 when a writable mapping had to be
 * write-protected because the gfn is a shadowed guest page table (the
 * write is then emulated).
 */
static int set_spte(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g, sim_addr sptep,
		    unsigned pte_access, int level, uint64_t gfn, uint64_t pfn, bool speculative,
		    bool can_unsync, bool host_writable)
{
	uint64_t spte = PT_PRESENT_MASK;
	int ret = 0;

	if (pfn == KVM_PFN_NOSLOT) {
		/* set_mmio_spte */
		mark_mmio_spte(kvm, sptep, gfn, pte_access);
		return 0;
	}
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
		/*
		 * Another vCPU may have shadowed a page of this large frame
		 * since the level was chosen: leave it not present and let
		 * the guest refault.
		 */
		if (level > PT_PAGE_TABLE_LEVEL && has_wrprotected_page(sh, gfn, level))
			return ret;
		spte |= PT_WRITABLE_MASK | SPTE_MMU_WRITEABLE;
		/* A sync of a writable spte needs no hash lookup. */
		if (!can_unsync && is_writable_pte(mmu_spte_read_locked(kvm, sptep)))
			goto set_pte;
		if (mmu_need_write_protect(sh, gfn, can_unsync)) {
			ret = 1;
			pte_access &= ~ACC_WRITE_MASK;
			spte &= ~(PT_WRITABLE_MASK | SPTE_MMU_WRITEABLE);
		}
	}
	if (pte_access & ACC_WRITE_MASK)
		mark_page_dirty(kvm, g, gfn);
set_pte:
	if (mmu_spte_update(kvm, sptep, spte))
		kvm_flush_remote_tlbs(kvm, sh);
	return ret;
}

/* Models: mmu.c: mmu_set_spte(); sets *emulate for a write to a shadowed gfn. */
static void mmu_set_spte(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			 struct kvm_vcpu_mmu *vm, sim_addr sptep, unsigned pte_access,
			 int write_fault, int *emulate, int level, uint64_t gfn, uint64_t pfn,
			 bool speculative, bool host_writable)
{
	uint64_t old = mmu_spte_read_locked(kvm, sptep);
	bool was_rmapped = false;

	if (is_shadow_present_pte(kvm, old)) {
		if (level > PT_PAGE_TABLE_LEVEL && !is_large_pte(old)) {
			/* A large mapping replaces a page-table pointer. */
			uint32_t child;

			if (!page_header_of_hpa(old & PT64_BASE_ADDR_MASK, &child))
				assert(0);
			drop_parent_pte(kvm, sh, child, sptep);
			kvm_flush_remote_tlbs(kvm, sh);
		} else if (pfn != spte_to_pfn(old)) {
			drop_spte(kvm, sh, sptep);
			kvm_flush_remote_tlbs(kvm, sh);
		} else {
			was_rmapped = true;
		}
	}
	if (set_spte(kvm, sh, g, sptep, pte_access, level, gfn, pfn, speculative, true,
		     host_writable)) {
		if (write_fault && emulate)
			*emulate = 1;
		kvm_mmu_flush_tlb(kvm, vm);
	}
	old = mmu_spte_read_locked(kvm, sptep);
	if (is_mmio_spte(kvm, old) && emulate)
		*emulate = 1;
	if (!was_rmapped && is_shadow_present_pte(kvm, old))
		rmap_add(sh, sptep, gfn);
}

/* ---- roots and the shadow walk ---- */

void mmu_alloc_direct_roots_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_vcpu_mmu *vm)
{
	if (vm->shadow_root_level == PT64_ROOT_LEVEL) {
		uint32_t spi = kvm_mmu_get_page(vm, kvm, sh, NULL, 0, 0, PT64_ROOT_LEVEL, true,
						ACC_ALL, 0);

		++sh->pages[spi].root_count;
		vm->root_hpa = sp_hpa(spi);
		return;
	}
	for (int i = 0; i < 4; ++i) {
		uint32_t spi = kvm_mmu_get_page(vm, kvm, sh, NULL, (uint64_t)i << (30 - PAGE_SHIFT),
						(uint64_t)i << 30, PT32_ROOT_LEVEL, true, ACC_ALL, 0);

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
			/*
			 * Prepared earlier while rooted; prepared again now, for
			 * the children its vCPU linked since (a vCPU keeps using
			 * an invalid root until it reloads).
			 */
			if (!sh->pages[spi].root_count && sh->pages[spi].role.invalid) {
				kvm_mmu_prepare_zap_page(kvm, sh, spi);
				kvm_mmu_commit_zap_page(kvm, sh);
			}
		}
		vm->root_hpa = INVALID_PAGE;
		return;
	}
	for (int i = 0; i < 4; ++i) {
		if (vm->pae_root[i] && page_header_of_hpa(vm->pae_root[i] & PT64_BASE_ADDR_MASK, &spi)) {
			--sh->pages[spi].root_count;
			if (!sh->pages[spi].root_count && sh->pages[spi].role.invalid)
				kvm_mmu_prepare_zap_page(kvm, sh, spi);
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
/*
 * Bookkeeping for the checks, not the kernel's (a peek, no step): 3.11's
 * prefetch paths never look at mmu_notifier_count, so a prefetch inside an
 * invalidate_range_start/end window can map the frame the host is about to
 * take away.  Remember which pfns that happened to.
 */
static void note_prefetch(struct kvm *kvm, uint64_t pfn)
{
	if (!kvm->sim || !sim_mem_peek32(kvm->sim, MMU_ADDR_NOTIFIER_COUNT) ||
	    mmu_prefetched_in_invalidation(kvm, pfn))
		return;
	if (kvm->prefetched_in_invalidation_count < 8)
		kvm->prefetched_in_invalidation[kvm->prefetched_in_invalidation_count++] = pfn;
}

/*
 * Models: mmu.c: direct_pte_prefetch_many(): map the run [start, end) of
 * not-present sptes speculatively, from gfn_to_page_many_atomic's pages.
 * A dirty-logged or invalid slot is not prefetched (the access of a direct
 * page is ACC_ALL, so gfn_to_memslot_dirty_bitmap asks for no dirty log).
 */
static int direct_pte_prefetch_many(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
				    struct kvm_vcpu_mmu *vm, uint32_t spi, unsigned start,
				    unsigned end)
{
	const struct kvm_mmu_page *sp = &sh->pages[spi];
	uint64_t gfn = kvm_mmu_page_get_gfn(sh, spi, start);
	const struct kvm_memory_slot *slot = gfn_to_memslot(g, gfn);
	unsigned got = 0;
	uint64_t pfns[PTE_PREFETCH_NUM];

	if (!slot || slot->invalid || slot->dirty_log)
		return -1;
	/* gfn_to_page_many_atomic: the host pages, up to the end of the slot. */
	while (start + got < end && gfn + got < slot->base_gfn + slot->npages &&
	       host_gfn_to_pfn(kvm, g, gfn + got, &pfns[got]))
		got++;
	if (!got)
		return -1;
	for (unsigned i = 0; i < got; i++)
		note_prefetch(kvm, pfns[i]);
	for (unsigned i = 0; i < got; i++)
		mmu_set_spte(kvm, sh, g, vm, sp_spt(spi) + 2 * (start + i), sp->role.access, 0, NULL,
			     (int)sp->role.level, gfn + i, pfns[i], true, true);
	return 0;
}

/* Models: mmu.c: __direct_pte_prefetch() and direct_pte_prefetch() (shadow A bits exist). */
static void direct_pte_prefetch(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
				struct kvm_vcpu_mmu *vm, sim_addr sptep)
{
	uint32_t spi = page_header_of_sptep(sptep);
	unsigned first = sptep_index(sptep) & ~(PTE_PREFETCH_NUM - 1u), start = ~0u;

	if (sh->pages[spi].role.level > PT_PAGE_TABLE_LEVEL)
		return;
	assert(sh->pages[spi].role.direct);
	for (unsigned i = first; i < first + PTE_PREFETCH_NUM; i++) {
		sim_addr spte = sp_spt(spi) + 2 * i;

		if (is_shadow_present_pte(kvm, mmu_spte_read_locked(kvm, spte)) || spte == sptep) {
			if (start == ~0u)
				continue;
			if (direct_pte_prefetch_many(kvm, sh, g, vm, spi, start, i) < 0)
				break;
			start = ~0u;
		} else if (start == ~0u) {
			start = i;
		}
	}
}

static int __direct_map(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			struct kvm_vcpu_mmu *vm, uint64_t gpa, bool write, int level, uint64_t gfn,
			uint64_t pfn)
{
	struct shadow_walk it;

	(void)gpa;
	if (pfn != KVM_PFN_NOSLOT)
		pfn &= ~((1ull << ((level - 1) * 9)) - 1);
	for (shadow_walk_init(&it, vm, gfn << PAGE_SHIFT); shadow_walk_okay(&it);) {
		uint64_t spte;

		if (it.level == level) {
			mmu_set_spte(kvm, sh, g, vm, it.sptep, ACC_ALL, write, NULL, level, gfn, pfn,
				     false, true);
			direct_pte_prefetch(kvm, sh, g, vm, it.sptep);
			break;
		}
		spte = mmu_spte_read_locked(kvm, it.sptep);
		if (!is_shadow_present_pte(kvm, spte)) {
			uint64_t base_addr = it.addr & ~((1ull << (PAGE_SHIFT + (it.level - 1) * 9)) - 1);
			uint32_t spi = kvm_mmu_get_page(vm, kvm, sh, g, base_addr >> PAGE_SHIFT,
							it.addr, it.level - 1, true, ACC_ALL,
							it.sptep);

			link_shadow_page(kvm, it.sptep, spi);
			spte = sp_hpa(spi) | PT_PRESENT_MASK;
		}
		shadow_walk_next(&it, spte);
	}
	return 0;
}

int kvm_direct_map_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			  struct kvm_vcpu_mmu *vm, uint64_t gpa, bool write, int level)
{
	uint64_t gfn = gpa >> PAGE_SHIFT, pfn;

	if (!host_gfn_to_pfn_peek(kvm->sim, g, gfn, &pfn))
		return 0;   /* an MMIO hole: handle_abnormal_pfn caches it, no spte here */
	make_mmu_pages_available_locked(kvm, sh);
	gfn &= ~((1ull << ((level - 1) * 9)) - 1);
	return __direct_map(kvm, sh, g, vm, gpa, write, level, gfn, pfn);
}

/* ---- lockless walkers: fast page fault and the MMIO walk ---- */

/*
 * Models: kvm_host.h: mmu_notifier_retry(): under mmu_lock, an invalidate
 * is in progress or one completed since mmu_seq was sampled.
 */
static bool mmu_notifier_retry(struct kvm *kvm, uint32_t mmu_seq)
{
	if (kvm->mutant == MMU_MUTANT_NOTIFIER_NO_RETRY)
		return false;
	if (sim_load32(kvm->sim, MMU_ADDR_NOTIFIER_COUNT))
		return true;
	sim_smp_rmb(kvm->sim);
	return sim_load32(kvm->sim, MMU_ADDR_NOTIFIER_SEQ) != mmu_seq;
}

/* mmu_seq = kvm->mmu_notifier_seq; smp_rmb(); */
static uint32_t mmu_notifier_seq_sample(struct kvm *kvm)
{
	uint32_t seq = sim_load32(kvm->sim, MMU_ADDR_NOTIFIER_SEQ);

	sim_smp_rmb(kvm->sim);
	return seq;
}

/*
 * The part both fault paths share once they have a pfn: spin_lock, then
 * mmu_notifier_retry (false: unlocked again, the vCPU faults anew), then
 * make_mmu_pages_available.  On true the caller holds mmu_lock.
 */
static bool fault_lock_unless_invalidated(struct kvm *kvm, struct kvm_shadow *sh,
					  uint32_t mmu_seq)
{
	sim_spin_lock(kvm->sim, MMU_ADDR_LOCK);
	if (mmu_notifier_retry(kvm, mmu_seq)) {
		sim_spin_unlock(kvm->sim, MMU_ADDR_LOCK);
		return false;
	}
	make_mmu_pages_available_locked(kvm, sh);
	return true;
}

/* Models: mmu.c: page_fault_can_be_fast() */
static bool page_fault_can_be_fast(uint32_t error_code)
{
	/* An MMIO spte with a stale generation must take the slow path. */
	if (error_code & PFERR_RSVD_MASK)
		return false;
	/* Only a write-protection fault on a present spte is fixed here. */
	if (!(error_code & PFERR_PRESENT_MASK) || !(error_code & PFERR_WRITE_MASK))
		return false;
	return true;
}

/*
 * Models: mmu.c: fast_page_fault(): for_each_shadow_entry_lockless reads
 * every level with mmu_spte_get_lockless and follows the value it read;
 * a write-protected leaf that is locklessly modifiable gets W by cmpxchg64
 * (fast_pf_fix_direct_spte), and its gfn is marked dirty.
 */
static bool __fast_page_fault(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			      struct kvm_vcpu_mmu *vm, uint64_t gva, int level, uint32_t error_code,
			      const uint64_t *walked_gfn);

static bool fast_page_fault(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			    struct kvm_vcpu_mmu *vm, uint64_t gva, int level, uint32_t error_code)
{
	return __fast_page_fault(kvm, sh, g, vm, gva, level, error_code, NULL);
}

/*
 * walked_gfn: the fast-pf-indirect mutant's fast path, bolted onto
 * FNAME(page_fault) after the guest walk, marks the gfn that walk found
 * (an indirect page's gfn is not stable outside mmu_lock: locking.txt).
 */
static bool __fast_page_fault(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			      struct kvm_vcpu_mmu *vm, uint64_t gva, int level, uint32_t error_code,
			      const uint64_t *walked_gfn)
{
	struct shadow_walk it;
	bool ret = false;
	uint64_t spte = 0;
	sim_addr sptep = 0;

	if (!page_fault_can_be_fast(error_code))
		return false;
	walk_shadow_page_lockless_begin(kvm, vm->vcpu_id);
	for (shadow_walk_init(&it, vm, gva); shadow_walk_okay(&it);) {
		sptep = it.sptep;
		spte = mmu_spte_get_lockless(kvm, sptep);
		if (!is_shadow_present_pte(kvm, spte) || it.level < level)
			break;
		shadow_walk_next(&it, spte);
	}
	/* If the mapping has been changed, let the vcpu fault on the same address again. */
	if (!is_shadow_present_pte(kvm, spte)) {   /* !is_rmap_spte */
		ret = true;
		goto exit;
	}
	if (!is_last_spte(spte, level))
		goto exit;
	/* A spurious fault from a lazily flushed TLB. */
	if (is_writable_pte(spte)) {
		ret = true;
		goto exit;
	}
	if (!spte_is_locklessly_modifiable(spte))
		goto exit;
	/* fast_pf_fix_direct_spte: sp->gfn + index for a direct page. */
	{
		uint32_t spi = page_header_of_sptep(sptep);
		uint64_t gfn = walked_gfn ? *walked_gfn
					  : kvm_mmu_page_get_gfn(sh, spi, sptep_index(sptep));

		if (fast_pf_cmpxchg_w(kvm, sptep, spte)) {
			kvm->fast_pf_unmarked_gfn1[vm->vcpu_id] = gfn + 1;
			kvm->fast_pf_unmarked_step[vm->vcpu_id] = sim_last_step(kvm->sim);
			mark_page_dirty(kvm, g, gfn);
			kvm->fast_pf_unmarked_gfn1[vm->vcpu_id] = 0;
		}
		ret = true;
	}
exit:
	walk_shadow_page_lockless_end(kvm, vm->vcpu_id);
	return ret;
}

/* Models: mmu.c: walk_shadow_page_get_mmio_spte(): stop at the first non-present value. */
static uint64_t walk_shadow_page_get_mmio_spte(struct kvm *kvm, struct kvm_vcpu_mmu *vm,
					       uint64_t addr)
{
	struct shadow_walk it;
	uint64_t spte = 0;

	walk_shadow_page_lockless_begin(kvm, vm->vcpu_id);
	for (shadow_walk_init(&it, vm, addr); shadow_walk_okay(&it);) {
		spte = mmu_spte_get_lockless(kvm, it.sptep);
		if (!is_shadow_present_pte(kvm, spte))
			break;
		shadow_walk_next(&it, spte);
	}
	walk_shadow_page_lockless_end(kvm, vm->vcpu_id);
	return spte;
}

/*
 * Models: mmu.c: kvm_mmu_get_spte_hierarchy(): a lockless walk that keeps
 * the spte of every level it reads (sptes[level - 1]), up to and including
 * the first non-present one.  Returns how many it read.  vmx's
 * handle_ept_misconfig calls it to report a misconfiguration that
 * handle_mmio_page_fault_common could not explain (RET_MMIO_PF_BUG).
 */
int kvm_mmu_get_spte_hierarchy(struct kvm *kvm, struct kvm_vcpu_mmu *vm, uint64_t addr,
			       uint64_t sptes[4])
{
	struct shadow_walk it;
	int nr_sptes = 0;

	walk_shadow_page_lockless_begin(kvm, vm->vcpu_id);
	for (shadow_walk_init(&it, vm, addr); shadow_walk_okay(&it);) {
		uint64_t spte = mmu_spte_get_lockless(kvm, it.sptep);

		sptes[it.level - 1] = spte;
		nr_sptes++;
		if (!is_shadow_present_pte(kvm, spte))
			break;
		shadow_walk_next(&it, spte);
	}
	walk_shadow_page_lockless_end(kvm, vm->vcpu_id);
	return nr_sptes;
}

/* Models: x86.h: vcpu_cache_mmio_info() */
static void vcpu_cache_mmio_info(struct kvm_vcpu_mmu *vm, uint64_t gva, uint64_t gfn,
				 unsigned access)
{
	vm->mmio_gva = gva & ~4095ull;
	vm->mmio_access = access;
	vm->mmio_gfn = gfn;
}

/* Models: mmu.c: quickly_check_mmio_pf() (vcpu_match_mmio_gpa / _gva). */
static bool quickly_check_mmio_pf(const struct kvm_vcpu_mmu *vm, uint64_t addr, bool direct)
{
	if (direct)
		return vm->mmio_gfn && vm->mmio_gfn == addr >> PAGE_SHIFT;
	return vm->mmio_gva && vm->mmio_gva == (addr & ~4095ull);
}

int handle_mmio_page_fault_common(struct kvm *kvm, struct kvm_shadow *sh,
				  struct kvm_vcpu_mmu *vm, uint64_t addr, bool direct)
{
	uint64_t spte;

	(void)sh;
	vm->mmio_from_cache = quickly_check_mmio_pf(vm, addr, direct);
	if (vm->mmio_from_cache)
		return MMU_PF_EMULATE;
	spte = walk_shadow_page_get_mmio_spte(kvm, vm, addr);
	if (is_mmio_spte(kvm, spte)) {
		uint64_t gfn = (spte & ((1ull << MMU_PHYS_BITS) - 1) & ~kvm->shadow_mmio_mask &
				PT64_BASE_ADDR_MASK) >> PAGE_SHIFT;
		unsigned access = (unsigned)(spte & (PT_WRITABLE_MASK | PT_USER_MASK));

		/* check_mmio_spte */
		if (get_mmio_spte_generation(spte) != kvm_current_mmio_generation(kvm))
			return 0;   /* RET_MMIO_PF_INVALID */
		vcpu_cache_mmio_info(vm, direct ? 0 : addr, gfn, access);
		return MMU_PF_EMULATE;
	}
	/* check_direct_spte_mmio_pf: only a zapped (zero) spte is fine. */
	if (direct && spte != 0)
		return MMU_PF_BUG;
	/* The page table was zapped by another CPU: fault again. */
	return MMU_PF_RETRY;
}

/* Models: mmu.c: mapping_level_dirty_bitmap() */
static bool mapping_level_dirty_bitmap(const struct kvm_guest *g, uint64_t gfn)
{
	const struct kvm_memory_slot *slot = gfn_to_memslot(g, gfn);

	return !slot || slot->invalid || slot->dirty_log;
}

int nonpaging_page_fault(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			 struct kvm_vcpu_mmu *vm, uint64_t gva, uint32_t error_code)
{
	uint64_t gfn = gva >> PAGE_SHIFT, pfn;
	bool write = error_code & PFERR_WRITE_MASK, force_pt_level;
	uint32_t mmu_seq;
	int level, r;

	assert(vm->direct_map);
	vm->mmio_from_cache = false;
	if (error_code & PFERR_RSVD_MASK) {
		/* handle_mmio_page_fault(..., direct = true) */
		r = handle_mmio_page_fault_common(kvm, sh, vm, gva, true);
		if (r)
			return r;   /* RET_MMIO_PF_EMULATE, _RETRY or _BUG */
	}
	/* nonpaging_map */
	force_pt_level = mapping_level_dirty_bitmap(g, gfn);
	if (!force_pt_level) {
		level = mapping_level(sh, g, gfn);
		/* This path builds a PAE shadow page table: 2M at most. */
		if (level > PT_DIRECTORY_LEVEL)
			level = PT_DIRECTORY_LEVEL;
		gfn &= ~((1ull << ((level - 1) * 9)) - 1);
	} else {
		level = PT_PAGE_TABLE_LEVEL;
	}
	if (fast_page_fault(kvm, sh, g, vm, gva, level, error_code))
		return MMU_PF_RETRY;
	if (kvm->mutant != MMU_MUTANT_NOTIFIER_SEQ_AFTER_PFN)
		mmu_seq = mmu_notifier_seq_sample(kvm);
	if (!host_gfn_to_pfn(kvm, g, gfn, &pfn)) {
		/* handle_abnormal_pfn: cache the MMIO info, then map an MMIO spte. */
		pfn = KVM_PFN_NOSLOT;
		vcpu_cache_mmio_info(vm, gva, gva >> PAGE_SHIFT, ACC_ALL);
	}
	if (kvm->mutant == MMU_MUTANT_NOTIFIER_SEQ_AFTER_PFN)
		mmu_seq = mmu_notifier_seq_sample(kvm);
	if (!fault_lock_unless_invalidated(kvm, sh, mmu_seq))
		return MMU_PF_RETRY;
	if (!force_pt_level)
		transparent_hugepage_adjust(sh, g, &gfn, &pfn, &level);
	r = __direct_map(kvm, sh, g, vm, gva, write, level, gfn, pfn);
	sim_spin_unlock(kvm->sim, MMU_ADDR_LOCK);
	(void)r;
	return pfn == KVM_PFN_NOSLOT ? MMU_PF_EMULATE : MMU_PF_RETRY;
}

/* ---- shadow paging: FNAME(page_fault), FNAME(fetch), sync ---- */

static int gpte_bytes(const struct kvm_vcpu_mmu *vm)
{
	return vm->ctx.root_level == PT32_ROOT_LEVEL ? 4 : 8;
}

void kvm_vcpu_mmu_set_paging(struct kvm_vcpu_mmu *vm, enum guest_paging paging, uint64_t cr3,
			     const uint64_t pdptrs[4], bool nx, bool cr0_wp, bool cr4_smep,
			     enum mmu_host_width width)
{
	assert(vm->root_hpa == INVALID_PAGE);
	(void)width;
	kvm_mmu_context_init(&vm->ctx, paging, cr3, nx, cr0_wp, true, cr4_smep);
	if (paging == GUEST_PAGING_PAE && pdptrs)
		memcpy(vm->ctx.pdptrs, pdptrs, sizeof(vm->ctx.pdptrs));
	vm->direct_map = paging == GUEST_PAGING_OFF;
	/* kvm_init_shadow_mmu: long mode shadows with 4 levels, the rest with PAE. */
	vm->shadow_root_level = paging == GUEST_PAGING_64 ? PT64_ROOT_LEVEL : PT32E_ROOT_LEVEL;
	vm->base_role.word = 0;
	vm->base_role.nxe = nx;
	vm->base_role.cr4_pae = paging == GUEST_PAGING_PAE || paging == GUEST_PAGING_64;
	vm->base_role.cr0_wp = cr0_wp;
	vm->base_role.smep_andnot_wp = cr4_smep && !cr0_wp;
}

/* Models: mmu.c: mmu_alloc_shadow_roots() (no nested paging: no lm_root). */
void mmu_alloc_shadow_roots_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
				   struct kvm_vcpu_mmu *vm)
{
	uint64_t root_gfn = vm->ctx.cr3 >> PAGE_SHIFT;

	assert(vm->root_hpa == INVALID_PAGE);
	if (vm->ctx.root_level == PT64_ROOT_LEVEL) {
		uint32_t spi;

		make_mmu_pages_available_locked(kvm, sh);
		spi = kvm_mmu_get_page(vm, kvm, sh, g, root_gfn, 0, PT64_ROOT_LEVEL, false, ACC_ALL, 0);

		++sh->pages[spi].root_count;
		vm->root_hpa = sp_hpa(spi);
		return;
	}
	/* A 32-bit or PAE guest is shadowed by four PAE page directories. */
	for (int i = 0; i < 4; ++i) {
		uint32_t spi;

		if (vm->ctx.root_level == PT32E_ROOT_LEVEL) {
			uint64_t pdptr = vm->ctx.pdptrs[i];

			if (!(pdptr & PT_PRESENT_MASK)) {
				vm->pae_root[i] = 0;
				continue;
			}
			root_gfn = pdptr >> PAGE_SHIFT;
		}
		make_mmu_pages_available_locked(kvm, sh);
		spi = kvm_mmu_get_page(vm, kvm, sh, g, root_gfn, (uint64_t)i << 30, PT32_ROOT_LEVEL,
				       false, ACC_ALL, 0);
		++sh->pages[spi].root_count;
		vm->pae_root[i] = sp_hpa(spi) | PT_PRESENT_MASK;
	}
	vm->root_hpa = PAE_ROOT_HPA;
}

/* Models: FNAME(get_level1_sp_gpa)() */
static uint64_t get_level1_sp_gpa(const struct kvm_vcpu_mmu *vm, const struct kvm_mmu_page *sp)
{
	uint64_t offset = 0;

	if (gpte_bytes(vm) == 4)
		offset = (uint64_t)sp->role.quadrant << (9 + 2);   /* << PT64_LEVEL_BITS * 4 bytes */
	return (sp->gfn << PAGE_SHIFT) + offset;
}

/* Models: FNAME(prefetch_invalid_gpte)(): drops the spte when the gpte cannot be prefetched. */
static bool prefetch_invalid_gpte(struct kvm *kvm, struct kvm_shadow *sh,
				  const struct kvm_vcpu_mmu *vm, sim_addr spte, uint64_t gpte)
{
	if (is_rsvd_bits_set(&vm->ctx, gpte, PT_PAGE_TABLE_LEVEL) || !(gpte & PT_PRESENT_MASK) ||
	    !(gpte & PT_ACCESSED_MASK)) {
		drop_spte(kvm, sh, spte);
		return true;
	}
	return false;
}

/*
 * Models: FNAME(sync_page)(): re-read every gpte behind a present spte;
 * drop what became invalid or moved (counting tlbs_dirty instead of
 * flushing), re-derive the rest with set_spte on the old pfn.  Returns
 * nonzero when nothing is left present (the caller zaps the page).
 */
static int sync_page(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
		     struct kvm_vcpu_mmu *vm, uint32_t spi)
{
	struct kvm_mmu_page *sp = &sh->pages[spi];
	uint64_t first_pte_gpa = get_level1_sp_gpa(vm, sp);
	int bytes = gpte_bytes(vm), nr_present = 0;

	assert(!sp->role.direct);
	for (unsigned i = 0; i < PT64_ENT_PER_PAGE; i++) {
		sim_addr spte = sp_spt(spi) + 2 * i;
		uint64_t gpte, gfn, old;
		unsigned pte_access;

		/* Unused entries are zero and need no step to skip. */
		if (!sim_mem_peek64(kvm->sim, spte))
			continue;
		gpte = guest_read_gpte(kvm, g, first_pte_gpa + (uint64_t)i * bytes, bytes);
		if (prefetch_invalid_gpte(kvm, sh, vm, spte, gpte)) {
			tlbs_dirty_inc(kvm);
			continue;
		}
		gfn = (gpte & (bytes == 4 ? 0xfffff000ull : PT64_BASE_ADDR_MASK)) >> PAGE_SHIFT;
		pte_access = sp->role.access & gpte_access(gpte);
		protect_clean_gpte(&pte_access, gpte);
		old = mmu_spte_read_locked(kvm, spte);
		if (is_mmio_spte(kvm, old)) {
			/* sync_mmio_spte */
			if (gfn != ((old & ((1ull << MMU_PHYS_BITS) - 1)) >> PAGE_SHIFT)) {
				mmu_spte_clear_no_track(kvm, spte);
				continue;
			}
			nr_present++;
			mark_mmio_spte(kvm, spte, gfn, pte_access);
			continue;
		}
		if (gfn != sp->gfns[i]) {
			drop_spte(kvm, sh, spte);
			tlbs_dirty_inc(kvm);
			continue;
		}
		nr_present++;
		set_spte(kvm, sh, g, spte, pte_access, PT_PAGE_TABLE_LEVEL, gfn, spte_to_pfn(old), true,
			 false, old & SPTE_HOST_WRITEABLE);
	}
	return !nr_present;
}

/* One level of the path to an unsync page: the page and the entry taken. */
struct sync_path {
	uint32_t sp[4];
	unsigned idx[4];
	int depth;
};

/* Models: mmu.c: mmu_pages_clear_parents(): clear the child bit upward while it empties. */
static void mmu_pages_clear_parents(struct kvm_shadow *sh, const struct sync_path *path)
{
	for (int d = path->depth - 1; d >= 0; d--) {
		struct kvm_mmu_page *sp = &sh->pages[path->sp[d]];
		unsigned idx = path->idx[d];

		sp->unsync_child_bitmap[idx / 64] &= ~(1ull << (idx % 64));
		if (--sp->unsync_children)
			break;
	}
}

/*
 * Models: mmu.c: mmu_unsync_walk() / __mmu_unsync_walk(): find the first
 * unsync page below spi, recording the path; stale bits (the child is no
 * longer there or no longer unsync) are cleared on the way, as the kernel
 * does.  Returns the unsync page or -1.
 */
static int find_unsync(struct kvm *kvm, struct kvm_shadow *sh, uint32_t spi, struct sync_path *path)
{
	struct kvm_mmu_page *sp = &sh->pages[spi];

	for (unsigned i = 0; i < PT64_ENT_PER_PAGE && sp->unsync_children; i++) {
		uint64_t ent;
		uint32_t child;
		int found;

		if (!(sp->unsync_child_bitmap[i / 64] & (1ull << (i % 64))))
			continue;
		ent = sim_mem_peek64(kvm->sim, sp_spt(spi) + 2 * i);
		if (!is_shadow_present_pte(kvm, ent) ||
		    !page_header_of_hpa(ent & PT64_BASE_ADDR_MASK, &child)) {
			sp->unsync_child_bitmap[i / 64] &= ~(1ull << (i % 64));
			sp->unsync_children--;
			continue;
		}
		path->sp[path->depth] = spi;
		path->idx[path->depth] = i;
		path->depth++;
		if (sh->pages[child].unsync_children) {
			found = find_unsync(kvm, sh, child, path);
			if (found >= 0)
				return found;
		} else if (sh->pages[child].unsync) {
			return (int)child;
		}
		path->depth--;
		if (!sh->pages[child].unsync_children && !sh->pages[child].unsync) {
			sp->unsync_child_bitmap[i / 64] &= ~(1ull << (i % 64));
			sp->unsync_children--;
		}
	}
	return -1;
}

/*
 * Models: mmu.c: mmu_sync_children(), in batches of up to 16 pages: write
 * protect all their gfns and flush once, sync each and clear its parents'
 * bits, then commit the zaps.
 */
static void mmu_sync_children(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			      struct kvm_vcpu_mmu *vm, uint32_t parent)
{
	for (;;) {
		struct sync_path paths[16];
		uint32_t pages[16];
		int n = 0;
		bool protected = false;

		while (n < 16) {
			struct sync_path p = { .depth = 0 };
			int u = find_unsync(kvm, sh, parent, &p);
			bool dup = false;

			if (u < 0)
				break;
			for (int k = 0; k < n; k++)
				dup |= pages[k] == (uint32_t)u;
			if (dup)
				break;
			pages[n] = (uint32_t)u;
			paths[n++] = p;
			/* Found once per batch: take it out of the bitmaps for now. */
			mmu_pages_clear_parents(sh, &p);
		}
		if (!n)
			return;
		for (int k = 0; k < n; k++)
			protected |= rmap_write_protect(kvm, sh, sh->pages[pages[k]].gfn);
		if (protected)
			kvm_flush_remote_tlbs(kvm, sh);
		for (int k = 0; k < n; k++)
			if (sh->pages[pages[k]].allocated && !sh->pages[pages[k]].zapped)
				__kvm_sync_page(kvm, sh, g, vm, pages[k], true);
		kvm_mmu_commit_zap_page(kvm, sh);
	}
}

bool kvm_mmu_process_requests(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			      struct kvm_vcpu_mmu *vm)
{
	struct sim *s = kvm->sim;
	uint32_t v = vm->vcpu_id;
	bool flush = false;

	if (sim_load32(s, MMU_ADDR_REQ + v)) {
		if (kvm_check_request(kvm, KVM_REQ_MMU_RELOAD, v)) {
			/* kvm_mmu_unload -> mmu_free_roots */
			sim_spin_lock(s, MMU_ADDR_LOCK);
			mmu_free_roots_locked(kvm, sh, vm);
			sim_spin_unlock(s, MMU_ADDR_LOCK);
		}
		if (kvm_check_request(kvm, KVM_REQ_MMU_SYNC, v) && !vm->direct_map) {
			sim_spin_lock(s, MMU_ADDR_LOCK);
			kvm_mmu_sync_roots_locked(kvm, sh, g, vm);
			sim_spin_unlock(s, MMU_ADDR_LOCK);
		}
		if (kvm_check_request(kvm, KVM_REQ_TLB_FLUSH, v))
			flush = true;   /* kvm_x86_ops->tlb_flush */
	}
	/* kvm_mmu_reload -> kvm_mmu_load */
	if (vm->root_hpa == INVALID_PAGE) {
		sim_spin_lock(s, MMU_ADDR_LOCK);
		make_mmu_pages_available_locked(kvm, sh);
		if (vm->direct_map)
			mmu_alloc_direct_roots_locked(kvm, sh, vm);
		else
			mmu_alloc_shadow_roots_locked(kvm, sh, g, vm);
		sim_spin_unlock(s, MMU_ADDR_LOCK);
		if (!vm->direct_map) {
			sim_spin_lock(s, MMU_ADDR_LOCK);
			kvm_mmu_sync_roots_locked(kvm, sh, g, vm);
			sim_spin_unlock(s, MMU_ADDR_LOCK);
		}
		flush = true;   /* set_cr3 loads the new root: a TLB flush */
	}
	return flush;
}

void kvm_mmu_sync_roots_locked(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			       struct kvm_vcpu_mmu *vm)
{
	uint32_t spi;

	if (vm->root_hpa == INVALID_PAGE)
		return;
	vm->mmio_gva = 0;   /* vcpu_clear_mmio_info(vcpu, ~0ul) */
	if (vm->shadow_root_level == PT64_ROOT_LEVEL) {
		if (page_header_of_hpa(vm->root_hpa, &spi))
			mmu_sync_children(kvm, sh, g, vm, spi);
		return;
	}
	for (int i = 0; i < 4; ++i)
		if (vm->pae_root[i] && page_header_of_hpa(vm->pae_root[i] & PT64_BASE_ADDR_MASK, &spi))
			mmu_sync_children(kvm, sh, g, vm, spi);
}

/*
 * Models: FNAME(gpte_changed)(): re-read the gpte the walk used at `level`
 * (for level 1, the PTE_PREFETCH_NUM gptes around it, kept for prefetch).
 */
static bool gpte_changed(struct kvm *kvm, struct kvm_guest *g, const struct kvm_vcpu_mmu *vm,
			 struct guest_walker *gw, int level)
{
	int bytes = gpte_bytes(vm);
	uint64_t pte_gpa = gw->pte_gpa[level - 1], curr;

	if (kvm->mutant == MMU_MUTANT_FETCH_NO_GPTE_RECHECK)
		return false;

	if (level == PT_PAGE_TABLE_LEVEL) {
		uint64_t mask = (uint64_t)PTE_PREFETCH_NUM * bytes - 1;
		uint64_t base_gpa = pte_gpa & ~mask;
		unsigned index = (unsigned)((pte_gpa - base_gpa) / bytes);

		for (unsigned i = 0; i < PTE_PREFETCH_NUM; i++)
			gw->ptes[gw->max_full_levels + i] =
				guest_read_gpte(kvm, g, base_gpa + (uint64_t)i * bytes, bytes);
		curr = gw->ptes[gw->max_full_levels + index];
	} else {
		curr = guest_read_gpte(kvm, g, pte_gpa, bytes);
	}
	if (curr == gw->ptes[level - 1])
		return false;
	kvm->guards[MMU_GUARD_GPTE_CHANGED]++;
	return true;
}

/* Models: mmu.c: validate_direct_spte() */
static void validate_direct_spte(struct kvm *kvm, struct kvm_shadow *sh, sim_addr sptep,
				 unsigned direct_access)
{
	uint64_t spte = mmu_spte_read_locked(kvm, sptep);
	uint32_t child;

	if (is_shadow_present_pte(kvm, spte) && !is_large_pte(spte)) {
		if (!page_header_of_hpa(spte & PT64_BASE_ADDR_MASK, &child))
			assert(0);
		if (sh->pages[child].role.access == direct_access)
			return;
		drop_parent_pte(kvm, sh, child, sptep);
		kvm_flush_remote_tlbs(kvm, sh);
	}
}

/* Models: FNAME(prefetch_gpte)() */
static bool prefetch_gpte(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			  struct kvm_vcpu_mmu *vm, uint32_t spi, sim_addr spte, uint64_t gpte)
{
	uint64_t gfn, pfn;
	unsigned pte_access;

	if (prefetch_invalid_gpte(kvm, sh, vm, spte, gpte))
		return false;
	gfn = (gpte & (gpte_bytes(vm) == 4 ? 0xfffff000ull : PT64_BASE_ADDR_MASK)) >> PAGE_SHIFT;
	pte_access = sh->pages[spi].role.access & gpte_access(gpte);
	protect_clean_gpte(&pte_access, gpte);
	/* pte_prefetch_gfn_to_pfn: no slot is an error pfn, which stops prefetch. */
	if (!host_gfn_to_pfn(kvm, g, gfn, &pfn))
		return false;
	note_prefetch(kvm, pfn);
	mmu_set_spte(kvm, sh, g, vm, spte, pte_access, 0, NULL, PT_PAGE_TABLE_LEVEL, gfn, pfn, true,
		     true);
	return true;
}

/* Models: FNAME(pte_prefetch)(), indirect level-1 pages (direct ones: not modelled). */
static void pte_prefetch(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			 struct kvm_vcpu_mmu *vm, struct guest_walker *gw, sim_addr sptep)
{
	uint32_t spi = page_header_of_sptep(sptep);
	const struct kvm_mmu_page *sp = &sh->pages[spi];
	unsigned first;

	if (sp->role.level > PT_PAGE_TABLE_LEVEL || sp->role.direct)
		return;
	first = sptep_index(sptep) & ~(unsigned)(PTE_PREFETCH_NUM - 1);
	for (unsigned i = 0; i < PTE_PREFETCH_NUM; i++) {
		sim_addr spte = sp_spt(spi) + 2 * (first + i);

		if (spte == sptep)
			continue;
		if (is_shadow_present_pte(kvm, mmu_spte_read_locked(kvm, spte)))
			continue;
		if (!prefetch_gpte(kvm, sh, g, vm, spi, spte, gw->ptes[gw->max_full_levels + i]))
			break;
	}
}

/*
 * Models: FNAME(fetch)(): build the shadow path for the guest walk, with
 * the gpte_changed re-checks after each table is write-protected, direct
 * pages below a guest large page, then the leaf and prefetch.  Returns 1
 * to emulate.
 */
static int fetch(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
		 struct kvm_vcpu_mmu *vm, uint64_t addr, struct guest_walker *gw, int write_fault,
		 int hlevel, uint64_t pfn, bool map_writable)
{
	unsigned access = gw->pt_access, direct_access = gw->pte_access;
	int top_level = vm->ctx.root_level, emulate = 0;
	struct shadow_walk it;
	int32_t spi = -1;

	if (top_level == PT32E_ROOT_LEVEL)
		top_level = PT32_ROOT_LEVEL;
	/* The root page is write-protected (or invalid): a re-check now is final. */
	if (gpte_changed(kvm, g, vm, gw, top_level))
		goto out_gpte_changed;
	for (shadow_walk_init(&it, vm, addr); shadow_walk_okay(&it) && it.level > gw->level;) {
		uint64_t spte;

		sh->pages[page_header_of_sptep(it.sptep)].write_flooding_count = 0;
		drop_large_spte(kvm, sh, it.sptep);
		spi = -1;
		spte = mmu_spte_read_locked(kvm, it.sptep);
		if (!is_shadow_present_pte(kvm, spte))
			spi = (int32_t)kvm_mmu_get_page(vm, kvm, sh, g, gw->table_gfn[it.level - 2],
							addr, it.level - 1, false, access, it.sptep);
		/* The gpte of the table just write-protected is still what the walk saw? */
		if (gpte_changed(kvm, g, vm, gw, it.level - 1))
			goto out_gpte_changed;
		if (spi >= 0) {
			link_shadow_page(kvm, it.sptep, (uint32_t)spi);
			spte = sp_hpa((uint32_t)spi) | PT_PRESENT_MASK;
		}
		shadow_walk_next(&it, spte);
	}
	for (; shadow_walk_okay(&it) && it.level > hlevel;) {
		uint64_t spte, direct_gfn;

		sh->pages[page_header_of_sptep(it.sptep)].write_flooding_count = 0;
		validate_direct_spte(kvm, sh, it.sptep, direct_access);
		drop_large_spte(kvm, sh, it.sptep);
		spte = mmu_spte_read_locked(kvm, it.sptep);
		if (!is_shadow_present_pte(kvm, spte)) {
			uint32_t d;

			direct_gfn = gw->gfn & ~((1ull << ((it.level - 1) * 9)) - 1);
			d = kvm_mmu_get_page(vm, kvm, sh, g, direct_gfn, addr, it.level - 1, true,
					     direct_access, it.sptep);
			link_shadow_page(kvm, it.sptep, d);
			spte = sp_hpa(d) | PT_PRESENT_MASK;
		}
		shadow_walk_next(&it, spte);
	}
	sh->pages[page_header_of_sptep(it.sptep)].write_flooding_count = 0;
	mmu_set_spte(kvm, sh, g, vm, it.sptep, gw->pte_access, write_fault, &emulate, it.level,
		     gw->gfn, pfn, false, map_writable);
	pte_prefetch(kvm, sh, g, vm, gw, it.sptep);
	return emulate;

out_gpte_changed:
	if (spi >= 0)
		/* kvm_mmu_put_page: the new page loses the parent it was given. */
		pte_list_remove(sh, &sh->pages[spi].parent_ptes, it.sptep);
	return 0;
}

/*
 * Models: FNAME(is_self_change_mapping)(): the fault maps, with a large
 * page, a frame that holds one of the tables of this very walk; it must be
 * mapped 4K (the new shadow page would write-protect it anyway).
 */
static bool is_self_change_mapping(const struct kvm_vcpu_mmu *vm, const struct guest_walker *w,
				   int user_fault, bool *write_fault_to_shadow_pgtable)
{
	uint64_t mask = ~((1ull << ((w->level - 1) * 9)) - 1);
	bool self_changed = false;

	if (!(w->pte_access & ACC_WRITE_MASK || (!vm->ctx.cr0_wp && !user_fault)))
		return false;
	for (unsigned level = (unsigned)w->level; level <= w->max_level; level++) {
		uint64_t gfn = w->gfn ^ w->table_gfn[level - 1];

		self_changed |= !(gfn & mask);
		*write_fault_to_shadow_pgtable |= !gfn;
	}
	return self_changed;
}

/*
 * The stale-wp guard (bookkeeping, no steps: the walk peeks at memory).  A
 * write fault after FNAME(walk_addr): is the last spte on its way present,
 * write-protected but locklessly modifiable, and does it map another gfn
 * than `walked_gfn`?
 */
static void note_stale_wp(struct kvm *kvm, const struct kvm_shadow *sh,
			  const struct kvm_vcpu_mmu *vm, uint64_t addr, uint64_t walked_gfn)
{
	struct shadow_walk it;
	uint32_t spi;

	shadow_walk_init(&it, vm, addr);
	while (it.level >= PT_PAGE_TABLE_LEVEL && page_header_of_hpa(it.shadow_addr, &spi)) {
		sim_addr sptep = sp_spt(spi) + 2 * SHADOW_PT_INDEX(it.addr, it.level);
		uint64_t spte = sim_mem_peek64(kvm->sim, sptep);

		if (!is_shadow_present_pte(kvm, spte))
			return;
		if (is_last_spte(spte, it.level)) {
			if (it.level == PT_PAGE_TABLE_LEVEL && !is_writable_pte(spte) &&
			    spte_is_locklessly_modifiable(spte) &&
			    kvm_mmu_page_get_gfn(sh, spi, sptep_index(sptep)) != walked_gfn)
				kvm->guards[MMU_GUARD_STALE_WP]++;
			return;
		}
		shadow_walk_next(&it, spte);
	}
}

int kvm_shadow_page_fault(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
			  struct kvm_vcpu_mmu *vm, uint64_t addr, uint32_t error_code,
			  uint32_t *guest_fault)
{
	const int write_fault = error_code & PFERR_WRITE_MASK;
	const int user_fault = error_code & PFERR_USER_MASK;
	struct guest_walker walker;
	bool force_pt_level = true;
	int r, level = PT_PAGE_TABLE_LEVEL;
	uint64_t pfn;

	uint32_t mmu_seq;

	assert(!vm->direct_map);
	vm->mmio_from_cache = false;
	if (error_code & PFERR_RSVD_MASK) {
		/* handle_mmio_page_fault(..., direct = mmu_is_nested = false) */
		r = handle_mmio_page_fault_common(kvm, sh, vm, addr, false);
		if (r)
			return r;
	}
	/* FNAME(walk_addr), without mmu_lock. */
	if (!guest_walk_addr(kvm, g, &vm->ctx, &walker, addr, error_code)) {
		*guest_fault = walker.fault_error_code;   /* inject_page_fault */
		return 0;
	}
	if (page_fault_can_be_fast(error_code))
		note_stale_wp(kvm, sh, vm, addr, walker.gfn);
	/* The mutant lets the direct-map fast path loose on indirect pages. */
	if (kvm->mutant == MMU_MUTANT_FAST_PF_INDIRECT &&
	    __fast_page_fault(kvm, sh, g, vm, addr, PT_PAGE_TABLE_LEVEL, error_code, &walker.gfn))
		return MMU_PF_RETRY;
	/* Level selection. */
	if (walker.level >= PT_DIRECTORY_LEVEL) {
		bool write_fault_to_shadow_pgtable = false;

		/* A dirty-logged, invalid or absent slot maps 4K only. */
		force_pt_level = mapping_level_dirty_bitmap(g, walker.gfn) ||
				 is_self_change_mapping(vm, &walker, user_fault,
							&write_fault_to_shadow_pgtable);
	}
	if (!force_pt_level) {
		level = mapping_level(sh, g, walker.gfn);
		if (level > walker.level)
			level = walker.level;
		walker.gfn &= ~((1ull << ((level - 1) * 9)) - 1);
	}
	if (kvm->mutant != MMU_MUTANT_NOTIFIER_SEQ_AFTER_PFN)
		mmu_seq = mmu_notifier_seq_sample(kvm);
	if (!host_gfn_to_pfn(kvm, g, walker.gfn, &pfn)) {
		/* handle_abnormal_pfn caches the MMIO info */
		pfn = KVM_PFN_NOSLOT;
		vcpu_cache_mmio_info(vm, addr, walker.gfn, walker.pte_access);
	}
	if (kvm->mutant == MMU_MUTANT_NOTIFIER_SEQ_AFTER_PFN)
		mmu_seq = mmu_notifier_seq_sample(kvm);
	/* CR0.WP = 0: a supervisor write through a read-only gpte. */
	if (write_fault && !(walker.pte_access & ACC_WRITE_MASK) && !vm->ctx.cr0_wp &&
	    !user_fault && pfn != KVM_PFN_NOSLOT) {
		walker.pte_access |= ACC_WRITE_MASK;
		walker.pte_access &= ~ACC_USER_MASK;
		if (vm->ctx.cr4_smep)
			walker.pte_access &= ~ACC_EXEC_MASK;
	}
	if (!fault_lock_unless_invalidated(kvm, sh, mmu_seq))
		return MMU_PF_RETRY;
	if (!force_pt_level)
		transparent_hugepage_adjust(sh, g, &walker.gfn, &pfn, &level);
	r = fetch(kvm, sh, g, vm, addr, &walker, write_fault, level, pfn, true);
	sim_spin_unlock(kvm->sim, MMU_ADDR_LOCK);
	return r ? MMU_PF_EMULATE : MMU_PF_RETRY;
}

/* ---- page recycling, emulated pte writes, invlpg ---- */

#define KVM_MIN_FREE_MMU_PAGES 5
#define KVM_REFILL_PAGES 25

/* Models: mmu.c: prepare_zap_oldest_mmu_page(): the tail of active_mmu_pages. */
static bool prepare_zap_oldest_mmu_page(struct kvm *kvm, struct kvm_shadow *sh)
{
	int oldest = -1;

	for (uint32_t i = 0; i < MMU_SP_MAX; i++) {
		const struct kvm_mmu_page *sp = &sh->pages[i];

		if (sp->allocated && !sp->zapped &&
		    (oldest < 0 || sp->link_seq < sh->pages[oldest].link_seq))
			oldest = (int)i;
	}
	if (oldest < 0)
		return false;
	kvm_mmu_prepare_zap_page(kvm, sh, (uint32_t)oldest);
	return true;
}

/*
 * Models: mmu.c: make_mmu_pages_available(): below KVM_MIN_FREE_MMU_PAGES
 * free pages, zap the oldest until KVM_REFILL_PAGES are free.  The loop
 * ends because a rooted page goes back to the head and the next oldest is
 * taken; n_max_mmu_pages (MMU_SP_MAX) leaves room for every vCPU's roots.
 */
void make_mmu_pages_available_locked(struct kvm *kvm, struct kvm_shadow *sh)
{
	uint32_t guard = 0;

	if (MMU_SP_MAX - sh->n_used_mmu_pages >= KVM_MIN_FREE_MMU_PAGES)
		return;
	while (MMU_SP_MAX - sh->n_used_mmu_pages < KVM_REFILL_PAGES) {
		if (!prepare_zap_oldest_mmu_page(kvm, sh))
			break;
		/* Only rooted pages left: each pass moves one to the head. */
		if (++guard > 4 * MMU_SP_MAX)
			break;
	}
	kvm_mmu_commit_zap_page(kvm, sh);
}

/* Models: mmu.c: detect_write_misaligned() */
static bool detect_write_misaligned(const struct kvm_mmu_page *sp, uint64_t gpa, int bytes)
{
	unsigned offset = (unsigned)(gpa & 4095), pte_size = sp->role.cr4_pae ? 8 : 4;
	unsigned misaligned;

	/* A one-byte write of a status bit (andb by clear_bit) is fine. */
	if (!(offset & (pte_size - 1)) && bytes == 1)
		return false;
	misaligned = (offset ^ (offset + (unsigned)bytes - 1)) & ~(pte_size - 1);
	misaligned |= bytes < 4;
	return misaligned;
}

/* Models: mmu.c: detect_write_flooding(): level-1 pages can go unsync instead. */
static bool detect_write_flooding(struct kvm_mmu_page *sp)
{
	if (sp->role.level == PT_PAGE_TABLE_LEVEL)
		return false;
	return ++sp->write_flooding_count >= 3;
}

/* Models: mmu.c: get_written_sptes(): the spte index (or -1) and how many. */
static int get_written_sptes(const struct kvm_mmu_page *sp, uint64_t gpa, int *nspte)
{
	unsigned page_offset = (unsigned)(gpa & 4095), quadrant;

	*nspte = 1;
	if (!sp->role.cr4_pae) {
		page_offset <<= 1;   /* 32-bit gptes, 64-bit sptes */
		/* A 4 MiB pde maps two 2 MiB shadow pdes. */
		if (sp->role.level == PT32_ROOT_LEVEL) {
			page_offset &= ~7u;
			page_offset <<= 1;
			*nspte = 2;
		}
		quadrant = page_offset >> PAGE_SHIFT;
		page_offset &= 4095;
		if (quadrant != sp->role.quadrant)
			return -1;
	}
	return (int)(page_offset / 8);
}

/* Models: mmu.c: need_remote_flush() */
static bool need_remote_flush(const struct kvm *kvm, uint64_t old, uint64_t new_spte)
{
	const uint64_t perm = PT_PRESENT_MASK | PT_WRITABLE_MASK | PT_USER_MASK | PT64_NX_MASK;

	if (!is_shadow_present_pte(kvm, old))
		return false;
	if (!is_shadow_present_pte(kvm, new_spte))
		return true;
	if ((old ^ new_spte) & PT64_BASE_ADDR_MASK)
		return true;
	old ^= PT64_NX_MASK;
	new_spte ^= PT64_NX_MASK;
	return (old & ~new_spte & perm) != 0;
}

void kvm_mmu_pte_write(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
		       struct kvm_vcpu_mmu *vm, uint64_t gpa, uint64_t new_val, int bytes)
{
	union kvm_mmu_page_role mask = { 0 };
	bool zap_page = false, remote_flush = false, local_flush = false;
	uint64_t gfn = gpa >> PAGE_SHIFT, gentry;

	/* No write-protected gfn anywhere: nothing to do (read without the lock). */
	if (!sh->indirect_shadow_pages)
		return;
	/* mmu_pte_write_fetch_gpte: a 4-byte write in PAE mode reads the whole gpte. */
	if (vm->base_role.cr4_pae && bytes == 4) {
		gpa &= ~7ull;
		bytes = 8;
		gentry = guest_read_gpte(kvm, g, gpa, 8);
	} else {
		gentry = bytes == 4 ? (uint32_t)new_val : bytes == 8 ? new_val : 0;
	}
	sim_spin_lock(kvm->sim, MMU_ADDR_LOCK);
	mask.cr0_wp = mask.cr4_pae = mask.nxe = 1;
	for (uint32_t i = 0; i < MMU_SP_MAX; i++) {
		struct kvm_mmu_page *sp = &sh->pages[i];
		int index, npte;

		if (!indirect_valid_sp(sp, gfn))
			continue;
		if (detect_write_misaligned(sp, gpa, bytes) || detect_write_flooding(sp)) {
			zap_page |= !!kvm_mmu_prepare_zap_page(kvm, sh, i);
			continue;
		}
		index = get_written_sptes(sp, gpa, &npte);
		if (index < 0)
			continue;
		local_flush = true;
		while (npte--) {
			sim_addr spte = sp_spt(i) + 2 * (unsigned)index;
			uint64_t entry = mmu_spte_read_locked(kvm, spte);

			mmu_page_zap_pte(kvm, sh, i, spte);
			if (gentry && !((sp->role.word ^ vm->base_role.word) & mask.word) &&
			    sp->role.level == PT_PAGE_TABLE_LEVEL)
				/* mmu_pte_write_new_pte -> FNAME(update_pte) */
				prefetch_gpte(kvm, sh, g, vm, i, spte, gentry);
			if (need_remote_flush(kvm, entry, mmu_spte_read_locked(kvm, spte)))
				remote_flush = true;
			++index;
		}
	}
	/* mmu_pte_write_flush_tlb */
	if (!zap_page) {
		if (remote_flush)
			kvm_flush_remote_tlbs(kvm, sh);
		else if (local_flush)
			kvm_mmu_flush_tlb(kvm, vm);
	}
	kvm_mmu_commit_zap_page(kvm, sh);
	sim_spin_unlock(kvm->sim, MMU_ADDR_LOCK);
}

void kvm_mmu_invlpg(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
		    struct kvm_vcpu_mmu *vm, uint64_t gva)
{
	struct shadow_walk it;
	int bytes = gpte_bytes(vm);

	if (vm->direct_map || vm->root_hpa == INVALID_PAGE) {
		kvm_mmu_flush_tlb(kvm, vm);
		return;
	}
	/* vcpu_clear_mmio_info(vcpu, gva) */
	if (vm->mmio_gva == (gva & ~4095ull))
		vm->mmio_gva = 0;
	sim_spin_lock(kvm->sim, MMU_ADDR_LOCK);
	/* Models: FNAME(invlpg)() */
	for (shadow_walk_init(&it, vm, gva); shadow_walk_okay(&it);) {
		uint32_t spi = page_header_of_sptep(it.sptep);
		struct kvm_mmu_page *sp = &sh->pages[spi];
		uint64_t spte = mmu_spte_read_locked(kvm, it.sptep);

		if (is_last_spte(spte, it.level)) {
			uint64_t pte_gpa, gpte;

			if (!sp->unsync)
				break;
			pte_gpa = get_level1_sp_gpa(vm, sp) + (uint64_t)sptep_index(it.sptep) * bytes;
			if (mmu_page_zap_pte(kvm, sh, spi, it.sptep))
				kvm_flush_remote_tlbs(kvm, sh);
			gpte = guest_read_gpte(kvm, g, pte_gpa, bytes);
			prefetch_gpte(kvm, sh, g, vm, spi, it.sptep, gpte);   /* FNAME(update_pte) */
			spte = mmu_spte_read_locked(kvm, it.sptep);
		}
		if (!is_shadow_present_pte(kvm, spte) || !sp->unsync_children)
			break;
		shadow_walk_next(&it, spte);
	}
	sim_spin_unlock(kvm->sim, MMU_ADDR_LOCK);
	kvm_mmu_flush_tlb(kvm, vm);   /* kvm_mmu_invlpg */
}

/* ---- MMU notifiers (kvm_main.c handlers, mmu.c rmap callbacks) ---- */

/* kvm_handle_hva: the rmap heads of gfn at every level. */
static unsigned long *rmap_of(struct kvm_shadow *sh, uint64_t gfn, int level)
{
	return gfn_to_rmap(sh, gfn, level, false);
}

void kvm_mmu_notifier_invalidate_range_start(struct kvm *kvm, struct kvm_shadow *sh,
					     struct kvm_guest *g, uint64_t gfn)
{
	struct sim *s = kvm->sim;
	bool need_tlb_flush;

	sim_spin_lock(s, MMU_ADDR_LOCK);
	/*
	 * The count of active invalidates stops every page fault from
	 * installing an spte of the range until invalidate_range_end.
	 */
	sim_store32(s, MMU_ADDR_NOTIFIER_COUNT, sim_load32(s, MMU_ADDR_NOTIFIER_COUNT) + 1);
	need_tlb_flush = kvm_unmap_gfn_locked_noflush(kvm, sh, g, gfn);
	/* We've to flush the tlb before the pages can be freed. */
	if (need_tlb_flush || sim_load32(s, MMU_ADDR_TLBS_DIRTY))
		kvm_flush_remote_tlbs(kvm, sh);
	sim_spin_unlock(s, MMU_ADDR_LOCK);
}

void kvm_mmu_notifier_invalidate_range_end(struct kvm *kvm, struct kvm_shadow *sh)
{
	struct sim *s = kvm->sim;

	(void)sh;
	sim_spin_lock(s, MMU_ADDR_LOCK);
	/*
	 * This sequence increase will notify the kvm page fault that the
	 * page that is going to be mapped in the spte could have been freed.
	 */
	sim_store32(s, MMU_ADDR_NOTIFIER_SEQ, sim_load32(s, MMU_ADDR_NOTIFIER_SEQ) + 1);
	sim_smp_wmb(s);
	/* The above sequence increase must be visible before the count decrease. */
	sim_store32(s, MMU_ADDR_NOTIFIER_COUNT, sim_load32(s, MMU_ADDR_NOTIFIER_COUNT) - 1);
	sim_spin_unlock(s, MMU_ADDR_LOCK);
}

/*
 * Models: mmu.c: kvm_set_pte_rmapp() over the rmap of gfn at every level,
 * called by kvm_mmu_notifier_change_pte() after it bumped mmu_notifier_seq;
 * one flush after the whole rmap.
 */
void kvm_mmu_notifier_change_pte(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
				 uint64_t gfn, uint64_t new_pfn, bool writable)
{
	struct sim *s = kvm->sim;
	bool need_flush = false;

	(void)g;
	sim_spin_lock(s, MMU_ADDR_LOCK);
	sim_store32(s, MMU_ADDR_NOTIFIER_SEQ, sim_load32(s, MMU_ADDR_NOTIFIER_SEQ) + 1);
	for (int level = PT_PAGE_TABLE_LEVEL; level < PT_PAGE_TABLE_LEVEL + KVM_NR_PAGE_SIZES;
	     level++) {
		unsigned long *rmapp = rmap_of(sh, gfn, level);
		uint32_t n = 0;
		sim_addr sptep;

		while (rmapp && (sptep = pte_list_nth(sh, *rmapp, n))) {
			need_flush = true;
			if (writable || level > PT_PAGE_TABLE_LEVEL) {
				/*
				 * drop_spte; a large spte is dropped too (the host
				 * split its huge page before remapping one 4K page).
				 */
				drop_spte(kvm, sh, sptep);
				continue;   /* rmap_get_first again */
			}
			kvm_set_pte_rmapp_one(kvm, sptep, new_pfn, false);
			n++;
		}
	}
	if (need_flush)
		kvm_flush_remote_tlbs(kvm, sh);
	sim_spin_unlock(s, MMU_ADDR_LOCK);
}

/*
 * kvm_handle_hva with kvm_age_rmapp (clear: clear A with clear_bit) or
 * kvm_test_age_rmapp (reads only), at every level, under mmu_lock.
 */
static bool age_gfn_locked(struct kvm *kvm, struct kvm_shadow *sh, uint64_t gfn, bool clear)
{
	bool young = false;

	for (int level = PT_PAGE_TABLE_LEVEL; level < PT_PAGE_TABLE_LEVEL + KVM_NR_PAGE_SIZES;
	     level++) {
		unsigned long *rmapp = rmap_of(sh, gfn, level);
		sim_addr sptep;

		for (uint32_t n = 0; rmapp && (sptep = pte_list_nth(sh, *rmapp, n)); n++)
			young |= clear ? kvm_age_rmapp_one(kvm, sptep)
				       : !!(mmu_spte_read_locked(kvm, sptep) & PT_ACCESSED_MASK);
	}
	return young;
}

/* Models: kvm_mmu_notifier_clear_flush_young() -> kvm_age_rmapp(), flush if young. */
bool kvm_mmu_notifier_clear_flush_young(struct kvm *kvm, struct kvm_shadow *sh,
					struct kvm_guest *g, uint64_t gfn)
{
	bool young;

	(void)g;
	sim_spin_lock(kvm->sim, MMU_ADDR_LOCK);
	young = age_gfn_locked(kvm, sh, gfn, true);
	if (young)
		kvm_flush_remote_tlbs(kvm, sh);
	sim_spin_unlock(kvm->sim, MMU_ADDR_LOCK);
	return young;
}

/* Models: kvm_mmu_notifier_test_young() -> kvm_test_age_rmapp(). */
bool kvm_mmu_notifier_test_young(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
				 uint64_t gfn)
{
	bool young;

	(void)g;
	sim_spin_lock(kvm->sim, MMU_ADDR_LOCK);
	young = age_gfn_locked(kvm, sh, gfn, false);
	sim_spin_unlock(kvm->sim, MMU_ADDR_LOCK);
	return young;
}

/* ---- dirty logging ---- */

/*
 * Models: mmu.c: kvm_mmu_slot_remove_write_access(), called by
 * kvm_arch_commit_memory_region() for KVM_MEM_LOG_DIRTY_PAGES: write-protect every spte of
 * the slot at every level (large ones are dropped), one flush at the end.
 */
void kvm_mmu_slot_remove_write_access(struct kvm *kvm, struct kvm_shadow *sh,
				      struct kvm_guest *g)
{
	struct kvm_memory_slot *slot = &g->slots[0];
	bool flush = false;

	sim_spin_lock(kvm->sim, MMU_ADDR_LOCK);
	for (uint32_t i = 0; i < RMAP_SLOTS; i++) {
		struct kvm_rmap_entry *e = &sh->rmap[i];
		uint64_t gfn = e->key & ((1ull << 56) - 1);

		if (!e->key || !e->head || gfn < slot->base_gfn ||
		    gfn >= slot->base_gfn + slot->npages)
			continue;
		flush |= __rmap_write_protect(kvm, sh, &e->head, false);
	}
	(void)flush;
	kvm_flush_remote_tlbs(kvm, sh);
	sim_spin_unlock(kvm->sim, MMU_ADDR_LOCK);
}

/*
 * Models: x86.c: kvm_vm_ioctl_get_dirty_log(): per bitmap word, xchg it
 * with 0 and write-protect its gfns (kvm_mmu_write_protect_pt_masked, 4K
 * rmaps), all under mmu_lock, and flush before unlocking (6dbf79e7164e).
 */
void kvm_vm_ioctl_get_dirty_log(struct kvm *kvm, struct kvm_shadow *sh, struct kvm_guest *g,
				uint32_t *out)
{
	struct sim *s = kvm->sim;
	const struct kvm_memory_slot *slot = &g->slots[0];
	bool is_dirty = false;

	memset(out, 0, MMU_DIRTY_BITMAP_WORDS * sizeof(*out));
	if (!slot->dirty_log)
		return;
	sim_spin_lock(s, MMU_ADDR_LOCK);
	for (uint32_t i = 0; i < MMU_DIRTY_BITMAP_WORDS; i++) {
		uint32_t mask;

		if (!sim_mem_chunk_written(s, MMU_ADDR_DIRTY_BITMAP + i))
			break;   /* the bitmap was never written: all zero, no step needed */
		if (!sim_load32(s, MMU_ADDR_DIRTY_BITMAP + i))
			continue;
		is_dirty = true;
		mask = sim_xchg32(s, MMU_ADDR_DIRTY_BITMAP + i, 0);
		out[i] = mask;
		for (uint32_t b = 0; b < 32; b++) {
			unsigned long *rmapp;

			if (!(mask >> b & 1))
				continue;
			rmapp = rmap_of(sh, slot->base_gfn + i * 32 + b, PT_PAGE_TABLE_LEVEL);
			if (rmapp)
				__rmap_write_protect(kvm, sh, rmapp, false);
		}
	}
	if (is_dirty)
		kvm_flush_remote_tlbs(kvm, sh);
	sim_spin_unlock(s, MMU_ADDR_LOCK);
}

/* ---- fast zap of all pages (3.11) ---- */

/* Models: mmu.c: kvm_zap_obsolete_pages(), oldest first; no lock break in this small pool. */
static void kvm_zap_obsolete_pages(struct kvm *kvm, struct kvm_shadow *sh)
{
	for (;;) {
		int oldest = -1;

		for (uint32_t i = 0; i < MMU_SP_MAX; i++) {
			const struct kvm_mmu_page *sp = &sh->pages[i];

			if (!sp->allocated || sp->zapped || !is_obsolete_sp(sh, sp) ||
			    sp->role.invalid)
				continue;
			if (oldest < 0 || sp->link_seq < sh->pages[oldest].link_seq)
				oldest = (int)i;
		}
		if (oldest < 0)
			break;
		kvm_mmu_prepare_zap_page(kvm, sh, (uint32_t)oldest);
	}
	/* Lockless walkers may still be inside the zapped pages. */
	kvm_mmu_commit_zap_page(kvm, sh);
}

void kvm_mmu_invalidate_zap_all_pages(struct kvm *kvm, struct kvm_shadow *sh)
{
	sim_spin_lock(kvm->sim, MMU_ADDR_LOCK);
	sh->mmu_valid_gen++;
	/*
	 * Notify all vcpus to reload its shadow page table and flush TLB,
	 * under mmu_lock, or a vcpu could purge its root but miss the flush.
	 */
	kvm_reload_remote_mmus(kvm);
	kvm_zap_obsolete_pages(kvm, sh);
	sim_spin_unlock(kvm->sim, MMU_ADDR_LOCK);
}

/* ---- checks between operations (no steps) ---- */


