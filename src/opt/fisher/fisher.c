/* SPDX-License-Identifier: BSD-2-Clause */
/*
  TAOFISHER: stochastic Fisher scoring (include/stgssa/fisher.h). For a log-likelihood loss
  f = -log L / n the Fisher information per observation I(x) is the expected Hessian of f, and the
  scoring step d = -I^{-1} g is Newton's step without the noise of a Hessian estimate: it
  converges in a few iterations in every well-identified direction whatever the scaling and
  correlation of the parameters, where a diagonal method (Adam) crawls along a correlated
  valley. With a stochastic g (and a plug-in I) the iterates scatter around the optimum by
  I^{-1} times the gradient noise; iterate averaging and a growing sample size (the caller's
  schedule) take that noise down.
*/
#include <petsc/private/taoimpl.h> /*I "petsctao.h" I*/
#include <petscblaslapack.h>
#include <stgssa/fisher.h>

typedef struct {
  Vec       G;        /* unprojected gradient; tao->gradient holds its projection */
  PetscReal step;     /* alpha: x <- x + alpha d */
  PetscReal damping;  /* mu: eigenvalues below mu * lambda_max are raised to it (Levenberg-Marquardt floor) */
  PetscReal max_step; /* Delta: each eigendirection's term of alpha d is clipped to length Delta */
  PetscInt  it0;      /* iteration count the next solve starts from */
  PetscReal last;     /* length max_i |x_{k+1} - x_k| of the last step, for monitors */
} TAO_FISHER;

/* f, g at the solution; tao->gradient = g with the components that push against an active bound
   zeroed (as VecBoundGradientProjection); its 2-norm. */
static PetscErrorCode TaoFisherEvaluate_Private(Tao tao, PetscReal *f, PetscReal *gnorm)
{
  TAO_FISHER *fs = (TAO_FISHER *)tao->data;

  PetscFunctionBegin;
  PetscCall(TaoComputeObjectiveAndGradient(tao, tao->solution, f, fs->G));
  PetscCall(VecCopy(fs->G, tao->gradient));
  if (tao->bounded && (tao->XL || tao->XU)) {
    PetscInt           n;
    const PetscScalar *x, *xl = NULL, *xu = NULL;
    PetscScalar       *g;
    PetscCall(VecGetLocalSize(tao->solution, &n));
    PetscCall(VecGetArrayRead(tao->solution, &x));
    PetscCall(VecGetArray(tao->gradient, &g));
    if (tao->XL) PetscCall(VecGetArrayRead(tao->XL, &xl));
    if (tao->XU) PetscCall(VecGetArrayRead(tao->XU, &xu));
    for (PetscInt i = 0; i < n; i++) {
      if (PetscIsInfOrNanScalar(g[i])) continue;
      if ((xl && PetscRealPart(g[i]) > 0 && PetscRealPart(x[i]) <= PetscRealPart(xl[i])) || (xu && PetscRealPart(g[i]) < 0 && PetscRealPart(x[i]) >= PetscRealPart(xu[i]))) g[i] = 0;
    }
    if (tao->XU) PetscCall(VecRestoreArrayRead(tao->XU, &xu));
    if (tao->XL) PetscCall(VecRestoreArrayRead(tao->XL, &xl));
    PetscCall(VecRestoreArray(tao->gradient, &g));
    PetscCall(VecRestoreArrayRead(tao->solution, &x));
  }
  PetscCall(VecNorm(tao->gradient, NORM_2, gnorm));
  PetscFunctionReturn(0);
}

/*
  The step, on the rank that owns the whole solution (n = N there, 0 elsewhere):
    free set F: coordinates not held at a bound by the gradient;
    H_FF = V diag(lambda) V^T (symmetrized, LAPACK syev);
    d_F = -sum_k v_k c_k,  c_k = (v_k^T g_F) / max(lambda_k, mu lambda_max), |alpha c_k| clipped
          to Delta (a trust region per eigendirection);  d = 0 off F;
    x <- P_[XL,XU](x + alpha d).
  Without positive curvature (lambda_max <= 0) d = -g scaled to max_i |alpha d_i| <= Delta.
*/
static PetscErrorCode TaoFisherStep_Private(Tao tao)
{
  TAO_FISHER        *fs = (TAO_FISHER *)tao->data;
  PetscInt           n, N, nf = 0, lda;
  PetscScalar       *x, *d;
  const PetscScalar *g, *xl = NULL, *xu = NULL, *h;
  PetscInt          *fr;
  PetscReal         *A, *w, *work, *gf, *df, lmax = 0, dmax = 0, scale = 1;
  PetscBLASInt       bn, lwork, info;

  PetscFunctionBegin;
  PetscCall(VecGetSize(tao->solution, &N));
  PetscCall(VecGetLocalSize(tao->solution, &n));
  PetscCheck(n == N || n == 0, PETSC_COMM_SELF, PETSC_ERR_SUP, "TAOFISHER: the solution must live on one rank (local size %" PetscInt_FMT " of %" PetscInt_FMT ")", n, N);
  fs->last = 0;
  if (!n) PetscFunctionReturn(0);
  PetscCall(VecGetArray(tao->solution, &x));
  PetscCall(VecGetArrayWrite(tao->stepdirection, &d));
  PetscCall(VecGetArrayRead(tao->gradient, &g));
  if (tao->XL) PetscCall(VecGetArrayRead(tao->XL, &xl));
  if (tao->XU) PetscCall(VecGetArrayRead(tao->XU, &xu));
  PetscCall(MatDenseGetLDA(tao->hessian, &lda));
  PetscCall(MatDenseGetArrayRead(tao->hessian, &h));
  PetscCall(PetscMalloc6(n, &fr, n * n, &A, n, &w, 3 * n + 64, &work, n, &gf, n, &df));
  for (PetscInt i = 0; i < n; i++) {
    d[i] = 0;
    /* held: at a bound with the (projected) gradient zeroed there, or pushing outward */
    if (!(tao->bounded && ((xl && PetscRealPart(x[i]) <= PetscRealPart(xl[i]) && PetscRealPart(g[i]) >= 0) || (xu && PetscRealPart(x[i]) >= PetscRealPart(xu[i]) && PetscRealPart(g[i]) <= 0)))) fr[nf++] = i;
  }
  for (PetscInt a = 0; a < nf; a++) {
    gf[a] = PetscRealPart(g[fr[a]]);
    for (PetscInt b = 0; b < nf; b++) A[a + b * nf] = 0.5 * (PetscRealPart(h[fr[a] + fr[b] * lda]) + PetscRealPart(h[fr[b] + fr[a] * lda])); /* column-major */
  }
  PetscCall(MatDenseRestoreArrayRead(tao->hessian, &h));
  if (nf) {
    PetscCall(PetscBLASIntCast(nf, &bn));
    PetscCall(PetscBLASIntCast(3 * n + 64, &lwork));
    PetscCall(PetscFPTrapPush(PETSC_FP_TRAP_OFF));
    LAPACKsyev_("V", "U", &bn, A, &bn, w, work, &lwork, &info);
    PetscCall(PetscFPTrapPop());
    PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "TAOFISHER: LAPACK syev failed on the Fisher information (info %d)", (int)info);
    lmax = w[nf - 1];
    for (PetscInt a = 0; a < nf; a++) df[a] = 0;
    if (lmax > 0 && PetscIsNormalReal(lmax)) {
      const PetscReal floor = fs->damping * lmax;
      for (PetscInt k = 0; k < nf; k++) { /* column k of A is eigenvector k */
        PetscReal c = 0;
        for (PetscInt a = 0; a < nf; a++) c += A[a + k * nf] * gf[a];
        c /= PetscMax(w[k], floor);
        /* the trust region per eigendirection: a weakly identified direction (small lambda_k) turns
           gradient noise into a long step; clipping it there leaves the well-identified
           directions their full scoring step (scaling the whole step would stall them too) */
        if (PetscAbsReal(fs->step * c) > fs->max_step) c = PetscSign(c) * fs->max_step / fs->step;
        for (PetscInt a = 0; a < nf; a++) df[a] -= c * A[a + k * nf];
      }
    } else {
      for (PetscInt a = 0; a < nf; a++) dmax = PetscMax(dmax, PetscAbsReal(fs->step * gf[a]));
      if (dmax > fs->max_step) scale = fs->max_step / dmax;
      for (PetscInt a = 0; a < nf; a++) df[a] = -scale * gf[a];
    }
    for (PetscInt a = 0; a < nf; a++) d[fr[a]] = df[a];
  }
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal x0 = PetscRealPart(x[i]);
    PetscReal       xi = x0 + fs->step * PetscRealPart(d[i]);
    if (xl && xi < PetscRealPart(xl[i])) xi = PetscRealPart(xl[i]);
    if (xu && xi > PetscRealPart(xu[i])) xi = PetscRealPart(xu[i]);
    x[i]     = xi;
    fs->last = PetscMax(fs->last, PetscAbsReal(xi - x0));
  }
  PetscCall(PetscFree6(fr, A, w, work, gf, df));
  if (tao->XU) PetscCall(VecRestoreArrayRead(tao->XU, &xu));
  if (tao->XL) PetscCall(VecRestoreArrayRead(tao->XL, &xl));
  PetscCall(VecRestoreArrayRead(tao->gradient, &g));
  PetscCall(VecRestoreArrayWrite(tao->stepdirection, &d));
  PetscCall(VecRestoreArray(tao->solution, &x));
  PetscFunctionReturn(0);
}

static PetscErrorCode TaoSolve_FISHER(Tao tao)
{
  TAO_FISHER *fs = (TAO_FISHER *)tao->data;
  PetscReal   f, gnorm;

  PetscFunctionBegin;
  PetscCheck(tao->hessian && tao->ops->computehessian, PetscObjectComm((PetscObject)tao), PETSC_ERR_ORDER, "TAOFISHER needs the Fisher information as the Hessian: TaoSetHessian() with a dense matrix");
  PetscCall(TaoComputeVariableBounds(tao));
  if (tao->bounded && (tao->XL || tao->XU)) PetscCall(VecMedian(tao->XL, tao->solution, tao->XU, tao->solution));
  tao->niter  = fs->it0;
  tao->reason = TAO_CONTINUE_ITERATING;
  fs->last    = 0;
  for (;;) { /* evaluate at x_k, report, test; then step to x_{k+1} */
    PetscCall(TaoFisherEvaluate_Private(tao, &f, &gnorm));
    if (PetscIsInfOrNanReal(f) || PetscIsInfOrNanReal(gnorm)) {
      tao->reason = TAO_DIVERGED_NAN;
      break;
    }
    PetscCall(TaoLogConvergenceHistory(tao, f, gnorm, 0.0, tao->ksp_its));
    PetscCall(TaoMonitor(tao, tao->niter, f, gnorm, 0.0, fs->last));
    PetscUseTypeMethod(tao, convergencetest, tao->cnvP);
    if (tao->reason != TAO_CONTINUE_ITERATING) break;
    PetscTryTypeMethod(tao, update, tao->niter, tao->user_update);
    PetscCall(TaoComputeHessian(tao, tao->solution, tao->hessian, tao->hessian_pre));
    PetscCall(TaoFisherStep_Private(tao));
    tao->niter++;
    fs->it0 = tao->niter;
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode TaoSetUp_FISHER(Tao tao)
{
  TAO_FISHER *fs = (TAO_FISHER *)tao->data;

  PetscFunctionBegin;
  if (!tao->gradient) PetscCall(VecDuplicate(tao->solution, &tao->gradient));
  if (!tao->stepdirection) PetscCall(VecDuplicate(tao->solution, &tao->stepdirection));
  PetscCall(VecDestroy(&fs->G));
  PetscCall(VecDuplicate(tao->solution, &fs->G));
  if (tao->bounded && (tao->XL || tao->XU)) { /* VecMedian needs both */
    if (!tao->XL) {
      PetscCall(VecDuplicate(tao->solution, &tao->XL));
      PetscCall(VecSet(tao->XL, PETSC_NINFINITY));
    }
    if (!tao->XU) {
      PetscCall(VecDuplicate(tao->solution, &tao->XU));
      PetscCall(VecSet(tao->XU, PETSC_INFINITY));
    }
  }
  fs->it0 = 0;
  PetscFunctionReturn(0);
}

static PetscErrorCode TaoDestroy_FISHER(Tao tao)
{
  TAO_FISHER *fs = (TAO_FISHER *)tao->data;

  PetscFunctionBegin;
  PetscCall(VecDestroy(&fs->G));
  PetscCall(PetscFree(tao->data));
  PetscFunctionReturn(0);
}

static PetscErrorCode TaoSetFromOptions_FISHER(Tao tao, PetscOptionItems *PetscOptionsObject)
{
  TAO_FISHER *fs   = (TAO_FISHER *)tao->data;
  MPI_Comm    comm = PetscObjectComm((PetscObject)tao);
  PetscReal   a = fs->step, mu = fs->damping, D = fs->max_step;
  PetscBool   ok;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Stochastic Fisher scoring");
  PetscCall(PetscOptionsReal("-tao_fisher_step", "step length alpha of x + alpha d, d = -I^{-1} g (1: the scoring step)", "TAOFISHER", a, &a, NULL));
  PetscCall(PetscOptionsReal("-tao_fisher_damping", "eigenvalues of I below this fraction of the largest are raised to it", "TAOFISHER", mu, &mu, NULL));
  PetscCall(PetscOptionsReal("-tao_fisher_max_step", "largest step along one eigendirection of I (longer ones are clipped to it)", "TAOFISHER", D, &D, NULL));
  PetscOptionsHeadEnd();
  ok = (PetscBool)(a > 0 && PetscIsNormalReal(a) && mu > 0 && mu < 1 && D > 0 && PetscIsNormalReal(D));
  if (!ok) { /* see TaoSetFromOptions_ADAM: PETSc 3.18 skips PetscOptionsEnd() on an error here */
    PetscCall(PetscFree(PetscOptionsObject->prefix));
    PetscCall(PetscFree(PetscOptionsObject->title));
  }
  PetscCheck(a > 0 && PetscIsNormalReal(a), comm, PETSC_ERR_ARG_OUTOFRANGE, "-tao_fisher_step %g must be finite and > 0", (double)a);
  PetscCheck(mu > 0 && mu < 1, comm, PETSC_ERR_ARG_OUTOFRANGE, "-tao_fisher_damping %g must be in (0, 1)", (double)mu);
  PetscCheck(D > 0 && PetscIsNormalReal(D), comm, PETSC_ERR_ARG_OUTOFRANGE, "-tao_fisher_max_step %g must be finite and > 0", (double)D);
  fs->step     = a;
  fs->damping  = mu;
  fs->max_step = D;
  PetscFunctionReturn(0);
}

static PetscErrorCode TaoView_FISHER(Tao tao, PetscViewer viewer)
{
  TAO_FISHER *fs = (TAO_FISHER *)tao->data;
  PetscBool   isascii;

  PetscFunctionBegin;
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &isascii));
  if (isascii) PetscCall(PetscViewerASCIIPrintf(viewer, "Fisher scoring: step %g, damping %g, max step %g\n", (double)fs->step, (double)fs->damping, (double)fs->max_step));
  PetscFunctionReturn(0);
}

/*MC
  TAOFISHER - "fisher": stochastic Fisher scoring for likelihood fits, with bounds.

  Each iteration evaluates f and g at x, asks the Hessian routine (TaoSetHessian(), a dense
  matrix with the solution's layout) for the Fisher information I, and steps
.vb
     x = P( x + alpha d ),   d = -sum_k v_k (v_k^T g) / max(lambda_k, mu lambda_max)
.ve
  over the eigenpairs of I on the coordinates not held at a bound, each term clipped to length
  -tao_fisher_max_step (a weakly identified direction, where noise makes long steps, is held
  back without slowing the others). The residual is the projected gradient's
  2-norm; the step length reported to monitors is max_i |x_{k+1} - x_k|.

  Options Database Keys:
+ -tao_fisher_step <1> - alpha (1: the scoring step)
. -tao_fisher_damping <1e-4> - mu, the eigenvalue floor relative to the largest
- -tao_fisher_max_step <0.5> - largest step along one eigendirection

  Level: intermediate

  Notes:
  Defaults changed when the user has not set them, as for TAOADAM: -tao_max_it 100,
  -tao_gatol 0, -tao_grtol 0 (a noisy small gradient must not stop the run). The solution must
  live on one rank. No state but the iteration count (TaoFisherSetStep() for restarts).
M*/
PETSC_EXTERN PetscErrorCode TaoCreate_FISHER(Tao tao)
{
  TAO_FISHER *fs;

  PetscFunctionBegin;
  tao->ops->setup          = TaoSetUp_FISHER;
  tao->ops->solve          = TaoSolve_FISHER;
  tao->ops->view           = TaoView_FISHER;
  tao->ops->setfromoptions = TaoSetFromOptions_FISHER;
  tao->ops->destroy        = TaoDestroy_FISHER;
  PetscCall(PetscNew(&fs));
  fs->step     = 1.0;
  fs->damping  = 1e-4;
  fs->max_step = 0.5;
  tao->data    = (void *)fs;
  if (!tao->max_it_changed) tao->max_it = 100;
  if (!tao->gatol_changed) tao->gatol = 0.0;
  if (!tao->grtol_changed) tao->grtol = 0.0;
  PetscFunctionReturn(0);
}

PetscErrorCode TaoFisherSetStep(Tao tao, PetscInt step)
{
  PetscBool isf;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(tao, TAO_CLASSID, 1);
  PetscCall(PetscObjectTypeCompare((PetscObject)tao, TAOFISHER, &isf));
  PetscCheck(isf, PetscObjectComm((PetscObject)tao), PETSC_ERR_ARG_WRONG, "TaoFisherSetStep() needs a Tao of type %s", TAOFISHER);
  PetscCheck(step >= 0, PetscObjectComm((PetscObject)tao), PETSC_ERR_ARG_OUTOFRANGE, "TaoFisherSetStep(): step %" PetscInt_FMT " must be >= 0", step);
  ((TAO_FISHER *)tao->data)->it0 = step;
  PetscFunctionReturn(0);
}
