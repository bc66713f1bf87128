/* SPDX-License-Identifier: BSD-2-Clause */
static const char usage[] = "stgssa_hpc: fit and simulate exact stochastic kinetic models, distributed with MPI.\n\n"
                           "Usage: mpirun -n P stgssa_hpc -stgssa_model FILE [-stgssa_mode optimize|gradient|simulate|fsp] [options]\n"
                           "       mpirun -n P stgssa_hpc -options_file run.opts\n"
                           "       mpirun -n P stgssa_hpc -options_file base.opts -stgssa_study table.csv -stgssa_study_groups G\n"
                           "Every option with its default: stgssa_hpc -help\n\n";

/*
  The driver only chooses between one run (StgssaRun on PETSC_COMM_WORLD) and a parameter study
  (StgssaStudy: one run per member of a table, on groups of ranks), and reports bad input in one
  line ("stgssa_hpc: error: ...", exit status 1, nothing written) without PETSc's traceback.
*/
#include <stdlib.h>
#include <stgssa/stgssa.h>
#include <stgssa/run.h>
#include <stgssa/study.h>
#include <stgssa/output.h>

static PetscErrorCode ReportInputError(PetscErrorCode ierr)
{
  char msg[4096];

  PetscFunctionBegin;
  PetscCall(StgssaErrorText(ierr, msg, sizeof(msg)));
  PetscCall(PetscFPrintf(PETSC_COMM_WORLD, PETSC_STDERR, "stgssa_hpc: error: %s\n", msg));
  PetscFunctionReturn(0);
}

/* One run on the whole world. Errors in the input (SetUp), a file that cannot be written (the
   output, a checkpoint) and, on the exact route (fsp mode, the fsp estimator), an FSP projection
   found too small by the solve are reported in one line; anything else keeps PETSc's full report. */
static PetscErrorCode RunOne(PetscBool help, PetscErrorCode *ierr)
{
  StgssaRun run;
  PetscBool exact = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(StgssaRunCreate(PETSC_COMM_WORLD, &run));
  PetscCall(StgssaRunSetFromOptions(run));
  if (!help) {
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    *ierr = StgssaRunSetUp(run);
    PetscCall(PetscPopErrorHandler());
    if (!*ierr) PetscCall(StgssaRunIsExact(run, &exact));
    if (!*ierr && exact) { /* the projection too small for the parameters (at the start point of a fit) is bad input */
      PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
      *ierr = StgssaRunExecute(run);
      PetscCall(PetscPopErrorHandler());
    } else if (!*ierr) {
      PetscBool quiet = PETSC_FALSE;
      PetscCall(PetscPushErrorHandler(StgssaOutputErrorHandler, &quiet));
      *ierr = StgssaRunExecute(run);
      PetscCall(PetscPopErrorHandler());
      if (*ierr && !quiet) PetscCall(*ierr); /* traced: PETSc's full report */
    }
    if (*ierr) PetscCall(ReportInputError(*ierr));
  }
  PetscCall(StgssaRunDestroy(&run));
  PetscFunctionReturn(0);
}

static PetscErrorCode RunStudy(PetscBool help, PetscErrorCode *ierr)
{
  StgssaStudy study;

  PetscFunctionBegin;
  PetscCall(StgssaStudyCreate(PETSC_COMM_WORLD, &study));
  PetscCall(StgssaStudySetFromOptions(study));
  if (!help) {
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    *ierr = StgssaStudySetUp(study);
    PetscCall(PetscPopErrorHandler());
    if (!*ierr) {
      PetscInt  failed = 0;
      PetscBool quiet  = PETSC_FALSE;
      PetscCall(PetscPushErrorHandler(StgssaOutputErrorHandler, &quiet)); /* the study's file: one line */
      *ierr = StgssaStudyRun(study, &failed);
      PetscCall(PetscPopErrorHandler());
      if (*ierr && !quiet) PetscCall(*ierr); /* traced: PETSc's full report */
      if (*ierr) PetscCall(ReportInputError(*ierr));
      else if (failed) *ierr = PETSC_ERR_LIB; /* each failure was reported as it happened */
    } else PetscCall(ReportInputError(*ierr));
  }
  PetscCall(StgssaStudyDestroy(&study));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscBool      help = PETSC_FALSE, study = PETSC_FALSE;
  PetscErrorCode ierr = 0;

  /* Started without mpirun (a singleton), Open MPI 4 launches a helper daemon by default: about
     0.25 s of every run on a small machine. The program never spawns processes, so run the
     singleton isolated unless the user chose otherwise (no effect under mpirun or other MPIs). */
  if (!getenv("OMPI_MCA_ess_singleton_isolated")) setenv("OMPI_MCA_ess_singleton_isolated", "1", 0);
  PetscCall(PetscInitialize(&argc, &argv, NULL, usage));
  PetscCall(StgssaInitializePackage());
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-stgssa_study", &study));
  PetscCall(StgssaOptionsCollectKnown(PETSC_COMM_WORLD)); /* before any object reads its options */
  if (help) { /* every option with its default: the study's, then a run's */
    PetscCall(RunStudy(help, &ierr));
    PetscCall(RunOne(help, &ierr));
  } else if (study) PetscCall(RunStudy(help, &ierr));
  else PetscCall(RunOne(help, &ierr));
  PetscCall(PetscFinalize());
  return ierr ? 1 : 0;
}
