#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Bias of the SSA estimate of -log L per cell (-stgssa_loss likelihood, one-hot bins, pseudo-count
# of half a trajectory per bin: p^_b = (n_b + 1/2)/(N + B/2)) against the exact FSP value, on
# birth-death data (k = 10, g = 1; 1000 cells at t = 0.5, 2 and 6, seed 3), for N = 400 and 3200
# trajectories and R = 12 seeds each. Predicted mean: the FSP value plus the exact bias
#   sum_t n_t sum_x q_t(x) (log p_t(x) - E[log((n + 1/2)/(N + B/2))]) / sum_t n_t,  n ~ Bin(N, p_t(x)),
# computed here from the FSP distribution; the delta method gives (B - 1)/(2N) for bins with
# N p >> 1 (printed beside it). Pass: |mean over seeds - predicted| <= 4 standard errors of the
# mean (sample SD / sqrt R; 4 SE: a false failure has probability ~1e-4 per N); the bias must
# also shrink with N (ratio of the measured biases between N = 400 and 3200 above 3; predicted ~8).
# usage: likelihood_ssa_bias.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail() { echo "FAIL $1"; [ -n "${2:-}" ] && cat "$2"; echo "0 passed, 1 failed"; exit 1; }
common="-stgssa_model $root/input/birth_death.model -stgssa_sample_times 0.5,2,6 -stgssa_tfinal 6 -stgssa_observe M"
"$exe" $common -stgssa_mode simulate -stgssa_ntraj 1000 -stgssa_seed 3 -stgssa_output data.h5 > data.log 2>&1 || fail "data" data.log
g="$common -stgssa_mode gradient -stgssa_data data.h5 -stgssa_loss likelihood -stgssa_fit k,g"
"$exe" $g -stgssa_gradient fsp -stgssa_fsp_max M=80 -stgssa_output fsp.h5 > fsp.log 2>&1 || fail "fsp" fsp.log
for n in 400 3200; do
  for s in 1 2 3 4 5 6 7 8 9 10 11 12; do
    "$exe" $g -stgssa_gradient score -stgssa_ntraj $n -stgssa_seed $((100 + s)) -stgssa_output "ssa_${n}_$s.h5" > "ssa_${n}_$s.log" 2>&1 || fail "ssa N=$n seed $s" "ssa_${n}_$s.log"
  done
done
$py - <<'PY' || fail "bias outside the prediction"
import glob, h5py, numpy as np, sys
from math import lgamma, log, exp
f = h5py.File('fsp.h5', 'r')['/gradient']
exact = f['loss'][()]
fit = f['fit/M']
p, q, cells = fit['model_distribution'][()], fit['data_histogram'][()], fit['cells'][()]
T, B = p.shape
def elog(N, px, a=0.5):
    # E[log((n + a)/(N + B a))], n ~ Binomial(N, px), summed exactly over the binomial's mass
    n = np.arange(N + 1)
    lc = np.array([lgamma(N + 1) - lgamma(k + 1) - lgamma(N - k + 1) for k in n])
    with np.errstate(divide='ignore'):
        lw = lc + n * np.log(px) + (N - n) * np.log1p(-px) if 0 < px < 1 else None
    if lw is None:
        return log((N * px + a) / (N + B * a))
    w = np.exp(lw - lw.max()); w /= w.sum()
    return float(np.sum(w * np.log((n + a) / (N + B * a))))
bad, meas = 0, {}
for N in (400, 3200):
    v = np.array([h5py.File(x, 'r')['/gradient/loss'][()] for x in sorted(glob.glob('ssa_%d_*.h5' % N))])
    bias = sum(cells[t] * q[t, x] * (log(p[t, x]) - elog(N, p[t, x])) for t in range(T) for x in range(B) if q[t, x] > 0) / cells.sum()
    se = v.std(ddof=1) / np.sqrt(len(v))
    d = v.mean() - exact
    meas[N] = d
    ok = abs(d - bias) <= 4 * se
    bad |= not ok
    print('%s N = %4d: SSA - FSP = %.5f +- %.5f (SE, %d seeds); predicted bias %.5f (exact binomial), delta method (B-1)/(2N) = %.5f'
          % ('ok  ' if ok else 'FAIL', N, d, se, len(v), bias, (B - 1) / (2 * N)))
ok = meas[400] > 3 * meas[3200] > 0
bad |= not ok
print('%s bias shrinks with N: %.5f at N = 400, %.5f at N = 3200 (ratio %.1f)' % ('ok  ' if ok else 'FAIL', meas[400], meas[3200], meas[400] / meas[3200]))
print('     exact -log L per cell (FSP) %.6f, B = %d bins' % (exact, B))
sys.exit(1 if bad else 0)
PY
echo "1 passed, 0 failed"
