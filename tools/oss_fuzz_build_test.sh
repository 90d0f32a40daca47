#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Goal: tools/oss-fuzz/build.sh keeps the OSS-Fuzz build contract here, on
# the local toolchain.  It is run with OSS-Fuzz-like variables (CC, CXX,
# CFLAGS, CXXFLAGS, LIB_FUZZING_ENGINE, SANITIZER, FUZZING_ENGINE, OUT, SRC,
# WORK in temporary directories) for libFuzzer under address, undefined and
# memory, and for AFL++ under address; then every fuzzer it produced is
# checked the way OSS-Fuzz's check_build (bad_build_check) does:
#   all     an x86-64 ELF defining LLVMFuzzerTestOneInput, with its
#           .dict, .options and _seed_corpus.zip (no sidecars, no findings);
#           calls into the sanitizer runtimes within bad_build_check's
#           thresholds (>= 1000 __asan / __msan, >= 168 __ubsan, little or
#           nothing of another sanitizer)
#   libFuzzer  -seed=1337 -runs=4 prints "Done 4 runs" with >= 100 edges;
#           the unzipped seed corpus replays clean (-runs=0, also with
#           --report-known); then -runs=N of fuzzing from it with the
#           dictionary and the .options flags, no crash
#   AFL++   every seed runs clean on the driver; afl-fuzz -V with the
#           dictionary (seeds and known findings as inputs) says "All set
#           and ready to roll", never "target binary crashed/terminated",
#           executes inputs, and at a stability of 100%
# plus: a missing variable is a one-line error, and the .options max_len is
# the format's FZ_INPUT_MAX.
#
# Usage: oss_fuzz_build_test.sh [SOURCE_TREE]
# Under bazel test the tree is the test's runfiles (copied, as OSS-Fuzz
# copies the source into $SRC); by hand it defaults to this script's tree.
set -eu

if [ $# -ge 1 ]; then
	tree=$1
elif [ -n "${TEST_SRCDIR:-}" ]; then
	tree=$TEST_SRCDIR/${TEST_WORKSPACE:-spterace}
else
	tree=$(cd "$(dirname "$0")/.." && pwd)
fi
[ -f "$tree/tools/oss-fuzz/build.sh" ] || { echo "no tools/oss-fuzz/build.sh under $tree"; exit 1; }
# shellcheck source=tools/test_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"
runs=${SPTERACE_CHECK_RUNS:-2000}
afl_secs=${SPTERACE_CHECK_AFL_SECONDS:-3}
need() { command -v "$1" >/dev/null || { echo "FAIL $1 is missing (./spterace test installs it)"; exit 1; }; }
for t in clang-14 clang++-14 afl-clang-fast afl-clang-fast++ afl-fuzz objdump python3; do need "$t"; done
[ -f /usr/lib/afl/libAFLDriver.a ] || { echo "FAIL /usr/lib/afl/libAFLDriver.a is missing (afl++)"; exit 1; }

# $SRC/spterace: a real copy, no symlinks into the runfiles.
src=$tmp/src
rm -rf "$src"
mkdir -p "$src/spterace"
cp -RL "$tree/." "$src/spterace/"
root=$src/spterace
cd "$root"

# ---- contract checks that need no build ----
fz_input_max=$(printf '#include "fuzz/program.h"\nFZ_INPUT_MAX\n' |
	clang-14 -E -P -I. -x c - | tail -1)
fz_input_max=$((fz_input_max))
for o in fuzz/*_fuzz.options; do
	ml=$(sed -n 's/^max_len *= *//p' "$o")
	if [ "$ml" = "$fz_input_max" ]; then
		ok "$(basename "$o"): max_len = FZ_INPUT_MAX ($fz_input_max)"
	else
		bad "$(basename "$o"): max_len '$ml' is not FZ_INPUT_MAX ($fz_input_max)"
	fi
done
# The flags ./spterace passes to every libFuzzer run are in each options file.
lf_flags=$(sed -n 's/^LIBFUZZER_FLAGS=(\(.*\))$/\1/p' tools/bench_detect.sh)
for o in fuzz/*_fuzz.options; do
	for f in $lf_flags; do
		k=${f#-}
		k=${k%%=*}
		if [ "$(sed -n "s/^$k *= *//p" "$o")" = "${f#*=}" ]; then
			ok "$(basename "$o"): $k = ${f#*=}, as ./spterace passes it"
		else
			bad "$(basename "$o"): no '$k = ${f#*=}' though ./spterace passes $f"
		fi
	done
done
[ -n "$lf_flags" ] || bad "no LIBFUZZER_FLAGS line in tools/bench_detect.sh"
for d in fuzz/*_fuzz.dict; do
	if grep -v -e '^#' -e '^$' "$d" |
		grep -qvE '^[A-Za-z0-9_]+="([ !#-[]|[]-~]|\\\\|\\"|\\x[0-9a-fA-F]{2})+"$'; then
		bad "$(basename "$d"): a line is not name=\"token\""
	else
		ok "$(basename "$d"): $(grep -c '^[A-Za-z0-9_]' "$d") well-formed tokens"
	fi
done
( unset LIB_FUZZING_ENGINE; CC=clang-14 CXX=clang++-14 OUT=$tmp/x WORK=$tmp/x \
	bash tools/oss-fuzz/build.sh >"$tmp/err.out" 2>"$tmp/err" ) && rc=0 || rc=$?
if [ "$rc" -ne 0 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'LIB_FUZZING_ENGINE is not set' "$tmp/err"; then
	ok "build.sh: a missing \$LIB_FUZZING_ENGINE is a one-line error"
else
	bad "build.sh without \$LIB_FUZZING_ENGINE: exit $rc, stderr: $(head -c 300 "$tmp/err")"
fi

# ---- OSS-Fuzz's flags (base-clang and compile) ----
base="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
san_address="-fsanitize=address -fsanitize-address-use-after-scope"
ub="array-bounds,bool,builtin,enum,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr"
san_undefined="-fsanitize=$ub,unsigned-integer-overflow -fno-sanitize-recover=$ub -fno-sanitize=function"
san_memory="-fsanitize=memory -fsanitize-memory-track-origins"
export ASAN_OPTIONS=alloc_dealloc_mismatch=0:allocator_may_return_null=1:detect_leaks=1:detect_stack_use_after_return=1:handle_abort=1:handle_segv=1:max_uar_stack_size_log=16:symbolize=1:use_sigaltstack=1:dedup_token_length=3
export UBSAN_OPTIONS=print_stacktrace=1:print_summary=1:silence_unsigned_overflow=1:halt_on_error=1:dedup_token_length=3
export MSAN_OPTIONS=symbolize=1:dedup_token_length=3

# build ENGINE SANITIZER: run build.sh; sets $out.
build() {
	local engine=$1 san=$2 flags cc cxx lib
	case "$san" in
	address) flags="$base $san_address" ;;
	undefined) flags="$base $san_undefined" ;;
	memory) flags="$base $san_memory" ;;
	esac
	case "$engine" in
	libfuzzer) cc=clang-14 cxx=clang++-14 lib=-fsanitize=fuzzer flags="$flags -fsanitize=fuzzer-no-link" ;;
	afl) cc=afl-clang-fast cxx=afl-clang-fast++ lib=/usr/lib/afl/libAFLDriver.a ;;
	esac
	out=$tmp/out-$engine-$san
	rm -rf "$out" "$tmp/work"
	mkdir -p "$out" "$tmp/work"
	local t0=$SECONDS
	if (cd "$root" && AFL_QUIET=1 CC=$cc CXX=$cxx CFLAGS=$flags CXXFLAGS=$flags \
		LIB_FUZZING_ENGINE=$lib SANITIZER=$san FUZZING_ENGINE=$engine \
		OUT=$out SRC=$src WORK=$tmp/work bash "$src/build.sh" >"$tmp/build.log" 2>&1); then
		ok "build.sh $engine $san: $(cd "$out" && echo *) ($((SECONDS - t0)) s)"
	else
		bad "build.sh $engine $san failed:"
		tail -15 "$tmp/build.log"
		return 1
	fi
}

# The options file's [libfuzzer] section as flags, as OSS-Fuzz's parse_options.py.
lf_options() {
	python3 - "$1" <<'PY'
import configparser, sys
c = configparser.ConfigParser()
c.read(sys.argv[1])
if c.has_section("libfuzzer"):
    print(" ".join("-%s=%s" % kv for kv in c.items("libfuzzer")))
PY
}

unzip_to() {
	python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"
}

# Checks every fuzzer needs, whatever the engine.  $1 fuzzer path, $2 sanitizer.
check_common() {
	local f=$1 san=$2 name
	name=$(basename "$f")
	local t=${name%_fuzz}
	if [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] &&
		[ "$(od -An -tu2 -j18 -N2 "$f" | tr -d ' ')" = 62 ] && grep -q LLVMFuzzerTestOneInput "$f"; then
		ok "$name: x86-64 ELF defining LLVMFuzzerTestOneInput"
	else
		bad "$name: not an x86-64 ELF fuzz target"
	fi
	local dis asan msan ubsan
	dis=$(objdump -dC "$f")
	# bad_build_check's counts and thresholds: a non-UBSan build has about
	# 165 calls into the UBSan part of its sanitizer runtime.
	asan=$(grep -cE 'callq?\s+[0-9a-f]+\s+<__asan' <<<"$dis" || true)
	msan=$(grep -cE 'callq?\s+[0-9a-f]+\s+<__msan' <<<"$dis" || true)
	ubsan=$(grep -cE 'callq?\s+[0-9a-f]+\s+<__ubsan' <<<"$dis" || true)
	local good=0
	case "$san" in
	address) [ "$asan" -ge 1000 ] && [ "$msan" -le 3 ] && [ "$ubsan" -le 200 ] && good=1 ;;
	memory) [ "$msan" -ge 1000 ] && [ "$asan" = 0 ] && [ "$ubsan" -le 200 ] && good=1 ;;
	undefined) [ "$ubsan" -ge 168 ] && [ "$asan" = 0 ] && [ "$msan" -le 3 ] && good=1 ;;
	esac
	if [ "$good" = 1 ]; then
		ok "$name: $san build: calls to __asan $asan, __msan $msan, __ubsan $ubsan"
	else
		bad "$name: not a clean $san build: calls to __asan $asan, __msan $msan, __ubsan $ubsan"
	fi
	local z=$f"_seed_corpus.zip" listing n_want
	if [ -f "$f.dict" ] && [ -f "$f.options" ] && [ -f "$z" ]; then
		listing=$(python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$z")
		n_want=$(find "corpus/$t" "corpus/regressions/$t" -type f ! -name '*.txt' | wc -l)
		local leaked=""
		for s in corpus/findings/"$t"/*; do
			[ -f "$s" ] || continue
			case "$s" in *.txt) continue ;; esac
			if grep -qxF "$(basename "$s")" <<<"$listing"; then
				leaked="$leaked $(basename "$s")"
			fi
		done
		if [ "$(wc -l <<<"$listing")" = "$n_want" ] && ! grep -q '\.txt$' <<<"$listing" && [ -z "$leaked" ]; then
			ok "$name: .dict, .options, seed corpus of $n_want inputs (seeds and regressions, no findings)"
		else
			bad "$name: seed corpus has $(wc -l <<<"$listing") entries, want $n_want; findings:${leaked:- none}"
		fi
	else
		bad "$name: missing .dict, .options or _seed_corpus.zip"
	fi
}

check_libfuzzer() {
	local f=$1 name seeds log
	name=$(basename "$f")
	log=$tmp/$name.log
	local edges
	if (cd "$tmp" && "$f" -seed=1337 -runs=4 >"$log" 2>&1) && grep -q '^Done 4 runs' "$log" &&
		edges=$(grep -oE 'INFO: Loaded [0-9]+ modules? +\([0-9]+ inline 8-bit counters\): [0-9]+' "$log" |
			grep -oE '[0-9]+$') && [ "$edges" -ge 100 ]; then
		ok "$name: -seed=1337 -runs=4: Done 4 runs, $edges edges instrumented"
	else
		bad "$name: -seed=1337 -runs=4:"
		tail -20 "$log"
	fi
	seeds=$tmp/seeds-$name
	rm -rf "$seeds" && mkdir -p "$seeds"
	unzip_to "$f"_seed_corpus.zip "$seeds"
	local n
	n=$(find "$seeds" -type f | wc -l)
	if (cd "$tmp" && "$f" -runs=0 "$seeds" >"$log" 2>&1 &&
		"$f" -runs=0 --report-known "$seeds" >>"$log" 2>&1); then
		ok "$name: the $n seeds replay clean (-runs=0, also with --report-known)"
	else
		bad "$name: seed corpus replay (-runs=0):"
		tail -30 "$log"
	fi
	local opts
	opts=$(lf_options "$f.options")
	# shellcheck disable=SC2086 # the options are a list of flags
	if (cd "$tmp" && "$f" -seed=1337 -runs="$runs" -dict="$f.dict" $opts -print_final_stats=1 \
		"$seeds" >"$log" 2>&1) && grep -q "^Dictionary: " "$log" && grep -q '^Done ' "$log"; then
		ok "$name: -runs=$runs from the seeds with the dictionary ($(sed -n 's/^Dictionary: //p' "$log"), $opts): $(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+')"
	else
		bad "$name: -runs=$runs with the dictionary:"
		tail -30 "$log"
	fi
}

check_afl() {
	local f=$1 name seeds log s bad_seeds=0 n=0
	name=$(basename "$f")
	log=$tmp/$name.afl.log
	seeds=$tmp/aflseeds-$name
	rm -rf "$seeds" "$tmp/afl-$name" && mkdir -p "$seeds"
	unzip_to "$f"_seed_corpus.zip "$seeds"
	for s in "$seeds"/*; do
		n=$((n + 1))
		"$f" "$s" >"$log" 2>&1 || { bad_seeds=$((bad_seeds + 1)); echo "  seed $(basename "$s"):"; tail -5 "$log"; }
	done
	if [ "$bad_seeds" = 0 ]; then
		ok "$name: the $n seeds run clean on the AFL++ driver"
	else
		bad "$name: $bad_seeds of $n seeds fail on the AFL++ driver"
	fi
	# The known findings go in too: the harness counts them without
	# stopping, and calibrating them shows any state that classifying a
	# divergence leaves to the next execution.  (They stay out of the seed
	# corpus, which must replay clean with --report-known as well.)
	local t=${name%_fuzz}
	for s in corpus/findings/"$t"/*; do
		case "$s" in *.txt) ;; *) [ -f "$s" ] && cp "$s" "$seeds/finding-$(basename "$s")" ;; esac
	done
	# run_fuzzer's AFL++ environment (docs/fuzz-infra.md 1.9, 5.9).
	if (cd "$tmp" && ASAN_OPTIONS=$ASAN_OPTIONS:abort_on_error=1:symbolize=0:detect_odr_violation=0 \
		UBSAN_OPTIONS=$UBSAN_OPTIONS:symbolize=0 MSAN_OPTIONS=$MSAN_OPTIONS:exit_code=86:symbolize=0 \
		AFL_SKIP_CPUFREQ=1 \
		AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_FAST_CAL=1 \
		AFL_FORKSRV_INIT_TMOUT=30000 AFL_IGNORE_UNKNOWN_ENVS=1 \
		timeout -s INT $((afl_secs + 35)) afl-fuzz -i "$seeds" -o "$tmp/afl-$name" -x "$f.dict" \
		-V "$afl_secs" -t 5000+ -- "$f" >"$log" 2>&1); then
		:
	fi
	local stats=$tmp/afl-$name/default/fuzzer_stats execs=0 crashes=0 stability=none
	if [ -f "$stats" ]; then
		execs=$(sed -n 's/^execs_done *: *//p' "$stats")
		crashes=$(sed -n 's/^saved_crashes *: *//p' "$stats")
		stability=$(sed -n 's/^stability *: *//p' "$stats")
	fi
	if grep -q 'All set and ready to roll' "$log" &&
		! grep -qE 'target binary (crashed|terminated)' "$log" &&
		[ "${execs:-0}" -gt 0 ] && [ "${crashes:-0}" = 0 ]; then
		ok "$name: afl-fuzz -V $afl_secs -x $name.dict: ready to roll, $execs execs, $(sed -n 's/^execs_per_sec *: *//p' "$stats") exec/s, $(grep -oE 'Loaded [0-9]+ extra tokens' "$log" | grep -oE '[0-9]+') dictionary tokens"
	else
		bad "$name: afl-fuzz (execs ${execs:-0}, crashes ${crashes:-0}):"
		grep -vE '^\s*$' "$log" | tail -20
		# What crashed: the first crash replayed, and every crash kept
		# among the test's outputs (bazel-testlogs/.../test.outputs).
		local c
		for c in "$tmp/afl-$name"/default/crashes/id:*; do
			[ -e "$c" ] || continue
			echo "replay of $c:"
			"$f" "$c" 2>&1 | grep -vE '^\s*$' | head -40
			break
		done
		if [ -n "${TEST_UNDECLARED_OUTPUTS_DIR:-}" ]; then
			cp -r "$tmp/afl-$name/default/crashes" "$TEST_UNDECLARED_OUTPUTS_DIR/afl-$name-crashes" 2>/dev/null
		fi
	fi
	# A run is a pure function of its input: anything below 100% is state
	# one execution leaves to the next.
	if [ "$stability" = "100.00%" ]; then
		ok "$name: AFL++ stability $stability"
	else
		bad "$name: AFL++ stability $stability, not 100.00% (a determinism bug)"
	fi
}

# OSS-Fuzz runs $SRC/build.sh, a copy of tools/oss-fuzz/build.sh.
cp tools/oss-fuzz/build.sh "$src/build.sh"

for combo in libfuzzer:address libfuzzer:undefined libfuzzer:memory afl:address; do
	engine=${combo%%:*}
	san=${combo#*:}
	build "$engine" "$san" || continue
	for f in "$out"/*; do
		if [ ! -f "$f" ] || [ ! -x "$f" ]; then continue; fi
		check_common "$f" "$san"
		case "$engine" in
		libfuzzer) check_libfuzzer "$f" ;;
		afl) check_afl "$f" ;;
		esac
	done
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
