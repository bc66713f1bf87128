/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Private: the score's integrals on the rejection method (rssa.c), grouped (score_lazy.c).
*/
#ifndef STGSSA_SCORE_LAZY_H
#define STGSSA_SCORE_LAZY_H

#include <stgssa/ssa.h>

/* Fitted mass-action reactions grouped by (parameter p, rate constant k, hub species h, its
   coefficient c): a_i = k C(x_h, c) g_i(x), g_i the product of i's other reactant binomials, so
   the group's total propensity is V = k C(x_h, c) W with W = sum_{i in group} g_i. The fields an
   event touches sit together (one cache line per group). */
typedef struct {
  double    W, V, k;      /* W, V, the rate constant */
  double    integ, tlast; /* int V dt up to tlast */
  PetscInt  hub, coef, p; /* hub species (-1: zeroth order), its coefficient, the parameter */
  PetscBool exact;        /* W is the exact sum of its members' g (integers below STGSSA_SCORE_EXACT) */
  PetscBool safe;         /* every coefficient <= 8: binomials of counts below the threshold are exact */
} StgssaScoreGroup;

/* A fitted reaction i reading species s beside its hub: g_i = x_o when o >= 0 (one other
   reactant, coefficient 1), else the general product. */
typedef struct {
  PetscInt i, G, o;
} StgssaScoreReader;

struct _n_StgssaScoreLazy {
  PetscInt           R, S, P, ng;
  PetscInt          *rp;            /* [R] copy of rxn_param the groups were built for */
  double            *k;             /* [R] copy of the rate constants they were built for */
  PetscInt          *grp;           /* [R] group of reaction i, -1: not fitted */
  double            *g;             /* [R] g_i at the current state */
  PetscInt          *nh_ptr;        /* [S+1] fitted reactions with species s among their non-hub reactants: */
  StgssaScoreReader *nh;            /*       nh[nh_ptr[s]..nh_ptr[s+1]) */
  PetscInt          *hub_ptr, *hub; /* [S+1] groups with hub species s */
  PetscInt          *mem_ptr, *mem; /* [ng+1] member reactions of each group */
  StgssaScoreGroup  *grps;          /* [ng] */
};

/* Below this, sums and products of binomials of coefficient <= 8 are exact in double (every
   intermediate of C(n, c) = prod (n - i)/(i + 1) stays below 8 * 2^49 = 2^52). */
#define STGSSA_SCORE_EXACT 562949953421312.0 /* 2^49 */

/* Build (or keep, when rxn_param and the rate constants are those it was built for) the groups. */
PETSC_INTERN PetscErrorCode StgssaScoreLazySetUp(const StgssaNetwork *, const PetscInt *rd_ptr, PetscInt P, const PetscInt *rxn_param, StgssaScoreLazy *);
PETSC_INTERN PetscErrorCode StgssaScoreLazyDestroy(StgssaScoreLazy *);
/* Start of a path at time t0 in state x: every g, W, V; integ = 0, tlast = t0. */
PETSC_INTERN void StgssaScoreLazyStart(StgssaScoreLazy, const StgssaNetwork *, const int64_t *x, double t0);
/* After reaction j fired at time t (x already moved): the groups that read a changed species. */
PETSC_INTERN void StgssaScoreLazyEvent(StgssaScoreLazy, const StgssaNetwork *, PetscInt j, const int64_t *x, double t);
/* out[p] = N[p] - int_{t0}^{s} A_p,  A_p = sum over p's groups of V. */
PETSC_INTERN void StgssaScoreLazyAt(StgssaScoreLazy, const double *N, double s, double *out);

#endif
