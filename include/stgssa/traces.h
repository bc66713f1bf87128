/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaTraces: per-cell trajectory data (live-cell traces, -stgssa_data_traces FILE.csv) and the
  `correlation` loss against them (issue 18).

  CSV: a header line `cell,time,S1,S2,...` (time column `time`, `Time` or `t`; the other columns
  species or groups of the model), then one row per cell and time. Every cell must have the same
  times (no ragged traces). Errors name file:line.

  Statistics across the n cells at the data times t_i (sample times of the run):
    mean_S(t_i), its standard error sd/sqrt(n);
    Cov(A(t_i), B(t_j)) = sum_c (A_c(t_i) - mean)(B_c(t_j) - mean) / (n - 1) for every correlation
    product of the run (StgssaSampling.corr) whose A, B are data columns, with the standard error
    sd(z)/sqrt(n) of z_c = (A_c - mean_A)(B_c - mean_B) (delta method).
  Loss (reduced chi-square with the data's standard errors as weights):
    L = (1/n_terms) [ sum_{S,i} (mu_S(t_i) - mean_S(t_i))^2 / se^2 + sum_k (C_k(model) - C_k(data))^2 / se_k^2 ]
  where the model covariance is N/(N-1) (E[AB] - E[A] E[B]) from the ensemble means; terms whose
  data standard error is 0 (e.g. a fixed initial count) are left out (and counted in the report).
*/
#ifndef STGSSA_TRACES_H
#define STGSSA_TRACES_H

#include <stgssa/evaluator.h>

typedef struct _p_StgssaTraces *StgssaTraces;

/* Read and check FILE (collective: rank 0 reads, every rank parses the same text); known[] are the
   names a data column may have (species and groups), what says where they come from. */
PETSC_EXTERN PetscErrorCode StgssaTracesLoad(MPI_Comm, const char path[], PetscInt nknown, const char *const known[], const char what[], StgssaTraces *);
PETSC_EXTERN PetscErrorCode StgssaTracesGetTimes(StgssaTraces, PetscInt *ntimes, const PetscReal **times);
PETSC_EXTERN PetscErrorCode StgssaTracesGetColumns(StgssaTraces, PetscInt *ncol, const char *const **names);
PETSC_EXTERN PetscErrorCode StgssaTracesGetNumCells(StgssaTraces, PetscInt *ncells);
/* Default correlation of the traces: auto-correlation of every column at lags t_j - t_0, j < T/2 (into c, appended). */
PETSC_EXTERN PetscErrorCode StgssaTracesDefaultCorrelation(StgssaTraces, StgssaCorrelation *c);
/* Match the data to the evaluator's sampling (times, observed quantities, correlation products). */
PETSC_EXTERN PetscErrorCode StgssaTracesSetUp(StgssaTraces, StgssaEvaluator);
/* Loss L and dL/dmu [M] (added into dLdmu, which the caller zeroes) from the means mu. */
PETSC_EXTERN PetscErrorCode StgssaTracesLoss(StgssaTraces, StgssaEvaluator, const PetscReal mu[], PetscReal *L, PetscReal dLdmu[]);
PETSC_EXTERN PetscErrorCode StgssaTracesGetSummary(StgssaTraces, char buf[], size_t len);
/* /data: times [T], cells (attribute), mean/<S> and mean_stderr/<S> [T], correlation/<A>_<B> and
   correlation_stderr/<A>_<B> [T x L] (attribute lags; NaN where not in the data). loc: any object of the file. */
PETSC_EXTERN PetscErrorCode StgssaTracesWriteHDF5(StgssaTraces, hid_t loc);
PETSC_EXTERN PetscErrorCode StgssaTracesDestroy(StgssaTraces *);

#endif
