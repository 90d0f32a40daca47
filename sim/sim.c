/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The deterministic simulated host: scheduler, memory models, event log.
 *
 * Definitions.
 *   agent   something the scheduler can run for one step: CPU i (agent i)
 *           or, under TSO and RELAXED, the store buffer of CPU i (agent
 *           cpus + i), whose step moves one store to memory (TSO: the
 *           oldest), or, under RELAXED, the invalidate agent of CPU i
 *           (agent 2 * cpus + i), whose step applies one stale entry.
 *   pending the access a CPU has announced and is waiting to execute.  A
 *           CPU runs private code freely; only shared accesses are steps.
 *   enabled an agent that can take a step now: a CPU whose pending access
 *           can execute (not waiting for a held lock, not a retry with no
 *           store since its mark), or a non-empty store buffer.
 *
 * The scheduler runs on the host stack.  It executes the chosen CPU's
 * pending access itself, then resumes the CPU, which runs until it
 * announces its next access (or finishes) and switches back.  So a step is
 * atomic with respect to every other CPU, and the order of steps is the
 * whole story of a run.
 *
 * Invariants.
 *   S1  Memory changes only at steps, and only through executed accesses
 *       or drains.
 *   S2  Under TSO each CPU's buffer is FIFO; a CPU's loads see its own
 *       buffered stores (forwarding), other CPUs do not.
 *   S3  Locked operations and smp_mb empty the issuing CPU's buffer first.
 *   S4  Every decision is a function of the configuration, the schedule
 *       bytes and the PRNG seeded from the configuration.
 *   S5  Under RELAXED a buffered store may reach memory before an older one
 *       of its CPU only if they cover different words and no wmb mark lies
 *       between them.  A stale entry holds a value the word had in memory
 *       before a store its CPU has not yet seen; at most one entry per CPU
 *       and word, so a CPU never sees a word go back to an older value.
 *       A CPU's entries for the two words of a 64-bit store are applied
 *       together, so a 64-bit load never sees half of one.
 */
#include "sim/sim.h"

#include <assert.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "sim/fiber.h"

#define SIM_STACK_SIZE (256 * 1024)
/* Memory is cleared between runs chunk by chunk, only where it was written. */
#define SIM_CHUNKS (SIM_MEM_WORDS / SIM_CHUNK_WORDS)
#define SIM_VISIBLE_MAX 64

enum cpu_state {
	CPU_ABSENT = 0,  /* not spawned in this run */
	CPU_NEW,         /* spawned, not started */
	CPU_PENDING,     /* waiting for its announced access to execute */
	CPU_FINISHED,
};

/* Pending operations that are not events. */
#define OP_RETRY_WAIT 200

struct sb_entry {
	sim_addr a;
	uint8_t words;   /* 1 or 2 */
	uint16_t tag;    /* the writer tag (feedback): CPU and site of the store */
	uint64_t v;
	uint32_t epoch;  /* RELAXED: wmb marks issued before it (the CPU's epoch) */
	uint64_t seq;    /* RELAXED: its number among the CPU's stores (1-based) */
};

/* RELAXED: a word whose newest store the CPU does not see yet. */
struct stale_entry {
	sim_addr a;
	uint32_t v;      /* the value the CPU still sees */
	uint16_t tag;    /* its writer tag */
	uint32_t group;  /* applied together with every entry of the same group */
	/* v was memory from write number since until write number until (wseq). */
	uint32_t since, until;
	uint32_t since_step;   /* the step of write number since */
};

struct sim_cpu {
	struct fiber fiber;
	enum cpu_state state;
	sim_cpu_fn fn;
	void *arg;
	/* The announced access. */
	uint8_t op;
	sim_addr a;
	uint64_t v, v2;
	uint64_t result;
	uint64_t last_step;
	uint64_t load_since;   /* sim_last_load_since */
	bool irq_off;
	bool ipi_pending;    /* an interrupt waits for irq_off to clear */
	/*
	 * The handler's acknowledgement is a store: the sender sees it once
	 * every store this CPU issued before taking the interrupt drained.
	 */
	uint64_t ipi_ack_mark;
	/* Store buffer (TSO). */
	struct sb_entry sb[SIM_SB_MAX];
	uint32_t sb_head, sb_count;
	uint64_t stores_issued, stores_drained;
	/* RELAXED: the wmb epoch, and the stale table (oldest entry first). */
	uint32_t epoch;
	struct stale_entry stale[SIM_STALE_MAX];
	uint32_t stale_count;
	uint32_t stale_groups;   /* groups created so far: the next one's id */
	uint64_t stale_applied;  /* times entries went away: part of the retry mark */
	/* Interleaving feedback (config.feedback). */
	uint8_t site;          /* the model's current site (sim_site) */
	uint8_t site_loads;    /* loads since the site began, capped */
	uint8_t site_steps;    /* byte stream: steps taken since the site began, capped */
	uint8_t site_nwords;   /* steered runs: the 8-byte words accessed in the site */
	sim_addr site_words[4];
	uint16_t load_tag;     /* writer tag of the value the last load returned */
	uint32_t between;      /* writer sites of stores that became visible since our last load */
	jmp_buf exit_jmp;
};

struct sim_visible {
	uint32_t cpu;
	uint64_t seq;
	sim_visible_fn fn;
	void *ctx;
};

struct sim {
	struct sim_config config;
	struct fiber_host host;
	struct sim_cpu cpu[SIM_CPUS_MAX];
	uint32_t cur;                /* CPU whose code is running */
	bool killing;                /* unwinding unfinished CPUs after a run */
	bool running;                /* every CPU has announced its first access */
	/* A decision a CPU took on the scheduler's behalf before yielding. */
	bool decided;
	int decision;                /* agent, or -1 for the end of the run */
	enum sim_result decided_result;
	uint32_t mem[SIM_MEM_WORDS];
	/* Writer tag of each word (feedback): cleared with the memory. */
	uint16_t tag[SIM_MEM_WORDS];
	/* RELAXED: the number (stores_visible) and step of the write each word holds. */
	uint32_t wseq[SIM_MEM_WORDS];
	uint32_t wstep[SIM_MEM_WORDS];
	uint64_t dirty[SIM_CHUNKS / 64];  /* chunks written since the last reset */
	uint64_t steps;
	uint32_t steps_max;
	uint64_t stores_visible;     /* stores that reached memory */
	/* Schedule source state. */
	size_t sched_pos;
	uint64_t prng;
	uint32_t agent;              /* preemption list: the running agent */
	uint64_t preempt_at;         /* preemption list: step of next switch */
	bool preempt_more;
	uint32_t preempt_target;
	/* PCT: each agent's priority (higher runs first) and the change points. */
	uint32_t pct_prio[SIM_PCT_AGENTS_MAX];
	uint32_t pct_depth;
	uint32_t pct_change[SIM_PCT_DEPTH_MAX];   /* relevant-step index of change point i */
	uint64_t pct_relevant;       /* relevant steps chosen so far (PCT, byte stream) */
	/* Byte stream: the steering points taken, by kind (sim.h, struct sim_steer). */
	uint64_t points[SIM_STEER_POINTS];
	/* Byte stream: the steered preemption (config.steer). */
	bool steer_done;
	int steer_agent;             /* the agent holding (switch) or held off (delay) */
	uint32_t steer_left;         /* steps of the hold still to go */
	int steer_preempted;         /* the agent the first hold preempted (switch) */
	uint32_t steer_again;        /* its relevant steps still to go before the second hold */
	bool steer_rehold;           /* the second hold starts at the next pick */
	uint32_t steer_between_cap;  /* steps it may still take before the second hold */
	uint32_t steer_cap;          /* steps of any kind the hold may still take */
	uint8_t steer_nwords;        /* SIM_HOLD_CONFLICTS: the watched 8-byte words */
	sim_addr steer_words[4];
	uint8_t trace[SIM_TRACE_MAX];
	size_t trace_len;
	uint8_t agents[SIM_TRACE_MAX];
	uint8_t choices[SIM_TRACE_MAX];  /* choices each trace byte chose among */
	/* RELAXED, byte stream: the entry the next buffer-agent step takes, or -1. */
	int pick;
	/* Visibility callbacks. */
	struct sim_visible visible[SIM_VISIBLE_MAX];
	uint32_t visible_count;
	/* Event log. */
	uint64_t hash;
	struct sim_event *log;
	size_t log_count;
};

static const char *const ev_names[SIM_EV_COUNT] = {
	[SIM_EV_LOAD32] = "load32",     [SIM_EV_STORE32] = "store32",
	[SIM_EV_DRAIN32] = "drain32",   [SIM_EV_XCHG32] = "xchg32",
	[SIM_EV_CMPXCHG32] = "cmpxchg32", [SIM_EV_AND32] = "and32",
	[SIM_EV_OR32] = "or32",         [SIM_EV_LOAD64] = "load64",
	[SIM_EV_STORE64] = "store64",   [SIM_EV_DRAIN64] = "drain64",
	[SIM_EV_CMPXCHG64] = "cmpxchg64", [SIM_EV_MB] = "smp_mb",
	[SIM_EV_WMB] = "smp_wmb",       [SIM_EV_RMB] = "smp_rmb",
	[SIM_EV_LOCK] = "spin_lock",    [SIM_EV_UNLOCK] = "spin_unlock",
	[SIM_EV_IRQ_OFF] = "irq_disable", [SIM_EV_IRQ_ON] = "irq_enable",
	[SIM_EV_NOTE] = "note",         [SIM_EV_FINISH] = "finish",
	[SIM_EV_IPI] = "ipi_send",      [SIM_EV_IPI_DONE] = "ipi_wait",
	[SIM_EV_INVAL32] = "invalidate",
};

const char *sim_ev_name(enum sim_ev k)
{
	if ((unsigned)k < SIM_EV_COUNT && ev_names[k])
		return ev_names[k];
	return "?";
}

const char *sim_result_name(enum sim_result r)
{
	switch (r) {
	case SIM_DONE: return "done";
	case SIM_DEADLOCK: return "deadlock";
	case SIM_STEP_LIMIT: return "step-limit";
	}
	return "?";
}

const char *sim_mm_name(enum sim_mm m)
{
	switch (m) {
	case SIM_MM_SC: return "sc";
	case SIM_MM_TSO: return "tso";
	case SIM_MM_RELAXED: return "relaxed";
	default: return "?";
	}
}

const char *sim_sched_name(enum sim_sched_kind k)
{
	switch (k) {
	case SIM_SCHED_PREEMPT: return "preempt";
	case SIM_SCHED_BYTES: return "bytes";
	case SIM_SCHED_PCT: return "pct";
	default: return "?";
	}
}

const char *sim_sched_description(enum sim_sched_kind k)
{
	switch (k) {
	case SIM_SCHED_PREEMPT: return "preemption list: (gap, target) pairs";
	case SIM_SCHED_BYTES: return "byte stream: one byte per step picks an enabled agent";
	case SIM_SCHED_PCT:
		return "PCT: agent priorities and up to 3 priority change points at "
		       "relevant (spte, count, vcpu->mode) steps";
	default: return "?";
	}
}

/* splitmix64: small, fast, and fully determined by its seed. */
static uint64_t prng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void hash_u64(uint64_t *h, uint64_t v)
{
	/*
	 * A word at a time (FNV's prime, then a shift so the high bits feed
	 * back): every event goes through here, and the hash only has to tell
	 * two runs apart.
	 */
	*h = (*h ^ v) * 0x100000001b3ull;
	*h ^= *h >> 29;
}

static void log_event(struct sim *s, uint32_t cpu, enum sim_ev kind, uint16_t note,
		      sim_addr a, uint64_t v, uint64_t v2)
{
	uint64_t step = s->steps;

	hash_u64(&s->hash, step << 32 | (uint64_t)cpu << 24 | (uint64_t)kind << 16 | note);
	hash_u64(&s->hash, a);
	hash_u64(&s->hash, v);
	hash_u64(&s->hash, v2);
	if (s->log && s->log_count < SIM_LOG_MAX) {
		struct sim_event *e = &s->log[s->log_count++];

		e->step = (uint32_t)step;
		e->cpu = (uint8_t)cpu;
		e->kind = (uint8_t)kind;
		e->note = note;
		e->addr = a;
		e->value = v;
		e->value2 = v2;
	}
}

struct sim *sim_new(void)
{
	struct sim *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->log = calloc(SIM_LOG_MAX, sizeof(*s->log));
	if (!s->log) {
		free(s);
		return NULL;
	}
	for (uint32_t i = 0; i < SIM_CPUS_MAX; i++) {
		if (fiber_alloc(&s->cpu[i].fiber, SIM_STACK_SIZE) != 0) {
			sim_free(s);
			return NULL;
		}
	}
	return s;
}

void sim_free(struct sim *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < SIM_CPUS_MAX; i++)
		fiber_release(&s->cpu[i].fiber);
	free(s->log);
	free(s);
}

static void reset(struct sim *s, const struct sim_config *config, bool clear_memory);

void sim_reset(struct sim *s, const struct sim_config *config)
{
	reset(s, config, true);
}

void sim_reset_keep_memory(struct sim *s, const struct sim_config *config)
{
	reset(s, config, false);
}

static void reset(struct sim *s, const struct sim_config *config, bool clear_memory)
{
	assert(config->cpus >= 1 && config->cpus <= SIM_CPUS_MAX);
	assert(config->mm < SIM_MM_COUNT);
	assert(config->sched < SIM_SCHED_COUNT);
	s->config = *config;
	if (config->bare)
		s->config.mm = SIM_MM_SC;
	s->steps_max = config->steps_max ? config->steps_max : SIM_STEPS_DEFAULT;
	for (uint32_t i = 0; i < SIM_CPUS_MAX; i++) {
		struct sim_cpu *c = &s->cpu[i];

		c->state = CPU_ABSENT;
		c->fn = NULL;
		c->arg = NULL;
		c->op = 0;
		c->last_step = 0;
		c->irq_off = false;
		c->ipi_pending = false;
		c->ipi_ack_mark = 0;
		c->sb_head = c->sb_count = 0;
		c->stores_issued = c->stores_drained = 0;
		c->epoch = 0;
		c->stale_count = c->stale_groups = 0;
		c->stale_applied = 0;
		c->site = c->site_loads = c->site_steps = c->site_nwords = 0;
		c->load_tag = 0;
		c->between = 0;
	}
	for (uint32_t w = 0; clear_memory && w < SIM_CHUNKS / 64; w++) {
		while (s->dirty[w]) {
			uint32_t chunk = w * 64 + (uint32_t)__builtin_ctzll(s->dirty[w]);

			memset(&s->mem[chunk * SIM_CHUNK_WORDS], 0, SIM_CHUNK_WORDS * sizeof(s->mem[0]));
			memset(&s->tag[chunk * SIM_CHUNK_WORDS], 0, SIM_CHUNK_WORDS * sizeof(s->tag[0]));
			memset(&s->wseq[chunk * SIM_CHUNK_WORDS], 0, SIM_CHUNK_WORDS * sizeof(s->wseq[0]));
			memset(&s->wstep[chunk * SIM_CHUNK_WORDS], 0, SIM_CHUNK_WORDS * sizeof(s->wstep[0]));
			s->dirty[w] &= s->dirty[w] - 1;
		}
	}
	s->cur = 0;
	s->killing = false;
	s->steps = 0;
	s->stores_visible = 0;
	s->sched_pos = 0;
	s->prng = config->seed;
	s->agent = 0;
	s->preempt_at = 0;
	s->preempt_more = false;
	s->pct_relevant = 0;
	memset(s->points, 0, sizeof(s->points));
	s->steer_done = false;
	s->steer_agent = -1;
	s->steer_left = 0;
	s->steer_preempted = -1;
	s->steer_again = 0;
	s->steer_rehold = false;
	s->pick = -1;
	s->visible_count = 0;
	s->trace_len = 0;
	s->hash = 0xcbf29ce484222325ull;
	s->log_count = 0;
	hash_u64(&s->hash, config->cpus | (uint64_t)config->mm << 8 |
				   (uint64_t)config->sched << 16);
}

static void mark_dirty(struct sim *s, sim_addr a)
{
	uint32_t chunk = a / SIM_CHUNK_WORDS;

	s->dirty[chunk / 64] |= 1ull << (chunk % 64);
}

void sim_mem_init32(struct sim *s, sim_addr a, uint32_t v)
{
	assert(a < SIM_MEM_WORDS);
	assert(!s->running);   /* host side: before a run or between phases */
	s->mem[a] = v;
	s->tag[a] = 0;
	mark_dirty(s, a);
}

void sim_mem_private_zero(struct sim *s, sim_addr a, uint32_t words)
{
	assert(a + words <= SIM_MEM_WORDS);
	for (uint32_t i = 0; i < words; i++) {
		if (s->mem[a + i]) {
			s->mem[a + i] = 0;
			s->tag[a + i] = 0;
			mark_dirty(s, a + i);
		}
	}
}

uint64_t sim_mem_peek64(const struct sim *s, sim_addr a)
{
	assert(a + 1 < SIM_MEM_WORDS);
	return s->mem[a] | (uint64_t)s->mem[a + 1] << 32;
}

bool sim_mem_chunk_written(const struct sim *s, sim_addr a)
{
	uint32_t chunk = a / SIM_CHUNK_WORDS;

	assert(a < SIM_MEM_WORDS);
	return s->dirty[chunk / 64] & (1ull << (chunk % 64));
}

void sim_mem_peek_range(const struct sim *s, sim_addr a, uint32_t words, uint32_t *out)
{
	assert(a + words <= SIM_MEM_WORDS);
	memcpy(out, &s->mem[a], words * sizeof(*out));
}

uint32_t sim_mem_peek32(const struct sim *s, sim_addr a)
{
	assert(a < SIM_MEM_WORDS);
	return s->mem[a];
}

static void cpu_entry(void *arg);

void sim_spawn(struct sim *s, uint32_t cpu, sim_cpu_fn fn, void *arg)
{
	struct sim_cpu *c = &s->cpu[cpu];

	assert(cpu < s->config.cpus);
	assert(c->state == CPU_ABSENT);
	c->fn = fn;
	c->arg = arg;
	c->state = CPU_NEW;
	if (!s->config.bare)
		fiber_prepare(&c->fiber, cpu_entry, s);
}

/* ---- CPU side ---- */

static int sched_decide(struct sim *s, enum sim_result *res);

static void record_agent(struct sim *s, int agent)
{
	if (s->steps < SIM_TRACE_MAX)
		s->agents[s->steps] = (uint8_t)agent;
}
static bool retry_waiter_wakeable(const struct sim *s);
static void cpu_execute(struct sim *s, uint32_t i);
static void buffer_agent_step(struct sim *s, uint32_t agent);

static void cpu_entry(void *arg)
{
	struct sim *s = arg;
	uint32_t id = s->cur;
	struct sim_cpu *c = &s->cpu[id];

	if (setjmp(c->exit_jmp) == 0)
		c->fn(s, id, c->arg);
	c->state = CPU_FINISHED;
	c->irq_off = false;
	c->stale_count = 0;   /* RELAXED: nobody left to see stale values */
	if (c->ipi_pending) {
		c->ipi_pending = false;
		c->ipi_ack_mark = c->stores_issued;
	}
	fiber_exit(&c->fiber, &s->host);
}

/* Announce an access and wait for the scheduler to execute it. */
static uint64_t cpu_access(struct sim *s, uint8_t op, sim_addr a, uint64_t v, uint64_t v2)
{
	struct sim_cpu *c = &s->cpu[s->cur];

	assert(c->state == CPU_PENDING);
	c->op = op;
	c->a = a;
	c->v = v;
	c->v2 = v2;
	if (s->config.bare) {
		/* Nothing else runs: no wait can end, and none is needed. */
		if (op == OP_RETRY_WAIT || op == SIM_EV_IPI || op == SIM_EV_IPI_DONE)
			return 0;
		s->steps++;
		cpu_execute(s, s->cur);
		return c->result;
	}
	/*
	 * Take the scheduler's decisions here as long as they pick this CPU
	 * (or a store-buffer drain): most steps continue the running CPU, and
	 * switching to the host and back for each would dominate the run.
	 * The decisions are the very ones the host loop would take, in the
	 * same order, so the schedule does not depend on where they are taken.
	 */
	while (s->running && !retry_waiter_wakeable(s)) {
		enum sim_result res;
		int agent = sched_decide(s, &res);
		uint32_t self = s->cur;

		if (agent == (int)self) {
			record_agent(s, agent);
			s->steps++;
			cpu_execute(s, self);
			return c->result;
		}
		if (agent >= (int)s->config.cpus) {
			record_agent(s, agent);
			s->steps++;
			buffer_agent_step(s, (uint32_t)agent);
			s->cur = self;
			continue;
		}
		s->decided = true;
		s->decision = agent;
		s->decided_result = res;
		break;
	}
	fiber_yield(&c->fiber, &s->host);
	if (s->killing)
		longjmp(c->exit_jmp, 1);
	return c->result;
}

static void check_addr(sim_addr a, uint32_t words)
{
	assert(a < SIM_MEM_WORDS && a + words <= SIM_MEM_WORDS);
	(void)a;
	(void)words;
}

uint32_t sim_load32(struct sim *s, sim_addr a)
{
	check_addr(a, 1);
	return (uint32_t)cpu_access(s, SIM_EV_LOAD32, a, 0, 0);
}

void sim_store32(struct sim *s, sim_addr a, uint32_t v)
{
	check_addr(a, 1);
	cpu_access(s, SIM_EV_STORE32, a, v, 0);
}

uint32_t sim_xchg32(struct sim *s, sim_addr a, uint32_t v)
{
	check_addr(a, 1);
	return (uint32_t)cpu_access(s, SIM_EV_XCHG32, a, v, 0);
}

uint32_t sim_cmpxchg32(struct sim *s, sim_addr a, uint32_t old, uint32_t v)
{
	check_addr(a, 1);
	return (uint32_t)cpu_access(s, SIM_EV_CMPXCHG32, a, v, old);
}

uint32_t sim_and32(struct sim *s, sim_addr a, uint32_t mask)
{
	check_addr(a, 1);
	return (uint32_t)cpu_access(s, SIM_EV_AND32, a, mask, 0);
}

uint32_t sim_or32(struct sim *s, sim_addr a, uint32_t mask)
{
	check_addr(a, 1);
	return (uint32_t)cpu_access(s, SIM_EV_OR32, a, mask, 0);
}

uint64_t sim_load64(struct sim *s, sim_addr a)
{
	check_addr(a, 2);
	return cpu_access(s, SIM_EV_LOAD64, a, 0, 0);
}

void sim_store64(struct sim *s, sim_addr a, uint64_t v)
{
	check_addr(a, 2);
	cpu_access(s, SIM_EV_STORE64, a, v, 0);
}

uint64_t sim_cmpxchg64(struct sim *s, sim_addr a, uint64_t old, uint64_t v)
{
	check_addr(a, 2);
	return cpu_access(s, SIM_EV_CMPXCHG64, a, v, old);
}

void sim_smp_mb(struct sim *s) { cpu_access(s, SIM_EV_MB, 0, 0, 0); }
void sim_smp_wmb(struct sim *s) { cpu_access(s, SIM_EV_WMB, 0, 0, 0); }
void sim_smp_rmb(struct sim *s) { cpu_access(s, SIM_EV_RMB, 0, 0, 0); }
void sim_irq_disable(struct sim *s) { cpu_access(s, SIM_EV_IRQ_OFF, 0, 0, 0); }
void sim_irq_enable(struct sim *s) { cpu_access(s, SIM_EV_IRQ_ON, 0, 0, 0); }

void sim_ipi(struct sim *s, uint32_t cpu_mask)
{
	cpu_mask &= (1u << s->config.cpus) - 1;
	cpu_mask &= ~(1u << s->cur);
	if (!cpu_mask)
		return;
	cpu_access(s, SIM_EV_IPI, 0, cpu_mask, 0);
	cpu_access(s, SIM_EV_IPI_DONE, 0, cpu_mask, 0);
}

bool sim_ipi_pending(const struct sim *s)
{
	return s->cpu[s->cur].ipi_pending;
}

void sim_spin_lock(struct sim *s, sim_addr lock)
{
	check_addr(lock, 1);
	cpu_access(s, SIM_EV_LOCK, lock, 0, 0);
}

void sim_spin_unlock(struct sim *s, sim_addr lock)
{
	check_addr(lock, 1);
	cpu_access(s, SIM_EV_UNLOCK, lock, 0, 0);
}

/*
 * What a retry wait waits on: stores reaching memory and, under RELAXED,
 * the CPU's stale entries going away (stale_applied stays 0 otherwise).
 */
static uint64_t retry_count(const struct sim *s, const struct sim_cpu *c)
{
	return s->stores_visible + c->stale_applied;
}

uint64_t sim_retry_mark(struct sim *s)
{
	return retry_count(s, &s->cpu[s->cur]);
}

void sim_retry_wait(struct sim *s, uint64_t mark)
{
	if (retry_count(s, &s->cpu[s->cur]) != mark)
		return;
	cpu_access(s, OP_RETRY_WAIT, 0, mark, 0);
}

uint64_t sim_last_step(const struct sim *s)
{
	return s->cpu[s->cur].last_step;
}

uint64_t sim_last_load_since(const struct sim *s)
{
	return s->cpu[s->cur].load_since;
}

uint64_t sim_steps(const struct sim *s)
{
	return s->steps;
}

uint32_t sim_current_cpu(const struct sim *s)
{
	return s->cur;
}

void sim_note(struct sim *s, uint16_t note, sim_addr a, uint64_t value, uint64_t arg)
{
	log_event(s, s->cur, SIM_EV_NOTE, note, a, value, arg);
}

void sim_when_visible(struct sim *s, sim_visible_fn fn, void *ctx)
{
	struct sim_cpu *c = &s->cpu[s->cur];
	struct sim_visible *w;

	if (c->stores_drained == c->stores_issued) {
		fn(ctx, c->last_step);
		return;
	}
	assert(s->visible_count < SIM_VISIBLE_MAX);
	w = &s->visible[s->visible_count++];
	w->cpu = s->cur;
	w->seq = c->stores_issued;
	w->fn = fn;
	w->ctx = ctx;
}

uint64_t sim_hash(const struct sim *s)
{
	return s->hash;
}

const uint8_t *sim_agent_trace(const struct sim *s, size_t *len)
{
	*len = s->steps < SIM_TRACE_MAX ? s->steps : SIM_TRACE_MAX;
	return s->agents;
}

uint32_t sim_agents_count(const struct sim_config *c)
{
	switch (c->mm) {
	case SIM_MM_TSO: return 2 * c->cpus;
	case SIM_MM_RELAXED: return 3 * c->cpus;
	default: return c->cpus;
	}
}

uint64_t sim_steer_points(const struct sim *s, enum sim_steer_points k)
{
	return s->config.sched == SIM_SCHED_BYTES && k < SIM_STEER_POINTS ? s->points[k] : 0;
}

uint64_t sim_relevant_steps(const struct sim *s)
{
	return s->config.sched == SIM_SCHED_PREEMPT ? 0 : s->pct_relevant;
}

const uint8_t *sim_sched_trace(const struct sim *s, size_t *len)
{
	*len = s->trace_len;
	return s->trace;
}

const uint8_t *sim_choice_trace(const struct sim *s, size_t *len)
{
	*len = s->trace_len;
	return s->choices;
}

const struct sim_event *sim_log(const struct sim *s, size_t *count)
{
	*count = s->log_count;
	return s->log;
}

/* ---- memory ---- */

static uint32_t sb_index(const struct sim_cpu *c, uint32_t i)
{
	return (c->sb_head + i) % SIM_SB_MAX;
}

/* Word a as CPU c sees it: its own newest buffered store, else memory. */
/* CPU c's youngest buffered store that covers word a, or NULL. */
static const struct sb_entry *sb_find(const struct sim_cpu *c, sim_addr a)
{
	for (uint32_t i = c->sb_count; i-- > 0;) {
		const struct sb_entry *e = &c->sb[sb_index(c, i)];

		if (e->a == a || (e->words == 2 && e->a + 1 == a))
			return e;
	}
	return NULL;
}

static uint32_t mem_view32(const struct sim *s, const struct sim_cpu *c, sim_addr a)
{
	const struct sb_entry *e = sb_find(c, a);

	if (e)
		return e->a == a ? (uint32_t)e->v : (uint32_t)(e->v >> 32);
	return s->mem[a];
}

/* ---- RELAXED: stale tables ---- */

static bool relaxed(const struct sim *s)
{
	return s->config.mm == SIM_MM_RELAXED;
}

static const struct stale_entry *stale_find(const struct sim_cpu *c, sim_addr a)
{
	for (uint32_t i = 0; i < c->stale_count; i++)
		if (c->stale[i].a == a)
			return &c->stale[i];
	return NULL;
}

/*
 * Word a as CPU c's load sees it: its own newest buffered store, else its
 * stale value (RELAXED), else memory.
 */
static uint32_t load_view32(const struct sim *s, const struct sim_cpu *c, sim_addr a)
{
	const struct sb_entry *e = sb_find(c, a);
	const struct stale_entry *st;

	if (e)
		return e->a == a ? (uint32_t)e->v : (uint32_t)(e->v >> 32);
	if (c->stale_count && (st = stale_find(c, a)))
		return st->v;
	return s->mem[a];
}

/* Drop the entries matching (a, group) (0: any): they see memory now. */
static void stale_drop(struct sim *s, uint32_t cpu, sim_addr a, uint32_t group, bool log)
{
	struct sim_cpu *c = &s->cpu[cpu];
	uint32_t keep = 0;

	for (uint32_t i = 0; i < c->stale_count; i++) {
		const struct stale_entry *e = &c->stale[i];

		if (group ? e->group == group : e->a == a) {
			if (log)
				log_event(s, cpu, SIM_EV_INVAL32, 0, e->a, s->mem[e->a], e->v);
			continue;
		}
		c->stale[keep++] = *e;
	}
	if (keep != c->stale_count) {
		c->stale_count = keep;
		c->stale_applied++;
	}
}

/* smp_rmb, smp_mb, locked operations: everything the CPU sees is memory. */
static void stale_apply_all(struct sim_cpu *c)
{
	if (c->stale_count) {
		c->stale_count = 0;
		c->stale_applied++;
	}
}

/* The index of group number k (in order of first entry), or of the youngest if k < 0. */
static uint32_t stale_group_at(const struct sim_cpu *c, int k)
{
	uint32_t youngest = 0;

	for (uint32_t i = 0; i < c->stale_count; i++) {
		bool first = true;

		for (uint32_t j = 0; j < i && first; j++)
			first = c->stale[j].group != c->stale[i].group;
		if (!first)
			continue;
		if (k == 0)
			return c->stale[i].group;
		k--;
		if (c->stale[i].group > youngest)
			youngest = c->stale[i].group;
	}
	assert(k < 0 && youngest);
	return youngest;
}

static uint32_t stale_group_count(const struct sim_cpu *c)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < c->stale_count; i++) {
		bool first = true;

		for (uint32_t j = 0; j < i && first; j++)
			first = c->stale[j].group != c->stale[i].group;
		n += first;
	}
	return n;
}

/*
 * CPU writer's store to words a .. a + words - 1 is about to reach memory:
 * every other running CPU without an entry for a word keeps the word's
 * current value, and the writer sees its own store from now on.  The
 * entries of one CPU for the words of one store form one group (merging
 * groups if need be), so that a 64-bit load never sees half a store.
 */
static void stale_publish(struct sim *s, uint32_t writer, sim_addr a, uint32_t words)
{
	for (uint32_t j = 0; j < s->config.cpus; j++) {
		struct sim_cpu *c = &s->cpu[j];
		uint32_t group = 0, need;

		if (j == writer) {
			for (uint32_t w = 0; w < words && c->stale_count; w++)
				stale_drop(s, j, a + w, 0, false);
			continue;
		}
		if (c->state != CPU_PENDING)
			continue;
		for (;;) {
			need = 0;
			for (uint32_t w = 0; w < words; w++)
				need += stale_find(c, a + w) == NULL;
			if (c->stale_count + need <= SIM_STALE_MAX)
				break;
			/* Full: the oldest entry's group becomes visible (fewer behaviours). */
			stale_drop(s, j, 0, c->stale[0].group, false);
		}
		for (uint32_t w = 0; w < words; w++) {
			const struct stale_entry *e = stale_find(c, a + w);

			if (!e)
				continue;
			if (!group) {
				group = e->group;
			} else if (e->group != group) {
				uint32_t from = e->group > group ? e->group : group;
				uint32_t to = e->group > group ? group : e->group;

				for (uint32_t i = 0; i < c->stale_count; i++)
					if (c->stale[i].group == from)
						c->stale[i].group = to;
				group = to;
			}
		}
		for (uint32_t w = 0; w < words; w++) {
			if (stale_find(c, a + w))
				continue;
			if (!group)
				group = ++c->stale_groups;
			c->stale[c->stale_count++] = (struct stale_entry){
				a + w, s->mem[a + w], s->tag[a + w], group, s->wseq[a + w],
				(uint32_t)s->stores_visible + 1, s->wstep[a + w] };
		}
	}
}

/*
 * RELAXED: an aligned 64-bit load is single-copy atomic, so the two words
 * it returns were in memory together at some moment.  A stale word held its
 * value from write number `since` until write `until`; a word seen in
 * memory holds its value from its last write (wseq) on; a word forwarded
 * from the CPU's own buffer constrains nothing.  When no moment fits both
 * words, the staler word's entry is applied (the line is read as a whole),
 * until one does.  Without this, a load64 could pair a word with an older
 * value of a word stored before it behind a wmb, which no single access
 * can see.
 */
static void load64_snapshot(struct sim *s, uint32_t cpu, sim_addr a)
{
	struct sim_cpu *c = &s->cpu[cpu];

	while (c->stale_count) {
		const struct stale_entry *st[2];
		uint32_t lo = 0, hi = UINT32_MAX;
		bool dropped = false;

		for (uint32_t w = 0; w < 2; w++) {
			st[w] = NULL;
			if (sb_find(c, a + w))
				continue;
			st[w] = stale_find(c, a + w);
			if (st[w]) {
				lo = st[w]->since > lo ? st[w]->since : lo;
				hi = st[w]->until < hi ? st[w]->until : hi;
			} else if (s->wseq[a + w] > lo) {
				lo = s->wseq[a + w];
			}
		}
		if (lo < hi)
			return;
		for (uint32_t w = 0; w < 2; w++) {
			if (st[w] && stale_find(c, a + w) && stale_find(c, a + w)->until <= lo) {
				stale_drop(s, cpu, a + w, 0, true);
				dropped = true;
			}
		}
		assert(dropped);
		(void)dropped;
	}
}

/*
 * The step since which what CPU c's load of words a .. a + words - 1 sees
 * has been visible to it: the load's own step, or the step at which the
 * oldest stale value among them was written.
 */
static uint64_t stale_since(const struct sim *s, const struct sim_cpu *c, sim_addr a,
			    uint32_t words)
{
	uint64_t since = s->steps;

	for (uint32_t w = 0; w < words && c->stale_count; w++) {
		const struct stale_entry *st;

		if (!sb_find(c, a + w) && (st = stale_find(c, a + w)) && st->since_step < since)
			since = st->since_step;
	}
	return since;
}

/* One invalidate-agent step: apply group number pick (-1: the youngest). */
static void stale_step(struct sim *s, uint32_t cpu, int pick)
{
	stale_drop(s, cpu, 0, stale_group_at(&s->cpu[cpu], pick), true);
}

/*
 * ---- interleaving feedback ----
 *
 * Code coverage saturates fast on a small model; these counters say which
 * interleavings a run went through.  Each is a hashed key into
 * config.feedback (libFuzzer's extra counters, AFL++ map slots):
 * Loads and fences count only inside one of the model's sites (sim_site;
 * site 0 is everything else), so the counters are the protocol's own
 * interleavings, not those of the code around it.
 *   reads-from   per load: the reader's site and how many loads into it,
 *                the half (low/high word), the writer's site, whether the
 *                writer was this CPU and whether the value was forwarded
 *                from its own store buffer;
 *   between      per load: the set of writer sites whose stores became
 *                visible since this CPU's previous load (what the writers
 *                did between a reader's two half reads);
 *   fence        per full fence or locked operation: the site and how
 *                many stores the CPU's buffer held;
 *   stale        (RELAXED) per load that returned a stale value: the site
 *                and the half;
 * and the model's own keys (sim_feedback): retry causes, torn combinations,
 * verdicts.  A writer tag is (site << 4 | cpu + 1); 0 is the host's.
 */
enum { FB_READS_FROM = 1, FB_BETWEEN, FB_FENCE, FB_MODEL, FB_STALE };

static uint16_t writer_tag(const struct sim *s, uint32_t cpu)
{
	return (uint16_t)(s->cpu[cpu].site << 4 | (cpu + 1));
}

static void fb_count(struct sim *s, uint32_t kind, uint32_t key)
{
	uint32_t h = (kind << 28 ^ key) * 0x9e3779b1u;
	uint8_t *c;

	h ^= h >> 15;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	c = &s->config.feedback[h & (s->config.feedback_size - 1)];
	if (*c != 0xff)
		(*c)++;
}

/* The tag of the value CPU c's load of word a sees (own buffer first). */
static uint16_t view_tag(const struct sim *s, const struct sim_cpu *c, sim_addr a, bool *fwd,
			 bool *stale)
{
	const struct sb_entry *e = sb_find(c, a);
	const struct stale_entry *st;

	*fwd = e != NULL;
	*stale = false;
	if (e)
		return e->tag;
	if (c->stale_count && (st = stale_find(c, a))) {
		*stale = true;
		return st->tag;
	}
	return s->tag[a];
}

/* RELAXED: count a load of word a that returns a stale value. */
static void fb_stale(struct sim *s, const struct sim_cpu *c, sim_addr a)
{
	if (c->stale_count && !sb_find(c, a) && stale_find(c, a))
		fb_count(s, FB_STALE, (uint32_t)c->site << 1 | (a & 1));
}

static void fb_load(struct sim *s, uint32_t i, sim_addr a)
{
	struct sim_cpu *c = &s->cpu[i];
	bool fwd, stale;
	uint16_t t;
	uint32_t wcpu, who, at;

	/* Only loads of the model's sites: the protocol's own interleavings. */
	if (!s->config.feedback || !c->site)
		return;
	t = view_tag(s, c, a, &fwd, &stale);
	if (stale)
		fb_count(s, FB_STALE, (uint32_t)c->site << 1 | (a & 1));
	wcpu = t & 15;
	who = wcpu == 0 ? 0 : wcpu == i + 1 ? 1 : 2;
	at = (uint32_t)c->site << 8 | c->site_loads << 1 | (a & 1);
	c->load_tag = t;
	fb_count(s, FB_READS_FROM, at << 12 | (uint32_t)(t >> 4) << 3 | who << 1 | fwd);
	fb_count(s, FB_BETWEEN, at << 12 ^ c->between * 0x2f0b3c4du);
	c->between = 0;
	if (c->site_loads < 7)
		c->site_loads++;
}

static void fb_fence(struct sim *s, uint32_t i)
{
	const struct sim_cpu *c = &s->cpu[i];

	if (s->config.feedback && c->site)
		fb_count(s, FB_FENCE, (uint32_t)c->site << 8 | (c->sb_count < 3 ? c->sb_count : 3));
}

void sim_site(struct sim *s, uint8_t site)
{
	struct sim_cpu *c = &s->cpu[s->cur];

	c->site = site;
	c->site_loads = 0;
	c->site_steps = 0;
	c->site_nwords = 0;
}

void sim_feedback(struct sim *s, uint32_t key)
{
	if (s->config.feedback)
		fb_count(s, FB_MODEL, key);
}

uint16_t sim_load_tag(const struct sim *s)
{
	return s->cpu[s->cur].load_tag;
}

/*
 * The number n such that every store the CPU issued up to its n-th is in
 * memory.  FIFO buffers (TSO): the drained count; RELAXED drains out of
 * order, so it is one less than the oldest buffered store's number.
 */
static uint64_t drained_prefix(const struct sim *s, const struct sim_cpu *c)
{
	uint64_t oldest = c->stores_issued + 1;

	if (!relaxed(s))
		return c->stores_drained;
	for (uint32_t i = 0; i < c->sb_count; i++) {
		uint64_t seq = c->sb[(c->sb_head + i) % SIM_SB_MAX].seq;

		if (seq < oldest)
			oldest = seq;
	}
	return oldest - 1;
}

static void fire_visible(struct sim *s, uint32_t cpu)
{
	const struct sim_cpu *c = &s->cpu[cpu];
	uint32_t i = 0;

	while (i < s->visible_count) {
		struct sim_visible *w = &s->visible[i];

		if (w->cpu == cpu && w->seq <= drained_prefix(s, c)) {
			struct sim_visible fired = *w;

			s->visible[i] = s->visible[--s->visible_count];
			fired.fn(fired.ctx, s->steps);
			/* Keep firing order deterministic: restart the scan. */
			i = 0;
			continue;
		}
		i++;
	}
}

/* SIM_HOLD_CONFLICTS: a write to a watched word counts against the hold. */
static void steer_conflict(struct sim *s, sim_addr a, uint32_t words)
{
	for (uint32_t i = 0; i < s->steer_nwords; i++)
		if (s->steer_words[i] == (a & ~(sim_addr)1) ||
		    (words == 2 && s->steer_words[i] == ((a + 1) & ~(sim_addr)1))) {
			s->steer_left--;
			return;
		}
}

static void mem_write(struct sim *s, sim_addr a, uint32_t words, uint64_t v, uint16_t tag)
{
	s->mem[a] = (uint32_t)v;
	s->tag[a] = tag;
	mark_dirty(s, a);
	if (words == 2) {
		s->mem[a + 1] = (uint32_t)(v >> 32);
		s->tag[a + 1] = tag;
		mark_dirty(s, a + 1);
	}
	s->stores_visible++;
	if (s->steer_left && s->config.steer->hold_kind == SIM_HOLD_CONFLICTS)
		steer_conflict(s, a, words);
	if (relaxed(s)) {
		s->wseq[a] = (uint32_t)s->stores_visible;
		s->wstep[a] = (uint32_t)s->steps;
		if (words == 2) {
			s->wseq[a + 1] = (uint32_t)s->stores_visible;
			s->wstep[a + 1] = (uint32_t)s->steps;
		}
	}
	for (uint32_t i = 0; s->config.feedback && i < s->config.cpus; i++)
		s->cpu[i].between |= 1u << (tag >> 4 & 31);
}

/* A store of CPU cpu reaches memory: RELAXED first leaves stale entries. */
static void mem_write_from(struct sim *s, uint32_t cpu, sim_addr a, uint32_t words, uint64_t v,
			   uint16_t tag)
{
	if (relaxed(s))
		stale_publish(s, cpu, a, words);
	mem_write(s, a, words, v, tag);
}

/*
 * Move CPU cpu's buffered store number i (0: the oldest) to memory, within
 * the current step.  Only RELAXED takes any but the oldest.
 */
static void sb_drain_at(struct sim *s, uint32_t cpu, uint32_t i)
{
	struct sim_cpu *c = &s->cpu[cpu];
	struct sb_entry e;

	assert(i < c->sb_count);
	e = c->sb[sb_index(c, i)];
	if (i == 0) {
		c->sb_head = (c->sb_head + 1) % SIM_SB_MAX;
	} else {
		for (uint32_t k = i; k + 1 < c->sb_count; k++)
			c->sb[sb_index(c, k)] = c->sb[sb_index(c, k + 1)];
	}
	c->sb_count--;
	mem_write_from(s, cpu, e.a, e.words, e.v, e.tag);
	c->stores_drained++;
	log_event(s, cpu, e.words == 2 ? SIM_EV_DRAIN64 : SIM_EV_DRAIN32, 0, e.a, e.v, 0);
	fire_visible(s, cpu);
}

static void sb_drain_one(struct sim *s, uint32_t cpu)
{
	sb_drain_at(s, cpu, 0);
}

/*
 * RELAXED: may buffered store i drain now?  Not past an older store to a
 * word it covers (coherence), nor past a wmb mark that has an older store
 * before it (the oldest store's epoch is the smallest in the buffer).
 */
static bool sb_may_drain(const struct sim_cpu *c, uint32_t i)
{
	const struct sb_entry *e = &c->sb[sb_index(c, i)];

	if (c->sb[c->sb_head].epoch != e->epoch)
		return false;
	for (uint32_t k = 0; k < i; k++) {
		const struct sb_entry *o = &c->sb[sb_index(c, k)];

		if (o->a < e->a + e->words && e->a < o->a + o->words)
			return false;
	}
	return true;
}

/* RELAXED: the youngest store that may drain (the oldest always may). */
static uint32_t sb_youngest_drainable(const struct sim_cpu *c)
{
	uint32_t i = c->sb_count - 1;

	while (i > 0 && !sb_may_drain(c, i))
		i--;
	return i;
}

/*
 * One step of agent (>= cpus): a drain agent moves one store to memory, an
 * invalidate agent applies one stale group.  Under RELAXED the byte stream
 * picked the entry (s->pick); otherwise the youngest that may go.
 */
static void buffer_agent_step(struct sim *s, uint32_t agent)
{
	uint32_t n = s->config.cpus;
	int pick = s->pick;

	s->pick = -1;
	if (agent < 2 * n) {
		s->cur = agent - n;
		if (!relaxed(s))
			sb_drain_one(s, s->cur);
		else
			sb_drain_at(s, s->cur, pick >= 0 ? (uint32_t)pick
						   : sb_youngest_drainable(&s->cpu[s->cur]));
	} else {
		s->cur = agent - 2 * n;
		stale_step(s, s->cur, pick);
	}
}

static void sb_drain_all(struct sim *s, uint32_t cpu)
{
	while (s->cpu[cpu].sb_count > 0)
		sb_drain_one(s, cpu);
}

static void mem_store(struct sim *s, uint32_t cpu, sim_addr a, uint32_t words, uint64_t v)
{
	struct sim_cpu *c = &s->cpu[cpu];

	c->stores_issued++;
	if (s->config.mm == SIM_MM_SC) {
		mem_write(s, a, words, v, writer_tag(s, cpu));
		c->stores_drained++;
		return;
	}
	if (c->sb_count == SIM_SB_MAX)
		sb_drain_one(s, cpu);   /* a full buffer stalls the store */
	c->sb[sb_index(c, c->sb_count)] = (struct sb_entry){
		a, (uint8_t)words, writer_tag(s, cpu), v, c->epoch, c->stores_issued };
	c->sb_count++;
}

/* Can CPU i's announced access execute now? */
static bool cpu_enabled(const struct sim *s, uint32_t i)
{
	const struct sim_cpu *c = &s->cpu[i];

	if (c->state != CPU_PENDING)
		return false;
	switch (c->op) {
	case SIM_EV_LOCK:
		/* A locked op drains our own buffer first, so our own unlock counts. */
		return mem_view32(s, c, c->a) == 0;
	case OP_RETRY_WAIT:
		return retry_count(s, c) != c->v;
	case SIM_EV_IPI_DONE:
		for (uint32_t t = 0; t < s->config.cpus; t++)
			if ((c->v >> t & 1) &&
			    (s->cpu[t].ipi_pending ||
			     drained_prefix(s, &s->cpu[t]) < s->cpu[t].ipi_ack_mark))
				return false;
		return true;
	default:
		return true;
	}
}

/*
 * What the log records: value is what was stored (for a write or a
 * read-modify-write) or loaded; value2 is the old value a read-modify-write
 * returned; note is 1 for a cmpxchg that succeeded.
 */
static uint64_t logged_value(uint8_t op, uint64_t v, uint64_t r)
{
	switch (op) {
	case SIM_EV_STORE32: case SIM_EV_STORE64: case SIM_EV_XCHG32:
	case SIM_EV_CMPXCHG32: case SIM_EV_CMPXCHG64: case SIM_EV_AND32:
	case SIM_EV_OR32:
	case SIM_EV_IPI: case SIM_EV_IPI_DONE:
		return v;
	default:
		return r;
	}
}

static uint64_t logged_value2(uint8_t op, uint64_t r)
{
	switch (op) {
	case SIM_EV_CMPXCHG32: case SIM_EV_CMPXCHG64:
	case SIM_EV_XCHG32: case SIM_EV_AND32: case SIM_EV_OR32:
		return r;
	default:
		return 0;
	}
}

/*
 * A full fence of CPU i (smp_mb, and before every locked operation): its
 * buffer drains and, under RELAXED, it sees memory as it is.
 */
static void full_fence(struct sim *s, uint32_t i)
{
	fb_fence(s, i);
	sb_drain_all(s, i);
	stale_apply_all(&s->cpu[i]);
}

/* Execute CPU i's announced access as step s->steps (already counted). */
static void cpu_execute(struct sim *s, uint32_t i)
{
	struct sim_cpu *c = &s->cpu[i];
	sim_addr a = c->a;
	uint64_t r = 0;

	c->last_step = s->steps;
	if (s->config.steer && c->site && c->site_nwords < 4) {
		sim_addr w = a & ~(sim_addr)1;
		uint32_t k = 0;

		while (k < c->site_nwords && c->site_words[k] != w)
			k++;
		if (k == c->site_nwords)
			c->site_words[c->site_nwords++] = w;
	}
	switch (c->op) {
	case SIM_EV_LOAD32:
		fb_load(s, i, a);
		r = load_view32(s, c, a);
		c->load_since = relaxed(s) ? stale_since(s, c, a, 1) : s->steps;
		break;
	case SIM_EV_LOAD64:
		if (relaxed(s))
			load64_snapshot(s, i, a);
		fb_load(s, i, a);
		if (s->config.feedback && c->site)
			fb_stale(s, c, a + 1);
		r = load_view32(s, c, a) | (uint64_t)load_view32(s, c, a + 1) << 32;
		c->load_since = relaxed(s) ? stale_since(s, c, a, 2) : s->steps;
		break;
	case SIM_EV_STORE32:
		mem_store(s, i, a, 1, (uint32_t)c->v);
		break;
	case SIM_EV_STORE64:
		mem_store(s, i, a, 2, c->v);
		break;
	case SIM_EV_UNLOCK:
		assert(mem_view32(s, c, a) != 0);
		c->epoch++;   /* a release: RELAXED keeps earlier stores before it */
		mem_store(s, i, a, 1, 0);
		break;
	case SIM_EV_XCHG32:
		full_fence(s, i);
		r = s->mem[a];
		mem_write_from(s, i, a, 1, (uint32_t)c->v, writer_tag(s, i));
		break;
	case SIM_EV_CMPXCHG32:
		full_fence(s, i);
		r = s->mem[a];
		if (r == (uint32_t)c->v2)
			mem_write_from(s, i, a, 1, (uint32_t)c->v, writer_tag(s, i));
		break;
	case SIM_EV_AND32:
		full_fence(s, i);
		r = s->mem[a];
		mem_write_from(s, i, a, 1, (uint32_t)r & (uint32_t)c->v, writer_tag(s, i));
		break;
	case SIM_EV_OR32:
		full_fence(s, i);
		r = s->mem[a];
		mem_write_from(s, i, a, 1, (uint32_t)r | (uint32_t)c->v, writer_tag(s, i));
		break;
	case SIM_EV_CMPXCHG64:
		full_fence(s, i);
		r = s->mem[a] | (uint64_t)s->mem[a + 1] << 32;
		if (r == c->v2)
			mem_write_from(s, i, a, 2, c->v, writer_tag(s, i));
		break;
	case SIM_EV_LOCK:
		full_fence(s, i);
		assert(s->mem[a] == 0 || s->config.bare);   /* bare: a CPU ended holding it */
		mem_write_from(s, i, a, 1, 1, writer_tag(s, i));
		break;
	case SIM_EV_MB:
		full_fence(s, i);
		break;
	case SIM_EV_WMB:
		/* x86: a compiler barrier; RELAXED: a mark in the store buffer. */
		c->epoch++;
		break;
	case SIM_EV_RMB:
		/* x86: a compiler barrier; RELAXED: see every store that reached memory. */
		stale_apply_all(c);
		break;
	case SIM_EV_IRQ_OFF:
		c->irq_off = true;
		break;
	case SIM_EV_IRQ_ON:
		c->irq_off = false;
		if (c->ipi_pending) {
			c->ipi_pending = false;   /* the interrupt is taken now */
			c->ipi_ack_mark = c->stores_issued;
		}
		break;
	case SIM_EV_IPI:
		/*
		 * RELAXED: smp_call_function_many queues its request with a
		 * value-returning atomic, a full barrier.  x86 keeps today's rule.
		 */
		if (relaxed(s))
			full_fence(s, i);
		/* CPUs with interrupts enabled (or gone) take it at once. */
		for (uint32_t t = 0; t < s->config.cpus; t++) {
			if (!(c->v >> t & 1))
				continue;
			if (s->cpu[t].irq_off && s->cpu[t].state == CPU_PENDING)
				s->cpu[t].ipi_pending = true;
			else
				s->cpu[t].ipi_ack_mark = s->cpu[t].stores_issued;
		}
		break;
	case SIM_EV_IPI_DONE:
		/* RELAXED: the wait ends with an acquire load of the acknowledgement. */
		stale_apply_all(c);
		break;
	default:
		assert(0 && "unknown access");
	}
	c->result = r;
	log_event(s, i, (enum sim_ev)c->op,
		  (c->op == SIM_EV_CMPXCHG32 || c->op == SIM_EV_CMPXCHG64) && r == c->v2,
		  a, logged_value(c->op, c->v, r), logged_value2(c->op, r));
}

/* Run CPU i's code until it announces its next access or finishes. */
static void cpu_resume(struct sim *s, uint32_t i)
{
	struct sim_cpu *c = &s->cpu[i];

	s->cur = i;
	if (c->state == CPU_NEW)
		c->state = CPU_PENDING;
	fiber_switch_to(&s->host, &c->fiber);
	if (c->state == CPU_FINISHED && !s->killing)
		log_event(s, i, SIM_EV_FINISH, 0, 0, 0, 0);
}

/* ---- scheduler ---- */

static uint32_t agents_count(const struct sim *s)
{
	return sim_agents_count(&s->config);
}

/* Lazy drains: may a buffer drain now?  Only while no CPU can step. */
static bool drains_allowed(const struct sim *s)
{
	if (!s->config.lazy_drains)
		return true;
	for (uint32_t i = 0; i < s->config.cpus; i++)
		if (cpu_enabled(s, i))
			return false;
	return true;
}

static bool agent_enabled(const struct sim *s, uint32_t agent)
{
	uint32_t n = s->config.cpus;

	if (agent < n)
		return cpu_enabled(s, agent);
	if (agent < 2 * n)
		return s->cpu[agent - n].sb_count > 0 && drains_allowed(s);
	return s->cpu[agent - 2 * n].stale_count > 0;
}

/*
 * The byte stream's choices: every enabled agent and, under RELAXED, every
 * (buffer agent, entry) pair that may go, as agent | (entry + 1) << 8.
 * Records how many there are for sim_choice_trace.
 */
#define SIM_CHOICES_MAX (SIM_CPUS_MAX * (1 + SIM_SB_MAX + SIM_STALE_MAX))

static uint32_t enabled_choices(struct sim *s, uint32_t *out)
{
	uint32_t n = agents_count(s), cpus = s->config.cpus, count = 0;

	for (uint32_t a = 0; a < n; a++) {
		const struct sim_cpu *c;

		if (!agent_enabled(s, a))
			continue;
		if (!relaxed(s) || a < cpus) {
			out[count++] = a;
			continue;
		}
		if (a < 2 * cpus) {
			c = &s->cpu[a - cpus];
			for (uint32_t i = 0; i < c->sb_count; i++)
				if (sb_may_drain(c, i))
					out[count++] = a | (i + 1) << 8;
		} else {
			uint32_t groups = stale_group_count(&s->cpu[a - 2 * cpus]);

			for (uint32_t k = 0; k < groups; k++)
				out[count++] = a | (k + 1) << 8;
		}
	}
	if (s->trace_len < SIM_TRACE_MAX)
		s->choices[s->trace_len] = (uint8_t)(count < 255 ? count : 255);
	return count;
}

/* The agent of a choice; the entry it names goes to the agent's next step. */
static int take_choice(struct sim *s, uint32_t choice)
{
	s->pick = (int)(choice >> 8) - 1;
	return (int)(choice & 0xff);
}

static bool sched_byte(struct sim *s, uint8_t *out)
{
	if (s->sched_pos < s->config.sched_len) {
		*out = s->config.sched_bytes[s->sched_pos++];
		return true;
	}
	return false;
}

static void preempt_load_next(struct sim *s)
{
	uint8_t gap, target;

	s->preempt_more = sched_byte(s, &gap) && sched_byte(s, &target);
	if (s->preempt_more) {
		s->preempt_at = s->steps + gap;
		s->preempt_target = target;
	}
}

/* The next enabled agent at or after `from`, round robin; -1 if none. */
static int next_enabled(const struct sim *s, uint32_t from)
{
	uint32_t n = agents_count(s);

	for (uint32_t k = 0; k < n; k++) {
		uint32_t a = (from + k) % n;

		if (agent_enabled(s, a))
			return (int)a;
	}
	return -1;
}

/*
 * ---- PCT (SIM_SCHED_PCT; sim.h has the encoding) ----
 *
 * Burckhardt et al., ASPLOS 2010.  The run always gives the step to the
 * enabled agent with the highest priority.  Priorities are distinct: an
 * agent's key is its level (above all others for the initial priorities,
 * change point i's level i after a change) over its inverted index, so a
 * tie of priority bytes goes to the lower agent index.
 */
#define PCT_LEVEL_SHIFT 8
#define PCT_INITIAL_LEVEL (SIM_PCT_DEPTH_MAX + 1)

static uint32_t pct_key(uint32_t level, uint32_t agent)
{
	return level << PCT_LEVEL_SHIFT | (0xffu - agent);
}

/* The next parameter byte: the input's, else the PRNG's; kept in the trace. */
static uint8_t pct_byte(struct sim *s)
{
	uint8_t b;

	if (!sched_byte(s, &b))
		b = (uint8_t)prng_next(&s->prng);
	if (s->trace_len < SIM_TRACE_MAX)
		s->trace[s->trace_len++] = b;
	return b;
}

/* Read the parameters: depth and bound, one priority per agent, the change points. */
static void pct_load(struct sim *s)
{
	uint32_t n = agents_count(s);
	uint8_t head = pct_byte(s);
	uint32_t bound = SIM_PCT_BOUND_MIN << (head >> 2 & 7);

	assert(n <= SIM_PCT_AGENTS_MAX);
	s->pct_depth = head & 3;
	for (uint32_t a = 0; a < n; a++)
		s->pct_prio[a] = pct_key(PCT_INITIAL_LEVEL + pct_byte(s), a);
	for (uint32_t i = 0; i < s->pct_depth; i++) {
		uint32_t lo = pct_byte(s);

		s->pct_change[i] = (lo | (uint32_t)pct_byte(s) << 8) % bound;
	}
	s->pct_relevant = 0;
}

/*
 * Is the step agent is about to take one of the protocol's?  A CPU's access
 * is when the CPU runs inside a model site (sim_site); a drain is when the
 * store it moves to memory was issued inside one (its writer tag).
 */
static bool pct_step_relevant(const struct sim *s, uint32_t agent)
{
	uint32_t n = s->config.cpus;
	const struct sim_cpu *c;

	if (agent < n)
		return s->cpu[agent].site != 0;
	if (s->config.mm == SIM_MM_TSO && agent < 2 * n) {
		c = &s->cpu[agent - n];
		return c->sb_count > 0 && (c->sb[c->sb_head].tag >> 4) != 0;
	}
	if (s->config.mm == SIM_MM_RELAXED && agent < 2 * n) {
		/* Relaxed drains pick an entry later: any store issued in a site counts. */
		c = &s->cpu[agent - n];
		for (uint32_t i = 0; i < c->sb_count; i++)
			if (c->sb[sb_index(c, i)].tag >> 4)
				return true;
		return false;
	}
	if (s->config.mm == SIM_MM_RELAXED && agent < 3 * n) {
		/* An invalidation: relevant if a stale value hides a site's store. */
		c = &s->cpu[agent - 2 * n];
		for (uint32_t i = 0; i < c->stale_count; i++)
			if (c->stale[i].tag >> 4)
				return true;
		return false;
	}
	return true;   /* an agent kind PCT does not know yet: count it */
}

static int pct_choose(struct sim *s)
{
	uint32_t n = agents_count(s);
	int best = -1;

	for (uint32_t a = 0; a < n; a++)
		if (agent_enabled(s, a) && (best < 0 || s->pct_prio[a] > s->pct_prio[best]))
			best = (int)a;
	if (best < 0 || !pct_step_relevant(s, (uint32_t)best))
		return best;
	/* A change point at this relevant step drops the agent taking it. */
	for (uint32_t i = 0; i < s->pct_depth; i++)
		if (s->pct_change[i] == s->pct_relevant)
			s->pct_prio[best] = pct_key(i, (uint32_t)best);
	s->pct_relevant++;
	return best;
}

/*
 * A relevant step of agent is contended when another CPU, one the agent
 * does not belong to, is inside one of the model's sites: the protocol
 * runs on two CPUs at once there.
 */
static bool step_contended(const struct sim *s, uint32_t agent)
{
	uint32_t n = s->config.cpus, owner = agent % n;

	for (uint32_t c = 0; c < n; c++)
		if (c != owner && s->cpu[c].site != 0 && s->cpu[c].state != CPU_FINISHED &&
		    s->cpu[c].state != CPU_ABSENT)
			return true;
	return false;
}

/*
 * The steering point kinds the step agent is about to take belongs to:
 * how many of SIM_STEER_RELEVANT, _CONTENDED, _SPLIT (each implies the
 * ones before it).
 */
static uint32_t step_points(const struct sim *s, uint32_t agent)
{
	if (!pct_step_relevant(s, agent))
		return 0;
	if (!step_contended(s, agent))
		return 1;
	if (agent < s->config.cpus && s->cpu[agent].site && s->cpu[agent].site_steps > 0)
		return 3;
	return 2;
}

/*
 * During a hold, does agent hold the steps (switch) or is it the one held
 * off (delay)?  A holder's store buffer holds with it while the hold
 * counts conflicts: the writes it makes are to become visible.
 */
static bool steer_holds(const struct sim *s, uint32_t agent)
{
	uint32_t n = s->config.cpus, holder = (uint32_t)s->steer_agent;

	if (agent == holder)
		return true;
	return !s->config.steer->delay && s->config.steer->hold_kind == SIM_HOLD_CONFLICTS &&
	       holder < n && s->config.mm != SIM_MM_SC && agent == holder + n;
}

/* The hold is over after this step (index k of the choices). */
static void steer_hold_step(struct sim *s, const uint32_t *enabled, uint32_t k)
{
	enum sim_hold kind = s->config.steer->hold_kind;

	if (kind == SIM_HOLD_STEPS ||
	    (kind == SIM_HOLD_RELEVANT && pct_step_relevant(s, enabled[k] & 0xff)))
		s->steer_left--;
	if (s->steer_cap-- <= 1)
		s->steer_left = 0;
}

/* A hold starts: hold steps, conflicts at the words agent's CPU accessed in its site. */
static void steer_hold_start(struct sim *s, uint32_t agent, uint32_t hold)
{
	const struct sim_cpu *c = &s->cpu[agent % s->config.cpus];

	s->steer_left = hold > 0 ? hold : 1;
	s->steer_nwords = c->site ? c->site_nwords : 0;
	memcpy(s->steer_words, c->site_words, sizeof(s->steer_words));
	s->steer_cap = SIM_STEER_CAP;
}

/*
 * Between the two holds (struct sim_steer, again): the preempted agent's
 * choice while it has relevant steps to go, then the second hold.  Returns
 * count when the bytes choose.
 */
static uint32_t steer_between(struct sim *s, const uint32_t *enabled, uint32_t count)
{
	uint32_t preempted = (uint32_t)s->steer_preempted;

	if (s->steer_rehold) {
		s->steer_rehold = false;
		steer_hold_start(s, preempted, s->config.steer->hold2);
		return count;
	}
	for (uint32_t k = 0; k < count && s->steer_between_cap > 0; k++)
		if ((enabled[k] & 0xff) == preempted) {
			s->steer_between_cap--;
			if (pct_step_relevant(s, preempted) && --s->steer_again == 0)
				s->steer_rehold = true;
			return k;
		}
	s->steer_again = 0;   /* it cannot run (or spins): no second hold */
	return count;
}

/*
 * The byte stream's pick under config.steer (sim.h, struct sim_steer),
 * given the byte b the run would use: the index of the choice to take.
 */
static uint32_t steer_pick(struct sim *s, const uint32_t *enabled, uint32_t count, uint8_t b)
{
	const struct sim_steer *st = s->config.steer;
	uint32_t pick = b % count, agent = enabled[pick] & 0xff, others = 0, k;

	if (s->steer_left == 0 && (s->steer_again > 0 || s->steer_rehold)) {
		k = steer_between(s, enabled, count);
		if (k < count)
			return k;
	}
	if (s->steer_left > 0) {
		for (k = 0; k < count; k++)
			if (steer_holds(s, enabled[k] & 0xff) != st->delay)
				others++;
		if (others == 0) {
			s->steer_left = 0;   /* the holder cannot run, or only the held-off one can */
			return pick;
		}
		if (st->delay)
			others = b % others;   /* the bytes choose among the others */
		else if (st->hold_kind == SIM_HOLD_CONFLICTS)
			others--;              /* the holder's last choice: its buffer first */
		else
			others = 0;            /* the holder's first choice */
		for (k = 0; k < count; k++)
			if (steer_holds(s, enabled[k] & 0xff) != st->delay && others-- == 0) {
				steer_hold_step(s, enabled, k);
				return k;
			}
	}
	if (s->steer_done || st->points >= SIM_STEER_POINTS || s->points[st->points] != st->at ||
	    step_points(s, agent) <= (uint32_t)st->points)
		return pick;
	s->steer_done = true;
	for (k = 0; k < count; k++)
		if ((enabled[k] & 0xff) != agent)
			others++;
	if (others == 0)
		return pick;
	others = st->rank % others;
	for (k = 0; k < count; k++) {
		if ((enabled[k] & 0xff) == agent || others-- != 0)
			continue;
		s->steer_agent = st->delay ? (int)agent : (int)(enabled[k] & 0xff);
		steer_hold_start(s, agent, st->hold);
		if (!st->delay && st->again > 0) {
			s->steer_preempted = (int)agent;
			s->steer_again = st->again;
			s->steer_between_cap = SIM_STEER_CAP;
		}
		steer_hold_step(s, enabled, k);
		return k;
	}
	return pick;
}

static int choose_agent(struct sim *s)
{
	uint32_t n = agents_count(s);

	if (s->config.sched == SIM_SCHED_PCT)
		return pct_choose(s);
	if (s->config.sched == SIM_SCHED_PREEMPT) {
		while (s->preempt_more && s->steps >= s->preempt_at) {
			s->agent = s->preempt_target % n;
			preempt_load_next(s);
		}
		int a = next_enabled(s, s->agent);

		if (a >= 0)
			s->agent = (uint32_t)a;
		return a;
	}

	uint32_t enabled[SIM_CHOICES_MAX], count = enabled_choices(s, enabled), pick;
	uint8_t b;

	if (count == 0)
		return -1;
	if (!sched_byte(s, &b))
		b = (uint8_t)prng_next(&s->prng);
	pick = b % count;
	if (s->config.steer) {
		uint32_t steered = steer_pick(s, enabled, count, b);

		if (steered != pick)
			b = (uint8_t)(pick = steered);   /* the choice's own index replays it */
	}
	{
		uint32_t agent = enabled[pick] & 0xff, kinds = step_points(s, agent);

		s->pct_relevant += kinds > 0;
		for (uint32_t k = 0; k < kinds; k++)
			s->points[k]++;
		if (agent < s->config.cpus && s->cpu[agent].site && s->cpu[agent].site_steps < 255)
			s->cpu[agent].site_steps++;
	}
	if (s->trace_len < SIM_TRACE_MAX)
		s->trace[s->trace_len++] = b;
	return take_choice(s, enabled[pick]);
}

static bool all_finished(const struct sim *s)
{
	for (uint32_t i = 0; i < s->config.cpus; i++) {
		const struct sim_cpu *c = &s->cpu[i];

		if (c->state != CPU_ABSENT && c->state != CPU_FINISHED)
			return false;
		if (c->sb_count)
			return false;
	}
	return true;
}

/* Resume CPUs whose retry wait has been satisfied: private code, no step. */
static void wake_retry_waiters(struct sim *s)
{
	for (uint32_t i = 0; i < s->config.cpus; i++) {
		struct sim_cpu *c = &s->cpu[i];

		while (c->state == CPU_PENDING && c->op == OP_RETRY_WAIT &&
		       retry_count(s, c) != c->v) {
			c->last_step = s->steps;
			cpu_resume(s, i);
		}
	}
}

static void kill_unfinished(struct sim *s)
{
	s->killing = true;
	for (uint32_t i = 0; i < s->config.cpus; i++) {
		struct sim_cpu *c = &s->cpu[i];

		if (c->state == CPU_PENDING)
			cpu_resume(s, i);
		assert(c->state == CPU_FINISHED || c->state == CPU_NEW ||
		       c->state == CPU_ABSENT);
	}
	s->killing = false;
}

static bool retry_waiter_wakeable(const struct sim *s)
{
	for (uint32_t i = 0; i < s->config.cpus; i++) {
		const struct sim_cpu *c = &s->cpu[i];

		if (c->state == CPU_PENDING && c->op == OP_RETRY_WAIT && retry_count(s, c) != c->v)
			return true;
	}
	return false;
}

/* The next agent to run, or -1 with *res set when the run is over. */
static int sched_decide(struct sim *s, enum sim_result *res)
{
	int agent;

	*res = SIM_DONE;
	if (all_finished(s))
		return -1;
	if (s->steps >= s->steps_max) {
		*res = SIM_STEP_LIMIT;
		return -1;
	}
	agent = choose_agent(s);
	if (agent < 0)
		*res = SIM_DEADLOCK;
	return agent;
}

enum sim_result sim_run(struct sim *s)
{
	enum sim_result result = SIM_DONE;

	s->running = false;
	s->decided = false;
	if (s->config.bare) {
		/* One CPU after the other, each straight to its end. */
		for (uint32_t i = 0; i < s->config.cpus; i++) {
			struct sim_cpu *c = &s->cpu[i];

			if (c->state != CPU_NEW)
				continue;
			s->cur = i;
			c->state = CPU_PENDING;
			c->fn(s, i, c->arg);
			c->state = CPU_FINISHED;
		}
		hash_u64(&s->hash, result);
		return result;
	}
	if (s->config.sched == SIM_SCHED_PREEMPT)
		preempt_load_next(s);
	if (s->config.sched == SIM_SCHED_PCT)
		pct_load(s);
	/* Run every CPU up to its first access, in CPU order. */
	for (uint32_t i = 0; i < s->config.cpus; i++)
		if (s->cpu[i].state == CPU_NEW)
			cpu_resume(s, i);
	s->running = true;
	for (;;) {
		int agent;

		wake_retry_waiters(s);
		if (s->decided) {
			/* A CPU decided before yielding; no step happened since. */
			s->decided = false;
			agent = s->decision;
			result = s->decided_result;
		} else {
			agent = sched_decide(s, &result);
		}
		if (agent < 0)
			break;
		record_agent(s, agent);
		s->steps++;
		if ((uint32_t)agent < s->config.cpus) {
			cpu_execute(s, (uint32_t)agent);
			cpu_resume(s, (uint32_t)agent);
		} else {
			buffer_agent_step(s, (uint32_t)agent);
		}
	}
	s->running = false;
	if (result != SIM_DONE)
		kill_unfinished(s);
	hash_u64(&s->hash, result);
	return result;
}
