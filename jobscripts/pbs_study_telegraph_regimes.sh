#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Telegraph regimes study: 27 synthetic truths, exact FSP identifiability, 54 fits (distributions and moments).
# Submit from the source tree after building: qsub jobscripts/pbs_study_telegraph_regimes.sh
# Rank/group arithmetic: 256 ranks (4 node(s) x 64) split into STUDY_GROUPS=32 groups of
# 256/32 = 8 consecutive ranks (keep ranks per group a divisor or multiple of the ranks per node,
# so no group straddles nodes needlessly). The study has 27 (data) + 27 (FSP reference) + 54 (fit) members; a group takes the next
# unfinished member from a shared counter when it is done, so the wall time is about
# (sum of member times on 8 ranks) / 32, not (slowest member) x ceil(members/groups).
# Each member's evaluation of -stgssa_ntraj trajectories is split over its group's 8 ranks;
# keep >= ~1000 trajectories per rank (raise -stgssa_ntraj in the options file with more ranks
# per group, or raise STUDY_GROUPS instead). Results are bitwise the same for any ranks and STUDY_GROUPS.
# Resubmitting after a time-out reuses finished members and resumes checkpointed fits.
# Adjust account/queue and modules to your site.
#PBS -N stgssa_telegraph_regimes
#PBS -l select=4:ncpus=64:mpiprocs=64
#PBS -l walltime=02:00:00
#PBS -j oe
##PBS -A YOUR_ACCOUNT
##PBS -q YOUR_QUEUE
set -euo pipefail
cd "$PBS_O_WORKDIR"
# module load petsc hdf5 openmpi   # site-specific
NP=$(wc -l < "$PBS_NODEFILE")
LAUNCH="mpiexec -n $NP" STUDY_GROUPS=${STUDY_GROUPS:-32} ./scripts/run-study.sh telegraph_regimes "${OUTDIR:-studies_out/telegraph_regimes}"
