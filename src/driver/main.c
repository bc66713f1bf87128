/* SPDX-License-Identifier: BSD-2-Clause */
static const char help[] = "stgssa_hpc: fit and simulate exact stochastic kinetic models, distributed with MPI.\n\n"
                           "Usage: mpirun -n P stgssa_hpc -stgssa_model FILE [-stgssa_mode optimize|gradient|simulate] [options]\n"
                           "       mpirun -n P stgssa_hpc -options_file run.opts\n"
                           "Every option with its default: stgssa_hpc -help\n\n";

/*
  The driver only assembles library objects:
    simulate   model -> ensemble -> output
    gradient   model -> ensemble -> evaluator (+ objective with data) -> output
    optimize   model -> ensemble -> evaluator -> objective -> optimizer (TAO) -> output
    fsp        model -> finite state projection (exact distributions, sensitivities) -> output
*/
#include <stgssa/stgssa.h>
#include <stgssa/fsp.h>

typedef enum {
  STGSSA_MODE_SIMULATE,
  STGSSA_MODE_GRADIENT,
  STGSSA_MODE_OPTIMIZE,
  STGSSA_MODE_FSP
} StgssaMode;
static const char *const StgssaModes[] = {"simulate", "gradient", "optimize", "fsp", "StgssaMode", "STGSSA_MODE_", NULL};

typedef struct {
  char       model[PETSC_MAX_PATH_LEN];  /* -stgssa_model: model file (required) */
  PetscBool  have_model;                 /* -stgssa_model was given */
  char       output[PETSC_MAX_PATH_LEN]; /* -stgssa_output: HDF5 result file */
  StgssaMode mode;                       /* -stgssa_mode */
  PetscBool  view_model;                 /* -stgssa_view_model: print the parsed model */
  /* objects; those a mode does not use stay unused */
  StgssaModel     model_obj;
  StgssaEnsemble  ens;
  StgssaEvaluator ev;
  StgssaObjective obj;
  StgssaOptimizer opt;
  StgssaFSP       fsp;
  /* gradient mode with a loss */
  PetscBool  has_loss;
  PetscReal  loss, *grad, *stderr_;
} AppCtx;

static PetscErrorCode AppSetFromOptions(AppCtx *app)
{
  PetscFunctionBegin;
  PetscCall(PetscStrncpy(app->output, "stgssa_out.h5", sizeof(app->output)));
  app->model[0]   = 0;
  app->mode       = STGSSA_MODE_OPTIMIZE;
  app->view_model = PETSC_FALSE;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "stgssa_hpc driver options", NULL);
  PetscCall(PetscOptionsString("-stgssa_model", "Model file (.model, see README)", NULL, app->model, app->model, sizeof(app->model), &app->have_model));
  PetscCall(PetscOptionsEnum("-stgssa_mode", "What to run", NULL, StgssaModes, (PetscEnum)app->mode, (PetscEnum *)&app->mode, NULL));
  PetscCall(PetscOptionsString("-stgssa_output", "HDF5 output file (written atomically)", NULL, app->output, app->output, sizeof(app->output), NULL));
  PetscCall(PetscOptionsBool("-stgssa_view_model", "Print the model as parsed", NULL, app->view_model, &app->view_model, NULL));
  PetscOptionsEnd();
  PetscFunctionReturn(0);
}

/* Load the model and apply every option. All checks of user input happen here, collectively
   (every rank sees the same files and options and reaches the same verdict), before any work. */
static PetscErrorCode SetUpRun(AppCtx *app)
{
  PetscFunctionBegin;
  PetscCheck(app->have_model && app->model[0], PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT, "No model given: expected -stgssa_model FILE (see -help)");
  PetscCall(StgssaOutputCheckPath(PETSC_COMM_WORLD, app->output));
  PetscCall(StgssaModelLoad(app->model_obj, app->model));
  PetscCall(StgssaModelSetFromOptions(app->model_obj));
  if (app->view_model) PetscCall(StgssaModelView(app->model_obj, NULL));
  PetscCall(StgssaEnsembleSetModel(app->ens, app->model_obj));
  PetscCall(StgssaEnsembleSetFromOptions(app->ens));
  PetscCall(StgssaEnsembleSetUp(app->ens));
  if (app->mode == STGSSA_MODE_SIMULATE) PetscFunctionReturn(0);
  if (app->mode == STGSSA_MODE_FSP) { /* exact distributions at the sample times of the ensemble options */
    StgssaSampling smp;
    PetscCall(StgssaEnsembleGetSampling(app->ens, &smp));
    PetscCall(StgssaFSPSetModel(app->fsp, app->model_obj));
    PetscCall(StgssaFSPSetTimes(app->fsp, smp.nsample, smp.sample_times));
    PetscCall(StgssaFSPSetFromOptions(app->fsp));
    PetscCall(StgssaFSPSetUp(app->fsp));
    PetscFunctionReturn(0);
  }
  PetscCall(StgssaEvaluatorSetEnsemble(app->ev, app->ens, app->model_obj));
  PetscCall(StgssaEvaluatorSetFromOptions(app->ev));
  PetscCall(StgssaObjectiveSetFromOptions(app->obj));
  PetscCall(StgssaObjectiveSetUp(app->obj, app->ev));
  PetscCall(StgssaEvaluatorSetUp(app->ev));
  if (app->mode == STGSSA_MODE_OPTIMIZE) {
    PetscCall(StgssaOptimizerSetProblem(app->opt, app->model_obj, app->ens, app->ev, app->obj));
    PetscCall(StgssaOptimizerSetOutput(app->opt, app->output));
    PetscCall(StgssaOptimizerSetFromOptions(app->opt));
    PetscCall(StgssaOptimizerSetUp(app->opt));
  }
  PetscFunctionReturn(0);
}

/* Report a user-input error in one line on rank 0 ("stgssa_hpc: error: file:line:col: ..."),
   without PETSc's developer traceback. */
static PetscErrorCode ReportInputError(PetscErrorCode ierr)
{
  const char *text;
  char       *specific;

  PetscFunctionBegin;
  PetscCall(PetscErrorMessage(ierr, &text, &specific));
  PetscCall(PetscFPrintf(PETSC_COMM_WORLD, PETSC_STDERR, "stgssa_hpc: error: %s\n", specific && specific[0] ? specific : (text ? text : "unknown error")));
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteSimulate(hid_t file, void *ctx)
{
  PetscFunctionBegin;
  PetscCall(StgssaEnsembleWriteHDF5(((AppCtx *)ctx)->ens, file));
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteFSP(hid_t file, void *ctx)
{
  AppCtx               *app = (AppCtx *)ctx;
  const StgssaModelDef *def;

  PetscFunctionBegin;
  PetscCall(StgssaModelGetDef(app->model_obj, &def));
  PetscCall(StgssaH5WriteRunInfo(file, PETSC_COMM_WORLD, def->text));
  PetscCall(StgssaFSPWriteHDF5(app->fsp, file));
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteGradient(hid_t file, void *ctx)
{
  AppCtx               *app = (AppCtx *)ctx;
  const StgssaModelDef *def;
  StgssaSampling        smp;
  PetscInt64            events;
  hid_t                 run;

  PetscFunctionBegin;
  PetscCall(StgssaModelGetDef(app->model_obj, &def));
  PetscCall(StgssaEnsembleGetSampling(app->ens, &smp));
  PetscCall(StgssaEvaluatorGetEventCount(app->ev, &events));
  PetscCall(StgssaH5WriteRunInfo(file, PETSC_COMM_WORLD, def->text));
  PetscCallHDF5(run = H5Gopen2(file, "run", H5P_DEFAULT));
  PetscCall(StgssaH5WriteAttrInt64(run, "seed", smp.seed));
  PetscCall(StgssaH5WriteAttrInt64(run, "ntraj", smp.ntraj));
  PetscCall(StgssaH5WriteAttrInt64(run, "events", events));
  PetscCallHDF5(H5Gclose(run));
  PetscCall(StgssaEvaluatorWriteHDF5(app->ev, file));
  if (app->has_loss) {
    hid_t    grp;
    PetscInt P;
    hsize_t  dims[1];
    PetscCall(StgssaEvaluatorGetFit(app->ev, &P, NULL));
    dims[0] = (hsize_t)P;
    PetscCallHDF5(grp = H5Gopen2(file, "gradient", H5P_DEFAULT));
    PetscCall(StgssaH5WriteDoubles(grp, "loss", 0, dims, &app->loss));
    PetscCall(StgssaH5WriteDoubles(grp, "gradient", 1, dims, app->grad));
    PetscCall(StgssaH5WriteDoubles(grp, "gradient_stderr", 1, dims, app->stderr_));
    PetscCallHDF5(H5Gclose(grp));
  }
  PetscFunctionReturn(0);
}

/* One evaluation of moments and their derivatives (and loss, gradient, standard errors with data). */
static PetscErrorCode RunGradient(AppCtx *app)
{
  PetscInt P;

  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorEvaluate(app->ev));
  PetscCall(StgssaEvaluatorView(app->ev, NULL));
  PetscCall(StgssaObjectiveIsActive(app->obj, &app->has_loss));
  PetscCall(StgssaEvaluatorGetFit(app->ev, &P, NULL));
  PetscCall(PetscMalloc2(P, &app->grad, P, &app->stderr_));
  if (app->has_loss) {
    const char *const *names;
    PetscCall(StgssaObjectiveCompute(app->obj, app->ev, &app->loss, app->grad, app->stderr_));
    PetscCall(StgssaObjectiveView(app->obj, NULL));
    PetscCall(StgssaEvaluatorGetFit(app->ev, NULL, &names));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "loss %.6g\n%-12s %14s %14s\n", (double)app->loss, "parameter", "dL/dlog k", "std. error"));
    for (PetscInt p = 0; p < P; p++) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%-12s %14.6g %14.6g\n", names[p], (double)app->grad[p], (double)app->stderr_[p]));
  }
  PetscCall(StgssaOutputWrite(PETSC_COMM_WORLD, app->output, WriteGradient, app));
  PetscCall(PetscFree2(app->grad, app->stderr_));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  AppCtx         app;
  PetscBool      has_help = PETSC_FALSE;
  PetscErrorCode ierr = 0;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(StgssaInitializePackage());
  PetscCall(PetscMemzero(&app, sizeof(app)));
  PetscCall(PetscOptionsHasHelp(NULL, &has_help));
  PetscCall(AppSetFromOptions(&app));
  PetscCall(StgssaModelCreate(PETSC_COMM_WORLD, &app.model_obj));
  PetscCall(StgssaEnsembleCreate(PETSC_COMM_WORLD, &app.ens));
  PetscCall(StgssaEvaluatorCreate(PETSC_COMM_WORLD, &app.ev));
  PetscCall(StgssaObjectiveCreate(PETSC_COMM_WORLD, &app.obj));
  PetscCall(StgssaOptimizerCreate(PETSC_COMM_WORLD, &app.opt));
  PetscCall(StgssaFSPCreate(PETSC_COMM_WORLD, &app.fsp));
  if (has_help) { /* list every option with its default, then stop */
    PetscCall(StgssaModelSetFromOptions(app.model_obj));
    PetscCall(StgssaEnsembleSetFromOptions(app.ens));
    PetscCall(StgssaEvaluatorSetFromOptions(app.ev));
    PetscCall(StgssaObjectiveSetFromOptions(app.obj));
    PetscCall(StgssaOptimizerSetFromOptions(app.opt));
    PetscCall(StgssaFSPSetFromOptions(app.fsp));
  } else {
    /* bad input: one clear line and exit status 1, nothing written */
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = SetUpRun(&app);
    PetscCall(PetscPopErrorHandler());
    if (ierr) PetscCall(ReportInputError(ierr));
    else if (app.mode == STGSSA_MODE_SIMULATE) {
      PetscCall(StgssaEnsembleRun(app.ens));
      PetscCall(StgssaEnsembleView(app.ens, NULL));
      PetscCall(StgssaOutputWrite(PETSC_COMM_WORLD, app.output, WriteSimulate, &app));
    } else if (app.mode == STGSSA_MODE_GRADIENT) PetscCall(RunGradient(&app));
    else if (app.mode == STGSSA_MODE_FSP) {
      /* a projection too small for -stgssa_fsp_tol shows only after the solve: report it like bad input */
      PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
      ierr = StgssaFSPSolve(app.fsp);
      PetscCall(PetscPopErrorHandler());
      if (ierr) PetscCall(ReportInputError(ierr));
      else {
        PetscCall(StgssaFSPView(app.fsp, NULL));
        PetscCall(StgssaOutputWrite(PETSC_COMM_WORLD, app.output, WriteFSP, &app));
      }
    }
    else {
      PetscCall(StgssaOptimizerSolve(app.opt));
      PetscCall(StgssaOptimizerView(app.opt, NULL));
      PetscCall(StgssaOptimizerWrite(app.opt));
    }
    if (!ierr) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "Wrote %s\n", app.output));
  }
  PetscCall(StgssaFSPDestroy(&app.fsp));
  PetscCall(StgssaOptimizerDestroy(&app.opt));
  PetscCall(StgssaObjectiveDestroy(&app.obj));
  PetscCall(StgssaEvaluatorDestroy(&app.ev));
  PetscCall(StgssaEnsembleDestroy(&app.ens));
  PetscCall(StgssaModelDestroy(&app.model_obj));
  PetscCall(PetscFinalize());
  return ierr ? 1 : 0;
}
