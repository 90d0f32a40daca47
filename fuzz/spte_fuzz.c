/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Property: for any program of 2-4 CPUs setting, updating, clearing,
 * rewriting (clear then set, no flush) and aging a few sptes of two shadow
 * pages under mmu_lock, while others read them locklessly, fix them with
 * fast page fault's cmpxchg64 and snapshot them as the hardware walker
 * does, every read and snapshot passes the oracle's verdict rule.
 */
#include "fuzz/harness.h"

FZ_HARNESS(FZ_TARGET_SPTE)
