/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Crash reports for `spterace repro`: text with a per-CPU timeline, JSON for
 * tools, and a self-contained HTML page that draws the interleaving as
 * lanes over time.  All three are built from one struct timeline, made from
 * the run's event log.
 */
#ifndef SPTERACE_TOOLS_REPORT_H
#define SPTERACE_TOOLS_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fuzz/program.h"

#define TL_ROWS_MAX 4096
#define TL_TEXT_MAX 96

enum tl_row_kind {
	TL_ACCESS = 0,   /* a step: a shared-memory access, barrier or drain */
	TL_FUNCTION,     /* the CPU entered a kernel function */
	TL_OP,           /* the CPU started one of the program's operations */
	TL_WRITE,        /* a logical spte write began */
	TL_READ,         /* a lockless read or snapshot returned */
};

struct tl_row {
	enum tl_row_kind kind;
	uint32_t step;
	uint32_t cpu;
	bool divergent;          /* the offending read */
	bool store;              /* the access writes memory (or a drain) */
	bool on_slot;            /* touches the divergent spte or its count */
	char text[TL_TEXT_MAX];
	/* Memory of the divergent spte after this row (what other CPUs see). */
	uint32_t mem_low, mem_high, count;
};

struct timeline {
	uint32_t cpus;
	uint32_t slot;
	uint32_t first_step, last_step;  /* the part of the run that matters */
	uint32_t rows_count;
	struct tl_row rows[TL_ROWS_MAX];
};

struct repro {
	const char *path;
	const struct fz_program *prog;
	const struct fz_options *opts;
	const struct fz_result *res;
	struct timeline tl;
	/* The run's event log (mmu target: its tail is printed). */
	const struct sim_event *log;
	size_t log_count;
	char command[4200];
};

/* Build the timeline from the log of the run that gave res. */
void timeline_build(struct timeline *tl, const struct fz_program *p, const struct fz_result *r,
		    const struct sim_event *log, size_t count);

void report_text(FILE *f, const struct repro *r);
void report_json(FILE *f, const struct repro *r);
void report_html(FILE *f, const struct repro *r);

#endif
