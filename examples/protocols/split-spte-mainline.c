// SPDX-License-Identifier: GPL-2.0-only
/*
 * The same faithful split-spte protocol as split-spte-3.11.c, written
 * against the mainline layout: sptep_to_sp(), READ_ONCE()/WRITE_ONCE() for
 * the low half that the hardware walker and lockless readers race with,
 * and both host widths in one file (CONFIG_X86_64 is not defined under
 * spterace, so the 32-bit variant is the one compiled).  Written for
 * spterace from docs/kvm-shadow-mmu.md.
 */
#include <linux/kvm_host.h>

#ifdef CONFIG_X86_64
static void __set_spte(u64 *sptep, u64 spte)
{
	WRITE_ONCE(*sptep, spte);
}

static void __update_clear_spte_fast(u64 *sptep, u64 spte)
{
	WRITE_ONCE(*sptep, spte);
}

static u64 __update_clear_spte_slow(u64 *sptep, u64 spte)
{
	return xchg(sptep, spte);
}

static u64 __get_spte_lockless(u64 *sptep)
{
	return READ_ONCE(*sptep);
}
#else

static void count_spte_clear(u64 *sptep, u64 spte)
{
	struct kvm_mmu_page *sp = sptep_to_sp(sptep);

	if (is_shadow_present_pte(spte))
		return;

	/* Both halves of the clear before the count moves. */
	smp_wmb();
	sp->clear_spte_count++;
}

static void __set_spte(u64 *sptep, u64 spte)
{
	union split_spte *halves, want;

	halves = (union split_spte *)sptep;
	want = (union split_spte)spte;

	halves->spte_high = want.spte_high;

	/* The present bit is in the low half: publish it last. */
	smp_wmb();

	WRITE_ONCE(halves->spte_low, want.spte_low);
}

static void __update_clear_spte_fast(u64 *sptep, u64 spte)
{
	union split_spte *halves, want;

	halves = (union split_spte *)sptep;
	want = (union split_spte)spte;

	WRITE_ONCE(halves->spte_low, want.spte_low);

	/* Present -> not present: take the present bit away first. */
	smp_wmb();

	halves->spte_high = want.spte_high;
	count_spte_clear(sptep, spte);
}

static u64 __update_clear_spte_slow(u64 *sptep, u64 spte)
{
	union split_spte *halves, want, old;

	halves = (union split_spte *)sptep;
	want = (union split_spte)spte;

	/* The locked exchange also orders the high half after it. */
	old.spte_low = xchg(&halves->spte_low, want.spte_low);
	old.spte_high = halves->spte_high;
	halves->spte_high = want.spte_high;
	count_spte_clear(sptep, spte);

	return old.spte;
}

static u64 __get_spte_lockless(u64 *sptep)
{
	struct kvm_mmu_page *sp = sptep_to_sp(sptep);
	union split_spte seen, *cur = (union split_spte *)sptep;
	int count;

retry:
	count = READ_ONCE(sp->clear_spte_count);
	smp_rmb();

	seen.spte_low = READ_ONCE(cur->spte_low);
	smp_rmb();

	seen.spte_high = READ_ONCE(cur->spte_high);
	smp_rmb();

	if (unlikely(seen.spte_low != READ_ONCE(cur->spte_low) ||
		     count != READ_ONCE(sp->clear_spte_count)))
		goto retry;

	return seen.spte;
}
#endif
