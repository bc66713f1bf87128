/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Propensities of reactions with a rate law (issue 7) and the input signals they read.

  A reaction j with a law L(x, k, u(t), t) has the propensity
      a_j = L                          (law_full: the law is the whole propensity)
      a_j = L * h_j(x),  h_j = prod_s C(x_s, r_js)   (rate "constant" law: mass-action combinatorics)
  and a_j = 0 whenever some reactant count x_s < r_js (the law is not evaluated there, so a
  reaction never drives a count negative). Inputs are u_i(t) = expression of (k, t), or a
  piecewise-constant table whose levels are numbers or parameters.

  Derivatives are taken with respect to log k_m (the optimizer's coordinates), chaining through
  the inputs:  k_m da/dk_m = k_m dL/dk_m + sum_i dL/du_i k_m du_i/dk_m  (times h_j for a rate law),
  da/dt = dL/dt + sum_i dL/du_i du_i/dt.  For the network's mass-action reactions, k_j = 1 on a
  law reaction, so StgssaPropensity gives h_j(x) there.
*/
#include "model_impl.h"
#include <stgssa/expr.h>
#include <stgssa/ssa.h>
#include <math.h>

PetscErrorCode StgssaLawEnvCreate(const StgssaNetwork *net, StgssaLawEnv *env)
{
  size_t   wmax = 1;
  PetscInt nu = net->ninputs, np = net->nparams;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(env, sizeof(*env)));
  for (PetscInt j = 0; j < net->R; j++)
    if (net->law && net->law[j]) wmax = PetscMax(wmax, StgssaExprWorkSize(net->law[j]));
  for (PetscInt i = 0; i < nu; i++)
    if (net->def->inputs[i].expr) wmax = PetscMax(wmax, StgssaExprWorkSize(net->def->inputs[i].expr));
  PetscCall(PetscCalloc5(net->S + 1, &env->xd, nu + 1, &env->u, nu * np + 1, &env->du, nu + 1, &env->dudt, (PetscInt)wmax, &env->work));
  PetscCall(PetscCalloc5(net->S + 1, &env->gsp, np + 1, &env->gpar, nu + 1, &env->ginp, nu + 1, &env->ulo, nu + 1, &env->uhi));
  if (net->def && StgssaModelDefHasDerived(net->def)) { /* a slice per derived parameter: its used-parameter derivatives, then its work array */
    size_t tot = 0;
    PetscCall(PetscMalloc1(np + 1, &env->doff));
    for (PetscInt m = 0; m < np; m++) {
      const StgssaExpr *e = net->def->params[m].expr;
      int               n = 0;
      env->doff[m]        = (PetscInt)tot;
      if (e) {
        (void)StgssaExprUsedParams(e, &n);
        tot += (size_t)n + StgssaExprWorkSize(e);
      }
    }
    PetscCall(PetscMalloc1((PetscInt)tot + 1, &env->dwork));
  }
  PetscFunctionReturn(0);
}

/* Chain rule through derived parameter m (value d_m(pv)): g = d a / d pv_m is passed on to the
   parameters d_m reads, dk[b] += g (d d_m / d pv_b) pv_b (log-parameter derivative), recursively
   for derived ones (acyclic: the slices of the parameters on the recursion path are distinct). */
static void StgssaDerivedChain(const StgssaNetwork *net, StgssaLawEnv *w, int m, double g, double *dk)
{
  const StgssaExpr *e = net->def->params[m].expr;
  int               n;
  const int        *u  = StgssaExprUsedParams(e, &n);
  double           *dp = w->dwork + w->doff[m], *wk = dp + n;
  (void)StgssaExprEvalGradWork(e, NULL, net->pv, NULL, 0.0, NULL, dp, NULL, NULL, wk);
  for (int k = 0; k < n; k++) {
    const double gb = g * dp[k];
    if (gb == 0.0) continue;
    dk[u[k]] += gb * net->pv[u[k]];
    if (net->def->params[u[k]].expr) StgssaDerivedChain(net, w, u[k], gb, dk);
  }
}

PetscErrorCode StgssaLawEnvDestroy(StgssaLawEnv *env)
{
  PetscFunctionBegin;
  PetscCall(PetscFree5(env->xd, env->u, env->du, env->dudt, env->work));
  PetscCall(PetscFree5(env->gsp, env->gpar, env->ginp, env->ulo, env->uhi));
  PetscCall(PetscFree(env->doff));
  PetscCall(PetscFree(env->dwork));
  PetscFunctionReturn(0);
}

void StgssaLawEnvSetState(const StgssaNetwork *net, StgssaLawEnv *env, const int64_t *x)
{
  for (PetscInt s = 0; s < net->S; s++) env->xd[s] = (double)x[s];
}

/* Piece of a table input holding at time t: the last i with times[i] <= t (times[0] = 0). */
static int StgssaInputPiece(const StgssaInputDef *in, double t)
{
  int lo = 0, hi = in->npieces - 1;
  while (lo < hi) { /* largest i with times[i] <= t */
    const int mid = (lo + hi + 1) / 2;
    if (in->times[mid] <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

static double StgssaInputLevel(const StgssaNetwork *net, const StgssaInputDef *in, int i)
{
  return in->vparam[i] >= 0 ? net->pv[in->vparam[i]] : in->values[i];
}

void StgssaLawEnvSetTime(const StgssaNetwork *net, StgssaLawEnv *env, double t, PetscBool grad)
{
  const PetscInt np = net->nparams;
  env->t            = t;
  for (PetscInt i = 0; i < net->ninputs; i++) {
    const StgssaInputDef *in = &net->def->inputs[i];
    double               *du = &env->du[i * np];
    if (in->kind == STGSSA_INPUT_TABLE) {
      const int pc = StgssaInputPiece(in, t);
      env->u[i]    = StgssaInputLevel(net, in, pc);
      if (grad) {
        for (PetscInt m = 0; m < np; m++) du[m] = 0.0;
        if (in->vparam[pc] >= 0) du[in->vparam[pc]] = net->pv[in->vparam[pc]]; /* k dk/dk */
        env->dudt[i] = 0.0;
      }
    } else if (!grad) {
      env->u[i] = StgssaExprEvalWork(in->expr, NULL, net->pv, NULL, t, env->work);
    } else {
      int        n;
      const int *used = StgssaExprUsedParams(in->expr, &n);
      env->u[i]       = StgssaExprEvalGradWork(in->expr, NULL, net->pv, NULL, t, NULL, env->gpar, NULL, &env->dudt[i], env->work);
      for (PetscInt m = 0; m < np; m++) du[m] = 0.0;
      for (int q = 0; q < n; q++) du[used[q]] = env->gpar[q] * net->pv[used[q]];
    }
  }
}

/* 0 when some reactant count is below its coefficient. */
static inline PetscBool StgssaReactantsPresent(const StgssaNetwork *net, PetscInt j, const int64_t *x)
{
  for (PetscInt t = net->react_ptr[j]; t < net->react_ptr[j + 1]; t++)
    if (x[net->react_species[t]] < net->react_coef[t]) return PETSC_FALSE;
  return PETSC_TRUE;
}

double StgssaPropensityLaw(const StgssaNetwork *net, PetscInt j, const int64_t *x, const StgssaLawEnv *env)
{
  double L;
  if (!StgssaReactantsPresent(net, j, x)) return 0.0;
  L = StgssaExprEvalWork(net->law[j], env->xd, net->pv, env->u, env->t, env->work);
  return net->law_full[j] ? L : L * StgssaPropensity(net, j, x); /* k_j = 1: StgssaPropensity is h_j(x) */
}

/* sum_q 1/(x_s - q) over the reactant terms: d log h_j / d x_s, accumulated into dx scaled by a. */
static inline void StgssaCombinatorialGrad(const StgssaNetwork *net, PetscInt j, const int64_t *x, double a, double *dx)
{
  if (!dx || a == 0.0) return;
  for (PetscInt t = net->react_ptr[j]; t < net->react_ptr[j + 1]; t++) {
    const PetscInt s = net->react_species[t], c = net->react_coef[t];
    double         g = 0.0;
    for (PetscInt q = 0; q < c; q++) g += 1.0 / (double)(x[s] - q);
    dx[s] += a * g;
  }
}

double StgssaPropensityGrad(const StgssaNetwork *net, PetscInt j, const int64_t *x, const StgssaLawEnv *env, double *dk, double *dx, double *dt)
{
  StgssaLawEnv *w = (StgssaLawEnv *)env; /* scratch arrays only */
  double        L, Lt = 0.0, h = 1.0, a;
  int           ns, npar, nin;
  const int    *sp, *par, *inp;

  if (dt) *dt = 0.0;
  if (net->order1[j] != -3) { /* mass action: a = factor k h(x), k da/dk = a */
    a = StgssaPropensity(net, j, x);
    if (dk && net->def->reactions[j].param >= 0) dk[net->def->reactions[j].param] += a;
    StgssaCombinatorialGrad(net, j, x, a, dx);
    return a;
  }
  if (!StgssaReactantsPresent(net, j, x)) return 0.0;
  L   = StgssaExprEvalGradWork(net->law[j], env->xd, net->pv, env->u, env->t, w->gsp, w->gpar, w->ginp, &Lt, w->work);
  sp  = StgssaExprUsedSpecies(net->law[j], &ns);
  par = StgssaExprUsedParams(net->law[j], &npar);
  inp = StgssaExprUsedInputs(net->law[j], &nin);
  if (!net->law_full[j]) h = StgssaPropensity(net, j, x);
  a = L * h;
  if (dk) {
    for (int q = 0; q < npar; q++) {
      dk[par[q]] += h * w->gpar[q] * net->pv[par[q]];
      if (w->doff && net->def->params[par[q]].expr && w->gpar[q] != 0.0) StgssaDerivedChain(net, w, par[q], h * w->gpar[q], dk); /* derived: on to what it is computed from */
    }
    for (int q = 0; q < nin; q++)
      for (PetscInt m = 0; m < net->nparams; m++) dk[m] += h * w->ginp[q] * env->du[inp[q] * net->nparams + m];
  }
  if (dt) {
    for (int q = 0; q < nin; q++) Lt += w->ginp[q] * env->dudt[inp[q]];
    *dt = h * Lt;
  }
  if (dx) {
    for (int q = 0; q < ns; q++) dx[sp[q]] += h * w->gsp[q];
    if (!net->law_full[j]) StgssaCombinatorialGrad(net, j, x, a, dx);
  }
  return a;
}

PetscErrorCode StgssaPropensityCheck(const StgssaNetwork *net, PetscInt j, const int64_t *x, double t, double a)
{
  char     state[512] = "";
  size_t   len        = 0;
  PetscInt S          = net->S;

  PetscFunctionBegin;
  if (a >= 0.0 && a <= PETSC_MAX_REAL) PetscFunctionReturn(0);
  for (PetscInt s = 0; s < S && len + 80 < sizeof(state); s++) {
    PetscCall(PetscSNPrintf(state + len, sizeof(state) - len, "%s%s=%" PRId64, s ? ", " : "", net->def->species[s].name, x[s]));
    PetscCall(PetscStrlen(state, &len));
  }
  if (len + 80 >= sizeof(state)) PetscCall(PetscStrlcat(state, ", ...", sizeof(state)));
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FP, "%s:%d: the rate law of reaction %" PetscInt_FMT " gives the propensity %.6g (expected a finite number >= 0) at t = %.6g in the state %s", net->def->filename,
          net->def->reactions[j].line, j + 1, a, t, state);
}

double StgssaPropensityUpper(const StgssaNetwork *net, PetscInt j, const int64_t *x, StgssaLawEnv *env, double t0, double t1)
{
  double lo, hi, h = 1.0;
  if (!net->tdep[j]) return net->order1[j] == -3 ? StgssaPropensityLaw(net, j, x, env) : StgssaPropensity(net, j, x);
  if (!StgssaReactantsPresent(net, j, x)) return 0.0;
  for (PetscInt i = 0; i < net->ninputs; i++) {
    const StgssaInputDef *in = &net->def->inputs[i];
    if (in->kind == STGSSA_INPUT_TABLE) { /* levels of the pieces meeting [t0, t1] */
      int p0 = StgssaInputPiece(in, t0), p1 = StgssaInputPiece(in, t1);
      env->ulo[i] = env->uhi[i] = StgssaInputLevel(net, in, p0);
      for (int p = p0 + 1; p <= p1; p++) {
        const double v = StgssaInputLevel(net, in, p);
        env->ulo[i]    = PetscMin(env->ulo[i], v);
        env->uhi[i]    = PetscMax(env->uhi[i], v);
      }
    } else if (StgssaExprEvalInterval(in->expr, NULL, net->pv, NULL, NULL, t0, t1, &env->ulo[i], &env->uhi[i])) return PETSC_INFINITY;
  }
  if (StgssaExprEvalInterval(net->law[j], env->xd, net->pv, env->ulo, env->uhi, t0, t1, &lo, &hi)) return PETSC_INFINITY;
  if (!net->law_full[j]) h = StgssaPropensity(net, j, x);
  /* h is a product of rounded binomials: a relative margin of 1e-12 covers its rounding */
  return hi <= 0.0 ? 0.0 : hi * h * (1.0 + 1e-12);
}

/* ---------------------------------------------------------------------------------------------- */
/* Expression observables (issue 16): assignment rules that are not sums of species. */

size_t StgssaRuleScratchSize(const StgssaNetwork *net)
{
  return 3 * (size_t)net->S + 2 * (size_t)net->nparams + 2;
}

/* k_b d d_m/d k_b times g into dk, recursively through derived parameters (the chain of StgssaDerivedChain
   without a law environment; acyclic, so the recursion ends). */
static void StgssaRuleChain(const StgssaNetwork *net, int m, double g, double *dk)
{
  const StgssaExpr *e = net->def->params[m].expr;
  int               n;
  const int        *u = StgssaExprUsedParams(e, &n);
  double            dp[n > 0 ? n : 1];
  (void)StgssaExprEvalGrad(e, NULL, net->pv, NULL, 0.0, NULL, dp, NULL, NULL);
  for (int k = 0; k < n; k++) {
    const double gb = g * dp[k];
    if (gb == 0.0) continue;
    dk[u[k]] += gb * net->pv[u[k]];
    if (net->def->params[u[k]].expr) StgssaRuleChain(net, u[k], gb, dk);
  }
}

/* f = rule r at x with the network's parameter values (the rule reads species and parameters
   only: StgssaEnsembleSetUp refuses others as observables). With P > 0, the total derivative along
   theta_p = log k_q (q = fit_param[p]):
     dval[p] = sum_s df/dx_s xdot[s*ld + p] + k_q df/dk_q      (xdot NULL: the second term alone),
   df/dk_q chained through derived parameters as for rate laws. */
double StgssaRuleTangent(const StgssaNetwork *net, PetscInt r, const int64_t *x, const double *xdot, PetscInt ld, PetscInt P, const PetscInt *fit_param, double *scratch, double *dval)
{
  const StgssaExpr *f  = net->def->rules[r].expr;
  const PetscInt    S  = net->S, np = net->nparams;
  double           *xd = scratch, *gsp = xd + S, *dx = gsp + S, *gpar = dx + S, *dk = gpar + np, v;
  int               ns, npar;
  const int        *sp, *par;

  sp = StgssaExprUsedSpecies(f, &ns);
  for (int k = 0; k < ns; k++) xd[sp[k]] = (double)x[sp[k]];
  if (P <= 0) return StgssaExprEval(f, xd, net->pv, NULL, 0.0);
  v   = StgssaExprEvalGrad(f, xd, net->pv, NULL, 0.0, gsp, gpar, NULL, NULL);
  par = StgssaExprUsedParams(f, &npar);
  for (PetscInt m = 0; m < np; m++) dk[m] = 0.0;
  for (int k = 0; k < npar; k++) {
    dk[par[k]] += gpar[k] * net->pv[par[k]];
    if (net->def->params[par[k]].expr && gpar[k] != 0.0) StgssaRuleChain(net, par[k], gpar[k], dk);
  }
  for (PetscInt p = 0; p < P; p++) {
    double d = dk[fit_param[p]];
    if (xdot)
      for (int k = 0; k < ns; k++) d += gsp[k] * xdot[sp[k] * ld + p];
    dval[p] = d;
  }
  return v;
}
