/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaObjective: a loss L(mu) of the ensemble means mu of an StgssaEvaluator, with the chain
  rule done once: dL/dtheta_p = sum_m (dL/dmu_m) (dmu_m/dtheta_p) (DESIGN.md §2, "Losses").
    moments       sum over data times and species of the relative squared error of the first
                  -stgssa_moment_orders central moments (mean, variance, third central moment)
    distribution  distance (-stgssa_distance kl|hellinger|w1) between the soft histogram of the
                  model and the data histogram at the last data time
    timecourse    the distribution loss summed over every data time
    likelihood    (default) -log L = -sum_t sum_cells log p~_t(x_cell) over every data time and
                  observed quantity, reported per cell (divided by the cells over all data times);
                  p~ = (p + alpha)/(sum p + B alpha) over one-hot bins 0..B-1 (the last bin lumps
                  the tail). With fsp p is exact and alpha = 1e-12 a floor; with the SSA p^ is the
                  ensemble frequency and alpha = 1/(2N) (half a trajectory per bin), which makes
                  the bias of log p^ the same in every bin to first order: E[log p^] - log p =
                  -(B-1)/(2N) + O(N^-2), so -log L per cell reads (B-1)/(2N) high at any theta.
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
#include <stgssa/traces.h>

typedef enum {
  STGSSA_LOSS_MOMENTS      = 0,
  STGSSA_LOSS_DISTRIBUTION = 1,
  STGSSA_LOSS_TIMECOURSE   = 2,
  STGSSA_LOSS_DESIGN       = 3,
  STGSSA_LOSS_LIKELIHOOD   = 4,
  STGSSA_LOSS_CORRELATION  = 5  /* reduced chi-square of means and covariances against per-cell traces (include/stgssa/traces.h) */
} StgssaLossType;
PETSC_EXTERN const char *const StgssaLossTypes[];

typedef struct _p_StgssaObjective *StgssaObjective;

PETSC_EXTERN PetscErrorCode StgssaObjectiveCreate(MPI_Comm, StgssaObjective *);
PETSC_EXTERN PetscErrorCode StgssaObjectiveSetFromOptions(StgssaObjective);
/* Data loaded already (StgssaRun loads -stgssa_data before the ensemble: its times are sample
   times); borrowed, not destroyed by the objective. Without it SetUp loads -stgssa_data itself. */
PETSC_EXTERN PetscErrorCode StgssaObjectiveSetData(StgssaObjective, StgssaData);
/* Per-cell traces (-stgssa_data_traces, loaded by the run before the ensemble): borrowed. With them
   the default loss is correlation. */
PETSC_EXTERN PetscErrorCode StgssaObjectiveSetTraces(StgssaObjective, StgssaTraces);
/* Whether a loss was requested (-stgssa_data or -stgssa_loss design). */
PETSC_EXTERN PetscErrorCode StgssaObjectiveIsActive(StgssaObjective, PetscBool *);
/* Configure the evaluator for this loss (soft histograms, entropy production); before its SetUp. */
PETSC_EXTERN PetscErrorCode StgssaObjectiveSetUp(StgssaObjective, StgssaEvaluator);
/* Loss and gradient (length P) at the evaluator's last evaluation; stderr may be NULL. */
PETSC_EXTERN PetscErrorCode StgssaObjectiveCompute(StgssaObjective, StgssaEvaluator, PetscReal *loss, PetscReal grad[], PetscReal stderr_[]);
PETSC_EXTERN PetscErrorCode StgssaObjectiveView(StgssaObjective, PetscViewer);
/* -log L (total; NaN unless the loss is likelihood) and the cells over the data times, of the last Compute. */
PETSC_EXTERN PetscErrorCode StgssaObjectiveGetNegLogLikelihood(StgssaObjective, PetscReal *total, PetscReal *cells);
/* Collective when theta is given (one more evaluation there, random-number iteration `iteration`;
   NULL: the last evaluation): loss, per-time report and, for the likelihood, the Fisher
   information, standard errors, correlations, 95% intervals (include/stgssa/uncertainty.h). */
/* Fisher information per log-rate of the likelihood at the evaluator's last evaluation (exact
   with FSP, plug-in on the SSA route): F[P x P] in total, or per cell (the scale of the reported
   loss) with per_cell. The loss must be the likelihood. */
PETSC_EXTERN PetscErrorCode StgssaObjectiveIsLikelihood(StgssaObjective, PetscBool *);
PETSC_EXTERN PetscErrorCode StgssaObjectiveFisherInformation(StgssaObjective, StgssaEvaluator, PetscBool per_cell, PetscReal F[]);
PETSC_EXTERN PetscErrorCode StgssaObjectiveSummarize(StgssaObjective, StgssaEvaluator, const PetscReal theta[], PetscInt iteration);
/* After Summarize with the likelihood: the Fisher information [P x P] per log-rate, the standard
   errors [P] and the 95% intervals [2P] (rate units); *P = 0 and NULL without them. Any may be NULL. */
PETSC_EXTERN PetscErrorCode StgssaObjectiveGetUncertainty(StgssaObjective, PetscInt *P, const PetscReal **fisher, const PetscReal **se, const PetscReal **ci);
/* Rank 0, into an open group (/result or /gradient): neg_log_likelihood, and after Summarize
   fisher, stderr_log, correlation, ci95 and fit/<observable>/. */
PETSC_EXTERN PetscErrorCode StgssaObjectiveWriteHDF5(StgssaObjective, hid_t group);
/* After Summarize: the result table, weakly identified directions in words, the per-time table. */
PETSC_EXTERN PetscErrorCode StgssaObjectiveViewResult(StgssaObjective, const char *const names[], PetscViewer);
PETSC_EXTERN PetscErrorCode StgssaObjectiveDestroy(StgssaObjective *);

#endif
