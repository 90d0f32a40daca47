/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Goal: the spte layout and the split-spte primitives behave as Linux 3.11
 * writes them: bit positions, the MMIO encoding and its generation, the
 * volatile-bits predicate, the order of half stores of each writer, where
 * clear_spte_count moves, and the reader's retry.
 *
 * Method: pure predicates are checked exhaustively or on tables; writers
 * run on a one- or two-CPU simulated host and the event log gives the exact
 * order of their shared accesses.
 */
#include "mmu/mmu.h"

#include <string.h>

#include "testing/check.h"

static struct sim *sim;
static struct kvm kvm;

static void setup(uint32_t cpus, enum mmu_host_width width, enum mmu_mutant m,
		  const uint8_t *sched, size_t len)
{
	struct sim_config c = { .cpus = cpus, .mm = SIM_MM_SC, .sched = SIM_SCHED_BYTES,
				.sched_bytes = sched, .sched_len = len, .log = true };

	if (!sim)
		sim = sim_new();
	sim_reset(sim, &c);
	mmu_init(&kvm, sim, width, m, NULL, NULL);
}

static uint64_t peek64(sim_addr a)
{
	return sim_mem_peek32(sim, a) | (uint64_t)sim_mem_peek32(sim, a + 1) << 32;
}

static void poke64(sim_addr a, uint64_t v)
{
	sim_mem_init32(sim, a, (uint32_t)v);
	sim_mem_init32(sim, a + 1, (uint32_t)(v >> 32));
}

static const uint64_t PFN_ABOVE_4G = 0x712345;

static uint64_t leaf(uint64_t pfn, uint64_t flags)
{
	return pfn << PAGE_SHIFT | PT_PRESENT_MASK | flags;
}

static void mmio_generation_round_trips_for_every_generation(void)
{
	setup(1, MMU_HOST_32, MMU_MUTANT_NONE, NULL, 0);
	for (uint32_t gen = 0; gen <= MMIO_GEN_MASK; gen += 1 + (gen & 7)) {
		uint64_t s = make_mmio_spte(&kvm, 0x1234, PT_WRITABLE_MASK | PT_USER_MASK, gen);

		CHECK_EQ_U64(get_mmio_spte_generation(s), gen);
		CHECK(is_mmio_spte(&kvm, s));
		CHECK(!is_shadow_present_pte(&kvm, s));
		/* Without EPT the MMIO spte carries P in its low half. */
		CHECK(s & PT_PRESENT_MASK);
	}
}

static void mmio_mask_is_reserved_high_bits_plus_present(void)
{
	setup(1, MMU_HOST_32, MMU_MUTANT_NONE, NULL, 0);
	for (int bit = 0; bit < 64; bit++) {
		bool want = bit == 0 || (bit >= MMU_PHYS_BITS && bit <= 51) || bit >= 62;

		CHECK(!!(kvm.shadow_mmio_mask & (1ull << bit)) == want);
	}
}

static void pfn_above_4g_lands_in_high_half(void)
{
	uint64_t s = leaf(PFN_ABOVE_4G, 0);

	CHECK_EQ_U64(spte_to_pfn(s), PFN_ABOVE_4G);
	CHECK_EQ_U64((uint32_t)(s >> 32), PFN_ABOVE_4G >> 20);
	CHECK_EQ_U64((uint32_t)s >> PAGE_SHIFT, PFN_ABOVE_4G & 0xfffff);
	CHECK_EQ_U64(PT64_NX_MASK >> 32, 1u << 31);
	/* Everything the lockless writer touches is in the low half (M1). */
	CHECK((SPTE_HOST_WRITEABLE | SPTE_MMU_WRITEABLE | PT_WRITABLE_MASK | PT_ACCESSED_MASK |
	       PT_DIRTY_MASK) >> 32 == 0);
}

static void volatile_bits_follow_3_11_rules(void)
{
	uint64_t hw_mw = SPTE_HOST_WRITEABLE | SPTE_MMU_WRITEABLE;

	setup(1, MMU_HOST_32, MMU_MUTANT_NONE, NULL, 0);
	/* Locklessly modifiable: fast page fault may set W. */
	CHECK(spte_has_volatile_bits(&kvm, leaf(1, hw_mw)));
	CHECK(spte_has_volatile_bits(&kvm, leaf(1, hw_mw | PT_ACCESSED_MASK | PT_DIRTY_MASK)));
	/* Not present: nobody else writes it. */
	CHECK(!spte_has_volatile_bits(&kvm, 0));
	CHECK(!spte_has_volatile_bits(&kvm, make_mmio_spte(&kvm, 1, 0, 0)));
	/* A set, read-only: the CPU can set neither A nor D. */
	CHECK(!spte_has_volatile_bits(&kvm, leaf(1, PT_ACCESSED_MASK)));
	/* A and D set, writable: nothing left for the CPU to set. */
	CHECK(!spte_has_volatile_bits(&kvm,
				      leaf(1, PT_ACCESSED_MASK | PT_DIRTY_MASK | PT_WRITABLE_MASK)));
	/* A clear, or writable and not dirty: the CPU may set a bit. */
	CHECK(spte_has_volatile_bits(&kvm, leaf(1, 0)));
	CHECK(spte_has_volatile_bits(&kvm, leaf(1, PT_ACCESSED_MASK | PT_WRITABLE_MASK)));
}

/* The kinds and addresses of the stores and RMWs in the log, in order. */
static uint32_t writes(sim_addr *addr, uint8_t *kind, uint32_t max)
{
	size_t n;
	const struct sim_event *e = sim_log(sim, &n);
	uint32_t k = 0;

	for (size_t i = 0; i < n && k < max; i++) {
		if (e[i].kind == SIM_EV_STORE32 || e[i].kind == SIM_EV_XCHG32 ||
		    e[i].kind == SIM_EV_STORE64 || e[i].kind == SIM_EV_CMPXCHG64 ||
		    e[i].kind == SIM_EV_WMB) {
			if (e[i].kind != SIM_EV_WMB && (e[i].addr == MMU_ADDR_LOCK))
				continue;
			addr[k] = e[i].addr;
			kind[k++] = e[i].kind;
		}
	}
	return k;
}

static sim_addr S0;
static uint64_t arg_value;

static void do_set(struct sim *s, uint32_t cpu, void *a)
{
	(void)s; (void)cpu; (void)a;
	mmu_spte_set(&kvm, S0, arg_value);
}

static void do_update(struct sim *s, uint32_t cpu, void *a)
{
	(void)s; (void)cpu; (void)a;
	mmu_spte_update(&kvm, S0, arg_value);
}

static void do_clear(struct sim *s, uint32_t cpu, void *a)
{
	(void)s; (void)cpu; (void)a;
	mmu_spte_clear_track_bits(&kvm, S0);
}

static void set_spte_stores_high_then_wmb_then_low(void)
{
	sim_addr addr[16];
	uint8_t kind[16];

	S0 = mmu_sptep(0, 3);
	arg_value = leaf(PFN_ABOVE_4G, PT64_NX_MASK);
	setup(1, MMU_HOST_32, MMU_MUTANT_NONE, NULL, 0);
	sim_spawn(sim, 0, do_set, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	CHECK_EQ_U64(writes(addr, kind, 16), 3);
	CHECK(kind[0] == SIM_EV_STORE32 && addr[0] == S0 + 1);
	CHECK(kind[1] == SIM_EV_WMB);
	CHECK(kind[2] == SIM_EV_STORE32 && addr[2] == S0);
	CHECK_EQ_U64(peek64(S0), arg_value);
	CHECK_EQ_U64(sim_mem_peek32(sim, MMU_ADDR_COUNT), 0);
}

static void set_spte_low_first_mutant_reverses_the_halves(void)
{
	sim_addr addr[16];
	uint8_t kind[16];

	setup(1, MMU_HOST_32, MMU_MUTANT_SET_SPTE_LOW_FIRST, NULL, 0);
	sim_spawn(sim, 0, do_set, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	CHECK_EQ_U64(writes(addr, kind, 16), 3);
	CHECK(addr[0] == S0 && addr[2] == S0 + 1);
	CHECK_EQ_U64(peek64(S0), arg_value);
}

static void fast_clear_stores_low_then_high_then_bumps_count(void)
{
	sim_addr addr[16];
	uint8_t kind[16];

	setup(1, MMU_HOST_32, MMU_MUTANT_NONE, NULL, 0);
	poke64(S0, leaf(PFN_ABOVE_4G, PT_ACCESSED_MASK));   /* not volatile */
	sim_spawn(sim, 0, do_clear, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	CHECK_EQ_U64(writes(addr, kind, 16), 5);
	CHECK(kind[0] == SIM_EV_STORE32 && addr[0] == S0);
	CHECK(kind[1] == SIM_EV_WMB);
	CHECK(kind[2] == SIM_EV_STORE32 && addr[2] == S0 + 1);
	CHECK(kind[3] == SIM_EV_WMB);
	CHECK(kind[4] == SIM_EV_STORE32 && addr[4] == MMU_ADDR_COUNT);
	CHECK_EQ_U64(peek64(S0), 0);
	CHECK_EQ_U64(sim_mem_peek32(sim, MMU_ADDR_COUNT), 1);
}

static void slow_clear_xchgs_low_for_volatile_spte(void)
{
	sim_addr addr[16];
	uint8_t kind[16];

	setup(1, MMU_HOST_32, MMU_MUTANT_NONE, NULL, 0);
	poke64(S0, leaf(PFN_ABOVE_4G, SPTE_HOST_WRITEABLE | SPTE_MMU_WRITEABLE));
	sim_spawn(sim, 0, do_clear, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	writes(addr, kind, 16);
	CHECK(kind[0] == SIM_EV_XCHG32 && addr[0] == S0);
	CHECK(kind[1] == SIM_EV_STORE32 && addr[1] == S0 + 1);
	CHECK_EQ_U64(sim_mem_peek32(sim, MMU_ADDR_COUNT), 1);
}

static void no_clear_count_mutant_never_moves_the_count(void)
{
	setup(1, MMU_HOST_32, MMU_MUTANT_NO_CLEAR_COUNT, NULL, 0);
	poke64(S0, leaf(PFN_ABOVE_4G, 0));
	sim_spawn(sim, 0, do_clear, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	CHECK_EQ_U64(peek64(S0), 0);
	CHECK_EQ_U64(sim_mem_peek32(sim, MMU_ADDR_COUNT), 0);
}

static void present_to_present_update_keeps_the_count(void)
{
	setup(1, MMU_HOST_32, MMU_MUTANT_NONE, NULL, 0);
	poke64(S0, leaf(PFN_ABOVE_4G, PT_ACCESSED_MASK));
	arg_value = leaf(PFN_ABOVE_4G, PT_ACCESSED_MASK | PT64_NX_MASK);
	sim_spawn(sim, 0, do_update, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	CHECK_EQ_U64(peek64(S0), arg_value);
	CHECK_EQ_U64(sim_mem_peek32(sim, MMU_ADDR_COUNT), 0);
}

static void sixty_four_bit_host_writes_whole_spte_once(void)
{
	sim_addr addr[16];
	uint8_t kind[16];

	arg_value = leaf(PFN_ABOVE_4G, PT64_NX_MASK);
	setup(1, MMU_HOST_64, MMU_MUTANT_NONE, NULL, 0);
	sim_spawn(sim, 0, do_set, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	CHECK_EQ_U64(writes(addr, kind, 16), 1);
	CHECK(kind[0] == SIM_EV_STORE64 && addr[0] == S0);
	CHECK_EQ_U64(peek64(S0), arg_value);
}

static uint64_t read_result;

static void reader(struct sim *s, uint32_t cpu, void *a)
{
	(void)s; (void)a;
	if (cpu == 0) {
		walk_shadow_page_lockless_begin(&kvm, cpu);
		read_result = mmu_spte_get_lockless(&kvm, S0);
		walk_shadow_page_lockless_end(&kvm, cpu);
	} else {
		mmu_spte_clear_track_bits(&kvm, S0);
	}
}

static void reader_retries_when_a_clear_lands_between_its_half_reads(void)
{
	/*
	 * cpu0 reads count and low (steps 1-3), cpu1 clears entirely, cpu0
	 * finishes: its low re-check sees 0 and it retries, returning 0.
	 */
	uint8_t sched[64];

	memset(sched, 0, sizeof(sched));
	sched[0] = 0; sched[1] = 0; sched[2] = 0; sched[3] = 0; sched[4] = 0; sched[5] = 0;
	for (int i = 6; i < 20; i++)
		sched[i] = 1;
	setup(2, MMU_HOST_32, MMU_MUTANT_NONE, sched, sizeof(sched));
	poke64(S0, leaf(PFN_ABOVE_4G, 0));
	sim_spawn(sim, 0, reader, NULL);
	sim_spawn(sim, 1, reader, NULL);
	CHECK(sim_run(sim) == SIM_DONE);
	CHECK_EQ_U64(read_result, 0);
	CHECK(kvm.read_retries >= 1);
}

static bool dirtied;

/* cpu0 drops a write-protected spte; cpu1 makes it writable and writes. */
static void clear_vs_fast_pf_and_write(struct sim *s, uint32_t cpu, void *a)
{
	uint64_t ro = leaf(PFN_ABOVE_4G, PT_ACCESSED_MASK | SPTE_HOST_WRITEABLE |
			   SPTE_MMU_WRITEABLE);

	(void)s; (void)a;
	if (cpu == 0)
		mmu_spte_clear_track_bits(&kvm, S0);
	else if (fast_pf_cmpxchg_w(&kvm, S0, ro))
		dirtied = mmu_hw_set_ad(&kvm, S0, ro | PT_WRITABLE_MASK, PT_DIRTY_MASK);
}

/* Of 300 random schedules: how many dirtied the spte without the host hearing. */
static unsigned dirty_bits_lost(enum mmu_mutant m, unsigned *dirtied_runs)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned lost = 0;

	*dirtied_runs = 0;
	for (int run = 0; run < 300; run++) {
		uint8_t sched[32];

		for (size_t i = 0; i < sizeof(sched); i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			sched[i] = (uint8_t)x;
		}
		setup(2, MMU_HOST_32, m, sched, sizeof(sched));
		poke64(S0, leaf(PFN_ABOVE_4G, PT_ACCESSED_MASK | SPTE_HOST_WRITEABLE |
				SPTE_MMU_WRITEABLE));
		dirtied = false;
		sim_spawn(sim, 0, clear_vs_fast_pf_and_write, NULL);
		sim_spawn(sim, 1, clear_vs_fast_pf_and_write, NULL);
		CHECK(sim_run(sim) == SIM_DONE);
		CHECK_EQ_U64(peek64(S0), 0);
		*dirtied_runs += dirtied;
		lost += dirtied && kvm.pfn_dirty_marks == 0;
	}
	return lost;
}

static void clear_reports_a_dirty_bit_set_by_the_cpu_during_the_clear(void)
{
	unsigned dirtied_runs;

	CHECK_EQ_U64(dirty_bits_lost(MMU_MUTANT_NONE, &dirtied_runs), 0);
	CHECK(dirtied_runs > 0);
}

static void volatile_mutant_loses_a_dirty_bit_set_during_the_clear(void)
{
	unsigned dirtied_runs;

	CHECK(dirty_bits_lost(MMU_MUTANT_VOLATILE_IGNORES_LOCKLESS_W, &dirtied_runs) > 0);
}

static void plain_read_in_the_slow_clear_loses_a_dirty_bit(void)
{
	unsigned dirtied_runs;

	CHECK(dirty_bits_lost(MMU_MUTANT_UPDATE_SLOW_PLAIN_READ, &dirtied_runs) > 0);
}

TEST_MAIN(TEST(mmio_generation_round_trips_for_every_generation),
	  TEST(mmio_mask_is_reserved_high_bits_plus_present),
	  TEST(pfn_above_4g_lands_in_high_half),
	  TEST(volatile_bits_follow_3_11_rules),
	  TEST(set_spte_stores_high_then_wmb_then_low),
	  TEST(set_spte_low_first_mutant_reverses_the_halves),
	  TEST(fast_clear_stores_low_then_high_then_bumps_count),
	  TEST(slow_clear_xchgs_low_for_volatile_spte),
	  TEST(no_clear_count_mutant_never_moves_the_count),
	  TEST(present_to_present_update_keeps_the_count),
	  TEST(sixty_four_bit_host_writes_whole_spte_once),
	  TEST(reader_retries_when_a_clear_lands_between_its_half_reads),
	  TEST(clear_reports_a_dirty_bit_set_by_the_cpu_during_the_clear),
	  TEST(volatile_mutant_loses_a_dirty_bit_set_during_the_clear),
	  TEST(plain_read_in_the_slow_clear_loses_a_dirty_bit))
