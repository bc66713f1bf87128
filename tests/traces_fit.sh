#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Fit of the telegraph model (k_on, k_off, k_tx; k_deg fixed) to the shipped synthetic live-cell
# traces (input/telegraph_traces.csv: 3000 cells, M at 0, 0.5, ..., 10, truth 0.5, 2, 20) with the
# newcomer's command input/telegraph_traces.opts (model, -stgssa_data_traces, -stgssa_fit, a start
# away from the truth; the defaults choose the correlation loss, the auto-correlation at lags 0..5,
# score and Adam). Heavy (~2-6 min on 2 shared cores): suite 'studies'.
# Tolerance 10% on k_on, k_off, k_tx and k_tx/k_off (issue 18). Why it holds, measured with the exact
# moments of the telegraph model (a 4x4 linear moment system) minimised in numpy on data sets of the
# generator, seeds 1-5: the estimator is unbiased (mean error < 4%), its spread (sd over seeds) is
# k_on 2%, k_off 7%, k_tx 4% at 3000 cells (k_off 12% at 1000 cells, seeds 1-9; 25% at 200, seeds 1-12: those sizes
# cannot meet 10% on k_off, whatever the optimizer does). The exact minimiser for the shipped seed 1
# is k_on -0.4%, k_off -7.1%, k_tx -6.3%; this run (100 Adam iterations, score) gave +1.0%, -5.3%, -5.6% (see
# README "Live-cell traces"). The 10% on k_off is thus 1.4 sd of the data's own spread: a property of
# the shipped data set (fixed seed), not a guarantee for every seed.
# usage: traces_fit.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
. "$root/scripts/env.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
timeout 1200 "$exe" -options_file "$root/input/telegraph_traces.opts" -stgssa_model "$root/input/telegraph.model" \
  -stgssa_data_traces "$root/input/telegraph_traces.csv" -stgssa_output fit.h5 > fit.log 2>&1 || { echo "FAIL fit:"; tail -30 fit.log; exit 1; }
head -4 fit.log
$PYTHON - <<'PY'
import sys, h5py, numpy as np
f = h5py.File("fit.h5", "r")
p = f["result/parameters"][()]
kon, koff, ktx = p
print("fit k_on %.4f k_off %.4f k_tx %.4f burst k_tx/k_off %.3f (truth 0.5, 2, 20, 10)" % (kon, koff, ktx, ktx / koff))
bad = 0
for name, v, t, tol in (("k_on", kon, 0.5, 0.10), ("k_tx/k_off", ktx / koff, 10.0, 0.10), ("k_off", koff, 2.0, 0.10), ("k_tx", ktx, 20.0, 0.10)):
    if abs(v / t - 1) > tol:
        print("FAIL %s = %.4f, truth %g, tolerance %d%%" % (name, v, t, 100 * tol)); bad = 1
if "data" not in f or "correlation/M_M" not in f["data"]:
    print("FAIL no /data/correlation/M_M in the output"); bad = 1
sys.exit(bad)
PY
