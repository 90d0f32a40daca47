/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mmu/plug.h: between the spte layer (spte.c) and the run-time of plugged
 * protocols (plug.c).  Not for other modules.
 *
 * spte.c brackets each call of a plugged function with plug_enter_*() and
 * plug_leave*(); in between, plug.c turns the protocol file's instrumented
 * loads and stores of the proxy sptes and counts into sim/ steps, and
 * reports the logical write to the observer from inside (its first store
 * to the spte begins it, the store that completes both halves ends it).
 */
#ifndef SPTERACE_MMU_PLUG_H
#define SPTERACE_MMU_PLUG_H

#include "mmu/mmu.h"

/*
 * A new run (mmu_init): forget the CPUs of the last one, which may have
 * ended inside a plugged function (a deadlock or the step limit).
 */
void plug_reset(void);

/* The proxy of spte sptep, as the protocol file's u64 *sptep. */
uint64_t *plug_sptep(sim_addr sptep);

/*
 * A logical write of spte to sptep: __set_spte, or (counts) an update or
 * clear, whose count_spte_clear follows the write.
 */
void plug_enter_write(struct kvm *kvm, sim_addr sptep, uint64_t spte, bool counts);
/* A lockless read of sptep. */
void plug_enter_read(struct kvm *kvm, sim_addr sptep);
/* Anything else (a plugged count_spte_clear alone). */
void plug_enter_other(struct kvm *kvm, sim_addr sptep);
/*
 * The plugged function returned: its last store is issued, and the write
 * was reported (begin and end) if it had not been.  For a read, returns the
 * step its last try began (the window's start).
 */
uint64_t plug_leave(struct kvm *kvm);

/* spte.c's reporting, for plug.c. */
void mmu_report_write_begin(struct kvm *kvm, sim_addr sptep, uint64_t v);
void mmu_report_write_end(struct kvm *kvm, sim_addr sptep);
void mmu_note_fn(struct kvm *kvm, enum mmu_fn f, sim_addr sptep);
/*
 * The lockless reader's interleaving feedback for one try: the writer tags
 * of the count, low and high loads and of the last re-check; cause 1 the
 * low half changed, 2 the count changed.
 */
void mmu_reader_try_feedback(struct kvm *kvm, bool retried, uint16_t count_tag, uint16_t low_tag,
			     uint16_t high_tag, uint16_t check_tag, uint32_t cause);

#endif
