/* SPDX-License-Identifier: BSD-2-Clause */
/* StgssaOptimizer: TAO over the log-rates, history, checkpoints and restart; affine constraints
   between log-rates (-stgssa_log_constraint). */
#include <stgssa/stgssa.h>
#include <stgssa/optimizer.h>
#include <stgssa/adam.h>
#include <stgssa/fisher.h>
#include <stgssa/run.h>
#include <stgssa/profile.h>
#include <stgssa/schedule.h>
#include <ctype.h>

/* exact-route defaults (-tao_type blmvm unless given): stop when the relative loss change over
   STGSSA_FLAT_ITS iterations is below STGSSA_FLAT_RTOL (a flat valley: confounded rates), or
   the gradient norm falls below STGSSA_EXACT_GRTOL relative to the loss, or after
   STGSSA_EXACT_MAXIT iterations */
#define STGSSA_FLAT_ITS    5
#define STGSSA_FLAT_RTOL   1e-9
#define STGSSA_EXACT_GRTOL 1e-8
#define STGSSA_EXACT_MAXIT 500

/* Stall rule of the stochastic route (StgssaScheduleStall): iterations without a new lowest loss before the sample size grows. */
#define STGSSA_STALL_ITS 3

/* StgssaOptimizerView lists the fitted rates up to 2 x this many, else the first this many. */
#define STGSSA_VIEW_MAX 50

struct _p_StgssaOptimizer {
  MPI_Comm        comm;
  StgssaModel     model;
  StgssaEnsemble  ens;
  StgssaEvaluator ev;
  StgssaObjective obj;
  Tao             tao;
  Vec             X, G, XL, XU; /* free log-rates phi and their gradient: all Q entries on rank 0 */
  PetscBool       tao_monitor;  /* -tao_monitor given: TAO prints the iterations */
  /* scratch of SetUp and of the option parsers, held here so that an error midway leaks nothing (Destroy frees it) */
  PetscReal      *su_theta, *su_lo, *su_hi, *su_phi, *parse_coef;
  PetscInt       *parse_dep_of, *parse_q_of, *parse_tp, *parse_pos;
  PetscInt       *name_sorted; /* [P] fitted indices in strcmp order of their names: O(log P) look-ups */
  const char *const *name_of;  /* the fitted names name_sorted sorts (the evaluator's) */
  char           *bounds_text; /* -stgssa_bounds, any length */
  PetscBool      *is_dep;      /* [P] set by -stgssa_log_constraint */
  char           *parse_copy;
  Mat             H;            /* Fisher information per cell in phi, Q x Q dense on rank 0 (likelihood loss: TAOFISHER's Hessian) */
  PetscInt        P;             /* fitted log-rates theta */
  PetscInt        Q;             /* free log-rates phi: P minus the dependents of -stgssa_log_constraint */
  /* theta = B phi + c: free theta entries are phi entries (B row = unit vector, c = 0); a
     dependent d has theta_d = c_d + sum_j coef_j phi_j over its terms (rows dep_start[i]..) */
  char            constraint[4096];
  PetscInt       *free_p;   /* [Q] theta index of free entry q */
  PetscInt       *dep_p;    /* [ndep] theta index of dependent i */
  PetscInt        ndep;
  PetscInt       *dep_start; /* [ndep+1] offsets into term_q, term_c */
  PetscInt       *term_q;    /* free index of each term */
  PetscReal      *term_c;    /* coefficient of each term */
  PetscReal      *dep_c0;    /* [ndep] constant of dependent i */
  PetscReal      *phi_eval, *gphi_eval; /* [Q] last evaluation in free coordinates */
  PetscBool       crn;           /* common random numbers: the same draws every evaluation */
  PetscInt        nevals;        /* objective evaluations so far: the Philox iteration counter */
  PetscInt        ckpt_interval; /* iterations between checkpoints (0: none) */
  PetscInt        hist_every;    /* -stgssa_history_every K: /history's P-wide rows at iterations 0, K, 2K, ... and the last */
  char            output[PETSC_MAX_PATH_LEN];
  char            restart[PETSC_MAX_PATH_LEN];
  char            bounds[4096]; /* -stgssa_bounds as -help shows it (the value used is bounds_text) */
  PetscBool       setup;
  /* last evaluation (every rank) */
  PetscReal *theta_eval, *grad_eval, *se_eval, loss_eval;
  PetscInt   eval_index; /* evaluation index (random-number iteration) that produced them */
  /* history, one entry per TAO iteration (every rank) */
  PetscInt   nhist, cap;
  PetscReal *h_loss;
  /* the P-wide rows (theta, gradient, stderr) of the entries h_row[0..nrow-1] (ascending): every
     hmem_every-th entry and the last (hmem_every = 1 when the schedule runs: it reads every row) */
  PetscInt   nrow, rcap, hmem_every;
  PetscReal *h_theta, *h_grad, *h_se;
  int64_t   *h_row;
  /* the entry of least loss (first of equal ones) and the same before the last entry (the checkpoint's) */
  PetscInt   best_i, best_prev_i;
  PetscReal  best_loss, best_prev_loss, *best_theta, *best_prev_theta, *ck_best_theta;
  int64_t   *h_ends; /* [3*cap]: SSA events, absorbed and capped trajectories of the evaluation of each entry (-1: unknown, a restart from an older checkpoint) */
  PetscReal *h_imb;  /* [cap]: SSA events per rank max/mean of the evaluation of each entry (load balance; NaN: unknown, a restart from an older checkpoint) */
  /* restart state read from a checkpoint */
  PetscBool  restarted;
  PetscInt   restart_step;
  PetscReal *restart_m, *restart_v;
  /* result */
  PetscReal  t_start; /* MPI_Wtime() when Solve began: /run wall_seconds */
  PetscReal *rates;
  PetscBool  solved;
  /* route: exact (FSP) objective or stochastic */
  PetscBool  exact;
  char       optline[512];  /* the optimizer and its stopping rules, printed when Solve starts */
  PetscBool  flat_stop;     /* exact route, default tolerances: stop when the loss stalls */
  PetscReal  flat_f[STGSSA_FLAT_ITS + 1]; /* losses of the last iterations (ring) */
  PetscInt   flat_n;
  PetscBool  flat_stopped;
  PetscReal  time_limit; /* -stgssa_time_limit: seconds of solving (0: none) */
  PetscBool  time_up;    /* the limit was reached (decided on rank 0, broadcast) */
  /* trial points the exact objective could not evaluate (FSP failure), rejected to TAO */
  PetscInt   nreject;
  PetscReal  f_good;        /* the loss of the last evaluation that succeeded */
  PetscBool  last_rejected;
  char       reject_msg[1024]; /* the first rejection */
  StgssaProfile prof;          /* -stgssa_profile (src/opt/profile.c) */
  /* stochastic route (schedule.h): norm-test sample size, decay, averaging, stopping rule */
  PetscBool      adaptive, average;           /* -stgssa_adaptive_ntraj, -stgssa_average */
  PetscBool      adaptive_set, average_set;   /* given by the user (else: on for adam with a stochastic gradient) */
  PetscInt       ntraj_max, stop_window;      /* -stgssa_ntraj_max (0: 16 x -stgssa_ntraj), -stgssa_stop_window */
  PetscReal      eta, stop_nse, decay_k0, result_factor; /* -stgssa_norm_test_eta, -stgssa_stop_nse, default -tao_adam_decay_steps, -stgssa_result_ntraj_factor */
  PetscBool      sched_on;                    /* the schedule runs (adaptive or average) */
  StgssaSchedule sched;
  PetscBool      stop;                        /* the stopping rule holds */
  int64_t       *h_ntraj;                     /* [cap] trajectories of the evaluation of each history entry */
  int64_t        restart_ntraj;               /* trajectories of the checkpoint's evaluation (-1: older checkpoint) */
  PetscReal     *theta_res;                   /* [P] the result: the averaged iterate, or the last one */
  PetscInt       avg_from;                    /* first averaged iterate (-1: the result is the last iterate) */
  PetscReal      res_loss;                    /* loss at the result */
  int64_t        res_ntraj, res_eval;         /* trajectories and evaluation index of the re-estimate (-1: none) */
  /* an analytic problem instead of ev/obj (StgssaOptimizerSetAnalyticProblem; an_fn NULL: none) */
  StgssaOptimizerAnalyticFn an_fn;
  void                     *an_ctx;
  char                    **an_names;
  PetscReal                *an_theta; /* [P] the point of the next evaluation */
  PetscInt                  an_P, an_seed, an_iter;
  PetscInt64                an_ntraj, an_ntraj0;
};

/* The problem behind the optimizer: the evaluator and objective, or the analytic function. */
static PetscErrorCode StgssaOptimizerGetFit(StgssaOptimizer o, PetscInt *P, const char *const **names)
{
  PetscFunctionBegin;
  if (o->an_fn) {
    if (P) *P = o->an_P;
    if (names) *names = (const char *const *)o->an_names;
  } else PetscCall(StgssaEvaluatorGetFit(o->ev, P, names));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaOptimizerGetSampling(StgssaOptimizer o, StgssaSampling *smp)
{
  PetscFunctionBegin;
  if (o->an_fn) {
    PetscCall(PetscMemzero(smp, sizeof(*smp)));
    smp->seed  = o->an_seed;
    smp->ntraj = (PetscInt)o->an_ntraj0;
  } else PetscCall(StgssaEvaluatorGetSampling(o->ev, smp));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaOptimizerProblemSetTheta(StgssaOptimizer o, const PetscReal theta[])
{
  PetscFunctionBegin;
  if (o->an_fn) PetscCall(PetscArraycpy(o->an_theta, theta, o->an_P));
  else PetscCall(StgssaEvaluatorSetTheta(o->ev, theta));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaOptimizerProblemGetTheta(StgssaOptimizer o, PetscReal theta[])
{
  PetscFunctionBegin;
  if (o->an_fn) PetscCall(PetscArraycpy(theta, o->an_theta, o->an_P));
  else PetscCall(StgssaEvaluatorGetTheta(o->ev, theta));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaOptimizerProblemSetIteration(StgssaOptimizer o, PetscInt it)
{
  PetscFunctionBegin;
  if (o->an_fn) o->an_iter = it;
  else PetscCall(StgssaEvaluatorSetIteration(o->ev, it));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaOptimizerProblemSetNumTrajectories(StgssaOptimizer o, PetscInt64 n)
{
  PetscFunctionBegin;
  if (o->an_fn) o->an_ntraj = n;
  else PetscCall(StgssaEvaluatorSetNumTrajectories(o->ev, n));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaOptimizerProblemGetNumTrajectories(StgssaOptimizer o, PetscInt64 *n)
{
  PetscFunctionBegin;
  if (o->an_fn) *n = o->an_ntraj;
  else PetscCall(StgssaEvaluatorGetNumTrajectories(o->ev, n));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaOptimizerProblemGradientType(StgssaOptimizer o, StgssaGradientType *gt)
{
  PetscFunctionBegin;
  if (o->an_fn) *gt = STGSSA_GRADIENT_SCORE;
  else PetscCall(StgssaEvaluatorGetGradientType(o->ev, gt));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaOptimizerModelText(StgssaOptimizer o, const char **text)
{
  const StgssaModelDef *def;

  PetscFunctionBegin;
  *text = NULL;
  if (o->an_fn) *text = "analytic problem (StgssaOptimizerSetAnalyticProblem)";
  else {
    PetscCall(StgssaModelGetDef(o->model, &def));
    *text = def->text ? def->text : "";
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOptimizerSetAnalyticProblem(StgssaOptimizer o, PetscInt P, const char *const names[], const PetscReal theta0[], PetscInt seed, PetscInt64 ntraj, StgssaOptimizerAnalyticFn fn, void *ctx)
{
  PetscFunctionBegin;
  PetscCheck(P > 0 && fn && ntraj >= 2 && !o->an_fn && !o->ev, o->comm, PETSC_ERR_ARG_WRONG, "StgssaOptimizerSetAnalyticProblem: expected P > 0, a function, ntraj >= 2, once and without SetProblem");
  o->an_fn  = fn;
  o->an_ctx = ctx;
  o->an_P   = P;
  o->an_seed  = seed;
  o->an_ntraj = o->an_ntraj0 = ntraj;
  PetscCall(PetscCalloc1(P, &o->an_names));
  for (PetscInt p = 0; p < P; p++) PetscCall(PetscStrallocpy(names[p], &o->an_names[p]));
  PetscCall(PetscMalloc1(P, &o->an_theta));
  PetscCall(PetscArraycpy(o->an_theta, theta0, P));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOptimizerCreate(MPI_Comm comm, StgssaOptimizer *opt)
{
  StgssaOptimizer o;

  PetscFunctionBegin;
  PetscCall(StgssaInitializePackage());
  PetscCall(PetscNew(&o));
  o->comm = comm;
  PetscCall(PetscStrncpy(o->output, "stgssa_out.h5", sizeof(o->output)));
  o->eta           = 1.0;
  o->stop_window   = 20;
  o->stop_nse      = 2.0;
  o->decay_k0      = 20.0;
  o->result_factor = 4.0;
  o->restart_ntraj = -1;
  o->hist_every    = 1;
  o->hmem_every    = 1;
  o->best_i        = -1;
  o->best_prev_i   = -1;
  o->avg_from      = -1;
  o->res_ntraj     = -1;
  o->res_eval      = -1;
  *opt = o;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOptimizerSetProblem(StgssaOptimizer o, StgssaModel model, StgssaEnsemble ens, StgssaEvaluator ev, StgssaObjective obj)
{
  PetscFunctionBegin;
  o->model = model;
  o->ens   = ens;
  o->ev    = ev;
  o->obj   = obj;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOptimizerSetOutput(StgssaOptimizer o, const char path[])
{
  PetscFunctionBegin;
  PetscCall(PetscStrncpy(o->output, path, sizeof(o->output)));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOptimizerSetFromOptions(StgssaOptimizer o)
{
  PetscFunctionBegin;
  PetscOptionsBegin(o->comm, NULL, "Optimization options", "StgssaOptimizer");
  PetscCall(PetscOptionsBool("-stgssa_crn", "Common random numbers: the same draws at every evaluation (deterministic objective)", "StgssaOptimizer", o->crn, &o->crn, NULL));
  PetscCall(PetscOptionsString("-stgssa_log_constraint", "Affine constraints between fitted log-rates: DEP=TERM+TERM-...;... with TERM = NAME, NUMBER*NAME or NUMBER (log k_DEP = c0 + sum c_j log k_j)", "StgssaOptimizer", o->constraint, o->constraint, sizeof(o->constraint), NULL));
  PetscCall(PetscOptionsString("-stgssa_bounds", "Bounds on fitted rates: name=lo:hi,... (either side may be empty)", "StgssaOptimizer", o->bounds, o->bounds, sizeof(o->bounds), NULL));
  { /* the value itself, of any length (a bound for each of 10^4 fitted names is ~200 kB) */
    const char *val = NULL;
    PetscBool   set = PETSC_FALSE;
    PetscCall(PetscOptionsFindPair(NULL, NULL, "-stgssa_bounds", &val, &set));
    PetscCall(PetscFree(o->bounds_text));
    if (set && val) PetscCall(PetscStrallocpy(val, &o->bounds_text));
  }
  PetscCall(PetscOptionsBoundedInt("-stgssa_checkpoint_interval", "Write a checkpoint every K iterations (0: only at the end)", "StgssaOptimizer", o->ckpt_interval, &o->ckpt_interval, NULL, 0));
  PetscCall(PetscOptionsInt("-stgssa_history_every", "Write /history's per-parameter rows (theta, gradient, gradient_stderr) every K iterations and the last (/history/iteration lists them); the scalar history stays every iteration", "StgssaOptimizer", o->hist_every, &o->hist_every, NULL));
  PetscCall(PetscOptionsString("-stgssa_restart", "Continue from the /checkpoint of this output file", "StgssaOptimizer", o->restart, o->restart, sizeof(o->restart), NULL));
  PetscCall(PetscOptionsBool("-stgssa_adaptive_ntraj", "Grow the trajectories per evaluation by the norm test (default: on for -tao_type adam with a stochastic gradient without -stgssa_crn)", "StgssaOptimizer", o->adaptive, &o->adaptive, &o->adaptive_set));
  PetscCall(PetscOptionsBoundedInt("-stgssa_ntraj_max", "Cap of the trajectories per evaluation (0: 16 x -stgssa_ntraj)", "StgssaOptimizer", o->ntraj_max, &o->ntraj_max, NULL, 0));
  PetscCall(PetscOptionsReal("-stgssa_norm_test_eta", "Norm test: double the trajectories when sum_p se_p^2 > eta^2 ||g||^2", "StgssaOptimizer", o->eta, &o->eta, NULL));
  PetscCall(PetscOptionsBool("-stgssa_average", "Result = average of the later iterates (Polyak-Ruppert, log-rates) with its loss re-estimated (default: as -stgssa_adaptive_ntraj)", "StgssaOptimizer", o->average, &o->average, &o->average_set));
  PetscCall(PetscOptionsBoundedInt("-stgssa_stop_window", "Stop when the mean gradient over the averaging window at the cap (at least W iterations) is within -stgssa_stop_nse standard errors of 0, rms over the log-rates (0: only -tao_max_it)", "StgssaOptimizer", o->stop_window, &o->stop_window, NULL, 0));
  PetscCall(PetscOptionsReal("-stgssa_stop_nse", "Stopping rule: root-mean-square z-score of the window's mean gradient <= c", "StgssaOptimizer", o->stop_nse, &o->stop_nse, NULL));
  PetscCall(PetscOptionsReal("-stgssa_time_limit", "Stop the fit after this many seconds of solving and form the result as at any stop (0: no limit)", "StgssaOptimizer", o->time_limit, &o->time_limit, NULL));
  PetscCall(PetscOptionsReal("-stgssa_result_ntraj_factor", "Re-estimate the loss at the averaged result with this multiple of the final trajectories, fresh draws (0: no re-estimate)", "StgssaOptimizer", o->result_factor, &o->result_factor, NULL));
  PetscOptionsEnd();
  PetscCheck(o->hist_every >= 1, o->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_history_every %" PetscInt_FMT ": expected an integer >= 1 (1: every iteration)", o->hist_every);
  PetscCheck(o->time_limit >= 0 && o->time_limit < PETSC_MAX_REAL, o->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_time_limit %g: expected seconds >= 0 (0: no limit)", (double)o->time_limit);
  PetscCheck(o->eta > 0 && PetscIsNormalReal(o->eta), o->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_norm_test_eta %g: expected a finite number > 0", (double)o->eta);
  PetscCheck(o->stop_nse > 0 && PetscIsNormalReal(o->stop_nse), o->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_stop_nse %g: expected a finite number > 0", (double)o->stop_nse);
  PetscCheck(o->result_factor == 0 || (o->result_factor >= 1 && PetscIsNormalReal(o->result_factor)), o->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_result_ntraj_factor %g: expected 0 or a finite number >= 1", (double)o->result_factor);
  if (!o->prof) PetscCall(StgssaProfileCreate(o->comm, &o->prof));
  PetscCall(StgssaProfileSetFromOptions(o->prof));
  { /* -help: list the TAO options too (with the default type adam), before any Tao exists */
    PetscBool help;
    PetscCall(PetscOptionsHasHelp(NULL, &help));
    if (help) {
      Tao tao;
      PetscCall(TaoCreate(o->comm, &tao));
      PetscCall(TaoSetType(tao, "adam"));
      PetscCall(TaoSetFromOptions(tao));
      PetscCall(TaoDestroy(&tao));
    }
  }
  PetscFunctionReturn(0);
}

/* The fitted names sorted once (O(P log P)), so that the options naming them (-stgssa_bounds,
   -stgssa_log_constraint) cost O(log P) per name instead of O(P): at P = 10^4 a bound per name
   was 10^8 string compares. */
static const char *const *stgssa_sort_names; /* qsort has no context argument; SetUp is not reentrant */
static int StgssaOptimizerNameCmp(const void *a, const void *b)
{
  const PetscInt i = *(const PetscInt *)a, j = *(const PetscInt *)b;
  const int      c = strcmp(stgssa_sort_names[i], stgssa_sort_names[j]);
  return c ? c : (i > j) - (i < j);
}

static PetscErrorCode StgssaOptimizerIndexNames(StgssaOptimizer o, const char *const *names)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(o->name_sorted));
  PetscCall(PetscMalloc1(o->P, &o->name_sorted));
  for (PetscInt p = 0; p < o->P; p++) o->name_sorted[p] = p;
  stgssa_sort_names = names;
  qsort(o->name_sorted, (size_t)o->P, sizeof(PetscInt), StgssaOptimizerNameCmp);
  stgssa_sort_names = NULL;
  o->name_of = names;
  PetscFunctionReturn(0);
}

/* Index of a fitted name, or -1 (the first of equal names: -stgssa_fit has none). */
static PetscInt StgssaOptimizerFindFit(StgssaOptimizer o, const char *const *names, const char *name)
{
  PetscInt lo = 0, hi = o->P; /* the first position whose name is >= name */

  if (!o->name_sorted || o->name_of != names) { /* no index: linear search */
    for (PetscInt p = 0; p < o->P; p++)
      if (!strcmp(names[p], name)) return p;
    return -1;
  }
  while (lo < hi) {
    const PetscInt mid = lo + (hi - lo) / 2;
    if (strcmp(names[o->name_sorted[mid]], name) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < o->P && !strcmp(names[o->name_sorted[lo]], name) ? o->name_sorted[lo] : -1;
}

/* Parse -stgssa_bounds "k_on=1e-3:1e2,k_off=:10" into log-bounds lo/hi (length P). */
static PetscErrorCode StgssaOptimizerParseBounds(StgssaOptimizer o, const char *const *names, PetscReal *lo, PetscReal *hi)
{
  char *copy, *item, *save = NULL;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < o->P; p++) {
    lo[p] = PETSC_NINFINITY;
    hi[p] = PETSC_INFINITY;
  }
  if (!o->bounds_text || !o->bounds_text[0]) PetscFunctionReturn(0);
  PetscCall(PetscStrallocpy(o->bounds_text, &o->parse_copy));
  copy = o->parse_copy;
  for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    char    *eq = strchr(item, '='), *colon, *end;
    PetscInt p;
    double   v;
    PetscCheck(eq && (colon = strchr(eq, ':')), o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_bounds: found '%s'; expected name=lo:hi", item);
    *eq    = 0;
    *colon = 0;
    p = StgssaOptimizerFindFit(o, names, item);
    PetscCheck(p >= 0, o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_bounds: '%s' is not a fitted parameter (-stgssa_fit)", item);
    PetscCheck(!o->is_dep || !o->is_dep[p], o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_bounds: '%s' is set by -stgssa_log_constraint; bound the free parameters of its constraint instead", item);
    if (eq[1]) {
      v = strtod(eq + 1, &end);
      PetscCheck(*end == 0 && v > 0 && PetscIsNormalReal(v), o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_bounds: lower bound '%s' of %s is not a positive number", eq + 1, item);
      lo[p] = PetscLogReal(v);
    }
    if (colon[1]) {
      v = strtod(colon + 1, &end);
      PetscCheck(*end == 0 && v > 0 && PetscIsNormalReal(v), o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_bounds: upper bound '%s' of %s is not a positive number", colon + 1, item);
      hi[p] = PetscLogReal(v);
    }
    PetscCheck(lo[p] < hi[p], o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_bounds: empty interval for %s", item);
  }
  PetscCall(PetscFree(o->parse_copy));
  PetscFunctionReturn(0);
}

/* Copy a rank-0-owned Vec of free coordinates to every rank (buf, length Q). */
static PetscErrorCode StgssaOptimizerBcastVec(StgssaOptimizer o, Vec v, PetscReal *buf)
{
  PetscMPIInt        rank;
  const PetscScalar *a;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(o->comm, &rank));
  PetscCall(VecGetArrayRead(v, &a));
  if (rank == 0)
    for (PetscInt q = 0; q < o->Q; q++) buf[q] = PetscRealPart(a[q]);
  PetscCall(VecRestoreArrayRead(v, &a));
  PetscCallMPI(MPI_Bcast(buf, (PetscMPIInt)o->Q, MPIU_REAL, 0, o->comm));
  PetscFunctionReturn(0);
}

/* Set a rank-0-owned Vec of free coordinates from buf (length Q, identical on every rank). */
static PetscErrorCode StgssaOptimizerSetVec(StgssaOptimizer o, const PetscReal *buf, Vec v)
{
  PetscMPIInt  rank;
  PetscScalar *a;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(o->comm, &rank));
  PetscCall(VecGetArray(v, &a));
  if (rank == 0)
    for (PetscInt q = 0; q < o->Q; q++) a[q] = buf[q];
  PetscCall(VecRestoreArray(v, &a));
  PetscFunctionReturn(0);
}

/* theta = B phi + c (every rank). */
static void StgssaOptimizerExpand(StgssaOptimizer o, const PetscReal *phi, PetscReal *theta)
{
  for (PetscInt q = 0; q < o->Q; q++) theta[o->free_p[q]] = phi[q];
  for (PetscInt i = 0; i < o->ndep; i++) {
    PetscReal t = o->dep_c0[i];
    for (PetscInt k = o->dep_start[i]; k < o->dep_start[i + 1]; k++) t += o->term_c[k] * phi[o->term_q[k]];
    theta[o->dep_p[i]] = t;
  }
}

/* gphi = B^T gtheta: a free entry collects its own derivative plus coef_j times the derivative of
   every dependent that has it as a term (chain rule). Without constraints gphi = gtheta exactly. */
static void StgssaOptimizerReduceGradient(StgssaOptimizer o, const PetscReal *gtheta, PetscReal *gphi)
{
  for (PetscInt q = 0; q < o->Q; q++) gphi[q] = gtheta[o->free_p[q]];
  for (PetscInt i = 0; i < o->ndep; i++)
    for (PetscInt k = o->dep_start[i]; k < o->dep_start[i + 1]; k++) gphi[o->term_q[k]] += o->term_c[k] * gtheta[o->dep_p[i]];
}


/* A name of -stgssa_log_constraint that must be a fitted parameter: its index, or a clear error
   (unknown to the model, or a model parameter that is not fitted). */
static PetscErrorCode StgssaOptimizerConstraintName(StgssaOptimizer o, const char *const *names, const char *name, const char *what, const char *dep, const char *rhs, PetscInt *p)
{
  const StgssaModelDef *def = NULL;

  PetscFunctionBegin;
  *p = StgssaOptimizerFindFit(o, names, name);
  if (*p >= 0) PetscFunctionReturn(0);
  if (!o->an_fn) PetscCall(StgssaModelGetDef(o->model, &def));
  PetscCheck(!o->an_fn && StgssaModelDefFindParam(def, name) >= 0, o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_log_constraint: unknown parameter '%s' in '%s=%s'", name, dep, rhs);
  SETERRQ(o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_log_constraint: %s '%s' of '%s=%s' is not a fitted parameter (-stgssa_fit)", what, name, dep, rhs);
}

/* Parse -stgssa_log_constraint "DEP=TERM+TERM-...;..." into the affine map theta = B phi + c.
   Every rank parses the same string, so every rank holds the map. Whitespace is ignored. A TERM
   is NAME (coefficient 1), NUMBER*NAME or NUMBER (added to the constant); repeated names add up.
   DEP and every NAME must be fitted; a dependent may not be a term of any constraint. */
static PetscErrorCode StgssaOptimizerParseConstraints(StgssaOptimizer o, const char *const *names)
{
  char      *copy, *item, *save = NULL;
  PetscInt  *dep_of, *q_of, nterm = 0, cap;
  PetscInt  *pos, *seg, nt = 0, tcap = 16; /* terms while parsing: theta index parse_tp[t], coefficient parse_coef[t];
                                             dependent i has t = seg[i]..seg[i+1]-1; pos[p]: term of p in the current one (-1: none) */
  PetscInt   ndep = 0;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(o->P, &o->parse_dep_of, o->P, &o->parse_q_of));
  PetscCall(PetscMalloc1(2 * o->P + 1, &o->parse_pos));
  PetscCall(PetscMalloc1(tcap, &o->parse_tp));
  PetscCall(PetscMalloc1(tcap, &o->parse_coef));
  PetscCall(PetscCalloc1(o->P, &o->is_dep));
  dep_of = o->parse_dep_of;
  q_of   = o->parse_q_of;
  pos    = o->parse_pos;
  seg    = o->parse_pos + o->P;
  PetscCall(PetscMalloc2(o->P, &o->dep_p, o->P, &o->dep_c0));
  for (PetscInt p = 0; p < o->P; p++) dep_of[p] = pos[p] = -1;
  seg[0] = 0;
  /* strip whitespace, but not between two parts of names or numbers ("k1 k2" is an error) */
  PetscCall(PetscStrallocpy(o->constraint, &o->parse_copy));
  copy = o->parse_copy;
  {
    size_t j = 0;
    for (size_t i = 0; copy[i]; i++) {
      if (isspace((unsigned char)copy[i])) {
        size_t k = i;
        while (isspace((unsigned char)copy[k])) k++;
        PetscCheck(!(j > 0 && (isalnum((unsigned char)copy[j - 1]) || copy[j - 1] == '_' || copy[j - 1] == '.') && (isalnum((unsigned char)copy[k]) || copy[k] == '_' || copy[k] == '.')), o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_log_constraint: malformed term at '%s'; expected '+', '-', '*', '=' or ';' between names and numbers", copy + i);
        continue;
      }
      copy[j++] = copy[i];
    }
    copy[j] = 0;
  }
  for (item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
    char    *eq = strchr(item, '='), *s;
    PetscInt d;

    PetscCheck(eq && eq != item && eq[1], o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_log_constraint: found '%s'; expected DEP=TERM+TERM-... (TERM: NAME, NUMBER*NAME or NUMBER)", item);
    *eq = 0;
    PetscCheck(!strchr(eq + 1, '='), o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_log_constraint: '%s=%s' has more than one '='; separate constraints with ';'", item, eq + 1);
    PetscCall(StgssaOptimizerConstraintName(o, names, item, "dependent", item, eq + 1, &d));
    PetscCheck(dep_of[d] < 0, o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_log_constraint: '%s' is the dependent of two constraints", item);
    dep_of[d]         = ndep;
    o->dep_p[ndep]    = d;
    o->dep_c0[ndep]   = 0;
    for (s = eq + 1; *s;) {
      char      *start = s, *end, name[STGSSA_NAME_MAX + 1];
      PetscReal  sign = 1, c = 1;
      PetscBool  hasnum = PETSC_FALSE;
      size_t     len;
      PetscInt   j;

      if (*s == '+' || *s == '-') {
        sign = *s == '-' ? -1 : 1;
        s++;
      } else PetscCheck(s == eq + 1, o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_log_constraint: malformed term at '%s' in '%s=%s'; expected '+' or '-' between terms", s, item, eq + 1);
      if (isdigit((unsigned char)*s) || *s == '.') {
        c = strtod(s, &end);
        PetscCheck(end != s && (PetscIsNormalReal(c) || c == 0), o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_log_constraint: malformed term '%s' in '%s=%s'; expected NAME, NUMBER*NAME or NUMBER", start, item, eq + 1);
        hasnum = PETSC_TRUE;
        s      = end;
        if (*s == '*') s++;
        else {
          PetscCheck(*s == 0 || *s == '+' || *s == '-', o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_log_constraint: malformed term '%s' in '%s=%s'; expected NAME, NUMBER*NAME or NUMBER", start, item, eq + 1);
          o->dep_c0[ndep] += sign * c;
          continue;
        }
      }
      for (len = 0; isalnum((unsigned char)s[len]) || s[len] == '_'; len++) {}
      PetscCheck(len > 0 && !isdigit((unsigned char)s[0]) && len <= STGSSA_NAME_MAX && (s[len] == 0 || s[len] == '+' || s[len] == '-'), o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_log_constraint: malformed term '%s' in '%s=%s'; expected NAME, NUMBER*NAME or NUMBER%s", start, item, eq + 1, hasnum ? " (a name after '*')" : "");
      PetscCall(PetscStrncpy(name, s, len + 1));
      s += len;
      PetscCall(StgssaOptimizerConstraintName(o, names, name, "term", item, eq + 1, &j));
      if (pos[j] < 0) { /* a new name in this constraint (repeated names add up below) */
        if (nt == tcap) {
          tcap *= 2;
          PetscCall(PetscRealloc(sizeof(PetscInt) * tcap, &o->parse_tp));
          PetscCall(PetscRealloc(sizeof(PetscReal) * tcap, &o->parse_coef));
        }
        pos[j]              = nt;
        o->parse_tp[nt]     = j;
        o->parse_coef[nt++] = 0;
      }
      o->parse_coef[pos[j]] += sign * c;
    }
    /* the terms of this constraint in fitted order (the order of the sums of Expand and ReduceGradient) */
    for (PetscInt t = seg[ndep]; t < nt; t++) pos[o->parse_tp[t]] = -1;
    PetscCall(PetscSortIntWithScalarArray(nt - seg[ndep], o->parse_tp + seg[ndep], (PetscScalar *)o->parse_coef + seg[ndep]));
    seg[++ndep] = nt;
  }
  PetscCall(PetscFree(o->parse_copy));
  /* no dependent on a right-hand side; the free coordinates are the fitted names that are not dependents */
  for (PetscInt i = 0; i < ndep; i++)
    for (PetscInt t = seg[i]; t < seg[i + 1]; t++) {
      const PetscInt p = o->parse_tp[t];
      PetscCheck(o->parse_coef[t] == 0 || dep_of[p] < 0, o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_log_constraint: '%s' is a dependent and appears on the right-hand side of the constraint of '%s'", names[p], names[o->dep_p[i]]);
    }
  for (PetscInt i = 0; i < ndep; i++) o->is_dep[o->dep_p[i]] = PETSC_TRUE;
  o->ndep = ndep;
  o->Q    = o->P - ndep;
  PetscCheck(o->Q > 0, o->comm, PETSC_ERR_ARG_WRONG, "-stgssa_log_constraint leaves no free fitted parameter");
  PetscCall(PetscMalloc1(o->Q, &o->free_p));
  for (PetscInt p = 0, q = 0; p < o->P; p++) {
    q_of[p] = -1;
    if (dep_of[p] < 0) {
      q_of[p]       = q;
      o->free_p[q++] = p;
    }
  }
  for (PetscInt t = 0; t < nt; t++) nterm += o->parse_coef[t] != 0;
  cap = nterm ? nterm : 1;
  PetscCall(PetscMalloc3(ndep + 1, &o->dep_start, cap, &o->term_q, cap, &o->term_c));
  nterm = 0;
  for (PetscInt i = 0; i < ndep; i++) {
    o->dep_start[i] = nterm;
    for (PetscInt t = seg[i]; t < seg[i + 1]; t++)
      if (o->parse_coef[t] != 0) {
        o->term_q[nterm]   = q_of[o->parse_tp[t]];
        o->term_c[nterm++] = o->parse_coef[t];
      }
  }
  o->dep_start[ndep] = nterm;
  PetscCall(PetscFree(o->parse_coef));
  PetscCall(PetscFree(o->parse_tp));
  PetscCall(PetscFree(o->parse_pos));
  PetscCall(PetscFree2(o->parse_dep_of, o->parse_q_of));
  PetscFunctionReturn(0);
}

/* One evaluation and its loss. Any error (a NaN/Inf guard of the engine, the loss, the gradient)
   is re-raised with the optimizer iteration in front of its message. */
static PetscErrorCode StgssaOptimizerEvaluate_Private(StgssaOptimizer o)
{
  const char *const *names;

  PetscFunctionBegin;
  if (o->an_fn) PetscCall(o->an_fn(o->an_theta, o->an_iter, o->an_ntraj, &o->loss_eval, o->grad_eval, o->se_eval, o->an_ctx));
  else {
    PetscCall(StgssaEvaluatorEvaluateForLoss(o->ev)); /* exact route: adjoint gradient */
    PetscCall(StgssaObjectiveCompute(o->obj, o->ev, &o->loss_eval, o->grad_eval, o->se_eval));
  }
  PetscCall(StgssaOptimizerGetFit(o, NULL, &names));
  PetscCheck(!PetscIsInfOrNanReal(o->loss_eval), PETSC_COMM_SELF, PETSC_ERR_FP, "the loss is %.6g", (double)o->loss_eval);
  for (PetscInt p = 0; p < o->P; p++)
    PetscCheck(!PetscIsInfOrNanReal(o->grad_eval[p]), PETSC_COMM_SELF, PETSC_ERR_FP, "the loss gradient by log %s is %.6g (loss %.6g, log-rate %.6g)", names[p], (double)o->grad_eval[p], (double)o->loss_eval, (double)o->theta_eval[p]);
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaOptimizerEvaluate(StgssaOptimizer o, Tao tao)
{
  PetscErrorCode ierr;
  PetscInt       its;
  char           msg[4096];

  PetscFunctionBegin;
  PetscCall(TaoGetIterationNumber(tao, &its));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = StgssaOptimizerEvaluate_Private(o);
  PetscCall(PetscPopErrorHandler());
  o->last_rejected = PETSC_FALSE;
  if (!ierr) {
    o->f_good = o->loss_eval;
    PetscFunctionReturn(0);
  }
  PetscCall(StgssaErrorText(ierr, msg, sizeof(msg)));
  /* A trial point never ends an exact fit: the FSP at an extreme parameter set (mass leaving the
     projection, a failed integration, a non-finite value) is rejected to TAO as a loss well above
     the last good one, f_good + 10 (1 + |f_good|), with gradient 0: a line search answers it with
     a shorter step. (+inf is no good: PETSc 3.18's More-Thuente search interpolates with it and
     fails; measured, DIVERGED_LS_FAILURE at the first rejection.) The start point is no trial point: its errors
     are input errors. Every rank fails alike (the same FSP), so the verdict is collective. */
  if (o->exact && o->nevals > 0 && ierr != PETSC_ERR_MEM) {
    if (!o->nreject++) PetscCall(PetscSNPrintf(o->reject_msg, sizeof(o->reject_msg), "iteration %" PetscInt_FMT " (evaluation %" PetscInt_FMT "): %s", its, o->nevals, msg));
    o->last_rejected = PETSC_TRUE;
    o->loss_eval     = o->f_good + 10 * (1 + PetscAbsReal(o->f_good));
    for (PetscInt p = 0; p < o->P; p++) o->grad_eval[p] = o->se_eval[p] = 0.0;
    PetscFunctionReturn(0);
  }
  SETERRQ(PETSC_COMM_SELF, ierr, "optimizer iteration %" PetscInt_FMT " (evaluation %" PetscInt_FMT "): %s", its, o->nevals, msg);
}

/* Exact route: TAO's default test (tolerances, iteration cap), then the stall rule: stop when
   |f_k - f_{k-n}| <= rtol max(|f_k|, tiny) with n = STGSSA_FLAT_ITS, rtol = STGSSA_FLAT_RTOL (a
   flat valley, where the gradient of confounded rates never gets small relative to the loss). */
static PetscErrorCode StgssaOptimizerConvergenceTest(Tao tao, void *ctx)
{
  StgssaOptimizer    o = (StgssaOptimizer)ctx;
  TaoConvergedReason reason;
  PetscReal          f;
  const PetscInt     n = STGSSA_FLAT_ITS;

  PetscFunctionBegin;
  PetscCall(TaoDefaultConvergenceTest(tao, NULL));
  PetscCall(TaoGetConvergedReason(tao, &reason));
  if (reason == TAO_CONTINUE_ITERATING && o->time_up) PetscCall(TaoSetConvergedReason(tao, TAO_CONVERGED_USER));
  if (reason != TAO_CONTINUE_ITERATING || o->time_up || !o->flat_stop) PetscFunctionReturn(0);
  PetscCall(TaoGetSolutionStatus(tao, NULL, &f, NULL, NULL, NULL, NULL));
  o->flat_f[o->flat_n % (n + 1)] = f;
  o->flat_n++;
  if (o->flat_n > n) {
    const PetscReal f0 = o->flat_f[(o->flat_n - 1 - n) % (n + 1)];
    if (PetscAbsReal(f - f0) <= STGSSA_FLAT_RTOL * PetscMax(PetscAbsReal(f), PETSC_SMALL)) {
      o->flat_stopped = PETSC_TRUE;
      PetscCall(TaoSetConvergedReason(tao, TAO_CONVERGED_USER));
    }
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaOptimizerObjective(Tao, Vec, PetscReal *, Vec, void *);

/* TAO Hessian routine (TAOFISHER): the Fisher information per cell at X in the free coordinates,
   I_phi = B^T I_theta B for theta = B phi + c (exact with FSP, plug-in on the SSA route). TAO
   asks at the point it evaluated last; any other point is evaluated first. */
static PetscErrorCode StgssaOptimizerFisher(Tao tao, Vec X, Mat H, Mat Hpre, void *ctx)
{
  StgssaOptimizer o = (StgssaOptimizer)ctx;
  const PetscInt  P = o->P, Q = o->Q;
  PetscReal      *phi, *F, *B, *FB;
  PetscBool       same = PETSC_TRUE;
  PetscMPIInt     rank;

  PetscFunctionBegin;
  PetscCall(PetscMalloc4(Q, &phi, P * P, &F, o->ndep ? P * Q : 0, &B, o->ndep ? P * Q : 0, &FB));
  PetscCall(StgssaOptimizerBcastVec(o, X, phi));
  for (PetscInt q = 0; q < Q; q++) same = (PetscBool)(same && phi[q] == o->phi_eval[q]);
  if (!same || o->nevals == 0) {
    PetscReal f;
    PetscCall(StgssaOptimizerObjective(tao, X, &f, o->G, o));
  }
  PetscCall(StgssaObjectiveFisherInformation(o->obj, o->ev, PETSC_TRUE, F));
  /* B [P x Q]: d theta_p / d phi_q; without constraints B = I and I_phi = I_theta (no O(P^3) product) */
  if (o->ndep) PetscCall(PetscArrayzero(B, P * Q));
  if (o->ndep)
    for (PetscInt q = 0; q < Q; q++) B[o->free_p[q] * Q + q] = 1;
  for (PetscInt i = 0; i < o->ndep; i++)
    for (PetscInt k = o->dep_start[i]; k < o->dep_start[i + 1]; k++) B[o->dep_p[i] * Q + o->term_q[k]] += o->term_c[k];
  if (o->ndep)
    for (PetscInt p = 0; p < P; p++)
      for (PetscInt q = 0; q < Q; q++) {
        PetscReal t = 0;
        for (PetscInt r = 0; r < P; r++) t += F[p * P + r] * B[r * Q + q];
        FB[p * Q + q] = t;
      }
  PetscCallMPI(MPI_Comm_rank(o->comm, &rank));
  if (rank == 0) {
    PetscScalar *a;
    PetscInt     lda;
    PetscCall(MatDenseGetLDA(H, &lda));
    PetscCall(MatDenseGetArrayWrite(H, &a));
    for (PetscInt q1 = 0; q1 < Q; q1++)
      for (PetscInt q2 = 0; q2 < Q; q2++) {
        PetscReal t = 0;
        if (!o->ndep) t = F[q1 * P + q2];
        else
          for (PetscInt p = 0; p < P; p++) t += B[p * Q + q1] * FB[p * Q + q2];
        a[q1 + q2 * lda] = t; /* column-major */
      }
    PetscCall(MatDenseRestoreArrayWrite(H, &a));
  }
  PetscCall(MatAssemblyBegin(H, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(H, MAT_FINAL_ASSEMBLY));
  PetscCall(PetscFree4(phi, F, B, FB));
  PetscFunctionReturn(0);
}

/* TAO callback: one ensemble evaluation at theta = B X + c; the gradient handed to TAO is
   dL/dphi = B^T dL/dtheta (chain rule through the affine map). */
static PetscErrorCode StgssaOptimizerObjective(Tao tao, Vec X, PetscReal *f, Vec G, void *ctx)
{
  StgssaOptimizer o = (StgssaOptimizer)ctx;

  PetscFunctionBegin;
  PetscCall(StgssaOptimizerBcastVec(o, X, o->phi_eval));
  StgssaOptimizerExpand(o, o->phi_eval, o->theta_eval);
  PetscCall(StgssaOptimizerProblemSetTheta(o, o->theta_eval));
  o->eval_index = o->crn ? 0 : o->nevals;
  PetscCall(StgssaOptimizerProblemSetIteration(o, o->eval_index));
  PetscCall(StgssaOptimizerEvaluate(o, tao));
  o->nevals++;
  *f = o->loss_eval;
  StgssaOptimizerReduceGradient(o, o->grad_eval, o->gphi_eval);
  PetscCall(StgssaOptimizerSetVec(o, o->gphi_eval, G));
  PetscFunctionReturn(0);
}

/* FNV-1a (64 bit) over everything a restart takes from a checkpoint, stored as the /checkpoint
   attribute checksum: a restart refuses a checkpoint whose contents were altered (flipped bits,
   a bad copy) even where HDF5 reads them without complaint. Doubles by their bit patterns,
   integers little-endian, so the value does not depend on the machine. */
static void StgssaHashBytes(uint64_t *h, const void *p, size_t n)
{
  const unsigned char *c = (const unsigned char *)p;
  for (size_t i = 0; i < n; i++) {
    *h ^= c[i];
    *h *= 1099511628211ULL;
  }
}

static void StgssaHashU64(uint64_t *h, uint64_t v)
{
  unsigned char b[8];
  for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
  StgssaHashBytes(h, b, 8);
}

static void StgssaHashReals(uint64_t *h, PetscInt n, const PetscReal x[])
{
  for (PetscInt i = 0; i < n; i++) {
    double   d = (double)x[i];
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    StgssaHashU64(h, u);
  }
}

/* state[0..3] = adam_step, evaluation, seed, history_length; the history is o->h_* (its first
   state[3] entries). ntraj: the trajectories of the checkpoint's evaluation, hashed with
   o->h_ntraj; -1 for a checkpoint written before the adaptive sample size (neither hashed). */
/* Rows (a prefix of h_row) of the entries before entry n. */
static PetscInt StgssaOptimizerRowsBefore(StgssaOptimizer o, PetscInt n)
{
  PetscInt r = o->nrow;
  while (r > 0 && o->h_row[r - 1] >= n) r--;
  return r;
}

/* best: the P-wide row of the least-loss entry among the first state[3], hashed when the rows
   are thinned (fewer rows than entries; then the row iterations too). */
static uint64_t StgssaCheckpointHash(StgssaOptimizer o, const char *const *names, const int64_t state[4], const PetscReal theta[], const PetscReal m[], const PetscReal v[], int64_t ntraj, const PetscReal best[])
{
  uint64_t       h  = 14695981039346656037ULL;
  const PetscInt nh = (PetscInt)state[3], nr = StgssaOptimizerRowsBefore(o, nh);

  for (PetscInt p = 0; p < o->P; p++) StgssaHashBytes(&h, names[p], strlen(names[p]) + 1);
  StgssaHashBytes(&h, o->constraint, strlen(o->constraint) + 1);
  for (int i = 0; i < 4; i++) StgssaHashU64(&h, (uint64_t)state[i]);
  StgssaHashReals(&h, o->P, theta);
  StgssaHashReals(&h, o->Q, m);
  StgssaHashReals(&h, o->Q, v);
  StgssaHashReals(&h, nh, o->h_loss);
  StgssaHashReals(&h, nr * o->P, o->h_theta);
  StgssaHashReals(&h, nr * o->P, o->h_grad);
  StgssaHashReals(&h, nr * o->P, o->h_se);
  for (PetscInt i = 0; i < 3 * nh; i++) StgssaHashU64(&h, (uint64_t)o->h_ends[i]); /* events, absorbed, capped */
  if (ntraj >= 0) {
    StgssaHashU64(&h, (uint64_t)ntraj);
    for (PetscInt i = 0; i < nh; i++) StgssaHashU64(&h, (uint64_t)o->h_ntraj[i]);
  }
  if (nr != nh) { /* -stgssa_history_every: which rows, and the best entry's row */
    for (PetscInt r = 0; r < nr; r++) StgssaHashU64(&h, (uint64_t)o->h_row[r]);
    if (best) StgssaHashReals(&h, o->P, best);
  }
  return h;
}

static PetscErrorCode StgssaOptimizerWriteFile(StgssaOptimizer o, PetscBool final);

/* The schedule after history entry k = nhist - 1 (schedule.h): the sample size of the next
   evaluation, the start of the step-size decay, the stopping rule. Also replays the history of a
   checkpoint (announce false: silent). */
static PetscErrorCode StgssaOptimizerScheduleStep(StgssaOptimizer o, PetscBool announce)
{
  const PetscInt k = o->nhist - 1;
  const PetscInt n = o->sched.n, kcap = o->sched.k_cap;
  PetscBool      grew, isadam;

  PetscFunctionBegin;
  PetscCall(StgssaScheduleUpdate(&o->sched, k, o->P, o->h_grad, o->h_se, &grew, &o->stop));
  if (!grew) { /* the stall rule: no new lowest loss in STGSSA_STALL_ITS iterations at this sample size */
    PetscCall(StgssaScheduleStall(&o->sched, k, o->h_loss, STGSSA_STALL_ITS, &grew));
    if (grew && announce) PetscCall(PetscPrintf(o->comm, "Iteration %" PetscInt_FMT ": no lower loss in the last %d iterations: %" PetscInt_FMT " -> %" PetscInt_FMT " trajectories per evaluation%s\n", k, STGSSA_STALL_ITS, n, o->sched.n, o->sched.n == o->sched.nmax ? " (the cap, -stgssa_ntraj_max)" : ""));
    if (grew) PetscCall(StgssaOptimizerProblemSetNumTrajectories(o, o->sched.n));
  } else {
    if (announce) {
      PetscReal g2 = 0, v = 0;
      for (PetscInt p = 0; p < o->P; p++) g2 += PetscSqr(o->h_grad[k * o->P + p]), v += PetscSqr(o->h_se[k * o->P + p]);
      PetscCall(PetscPrintf(o->comm, "Iteration %" PetscInt_FMT ": gradient noise sum se^2 = %.3g > eta^2 |g|^2 = %.3g: %" PetscInt_FMT " -> %" PetscInt_FMT " trajectories per evaluation%s\n", k, (double)v, (double)(o->eta * o->eta * g2), n, o->sched.n, o->sched.n == o->sched.nmax ? " (the cap, -stgssa_ntraj_max)" : ""));
    }
    PetscCall(StgssaOptimizerProblemSetNumTrajectories(o, o->sched.n));
  }
  PetscCall(PetscObjectTypeCompare((PetscObject)o->tao, "adam", &isadam));
  if (isadam && kcap < 0 && o->sched.k_cap >= 0) { /* the decay begins at the cap */
    PetscReal k0;
    PetscCall(TaoAdamGetDecay(o->tao, &k0, NULL));
    PetscCall(TaoAdamSetDecay(o->tao, k0, o->sched.k_cap));
  }
  if (announce && o->stop) PetscCall(PetscPrintf(o->comm, "Iteration %" PetscInt_FMT ": the mean gradient of iterations %" PetscInt_FMT "..%" PetscInt_FMT " (%" PetscInt_FMT " trajectories each) is within %.1f standard errors of 0: stop\n", k, PetscMax(StgssaScheduleAverageStart(&o->sched, k), o->sched.k_cap), k, o->sched.nmax, (double)o->stop_nse));
  PetscFunctionReturn(0);
}

/* TAO convergence test: TAO's own (-tao_max_it, ...), then the stopping rule of the schedule. */
static PetscErrorCode StgssaOptimizerConverged(Tao tao, void *ctx)
{
  StgssaOptimizer    o = (StgssaOptimizer)ctx;
  TaoConvergedReason reason;

  PetscFunctionBegin;
  PetscCall(TaoDefaultConvergenceTest(tao, NULL));
  PetscCall(TaoGetConvergedReason(tao, &reason));
  if (reason == TAO_CONTINUE_ITERATING && (o->stop || o->time_up)) PetscCall(TaoSetConvergedReason(tao, TAO_CONVERGED_USER));
  PetscFunctionReturn(0);
}

/* Room for n P-wide history rows. */
static PetscErrorCode StgssaOptimizerGrowRows(StgssaOptimizer o, PetscInt n)
{
  PetscReal *t, *g, *s;
  int64_t   *it;

  PetscFunctionBegin;
  PetscCall(PetscMalloc4(n * o->P, &t, n * o->P, &g, n * o->P, &s, n, &it));
  if (o->nrow) {
    PetscCall(PetscArraycpy(t, o->h_theta, o->nrow * o->P));
    PetscCall(PetscArraycpy(g, o->h_grad, o->nrow * o->P));
    PetscCall(PetscArraycpy(s, o->h_se, o->nrow * o->P));
    PetscCall(PetscArraycpy(it, o->h_row, o->nrow));
  }
  PetscCall(PetscFree4(o->h_theta, o->h_grad, o->h_se, o->h_row));
  o->h_theta = t;
  o->h_grad  = g;
  o->h_se    = s;
  o->h_row   = it;
  o->rcap    = n;
  PetscFunctionReturn(0);
}

/* TAO monitor: one history entry per iteration (the last evaluation is at the current iterate
   for adam), and a checkpoint every ckpt_interval iterations. */
static PetscErrorCode StgssaOptimizerMonitor(Tao tao, void *ctx)
{
  StgssaOptimizer o = (StgssaOptimizer)ctx;
  PetscInt        its;

  PetscFunctionBegin;
  PetscCall(TaoGetSolutionStatus(tao, &its, NULL, NULL, NULL, NULL, NULL));
  if (o->nhist == o->cap) { /* doubling: O(1) amortized per entry */
    o->cap = o->cap ? 2 * o->cap : 64;
    PetscCall(PetscRealloc(sizeof(PetscReal) * o->cap, &o->h_loss));
    PetscCall(PetscRealloc(sizeof(int64_t) * 3 * o->cap, &o->h_ends));
    PetscCall(PetscRealloc(sizeof(PetscReal) * o->cap, &o->h_imb));
    PetscCall(PetscRealloc(sizeof(int64_t) * o->cap, &o->h_ntraj));
  }
  if (o->nrow == o->rcap) PetscCall(StgssaOptimizerGrowRows(o, o->rcap ? 2 * o->rcap : 64));
  if (o->last_rejected) { /* TAO went back to its iterate after a rejected trial point: record that (gradient unknown here) */
    PetscReal f;
    PetscCall(TaoGetSolutionStatus(tao, NULL, &f, NULL, NULL, NULL, NULL));
    PetscCall(StgssaOptimizerBcastVec(o, o->X, o->phi_eval));
    StgssaOptimizerExpand(o, o->phi_eval, o->theta_eval);
    o->loss_eval = f;
    for (PetscInt p = 0; p < o->P; p++) o->grad_eval[p] = o->se_eval[p] = (PetscReal)NAN;
  }
  o->h_loss[o->nhist] = o->loss_eval;
  {
    PetscInt64 ev = 0, ab = 0, cp = 0;
    if (!o->an_fn) PetscCall(StgssaEvaluatorGetEventCount(o->ev, &ev));
    if (!o->an_fn) PetscCall(StgssaEvaluatorGetTrajectoryEnds(o->ev, &ab, &cp));
    o->h_ends[3 * o->nhist]     = ev;
    o->h_ends[3 * o->nhist + 1] = ab;
    o->h_ends[3 * o->nhist + 2] = cp;
    if (o->an_fn) o->h_imb[o->nhist] = 1.0;
    else PetscCall(StgssaEvaluatorGetLoadImbalance(o->ev, &o->h_imb[o->nhist]));
  }
  {
    PetscInt r = o->nrow; /* the previous last row was kept only as the last: overwrite it */
    if (r > 0 && o->h_row[r - 1] % o->hmem_every != 0) r--;
    else o->nrow++;
    PetscCall(PetscArraycpy(&o->h_theta[r * o->P], o->theta_eval, o->P));
    PetscCall(PetscArraycpy(&o->h_grad[r * o->P], o->grad_eval, o->P));
    PetscCall(PetscArraycpy(&o->h_se[r * o->P], o->se_eval, o->P));
    o->h_row[r] = o->nhist;
  }
  if (o->best_i < 0 || o->loss_eval < o->best_loss) { /* a new least loss (NaN never wins) */
    PetscReal *t       = o->best_prev_theta;
    o->best_prev_theta = o->best_theta;
    o->best_theta      = t;
    o->best_prev_i     = o->best_i;
    o->best_prev_loss  = o->best_loss;
    PetscCall(PetscArraycpy(o->best_theta, o->theta_eval, o->P));
    o->best_i    = o->nhist;
    o->best_loss = o->loss_eval;
  } else if (o->best_prev_i != o->best_i) {
    PetscCall(PetscArraycpy(o->best_prev_theta, o->best_theta, o->P));
    o->best_prev_i    = o->best_i;
    o->best_prev_loss = o->best_loss;
  }
  PetscCall(StgssaOptimizerProblemGetNumTrajectories(o, &o->h_ntraj[o->nhist]));
  o->nhist++;
  if (!o->exact && !o->tao_monitor) { /* a stochastic fit runs for minutes: one line per iteration says where it is */
    PetscReal g2 = 0;
    for (PetscInt p = 0; p < o->P; p++) g2 += PetscSqr(o->grad_eval[p]);
    PetscCall(PetscPrintf(o->comm, "iteration %3" PetscInt_FMT ": loss %-10.6g |gradient| %-10.4g %lld trajectories, %.1f s\n", its, (double)o->loss_eval, (double)PetscSqrtReal(g2), (long long)o->h_ntraj[o->nhist - 1], MPI_Wtime() - o->t_start));
  }
  if (o->sched_on) PetscCall(StgssaOptimizerScheduleStep(o, PETSC_TRUE));
  if (o->time_limit > 0 && !o->time_up) { /* rank 0's clock decides for all */
    int up = (MPI_Wtime() - o->t_start) > o->time_limit;
    PetscCallMPI(MPI_Bcast(&up, 1, MPI_INT, 0, o->comm));
    o->time_up = (PetscBool)up;
    if (up) PetscCall(PetscPrintf(o->comm, "Iteration %" PetscInt_FMT ": the time limit of %g s is reached (-stgssa_time_limit): stop\n", its, (double)o->time_limit));
  }
  if (o->ckpt_interval > 0 && its > 0 && its % o->ckpt_interval == 0) PetscCall(StgssaOptimizerWriteFile(o, PETSC_FALSE));
  PetscFunctionReturn(0);
}

/* Read a dataset of doubles of known size n from an open file (rank 0). */
static PetscErrorCode StgssaH5ReadDoubles(hid_t file, const char *name, hsize_t n, PetscReal *buf, const char *path)
{
  hid_t   d, sp;
  hssize_t npts;

  PetscFunctionBegin;
  d = H5Dopen2(file, name, H5P_DEFAULT);
  PetscCheck(d >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: no dataset %s; expected an output file with a checkpoint (-stgssa_checkpoint_interval)", path, name);
  PetscCallHDF5(sp = H5Dget_space(d));
  PetscCallHDF5(npts = H5Sget_simple_extent_npoints(sp));
  PetscCallHDF5(H5Sclose(sp));
  if ((hsize_t)npts != n) {
    (void)H5Dclose(d);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s has %lld values; expected %llu (same -stgssa_fit as the run that wrote it)", path, name, (long long)npts, (unsigned long long)n);
  }
  if (n) PetscCallHDF5(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
  PetscCallHDF5(H5Dclose(d));
  PetscFunctionReturn(0);
}

/* Rank 0: the first nr rows of a [n x P] dataset, n >= nr (the checkpoint's history arrays may be
   /history's, hard-linked, with the last iterate's row beyond them). */
static PetscErrorCode StgssaH5ReadRows(hid_t file, const char *name, PetscInt nr, PetscInt P, PetscReal *buf, const char *path)
{
  hid_t   d, sp, mem;
  hsize_t dims[2] = {0, 0}, start[2] = {0, 0}, count[2] = {(hsize_t)nr, (hsize_t)P};
  int     nd;
  herr_t  e;

  PetscFunctionBegin;
  d = H5Dopen2(file, name, H5P_DEFAULT);
  PetscCheck(d >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: no dataset %s; expected an output file with a checkpoint (-stgssa_checkpoint_interval)", path, name);
  PetscCallHDF5(sp = H5Dget_space(d));
  nd = H5Sget_simple_extent_ndims(sp);
  if (nd == 2) (void)H5Sget_simple_extent_dims(sp, dims, NULL);
  if (nd != 2 || dims[1] != (hsize_t)P || dims[0] < (hsize_t)nr) {
    (void)H5Sclose(sp);
    (void)H5Dclose(d);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s is not [at least %" PetscInt_FMT " x %" PetscInt_FMT "] (same -stgssa_fit as the run that wrote it)", path, name, nr, P);
  }
  e = 0;
  if (nr > 0 && P > 0) {
    e = H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, count, NULL);
    mem = H5Screate_simple(2, count, NULL);
    if (e >= 0 && mem >= 0) e = H5Dread(d, H5T_NATIVE_DOUBLE, mem, sp, H5P_DEFAULT, buf);
    if (mem >= 0) (void)H5Sclose(mem);
    else e = -1;
  }
  PetscCallHDF5(H5Sclose(sp));
  PetscCallHDF5(H5Dclose(d));
  PetscCheck(e >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: cannot read dataset %s", path, name);
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaH5ReadAttrInt64(hid_t loc, const char *name, int64_t *v, const char *path)
{
  hid_t a;

  PetscFunctionBegin;
  a = H5Aopen(loc, name, H5P_DEFAULT);
  PetscCheck(a >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /checkpoint has no attribute %s", path, name);
  if (H5Aread(a, H5T_NATIVE_INT64, v) < 0) {
    (void)H5Aclose(a);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: cannot read attribute %s", path, name);
  }
  PetscCallHDF5(H5Aclose(a));
  PetscFunctionReturn(0);
}

/* Rank 0: the fixed-length string attribute name of object obj (under loc) into *text (free it),
   or NULL if there is no such attribute. */
static PetscErrorCode StgssaH5ReadAttrText(hid_t loc, const char *obj, const char *name, char **text, const char *path)
{
  hid_t  a, ft, mt;
  size_t n;
  htri_t has;

  PetscFunctionBegin;
  *text = NULL;
  has = H5Aexists_by_name(loc, obj, name, H5P_DEFAULT);
  PetscCheck(has >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: cannot read the attributes of %s (corrupt file?)", path, obj);
  if (!has) PetscFunctionReturn(0);
  a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
  PetscCheck(a >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: cannot read attribute %s (corrupt file?)", path, name);
  PetscCallHDF5(ft = H5Aget_type(a));
  n = H5Tget_size(ft);
  {
    const PetscBool ok = (PetscBool)(H5Tget_class(ft) == H5T_STRING && H5Tis_variable_str(ft) == 0 && n > 0 && n < ((size_t)1 << 30));
    if (!ok) {
      (void)H5Tclose(ft);
      (void)H5Aclose(a);
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: corrupt attribute %s", path, name);
    }
  }
  PetscCallHDF5(mt = H5Tcopy(ft)); /* the same character set: HDF5 does not convert between them */
  PetscCallHDF5(H5Tclose(ft));
  PetscCall(PetscCalloc1(n + 1, text));
  if (H5Aread(a, mt, *text) < 0) {
    (void)H5Tclose(mt);
    (void)H5Aclose(a);
    PetscCall(PetscFree(*text));
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: cannot read attribute %s", path, name);
  }
  PetscCallHDF5(H5Tclose(mt));
  PetscCallHDF5(H5Aclose(a));
  PetscFunctionReturn(0);
}

/* Append ",name" (no comma when first) to the list buf[len]; a list that does not fit ends in "...". */
static void StgssaNameListAppend(char *buf, size_t len, PetscBool first, const char *name)
{
  size_t used = strlen(buf), need = strlen(name) + (first ? 0 : 1);
  if (used + 4 > len || (used >= 3 && !strcmp(buf + used - 3, "..."))) return; /* full: already cut */
  if (used + need + 4 > len) {
    memcpy(buf + used, "...", 4);
    return;
  }
  if (!first) buf[used++] = ',';
  memcpy(buf + used, name, strlen(name) + 1);
}

/* Rank 0: the checkpoint must be of this -stgssa_fit (names and order). */
static PetscErrorCode StgssaOptimizerCheckFitNames(StgssaOptimizer o, hid_t ck, const char *const *names)
{
  hid_t     a, sp, t;
  hssize_t  n;
  char    **got, have[4096] = "", want[4096] = "";
  PetscBool same;

  PetscFunctionBegin;
  a = H5Aopen(ck, "fit_names", H5P_DEFAULT);
  PetscCheck(a >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /checkpoint has no attribute fit_names", o->restart);
  PetscCallHDF5(sp = H5Aget_space(a));
  PetscCallHDF5(n = H5Sget_simple_extent_npoints(sp));
  PetscCallHDF5(t = H5Tcopy(H5T_C_S1));
  PetscCallHDF5(H5Tset_size(t, H5T_VARIABLE));
  PetscCallHDF5(H5Tset_cset(t, H5T_CSET_UTF8)); /* as written (StgssaH5WriteAttrStrings) */
  PetscCall(PetscCalloc1(n + 1, &got));
  if (H5Aread(a, t, got) < 0) {
    (void)H5Tclose(t);
    (void)H5Sclose(sp);
    (void)H5Aclose(a);
    PetscCall(PetscFree(got));
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: cannot read attribute fit_names", o->restart);
  }
  same = (PetscBool)(n == o->P);
  for (hssize_t i = 0; i < n; i++) {
    StgssaNameListAppend(have, sizeof(have), (PetscBool)(i == 0), got[i] ? got[i] : "?");
    if (same && (!got[i] || strcmp(got[i], names[i]))) same = PETSC_FALSE;
  }
  PetscCallHDF5(H5Dvlen_reclaim(t, sp, H5P_DEFAULT, got));
  PetscCall(PetscFree(got));
  PetscCallHDF5(H5Tclose(t));
  PetscCallHDF5(H5Sclose(sp));
  PetscCallHDF5(H5Aclose(a));
  for (PetscInt p = 0; p < o->P; p++) {
    StgssaNameListAppend(want, sizeof(want), (PetscBool)(p == 0), names[p]);
  }
  PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "%s was written with -stgssa_fit %s; this run has -stgssa_fit %s", o->restart, have, want);
  PetscFunctionReturn(0);
}

/* The per-entry counts of the checkpoint's history (ends[3*n]); -1 when the checkpoint predates them. */
static PetscErrorCode StgssaH5ReadEnds(hid_t file, PetscInt n, int64_t *ends, const char *path)
{
  static const char *const names[3] = {"checkpoint/history_events", "checkpoint/history_absorbed", "checkpoint/history_capped"};
  int64_t                 *buf;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(n + 1, &buf));
  for (int c = 0; c < 3; c++) {
    hid_t d;
    for (PetscInt i = 0; i < n; i++) buf[i] = -1;
    if (H5Lexists(file, names[c], H5P_DEFAULT) > 0) {
      hid_t    sp;
      hssize_t npts;
      PetscCallHDF5(d = H5Dopen2(file, names[c], H5P_DEFAULT));
      PetscCallHDF5(sp = H5Dget_space(d));
      PetscCallHDF5(npts = H5Sget_simple_extent_npoints(sp));
      PetscCallHDF5(H5Sclose(sp));
      if (npts != (hssize_t)n) {
        (void)H5Dclose(d);
        SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s has %lld values; expected %lld", path, names[c], (long long)npts, (long long)n);
      }
      if (n) PetscCallHDF5(H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
      PetscCallHDF5(H5Dclose(d));
    }
    for (PetscInt i = 0; i < n; i++) ends[3 * i + c] = buf[i];
  }
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(0);
}

/* Write the counts of the first n history entries as three datasets NAME_events, _absorbed, _capped
   (prefix "" in /history, "history_" in /checkpoint). */
static PetscErrorCode StgssaH5WriteEnds(hid_t g, const char *prefix, PetscInt n, const int64_t *ends)
{
  static const char *const names[3] = {"events", "absorbed", "capped"};
  int64_t                 *buf;
  hsize_t                  d1[1] = {(hsize_t)n};

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(n + 1, &buf));
  for (int c = 0; c < 3; c++) {
    char name[64];
    for (PetscInt i = 0; i < n; i++) buf[i] = ends[3 * i + c];
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s%s", prefix, names[c]));
    PetscCall(StgssaH5WriteInt64s(g, name, 1, d1, buf));
  }
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(0);
}

/* Rank 0: read the checkpoint (state[0..3] = step, nevals(index of the evaluation at theta), seed, nhist). */
static PetscErrorCode StgssaOptimizerReadCheckpoint_Root(StgssaOptimizer o, int64_t state[4], PetscReal *theta, PetscReal *m, PetscReal *v)
{
  hid_t                 file = -1, ck;
  const char *const    *names;
  const char           *model_text = NULL;
  char                 *text;
  int64_t               checksum;
  htri_t                has_checksum;

  PetscFunctionBegin;
  PetscCall(StgssaOptimizerGetFit(o, NULL, &names));
  PetscCall(StgssaOptimizerModelText(o, &model_text));
  file = H5Fopen(o->restart, H5F_ACC_RDONLY, H5P_DEFAULT);
  PetscCheck(file >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "%s: cannot open as HDF5 (missing, truncated or not an output of stgssa_hpc)", o->restart);
  ck = H5Gopen2(file, "checkpoint", H5P_DEFAULT);
  if (ck < 0) {
    (void)H5Fclose(file);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: no /checkpoint group; expected the output of an optimize run", o->restart);
  }
  /* the same problem: fitted names, constraints, model */
  PetscCall(StgssaOptimizerCheckFitNames(o, ck, names));
  PetscCall(StgssaH5ReadAttrText(ck, ".", "log_constraint", &text, o->restart));
  {
    const PetscBool same = (PetscBool)!strcmp(text ? text : "", o->constraint);
    char            was[4096];
    PetscCall(PetscStrncpy(was, text ? text : "", sizeof(was)));
    PetscCall(PetscFree(text));
    PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "%s was written with -stgssa_log_constraint '%s'; this run has '%s'", o->restart, was, o->constraint);
  }
  PetscCall(StgssaH5ReadText(file, "run", "model_text", &text, o->restart)); /* a dataset, or an attribute in older files */
  {
    const PetscBool same = (PetscBool)(text && !strcmp(text, model_text));
    PetscCall(PetscFree(text));
    PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_ARG_INCOMP, "%s was written for another model: its /run model_text differs from the model file of this run", o->restart);
  }
  PetscCall(StgssaH5ReadAttrInt64(ck, "adam_step", &state[0], o->restart));
  PetscCall(StgssaH5ReadAttrInt64(ck, "evaluation", &state[1], o->restart));
  PetscCall(StgssaH5ReadAttrInt64(ck, "seed", &state[2], o->restart));
  PetscCall(StgssaH5ReadAttrInt64(ck, "history_length", &state[3], o->restart));
  PetscCallHDF5(has_checksum = H5Aexists(ck, "checksum"));
  if (has_checksum) PetscCall(StgssaH5ReadAttrInt64(ck, "checksum", &checksum, o->restart));
  PetscCall(StgssaH5ReadDoubles(ck, "theta", (hsize_t)o->P, theta, o->restart));
  PetscCall(StgssaH5ReadDoubles(ck, "adam_m", (hsize_t)o->Q, m, o->restart));
  PetscCall(StgssaH5ReadDoubles(ck, "adam_v", (hsize_t)o->Q, v, o->restart));
  PetscCallHDF5(H5Gclose(ck));
  PetscCheck(state[3] >= 0 && state[3] < 100000000, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: corrupt history length %lld", o->restart, (long long)state[3]);
  o->cap   = (PetscInt)state[3] + 64;
  o->nhist = (PetscInt)state[3];
  PetscCall(PetscMalloc1(o->cap, &o->h_loss));
  PetscCall(StgssaH5ReadDoubles(file, "checkpoint/history_loss", (hsize_t)o->nhist, o->h_loss, o->restart));
  { /* the P-wide rows: of the entries history_iteration lists (-stgssa_history_every; absent: every entry) */
    PetscInt nr = o->nhist;
    int64_t *rows = NULL;
    if (H5Lexists(file, "checkpoint/history_iteration", H5P_DEFAULT) > 0) {
      hid_t    d, sp;
      hssize_t npts;
      PetscCallHDF5(d = H5Dopen2(file, "checkpoint/history_iteration", H5P_DEFAULT));
      PetscCallHDF5(sp = H5Dget_space(d));
      PetscCallHDF5(npts = H5Sget_simple_extent_npoints(sp));
      PetscCallHDF5(H5Sclose(sp));
      if (npts < 0 || npts > (hssize_t)o->nhist) {
        (void)H5Dclose(d);
        SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset checkpoint/history_iteration has %lld values; expected at most %lld", o->restart, (long long)npts, (long long)o->nhist);
      }
      nr = (PetscInt)npts;
      PetscCall(PetscMalloc1(nr + 1, &rows));
      if (nr && H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0) {
        (void)H5Dclose(d);
        PetscCall(PetscFree(rows));
        SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: cannot read checkpoint/history_iteration", o->restart);
      }
      PetscCallHDF5(H5Dclose(d));
    }
    PetscCall(StgssaOptimizerGrowRows(o, nr + 64));
    for (PetscInt r = 0; r < nr; r++) o->h_row[r] = rows ? rows[r] : r;
    PetscCall(PetscFree(rows));
    for (PetscInt r = 0; r < nr; r++) PetscCheck(o->h_row[r] >= (r ? o->h_row[r - 1] + 1 : 0) && o->h_row[r] < o->nhist, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: corrupt checkpoint/history_iteration", o->restart);
    o->nrow = nr;
    PetscCall(StgssaH5ReadRows(file, "checkpoint/history_theta", nr, o->P, o->h_theta, o->restart));
    PetscCall(StgssaH5ReadRows(file, "checkpoint/history_gradient", nr, o->P, o->h_grad, o->restart));
    PetscCall(StgssaH5ReadRows(file, "checkpoint/history_gradient_stderr", nr, o->P, o->h_se, o->restart));
    if (H5Lexists(file, "checkpoint/history_best_theta", H5P_DEFAULT) > 0) {
      PetscCall(PetscMalloc1(o->P, &o->ck_best_theta));
      PetscCall(StgssaH5ReadDoubles(file, "checkpoint/history_best_theta", (hsize_t)o->P, o->ck_best_theta, o->restart));
    }
  }
  PetscCall(PetscMalloc1(3 * o->cap, &o->h_ends));
  PetscCall(StgssaH5ReadEnds(file, o->nhist, o->h_ends, o->restart));
  PetscCall(PetscMalloc1(o->cap, &o->h_imb));
  for (PetscInt i = 0; i < o->nhist; i++) o->h_imb[i] = NAN;
  if (H5Lexists(file, "checkpoint/history_load_imbalance", H5P_DEFAULT) > 0) PetscCall(StgssaH5ReadDoubles(file, "checkpoint/history_load_imbalance", (hsize_t)o->nhist, o->h_imb, o->restart));
  /* sample sizes (absent before the adaptive sample size: then -stgssa_ntraj throughout) */
  PetscCall(PetscMalloc1(o->cap, &o->h_ntraj));
  o->restart_ntraj = -1;
  if (H5Lexists(file, "checkpoint/history_ntraj", H5P_DEFAULT) > 0) {
    hid_t    d, sp;
    hssize_t npts;
    PetscCallHDF5(ck = H5Gopen2(file, "checkpoint", H5P_DEFAULT));
    PetscCall(StgssaH5ReadAttrInt64(ck, "ntraj", &o->restart_ntraj, o->restart));
    PetscCallHDF5(H5Gclose(ck));
    PetscCallHDF5(d = H5Dopen2(file, "checkpoint/history_ntraj", H5P_DEFAULT));
    PetscCallHDF5(sp = H5Dget_space(d));
    PetscCallHDF5(npts = H5Sget_simple_extent_npoints(sp));
    PetscCallHDF5(H5Sclose(sp));
    if (npts != (hssize_t)o->nhist) {
      (void)H5Dclose(d);
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset checkpoint/history_ntraj has %lld values; expected %lld", o->restart, (long long)npts, (long long)o->nhist);
    }
    if (o->nhist) PetscCallHDF5(H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, o->h_ntraj));
    PetscCallHDF5(H5Dclose(d));
  } else {
    StgssaSampling smp;
    PetscCall(StgssaOptimizerGetSampling(o, &smp));
    for (PetscInt i = 0; i < o->nhist; i++) o->h_ntraj[i] = smp.ntraj;
  }
  PetscCallHDF5(H5Fclose(file));
  /* the contents: unaltered, and a state the optimizer can be in */
  if (has_checksum) PetscCheck((uint64_t)checksum == StgssaCheckpointHash(o, names, state, theta, m, v, o->restart_ntraj, o->ck_best_theta), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: corrupt checkpoint (its checksum does not match its contents)", o->restart);
  else PetscCall(PetscPrintf(PETSC_COMM_SELF, "Note: %s has no checkpoint checksum (written by an older version); its contents are not verified\n", o->restart));
  /* evaluation: the index of the checkpoint's draws, 0 with -stgssa_crn (else at least one per entry) */
  PetscCheck(state[0] >= 0 && (o->crn ? state[1] == 0 : state[1] >= state[3]), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: corrupt checkpoint (adam_step %lld, evaluation %lld, history_length %lld)", o->restart, (long long)state[0], (long long)state[1], (long long)state[3]);
  for (PetscInt p = 0; p < o->P; p++) PetscCheck(PetscIsNormalReal(theta[p]) || theta[p] == 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: corrupt checkpoint (theta of %s is %g)", o->restart, names[p], (double)theta[p]);
  for (PetscInt q = 0; q < o->Q; q++) PetscCheck(PetscIsInfOrNanReal(m[q]) == PETSC_FALSE && PetscIsInfOrNanReal(v[q]) == PETSC_FALSE && v[q] >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: corrupt checkpoint (adam_m %g, adam_v %g)", o->restart, (double)m[q], (double)v[q]);
  PetscFunctionReturn(0);
}

/* Collective: read the checkpoint on rank 0, check it, broadcast it. */
static PetscErrorCode StgssaOptimizerReadCheckpoint(StgssaOptimizer o, PetscReal *theta)
{
  PetscMPIInt    rank;
  PetscErrorCode ierr = 0;
  int64_t        state[4] = {0, 0, 0, 0};
  StgssaSampling smp;
  int            status;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(o->comm, &rank));
  PetscCall(PetscMalloc2(o->Q, &o->restart_m, o->Q, &o->restart_v));
  if (rank == 0) {
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = StgssaOptimizerReadCheckpoint_Root(o, state, theta, o->restart_m, o->restart_v);
    PetscCall(PetscPopErrorHandler());
  }
  status = (int)ierr;
  PetscCallMPI(MPI_Bcast(&status, 1, MPI_INT, 0, o->comm));
  if (status) {
    char msg[1024] = "";
    if (rank == 0) {
      const char *text;
      char       *specific;
      PetscCall(PetscErrorMessage(ierr, &text, &specific));
      PetscCall(PetscStrncpy(msg, specific ? specific : "", sizeof(msg)));
    }
    PetscCallMPI(MPI_Bcast(msg, sizeof(msg), MPI_CHAR, 0, o->comm));
    SETERRQ(o->comm, PETSC_ERR_FILE_UNEXPECTED, "-stgssa_restart: %s", msg);
  }
  PetscCallMPI(MPI_Bcast(state, 4, MPI_INT64_T, 0, o->comm));
  PetscCallMPI(MPI_Bcast(theta, (PetscMPIInt)o->P, MPIU_REAL, 0, o->comm));
  PetscCallMPI(MPI_Bcast(o->restart_m, (PetscMPIInt)o->Q, MPIU_REAL, 0, o->comm));
  PetscCallMPI(MPI_Bcast(o->restart_v, (PetscMPIInt)o->Q, MPIU_REAL, 0, o->comm));
  {
    PetscInt nb[2] = {o->nrow, o->ck_best_theta != NULL};
    PetscCallMPI(MPI_Bcast(nb, 2, MPIU_INT, 0, o->comm));
    if (rank) {
      PetscCall(StgssaOptimizerGrowRows(o, nb[0] + 64));
      o->nrow = nb[0];
      if (nb[1]) PetscCall(PetscMalloc1(o->P, &o->ck_best_theta));
    }
    if (nb[1]) PetscCallMPI(MPI_Bcast(o->ck_best_theta, (PetscMPIInt)o->P, MPIU_REAL, 0, o->comm));
  }
  if (rank) {
    o->nhist = (PetscInt)state[3];
    o->cap   = o->nhist + 64;
    PetscCall(PetscMalloc1(o->cap, &o->h_loss));
    PetscCall(PetscMalloc1(3 * o->cap, &o->h_ends));
    PetscCall(PetscMalloc1(o->cap, &o->h_imb));
    PetscCall(PetscMalloc1(o->cap, &o->h_ntraj));
  }
  PetscCallMPI(MPI_Bcast(o->h_ntraj, (PetscMPIInt)o->nhist, MPI_INT64_T, 0, o->comm));
  PetscCallMPI(MPI_Bcast(&o->restart_ntraj, 1, MPI_INT64_T, 0, o->comm));
  PetscCallMPI(MPI_Bcast(o->h_loss, (PetscMPIInt)o->nhist, MPIU_REAL, 0, o->comm));
  PetscCallMPI(MPI_Bcast(o->h_row, (PetscMPIInt)o->nrow, MPI_INT64_T, 0, o->comm));
  PetscCallMPI(MPI_Bcast(o->h_theta, (PetscMPIInt)(o->nrow * o->P), MPIU_REAL, 0, o->comm));
  PetscCallMPI(MPI_Bcast(o->h_grad, (PetscMPIInt)(o->nrow * o->P), MPIU_REAL, 0, o->comm));
  PetscCallMPI(MPI_Bcast(o->h_se, (PetscMPIInt)(o->nrow * o->P), MPIU_REAL, 0, o->comm));
  PetscCallMPI(MPI_Bcast(o->h_ends, (PetscMPIInt)(3 * o->nhist), MPI_INT64_T, 0, o->comm));
  PetscCallMPI(MPI_Bcast(o->h_imb, (PetscMPIInt)o->nhist, MPIU_REAL, 0, o->comm));
  PetscCall(StgssaOptimizerGetSampling(o, &smp));
  PetscCheck(state[2] == smp.seed, o->comm, PETSC_ERR_ARG_INCOMP, "-stgssa_restart: %s was run with -stgssa_seed %lld, this run has %" PetscInt_FMT, o->restart, (long long)state[2], smp.seed);
  o->restarted    = PETSC_TRUE;
  o->restart_step = (PetscInt)state[0];
  o->nevals       = (PetscInt)state[1]; /* re-evaluate theta with the draws that produced its gradient */
  PetscFunctionReturn(0);
}

/* After a restart: keep the rows this run keeps in memory (entries i % hmem_every == 0 before
   the checkpoint's iterate; all must be there) and the least-loss entry with its row. */
static PetscErrorCode StgssaOptimizerRestoreRows(StgssaOptimizer o)
{
  const PetscInt K = o->hmem_every, nh = o->nhist, need = nh > 0 ? (nh - 1) / K + 1 : 0;
  PetscInt       r = 0, have = o->nrow;

  PetscFunctionBegin;
  for (PetscInt j = 0; j < o->nrow; j++)
    if (o->h_row[j] % K == 0) {
      if (r != j) {
        PetscCall(PetscArraycpy(&o->h_theta[r * o->P], &o->h_theta[j * o->P], o->P));
        PetscCall(PetscArraycpy(&o->h_grad[r * o->P], &o->h_grad[j * o->P], o->P));
        PetscCall(PetscArraycpy(&o->h_se[r * o->P], &o->h_se[j * o->P], o->P));
        o->h_row[r] = o->h_row[j];
      }
      r++;
    }
  o->nrow = r;
  PetscCheck(r == need, o->comm, PETSC_ERR_ARG_INCOMP, "-stgssa_restart: %s holds the per-parameter history of %" PetscInt_FMT " of its %" PetscInt_FMT " iterations; this run needs those of iterations 0, K, 2K, ... with K = %" PetscInt_FMT " (%s): restart with the -stgssa_history_every (and optimizer) of the run that wrote it", o->restart, have, nh,
             K, o->sched_on ? "every row: the schedule of the stochastic route reads them" : "-stgssa_history_every");
  o->best_i = -1;
  for (PetscInt i = 0; i < nh; i++)
    if (o->best_i < 0 || o->h_loss[i] < o->h_loss[o->best_i]) o->best_i = i;
  o->best_prev_i = o->best_i < 0 ? -1 : -2; /* -2: the next entry that is no new best copies best_theta */
  if (o->best_i >= 0) {
    PetscInt j = 0;
    o->best_loss = o->h_loss[o->best_i];
    while (j < o->nrow && o->h_row[j] != o->best_i) j++;
    if (j < o->nrow) PetscCall(PetscArraycpy(o->best_theta, &o->h_theta[j * o->P], o->P));
    else {
      PetscCheck(o->ck_best_theta, o->comm, PETSC_ERR_FILE_UNEXPECTED, "-stgssa_restart: %s lacks checkpoint/history_best_theta (the row of its least-loss iteration %" PetscInt_FMT ")", o->restart, o->best_i);
      PetscCall(PetscArraycpy(o->best_theta, o->ck_best_theta, o->P));
    }
  }
  PetscFunctionReturn(0);
}

/* The stochastic route (schedule.h), on by default for adam with a stochastic gradient and
   fresh draws: sample size, decay (-tao_adam_decay_steps 20 unless given; it begins at the cap),
   averaging, stopping rule. After a restart the schedule is rebuilt by replaying the history. */
static PetscErrorCode StgssaOptimizerSetUpSchedule(StgssaOptimizer o)
{
  StgssaGradientType gt;
  StgssaSampling     smp;
  PetscBool          isadam, isfisher, stochastic, k0_given;
  PetscInt64         nmax;

  PetscFunctionBegin;
  PetscCall(PetscObjectTypeCompare((PetscObject)o->tao, "adam", &isadam));
  PetscCall(PetscObjectTypeCompare((PetscObject)o->tao, TAOFISHER, &isfisher));
  PetscCall(StgssaOptimizerProblemGradientType(o, &gt));
  PetscCall(StgssaOptimizerGetSampling(o, &smp));
  stochastic = (PetscBool)(gt != STGSSA_GRADIENT_FSP && gt != STGSSA_GRADIENT_ODE);
  if (!o->adaptive_set) o->adaptive = (PetscBool)((isadam || isfisher) && stochastic && !o->crn);
  if (!o->average_set) o->average = o->adaptive;
  o->sched_on   = (PetscBool)(o->adaptive || o->average);
  o->hmem_every = o->sched_on ? 1 : o->hist_every; /* the schedule and the averaging read every row */
  if (o->restarted) PetscCall(StgssaOptimizerRestoreRows(o));
  if (!o->sched_on) {
    if (o->restart_ntraj >= 0 && o->restart_ntraj != smp.ntraj) PetscCall(PetscPrintf(o->comm, "Note: %s was evaluating %lld trajectories; this run continues with the fixed -stgssa_ntraj %" PetscInt_FMT "\n", o->restart, (long long)o->restart_ntraj, smp.ntraj));
    PetscFunctionReturn(0);
  }
  PetscCheck((isadam || isfisher) && stochastic, o->comm, PETSC_ERR_ARG_INCOMP, "-stgssa_adaptive_ntraj and -stgssa_average apply to -tao_type adam or fisher with a stochastic gradient (not -stgssa_gradient fsp); turn them off");
  nmax = o->ntraj_max > 0 ? o->ntraj_max : PetscMin(16 * (PetscInt64)smp.ntraj, (PetscInt64)PETSC_MAX_INT);
  PetscCall(StgssaScheduleInit(&o->sched, o->adaptive, smp.ntraj, (PetscInt)nmax, o->eta, 2.0, o->stop_window, o->stop_nse));
  if (isadam) { /* Fisher scoring keeps its step: the averaging takes the noise down */
    PetscCall(PetscOptionsHasName(NULL, NULL, "-tao_adam_decay_steps", &k0_given));
    if (!k0_given) PetscCall(TaoAdamSetDecay(o->tao, o->decay_k0, PETSC_MAX_INT));
    else {
      PetscReal k0;
      PetscCall(TaoAdamGetDecay(o->tao, &k0, NULL));
      PetscCall(TaoAdamSetDecay(o->tao, k0, PETSC_MAX_INT));
    }
  }
  if (o->stop_window > 0) PetscCall(TaoSetConvergenceTest(o->tao, StgssaOptimizerConverged, o));
  if (o->restarted) {
    /* replay entries 0..nh-1 with the sample sizes they had; the checkpoint's own evaluation is
       redone with its sample size. With the options of the run that wrote the checkpoint the
       replay reproduces them, and the continuation is bitwise that of the uninterrupted run. */
    const PetscInt nh   = o->nhist;
    PetscBool      same = PETSC_TRUE;
    for (PetscInt k = 0; k < nh; k++) {
      if (o->h_ntraj[k] != o->sched.n) same = PETSC_FALSE, o->sched.n = (PetscInt)o->h_ntraj[k];
      o->nhist = k + 1;
      PetscCall(StgssaOptimizerScheduleStep(o, PETSC_FALSE));
    }
    o->nhist = nh;
    if (o->restart_ntraj >= 0 && o->restart_ntraj != o->sched.n) same = PETSC_FALSE, o->sched.n = (PetscInt)o->restart_ntraj;
    if (!same) PetscCall(PetscPrintf(o->comm, "Note: the sample sizes stored in %s differ from what this run's options give (-stgssa_ntraj, -stgssa_ntraj_max, -stgssa_norm_test_eta, -stgssa_adaptive_ntraj); continuing from the stored ones, %" PetscInt_FMT " trajectories per evaluation\n", o->restart, o->sched.n));
    if (o->sched.n != smp.ntraj) PetscCall(StgssaOptimizerProblemSetNumTrajectories(o, o->sched.n));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOptimizerSetUp(StgssaOptimizer o)
{
  PetscMPIInt         rank;
  const char *const  *names;
  PetscReal          *theta, *lo, *hi, *phi;
  PetscBool           bounded = PETSC_FALSE, likelihood;

  PetscFunctionBegin;
  if (o->setup) PetscFunctionReturn(0);
  PetscCheck((o->ev && o->obj) || o->an_fn, o->comm, PETSC_ERR_ORDER, "Call StgssaOptimizerSetProblem() first");
  if (!o->an_fn) {
    PetscBool active;
    PetscCall(StgssaObjectiveIsActive(o->obj, &active));
    PetscCheck(active, o->comm, PETSC_ERR_ARG_WRONG, "optimize mode needs a loss: give -stgssa_data FILE (or -stgssa_loss design)");
  }
  PetscCall(StgssaOptimizerGetFit(o, &o->P, &names));
  PetscCall(StgssaOptimizerIndexNames(o, names));
  PetscCall(StgssaOptimizerParseConstraints(o, names));
  PetscCallMPI(MPI_Comm_rank(o->comm, &rank));
  PetscCall(VecCreateMPI(o->comm, rank == 0 ? o->Q : 0, o->Q, &o->X));
  PetscCall(VecDuplicate(o->X, &o->G));
  PetscCall(PetscMalloc4(o->P, &o->theta_eval, o->P, &o->grad_eval, o->P, &o->se_eval, o->P, &o->rates));
  PetscCall(PetscMalloc1(o->P, &o->theta_res));
  PetscCall(PetscMalloc1(o->P, &o->best_theta)); /* separate blocks: the monitor swaps them */
  PetscCall(PetscMalloc1(o->P, &o->best_prev_theta));
  PetscCall(PetscMalloc2(o->Q, &o->phi_eval, o->Q, &o->gphi_eval));
  PetscCall(PetscMalloc4(o->P, &o->su_theta, o->P, &o->su_lo, o->P, &o->su_hi, o->Q, &o->su_phi));
  theta = o->su_theta;
  lo    = o->su_lo;
  hi    = o->su_hi;
  phi   = o->su_phi;
  PetscCall(StgssaOptimizerProblemGetTheta(o, theta));
  PetscCall(StgssaOptimizerParseBounds(o, names, lo, hi));
  if (o->restart[0]) PetscCall(StgssaOptimizerReadCheckpoint(o, theta));
  /* start: the free entries as given, the dependents computed from them */
  for (PetscInt q = 0; q < o->Q; q++) phi[q] = theta[o->free_p[q]];
  if (o->ndep) {
    PetscReal *given;
    PetscCall(PetscMalloc1(o->P, &given));
    PetscCall(PetscArraycpy(given, theta, o->P));
    StgssaOptimizerExpand(o, phi, theta);
    for (PetscInt i = 0; i < o->ndep; i++) {
      const PetscInt d = o->dep_p[i];
      PetscCheck(PetscIsNormalReal(theta[d]) || theta[d] == 0, o->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_log_constraint gives %s a non-finite log-rate %g", names[d], (double)theta[d]);
      if (!o->restarted && PetscAbsReal(theta[d] - given[d]) > 1e-9) /* more than rounding of the given value */
        PetscCall(PetscPrintf(o->comm, "Note: -stgssa_log_constraint sets the start value of %s to %g (model value %g)\n", names[d], (double)PetscExpReal(theta[d]), (double)PetscExpReal(given[d])));
    }
    PetscCall(PetscFree(given));
    PetscCall(StgssaOptimizerProblemSetTheta(o, theta));
  }
  for (PetscInt p = 0; p < o->P; p++) {
    if (lo[p] > PETSC_NINFINITY || hi[p] < PETSC_INFINITY) bounded = PETSC_TRUE;
    PetscCheck(theta[p] >= lo[p] && theta[p] <= hi[p], o->comm, PETSC_ERR_ARG_OUTOFRANGE, "Start value %g of %s is outside -stgssa_bounds [%g, %g]", (double)PetscExpReal(theta[p]), names[p], (double)PetscExpReal(lo[p]), (double)PetscExpReal(hi[p]));
  }
  if (o->prof && !o->an_fn) { /* -stgssa_profile: checks the route before the fit; bounds of the fitted log-rates */
    PetscBool active;
    PetscCall(StgssaProfileIsActive(o->prof, &active));
    PetscCheck(!active || !o->ndep, o->comm, PETSC_ERR_SUP, "-stgssa_profile does not support -stgssa_log_constraint; drop one of them");
    PetscCall(StgssaProfileSetUp(o->prof, o->ev, o->obj, lo, hi));
  }
  /* bounds of the free coordinates (dependents cannot be bounded) */
  for (PetscInt q = 0; q < o->Q; q++) {
    lo[q] = lo[o->free_p[q]];
    hi[q] = hi[o->free_p[q]];
  }
  PetscCall(StgssaOptimizerSetVec(o, phi, o->X));
  PetscCall(TaoCreate(o->comm, &o->tao));
  {
    StgssaGradientType gt;
    PetscCall(StgssaOptimizerProblemGradientType(o, &gt));
    o->exact = (PetscBool)(gt == STGSSA_GRADIENT_FSP || gt == STGSSA_GRADIENT_ODE); /* deterministic objectives */
  }
  if (o->exact) { /* exact gradients: a quasi-Newton method with bounds, stopping in flat valleys */
    PetscBool given = PETSC_FALSE, g;
    PetscCall(TaoSetType(o->tao, TAOBLMVM));
    PetscCall(TaoSetTolerances(o->tao, PETSC_DEFAULT, STGSSA_EXACT_GRTOL, PETSC_DEFAULT));
    PetscCall(TaoSetMaximumIterations(o->tao, STGSSA_EXACT_MAXIT));
    for (int k = 0; k < 3; k++) { /* the stall rule only while the user leaves the tolerances alone */
      static const char *const tol[3] = {"-tao_gatol", "-tao_grtol", "-tao_gttol"};
      PetscCall(PetscOptionsHasName(NULL, NULL, tol[k], &g));
      given = (PetscBool)(given || g);
    }
    o->flat_stop = (PetscBool)!given;
    PetscCall(TaoSetConvergenceTest(o->tao, StgssaOptimizerConvergenceTest, o));
  } else { /* stochastic gradients: Fisher scoring for a likelihood (its curvature is known), else Adam */
    likelihood = PETSC_FALSE;
    if (!o->an_fn) PetscCall(StgssaObjectiveIsLikelihood(o->obj, &likelihood));
    /* beyond 64 fitted rates a loss's score evaluation reduces in two passes (no M x P derivatives,
       README "Reduction"): Fisher scoring would need a second, single-pass evaluation per Hessian; Adam */
    PetscCall(TaoSetType(o->tao, likelihood && o->P <= 64 ? TAOFISHER : TAOADAM));
  }
  PetscCall(TaoSetSolution(o->tao, o->X));
  PetscCall(TaoSetObjectiveAndGradient(o->tao, o->G, StgssaOptimizerObjective, o));
  likelihood = PETSC_FALSE;
  if (!o->an_fn) PetscCall(StgssaObjectiveIsLikelihood(o->obj, &likelihood));
  if (likelihood) { /* the Fisher information as the Hessian (-tao_type fisher; other types ignore it) */
    PetscCall(MatCreateDense(o->comm, rank == 0 ? o->Q : 0, rank == 0 ? o->Q : 0, o->Q, o->Q, NULL, &o->H));
    PetscCall(TaoSetHessian(o->tao, o->H, o->H, StgssaOptimizerFisher, o));
  }
  if (bounded) {
    PetscCall(VecDuplicate(o->X, &o->XL));
    PetscCall(VecDuplicate(o->X, &o->XU));
    PetscCall(StgssaOptimizerSetVec(o, lo, o->XL));
    PetscCall(StgssaOptimizerSetVec(o, hi, o->XU));
    PetscCall(TaoSetVariableBounds(o->tao, o->XL, o->XU));
  }
  PetscCall(TaoSetMonitor(o->tao, StgssaOptimizerMonitor, o, NULL));
  PetscCall(TaoSetFromOptions(o->tao));
  PetscCall(TaoSetUp(o->tao));
  {
    PetscBool isfisher; /* its Hessian reads dmu after each evaluation: the auto reduction stays single up to P = 64 */
    PetscCall(PetscObjectTypeCompare((PetscObject)o->tao, TAOFISHER, &isfisher));
    if (o->ev) PetscCall(StgssaEvaluatorSetNeedDerivatives(o->ev, isfisher));
  }
  {
    TaoType   type;
    PetscReal gatol, grtol, gttol;
    PetscInt  maxit;
    PetscCall(TaoGetType(o->tao, &type));
    PetscCall(TaoGetTolerances(o->tao, &gatol, &grtol, &gttol));
    PetscCall(TaoGetMaximumIterations(o->tao, &maxit));
    PetscCall(PetscSNPrintf(o->optline, sizeof(o->optline), "optimizer: %s (%s gradients%s): -tao_max_it %" PetscInt_FMT ", -tao_gatol %g, -tao_grtol %g%s", type, o->exact ? "exact" : "stochastic",
                            !strcmp(type, TAOFISHER) ? (o->exact ? "; Fisher scoring with the exact Fisher information" : "; Fisher scoring: steps -I^{-1} g with the plug-in Fisher information I of the likelihood") : "", maxit, (double)gatol, (double)grtol,
                            o->flat_stop ? "; stops when the loss changes by less than 1e-9 (relative) over 5 iterations" : ""));
  }
  if (o->restarted) {
    PetscBool isadam;
    PetscCall(PetscObjectTypeCompare((PetscObject)o->tao, "adam", &isadam));
    if (isadam) {
      Vec m, v;
      PetscCall(VecDuplicate(o->X, &m));
      PetscCall(VecDuplicate(o->X, &v));
      PetscCall(StgssaOptimizerSetVec(o, o->restart_m, m));
      PetscCall(StgssaOptimizerSetVec(o, o->restart_v, v));
      PetscCall(TaoAdamSetState(o->tao, m, v, o->restart_step));
      PetscCall(VecDestroy(&m));
      PetscCall(VecDestroy(&v));
    } else {
      TaoType   type;
      PetscBool isfisher;
      PetscCall(TaoGetType(o->tao, &type));
      PetscCall(PetscObjectTypeCompare((PetscObject)o->tao, TAOFISHER, &isfisher));
      if (isfisher) PetscCall(TaoFisherSetStep(o->tao, o->restart_step)); /* no other state */
      else PetscCall(PetscPrintf(o->comm, "Note: restarting %s from theta only; the optimizer's own state is rebuilt (bitwise continuation needs -tao_type adam or fisher)\n", type));
    }
  }
  PetscCall(StgssaOptimizerSetUpSchedule(o));
  if (!o->exact && o->time_limit > 0) PetscCall(TaoSetConvergenceTest(o->tao, StgssaOptimizerConverged, o)); /* TAO's own test and the time limit */
  PetscCall(PetscFree4(o->su_theta, o->su_lo, o->su_hi, o->su_phi));
  o->setup = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* The result of the stochastic route: the average of the iterates avg_from..K (schedule.h), in
   log-rates (it keeps affine constraints and bounds), and its loss re-estimated with
   result_factor x the last evaluation's trajectories and fresh draws (evaluation index nevals).
   Afterwards the evaluator's last evaluation is the one at the result. */
static PetscErrorCode StgssaOptimizerAverage(StgssaOptimizer o)
{
  const PetscInt K = o->nhist - 1;

  PetscFunctionBegin;
  o->avg_from = StgssaScheduleAverageStart(&o->sched, K);
  PetscCall(StgssaScheduleAverage(&o->sched, K, o->P, o->h_theta, o->theta_res));
  if (o->avg_from == K) PetscCall(PetscPrintf(o->comm, "Note: the gradient's signal stayed above its noise (the norm test never failed): the result is the last iterate; more iterations (-tao_max_it) would let the averaging begin\n"));
  if (o->result_factor > 0) {
    o->res_ntraj = (int64_t)PetscMin(PetscCeilReal(o->result_factor * (PetscReal)o->h_ntraj[K]), (PetscReal)PETSC_MAX_INT);
    o->res_eval  = o->nevals;
    PetscCall(StgssaOptimizerProblemSetTheta(o, o->theta_res));
    PetscCall(StgssaOptimizerProblemSetNumTrajectories(o, o->res_ntraj));
    PetscCall(StgssaOptimizerProblemSetIteration(o, o->crn ? 0 : o->nevals));
    { /* theta_eval stays the last iterate (the checkpoint's); the error text names the result */
      PetscReal *last;
      PetscCall(PetscMalloc1(o->P, &last));
      PetscCall(PetscArraycpy(last, o->theta_eval, o->P));
      PetscCall(PetscArraycpy(o->theta_eval, o->theta_res, o->P));
      PetscCall(StgssaOptimizerEvaluate(o, o->tao));
      PetscCall(PetscArraycpy(o->theta_eval, last, o->P));
      PetscCall(PetscFree(last));
    }
    o->nevals++;
    o->res_loss = o->loss_eval;
  } else o->res_loss = (PetscReal)NAN; /* not estimated: the losses of /history are at other points */
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOptimizerSolve(StgssaOptimizer o)
{
  PetscFunctionBegin;
  PetscCall(StgssaOptimizerSetUp(o));
  o->t_start = MPI_Wtime();
  PetscCall(PetscPrintf(o->comm, "%s\n", o->optline));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-tao_monitor", &o->tao_monitor));

  PetscCall(TaoSolve(o->tao));
  if (o->ev) PetscCall(StgssaEvaluatorViewReduction(o->ev, NULL)); /* the fit's evaluations: one or two reductions, bytes, seconds */
  PetscCall(StgssaOptimizerBcastVec(o, o->X, o->phi_eval));
  StgssaOptimizerExpand(o, o->phi_eval, o->theta_eval);
  PetscCall(PetscArraycpy(o->theta_res, o->theta_eval, o->P));
  o->res_loss = o->nhist ? o->h_loss[o->nhist - 1] : o->loss_eval;
  if (o->average && o->nhist > 0) PetscCall(StgssaOptimizerAverage(o));
  for (PetscInt p = 0; p < o->P; p++) o->rates[p] = PetscExpReal(o->theta_res[p]);
  /* the fit at the result: one more evaluation there (-log L, Fisher information, per-time report) */
  if (!o->an_fn) PetscCall(StgssaObjectiveSummarize(o->obj, o->ev, o->theta_res, o->crn ? 0 : o->nevals));
  if (o->prof && !o->an_fn) PetscCall(StgssaProfileCompute(o->prof, o->theta_res)); /* -stgssa_profile */
  o->solved = PETSC_TRUE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOptimizerGetTao(StgssaOptimizer o, Tao *tao)
{
  PetscFunctionBegin;
  PetscCall(StgssaOptimizerSetUp(o));
  *tao = o->tao;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOptimizerGetResult(StgssaOptimizer o, const PetscReal **rates, PetscReal *loss)
{
  PetscFunctionBegin;
  PetscCheck(o->solved, o->comm, PETSC_ERR_ORDER, "Call StgssaOptimizerSolve() first");
  if (rates) *rates = o->rates;
  if (loss) *loss = o->res_loss;
  PetscFunctionReturn(0);
}

/* Best-loss history entry (-1: none). The losses are estimates: the smallest is biased low. */
static PetscInt StgssaOptimizerBest(StgssaOptimizer o)
{
  return o->best_i; /* kept by the monitor (first of equal losses; NaN never wins) */
}

static PetscErrorCode StgssaOptimizerViewSchedule(StgssaOptimizer o, PetscViewer viewer)
{
  const PetscInt K = o->nhist - 1, best = StgssaOptimizerBest(o);

  PetscFunctionBegin;
  if (K < 0) PetscFunctionReturn(0);
  PetscCall(PetscViewerASCIIPrintf(viewer, "trajectories per evaluation %lld -> %lld (cap %" PetscInt_FMT "%s); norm test first failed at iteration %" PetscInt_FMT "%s\n", (long long)o->h_ntraj[0], (long long)o->h_ntraj[K], o->sched.nmax, o->adaptive ? "" : ", -stgssa_adaptive_ntraj off", o->sched.k_first, o->sched.k_first < 0 ? " (never)" : ""));
  if (o->stop) PetscCall(PetscViewerASCIIPrintf(viewer, "stopped by the noise rule: the mean gradient over the averaging window at the cap within %.1f standard errors of 0\n", (double)o->stop_nse));
  PetscCall(PetscViewerASCIIPrintf(viewer, "last iterate %" PetscInt_FMT ": loss %.6g; best iterate %" PetscInt_FMT ": loss %.6g (estimates with their own draws)\n", K, (double)o->h_loss[K], best, (double)o->h_loss[best]));
  if (o->average) {
    if (o->res_ntraj > 0) PetscCall(PetscViewerASCIIPrintf(viewer, "result: average of iterates %" PetscInt_FMT "..%" PetscInt_FMT "; loss %.6g re-estimated with %lld trajectories (fresh draws)\n", o->avg_from, K, (double)o->res_loss, (long long)o->res_ntraj));
    else PetscCall(PetscViewerASCIIPrintf(viewer, "result: average of iterates %" PetscInt_FMT "..%" PetscInt_FMT "; loss not re-estimated (-stgssa_result_ntraj_factor 0)\n", o->avg_from, K));
  } else PetscCall(PetscViewerASCIIPrintf(viewer, "result: the last iterate (-stgssa_average off); loss %.6g\n", (double)o->res_loss));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOptimizerView(StgssaOptimizer o, PetscViewer viewer)
{
  const char *const *names;
  TaoConvergedReason reason;
  PetscInt           its;
  TaoType            type;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(o->comm, &viewer));
  PetscCheck(o->solved, o->comm, PETSC_ERR_ORDER, "Call StgssaOptimizerSolve() first");
  PetscCall(StgssaOptimizerGetFit(o, NULL, &names));
  PetscCall(TaoGetSolutionStatus(o->tao, &its, NULL, NULL, NULL, NULL, &reason));
  PetscCall(TaoGetType(o->tao, &type));
  {
    StgssaGradientType gt;
    PetscCall(StgssaOptimizerProblemGradientType(o, &gt));
    PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaOptimizer: %s, %" PetscInt_FMT " iterations, %" PetscInt_FMT " evaluations (%s), %s\n", type, its, o->nevals, gt == STGSSA_GRADIENT_FSP ? "exact FSP objective" : gt == STGSSA_GRADIENT_ODE ? "mean-field ODE objective" : (o->crn ? "common random numbers" : "fresh random numbers each"), TaoConvergedReasons[reason]));
  }
  PetscCall(PetscViewerASCIIPushTab(viewer));
  if (o->time_up) PetscCall(PetscViewerASCIIPrintf(viewer, "stopped: the time limit of %g s (-stgssa_time_limit)\n", (double)o->time_limit));
  if (o->flat_stopped) PetscCall(PetscViewerASCIIPrintf(viewer, "stopped: the loss changed by less than %g (relative) over %d iterations\n", STGSSA_FLAT_RTOL, STGSSA_FLAT_ITS));
  if (o->nreject) {
    StgssaGradientType gt;
    PetscCall(StgssaOptimizerProblemGradientType(o, &gt));
    PetscCall(PetscViewerASCIIPrintf(viewer, "%" PetscInt_FMT " trial point%s rejected (the %s failed there; a high loss to the line search); first at %s\n", o->nreject, o->nreject > 1 ? "s" : "", gt == STGSSA_GRADIENT_ODE ? "ODE integration" : "FSP", o->reject_msg));
  }
  if (o->ndep) PetscCall(PetscViewerASCIIPrintf(viewer, "%" PetscInt_FMT " free log-rates, %" PetscInt_FMT " set by -stgssa_log_constraint %s\n", o->Q, o->ndep, o->constraint));
  if (o->sched_on) PetscCall(StgssaOptimizerViewSchedule(o, viewer));
  else PetscCall(PetscViewerASCIIPrintf(viewer, "final loss %.6g\n", o->nhist ? (double)o->h_loss[o->nhist - 1] : (double)o->loss_eval));
  {
    PetscInt   nc = 0;
    PetscInt64 cmax = 0;
    for (PetscInt i = 0; i < o->nhist; i++)
      if (o->h_ends[3 * i + 2] > 0) {
        nc++;
        cmax = PetscMax(cmax, o->h_ends[3 * i + 2]);
      }
    if (nc) PetscCall(PetscViewerASCIIPrintf(viewer, "WARNING: trajectories hit -stgssa_max_events in %" PetscInt_FMT " of %" PetscInt_FMT " iterations (at most %" PetscInt64_FMT " per evaluation; /history/capped): their statistics are biased; raise the cap or shorten -stgssa_tfinal\n", nc, o->nhist, cmax));
  }
  {
    PetscReal imax = 0, isum = 0;
    PetscInt  n    = 0;
    for (PetscInt i = 0; i < o->nhist; i++)
      if (!PetscIsNanReal(o->h_imb[i])) imax = PetscMax(imax, o->h_imb[i]), isum += o->h_imb[i], n++;
    if (n && !o->exact) PetscCall(PetscViewerASCIIPrintf(viewer, "events per rank max/mean (load balance, /history/load_imbalance): mean %.4f, worst %.4f over %" PetscInt_FMT " evaluations\n", (double)(isum / n), (double)imax, n));
  }
  { /* at large P the first STGSSA_VIEW_MAX rates; all are in /result/parameters */
    const PetscInt nshow = o->P > 2 * STGSSA_VIEW_MAX ? STGSSA_VIEW_MAX : o->P;
    for (PetscInt p = 0; p < nshow; p++) PetscCall(PetscViewerASCIIPrintf(viewer, "%-12s = %.6g\n", names[p], (double)o->rates[p]));
    if (nshow < o->P) PetscCall(PetscViewerASCIIPrintf(viewer, "... %" PetscInt_FMT " more fitted rates in /result/parameters\n", o->P - nshow));
  }
  PetscCall(PetscViewerASCIIPopTab(viewer));
  if (!o->an_fn) PetscCall(StgssaObjectiveViewResult(o->obj, names, viewer));
  if (o->prof && !o->an_fn) PetscCall(StgssaProfileView(o->prof, names, viewer));
  PetscFunctionReturn(0);
}

typedef struct {
  StgssaOptimizer o;
  PetscBool       final;
  PetscReal      *m, *v; /* adam moments (every rank) or NULL */
  PetscInt        step;
} StgssaOptimizerWriteCtx;

static PetscErrorCode StgssaOptimizerWriter(hid_t file, void *ctx)
{
  StgssaOptimizerWriteCtx *w = (StgssaOptimizerWriteCtx *)ctx;
  StgssaOptimizer          o = w->o;
  const char              *model_text = NULL;
  const char *const       *names;
  StgssaSampling           smp;
  hid_t                    g;
  const PetscInt           P = o->P, nh = o->nhist;
  hsize_t                  d1[1] = {(hsize_t)nh}, d2[2] = {(hsize_t)nh, (hsize_t)P}, dp[1] = {(hsize_t)P}, dq[1] = {(hsize_t)o->Q};

  PetscFunctionBegin;
  PetscCall(StgssaOptimizerModelText(o, &model_text));
  PetscCall(StgssaOptimizerGetFit(o, NULL, &names));
  PetscCall(StgssaOptimizerGetSampling(o, &smp));
  PetscCall(StgssaH5WriteRunInfo(file, o->comm, model_text));
  PetscCallHDF5(g = H5Gopen2(file, "run", H5P_DEFAULT));
  PetscCall(StgssaH5WriteAttrInt64(g, "seed", smp.seed));
  PetscCall(StgssaH5WriteAttrInt64(g, "ntraj", smp.ntraj));
  PetscCall(StgssaH5WriteAttrInt64(g, "evaluations", o->nevals));
  PetscCall(StgssaH5WriteAttrDouble(g, "wall_seconds", MPI_Wtime() - o->t_start)); /* of this run (since a restart) */
  {
    TaoType type;
    PetscCall(TaoGetType(o->tao, &type));
    PetscCall(StgssaH5WriteAttrString(g, "tao_type", type));
  }
  PetscCallHDF5(H5Gclose(g));

  PetscCallHDF5(g = H5Gcreate2(file, "history", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(StgssaH5WriteAttrStrings(g, "fit_names", P, names));
  PetscCall(StgssaH5WriteDoubles(g, "loss", 1, d1, o->h_loss));
  { /* the P-wide rows at iterations 0, K, 2K, ... and the last (-stgssa_history_every K), in
       chunks of at most 64 rows x 1024 parameters, compressed (StgssaH5WriteDoublesChunked);
       /history/iteration [I'] says which iterations they are. In memory every row stays: the
       schedule, the averaging and a restart's replay read them. */
    const PetscInt     K  = o->hist_every;
    const PetscInt     nk = nh > 0 ? (nh - 1) / K + 1 + ((nh - 1) % K != 0) : 0;
    const hsize_t      ck[2] = {64, 1024}, dk[2] = {(hsize_t)nk, (hsize_t)P}, dk1[1] = {(hsize_t)nk};
    const PetscReal   *src[3] = {o->h_theta, o->h_grad, o->h_se};
    static const char *dn[3]  = {"theta", "gradient", "gradient_stderr"};
    const PetscBool    all    = (PetscBool)(o->nrow == nk); /* memory holds exactly these rows */
    int64_t           *iter;
    PetscInt          *at; /* memory row of each written row */
    PetscReal         *rows = NULL;

    PetscCall(PetscMalloc2(nk + 1, &iter, nk + 1, &at));
    for (PetscInt r = 0, j = 0; r < o->nrow; r++)
      if (o->h_row[r] % K == 0 || o->h_row[r] == nh - 1) {
        iter[j] = o->h_row[r];
        at[j++] = r;
      }
    PetscCall(StgssaH5WriteInt64s(g, "iteration", 1, dk1, iter));
    if (!all) PetscCall(PetscMalloc1(nk * P + 1, &rows));
    for (int a = 0; a < 3; a++) {
      if (!all)
        for (PetscInt j = 0; j < nk; j++) PetscCall(PetscArraycpy(&rows[j * P], &src[a][at[j] * P], P));
      PetscCall(StgssaH5WriteDoublesChunked(g, dn[a], 2, dk, ck, all ? src[a] : rows));
    }
    PetscCall(StgssaH5WriteAttrInt64(g, "history_every", K));
    PetscCall(PetscFree(rows));
    PetscCall(PetscFree2(iter, at));
  }
  PetscCall(StgssaH5WriteEnds(g, "", nh, o->h_ends));
  PetscCall(StgssaH5WriteDoubles(g, "load_imbalance", 1, d1, o->h_imb)); /* events per rank max/mean */
  PetscCall(StgssaH5WriteInt64s(g, "ntraj", 1, d1, o->h_ntraj));        /* trajectories of each evaluation */
  if (nh > 0) {                                                          /* the last and the best-loss iterate */
    const PetscInt best = StgssaOptimizerBest(o);
    PetscCall(StgssaH5WriteDoubles(g, "last_theta", 1, dp, &o->h_theta[(o->nrow - 1) * P]));
    PetscCall(StgssaH5WriteDoubles(g, "best_theta", 1, dp, o->best_theta));
    PetscCall(StgssaH5WriteAttrInt64(g, "best_iteration", best));
    PetscCall(StgssaH5WriteAttrDouble(g, "best_loss", o->h_loss[best]));
  }
  if (o->sched_on) {
    PetscCall(StgssaH5WriteAttrInt64(g, "ntraj_max", o->sched.nmax));
    PetscCall(StgssaH5WriteAttrInt64(g, "norm_test_first_failed", o->sched.k_first));
    PetscCall(StgssaH5WriteAttrInt64(g, "ntraj_cap_iteration", o->sched.k_cap));
  }
  PetscCallHDF5(H5Gclose(g));

  if (w->final) {
    PetscCallHDF5(g = H5Gcreate2(file, "result", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    PetscCall(StgssaH5WriteDoubles(g, "parameters", 1, dp, o->rates));
    {
      hid_t ds;
      PetscCallHDF5(ds = H5Dopen2(g, "parameters", H5P_DEFAULT));
      PetscCall(StgssaH5WriteAttrStrings(ds, "names", P, names));
      PetscCallHDF5(H5Dclose(ds));
    }
    PetscCall(StgssaH5WriteAttrDouble(g, "loss", o->res_loss));
    PetscCall(StgssaH5WriteAttrString(g, "estimate", o->avg_from >= 0 ? "average of iterates" : "last iterate"));
    if (o->avg_from >= 0) {
      PetscCall(StgssaH5WriteAttrInt64(g, "average_from", o->avg_from));
      PetscCall(StgssaH5WriteAttrInt64(g, "average_to", nh - 1));
      PetscCall(StgssaH5WriteAttrInt64(g, "loss_ntraj", o->res_ntraj)); /* -1: not re-estimated (loss NaN) */
      PetscCall(StgssaH5WriteAttrInt64(g, "loss_evaluation", o->res_eval));
    }
    if (!o->an_fn) PetscCall(StgssaObjectiveWriteHDF5(o->obj, g)); /* neg_log_likelihood, fisher, ..., fit/ */
    if (o->prof && !o->an_fn) PetscCall(StgssaProfileWriteHDF5(o->prof, g)); /* profile_ci95, profile/ */
    PetscCallHDF5(H5Gclose(g));
  }
  /* everything a restart needs: theta of the last iterate, the optimizer state after it, and
     the index of the evaluation that produced its gradient (re-done on restart) */
  PetscCallHDF5(g = H5Gcreate2(file, "checkpoint", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(StgssaH5WriteAttrStrings(g, "fit_names", P, names));
  PetscCall(StgssaH5WriteAttrInt64(g, "seed", smp.seed));
  PetscCall(StgssaH5WriteAttrInt64(g, "adam_step", w->step));
  PetscCall(StgssaH5WriteAttrInt64(g, "evaluation", o->eval_index));
  PetscCall(StgssaH5WriteAttrInt64(g, "history_length", nh > 0 ? nh - 1 : 0));
  PetscCall(StgssaH5WriteDoubles(g, "theta", 1, dp, o->theta_eval));
  PetscCall(StgssaH5WriteDoubles(g, "adam_m", 1, dq, w->m)); /* free coordinates (Q entries) */
  PetscCall(StgssaH5WriteDoubles(g, "adam_v", 1, dq, w->v));
  if (o->constraint[0]) PetscCall(StgssaH5WriteAttrString(g, "log_constraint", o->constraint));
  d1[0] = d2[0] = (hsize_t)(nh > 0 ? nh - 1 : 0);
  PetscCall(StgssaH5WriteDoubles(g, "history_loss", 1, d1, o->h_loss));
  { /* the rows in memory before the last iterate (all of them when the schedule runs: its replay
       reads them; else every -stgssa_history_every-th), chunked and compressed; when they are
       the first rows of /history's datasets, hard links to those (history_iteration says how
       many rows are the checkpoint's) */
    const PetscInt nr    = StgssaOptimizerRowsBefore(o, nh > 0 ? nh - 1 : 0);
    const hsize_t  ck[2] = {64, 1024}, dr[2] = {(hsize_t)nr, (hsize_t)P}, dr1[1] = {(hsize_t)nr};
    PetscBool prefix = PETSC_TRUE; /* are they the first rows of /history's? then those are linked, not written twice */
    for (PetscInt r = 0; r < nr; r++) prefix = (PetscBool)(prefix && o->h_row[r] % o->hist_every == 0);
    if (prefix) {
      PetscCallHDF5(H5Lcreate_hard(file, "/history/theta", g, "history_theta", H5P_DEFAULT, H5P_DEFAULT));
      PetscCallHDF5(H5Lcreate_hard(file, "/history/gradient", g, "history_gradient", H5P_DEFAULT, H5P_DEFAULT));
      PetscCallHDF5(H5Lcreate_hard(file, "/history/gradient_stderr", g, "history_gradient_stderr", H5P_DEFAULT, H5P_DEFAULT));
    } else {
      PetscCall(StgssaH5WriteDoublesChunked(g, "history_theta", 2, dr, ck, o->h_theta));
      PetscCall(StgssaH5WriteDoublesChunked(g, "history_gradient", 2, dr, ck, o->h_grad));
      PetscCall(StgssaH5WriteDoublesChunked(g, "history_gradient_stderr", 2, dr, ck, o->h_se));
    }
    PetscCall(StgssaH5WriteInt64s(g, "history_iteration", 1, dr1, o->h_row));
    if (o->best_prev_i >= 0) PetscCall(StgssaH5WriteDoubles(g, "history_best_theta", 1, dp, o->best_prev_theta)); /* the least-loss entry before the last */
  }
  {
    const int64_t state[4] = {w->step, o->eval_index, smp.seed, nh > 0 ? nh - 1 : 0};
    const int64_t ntraj    = nh > 0 ? o->h_ntraj[nh - 1] : smp.ntraj; /* of the evaluation at theta, redone on restart */
    PetscCall(StgssaH5WriteAttrInt64(g, "ntraj", ntraj));
    PetscCall(StgssaH5WriteAttrInt64(g, "checksum", (int64_t)StgssaCheckpointHash(o, names, state, o->theta_eval, w->m, w->v, ntraj, o->best_prev_i >= 0 ? o->best_prev_theta : NULL)));
  }
  PetscCall(StgssaH5WriteInt64s(g, "history_ntraj", 1, d1, o->h_ntraj));
  PetscCall(StgssaH5WriteEnds(g, "history_", nh > 0 ? nh - 1 : 0, o->h_ends));
  PetscCall(StgssaH5WriteDoubles(g, "history_load_imbalance", 1, d1, o->h_imb)); /* diagnostic, outside the checksum (older checkpoints lack it) */
  PetscCallHDF5(H5Gclose(g));
  PetscFunctionReturn(0);
}

/* Collective: the whole output file, atomically. The checkpoint describes the last monitored
   iterate: theta_eval is that iterate (adam evaluates exactly once per iterate). */
static PetscErrorCode StgssaOptimizerWriteFile(StgssaOptimizer o, PetscBool final)
{
  StgssaOptimizerWriteCtx w = {o, final, NULL, NULL, 0};
  PetscBool               isadam;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(o->Q, &w.m, o->Q, &w.v));
  PetscCall(PetscArrayzero(w.m, o->Q));
  PetscCall(PetscArrayzero(w.v, o->Q));
  PetscCall(PetscObjectTypeCompare((PetscObject)o->tao, "adam", &isadam));
  if (isadam) {
    Vec m, v;
    PetscCall(TaoAdamGetState(o->tao, &m, &v, &w.step));
    PetscCall(StgssaOptimizerBcastVec(o, m, w.m));
    PetscCall(StgssaOptimizerBcastVec(o, v, w.v));
  } else PetscCall(TaoGetSolutionStatus(o->tao, &w.step, NULL, NULL, NULL, NULL, NULL));
  PetscCall(StgssaOutputWrite(o->comm, o->output, StgssaOptimizerWriter, &w));
  PetscCall(PetscFree2(w.m, w.v));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOptimizerWrite(StgssaOptimizer o)
{
  PetscFunctionBegin;
  PetscCheck(o->solved, o->comm, PETSC_ERR_ORDER, "Call StgssaOptimizerSolve() first");
  PetscCall(StgssaOptimizerWriteFile(o, PETSC_TRUE));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOptimizerDestroy(StgssaOptimizer *opt)
{
  StgssaOptimizer o = *opt;

  PetscFunctionBegin;
  if (!o) PetscFunctionReturn(0);
  PetscCall(TaoDestroy(&o->tao));
  PetscCall(StgssaProfileDestroy(&o->prof));
  PetscCall(VecDestroy(&o->X));
  PetscCall(MatDestroy(&o->H));
  PetscCall(PetscFree4(o->su_theta, o->su_lo, o->su_hi, o->su_phi)); /* left by an error in SetUp */
  PetscCall(PetscFree(o->parse_coef));
  PetscCall(PetscFree(o->parse_tp));
  PetscCall(PetscFree(o->parse_pos));
  PetscCall(PetscFree2(o->parse_dep_of, o->parse_q_of));
  PetscCall(PetscFree(o->parse_copy));
  PetscCall(PetscFree(o->name_sorted));
  PetscCall(PetscFree(o->bounds_text));
  PetscCall(PetscFree(o->is_dep));
  PetscCall(VecDestroy(&o->G));
  PetscCall(VecDestroy(&o->XL));
  PetscCall(VecDestroy(&o->XU));
  PetscCall(PetscFree4(o->theta_eval, o->grad_eval, o->se_eval, o->rates));
  PetscCall(PetscFree2(o->phi_eval, o->gphi_eval));
  PetscCall(PetscFree(o->free_p));
  PetscCall(PetscFree2(o->dep_p, o->dep_c0));
  PetscCall(PetscFree3(o->dep_start, o->term_q, o->term_c));
  PetscCall(PetscFree2(o->restart_m, o->restart_v));
  PetscCall(PetscFree(o->h_loss));
  PetscCall(PetscFree4(o->h_theta, o->h_grad, o->h_se, o->h_row));
  PetscCall(PetscFree(o->best_theta));
  PetscCall(PetscFree(o->best_prev_theta));
  PetscCall(PetscFree(o->ck_best_theta));
  PetscCall(PetscFree(o->h_ends));
  PetscCall(PetscFree(o->h_imb));
  PetscCall(PetscFree(o->h_ntraj));
  PetscCall(PetscFree(o->theta_res));
  if (o->an_names)
    for (PetscInt p = 0; p < o->an_P; p++) PetscCall(PetscFree(o->an_names[p]));
  PetscCall(PetscFree(o->an_names));
  PetscCall(PetscFree(o->an_theta));
  PetscCall(PetscFree(*opt));
  PetscFunctionReturn(0);
}
