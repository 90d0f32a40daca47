#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# OSS-Fuzz / ClusterFuzzLite build script of spterace (the build.sh
# contract: docs/fuzz-infra.md 1.4 and 1.5).
#
# Builds every harness fuzz/<target>_fuzz.c with $CC $CFLAGS, together with
# the library sources of sim/, mmu/, oracle/ and fuzz/ (every .c file there
# but tests, mains and harnesses), links each with $CXX $CXXFLAGS
# $LIB_FUZZING_ENGINE, and writes into $OUT:
#   <target>_fuzz                  the fuzzer
#   <target>_fuzz_seed_corpus.zip  corpus/<target>/ and corpus/regressions/<target>/
#                                  (inputs only; all pass on the faithful model)
#   <target>_fuzz.dict             fuzz/<target>_fuzz.dict
#   <target>_fuzz.options          fuzz/<target>_fuzz.options
# corpus/findings/ is left out on purpose: those inputs diverge on the
# faithful model.  A plain fuzzer counts them as known findings and goes on,
# but with --report-known it stops on them; the seeds pass either way.
#
# Honours CC, CXX, CFLAGS, CXXFLAGS, LIB_FUZZING_ENGINE, SANITIZER,
# FUZZING_ENGINE, OUT, SRC and WORK.  Per engine, the files the project keeps
# out of coverage feedback (fuzz/afl_denylist.txt: the simulator and the
# invariant checker, whose branches are the same for every input) stay out:
# libFuzzer gets -fno-sanitize=fuzzer-no-link for them, AFL++ gets the list
# as AFL_LLVM_DENYLIST.  SANITIZER=coverage instruments everything, so the
# source coverage report covers the simulator too.
#
# Run from the source tree (OSS-Fuzz's WORKDIR) or with the tree at
# $SRC/spterace.  A copy of this script outside the tree (OSS-Fuzz's
# projects/spterace/build.sh) runs the tree's own version, so the two never
# drift apart.
set -eu

die() { echo "build.sh: $*" >&2; exit 1; }

if [ -f "$PWD/fuzz/program.h" ]; then
	ROOT=$PWD
elif [ -n "${SRC:-}" ] && [ -f "$SRC/spterace/fuzz/program.h" ]; then
	ROOT=$SRC/spterace
else
	die "cannot find the spterace tree (run from it, or put it at \$SRC/spterace)"
fi
ROOT=$(cd "$ROOT" && pwd -P)

self=$(readlink -f "$0")
if [ "$self" != "$ROOT/tools/oss-fuzz/build.sh" ] && [ -f "$ROOT/tools/oss-fuzz/build.sh" ]; then
	exec bash "$ROOT/tools/oss-fuzz/build.sh" "$@"
fi

for v in CC CXX OUT WORK LIB_FUZZING_ENGINE; do
	[ -n "${!v:-}" ] || die "\$$v is not set (OSS-Fuzz's compile sets it)"
done
CFLAGS=${CFLAGS:-}
CXXFLAGS=${CXXFLAGS:-}
SANITIZER=${SANITIZER:-address}
FUZZING_ENGINE=${FUZZING_ENGINE:-libfuzzer}
command -v python3 >/dev/null || die "python3 is needed to write the seed corpus zips"

cd "$ROOT"
mkdir -p "$OUT" "$WORK"
obj=$WORK/spterace-$FUZZING_ENGINE-$SANITIZER
rm -rf "$obj"
mkdir -p "$obj"

# Files kept out of coverage feedback: the file entries of the AFL++
# denylist (its "fun:" entries are AFL++-only).
nocov=$(sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' fuzz/afl_denylist.txt |
	grep -v -e '^$' -e '^fun:' || true)
[ -n "$nocov" ] || die "fuzz/afl_denylist.txt lists no file"
case "$FUZZING_ENGINE" in
afl) export AFL_LLVM_DENYLIST=$ROOT/fuzz/afl_denylist.txt ;;
esac

# Extra flags of one source file under this engine and sanitizer.
file_flags() {
	local f=$1
	[ "$SANITIZER" = coverage ] && return 0
	[ "$FUZZING_ENGINE" = libfuzzer ] || return 0
	if printf '%s\n' "$nocov" | grep -qxF -- "$f"; then
		echo "-fno-sanitize=fuzzer-no-link"
	elif [[ "$f" == oracle/* ]]; then
		# The oracle compares values the model produced, not input bytes.
		echo "-fno-sanitize-coverage=trace-cmp"
	fi
}

for f in $nocov; do
	[ -f "$f" ] || die "fuzz/afl_denylist.txt names $f, which does not exist"
done

# Compile one source; the object's path is left in $compiled.
compiled=
compile() {
	local f=$1 extra
	compiled=$obj/$(echo "${f%.c}" | tr / _).o
	extra=$(file_flags "$f")
	echo "build.sh: $CC ${extra:+$extra }$f"
	# shellcheck disable=SC2086 # CFLAGS and extra are lists of words
	$CC $CFLAGS -std=gnu11 -I"$ROOT" $extra -c "$f" -o "$compiled" ||
		die "compiling $f failed"
}

libobjs=()
for f in sim/*.c mmu/*.c oracle/*.c fuzz/*.c; do
	case "$f" in
	*_test.c | *_main.c | *_fuzz.c) continue ;;
	esac
	compile "$f"
	libobjs+=("$compiled")
done

zip_inputs() {
	# $1 the zip, then directories: every file but the .txt sidecars, flat.
	python3 - "$@" <<'PY'
import os, sys, zipfile
out, dirs = sys.argv[1], sys.argv[2:]
names = set()
with zipfile.ZipFile(out + ".tmp", "w", zipfile.ZIP_DEFLATED) as z:
    for d in dirs:
        if not os.path.isdir(d):
            continue
        for n in sorted(os.listdir(d)):
            p = os.path.join(d, n)
            if n.endswith(".txt") or not os.path.isfile(p):
                continue
            if n in names:
                sys.exit("build.sh: two seeds named %s" % n)
            names.add(n)
            z.write(p, n)
if not names:
    sys.exit("build.sh: no seed inputs in " + " ".join(dirs))
os.replace(out + ".tmp", out)
PY
}

built=0
for h in fuzz/*_fuzz.c; do
	name=$(basename "$h" .c)
	target=${name%_fuzz}
	[ -d "corpus/$target" ] || die "no seed corpus corpus/$target/ for $h"
	[ -f "fuzz/$name.dict" ] || die "no dictionary fuzz/$name.dict for $h"
	[ -f "fuzz/$name.options" ] || die "no options fuzz/$name.options for $h"
	compile "$h"
	# shellcheck disable=SC2086 # flag lists
	# -ldl: fuzz/protocol.c's dlopen (a plugged protocol), in libc only
	# since glibc 2.34.
	$CXX $CXXFLAGS "$compiled" "${libobjs[@]}" $LIB_FUZZING_ENGINE -ldl -o "$OUT/$name" ||
		die "linking $name failed"
	cp "fuzz/$name.dict" "$OUT/$name.dict"
	cp "fuzz/$name.options" "$OUT/$name.options"
	zip_inputs "$OUT/${name}_seed_corpus.zip" "corpus/$target" "corpus/regressions/$target"
	echo "build.sh: $OUT/$name ($FUZZING_ENGINE, $SANITIZER)"
	built=$((built + 1))
done
[ "$built" -gt 0 ] || die "no harness fuzz/*_fuzz.c found"
