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
# Environment: LAUNCH (default "mpirun -n 2"; on a cluster e.g. "srun"), GROUPS (study groups,
# default 2), STGSSA_HPC (default build/stgssa_hpc).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
ci=0
if [ "${1:-}" = "--ci" ]; then ci=1; shift; fi
name=${1:?usage: run-study.sh [--ci] NAME [OUTDIR]}
out=${2:-studies_out/$name}
: "${LAUNCH:=mpirun -n 2}"
: "${GROUPS:=2}"
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
  echo "== $LAUNCH stgssa_hpc -options_file $base -stgssa_study $table -stgssa_study_groups $GROUPS -stgssa_output $output $*"
  $LAUNCH "$STGSSA_HPC" -options_file "$base" -stgssa_study "$table" -stgssa_study_groups "$GROUPS" -stgssa_output "$output" "$@"
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
*)
  echo "run-study.sh: unknown study '$name'; expected telegraph_regimes, promoter4, ring_tur or exclusion" >&2
  exit 2
  ;;
esac
