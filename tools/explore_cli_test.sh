#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Goal: `spterace explore` keeps its promises: bad arguments and a search
# larger than --budget get a one-line error and exit 2 (never a silently
# truncated search); K = 0 runs the one schedule without preemption; a
# divergence is saved under its content hash with a sidecar, never
# overwritten, and reported exactly as `spterace repro` reports the saved
# file; --mm relaxed and --mm all search the relaxed model too, and a
# relaxed divergence's crash file replays as relaxed; a binary input takes
# its mutant from its sidecar; --seeds saves
# each schedule that sets a new interleaving-feedback counter under its
# content hash.
#
# Usage: explore_cli_test.sh SPTERACE_BINARY SCENARIO_FILE...
set -u
bin=$1
shift
# shellcheck source=tools/test_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"

# expect_error NAME PATTERN CMD...: exit 2, one stderr line matching PATTERN, nothing on stdout.
expect_error() {
	local name=$1 pattern=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "$pattern" "$tmp/err" &&
		[ ! -s "$tmp/out" ]; then
		ok "$name"
	else
		bad "$name (exit $rc; stderr: $(head -c 300 "$tmp/err"); stdout: $(head -c 300 "$tmp/out"))"
	fi
}

scen="" setscen=""
for f in "$@"; do
	case "$f" in
	*/clear-then-set-vs-read.prog) scen=$f ;;
	*/set-vs-read.prog) setscen=$f ;;
	esac
done
[ -n "$scen" ] || { echo "clear-then-set-vs-read.prog not given"; exit 1; }
[ -n "$setscen" ] || { echo "set-vs-read.prog not given"; exit 1; }

expect_error no_file_is_a_usage_error 'usage: spterace explore FILE' "$bin" explore
expect_error unknown_option_is_named "unknown option '--bogus'" "$bin" explore "$scen" --bogus
expect_error preemptions_must_be_a_number "--preemptions must be a number" \
	"$bin" explore "$scen" --preemptions two
expect_error preemptions_are_bounded "--preemptions must be a number from 0 to" \
	"$bin" explore "$scen" --preemptions 99
expect_error budget_must_be_positive "--budget must be a positive number" \
	"$bin" explore "$scen" --budget 0
expect_error mm_is_a_model_both_or_all "--mm must be sc, tso, relaxed, both (sc and tso) or all" \
	"$bin" explore "$scen" --mm pso
expect_error unknown_mutant_is_named "unknown mutant 'nope'" "$bin" explore "$scen" --mutant nope
expect_error unknown_target_is_named "unknown target 'pte'" "$bin" explore "$scen" --target pte
expect_error missing_file_is_named "$tmp/none" "$bin" explore "$tmp/none"
: >"$tmp/empty"
expect_error empty_file_is_refused "empty file" "$bin" explore "$tmp/empty"
printf 'format 2\ntarget spte\nop cpu9 set slot0 a=0x00 b=0x00\n' >"$tmp/bad.prog"
expect_error bad_text_form_names_its_line "line 3" "$bin" explore "$tmp/bad.prog"
expect_error option_needs_a_value "--out needs a value" "$bin" explore "$scen" --out
expect_error over_budget_is_refused_before_running \
	"about [0-9]* schedules exceed the budget 10; raise --budget or lower --preemptions" \
	"$bin" explore "$scen" --budget 10 --out "$tmp/budget"
[ ! -d "$tmp/budget" ] || [ -z "$(ls "$tmp/budget")" ] &&
	ok over_budget_runs_nothing || bad over_budget_runs_nothing

"$bin" explore "$scen" --preemptions 0 --out "$tmp/k0" >"$tmp/out" 2>&1
if [ $? -eq 0 ] && grep -q '^explore: 1 schedules (1 distinct interleavings, [0-9]* preemption points) with at most 0 preemptions under TSO: no divergence$' "$tmp/out" &&
	grep -q '^time: .* schedules/s' "$tmp/out"; then
	ok k0_runs_one_schedule
else
	bad "k0_runs_one_schedule: $(cat "$tmp/out")"
fi

"$bin" explore "$scen" --mm both --out "$tmp/both" >"$tmp/out" 2>&1
if [ $? -eq 0 ] && [ "$(grep -c '^explore: .* no divergence$' "$tmp/out")" -eq 2 ] &&
	grep -q 'under SC: no divergence' "$tmp/out" && grep -q 'under TSO: no divergence' "$tmp/out"; then
	ok mm_both_reports_each_model
else
	bad "mm_both_reports_each_model: $(cat "$tmp/out")"
fi

"$bin" explore "$setscen" --mm all --out "$tmp/all" >"$tmp/out" 2>&1
if [ $? -eq 0 ] && [ "$(grep -c '^explore: .* no divergence$' "$tmp/out")" -eq 3 ] &&
	grep -q 'under SC: no divergence' "$tmp/out" && grep -q 'under TSO: no divergence' "$tmp/out" &&
	grep -q 'under RELAXED: no divergence' "$tmp/out"; then
	ok mm_all_reports_sc_tso_and_relaxed
else
	bad "mm_all_reports_sc_tso_and_relaxed: $(cat "$tmp/out")"
fi

# A relaxed divergence: the crash file says relaxed (format 3) and replays so.
"$bin" explore "$setscen" --mm relaxed --mutant set-spte-no-wmb --out "$tmp/relaxed" >"$tmp/out" 2>&1
rc=$?
c=$(sed -n 's/^crash: //p' "$tmp/out")
"$bin" repro "$c" >"$tmp/repro" 2>&1
rrc=$?
if [ $rc -eq 1 ] && grep -q '^explore: divergence .* under RELAXED$' "$tmp/out" && [ -f "$c" ] &&
	grep -q '^format: 3$' "$c.txt" && grep -q '^found: .*, relaxed$' "$c.txt" &&
	[ $rrc -eq 1 ] && grep -q 'relaxed memory' "$tmp/repro"; then
	ok relaxed_divergence_replays_under_relaxed
else
	bad "relaxed_divergence_replays_under_relaxed (exit $rc): $(head -5 "$tmp/out")"
fi

# A divergence: saved under its content hash, reported as repro reports it.
"$bin" explore "$scen" --mutant no-clear-count --mm sc --out "$tmp/crashes" >"$tmp/found" 2>&1
rc=$?
crash=$(sed -n 's/^crash: //p' "$tmp/found")
if [ $rc -eq 1 ] && [ -f "$crash" ] && [ "$(basename "$crash")" = "crash-$(sha1sum <"$crash" | cut -d' ' -f1)" ] &&
	grep -q '^mutant: no-clear-count$' "$crash.txt" && grep -q '^target: spte$' "$crash.txt" &&
	grep -q "^size: $(stat -c %s "$crash")\$" "$crash.txt"; then
	ok divergence_is_saved_under_its_content_hash_with_a_sidecar
else
	bad "divergence_is_saved_under_its_content_hash_with_a_sidecar (exit $rc): $(head -5 "$tmp/found")"
fi
"$bin" repro "$crash" >"$tmp/repro" 2>&1
sed -n '/^crash: /,/^time: /p' "$tmp/found" | sed '1d;$d' >"$tmp/report"
if [ $? -eq 0 ] && [ -s "$tmp/report" ] && cmp -s "$tmp/report" "$tmp/repro"; then
	ok report_is_repros_report
else
	bad "report_is_repros_report: $(diff "$tmp/report" "$tmp/repro" | head -5)"
fi
inode=$(stat -c %i "$crash")
"$bin" explore "$scen" --mutant no-clear-count --mm sc --out "$tmp/crashes" >"$tmp/again" 2>&1
if [ $? -eq 1 ] && [ "$(stat -c %i "$crash")" = "$inode" ] &&
	[ "$(ls "$tmp/crashes" | grep -vc '\.txt$')" -eq 1 ]; then
	ok a_crash_file_is_never_overwritten
else
	bad a_crash_file_is_never_overwritten
fi

# A binary input takes its mutant from its sidecar.
"$bin" encode "$scen" -o "$tmp/bin" && printf 'target: spte\nmutant: reader-no-count-recheck\n' >"$tmp/bin.txt"
"$bin" explore "$tmp/bin" --mm sc --out "$tmp/side" >"$tmp/out" 2>&1
c=$(sed -n 's/^crash: //p' "$tmp/out")
if [ $? -eq 0 ] && [ -n "$c" ] && grep -q '^mutant: reader-no-count-recheck$' "$c.txt"; then
	ok binary_input_takes_its_mutant_from_its_sidecar
else
	bad "binary_input_takes_its_mutant_from_its_sidecar: $(head -3 "$tmp/out")"
fi

# --seeds: new interleaving-feedback counters, saved by content hash.
"$bin" explore "$scen" --seeds "$tmp/seeds" --out "$tmp/s" >"$tmp/out" 2>&1
rc=$?
n=$(ls "$tmp/seeds" | wc -l)
good=1
for s in "$tmp"/seeds/*; do
	[ "$(basename "$s")" = "$(sha1sum <"$s" | cut -d' ' -f1)" ] || good=0
	"$bin" repro "$s" >/dev/null 2>&1 || good=0
done
if [ $rc -eq 0 ] && [ "$n" -gt 1 ] && [ $good -eq 1 ] && grep -q "^seeds: $n new in $tmp/seeds\$" "$tmp/out"; then
	ok seeds_are_new_feedback_schedules_by_content_hash
else
	bad "seeds_are_new_feedback_schedules_by_content_hash (exit $rc, $n files, good $good): $(tail -2 "$tmp/out")"
fi

echo "passed: $passed, failed: $failed"
[ $failed -eq 0 ]
