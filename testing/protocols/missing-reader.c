// SPDX-License-Identifier: GPL-2.0-only
/*
 * A protocol file without __get_spte_lockless and count_spte_clear
 * (//tools:protocol_errors_test).
 */
#include <spterace/kernel.h>

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
