#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Slurm: the telegraph inference on N nodes (data generation, then the distribution fit).
# Submit from the source tree after building: sbatch --nodes=4 jobscripts/slurm_fit.sh
# Adjust account/partition and the module names to your site. Results are bitwise the same for
# any rank count; more ranks simply make each evaluation faster (raise -stgssa_ntraj with them).
#SBATCH --job-name=stgssa_fit
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=64
#SBATCH --cpus-per-task=1
#SBATCH --time=01:00:00
#SBATCH --output=stgssa_fit_%j.log
##SBATCH --account=YOUR_ACCOUNT
##SBATCH --partition=YOUR_PARTITION
set -euo pipefail
# module load petsc hdf5 openmpi   # site-specific
NTRAJ=${NTRAJ:-100000}
srun --cpu-bind=cores ./build/stgssa_hpc -options_file input/telegraph_data.opts
# resubmitting this script after a time-out continues from the last checkpoint
RESTART=""
[ -f telegraph_fit.h5 ] && RESTART="-stgssa_restart telegraph_fit.h5"
srun --cpu-bind=cores ./build/stgssa_hpc -options_file input/telegraph_distribution.opts \
  -stgssa_ntraj "$NTRAJ" -stgssa_checkpoint_interval 10 $RESTART -tao_monitor -log_view :"stgssa_fit_${SLURM_JOB_ID}.log_view"
/usr/bin/python3 postprocess/fit_summary.py telegraph_fit.h5 telegraph_data.h5 --png telegraph_fit.png
