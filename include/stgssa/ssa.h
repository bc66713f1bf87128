/* SPDX-License-Identifier: BSD-2-Clause */
/*
  The exact SSA engine: one trajectory at a time, random numbers from Philox keyed by
  (seed, global trajectory index), so a trajectory depends on nothing but its index.
*/
#ifndef STGSSA_SSA_H
#define STGSSA_SSA_H

#include <stgssa/model.h>

typedef struct {
  const StgssaNetwork *net;
  uint32_t             seed;
  uint32_t             iteration;    /* outer iteration (optimizer step), part of the RNG counter */
  double               tfinal;
  int64_t              max_events;   /* per-trajectory cap on SSA events */
  PetscInt             nsample;
  const double        *sample_times; /* [nsample], ascending, in [0, tfinal] */
} StgssaSSAConfig;

/* How one trajectory ended. */
typedef enum {
  STGSSA_TRAJ_TFINAL   = 0, /* reached the end time */
  STGSSA_TRAJ_ABSORBED = 1, /* a0 = 0: absorbing state held until tfinal */
  STGSSA_TRAJ_CAPPED   = 2  /* hit max_events before tfinal: later samples hold the last state */
} StgssaTrajEnd;

typedef struct {
  int64_t      events;
  StgssaTrajEnd end;
} StgssaTrajInfo;

/* Work space for StgssaSSARun, sized for one network. */
typedef struct {
  int64_t *x; /* [S] state */
  double  *a; /* [R] propensities */
} StgssaSSAWork;

PETSC_EXTERN PetscErrorCode StgssaSSAWorkCreate(const StgssaNetwork *, StgssaSSAWork *);
PETSC_EXTERN PetscErrorCode StgssaSSAWorkDestroy(StgssaSSAWork *);

/* Simulate trajectory `traj`; samples[i*S + s] receives x_s(sample_times[i]). Not collective. */
PETSC_EXTERN PetscErrorCode StgssaSSARun(const StgssaSSAConfig *, uint64_t traj, StgssaSSAWork *, int64_t *samples, StgssaTrajInfo *);

/* Mass-action propensity a_j(x) = k_j prod_s C(x_s, r_js)   (DESIGN.md §2) */
static inline double StgssaPropensity(const StgssaNetwork *net, PetscInt j, const int64_t *x)
{
  double a = net->k[j];
  if (net->order1[j] >= 0) return a * (double)x[net->order1[j]]; /* fast paths: first and zeroth order */
  if (net->order1[j] == -1) return a;
  for (PetscInt t = net->react_ptr[j]; t < net->react_ptr[j + 1]; t++) {
    const int64_t n = x[net->react_species[t]];
    const PetscInt c = net->react_coef[t];
    if (n < c) return 0.0;
    /* C(n, c) = prod_{i=0}^{c-1} (n - i) / (i + 1) */
    double b = (double)n;
    for (PetscInt i = 1; i < c; i++) b = b * (double)(n - i) / (double)(i + 1);
    a *= b;
  }
  return a;
}

/* a_j of any reaction: mass action, or the rate law read at env's state and time. */
static inline double StgssaPropensityAt(const StgssaNetwork *net, PetscInt j, const int64_t *x, const StgssaLawEnv *env)
{
  return net->order1[j] == -3 ? StgssaPropensityLaw(net, j, x, env) : StgssaPropensity(net, j, x);
}

/* Index j with cumulative propensity first exceeding target = U a_0 (reactions with a_j = 0 can
   never be the first to exceed it). Rounding can leave target at or above the last partial sum:
   then the last reaction with a_j > 0 is chosen. Shared by every engine so that forward paths
   agree to the bit. */
static inline PetscInt StgssaSelectReaction(PetscInt R, const double *a, double target)
{
  double cum = 0.0;
  for (PetscInt j = 0; j < R; j++) {
    cum += a[j];
    if (cum > target) return j;
  }
  for (PetscInt j = R - 1; j > 0; j--)
    if (a[j] > 0.0) return j;
  return 0;
}

/* a_0 = sum_j a_j in index order, recomputing every propensity. */
static inline double StgssaPropensitiesAll(const StgssaNetwork *net, const int64_t *x, double *a)
{
  double a0 = 0.0;
  for (PetscInt j = 0; j < net->R; j++) {
    a[j] = StgssaPropensity(net, j, x);
    a0 += a[j];
  }
  return a0;
}

#endif
