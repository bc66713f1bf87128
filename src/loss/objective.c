/* SPDX-License-Identifier: BSD-2-Clause */
/* StgssaObjective: losses of ensemble means and their gradients by the chain rule. */
#include <stgssa/stgssa.h>
#include <stgssa/objective.h>
#include <stgssa/uncertainty.h>
#include <stgssa/output.h>

const char *const StgssaLossTypes[] = {"moments", "distribution", "timecourse", "design", "likelihood", "correlation", "StgssaLossType", "STGSSA_LOSS_", NULL};

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
  PetscReal  n;          /* cells (trajectories) at this data time */
  /* per-time report at the result (StgssaObjectiveSummarize) */
  PetscReal *model;                            /* [B] model probabilities p~ */
  PetscReal  nll, kl, mmean, mfano, dmean, dfano; /* -log L (total), KL(data || model), means, Fano factors */
} StgssaMatch;

/* The SSA route's plug-in Fisher information counts the bins at least this many trajectories reach (uncertainty.h). */
#define STGSSA_FISHER_MIN_HITS 10.0

struct _p_StgssaObjective {
  MPI_Comm         comm;
  StgssaLossType   type;
  char             datafile[PETSC_MAX_PATH_LEN];
  char             tracesfile[PETSC_MAX_PATH_LEN]; /* -stgssa_data_traces */
  StgssaTraces     traces;                         /* borrowed (StgssaObjectiveSetTraces) */
  PetscBool        traces_setup;
  StgssaData       data;
  PetscBool        own_data; /* data loaded here (no StgssaObjectiveSetData) */
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
  /* likelihood */
  PetscBool  alpha_set; /* -stgssa_alpha given: the likelihood's pseudo-probability too */
  PetscReal  alpha_lik; /* pseudo-probability per bin of the last likelihood evaluation */
  PetscReal  ncells;    /* cells over the data times (the per-cell divisor of -log L) */
  PetscReal  nll;       /* -log L (total) of the last evaluation */
  /* summary at the result (StgssaObjectiveSummarize) */
  PetscReal  id_rtol;                          /* -stgssa_identifiability_rtol */
  PetscBool  summarized, has_fisher;
  PetscInt   P;
  PetscReal *theta, *fisher, *se, *corr, *ci, *evals, *evecs;
  char       words[4096];  /* weakly identified directions, in words */
  char       estimator[256]; /* what the Fisher information is (exact or plug-in) */
  char     **obs_names;   /* [nobs] observed quantities (report groups) */
  PetscInt   nobs;
  PetscReal *sample_times; /* [nsample] */
};

PetscErrorCode StgssaObjectiveCreate(MPI_Comm comm, StgssaObjective *obj)
{
  StgssaObjective o;

  PetscFunctionBegin;
  PetscCall(StgssaInitializePackage());
  PetscCall(PetscNew(&o));
  o->comm            = comm;
  o->type            = STGSSA_LOSS_LIKELIHOOD;
  o->norders         = 3;
  o->floor           = 1e-3;
  o->alpha           = 1e-4;
  o->distance        = STGSSA_DIST_KL;
  o->goal            = STGSSA_DESIGN_CURRENT;
  o->budget_sigma    = PETSC_INFINITY;
  o->budget_activity = PETSC_INFINITY;
  o->penalty         = 100.0;
  o->id_rtol         = 1e-8;
  *obj               = o;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaObjectiveSetFromOptions(StgssaObjective o)
{
  PetscInt  type = (PetscInt)o->type, dist = (PetscInt)o->distance, goal = (PetscInt)o->goal;
  PetscBool set_data = PETSC_FALSE, set_loss = PETSC_FALSE, set_traces = PETSC_FALSE;

  PetscFunctionBegin;
  PetscOptionsBegin(o->comm, NULL, "Loss options", "StgssaObjective");
  PetscCall(PetscOptionsString("-stgssa_data", "Data: HDF5 written by simulate mode, or CSV of per-cell counts", "StgssaObjective", o->datafile, o->datafile, sizeof(o->datafile), &set_data));
  PetscCall(PetscOptionsEList("-stgssa_loss", "Loss", "StgssaObjective", StgssaLossTypes, 6, StgssaLossTypes[type], &type, &set_loss));
  PetscCall(PetscOptionsString("-stgssa_data_traces", "Per-cell trajectory data (live-cell traces), CSV cell,time,S1,...: fitted by -stgssa_loss correlation (the default with it)", "StgssaObjectiveSetTraces", o->tracesfile, o->tracesfile, sizeof(o->tracesfile), &set_traces));
  PetscCall(PetscOptionsBoundedInt("-stgssa_moment_orders", "Central moments compared by the moments loss (1: mean, 2: +variance, 3: +third)", "StgssaObjective", o->norders, &o->norders, NULL, 1));
  PetscCall(PetscOptionsReal("-stgssa_moment_floor", "Smallest scale of a relative moment error (guards data moments near 0)", "StgssaObjective", o->floor, &o->floor, NULL));
  PetscCall(PetscOptionsEList("-stgssa_distance", "Distance of distributions", "StgssaObjective", StgssaDistanceNames, 3, StgssaDistanceNames[dist], &dist, NULL));
  PetscCall(PetscOptionsReal("-stgssa_alpha", "Dirichlet smoothing: pseudo-probability added to every bin of model and data (likelihood: of the model; default there 1/(2 ntraj) with the SSA, 1e-12 with fsp)", "StgssaObjective", o->alpha, &o->alpha, &o->alpha_set));
  PetscCall(PetscOptionsReal("-stgssa_identifiability_rtol", "Fisher eigenvalues below this times the largest are not identified (infinite intervals)", "StgssaObjective", o->id_rtol, &o->id_rtol, NULL));
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
  PetscCheck(o->id_rtol > 0 && o->id_rtol < 1, o->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_identifiability_rtol must be in (0, 1), got %g", (double)o->id_rtol);
  PetscCheck(o->penalty >= 0, o->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_penalty must be nonnegative");
  PetscCheck(!(o->type == STGSSA_LOSS_DISTRIBUTION && o->distance == STGSSA_DIST_KL && o->alpha == 0), o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_distance kl needs -stgssa_alpha > 0 (model bins without mass make KL infinite)");
  set_traces = (PetscBool)(set_traces && o->tracesfile[0]);
  if (set_traces && !set_loss) o->type = STGSSA_LOSS_CORRELATION; /* the default with traces */
  PetscCheck(!set_traces || !(set_data && o->datafile[0]), o->comm, PETSC_ERR_ARG_INCOMP, "-stgssa_data_traces and -stgssa_data: give one data set (traces carry the snapshots too)");
  PetscCheck(o->type != STGSSA_LOSS_CORRELATION || set_traces, o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_loss correlation needs -stgssa_data_traces FILE.csv (per-cell traces: cell,time,S1,...)");
  PetscCheck(!set_traces || o->type == STGSSA_LOSS_CORRELATION, o->comm, PETSC_ERR_ARG_INCOMP, "-stgssa_data_traces is fitted by -stgssa_loss correlation (the default), not %s", StgssaLossTypes[o->type]);
  o->active = (PetscBool)((set_data && o->datafile[0]) || o->type == STGSSA_LOSS_DESIGN || set_traces);
  PetscCheck(o->type == STGSSA_LOSS_DESIGN || o->type == STGSSA_LOSS_CORRELATION || !set_loss || o->datafile[0], o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_loss %s needs -stgssa_data FILE", StgssaLossTypes[o->type]);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaObjectiveSetTraces(StgssaObjective o, StgssaTraces tr)
{
  PetscFunctionBegin;
  o->traces       = tr;
  o->traces_setup = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaObjectiveSetData(StgssaObjective o, StgssaData data)
{
  PetscFunctionBegin;
  if (o->own_data) PetscCall(StgssaDataDestroy(&o->data));
  o->data     = data;
  o->own_data = PETSC_FALSE;
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
  if (!o->data) { /* not handed over by StgssaObjectiveSetData: load -stgssa_data here */
    PetscCall(StgssaDataCreate(o->comm, &o->data));
    o->own_data = PETSC_TRUE;
    PetscCall(StgssaDataSetFromOptions(o->data));
    PetscCall(StgssaDataLoad(o->data, o->datafile));
  }
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
      PetscCheck(StgssaModelDefFindRule(d, name) < 0 || o->type == STGSSA_LOSS_MOMENTS, o->comm, PETSC_ERR_ARG_INCOMP, "-stgssa_loss %s: %s is an expression observable: moments only; a histogram needs an integer count (use -stgssa_loss moments, or species and sums of species)", StgssaLossTypes[o->type], name);
      PetscCheck(StgssaModelDefFindSpecies(d, name) >= 0 || StgssaModelDefFindGroup(d, name) >= 0 || StgssaModelDefFindRule(d, name) >= 0, o->comm, PETSC_ERR_ARG_INCOMP, "%s: column '%s' is not a species%s of the model %s", o->datafile, name, d->ngroups ? " or a group" : "", d->filename);
    }
  }
  PetscCall(StgssaDataGetTimes(o->data, &nt, &dt));
  /* distribution: the last data time only; moments and time course: every data time */
  t0        = o->type == STGSSA_LOSS_DISTRIBUTION ? nt - 1 : 0;
  o->ncells = 0;
  PetscCall(PetscCalloc1((nt - t0) * smp.nobs, &o->match));
  o->nmatch = 0;
  for (PetscInt id = t0; id < nt; id++) {
    PetscInt  i;
    PetscReal cells = 0; /* cells at this time: the most of any observed column */
    PetscCall(StgssaObjectiveMatchTime(o, &smp, dt[id], &i));
    for (PetscInt s = 0; s < smp.nobs; s++) {
      PetscBool has;
      PetscCall(StgssaDataHasSpecies(o->data, smp.obs_names[s], &has));
      if (!has) continue;
      PetscCheck(!(smp.obs_rule && smp.obs_rule[s] >= 0) || o->type == STGSSA_LOSS_MOMENTS, o->comm, PETSC_ERR_ARG_INCOMP, "-stgssa_loss %s: %s is an expression observable: moments only; a histogram needs an integer count (use -stgssa_loss moments, or observe species or sums of species)", StgssaLossTypes[o->type], smp.obs_names[s]);
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
        nmax  = PetscMax(nmax, nb);
        m->n  = tot;
        cells = PetscMax(cells, tot);
      }
    }
    o->ncells += cells;
  }
  PetscCheck(o->nmatch > 0, o->comm, PETSC_ERR_ARG_INCOMP, "%s: none of the observed species (-stgssa_observe) is in the data", o->datafile);
  if (o->type == STGSSA_LOSS_DISTRIBUTION || o->type == STGSSA_LOSS_TIMECOURSE || o->type == STGSSA_LOSS_LIKELIHOOD) {
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
    if (o->type == STGSSA_LOSS_LIKELIHOOD) { /* exact p(x): one-hot bins (Wendland, h = 1, integer counts) */
      kernel = STGSSA_KERNEL_WENDLAND;
      h      = 1.0;
    }
    o->B = nmax + 1 + (PetscInt)PetscCeilReal(2 * h);
    PetscCall(PetscMalloc1(o->B, &w));
    for (PetscInt k = 0; k < o->nmatch; k++) {
      StgssaMatch     *m = &o->match[k];
      PetscInt         nb;
      const PetscReal *c;
      PetscReal        tot;
      PetscCall(StgssaDataGetHistogram(o->data, m->id, smp.obs_names[m->o], &nb, &c, &tot));
      PetscCall(PetscCalloc2(o->B, &m->q, o->B, &m->model));
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
  } else {
    StgssaGradientType gt;
    PetscCall(StgssaEvaluatorGetGradientType(ev, &gt));
    PetscCheck(gt != STGSSA_GRADIENT_ODE || (o->type == STGSSA_LOSS_MOMENTS && o->norders == 1), o->comm, PETSC_ERR_SUP, "-stgssa_gradient ode gives means only (the mean-field ODE has no variances or distributions): use -stgssa_loss moments -stgssa_moment_orders 1, not -stgssa_loss %s%s", StgssaLossTypes[o->type], o->type == STGSSA_LOSS_MOMENTS ? " with -stgssa_moment_orders > 1" : "");
    if (o->type == STGSSA_LOSS_CORRELATION) {
      PetscCheck(o->traces, o->comm, PETSC_ERR_ORDER, "-stgssa_loss correlation: traces not loaded (StgssaObjectiveSetTraces)");
      o->traces_setup = PETSC_FALSE; /* matched to the evaluator's layout at the first loss */
    } else PetscCall(StgssaObjectiveSetUpData(o, ev));
  }
  PetscFunctionReturn(0);
}

/*
  Pseudo-probability per bin of the likelihood's model distribution (p~ = (p + alpha)/Z):
  -stgssa_alpha if given; else with fsp 1e-12 (a floor only: p is exact), with the SSA
  1/(2N) for N trajectories, i.e. half a trajectory per bin (Krichevsky-Trofimov). With one-hot
  bins the ensemble estimate p^_b = (n_b + 1/2)/(N + B/2) has E[log p^_b] - log p_b =
  -(B - 1)/(2N) + O(N^-2) (delta method; the 1/(N p_b) terms of the raw frequency,
  -(1 - p_b)/(2 N p_b), and of the pseudo-count, +1/(2 N p_b), cancel), so -log L per cell is
  biased up by (B - 1)/(2N), the same at every theta.
  ST-GS gives one-hot bins no derivative: refuse it.
*/
static PetscErrorCode StgssaObjectiveLikelihoodAlpha(StgssaObjective o, StgssaEvaluator ev)
{
  StgssaGradientType gt;
  StgssaSampling     smp;

  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorGetGradientType(ev, &gt));
  PetscCheck(gt != STGSSA_GRADIENT_STGS, o->comm, PETSC_ERR_SUP, "-stgssa_loss likelihood compares exact counts (one-hot bins), which ST-GS cannot differentiate: use -stgssa_gradient score, fd or fsp, or -stgssa_loss distribution (soft histograms)");
  PetscCall(StgssaEvaluatorGetSampling(ev, &smp));
  if (o->alpha_set) o->alpha_lik = o->alpha;
  else if (gt == STGSSA_GRADIENT_FSP) o->alpha_lik = 1e-12;
  else o->alpha_lik = 0.5 / (PetscReal)smp.ntraj;
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
  if (o->type == STGSSA_LOSS_CORRELATION) {
    if (!o->traces_setup) PetscCall(StgssaTracesSetUp(o->traces, ev));
    o->traces_setup = PETSC_TRUE;
    PetscCall(StgssaTracesLoss(o->traces, ev, mu, L, o->dLdmu));
    PetscCheck(!PetscIsInfOrNanReal(*L), o->comm, PETSC_ERR_FP, "Correlation loss is %g", (double)*L);
    PetscFunctionReturn(0);
  }
  PetscCall(PetscMalloc1(PetscMax(o->B, 3), &g));
  if (o->type == STGSSA_LOSS_LIKELIHOOD) PetscCall(StgssaObjectiveLikelihoodAlpha(o, ev));
  for (PetscInt k = 0; k < o->nmatch; k++) {
    const StgssaMatch *m = &o->match[k];
    if (o->type == STGSSA_LOSS_LIKELIHOOD) {
      /* -log L = -sum_t n_t sum_b q_tb log p~_tb over every data time; reported per cell */
      const PetscInt h0 = lay->off_hist + (m->i * smp.nobs + m->o) * lay->B;
      *L += m->n * StgssaLossNegLogLikelihood((int)o->B, &mu[h0], m->q, o->alpha_lik, g);
      for (PetscInt b = 0; b < o->B; b++) o->dLdmu[h0 + b] += m->n * g[b] / o->ncells;
    } else if (o->type == STGSSA_LOSS_MOMENTS) {
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
  if (o->type == STGSSA_LOSS_LIKELIHOOD) {
    o->nll = *L;
    *L /= o->ncells;
  }
  PetscCheck(!PetscIsInfOrNanReal(*L), o->comm, PETSC_ERR_FP, "Loss is %g: raise -stgssa_alpha or check the data", (double)*L);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaObjectiveCompute(StgssaObjective o, StgssaEvaluator ev, PetscReal *loss, PetscReal grad[], PetscReal se[])
{
  const StgssaObsLayout *lay;
  const PetscReal       *mu, *dmu, *db;
  PetscInt               P, K;
  PetscBool              deferred;

  PetscFunctionBegin;
  PetscCheck(o->active, o->comm, PETSC_ERR_ORDER, "No loss: give -stgssa_data FILE or -stgssa_loss design");
  PetscCall(PetscLogEventBegin(STGSSA_Loss, 0, 0, 0, 0));
  PetscCall(StgssaEvaluatorGetLayout(ev, &lay));
  PetscCall(StgssaEvaluatorGetFit(ev, &P, NULL));
  PetscCall(StgssaEvaluatorGetDeferred(ev, &deferred));
  PetscCall(StgssaEvaluatorGetMeans(ev, &mu, NULL));
  if (!o->dLdmu) PetscCall(PetscMalloc1(lay->M, &o->dLdmu));
  PetscCall(StgssaObjectiveLoss(o, ev, mu, loss));
  if (deferred) { /* exact route, adjoint: grad = dmu^T dLdmu by one backward solve (exact: standard error 0);
                    score route, two-pass reduction: pass 2 gives grad and the same per batch */
    const PetscReal *gb;
    PetscCall(StgssaEvaluatorApplyAdjoint(ev, o->dLdmu, grad));
    PetscCall(StgssaEvaluatorGetAdjointBatches(ev, &K, &gb));
    for (PetscInt p = 0; p < P && se; p++) {
      double mean = 0.0, ss = 0.0;
      if (!gb) {
        se[p] = 0.0;
        continue;
      }
      for (PetscInt b = 0; b < K; b++) mean += gb[b * P + p] / K;
      for (PetscInt b = 0; b < K; b++) ss += (gb[b * P + p] - mean) * (gb[b * P + p] - mean);
      se[p] = PetscSqrtReal(ss / ((double)K * (K - 1)));
    }
    PetscCall(PetscLogEventEnd(STGSSA_Loss, 0, 0, 0, 0));
    PetscFunctionReturn(0);
  }
  PetscCall(StgssaEvaluatorGetMeans(ev, NULL, &dmu));
  PetscCall(StgssaEvaluatorGetBatchDerivatives(ev, &K, &db));
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
  else if (o->type == STGSSA_LOSS_CORRELATION) {
    char line[2048];
    PetscCall(StgssaTracesGetSummary(o->traces, line, sizeof(line)));
    PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaObjective: correlation loss (reduced chi-square, weights from the data's standard errors across cells) against %s\n", line));
  } else PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaObjective: %s loss against %s (%" PetscInt_FMT " comparisons)\n", StgssaLossTypes[o->type], o->datafile, o->nmatch));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaObjectiveDestroy(StgssaObjective *obj)
{
  StgssaObjective o = *obj;

  PetscFunctionBegin;
  if (!o) PetscFunctionReturn(0);
  for (PetscInt k = 0; k < o->nmatch; k++) PetscCall(PetscFree2(o->match[k].q, o->match[k].model));
  PetscCall(PetscFree4(o->theta, o->fisher, o->se, o->corr));
  PetscCall(PetscFree3(o->ci, o->evals, o->evecs));
  for (PetscInt s = 0; s < o->nobs; s++) PetscCall(PetscFree(o->obs_names[s]));
  PetscCall(PetscFree(o->obs_names));
  PetscCall(PetscFree(o->sample_times));
  PetscCall(PetscFree(o->match));
  PetscCall(PetscFree(o->dLdmu));
  if (o->own_data) PetscCall(StgssaDataDestroy(&o->data));
  PetscCall(PetscFree(*obj));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaObjectiveGetNegLogLikelihood(StgssaObjective o, PetscReal *total, PetscReal *cells)
{
  PetscFunctionBegin;
  if (total) *total = o->type == STGSSA_LOSS_LIKELIHOOD ? o->nll : (PetscReal)NAN;
  if (cells) *cells = o->ncells;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaObjectiveGetUncertainty(StgssaObjective o, PetscInt *P, const PetscReal **fisher, const PetscReal **se, const PetscReal **ci)
{
  PetscFunctionBegin;
  *P = o->has_fisher ? o->P : 0;
  if (fisher) *fisher = o->has_fisher ? o->fisher : NULL;
  if (se) *se = o->has_fisher ? o->se : NULL;
  if (ci) *ci = o->has_fisher ? o->ci : NULL;
  PetscFunctionReturn(0);
}

/*
  The fit at theta (NULL: the evaluator's last evaluation as it stands): loss, the per-time report
  (model p~ against data q at each data time: -log L = -n sum_b q_b log p~_b, KL = sum_b q_b
  log(q_b/p~_b), means and Fano factors) and, for the likelihood, the Fisher information per
  log-rate I = sum_t n_t sum_b dp~ dp~^T / p~ with its eigendecomposition, standard errors,
  correlations, 95% intervals and the weakly identified directions in words.
*/
PetscErrorCode StgssaObjectiveSummarize(StgssaObjective o, StgssaEvaluator ev, const PetscReal theta[], PetscInt iteration)
{
  const StgssaObsLayout *lay;
  StgssaSampling         smp;
  StgssaGradientType     gt;
  const PetscReal       *mu, *dmu;
  const char *const     *names;
  PetscInt               P;
  PetscReal              loss, *grad;

  PetscFunctionBegin;
  if (!o->active || o->type == STGSSA_LOSS_DESIGN) PetscFunctionReturn(0);
  if (theta) {
    PetscCall(StgssaEvaluatorSetTheta(ev, theta));
    PetscCall(StgssaEvaluatorSetIteration(ev, iteration));
    PetscCall(StgssaEvaluatorEvaluate(ev));
  }
  PetscCall(StgssaEvaluatorGetFit(ev, &P, &names));
  PetscCall(PetscMalloc1(PetscMax(P, 1), &grad));
  PetscCall(StgssaObjectiveCompute(o, ev, &loss, grad, NULL));
  PetscCall(PetscFree(grad));
  PetscCall(StgssaEvaluatorGetLayout(ev, &lay));
  PetscCall(StgssaEvaluatorGetSampling(ev, &smp));
  PetscCall(StgssaEvaluatorGetMeans(ev, &mu, &dmu));
  PetscCall(StgssaEvaluatorGetGradientType(ev, &gt));
  if (!o->obs_names) {
    o->nobs = smp.nobs;
    PetscCall(PetscMalloc1(smp.nobs, &o->obs_names));
    for (PetscInt s = 0; s < smp.nobs; s++) PetscCall(PetscStrallocpy(smp.obs_names[s], &o->obs_names[s]));
    PetscCall(PetscMalloc1(smp.nsample, &o->sample_times));
    PetscCall(PetscArraycpy(o->sample_times, smp.sample_times, smp.nsample));
  }
  {
    const PetscReal alpha = o->type == STGSSA_LOSS_LIKELIHOOD ? o->alpha_lik : o->alpha;
    for (PetscInt k = 0; k < o->nmatch; k++) {
      StgssaMatch *m = &o->match[k];
      PetscReal    c[3];
      PetscCall(StgssaEvaluatorGetMoments(ev, m->i, m->o, c, NULL));
      m->dmean = m->moments[0];
      m->dfano = m->moments[0] > 0 ? m->moments[1] / m->moments[0] : (PetscReal)NAN;
      m->mmean = c[0];
      m->mfano = c[0] > 0 ? c[1] / c[0] : (PetscReal)NAN;
      m->nll = m->kl = (PetscReal)NAN;
      if (!o->B) continue;
      {
        const PetscInt h0 = lay->off_hist + (m->i * smp.nobs + m->o) * lay->B;
        PetscReal      Z  = o->B * alpha;
        for (PetscInt b = 0; b < o->B; b++) Z += PetscMax(mu[h0 + b], 0.0);
        m->kl = 0;
        for (PetscInt b = 0; b < o->B; b++) {
          m->model[b] = (PetscMax(mu[h0 + b], 0.0) + alpha) / Z;
          if (m->q[b] > 0) m->kl += m->q[b] * PetscLogReal(m->q[b] / m->model[b]);
        }
        m->nll = m->n * StgssaLossNegLogLikelihood((int)o->B, &mu[h0], m->q, alpha, NULL);
      }
    }
  }
  o->has_fisher = (PetscBool)(o->type == STGSSA_LOSS_LIKELIHOOD && P > 0);
  if (o->has_fisher) {
    if (!o->theta) {
      o->P = P;
      PetscCall(PetscMalloc4(P, &o->theta, P * P, &o->fisher, P, &o->se, P * P, &o->corr));
      PetscCall(PetscMalloc3(2 * P, &o->ci, P, &o->evals, P * P, &o->evecs));
    }
    PetscCall(StgssaEvaluatorGetTheta(ev, o->theta));
    PetscCall(StgssaObjectiveFisherInformation(o, ev, PETSC_FALSE, o->fisher));
    PetscCall(StgssaUncertaintyCompute(P, o->fisher, o->id_rtol, o->evals, o->evecs, o->se, o->corr, NULL));
    StgssaUncertaintyInterval(P, o->theta, o->se, 1.96, o->ci);
    PetscCall(StgssaUncertaintyDescribe(P, names, o->theta, o->evals, o->evecs, o->corr, o->id_rtol, 0.99, o->words, sizeof(o->words), NULL));
    if (gt == STGSSA_GRADIENT_FSP) PetscCall(PetscStrcpy(o->estimator, "exact (FSP probabilities and sensitivities)"));
    else PetscCall(PetscSNPrintf(o->estimator, sizeof(o->estimator), "plug-in estimate from the SSA ensemble (p^ and %s derivatives, less their noise estimated from the batches; bins reached by >= 10 trajectories)", StgssaGradientTypes[gt]));
  }
  o->summarized = PETSC_TRUE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaObjectiveIsLikelihood(StgssaObjective o, PetscBool *flg)
{
  PetscFunctionBegin;
  *flg = (PetscBool)(o->active && o->type == STGSSA_LOSS_LIKELIHOOD);
  PetscFunctionReturn(0);
}

/* Fisher information per log-rate of the likelihood at the evaluator's last evaluation,
   I = sum_t n_t sum_b dp~_b dp~_b^T / p~_b (exact with FSP; a plug-in estimate from the
   ensemble's p^ and derivative estimates on the SSA route), or I / (cells) with per_cell, the
   curvature scale of the reported loss -log L / cells. F is [P x P], P the fitted names. */
PetscErrorCode StgssaObjectiveFisherInformation(StgssaObjective o, StgssaEvaluator ev, PetscBool per_cell, PetscReal F[])
{
  const StgssaObsLayout *lay;
  StgssaSampling         smp;
  const PetscReal       *mu, *dmu, *dmu_batch;
  PetscInt               P, K;
  PetscInt64             ntraj;
  PetscReal              pmin;
  StgssaGradientType     gt;

  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorGetGradientType(ev, &gt));
  PetscCheck(o->active && o->type == STGSSA_LOSS_LIKELIHOOD, o->comm, PETSC_ERR_ARG_WRONGSTATE, "The Fisher information needs the likelihood loss (-stgssa_loss likelihood with -stgssa_data)");
  PetscCall(StgssaEvaluatorGetFit(ev, &P, NULL));
  PetscCall(StgssaEvaluatorGetLayout(ev, &lay));
  PetscCall(StgssaEvaluatorGetSampling(ev, &smp));
  if (gt != STGSSA_GRADIENT_FSP) { /* a two-pass evaluation has no M x P derivatives: the same evaluation again in one pass (the same trajectories, the same means) */
    PetscBool deferred;
    PetscCall(StgssaEvaluatorGetDeferred(ev, &deferred));
    if (deferred) PetscCall(StgssaEvaluatorEvaluate(ev));
  }
  PetscCall(StgssaEvaluatorGetMeans(ev, &mu, &dmu));
  PetscCall(StgssaEvaluatorGetBatchDerivatives(ev, &K, &dmu_batch));
  PetscCall(StgssaEvaluatorGetNumTrajectories(ev, &ntraj));
  pmin = STGSSA_FISHER_MIN_HITS / (PetscReal)ntraj; /* SSA route: bins that at least this many trajectories reach */
  PetscCall(PetscArrayzero(F, P * P));
  for (PetscInt k = 0; k < o->nmatch; k++) {
    const StgssaMatch *m  = &o->match[k];
    const PetscInt     h0 = lay->off_hist + (m->i * smp.nobs + m->o) * lay->B;
    if (gt == STGSSA_GRADIENT_FSP) StgssaFisherAddBinned((int)o->B, (int)P, &mu[h0], &dmu[(size_t)h0 * P], o->alpha_lik, m->n, F);
    else StgssaFisherAddBinnedSampled((int)o->B, (int)P, &mu[h0], &dmu[(size_t)h0 * P], &dmu_batch[(size_t)h0 * P], (size_t)lay->M * P, (int)K, o->alpha_lik, m->n, pmin, F);
  }
  if (per_cell)
    for (PetscInt i = 0; i < P * P; i++) F[i] /= o->ncells;
  PetscFunctionReturn(0);
}

/* Into the open group g (rank 0): neg_log_likelihood, fisher, stderr_log, correlation, ci95 and fit/<observable>/. */
PetscErrorCode StgssaObjectiveWriteHDF5(StgssaObjective o, hid_t g)
{
  PetscFunctionBegin;
  if (!o->active || o->type == STGSSA_LOSS_DESIGN) PetscFunctionReturn(0);
  if (o->traces && o->traces_setup) {
    htri_t has;
    PetscCallHDF5(has = H5Lexists(g, "/data", H5P_DEFAULT));
    if (!has) PetscCall(StgssaTracesWriteHDF5(o->traces, g)); /* /data: the traces' statistics */
  }
  if (o->type == STGSSA_LOSS_LIKELIHOOD) {
    hsize_t d0[1] = {0};
    hid_t   ds;
    PetscCall(StgssaH5WriteDoubles(g, "neg_log_likelihood", 0, d0, &o->nll));
    PetscCallHDF5(ds = H5Dopen2(g, "neg_log_likelihood", H5P_DEFAULT));
    PetscCall(StgssaH5WriteAttrDouble(ds, "cells", o->ncells));
    PetscCall(StgssaH5WriteAttrDouble(ds, "alpha", o->alpha_lik));
    PetscCallHDF5(H5Dclose(ds));
  }
  if (!o->summarized) PetscFunctionReturn(0);
  if (o->has_fisher) {
    const PetscInt P     = o->P;
    hsize_t        dpp[2] = {(hsize_t)P, (hsize_t)P}, dp[1] = {(hsize_t)P}, dp2[2] = {(hsize_t)P, 2};
    hid_t          ds;
    PetscCall(StgssaH5WriteDoubles(g, "fisher", 2, dpp, o->fisher));
    PetscCallHDF5(ds = H5Dopen2(g, "fisher", H5P_DEFAULT));
    PetscCall(StgssaH5WriteAttrString(ds, "estimator", o->estimator));
    PetscCall(StgssaH5WriteAttrDouble(ds, "identifiability_rtol", o->id_rtol));
    PetscCallHDF5(H5Dclose(ds));
    PetscCall(StgssaH5WriteDoubles(g, "stderr_log", 1, dp, o->se));
    PetscCall(StgssaH5WriteDoubles(g, "correlation", 2, dpp, o->corr));
    PetscCall(StgssaH5WriteDoubles(g, "ci95", 2, dp2, o->ci));
    PetscCall(StgssaH5WriteAttrString(g, "identifiability", o->words));
  }
  if (o->B) {
    hid_t fit;
    PetscCallHDF5(fit = H5Gcreate2(g, "fit", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    for (PetscInt s = 0; s < o->nobs; s++) {
      PetscInt   T = 0, t = 0;
      PetscReal *buf, *hist, *model;
      hid_t      go;
      for (PetscInt k = 0; k < o->nmatch; k++) T += o->match[k].o == s;
      if (!T) continue;
      PetscCall(PetscMalloc3(9 * T, &buf, T * o->B, &hist, T * o->B, &model));
      for (PetscInt k = 0; k < o->nmatch; k++) {
        const StgssaMatch *m = &o->match[k];
        if (m->o != s) continue;
        buf[0 * T + t] = o->sample_times[m->i];
        buf[1 * T + t] = m->n;
        buf[2 * T + t] = m->nll;
        buf[3 * T + t] = m->kl;
        buf[4 * T + t] = m->dmean;
        buf[5 * T + t] = m->mmean;
        buf[6 * T + t] = m->dfano;
        buf[7 * T + t] = m->mfano;
        PetscCall(PetscArraycpy(&hist[t * o->B], m->q, o->B));
        PetscCall(PetscArraycpy(&model[t * o->B], m->model, o->B));
        t++;
      }
      PetscCallHDF5(go = H5Gcreate2(fit, o->obs_names[s], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
      {
        const char *const ds[] = {"times", "cells", "neg_log_likelihood", "kl", "data_mean", "model_mean", "data_fano", "model_fano"};
        hsize_t           d1[1] = {(hsize_t)T}, d2[2] = {(hsize_t)T, (hsize_t)o->B};
        for (int j = 0; j < 8; j++) PetscCall(StgssaH5WriteDoubles(go, ds[j], 1, d1, &buf[j * T]));
        PetscCall(StgssaH5WriteDoubles(go, "data_histogram", 2, d2, hist));
        PetscCall(StgssaH5WriteDoubles(go, "model_distribution", 2, d2, model));
        PetscCall(StgssaH5WriteAttrString(go, "loss", StgssaLossTypes[o->type]));
      }
      PetscCallHDF5(H5Gclose(go));
      PetscCall(PetscFree3(buf, hist, model));
    }
    PetscCallHDF5(H5Gclose(fit));
  }
  PetscFunctionReturn(0);
}

/* Result table (estimate, standard error of the log-rate, 95% interval), identifiability in words, per-time report. */
PetscErrorCode StgssaObjectiveViewResult(StgssaObjective o, const char *const names[], PetscViewer viewer)
{
  PetscFunctionBegin;
  if (!o->summarized) PetscFunctionReturn(0);
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(o->comm, &viewer));
  if (o->type == STGSSA_LOSS_LIKELIHOOD) PetscCall(PetscViewerASCIIPrintf(viewer, "-log L = %.10g over %.0f cells (%.6g per cell)\n", (double)o->nll, (double)o->ncells, (double)(o->nll / o->ncells)));
  if (o->has_fisher) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "Uncertainty from the Fisher information per log-rate, %s:\n", o->estimator));
    PetscCall(PetscViewerASCIIPrintf(viewer, "  %-12s %12s %18s   %s\n", "parameter", "estimate", "std. error (log)", "95% interval"));
    for (PetscInt p = 0; p < o->P; p++) PetscCall(PetscViewerASCIIPrintf(viewer, "  %-12s %12.6g %18.4g   [%.4g, %.4g]\n", names[p], (double)PetscExpReal(o->theta[p]), (double)o->se[p], (double)o->ci[2 * p], (double)o->ci[2 * p + 1]));
    {
      char *line = o->words, *nl;
      while (line && *line) {
        nl = strchr(line, '\n');
        if (nl) *nl = 0;
        PetscCall(PetscViewerASCIIPrintf(viewer, "  %s\n", line));
        if (nl) *nl = '\n';
        line = nl ? nl + 1 : NULL;
      }
    }
  }
  if (o->B)
    for (PetscInt s = 0; s < o->nobs; s++) {
      PetscBool any = PETSC_FALSE;
      for (PetscInt k = 0; k < o->nmatch; k++) {
        const StgssaMatch *m = &o->match[k];
        if (m->o != s) continue;
        if (!any) {
          PetscCall(PetscViewerASCIIPrintf(viewer, "Fit of %s at each data time (/result/fit/%s):\n", o->obs_names[s], o->obs_names[s]));
          PetscCall(PetscViewerASCIIPrintf(viewer, "  %10s %8s %12s %10s %10s %10s %10s %10s\n", "time", "cells", "-logL/cell", "KL", "data mean", "model mean", "data Fano", "model Fano"));
          any = PETSC_TRUE;
        }
        PetscCall(PetscViewerASCIIPrintf(viewer, "  %10.4g %8.0f %12.5g %10.3g %10.4g %10.4g %10.4g %10.4g\n", (double)o->sample_times[m->i], (double)m->n, (double)(m->nll / m->n), (double)m->kl, (double)m->dmean, (double)m->mmean, (double)m->dfano, (double)m->mfano));
      }
    }
  PetscFunctionReturn(0);
}
