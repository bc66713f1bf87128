/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaStudy: a parameter study. Every row ("member") of the table -stgssa_study FILE is one
  complete StgssaRun with the options of the command line plus the row's overrides (options,
  model parameter values). -stgssa_study_groups G splits the communicator into G groups
  (MPI_Comm_split); a group leader takes the next unfinished member from a counter held in an
  MPI window on rank 0 (MPI_Fetch_and_op), so uneven members do not leave groups idle. A member
  writes the same file a standalone run would, atomically, as <output stem>_members/<name>.h5;
  rerunning the study skips members whose file is complete and continues optimize members from
  their last checkpoint. At the end rank 0 writes the study file atomically: /members/<name>/...
  (a copy of each member's output) and /study (summary table).
*/
#ifndef STGSSA_STUDY_H
#define STGSSA_STUDY_H

#include <petscsys.h>

typedef struct _p_StgssaStudy *StgssaStudy;

PETSC_EXTERN PetscErrorCode StgssaStudyCreate(MPI_Comm, StgssaStudy *);
PETSC_EXTERN PetscErrorCode StgssaStudySetFromOptions(StgssaStudy);
/* Collective: read the table, set every member up once (all input errors surface here, before
   any work), split the communicator. */
PETSC_EXTERN PetscErrorCode StgssaStudySetUp(StgssaStudy);
/* Collective: run the unfinished members, then write the study file. failed: members whose run
   raised an error (each reported on stderr as it happened; the others still complete). */
PETSC_EXTERN PetscErrorCode StgssaStudyRun(StgssaStudy, PetscInt *failed);
PETSC_EXTERN PetscErrorCode StgssaStudyDestroy(StgssaStudy *);

#endif
