/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Exact SSA, one trajectory (DESIGN.md §2).

  The forward step draws one Philox block (block 0 of the event counter; computed eight events
  at a time, bitwise the same as one at a time) and uses
    E_n = -log U_2,  tau_n = E_n / a_0(x_n)                                  (waiting time)
  (log by StgssaFastLog, our own branch-free logarithm: at most 4 ulp from libm's, stated and
  tested in test_rng, and the same on every machine and C library, unlike libm's)
    j_n = min { j : sum_{i<=j} a_i(x_n) > U_1 a_0(x_n) }                      (reaction)
  With -stgssa_initial steady the path starts at t0 = -burn-in (< 0). Propensities that depend
  on time (rate laws with t or time-varying inputs) are handled by thinning (thinning.c): there the
  event counter counts proposals.
  The reaction is drawn by inverting the categorical distribution a_j / a_0. In law this is
  exactly the Gumbel-max choice j_n = argmax_j [log a_j + G_nj]: the argmax of Gumbel-perturbed
  log-propensities is distributed as a_j / a_0. Derivative estimators that need the Gumbels G_n
  themselves draw them afterwards, conditioned on the argmax being j_n (top-down construction:
  the maximum is Gumbel(log a_0), the others are Gumbels truncated below it), from counter
  blocks >= 1. So forward values are bitwise the same with or without derivatives, and the plain
  engine pays for one Philox block and one logarithm per event.
  Small time-independent mass-action networks (net->nu_dense) are run by StgssaSSARunMany
  (ssa_many.c): a branch-free step (every propensity recomputed with its partial sums, the reaction
  found by counting partial sums, the jump through a dense row), several paths together; the same
  numbers as the dependency-graph loop below, which runs every other mass-action network.
*/
#include <stgssa/ssa.h>
#include <stgssa/rng.h>
#include <math.h>

PetscErrorCode StgssaSSAWorkCreate(const StgssaNetwork *net, StgssaSSAWork *w)
{
  PetscFunctionBegin;
  PetscCall(PetscMalloc2(net->S, &w->x, net->R, &w->a));
  PetscCall(StgssaLawEnvCreate(net, &w->env));
  PetscCall(StgssaThinCreate(net, &w->thin));
  PetscCall(PetscMalloc5(net->R, &w->nrm.tau, net->R, &w->nrm.heap, net->R, &w->nrm.pos, net->R, &w->nrm.ndraw, 2 * net->R, &w->nrm.spare));
  w->tree.P = StgssaTreeSize(net->R);
  PetscCall(PetscMalloc2(2 * w->tree.P, &w->tree.node, net->R + net->react_ptr[net->R], &w->tree.changed)); /* rssa: a leaf per (changed species, reader) */
  PetscCall(StgssaRSSACreate(net, &w->rssa));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaSSAWorkDestroy(StgssaSSAWork *w)
{
  PetscFunctionBegin;
  PetscCall(PetscFree2(w->x, w->a));
  PetscCall(StgssaLawEnvDestroy(&w->env));
  PetscCall(StgssaThinDestroy(&w->thin));
  PetscCall(PetscFree5(w->nrm.tau, w->nrm.heap, w->nrm.pos, w->nrm.ndraw, w->nrm.spare));
  PetscCall(PetscFree2(w->tree.node, w->tree.changed));
  PetscCall(StgssaRSSADestroy(&w->rssa));
  PetscFunctionReturn(0);
}

/* Time-dependent propensities: the same path structure, events found by thinning (thinning.c). */
static PetscErrorCode StgssaSSARunThinning(const StgssaSSAConfig *cfg, uint64_t traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info)
{
  const StgssaNetwork  *net = cfg->net;
  const PetscInt        S = net->S, ns = cfg->nsample;
  const StgssaPhiloxKey key = StgssaRngKey(cfg->seed, traj);
  int64_t              *x = w->x, n = 0, prop = 0, slot;
  double                t = cfg->t0, a0, tev = StgssaEventsFirst(net, cfg->t0);
  PetscInt              next = 0;
  uint64_t              ndraw = 0;
  StgssaSSAConfig       ecfg = *cfg;

  PetscFunctionBegin;
  for (PetscInt s = 0; s < S; s++) x[s] = net->x0[s];
  StgssaLawEnvSetState(net, &w->env, x);
  w->thin.rbase = -1;
  info->end     = STGSSA_TRAJ_TFINAL;
  PetscCall(StgssaThinCell(cfg, &w->thin, x, &w->env, t));
  for (;;) {
    double    tnext;
    PetscInt  j;
    PetscBool capped;
    ecfg.tfinal = PetscMin(cfg->tfinal, tev); /* proposals stop at the next scheduled event */
    PetscCall(StgssaThinNext(&ecfg, key, &w->thin, x, &w->env, t, &prop, &slot, &tnext, &j, &a0, &capped));
    if (capped) {
      info->end = STGSSA_TRAJ_CAPPED;
      break;
    }
    if (j < 0 && tev <= cfg->tfinal) { /* a scheduled event: samples up to it see the state before */
      while (next < ns && cfg->sample_times[next] <= tev) {
        for (PetscInt s = 0; s < S; s++) samples[next * S + s] = x[s];
        next++;
      }
      PetscCall(StgssaEventsApply(cfg, key, tev, x, &ndraw, NULL, 0, NULL, NULL));
      StgssaLawEnvSetState(net, &w->env, x);
      t = tev;
      PetscCall(StgssaThinCell(cfg, &w->thin, x, &w->env, t)); /* fresh bounds from the new state */
      tev = StgssaModelDefNextEventTime(net->def, tev);
      continue;
    }
    while (next < ns && cfg->sample_times[next] < tnext) {
      for (PetscInt s = 0; s < S; s++) samples[next * S + s] = x[s];
      next++;
    }
    if (j < 0) break;
    PetscCall(StgssaFireAndUpdate(cfg, j, x, &w->env, tnext, w->thin.b, &w->thin, &a0));
    t = tnext;
    n++;
  }
  for (; next < ns; next++)
    for (PetscInt s = 0; s < S; s++) samples[next * S + s] = x[s];
  info->events = n;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaSSARun(const StgssaSSAConfig *cfg, uint64_t traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info)
{
  const StgssaNetwork  *net = cfg->net;
  const PetscInt        S = net->S, R = net->R, ns = cfg->nsample;
  const StgssaPhiloxKey key = StgssaRngKey(cfg->seed, traj);
  int64_t *restrict     x = w->x;
  double *restrict      a = w->a;
  double                t = cfg->t0, a0;
  int64_t               n = 0;
  PetscInt              next = 0; /* next sample time to record */
  double                u1b[STGSSA_PHILOX_LANES], e2b[STGSSA_PHILOX_LANES];
  double                tev = StgssaEventsFirst(net, cfg->t0); /* next scheduled event (+inf: none) */
  uint64_t              ndraw = 0;                            /* binomial draws of the events so far */

  PetscFunctionBegin;
  PetscCheck(traj <= UINT32_MAX, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Trajectory index %" PRIu64 " exceeds 2^32-1", traj);
  if (net->any_tdep) PetscFunctionReturn(StgssaSSARunThinning(cfg, traj, w, samples, info));
  if (!net->any_law && net->nu_dense && !net->nevents) PetscFunctionReturn(StgssaSSARunMany(cfg, 1, &traj, w, samples, info)); /* small networks: the branch-free steps of ssa_many.c */
  for (PetscInt s = 0; s < S; s++) x[s] = net->x0[s];
  info->end = STGSSA_TRAJ_TFINAL;
  if (net->any_law) { /* laws read the state as doubles and the (constant) inputs */
    StgssaLawEnvSetState(net, &w->env, x);
    StgssaLawEnvSetTime(net, &w->env, 0.0, PETSC_FALSE);
    PetscCall(StgssaPropensitiesAllAt(net, x, &w->env, t, a, &a0));
    for (;;) {
      double tnext;
      if (a0 <= 0.0 && !(tev <= cfg->tfinal)) {
        info->end = STGSSA_TRAJ_ABSORBED;
        break;
      }
      if (n >= cfg->max_events) {
        info->end = STGSSA_TRAJ_CAPPED;
        break;
      }
      const int lane = (int)(n % STGSSA_PHILOX_LANES);
      if (lane == 0) StgssaForwardDraws8(cfg->iteration, (uint64_t)n, key, u1b, e2b); /* forward draws of the next 8 events */
      tnext = a0 > 0.0 ? t + e2b[lane] / a0 : PETSC_INFINITY;
      if (PetscUnlikely(tev <= tnext && tev <= cfg->tfinal)) { /* a scheduled event first: this slot's draws are dropped */
        while (next < ns && cfg->sample_times[next] <= tev) {
          for (PetscInt s = 0; s < S; s++) samples[next * S + s] = x[s];
          next++;
        }
        PetscCall(StgssaEventsApply(cfg, key, tev, x, &ndraw, NULL, 0, NULL, NULL));
        StgssaLawEnvSetState(net, &w->env, x);
        PetscCall(StgssaPropensitiesAllAt(net, x, &w->env, tev, a, &a0));
        t   = tev;
        tev = StgssaModelDefNextEventTime(net->def, tev);
        n++;
        continue;
      }
      /* the state is piecewise constant: x(t_s) = x_n for t_n <= t_s < t_{n+1} */
      while (next < ns && cfg->sample_times[next] < tnext) {
        for (PetscInt s = 0; s < S; s++) samples[next * S + s] = x[s];
        next++;
      }
      if (tnext > cfg->tfinal) break;
      PetscCall(StgssaFireAndUpdate(cfg, StgssaSelectReaction(R, a, u1b[lane] * a0), x, &w->env, tnext, a, NULL, &a0));
      t = tnext;
      n++;
    }
  } else { /* mass action: the loop's constants in locals (stores to x and a cannot move them) */
    const double         tfinal = cfg->tfinal, *st = cfg->sample_times;
    const int64_t        maxev   = cfg->max_events;
    const uint32_t       iter    = cfg->iteration;
    const PetscInt *restrict dep_ptr = net->dep_ptr, *restrict dep = net->dep;
    double               tsample = ns > 0 ? st[0] : PETSC_INFINITY; /* sample_times[next], or +inf when all are recorded */
    double               tstop   = PetscMin(tsample, tev);          /* the next sample or event time */
    a0 = StgssaPropensitiesAll(net, x, a);
    for (;;) {
      double tnext;
      if (a0 <= 0.0 && !(tev <= tfinal)) {
        info->end = STGSSA_TRAJ_ABSORBED;
        break;
      }
      if (n >= maxev) {
        info->end = STGSSA_TRAJ_CAPPED;
        break;
      }
      const int lane = (int)(n % STGSSA_PHILOX_LANES);
      if (lane == 0) StgssaForwardDraws8(iter, (uint64_t)n, key, u1b, e2b); /* forward draws of the next 8 events */
      tnext = t + e2b[lane] / a0; /* tau = -log(U_2) / a_0 (+inf when a_0 = 0 and an event is to come) */
      if (PetscUnlikely(tstop <= tnext)) { /* a sample time or a scheduled event before the next reaction */
        if (tev <= tnext && tev <= tfinal) { /* the event first: this slot's draws are dropped */
          while (next < ns && st[next] <= tev) {
            for (PetscInt s = 0; s < S; s++) samples[next * S + s] = x[s];
            next++;
          }
          tsample = next < ns ? st[next] : PETSC_INFINITY;
          PetscCall(StgssaEventsApply(cfg, key, tev, x, &ndraw, NULL, 0, NULL, NULL));
          a0    = StgssaPropensitiesAll(net, x, a);
          t     = tev;
          tev   = StgssaModelDefNextEventTime(net->def, tev);
          tstop = PetscMin(tsample, tev);
          n++;
          continue;
        }
        /* the state is piecewise constant: x(t_s) = x_n for t_n <= t_s < t_{n+1} */
        while (next < ns && st[next] < tnext) {
          for (PetscInt s = 0; s < S; s++) samples[next * S + s] = x[s];
          next++;
        }
        tsample = next < ns ? st[next] : PETSC_INFINITY;
        tstop   = PetscMin(tsample, tev);
      }
      if (tnext > tfinal) break;
      const PetscInt j = StgssaSelectReaction(R, a, u1b[lane] * a0);
      PetscCall(StgssaJump(net, j, x, tnext));
      /* recompute only the propensities that depend on species j changed; a_0 is summed afresh
         in a fixed order (no drift from incremental updates, and a_0 = 0 exactly when absorbing) */
      for (PetscInt d = dep_ptr[j]; d < dep_ptr[j + 1]; d++) a[dep[d]] = StgssaPropensity(net, dep[d], x);
      a0 = 0.0;
      for (PetscInt i = 0; i < R; i++) a0 += a[i];
      t = tnext;
      n++;
    }
  }
  /* absorbed or capped: the remaining sample times hold the last state */
  for (; next < ns; next++)
    for (PetscInt s = 0; s < S; s++) samples[next * S + s] = x[s];
  info->events = n;
  PetscFunctionReturn(0);
}
