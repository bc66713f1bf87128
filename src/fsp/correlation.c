/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaFSP: exact two-time correlations (issue 18) through the propagator of the projected CME:
      Cov(A(t), B(t + tau)) = E[A(t) B(t + tau)] - E[A(t)] E[B(t + tau)]
                            = sum_y B(y) [U(t + tau, t) w](y),   w(x) = (A(x) - E[A(t)]) p(x, t)
  (U: the propagator of dp/dt = A p from t to t + tau with the events in (t, t + tau) applied; it
  is linear, so E[A(t)] E[B(t + tau)] = sum_y B(y) [U (E[A] p)](y) and the centred vector gives the
  covariance directly). Derivatives: the weighted vector's sensitivity
      w_q(x) = (A(x) - E[A]) s_q(x) - (dE[A]/dtheta_q) p(x)
  is propagated along with it by the same augmented system the transient integrates, so
  dCov/dtheta_q = sum_y B(y) [w_q propagated](y). The start vectors are the transient's solution
  kept at the samples (y = (p, s_1..s_P)); E[A] and its derivatives are the recorded marginals'
  (unnormalized) sums. A and B are species or groups of the model.
*/
#include "fsp_impl.h"
#include "../stgssa_impl.h"

PetscErrorCode StgssaFSPSetCorrelations(StgssaFSP f, PetscInt npairs, const char *const a[], const char *const b[], PetscInt nlag, const PetscReal lags[])
{
  PetscFunctionBegin;
  for (PetscInt c = 0; c < f->ncorr; c++) {
    PetscCall(PetscFree(f->corr_an[c]));
    PetscCall(PetscFree(f->corr_bn[c]));
  }
  PetscCall(PetscFree2(f->corr_an, f->corr_bn));
  PetscCall(PetscFree(f->lags));
  f->ncorr = f->nlag = 0;
  PetscCall(StgssaFSPInvalidate(f));
  if (!npairs) PetscFunctionReturn(0);
  PetscCheck(nlag > 0, f->comm, PETSC_ERR_ARG_WRONG, "-stgssa_correlate: expected at least one lag after '@'");
  for (PetscInt l = 0; l < nlag; l++) {
    PetscCheck(lags[l] >= 0 && PetscIsNormalReal(lags[l] + 1.0), f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_correlate: lag %g must be finite and nonnegative", (double)lags[l]);
    PetscCheck(l == 0 || lags[l] > lags[l - 1], f->comm, PETSC_ERR_ARG_WRONG, "-stgssa_correlate: lags must be strictly ascending (%g after %g)", (double)lags[l], (double)lags[l - 1]);
  }
  PetscCall(PetscMalloc2(npairs, &f->corr_an, npairs, &f->corr_bn));
  for (PetscInt c = 0; c < npairs; c++) {
    PetscCall(PetscStrallocpy(a[c], &f->corr_an[c]));
    PetscCall(PetscStrallocpy(b[c], &f->corr_bn[c]));
  }
  PetscCall(PetscMalloc1(nlag, &f->lags));
  PetscCall(PetscArraycpy(f->lags, lags, nlag));
  f->ncorr = npairs;
  f->nlag  = nlag;
  PetscFunctionReturn(0);
}

/* Parse "A:B[,C:D...]@lag1,lag2,..." (a pair "A" alone is A:A, the autocorrelation) into pairs and
   lags. *npairs and *nlag: capacities in, counts out; names point into buf (modified). One clear
   error naming the option and what was expected. Reusable by the SSA side. */
PetscErrorCode StgssaCorrelateParse(MPI_Comm comm, char buf[], PetscInt *npairs, char *a[], char *b[], PetscInt *nlag, PetscReal lags[])
{
  char    *at, *tok, *save = NULL;
  PetscInt cap = *npairs, lcap = *nlag;

  PetscFunctionBegin;
  *npairs = *nlag = 0;
  PetscCall(PetscStrchr(buf, '@', &at));
  PetscCheck(at && at != buf && at[1], comm, PETSC_ERR_ARG_WRONG, "-stgssa_correlate: expected A:B[,C:D...]@lag1,lag2,... (e.g. M:M@0,1,2), got '%s'", buf);
  *at = 0;
  for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *colon;
    PetscCheck(*npairs < cap, comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_correlate: more than %" PetscInt_FMT " pairs", cap);
    PetscCall(PetscStrchr(tok, ':', &colon));
    if (colon) {
      *colon = 0;
      PetscCheck(*tok && colon[1], comm, PETSC_ERR_ARG_WRONG, "-stgssa_correlate: pair '%s:%s' needs two names A:B", tok, colon + 1);
      a[*npairs] = tok;
      b[*npairs] = colon + 1;
    } else a[*npairs] = b[*npairs] = tok;
    (*npairs)++;
  }
  PetscCheck(*npairs > 0, comm, PETSC_ERR_ARG_WRONG, "-stgssa_correlate: expected at least one pair A:B before '@'");
  save = NULL;
  for (tok = strtok_r(at + 1, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char  *end;
    double v = strtod(tok, &end);
    PetscCheck(*nlag < lcap, comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_correlate: more than %" PetscInt_FMT " lags", lcap);
    PetscCheck(end != tok && !*end, comm, PETSC_ERR_ARG_WRONG, "-stgssa_correlate: lag '%s' is not a number", tok);
    lags[(*nlag)++] = (PetscReal)v;
  }
  PetscFunctionReturn(0);
}

/* -stgssa_correlate and the horizon -stgssa_tfinal (read, not registered again: the FSP options). */
PetscErrorCode StgssaFSPCorrelationSetFromOptions(StgssaFSP f)
{
  char      spec[4096];
  PetscBool set;

  PetscFunctionBegin;
  PetscOptionsBegin(f->comm, NULL, "FSP two-time correlations", "StgssaFSP");
  PetscCall(PetscOptionsString("-stgssa_correlate", "Two-time correlations Cov(A(t), B(t+tau)) of species or groups: A:B[,C:D...]@lag1,lag2,... (A alone: A:A); FSP: exact via the propagator, /fsp/correlation/<A>_<B> [T x L]", "StgssaFSPSetCorrelations", "", spec, sizeof(spec), &set));
  PetscOptionsEnd();
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-stgssa_tfinal", &f->corr_tfinal, &f->corr_tfinal_set));
  if (set && spec[0]) {
    PetscInt   np = STGSSA_FSP_MAX_ITEMS, nl = STGSSA_FSP_MAX_SAMPLES;
    char     **a, **b;
    PetscReal *lags;
    PetscCall(PetscMalloc3(np, &a, np, &b, nl, &lags));
    PetscCall(StgssaCorrelateParse(f->comm, spec, &np, a, b, &nl, lags));
    PetscCall(StgssaFSPSetCorrelations(f, np, (const char *const *)a, (const char *const *)b, nl, lags));
    PetscCall(PetscFree3(a, b, lags));
  }
  PetscFunctionReturn(0);
}

/* Quantity q (species, or group S + g) by name; -1 if none. */
static PetscInt StgssaFSPFindQuantity(StgssaFSP f, const StgssaModelDef *def, const char name[])
{
  const int s = StgssaModelDefFindSpecies(def, name);
  if (s >= 0) return s;
  for (PetscInt g = 0; g < f->ngroups; g++)
    if (!strcmp(def->groups[g].name, name) && f->nbins[f->S + g]) return f->S + g;
  return -1;
}

static inline PetscReal StgssaFSPQuantity(StgssaFSP f, const StgssaModelDef *def, PetscInt q, const int64_t *x)
{
  return q < f->S ? (PetscReal)x[q] : (PetscReal)StgssaFSPGroupValue(def, q - f->S, x);
}

/* At set-up (after the marginals' layout): names resolved, the horizon, the result arrays. */
PetscErrorCode StgssaFSPCorrelationSetUp(StgssaFSP f)
{
  const StgssaModelDef *def;
  const PetscInt        n = f->nsample * f->ncorr * f->nlag;

  PetscFunctionBegin;
  if (!f->ncorr) PetscFunctionReturn(0);
  PetscCall(StgssaModelGetDef(f->model, &def));
  PetscCall(PetscMalloc2(f->ncorr, &f->corr_a, f->ncorr, &f->corr_b));
  for (PetscInt c = 0; c < f->ncorr; c++) {
    f->corr_a[c] = StgssaFSPFindQuantity(f, def, f->corr_an[c]);
    f->corr_b[c] = StgssaFSPFindQuantity(f, def, f->corr_bn[c]);
    PetscCheck(f->corr_a[c] >= 0, f->comm, PETSC_ERR_ARG_WRONG, "-stgssa_correlate: '%s' is not a species or integer-weighted group of model %s", f->corr_an[c], def->filename);
    PetscCheck(f->corr_b[c] >= 0, f->comm, PETSC_ERR_ARG_WRONG, "-stgssa_correlate: '%s' is not a species or integer-weighted group of model %s", f->corr_bn[c], def->filename);
  }
  f->corr_horizon = f->corr_tfinal_set ? PetscMax(f->corr_tfinal, f->tmax) : f->tmax;
  PetscCall(PetscMalloc2(n + 1, &f->cov, n * f->P + 1, &f->dcov));
  for (PetscInt i = 0; i < n; i++) f->cov[i] = NAN;
  for (PetscInt i = 0; i < n * f->P; i++) f->dcov[i] = NAN;
  PetscCall(PetscCalloc1(f->nsample, &f->ysave));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPCorrelationFree(StgssaFSP f)
{
  PetscFunctionBegin;
  if (f->ysave)
    for (PetscInt k = 0; k < f->nsample; k++) PetscCall(VecDestroy(&f->ysave[k]));
  PetscCall(PetscFree(f->ysave));
  PetscCall(PetscFree2(f->corr_a, f->corr_b));
  PetscCall(PetscFree2(f->cov, f->dcov));
  PetscFunctionReturn(0);
}

/* sum_x B(x) z_j(x) for each block j = 0..bs-1 of the gathered vector (the same on every rank). */
static PetscErrorCode StgssaFSPReadout(StgssaFSP f, const StgssaModelDef *def, Vec z, PetscInt qb, PetscInt bs, PetscReal out[])
{
  VecScatter         scat;
  Vec                zall;
  const PetscScalar *za;

  PetscFunctionBegin;
  PetscCall(VecScatterCreateToAll(z, &scat, &zall));
  PetscCall(VecScatterBegin(scat, z, zall, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(scat, z, zall, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetArrayRead(zall, &za));
  for (PetscInt j = 0; j < bs; j++) out[j] = 0;
  for (PetscInt i = 0; i < f->n; i++) {
    const PetscReal v = StgssaFSPQuantity(f, def, qb, &f->x[i * f->S]);
    if (v == 0) continue;
    for (PetscInt j = 0; j < bs; j++) out[j] += v * za[i * bs + j];
  }
  PetscCall(VecRestoreArrayRead(zall, &za));
  PetscCall(VecDestroy(&zall));
  PetscCall(VecScatterDestroy(&scat));
  PetscFunctionReturn(0);
}

/* After the transient pass: every (sample, A) start vector propagated through the lags. */
PetscErrorCode StgssaFSPCorrelationCompute(StgssaFSP f, PetscBool *failed)
{
  const StgssaModelDef *def;
  const PetscInt        P = f->P, ns = f->nsens, bs = 1 + ns;
  PetscReal            *mu, *out;
  Vec                   w;

  PetscFunctionBegin;
  *failed = PETSC_FALSE;
  PetscCall(StgssaModelGetDef(f->model, &def));
  PetscCall(PetscMalloc2(1 + P, &mu, bs, &out));
  for (PetscInt k = 0; k < f->nsample; k++) {
    if (!f->ysave[k]) continue; /* steady sample, or not reached */
    for (PetscInt c = 0; c < f->ncorr; c++) {
      const PetscInt qa = f->corr_a[c];
      PetscBool      seen = PETSC_FALSE;
      PetscReal      t = f->times[k];
      PetscInt       ie = 0;
      for (PetscInt c2 = 0; c2 < c; c2++) seen = (PetscBool)(seen || f->corr_a[c2] == qa);
      if (seen) continue; /* this A was propagated with an earlier pair */
      { /* E[A(t_k)] and d/dtheta_q from the recorded marginal */
        const PetscReal *m = &f->marg[k * f->btot + f->boff[qa]], *dm = &f->dmarg[(k * f->btot + f->boff[qa]) * P];
        for (PetscInt q = 0; q <= P; q++) mu[q] = 0;
        for (PetscInt v = 0; v < f->nbins[qa]; v++) {
          mu[0] += (PetscReal)v * m[v];
          for (PetscInt q = 0; q < ns; q++) mu[1 + q] += (PetscReal)v * dm[v * P + q];
        }
      }
      PetscCall(VecDuplicate(f->ysave[k], &w));
      { /* w = (A - E[A]) p, w_q = (A - E[A]) s_q - dE[A]/dtheta_q p, on the owned states */
        const PetscScalar *ya;
        PetscScalar       *wa;
        PetscCall(VecGetArrayRead(f->ysave[k], &ya));
        PetscCall(VecGetArray(w, &wa));
        for (PetscInt li = 0; li < f->rend - f->rstart; li++) {
          const PetscReal d = StgssaFSPQuantity(f, def, qa, &f->x[(f->rstart + li) * f->S]) - mu[0], p = ya[li * bs];
          wa[li * bs] = d * p;
          for (PetscInt q = 0; q < ns; q++) wa[li * bs + 1 + q] = d * ya[li * bs + 1 + q] - mu[1 + q] * p;
        }
        PetscCall(VecRestoreArray(w, &wa));
        PetscCall(VecRestoreArrayRead(f->ysave[k], &ya));
      }
      while (ie < f->ninst && f->inst_t[ie] < t) ie++; /* events at t_k come after the sample */
      PetscCall(TSSetTime(f->ts, t));
      PetscCall(TSRestartStep(f->ts));
      for (PetscInt l = 0; l < f->nlag; l++) {
        const PetscReal end = f->times[k] + f->lags[l];
        if (end > f->corr_horizon * (1 + 1e-12)) break; /* beyond the horizon: NaN */
        PetscCall(StgssaFSPAdvance(f, w, &t, end, &ie, failed));
        if (*failed) {
          PetscCall(VecDestroy(&w));
          PetscCall(PetscFree2(mu, out));
          PetscFunctionReturn(0);
        }
        for (PetscInt c2 = c; c2 < f->ncorr; c2++) {
          const PetscInt at = (k * f->ncorr + c2) * f->nlag + l;
          if (f->corr_a[c2] != qa) continue;
          PetscCall(StgssaFSPReadout(f, def, w, f->corr_b[c2], bs, out));
          f->cov[at] = out[0];
          for (PetscInt q = 0; q < P; q++) f->dcov[at * P + q] = q < ns ? out[1 + q] : 0.0;
        }
      }
      PetscCall(VecDestroy(&w));
    }
  }
  PetscCall(PetscFree2(mu, out));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPGetCorrelation(StgssaFSP f, PetscInt k, PetscInt c, PetscInt *nlag, const PetscReal **lags, const PetscReal **cov, const PetscReal **dcov)
{
  PetscFunctionBegin;
  PetscCheck(f->done, f->comm, PETSC_ERR_ORDER, "Call StgssaFSPSolve() first");
  PetscCheck(c >= 0 && c < f->ncorr, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "correlation pair %" PetscInt_FMT " out of range (%" PetscInt_FMT " pairs)", c, f->ncorr);
  PetscCheck(k >= 0 && k < f->nsample, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "sample %" PetscInt_FMT " out of range", k);
  if (nlag) *nlag = f->nlag;
  if (lags) *lags = f->lags;
  if (cov) *cov = &f->cov[(k * f->ncorr + c) * f->nlag];
  if (dcov) *dcov = &f->dcov[(k * f->ncorr + c) * f->nlag * f->P];
  PetscFunctionReturn(0);
}

/* /fsp/correlation/<A>_<B> [T x L] = Cov(A(t_k), B(t_k + tau_l)) (NaN where t_k + tau_l is beyond
   the horizon, or t_k is a steady sample), attribute lags [L]; /fsp/correlation_sensitivity/<A>_<B>
   [T x L x P] (per fitted log-rate). Rank 0, inside StgssaFSPWriteHDF5. */
PetscErrorCode StgssaFSPCorrelationWriteHDF5(StgssaFSP f, hid_t g)
{
  const PetscInt T = f->nsample, L = f->nlag, P = f->P;
  double        *buf;

  PetscFunctionBegin;
  if (!f->ncorr) PetscFunctionReturn(0);
  PetscCall(PetscMalloc1(T * L * (P + 1) + 1, &buf));
  for (PetscInt c = 0; c < f->ncorr; c++) {
    char  name[2 * STGSSA_NAME_MAX + 64];
    hid_t d;
    for (PetscInt k = 0; k < T; k++)
      for (PetscInt l = 0; l < L; l++) buf[k * L + l] = f->cov[(k * f->ncorr + c) * L + l];
    {
      hsize_t dims[2] = {(hsize_t)T, (hsize_t)L};
      PetscCall(PetscSNPrintf(name, sizeof(name), "correlation/%s_%s", f->corr_an[c], f->corr_bn[c]));
      PetscCall(StgssaH5WriteDoubles(g, name, 2, dims, buf));
      PetscCallHDF5(d = H5Dopen2(g, name, H5P_DEFAULT));
      PetscCall(StgssaH5WriteAttrDoubles(d, "lags", (hsize_t)L, f->lags));
      PetscCallHDF5(H5Dclose(d));
    }
    if (P) {
      hsize_t dims[3] = {(hsize_t)T, (hsize_t)L, (hsize_t)P};
      for (PetscInt k = 0; k < T; k++) PetscCall(PetscArraycpy(&buf[k * L * P], &f->dcov[(k * f->ncorr + c) * L * P], L * P));
      PetscCall(PetscSNPrintf(name, sizeof(name), "correlation_sensitivity/%s_%s", f->corr_an[c], f->corr_bn[c]));
      PetscCall(StgssaH5WriteDoubles(g, name, 3, dims, buf));
    }
  }
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(0);
}
