#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Single vs two-pass reduction of a loss's score evaluation (issue 17), measured and modelled.
# Design loss (current of hop_0 under an activity budget) on an exclusion ring of L sites,
# fitting the first P forward rates; per evaluation: MB of exact sums reduced, seconds in the
# reduction(s) (smallest over ranks: the last rank to arrive waits least), seconds of the
# evaluation and of pass 2 (the line stgssa_hpc prints after a fit). Runs interleaved, REPEAT
# times, medians. Then the alpha-beta model of an MPI_Allreduce of n bytes on p ranks
# (Rabenseifner: reduce-scatter + allgather), T = 2 log2(p) ALPHA + 2 n BETA, one per pass.
# usage (from the source root): tests/bench/bench_reduction.sh [BUILD_DIR]
# environment: L (64), NTRAJ (2000), TFINAL (5), PS ("2 16 64"), RANKS ("1 2"), REPEAT (3),
#              ALPHA (2e-6 s), BETA (1e-10 s/B: 10 GB/s)
set -u
build=${1:-build}
exe=$(cd "$build" && pwd)/stgssa_hpc
root=$(pwd)
L=${L:-64}
NTRAJ=${NTRAJ:-2000}
TFINAL=${TFINAL:-5}
PS=${PS:-"2 16 64"}
RANKS=${RANKS:-"1 2"}
REPEAT=${REPEAT:-3}
ALPHA=${ALPHA:-2e-6}
BETA=${BETA:-1e-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$root/input/studies/exclusion_model.py" "$L" $((L / 2)) > "$work/ring.model" || exit 1
. "$root/scripts/env.sh"
out="$work/rows"
: > "$out"
for rep in $(seq 1 "$REPEAT"); do
  for P in $PS; do
    fit=$(seq -s, 0 $((P - 1)) | sed 's/\([0-9]*\)/p\1/g')
    for n in $RANKS; do
      for red in single two_pass; do
        mpirun -n "$n" --oversubscribe "$exe" -stgssa_model "$work/ring.model" -stgssa_mode optimize -stgssa_loss design \
          -stgssa_design current -stgssa_design_pair hop_0 -stgssa_budget_activity $((L * 2)) -stgssa_penalty 1 -stgssa_gradient score \
          -stgssa_observe X0 -stgssa_fit "$fit" -stgssa_ntraj "$NTRAJ" -stgssa_tfinal "$TFINAL" -stgssa_seed 1 -tao_type adam \
          -tao_max_it 2 -stgssa_adaptive_ntraj 0 -stgssa_average 0 -stgssa_reduction $red -stgssa_output "$work/o.h5" > "$work/log" 2>&1 ||
          { echo "run failed (P $P, $n ranks, $red):"; cat "$work/log"; exit 1; }
        # reduction (...): two passes; per evaluation (mean of 3): X MB of exact sums; reductions A s + B s (pass 2), ...; evaluation E s + pass 2 F s
        sed -n 's/.*: \([0-9.e+-]*\) MB of exact sums; reductions \([0-9.e+-]*\) s + \([0-9.e+-]*\) s (pass 2).*evaluation \([0-9.e+-]*\) s + pass 2 \([0-9.e+-]*\) s.*/\1 \2 \3 \4 \5/p' "$work/log" |
          awk -v P="$P" -v n="$n" -v r="$red" '{ print P, n, r, $0 }' >> "$out"
      done
    done
  done
done
/usr/bin/python3 - "$out" "$ALPHA" "$BETA" "$L" "$NTRAJ" <<'EOF'
import sys, math, statistics as st
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
alpha, beta, L, ntraj = float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
key = {}
for P, n, r, mb, t1, t2, ev, p2 in rows:
    key.setdefault((int(P), int(n), r), []).append((float(mb), float(t1), float(t2), float(ev), float(p2)))
print(f"exclusion ring L = {L}, {ntraj} trajectories per evaluation; medians of {len(next(iter(key.values())))} runs")
print("| P | ranks | reduction | MB reduced | reduction s | evaluation s | pass 2 s |")
print("| --- | --- | --- | --- | --- | --- | --- |")
mbs = {}
for (P, n, r), v in sorted(key.items()):
    med = [st.median(x[k] for x in v) for k in range(5)]
    mbs[(P, r)] = med[0]
    print(f"| {P} | {n} | {r} | {med[0]:.4g} | {med[1] + med[2]:.3g} | {med[3]:.3g} | {med[4]:.3g} |")
print(f"alpha-beta model, T = 2 log2(p) alpha + 2 n beta per allreduce, alpha = {alpha:g} s, beta = {beta:g} s/B ({1e-9 / beta:g} GB/s)")
print("| P | reduction | MB | 256 ranks | 1024 | 4096 |")
print("| --- | --- | --- | --- | --- | --- |")
for (P, r), mb in sorted(mbs.items()):
    npass = 2 if r == "two_pass" else 1
    cells = [f"{(npass * 2 * math.log2(p) * alpha + 2 * mb * 1e6 * beta) * 1e3:.3g} ms" for p in (256, 1024, 4096)]
    print(f"| {P} | {r} | {mb:.4g} | " + " | ".join(cells) + " |")
EOF
