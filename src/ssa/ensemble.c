/* SPDX-License-Identifier: BSD-2-Clause */
/* StgssaEnsemble: simulate mode (trajectory ensemble -> exact histograms and moments). */
#include <stgssa/stgssa.h>
#include <petscksp.h>
#include <stgssa/exactsum.h>
#include <stgssa/expr.h>
#include "../stgssa_impl.h"

#define STGSSA_MAX_SAMPLES  65536
#define STGSSA_MAX_OBSERVED 4096

const char *const StgssaInitialTypes[] = {"x0", "steady", NULL};

struct _p_StgssaEnsemble {
  MPI_Comm    comm;
  StgssaModel model;
  /* configuration */
  PetscInt   ntraj;          /* global number of trajectories */
  PetscInt   seed;           /* RNG seed, 0..2^31-1 */
  PetscReal  tfinal;         /* end time */
  PetscInt   nsample;        /* number of sample times */
  PetscReal *sample_times;   /* [nsample] ascending in [0, tfinal] */
  /* what was asked for; tfinal and sample_times are resolved from it (StgssaEnsembleResolveTimes) */
  PetscReal  tfinal_req;     /* -stgssa_tfinal (default 10) */
  PetscBool  tfinal_set;     /* given (option or StgssaEnsembleSetTimes) */
  PetscInt   nreq;           /* -stgssa_sample_times */
  PetscReal *req_times;
  PetscInt   ndata;          /* StgssaEnsembleSetDataTimes: times of the data (nonnegative) */
  PetscReal *data_times;
  char       data_source[PETSC_MAX_PATH_LEN];
  PetscInt   nobs;           /* observed quantities (0: every species) */
  char     **obs_names;      /* [nobs] names as given: species or groups */
  PetscInt  *obs_ptr;        /* [nobs+1] terms of quantity o (after SetUp; observable.h) */
  PetscInt  *obs;            /* species of each term */
  int64_t   *obs_weight;     /* integer weight of each term */
  PetscInt  *obs_group;      /* [nobs] group index, -1 for a species */
  PetscInt  *obs_rule;       /* [nobs] rule index (StgssaModelDef.rules) of an expression observable, -1 otherwise */
  PetscBool  any_rule;       /* some observable is an expression: moments only (exact sums esum) */
  PetscInt   hist_bins;      /* bins written per histogram; 0: max count + 1 over all sample times */
  PetscInt   max_events;     /* per-trajectory event cap */
  PetscBool  steady;         /* -stgssa_initial steady: start from a burn-in of length burnin at t = 0 inputs */
  PetscReal  burnin;
  PetscReal  burnin_rate;    /* > 0: burnin is the default 20/burnin_rate (StgssaEnsembleSetDefaultBurnin) */
  PetscReal  thin_step;      /* thinning grid of time-dependent propensities; 0: tfinal/64 */
  StgssaSSAMethod method;    /* -stgssa_ssa_method: auto (default), direct, nrm or tree (the last two: simulate mode only) */
  StgssaSSAMethod used;      /* the method StgssaEnsembleRun uses (auto resolved at SetUp) */
  const char     *used_why;  /* why (auto's choice), for the start-up output */
  PetscBool  setup;
  /* results (global after Run) */
  StgssaCountHist hist;      /* set i*nobs + o: sample i, observed species o */
  StgssaExactSum *esum;      /* [nsample*nobs*3] expression observables: exact sums of f, f^2, f^3 (set i*nobs + o) */
  PetscInt64      events;    /* total SSA events */
  PetscReal       events_max_over_mean; /* load balance: largest events of a rank / mean over ranks */
  PetscInt64      nabsorbed; /* trajectories that ended in an absorbing state */
  PetscInt64      ncapped;   /* trajectories stopped by the event cap */
  PetscLogDouble  wall;      /* seconds in Run (max over ranks) */
  PetscBool       done;
  /* -stgssa_correlate (include/stgssa/correlate.h): products A(t_i) B(t_i + tau) per trajectory */
  StgssaCorrelation corr;
  StgssaExactSum   *csum;      /* [K*nprod*3] per batch b of trajectory indices: sums of A(t_i), B(t_j), A(t_i) B(t_j) */
};

#define STGSSA_CORR_BATCHES 16 /* batches of the correlations' standard errors (ranges of trajectory indices) */

PetscErrorCode StgssaEnsembleCreate(MPI_Comm comm, StgssaEnsemble *ens)
{
  StgssaEnsemble e;

  PetscFunctionBegin;
  PetscCall(StgssaInitializePackage());
  PetscCall(PetscNew(&e));
  e->comm       = comm;
  e->ntraj      = 10000;
  e->seed       = 1;
  e->tfinal     = 10.0;
  e->tfinal_req = 10.0;
  e->max_events = 100000000;
  e->method     = STGSSA_SSA_AUTO;
  e->used       = STGSSA_SSA_DIRECT;
  *ens          = e;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleSetModel(StgssaEnsemble e, StgssaModel model)
{
  PetscFunctionBegin;
  e->model = model;
  e->setup = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleSetNumTrajectories(StgssaEnsemble e, PetscInt ntraj)
{
  PetscFunctionBegin;
  PetscCheck(ntraj > 0, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_ntraj must be positive, got %" PetscInt_FMT, ntraj);
  e->ntraj = ntraj;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleSetSeed(StgssaEnsemble e, PetscInt seed)
{
  PetscFunctionBegin;
  PetscCheck(seed >= 0, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_seed must be nonnegative, got %" PetscInt_FMT, seed);
  e->seed = seed;
  PetscFunctionReturn(0);
}

/* Finite, nonnegative, strictly increasing (the check of -stgssa_sample_times on its own). */
static PetscErrorCode StgssaEnsembleCheckTimes(StgssaEnsemble e, PetscInt nsample, const PetscReal times[])
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < nsample; i++) {
    PetscCheck(PetscIsNormalReal(times[i]) || times[i] == 0, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_sample_times: entry %" PetscInt_FMT " is not a finite number", i + 1);
    PetscCheck(times[i] >= 0, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_sample_times: entry %" PetscInt_FMT " = %g is negative", i + 1, (double)times[i]);
    PetscCheck(i == 0 || times[i] > times[i - 1], e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_sample_times: expected strictly increasing times, entry %" PetscInt_FMT " = %g follows %g", i + 1, (double)times[i], (double)times[i - 1]);
  }
  PetscFunctionReturn(0);
}

/* Two times that the objective matches as one (StgssaObjectiveMatchTime). */
/* tfinal and sample_times from what was asked: sample times = -stgssa_sample_times united with
   the data times (a data time within 1e-9 relative of a given time is that time, kept as the
   data has it); tfinal = -stgssa_tfinal if given, else the last of those times when there are
   data times, else 10. Without either list, the one sample time tfinal. */
static PetscErrorCode StgssaEnsembleResolveTimes(StgssaEnsemble e)
{
  PetscReal tf = e->tfinal_req;
  PetscInt  n = 0, i = 0, j = 0;

  PetscFunctionBegin;
  PetscCall(PetscFree(e->sample_times));
  PetscCall(PetscMalloc1(PetscMax(e->nreq + e->ndata, 1), &e->sample_times));
  while (i < e->nreq || j < e->ndata) {
    if (j == e->ndata || (i < e->nreq && e->req_times[i] < e->data_times[j] && !StgssaSameTime(e->req_times[i], e->data_times[j])))
      e->sample_times[n++] = e->req_times[i++];
    else {
      if (i < e->nreq && StgssaSameTime(e->req_times[i], e->data_times[j])) i++;
      e->sample_times[n++] = e->data_times[j++];
    }
  }
  if (e->ndata) {
    const PetscReal last = e->data_times[e->ndata - 1];
    if (!e->tfinal_set) {
      tf = e->sample_times[n - 1];
      PetscCheck(tf > 0, e->comm, PETSC_ERR_ARG_WRONG, "%s: the only data time is 0, so -stgssa_tfinal has no default; expected -stgssa_tfinal T > 0", e->data_source);
    } else {
      PetscCheck(last <= tf || StgssaSameTime(last, tf), e->comm, PETSC_ERR_ARG_OUTOFRANGE,
                 "-stgssa_tfinal %.6g is before the last data time %.6g of %s; expected -stgssa_tfinal >= %.6g, or no -stgssa_tfinal (it defaults to the last data time)", (double)tf, (double)last, e->data_source, (double)last);
      tf = PetscMax(tf, last);
    }
  }
  PetscCheck(PetscIsNormalReal(tf) && tf > 0, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_tfinal must be positive and finite, got %.6g", (double)tf);
  for (PetscInt k = 0; k < e->nreq; k++)
    PetscCheck(e->req_times[k] <= tf, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_sample_times: entry %" PetscInt_FMT " = %.6g is beyond -stgssa_tfinal %.6g", k + 1, (double)e->req_times[k], (double)tf);
  if (!n) e->sample_times[n++] = tf; /* default: the end time only */
  if (e->corr.npair) { /* -stgssa_correlate: every t_i + tau <= tfinal is sampled too */
    PetscReal *t;
    PetscCall(StgssaCorrelationAddTimes(&e->corr, tf, n, e->sample_times, &n, &t));
    PetscCall(PetscFree(e->sample_times));
    e->sample_times = t;
  }
  e->tfinal  = tf;
  e->nsample = n;
  e->setup   = PETSC_FALSE;
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaEnsembleRequestTimes(StgssaEnsemble e, PetscInt nsample, const PetscReal times[])
{
  PetscFunctionBegin;
  PetscCall(StgssaEnsembleCheckTimes(e, nsample, times));
  PetscCall(PetscFree(e->req_times));
  PetscCall(PetscMalloc1(PetscMax(nsample, 1), &e->req_times));
  if (nsample) PetscCall(PetscArraycpy(e->req_times, times, nsample));
  e->nreq = nsample;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleSetTimes(StgssaEnsemble e, PetscReal tfinal, PetscInt nsample, const PetscReal times[])
{
  PetscFunctionBegin;
  PetscCheck(PetscIsNormalReal(tfinal) && tfinal > 0, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_tfinal must be positive and finite, got %g", (double)tfinal);
  PetscCall(StgssaEnsembleRequestTimes(e, nsample, times));
  e->tfinal_req = tfinal;
  e->tfinal_set = PETSC_TRUE;
  PetscCall(StgssaEnsembleResolveTimes(e));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleSetDataTimes(StgssaEnsemble e, PetscInt n, const PetscReal times[], const char source[])
{
  PetscInt m = 0;

  PetscFunctionBegin;
  PetscCall(PetscFree(e->data_times));
  PetscCall(PetscMalloc1(PetscMax(n, 1), &e->data_times));
  for (PetscInt i = 0; i < n; i++) {
    if (times[i] < 0) continue; /* stationary data: compared at the last sample time */
    PetscCheck(PetscIsNormalReal(times[i]) || times[i] == 0, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: data time %" PetscInt_FMT " is not finite", source, i + 1);
    PetscCheck(m == 0 || times[i] > e->data_times[m - 1], e->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: data times must be strictly increasing", source);
    e->data_times[m++] = times[i];
  }
  e->ndata = m;
  PetscCall(PetscStrncpy(e->data_source, source ? source : "data", sizeof(e->data_source)));
  PetscCall(StgssaEnsembleResolveTimes(e));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleGetRequestedTimes(StgssaEnsemble e, PetscBool *tfinal_set, PetscInt *nsample_set, PetscInt *ndata)
{
  PetscFunctionBegin;
  if (tfinal_set) *tfinal_set = e->tfinal_set;
  if (nsample_set) *nsample_set = e->nreq;
  if (ndata) *ndata = e->ndata;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleSetFSPTimes(StgssaEnsemble e, StgssaFSP fsp)
{
  PetscInt         nf;
  const PetscReal *tf;

  PetscFunctionBegin;
  if (!e->ndata) PetscFunctionReturn(0);
  PetscCall(StgssaFSPGetTimes(fsp, &nf, &tf));
  if (!(nf == 1 && tf[0] < 0)) PetscCall(StgssaFSPSetTimes(fsp, e->nsample, e->sample_times));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleSetInitial(StgssaEnsemble e, PetscBool steady, PetscReal burnin)
{
  PetscFunctionBegin;
  e->steady = steady;
  e->burnin = burnin;
  e->setup  = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleSetObserved(StgssaEnsemble e, PetscInt nobs, const char *const names[])
{
  PetscFunctionBegin;
  PetscCall(StgssaStringListSet(nobs, names, &e->nobs, &e->obs_names));
  e->setup = PETSC_FALSE;
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaEnsembleApplyOptions_Private(StgssaEnsemble e, PetscInt ntraj, PetscInt seed, PetscBool set_tf, PetscReal tfinal, PetscBool set_times, PetscInt ntimes, const PetscReal *times, PetscBool set_obs, PetscInt nobs, const char *const *names)
{
  PetscFunctionBegin;
  PetscCall(StgssaEnsembleSetNumTrajectories(e, ntraj));
  PetscCall(StgssaEnsembleSetSeed(e, seed));
  if (set_tf) {
    PetscCheck(PetscIsNormalReal(tfinal) && tfinal > 0, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_tfinal must be positive and finite, got %g", (double)tfinal);
    e->tfinal_req = tfinal;
    e->tfinal_set = PETSC_TRUE;
  }
  if (set_times) PetscCall(StgssaEnsembleRequestTimes(e, ntimes, times));
  if (set_times || set_tf || !e->sample_times) PetscCall(StgssaEnsembleResolveTimes(e));
  if (set_obs) {
    PetscCheck(nobs > 0, e->comm, PETSC_ERR_ARG_WRONG, "-stgssa_observe: expected a comma-separated list of species or group names");
    PetscCall(StgssaEnsembleSetObserved(e, nobs, names));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleSetCorrelation(StgssaEnsemble e, const StgssaCorrelation *c)
{
  PetscFunctionBegin;
  PetscCall(StgssaCorrelationCopy(c, &e->corr));
  if (e->sample_times) PetscCall(StgssaEnsembleResolveTimes(e));
  e->setup = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleSetFromOptions(StgssaEnsemble e)
{
  PetscReal *times, tfinal = e->tfinal;
  char       corrtext[256];
  PetscBool  set_corr = PETSC_FALSE;
  PetscInt   ntimes = STGSSA_MAX_SAMPLES, nobs = STGSSA_MAX_OBSERVED, ntraj = e->ntraj, seed = e->seed;
  char         **names;
  PetscBool      set_times, set_obs, set_tf;
  PetscErrorCode ierr, ierr_opt = 0;

  PetscFunctionBegin;
  PetscCall(StgssaOptionsCheckEList(e->comm, "-stgssa_initial", StgssaInitialTypes, 2));
  PetscCall(StgssaOptionsCheckEList(e->comm, "-stgssa_ssa_method", StgssaSSAMethods, 5));
  PetscCall(PetscCalloc1(ntimes, &times));
  times[0] = e->tfinal; /* shown by -help as the default */
  PetscCall(PetscCalloc1(nobs, &names));
  corrtext[0] = 0;
  PetscOptionsBegin(e->comm, NULL, "Trajectory ensemble (simulate mode) options", "StgssaEnsemble");
  STGSSA_OPT_CALL(PetscOptionsInt("-stgssa_ntraj", "Number of trajectories (global, split over ranks)", "StgssaEnsembleSetNumTrajectories", ntraj, &ntraj, NULL));
  STGSSA_OPT_CALL(PetscOptionsInt("-stgssa_seed", "Random seed (Philox key); same seed, same numbers for any rank count", "StgssaEnsembleSetSeed", seed, &seed, NULL));
  STGSSA_OPT_CALL(PetscOptionsReal("-stgssa_tfinal", "End time of every trajectory (with -stgssa_data: default the last data time)", "StgssaEnsembleSetTimes", tfinal, &tfinal, &set_tf));
  STGSSA_OPT_CALL(PetscOptionsRealArray("-stgssa_sample_times", "Sample times t1,t2,... ascending in [0,tfinal] (default: tfinal; with -stgssa_data: the data times, united with any given)", "StgssaEnsembleSetTimes", times, &ntimes, &set_times));
  STGSSA_OPT_CALL(PetscOptionsStringArray("-stgssa_observe", "Observed species, groups or SBML assignment rules S1,S2,... (default: every species; a rule that is not a sum of species: moments only)", "StgssaEnsembleSetObserved", names, &nobs, &set_obs));
  STGSSA_OPT_CALL(PetscOptionsBoundedInt("-stgssa_hist_bins", "Histogram bins B (counts 0..B-1); 0 chooses max count + 1", "StgssaEnsemble", e->hist_bins, &e->hist_bins, NULL, 0));
  STGSSA_OPT_CALL(PetscOptionsBoundedInt("-stgssa_max_events", "Cap on SSA events per trajectory (a warning reports capped trajectories)", "StgssaEnsemble", e->max_events, &e->max_events, NULL, 1));
  {
    PetscInt init = e->steady ? 1 : 0;
    STGSSA_OPT_CALL(PetscOptionsEList("-stgssa_initial", "Initial condition: x0 (the model's initial counts) or steady (stationary at t = 0 inputs: SSA burn-in of -stgssa_initial_burnin; exact in fsp)", "StgssaEnsemble", StgssaInitialTypes, 2, StgssaInitialTypes[init], &init, NULL));
    e->steady = init ? PETSC_TRUE : PETSC_FALSE;
  }
  STGSSA_OPT_CALL(PetscOptionsReal("-stgssa_initial_burnin", "Burn-in time of -stgssa_initial steady: every path starts at x0 at t = -T with the inputs of t = 0", "StgssaEnsemble", e->burnin, &e->burnin, NULL));
  {
    PetscInt m = (PetscInt)e->method;
    STGSSA_OPT_CALL(PetscOptionsEList("-stgssa_ssa_method", "Exact method of simulate mode: auto (from " PetscStringize(STGSSA_SSA_TREE_MIN_R) " reactions on, when propensities do not depend on time: rssa for mass action, tree for rate laws; else direct), direct (Gillespie, O(R) per event), nrm (Gibson-Bruck next-reaction method, O(deps log R) per event), tree (direct method on a sum tree, O(changed log R) per event) or rssa (rejection-based SSA, O(log R) per trial, mass action only); nrm, tree and rssa: time-independent propensities only, and gradient, optimize and fsp refuse them", "StgssaEnsemble", StgssaSSAMethods, 5, StgssaSSAMethods[m], &m, NULL));
    e->method = (StgssaSSAMethod)m;
  }
  STGSSA_OPT_CALL(PetscOptionsReal("-stgssa_thinning_step", "Time-dependent propensities: cell length of the thinning bounds (0: tfinal/64)", "StgssaEnsemble", e->thin_step, &e->thin_step, NULL));
  STGSSA_OPT_CALL(PetscOptionsString("-stgssa_correlate", "Time correlations A:B@LAGS (A = B: auto), lags 0,1,2 or a:h:b; pairs separated by ';' or the option repeated: Cov(A(t), B(t+tau)) at every sample time t (t+tau <= tfinal added to the sample times)", "StgssaEnsembleSetCorrelation", corrtext, corrtext, sizeof(corrtext), &set_corr));
  PetscOptionsEnd();
  if (set_corr && !ierr_opt) { /* the full values (any length, every repeat on the command line) */
    StgssaCorrelation c;
    PetscBool         any;
    PetscCall(PetscMemzero(&c, sizeof(c)));
    ierr_opt = StgssaCorrelationFromOptions(e->comm, &c, &any);
    if (!ierr_opt) ierr_opt = StgssaEnsembleSetCorrelation(e, &c);
    PetscCall(StgssaCorrelationReset(&c));
  }
  /* apply and check what was read; the scratch arrays are freed whether that succeeds or not */
  ierr = ierr_opt ? ierr_opt : StgssaEnsembleApplyOptions_Private(e, ntraj, seed, set_tf, tfinal, set_times, ntimes, times, set_obs, nobs, (const char *const *)names);
  for (PetscInt i = 0; i < STGSSA_MAX_OBSERVED; i++) PetscCall(PetscFree(names[i]));
  PetscCall(PetscFree(names));
  PetscCall(PetscFree(times));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleSetUp(StgssaEnsemble e)
{
  const StgssaModelDef *def;

  PetscFunctionBegin;
  if (e->setup) PetscFunctionReturn(0);
  PetscCheck(e->model, e->comm, PETSC_ERR_ORDER, "Call StgssaEnsembleSetModel() first");
  PetscCall(StgssaModelGetDef(e->model, &def));
  if (!e->sample_times) PetscCall(StgssaEnsembleResolveTimes(e));
  PetscCheck(e->burnin >= 0 && e->burnin < PETSC_MAX_REAL, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_initial_burnin: expected a time T >= 0, got %.6g", (double)e->burnin);
  PetscCheck(e->thin_step >= 0 && e->thin_step < PETSC_MAX_REAL, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_thinning_step: expected a time >= 0 (0: tfinal/64), got %.6g", (double)e->thin_step);
  {
    const StgssaNetwork *net;
    PetscCall(StgssaModelGetNetwork(e->model, &net));
    PetscCheck(e->method != STGSSA_SSA_NRM || !net->any_tdep, e->comm, PETSC_ERR_SUP, "-stgssa_ssa_method nrm: model %s has propensities that depend on time (rate laws with t or time-varying inputs); the next-reaction method needs time-independent propensities: use -stgssa_ssa_method direct (exact by thinning) or auto", def->filename);
    PetscCheck(e->method != STGSSA_SSA_RSSA || (!net->any_tdep && !net->any_law), e->comm, PETSC_ERR_SUP, "-stgssa_ssa_method rssa: model %s has rate laws (or propensities that depend on time); the rejection method needs time-independent mass-action propensities: use -stgssa_ssa_method tree or auto", def->filename);
    PetscCheck(e->method != STGSSA_SSA_TREE || !net->any_tdep, e->comm, PETSC_ERR_SUP, "-stgssa_ssa_method tree: model %s has propensities that depend on time (rate laws with t or time-varying inputs); the sum tree needs time-independent propensities: use -stgssa_ssa_method direct (exact by thinning) or auto", def->filename);
    PetscCheck(!net->nevents || e->method != STGSSA_SSA_RSSA, e->comm, PETSC_ERR_SUP, "-stgssa_ssa_method rssa: model %s has scheduled events (begin events); the rejection method does not take them: use -stgssa_ssa_method direct, nrm, tree or auto", def->filename);
    for (PetscInt q = 0; q < net->nevents; q++) { /* event values at the start parameters (every rank the same) */
      double v;
      PetscCall(StgssaEventValueChecked(net, (int)q, net->pv, NULL, NULL, &v));
    }
    e->used = StgssaSSAMethodResolve(e->method, net, &e->used_why);
  }
  PetscCheck((PetscInt64)e->ntraj - 1 <= (PetscInt64)UINT32_MAX, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_ntraj must be at most 2^32");
  PetscCall(PetscFree4(e->obs_ptr, e->obs, e->obs_weight, e->obs_group));
  PetscCall(PetscFree(e->obs_rule));
  if (!e->nobs) { /* default: every species */
    const char **all;
    PetscCall(PetscMalloc1(def->nspecies, &all));
    for (int s = 0; s < def->nspecies; s++) all[s] = def->species[s].name;
    PetscCall(StgssaEnsembleSetObserved(e, def->nspecies, all));
    PetscCall(PetscFree(all));
  }
  if (e->corr.npair) { /* the correlations' A and B are observed too (their one-time means make the covariance) */
    char   **names;
    PetscInt n = e->nobs;
    PetscCall(PetscMalloc1(e->nobs + 2 * e->corr.npair, &names));
    for (PetscInt o = 0; o < e->nobs; o++) PetscCall(PetscStrallocpy(e->obs_names[o], &names[o])); /* SetObserved frees the old list */
    for (PetscInt q = 0; q < 2 * e->corr.npair; q++) {
      char     *nm  = q % 2 ? e->corr.b[q / 2] : e->corr.a[q / 2];
      PetscBool has = PETSC_FALSE;
      PetscInt  s;
      for (PetscInt o = 0; o < n; o++) has = (PetscBool)(has || !strcmp(names[o], nm));
      if (has) continue;
      PetscCall(StgssaModelFindSpecies(e->model, nm, &s));
      PetscCheck(s >= 0 || StgssaModelDefFindGroup(def, nm) >= 0, e->comm, PETSC_ERR_ARG_WRONG, "-stgssa_correlate: unknown species or group '%s' in pair %s:%s; model %s has %d species (e.g. '%s')", nm, e->corr.a[q / 2], e->corr.b[q / 2], def->filename, def->nspecies,
                 def->nspecies ? def->species[0].name : "");
      PetscCall(PetscStrallocpy(nm, &names[n++]));
    }
    if (n > e->nobs) PetscCall(StgssaEnsembleSetObserved(e, n, (const char *const *)names)); /* copies the names */
    for (PetscInt o = 0; o < n; o++) PetscCall(PetscFree(names[o]));
    PetscCall(PetscFree(names));
  }
  { /* each name is a species (one term of weight 1) or a group (its terms); the .net reader
       refuses a group named like a species, so the order of the look-ups does not matter */
    PetscInt nterms = 0;
    for (PetscInt o = 0; o < e->nobs; o++) {
      PetscInt s, g;
      PetscCall(StgssaModelFindSpecies(e->model, e->obs_names[o], &s));
      g = s >= 0 ? -1 : StgssaModelDefFindGroup(def, e->obs_names[o]);
      if (s < 0 && g < 0) {
        char known[2048] = "";
        for (int k = 0; k < def->nspecies; k++) {
          if (k) PetscCall(StgssaStrlcat(known, ", ", sizeof(known)));
          PetscCall(StgssaStrlcat(known, def->species[k].name, sizeof(known)));
        }
        if (def->ngroups) PetscCall(StgssaStrlcat(known, "; groups: ", sizeof(known)));
        for (int k = 0; k < def->ngroups; k++) {
          if (k) PetscCall(StgssaStrlcat(known, ", ", sizeof(known)));
          PetscCall(StgssaStrlcat(known, def->groups[k].name, sizeof(known)));
        }
        const int r = StgssaModelDefFindRule(def, e->obs_names[o]);
        if (r >= 0) { /* an expression observable: f(x, k), moments only */
          int nin;
          (void)StgssaExprUsedInputs(def->rules[r].expr, &nin);
          PetscCheck(!nin && !StgssaExprUsesTime(def->rules[r].expr), e->comm, PETSC_ERR_SUP, "-stgssa_observe: assignment rule '%s' (%s:%d) reads the time or an input signal; an expression observable must be a function of the counts and parameters only", e->obs_names[o], def->filename, def->rules[r].line);
          continue;
        }
        SETERRQ(e->comm, PETSC_ERR_ARG_WRONG, "-stgssa_observe: unknown species%s '%s'; model %s defines: %s", def->ngroups ? " or group" : "", e->obs_names[o], def->filename, known);
      }
      if (g >= 0 && StgssaModelDefGroupCheck(def, (int)g) >= 0 && StgssaModelDefFindRule(def, e->obs_names[o]) >= 0) continue; /* non-integer weights: the rule, an expression */
      if (g >= 0) {
        const int bad = StgssaModelDefGroupCheck(def, (int)g);
        PetscCheck(bad < 0, e->comm, PETSC_ERR_ARG_WRONG,
                   "-stgssa_observe: group '%s' (%s:%d) has weight %g for species '%s'; an observed group needs integer weights in [0, %d] (its value is a count: histograms)", e->obs_names[o], def->filename,
                   def->groups[g].line, def->groups[g].weight[bad], def->species[def->groups[g].species[bad]].name, STGSSA_GROUP_WEIGHT_MAX);
        nterms += def->groups[g].nterms;
      } else nterms++;
    }
    PetscCall(PetscMalloc4(e->nobs + 1, &e->obs_ptr, nterms + 1, &e->obs, nterms + 1, &e->obs_weight, e->nobs, &e->obs_group));
    PetscCall(PetscMalloc1(e->nobs, &e->obs_rule));
    e->obs_ptr[0] = 0;
    e->any_rule   = PETSC_FALSE;
    for (PetscInt o = 0, t = 0; o < e->nobs; o++) {
      PetscInt s;
      PetscCall(StgssaModelFindSpecies(e->model, e->obs_names[o], &s));
      e->obs_group[o] = s >= 0 ? -1 : StgssaModelDefFindGroup(def, e->obs_names[o]);
      e->obs_rule[o]  = s >= 0 || (e->obs_group[o] >= 0 && StgssaModelDefGroupCheck(def, (int)e->obs_group[o]) < 0) ? -1 : StgssaModelDefFindRule(def, e->obs_names[o]);
      if (e->obs_rule[o] >= 0) e->obs_group[o] = -1; /* a sum with weights that are not counts, kept as a rule too (SBML): an expression */
      if (e->obs_rule[o] >= 0) e->any_rule = PETSC_TRUE; /* no terms */
      else if (s >= 0) {
        e->obs[t]          = s;
        e->obs_weight[t++] = 1;
      } else {
        const StgssaGroupDef *gr = &def->groups[e->obs_group[o]];
        for (int k = 0; k < gr->nterms; k++) {
          e->obs[t]          = gr->species[k];
          e->obs_weight[t++] = (int64_t)gr->weight[k];
        }
      }
      e->obs_ptr[o + 1] = t;
      for (PetscInt p = 0; p < o; p++) PetscCheck(strcmp(e->obs_names[p], e->obs_names[o]), e->comm, PETSC_ERR_ARG_WRONG, "-stgssa_observe: %s '%s' listed twice", s >= 0 ? "species" : (e->obs_rule[o] >= 0 ? "expression" : "group"), e->obs_names[o]);
    }
  }
  if (e->corr.npair) {
    PetscCall(StgssaCorrelationResolve(e->comm, &e->corr, e->nsample, e->sample_times, e->nobs, (const char *const *)e->obs_names));
    for (PetscInt q = 0; q < e->corr.npair; q++)
      PetscCheck(e->obs_rule[e->corr.oa[q]] < 0 && e->obs_rule[e->corr.ob[q]] < 0, e->comm, PETSC_ERR_SUP, "-stgssa_correlate %s:%s: an assignment-rule expression cannot be correlated (counts only: species or integer-weight groups)", e->corr.a[q], e->corr.b[q]);
  }
  e->setup = PETSC_TRUE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOwnershipRange(MPI_Comm comm, PetscInt64 n, PetscInt64 *start, PetscInt64 *end)
{
  PetscMPIInt rank, size;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  PetscCallMPI(MPI_Comm_size(comm, &size));
  {
    const PetscInt64 q = n / size, r = n % size;
    *start = rank * q + PetscMin(rank, r);
    *end   = *start + q + (rank < r ? 1 : 0);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleSetSSAMethod(StgssaEnsemble e, StgssaSSAMethod method)
{
  PetscFunctionBegin;
  e->method = method;
  e->setup  = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleGetSSAMethod(StgssaEnsemble e, StgssaSSAMethod *method)
{
  PetscFunctionBegin;
  *method = e->method;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleGetSampling(StgssaEnsemble e, StgssaSampling *s)
{
  PetscFunctionBegin;
  PetscCall(StgssaEnsembleSetUp(e));
  s->ntraj        = e->ntraj;
  s->seed         = e->seed;
  s->max_events   = e->max_events;
  s->tfinal       = e->tfinal;
  s->t0           = e->steady ? -e->burnin : 0.0;
  s->thin_step    = e->thin_step > 0 ? e->thin_step : e->tfinal / 64;
  s->nsample      = e->nsample;
  s->sample_times = e->sample_times;
  s->nobs         = e->nobs;
  s->obs_ptr      = e->obs_ptr;
  s->obs          = e->obs;
  s->obs_weight   = e->obs_weight;
  s->obs_group    = e->obs_group;
  s->obs_rule     = e->any_rule ? e->obs_rule : NULL;
  s->obs_names    = (const char *const *)e->obs_names;
  s->corr         = e->corr.npair ? &e->corr : NULL;
  PetscFunctionReturn(0);
}

/* -stgssa_initial steady on the SSA route: the stationary start is approximated by a burn-in,
   whose length the user must give (the exact routes, -stgssa_gradient fsp and -stgssa_mode fsp,
   solve the steady state and need none). No default: a safe length is a multiple of the slowest
   relaxation time, which the rates alone do not give for nonlinear networks. */
PetscErrorCode StgssaEnsembleCheckBurnin(StgssaEnsemble e)
{
  PetscFunctionBegin;
  PetscCall(StgssaEnsembleSetUp(e));
  PetscCheck(!e->steady || e->burnin > 0, e->comm, PETSC_ERR_ARG_WRONG,
             "-stgssa_initial steady on the SSA route starts every path from a burn-in: give -stgssa_initial_burnin T > 0 (several times the slowest relaxation time of the model; simulate and gradient modes choose 20 relaxation times for first-order networks), or take the exact route, which solves the steady state with no burn-in (-stgssa_gradient fsp, or auto with a projection that fits; -stgssa_mode fsp)");
  PetscFunctionReturn(0);
}

/* Default burn-in of -stgssa_initial steady on the SSA route when none is given, for first-order
   networks (StgssaNetworkRelaxationRate: every propensity c_j x_s or c_j, rate laws of parameters
   and inputs included, at the inputs of t = 0): T = 20/lambda with lambda the slowest relaxation
   rate, so every moment's distance from its stationary value falls by e^-20 ~ 2e-9 (for a
   Poisson count of mean m0 the total variation distance ~ sqrt(m0) e^-20, below Monte Carlo error
   up to m0 ~ 1e8). Rates are those of the model now; in a fit the evaluator recomputes T at every
   iterate's rates (StgssaEvaluatorSetTheta). No default (T stays 0) for other networks or when an
   eigenvalue has Re mu > 0 (no stationary law). */
PetscErrorCode StgssaEnsembleSetDefaultBurnin(StgssaEnsemble e)
{
  const StgssaNetwork *net;
  PetscReal            lambda;

  PetscFunctionBegin;
  PetscCall(StgssaEnsembleSetUp(e));
  if (!e->steady || e->burnin > 0) PetscFunctionReturn(0);
  PetscCall(StgssaModelGetNetwork(e->model, &net));
  PetscCall(StgssaNetworkRelaxationRate(net, &lambda));
  if (lambda > 0) {
    e->burnin_rate = lambda;
    e->burnin      = 20.0 / lambda;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleGetBurnin(StgssaEnsemble e, PetscBool *steady, PetscReal *T, PetscReal *default_rate)
{
  PetscFunctionBegin;
  if (steady) *steady = e->steady;
  if (T) *T = e->burnin;
  if (default_rate) *default_rate = e->burnin_rate;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleRun(StgssaEnsemble e)
{
  const StgssaNetwork *net;
  StgssaSSAConfig      cfg;
  StgssaSSAWork        work[STGSSA_SSA_MANY];
  int64_t             *samples;
  double              *rscratch = NULL;
  PetscInt64           start = 0, end = 0, local[3] = {0, 0, 0}, global[3];
  PetscLogDouble       t0, t1;

  PetscFunctionBegin;
  PetscCall(StgssaEnsembleCheckBurnin(e));
  PetscCall(StgssaModelGetNetwork(e->model, &net));
  PetscCall(StgssaCountHistDestroy(&e->hist));
  PetscCall(StgssaCountHistCreate(e->nsample * e->nobs, &e->hist));
  PetscCall(PetscFree(e->esum));
  if (e->any_rule) {
    PetscCall(PetscMalloc1(e->nsample * e->nobs * 3, &e->esum));
    for (PetscInt i = 0; i < e->nsample * e->nobs * 3; i++) StgssaExactSumZero(&e->esum[i]);
    PetscCall(PetscMalloc1(StgssaRuleScratchSize(net), &rscratch));
  }
  PetscCall(PetscFree(e->csum));
  if (e->corr.npair) {
    const PetscInt nc = STGSSA_CORR_BATCHES * e->corr.nprod * 3;
    PetscCall(PetscMalloc1(nc + 1, &e->csum));
    for (PetscInt k = 0; k < nc; k++) StgssaExactSumZero(&e->csum[k]);
  }
  PetscCall(StgssaOwnershipRange(e->comm, e->ntraj, &start, &end));
  cfg.net          = net;
  cfg.seed         = (uint32_t)e->seed;
  cfg.iteration    = 0;
  cfg.tfinal       = e->tfinal;
  cfg.t0           = e->steady ? -e->burnin : 0.0;
  cfg.thin_step    = e->thin_step > 0 ? e->thin_step : e->tfinal / 64;
  cfg.max_events   = e->max_events;
  cfg.nsample      = e->nsample;
  cfg.sample_times = e->sample_times;
  for (PetscInt q = 0; q < STGSSA_SSA_MANY; q++) PetscCall(StgssaSSAWorkCreate(net, &work[q]));
  PetscCall(PetscMalloc1(STGSSA_SSA_MANY * e->nsample * net->S, &samples));
  PetscCall(PetscTime(&t0));
  PetscCall(PetscLogEventBegin(STGSSA_Simulate, 0, 0, 0, 0));
  for (PetscInt64 i0 = start; i0 < end;) {
    StgssaTrajInfo info[STGSSA_SSA_MANY];
    uint64_t       traj[STGSSA_SSA_MANY];
    PetscInt       nb = 1;
    if (e->used == STGSSA_SSA_NRM) PetscCall(StgssaSSARunNRM(&cfg, (uint64_t)i0, &work[0], samples, &info[0]));
    else if (e->used == STGSSA_SSA_TREE) PetscCall(StgssaSSARunTree(&cfg, (uint64_t)i0, &work[0], samples, &info[0]));
    else if (e->used == STGSSA_SSA_RSSA) PetscCall(StgssaSSARunRSSA(&cfg, (uint64_t)i0, &work[0], samples, &info[0]));
    else { /* direct method: paths in groups (interleaved on small networks; the same numbers) */
      nb = (PetscInt)PetscMin((PetscInt64)STGSSA_SSA_MANY, end - i0);
      for (PetscInt q = 0; q < nb; q++) traj[q] = (uint64_t)(i0 + q);
      PetscCall(StgssaSSARunMany(&cfg, nb, traj, work, samples, info));
    }
    for (PetscInt q = 0; q < nb; q++) {
      const int64_t *smp = &samples[q * e->nsample * net->S];
      local[0] += info[q].events;
      local[1] += info[q].end == STGSSA_TRAJ_ABSORBED;
      local[2] += info[q].end == STGSSA_TRAJ_CAPPED;
      for (PetscInt k = 0; k < e->nsample; k++)
        for (PetscInt o = 0; o < e->nobs; o++) {
          if (e->any_rule && e->obs_rule[o] >= 0) { /* expression: exact sums of f, f^2, f^3 (order-free: any rank count, same bits) */
            const double f = StgssaRuleTangent(net, e->obs_rule[o], &smp[k * net->S], NULL, 0, 0, NULL, rscratch, NULL);
            StgssaExactSum *acc = &e->esum[(k * e->nobs + o) * 3];
            StgssaExactSumAdd(&acc[0], f);
            StgssaExactSumAdd(&acc[1], f * f);
            StgssaExactSumAdd(&acc[2], f * f * f);
          } else PetscCall(StgssaCountHistAdd(&e->hist, k * e->nobs + o, StgssaObservedValue(e->obs_ptr, e->obs, e->obs_weight, o, &smp[k * net->S])));
        }
      if (e->corr.npair) { /* products A(t_i) B(t_j) of the correlations: exact sums per batch of trajectory indices (any rank count, same bits) */
        const PetscInt64 it = i0 + q;
        StgssaExactSum  *acc = &e->csum[(size_t)((it * STGSSA_CORR_BATCHES) / e->ntraj) * e->corr.nprod * 3];
        for (PetscInt k = 0; k < e->corr.nprod; k++) {
          const double a = (double)StgssaObservedValue(e->obs_ptr, e->obs, e->obs_weight, e->corr.prod_a[k], &smp[e->corr.prod_i[k] * net->S]);
          const double b = (double)StgssaObservedValue(e->obs_ptr, e->obs, e->obs_weight, e->corr.prod_b[k], &smp[e->corr.prod_j[k] * net->S]);
          StgssaExactSumAdd(&acc[3 * k], a);
          StgssaExactSumAdd(&acc[3 * k + 1], b);
          StgssaExactSumAdd(&acc[3 * k + 2], a * b);
        }
      }
    }
    i0 += nb;
  }
  PetscCall(PetscLogEventEnd(STGSSA_Simulate, 0, 0, 0, 0));
  PetscCall(PetscLogEventBegin(STGSSA_Reduce, 0, 0, 0, 0));
  PetscCall(StgssaCountHistAllreduce(&e->hist, e->comm));
  if (e->any_rule) PetscCall(StgssaExactSumAllreduce(e->esum, e->nsample * e->nobs * 3, e->comm));
  if (e->corr.npair) PetscCall(StgssaExactSumAllreduce(e->csum, STGSSA_CORR_BATCHES * e->corr.nprod * 3, e->comm));
  PetscCallMPI(MPI_Allreduce(local, global, 3, MPIU_INT64, MPI_SUM, e->comm));
  PetscCall(PetscLogEventEnd(STGSSA_Reduce, 0, 0, 0, 0));
  PetscCall(PetscTime(&t1));
  {
    /* the wall-time reduction also carries this rank's events (exact in a double below 2^53): load balance at no extra latency */
    double      lmax[2] = {t1 - t0, (double)local[0]}, gmax[2];
    PetscMPIInt size;
    PetscCallMPI(MPI_Comm_size(e->comm, &size));
    PetscCallMPI(MPI_Allreduce(lmax, gmax, 2, MPI_DOUBLE, MPI_MAX, e->comm));
    e->wall                 = gmax[0];
    e->events_max_over_mean = global[0] > 0 ? gmax[1] * size / (double)global[0] : 1.0;
  }
  e->events    = global[0];
  e->nabsorbed = global[1];
  e->ncapped   = global[2];
  e->done      = PETSC_TRUE;
  if (e->ncapped)
    PetscCall(PetscPrintf(e->comm,
                          "WARNING: %" PetscInt64_FMT " of %" PetscInt_FMT " trajectories hit -stgssa_max_events %" PetscInt_FMT " before t = %g; their later samples hold the last state, so statistics are biased. "
                          "The model may be explosive; raise the cap or shorten -stgssa_tfinal.\n",
                          e->ncapped, e->ntraj, e->max_events, (double)e->tfinal));
  PetscCall(PetscFree(samples));
  PetscCall(PetscFree(rscratch));
  for (PetscInt q = 0; q < STGSSA_SSA_MANY; q++) PetscCall(StgssaSSAWorkDestroy(&work[q]));
  PetscFunctionReturn(0);
}

/* Covariance from sums over n paths: n/(n-1) (S_ab/n - S_a S_b / n^2), the unbiased sample covariance. */
static double StgssaCorrCov(double sa, double sb, double sab, double n)
{
  return n > 1 ? (sab / n - (sa / n) * (sb / n)) * n / (n - 1) : NAN;
}

/* Cov(A(t_i), B(t_j)) of product k over all trajectories, its standard error from the K batches
   of trajectory indices (se = sd of the batch covariances / sqrt K), and E[A(t_i) B(t_j)]. */
PetscErrorCode StgssaEnsembleGetCorrelation(StgssaEnsemble e, PetscInt k, PetscReal *cov, PetscReal *se, PetscReal *mean_product)
{
  const PetscInt K = STGSSA_CORR_BATCHES;
  double         tot[3] = {0, 0, 0}, cb[STGSSA_CORR_BATCHES], mean = 0, ss = 0;
  PetscInt       nb     = 0;

  PetscFunctionBegin;
  PetscCheck(e->done && e->csum, e->comm, PETSC_ERR_ORDER, "Call StgssaEnsembleRun() with -stgssa_correlate first");
  PetscCheck(k >= 0 && k < e->corr.nprod, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "Correlation product %" PetscInt_FMT " out of range", k);
  for (PetscInt b = 0; b < K; b++) {
    /* batch b holds the indices i with floor(i K / N) = b: i in [ceil(b N / K), ceil((b+1) N / K)) */
    const PetscInt64 lo = ((PetscInt64)b * e->ntraj + K - 1) / K, hi = ((PetscInt64)(b + 1) * e->ntraj + K - 1) / K;
    double           v[3];
    for (int c = 0; c < 3; c++) {
      PetscCall(StgssaExactSumValue(&e->csum[((size_t)b * e->corr.nprod + k) * 3 + c], &v[c]));
      tot[c] += v[c]; /* the batch sums are integers (counts and their products) below 2^53: exact */
    }
    if (hi - lo > 1) cb[nb++] = StgssaCorrCov(v[0], v[1], v[2], (double)(hi - lo));
  }
  *cov = StgssaCorrCov(tot[0], tot[1], tot[2], (double)e->ntraj);
  if (mean_product) *mean_product = tot[2] / (double)e->ntraj;
  for (PetscInt b = 0; b < nb; b++) mean += cb[b] / nb;
  for (PetscInt b = 0; b < nb; b++) ss += (cb[b] - mean) * (cb[b] - mean);
  if (se) *se = nb > 1 ? PetscSqrtReal(ss / ((double)nb * (nb - 1))) : NAN;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleGetMoments(StgssaEnsemble e, PetscInt i, PetscInt o, PetscReal moments[3])
{
  int64_t n;
  double  m[3];

  PetscFunctionBegin;
  PetscCheck(e->done, e->comm, PETSC_ERR_ORDER, "Call StgssaEnsembleRun() first");
  PetscCheck(i >= 0 && i < e->nsample && o >= 0 && o < e->nobs, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "Sample %" PetscInt_FMT " / observed species %" PetscInt_FMT " out of range", i, o);
  if (e->any_rule && e->obs_rule[o] >= 0) { /* from the exact raw sums R_k = sum f^k: mean R1/N, central moments R2/N - m^2, R3/N - 3 m R2/N + 2 m^3 */
    double      r[3];
    long double m1, m2, m3;
    for (int k = 0; k < 3; k++) PetscCall(StgssaExactSumValue(&e->esum[(i * e->nobs + o) * 3 + k], &r[k]));
    m1         = (long double)r[0] / (long double)e->ntraj;
    m2         = (long double)r[1] / (long double)e->ntraj;
    m3         = (long double)r[2] / (long double)e->ntraj;
    moments[0] = (PetscReal)m1;
    moments[1] = (PetscReal)(m2 - m1 * m1);
    moments[2] = (PetscReal)(m3 - 3 * m1 * m2 + 2 * m1 * m1 * m1);
    PetscFunctionReturn(0);
  }
  PetscCall(StgssaCountHistMoments(&e->hist, i * e->nobs + o, &n, m));
  for (int k = 0; k < 3; k++) moments[k] = m[k];
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleGetHistogram(StgssaEnsemble e, PetscInt i, PetscInt o, PetscInt64 *nbins, const int64_t **counts)
{
  PetscFunctionBegin;
  PetscCheck(e->done, e->comm, PETSC_ERR_ORDER, "Call StgssaEnsembleRun() first");
  PetscCheck(i >= 0 && i < e->nsample && o >= 0 && o < e->nobs, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "Sample %" PetscInt_FMT " / observed species %" PetscInt_FMT " out of range", i, o);
  PetscCheck(!e->any_rule || e->obs_rule[o] < 0, e->comm, PETSC_ERR_ARG_WRONG, "%s is an expression observable: moments only; a histogram needs an integer count", e->obs_names[o]);
  *nbins  = e->hist.max[i * e->nobs + o] + 1;
  *counts = e->hist.counts[i * e->nobs + o];
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleGetEventCount(StgssaEnsemble e, PetscInt64 *events)
{
  PetscFunctionBegin;
  *events = e->events;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleGetLoadImbalance(StgssaEnsemble e, PetscReal *events_max_over_mean)
{
  PetscFunctionBegin;
  PetscCheck(e->done, e->comm, PETSC_ERR_ORDER, "Call StgssaEnsembleRun() first");
  *events_max_over_mean = e->events_max_over_mean;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleView(StgssaEnsemble e, PetscViewer viewer)
{
  PetscMPIInt size;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(e->comm, &viewer));
  PetscCallMPI(MPI_Comm_size(e->comm, &size));
  PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaEnsemble: %" PetscInt_FMT " trajectories on %d ranks, seed %" PetscInt_FMT ", tfinal %g, %" PetscInt_FMT " sample times\n", e->ntraj, size, e->seed, (double)e->tfinal, e->nsample));
  if (e->steady) PetscCall(PetscViewerASCIIPrintf(viewer, "  initial condition: steady (burn-in from x0 over [%g, 0] at the inputs of t = 0)\n", -(double)e->burnin));
  if (e->setup) PetscCall(PetscViewerASCIIPrintf(viewer, "  exact method: %s (%s)\n", StgssaSSAMethods[e->used], e->used_why));
  if (!e->done) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPushTab(viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer, "%" PetscInt64_FMT " SSA events in %.3f s (%.3g events/s); %" PetscInt64_FMT " absorbed, %" PetscInt64_FMT " capped; events per rank max/mean %.4f\n", e->events, e->wall, e->wall > 0 ? (double)e->events / e->wall : 0.0, e->nabsorbed, e->ncapped, (double)e->events_max_over_mean));
  PetscCall(PetscViewerASCIIPrintf(viewer, "%-12s %10s %14s %14s %10s\n", "species", "time", "mean", "variance", "Fano"));
  for (PetscInt o = 0; o < e->nobs; o++) {
    for (PetscInt i = 0; i < e->nsample; i++) {
      PetscReal m[3];
      PetscCall(StgssaEnsembleGetMoments(e, i, o, m));
      PetscCall(PetscViewerASCIIPrintf(viewer, "%-12s %10.4g %14.6g %14.6g %10.4g\n", e->obs_names[o], (double)e->sample_times[i], (double)m[0], (double)m[1], m[0] > 0 ? (double)(m[1] / m[0]) : (double)NAN));
    }
  }
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}

/* /run attributes of this run and /simulate: times [T], moments/<species> [T x 3],
   histograms/<species> [T x B] (probabilities of counts 0..B-1, attribute tail_mass [T] = P(count >= B)). */
/* /simulate/correlation/<A>_<B> [T x L] = Cov(A(t_i), B(t_i + tau_l)) (NaN where t_i + tau_l is not
   sampled: beyond tfinal), attribute lags [L]; correlation_stderr/<A>_<B> its batch standard error;
   correlation_product/<A>_<B> the raw E[A(t_i) B(t_i + tau_l)]. */
static PetscErrorCode StgssaEnsembleWriteCorrelation(StgssaEnsemble e, hid_t sim)
{
  const StgssaCorrelation *c = &e->corr;
  const PetscInt           T = e->nsample;
  static const char *const grp[3] = {"correlation", "correlation_stderr", "correlation_product"};

  PetscFunctionBegin;
  for (PetscInt q = 0; q < c->npair; q++) {
    const PetscInt l0 = c->lag_ptr[q], L = c->lag_ptr[q + 1] - l0;
    char           pname[2 * STGSSA_NAME_MAX + 8], name[2 * STGSSA_NAME_MAX + 64];
    double        *v[3];
    PetscCall(StgssaCorrelationPairName(c, q, pname, sizeof(pname)));
    PetscCall(PetscMalloc3(T * L, &v[0], T * L, &v[1], T * L, &v[2]));
    for (PetscInt i = 0; i < T; i++)
      for (PetscInt l = 0; l < L; l++) {
        const PetscInt k = c->prod[(l0 + l) * T + i];
        if (k < 0) v[0][i * L + l] = v[1][i * L + l] = v[2][i * L + l] = NAN;
        else PetscCall(StgssaEnsembleGetCorrelation(e, k, &v[0][i * L + l], &v[1][i * L + l], &v[2][i * L + l]));
      }
    for (int g = 0; g < 3; g++) {
      hsize_t dims[2] = {(hsize_t)T, (hsize_t)L};
      hid_t   dset;
      PetscCall(PetscSNPrintf(name, sizeof(name), "%s/%s", grp[g], pname));
      PetscCall(StgssaH5WriteDoubles(sim, name, 2, dims, v[g]));
      PetscCallHDF5(dset = H5Dopen2(sim, name, H5P_DEFAULT));
      PetscCall(StgssaH5WriteAttrDoubles(dset, "lags", (hsize_t)L, &c->lags[l0]));
      PetscCallHDF5(H5Dclose(dset));
    }
    PetscCall(PetscFree3(v[0], v[1], v[2]));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleWriteHDF5(StgssaEnsemble e, hid_t file)
{
  const StgssaModelDef *def;
  hid_t                 run, sim;
  const PetscInt        T = e->nsample;
  double               *buf, *tail;

  PetscFunctionBegin;
  PetscCheck(e->done, PETSC_COMM_SELF, PETSC_ERR_ORDER, "Call StgssaEnsembleRun() first");
  PetscCall(StgssaModelGetDef(e->model, &def));
  PetscCall(StgssaH5WriteRunInfo(file, e->comm, def->text));
  PetscCallHDF5(run = H5Gopen2(file, "run", H5P_DEFAULT));
  PetscCall(StgssaH5WriteAttrInt64(run, "seed", e->seed));
  PetscCall(StgssaH5WriteAttrInt64(run, "ntraj", e->ntraj));
  PetscCall(StgssaH5WriteAttrInt64(run, "events", e->events));
  PetscCall(StgssaH5WriteAttrInt64(run, "absorbed_trajectories", e->nabsorbed));
  PetscCall(StgssaH5WriteAttrInt64(run, "capped_trajectories", e->ncapped));
  PetscCall(StgssaH5WriteAttrDouble(run, "wall_seconds", e->wall));
  PetscCall(StgssaH5WriteAttrDouble(run, "events_max_over_mean", e->events_max_over_mean));
  PetscCall(StgssaH5WriteAttrDouble(run, "tfinal", e->tfinal));
  if (e->used != STGSSA_SSA_DIRECT) PetscCall(StgssaH5WriteAttrString(run, "ssa_method", StgssaSSAMethods[e->used]));
  PetscCallHDF5(H5Gclose(run));

  PetscCallHDF5(sim = H5Gcreate2(file, "simulate", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  {
    hsize_t dims[1] = {(hsize_t)T};
    PetscCall(StgssaH5WriteDoubles(sim, "times", 1, dims, e->sample_times));
  }
  PetscCall(PetscMalloc1(T, &tail));
  for (PetscInt o = 0; o < e->nobs; o++) {
    char    name[STGSSA_NAME_MAX + 32];
    int64_t B = e->hist_bins;
    if (e->any_rule && e->obs_rule[o] >= 0) { /* an expression observable: moments only, no histogram */
      PetscCall(PetscMalloc1(3 * T, &buf));
      for (PetscInt i = 0; i < T; i++) PetscCall(StgssaEnsembleGetMoments(e, i, o, &buf[3 * i]));
      {
        hsize_t dims[2] = {(hsize_t)T, 3};
        hid_t   dset;
        PetscCall(PetscSNPrintf(name, sizeof(name), "moments/%s", e->obs_names[o]));
        PetscCall(StgssaH5WriteDoubles(sim, name, 2, dims, buf));
        PetscCallHDF5(dset = H5Dopen2(sim, name, H5P_DEFAULT));
        PetscCall(StgssaH5WriteAttrString(dset, "expression", "moments of an expression observable (no histogram)"));
        PetscCallHDF5(H5Dclose(dset));
      }
      PetscCall(PetscFree(buf));
      continue;
    }
    if (!B)
      for (PetscInt i = 0; i < T; i++) B = PetscMax(B, e->hist.max[i * e->nobs + o] + 1);
    PetscCall(PetscMalloc1((size_t)(T * PetscMax(B, 3)), &buf));
    for (PetscInt i = 0; i < T; i++) PetscCall(StgssaEnsembleGetMoments(e, i, o, &buf[3 * i]));
    {
      hsize_t dims[2] = {(hsize_t)T, 3};
      PetscCall(PetscSNPrintf(name, sizeof(name), "moments/%s", e->obs_names[o]));
      PetscCall(StgssaH5WriteDoubles(sim, name, 2, dims, buf));
    }
    for (PetscInt i = 0; i < T; i++) {
      const PetscInt set = i * e->nobs + o;
      int64_t        n = 0, above = 0;
      for (int64_t x = 0; x <= e->hist.max[set]; x++) {
        n += e->hist.counts[set][x];
        if (x >= B) above += e->hist.counts[set][x];
      }
      for (int64_t x = 0; x < B; x++) buf[i * B + x] = x <= e->hist.max[set] ? (double)e->hist.counts[set][x] / (double)n : 0.0;
      tail[i] = (double)above / (double)n;
    }
    {
      hsize_t dims[2] = {(hsize_t)T, (hsize_t)B};
      hid_t   dset;
      PetscCall(PetscSNPrintf(name, sizeof(name), "histograms/%s", e->obs_names[o]));
      PetscCall(StgssaH5WriteDoubles(sim, name, 2, dims, buf));
      PetscCallHDF5(dset = H5Dopen2(sim, name, H5P_DEFAULT));
      PetscCall(StgssaH5WriteAttrDoubles(dset, "tail_mass", (hsize_t)T, tail));
      PetscCallHDF5(H5Dclose(dset));
    }
    PetscCall(PetscFree(buf));
  }
  PetscCall(PetscFree(tail));
  if (e->corr.npair) PetscCall(StgssaEnsembleWriteCorrelation(e, sim));
  PetscCallHDF5(H5Gclose(sim));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEnsembleDestroy(StgssaEnsemble *ens)
{
  StgssaEnsemble e = *ens;

  PetscFunctionBegin;
  if (!e) PetscFunctionReturn(0);
  PetscCall(StgssaCountHistDestroy(&e->hist));
  PetscCall(PetscFree(e->esum));
  PetscCall(PetscFree(e->csum));
  PetscCall(StgssaCorrelationReset(&e->corr));
  PetscCall(PetscFree(e->obs_rule));
  PetscCall(StgssaStringListFree(&e->nobs, &e->obs_names));
  PetscCall(PetscFree4(e->obs_ptr, e->obs, e->obs_weight, e->obs_group));
  PetscCall(PetscFree(e->sample_times));
  PetscCall(PetscFree(e->req_times));
  PetscCall(PetscFree(e->data_times));
  PetscCall(PetscFree(*ens));
  PetscFunctionReturn(0);
}
