#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Slurm: simulate-mode ensemble on 256 ranks. Submit from the source tree: sbatch jobscripts/slurm_simulate.sh
# Adjust the account/partition lines and the module names to your site.
#SBATCH --job-name=stgssa_simulate
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=64
#SBATCH --cpus-per-task=1
#SBATCH --time=00:30:00
#SBATCH --output=stgssa_%j.log
##SBATCH --account=YOUR_ACCOUNT
##SBATCH --partition=YOUR_PARTITION
set -euo pipefail
# module load petsc hdf5 openmpi   # site-specific
OPTS=${OPTS:-input/telegraph.opts}
OUT=${OUT:-telegraph_${SLURM_JOB_ID}.h5}
# one rank per core; the result is bitwise the same for any rank count (same seed)
srun --cpu-bind=cores ./build/stgssa_hpc -options_file "$OPTS" -stgssa_ntraj 10000000 -stgssa_output "$OUT" -log_view :"stgssa_${SLURM_JOB_ID}.log_view"
