#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# PBS Pro / Torque: simulate-mode ensemble on 256 ranks. qsub -v OPTS=input/telegraph.opts jobscripts/pbs_simulate.sh
#PBS -N stgssa_simulate
#PBS -l select=4:ncpus=64:mpiprocs=64
#PBS -l walltime=00:30:00
#PBS -j oe
set -euo pipefail
cd "${PBS_O_WORKDIR:-.}"
# module load petsc hdf5 openmpi   # site-specific
OPTS=${OPTS:-input/telegraph.opts}
OUT=${OUT:-telegraph_${PBS_JOBID%%.*}.h5}
mpirun -n 256 ./build/stgssa_hpc -options_file "$OPTS" -stgssa_ntraj 10000000 -stgssa_output "$OUT"
