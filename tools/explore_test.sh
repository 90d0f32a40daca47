#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Goal: every canonical spte scenario (corpus/scenarios/spte/) is free of new
# divergences on the faithful model over every schedule with at most 2
# preemptions, under SC and under x86-TSO (recorded findings are counted, not
# failures), and every spte-level mutant (`spterace mutants --target spte`)
# diverges on at least one scenario with at most 2 preemptions.
#
# Usage: explore_test.sh SPTERACE_BINARY SCENARIO_FILE...
set -u
bin=$1
shift
tmp=${TEST_TMPDIR:-$(mktemp -d)}
mkdir -p "$tmp"
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

scenarios=()
for f in "$@"; do
	case "$f" in *.prog) scenarios+=("$f") ;; esac
done
[ ${#scenarios[@]} -gt 0 ] || { echo "no scenarios given"; exit 1; }

start=$(date +%s.%N)
for f in "${scenarios[@]}"; do
	name=$(basename "$f" .prog)
	for mm in sc tso; do
		"$bin" explore "$f" --preemptions 2 --mm "$mm" --out "$tmp/faithful" >"$tmp/out" 2>&1
		rc=$?
		line=$(grep '^explore: ' "$tmp/out" | head -1)
		if [ $rc -eq 0 ] && [[ "$line" == *"with at most 2 preemptions under ${mm^^}: no divergence" ]]; then
			ok "faithful_${name}_${mm}: ${line#explore: }"
		else
			bad "faithful_${name}_${mm} (exit $rc): $(head -c 2000 "$tmp/out")"
		fi
	done
done

mutants=$("$bin" mutants --target spte) || { echo "cannot list the spte mutants"; exit 1; }
[ -n "$mutants" ] || { echo "no spte mutants listed"; exit 1; }
# Mutants explore cannot express on these scenarios: the barrier mutants
# need the relaxed memory model (named in sim/sim.h, not simulated yet:
# SC and x86-TSO order what their barriers order).  count-wrap is found on
# remap4-narrow-count-vs-read, whose program sets the narrow-count knob.
# Any other spte mutant, a new one included, must be found.
skip=" set-spte-no-wmb clear-fast-no-wmb count-clear-no-wmb reader-no-rmb-count-low reader-no-rmb-low-high "
for m in $mutants; do
	if [[ "$skip" == *" $m "* ]]; then
		echo "skip $m (needs the relaxed memory model)"
		continue
	fi
	found=""
	for f in "${scenarios[@]}"; do
		for mm in sc tso; do
			"$bin" explore "$f" --preemptions 2 --mm "$mm" --mutant "$m" \
				--out "$tmp/$m" >"$tmp/out" 2>&1
			rc=$?
			if [ $rc -eq 1 ]; then
				crash=$(sed -n 's/^crash: //p' "$tmp/out")
				"$bin" repro "$crash" >/dev/null 2>&1
				repro=$?
				if [ -f "$crash" ] && grep -q "^mutant: $m\$" "$crash.txt" && [ $repro -eq 1 ]; then
					found="$(basename "$f" .prog) ($mm)"
				else
					bad "mutant_${m}_crash_file_reproduces ($f, $mm)"
				fi
				break 2
			elif [ $rc -ne 0 ]; then
				bad "mutant_${m} on $f ($mm): exit $rc: $(head -c 500 "$tmp/out")"
			fi
		done
	done
	if [ -n "$found" ]; then
		ok "explore_finds_${m} on $found"
	else
		bad "explore_finds_${m}: no scenario diverges with at most 2 preemptions"
	fi
done
end=$(date +%s.%N)
echo "time: $(echo "$end - $start" | bc 2>/dev/null || echo "?") s"

echo "passed: $passed, failed: $failed"
[ $failed -eq 0 ]
