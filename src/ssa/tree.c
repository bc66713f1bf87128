/* SPDX-License-Identifier: BSD-2-Clause */
/*
  The direct method on a sum tree (-stgssa_ssa_method tree; the choice of auto on large networks):
  Gillespie's direct method with O(log R) selection and O(changed log R) update per event, for
  time-independent propensities (mass action or rate laws).

  The propensities are the leaves of a complete binary tree stored as an array (node[P + i] = a_i
  for i < R, 0 for R <= i < P, P = the smallest power of two >= R), every inner node the sum of
  its two children, node[1] = a_0. One event:
    tau = E / a_0, E = -log U_2                                     (as the direct method)
    j: descend from the root with target = U_1 a_0: go left when target < node[left], else
       subtract node[left] and go right                             (P(j) = a_j / a_0)
    x += nu_j; a_i(x) afresh for i in dep(j) (the dependency graph); changed leaves only, then
       their ancestors level by level, each recomputed as left + right.
  Every inner node is the sum of its children's current values, so a_0 is a function of the
  current propensities alone: no drift from incremental updates, a_0 = 0 exactly when every
  a_i = 0, and the path is a function of (seed, trajectory) only. Rounding can leave the target at
  or above node[left] + node[right] at a node whose right subtree is empty: then the descent goes
  left (never into a subtree of zero total), so the chosen reaction has a_j > 0.
  Random numbers: the direct method's (StgssaForwardDraws8, counter block 0); the selection order
  and the rounding of a_0 differ from the linear scan, so paths agree with the direct method's in
  law, not bit for bit.
*/
#include <stgssa/ssa.h>
#include <stgssa/rng.h>
#include <math.h>

/* The smallest power of two >= R (>= 1). */
PetscInt StgssaTreeSize(PetscInt R)
{
  PetscInt P = 1;
  while (P < R) P *= 2;
  return P;
}

/* Recompute the ancestors of the ncl changed leaves cl[] (node indices, ascending or not) level by
   level; cl is overwritten. Sorted input (dependency lists are ascending) makes repeated parents
   adjacent, so each inner node is recomputed once. */
static inline void TreeRepair(double *restrict node, PetscInt *restrict cl, PetscInt ncl)
{
  while (ncl > 0 && cl[0] > 1) {
    PetscInt m = 0, last = -1;
    for (PetscInt q = 0; q < ncl; q++) {
      const PetscInt p = cl[q] >> 1;
      if (p == last) continue;
      node[p] = node[2 * p] + node[2 * p + 1];
      cl[m++] = last = p;
    }
    ncl = m;
  }
}

/* Leaf of the reaction to fire: node[1] > 0 and 0 <= target < node[1] (or rounding just above). */
static inline PetscInt TreeSelect(const double *restrict node, PetscInt P, double target)
{
  PetscInt k = 1;
  while (k < P) {
    const double l = node[2 * k];
    if (target < l || !(node[2 * k + 1] > 0.0)) k = 2 * k;
    else {
      target -= l;
      k = 2 * k + 1;
    }
  }
  return k - P;
}

PetscErrorCode StgssaSSARunTree(const StgssaSSAConfig *cfg, uint64_t traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info)
{
  const StgssaNetwork  *net = cfg->net;
  const PetscInt        S = net->S, R = net->R, ns = cfg->nsample, P = StgssaTreeSize(R);
  const StgssaPhiloxKey key = StgssaRngKey(cfg->seed, traj);
  const PetscInt *restrict dep_ptr = net->dep_ptr, *restrict dep = net->dep;
  const PetscBool       law = net->any_law;
  const double          tfinal = cfg->tfinal, *st = cfg->sample_times;
  int64_t *restrict     x    = w->x;
  double *restrict      a = w->a, *restrict node = w->tree.node;
  PetscInt *restrict    cl   = w->tree.changed;
  double                t = cfg->t0, tsample = ns > 0 ? st[0] : PETSC_INFINITY;
  int64_t               n = 0;
  PetscInt              next = 0; /* next sample time to record */
  double                u1b[STGSSA_PHILOX_LANES], e2b[STGSSA_PHILOX_LANES];
  double                tev   = StgssaEventsFirst(net, cfg->t0); /* next scheduled event (+inf: none) */
  uint64_t              ndraw = 0;                              /* binomial draws of the events */

  PetscFunctionBegin;
  PetscCheck(traj <= UINT32_MAX, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Trajectory index %" PRIu64 " exceeds 2^32-1", traj);
  PetscCheck(!net->any_tdep, PETSC_COMM_SELF, PETSC_ERR_SUP, "-stgssa_ssa_method tree: the model has propensities that depend on time (rate laws with t or time-varying inputs); the sum tree needs time-independent propensities: use -stgssa_ssa_method direct or auto (thinning)");
  PetscCheck(P == w->tree.P, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "StgssaSSARunTree: work space sized for another network");
  for (PetscInt s = 0; s < S; s++) x[s] = net->x0[s];
  info->end = STGSSA_TRAJ_TFINAL;
  if (law) {
    double a0;
    StgssaLawEnvSetState(net, &w->env, x);
    StgssaLawEnvSetTime(net, &w->env, 0.0, PETSC_FALSE);
    PetscCall(StgssaPropensitiesAllAt(net, x, &w->env, t, a, &a0));
  } else
    for (PetscInt i = 0; i < R; i++) a[i] = StgssaPropensity(net, i, x);
  for (PetscInt i = 0; i < P; i++) node[P + i] = i < R ? a[i] : 0.0;
  for (PetscInt k = P - 1; k >= 1; k--) node[k] = node[2 * k] + node[2 * k + 1];
  if (P == 1) node[0] = 0.0; /* unused; the root is node[1] */
  for (;;) {
    const double a0 = node[1];
    double       tnext;
    if (!(a0 > 0.0) && !(tev <= tfinal)) {
      info->end = STGSSA_TRAJ_ABSORBED;
      break;
    }
    if (n >= cfg->max_events) {
      info->end = STGSSA_TRAJ_CAPPED;
      break;
    }
    const int lane = (int)(n % STGSSA_PHILOX_LANES);
    if (lane == 0) StgssaForwardDraws8(cfg->iteration, (uint64_t)n, key, u1b, e2b); /* forward draws of the next 8 events */
    tnext = t + e2b[lane] / a0; /* tau = -log(U_2) / a_0 (+inf when a_0 = 0 and an event is to come) */
    if (PetscUnlikely(tev <= tnext) && tev <= tfinal) { /* a scheduled event first: this slot's draws are dropped */
      while (next < ns && st[next] <= tev) {
        for (PetscInt s = 0; s < S; s++) samples[next * S + s] = x[s];
        next++;
      }
      tsample = next < ns ? st[next] : PETSC_INFINITY;
      PetscCall(StgssaEventsApply(cfg, key, tev, x, &ndraw, NULL, 0, NULL, NULL));
      if (law) {
        double s0;
        StgssaLawEnvSetState(net, &w->env, x);
        PetscCall(StgssaPropensitiesAllAt(net, x, &w->env, tev, a, &s0));
      } else
        for (PetscInt i = 0; i < R; i++) a[i] = StgssaPropensity(net, i, x);
      for (PetscInt i = 0; i < R; i++) node[P + i] = a[i]; /* the whole tree afresh */
      for (PetscInt k = P - 1; k >= 1; k--) node[k] = node[2 * k] + node[2 * k + 1];
      t   = tev;
      tev = StgssaModelDefNextEventTime(net->def, tev);
      n++;
      continue;
    }
    /* the state is piecewise constant: x(t_s) = x_n for t_n <= t_s < t_{n+1} */
    if (PetscUnlikely(tsample < tnext)) {
      while (next < ns && st[next] < tnext) {
        for (PetscInt s = 0; s < S; s++) samples[next * S + s] = x[s];
        next++;
      }
      tsample = next < ns ? st[next] : PETSC_INFINITY;
    }
    if (tnext > tfinal) break;
    const PetscInt j = TreeSelect(node, P, u1b[lane] * a0);
    PetscInt       ncl = 0;
    PetscCall(StgssaJump(net, j, x, tnext));
    if (law) {
      for (PetscInt k = net->nu_ptr[j]; k < net->nu_ptr[j + 1]; k++) w->env.xd[net->nu_species[k]] = (double)x[net->nu_species[k]];
      for (PetscInt d = dep_ptr[j]; d < dep_ptr[j + 1]; d++) {
        const PetscInt i  = dep[d];
        const double   ai = StgssaPropensityAt(net, i, x, &w->env);
        if (net->order1[i] == -3) PetscCall(StgssaPropensityCheck(net, i, x, tnext, ai));
        if (ai == a[i]) continue;
        a[i] = node[P + i] = ai;
        cl[ncl++]          = P + i;
      }
    } else
      for (PetscInt d = dep_ptr[j]; d < dep_ptr[j + 1]; d++) {
        const PetscInt i  = dep[d];
        const double   ai = StgssaPropensity(net, i, x);
        if (ai == a[i]) continue; /* e.g. a bimolecular reaction of a species at count 0 */
        a[i] = node[P + i] = ai;
        cl[ncl++]          = P + i;
      }
    TreeRepair(node, cl, ncl);
    t = tnext;
    n++;
  }
  /* absorbed or capped: the remaining sample times hold the last state */
  for (; next < ns; next++)
    for (PetscInt s = 0; s < S; s++) samples[next * S + s] = x[s];
  info->events = n;
  PetscFunctionReturn(0);
}

StgssaSSAMethod StgssaSSAMethodResolve(StgssaSSAMethod m, const StgssaNetwork *net, const char **reason)
{
  const char *why = "as asked";
  if (m == STGSSA_SSA_AUTO) {
    if (net->any_tdep) m = STGSSA_SSA_DIRECT, why = "auto: propensities depend on time (thinning)";
    else if (net->R < STGSSA_SSA_TREE_MIN_R) m = STGSSA_SSA_DIRECT, why = "auto: fewer than " PetscStringize(STGSSA_SSA_TREE_MIN_R) " reactions";
    else if (net->any_law) m = STGSSA_SSA_TREE, why = "auto: at least " PetscStringize(STGSSA_SSA_TREE_MIN_R) " reactions, rate laws";
    else if (net->nevents) m = STGSSA_SSA_TREE, why = "auto: at least " PetscStringize(STGSSA_SSA_TREE_MIN_R) " reactions, scheduled events (rssa does not take them)";
    else m = STGSSA_SSA_RSSA, why = "auto: at least " PetscStringize(STGSSA_SSA_TREE_MIN_R) " reactions, mass action";
  }
  if (reason) *reason = why;
  return m;
}

/*
  Derivative runs on large networks (StgssaTangentWorkUseLarge), by the rejection-based SSA
  (rssa.c). Values only (P = 0, the runs of the fd estimator): the plain path. Score
  (d log-likelihood of the path / d theta_p, theta_p = log k_p, mass action):
    S_p(t) = N_p(t) - int_{t0}^{t} A_p(x(s)) ds,   A_p = sum_{i: param(i) = p} a_i,
  N_p the firings of p's reactions. The path likelihood does not depend on how the path was
  simulated; the integral needs the exact propensities, which the rejection method does not form:
  they are kept per group of reactions sharing parameter, rate constant and hub reactant
  (score_lazy.c: after each event only the groups that read a changed species, each group's
  integral brought up to date when its value changes), closed over the groups at sample times.
  The same quantity as the direct method's score (up to rounding), on a path equal to it in law.
*/
#include "tangent_impl.h"

PetscErrorCode StgssaSSARunTangentLarge(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, uint64_t traj, StgssaTangentWork *tw, StgssaTangentRecord *rec, StgssaTrajInfo *info, PetscBool *done)
{
  const StgssaNetwork *net = cfg->net;
  const PetscInt       S = net->S, R = net->R, P = tc->P, ns = cfg->nsample, no = tc->nobs;

  PetscFunctionBegin;
  *done = PETSC_FALSE;
  if (!tw->large || net->any_law || net->any_tdep || net->nevents || tc->window || tc->rev || tc->locate || !(P == 0 || tc->type == STGSSA_GRADIENT_SCORE)) PetscFunctionReturn(0);
  PetscCall(PetscArrayzero(rec->nrx, R));
  rec->sigma = 0.0;
  if (tw->nsmp < ns * S) {
    PetscCall(PetscFree(tw->smp));
    PetscCall(PetscMalloc1(ns * S, &tw->smp));
    tw->nsmp = ns * S;
  }
  if (P == 0) PetscCall(StgssaSSARunRSSACounts(cfg, traj, tw->large, tw->smp, info, rec->nrx, tc->count_from, &rec->events_counted)); /* values */
  else {
    PetscCall(StgssaTangentWorkAccReady_Private(net, tc, tw));
    tw->acc.S = rec->score_end;
    PetscCall(StgssaSSARunRSSAScore(cfg, traj, tw->large, tw->smp, info, rec->nrx, tc->count_from, &rec->events_counted, &tw->acc, rec->score_sample));
  }
  for (PetscInt i = 0; i < ns; i++)
    for (PetscInt o = 0; o < no; o++) /* expression observables: with the score, also k df/dk into xdot (tangent_impl.h StgssaRecordSample) */
      rec->x[i * no + o] = tc->obs_rule && tc->obs_rule[o] >= 0 ? StgssaRuleTangent(net, tc->obs_rule[o], &tw->smp[i * S], NULL, 0, P, tc->fit_param, tc->obs_scratch, &rec->xdot[(i * no + o) * P]) : (double)StgssaObservedValue(tc->obs_ptr, tc->obs, tc->obs_weight, o, &tw->smp[i * S]);
  rec->events = info->events;
  *done = PETSC_TRUE;
  PetscFunctionReturn(0);
}
