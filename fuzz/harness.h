/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine harness shared by every target: decode, execute, abort with
 * the report on a divergence.  Deadlock and step-limit verdicts are not
 * divergences and never stop the fuzzer.  The same code serves libFuzzer,
 * AFL++'s driver and the replay main; any input is valid, including AFL's
 * 4-byte warm-up.
 *
 * Options (argv, as libFuzzer ignores flags starting with "--", or the
 * environment): --mutant=NAME / SPTERACE_MUTANT, --strict / SPTERACE_STRICT=1,
 * --report-known (abort on the known findings of corpus/findings/ as well;
 * --report-known=CLASS: on those of one divergence class only, to find a
 * new witness of it), --mutator=on|off / SPTERACE_MUTATOR (libFuzzer: the
 * structure-aware mutator, on by default; off leaves libFuzzer's own).
 */
#ifndef SPTERACE_FUZZ_HARNESS_H
#define SPTERACE_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "fuzz/program.h"

/* Defined by each harness file with FZ_HARNESS(target). */
extern const enum fz_target fz_harness_target;

/* Parse the harness options from argv and the environment; exits 2 on error. */
void fz_harness_init(int *argc, char ***argv, struct fz_options *out);
/*
 * The structure-aware mutator (fuzz/mutator.c): mutate data (size bytes,
 * room for max_size) in place and return the new size.
 */
size_t fz_mutate(enum fz_target target, const struct fz_options *o, uint8_t *data, size_t size,
		 size_t max_size, unsigned int seed);
/*
 * Combine inputs a and b into out (max_size bytes), both programs of
 * target; 0 when this call declines (half of them, and always with the
 * mutator off).
 */
size_t fz_crossover(enum fz_target target, const struct fz_options *o, const uint8_t *a,
		    size_t asize, const uint8_t *b, size_t bsize, uint8_t *out, size_t max_size,
		    unsigned int seed);
/*
 * Tell the mutator what the run of data just done on sim offers (its
 * steering points), so that mutating that input later needs no run, and
 * (o->near_misses) whether res was a near miss to mutate again.
 */
void fz_mutator_note(const struct fz_options *o, const uint8_t *data, size_t size,
		     struct sim *sim, const struct fz_result *res);
/* Run one input; abort() with the report on a divergence. */
void fz_harness_one(enum fz_target target, const struct fz_options *o, const uint8_t *data,
		    size_t size);

#define FZ_HARNESS(target)                                                     \
	const enum fz_target fz_harness_target = (target);                     \
	static struct fz_options fz_harness_options;                           \
	int LLVMFuzzerInitialize(int *argc, char ***argv);                     \
	int LLVMFuzzerInitialize(int *argc, char ***argv)                      \
	{                                                                      \
		fz_harness_init(argc, argv, &fz_harness_options);              \
		return 0;                                                      \
	}                                                                      \
	size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size,             \
				       size_t max_size, unsigned int seed);    \
	size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size,             \
				       size_t max_size, unsigned int seed)     \
	{                                                                      \
		return fz_mutate((target), &fz_harness_options, data, size,    \
				 max_size, seed);                              \
	}                                                                      \
	size_t LLVMFuzzerCustomCrossOver(const uint8_t *a, size_t asize,       \
					 const uint8_t *b, size_t bsize,       \
					 uint8_t *out, size_t max_size,        \
					 unsigned int seed);                   \
	size_t LLVMFuzzerCustomCrossOver(const uint8_t *a, size_t asize,       \
					 const uint8_t *b, size_t bsize,       \
					 uint8_t *out, size_t max_size,        \
					 unsigned int seed)                    \
	{                                                                      \
		return fz_crossover((target), &fz_harness_options, a, asize,   \
				    b, bsize, out, max_size, seed);            \
	}                                                                      \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);          \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)           \
	{                                                                      \
		fz_harness_one((target), &fz_harness_options, data, size);     \
		return 0;                                                      \
	}

#endif
