/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Goal: the model's guest walk (FNAME(walk_addr_generic) of Linux 3.11)
 * agrees with the oracle's independent reading of the x86 architecture on
 * every combination of the pte bits that decide an access, for every
 * access type and control-register setting, in every guest paging mode:
 * same verdict, same #PF error code, same gfn, and the same A and D bits
 * written to the guest's page tables.
 *
 * Method (in the style of kvm-unit-tests' access.c): build a four-, three-
 * or two-level table chain in simulated guest memory, enumerate the bits
 * of the page-directory entry and the leaf, the access type (write, user,
 * fetch) and CR0.WP, EFER.NXE and CR4.SMEP; run the model's walk on one
 * simulated CPU and the oracle's translation on the same memory, and print
 * every disagreement by flag name.
 */
#include "mmu/guest.h"

#include <stdio.h>
#include <string.h>

#include "oracle/walk.h"
#include "testing/check.h"

enum { P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80 };
#define XD (1ull << 63)

static struct sim *sim;
static struct kvm kvm;
static struct kvm_guest guest;
static struct kvm_mmu mmu;

/* Tables of the chain and the data page. */
static const uint64_t GFN_L4 = 0x10, GFN_L3 = 0x11, GFN_L2 = 0x12, GFN_L1 = 0x13;
static const uint64_t GFN_DATA = 0x1234, GFN_BIG = 0x400;   /* 4K page; 2M/4M page base */
static const uint64_t GVA = (3ull << 39) | (2ull << 30) | (5ull << 21) | (7ull << 12) | 0x123;
static const uint64_t GVA32 = (5ull << 22) | (7ull << 12) | 0x123;

static bool read_sim(void *ctx, uint64_t gpa, uint64_t *out, unsigned bytes)
{
	(void)ctx;
	return guest_peek_gpa(sim, &guest, gpa, out, bytes);
}

static void put(uint64_t gfn, unsigned index, uint64_t v, unsigned bytes)
{
	guest_init_entry(sim, &guest, gfn, index, v, bytes);
}

static uint64_t get(uint64_t gfn, unsigned index, unsigned bytes)
{
	uint64_t v;

	read_sim(NULL, (gfn << PAGE_SHIFT) + index * bytes, &v, bytes);
	return v;
}

static struct guest_walker walker;
static int walk_ret;
static uint64_t walk_gva;
static uint32_t walk_access;

static void walk_cpu(struct sim *s, uint32_t cpu, void *arg)
{
	(void)s;
	(void)cpu;
	(void)arg;
	walk_ret = guest_walk_addr(&kvm, &guest, &mmu, &walker, walk_gva, walk_access);
}

struct case_desc {
	enum guest_paging mode;
	enum mmu_host_width width;
	uint64_t pde, pte;       /* pte unused when pde has PS */
	uint64_t upper;          /* PML4E/PDPTE flags (64-bit) */
	uint32_t access;         /* PFERR_* */
	bool wp, nxe, smep, pse;
};

static void describe(char *b, size_t n, const struct case_desc *c)
{
	snprintf(b, n, "mode %d host %d pde %llx pte %llx upper %llx access%s%s%s wp %d nxe %d "
		       "smep %d pse %d",
		 c->mode, c->width == MMU_HOST_64 ? 64 : 32, (unsigned long long)c->pde,
		 (unsigned long long)c->pte, (unsigned long long)c->upper,
		 c->access & PFERR_WRITE_MASK ? " W" : "", c->access & PFERR_USER_MASK ? " U" : "",
		 c->access & PFERR_FETCH_MASK ? " F" : "", c->wp, c->nxe, c->smep, c->pse);
}

static int mismatches;

/* Run one case through both walks; returns false (after printing) on disagreement. */
static bool run_case(const struct case_desc *c)
{
	struct sim_config sc = { .cpus = 1, .mm = SIM_MM_SC, .sched = SIM_SCHED_PREEMPT };
	struct orc_cpu_state cpu = { 0 };
	struct orc_translation t;
	unsigned bytes = c->mode == GUEST_PAGING_32 ? 4 : 8;
	uint64_t cr3, gva = c->mode == GUEST_PAGING_64 ? GVA : (c->mode == GUEST_PAGING_32 ? GVA32 : GVA & 0xffffffffull);
	unsigned acc = (c->access & PFERR_WRITE_MASK ? ORC_ACC_WRITE : 0) |
		       (c->access & PFERR_USER_MASK ? ORC_ACC_USER : 0) |
		       (c->access & PFERR_FETCH_MASK ? ORC_ACC_FETCH : 0);
	uint64_t leaf_gfn = (c->pde & PS) ? GFN_BIG : GFN_DATA;
	unsigned l2i, l1i = (unsigned)((gva >> 12) & (bytes == 4 ? 1023 : 511));
	char what[256];
	bool ok = true;

	if (!sim)
		sim = sim_new();
	sim_reset(sim, &sc);
	guest_init(&guest);
	guest_add_memslot(&guest, 0, 0x100000, 0x7000000);
	mmu_init(&kvm, sim, c->width, MMU_MUTANT_NONE, NULL, NULL);
	l2i = (unsigned)((gva >> (bytes == 4 ? 22 : 21)) & (bytes == 4 ? 1023 : 511));
	switch (c->mode) {
	case GUEST_PAGING_64:
		cr3 = GFN_L4 << PAGE_SHIFT;
		put(GFN_L4, (gva >> 39) & 511, (GFN_L3 << PAGE_SHIFT) | c->upper, 8);
		put(GFN_L3, (gva >> 30) & 511, (GFN_L2 << PAGE_SHIFT) | P | RW | US | A, 8);
		break;
	case GUEST_PAGING_PAE:
		cr3 = GFN_L3 << PAGE_SHIFT;
		break;
	default:
		cr3 = GFN_L2 << PAGE_SHIFT;
		break;
	}
	put(GFN_L2, l2i, ((c->pde & PS) ? (leaf_gfn << PAGE_SHIFT) : (GFN_L1 << PAGE_SHIFT)) | c->pde,
	    bytes);
	if (!(c->pde & PS))
		put(GFN_L1, l1i, (leaf_gfn << PAGE_SHIFT) | c->pte, bytes);
	kvm_mmu_context_init(&mmu, c->mode, cr3, c->nxe, c->wp, c->pse, c->smep);
	cpu.mode = (enum orc_paging)c->mode;
	cpu.cr3 = cr3;
	cpu.cr0_wp = c->wp;
	cpu.cr4_pse = c->pse;
	cpu.cr4_smep = c->smep;
	cpu.efer_nxe = c->nxe;
	cpu.maxphyaddr = MMU_PHYS_BITS;
	if (c->mode == GUEST_PAGING_PAE) {
		/* The PDPTE as mov cr3 loaded it. */
		mmu.pdptrs[(gva >> 30) & 3] = (GFN_L2 << PAGE_SHIFT) | P;
		cpu.pdptr[(gva >> 30) & 3] = mmu.pdptrs[(gva >> 30) & 3];
	}
	orc_translate(&cpu, read_sim, NULL, gva, acc, &t);

	walk_gva = gva;
	walk_access = c->access;
	sim_spawn(sim, 0, walk_cpu, NULL);
	if (sim_run(sim) != SIM_DONE)
		ok = false;
	describe(what, sizeof(what), c);
	if (walk_ret != (int)t.ok) {
		printf("  verdict: model %d oracle %d (oracle fault %x) -- %s\n", walk_ret, t.ok,
		       t.fault, what);
		ok = false;
	} else if (!walk_ret && walker.fault_error_code != t.fault) {
		printf("  error code: model %x oracle %x -- %s\n", walker.fault_error_code, t.fault,
		       what);
		ok = false;
	} else if (walk_ret) {
		uint64_t pte_after = (c->pde & PS) ? get(GFN_L2, l2i, bytes) : get(GFN_L1, l1i, bytes);
		uint64_t pde_after = get(GFN_L2, l2i, bytes);

		if (walker.gfn != t.gpa >> PAGE_SHIFT) {
			printf("  gfn: model %llx oracle %llx -- %s\n",
			       (unsigned long long)walker.gfn,
			       (unsigned long long)(t.gpa >> PAGE_SHIFT), what);
			ok = false;
		}
		if (!!(pte_after & D) != (!!((c->pde & PS ? c->pde : c->pte) & D) || t.sets_dirty)) {
			printf("  dirty bit: model %d oracle sets %d -- %s\n", !!(pte_after & D),
			       t.sets_dirty, what);
			ok = false;
		}
		if (!(pte_after & A) || !(pde_after & A)) {
			printf("  accessed bits not set (pde %llx pte %llx) -- %s\n",
			       (unsigned long long)pde_after, (unsigned long long)pte_after, what);
			ok = false;
		}
		if ((c->access & PFERR_WRITE_MASK) && !(walker.pte_access & ACC_WRITE_MASK) &&
		    !(!c->wp && !(c->access & PFERR_USER_MASK))) {
			printf("  write allowed but pte_access %x -- %s\n", walker.pte_access, what);
			ok = false;
		}
	}
	if (!ok)
		mismatches++;
	return ok;
}

static const uint32_t accesses[] = {
	0,
	PFERR_WRITE_MASK,
	PFERR_USER_MASK,
	PFERR_USER_MASK | PFERR_WRITE_MASK,
	PFERR_FETCH_MASK,
	PFERR_FETCH_MASK | PFERR_USER_MASK,
};

/* Every pde/pte flag combination x access x control bits for one mode. */
static uint32_t enumerate(enum guest_paging mode, enum mmu_host_width width)
{
	static const uint64_t flag64[] = { P, RW, US, A, D, XD };
	static const uint64_t flag32[] = { P, RW, US, A, D };
	const uint64_t *flags = mode == GUEST_PAGING_32 ? flag32 : flag64;
	unsigned nflags = mode == GUEST_PAGING_32 ? 5 : 6;
	uint32_t cases = 0;

	mismatches = 0;
	for (unsigned ctl = 0; ctl < 16; ctl++) {
		for (unsigned ai = 0; ai < sizeof(accesses) / sizeof(accesses[0]); ai++) {
			for (unsigned big = 0; big < 2; big++) {
				for (unsigned pdm = 0; pdm < (1u << nflags); pdm++) {
					for (unsigned ptm = 0; ptm < (big ? 1u : (1u << nflags)); ptm++) {
						struct case_desc c = { .mode = mode, .width = width };

						for (unsigned b = 0; b < nflags; b++) {
							if (pdm & (1u << b))
								c.pde |= flags[b];
							if (ptm & (1u << b))
								c.pte |= flags[b];
						}
						/* The upper levels grant everything; A clear on odd ctl. */
						c.upper = P | RW | US | (ctl & 1 ? 0 : A);
						c.wp = ctl & 2;
						c.nxe = ctl & 4;
						c.smep = ctl & 8;
						c.pse = true;
						if (big)
							c.pde |= PS;
						c.access = accesses[ai];
						/* Keep the pte present when the pde is a table: cheaper cases. */
						if (!big && !(c.pde & P) && ptm)
							continue;
						run_case(&c);
						cases++;
						if (mismatches > 20)
							return cases;
					}
				}
			}
		}
	}
	return cases;
}

static void long_mode_walk_agrees_with_oracle_on_every_bit_combination(void)
{
	uint32_t n = enumerate(GUEST_PAGING_64, MMU_HOST_64);

	printf("  %u cases\n", n);
	CHECK_EQ_U64(mismatches, 0);
}

static void pae_walk_agrees_with_oracle_on_32_bit_host(void)
{
	uint32_t n = enumerate(GUEST_PAGING_PAE, MMU_HOST_32);

	printf("  %u cases\n", n);
	CHECK_EQ_U64(mismatches, 0);
}

static void two_level_walk_agrees_with_oracle(void)
{
	uint32_t n = enumerate(GUEST_PAGING_32, MMU_HOST_32);

	printf("  %u cases\n", n);
	CHECK_EQ_U64(mismatches, 0);
}

TEST_MAIN(TEST(long_mode_walk_agrees_with_oracle_on_every_bit_combination),
	  TEST(pae_walk_agrees_with_oracle_on_32_bit_host),
	  TEST(two_level_walk_agrees_with_oracle))
