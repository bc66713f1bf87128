#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Coverage of the 95% intervals on the smFISH analog (input/smfish/): N replicate data sets
# (seeds 1..N, independent cells drawn from the exact distributions at the truth), each fitted
# with the newcomer's command (exact route, defaults), then: how often each identifiable rate's
# interval covers the truth, and the median relative error. Two fits run at once on 1 rank each.
# Usage: scripts/smfish-coverage.sh [N [OUTDIR [build-dir]]]
set -eu
cd "$(dirname "$0")/.."
. scripts/env.sh
n=${1:-20}
out=${2:-smfish_coverage}
build=${3:-build}
truth="a0=0.005,a1=0.1,r1=0.05,r2=0.3,k_off=2,kr=60,kdeg=0.1"
root=$(pwd)
mkdir -p "$out"
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=release
ninja -C "$build" > /dev/null
exe="$root/$build/stgssa_hpc"
cd "$out"
"$exe" -stgssa_model "$root/input/smfish/induction.model" -stgssa_mode fsp -stgssa_parameters "$truth" \
  -stgssa_initial steady -stgssa_tfinal 55 -stgssa_sample_times 0,2,4,6,8,10,12,15,18,21,25,30,35,40,45,55 \
  -stgssa_observe rna -stgssa_output truth.h5 > truth.log
fit() {
  $PYTHON "$root/input/smfish/make_data.py" truth.h5 "data_$1.csv" --seed "$1" > /dev/null
  "$exe" -stgssa_model "$root/input/smfish/induction.model" -stgssa_data "data_$1.csv" \
    -stgssa_fit a0,a1,r1,r2,k_off,kr,kdeg -stgssa_initial steady -stgssa_output "fit_$1.h5" > "fit_$1.log" 2>&1 || echo "fit $1 failed (fit_$1.log)"
}
i=1
while [ "$i" -le "$n" ]; do
  fit "$i" &
  j=$((i + 1))
  [ "$j" -le "$n" ] && fit "$j" &
  wait
  i=$((i + 2))
done
$PYTHON - "$n" "$truth" << 'EOT'
import sys, math
import h5py, numpy as np
n, truth = int(sys.argv[1]), dict((k, float(v)) for k, v in (s.split("=") for s in sys.argv[2].split(",")))
cov, ident, err = {}, {}, {}
for i in range(1, n + 1):
    try:
        f = h5py.File("fit_%d.h5" % i, "r")
    except OSError:
        continue
    names = [x.decode() if isinstance(x, bytes) else str(x) for x in f["/result/parameters"].attrs["names"]]
    est, ci = f["/result/parameters"][:], f["/result/ci95"][:]
    for k, e, (lo, hi) in zip(names, est, ci):
        err.setdefault(k, []).append(abs(e / truth[k] - 1))
        if math.isfinite(lo) and math.isfinite(hi) and lo > 0:
            ident[k] = ident.get(k, 0) + 1
            cov[k] = cov.get(k, 0) + (lo <= truth[k] <= hi)
tot_c = tot_i = 0
print("%-8s %10s %14s %16s" % ("rate", "fits", "identifiable", "covered (95% CI)"))
for k in truth:
    c, m = cov.get(k, 0), ident.get(k, 0)
    tot_c += c; tot_i += m
    print("%-8s %10d %14d %10d (%3.0f%%)   median |rel. err| %.1f%%" % (k, len(err.get(k, [])), m, c, 100.0 * c / m if m else float("nan"), 100 * np.median(err[k]) if k in err else float("nan")))
print("coverage over identifiable (rate, data set) pairs: %d of %d = %.1f%%" % (tot_c, tot_i, 100.0 * tot_c / max(tot_i, 1)))
EOT
