#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Tests of plugged protocols (./spterace fuzz --protocol, docs/your-protocol.md),
# one property per mode:
#
#   layouts    the shim compiles the faithful protocol written against the
#              3.11 layout and against the mainline layout, unchanged
#   faithful   both faithful examples replay the spte and mmu seed corpora
#              and regressions with no divergence, with the event-log hash
#              of the built-in model on every input (event for event), and
#              give the built-in model's verdict and hash on random programs
#   mutants    each mutant example diverges on the built-in mutant's
#              regression witness, with the built-in mutant's hash
#   errors     a broken file gets its one-line error and exit status 2
#
# Usage: protocol_test.sh MODE SPTE_REPLAY MMU_REPLAY PROTOCOL_DIFF
set -u
mode=$1
spte=$2
mmu=$3
pdiff=$4
tmp=${TEST_TMPDIR:-$(mktemp -d)}
build=tools/protocol_build.sh
fails=0
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

so() { # FILE.c -> path of its shared object, built once
	local out="$tmp/$(basename "$1" .c).so"
	[ -e "$out" ] || "$build" "$1" "$out" || return 1
	echo "$out"
}

# "path hash" of each input a replay ran ($1 binary, rest: arguments).
hashes() {
	local bin=$1
	shift
	"$bin" "$@" | awk '$1 == "ok" || $1 == "FAIL" {print $1, $2, $NF}'
}

case "$mode" in
layouts)
	for f in examples/protocols/split-spte-3.11.c examples/protocols/split-spte-mainline.c; do
		if so "$f" >/dev/null; then echo "ok   $f compiles"; else fail "$f does not compile"; fi
	done ;;
faithful)
	for f in examples/protocols/split-spte-3.11.c examples/protocols/split-spte-mainline.c; do
		p=$(so "$f") || { fail "$f does not compile"; continue; }
		for t in spte mmu; do
			bin=$spte
			[ $t = mmu ] && bin=$mmu
			want=$(hashes "$bin" --expect=pass corpus/$t corpus/regressions/$t)
			got=$(hashes "$bin" --protocol="$p" --expect=pass corpus/$t corpus/regressions/$t)
			if echo "$got" | grep -q '^FAIL'; then
				fail "$f diverges on the $t corpus:"
				echo "$got" | grep '^FAIL'
			elif [ "$got" != "$want" ]; then
				fail "$f: runs differ from the built-in model's on the $t corpus:"
				diff <(echo "$want") <(echo "$got")
			else
				echo "ok   $f: $(echo "$got" | wc -l) $t inputs pass, same hashes as the built-in model"
			fi
			runs=20000
			[ $t = mmu ] && runs=3000
			if out=$("$pdiff" --protocol="$p" --target=$t --runs=$runs --seed=11); then
				echo "ok   $f: $(echo "$out" | tail -1)"
			else
				fail "$f differs from the built-in model on random programs:"
				echo "$out"
			fi
		done
	done ;;
mutants)
	for m in no-clear-count set-spte-low-first reader-no-low-recheck reader-no-count-recheck \
		update-slow-plain-read; do
		p=$(so examples/protocols/$m.c) || { fail "$m.c does not compile"; continue; }
		n=0
		for w in corpus/regressions/*/*; do
			case "$w" in *.txt) continue ;; esac
			grep -qx "mutant: $m" "$w.txt" || continue
			bin=$spte
			case "$w" in corpus/regressions/mmu/*) bin=$mmu ;; esac
			want=$(hashes "$bin" --mutant=$m --expect=divergence "$w" | awk '{print $1, $3}')
			got=$(hashes "$bin" --protocol="$p" --expect=divergence "$w" | awk '{print $1, $3}')
			n=$((n + 1))
			if [ "${got%% *}" != ok ]; then
				fail "$m.c does not diverge on $w"
			elif [ "$got" != "$want" ]; then
				fail "$m.c diverges on $w, but not as the built-in mutant ($got, want $want)"
			else
				echo "ok   $m.c diverges on $w as the built-in mutant does (${got#ok })"
			fi
		done
		[ $n -gt 0 ] || fail "no regression witness names mutant $m"
	done ;;
errors)
	check() { # FILE WANT
		local out rc
		out=$("$build" "$1" "$tmp/x.so" 2>&1)
		rc=$?
		if [ $rc -ne 2 ] || [ "$out" != "$2" ]; then
			fail "$1: exit $rc, said:"
			echo "$out"
			echo "want: $2"
		else
			echo "ok   $out"
		fi
	}
	check testing/protocols/broken-syntax.c \
		"spterace: testing/protocols/broken-syntax.c: does not compile: 9:32: error: expected ';' after expression"
	check testing/protocols/missing-reader.c \
		"spterace: testing/protocols/missing-reader.c: missing __get_spte_lockless, count_spte_clear"
	check testing/protocols/wrong-type.c \
		"spterace: testing/protocols/wrong-type.c: __get_spte_lockless has the wrong type (want: u64 __get_spte_lockless(u64 *sptep))"
	check testing/protocols/no-such-file.c \
		"spterace: testing/protocols/no-such-file.c: no such file" ;;
*) echo "unknown mode $mode"; exit 2 ;;
esac
[ $fails -eq 0 ] || { echo "$fails failed"; exit 1; }
echo "all passed"
