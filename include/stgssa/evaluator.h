/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaEvaluator: one evaluation of ensemble means of trajectory observables and of their
  derivatives with respect to the fitted log-rates theta_p = log k_p (DESIGN.md §2-3).

  Every trajectory contributes a vector o of M observables (layout below) and its derivative
  estimate do/dtheta (M x P). Sums go into exact accumulators per batch of trajectories (batches
  are ranges of global trajectory indices, independent of the rank count), and ONE integer
  MPI_Allreduce combines them, so means and derivatives are bitwise identical on any number of
  ranks. Batch means give standard errors of anything computed from the means.
*/
#ifndef STGSSA_EVALUATOR_H
#define STGSSA_EVALUATOR_H

#include <stgssa/ensemble.h>
#include <stgssa/tangent.h>
#include <stgssa/lossfn.h>
#include <stgssa/fsp.h>

/* Index ranges of the observable vector o. */
typedef struct {
  PetscInt M;        /* total */
  PetscInt off_pow;  /* x^k of observed quantity o (species or group) at sample i: off_pow + (i*nobs + o)*3 + (k-1), k = 1,2,3 */
  PetscInt B;        /* soft-histogram bins (0: none) */
  PetscInt off_hist; /* soft histogram p_b(x) at sample i, species o: off_hist + (i*nobs + o)*B + b */
  PetscInt nwin;     /* 3*nobs if a window is set, else 0 */
  PetscInt off_win;  /* (time average over the window)^k: off_win + o*3 + (k-1) */
  PetscInt npairs;   /* labelled <-> pairs (currents) */
  PetscInt off_cur;  /* J, J^2 of pair c: off_cur + 2c + {0,1}; J = (#forward - #backward)/tfinal */
  PetscInt off_act;  /* activity A = events/tfinal and A^2: off_act + {0,1} */
  PetscInt nsig;     /* 2 if entropy production is recorded, else 0 */
  PetscInt off_sig;  /* Sigma, Sigma^2: off_sig + {0,1} */
  PetscInt ncorr;    /* -stgssa_correlate products (StgssaSampling.corr->nprod; 0: none) */
  PetscInt off_corr; /* A(t_i) B(t_j) of product k: off_corr + k (score: S(t_j), the later time); off_corr + ncorr = M */
} StgssaObsLayout;

typedef struct _p_StgssaEvaluator *StgssaEvaluator;

/* Reduction of a loss's evaluation on the score route (-stgssa_reduction). single: one
   reduction of 2M + M P + (nsample+1) P exact sums per batch (means, d mu/d theta by the score
   covariance). two_pass: the first reduction carries the means and the score sums, 2M +
   (nsample+1) P per batch; the derivatives are deferred, and StgssaEvaluatorApplyAdjoint(dL/dmu)
   contracts each trajectory with dL/dmu and reduces P numbers per batch (pass 2: the kept or
   replayed trajectories). auto: two_pass when the single reduction would exceed
   STGSSA_REDUCTION_AUTO_BYTES (unless StgssaEvaluatorSetNeedDerivatives) or P > 64, for the score estimator. */
typedef enum {
  STGSSA_REDUCTION_AUTO     = 0,
  STGSSA_REDUCTION_SINGLE   = 1,
  STGSSA_REDUCTION_TWO_PASS = 2
} StgssaReductionType;
PETSC_EXTERN const char *const StgssaReductionTypes[];
#define STGSSA_REDUCTION_AUTO_BYTES (8.0 * 1048576.0)

PETSC_EXTERN PetscErrorCode StgssaEvaluatorCreate(MPI_Comm, StgssaEvaluator *);
/* The ensemble gives the model and the sampling design (trajectories, seed, times, species). */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorSetEnsemble(StgssaEvaluator, StgssaEnsemble, StgssaModel);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorSetFit(StgssaEvaluator, PetscInt P, const char *const names[]);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorSetGradientType(StgssaEvaluator, StgssaGradientType);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorSetTemperature(StgssaEvaluator, PetscReal);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorSetHistogram(StgssaEvaluator, PetscInt B, StgssaKernel, PetscReal bandwidth);
/* Duration over which the path observables count jumps: tfinal - (-stgssa_count_from). */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetPathDuration(StgssaEvaluator, PetscReal *);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetHistogram(StgssaEvaluator, PetscInt *B, StgssaKernel *, PetscReal *bandwidth);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorSetEntropy(StgssaEvaluator, PetscBool);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorSetFromOptions(StgssaEvaluator);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorSetUp(StgssaEvaluator);
/* The sampling design (from the ensemble); valid before SetUp. */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetSampling(StgssaEvaluator, StgssaSampling *);
/* Trajectories of the following evaluations (after SetUp; the ensemble keeps -stgssa_ntraj).
   Trajectory i draws from (seed, iteration, i) alone, so any sequence of sizes gives the same
   numbers on any rank count. A given -stgssa_ntraj_grad keeps its share of the trajectories. */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorSetNumTrajectories(StgssaEvaluator, PetscInt64 n);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetNumTrajectories(StgssaEvaluator, PetscInt64 *n);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetModel(StgssaEvaluator, StgssaModel *);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetGradientType(StgssaEvaluator, StgssaGradientType *);
/* The finite-state-projection solver behind -stgssa_gradient fsp (NULL for the other estimators). */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetFSP(StgssaEvaluator, StgssaFSP *);
/* -stgssa_gradient auto: a reason the exact route cannot serve this run (e.g. a loss on path
   observables), set before StgssaEvaluatorSetUp; and the choice made with its reason */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorSetNoFSPReason(StgssaEvaluator, const char reason[]);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetGradientChoice(StgssaEvaluator, StgssaGradientType *, PetscBool *automatic, const char **reason);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetLayout(StgssaEvaluator, const StgssaObsLayout **);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetFit(StgssaEvaluator, PetscInt *P, const char *const **names);
/* theta = log-rates of the fitted parameters (length P). */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorSetTheta(StgssaEvaluator, const PetscReal theta[]);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetTheta(StgssaEvaluator, PetscReal theta[]);
/* Iteration number: part of the random-number counter (fresh numbers per iteration unless fixed). */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorSetIteration(StgssaEvaluator, PetscInt);
/* Collective: simulate and reduce. */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorEvaluate(StgssaEvaluator);
/* Collective: an evaluation whose derivatives serve one loss gradient only (a fit's evaluations).
   The exact route then solves p alone and leaves the derivatives deferred (-stgssa_fsp_adjoint):
   StgssaEvaluatorGetDeferred says so, dmu is not available, and
   StgssaEvaluatorApplyAdjoint(dL/dmu) gives grad[p] = sum_m dL/dmu_m dmu_m/dtheta_p by one
   backward solve (src/fsp/adjoint.c). Other estimators: the same as StgssaEvaluatorEvaluate. */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorEvaluateForLoss(StgssaEvaluator);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetDeferred(StgssaEvaluator, PetscBool *);
/* Collective. Exact route: one backward solve. Score route after a two-pass first evaluation:
   the second pass (each rank's kept or replayed trajectories contracted with dL/dmu, one exact
   reduction of nbatch*P sums); the per-batch gradients then by StgssaEvaluatorGetAdjointBatches. */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorApplyAdjoint(StgssaEvaluator, const PetscReal dLdmu[], PetscReal grad[]);
/* Loss gradient per batch [nbatch*P] of the last StgssaEvaluatorApplyAdjoint (NULL on the exact route: no sampling error). */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetAdjointBatches(StgssaEvaluator, PetscInt *nbatch, const PetscReal **grad_batch);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorSetReduction(StgssaEvaluator, StgssaReductionType);
/* The caller reads dmu after each loss evaluation (Fisher scoring's Hessian): auto keeps the single
   reduction up to P = 64 (beyond, two passes; StgssaObjectiveFisherInformation then evaluates again in one pass). */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorSetNeedDerivatives(StgssaEvaluator, PetscBool);
/* Whether a loss's evaluation (StgssaEvaluatorEvaluateForLoss) takes the two-pass reduction (auto resolved; after SetUp). */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetTwoPass(StgssaEvaluator, PetscBool *);
/* Bytes of exact sums reduced by the last evaluation ([0]: the first or only reduction, [1]: pass 2)
   and this rank's seconds in them. */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetReductionStats(StgssaEvaluator, double bytes[2], double seconds[2]);
/* Collective: one line on the reductions so far (passes, mean bytes and seconds per evaluation, kept or replayed). */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorViewReduction(StgssaEvaluator, PetscViewer);
/* Global means mu [M] and derivatives dmu [M*P] (d mu_m / d theta_p at m*P + p). */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetMeans(StgssaEvaluator, const PetscReal **mu, const PetscReal **dmu);
/* Per-batch derivative estimates [nbatch][M*P] (for standard errors of derived quantities). */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetBatchDerivatives(StgssaEvaluator, PetscInt *nbatch, const PetscReal **dmu_batch);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetEventCount(StgssaEvaluator, PetscInt64 *);
/* load balance of the last evaluation: largest SSA events of one rank / mean over ranks (1: perfect) */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetLoadImbalance(StgssaEvaluator, PetscReal *);
/* Trajectories of the last evaluation that ended in an absorbing state (a_0 = 0) and that were
   stopped by -stgssa_max_events (with fd: in any of their 2P + 1 runs); global. */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetTrajectoryEnds(StgssaEvaluator, PetscInt64 *absorbed, PetscInt64 *capped);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorView(StgssaEvaluator, PetscViewer);
/* /gradient: fit_names, moments/<species> [T x 3], moments_gradient/<species> [T x 3 x P] and
   moments_gradient_stderr/<species> [T x 3 x P], the batch standard errors of moments_gradient
   (J dmu_b per batch b, J the central moments' Jacobian at the ensemble's raw moments; 0 on the
   exact route) (rank 0, inside StgssaOutputWrite). */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorWriteHDF5(StgssaEvaluator, hid_t file);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorDestroy(StgssaEvaluator *);

/* Central moments (mean, variance, third central moment) of observed quantity o at sample i and
   their derivatives dc[3*P] (row k: d c_k / d theta), from the raw-moment means. */
/* Cov(A(t_i), B(t_j)) of correlation product k (StgssaSampling.corr) from the means, its
   derivative dc[P] per fitted log-rate, and batch standard errors se (value) and dse[P]. */
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetCorrelation(StgssaEvaluator, PetscInt k, PetscReal *c, PetscReal dc[], PetscReal *se, PetscReal dse[]);
PETSC_EXTERN PetscErrorCode StgssaEvaluatorGetMoments(StgssaEvaluator, PetscInt i, PetscInt o, PetscReal c[3], PetscReal dc[]);

#endif
