#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Ring TUR inverse design: maximize Q at fixed cycle affinity for N = 3..6 states.
# Submit from the source tree after building: sbatch jobscripts/slurm_study_ring_tur.sh
# Rank/group arithmetic: 128 ranks (2 node(s) x 64) split into STUDY_GROUPS=16 groups of
# 128/16 = 8 consecutive ranks (keep ranks per group a divisor or multiple of the ranks per node,
# so no group straddles nodes needlessly). The study has one member per ring size N and affinity A; a group takes the next
# unfinished member from a shared counter when it is done, so the wall time is about
# (sum of member times on 8 ranks) / 16, not (slowest member) x ceil(members/groups).
# Each member's evaluation of -stgssa_ntraj trajectories is split over its group's 8 ranks;
# keep >= ~1000 trajectories per rank (raise -stgssa_ntraj in the options file with more ranks
# per group, or raise STUDY_GROUPS instead). Results are bitwise the same for any ranks and STUDY_GROUPS.
# Resubmitting after a time-out reuses finished members and resumes checkpointed fits.
# Adjust account/queue and modules to your site.
#SBATCH --job-name=stgssa_ring_tur
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=64
#SBATCH --cpus-per-task=1
#SBATCH --time=01:00:00
#SBATCH --output=stgssa_ring_tur_%j.log
##SBATCH --account=YOUR_ACCOUNT
##SBATCH --partition=YOUR_PARTITION
set -euo pipefail
# module load petsc hdf5 openmpi   # site-specific
LAUNCH="srun --cpu-bind=cores" STUDY_GROUPS=${STUDY_GROUPS:-16} ./scripts/run-study.sh ring_tur "${OUTDIR:-studies_out/ring_tur}"
