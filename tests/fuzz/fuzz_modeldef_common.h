/* SPDX-License-Identifier: BSD-2-Clause */
/* Body shared by the three model-format harnesses (.model, .net, SBML). */
#ifndef STGSSA_FUZZ_MODELDEF_COMMON_H
#define STGSSA_FUZZ_MODELDEF_COMMON_H

#include "fuzz_util.h"

#include <math.h>
#include <stgssa/expr.h>
#include <stgssa/modeldef.h>

typedef int (*FuzzModelParser)(const char *, size_t, const char *, StgssaModelDef **, char *, size_t);

/* Parse; on success check the definition's invariants (modeldef.h), walk every part, and look
   every name up again; then free. On error: no definition, a terminated message. */
static inline void fuzz_modeldef(FuzzModelParser parse, const uint8_t *data, size_t size)
{
  StgssaModelDef *def = NULL;
  char            err[512];
  int             rc;

  memset(err, 'x', sizeof(err));
  rc = parse((const char *)data, size, "fuzz.in", &def, err, sizeof(err));
  FUZZ_CHECK_MSG(err);
  if (rc != STGSSA_PARSE_OK) {
    FUZZ_CHECK(def == NULL);
    FUZZ_CHECK(rc == STGSSA_PARSE_ESYNTAX || rc == STGSSA_PARSE_ENOMEM);
    FUZZ_CHECK(err[0] != '\0');
    return;
  }
  FUZZ_CHECK(def != NULL);
  for (int i = 0; i < def->nparams; i++) {
    FUZZ_CHECK(def->params[i].name && strlen(def->params[i].name) <= STGSSA_NAME_MAX);
    FUZZ_CHECK(isfinite(def->params[i].value));
    FUZZ_CHECK(StgssaModelDefFindParam(def, def->params[i].name) == i);
  }
  for (int i = 0; i < def->nspecies; i++) {
    FUZZ_CHECK(def->species[i].name && strlen(def->species[i].name) <= STGSSA_NAME_MAX);
    FUZZ_CHECK(def->species[i].initial >= 0);
    FUZZ_CHECK(StgssaModelDefFindSpecies(def, def->species[i].name) == i);
  }
  for (int i = 0; i < def->ninputs; i++) {
    const StgssaInputDef *in = &def->inputs[i];
    FUZZ_CHECK(in->name && StgssaModelDefFindInput(def, in->name) == i);
    if (in->kind == STGSSA_INPUT_EXPR) FUZZ_CHECK(in->expr != NULL);
    else {
      FUZZ_CHECK(in->npieces >= 1 && in->times[0] == 0);
      for (int p = 0; p < in->npieces; p++) {
        FUZZ_CHECK(isfinite(in->times[p]) && (p == 0 || in->times[p] > in->times[p - 1]));
        FUZZ_CHECK(in->vparam[p] < def->nparams);
      }
    }
  }
  for (int j = 0; j < def->nreactions; j++) {
    const StgssaReactionDef *r = &def->reactions[j];
    for (int k = 0; k < r->nreact; k++) FUZZ_CHECK(r->react[k].species >= 0 && r->react[k].species < def->nspecies && r->react[k].coef >= 1 && r->react[k].coef <= STGSSA_STOICH_MAX);
    for (int k = 0; k < r->nprod; k++) FUZZ_CHECK(r->prod[k].species >= 0 && r->prod[k].species < def->nspecies && r->prod[k].coef >= 1 && r->prod[k].coef <= STGSSA_STOICH_MAX);
    FUZZ_CHECK(r->param < def->nparams);
    FUZZ_CHECK(r->reverse < def->nreactions);
    if (r->law) {
      int         n;
      const int  *u;
      double      v;
      u = StgssaExprUsedSpecies(r->law, &n);
      for (int k = 0; k < n; k++) FUZZ_CHECK(u[k] >= 0 && u[k] < def->nspecies);
      u = StgssaExprUsedParams(r->law, &n);
      for (int k = 0; k < n; k++) FUZZ_CHECK(u[k] >= 0 && u[k] < def->nparams);
      u = StgssaExprUsedInputs(r->law, &n);
      for (int k = 0; k < n; k++) FUZZ_CHECK(u[k] >= 0 && u[k] < def->ninputs);
      (void)StgssaExprIsConstant(r->law, &v);
      FUZZ_CHECK(isnan(StgssaModelDefRate(def, j)));
    } else
      (void)StgssaModelDefRate(def, j);
  }
  for (int g = 0; g < def->ngroups; g++)
    for (int k = 0; k < def->groups[g].nterms; k++) FUZZ_CHECK(def->groups[g].species[k] >= 0 && def->groups[g].species[k] < def->nspecies);
  for (int e = 0; e < def->nevents; e++) { /* events (issue 18): valid species, times and a schedule strictly after t */
    const StgssaEventDef *ev = &def->events[e];
    double                pv[64], te;
    FUZZ_CHECK(ev->t_first >= 0 && isfinite(ev->t_first) && ev->period >= 0 && isfinite(ev->period) && ev->nspecies >= (ev->kind == STGSSA_EVENT_DIVIDE ? 0 : 1));
    for (int k = 0; k < ev->nspecies; k++) FUZZ_CHECK(ev->species[k] >= 0 && ev->species[k] < def->nspecies);
    FUZZ_CHECK((ev->value == NULL) == (ev->kind == STGSSA_EVENT_DIVIDE));
    te = StgssaModelDefEventNext(def, e, ev->t_first);
    FUZZ_CHECK(ev->period > 0 ? te > ev->t_first : isinf(te));
    FUZZ_CHECK(StgssaModelDefEventAt(def, e, ev->t_first));
    if (def->nparams <= 64) {
      for (int m = 0; m < def->nparams; m++) pv[m] = def->params[m].value;
      (void)StgssaModelDefEventValue(def, e, pv, NULL, NULL);
    }
  }
  (void)StgssaModelDefNextEventTime(def, 0.0);
  (void)StgssaModelDefRate(def, -1);
  (void)StgssaModelDefRate(def, def->nreactions);
  StgssaModelDefFree(&def);
  FUZZ_CHECK(def == NULL);
}

#endif
