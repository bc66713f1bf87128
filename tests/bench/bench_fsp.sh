#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# FSP loss + gradient cost (issue 15): the induction model (gene G_off <-> G_on, activation
# k_on*Hog(t) with Hog = a0 + a1 e^{-r1 t}(1 - e^{-r2 t}), transcription, degradation; M up to
# 500, 2 x 501 = 1002 states), 16 sample times 0..55, 7 fitted log-rates (a0, a1, r1, r2, k_off,
# k_tx, k_deg), from the t = 0 steady state: one StgssaFSPSolve (p and its 7 sensitivities), the
# work of one exact loss + gradient evaluation. Prints the seconds of the solve (-log_view event
# StgssaFSPSolve) with the affine form (default) and with the per-time evaluation of the laws
# (-stgssa_fsp_affine 0, the path before issue 15), and their ratio, on 1 and 2 ranks; then the
# same with automatic bounds (no -stgssa_fsp_max).
# Then one fit evaluation (loss + gradient) of the smFISH analog (input/smfish: data of 16215 cells
# at 16 times drawn from the exact distributions, scripts/run-smfish.sh step 1, seed 1): a short
# fit (-tao_max_it 3) of the 7 rates, TaoSolve seconds / evaluations, with forward sensitivities
# (default) and with the adjoint gradient (-stgssa_fsp_adjoint 1), on 1 and 2 ranks; wall and
# CPU seconds (the CPU time is the fairer figure on a loaded machine). Timing only: no pass/fail.
# usage: tests/bench/bench_fsp.sh [BUILD_DIR]   (default build)
set -eu
build=${1:-build}
exe=$(cd "$build" && pwd)/stgssa_hpc
src=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$exe" ] || { echo "no $exe; build first" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
cat > ind.model <<'MODEL'
begin parameters
  k_on   0.5
  k_off  0.5
  k_tx   25
  k_deg  0.1
  a0     0.05
  a1     3
  r1     0.1
  r2     1
end parameters
begin inputs
  Hog    a0 + a1*exp(-r1*t)*(1 - exp(-r2*t))
end inputs
begin species
  G_off  1
  G_on   0
  M      0
end species
begin reactions
  activation: G_off -> G_on     k_on*Hog
  G_on  -> G_off                k_off
  G_on  -> G_on + M             k_tx
  M     -> 0                    k_deg
end reactions
MODEL
B="-stgssa_model ind.model -stgssa_mode fsp -stgssa_sample_times 0,3,7,10,14,18,21,25,29,32,36,40,43,47,51,55 -stgssa_tfinal 55
   -stgssa_initial steady -stgssa_initial_burnin 1 -stgssa_fit a0,a1,r1,r2,k_off,k_tx,k_deg -stgssa_output out.h5 -log_view"
# seconds of the StgssaFSPSolve event (max over ranks), and the number of states
solve() { # ranks options...
  n=$1; shift
  if [ "$n" -eq 1 ]; then mpirun -n 1 "$exe" $B "$@" > log.txt 2>&1; else mpirun -n "$n" --oversubscribe "$exe" $B "$@" > log.txt 2>&1; fi
  t=$(awk '$1 == "StgssaFSPSolve" {print $4}' log.txt)
  s=$(awk '$1 == "StgssaFSP:" {print $2; exit}' log.txt)
  echo "$t $s"
}
printf '%-34s %6s %8s %10s %8s\n' "case" "ranks" "states" "seconds" "ratio"
for bounds in "-stgssa_fsp_max M=500" ""; do
  for n in 1 2; do
    set -- $(solve $n $bounds -stgssa_fsp_affine 0); before=$1
    set -- $(solve $n $bounds); after=$1; states=$2
    label="affine${bounds:+, $bounds}"
    [ -n "$bounds" ] || label="affine, automatic bounds"
    printf '%-34s %6d %8s %10.3f %8.2f\n' "per-time laws (before)" "$n" "$states" "$before" 1
    printf '%-34s %6d %8s %10.3f %8.2f\n' "$label" "$n" "$states" "$after" "$(awk -v a="$after" -v b="$before" 'BEGIN {print a / b}')"
  done
done
echo "(load average: $(cut -d' ' -f1-3 /proc/loadavg); seconds are wall time of StgssaFSPSolve)"
# one fit evaluation of the smFISH analog
"$exe" -stgssa_model "$src/input/smfish/induction.model" -stgssa_mode fsp -stgssa_parameters a0=0.005,a1=0.1,r1=0.05,r2=0.3,k_off=2,kr=60,kdeg=0.1 \
  -stgssa_initial steady -stgssa_tfinal 55 -stgssa_sample_times 0,2,4,6,8,10,12,15,18,21,25,30,35,40,45,55 -stgssa_observe rna -stgssa_output truth.h5 > /dev/null
/usr/bin/python3 "$src/input/smfish/make_data.py" truth.h5 data.csv --seed 1 > /dev/null
F="-stgssa_model $src/input/smfish/induction.model -stgssa_data data.csv -stgssa_fit a0,a1,r1,r2,k_off,kr,kdeg -stgssa_initial steady -tao_max_it 3 -stgssa_output fit.h5 -log_view"
printf '\n%-34s %6s %8s %12s %12s\n' "smFISH fit evaluation" "ranks" "evals" "wall s/eval" "cpu s/eval"
for n in 1 2; do
  for adj in 0 1; do
    /usr/bin/time -f "%U %S" -o cpu.txt mpirun -n "$n" --oversubscribe "$exe" $F -stgssa_fsp_adjoint $adj > log.txt 2>&1
    ev=$(sed -n 's/.*iterations, \([0-9]*\) evaluations.*/\1/p' log.txt)
    tao=$(awk '$1 == "TaoSolve" {print $4}' log.txt)
    label="forward sensitivities (default)"
    [ "$adj" -eq 0 ] || label="adjoint (-stgssa_fsp_adjoint 1)"
    awk -v l="$label" -v n="$n" -v e="$ev" -v t="$tao" -v c="$(cat cpu.txt)" 'BEGIN {split(c, a, " "); printf "%-34s %6d %8d %12.3f %12.3f\n", l, n, e, t / e, (a[1] + a[2]) / n / e}'
  done
done
echo "(cpu s/eval: user + system time of the whole run per rank over the evaluations, set-up included; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
