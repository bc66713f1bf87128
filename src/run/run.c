/* SPDX-License-Identifier: BSD-2-Clause */
/* StgssaRun: one run (simulate | gradient | optimize | fsp) assembled from library objects. */
#include <stgssa/stgssa.h>
#include <stgssa/fsp.h>
#include <stgssa/run.h>
#include <stgssa/ode.h>
#include <math.h>
#include "../stgssa_impl.h"

const char *const StgssaModes[] = {"simulate", "gradient", "optimize", "fsp", "ode", "StgssaMode", "STGSSA_MODE_", NULL};

struct _p_StgssaRun {
  MPI_Comm   comm;
  char       model[PETSC_MAX_PATH_LEN];  /* -stgssa_model: model file (required) */
  PetscBool  have_model;                 /* -stgssa_model was given */
  char       output[PETSC_MAX_PATH_LEN]; /* -stgssa_output: HDF5 result file */
  StgssaMode mode;                       /* -stgssa_mode */
  PetscBool  view_model;                 /* -stgssa_view_model: print the parsed model */
  PetscBool  setup;
  PetscReal  t0; /* MPI_Wtime() when Execute began: /run wall_seconds */
  /* objects; those a mode does not use stay unused */
  StgssaModel     model_obj;
  StgssaEnsemble  ens;
  StgssaEvaluator ev;
  StgssaObjective obj;
  StgssaOptimizer opt;
  StgssaFSP       fsp;
  StgssaODE       ode; /* -stgssa_mode ode */
  StgssaData      data; /* -stgssa_data, loaded before the ensemble (its times are sample times) */
  StgssaTraces    traces; /* -stgssa_data_traces: per-cell traces, loaded before the ensemble (times, default correlations) */
  PetscBool       have_data;
  char            datafile[PETSC_MAX_PATH_LEN];
  /* gradient mode with a loss; optimize mode */
  PetscBool  has_loss;
  PetscReal  loss, *grad, *stderr_;
  /* -stgssa_start_from ode: the rates of the fit of the means, applied before the fit */
  PetscBool  start_ode;
  char      *start_assign;
};
static const char *const StgssaStartFrom[] = {"none", "ode", "StgssaStartFrom", "STGSSA_START_", NULL};

PetscErrorCode StgssaRunCreate(MPI_Comm comm, StgssaRun *run)
{
  StgssaRun r;

  PetscFunctionBegin;
  PetscCall(StgssaInitializePackage());
  PetscCall(PetscNew(&r));
  r->comm = comm;
  r->mode = STGSSA_MODE_OPTIMIZE;
  r->loss = (PetscReal)NAN;
  PetscCall(PetscStrncpy(r->output, "stgssa_out.h5", sizeof(r->output)));
  PetscCall(StgssaModelCreate(comm, &r->model_obj));
  PetscCall(StgssaEnsembleCreate(comm, &r->ens));
  PetscCall(StgssaEvaluatorCreate(comm, &r->ev));
  PetscCall(StgssaObjectiveCreate(comm, &r->obj));
  PetscCall(StgssaOptimizerCreate(comm, &r->opt));
  PetscCall(StgssaFSPCreate(comm, &r->fsp));
  PetscCall(StgssaODECreate(comm, &r->ode));
  PetscCall(StgssaDataCreate(comm, &r->data));
  *run = r;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaRunSetFromOptions(StgssaRun r)
{
  PetscBool help = PETSC_FALSE;

  PetscFunctionBegin;
  PetscOptionsBegin(r->comm, NULL, "stgssa_hpc run options", "StgssaRun");
  PetscCall(PetscOptionsString("-stgssa_model", "Model file (.model, or BioNetGen .net; see README)", "StgssaRun", r->model, r->model, sizeof(r->model), &r->have_model));
  PetscCall(PetscOptionsEnum("-stgssa_mode", "What to run", "StgssaRun", StgssaModes, (PetscEnum)r->mode, (PetscEnum *)&r->mode, NULL));
  PetscCall(PetscOptionsString("-stgssa_output", "HDF5 output file (written atomically)", "StgssaRun", r->output, r->output, sizeof(r->output), NULL));
  PetscCall(PetscOptionsBool("-stgssa_view_model", "Print the model as parsed", "StgssaRun", r->view_model, &r->view_model, NULL));
  {
    PetscInt start = r->start_ode ? 1 : 0;
    PetscCall(PetscOptionsEList("-stgssa_start_from", "Optimize mode: none, or ode (first fit the data's means with the mean-field ODE, quietly, and start the fit from its rates)", "StgssaRun", StgssaStartFrom, 2, StgssaStartFrom[start], &start, NULL));
    r->start_ode = (PetscBool)(start == 1);
  }
  PetscOptionsEnd();
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) { /* list every option with its default */
    PetscCall(StgssaModelSetFromOptions(r->model_obj));
    PetscCall(StgssaEnsembleSetFromOptions(r->ens));
    PetscCall(StgssaEvaluatorSetFromOptions(r->ev));
    PetscCall(StgssaObjectiveSetFromOptions(r->obj));
    PetscCall(StgssaDataSetFromOptions(r->data));
    PetscCall(StgssaOptimizerSetFromOptions(r->opt));
    PetscCall(StgssaFSPSetFromOptions(r->fsp));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaRunSetOutput(StgssaRun r, const char path[])
{
  PetscFunctionBegin;
  PetscCall(PetscStrncpy(r->output, path, sizeof(r->output)));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaRunGetMode(StgssaRun r, StgssaMode *mode)
{
  PetscFunctionBegin;
  *mode = r->mode;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaRunIsExact(StgssaRun r, PetscBool *exact)
{
  PetscFunctionBegin;
  *exact = (PetscBool)(r->mode == STGSSA_MODE_FSP || r->mode == STGSSA_MODE_ODE);
  if (r->setup && (r->mode == STGSSA_MODE_GRADIENT || r->mode == STGSSA_MODE_OPTIMIZE)) {
    StgssaGradientType gt;
    PetscCall(StgssaEvaluatorGetGradientType(r->ev, &gt));
    *exact = (PetscBool)(gt == STGSSA_GRADIENT_FSP || gt == STGSSA_GRADIENT_ODE);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaRunGetLoss(StgssaRun r, PetscReal *loss)
{
  PetscFunctionBegin;
  *loss = r->loss;
  PetscFunctionReturn(0);
}

/* -stgssa_data, in every mode, before the ensemble's sampling is fixed: the data's columns must
   be species or groups of the model, and its times are sample times (StgssaEnsembleSetDataTimes). */
static PetscErrorCode StgssaRunLoadData(StgssaRun r)
{
  const StgssaModelDef *def;
  const char          **names;
  char                  what[PETSC_MAX_PATH_LEN + 64];
  PetscInt              nt;
  const PetscReal      *times;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-stgssa_data", r->datafile, sizeof(r->datafile), &r->have_data));
  r->have_data = (PetscBool)(r->have_data && r->datafile[0]);
  if (!r->have_data) PetscFunctionReturn(0);
  PetscCall(StgssaModelGetDef(r->model_obj, &def));
  PetscCall(PetscMalloc1(def->nspecies + def->ngroups + def->nrules, &names));
  for (int k = 0; k < def->nspecies; k++)
    names[k] = def->species[k].name;
  for (int k = 0; k < def->ngroups; k++)
    names[def->nspecies + k] = def->groups[k].name;
  for (int k = 0; k < def->nrules; k++) /* expression observables: named, so that a loss can say what it cannot do with them */
    names[def->nspecies + def->ngroups + k] = def->rules[k].name;
  PetscCall(PetscSNPrintf(what, sizeof(what), "species%s of the model %s", def->ngroups ? " or groups" : "", def->filename));
  PetscCall(StgssaDataSetKnownNames(r->data, def->nspecies + def->ngroups + def->nrules, names, what));
  PetscCall(PetscFree(names));
  PetscCall(StgssaDataSetFromOptions(r->data));
  PetscCall(StgssaDataLoad(r->data, r->datafile));
  PetscCall(StgssaDataGetTimes(r->data, &nt, &times));
  PetscCall(StgssaEnsembleSetDataTimes(r->ens, nt, times, r->datafile));
  { /* a fit observes what the data holds unless -stgssa_observe says otherwise: the other species'
       moments and histograms (with their derivatives) cost evaluation time and enter no loss */
    PetscBool given;
    PetscInt  ns;
    PetscCall(PetscOptionsHasName(NULL, NULL, "-stgssa_observe", &given));
    PetscCall(StgssaDataGetNumSpecies(r->data, &ns));
    if (!given && ns > 0 && (r->mode == STGSSA_MODE_OPTIMIZE || r->mode == STGSSA_MODE_GRADIENT)) {
      const char **obs;
      PetscCall(PetscMalloc1(ns, &obs));
      for (PetscInt k = 0; k < ns; k++) PetscCall(StgssaDataGetSpeciesName(r->data, k, &obs[k]));
      PetscCall(StgssaEnsembleSetObserved(r->ens, ns, obs));
      PetscCall(PetscFree(obs));
    }
  }
  PetscFunctionReturn(0);
}

/* -stgssa_data_traces FILE.csv (per-cell traces), before the ensemble's sampling is fixed: its
   times are sample times; without -stgssa_correlate the auto-correlation of every column at lags
   t_j - t_0 (j < T/2) is recorded; without -stgssa_observe the columns are observed. */
static PetscErrorCode StgssaRunLoadTraces(StgssaRun r)
{
  const StgssaModelDef *def;
  const char          **names;
  char                  path[PETSC_MAX_PATH_LEN], what[PETSC_MAX_PATH_LEN + 64], line[2048];
  PetscBool             set, given;
  PetscInt              nt, nc;
  const PetscReal      *times;
  const char *const    *cols;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-stgssa_data_traces", path, sizeof(path), &set));
  if (!set || !path[0]) PetscFunctionReturn(0);
  PetscCall(StgssaModelGetDef(r->model_obj, &def));
  PetscCall(PetscMalloc1(def->nspecies + def->ngroups + 1, &names));
  for (int k = 0; k < def->nspecies; k++) names[k] = def->species[k].name;
  for (int k = 0; k < def->ngroups; k++) names[def->nspecies + k] = def->groups[k].name;
  PetscCall(PetscSNPrintf(what, sizeof(what), "species%s of the model %s", def->ngroups ? " or groups" : "", def->filename));
  PetscCall(StgssaTracesDestroy(&r->traces));
  PetscCall(StgssaTracesLoad(r->comm, path, def->nspecies + def->ngroups, names, what, &r->traces));
  PetscCall(PetscFree(names));
  PetscCall(StgssaTracesGetTimes(r->traces, &nt, &times));
  PetscCall(StgssaEnsembleSetDataTimes(r->ens, nt, times, path));
  PetscCall(StgssaTracesGetColumns(r->traces, &nc, &cols));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-stgssa_observe", &given));
  if (!given) PetscCall(StgssaEnsembleSetObserved(r->ens, nc, cols));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-stgssa_correlate", &given));
  PetscCall(StgssaTracesGetSummary(r->traces, line, sizeof(line)));
  PetscCall(PetscPrintf(r->comm, "traces: %s\n", line));
  {
    PetscBool loss_given;
    PetscCall(PetscOptionsHasName(NULL, NULL, "-stgssa_loss", &loss_given));
    if (!loss_given && r->mode != STGSSA_MODE_SIMULATE) PetscCall(PetscPrintf(r->comm, "traces: loss correlation (the default with -stgssa_data_traces): reduced chi-square of the means and covariances, weights from the data's standard errors across cells\n"));
  }
  if (!given) {
    StgssaCorrelation c;
    PetscCall(PetscMemzero(&c, sizeof(c)));
    PetscCall(StgssaTracesDefaultCorrelation(r->traces, &c));
    PetscCall(StgssaEnsembleSetCorrelation(r->ens, &c));
    PetscCall(PetscPrintf(r->comm, "traces: no -stgssa_correlate: auto-correlation of every column at lags 0..%g (%" PetscInt_FMT " lags, the first half of the data times)\n", (double)c.lags[c.lag_ptr[1] - 1], c.lag_ptr[1]));
    PetscCall(StgssaCorrelationReset(&c));
  }
  PetscFunctionReturn(0);
}

/* The start-up line: what the data gave (times, cells, columns) and the sampling inferred from it. */
static PetscErrorCode StgssaRunViewData(StgssaRun r)
{
  char           line[2048];
  StgssaSampling smp;
  PetscBool      tfinal_set;
  PetscInt       nreq, ndata;

  PetscFunctionBegin;
  if (!r->have_data) PetscFunctionReturn(0);
  PetscCall(StgssaDataGetSummary(r->data, line, sizeof(line)));
  PetscCall(StgssaEnsembleGetSampling(r->ens, &smp));
  PetscCall(StgssaEnsembleGetRequestedTimes(r->ens, &tfinal_set, &nreq, &ndata));
  PetscCall(PetscPrintf(r->comm, "data: %s; ", line));
  if (!ndata)
    PetscCall(PetscPrintf(r->comm, "compared at the last sample time %.6g", (double)smp.sample_times[smp.nsample - 1]));
  else if (!nreq || smp.nsample == ndata)
    PetscCall(PetscPrintf(r->comm, "sample times = data times%s", nreq ? " (every -stgssa_sample_times among them)" : ""));
  else
    PetscCall(PetscPrintf(r->comm, "sample times = data times + %" PetscInt_FMT " of -stgssa_sample_times (%" PetscInt_FMT " in all)", smp.nsample - ndata, smp.nsample));
  {
    PetscInt         nt;
    const PetscReal *dt;
    PetscCall(StgssaDataGetTimes(r->data, &nt, &dt));
    PetscCall(PetscPrintf(r->comm, "; tfinal = %.6g (%s)\n", (double)smp.tfinal, tfinal_set ? "-stgssa_tfinal" : !ndata ? "default" : smp.tfinal > dt[nt - 1] ? "last sample time" : "last data time"));
  }
  PetscFunctionReturn(0);
}

/* -stgssa_start_from ode: the same run on a copy of the options as a fit of the means by the
   mean-field ODE (StgssaODEStartOptions), quiet; one summary line; its rates kept for SetUp. */
static PetscErrorCode StgssaRunStartFromODE(StgssaRun r)
{
  PetscOptions        db;
  StgssaRun           in = NULL;
  PetscErrorCode      ierr;
  const PetscReal    *rates = NULL;
  const char *const  *names = NULL;
  PetscReal           loss  = NAN;
  PetscInt            P = 0, its = 0;
  Tao                 tao;
  PetscLogDouble      t0, t1;
  PetscBool           bounded;
  PetscReal          *start;
  PetscInt            nclamp = 0;

  PetscFunctionBegin;
  PetscCheck(r->mode == STGSSA_MODE_OPTIMIZE, r->comm, PETSC_ERR_ARG_INCOMP, "-stgssa_start_from ode applies to -stgssa_mode optimize (got %s)", StgssaModes[r->mode]);
  PetscCall(PetscTime(&t0));
  PetscCall(StgssaODEStartOptions(r->output, &db));
  PetscCall(PetscOptionsPush(db));
  PetscCall(StgssaODEQuiet(PETSC_TRUE));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = StgssaRunCreate(r->comm, &in);
  if (!ierr) ierr = StgssaRunSetFromOptions(in);
  if (!ierr) ierr = StgssaRunSetUp(in);
  if (!ierr) ierr = StgssaOptimizerSolve(in->opt);
  if (!ierr) ierr = StgssaOptimizerGetResult(in->opt, &rates, &loss);
  if (!ierr) ierr = StgssaEvaluatorGetFit(in->ev, &P, &names);
  if (!ierr) ierr = StgssaOptimizerGetTao(in->opt, &tao);
  if (!ierr) ierr = TaoGetIterationNumber(tao, &its);
  PetscCall(PetscPopErrorHandler());
  PetscCall(StgssaODEQuiet(PETSC_FALSE));
  PetscCall(PetscOptionsPop());
  PetscCall(PetscOptionsDestroy(&db));
  if (ierr) {
    char msg[1536];
    PetscCall(StgssaErrorText(ierr, msg, sizeof(msg)));
    PetscCall(StgssaRunDestroy(&in));
    SETERRQ(r->comm, ierr, "-stgssa_start_from ode: the fit of the means by the mean-field ODE failed: %s", msg);
  }
  PetscCall(PetscOptionsHasName(NULL, NULL, "-stgssa_bounds", &bounded));
  {
    size_t len = 64 * (size_t)(P + 1) + 1;
    char   item[128];
    PetscCall(PetscFree(r->start_assign));
    PetscCall(PetscCalloc1(len, &r->start_assign));
    const StgssaModelDef *d;
    PetscCall(StgssaModelGetDef(r->model_obj, &d));
    PetscCall(PetscMalloc1(P + 1, &start));
    for (PetscInt p = 0; p < P; p++) { /* %.17g: the rates round-trip exactly */
      PetscReal v0 = NAN;
      start[p]     = rates[p];
      for (int m = 0; m < d->nparams; m++)
        if (!strcmp(d->params[m].name, names[p])) v0 = d->params[m].value;
      if (!bounded && v0 > 0) { /* no -stgssa_bounds: a means-only fit can run off along directions the means do not see (k_on -> 1e7 makes the SSA crawl); keep the start within a factor 100 of the given one */
        PetscReal c = PetscMin(PetscMax(start[p], v0 / 100), 100 * v0);
        nclamp += (c != start[p]);
        start[p] = c;
      }
      PetscCall(PetscSNPrintf(item, sizeof(item), "%s%s=%.17g", p ? "," : "", names[p], (double)start[p]));
      PetscCall(StgssaStrlcat(r->start_assign, item, len));
    }
  }
  PetscCall(PetscTime(&t1));
  PetscCall(PetscPrintf(r->comm, "start_from ode: the means fitted by the mean-field ODE (%" PetscInt_FMT " iterations, loss %.6g on the means, %.3g s); the fit starts from", its, (double)loss, (double)(t1 - t0)));
  for (PetscInt p = 0; p < P; p++) PetscCall(PetscPrintf(r->comm, " %s = %.6g", names[p], (double)start[p]));
  if (nclamp) PetscCall(PetscPrintf(r->comm, " (%" PetscInt_FMT " rate%s clamped to a factor 100 of the start values: without -stgssa_bounds the means-only fit ran off along directions the means do not identify)", nclamp, nclamp > 1 ? "s" : ""));
  PetscCall(PetscPrintf(r->comm, "\n"));
  PetscCall(PetscFree(start));
  PetscCall(StgssaRunDestroy(&in));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaRunSetUp(StgssaRun r)
{
  PetscFunctionBegin;
  if (r->setup) PetscFunctionReturn(0);
  PetscCheck(r->have_model && r->model[0], r->comm, PETSC_ERR_USER_INPUT, "No model given: expected -stgssa_model FILE (see -help)");
  PetscCall(StgssaOutputCheckPath(r->comm, r->output));
  PetscCall(StgssaModelLoad(r->model_obj, r->model));
  PetscCall(StgssaModelSetFromOptions(r->model_obj));
  if (r->start_ode) PetscCall(StgssaRunStartFromODE(r));
  if (r->start_assign) PetscCall(StgssaModelSetParameters(r->model_obj, r->start_assign, "-stgssa_start_from ode"));
  if (r->view_model) PetscCall(StgssaModelView(r->model_obj, NULL));
  PetscCall(StgssaEnsembleSetModel(r->ens, r->model_obj));
  PetscCall(StgssaRunLoadData(r));
  PetscCall(StgssaRunLoadTraces(r));
  PetscCall(StgssaEnsembleSetFromOptions(r->ens));
  PetscCall(StgssaEnsembleSetUp(r->ens));
  {
    StgssaSSAMethod method;
    PetscCall(StgssaEnsembleGetSSAMethod(r->ens, &method));
    PetscCheck(method == STGSSA_SSA_DIRECT || method == STGSSA_SSA_AUTO || r->mode == STGSSA_MODE_SIMULATE, r->comm, PETSC_ERR_ARG_INCOMP, "-stgssa_ssa_method %s applies to -stgssa_mode simulate only; mode %s %s", StgssaSSAMethods[method], StgssaModes[r->mode],
               r->mode == STGSSA_MODE_FSP ? "solves the master equation and simulates nothing" : r->mode == STGSSA_MODE_ODE ? "integrates the mean-field ODE and simulates nothing" : "uses the direct method (its derivative estimators are built on the direct method's random numbers): drop the option");
  }
  if (r->mode == STGSSA_MODE_SIMULATE || r->mode == STGSSA_MODE_GRADIENT) PetscCall(StgssaEnsembleSetDefaultBurnin(r->ens)); /* rates fixed: a default burn-in from them holds */
  if (r->mode == STGSSA_MODE_SIMULATE) PetscCall(StgssaEnsembleCheckBurnin(r->ens));
  if (r->mode == STGSSA_MODE_FSP) { /* exact distributions at the sample times of the ensemble options */
    StgssaSampling smp;
    PetscCall(StgssaEnsembleGetSampling(r->ens, &smp));
    PetscCall(StgssaFSPSetModel(r->fsp, r->model_obj));
    PetscCall(StgssaFSPSetTimes(r->fsp, smp.nsample, smp.sample_times));
    PetscCall(StgssaFSPSetFromOptions(r->fsp));
    PetscCall(StgssaEnsembleSetFSPTimes(r->ens, r->fsp)); /* data times win over the FSP's own reading of the times */
    PetscCall(StgssaFSPSetUp(r->fsp));
  } else if (r->mode == STGSSA_MODE_ODE) {
    PetscCall(StgssaODEModeSetUp(r->ode, r->model_obj, r->ens));
  } else if (r->mode != STGSSA_MODE_SIMULATE) {
    PetscCall(StgssaEvaluatorSetEnsemble(r->ev, r->ens, r->model_obj));
    PetscCall(StgssaEvaluatorSetFromOptions(r->ev));
    PetscCall(StgssaObjectiveSetFromOptions(r->obj));
    if (r->have_data) PetscCall(StgssaObjectiveSetData(r->obj, r->data));
    if (r->traces) PetscCall(StgssaObjectiveSetTraces(r->obj, r->traces));
    PetscCall(StgssaObjectiveSetUp(r->obj, r->ev));
    PetscCall(StgssaEvaluatorSetUp(r->ev));
    if (r->mode == STGSSA_MODE_OPTIMIZE) {
      PetscCall(StgssaOptimizerSetProblem(r->opt, r->model_obj, r->ens, r->ev, r->obj));
      PetscCall(StgssaOptimizerSetOutput(r->opt, r->output));
      PetscCall(StgssaOptimizerSetFromOptions(r->opt));
      PetscCall(StgssaOptimizerSetUp(r->opt));
    }
  }
  PetscCall(StgssaOptionsCheckUnknown(r->comm)); /* every object has read its options: a name none of them knows is a typo */
  r->setup = PETSC_TRUE;
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteSimulate(hid_t file, void *ctx)
{
  PetscFunctionBegin;
  PetscCall(StgssaEnsembleWriteHDF5(((StgssaRun)ctx)->ens, file));
  PetscFunctionReturn(0);
}

/* /run: the attributes common to all modes (StgssaH5WriteRunInfo) and this run's wall time;
   returns the open group for mode-specific attributes (close it). */
static PetscErrorCode StgssaRunWriteRunGroup(StgssaRun r, hid_t file, hid_t *run)
{
  const StgssaModelDef *def;

  PetscFunctionBegin;
  PetscCall(StgssaModelGetDef(r->model_obj, &def));
  PetscCall(StgssaH5WriteRunInfo(file, r->comm, def->text));
  PetscCallHDF5(*run = H5Gopen2(file, "run", H5P_DEFAULT));
  PetscCall(StgssaH5WriteAttrDouble(*run, "wall_seconds", MPI_Wtime() - r->t0));
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteFSP(hid_t file, void *ctx)
{
  StgssaRun r = (StgssaRun)ctx;
  hid_t     run;

  PetscFunctionBegin;
  PetscCall(StgssaRunWriteRunGroup(r, file, &run));
  PetscCallHDF5(H5Gclose(run));
  PetscCall(StgssaFSPWriteHDF5(r->fsp, file));
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteODE(hid_t file, void *ctx)
{
  StgssaRun r = (StgssaRun)ctx;
  hid_t     run;

  PetscFunctionBegin;
  PetscCall(StgssaRunWriteRunGroup(r, file, &run));
  PetscCall(StgssaH5WriteAttrString(run, "mode", "ode"));
  PetscCallHDF5(H5Gclose(run));
  PetscCall(StgssaODEModeWriteHDF5(r->ode, file));
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteGradient(hid_t file, void *ctx)
{
  StgssaRun      r = (StgssaRun)ctx;
  StgssaSampling smp;
  PetscInt64     events;
  hid_t          run;

  PetscFunctionBegin;
  PetscCall(StgssaEnsembleGetSampling(r->ens, &smp));
  PetscCall(StgssaEvaluatorGetEventCount(r->ev, &events));
  PetscCall(StgssaRunWriteRunGroup(r, file, &run));
  PetscCall(StgssaH5WriteAttrInt64(run, "seed", smp.seed));
  PetscCall(StgssaH5WriteAttrInt64(run, "ntraj", smp.ntraj));
  PetscCall(StgssaH5WriteAttrInt64(run, "events", events));
  {
    PetscReal imb;
    PetscCall(StgssaEvaluatorGetLoadImbalance(r->ev, &imb));
    PetscCall(StgssaH5WriteAttrDouble(run, "events_max_over_mean", imb));
  }
  PetscCallHDF5(H5Gclose(run));
  PetscCall(StgssaEvaluatorWriteHDF5(r->ev, file));
  if (r->has_loss) {
    hid_t    grp;
    PetscInt P;
    hsize_t  dims[1];
    PetscCall(StgssaEvaluatorGetFit(r->ev, &P, NULL));
    dims[0] = (hsize_t)P;
    PetscCallHDF5(grp = H5Gopen2(file, "gradient", H5P_DEFAULT));
    PetscCall(StgssaH5WriteDoubles(grp, "loss", 0, dims, &r->loss));
    PetscCall(StgssaH5WriteDoubles(grp, "gradient", 1, dims, r->grad));
    PetscCall(StgssaH5WriteDoubles(grp, "gradient_stderr", 1, dims, r->stderr_));
    PetscCall(StgssaObjectiveWriteHDF5(r->obj, grp)); /* neg_log_likelihood, fisher, ..., fit/ */
    PetscCallHDF5(H5Gclose(grp));
  }
  PetscFunctionReturn(0);
}

/* One evaluation of moments and their derivatives (and loss, gradient, standard errors with data). */
static PetscErrorCode StgssaRunGradient(StgssaRun r)
{
  PetscInt P;

  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorEvaluate(r->ev));
  PetscCall(StgssaEvaluatorView(r->ev, NULL));
  {
    PetscInt64 capped;
    PetscCall(StgssaEvaluatorGetTrajectoryEnds(r->ev, NULL, &capped));
    if (capped) PetscCall(PetscPrintf(r->comm, "WARNING: %" PetscInt64_FMT " trajectories hit -stgssa_max_events before -stgssa_tfinal (/gradient capped_trajectories): their statistics are biased; raise the cap or shorten -stgssa_tfinal\n", capped));
  }
  PetscCall(StgssaObjectiveIsActive(r->obj, &r->has_loss));
  PetscCall(StgssaEvaluatorGetFit(r->ev, &P, NULL));
  PetscCall(PetscMalloc2(P, &r->grad, P, &r->stderr_));
  if (r->has_loss) {
    const char *const *names;
    PetscCall(StgssaObjectiveCompute(r->obj, r->ev, &r->loss, r->grad, r->stderr_));
    PetscCall(StgssaObjectiveView(r->obj, NULL));
    PetscCall(StgssaEvaluatorGetFit(r->ev, NULL, &names));
    StgssaGradientType gt;
    PetscCall(StgssaEvaluatorGetGradientType(r->ev, &gt));
    PetscCall(PetscPrintf(r->comm, "loss %.6g\n%-12s %14s %14s\n", (double)r->loss, "parameter", "dL/dlog k", "std. error"));
    for (PetscInt p = 0; p < P; p++) {
      if (gt == STGSSA_GRADIENT_FSP || gt == STGSSA_GRADIENT_ODE) PetscCall(PetscPrintf(r->comm, "%-12s %14.6g %14s\n", names[p], (double)r->grad[p], gt == STGSSA_GRADIENT_FSP ? "exact" : "mean-field"));
      else PetscCall(PetscPrintf(r->comm, "%-12s %14.6g %14.6g\n", names[p], (double)r->grad[p], (double)r->stderr_[p]));
    }
    PetscCall(StgssaObjectiveSummarize(r->obj, r->ev, NULL, 0));
    PetscCall(StgssaObjectiveViewResult(r->obj, names, NULL));
  }
  PetscCall(StgssaOutputWrite(r->comm, r->output, WriteGradient, r));
  PetscCall(PetscFree2(r->grad, r->stderr_));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaRunExecute(StgssaRun r)
{
  PetscFunctionBegin;
  PetscCall(StgssaRunSetUp(r));
  PetscCall(StgssaRunViewData(r));
  r->t0 = MPI_Wtime();
  if (r->mode == STGSSA_MODE_GRADIENT || r->mode == STGSSA_MODE_OPTIMIZE) { /* -stgssa_gradient auto: say which route and why */
    PetscBool   automatic;
    const char *why;
    PetscCall(StgssaEvaluatorGetGradientChoice(r->ev, NULL, &automatic, &why));
    if (automatic) PetscCall(PetscPrintf(r->comm, "gradient: %s\n", why));
  }
  {
    PetscBool          steady;
    PetscReal          T, rate;
    StgssaGradientType gt = STGSSA_GRADIENT_SCORE;
    PetscCall(StgssaEnsembleGetBurnin(r->ens, &steady, &T, &rate));
    if (r->mode == STGSSA_MODE_GRADIENT) PetscCall(StgssaEvaluatorGetGradientType(r->ev, &gt));
    if (steady && rate > 0 && r->mode != STGSSA_MODE_FSP && r->mode != STGSSA_MODE_ODE && gt != STGSSA_GRADIENT_FSP)
      PetscCall(PetscPrintf(r->comm, "initial: steady, by an SSA burn-in of %.6g%s (default: 20 relaxation times 1/lambda, lambda = %.6g the slowest relaxation rate of this first-order network%s; -stgssa_initial_burnin sets another)\n", (double)T, r->mode == STGSSA_MODE_OPTIMIZE ? " at the start values" : "", (double)rate,
                            r->mode == STGSSA_MODE_OPTIMIZE ? ", recomputed at every iterate's rates" : ""));
  }
  switch (r->mode) {
  case STGSSA_MODE_SIMULATE:
    PetscCall(StgssaEnsembleRun(r->ens));
    PetscCall(StgssaEnsembleView(r->ens, NULL));
    PetscCall(StgssaOutputWrite(r->comm, r->output, WriteSimulate, r));
    break;
  case STGSSA_MODE_GRADIENT:
    PetscCall(StgssaRunGradient(r));
    break;
  case STGSSA_MODE_FSP:
    PetscCall(StgssaFSPSolve(r->fsp));
    PetscCall(StgssaFSPView(r->fsp, NULL));
    PetscCall(StgssaOutputWrite(r->comm, r->output, WriteFSP, r));
    break;
  case STGSSA_MODE_ODE:
    PetscCall(StgssaODEModeRun(r->ode));
    PetscCall(StgssaOutputWrite(r->comm, r->output, WriteODE, r));
    break;
  case STGSSA_MODE_OPTIMIZE:
    PetscCall(StgssaOptimizerSolve(r->opt));
    PetscCall(StgssaOptimizerView(r->opt, NULL));
    PetscCall(StgssaOptimizerWrite(r->opt));
    PetscCall(StgssaOptimizerGetResult(r->opt, NULL, &r->loss));
    break;
  }
  PetscCall(PetscPrintf(r->comm, "Wrote %s\n", r->output));
  PetscCall(StgssaOptionsViewUnused(r->comm));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaRunDestroy(StgssaRun *run)
{
  StgssaRun r = *run;

  PetscFunctionBegin;
  if (!r) PetscFunctionReturn(0);
  PetscCall(StgssaFSPDestroy(&r->fsp));
  PetscCall(StgssaODEDestroy(&r->ode));
  PetscCall(StgssaOptimizerDestroy(&r->opt));
  PetscCall(StgssaObjectiveDestroy(&r->obj));
  PetscCall(StgssaDataDestroy(&r->data));
  PetscCall(StgssaTracesDestroy(&r->traces));
  PetscCall(StgssaEvaluatorDestroy(&r->ev));
  PetscCall(StgssaEnsembleDestroy(&r->ens));
  PetscCall(StgssaModelDestroy(&r->model_obj));
  PetscCall(PetscFree(r->start_assign));
  PetscCall(PetscFree(*run));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaErrorText(PetscErrorCode ierr, char buf[], size_t len)
{
  const char *text;
  char       *specific;

  PetscFunctionBegin;
  PetscCall(PetscErrorMessage(ierr, &text, &specific));
  PetscCall(PetscStrncpy(buf, specific && specific[0] ? specific : (text ? text : "unknown error"), len));
  PetscFunctionReturn(0);
}
