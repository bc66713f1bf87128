/* SPDX-License-Identifier: BSD-2-Clause */
/* The score's per-reaction accumulators (StgssaScoreAcc, ssa.h): private to the engines that use
   them (tangent.c: the direct method, mass action and rate laws; rssa.c: large mass-action
   networks). One copy of the bookkeeping. */
#ifndef STGSSA_SCORE_ACC_H
#define STGSSA_SCORE_ACC_H

#include <stgssa/ssa.h>

/* g_im of law reaction i at state x (env's state and time), into lp_g; a_i > 0 (else g = 0, as the
   direct method's a_0 derivative skips reactions that cannot fire). dk is zero before and after. */
static inline void StgssaScoreAccLawGrad(const StgssaNetwork *net, StgssaScoreAcc *acc, PetscInt i, const int64_t *x, const StgssaLawEnv *env, double ai)
{
  const PetscInt q0 = acc->lp_ptr[i], q1 = acc->lp_ptr[i + 1];
  if (!(ai > 0.0)) {
    for (PetscInt q = q0; q < q1; q++) acc->lp_g[q] = 0.0;
    return;
  }
  (void)StgssaPropensityGrad(net, i, x, env, acc->dk, NULL, NULL);
  for (PetscInt q = q0; q < q1; q++) {
    acc->lp_g[q]         = acc->dk[acc->lp_m[q]];
    acc->dk[acc->lp_m[q]] = 0.0;
  }
}

/* A path starts at t0 with propensities a (and, laws, the state x in env). */
static inline void StgssaScoreAccStart(const StgssaNetwork *net, StgssaScoreAcc *acc, double t0, const double *a, const int64_t *x, const StgssaLawEnv *env)
{
  for (PetscInt i = 0; i < acc->R; i++) {
    acc->a[i]     = a[i];
    acc->integ[i] = 0.0;
    acc->tlast[i] = t0;
  }
  for (PetscInt p = 0; p < acc->P; p++) acc->S[p] = 0.0;
  if (acc->lp_ptr)
    for (PetscInt i = 0; i < acc->R; i++) {
      for (PetscInt q = acc->lp_ptr[i]; q < acc->lp_ptr[i + 1]; q++) acc->lp_int[q] = 0.0;
      if (acc->lp_ptr[i + 1] > acc->lp_ptr[i]) StgssaScoreAccLawGrad(net, acc, i, x, env, a[i]);
    }
}

/* Reaction j fires (before the jump): + d log a_j / d theta = 1 (mass action) or g_jm / a_j. */
static inline void StgssaScoreAccFire(StgssaScoreAcc *acc, PetscInt j)
{
  if (acc->rp[j] >= 0) acc->S[acc->rp[j]] += 1.0;
  if (acc->lp_ptr)
    for (PetscInt q = acc->lp_ptr[j]; q < acc->lp_ptr[j + 1]; q++)
      if (acc->lp_p[q] >= 0) acc->S[acc->lp_p[q]] += acc->lp_g[q] / acc->a[j];
}

/* Reaction i's propensity may have changed at time t to ai (state x after the jump in env): close
   its integrals up to t, int += value (t - tlast_i), and move on with the new values. A law
   reaction is refreshed always (its derivatives can move while a_i does not). */
static inline void StgssaScoreAccChange(const StgssaNetwork *net, StgssaScoreAcc *acc, PetscInt i, double ai, double t, const int64_t *x, const StgssaLawEnv *env)
{
  const PetscBool law = (PetscBool)(acc->lp_ptr && acc->lp_ptr[i + 1] > acc->lp_ptr[i]);
  if (ai == acc->a[i] && !law) return;
  const double dt = t - acc->tlast[i];
  acc->integ[i] += acc->a[i] * dt;
  acc->tlast[i] = t;
  acc->a[i]     = ai;
  if (law) {
    for (PetscInt q = acc->lp_ptr[i]; q < acc->lp_ptr[i + 1]; q++) acc->lp_int[q] += acc->lp_g[q] * dt;
    StgssaScoreAccLawGrad(net, acc, i, x, env, ai);
  }
}

/* out[p] = S_p(s) = S[p] - int_{t0}^{s} sum_i d a_i / d theta_p (out may be acc->S: then the
   accumulators are spent, the path's last use). O(R + pairs + P). */
static inline void StgssaScoreAccAt(const StgssaScoreAcc *acc, double s, double *out)
{
  if (out != acc->S)
    for (PetscInt p = 0; p < acc->P; p++) out[p] = acc->S[p];
  for (PetscInt i = 0; i < acc->R; i++)
    if (acc->rp[i] >= 0) out[acc->rp[i]] -= acc->integ[i] + acc->a[i] * (s - acc->tlast[i]);
  if (acc->lp_ptr)
    for (PetscInt i = 0; i < acc->R; i++)
      for (PetscInt q = acc->lp_ptr[i]; q < acc->lp_ptr[i + 1]; q++)
        if (acc->lp_p[q] >= 0) out[acc->lp_p[q]] -= acc->lp_int[q] + acc->lp_g[q] * (s - acc->tlast[i]);
}

#endif
