/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The executor: one program, run on the simulated host against the model,
 * judged by the oracle.
 *
 * Each CPU runs its operations in program order.  Lock-holding operations
 * take kvm->mmu_lock around the model's writer; lockless ones run the
 * model's readers.  The model reports every logical spte write (begin at
 * its first store, end after its last store) and every lockless read; the
 * executor turns a write's end into a commit at the step its last store
 * became visible to other CPUs, and asks the oracle for a verdict on every
 * read and hardware snapshot.  The first divergence is kept; the run goes
 * on to the end, so its hash covers the whole schedule.
 */
#include "fuzz/program.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define FZ_WRITES_MAX 256   /* logical writes per run: ops * 2, with room */

struct fz_commit {
	struct fz_exec *x;
	uint32_t slot;
	uint32_t token;
};

struct fz_exec {
	struct sim *sim;
	struct kvm kvm;
	struct orc_state orc;
	bool orc_ready;
	const struct fz_program *prog;
	struct fz_result *res;
	uint32_t cur_op[SIM_CPUS_MAX];
	uint32_t token[SIM_CPUS_MAX];   /* the write each CPU has in flight */
	struct fz_commit commits[FZ_WRITES_MAX];
	uint32_t commits_count;
	struct fz_program forced;       /* the program with the options' overrides */
};

static const sim_addr slot_sptep[FZ_SLOTS] = {
	MMU_ADDR_SPT + 0 * MMU_SP_WORDS + 0, MMU_ADDR_SPT + 0 * MMU_SP_WORDS + 2,
	MMU_ADDR_SPT + 1 * MMU_SP_WORDS + 0, MMU_ADDR_SPT + 1 * MMU_SP_WORDS + 2,
};

/* The gfn each slot maps (sp->gfn + index of a direct page). */
static uint64_t slot_gfn(uint32_t slot)
{
	return 0x100 * (slot / 2) + slot % 2;
}

sim_addr fz_slot_sptep(uint32_t slot)
{
	assert(slot < FZ_SLOTS);
	return slot_sptep[slot];
}

static uint32_t sptep_slot(sim_addr sptep)
{
	for (uint32_t i = 0; i < FZ_SLOTS; i++)
		if (slot_sptep[i] == sptep)
			return i;
	assert(0 && "spte outside the harness slots");
	return 0;
}

struct fz_exec *fz_exec_new(void)
{
	struct fz_exec *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->sim = sim_new();
	if (!x->sim) {
		free(x);
		return NULL;
	}
	return x;
}

void fz_exec_free(struct fz_exec *x)
{
	if (!x)
		return;
	sim_free(x->sim);
	free(x);
}

struct sim *fz_exec_sim(struct fz_exec *x)
{
	return x->sim;
}

/* ---- observer ---- */

static void on_write_begin(void *ctx, sim_addr sptep, uint64_t v, uint64_t step)
{
	struct fz_exec *x = ctx;
	uint32_t slot = sptep_slot(sptep);

	x->token[sim_current_cpu(x->sim)] = orc_write_begin(&x->orc, slot, v, step);
}

static void on_visible(void *ctx, uint64_t step)
{
	struct fz_commit *c = ctx;

	orc_write_commit(&c->x->orc, c->slot, c->token, step);
}

static void on_write_end(void *ctx, sim_addr sptep)
{
	struct fz_exec *x = ctx;
	uint32_t slot = sptep_slot(sptep);
	struct fz_commit *c;

	assert(x->commits_count < FZ_WRITES_MAX);
	c = &x->commits[x->commits_count++];
	c->x = x;
	c->slot = slot;
	c->token = x->token[sim_current_cpu(x->sim)];
	sim_when_visible(x->sim, on_visible, c);
}

/*
 * Interleaving feedback: the verdict's shape.  How many values the spte
 * held during the read, and which of them it returned (the first, one in
 * between, the last, or none: a benign or torn read).
 */
void fz_verdict_feedback(struct sim *s, const struct orc_verdict *v, enum mmu_read_kind kind)
{
	uint32_t n = v->allowed_count < 7 ? v->allowed_count : 7, which = 0;

	for (uint32_t i = 0; i < v->allowed_count; i++)
		if (v->allowed[i] == v->value)
			which = i == 0 ? 1 : i + 1 == v->allowed_count ? 3 : 2;
	sim_feedback(s, 0x7f000000u | (uint32_t)v->kind << 8 | (uint32_t)kind << 5 | n << 2 | which);
}

static void on_read(void *ctx, sim_addr sptep, enum mmu_read_kind kind, uint64_t start,
		    uint64_t end, uint64_t v)
{
	struct fz_exec *x = ctx;
	uint32_t slot = sptep_slot(sptep);
	struct orc_verdict verdict;

	orc_judge_read(&x->orc, slot, start, end, v, kind == MMU_READ_HW_WALK, &verdict);
	fz_verdict_feedback(x->sim, &verdict, kind);
	if (verdict.divergence && !x->res->divergence) {
		uint32_t cpu = sim_current_cpu(x->sim);

		x->res->divergence = true;
		x->res->verdict = verdict;
		x->res->slot = slot;
		x->res->cpu = cpu;
		x->res->op_index = x->cur_op[cpu];
		x->res->read_kind = kind;
		x->res->divergence_class = fz_divergence_class(&verdict);
		/* Relaxed memory: the re-checks read out of order (corpus/findings/). */
		if (kind == MMU_READ_LOCKLESS && x->kvm.recheck_count_stale)
			x->res->divergence_class = "recheck-count-stale";
	}
}

static const struct mmu_observer observer = {
	.write_begin = on_write_begin,
	.write_end = on_write_end,
	.read = on_read,
};

/* ---- operations ---- */

static void op_locked(struct fz_exec *x, const struct fz_op *op)
{
	struct kvm *kvm = &x->kvm;
	sim_addr sptep = slot_sptep[op->slot];
	uint64_t old, v = fz_value(op->a, op->b);

	if (x->prog->knobs & FZ_KNOB_VOLATILE)
		v |= SPTE_HOST_WRITEABLE | SPTE_MMU_WRITEABLE;   /* locklessly modifiable */
	sim_spin_lock(x->sim, MMU_ADDR_LOCK);
	switch (op->kind) {
	case FZ_OP_SET:
		old = mmu_spte_read_locked(kvm, sptep);
		if (!is_shadow_present_pte(kvm, old))
			mmu_spte_set(kvm, sptep, v);
		else
			mmu_spte_update(kvm, sptep, (v & ~PT64_BASE_ADDR_MASK) |
							    (old & PT64_BASE_ADDR_MASK));
		break;
	case FZ_OP_UPDATE:
		old = mmu_spte_read_locked(kvm, sptep);
		/* set_spte on a present spte of the same pfn; else a fresh set. */
		if (is_shadow_present_pte(kvm, old))
			v = (v & ~PT64_BASE_ADDR_MASK) | (old & PT64_BASE_ADDR_MASK);
		mmu_spte_update(kvm, sptep, v);
		break;
	case FZ_OP_CLEAR_TRACK:
		mmu_spte_clear_track_bits(kvm, sptep);
		break;
	case FZ_OP_CLEAR_NOTRACK:
		mmu_spte_clear_no_track(kvm, sptep);
		break;
	case FZ_OP_REMAP:
		kvm_set_pte_rmapp_one(kvm, sptep, fz_pfn(op->a), op->b & 0x80);
		break;
	case FZ_OP_AGE:
		kvm_age_rmapp_one(kvm, sptep);
		break;
	case FZ_OP_MMIO:
		old = mmu_spte_read_locked(kvm, sptep);
		if (!is_shadow_present_pte(kvm, old))
			/* An spte maps one gfn: the MMIO gfn is the slot's own. */
			mark_mmio_spte(kvm, sptep, slot_gfn(op->slot), op->b & 6);
		break;
	default:
		assert(0);
	}
	sim_spin_unlock(x->sim, MMU_ADDR_LOCK);
}

static void op_lockless(struct fz_exec *x, uint32_t cpu, const struct fz_op *op)
{
	struct kvm *kvm = &x->kvm;
	sim_addr sptep = slot_sptep[op->slot];

	switch (op->kind) {
	case FZ_OP_READ:
		walk_shadow_page_lockless_begin(kvm, cpu);
		mmu_spte_get_lockless(kvm, sptep);
		walk_shadow_page_lockless_end(kvm, cpu);
		break;
	case FZ_OP_FAST_PF:
		fast_page_fault_spte(kvm, cpu, sptep);
		break;
	case FZ_OP_HW_WALK:
		mmu_hw_walk_spte(kvm, sptep);
		break;
	default:
		assert(0);
	}
}

static void cpu_main(struct sim *s, uint32_t cpu, void *arg)
{
	struct fz_exec *x = arg;
	const struct fz_program *p = x->prog;

	for (uint32_t i = 0; i < p->ops_count; i++) {
		const struct fz_op *op = &p->ops[i];

		if (op->cpu != cpu)
			continue;
		x->cur_op[cpu] = i;
		sim_note(s, FZ_NOTE_OP, slot_sptep[op->slot], i, op->kind);
		if (op->kind >= FZ_OP_READ)
			op_lockless(x, cpu, op);
		else
			op_locked(x, op);
	}
}

void fz_exec_run(struct fz_exec *x, const struct fz_program *p, const struct fz_options *o,
		 struct fz_result *out)
{
	if (o->force.mm || o->force.sched || o->force.knobs) {
		/* Overrides: run a copy (the executors keep pointers into it). */
		x->forced = *p;
		fz_program_apply(&x->forced, o);
		p = &x->forced;
	}
	struct sim_config sc = {
		.cpus = p->cpus,
		.mm = p->mm,
		.sched = p->sched_kind,
		.sched_bytes = p->sched,
		.sched_len = p->sched_len,
		.seed = p->seed,
		.log = o->log,
		.bare = o->bare,
		.lazy_drains = (p->knobs & FZ_KNOB_LAZY_DRAINS) != 0,
		.feedback = o->bare ? NULL : o->feedback,
		.feedback_size = o->feedback_size,
		.steer = o->steer,
	};
	struct orc_config oc = { .phys_bits = MMU_PHYS_BITS, .mmio_enabled = true,
				 .strict = o->strict };

	memset(out, 0, sizeof(*out));
	if (p->target == FZ_TARGET_MMU) {
		fz_mmu_run(x->sim, p, o, out);
		return;
	}
	x->prog = p;
	x->res = out;
	x->commits_count = 0;
	memset(x->cur_op, 0, sizeof(x->cur_op));
	memset(x->token, 0, sizeof(x->token));
	sim_reset(x->sim, &sc);
	/* orc_init clears the whole history array; a reset is enough per run. */
	if (!x->orc_ready || x->orc.config.strict != oc.strict) {
		orc_init(&x->orc, &oc);
		x->orc_ready = true;
	} else {
		orc_reset(&x->orc);
	}
	mmu_init(&x->kvm, x->sim, p->width, o->mutant, o->bare ? NULL : &observer, x);
	mmu_set_knobs(&x->kvm, p->knobs & FZ_KNOB_NARROW_COUNT, p->knobs & FZ_KNOB_FORCE_SLOW);
	for (uint32_t cpu = 0; cpu < p->cpus; cpu++)
		sim_spawn(x->sim, cpu, cpu_main, x);
	out->sim_result = sim_run(x->sim);
	out->hash = sim_hash(x->sim);
	out->steps = sim_steps(x->sim);
	out->stats = x->orc.stats;
	out->retries = x->kvm.read_retries;
	mmu_guard_counts(&x->kvm, out->guards);
}

/* ---- classification ---- */

const char *fz_divergence_class(const struct orc_verdict *v)
{
	uint32_t low = (uint32_t)v->value, high = (uint32_t)(v->value >> 32);
	uint32_t low_epochs = 0, high_epochs = 0;
	bool low_mmio = false, low_present = false, high_present = false;
	bool one_pfn = true, seen_present = false;
	uint64_t pfn = 0;

	if (v->kind == ORC_BENIGN_BLEND)
		return "blend";
	for (uint32_t i = 0; i < v->allowed_count; i++) {
		uint64_t m = v->allowed[i];
		bool mmio = fz_spte_is_mmio(m), present = (m & PT_PRESENT_MASK) && !mmio;

		if (present) {
			if (seen_present)
				one_pfn &= (m & PT64_BASE_ADDR_MASK) == pfn;
			pfn = m & PT64_BASE_ADDR_MASK;
			seen_present = true;
		}
		if ((uint32_t)m == low) {
			low_mmio |= mmio;
			low_present |= present;
			if (present)
				low_epochs |= v->allowed_epochs[i];
		}
		if ((uint32_t)(m >> 32) == high) {
			high_present |= present || m == 0;
			if (present)
				high_epochs |= v->allowed_epochs[i];
		}
	}
	if (low_mmio && high_present)
		return "mmio-low-present-high";
	/*
	 * Both halves came from present values of one pfn held between the
	 * same two clears: in-place updates (mmu_spte_update) took the low
	 * half away and back, which clear_spte_count does not count.  Halves
	 * that only pair across a clear, or a pfn change in place, are the
	 * race the count exists for.
	 */
	if (low_epochs & high_epochs && one_pfn)
		return "present-update-aba";
	if (low_present && high_present)
		return "stale-high-half";
	return "other";
}

/*
 * Divergences of the faithful model that have been analysed and recorded.
 * The harness counts them instead of aborting (unless report_known), so a
 * campaign keeps looking for new ones; bazel test replays each recorded
 * witness and requires it to still diverge.
 */
static const struct {
	enum fz_target target;
	const char *divergence_class;
	const char *where;
} known_findings[] = {
	{ FZ_TARGET_SPTE, "mmio-low-present-high",
	  "corpus/findings/spte/mmio-to-present-w1-tear" },
	{ FZ_TARGET_SPTE, "present-update-aba",
	  "corpus/findings/spte/present-update-low-aba" },
	{ FZ_TARGET_SPTE, "recheck-count-stale",
	  "corpus/findings/spte/relaxed-count-recheck-reads-before-low-recheck" },
	/* The same code runs in the full model: the same analysis applies. */
	{ FZ_TARGET_MMU, "mmio-low-present-high",
	  "corpus/findings/spte/mmio-to-present-w1-tear" },
	{ FZ_TARGET_MMU, "present-update-aba",
	  "corpus/findings/spte/present-update-low-aba" },
	{ FZ_TARGET_MMU, "stale-mmio-spte",
	  "corpus/findings/mmu/mmio-spte-stamped-with-new-generation" },
	{ FZ_TARGET_MMU, "stale-mmio-cache",
	  "corpus/findings/mmu/mmio-cache-outlives-memslot-creation" },
	{ FZ_TARGET_MMU, "mmio-pf-bug",
	  "corpus/findings/mmu/mmio-walk-finds-present-spte" },
	{ FZ_TARGET_MMU, "prefetch-in-invalidation",
	  "corpus/findings/mmu/invlpg-prefetch-maps-frame-inside-invalidate-range" },
};

bool fz_known_finding(enum fz_target t, const char *divergence_class, const char **out_where)
{
	for (size_t i = 0; i < sizeof(known_findings) / sizeof(known_findings[0]); i++) {
		if (known_findings[i].target == t &&
		    strcmp(known_findings[i].divergence_class, divergence_class) == 0) {
			if (out_where)
				*out_where = known_findings[i].where;
			return true;
		}
	}
	return false;
}

/* ---- report ---- */

static const char *wrong_bits_text(uint32_t w, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s%s%s", w & ORC_WRONG_PFN_HIGH ? " pfn-bits>=2^20(>=4GiB)" : "",
		 w & ORC_WRONG_PFN_LOW ? " pfn-bits<2^20" : "", w & ORC_WRONG_NX ? " NX" : "",
		 w & ORC_WRONG_MMIO ? " MMIO" : "", w & ORC_WRONG_FLAGS ? " flags" : "");
	return buf;
}

void fz_report_print(FILE *f, const struct fz_program *p, const struct fz_options *o,
		     const struct fz_result *r)
{
	char desc[160], wrong[128], guards[160];

	fprintf(f, "target: %s\nmutant: %s\nrun: %s after %" PRIu64 " steps, hash %016" PRIx64 "\n",
		fz_target_name(p->target), mmu_mutant_info(o->mutant)->name,
		sim_result_name(r->sim_result), r->steps, r->hash);
	fprintf(f, "reads: %" PRIu64 " lockless, %" PRIu64 " hardware snapshots; "
		   "%" PRIu64 " benign non-present, %" PRIu64 " benign blends, %" PRIu64
		   " retries\n",
		r->stats.reads, r->stats.snapshots, r->stats.nonpresent, r->stats.blends,
		r->retries);
	fz_guards_text(r, guards, sizeof(guards));
	fprintf(f, "guards fired (near misses): %s\n", guards);
	if (!r->divergence) {
		fprintf(f, "verdict: pass\n");
		return;
	}
	if (r->message[0]) {
		fprintf(f, "verdict: DIVERGENCE (%s) at op %u: %s\n", r->divergence_class, r->op_index,
			r->message);
		return;
	}
	fprintf(f, "verdict: DIVERGENCE (%s) on slot%u, cpu%u, op %u (%s)\n",
		orc_kind_name(r->verdict.kind), r->slot, r->cpu, r->op_index,
		r->read_kind == MMU_READ_HW_WALK ? "hardware walker snapshot"
						 : "mmu_spte_get_lockless");
	fprintf(f, "class: %s\n", r->divergence_class);
	fz_spte_describe(desc, sizeof(desc), r->verdict.value);
	fprintf(f, "returned: %s\n", desc);
	fprintf(f, "window: steps %" PRIu64 "..%" PRIu64 "\n", r->verdict.start, r->verdict.end);
	if (r->verdict.kind == ORC_TORN)
		fprintf(f, "wrong bits:%s\n",
			wrong_bits_text(r->verdict.wrong_bits, wrong, sizeof(wrong)));
	for (uint32_t i = 0; i < r->verdict.allowed_count; i++) {
		fz_spte_describe(desc, sizeof(desc), r->verdict.allowed[i]);
		fprintf(f, "legal: %s\n", desc);
	}
}
