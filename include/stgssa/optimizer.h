/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaOptimizer: the `optimize` mode. theta = log-rates of the fitted parameters, held in a
  PETSc Vec (all entries on rank 0) and driven by TAO (default type "adam", registered by
  StgssaInitializePackage). One TAO objective-and-gradient call is one ensemble evaluation with
  one reduction. Fresh random numbers each evaluation (the evaluation count is part of the
  Philox counter) unless -stgssa_crn fixes them, which makes the objective deterministic for
  TAO's deterministic methods (blmvm, nm, ...).
  Checkpoints (-stgssa_checkpoint_interval K) rewrite the whole output file atomically with a
  /checkpoint group; -stgssa_restart FILE continues from it, bitwise identically with adam.
*/
#ifndef STGSSA_OPTIMIZER_H
#define STGSSA_OPTIMIZER_H

#include <petsctao.h>
#include <stgssa/evaluator.h>
#include <stgssa/objective.h>

typedef struct _p_StgssaOptimizer *StgssaOptimizer;

PETSC_EXTERN PetscErrorCode StgssaOptimizerCreate(MPI_Comm, StgssaOptimizer *);
PETSC_EXTERN PetscErrorCode StgssaOptimizerSetProblem(StgssaOptimizer, StgssaModel, StgssaEnsemble, StgssaEvaluator, StgssaObjective);
/* Output file: checkpoints and the final result are written there (atomically). */
PETSC_EXTERN PetscErrorCode StgssaOptimizerSetOutput(StgssaOptimizer, const char[]);
PETSC_EXTERN PetscErrorCode StgssaOptimizerSetFromOptions(StgssaOptimizer);
PETSC_EXTERN PetscErrorCode StgssaOptimizerSetUp(StgssaOptimizer);
PETSC_EXTERN PetscErrorCode StgssaOptimizerSolve(StgssaOptimizer);
PETSC_EXTERN PetscErrorCode StgssaOptimizerGetTao(StgssaOptimizer, Tao *);
/* Fitted rates k_p = exp(theta_p) after Solve (length P, on every rank) and the last loss. */
PETSC_EXTERN PetscErrorCode StgssaOptimizerGetResult(StgssaOptimizer, const PetscReal **rates, PetscReal *loss);
PETSC_EXTERN PetscErrorCode StgssaOptimizerView(StgssaOptimizer, PetscViewer);
/* Collective: write /run, /history, /result, /checkpoint to the output file atomically. */
PETSC_EXTERN PetscErrorCode StgssaOptimizerWrite(StgssaOptimizer);
PETSC_EXTERN PetscErrorCode StgssaOptimizerDestroy(StgssaOptimizer *);

#endif
