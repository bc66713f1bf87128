/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaOptimizer: the `optimize` mode. theta = log-rates of the fitted parameters, held in a
  PETSc Vec (all entries on rank 0) and driven by TAO (default type "adam", registered by
  StgssaInitializePackage). One TAO objective-and-gradient call is one ensemble evaluation with
  one reduction. Fresh random numbers each evaluation (the evaluation count is part of the
  Philox counter) unless -stgssa_crn fixes them, which makes the objective deterministic for
  TAO's deterministic methods (blmvm, nm, ...).
  Affine constraints between log-rates (-stgssa_log_constraint "DEP=TERM+TERM-...;..."): each
  constraint makes log k_DEP = c0 + sum_j c_j log k_j (TERM: NAME, NUMBER*NAME or NUMBER; DEP and
  every NAME fitted; no dependent on a right-hand side). TAO then sees only the Q = P - #dependents
  free log-rates phi: theta = B phi + c (B is P x Q), and its gradient is B^T dL/dtheta (chain
  rule), so the constraints hold exactly at every iterate. Dependents start at the value the
  constraint gives them and cannot be bounded. /history, /result and /checkpoint/theta stay in the
  P fitted log-rates; the TAO state (X, G, bounds, /checkpoint/adam_m, adam_v) has Q entries.
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

/* An analytic problem instead of the evaluator and objective (unit tests and tests/bench: the
   optimizer's own work -- TAO, history, schedule, checkpoints, restart -- without a simulation).
   fn(theta [P], evaluation index, ctx) gives the loss, its gradient by theta and the gradient's
   standard errors (all [P], identical on every rank); the index is the random-number iteration
   (0 with -stgssa_crn). The gradient counts as stochastic (the schedule applies as with score);
   seed and trajectories are bookkeeping only (ntraj >= 2). Names and theta0 are copied. Call
   instead of StgssaOptimizerSetProblem, before SetFromOptions. */
typedef PetscErrorCode (*StgssaOptimizerAnalyticFn)(const PetscReal theta[], PetscInt eval_index, PetscInt64 ntraj, PetscReal *loss, PetscReal grad[], PetscReal se[], void *ctx);
PETSC_EXTERN PetscErrorCode StgssaOptimizerSetAnalyticProblem(StgssaOptimizer, PetscInt P, const char *const names[], const PetscReal theta0[], PetscInt seed, PetscInt64 ntraj, StgssaOptimizerAnalyticFn fn, void *ctx);

#endif
