#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# End-to-end fit at large P (issue 17): N independent birth-death species 0 -> S_i (k_i),
# S_i -> 0 (g_i), every k_i and g_i fitted (P = 2N), a moment loss (mean, variance of every S_i at
# t = 0.5, 2) against data simulated at the true rates, the score gradient. Two fits from k_i = 8:
# blmvm with common random numbers and a bound on every rate, and adam (the stochastic-route
# schedule); each with a checkpoint every CKPT iterations, and adam once more stopped at ITS/2 and
# restarted from its checkpoint (the result must be bitwise the uninterrupted one). Prints seconds
# per iteration split into simulation (TaoObjGradEval: paths, derivatives, reduction, loss) and
# everything else (TAO, history, schedule, checkpoints: TaoSolve minus TaoObjGradEval), from
# -log_view. Timing only, never pass/fail (the restart comparison is reported).
# usage: tests/bench/bench_largep_fit.sh [STGSSA_HPC]    (from the source root)
# environment: N=500 NTRAJ=1000 ITS=10 BLMVM_ITS=ITS CKPT=5 RANKS=1 EVERY=1 (-stgssa_history_every)
#   DATA_NTRAJ=20000 (trajectories of the data) NOBS=N (observe S_0..S_{NOBS-1}: the loss and its
#   reduction grow with the observables; the rates of unobserved species are fitted too, gradient 0)
set -u
exe=${1:-$(pwd)/build/stgssa_hpc}
[ -x "$exe" ] || { echo "bench_largep_fit: build first: need $exe" >&2; exit 1; }
. "$(dirname "$0")/../../scripts/env.sh"
N=${N:-500} NTRAJ=${NTRAJ:-1000} ITS=${ITS:-10} CKPT=${CKPT:-5} RANKS=${RANKS:-1} EVERY=${EVERY:-1}
BLMVM_ITS=${BLMVM_ITS:-$ITS} DATA_NTRAJ=${DATA_NTRAJ:-20000} NOBS=${NOBS:-$N}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
/usr/bin/python3 - "$N" <<'EOF'
import random, sys
n = int(sys.argv[1])
random.seed(1)
with open('bd.model', 'w') as f:
    f.write("# bench_largep_fit: independent birth-death species\nbegin parameters\n")
    for i in range(n):
        f.write(f"  k{i} {5.0 + 10 * random.random():.4f}\n  g{i} {0.5 + random.random():.4f}\n")
    f.write("end parameters\nbegin species\n")
    for i in range(n):
        f.write(f"  S{i} 0\n")
    f.write("end species\nbegin reactions\n")
    for i in range(n):
        f.write(f"  0 -> S{i}  k{i}\n  S{i} -> 0  g{i}\n")
    f.write("end reactions\n")
with open('start.txt', 'w') as f:
    f.write(",".join(f"k{i}=8" for i in range(n)))
with open('bounds.txt', 'w') as f:
    f.write(",".join(f"{p}{i}=0.01:100" for i in range(n) for p in "kg"))
EOF
obs=$(seq -s, -f "S%g" 0 $((NOBS - 1)))
common="-stgssa_model bd.model -stgssa_tfinal 2 -stgssa_sample_times 0.5,2 -stgssa_observe $obs"
mpirun -n "$RANKS" --oversubscribe "$exe" $common -stgssa_mode simulate -stgssa_ntraj $DATA_NTRAJ -stgssa_seed 5 -stgssa_output data.h5 > data.log 2>&1 ||
  { echo "bench_largep_fit: simulate failed:"; tail -3 data.log; exit 1; }
fit="$common -stgssa_mode optimize -stgssa_data data.h5 -stgssa_loss moments -stgssa_gradient score -stgssa_ntraj $NTRAJ
     -stgssa_seed 9 -stgssa_parameters $(cat start.txt) -stgssa_checkpoint_interval $CKPT -stgssa_history_every $EVERY -log_view"
split() { # LOG LABEL: seconds per iteration, simulation vs the rest
  /usr/bin/python3 - "$1" "$2" "$N" <<'EOF'
import re, sys
log, label, n = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
def ev(name):
    m = re.search(r"^%s\s+(\d+)\s+\S+\s+(\S+)" % name, log, re.M)
    return (int(m.group(1)), float(m.group(2))) if m else (0, 0.0)
its = max(len(re.findall(r"^iteration\s+\d+:", log, re.M)) - 1, 1)  # run by this process (a restart redoes its first)
_, solve = ev("TaoSolve")
nev, obj = ev("TaoObjGradEval")
nout, out = ev("StgssaOutput")
print(f"{label:<22} P={2 * n:<6} its {its:<3} evaluations {nev:<3} s/iteration: simulation {obj / its:8.3f}  "
      f"everything else {(solve - obj) / its:8.4f} ({100 * (solve - obj) / max(solve, 1e-12):.2f}%; {nout} writes {out:.3f} s)")
EOF
}
mpirun -n "$RANKS" --oversubscribe "$exe" $fit -tao_type blmvm -stgssa_crn -stgssa_bounds "$(cat bounds.txt)" -tao_max_it "$BLMVM_ITS" -stgssa_output blmvm.h5 > blmvm.log 2>&1 ||
  { echo "blmvm fit failed:"; grep -m3 -i error blmvm.log; }
split blmvm.log "blmvm (crn, bounds)"
mpirun -n "$RANKS" --oversubscribe "$exe" $fit -tao_type adam -tao_max_it "$ITS" -stgssa_output adam.h5 > adam.log 2>&1 ||
  { echo "adam fit failed:"; grep -m3 -i error adam.log; }
split adam.log "adam (schedule)"
half=$((ITS / 2 / CKPT * CKPT))
[ "$half" -ge "$CKPT" ] || half=$CKPT
mpirun -n "$RANKS" --oversubscribe "$exe" $fit -tao_type adam -tao_max_it "$half" -stgssa_output part.h5 > part.log 2>&1 &&
  mpirun -n "$RANKS" --oversubscribe "$exe" $fit -tao_type adam -tao_max_it "$ITS" -stgssa_restart part.h5 -stgssa_output restarted.h5 > restarted.log 2>&1 ||
  { echo "adam restart failed:"; grep -m3 -i error part.log restarted.log; }
split restarted.log "adam restarted at $half"
/usr/bin/python3 - <<'EOF'
import h5py, numpy as np, os, sys
if not (os.path.exists('adam.h5') and os.path.exists('restarted.h5')):
    sys.exit(print("adam restart: not compared (a run failed)"))
a, b = h5py.File('adam.h5', 'r'), h5py.File('restarted.h5', 'r')
same = all(np.array_equal(a[d][()], b[d][()]) for d in
           ('history/loss', 'history/iteration', 'history/theta', 'history/gradient', 'history/gradient_stderr', 'result/parameters'))
print("adam restart:", "bitwise equal to the uninterrupted run" if same else "DIFFERS from the uninterrupted run")
for f in ('blmvm.h5', 'adam.h5'):
    if not os.path.exists(f):
        continue
    g = h5py.File(f, 'r')
    th, names = g['result/parameters'][()], [n.decode() if isinstance(n, bytes) else n for n in g['result/parameters'].attrs['names']]
    print(f"{f}: loss {g['history/loss'][0]:.4g} -> {g['history/loss'][-1]:.4g}; /history/theta {g['history/theta'].shape}, chunks {g['history/theta'].chunks}, {g['history/theta'].compression}")
EOF
ls -l ./*.h5 | awk '{print "output", $9, $5, "bytes"}'
