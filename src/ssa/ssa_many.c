/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaSSARunMany: the direct method on small time-independent mass-action networks (nu_dense),
  STGSSA_SSA_MANY paths at once, one event each per round. An event is a chain of dependent
  operations (a_0 -> tau, the partial sums -> j -> x -> a) that one path cannot overlap; the
  processor overlaps the chains of independent paths. The hot loop of simulate mode.

  Two forward steps, a template parameter N:
    N = 0       the branch-free step of ssa.h (every propensity with its partial sums, the choice
                by counting partial sums, the jump through a dense row), on w->x and w->a;
    N = 4, 8, 16  first-order networks: the vector step of ssa_tiny.h.
  The same numbers, bit for bit, as StgssaSSARun (tests/test_tangent.c compares them).
*/
#include "ssa_tiny.h"

PetscBool StgssaTinyApplies(const StgssaNetwork *net)
{
  if (net->any_law || net->any_tdep || net->nevents || net->R > STGSSA_TINY_N || net->S + 1 > STGSSA_TINY_N || !net->nu_dense) return PETSC_FALSE;
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
  int64_t        *x; /* the state: w->x, or st.xi (N > 0) */
  double         *a; /* the propensities: w->a, or st.a (N > 0) */
  PetscBool       active;
  PetscInt        next;
  int64_t         n;
  double          t, a0, tsample;
  double          u1b[STGSSA_PHILOX_LANES], e2b[STGSSA_PHILOX_LANES];
  double          cum[STGSSA_DENSE_MAX]; /* N = 0: partial sums of a */
  StgssaTinyState st;                    /* N > 0 */
} StgssaManyPath;

/* Start path T at x0 (trajectory traj). */
static inline __attribute__((always_inline)) void StgssaManyStart(const StgssaSSAConfig *cfg, const StgssaTinyNet *tn, uint64_t traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info, StgssaManyPath *T, const PetscInt N)
{
  const StgssaNetwork *net = cfg->net;
  T->key = StgssaRngKey(cfg->seed, traj), T->w = w, T->samples = samples, T->info = info;
  T->active = PETSC_TRUE, T->next = 0, T->n = 0, T->t = cfg->t0, T->tsample = cfg->nsample > 0 ? cfg->sample_times[0] : PETSC_INFINITY;
  info->end = STGSSA_TRAJ_TFINAL;
  T->a0     = StgssaForwardStart(net, tn, w->x, w->a, &T->st, T->cum, &T->x, &T->a, N);
}

/* One event of path T: StgssaSSARun's loop, statement for statement. */
static inline __attribute__((always_inline)) PetscErrorCode StgssaManyStep(const StgssaSSAConfig *cfg, const StgssaTinyNet *tn, StgssaManyPath *T, const PetscInt N)
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
      while (T->next < ns && cfg->sample_times[T->next] < tnext) {
        for (PetscInt s = 0; s < S; s++) T->samples[T->next * S + s] = T->x[s];
        T->next++;
      }
      T->tsample = T->next < ns ? cfg->sample_times[T->next] : PETSC_INFINITY;
    }
    if (tnext > cfg->tfinal) T->active = PETSC_FALSE;
    else {
      const PetscInt j = StgssaForwardSelect(&T->st, T->a, T->cum, R, T->u1b[lane] * T->a0, N);
      PetscCall(StgssaForwardJump(net, tn, T->w->x, T->w->a, &T->st, T->cum, j, tnext, &T->a0, N));
      T->t = tnext;
      T->n++;
    }
  }
  if (!T->active) { /* absorbed, capped or past tfinal: the remaining sample times hold the last state */
    for (; T->next < ns; T->next++)
      for (PetscInt s = 0; s < S; s++) T->samples[T->next * S + s] = T->x[s];
    for (PetscInt s = 0; s < S; s++) T->w->x[s] = T->x[s];
    T->info->events = T->n;
  }
  PetscFunctionReturn(0);
}

static inline __attribute__((always_inline)) PetscErrorCode StgssaManyRun(const StgssaSSAConfig *cfg, PetscInt count, const uint64_t *traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info, const PetscInt N)
{
  const PetscInt len = cfg->nsample * cfg->net->S;
  StgssaTinyNet  tn;

  PetscFunctionBegin;
  if (N) StgssaTinyNetSetUp(cfg->net, &tn);
  for (PetscInt k0 = 0; k0 < count; k0 += STGSSA_SSA_MANY) {
    StgssaManyPath T[STGSSA_SSA_MANY];
    const PetscInt nk      = PetscMin(STGSSA_SSA_MANY, count - k0);
    PetscInt       nactive = nk;
    for (PetscInt k = 0; k < nk; k++) {
      PetscCheck(traj[k0 + k] <= UINT32_MAX, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Trajectory index %" PRIu64 " exceeds 2^32-1", traj[k0 + k]);
      StgssaManyStart(cfg, &tn, traj[k0 + k], &w[k0 + k], &samples[(k0 + k) * len], &info[k0 + k], &T[k], N);
    }
    while (nactive > 0)
      for (PetscInt k = 0; k < nk; k++)
        if (T[k].active) {
          PetscCall(StgssaManyStep(cfg, &tn, &T[k], N));
          if (!T[k].active) nactive--;
        }
  }
  PetscFunctionReturn(0);
}

/* One compiled loop per forward step, each for AVX2 and for the baseline instruction set (chosen
   at run time; the same IEEE operations lane by lane, no contraction to FMA: the same numbers). */
#define STGSSA_MANY_CASE(N) \
  __attribute__((target_clones("avx2", "default"))) static PetscErrorCode StgssaManyRun_##N(const StgssaSSAConfig *cfg, PetscInt count, const uint64_t *traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info) \
  { \
    return StgssaManyRun(cfg, count, traj, w, samples, info, N); \
  }
STGSSA_MANY_CASE(0)
STGSSA_MANY_CASE(4)
STGSSA_MANY_CASE(8)
STGSSA_MANY_CASE(16)

PetscErrorCode StgssaSSARunMany(const StgssaSSAConfig *cfg, PetscInt count, const uint64_t *traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info)
{
  const StgssaNetwork *net = cfg->net;
  const PetscInt       len = cfg->nsample * net->S;

  PetscFunctionBegin;
  if (net->any_law || net->any_tdep || net->nevents || !net->nu_dense) { /* one at a time (events: StgssaSSARun) */
    for (PetscInt k = 0; k < count; k++) PetscCall(StgssaSSARun(cfg, traj[k], &w[k], &samples[k * len], &info[k]));
    PetscFunctionReturn(0);
  }
  switch (StgssaTinyApplies(net) ? StgssaTinyWidth(net) : 0) {
  case 0: PetscCall(StgssaManyRun_0(cfg, count, traj, w, samples, info)); break;
  case 4: PetscCall(StgssaManyRun_4(cfg, count, traj, w, samples, info)); break;
  case 8: PetscCall(StgssaManyRun_8(cfg, count, traj, w, samples, info)); break;
  default: PetscCall(StgssaManyRun_16(cfg, count, traj, w, samples, info)); break;
  }
  PetscFunctionReturn(0);
}
