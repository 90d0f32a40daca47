/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * oracle/: the simple locked oracle.
 *
 * For every spte the oracle keeps a 64-bit mirror and the history of the
 * logical values it held.  Writers of the real spte hold mmu_lock, so their
 * writes form a total order; the one lockless writer (fast page fault's
 * cmpxchg64) is atomic and joins the same order.  Each logical write is
 * reported twice: when its first store executes (begin) and when its last
 * store has become visible to the other CPUs (commit).  A value is "held"
 * from the begin step of the write that produced it to the commit step of
 * the write that replaced it, so during a write window both the old and the
 * new value are held.
 *
 * Read verdict (DESIGN.md).  A lockless read that started at step s and
 * returned v at step e is judged against L, the values held at any step of
 * [s, e]:
 *   1. v in L                                   -> ORC_CORRECT
 *   2. v not present (P clear, not MMIO)        -> ORC_BENIGN_NONPRESENT
 *   3. v present, not in L, but the low half of one member of L and the
 *      high half of an adjacent member, both with the same pfn
 *                                               -> ORC_BENIGN_BLEND
 *                                                  (a divergence if strict)
 *   4. anything else                            -> ORC_TORN (a divergence)
 * A hardware-walker snapshot is a read with s == e (on relaxed memory, s is
 * the step that wrote the stale value the CPU still saw, if it saw one).
 *
 * The oracle has its own spte decoder: it shares no code with mmu/, so a bug
 * in the model's bit definitions cannot hide itself.
 */
#ifndef SPTERACE_ORACLE_ORACLE_H
#define SPTERACE_ORACLE_ORACLE_H

#include <stdbool.h>
#include <stdint.h>

#define ORC_SPTES_MAX 512     /* sptes tracked per run */
#define ORC_HISTORY_MAX 256   /* logical values kept per spte */
#define ORC_PENDING_MAX 4     /* writes in flight per spte (lock holder + cmpxchg64) */
#define ORC_ALLOWED_MAX 16    /* members of L reported with a verdict */
#define ORC_STEP_INF UINT64_MAX

enum orc_kind {
	ORC_CORRECT = 0,
	ORC_BENIGN_NONPRESENT,
	ORC_BENIGN_BLEND,
	ORC_TORN,
};

/* Which bits of a torn value are wrong, relative to the closest legal value. */
enum orc_wrong_bits {
	ORC_WRONG_PFN_HIGH = 1u << 0, /* pfn bits >= 2^20: physical address >= 4 GiB */
	ORC_WRONG_PFN_LOW = 1u << 1,  /* pfn bits < 2^20 */
	ORC_WRONG_NX = 1u << 2,
	ORC_WRONG_MMIO = 1u << 3,     /* MMIO mask, gfn or generation bits */
	ORC_WRONG_FLAGS = 1u << 4,    /* P/W/U/A/D/software bits */
};

struct orc_config {
	uint32_t phys_bits;     /* host MAXPHYADDR; defines the MMIO mask */
	bool mmio_enabled;      /* MMIO sptes have P set and reserved high bits */
	bool strict;            /* ORC_BENIGN_BLEND counts as a divergence */
};

struct orc_verdict {
	enum orc_kind kind;
	bool divergence;        /* kind == ORC_TORN, or a blend under strict */
	uint64_t value;         /* what the reader returned */
	uint64_t start, end;    /* the read window */
	uint32_t wrong_bits;    /* enum orc_wrong_bits, for ORC_TORN */
	uint32_t allowed_count; /* members of L (capped at ORC_ALLOWED_MAX) */
	uint64_t allowed[ORC_ALLOWED_MAX];
	/*
	 * Clears split the window's history into epochs: a present value
	 * followed by a non-present one starts the next.  Bit k of
	 * allowed_epochs[i] says allowed[i] was held in epoch k (capped at
	 * 31): L lists each value once, so it cannot tell by itself whether
	 * two of its members were separated by a clear.
	 */
	uint32_t allowed_epochs[ORC_ALLOWED_MAX];
};

struct orc_entry {
	uint64_t value;
	uint64_t first;         /* begin step of the write that produced it */
	uint64_t last;          /* commit step of the write that replaced it */
};

struct orc_pending {
	uint64_t value;
	uint64_t begin;
	uint32_t token;         /* matches begin with commit */
	bool used;
	bool linearized;        /* already in the history (a later-begun write committed) */
};

struct orc_spte {
	uint64_t mirror;        /* the current (last committed) logical value */
	uint32_t entries_count;
	bool overflowed;        /* history exceeded ORC_HISTORY_MAX; oldest dropped */
	struct orc_entry entries[ORC_HISTORY_MAX];
	struct orc_pending pending[ORC_PENDING_MAX];
};

struct orc_stats {
	uint64_t reads, snapshots;
	uint64_t correct, nonpresent, blends, torn;
};

struct orc_state {
	struct orc_config config;
	uint32_t next_token;
	struct orc_stats stats;
	uint32_t live;          /* sptes [0, live) have been used since the last reset */
	struct orc_spte sptes[ORC_SPTES_MAX];
};

/* Decoder (independent of mmu/). */
bool orc_spte_present(const struct orc_config *c, uint64_t v); /* P set and not MMIO */
bool orc_spte_mmio(const struct orc_config *c, uint64_t v);
uint64_t orc_spte_pfn(uint64_t v);
/* The MMIO mask for config c (shadow paging / NPT form), also when !mmio_enabled. */
uint64_t orc_mmio_mask(const struct orc_config *c);

void orc_init(struct orc_state *o, const struct orc_config *config);
/*
 * Forget all history; every spte starts at initial value 0 at step 0.  Pending
 * writes, tokens and stats are cleared too, so each run starts identically.
 */
void orc_reset(struct orc_state *o);
/*
 * Spte id starts a new life: value 0 from step on, earlier history
 * forgotten (its shadow page was freed and allocated again, zeroed).
 */
void orc_spte_restart(struct orc_state *o, uint32_t id, uint64_t step);
/* Set spte id's value at step 0 (before any CPU runs). */
void orc_spte_preset(struct orc_state *o, uint32_t id, uint64_t value);

/* A logical write of value to spte id whose first store executed at step. */
uint32_t orc_write_begin(struct orc_state *o, uint32_t id, uint64_t value, uint64_t step);
/* The write identified by token is fully visible at step. */
void orc_write_commit(struct orc_state *o, uint32_t id, uint32_t token, uint64_t step);

/* Judge a lockless read or a hardware snapshot (start <= end). */
void orc_judge_read(struct orc_state *o, uint32_t id, uint64_t start, uint64_t end,
		    uint64_t value, bool snapshot, struct orc_verdict *out);

const char *orc_kind_name(enum orc_kind k);

#endif
