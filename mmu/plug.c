// SPDX-License-Identifier: GPL-2.0-only
/*
 * The run-time of plugged protocols: a developer's kernel-style split-spte
 * functions (./spterace fuzz --protocol FILE.c, docs/your-protocol.md) run
 * in the model in place of spte.c's, with every plain load and store of an
 * spte or of clear_spte_count a scheduled step.
 *
 * How the file's accesses become steps.  The launcher compiles FILE.c with
 * clang's -fsanitize=thread instrumentation and links no TSan run-time: the
 * __tsan_* callbacks below are spterace's.  The instrumented code calls
 * __tsan_readN(p) / __tsan_writeN(p) right before it makes the access
 * itself, at p.  The file's sptep points into a proxy: real memory laid out
 * as the sim/ words of the shadow pages (proxy_words, the same 1024 words
 * per page as MMU_ADDR_SPT) and of their counts (proxy_sp[i].
 * clear_spte_count is MMU_ADDR_COUNT + i).  Then:
 *
 *   load   the callback makes the scheduled sim_load32() (TSO: forwarded
 *          from the CPU's own store buffer) and writes the value into the
 *          proxy word; the instruction that follows reads it.  No other
 *          CPU runs in between: fibers switch only inside sim/ accessors.
 *   store  the callback cannot see the value, so it records the proxy
 *          word as pending; the instruction then writes the proxy, and the
 *          CPU's next callback, barrier, locked operation or return to the
 *          model reads the proxy word and issues sim_store32() with it
 *          (TSO: into the store buffer) before anything else.  Nothing of
 *          that CPU happens between the store and its commit, so the order
 *          of its steps is the program order, and a load of the same word
 *          after the store commits it first and forwards from it.
 *   8 bytes  a u64 load or store of the proxy is two 32-bit steps, low
 *          half first, as a 32-bit compiler splits it.
 *
 * 1- and 2-byte accesses of shared words are refused (a fatal error naming
 * them): their commit would need the rest of the word.  __tsan_atomic*
 * (the file's own __atomic builtins) are not provided: the file then does
 * not load, which the launcher reports.  Locked operations and barriers
 * come from spterace/kernel.h and call sim/ directly.
 *
 * The oracle sees each logical write as it does from spte.c: the write
 * begins at the step of its first store (or locked operation) to either
 * half of its spte, and ends at the step of the store that has written
 * both halves; a function that never wrote both is ended on return.  For
 * __update_clear_spte_fast/slow the event log then notes count_spte_clear,
 * where spte.c's built-in update calls it, so the faithful example's runs
 * are the built-in model's, event for event (same event-log hash).  A
 * lockless read's window starts at the first load of its last try: a try
 * begins with a load of the word the read loaded first, once the read has
 * loaded the high half and loaded that first word again (its re-check).
 * A new try first waits, as spte.c's reader does, until some store lands
 * after the previous try began (sim_retry_wait), so a spinning reader
 * blocks instead of burning the step budget.
 */
#define SPTERACE_KERNEL_TYPES_ONLY
#include "include/spterace/kernel.h"

#include "mmu/plug.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct spterace_protocol) == sizeof(struct mmu_protocol),
	       "spterace/kernel.h and mmu/mmu.h disagree on the protocol table");
_Static_assert(SPTERACE_PROTOCOL_ABI == MMU_PROTOCOL_ABI, "protocol ABI");

/* ---- the plugged protocol ---- */

static const struct mmu_protocol *plugged;
static void proxy_init(void);

void mmu_set_protocol(const struct mmu_protocol *proto)
{
	plugged = proto;
	proxy_init();
}

const struct mmu_protocol *mmu_get_protocol(void)
{
	return plugged;
}

/* ---- the proxy ---- */

static uint32_t proxy_words[MMU_SP_MAX * MMU_SP_WORDS] __attribute__((aligned(4096)));
static struct kvm_mmu_page proxy_sp[MMU_SP_MAX];

uint64_t *plug_sptep(sim_addr sptep)
{
	assert(sptep >= MMU_ADDR_SPT && sptep - MMU_ADDR_SPT < MMU_SP_MAX * MMU_SP_WORDS);
	return (uint64_t *)&proxy_words[sptep - MMU_ADDR_SPT];
}

/* The shadow page of a proxy address (page_header(__pa(sptep))). */
struct kvm_mmu_page *spterace_page_header(hpa_t shadow_page)
{
	uintptr_t off = (uintptr_t)shadow_page - (uintptr_t)proxy_words;
	uint32_t sp = (uint32_t)(off >> PAGE_SHIFT);

	if (off >= sizeof(proxy_words)) {
		fprintf(stderr, "spterace: protocol: page_header() of an address that is not an spte\n");
		abort();
	}
	return &proxy_sp[sp];
}

/* Once, before any run (the same code in every run: AFL++ stability). */
static void proxy_init(void)
{
	for (uint32_t sp = 0; sp < MMU_SP_MAX; sp++) {
		proxy_sp[sp].spt = (u64 *)&proxy_words[sp * MMU_SP_WORDS];
		proxy_sp[sp].role.level = PT_PAGE_TABLE_LEVEL;
	}
}

static void fatal_access(const char *what, const void *p, size_t size)
{
	fprintf(stderr,
		"spterace: protocol: %s: a %zu-byte access at %p of an spte or a count; "
		"only aligned 4- and 8-byte accesses are modelled\n",
		what, size, p);
	abort();
}

/*
 * The sim/ word of proxy address p (an access of size bytes), or false if
 * p is private memory.
 */
static bool proxy_to_sim(const void *p, size_t size, sim_addr *a)
{
	uintptr_t u = (uintptr_t)p, off;

	off = u - (uintptr_t)proxy_words;
	if (off < sizeof(proxy_words)) {
		if ((size != 4 && size != 8) || off % 4 || off + size > sizeof(proxy_words))
			fatal_access("spte", p, size);
		*a = MMU_ADDR_SPT + (sim_addr)(off / 4);
		return true;
	}
	off = u - (uintptr_t)proxy_sp;
	if (off < sizeof(proxy_sp)) {
		size_t sp = off / sizeof(proxy_sp[0]), field = off % sizeof(proxy_sp[0]);
		size_t count = offsetof(struct kvm_mmu_page, clear_spte_count);

		if (field + size <= count || field >= count + 4)
			return false;   /* another field: private */
		if (field != count || size != 4)
			fatal_access("clear_spte_count", p, size);
		*a = MMU_ADDR_COUNT + (sim_addr)sp;
		return true;
	}
	return false;
}

static uint32_t *sim_to_proxy(sim_addr a)
{
	if (a >= MMU_ADDR_SPT)
		return &proxy_words[a - MMU_ADDR_SPT];
	return (uint32_t *)&proxy_sp[a - MMU_ADDR_COUNT].clear_spte_count;
}

/* ---- per-CPU state of a plugged call ---- */

enum plug_kind { PLUG_NONE = 0, PLUG_WRITE, PLUG_READ, PLUG_OTHER };

enum try_state {
	TRY_NONE = 0,   /* nothing loaded yet */
	TRY_OPEN,       /* the first word was loaded */
	TRY_HIGH,       /* ... and the high half */
	TRY_CLOSED,     /* ... and the first word again: a re-check */
};

struct plug_cpu {
	enum plug_kind kind;
	sim_addr sptep;
	sim_addr count;            /* the spte's clear_spte_count */
	/* The store the CPU made last, not yet issued to sim/. */
	bool pending;
	sim_addr pending_addr;
	uint32_t pending_words;
	/* A write: the value reported, and how far it got. */
	uint64_t value;
	uint32_t halves;           /* bit 0: low stored, bit 1: high stored */
	bool counts;               /* an update or clear: count_spte_clear follows */
	bool begun, ended;
	/* A read: its tries. */
	enum try_state try;
	sim_addr first;
	uint64_t try_mark;
	uint64_t first_step, low_start, window_start;
	bool have_window;
	/* The try's loads, for the interleaving feedback (tags) and its cause. */
	uint16_t count_tag, low_tag, high_tag, check_tag;
	uint32_t counts_read, lows_read;
	uint32_t count_first, count_last, low_first, low_last;
};

static struct kvm *plug_kvm;
static uint32_t plug_active;   /* CPUs inside a plugged call */
static struct plug_cpu cpus[SIM_CPUS_MAX];

u64 shadow_present_mask = PT_PRESENT_MASK;
u64 shadow_mmio_mask;
u64 shadow_user_mask = PT_USER_MASK;
u64 shadow_accessed_mask = PT_ACCESSED_MASK;
u64 shadow_dirty_mask = PT_DIRTY_MASK;
u64 shadow_nx_mask = PT64_NX_MASK;
u64 shadow_x_mask;
u64 shadow_mmu_writable_mask = SPTE_MMU_WRITEABLE;
u64 shadow_host_writable_mask = SPTE_HOST_WRITEABLE;

void plug_reset(void)
{
	memset(cpus, 0, sizeof(cpus));
	plug_active = 0;
	plug_kvm = NULL;
}

/* The calling CPU's state, or NULL outside a plugged call. */
static struct plug_cpu *this_cpu(void)
{
	struct plug_cpu *c;

	if (!plug_active)
		return NULL;
	c = &cpus[sim_current_cpu(plug_kvm->sim)];
	return c->kind != PLUG_NONE ? c : NULL;
}

static sim_addr count_of(sim_addr sptep)
{
	return MMU_ADDR_COUNT + (sptep - MMU_ADDR_SPT) / MMU_SP_WORDS;
}

/* A store or locked operation of this CPU reached word a (issued). */
static void stored(struct plug_cpu *c, sim_addr a)
{
	if (c->kind == PLUG_WRITE && (a == c->sptep || a == c->sptep + 1)) {
		c->halves |= 1u << (a - c->sptep);
		if (!c->begun) {
			c->begun = true;
			mmu_report_write_begin(plug_kvm, c->sptep, c->value);
		}
		if (c->halves == 3 && !c->ended) {
			c->ended = true;
			mmu_report_write_end(plug_kvm, c->sptep);
			/* Where the built-in update calls count_spte_clear(). */
			if (c->counts)
				mmu_note_fn(plug_kvm, MMU_FN_COUNT_SPTE_CLEAR, c->sptep);
		}
	}
}

/* Issue the pending store: the proxy words now hold the values stored. */
static void commit(struct plug_cpu *c)
{
	uint32_t v[2];

	if (!c->pending)
		return;
	c->pending = false;
	/* Read both words before the first step: other CPUs run inside it. */
	for (uint32_t w = 0; w < c->pending_words; w++)
		v[w] = *sim_to_proxy(c->pending_addr + w);
	for (uint32_t w = 0; w < c->pending_words; w++) {
		sim_store32(plug_kvm->sim, c->pending_addr + w, v[w]);
		stored(c, c->pending_addr + w);
	}
}

/* The feedback of the try that ends (as spte.c's reader gives it). */
static void try_feedback(struct plug_cpu *c, bool retried)
{
	uint32_t cause = 0;

	if (retried && c->lows_read > 1 && c->low_last != c->low_first)
		cause = 1;
	else if (retried && c->counts_read > 1 && c->count_last != c->count_first)
		cause = 2;
	mmu_reader_try_feedback(plug_kvm, retried, c->count_tag, c->low_tag, c->high_tag,
				c->check_tag, cause);
	c->counts_read = c->lows_read = 0;
	c->count_tag = c->low_tag = c->high_tag = c->check_tag = 0;
}

/* Note what a load of the reader returned, and from which writer. */
static void try_loaded(struct plug_cpu *c, sim_addr a, uint32_t v)
{
	uint16_t tag = sim_load_tag(plug_kvm->sim);

	c->check_tag = tag;   /* the try's last load: its deciding re-check */
	if (a == c->count) {
		if (!c->counts_read++) {
			c->count_tag = tag;
			c->count_first = v;
		}
		c->count_last = v;
	} else if (a == c->sptep) {
		if (!c->lows_read++) {
			c->low_tag = tag;
			c->low_first = v;
		}
		c->low_last = v;
	} else if (a == c->sptep + 1) {
		c->high_tag = tag;
	}
}

/* A new try of the reader begins: wait as spte.c's reader does. */
static void new_try(struct plug_cpu *c)
{
	struct sim *s = plug_kvm->sim;

	try_feedback(c, true);
	plug_kvm->read_retries++;
	sim_retry_wait(s, c->try_mark);
	c->try_mark = sim_retry_mark(s);
	c->try = TRY_OPEN;
}

/*
 * The lockless reader's tries (see the top of the file), before its load of
 * word a.  A load of the first word after the high half is the re-check of
 * the try, unless the try already saw its low half change: a reader that
 * re-checks the low half first (and short-circuits) then starts again.
 */
static void read_try(struct plug_cpu *c, sim_addr a)
{
	if (c->try == TRY_NONE) {
		c->first = a;
		c->try = TRY_OPEN;
		c->try_mark = sim_retry_mark(plug_kvm->sim);
	} else if (a == c->first && c->try == TRY_CLOSED) {
		new_try(c);
	} else if (a == c->first && c->try == TRY_HIGH) {
		if (a != c->sptep && c->lows_read > 1 && c->low_last != c->low_first)
			new_try(c);
		else
			c->try = TRY_CLOSED;
	} else if (a == c->sptep && c->try == TRY_CLOSED && c->first == c->count &&
		   c->counts_read > 1 && c->count_last != c->count_first) {
		/*
		 * The count moved and the reader loads the low half: a new try
		 * whose count is the re-check's value (the compiler may reuse
		 * that load: no barrier separates it from the next try's).
		 */
		new_try(c);
	}
}

/*
 * After the reader's load of word a at step: the window of the value it
 * returns starts at the first load of the try whose low half load came
 * last before its last high half load (the halves it returns).
 */
static void read_window(struct plug_cpu *c, sim_addr a, uint64_t step)
{
	if (a == c->first && c->first != c->sptep)
		c->first_step = step;
	/* step is the load's sim_last_load_since: earlier for a stale value (relaxed). */
	if (a == c->sptep)
		c->low_start = c->first == c->sptep || step < c->first_step ? step : c->first_step;
	if (a == c->sptep + 1) {
		c->window_start = step < c->low_start ? step : c->low_start;
		c->have_window = true;
	}
}

static void load_word(struct plug_cpu *c, sim_addr a)
{
	struct sim *s = plug_kvm->sim;

	if (c->kind == PLUG_READ)
		read_try(c, a);
	*sim_to_proxy(a) = sim_load32(s, a);
	if (c->kind != PLUG_READ)
		return;
	try_loaded(c, a, *sim_to_proxy(a));
	read_window(c, a, sim_last_load_since(s));
	if (a == c->sptep + 1 && c->try == TRY_OPEN)
		c->try = TRY_HIGH;
}

static void on_load(const void *p, size_t size)
{
	struct plug_cpu *c = this_cpu();
	sim_addr a;

	if (!c)
		return;
	commit(c);
	if (!proxy_to_sim(p, size, &a))
		return;
	load_word(c, a);
	if (size == 8)
		load_word(c, a + 1);
}

static void on_store(void *p, size_t size)
{
	struct plug_cpu *c = this_cpu();
	sim_addr a;

	if (!c)
		return;
	commit(c);
	if (!proxy_to_sim(p, size, &a))
		return;
	c->pending = true;
	c->pending_addr = a;
	c->pending_words = (uint32_t)(size / 4);
}

static void on_other(void)
{
	struct plug_cpu *c = this_cpu();

	if (c)
		commit(c);
}

/* ---- spte.c's brackets ---- */

static void enter(struct kvm *kvm, enum plug_kind kind, sim_addr sptep)
{
	struct plug_cpu *c = &cpus[sim_current_cpu(kvm->sim)];

	assert(c->kind == PLUG_NONE);
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->sptep = sptep;
	c->count = count_of(sptep);
	plug_kvm = kvm;
	shadow_mmio_mask = kvm->shadow_mmio_mask;
	plug_active++;
}

void plug_enter_write(struct kvm *kvm, sim_addr sptep, uint64_t spte, bool counts)
{
	struct plug_cpu *c = &cpus[sim_current_cpu(kvm->sim)];

	enter(kvm, PLUG_WRITE, sptep);
	c->value = spte;
	c->counts = counts;
}

void plug_enter_read(struct kvm *kvm, sim_addr sptep)
{
	enter(kvm, PLUG_READ, sptep);
}

void plug_enter_other(struct kvm *kvm, sim_addr sptep)
{
	enter(kvm, PLUG_OTHER, sptep);
}

uint64_t plug_leave(struct kvm *kvm)
{
	struct plug_cpu *c = &cpus[sim_current_cpu(kvm->sim)];
	uint64_t start;

	commit(c);
	if (c->kind == PLUG_WRITE) {
		if (!c->begun)
			mmu_report_write_begin(kvm, c->sptep, c->value);
		if (!c->ended)
			mmu_report_write_end(kvm, c->sptep);
	}
	if (c->kind == PLUG_READ)
		try_feedback(c, false);
	start = c->have_window ? c->window_start : sim_last_step(kvm->sim);
	c->kind = PLUG_NONE;
	plug_active--;
	return start;
}

/* ---- spterace/kernel.h's run-time ---- */

void spterace_smp_mb(void)
{
	struct plug_cpu *c = this_cpu();

	if (c) {
		commit(c);
		sim_smp_mb(plug_kvm->sim);
	}
}

void spterace_smp_wmb(void)
{
	struct plug_cpu *c = this_cpu();

	if (c) {
		commit(c);
		sim_smp_wmb(plug_kvm->sim);
	}
}

void spterace_smp_rmb(void)
{
	struct plug_cpu *c = this_cpu();

	if (c) {
		commit(c);
		sim_smp_rmb(plug_kvm->sim);
	}
}

static void fatal_size(const char *op, size_t size)
{
	fprintf(stderr, "spterace: protocol: %s of %zu bytes is not modelled (4 or 8)\n", op, size);
	abort();
}

u64 spterace_xchg(void *ptr, u64 v, size_t size)
{
	struct plug_cpu *c = this_cpu();
	struct sim *s;
	sim_addr a;
	u64 old;

	if (size != 4 && size != 8)
		fatal_size("xchg", size);
	if (!c || (commit(c), !proxy_to_sim(ptr, size, &a))) {
		/* Private memory: nobody else can see it. */
		if (size == 4) {
			old = *(uint32_t *)ptr;
			*(uint32_t *)ptr = (uint32_t)v;
		} else {
			old = *(uint64_t *)ptr;
			*(uint64_t *)ptr = v;
		}
		return old;
	}
	s = plug_kvm->sim;
	if (size == 4) {
		old = sim_xchg32(s, a, (uint32_t)v);
		stored(c, a);
	} else {
		/* xchg on a u64 of a 32-bit host: a cmpxchg8b loop. */
		u64 seen;

		old = sim_load64(s, a);
		while ((seen = sim_cmpxchg64(s, a, old, v)) != old)
			old = seen;
		stored(c, a);
		stored(c, a + 1);
	}
	return old;
}

u64 spterace_cmpxchg(void *ptr, u64 old, u64 new_value, size_t size)
{
	struct plug_cpu *c = this_cpu();
	struct sim *s;
	sim_addr a;
	u64 seen;

	if (size != 4 && size != 8)
		fatal_size("cmpxchg", size);
	if (!c || (commit(c), !proxy_to_sim(ptr, size, &a))) {
		if (size == 4) {
			seen = *(uint32_t *)ptr;
			if (seen == (uint32_t)old)
				*(uint32_t *)ptr = (uint32_t)new_value;
		} else {
			seen = *(uint64_t *)ptr;
			if (seen == old)
				*(uint64_t *)ptr = new_value;
		}
		return seen;
	}
	s = plug_kvm->sim;
	if (size == 4) {
		seen = sim_cmpxchg32(s, a, (uint32_t)old, (uint32_t)new_value);
		if (seen == (uint32_t)old)
			stored(c, a);
	} else {
		seen = sim_cmpxchg64(s, a, old, new_value);
		if (seen == old) {
			stored(c, a);
			stored(c, a + 1);
		}
	}
	return seen;
}

bool spterace_is_mmio_spte(u64 spte)
{
	return plug_kvm && is_mmio_spte(plug_kvm, spte);
}

bool spterace_is_shadow_present_pte(u64 spte)
{
	if (!plug_kvm)
		return spte & PT_PRESENT_MASK;
	return is_shadow_present_pte(plug_kvm, spte);
}

void spterace_warn(const char *file, int line, const char *cond)
{
	static bool said;

	if (!said) {
		said = true;
		fprintf(stderr, "spterace: protocol: WARN_ON(%s) at %s:%d (said once)\n", cond,
			file, line);
	}
}

/*
 * ---- the thread-sanitizer callbacks ----
 * clang-14 emits these for an -fsanitize=thread object (nm -u of an
 * instrumented protocol file).  No TSan run-time is linked: these are the
 * only definitions.
 */
#define TSAN_ACCESS(n)                                                         \
	void __tsan_read##n(void *p);                                          \
	void __tsan_write##n(void *p);                                         \
	void __tsan_unaligned_read##n(void *p);                                \
	void __tsan_unaligned_write##n(void *p);                               \
	void __tsan_read##n(void *p) { on_load(p, n); }                        \
	void __tsan_write##n(void *p) { on_store(p, n); }                      \
	void __tsan_unaligned_read##n(void *p) { on_load(p, n); }              \
	void __tsan_unaligned_write##n(void *p) { on_store(p, n); }
TSAN_ACCESS(1)
TSAN_ACCESS(2)
TSAN_ACCESS(4)
TSAN_ACCESS(8)
TSAN_ACCESS(16)

void __tsan_read_range(void *p, unsigned long size);
void __tsan_write_range(void *p, unsigned long size);
void __tsan_func_entry(void *pc);
void __tsan_func_exit(void);
void __tsan_init(void);
void __tsan_vptr_update(void **vptr_p, void *new_val);
void __tsan_vptr_read(void **vptr_p);
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);

void __tsan_read_range(void *p, unsigned long size)
{
	on_load(p, size);
}

void __tsan_write_range(void *p, unsigned long size)
{
	on_store(p, size);
}

/* Entering or leaving a function of the file: the last store is issued. */
void __tsan_func_entry(void *pc)
{
	(void)pc;
	on_other();
}

void __tsan_func_exit(void)
{
	on_other();
}

void __tsan_init(void)
{
}

void __tsan_vptr_update(void **vptr_p, void *new_val)
{
	(void)vptr_p;
	(void)new_val;
}

void __tsan_vptr_read(void **vptr_p)
{
	(void)vptr_p;
}

void __tsan_ignore_thread_begin(void)
{
}

void __tsan_ignore_thread_end(void)
{
}
