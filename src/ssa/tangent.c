/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Exact SSA with forward-mode derivatives (DESIGN.md §2).

  The forward path repeats StgssaSSARun operation for operation (same Philox block 0, same
  a_0 summation order, same reaction search), so values are bitwise those of the plain engine.

  ST-GS relaxed choice. Gumbel-max picks j_n = argmax_i [l_i + G_i], l_i = log a_i. Writing
  l_i + G_i = -log T_i with T_i = E_i / a_i (E_i ~ Exp(1)) turns it into the race of the first
  reaction method: j_n = argmin_i T_i. Given the winner j_n (drawn by the forward pass), the race
  is completed exactly by memorylessness:
      T_{j_n} = E_0 / a_0,     T_i = T_{j_n} + E_i / a_i  (i != j_n, a_i > 0),
  with fresh E's from counter blocks >= 1 (E = -log u with StgssaFastLog: these draws feed only
  derivatives). Then (ℓ + G)_i = -log T_i and
      pi_i    = softmax_i(-log T_i / lambda)      (at lambda = 1: pi_i ∝ 1/T_i)
      ldot_i  = d_theta log a_i + sum_s (d log a_i / d x_s) xdot_s,
                d log C(x, c)/dx = sum_{q<c} 1/(x - q)
      pidot_i = pi_i (ldot_i - sum_k pi_k ldot_k) / lambda
      xdot   += sum_i nu_i pidot_i                         (forward value: the exact jump)
      taudot  = -tau (sum_i a_i ldot_i) / a_0,  tdot += taudot
  Score function: d log P/d theta_p = sum_n [p = param(j_n)] - sum_n tau_n d a_0/d theta_p
  - (t - t_last) d a_0/d theta_p at any time t (the path up to t).
*/
#include <stgssa/tangent.h>
#include <stgssa/rng.h>
#include <stgssa/fastlog.h>
#include <math.h>

/* Derivative counter blocks 1..STGSSA_TANGENT_BLOCKS (2 uniforms each, reactions 0..15) are
   generated eight events at a time; further blocks (R > 16) one at a time. Same numbers. */
#define STGSSA_TANGENT_BLOCKS 8

const char *const StgssaGradientTypes[] = {"stgs", "score", "fd", "fsp", "StgssaGradientType", "STGSSA_GRADIENT_", NULL};

PetscErrorCode StgssaTangentRecordCreate(PetscInt nsample, PetscInt nobs, PetscInt R, PetscInt P, StgssaTangentRecord *rec)
{
  PetscFunctionBegin;
  PetscCall(PetscMemzero(rec, sizeof(*rec)));
  rec->nsample = nsample;
  rec->nobs    = nobs;
  rec->R       = R;
  rec->P       = P;
  PetscCall(PetscCalloc5(nsample * nobs, &rec->x, nsample * nobs * P, &rec->xdot, nobs, &rec->wavg, nobs * P, &rec->wavgdot, R, &rec->nrx));
  PetscCall(PetscCalloc4(R * P, &rec->nrxdot, P, &rec->sigmadot, nsample * P, &rec->score_sample, P, &rec->score_end));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaTangentRecordDestroy(StgssaTangentRecord *rec)
{
  PetscFunctionBegin;
  PetscCall(PetscFree5(rec->x, rec->xdot, rec->wavg, rec->wavgdot, rec->nrx));
  PetscCall(PetscFree4(rec->nrxdot, rec->sigmadot, rec->score_sample, rec->score_end));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaTangentWorkCreate(const StgssaNetwork *net, PetscInt P, StgssaTangentWork *w)
{
  PetscFunctionBegin;
  PetscCall(PetscCalloc5(net->S, &w->x, net->R, &w->a, net->S * P, &w->xdot, P, &w->tdot, net->R * P, &w->ldot));
  PetscCall(PetscCalloc5(net->R * P, &w->pidot, net->R, &w->pi, net->R, &w->arrive, P, &w->dtau, P, &w->da0));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaTangentWorkDestroy(StgssaTangentWork *w)
{
  PetscFunctionBegin;
  PetscCall(PetscFree5(w->x, w->a, w->xdot, w->tdot, w->ldot));
  PetscCall(PetscFree5(w->pidot, w->pi, w->arrive, w->dtau, w->da0));
  PetscFunctionReturn(0);
}

/* ldot[p] = d_theta_p log a_j(x) along the tangent xdot (a_j > 0 assumed). */
static inline void StgssaLogPropensityTangent(const StgssaNetwork *net, const StgssaTangentConfig *tc, PetscInt j, const int64_t *x, const double *xdot, double *ldot)
{
  const PetscInt P = tc->P;
  for (PetscInt p = 0; p < P; p++) ldot[p] = 0.0;
  if (tc->rxn_param[j] >= 0) ldot[tc->rxn_param[j]] = 1.0;
  for (PetscInt t = net->react_ptr[j]; t < net->react_ptr[j + 1]; t++) {
    const PetscInt s = net->react_species[t], c = net->react_coef[t];
    double         g = 0.0; /* d log C(x_s, c) / d x_s */
    for (PetscInt q = 0; q < c; q++) g += 1.0 / (double)(x[s] - q);
    for (PetscInt p = 0; p < P; p++) ldot[p] += g * xdot[s * P + p];
  }
}

/* log a_j(x) - log a_{rev j}(x + nu_j): entropy produced by firing j at x. x is restored. */
static inline double StgssaEntropyOfJump(const StgssaNetwork *net, const PetscInt *rev, PetscInt j, int64_t *x, double aj)
{
  double ar;
  for (PetscInt i = net->nu_ptr[j]; i < net->nu_ptr[j + 1]; i++) x[net->nu_species[i]] += net->nu_delta[i];
  ar = StgssaPropensity(net, rev[j], x);
  for (PetscInt i = net->nu_ptr[j]; i < net->nu_ptr[j + 1]; i++) x[net->nu_species[i]] -= net->nu_delta[i];
  return log(aj) - log(ar);
}

/* Accumulate the dwell [t0, t1) in state x into the window average (and its tangent). */
static inline void StgssaWindowDwell(const StgssaTangentConfig *tc, StgssaTangentRecord *rec, const int64_t *x, const double *xdot, double t0, double t1, const double *tdot0, const double *taudot, PetscBool t1_is_event)
{
  const PetscInt P = tc->P;
  const double   lo = t0 > tc->w0 ? t0 : tc->w0, hi = t1 < tc->w1 ? t1 : tc->w1, W = tc->w1 - tc->w0;
  if (hi <= lo) return;
  for (PetscInt o = 0; o < tc->nobs; o++) {
    const double v = (double)StgssaObservedValue(tc->obs_ptr, tc->obs, tc->obs_weight, o, x);
    rec->wavg[o] += v * (hi - lo) / W;
    for (PetscInt p = 0; p < P; p++) {
      /* d(hi - lo): the ends move with the event times when they are inside the window */
      double dlen = 0.0;
      if (t1_is_event && t1 < tc->w1) dlen += tdot0[p] + taudot[p];
      if (t0 > tc->w0) dlen -= tdot0[p];
      rec->wavgdot[o * P + p] += (StgssaObservedTangent(tc->obs_ptr, tc->obs, tc->obs_weight, o, xdot, P, p) * (hi - lo) + v * dlen) / W;
    }
  }
}

PetscErrorCode StgssaSSARunTangent(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, uint64_t traj, StgssaTangentWork *w, StgssaTangentRecord *rec, StgssaTrajInfo *info)
{
  const StgssaNetwork  *net = cfg->net;
  const PetscInt        S = net->S, R = net->R, P = tc->P, ns = cfg->nsample, no = tc->nobs;
  const PetscBool       stgs = (PetscBool)(tc->type == STGSSA_GRADIENT_STGS), score = (PetscBool)(tc->type == STGSSA_GRADIENT_SCORE);
  const StgssaPhiloxKey key = StgssaRngKey(cfg->seed, traj);
  int64_t              *x = w->x;
  double               *a = w->a, *xdot = w->xdot, *tdot = w->tdot, *S_ = rec->score_end, t = 0.0, a0;
  int64_t               n = 0, nc = 0; /* events, events after the burn-in */
  PetscInt              next = 0;
  uint32_t              rbuf[4][STGSSA_PHILOX_LANES];
  uint32_t              dbuf[STGSSA_TANGENT_BLOCKS][4][STGSSA_PHILOX_LANES]; /* derivative draws of the next events */
  PetscBool             dbuf_ready[STGSSA_TANGENT_BLOCKS] = {PETSC_FALSE};

  PetscFunctionBegin;
  PetscCheck(traj <= UINT32_MAX, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Trajectory index %" PRIu64 " exceeds 2^32-1", traj);
  PetscCheck(rec->P == P && rec->nobs == no && rec->nsample == ns && rec->R == R, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "Record sized for another configuration");
  if (tc->rev)
    for (PetscInt j = 0; j < R; j++) PetscCheck(tc->rev[j] >= 0 && tc->rev[j] < R, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Entropy production needs a reverse for every reaction; reaction %" PetscInt_FMT " has none", j);
  for (PetscInt s = 0; s < S; s++) x[s] = net->x0[s];
  PetscCall(PetscArrayzero(xdot, S * P));
  PetscCall(PetscArrayzero(tdot, P));
  PetscCall(PetscArrayzero(rec->wavg, no));
  PetscCall(PetscArrayzero(rec->wavgdot, no * P));
  PetscCall(PetscArrayzero(rec->nrx, R));
  PetscCall(PetscArrayzero(rec->nrxdot, R * P));
  PetscCall(PetscArrayzero(rec->sigmadot, P));
  PetscCall(PetscArrayzero(S_, P));
  rec->sigma = 0.0;
  info->end  = STGSSA_TRAJ_TFINAL;
  a0         = StgssaPropensitiesAll(net, x, a);
  for (;;) {
    double    tnext, tau = 0.0;
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
    {
      const int lane = (int)(n % STGSSA_PHILOX_LANES);
      if (lane == 0) StgssaPhiloxEvents8(cfg->iteration, (uint64_t)n, 0, key, rbuf);
      const double u1 = StgssaUniformOpen(rbuf[0][lane], rbuf[1][lane]);
      const double u2 = StgssaUniformOpen(rbuf[2][lane], rbuf[3][lane]);
      tau             = -log(u2) / a0;
      tnext           = t + tau;
      j               = tnext > cfg->tfinal ? -1 : StgssaSelectReaction(R, a, u1 * a0);
    }
    if (score) /* d a_0 / d theta_p = sum_{i: param(i) = p} a_i */
      for (PetscInt p = 0; p < P; p++) w->da0[p] = 0.0;
    if (score)
      for (PetscInt i = 0; i < R; i++)
        if (tc->rxn_param[i] >= 0) w->da0[tc->rxn_param[i]] += a[i];
    /* samples in [t_n, t_{n+1}) see x_n and its tangent */
    while (next < ns && cfg->sample_times[next] < tnext) {
      for (PetscInt o = 0; o < no; o++) {
        rec->x[next * no + o] = (double)StgssaObservedValue(tc->obs_ptr, tc->obs, tc->obs_weight, o, x);
        if (stgs)
          for (PetscInt p = 0; p < P; p++) rec->xdot[(next * no + o) * P + p] = StgssaObservedTangent(tc->obs_ptr, tc->obs, tc->obs_weight, o, xdot, P, p);
      }
      if (score)
        for (PetscInt p = 0; p < P; p++) rec->score_sample[next * P + p] = S_[p] - (cfg->sample_times[next] - t) * w->da0[p];
      next++;
    }
    if (j < 0) { /* the next event is beyond tfinal: close the last dwell */
      if (score)
        for (PetscInt p = 0; p < P; p++) S_[p] -= (cfg->tfinal - t) * w->da0[p];
      if (tc->window) StgssaWindowDwell(tc, rec, x, xdot, t, cfg->tfinal, tdot, w->dtau, PETSC_FALSE);
      break;
    }
    if (stgs) {
      /* complete the exponential race given the winner j (blocks >= 1 of this event) */
      const double invlam = 1.0 / tc->lambda;
      PetscCheck(P <= 64, PETSC_COMM_SELF, PETSC_ERR_SUP, "ST-GS tangents support at most 64 parameters");
      double       psum = 0.0, amin = 0.0;
      const int lane = (int)(n % STGSSA_PHILOX_LANES);
      for (PetscInt i = 0; i < R; i += 2) {
        const PetscInt blk = i / 2;
        if (blk < STGSSA_TANGENT_BLOCKS) { /* blocks 1..STGSSA_TANGENT_BLOCKS, eight events at a time */
          if (lane == 0 || !dbuf_ready[blk]) {
            StgssaPhiloxEvents8(cfg->iteration, (uint64_t)(n - lane), (uint32_t)(1 + blk), key, dbuf[blk]);
            dbuf_ready[blk] = PETSC_TRUE;
          }
          w->arrive[i] = -StgssaFastLog(StgssaUniformOpen(dbuf[blk][0][lane], dbuf[blk][1][lane]));
          if (i + 1 < R) w->arrive[i + 1] = -StgssaFastLog(StgssaUniformOpen(dbuf[blk][2][lane], dbuf[blk][3][lane]));
        } else {
          const StgssaPhiloxCtr r = StgssaPhilox4x32_10(StgssaRngCounter(cfg->iteration, (uint64_t)n, (uint32_t)(1 + blk)), key);
          w->arrive[i]            = -StgssaFastLog(StgssaUniformOpen(r.v[0], r.v[1]));
          if (i + 1 < R) w->arrive[i + 1] = -StgssaFastLog(StgssaUniformOpen(r.v[2], r.v[3]));
        }
      }
      amin = w->arrive[j] / a0; /* T_j = E_0 / a_0 */
      {
        double *restrict pi = w->pi, *restrict ldot = w->ldot, *restrict pidot = w->pidot, *restrict dtau = w->dtau;
        double           mean[64], adot[64];
        for (PetscInt p = 0; p < P; p++) mean[p] = adot[p] = 0.0;
        for (PetscInt i = 0; i < R; i++) {
          if (a[i] <= 0.0) {
            pi[i] = 0.0;
            continue;
          }
          const double Ti = i == j ? amin : amin + w->arrive[i] / a[i];
          /* pi_i ∝ exp(-log(T_i)/lambda) = (T_j / T_i)^(1/lambda), scaled by the winner's weight */
          pi[i] = tc->lambda == 1.0 ? amin / Ti : exp(invlam * log(amin / Ti));
          psum += pi[i];
          StgssaLogPropensityTangent(net, tc, i, x, xdot, &ldot[i * P]);
        }
        const double inv = 1.0 / psum;
        for (PetscInt i = 0; i < R; i++) {
          if (a[i] <= 0.0) continue;
          pi[i] *= inv;
          for (PetscInt p = 0; p < P; p++) {
            mean[p] += pi[i] * ldot[i * P + p];
            adot[p] += a[i] * ldot[i * P + p];
          }
        }
        for (PetscInt i = 0; i < R; i++) {
          if (a[i] <= 0.0) {
            for (PetscInt p = 0; p < P; p++) pidot[i * P + p] = 0.0;
            continue;
          }
          const double c = pi[i] * invlam;
          for (PetscInt p = 0; p < P; p++) pidot[i * P + p] = c * (ldot[i * P + p] - mean[p]);
        }
        for (PetscInt p = 0; p < P; p++) dtau[p] = -tau * adot[p] / a0;
      }
    }
    if (tc->window) StgssaWindowDwell(tc, rec, x, xdot, t, tnext, tdot, w->dtau, PETSC_TRUE);
    counted = (PetscBool)(tnext > tc->count_from); /* path observables: only jumps after the burn-in */
    if (counted) nc++;
    if (tc->rev && counted) { /* entropy production: value, and its straight-through tangent sum_i pidot_i f_i + fdot_j */
      const double fj = StgssaEntropyOfJump(net, tc->rev, j, x, a[j]);
      rec->sigma += fj;
      if (stgs)
        for (PetscInt i = 0; i < R; i++)
          if (a[i] > 0.0) {
            const double fi = i == j ? fj : StgssaEntropyOfJump(net, tc->rev, i, x, a[i]);
            for (PetscInt p = 0; p < P; p++) rec->sigmadot[p] += w->pidot[i * P + p] * fi;
          }
    }
    if (score) {
      for (PetscInt p = 0; p < P; p++) S_[p] -= tau * w->da0[p];
      if (tc->rxn_param[j] >= 0) S_[tc->rxn_param[j]] += 1.0;
    }
    /* the exact jump; tangents move by the relaxed jump */
    for (PetscInt i = net->nu_ptr[j]; i < net->nu_ptr[j + 1]; i++) x[net->nu_species[i]] += net->nu_delta[i];
    if (counted) rec->nrx[j] += 1.0;
    if (stgs) {
      if (tc->rev && counted) { /* fdot_j = d/dtheta [log a_j(x_n) - log a_rev(x_n + nu_j)] along the tangent xdot_n */
        double lrev[64];
        PetscCheck(P <= 64, PETSC_COMM_SELF, PETSC_ERR_SUP, "Entropy tangents support at most 64 parameters");
        StgssaLogPropensityTangent(net, tc, tc->rev[j], x, xdot, lrev);
        for (PetscInt p = 0; p < P; p++) rec->sigmadot[p] += w->ldot[j * P + p] - lrev[p];
      }
      {
        const double *restrict pidot = w->pidot;
        double *restrict       xd = xdot, *restrict nd = rec->nrxdot;
        for (PetscInt i = 0; i < R; i++) {
          if (a[i] <= 0.0) continue;
          for (PetscInt u = net->nu_ptr[i]; u < net->nu_ptr[i + 1]; u++) {
            const double   delta = (double)net->nu_delta[u];
            const PetscInt s0    = net->nu_species[u] * P;
            for (PetscInt p = 0; p < P; p++) xd[s0 + p] += delta * pidot[i * P + p];
          }
          if (counted)
            for (PetscInt p = 0; p < P; p++) nd[i * P + p] += pidot[i * P + p];
        }
      }
      for (PetscInt p = 0; p < P; p++) tdot[p] += w->dtau[p];
    }
    for (PetscInt d = net->dep_ptr[j]; d < net->dep_ptr[j + 1]; d++) a[net->dep[d]] = StgssaPropensity(net, net->dep[d], x);
    a0 = 0.0;
    for (PetscInt i = 0; i < R; i++) a0 += a[i];
    t = tnext;
    n++;
  }
  if (info->end != STGSSA_TRAJ_TFINAL) { /* absorbed or capped: the state holds to tfinal */
    if (tc->window) StgssaWindowDwell(tc, rec, x, xdot, t, cfg->tfinal, tdot, w->dtau, PETSC_FALSE);
  }
  for (; next < ns; next++)
    for (PetscInt o = 0; o < no; o++) {
      rec->x[next * no + o] = (double)StgssaObservedValue(tc->obs_ptr, tc->obs, tc->obs_weight, o, x);
      if (stgs)
        for (PetscInt p = 0; p < P; p++) rec->xdot[(next * no + o) * P + p] = StgssaObservedTangent(tc->obs_ptr, tc->obs, tc->obs_weight, o, xdot, P, p);
      if (score)
        for (PetscInt p = 0; p < P; p++) rec->score_sample[next * P + p] = S_[p];
    }
  rec->events         = n;
  rec->events_counted = nc;
  info->events        = n;
  PetscFunctionReturn(0);
}
