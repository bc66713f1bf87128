#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Exclusion-process design: current under an activity budget, the Pareto front.
# Submit from the source tree after building: qsub jobscripts/pbs_study_exclusion.sh
# Rank/group arithmetic: 48 ranks (1 node(s) x 48) split into STUDY_GROUPS=6 groups of
# 48/6 = 8 consecutive ranks (keep ranks per group a divisor or multiple of the ranks per node,
# so no group straddles nodes needlessly). The study has 6 members (one per activity budget); a group takes the next
# unfinished member from a shared counter when it is done, so the wall time is about
# (sum of member times on 8 ranks) / 6, not (slowest member) x ceil(members/groups).
# Each member's evaluation of -stgssa_ntraj trajectories is split over its group's 8 ranks;
# keep >= ~1000 trajectories per rank (raise -stgssa_ntraj in the options file with more ranks
# per group, or raise STUDY_GROUPS instead). Results are bitwise the same for any ranks and STUDY_GROUPS.
# Resubmitting after a time-out reuses finished members and resumes checkpointed fits.
# Adjust account/queue and modules to your site.
#PBS -N stgssa_exclusion
#PBS -l select=1:ncpus=48:mpiprocs=48
#PBS -l walltime=00:30:00
#PBS -j oe
##PBS -A YOUR_ACCOUNT
##PBS -q YOUR_QUEUE
set -euo pipefail
cd "$PBS_O_WORKDIR"
# module load petsc hdf5 openmpi   # site-specific
NP=$(wc -l < "$PBS_NODEFILE")
LAUNCH="mpiexec -n $NP" STUDY_GROUPS=${STUDY_GROUPS:-6} ./scripts/run-study.sh exclusion "${OUTDIR:-studies_out/exclusion}"
