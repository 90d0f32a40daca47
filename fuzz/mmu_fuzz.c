/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Property: for any program of 2 to 4 vCPUs (guest accesses through their
 * TLBs, guest page-table writes, invlpg, mov cr3, paging-mode changes) and
 * one or two host threads (MMU-notifier remaps, change_pte, aging, dirty
 * logging, zap-all, memslot changes) on the full shadow MMU, under any
 * interleaving and on x86-TSO or SC memory: every lockless spte read and
 * hardware-walk load is one the oracle allows, no walk reads a freed
 * shadow page, every access and shadow translation is allowed by the
 * reference translation of the guest's own tables and uses a frame the
 * host still gives it, no written page is missing from the dirty log or
 * unknown to the host, and the invariants of oracle/README.md hold after
 * every operation.
 */
#include "fuzz/harness.h"

FZ_HARNESS(FZ_TARGET_MMU)
