/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz/: the input format, its total decoder and text form, and the
 * executor that wires sim/ + mmu/ + oracle/ for one input.
 *
 * Input format, version 3 (every byte string decodes to a valid program):
 *
 *   byte 0      format version: 1 decodes as format 1, 3 as format 3, every
 *               other value as format 2.  In formats 2 and 3 the mmu
 *               target's CPUs set the accessed and dirty bits of sptes as
 *               the hardware does; in format 1 (inputs written before that
 *               was modelled) they leave them alone, so old witnesses keep
 *               their runs.  Format 3 is format 2 with a fourth header byte
 *               (byte 3, the extension below); the encoder writes format 3
 *               only for a program that needs the extension.
 *   byte 1      configuration:
 *                 bit 0     host width: 0 = 32-bit PAE, 1 = 64-bit
 *                 bit 1     memory model: 0 = x86-TSO, 1 = sequentially consistent
 *                 bit 2     schedule kind: 0 = preemption list, 1 = byte stream
 *                 bits 3-4  CPUs - 2 (2, 3, 4, 4); the mmu target's vCPUs
 *                 bits 5-7  spte target: ignored; mmu target: bits 5-6 the
 *                           initial paging mode (off, 32-bit, PAE, long), bit 7 CR0.WP
 *   byte 2      number of operations, modulo FZ_OPS_MAX + 1
 *   byte 3      format 3 only, the extension (issue 8):
 *                 bit 0     relaxed memory model (overrides config bit 1);
 *                           spte target only (the mmu target ignores it:
 *                           its checks assume x86 ordering)
 *                 bit 1     PCT schedule (overrides config bit 2); the
 *                           schedule bytes are PCT's parameters (sim/sim.h)
 *                 bit 2     knob: narrow clear_spte_count (mmu_set_knobs)
 *                 bit 3     knob: every update and clear takes the slow path
 *                 bit 4     knob: spte target, every spte value an operation
 *                           installs is locklessly modifiable (volatile)
 *                 bit 5     knob: lazy store-buffer drains (struct
 *                           sim_config's lazy_drains)
 *                 bits 6-7  ignored
 *   then        4 bytes per operation (fewer if the input ends early):
 *                 kind (modulo FZ_OP_COUNT), where (cpu = high nibble modulo
 *                 CPUs, slot = low nibble modulo FZ_SLOTS), value bytes a, b
 *   rest        the schedule: (gap, target) pairs for the preemption list,
 *               one byte per step for the byte stream
 *
 * A missing byte reads as 0, so an empty input is the default program: a
 * 32-bit host, TSO, two CPUs, no operations.  The PRNG that continues a
 * byte-stream schedule is seeded from a hash of the configuration and the
 * schedule bytes (fz_program_seed), so re-encoding never changes a run and
 * editing an operation does not reshuffle the schedule.
 */
#ifndef SPTERACE_FUZZ_PROGRAM_H
#define SPTERACE_FUZZ_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mmu/mmu.h"
#include "oracle/oracle.h"
#include "sim/sim.h"

#define FZ_FORMAT_VERSION 2
#define FZ_FORMAT_LEGACY 1   /* no hardware A/D updates */
#define FZ_FORMAT_EXT 3      /* format 2 plus the extension byte */
#define FZ_HEADER_BYTES 3
#define FZ_HEADER_BYTES_EXT 4
#define FZ_OP_BYTES 4
/* Enough for a writer, a reader and a rewrite per CPU, small enough to minimize. */
#define FZ_OPS_MAX 32
#define FZ_SLOTS 4
/* Longer schedules add nothing: a run has at most a few thousand steps. */
#define FZ_SCHED_MAX 4096
#define FZ_INPUT_MAX (FZ_HEADER_BYTES_EXT + FZ_OPS_MAX * FZ_OP_BYTES + FZ_SCHED_MAX)

enum fz_target {
	FZ_TARGET_SPTE = 0,
	FZ_TARGET_MMU,
	FZ_TARGET_COUNT,
};

/*
 * Operations of the mmu target: 2 to 4 vCPUs (the operation's cpu) and one
 * or two host threads (host operations; cpu & 1 picks the thread).  Their
 * fields: a selects a guest virtual address of the guest's window (or a
 * page-table entry, or the guest frame a host operation acts on), b an
 * access type or a value.
 */
enum fz_mmu_op_kind {
	/* vCPU operations */
	FZ_MMU_ACCESS = 0,   /* the guest reads, writes or fetches (b: W=1 U=2 F=4) */
	FZ_MMU_GPTE_WRITE,   /* the guest writes one of its page-table entries */
	FZ_MMU_INVLPG,       /* invlpg */
	FZ_MMU_MOV_CR3,      /* mov cr3: the same root (b&1 = 0) or the other one */
	FZ_MMU_MODE,         /* a paging-mode change (a: mode, b: WP, NXE, SMEP) */
	/* host-thread operations */
	FZ_MMU_INVALIDATE,   /* invalidate_range_start, remap the frame, _end (b: new pfn) */
	FZ_MMU_CHANGE_PTE,   /* remap the frame, then change_pte (b: new pfn, writable) */
	FZ_MMU_AGE,          /* clear_flush_young (b&1 = 0) or test_young */
	FZ_MMU_DIRTY_LOG,    /* enable dirty logging (b&1 = 0) or get_dirty_log */
	FZ_MMU_ZAP_ALL,      /* kvm_mmu_invalidate_zap_all_pages */
	FZ_MMU_MEMSLOT,      /* the MMIO holes become a RAM memslot, or it is deleted */
	FZ_MMU_OP_COUNT,
};

/* Host-thread operations run on the host threads, after the vCPUs. */
static inline bool fz_mmu_op_is_host(unsigned kind)
{
	return kind >= FZ_MMU_INVALIDATE && kind < FZ_MMU_OP_COUNT;
}

enum fz_op_kind {
	/* Under mmu_lock. */
	FZ_OP_SET = 0,      /* mmu_spte_set, or mmu_spte_update if present */
	FZ_OP_UPDATE,       /* mmu_spte_update keeping the pfn (fast or slow path) */
	FZ_OP_CLEAR_TRACK,  /* mmu_spte_clear_track_bits */
	FZ_OP_CLEAR_NOTRACK,/* mmu_spte_clear_no_track */
	FZ_OP_REMAP,        /* kvm_set_pte_rmapp: clear then set, no flush */
	FZ_OP_AGE,          /* kvm_age_rmapp: clear_bit(A) */
	FZ_OP_MMIO,         /* mark_mmio_spte on a non-present spte */
	/* Lockless. */
	FZ_OP_READ,         /* lockless begin, mmu_spte_get_lockless, end */
	FZ_OP_FAST_PF,      /* fast_page_fault: lockless read, cmpxchg64 */
	FZ_OP_HW_WALK,      /* hardware walker: atomic 64-bit snapshot */
	FZ_OP_COUNT,
};

struct fz_op {
	uint8_t kind;   /* enum fz_op_kind */
	uint8_t cpu;
	uint8_t slot;
	uint8_t a, b;   /* value selectors (see fz_value) */
};

/* Small-scope knobs of format 3 (extension bits 2-5, shifted down). */
enum {
	FZ_KNOB_NARROW_COUNT = 1,
	FZ_KNOB_FORCE_SLOW = 2,
	FZ_KNOB_VOLATILE = 4,
	FZ_KNOB_LAZY_DRAINS = 8,
	FZ_KNOBS_ALL = 15,
};
#define FZ_KNOBS_COUNT 4

struct fz_program {
	uint8_t version;         /* 1, 2 or 3 (FZ_FORMAT_EXT: see fz_program_needs_ext) */
	enum fz_target target;
	uint8_t config_high;     /* config bits 5-7: the mmu target's initial paging mode and WP */
	enum mmu_host_width width;
	enum sim_mm mm;
	enum sim_sched_kind sched_kind;
	uint32_t cpus;
	uint8_t knobs;           /* FZ_KNOB_*: format 3 only */
	uint32_t ops_count;
	struct fz_op ops[FZ_OPS_MAX];
	size_t sched_len;
	uint8_t sched[FZ_SCHED_MAX];
	uint64_t seed;
};

/* The program uses the extension byte (relaxed memory, PCT or a knob). */
bool fz_program_needs_ext(const struct fz_program *p);
/* Total: never fails, never reads past size. */
void fz_decode(enum fz_target target, const uint8_t *data, size_t size, struct fz_program *out);
uint64_t fz_program_seed(const struct fz_program *p);
/* The canonical bytes of a program; returns the length (<= FZ_INPUT_MAX). */
size_t fz_encode(const struct fz_program *p, uint8_t *out, size_t cap);
/* The line-per-operation text form. */
void fz_program_print(FILE *f, const struct fz_program *p);
/*
 * Parse the text form back (the inverse of fz_program_print; '#' starts a
 * comment).  Returns false with a one-line message in err on bad input.
 */
bool fz_program_parse(const char *text, struct fz_program *out, char *err, size_t err_cap);

/* ---- executor ---- */

/* Event-log note of the executor: an operation starts (value: op index, arg: kind). */
#define FZ_NOTE_OP 16

/* The spte of each harness slot (sim/ address of its low half). */
sim_addr fz_slot_sptep(uint32_t slot);

/*
 * Overrides of what an input says (--mm, --sched, --knobs, and the sidecar
 * keys mm, sched, knobs): a run uses them whatever the input's bytes are.
 * 0 means no override, so a zeroed struct overrides nothing.
 */
struct fz_overrides {
	uint8_t mm;         /* 0, or enum sim_mm + 1 */
	uint8_t sched;      /* 0, or enum sim_sched_kind + 1 */
	uint8_t knobs;      /* FZ_KNOB_* added to the input's own */
};

/*
 * Set the override `key` ("mm", "sched" or "knobs") from its value as the
 * options and sidecars spell it.  False for another key or a bad value;
 * fz_overrides_expected(key) then says what is accepted.
 */
bool fz_overrides_set(struct fz_overrides *f, const char *key, const char *value);
const char *fz_overrides_expected(const char *key);

struct fz_options {
	enum mmu_mutant mutant;
	/*
	 * Interleaving feedback (sim/sim.h): the engine's counters, or NULL
	 * (--feedback=off, and every tool but the harnesses).
	 */
	uint8_t *feedback;
	uint32_t feedback_size;
	bool strict;          /* benign blends are divergences */
	bool log;             /* keep the event log (tools); the hash is always kept */
	bool report_known;    /* harness: abort on known findings too */
	const char *report_class;  /* harness: ... or on those of this class only */
	struct fz_overrides force;   /* sidecars record them */
	uint32_t vcpus;       /* mmu target: run every input with this many vCPUs (0: the input's) */
	bool bare;            /* bench speed's baseline: sim bare mode, no oracle, no checks */
	/* harness: the structure-aware mutator (fuzz/mutator.c; --mutator=off: libFuzzer's only) */
	bool mutator;
	/* harness: the mutator starts a quarter of its mutations from near misses (--near-misses) */
	bool near_misses;
	const struct sim_steer *steer;   /* byte-stream runs: one steered preemption (sim.h) */
};

struct fz_result {
	enum sim_result sim_result;
	uint64_t hash;
	uint64_t steps;
	bool divergence;
	/* The first divergent read. */
	struct orc_verdict verdict;
	uint32_t slot;
	uint32_t cpu;
	uint32_t op_index;
	enum mmu_read_kind read_kind;
	const char *divergence_class;  /* fz_divergence_class() of the first divergence */
	char message[256];             /* mmu target: what disagreed with the reference */
	struct orc_stats stats;
	uint64_t retries;
	/* How often each guard of the protocol fired (mmu.h): its near misses. */
	uint64_t guards[MMU_GUARD_NR];
};

struct fz_exec;
struct fz_exec *fz_exec_new(void);
void fz_exec_free(struct fz_exec *x);
/* The interleaving feedback of one judged read (exec.c). */
void fz_verdict_feedback(struct sim *s, const struct orc_verdict *v, enum mmu_read_kind kind);
void fz_exec_run(struct fz_exec *x, const struct fz_program *p, const struct fz_options *o,
		 struct fz_result *out);
/*
 * The program the run executes: p with the overrides of o applied (a
 * relaxed override leaves an mmu-target program alone: spte target only).
 */
void fz_program_apply(struct fz_program *p, const struct fz_options *o);
/* Names for --mm, --sched and --knobs; false for an unknown name. */
bool fz_mm_by_name(const char *name, enum sim_mm *out);
bool fz_sched_by_name(const char *name, enum sim_sched_kind *out);
bool fz_knobs_by_names(const char *list, uint8_t *out);   /* comma-separated */
/* "narrow-count,force-slow" ... or "none". */
void fz_knobs_names(uint8_t knobs, char *buf, size_t cap);
/* "retry 1, walker-found 2" (the guards that fired, mmu.h) or "none". */
void fz_guards_text(const struct fz_result *r, char *buf, size_t cap);
/* The mmu target's executor (fuzz/mmu_exec.c), called by fz_exec_run. */
void fz_mmu_run(struct sim *sim, const struct fz_program *p, const struct fz_options *o,
		struct fz_result *out);
/* The simulator of the last run (its log, for tools). */
struct sim *fz_exec_sim(struct fz_exec *x);

/*
 * The shape of a divergence, from the returned value and the legal values:
 *   "mmio-low-present-high"  the low half of an MMIO spte with the high half
 *                            of a present one (W1 over an MMIO spte)
 *   "present-update-aba"     the low half of one present value with the high
 *                            half of another, all of one pfn and no clear in
 *                            between (in-place updates; a recorded finding)
 *   "stale-high-half"        the low half of one present value with the high
 *                            half of another
 *   "recheck-count-stale"    (set by the executor, not by this function)
 *                            relaxed memory: the reader's count re-check
 *                            returned a count older than memory's, read
 *                            out of order with the low re-check (a
 *                            recorded finding)
 *   "blend"                  a same-pfn blend (strict mode)
 *   "other"
 */
const char *fz_divergence_class(const struct orc_verdict *v);
/* Known findings on the faithful model (corpus/findings/): class and file. */
bool fz_known_finding(enum fz_target t, const char *divergence_class, const char **out_where);

/* A human-readable account of a divergence (or of a passing run). */
void fz_report_print(FILE *f, const struct fz_program *p, const struct fz_options *o,
		     const struct fz_result *r);
/* ---- sidecars (FILE.txt; see fuzz/sidecar.c for the keys) ---- */

struct fz_sidecar {
	bool present;             /* the file exists */
	enum fz_target target;
	enum mmu_mutant mutant;
	bool strict;
	long size;                /* -1: not recorded */
	bool expect_divergence;   /* expect: divergence */
	bool faithful_divergence; /* faithful: divergence */
	/* The harness overrides the input was found with. */
	struct fz_overrides force;
};

/*
 * Read the sidecar of `input` (a missing one gives the defaults).  Returns
 * 0, or -1 with a one-line message in err when the header is malformed.
 */
int fz_sidecar_read(const char *input, struct fz_sidecar *out, char *err, size_t err_cap);
/* The sidecar lines of a run's overrides (mm, sched, knobs). */
void fz_sidecar_write_overrides(FILE *f, const struct fz_overrides *force);

/* is_mmio_spte() of the model's shadow-paging configuration. */
bool fz_spte_is_mmio(uint64_t spte);

/*
 * Plug in the protocol of the shared object at path (tools/
 * protocol_build.sh; NULL or empty: none).  -1 after saying why on stderr.
 * The harnesses read --protocol=PATH or SPTERACE_PROTOCOL, the CLI the
 * environment.
 */
int fz_protocol_load(const char *path);

/* Decode an spte field by field, in the model's terms. */
void fz_spte_describe(char *buf, size_t cap, uint64_t spte);

/* ---- minimizer ---- */

struct fz_min_stats {
	size_t size_before, size_after;
	uint32_t ops_before, ops_after;
	size_t sched_before, sched_after;
	uint32_t runs;             /* executions spent */
};

/*
 * Shrink an input that diverges, in two passes (operations, then the
 * schedule), re-running after every step and keeping a step only if the
 * same divergence (verdict kind and class) still reproduces.  The result is
 * never longer than the input.  Returns false if the input does not diverge.
 */
bool fz_minimize(struct fz_exec *x, enum fz_target target, const struct fz_options *o,
		 const uint8_t *data, size_t size, uint8_t *out, size_t *out_size,
		 struct fz_min_stats *stats);

const char *fz_op_name(enum fz_op_kind k);
/* The name of an operation of target t. */
const char *fz_target_op_name(enum fz_target t, unsigned kind);
unsigned fz_target_op_count(enum fz_target t);
const char *fz_target_name(enum fz_target t);
enum fz_target fz_target_by_name(const char *name);   /* FZ_TARGET_COUNT if unknown */
/* The spte a SET/MMIO op installs, from its value selectors. */
uint64_t fz_value(uint8_t a, uint8_t b);
uint64_t fz_pfn(uint8_t a);

#endif
