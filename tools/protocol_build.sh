#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/protocol_build.sh FILE.c OUT.so [NAME]
#
# Compiles a developer's kernel-style split-spte protocol (docs/your-protocol.md)
# into the shared object the harnesses and the CLI load (SPTERACE_PROTOCOL):
# FILE.c with spterace/kernel.h forced in, under clang-14's thread-sanitizer
# instrumentation (no TSan run-time: mmu/plug.c defines the callbacks), plus
# a table naming its five functions.  NAME is how FILE.c is shown in errors
# (default: FILE.c as given).
#
# On failure prints one line and exits 2:
#   spterace: NAME: does not compile: <first error>
#   spterace: NAME: missing __get_spte_lockless[, ...]
#   spterace: NAME: __set_spte has the wrong type (want: void __set_spte(u64 *sptep, u64 spte))
#   spterace: NAME: uses SYMBOL, which spterace/kernel.h does not provide
set -u

src=${1:-}
out=${2:-}
name=${3:-$src}
[ -n "$src" ] && [ -n "$out" ] || { echo "usage: $0 FILE.c OUT.so [NAME]" >&2; exit 2; }
fail() { echo "spterace: $name: $*" >&2; exit 2; }
[ -f "$src" ] || fail "no such file"
CC=${CC_PROTOCOL:-clang-14}
command -v "$CC" >/dev/null || fail "$CC is missing (apt-get install clang-14)"
root=$(cd "$(dirname "$0")/.." && pwd)
inc=$root/include
[ -f "$inc/spterace/kernel.h" ] || fail "spterace/kernel.h not found under $inc"

abs=$(readlink -f -- "$src")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$(dirname "$out")" || fail "cannot create $(dirname "$out")"

# The functions, their kernel signatures, in table order (one per line of
# the table, so an error's line names the function).
fns=(__set_spte __update_clear_spte_fast __update_clear_spte_slow __get_spte_lockless count_spte_clear)
members=(set_spte update_clear_spte_fast update_clear_spte_slow get_spte_lockless count_spte_clear)
sigs=("void __set_spte(u64 *sptep, u64 spte)"
	"void __update_clear_spte_fast(u64 *sptep, u64 spte)"
	"u64 __update_clear_spte_slow(u64 *sptep, u64 spte)"
	"u64 __get_spte_lockless(u64 *sptep)"
	"void count_spte_clear(u64 *sptep, u64 spte)")
{
	printf '#include "%s"\n' "$abs"
	printf '#line 1 "spterace-protocol-table"\n'
	printf 'const struct spterace_protocol spterace_protocol = {\n'
	printf '\t.abi = SPTERACE_PROTOCOL_ABI, .name = "%s",\n' "$(basename "$src")"
	for i in "${!fns[@]}"; do
		printf '\t.%s = %s,\n' "${members[$i]}" "${fns[$i]}"
	done
	printf '};\n'
} >"$work/table.c"

# -O2 as a kernel build.  Read-before-write: TSan would otherwise skip the
# load of `count++` (it reports the store only), and the load must be a step.
"$CC" -std=gnu11 -O2 -g -fPIC -shared -fno-omit-frame-pointer \
	-fsanitize=thread -mllvm -tsan-instrument-read-before-write=1 \
	-I"$inc" -include spterace/kernel.h \
	-Wall -Wno-unused-function -Werror=incompatible-function-pointer-types \
	-Werror=incompatible-pointer-types -Werror=implicit-function-declaration \
	-Werror=int-conversion -fno-caret-diagnostics \
	-o "$work/protocol.so" "$work/table.c" 2>"$work/cc.log"
rc=$?
if [ $rc -ne 0 ]; then
	first=$(grep -m1 -E ': (fatal )?error: ' "$work/cc.log")
	[ -n "$first" ] || first=$(grep -m1 . "$work/cc.log")
	case "$first" in
	spterace-protocol-table:*)
		missing=$(grep -E "^spterace-protocol-table:.*undeclared identifier" "$work/cc.log" |
			sed -E "s/.*identifier '([^']*)'.*/\1/" | paste -sd, | sed 's/,/, /g')
		[ -n "$missing" ] && fail "missing $missing"
		line=$(echo "$first" | cut -d: -f2)
		i=$((line - 3))
		if [ "$i" -ge 0 ] && [ "$i" -lt ${#fns[@]} ]; then
			fail "${fns[$i]} has the wrong type (want: ${sigs[$i]})"
		fi
		fail "does not compile: ${first#spterace-protocol-table:}" ;;
	"$abs":*) fail "does not compile: ${first#"$abs":}" ;;
	*) fail "does not compile: $first" ;;
	esac
fi
# Symbols the object needs that neither the shim nor libc provides.
nm_tool=$(command -v llvm-nm-14 || command -v nm)
if [ -n "$nm_tool" ]; then
	bad=$("$nm_tool" -D --undefined-only "$work/protocol.so" 2>/dev/null | awk '$1 == "U" {print $2}' |
		sed 's/@.*//' | grep -vE '^(spterace_|shadow_[a-z_]*mask$|memcpy$|memset$|memmove$|__stack_chk_fail$|abort$)' |
		grep -vE '^__tsan_(read|write|unaligned_read|unaligned_write)(1|2|4|8|16)$|^__tsan_(func_entry|func_exit|init|read_range|write_range|vptr_update|vptr_read|ignore_thread_begin|ignore_thread_end)$' |
		head -1)
	case "$bad" in
	"") ;;
	__tsan_atomic*) fail "uses an __atomic builtin ($bad), which is not modelled: use READ_ONCE, WRITE_ONCE, xchg or cmpxchg64" ;;
	*) fail "uses $bad, which spterace/kernel.h does not provide" ;;
	esac
fi
mv "$work/protocol.so" "$out" || fail "cannot write $out"
