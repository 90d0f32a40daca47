/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fiber switching for the simulated CPUs.
 *
 * The x86-64 switch saves the callee-saved registers of the System V ABI on
 * the current stack, stores the stack pointer, loads the other one and pops
 * the same registers.  A fresh fiber's stack is laid out so that the first
 * switch "returns" into fiber_trampoline with the stack aligned as if it had
 * been called.
 *
 * Sanitizer protocol (docs/fuzz-infra.md 6.4, 6.5):
 *  - __sanitizer_start_switch_fiber immediately before every switch, naming
 *    the destination stack; NULL as the save slot when leaving a fiber for
 *    the last time, so its fake stack is destroyed.
 *  - __sanitizer_finish_switch_fiber as the first thing after arriving;
 *    NULL on the first entry into a fiber.
 *  - __tsan_switch_to_fiber immediately before the raw switch.
 *  - __msan_start/finish_switch_fiber around the switch, like ASan.
 */
#include "sim/fiber.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef __has_feature
#define __has_feature(x) 0
#endif

#if __has_feature(address_sanitizer) || defined(__SANITIZE_ADDRESS__)
#define FIBER_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if __has_feature(thread_sanitizer)
#define FIBER_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif
#if __has_feature(memory_sanitizer)
#define FIBER_MSAN 1
#include <sanitizer/msan_interface.h>
#endif

#if defined(__x86_64__)
/* void fiber_ctx_switch(void **save_sp, void *load_sp) */
__asm__(".text\n"
	".globl spterace_fiber_ctx_switch\n"
	".type spterace_fiber_ctx_switch,@function\n"
	"spterace_fiber_ctx_switch:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size spterace_fiber_ctx_switch, .-spterace_fiber_ctx_switch\n");
void spterace_fiber_ctx_switch(void **save_sp, void *load_sp);
#endif

/* The fiber being entered for the first time; the host is single-threaded. */
static __thread struct fiber *fiber_entering;
static __thread struct fiber_host *fiber_entering_host;

int fiber_alloc(struct fiber *f, size_t stack_size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size = (stack_size + page - 1) / page * page;
	unsigned char *base;

	memset(f, 0, sizeof(*f));
	base = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return -1;
	/* Guard page: a stack overflow is a clean SEGV, not heap corruption. */
	if (mprotect(base, page, PROT_NONE) != 0) {
		munmap(base, size + page);
		return -1;
	}
	f->stack = base + page;
	f->stack_size = size;
	return 0;
}

void fiber_release(struct fiber *f)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (f->stack) {
#ifdef FIBER_TSAN
		if (f->tsan_fiber)
			__tsan_destroy_fiber(f->tsan_fiber);
#endif
		munmap(f->stack - page, f->stack_size + page);
	}
	memset(f, 0, sizeof(*f));
}

static inline void before_switch(void **fake_save, const void *bottom, size_t size,
				 void *tsan_dest)
{
#ifdef FIBER_ASAN
	__sanitizer_start_switch_fiber(fake_save, bottom, size);
#else
	(void)fake_save;
#endif
#ifdef FIBER_MSAN
	__msan_start_switch_fiber(bottom, size);
#endif
#ifdef FIBER_TSAN
	__tsan_switch_to_fiber(tsan_dest, 0);
#else
	(void)tsan_dest;
#endif
	(void)bottom;
	(void)size;
}

static inline void after_switch(void *fake, const void **old_bottom, size_t *old_size)
{
#ifdef FIBER_ASAN
	__sanitizer_finish_switch_fiber(fake, old_bottom, old_size);
#else
	(void)fake;
	(void)old_bottom;
	(void)old_size;
#endif
#ifdef FIBER_MSAN
	__msan_finish_switch_fiber(old_bottom, old_size);
#endif
}

static void fiber_trampoline(void)
{
	struct fiber *f = fiber_entering;
	struct fiber_host *h = fiber_entering_host;
	const void *bottom = NULL;
	size_t size = 0;

	after_switch(NULL, &bottom, &size);
	if (bottom) {
		h->stack_bottom = bottom;
		h->stack_size = size;
	}
	f->entry(f->arg);
	/* Entry functions leave through fiber_exit(). */
	assert(0 && "fiber entry returned");
	__builtin_trap();
}

#if !defined(__x86_64__)
static void fiber_uc_trampoline(void)
{
	fiber_trampoline();
}
#endif

void fiber_prepare(struct fiber *f, void (*entry)(void *), void *arg)
{
	f->entry = entry;
	f->arg = arg;
	f->asan_fake_stack = NULL;
#ifdef FIBER_ASAN
	/* Frames abandoned by an earlier run may have left poison behind. */
	ASAN_UNPOISON_MEMORY_REGION(f->stack, f->stack_size);
#endif
#ifdef FIBER_TSAN
	if (!f->tsan_fiber)
		f->tsan_fiber = __tsan_create_fiber(0);
#endif
#if defined(__x86_64__)
	{
		uintptr_t top = ((uintptr_t)f->stack + f->stack_size) & ~(uintptr_t)15;
		void **sp = (void **)top;

		*--sp = NULL;                       /* fake return address */
		*--sp = (void *)fiber_trampoline;   /* popped by ret */
		for (int i = 0; i < 6; i++)
			*--sp = NULL;               /* rbp rbx r12 r13 r14 r15 */
		f->sp = sp;
	}
#else
	getcontext(&f->uc);
	f->uc.uc_stack.ss_sp = f->stack;
	f->uc.uc_stack.ss_size = f->stack_size;
	f->uc.uc_link = NULL;
	makecontext(&f->uc, fiber_uc_trampoline, 0);
#endif
}

void fiber_switch_to(struct fiber_host *h, struct fiber *f)
{
	fiber_entering = f;
	fiber_entering_host = h;
#ifdef FIBER_TSAN
	if (!h->tsan_fiber)
		h->tsan_fiber = __tsan_get_current_fiber();
#endif
	before_switch(&h->asan_fake_stack, f->stack, f->stack_size, f->tsan_fiber);
#if defined(__x86_64__)
	spterace_fiber_ctx_switch(&h->sp, f->sp);
#else
	swapcontext(&h->uc, &f->uc);
#endif
	after_switch(h->asan_fake_stack, NULL, NULL);
}

void fiber_yield(struct fiber *f, struct fiber_host *h)
{
	before_switch(&f->asan_fake_stack, h->stack_bottom, h->stack_size, h->tsan_fiber);
#if defined(__x86_64__)
	spterace_fiber_ctx_switch(&f->sp, h->sp);
#else
	swapcontext(&f->uc, &h->uc);
#endif
	after_switch(f->asan_fake_stack, NULL, NULL);
}

void fiber_exit(struct fiber *f, struct fiber_host *h)
{
	/* NULL save slot: this fiber's fake stack is destroyed. */
	before_switch(NULL, h->stack_bottom, h->stack_size, h->tsan_fiber);
#if defined(__x86_64__)
	spterace_fiber_ctx_switch(&f->sp, h->sp);
#else
	swapcontext(&f->uc, &h->uc);
#endif
	__builtin_trap();
}
