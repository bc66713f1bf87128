#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Install, build, and run the whole test suite: first under AddressSanitizer + UndefinedBehavior-
# Sanitizer (build-asan/, -O2 -g: the sanitizers check optimized code, 2x faster than -O0; without the
# scaled-down studies; statistical sample sizes scaled down), then
# the release build (build/), verbose. The last line counts the
# tests of both runs: "N passed, M failed".
set -u
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/install-deps.sh || exit 1
status=0
{ [ -f build-asan/build.ninja ] || meson setup build-asan --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false; } &&
  ninja -C build-asan || exit 1
# the scaled-down studies (suite studies) are end-to-end science checks, and PETSc's -malloc_debug
# run (suite malloc) a second memory checker: release build only
# (a pipeline's status is tee's, so meson's own status goes through a file)
asan=$(mktemp) rel=$(mktemp) st=$(mktemp)
trap 'rm -f "$asan" "$rel" "$st"' EXIT
# STGSSA_TEST_SCALE=0.25: the statistical tests draw a quarter of their trajectories (at least 1000)
# and fsp_mpi runs 1 rank and 2 ranks distributed (tests/test_scale.h, tests/test_fsp_mpi.sh): the
# same code under the sanitizers, at a quarter of the cost; the release run keeps the full sizes
{ STGSSA_TEST_SCALE=0.25 meson test -C build-asan --print-errorlogs --num-processes 2 --no-suite studies --no-suite malloc 2>&1; echo $? > "$st"; } | tee "$asan"
[ "$(cat "$st")" = 0 ] || status=1
{ [ -f build/build.ninja ] || meson setup build --buildtype=release; } && ninja -C build || exit 1
{ meson test -C build -v --num-processes 2 2>&1; echo $? > "$st"; } | tee "$rel"
[ "$(cat "$st")" = 0 ] || status=1
# meson prints one line per test: " 3/14 stgssa_hpc:unit / parse   OK   0.9s"; a failed test's line
# comes again in the summary, so each run counts distinct "N/M name" lines
count() { # LOG REGEX
  grep -E "^ *[0-9]+/[0-9]+ .* ($2) " "$1" | sed -E 's/^ *([0-9]+\/[0-9]+ +[^ ]+ +\/ +[^ ]+).*/\1/' | sort -u | wc -l
}
passed=$(($(count "$asan" 'OK|EXPECTEDFAIL') + $(count "$rel" 'OK|EXPECTEDFAIL')))
failed=$(($(count "$asan" 'FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS') + $(count "$rel" 'FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS')))
[ "$failed" -eq 0 ] || status=1
[ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "$passed passed, $failed failed"
exit $status
