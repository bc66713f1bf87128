/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Numerical guards of the engines (issue 8). They cost nothing on the normal path:
  - counts: StgssaJump (ssa.h) compares each changed count with STGSSA_COUNT_MAX = 2^53 (the
    largest count a double holds exactly) and calls StgssaCountOverflowError beyond it;
  - tangents, scores, entropy production: the evaluator checks each trajectory's observables once
    (isfinite) and only when one is not finite re-runs that trajectory with tc->locate set, so that
    StgssaTangentCheckEvent checks every event and names the first one that went wrong.
*/
#include <stgssa/tangent.h>
#include <math.h>
#include "../stgssa_impl.h"

PetscErrorCode StgssaFormatState(const StgssaNetwork *net, const int64_t *x, char buf[], size_t len)
{
  size_t used = 0;

  PetscFunctionBegin;
  buf[0] = 0;
  for (PetscInt s = 0; s < net->S; s++) {
    if (used + 100 >= len) {
      PetscCall(StgssaStrlcat(buf, ", ...", len));
      break;
    }
    PetscCall(PetscSNPrintf(buf + used, len - used, "%s%s=%" PRId64, s ? ", " : "", net->def->species[s].name, x[s]));
    PetscCall(PetscStrlen(buf, &used));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaCountOverflowError(const StgssaNetwork *net, PetscInt j, const int64_t *x, PetscInt s, double t)
{
  char state[512];

  PetscFunctionBegin;
  PetscCall(StgssaFormatState(net, x, state, sizeof(state)));
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FP,
          "%s:%d: reaction %" PetscInt_FMT " takes the count of species '%s' to %" PRId64 " at t = %.6g, beyond 2^53 = %" PRId64
          " (the largest count the engine represents exactly) in the state %s; the model grows without bound: check its rates (a missing degradation or a runaway feedback), or shorten -stgssa_tfinal",
          net->def->filename, net->def->reactions[j].line, j + 1, net->def->species[s].name, x[s], t, STGSSA_COUNT_MAX, state);
}

static const char *StgssaFitName(const StgssaNetwork *net, const StgssaTangentConfig *tc, PetscInt p, char buf[], size_t len)
{
  if (tc->fit_param) return net->def->params[tc->fit_param[p]].name;
  (void)PetscSNPrintf(buf, len, "theta_%" PetscInt_FMT, p);
  return buf;
}

/* Propensity of reaction r in the state y (laws: at env's time; env->xd is set to y and left so). */
static double StgssaPropensityIn(const StgssaNetwork *net, PetscInt r, const int64_t *y, StgssaLawEnv *env)
{
  if (net->any_law) StgssaLawEnvSetState(net, env, y);
  return StgssaPropensityAt(net, r, y, env);
}

/* ", rate constant K (parameter NAME)" or ", a rate law" for messages. */
static const char *StgssaRateText(const StgssaNetwork *net, PetscInt r, char buf[], size_t len)
{
  const StgssaReactionDef *d = &net->def->reactions[r];
  if (d->law) (void)PetscSNPrintf(buf, len, "its rate law");
  else if (d->param >= 0) (void)PetscSNPrintf(buf, len, "rate constant %.6g from the parameter %s", net->k[r], net->def->params[d->param].name);
  else (void)PetscSNPrintf(buf, len, "rate constant %.6g", net->k[r]);
  return buf;
}

static const char *StgssaFixText(const StgssaNetwork *net, PetscInt r, char buf[], size_t len)
{
  const StgssaReactionDef *d = &net->def->reactions[r];
  if (!d->law && d->param >= 0) (void)PetscSNPrintf(buf, len, "give %s a positive value (-stgssa_parameters %s=...)", net->def->params[d->param].name, net->def->params[d->param].name);
  else (void)PetscSNPrintf(buf, len, "give reaction %" PetscInt_FMT " a positive propensity there", r + 1);
  return buf;
}

/* The first non-finite entry of v[0..n), or -1. */
static PetscInt StgssaFirstNonFinite(const double *v, PetscInt n)
{
  for (PetscInt i = 0; i < n; i++)
    if (!isfinite(v[i])) return i;
  return -1;
}

PetscErrorCode StgssaTangentCheckEvent(const StgssaSSAConfig *cfg, const StgssaTangentConfig *tc, StgssaTangentWork *w, const StgssaTangentRecord *rec, int64_t n, PetscInt j, const int64_t *x, const double *a, double t)
{
  const StgssaNetwork *net = cfg->net;
  const PetscInt       S = net->S, R = net->R, P = tc->P;
  const char          *file = net->def->filename;
  const PetscBool      stgs = (PetscBool)(tc->type == STGSSA_GRADIENT_STGS), score = (PetscBool)(tc->type == STGSSA_GRADIENT_SCORE);
  char                 pre[512], post[512], what[256] = "", pn[32];
  int64_t             *y;
  double               bad = 0.0;
  PetscInt             k;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(S, &y));
  for (PetscInt s = 0; s < S; s++) y[s] = x[s];
  for (PetscInt u = net->nu_ptr[j]; u < net->nu_ptr[j + 1]; u++) y[net->nu_species[u]] -= net->nu_delta[u]; /* the state before the jump */
  PetscCall(StgssaFormatState(net, y, pre, sizeof(pre)));
  PetscCall(StgssaFormatState(net, x, post, sizeof(post)));
  if (tc->rev && !isfinite(rec->sigma)) { /* log a_j(x) - log a_rev(x + nu_j): the reverse cannot happen */
    const PetscInt r  = tc->rev[j];
    const double   ar = StgssaPropensityIn(net, r, x, &w->env);
    char           rate[128], fix[160];
    PetscCall(PetscFree(y));
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FP,
            "%s: the entropy production is %.6g at event %" PRId64 " (t = %.6g): reaction %" PetscInt_FMT " (%s:%d) fired from the state %s to %s, where its reverse, reaction %" PetscInt_FMT
            " (%s:%d, %s), has the propensity %.6g, so log(a_%" PetscInt_FMT "/a_%" PetscInt_FMT ") is infinite. The entropy production (-stgssa_entropy, -stgssa_design tur, -stgssa_budget_entropy) needs every jump to be reversible: %s, or do not record the entropy production",
            tc->locate, rec->sigma, n, t, j + 1, file, net->def->reactions[j].line, pre, post, r + 1, file, net->def->reactions[r].line, StgssaRateText(net, r, rate, sizeof(rate)), ar, j + 1, r + 1,
            StgssaFixText(net, r, fix, sizeof(fix)));
  }
  if (tc->rev && stgs && (k = StgssaFirstNonFinite(rec->sigmadot, P)) >= 0) { /* sum_i pidot_i f_i: some possible jump has no reverse */
    for (PetscInt i = 0; i < R; i++) {
      double ar;
      if (a[i] <= 0.0) continue;
      for (PetscInt u = net->nu_ptr[i]; u < net->nu_ptr[i + 1]; u++) y[net->nu_species[u]] += net->nu_delta[u];
      ar = StgssaPropensityIn(net, tc->rev[i], y, &w->env);
      if (ar <= 0.0) {
        char rate[128], fix[160];
        PetscCall(StgssaFormatState(net, y, post, sizeof(post)));
        PetscCall(PetscFree(y));
        SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FP,
                "%s: the ST-GS tangent of the entropy production is %.6g at event %" PRId64 " (t = %.6g): reaction %" PetscInt_FMT " (%s:%d) can fire from the state %s to %s, where its reverse, reaction %" PetscInt_FMT
                " (%s:%d, %s), has the propensity 0 (the tangent weighs every possible jump). The entropy production needs every jump to be reversible: %s, or do not record the entropy production",
                tc->locate, rec->sigmadot[k], n, t, i + 1, file, net->def->reactions[i].line, pre, post, tc->rev[i] + 1, file, net->def->reactions[tc->rev[i]].line, StgssaRateText(net, tc->rev[i], rate, sizeof(rate)),
                StgssaFixText(net, tc->rev[i], fix, sizeof(fix)));
      }
      for (PetscInt u = net->nu_ptr[i]; u < net->nu_ptr[i + 1]; u++) y[net->nu_species[u]] -= net->nu_delta[u];
    }
    bad = rec->sigmadot[k];
    PetscCall(PetscSNPrintf(what, sizeof(what), "ST-GS tangent of the entropy production by log %s", StgssaFitName(net, tc, k, pn, sizeof(pn))));
  }
  if (!what[0] && stgs) {
    if ((k = StgssaFirstNonFinite(w->xdot, S * P)) >= 0) {
      bad = w->xdot[k];
      PetscCall(PetscSNPrintf(what, sizeof(what), "ST-GS state tangent d %s/d log %s", net->def->species[k / P].name, StgssaFitName(net, tc, k % P, pn, sizeof(pn))));
    } else if ((k = StgssaFirstNonFinite(w->tdot, P)) >= 0) {
      bad = w->tdot[k];
      PetscCall(PetscSNPrintf(what, sizeof(what), "ST-GS time tangent d t/d log %s", StgssaFitName(net, tc, k, pn, sizeof(pn))));
    } else
      for (PetscInt i = 0; i < R && !what[0]; i++) {
        if (a[i] <= 0.0) continue;
        if ((k = StgssaFirstNonFinite(&w->ldot[i * P], P)) >= 0) {
          bad = w->ldot[i * P + k];
          PetscCall(PetscSNPrintf(what, sizeof(what), "ST-GS tangent of log a_%" PetscInt_FMT " (reaction %" PetscInt_FMT ", %s:%d; propensity %.6g) by log %s", i + 1, i + 1, file, net->def->reactions[i].line, a[i], StgssaFitName(net, tc, k, pn, sizeof(pn))));
        } else if ((k = StgssaFirstNonFinite(&w->pidot[i * P], P)) >= 0) {
          bad = w->pidot[i * P + k];
          PetscCall(PetscSNPrintf(what, sizeof(what), "ST-GS softmax tangent pidot of reaction %" PetscInt_FMT " (%s:%d) by log %s", i + 1, file, net->def->reactions[i].line, StgssaFitName(net, tc, k, pn, sizeof(pn))));
        }
      }
    if (!what[0] && tc->window && (k = StgssaFirstNonFinite(rec->wavgdot, tc->nobs * P)) >= 0) {
      bad = rec->wavgdot[k];
      PetscCall(PetscSNPrintf(what, sizeof(what), "ST-GS tangent of the window average of %s", net->def->species[tc->obs[k / P]].name));
    }
    if (!what[0] && (k = StgssaFirstNonFinite(rec->nrxdot, R * P)) >= 0) {
      bad = rec->nrxdot[k];
      PetscCall(PetscSNPrintf(what, sizeof(what), "ST-GS tangent of the count of reaction %" PetscInt_FMT, k / P + 1));
    }
  }
  if (!what[0] && score && (k = StgssaFirstNonFinite(rec->score_end, P)) >= 0) {
    bad = rec->score_end[k];
    PetscCall(PetscSNPrintf(what, sizeof(what), "score d log P(path)/d log %s", StgssaFitName(net, tc, k, pn, sizeof(pn))));
  }
  if (!what[0] && tc->window && (k = StgssaFirstNonFinite(rec->wavg, tc->nobs)) >= 0) {
    bad = rec->wavg[k];
    PetscCall(PetscSNPrintf(what, sizeof(what), "window average of %s", net->def->species[tc->obs[k]].name));
  }
  PetscCall(PetscFree(y));
  PetscCheck(!what[0], PETSC_COMM_SELF, PETSC_ERR_FP, "%s: the %s is %.6g after event %" PRId64 " (t = %.6g): reaction %" PetscInt_FMT " (%s:%d) fired from the state %s to %s", tc->locate, what, bad, n, t, j + 1, file,
             net->def->reactions[j].line, pre, post);
  PetscFunctionReturn(0);
}
