/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Crash reports: the timeline of the part of a run that matters, rendered
 * as text, JSON or a self-contained HTML page.
 *
 * "The part that matters" starts at the earlier of the offending read's
 * first step and the first step of the oldest write whose value the oracle
 * allowed for that read, and ends with the read.  Its rows are the accesses
 * to the divergent spte and its shadow page's clear_spte_count, the lock,
 * everything the reading CPU did, the operations and kernel functions that
 * made those accesses, and the logical writes and reads the model reported.
 */
#include "tools/report.h"

#include "mmu/guest.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static sim_addr count_addr_of(sim_addr sptep)
{
	return MMU_ADDR_COUNT + (sptep - MMU_ADDR_SPT) / MMU_SP_WORDS;
}

/*
 * A readable name for a simulated memory word (the layout of mmu/mmu.h and
 * mmu/guest.h).  With slots, the spte target's sptes are named by the slot
 * its programs use.
 */
static void addr_name(char *buf, size_t cap, sim_addr a, bool whole, bool slots)
{
	if (a == MMU_ADDR_LOCK) {
		snprintf(buf, cap, "mmu_lock");
	} else if (a >= MMU_ADDR_MODE && a < MMU_ADDR_MODE + MMU_VCPUS_MAX) {
		snprintf(buf, cap, "vcpu%u->mode", a - MMU_ADDR_MODE);
	} else if (a >= MMU_ADDR_REQ && a < MMU_ADDR_REQ + MMU_VCPUS_MAX) {
		snprintf(buf, cap, "vcpu%u->requests", a - MMU_ADDR_REQ);
	} else if (a == MMU_ADDR_TLBS_DIRTY) {
		snprintf(buf, cap, "tlbs_dirty");
	} else if (a == MMU_ADDR_NOTIFIER_SEQ) {
		snprintf(buf, cap, "mmu_notifier_seq");
	} else if (a == MMU_ADDR_NOTIFIER_COUNT) {
		snprintf(buf, cap, "mmu_notifier_count");
	} else if (a == MMU_ADDR_MEMSLOTS_GEN) {
		snprintf(buf, cap, "memslots->generation");
	} else if (a == MMU_ADDR_HOST_MM_LOCK) {
		snprintf(buf, cap, "host mm lock");
	} else if (a == MMU_ADDR_SLOTS_LOCK) {
		snprintf(buf, cap, "slots_lock");
	} else if (a >= MMU_ADDR_COUNT && a < MMU_ADDR_COUNT + MMU_SP_MAX) {
		snprintf(buf, cap, "sp%u.clear_spte_count", a - MMU_ADDR_COUNT);
	} else if (a >= MMU_ADDR_SRCU && a < MMU_ADDR_SRCU + MMU_VCPUS_MAX) {
		snprintf(buf, cap, "vcpu%u srcu", a - MMU_ADDR_SRCU);
	} else if (a >= MMU_ADDR_DIRTY_BITMAP && a < MMU_ADDR_SPT) {
		snprintf(buf, cap, "dirty_bitmap[gfn %u..%u]", (a - MMU_ADDR_DIRTY_BITMAP) * 32,
			 (a - MMU_ADDR_DIRTY_BITMAP) * 32 + 31);
	} else if (a >= MMU_ADDR_SPT && a < MMU_ADDR_SPT + MMU_SP_MAX * MMU_SP_WORDS) {
		sim_addr low = a & ~1u;
		const char *half = whole ? "" : (a & 1) ? ".high" : ".low";

		for (uint32_t s = 0; slots && s < FZ_SLOTS; s++)
			if (fz_slot_sptep(s) == low) {
				snprintf(buf, cap, "slot%u%s", s, half);
				return;
			}
		snprintf(buf, cap, "sp%u[%u]%s", (low - MMU_ADDR_SPT) / MMU_SP_WORDS,
			 (low - MMU_ADDR_SPT) % MMU_SP_WORDS / 2, half);
	} else if (a >= MMU_ADDR_GUEST && a < MMU_ADDR_GUEST + GUEST_BACKED_MAX * GUEST_FRAME_WORDS) {
		snprintf(buf, cap, "guest table %u word %u", (a - MMU_ADDR_GUEST) / GUEST_FRAME_WORDS,
			 (a - MMU_ADDR_GUEST) % GUEST_FRAME_WORDS);
	} else if (a >= MMU_ADDR_HOST_PTE) {
		snprintf(buf, cap, "host pte of gfn %u", a - MMU_ADDR_HOST_PTE);
	} else {
		snprintf(buf, cap, "word %u", a);
	}
}

static void access_text(char *buf, size_t cap, const struct sim_event *e, enum sim_mm mm,
			bool slots)
{
	char name[48];

	addr_name(name, sizeof(name), e->addr,
		  e->kind == SIM_EV_LOAD64 || e->kind == SIM_EV_STORE64 ||
			  e->kind == SIM_EV_DRAIN64 || e->kind == SIM_EV_CMPXCHG64,
		  slots);
	switch (e->kind) {
	case SIM_EV_LOAD32:
		snprintf(buf, cap, "load %s -> %08" PRIx64, name, e->value);
		break;
	case SIM_EV_STORE32:
		snprintf(buf, cap, "store %s = %08" PRIx64 "%s", name, e->value,
			 mm != SIM_MM_SC ? " (buffered)" : "");
		break;
	case SIM_EV_DRAIN32:
		snprintf(buf, cap, "drain: %s = %08" PRIx64 " visible", name, e->value);
		break;
	case SIM_EV_LOAD64:
		snprintf(buf, cap, "load64 %s -> %016" PRIx64, name, e->value);
		break;
	case SIM_EV_STORE64:
		snprintf(buf, cap, "store64 %s = %016" PRIx64 "%s", name, e->value,
			 mm != SIM_MM_SC ? " (buffered)" : "");
		break;
	case SIM_EV_DRAIN64:
		snprintf(buf, cap, "drain: %s = %016" PRIx64 " visible", name, e->value);
		break;
	case SIM_EV_XCHG32:
		snprintf(buf, cap, "xchg %s = %08" PRIx64 " (was %08" PRIx64 ")", name, e->value,
			 e->value2);
		break;
	case SIM_EV_CMPXCHG32:
	case SIM_EV_CMPXCHG64:
		snprintf(buf, cap, "cmpxchg%s %s = %016" PRIx64 " %s (found %016" PRIx64 ")",
			 e->kind == SIM_EV_CMPXCHG64 ? "64" : "", name, e->value,
			 e->note ? "ok" : "FAILED", e->value2);
		break;
	case SIM_EV_AND32:
		snprintf(buf, cap, "clear_bit %s &= %08" PRIx64 " (was %08" PRIx64 ")", name,
			 e->value, e->value2);
		break;
	case SIM_EV_OR32:
		snprintf(buf, cap, "set_bit %s |= %08" PRIx64 " (was %08" PRIx64 ")", name,
			 e->value, e->value2);
		break;
	case SIM_EV_LOCK:
	case SIM_EV_UNLOCK:
		snprintf(buf, cap, "%s %s", sim_ev_name(e->kind), name);
		break;
	case SIM_EV_INVAL32:
		/* Relaxed memory: the CPU stops seeing a stale value of the word. */
		snprintf(buf, cap, "invalidate %s: sees %08" PRIx64 " (stale %08" PRIx64 " dropped)",
			 name, e->value, e->value2);
		break;
	default:
		snprintf(buf, cap, "%s", sim_ev_name(e->kind));
		break;
	}
}

/* Does event e change memory (as other CPUs see it), and how? */
static void apply_memory(uint32_t *mem_low, uint32_t *mem_high, uint32_t *count,
			 sim_addr sptep, const struct sim_event *e, enum sim_mm mm)
{
	uint64_t v = e->value;
	bool writes64 = false, writes32 = false;

	switch (e->kind) {
	case SIM_EV_STORE32:
		writes32 = mm == SIM_MM_SC;
		break;
	case SIM_EV_DRAIN32:
		writes32 = true;
		break;
	case SIM_EV_STORE64:
		writes64 = mm == SIM_MM_SC;
		break;
	case SIM_EV_DRAIN64:
		writes64 = true;
		break;
	case SIM_EV_XCHG32:
		writes32 = true;
		break;
	case SIM_EV_AND32:
		writes32 = true;
		v = e->value2 & e->value;
		break;
	case SIM_EV_OR32:
		writes32 = true;
		v = e->value2 | e->value;
		break;
	case SIM_EV_CMPXCHG32:
		writes32 = e->note;
		break;
	case SIM_EV_CMPXCHG64:
		writes64 = e->note;
		break;
	default:
		break;
	}
	if (writes64 && e->addr == sptep) {
		*mem_low = (uint32_t)v;
		*mem_high = (uint32_t)(v >> 32);
	}
	if (writes32) {
		if (e->addr == sptep)
			*mem_low = (uint32_t)v;
		else if (e->addr == sptep + 1)
			*mem_high = (uint32_t)v;
		else if (e->addr == count_addr_of(sptep))
			*count = (uint32_t)v;
	}
}

static bool allowed(const struct fz_result *r, uint64_t v)
{
	for (uint32_t i = 0; i < r->verdict.allowed_count; i++)
		if (r->verdict.allowed[i] == v)
			return true;
	return false;
}

void timeline_build(struct timeline *tl, const struct fz_program *p, const struct fz_result *r,
		    const struct sim_event *log, size_t count)
{
	sim_addr sptep = fz_slot_sptep(r->divergence ? r->slot : 0);
	sim_addr cnt = count_addr_of(sptep);
	uint32_t first = 1, last = (uint32_t)r->steps;
	uint32_t mem_low = 0, mem_high = 0, counter = 0;
	bool divergent_marked = false;
	sim_addr fn_addr[SIM_CPUS_MAX] = { 0 };  /* the spte each CPU's current function works on */

	memset(tl, 0, sizeof(*tl));
	tl->cpus = p->cpus;
	tl->slot = r->divergence ? r->slot : 0;
	if (r->divergence) {
		first = (uint32_t)r->verdict.start;
		last = (uint32_t)r->verdict.end;
		for (size_t i = 0; i < count; i++) {
			const struct sim_event *e = &log[i];

			if (e->kind == SIM_EV_NOTE && e->note == MMU_NOTE_WRITE &&
			    e->addr == sptep && allowed(r, e->value)) {
				if (e->step < first)
					first = e->step;
				break;
			}
		}
	}
	if (first == 0)
		first = 1;
	tl->first_step = first;
	tl->last_step = last;

	for (size_t i = 0; i < count && tl->rows_count < TL_ROWS_MAX; i++) {
		const struct sim_event *e = &log[i];
		struct tl_row row = { 0 };
		bool in_range, include = false;

		if (e->kind != SIM_EV_NOTE && e->kind != SIM_EV_FINISH)
			apply_memory(&mem_low, &mem_high, &counter, sptep, e, p->mm);
		if (e->kind == SIM_EV_NOTE && e->note == MMU_NOTE_FN && e->cpu < SIM_CPUS_MAX)
			fn_addr[e->cpu] = e->addr;
		/* Notes carry the step of the access before them. */
		in_range = e->kind == SIM_EV_NOTE ? e->step + 1 >= first && e->step <= last
						  : e->step >= first && e->step <= last;
		if (!in_range)
			continue;
		row.step = e->step;
		row.cpu = e->cpu;
		row.mem_low = mem_low;
		row.mem_high = mem_high;
		row.count = counter;
		if (e->kind == SIM_EV_NOTE) {
			switch (e->note) {
			case MMU_NOTE_FN:
				row.kind = TL_FUNCTION;
				snprintf(row.text, sizeof(row.text), "%s%s",
					 mmu_fn_name((enum mmu_fn)e->value),
					 e->value == MMU_FN_SPTE_READ_LOCKED ||
							 e->value == MMU_FN_HW_WALK ||
							 e->value == MMU_FN_HW_SET_AD ? "" : "()");
				include = e->addr == sptep || e->addr == 0 ||
					  (r->divergence && e->cpu == r->cpu);
				break;
			case FZ_NOTE_OP: {
				const struct fz_op *op = &p->ops[e->value];

				row.kind = TL_OP;
				snprintf(row.text, sizeof(row.text), "op %u: %s slot%u",
					 (unsigned)e->value, fz_target_op_name(p->target, op->kind), op->slot);
				include = e->addr == sptep || (r->divergence && e->cpu == r->cpu);
				break;
			}
			case MMU_NOTE_WRITE:
				row.kind = TL_WRITE;
				snprintf(row.text, sizeof(row.text), "write begins: slot%u := %016" PRIx64,
					 tl->slot, e->value);
				include = e->addr == sptep;
				break;
			case MMU_NOTE_READ:
				row.kind = TL_READ;
				row.divergent = r->divergence && !divergent_marked &&
						e->cpu == r->cpu && e->value == r->verdict.value &&
						e->step == r->verdict.end;
				divergent_marked |= row.divergent;
				snprintf(row.text, sizeof(row.text), "%s returns %016" PRIx64 "%s",
					 e->value2 == MMU_READ_HW_WALK ? "snapshot" : "read", e->value,
					 row.divergent ? "  <== TORN" : "");
				include = e->addr == sptep;
				break;
			default:
				break;
			}
		} else if (e->kind != SIM_EV_FINISH) {
			row.kind = TL_ACCESS;
			row.on_slot = e->addr == sptep || e->addr == sptep + 1 || e->addr == cnt;
			row.store = e->kind == SIM_EV_STORE32 || e->kind == SIM_EV_STORE64 ||
				    e->kind == SIM_EV_DRAIN32 || e->kind == SIM_EV_DRAIN64 ||
				    e->kind == SIM_EV_XCHG32 || e->kind == SIM_EV_AND32 ||
				    e->kind == SIM_EV_OR32 || e->kind == SIM_EV_CMPXCHG32 ||
				    e->kind == SIM_EV_CMPXCHG64;
			access_text(row.text, sizeof(row.text), e, p->mm, p->target == FZ_TARGET_SPTE);
			/* A writer's barriers order its accesses to the spte: show them. */
			include = row.on_slot || e->kind == SIM_EV_LOCK || e->kind == SIM_EV_UNLOCK ||
				  (r->divergence && e->cpu == r->cpu) ||
				  ((e->kind == SIM_EV_WMB || e->kind == SIM_EV_MB ||
				    e->kind == SIM_EV_RMB) && e->cpu < SIM_CPUS_MAX &&
				   fn_addr[e->cpu] == sptep);
		}
		if (include)
			tl->rows[tl->rows_count++] = row;
	}
}

/* ---- text ---- */

#define COL 44

static void fields_row(FILE *f, const char *name, const uint64_t *v, uint32_t n,
		       void (*cell)(char *, size_t, uint64_t))
{
	char buf[32];

	fprintf(f, "  %-14s", name);
	for (uint32_t i = 0; i < n; i++) {
		cell(buf, sizeof(buf), v[i]);
		fprintf(f, " %-20s", buf);
	}
	fputc('\n', f);
}

static void cell_present(char *b, size_t c, uint64_t v)
{
	snprintf(b, c, "%s", fz_spte_is_mmio(v) ? "MMIO" : (v & PT_PRESENT_MASK) ? "yes" : "no");
}
static void cell_pfn(char *b, size_t c, uint64_t v)
{
	if (fz_spte_is_mmio(v))
		snprintf(b, c, "gfn 0x%" PRIx64, (uint64_t)((v & ((1ull << MMU_PHYS_BITS) - 1)) >> PAGE_SHIFT));
	else
		snprintf(b, c, "0x%" PRIx64, spte_to_pfn(v));
}
static void cell_pfn_high(char *b, size_t c, uint64_t v)
{
	snprintf(b, c, "0x%" PRIx64, spte_to_pfn(v) >> 20);
}
static void cell_gen(char *b, size_t c, uint64_t v)
{
	if (fz_spte_is_mmio(v))
		snprintf(b, c, "0x%x", get_mmio_spte_generation(v));
	else
		snprintf(b, c, "-");
}
#define FLAG_CELL(fn_name, mask)                                   \
	static void fn_name(char *b, size_t c, uint64_t v)         \
	{                                                          \
		snprintf(b, c, "%s", (v & (mask)) ? "1" : "0");    \
	}
FLAG_CELL(cell_w, PT_WRITABLE_MASK)
FLAG_CELL(cell_u, PT_USER_MASK)
FLAG_CELL(cell_a, PT_ACCESSED_MASK)
FLAG_CELL(cell_d, PT_DIRTY_MASK)
FLAG_CELL(cell_nx, PT64_NX_MASK)
FLAG_CELL(cell_hw, SPTE_HOST_WRITEABLE)
FLAG_CELL(cell_mw, SPTE_MMU_WRITEABLE)
static void cell_low(char *b, size_t c, uint64_t v)
{
	snprintf(b, c, "%08" PRIx64, (uint64_t)(v & 0xffffffffull));
}
static void cell_high(char *b, size_t c, uint64_t v)
{
	snprintf(b, c, "%08" PRIx64, v >> 32);
}

static void wrong_bits_text(char *b, size_t c, uint32_t w)
{
	snprintf(b, c, "%s%s%s%s%s", w & ORC_WRONG_PFN_HIGH ? " pfn bits >= 2^20 (address >= 4 GiB);" : "",
		 w & ORC_WRONG_PFN_LOW ? " pfn bits < 2^20;" : "", w & ORC_WRONG_NX ? " NX;" : "",
		 w & ORC_WRONG_MMIO ? " MMIO mask, gfn or generation;" : "",
		 w & ORC_WRONG_FLAGS ? " flag bits;" : "");
}

static const char *row_cell(const struct tl_row *row)
{
	static char buf[TL_TEXT_MAX + 8];

	switch (row->kind) {
	case TL_FUNCTION:
		snprintf(buf, sizeof(buf), "[%s]", row->text);
		return buf;
	case TL_OP:
		snprintf(buf, sizeof(buf), "== %s", row->text);
		return buf;
	case TL_WRITE:
	case TL_READ:
		snprintf(buf, sizeof(buf), "=> %s", row->text);
		return buf;
	default:
		return row->text;
	}
}

/*
 * The last steps of the run, every CPU, with the kernel functions and the
 * program's operations: for the mmu target, whose divergences are not tied
 * to one spte.
 */
#define TAIL_EVENTS 120

static void print_event_tail(FILE *f, const struct repro *rp)
{
	/* SPTERACE_EVENTS=N shows more (or fewer) of them. */
	const char *env = getenv("SPTERACE_EVENTS");
	size_t tail = env && atol(env) > 0 ? (size_t)atol(env) : TAIL_EVENTS;
	size_t from = rp->log_count > tail ? rp->log_count - tail : 0;

	if (!rp->log_count)
		return;
	fprintf(f, "\nthe last %zu events (step, cpu; cpus 0..%u are vCPUs, then host threads;\n"
		   "each CPU's events are indented to its own lane):\n",
		rp->log_count - from, rp->prog->cpus - 1);
	for (size_t i = from; i < rp->log_count; i++) {
		const struct sim_event *e = &rp->log[i];
		int lane = (int)e->cpu * 4;
		char text[160];

		if (e->kind == SIM_EV_NOTE && e->note == MMU_NOTE_FN)
			fprintf(f, "  %6u cpu%u %*s%s()\n", e->step, e->cpu, lane, "",
				mmu_fn_name((enum mmu_fn)e->value));
		else if (e->kind == SIM_EV_NOTE && e->note == FZ_NOTE_OP)
			fprintf(f, "  %6u cpu%u %*s== op %llu (%s)\n", e->step, e->cpu, lane, "",
				(unsigned long long)e->value,
				fz_target_op_name(rp->prog->target, (unsigned)e->value2));
		else if (e->kind != SIM_EV_NOTE) {
			access_text(text, sizeof(text), e, rp->prog->mm, false);
			fprintf(f, "  %6u cpu%u %*s  %s\n", e->step, e->cpu, lane, "", text);
		}
	}
}

void report_text(FILE *f, const struct repro *rp)
{
	const struct fz_program *p = rp->prog;
	const struct fz_result *r = rp->res;
	const struct timeline *tl = &rp->tl;
	uint64_t values[1 + ORC_ALLOWED_MAX];
	char desc[160], wrong[200], guards[160];
	bool shown[SIM_CPUS_MAX] = { false };
	uint32_t n = 0;

	fprintf(f, "spterace repro: %s\n\n", r->divergence ? "DIVERGENCE" : "no divergence");
	fprintf(f, "  input     %s\n", rp->path);
	fprintf(f, "  target    %s, mutant %s, format %u\n", fz_target_name(p->target),
		mmu_mutant_info(rp->opts->mutant)->name, p->version);
	if (mmu_get_protocol())
		fprintf(f, "  protocol  %s, plugged in place of the built-in split-spte primitives%s\n",
			mmu_get_protocol()->name,
			p->width == MMU_HOST_64 ? " (not used: a 64-bit host)" : "");
	fprintf(f, "  host      %s, %s, %s schedule, %u CPUs, %u operations\n",
		p->width == MMU_HOST_64 ? "64-bit" : "32-bit PAE",
		p->mm == SIM_MM_TSO ? "x86-TSO" : p->mm == SIM_MM_RELAXED ? "relaxed memory"
						 : "sequentially consistent",
		p->sched_kind == SIM_SCHED_BYTES ? "byte-stream" : p->sched_kind == SIM_SCHED_PCT
								    ? "PCT" : "preemption-list",
		p->cpus, p->ops_count);
	if (p->knobs) {
		char knobs[64];

		fz_knobs_names(p->knobs, knobs, sizeof(knobs));
		fprintf(f, "  knobs     %s\n", knobs);
	}
	fprintf(f, "  run       %s after %" PRIu64 " steps, event-log hash %016" PRIx64 "\n",
		sim_result_name(r->sim_result), r->steps, r->hash);
	fprintf(f, "  reads     %" PRIu64 " lockless, %" PRIu64 " hardware snapshots; %" PRIu64
		   " benign non-present, %" PRIu64 " benign blends; %" PRIu64 " retries\n",
		r->stats.reads, r->stats.snapshots, r->stats.nonpresent, r->stats.blends, r->retries);
	fz_guards_text(r, guards, sizeof(guards));
	fprintf(f, "  guards    %s (near misses: guards of the protocol that fired)\n", guards);
	if (!r->divergence) {
		fprintf(f, "\nverdict: pass (every read and snapshot was allowed)\n");
		if (p->target == FZ_TARGET_MMU)
			print_event_tail(f, rp);
		fprintf(f, "\nreproduce: %s\n", rp->command);
		return;
	}
	if (r->message[0]) {
		/* mmu target: a translation, fault or invariant check failed. */
		fprintf(f, "\nverdict: %s divergence at op %u (%s) on cpu%u\n  %s\n",
			r->divergence_class, r->op_index,
			fz_target_op_name(p->target, p->ops[r->op_index].kind), r->cpu, r->message);
		print_event_tail(f, rp);
		fprintf(f, "\nprogram (text form; ./spterace encode turns it back into an input):\n");
		fz_program_print(f, p);
		fprintf(f, "\nreproduce: %s\n", rp->command);
		return;
	}
	fprintf(f, "\nverdict: %s read (class %s)\n", orc_kind_name(r->verdict.kind),
		r->divergence_class);
	fprintf(f, "  by        cpu%u, op %u (%s slot%u), %s, steps %" PRIu64 "..%" PRIu64 "\n",
		r->cpu, r->op_index, fz_target_op_name(p->target, p->ops[r->op_index].kind), r->slot,
		r->read_kind == MMU_READ_HW_WALK ? "hardware page walk (atomic 64-bit load)"
						 : "mmu_spte_get_lockless",
		r->verdict.start, r->verdict.end);
	fz_spte_describe(desc, sizeof(desc), r->verdict.value);
	fprintf(f, "  returned  %s\n", desc);
	if (r->verdict.kind == ORC_TORN) {
		wrong_bits_text(wrong, sizeof(wrong), r->verdict.wrong_bits);
		fprintf(f, "  wrong    %s\n", wrong);
	}
	fprintf(f, "  legal values in the window (what the spte held while the read ran):\n");
	for (uint32_t i = 0; i < r->verdict.allowed_count; i++) {
		fz_spte_describe(desc, sizeof(desc), r->verdict.allowed[i]);
		fprintf(f, "    #%u  %s\n", i + 1, desc);
	}

	values[n++] = r->verdict.value;
	for (uint32_t i = 0; i < r->verdict.allowed_count; i++)
		values[n++] = r->verdict.allowed[i];
	fprintf(f, "\nfield by field\n  %-14s %-20s", "", "returned");
	for (uint32_t i = 1; i < n; i++) {
		char h[16];

		snprintf(h, sizeof(h), "legal #%u", i);
		fprintf(f, " %-20s", h);
	}
	fputc('\n', f);
	fields_row(f, "low half", values, n, cell_low);
	fields_row(f, "high half", values, n, cell_high);
	fields_row(f, "present", values, n, cell_present);
	fields_row(f, "pfn", values, n, cell_pfn);
	fields_row(f, "pfn >> 20", values, n, cell_pfn_high);
	fields_row(f, "W", values, n, cell_w);
	fields_row(f, "U", values, n, cell_u);
	fields_row(f, "A", values, n, cell_a);
	fields_row(f, "D", values, n, cell_d);
	fields_row(f, "NX", values, n, cell_nx);
	fields_row(f, "host-writable", values, n, cell_hw);
	fields_row(f, "mmu-writable", values, n, cell_mw);
	fields_row(f, "MMIO gen", values, n, cell_gen);

	fprintf(f, "\ninterleaving, steps %u..%u (slot%u, its clear_spte_count, mmu_lock, and "
		   "everything cpu%u did)\n",
		tl->first_step, tl->last_step, tl->slot, r->cpu);
	/* Only the CPUs that did something in this part of the run get a column. */
	for (uint32_t i = 0; i < tl->rows_count; i++)
		shown[tl->rows[i].cpu] = true;
	fprintf(f, " step |");
	for (uint32_t c = 0; c < tl->cpus; c++) {
		char h[16];

		if (!shown[c])
			continue;
		snprintf(h, sizeof(h), " cpu%u", c);
		fprintf(f, "%-*s|", COL, h);
	}
	fprintf(f, " slot%u in memory   count\n", tl->slot);
	for (uint32_t i = 0; i < tl->rows_count; i++) {
		const struct tl_row *row = &tl->rows[i];
		const char *cell = row_cell(row);

		if (row->kind == TL_ACCESS)
			fprintf(f, "%5u |", row->step);
		else
			fprintf(f, "      |");
		for (uint32_t c = 0; c < tl->cpus; c++) {
			if (!shown[c])
				continue;
			if (c == row->cpu)
				fprintf(f, " %-*.*s|", COL - 1, COL - 1, cell);
			else
				fprintf(f, "%-*s|", COL, "");
		}
		if (row->kind == TL_ACCESS && row->store && row->on_slot)
			fprintf(f, " %08x %08x  %u", row->mem_high, row->mem_low, row->count);
		fputc('\n', f);
		/* Long cells (cmpxchg64) continue on a line of their own. */
		if ((int)strlen(cell) > COL - 1) {
			fprintf(f, "      |");
			for (uint32_t c = 0; c < tl->cpus; c++) {
				if (!shown[c])
					continue;
				if (c == row->cpu)
					fprintf(f, "   %-*.*s|", COL - 3, COL - 3, cell + COL - 1);
				else
					fprintf(f, "%-*s|", COL, "");
			}
			fputc('\n', f);
		}
	}
	fprintf(f, "\nprogram (text form; ./spterace encode turns it back into an input):\n");
	fz_program_print(f, p);
	fprintf(f, "\nreproduce: %s\n", rp->command);
}

/* ---- JSON ---- */

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_spte(FILE *f, uint64_t v)
{
	char desc[160];

	fz_spte_describe(desc, sizeof(desc), v);
	fprintf(f, "{\"value\": \"0x%016" PRIx64 "\", \"present\": %s, \"mmio\": %s, "
		   "\"pfn\": \"0x%" PRIx64 "\", \"w\": %d, \"u\": %d, \"a\": %d, \"d\": %d, "
		   "\"nx\": %d, \"host_writable\": %d, \"mmu_writable\": %d, \"text\": ",
		v, (v & PT_PRESENT_MASK) && !fz_spte_is_mmio(v) ? "true" : "false",
		fz_spte_is_mmio(v) ? "true" : "false", spte_to_pfn(v), !!(v & PT_WRITABLE_MASK),
		!!(v & PT_USER_MASK), !!(v & PT_ACCESSED_MASK), !!(v & PT_DIRTY_MASK),
		!!(v & PT64_NX_MASK), !!(v & SPTE_HOST_WRITEABLE), !!(v & SPTE_MMU_WRITEABLE));
	json_string(f, desc);
	if (fz_spte_is_mmio(v))
		fprintf(f, ", \"mmio_generation\": %u", get_mmio_spte_generation(v));
	fputc('}', f);
}

static const char *row_kind_name(enum tl_row_kind k)
{
	static const char *const names[] = { "access", "function", "op", "write", "read" };

	return names[k];
}

void report_json(FILE *f, const struct repro *rp)
{
	const struct fz_program *p = rp->prog;
	const struct fz_result *r = rp->res;
	const struct timeline *tl = &rp->tl;

	fprintf(f, "{\n  \"input\": ");
	json_string(f, rp->path);
	fprintf(f, ",\n  \"target\": \"%s\",\n  \"mutant\": \"%s\",\n  \"format\": %u,\n",
		fz_target_name(p->target), mmu_mutant_info(rp->opts->mutant)->name, p->version);
	fprintf(f, "  \"host_bits\": %d,\n  \"memory_model\": \"%s\",\n  \"schedule\": \"%s\",\n"
		   "  \"cpus\": %u,\n",
		p->width == MMU_HOST_64 ? 64 : 32, sim_mm_name(p->mm),
		sim_sched_name(p->sched_kind), p->cpus);
	fprintf(f, "  \"run\": {\"result\": \"%s\", \"steps\": %" PRIu64 ", \"hash\": \"%016" PRIx64
		   "\", \"reads\": %" PRIu64 ", \"snapshots\": %" PRIu64 ", \"benign_nonpresent\": %"
		   PRIu64 ", \"benign_blends\": %" PRIu64 ", \"retries\": %" PRIu64 "},\n",
		sim_result_name(r->sim_result), r->steps, r->hash, r->stats.reads,
		r->stats.snapshots, r->stats.nonpresent, r->stats.blends, r->retries);
	fprintf(f, "  \"guards\": {");
	for (uint32_t g = 0; g < MMU_GUARD_NR; g++)
		fprintf(f, "%s\"%s\": %" PRIu64, g ? ", " : "", mmu_guard_name(g), r->guards[g]);
	fprintf(f, "},\n");
	fprintf(f, "  \"divergence\": %s,\n", r->divergence ? "true" : "false");
	if (r->divergence) {
		fprintf(f, "  \"verdict\": {\"kind\": \"%s\", \"class\": \"%s\", \"cpu\": %u, "
			   "\"op\": %u, \"slot\": %u, \"reader\": \"%s\", \"start\": %" PRIu64
			   ", \"end\": %" PRIu64 ", \"wrong_bits\": [",
			orc_kind_name(r->verdict.kind), r->divergence_class, r->cpu, r->op_index,
			r->slot, r->read_kind == MMU_READ_HW_WALK ? "hardware" : "lockless",
			r->verdict.start, r->verdict.end);
		{
			const char *names[] = { "pfn_high", "pfn_low", "nx", "mmio", "flags" };
			bool first = true;

			for (int b = 0; b < 5; b++)
				if (r->verdict.wrong_bits & (1u << b)) {
					fprintf(f, "%s\"%s\"", first ? "" : ", ", names[b]);
					first = false;
				}
		}
		fprintf(f, "],\n    \"returned\": ");
		json_spte(f, r->verdict.value);
		fprintf(f, ",\n    \"legal\": [");
		for (uint32_t i = 0; i < r->verdict.allowed_count; i++) {
			fprintf(f, "%s\n      ", i ? "," : "");
			json_spte(f, r->verdict.allowed[i]);
		}
		fprintf(f, "]},\n");
	}
	fprintf(f, "  \"timeline\": {\"first_step\": %u, \"last_step\": %u, \"slot\": %u, \"rows\": [",
		tl->first_step, tl->last_step, tl->slot);
	for (uint32_t i = 0; i < tl->rows_count; i++) {
		const struct tl_row *row = &tl->rows[i];

		fprintf(f, "%s\n    {\"step\": %u, \"cpu\": %u, \"kind\": \"%s\", \"text\": ",
			i ? "," : "", row->step, row->cpu, row_kind_name(row->kind));
		json_string(f, row->text);
		fprintf(f, ", \"memory_low\": \"%08x\", \"memory_high\": \"%08x\", "
			   "\"clear_spte_count\": %u%s}",
			row->mem_low, row->mem_high, row->count,
			row->divergent ? ", \"divergent\": true" : "");
	}
	fprintf(f, "]},\n  \"command\": ");
	json_string(f, rp->command);
	fprintf(f, "\n}\n");
}

/* ---- HTML ---- */

static void html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else
			fputc(*s, f);
	}
}

void report_html(FILE *f, const struct repro *rp)
{
	const struct fz_program *p = rp->prog;
	const struct fz_result *r = rp->res;
	const struct timeline *tl = &rp->tl;
	uint32_t span = tl->last_step - tl->first_step + 1;
	const int left = 90, lane_h = 70, top = 40, step_w = span > 60 ? 14 : 24;
	int width = left + (int)span * step_w + 40, height = top + (int)tl->cpus * lane_h + 30;
	char desc[160];

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		   "<title>spterace repro: ");
	html_text(f, rp->path);
	fprintf(f, "</title>\n<style>\n"
		   "body{font-family:sans-serif;margin:1.5em;color:#222}\n"
		   "code,td.t{font-family:monospace}\n"
		   ".verdict{font-size:1.3em;font-weight:bold;color:%s}\n"
		   "svg{border:1px solid #ccc;background:#fcfcfc}\n"
		   ".lane-label{font:bold 13px monospace}\n"
		   ".ev-store{fill:#2b6cb0}.ev-load{fill:#38a169}.ev-rmw{fill:#dd6b20}"
		   ".ev-other{fill:#a0aec0}.ev-drain{fill:#805ad5}\n"
		   ".torn{fill:#e53e3e;fill-opacity:.18;stroke:#e53e3e;stroke-width:2}\n"
		   "table{border-collapse:collapse;margin-top:1em}"
		   "td,th{border:1px solid #ddd;padding:2px 6px;font-size:12px;vertical-align:top}\n"
		   "tr.divergent td{background:#fed7d7;font-weight:bold}\n"
		   "</style></head><body>\n",
		r->divergence ? "#c53030" : "#2f855a");
	fprintf(f, "<h1>spterace repro</h1>\n<p class=\"verdict\">%s</p>\n",
		r->divergence ? "DIVERGENCE: torn spte read" : "no divergence");
	fprintf(f, "<p>input <code>");
	html_text(f, rp->path);
	fprintf(f, "</code>; target <b>%s</b>, mutant <b>%s</b>; %s host, %s, %u CPUs; %s after %"
		   PRIu64 " steps</p>\n",
		fz_target_name(p->target), mmu_mutant_info(rp->opts->mutant)->name,
		p->width == MMU_HOST_64 ? "64-bit" : "32-bit PAE", sim_mm_name(p->mm), p->cpus,
		sim_result_name(r->sim_result), r->steps);
	if (r->divergence) {
		fz_spte_describe(desc, sizeof(desc), r->verdict.value);
		fprintf(f, "<p>cpu%u, op %u read slot%u over steps %" PRIu64 "..%" PRIu64
			   " and returned <code class=\"returned\">", r->cpu, r->op_index, r->slot,
			r->verdict.start, r->verdict.end);
		html_text(f, desc);
		fprintf(f, "</code> (class %s). Legal values:</p>\n<ul class=\"legal\">\n",
			r->divergence_class);
		for (uint32_t i = 0; i < r->verdict.allowed_count; i++) {
			fz_spte_describe(desc, sizeof(desc), r->verdict.allowed[i]);
			fprintf(f, "<li><code>");
			html_text(f, desc);
			fprintf(f, "</code></li>\n");
		}
		fprintf(f, "</ul>\n");
	}

	fprintf(f, "<svg class=\"lanes\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		   "height=\"%d\" viewBox=\"0 0 %d %d\">\n", width, height, width, height);
	for (uint32_t s = tl->first_step; s <= tl->last_step; s += span > 60 ? 10 : 5) {
		int x = left + (int)(s - tl->first_step) * step_w;

		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#eee\"/>"
			   "<text x=\"%d\" y=\"%d\" font-size=\"10\">%u</text>\n",
			x, top - 12, x, height - 20, x, top - 16, s);
	}
	for (uint32_t c = 0; c < tl->cpus; c++) {
		int y = top + (int)c * lane_h;

		fprintf(f, "<g class=\"lane\" data-cpu=\"%u\"><rect x=\"0\" y=\"%d\" width=\"%d\" "
			   "height=\"%d\" fill=\"%s\"/><text class=\"lane-label\" x=\"8\" y=\"%d\">"
			   "cpu%u</text></g>\n",
			c, y, width, lane_h - 6, c % 2 ? "#f7fafc" : "#edf2f7", y + lane_h / 2, c);
	}
	if (r->divergence) {
		int x0 = left + (int)(r->verdict.start - tl->first_step) * step_w - 3;
		int x1 = left + (int)(r->verdict.end - tl->first_step) * step_w + step_w;
		int y = top + (int)r->cpu * lane_h;

		fprintf(f, "<rect class=\"torn\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"4\">"
			   "<title>torn read: steps %" PRIu64 "..%" PRIu64 "</title></rect>\n"
			   "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#c53030\">torn read</text>\n",
			x0, y + 2, x1 - x0, lane_h - 10, r->verdict.start, r->verdict.end, x0 + 4,
			y + lane_h - 12);
	}
	for (uint32_t i = 0; i < tl->rows_count; i++) {
		const struct tl_row *row = &tl->rows[i];
		const char *cls = "ev-other";
		int x = left + (int)(row->step - tl->first_step) * step_w;
		int y = top + (int)row->cpu * lane_h + 10;

		if (row->kind != TL_ACCESS) {
			if (row->kind == TL_WRITE || row->kind == TL_READ) {
				fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"9\" fill=\"%s\">%s</text>\n",
					x, y + 46, row->divergent ? "#c53030" : "#555",
					row->kind == TL_WRITE ? "write" : "read");
			}
			continue;
		}
		if (strncmp(row->text, "drain", 5) == 0)
			cls = "ev-drain";
		else if (strncmp(row->text, "store", 5) == 0)
			cls = "ev-store";
		else if (strncmp(row->text, "load", 4) == 0)
			cls = "ev-load";
		else if (row->store)
			cls = "ev-rmw";
		fprintf(f, "<rect class=\"event %s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
			   "rx=\"2\"><title>step %u cpu%u: ",
			cls, x, y + (row->on_slot ? 0 : 14), step_w - 4, row->on_slot ? 24 : 10,
			row->step, row->cpu);
		html_text(f, row->text);
		fprintf(f, "</title></rect>\n");
		/* Which word of the spte an access touched: lo, hi, the count, or both. */
		if (row->on_slot)
			fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"9\">%s</text>\n", x, y + 34,
				strstr(row->text, ".low") ? "lo" : strstr(row->text, ".high") ? "hi"
				: strstr(row->text, "count") ? "cnt" : "64");
	}
	fprintf(f, "</svg>\n<p>Blue: store; purple: store-buffer drain; green: load; orange: "
		   "atomic read-modify-write; grey: barrier or other. Tall boxes touch slot%u (lo: low "
		   "half, hi: high half, 64: both) or its clear_spte_count (cnt); \"write\" marks where "
		   "a logical spte write begins and \"read\" where a read returns. Hover for "
		   "details.</p>\n", tl->slot);

	fprintf(f, "<table class=\"timeline\"><tr><th>step</th>");
	for (uint32_t c = 0; c < tl->cpus; c++)
		fprintf(f, "<th>cpu%u</th>", c);
	fprintf(f, "<th>slot%u in memory (high low)</th><th>clear_spte_count</th></tr>\n", tl->slot);
	for (uint32_t i = 0; i < tl->rows_count; i++) {
		const struct tl_row *row = &tl->rows[i];

		fprintf(f, "<tr%s><td>%s", row->divergent ? " class=\"divergent\"" : "",
			row->kind == TL_ACCESS ? "" : "&nbsp;");
		if (row->kind == TL_ACCESS)
			fprintf(f, "%u", row->step);
		fprintf(f, "</td>");
		for (uint32_t c = 0; c < tl->cpus; c++) {
			fprintf(f, "<td class=\"t\">");
			if (c == row->cpu)
				html_text(f, row_cell(row));
			fprintf(f, "</td>");
		}
		fprintf(f, "<td class=\"t\">%08x %08x</td><td class=\"t\">%u</td></tr>\n",
			row->mem_high, row->mem_low, row->count);
	}
	fprintf(f, "</table>\n<p>Reproduce: <code>");
	html_text(f, rp->command);
	fprintf(f, "</code></p>\n</body></html>\n");
}
