#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Time correlations (-stgssa_correlate, issue 18) on the stationary birth-death process (birth k,
# death g; Poisson(k/g) start by the default burn-in), where exactly
#   Cov(M(t), M(t+tau)) = (k/g) e^{-g tau},  d/dlog k = (k/g) e^{-g tau},  d/dlog g = -(k/g) e^{-g tau} (1 + g tau).
# Checks: option errors (one line naming the option and what was expected); simulate mode within
# 4 batch SE of the closed form at every lag, NaN where t + tau > tfinal; the score and fd
# estimators' covariance derivatives within 4 SE (4 SE: a false alarm in ~1e-4 per value, fixed
# seeds make the run deterministic); ST-GS: the product rule is wired (its tau = 0 derivative is the
# variance derivative of /gradient/moments_gradient to 1e-9), its bias is measured, not tested
# (DESIGN.md §2: ST-GS is biased on states at fixed times); 1 vs 2 ranks bitwise identical.
# usage: correlation.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
. "$root/scripts/env.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail=0
M="$root/input/birth_death.model"
B="-stgssa_model $M -stgssa_initial steady -stgssa_tfinal 3 -stgssa_sample_times 1 -stgssa_seed 11"

# option errors: nonzero exit and the expected words in the one error line
err() { # expected-text option-value
  out=$(timeout 60 "$exe" $B -stgssa_mode simulate -stgssa_ntraj 10 -stgssa_correlate "$2" -stgssa_output e.h5 2>&1) && { echo "FAIL accepted -stgssa_correlate '$2'"; fail=1; return; }
  echo "$out" | grep -q -- "$1" || { echo "FAIL -stgssa_correlate '$2': expected '$1' in: $out"; fail=1; }
}
err "negative lag -1" "M:M@0,-1"
err "unknown species or group 'X'" "X:M@0,1"
err "step 0" "M:M@0:0:1"
err "listed twice" "M:M@1,0,1"
err "comes before any A:B@" "0,1"
err "not a finite number" "M:M@a"
err "pair M:M given twice" "M:M@0;M@1"

timeout 120 "$exe" $B -stgssa_mode simulate -stgssa_ntraj 20000 -stgssa_correlate 'M:M@0,0.5,1,2' -stgssa_output s.h5 > s.log 2>&1 || { echo "FAIL simulate:"; cat s.log; exit 1; }
for est in score fd stgs; do
  timeout 300 "$exe" $B -stgssa_mode gradient -stgssa_gradient $est -stgssa_fit k,g -stgssa_ntraj 20000 -stgssa_correlate 'M:M@0,0.5,1,2' -stgssa_output g_$est.h5 > g.log 2>&1 || { echo "FAIL gradient $est:"; cat g.log; exit 1; }
done
for n in 1 2; do
  timeout 300 mpirun --oversubscribe -n $n "$exe" $B -stgssa_mode gradient -stgssa_gradient score -stgssa_fit k,g -stgssa_ntraj 2001 -stgssa_correlate 'M:M@0:0.5:1' -stgssa_output r$n.h5 > r.log 2>&1 || { echo "FAIL mpirun -n $n:"; cat r.log; exit 1; }
done
$PYTHON - <<'PY' || fail=1
import h5py, numpy as np, sys
k, g = 10.0, 1.0
bad = 0
def check(what, est, exact, se):
    global bad
    z = (est - exact) / se
    ok = np.all(np.abs(z) < 4) and np.all(se > 0)
    print("%-28s est %s exact %s z %s %s" % (what, np.round(est, 3), np.round(exact, 3), np.round(z, 2), "ok" if ok else "FAIL"))
    bad |= not ok
s = h5py.File("s.h5", "r")["simulate"]
c = s["correlation/M_M"]; lags = c.attrs["lags"]; t = s["times"][()]
if not np.allclose(t, [1, 1.5, 2, 3]) or not np.allclose(lags, [0, 0.5, 1, 2]):
    print("FAIL times %s lags %s: expected 1,1.5,2,3 and 0,0.5,1,2" % (t, lags)); bad = 1
C = k / g * np.exp(-g * lags)
check("simulate Cov(M(1),M(1+tau))", c[0], C, s["correlation_stderr/M_M"][0])
if not (np.isnan(c[3, 1:]).all() and np.isfinite(c[3, 0])):
    print("FAIL expected NaN where t + tau > tfinal: %s" % c[3]); bad = 1
for est in ("score", "fd"):
    G = h5py.File("g_%s.h5" % est, "r")["gradient"]
    check("%s Cov" % est, G["correlation/M_M"][0], C, G["correlation_stderr/M_M"][0])
    d = G["correlation_gradient/M_M"][0]; dse = G["correlation_gradient_stderr/M_M"][0]
    check("%s dCov/dlog k" % est, d[:, 0], C, dse[:, 0])
    check("%s dCov/dlog g" % est, d[:, 1], -C * (1 + g * lags), dse[:, 1])
G = h5py.File("g_stgs.h5", "r")["gradient"]
N = 20000.0
dvar = G["moments_gradient/M"][0, 1]            # d Var M(1) (central moment, 1/N)
d0 = G["correlation_gradient/M_M"][0, 0] * (N - 1) / N  # tau = 0 product, unbiased covariance
if not np.allclose(d0, dvar, rtol=1e-9, atol=0):
    print("FAIL stgs tau=0 product-rule derivative %s vs variance derivative %s" % (d0, dvar)); bad = 1
d = G["correlation_gradient/M_M"][0]; dse = G["correlation_gradient_stderr/M_M"][0]
print("stgs (measured, not tested) dCov/dlog k %s exact %s; dlog g %s exact %s" % (np.round(d[:, 0], 3), np.round(C, 3), np.round(d[:, 1], 3), np.round(-C * (1 + g * lags), 3)))
a = h5py.File("r1.h5", "r")["gradient"]; b = h5py.File("r2.h5", "r")["gradient"]
for n in ("correlation", "correlation_stderr", "correlation_gradient", "correlation_gradient_stderr"):
    if not np.array_equal(a[n + "/M_M"][()], b[n + "/M_M"][()], equal_nan=True):
        print("FAIL %s/M_M differs between 1 and 2 ranks" % n); bad = 1
sys.exit(1 if bad else 0)
PY
[ $fail -eq 0 ] && echo "correlation: all checks passed"
exit $fail
