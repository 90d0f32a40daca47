// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mutant set-spte-low-first: __set_spte publishes the low half first.
 *
 * The built-in mutant of the same name.  Between the two stores the spte
 * is present with the old high half: a hardware walk or a lockless reader
 * takes a frame nobody mapped, or drops NX.  W1 does not move the count,
 * so the reader's re-checks cannot see it.
 *
 * Everything else is examples/protocols/split-spte-3.11.c.  The changed
 * lines are marked MUTANT.
 */
#include <spterace/kernel.h>

/*
 * After a write of a non-present value, move the page's clear count, so a
 * lockless reader that paired halves from both sides of a present -> 0 ->
 * present sequence (with equal low halves) notices and tries again.  The
 * wmb keeps both halves of the clear ahead of the increment.
 */
static void count_spte_clear(u64 *sptep, u64 spte)
{
	struct kvm_mmu_page *sp = page_header(__pa(sptep));

	if (is_shadow_present_pte(spte))
		return;

	smp_wmb();
	sp->clear_spte_count++;
}

/*
 * The spte is not present: publish the high half first, so whoever sees
 * the new low half (and its present bit) also sees the new high half.
 */
static void __set_spte(u64 *sptep, u64 spte)
{
	union split_spte *halves, want;

	halves = (union split_spte *)sptep;
	want = (union split_spte)spte;

	halves->spte_low = want.spte_low;	/* MUTANT: low half first */
	smp_wmb();
	halves->spte_high = want.spte_high;
}

/*
 * Nobody else can change the old value: clear the present bit (low half)
 * before touching the high half, so no one pairs the old low half with the
 * new high half without seeing the low half change.
 */
static void __update_clear_spte_fast(u64 *sptep, u64 spte)
{
	union split_spte *halves, want;

	halves = (union split_spte *)sptep;
	want = (union split_spte)spte;

	halves->spte_low = want.spte_low;
	smp_wmb();
	halves->spte_high = want.spte_high;
	count_spte_clear(sptep, spte);
}

/*
 * The old value may change under us (fast page fault sets W, the CPU sets
 * A and D, all in the low half): xchg returns exactly what was there and
 * orders the high half after it.  Only lock holders write the high half.
 */
static u64 __update_clear_spte_slow(u64 *sptep, u64 spte)
{
	union split_spte *halves, want, old;

	halves = (union split_spte *)sptep;
	want = (union split_spte)spte;

	old.spte_low = xchg(&halves->spte_low, want.spte_low);
	old.spte_high = halves->spte_high;
	halves->spte_high = want.spte_high;
	count_spte_clear(sptep, spte);

	return old.spte;
}

/*
 * Read both halves without mmu_lock.  The first rmb pairs with
 * count_spte_clear's wmb, the second with __set_spte's, the third keeps
 * the re-checks after the half reads.  A changed low half or a moved count
 * means a writer ran in between: try again.
 */
static u64 __get_spte_lockless(u64 *sptep)
{
	struct kvm_mmu_page *sp = page_header(__pa(sptep));
	union split_spte seen, *cur = (union split_spte *)sptep;
	int count;

retry:
	count = sp->clear_spte_count;
	smp_rmb();

	seen.spte_low = cur->spte_low;
	smp_rmb();

	seen.spte_high = cur->spte_high;
	smp_rmb();

	if (unlikely(seen.spte_low != cur->spte_low ||
		     count != sp->clear_spte_count))
		goto retry;

	return seen.spte;
}
