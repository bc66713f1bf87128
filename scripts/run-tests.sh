#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Install, build, and run the whole test suite: first under AddressSanitizer + UndefinedBehavior-
# Sanitizer (build-asan/; without the scaled-down studies), then the release build (build/), verbose. The last line counts the
# tests of both runs: "N passed, M failed".
set -u
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/install-deps.sh || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
{ [ -f build-asan/build.ninja ] || meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false; } &&
  ninja -C build-asan || exit 1
# the scaled-down studies (suite studies) are end-to-end science checks, and PETSc's -malloc_debug
# run (suite malloc) a second memory checker: release build only
meson test -C build-asan --print-errorlogs --num-processes 2 --no-suite studies --no-suite malloc 2>&1 | tee -a "$log" || status=1
{ [ -f build/build.ninja ] || meson setup build --buildtype=release; } && ninja -C build || exit 1
meson test -C build -v --num-processes 2 2>&1 | tee -a "$log" || status=1
# meson prints one line per test: " 3/14 stgssa_hpc:unit / parse   OK   0.9s"
passed=$(grep -cE '^ *[0-9]+/[0-9]+ .* (OK|EXPECTEDFAIL) ' "$log")
failed=$(grep -cE '^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS) ' "$log")
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "$passed passed, $failed failed"
exit $status
