# SPDX-License-Identifier: GPL-2.0-only
#
# What the shell tests of tools/ share, sourced at their top (Bazel puts it
# next to them in the runfiles: each sh_test lists it in data):
#   tmp       a scratch directory, absolute: Bazel's TEST_TMPDIR or a new one
#   ok NAME   count a passed check and print it
#   bad NAME  count a failed check and print it
# The counts are in passed and failed.
tmp=${TEST_TMPDIR:-$(mktemp -d)}
mkdir -p "$tmp"
tmp=$(readlink -f "$tmp")
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
