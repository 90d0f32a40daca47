/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * spterace/kernel.h: what a kernel-style split-spte protocol file expects
 * from the kernel, for ./spterace fuzz --protocol FILE.c
 * (docs/your-protocol.md).
 *
 * The launcher compiles FILE.c with this header forced in (-include), as a
 * 64-bit object under clang's thread-sanitizer instrumentation routed to
 * spterace's own run-time (mmu/plug.c), so that every plain load and store
 * of an spte or of clear_spte_count is a scheduled step of the simulated
 * 32-bit PAE host.  Both layouts compile unchanged:
 *
 *   Linux 3.11:  page_header(__pa(sptep)), ACCESS_ONCE(), int clear_spte_count
 *   mainline:    sptep_to_sp(sptep), READ_ONCE()/WRITE_ONCE()
 *
 * CONFIG_X86_32 is defined (and CONFIG_X86_64 is not), so a file holding
 * both variants of the primitives compiles its 32-bit ones.
 *
 * What is shared, and modelled: the 512 sptes of each shadow page (the
 * memory sptep points into) and sp->clear_spte_count.  Everything else
 * (locals, other fields of struct kvm_mmu_page, the shadow masks) is
 * private to the calling CPU and accessed directly.
 *
 * With SPTERACE_KERNEL_TYPES_ONLY defined, only the types are declared
 * (mmu/plug.c includes it that way to share struct kvm_mmu_page).
 */
#ifndef SPTERACE_KERNEL_H
#define SPTERACE_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

/* ---- integer types (include/linux/types.h, asm-generic/int-ll64.h) ---- */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef u64 gfn_t;
typedef u64 hpa_t;
typedef u64 pfn_t;

/* ---- the split spte (arch/x86/kvm/mmu.c, CONFIG_X86_32) ---- */
union split_spte {
	struct {
		u32 spte_low;
		u32 spte_high;
	};
	u64 spte;
};

/*
 * The shadow page (arch/x86/include/asm/kvm_host.h), with the fields the
 * split-spte code of 3.11 and of mainline touches.  Only clear_spte_count
 * is shared memory; spt points at the page's 512 sptes.
 */
union kvm_mmu_page_role {
	u32 word;
	struct {
		unsigned level : 4;
		unsigned direct : 1;
		unsigned invalid : 1;
	};
};

struct kvm_mmu_page {
	u64 *spt;
	gfn_t gfn;
	union kvm_mmu_page_role role;
	bool unsync;
	int root_count;
	int clear_spte_count;   /* CONFIG_X86_32: bumped by count_spte_clear() */
};

/* The plugged functions, as spterace's model calls them (struct mmu_protocol). */
#define SPTERACE_PROTOCOL_ABI 1
struct spterace_protocol {
	u32 abi;
	const char *name;
	void (*set_spte)(u64 *sptep, u64 spte);
	void (*update_clear_spte_fast)(u64 *sptep, u64 spte);
	u64 (*update_clear_spte_slow)(u64 *sptep, u64 spte);
	u64 (*get_spte_lockless)(u64 *sptep);
	void (*count_spte_clear)(u64 *sptep, u64 spte);
};

#ifndef SPTERACE_KERNEL_TYPES_ONLY

#define CONFIG_X86_32 1
#define CONFIG_X86_PAE 1

/* ---- the run-time (mmu/plug.c): each call is a scheduled step ---- */
void spterace_smp_mb(void);
void spterace_smp_wmb(void);
void spterace_smp_rmb(void);
u64 spterace_xchg(void *ptr, u64 v, size_t size);
u64 spterace_cmpxchg(void *ptr, u64 old, u64 new_value, size_t size);
struct kvm_mmu_page *spterace_page_header(hpa_t shadow_page);
bool spterace_is_mmio_spte(u64 spte);
bool spterace_is_shadow_present_pte(u64 spte);
void spterace_warn(const char *file, int line, const char *cond);

/* ---- compiler (include/linux/compiler.h) ---- */
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define barrier() __asm__ __volatile__("" : : : "memory")
#define ACCESS_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val)                                                     \
	do {                                                                   \
		*(volatile __typeof__(x) *)&(x) = (val);                       \
	} while (0)
#ifndef __always_inline
#define __always_inline inline __attribute__((__always_inline__))
#endif
#ifndef noinline
#define noinline __attribute__((__noinline__))
#endif

/*
 * ---- barriers (arch/x86/include/asm/barrier.h) ----
 * Each is one step of the simulated CPU: under x86-TSO smp_mb() drains
 * the store buffer; smp_wmb() and smp_rmb() are compiler barriers on x86
 * and order nothing more in the simulated memory, as in the kernel.
 */
#define smp_mb()                                                               \
	do {                                                                   \
		barrier();                                                     \
		spterace_smp_mb();                                             \
		barrier();                                                     \
	} while (0)
#define smp_wmb()                                                              \
	do {                                                                   \
		barrier();                                                     \
		spterace_smp_wmb();                                            \
		barrier();                                                     \
	} while (0)
#define smp_rmb()                                                              \
	do {                                                                   \
		barrier();                                                     \
		spterace_smp_rmb();                                            \
		barrier();                                                     \
	} while (0)
#define mb() smp_mb()
#define wmb() smp_wmb()
#define rmb() smp_rmb()

/* ---- locked operations (arch/x86/include/asm/cmpxchg.h): one step each ---- */
#define xchg(ptr, v)                                                           \
	((__typeof__(*(ptr)))spterace_xchg((void *)(ptr), (u64)(v), sizeof(*(ptr))))
#define cmpxchg(ptr, old, new)                                                 \
	((__typeof__(*(ptr)))spterace_cmpxchg((void *)(ptr), (u64)(old), (u64)(new), \
					      sizeof(*(ptr))))
#define cmpxchg64(ptr, old, new)                                               \
	((u64)spterace_cmpxchg((void *)(ptr), (u64)(old), (u64)(new), 8))

/* ---- bugs ---- */
#define WARN_ON(condition)                                                     \
	({                                                                     \
		int __ret_warn_on = !!(condition);                             \
		if (unlikely(__ret_warn_on))                                   \
			spterace_warn(__FILE__, __LINE__, #condition);         \
		unlikely(__ret_warn_on);                                       \
	})
#define WARN_ON_ONCE(condition) WARN_ON(condition)
#define BUG_ON(condition) WARN_ON(condition)

/* ---- pages: __pa() and the shadow page of an spte ---- */
#define PAGE_SHIFT 12
#define PAGE_SIZE (1ul << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define __pa(x) ((hpa_t)(unsigned long)(x))
/* 3.11: page_header(__pa(sptep)); mainline: sptep_to_sp(sptep). */
#define page_header(shadow_page) spterace_page_header(shadow_page)
#define to_shadow_page(shadow_page) spterace_page_header(shadow_page)
#define sptep_to_sp(sptep) spterace_page_header(__pa(sptep))

/* ---- spte bits (arch/x86/kvm/mmu.h, mmu.c) and the shadow masks ---- */
#define PT_PRESENT_MASK (1ULL << 0)
#define PT_WRITABLE_MASK (1ULL << 1)
#define PT_USER_MASK (1ULL << 2)
#define PT_ACCESSED_MASK (1ULL << 5)
#define PT_DIRTY_MASK (1ULL << 6)
#define PT_PAGE_SIZE_MASK (1ULL << 7)
#define PT64_NX_MASK (1ULL << 63)
#define SPTE_HOST_WRITEABLE (1ULL << 10)
#define SPTE_MMU_WRITEABLE (1ULL << 11)
#define PT64_BASE_ADDR_MASK (((1ULL << 52) - 1) & ~(u64)(PAGE_SIZE - 1))

/* Shadow paging without EPT, as the model runs it (kvm_mmu_set_mask_ptes). */
extern u64 shadow_present_mask;
extern u64 shadow_mmio_mask;
extern u64 shadow_user_mask;
extern u64 shadow_accessed_mask;
extern u64 shadow_dirty_mask;
extern u64 shadow_nx_mask;
extern u64 shadow_x_mask;
extern u64 shadow_mmu_writable_mask;
extern u64 shadow_host_writable_mask;

/* The model's own predicates (MMIO sptes count as not present). */
static inline bool is_mmio_spte(u64 spte)
{
	return spterace_is_mmio_spte(spte);
}

static inline bool is_shadow_present_pte(u64 pte)
{
	return spterace_is_shadow_present_pte(pte);
}

static inline bool is_writable_pte(u64 pte)
{
	return pte & PT_WRITABLE_MASK;
}

#endif /* SPTERACE_KERNEL_TYPES_ONLY */
#endif /* SPTERACE_KERNEL_H */
