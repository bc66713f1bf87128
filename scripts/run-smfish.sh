#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Fit your own smFISH time course, shown on a synthetic one (input/smfish/):
#   1. exact distributions at the true rates (fsp mode) and 16 time points of 385..1930
#      independent cells each drawn from them (input/smfish/make_data.py; seed SEED);
#   2. the fit a new user types: model, data, the names to fit, a steady start, nothing else
#      (the data set the times, the run picks the exact route and its optimizer and says so);
#   3. true vs fitted rates with 95% intervals, and the report figure smfish_fit.png.
# Usage: scripts/run-smfish.sh [SEED [build-dir]]
set -eu
cd "$(dirname "$0")/.."
. scripts/env.sh
seed=${1:-1}
build=${2:-build}
truth="a0=0.005,a1=0.1,r1=0.05,r2=0.3,k_off=2,kr=60,kdeg=0.1"
scripts/install-deps.sh
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=release
ninja -C "$build" > /dev/null
echo "== synthetic data: exact distributions at the true rates ($truth), then independent cells"
"$build/stgssa_hpc" -stgssa_model input/smfish/induction.model -stgssa_mode fsp -stgssa_parameters "$truth" \
  -stgssa_initial steady -stgssa_tfinal 55 -stgssa_sample_times 0,2,4,6,8,10,12,15,18,21,25,30,35,40,45,55 \
  -stgssa_observe rna -stgssa_output smfish_truth.h5 > smfish_truth.log
$PYTHON input/smfish/make_data.py smfish_truth.h5 smfish_data.csv --seed "$seed"
echo "== the fit: stgssa_hpc -stgssa_model input/smfish/induction.model -stgssa_data smfish_data.csv -stgssa_fit a0,a1,r1,r2,k_off,kr,kdeg -stgssa_initial steady"
start=$(date +%s)
mpirun -n 2 "$build/stgssa_hpc" -stgssa_model input/smfish/induction.model -stgssa_data smfish_data.csv \
  -stgssa_fit a0,a1,r1,r2,k_off,kr,kdeg -stgssa_initial steady -stgssa_output smfish_fit.h5 > smfish_fit.log
echo "   ($(($(date +%s) - start)) s on 2 ranks; the whole output is in smfish_fit.log)"
cat smfish_fit.log
echo "== true vs fitted"
$PYTHON postprocess/compare_truth.py smfish_fit.h5 --truth "$truth"
$PYTHON postprocess/fit_report.py smfish_fit.h5 --png smfish_fit.png
