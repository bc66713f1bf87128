/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaModel: load a `.model`, BioNetGen `.net` or SBML (`.xml`, `.sbml`) file collectively (rank 0 reads, every rank parses the same
  bytes, so every rank reaches the same verdict), apply -stgssa_parameters overrides and
  compile the mass-action network for the engine.
*/
#include <stgssa/stgssa.h>
#include "model_impl.h"
#include <stgssa/expr.h>
#include "../stgssa_impl.h"
#include <errno.h>

const char *const StgssaModelFormats[] = {"auto", "native", "net", "sbml", "StgssaModelFormat", "STGSSA_MODEL_FORMAT_", NULL};

PetscErrorCode StgssaModelCreate(MPI_Comm comm, StgssaModel *model)
{
  PetscFunctionBegin;
  PetscCall(StgssaInitializePackage());
  PetscCall(PetscNew(model));
  (*model)->comm = comm;
  PetscFunctionReturn(0);
}

/* Raise a parser failure as a PETSc error with the parser's file:line:column message. */
static PetscErrorCode StgssaModelCheckParse(MPI_Comm comm, int rc, const char *err)
{
  PetscFunctionBegin;
  PetscCheck(rc != STGSSA_PARSE_EIO, comm, PETSC_ERR_FILE_OPEN, "%s", err);
  PetscCheck(rc != STGSSA_PARSE_ENOMEM, comm, PETSC_ERR_MEM, "%s", err);
  PetscCheck(rc == STGSSA_PARSE_OK, comm, PETSC_ERR_FILE_UNEXPECTED, "%s", err);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaModelSetFormat(StgssaModel model, StgssaModelFormat format)
{
  PetscFunctionBegin;
  model->format     = format;
  model->format_set = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* -stgssa_model_format, read at load time (the model is loaded before StgssaModelSetFromOptions) */
static PetscErrorCode StgssaModelFormatFromOptions(StgssaModel model)
{
  PetscFunctionBegin;
  if (model->format_set) PetscFunctionReturn(0);
  PetscOptionsBegin(model->comm, NULL, "Model file format", "StgssaModel");
  PetscCall(PetscOptionsEnum("-stgssa_model_format", "Model file format: auto (by extension: .net is BioNetGen, .xml and .sbml are SBML), native, net or sbml", "StgssaModelSetFormat", StgssaModelFormats,
                             (PetscEnum)model->format, (PetscEnum *)&model->format, NULL));
  PetscOptionsEnd();
  PetscFunctionReturn(0);
}

static PetscBool StgssaHasSuffix(const char filename[], const char suffix[])
{
  size_t n = filename ? strlen(filename) : 0, k = strlen(suffix);
  return n >= k && !strcmp(filename + n - k, suffix) ? PETSC_TRUE : PETSC_FALSE;
}

/* The format of a file: the one set, or by extension (.net: BioNetGen; .xml, .sbml: SBML; else native). */
static StgssaModelFormat StgssaModelFileFormat(StgssaModelFormat format, const char filename[])
{
  if (format != STGSSA_MODEL_FORMAT_AUTO) return format;
  if (StgssaHasSuffix(filename, ".net")) return STGSSA_MODEL_FORMAT_NET;
  if (StgssaHasSuffix(filename, ".xml") || StgssaHasSuffix(filename, ".sbml")) return STGSSA_MODEL_FORMAT_SBML;
  return STGSSA_MODEL_FORMAT_NATIVE;
}

PetscErrorCode StgssaModelLoadFromString(StgssaModel model, const char text[], const char filename[])
{
  char err[1024];
  int  rc;

  PetscFunctionBegin;
  PetscCall(StgssaModelFormatFromOptions(model));
  PetscCall(PetscLogEventBegin(STGSSA_ModelLoad, 0, 0, 0, 0));
  StgssaModelDefFree(&model->def);
  PetscCall(PetscLogEventBegin(STGSSA_ModelParse, 0, 0, 0, 0));
  switch (StgssaModelFileFormat(model->format, filename)) {
  case STGSSA_MODEL_FORMAT_NET: rc = StgssaModelDefParseNet(text, strlen(text), filename, &model->def, err, sizeof(err)); break;
  case STGSSA_MODEL_FORMAT_SBML: rc = StgssaModelDefParseSBML(text, strlen(text), filename, &model->def, err, sizeof(err)); break;
  default: rc = StgssaModelDefParse(text, strlen(text), filename, &model->def, err, sizeof(err));
  }
  PetscCall(PetscLogEventEnd(STGSSA_ModelParse, 0, 0, 0, 0));
  PetscCall(StgssaModelCheckParse(model->comm, rc, err));
  PetscCall(PetscLogEventBegin(STGSSA_NetworkBuild, 0, 0, 0, 0));
  PetscCall(StgssaNetworkBuild_Private(model->def, &model->net));
  PetscCall(PetscLogEventEnd(STGSSA_NetworkBuild, 0, 0, 0, 0));
  PetscCall(PetscLogEventEnd(STGSSA_ModelLoad, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaModelSetDef(StgssaModel model, StgssaModelDef **def)
{
  PetscFunctionBegin;
  PetscCheck(def && *def, model->comm, PETSC_ERR_ARG_NULL, "StgssaModelSetDef: no definition");
  PetscCall(StgssaNetworkDestroy_Private(&model->net)); /* it points into the old definition */
  StgssaModelDefFree(&model->def);
  model->def = *def;
  *def       = NULL;
  PetscCall(StgssaNetworkBuild_Private(model->def, &model->net));
  PetscFunctionReturn(0);
}

/* Rank 0 reads the file; its bytes (or the reason it could not) are broadcast. */
PetscErrorCode StgssaModelLoad(StgssaModel model, const char path[])
{
  char          *text;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(StgssaReadTextFile(model->comm, path, "model file", &text));
  ierr = StgssaModelLoadFromString(model, text, path); /* the text is freed whether it parses or not */
  PetscCall(PetscFree(text));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaModelSetParameters(StgssaModel model, const char assignments[], const char origin[])
{
  char err[1024];
  int  rc;

  PetscFunctionBegin;
  PetscCheck(model->def, model->comm, PETSC_ERR_ORDER, "Load the model before setting parameters");
  rc = StgssaModelDefSetParameters(model->def, assignments, origin, err, sizeof(err));
  PetscCheck(rc == STGSSA_PARSE_OK, model->comm, PETSC_ERR_ARG_WRONG, "%s", err);
  PetscCall(StgssaNetworkSetParameterValues_Private(model->def, &model->net));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaModelSetFromOptions(StgssaModel model)
{
  char      assign[4096] = "";
  PetscBool set          = PETSC_FALSE;

  PetscFunctionBegin;
  PetscOptionsBegin(model->comm, NULL, "Model options", "StgssaModel");
  PetscCall(PetscOptionsString("-stgssa_parameters", "Override parameter values: name=value,name=value", "StgssaModelSetParameters", assign, assign, sizeof(assign), &set));
  PetscOptionsEnd();
  PetscCall(StgssaModelFormatFromOptions(model)); /* listed by -help */
  if (set && assign[0] && model->def) PetscCall(StgssaModelSetParameters(model, assign, "-stgssa_parameters"));
  PetscFunctionReturn(0);
}

/* Names of the variables of a law, for StgssaExprToString. */
static const char *StgssaModelNamer(void *ctx, StgssaExprVarKind kind, int index)
{
  const StgssaModelDef *d = (const StgssaModelDef *)ctx;
  switch (kind) {
  case STGSSA_EXPR_SPECIES:
    return d->species[index].name;
  case STGSSA_EXPR_PARAM:
    return d->params[index].name;
  case STGSSA_EXPR_INPUT:
    return d->inputs[index].name;
  case STGSSA_EXPR_TIME:
    return "t";
  default:
    return NULL;
  }
}

PetscErrorCode StgssaModelView(StgssaModel model, PetscViewer viewer)
{
  const StgssaModelDef *d = model->def;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(model->comm, &viewer));
  if (!d) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaModel: (not loaded)\n"));
    PetscFunctionReturn(0);
  }
  PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaModel %s: %d species, %d reactions, %d parameters\n", d->filename, d->nspecies, d->nreactions, d->nparams));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  for (int i = 0; i < d->nparams; i++) {
    char buf[1024] = "";
    if (d->params[i].expr) { /* derived: its expression too */
      (void)PetscStrncpy(buf, "  (derived: ", sizeof(buf));
      (void)StgssaExprToString(d->params[i].expr, StgssaModelNamer, (void *)d, buf + 12, sizeof(buf) - 14);
      (void)StgssaStrlcat(buf, ")", sizeof(buf));
    }
    PetscCall(PetscViewerASCIIPrintf(viewer, "parameter %-12s = %g%s\n", d->params[i].name, d->params[i].value, buf));
  }
  for (int i = 0; i < d->nspecies; i++) {
    char buf[1024] = "";
    if (d->species[i].init_expr) {
      (void)PetscStrncpy(buf, "  (from ", sizeof(buf));
      (void)StgssaExprToString(d->species[i].init_expr, StgssaModelNamer, (void *)d, buf + 8, sizeof(buf) - 10);
      (void)StgssaStrlcat(buf, ")", sizeof(buf));
    }
    PetscCall(PetscViewerASCIIPrintf(viewer, "species   %-12s x0 = %" PRId64 "%s\n", d->species[i].name, d->species[i].initial, buf));
  }
  for (int i = 0; i < d->ngroups; i++) PetscCall(PetscViewerASCIIPrintf(viewer, "group     %-12s %d term%s (line %d)\n", d->groups[i].name, d->groups[i].nterms, d->groups[i].nterms == 1 ? "" : "s", d->groups[i].line));
  for (int i = 0; i < d->nrules; i++) {
    char buf[1024];
    (void)StgssaExprToString(d->rules[i].expr, StgssaModelNamer, (void *)d, buf, sizeof(buf));
    PetscCall(PetscViewerASCIIPrintf(viewer, "rule      %-12s = %s (line %d; inlined where read)\n", d->rules[i].name, buf, d->rules[i].line));
  }
  for (int i = 0; i < d->ninputs; i++) {
    const StgssaInputDef *in = &d->inputs[i];
    if (in->kind == STGSSA_INPUT_TABLE) PetscCall(PetscViewerASCIIPrintf(viewer, "input     %-12s table of %d pieces\n", in->name, in->npieces));
    else {
      char buf[1024];
      (void)StgssaExprToString(in->expr, StgssaModelNamer, (void *)d, buf, sizeof(buf));
      PetscCall(PetscViewerASCIIPrintf(viewer, "input     %-12s = %s\n", in->name, buf));
    }
  }
  for (int j = 0; j < d->nreactions; j++) {
    const StgssaReactionDef *r = &d->reactions[j];
    if (!r->law) PetscCall(PetscViewerASCIIPrintf(viewer, "reaction %d (line %d): k = %g\n", j, r->line, StgssaModelDefRate(d, j)));
    else {
      char buf[1024];
      (void)StgssaExprToString(r->law, StgssaModelNamer, (void *)d, buf, sizeof(buf));
      PetscCall(PetscViewerASCIIPrintf(viewer, "reaction %d (line %d): %s = %s%s\n", j, r->line, r->law_full ? "a" : "k", buf, r->law_full ? "" : " (times the mass-action combinatorics)"));
    }
  }
  for (int e = 0; e < d->nevents; e++) {
    const StgssaEventDef *ev = &d->events[e];
    char                  when[128], what[1024] = "", val[512] = "";
    if (ev->period > 0) PetscCall(PetscSNPrintf(when, sizeof when, "every %g from %g", ev->period, ev->t_first));
    else PetscCall(PetscSNPrintf(when, sizeof when, "at %g", ev->t_first));
    if (ev->value) (void)StgssaExprToString(ev->value, StgssaModelNamer, (void *)d, val, sizeof val);
    switch (ev->kind) {
    case STGSSA_EVENT_DIVIDE:
      (void)PetscStrncpy(what, ev->all ? "divide (binomial halving of every species)" : "divide (binomial halving of", sizeof what);
      if (!ev->all) {
        for (int i = 0; i < ev->nspecies; i++) {
          (void)StgssaStrlcat(what, " ", sizeof what);
          (void)StgssaStrlcat(what, d->species[ev->species[i]].name, sizeof what);
        }
        (void)StgssaStrlcat(what, ")", sizeof what);
      }
      break;
    case STGSSA_EVENT_SET:
      PetscCall(PetscSNPrintf(what, sizeof what, "%s = %s", d->species[ev->species[0]].name, val));
      break;
    case STGSSA_EVENT_ADD:
      PetscCall(PetscSNPrintf(what, sizeof what, "%s += %s", d->species[ev->species[0]].name, val));
      break;
    case STGSSA_EVENT_SUB:
      PetscCall(PetscSNPrintf(what, sizeof what, "%s -= %s (clamped at 0)", d->species[ev->species[0]].name, val));
      break;
    case STGSSA_EVENT_SCALE:
      PetscCall(PetscSNPrintf(what, sizeof what, "scale %s by %s (binomial thinning)", d->species[ev->species[0]].name, val));
      break;
    }
    PetscCall(PetscViewerASCIIPrintf(viewer, "event %d (line %d): %s: %s\n", e, ev->line, when, what));
  }
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaModelGetNumEvents(StgssaModel model, PetscInt *n)
{
  PetscFunctionBegin;
  PetscCheck(model->def, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "StgssaModelGetNumEvents: the model is not loaded");
  *n = model->def->nevents;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaModelGetEvent(StgssaModel model, PetscInt e, StgssaEventInfo *info)
{
  const StgssaEventDef *ev;
  double                v;

  PetscFunctionBegin;
  PetscCheck(model->def, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "StgssaModelGetEvent: the model is not loaded");
  PetscCheck(e >= 0 && e < model->def->nevents, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "StgssaModelGetEvent: event %" PetscInt_FMT " of %d", e, model->def->nevents);
  ev              = &model->def->events[e];
  info->kind      = ev->kind;
  info->t_first   = ev->t_first;
  info->period    = ev->period;
  info->nspecies  = ev->nspecies;
  info->species   = ev->species;
  info->has_value = ev->value ? PETSC_TRUE : PETSC_FALSE;
  info->constant  = (PetscBool)(!ev->value || StgssaExprIsConstant(ev->value, &v));
  info->line      = ev->line;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaModelEventValue(StgssaModel model, PetscInt e, const PetscReal pv[], PetscReal *value, PetscReal dlog[])
{
  const StgssaModelDef *d = model->def;

  PetscFunctionBegin;
  PetscCheck(d, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "StgssaModelEventValue: the model is not loaded");
  PetscCheck(e >= 0 && e < d->nevents, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "StgssaModelEventValue: event %" PetscInt_FMT " of %d", e, d->nevents);
  PetscCall(StgssaEventValueChecked(&model->net, (int)e, pv ? pv : model->net.pv, dlog, NULL, value));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaModelNextEventTime(StgssaModel model, PetscReal t, PetscReal *t_next)
{
  PetscFunctionBegin;
  PetscCheck(model->def, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "StgssaModelNextEventTime: the model is not loaded");
  *t_next = StgssaModelDefNextEventTime(model->def, t);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaModelEventOccursAt(StgssaModel model, PetscInt e, PetscReal t, PetscBool *occurs)
{
  PetscFunctionBegin;
  PetscCheck(model->def, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "StgssaModelEventOccursAt: the model is not loaded");
  PetscCheck(e >= 0 && e < model->def->nevents, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "StgssaModelEventOccursAt: event %" PetscInt_FMT " of %d", e, model->def->nevents);
  *occurs = StgssaModelDefEventAt(model->def, (int)e, t) ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaModelGetDef(StgssaModel model, const StgssaModelDef **def)
{
  PetscFunctionBegin;
  PetscCheck(model->def, model->comm, PETSC_ERR_ORDER, "Model not loaded");
  *def = model->def;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaModelGetNetwork(StgssaModel model, const StgssaNetwork **net)
{
  PetscFunctionBegin;
  PetscCheck(model->def, model->comm, PETSC_ERR_ORDER, "Model not loaded");
  *net = &model->net;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaModelFindSpecies(StgssaModel model, const char name[], PetscInt *idx)
{
  PetscFunctionBegin;
  PetscCheck(model->def, model->comm, PETSC_ERR_ORDER, "Model not loaded");
  *idx = StgssaModelDefFindSpecies(model->def, name);
  PetscFunctionReturn(0);
}

/* "NAME = EXPR" of derived parameter m, for messages. */
static void StgssaModelDerivedText(const StgssaModelDef *d, int m, char *buf, size_t len)
{
  char e[200];
  if (StgssaExprToString(d->params[m].expr, StgssaModelNamer, (void *)d, e, sizeof e) < 0) (void)PetscStrncpy(e, "(expression)", sizeof e);
  (void)PetscSNPrintf(buf, len, "%s = %s", d->params[m].name, e);
}

/* Fitted parameter q of a model with derived quantities: what depends on it. dep[m] = 1 when
   parameter m is q or is derived from it (transitively). Initial counts and inputs that depend on
   q are refused (counts are integers; input signals take fitted values directly only); a rate
   law reading a derived parameter that depends on q gets the chain rule (StgssaPropensityGrad);
   a mass-action rate that is a derived parameter follows q when it is homogeneous
   of degree 1 in q (k = q * terms without q: d log k / d log q = 1, Euler) or of degree 0 (no
   dependence on the log scale), else refused. */
static PetscErrorCode StgssaModelFitDerived(StgssaModel model, PetscInt P, const PetscInt fit_param[], PetscInt rxn_fit[])
{
  const StgssaModelDef *d = model->def;
  int                  *dep, *deg;
  char                  text[256], msg[1024];

  PetscFunctionBegin;
#define FIT_FAIL_IF(c, ...) \
  do { \
    if (c) { \
      PetscCall(PetscSNPrintf(msg, sizeof msg, __VA_ARGS__)); \
      goto fail; \
    } \
  } while (0)
  PetscCall(PetscMalloc2(d->nparams + 1, &dep, d->nparams + 1, &deg));
  for (PetscInt q = 0; q < P; q++) {
    const int   fq = (int)fit_param[q];
    const char *fn = d->params[fq].name;
    PetscBool   changed = PETSC_TRUE;
    for (int m = 0; m < d->nparams; m++) dep[m] = m == fq;
    while (changed) { /* transitive closure over the (acyclic) definitions */
      changed = PETSC_FALSE;
      for (int m = 0; m < d->nparams; m++) {
        int        n;
        const int *u;
        if (dep[m] || !d->params[m].expr) continue;
        u = StgssaExprUsedParams(d->params[m].expr, &n);
        for (int k = 0; k < n && !dep[m]; k++)
          if (dep[u[k]]) dep[m] = changed = PETSC_TRUE;
      }
    }
    FIT_FAIL_IF(!(StgssaModelDefParamDegrees(d, fq, deg) == 0), "-stgssa_fit: out of memory");
    for (int s = 0; s < d->nspecies; s++) {
      int        n;
      const int *u = d->species[s].init_expr ? StgssaExprUsedParams(d->species[s].init_expr, &n) : NULL;
      for (int k = 0; u && k < n; k++)
        FIT_FAIL_IF(!(!dep[u[k]]), "-stgssa_fit: parameter '%s' sets the initial count of species '%s' (%s:%d); initial counts are whole numbers and cannot be fitted by gradients (fit the rates only)", fn,
                   d->species[s].name, d->filename, d->species[s].line);
    }
    for (int i = 0; i < d->ninputs; i++) {
      const StgssaInputDef *in = &d->inputs[i];
      int                   n  = 0;
      const int            *u  = in->kind == STGSSA_INPUT_EXPR ? StgssaExprUsedParams(in->expr, &n) : NULL;
      for (int k = 0; k < n; k++)
        FIT_FAIL_IF(!(u[k] == fq || !dep[u[k]]), "-stgssa_fit: parameter '%s' reaches input '%s' (%s:%d) through the derived parameter '%s'; inputs follow fitted parameters only directly (fit '%s' after freeing it with -stgssa_parameters %s=VALUE)", fn,
                   in->name, d->filename, in->line, d->params[u[k]].name, d->params[u[k]].name, d->params[u[k]].name);
      for (int k = 0; in->kind == STGSSA_INPUT_TABLE && k < in->npieces; k++)
        FIT_FAIL_IF(!(in->vparam[k] < 0 || in->vparam[k] == fq || !dep[in->vparam[k]]), "-stgssa_fit: parameter '%s' reaches input '%s' (%s:%d) through the derived parameter '%s'; inputs follow fitted parameters only directly", fn, in->name,
                   d->filename, in->line, d->params[in->vparam[k]].name);
    }
    for (int j = 0; j < d->nreactions; j++) {
      const StgssaReactionDef *r = &d->reactions[j];
      if (r->law) continue; /* laws: the chain rule through derived parameters (StgssaPropensityGrad) */
      if (r->param >= 0 && r->param != fq && dep[r->param]) {
        StgssaModelDerivedText(d, r->param, text, sizeof text);
        FIT_FAIL_IF(!(deg[r->param] == 1 || deg[r->param] == 0),
                   "-stgssa_fit: the rate of reaction %d (%s:%d) is the derived parameter %s (line %d), which is not proportional to the fitted '%s' (rate = %s x terms without it is needed for the log-rate gradient); fit '%s' after freeing it with -stgssa_parameters %s=VALUE", j + 1, d->filename, r->line, text,
                   d->params[r->param].line, fn, fn, d->params[r->param].name, d->params[r->param].name);
        if (deg[r->param] == 1) {
          FIT_FAIL_IF(!(!rxn_fit || rxn_fit[j] < 0 || rxn_fit[j] == q),
                     "-stgssa_fit: the rate of reaction %d (%s:%d) is the derived parameter %s (line %d), proportional to two fitted parameters ('%s' and '%s'); a mass-action rate may follow one fitted parameter", j + 1, d->filename, r->line, text, d->params[r->param].line,
                     d->params[fit_param[rxn_fit[j]]].name, fn);
          if (rxn_fit) rxn_fit[j] = q;
        }
      }
    }
  }
  PetscCall(PetscFree2(dep, deg));
  PetscFunctionReturn(0);
fail: /* the message is raised after the work arrays are freed */
  PetscCall(PetscFree2(dep, deg));
  SETERRQ(model->comm, PETSC_ERR_ARG_WRONG, "%s", msg);
#undef FIT_FAIL_IF
}

/* The model's parameter names sorted once (ties by index: the first of equal names, as
   StgssaModelDefFindParam), so that resolving P fitted names costs O((P + n) log n) instead of
   O(P n): at P = 10^4 the linear look-ups and the pairwise duplicate test were 10^8 steps each. */
static const StgssaModelDef *stgssa_sort_def; /* qsort has no context argument */
static int StgssaParamCmp(const void *a, const void *b)
{
  const PetscInt i = *(const PetscInt *)a, j = *(const PetscInt *)b;
  const int      c = strcmp(stgssa_sort_def->params[i].name, stgssa_sort_def->params[j].name);
  return c ? c : (i > j) - (i < j);
}

static int StgssaParamFindSorted(const StgssaModelDef *d, const PetscInt order[], const char *name)
{
  PetscInt lo = 0, hi = d->nparams;
  while (lo < hi) {
    const PetscInt mid = lo + (hi - lo) / 2;
    if (strcmp(d->params[order[mid]].name, name) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < d->nparams && !strcmp(d->params[order[lo]].name, name) ? (int)order[lo] : -1;
}

PetscErrorCode StgssaModelResolveFit(StgssaModel model, PetscInt P, const char *const names[], PetscInt fit_param[], PetscInt rxn_fit[])
{
  const StgssaModelDef *d = model->def;
  PetscInt             *order, *q_of; /* sorted parameter indices; fitted index of each parameter (-1: not fitted) */

  PetscFunctionBegin;
  PetscCheck(d, model->comm, PETSC_ERR_ORDER, "Model not loaded");
  PetscCall(PetscMalloc2(d->nparams + 1, &order, d->nparams + 1, &q_of));
  for (PetscInt i = 0; i < d->nparams; i++) order[i] = i, q_of[i] = -1;
  stgssa_sort_def = d;
  qsort(order, (size_t)d->nparams, sizeof(PetscInt), StgssaParamCmp);
  stgssa_sort_def = NULL;
  for (PetscInt q = 0; q < P; q++) {
    const int       idx = StgssaParamFindSorted(d, order, names[q]);
    const PetscBool dup = (PetscBool)(idx >= 0 && q_of[idx] >= 0);
    if (idx < 0 || dup) PetscCall(PetscFree2(order, q_of)); /* the errors below */
    if (idx < 0) {
      char known[2048] = "";
      for (int i = 0; i < d->nparams; i++) {
        if (i) PetscCall(StgssaStrlcat(known, ", ", sizeof(known)));
        PetscCall(StgssaStrlcat(known, d->params[i].name, sizeof(known)));
      }
      SETERRQ(model->comm, PETSC_ERR_ARG_WRONG, "-stgssa_fit: unknown parameter '%s'; model %s defines: %s", names[q], d->filename, known);
    }
    PetscCheck(!dup, model->comm, PETSC_ERR_ARG_WRONG, "-stgssa_fit: parameter '%s' listed twice", names[q]);
    if (d->params[idx].expr) {
      char text[256];
      PetscCall(PetscFree2(order, q_of));
      StgssaModelDerivedText(d, idx, text, sizeof text);
      SETERRQ(model->comm, PETSC_ERR_ARG_WRONG, "-stgssa_fit: parameter '%s' is derived (%s:%d: %s) and follows the parameters it is computed from; fit those, or free it with -stgssa_parameters %s=VALUE", names[q], d->filename, d->params[idx].line, text,
              names[q]);
    }
    if (!(d->params[idx].value > 0)) {
      PetscCall(PetscFree2(order, q_of));
      SETERRQ(model->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_fit: parameter '%s' is %g; log-rates need a positive value", names[q], d->params[idx].value);
    }
    fit_param[q] = idx;
    q_of[idx]    = q;
  }
  if (rxn_fit)
    for (int j = 0; j < d->nreactions; j++) {
      const PetscInt k = d->reactions[j].param;
      rxn_fit[j]       = k >= 0 && k < d->nparams ? q_of[k] : -1;
    }
  PetscCall(PetscFree2(order, q_of));
  if (StgssaModelDefHasDerived(d)) PetscCall(StgssaModelFitDerived(model, P, fit_param, rxn_fit));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaModelDestroy(StgssaModel *model)
{
  PetscFunctionBegin;
  if (!*model) PetscFunctionReturn(0);
  PetscCall(StgssaNetworkDestroy_Private(&(*model)->net));
  StgssaModelDefFree(&(*model)->def);
  PetscCall(PetscFree(*model));
  PetscFunctionReturn(0);
}
