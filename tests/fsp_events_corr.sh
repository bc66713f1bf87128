#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# FSP side of issue 18, against closed forms and central differences (each run < 5 s):
#  (1) dividing cell: birth at rate k, `every T: divide` (binomial halving), from M = 0. After n
#      divisions the mean at phase s in (0, T) is exactly k T (1 - 2^-n) + k s (each division halves
#      the mean, births add k per unit time); at t = 20.25, 20.5, 20.75 (T = 1, k = 10) the FSP mean
#      matches to 1e-6 (projection truncation < 1e-12 with the automatic bounds, integrator rtol
#      1e-12), and d mean/d log k = mean exactly (the mean is linear in k).
#  (2) sensitivities through events vs central differences of the FSP itself (telegraph-like
#      gene with every 0.7 divide M, M += 3, M -= 2, scale M 0.8; h = 1e-4 in log k): the quotient
#      errs by ~h^2 |d3/dtheta3| plus solver error / h (1e-12/1e-4), so max error 1e-5 of the
#      largest entry (1e-8 absolute where the marginal does not depend on the parameter).
#  (2b) the same for a fitted keep fraction F of `scale M F` (d/dlog F is 0 before the event at
#      1.3: a sample at an event time sees the state before it).
#  (3) birth-death (birth k = 10, death g = 1) from its stationary Poisson law
#      (-stgssa_initial steady): Cov(M(t), M(t+tau)) = (k/g) e^{-g tau} exactly; FSP to 1e-8
#      (bound M = 100: truncation < 1e-40; rtol 1e-12); derivatives by log k: (k/g) e^{-g tau},
#      by log g: -(k/g) e^{-g tau} (1 + g tau), to 1e-6. NaN beyond the horizon (last sample).
#  (4) events refuse the steady state with one clear line.
# usage: fsp_events_corr.sh STGSSA_HPC
set -u
exe=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
cd "$work" || exit 1
check() { # NAME STATUS LOG
  if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1:"; sed 's/^/    /' "$3" | head -30; fail=$((fail + 1)); fi
}
cat > div.model <<'M'
begin parameters
  k 10
end parameters
begin species
  M 0
end species
begin reactions
  0 -> M  k
end reactions
begin events
  every 1: divide
end events
M
cat > gene.model <<'M'
begin parameters
  k_on 0.5
  k_off 2
  k_tx 20
  k_deg 1
end parameters
begin species
  G_off 1
  G_on 0
  M 0
end species
begin reactions
  G_off -> G_on  k_on
  G_on -> G_off  k_off
  G_on -> G_on + M  k_tx
  M -> 0  k_deg
end reactions
begin events
  every 0.7 from 0.3: divide M
  at 1.1: M += 3
  at 1.6: M -= 2
  at 1.3: scale M 0.8
end events
M
cat > bd.model <<'M'
begin parameters
  k 10
  g 1
end parameters
begin species
  M 0
end species
begin reactions
  0 -> M  k
  M -> 0  g
end reactions
M
"$exe" -stgssa_model div.model -stgssa_mode fsp -stgssa_tfinal 21 -stgssa_sample_times 20.25,20.5,20.75 -stgssa_fsp_tol 1e-12 -fsp_ts_rtol 1e-12 -stgssa_output div.h5 > div.log 2>&1
/usr/bin/python3 - >> div.log 2>&1 <<'PY'
import h5py, numpy as np
f = h5py.File('div.h5', 'r')
m = f['fsp/moments/M'][:, 0]; dm = f['fsp/moments_gradient/M'][:, 0, 0]
s = np.array([0.25, 0.5, 0.75]); ex = 10 * (1 - 2.0**-20) + 10 * s
print('mean', m, 'exact', ex, 'err', np.abs(m - ex).max(), 'dmean err', np.abs(dm - ex).max())
assert np.abs(m - ex).max() < 1e-6 and np.abs(dm - ex).max() < 1e-6
PY
check "dividing cell mean vs closed form" $? div.log
run_gene() { out=$1; shift; "$exe" -stgssa_model gene.model -stgssa_mode fsp -stgssa_sample_times 1,1.3,2.5 -stgssa_fsp_tol 1e-12 -fsp_ts_rtol 1e-12 -stgssa_fit k_on,k_tx -stgssa_output "$out" "$@" > /dev/null 2>>gene.log; }
: > gene.log
h=1e-4
run_gene g0.h5 && \
run_gene gpon.h5 -stgssa_parameters k_on=$(/usr/bin/python3 -c "import math;print(repr(0.5*math.exp($h)))") && \
run_gene gmon.h5 -stgssa_parameters k_on=$(/usr/bin/python3 -c "import math;print(repr(0.5*math.exp(-$h)))") && \
run_gene gptx.h5 -stgssa_parameters k_tx=$(/usr/bin/python3 -c "import math;print(repr(20*math.exp($h)))") && \
run_gene gmtx.h5 -stgssa_parameters k_tx=$(/usr/bin/python3 -c "import math;print(repr(20*math.exp(-$h)))")
st=$?
[ $st -eq 0 ] && /usr/bin/python3 - >> gene.log 2>&1 <<PY
import h5py, numpy as np
h = $h
g0 = h5py.File('g0.h5', 'r')
worst = 0
for q, (p, m) in enumerate([('gpon.h5', 'gmon.h5'), ('gptx.h5', 'gmtx.h5')]):
    P, M = h5py.File(p, 'r'), h5py.File(m, 'r')
    for sp in ('M', 'G_on'):
        fd = (P['fsp/distribution/' + sp][:] - M['fsp/distribution/' + sp][:]) / (2 * h)
        dp = g0['fsp/sensitivity/' + sp][:, :, q]
        n = min(fd.shape[1], dp.shape[1])
        for t in range(dp.shape[0]):
            e = np.abs(fd[t, :n] - dp[t, :n]).max() / max(np.abs(dp[t]).max(), 1e-3)  # G_on does not depend on k_tx: absolute 1e-8 there
            worst = max(worst, e)
print('sensitivity vs central differences: max relative error', worst)
assert worst < 1e-5
PY
check "sensitivities through divide/+=/-=/scale vs central differences" $? gene.log
# (2b) scale with a fitted keep fraction F: s_q' = K^T s_q + (dK/dF)^T p dF/dlog F, vs central differences
sed 's/  k_deg 1/  k_deg 1\
  F 0.8/; s/at 1.3: scale M 0.8/at 1.3: scale M F/' gene.model > geneF.model
: > geneF.log
for v in 0.8 $(/usr/bin/python3 -c "import math;print(repr(0.8*math.exp(1e-4)), repr(0.8*math.exp(-1e-4)))"); do
  "$exe" -stgssa_model geneF.model -stgssa_mode fsp -stgssa_sample_times 1,1.3,2.5 -stgssa_fsp_tol 1e-12 -fsp_ts_rtol 1e-12 -stgssa_fit F,k_tx -stgssa_parameters F=$v -stgssa_output "F_$v.h5" > /dev/null 2>> geneF.log || echo "run F=$v failed" >> geneF.log
done
/usr/bin/python3 - >> geneF.log 2>&1 <<'PY'
import h5py, numpy as np, glob
fs = sorted(glob.glob('F_*.h5')); assert len(fs) == 3
m, a, p = (h5py.File(x, 'r') for x in fs)
fd = (p['fsp/distribution/M'][:] - m['fsp/distribution/M'][:]) / 2e-4; dp = a['fsp/sensitivity/M'][:, :, 0]
n = min(fd.shape[1], dp.shape[1])
e = np.abs(fd[:, :n] - dp[:, :n]).max() / np.abs(dp[2]).max()
print('d/dlog F through scale vs central differences: relative error', e, 'max |dp| at t = 2.5', np.abs(dp[2]).max())
assert e < 1e-5 and np.abs(dp[:2]).max() == 0 and np.abs(dp[2]).max() > 1e-2
PY
check "sensitivity to a fitted scale fraction vs central differences" $? geneF.log
"$exe" -stgssa_model bd.model -stgssa_mode fsp -stgssa_initial steady -stgssa_fsp_max M=100 -fsp_ts_rtol 1e-12 -stgssa_sample_times 1,2,4 -stgssa_correlate M:M@0,0.5,1,2 -stgssa_output bd.h5 > bd.log 2>&1
/usr/bin/python3 - >> bd.log 2>&1 <<'PY'
import h5py, numpy as np
g = h5py.File('bd.h5', 'r')
c = g['fsp/correlation/M_M'][:]; lags = g['fsp/correlation/M_M'].attrs['lags']
d = g['fsp/correlation_sensitivity/M_M'][:]
ex = 10 * np.exp(-lags)
ok = np.isfinite(c)
assert ok[:2].all() and ok[2, 0] and not ok[2, 1:].any(), 'NaN exactly beyond the horizon t + tau > 4'
e0 = np.abs(c - ex)[ok].max(); ek = np.abs(d[..., 0] - ex)[ok].max(); eg = np.abs(d[..., 1] + ex * (1 + lags))[ok].max()
print('Cov err', e0, 'dlogk err', ek, 'dlogg err', eg)
assert e0 < 1e-8 and ek < 1e-6 and eg < 1e-6
PY
check "birth-death autocovariance and derivatives vs closed form" $? bd.log
"$exe" -stgssa_model div.model -stgssa_mode fsp -stgssa_fsp_steady -stgssa_output s.h5 > steady.log 2>&1
[ $? -ne 0 ] && grep -q "no steady state; give transient sample times" steady.log
check "events refuse the steady state" $? steady.log
exit $fail
