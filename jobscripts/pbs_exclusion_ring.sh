#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# PBS Pro / Torque: the exclusion ring of L sites with every forward rate fitted (P = L),
# README "Large design: exclusion ring of 100 sites". 256 ranks (4 nodes x 64).
#   qsub jobscripts/pbs_exclusion_ring.sh;  qsub -v L=1000,NTRAJ=256000,SCALE=7 jobscripts/pbs_exclusion_ring.sh
#   (L = 1000 untested here: only L = 12, 48 and 100 were run, README)
# What to scale: NTRAJ, the trajectories per evaluation (default 100 per rank). The trajectories
# needed grow as L^2 (score noise per rate ~ J, signal of a fast bond ~ J/L); each costs about
# (L/2 + 2) x 40 SSA events. See jobscripts/slurm_exclusion_ring.sh for the arithmetic.
#PBS -N stgssa_exclusion_ring
#PBS -l select=4:ncpus=64:mpiprocs=64
#PBS -l walltime=01:00:00
#PBS -j oe
##PBS -A YOUR_ACCOUNT
##PBS -q YOUR_QUEUE
set -euo pipefail
cd "${PBS_O_WORKDIR:-.}"
# module load petsc hdf5 openmpi   # site-specific
NP=$(wc -l < "${PBS_NODEFILE:-/dev/null}" 2> /dev/null || echo 256)
L=${L:-100}
NTRAJ=${NTRAJ:-$((NP * 100))}
# N = L/4 particles start queued; start rates SCALE x the generator's profile (mean 1.94 SCALE):
# a hole must cross the queue within ~T/2 = 20, N / (1.94 SCALE - 1) <~ 20 (L = 100: 1.5 as in
# README; L = 1000: ~7)
OUT=${OUTDIR:-studies_out/exclusion_ring$L}
mkdir -p "$OUT"
/usr/bin/python3 input/studies/exclusion_ring.py "$L" --N "${N:-$((L / 4))}" --scale "${SCALE:-1.5}" --iterations "${ITERATIONS:-800}" --prefix "$OUT/exclusion_ring$L" --ntraj "$NTRAJ" --penalty "${PENALTY:-0.005}"
RESTART=""
[ -f "$OUT/exclusion_ring$L.h5" ] && RESTART="-stgssa_restart $OUT/exclusion_ring$L.h5"
mpiexec -n "$NP" ./build/stgssa_hpc -options_file "$OUT/exclusion_ring$L.opts" \
  -stgssa_output "$OUT/exclusion_ring$L.h5" -stgssa_checkpoint_interval 20 $RESTART
/usr/bin/python3 postprocess/exclusion_design.py "$OUT/exclusion_ring$L.h5" --png "$OUT/exclusion_ring$L.png" \
  --evaluate ./build/stgssa_hpc --launcher "mpiexec -n $NP" | tee "$OUT/exclusion_ring$L.txt"
