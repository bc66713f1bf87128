#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The optimizer's own overhead per iteration at P = 10, 10^3, 10^4 fitted log-rates (issue 17),
# without a simulation: bench_largep_opt (tests/bench/bench_largep_opt.c) runs StgssaOptimizer on an
# analytic quadratic with TAO blmvm (a bound on every name, -stgssa_crn) and adam (the schedule of
# the stochastic route), a checkpoint every 10 iterations and the final write; prints seconds of
# set-up, microseconds per iteration outside the objective and the ratio to P = 10 (median of 3,
# interleaved over P). Timing only, never pass/fail; the machine may be shared.
# usage: tests/bench/bench_largep_opt.sh [BUILD_DIR]   (from the source root; BUILD_DIR = build)
# environment: PS="10,1000,10000" ITS=40 CKPT=10 REPEAT=3 EVERY=1 (-stgssa_history_every)
set -u
build=${1:-build}
exe=$(pwd)/$build/tests/bench_largep_opt
[ -x "$exe" ] || { echo "bench_largep_opt: build first (ninja -C $build)" >&2; exit 1; }
. "$(dirname "$0")/../../scripts/env.sh"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$exe" -bench_P "${PS:-10,1000,10000}" -bench_its "${ITS:-40}" -bench_ckpt "${CKPT:-10}" -bench_repeat "${REPEAT:-3}" \
  -bench_every "${EVERY:-1}" -bench_out "$dir" | grep -v -e '^iteration ' -e '^optimizer: ' -e '^Iteration ' -e '^Note: '
ls -l "$dir" | awk 'NR > 1 {print "output", $9, $5, "bytes"}'
