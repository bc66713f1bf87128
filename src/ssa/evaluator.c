/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaEvaluator: ensemble means of trajectory observables and their derivatives per log-rate.

  Estimators of d mu_m / d theta_p, mu_m = E[o_m]:
    stgs   mean over trajectories of the ST-GS pathwise tangent of o_m;
    score  Ng/(Ng-1) [mean(o_m S_p(t_m)) - mean(o_m) mean(S_p(t_m))]: the likelihood ratio with the
           ensemble mean as baseline; E[S] = 0 makes this the unbiased sample covariance;
           S_p(t_m) is the score of the path up to the time of the observable (causality);
    fd     mean of (o_m(theta + h e_p) - o_m(theta - h e_p)) / 2h along the same random numbers
           (common random numbers: counter-based Philox gives each trajectory the same draws);
    fsp    exact: mu_m = sum_x P(x, t_m) o_m(x) and its derivative from the finite state projection
           of the master equation (state observables only: powers and soft histograms).
  Values come from ntraj trajectories (indices 0..ntraj-1); derivatives from the first
  ntraj_grad of them (the forward path of a trajectory does not depend on whether it carries
  derivatives).
*/
#include <stgssa/stgssa.h>
#include <stgssa/fsp.h>
#include <stgssa/run.h>
#include <stgssa/ode.h>
#include "../stgssa_impl.h"

/* gradient-mode trajectories per StgssaSSARunTangentMany call (the small-network ST-GS engine interleaves them) */
#define STGSSA_EVAL_MANY 4
#define STGSSA_FIT_NAMES_MAX 65536 /* -stgssa_fit names read (issue 17: thousands of fitted rates); more is refused, not cut */

struct _p_StgssaEvaluator {
  MPI_Comm             comm;
  StgssaEnsemble       ens;
  StgssaModel          model;
  StgssaSampling       smp;
  const StgssaNetwork *net0;
  /* fit */
  PetscInt  P;
  char    **fit_names;
  PetscInt *fit_param;   /* [P] model parameter index */
  PetscInt *rxn_param;   /* [R] fitted parameter of reaction j or -1 */
  PetscReal *theta;      /* [P] current log-rates */
  /* derivative estimator */
  StgssaGradientType type;    /* the estimator in use (auto resolved at SetUp) */
  StgssaGradientType req;     /* as requested: auto, or one estimator */
  char               nofsp[1024];  /* why the exact route cannot serve this run ("" if it can) */
  char               choice[2048]; /* auto: the choice and why */
  PetscReal          lambda, fd_h;
  PetscInt           ntraj_grad, nbatch, iteration;
  PetscInt           ntraj_grad_opt; /* -stgssa_ntraj_grad as given (-1: all), for StgssaEvaluatorSetNumTrajectories() */
  PetscInt           ntraj0;         /* -stgssa_ntraj of the ensemble */
  /* observables */
  PetscBool    window;
  PetscReal    w0, w1;
  PetscReal    count_from; /* burn-in of the path observables (currents, activity, entropy production) */
  PetscInt     B;
  StgssaKernel kernel;
  PetscReal    bandwidth;
  PetscBool    entropy;
  PetscInt    *rev;      /* [R] reverse reactions (entropy) */
  PetscInt    *pairs;    /* [2*npairs] forward, backward reaction of labelled pairs */
  StgssaObsLayout lay;
  double      *obs_scratch; /* expression observables (smp.obs_rule): StgssaRuleTangent's scratch */
  PetscBool    setup;
  PetscBool    auto_burnin; /* the steady start's burn-in is the default, 20/lambda at each theta's rates */
  /* networks: rates at theta, and at theta +- h e_p for fd */
  StgssaNetwork  net;    /* shallow copy of net0 with its own k */
  StgssaNetwork *net_fd; /* [2P]: +h e_p at 2p, -h e_p at 2p+1 */
  PetscInt       nfd;    /* networks allocated in net_fd (2P at SetUp; P may change later) */
  StgssaFSP  fsp;         /* exact evaluation (type fsp) */
  StgssaODE  ode;         /* mean-field evaluation (type ode) */
  /* results */
  PetscReal  *mu, *dmu;  /* [M], [M*P] */
  PetscReal  *dmu_batch; /* [nbatch*M*P] */
  PetscReal  *mu_batch;  /* [nbatch*M] means of each batch's gradient trajectories (kept with -stgssa_correlate: standard errors of covariances) */
  PetscInt64  events;
  PetscReal   events_max_over_mean; /* load balance: largest events of a rank / mean over ranks */
  PetscInt64  nabsorbed, ncapped; /* trajectories that ended absorbed (a_0 = 0), stopped by -stgssa_max_events (fd: any of its runs) */
  PetscLogDouble wall;
  PetscBool   done;
  PetscBool   for_loss, deferred; /* StgssaEvaluatorEvaluateForLoss: the FSP's adjoint mode; dmu deferred */
  /* two-pass reduction of a loss's score evaluation (-stgssa_reduction; StgssaEvaluatorApplyAdjoint) */
  StgssaReductionType reduction;  /* as requested */
  PetscBool   need_dmu;           /* auto stays single up to P = 64 (StgssaEvaluatorSetNeedDerivatives: e.g. Fisher scoring's Hessian) */
  PetscReal   score_memory;       /* MB per rank for the kept observables and scores (-stgssa_score_memory); beyond: replay */
  PetscBool   two_pass;           /* the last evaluation was the first pass of two (SSA route) */
  PetscBool   tp_replay;          /* pass 2 replays the trajectories instead of reading tp_o, tp_s */
  PetscInt64  tp_start, tp_end;   /* this rank's gradient trajectories [tp_start, tp_end) */
  double     *tp_o, *tp_s;        /* kept per local gradient trajectory: o [M], S [(nsample+1)*P] */
  size_t      tp_cap;             /* doubles allocated in tp_o + tp_s */
  PetscInt64  tp_N, tp_Ng;        /* trajectories (all, gradient) of pass 1 */
  PetscInt    tp_iteration;       /* its random-number iteration (replay) */
  double     *tp_obar, *tp_sbar;  /* [(K+1)*M] mean values of the gradient trajectories, [(K+1)*NS*P] mean scores; row K: all */
  PetscReal  *grad_batch;         /* [K*P] loss gradient per batch of the last StgssaEvaluatorApplyAdjoint (two-pass) */
  double      red_bytes[2];       /* bytes of exact sums in the reductions of the last evaluation: [0] the first (or only), [1] pass 2 */
  PetscLogDouble red_time[2];     /* their seconds (this rank) */
  double      red_sum[6];         /* over the evaluations so far: bytes, seconds of pass 1's (or the single) reduction, of pass 2's, evaluations,
                                     seconds of the evaluations (largest rank), of pass 2 (this rank: replay or contraction, and its reduction) */
};

const char *const StgssaReductionTypes[] = {"auto", "single", "two_pass", "StgssaReductionType", "STGSSA_REDUCTION_", NULL};

PetscErrorCode StgssaEvaluatorCreate(MPI_Comm comm, StgssaEvaluator *ev)
{
  StgssaEvaluator e;

  PetscFunctionBegin;
  PetscCall(StgssaInitializePackage());
  PetscCall(PetscNew(&e));
  e->comm       = comm;
  e->type       = STGSSA_GRADIENT_AUTO; /* exact when the projection fits; else score: unbiased, and the cheapest per unit variance in the gradient-quality study (README) */
  e->req        = STGSSA_GRADIENT_AUTO;
  e->lambda     = 1.0;
  e->fd_h       = 0.05;
  e->nbatch     = 16;
  e->ntraj_grad = -1; /* all */
  e->kernel     = STGSSA_KERNEL_WENDLAND;
  e->bandwidth  = 1.5;
  e->reduction  = STGSSA_REDUCTION_AUTO;
  e->score_memory = 512;
  *ev           = e;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorSetEnsemble(StgssaEvaluator e, StgssaEnsemble ens, StgssaModel model)
{
  PetscFunctionBegin;
  e->ens   = ens;
  e->model = model;
  e->setup = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorSetFit(StgssaEvaluator e, PetscInt P, const char *const names[])
{
  PetscFunctionBegin;
  PetscCall(StgssaStringListSet(P, names, &e->P, &e->fit_names));
  e->setup = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorSetGradientType(StgssaEvaluator e, StgssaGradientType type)
{
  PetscFunctionBegin;
  PetscCheck(type >= STGSSA_GRADIENT_STGS && type <= STGSSA_GRADIENT_ODE, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "Unknown gradient type %d", (int)type);
  e->type  = type;
  e->req   = type;
  e->setup = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorSetNoFSPReason(StgssaEvaluator e, const char reason[])
{
  PetscFunctionBegin;
  PetscCall(PetscStrncpy(e->nofsp, reason ? reason : "", sizeof(e->nofsp)));
  e->setup = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetGradientChoice(StgssaEvaluator e, StgssaGradientType *type, PetscBool *automatic, const char **reason)
{
  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorSetUp(e));
  if (type) *type = e->type;
  if (automatic) *automatic = (PetscBool)(e->req == STGSSA_GRADIENT_AUTO);
  if (reason) *reason = e->choice;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorSetTemperature(StgssaEvaluator e, PetscReal lambda)
{
  PetscFunctionBegin;
  PetscCheck(lambda > 0 && PetscIsNormalReal(lambda), e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_temperature must be positive, got %g", (double)lambda);
  e->lambda = lambda;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorSetHistogram(StgssaEvaluator e, PetscInt B, StgssaKernel kernel, PetscReal bandwidth)
{
  PetscFunctionBegin;
  PetscCheck(B >= 0, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "Number of histogram bins must be nonnegative");
  PetscCheck(bandwidth > 0 && PetscIsNormalReal(bandwidth), e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_bandwidth must be positive, got %g", (double)bandwidth);
  e->B         = B;
  e->kernel    = kernel;
  e->bandwidth = bandwidth;
  e->setup     = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetHistogram(StgssaEvaluator e, PetscInt *B, StgssaKernel *kernel, PetscReal *bandwidth)
{
  PetscFunctionBegin;
  if (B) *B = e->B;
  if (kernel) *kernel = e->kernel;
  if (bandwidth) *bandwidth = e->bandwidth;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetPathDuration(StgssaEvaluator e, PetscReal *T)
{
  PetscFunctionBegin;
  *T = e->smp.tfinal - e->count_from;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorSetEntropy(StgssaEvaluator e, PetscBool flg)
{
  PetscFunctionBegin;
  e->entropy = flg;
  e->setup   = PETSC_FALSE;
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaEvaluatorApplyFit_Private(StgssaEvaluator e, PetscInt nfit, const char *const *names)
{
  PetscFunctionBegin;
  PetscCheck(nfit > 0, e->comm, PETSC_ERR_ARG_WRONG, "-stgssa_fit: expected a comma-separated list of parameter names");
  PetscCall(StgssaEvaluatorSetFit(e, nfit, names));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorSetFromOptions(StgssaEvaluator e)
{
  char     **names;
  PetscInt   nfit = STGSSA_FIT_NAMES_MAX, type = (PetscInt)e->req, kernel = (PetscInt)e->kernel, nwin = 2, red = (PetscInt)e->reduction;
  PetscReal  win[2] = {0, 0};
  PetscBool  set_fit = PETSC_FALSE, set_win = PETSC_FALSE;
  PetscErrorCode ierr, ierr_opt = 0;

  PetscFunctionBegin;
  PetscCall(StgssaOptionsCheckEList(e->comm, "-stgssa_gradient", StgssaGradientTypes, 6));
  PetscCall(StgssaOptionsCheckEList(e->comm, "-stgssa_kernel", StgssaKernelNames, 3));
  PetscCall(StgssaOptionsCheckEList(e->comm, "-stgssa_reduction", StgssaReductionTypes, 3));
  PetscCall(PetscCalloc1(nfit, &names));
  PetscOptionsBegin(e->comm, NULL, "Derivative evaluation options", "StgssaEvaluator");
  STGSSA_OPT_CALL(PetscOptionsStringArray("-stgssa_fit", "Parameters to differentiate / fit, e.g. k_on,k_off (default: all)", "StgssaEvaluatorSetFit", names, &nfit, &set_fit));
  STGSSA_OPT_CALL(PetscOptionsEList("-stgssa_gradient", "Derivative estimator: auto (fsp when the reachable projection fits in -stgssa_fsp_max_states and the loss needs state observables only, else score), stgs, score, fd, fsp (exact), ode (mean-field ODE: means only, for fits of means)", "StgssaEvaluatorSetGradientType", StgssaGradientTypes, 6, StgssaGradientTypes[type], &type, NULL));
  STGSSA_OPT_CALL(PetscOptionsReal("-stgssa_temperature", "ST-GS softmax temperature lambda", "StgssaEvaluator", e->lambda, &e->lambda, NULL));
  STGSSA_OPT_CALL(PetscOptionsReal("-stgssa_fd_h", "Step in log-rate of central finite differences", "StgssaEvaluator", e->fd_h, &e->fd_h, NULL));
  STGSSA_OPT_CALL(PetscOptionsInt("-stgssa_ntraj_grad", "Trajectories that carry derivatives (-1: all of -stgssa_ntraj)", "StgssaEvaluator", e->ntraj_grad, &e->ntraj_grad, NULL));
  STGSSA_OPT_CALL(PetscOptionsBoundedInt("-stgssa_batches", "Batches of trajectories for standard errors", "StgssaEvaluator", e->nbatch, &e->nbatch, NULL, 2));
  STGSSA_OPT_CALL(PetscOptionsRealArray("-stgssa_window", "Time-average window t0,t1 (default: none)", "StgssaEvaluator", win, &nwin, &set_win));
  STGSSA_OPT_CALL(PetscOptionsEList("-stgssa_kernel", "Soft-histogram kernel", "StgssaEvaluatorSetHistogram", StgssaKernelNames, 3, StgssaKernelNames[kernel], &kernel, NULL));
  STGSSA_OPT_CALL(PetscOptionsReal("-stgssa_bandwidth", "Soft-histogram bandwidth h (counts)", "StgssaEvaluatorSetHistogram", e->bandwidth, &e->bandwidth, NULL));
  STGSSA_OPT_CALL(PetscOptionsBool("-stgssa_entropy", "Record stochastic entropy production (every reaction needs a reverse)", "StgssaEvaluatorSetEntropy", e->entropy, &e->entropy, NULL));
  STGSSA_OPT_CALL(PetscOptionsReal("-stgssa_count_from", "Burn-in: currents, activity, entropy production and reaction counts take only the jumps after this time", "StgssaEvaluator", e->count_from, &e->count_from, NULL));
  STGSSA_OPT_CALL(PetscOptionsEList("-stgssa_reduction", "Reduction of a loss's score evaluation: auto (two_pass when the single one would carry more than 8 MiB of exact sums or P > 64), single (means and the M x P derivatives in one reduction), two_pass (means and scores, then the loss gradient's P numbers per batch)", "StgssaEvaluatorSetReduction", StgssaReductionTypes, 3, StgssaReductionTypes[red], &red, NULL));
  STGSSA_OPT_CALL(PetscOptionsReal("-stgssa_score_memory", "MB per rank that the two-pass reduction may use to keep each trajectory's observables and scores; beyond it the second pass replays the trajectories (exact: counter-based random numbers)", "StgssaEvaluator", e->score_memory, &e->score_memory, NULL));
  PetscOptionsEnd();
  ierr = ierr_opt ? ierr_opt : (set_fit && nfit < STGSSA_FIT_NAMES_MAX ? StgssaEvaluatorApplyFit_Private(e, nfit, (const char *const *)names) : 0);
  for (PetscInt i = 0; i < STGSSA_FIT_NAMES_MAX; i++) PetscCall(PetscFree(names[i])); /* freed whether the names are good or not */
  PetscCall(PetscFree(names));
  PetscCall(ierr_opt);
  PetscCheck(e->score_memory >= 0 && PetscIsNormalReal(e->score_memory + 1), e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_score_memory must be a nonnegative number of MB, got %g", (double)e->score_memory);
  e->reduction = (StgssaReductionType)red;
  e->type   = (StgssaGradientType)type;
  e->req    = (StgssaGradientType)type;
  e->kernel = (StgssaKernel)kernel;
  PetscCheck(!set_fit || nfit < STGSSA_FIT_NAMES_MAX, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_fit: at most %d names (the option's buffer); leave -stgssa_fit out to fit every parameter", STGSSA_FIT_NAMES_MAX - 1);
  PetscCall(ierr);
  if (set_win) {
    PetscCheck(nwin == 2, e->comm, PETSC_ERR_ARG_WRONG, "-stgssa_window: expected two times t0,t1");
    PetscCheck(win[0] >= 0 && win[1] > win[0], e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_window: expected 0 <= t0 < t1, got %g,%g", (double)win[0], (double)win[1]);
    e->window = PETSC_TRUE;
    e->w0     = win[0];
    e->w1     = win[1];
  }
  PetscCheck(e->lambda > 0 && PetscIsNormalReal(e->lambda), e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_temperature must be positive, got %g", (double)e->lambda);
  PetscCheck(e->fd_h > 0 && PetscIsNormalReal(e->fd_h), e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_fd_h must be positive, got %g", (double)e->fd_h);
  PetscCheck(e->bandwidth > 0 && PetscIsNormalReal(e->bandwidth), e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_bandwidth must be positive, got %g", (double)e->bandwidth);
  e->setup = PETSC_FALSE;
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaEvaluatorFreeTwoPass(StgssaEvaluator e)
{
  PetscFunctionBegin;
  PetscCall(PetscFree2(e->tp_o, e->tp_s));
  PetscCall(PetscFree2(e->tp_obar, e->tp_sbar));
  PetscCall(PetscFree(e->grad_batch));
  e->tp_cap   = 0;
  e->two_pass = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* Expression observables (assignment rules f(x, k), issue 16): moments only, so no soft
   histograms (the score estimator's term E[df/dtheta]: StgssaEvaluatorObservables; not for window
   averages, so no score with -stgssa_window). */
static PetscErrorCode StgssaEvaluatorCheckRules(StgssaEvaluator e)
{
  const StgssaModelDef *d;

  PetscFunctionBegin;
  PetscCall(StgssaModelGetDef(e->model, &d));
  for (PetscInt o = 0; o < e->smp.nobs; o++) {
    const PetscInt r = e->smp.obs_rule[o];
    if (r < 0) continue;
    PetscCheck(!e->B, e->comm, PETSC_ERR_ARG_INCOMP, "%s is an expression observable: moments only; a histogram needs an integer count (the loss asks for histograms of the observables)", e->smp.obs_names[o]);
    PetscCheck(!(e->window && e->type == STGSSA_GRADIENT_SCORE), e->comm, PETSC_ERR_SUP, "-stgssa_window with the score estimator: the time average of the expression observable %s is not differentiated by the score (its explicit parameter term); use -stgssa_gradient fd or stgs, or observe species", e->smp.obs_names[o]);
  }
  PetscCall(PetscFree(e->obs_scratch));
  PetscCall(PetscMalloc1(StgssaRuleScratchSize(e->net0), &e->obs_scratch));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaEvaluatorFreeSetUp(StgssaEvaluator e)
{
  PetscFunctionBegin;
  PetscCall(PetscFree2(e->fit_param, e->theta));
  PetscCall(PetscFree2(e->net.k, e->net.pv));
  PetscCall(PetscFree3(e->rxn_param, e->rev, e->pairs));
  for (PetscInt i = 0; i < e->nfd; i++) PetscCall(PetscFree2(e->net_fd[i].k, e->net_fd[i].pv));
  PetscCall(PetscFree(e->net_fd));
  e->nfd = 0;
  PetscCall(PetscFree(e->mu));
  PetscCall(PetscFree2(e->dmu, e->dmu_batch));
  PetscCall(PetscFree(e->mu_batch));
  PetscCall(StgssaEvaluatorFreeTwoPass(e));
  PetscCall(StgssaFSPDestroy(&e->fsp));
  PetscCall(StgssaODEDestroy(&e->ode));
  PetscCall(PetscFree(e->obs_scratch));
  e->setup = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* Rates of network n at log-rates theta (+ shift on parameter q, if q >= 0): the mass-action
   constants k_j and the parameter values pv read by rate laws. */
static void StgssaEvaluatorRates(StgssaEvaluator e, const PetscReal *theta, PetscInt q, PetscReal shift, StgssaNetwork *n)
{
  const StgssaModelDef *d = NULL;
  (void)StgssaModelGetDef(e->model, &d);
  for (PetscInt m = 0; m < e->net0->nparams; m++) n->pv[m] = e->net0->pv[m];
  for (PetscInt p = 0; p < e->P; p++) n->pv[e->fit_param[p]] = PetscExpReal(theta[p] + (p == q ? shift : 0.0));
  /* derived parameters follow the fitted ones (a value that becomes invalid is caught by the engine's propensity checks) */
  if (StgssaModelDefHasDerived(d)) (void)StgssaModelDefEvalDerived(d, NULL, n->pv, NULL, NULL, 0);
  for (PetscInt j = 0; j < e->net0->R; j++) { /* mass action: k_j = factor * k_param (the same numbers as exp(theta) for a fitted one) */
    const StgssaReactionDef *r = &d->reactions[j];
    n->k[j]                    = (r->law || r->param < 0) ? e->net0->k[j] : r->factor * n->pv[r->param];
  }
}

/* A shallow copy of the model's network with its own rates and parameter values. */
static PetscErrorCode StgssaEvaluatorNetworkCopy(StgssaEvaluator e, StgssaNetwork *n)
{
  PetscFunctionBegin;
  *n = *e->net0;
  PetscCall(PetscMalloc2(e->net0->R, &n->k, e->net0->nparams + 1, &n->pv));
  PetscFunctionReturn(0);
}

/* The exact evaluator's FSP object for the current fit and sample times (not yet set up). */
static PetscErrorCode StgssaEvaluatorCreateFSP(StgssaEvaluator e, StgssaFSP *fsp)
{
  PetscFunctionBegin;
  PetscCall(StgssaFSPCreate(e->comm, fsp));
  PetscCall(StgssaFSPSetModel(*fsp, e->model));
  PetscCall(StgssaFSPSetFit(*fsp, e->P, (const char *const *)e->fit_names));
  PetscCall(StgssaFSPSetTimes(*fsp, e->smp.nsample, e->smp.sample_times));
  PetscCall(StgssaFSPSetFromOptions(*fsp));
  PetscCall(StgssaFSPSetGrowthLimit(*fsp, 4.0)); /* a fit's far-out trial point is rejected, not solved on a huge projection */
  PetscCall(StgssaEnsembleSetFSPTimes(e->ens, *fsp)); /* data times win over the FSP's own reading of the times */
  PetscFunctionReturn(0);
}

/* -stgssa_gradient ode: the mean-field ODE at the fitted rates (state means only: no time
   averages, entropy production, histograms or expression observables; starts from x0). */
static PetscErrorCode StgssaEvaluatorCreateODE(StgssaEvaluator e)
{
  PetscBool steady;
  PetscReal T, rate;

  PetscFunctionBegin;
  PetscCheck(!e->window && !e->entropy, e->comm, PETSC_ERR_SUP, "-stgssa_gradient ode gives the means of species and groups at the sample times only: drop -stgssa_window and -stgssa_entropy");
  PetscCheck(!e->B, e->comm, PETSC_ERR_SUP, "-stgssa_gradient ode gives means only, no distributions: use -stgssa_loss moments -stgssa_moment_orders 1");
  if (e->smp.obs_rule)
    for (PetscInt o = 0; o < e->smp.nobs; o++) PetscCheck(e->smp.obs_rule[o] < 0, e->comm, PETSC_ERR_SUP, "-stgssa_gradient ode: %s is an expression observable, whose mean is not a function of the means; observe species or groups", e->smp.obs_names[o]);
  PetscCall(StgssaEnsembleGetBurnin(e->ens, &steady, &T, &rate));
  PetscCheck(!steady, e->comm, PETSC_ERR_SUP, "-stgssa_gradient ode starts from the model's initial counts: drop -stgssa_initial steady");
  PetscCall(StgssaODECreate(e->comm, &e->ode));
  PetscCall(StgssaODESetModel(e->ode, e->model));
  PetscCall(StgssaODESetFit(e->ode, e->P, e->fit_param));
  PetscCall(StgssaODESetTimes(e->ode, e->smp.nsample, e->smp.sample_times));
  PetscCall(StgssaODESetFromOptions(e->ode));
  PetscCall(StgssaODESetUp(e->ode));
  PetscCall(PetscStrncpy(e->choice, "ode (mean-field ODE: means only)", sizeof(e->choice)));
  PetscFunctionReturn(0);
}

/* -stgssa_gradient auto: the exact route (fsp) when the run needs state observables only and
   the projection that holds the probability mass at the start values (automatic bounds, grown
   by one solve: StgssaFSPEstimateSize) stays within -stgssa_fsp_max_states, else score. The projection is tried with errors returned, not raised: its failure (no bound for a
   species that can grow, too many states, a model the FSP does not handle) is the reason for
   score. Every rank reaches the same verdict (the enumeration is deterministic); the verdicts
   are combined anyway so that all ranks take the same route. */
/* Set to PETSC_TRUE when the FSP route fills the correlation products (off_corr) in StgssaEvaluatorEvaluate_FSP. */
static const PetscBool StgssaEvaluatorFSPCorrelates = PETSC_FALSE;

static PetscErrorCode StgssaEvaluatorChooseGradient(StgssaEvaluator e)
{
  const char    *why = NULL;
  PetscErrorCode ierr;
  PetscMPIInt    bad;
  StgssaFSP      fsp = NULL;

  PetscFunctionBegin;
  if (e->P > 64) { /* the score's cost per event does not grow with P (issue 17) */
    e->type = STGSSA_GRADIENT_SCORE;
    PetscCall(PetscSNPrintf(e->choice, sizeof(e->choice), "score: %" PetscInt_FMT " fitted rates (> 64: the score function's cost per event does not grow with their number)", e->P));
    PetscFunctionReturn(0);
  }
  if (e->window) why = "-stgssa_window (time averages) needs trajectories";
  else if (e->entropy) why = "entropy production (-stgssa_entropy) needs trajectories";
  else if (e->smp.corr && !StgssaEvaluatorFSPCorrelates) why = "-stgssa_correlate: fits take two-time products from the SSA (the FSP computes exact correlations in -stgssa_mode fsp only)";
  else if (e->nofsp[0]) why = e->nofsp;
  if (why) {
    e->type = STGSSA_GRADIENT_SCORE;
    PetscCall(PetscSNPrintf(e->choice, sizeof(e->choice), "score: %s (the exact FSP route gives state observables only)", why));
    PetscFunctionReturn(0);
  }
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = StgssaEvaluatorCreateFSP(e, &fsp);
  if (!ierr) ierr = StgssaFSPSetUp(fsp);
  PetscCall(PetscPopErrorHandler());
  bad = ierr ? 1 : 0;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, e->comm));
  if (!bad) { /* one solve at the start values: the automatic bounds grow until they hold the mass */
    PetscInt  n, nmax;
    PetscBool fits;
    StgssaFSPFailure kind;
    const char      *fmsg;
    PetscCall(StgssaFSPEstimateSize(fsp, &n, &fits));
    PetscCall(StgssaFSPGetMaxStates(fsp, &nmax));
    PetscCall(StgssaFSPGetFailed(fsp, &kind, &fmsg));
    if (fits && kind != STGSSA_FSP_OK) { /* e.g. mass leaking through a bound that cannot grow */
      e->type = STGSSA_GRADIENT_SCORE;
      PetscCall(PetscSNPrintf(e->choice, sizeof(e->choice), "score: the exact FSP route fails at the start values: %s", fmsg));
      PetscCall(StgssaFSPDestroy(&fsp));
      PetscFunctionReturn(0);
    }
    if (fits) {
      e->type = STGSSA_GRADIENT_FSP;
      e->fsp  = fsp;
      PetscCall(PetscSNPrintf(e->choice, sizeof(e->choice), "fsp (exact): the projection holding the probability mass at the start values has %" PetscInt_FMT " states <= -stgssa_fsp_max_states %" PetscInt_FMT, n, nmax));
      PetscFunctionReturn(0);
    }
    PetscCall(StgssaFSPDestroy(&fsp));
    e->type = STGSSA_GRADIENT_SCORE;
    PetscCall(PetscSNPrintf(e->choice, sizeof(e->choice), "score: the projection that holds the probability mass needs more than -stgssa_fsp_max_states %" PetscInt_FMT " states", nmax));
  } else {
    char msg[1536] = "on another rank";
    if (ierr) PetscCall(StgssaErrorText(ierr, msg, sizeof(msg)));
    PetscCall(StgssaFSPDestroy(&fsp));
    e->type = STGSSA_GRADIENT_SCORE;
    PetscCall(PetscSNPrintf(e->choice, sizeof(e->choice), "score: the exact FSP route failed to set up: %s", msg));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorSetUp(StgssaEvaluator e)
{
  const StgssaModelDef *d;
  PetscInt              R, no, ns, npairs = 0;

  PetscFunctionBegin;
  if (e->setup) PetscFunctionReturn(0);
  PetscCheck(e->ens && e->model, e->comm, PETSC_ERR_ORDER, "Call StgssaEvaluatorSetEnsemble() first");
  PetscCall(StgssaEvaluatorFreeSetUp(e));
  PetscCall(StgssaEnsembleGetSampling(e->ens, &e->smp));
  {
    StgssaSSAMethod method;
    PetscCall(StgssaEnsembleGetSSAMethod(e->ens, &method));
    PetscCheck(method == STGSSA_SSA_DIRECT || method == STGSSA_SSA_AUTO, e->comm, PETSC_ERR_ARG_INCOMP, "-stgssa_ssa_method %s applies to simulate mode only; derivative estimators (gradient, optimize) use the direct method: drop the option", StgssaSSAMethods[method]);
  }
  PetscCall(StgssaModelGetDef(e->model, &d));
  PetscCall(StgssaModelGetNetwork(e->model, &e->net0));
  R  = e->net0->R;
  no = e->smp.nobs;
  ns = e->smp.nsample;
  if (!e->fit_names) { /* default: every parameter (but derived ones and those that set initial counts) */
    const char **all;
    int         *idx, n = 0;
    PetscCall(PetscMalloc2(d->nparams + 1, &all, d->nparams + 1, &idx));
    PetscCheck(StgssaModelDefDefaultFit(d, idx, &n) == 0, e->comm, PETSC_ERR_MEM, "Out of memory");
    for (int p = 0; p < n; p++) all[p] = d->params[idx[p]].name;
    PetscCall(StgssaEvaluatorSetFit(e, n, all));
    PetscCall(PetscFree2(all, idx));
  }
  PetscCheck(e->P > 0, e->comm, PETSC_ERR_ARG_WRONG, "Nothing to differentiate: the model %s has no parameters (rates given as numbers); name some in the parameters section", d->filename);
  PetscCall(PetscMalloc2(e->P, &e->fit_param, e->P, &e->theta));
  PetscCall(PetscMalloc3(R, &e->rxn_param, R, &e->rev, 2 * R, &e->pairs));
  PetscCall(StgssaModelResolveFit(e->model, e->P, (const char *const *)e->fit_names, e->fit_param, e->rxn_param));
  for (PetscInt p = 0; p < e->P; p++) e->theta[p] = PetscLogReal(d->params[e->fit_param[p]].value);
  {
    const StgssaNetwork *net;
    PetscCall(StgssaModelGetNetwork(e->model, &net));
    PetscCheck(e->type != STGSSA_GRADIENT_SCORE || !StgssaEventsReadFit(net, e->P, e->fit_param), e->comm, PETSC_ERR_SUP, "%s: an event's value reads a fitted parameter; the score estimator cannot differentiate a deterministic jump of the state (its path law has no density in theta): use -stgssa_gradient stgs or fd, or do not fit that parameter", d->filename);
  }
  for (PetscInt j = 0; j < R; j++) {
    e->rev[j] = d->reactions[j].reverse;
    if (d->reactions[j].reverse > j && d->reactions[j].label) { /* a labelled <-> pair: its net current */
      e->pairs[2 * npairs]     = j;
      e->pairs[2 * npairs + 1] = d->reactions[j].reverse;
      npairs++;
    }
  }
  if (e->entropy)
    for (PetscInt j = 0; j < R; j++)
      PetscCheck(e->rev[j] >= 0, e->comm, PETSC_ERR_ARG_WRONG, "Entropy production needs every reaction reversible; reaction at %s:%d has no reverse (write it with <->)", d->filename, d->reactions[j].line);
  e->ntraj_grad_opt = e->ntraj_grad;
  e->ntraj0         = e->smp.ntraj;
  if (e->ntraj_grad < 0 || e->ntraj_grad > e->smp.ntraj) e->ntraj_grad = e->smp.ntraj;
  PetscCheck(e->ntraj_grad >= 2, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_ntraj_grad must be at least 2 (or -1 for all)");
  if (e->nbatch > e->ntraj_grad) e->nbatch = e->ntraj_grad;
  e->type      = e->req;
  e->choice[0] = 0;
  PetscCheck(e->type != STGSSA_GRADIENT_STGS || e->P <= 64, e->comm, PETSC_ERR_SUP, "-stgssa_gradient stgs: ST-GS uses forward-mode tangents, O(R*P) work per event, and supports at most 64 fitted rates; with %" PetscInt_FMT " fitted rates use -stgssa_gradient score", e->P);
  if (e->req == STGSSA_GRADIENT_AUTO) PetscCall(StgssaEvaluatorChooseGradient(e));
  else if (e->type == STGSSA_GRADIENT_FSP) {
    PetscCheck(!e->window && !e->entropy, e->comm, PETSC_ERR_SUP, "-stgssa_gradient fsp gives state observables only (counts, moments, distributions): drop -stgssa_window and -stgssa_entropy");
    PetscCheck(!e->smp.corr || StgssaEvaluatorFSPCorrelates, e->comm, PETSC_ERR_SUP, "-stgssa_gradient fsp with -stgssa_correlate: two-time products are not on the FSP route of this build; use -stgssa_gradient score, stgs or fd");
    PetscCall(StgssaEvaluatorCreateFSP(e, &e->fsp));
  } else if (e->type == STGSSA_GRADIENT_ODE) PetscCall(StgssaEvaluatorCreateODE(e));
  if (e->type != STGSSA_GRADIENT_FSP && e->type != STGSSA_GRADIENT_ODE) { /* the SSA's steady start is a burn-in; the FSP's is exact */
    PetscErrorCode ierr;
    char           msg[1024];
    PetscBool      steady;
    PetscReal      T, rate;
    /* first-order networks get a default burn-in, 20 relaxation times at the rates of each
       evaluation (StgssaEvaluatorSetTheta): a fit moves the rates, and so the relaxation time */
    PetscCall(StgssaEnsembleSetDefaultBurnin(e->ens));
    PetscCall(StgssaEnsembleGetBurnin(e->ens, &steady, &T, &rate));
    e->auto_burnin = (PetscBool)(steady && rate > 0);
    if (steady) e->smp.t0 = -T;
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = StgssaEnsembleCheckBurnin(e->ens);
    PetscCall(PetscPopErrorHandler());
    if (ierr) {
      PetscCall(StgssaErrorText(ierr, msg, sizeof(msg)));
      SETERRQ(e->comm, ierr, "%s%s%s", msg, e->req == STGSSA_GRADIENT_AUTO ? ". -stgssa_gradient auto chose " : "", e->req == STGSSA_GRADIENT_AUTO ? e->choice : "");
    }
  }
  PetscCheck(e->count_from >= 0 && e->count_from < e->smp.tfinal, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_count_from %.6g: expected 0 <= t0 < -stgssa_tfinal %.6g", (double)e->count_from, (double)e->smp.tfinal);
  if (e->window) PetscCheck(e->w1 <= e->smp.tfinal, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_window end %g is beyond -stgssa_tfinal %g", (double)e->w1, (double)e->smp.tfinal);
  if (e->smp.obs_rule) PetscCall(StgssaEvaluatorCheckRules(e));
  /* layout of the observable vector */
  e->lay.off_pow  = 0;
  e->lay.B        = e->B;
  e->lay.off_hist = ns * no * 3;
  e->lay.nwin     = e->window ? 3 * no : 0;
  e->lay.off_win  = e->lay.off_hist + ns * no * e->B;
  e->lay.npairs   = npairs;
  e->lay.off_cur  = e->lay.off_win + e->lay.nwin;
  e->lay.off_act  = e->lay.off_cur + 2 * npairs;
  e->lay.nsig     = e->entropy ? 2 : 0;
  e->lay.off_sig  = e->lay.off_act + 2;
  /* reaction counts are not observables: no loss or output reads their means, and at large R they
     cost R (1 + P) exact sums per trajectory and batch (the currents read the pairs' counts) */
  e->lay.off_corr = e->lay.off_sig + e->lay.nsig;
  e->lay.ncorr    = e->smp.corr ? e->smp.corr->nprod : 0;
  e->lay.M        = e->lay.off_corr + e->lay.ncorr;
  /* networks */
  PetscCall(StgssaEvaluatorNetworkCopy(e, &e->net));
  PetscCall(PetscMalloc1(2 * e->P, &e->net_fd));
  e->nfd = 2 * e->P;
  for (PetscInt i = 0; i < 2 * e->P; i++) PetscCall(StgssaEvaluatorNetworkCopy(e, &e->net_fd[i]));
  if (e->lay.ncorr) PetscCall(PetscCalloc1((size_t)e->nbatch * e->lay.M, &e->mu_batch));
  PetscCall(PetscCalloc1(e->lay.M, &e->mu)); /* dmu and dmu_batch [M*P], [K*M*P]: at the first evaluation that forms them (not the two-pass one) */
  PetscCheck(e->reduction != STGSSA_REDUCTION_TWO_PASS || !e->smp.obs_rule || e->type != STGSSA_GRADIENT_SCORE, e->comm, PETSC_ERR_SUP, "-stgssa_reduction two_pass: expression observables (assignment rules) are reduced in one pass (their explicit parameter term); drop the option or observe species and groups");
  if (e->type != STGSSA_GRADIENT_SCORE) PetscCheck(e->reduction != STGSSA_REDUCTION_TWO_PASS || e->type == STGSSA_GRADIENT_FSP, e->comm, PETSC_ERR_ARG_INCOMP, "-stgssa_reduction two_pass applies to the score estimator (-stgssa_gradient score); the %s estimator reduces its derivatives in one pass: drop the option", StgssaGradientTypes[e->type]);
  e->setup = PETSC_TRUE;
  PetscCall(StgssaEvaluatorSetTheta(e, e->theta));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorSetTheta(StgssaEvaluator e, const PetscReal theta[])
{
  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorSetUp(e));
  for (PetscInt p = 0; p < e->P; p++) PetscCheck(PetscIsNormalReal(theta[p]) || theta[p] == 0, e->comm, PETSC_ERR_FP, "Log-rate of '%s' is not finite (%g)", e->fit_names[p], (double)theta[p]);
  if (theta != e->theta) PetscCall(PetscArraycpy(e->theta, theta, e->P));
  StgssaEvaluatorRates(e, e->theta, -1, 0.0, &e->net);
  for (PetscInt p = 0; p < e->P; p++) {
    StgssaEvaluatorRates(e, e->theta, p, +e->fd_h, &e->net_fd[2 * p]);
    StgssaEvaluatorRates(e, e->theta, p, -e->fd_h, &e->net_fd[2 * p + 1]);
  }
  if (e->auto_burnin) { /* 20 relaxation times at these rates (the fd networks share it: same random numbers, same start time) */
    PetscReal rate;
    PetscCall(StgssaNetworkRelaxationRate(&e->net, &rate));
    if (rate > 0) e->smp.t0 = -20.0 / rate;
  }
  e->done = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetTheta(StgssaEvaluator e, PetscReal theta[])
{
  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorSetUp(e));
  PetscCall(PetscArraycpy(theta, e->theta, e->P));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorSetIteration(StgssaEvaluator e, PetscInt it)
{
  PetscFunctionBegin;
  PetscCheck(it >= 0, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "Iteration must be nonnegative");
  e->iteration = it;
  PetscFunctionReturn(0);
}

/* Observable values o[M] of one trajectory record, and (if od) the pathwise derivatives od[M*P]
   from its tangents (STGS), or o_m S_p(t_m) and S_p(t_m) (SCORE, into od and sc). */
/* Sample index of observable m (the powers and histograms of sample i), ns for whole-path
   observables (window averages, currents, activity, entropy production, reaction counts): the
   index of the path score S(t_i) its score-function derivative uses. */
static inline PetscInt StgssaObsSample(const StgssaObsLayout *L, PetscInt no, PetscInt ns, PetscInt m)
{
  if (m < L->off_hist) return (m - L->off_pow) / (3 * no);
  if (m < L->off_win) return (m - L->off_hist) / (L->B * no);
  if (L->ncorr && m >= L->off_corr) return -1; /* a correlation product: the caller reads corr->prod_j */
  return ns;
}

/* Sample index of the score S(t) the score-function derivative of observable m uses. */
static inline PetscInt StgssaEvaluatorScoreSample(StgssaEvaluator e, PetscInt m)
{
  const PetscInt i = StgssaObsSample(&e->lay, e->smp.nobs, e->smp.nsample, m);
  return i >= 0 ? i : e->smp.corr->prod_j[m - e->lay.off_corr];
}

static void StgssaEvaluatorObservables(StgssaEvaluator e, const StgssaTangentRecord *rec, double *o, double *od, double *sc, double *hp, double *hdp)
{
  const StgssaObsLayout *L  = &e->lay;
  const PetscInt         P  = od ? e->P : 0, no = e->smp.nobs, ns = e->smp.nsample;
  const PetscBool        tg = (PetscBool)(od && e->type == STGSSA_GRADIENT_STGS);
  const double           T  = e->smp.tfinal - e->count_from; /* duration of the path observables */

  /* powers x^k, tangent k x^(k-1) xdot */
  for (PetscInt i = 0; i < ns * no; i++) {
    const double x = rec->x[i];
    o[L->off_pow + 3 * i]     = x;
    o[L->off_pow + 3 * i + 1] = x * x;
    o[L->off_pow + 3 * i + 2] = x * x * x;
    if (tg)
      for (PetscInt p = 0; p < P; p++) {
        const double xd                          = rec->xdot[i * P + p];
        od[(L->off_pow + 3 * i) * P + p]     = xd;
        od[(L->off_pow + 3 * i + 1) * P + p] = 2 * x * xd;
        od[(L->off_pow + 3 * i + 2) * P + p] = 3 * x * x * xd;
      }
  }
  /* soft histograms p_b(x), tangent p_b'(x) xdot */
  if (L->B)
    for (PetscInt i = 0; i < ns * no; i++) {
      StgssaSoftHistogram(e->kernel, e->bandwidth, rec->x[i], (int)L->B, hp, hdp);
      for (PetscInt b = 0; b < L->B; b++) {
        o[L->off_hist + i * L->B + b] = hp[b];
        if (tg)
          for (PetscInt p = 0; p < P; p++) od[(L->off_hist + i * L->B + b) * P + p] = hdp[b] * rec->xdot[i * P + p];
      }
    }
  /* window averages A^k */
  if (L->nwin)
    for (PetscInt s = 0; s < no; s++) {
      const double A = rec->wavg[s];
      for (PetscInt k = 0; k < 3; k++) o[L->off_win + 3 * s + k] = k == 0 ? A : (k == 1 ? A * A : A * A * A);
      if (tg)
        for (PetscInt p = 0; p < P; p++) {
          const double Ad                         = rec->wavgdot[s * P + p];
          od[(L->off_win + 3 * s) * P + p]     = Ad;
          od[(L->off_win + 3 * s + 1) * P + p] = 2 * A * Ad;
          od[(L->off_win + 3 * s + 2) * P + p] = 3 * A * A * Ad;
        }
    }
  /* currents J = (#f - #b)/T and J^2 */
  for (PetscInt c = 0; c < L->npairs; c++) {
    const PetscInt f = e->pairs[2 * c], b = e->pairs[2 * c + 1];
    const double   J = (rec->nrx[f] - rec->nrx[b]) / T;
    o[L->off_cur + 2 * c]     = J;
    o[L->off_cur + 2 * c + 1] = J * J;
    if (tg)
      for (PetscInt p = 0; p < P; p++) {
        const double Jd                      = (rec->nrxdot[f * P + p] - rec->nrxdot[b * P + p]) / T;
        od[(L->off_cur + 2 * c) * P + p]     = Jd;
        od[(L->off_cur + 2 * c + 1) * P + p] = 2 * J * Jd;
      }
  }
  /* activity: straight-through relaxes which reaction fires, not how many fire: tangent 0 */
  {
    const double A = (double)rec->events_counted / T;
    o[L->off_act]     = A;
    o[L->off_act + 1] = A * A;
    if (tg)
      for (PetscInt p = 0; p < P; p++) od[L->off_act * P + p] = od[(L->off_act + 1) * P + p] = 0.0;
  }
  if (L->nsig) {
    o[L->off_sig]     = rec->sigma;
    o[L->off_sig + 1] = rec->sigma * rec->sigma;
    if (tg)
      for (PetscInt p = 0; p < P; p++) {
        od[L->off_sig * P + p]       = rec->sigmadot[p];
        od[(L->off_sig + 1) * P + p] = 2 * rec->sigma * rec->sigmadot[p];
      }
  }
  /* correlation products A(t_i) B(t_j), tangent (product rule) Adot B + A Bdot */
  for (PetscInt k = 0; k < L->ncorr; k++) {
    const StgssaCorrelation *c  = e->smp.corr;
    const PetscInt           ia = c->prod_i[k] * no + c->prod_a[k], jb = c->prod_j[k] * no + c->prod_b[k];
    const double             a = rec->x[ia], b = rec->x[jb];
    o[L->off_corr + k] = a * b;
    if (tg)
      for (PetscInt p = 0; p < P; p++) od[(L->off_corr + k) * P + p] = rec->xdot[ia * P + p] * b + a * rec->xdot[jb * P + p];
  }
  if (od && e->type == STGSSA_GRADIENT_SCORE) { /* score of the path up to the observable's time */
    for (PetscInt m = 0; m < L->M; m++) {
      const PetscInt i = StgssaEvaluatorScoreSample(e, m);
      const double  *S = i < ns ? &rec->score_sample[i * P] : rec->score_end;
      for (PetscInt p = 0; p < P; p++) od[m * P + p] = o[m] * S[p];
    }
    /* expression observables f(x, theta) read by the fit: d E f^k = Cov(f^k, S) + E[k f^(k-1) df/dtheta]
       (rec->xdot holds df/dtheta). The estimate is Ng/(Ng-1) [mean(od) - mean(o) mean(S)], so the
       explicit term enters od scaled by (Ng-1)/Ng: the estimate over all Ng gradient paths gets
       exactly mean(k f^(k-1) df/dtheta); a batch of n paths gets it times (Ng-1) n/(Ng (n-1)),
       1 + O(1/n), in its standard error only. */
    if (e->smp.obs_rule) {
      const double c = (double)(e->ntraj_grad - 1) / (double)e->ntraj_grad;
      for (PetscInt i = 0; i < ns * no; i++) {
        const double x = rec->x[i];
        if (e->smp.obs_rule[i % no] < 0) continue;
        for (PetscInt p = 0; p < P; p++) {
          const double g = c * rec->xdot[i * P + p];
          od[(L->off_pow + 3 * i) * P + p] += g;
          od[(L->off_pow + 3 * i + 1) * P + p] += 2 * x * g;
          od[(L->off_pow + 3 * i + 2) * P + p] += 3 * x * x * g;
        }
      }
    }
  }
  if (sc && e->type == STGSSA_GRADIENT_SCORE) { /* a gradient trajectory (od NULL: the two-pass reduction's first pass) */
    const PetscInt Ps = e->P;
    /* the scores themselves once per sample time (and the whole path), not once per observable:
       every observable of sample i shares S(t_i), and so do their sums */
    for (PetscInt i = 0; i < ns; i++)
      for (PetscInt p = 0; p < Ps; p++) sc[i * Ps + p] = rec->score_sample[i * Ps + p];
    for (PetscInt p = 0; p < Ps; p++) sc[ns * Ps + p] = rec->score_end[p];
  }
}

/* Add a vector into exact accumulators, skipping exact zeros (most soft-histogram bins). */
static inline void StgssaAccumulate(StgssaExactSum *acc, const double *v, PetscInt n)
{
  for (PetscInt i = 0; i < n; i++)
    if (v[i] != 0.0) StgssaExactSumAdd(&acc[i], v[i]);
}

/* Batch of global trajectory index i among n (ranges of indices, independent of the rank count). */
static inline PetscInt StgssaBatchOf(PetscInt64 i, PetscInt64 n, PetscInt nbatch)
{
  return (PetscInt)((i * nbatch) / n);
}

/* Derivative estimates d[M*P] from the sums v = [values (all) | values (grad) | derivatives | scores
   per sample time and of the whole path, (nsample+1)*P]
   over n gradient trajectories. Score: unbiased sample covariance of o_m and S_p(t_m). */
static void StgssaEvaluatorDerivatives(StgssaEvaluator e, const double *v, PetscInt64 n, double *d)
{
  const PetscInt M = e->lay.M, P = e->P;
  const double   dn = (double)n;
  for (PetscInt m = 0; m < M; m++)
    for (PetscInt p = 0; p < P; p++) {
      const double md = v[2 * M + m * P + p] / dn;
      if (e->type == STGSSA_GRADIENT_SCORE) {
        const double mo = v[M + m] / dn, ms = v[2 * M + M * P + StgssaEvaluatorScoreSample(e, m) * P + p] / dn;
        d[m * P + p]    = n > 1 ? (md - mo * ms) * dn / (dn - 1) : 0.0;
      } else d[m * P + p] = md;
    }
}

/* Simulate this rank's trajectories and reduce: see the file comment. */
static PetscErrorCode StgssaEvaluatorEvaluate_Private(StgssaEvaluator e);
static PetscErrorCode StgssaEvaluatorApplyAdjoint_TwoPass(StgssaEvaluator e, const PetscReal g[], PetscReal grad[]);
static PetscErrorCode StgssaEvaluatorAllocDerivatives(StgssaEvaluator e);

/* The NaN/Inf guard: one pass over what a trajectory adds to the sums (isfinite on the record's
   observables); the culprit is located only when it fails (StgssaEvaluatorLocate). */
static inline PetscBool StgssaAllFinite(const double *v, PetscInt n)
{
  int ok = 1;
  for (PetscInt i = 0; i < n; i++) ok &= isfinite(v[i]) != 0;
  return (PetscBool)ok;
}

/* Name of observable m (what it measures) for messages. */
static PetscErrorCode StgssaEvaluatorObservableName(StgssaEvaluator e, PetscInt m, char buf[], size_t len)
{
  const StgssaObsLayout *L  = &e->lay;
  const PetscInt         no = e->smp.nobs;

  PetscFunctionBegin;
  if (m < L->off_hist) {
    const PetscInt q = (m - L->off_pow) / 3, k = (m - L->off_pow) % 3 + 1;
    PetscCall(PetscSNPrintf(buf, len, "%s^%" PetscInt_FMT " at t = %g", e->smp.obs_names[q % no], k, (double)e->smp.sample_times[q / no]));
  } else if (m < L->off_win) {
    const PetscInt q = (m - L->off_hist) / L->B, b = (m - L->off_hist) % L->B;
    PetscCall(PetscSNPrintf(buf, len, "soft-histogram bin %" PetscInt_FMT " of %s at t = %g", b, e->smp.obs_names[q % no], (double)e->smp.sample_times[q / no]));
  } else if (m < L->off_cur) PetscCall(PetscSNPrintf(buf, len, "window average of %s", e->smp.obs_names[(m - L->off_win) / 3]));
  else if (m < L->off_act) PetscCall(PetscSNPrintf(buf, len, "current of labelled pair %" PetscInt_FMT, (m - L->off_cur) / 2 + 1));
  else if (L->ncorr && m >= L->off_corr) {
    const StgssaCorrelation *c = e->smp.corr;
    const PetscInt           k = m - L->off_corr;
    PetscCall(PetscSNPrintf(buf, len, "correlation product %s(t = %g) %s(t = %g)", e->smp.obs_names[c->prod_a[k]], (double)e->smp.sample_times[c->prod_i[k]], e->smp.obs_names[c->prod_b[k]], (double)e->smp.sample_times[c->prod_j[k]]));
  } else if (L->nsig && m >= L->off_sig && m < L->off_sig + 2) PetscCall(PetscSNPrintf(buf, len, "entropy production"));
  else PetscCall(PetscSNPrintf(buf, len, "activity"));
  PetscFunctionReturn(0);
}

/* Trajectory i gave a non-finite value v[k] (kind: "value", "derivative" or "score" of an
   observable): re-run it with per-event checks (tc->locate) on the networks it ran on, which stop
   at the first NaN/Inf naming the event, the reaction and the state; otherwise name the observable. */
static PetscErrorCode StgssaEvaluatorLocate(StgssaEvaluator e, StgssaSSAConfig *cfg, const StgssaTangentConfig *tcv, PetscInt64 i, StgssaTangentWork *work, StgssaTangentRecord *rec, const double *v, PetscInt n, PetscInt P, const char *kind)
{
  char                ctx[64], name[256];
  StgssaTangentConfig tl = *tcv;
  StgssaTrajInfo      info;
  PetscInt            k = 0;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(ctx, sizeof(ctx), "trajectory %" PetscInt64_FMT, i));
  tl.locate = ctx;
  cfg->net  = &e->net;
  PetscCall(StgssaSSARunTangent(cfg, &tl, (uint64_t)i, work, rec, &info));
  if (e->type == STGSSA_GRADIENT_FD && tcv->P == 0 && i < e->ntraj_grad)
    for (PetscInt q = 0; q < 2 * e->P; q++) {
      cfg->net = &e->net_fd[q];
      PetscCall(StgssaSSARunTangent(cfg, &tl, (uint64_t)i, work, rec, &info));
    }
  cfg->net = &e->net;
  while (k < n && isfinite(v[k])) k++;
  if (!strcmp(kind, "score")) { /* v holds the path scores S(t_i) per sample time, then of the whole path */
    const PetscInt is = k / P;
    if (is < e->smp.nsample) PetscCall(PetscSNPrintf(name, sizeof(name), "path up to t = %g", (double)e->smp.sample_times[is]));
    else PetscCall(PetscSNPrintf(name, sizeof(name), "whole path"));
  } else PetscCall(StgssaEvaluatorObservableName(e, P ? k / P : k, name, sizeof(name)));
  if (P) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FP, "%s: the %s estimate of the %s by log %s is %.6g (%s derivatives)", ctx, kind, name, e->fit_names[k % P], v[k], StgssaGradientTypes[e->type]);
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FP, "%s: the %s of the %s is %.6g", ctx, kind, name, v[k]);
}

/* Exact means from the finite state projection at the current theta: the model's fitted
   parameters are set to exp(theta) (round-trip exact), the projection is solved, and
     mu_m = sum_x P(x, t_m) o_m(x),   dmu_m/dtheta_p = sum_x dP(x, t_m)/dtheta_p o_m(x)
   for the powers and soft histograms of the observed quantities (species, or groups: the
   marginal of the weighted sum). Path observables (currents,
   activity, reaction counts) are NaN. Every batch holds the exact derivative (standard error 0). */
/* dmu [M*P] and dmu_batch [K*M*P], allocated by the first evaluation that forms them (a two-pass
   evaluation never does: at large P they are the memory the two passes avoid) */
static PetscErrorCode StgssaEvaluatorAllocDerivatives(StgssaEvaluator e)
{
  PetscFunctionBegin;
  if (!e->dmu) PetscCall(PetscCalloc2((size_t)e->lay.M * e->P, &e->dmu, (size_t)e->nbatch * e->lay.M * e->P, &e->dmu_batch));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaEvaluatorEvaluate_FSP(StgssaEvaluator e)
{
  const StgssaObsLayout *L = &e->lay;
  const PetscInt         P = e->P, no = e->smp.nobs;
  char                   assign[4096] = "";
  double                *hp = NULL, *hdp = NULL;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < P; p++) {
    char item[256];
    PetscCall(PetscSNPrintf(item, sizeof(item), "%s%s=%.17g", p ? "," : "", e->fit_names[p], (double)PetscExpReal(e->theta[p])));
    PetscCall(StgssaStrlcat(assign, item, sizeof(assign)));
  }
  PetscCall(StgssaModelSetParameters(e->model, assign, "-stgssa_gradient fsp"));
  PetscCall(StgssaEvaluatorAllocDerivatives(e));
  PetscCall(StgssaFSPSetAdjoint(e->fsp, (PetscBool)(e->for_loss && !e->smp.obs_rule))); /* expression observables: forward sensitivities */
  PetscCall(StgssaFSPSolve(e->fsp));
  PetscCall(StgssaFSPGetAdjoint(e->fsp, &e->deferred)); /* p alone: dmu by StgssaEvaluatorApplyAdjoint */
  for (PetscInt m = 0; m < L->M; m++) {
    e->mu[m] = NAN;
    for (PetscInt p = 0; p < P; p++) e->dmu[m * P + p] = NAN;
  }
  PetscCall(PetscMalloc2(L->B + 1, &hp, L->B + 1, &hdp));
  for (PetscInt i = 0; i < e->smp.nsample; i++)
    for (PetscInt o = 0; o < no; o++) {
      PetscInt         nb, m0 = L->off_pow + (i * no + o) * 3, h0 = L->off_hist + (i * no + o) * L->B;
      const PetscReal *pr, *dp;
      if (e->smp.obs_rule && e->smp.obs_rule[o] >= 0) { /* an expression f: E f^k = sum_x p(x) f(x)^k (no histogram: B = 0) */
        const PetscReal *R, *dR;
        PetscCall(StgssaFSPGetRuleSums(e->fsp, i, e->smp.obs_rule[o], &R, &dR));
        for (PetscInt k = 0; k < 3; k++) {
          e->mu[m0 + k] = R[k + 1];
          for (PetscInt p = 0; p < P; p++) e->dmu[(m0 + k) * P + p] = dR[(k + 1) * P + p];
        }
        continue;
      }
      /* a species: its marginal; a group: the marginal of its weighted sum (FSP quantity S + g) */
      PetscCall(StgssaFSPGetMarginal(e->fsp, i, e->smp.obs_group[o] >= 0 ? e->net0->S + e->smp.obs_group[o] : e->smp.obs[e->smp.obs_ptr[o]], &nb, &pr, &dp));
      for (PetscInt k = 0; k < 3; k++) {
        e->mu[m0 + k] = 0.0;
        for (PetscInt p = 0; p < P; p++) e->dmu[(m0 + k) * P + p] = 0.0;
      }
      for (PetscInt b = 0; b < L->B; b++) {
        e->mu[h0 + b] = 0.0;
        for (PetscInt p = 0; p < P; p++) e->dmu[(h0 + b) * P + p] = 0.0;
      }
      for (PetscInt x = 0; x < nb; x++) {
        const double xk[3] = {(double)x, (double)x * x, (double)x * x * x};
        for (PetscInt k = 0; k < 3; k++) {
          e->mu[m0 + k] += xk[k] * pr[x];
          for (PetscInt p = 0; p < P; p++) e->dmu[(m0 + k) * P + p] += xk[k] * dp[x * P + p];
        }
        if (L->B) {
          StgssaSoftHistogram(e->kernel, e->bandwidth, (double)x, (int)L->B, hp, NULL);
          for (PetscInt b = 0; b < L->B; b++) {
            if (hp[b] == 0.0) continue;
            e->mu[h0 + b] += hp[b] * pr[x];
            for (PetscInt p = 0; p < P; p++) e->dmu[(h0 + b) * P + p] += hp[b] * dp[x * P + p];
          }
        }
      }
    }
  PetscCall(PetscFree2(hp, hdp));
  if (e->deferred)
    for (PetscInt m = 0; m < L->M * P; m++) e->dmu[m] = NAN;
  for (PetscInt b = 0; b < e->nbatch; b++) PetscCall(PetscArraycpy(&e->dmu_batch[(size_t)b * L->M * P], e->dmu, L->M * P));
  e->events    = 0;
  e->events_max_over_mean = 1.0;
  e->nabsorbed = e->ncapped = 0;
  PetscFunctionReturn(0);
}

/* Means from the mean-field ODE at the current theta (e->net: rates and parameter values at
   theta): the quantity's mean m = sum_s w_s x_s and its derivative; the raw moments of a point
   mass at m (m, m^2, m^3: variance 0), which the loss may read only in column 0 (the objective
   refuses variance and distribution losses with this route). Path observables are NaN. */
static PetscErrorCode StgssaEvaluatorEvaluate_ODE(StgssaEvaluator e)
{
  const StgssaObsLayout *L = &e->lay;
  const PetscInt         P = e->P, no = e->smp.nobs, S = e->net0->S;
  const PetscReal       *x, *dx;

  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorAllocDerivatives(e));
  PetscCall(StgssaODESolve(e->ode, &e->net));
  PetscCall(StgssaODEGetMeans(e->ode, &x, &dx));
  for (PetscInt m = 0; m < L->M; m++) {
    e->mu[m] = NAN;
    for (PetscInt p = 0; p < P; p++) e->dmu[m * P + p] = NAN;
  }
  for (PetscInt i = 0; i < e->smp.nsample; i++)
    for (PetscInt o = 0; o < no; o++) {
      const PetscInt m0 = L->off_pow + (i * no + o) * 3;
      double         m  = 0.0;
      for (PetscInt t = e->smp.obs_ptr[o]; t < e->smp.obs_ptr[o + 1]; t++) m += (double)e->smp.obs_weight[t] * x[i * S + e->smp.obs[t]];
      e->mu[m0] = m;
      e->mu[m0 + 1] = m * m;
      e->mu[m0 + 2] = m * m * m;
      for (PetscInt p = 0; p < P; p++) {
        double d = 0.0;
        for (PetscInt t = e->smp.obs_ptr[o]; t < e->smp.obs_ptr[o + 1]; t++) d += (double)e->smp.obs_weight[t] * dx[(i * S + e->smp.obs[t]) * P + p];
        e->dmu[m0 * P + p]       = d;
        e->dmu[(m0 + 1) * P + p] = 2.0 * m * d;
        e->dmu[(m0 + 2) * P + p] = 3.0 * m * m * d;
      }
    }
  for (PetscInt b = 0; b < e->nbatch; b++) PetscCall(PetscArraycpy(&e->dmu_batch[(size_t)b * L->M * P], e->dmu, L->M * P));
  e->events               = 0;
  e->events_max_over_mean = 1.0;
  e->nabsorbed = e->ncapped = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorEvaluate(StgssaEvaluator e)
{
  PetscLogDouble t0, t1;

  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorSetUp(e));
  e->deferred = PETSC_FALSE;
  e->two_pass = PETSC_FALSE;
  if (e->type == STGSSA_GRADIENT_FSP || e->type == STGSSA_GRADIENT_ODE) {
    PetscCall(PetscTime(&t0));
    if (e->type == STGSSA_GRADIENT_FSP) PetscCall(StgssaEvaluatorEvaluate_FSP(e));
    else PetscCall(StgssaEvaluatorEvaluate_ODE(e));
    PetscCall(PetscTime(&t1));
    e->wall = t1 - t0;
    e->done = PETSC_TRUE;
  } else PetscCall(StgssaEvaluatorEvaluate_Private(e));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorEvaluateForLoss(StgssaEvaluator e)
{
  PetscErrorCode ierr;

  PetscFunctionBegin;
  e->for_loss = PETSC_TRUE;
  ierr        = StgssaEvaluatorEvaluate(e);
  e->for_loss = PETSC_FALSE;
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetDeferred(StgssaEvaluator e, PetscBool *deferred)
{
  PetscFunctionBegin;
  *deferred = (PetscBool)(e->done && e->deferred);
  PetscFunctionReturn(0);
}

/* grad = dmu^T dLdmu by the FSP's adjoint: dL/d marginal(x) = sum_k dL/dmu_pow_k x^k + sum_b dL/dmu_hist_b w_b(x)
   (the chain of StgssaEvaluatorEvaluate_FSP, transposed) */
PetscErrorCode StgssaEvaluatorApplyAdjoint(StgssaEvaluator e, const PetscReal dLdmu[], PetscReal grad[])
{
  const StgssaObsLayout *L  = &e->lay;
  const PetscInt         no = e->smp.nobs;
  double                *hp;

  PetscFunctionBegin;
  PetscCheck(e->done && e->deferred, e->comm, PETSC_ERR_ORDER, "StgssaEvaluatorApplyAdjoint: call StgssaEvaluatorEvaluateForLoss() first (exact route, or the score route's two-pass reduction)");
  if (e->two_pass) {
    PetscCall(StgssaEvaluatorApplyAdjoint_TwoPass(e, dLdmu, grad));
    PetscFunctionReturn(0);
  }
  PetscCall(PetscMalloc1(L->B + 1, &hp));
  for (PetscInt i = 0; i < e->smp.nsample; i++)
    for (PetscInt o = 0; o < no; o++) {
      const PetscInt m0 = L->off_pow + (i * no + o) * 3, h0 = L->off_hist + (i * no + o) * L->B;
      PetscInt       nb;
      PetscReal     *w;
      PetscBool      any = PETSC_FALSE;
      for (PetscInt k = 0; k < 3; k++) any = (PetscBool)(any || dLdmu[m0 + k] != 0.0);
      for (PetscInt b = 0; b < L->B; b++) any = (PetscBool)(any || dLdmu[h0 + b] != 0.0);
      if (!any) continue;
      PetscCall(StgssaFSPGetAdjointWeights(e->fsp, i, e->smp.obs_group[o] >= 0 ? e->net0->S + e->smp.obs_group[o] : e->smp.obs[e->smp.obs_ptr[o]], &nb, &w));
      for (PetscInt x = 0; x < nb; x++) {
        const double xk[3] = {(double)x, (double)x * x, (double)x * x * x};
        double       v     = 0.0;
        for (PetscInt k = 0; k < 3; k++) v += dLdmu[m0 + k] * xk[k];
        if (L->B) {
          StgssaSoftHistogram(e->kernel, e->bandwidth, (double)x, (int)L->B, hp, NULL);
          for (PetscInt b = 0; b < L->B; b++) v += dLdmu[h0 + b] * hp[b];
        }
        w[x] += v;
      }
    }
  PetscCall(PetscFree(hp));
  PetscCall(StgssaFSPAdjointSolve(e->fsp, grad));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetGradientType(StgssaEvaluator e, StgssaGradientType *type)
{
  PetscFunctionBegin;
  *type = e->type;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetFSP(StgssaEvaluator e, StgssaFSP *fsp)
{
  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorSetUp(e));
  *fsp = e->fsp;
  PetscFunctionReturn(0);
}

/* The SSA configuration of an evaluation (iteration: the random-number counter's). */
static void StgssaEvaluatorConfigure(StgssaEvaluator e, PetscInt iteration, StgssaSSAConfig *cfg, StgssaTangentConfig *tc)
{
  cfg->net          = &e->net;
  cfg->seed         = (uint32_t)e->smp.seed;
  cfg->iteration    = (uint32_t)iteration;
  cfg->tfinal       = e->smp.tfinal;
  cfg->t0           = e->smp.t0;
  cfg->thin_step    = e->smp.thin_step;
  cfg->max_events   = e->smp.max_events;
  cfg->nsample      = e->smp.nsample;
  cfg->sample_times = e->smp.sample_times;
  tc->type          = e->type;
  tc->P             = e->P;
  tc->rxn_param     = e->rxn_param;
  tc->fit_param     = e->fit_param;
  tc->lambda        = e->lambda;
  tc->nobs          = e->smp.nobs;
  tc->obs           = e->smp.obs;
  tc->obs_ptr       = e->smp.obs_ptr;
  tc->obs_weight    = e->smp.obs_weight;
  tc->obs_rule      = e->smp.obs_rule;
  tc->obs_scratch   = e->obs_scratch;
  tc->window        = e->window;
  tc->w0            = e->w0;
  tc->w1            = e->w1;
  tc->rev           = e->entropy ? e->rev : NULL;
  tc->count_from    = e->count_from;
  tc->locate        = NULL;
}

static PetscErrorCode StgssaEvaluatorWorkCreate(StgssaEvaluator e, StgssaTangentWork *work, StgssaTangentRecord *rec)
{
  StgssaSSAMethod method;

  PetscFunctionBegin;
  PetscCall(StgssaEnsembleGetSSAMethod(e->ens, &method));
  PetscCall(StgssaTangentWorkCreate(&e->net, e->P, work));
  if (method == STGSSA_SSA_AUTO) PetscCall(StgssaTangentWorkUseLarge(&e->net, work)); /* large networks: score and fd by rssa */
  PetscCall(StgssaTangentRecordCreate(e->smp.nsample, e->smp.nobs, e->net0->R, e->P, rec));
  PetscFunctionReturn(0);
}

/* Bytes of exact sums the single reduction would carry: K (2M + M P + (nsample+1) P) accumulators. */
static double StgssaEvaluatorSingleBytes(StgssaEvaluator e)
{
  return (double)e->nbatch * (2.0 * e->lay.M + (double)e->lay.M * e->P + (e->smp.nsample + 1.0) * e->P) * sizeof(StgssaExactSum);
}

/* -stgssa_reduction resolved for a loss's evaluation: two passes on the score route only. */
static PetscBool StgssaEvaluatorTwoPassApplies(StgssaEvaluator e)
{
  if (e->type != STGSSA_GRADIENT_SCORE) return PETSC_FALSE;
  if (e->smp.obs_rule) return PETSC_FALSE; /* expression observables: their explicit term E[df/dtheta] is in the single reduction only (two_pass refused at SetUp) */
  if (e->reduction == STGSSA_REDUCTION_SINGLE) return PETSC_FALSE;
  if (e->reduction == STGSSA_REDUCTION_TWO_PASS) return PETSC_TRUE;
  return (PetscBool)(e->P > 64 || (!e->need_dmu && StgssaEvaluatorSingleBytes(e) > STGSSA_REDUCTION_AUTO_BYTES));
}

PetscErrorCode StgssaEvaluatorSetNeedDerivatives(StgssaEvaluator e, PetscBool flg)
{
  PetscFunctionBegin;
  e->need_dmu = flg;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorSetReduction(StgssaEvaluator e, StgssaReductionType r)
{
  PetscFunctionBegin;
  PetscCheck(r >= STGSSA_REDUCTION_AUTO && r <= STGSSA_REDUCTION_TWO_PASS, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "Unknown reduction type %d", (int)r);
  e->reduction = r;
  e->setup     = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetTwoPass(StgssaEvaluator e, PetscBool *two)
{
  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorSetUp(e));
  *two = StgssaEvaluatorTwoPassApplies(e);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetReductionStats(StgssaEvaluator e, double bytes[2], double seconds[2])
{
  PetscFunctionBegin;
  for (int k = 0; k < 2; k++) {
    if (bytes) bytes[k] = e->red_bytes[k];
    if (seconds) seconds[k] = e->red_time[k];
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorViewReduction(StgssaEvaluator e, PetscViewer viewer)
{
  double      t[2] = {e->red_sum[1], e->red_sum[2]}, tmin[2], w2 = e->red_sum[5], w2max, n = e->red_sum[3];
  PetscMPIInt replay = e->tp_replay ? 1 : 0, anyreplay;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(e->comm, &viewer));
  if (e->type == STGSSA_GRADIENT_FSP || e->type == STGSSA_GRADIENT_ODE || n == 0) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Allreduce(t, tmin, 2, MPI_DOUBLE, MPI_MIN, e->comm)); /* the last rank to arrive waits least: its time is the reduction's own */
  PetscCallMPI(MPI_Allreduce(&w2, &w2max, 1, MPI_DOUBLE, MPI_MAX, e->comm));
  PetscCallMPI(MPI_Allreduce(&replay, &anyreplay, 1, MPI_INT, MPI_MAX, e->comm));
  PetscCall(PetscViewerASCIIPrintf(viewer, "reduction (-stgssa_reduction %s): %s; per evaluation (mean of %.0f): %.4g MB of exact sums; reductions %.3g s + %.3g s (pass 2), smallest over ranks; evaluation %.4g s + pass 2 %.4g s (largest rank)%s\n", StgssaReductionTypes[e->reduction],
                                   e->two_pass ? "two passes" : "one pass", n, e->red_sum[0] / n / 1e6, tmin[0] / n, tmin[1] / n, e->red_sum[4] / n, w2max / n,
                                   e->two_pass ? (anyreplay ? "; pass 2 replays trajectories (-stgssa_score_memory)" : "; pass 2 reads the kept trajectories") : ""));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetAdjointBatches(StgssaEvaluator e, PetscInt *nbatch, const PetscReal **grad_batch)
{
  PetscFunctionBegin;
  PetscCheck(e->done, e->comm, PETSC_ERR_ORDER, "Call StgssaEvaluatorEvaluateForLoss() and StgssaEvaluatorApplyAdjoint() first");
  if (nbatch) *nbatch = e->nbatch;
  *grad_batch = e->two_pass ? e->grad_batch : NULL;
  PetscFunctionReturn(0);
}

/* Batch size among n gradient trajectories: indices i with floor(i K / n) = b. */
static inline PetscInt64 StgssaBatchSize(PetscInt b, PetscInt64 n, PetscInt K)
{
  return (((PetscInt64)(b + 1) * n + K - 1) / K) - (((PetscInt64)b * n + K - 1) / K);
}

static PetscErrorCode StgssaEvaluatorEvaluate_Private(StgssaEvaluator e)
{
  const StgssaObsLayout *L = &e->lay;
  const PetscInt         M = L->M, P = e->P, K = e->nbatch;
  const PetscInt64       N = e->smp.ntraj, Ng = e->ntraj_grad;
  const PetscBool        two = (PetscBool)(e->for_loss && StgssaEvaluatorTwoPassApplies(e));
  StgssaSSAConfig        cfg;
  StgssaTangentConfig    tc;
  StgssaTangentWork      work[STGSSA_EVAL_MANY]; /* one per trajectory of a StgssaSSARunTangentMany call */
  StgssaTangentRecord    rec[STGSSA_EVAL_MANY];
  /* [K][blk] exact sums: values (all), values (grad), derivatives (single pass only), scores */
  StgssaExactSum        *acc;
  const PetscInt         NS = e->smp.nsample + 1; /* score sums per sample time and the whole path */
  const PetscInt         blk = two ? 2 * M + NS * P : 2 * M + M * P + NS * P, osc = two ? 2 * M : 2 * M + M * P;
  double                *o, *od, *sc, *o2, *hp, *hdp;
  PetscInt64             start, end, events = 0, gevents, cnt[3] = {0, 0, 0}, gcnt[3];
  PetscLogDouble         t0, t1, tr0, tr1;

  PetscFunctionBegin;
  PetscCall(PetscTime(&t0));
  PetscCall(StgssaOwnershipRange(e->comm, N, &start, &end));
  StgssaEvaluatorConfigure(e, e->iteration, &cfg, &tc);
  for (PetscInt q = 0; q < STGSSA_EVAL_MANY; q++) PetscCall(StgssaEvaluatorWorkCreate(e, &work[q], &rec[q]));
  if (!two) PetscCall(StgssaEvaluatorAllocDerivatives(e));
  PetscCall(PetscMalloc6(M, &o, two ? 1 : M * P, &od, NS * P, &sc, M, &o2, L->B + 1, &hp, L->B + 1, &hdp));
  PetscCall(PetscMalloc1((size_t)K * blk, &acc));
  for (PetscInt i = 0; i < K * blk; i++) StgssaExactSumZero(&acc[i]);
  PetscCall(PetscArrayzero(sc, NS * P));
  /* two passes: this rank's gradient trajectories keep o [M] and S [NS*P] for pass 2 when they fit
     in -stgssa_score_memory, else pass 2 replays them (each depends on (seed, iteration, index) alone) */
  PetscCall(StgssaEvaluatorFreeTwoPass(e));
  e->two_pass = two;
  if (two) {
    e->tp_start  = start;
    e->tp_end    = PetscMax(start, PetscMin(end, Ng));
    {
      const double n = (double)(e->tp_end - e->tp_start), bytes = n * (M + NS * P) * sizeof(double);
      e->tp_replay = (PetscBool)(bytes > e->score_memory * 1048576.0);
      if (!e->tp_replay && n > 0) PetscCall(PetscMalloc2((size_t)n * M, &e->tp_o, (size_t)n * NS * P, &e->tp_s));
    }
    PetscCall(PetscMalloc2((size_t)(K + 1) * M, &e->tp_obar, (size_t)(K + 1) * NS * P, &e->tp_sbar));
    PetscCall(PetscMalloc1((size_t)K * P, &e->grad_batch));
  }

  PetscCall(PetscLogEventBegin(STGSSA_Tangents, 0, 0, 0, 0));
  for (PetscInt64 i0 = start; i0 < end;) {
    StgssaTrajInfo      info[STGSSA_EVAL_MANY];
    uint64_t            traj[STGSSA_EVAL_MANY];
    StgssaTangentConfig tcv = tc;
    const PetscBool     grad0 = (PetscBool)(i0 < Ng);
    PetscInt            nb    = 1;
    if (!grad0 || e->type == STGSSA_GRADIENT_FD) tcv.P = 0, tcv.type = STGSSA_GRADIENT_FD; /* values only */
    /* ST-GS gradient trajectories in groups of STGSSA_EVAL_MANY (interleaved where the small-network engine applies);
       the records are then taken in index order as one at a time */
    if (grad0 && e->type == STGSSA_GRADIENT_STGS)
      while (nb < STGSSA_EVAL_MANY && i0 + nb < end && i0 + nb < Ng) nb++;
    for (PetscInt q = 0; q < nb; q++) traj[q] = (uint64_t)(i0 + q), rec[q].P = tcv.P;
    cfg.net = &e->net;
    PetscCall(StgssaSSARunTangentMany(&cfg, &tcv, nb, traj, work, rec, info));
    for (PetscInt q = 0; q < nb; q++) {
      const PetscInt64     i    = i0 + q;
      const PetscBool      grad = (PetscBool)(i < Ng);
      const PetscBool      prod = (PetscBool)(grad && e->type != STGSSA_GRADIENT_FD && !two); /* per-trajectory derivatives od [M*P] */
      StgssaTangentWork   *wk   = &work[q];
      StgssaTangentRecord *rc   = &rec[q];
      PetscBool            capped;
      cfg.net = &e->net;
      events += info[q].events;
      cnt[0] += info[q].events;
      cnt[1] += info[q].end == STGSSA_TRAJ_ABSORBED;
      capped = (PetscBool)(info[q].end == STGSSA_TRAJ_CAPPED);
      StgssaEvaluatorObservables(e, rc, o, prod ? od : NULL, grad ? sc : NULL, hp, hdp);
      if (!StgssaAllFinite(o, M)) PetscCall(StgssaEvaluatorLocate(e, &cfg, &tcv, i, wk, rc, o, M, 0, "value"));
      if (prod && !StgssaAllFinite(od, M * P)) PetscCall(StgssaEvaluatorLocate(e, &cfg, &tcv, i, wk, rc, od, M * P, P, "derivative"));
      if (grad && e->type == STGSSA_GRADIENT_SCORE && !StgssaAllFinite(sc, NS * P)) PetscCall(StgssaEvaluatorLocate(e, &cfg, &tcv, i, wk, rc, sc, NS * P, P, "score"));
      StgssaAccumulate(&acc[StgssaBatchOf(i, N, K) * blk], o, M);
      if (!grad) {
        cnt[2] += capped;
        continue;
      }
      if (e->type == STGSSA_GRADIENT_FD) { /* central differences along the same random numbers */
        StgssaTrajInfo fi;
        for (PetscInt p = 0; p < P; p++) {
          cfg.net = &e->net_fd[2 * p];
          PetscCall(StgssaSSARunTangent(&cfg, &tcv, (uint64_t)i, wk, rc, &fi));
          events += fi.events;
          capped = (PetscBool)(capped || fi.end == STGSSA_TRAJ_CAPPED);
          StgssaEvaluatorObservables(e, rc, o2, NULL, NULL, hp, hdp);
          for (PetscInt m = 0; m < M; m++) od[m * P + p] = o2[m];
          cfg.net = &e->net_fd[2 * p + 1];
          PetscCall(StgssaSSARunTangent(&cfg, &tcv, (uint64_t)i, wk, rc, &fi));
          events += fi.events;
          capped = (PetscBool)(capped || fi.end == STGSSA_TRAJ_CAPPED);
          StgssaEvaluatorObservables(e, rc, o2, NULL, NULL, hp, hdp);
          for (PetscInt m = 0; m < M; m++) od[m * P + p] = (od[m * P + p] - o2[m]) / (2 * e->fd_h);
        }
        cfg.net = &e->net;
        if (!StgssaAllFinite(od, M * P)) PetscCall(StgssaEvaluatorLocate(e, &cfg, &tcv, i, wk, rc, od, M * P, P, "derivative"));
      }
      cnt[2] += capped;
      {
        StgssaExactSum *a = &acc[StgssaBatchOf(i, Ng, K) * blk];
        StgssaAccumulate(a + M, o, M);
        if (!two) StgssaAccumulate(a + 2 * M, od, M * P);
        if (e->type == STGSSA_GRADIENT_SCORE) StgssaAccumulate(a + osc, sc, NS * P);
      }
      if (two && e->tp_o) {
        PetscCall(PetscArraycpy(&e->tp_o[(size_t)(i - e->tp_start) * M], o, M));
        PetscCall(PetscArraycpy(&e->tp_s[(size_t)(i - e->tp_start) * NS * P], sc, NS * P));
      }
    }
    i0 += nb;
  }
  PetscCall(PetscLogEventEnd(STGSSA_Tangents, 0, 0, 0, 0));
  for (PetscInt q = 0; q < STGSSA_EVAL_MANY; q++) rec[q].P = P;

  /* one reduction of every exact sum (two passes: means and scores; the rest in StgssaEvaluatorApplyAdjoint), then the event count */
  PetscCall(PetscLogEventBegin(STGSSA_Reduce, 0, 0, 0, 0));
  PetscCall(PetscTime(&tr0));
  PetscCall(StgssaExactSumAllreduce(acc, K * blk, e->comm));
  PetscCall(PetscTime(&tr1));
  e->red_bytes[0] = (double)K * blk * sizeof(StgssaExactSum);
  e->red_time[0]  = tr1 - tr0;
  e->red_bytes[1] = e->red_time[1] = 0;
  e->red_sum[0] += e->red_bytes[0];
  e->red_sum[1] += e->red_time[0];
  e->red_sum[3] += 1;
  cnt[0]          = events;
  PetscCallMPI(MPI_Allreduce(cnt, gcnt, 3, MPIU_INT64, MPI_SUM, e->comm));
  gevents = gcnt[0];
  PetscCall(PetscLogEventEnd(STGSSA_Reduce, 0, 0, 0, 0));

  /* means: values over all N; derivatives over the Ng gradient trajectories, per batch and in total */
  {
    StgssaExactSum *tot;
    double         *vb;
    PetscCall(PetscMalloc1(blk, &tot));
    PetscCall(PetscMalloc1(blk, &vb));
    for (PetscInt m = 0; m < blk; m++) StgssaExactSumZero(&tot[m]);
    for (PetscInt b = 0; b <= K; b++) { /* b = K: the totals */
      const PetscInt64 nb = b < K ? StgssaBatchSize(b, Ng, K) : Ng;
      if (b < K)
        for (PetscInt m = 0; m < blk; m++) {
          PetscCall(StgssaExactSumMerge(&tot[m], &acc[b * blk + m]));
          PetscCall(StgssaExactSumValue(&acc[b * blk + m], &vb[m]));
        }
      else
        for (PetscInt m = 0; m < blk; m++) PetscCall(StgssaExactSumValue(&tot[m], &vb[m]));
      if (b == K)
        for (PetscInt m = 0; m < M; m++) e->mu[m] = vb[m] / (double)N;
      else if (e->mu_batch)
        for (PetscInt m = 0; m < M; m++) e->mu_batch[(size_t)b * M + m] = vb[M + m] / (double)nb;
      if (!two) StgssaEvaluatorDerivatives(e, vb, nb, b < K ? &e->dmu_batch[(size_t)b * M * P] : e->dmu);
      else { /* pass 2's means: values and scores of the gradient trajectories of batch b (b = K: all) */
        for (PetscInt m = 0; m < M; m++) e->tp_obar[(size_t)b * M + m] = vb[M + m] / (double)nb;
        for (PetscInt k = 0; k < NS * P; k++) e->tp_sbar[(size_t)b * NS * P + k] = vb[osc + k] / (double)nb;
      }
    }
    PetscCall(PetscFree(vb));
    PetscCall(PetscFree(tot));
  }
  e->tp_N         = N;
  e->tp_Ng        = Ng;
  e->tp_iteration = e->iteration;
  e->deferred     = two;
  PetscCall(PetscFree(acc));
  PetscCall(PetscFree6(o, od, sc, o2, hp, hdp));
  for (PetscInt q = 0; q < STGSSA_EVAL_MANY; q++) {
    PetscCall(StgssaTangentRecordDestroy(&rec[q]));
    PetscCall(StgssaTangentWorkDestroy(&work[q]));
  }
  PetscCall(PetscTime(&t1));
  {
    /* the wall-time reduction also carries this rank's events (exact in a double below 2^53): load balance at no extra latency */
    double      lmax[2] = {t1 - t0, (double)events}, gmax[2];
    PetscMPIInt size;
    PetscCallMPI(MPI_Comm_size(e->comm, &size));
    PetscCallMPI(MPI_Allreduce(lmax, gmax, 2, MPI_DOUBLE, MPI_MAX, e->comm));
    e->wall                 = gmax[0];
    e->events_max_over_mean = gevents > 0 ? gmax[1] * size / (double)gevents : 1.0;
    e->red_sum[4] += e->wall;
  }
  e->events    = gevents;
  e->nabsorbed = gcnt[1];
  e->ncapped   = gcnt[2];
  e->done      = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* Pass 2 of the two-pass reduction: with g = dL/dmu and, per gradient trajectory i and sample
   time t (t = nsample: the whole path), W_it = sum_{m of t} g_m o_im,
     dL/dtheta_p = sum_m g_m dmu_mp = (1/(n-1)) [ sum_i sum_t W_it S_ip(t) - n sum_t Wbar_t Sbar_p(t) ],
   Wbar_t = sum_{m of t} g_m obar_m: the unbiased score covariance of StgssaEvaluatorDerivatives
   contracted with g (n, obar, Sbar over the gradient trajectories; per batch the same with the
   batch's). One exact reduction of K*P sums sum_{i in b} sum_t W_it S_ip(t); their merge is the total. */
static PetscErrorCode StgssaEvaluatorApplyAdjoint_TwoPass(StgssaEvaluator e, const PetscReal g[], PetscReal grad[])
{
  const StgssaObsLayout *L = &e->lay;
  const PetscInt         M = L->M, P = e->P, K = e->nbatch, NS = e->smp.nsample + 1;
  const PetscInt64       Ng = e->tp_Ng;
  PetscInt              *nzm, *nzt, nnz = 0;
  double                *Wbar, *W, *v, *o = NULL, *sc = NULL, *hp = NULL, *hdp = NULL;
  StgssaExactSum        *acc, *tot;
  StgssaSSAConfig        cfg;
  StgssaTangentConfig    tc;
  StgssaTangentWork      work;
  StgssaTangentRecord    rec;
  PetscLogDouble         tr0, tr1;

  PetscLogDouble         tp0, tp1;

  PetscFunctionBegin;
  PetscCall(PetscTime(&tp0));
  PetscCall(PetscMalloc4(M, &nzm, M, &nzt, (size_t)(K + 1) * NS, &Wbar, NS, &W));
  PetscCall(PetscMalloc1(P, &v));
  for (PetscInt m = 0; m < M; m++)
    if (g[m] != 0.0) nzm[nnz] = m, nzt[nnz++] = StgssaEvaluatorScoreSample(e, m);
  PetscCall(PetscArrayzero(Wbar, (size_t)(K + 1) * NS));
  for (PetscInt b = 0; b <= K; b++)
    for (PetscInt k = 0; k < nnz; k++) Wbar[b * NS + nzt[k]] += g[nzm[k]] * e->tp_obar[(size_t)b * M + nzm[k]];
  PetscCall(PetscMalloc2((size_t)K * P, &acc, P, &tot));
  for (PetscInt k = 0; k < K * P; k++) StgssaExactSumZero(&acc[k]);
  for (PetscInt p = 0; p < P; p++) StgssaExactSumZero(&tot[p]);
  if (e->tp_replay) { /* the same configuration as pass 1: the same trajectories, bit for bit */
    StgssaEvaluatorConfigure(e, e->tp_iteration, &cfg, &tc);
    PetscCall(StgssaEvaluatorWorkCreate(e, &work, &rec));
    PetscCall(PetscMalloc4(M, &o, NS * P, &sc, L->B + 1, &hp, L->B + 1, &hdp));
  }
  if (nnz) PetscCall(PetscLogEventBegin(STGSSA_Tangents, 0, 0, 0, 0));
  for (PetscInt64 i = e->tp_start; i < e->tp_end && nnz; i++) {
    const double *oi, *Si;
    if (e->tp_replay) {
      StgssaTrajInfo info;
      PetscCall(StgssaSSARunTangent(&cfg, &tc, (uint64_t)i, &work, &rec, &info));
      StgssaEvaluatorObservables(e, &rec, o, NULL, sc, hp, hdp);
      oi = o;
      Si = sc;
    } else {
      oi = &e->tp_o[(size_t)(i - e->tp_start) * M];
      Si = &e->tp_s[(size_t)(i - e->tp_start) * NS * P];
    }
    for (PetscInt t = 0; t < NS; t++) W[t] = 0.0;
    for (PetscInt k = 0; k < nnz; k++) W[nzt[k]] += g[nzm[k]] * oi[nzm[k]];
    for (PetscInt p = 0; p < P; p++) v[p] = 0.0;
    for (PetscInt t = 0; t < NS; t++)
      if (W[t] != 0.0)
        for (PetscInt p = 0; p < P; p++) v[p] += W[t] * Si[t * P + p];
    if (!StgssaAllFinite(v, P)) {
      PetscInt p = 0;
      while (p < P && isfinite(v[p])) p++;
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FP, "trajectory %" PetscInt64_FMT ": its contribution to the loss gradient by log %s is %.6g (score derivatives, two-pass reduction)", i, e->fit_names[p], v[p]);
    }
    StgssaAccumulate(&acc[StgssaBatchOf(i, Ng, K) * P], v, P);
  }
  if (nnz) PetscCall(PetscLogEventEnd(STGSSA_Tangents, 0, 0, 0, 0));
  PetscCall(PetscLogEventBegin(STGSSA_Reduce, 0, 0, 0, 0));
  PetscCall(PetscTime(&tr0));
  PetscCall(StgssaExactSumAllreduce(acc, K * P, e->comm));
  PetscCall(PetscTime(&tr1));
  PetscCall(PetscLogEventEnd(STGSSA_Reduce, 0, 0, 0, 0));
  e->red_bytes[1] = (double)K * P * sizeof(StgssaExactSum);
  e->red_time[1]  = tr1 - tr0;
  e->red_sum[0] += e->red_bytes[1];
  e->red_sum[2] += e->red_time[1];
  for (PetscInt b = 0; b <= K; b++) {
    const PetscInt64 nb = b < K ? StgssaBatchSize(b, Ng, K) : Ng;
    const double     dn = (double)nb;
    for (PetscInt p = 0; p < P; p++) {
      double s, ws = 0.0;
      if (b < K) {
        PetscCall(StgssaExactSumMerge(&tot[p], &acc[b * P + p]));
        PetscCall(StgssaExactSumValue(&acc[b * P + p], &s));
      } else PetscCall(StgssaExactSumValue(&tot[p], &s));
      for (PetscInt t = 0; t < NS; t++) ws += Wbar[b * NS + t] * e->tp_sbar[((size_t)b * NS + t) * P + p];
      s = nb > 1 ? (s - dn * ws) / (dn - 1) : 0.0;
      if (b < K) e->grad_batch[b * P + p] = s;
      else grad[p] = s;
    }
  }
  if (e->tp_replay) {
    PetscCall(PetscFree4(o, sc, hp, hdp));
    PetscCall(StgssaTangentRecordDestroy(&rec));
    PetscCall(StgssaTangentWorkDestroy(&work));
  }
  PetscCall(PetscFree2(acc, tot));
  PetscCall(PetscFree(v));
  PetscCall(PetscFree4(nzm, nzt, Wbar, W));
  PetscCall(PetscTime(&tp1));
  e->red_sum[5] += tp1 - tp0;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetSampling(StgssaEvaluator e, StgssaSampling *smp)
{
  PetscFunctionBegin;
  PetscCheck(e->ens, e->comm, PETSC_ERR_ORDER, "Call StgssaEvaluatorSetEnsemble() first");
  PetscCall(StgssaEnsembleGetSampling(e->ens, smp));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorSetNumTrajectories(StgssaEvaluator e, PetscInt64 n)
{
  PetscInt64 ng;

  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorSetUp(e));
  PetscCheck(n >= e->nbatch && n <= (PetscInt64)PETSC_MAX_INT, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "StgssaEvaluatorSetNumTrajectories(): %" PetscInt64_FMT " trajectories; expected %" PetscInt_FMT " (the batches) to %d", n, e->nbatch, PETSC_MAX_INT);
  /* a given -stgssa_ntraj_grad keeps its share of the trajectories */
  ng = e->ntraj_grad_opt < 0 ? n : (PetscInt64)PetscCeilReal((PetscReal)e->ntraj_grad_opt * (PetscReal)n / (PetscReal)e->ntraj0);
  ng = PetscMin(PetscMax(ng, (PetscInt64)e->nbatch), n);
  e->smp.ntraj  = (PetscInt)n;
  e->ntraj_grad = (PetscInt)ng;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetNumTrajectories(StgssaEvaluator e, PetscInt64 *n)
{
  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorSetUp(e));
  *n = e->smp.ntraj;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetModel(StgssaEvaluator e, StgssaModel *model)
{
  PetscFunctionBegin;
  PetscCheck(e->model, e->comm, PETSC_ERR_ORDER, "Call StgssaEvaluatorSetEnsemble() first");
  *model = e->model;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetLayout(StgssaEvaluator e, const StgssaObsLayout **lay)
{
  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorSetUp(e));
  *lay = &e->lay;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetFit(StgssaEvaluator e, PetscInt *P, const char *const **names)
{
  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorSetUp(e));
  if (P) *P = e->P;
  if (names) *names = (const char *const *)e->fit_names;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetMeans(StgssaEvaluator e, const PetscReal **mu, const PetscReal **dmu)
{
  PetscFunctionBegin;
  PetscCheck(e->done, e->comm, PETSC_ERR_ORDER, "Call StgssaEvaluatorEvaluate() first");
  PetscCheck(!dmu || !e->deferred, e->comm, PETSC_ERR_ORDER, "StgssaEvaluatorGetMeans: derivatives deferred (StgssaEvaluatorEvaluateForLoss): use StgssaEvaluatorApplyAdjoint or StgssaEvaluatorEvaluate");
  if (mu) *mu = e->mu;
  if (dmu) *dmu = e->dmu;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetBatchDerivatives(StgssaEvaluator e, PetscInt *nbatch, const PetscReal **dmu_batch)
{
  PetscFunctionBegin;
  PetscCheck(e->done, e->comm, PETSC_ERR_ORDER, "Call StgssaEvaluatorEvaluate() first");
  PetscCheck(!e->deferred, e->comm, PETSC_ERR_ORDER, "StgssaEvaluatorGetBatchDerivatives: derivatives deferred (StgssaEvaluatorEvaluateForLoss)");
  *nbatch    = e->nbatch;
  *dmu_batch = e->dmu_batch;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetEventCount(StgssaEvaluator e, PetscInt64 *events)
{
  PetscFunctionBegin;
  *events = e->events;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetLoadImbalance(StgssaEvaluator e, PetscReal *events_max_over_mean)
{
  PetscFunctionBegin;
  PetscCheck(e->done, e->comm, PETSC_ERR_ORDER, "Call StgssaEvaluatorEvaluate() first");
  *events_max_over_mean = e->events_max_over_mean;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetTrajectoryEnds(StgssaEvaluator e, PetscInt64 *absorbed, PetscInt64 *capped)
{
  PetscFunctionBegin;
  PetscCheck(e->done, e->comm, PETSC_ERR_ORDER, "Call StgssaEvaluatorEvaluate() first");
  if (absorbed) *absorbed = e->nabsorbed;
  if (capped) *capped = e->ncapped;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorGetMoments(StgssaEvaluator e, PetscInt i, PetscInt o, PetscReal c[3], PetscReal dc[])
{
  const PetscInt P = e->P;
  double         raw[3], jac[9], cen[3];

  PetscFunctionBegin;
  PetscCheck(e->done, e->comm, PETSC_ERR_ORDER, "Call StgssaEvaluatorEvaluate() first");
  PetscCheck(i >= 0 && i < e->smp.nsample && o >= 0 && o < e->smp.nobs, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "Sample or species index out of range");
  {
    const PetscInt m0 = e->lay.off_pow + (i * e->smp.nobs + o) * 3;
    for (int k = 0; k < 3; k++) raw[k] = e->mu[m0 + k];
    StgssaCentralMoments(raw, cen, jac);
    for (int k = 0; k < 3; k++) c[k] = cen[k];
    PetscCheck(!dc || !e->deferred, e->comm, PETSC_ERR_ORDER, "StgssaEvaluatorGetMoments: derivatives deferred (StgssaEvaluatorEvaluateForLoss)");
    if (dc)
      for (int k = 0; k < 3; k++)
        for (PetscInt p = 0; p < P; p++) {
          double v = 0.0;
          for (int l = 0; l < 3; l++) v += jac[3 * k + l] * e->dmu[(m0 + l) * P + p];
          dc[k * P + p] = v;
        }
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorView(StgssaEvaluator e, PetscViewer viewer)
{
  PetscReal *dc;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(e->comm, &viewer));
  PetscCall(StgssaEvaluatorSetUp(e));
  if (e->type == STGSSA_GRADIENT_FSP) { /* exact: no trajectories, events or batches to report */
    PetscInt n = 0;
    if (e->fsp) PetscCall(StgssaFSPGetNumStates(e->fsp, &n));
    PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaEvaluator: exact (fsp) derivatives of %" PetscInt_FMT " observables w.r.t. %" PetscInt_FMT " log-rates; projection of %" PetscInt_FMT " states\n", e->lay.M, e->P, n));
  } else if (e->type == STGSSA_GRADIENT_ODE) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaEvaluator: mean-field ODE means (no variances) and their derivatives w.r.t. %" PetscInt_FMT " log-rates\n", e->P));
  } else {
    PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaEvaluator: %s derivatives of %" PetscInt_FMT " observables w.r.t. %" PetscInt_FMT " log-rates; %" PetscInt_FMT " trajectories (%" PetscInt_FMT " with derivatives), %" PetscInt_FMT " batches", StgssaGradientTypes[e->type], e->lay.M, e->P, e->smp.ntraj, e->ntraj_grad, e->nbatch));
    if (e->type == STGSSA_GRADIENT_STGS) PetscCall(PetscViewerASCIIPrintf(viewer, ", temperature %g", (double)e->lambda));
    if (e->type == STGSSA_GRADIENT_FD) PetscCall(PetscViewerASCIIPrintf(viewer, ", h %g", (double)e->fd_h));
    PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  }
  if (!e->done) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPushTab(viewer));
  if (e->type == STGSSA_GRADIENT_FSP || e->type == STGSSA_GRADIENT_ODE) PetscCall(PetscViewerASCIIPrintf(viewer, "solved in %.3f s\n", e->wall));
  else PetscCall(PetscViewerASCIIPrintf(viewer, "%" PetscInt64_FMT " SSA events in %.3f s; events per rank max/mean %.4f\n", e->events, e->wall, (double)e->events_max_over_mean));
  PetscCall(PetscMalloc1(3 * e->P, &dc));
  for (PetscInt o = 0; o < e->smp.nobs; o++)
    for (PetscInt i = 0; i < e->smp.nsample; i++) {
      PetscReal c[3];
      PetscCall(StgssaEvaluatorGetMoments(e, i, o, c, dc));
      PetscCall(PetscViewerASCIIPrintf(viewer, "%s at t = %g: mean %.6g  d mean/d log k:", e->smp.obs_names[o], (double)e->smp.sample_times[i], (double)c[0]));
      for (PetscInt p = 0; p < e->P; p++) PetscCall(PetscViewerASCIIPrintf(viewer, " %s %.5g", e->fit_names[p], (double)dc[p]));
      PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
    }
  PetscCall(PetscFree(dc));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}

/* Batch standard errors se[3*P] of the central-moment derivatives dc of observed quantity o at
   sample i: per batch b, dc_b = J dmu_b (J the Jacobian of the central moments at the ensemble's
   raw moments, dmu_b the batch's raw-moment derivatives); se = sqrt(sum_b (dc_b - mean_b dc_b)^2 / (K (K-1))),
   the same batch formula as the loss gradient's standard error (0 on the exact route). */
static PetscErrorCode StgssaEvaluatorMomentsStderr(StgssaEvaluator e, PetscInt i, PetscInt o, double se[])
{
  const PetscInt P = e->P, K = e->nbatch, M = e->lay.M, m0 = e->lay.off_pow + (i * e->smp.nobs + o) * 3;
  double         raw[3], jac[9], cen[3], *d;

  PetscFunctionBegin;
  PetscCheck(!e->deferred, e->comm, PETSC_ERR_ORDER, "moments_gradient_stderr: derivatives deferred (StgssaEvaluatorEvaluateForLoss)");
  for (int k = 0; k < 3; k++) raw[k] = e->mu[m0 + k];
  StgssaCentralMoments(raw, cen, jac);
  PetscCall(PetscMalloc1(K, &d));
  for (int k = 0; k < 3; k++)
    for (PetscInt p = 0; p < P; p++) {
      double mean = 0.0, ss = 0.0;
      for (PetscInt b = 0; b < K; b++) {
        d[b] = 0.0;
        for (int l = 0; l < 3; l++) d[b] += jac[3 * k + l] * e->dmu_batch[((size_t)b * M + m0 + l) * P + p];
      }
      for (PetscInt b = 0; b < K; b++) mean += (d[b] - d[0]) / K; /* shifted: identical batches (exact route) give 0 exactly */
      mean += d[0];
      for (PetscInt b = 0; b < K; b++) ss += (d[b] - mean) * (d[b] - mean);
      se[k * P + p] = PetscSqrtReal(ss / ((double)K * (K - 1)));
    }
  PetscCall(PetscFree(d));
  PetscFunctionReturn(0);
}

/* Cov(A(t_i), B(t_j)) of product k: c = n/(n-1) (mu_AB - mu_A mu_B) over the N trajectories, and
     dc/dtheta_p = n/(n-1) (dmu_AB - dmu_A mu_B - mu_A dmu_B)          (chain rule on the means);
   standard errors from the K batches: of c, the spread of the batch covariances (means of each
   batch's gradient trajectories); of dc, the spread of the same linear map applied to each
   batch's derivatives dmu_b (as StgssaEvaluatorMomentsStderr). */
PetscErrorCode StgssaEvaluatorGetCorrelation(StgssaEvaluator e, PetscInt k, PetscReal *c, PetscReal dc[], PetscReal *se, PetscReal dse[])
{
  const StgssaCorrelation *cr = e->smp.corr;
  const PetscInt           P = e->P, K = e->nbatch, M = e->lay.M, no = e->smp.nobs;
  PetscInt                 ma, mb, mab;
  double                   f, *d;

  PetscFunctionBegin;
  PetscCheck(e->done, e->comm, PETSC_ERR_ORDER, "Call StgssaEvaluatorEvaluate() first");
  PetscCheck(cr && k >= 0 && k < cr->nprod, e->comm, PETSC_ERR_ARG_OUTOFRANGE, "Correlation product %" PetscInt_FMT " out of range", k);
  ma  = e->lay.off_pow + (cr->prod_i[k] * no + cr->prod_a[k]) * 3;
  mb  = e->lay.off_pow + (cr->prod_j[k] * no + cr->prod_b[k]) * 3;
  mab = e->lay.off_corr + k;
  f   = e->type == STGSSA_GRADIENT_FSP ? 1.0 : (double)e->smp.ntraj / (double)(e->smp.ntraj - 1);
  *c  = f * (e->mu[mab] - e->mu[ma] * e->mu[mb]);
  if (dc) {
    PetscCheck(!e->deferred, e->comm, PETSC_ERR_ORDER, "correlation_gradient: derivatives deferred (StgssaEvaluatorEvaluateForLoss)");
    for (PetscInt p = 0; p < P; p++) dc[p] = f * (e->dmu[mab * P + p] - e->dmu[ma * P + p] * e->mu[mb] - e->mu[ma] * e->dmu[mb * P + p]);
  }
  PetscCall(PetscMalloc1(K, &d));
  if (se) {
    double mean = 0, ss = 0;
    if (e->mu_batch && e->type != STGSSA_GRADIENT_FSP) {
      for (PetscInt b = 0; b < K; b++) {
        const PetscReal *mub = &e->mu_batch[(size_t)b * M];
        d[b]                 = mub[mab] - mub[ma] * mub[mb];
        mean += d[b] / K;
      }
      for (PetscInt b = 0; b < K; b++) ss += (d[b] - mean) * (d[b] - mean);
      *se = PetscSqrtReal(ss / ((double)K * (K - 1)));
    } else *se = e->type == STGSSA_GRADIENT_FSP ? 0.0 : NAN;
  }
  if (dse)
    for (PetscInt p = 0; p < P; p++) {
      double mean = 0, ss = 0;
      for (PetscInt b = 0; b < K; b++) {
        const PetscReal *db = &e->dmu_batch[(size_t)b * M * P];
        d[b]                = db[mab * P + p] - db[ma * P + p] * e->mu[mb] - e->mu[ma] * db[mb * P + p];
      }
      for (PetscInt b = 0; b < K; b++) mean += (d[b] - d[0]) / K; /* shifted: identical batches (exact route) give 0 exactly */
      mean += d[0];
      for (PetscInt b = 0; b < K; b++) ss += (d[b] - mean) * (d[b] - mean);
      dse[p] = f * PetscSqrtReal(ss / ((double)K * (K - 1)));
    }
  PetscCall(PetscFree(d));
  PetscFunctionReturn(0);
}

/* /gradient/correlation{,_stderr}/<A>_<B> [T x L] and correlation_gradient{,_stderr}/<A>_<B> [T x L x P]
   (NaN where t_i + tau_l is not sampled), attribute lags. */
static PetscErrorCode StgssaEvaluatorWriteCorrelation(StgssaEvaluator e, hid_t g)
{
  const StgssaCorrelation *c = e->smp.corr;
  const PetscInt           T = e->smp.nsample, P = e->P;

  PetscFunctionBegin;
  for (PetscInt q = 0; q < c->npair; q++) {
    const PetscInt     l0 = c->lag_ptr[q], L = c->lag_ptr[q + 1] - l0;
    static const char *grp[4] = {"correlation", "correlation_stderr", "correlation_gradient", "correlation_gradient_stderr"};
    char               pname[2 * STGSSA_NAME_MAX + 8], name[2 * STGSSA_NAME_MAX + 64];
    double            *v[4];
    PetscCall(StgssaCorrelationPairName(c, q, pname, sizeof(pname)));
    PetscCall(PetscMalloc4(T * L, &v[0], T * L, &v[1], T * L * P, &v[2], T * L * P, &v[3]));
    for (PetscInt i = 0; i < T; i++)
      for (PetscInt l = 0; l < L; l++) {
        const PetscInt k = c->prod[(l0 + l) * T + i], r = i * L + l;
        if (k < 0) {
          v[0][r] = v[1][r] = NAN;
          for (PetscInt p = 0; p < P; p++) v[2][r * P + p] = v[3][r * P + p] = NAN;
        } else PetscCall(StgssaEvaluatorGetCorrelation(e, k, &v[0][r], &v[2][r * P], &v[1][r], &v[3][r * P]));
      }
    for (int h = 0; h < 4; h++) {
      hsize_t dims[3] = {(hsize_t)T, (hsize_t)L, (hsize_t)P};
      hid_t   dset;
      PetscCall(PetscSNPrintf(name, sizeof(name), "%s/%s", grp[h], pname));
      PetscCall(StgssaH5WriteDoubles(g, name, h < 2 ? 2 : 3, dims, v[h]));
      PetscCallHDF5(dset = H5Dopen2(g, name, H5P_DEFAULT));
      PetscCall(StgssaH5WriteAttrDoubles(dset, "lags", (hsize_t)L, &c->lags[l0]));
      PetscCallHDF5(H5Dclose(dset));
    }
    PetscCall(PetscFree4(v[0], v[1], v[2], v[3]));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorWriteHDF5(StgssaEvaluator e, hid_t file)
{
  const PetscInt T = e->smp.nsample, P = e->P;
  hid_t          g;
  double        *mom, *dmom, *dc, *sdm;

  PetscFunctionBegin;
  PetscCheck(e->done, PETSC_COMM_SELF, PETSC_ERR_ORDER, "Call StgssaEvaluatorEvaluate() first");
  PetscCallHDF5(g = H5Gcreate2(file, "gradient", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(StgssaH5WriteAttrStrings(g, "fit_names", P, (const char *const *)e->fit_names));
  PetscCall(StgssaH5WriteAttrString(g, "estimator", StgssaGradientTypes[e->type]));
  PetscCall(StgssaH5WriteAttrDouble(g, "temperature", e->lambda));
  PetscCall(StgssaH5WriteAttrInt64(g, "ntraj_grad", e->ntraj_grad));
  PetscCall(StgssaH5WriteAttrInt64(g, "events", e->events));
  PetscCall(StgssaH5WriteAttrInt64(g, "absorbed_trajectories", e->nabsorbed));
  PetscCall(StgssaH5WriteAttrInt64(g, "capped_trajectories", e->ncapped));
  {
    hsize_t dims[1] = {(hsize_t)P};
    PetscCall(StgssaH5WriteDoubles(g, "theta", 1, dims, e->theta));
    dims[0] = (hsize_t)T;
    PetscCall(StgssaH5WriteDoubles(g, "times", 1, dims, e->smp.sample_times));
  }
  PetscCall(PetscMalloc4(T * 3, &mom, T * 3 * P, &dmom, 3 * P, &dc, T * 3 * P, &sdm));
  for (PetscInt o = 0; o < e->smp.nobs; o++) {
    char name[STGSSA_NAME_MAX + 32];
    for (PetscInt i = 0; i < T; i++) {
      PetscCall(StgssaEvaluatorGetMoments(e, i, o, &mom[3 * i], dc));
      PetscCall(PetscArraycpy(&dmom[i * 3 * P], dc, 3 * P));
      PetscCall(StgssaEvaluatorMomentsStderr(e, i, o, &sdm[i * 3 * P]));
    }
    {
      hsize_t dims[3] = {(hsize_t)T, 3, (hsize_t)P};
      PetscCall(PetscSNPrintf(name, sizeof(name), "moments/%s", e->smp.obs_names[o]));
      PetscCall(StgssaH5WriteDoubles(g, name, 2, dims, mom));
      PetscCall(PetscSNPrintf(name, sizeof(name), "moments_gradient/%s", e->smp.obs_names[o]));
      PetscCall(StgssaH5WriteDoubles(g, name, 3, dims, dmom));
      PetscCall(PetscSNPrintf(name, sizeof(name), "moments_gradient_stderr/%s", e->smp.obs_names[o]));
      PetscCall(StgssaH5WriteDoubles(g, name, 3, dims, sdm));
    }
  }
  PetscCall(PetscFree4(mom, dmom, dc, sdm));
  if (e->smp.corr) PetscCall(StgssaEvaluatorWriteCorrelation(e, g));
  PetscCallHDF5(H5Gclose(g));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaEvaluatorDestroy(StgssaEvaluator *ev)
{
  StgssaEvaluator e = *ev;

  PetscFunctionBegin;
  if (!e) PetscFunctionReturn(0);
  PetscCall(StgssaEvaluatorFreeSetUp(e));
  PetscCall(StgssaStringListFree(&e->P, &e->fit_names));
  PetscCall(PetscFree(*ev));
  PetscFunctionReturn(0);
}
