#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Profile-likelihood intervals on the exact route (-stgssa_profile), birth-death M(t) ~ Poisson(k/g (1 - e^{-g t})):
#   1. transient time course (2000 simulated cells at 4 times, fixed seed), k and g fitted: the
#      profile intervals equal an independent profile computed here from the Poisson likelihood
#      (scipy: inner minimization over log g or log k, brentq for the crossing of min + 1.92) to
#      0.003 in log-rate (-stgssa_profile_tol 0.001 plus the inner fits' and the MLE's error), and the
#      Fisher intervals to 10% of their half-width (8000 cells: -log L is nearly quadratic in the
#      log-rates; measured 0.2-0.6%, the O(se^2) skewness of a Poisson likelihood);
#      /result/profile/<name> holds the points, sorted, at or above the minimum; without
#      -stgssa_profile the result is bitwise the same and has no profile datasets;
#   2. stationary data (-stgssa_initial steady), k and g fitted: only k/g is identified; the Fisher
#      interval of k is [0, inf] and the profile interval of k (profiled alone) is unbounded on at
#      least one side (here both: -log L is flat along k/g = const, which the profile path follows
#      to 1e-3), g's row is NaN (not profiled); 2 ranks give the same profile (to 1e-9 relative:
#      the exact route's own results differ by ~1e-14 between rank counts);
#   3. the SSA route and unknown names are refused with one clear line.
# usage: profile_likelihood.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
m=$root/input/birth_death.model
fail() { echo "FAIL $1"; [ -n "${2:-}" ] && cat "$2"; echo "0 passed, 1 failed"; exit 1; }

tc="-stgssa_model $m -stgssa_sample_times 0.5,1,2,4 -stgssa_tfinal 4 -stgssa_observe M"
"$exe" $tc -stgssa_mode simulate -stgssa_ntraj 2000 -stgssa_seed 11 -stgssa_output data.h5 > data.log 2>&1 || fail "data" data.log
fit="$tc -stgssa_data data.h5 -stgssa_fit k,g -stgssa_parameters k=6,g=0.6 -stgssa_fsp_max M=80"
timeout 120 "$exe" $fit -stgssa_profile -stgssa_profile_tol 0.001 -stgssa_output prof.h5 > prof.log 2>&1 || fail "profile fit" prof.log
grep -qF "Profile-likelihood 95% intervals" prof.log || fail "stdout lacks the profile table" prof.log
timeout 120 "$exe" $fit -stgssa_output plain.h5 > plain.log 2>&1 || fail "fit without -stgssa_profile" plain.log
grep -qF "Profile-likelihood" plain.log && fail "a profile table without -stgssa_profile" plain.log

st="-stgssa_model $m -stgssa_observe M"
"$exe" $st -stgssa_sample_times 20 -stgssa_tfinal 20 -stgssa_mode simulate -stgssa_ntraj 1000 -stgssa_seed 5 -stgssa_output stat.h5 > stat.log 2>&1 || fail "stationary data" stat.log
timeout 120 "$exe" $st -stgssa_initial steady -stgssa_data stat.h5 -stgssa_fit k,g -stgssa_parameters k=6,g=0.8 -stgssa_fsp_max M=80 -stgssa_profile k -stgssa_profile_range 20 -stgssa_output sprof.h5 > sprof.log 2>&1 || fail "stationary profile fit" sprof.log
grep -qF "not identifiable separately" sprof.log || fail "stdout does not say k and g are not identifiable separately" sprof.log
grep -qF "k lower end: unbounded" sprof.log || fail "stdout does not name the unbounded side" sprof.log
timeout 120 mpirun -n 2 --oversubscribe "$exe" $st -stgssa_initial steady -stgssa_data stat.h5 -stgssa_fit k,g -stgssa_parameters k=6,g=0.8 -stgssa_fsp_max M=80 -stgssa_profile k -stgssa_profile_range 20 -stgssa_output sprof2.h5 > sprof2.log 2>&1 || fail "stationary profile fit on 2 ranks" sprof2.log

# 3. refusals: one clear line each
if "$exe" $fit -stgssa_gradient score -stgssa_ntraj 100 -stgssa_profile -stgssa_output x.h5 > ssa.log 2>&1; then fail "-stgssa_profile on the SSA route ran" ssa.log; fi
grep -qF -- "-stgssa_profile needs the exact route" ssa.log || fail "no clear refusal on the SSA route" ssa.log
if "$exe" $fit -stgssa_profile k,kk -stgssa_output x.h5 > name.log 2>&1; then fail "-stgssa_profile k,kk ran" name.log; fi
grep -qF -- "-stgssa_profile: 'kk' is not a fitted parameter" name.log || fail "no clear error for an unknown name" name.log

$py - <<'PY' > check.log 2>&1 || fail "checks" check.log
import h5py, numpy as np, sys
from scipy.optimize import minimize_scalar, minimize, brentq
from scipy.stats import poisson
bad = []
def check(ok, what):
    print(('ok   ' if ok else 'FAIL ') + what)
    if not ok: bad.append(what)
HALF = 1.959963984540054 ** 2 / 2

# 1. independent profile from the Poisson likelihood of the data counts
d = h5py.File('data.h5', 'r')
N = int(d['/run'].attrs['ntraj'])
counts = np.rint(d['/simulate/histograms/M'][()] * N)
times = np.array([0.5, 1, 2, 4])
x = np.arange(counts.shape[1])
def nll(lk, lg):
    k, g = np.exp(lk), np.exp(lg)
    lam = k / g * (1 - np.exp(-g * times))
    return -np.sum(counts * poisson.logpmf(x[None, :], lam[:, None]))
opt = minimize(lambda v: nll(*v), [np.log(10), 0.0], method='Nelder-Mead', options={'xatol': 1e-10, 'fatol': 1e-10, 'maxiter': 4000})
lmin = opt.fun
f = h5py.File('prof.h5', 'r'); r = f['/result']
th = np.log(r['parameters'][()])
check(abs(r['neg_log_likelihood'][()] - lmin) < 1e-4, '-log L at the fit %.8f vs independent minimum %.8f' % (r['neg_log_likelihood'][()], lmin))
def profile(i, t):
    other = lambda u: nll(t, u) if i == 0 else nll(u, t)
    c = opt.x[1 - i]
    return minimize_scalar(other, bracket=(c - 0.5, c + 0.5), tol=1e-12).fun
pci = r['profile_ci95'][()]
fci = r['ci95'][()]
se = r['stderr_log'][()]
check(pci.shape == (2, 2) and np.all(np.isfinite(pci)), 'profile_ci95 [2 x 2] finite: %s' % pci)
for i, name in enumerate(['k', 'g']):
    g_ = lambda t: profile(i, t) - lmin - HALF
    lo = brentq(g_, opt.x[i] - 1.0, opt.x[i], xtol=1e-10)
    hi = brentq(g_, opt.x[i], opt.x[i] + 1.0, xtol=1e-10)
    err = max(abs(np.log(pci[i, 0]) - lo), abs(np.log(pci[i, 1]) - hi))
    check(err < 3e-3, '%s: profile interval [%.6g, %.6g] vs independent [%.6g, %.6g]: %.2e in log-rate' % (name, pci[i, 0], pci[i, 1], np.exp(lo), np.exp(hi), err))
    hw = 1.96 * se[i]
    dev = max(abs(np.log(pci[i, 0]) - np.log(fci[i, 0])), abs(np.log(pci[i, 1]) - np.log(fci[i, 1]))) / hw
    check(dev < 0.1, '%s: profile vs Fisher interval [%.6g, %.6g]: %.2f%% of the half-width %.4f' % (name, fci[i, 0], fci[i, 1], 100 * dev, hw))
    pts = r['profile/' + name][()]
    check(pts.ndim == 2 and pts.shape[1] == 2 and np.all(np.diff(pts[:, 0]) > 0), '%s: profile points [n x 2] sorted (%d)' % (name, pts.shape[0]))
    check(np.all(pts[:, 1] >= r['neg_log_likelihood'][()] - 1e-6) and np.any(pts[:, 1] == r['neg_log_likelihood'][()]), '%s: points at or above the minimum, which is among them' % name)
    rel = np.max(np.abs([pts[j, 1] - profile(i, pts[j, 0]) for j in range(pts.shape[0])]))
    check(rel < 1e-3, '%s: -log L of the points vs the independent profile: %.2e' % (name, rel))
    check(r['profile_log_rates/' + name].shape == (pts.shape[0], 2), '%s: profile_log_rates [n x P]' % name)
p = h5py.File('plain.h5', 'r')['/result']
same = all(np.array_equal(p[n][()], r[n][()]) for n in ['parameters', 'neg_log_likelihood', 'fisher', 'stderr_log', 'ci95', 'fit/M/model_distribution'])
check(same and 'profile_ci95' not in p and 'profile' not in p, 'without -stgssa_profile: the same result bitwise, no profile datasets')
h0 = h5py.File('plain.h5', 'r')['/history/loss'][()]; h1 = f['/history/loss'][()]
check(np.array_equal(h0, h1), 'the same fit history')

# 2. stationary data: only k/g identified
s = h5py.File('sprof.h5', 'r')['/result']
sci, fs = s['profile_ci95'][()], s['ci95'][()]
check(np.isinf(s['stderr_log'][0]) and fs[0, 0] == 0 and np.isinf(fs[0, 1]), 'Fisher: k not identifiable, interval [0, inf]: %s' % fs[0])
check(sci[0, 0] == 0 or np.isinf(sci[0, 1]), 'profile interval of k unbounded on at least one side: %s' % sci[0])
check(np.all(np.isnan(sci[1])), 'g not profiled: NaN row')
lr = s['profile_log_rates/k'][()]
pts = s['profile/k'][()]
th = np.log(s['parameters'][()])
check(np.max(np.abs((lr[:, 0] - lr[:, 1]) - (th[0] - th[1]))) < 1e-3, 'the profile path keeps k/g (max deviation of log k/g %.1e)' % np.max(np.abs((lr[:, 0] - lr[:, 1]) - (th[0] - th[1]))))
check(np.max(pts[:, 1]) - s['neg_log_likelihood'][()] < 1e-3 and np.ptp(pts[:, 0]) > 2 * np.log(20) - 1e-9, 'flat profile over k/20 .. 20k (rise %.1e)' % (np.max(pts[:, 1]) - s['neg_log_likelihood'][()]))
s2 = h5py.File('sprof2.h5', 'r')['/result']
check(np.array_equal(np.isnan(s2['profile_ci95'][()]), np.isnan(sci)) and np.array_equal(s2['profile_ci95'][0], sci[0]) and s2['profile/k'].shape == pts.shape and np.allclose(s2['profile/k'][()], pts, rtol=1e-9, atol=0),
      '2 ranks: the same profile (to 1e-9: the exact route itself differs by ~1e-14 between rank counts)')
sys.exit(1 if bad else 0)
PY
cat check.log
echo "1 passed, 0 failed"
