/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Scheduled events in the engines (issue 18; the schedule and values: modeldef.h, model.h).

  At an event time the engines stop like at a sample time: samples at or before it record the
  state before the event; the pending exponential clock is dropped (memorylessness: the waiting
  time from the event time on is again Exp(a_0), drawn afresh from the next forward slot), the
  events of that time apply in file order, and every propensity (and the engine's structures) is
  recomputed from the new state.

  Binomial draws (divide, scale): draw number d of a trajectory (d = 0, 1, ... over all its event
  applications and listed species, one per species even when the count is 0) takes the uniform
  from words 0, 1 of the Philox block at counter {block = STGSSA_EVENT_BLOCK, event = d, iteration}
  under the key (seed, traj): a path still depends on (seed, trajectory index) only, and the
  estimators (ST-GS, score, fd) see the same draws as the plain path (their draws use blocks
  1 ... R/4 + 1, below STGSSA_EVENT_BLOCK = 2^30; nrm uses blocks from 2^31 on).

  Binomial(n, F) by inversion in the order m, m-1, m+1, m-2, m+2, ... from the mode
  m = floor((n+1)F), the probabilities from P(m) = exp(lgamma terms) by the ratios
    P(k+1) = P(k) (n-k)/(k+1) F/(1-F),   P(k-1) = P(k) k/(n-k+1) (1-F)/F:
  exact up to the rounding of the probabilities, O(sqrt(n F (1-F))) steps.
*/
#include <stgssa/ssa.h>
#include <stgssa/expr.h>
#include <math.h>

int64_t StgssaBinomialInversion(int64_t n, double F, double u)
{
  if (n <= 0 || F <= 0.0) return 0;
  if (F >= 1.0) return n;
  const double q = 1.0 - F, r = F / q, dn = (double)n;
  int64_t      m = (int64_t)floor((dn + 1.0) * F);
  if (m > n) m = n;
  const double dm = (double)m;
  const double pm = exp(lgamma(dn + 1.0) - lgamma(dm + 1.0) - lgamma(dn - dm + 1.0) + dm * log(F) + (dn - dm) * log1p(-F));
  double       plo = pm, phi = pm;
  int64_t      lo = m, hi = m;
  u -= pm;
  if (u <= 0.0) return m;
  for (;;) {
    int moved = 0;
    if (lo > 0) { /* P(lo - 1) from P(lo) */
      plo *= (double)lo / ((dn - (double)lo + 1.0) * r);
      lo--;
      moved = 1;
      u -= plo;
      if (u <= 0.0) return lo;
    }
    if (hi < n) { /* P(hi + 1) from P(hi) */
      phi *= (dn - (double)hi) / ((double)hi + 1.0) * r;
      hi++;
      moved = 1;
      u -= phi;
      if (u <= 0.0) return hi;
    }
    if (!moved || (plo == 0.0 && phi == 0.0)) return m; /* the probabilities summed to less than u by rounding */
  }
}

static inline double StgssaEventUniform(uint32_t iteration, StgssaPhiloxKey key, uint64_t d)
{
  const StgssaPhiloxCtr r = StgssaPhilox4x32_10(StgssaRngCounter(iteration, d, STGSSA_EVENT_BLOCK), key);
  return StgssaUniformOpen(r.v[0], r.v[1]);
}

PetscErrorCode StgssaEventsApply(const StgssaSSAConfig *cfg, StgssaPhiloxKey key, double te, int64_t *x, uint64_t *ndraw, double *xdot, PetscInt P, const PetscInt *fit_param, double *dlog)
{
  const StgssaNetwork  *net = cfg->net;
  const StgssaModelDef *d   = net->def;

  PetscFunctionBegin;
  for (int e = 0; e < d->nevents; e++) {
    const StgssaEventDef *ev = &d->events[e];
    double                v;
    if (!StgssaModelDefEventAt(d, e, te)) continue;
    PetscCall(StgssaEventValueChecked(net, e, net->pv, xdot ? dlog : NULL, NULL, &v));
    if (ev->kind == STGSSA_EVENT_DIVIDE || ev->kind == STGSSA_EVENT_SCALE) {
      for (int i = 0; i < ev->nspecies; i++) {
        const int     s  = ev->species[i];
        const int64_t xb = x[s];
        x[s]             = StgssaBinomialInversion(xb, v, StgssaEventUniform(cfg->iteration, key, (*ndraw)++));
        if (xdot) /* straight-through by the mean map x -> F x: xdot <- F xdot + x dF/dtheta */
          for (PetscInt p = 0; p < P; p++) xdot[s * P + p] = v * xdot[s * P + p] + (ev->kind == STGSSA_EVENT_SCALE ? (double)xb * dlog[fit_param[p]] : 0.0);
      }
      continue;
    }
    {
      const int     s = ev->species[0];
      const int64_t c = (int64_t)llround(v);
      switch (ev->kind) {
      case STGSSA_EVENT_SET:
        x[s] = c;
        if (xdot)
          for (PetscInt p = 0; p < P; p++) xdot[s * P + p] = dlog[fit_param[p]];
        break;
      case STGSSA_EVENT_ADD:
        x[s] += c;
        if (x[s] > STGSSA_COUNT_MAX) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "%s:%d: event %d adds %" PRId64 " to %s at t = %g, beyond the largest count 2^53", d->filename, ev->line, e + 1, c, d->species[s].name, te);
        if (xdot)
          for (PetscInt p = 0; p < P; p++) xdot[s * P + p] += dlog[fit_param[p]];
        break;
      default: /* SUB, clamped at 0 (then the tangent is 0 too) */
        if (x[s] > c) {
          x[s] -= c;
          if (xdot)
            for (PetscInt p = 0; p < P; p++) xdot[s * P + p] -= dlog[fit_param[p]];
        } else {
          x[s] = 0;
          if (xdot)
            for (PetscInt p = 0; p < P; p++) xdot[s * P + p] = 0.0;
        }
        break;
      }
    }
  }
  PetscFunctionReturn(0);
}

PetscBool StgssaEventsReadFit(const StgssaNetwork *net, PetscInt P, const PetscInt *fit_param)
{
  const StgssaModelDef *d = net->def;
  for (int e = 0; e < d->nevents; e++) {
    int        n;
    const int *u;
    if (!d->events[e].value) continue;
    u = StgssaExprUsedParams(d->events[e].value, &n);
    for (int i = 0; i < n; i++)
      for (PetscInt p = 0; p < P; p++)
        if (fit_param && fit_param[p] == u[i]) return PETSC_TRUE;
  }
  return PETSC_FALSE;
}
