/* SPDX-License-Identifier: BSD-2-Clause */
/*
  ST-GS tangents on small time-independent mass-action networks (R <= 16, R*S <= STGSSA_DENSE_MAX,
  no entropy production, no per-event checks): the hot loop of gradient mode on models such as the
  telegraph promoter.

  The same mathematics, the same operations in the same order and so the same numbers, bit for
  bit, as the general loop of tangent.c (tests/test_tangent.c compares the two on every record
  field); only the bookkeeping differs:
    - the derivative draws E_i of eight events (every reaction) are made together with their
      forward draws, as one batch of Philox blocks and logarithms the compiler vectorizes;
    - the relaxed choice, its tangents and the relaxed jump run over local arrays with P a
      compile-time constant (P = 1..6, 8);
    - the forward step uses the branch-free reaction choice and the dense jump of ssa.h;
    - d log C(x, c)/dx = sum_{q<c} 1/(x - q) reads 1/n from a table for n < STGSSA_RECIP_N (the
      table holds the quotients 1.0/n themselves, so the values are those of the division).
  Equations (DESIGN.md §2): T_j = E_0/a_0, T_i = T_j + E_i/a_i; pi_i = softmax(-log T_i/lambda);
  ldot_i = e_param(i) + sum_s (d log a_i/d x_s) xdot_s; pidot_i = pi_i (ldot_i - sum_k pi_k ldot_k)/lambda;
  xdot += sum_i nu_i pidot_i; taudot = -tau (sum_i a_i ldot_i)/a_0.
*/
#include "tangent_impl.h"
#include <stgssa/fastlog.h>
#include <math.h>
#include <stdlib.h>

#define STGSSA_SMALL_R (2 * STGSSA_TANGENT_BLOCKS)

/* 1/n as the division gives it */
static inline double StgssaRecip(const double *restrict recip, int64_t n) { return n < STGSSA_RECIP_N ? recip[n] : 1.0 / (double)n; }

/* The derivative draws of events event0..event0+7 (event0 a multiple of 8): E[i][l] = -log U of
   reaction i, event event0 + l, from words 0,1 (i even) or 2,3 (i odd) of counter block 1 + i/2
   (tangent.c draws the same words). */
__attribute__((target_clones("avx2", "default"))) static void StgssaDerivativeDraws8(uint32_t iteration, uint64_t event0, StgssaPhiloxKey key, PetscInt R, double E[STGSSA_SMALL_R][STGSSA_PHILOX_LANES])
{
  for (PetscInt i = 0; i < R; i += 2) {
    uint32_t dbuf[4][STGSSA_PHILOX_LANES];
    StgssaPhiloxEvents8(iteration, event0, (uint32_t)(1 + i / 2), key, dbuf);
    for (int l = 0; l < STGSSA_PHILOX_LANES; l++) {
      E[i][l]     = -StgssaFastLog(StgssaUniformOpen(dbuf[0][l], dbuf[1][l]));
      E[i + 1][l] = -StgssaFastLog(StgssaUniformOpen(dbuf[2][l], dbuf[3][l])); /* (row R when R is odd: unused) */
    }
  }
}

static inline __attribute__((always_inline)) PetscErrorCode StgssaStgsSmallRun(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, StgssaPhiloxKey key, StgssaTangentWork *w, StgssaTangentRecord *rec, StgssaTrajInfo *info, const PetscInt P)
{
  const StgssaNetwork *net = cfg->net;
  const PetscInt       R = net->R, ns = cfg->nsample;
  const PetscInt *restrict rxn_param = tc->rxn_param, *restrict react_ptr = net->react_ptr, *restrict rs = net->react_species, *restrict rc = net->react_coef;
  const PetscInt *restrict nu_ptr = net->nu_ptr, *restrict nu_species = net->nu_species;
  const int64_t *restrict  nu_delta = net->nu_delta;
  const double *restrict   recip = w->recip;
  const double             lambda = tc->lambda, invlam = 1.0 / tc->lambda, tfinal = cfg->tfinal, count_from = tc->count_from;
  const PetscBool          window = tc->window;
  int64_t *restrict        x = w->x;
  double *restrict         a = w->a, *restrict xdot = w->xdot, *restrict tdot = w->tdot, *restrict dtau = w->dtau, *restrict nd = rec->nrxdot;
  double                   t = cfg->t0, a0, tsample = ns > 0 ? cfg->sample_times[0] : PETSC_INFINITY;
  double                   cum[STGSSA_SMALL_R], pi[STGSSA_SMALL_R], ldot[STGSSA_SMALL_R * 64], mean[64], adot[64];
  double                   u1b[STGSSA_PHILOX_LANES], e2b[STGSSA_PHILOX_LANES], E[STGSSA_SMALL_R + 1][STGSSA_PHILOX_LANES];
  int64_t                  n = 0, nc = 0;
  PetscInt                 next = 0;

  PetscFunctionBegin;
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
    if (lane == 0) {
      StgssaForwardDraws8(cfg->iteration, (uint64_t)n, key, u1b, e2b);
      if (!getenv("NODRAW")) StgssaDerivativeDraws8(cfg->iteration, (uint64_t)n, key, R, E); else for (int i = 0; i < R; i++) for (int l = 0; l < 8; l++) E[i][l] = 1.0 + 0.1 * l;
    }
    tau   = e2b[lane] / a0; /* -log(U_2) / a_0 */
    tnext = t + tau;
    j     = tnext > tfinal ? -1 : StgssaSelectReactionCumulative(R, a, cum, u1b[lane] * a0);
    if (PetscUnlikely(tsample < tnext)) { /* samples in [t_n, t_{n+1}) see x_n and its tangent */
      while (next < ns && cfg->sample_times[next] < tnext) StgssaRecordSample(tc, rec, next++, x, xdot, PETSC_TRUE);
      tsample = next < ns ? cfg->sample_times[next] : PETSC_INFINITY;
    }
    if (j < 0) { /* the next event is beyond tfinal: close the last dwell */
      if (window) StgssaWindowDwell(tc, rec, x, xdot, t, tfinal, tdot, dtau, PETSC_FALSE);
      break;
    }
    { /* the relaxed choice given the winner j: pi, ldot, the mean and a-weighted sums of ldot */
      const double amin = E[j][lane] / a0; /* T_j = E_0 / a_0 */
      double       psum = 0.0;
      for (PetscInt p = 0; p < P; p++) mean[p] = adot[p] = 0.0;
      for (PetscInt i = 0; i < R; i++) {
        if (a[i] <= 0.0) {
          pi[i] = 0.0;
          continue;
        }
        const double Ti = i == j ? amin : amin + E[i][lane] / a[i];
        pi[i]           = lambda == 1.0 ? amin / Ti : exp(invlam * log(amin / Ti)); /* (T_j / T_i)^(1/lambda) */
        psum += pi[i];
        double *restrict l = &ldot[i * P];
        for (PetscInt p = 0; p < P; p++) l[p] = 0.0;
        if (rxn_param[i] >= 0) l[rxn_param[i]] = 1.0;
        for (PetscInt r = react_ptr[i]; r < react_ptr[i + 1]; r++) {
          const PetscInt         s = rs[r], c = rc[r];
          const double *restrict xs = &xdot[s * P];
          double                 g  = 0.0; /* d log C(x_s, c) / d x_s */
          for (PetscInt q = 0; q < c; q++) g += StgssaRecip(recip, x[s] - q);
          for (PetscInt p = 0; p < P; p++) l[p] += g * xs[p];
        }
        for (PetscInt p = 0; p < P; p++) adot[p] += a[i] * l[p];
      }
      const double inv = 1.0 / psum;
      for (PetscInt i = 0; i < R; i++) {
        if (a[i] <= 0.0) continue;
        pi[i] *= inv;
        for (PetscInt p = 0; p < P; p++) mean[p] += pi[i] * ldot[i * P + p];
      }
      for (PetscInt p = 0; p < P; p++) dtau[p] = -tau * adot[p] / a0;
    }
    if (window) StgssaWindowDwell(tc, rec, x, xdot, t, tnext, tdot, dtau, PETSC_TRUE);
    counted = (PetscBool)(tnext > count_from); /* path observables: only jumps after the burn-in */
    if (counted) nc++;
    /* the exact jump; the tangents move by the relaxed jump xdot += sum_i nu_i pidot_i */
    PetscCall(StgssaJumpDense(net, j, x, tnext));
    if (counted) rec->nrx[j] += 1.0;
    for (PetscInt i = 0; i < R; i++) {
      if (a[i] <= 0.0) continue;
      const double c = pi[i] * invlam;
      double       pd[64];
      for (PetscInt p = 0; p < P; p++) pd[p] = c * (ldot[i * P + p] - mean[p]);
      for (PetscInt u = nu_ptr[i]; u < nu_ptr[i + 1]; u++) {
        const double     delta = (double)nu_delta[u];
        double *restrict xs    = &xdot[nu_species[u] * P];
        for (PetscInt p = 0; p < P; p++) xs[p] += delta * pd[p];
      }
      if (counted)
        for (PetscInt p = 0; p < P; p++) nd[i * P + p] += pd[p];
    }
    for (PetscInt p = 0; p < P; p++) tdot[p] += dtau[p];
    a0 = StgssaPropensitiesCumulative(net, x, a, cum);
    t = tnext;
    n++;
  }
  if (info->end != STGSSA_TRAJ_TFINAL && window) StgssaWindowDwell(tc, rec, x, xdot, t, tfinal, tdot, dtau, PETSC_FALSE); /* the state holds to tfinal */
  for (; next < ns; next++) StgssaRecordSample(tc, rec, next, x, xdot, PETSC_TRUE);
  rec->events         = n;
  rec->events_counted = nc;
  info->events        = n;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaSSARunStgsSmall_Private(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, uint64_t traj, StgssaTangentWork *w, StgssaTangentRecord *rec, StgssaTrajInfo *info)
{
  const StgssaPhiloxKey key = StgssaRngKey(cfg->seed, traj);
  const PetscInt        P   = tc->P;

  PetscFunctionBegin;
  switch (P) { /* the common numbers of parameters as constants */
  case 1: PetscCall(StgssaStgsSmallRun(cfg, tc, key, w, rec, info, 1)); break;
  case 2: PetscCall(StgssaStgsSmallRun(cfg, tc, key, w, rec, info, 2)); break;
  case 3: PetscCall(StgssaStgsSmallRun(cfg, tc, key, w, rec, info, 3)); break;
  case 4: PetscCall(StgssaStgsSmallRun(cfg, tc, key, w, rec, info, 4)); break;
  case 5: PetscCall(StgssaStgsSmallRun(cfg, tc, key, w, rec, info, 5)); break;
  case 6: PetscCall(StgssaStgsSmallRun(cfg, tc, key, w, rec, info, 6)); break;
  case 8: PetscCall(StgssaStgsSmallRun(cfg, tc, key, w, rec, info, 8)); break;
  default: PetscCall(StgssaStgsSmallRun(cfg, tc, key, w, rec, info, P)); break;
  }
  PetscFunctionReturn(0);
}
