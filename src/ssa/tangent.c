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
  with fresh E's from counter blocks >= 1 (tangent_impl.h: E_i = -log u, u from 32-bit word i % 4
  of block 1 + i/4, StgssaFastLog: these draws feed only derivatives). Then (ℓ + G)_i = -log T_i and
      pi_i    = softmax_i(-log T_i / lambda)      (StgssaRaceSoftmax: from r_i = T_j / T_i)
      ldot_i  = d_theta log a_i + sum_s (d log a_i / d x_s) xdot_s,
                d log C(x, c)/dx = sum_{q<c} 1/(x - q)
      pidot_i = pi_i (ldot_i - sum_k pi_k ldot_k) / lambda
      xdot   += sum_i nu_i pidot_i                         (forward value: the exact jump)
      taudot  = -tau (sum_i a_i ldot_i) / a_0,  tdot += taudot
  Score function: d log P/d theta_p = sum_n [p = param(j_n)] - sum_n tau_n d a_0/d theta_p
  - (t - t_last) d a_0/d theta_p at any time t (the path up to t). On time-independent networks
  it is summed per reaction instead (score_acc.h: firings, and integrals of a_i and of the laws'
  k d a_i/d k brought up to date when a_i changes), O(dependents) per event whatever P, and
  faster than the per-event d a_0/d theta at every P measured (tests/bench/bench_score), so it is
  the default there (w->score_lazy = 0 keeps the per-event form: tests and benches). With time
  dependence the per-event form stays, O(R + P) per event, at any P.
*/
#include "tangent_impl.h"
#include "score_acc.h"
#include <stgssa/expr.h>
#include <stgssa/rng.h>
#include <stgssa/fastlog.h>
#include <math.h>

const char *const StgssaGradientTypes[] = {"stgs", "score", "fd", "fsp", "auto", "StgssaGradientType", "STGSSA_GRADIENT_", NULL};

/* StgssaDerivativeDraws8 compiled for AVX2 too, chosen at run time (the same IEEE operations lane
   by lane, no contraction to FMA: the same numbers). */
__attribute__((target_clones("avx2", "default"))) static void StgssaDerivativeDraws8Any(uint32_t iteration, uint64_t event0, StgssaPhiloxKey key, PetscInt R, double (*E)[STGSSA_PHILOX_LANES])
{
  StgssaDerivativeDraws8(iteration, event0, key, R, E);
}

PetscErrorCode StgssaTangentRecordCreate(PetscInt nsample, PetscInt nobs, PetscInt R, PetscInt P, StgssaTangentRecord *rec)
{
  PetscFunctionBegin;
  PetscCall(PetscMemzero(rec, sizeof(*rec)));
  rec->nsample = nsample;
  rec->nobs    = nobs;
  rec->R       = R;
  rec->P       = P;
  PetscCall(PetscCalloc3(nsample * nobs, &rec->x, nobs, &rec->wavg, R, &rec->nrx));
  PetscCall(PetscCalloc3(P, &rec->sigmadot, nsample * P, &rec->score_sample, P, &rec->score_end));
  rec->xdot = rec->wavgdot = rec->nrxdot = NULL; /* the tangents: at the first ST-GS (or window) run, StgssaTangentEnsure */
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaTangentRecordDestroy(StgssaTangentRecord *rec)
{
  PetscFunctionBegin;
  PetscCall(PetscFree3(rec->x, rec->wavg, rec->nrx));
  PetscCall(PetscFree3(rec->sigmadot, rec->score_sample, rec->score_end));
  PetscCall(PetscFree3(rec->xdot, rec->wavgdot, rec->nrxdot));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaTangentWorkCreate(const StgssaNetwork *net, PetscInt P, StgssaTangentWork *w)
{
  PetscInt nb = 0;

  PetscFunctionBegin;
  PetscCall(PetscCalloc2(net->S, &w->x, net->R, &w->a));
  PetscCall(PetscCalloc5(P, &w->tdot, net->R, &w->pi, net->R, &w->arrive, P, &w->dtau, P, &w->da0));
  w->Pmax = P;
  w->xdot = w->ldot = w->pidot = NULL; /* O((S + R) P): at the first ST-GS (or window) run, StgssaTangentEnsure */
  PetscCall(StgssaLawEnvCreate(net, &w->env));
  PetscCall(StgssaThinCreate(net, &w->thin));
  for (PetscInt i = 0; i < net->ninputs; i++)
    if (net->def->inputs[i].kind == STGSSA_INPUT_TABLE) nb += net->def->inputs[i].npieces - 1;
  PetscCall(PetscCalloc4(net->nparams + 1, &w->dk, net->S, &w->dx, P + 1, &w->gint, nb + 1, &w->breaks));
  w->tab_net   = NULL;
  w->tab_state = 0;
  w->tab_ncell = w->tab_nr = 0;
  w->tab_rxn   = NULL;
  w->tab_coef = w->tab_cum = w->tab_g0 = NULL;
  w->no_table  = PETSC_FALSE;
  PetscCall(PetscMalloc1(STGSSA_RECIP_N, &w->recip));
  PetscCall(PetscMalloc1(((net->R + 3) / 4) * 4 * STGSSA_PHILOX_LANES, &w->dE));
  w->recip[0] = PETSC_INFINITY;
  for (PetscInt m = 1; m < STGSSA_RECIP_N; m++) w->recip[m] = 1.0 / (double)m;
  w->nbreaks = 0;
  for (PetscInt i = 0; i < net->ninputs; i++) /* breakpoints of the table inputs, ascending, distinct */
    if (net->def->inputs[i].kind == STGSSA_INPUT_TABLE)
      for (int q = 1; q < net->def->inputs[i].npieces; q++) w->breaks[w->nbreaks++] = net->def->inputs[i].times[q];
  PetscCall(PetscSortReal(w->nbreaks, w->breaks));
  PetscCall(PetscSortRemoveDupsReal(&w->nbreaks, w->breaks));
  w->large = NULL, w->smp = NULL, w->nsmp = 0;
  PetscCall(PetscMemzero(&w->acc, sizeof(w->acc)));
  w->acc_net    = NULL;
  w->acc_fit    = NULL;
  w->score_lazy = PETSC_DECIDE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaTangentWorkUseLarge(const StgssaNetwork *net, StgssaTangentWork *w)
{
  PetscFunctionBegin;
  if (w->large || net->any_law || net->any_tdep || net->nevents || net->R < STGSSA_SSA_TREE_MIN_R) PetscFunctionReturn(0);
  PetscCall(PetscNew(&w->large));
  PetscCall(StgssaSSAWorkCreate(net, w->large));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaTangentWorkDestroy(StgssaTangentWork *w)
{
  PetscFunctionBegin;
  PetscCall(PetscFree2(w->x, w->a));
  PetscCall(PetscFree5(w->tdot, w->pi, w->arrive, w->dtau, w->da0));
  PetscCall(PetscFree3(w->xdot, w->ldot, w->pidot));
  PetscCall(StgssaLawEnvDestroy(&w->env));
  PetscCall(StgssaThinDestroy(&w->thin));
  PetscCall(PetscFree4(w->dk, w->dx, w->gint, w->breaks));
  PetscCall(PetscFree4(w->tab_rxn, w->tab_coef, w->tab_cum, w->tab_g0));
  PetscCall(PetscFree(w->recip));
  PetscCall(PetscFree(w->dE));
  if (w->large) PetscCall(StgssaSSAWorkDestroy(w->large));
  PetscCall(PetscFree(w->large));
  PetscCall(PetscFree(w->smp));
  PetscCall(StgssaScoreAccDestroy(&w->acc));
  PetscCall(PetscFree(w->acc_fit));
  PetscFunctionReturn(0);
}

/* Mark model parameter m and, when it is derived, everything it is computed from (recursively). */
static void StgssaMarkParam(const StgssaNetwork *net, int m, PetscInt *mark, PetscInt tag)
{
  if (mark[m] == tag) return;
  mark[m] = tag;
  if (net->def && net->def->params[m].expr) {
    int        n;
    const int *u = StgssaExprUsedParams(net->def->params[m].expr, &n);
    for (int k = 0; k < n; k++) StgssaMarkParam(net, u[k], mark, tag);
  }
}

/* The model parameters whose k_m d a_i / d k_m StgssaPropensityGrad can make nonzero for law
   reaction i (the law's parameters with the derived ones' sources, the parameters its inputs
   read): marked with tag. */
static void StgssaLawParams(const StgssaNetwork *net, PetscInt i, PetscInt *mark, PetscInt tag)
{
  int        n, nin;
  const int *par = StgssaExprUsedParams(net->law[i], &n), *inp = StgssaExprUsedInputs(net->law[i], &nin);
  for (int k = 0; k < n; k++) StgssaMarkParam(net, par[k], mark, tag);
  for (int q = 0; q < nin; q++) {
    const StgssaInputDef *in = &net->def->inputs[inp[q]];
    if (in->kind == STGSSA_INPUT_TABLE) {
      for (int c = 0; c < in->npieces; c++)
        if (in->vparam[c] >= 0) mark[in->vparam[c]] = tag;
    } else {
      const int *u = StgssaExprUsedParams(in->expr, &n);
      for (int k = 0; k < n; k++) mark[u[k]] = tag;
    }
  }
}

PetscErrorCode StgssaScoreAccCreate(const StgssaNetwork *net, PetscInt P, const PetscInt *rp, const PetscInt *fit_param, StgssaScoreAcc *acc)
{
  const PetscInt R = net->R, np = net->nparams;
  PetscInt      *mark, *fit_of, npair = 0;
  PetscInt      *rpc;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(acc, sizeof(*acc)));
  acc->R = R;
  acc->P = P;
  PetscCall(PetscMalloc4(R, &rpc, R, &acc->a, R, &acc->integ, R, &acc->tlast));
  for (PetscInt i = 0; i < R; i++) rpc[i] = net->order1[i] == -3 ? -1 : rp[i]; /* a law reaction's k is 1: its parameters are in the pairs */
  acc->rp = rpc;
  if (!net->any_law) PetscFunctionReturn(0);
  PetscCheck(fit_param || P == 0, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Rate laws need the fitted parameters' model indices");
  PetscCall(PetscMalloc2(np + 1, &mark, np + 1, &fit_of));
  for (PetscInt m = 0; m < np; m++) mark[m] = -1, fit_of[m] = -1;
  for (PetscInt p = 0; p < P; p++) fit_of[fit_param[p]] = p;
  PetscCall(PetscMalloc1(R + 1, &acc->lp_ptr));
  acc->lp_ptr[0] = 0;
  for (PetscInt pass = 0; pass < 2; pass++) { /* count, then fill */
    npair = 0;
    for (PetscInt m = 0; m < np; m++) mark[m] = -1;
    for (PetscInt i = 0; i < R; i++) {
      if (net->order1[i] == -3) StgssaLawParams(net, i, mark, i);
      for (PetscInt m = 0; m < np; m++) /* O(R * nparams) once per network and P */
        if (mark[m] == i) {
          if (pass) acc->lp_m[npair] = m, acc->lp_p[npair] = fit_of[m];
          npair++;
        }
      if (!pass) acc->lp_ptr[i + 1] = npair;
    }
    if (!pass) PetscCall(PetscMalloc4(npair + 1, &acc->lp_m, npair + 1, &acc->lp_p, npair + 1, &acc->lp_g, npair + 1, &acc->lp_int));
  }
  PetscCall(PetscCalloc1(np + 1, &acc->dk));
  PetscCall(PetscFree2(mark, fit_of));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaScoreAccDestroy(StgssaScoreAcc *acc)
{
  PetscInt *rpc = (PetscInt *)acc->rp;

  PetscFunctionBegin;
  PetscCall(PetscFree4(rpc, acc->a, acc->integ, acc->tlast));
  PetscCall(PetscFree(acc->lp_ptr));
  PetscCall(PetscFree4(acc->lp_m, acc->lp_p, acc->lp_g, acc->lp_int));
  PetscCall(PetscFree(acc->dk));
  acc->rp = NULL;
  PetscFunctionReturn(0);
}

/* The work's accumulators sized and mapped for this network and configuration (rebuilt when they
   change; O(R + P) to check). */
PetscErrorCode StgssaTangentWorkAccReady_Private(const StgssaNetwork *net, const StgssaTangentConfig *tc, StgssaTangentWork *w)
{
  PetscBool same = (PetscBool)(w->acc_net == net && w->acc.rp && w->acc.P == tc->P && w->acc.R == net->R);

  PetscFunctionBegin;
  for (PetscInt i = 0; same && i < net->R; i++) same = (PetscBool)(w->acc.rp[i] == (net->order1[i] == -3 ? -1 : tc->rxn_param[i]));
  for (PetscInt p = 0; same && net->any_law && tc->fit_param && p < tc->P; p++) same = (PetscBool)(w->acc_fit[p] == tc->fit_param[p]);
  if (same) PetscFunctionReturn(0);
  PetscCall(StgssaScoreAccDestroy(&w->acc));
  PetscCall(PetscFree(w->acc_fit));
  PetscCall(StgssaScoreAccCreate(net, tc->P, tc->rxn_param, tc->fit_param, &w->acc));
  PetscCall(PetscMalloc1(tc->P + 1, &w->acc_fit));
  for (PetscInt p = 0; p < tc->P; p++) w->acc_fit[p] = tc->fit_param ? tc->fit_param[p] : -1;
  w->acc_net = net;
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

/* log a_j(x) - log a_{rev j}(x + nu_j): entropy produced by firing j at x (laws read env's time). x
   (and env->xd) are restored. */
static inline double StgssaEntropyOfJump(const StgssaNetwork *net, const PetscInt *rev, PetscInt j, int64_t *x, StgssaLawEnv *env, double aj)
{
  double ar;
  for (PetscInt i = net->nu_ptr[j]; i < net->nu_ptr[j + 1]; i++) x[net->nu_species[i]] += net->nu_delta[i];
  if (net->any_law) {
    for (PetscInt i = net->nu_ptr[j]; i < net->nu_ptr[j + 1]; i++) env->xd[net->nu_species[i]] = (double)x[net->nu_species[i]];
    ar = StgssaPropensityAt(net, rev[j], x, env);
  } else ar = StgssaPropensity(net, rev[j], x);
  for (PetscInt i = net->nu_ptr[j]; i < net->nu_ptr[j + 1]; i++) x[net->nu_species[i]] -= net->nu_delta[i];
  if (net->any_law)
    for (PetscInt i = net->nu_ptr[j]; i < net->nu_ptr[j + 1]; i++) env->xd[net->nu_species[i]] = (double)x[net->nu_species[i]];
  return log(aj) - log(ar);
}

/* ldot = d_theta log a_i for a reaction with a rate law at env's state and time (env set with
   grad): (k-derivatives of the fitted parameters + sum_s d a_i/d x_s xdot_s + d a_i/d t tdot_ev)
   / a_i. tdot_ev is the tangent of the time at which the law is read (NULL: a fixed time). */
static void StgssaLawLogTangent(const StgssaNetwork *net, const StgssaTangentConfig *tc, StgssaTangentWork *w, PetscInt i, const int64_t *x, const double *xdot, double ai, const double *tdot_ev, double *ldot)
{
  const PetscInt P = tc->P;
  double         dt = 0.0;
  for (PetscInt m = 0; m < net->nparams; m++) w->dk[m] = 0.0;
  for (PetscInt s = 0; s < net->S; s++) w->dx[s] = 0.0;
  (void)StgssaPropensityGrad(net, i, x, &w->env, w->dk, w->dx, &dt);
  for (PetscInt p = 0; p < P; p++) ldot[p] = w->dk[tc->fit_param[p]] + (tdot_ev ? dt * tdot_ev[p] : 0.0);
  for (PetscInt s = 0; s < net->S; s++)
    if (w->dx[s] != 0.0)
      for (PetscInt p = 0; p < P; p++) ldot[p] += w->dx[s] * xdot[s * P + p];
  for (PetscInt p = 0; p < P; p++) ldot[p] /= ai;
}

static inline void StgssaAnyLogTangent(const StgssaNetwork *net, const StgssaTangentConfig *tc, StgssaTangentWork *w, PetscInt i, const int64_t *x, const double *xdot, double ai, const double *tdot_ev, double *ldot)
{
  if (net->order1[i] == -3) StgssaLawLogTangent(net, tc, w, i, x, xdot, ai, tdot_ev, ldot);
  else StgssaLogPropensityTangent(net, tc, i, x, xdot, ldot);
}

/* g[p] += d a_i / d theta_p at fixed state and time (score function). */
static inline void StgssaRateParamGrad(const StgssaNetwork *net, const StgssaTangentConfig *tc, StgssaTangentWork *w, PetscInt i, const int64_t *x, double ai, double *g)
{
  if (net->order1[i] != -3) {
    if (tc->rxn_param[i] >= 0) g[tc->rxn_param[i]] += ai;
    return;
  }
  for (PetscInt m = 0; m < net->nparams; m++) w->dk[m] = 0.0;
  (void)StgssaPropensityGrad(net, i, x, &w->env, w->dk, NULL, NULL);
  for (PetscInt p = 0; p < tc->P; p++) g[p] += w->dk[tc->fit_param[p]];
}

/* out += weight * sum over time-dependent reactions i of d a_i(x, s)/d theta (+ sum_s d a_i/d x_s
   xdot_s when xdot != NULL): the integrand of the hazard's derivative at time s. */
static void StgssaTdepRate(const StgssaNetwork *net, const StgssaTangentConfig *tc, StgssaTangentWork *w, const int64_t *x, const double *xdot, double s, double weight, double *out)
{
  const PetscInt P = tc->P;
  StgssaLawEnvSetTime(net, &w->env, s, PETSC_TRUE);
  for (PetscInt i = 0; i < net->R; i++) {
    if (!net->tdep[i]) continue;
    for (PetscInt m = 0; m < net->nparams; m++) w->dk[m] = 0.0;
    if (xdot)
      for (PetscInt q = 0; q < net->S; q++) w->dx[q] = 0.0;
    (void)StgssaPropensityGrad(net, i, x, &w->env, w->dk, xdot ? w->dx : NULL, NULL);
    for (PetscInt p = 0; p < P; p++) out[p] += weight * w->dk[tc->fit_param[p]];
    if (xdot)
      for (PetscInt q = 0; q < net->S; q++)
        if (w->dx[q] != 0.0)
          for (PetscInt p = 0; p < P; p++) out[p] += weight * w->dx[q] * xdot[q * P + p];
  }
}

/* out += int_{t0}^{t1} of StgssaTdepRate: 8-point Gauss-Legendre on the pieces of [t0, t1] cut
   at the thinning grid and at the breakpoints of table inputs (the integrand is smooth on each
   piece: 2e-15 relative for the test inputs); during the burn-in (s < 0) laws read time 0, a
   constant. Only derivatives use it: the forward path is exact. Changes env's time. */
/* The score's integrals by table (no xdot: the integrand does not follow the path). When every
   time-dependent reaction has a law that is a rate "constant" of parameters, inputs and t times
   its mass-action count h_i(x), the integrand is sum_i h_i(x) g_ip(s) with g_ip = d L_i/d theta_p
   a function of time alone, and int_{t0}^{t1} is sum_i h_i(x) (G_ip(t1) - G_ip(t0)), G_ip(t) =
   int_0^t g_ip. On each cell of the thinning grid G_ip is the antiderivative of g_ip's Chebyshev
   interpolant at STGSSA_TAB_N = 16 first-kind nodes: exact for polynomials of degree 15, the
   class that the 8-point Gauss-Legendre rule per piece integrates exactly, and built once per
   network (16 law evaluations per cell) instead of 16 per piece of every dwell. Table inputs
   (breakpoints inside cells), laws that read species, and tangents (xdot) keep the per-dwell
   quadrature. Returns whether the table applies. */
static PetscBool StgssaTdepTableReady(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, StgssaTangentWork *w)
{
  const StgssaNetwork *net = cfg->net;
  const PetscInt       P = tc->P, N = STGSSA_TAB_N;
  PetscInt             nr = 0, ncell;
  double               H = cfg->thin_step, f[STGSSA_TAB_N], c[STGSSA_TAB_N], C[STGSSA_TAB_N + 1];
  int64_t             *xr;

  if (w->tab_net == net && w->tab_state) return (PetscBool)(w->tab_state > 0);
  w->tab_net   = net;
  w->tab_state = -1;
  (void)PetscFree4(w->tab_rxn, w->tab_coef, w->tab_cum, w->tab_g0);
  double              *gk; /* [N][P] the integrand at the nodes of a cell */
  double               cosmn[STGSSA_TAB_N * STGSSA_TAB_N]; /* cos(pi m (n + 1/2) / N), the same values as computed in the loop (O(P) table build: once) */
  for (PetscInt m = 0; m < N; m++)
    for (PetscInt n = 0; n < N; n++) cosmn[m * N + n] = PetscCosReal(PETSC_PI * m * (n + 0.5) / N);
  if (w->no_table || w->nbreaks > 0 || P == 0 || !(H > 0) || !(cfg->tfinal > 0)) return PETSC_FALSE;
  for (PetscInt i = 0; i < net->R; i++) {
    if (!net->tdep[i]) continue;
    if (net->order1[i] != -3 || net->law_full[i]) return PETSC_FALSE;
    nr++;
  }
  ncell = (PetscInt)PetscCeilReal(cfg->tfinal / H);
  if (nr == 0 || ncell < 1 || ncell > 1000000) return PETSC_FALSE;
  if ((double)nr * ncell * P * (N + 1) > 16777216.0) return PETSC_FALSE; /* over 128 MB (e.g. hundreds of parameters and time-dependent reactions): the per-dwell quadrature */
  if (PetscMalloc4(nr, &w->tab_rxn, (size_t)nr * ncell * P * (N + 1), &w->tab_coef, (size_t)nr * (ncell + 1) * P, &w->tab_cum, (size_t)nr * P, &w->tab_g0)) return PETSC_FALSE;
  if (PetscCalloc1(net->S, &xr)) return PETSC_FALSE;
  if (PetscMalloc1((size_t)N * P, &gk)) {
    (void)PetscFree(xr);
    return PETSC_FALSE;
  }
  w->tab_nr    = nr;
  w->tab_ncell = ncell;
  w->tab_H     = H;
  nr           = 0;
  for (PetscInt i = 0; i < net->R; i++)
    if (net->tdep[i]) w->tab_rxn[nr++] = i;
  for (PetscInt r = 0; r < w->tab_nr; r++) {
    const PetscInt i = w->tab_rxn[r];
    double         h;
    for (PetscInt q = net->react_ptr[i]; q < net->react_ptr[i + 1]; q++) xr[net->react_species[q]] = net->react_coef[q]; /* h = prod C(r, r) = 1 */
    h = StgssaPropensity(net, i, xr);
    /* g_ip(s) = (k d a_i/d k at xr) / h, through the inputs too (as StgssaTdepRate) */
#define STGSSA_TAB_G(s_, out_) \
  do { \
    StgssaLawEnvSetTime(net, &w->env, (s_), PETSC_TRUE); \
    for (PetscInt m = 0; m < net->nparams; m++) w->dk[m] = 0.0; \
    (void)StgssaPropensityGrad(net, i, xr, &w->env, w->dk, NULL, NULL); \
    for (PetscInt p = 0; p < P; p++) (out_)[p] = w->dk[tc->fit_param[p]] / h; \
  } while (0)
    STGSSA_TAB_G(0.0, &w->tab_g0[r * P]);
    for (PetscInt p = 0; p < P; p++) w->tab_cum[(r * (ncell + 1)) * P + p] = 0.0;
    for (PetscInt k = 0; k < ncell; k++) {
      for (PetscInt n = 0; n < N; n++) {
        const double tau = PetscCosReal(PETSC_PI * (n + 0.5) / N);
        STGSSA_TAB_G(k * H + 0.5 * H * (1.0 + tau), &gk[n * P]);
      }
      for (PetscInt p = 0; p < P; p++) {
        double *A = &w->tab_coef[((r * ncell + k) * P + p) * (N + 1)], end = 0.0;
        for (PetscInt n = 0; n < N; n++) f[n] = gk[n * P + p];
        /* Chebyshev coefficients: g(tau) ~ sum_n c_n T_n(tau) */
        for (PetscInt m = 0; m < N; m++) {
          double sum = 0.0;
          for (PetscInt n = 0; n < N; n++) sum += f[n] * cosmn[m * N + n];
          c[m] = (m ? 2.0 : 1.0) * sum / N;
        }
        /* antiderivative: int T_0 = T_1, int T_1 = T_2/4 + const, int T_m = T_{m+1}/(2(m+1)) - T_{m-1}/(2(m-1)) */
        for (PetscInt m = 0; m <= N; m++) C[m] = 0.0;
        C[1] += c[0];
        C[2] += 0.25 * c[1];
        for (PetscInt m = 2; m < N; m++) {
          C[m + 1] += c[m] / (2.0 * (m + 1));
          C[m - 1] -= c[m] / (2.0 * (m - 1));
        }
        for (PetscInt m = 1; m <= N; m++) C[0] -= (m % 2 ? -1.0 : 1.0) * C[m]; /* G(-1) = 0 */
        for (PetscInt m = 0; m <= N; m++) A[m] = 0.5 * H * C[m];                /* d s = H/2 d tau */
        for (PetscInt m = 0; m <= N; m++) end += A[m];                            /* T_m(1) = 1 */
        w->tab_cum[(r * (ncell + 1) + k + 1) * P + p] = w->tab_cum[(r * (ncell + 1) + k) * P + p] + end;
      }
    }
#undef STGSSA_TAB_G
    for (PetscInt q = net->react_ptr[i]; q < net->react_ptr[i + 1]; q++) xr[net->react_species[q]] = 0;
  }
  (void)PetscFree(xr);
  (void)PetscFree(gk);
  w->tab_state = 1;
  return PETSC_TRUE;
}

/* G_rp(t) from the table, 0 <= t (beyond the last cell: its series, for t up to tfinal). */
static inline double StgssaTdepTableG(const StgssaTangentWork *w, PetscInt r, PetscInt P, PetscInt p, double t)
{
  const PetscInt N = STGSSA_TAB_N, nc = w->tab_ncell;
  PetscInt       k = (PetscInt)(t / w->tab_H);
  const double  *A;
  double         tau, b0 = 0.0, b1 = 0.0, b2 = 0.0;

  if (k >= nc) k = nc - 1;
  if (k < 0) k = 0;
  tau = 2.0 * (t - k * w->tab_H) / w->tab_H - 1.0;
  if (tau > 1.0) tau = 1.0;
  if (tau < -1.0) tau = -1.0;
  A = &w->tab_coef[((r * nc + k) * P + p) * (N + 1)];
  for (PetscInt m = N; m >= 1; m--) { /* Clenshaw */
    b0 = A[m] + 2.0 * tau * b1 - b2;
    b2 = b1;
    b1 = b0;
  }
  return w->tab_cum[(r * (nc + 1) + k) * P + p] + A[0] + tau * b1 - b2;
}

static void StgssaTdepIntegral(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, StgssaTangentWork *w, const int64_t *x, const double *xdot, double t0, double t1, double *out)
{
  static const double gx[4] = {0.18343464249564980, 0.52553240991632899, 0.79666647741362674, 0.96028985649753623};
  static const double gw[4] = {0.36268378337836198, 0.31370664587788729, 0.22238103445337447, 0.10122853629037626};
  const StgssaNetwork *net  = cfg->net;
  const double         H    = cfg->thin_step;
  PetscInt             kb   = 0;
  double               a;

  if (t1 <= t0) return;
  if (!xdot && StgssaTdepTableReady(cfg, tc, w)) {
    const PetscInt P = tc->P;
    for (PetscInt r = 0; r < w->tab_nr; r++) {
      const PetscInt i = w->tab_rxn[r];
      const double   h = StgssaPropensity(net, i, x); /* the count h_i(x): 0 without the reactants */
      double         a0 = t0;
      if (h == 0.0) continue;
      if (a0 < 0.0) { /* the burn-in: inputs of t = 0, a constant */
        const double len = (t1 < 0.0 ? t1 : 0.0) - a0;
        for (PetscInt p = 0; p < P; p++) out[p] += h * len * w->tab_g0[r * P + p];
        if (t1 <= 0.0) continue;
        a0 = 0.0;
      }
      for (PetscInt p = 0; p < P; p++) out[p] += h * (StgssaTdepTableG(w, r, P, p, t1) - StgssaTdepTableG(w, r, P, p, a0));
    }
    return;
  }
  if (t0 < 0.0) {
    StgssaTdepRate(net, tc, w, x, xdot, 0.0, (t1 < 0.0 ? t1 : 0.0) - t0, out);
    if (t1 <= 0.0) return;
    t0 = 0.0;
  }
  for (a = t0; a < t1;) {
    double b = (floor(a / H) + 1.0) * H, c, h;
    if (b > t1 || b <= a) b = t1;
    while (kb < w->nbreaks && w->breaks[kb] <= a) kb++;
    if (kb < w->nbreaks && w->breaks[kb] < b) b = w->breaks[kb];
    c = 0.5 * (a + b);
    h = 0.5 * (b - a);
    for (int q = 0; q < 4; q++) {
      StgssaTdepRate(net, tc, w, x, xdot, c - h * gx[q], h * gw[q], out);
      StgssaTdepRate(net, tc, w, x, xdot, c + h * gx[q], h * gw[q], out);
    }
    a = b;
  }
}

/* a_0 at env's time for state x: the time-dependent propensities evaluated, the others from b. */
static PetscErrorCode StgssaActualA0(const StgssaNetwork *net, const int64_t *x, StgssaLawEnv *env, double t, const double *b, double *a0)
{
  double sum = 0.0;

  PetscFunctionBegin;
  StgssaLawEnvSetTime(net, env, StgssaLawTime(t), PETSC_FALSE);
  for (PetscInt i = 0; i < net->R; i++) {
    double ai = b[i];
    if (net->tdep[i]) {
      ai = StgssaPropensityAt(net, i, x, env);
      PetscCall(StgssaPropensityCheck(net, i, x, t, ai));
    }
    sum += ai;
  }
  *a0 = sum;
  PetscFunctionReturn(0);
}

/* ST-GS tangents of a mass-action network without time dependence, after StgssaRaceSoftmax (w->pi):
   ldot, pidot and dtau, operation for operation the general loop below and stgs_small.c (same
   values in the same order); P is a constant where it is inlined (StgssaStgsMassActionP). */
static inline __attribute__((always_inline)) void StgssaStgsMassAction(const StgssaNetwork *net, const StgssaTangentConfig *tc, StgssaTangentWork *w, const PetscInt P, double invlam, const int64_t *restrict x, const double *restrict a, double a0, double tau)
{
  const PetscInt           R = net->R;
  const PetscInt *restrict rxn_param = tc->rxn_param, *restrict react_ptr = net->react_ptr, *restrict rs = net->react_species, *restrict rc = net->react_coef;
  const double *restrict   xdot = w->xdot, *restrict pi = w->pi, *restrict recip = w->recip;
  double *restrict         ldot = w->ldot, *restrict pidot = w->pidot, *restrict dtau = w->dtau;
  double                   mean[64], adot[64];

  for (PetscInt p = 0; p < P; p++) mean[p] = adot[p] = 0.0;
  for (PetscInt i = 0; i < R; i++) {
    if (a[i] <= 0.0) continue;
    /* StgssaLogPropensityTangent */
    double *restrict l = &ldot[i * P];
    for (PetscInt p = 0; p < P; p++) l[p] = 0.0;
    if (rxn_param[i] >= 0) l[rxn_param[i]] = 1.0;
    for (PetscInt t = react_ptr[i]; t < react_ptr[i + 1]; t++) {
      const PetscInt         s = rs[t], c = rc[t];
      const double *restrict xs = &xdot[s * P];
      double                 g  = 0.0;
      for (PetscInt q = 0; q < c; q++) g += StgssaRecip(recip, x[s] - q);
      for (PetscInt p = 0; p < P; p++) l[p] += g * xs[p];
    }
    for (PetscInt p = 0; p < P; p++) {
      adot[p] += a[i] * l[p];
      mean[p] += pi[i] * l[p];
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
  const double c = -tau / a0; /* taudot = -tau (sum_i a_i ldot_i) / a_0 */
  for (PetscInt p = 0; p < P; p++) dtau[p] = c * adot[p];
}

/* xdot += sum_i nu_i pidot_i, nrxdot += pidot (counted events), tdot += dtau; a = the
   propensities before the jump. */
static inline __attribute__((always_inline)) void StgssaStgsJump(const StgssaNetwork *net, StgssaTangentWork *w, StgssaTangentRecord *rec, const PetscInt P, const double *restrict a, PetscBool counted)
{
  const PetscInt           R = net->R;
  const PetscInt *restrict nu_ptr = net->nu_ptr, *restrict nu_species = net->nu_species;
  const double *restrict   pidot = w->pidot, *restrict dtau = w->dtau;
  double *restrict         xd = w->xdot, *restrict nd = rec->nrxdot, *restrict tdot = w->tdot;
  for (PetscInt i = 0; i < R; i++) {
    if (a[i] <= 0.0) continue;
    for (PetscInt u = nu_ptr[i]; u < nu_ptr[i + 1]; u++) {
      const double   delta = (double)net->nu_delta[u];
      const PetscInt s0    = nu_species[u] * P;
      for (PetscInt p = 0; p < P; p++) xd[s0 + p] += delta * pidot[i * P + p];
    }
    if (counted)
      for (PetscInt p = 0; p < P; p++) nd[i * P + p] += pidot[i * P + p];
  }
  for (PetscInt p = 0; p < P; p++) tdot[p] += dtau[p];
}

/* The two above with the common numbers of parameters as constants. */
#define STGSSA_P_CASES(CALL) \
  switch (P) { \
  case 1: CALL(1); break; \
  case 2: CALL(2); break; \
  case 3: CALL(3); break; \
  case 4: CALL(4); break; \
  case 5: CALL(5); break; \
  case 6: CALL(6); break; \
  case 8: CALL(8); break; \
  default: CALL(P); break; \
  }
static void StgssaStgsMassActionP(const StgssaNetwork *net, const StgssaTangentConfig *tc, StgssaTangentWork *w, PetscInt P, double invlam, const int64_t *x, const double *a, double a0, double tau)
{
#define STGSSA_CALL(PP) StgssaStgsMassAction(net, tc, w, PP, invlam, x, a, a0, tau)
  STGSSA_P_CASES(STGSSA_CALL)
#undef STGSSA_CALL
}
static void StgssaStgsJumpP(const StgssaNetwork *net, StgssaTangentWork *w, StgssaTangentRecord *rec, PetscInt P, const double *a, PetscBool counted)
{
#define STGSSA_CALL(PP) StgssaStgsJump(net, w, rec, PP, a, counted)
  STGSSA_P_CASES(STGSSA_CALL)
#undef STGSSA_CALL
}

/* The O((S + R) P) tangent arrays of the work and the record, allocated at the first run that
   needs them (ST-GS, or a window: its tangent reads xdot), so that the score's memory per
   trajectory stays O(R + P + observables). */
PetscErrorCode StgssaTangentEnsure_Private(const StgssaNetwork *net, const StgssaTangentConfig *tc, StgssaTangentWork *w, StgssaTangentRecord *rec)
{
  PetscFunctionBegin;
  const PetscBool tangents = (PetscBool)(tc->type == STGSSA_GRADIENT_STGS || tc->window);
  /* expression observables under the score keep k df/dk in the record's xdot (StgssaRecordSample) */
  const PetscBool rule_score = (PetscBool)(tc->obs_rule && tc->type == STGSSA_GRADIENT_SCORE);
  if (!(tangents || rule_score) || tc->P == 0) PetscFunctionReturn(0);
  PetscCheck(tc->P <= w->Pmax, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "Tangent work created for %" PetscInt_FMT " parameters, run with %" PetscInt_FMT, w->Pmax, tc->P);
  if (tangents && !w->xdot) PetscCall(PetscCalloc3(net->S * w->Pmax, &w->xdot, net->R * w->Pmax, &w->ldot, net->R * w->Pmax, &w->pidot));
  if (!rec->nrxdot) PetscCall(PetscCalloc3(rec->nsample * rec->nobs * rec->P, &rec->xdot, rec->nobs * rec->P, &rec->wavgdot, rec->R * rec->P, &rec->nrxdot));
  PetscFunctionReturn(0);
}

/* The record is sized for this configuration. */
static PetscErrorCode StgssaTangentRecordCheck(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, const StgssaTangentRecord *rec)
{
  PetscFunctionBegin;
  PetscCheck(rec->P == tc->P && rec->nobs == tc->nobs && rec->nsample == cfg->nsample && rec->R == cfg->net->R, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "Record sized for another configuration");
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaSSARunTangent(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, uint64_t traj, StgssaTangentWork *w, StgssaTangentRecord *rec, StgssaTrajInfo *info)
{
  const StgssaNetwork  *net = cfg->net;
  const PetscInt        S = net->S, R = net->R, P = tc->P, ns = cfg->nsample, no = tc->nobs;
  const PetscBool       stgs = (PetscBool)(tc->type == STGSSA_GRADIENT_STGS), score = (PetscBool)(tc->type == STGSSA_GRADIENT_SCORE);
  const PetscBool       law = net->any_law, tdep = net->any_tdep;
  const StgssaPhiloxKey key = StgssaRngKey(cfg->seed, traj);
  int64_t              *x = w->x;
  double               *a = tdep ? w->thin.at : w->a; /* propensities at the next event time */
  double               *xdot = w->xdot, *tdot = w->tdot, *S_ = rec->score_end, t = cfg->t0, a0, a0start = 0.0;
  int64_t               n = 0, nc = 0, prop = 0, slot = 0; /* events, events after the burn-in, thinning proposals */
  PetscInt              next = 0;
  double                u1b[STGSSA_PHILOX_LANES], e2b[STGSSA_PHILOX_LANES];          /* forward draws of the next events */
  double(*dE)[STGSSA_PHILOX_LANES] = (double(*)[STGSSA_PHILOX_LANES])w->dE; /* derivative draws E of the next events */
  int64_t dbase                   = -1;                                     /* counter slot of dE's first lane, -1: empty */
  double                tdot_next[64];
  const double          invlam = stgs ? 1.0 / tc->lambda : 0.0; /* ST-GS temperature */
  /* score on a time-independent network: per-reaction accumulators, O(dependents) per event
     (score_acc.h); with time dependence the a_0 derivative per event, O(R + P) */
  const PetscBool       lazy = (PetscBool)(score && !tdep && w->score_lazy != 0);
  double                tev = StgssaEventsFirst(net, cfg->t0); /* next scheduled event (+inf: none) */
  uint64_t              ndraw = 0;                            /* binomial draws of the events so far */
  StgssaSSAConfig       ecfg = *cfg;                          /* thinning: proposals stop at tev */

  PetscFunctionBegin;
  PetscCheck(traj <= UINT32_MAX, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Trajectory index %" PRIu64 " exceeds 2^32-1", traj);
  PetscCall(StgssaTangentRecordCheck(cfg, tc, rec));
  PetscCall(StgssaTangentEnsure_Private(cfg->net, tc, w, rec));
  xdot = w->xdot; /* NULL unless ST-GS or a window needs it */
  if (w->large) { /* large networks: score and values by rssa (where they apply) */
    PetscBool done;
    PetscCall(StgssaSSARunTangentLarge(cfg, tc, traj, w, rec, info, &done));
    if (done) PetscFunctionReturn(0);
  }
  if (StgssaStgsSmallApplies(net, tc)) PetscFunctionReturn(StgssaSSARunStgsSmall_Private(cfg, tc, 1, &traj, w, rec, info)); /* the same numbers, faster (it sets what it records) */
  PetscCheck(!stgs || P <= 64, PETSC_COMM_SELF, PETSC_ERR_SUP, "ST-GS tangents (forward mode, O(R*P) work per event) support at most 64 parameters, got %" PetscInt_FMT "; the score function takes any number", P);
  PetscCheck(!law || tc->fit_param || P == 0, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Rate laws need StgssaTangentConfig.fit_param");
  if (net->nevents) { /* scheduled events (issue 18) */
    PetscCheck(tc->fit_param || P == 0, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "Scheduled events need StgssaTangentConfig.fit_param");
    PetscCheck(!score || !StgssaEventsReadFit(net, P, tc->fit_param), PETSC_COMM_SELF, PETSC_ERR_SUP, "%s: an event's value reads a fitted parameter; the score estimator cannot differentiate a deterministic jump of the state (its path law has no density in theta): use -stgssa_gradient stgs or fd, or do not fit that parameter", net->def->filename);
    PetscCheck(!tc->window && !tc->rev, PETSC_COMM_SELF, PETSC_ERR_SUP, "%s: scheduled events are not supported with time-average windows or entropy production", net->def->filename);
  }
  if (tc->rev)
    for (PetscInt j = 0; j < R; j++) PetscCheck(tc->rev[j] >= 0 && tc->rev[j] < R, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Entropy production needs a reverse for every reaction; reaction %" PetscInt_FMT " has none", j);
  for (PetscInt s = 0; s < S; s++) x[s] = net->x0[s];
  if (stgs || tc->window) { /* the tangents (zero for the other estimators: the window's tangent reads them) */
    PetscCall(PetscArrayzero(xdot, S * P));
    PetscCall(PetscArrayzero(tdot, P));
    PetscCall(PetscArrayzero(w->dtau, P));
    PetscCall(PetscArrayzero(rec->wavgdot, no * P));
  }
  if (stgs) { /* O(R P): ST-GS only (the score leaves them as they were, as rec->xdot) */
    PetscCall(PetscArrayzero(rec->nrxdot, R * P));
    PetscCall(PetscArrayzero(rec->sigmadot, P));
  }
  PetscCall(PetscArrayzero(rec->wavg, no));
  PetscCall(PetscArrayzero(rec->nrx, R));
  PetscCall(PetscArrayzero(S_, P));
  rec->sigma = 0.0;
  info->end  = STGSSA_TRAJ_TFINAL;
  if (tdep) {
    StgssaLawEnvSetState(net, &w->env, x);
    w->thin.rbase = -1;
    PetscCall(StgssaThinCell(cfg, &w->thin, x, &w->env, t));
    PetscCall(StgssaActualA0(net, x, &w->env, t, w->thin.b, &a0start));
  } else if (law) {
    StgssaLawEnvSetState(net, &w->env, x);
    StgssaLawEnvSetTime(net, &w->env, 0.0, PETSC_TRUE); /* constant inputs, with their derivatives */
    PetscCall(StgssaPropensitiesAllAt(net, x, &w->env, t, a, &a0));
  } else a0 = StgssaPropensitiesAll(net, x, a);
  if (lazy) {
    PetscCall(StgssaTangentWorkAccReady_Private(net, tc, w));
    w->acc.S = S_;
    StgssaScoreAccStart(net, &w->acc, t, a, x, &w->env);
  }
  for (;;) {
    double    tnext, tau = 0.0;
    PetscInt  j;
    PetscBool counted;
    int       lane;
    if (tdep) { /* next accepted proposal (thinning.c); a = propensities at tnext */
      PetscBool capped;
      ecfg.tfinal = PetscMin(cfg->tfinal, tev);
      PetscCall(StgssaThinNext(&ecfg, key, &w->thin, x, &w->env, t, &prop, &slot, &tnext, &j, &a0, &capped));
      if (capped) {
        info->end = STGSSA_TRAJ_CAPPED;
        break;
      }
      if (j < 0) tnext = PETSC_INFINITY;
      else tau = tnext - t;
      lane = (int)(slot % STGSSA_PHILOX_LANES);
    } else {
      if (a0 <= 0.0 && !(tev <= cfg->tfinal)) {
        info->end = STGSSA_TRAJ_ABSORBED;
        if (lazy) StgssaScoreAccAt(&w->acc, t, S_); /* the path up to its last event */
        break;
      }
      if (n >= cfg->max_events) {
        info->end = STGSSA_TRAJ_CAPPED;
        if (lazy) StgssaScoreAccAt(&w->acc, t, S_);
        break;
      }
      slot = n;
      lane = (int)(n % STGSSA_PHILOX_LANES);
      if (lane == 0) StgssaForwardDraws8(cfg->iteration, (uint64_t)n, key, u1b, e2b);
      tau   = a0 > 0.0 ? e2b[lane] / a0 : PETSC_INFINITY; /* -log(U_2) / a_0 */
      tnext = t + tau;
      j     = tnext > cfg->tfinal ? -1 : StgssaSelectReaction(R, a, u1b[lane] * a0);
    }
    /* a scheduled event before the next reaction (thinning: no proposal accepted before it) */
    const PetscBool evnow = (PetscBool)(tev <= cfg->tfinal && (tdep ? j < 0 : tev <= tnext));
    if (score && !lazy) { /* d a_0 / d theta_p = sum_i d a_i / d theta_p; with time dependence: of the others */
      /* with thinning, a (thin.at) is refreshed only when a proposal is accepted: when none is
         (j < 0, the last dwell, or a path with no event at all) it still holds the propensities
         before the last jump, or of another path. The time-independent entries of thin.b are
         a_i(x) at the current state always (kept by every jump and every cell). */
      const double *acur = tdep ? w->thin.b : a;
      for (PetscInt p = 0; p < P; p++) w->da0[p] = 0.0;
      if (!law) {
        for (PetscInt i = 0; i < R; i++)
          if (tc->rxn_param[i] >= 0) w->da0[tc->rxn_param[i]] += acur[i];
      } else
        for (PetscInt i = 0; i < R; i++)
          if (!net->tdep[i] && acur[i] > 0.0) StgssaRateParamGrad(net, tc, w, i, x, acur[i], w->da0);
    }
    /* samples in [t_n, t_{n+1}) see x_n and its tangent; samples at an event time, the state before it */
    while (next < ns && (evnow ? cfg->sample_times[next] <= tev : cfg->sample_times[next] < tnext)) {
      StgssaRecordSample(net, tc, rec, next, x, xdot, P, stgs);
      if (lazy) StgssaScoreAccAt(&w->acc, cfg->sample_times[next], &rec->score_sample[next * P]);
      else if (score) {
        for (PetscInt p = 0; p < P; p++) rec->score_sample[next * P + p] = S_[p] - (cfg->sample_times[next] - t) * w->da0[p];
        if (tdep) { /* minus the integral of the time-dependent part up to the sample time */
          for (PetscInt p = 0; p < P; p++) w->gint[p] = 0.0;
          StgssaTdepIntegral(cfg, tc, w, x, NULL, t, cfg->sample_times[next], w->gint);
          for (PetscInt p = 0; p < P; p++) rec->score_sample[next * P + p] -= w->gint[p];
        }
      }
      next++;
    }
    if (evnow) { /* close the dwell at the event time, apply the events, restart from the new state */
      if (score && !lazy) {
        for (PetscInt p = 0; p < P; p++) S_[p] -= (tev - t) * w->da0[p];
        if (tdep) {
          for (PetscInt p = 0; p < P; p++) w->gint[p] = 0.0;
          StgssaTdepIntegral(cfg, tc, w, x, NULL, t, tev, w->gint);
          for (PetscInt p = 0; p < P; p++) S_[p] -= w->gint[p];
        }
      }
      /* the binomial draws and clamps do not depend on theta: the score gets no term; ST-GS
         tangents pass through the mean map (events.c) */
      PetscCall(StgssaEventsApply(cfg, key, tev, x, &ndraw, stgs ? xdot : NULL, P, tc->fit_param, w->dk));
      if (stgs) {
        for (PetscInt m = 0; m < net->nparams; m++) w->dk[m] = 0.0; /* zero between uses */
        PetscCall(PetscArrayzero(tdot, P)); /* the event time does not move with theta */
      }
      if (tdep || law) StgssaLawEnvSetState(net, &w->env, x);
      if (tdep) {
        PetscCall(StgssaThinCell(cfg, &w->thin, x, &w->env, tev));
        PetscCall(StgssaActualA0(net, x, &w->env, tev, w->thin.b, &a0start));
      } else if (law) PetscCall(StgssaPropensitiesAllAt(net, x, &w->env, tev, a, &a0));
      else a0 = StgssaPropensitiesAll(net, x, a);
      if (lazy)
        for (PetscInt i = 0; i < R; i++) StgssaScoreAccChange(net, &w->acc, i, a[i], tev, x, &w->env);
      t   = tev;
      tev = StgssaModelDefNextEventTime(net->def, tev);
      if (!tdep) n++; /* this forward slot's draws are dropped */
      continue;
    }
    if (j < 0) { /* the next event is beyond tfinal: close the last dwell */
      if (lazy) StgssaScoreAccAt(&w->acc, cfg->tfinal, S_);
      else if (score) {
        for (PetscInt p = 0; p < P; p++) S_[p] -= (cfg->tfinal - t) * w->da0[p];
        if (tdep) {
          for (PetscInt p = 0; p < P; p++) w->gint[p] = 0.0;
          StgssaTdepIntegral(cfg, tc, w, x, NULL, t, cfg->tfinal, w->gint);
          for (PetscInt p = 0; p < P; p++) S_[p] -= w->gint[p];
        }
      }
      if (tc->window) StgssaWindowDwell(net, tc, rec, x, xdot, P, t, cfg->tfinal, tdot, w->dtau, PETSC_FALSE);
      break;
    }
    if (tdep && stgs) {
      /* event time tangent from the hazard equation int_{t_n}^{t_{n+1}} a_0(x_n, s) ds = E_n:
           a_0(x_n, t_{n+1}) tdot_{n+1} = a_0(x_n, t_n) tdot_n - int_{t_n}^{t_{n+1}} adot_0(s) ds,
         adot_0 = sum_i [d_theta a_i + sum_s d a_i/d x_s xdot_s] (the time-independent reactions
         contribute tau a_i ldot_i) */
      for (PetscInt p = 0; p < P; p++) w->gint[p] = 0.0;
      for (PetscInt i = 0; i < R; i++) {
        if (net->tdep[i] || a[i] <= 0.0) continue;
        StgssaAnyLogTangent(net, tc, w, i, x, xdot, a[i], NULL, &w->ldot[i * P]);
        for (PetscInt p = 0; p < P; p++) w->gint[p] += tau * a[i] * w->ldot[i * P + p];
      }
      StgssaTdepIntegral(cfg, tc, w, x, xdot, t, tnext, w->gint);
      for (PetscInt p = 0; p < P; p++) {
        tdot_next[p] = (a0start * tdot[p] - w->gint[p]) / a0;
        w->dtau[p]   = tdot_next[p] - tdot[p];
      }
    }
    if (tdep) StgssaLawEnvSetTime(net, &w->env, StgssaLawTime(tnext), PETSC_TRUE); /* laws at the event time, with derivatives */
    if (stgs) {
      /* complete the exponential race given the winner j (blocks >= 1 of this event's counter slot) */
      if (dbase != slot - lane) {
        StgssaDerivativeDraws8Any(cfg->iteration, (uint64_t)(slot - lane), key, R, dE);
        dbase = slot - lane;
      }
      for (PetscInt i = 0; i < R; i++) w->arrive[i] = dE[i][lane];
      StgssaRaceSoftmax(R, j, a, w->arrive, 1, a0, tc->lambda, w->pi);
      if (!law && !tdep) StgssaStgsMassActionP(net, tc, w, P, invlam, x, a, a0, tau);
      else {
        const double *restrict pi = w->pi;
        double *restrict       ldot = w->ldot, *restrict pidot = w->pidot, *restrict dtau = w->dtau;
        double                 mean[64], adot[64];
        for (PetscInt p = 0; p < P; p++) mean[p] = adot[p] = 0.0;
        for (PetscInt i = 0; i < R; i++) {
          if (a[i] <= 0.0) continue;
          if (!tdep || net->tdep[i]) StgssaAnyLogTangent(net, tc, w, i, x, xdot, a[i], tdep ? tdot_next : NULL, &ldot[i * P]);
          /* (time-independent reactions of a time-dependent network: ldot computed above) */
          for (PetscInt p = 0; p < P; p++) {
            adot[p] += a[i] * ldot[i * P + p];
            mean[p] += pi[i] * ldot[i * P + p];
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
        if (!tdep) {
          const double c = -tau / a0; /* taudot = -tau (sum_i a_i ldot_i) / a_0 */
          for (PetscInt p = 0; p < P; p++) dtau[p] = c * adot[p];
        }
      }
    }
    if (tc->window) StgssaWindowDwell(net, tc, rec, x, xdot, P, t, tnext, tdot, w->dtau, PETSC_TRUE);
    counted = (PetscBool)(tnext > tc->count_from); /* path observables: only jumps after the burn-in */
    if (counted) nc++;
    if (tc->rev && counted) { /* entropy production: value, and its straight-through tangent sum_i pidot_i f_i + fdot_j */
      const double fj = StgssaEntropyOfJump(net, tc->rev, j, x, &w->env, a[j]);
      rec->sigma += fj;
      if (stgs)
        for (PetscInt i = 0; i < R; i++)
          if (a[i] > 0.0) {
            const double fi = i == j ? fj : StgssaEntropyOfJump(net, tc->rev, i, x, &w->env, a[i]);
            for (PetscInt p = 0; p < P; p++) rec->sigmadot[p] += w->pidot[i * P + p] * fi;
          }
    }
    if (lazy) StgssaScoreAccFire(&w->acc, j); /* + d log a_j / d theta (before the jump) */
    else if (score) {
      for (PetscInt p = 0; p < P; p++) S_[p] -= tau * w->da0[p];
      if (tdep) {
        for (PetscInt p = 0; p < P; p++) w->gint[p] = 0.0;
        StgssaTdepIntegral(cfg, tc, w, x, NULL, t, tnext, w->gint);
        for (PetscInt p = 0; p < P; p++) S_[p] -= w->gint[p];
        StgssaLawEnvSetTime(net, &w->env, StgssaLawTime(tnext), PETSC_TRUE);
      }
      if (!law) {
        if (tc->rxn_param[j] >= 0) S_[tc->rxn_param[j]] += 1.0;
      } else { /* + d log a_j / d theta at the event */
        for (PetscInt p = 0; p < P; p++) w->gint[p] = 0.0;
        StgssaRateParamGrad(net, tc, w, j, x, a[j], w->gint);
        for (PetscInt p = 0; p < P; p++) S_[p] += w->gint[p] / a[j];
      }
    }
    /* the exact jump; tangents move by the relaxed jump */
    PetscCall(StgssaJump(net, j, x, tnext));
    if (law)
      for (PetscInt i = net->nu_ptr[j]; i < net->nu_ptr[j + 1]; i++) w->env.xd[net->nu_species[i]] = (double)x[net->nu_species[i]];
    if (counted) rec->nrx[j] += 1.0;
    if (stgs) {
      if (tc->rev && counted) { /* fdot_j = d/dtheta [log a_j(x_n) - log a_rev(x_n + nu_j)] along the tangent xdot_n */
        double lrev[64];
        if (!law) StgssaLogPropensityTangent(net, tc, tc->rev[j], x, xdot, lrev);
        else StgssaAnyLogTangent(net, tc, w, tc->rev[j], x, xdot, StgssaPropensityAt(net, tc->rev[j], x, &w->env), tdep ? tdot_next : NULL, lrev);
        for (PetscInt p = 0; p < P; p++) rec->sigmadot[p] += w->ldot[j * P + p] - lrev[p];
      }
      StgssaStgsJumpP(net, w, rec, P, a, counted); /* xdot += sum_i nu_i pidot_i, nrxdot, tdot */
    }
    if (tc->locate) PetscCall(StgssaTangentCheckEvent(cfg, tc, w, rec, n, j, x, a, tnext));
    if (tdep) {
      PetscCall(StgssaUpdateDependents(cfg, j, x, &w->env, tnext, w->thin.b, &w->thin, &a0));
      PetscCall(StgssaActualA0(net, x, &w->env, tnext, w->thin.b, &a0start));
    } else if (law) PetscCall(StgssaUpdateDependents(cfg, j, x, &w->env, tnext, a, NULL, &a0));
    else {
      for (PetscInt d = net->dep_ptr[j]; d < net->dep_ptr[j + 1]; d++) a[net->dep[d]] = StgssaPropensity(net, net->dep[d], x);
      a0 = 0.0;
      for (PetscInt i = 0; i < R; i++) a0 += a[i];
    }
    if (lazy) /* the integrals of the changed propensities brought up to tnext */
      for (PetscInt d = net->dep_ptr[j]; d < net->dep_ptr[j + 1]; d++) StgssaScoreAccChange(net, &w->acc, net->dep[d], a[net->dep[d]], tnext, x, &w->env);
    t = tnext;
    n++;
  }
  if (info->end != STGSSA_TRAJ_TFINAL) { /* absorbed or capped: the state holds to tfinal */
    if (tc->window) StgssaWindowDwell(net, tc, rec, x, xdot, P, t, cfg->tfinal, tdot, w->dtau, PETSC_FALSE);
  }
  for (; next < ns; next++) {
    StgssaRecordSample(net, tc, rec, next, x, xdot, P, stgs);
    if (score)
      for (PetscInt p = 0; p < P; p++) rec->score_sample[next * P + p] = S_[p];
  }
  rec->events         = n;
  rec->events_counted = nc;
  info->events        = n;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaSSARunTangentMany(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, PetscInt count, const uint64_t *traj, StgssaTangentWork *w, StgssaTangentRecord *rec, StgssaTrajInfo *info)
{
  PetscFunctionBegin;
  if (!StgssaStgsSmallApplies(cfg->net, tc)) {
    for (PetscInt k = 0; k < count; k++) PetscCall(StgssaSSARunTangent(cfg, tc, traj[k], &w[k], &rec[k], &info[k]));
    PetscFunctionReturn(0);
  }
  for (PetscInt k = 0; k < count; k++) {
    PetscCall(StgssaTangentRecordCheck(cfg, tc, &rec[k]));
    PetscCall(StgssaTangentEnsure_Private(cfg->net, tc, &w[k], &rec[k]));
  }
  for (PetscInt k = 0; k < count; k += STGSSA_SMALL_K) PetscCall(StgssaSSARunStgsSmall_Private(cfg, tc, PetscMin(STGSSA_SMALL_K, count - k), &traj[k], &w[k], &rec[k], &info[k]));
  PetscFunctionReturn(0);
}
