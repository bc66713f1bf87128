/* SPDX-License-Identifier: BSD-2-Clause */
/*
  ST-GS tangents on small time-independent mass-action networks (R <= 16, R*S <= STGSSA_DENSE_MAX,
  no entropy production, no per-event checks): the hot loop of gradient mode on models such as the
  telegraph promoter.

  The same mathematics, the same operations in the same order and so the same numbers, bit for
  bit, as the general loop of tangent.c (tests/test_tangent.c compares the two on every record
  field); only the bookkeeping differs:
    - the derivative draws E_i of eight events (every reaction) are made together with their
      forward draws, as one batch of Philox blocks and logarithms (compiled for AVX2 too, chosen
      at run time: the same IEEE operations, so the same numbers);
    - the relaxed choice, its tangents and the relaxed jump run over local arrays with P a
      compile-time constant (P = 1..6, 8);
    - the forward step uses the branch-free reaction choice and the dense jump of ssa.h;
    - d log C(x, c)/dx = sum_{q<c} 1/(x - q) reads 1/n from a table for n < STGSSA_RECIP_N (the
      table holds the quotients 1.0/n themselves, so the values are those of the division).
  Equations (DESIGN.md §2): pi from StgssaRaceSoftmax (tangent_impl.h);
  ldot_i = e_param(i) + sum_s (d log a_i/d x_s) xdot_s; pidot_i = pi_i (ldot_i - sum_k pi_k ldot_k)/lambda;
  xdot += sum_i nu_i pidot_i; taudot = -tau (sum_i a_i ldot_i)/a_0.
*/
#include "tangent_impl.h"
#include <stgssa/fastlog.h>
#include <math.h>

#define STGSSA_SMALL_R STGSSA_DRAW_BATCH_R

/* The draws of eight events, forward and derivative, for the instruction sets chosen at run time. */
__attribute__((target_clones("avx2", "default"))) static void StgssaDraws8(uint32_t iteration, uint64_t event0, StgssaPhiloxKey key, PetscInt R, double u1[STGSSA_PHILOX_LANES], double e2[STGSSA_PHILOX_LANES], double E[STGSSA_SMALL_R][STGSSA_PHILOX_LANES])
{
  StgssaForwardDraws8(iteration, event0, key, u1, e2);
  StgssaDerivativeDraws8(iteration, event0, key, R, E);
}

/* PP: the tangents' leading dimension, P rounded up to 4 or 8, a compile-time constant. Padding
   lanes p >= P stay 0 and every tangent operation acts lane by lane, so each loop over p is a few
   vector instructions and the lanes p < P hold the values of the general loop. */
static inline __attribute__((always_inline)) PetscErrorCode StgssaStgsSmallRun(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, StgssaPhiloxKey key, StgssaTangentWork *w, StgssaTangentRecord *rec, StgssaTrajInfo *info, const PetscInt PP)
{
  const StgssaNetwork     *net = cfg->net;
  const PetscInt           S = net->S, R = net->R, P = tc->P, ns = cfg->nsample;
  const PetscInt *restrict rxn_param = tc->rxn_param, *restrict react_ptr = net->react_ptr, *restrict rs = net->react_species, *restrict rc = net->react_coef;
  const PetscInt *restrict nu_ptr = net->nu_ptr, *restrict nu_species = net->nu_species;
  const int64_t *restrict  nu_delta = net->nu_delta;
  const double *restrict   recip = w->recip;
  const double             lambda = tc->lambda, invlam = 1.0 / lambda, tfinal = cfg->tfinal, count_from = tc->count_from;
  const PetscBool          window = tc->window;
  int64_t *restrict        x = w->x;
  double *restrict         a = w->a;
  double                   t = cfg->t0, a0, tsample = ns > 0 ? cfg->sample_times[0] : PETSC_INFINITY;
  double                   cum[STGSSA_SMALL_R], pi[STGSSA_SMALL_R], arrive[STGSSA_SMALL_R];
  double                   u1b[STGSSA_PHILOX_LANES], e2b[STGSSA_PHILOX_LANES], E[STGSSA_SMALL_R][STGSSA_PHILOX_LANES];
  /* tangents with leading dimension PP: state, log-propensities, reaction-count tangents; time */
  double xd[STGSSA_DENSE_MAX * STGSSA_SMALL_PMAX] __attribute__((aligned(64)));
  double ld[STGSSA_SMALL_R * STGSSA_SMALL_PMAX] __attribute__((aligned(64))), nd[STGSSA_SMALL_R * STGSSA_SMALL_PMAX] __attribute__((aligned(64)));
  double eq[STGSSA_SMALL_R * STGSSA_SMALL_PMAX] __attribute__((aligned(64)));
  double td[STGSSA_SMALL_PMAX] __attribute__((aligned(64))), dt[STGSSA_SMALL_PMAX] __attribute__((aligned(64)));
  double mean[STGSSA_SMALL_PMAX] __attribute__((aligned(64))), adot[STGSSA_SMALL_PMAX] __attribute__((aligned(64))), pd[STGSSA_SMALL_PMAX] __attribute__((aligned(64)));
  int64_t                  n = 0, nc = 0;
  PetscInt                 next = 0;

  PetscFunctionBegin;
  for (PetscInt m = 0; m < S * PP; m++) xd[m] = 0.0;
  for (PetscInt m = 0; m < R * PP; m++) nd[m] = eq[m] = 0.0;
  for (PetscInt i = 0; i < R; i++)
    if (rxn_param[i] >= 0) eq[i * PP + rxn_param[i]] = 1.0;
  for (PetscInt p = 0; p < PP; p++) td[p] = dt[p] = 0.0;
  a0 = StgssaPropensitiesCumulative(net, x, a, cum);
  for (;;) {
    double    tnext, tau;
    PetscInt  j;
    PetscBool counted;
    if (a0 <= 0.0) {
      info->end = STGSSA_TRAJ_ABSORBED;
      break;
    }
    if (n >= cfg->max_events) {
      info->end = STGSSA_TRAJ_CAPPED;
      break;
    }
    const int lane = (int)(n % STGSSA_PHILOX_LANES);
    if (lane == 0) StgssaDraws8(cfg->iteration, (uint64_t)n, key, R, u1b, e2b, E);
    tau   = e2b[lane] / a0; /* -log(U_2) / a_0 */
    tnext = t + tau;
    j     = tnext > tfinal ? -1 : StgssaSelectReactionCumulative(R, a, cum, u1b[lane] * a0);
    if (PetscUnlikely(tsample < tnext)) { /* samples in [t_n, t_{n+1}) see x_n and its tangent */
      while (next < ns && cfg->sample_times[next] < tnext) StgssaRecordSample(tc, rec, next++, x, xd, PP, PETSC_TRUE);
      tsample = next < ns ? cfg->sample_times[next] : PETSC_INFINITY;
    }
    if (j < 0) { /* the next event is beyond tfinal: close the last dwell */
      if (window) StgssaWindowDwell(tc, rec, x, xd, PP, t, tfinal, td, dt, PETSC_FALSE);
      break;
    }
    /* the relaxed choice given the winner j: pi; ldot and its a- and pi-weighted sums */
    for (PetscInt i = 0; i < R; i++) arrive[i] = E[i][lane];
    StgssaRaceSoftmax(R, j, a, arrive, a0, lambda, pi);
    for (PetscInt p = 0; p < PP; p++) mean[p] = adot[p] = 0.0;
    for (PetscInt i = 0; i < R; i++) {
      if (a[i] <= 0.0) continue;
      double *restrict l = &ld[i * PP];
      for (PetscInt p = 0; p < PP; p++) l[p] = eq[i * PP + p]; /* d_theta log k_i: 1 at param(i) (whole vectors: no partial store) */
      for (PetscInt r = react_ptr[i]; r < react_ptr[i + 1]; r++) {
        const PetscInt         s = rs[r], c = rc[r];
        const double *restrict xs = &xd[s * PP];
        double                 g  = 0.0; /* d log C(x_s, c) / d x_s */
        for (PetscInt q = 0; q < c; q++) g += StgssaRecip(recip, x[s] - q);
        for (PetscInt p = 0; p < PP; p++) l[p] += g * xs[p];
      }
      for (PetscInt p = 0; p < PP; p++) {
        adot[p] += a[i] * l[p];
        mean[p] += pi[i] * l[p];
      }
    }
    {
      const double c = -tau / a0; /* taudot = -tau (sum_i a_i ldot_i) / a_0 */
      for (PetscInt p = 0; p < PP; p++) dt[p] = c * adot[p];
    }
    if (window) StgssaWindowDwell(tc, rec, x, xd, PP, t, tnext, td, dt, PETSC_TRUE);
    counted = (PetscBool)(tnext > count_from); /* path observables: only jumps after the burn-in */
    if (counted) nc++;
    /* the exact jump; the tangents move by the relaxed jump xdot += sum_i nu_i pidot_i */
    PetscCall(StgssaJumpDense(net, j, x, tnext));
    if (counted) rec->nrx[j] += 1.0;
    for (PetscInt i = 0; i < R; i++) {
      if (a[i] <= 0.0) continue;
      const double c = pi[i] * invlam;
      for (PetscInt p = 0; p < PP; p++) pd[p] = c * (ld[i * PP + p] - mean[p]); /* pidot_i */
      for (PetscInt u = nu_ptr[i]; u < nu_ptr[i + 1]; u++) {
        const double     delta = (double)nu_delta[u];
        double *restrict xs    = &xd[nu_species[u] * PP];
        for (PetscInt p = 0; p < PP; p++) xs[p] += delta * pd[p];
      }
      if (counted)
        for (PetscInt p = 0; p < PP; p++) nd[i * PP + p] += pd[p];
    }
    for (PetscInt p = 0; p < PP; p++) td[p] += dt[p];
    a0 = StgssaPropensitiesCumulative(net, x, a, cum);
    t = tnext;
    n++;
  }
  if (info->end != STGSSA_TRAJ_TFINAL && window) StgssaWindowDwell(tc, rec, x, xd, PP, t, tfinal, td, dt, PETSC_FALSE); /* the state holds to tfinal */
  for (; next < ns; next++) StgssaRecordSample(tc, rec, next, x, xd, PP, PETSC_TRUE);
  /* the general loop's work and record fields */
  for (PetscInt s = 0; s < S; s++)
    for (PetscInt p = 0; p < P; p++) w->xdot[s * P + p] = xd[s * PP + p];
  for (PetscInt i = 0; i < R; i++)
    for (PetscInt p = 0; p < P; p++) rec->nrxdot[i * P + p] = nd[i * PP + p];
  for (PetscInt p = 0; p < P; p++) {
    w->tdot[p] = td[p];
    w->dtau[p] = dt[p];
  }
  rec->events         = n;
  rec->events_counted = nc;
  info->events        = n;
  PetscFunctionReturn(0);
}

/* One compiled loop per padded width, each for AVX2 and for the baseline instruction set (chosen
   at run time; the same IEEE operations lane by lane, so the same numbers). */
__attribute__((target_clones("avx2", "default"))) static PetscErrorCode StgssaStgsSmall4(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, StgssaPhiloxKey key, StgssaTangentWork *w, StgssaTangentRecord *rec, StgssaTrajInfo *info)
{
  return StgssaStgsSmallRun(cfg, tc, key, w, rec, info, 4);
}
__attribute__((target_clones("avx2", "default"))) static PetscErrorCode StgssaStgsSmall8(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, StgssaPhiloxKey key, StgssaTangentWork *w, StgssaTangentRecord *rec, StgssaTrajInfo *info)
{
  return StgssaStgsSmallRun(cfg, tc, key, w, rec, info, 8);
}

PetscErrorCode StgssaSSARunStgsSmall_Private(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, uint64_t traj, StgssaTangentWork *w, StgssaTangentRecord *rec, StgssaTrajInfo *info)
{
  const StgssaPhiloxKey key = StgssaRngKey(cfg->seed, traj);

  PetscFunctionBegin;
  PetscCheck(tc->P <= STGSSA_SMALL_PMAX && cfg->net->R <= STGSSA_SMALL_R && cfg->net->S * cfg->net->R <= STGSSA_DENSE_MAX, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Small ST-GS engine called outside its range");
  if (tc->P <= 4) PetscCall(StgssaStgsSmall4(cfg, tc, key, w, rec, info));
  else PetscCall(StgssaStgsSmall8(cfg, tc, key, w, rec, info));
  PetscFunctionReturn(0);
}
