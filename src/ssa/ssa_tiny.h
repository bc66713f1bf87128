/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Private to the engines of several paths at once (ssa_many.c, stgs_small.c): the forward step on tiny
  first-order networks (R <= 16, S < 16, every propensity k_j x_s or k_j), as vectors of N lanes
  (N = 4, 8 or 16 >= R and >= S + 1, a compile-time constant; GCC vector types).
    - the state is kept as doubles too, xf = (double)x, with the slot S fixed at 1.0 so that
      a_j = k_j xf[src_j] covers zeroth order (k_j 1.0 = k_j exactly); a jump adds the dense row
      of nu to both (the doubles stay exact: counts are integers <= 2^53, checked on the int64s);
    - padding reactions have k = 0: they add +0.0 to every partial sum and are never chosen;
    - the reaction is the number of partial sums <= U a_0 (StgssaSelectReactionCumulative).
  The same numbers, bit for bit, as StgssaSSARun's propensities, partial sums, choice and jump.
*/
#ifndef STGSSA_SSA_TINY_H
#define STGSSA_SSA_TINY_H

#include <stgssa/ssa.h>
#include <string.h>

#define STGSSA_TINY_N 16 /* largest N */

typedef double  StgssaVd __attribute__((vector_size(32)));
typedef int64_t StgssaVi __attribute__((vector_size(32)));

/* The network as vectors. */
typedef struct {
  StgssaVd k[STGSSA_TINY_N / 4];                  /* rate constants, 0 for padding */
  PetscInt src[STGSSA_TINY_N];                    /* species read by a_j, or S (the slot holding 1.0) */
  StgssaVd nud[STGSSA_TINY_N][STGSSA_TINY_N / 4]; /* nu_j as doubles */
  StgssaVi nui[STGSSA_TINY_N][STGSSA_TINY_N / 4]; /* nu_j */
} StgssaTinyNet;

/* The state of one path: counts (int64 and double), propensities, partial sums. */
typedef struct {
  StgssaVd xf[STGSSA_TINY_N / 4], a[STGSSA_TINY_N / 4], cum[STGSSA_TINY_N / 4];
  StgssaVi xi[STGSSA_TINY_N / 4];
} StgssaTinyState;

/* The vector step applies (ssa_many.c). */
PETSC_INTERN PetscBool StgssaTinyApplies(const StgssaNetwork *);

/* The smallest N for the network. */
static inline PetscInt StgssaTinyWidth(const StgssaNetwork *net)
{
  const PetscInt m = PetscMax(net->R, net->S + 1);
  return m <= 4 ? 4 : (m <= 8 ? 8 : 16);
}

static inline void StgssaTinyNetSetUp(const StgssaNetwork *net, StgssaTinyNet *tn)
{
  const PetscInt S = net->S, R = net->R;
  memset(tn, 0, sizeof(*tn));
  for (PetscInt j = 0; j < STGSSA_TINY_N; j++) tn->src[j] = S; /* padding: k = 0 */
  for (PetscInt j = 0; j < R; j++) {
    ((double *)tn->k)[j] = net->k[j];
    tn->src[j]           = net->order1[j] >= 0 ? net->order1[j] : S;
    for (PetscInt s = 0; s < S; s++) {
      ((double *)tn->nud[j])[s]  = (double)net->nu_dense[j * S + s];
      ((int64_t *)tn->nui[j])[s] = net->nu_dense[j * S + s];
    }
  }
}

/* a = k * xf[src] lane by lane and the partial sums in reaction order; returns a_0. */
static inline __attribute__((always_inline)) double StgssaTinyPropensities(const StgssaTinyNet *tn, StgssaTinyState *st, const PetscInt N)
{
  const double *xf = (const double *)st->xf;
  double       *a = (double *)st->a, *cum = (double *)st->cum, s = 0.0;
  for (PetscInt v = 0; v < N / 4; v++) st->a[v] = tn->k[v] * (StgssaVd){xf[tn->src[4 * v]], xf[tn->src[4 * v + 1]], xf[tn->src[4 * v + 2]], xf[tn->src[4 * v + 3]]};
  for (PetscInt j = 0; j < N; j++) {
    s += a[j];
    cum[j] = s;
  }
  return s;
}

/* The path's state at x0; returns a_0. */
static inline __attribute__((always_inline)) double StgssaTinyStart(const StgssaNetwork *net, const StgssaTinyNet *tn, StgssaTinyState *st, const PetscInt N)
{
  memset(st, 0, sizeof(*st));
  for (PetscInt s = 0; s < net->S; s++) {
    ((int64_t *)st->xi)[s] = net->x0[s];
    ((double *)st->xf)[s]  = (double)net->x0[s];
  }
  ((double *)st->xf)[net->S] = 1.0;
  return StgssaTinyPropensities(tn, st, N);
}

/* StgssaSelectReactionCumulative on the vectors. */
static inline __attribute__((always_inline)) PetscInt StgssaTinySelect(const StgssaTinyState *st, PetscInt R, double target, const PetscInt N)
{
  StgssaVi cnt = {0, 0, 0, 0};
  PetscInt j;
  for (PetscInt v = 0; v < N / 4; v++) cnt -= (StgssaVi)(st->cum[v] <= target); /* true lanes are -1 */
  j = (PetscInt)(cnt[0] + cnt[1] + cnt[2] + cnt[3]);
  return PetscLikely(j < R) ? j : StgssaSelectReaction(R, (const double *)st->a, target); /* rounding: the last active reaction */
}

/* Fire reaction j at time t (StgssaJump's count guard; x receives the state for the message). */
static inline __attribute__((always_inline)) PetscErrorCode StgssaTinyJump(const StgssaNetwork *net, const StgssaTinyNet *tn, StgssaTinyState *st, PetscInt j, double t, int64_t *x, const PetscInt N)
{
  StgssaVi over = {0, 0, 0, 0};
  for (PetscInt v = 0; v < N / 4; v++) {
    st->xf[v] += tn->nud[j][v];
    st->xi[v] += tn->nui[j][v];
    over |= (StgssaVi)(st->xi[v] > STGSSA_COUNT_MAX);
  }
  if (PetscUnlikely(over[0] | over[1] | over[2] | over[3])) {
    const int64_t *xi = (const int64_t *)st->xi;
    for (PetscInt q = 0; q < net->S; q++) x[q] = xi[q];
    for (PetscInt s = 0; s < net->S; s++)
      if (xi[s] > STGSSA_COUNT_MAX) return StgssaCountOverflowError(net, j, x, s, t);
  }
  return 0;
}

/* The forward step of a path, either kind (N = 0: the dense step of ssa.h on the work's arrays wx,
   wa and the partial sums cum; N > 0: the vector step in st, wx receiving the state only for a
   count-guard message). Shared by ssa_many.c and stgs_small.c. */

/* The state at x0: *x and *a point at the path's counts and propensities; returns a_0. */
static inline __attribute__((always_inline)) double StgssaForwardStart(const StgssaNetwork *net, const StgssaTinyNet *tn, int64_t *wx, double *wa, StgssaTinyState *st, double *cum, int64_t **x, double **a, const PetscInt N)
{
  if (N) {
    *x = (int64_t *)st->xi;
    *a = (double *)st->a;
    return StgssaTinyStart(net, tn, st, N);
  }
  for (PetscInt s = 0; s < net->S; s++) wx[s] = net->x0[s];
  *x = wx;
  *a = wa;
  return StgssaPropensitiesCumulative(net, wx, wa, cum);
}

/* The reaction for target = U_1 a_0. */
static inline __attribute__((always_inline)) PetscInt StgssaForwardSelect(const StgssaTinyState *st, const double *wa, const double *cum, PetscInt R, double target, const PetscInt N)
{
  return N ? StgssaTinySelect(st, R, target, N) : StgssaSelectReactionCumulative(R, wa, cum, target);
}

/* Fire reaction j at time t; *a0 = the new a_0. */
static inline __attribute__((always_inline)) PetscErrorCode StgssaForwardJump(const StgssaNetwork *net, const StgssaTinyNet *tn, int64_t *wx, double *wa, StgssaTinyState *st, double *cum, PetscInt j, double t, double *a0, const PetscInt N)
{
  if (N) {
    PetscErrorCode ierr = StgssaTinyJump(net, tn, st, j, t, wx, N);
    if (ierr) return ierr;
    *a0 = StgssaTinyPropensities(tn, st, N);
    return 0;
  }
  PetscErrorCode ierr = StgssaJumpDense(net, j, wx, t);
  if (ierr) return ierr;
  *a0 = StgssaPropensitiesCumulative(net, wx, wa, cum);
  return 0;
}

#endif
