#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Goal: docs/mutants.md is what `./spterace mutants --markdown` generates
# from the catalogue and the witnesses, so it never drifts from the code.
#
# Usage: mutants_doc_test.sh SPTERACE_BINARY DOC REGRESSION_FILE...
set -u
bin=$1
doc=$2
shift 2
tmp=${TEST_TMPDIR:-$(mktemp -d)}
if ! "$bin" mutants --markdown "$@" >"$tmp/mutants.md"; then
	echo "FAIL generating the catalogue"
	exit 1
fi
if ! diff -u "$doc" "$tmp/mutants.md"; then
	echo "FAIL docs/mutants.md is out of date: run ./spterace mutants --markdown"
	exit 1
fi
echo "ok   docs/mutants.md matches the catalogue"
