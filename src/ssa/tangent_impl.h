/* SPDX-License-Identifier: BSD-2-Clause */
/* Private to the derivative engines (tangent.c, stgs_small.c). */
#ifndef STGSSA_TANGENT_IMPL_H
#define STGSSA_TANGENT_IMPL_H

#include <stgssa/tangent.h>

/* Derivative counter blocks 1..STGSSA_TANGENT_BLOCKS (2 uniforms each, reactions 0..15) are
   generated eight events at a time; further blocks (R > 16) one at a time. Same numbers. */
#define STGSSA_TANGENT_BLOCKS 8

/* Accumulate the dwell [t0, t1) in state x into the window average (and its tangent). */
static inline void StgssaWindowDwell(const StgssaTangentConfig *tc, StgssaTangentRecord *rec, const int64_t *x, const double *xdot, double t0, double t1, const double *tdot0, const double *taudot, PetscBool t1_is_event)
{
  const PetscInt P = tc->P;
  const double   lo = t0 > tc->w0 ? t0 : tc->w0, hi = t1 < tc->w1 ? t1 : tc->w1, W = tc->w1 - tc->w0;
  if (hi <= lo) return;
  for (PetscInt o = 0; o < tc->nobs; o++) {
    const double v = (double)StgssaObservedValue(tc->obs_ptr, tc->obs, tc->obs_weight, o, x);
    rec->wavg[o] += v * (hi - lo) / W;
    for (PetscInt p = 0; p < P; p++) {
      /* d(hi - lo): the ends move with the event times when they are inside the window */
      double dlen = 0.0;
      if (t1_is_event && t1 < tc->w1) dlen += tdot0[p] + taudot[p];
      if (t0 > tc->w0) dlen -= tdot0[p];
      rec->wavgdot[o * P + p] += (StgssaObservedTangent(tc->obs_ptr, tc->obs, tc->obs_weight, o, xdot, P, p) * (hi - lo) + v * dlen) / W;
    }
  }
}

/* Record the observed values (and, stgs, their tangents) at sample time index `sample`. */
static inline void StgssaRecordSample(const StgssaTangentConfig *tc, StgssaTangentRecord *rec, PetscInt sample, const int64_t *x, const double *xdot, PetscBool stgs)
{
  const PetscInt P = tc->P, no = tc->nobs;
  for (PetscInt o = 0; o < no; o++) {
    rec->x[sample * no + o] = (double)StgssaObservedValue(tc->obs_ptr, tc->obs, tc->obs_weight, o, x);
    if (stgs)
      for (PetscInt p = 0; p < P; p++) rec->xdot[(sample * no + o) * P + p] = StgssaObservedTangent(tc->obs_ptr, tc->obs, tc->obs_weight, o, xdot, P, p);
  }
}

/* The ST-GS engine of small time-independent mass-action networks (stgs_small.c) applies. */
static inline PetscBool StgssaStgsSmallApplies(const StgssaNetwork *net, const StgssaTangentConfig *tc)
{
  return (PetscBool)(tc->type == STGSSA_GRADIENT_STGS && !net->any_law && !net->any_tdep && !tc->rev && !tc->locate && net->nu_dense && net->R <= 2 * STGSSA_TANGENT_BLOCKS);
}

/* StgssaSSARunTangent for StgssaStgsSmallApplies(): the same numbers, bit for bit (the work and
   record already zeroed and checked by the caller). */
PETSC_INTERN PetscErrorCode StgssaSSARunStgsSmall_Private(const StgssaSSAConfig *, const StgssaTangentConfig *, uint64_t traj, StgssaTangentWork *, StgssaTangentRecord *, StgssaTrajInfo *);

#endif
