/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The structure-aware mutator (fuzz/mutator.c) as an AFL++ custom mutator
 * (AFL_CUSTOM_MUTATOR_LIBRARY, afl-fuzz 4.04c's afl_custom_* interface).
 * afl-fuzz loads this library into its own process and calls
 * afl_custom_fuzz beside its havoc stage; the library holds a whole
 * uninstrumented copy of the model, since a steered preemption runs the
 * input once.  AFL++'s add_buf (another queue entry) feeds fz_crossover.
 * It reads the harness's environment (SPTERACE_MUTANT,
 * SPTERACE_MM, _SCHED, _KNOBS, _MUTATOR) and SPTERACE_TARGET (spte or mmu).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/harness.h"

struct afl_mutator {
	struct fz_options options;
	enum fz_target target;
	unsigned int seed;
	uint8_t buf[FZ_INPUT_MAX];
};

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
		       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
void afl_custom_deinit(void *data);

void *afl_custom_init(void *afl, unsigned int seed)
{
	const char *target = getenv("SPTERACE_TARGET");
	struct afl_mutator *m = calloc(1, sizeof(*m));

	(void)afl;
	if (!m)
		return NULL;
	m->target = fz_target_by_name(target && *target ? target : "spte");
	if (m->target == FZ_TARGET_COUNT) {
		fprintf(stderr, "spterace: SPTERACE_TARGET must be spte or mmu, not '%s'\n", target);
		free(m);
		return NULL;
	}
	fz_harness_init(NULL, NULL, &m->options);   /* exits 2 on a bad variable */
	m->options.feedback = NULL;
	m->seed = seed;
	return m;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
		       uint8_t *add_buf, size_t add_buf_size, size_t max_size)
{
	struct afl_mutator *m = data;
	size_t n = buf_size < FZ_INPUT_MAX ? buf_size : FZ_INPUT_MAX;
	size_t max = max_size < FZ_INPUT_MAX ? max_size : FZ_INPUT_MAX;

	size_t out;

	m->seed = m->seed * 1103515245u + 12345u;
	*out_buf = m->buf;
	/* A third of the calls combine buf with add_buf (half of those decline). */
	if (add_buf && add_buf_size > 0 && m->seed % 3 == 0) {
		out = fz_crossover(m->target, &m->options, buf, n, add_buf,
				   add_buf_size < FZ_INPUT_MAX ? add_buf_size : FZ_INPUT_MAX, m->buf,
				   max, m->seed >> 2);
		if (out > 0)
			return out;
	}
	memcpy(m->buf, buf, n);
	if (n > max)
		n = max;
	return fz_mutate(m->target, &m->options, m->buf, n, max, m->seed);
}

void afl_custom_deinit(void *data)
{
	free(data);
}
