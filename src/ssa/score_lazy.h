/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Private: the score's integrals on the rejection method (rssa.c), grouped (score_lazy.c).
*/
#ifndef STGSSA_SCORE_LAZY_H
#define STGSSA_SCORE_LAZY_H

#include <stgssa/ssa.h>

/* Fitted mass-action reactions grouped by (parameter p, rate constant k, hub species h, its
   coefficient c): a_i = k C(x_h, c) g_i(x), g_i the product of i's other reactant binomials, so
   the group's total propensity is V = k C(x_h, c) W with W = sum_{i in group} g_i. */
struct _n_StgssaScoreLazy {
  PetscInt  R, S, P, ng;
  PetscInt *rp;                 /* [R] copy of rxn_param the groups were built for */
  double   *k;                  /* [R] copy of the rate constants they were built for */
  PetscInt *grp;                /* [R] group of reaction i, -1: not fitted */
  PetscInt *o1;                 /* [R] g_i = x_{o1_i} (one other reactant, coefficient 1), -1: general product, -2: g_i = 1 */
  double   *g;                  /* [R] g_i at the current state */
  PetscInt *nh_ptr, *nh;        /* [S+1] fitted reactions with species s among their non-hub reactants */
  PetscInt *hub_ptr, *hub;      /* [S+1] groups with hub species s */
  PetscInt *mem_ptr, *mem;      /* [ng+1] member reactions of each group */
  PetscInt *ghub, *gcoef, *gp;  /* [ng] hub (-1: zeroth order), its coefficient, parameter */
  PetscBool *exact;             /* [ng] W is the exact sum of its members' g (integers below STGSSA_SCORE_EXACT) */
  PetscBool *safe;              /* [ng] every coefficient <= 8: the binomials of counts below the threshold are exact */
  double   *gk, *W, *V;         /* [ng] rate constant, W, V */
};

/* Below this, sums and products of binomials of coefficient <= 8 are exact in double (every
   intermediate of C(n, c) = prod (n - i)/(i + 1) stays below 8 * 2^49 = 2^52). */
#define STGSSA_SCORE_EXACT 562949953421312.0 /* 2^49 */

/* Build (or keep, when rxn_param and the rate constants are those it was built for) the groups. */
PETSC_INTERN PetscErrorCode StgssaScoreLazySetUp(const StgssaNetwork *, const PetscInt *rd_ptr, PetscInt P, const PetscInt *rxn_param, StgssaScoreLazy *);
PETSC_INTERN PetscErrorCode StgssaScoreLazyDestroy(StgssaScoreLazy *);
/* Start of a path at time t0 in state x: every g, W, V; integ = 0, tlast = t0 ([ng]). */
PETSC_INTERN void StgssaScoreLazyStart(StgssaScoreLazy, const StgssaNetwork *, const int64_t *x, double t0, double *integ, double *tlast);
/* After reaction j fired at time t (x already moved): the groups that read a changed species. */
PETSC_INTERN void StgssaScoreLazyEvent(StgssaScoreLazy, const StgssaNetwork *, PetscInt j, const int64_t *x, double t, double *integ, double *tlast);
/* out[p] = N[p] - int_{t0}^{s} A_p,  A_p = sum over p's groups of V. */
PETSC_INTERN void StgssaScoreLazyAt(StgssaScoreLazy, const double *N, const double *integ, const double *tlast, double s, double *out);

#endif
