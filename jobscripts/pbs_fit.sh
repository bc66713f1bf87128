#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# PBS Pro / Torque: the telegraph inference on N nodes. qsub jobscripts/pbs_fit.sh
#PBS -N stgssa_fit
#PBS -l select=4:ncpus=64:mpiprocs=64
#PBS -l walltime=01:00:00
#PBS -j oe
set -euo pipefail
cd "${PBS_O_WORKDIR:-.}"
# module load petsc hdf5 openmpi   # site-specific
NP=$(wc -l < "${PBS_NODEFILE:-/dev/null}" 2> /dev/null || echo 256)
NTRAJ=${NTRAJ:-100000}
mpirun -n "$NP" ./build/stgssa_hpc -options_file input/telegraph_data.opts
RESTART=""
[ -f telegraph_fit.h5 ] && RESTART="-stgssa_restart telegraph_fit.h5"
mpirun -n "$NP" ./build/stgssa_hpc -options_file input/telegraph_distribution.opts \
  -stgssa_ntraj "$NTRAJ" -stgssa_checkpoint_interval 10 $RESTART -tao_monitor
/usr/bin/python3 postprocess/fit_summary.py telegraph_fit.h5 telegraph_data.h5 --png telegraph_fit.png
