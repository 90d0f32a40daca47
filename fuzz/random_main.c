/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The "random" baseline of ./spterace bench detect: a harness driven by
 * uniformly random inputs, with no coverage guidance and no corpus.  Every
 * byte string decodes to a program and a schedule, so uniform bytes are
 * uniformly random programs and interleavings.
 *
 * Usage: <harness>_random [--mutant=NAME] [--seed=N] [--time=SECONDS]
 *                         [--max-len=BYTES] [--artifact=FILE] [--bare]
 *
 * --bare runs every input bare (sim bare mode: no scheduling, no oracle, no
 * checks), the baseline that `bench speed` measures the platform against:
 * with the same --seed both see the same programs.
 *
 * Exits 0 after --time seconds without a divergence.  On a divergence the
 * harness aborts; the handler here first writes the input to --artifact
 * (created new, never overwriting) and prints how many executions and
 * seconds it took, so the benchmark can read both.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LEN_LIMIT 4096

static uint8_t input[MAX_LEN_LIMIT];
static volatile size_t input_len;
static volatile unsigned long long execs;
static const char *artifact;
static struct timespec started;

static double seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* SIGABRT from the harness: keep the input, report, and die as before. */
static void on_abort(int sig)
{
	char line[160];
	int n;

	if (artifact) {
		int fd = open(artifact, O_WRONLY | O_CREAT | O_EXCL, 0644);

		if (fd >= 0) {
			ssize_t w = write(fd, input, input_len);

			(void)w;
			close(fd);
		}
	}
	/* snprintf is not async-signal-safe in general; glibc's is fine without %f. */
	n = snprintf(line, sizeof(line), "random: divergence after %llu executions, %lld ms\n",
		     (unsigned long long)execs + 1, (long long)(seconds_since(&started) * 1000));
	if (n > 0) {
		ssize_t w = write(2, line, (size_t)n);

		(void)w;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* xorshift64*: the input stream depends on --seed only. */
static uint64_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static int usage(const char *why)
{
	fprintf(stderr, "random: %s (usage: [--mutant=NAME] [--seed=N] [--time=SECONDS] "
			"[--max-len=BYTES] [--artifact=FILE])\n", why);
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t seed = 1, state;
	double limit = 60;
	size_t max_len = 512;

	for (int i = 1; i < argc; i++) {
		char *end;

		if (strncmp(argv[i], "--seed=", 7) == 0) {
			seed = strtoull(argv[i] + 7, &end, 10);
			if (*end)
				return usage("--seed takes a number");
		} else if (strncmp(argv[i], "--time=", 7) == 0) {
			limit = strtod(argv[i] + 7, &end);
			if (*end || limit <= 0)
				return usage("--time takes a positive number of seconds");
		} else if (strncmp(argv[i], "--max-len=", 10) == 0) {
			max_len = strtoul(argv[i] + 10, &end, 10);
			if (*end || max_len < 1 || max_len > MAX_LEN_LIMIT)
				return usage("--max-len takes 1 to 4096");
		} else if (strncmp(argv[i], "--artifact=", 11) == 0) {
			artifact = argv[i] + 11;
		} else if (strncmp(argv[i], "--mutant=", 9) != 0 && strcmp(argv[i], "--strict") != 0 &&
			   strcmp(argv[i], "--bare") != 0) {
			return usage("unknown option");
		}
	}
	LLVMFuzzerInitialize(&argc, &argv);
	signal(SIGABRT, on_abort);
	state = seed * 0x9e3779b97f4a7c15ull | 1;
	clock_gettime(CLOCK_MONOTONIC, &started);
	while (seconds_since(&started) < limit) {
		for (int batch = 0; batch < 64; batch++) {
			size_t len = 1 + next(&state) % max_len;

			for (size_t i = 0; i < len; i += 8) {
				uint64_t r = next(&state);

				memcpy(input + i, &r, len - i < 8 ? len - i : 8);
			}
			input_len = len;
			LLVMFuzzerTestOneInput(input, len);
			execs++;
		}
	}
	fprintf(stderr, "random: no divergence in %llu executions, %.0f s\n",
		(unsigned long long)execs, seconds_since(&started));
	return 0;
}
