#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Goal: the crash-reproduction CLI keeps its promises: a regression input
# reproduces (exit 1) with a readable report, JSON and an HTML page of the
# expected structure; decode then encode round-trips; minimize keeps the
# divergence and never grows the input; regress adds a witness and never
# overwrites one; signature names a divergence in one stable line; empty,
# truncated and malformed files and bad usage each
# get a one-line error and exit 2.
#
# Usage: cli_test.sh SPTERACE_BINARY REGRESSION_FILE...
set -u
bin=$1
shift
# shellcheck source=tools/test_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"

# expect_error NAME STATUS PATTERN CMD...: exit STATUS, one stderr line matching PATTERN.
expect_error() {
	local name=$1 want=$2 pattern=$3
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ $rc -eq "$want" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q -- "$pattern" "$tmp/err"; then
		ok "$name"
	else
		bad "$name (exit $rc; stderr: $(head -c 300 "$tmp/err"))"
	fi
}

inputs=()
for f in "$@"; do
	case "$f" in *.txt) ;; *) inputs+=("$f") ;; esac
done
[ ${#inputs[@]} -gt 0 ] || { echo "no regression inputs given"; exit 1; }

for f in "${inputs[@]}"; do
	name=$(basename "$f")
	cp "$f" "$tmp/$name"
	cp "$f.txt" "$tmp/$name.txt"

	"$bin" repro "$tmp/$name" >"$tmp/report" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q '^verdict: torn read' "$tmp/report" &&
		grep -q '<== TORN' "$tmp/report" && grep -q '^interleaving, steps' "$tmp/report" &&
		grep -q "^reproduce: ./spterace repro $tmp/$name\$" "$tmp/report"; then
		ok "repro_reproduces_and_explains_$name"
	else
		bad "repro_reproduces_and_explains_$name (exit $rc)"
	fi

	# The guards line (near misses) counts the same retries as the reads line.
	retries=$(sed -n 's/^  reads .*; \([0-9]*\) retries$/\1/p' "$tmp/report")
	guards=$(sed -n 's/^  guards    //p' "$tmp/report")
	if [ -n "$retries" ] && [ -n "$guards" ] &&
		{ [ "$retries" -gt 0 ] && [[ $guards == *"retry $retries"* ]] ||
			{ [ "$retries" -eq 0 ] && [[ $guards != *retry* ]]; }; }; then
		ok "repro_guards_line_counts_the_reads_retries_$name"
	else
		bad "repro_guards_line_counts_the_reads_retries_$name (retries '$retries', guards '$guards')"
	fi

	"$bin" repro "$tmp/$name" --json >"$tmp/json" 2>&1
	if [ $? -eq 1 ] && grep -q '"divergence": true' "$tmp/json" &&
		grep -q '"divergent": true' "$tmp/json" && grep -q '^  "guards": {"retry": ' "$tmp/json" &&
		[ "$(head -c 1 "$tmp/json")" = "{" ] &&
		[ "$(tr -cd '{' <"$tmp/json" | wc -c)" -eq "$(tr -cd '}' <"$tmp/json" | wc -c)" ] &&
		[ "$(tr -cd '[' <"$tmp/json" | wc -c)" -eq "$(tr -cd ']' <"$tmp/json" | wc -c)" ]; then
		ok "repro_json_reports_the_divergent_read_$name"
	else
		bad "repro_json_reports_the_divergent_read_$name"
	fi

	cpus=$("$bin" decode "$tmp/$name" | sed -n 's/^cpus //p')
	"$bin" repro "$tmp/$name" --html "$tmp/$name.html" >/dev/null 2>&1
	lanes=$(grep -c '<g class="lane"' "$tmp/$name.html")
	if [ "$lanes" -eq "$cpus" ] && [ "$(grep -c 'class="torn"' "$tmp/$name.html")" -eq 1 ] &&
		grep -q '<svg class="lanes"' "$tmp/$name.html" &&
		grep -q '<table class="timeline">' "$tmp/$name.html" &&
		grep -q '<tr class="divergent">' "$tmp/$name.html" &&
		! grep -q -E '(src|href)="https?:' "$tmp/$name.html"; then
		ok "html_page_has_one_lane_per_cpu_and_the_torn_read_$name"
	else
		bad "html_page_has_one_lane_per_cpu_and_the_torn_read_$name (lanes $lanes, cpus $cpus)"
	fi

	"$bin" decode "$tmp/$name" >"$tmp/$name.prog"
	"$bin" encode "$tmp/$name.prog" -o "$tmp/$name.enc" &&
		"$bin" decode "$tmp/$name.enc" >"$tmp/$name.prog2"
	cp "$f.txt" "$tmp/$name.enc.txt"
	sed -i '/^size:/d' "$tmp/$name.enc.txt"
	"$bin" repro "$tmp/$name.enc" >/dev/null 2>&1
	rc=$?
	if cmp -s "$tmp/$name.prog" "$tmp/$name.prog2" && [ $rc -eq 1 ]; then
		ok "decode_then_encode_round_trips_and_still_diverges_$name"
	else
		bad "decode_then_encode_round_trips_and_still_diverges_$name (repro exit $rc)"
	fi

	"$bin" minimize "$tmp/$name" -o "$tmp/$name.min" >"$tmp/minout" 2>&1
	rc=$?
	"$bin" repro "$tmp/$name.min" >/dev/null 2>&1
	rc2=$?
	if [ $rc -eq 1 ] && [ $rc2 -eq 1 ] &&
		[ "$(stat -L -c %s "$tmp/$name.min")" -le "$(stat -L -c %s "$f")" ]; then
		ok "minimize_keeps_divergence_and_never_grows_$name"
	else
		bad "minimize_keeps_divergence_and_never_grows_$name (exit $rc, repro $rc2, $(stat -L -c %s "$f") -> $(stat -L -c %s "$tmp/$name.min" 2>&1) bytes)"
	fi
done

# The regression workflow, into a scratch root.
first=${inputs[0]}
cp "$first" "$tmp/crash"
cp "$first.txt" "$tmp/crash.txt"
mkdir -p "$tmp/root"
"$bin" regress "$tmp/crash" my-witness --what "test" --root "$tmp/root" >/dev/null 2>&1
rc=$?
added=$(ls "$tmp"/root/corpus/*/spte/my-witness 2>/dev/null | head -1)
if [ $rc -eq 0 ] && [ -n "$added" ] && grep -q '^expect: divergence' "$added.txt" &&
	grep -q '^what: test' "$added.txt" && grep -q '^size: ' "$added.txt"; then
	ok "regress_adds_witness_with_sidecar"
else
	bad "regress_adds_witness_with_sidecar (exit $rc)"
fi
before=$(md5sum "$added" | cut -d' ' -f1)
expect_error regress_never_overwrites_a_witness 2 "exists already" \
	"$bin" regress "$tmp/crash" my-witness --root "$tmp/root"
[ "$(md5sum "$added" | cut -d' ' -f1)" = "$before" ] && ok "witness_unchanged_after_refusal" ||
	bad "witness_unchanged_after_refusal"

# Without a sidecar the target is the one a directory of the path names.
mkdir -p "$tmp/corpus/mmu" "$tmp/fuzzout/mmu-none-1/crashes" "$tmp/plain"
for d in corpus/mmu fuzzout/mmu-none-1/crashes plain; do
	cp "$first" "$tmp/$d/input"
done
if "$bin" decode "$tmp/corpus/mmu/input" | grep -qx 'target mmu' &&
	"$bin" decode "$tmp/fuzzout/mmu-none-1/crashes/input" | grep -qx 'target mmu' &&
	"$bin" decode "$tmp/plain/input" | grep -qx 'target spte'; then
	ok "without_a_sidecar_the_directory_names_the_target"
else
	bad "without_a_sidecar_the_directory_names_the_target"
fi

# Bad input: every case a one-line error and exit 2.
: >"$tmp/empty"
expect_error empty_file_is_rejected 2 "empty file" "$bin" repro "$tmp/empty"
head -c 5 "$first" >"$tmp/short"
printf 'target: spte\nmutant: none\nformat: 1\nsize: %s\n' "$(stat -c %s "$first")" >"$tmp/short.txt"
expect_error truncated_file_is_rejected 2 "truncated" "$bin" repro "$tmp/short"
cp "$first" "$tmp/badside"
printf 'target: spte\nmutant: no-such-mutant\n' >"$tmp/badside.txt"
expect_error malformed_sidecar_is_rejected 2 "malformed sidecar: unknown mutant" "$bin" repro "$tmp/badside"
cp "$first" "$tmp/badfmt"
printf 'target: spte\nformat: 7\n' >"$tmp/badfmt.txt"
expect_error unknown_format_is_rejected 2 "format 7" "$bin" repro "$tmp/badfmt"
head -c 9000 /dev/zero | tr '\0' '\1' >"$tmp/huge"
expect_error oversized_file_is_rejected 2 "malformed: longer" "$bin" repro "$tmp/huge"
expect_error missing_file_is_rejected 2 "No such file" "$bin" repro "$tmp/nope"
mkdir -p "$tmp/a-directory"
expect_error directory_is_rejected_as_a_directory 2 "is a directory" "$bin" repro "$tmp/a-directory"
printf 'target spte\nop cpu0 fly slot0 a=0x00 b=0x00\n' >"$tmp/bad.prog"
expect_error bad_text_form_names_the_line 2 "line 2: unknown operation" \
	"$bin" encode "$tmp/bad.prog" -o "$tmp/bad.bin"
expect_error bad_usage_is_rejected 2 "usage:" "$bin" frobnicate
printf '\001\000\000' >"$tmp/passing"
expect_error minimize_of_passing_input_says_so 0 "does not diverge" \
	"$bin" minimize "$tmp/passing"
expect_error signature_of_empty_file_is_rejected 2 "empty file" "$bin" signature "$tmp/empty"

# signature: one line, exit 1, naming target, mutant, verdict and sites;
# "pass" and exit 0 for an input that does not diverge.
sig_ok=1
for f in "${inputs[@]}"; do
	mutant=$(sed -n 's/^mutant: //p' "$f.txt" | head -1)
	target=$(sed -n 's/^target: //p' "$f.txt" | head -1)
	out=$("$bin" signature "$f" 2>/dev/null)
	rc=$?
	if [ $rc -ne 1 ] || [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ] ||
		[[ "$out" != "${target:-spte} ${mutant:-none} "* ]] ||
		{ [[ "$out" != *" read@"*" write@"* ]] && [[ "$out" != *" op@"*" msg@"* ]]; }; then
		sig_ok=""
		echo "  $f: exit $rc: $out"
	fi
	[ "$("$bin" signature "$f" 2>/dev/null)" = "$out" ] || sig_ok=""
done
if [ -n "$sig_ok" ]; then ok signature_is_one_stable_line_per_divergence; else
	bad signature_is_one_stable_line_per_divergence; fi
out=$("$bin" signature "$tmp/passing")
rc=$?
if [ $rc -eq 0 ] && [ "$out" = pass ]; then ok signature_of_passing_input_is_pass; else
	bad "signature_of_passing_input_is_pass (exit $rc: $out)"; fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
