/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Derived quantities of a model definition (issue 16): parameters defined by expressions of other
  parameters (`.net` parameters written as arithmetic, SBML initial assignments and parameter-only
  assignment rules) and initial counts written as expressions of parameters. They are evaluated in
  dependency order after loading and again after every override (-stgssa_parameters, the FSP
  route's fitted values, the evaluator's trial points), so a derived value always follows the
  parameters it is computed from. Pure C11: no PETSc, no MPI.
*/
#include <stgssa/modeldef.h>
#include <stgssa/expr.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *namer(void *ctx, StgssaExprVarKind kind, int index)
{
  const StgssaModelDef *d = ctx;
  if (kind == STGSSA_EXPR_PARAM && index >= 0 && index < d->nparams) return d->params[index].name;
  if (kind == STGSSA_EXPR_SPECIES && index >= 0 && index < d->nspecies) return d->species[index].name;
  return NULL;
}

static void expr_text(const StgssaModelDef *d, const StgssaExpr *e, char *buf, size_t len)
{
  if (StgssaExprToString(e, namer, (void *)d, buf, len) < 0 && len) snprintf(buf, len, "(expression)");
}

static int is_derived(const StgssaModelDef *d, const unsigned char *freed, int m) { return d->params[m].expr && !(freed && freed[m]); }

/* Dependency order of the derived parameters (iterative depth-first search; state 1 = on the
   path, 2 = done). *n receives the count. Returns 1 on a cycle (err names it), -1 out of memory. */
static int derived_order(const StgssaModelDef *d, const unsigned char *freed, int *order, int *n, char *err, size_t errlen)
{
  unsigned char *state;
  int           *stack, *next, top, rc = 0;
  *n = 0;
  if (!d->nparams) return 0;
  state = calloc((size_t)d->nparams, 1);
  stack = malloc(sizeof *stack * (size_t)d->nparams);
  next  = calloc((size_t)d->nparams, sizeof *next);
  if (!state || !stack || !next) {
    rc = -1;
    goto done;
  }
  for (int r = 0; r < d->nparams && !rc; r++) {
    if (state[r] || !is_derived(d, freed, r)) continue;
    top          = 0;
    stack[top++] = r;
    state[r]     = 1;
    while (top && !rc) {
      const int  m = stack[top - 1];
      int        nu;
      const int *u = StgssaExprUsedParams(d->params[m].expr, &nu);
      if (next[m] < nu) {
        const int c = u[next[m]++];
        if (!is_derived(d, freed, c) || state[c] == 2) continue;
        if (state[c] == 1) {
          if (err && errlen)
            snprintf(err, errlen, "%s:%d: parameter '%s' is defined through itself (via '%s', line %d); expected definitions without cycles", d->filename ? d->filename : "<model>",
                     d->params[c].line, d->params[c].name, d->params[m].name, d->params[m].line);
          rc = 1;
          break;
        }
        state[c]     = 1;
        stack[top++] = c;
      } else {
        state[m]      = 2;
        order[(*n)++] = m;
        top--;
      }
    }
  }
done:
  free(state);
  free(stack);
  free(next);
  return rc;
}

int StgssaModelDefHasDerived(const StgssaModelDef *d)
{
  if (!d) return 0;
  for (int m = 0; m < d->nparams; m++)
    if (d->params[m].expr) return 1;
  for (int s = 0; s < d->nspecies; s++)
    if (d->species[s].init_expr) return 1;
  return 0;
}

int StgssaModelDefEvalDerived(const StgssaModelDef *d, const unsigned char *freed, double *pv, int64_t *x0, char *err, size_t errlen)
{
  int *order = NULL, n = 0, rc;
  char text[256];
  if (err && errlen) err[0] = '\0';
  if (!d || !pv) return STGSSA_PARSE_ESYNTAX;
  if (d->nparams && !(order = malloc(sizeof *order * (size_t)d->nparams))) return STGSSA_PARSE_ENOMEM;
  rc = derived_order(d, freed, order, &n, err, errlen);
  if (rc) {
    free(order);
    return rc < 0 ? STGSSA_PARSE_ENOMEM : STGSSA_PARSE_ESYNTAX;
  }
  for (int i = 0; i < n; i++) {
    const int    m = order[i];
    const double v = StgssaExprEval(d->params[m].expr, NULL, pv, NULL, 0.0);
    if (!(isfinite(v) && v >= 0)) {
      expr_text(d, d->params[m].expr, text, sizeof text);
      if (err && errlen)
        snprintf(err, errlen, "%s:%d: parameter '%s' = %s evaluates to %g; expected a finite value >= 0", d->filename ? d->filename : "<model>", d->params[m].line, d->params[m].name, text, v);
      free(order);
      return STGSSA_PARSE_ESYNTAX;
    }
    pv[m] = v + 0.0;
  }
  free(order);
  if (x0)
    for (int s = 0; s < d->nspecies; s++) {
      double v, r;
      if (!d->species[s].init_expr) {
        x0[s] = d->species[s].initial;
        continue;
      }
      v = StgssaExprEval(d->species[s].init_expr, NULL, pv, NULL, 0.0);
      r = nearbyint(v);
      if (!isfinite(v) || v < 0 || fabs(v - r) > 1e-9 * fmax(1.0, fabs(v)) || r > (double)STGSSA_COUNT_MAX) {
        expr_text(d, d->species[s].init_expr, text, sizeof text);
        if (err && errlen)
          snprintf(err, errlen, "%s:%d: the initial count of species '%s' = %s evaluates to %.17g; expected a whole number >= 0 and at most 2^53", d->filename ? d->filename : "<model>",
                   d->species[s].line, d->species[s].name, text, v);
        return STGSSA_PARSE_ESYNTAX;
      }
      x0[s] = (int64_t)r;
    }
  return STGSSA_PARSE_OK;
}

int StgssaModelDefUpdateDerived(StgssaModelDef *d, char *err, size_t errlen)
{
  double  *pv;
  int64_t *x0;
  int      rc;
  if (!d) return STGSSA_PARSE_ESYNTAX;
  if (!StgssaModelDefHasDerived(d)) return STGSSA_PARSE_OK;
  pv = malloc(sizeof *pv * ((size_t)d->nparams + 1));
  x0 = malloc(sizeof *x0 * ((size_t)d->nspecies + 1));
  if (!pv || !x0) {
    free(pv);
    free(x0);
    if (err && errlen) snprintf(err, errlen, "%s: out of memory", d->filename ? d->filename : "<model>");
    return STGSSA_PARSE_ENOMEM;
  }
  for (int m = 0; m < d->nparams; m++) pv[m] = d->params[m].value;
  rc = StgssaModelDefEvalDerived(d, NULL, pv, x0, err, errlen);
  if (!rc) {
    for (int m = 0; m < d->nparams; m++) d->params[m].value = pv[m];
    for (int s = 0; s < d->nspecies; s++) d->species[s].initial = x0[s];
  }
  free(pv);
  free(x0);
  return rc;
}

int StgssaModelDefParamDegrees(const StgssaModelDef *d, int q, int *deg)
{
  int *order = NULL, n = 0, rc;
  if (!d || !deg || q < 0 || q >= d->nparams) return -1;
  for (int m = 0; m < d->nparams; m++) deg[m] = m == q ? 1 : 0;
  if (d->nparams && !(order = malloc(sizeof *order * (size_t)d->nparams))) return -1;
  if ((rc = derived_order(d, NULL, order, &n, NULL, 0))) {
    free(order);
    return -1;
  }
  for (int i = 0; i < n && !rc; i++)
    if (order[i] != q) rc = StgssaExprParamDegree(d->params[order[i]].expr, deg, &deg[order[i]]);
  free(order);
  return rc;
}

/* The default fit list (every parameter, when -stgssa_fit is not given) without the parameters
   StgssaModelResolveFit would refuse (model.c), since a default must not fail: derived ones, and
   those that reach (through derived parameters) an initial count or an input, or a
   mass-action rate that is not proportional to them (degree other than 0 or 1), or one that an
   earlier listed parameter already moves. list[nparams] receives the indices, *n their count. */
int StgssaModelDefDefaultFit(const StgssaModelDef *d, int *list, int *n)
{
  unsigned char *dep;
  int           *deg, *claim;
  *n = 0;
  if (!d || !list) return -1;
  if (!StgssaModelDefHasDerived(d)) {
    for (int m = 0; m < d->nparams; m++) list[(*n)++] = m;
    return 0;
  }
  dep   = calloc((size_t)d->nparams + 1, 1);
  deg   = calloc((size_t)d->nparams + 1, sizeof *deg);
  claim = malloc(((size_t)d->nreactions + 1) * sizeof *claim);
  if (!dep || !deg || !claim) {
    free(dep);
    free(deg);
    free(claim);
    return -1;
  }
  for (int j = 0; j < d->nreactions; j++) claim[j] = d->reactions[j].law ? -1 : d->reactions[j].param;
  for (int m = 0; m < d->nparams; m++) {
    int changed = 1, ok = !d->params[m].expr;
    if (!ok) continue;
    for (int i = 0; i < d->nparams; i++) dep[i] = i == m;
    while (changed) {
      changed = 0;
      for (int i = 0; i < d->nparams; i++) {
        int        nu;
        const int *u;
        if (dep[i] || !d->params[i].expr) continue;
        u = StgssaExprUsedParams(d->params[i].expr, &nu);
        for (int k = 0; k < nu && !dep[i]; k++)
          if (dep[u[k]]) dep[i] = 1, changed = 1;
      }
    }
    if (StgssaModelDefParamDegrees(d, m, deg)) ok = 0;
    for (int s = 0; s < d->nspecies && ok; s++) {
      int        nu = 0;
      const int *u  = d->species[s].init_expr ? StgssaExprUsedParams(d->species[s].init_expr, &nu) : NULL;
      for (int k = 0; k < nu && ok; k++) ok = !dep[u[k]];
    }
    for (int j = 0; j < d->nreactions && ok; j++) {
      const StgssaReactionDef *r = &d->reactions[j];
      if (!r->law && r->param >= 0 && r->param != m && dep[r->param]) ok = (deg[r->param] == 0 || deg[r->param] == 1) && !(deg[r->param] == 1 && claim[j] >= 0 && claim[j] != r->param);
    }
    for (int i = 0; i < d->ninputs && ok; i++) {
      const StgssaInputDef *in = &d->inputs[i];
      int                   nu = 0;
      const int            *u  = in->kind == STGSSA_INPUT_EXPR ? StgssaExprUsedParams(in->expr, &nu) : NULL;
      for (int k = 0; k < nu && ok; k++) ok = u[k] == m || !dep[u[k]];
      for (int k = 0; in->kind == STGSSA_INPUT_TABLE && k < in->npieces && ok; k++) ok = in->vparam[k] < 0 || in->vparam[k] == m || !dep[in->vparam[k]];
    }
    if (!ok) continue;
    list[(*n)++] = m;
    for (int j = 0; j < d->nreactions; j++) /* mass-action rates this parameter moves (degree 1) */
      if (!d->reactions[j].law && d->reactions[j].param >= 0 && d->reactions[j].param != m && dep[d->reactions[j].param] && deg[d->reactions[j].param] == 1) claim[j] = m;
  }
  free(dep);
  free(deg);
  free(claim);
  return 0;
}
