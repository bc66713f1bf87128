#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Run one of the shipped studies end to end (every stage, then its postprocess table and PNG).
#
#   scripts/run-study.sh [--ci] NAME [OUTDIR]
#
# NAME: telegraph_regimes | promoter4 | ring_tur | exclusion (input/studies/NAME*).
# OUTDIR (default: studies_out/NAME) receives the HDF5 files, the member files and the figures;
# a rerun in the same OUTDIR reuses finished members (see README "Parameter studies").
# --ci runs the scaled-down version the test suite uses (fewer members, trajectories and
# iterations; the options it adds are printed).
# Environment: LAUNCH (default "mpirun -n 2"; on a cluster e.g. "srun"), STUDY_GROUPS (study groups,
# default 2), STGSSA_HPC (default build/stgssa_hpc).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
ci=0
if [ "${1:-}" = "--ci" ]; then ci=1; shift; fi
name=${1:?usage: run-study.sh [--ci] NAME [OUTDIR]}
out=${2:-studies_out/$name}
: "${LAUNCH:=mpirun -n 2}"
: "${STUDY_GROUPS:=2}"
: "${STGSSA_HPC:=$root/build/stgssa_hpc}"
PYTHON=/usr/bin/python3
[ -f "$root/scripts/env.sh" ] && . "$root/scripts/env.sh"
mkdir -p "$out"
cd "$out"
# the options files name their inputs relative to the source tree
[ -e input ] || ln -s "$root/input" input

# study BASE TABLE OUTPUT [extra options...]: one study stage
study() {
  base=$1 table=$2 output=$3
  shift 3
  echo "== $LAUNCH stgssa_hpc -options_file $base -stgssa_study $table -stgssa_study_groups $STUDY_GROUPS -stgssa_output $output $*"
  $LAUNCH "$STGSSA_HPC" -options_file "$base" -stgssa_study "$table" -stgssa_study_groups "$STUDY_GROUPS" -stgssa_output "$output" "$@"
}
# single BASE [extra options...]: one run
single() {
  base=$1
  shift
  echo "== $LAUNCH stgssa_hpc -options_file $base $*"
  $LAUNCH "$STGSSA_HPC" -options_file "$base" "$@"
}

case $name in
exclusion)
  # Pareto front of current against an activity budget; CI: two budgets, fewer iterations
  if [ $ci = 1 ]; then set -- -stgssa_study_members B04,B08 -tao_max_it 120; else set --; fi
  study input/studies/exclusion.opts input/studies/exclusion_pareto.csv exclusion_pareto.h5 "$@"
  $PYTHON "$root/postprocess/exclusion_pareto.py" exclusion_pareto.h5 --png exclusion_pareto.png
  ;;
promoter4)
  # time courses after induction -> fit of 6 rates (score + Adam); the exact reference fit
  # (FSP gradients + blmvm) and the Cramer-Rao bounds of the design at the truth
  if [ $ci = 1 ]; then set -- -stgssa_ntraj 2000 -tao_max_it 300; else set --; fi
  single input/studies/promoter4_data.opts
  single input/studies/promoter4_fit.opts "$@"
  if [ $ci = 0 ]; then # the exact reference fit: ~1-2 min, not in CI
    single input/studies/promoter4_fit.opts -stgssa_gradient fsp -stgssa_fsp_max M=150 -tao_type blmvm -tao_max_it 60 \
      -stgssa_output promoter4_fit_fsp.h5
  fi
  single input/studies/promoter4_fit.opts -stgssa_mode fsp -stgssa_fsp_max M=80 -stgssa_parameters k12=1,k23=2,k34=2,k43=1,k_tx3=8,k_tx4=25 \
    -stgssa_output promoter4_fsp_truth.h5
  [ $ci = 1 ] || $PYTHON "$root/postprocess/promoter4_summary.py" promoter4_fit_fsp.h5 promoter4_data.h5 --crlb promoter4_fsp_truth.h5 --no-model
  $PYTHON "$root/postprocess/promoter4_summary.py" promoter4_fit.h5 promoter4_data.h5 --crlb promoter4_fsp_truth.h5 --png promoter4_fit.png
  ;;
ring_tur)
  # maximize Q = 2<J>^2/(Var J <Sigma>) at fixed cycle affinity A, rings of N = 3..6 states;
  # CI: N = 4 at A = 4 and 8, fewer iterations
  if [ $ci = 1 ]; then set -- -stgssa_study_members N4_A4,N4_A8 -stgssa_ntraj 2500 -tao_max_it 120; else set --; fi
  study input/studies/ring_tur.opts input/studies/ring_tur.csv ring_tur.h5 "$@"
  $PYTHON "$root/postprocess/ring_tur.py" ring_tur.h5 --png ring_tur.png
  ;;
telegraph_regimes)
  # 27 truths: synthetic data, the exact FSP reference (identifiability: Cramer-Rao bounds of the
  # design), and 54 fits (distributions, first three moments); CI: two regimes, distributions only
  d="" f="" x=""
  if [ $ci = 1 ]; then
    d="-stgssa_study_members on0.1_off0.1_tx5,on1_off1_tx20"
    f="-stgssa_study_members on0.1_off0.1_tx5_dist,on1_off1_tx20_dist"
    x="-stgssa_ntraj 1000 -tao_max_it 150 -tao_adam_learning_rate 0.05"
  fi
  study input/studies/telegraph_regimes_data.opts input/studies/telegraph_regimes_data.csv telegraph_regimes_data.h5 $d
  study input/studies/telegraph_regimes_fsp.opts input/studies/telegraph_regimes_fsp.csv telegraph_regimes_fsp.h5 $d
  study input/studies/telegraph_regimes_fit.opts input/studies/telegraph_regimes_fit.csv telegraph_regimes_fit.h5 $f $x
  $PYTHON "$root/postprocess/telegraph_regimes.py" telegraph_regimes_fit.h5 telegraph_regimes_fsp.h5 --data telegraph_regimes_data.h5 \
    --png telegraph_regimes.png
  ;;
*)
  echo "run-study.sh: unknown study '$name'; expected telegraph_regimes, promoter4, ring_tur or exclusion" >&2
  exit 2
  ;;
esac
