/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Exact SSA by the next-reaction method (Gibson & Bruck, J. Phys. Chem. A 104, 1876 (2000)),
  for plain simulate mode with time-independent propensities (-stgssa_ssa_method nrm).

  Every reaction i carries a putative firing time tau_i; the next event is the smallest one,
  found at the root of an indexed binary min-heap. When reaction j fires at time t:
    x += nu_j; for each dependent i of j (net->dep, the reactions whose propensity may change)
      a_i_new = a_i(x)
      i != j, a_i_old > 0:  tau_i = t + (a_i_old / a_i_new) (tau_i - t)   (+inf if a_i_new = 0)
      i != j, a_i_old = 0:  tau_i = t + E / a_i_new                       (fresh exponential)
    tau_j = t + E / a_j (fresh exponential; +inf if a_j = 0)
  and the heap is repaired at the changed entries: O(|dep_j| log R) per event, against O(R) for
  the direct method. Rescaling reuses the unused part of each exponential clock (the residual
  E - integral of a_i is Exp(1) and independent of the past, so it may also be discarded:
  reactions whose propensity fell to 0 get a fresh one when it comes back).
  Random numbers: the k-th fresh exponential of reaction i is -log U, U from words 0, 1 (k even)
  or 2, 3 (k odd) of the Philox block {block = STGSSA_NRM_BLOCK0 + i, event = floor(k/2),
  iteration} under the key (seed, traj) (ssa.h): one block per two draws. A path therefore depends on (seed, trajectory index) only, not on the rank count.
  Ties of tau are broken by the smaller reaction index, so the heap order is a function of the
  values alone.
*/
#include <stgssa/ssa.h>
#include <stgssa/rng.h>
#include <math.h>

const char *const StgssaSSAMethods[] = {"direct", "nrm", "tree", "rssa", "auto", "StgssaSSAMethod", "STGSSA_SSA_", NULL};

static inline PetscBool NRMLess(const double *tau, PetscInt i, PetscInt k) { return tau[i] < tau[k] || (tau[i] == tau[k] && i < k); }

static inline void NRMSwap(StgssaNRM *h, PetscInt p, PetscInt q)
{
  const PetscInt i = h->heap[p], k = h->heap[q];
  h->heap[p] = k;
  h->heap[q] = i;
  h->pos[k]  = p;
  h->pos[i]  = q;
}

/* Restore the heap property at reaction i after tau[i] changed. */
static inline void NRMUpdate(StgssaNRM *h, PetscInt R, PetscInt i)
{
  PetscInt p = h->pos[i];
  while (p > 0) { /* up */
    const PetscInt q = (p - 1) / 2;
    if (!NRMLess(h->tau, i, h->heap[q])) break;
    NRMSwap(h, p, q);
    p = q;
  }
  for (;;) { /* down */
    const PetscInt l = 2 * p + 1, r = l + 1;
    PetscInt       m = p;
    if (l < R && NRMLess(h->tau, h->heap[l], h->heap[m])) m = l;
    if (r < R && NRMLess(h->tau, h->heap[r], h->heap[m])) m = r;
    if (m == p) break;
    NRMSwap(h, p, m);
    p = m;
  }
}

/* The next fresh unit exponential of reaction i: draw k uses words 0, 1 (k even) or 2, 3 (k odd,
   kept from draw k - 1) of the block at event floor(k/2). */
static inline double NRMExp(const StgssaSSAConfig *cfg, StgssaPhiloxKey key, StgssaNRM *h, PetscInt i)
{
  const int64_t k = h->ndraw[i]++;
  if (k & 1) return -log(StgssaUniformOpen(h->spare[2 * i], h->spare[2 * i + 1]));
  const StgssaPhiloxCtr r = StgssaPhilox4x32_10(StgssaRngCounter(cfg->iteration, (uint64_t)(k >> 1), STGSSA_NRM_BLOCK0 + (uint32_t)i), key);
  h->spare[2 * i]         = r.v[2];
  h->spare[2 * i + 1]     = r.v[3];
  return -log(StgssaUniformOpen(r.v[0], r.v[1]));
}

/* Build the heap from scratch (sift every inner node down). */
static void NRMHeapify(StgssaNRM *h, PetscInt R, const double *tau)
{
  for (PetscInt i = 0; i < R; i++) {
    h->heap[i] = i;
    h->pos[i]  = i;
  }
  for (PetscInt p = R / 2 - 1; p >= 0; p--) {
    PetscInt q = p;
    for (;;) {
      const PetscInt l = 2 * q + 1, r = l + 1;
      PetscInt       m = q;
      if (l < R && NRMLess(tau, h->heap[l], h->heap[m])) m = l;
      if (r < R && NRMLess(tau, h->heap[r], h->heap[m])) m = r;
      if (m == q) break;
      NRMSwap(h, q, m);
      q = m;
    }
  }
}

PetscErrorCode StgssaSSARunNRM(const StgssaSSAConfig *cfg, uint64_t traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info)
{
  const StgssaNetwork  *net = cfg->net;
  const PetscInt        S = net->S, R = net->R, ns = cfg->nsample;
  const StgssaPhiloxKey key = StgssaRngKey(cfg->seed, traj);
  StgssaNRM            *h   = &w->nrm;
  int64_t              *x   = w->x, n = 0;
  double               *a = w->a, *tau = h->tau, t = cfg->t0;
  PetscInt              next = 0; /* next sample time to record */
  double                tev  = StgssaEventsFirst(net, cfg->t0); /* next scheduled event (+inf: none) */
  uint64_t              ndraw = 0;                             /* binomial draws of the events */

  PetscFunctionBegin;
  PetscCheck(traj <= UINT32_MAX, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Trajectory index %" PRIu64 " exceeds 2^32-1", traj);
  PetscCheck(!net->any_tdep, PETSC_COMM_SELF, PETSC_ERR_SUP, "-stgssa_ssa_method nrm: the model has propensities that depend on time (rate laws with t or time-varying inputs); the next-reaction method needs time-independent propensities: use -stgssa_ssa_method direct (thinning)");
  PetscCheck((uint64_t)R < (uint64_t)STGSSA_NRM_BLOCK0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_ssa_method nrm: at most 2^31-1 reactions");
  for (PetscInt s = 0; s < S; s++) x[s] = net->x0[s];
  info->end = STGSSA_TRAJ_TFINAL;
  if (net->any_law) {
    double a0;
    StgssaLawEnvSetState(net, &w->env, x);
    StgssaLawEnvSetTime(net, &w->env, 0.0, PETSC_FALSE);
    PetscCall(StgssaPropensitiesAllAt(net, x, &w->env, t, a, &a0));
  } else
    for (PetscInt i = 0; i < R; i++) a[i] = StgssaPropensity(net, i, x);
  for (PetscInt i = 0; i < R; i++) {
    h->ndraw[i] = 0;
    tau[i]      = a[i] > 0.0 ? t + NRMExp(cfg, key, h, i) / a[i] : PETSC_INFINITY;
  }
  NRMHeapify(h, R, tau);
  for (;;) {
    const PetscInt j     = R > 0 ? h->heap[0] : -1;
    const double   tnext = j >= 0 ? tau[j] : PETSC_INFINITY;
    if (!(tnext < PETSC_INFINITY) && !(tev <= cfg->tfinal)) { /* every a_i = 0 (and no event to come) */
      info->end = STGSSA_TRAJ_ABSORBED;
      break;
    }
    if (n >= cfg->max_events) {
      info->end = STGSSA_TRAJ_CAPPED;
      break;
    }
    if (PetscUnlikely(tev <= tnext && tev <= cfg->tfinal)) {
      /* a scheduled event first: samples up to it see the state before; then every propensity is
         recomputed and the putative times rescaled as after a firing (Gibson-Bruck: the unused
         part a_i^old (tau_i - tev) of each clock is again a unit exponential, by memorylessness) */
      while (next < ns && cfg->sample_times[next] <= tev) {
        for (PetscInt s = 0; s < S; s++) samples[next * S + s] = x[s];
        next++;
      }
      PetscCall(StgssaEventsApply(cfg, key, tev, x, &ndraw, NULL, 0, NULL, NULL));
      if (net->any_law) StgssaLawEnvSetState(net, &w->env, x);
      for (PetscInt i = 0; i < R; i++) {
        const double aold = a[i];
        a[i]              = StgssaPropensityAt(net, i, x, &w->env);
        if (net->order1[i] == -3) PetscCall(StgssaPropensityCheck(net, i, x, tev, a[i]));
        if (a[i] == aold) continue;
        if (!(a[i] > 0.0)) tau[i] = PETSC_INFINITY;
        else if (aold > 0.0) tau[i] = tev + (aold / a[i]) * (tau[i] - tev);
        else tau[i] = tev + NRMExp(cfg, key, h, i) / a[i];
      }
      NRMHeapify(h, R, tau);
      t   = tev;
      tev = StgssaModelDefNextEventTime(net->def, tev);
      continue;
    }
    /* the state is piecewise constant: x(t_s) = x_n for t_n <= t_s < t_{n+1} */
    while (next < ns && cfg->sample_times[next] < tnext) {
      for (PetscInt s = 0; s < S; s++) samples[next * S + s] = x[s];
      next++;
    }
    if (tnext > cfg->tfinal) break;
    PetscCall(StgssaJump(net, j, x, tnext));
    if (net->any_law)
      for (PetscInt k = net->nu_ptr[j]; k < net->nu_ptr[j + 1]; k++) w->env.xd[net->nu_species[k]] = (double)x[net->nu_species[k]];
    for (PetscInt d = net->dep_ptr[j]; d < net->dep_ptr[j + 1]; d++) {
      const PetscInt i    = net->dep[d];
      const double   aold = a[i];
      a[i]                = StgssaPropensityAt(net, i, x, &w->env);
      if (net->order1[i] == -3) PetscCall(StgssaPropensityCheck(net, i, x, tnext, a[i]));
      if (i == j) continue;
      if (a[i] == aold) continue; /* tau_i unchanged */
      if (!(a[i] > 0.0)) tau[i] = PETSC_INFINITY;
      else if (aold > 0.0) tau[i] = tnext + (aold / a[i]) * (tau[i] - tnext);
      else tau[i] = tnext + NRMExp(cfg, key, h, i) / a[i];
      NRMUpdate(h, R, i);
    }
    tau[j] = a[j] > 0.0 ? tnext + NRMExp(cfg, key, h, j) / a[j] : PETSC_INFINITY;
    NRMUpdate(h, R, j);
    t = tnext;
    n++;
  }
  (void)t;
  /* absorbed or capped: the remaining sample times hold the last state */
  for (; next < ns; next++)
    for (PetscInt s = 0; s < S; s++) samples[next * S + s] = x[s];
  info->events = n;
  PetscFunctionReturn(0);
}
