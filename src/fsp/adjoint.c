/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaFSP: gradients of a loss of the marginals by the adjoint (backward) method (issue 15).

  A loss L of the marginals at the sample times has dL/dp(t_k) = g_k (the caller's weights on the
  marginals, StgssaFSPGetAdjointWeights, spread over the states). With the sensitivities
  s_q' = A s_q + D_q p (D_q = dA/dtheta_q) and the adjoint
      lambda' = -A^T lambda  between samples,  lambda(T+) = 0,  lambda(t_k-) = lambda(t_k+) + g_k,
  d(lambda^T s_q)/dt = lambda^T D_q p, so
      dL/dtheta_q = sum_k g_k^T s_q(t_k) = lambda(0-)^T s_q(0) + int_0^T lambda^T D_q p dt.
  s_q(0) = 0 from the point mass at x0; from the steady start Mss s_q(0) = r_q (r_q = -D_q p0 with
  the row of x0 zero, steady.c), so lambda(0-)^T s_q(0) = mu^T r_q with Mss^T mu = lambda(0-)
  (plus the weights of steady-state samples): one transposed solve with the steady factorization.

  The forward pass integrates p alone and stores every step: p and dp/dt = A p at both ends (the
  one-sided A at breakpoints of table inputs); the backward pass evaluates p(t) by cubic Hermite
  interpolation on the step that holds t. The backward pass integrates y = (lambda, G_1..G_P) in
  reversed time sigma = T - t with the forward integrator's scheme and tolerances:
      dlambda/dsigma = A(t)^T lambda,   dG_q/dsigma = (D_q(t) p(t))^T lambda,
  stopping at every sample time (jump of lambda) and breakpoint; G_q(T) is the integral above.
  Its stages are block lower triangular: (shift I - A^T) y_lambda = x_lambda by a transposed solve
  with the factorization of K = shift I - A, then shift y_G = x_G + (D_q p)^T y_lambda.
  Two vectors in place of the 1 + P of the forward sensitivities; exact up to the integrators'
  tolerances and the interpolation (O(h^4) per step of length h).
  Only on projections held whole by one rank (-stgssa_fsp_redundant); larger ones use forward
  sensitivities.

  Measured on the smFISH analog (induction model, 16 sample times, 7 rates; CPU seconds per fit
  evaluation, 1 rank, loaded machine): 264 states 1.10-1.47 (adjoint) vs 0.98 (forward
  sensitivities), 2002 states 2.6 vs 1.9. The backward pass takes ~3x the forward pass's steps
  (each jump of lambda restarts fast transients that the error control follows), and the cost of
  a step is set by the refactorization of shift I - A(t) at every stage (time-dependent
  propensities) and per-stage overhead, not by the 1 + P right-hand sides. Hence off by default
  (-stgssa_fsp_adjoint); kept, tested, for larger P or cheaper stages.
*/
#include "fsp_impl.h"

PetscErrorCode StgssaFSPTrajectoryReset(StgssaFSP f)
{
  PetscFunctionBegin;
  f->ntj       = 0;
  f->adj_ready = PETSC_FALSE;
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaFSPTrajectoryGrow(StgssaFSP f)
{
  const PetscInt nloc = f->rend - f->rstart;
  PetscInt       cap;
  PetscReal     *t, *v;

  PetscFunctionBegin;
  if (f->ntj < f->captj) PetscFunctionReturn(0);
  cap = PetscMax(64, 2 * f->captj);
  PetscCall(PetscMalloc2(2 * cap, &t, (size_t)4 * cap * nloc + 1, &v));
  if (f->ntj) {
    PetscCall(PetscArraycpy(t, f->tj_t, 2 * f->ntj));
    PetscCall(PetscArraycpy(v, f->tj_v, (size_t)4 * f->ntj * nloc));
  }
  PetscCall(PetscFree2(f->tj_t, f->tj_v));
  f->tj_t  = t;
  f->tj_v  = v;
  f->captj = cap;
  PetscFunctionReturn(0);
}

/* store p and A p at time t into slot (p at dst, A p at dst + 2 nloc) */
static PetscErrorCode StgssaFSPTrajectoryStore(StgssaFSP f, PetscReal t, Vec U, PetscReal *dst)
{
  const PetscInt     nloc = f->rend - f->rstart;
  const PetscScalar *a;

  PetscFunctionBegin;
  PetscCall(StgssaFSPOperatorsAt(f, t)); /* at a segment's end: the piece before it (the clamp) */
  PetscCall(MatMult(f->A, U, f->w));
  PetscCall(VecGetArrayRead(U, &a));
  PetscCall(PetscArraycpy(dst, a, nloc));
  PetscCall(VecRestoreArrayRead(U, &a));
  PetscCall(VecGetArrayRead(f->w, &a));
  PetscCall(PetscArraycpy(dst + 2 * nloc, a, nloc));
  PetscCall(VecRestoreArrayRead(f->w, &a));
  PetscFunctionReturn(0);
}

/* TS pre- and post-step of the forward pass: the step's two ends */
PetscErrorCode StgssaFSPTrajectoryPreStep(TS ts)
{
  StgssaFSP f;
  PetscReal t;
  Vec       U;

  PetscFunctionBegin;
  PetscCall(TSGetApplicationContext(ts, &f));
  PetscCall(StgssaFSPTrajectoryGrow(f));
  PetscCall(TSGetTime(ts, &t));
  PetscCall(TSGetSolution(ts, &U));
  f->tj_t[2 * f->ntj] = t;
  PetscCall(StgssaFSPTrajectoryStore(f, t, U, &f->tj_v[(size_t)4 * f->ntj * (f->rend - f->rstart)]));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPTrajectoryPostStep(TS ts)
{
  StgssaFSP f;
  PetscReal t;
  Vec       U;

  PetscFunctionBegin;
  PetscCall(TSGetApplicationContext(ts, &f));
  PetscCall(TSGetTime(ts, &t));
  PetscCall(TSGetSolution(ts, &U));
  f->tj_t[2 * f->ntj + 1] = t;
  PetscCall(StgssaFSPTrajectoryStore(f, t, U, &f->tj_v[(size_t)(4 * f->ntj + 1) * (f->rend - f->rstart)]));
  f->ntj++;
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------------------------------------- */
/* backward pass */

typedef struct {
  StgssaFSP f;
  PetscReal T;       /* sigma = T - t */
  PetscReal lo, hi;  /* the current segment [lo, hi] in t */
  PetscReal pt;      /* time of p and Dp (PETSC_MAX_REAL: none) */
  Vec       p, *Dp;  /* p(t), D_q(t) p(t) */
  Vec       lam, out; /* views of the first n entries of y-sized vectors */
  PetscInt  n, P;
} StgssaFSPAdj;

/* p(t) by cubic Hermite interpolation on the stored step holding t (within [lo, hi]) */
static PetscErrorCode StgssaFSPAdjInterpolate(StgssaFSPAdj *c, PetscReal t)
{
  StgssaFSP       f = c->f;
  const PetscInt  n = c->n;
  PetscInt        a = 0, b = f->ntj - 1, j;
  PetscReal       t0, t1, h, th, h00, h10, h01, h11;
  const PetscReal *v;
  PetscScalar     *pa;

  PetscFunctionBegin;
  while (a < b) { /* largest j with t0_j <= t */
    const PetscInt m = (a + b + 1) / 2;
    if (f->tj_t[2 * m] <= t) a = m;
    else b = m - 1;
  }
  j = a;
  while (j > 0 && f->tj_t[2 * j] >= c->hi) j--; /* t = hi: the step ending there */
  t0 = f->tj_t[2 * j];
  t1 = f->tj_t[2 * j + 1];
  h  = t1 - t0;
  th = h > 0 ? PetscMin(1.0, PetscMax(0.0, (t - t0) / h)) : 0.0;
  h00 = (1 + 2 * th) * (1 - th) * (1 - th);
  h10 = th * (1 - th) * (1 - th) * h;
  h01 = th * th * (3 - 2 * th);
  h11 = th * th * (th - 1) * h;
  v   = &f->tj_v[(size_t)4 * j * n];
  PetscCall(VecGetArray(c->p, &pa));
  for (PetscInt i = 0; i < n; i++) pa[i] = h00 * v[i] + h01 * v[n + i] + h10 * v[2 * n + i] + h11 * v[3 * n + i];
  PetscCall(VecRestoreArray(c->p, &pa));
  PetscFunctionReturn(0);
}

/* operators, p and D_q p at reversed time sigma */
static PetscErrorCode StgssaFSPAdjAt(StgssaFSPAdj *c, PetscReal sigma)
{
  StgssaFSP f = c->f;
  PetscReal t = PetscMin(c->hi, PetscMax(c->lo, c->T - sigma));

  PetscFunctionBegin;
  PetscCall(StgssaFSPOperatorsAt(f, t));
  if (t == c->pt) PetscFunctionReturn(0);
  PetscCall(StgssaFSPAdjInterpolate(c, t));
  for (PetscInt q = 0; q < c->P; q++) PetscCall(MatMult(f->dA[q], c->p, c->Dp[q]));
  c->pt = t;
  PetscFunctionReturn(0);
}

/* F = ydot - (A^T lambda, (D_q p)^T lambda) */
static PetscErrorCode StgssaFSPAdjIFunction(TS ts, PetscReal sigma, Vec y, Vec ydot, Vec F, void *ctx)
{
  StgssaFSPAdj      *c = (StgssaFSPAdj *)ctx;
  const PetscScalar *ya;
  PetscScalar       *fa;

  PetscFunctionBegin;
  PetscCall(StgssaFSPAdjAt(c, sigma));
  PetscCall(VecGetArrayRead(y, &ya));
  PetscCall(VecGetArray(F, &fa));
  PetscCall(VecPlaceArray(c->lam, ya));
  PetscCall(VecPlaceArray(c->out, fa));
  PetscCall(MatMultTranspose(c->f->A, c->lam, c->out));
  for (PetscInt q = 0; q < c->P; q++) PetscCall(VecDot(c->Dp[q], c->lam, &fa[c->n + q]));
  PetscCall(VecResetArray(c->out));
  PetscCall(VecResetArray(c->lam));
  PetscCall(VecRestoreArray(F, &fa));
  PetscCall(VecRestoreArrayRead(y, &ya));
  PetscCall(VecAYPX(F, -1.0, ydot));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaFSPAdjIJacobian(TS ts, PetscReal sigma, Vec y, Vec ydot, PetscReal shift, Mat A, Mat B, void *ctx)
{
  StgssaFSPAdj *c = (StgssaFSPAdj *)ctx;

  PetscFunctionBegin;
  PetscCall(StgssaFSPAdjAt(c, sigma));
  if (shift != c->f->shift) {
    c->f->shift  = shift;
    c->f->kdirty = PETSC_TRUE;
  }
  PetscFunctionReturn(0);
}

/* the stage operator's exact inverse: y_lambda = (shift I - A)^-T x_lambda, y_G = (x_G + Dp^T y_lambda)/shift */
static PetscErrorCode StgssaFSPAdjStageApply(PC pc, Vec x, Vec y)
{
  StgssaFSPAdj      *c;
  StgssaFSP          f;
  const PetscScalar *xa;
  PetscScalar       *ya;
  KSPConvergedReason reason;

  PetscFunctionBegin;
  PetscCall(PCShellGetContext(pc, &c));
  f = c->f;
  if (f->kdirty) {
    PetscCall(MatCopy(f->A, f->K, SAME_NONZERO_PATTERN));
    PetscCall(MatScale(f->K, -1.0));
    PetscCall(MatShift(f->K, f->shift));
    PetscCall(KSPSetOperators(f->kstage, f->K, f->K));
    f->kdirty = PETSC_FALSE;
  }
  PetscCall(VecGetArrayRead(x, &xa));
  PetscCall(VecGetArray(y, &ya));
  PetscCall(VecPlaceArray(c->lam, xa));
  PetscCall(VecPlaceArray(c->out, ya));
  PetscCall(KSPSolveTranspose(f->kstage, c->lam, c->out));
  PetscCall(KSPGetConvergedReason(f->kstage, &reason));
  for (PetscInt q = 0; q < c->P; q++) {
    PetscScalar d;
    PetscCall(VecDot(c->Dp[q], c->out, &d));
    ya[c->n + q] = (xa[c->n + q] + d) / f->shift;
  }
  PetscCall(VecResetArray(c->out));
  PetscCall(VecResetArray(c->lam));
  PetscCall(VecRestoreArray(y, &ya));
  PetscCall(VecRestoreArrayRead(x, &xa));
  if (reason <= 0) PetscCall(PCSetFailedReason(pc, PC_SUBPC_ERROR));
  PetscFunctionReturn(0);
}

/* lambda += g_k: the weights on the marginals of sample k spread over the states */
static PetscErrorCode StgssaFSPAdjAddWeights(StgssaFSP f, PetscInt k, PetscScalar *lam)
{
  const StgssaModelDef *def;
  const PetscReal      *w = &f->adj_w[k * f->btot];
  const PetscInt        S = f->S;

  PetscFunctionBegin;
  PetscCall(StgssaModelGetDef(f->model, &def));
  for (PetscInt i = 0; i < f->n; i++) {
    PetscReal g = 0;
    for (PetscInt s = 0; s < S; s++) g += w[f->boff[s] + (PetscInt)f->x[i * S + s]];
    for (PetscInt gr = 0; gr < f->ngroups; gr++)
      if (f->nbins[S + gr]) g += w[f->boff[S + gr] + (PetscInt)StgssaFSPGroupValue(def, gr, &f->x[i * S])];
    lam[i] += g;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPGetAdjointWeights(StgssaFSP f, PetscInt k, PetscInt s, PetscInt *nbins, PetscReal **w)
{
  PetscFunctionBegin;
  PetscCheck(f->adj_ready, f->comm, PETSC_ERR_ORDER, "FSP: no adjoint solve pending (StgssaFSPSetAdjoint, then StgssaFSPSolve)");
  PetscCheck(k >= 0 && k < f->nsample, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "FSP: sample %" PetscInt_FMT " out of range 0..%" PetscInt_FMT, k, f->nsample - 1);
  PetscCheck(s >= 0 && s < f->S + f->ngroups && f->nbins[s] > 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "FSP: quantity %" PetscInt_FMT " has no marginal", s);
  if (nbins) *nbins = f->nbins[s];
  *w = &f->adj_w[k * f->btot + f->boff[s]];
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPAdjointSolve(StgssaFSP f, PetscReal grad[])
{
  const PetscInt n = f->n, P = f->P;
  StgssaFSPAdj   c;
  PetscReal     *bnd, T = 0;
  PetscInt       nb = 0;
  Vec            y, v = NULL;
  Mat            Jb;
  TS             ts;
  PetscScalar   *ya;
  PetscBool      any_w = PETSC_FALSE;
  PetscInt       nsteps = 0;

  PetscFunctionBegin;
  PetscCheck(f->adj_ready, f->comm, PETSC_ERR_ORDER, "FSP: no adjoint solve pending (StgssaFSPSetAdjoint, then StgssaFSPSolve)");
  PetscCall(PetscLogEventBegin(STGSSA_FSPSolve, 0, 0, 0, 0));
  for (PetscInt q = 0; q < P; q++) grad[q] = 0;
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, n + P, &y));
  PetscCall(VecZeroEntries(y));
  if (f->any_transient) {
    PetscReal atol, rtol, maxexit;
    /* segment ends, descending: sample times, breakpoints, 0 */
    PetscCall(PetscMalloc1(f->nsample + f->nbrk + 1, &bnd));
    for (PetscInt k = 0; k < f->nsample; k++)
      if (f->times[k] >= 0) bnd[nb++] = f->times[k];
    for (PetscInt i = 0; i < f->nbrk; i++) bnd[nb++] = f->brk[i];
    bnd[nb++] = 0;
    PetscCall(PetscSortRemoveDupsReal(&nb, bnd));
    T = bnd[nb - 1];
    c.f  = f;
    c.T  = T;
    c.n  = n;
    c.P  = P;
    c.pt = PETSC_MAX_REAL;
    PetscCall(MatCreateVecs(f->A, &c.p, NULL));
    PetscCall(VecDuplicateVecs(c.p, P + 1, &c.Dp));
    PetscCall(VecCreateSeqWithArray(PETSC_COMM_SELF, 1, n, NULL, &c.lam));
    PetscCall(VecCreateSeqWithArray(PETSC_COMM_SELF, 1, n, NULL, &c.out));
    PetscCall(MatCreateShell(PETSC_COMM_SELF, n + P, n + P, n + P, n + P, &c, &Jb)); /* never applied: the PC is the exact inverse */
    {
      Vec d;
      PetscCall(MatCreateVecs(f->A, &d, NULL));
      PetscCall(MatGetDiagonal(f->A, d));
      PetscCall(VecNorm(d, NORM_INFINITY, &maxexit));
      PetscCall(VecDestroy(&d));
    }
    PetscCall(TSGetTolerances(f->ts, &atol, NULL, &rtol, NULL));
    PetscCall(TSCreate(PETSC_COMM_SELF, &ts));
    PetscCall(TSSetOptionsPrefix(ts, "fsp_")); /* -fsp_ts_* options apply to both passes */
    PetscCall(TSSetProblemType(ts, TS_LINEAR));
    PetscCall(TSSetIFunction(ts, NULL, StgssaFSPAdjIFunction, &c));
    PetscCall(TSSetIJacobian(ts, Jb, Jb, StgssaFSPAdjIJacobian, &c));
    PetscCall(TSSetType(ts, TSARKIMEX));
    PetscCall(TSARKIMEXSetType(ts, TSARKIMEX5));
    PetscCall(TSARKIMEXSetFullyImplicit(ts, PETSC_TRUE));
    { /* lambda: error norm-wise, relative to the largest weight (the forward pass's rtol as an
         absolute tolerance rtol max|w|): after each jump lambda holds components of all sizes
         (weights n/p of improbable states), and tracking each to rtol of itself took 3-10x the
         forward pass's steps without changing the gradient (test_fsp: same error); the
         quadratures G: the forward pass's tolerances */
      PetscReal gmax = 0;
      Vec       va;
      for (PetscInt k = 0; k < f->nsample * f->btot; k++) gmax = PetscMax(gmax, PetscAbsReal(f->adj_w[k]));
      PetscCall(VecDuplicate(y, &va));
      PetscCall(VecSet(va, rtol * gmax + atol));
      PetscCall(VecGetArray(va, &ya));
      for (PetscInt q = 0; q < P; q++) ya[n + q] = atol;
      PetscCall(VecRestoreArray(va, &ya));
      PetscCall(TSSetTolerances(ts, PETSC_DECIDE, va, rtol, NULL));
      PetscCall(VecDestroy(&va));
    }
    PetscCall(TSSetExactFinalTime(ts, TS_EXACTFINALTIME_MATCHSTEP));
    PetscCall(TSSetMaxSteps(ts, PETSC_MAX_INT / 2));
    PetscCall(TSSetMaxSNESFailures(ts, 10));
    PetscCall(TSSetErrorIfStepFails(ts, PETSC_FALSE));
    PetscCall(TSSetTimeStep(ts, 1e-3 / (1.0 + maxexit)));
    {
      SNES snes;
      KSP  ksp;
      PC   pc;
      PetscCall(TSGetSNES(ts, &snes));
      PetscCall(SNESSetType(snes, SNESKSPONLY));
      PetscCall(SNESGetKSP(snes, &ksp));
      PetscCall(KSPSetType(ksp, KSPPREONLY));
      PetscCall(KSPGetPC(ksp, &pc));
      PetscCall(PCSetType(pc, PCSHELL));
      PetscCall(PCShellSetContext(pc, &c));
      PetscCall(PCShellSetApply(pc, StgssaFSPAdjStageApply));
      PetscCall(PCShellSetName(pc, "FSP adjoint stages: (shift I - A)^-T, then the quadratures"));
    }
    PetscCall(TSSetFromOptions(ts));
    PetscCall(TSSetTime(ts, 0.0));
    f->backward = PETSC_TRUE;
    f->top_t    = PETSC_MAX_REAL; /* fill A and dA at the first time */
    f->shift    = PETSC_MAX_REAL;
    for (PetscInt ib = nb - 1; ib >= 0; ib--) {
      const PetscReal   b = bnd[ib];
      TSConvergedReason reason;
      PetscBool         jump = PETSC_FALSE;
      PetscCall(VecGetArray(y, &ya));
      for (PetscInt k = 0; k < f->nsample; k++)
        if (f->times[k] == b) {
          PetscCall(StgssaFSPAdjAddWeights(f, k, ya));
          jump = PETSC_TRUE;
        }
      PetscCall(VecRestoreArray(y, &ya));
      if (ib == 0) break;
      if (jump) PetscCall(TSRestartStep(ts));
      c.lo = bnd[ib - 1];
      c.hi = b;
      c.pt = PETSC_MAX_REAL;
      f->seg_clamp = PETSC_FALSE; /* at t = hi a breakpoint's left piece */
      for (PetscInt i = 0; i < f->nbrk; i++)
        if (f->brk[i] == b) f->seg_clamp = PETSC_TRUE;
      f->seg_before = nextafter(b, -PETSC_INFINITY);
      f->top_t      = PETSC_MAX_REAL;
      {
        const PetscReal end = c.lo;
        PetscCall(TSSetMaxTime(ts, T - end));
        PetscCall(TSSolve(ts, y));
        PetscCall(TSGetConvergedReason(ts, &reason));
        PetscCheck(reason >= 0, PETSC_COMM_SELF, PETSC_ERR_NOT_CONVERGED, "FSP adjoint: the backward integrator stopped before t = %g (%s); try -fsp_ts_type bdf or a looser -fsp_ts_rtol", (double)end, TSConvergedReasons[reason]);
        PetscCall(TSSetTime(ts, T - end));
      }
      if (f->seg_clamp) PetscCall(TSRestartStep(ts));
    }
    f->seg_clamp = PETSC_FALSE;
    f->backward  = PETSC_FALSE;
    f->top_t     = PETSC_MAX_REAL;
    PetscCall(TSGetStepNumber(ts, &nsteps));
    PetscCall(PetscInfo(NULL, "FSP adjoint: %" PetscInt_FMT " backward steps over %" PetscInt_FMT " forward steps\n", nsteps, f->ntj));
    PetscCall(VecGetArray(y, &ya));
    for (PetscInt q = 0; q < P; q++) grad[q] = ya[n + q];
    PetscCall(VecRestoreArray(y, &ya));
    PetscCall(TSDestroy(&ts));
    PetscCall(MatDestroy(&Jb));
    PetscCall(VecDestroy(&c.lam));
    PetscCall(VecDestroy(&c.out));
    PetscCall(VecDestroyVecs(P + 1, &c.Dp));
    PetscCall(VecDestroy(&c.p));
    PetscCall(PetscFree(bnd));
  }
  /* the steady solve: initial distribution (lambda(0-)) and steady-state samples */
  if (f->ss_used) {
    Vec                mu;
    const PetscScalar *ma;
    KSPConvergedReason reason;
    PetscCall(MatCreateVecs(f->A, &v, &mu));
    PetscCall(VecGetArray(v, &ya));
    if (f->any_transient && f->initial == STGSSA_FSP_INITIAL_STEADY) {
      const PetscScalar *la;
      PetscCall(VecGetArrayRead(y, &la));
      PetscCall(PetscArraycpy(ya, la, n));
      PetscCall(VecRestoreArrayRead(y, &la));
    } else PetscCall(PetscArrayzero(ya, n));
    for (PetscInt k = 0; k < f->nsample; k++)
      if (f->times[k] < 0) PetscCall(StgssaFSPAdjAddWeights(f, k, ya));
    for (PetscInt i = 0; i < n && !any_w; i++) any_w = (PetscBool)(ya[i] != 0);
    PetscCall(VecRestoreArray(v, &ya));
    if (any_w) {
      PetscCall(KSPSolveTranspose(f->ksp, v, mu));
      PetscCall(KSPGetConvergedReason(f->ksp, &reason));
      PetscCheck(reason > 0, PETSC_COMM_SELF, PETSC_ERR_NOT_CONVERGED, "FSP adjoint: the transposed steady-state solve failed (%s)", KSPConvergedReasons[reason]);
      PetscCall(VecGetArrayRead(mu, &ma));
      for (PetscInt q = 0; q < P; q++) {
        PetscReal d = 0;
        for (PetscInt i = 0; i < n; i++) d += ma[i] * f->ssr[q * n + i];
        grad[q] += d;
      }
      PetscCall(VecRestoreArrayRead(mu, &ma));
    }
    PetscCall(VecDestroy(&mu));
    PetscCall(VecDestroy(&v));
  }
  PetscCall(VecDestroy(&y));
  PetscCall(PetscLogEventEnd(STGSSA_FSPSolve, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}
