/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaEnsemble: the `simulate` mode. N trajectories with global indices 0..N-1 are split in
  contiguous blocks over the ranks of a communicator; each rank simulates its block into exact
  integer histograms (one per sample time and observed quantity: a species, or a weighted sum of
  species with integer weights, a BioNetGen group); one reduction combines them.
  Results are bitwise independent of the number of ranks.
*/
#ifndef STGSSA_ENSEMBLE_H
#define STGSSA_ENSEMBLE_H

#include <stgssa/model.h>
#include <stgssa/ssa.h>
#include <stgssa/histogram.h>
#include <stgssa/output.h>
#include <stgssa/observable.h>
#include <stgssa/fsp.h>
#include <stgssa/correlate.h>

typedef struct _p_StgssaEnsemble *StgssaEnsemble;

/* The sampling design of an ensemble (after SetUp): which trajectories, when, what is observed.
   Derivative evaluations (StgssaEvaluator) simulate the same design. */
typedef struct {
  PetscInt         ntraj, seed, max_events;
  PetscReal        tfinal;
  PetscReal        t0;        /* start time of the paths: 0, or -burn-in with -stgssa_initial steady */
  PetscReal        thin_step; /* thinning cell length for time-dependent propensities */
  PetscInt         nsample;
  const PetscReal *sample_times;
  PetscInt         nobs;      /* observed quantities (-stgssa_observe): species or groups */
  const PetscInt  *obs_ptr;   /* [nobs+1] terms of quantity o: obs_ptr[o] .. obs_ptr[o+1]-1 (observable.h) */
  const PetscInt  *obs;       /* species index of each term (a species: its one term, obs[obs_ptr[o]]) */
  const int64_t   *obs_weight; /* integer weight of each term (1 for a species) */
  const PetscInt  *obs_group; /* [nobs] model group index of quantity o, -1 for a species */
  const PetscInt  *obs_rule;  /* [nobs] rule index (StgssaModelDef.rules) of an expression observable
                                 (no terms: its value is the double f(x, k), StgssaRuleTangent), -1 a
                                 sum of species; NULL when no observable is an expression */
  const char *const *obs_names;
  const StgssaCorrelation *corr; /* -stgssa_correlate resolved on these sample times and observed quantities; NULL if none */
} StgssaSampling;

/* -stgssa_initial */
PETSC_EXTERN const char *const StgssaInitialTypes[];
PETSC_EXTERN PetscErrorCode StgssaEnsembleCreate(MPI_Comm, StgssaEnsemble *);
PETSC_EXTERN PetscErrorCode StgssaEnsembleSetModel(StgssaEnsemble, StgssaModel);
PETSC_EXTERN PetscErrorCode StgssaEnsembleSetNumTrajectories(StgssaEnsemble, PetscInt);
PETSC_EXTERN PetscErrorCode StgssaEnsembleSetSeed(StgssaEnsemble, PetscInt);
PETSC_EXTERN PetscErrorCode StgssaEnsembleSetTimes(StgssaEnsemble, PetscReal tfinal, PetscInt nsample, const PetscReal sample_times[]);
/* Times of the data (-stgssa_data; negative entries, stationary data, are skipped), before SetUp:
   the sample times become the data times united with any given, and tfinal defaults to the last
   of them (a given tfinal before the last data time is an error naming `source`). */
PETSC_EXTERN PetscErrorCode StgssaEnsembleSetDataTimes(StgssaEnsemble, PetscInt n, const PetscReal times[], const char source[]);
/* Whether tfinal was given, how many sample times were given, how many data times were set. */
PETSC_EXTERN PetscErrorCode StgssaEnsembleGetRequestedTimes(StgssaEnsemble, PetscBool *tfinal_set, PetscInt *nsample_set, PetscInt *ndata);
/* After StgssaFSPSetFromOptions (which reads -stgssa_sample_times / -stgssa_tfinal itself): with
   data times, give the FSP the ensemble's sample times (data times united with any given);
   -stgssa_fsp_steady (the FSP's single time -1) stays. */
PETSC_EXTERN PetscErrorCode StgssaEnsembleSetFSPTimes(StgssaEnsemble, StgssaFSP);
/* -stgssa_initial steady (burn-in from x0 over [-burnin, 0] at the inputs of t = 0) or x0 */
PETSC_EXTERN PetscErrorCode StgssaEnsembleSetInitial(StgssaEnsemble, PetscBool steady, PetscReal burnin);
/* the SSA route with -stgssa_initial steady needs a burn-in > 0: an input error otherwise */
PETSC_EXTERN PetscErrorCode StgssaEnsembleCheckBurnin(StgssaEnsemble);
/* -stgssa_initial steady without -stgssa_initial_burnin: 20 relaxation times of a first-order
   network at the model's current rates (nothing for other networks); and the burn-in in use
   (default_rate > 0: it is that default, 20/default_rate) */
PETSC_EXTERN PetscErrorCode StgssaEnsembleSetDefaultBurnin(StgssaEnsemble);
PETSC_EXTERN PetscErrorCode StgssaEnsembleGetBurnin(StgssaEnsemble, PetscBool *steady, PetscReal *T, PetscReal *default_rate);
/* Time correlations (copied): their times t + tau are added to the sample times, A and B to the
   observed quantities (after the given or default ones) */
PETSC_EXTERN PetscErrorCode StgssaEnsembleSetCorrelation(StgssaEnsemble, const StgssaCorrelation *);
/* After Run: Cov(A(t_i), B(t_i + tau)) of product k, its batch standard error, and the raw mean E[A B] */
PETSC_EXTERN PetscErrorCode StgssaEnsembleGetCorrelation(StgssaEnsemble, PetscInt k, PetscReal *cov, PetscReal *stderr_cov, PetscReal *mean_product);
PETSC_EXTERN PetscErrorCode StgssaEnsembleSetObserved(StgssaEnsemble, PetscInt nobs, const char *const names[]);
/* -stgssa_ssa_method: the exact method of StgssaEnsembleRun (derivative modes use the direct method only) */
PETSC_EXTERN PetscErrorCode StgssaEnsembleSetSSAMethod(StgssaEnsemble, StgssaSSAMethod);
PETSC_EXTERN PetscErrorCode StgssaEnsembleGetSSAMethod(StgssaEnsemble, StgssaSSAMethod *);
PETSC_EXTERN PetscErrorCode StgssaEnsembleSetFromOptions(StgssaEnsemble);
PETSC_EXTERN PetscErrorCode StgssaEnsembleSetUp(StgssaEnsemble);
PETSC_EXTERN PetscErrorCode StgssaEnsembleRun(StgssaEnsemble);
PETSC_EXTERN PetscErrorCode StgssaEnsembleGetSampling(StgssaEnsemble, StgssaSampling *);
/* Contiguous block [start, end) of global trajectory indices 0..n-1 owned by this rank of comm. */
PETSC_EXTERN PetscErrorCode StgssaOwnershipRange(MPI_Comm, PetscInt64 n, PetscInt64 *start, PetscInt64 *end);
PETSC_EXTERN PetscErrorCode StgssaEnsembleView(StgssaEnsemble, PetscViewer);
/* Moments (mean, variance, third central moment) of observed species o at sample i. */
PETSC_EXTERN PetscErrorCode StgssaEnsembleGetMoments(StgssaEnsemble, PetscInt i, PetscInt o, PetscReal moments[3]);
PETSC_EXTERN PetscErrorCode StgssaEnsembleGetHistogram(StgssaEnsemble, PetscInt i, PetscInt o, PetscInt64 *nbins, const int64_t **counts);
PETSC_EXTERN PetscErrorCode StgssaEnsembleGetEventCount(StgssaEnsemble, PetscInt64 *);
/* load balance of Run: largest SSA events of one rank / mean over ranks (1: perfect) */
PETSC_EXTERN PetscErrorCode StgssaEnsembleGetLoadImbalance(StgssaEnsemble, PetscReal *);
/* Write /run attributes specific to the ensemble and the /simulate group (rank 0 only, inside StgssaOutputWrite). */
PETSC_EXTERN PetscErrorCode StgssaEnsembleWriteHDF5(StgssaEnsemble, hid_t file);
PETSC_EXTERN PetscErrorCode StgssaEnsembleDestroy(StgssaEnsemble *);

#endif
