#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Install, build, and run the main job on the shipped telegraph example, on 2 MPI ranks:
#   1. synthetic data: 20000 cells simulated at the true rates (k_on 0.5, k_off 2, k_tx 20, k_deg 1);
#   2. inference of k_on, k_off, k_tx from the stationary mRNA distribution, starting 3x off;
#   3. a table of true vs recovered rates and a loss-curve PNG (telegraph_fit.png).
# Usage: scripts/run-example.sh [build-dir]
set -eu
cd "$(dirname "$0")/.."
. scripts/env.sh
build=${1:-build}
scripts/install-deps.sh
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=release
ninja -C "$build"
echo "== generating synthetic data (simulate mode)"
mpirun -n 2 "$build/stgssa_hpc" -options_file input/telegraph_data.opts > telegraph_data.log
echo "== fitting k_on, k_off, k_tx to the stationary distribution (optimize mode, 2 ranks)"
mpirun -n 2 "$build/stgssa_hpc" -options_file input/telegraph_distribution.opts -tao_monitor > telegraph_fit.log
tail -n 6 telegraph_fit.log
echo "== result"
$PYTHON postprocess/fit_summary.py telegraph_fit.h5 telegraph_data.h5 --png telegraph_fit.png
