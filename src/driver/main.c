/* SPDX-License-Identifier: BSD-2-Clause */
static const char help[] = "stgssa_hpc: exact stochastic simulation of reaction networks, distributed with MPI.\n\n"
                           "Usage: mpirun -n P stgssa_hpc -stgssa_model FILE [-stgssa_mode simulate] [options]\n"
                           "       stgssa_hpc -options_file run.opts\n"
                           "Every option with its default: stgssa_hpc -help\n\n";

/*
  The driver only assembles library objects: model -> ensemble -> output.
*/
#include <stgssa/stgssa.h>

typedef enum {
  STGSSA_MODE_SIMULATE,
  STGSSA_MODE_GRADIENT
} StgssaMode;
static const char *const StgssaModes[] = {"simulate", "gradient", "StgssaMode", "STGSSA_MODE_", NULL};

typedef struct {
  char       model[PETSC_MAX_PATH_LEN];  /* -stgssa_model: model file (required) */
  char       output[PETSC_MAX_PATH_LEN]; /* -stgssa_output: HDF5 result file */
  StgssaMode mode;                       /* -stgssa_mode */
  PetscBool  view_model;                 /* -stgssa_view_model: print the parsed model */
} AppCtx;

static PetscErrorCode AppSetFromOptions(AppCtx *app, PetscBool *have_model)
{
  PetscFunctionBegin;
  PetscCall(PetscStrncpy(app->output, "stgssa_out.h5", sizeof(app->output)));
  app->model[0]   = 0;
  app->mode       = STGSSA_MODE_SIMULATE;
  app->view_model = PETSC_FALSE;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "stgssa_hpc driver options", NULL);
  PetscCall(PetscOptionsString("-stgssa_model", "Model file (.model, see README)", NULL, app->model, app->model, sizeof(app->model), have_model));
  PetscCall(PetscOptionsEnum("-stgssa_mode", "What to run", NULL, StgssaModes, (PetscEnum)app->mode, (PetscEnum *)&app->mode, NULL));
  PetscCall(PetscOptionsString("-stgssa_output", "HDF5 output file (written atomically)", NULL, app->output, app->output, sizeof(app->output), NULL));
  PetscCall(PetscOptionsBool("-stgssa_view_model", "Print the model as parsed", NULL, app->view_model, &app->view_model, NULL));
  PetscOptionsEnd();
  PetscFunctionReturn(0);
}

/* Load the model and apply every option. All checks of user input happen here, collectively
   (every rank sees the same files and options and reaches the same verdict), before any work. */
static PetscErrorCode SetUpRun(AppCtx *app, PetscBool have_model, StgssaModel model, StgssaEnsemble ens, StgssaEvaluator ev, StgssaObjective obj)
{
  PetscFunctionBegin;
  PetscCheck(have_model && app->model[0], PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT, "No model given: expected -stgssa_model FILE (see -help)");
  PetscCall(StgssaOutputCheckPath(PETSC_COMM_WORLD, app->output));
  PetscCall(StgssaModelLoad(model, app->model));
  PetscCall(StgssaModelSetFromOptions(model));
  if (app->view_model) PetscCall(StgssaModelView(model, NULL));
  PetscCall(StgssaEnsembleSetModel(ens, model));
  PetscCall(StgssaEnsembleSetFromOptions(ens));
  PetscCall(StgssaEnsembleSetUp(ens));
  if (app->mode == STGSSA_MODE_GRADIENT) {
    PetscCall(StgssaEvaluatorSetEnsemble(ev, ens, model));
    PetscCall(StgssaEvaluatorSetFromOptions(ev));
    PetscCall(StgssaObjectiveSetFromOptions(obj));
    PetscCall(StgssaObjectiveSetUp(obj, ev));
    PetscCall(StgssaEvaluatorSetUp(ev));
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
  PetscCall(StgssaEnsembleWriteHDF5((StgssaEnsemble)ctx, file));
  PetscFunctionReturn(0);
}

typedef struct {
  StgssaModel     model;
  StgssaEnsemble  ens;
  StgssaEvaluator ev;
  StgssaObjective obj;
  PetscBool       has_loss;  /* loss, gradient [P], gradient_stderr [P] below are set */
  PetscReal       loss, *grad, *stderr_;
} GradientOutput;

static PetscErrorCode WriteGradient(hid_t file, void *ctx)
{
  GradientOutput       *g = (GradientOutput *)ctx;
  const StgssaModelDef *def;
  StgssaSampling        smp;
  PetscInt64            events;
  hid_t                 run;

  PetscFunctionBegin;
  PetscCall(StgssaModelGetDef(g->model, &def));
  PetscCall(StgssaEnsembleGetSampling(g->ens, &smp));
  PetscCall(StgssaEvaluatorGetEventCount(g->ev, &events));
  PetscCall(StgssaH5WriteRunInfo(file, PETSC_COMM_WORLD, def->text));
  PetscCallHDF5(run = H5Gopen2(file, "run", H5P_DEFAULT));
  PetscCall(StgssaH5WriteAttrInt64(run, "seed", smp.seed));
  PetscCall(StgssaH5WriteAttrInt64(run, "ntraj", smp.ntraj));
  PetscCall(StgssaH5WriteAttrInt64(run, "events", events));
  PetscCallHDF5(H5Gclose(run));
  PetscCall(StgssaEvaluatorWriteHDF5(g->ev, file));
  if (g->has_loss) {
    hid_t    grp;
    PetscInt P;
    hsize_t  dims[1];
    PetscCall(StgssaEvaluatorGetFit(g->ev, &P, NULL));
    dims[0] = (hsize_t)P;
    PetscCallHDF5(grp = H5Gopen2(file, "gradient", H5P_DEFAULT));
    PetscCall(StgssaH5WriteDoubles(grp, "loss", 0, dims, &g->loss));
    PetscCall(StgssaH5WriteDoubles(grp, "gradient", 1, dims, g->grad));
    PetscCall(StgssaH5WriteDoubles(grp, "gradient_stderr", 1, dims, g->stderr_));
    PetscCallHDF5(H5Gclose(grp));
  }
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  AppCtx         app;
  StgssaModel    model;
  StgssaEnsemble ens;
  StgssaEvaluator ev;
  StgssaObjective obj;
  PetscBool      have_model = PETSC_FALSE, has_help = PETSC_FALSE;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(StgssaInitializePackage());
  PetscCall(PetscOptionsHasHelp(NULL, &has_help));
  PetscCall(AppSetFromOptions(&app, &have_model));

  PetscCall(StgssaModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(StgssaEnsembleCreate(PETSC_COMM_WORLD, &ens));
  PetscCall(StgssaEvaluatorCreate(PETSC_COMM_WORLD, &ev));
  PetscCall(StgssaObjectiveCreate(PETSC_COMM_WORLD, &obj));
  if (has_help) { /* list every option with its default, then stop */
    PetscCall(StgssaModelSetFromOptions(model));
    PetscCall(StgssaEnsembleSetFromOptions(ens));
    PetscCall(StgssaEvaluatorSetFromOptions(ev));
    PetscCall(StgssaObjectiveSetFromOptions(obj));
  } else {
    PetscErrorCode ierr;
    /* bad input: one clear line and exit status 1, nothing written */
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = SetUpRun(&app, have_model, model, ens, ev, obj);
    PetscCall(PetscPopErrorHandler());
    if (ierr) {
      PetscCall(ReportInputError(ierr));
      PetscCall(StgssaObjectiveDestroy(&obj));
      PetscCall(StgssaEvaluatorDestroy(&ev));
      PetscCall(StgssaEnsembleDestroy(&ens));
      PetscCall(StgssaModelDestroy(&model));
      PetscCall(PetscFinalize());
      return 1;
    }
    if (app.mode == STGSSA_MODE_SIMULATE) {
      PetscCall(StgssaEnsembleRun(ens));
      PetscCall(StgssaEnsembleView(ens, NULL));
      PetscCall(StgssaOutputWrite(PETSC_COMM_WORLD, app.output, WriteSimulate, ens));
    } else {
      GradientOutput g = {model, ens, ev, obj, PETSC_FALSE, 0.0, NULL, NULL};
      PetscInt       P;
      PetscCall(StgssaEvaluatorEvaluate(ev));
      PetscCall(StgssaEvaluatorView(ev, NULL));
      PetscCall(StgssaObjectiveIsActive(obj, &g.has_loss));
      PetscCall(StgssaEvaluatorGetFit(ev, &P, NULL));
      PetscCall(PetscMalloc2(P, &g.grad, P, &g.stderr_));
      if (g.has_loss) {
        const char *const *names;
        PetscCall(StgssaObjectiveCompute(obj, ev, &g.loss, g.grad, g.stderr_));
        PetscCall(StgssaObjectiveView(obj, NULL));
        PetscCall(StgssaEvaluatorGetFit(ev, NULL, &names));
        PetscCall(PetscPrintf(PETSC_COMM_WORLD, "loss %.6g\n%-12s %14s %14s\n", (double)g.loss, "parameter", "dL/dlog k", "std. error"));
        for (PetscInt p = 0; p < P; p++) PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%-12s %14.6g %14.6g\n", names[p], (double)g.grad[p], (double)g.stderr_[p]));
      }
      PetscCall(StgssaOutputWrite(PETSC_COMM_WORLD, app.output, WriteGradient, &g));
      PetscCall(PetscFree2(g.grad, g.stderr_));
    }
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "Wrote %s\n", app.output));
  }
  PetscCall(StgssaObjectiveDestroy(&obj));
  PetscCall(StgssaEvaluatorDestroy(&ev));
  PetscCall(StgssaEnsembleDestroy(&ens));
  PetscCall(StgssaModelDestroy(&model));
  PetscCall(PetscFinalize());
  return 0;
}
