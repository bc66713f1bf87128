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
#include <stgssa/correlate.h>

PetscErrorCode StgssaFSPSetCorrelations(StgssaFSP f, PetscInt npairs, const char *const a[], const char *const b[], const PetscInt lag_ptr[], const PetscReal lags[])
{
  PetscFunctionBegin;
  for (PetscInt c = 0; c < f->ncorr; c++) {
    PetscCall(PetscFree(f->corr_an[c]));
    PetscCall(PetscFree(f->corr_bn[c]));
  }
  PetscCall(PetscFree2(f->corr_an, f->corr_bn));
  PetscCall(PetscFree2(f->lags, f->lag_ptr));
  f->ncorr = f->nlag = 0;
  PetscCall(StgssaFSPInvalidate(f));
  if (!npairs) PetscFunctionReturn(0);
  for (PetscInt c = 0; c < npairs; c++) {
    PetscCheck(lag_ptr[c + 1] > lag_ptr[c], f->comm, PETSC_ERR_ARG_WRONG, "-stgssa_correlate: pair %s:%s needs at least one lag", a[c], b[c]);
    for (PetscInt l = lag_ptr[c]; l < lag_ptr[c + 1]; l++) {
      PetscCheck(lags[l] >= 0 && PetscIsNormalReal(lags[l] + 1.0), f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_correlate: lag %g must be finite and nonnegative", (double)lags[l]);
      PetscCheck(l == lag_ptr[c] || lags[l] > lags[l - 1], f->comm, PETSC_ERR_ARG_WRONG, "-stgssa_correlate: lags of a pair must be strictly ascending (%g after %g)", (double)lags[l], (double)lags[l - 1]);
    }
  }
  PetscCall(PetscMalloc2(npairs, &f->corr_an, npairs, &f->corr_bn));
  for (PetscInt c = 0; c < npairs; c++) {
    PetscCall(PetscStrallocpy(a[c], &f->corr_an[c]));
    PetscCall(PetscStrallocpy(b[c], &f->corr_bn[c]));
  }
  f->nlag = lag_ptr[npairs] - lag_ptr[0];
  PetscCall(PetscMalloc2(f->nlag, &f->lags, npairs + 1, &f->lag_ptr));
  for (PetscInt c = 0; c <= npairs; c++) f->lag_ptr[c] = lag_ptr[c] - lag_ptr[0];
  PetscCall(PetscArraycpy(f->lags, &lags[lag_ptr[0]], f->nlag));
  f->ncorr = npairs;
  PetscFunctionReturn(0);
}

/* -stgssa_correlate (parsed by StgssaCorrelationFromOptions, the SSA side's parser: the same
   syntax and errors) and the horizon -stgssa_tfinal (read, not registered again). */
PetscErrorCode StgssaFSPCorrelationSetFromOptions(StgssaFSP f)
{
  StgssaCorrelation c;
  PetscBool         set;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(&c, sizeof(c)));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-stgssa_tfinal", &f->corr_tfinal, &f->corr_tfinal_set));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-stgssa_correlate", &set)); /* not in this database (e.g. the -help pass of the options check): nothing to read */
  if (set) PetscCall(StgssaCorrelationFromOptions(f->comm, &c, &set));
  if (set && c.npair) PetscCall(StgssaFSPSetCorrelations(f, c.npair, (const char *const *)c.a, (const char *const *)c.b, c.lag_ptr, c.lags));
  PetscCall(StgssaCorrelationReset(&c));
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
  const PetscInt        n = f->nsample * f->nlag;

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
      PetscReal      t  = f->times[k];
      PetscInt       ie = 0;
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
      for (PetscInt l = f->lag_ptr[c]; l < f->lag_ptr[c + 1]; l++) {
        const PetscReal end = f->times[k] + f->lags[l];
        const PetscInt  at  = k * f->nlag + l;
        if (end > f->corr_horizon * (1 + 1e-12)) break; /* beyond the horizon: NaN */
        PetscCall(StgssaFSPAdvance(f, w, &t, end, &ie, failed));
        if (*failed) {
          PetscCall(VecDestroy(&w));
          PetscCall(PetscFree2(mu, out));
          PetscFunctionReturn(0);
        }
        PetscCall(StgssaFSPReadout(f, def, w, f->corr_b[c], bs, out));
        f->cov[at] = out[0];
        for (PetscInt q = 0; q < P; q++) f->dcov[at * P + q] = q < ns ? out[1 + q] : 0.0;
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
  if (nlag) *nlag = f->lag_ptr[c + 1] - f->lag_ptr[c];
  if (lags) *lags = &f->lags[f->lag_ptr[c]];
  if (cov) *cov = &f->cov[k * f->nlag + f->lag_ptr[c]];
  if (dcov) *dcov = &f->dcov[(k * f->nlag + f->lag_ptr[c]) * f->P];
  PetscFunctionReturn(0);
}

/* /fsp/correlation/<A>_<B> [T x L] = Cov(A(t_k), B(t_k + tau_l)) (NaN where t_k + tau_l is beyond
   the horizon, or t_k is a steady sample), attribute lags [L]; /fsp/correlation_sensitivity/<A>_<B>
   [T x L x P] (per fitted log-rate). Rank 0, inside StgssaFSPWriteHDF5. */
PetscErrorCode StgssaFSPCorrelationWriteHDF5(StgssaFSP f, hid_t g)
{
  const PetscInt T = f->nsample, P = f->P;
  double        *buf;

  PetscFunctionBegin;
  if (!f->ncorr) PetscFunctionReturn(0);
  PetscCall(PetscMalloc1(T * f->nlag * (P + 1) + 1, &buf));
  for (PetscInt c = 0; c < f->ncorr; c++) {
    const PetscInt L = f->lag_ptr[c + 1] - f->lag_ptr[c], l0 = f->lag_ptr[c];
    char           name[2 * STGSSA_NAME_MAX + 64];
    hid_t          d;
    for (PetscInt k = 0; k < T; k++)
      for (PetscInt l = 0; l < L; l++) buf[k * L + l] = f->cov[k * f->nlag + l0 + l];
    {
      hsize_t dims[2] = {(hsize_t)T, (hsize_t)L};
      PetscCall(PetscSNPrintf(name, sizeof(name), "correlation/%s_%s", f->corr_an[c], f->corr_bn[c]));
      PetscCall(StgssaH5WriteDoubles(g, name, 2, dims, buf));
      PetscCallHDF5(d = H5Dopen2(g, name, H5P_DEFAULT));
      PetscCall(StgssaH5WriteAttrDoubles(d, "lags", (hsize_t)L, &f->lags[l0]));
      PetscCallHDF5(H5Dclose(d));
    }
    if (P) {
      hsize_t dims[3] = {(hsize_t)T, (hsize_t)L, (hsize_t)P};
      for (PetscInt k = 0; k < T; k++) PetscCall(PetscArraycpy(&buf[k * L * P], &f->dcov[(k * f->nlag + l0) * P], L * P));
      PetscCall(PetscSNPrintf(name, sizeof(name), "correlation_sensitivity/%s_%s", f->corr_an[c], f->corr_bn[c]));
      PetscCall(StgssaH5WriteDoubles(g, name, 3, dims, buf));
    }
  }
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(0);
}
