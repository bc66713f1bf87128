/* SPDX-License-Identifier: BSD-2-Clause */
/* Private to the derivative engines (tangent.c, stgs_small.c). */
#ifndef STGSSA_TANGENT_IMPL_H
#define STGSSA_TANGENT_IMPL_H

#include <stgssa/tangent.h>

#include <stgssa/fastlog.h>
#include <math.h>

/* ST-GS derivative draws: reaction i's exponential E_i = -log u, u = StgssaUniformOpen32 of word
   i % 4 of counter block 1 + i / 4 of the event's counter slot (StgssaFastLog: these draws feed
   only derivatives), made eight events at a time (StgssaDerivativeDraws8). */

/* E[i][l] for reactions i < R rounded up to a multiple of 4 (E has that many rows), events
   event0 + l (event0 a multiple of 8). */
static inline void StgssaDerivativeDraws8(uint32_t iteration, uint64_t event0, StgssaPhiloxKey key, PetscInt R, double (*restrict E)[STGSSA_PHILOX_LANES])
{
  for (PetscInt b = 0; 4 * b < R; b++) {
    uint32_t dbuf[4][STGSSA_PHILOX_LANES];
    StgssaPhiloxEvents8(iteration, event0, (uint32_t)(1 + b), key, dbuf);
    for (int k = 0; k < 4; k++)
      for (int l = 0; l < STGSSA_PHILOX_LANES; l++) E[4 * b + k][l] = -StgssaFastLog(StgssaUniformOpen32(dbuf[k][l]));
  }
}

/* 1/n (n >= 1) as the division gives it, from the work's table when n < STGSSA_RECIP_N */
static inline double StgssaRecip(const double *restrict recip, int64_t n) { return n < STGSSA_RECIP_N ? recip[n] : 1.0 / (double)n; }

/* The relaxed choice of the completed race (DESIGN.md §2). Given the winner j of the forward step,
   the race of the first-reaction method is completed by memorylessness: T_j = E_j / a_0 and
   T_i = T_j + E_i / a_i for the others. With l_i + G_i = -log T_i the softmax is
     pi_i = r_i^(1/lambda) / sum_k r_k^(1/lambda),   r_i = T_j / T_i = T_j a_i / (T_j a_i + E_i),
   r_j = 1, and r_i = 0 for reactions with a_i = 0 (they take no part). One division per reaction,
   without branches at lambda = 1 (the loop vectorizes). E_i is E[i * Estride]. */
static inline void StgssaRaceSoftmax(PetscInt R, PetscInt j, const double *restrict a, const double *restrict E, PetscInt Estride, double a0, double lambda, double *restrict pi)
{
  const double Tj   = E[j * Estride] / a0;
  double       psum = 0.0;
  for (PetscInt i = 0; i < R; i++) {
    const double b = Tj * a[i];
    pi[i]          = b / (b + E[i * Estride]);
  }
  pi[j] = 1.0;
  if (lambda != 1.0) {
    const double invlam = 1.0 / lambda;
    for (PetscInt i = 0; i < R; i++)
      if (pi[i] > 0.0) pi[i] = exp(invlam * log(pi[i]));
  }
  for (PetscInt i = 0; i < R; i++) psum += pi[i];
  const double inv = 1.0 / psum;
  for (PetscInt i = 0; i < R; i++) pi[i] *= inv;
}

/* Value of observed quantity o in state x and (dv != NULL) its tangents dv[p] along xdot[s * ld + p]:
   a sum of species (observable.h), or an expression f(x, k) (tc->obs_rule; tangent
   grad_x f . xdot + k df/dk by the fitted parameters, StgssaRuleTangent). */
static inline double StgssaObservedAny(const StgssaNetwork *net, const StgssaTangentConfig *tc, PetscInt o, const int64_t *x, const double *xdot, PetscInt ld, double *dv)
{
  if (tc->obs_rule && tc->obs_rule[o] >= 0) return StgssaRuleTangent(net, tc->obs_rule[o], x, xdot, ld, dv ? tc->P : 0, tc->fit_param, tc->obs_scratch, dv);
  if (dv)
    for (PetscInt p = 0; p < tc->P; p++) dv[p] = StgssaObservedTangent(tc->obs_ptr, tc->obs, tc->obs_weight, o, xdot, ld, p);
  return (double)StgssaObservedValue(tc->obs_ptr, tc->obs, tc->obs_weight, o, x);
}

/* Accumulate the dwell [t0, t1) in state x into the window average (and its tangent). Tangents
   xdot[s * ld + p], tdot0[p], taudot[p] (ld >= P: the leading dimension of xdot). */
static inline void StgssaWindowDwell(const StgssaNetwork *net, const StgssaTangentConfig *tc, StgssaTangentRecord *rec, const int64_t *x, const double *xdot, PetscInt ld, double t0, double t1, const double *tdot0, const double *taudot, PetscBool t1_is_event)
{
  const PetscInt P = tc->P;
  const double   lo = t0 > tc->w0 ? t0 : tc->w0, hi = t1 < tc->w1 ? t1 : tc->w1, W = tc->w1 - tc->w0;
  if (hi <= lo) return;
  for (PetscInt o = 0; o < tc->nobs; o++) {
    double       vd[64];
    const double v = tc->obs_rule ? StgssaObservedAny(net, tc, o, x, tc->type == STGSSA_GRADIENT_STGS ? xdot : NULL, ld, vd) : (double)StgssaObservedValue(tc->obs_ptr, tc->obs, tc->obs_weight, o, x);
    rec->wavg[o] += v * (hi - lo) / W;
    for (PetscInt p = 0; p < P; p++) {
      /* d(hi - lo): the ends move with the event times when they are inside the window */
      double dlen = 0.0;
      if (t1_is_event && t1 < tc->w1) dlen += tdot0[p] + taudot[p];
      if (t0 > tc->w0) dlen -= tdot0[p];
      rec->wavgdot[o * P + p] += ((tc->obs_rule ? vd[p] : StgssaObservedTangent(tc->obs_ptr, tc->obs, tc->obs_weight, o, xdot, ld, p)) * (hi - lo) + v * dlen) / W;
    }
  }
}

/* Record the observed values (and, stgs, their tangents xdot[s * ld + p]) at sample index `sample`.
   Expression observables under the score estimator: their explicit parameter derivative
   k df/dk into rec->xdot (the estimator adds E[df/dtheta] to Cov(f, S); StgssaEvaluatorObservables). */
static inline void StgssaRecordSample(const StgssaNetwork *net, const StgssaTangentConfig *tc, StgssaTangentRecord *rec, PetscInt sample, const int64_t *x, const double *xdot, PetscInt ld, PetscBool stgs)
{
  const PetscInt P = tc->P, no = tc->nobs;
  if (tc->obs_rule) {
    const PetscBool sc = (PetscBool)(tc->type == STGSSA_GRADIENT_SCORE && P > 0);
    for (PetscInt o = 0; o < no; o++) rec->x[sample * no + o] = StgssaObservedAny(net, tc, o, x, stgs ? xdot : NULL, ld, stgs || sc ? &rec->xdot[(sample * no + o) * P] : NULL);
    return;
  }
  for (PetscInt o = 0; o < no; o++) {
    rec->x[sample * no + o] = (double)StgssaObservedValue(tc->obs_ptr, tc->obs, tc->obs_weight, o, x);
    if (stgs)
      for (PetscInt p = 0; p < P; p++) rec->xdot[(sample * no + o) * P + p] = StgssaObservedTangent(tc->obs_ptr, tc->obs, tc->obs_weight, o, xdot, ld, p);
  }
}

/* The ST-GS engine of small time-independent mass-action networks (stgs_small.c) applies: at most
   STGSSA_SMALL_R reactions and STGSSA_SMALL_PMAX parameters. */
#define STGSSA_SMALL_R    16
#define STGSSA_SMALL_PMAX 8
static inline PetscBool StgssaStgsSmallApplies(const StgssaNetwork *net, const StgssaTangentConfig *tc)
{
  return (PetscBool)(tc->type == STGSSA_GRADIENT_STGS && !net->any_law && !net->any_tdep && !net->nevents && !tc->rev && !tc->locate && net->nu_dense && net->R <= STGSSA_SMALL_R && tc->P <= STGSSA_SMALL_PMAX);
}

/* StgssaSSARunTangent of count <= STGSSA_SMALL_K trajectories (traj[k] into w[k], rec[k], info[k])
   for StgssaStgsSmallApplies(): the same numbers, bit for bit, interleaved. */
#define STGSSA_SMALL_K 4
PETSC_INTERN PetscErrorCode StgssaSSARunStgsSmall_Private(const StgssaSSAConfig *, const StgssaTangentConfig *, PetscInt count, const uint64_t *traj, StgssaTangentWork *, StgssaTangentRecord *, StgssaTrajInfo *);

/* The work's score accumulators (w->acc) built for this network and configuration (tangent.c). */
/* The work's and record's tangent arrays allocated when tc needs them (ST-GS or a window; tangent.c). */
PETSC_INTERN PetscErrorCode StgssaTangentEnsure_Private(const StgssaNetwork *, const StgssaTangentConfig *, StgssaTangentWork *, StgssaTangentRecord *);
PETSC_INTERN PetscErrorCode StgssaTangentWorkAccReady_Private(const StgssaNetwork *, const StgssaTangentConfig *, StgssaTangentWork *);

#endif
