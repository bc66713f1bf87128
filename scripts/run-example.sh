#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Install, build, and run the shipped telegraph example on 2 ranks; print simulated vs exact
# mean and Fano factor and write a histogram plot. Usage: scripts/run-example.sh [build-dir]
set -eu
cd "$(dirname "$0")/.."
. scripts/env.sh
build=${1:-build}
scripts/install-deps.sh
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=release
ninja -C "$build"
mpirun -n 2 "$build/stgssa_hpc" -options_file input/telegraph.opts -stgssa_output telegraph_simulate.h5
$PYTHON postprocess/telegraph_summary.py telegraph_simulate.h5 --png telegraph_histograms.png
