#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Per-cell traces (-stgssa_data_traces, issue 18), light checks: the shipped CSV is what the shipped
# generator writes; CSV errors name file:line (ragged times, unknown species column, non-numeric,
# missing columns); /data statistics equal numpy's across the cells (1e-12); the defaults pick the
# correlation loss, the auto-correlation and the score estimator and say so; the reduced chi-square
# at the true rates is O(1) (0.3..3: 185 terms, with ensemble noise); the loss gradient by the score
# estimator agrees with the fd (common random numbers) one within 4 combined SE (same seed: the same
# means, so the same dL/dmu; only the derivative estimators differ).
# usage: traces.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
. "$root/scripts/env.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail=0
$PYTHON "$root/input/make_telegraph_traces.py" --out gen.csv || { echo "FAIL generator"; exit 1; }
cmp -s gen.csv "$root/input/telegraph_traces.csv" || { echo "FAIL input/telegraph_traces.csv is not what input/make_telegraph_traces.py writes"; fail=1; }
T="$root/input/telegraph.model"
err() { # expected-text csv-content
  printf '%b' "$2" > bad.csv
  out=$(timeout 60 "$exe" -stgssa_model "$T" -stgssa_mode gradient -stgssa_data_traces bad.csv -stgssa_fit k_on -stgssa_ntraj 10 -stgssa_output e.h5 2>&1) && { echo "FAIL accepted: $2"; fail=1; return; }
  echo "$out" | grep -q -- "$1" || { echo "FAIL expected '$1' in: $out"; fail=1; }
}
err "bad.csv:3: ragged traces: cell '2'" 'cell,time,M\n1,0,0\n2,0,1\n1,1,3\n'
err "bad.csv:1: unknown species column 'X'" 'cell,time,X\n1,0,0\n'
err "bad.csv:3: column 'M': 'abc' is not a finite number" 'cell,time,M\n1,0,0\nx,0,abc\n'
err "bad.csv:1: header needs columns 'cell' and 'time'" 'time,M\n0,0\n'
err "bad.csv:3: 2 fields, expected 3" 'cell,time,M\n1,0,0\n1,1\n'
err "bad.csv:3: cell '1' has time 0" 'cell,time,M\n1,0,0\n1,0,2\n'
timeout 120 "$exe" -stgssa_model "$T" -stgssa_mode gradient -stgssa_data_traces "$root/input/telegraph_traces.csv" -stgssa_fit k_on,k_off,k_tx \
  -stgssa_ntraj 4000 -stgssa_seed 2 -stgssa_output g.h5 > g.log 2>&1 || { echo "FAIL gradient:"; cat g.log; exit 1; }
timeout 120 "$exe" -stgssa_model "$T" -stgssa_mode gradient -stgssa_data_traces "$root/input/telegraph_traces.csv" -stgssa_fit k_on,k_off,k_tx \
  -stgssa_ntraj 4000 -stgssa_seed 2 -stgssa_gradient fd -stgssa_output fd.h5 > fd.log 2>&1 || { echo "FAIL gradient fd:"; cat fd.log; exit 1; }
for w in "no -stgssa_correlate: auto-correlation of every column at lags 0..5" "gradient: score" "correlation loss (reduced chi-square"; do
  grep -q -- "$w" g.log || { echo "FAIL expected '$w' in the output:"; cat g.log; fail=1; }
done
$PYTHON - "$root/input/telegraph_traces.csv" <<'PY' || fail=1
import sys, h5py, numpy as np
d = np.genfromtxt(sys.argv[1], delimiter=",", skip_header=1, names=True)
cells = np.unique(d["cell"]); times = np.unique(d["time"])
X = np.zeros((len(cells), len(times)))
for r in d: X[np.searchsorted(cells, r["cell"]), np.searchsorted(times, r["time"])] = r["M"]
f = h5py.File("g.h5", "r"); g = f["data"]; bad = 0
n = len(cells)
ok = np.allclose(g["mean/M"][()], X.mean(0), rtol=1e-12, atol=0) and np.allclose(g["mean_stderr/M"][()], X.std(0, ddof=1) / np.sqrt(n), rtol=1e-12, atol=1e-15)
C = g["correlation/M_M"]; lags = C.attrs["lags"]; ct = g["correlation_times"][()]
for i, t in enumerate(ct):
    for l, tau in enumerate(lags):
        j = np.flatnonzero(np.isclose(times, t + tau)); a = np.flatnonzero(np.isclose(times, t))
        if len(j) == 0 or len(a) == 0:
            ok &= bool(np.isnan(C[i, l])); continue
        x, y = X[:, a[0]], X[:, j[0]]
        ok &= bool(np.isclose(C[i, l], np.cov(x, y, ddof=1)[0, 1], rtol=1e-12, atol=1e-12))
if not ok: print("FAIL /data statistics differ from numpy's"); bad = 1
L = float(f["gradient/loss"][()]); gr = f["gradient/gradient"][()]; se = f["gradient/gradient_stderr"][()]
print("loss at the truth %.4f; gradient %s stderr %s" % (L, np.round(gr, 3), np.round(se, 3)))
if not (0.3 < L < 3): print("FAIL reduced chi-square at the truth %g outside 0.3..3" % L); bad = 1
h = h5py.File("fd.h5", "r")["gradient"]; gf = h["gradient"][()]; sf = h["gradient_stderr"][()]
z = (gr - gf) / np.sqrt(se**2 + sf**2)
print("fd gradient %s stderr %s; z %s" % (np.round(gf, 3), np.round(sf, 3), np.round(z, 2)))
if float(h["loss"][()]) != L: print("FAIL fd and score losses differ (same seed, same means expected)"); bad = 1
if np.any(np.abs(z) > 4): print("FAIL score and fd loss gradients disagree"); bad = 1
sys.exit(bad)
PY
[ $fail -eq 0 ] && echo "traces: all checks passed"
exit $fail
