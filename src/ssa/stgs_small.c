/* SPDX-License-Identifier: BSD-2-Clause */
/*
  ST-GS tangents on small time-independent mass-action networks (R <= 16, R*S <= STGSSA_DENSE_MAX,
  P <= 8, no entropy production, no per-event checks): the hot loop of gradient mode on models
  such as the telegraph promoter.

  The same mathematics, the same operations in the same order and so the same numbers, bit for
  bit, as the general loop of tangent.c (tests/test_tangent.c compares the two on every record
  field); only the bookkeeping differs:
    - STGSSA_SMALL_K trajectories advance together, one event each per round and phase by phase:
      one event is a chain of dependent divisions and sums (a_0 -> tau, the race softmax, the
      mean of ldot -> xdot), so the processor overlaps the chains of independent trajectories;
    - the derivative draws E_i of eight events (every reaction) are made together with their
      forward draws, as one batch of Philox blocks and logarithms;
    - tangents are held with leading dimension PP (P rounded up to 4 or 8, a compile-time
      constant); padding lanes stay 0 and every tangent operation acts lane by lane, so a loop over
      p is a few vector instructions and the lanes p < P hold the general loop's values;
    - both are compiled for AVX2 too, chosen at run time (the same IEEE operations lane by lane,
      no contraction to FMA: the same numbers);
    - the forward step uses the branch-free reaction choice and the dense jump of ssa.h, or on
      first-order networks the vector step of ssa_tiny.h (template parameter N);
    - d log C(x, c)/dx = sum_{q<c} 1/(x - q) reads 1/n from a table (StgssaRecip).
  Equations (DESIGN.md §2): pi from StgssaRaceSoftmax (tangent_impl.h);
  ldot_i = e_param(i) + sum_s (d log a_i/d x_s) xdot_s; pidot_i = pi_i (ldot_i - sum_k pi_k ldot_k)/lambda;
  xdot += sum_i nu_i pidot_i; taudot = -tau (sum_i a_i ldot_i)/a_0.
*/
#include "tangent_impl.h"
#include "ssa_tiny.h"
#include <stgssa/fastlog.h>
#include <math.h>

/* The draws of eight events, forward and derivative, for the instruction sets chosen at run time. */
__attribute__((target_clones("avx2", "default"))) static void StgssaDraws8(uint32_t iteration, uint64_t event0, StgssaPhiloxKey key, PetscInt R, double u1[STGSSA_PHILOX_LANES], double e2[STGSSA_PHILOX_LANES], double E[STGSSA_SMALL_R][STGSSA_PHILOX_LANES])
{
  StgssaForwardDraws8(iteration, event0, key, u1, e2);
  StgssaDerivativeDraws8(iteration, event0, key, R, E);
}

/* One trajectory in flight. */
typedef struct {
  StgssaPhiloxKey      key;
  StgssaTangentWork   *w;
  StgssaTangentRecord *rec;
  StgssaTrajInfo      *info;
  int64_t             *x; /* the state: w->x, or st.xi (N > 0) */
  double              *a; /* the propensities: w->a, or st.a (N > 0) */
  StgssaTinyState      st;
  PetscBool            active;
  PetscInt             j, next;
  int                  lane; /* the event's lane in the draws of eight events */
  int64_t              n, nc;
  double               t, tnext, tau, a0, tsample;
  double               cum[STGSSA_SMALL_R], pi[STGSSA_SMALL_R];
  double               u1b[STGSSA_PHILOX_LANES], e2b[STGSSA_PHILOX_LANES], E[STGSSA_SMALL_R][STGSSA_PHILOX_LANES];
  /* tangents, leading dimension PP: state, log-propensities, reaction counts; time */
  double xd[STGSSA_DENSE_MAX * STGSSA_SMALL_PMAX] __attribute__((aligned(64)));
  double ld[STGSSA_SMALL_R * STGSSA_SMALL_PMAX] __attribute__((aligned(64)));
  double nd[STGSSA_SMALL_R * STGSSA_SMALL_PMAX] __attribute__((aligned(64)));
  double td[STGSSA_SMALL_PMAX] __attribute__((aligned(64))), dt[STGSSA_SMALL_PMAX] __attribute__((aligned(64)));
  double mean[STGSSA_SMALL_PMAX] __attribute__((aligned(64)));
} StgssaSmallTraj;

/* Start trajectory traj in T (the record's accumulated fields zeroed). */
static inline __attribute__((always_inline)) void StgssaSmallStart(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, const StgssaTinyNet *tn, uint64_t traj, StgssaTangentWork *w, StgssaTangentRecord *rec, StgssaTrajInfo *info, StgssaSmallTraj *T, const PetscInt PP, const PetscInt N)
{
  const StgssaNetwork *net = cfg->net;
  T->key = StgssaRngKey(cfg->seed, traj), T->w = w, T->rec = rec, T->info = info, T->active = PETSC_TRUE;
  T->n = T->nc = 0, T->next = 0, T->t = cfg->t0;
  T->tsample = cfg->nsample > 0 ? cfg->sample_times[0] : PETSC_INFINITY;
  info->end  = STGSSA_TRAJ_TFINAL;
  for (PetscInt m = 0; m < net->S * PP; m++) T->xd[m] = 0.0;
  for (PetscInt m = 0; m < net->R * PP; m++) T->nd[m] = 0.0;
  for (PetscInt p = 0; p < PP; p++) T->td[p] = T->dt[p] = 0.0;
  for (PetscInt o = 0; o < tc->nobs; o++) rec->wavg[o] = 0.0;
  for (PetscInt m = 0; m < tc->nobs * tc->P; m++) rec->wavgdot[m] = 0.0;
  for (PetscInt i = 0; i < net->R; i++) rec->nrx[i] = 0.0;
  for (PetscInt p = 0; p < tc->P; p++) rec->sigmadot[p] = rec->score_end[p] = 0.0;
  rec->sigma = 0.0;
  T->a0      = StgssaForwardStart(net, tn, w->x, w->a, &T->st, T->cum, &T->x, &T->a, N);
}

/* The end of T's path: the last dwell, the remaining samples, the general loop's work and record fields. */
static inline __attribute__((always_inline)) void StgssaSmallFinish(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, StgssaSmallTraj *T, const PetscInt PP)
{
  for (PetscInt s = 0; s < cfg->net->S; s++) T->w->x[s] = T->x[s]; /* (N > 0: the final state in the work, as the general loop leaves it) */
  const StgssaNetwork *net = cfg->net;
  const PetscInt       P   = tc->P;
  StgssaTangentWork   *w   = T->w;
  StgssaTangentRecord *rec = T->rec;
  if (tc->window) StgssaWindowDwell(cfg->net, tc, rec, T->x, T->xd, PP, T->t, cfg->tfinal, T->td, T->dt, PETSC_FALSE);
  for (; T->next < cfg->nsample; T->next++) StgssaRecordSample(cfg->net, tc, rec, T->next, T->x, T->xd, PP, PETSC_TRUE);
  for (PetscInt s = 0; s < net->S; s++)
    for (PetscInt p = 0; p < P; p++) w->xdot[s * P + p] = T->xd[s * PP + p];
  for (PetscInt i = 0; i < net->R; i++)
    for (PetscInt p = 0; p < P; p++) rec->nrxdot[i * P + p] = T->nd[i * PP + p];
  for (PetscInt p = 0; p < P; p++) {
    w->tdot[p] = T->td[p];
    w->dtau[p] = T->dt[p];
  }
  rec->events = T->info->events = T->n;
  rec->events_counted           = T->nc;
  T->active                     = PETSC_FALSE;
}

/* Phase 1 of an event: the forward draws, tau, the reaction j, the samples before the event. A path
   that ends here is finished. */
static inline __attribute__((always_inline)) void StgssaSmallForward(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, StgssaSmallTraj *T, const PetscInt PP, const PetscInt N)
{
  const StgssaNetwork *net = cfg->net;
  const PetscInt       R   = net->R;
  if (T->a0 <= 0.0 || T->n >= cfg->max_events) {
    T->info->end = T->a0 <= 0.0 ? STGSSA_TRAJ_ABSORBED : STGSSA_TRAJ_CAPPED;
    StgssaSmallFinish(cfg, tc, T, PP);
    return;
  }
  const int lane = (int)(T->n % STGSSA_PHILOX_LANES);
  if (lane == 0) StgssaDraws8(cfg->iteration, (uint64_t)T->n, T->key, R, T->u1b, T->e2b, T->E);
  T->tau   = T->e2b[lane] / T->a0; /* -log(U_2) / a_0 */
  T->tnext = T->t + T->tau;
  T->j     = T->tnext > cfg->tfinal ? -1 : StgssaForwardSelect(&T->st, T->a, T->cum, R, T->u1b[lane] * T->a0, N);
  if (PetscUnlikely(T->tsample < T->tnext)) { /* samples in [t_n, t_{n+1}) see x_n and its tangent */
    while (T->next < cfg->nsample && cfg->sample_times[T->next] < T->tnext) StgssaRecordSample(cfg->net, tc, T->rec, T->next++, T->x, T->xd, PP, PETSC_TRUE);
    T->tsample = T->next < cfg->nsample ? cfg->sample_times[T->next] : PETSC_INFINITY;
  }
  if (T->j < 0) StgssaSmallFinish(cfg, tc, T, PP); /* the next event is beyond tfinal: close the last dwell */
  else T->lane = lane;
}

/* Four lanes of a tangent row (GCC vector extension: lane-wise IEEE operations, one instruction
   per operation under AVX2, two under SSE2); rows of PP = 4 NV doubles are NV of them. */
typedef double StgssaV4 __attribute__((vector_size(32), may_alias));

/* Phase 3: ldot of every active reaction, its pi-weighted mean and taudot. */
static inline __attribute__((always_inline)) void StgssaSmallTangents(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, const StgssaTinyNet *tn, const double *restrict eq, StgssaSmallTraj *T, const PetscInt PP, const PetscInt N)
{
  const StgssaNetwork     *net = cfg->net;
  const PetscInt           R = net->R, NV = PP / 4;
  const PetscInt *restrict react_ptr = net->react_ptr, *restrict rs = net->react_species, *restrict rc = net->react_coef;
  const double *restrict   recip = T->w->recip, *restrict a = T->a, *restrict pi = T->pi;
  const int64_t *restrict  x   = T->x;
  const StgssaV4          *xdv = (const StgssaV4 *)T->xd, *eqv = (const StgssaV4 *)eq;
  StgssaV4                *ldv = (StgssaV4 *)T->ld, *meanv = (StgssaV4 *)T->mean, *dtv = (StgssaV4 *)T->dt;
  StgssaV4                 adot[STGSSA_SMALL_PMAX / 4], mean[STGSSA_SMALL_PMAX / 4];
  for (PetscInt v = 0; v < NV; v++) mean[v] = adot[v] = (StgssaV4){0.0, 0.0, 0.0, 0.0};
  for (PetscInt i = 0; i < R; i++) {
    if (a[i] <= 0.0) continue;
    StgssaV4 l[STGSSA_SMALL_PMAX / 4];
    for (PetscInt v = 0; v < NV; v++) l[v] = eqv[i * NV + v]; /* d_theta log k_i: 1 at param(i) */
    if (N) { /* first order: at most one reactant, coefficient 1: g = 0.0 + 1/x_s, as below */
      const PetscInt s = tn->src[i];
      if (s < net->S) {
        const double g = StgssaRecip(recip, x[s]);
        for (PetscInt v = 0; v < NV; v++) l[v] += g * xdv[s * NV + v];
      }
    } else
      for (PetscInt r = react_ptr[i]; r < react_ptr[i + 1]; r++) {
        const PetscInt s = rs[r], c = rc[r];
        double         g = 0.0; /* d log C(x_s, c) / d x_s */
        for (PetscInt q = 0; q < c; q++) g += StgssaRecip(recip, x[s] - q);
        for (PetscInt v = 0; v < NV; v++) l[v] += g * xdv[s * NV + v];
      }
    for (PetscInt v = 0; v < NV; v++) {
      ldv[i * NV + v] = l[v];
      adot[v] += a[i] * l[v];
      mean[v] += pi[i] * l[v];
    }
  }
  const double c = -T->tau / T->a0; /* taudot = -tau (sum_i a_i ldot_i) / a_0 */
  for (PetscInt v = 0; v < NV; v++) {
    meanv[v] = mean[v];
    dtv[v]   = c * adot[v];
  }
  if (tc->window) StgssaWindowDwell(cfg->net, tc, T->rec, x, T->xd, PP, T->t, T->tnext, T->td, T->dt, PETSC_TRUE);
}

/* Phase 4: the relaxed jump of the tangents, then the exact jump and the new propensities. */
static inline __attribute__((always_inline)) PetscErrorCode StgssaSmallJump(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, const StgssaTinyNet *tn, StgssaSmallTraj *T, const PetscInt PP, const PetscInt N)
{
  const StgssaNetwork     *net = cfg->net;
  const PetscInt           R = net->R, NV = PP / 4;
  const PetscInt *restrict nu_ptr = net->nu_ptr, *restrict nu_species = net->nu_species;
  const int64_t *restrict  nu_delta = net->nu_delta;
  const double             invlam   = 1.0 / tc->lambda;
  const double            *a = T->a, *restrict pi = T->pi; /* (a is rewritten by the jump at the end: not restrict) */
  const StgssaV4          *ldv = (const StgssaV4 *)T->ld, *meanv = (const StgssaV4 *)T->mean, *dtv = (const StgssaV4 *)T->dt;
  StgssaV4                *xdv = (StgssaV4 *)T->xd, *ndv = (StgssaV4 *)T->nd, *tdv = (StgssaV4 *)T->td;
  const PetscBool          counted = (PetscBool)(T->tnext > tc->count_from); /* path observables: only jumps after the burn-in */

  PetscFunctionBegin;
  if (counted) {
    T->nc++;
    T->rec->nrx[T->j] += 1.0;
  }
  /* the tangents move with a, the propensities before the jump; the exact jump comes after */
  for (PetscInt i = 0; i < R; i++) { /* xdot += sum_i nu_i pidot_i */
    if (a[i] <= 0.0) continue;
    const double c = pi[i] * invlam;
    StgssaV4     pd[STGSSA_SMALL_PMAX / 4];
    for (PetscInt v = 0; v < NV; v++) pd[v] = c * (ldv[i * NV + v] - meanv[v]); /* pidot_i */
    for (PetscInt u = nu_ptr[i]; u < nu_ptr[i + 1]; u++) {
      const double   delta = (double)nu_delta[u];
      const PetscInt s     = nu_species[u];
      for (PetscInt v = 0; v < NV; v++) xdv[s * NV + v] += delta * pd[v];
    }
    if (counted)
      for (PetscInt v = 0; v < NV; v++) ndv[i * NV + v] += pd[v];
  }
  for (PetscInt v = 0; v < NV; v++) tdv[v] += dtv[v];
  PetscCall(StgssaForwardJump(net, tn, T->w->x, T->w->a, &T->st, T->cum, T->j, T->tnext, &T->a0, N));
  T->t = T->tnext;
  T->n++;
  PetscFunctionReturn(0);
}

/* count <= STGSSA_SMALL_K trajectories, one event each per round, phase by phase. */
static inline __attribute__((always_inline)) PetscErrorCode StgssaStgsSmallRun(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, PetscInt count, const uint64_t *traj, StgssaTangentWork *w, StgssaTangentRecord *rec, StgssaTrajInfo *info, const PetscInt PP, const PetscInt N)
{
  const StgssaNetwork *net = cfg->net;
  const PetscInt       R   = net->R;
  StgssaSmallTraj      T[STGSSA_SMALL_K];
  double               eq[STGSSA_SMALL_R * STGSSA_SMALL_PMAX] __attribute__((aligned(64))); /* e_param(i), padded */
  PetscInt             nactive = count;
  StgssaTinyNet        tn;

  PetscFunctionBegin;
  if (N) StgssaTinyNetSetUp(net, &tn);
  for (PetscInt m = 0; m < R * PP; m++) eq[m] = 0.0;
  for (PetscInt i = 0; i < R; i++)
    if (tc->rxn_param[i] >= 0) eq[i * PP + tc->rxn_param[i]] = 1.0;
  for (PetscInt k = 0; k < count; k++) StgssaSmallStart(cfg, tc, &tn, traj[k], &w[k], &rec[k], &info[k], &T[k], PP, N);
  while (nactive > 0) {
    for (PetscInt k = 0; k < count; k++)
      if (T[k].active) {
        StgssaSmallForward(cfg, tc, &T[k], PP, N);
        if (!T[k].active) nactive--;
      }
    for (PetscInt k = 0; k < count; k++)
      if (T[k].active) StgssaRaceSoftmax(R, T[k].j, T[k].a, &T[k].E[0][T[k].lane], STGSSA_PHILOX_LANES, T[k].a0, tc->lambda, T[k].pi);
    for (PetscInt k = 0; k < count; k++)
      if (T[k].active) StgssaSmallTangents(cfg, tc, &tn, eq, &T[k], PP, N);
    for (PetscInt k = 0; k < count; k++)
      if (T[k].active) PetscCall(StgssaSmallJump(cfg, tc, &tn, &T[k], PP, N));
  }
  PetscFunctionReturn(0);
}

/* One compiled loop per padded width PP and forward step N (0: the dense step; 4, 8, 16: the
   vector step of first-order networks), each for AVX2 and for the baseline instruction set. */
#define STGSSA_SMALL_CASE(PP, N) \
  __attribute__((target_clones("avx2", "default"))) static PetscErrorCode StgssaStgsSmall_##PP##_##N(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, PetscInt count, const uint64_t *traj, StgssaTangentWork *w, StgssaTangentRecord *rec, StgssaTrajInfo *info) \
  { \
    return StgssaStgsSmallRun(cfg, tc, count, traj, w, rec, info, PP, N); \
  }
STGSSA_SMALL_CASE(4, 0)
STGSSA_SMALL_CASE(4, 4)
STGSSA_SMALL_CASE(4, 8)
STGSSA_SMALL_CASE(4, 16)
STGSSA_SMALL_CASE(8, 0)
STGSSA_SMALL_CASE(8, 4)
STGSSA_SMALL_CASE(8, 8)
STGSSA_SMALL_CASE(8, 16)

PetscErrorCode StgssaSSARunStgsSmall_Private(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, PetscInt count, const uint64_t *traj, StgssaTangentWork *w, StgssaTangentRecord *rec, StgssaTrajInfo *info)
{
  const PetscInt N = StgssaTinyApplies(cfg->net) ? StgssaTinyWidth(cfg->net) : 0;

  PetscFunctionBegin;
  PetscCheck(StgssaStgsSmallApplies(cfg->net, tc) && count >= 1 && count <= STGSSA_SMALL_K, PETSC_COMM_SELF, PETSC_ERR_PLIB, "Small ST-GS engine called outside its range");
  for (PetscInt k = 0; k < count; k++) PetscCheck(traj[k] <= UINT32_MAX, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Trajectory index %" PRIu64 " exceeds 2^32-1", traj[k]);
#define STGSSA_SMALL_N(PP) \
  switch (N) { \
  case 0: PetscCall(StgssaStgsSmall_##PP##_0(cfg, tc, count, traj, w, rec, info)); break; \
  case 4: PetscCall(StgssaStgsSmall_##PP##_4(cfg, tc, count, traj, w, rec, info)); break; \
  case 8: PetscCall(StgssaStgsSmall_##PP##_8(cfg, tc, count, traj, w, rec, info)); break; \
  default: PetscCall(StgssaStgsSmall_##PP##_16(cfg, tc, count, traj, w, rec, info)); break; \
  }
  if (tc->P <= 4) STGSSA_SMALL_N(4)
  else STGSSA_SMALL_N(8)
#undef STGSSA_SMALL_N
  PetscFunctionReturn(0);
}
