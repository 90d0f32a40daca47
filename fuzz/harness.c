/* SPDX-License-Identifier: GPL-2.0-only */
#include "fuzz/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct fz_exec *harness_exec;

/*
 * Interleaving feedback (sim/sim.h): which write each half-word and count
 * read took its value from, what the writers did between a reader's
 * reads, retry causes, store-buffer occupancy at fences and the shape of
 * each verdict.  libFuzzer finds these counters through their section,
 * clears them before each input and counts each as coverage.
 */
#define FZ_FEEDBACK_SIZE 4096
__attribute__((section("__libfuzzer_extra_counters"), used))
uint8_t fz_feedback_counters[FZ_FEEDBACK_SIZE];

#ifdef __AFL_COMPILER
/*
 * AFL++ (4.04c, PCGUARD): the same counters become map slots.  The slots
 * are registered as guards before the forkserver sizes the map (after the
 * runtime's constructors of priority 0 and 1, before the shared map is
 * set up at 3: fuzz-infra.md 5.8), and each input's counts are added to
 * them when it ends.  (The coverage pass owns __afl_area_ptr: this file
 * may not name it.)
 */
void __sanitizer_cov_trace_pc_guard_init(uint32_t *start, uint32_t *stop);
void __sanitizer_cov_trace_pc_guard(uint32_t *guard);
static uint32_t afl_guards[FZ_FEEDBACK_SIZE];

#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wprio-ctor-dtor"
__attribute__((constructor(2))) static void afl_register_feedback(void)
{
	__sanitizer_cov_trace_pc_guard_init(afl_guards, afl_guards + FZ_FEEDBACK_SIZE);
}
#pragma clang diagnostic pop

/*
 * Each hit is a guard call: the runtime's own increment of the slot.
 * AFL++'s count classes end at 128, so more calls would change nothing.
 */
static void afl_publish_feedback(void)
{
	for (uint32_t i = 0; i < FZ_FEEDBACK_SIZE; i++) {
		uint32_t n = fz_feedback_counters[i] < 128 ? fz_feedback_counters[i] : 128;

		while (n--)
			__sanitizer_cov_trace_pc_guard(&afl_guards[i]);
		fz_feedback_counters[i] = 0;
	}
}
#endif

/* An --on-off option's value: absent or empty is on; anything else exits 2. */
static bool on_off(const char *name, const char *value)
{
	if (!value || !*value || strcmp(value, "on") == 0)
		return true;
	if (strcmp(value, "off") == 0)
		return false;
	fprintf(stderr, "spterace: --%s must be on or off, not '%s'\n", name, value);
	exit(2);
}

void fz_harness_init(int *argc, char ***argv, struct fz_options *out)
{
	const char *mutant = getenv("SPTERACE_MUTANT");
	const char *strict = getenv("SPTERACE_STRICT");
	const char *feedback = getenv("SPTERACE_FEEDBACK");
	const char *mutator = getenv("SPTERACE_MUTATOR");
	const char *near = getenv("SPTERACE_NEAR_MISSES");
	const char *protocol = getenv("SPTERACE_PROTOCOL");
	/* --mm, --sched and --knobs, or SPTERACE_MM, _SCHED and _KNOBS. */
	const char *mm = getenv("SPTERACE_MM"), *sched = getenv("SPTERACE_SCHED");
	const char *knobs = getenv("SPTERACE_KNOBS");

	memset(out, 0, sizeof(*out));
	/*
	 * fz_spte_is_mmio sets up its private kvm on first use, which is the
	 * first divergence a process classifies (a known finding, say): code
	 * that runs in one execution only, and that AFL++ would count against
	 * stability.  Do it now, before any input.
	 */
	(void)fz_spte_is_mmio(0);
	out->strict = strict && strcmp(strict, "1") == 0;
	for (int i = 1; argc && i < *argc; i++) {
		const char *arg = (*argv)[i];

		if (strncmp(arg, "--mutant=", 9) == 0)
			mutant = arg + 9;
		else if (strcmp(arg, "--strict") == 0)
			out->strict = true;
		else if (strcmp(arg, "--bare") == 0)
			out->bare = true;
		else if (strcmp(arg, "--report-known") == 0)
			out->report_known = true;
		else if (strncmp(arg, "--protocol=", 11) == 0)
			protocol = arg + 11;
		else if (strncmp(arg, "--feedback=", 11) == 0)
			feedback = arg + 11;
		else if (strncmp(arg, "--mutator=", 10) == 0)
			mutator = arg + 10;
		else if (strncmp(arg, "--near-misses=", 14) == 0)
			near = arg + 14;
		else if (strncmp(arg, "--report-known=", 15) == 0)
			out->report_class = arg + 15;
		else if (strncmp(arg, "--mm=", 5) == 0)
			mm = arg + 5;
		else if (strncmp(arg, "--sched=", 8) == 0)
			sched = arg + 8;
		else if (strncmp(arg, "--knobs=", 8) == 0)
			knobs = arg + 8;
		else if (strncmp(arg, "--vcpus=", 8) == 0) {
			out->vcpus = (uint32_t)atoi(arg + 8);
			if (out->vcpus < 2 || out->vcpus > 4) {
				fprintf(stderr, "spterace: --vcpus must be 2, 3 or 4\n");
				exit(2);
			}
		}
	}
	if (fz_protocol_load(protocol) != 0)
		exit(2);
	const char *const keys[] = { "mm", "sched", "knobs" }, *values[] = { mm, sched, knobs };

	for (int i = 0; i < 3; i++) {
		if (values[i] && *values[i] && !fz_overrides_set(&out->force, keys[i], values[i])) {
			fprintf(stderr, "spterace: --%s must be %s, not '%s'\n", keys[i],
				fz_overrides_expected(keys[i]), values[i]);
			exit(2);
		}
	}
	if (on_off("feedback", feedback)) {
		out->feedback = fz_feedback_counters;
		out->feedback_size = FZ_FEEDBACK_SIZE;
	}
	out->mutator = on_off("mutator", mutator);
	out->near_misses = on_off("near-misses", near);
	if (mutant && *mutant) {
		out->mutant = mmu_mutant_by_name(mutant);
		if (out->mutant == MMU_MUTANT_COUNT) {
			fprintf(stderr, "spterace: unknown mutant '%s' (see: spterace mutants)\n",
				mutant);
			exit(2);
		}
	}
}

void fz_harness_one(enum fz_target target, const struct fz_options *o, const uint8_t *data,
		    size_t size)
{
	static struct fz_program prog;
	struct fz_result res;

	if (!harness_exec) {
		harness_exec = fz_exec_new();
		if (!harness_exec) {
			fprintf(stderr, "spterace: out of memory for the simulator\n");
			exit(2);
		}
	}
	fz_decode(target, data, size, &prog);
	fz_exec_run(harness_exec, &prog, o, &res);   /* it applies --mm, --sched, --knobs */
#ifndef __AFL_COMPILER
	/*
	 * AFL++ mutates in afl-fuzz's process, not this one (its driver has
	 * an LLVMFuzzerMutate of its own): nothing here would use the notes.
	 */
	if (o->mutator)
		fz_mutator_note(o, data, size, fz_exec_sim(harness_exec), &res);
#endif
#ifdef __AFL_COMPILER
	afl_publish_feedback();
#endif
	if (res.divergence && !o->report_known &&
	    fz_known_finding(target, res.divergence_class, NULL) &&
	    !(o->report_class && strcmp(o->report_class, res.divergence_class) == 0))
		return;   /* analysed already: see corpus/findings/ */
	if (res.divergence) {
		fz_program_apply(&prog, o);   /* the report shows the program as it ran */
		fprintf(stderr, "==spterace== DIVERGENCE\n");
		fz_report_print(stderr, &prog, o, &res);
		fprintf(stderr, "program:\n");
		fz_program_print(stderr, &prog);
		fflush(stderr);
		abort();
	}
}
