#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End-to-end exact likelihood fit (-stgssa_loss likelihood, the default with data; -stgssa_gradient
# fsp, -tao_type blmvm) of a telegraph time course (400 simulated cells at 4 times, fixed seed),
# checked against quantities computed here independently from `-stgssa_mode fsp` distributions:
#   1. gradient mode at a start point: the per-cell loss gradient equals central differences of
#      the per-cell loss (step 1e-4 in log-rates; FSP integrates to rtol 1e-10, so the difference
#      error is ~1e-6 relative; tolerance 1e-4 relative to max |gradient|);
#   2. /result/neg_log_likelihood equals -sum_t sum_x n_t(x) log p_t(x) recomputed from the FSP
#      distribution at the fitted rates and the data file's counts (relative 1e-9; the last bin
#      lumps the tail as the loss does);
#   3. /result/fisher equals sum_t n_t sum_x dp dp^T / p with dp from central differences of FSP
#      distributions (log-rate step 1e-4) at the fitted rates (relative 1e-4 of sqrt(F_ii F_jj));
#   4. stderr_log = sqrt(diag F^-1) and ci95 = exp(theta -/+ 1.96 se) (relative 1e-9), the
#      correlation is symmetric with unit diagonal, and /result/fit/M has times [4], histograms
#      [4 x B] that sum to 1, per-time -log L that add up to the total;
#   5. stdout has the result table and the per-time table; postprocess/fit_report.py draws a PNG.
# usage: likelihood_fit.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
m=$root/input/telegraph.model
fail() { echo "FAIL $1"; [ -n "${2:-}" ] && cat "$2"; echo "0 passed, 1 failed"; exit 1; }
common="-stgssa_model $m -stgssa_sample_times 0.5,1,2,4 -stgssa_tfinal 4 -stgssa_observe M"
"$exe" $common -stgssa_mode simulate -stgssa_ntraj 400 -stgssa_seed 7 -stgssa_output data.h5 > data.log 2>&1 || fail "data" data.log
fsp="-stgssa_gradient fsp -stgssa_fsp_max M=120 -stgssa_fit k_on,k_off,k_tx"

# 1. gradient against central differences of the loss, at a start point
start="k_on=0.7,k_off=1.5,k_tx=15"
"$exe" $common $fsp -stgssa_mode gradient -stgssa_data data.h5 -stgssa_parameters $start -stgssa_output g0.h5 > g0.log 2>&1 || fail "gradient mode" g0.log
grep -q "likelihood loss" g0.log || fail "gradient mode: the default loss with data is not the likelihood" g0.log
for p in k_on k_off k_tx; do
  for s in p m; do
    par=$($py -c "
import math
v = dict(a.split('=') for a in '$start'.split(','))
v['$p'] = repr(float(v['$p']) * math.exp(1e-4 if '$s' == 'p' else -1e-4))
print(','.join(k + '=' + v[k] for k in v))")
    "$exe" $common $fsp -stgssa_mode gradient -stgssa_data data.h5 -stgssa_parameters "$par" -stgssa_output "g_${p}_$s.h5" > "g_${p}_$s.log" 2>&1 || fail "gradient mode at $par" "g_${p}_$s.log"
  done
done

# the fit
timeout 300 "$exe" $common $fsp -stgssa_data data.h5 -stgssa_parameters $start -stgssa_bounds k_on=0.1:3,k_off=0.2:6,k_tx=5:35 \
  -tao_type blmvm -tao_max_it 100 -stgssa_output fit.h5 > fit.log 2>&1 || fail "fit" fit.log
for pat in "std. error (log)" "95% interval" "Fit of M at each data time" "-logL/cell" "exact (FSP probabilities and sensitivities)"; do
  grep -qF -- "$pat" fit.log || fail "stdout lacks '$pat'" fit.log
done

# FSP distributions at the fitted rates and at log-rate steps of +-1e-4
rates=$($py -c "
import h5py
f = h5py.File('fit.h5', 'r')
print(','.join('%s=%.17g' % (n.decode() if isinstance(n, bytes) else n, v) for n, v in zip(f['/result/parameters'].attrs['names'], f['/result/parameters'][()])))")
"$exe" $common -stgssa_mode fsp -stgssa_fsp_max M=120 -stgssa_parameters "$rates" -stgssa_output f0.h5 > f0.log 2>&1 || fail "fsp at $rates" f0.log
for p in k_on k_off k_tx; do
  for s in p m; do
    par=$($py -c "
import math
v = dict(a.split('=') for a in '$rates'.split(','))
v['$p'] = repr(float(v['$p']) * math.exp(1e-4 if '$s' == 'p' else -1e-4))
print(','.join(k + '=' + v[k] for k in v))")
    "$exe" $common -stgssa_mode fsp -stgssa_fsp_max M=120 -stgssa_parameters "$par" -stgssa_output "f_${p}_$s.h5" > "f_${p}_$s.log" 2>&1 || fail "fsp at $par" "f_${p}_$s.log"
  done
done

$py - <<'PY' > check.log 2>&1 || fail "checks" check.log
import h5py, numpy as np, sys
names = ['k_on', 'k_off', 'k_tx']
bad = []
def check(ok, what):
    print(('ok   ' if ok else 'FAIL ') + what)
    if not ok: bad.append(what)

# 1. gradient vs central differences of the per-cell loss
g0 = h5py.File('g0.h5', 'r')['/gradient']
grad = g0['gradient'][()]
fd = np.array([(h5py.File('g_%s_p.h5' % p, 'r')['/gradient/loss'][()] - h5py.File('g_%s_m.h5' % p, 'r')['/gradient/loss'][()]) / 2e-4 for p in names])
err = np.max(np.abs(fd - grad)) / np.max(np.abs(grad))
check(err < 1e-4, 'gradient of -log L per cell vs central differences: rel. error %.2e (grad %s, fd %s)' % (err, grad, fd))
nll0 = g0['neg_log_likelihood'][()]
check(abs(nll0 / h5py.File('g0.h5', 'r')['/gradient/neg_log_likelihood'].attrs['cells'] - g0['loss'][()]) < 1e-12 * nll0, 'gradient mode: loss = neg_log_likelihood / cells')

# data counts n_t(x) from the data file (probabilities times ntraj)
d = h5py.File('data.h5', 'r')
N = int(d['/run'].attrs['ntraj'])
counts = np.rint(d['/simulate/histograms/M'][()] * N)
T = counts.shape[0]
f = h5py.File('fit.h5', 'r')
r = f['/result']
fit = r['fit/M']
B = fit['data_histogram'].shape[1]
def binned(path):
    p = h5py.File(path, 'r')['/fsp/distribution/M'][()]
    out = np.zeros((p.shape[0], B))
    out[:, :B - 1] = p[:, :B - 1]
    out[:, B - 1] = p[:, B - 1:].sum(axis=1)   # the last bin lumps the tail
    return out
p0 = binned('f0.h5')
c = np.zeros((T, B)); c[:, :counts.shape[1]] = counts[:, :B]   # data counts never reach the last bin
check(counts.shape[1] < B, 'data counts inside the bins (%d < %d)' % (counts.shape[1], B))

# 2. -log L
nll = -np.sum(c[c > 0] * np.log(p0[c > 0]))
got = r['neg_log_likelihood'][()]
check(abs(got - nll) < 1e-9 * nll, '-log L %.10g vs recomputed %.10g' % (got, nll))
check(abs(np.sum(fit['neg_log_likelihood'][()]) - got) < 1e-9 * got, 'per-time -log L adds up to the total')

# 3. Fisher information from central differences of FSP distributions
dp = np.stack([(binned('f_%s_p.h5' % p) - binned('f_%s_m.h5' % p)) / 2e-4 for p in names], axis=-1)  # T x B x P
n_t = c.sum(axis=1)
F = np.zeros((3, 3))
for t in range(T):
    for x in range(B):
        if p0[t, x] > 1e-300:
            F += n_t[t] * np.outer(dp[t, x], dp[t, x]) / p0[t, x]
Fr = r['fisher'][()]
scale = np.sqrt(np.outer(np.diag(F), np.diag(F)))
err = np.max(np.abs(Fr - F) / scale)
check(err < 1e-4, 'Fisher information vs finite differences: rel. error %.2e\n%s\n%s' % (err, Fr, F))

# 4. standard errors, intervals, correlation, report shapes
theta = np.log(r['parameters'][()])
C = np.linalg.inv(Fr)
se = np.sqrt(np.diag(C))
check(np.allclose(r['stderr_log'][()], se, rtol=1e-9, atol=0), 'stderr_log = sqrt(diag F^-1): %s' % r['stderr_log'][()])
ci = r['ci95'][()]
check(ci.shape == (3, 2) and np.allclose(ci[:, 0], np.exp(theta - 1.96 * se), rtol=1e-9) and np.allclose(ci[:, 1], np.exp(theta + 1.96 * se), rtol=1e-9), 'ci95 = exp(theta -/+ 1.96 se)')
R = r['correlation'][()]
check(np.allclose(R, C / np.outer(se, se), rtol=0, atol=1e-9) and np.allclose(np.diag(R), 1), 'correlation = F^-1 scaled')
check(fit['times'].shape == (T,) and np.allclose(fit['times'][()], [0.5, 1, 2, 4]), 'report times')
for k in ['data_histogram', 'model_distribution']:
    check(fit[k].shape == (T, B) and np.allclose(fit[k][()].sum(axis=1), 1, atol=1e-9), k + ' [T x B] sums to 1')
for k in ['neg_log_likelihood', 'kl', 'data_mean', 'model_mean', 'data_fano', 'model_fano', 'cells']:
    check(fit[k].shape == (T,) and np.all(np.isfinite(fit[k][()])), k + ' [T] finite')
check(np.allclose(fit['cells'][()], n_t), 'cells per time')
check(np.allclose(fit['model_distribution'][()], p0 / p0.sum(axis=1, keepdims=True), rtol=0, atol=1e-9), 'model_distribution = FSP distribution')
sys.exit(1 if bad else 0)
PY
cat check.log
MPLBACKEND=Agg $py "$root/postprocess/fit_report.py" fit.h5 --png report.png > report.log 2>&1 || fail "fit_report.py" report.log
[ -s report.png ] && head -c 8 report.png | od -c | grep -q 'P   N   G' || fail "fit_report.py wrote no PNG" report.log
echo "ok   postprocess/fit_report.py --png"
echo "1 passed, 0 failed"
