/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The structural invariants of the shadow MMU (R1-R5, mmu/README.md),
 * checked between operations by reading memory privately (no steps).
 *
 * This file is built without coverage instrumentation under libFuzzer: its
 * loops run over every shadow page after every operation, and their
 * branches say nothing about what the model did.
 */
#include "mmu/shadow.h"

#include <stdio.h>

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
	uint32_t parents_seen[MMU_SP_MAX] = { 0 };
	uint32_t words[MMU_SP_WORDS];
	sim_addr base;

	(void)g;
	for (uint32_t i = 0; i < MMU_SP_MAX; i++) {
		const struct kvm_mmu_page *sp = &sh->pages[i];

		/*
		 * Free pages hold no present sptes (unlink_children cleared
		 * them before the free), so only allocated pages are walked;
		 * R4 is checked through the pointers that reach a page.
		 */
		if (!sp->allocated)
			continue;
		if (!sp->zapped)
			used++;
		base = sp_spt(i);
		sim_mem_peek_range(s, base, MMU_SP_WORDS, words);
		for (unsigned e = 0; e < 512; e++) {
			sim_addr sptep = base + 2 * e;
			uint64_t spte;
			uint32_t child;

			/* A chunk never written since the run began holds no spte. */
			if (e % (SIM_CHUNK_WORDS / 2) == 0 && !sim_mem_chunk_written(s, sptep)) {
				e += SIM_CHUNK_WORDS / 2 - 1;
				continue;
			}
			spte = words[2 * e] | (uint64_t)words[2 * e + 1] << 32;

			if (!spte)
				continue;
			if (!is_shadow_present_pte(kvm, spte))
				continue;
			if (is_last_spte(spte, sp->role.level)) {
				uint64_t gfn = kvm_mmu_page_gfn(sh, i, e);
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
			parents_seen[child]++;
		}
	}
	/* Every parent_ptes entry is one of the pointers counted above. */
	for (uint32_t i = 0; i < MMU_SP_MAX; i++) {
		const struct kvm_mmu_page *sp = &sh->pages[i];
		uint32_t n;

		if (!sp->allocated || sp->zapped)
			continue;
		n = pte_list_count(sh, sp->parent_ptes);
		if (n != parents_seen[i])
			FAIL(2, "page %u has %u parent_ptes but %u sptes point at it", i, n,
			     parents_seen[i]);
	}
	for (uint32_t r = 0; r < RMAP_SLOTS; r++)
		if (sh->rmap[r].key)
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

/*
 * The shadow translation of gpa as the hardware walk would find it:
 * atomic 64-bit reads of each level from the vCPU's root, privately.
 */
uint64_t shadow_translate_peek(const struct sim *s, const struct kvm *kvm,
			       const struct kvm_vcpu_mmu *vm, uint64_t gpa, int *out_level)
{
	uint64_t table = vm->root_hpa, spte;
	int level = vm->shadow_root_level;
	uint32_t spi;

	if (table == INVALID_PAGE)
		return 0;
	if (level == PT64_ROOT_LEVEL && vm->ctx.root_level < PT64_ROOT_LEVEL && !vm->direct_map)
		level--;
	if (level == PT32E_ROOT_LEVEL) {
		table = vm->pae_root[(gpa >> 30) & 3] & PT64_BASE_ADDR_MASK;
		level--;
		if (!table)
			return 0;
	}
	for (; level >= PT_PAGE_TABLE_LEVEL; level--) {
		if (!page_header_of_hpa(table, &spi))
			return 0;
		spte = sim_mem_peek64(s, sp_spt(spi) + 2 * (unsigned)((gpa >> (12 + 9 * (level - 1))) & 511));
		if (!is_shadow_present_pte(kvm, spte))
			return 0;
		*out_level = level;
		if (is_last_spte(spte, level))
			return spte;
		table = spte & PT64_BASE_ADDR_MASK;
	}
	return 0;
}
