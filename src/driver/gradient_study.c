/* SPDX-License-Identifier: BSD-2-Clause */
static const char help[] = "stgssa_gradient_study: how far to trust a stochastic gradient.\n\n"
                           "For one model, data set and parameter point, evaluates the loss gradient with every\n"
                           "estimator (stgs at several temperatures, score, fd) over independent replicates and\n"
                           "compares it with the exact gradient from the finite state projection (fsp):\n"
                           "bias, standard deviation, and cost per unit variance (variance x seconds).\n\n"
                           "Usage: mpirun -n P stgssa_gradient_study -options_file input/gradient_study_telegraph.opts\n\n";

/*
  A thin driver over the library objects: model -> ensemble -> evaluator -> objective, once per
  estimator; replicates differ by the iteration counter of the random numbers (independent draws).
*/
#include <stgssa/stgssa.h>
#include <stgssa/fsp.h>

#define MAX_TEMPERATURES 16

typedef struct {
  char      name[32];  /* estimator label, e.g. "stgs(0.3)" */
  PetscReal *g;        /* [nrep * P] gradient of each replicate */
  PetscReal mean_time; /* seconds per evaluation (max over ranks) */
} Estimator;

typedef struct {
  char        model[PETSC_MAX_PATH_LEN];
  char        output[PETSC_MAX_PATH_LEN];
  PetscInt    nrep;                          /* replicates per estimator */
  PetscReal   temps[MAX_TEMPERATURES];       /* ST-GS temperatures */
  PetscInt    ntemps;
  PetscInt    nest;                          /* estimators: stgs at each temperature, score, fd */
  Estimator  *est;
  PetscInt    P;
  char      **names;                         /* fitted parameter names */
  PetscReal  *g_exact;                       /* [P] */
  PetscReal   loss_exact;
  const char *model_text;
} Study;

/* Build the objects of one evaluation with the given estimator. */
static PetscErrorCode CreateProblem(Study *st, StgssaGradientType type, PetscReal lambda, StgssaModel *model, StgssaEnsemble *ens, StgssaEvaluator *ev, StgssaObjective *obj)
{
  PetscFunctionBegin;
  PetscCall(StgssaModelCreate(PETSC_COMM_WORLD, model));
  PetscCall(StgssaModelLoad(*model, st->model));
  PetscCall(StgssaModelSetFromOptions(*model));
  PetscCall(StgssaEnsembleCreate(PETSC_COMM_WORLD, ens));
  PetscCall(StgssaEnsembleSetModel(*ens, *model));
  PetscCall(StgssaEnsembleSetFromOptions(*ens));
  PetscCall(StgssaEnsembleSetUp(*ens));
  PetscCall(StgssaEvaluatorCreate(PETSC_COMM_WORLD, ev));
  PetscCall(StgssaEvaluatorSetEnsemble(*ev, *ens, *model));
  PetscCall(StgssaEvaluatorSetFromOptions(*ev));
  PetscCall(StgssaEvaluatorSetGradientType(*ev, type));
  PetscCall(StgssaEvaluatorSetTemperature(*ev, lambda));
  PetscCall(StgssaObjectiveCreate(PETSC_COMM_WORLD, obj));
  PetscCall(StgssaObjectiveSetFromOptions(*obj));
  PetscCall(StgssaObjectiveSetUp(*obj, *ev));
  PetscCall(StgssaEvaluatorSetUp(*ev));
  PetscFunctionReturn(0);
}

static PetscErrorCode DestroyProblem(StgssaModel *model, StgssaEnsemble *ens, StgssaEvaluator *ev, StgssaObjective *obj)
{
  PetscFunctionBegin;
  PetscCall(StgssaObjectiveDestroy(obj));
  PetscCall(StgssaEvaluatorDestroy(ev));
  PetscCall(StgssaEnsembleDestroy(ens));
  PetscCall(StgssaModelDestroy(model));
  PetscFunctionReturn(0);
}

/* The exact loss gradient (fsp) and the fitted names. */
static PetscErrorCode RunExact(Study *st)
{
  StgssaModel        model;
  StgssaEnsemble     ens;
  StgssaEvaluator    ev;
  StgssaObjective    obj;
  const char *const *names;
  PetscReal         *se;

  PetscFunctionBegin;
  PetscCall(CreateProblem(st, STGSSA_GRADIENT_FSP, 1.0, &model, &ens, &ev, &obj));
  PetscCall(StgssaEvaluatorGetFit(ev, &st->P, &names));
  PetscCall(PetscMalloc2(st->P, &st->names, st->P, &st->g_exact));
  for (PetscInt p = 0; p < st->P; p++) PetscCall(PetscStrallocpy(names[p], &st->names[p]));
  PetscCall(PetscMalloc1(st->P, &se));
  PetscCall(StgssaEvaluatorEvaluate(ev));
  PetscCall(StgssaObjectiveCompute(obj, ev, &st->loss_exact, st->g_exact, se));
  PetscCall(PetscFree(se));
  PetscCall(DestroyProblem(&model, &ens, &ev, &obj));
  PetscFunctionReturn(0);
}

/* nrep independent evaluations of one estimator. */
static PetscErrorCode RunEstimator(Study *st, Estimator *es, StgssaGradientType type, PetscReal lambda)
{
  StgssaModel     model;
  StgssaEnsemble  ens;
  StgssaEvaluator ev;
  StgssaObjective obj;
  PetscReal       loss, *se;
  PetscLogDouble  total = 0;

  PetscFunctionBegin;
  PetscCall(CreateProblem(st, type, lambda, &model, &ens, &ev, &obj));
  PetscCall(PetscMalloc1(st->nrep * st->P, &es->g));
  PetscCall(PetscMalloc1(st->P, &se));
  for (PetscInt r = 0; r < st->nrep; r++) {
    PetscLogDouble t0, t1, tmax;
    PetscCall(StgssaEvaluatorSetIteration(ev, r + 1)); /* independent random numbers per replicate */
    PetscCallMPI(MPI_Barrier(PETSC_COMM_WORLD));
    PetscCall(PetscTime(&t0));
    PetscCall(StgssaEvaluatorEvaluate(ev));
    PetscCall(StgssaObjectiveCompute(obj, ev, &loss, &es->g[r * st->P], se));
    PetscCall(PetscTime(&t1));
    t1 -= t0;
    PetscCallMPI(MPI_Allreduce(&t1, &tmax, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
    total += tmax;
  }
  es->mean_time = total / st->nrep;
  PetscCall(PetscFree(se));
  PetscCall(DestroyProblem(&model, &ens, &ev, &obj));
  PetscFunctionReturn(0);
}

/* Bias, standard deviation of one replicate, cost per unit variance, for parameter p. */
static void Summary(const Study *st, const Estimator *es, PetscInt p, double *bias, double *sd, double *cost)
{
  double s1 = 0, s2 = 0;
  for (PetscInt r = 0; r < st->nrep; r++) {
    const double g = es->g[r * st->P + p];
    s1 += g;
    s2 += g * g;
  }
  s1 /= st->nrep;
  *bias = s1 - st->g_exact[p];
  *sd   = sqrt(PetscMax(0.0, (s2 / st->nrep - s1 * s1) * st->nrep / (st->nrep - 1)));
  *cost = (*sd) * (*sd) * es->mean_time;
}

static PetscErrorCode WriteStudy(hid_t file, void *ctx)
{
  Study               *st = (Study *)ctx;
  hid_t                g;
  double              *tab;
  const PetscInt       P = st->P;
  hsize_t              d1[1] = {(hsize_t)P}, d2[2] = {(hsize_t)st->nrep, (hsize_t)P};
  StgssaModel          model;
  const StgssaModelDef *def;

  PetscFunctionBegin;
  PetscCall(StgssaModelCreate(PETSC_COMM_SELF, &model));
  PetscCall(StgssaModelLoad(model, st->model));
  PetscCall(StgssaModelGetDef(model, &def));
  PetscCall(StgssaH5WriteRunInfo(file, PETSC_COMM_WORLD, def->text));
  PetscCall(StgssaModelDestroy(&model));
  PetscCallHDF5(g = H5Gcreate2(file, "study", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(StgssaH5WriteAttrStrings(g, "fit_names", P, (const char *const *)st->names));
  PetscCall(StgssaH5WriteAttrDouble(g, "loss_exact", st->loss_exact));
  PetscCall(StgssaH5WriteAttrInt64(g, "replicates", st->nrep));
  PetscCall(StgssaH5WriteDoubles(g, "gradient_exact", 1, d1, st->g_exact));
  PetscCall(PetscMalloc1(3 * P, &tab));
  for (PetscInt e = 0; e < st->nest; e++) {
    char  name[64];
    hid_t ge;
    PetscCall(PetscSNPrintf(name, sizeof(name), "estimators/%s", st->est[e].name));
    {
      hid_t lcpl;
      PetscCallHDF5(lcpl = H5Pcreate(H5P_LINK_CREATE));
      PetscCallHDF5(H5Pset_create_intermediate_group(lcpl, 1));
      PetscCallHDF5(ge = H5Gcreate2(g, name, lcpl, H5P_DEFAULT, H5P_DEFAULT));
      PetscCallHDF5(H5Pclose(lcpl));
    }
    PetscCall(StgssaH5WriteDoubles(ge, "gradient", 2, d2, st->est[e].g));
    for (PetscInt p = 0; p < P; p++) Summary(st, &st->est[e], p, &tab[p], &tab[P + p], &tab[2 * P + p]);
    PetscCall(StgssaH5WriteDoubles(ge, "bias", 1, d1, tab));
    PetscCall(StgssaH5WriteDoubles(ge, "stddev", 1, d1, &tab[P]));
    PetscCall(StgssaH5WriteDoubles(ge, "cost_per_unit_variance", 1, d1, &tab[2 * P]));
    PetscCall(StgssaH5WriteAttrDouble(ge, "seconds_per_evaluation", st->est[e].mean_time));
    PetscCallHDF5(H5Gclose(ge));
  }
  PetscCall(PetscFree(tab));
  PetscCallHDF5(H5Gclose(g));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  Study     st;
  PetscBool has_model = PETSC_FALSE, has_help = PETSC_FALSE;

  PetscCall(PetscInitialize(&argc, &argv, NULL, help));
  PetscCall(StgssaInitializePackage());
  PetscCall(PetscMemzero(&st, sizeof(st)));
  st.nrep     = 20;
  st.ntemps   = 4;
  st.temps[0] = 0.1, st.temps[1] = 0.3, st.temps[2] = 1.0, st.temps[3] = 3.0;
  PetscCall(PetscStrncpy(st.output, "gradient_study.h5", sizeof(st.output)));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Gradient-quality study", NULL);
  PetscCall(PetscOptionsString("-stgssa_model", "Model file", NULL, st.model, st.model, sizeof(st.model), &has_model));
  PetscCall(PetscOptionsString("-stgssa_output", "HDF5 output file", NULL, st.output, st.output, sizeof(st.output), NULL));
  PetscCall(PetscOptionsBoundedInt("-study_replicates", "Independent evaluations per estimator", NULL, st.nrep, &st.nrep, NULL, 2));
  {
    PetscInt  n = MAX_TEMPERATURES;
    PetscBool set;
    PetscCall(PetscOptionsRealArray("-study_temperatures", "ST-GS temperatures", NULL, st.temps, &n, &set));
    if (set) st.ntemps = n;
  }
  PetscOptionsEnd();
  PetscCall(PetscOptionsHasHelp(NULL, &has_help));
  if (has_help) {
    PetscCall(PetscFinalize());
    return 0;
  }
  PetscCheck(has_model, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT, "No model given: expected -stgssa_model FILE");
  for (PetscInt t = 0; t < st.ntemps; t++) PetscCheck(st.temps[t] > 0, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE, "-study_temperatures: expected positive temperatures");
  PetscCall(StgssaOutputCheckPath(PETSC_COMM_WORLD, st.output));
  PetscCall(RunExact(&st));
  st.nest = st.ntemps + 2;
  PetscCall(PetscCalloc1(st.nest, &st.est));
  for (PetscInt t = 0; t < st.ntemps; t++) {
    (void)snprintf(st.est[t].name, sizeof(st.est[t].name), "stgs(%g)", (double)st.temps[t]); /* plain %g: "stgs(1)" */
    PetscCall(RunEstimator(&st, &st.est[t], STGSSA_GRADIENT_STGS, st.temps[t]));
  }
  PetscCall(PetscStrncpy(st.est[st.ntemps].name, "score", sizeof(st.est[0].name)));
  PetscCall(RunEstimator(&st, &st.est[st.ntemps], STGSSA_GRADIENT_SCORE, 1.0));
  PetscCall(PetscStrncpy(st.est[st.ntemps + 1].name, "fd", sizeof(st.est[0].name)));
  PetscCall(RunEstimator(&st, &st.est[st.ntemps + 1], STGSSA_GRADIENT_FD, 1.0));

  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "exact loss %.6g (fsp); %" PetscInt_FMT " replicates per estimator\n", (double)st.loss_exact, st.nrep));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%-12s %-10s %12s %12s %12s %12s %10s\n", "estimator", "parameter", "exact", "bias", "std.dev", "var*seconds", "s/eval"));
  for (PetscInt e = 0; e < st.nest; e++)
    for (PetscInt p = 0; p < st.P; p++) {
      double bias, sd, cost;
      Summary(&st, &st.est[e], p, &bias, &sd, &cost);
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%-12s %-10s %12.4g %12.4g %12.4g %12.4g %10.3g\n", st.est[e].name, st.names[p], (double)st.g_exact[p], bias, sd, cost, (double)st.est[e].mean_time));
    }
  PetscCall(StgssaOutputWrite(PETSC_COMM_WORLD, st.output, WriteStudy, &st));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "Wrote %s\n", st.output));
  for (PetscInt e = 0; e < st.nest; e++) PetscCall(PetscFree(st.est[e].g));
  PetscCall(PetscFree(st.est));
  for (PetscInt p = 0; p < st.P; p++) PetscCall(PetscFree(st.names[p]));
  PetscCall(PetscFree2(st.names, st.g_exact));
  PetscCall(PetscFinalize());
  return 0;
}
