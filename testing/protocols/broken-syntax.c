// SPDX-License-Identifier: GPL-2.0-only
/* A protocol file with a compile error (//tools:protocol_errors_test). */
#include <spterace/kernel.h>

static void __set_spte(u64 *sptep, u64 spte)
{
	union split_spte *halves = (union split_spte *)sptep;

	halves->spte_high = spte >> 32
	halves->spte_low = (u32)spte;
}
