/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A tiny test runner for spterace's unit tests.  A test file defines
 * functions named after the property they check, lists them with TEST(),
 * and ends with TEST_MAIN(...).  The run prints one line per test and a
 * closing "N passed, N failed" line; the exit status is non-zero when any
 * check failed.
 */
#ifndef SPTERACE_TESTING_CHECK_H
#define SPTERACE_TESTING_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures_in_test;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			check_failures_in_test++;                              \
		}                                                              \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                      \
	do {                                                                    \
		uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);    \
		if (check_a_ != check_b_) {                                     \
			fprintf(stderr,                                         \
				"%s:%d: check failed: %s == %s (0x%" PRIx64     \
				" != 0x%" PRIx64 ")\n",                         \
				__FILE__, __LINE__, #a, #b, check_a_, check_b_); \
			check_failures_in_test++;                               \
		}                                                               \
	} while (0)

struct check_test {
	const char *name;
	void (*fn)(void);
};

#define TEST(fn) { #fn, fn }

/* The command line, for tests that take files as arguments (TEST_MAIN saves it). */
static int check_argc;
static char **check_argv;

static inline int check_run(const struct check_test *tests, size_t n)
{
	int passed = 0, failed = 0;

	for (size_t i = 0; i < n; i++) {
		check_failures_in_test = 0;
		tests[i].fn();
		if (check_failures_in_test) {
			failed++;
			printf("FAIL %s\n", tests[i].name);
		} else {
			passed++;
			printf("ok   %s\n", tests[i].name);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#define TEST_MAIN(...)                                                        \
	int main(int argc, char **argv)                                       \
	{                                                                     \
		static const struct check_test tests[] = { __VA_ARGS__ };     \
		check_argc = argc;                                            \
		check_argv = argv;                                            \
		return check_run(tests, sizeof(tests) / sizeof(tests[0]));    \
	}

#endif
