#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# ClusterFuzzLite build: the same script as OSS-Fuzz's (tools/oss-fuzz/build.sh).
set -eu
exec bash "$SRC/spterace/tools/oss-fuzz/build.sh" "$@"
