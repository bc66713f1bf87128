#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Large inverse design (issue 17): seconds per gradient-mode evaluation and SSA events/s of the
# score estimator at P = 2 and P = 200 on 100 independent birth-death species (0 -> X_i at k_i,
# X_i -> 0 at g_i, from 0; R = 200: -stgssa_ssa_method auto runs the score on rssa). P = 2 fits
# k0, g0 only; P = 200 every k_i and g_i; the same trajectories (seed, index) in both. Two
# observation sets: every species (M = 3*100*T + 200 reaction counts + 2) and X0 only
# (-stgssa_observe X0: M = 3T + 202), because the evaluator accumulates o_m * S_p for every
# observable m and parameter p of every trajectory (M*P exact-sum additions) and keeps
# M*(1+P) exact sums per batch: at P = 200 that part, not the simulation, can dominate.
# Seconds are the evaluation's (the "SSA events in ... s" line), split by -log_view into
# StgssaTangents (the simulation and the per-trajectory accumulation of o_m, o_m S_p) and
# StgssaReduce (the exact reduction); medians of 3 interleaved repetitions; ratio = P=200 / P=2.
# The simulation alone is the engine's (tests/bench/bench_score: events/s independent of P).
# Timing only, never pass/fail.
# usage: bench_largep.sh [STGSSA_HPC]   (env: NTRAJ=2000, TFINAL=1, BATCHES=16)
set -u
here=$(cd "$(dirname "$0")" && pwd)
exe=${1:-$here/../../build/stgssa_hpc}
ntraj=${NTRAJ:-2000}
tfinal=${TFINAL:-1}
batches=${BATCHES:-16}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

model=$work/bd100.model
{
  echo "begin parameters"
  i=0
  while [ $i -lt 100 ]; do
    echo "  k$i $((4 + i % 9))"
    echo "  g$i $(echo "0.5 + 0.25 * ($i % 5)" | bc -l)"
    i=$((i + 1))
  done
  echo "end parameters"
  echo "begin species"
  i=0
  while [ $i -lt 100 ]; do echo "  X$i 0"; i=$((i + 1)); done
  echo "end species"
  echo "begin reactions"
  i=0
  while [ $i -lt 100 ]; do echo "  0 -> X$i  k$i"; echo "  X$i -> 0  g$i"; i=$((i + 1)); done
  echo "end reactions"
} > "$model"
all=$(awk '/^begin parameters/ { r = 1; next } /^end parameters/ { r = 0 } r { printf "%s%s", s, $1; s = "," }' "$model")

# seconds of a -log_view event (column 4 of its line)
ev() { awk -v e="$1" '$1 == e { printf "%s", $4; f = 1 } END { if (!f) printf "nan" }' "$2"; }
# one evaluation: prints "seconds events tangents reduce"
run() { # $1 fit list, $2 observe list (or "all")
  obs=
  [ "$2" != all ] && obs="-stgssa_observe $2"
  # shellcheck disable=SC2086
  "$exe" -stgssa_model "$model" -stgssa_mode gradient -stgssa_gradient score -stgssa_fit "$1" $obs \
    -stgssa_ntraj "$ntraj" -stgssa_seed 1 -stgssa_tfinal "$tfinal" -stgssa_batches "$batches" \
    -stgssa_output "$work/out.h5" -log_view > "$work/log" 2>&1 || { echo "run failed:" >&2; tail -3 "$work/log" >&2; echo "nan 0 nan nan"; return; }
  echo "$(grep 'SSA events in' "$work/log" | head -1 | awk '{ print $5, $1 }') $(ev StgssaTangents "$work/log") $(ev StgssaReduce "$work/log")"
}
median3() { printf '%s\n%s\n%s\n' "$1" "$2" "$3" | sort -g | sed -n 2p; }

printf '%d trajectories, tfinal %s, %d batches; medians of 3 interleaved runs\n' "$ntraj" "$tfinal" "$batches"
printf '%-9s %5s %10s %12s %10s %10s %10s\n' observed P "s/eval" "events/s" "tangents" "reduce" "P200/P2"
for obs in X0 all; do
  s2=; s200=; t2=; t200=; r2=; r200=; e2=; e200=
  for rep in 1 2 3; do
    set -- $(run k0,g0 "$obs"); s2="$s2 $1"; e2=$2; t2="$t2 $3"; r2="$r2 $4"
    set -- $(run "$all" "$obs"); s200="$s200 $1"; e200=$2; t200="$t200 $3"; r200="$r200 $4"
  done
  # shellcheck disable=SC2086
  m2=$(median3 $s2); m200=$(median3 $s200); T2=$(median3 $t2); T200=$(median3 $t200); R2=$(median3 $r2); R200=$(median3 $r200)
  printf '%-9s %5d %10.3f %12.4g %10.3f %10.3f %10s\n' "$obs" 2 "$m2" "$(echo "$e2 / $m2" | bc -l)" "$T2" "$R2" -
  printf '%-9s %5d %10.3f %12.4g %10.3f %10.3f %10.2f\n' "$obs" 200 "$m200" "$(echo "$e200 / $m200" | bc -l)" "$T200" "$R200" "$(echo "$m200 / $m2" | bc -l)"
done
