#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The warm start -stgssa_start_from ode on a stochastic fit (issue 18): the telegraph moments fit
# of input/telegraph_moments.opts (mean, variance, third moment of M at t = 1, 2, 5, 20; adam on
# the default stochastic route: growing sample size, averaging, stopping rule) from its poor start
# k_on = 1.5, k_off = 0.6, k_tx = 6 (truth 0.5, 2, 20), with and without the warm start, SEEDS
# seeds, interleaved (cold, warm, cold, warm, ...) so both see the same machine load. Prints per
# run: the iterations TAO took (the stopping rule or -tao_max_it), the first iteration whose loss
# is below THR, the wall seconds (including the fit of the means), the final loss and rates; then
# medians. Timing only, never pass/fail (the shared machine makes absolute seconds noisy).
# usage: tests/bench/bench_start_from_ode.sh [STGSSA_HPC]    (from the source root)
# environment: SEEDS="1 2 3" NTRAJ=1000 NTRAJ_MAX=8000 ITS=150 THR=0.05 DATA_NTRAJ=20000
set -u
exe=${1:-$(pwd)/build/stgssa_hpc}
[ -x "$exe" ] || { echo "bench_start_from_ode: build first: need $exe" >&2; exit 1; }
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/scripts/env.sh"
SEEDS=${SEEDS:-"1 2 3"} NTRAJ=${NTRAJ:-1000} NTRAJ_MAX=${NTRAJ_MAX:-8000} ITS=${ITS:-150} THR=${THR:-0.05} DATA_NTRAJ=${DATA_NTRAJ:-20000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
"$exe" -options_file "$root/input/telegraph_data.opts" -stgssa_model "$root/input/telegraph.model" -stgssa_ntraj "$DATA_NTRAJ" > data.log 2>&1 || { cat data.log; exit 1; }
grep -v -e '^-stgssa_adaptive_ntraj' -e '^-stgssa_average' -e '^-stgssa_output' -e '^-stgssa_model' "$root/input/telegraph_moments.opts" > fit.opts
for seed in $SEEDS; do
  for how in cold warm; do
    extra=""
    [ "$how" = warm ] && extra="-stgssa_start_from ode"
    t0=$(date +%s.%N)
    "$exe" -options_file fit.opts -stgssa_model "$root/input/telegraph.model" -stgssa_seed "$seed" -stgssa_ntraj "$NTRAJ" -stgssa_ntraj_max "$NTRAJ_MAX" -tao_max_it "$ITS" $extra -stgssa_output "${how}_$seed.h5" > "${how}_$seed.log" 2>&1 || { tail -5 "${how}_$seed.log"; exit 1; }
    t1=$(date +%s.%N)
    echo "$how $seed $t0 $t1" >> runs.txt
  done
done
/usr/bin/python3 - "$THR" <<'PY'
import h5py, numpy as np, sys
thr = float(sys.argv[1])
rows = {'cold': [], 'warm': []}
print('%-5s %5s %6s %10s %9s %11s  %s' % ('start', 'seed', 'iters', 'iters<thr', 'wall s', 'final loss', 'k_on k_off k_tx'))
for line in open('runs.txt'):
    how, seed, t0, t1 = line.split()
    f = h5py.File('%s_%s.h5' % (how, seed), 'r')
    loss = f['history/loss'][:]
    below = np.nonzero(loss < thr)[0]
    first = int(below[0]) if below.size else -1
    rates = f['result/parameters'][:]
    w = float(t1) - float(t0)
    rows[how].append((len(loss) - 1, first if first >= 0 else np.nan, w, float(f['result'].attrs['loss'])))
    print('%-5s %5s %6d %10s %9.1f %11.4g  %s' % (how, seed, len(loss) - 1, first if first >= 0 else 'never', w, float(f['result'].attrs['loss']), ' '.join('%.4g' % r for r in rates)))
print('medians (loss threshold %g; wall includes the fit of the means; shared machine: compare ratios):' % thr)
for how in ('cold', 'warm'):
    a = np.array(rows[how], dtype=float)
    print('  %-4s iterations %5.0f   iterations to loss < thr %5.0f   wall %7.1f s   final loss %.4g' % (how, np.median(a[:, 0]), np.nanmedian(a[:, 1]), np.median(a[:, 2]), np.median(a[:, 3])))
c, w = np.array(rows['cold'], dtype=float), np.array(rows['warm'], dtype=float)
print('  warm/cold: iterations %.2f, iterations to threshold %.2f, wall %.2f' % (np.median(w[:, 0]) / np.median(c[:, 0]), np.nanmedian(w[:, 1]) / np.nanmedian(c[:, 1]), np.median(w[:, 2]) / np.median(c[:, 2])))
PY
