/* SPDX-License-Identifier: BSD-2-Clause */
/*
  The direct method on tiny first-order networks (R <= 16, S < 16, every propensity k_j x_s or
  k_j: gene-expression models such as the telegraph promoter), several paths at once: the hot
  loop of simulate mode on such models.

  The same numbers, bit for bit, as StgssaSSARun (tests/test_tangent.c compares them); only the
  bookkeeping differs. Vectors of RP (R padded to 4, 8 or 16) reactions and SP (S + 1 padded)
  species, compile-time constants, as GCC vector types:
    - the state is kept as doubles too, xf = (double)x, with a last slot fixed at 1.0 so that
      a_j = k_j xf[src_j] covers zeroth order (k_j 1.0 = k_j exactly); the jump adds the dense row
      of nu as doubles (exact: counts stay integers below 2^53, checked on the int64 state);
    - padding reactions have k = 0: they add +0.0 to every partial sum and are never chosen;
    - j = the number of partial sums <= U a_0 (StgssaSelectReactionCumulative), as vector
      comparisons.
  STGSSA_SSA_MANY paths advance together, one event each per round (their chains overlap).
*/
#include "ssa_tiny.h"
#include <string.h>

typedef double  StgssaVd __attribute__((vector_size(32)));
typedef int64_t StgssaVi __attribute__((vector_size(32)));

#define STGSSA_TINY_N 16 /* largest RP and SP */

/* One path in flight. */
typedef struct {
  StgssaPhiloxKey key;
  int64_t        *samples;
  StgssaTrajInfo *info;
  StgssaSSAWork  *w;
  PetscBool       active;
  PetscInt        next;
  int64_t         n;
  double          t, a0, tsample;
  double          u1b[STGSSA_PHILOX_LANES], e2b[STGSSA_PHILOX_LANES];
  StgssaVd        xf[STGSSA_TINY_N / 4], a[STGSSA_TINY_N / 4], cum[STGSSA_TINY_N / 4];
  StgssaVi        xi[STGSSA_TINY_N / 4];
} StgssaTinyPath;

/* The network as vectors. */
typedef struct {
  StgssaVd k[STGSSA_TINY_N / 4];                 /* rate constants, 0 for padding */
  PetscInt src[STGSSA_TINY_N];                   /* species read by a_j, or S (the slot holding 1.0) */
  StgssaVd nud[STGSSA_TINY_N][STGSSA_TINY_N / 4]; /* nu_j as doubles */
  StgssaVi nui[STGSSA_TINY_N][STGSSA_TINY_N / 4]; /* nu_j */
} StgssaTinyNet;

PetscBool StgssaTinyApplies(const StgssaNetwork *net)
{
  if (net->any_law || net->any_tdep || net->R > STGSSA_TINY_N || net->S + 1 > STGSSA_TINY_N || !net->nu_dense) return PETSC_FALSE;
  for (PetscInt j = 0; j < net->R; j++)
    if (net->order1[j] < -1) return PETSC_FALSE;
  return PETSC_TRUE;
}

/* a = k * xf[src] lane by lane, and the partial sums in reaction order (StgssaPropensitiesCumulative);
   returns a_0. */
static inline __attribute__((always_inline)) double StgssaTinyPropensities(const StgssaTinyNet *tn, StgssaTinyPath *T, const PetscInt RP)
{
  const double *xf = (const double *)T->xf;
  double       *a = (double *)T->a, *cum = (double *)T->cum, s = 0.0;
  for (PetscInt v = 0; v < RP / 4; v++) T->a[v] = tn->k[v] * (StgssaVd){xf[tn->src[4 * v]], xf[tn->src[4 * v + 1]], xf[tn->src[4 * v + 2]], xf[tn->src[4 * v + 3]]};
  for (PetscInt j = 0; j < RP; j++) {
    s += a[j];
    cum[j] = s;
  }
  return s;
}

static inline __attribute__((always_inline)) PetscErrorCode StgssaTinyStep(const StgssaSSAConfig *cfg, const StgssaTinyNet *tn, StgssaTinyPath *T, const PetscInt RP, const PetscInt SP)
{
  const StgssaNetwork *net = cfg->net;
  const PetscInt       S = net->S, R = net->R, ns = cfg->nsample;
  double               tnext;

  PetscFunctionBegin;
  if (T->a0 <= 0.0 || T->n >= cfg->max_events) {
    T->info->end = T->a0 <= 0.0 ? STGSSA_TRAJ_ABSORBED : STGSSA_TRAJ_CAPPED;
    T->active    = PETSC_FALSE;
  } else {
    const int lane = (int)(T->n % STGSSA_PHILOX_LANES);
    if (lane == 0) StgssaForwardDraws8(cfg->iteration, (uint64_t)T->n, T->key, T->u1b, T->e2b);
    tnext = T->t + T->e2b[lane] / T->a0; /* tau = -log(U_2) / a_0 */
    if (PetscUnlikely(T->tsample < tnext)) { /* x(t_s) = x_n for t_n <= t_s < t_{n+1} */
      const int64_t *xi = (const int64_t *)T->xi;
      while (T->next < ns && cfg->sample_times[T->next] < tnext) {
        for (PetscInt s = 0; s < S; s++) T->samples[T->next * S + s] = xi[s];
        T->next++;
      }
      T->tsample = T->next < ns ? cfg->sample_times[T->next] : PETSC_INFINITY;
    }
    if (tnext > cfg->tfinal) T->active = PETSC_FALSE;
    else {
      const double target = T->u1b[lane] * T->a0;
      StgssaVi     cnt    = {0, 0, 0, 0};
      PetscInt     j;
      for (PetscInt v = 0; v < RP / 4; v++) cnt -= (StgssaVi)(T->cum[v] <= target); /* true lanes are -1 */
      j = (PetscInt)(cnt[0] + cnt[1] + cnt[2] + cnt[3]);
      if (PetscUnlikely(j >= R)) j = StgssaSelectReaction(R, (const double *)T->a, target); /* rounding: the last active reaction */
      {
        StgssaVi over = {0, 0, 0, 0};
        for (PetscInt v = 0; v < SP / 4; v++) {
          T->xf[v] += tn->nud[j][v];
          T->xi[v] += tn->nui[j][v];
          over |= (StgssaVi)(T->xi[v] > STGSSA_COUNT_MAX);
        }
        if (PetscUnlikely(over[0] | over[1] | over[2] | over[3])) {
          const int64_t *xi = (const int64_t *)T->xi;
          for (PetscInt s = 0; s < S; s++)
            if (xi[s] > STGSSA_COUNT_MAX) {
              for (PetscInt q = 0; q < S; q++) T->w->x[q] = xi[q];
              PetscCall(StgssaCountOverflowError(net, j, T->w->x, s, tnext));
            }
        }
      }
      T->a0 = StgssaTinyPropensities(tn, T, RP);
      T->t  = tnext;
      T->n++;
    }
  }
  if (!T->active) { /* absorbed, capped or past tfinal: the remaining sample times hold the last state */
    const int64_t *xi = (const int64_t *)T->xi;
    for (; T->next < ns; T->next++)
      for (PetscInt s = 0; s < S; s++) T->samples[T->next * S + s] = xi[s];
    for (PetscInt s = 0; s < S; s++) T->w->x[s] = xi[s];
    T->info->events = T->n;
  }
  PetscFunctionReturn(0);
}

static inline __attribute__((always_inline)) PetscErrorCode StgssaTinyRun(const StgssaSSAConfig *cfg, PetscInt count, const uint64_t *traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info, const PetscInt RP, const PetscInt SP)
{
  const StgssaNetwork *net = cfg->net;
  const PetscInt       S = net->S, R = net->R, len = cfg->nsample * S;
  StgssaTinyNet        tn;

  PetscFunctionBegin;
  memset(&tn, 0, sizeof(tn));
  for (PetscInt j = 0; j < R; j++) {
    ((double *)tn.k)[j] = net->k[j];
    tn.src[j]           = net->order1[j] >= 0 ? net->order1[j] : S;
    for (PetscInt s = 0; s < S; s++) {
      ((double *)tn.nud[j])[s]  = (double)net->nu_dense[j * S + s];
      ((int64_t *)tn.nui[j])[s] = net->nu_dense[j * S + s];
    }
  }
  for (PetscInt j = R; j < STGSSA_TINY_N; j++) tn.src[j] = S; /* padding: k = 0 */
  for (PetscInt k0 = 0; k0 < count; k0 += STGSSA_SSA_MANY) {
    StgssaTinyPath T[STGSSA_SSA_MANY];
    const PetscInt nk = PetscMin(STGSSA_SSA_MANY, count - k0);
    PetscInt       nactive = nk;
    for (PetscInt k = 0; k < nk; k++) {
      StgssaTinyPath *P = &T[k];
      PetscCheck(traj[k0 + k] <= UINT32_MAX, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Trajectory index %" PRIu64 " exceeds 2^32-1", traj[k0 + k]);
      memset(P, 0, sizeof(*P));
      P->key = StgssaRngKey(cfg->seed, traj[k0 + k]), P->w = &w[k0 + k], P->samples = &samples[(k0 + k) * len], P->info = &info[k0 + k];
      P->active = PETSC_TRUE, P->t = cfg->t0, P->tsample = cfg->nsample > 0 ? cfg->sample_times[0] : PETSC_INFINITY;
      P->info->end = STGSSA_TRAJ_TFINAL;
      for (PetscInt s = 0; s < S; s++) {
        ((int64_t *)P->xi)[s] = net->x0[s];
        ((double *)P->xf)[s]  = (double)net->x0[s];
      }
      ((double *)P->xf)[S] = 1.0;
      P->a0                = StgssaTinyPropensities(&tn, P, RP);
    }
    while (nactive > 0) /* one event of each path per round: their dependency chains overlap */
      for (PetscInt k = 0; k < nk; k++)
        if (T[k].active) {
          PetscCall(StgssaTinyStep(cfg, &tn, &T[k], RP, SP));
          if (!T[k].active) nactive--;
        }
  }
  PetscFunctionReturn(0);
}

#define STGSSA_TINY_CASE(RP, SP) \
  __attribute__((target_clones("avx2", "default"))) static PetscErrorCode StgssaTinyRun_##RP##_##SP(const StgssaSSAConfig *cfg, PetscInt count, const uint64_t *traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info) \
  { \
    return StgssaTinyRun(cfg, count, traj, w, samples, info, RP, SP); \
  }
STGSSA_TINY_CASE(4, 4)
STGSSA_TINY_CASE(4, 8)
STGSSA_TINY_CASE(8, 4)
STGSSA_TINY_CASE(8, 8)
STGSSA_TINY_CASE(16, 16)

PetscErrorCode StgssaSSARunTiny_Private(const StgssaSSAConfig *cfg, PetscInt count, const uint64_t *traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info)
{
  const PetscInt R = cfg->net->R, S1 = cfg->net->S + 1;

  PetscFunctionBegin;
  PetscCheck(StgssaTinyApplies(cfg->net), PETSC_COMM_SELF, PETSC_ERR_PLIB, "Tiny direct method called outside its range");
  if (R <= 4 && S1 <= 4) PetscCall(StgssaTinyRun_4_4(cfg, count, traj, w, samples, info));
  else if (R <= 4 && S1 <= 8) PetscCall(StgssaTinyRun_4_8(cfg, count, traj, w, samples, info));
  else if (R <= 8 && S1 <= 4) PetscCall(StgssaTinyRun_8_4(cfg, count, traj, w, samples, info));
  else if (R <= 8 && S1 <= 8) PetscCall(StgssaTinyRun_8_8(cfg, count, traj, w, samples, info));
  else PetscCall(StgssaTinyRun_16_16(cfg, count, traj, w, samples, info));
  PetscFunctionReturn(0);
}
