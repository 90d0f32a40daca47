// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for oracle/: the spte decoder, the value history and the
 * four-case read verdict.  Each test hand-builds a history through the
 * public write_begin/write_commit interface, the way mmu/ reports it, and
 * judges reads against it.  Values follow kvm-shadow-mmu.md §1; scenarios
 * follow §3.2/§3.3.
 */
#include "oracle/oracle.h"

#include <string.h>

#include "testing/check.h"

#define P (1ull << 0)
#define W (1ull << 1)
#define U (1ull << 2)
#define A_BIT (1ull << 5)
#define D_BIT (1ull << 6)
#define HOST_W (1ull << 10)
#define MMU_W (1ull << 11)
#define NX (1ull << 63)

#define PHYS_BITS 36

/* One state per test: orc_state is large, so keep it off the stack. */
static struct orc_state orc;

static const struct orc_config default_config = {
	.phys_bits = PHYS_BITS,
	.mmio_enabled = true,
	.strict = false,
};

static void setup(const struct orc_config *c)
{
	orc_init(&orc, c ? c : &default_config);
}

static uint64_t spte(uint64_t pfn, uint64_t flags)
{
	return (pfn << 12) | flags;
}

/* An MMIO spte as mark_mmio_spte builds it: mask | W/U | gfn | 19-bit generation. */
static uint64_t mmio_spte(uint64_t gfn, uint64_t gen, uint64_t access)
{
	return orc_mmio_mask(&default_config) | access | (gfn << 12) |
	       ((gen & 0x1ff) << 3) | (((gen >> 9) & 0x3ff) << 52);
}

static uint64_t halves(uint64_t low_of, uint64_t high_of)
{
	return (high_of & 0xffffffff00000000ull) | (low_of & 0xffffffffull);
}

/* A whole logical write [begin, commit] of value to spte 0. */
static void write(uint64_t value, uint64_t begin, uint64_t commit)
{
	uint32_t t = orc_write_begin(&orc, 0, value, begin);

	orc_write_commit(&orc, 0, t, commit);
}

static struct orc_verdict judge(uint64_t start, uint64_t end, uint64_t value)
{
	struct orc_verdict v;

	orc_judge_read(&orc, 0, start, end, value, false, &v);
	return v;
}

static struct orc_verdict snap(uint64_t step, uint64_t value)
{
	struct orc_verdict v;

	orc_judge_read(&orc, 0, step, step, value, true, &v);
	return v;
}

static bool allowed_has(const struct orc_verdict *v, uint64_t value)
{
	for (uint32_t i = 0; i < v->allowed_count; i++)
		if (v->allowed[i] == value)
			return true;
	return false;
}

/* --- decoder --- */

static void decoder_present_requires_p_and_not_mmio(void)
{
	setup(NULL);
	CHECK(orc_spte_present(&orc.config, spte(0x1234, P)));
	CHECK(orc_spte_present(&orc.config, spte(0x1234, P | W | U) | NX));
	CHECK(!orc_spte_present(&orc.config, 0));
	CHECK(!orc_spte_present(&orc.config, spte(0x1234, W | U) | NX));
	CHECK(!orc_spte_present(&orc.config, mmio_spte(0xfee00, 5, W)));
}

static void decoder_mmio_mask_is_reserved_phys_bits_62_63_and_p(void)
{
	struct orc_config c = default_config;

	CHECK_EQ_U64(orc_mmio_mask(&c), 0xc00ffff000000001ull);
	c.phys_bits = 52;
	CHECK_EQ_U64(orc_mmio_mask(&c), 0xc000000000000001ull);
	c.phys_bits = 40;
	CHECK_EQ_U64(orc_mmio_mask(&c), 0xc00fff0000000001ull);
}

static void decoder_mmio_needs_every_mask_bit(void)
{
	uint64_t m = mmio_spte(0xfee00, 0x7ff6a, W | U);

	setup(NULL);
	CHECK(orc_spte_mmio(&orc.config, m));
	CHECK(!orc_spte_mmio(&orc.config, m & ~P));
	CHECK(!orc_spte_mmio(&orc.config, m & ~(1ull << PHYS_BITS)));
	CHECK(!orc_spte_mmio(&orc.config, m & ~(1ull << 62)));
	CHECK(!orc_spte_mmio(&orc.config, m & ~NX));
	CHECK(!orc_spte_mmio(&orc.config, halves(m, 0)));
}

static void decoder_mmio_disabled_treats_masked_value_as_present(void)
{
	struct orc_config c = default_config;
	uint64_t m = mmio_spte(0xfee00, 5, W);

	c.mmio_enabled = false;
	setup(&c);
	CHECK(!orc_spte_mmio(&orc.config, m));
	CHECK(orc_spte_present(&orc.config, m));
}

static void decoder_pfn_is_bits_12_to_51(void)
{
	CHECK_EQ_U64(orc_spte_pfn(spte(0x123456789ull, P | W) | NX), 0x123456789ull);
	CHECK_EQ_U64(orc_spte_pfn(~0ull), (1ull << 40) - 1);
	CHECK_EQ_U64(orc_spte_pfn(0xfff0000000000fffull), 0);
	CHECK_EQ_U64(orc_spte_pfn(1ull << 32), 1ull << 20);
}

/* --- history --- */

static void reset_starts_every_spte_at_zero(void)
{
	struct orc_verdict v;

	setup(NULL);
	/* Dirty some sptes, then reset: every spte holds exactly 0 again. */
	orc_write_commit(&orc, 3, orc_write_begin(&orc, 3, spte(1, P), 1), 2);
	orc_write_commit(&orc, ORC_SPTES_MAX - 1,
			 orc_write_begin(&orc, ORC_SPTES_MAX - 1, spte(2, P), 1), 2);
	orc_reset(&orc);
	for (uint32_t id = 0; id < ORC_SPTES_MAX; id++) {
		orc_judge_read(&orc, id, 5, 5, 0, true, &v);
		CHECK_EQ_U64(v.kind, ORC_CORRECT);
		orc_judge_read(&orc, id, 5, 5, spte(1, P), true, &v);
		CHECK(v.kind != ORC_CORRECT);
		CHECK_EQ_U64(v.allowed_count, 1);
		CHECK_EQ_U64(v.allowed[0], 0);
	}
}

static void restart_forgets_the_history_of_one_spte(void)
{
	struct orc_verdict v;

	setup(NULL);
	orc_write_commit(&orc, 7, orc_write_begin(&orc, 7, spte(1, P), 1), 2);
	orc_write_commit(&orc, 8, orc_write_begin(&orc, 8, spte(2, P), 1), 2);
	orc_spte_restart(&orc, 7, 10);
	orc_judge_read(&orc, 7, 11, 11, spte(1, P), true, &v);
	CHECK(v.kind != ORC_CORRECT);
	orc_judge_read(&orc, 7, 11, 11, 0, true, &v);
	CHECK_EQ_U64(v.kind, ORC_CORRECT);
	orc_judge_read(&orc, 8, 11, 11, spte(2, P), true, &v);
	CHECK_EQ_U64(v.kind, ORC_CORRECT);
}

static void reset_forgets_history_pending_tokens_and_stats(void)
{
	uint32_t t1, t2;

	setup(NULL);
	t1 = orc_write_begin(&orc, 0, spte(1, P), 5);
	write(spte(2, P), 6, 7);
	judge(0, 10, 0);
	orc_reset(&orc);
	CHECK_EQ_U64(orc.sptes[0].entries_count, 1);
	CHECK_EQ_U64(orc.sptes[0].mirror, 0);
	CHECK(!orc.sptes[0].pending[0].used);
	CHECK_EQ_U64(orc.stats.reads, 0);
	t2 = orc_write_begin(&orc, 0, spte(1, P), 5);
	CHECK_EQ_U64(t1, t2);
}

static void preset_replaces_initial_value(void)
{
	uint64_t a = spte(0x111, P | W);

	setup(NULL);
	orc_spte_preset(&orc, 3, a);
	CHECK_EQ_U64(orc.sptes[3].mirror, a);
	CHECK_EQ_U64(orc.sptes[3].entries_count, 1);
	CHECK_EQ_U64(orc.sptes[3].entries[0].value, a);
	CHECK_EQ_U64(orc.sptes[3].entries[0].first, 0);
	CHECK_EQ_U64(orc.sptes[3].entries[0].last, ORC_STEP_INF);
	/* Other sptes keep their own history. */
	CHECK_EQ_U64(orc.sptes[0].entries[0].value, 0);
}

static void commit_closes_previous_value_at_commit_step(void)
{
	uint64_t a = spte(0x111, P), b = spte(0x222, P);

	setup(NULL);
	orc_spte_preset(&orc, 0, a);
	write(b, 10, 12);
	CHECK_EQ_U64(orc.sptes[0].entries_count, 2);
	CHECK_EQ_U64(orc.sptes[0].entries[0].value, a);
	CHECK_EQ_U64(orc.sptes[0].entries[0].last, 12);
	CHECK_EQ_U64(orc.sptes[0].entries[1].value, b);
	CHECK_EQ_U64(orc.sptes[0].entries[1].first, 10);
	CHECK_EQ_U64(orc.sptes[0].entries[1].last, ORC_STEP_INF);
	CHECK_EQ_U64(orc.sptes[0].mirror, b);
	CHECK(!orc.sptes[0].pending[0].used);
}

/*
 * A lock holder's W3 begins X at 10 with its xchg of the low half; fast page
 * fault's cmpxchg64 reads X and lands Y = X|W at 12; the W3's high half is
 * visible at 15.  Writes take effect in begin order: A until 12, X from 10
 * to 12, then Y, which memory really holds at the end.
 */
static void cmpxchg_inside_locked_write_window_follows_it_in_history(void)
{
	uint64_t a = spte(0x111, P | HOST_W | MMU_W | W), x = spte(0x111, P | HOST_W | MMU_W);
	uint64_t y = x | W;
	uint32_t locked, fast;
	struct orc_spte *s = &orc.sptes[0];

	setup(NULL);
	orc_spte_preset(&orc, 0, a);
	locked = orc_write_begin(&orc, 0, x, 10);
	fast = orc_write_begin(&orc, 0, y, 12);
	CHECK(locked != fast);
	orc_write_commit(&orc, 0, fast, 12);
	orc_write_commit(&orc, 0, locked, 15);

	CHECK_EQ_U64(s->entries_count, 3);
	CHECK_EQ_U64(s->entries[0].value, a);
	CHECK_EQ_U64(s->entries[0].last, 12);
	CHECK_EQ_U64(s->entries[1].value, x);
	CHECK_EQ_U64(s->entries[1].first, 10);
	CHECK_EQ_U64(s->entries[1].last, 12);
	CHECK_EQ_U64(s->entries[2].value, y);
	CHECK_EQ_U64(s->entries[2].first, 12);
	CHECK_EQ_U64(s->entries[2].last, ORC_STEP_INF);
	CHECK_EQ_U64(s->mirror, y);

	CHECK_EQ_U64(judge(13, 14, y).kind, ORC_CORRECT);
	CHECK_EQ_U64(judge(11, 11, x).kind, ORC_CORRECT);
	CHECK_EQ_U64(judge(16, 20, y).kind, ORC_CORRECT);
	CHECK_EQ_U64(judge(16, 20, x).kind, ORC_TORN);
	CHECK_EQ_U64(judge(13, 14, spte(0x999, P)).kind, ORC_TORN);
}

static void history_overflow_keeps_recent_values(void)
{
	struct orc_spte *s = &orc.sptes[0];
	struct orc_verdict v;

	setup(NULL);
	for (uint64_t k = 1; k <= 300; k++)
		write(spte(k, P), 10 * k, 10 * k + 1);
	CHECK(s->overflowed);
	CHECK_EQ_U64(s->entries_count, ORC_HISTORY_MAX);
	/* 301 values (initial 0 plus 300 writes); the newest 256 survive. */
	CHECK_EQ_U64(s->entries[0].value, spte(300 - ORC_HISTORY_MAX + 1, P));
	CHECK_EQ_U64(s->entries[ORC_HISTORY_MAX - 1].value, spte(300, P));
	CHECK_EQ_U64(s->mirror, spte(300, P));
	/* spte(200) was held from 2000 to 2011. */
	v = judge(2005, 2008, spte(200, P));
	CHECK_EQ_U64(v.kind, ORC_CORRECT);
	CHECK_EQ_U64(v.allowed_count, 1);
	CHECK_EQ_U64(judge(2012, 2015, spte(200, P)).kind, ORC_TORN);
}

/* --- verdict case 1: correct --- */

static void read_of_value_held_in_window_is_correct(void)
{
	uint64_t a = spte(0x111, P | W), b = spte(0x222, P | W);
	struct orc_verdict v;

	setup(NULL);
	orc_spte_preset(&orc, 0, a);
	write(b, 10, 12);
	v = judge(5, 20, a);
	CHECK_EQ_U64(v.kind, ORC_CORRECT);
	CHECK(!v.divergence);
	CHECK_EQ_U64(v.value, a);
	CHECK_EQ_U64(v.start, 5);
	CHECK_EQ_U64(v.end, 20);
	CHECK_EQ_U64(v.allowed_count, 2);
	CHECK(allowed_has(&v, a) && allowed_has(&v, b));
	CHECK_EQ_U64(judge(5, 20, b).kind, ORC_CORRECT);
}

static void window_edges_are_inclusive(void)
{
	uint64_t a = spte(0x111, P | W), b = spte(0x222, P | W);

	setup(NULL);
	orc_spte_preset(&orc, 0, a);
	write(b, 10, 12);
	/* a is held up to the commit of b, b from the begin of its write. */
	CHECK_EQ_U64(judge(12, 15, a).kind, ORC_CORRECT);
	CHECK_EQ_U64(judge(3, 10, b).kind, ORC_CORRECT);
	CHECK_EQ_U64(judge(11, 11, a).kind, ORC_CORRECT);
	CHECK_EQ_U64(judge(11, 11, b).kind, ORC_CORRECT);
}

static void value_outside_window_is_torn(void)
{
	uint64_t a = spte(0x111, P | W), b = spte(0x222, P | W);
	struct orc_verdict v;

	setup(NULL);
	orc_spte_preset(&orc, 0, a);
	write(b, 10, 12);
	/* a was replaced at 12, before the window opened. */
	v = judge(13, 20, a);
	CHECK_EQ_U64(v.kind, ORC_TORN);
	CHECK(v.divergence);
	CHECK_EQ_U64(v.allowed_count, 1);
	CHECK(allowed_has(&v, b));
	CHECK_EQ_U64(v.wrong_bits, ORC_WRONG_PFN_LOW);
	/* b's write began at 10, after the window closed. */
	CHECK_EQ_U64(judge(3, 9, b).kind, ORC_TORN);
}

static void pending_write_value_is_allowed_inside_window(void)
{
	uint64_t a = spte(0x111, P | W), b = spte(0x222, P | W);
	struct orc_verdict v;

	setup(NULL);
	orc_spte_preset(&orc, 0, a);
	orc_write_begin(&orc, 0, b, 10);
	v = judge(12, 14, b);
	CHECK_EQ_U64(v.kind, ORC_CORRECT);
	CHECK_EQ_U64(v.allowed_count, 2);
	CHECK(allowed_has(&v, a) && allowed_has(&v, b));
	CHECK_EQ_U64(judge(12, 14, a).kind, ORC_CORRECT);
	/* Not before its first store. */
	CHECK_EQ_U64(judge(5, 9, b).kind, ORC_TORN);
}

static void allowed_lists_window_values_once(void)
{
	uint64_t a = spte(0x111, P), b = spte(0x222, P);
	struct orc_verdict v;

	setup(NULL);
	orc_spte_preset(&orc, 0, a);
	write(b, 10, 11);
	write(a, 12, 13);
	write(b, 14, 15);
	v = judge(0, 20, a);
	CHECK_EQ_U64(v.kind, ORC_CORRECT);
	CHECK_EQ_U64(v.allowed_count, 2);
	CHECK_EQ_U64(v.allowed[0], a);
	CHECK_EQ_U64(v.allowed[1], b);
}

static void allowed_is_capped_but_membership_is_not(void)
{
	struct orc_verdict v;

	setup(NULL);
	for (uint64_t k = 1; k <= 20; k++)
		write(spte(k, P), 10 * k, 10 * k + 1);
	v = judge(0, 1000, spte(20, P));
	CHECK_EQ_U64(v.kind, ORC_CORRECT);
	CHECK_EQ_U64(v.allowed_count, ORC_ALLOWED_MAX);
}

/* --- verdict case 2: not present --- */

static void nonpresent_torn_value_is_benign(void)
{
	uint64_t o = spte(0x100777, P | W | U | A_BIT) | NX;
	struct orc_verdict v;

	setup(NULL);
	orc_spte_preset(&orc, 0, o);
	write(0, 10, 12);
	/* The W2 clear's intermediate {0, Oh}: P is gone first. */
	v = judge(9, 13, halves(0, o));
	CHECK_EQ_U64(v.kind, ORC_BENIGN_NONPRESENT);
	CHECK(!v.divergence);
	CHECK_EQ_U64(v.wrong_bits, 0);
	/* Any other bits of a non-present value are ignored too. */
	CHECK_EQ_U64(judge(9, 13, spte(0x999, W | U)).kind, ORC_BENIGN_NONPRESENT);
}

static void mmio_being_zapped_value_is_benign(void)
{
	uint64_t m = mmio_spte(0xfee00, 0x7ff6a, W | U);

	setup(NULL);
	orc_spte_preset(&orc, 0, m);
	write(0, 10, 12);
	/* What __check_direct_spte_mmio_pf accepts: low 0, MMIO high word. */
	CHECK_EQ_U64(judge(9, 13, halves(0, m)).kind, ORC_BENIGN_NONPRESENT);
}

static void nonpresent_is_not_a_divergence_under_strict(void)
{
	struct orc_config c = default_config;
	uint64_t o = spte(0x100777, P | W) | NX;
	struct orc_verdict v;

	c.strict = true;
	setup(&c);
	orc_spte_preset(&orc, 0, o);
	write(0, 10, 12);
	v = judge(9, 13, halves(0, o));
	CHECK_EQ_U64(v.kind, ORC_BENIGN_NONPRESENT);
	CHECK(!v.divergence);
}

/* --- verdict case 3: same-pfn blend --- */

/* mmu_spte_update O -> N removing W and adding NX: same pfn, halves mix. */
static void same_pfn_permission_blend_is_benign_blend(void)
{
	uint64_t o = spte(0x100777, P | W | U | A_BIT | D_BIT | HOST_W | MMU_W);
	uint64_t n = (o & ~W) | NX;
	struct orc_verdict v;

	setup(NULL);
	orc_spte_preset(&orc, 0, o);
	write(n, 10, 12);
	v = judge(9, 13, halves(o, n));
	CHECK_EQ_U64(v.kind, ORC_BENIGN_BLEND);
	CHECK(!v.divergence);
	CHECK_EQ_U64(v.wrong_bits, 0);
	CHECK_EQ_U64(judge(9, 13, halves(n, o)).kind, ORC_BENIGN_BLEND);
}

static void blend_is_divergence_under_strict(void)
{
	struct orc_config c = default_config;
	uint64_t o = spte(0x100777, P | W | U);
	uint64_t n = (o & ~W) | NX;
	struct orc_verdict v;

	c.strict = true;
	setup(&c);
	orc_spte_preset(&orc, 0, o);
	write(n, 10, 12);
	v = judge(9, 13, halves(o, n));
	CHECK_EQ_U64(v.kind, ORC_BENIGN_BLEND);
	CHECK(v.divergence);
}

static void pending_write_blends_with_current_value(void)
{
	uint64_t o = spte(0x100777, P | W | U);
	uint64_t n = (o & ~W) | NX;

	setup(NULL);
	orc_spte_preset(&orc, 0, o);
	orc_write_begin(&orc, 0, n, 10);
	CHECK_EQ_U64(judge(11, 12, halves(o, n)).kind, ORC_BENIGN_BLEND);
	CHECK_EQ_U64(judge(11, 12, halves(n, o)).kind, ORC_BENIGN_BLEND);
}

static void blend_of_different_pfns_is_torn(void)
{
	uint64_t o = spte(0x100777, P | W | U);
	uint64_t n = spte(0x200777, P | U);
	struct orc_verdict v;

	setup(NULL);
	orc_spte_preset(&orc, 0, o);
	write(n, 10, 12);
	v = judge(9, 13, halves(o, n));
	CHECK_EQ_U64(v.kind, ORC_TORN);
	CHECK(v.divergence);
}

static void blend_of_values_outside_window_is_torn(void)
{
	uint64_t o = spte(0x100777, P | W | U);
	uint64_t n = (o & ~W) | NX;
	uint64_t z = spte(0x5, P);

	setup(NULL);
	orc_spte_preset(&orc, 0, o);
	write(n, 10, 12);
	write(z, 20, 22);
	/* o is gone by 13, so {Ol, Nh} can no longer be assembled. */
	CHECK_EQ_U64(judge(15, 25, halves(o, n)).kind, ORC_TORN);
}

static void blend_of_non_adjacent_values_is_torn(void)
{
	uint64_t a = spte(0x100777, P | W | U);
	uint64_t b = spte(0x5, P | U);
	uint64_t c = spte(0x100777, P | U) | NX;
	struct orc_verdict v;

	setup(NULL);
	orc_spte_preset(&orc, 0, a);
	write(b, 10, 11);
	write(c, 20, 21);
	/* a and c share a pfn, but no single update went from one to the other. */
	v = judge(5, 25, halves(a, c));
	CHECK_EQ_U64(v.kind, ORC_TORN);
	CHECK_EQ_U64(v.wrong_bits, ORC_WRONG_NX);
}

/* --- verdict case 4: torn --- */

/*
 * kvm_set_pte_rmapp without clear_spte_count (§3.2, §3.3 (a)): A -> 0 -> B
 * with Al == Bl and Ah != Bh.  The reader reads Al, then high while it is 0,
 * then re-checks low and sees Bl == Al.
 */
static void aba_clear_set_low_with_stale_high_is_torn(void)
{
	uint64_t a = spte(0x100123, P | U);
	uint64_t b = spte(0x200123, P | U);
	struct orc_verdict v;

	setup(NULL);
	CHECK_EQ_U64((uint32_t)a, (uint32_t)b);
	orc_spte_preset(&orc, 0, a);
	write(0, 10, 12);
	write(b, 14, 16);

	v = judge(9, 20, halves(a, 0));
	CHECK_EQ_U64(v.kind, ORC_TORN);
	CHECK(v.divergence);
	CHECK_EQ_U64(v.wrong_bits, ORC_WRONG_PFN_HIGH);
	CHECK_EQ_U64(v.allowed_count, 3);
	CHECK(allowed_has(&v, a) && allowed_has(&v, 0) && allowed_has(&v, b));

	CHECK_EQ_U64(judge(9, 20, b).kind, ORC_CORRECT);
	CHECK_EQ_U64(judge(9, 20, a).kind, ORC_CORRECT);
}

/* §3.3 (c): low re-check dropped, a W2 clear of an NX spte read as {Ol, 0}. */
static void torn_nx_reports_nx_bit(void)
{
	uint64_t o = spte(0x01234, P | U | A_BIT) | NX;
	struct orc_verdict v;

	setup(NULL);
	orc_spte_preset(&orc, 0, o);
	write(0, 10, 12);
	v = judge(9, 13, halves(o, 0));
	CHECK_EQ_U64(v.kind, ORC_TORN);
	CHECK_EQ_U64(v.wrong_bits, ORC_WRONG_NX);
}

static void torn_mmio_reports_mmio_bits(void)
{
	/* gfn with many bits set so that the MMIO spte is the closest member. */
	uint64_t m = mmio_spte(0xfeeff, 0x16a, W | U);
	uint64_t m1 = mmio_spte(0x1000, 0x00001, W);
	uint64_t m2 = mmio_spte(0x1000, 0x7fe00, W);
	struct orc_verdict v;

	setup(NULL);
	orc_spte_preset(&orc, 0, m);
	write(0, 10, 12);
	/* {Ml, 0}: P without the reserved high bits, so a present mapping of gfn. */
	v = judge(9, 13, halves(m, 0));
	CHECK_EQ_U64(v.kind, ORC_TORN);
	CHECK(v.wrong_bits & ORC_WRONG_MMIO);
	CHECK(v.wrong_bits & ORC_WRONG_PFN_HIGH);
	CHECK(v.wrong_bits & ORC_WRONG_NX);
	CHECK(!(v.wrong_bits & ORC_WRONG_FLAGS));

	/* A generation made of two generations' halves: still MMIO, but never held. */
	setup(NULL);
	orc_spte_preset(&orc, 0, m1);
	write(m2, 10, 12);
	v = judge(9, 13, halves(m2, m1));
	CHECK(orc_spte_mmio(&orc.config, v.value));
	CHECK_EQ_U64(v.kind, ORC_TORN);
	CHECK_EQ_U64(v.wrong_bits, ORC_WRONG_MMIO);
}

static void torn_flags_report_flags(void)
{
	uint64_t a = spte(0x111, P | U), b = spte(0x222, P | U);
	struct orc_verdict v;

	setup(NULL);
	orc_spte_preset(&orc, 0, a);
	write(b, 10, 12);
	v = judge(9, 13, a | W);
	CHECK_EQ_U64(v.kind, ORC_TORN);
	CHECK_EQ_U64(v.wrong_bits, ORC_WRONG_FLAGS);
	/* Software bits in the high word are flags too, never "no wrong bits". */
	v = judge(9, 13, a | (1ull << 55));
	CHECK_EQ_U64(v.kind, ORC_TORN);
	CHECK_EQ_U64(v.wrong_bits, ORC_WRONG_FLAGS);
}

/* --- hardware snapshots (I3) --- */

static void snapshot_uses_single_step(void)
{
	uint64_t a = spte(0x111, P | W), n = spte(0x300456, P | W | U);

	setup(NULL);
	orc_spte_preset(&orc, 0, a);
	write(n, 10, 12);
	CHECK_EQ_U64(snap(11, a).kind, ORC_CORRECT);
	CHECK_EQ_U64(snap(11, n).kind, ORC_CORRECT);
	CHECK_EQ_U64(snap(9, n).kind, ORC_TORN);
	CHECK_EQ_U64(snap(13, a).kind, ORC_TORN);
	CHECK_EQ_U64(orc.stats.snapshots, 4);
	CHECK_EQ_U64(orc.stats.reads, 0);
}

/* §3.3 (b): __set_spte storing low before high exposes {Nl, 0} to the walker. */
static void snapshot_of_reversed_set_spte_is_torn(void)
{
	uint64_t n = spte(0x300456, P | W | U);
	struct orc_verdict v;

	setup(NULL);
	write(n, 10, 12);
	v = snap(11, halves(n, 0));
	CHECK_EQ_U64(v.kind, ORC_TORN);
	CHECK_EQ_U64(v.wrong_bits, ORC_WRONG_PFN_HIGH);
	/* The correct order exposes {0, Nh}: not present. */
	CHECK_EQ_U64(snap(11, halves(0, n)).kind, ORC_BENIGN_NONPRESENT);
}

/* --- bookkeeping --- */

static void stats_count_reads_snapshots_and_kinds(void)
{
	uint64_t o = spte(0x100777, P | W | U);
	uint64_t n = (o & ~W) | NX;

	setup(NULL);
	orc_spte_preset(&orc, 0, o);
	write(n, 10, 12);
	judge(9, 13, o);                 /* correct */
	judge(9, 13, halves(0, n));      /* non-present */
	judge(9, 13, halves(o, n));      /* blend */
	snap(11, spte(0x5, P));          /* torn */
	snap(11, n);                     /* correct */
	CHECK_EQ_U64(orc.stats.reads, 3);
	CHECK_EQ_U64(orc.stats.snapshots, 2);
	CHECK_EQ_U64(orc.stats.correct, 2);
	CHECK_EQ_U64(orc.stats.nonpresent, 1);
	CHECK_EQ_U64(orc.stats.blends, 1);
	CHECK_EQ_U64(orc.stats.torn, 1);
}

static void sptes_have_independent_histories(void)
{
	uint64_t a = spte(0x111, P);
	struct orc_verdict v;

	setup(NULL);
	write(a, 10, 12);
	orc_judge_read(&orc, 1, 0, 20, a, false, &v);
	CHECK_EQ_U64(v.kind, ORC_TORN);
	CHECK_EQ_U64(judge(0, 20, a).kind, ORC_CORRECT);
}

static void kind_names_are_stable(void)
{
	CHECK(strcmp(orc_kind_name(ORC_CORRECT), "correct") == 0);
	CHECK(strcmp(orc_kind_name(ORC_BENIGN_NONPRESENT), "benign-nonpresent") == 0);
	CHECK(strcmp(orc_kind_name(ORC_BENIGN_BLEND), "benign-blend") == 0);
	CHECK(strcmp(orc_kind_name(ORC_TORN), "torn") == 0);
}


/*
 * The lock holder's W3 of X (NX off) xchg'd the low half at 10 but its high
 * half is still in flight; fast page fault read the blend {X low, old high
 * with NX} and its cmpxchg64 wrote that blend | W back at 12.  When the W3's
 * high half lands at 15, memory holds X | W: the history must say so.
 */
static void locked_high_half_landing_after_cmpxchg_gives_x_with_w(void)
{
	uint64_t nx = 1ull << 63;
	uint64_t a = spte(0x111, P | HOST_W | MMU_W | W) | nx, x = spte(0x111, P | HOST_W | MMU_W);
	uint64_t blend_w = (x | W) | nx;
	uint32_t locked, fast;

	setup(NULL);
	orc_spte_preset(&orc, 0, a);
	locked = orc_write_begin(&orc, 0, x, 10);
	fast = orc_write_begin(&orc, 0, blend_w, 12);
	orc_write_commit(&orc, 0, fast, 12);
	orc_write_commit(&orc, 0, locked, 15);
	CHECK_EQ_U64(orc.sptes[0].mirror, x | W);
	CHECK_EQ_U64(judge(16, 20, x | W).kind, ORC_CORRECT);
	CHECK_EQ_U64(judge(13, 14, blend_w).kind, ORC_CORRECT);
	CHECK_EQ_U64(judge(16, 20, blend_w).kind, ORC_TORN);
}

/*
 * Same race, but the lock holder's own CPU reads before its high half is
 * visible to anyone else: it sees its store buffer, so X | W under the new
 * high half is legal for it before the commit.
 */
static void writer_cpu_may_see_landed_value_before_commit(void)
{
	uint64_t nx = 1ull << 63;
	uint64_t a = spte(0x111, P | HOST_W | MMU_W), x = a | nx;
	uint32_t locked, fast;

	setup(NULL);
	orc_spte_preset(&orc, 0, a);
	locked = orc_write_begin(&orc, 0, x, 10);
	fast = orc_write_begin(&orc, 0, a | W, 12);
	orc_write_commit(&orc, 0, fast, 12);
	CHECK_EQ_U64(judge(14, 14, x | W).kind, ORC_CORRECT);
	CHECK_EQ_U64(judge(14, 14, a | W).kind, ORC_CORRECT);
	orc_write_commit(&orc, 0, locked, 15);
	CHECK_EQ_U64(orc.sptes[0].mirror, x | W);
}

/*
 * L lists each value once, so whether two of its members were separated by
 * a clear needs the history order: in 0 -> A -> B (a set, then an update)
 * all are in epoch 0; in 0 -> A -> 0 -> A -> B the clear puts the second A,
 * B and the cleared value in epoch 1.
 */
static void epochs_say_which_values_a_clear_separates(void)
{
	uint64_t a = spte(0x12345, P), b = spte(0x12345, P | 0x400);
	struct orc_verdict v;

	setup(NULL);
	write(a, 10, 11);
	write(b, 20, 21);
	v = judge(5, 30, a);
	CHECK_EQ_U64(v.allowed_count, 3);
	for (uint32_t i = 0; i < v.allowed_count; i++)
		CHECK_EQ_U64(v.allowed_epochs[i], 1);

	setup(NULL);
	write(a, 10, 11);
	write(0, 20, 21);
	write(a, 30, 31);
	write(b, 40, 41);
	v = judge(5, 50, a);
	CHECK_EQ_U64(v.allowed_count, 3);
	for (uint32_t i = 0; i < v.allowed_count; i++) {
		if (v.allowed[i] == a)
			CHECK_EQ_U64(v.allowed_epochs[i], 3);   /* before and after */
		else if (v.allowed[i] == b)
			CHECK_EQ_U64(v.allowed_epochs[i], 2);
		else
			CHECK_EQ_U64(v.allowed_epochs[i], 3);   /* 0: at the start and the clear */
	}
	/* A window after the clear sees one epoch. */
	v = judge(35, 50, a);
	for (uint32_t i = 0; i < v.allowed_count; i++)
		CHECK_EQ_U64(v.allowed_epochs[i], 1);
}

TEST_MAIN(
	TEST(epochs_say_which_values_a_clear_separates),
	TEST(decoder_present_requires_p_and_not_mmio),
	TEST(decoder_mmio_mask_is_reserved_phys_bits_62_63_and_p),
	TEST(decoder_mmio_needs_every_mask_bit),
	TEST(decoder_mmio_disabled_treats_masked_value_as_present),
	TEST(decoder_pfn_is_bits_12_to_51),
	TEST(reset_starts_every_spte_at_zero),
	  TEST(restart_forgets_the_history_of_one_spte),
	TEST(reset_forgets_history_pending_tokens_and_stats),
	TEST(preset_replaces_initial_value),
	TEST(commit_closes_previous_value_at_commit_step),
	TEST(cmpxchg_inside_locked_write_window_follows_it_in_history),
	  TEST(locked_high_half_landing_after_cmpxchg_gives_x_with_w),
	  TEST(writer_cpu_may_see_landed_value_before_commit),
	TEST(history_overflow_keeps_recent_values),
	TEST(read_of_value_held_in_window_is_correct),
	TEST(window_edges_are_inclusive),
	TEST(value_outside_window_is_torn),
	TEST(pending_write_value_is_allowed_inside_window),
	TEST(allowed_lists_window_values_once),
	TEST(allowed_is_capped_but_membership_is_not),
	TEST(nonpresent_torn_value_is_benign),
	TEST(mmio_being_zapped_value_is_benign),
	TEST(nonpresent_is_not_a_divergence_under_strict),
	TEST(same_pfn_permission_blend_is_benign_blend),
	TEST(blend_is_divergence_under_strict),
	TEST(pending_write_blends_with_current_value),
	TEST(blend_of_different_pfns_is_torn),
	TEST(blend_of_values_outside_window_is_torn),
	TEST(blend_of_non_adjacent_values_is_torn),
	TEST(aba_clear_set_low_with_stale_high_is_torn),
	TEST(torn_nx_reports_nx_bit),
	TEST(torn_mmio_reports_mmio_bits),
	TEST(torn_flags_report_flags),
	TEST(snapshot_uses_single_step),
	TEST(snapshot_of_reversed_set_spte_is_torn),
	TEST(stats_count_reads_snapshots_and_kinds),
	TEST(sptes_have_independent_histories),
	TEST(kind_names_are_stable),
)
