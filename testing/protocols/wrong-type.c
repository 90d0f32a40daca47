// SPDX-License-Identifier: GPL-2.0-only
/* __get_spte_lockless returning void (//tools:protocol_errors_test). */
#include <spterace/kernel.h>

static void count_spte_clear(u64 *sptep, u64 spte)
{
}

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

static void __get_spte_lockless(u64 *sptep)
{
}
