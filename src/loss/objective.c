/* SPDX-License-Identifier: BSD-2-Clause */
/* StgssaObjective: losses of ensemble means and their gradients by the chain rule. */
#include <stgssa/stgssa.h>
#include <stgssa/objective.h>

const char *const StgssaLossTypes[] = {"moments", "distribution", "timecourse", "design", "StgssaLossType", "STGSSA_LOSS_", NULL};

typedef enum {
  STGSSA_DESIGN_CURRENT = 0,
  STGSSA_DESIGN_TUR     = 1
} StgssaDesignGoal;
static const char *const StgssaDesignGoals[] = {"current", "tur", "StgssaDesignGoal", "STGSSA_DESIGN_", NULL};

/* One comparison with data: sample index and observed-species index of the evaluator, data time index. */
typedef struct {
  PetscInt   i, o, id;
  PetscReal  moments[3]; /* data: mean, variance, third central moment */
  PetscReal *q;          /* data probabilities over the B bins (distribution losses) */
} StgssaMatch;

struct _p_StgssaObjective {
  MPI_Comm         comm;
  StgssaLossType   type;
  char             datafile[PETSC_MAX_PATH_LEN];
  StgssaData       data;
  PetscInt         norders;
  PetscReal        floor, alpha;
  StgssaDistance   distance;
  StgssaDesignGoal goal;
  char             pair[STGSSA_NAME_MAX + 1];
  PetscReal        budget_sigma, budget_activity, penalty;
  PetscBool        active;
  /* after SetUp */
  PetscInt     nmatch;
  StgssaMatch *match;
  PetscInt     B;
  PetscInt     cur;   /* index of the design pair among the evaluator's currents */
  PetscReal   *dLdmu; /* [M] */
};

PetscErrorCode StgssaObjectiveCreate(MPI_Comm comm, StgssaObjective *obj)
{
  StgssaObjective o;

  PetscFunctionBegin;
  PetscCall(StgssaInitializePackage());
  PetscCall(PetscNew(&o));
  o->comm            = comm;
  o->type            = STGSSA_LOSS_DISTRIBUTION;
  o->norders         = 3;
  o->floor           = 1e-3;
  o->alpha           = 1e-4;
  o->distance        = STGSSA_DIST_KL;
  o->goal            = STGSSA_DESIGN_CURRENT;
  o->budget_sigma    = PETSC_INFINITY;
  o->budget_activity = PETSC_INFINITY;
  o->penalty         = 100.0;
  *obj               = o;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaObjectiveSetFromOptions(StgssaObjective o)
{
  PetscInt  type = (PetscInt)o->type, dist = (PetscInt)o->distance, goal = (PetscInt)o->goal;
  PetscBool set_data = PETSC_FALSE, set_loss = PETSC_FALSE;

  PetscFunctionBegin;
  PetscOptionsBegin(o->comm, NULL, "Loss options", "StgssaObjective");
  PetscCall(PetscOptionsString("-stgssa_data", "Data: HDF5 written by simulate mode, or CSV of per-cell counts", "StgssaObjective", o->datafile, o->datafile, sizeof(o->datafile), &set_data));
  PetscCall(PetscOptionsEList("-stgssa_loss", "Loss", "StgssaObjective", StgssaLossTypes, 4, StgssaLossTypes[type], &type, &set_loss));
  PetscCall(PetscOptionsBoundedInt("-stgssa_moment_orders", "Central moments compared by the moments loss (1: mean, 2: +variance, 3: +third)", "StgssaObjective", o->norders, &o->norders, NULL, 1));
  PetscCall(PetscOptionsReal("-stgssa_moment_floor", "Smallest scale of a relative moment error (guards data moments near 0)", "StgssaObjective", o->floor, &o->floor, NULL));
  PetscCall(PetscOptionsEList("-stgssa_distance", "Distance of distributions", "StgssaObjective", StgssaDistanceNames, 3, StgssaDistanceNames[dist], &dist, NULL));
  PetscCall(PetscOptionsReal("-stgssa_alpha", "Dirichlet smoothing: pseudo-probability added to every bin of model and data", "StgssaObjective", o->alpha, &o->alpha, NULL));
  PetscCall(PetscOptionsEList("-stgssa_design", "Design goal: maximize the current <J> or the uncertainty efficiency Q", "StgssaObjective", StgssaDesignGoals, 2, StgssaDesignGoals[goal], &goal, NULL));
  PetscCall(PetscOptionsString("-stgssa_design_pair", "Label of the <-> pair whose net current J is the design target (default: the first labelled pair)", "StgssaObjective", o->pair, o->pair, sizeof(o->pair), NULL));
  PetscCall(PetscOptionsReal("-stgssa_budget_entropy", "Budget on mean entropy production per unit time (penalized above)", "StgssaObjective", o->budget_sigma, &o->budget_sigma, NULL));
  PetscCall(PetscOptionsReal("-stgssa_budget_activity", "Budget on mean activity (jumps per unit time; penalized above)", "StgssaObjective", o->budget_activity, &o->budget_activity, NULL));
  PetscCall(PetscOptionsReal("-stgssa_penalty", "Weight of the quadratic budget penalties", "StgssaObjective", o->penalty, &o->penalty, NULL));
  PetscOptionsEnd();
  o->type     = (StgssaLossType)type;
  o->distance = (StgssaDistance)dist;
  o->goal     = (StgssaDesignGoal)goal;
  PetscCheck(o->norders <= 3, o->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_moment_orders must be 1, 2 or 3");
  PetscCheck(o->floor > 0, o->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_moment_floor must be positive");
  PetscCheck(o->alpha >= 0, o->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_alpha must be nonnegative");
  PetscCheck(o->penalty >= 0, o->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_penalty must be nonnegative");
  PetscCheck(!(o->type == STGSSA_LOSS_DISTRIBUTION && o->distance == STGSSA_DIST_KL && o->alpha == 0), o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_distance kl needs -stgssa_alpha > 0 (model bins without mass make KL infinite)");
  o->active = (PetscBool)((set_data && o->datafile[0]) || o->type == STGSSA_LOSS_DESIGN);
  PetscCheck(o->type == STGSSA_LOSS_DESIGN || !set_loss || o->datafile[0], o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_loss %s needs -stgssa_data FILE", StgssaLossTypes[o->type]);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaObjectiveIsActive(StgssaObjective o, PetscBool *active)
{
  PetscFunctionBegin;
  *active = o->active;
  PetscFunctionReturn(0);
}

/* Sample index of data time td: the last sample time for stationary data (td < 0). */
static PetscErrorCode StgssaObjectiveMatchTime(StgssaObjective o, const StgssaSampling *smp, PetscReal td, PetscInt *i)
{
  PetscFunctionBegin;
  if (td < 0) {
    *i = smp->nsample - 1;
    PetscFunctionReturn(0);
  }
  for (PetscInt k = 0; k < smp->nsample; k++)
    if (PetscAbsReal(smp->sample_times[k] - td) <= 1e-9 * PetscMax(1.0, td)) {
      *i = k;
      PetscFunctionReturn(0);
    }
  SETERRQ(o->comm, PETSC_ERR_ARG_INCOMP, "%s: data at time %.6g, but %.6g is not among -stgssa_sample_times (add it)", o->datafile, (double)td, (double)td);
}

static PetscErrorCode StgssaObjectiveSetUpData(StgssaObjective o, StgssaEvaluator ev)
{
  StgssaSampling   smp;
  PetscInt         nt, t0, nmax = 0;
  const PetscReal *dt;
  PetscReal        h = 1.5;

  PetscFunctionBegin;
  PetscCall(StgssaDataCreate(o->comm, &o->data));
  PetscCall(StgssaDataLoad(o->data, o->datafile));
  PetscCall(StgssaEvaluatorGetSampling(ev, &smp));
  { /* every column of the data must be a species or a group of the model */
    StgssaModel           model;
    const StgssaModelDef *d;
    PetscInt              nds;
    PetscCall(StgssaEvaluatorGetModel(ev, &model));
    PetscCall(StgssaModelGetDef(model, &d));
    PetscCall(StgssaDataGetNumSpecies(o->data, &nds));
    for (PetscInt k = 0; k < nds; k++) {
      const char *name;
      PetscCall(StgssaDataGetSpeciesName(o->data, k, &name));
      PetscCheck(StgssaModelDefFindSpecies(d, name) >= 0 || StgssaModelDefFindGroup(d, name) >= 0, o->comm, PETSC_ERR_ARG_INCOMP, "%s: column '%s' is not a species%s of the model %s", o->datafile, name, d->ngroups ? " or a group" : "", d->filename);
    }
  }
  PetscCall(StgssaDataGetTimes(o->data, &nt, &dt));
  /* distribution: the last data time only; moments and time course: every data time */
  t0 = o->type == STGSSA_LOSS_DISTRIBUTION ? nt - 1 : 0;
  PetscCall(PetscCalloc1((nt - t0) * smp.nobs, &o->match));
  o->nmatch = 0;
  for (PetscInt id = t0; id < nt; id++) {
    PetscInt i;
    PetscCall(StgssaObjectiveMatchTime(o, &smp, dt[id], &i));
    for (PetscInt s = 0; s < smp.nobs; s++) {
      PetscBool has;
      PetscCall(StgssaDataHasSpecies(o->data, smp.obs_names[s], &has));
      if (!has) continue;
      StgssaMatch *m = &o->match[o->nmatch++];
      m->i           = i;
      m->o           = s;
      m->id          = id;
      PetscCall(StgssaDataGetMoments(o->data, id, smp.obs_names[s], m->moments));
      {
        PetscInt         nb;
        const PetscReal *c;
        PetscReal        tot;
        PetscCall(StgssaDataGetHistogram(o->data, id, smp.obs_names[s], &nb, &c, &tot));
        nmax = PetscMax(nmax, nb);
      }
    }
  }
  PetscCheck(o->nmatch > 0, o->comm, PETSC_ERR_ARG_INCOMP, "%s: none of the observed species (-stgssa_observe) is in the data", o->datafile);
  if (o->type == STGSSA_LOSS_DISTRIBUTION || o->type == STGSSA_LOSS_TIMECOURSE) {
    /* bins 0..nmax-1 of the data, plus an overflow margin of two bandwidths; the last bin
       collects the model (and data) mass at and above it. The data histogram is smoothed with
       the model's soft-histogram kernel: the model's p_b = sum_x p(x) w_b(x) is linear in the
       distribution p (DESIGN.md §2, soft histograms), so comparing it with
       q_b = sum_x q(x) w_b(x) puts the loss minimum at p = q; comparing with the raw q would
       bias fitted rates towards wider distributions (measured: k_off -17% on a telegraph regime
       at h = 1.5). With the Wendland kernel and h <= 1 the weights are one-hot (q unchanged). */
    StgssaKernel kernel;
    double      *w;
    PetscCall(StgssaEvaluatorGetHistogram(ev, NULL, &kernel, &h));
    o->B = nmax + 1 + (PetscInt)PetscCeilReal(2 * h);
    PetscCall(PetscMalloc1(o->B, &w));
    for (PetscInt k = 0; k < o->nmatch; k++) {
      StgssaMatch     *m = &o->match[k];
      PetscInt         nb;
      const PetscReal *c;
      PetscReal        tot;
      PetscCall(StgssaDataGetHistogram(o->data, m->id, smp.obs_names[m->o], &nb, &c, &tot));
      PetscCall(PetscCalloc1(o->B, &m->q));
      for (PetscInt x = 0; x < nb; x++) {
        if (c[x] == 0) continue;
        StgssaSoftHistogram(kernel, h, (double)PetscMin(x, o->B - 1), (int)o->B, w, NULL);
        for (PetscInt b = 0; b < o->B; b++) m->q[b] += (c[x] / tot) * w[b];
      }
    }
    PetscCall(PetscFree(w));
    PetscCall(StgssaEvaluatorSetHistogram(ev, o->B, kernel, h));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaObjectiveSetUp(StgssaObjective o, StgssaEvaluator ev)
{
  PetscFunctionBegin;
  if (!o->active) PetscFunctionReturn(0);
  if (o->type == STGSSA_LOSS_DESIGN) {
    StgssaModel           model;
    StgssaGradientType    gt;
    PetscCall(StgssaEvaluatorGetGradientType(ev, &gt));
    PetscCheck(gt != STGSSA_GRADIENT_FSP, o->comm, PETSC_ERR_SUP, "-stgssa_loss design needs path observables (currents, entropy production): use -stgssa_gradient stgs, score or fd, not fsp");
    PetscCall(StgssaEvaluatorSetNoFSPReason(ev, "-stgssa_loss design needs path observables (currents, entropy production)")); /* -stgssa_gradient auto takes score */
    const StgssaModelDef *d;
    PetscInt              npairs = 0;
    PetscCall(StgssaEvaluatorGetModel(ev, &model));
    PetscCall(StgssaModelGetDef(model, &d));
    o->cur = -1;
    for (int j = 0; j < d->nreactions; j++)
      if (d->reactions[j].reverse > j && d->reactions[j].label) {
        if (o->cur < 0 && (!o->pair[0] || !strcmp(o->pair, d->reactions[j].label))) o->cur = npairs;
        npairs++;
      }
    PetscCheck(o->cur >= 0, o->comm, PETSC_ERR_ARG_WRONG, o->pair[0] ? "-stgssa_design_pair: no labelled <-> pair '%s' in %s" : "-stgssa_loss design needs a labelled <-> pair in %s (e.g. 'cycle: A <-> B  k1, k2')%s", o->pair[0] ? o->pair : d->filename, o->pair[0] ? d->filename : "");
    if (o->goal == STGSSA_DESIGN_TUR || o->budget_sigma < PETSC_INFINITY) PetscCall(StgssaEvaluatorSetEntropy(ev, PETSC_TRUE));
  } else PetscCall(StgssaObjectiveSetUpData(o, ev));
  PetscFunctionReturn(0);
}

/* L(mu) and dL/dmu into o->dLdmu. */
static PetscErrorCode StgssaObjectiveLoss(StgssaObjective o, StgssaEvaluator ev, const PetscReal *mu, PetscReal *L)
{
  const StgssaObsLayout *lay;
  StgssaSampling         smp;
  PetscReal             *g;

  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorGetLayout(ev, &lay));
  PetscCall(StgssaEvaluatorGetSampling(ev, &smp));
  PetscCall(PetscArrayzero(o->dLdmu, lay->M));
  *L = 0.0;
  if (o->type == STGSSA_LOSS_DESIGN) {
    const PetscReal *J = &mu[lay->off_cur + 2 * o->cur];
    PetscReal        T; /* duration of the path observables (after -stgssa_count_from) */
    PetscCall(StgssaEvaluatorGetPathDuration(ev, &T));
    if (o->goal == STGSSA_DESIGN_CURRENT) { /* maximize <J> */
      *L                                 = -J[0];
      o->dLdmu[lay->off_cur + 2 * o->cur] = -1.0;
    } else { /* maximize Q = 2<J>^2/(Var J <Sigma>); J per unit time, Sigma over [0, T]: Q is scale-free in J */
      double gq[3];
      const double Q = StgssaTURQ(J[0], J[1], mu[lay->off_sig], gq);
      PetscCheck(!PetscIsNanReal(Q), o->comm, PETSC_ERR_FP, "Uncertainty efficiency undefined: Var J = %g, <Sigma> = %g (need both > 0)", J[1] - J[0] * J[0], (double)mu[lay->off_sig]);
      *L                                     = -Q;
      o->dLdmu[lay->off_cur + 2 * o->cur]     = -gq[0];
      o->dLdmu[lay->off_cur + 2 * o->cur + 1] = -gq[1];
      o->dLdmu[lay->off_sig]                  = -gq[2];
    }
    if (o->budget_sigma < PETSC_INFINITY) { /* entropy production per unit time */
      double d;
      *L += StgssaPenaltyUpper(mu[lay->off_sig] / T, o->budget_sigma, o->penalty, &d);
      o->dLdmu[lay->off_sig] += d / T;
    }
    if (o->budget_activity < PETSC_INFINITY) {
      double d;
      *L += StgssaPenaltyUpper(mu[lay->off_act], o->budget_activity, o->penalty, &d);
      o->dLdmu[lay->off_act] += d;
    }
    PetscFunctionReturn(0);
  }
  PetscCall(PetscMalloc1(PetscMax(o->B, 3), &g));
  for (PetscInt k = 0; k < o->nmatch; k++) {
    const StgssaMatch *m = &o->match[k];
    if (o->type == STGSSA_LOSS_MOMENTS) {
      const PetscInt m0 = lay->off_pow + (m->i * smp.nobs + m->o) * 3;
      double         raw[3] = {mu[m0], mu[m0 + 1], mu[m0 + 2]}, data[3] = {m->moments[0], m->moments[1], m->moments[2]}, gr[3];
      *L += StgssaLossMoments((int)o->norders, raw, data, o->floor, gr);
      for (int l = 0; l < 3; l++) o->dLdmu[m0 + l] += gr[l];
    } else {
      const PetscInt h0 = lay->off_hist + (m->i * smp.nobs + m->o) * lay->B;
      *L += StgssaLossDistribution(o->distance, (int)o->B, &mu[h0], m->q, o->alpha, g);
      for (PetscInt b = 0; b < o->B; b++) o->dLdmu[h0 + b] += g[b];
    }
  }
  PetscCall(PetscFree(g));
  PetscCheck(!PetscIsInfOrNanReal(*L), o->comm, PETSC_ERR_FP, "Loss is %g: raise -stgssa_alpha or check the data", (double)*L);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaObjectiveCompute(StgssaObjective o, StgssaEvaluator ev, PetscReal *loss, PetscReal grad[], PetscReal se[])
{
  const StgssaObsLayout *lay;
  const PetscReal       *mu, *dmu, *db;
  PetscInt               P, K;

  PetscFunctionBegin;
  PetscCheck(o->active, o->comm, PETSC_ERR_ORDER, "No loss: give -stgssa_data FILE or -stgssa_loss design");
  PetscCall(PetscLogEventBegin(STGSSA_Loss, 0, 0, 0, 0));
  PetscCall(StgssaEvaluatorGetLayout(ev, &lay));
  PetscCall(StgssaEvaluatorGetFit(ev, &P, NULL));
  PetscCall(StgssaEvaluatorGetMeans(ev, &mu, &dmu));
  PetscCall(StgssaEvaluatorGetBatchDerivatives(ev, &K, &db));
  if (!o->dLdmu) PetscCall(PetscMalloc1(lay->M, &o->dLdmu));
  PetscCall(StgssaObjectiveLoss(o, ev, mu, loss));
  /* chain rule, and the same contraction per batch for the standard error */
  for (PetscInt p = 0; p < P; p++) {
    double g = 0.0, mean = 0.0, ss = 0.0, *gb;
    for (PetscInt m = 0; m < lay->M; m++)
      if (o->dLdmu[m] != 0.0) g += o->dLdmu[m] * dmu[m * P + p];
    grad[p] = g;
    PetscCall(PetscMalloc1(K, &gb));
    for (PetscInt b = 0; b < K; b++) {
      gb[b] = 0.0;
      for (PetscInt m = 0; m < lay->M; m++)
        if (o->dLdmu[m] != 0.0) gb[b] += o->dLdmu[m] * db[((size_t)b * lay->M + m) * P + p];
      mean += gb[b] / K;
    }
    for (PetscInt b = 0; b < K; b++) ss += (gb[b] - mean) * (gb[b] - mean); /* two-pass: exact 0 for identical batches */
    PetscCall(PetscFree(gb));
    if (se) se[p] = PetscSqrtReal(ss / ((double)K * (K - 1)));
  }
  PetscCall(PetscLogEventEnd(STGSSA_Loss, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaObjectiveView(StgssaObjective o, PetscViewer viewer)
{
  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(o->comm, &viewer));
  if (!o->active) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaObjective: none (no data)\n"));
    PetscFunctionReturn(0);
  }
  if (o->type == STGSSA_LOSS_DESIGN) PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaObjective: design, maximize %s\n", o->goal == STGSSA_DESIGN_CURRENT ? "<J>" : "Q = 2<J>^2/(Var J <Sigma>)"));
  else PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaObjective: %s loss against %s (%" PetscInt_FMT " comparisons)\n", StgssaLossTypes[o->type], o->datafile, o->nmatch));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaObjectiveDestroy(StgssaObjective *obj)
{
  StgssaObjective o = *obj;

  PetscFunctionBegin;
  if (!o) PetscFunctionReturn(0);
  for (PetscInt k = 0; k < o->nmatch; k++) PetscCall(PetscFree(o->match[k].q));
  PetscCall(PetscFree(o->match));
  PetscCall(PetscFree(o->dLdmu));
  PetscCall(StgssaDataDestroy(&o->data));
  PetscCall(PetscFree(*obj));
  PetscFunctionReturn(0);
}
