/* SPDX-License-Identifier: GPL-2.0-only */
#include "fuzz/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct fz_exec *harness_exec;

void fz_harness_init(int *argc, char ***argv, struct fz_options *out)
{
	const char *mutant = getenv("SPTERACE_MUTANT");
	const char *strict = getenv("SPTERACE_STRICT");

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
		else if (strncmp(arg, "--report-known=", 15) == 0)
			out->report_class = arg + 15;
		else if (strncmp(arg, "--vcpus=", 8) == 0) {
			out->vcpus = (uint32_t)atoi(arg + 8);
			if (out->vcpus < 2 || out->vcpus > 4) {
				fprintf(stderr, "spterace: --vcpus must be 2, 3 or 4\n");
				exit(2);
			}
		}
	}
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
	fz_exec_run(harness_exec, &prog, o, &res);
	if (res.divergence && !o->report_known &&
	    fz_known_finding(target, res.divergence_class, NULL) &&
	    !(o->report_class && strcmp(o->report_class, res.divergence_class) == 0))
		return;   /* analysed already: see corpus/findings/ */
	if (res.divergence) {
		fprintf(stderr, "==spterace== DIVERGENCE\n");
		fz_report_print(stderr, &prog, o, &res);
		fprintf(stderr, "program:\n");
		fz_program_print(stderr, &prog);
		fflush(stderr);
		abort();
	}
}
