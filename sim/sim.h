/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sim/: the deterministic simulated host.
 *
 * Up to SIM_CPUS_MAX simulated CPUs run as fibers on one host thread.  Shared
 * memory is an array of 32-bit words addressed by index (sim_addr), never by
 * host pointer, so no decision ever depends on a pointer value.  Every
 * accessor below is a yield point: the calling CPU publishes the access it is
 * about to make and returns to the scheduler, which picks the next event to
 * execute.  One executed event is one step.
 *
 * Events are CPU accesses and, under x86-TSO, store-buffer drains.  A drain
 * moves the oldest store of one CPU's FIFO store buffer to memory; it is
 * scheduled like any CPU.  Locked operations (xchg, cmpxchg, lock, locked
 * and/or) and smp_mb drain the issuing CPU's buffer before they execute.
 * Loads forward from the issuing CPU's own buffer.
 *
 * Under SIM_MM_RELAXED (sim/README.md has the full rules and the litmus
 * table) a buffer drains out of order unless smp_wmb (or a release) put a
 * mark between two stores, and each CPU has a table of stale words: when a
 * store reaches memory, every other running CPU keeps the word's previous
 * value until its invalidate agent (one more agent per CPU), an smp_rmb, an
 * smp_mb or a locked operation applies it.  Loads read their own buffer,
 * then their stale table, then memory.  Memory itself stays a single order
 * of drains (multi-copy atomic), and loads are never delayed past later
 * stores (no load-buffering).
 *
 * Schedule sources (struct sim_config.sched):
 *   SIM_SCHED_PREEMPT  the input is a list of preemptions (gap, target):
 *                      the running agent continues until it blocks or
 *                      finishes, except that after `gap` further steps the
 *                      scheduler switches to agent `target`.
 *   SIM_SCHED_BYTES    one input byte per step chooses among the enabled
 *                      events; a PRNG seeded from the configuration continues
 *                      when the bytes run out.
 *   SIM_SCHED_PCT      probabilistic concurrency testing (Burckhardt et
 *                      al., ASPLOS 2010): the enabled agent with the
 *                      highest priority always runs; at each of d change
 *                      points the agent taking that step drops below every
 *                      initial priority.  The bytes are its parameters:
 *                        byte 0    bits 0-1: d, the number of change points
 *                                  (0..SIM_PCT_DEPTH_MAX); bits 2-4: s, the
 *                                  change-point bound B = SIM_PCT_BOUND_MIN << s
 *                                  (8 .. 1024 relevant steps)
 *                        then      one priority byte per agent (agent order,
 *                                  sim_agents_count agents); higher runs first,
 *                                  a tie goes to the lower agent index
 *                        then      d change points, 2 bytes each, little
 *                                  endian, modulo B: change point i is the
 *                                  index (from 0) of a relevant step in the
 *                                  run; the agent that takes it gets priority
 *                                  i (below every initial priority: so the
 *                                  first-listed change point drops lowest).
 *                                  Equal indices: the later one wins.
 *                      Missing bytes come from the PRNG seeded with
 *                      config.seed, so every byte string is a valid schedule;
 *                      bytes after the parameters are not used.  The run's
 *                      length k is not known when the parameters are read:
 *                      the bound's scale makes the change points roughly
 *                      log-uniform, so a change point lands on a given
 *                      relevant step t < 1024 with probability between
 *                      1/(8B) and 1/(4B) for the smallest B > t (so at
 *                      least 1/(16(t + 1)) once t >= 8), against PCT's 1/k
 *                      with a known k; an input that found something keeps
 *                      its scale.
 *                      A step is relevant when it is a CPU's access made
 *                      inside one of the model's sites (sim_site != 0) or a
 *                      drain of a store issued inside one: the protocol's
 *                      own steps (spte halves, clear_spte_count,
 *                      vcpu->mode), so the change points land where the
 *                      interleavings matter (a site lasts until the model
 *                      names the next one, so a few steps after a model
 *                      function count too).  sim_sched_trace gives the
 *                      1 + agents + 2d parameter bytes the run used.
 * The agents of the preemption list are the CPUs, then (under TSO and
 * RELAXED) one drain agent per CPU, then (under RELAXED) one invalidate
 * agent per CPU.  Under RELAXED a drain step moves one store and an
 * invalidate step applies one stale entry: the youngest that may go, except
 * under SIM_SCHED_BYTES, where each (agent, entry) pair is a choice of its
 * own.
 *
 * A run is a pure function of (CPU functions, configuration, schedule).  The
 * event log records every step and folds it into a 64-bit hash.
 */
#ifndef SPTERACE_SIM_SIM_H
#define SPTERACE_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_CPUS_MAX 8
#define SIM_MEM_WORDS 131072   /* shared memory, in 32-bit words (512 KiB) */
#define SIM_SB_MAX 8           /* store-buffer entries per CPU */
#define SIM_STALE_MAX 8        /* RELAXED: stale-table entries per CPU */
#define SIM_LOG_MAX 65536      /* event-log entries kept for tools */
#define SIM_STEPS_DEFAULT 20000
#define SIM_PCT_DEPTH_MAX 3    /* PCT change points */
#define SIM_PCT_BOUND_MIN 8u   /* PCT: the smallest change-point bound */
#define SIM_PCT_AGENTS_MAX (4 * SIM_CPUS_MAX)

typedef uint32_t sim_addr;

enum sim_mm {
	SIM_MM_SC = 0,  /* sequentially consistent */
	SIM_MM_TSO,     /* x86-TSO: per-CPU FIFO store buffers */
	SIM_MM_RELAXED, /* stores and loads reorder unless a barrier forbids it */
	SIM_MM_COUNT,
};

enum sim_sched_kind {
	SIM_SCHED_PREEMPT = 0,
	SIM_SCHED_BYTES,
	SIM_SCHED_PCT,  /* probabilistic concurrency testing, parameters in the bytes */
	SIM_SCHED_COUNT,
};

enum sim_result {
	SIM_DONE = 0,     /* every CPU finished and every buffer drained */
	SIM_DEADLOCK,     /* unfinished CPUs, none can make progress */
	SIM_STEP_LIMIT,   /* steps_max exceeded */
};

/* Event kinds, recorded in the log. */
enum sim_ev {
	SIM_EV_LOAD32 = 1,
	SIM_EV_STORE32,    /* issued (TSO: entered the store buffer) */
	SIM_EV_DRAIN32,    /* a buffered 32-bit store reached memory */
	SIM_EV_XCHG32,
	SIM_EV_CMPXCHG32,
	SIM_EV_AND32,      /* locked and (clear_bit) */
	SIM_EV_OR32,       /* locked or (set_bit) */
	SIM_EV_LOAD64,     /* atomic 64-bit load */
	SIM_EV_STORE64,    /* atomic 64-bit store, issued */
	SIM_EV_DRAIN64,
	SIM_EV_CMPXCHG64,
	SIM_EV_MB,
	SIM_EV_WMB,
	SIM_EV_RMB,
	SIM_EV_LOCK,
	SIM_EV_UNLOCK,     /* issued as a plain store of 0, as x86 does */
	SIM_EV_IRQ_OFF,
	SIM_EV_IRQ_ON,
	SIM_EV_NOTE,       /* not a step: an annotation from the model */
	SIM_EV_FINISH,     /* not a step: the CPU function returned */
	SIM_EV_IPI,        /* interrupts sent to the CPUs of a mask (value) */
	SIM_EV_IPI_DONE,   /* every target of the sender's IPI has taken it */
	SIM_EV_INVAL32,    /* RELAXED: a stale word applied (value: now seen, value2: dropped) */
	SIM_EV_COUNT,
};

struct sim_event {
	uint32_t step;     /* 0 for annotations made before any step */
	uint8_t cpu;
	uint8_t kind;      /* enum sim_ev */
	uint16_t note;     /* SIM_EV_NOTE: the model's label; cmpxchg: 1 if it succeeded */
	sim_addr addr;
	uint64_t value;    /* loaded, stored or returned value */
	uint64_t value2;   /* read-modify-write: old value; note: argument */
};

struct sim_config {
	uint32_t cpus;                 /* 1..SIM_CPUS_MAX */
	enum sim_mm mm;
	enum sim_sched_kind sched;
	const uint8_t *sched_bytes;    /* borrowed for the duration of the run */
	size_t sched_len;
	uint64_t seed;                 /* PRNG continuation of SIM_SCHED_BYTES */
	uint32_t steps_max;            /* 0: SIM_STEPS_DEFAULT */
	bool log;                      /* keep events (the hash is always kept) */
	/*
	 * Bare run, the baseline of `bench speed`: the CPUs run one after the
	 * other, each to its end, on sequentially consistent memory; accesses
	 * execute at once (no scheduling, no yield), an IPI is taken at once
	 * and a retry wait returns.  mm and sched are ignored.
	 */
	bool bare;
	/*
	 * Lazy drains (a small-scope knob, TSO and RELAXED): a store buffer's
	 * drain agent is enabled only while no CPU can take a step, so stores
	 * stay buffered until a fence or locked operation of their own CPU
	 * drains them or every CPU waits.  The longest buffering x86-TSO
	 * allows, with no schedule choice spent on keeping a store back.
	 */
	bool lazy_drains;
	/*
	 * Interleaving feedback (sim.c): counters the run increments, for the
	 * fuzzing engine; feedback_size is a power of two.  NULL: off.  The
	 * counters are never cleared here: the engine does it between inputs.
	 */
	uint8_t *feedback;
	uint32_t feedback_size;
	/*
	 * SIM_SCHED_BYTES only: one preemption placed on top of the bytes
	 * (the structure-aware mutator, fuzz/mutator.c).  NULL: none.
	 */
	const struct sim_steer *steer;
};

/*
 * A steered preemption.  The run follows its bytes until the step they
 * choose is the at-th steering point of the chosen kind (index from 0).
 * That step goes instead to another enabled choice (the rank-th of the
 * others, modulo their count), whose agent then keeps every step while it
 * is enabled, for hold steps (switch), or the preempted agent is kept off
 * every step while another choice exists, for hold steps (delay).  The
 * hold counts steps (SIM_HOLD_STEPS), relevant steps only (the holder's,
 * or the others'), or conflicts (SIM_HOLD_CONFLICTS): writes reaching
 * memory at the 8-byte words the preempted CPU accessed in its site so
 * far (a reader's spte, say); the holder's store buffer then drains as it
 * runs, so that the writes it makes become visible.  A hold takes at most
 * SIM_STEER_CAP steps in all.  The bytes then resume.  With again > 0
 * (switch only) the preempted agent then takes every step it can until it
 * has taken again relevant steps, and the holder holds once more, for hold2
 * of the same kind (conflicts counted at the preempted CPU's words as they
 * are then): a reader's first load before a writer's clear, its second
 * between the clear and the set, its re-check after the set.
 * sim_sched_trace records the choices the run made, so used as the
 * schedule of a new input they give the steered run without the steer.
 */
enum sim_steer_points {
	SIM_STEER_RELEVANT = 0,  /* relevant steps (as under PCT: the protocol's accesses and drains) */
	SIM_STEER_CONTENDED,     /* ... taken while another CPU is inside a site */
	SIM_STEER_SPLIT,         /* ... contended, by a CPU that took a step in its site already:
				    a preemption there splits the site's accesses */
	SIM_STEER_POINTS,
};
#define SIM_STEER_CAP 512

enum sim_hold {
	SIM_HOLD_STEPS = 0,
	SIM_HOLD_RELEVANT,
	SIM_HOLD_CONFLICTS,
};

struct sim_steer {
	uint32_t at;
	uint32_t rank;
	uint32_t hold;
	bool delay;
	enum sim_hold hold_kind;
	enum sim_steer_points points;
	uint32_t again;   /* 0: one hold */
	uint32_t hold2;
};

struct sim;
typedef void (*sim_cpu_fn)(struct sim *s, uint32_t cpu, void *arg);
/* Called when every store the CPU issued before the request is visible. */
typedef void (*sim_visible_fn)(void *ctx, uint64_t step);

/* Allocates the fiber stacks once; reuse one sim for many runs. */
struct sim *sim_new(void);
void sim_free(struct sim *s);

/* Start a new run: memory zeroed, log emptied, no CPU spawned. */
void sim_reset(struct sim *s, const struct sim_config *config);
/* The same, but memory keeps its contents: the next phase of a longer run. */
void sim_reset_keep_memory(struct sim *s, const struct sim_config *config);
/* Host-side initialisation, outside sim_run: not a step, not logged. */
void sim_mem_init32(struct sim *s, sim_addr a, uint32_t v);
uint32_t sim_mem_peek32(const struct sim *s, sim_addr a);
void sim_spawn(struct sim *s, uint32_t cpu, sim_cpu_fn fn, void *arg);
/*
 * Zero words that no other CPU can reach (a freshly allocated page table):
 * not a step, not logged.  The caller guarantees nobody else can observe
 * them, so no interleaving is lost.
 */
void sim_mem_private_zero(struct sim *s, sim_addr a, uint32_t words);
/* Read memory as it is, outside any CPU: for checks between operations. */
uint64_t sim_mem_peek64(const struct sim *s, sim_addr a);
/*
 * False if no word of the 256-word chunk holding a has been written since
 * the last sim_reset (it is all zero): lets checks skip empty memory.
 */
#define SIM_CHUNK_WORDS 256
bool sim_mem_chunk_written(const struct sim *s, sim_addr a);
/* The same for a whole range: words a .. a + words - 1 into out. */
void sim_mem_peek_range(const struct sim *s, sim_addr a, uint32_t words, uint32_t *out);
enum sim_result sim_run(struct sim *s);

/* Accessors, called from a CPU.  Each is one step. */
uint32_t sim_load32(struct sim *s, sim_addr a);
void sim_store32(struct sim *s, sim_addr a, uint32_t v);
uint32_t sim_xchg32(struct sim *s, sim_addr a, uint32_t v);
uint32_t sim_cmpxchg32(struct sim *s, sim_addr a, uint32_t old, uint32_t v);
uint32_t sim_and32(struct sim *s, sim_addr a, uint32_t mask);   /* returns old */
uint32_t sim_or32(struct sim *s, sim_addr a, uint32_t mask);    /* returns old */
/* 64-bit accesses cover words a (low half) and a + 1 (high half). */
uint64_t sim_load64(struct sim *s, sim_addr a);
void sim_store64(struct sim *s, sim_addr a, uint64_t v);
uint64_t sim_cmpxchg64(struct sim *s, sim_addr a, uint64_t old, uint64_t v);
void sim_smp_mb(struct sim *s);
void sim_smp_wmb(struct sim *s);
void sim_smp_rmb(struct sim *s);
void sim_spin_lock(struct sim *s, sim_addr lock);
void sim_spin_unlock(struct sim *s, sim_addr lock);
void sim_irq_disable(struct sim *s);
void sim_irq_enable(struct sim *s);
/*
 * smp_call_function_many(mask, ..., wait=1): one step sends an interrupt to
 * every CPU of the mask; a CPU with interrupts enabled takes it at once, one
 * with interrupts disabled when it next enables them (or, for a vCPU in guest
 * mode, when it notices sim_ipi_pending and exits).  Then the sender blocks
 * until every target has taken it (a second step).
 */
void sim_ipi(struct sim *s, uint32_t cpu_mask);
/* An interrupt is waiting for the calling CPU (it has interrupts disabled). */
bool sim_ipi_pending(const struct sim *s);

/*
 * Lockless retry loops.  sim_retry_mark() returns the number of stores that
 * have reached memory so far; sim_retry_wait(mark) blocks the CPU until that
 * number moves, so a reader that would spin without any write in between is
 * blocked instead (and all CPUs blocked is a deadlock, not a hang).  Under
 * RELAXED the mark also counts the calling CPU's stale entries applied, so
 * the wait also ends when what the CPU sees changes.
 */
uint64_t sim_retry_mark(struct sim *s);
void sim_retry_wait(struct sim *s, uint64_t mark);

/* The step at which the calling CPU's last access executed. */
uint64_t sim_last_step(const struct sim *s);
/*
 * The step since which the value the calling CPU's last load returned has
 * been visible to it: the load's own step (sim_last_step), except under
 * RELAXED for a stale value, where it is the step that value was written
 * at.  Read windows start there, so the oracle allows what the CPU could
 * still see.
 */
uint64_t sim_last_load_since(const struct sim *s);
/* Steps executed so far. */
uint64_t sim_steps(const struct sim *s);
/* Annotate the log (not a step). */
void sim_note(struct sim *s, uint16_t note, sim_addr a, uint64_t value, uint64_t arg);

/*
 * Interleaving feedback from the model.  sim_site() names the code the
 * current CPU runs from now on (the model's function ids, below 256): loads
 * and stores are tagged with it.  sim_load_tag() is the writer tag (site <<
 * 4 | cpu + 1, 0 for the host's initial values) of the value the current
 * CPU's last load in a site returned (0 with feedback off).
 * sim_feedback() counts a key of the model's own (a retry cause, a torn
 * combination, a verdict).  None of them changes the run.
 */
void sim_site(struct sim *s, uint8_t site);
uint16_t sim_load_tag(const struct sim *s);
void sim_feedback(struct sim *s, uint32_t key);
/*
 * Call fn(ctx, step) once every store the calling CPU has issued so far is
 * in memory: at once under SC or with an empty buffer, else at the drain
 * step of the youngest such store.
 */
void sim_when_visible(struct sim *s, sim_visible_fn fn, void *ctx);

/* After a run. */
uint64_t sim_hash(const struct sim *s);
/*
 * The byte-stream choices the run made, input bytes and PRNG bytes alike
 * (at most SIM_TRACE_MAX); under PCT, the parameter bytes it used.  Used as
 * the schedule of a new input, they give the same run without depending on
 * the PRNG seed.
 */
#define SIM_TRACE_MAX 4096
const uint8_t *sim_sched_trace(const struct sim *s, size_t *len);
/*
 * For each byte of sim_sched_trace, how many choices it chose among (the
 * byte picks choice byte % count): lets a test enumerate every schedule.
 */
const uint8_t *sim_choice_trace(const struct sim *s, size_t *len);
/* The agent that took each step (0-based step index; at most SIM_TRACE_MAX). */
const uint8_t *sim_agent_trace(const struct sim *s, size_t *len);
/*
 * Agents of a configuration: CPUs, then (TSO, RELAXED) one store buffer per
 * CPU, then (RELAXED) one invalidate agent per CPU.
 */
uint32_t sim_agents_count(const struct sim_config *c);
const struct sim_event *sim_log(const struct sim *s, size_t *count);
uint32_t sim_current_cpu(const struct sim *s);
const char *sim_ev_name(enum sim_ev k);
const char *sim_result_name(enum sim_result r);
const char *sim_mm_name(enum sim_mm m);
/* "preempt", "bytes", "pct"; and a one-line description for logs and reports. */
const char *sim_sched_name(enum sim_sched_kind k);
const char *sim_sched_description(enum sim_sched_kind k);
/* PCT and the byte stream: the relevant steps the run took (0 under the preemption list). */
uint64_t sim_relevant_steps(const struct sim *s);
/*
 * The byte stream: the steering points of kind k the run took (struct
 * sim_steer).  A relevant step is contended when a CPU other than the one
 * taking it (or owning the store buffer) is inside a site.
 */
uint64_t sim_steer_points(const struct sim *s, enum sim_steer_points k);

#endif
