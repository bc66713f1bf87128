/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaObjective: a loss L(mu) of the ensemble means mu of an StgssaEvaluator, with the chain
  rule done once: dL/dtheta_p = sum_m (dL/dmu_m) (dmu_m/dtheta_p) (DESIGN.md §2, "Losses").
    moments       sum over data times and species of the relative squared error of the first
                  -stgssa_moment_orders central moments (mean, variance, third central moment)
    distribution  distance (-stgssa_distance kl|hellinger|w1) between the soft histogram of the
                  model and the data histogram at the last data time
    timecourse    the distribution loss summed over every data time
    design        -<J> (-stgssa_design current) or -Q (-stgssa_design tur), Q = 2<J>^2/(Var J <Sigma>),
                  for the current J of the labelled <-> pair -stgssa_design_pair, plus quadratic
                  penalties on entropy production per unit time and activity above their budgets
  Standard errors of the gradient come from the evaluator's batches (delta method: the same
  dL/dmu applied to each batch's derivative estimate).
*/
#ifndef STGSSA_OBJECTIVE_H
#define STGSSA_OBJECTIVE_H

#include <stgssa/evaluator.h>
#include <stgssa/data.h>

typedef enum {
  STGSSA_LOSS_MOMENTS      = 0,
  STGSSA_LOSS_DISTRIBUTION = 1,
  STGSSA_LOSS_TIMECOURSE   = 2,
  STGSSA_LOSS_DESIGN       = 3
} StgssaLossType;
PETSC_EXTERN const char *const StgssaLossTypes[];

typedef struct _p_StgssaObjective *StgssaObjective;

PETSC_EXTERN PetscErrorCode StgssaObjectiveCreate(MPI_Comm, StgssaObjective *);
PETSC_EXTERN PetscErrorCode StgssaObjectiveSetFromOptions(StgssaObjective);
/* Data loaded already (StgssaRun loads -stgssa_data before the ensemble: its times are sample
   times); borrowed, not destroyed by the objective. Without it SetUp loads -stgssa_data itself. */
PETSC_EXTERN PetscErrorCode StgssaObjectiveSetData(StgssaObjective, StgssaData);
/* Whether a loss was requested (-stgssa_data or -stgssa_loss design). */
PETSC_EXTERN PetscErrorCode StgssaObjectiveIsActive(StgssaObjective, PetscBool *);
/* Configure the evaluator for this loss (soft histograms, entropy production); before its SetUp. */
PETSC_EXTERN PetscErrorCode StgssaObjectiveSetUp(StgssaObjective, StgssaEvaluator);
/* Loss and gradient (length P) at the evaluator's last evaluation; stderr may be NULL. */
PETSC_EXTERN PetscErrorCode StgssaObjectiveCompute(StgssaObjective, StgssaEvaluator, PetscReal *loss, PetscReal grad[], PetscReal stderr_[]);
PETSC_EXTERN PetscErrorCode StgssaObjectiveView(StgssaObjective, PetscViewer);
PETSC_EXTERN PetscErrorCode StgssaObjectiveDestroy(StgssaObjective *);

#endif
