/* SPDX-License-Identifier: BSD-2-Clause */
/* StgssaProfile: profile-likelihood intervals on the exact route (include/stgssa/profile.h). */
#include <stgssa/stgssa.h>
#include <stgssa/profile.h>
#include <stgssa/output.h>
#include <stgssa/run.h>
#include <petsctao.h>
#include <math.h>

#define STGSSA_PROFILE_HALF_CHI2 1.920729410347062 /* chi2_{1,0.95}/2 = 1.959964^2/2 */
#define STGSSA_PROFILE_GATOL 1e-3                  /* inner solves: |grad of total -log L| */
#define STGSSA_PROFILE_STALL 1e-7                  /* inner solves: stop when -log L falls by less over 3 iterations */
#define STGSSA_PROFILE_MAXIT 200

/* how a side of an interval ended */
typedef enum {
  STGSSA_PROFILE_NONE    = -1, /* not profiled */
  STGSSA_PROFILE_CROSSED = 0,  /* -log L crossed l_min + 1.92 */
  STGSSA_PROFILE_RANGE   = 1,  /* no crossing within log(-stgssa_profile_range): unbounded */
  STGSSA_PROFILE_BOUND   = 2,  /* no crossing before the -stgssa_bounds of the parameter: unbounded */
  STGSSA_PROFILE_FAILED  = 3   /* the FSP failed on the way: unknown (NaN) */
} StgssaProfileEnd;

struct _p_StgssaProfile {
  MPI_Comm           comm;
  PetscBool          active;
  char               list[4096]; /* -stgssa_profile value ("" or "all": every fitted name) */
  PetscReal          range, tol;
  StgssaEvaluator    ev;
  StgssaObjective    obj;
  PetscInt           P;
  const char *const *names;
  PetscBool         *want;    /* [P] */
  PetscReal         *lo, *hi; /* [P] log-rate bounds */
  /* results */
  PetscBool   computed;
  PetscReal   nll_min;    /* -log L (total) of the fit */
  PetscReal   nll_found;  /* the lowest -log L met while profiling */
  PetscReal  *ci;         /* [2P] rate units */
  PetscReal  *fisher_ci;  /* [2P] copy of the Fisher intervals (NaN if none) */
  PetscReal  *theta_hat;  /* [P] */
  PetscReal  *fisher;     /* [P x P] at the fit, or NULL */
  PetscInt   *end;        /* [2P] StgssaProfileEnd of the lower and upper side */
  PetscInt   *npts, *cap; /* per parameter: profile points */
  PetscReal **pts;        /* per parameter: npts x (P + 1): the P log-rates, total -log L */
  PetscInt    nevals, nsolves, nfail;
  char        failmsg[1024];
  /* inner solve */
  PetscInt   pfix;  /* the fixed log-rate */
  PetscReal *theta; /* [P] work: full log-rates of the current evaluation */
  PetscReal *grad;  /* [P] */
  PetscReal *best;  /* [P] best point of the current inner solve */
  PetscReal  fbest, fstart;
  PetscReal  cells;  /* cells over the data times: TAO minimizes -log L per cell */
  PetscInt   ncalls; /* evaluations of the current inner solve */
  PetscBool  start_failed;
  PetscReal  stall[4];
  PetscInt   nstall;
};

PetscErrorCode StgssaProfileCreate(MPI_Comm comm, StgssaProfile *prof)
{
  StgssaProfile p;

  PetscFunctionBegin;
  PetscCall(PetscNew(&p));
  p->comm  = comm;
  p->range = 100.0;
  p->tol   = 0.01;
  *prof    = p;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaProfileSetFromOptions(StgssaProfile p)
{
  PetscFunctionBegin;
  PetscOptionsBegin(p->comm, NULL, "Profile-likelihood options", "StgssaProfile");
  PetscCall(
      PetscOptionsString("-stgssa_profile", "Profile-likelihood 95% intervals after an exact-route fit: fitted names NAME,... (no value, all or true: every fitted rate; false: off)", "StgssaProfile", p->list, p->list, sizeof(p->list), &p->active));
  PetscCall(PetscOptionsReal("-stgssa_profile_range", "Profile walk: at most this factor from the fitted rate on each side (no crossing within it: unbounded)", "StgssaProfile", p->range, &p->range, NULL));
  PetscCall(PetscOptionsReal("-stgssa_profile_tol", "Profile: accuracy of the interval ends in log-rate", "StgssaProfile", p->tol, &p->tol, NULL));
  PetscOptionsEnd();
  if (p->active) { /* boolean spellings: -stgssa_profile false|0|no|off leaves it off, true|1|yes|on = all */
    static const char *const off[] = {"false", "0", "no", "off"}, *const on[] = {"true", "1", "yes", "on"};
    for (int i = 0; i < 4; i++) {
      PetscBool same;
      PetscCall(PetscStrcasecmp(p->list, off[i], &same));
      if (same) p->active = PETSC_FALSE;
      PetscCall(PetscStrcasecmp(p->list, on[i], &same));
      if (same) p->list[0] = 0;
    }
  }
  PetscCheck(p->range > 1 && PetscIsNormalReal(p->range), p->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_profile_range: expected a factor > 1, got %g", (double)p->range);
  PetscCheck(p->tol > 0 && p->tol < 1, p->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_profile_tol: expected a log-rate accuracy in (0, 1), got %g", (double)p->tol);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaProfileIsActive(StgssaProfile p, PetscBool *active)
{
  PetscFunctionBegin;
  *active = p->active;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaProfileSetUp(StgssaProfile p, StgssaEvaluator ev, StgssaObjective obj, const PetscReal lo[], const PetscReal hi[])
{
  StgssaGradientType gt;
  PetscReal          nll;

  PetscFunctionBegin;
  if (!p->active) PetscFunctionReturn(0);
  p->ev  = ev;
  p->obj = obj;
  PetscCall(StgssaEvaluatorGetGradientType(ev, &gt));
  {
    PetscBool   automatic;
    const char *reason;
    PetscCall(StgssaEvaluatorGetGradientChoice(ev, NULL, &automatic, &reason));
    PetscCheck(
        gt == STGSSA_GRADIENT_FSP, p->comm, PETSC_ERR_ARG_INCOMP,
        "-stgssa_profile needs the exact route (-stgssa_gradient fsp, or auto when the projection fits); this fit uses -stgssa_gradient %s%s%s%s, whose noisy objective has no reliable profile: drop -stgssa_profile and use the Fisher intervals",
        StgssaGradientTypes[gt], automatic ? " (auto: " : "", automatic && reason ? reason : "", automatic ? ")" : "");
  }
  PetscCall(StgssaObjectiveGetNegLogLikelihood(obj, &nll, NULL)); /* NaN unless the loss is the likelihood */
  PetscCheck(!PetscIsNanReal(nll), p->comm, PETSC_ERR_ARG_INCOMP, "-stgssa_profile needs -stgssa_loss likelihood (its intervals are where -log L rises by 1.92)");
  PetscCall(StgssaEvaluatorGetFit(ev, &p->P, &p->names));
  PetscCall(PetscMalloc4(p->P, &p->want, p->P, &p->lo, p->P, &p->hi, p->P, &p->theta_hat));
  PetscCall(PetscMalloc4(2 * p->P, &p->ci, 2 * p->P, &p->fisher_ci, 2 * p->P, &p->end, p->P, &p->theta));
  PetscCall(PetscMalloc2(p->P, &p->grad, p->P, &p->best));
  PetscCall(PetscCalloc3(p->P, &p->npts, p->P, &p->cap, p->P, &p->pts));
  PetscCall(PetscArraycpy(p->lo, lo, p->P));
  PetscCall(PetscArraycpy(p->hi, hi, p->P));
  if (!p->list[0] || !strcmp(p->list, "all"))
    for (PetscInt k = 0; k < p->P; k++)
      p->want[k] = PETSC_TRUE;
  else {
    char *copy, *item, *save = NULL;
    for (PetscInt k = 0; k < p->P; k++)
      p->want[k] = PETSC_FALSE;
    PetscCall(PetscStrallocpy(p->list, &copy));
    for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
      PetscInt k;
      for (k = 0; k < p->P; k++)
        if (!strcmp(p->names[k], item)) break;
      if (k == p->P) {
        char bad[256];
        PetscCall(PetscStrncpy(bad, item, sizeof(bad)));
        PetscCall(PetscFree(copy));
        SETERRQ(p->comm, PETSC_ERR_ARG_WRONG, "-stgssa_profile: '%s' is not a fitted parameter (-stgssa_fit); expected fitted names NAME,..., or no value for all", bad);
      }
      p->want[k] = PETSC_TRUE;
    }
    PetscCall(PetscFree(copy));
  }
  PetscFunctionReturn(0);
}

/* One evaluation at p->theta: total -log L and its gradient (total) into p->grad. */
static PetscErrorCode StgssaProfileEvaluate_Private(StgssaProfile p, PetscReal *f)
{
  PetscReal loss, cells;

  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorSetTheta(p->ev, p->theta));
  PetscCall(StgssaEvaluatorSetIteration(p->ev, 0));
  if (p->computed) PetscCall(StgssaEvaluatorEvaluate(p->ev)); /* the last one, at the optimum: as the fit's summary (forward sensitivities) */
  else PetscCall(StgssaEvaluatorEvaluateForLoss(p->ev)); /* adjoint gradient */
  PetscCall(StgssaObjectiveCompute(p->obj, p->ev, &loss, p->grad, NULL));
  PetscCall(StgssaObjectiveGetNegLogLikelihood(p->obj, f, &cells));
  PetscCheck(!PetscIsInfOrNanReal(*f), PETSC_COMM_SELF, PETSC_ERR_FP, "-log L is %g", (double)*f);
  for (PetscInt k = 0; k < p->P; k++) {
    p->grad[k] *= cells; /* per cell -> total */
    PetscCheck(!PetscIsInfOrNanReal(p->grad[k]), PETSC_COMM_SELF, PETSC_ERR_FP, "the gradient of -log L by log %s is %g", p->names[k], (double)p->grad[k]);
  }
  PetscFunctionReturn(0);
}

/* Collective: *ok false when the FSP (or the loss) failed at p->theta; the first failure is kept. */
static PetscErrorCode StgssaProfileEvaluate(StgssaProfile p, PetscReal *f, PetscBool *ok)
{
  PetscErrorCode ierr;
  int            bad, anybad;

  PetscFunctionBegin;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = StgssaProfileEvaluate_Private(p, f);
  PetscCall(PetscPopErrorHandler());
  PetscCheck(ierr != PETSC_ERR_MEM, PETSC_COMM_SELF, PETSC_ERR_MEM, "-stgssa_profile: out of memory");
  bad = ierr != 0;
  PetscCallMPI(MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, p->comm));
  p->nevals++;
  *ok = (PetscBool)!anybad;
  if (anybad) p->nfail++;
  if (anybad && !p->failmsg[0]) {
    char msg[768] = "another rank failed";
    if (ierr) PetscCall(StgssaErrorText(ierr, msg, sizeof(msg)));
    PetscCall(PetscSNPrintf(p->failmsg, sizeof(p->failmsg), "log %s = %.6g: %s", p->names[p->pfix], (double)p->theta[p->pfix], msg));
  }
  PetscFunctionReturn(0);
}

/* Inner TAO objective over the P - 1 free log-rates (all on rank 0). A point where the FSP fails
   is rejected to the line search as a high loss with zero gradient, as in the fit. */
static PetscErrorCode StgssaProfileTaoObjective(Tao tao, Vec X, PetscReal *f, Vec G, void *ctx)
{
  StgssaProfile      p = (StgssaProfile)ctx;
  const PetscScalar *x;
  PetscScalar       *g;
  PetscReal         *buf;
  PetscMPIInt        rank;
  PetscBool          ok;

  PetscFunctionBegin;
  (void)tao;
  PetscCallMPI(MPI_Comm_rank(p->comm, &rank));
  PetscCall(PetscMalloc1(p->P, &buf));
  PetscCall(VecGetArrayRead(X, &x));
  if (rank == 0)
    for (PetscInt k = 0; k < p->P - 1; k++)
      buf[k] = PetscRealPart(x[k]);
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCallMPI(MPI_Bcast(buf, (PetscMPIInt)(p->P - 1), MPIU_REAL, 0, p->comm));
  for (PetscInt k = 0, q = 0; k < p->P; k++)
    if (k != p->pfix) p->theta[k] = buf[q++];
  PetscCall(PetscFree(buf));
  PetscCall(StgssaProfileEvaluate(p, f, &ok));
  if (!p->ncalls++) {
    p->start_failed = (PetscBool)!ok;
    p->fstart       = ok ? *f : 0;
  }
  if (ok && (*f < p->fbest)) {
    p->fbest = *f;
    PetscCall(PetscArraycpy(p->best, p->theta, p->P));
  }
  if (!ok) {
    *f = p->fstart + 10 * (1 + PetscAbsReal(p->fstart));
    for (PetscInt k = 0; k < p->P; k++)
      p->grad[k] = 0;
  }
  /* TAO sees -log L per cell (as in the fit): gradients of order one keep blmvm's first steps sane */
  *f /= p->cells;
  PetscCall(VecGetArray(G, &g));
  if (rank == 0)
    for (PetscInt k = 0, q = 0; k < p->P; k++)
      if (k != p->pfix) g[q++] = p->grad[k] / p->cells;
  PetscCall(VecRestoreArray(G, &g));
  PetscFunctionReturn(0);
}

/* TAO's default test, then: converged when -log L fell by less than STGSSA_PROFILE_STALL over 3
   iterations (flat directions among the free log-rates). */
static PetscErrorCode StgssaProfileTaoConverged(Tao tao, void *ctx)
{
  StgssaProfile      p = (StgssaProfile)ctx;
  TaoConvergedReason reason;
  PetscReal          f;

  PetscFunctionBegin;
  PetscCall(TaoDefaultConvergenceTest(tao, NULL));
  PetscCall(TaoGetConvergedReason(tao, &reason));
  if (reason != TAO_CONTINUE_ITERATING) PetscFunctionReturn(0);
  PetscCall(TaoGetSolutionStatus(tao, NULL, &f, NULL, NULL, NULL, NULL));
  p->stall[p->nstall % 4] = f * p->cells; /* total -log L */
  f *= p->cells;
  p->nstall++;
  if (p->nstall > 3 && p->stall[(p->nstall - 4) % 4] - f < STGSSA_PROFILE_STALL) PetscCall(TaoSetConvergedReason(tao, TAO_CONVERGED_USER));
  PetscFunctionReturn(0);
}

/* The profile at theta_k = t: min over the other log-rates, warm-started from start [P];
   the minimizer into out [P], its -log L into *f; *ok false if the FSP failed at the start. */
static PetscErrorCode StgssaProfileSolve(StgssaProfile p, PetscInt k, PetscReal t, const PetscReal start[], PetscReal out[], PetscReal *f, PetscBool *ok)
{
  const PetscInt Q = p->P - 1;
  PetscMPIInt    rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(p->comm, &rank));
  p->pfix         = k;
  p->ncalls       = 0;
  p->nstall       = 0;
  p->fbest        = PETSC_INFINITY;
  p->start_failed = PETSC_FALSE;
  p->nsolves++;
  PetscCall(PetscArraycpy(p->theta, start, p->P));
  p->theta[k] = t;
  for (PetscInt j = 0; j < p->P; j++)
    if (j != k) p->theta[j] = PetscMin(PetscMax(p->theta[j], p->lo[j]), p->hi[j]);
  PetscCall(PetscArraycpy(p->best, p->theta, p->P));
  if (Q == 0) {
    PetscCall(StgssaProfileEvaluate(p, f, ok));
    PetscCall(PetscArraycpy(out, p->theta, p->P));
    PetscFunctionReturn(0);
  }
  {
    Tao          tao;
    Vec          X, G, XL = NULL, XU = NULL;
    PetscScalar *x, *l, *u;
    PetscBool    bounded = PETSC_FALSE;

    PetscCall(VecCreateMPI(p->comm, rank == 0 ? Q : 0, Q, &X));
    PetscCall(VecDuplicate(X, &G));
    PetscCall(VecGetArray(X, &x));
    if (rank == 0)
      for (PetscInt j = 0, q = 0; j < p->P; j++)
        if (j != k) x[q++] = p->theta[j];
    PetscCall(VecRestoreArray(X, &x));
    for (PetscInt j = 0; j < p->P; j++)
      if (j != k && (p->lo[j] > PETSC_NINFINITY || p->hi[j] < PETSC_INFINITY)) bounded = PETSC_TRUE;
    PetscCall(TaoCreate(p->comm, &tao));
    PetscCall(TaoSetType(tao, TAOBLMVM));
    PetscCall(TaoSetSolution(tao, X));
    PetscCall(TaoSetObjectiveAndGradient(tao, G, StgssaProfileTaoObjective, p));
    if (bounded) {
      PetscCall(VecDuplicate(X, &XL));
      PetscCall(VecDuplicate(X, &XU));
      PetscCall(VecGetArray(XL, &l));
      PetscCall(VecGetArray(XU, &u));
      if (rank == 0)
        for (PetscInt j = 0, q = 0; j < p->P; j++)
          if (j != k) {
            l[q]   = p->lo[j];
            u[q++] = p->hi[j];
          }
      PetscCall(VecRestoreArray(XL, &l));
      PetscCall(VecRestoreArray(XU, &u));
      PetscCall(TaoSetVariableBounds(tao, XL, XU));
    }
    PetscCall(TaoSetTolerances(tao, STGSSA_PROFILE_GATOL / p->cells, 0.0, 0.0)); /* per cell */
    PetscCall(TaoSetMaximumIterations(tao, STGSSA_PROFILE_MAXIT));
    PetscCall(TaoSetConvergenceTest(tao, StgssaProfileTaoConverged, p));
    PetscCall(TaoSolve(tao)); /* line-search failures near the minimum are fine: the best point counts */
    PetscCall(TaoDestroy(&tao));
    PetscCall(VecDestroy(&X));
    PetscCall(VecDestroy(&G));
    PetscCall(VecDestroy(&XL));
    PetscCall(VecDestroy(&XU));
  }
  *ok = (PetscBool)(!p->start_failed && p->fbest < PETSC_INFINITY);
  *f  = p->fbest;
  PetscCall(PetscArraycpy(out, p->best, p->P));
  PetscFunctionReturn(0);
}

/* Record a profile point of parameter k (log-rates theta [P], -log L f). */
static PetscErrorCode StgssaProfileRecord(StgssaProfile p, PetscInt k, const PetscReal theta[], PetscReal f)
{
  const PetscInt w = p->P + 1;

  PetscFunctionBegin;
  if (p->npts[k] == p->cap[k]) {
    p->cap[k] = p->cap[k] ? 2 * p->cap[k] : 32;
    PetscCall(PetscRealloc(sizeof(PetscReal) * w * p->cap[k], &p->pts[k]));
  }
  PetscCall(PetscArraycpy(&p->pts[k][p->npts[k] * w], theta, p->P));
  p->pts[k][p->npts[k] * w + p->P] = f;
  p->npts[k]++;
  p->nll_found = PetscMin(p->nll_found, f);
  PetscFunctionReturn(0);
}

/* r(h) = sqrt(max(l - l_min, 0)) - sqrt(1.92): negative inside the interval, linear in h for a
   quadratic profile. */
static PetscReal StgssaProfileR(StgssaProfile p, PetscReal f)
{
  return PetscSqrtReal(PetscMax(f - p->nll_min, 0.0)) - PetscSqrtReal(STGSSA_PROFILE_HALF_CHI2);
}

/*
  Start of the inner fit at theta_k = t from the optimum: the other log-rates phi moved along the
  quadratic approximation of -log L, phi(t) = phi^ - F_phiphi^{-1} F_phik (t - theta^_k) (Gaussian
  elimination with partial pivoting; phi^ where F_phiphi is singular or unknown).
*/
static PetscErrorCode StgssaProfileStartFromFisher(StgssaProfile p, PetscInt k, PetscReal t, PetscReal start[])
{
  const PetscInt P = p->P, Q = P - 1;
  PetscReal     *A, *b, amax = 0;
  PetscInt      *idx;
  PetscBool      ok = PETSC_TRUE;

  PetscFunctionBegin;
  PetscCall(PetscArraycpy(start, p->theta_hat, P));
  start[k] = t;
  if (!p->fisher || Q == 0) PetscFunctionReturn(0);
  PetscCall(PetscMalloc3(Q * Q, &A, Q, &b, Q, &idx));
  for (PetscInt i = 0, q = 0; i < P; i++)
    if (i != k) idx[q++] = i;
  for (PetscInt r = 0; r < Q; r++) {
    for (PetscInt c = 0; c < Q; c++)
      A[r * Q + c] = p->fisher[idx[r] * P + idx[c]];
    b[r] = -p->fisher[idx[r] * P + k] * (t - p->theta_hat[k]);
    amax = PetscMax(amax, PetscAbsReal(A[r * Q + r]));
  }
  for (PetscInt c = 0; c < Q && ok; c++) {
    PetscInt piv = c;
    for (PetscInt r = c + 1; r < Q; r++)
      if (PetscAbsReal(A[r * Q + c]) > PetscAbsReal(A[piv * Q + c])) piv = r;
    if (!(PetscAbsReal(A[piv * Q + c]) > 1e-10 * amax)) {
      ok = PETSC_FALSE;
      break;
    }
    if (piv != c) {
      for (PetscInt j = 0; j < Q; j++) {
        const PetscReal tmp = A[c * Q + j];
        A[c * Q + j]        = A[piv * Q + j];
        A[piv * Q + j]      = tmp;
      }
      {
        const PetscReal tmp = b[c];
        b[c]                = b[piv];
        b[piv]              = tmp;
      }
    }
    for (PetscInt r = c + 1; r < Q; r++) {
      const PetscReal m = A[r * Q + c] / A[c * Q + c];
      for (PetscInt j = c; j < Q; j++)
        A[r * Q + j] -= m * A[c * Q + j];
      b[r] -= m * b[c];
    }
  }
  if (ok) {
    for (PetscInt r = Q - 1; r >= 0; r--) {
      PetscReal v = b[r];
      for (PetscInt j = r + 1; j < Q; j++)
        v -= A[r * Q + j] * b[j];
      b[r] = v / A[r * Q + r];
    }
    for (PetscInt q = 0; q < Q; q++)
      if (PetscIsNormalReal(b[q]) || b[q] == 0) start[idx[q]] += b[q];
  }
  PetscCall(PetscFree3(A, b, idx));
  PetscFunctionReturn(0);
}

/* start = the line through the solved points a (at offset ha) and b (at hb), at offset h */
static void StgssaProfileStartLine(PetscInt P, PetscReal ha, const PetscReal a[], PetscReal hb, const PetscReal b[], PetscReal h, PetscReal start[])
{
  const PetscReal w = (h - ha) / (hb - ha);
  for (PetscInt j = 0; j < P; j++)
    start[j] = a[j] + w * (b[j] - a[j]);
}

/* One side (s = -1 lower, +1 upper) of the interval of parameter k: the crossing in log-rate
   offset h >= 0 from theta^_k, or the reason there is none. */
static PetscErrorCode StgssaProfileSide(StgssaProfile p, PetscInt k, PetscInt s, PetscReal h0, PetscReal *hcross, PetscInt *end)
{
  const PetscReal t0   = p->theta_hat[k];
  const PetscReal hb   = s > 0 ? p->hi[k] - t0 : t0 - p->lo[k]; /* distance to the bound */
  const PetscReal hmax = PetscMin(PetscLogReal(p->range), hb);
  PetscReal      *ta, *tb, *tn, *tp, *st, ha = 0, hp = 0, ra = -PetscSqrtReal(STGSSA_PROFILE_HALF_CHI2), hbk = 0, rb = 0, h, f;
  PetscBool       ok;

  PetscFunctionBegin;
  *hcross = (PetscReal)NAN;
  PetscCall(PetscMalloc5(p->P, &ta, p->P, &tb, p->P, &tn, p->P, &tp, p->P, &st));
  PetscCall(PetscArraycpy(ta, p->theta_hat, p->P));
  h = PetscMin(h0, hmax);
  /* walk outwards until -log L rises by 1.92 (bracket [ha, hbk]) or the walk ends; each start
     extrapolates the path of the other log-rates (from the Fisher information at the first step,
     then along the line through the last two points); where the FSP fails the step is halved */
  for (;;) {
    if (h <= 0) { /* at a bound already */
      *end = STGSSA_PROFILE_BOUND;
      goto done;
    }
    for (PetscInt half = 0;; half++) {
      if (ha == 0)
        PetscCall(StgssaProfileStartFromFisher(p, k, t0 + s * h, st));
      else
        StgssaProfileStartLine(p->P, hp, tp, ha, ta, h, st);
      PetscCall(StgssaProfileSolve(p, k, t0 + s * h, st, tn, &f, &ok));
      if (ok) break;
      if (half == 6 || h - ha < 2 * p->tol) {
        *end = STGSSA_PROFILE_FAILED;
        goto done;
      }
      h = ha + 0.5 * (h - ha);
    }
    PetscCall(StgssaProfileRecord(p, k, tn, f));
    if (StgssaProfileR(p, f) >= 0) {
      hbk = h;
      rb  = StgssaProfileR(p, f);
      PetscCall(PetscArraycpy(tb, tn, p->P));
      break;
    }
    if (h >= hmax) {
      *end = hmax < hb ? STGSSA_PROFILE_RANGE : STGSSA_PROFILE_BOUND;
      goto done;
    }
    hp = ha;
    PetscCall(PetscArraycpy(tp, ta, p->P));
    ha = h;
    ra = StgssaProfileR(p, f);
    PetscCall(PetscArraycpy(ta, tn, p->P));
    { /* next step: where a quadratic through the optimum would reach 1.92, 10% beyond; 1.2 to 4 times h */
      const PetscReal d = f - p->nll_min;
      PetscReal       g = d > 1e-3 ? 1.1 * PetscSqrtReal(STGSSA_PROFILE_HALF_CHI2 / d) : 4.0;
      h                 = PetscMin(h * PetscMin(PetscMax(g, 1.2), 4.0), hmax);
    }
  }
  /* refine: interpolate r linearly in h (exact for a quadratic profile), kept tol/4 inside the
     bracket; after each interpolated point a probe tol/2 across the expected crossing, which
     closes the bracket when the interpolation was good */
  for (PetscInt it = 0; hbk - ha > p->tol && it < 60; it++) {
    PetscReal hn = ha + (hbk - ha) * (-ra) / (rb - ra), r;
    hn           = PetscMin(PetscMax(hn, ha + 0.25 * p->tol), hbk - 0.25 * p->tol);
    for (int probe = 0; probe < 2 && hbk - ha > p->tol; probe++) {
      StgssaProfileStartLine(p->P, ha, ta, hbk, tb, hn, st);
      PetscCall(StgssaProfileSolve(p, k, t0 + s * hn, st, tn, &f, &ok));
      if (!ok) {
        *end = STGSSA_PROFILE_FAILED;
        goto done;
      }
      PetscCall(StgssaProfileRecord(p, k, tn, f));
      r = StgssaProfileR(p, f);
      if (r >= 0) {
        hbk = hn;
        rb  = r;
        PetscCall(PetscArraycpy(tb, tn, p->P));
        hn = hn - 0.5 * p->tol;
        if (hn <= ha) break;
      } else {
        ha = hn;
        ra = r;
        PetscCall(PetscArraycpy(ta, tn, p->P));
        hn = hn + 0.5 * p->tol;
        if (hn >= hbk) break;
      }
    }
  }
  *hcross = ha + (hbk - ha) * (-ra) / (rb - ra);
  *end    = STGSSA_PROFILE_CROSSED;
done:
  PetscCall(PetscFree5(ta, tb, tn, tp, st));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaProfileCompute(StgssaProfile p, const PetscReal theta[])
{
  PetscInt         Pf;
  const PetscReal *se, *fci, *F;
  PetscReal        f;
  PetscBool        ok;

  PetscFunctionBegin;
  if (!p->active) PetscFunctionReturn(0);
  PetscCall(StgssaObjectiveGetNegLogLikelihood(p->obj, &p->nll_min, &p->cells)); /* at theta: Summarize evaluated there */
  PetscCheck(p->cells > 0, p->comm, PETSC_ERR_ARG_WRONG, "-stgssa_profile: no cells in the data");
  PetscCall(StgssaObjectiveGetUncertainty(p->obj, &Pf, &F, &se, &fci));
  if (Pf == p->P && !p->fisher) {
    PetscCall(PetscMalloc1(p->P * p->P, &p->fisher));
    PetscCall(PetscArraycpy(p->fisher, F, p->P * p->P));
  }
  PetscCall(PetscArraycpy(p->theta_hat, theta, p->P));
  p->nll_found = p->nll_min;
  for (PetscInt k = 0; k < p->P; k++) {
    PetscReal h0 = 0.1;
    p->ci[2 * k] = p->ci[2 * k + 1] = (PetscReal)NAN;
    p->fisher_ci[2 * k]             = Pf == p->P ? fci[2 * k] : (PetscReal)NAN;
    p->fisher_ci[2 * k + 1]         = Pf == p->P ? fci[2 * k + 1] : (PetscReal)NAN;
    p->end[2 * k] = p->end[2 * k + 1] = STGSSA_PROFILE_NONE;
    if (!p->want[k]) continue;
    /* first step: the Fisher half-width where it is finite (the crossing for a quadratic profile) */
    if (Pf == p->P && PetscIsNormalReal(se[k])) h0 = PetscMax(1.96 * se[k], 2 * p->tol);
    PetscCall(StgssaProfileRecord(p, k, theta, p->nll_min));
    for (PetscInt side = 0; side < 2; side++) {
      const PetscInt s = side ? 1 : -1;
      PetscReal      hc;
      PetscInt       end = STGSSA_PROFILE_FAILED;
      PetscCall(StgssaProfileSide(p, k, s, h0, &hc, &end));
      p->end[2 * k + side] = end;
      if (end == STGSSA_PROFILE_CROSSED)
        p->ci[2 * k + side] = PetscExpReal(theta[k] + s * hc);
      else if (end == STGSSA_PROFILE_FAILED)
        p->ci[2 * k + side] = (PetscReal)NAN;
      else
        p->ci[2 * k + side] = side ? (PetscReal)INFINITY : 0.0;
    }
  }
  /* leave the evaluator and the objective at the optimum (its -log L is written to /result) */
  PetscCall(PetscArraycpy(p->theta, theta, p->P));
  p->pfix     = 0;
  p->computed = PETSC_TRUE;
  PetscCall(StgssaProfileEvaluate(p, &f, &ok));
  PetscCheck(ok, p->comm, PETSC_ERR_LIB, "-stgssa_profile: the FSP failed at the fitted rates again: %s", p->failmsg);
  PetscFunctionReturn(0);
}

static const char *StgssaProfileEndText(PetscInt end)
{
  switch (end) {
  case STGSSA_PROFILE_RANGE:
    return "no crossing within -stgssa_profile_range";
  case STGSSA_PROFILE_BOUND:
    return "no crossing within -stgssa_bounds";
  case STGSSA_PROFILE_FAILED:
    return "FSP failed on the way";
  default:
    return NULL;
  }
}

PetscErrorCode StgssaProfileView(StgssaProfile p, const char *const names[], PetscViewer viewer)
{
  PetscFunctionBegin;
  if (!p->active || !p->computed) PetscFunctionReturn(0);
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(p->comm, &viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer, "Profile-likelihood 95%% intervals (-log L within %.4g of its minimum, other rates re-fitted; %" PetscInt_FMT " inner fits, %" PetscInt_FMT " FSP evaluations):\n", STGSSA_PROFILE_HALF_CHI2, p->nsolves,
                                   p->nevals));
  PetscCall(PetscViewerASCIIPrintf(viewer, "  %-12s %12s   %-26s %-26s %s\n", "parameter", "estimate", "profile 95% interval", "Fisher 95% interval", "points"));
  for (PetscInt k = 0; k < p->P; k++) {
    char a[64], b[64];
    if (!p->want[k]) continue;
    PetscCall(PetscSNPrintf(a, sizeof(a), "[%.4g, %.4g]", (double)p->ci[2 * k], (double)p->ci[2 * k + 1]));
    PetscCall(PetscSNPrintf(b, sizeof(b), "[%.4g, %.4g]", (double)p->fisher_ci[2 * k], (double)p->fisher_ci[2 * k + 1]));
    PetscCall(PetscViewerASCIIPrintf(viewer, "  %-12s %12.6g   %-26s %-26s %" PetscInt_FMT "\n", names[k], (double)PetscExpReal(p->theta_hat[k]), a, b, p->npts[k]));
    for (PetscInt side = 0; side < 2; side++) {
      const char *why = StgssaProfileEndText(p->end[2 * k + side]);
      if (!why) continue;
      if (p->end[2 * k + side] == STGSSA_PROFILE_RANGE)
        PetscCall(PetscViewerASCIIPrintf(viewer, "    %s %s end: unbounded (%s, a factor %g)\n", names[k], side ? "upper" : "lower", why, (double)p->range));
      else
        PetscCall(PetscViewerASCIIPrintf(viewer, "    %s %s end: %s (%s)\n", names[k], side ? "upper" : "lower", p->end[2 * k + side] == STGSSA_PROFILE_FAILED ? "unknown" : "unbounded", why));
    }
  }
  if (p->nfail) PetscCall(PetscViewerASCIIPrintf(viewer, "  %" PetscInt_FMT " point%s where the FSP failed (trial points are rejected to the line search), first at %s\n", p->nfail, p->nfail > 1 ? "s" : "", p->failmsg));
  if (p->nll_found < p->nll_min - 0.01)
    PetscCall(PetscViewerASCIIPrintf(viewer, "  WARNING: the profile found -log L %.6g, %.4g below the fit's: the fit had not converged; the intervals are relative to the fit's -log L\n", (double)p->nll_found, (double)(p->nll_min - p->nll_found)));
  PetscFunctionReturn(0);
}

/* sort rows of n x w by column c (insertion sort: a few dozen rows) */
static void StgssaProfileSortRows(PetscInt n, PetscInt w, PetscInt c, PetscReal *a, PetscReal *tmp)
{
  for (PetscInt i = 1; i < n; i++) {
    PetscInt j = i;
    memcpy(tmp, &a[i * w], sizeof(PetscReal) * (size_t)w);
    while (j > 0 && a[(j - 1) * w + c] > tmp[c]) {
      memcpy(&a[j * w], &a[(j - 1) * w], sizeof(PetscReal) * (size_t)w);
      j--;
    }
    memcpy(&a[j * w], tmp, sizeof(PetscReal) * (size_t)w);
  }
}

PetscErrorCode StgssaProfileWriteHDF5(StgssaProfile p, hid_t g)
{
  const PetscInt w     = p->P + 1;
  hsize_t        d2[2] = {(hsize_t)p->P, 2};
  hid_t          gp, gt, ds;

  PetscFunctionBegin;
  if (!p->active || !p->computed) PetscFunctionReturn(0);
  PetscCall(StgssaH5WriteDoubles(g, "profile_ci95", 2, d2, p->ci));
  PetscCallHDF5(ds = H5Dopen2(g, "profile_ci95", H5P_DEFAULT));
  PetscCall(StgssaH5WriteAttrDouble(ds, "threshold", STGSSA_PROFILE_HALF_CHI2));
  PetscCall(StgssaH5WriteAttrDouble(ds, "range", p->range));
  PetscCall(StgssaH5WriteAttrDouble(ds, "tol", p->tol));
  PetscCall(StgssaH5WriteAttrDouble(ds, "neg_log_likelihood_min", p->nll_min));
  PetscCallHDF5(H5Dclose(ds));
  PetscCallHDF5(gp = H5Gcreate2(g, "profile", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCallHDF5(gt = H5Gcreate2(g, "profile_log_rates", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  for (PetscInt k = 0; k < p->P; k++) {
    const PetscInt n = p->npts[k];
    PetscReal     *a, *tmp, *two, *th;
    hsize_t        dn2[2] = {(hsize_t)n, 2}, dnp[2] = {(hsize_t)n, (hsize_t)p->P};
    if (!p->want[k]) continue;
    PetscCall(PetscMalloc4(n * w, &a, w, &tmp, 2 * n, &two, n * p->P + 1, &th));
    PetscCall(PetscArraycpy(a, p->pts[k], n * w));
    StgssaProfileSortRows(n, w, k, a, tmp);
    for (PetscInt i = 0; i < n; i++) {
      two[2 * i]     = a[i * w + k];
      two[2 * i + 1] = a[i * w + p->P];
      PetscCall(PetscArraycpy(&th[i * p->P], &a[i * w], p->P));
    }
    PetscCall(StgssaH5WriteDoubles(gp, p->names[k], 2, dn2, two));
    PetscCallHDF5(ds = H5Dopen2(gp, p->names[k], H5P_DEFAULT));
    PetscCall(StgssaH5WriteAttrString(ds, "columns", "log-rate, -log L (total)"));
    PetscCallHDF5(H5Dclose(ds));
    PetscCall(StgssaH5WriteDoubles(gt, p->names[k], 2, dnp, th));
    PetscCall(PetscFree4(a, tmp, two, th));
  }
  PetscCallHDF5(H5Gclose(gp));
  PetscCallHDF5(H5Gclose(gt));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaProfileDestroy(StgssaProfile *prof)
{
  StgssaProfile p = *prof;

  PetscFunctionBegin;
  if (!p) PetscFunctionReturn(0);
  PetscCall(PetscFree4(p->want, p->lo, p->hi, p->theta_hat));
  PetscCall(PetscFree4(p->ci, p->fisher_ci, p->end, p->theta));
  PetscCall(PetscFree2(p->grad, p->best));
  PetscCall(PetscFree(p->fisher));
  if (p->pts)
    for (PetscInt k = 0; k < p->P; k++)
      PetscCall(PetscFree(p->pts[k]));
  PetscCall(PetscFree3(p->npts, p->cap, p->pts));
  PetscCall(PetscFree(*prof));
  PetscFunctionReturn(0);
}
