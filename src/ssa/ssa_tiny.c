/* SPDX-License-Identifier: BSD-2-Clause */
/*
  The direct method on tiny first-order networks (ssa_tiny.h: R <= 16, S < 16, propensities
  k_j x_s or k_j: gene-expression models such as the telegraph promoter), STGSSA_SSA_MANY paths at
  once, one event each per round (an event is a chain of dependent operations: a_0 -> tau, the
  partial sums -> j -> x -> a; the processor overlaps the chains of independent paths). The hot
  loop of simulate mode on such models; the same numbers, bit for bit, as StgssaSSARun
  (tests/test_tangent.c compares them).
*/
#include "ssa_tiny.h"

PetscBool StgssaTinyApplies(const StgssaNetwork *net)
{
  if (net->any_law || net->any_tdep || net->R > STGSSA_TINY_N || net->S + 1 > STGSSA_TINY_N || !net->nu_dense) return PETSC_FALSE;
  for (PetscInt j = 0; j < net->R; j++)
    if (net->order1[j] < -1) return PETSC_FALSE;
  return PETSC_TRUE;
}

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
  StgssaTinyState st;
} StgssaTinyPath;

/* One event of path T: StgssaSSARun's loop, statement for statement. */
static inline __attribute__((always_inline)) PetscErrorCode StgssaTinyStep(const StgssaSSAConfig *cfg, const StgssaTinyNet *tn, StgssaTinyPath *T, const PetscInt N)
{
  const StgssaNetwork *net = cfg->net;
  const PetscInt       S = net->S, ns = cfg->nsample;
  const int64_t       *xi = (const int64_t *)T->st.xi;
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
      while (T->next < ns && cfg->sample_times[T->next] < tnext) {
        for (PetscInt s = 0; s < S; s++) T->samples[T->next * S + s] = xi[s];
        T->next++;
      }
      T->tsample = T->next < ns ? cfg->sample_times[T->next] : PETSC_INFINITY;
    }
    if (tnext > cfg->tfinal) T->active = PETSC_FALSE;
    else {
      const PetscInt j = StgssaTinySelect(&T->st, net->R, T->u1b[lane] * T->a0, N);
      PetscCall(StgssaTinyJump(net, tn, &T->st, j, tnext, T->w->x, N));
      T->a0 = StgssaTinyPropensities(tn, &T->st, N);
      T->t  = tnext;
      T->n++;
    }
  }
  if (!T->active) { /* absorbed, capped or past tfinal: the remaining sample times hold the last state */
    for (; T->next < ns; T->next++)
      for (PetscInt s = 0; s < S; s++) T->samples[T->next * S + s] = xi[s];
    for (PetscInt s = 0; s < S; s++) T->w->x[s] = xi[s];
    T->info->events = T->n;
  }
  PetscFunctionReturn(0);
}

static inline __attribute__((always_inline)) PetscErrorCode StgssaTinyRun(const StgssaSSAConfig *cfg, PetscInt count, const uint64_t *traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info, const PetscInt N)
{
  const StgssaNetwork *net = cfg->net;
  const PetscInt       len = cfg->nsample * net->S;
  StgssaTinyNet        tn;

  PetscFunctionBegin;
  StgssaTinyNetSetUp(net, &tn);
  for (PetscInt k0 = 0; k0 < count; k0 += STGSSA_SSA_MANY) {
    StgssaTinyPath T[STGSSA_SSA_MANY];
    const PetscInt nk      = PetscMin(STGSSA_SSA_MANY, count - k0);
    PetscInt       nactive = nk;
    for (PetscInt k = 0; k < nk; k++) {
      StgssaTinyPath *P = &T[k];
      PetscCheck(traj[k0 + k] <= UINT32_MAX, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Trajectory index %" PRIu64 " exceeds 2^32-1", traj[k0 + k]);
      P->key = StgssaRngKey(cfg->seed, traj[k0 + k]), P->w = &w[k0 + k], P->samples = &samples[(k0 + k) * len], P->info = &info[k0 + k];
      P->active = PETSC_TRUE, P->next = 0, P->n = 0, P->t = cfg->t0, P->tsample = cfg->nsample > 0 ? cfg->sample_times[0] : PETSC_INFINITY;
      P->info->end = STGSSA_TRAJ_TFINAL;
      P->a0        = StgssaTinyStart(net, &tn, &P->st, N);
    }
    while (nactive > 0)
      for (PetscInt k = 0; k < nk; k++)
        if (T[k].active) {
          PetscCall(StgssaTinyStep(cfg, &tn, &T[k], N));
          if (!T[k].active) nactive--;
        }
  }
  PetscFunctionReturn(0);
}

/* One compiled loop per width, each for AVX2 and for the baseline instruction set (chosen at run
   time; the same IEEE operations lane by lane, no contraction to FMA: the same numbers). */
#define STGSSA_TINY_CASE(N) \
  __attribute__((target_clones("avx2", "default"))) static PetscErrorCode StgssaTinyRun_##N(const StgssaSSAConfig *cfg, PetscInt count, const uint64_t *traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info) \
  { \
    return StgssaTinyRun(cfg, count, traj, w, samples, info, N); \
  }
STGSSA_TINY_CASE(4)
STGSSA_TINY_CASE(8)
STGSSA_TINY_CASE(16)

PetscErrorCode StgssaSSARunTiny_Private(const StgssaSSAConfig *cfg, PetscInt count, const uint64_t *traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info)
{
  PetscFunctionBegin;
  PetscCheck(StgssaTinyApplies(cfg->net), PETSC_COMM_SELF, PETSC_ERR_PLIB, "Tiny direct method called outside its range");
  switch (StgssaTinyWidth(cfg->net)) {
  case 4: PetscCall(StgssaTinyRun_4(cfg, count, traj, w, samples, info)); break;
  case 8: PetscCall(StgssaTinyRun_8(cfg, count, traj, w, samples, info)); break;
  default: PetscCall(StgssaTinyRun_16(cfg, count, traj, w, samples, info)); break;
  }
  PetscFunctionReturn(0);
}
