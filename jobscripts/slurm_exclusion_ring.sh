#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Large inverse design: the exclusion ring of L sites with every forward rate fitted (P = L),
# README "Large design: exclusion ring of 100 sites". 256 ranks (4 nodes x 64).
# Submit from the source tree after building: sbatch jobscripts/slurm_exclusion_ring.sh
#   L=1000 NTRAJ=256000 SCALE=7 sbatch jobscripts/slurm_exclusion_ring.sh   (P = 1000; untested here:
#   only L = 12, 48 and 100 were run, README)
# What to scale: the trajectories per evaluation, NTRAJ (default 100 per rank: 25600 on 256
# ranks). The score gradient's noise per fitted rate is ~ J per trajectory while the signal of
# a fast bond is ~ J/L, so the trajectories needed for the same progress per iteration grow as
# L^2: on 2 ranks L = 100 used 1000 (README); L = 1000 wants ~ 100x that. Each trajectory costs
# ~ B T = (L/2 + 2) x 40 SSA events, so the time per iteration is ~ NTRAJ B T / (ranks x events
# per second per rank); keep >= ~ 50 trajectories per rank. Results are bitwise the same for any
# rank count with the same NTRAJ and seed. Resubmitting after a time-out resumes the checkpoint.
# Adjust account/partition and modules to your site.
#SBATCH --job-name=stgssa_exclusion_ring
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=64
#SBATCH --cpus-per-task=1
#SBATCH --time=01:00:00
#SBATCH --output=stgssa_exclusion_ring_%j.log
##SBATCH --account=YOUR_ACCOUNT
##SBATCH --partition=YOUR_PARTITION
set -euo pipefail
# module load petsc hdf5 openmpi   # site-specific
L=${L:-100}
NP=${SLURM_NTASKS:-256}
NTRAJ=${NTRAJ:-$((NP * 100))}
# N = L/4 particles start queued; start rates SCALE x the generator's profile (mean 1.94 SCALE):
# a hole must cross the queue within ~T/2 = 20, N / (1.94 SCALE - 1) <~ 20 (L = 100: 1.5 as in
# README; L = 1000: ~7)
OUT=${OUTDIR:-studies_out/exclusion_ring$L}
mkdir -p "$OUT"
/usr/bin/python3 input/studies/exclusion_ring.py "$L" --N "${N:-$((L / 4))}" --scale "${SCALE:-1.5}" --iterations "${ITERATIONS:-800}" --prefix "$OUT/exclusion_ring$L" --ntraj "$NTRAJ" --penalty "${PENALTY:-0.005}"
RESTART=""
[ -f "$OUT/exclusion_ring$L.h5" ] && RESTART="-stgssa_restart $OUT/exclusion_ring$L.h5"
srun --cpu-bind=cores ./build/stgssa_hpc -options_file "$OUT/exclusion_ring$L.opts" \
  -stgssa_output "$OUT/exclusion_ring$L.h5" -stgssa_checkpoint_interval 20 $RESTART
# J and A at the optimized rates: 8 independent seeds x 500 trajectories over [20, 200]
/usr/bin/python3 postprocess/exclusion_design.py "$OUT/exclusion_ring$L.h5" --png "$OUT/exclusion_ring$L.png" \
  --evaluate ./build/stgssa_hpc --launcher "srun --cpu-bind=cores" | tee "$OUT/exclusion_ring$L.txt"
