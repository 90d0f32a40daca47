// SPDX-License-Identifier: GPL-2.0-only
/*
 * oracle/: the simple locked oracle (see oracle.h and README.md).
 *
 * Everything here is bounded and allocation-free: the state is one flat
 * struct that the caller owns.  Decisions depend only on the reported
 * values and steps, never on pointers, so a run stays a pure function of
 * its input.
 *
 * History layout.  sptes[id].entries[0 .. entries_count-1] holds the logical
 * values in commit order, oldest first; the last entry is the current value
 * (last == ORC_STEP_INF).  Because commits arrive in step order, `last` is
 * non-decreasing along the array, which lets a read find the oldest entry
 * that can intersect its window by scanning back from the end.  `first` is
 * not monotonic: a write that began early can commit after one that began
 * later (the cmpxchg64 writer committing inside a locked writer's window).
 */
#include "oracle/oracle.h"

#include <assert.h>
#include <string.h>

/* Hardware-defined bits this decoder needs (kvm-shadow-mmu.md §1). */
#define ORC_P_MASK (1ull << 0)
#define ORC_NX_MASK (1ull << 63)
#define ORC_PFN_SHIFT 12
#define ORC_PFN_BITS 40
#define ORC_PFN_MASK (((1ull << ORC_PFN_BITS) - 1) << ORC_PFN_SHIFT)

/*
 * How the pfn field splits across the two 32-bit halves of a PAE host:
 * pfn bits 0..19 sit in the low word, pfn bits 20.. in the high word.
 */
#define ORC_PFN_LOW_BITS 0x00000000fffff000ull
#define ORC_PFN_HIGH_BITS (ORC_PFN_MASK & ~ORC_PFN_LOW_BITS)

/* MMIO spte generation: 9 low bits at 3..11, 10 high bits at 52..61. */
#define ORC_MMIO_GEN_LOW_BITS (((1ull << 9) - 1) << 3)
#define ORC_MMIO_GEN_HIGH_BITS (((1ull << 10) - 1) << 52)

/*
 * Bits that are neither pfn nor NX: P/W/U/PWT/PCD/A/D/PS/G and the software
 * bits 9..11 in the low word, and the ignored/software bits 52..62 in the
 * high word.  A torn value that differs only there is still torn, so they
 * must map to some wrong_bits class.
 */
#define ORC_FLAG_BITS (0xfffull | (((1ull << 11) - 1) << 52))

static uint32_t lo32(uint64_t v)
{
	return (uint32_t)v;
}

static uint32_t hi32(uint64_t v)
{
	return (uint32_t)(v >> 32);
}

uint64_t orc_mmio_mask(const struct orc_config *c)
{
	uint64_t phys;

	/*
	 * Shadow paging / NPT form of kvm_set_mmio_spte_mask(): every
	 * physical-address bit the host CPU cannot have (MAXPHYADDR .. 51),
	 * plus 62, 63 and the present bit, so that the entry is present with
	 * reserved bits set and any access faults with PFERR_RSVD.
	 */
	phys = ((1ull << 52) - 1) & ~((1ull << c->phys_bits) - 1);
	return phys | (1ull << 62) | ORC_NX_MASK | ORC_P_MASK;
}

bool orc_spte_mmio(const struct orc_config *c, uint64_t v)
{
	uint64_t mask;

	if (!c->mmio_enabled)
		return false;
	mask = orc_mmio_mask(c);
	return (v & mask) == mask;
}

bool orc_spte_present(const struct orc_config *c, uint64_t v)
{
	return (v & ORC_P_MASK) && !orc_spte_mmio(c, v);
}

uint64_t orc_spte_pfn(uint64_t v)
{
	return (v >> ORC_PFN_SHIFT) & ((1ull << ORC_PFN_BITS) - 1);
}

static void spte_restart(struct orc_spte *s, uint64_t value, uint64_t step)
{
	memset(s->pending, 0, sizeof(s->pending));
	s->mirror = value;
	s->overflowed = false;
	s->entries_count = 1;
	s->entries[0].value = value;
	s->entries[0].first = step;
	s->entries[0].last = ORC_STEP_INF;
}

/* Sptes at or above o->live have not been touched since the last reset. */
static struct orc_spte *orc_get(struct orc_state *o, uint32_t id)
{
	assert(id < ORC_SPTES_MAX);
	while (o->live <= id)
		spte_restart(&o->sptes[o->live++], 0, 0);
	return &o->sptes[id];
}

void orc_spte_restart(struct orc_state *o, uint32_t id, uint64_t step)
{
	spte_restart(orc_get(o, id), 0, step);
}

void orc_reset(struct orc_state *o)
{
	uint32_t i;

	/*
	 * Tokens and stats restart too: a persistent-mode fuzzer resets
	 * between inputs, and a replay must see the very same state as the
	 * first run did.
	 */
	o->next_token = 0;
	memset(&o->stats, 0, sizeof(o->stats));
	/* Only sptes used since the last reset need it (orc_get restarts the rest). */
	for (i = 0; i < o->live; i++)
		spte_restart(&o->sptes[i], 0, 0);
	o->live = 0;
}

void orc_init(struct orc_state *o, const struct orc_config *config)
{
	/*
	 * phys_bits below 32 would put MMIO mask bits into the low word and
	 * make the pfn_high/pfn_low split meaningless; above 52 the mask has
	 * no reserved physical bits at all.
	 */
	assert(config->phys_bits >= 32 && config->phys_bits <= 52);
	memset(o, 0, sizeof(*o));
	o->config = *config;
	orc_reset(o);
}

void orc_spte_preset(struct orc_state *o, uint32_t id, uint64_t value)
{
	struct orc_spte *s = orc_get(o, id);
	uint32_t i;

	/* A preset describes memory before any CPU runs: nothing may be logged yet. */
	assert(s->entries_count == 1 && !s->overflowed);
	for (i = 0; i < ORC_PENDING_MAX; i++)
		assert(!s->pending[i].used);

	s->entries[0].value = value;
	s->entries[0].first = 0;
	s->entries[0].last = ORC_STEP_INF;
	s->mirror = value;
}

uint32_t orc_write_begin(struct orc_state *o, uint32_t id, uint64_t value, uint64_t step)
{
	struct orc_spte *s = orc_get(o, id);
	struct orc_pending *p = NULL;
	uint32_t i;

	for (i = 0; i < ORC_PENDING_MAX; i++) {
		if (!s->pending[i].used) {
			p = &s->pending[i];
			break;
		}
	}
	/*
	 * At most one mmu_lock holder plus the lockless cmpxchg64 writers can
	 * be mid-write on one spte; running out means a write was never
	 * committed.
	 */
	assert(p);

	/* Token 0 is never handed out, so a zeroed token is always invalid. */
	if (++o->next_token == 0)
		++o->next_token;
	p->value = value;
	p->begin = step;
	p->token = o->next_token;
	p->used = true;
	return p->token;
}

static void orc_append(struct orc_spte *s, uint64_t value, uint64_t first)
{
	if (s->entries_count == ORC_HISTORY_MAX) {
		/*
		 * Drop the oldest value.  A read whose window reaches back
		 * before the new oldest entry may now be misjudged, which is
		 * why `overflowed` is sticky and reported.  The move is rare
		 * (ORC_HISTORY_MAX writes to one spte in one run) and keeps
		 * entries[] a plain oldest-first array for every reader.
		 */
		memmove(&s->entries[0], &s->entries[1],
			(ORC_HISTORY_MAX - 1) * sizeof(s->entries[0]));
		s->entries_count--;
		s->overflowed = true;
	}
	s->entries[s->entries_count].value = value;
	s->entries[s->entries_count].first = first;
	s->entries[s->entries_count].last = ORC_STEP_INF;
	s->entries_count++;
}

/* Append p's value to the history as the current value, closing the previous one. */
static void orc_linearize(struct orc_spte *s, struct orc_pending *p, uint64_t step)
{
	struct orc_entry *cur;

	/*
	 * Commits must arrive in step order, or `last` would stop being
	 * monotonic and orc_judge_read's backward scan would stop early.
	 */
	assert(s->entries_count >= 1);
	if (s->entries_count >= 2)
		assert(s->entries[s->entries_count - 2].last <= step);
	cur = &s->entries[s->entries_count - 1];
	assert(cur->last == ORC_STEP_INF);
	cur->last = step;
	orc_append(s, p->value, p->begin);
	s->mirror = p->value;
	p->linearized = true;
}

void orc_write_commit(struct orc_state *o, uint32_t id, uint32_t token, uint64_t step)
{
	struct orc_spte *s = orc_get(o, id);
	struct orc_pending *p = NULL;
	uint32_t i;

	assert(token != 0);
	for (i = 0; i < ORC_PENDING_MAX; i++) {
		if (s->pending[i].used && s->pending[i].token == token) {
			p = &s->pending[i];
			break;
		}
	}
	assert(p);
	assert(step >= p->begin);

	/*
	 * Writes take effect in the order they began, not the order their
	 * last store became visible.  A lock holder's W3 begins with its xchg
	 * of the low half; a cmpxchg64 that succeeds after that xchg but
	 * before the W3's high half drains acted on the W3's value and
	 * replaces it.  So a committing write first places every earlier-begun
	 * write still in flight into the history.
	 */
	for (;;) {
		struct orc_pending *q = NULL;

		for (i = 0; i < ORC_PENDING_MAX; i++) {
			struct orc_pending *c = &s->pending[i];

			if (c != p && c->used && !c->linearized && c->begin < p->begin &&
			    (!q || c->begin < q->begin))
				q = c;
		}
		if (!q)
			break;
		orc_linearize(s, q, step);
	}
	if (!p->linearized) {
		orc_linearize(s, p, step);
	} else {
		/*
		 * p was placed early because a lockless cmpxchg64 landed inside
		 * its window.  Lock holders finish a write with the high half
		 * (W2 and W3 both store low first), and lockless writers only
		 * mean to change the low half, so what memory holds now is the
		 * current low half under p's high half: the cmpxchg64's stale
		 * copy of the high half has been overwritten.
		 */
		struct orc_pending landed = { .value = lo32(s->mirror) |
						       (p->value & ~0xffffffffull),
					      .begin = step };

		if (landed.value != s->mirror)
			orc_linearize(s, &landed, step);
	}
	memset(p, 0, sizeof(*p));
}

/* v is the low half of one of a, b and the high half of the other. */
static bool orc_is_halves_mix(uint64_t v, uint64_t a, uint64_t b)
{
	return (lo32(v) == lo32(a) && hi32(v) == hi32(b)) ||
	       (lo32(v) == lo32(b) && hi32(v) == hi32(a));
}

/*
 * Case 3 of the verdict: an in-place permission update (mmu_spte_update via
 * W2/W3) of a present spte keeps the pfn, so a reader that pairs one half of
 * the old value with the other half of the new value gets a value that never
 * existed but maps the same page.
 */
static bool orc_is_blend(const struct orc_config *c, uint64_t v, uint64_t a, uint64_t b)
{
	if (!orc_spte_present(c, a) || !orc_spte_present(c, b))
		return false;
	if (orc_spte_pfn(a) != orc_spte_pfn(b))
		return false;
	return orc_is_halves_mix(v, a, b);
}

static uint32_t orc_wrong_bits(const struct orc_config *c, uint64_t v, uint64_t ref)
{
	uint64_t diff = v ^ ref;
	uint64_t flags = ORC_FLAG_BITS;
	uint32_t wrong = 0;

	if (diff & ORC_PFN_HIGH_BITS)
		wrong |= ORC_WRONG_PFN_HIGH;
	if (diff & ORC_PFN_LOW_BITS)
		wrong |= ORC_WRONG_PFN_LOW;
	if (diff & ORC_NX_MASK)
		wrong |= ORC_WRONG_NX;

	if (orc_spte_mmio(c, v) || orc_spte_mmio(c, ref)) {
		/*
		 * In an MMIO spte the mask, the gfn (bits 12 .. phys_bits-1)
		 * and the generation all carry meaning; only W|U (bits 1..2)
		 * remain plain flags.  The pfn/NX classes above still say
		 * where the damage is by position.
		 */
		uint64_t gfn = ORC_PFN_MASK & ((1ull << c->phys_bits) - 1);
		uint64_t mmio = orc_mmio_mask(c) | gfn | ORC_MMIO_GEN_LOW_BITS |
				ORC_MMIO_GEN_HIGH_BITS;

		if (diff & mmio)
			wrong |= ORC_WRONG_MMIO;
		flags &= ~mmio;
	}
	if (diff & flags)
		wrong |= ORC_WRONG_FLAGS;
	return wrong;
}

static void orc_allow(struct orc_verdict *out, uint64_t v, uint32_t epoch)
{
	uint32_t i;

	for (i = 0; i < out->allowed_count; i++)
		if (out->allowed[i] == v) {
			out->allowed_epochs[i] |= 1u << epoch;
			return;
		}
	if (out->allowed_count < ORC_ALLOWED_MAX) {
		out->allowed_epochs[out->allowed_count] = 1u << epoch;
		out->allowed[out->allowed_count++] = v;
	}
}

static bool orc_entry_in_window(const struct orc_entry *e, uint64_t start, uint64_t end)
{
	return e->first <= end && e->last >= start;
}

static bool orc_pending_in_window(const struct orc_pending *p, uint64_t end)
{
	/* A write in flight may already be partly visible from its first store on. */
	return p->used && p->begin <= end;
}

static unsigned orc_distance(uint64_t a, uint64_t b)
{
	return (unsigned)__builtin_popcountll(a ^ b);
}

void orc_judge_read(struct orc_state *o, uint32_t id, uint64_t start, uint64_t end,
		    uint64_t value, bool snapshot, struct orc_verdict *out)
{
	const struct orc_config *c = &o->config;
	struct orc_spte *s = orc_get(o, id);
	const struct orc_entry *cur;
	bool in_l = false, blend = false, have_closest = false, seen_present = false;
	uint32_t epoch = 0;
	uint64_t closest = 0;
	unsigned closest_dist = 0;
	uint32_t lo, i;

	/* A snapshot is one load: start == end, except that on relaxed memory it
	 * starts where the stale value it saw was written (sim_last_load_since). */
	assert(start <= end);
	assert(s->entries_count >= 1);

	memset(out, 0, sizeof(*out));
	out->value = value;
	out->start = start;
	out->end = end;

	/*
	 * Entries before `lo` were replaced before the window started.  The
	 * scan relies on `last` being non-decreasing (see the file comment).
	 */
	lo = s->entries_count - 1;
	while (lo > 0 && s->entries[lo - 1].last >= start)
		lo--;

	/*
	 * One pass builds L (in history order, then the pending writes),
	 * checks membership, looks for a blend among adjacent pairs and finds
	 * the member closest to the value for the torn report.
	 */
	for (i = lo; i < s->entries_count + ORC_PENDING_MAX; i++) {
		uint64_t m;
		unsigned d;

		if (i < s->entries_count) {
			const struct orc_entry *e = &s->entries[i];

			if (!orc_entry_in_window(e, start, end))
				continue;
			m = e->value;
			if (i + 1 < s->entries_count &&
			    orc_entry_in_window(&s->entries[i + 1], start, end) &&
			    orc_is_blend(c, value, m, s->entries[i + 1].value))
				blend = true;
		} else {
			const struct orc_pending *p = &s->pending[i - s->entries_count];

			if (!orc_pending_in_window(p, end))
				continue;
			/*
			 * A write placed early in the history (a cmpxchg64 landed
			 * inside it) still has its high half in flight: what it
			 * will leave is the current low half under its high half
			 * (see orc_write_commit), and its own CPU may read that
			 * from its store buffer already.
			 */
			m = p->linearized ? lo32(s->mirror) | (p->value & ~0xffffffffull) : p->value;
			/* A write in flight blends with the value it replaces. */
			cur = &s->entries[s->entries_count - 1];
			if (orc_entry_in_window(cur, start, end) &&
			    orc_is_blend(c, value, cur->value, m))
				blend = true;
		}

		if (orc_spte_present(c, m)) {
			seen_present = true;
		} else if (seen_present) {
			seen_present = false;   /* a clear: the next epoch */
			if (epoch < 31)
				epoch++;
		}
		orc_allow(out, m, epoch);
		if (m == value)
			in_l = true;
		/*
		 * The reference for "which bits are wrong" is the closest member
		 * of the same kind (present or not): a torn present value is
		 * best explained against the present values it was built from.
		 */
		d = orc_distance(value, m) +
		    (orc_spte_present(c, m) != orc_spte_present(c, value) ? 64 : 0);
		if (!have_closest || d < closest_dist) {
			have_closest = true;
			closest = m;
			closest_dist = d;
		}
	}

	if (in_l) {
		out->kind = ORC_CORRECT;
	} else if (!orc_spte_present(c, value) && !orc_spte_mmio(c, value)) {
		out->kind = ORC_BENIGN_NONPRESENT;
	} else if (blend && orc_spte_present(c, value)) {
		out->kind = ORC_BENIGN_BLEND;
	} else {
		out->kind = ORC_TORN;
		/*
		 * L is empty only if the history overflowed past the window;
		 * then the mirror is the best reference left.
		 */
		out->wrong_bits = orc_wrong_bits(c, value, have_closest ? closest : s->mirror);
	}
	out->divergence = out->kind == ORC_TORN ||
			  (out->kind == ORC_BENIGN_BLEND && c->strict);

	if (snapshot)
		o->stats.snapshots++;
	else
		o->stats.reads++;
	switch (out->kind) {
	case ORC_CORRECT:
		o->stats.correct++;
		break;
	case ORC_BENIGN_NONPRESENT:
		o->stats.nonpresent++;
		break;
	case ORC_BENIGN_BLEND:
		o->stats.blends++;
		break;
	case ORC_TORN:
		o->stats.torn++;
		break;
	}
}

const char *orc_kind_name(enum orc_kind k)
{
	switch (k) {
	case ORC_CORRECT:
		return "correct";
	case ORC_BENIGN_NONPRESENT:
		return "benign-nonpresent";
	case ORC_BENIGN_BLEND:
		return "benign-blend";
	case ORC_TORN:
		return "torn";
	}
	return "unknown";
}
