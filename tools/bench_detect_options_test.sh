#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Goal: `./spterace bench detect` turns every bad option into a one-line
# error and exit 2 before it builds or runs anything (an hour-long
# benchmark must not start on a typo), and lets good options through.
# tools/bench_detect.sh is sourced with the launcher's die and a setup that
# marks the point where the build would begin.
#
# Usage: bench_detect_options_test.sh BENCH_DETECT_SH PROGRAM_C
set -u
bench_sh=$(readlink -f "$1")
program_c=$(readlink -f "$2")
# shellcheck source=tools/test_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"

# What the launcher (./spterace) provides to tools/bench_detect.sh.
die() { echo "spterace: $*" >&2; exit 2; }
setup() { echo "setup reached"; exit 0; }
TARGETS=(spte mmu)
CALLER=$tmp
# shellcheck source=tools/bench_detect.sh
. "$bench_sh"

mkdir -p "$tmp/c1" "$tmp/c2" "$tmp/empty"
echo x >"$tmp/c1/a"
echo y >"$tmp/c2/b"

# rejects NAME PATTERN ARGS...: exit 2, one stderr line matching PATTERN, no setup.
rejects() {
	local name=$1 pattern=$2
	shift 2
	(bench_detect "$@") >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "$pattern" "$tmp/err" &&
		! grep -q "setup reached" "$tmp/out"; then
		ok "$name"
	else
		bad "$name (exit $rc; stdout: $(head -c 200 "$tmp/out"); stderr: $(head -c 300 "$tmp/err"))"
	fi
}

# accepts NAME ARGS...: reaches setup with nothing on stderr.
accepts() {
	local name=$1
	shift
	(bench_detect "$@") >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ $rc -eq 0 ] && grep -q "setup reached" "$tmp/out" && [ ! -s "$tmp/err" ]; then
		ok "$name"
	else
		bad "$name (exit $rc; stderr: $(head -c 300 "$tmp/err"))"
	fi
}

rejects "an unknown option is rejected" "unknown option '--speed'" --speed 3
rejects "an option without its value is rejected" "--runs needs a value" --runs
rejects "zero runs are rejected" "--runs must be a positive number" --runs 0
rejects "a time that is not a number is rejected" "--time must be a positive" --time 1m
rejects "a CPU the machine lacks is rejected" "--cpu must be CPU numbers below" --cpu 4096
rejects "an empty CPU list is rejected" "--cpu must be CPU numbers below" --cpu ,
rejects "an unknown target is rejected" "unknown target 'x86'" --target x86
rejects "an unknown engine is rejected" "--engine must be" --engine afl
rejects "a lone comma in --from is rejected" "an empty directory name in ','" --from ,
rejects "a doubled comma in --from is rejected" "an empty directory name" --from "$tmp/c1,,$tmp/c2"
rejects "a trailing comma in --from is rejected" "an empty directory name" --from "$tmp/c1,"
rejects "a leading comma in --from is rejected" "an empty directory name" --from ",$tmp/c1"
rejects "a missing --from directory is rejected" "no directory '$tmp/none'" --from "$tmp/c1,$tmp/none"
rejects "an empty --from directory is rejected" "the directory is empty" --from "$tmp/empty"
rejects "a --feedback that is not on or off is rejected" "--feedback must be on or off" --feedback yes
rejects "a --mutator that is not on or off is rejected" "--mutator must be on or off" --mutator 1
rejects "a --near-misses that is not on or off is rejected" "--near-misses must be on or off" --near-misses no
rejects "an unknown memory model is rejected" "--mm must be sc, tso or relaxed" --mm arm
rejects "the relaxed model on the mmu target is rejected" "for the spte target only" --target mmu --mm relaxed
rejects "an unknown schedule source is rejected" "--sched must be" --sched random
rejects "an unknown knob is rejected" "--knobs is none or" --knobs narrow-count,wide

accepts "the defaults reach the build"
accepts "corpus directories reach the build" --from "$tmp/c1,$tmp/c2" --target mmu --runs 3 --time 60 --cpu 0
accepts "seeds, schedule source and knobs reach the build" --from seeds --sched pct --knobs narrow-count,force-slow --mm tso
accepts "the near-miss rings can be switched off" --near-misses off --mutator on
accepts "the lazy-drains knob reaches the build" --knobs lazy-drains,narrow-count

# The shell's knob list (no build needed to check --knobs) is the harness's.
c_knobs=$(sed -n '/knob_names\[FZ_KNOBS_COUNT\]/,/};/p' "$program_c" | grep -o '"[a-z-]*"' |
	tr -d '"' | paste -sd, - | sed 's/,/, /g')
if [ -n "$c_knobs" ] && [ "$c_knobs" = "$KNOB_NAMES" ]; then
	ok "the shell's knob names are fuzz/program.c's, in order"
else
	bad "the shell's knob names are fuzz/program.c's (shell: $KNOB_NAMES; C: $c_knobs)"
fi
for k in ${KNOB_NAMES//,/ }; do
	accepts "the knob $k reaches the build" --knobs "$k"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
