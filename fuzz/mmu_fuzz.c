/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Property: for any sequence of guest accesses, guest page-table writes,
 * invlpg, mov cr3 and paging-mode changes run by one vCPU on the full
 * shadow MMU, every shadow translation the guest may rely on is allowed by
 * the reference translation of its own page tables, every #PF the MMU
 * injects is one the architecture would raise, and the structural
 * invariants of mmu/ hold after every operation.
 */
#include "fuzz/harness.h"

FZ_HARNESS(FZ_TARGET_MMU)
