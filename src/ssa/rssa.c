/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Rejection-based SSA (RSSA; Thanh, Priami & Zunino, J. Chem. Phys. 141, 134116 (2014)) on a sum
  tree (-stgssa_ssa_method rssa; the choice of auto on large mass-action networks). Exact for
  time-independent mass-action propensities.

  Every species s carries an interval [lo_s, hi_s] around its count (the fluctuation interval);
  every reaction the bound b_j = a_j(hi) >= a_j(x) for every x in the box (mass action is
  nondecreasing in each count). The bounds are the leaves of a sum tree (tree.c), B = sum_j b_j.
  While x stays in the box, the events of the process are a thinning of a Poisson process of rate
  B: a trial at time t + E/B (E = -log U_2) picks j with probability b_j / B (tree descent with
  target U_1 B) and is accepted with probability a_j(x) / b_j, from the same uniform: the residue r
  of the target at the leaf is uniform on [0, b_j) given j, and the trial is accepted when r < a_j.
  A rejected trial leaves x unchanged and only moves the time. An accepted one fires j; a species
  that leaves its interval gets a new one around its count, and only the reactions that read it
  get new bounds (and their tree paths recomputed). Abundant species (the free ligands and
  adaptors that take part in hundreds of reactions) leave their interval rarely, so most events
  touch no propensity but the fired one: cost per trial O(log R), and B / a_0 <= max_j b_j / a_j
  trials per event (about 1.2 with the 10% intervals below).
  Interval: [x - w, x + w] with w = floor(x / 10) from 10 on, w = 1 for 1 <= x < 10 (a receptor
  state held by one or two molecules then moves within its interval: no bound changes), and [0, 0]
  at 0, taken whenever a count reaches 0 (so a reaction of an absent species has bound 0: the
  many empty species of a rule-derived network cost no trials, and B = 0 when every first-order
  propensity is 0; a reaction whose count is below its coefficient, e.g. 2A at A = 1, may keep a
  positive bound: then trials run on, all rejected, until tfinal, still exact).
  Random numbers: trial k uses the direct method's draws of event k (StgssaForwardDraws8, block 0),
  so a path depends on (seed, trajectory) only; -stgssa_max_events caps accepted events.
*/
#include <stgssa/ssa.h>
#include <stgssa/rng.h>
#include "score_acc.h"
#include <math.h>
#include "score_lazy.h"

static inline void RSSAInterval(int64_t x, int64_t *lo, int64_t *hi)
{
  const int64_t w = x >= 10 ? x / 10 : (x > 0 ? 1 : 0);
  *lo = x - w;
  *hi = x + w;
}

/* Recompute the ancestors of changed leaves level by level (as tree.c). */
static inline void RSSARepair(double *restrict node, PetscInt *restrict cl, PetscInt ncl)
{
  if (ncl <= 64) /* insertion sort: the readers of two species merge into one ascending list (adjacent repeated parents) */
    for (PetscInt q = 1; q < ncl; q++) {
      const PetscInt v = cl[q];
      PetscInt       m = q;
      for (; m > 0 && cl[m - 1] > v; m--) cl[m] = cl[m - 1];
      cl[m] = v;
    }
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

PetscErrorCode StgssaRSSACreate(const StgssaNetwork *net, StgssaRSSA *r)
{
  const PetscInt S = net->S, R = net->R;
  PetscInt      *mark;

  PetscFunctionBegin;
  PetscCall(PetscMalloc3(S, &r->lo, S, &r->hi, S + 1, &r->rd_ptr));
  PetscCall(PetscMalloc1(S, &mark));
  for (PetscInt s = 0; s <= S; s++) r->rd_ptr[s] = 0;
  for (PetscInt s = 0; s < S; s++) mark[s] = -1;
  for (PetscInt j = 0; j < R; j++) /* readers of s: the reactions with s among their reactants, each once */
    for (PetscInt q = net->react_ptr[j]; q < net->react_ptr[j + 1]; q++) {
      const PetscInt s = net->react_species[q];
      if (mark[s] != j) r->rd_ptr[s + 1]++;
      mark[s] = j;
    }
  for (PetscInt s = 0; s < S; s++) r->rd_ptr[s + 1] += r->rd_ptr[s];
  PetscCall(PetscMalloc1(r->rd_ptr[S] + 1, &r->rd));
  for (PetscInt s = 0; s < S; s++) mark[s] = -1;
  for (PetscInt j = 0; j < R; j++)
    for (PetscInt q = net->react_ptr[j]; q < net->react_ptr[j + 1]; q++) {
      const PetscInt s = net->react_species[q];
      if (mark[s] != j) r->rd[r->rd_ptr[s]++] = j;
      mark[s] = j;
    }
  for (PetscInt s = S; s > 0; s--) r->rd_ptr[s] = r->rd_ptr[s - 1];
  r->rd_ptr[0] = 0;
  r->score     = NULL;
  PetscCall(PetscFree(mark));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaRSSADestroy(StgssaRSSA *r)
{
  PetscFunctionBegin;
  PetscCall(PetscFree3(r->lo, r->hi, r->rd_ptr));
  PetscCall(PetscFree(r->rd));
  PetscCall(StgssaScoreLazyDestroy(&r->score));
  PetscFunctionReturn(0);
}

/* S_p(s) into out (out may be acc->S: the path's last use): grouped integrals, or with sl == NULL
   the per-reaction accumulators */
static inline void RSSAScoreAt(const StgssaScoreAcc *acc, StgssaScoreLazy sl, double s, double *out)
{
  if (sl) StgssaScoreLazyAt(sl, acc->S, s, out);
  else StgssaScoreAccAt(acc, s, out);
}

/* nrx != NULL: nrx[j] += 1 for each firing of j at a time > count_from, *ncounted their number;
   sc != NULL: the score of the path (mass action; sc->a holds the exact propensities) */
static PetscErrorCode RSSARun(const StgssaSSAConfig *cfg, uint64_t traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info, double *nrx, double count_from, int64_t *ncounted, StgssaScoreAcc *sc, StgssaScoreLazy sl, double *score_sample)
{
  const StgssaNetwork  *net = cfg->net;
  const PetscInt        S = net->S, R = net->R, ns = cfg->nsample, P = StgssaTreeSize(R);
  const StgssaPhiloxKey key = StgssaRngKey(cfg->seed, traj);
  const PetscInt *restrict rd_ptr = w->rssa.rd_ptr, *restrict rd = w->rssa.rd;
  const double          tfinal = cfg->tfinal, *st = cfg->sample_times;
  const int64_t         maxev  = cfg->max_events;
  int64_t *restrict     x = w->x, *restrict lo = w->rssa.lo, *restrict hi = w->rssa.hi;
  double *restrict      node = w->tree.node;
  PetscInt *restrict    cl   = w->tree.changed;
  double                t = cfg->t0, tev = cfg->t0, tsample = ns > 0 ? st[0] : PETSC_INFINITY;
  int64_t               n = 0, k = 0; /* accepted events, trials */
  PetscInt              next = 0;     /* next sample time to record */
  double                u1b[STGSSA_PHILOX_LANES], e2b[STGSSA_PHILOX_LANES];

  PetscFunctionBegin;
  PetscCheck(traj <= UINT32_MAX, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Trajectory index %" PRIu64 " exceeds 2^32-1", traj);
  PetscCheck(!net->nevents, PETSC_COMM_SELF, PETSC_ERR_SUP, "-stgssa_ssa_method rssa: the model has scheduled events (begin events); the rejection method does not take them: use -stgssa_ssa_method direct, nrm, tree or auto");
  PetscCheck(!net->any_tdep && !net->any_law, PETSC_COMM_SELF, PETSC_ERR_SUP, "-stgssa_ssa_method rssa: the model has rate laws; the rejection method needs mass-action propensities (bounded by their value at the top of each count's interval): use -stgssa_ssa_method tree, nrm, direct or auto");
  PetscCheck(P == w->tree.P, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "StgssaSSARunRSSA: work space sized for another network");
  for (PetscInt s = 0; s < S; s++) {
    x[s] = net->x0[s];
    RSSAInterval(x[s], &lo[s], &hi[s]);
  }
  info->end = STGSSA_TRAJ_TFINAL;
  for (PetscInt i = 0; i < P; i++) node[P + i] = i < R ? StgssaPropensity(net, i, hi) : 0.0;
  if (sc) {
    PetscCheck(sc->R == R && !sc->lp_ptr, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "StgssaSSARunRSSAScore: accumulators sized for another network");
    if (sl) {
      StgssaScoreLazyStart(sl, net, x, t);
      for (PetscInt p = 0; p < sc->P; p++) sc->S[p] = 0.0;
    } else {
      for (PetscInt i = 0; i < R; i++) w->a[i] = StgssaPropensity(net, i, x);
      StgssaScoreAccStart(net, sc, t, w->a, x, NULL);
    }
  }
  for (PetscInt q = P - 1; q >= 1; q--) node[q] = node[2 * q] + node[2 * q + 1];
  for (;;) {
    const double B = node[1];
    double       tnext;
    if (!(B > 0.0)) { /* every bound 0: every a_j = 0 */
      info->end = STGSSA_TRAJ_ABSORBED;
      break;
    }
    if (n >= maxev) {
      info->end = STGSSA_TRAJ_CAPPED;
      break;
    }
    const int lane = (int)(k % STGSSA_PHILOX_LANES);
    if (lane == 0) StgssaForwardDraws8(cfg->iteration, (uint64_t)k, key, u1b, e2b); /* draws of the next 8 trials */
    k++;
    tnext = t + e2b[lane] / B; /* the next trial of the rate-B Poisson process */
    /* the state is piecewise constant: x(t_s) = x_n for t_n <= t_s < t_{n+1} (a trial is no later than the next event) */
    if (PetscUnlikely(tsample < tnext)) {
      while (next < ns && st[next] < tnext) {
        for (PetscInt s = 0; s < S; s++) samples[next * S + s] = x[s];
        if (sc) RSSAScoreAt(sc, sl, st[next], &score_sample[next * sc->P]);
        next++;
      }
      tsample = next < ns ? st[next] : PETSC_INFINITY;
    }
    if (tnext > tfinal) break;
    t = tnext;
    /* candidate j with probability b_j / B; r uniform on [0, b_j) given j */
    PetscInt q = 1;
    double   r = u1b[lane] * B;
    while (q < P) {
      const double l = node[2 * q];
      if (r < l || !(node[2 * q + 1] > 0.0)) q = 2 * q;
      else {
        r -= l;
        q = 2 * q + 1;
      }
    }
    const PetscInt j = q - P;
    if (!(r < StgssaPropensity(net, j, x))) continue; /* rejected with probability 1 - a_j / b_j */
    PetscCall(StgssaJump(net, j, x, tnext));
    n++;
    tev = tnext;
    if (sc) { /* + d log a_j / d theta at the event; the integrals of the changed propensities brought up to tnext */
      StgssaScoreAccFire(sc, j);
      if (sl) StgssaScoreLazyEvent(sl, net, j, x, tnext);
      else
        for (PetscInt d = net->dep_ptr[j]; d < net->dep_ptr[j + 1]; d++) StgssaScoreAccChange(net, sc, net->dep[d], StgssaPropensity(net, net->dep[d], x), tnext, x, NULL);
    }
    if (nrx && tnext > count_from) {
      nrx[j] += 1.0;
      (*ncounted)++;
    }
    PetscInt ncl = 0;
    for (PetscInt u = net->nu_ptr[j]; u < net->nu_ptr[j + 1]; u++) {
      const PetscInt s = net->nu_species[u];
      if (PetscLikely(x[s] >= lo[s] && x[s] <= hi[s] && (x[s] > 0 || hi[s] == 0))) continue; /* a count that reaches 0 gets the interval [0, 0] */
      RSSAInterval(x[s], &lo[s], &hi[s]); /* s left its interval: new bounds for its readers */
      for (PetscInt v = rd_ptr[s]; v < rd_ptr[s + 1]; v++) {
        const PetscInt i = rd[v];
        const double   b = StgssaPropensity(net, i, hi);
        if (b == node[P + i]) continue;
        node[P + i] = b;
        cl[ncl++]   = P + i;
      }
    }
    RSSARepair(node, cl, ncl);
  }
  if (sc) RSSAScoreAt(sc, sl, info->end == STGSSA_TRAJ_CAPPED ? tev : tfinal, sc->S); /* the whole path to tfinal (capped: the direct method's score stops at the last event) */
  /* absorbed, capped or past tfinal: the remaining sample times hold the last state */
  for (; next < ns; next++) {
    for (PetscInt s = 0; s < S; s++) samples[next * S + s] = x[s];
    if (sc)
      for (PetscInt p = 0; p < sc->P; p++) score_sample[next * sc->P + p] = sc->S[p];
  }
  info->events = n;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaSSARunRSSA(const StgssaSSAConfig *cfg, uint64_t traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info)
{
  return RSSARun(cfg, traj, w, samples, info, NULL, 0.0, NULL, NULL, NULL, NULL);
}

PetscErrorCode StgssaSSARunRSSACounts(const StgssaSSAConfig *cfg, uint64_t traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info, double *nrx, double count_from, int64_t *ncounted)
{
  *ncounted = 0;
  return RSSARun(cfg, traj, w, samples, info, nrx, count_from, ncounted, NULL, NULL, NULL);
}

PetscErrorCode StgssaSSARunRSSAScore(const StgssaSSAConfig *cfg, uint64_t traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info, double *nrx, double count_from, int64_t *ncounted, StgssaScoreAcc *acc, double *score_sample)
{
  PetscFunctionBegin;
  PetscCall(StgssaScoreLazySetUp(cfg->net, w->rssa.rd_ptr, acc->P, acc->rp, &w->rssa.score));
  *ncounted = 0;
  PetscCall(RSSARun(cfg, traj, w, samples, info, nrx, count_from, ncounted, acc, w->rssa.score, score_sample));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaSSARunRSSAScorePerReaction(const StgssaSSAConfig *cfg, uint64_t traj, StgssaSSAWork *w, int64_t *samples, StgssaTrajInfo *info, double *nrx, double count_from, int64_t *ncounted, StgssaScoreAcc *acc, double *score_sample)
{
  *ncounted = 0;
  return RSSARun(cfg, traj, w, samples, info, nrx, count_from, ncounted, acc, NULL, score_sample);
}
