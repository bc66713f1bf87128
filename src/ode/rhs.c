/* SPDX-License-Identifier: BSD-2-Clause */
/*
  The mean-field right-hand side f(x, t) = sum_j nu_j a_j(x, t), its Jacobian in x and its
  derivatives per fitted log-rate (include/stgssa/ode.h). a_j is the SSA propensity at
  real-valued counts: mass action k_j prod_s C(x_s, c) with C(x, c) = prod_{i<c} (x - i)/(i + 1)
  (the combinatorial polynomial, no clipping at x < c), rate laws as the SSA reads them.
*/
#include "ode_impl.h"

PetscErrorCode StgssaODERhsCreate(const StgssaNetwork *net, StgssaODERhsCtx *c)
{
  PetscFunctionBegin;
  PetscCall(PetscMemzero(c, sizeof(*c)));
  c->net = net;
  PetscCall(StgssaLawEnvCreate(net, &c->env));
  PetscCall(PetscCalloc3(net->S + 1, &c->xi, net->S + 1, &c->gx, net->nparams + 1, &c->dk));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaODERhsDestroy(StgssaODERhsCtx *c)
{
  PetscFunctionBegin;
  if (c->xi) PetscCall(StgssaLawEnvDestroy(&c->env));
  PetscCall(PetscFree3(c->xi, c->gx, c->dk));
  PetscFunctionReturn(0);
}

/* C(x, c) = prod_{i<c} (x - i)/(i + 1) and its derivative in x (product rule). */
static inline double StgssaBinomialReal(double x, PetscInt c, double *d)
{
  double v = 1.0, dv = 0.0;
  for (PetscInt i = 0; i < c; i++) {
    const double f = (x - (double)i) / (double)(i + 1);
    dv             = dv * f + v / (double)(i + 1);
    v *= f;
  }
  *d = dv;
  return v;
}

/* h_j(x) = prod over reactant terms C(x_s, c) and dh/dx accumulated into dh[s] (scaled by scale). */
static double StgssaCombinatorialReal(const StgssaNetwork *net, PetscInt j, const double *x, double scale, double *dh)
{
  const PetscInt t0 = net->react_ptr[j], t1 = net->react_ptr[j + 1];
  double         h = 1.0;
  for (PetscInt t = t0; t < t1; t++) {
    double d;
    h *= StgssaBinomialReal(x[net->react_species[t]], net->react_coef[t], &d);
  }
  if (dh)
    for (PetscInt t = t0; t < t1; t++) { /* d h / d x_s = C'(x_s) prod_{other terms} C */
      double d, other = 1.0;
      (void)StgssaBinomialReal(x[net->react_species[t]], net->react_coef[t], &d);
      for (PetscInt u = t0; u < t1; u++)
        if (u != t) {
          double du;
          other *= StgssaBinomialReal(x[net->react_species[u]], net->react_coef[u], &du);
        }
      dh[net->react_species[t]] += scale * d * other;
    }
  return h;
}

PetscErrorCode StgssaODERhsEval(StgssaODERhsCtx *c, double t, const double *x, double *f, double *J, double *Fp)
{
  const StgssaNetwork *net = c->net;
  const PetscInt       S = net->S, P = c->P, np = net->nparams;
  const PetscBool      deriv = (PetscBool)(J || Fp);

  PetscFunctionBegin;
  for (PetscInt s = 0; s < S; s++) {
    f[s]         = 0.0;
    c->env.xd[s] = x[s];
  }
  if (J) PetscCall(PetscArrayzero(J, S * S));
  if (Fp) PetscCall(PetscArrayzero(Fp, S * P));
  if (net->ninputs) StgssaLawEnvSetTime(net, &c->env, StgssaLawTime(t), deriv);
  for (PetscInt j = 0; j < net->R; j++) {
    double a;
    if (deriv) {
      for (PetscInt s = 0; s < S; s++)
        c->gx[s] = 0.0;
      for (PetscInt m = 0; m < np; m++)
        c->dk[m] = 0.0;
    }
    if (net->order1[j] != -3) { /* mass action: a = k_j h(x), k da/dk = a */
      const double h = StgssaCombinatorialReal(net, j, x, net->k[j], deriv ? c->gx : NULL);
      a              = net->k[j] * h;
      if (deriv && net->def->reactions[j].param >= 0) c->dk[net->def->reactions[j].param] += a;
    } else { /* a rate law L(x, k, u(t)) (times h(x) unless the law is the whole propensity): the
                SSA's StgssaPropensityGrad at the real state env.xd; the integer proxy has each
                reactant at its coefficient, so its combinatorial factor is 1 (and its spurious
                d log h/dx = sum_{q<c} 1/(c - q) is taken back out) */
      double L, h = 1.0;
      for (PetscInt u = net->react_ptr[j]; u < net->react_ptr[j + 1]; u++)
        c->xi[net->react_species[u]] = net->react_coef[u];
      L = StgssaPropensityGrad(net, j, c->xi, &c->env, deriv ? c->dk : NULL, deriv ? c->gx : NULL, NULL);
      if (!net->law_full[j]) {
        if (deriv)
          for (PetscInt u = net->react_ptr[j]; u < net->react_ptr[j + 1]; u++) {
            double H = 0.0;
            for (PetscInt q = 0; q < net->react_coef[u]; q++)
              H += 1.0 / (double)(net->react_coef[u] - q);
            c->gx[net->react_species[u]] -= L * H;
          }
        h = StgssaCombinatorialReal(net, j, x, 0.0, NULL);
        if (deriv) { /* a = L h: da/dx = h dL/dx + L dh/dx, k da/dk = h k dL/dk */
          for (PetscInt s = 0; s < S; s++)
            c->gx[s] *= h;
          for (PetscInt m = 0; m < np; m++)
            c->dk[m] *= h;
          (void)StgssaCombinatorialReal(net, j, x, L, c->gx);
        }
      }
      a = L * h;
    }
    PetscCheck(!PetscIsInfOrNanReal(a), PETSC_COMM_SELF, PETSC_ERR_FP, "-stgssa_mode ode: the propensity of reaction %" PetscInt_FMT " (%s:%d) is %g at t = %g", j, net->def->filename, net->def->reactions[j].line, a, t);
    for (PetscInt i = net->nu_ptr[j]; i < net->nu_ptr[j + 1]; i++) {
      const PetscInt s  = net->nu_species[i];
      const double   nu = (double)net->nu_delta[i];
      f[s] += nu * a;
      if (J)
        for (PetscInt u = 0; u < S; u++)
          J[s * S + u] += nu * c->gx[u];
      if (Fp)
        for (PetscInt p = 0; p < P; p++)
          Fp[s * P + p] += nu * c->dk[c->fit_param[p]];
    }
  }
  PetscFunctionReturn(0);
}
