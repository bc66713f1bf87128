/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaRun: one complete run of the application on a communicator, as the options describe it
  (-stgssa_model, -stgssa_mode, -stgssa_output and the options of every object it assembles):
    simulate   model -> ensemble -> output
    gradient   model -> ensemble -> evaluator (+ objective with data) -> output
    optimize   model -> ensemble -> evaluator -> objective -> optimizer (TAO) -> output
    fsp        model -> finite state projection (exact distributions, sensitivities) -> output
    ode        model -> mean-field ODE (means and their sensitivities, PETSc TS) -> output
  The driver runs one on PETSC_COMM_WORLD; a parameter study (StgssaStudy) runs one per member on
  its group's communicator. Options are read from the default options database when
  SetFromOptions is called (a study pushes each member's database first).
*/
#ifndef STGSSA_RUN_H
#define STGSSA_RUN_H

#include <petscsys.h>

typedef enum {
  STGSSA_MODE_SIMULATE,
  STGSSA_MODE_GRADIENT,
  STGSSA_MODE_OPTIMIZE,
  STGSSA_MODE_FSP,
  STGSSA_MODE_ODE /* the mean-field ODE with forward sensitivities (src/ode/) */
} StgssaMode;
PETSC_EXTERN const char *const StgssaModes[];

typedef struct _p_StgssaRun *StgssaRun;

PETSC_EXTERN PetscErrorCode StgssaRunCreate(MPI_Comm, StgssaRun *);
/* Read the run's options; with -help, let every object list its options (with defaults). */
PETSC_EXTERN PetscErrorCode StgssaRunSetFromOptions(StgssaRun);
/* Override -stgssa_output (after SetFromOptions). */
PETSC_EXTERN PetscErrorCode StgssaRunSetOutput(StgssaRun, const char[]);
PETSC_EXTERN PetscErrorCode StgssaRunGetMode(StgssaRun, StgssaMode *);
/* Collective: load the model and set up every object; all checks of user input happen here,
   before any work (every rank sees the same files and options and reaches the same verdict). */
PETSC_EXTERN PetscErrorCode StgssaRunSetUp(StgssaRun);
/* Collective: do the work of the mode and write the output file atomically. */
PETSC_EXTERN PetscErrorCode StgssaRunExecute(StgssaRun);
/* Final loss of an optimize or gradient-with-data run (NaN otherwise). */
PETSC_EXTERN PetscErrorCode StgssaRunGetLoss(StgssaRun, PetscReal *);
/* after SetUp: the run takes the exact route (fsp mode, or the fsp estimator in gradient/optimize) */
PETSC_EXTERN PetscErrorCode StgssaRunIsExact(StgssaRun, PetscBool *);
PETSC_EXTERN PetscErrorCode StgssaRunDestroy(StgssaRun *);

/* The one-line message of a PETSc error (for "stgssa_hpc: error: ..." reports). */
PETSC_EXTERN PetscErrorCode StgssaErrorText(PetscErrorCode, char[], size_t);

/* Options under -stgssa_, -tao_, -fsp_ that no object of the program reads stop a run (after its
   SetUp, before any work): "unknown option -X; did you mean -Y?". Known but unread options get a
   note at the end of the run (StgssaOptionsViewUnused). See src/run/options_check.c. */
/* Collect the known names first, before any object reads its options: PETSc prints the help of
   an options block once per process, so a block a run has already read would be missing from the
   list (and a typo would be matched against an incomplete one). The driver calls it at start;
   StgssaOptionsCheckUnknown() collects them itself when it was not called. */
PETSC_EXTERN PetscErrorCode StgssaOptionsCollectKnown(MPI_Comm);
PETSC_EXTERN PetscErrorCode StgssaOptionsCheckUnknown(MPI_Comm);
PETSC_EXTERN PetscErrorCode StgssaOptionsViewUnused(MPI_Comm);

#endif
