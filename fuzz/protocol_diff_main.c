// SPDX-License-Identifier: GPL-2.0-only
/*
 * protocol_diff: a plugged protocol against the built-in model on random
 * programs (//tools:protocol_faithful_test).  Each program runs twice, with
 * the built-in primitives and with the plugged ones; a faithful protocol
 * gives the same verdict and the same event-log hash on every one.
 *
 * Usage: protocol_diff --protocol=SO --target=spte|mmu [--runs=N] [--seed=N]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/program.h"

static uint64_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

int main(int argc, char **argv)
{
	static uint8_t data[FZ_INPUT_MAX];
	static struct fz_program prog;
	const char *so = NULL, *target_name = "spte";
	const struct mmu_protocol *proto;
	unsigned long runs = 2000, mismatches = 0, divergences = 0;
	uint64_t seed = 1;
	enum fz_target target;
	struct fz_options o;
	struct fz_exec *x;

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--protocol=", 11) == 0)
			so = argv[i] + 11;
		else if (strncmp(argv[i], "--target=", 9) == 0)
			target_name = argv[i] + 9;
		else if (strncmp(argv[i], "--runs=", 7) == 0)
			runs = strtoul(argv[i] + 7, NULL, 10);
		else if (strncmp(argv[i], "--seed=", 7) == 0)
			seed = strtoull(argv[i] + 7, NULL, 10) | 1;
		else {
			fprintf(stderr, "usage: protocol_diff --protocol=SO --target=spte|mmu "
					"[--runs=N] [--seed=N]\n");
			return 2;
		}
	}
	target = strcmp(target_name, "mmu") == 0 ? FZ_TARGET_MMU : FZ_TARGET_SPTE;
	if (!so || fz_protocol_load(so) != 0)
		return 2;
	proto = mmu_get_protocol();
	x = fz_exec_new();
	if (!x)
		return 2;
	memset(&o, 0, sizeof(o));
	for (unsigned long i = 0; i < runs; i++) {
		size_t len = 8 + next(&seed) % 120;
		struct fz_result builtin, plugged;

		for (size_t b = 0; b < len; b++)
			data[b] = (uint8_t)next(&seed);
		/* Mostly 32-bit hosts: the plugged primitives serve those only. */
		data[1] &= 0xfe;
		fz_decode(target, data, len, &prog);
		mmu_set_protocol(NULL);
		fz_exec_run(x, &prog, &o, &builtin);
		mmu_set_protocol(proto);
		fz_exec_run(x, &prog, &o, &plugged);
		divergences += builtin.divergence;
		if (builtin.hash == plugged.hash && builtin.divergence == plugged.divergence)
			continue;
		if (mismatches++ < 3) {
			printf("MISMATCH run %lu: built-in %s hash %016" PRIx64 ", plugged %s hash %016" PRIx64
			       "\nprogram:\n",
			       i, builtin.divergence ? "divergence" : "pass", builtin.hash,
			       plugged.divergence ? "divergence" : "pass", plugged.hash);
			fz_program_print(stdout, &prog);
		}
	}
	printf("protocol_diff: %s, %lu random programs, %lu differ from the built-in model "
	       "(%lu diverge on both)\n",
	       target_name, runs, mismatches, divergences);
	fz_exec_free(x);
	return mismatches ? 1 : 0;
}
