/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Time-correlation observables (-stgssa_correlate A:B@lags, DESIGN.md §8; internal API in doc/correlation_api.md).

  A specification is a list of pairs (A, B) of observed quantities (species or integer-weight
  groups; A = B: auto-correlation), each with its own lags tau_l >= 0 (ascending, distinct).
  Per trajectory the products A(t_i) B(t_i + tau_l) are observables; their ensemble means give
      C_AB(t_i, t_i + tau_l) = E[A(t_i) B(t_i + tau_l)]
  and, with the one-time means, the covariance Cov(A(t_i), B(t_i + tau_l)) = C_AB - E[A(t_i)] E[B(t_i + tau_l)].

  Sample times: StgssaCorrelationAddTimes unites the requested sample times t_i with every
  t_i + tau_l <= tfinal (one level: the added times get no further lags), so every requested
  time has all its lags that fit. After that, StgssaCorrelationResolve maps the grid
  (lag l of pair c, sample i) over ALL sample times to the sample index j of t_i + tau_l
  (within 1e-9 relative), or -1 (t_i + tau_l beyond tfinal or not a sample time: NaN in output).
  Products are the grid entries with j >= 0, in the order (pair c, lag l, sample i).
*/
#ifndef STGSSA_CORRELATE_H
#define STGSSA_CORRELATE_H

#include <petscsys.h>

#define STGSSA_CORRELATE_MAX_LAGS 4096 /* lags per pair (a range a:h:b is expanded) */

typedef struct {
  /* as parsed */
  PetscInt   npair;   /* pairs (A, B) */
  char     **a, **b;  /* [npair] names of A and B as given */
  PetscInt  *lag_ptr; /* [npair+1] lags of pair c: lags[lag_ptr[c] .. lag_ptr[c+1]-1] */
  PetscReal *lags;    /* [nlag = lag_ptr[npair]] ascending and distinct within a pair, >= 0 */
  /* resolved against a sampling design (StgssaCorrelationResolve) */
  PetscInt  *oa, *ob;  /* [npair] observed-quantity index of A and of B */
  PetscInt   nsample;  /* sample times T of the grid */
  PetscInt  *later;    /* [nlag*nsample] (row l global lag index, column i): sample index j of t_i + tau_l, or -1 */
  PetscInt  *prod;     /* [nlag*nsample] product index k of (l, i), or -1 */
  PetscInt   nprod;    /* products k = 0..nprod-1 */
  PetscInt  *prod_a, *prod_b; /* [nprod] observed-quantity index of A, B */
  PetscInt  *prod_i, *prod_j; /* [nprod] sample index of A's time t_i and of B's time t_i + tau */
  PetscInt  *prod_pair;       /* [nprod] pair c */
} StgssaCorrelation;

/* Parse one value of -stgssa_correlate and append its pairs to c. Items are separated by ';' or
   ','; an item with '@' starts a pair "A:B@LAGS", items without '@' are more lags of the pair
   before. A lag is a number or a range a:h:b (a, a+h, ..., up to b within 1e-9 h). source names
   the option (or file) in errors. */
PETSC_EXTERN PetscErrorCode StgssaCorrelationParse(MPI_Comm, const char text[], const char source[], StgssaCorrelation *c);
/* Every -stgssa_correlate of the command line (the option may be repeated there), else the one
   of the options database (options file, PETSC_OPTIONS); *set tells whether any was given. */
PETSC_EXTERN PetscErrorCode StgssaCorrelationFromOptions(MPI_Comm, StgssaCorrelation *c, PetscBool *set);
/* Union of times[0..n-1] (ascending) and every times[i] + tau <= tfinal (within 1e-9 relative);
   *out allocated (PetscFree), ascending. */
PETSC_EXTERN PetscErrorCode StgssaCorrelationAddTimes(const StgssaCorrelation *c, PetscReal tfinal, PetscInt n, const PetscReal times[], PetscInt *nout, PetscReal **out);
/* Resolve names against the observed quantities and the grid against the sample times. */
PETSC_EXTERN PetscErrorCode StgssaCorrelationResolve(MPI_Comm, StgssaCorrelation *c, PetscInt nsample, const PetscReal times[], PetscInt nobs, const char *const obs_names[]);
/* "A_B": the HDF5 dataset name of pair c. */
PETSC_EXTERN PetscErrorCode StgssaCorrelationPairName(const StgssaCorrelation *c, PetscInt pair, char buf[], size_t len);
/* Copy (deep) and free the contents (the struct itself is the caller's). */
PETSC_EXTERN PetscErrorCode StgssaCorrelationCopy(const StgssaCorrelation *from, StgssaCorrelation *to);
PETSC_EXTERN PetscErrorCode StgssaCorrelationReset(StgssaCorrelation *c);

#endif
