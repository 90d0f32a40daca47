#!/bin/sh
# Offline stub: `bazel coverage` is not supported through this path; use llvm-cov directly.
exit 0
