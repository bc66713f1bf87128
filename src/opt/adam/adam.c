/* SPDX-License-Identifier: BSD-2-Clause */
/*
  TAOADAM: Adam (D. P. Kingma, J. Ba, "Adam: a method for stochastic optimization", ICLR 2015,
  Algorithm 1) as a TAO solver type, with projection onto variable bounds. DESIGN.md §3: the
  TAO type "adam" for stochastic objectives. TAO 3.18 has no such type.
*/
#include <petsc/private/taoimpl.h> /*I "petsctao.h" I*/
#include <stgssa/adam.h>
#include "adam.h"

/* Whether the iterates are projected onto [XL, XU]; either bound may be absent. */
static PetscBool TaoAdamBounded_Private(Tao tao)
{
  return (tao->bounded && (tao->XL || tao->XU)) ? PETSC_TRUE : PETSC_FALSE;
}

/* X <- min(max(X, XL), XU), pointwise, for the bounds that exist. */
static PetscErrorCode TaoAdamProjectSolution_Private(Tao tao, Vec X)
{
  PetscInt           n;
  PetscScalar       *x;
  const PetscScalar *xl = NULL, *xu = NULL;

  PetscFunctionBegin;
  PetscCall(VecGetLocalSize(X, &n));
  PetscCall(VecGetArray(X, &x));
  if (tao->XL) PetscCall(VecGetArrayRead(tao->XL, &xl));
  if (tao->XU) PetscCall(VecGetArrayRead(tao->XU, &xu));
  for (PetscInt i = 0; i < n; i++) {
    if (xl && x[i] < xl[i]) x[i] = xl[i];
    if (xu && x[i] > xu[i]) x[i] = xu[i];
  }
  if (tao->XU) PetscCall(VecRestoreArrayRead(tao->XU, &xu));
  if (tao->XL) PetscCall(VecRestoreArrayRead(tao->XL, &xl));
  PetscCall(VecRestoreArray(X, &x));
  PetscFunctionReturn(0);
}

/*
  Evaluates f and the gradient G at tao->solution, stores the projected gradient in tao->gradient
  (components that push against an active bound are zeroed, as VecBoundGradientProjection() does,
  but Inf/NaN components are kept so that they show in the norm) and returns its 2-norm, in the
  inner product of TaoSetGradientNorm() if one is set.
*/
static PetscErrorCode TaoAdamEvaluate_Private(Tao tao, PetscReal *f, PetscReal *gnorm)
{
  TAO_ADAM *adam = (TAO_ADAM *)tao->data;

  PetscFunctionBegin;
  PetscCall(TaoComputeObjectiveAndGradient(tao, tao->solution, f, adam->G));
  if (TaoAdamBounded_Private(tao)) {
    PetscInt           n;
    const PetscScalar *x, *g, *xl = NULL, *xu = NULL;
    PetscScalar       *gp;

    PetscCall(VecGetLocalSize(tao->solution, &n));
    PetscCall(VecGetArrayRead(tao->solution, &x));
    PetscCall(VecGetArrayRead(adam->G, &g));
    PetscCall(VecGetArrayWrite(tao->gradient, &gp));
    if (tao->XL) PetscCall(VecGetArrayRead(tao->XL, &xl));
    if (tao->XU) PetscCall(VecGetArrayRead(tao->XU, &xu));
    for (PetscInt i = 0; i < n; i++) {
      PetscScalar gi = g[i];

      if (!PetscIsInfOrNanScalar(gi)) {
        if (xl && PetscRealPart(gi) > 0.0 && PetscRealPart(x[i]) <= PetscRealPart(xl[i]))
          gi = 0.0;
        else if (xu && PetscRealPart(gi) < 0.0 && PetscRealPart(x[i]) >= PetscRealPart(xu[i]))
          gi = 0.0;
      }
      gp[i] = gi;
    }
    if (tao->XU) PetscCall(VecRestoreArrayRead(tao->XU, &xu));
    if (tao->XL) PetscCall(VecRestoreArrayRead(tao->XL, &xl));
    PetscCall(VecRestoreArrayWrite(tao->gradient, &gp));
    PetscCall(VecRestoreArrayRead(adam->G, &g));
    PetscCall(VecRestoreArrayRead(tao->solution, &x));
  } else {
    PetscCall(VecCopy(adam->G, tao->gradient));
  }
  if (tao->gradient_norm) {
    PetscScalar gMg;

    PetscCall(MatMult(tao->gradient_norm, tao->gradient, tao->gradient_norm_tmp));
    PetscCall(VecDot(tao->gradient, tao->gradient_norm_tmp, &gMg));
    *gnorm = PetscRealPart(PetscSqrtScalar(gMg));
  } else {
    PetscCall(VecNorm(tao->gradient, NORM_2, gnorm));
  }
  PetscFunctionReturn(0);
}

/*
  One Adam step with t = step + 1, elementwise (Kingma & Ba, Algorithm 1), then the projection:
    m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
    mhat = m / (1 - b1^t),  vhat = v / (1 - b2^t),
    d = -mhat / (sqrt(vhat) + eps)   (kept in tao->stepdirection),
    x = P_[XL,XU](x + lr_s d),  lr_s = lr / sqrt(1 + max(0, s - decay_start) / k0) with s = t - 1
    (the steps before this one) when k0 > 0, else lr.
  One pass over the local arrays, no communication: the result depends only on (x, g, m, v, t),
  which is what makes a restart from (x, m, v, step) bitwise exact.
*/
/* Learning rate of step t (from 0): lr / sqrt(1 + (t - start)/k0) once t >= start, with k0 > 0. */
static PetscReal TaoAdamLearningRate_Private(TAO_ADAM *adam, PetscInt t)
{
  if (adam->decay_steps <= 0 || t <= adam->decay_start) return adam->lr;
  return adam->lr / PetscSqrtReal(1.0 + (PetscReal)(t - adam->decay_start) / adam->decay_steps);
}

static PetscErrorCode TaoAdamStep_Private(Tao tao)
{
  TAO_ADAM          *adam = (TAO_ADAM *)tao->data;
  const PetscReal    b1 = adam->beta1, b2 = adam->beta2, lr = TaoAdamLearningRate_Private(adam, adam->step), eps = adam->epsilon;
  const PetscReal    bc1     = 1.0 - PetscPowReal(b1, (PetscReal)(adam->step + 1));
  const PetscReal    bc2     = 1.0 - PetscPowReal(b2, (PetscReal)(adam->step + 1));
  const PetscBool    bounded = TaoAdamBounded_Private(tao);
  PetscInt           n;
  PetscScalar       *x, *m, *v, *d;
  const PetscScalar *g, *xl = NULL, *xu = NULL;

  PetscFunctionBegin;
  PetscCall(VecGetLocalSize(tao->solution, &n));
  PetscCall(VecGetArray(tao->solution, &x));
  PetscCall(VecGetArray(adam->m, &m));
  PetscCall(VecGetArray(adam->v, &v));
  PetscCall(VecGetArrayWrite(tao->stepdirection, &d));
  PetscCall(VecGetArrayRead(adam->G, &g));
  if (bounded && tao->XL) PetscCall(VecGetArrayRead(tao->XL, &xl));
  if (bounded && tao->XU) PetscCall(VecGetArrayRead(tao->XU, &xu));
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal gi = PetscRealPart(g[i]);
    PetscReal       mi, vi, xi;

    mi   = b1 * PetscRealPart(m[i]) + (1.0 - b1) * gi;
    vi   = b2 * PetscRealPart(v[i]) + (1.0 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    d[i] = -(mi / bc1) / (PetscSqrtReal(vi / bc2) + eps);
    xi   = PetscRealPart(x[i]) + lr * PetscRealPart(d[i]);
    if (xl && xi < PetscRealPart(xl[i])) xi = PetscRealPart(xl[i]);
    if (xu && xi > PetscRealPart(xu[i])) xi = PetscRealPart(xu[i]);
    x[i] = xi;
  }
  if (xu) PetscCall(VecRestoreArrayRead(tao->XU, &xu));
  if (xl) PetscCall(VecRestoreArrayRead(tao->XL, &xl));
  PetscCall(VecRestoreArrayRead(adam->G, &g));
  PetscCall(VecRestoreArrayWrite(tao->stepdirection, &d));
  PetscCall(VecRestoreArray(adam->v, &v));
  PetscCall(VecRestoreArray(adam->m, &m));
  PetscCall(VecRestoreArray(tao->solution, &x));
  adam->step++;
  PetscFunctionReturn(0);
}

/* Same layout as the solution: the pointwise loops above index all of them alike. */
static PetscErrorCode TaoAdamCheckLayout_Private(Tao tao, Vec w, const char name[])
{
  PetscInt N, n, Nw, nw;

  PetscFunctionBegin;
  PetscCall(VecGetSize(tao->solution, &N));
  PetscCall(VecGetLocalSize(tao->solution, &n));
  PetscCall(VecGetSize(w, &Nw));
  PetscCall(VecGetLocalSize(w, &nw));
  PetscCheck(N == Nw && n == nw, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ, "TAOADAM: %s has global/local size %" PetscInt_FMT "/%" PetscInt_FMT ", the solution %" PetscInt_FMT "/%" PetscInt_FMT, name, Nw, nw, N, n);
  PetscFunctionReturn(0);
}

static PetscErrorCode TaoSolve_ADAM(Tao tao)
{
  TAO_ADAM *adam = (TAO_ADAM *)tao->data;
  PetscReal f, gnorm;

  PetscFunctionBegin;
  PetscCall(TaoAdamCheckLayout_Private(tao, adam->m, "the Adam state (TaoSetSolution() after TaoSetUp()?)"));
  PetscCall(TaoComputeVariableBounds(tao));
  if (TaoAdamBounded_Private(tao)) {
    if (tao->XL) PetscCall(TaoAdamCheckLayout_Private(tao, tao->XL, "the lower bound"));
    if (tao->XU) PetscCall(TaoAdamCheckLayout_Private(tao, tao->XU, "the upper bound"));
    PetscCall(TaoAdamProjectSolution_Private(tao, tao->solution));
  }

  /* Continue from the Adam state (zero after TaoSetUp(), or from TaoAdamSetState(), or where the
     previous TaoSolve() stopped): the iteration count is the number of Adam steps taken. */
  tao->niter  = adam->step;
  tao->reason = TAO_CONTINUE_ITERATING;

  PetscCall(TaoAdamEvaluate_Private(tao, &f, &gnorm));
  if (PetscIsInfOrNanReal(f) || PetscIsInfOrNanReal(gnorm)) {
    PetscCall(PetscInfo(tao, "TAOADAM: objective or gradient is Inf or NaN at iteration %" PetscInt_FMT "\n", tao->niter));
    tao->reason = TAO_DIVERGED_NAN;
    PetscFunctionReturn(0);
  }
  PetscCall(TaoLogConvergenceHistory(tao, f, gnorm, 0.0, tao->ksp_its));
  PetscCall(TaoMonitor(tao, tao->niter, f, gnorm, 0.0, TaoAdamLearningRate_Private(adam, adam->step)));
  PetscUseTypeMethod(tao, convergencetest, tao->cnvP);

  while (tao->reason == TAO_CONTINUE_ITERATING) {
    /* General-purpose hook (TaoSetUpdate()); the step uses the gradient evaluated above. */
    PetscTryTypeMethod(tao, update, tao->niter, tao->user_update);

    PetscCall(TaoAdamStep_Private(tao));
    tao->niter++;

    PetscCall(TaoAdamEvaluate_Private(tao, &f, &gnorm));
    if (PetscIsInfOrNanReal(f) || PetscIsInfOrNanReal(gnorm)) {
      PetscCall(PetscInfo(tao, "TAOADAM: objective or gradient is Inf or NaN at iteration %" PetscInt_FMT "\n", tao->niter));
      tao->reason = TAO_DIVERGED_NAN;
      PetscFunctionReturn(0);
    }
    PetscCall(TaoLogConvergenceHistory(tao, f, gnorm, 0.0, tao->ksp_its));
    PetscCall(TaoMonitor(tao, tao->niter, f, gnorm, 0.0, TaoAdamLearningRate_Private(adam, adam->step)));
    PetscUseTypeMethod(tao, convergencetest, tao->cnvP);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode TaoSetUp_ADAM(Tao tao)
{
  TAO_ADAM *adam = (TAO_ADAM *)tao->data;

  PetscFunctionBegin;
  /* tao->solution exists: TaoSetUp() checks it */
  if (!tao->gradient) PetscCall(VecDuplicate(tao->solution, &tao->gradient));
  if (!tao->stepdirection) PetscCall(VecDuplicate(tao->solution, &tao->stepdirection));
  PetscCall(VecDestroy(&adam->G));
  PetscCall(VecDestroy(&adam->m));
  PetscCall(VecDestroy(&adam->v));
  PetscCall(VecDuplicate(tao->solution, &adam->G));
  PetscCall(VecDuplicate(tao->solution, &adam->m));
  PetscCall(VecDuplicate(tao->solution, &adam->v));
  PetscCall(VecSet(adam->m, 0.0));
  PetscCall(VecSet(adam->v, 0.0));
  adam->step = 0;
  PetscFunctionReturn(0);
}

static PetscErrorCode TaoDestroy_ADAM(Tao tao)
{
  TAO_ADAM *adam = (TAO_ADAM *)tao->data;

  PetscFunctionBegin;
  PetscCall(VecDestroy(&adam->G));
  PetscCall(VecDestroy(&adam->m));
  PetscCall(VecDestroy(&adam->v));
  PetscCall(PetscFree(tao->data));
  PetscFunctionReturn(0);
}

static PetscErrorCode TaoSetFromOptions_ADAM(Tao tao, PetscOptionItems *PetscOptionsObject)
{
  TAO_ADAM *adam = (TAO_ADAM *)tao->data;
  MPI_Comm  comm = PetscObjectComm((PetscObject)tao);
  PetscReal lr = adam->lr, b1 = adam->beta1, b2 = adam->beta2, eps = adam->epsilon, k0 = adam->decay_steps;
  PetscBool lr_ok, b1_ok, b2_ok, eps_ok, k0_ok;

  PetscFunctionBegin;
  PetscOptionsHeadBegin(PetscOptionsObject, "Adam method for stochastic optimization");
  PetscCall(PetscOptionsReal("-tao_adam_learning_rate", "step size alpha, > 0", "TAOADAM", lr, &lr, NULL));
  PetscCall(PetscOptionsReal("-tao_adam_beta1", "decay rate of the first-moment estimate, in [0, 1)", "TAOADAM", b1, &b1, NULL));
  PetscCall(PetscOptionsReal("-tao_adam_beta2", "decay rate of the second-moment estimate, in [0, 1)", "TAOADAM", b2, &b2, NULL));
  PetscCall(PetscOptionsReal("-tao_adam_epsilon", "added to sqrt(second moment) in the denominator, > 0", "TAOADAM", eps, &eps, NULL));
  PetscCall(PetscOptionsReal("-tao_adam_decay_steps", "k0 of the step-size decay lr/sqrt(1 + t/k0), t = steps since the decay began (0: constant step size)", "TAOADAM", k0, &k0, NULL));
  PetscOptionsHeadEnd();
  /* validate before storing: after an error the solver keeps its previous, valid parameters */
  lr_ok  = (PetscBool)(lr > 0.0 && !PetscIsInfOrNanReal(lr));
  b1_ok  = (PetscBool)(b1 >= 0.0 && b1 < 1.0);
  b2_ok  = (PetscBool)(b2 >= 0.0 && b2 < 1.0);
  eps_ok = (PetscBool)(eps > 0.0 && !PetscIsInfOrNanReal(eps));
  k0_ok  = (PetscBool)(k0 >= 0.0 && !PetscIsInfOrNanReal(k0));
  if (!(lr_ok && b1_ok && b2_ok && eps_ok && k0_ok)) {
    /* PETSc 3.18 skips PetscOptionsEnd() when a type's SetFromOptions fails, which leaks the
       copies of the prefix and title made by TaoSetFromOptions()'s PetscObjectOptionsBegin();
       release them before raising the error (PetscFree() leaves NULL: harmless otherwise). */
    PetscCall(PetscFree(PetscOptionsObject->prefix));
    PetscCall(PetscFree(PetscOptionsObject->title));
  }
  PetscCheck(lr_ok, comm, PETSC_ERR_ARG_OUTOFRANGE, "-tao_adam_learning_rate %g must be finite and > 0", (double)lr);
  PetscCheck(b1_ok, comm, PETSC_ERR_ARG_OUTOFRANGE, "-tao_adam_beta1 %g must be in [0, 1)", (double)b1);
  PetscCheck(b2_ok, comm, PETSC_ERR_ARG_OUTOFRANGE, "-tao_adam_beta2 %g must be in [0, 1)", (double)b2);
  PetscCheck(eps_ok, comm, PETSC_ERR_ARG_OUTOFRANGE, "-tao_adam_epsilon %g must be finite and > 0", (double)eps);
  PetscCheck(k0_ok, comm, PETSC_ERR_ARG_OUTOFRANGE, "-tao_adam_decay_steps %g must be finite and >= 0", (double)k0);
  adam->decay_steps = k0;
  adam->lr          = lr;
  adam->beta1       = b1;
  adam->beta2       = b2;
  adam->epsilon     = eps;
  PetscFunctionReturn(0);
}

static PetscErrorCode TaoView_ADAM(Tao tao, PetscViewer viewer)
{
  TAO_ADAM *adam = (TAO_ADAM *)tao->data;
  PetscBool isascii;

  PetscFunctionBegin;
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &isascii));
  if (isascii) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "Adam: learning rate %g, beta1 %g, beta2 %g, epsilon %g\n", (double)adam->lr, (double)adam->beta1, (double)adam->beta2, (double)adam->epsilon));
    if (adam->decay_steps > 0) {
      if (adam->decay_start == PETSC_MAX_INT)
        PetscCall(PetscViewerASCIIPrintf(viewer, "step-size decay lr/sqrt(1 + t/%g), not begun\n", (double)adam->decay_steps));
      else
        PetscCall(PetscViewerASCIIPrintf(viewer, "step-size decay lr/sqrt(1 + t/%g) from step %" PetscInt_FMT "\n", (double)adam->decay_steps, adam->decay_start));
    }
    PetscCall(PetscViewerASCIIPrintf(viewer, "Adam steps taken: %" PetscInt_FMT "\n", adam->step));
  }
  PetscFunctionReturn(0);
}

/*MC
  TAOADAM - "adam": the Adam method of Kingma and Ba (2015) for stochastic objectives, with
  projection onto variable bounds (TaoSetVariableBounds()).

  Each iteration evaluates f and g at x and takes, elementwise with t = step count (from 1),
.vb
     m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g^2
     x = P( x - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) )
.ve
  where P clamps to [XL, XU] if bounds are set (the initial point is projected too). The
  residual reported to monitors and to the convergence test is the 2-norm of the projected
  gradient; the step length reported is the learning rate.

  Options Database Keys:
+ -tao_adam_learning_rate <0.05> - step size, > 0
. -tao_adam_beta1 <0.9> - decay rate of the first-moment estimate, in [0, 1)
. -tao_adam_beta2 <0.999> - decay rate of the second-moment estimate, in [0, 1)
. -tao_adam_epsilon <1e-8> - added to sqrt(vhat) in the denominator, > 0
- -tao_adam_decay_steps <0> - k0 of the step-size decay: step t uses lr / sqrt(1 + max(0, t - start)/k0)
  (start 0 unless TaoAdamSetDecay() sets it; 0: constant step size)

  Level: beginner

  Notes:
  Defaults changed when the user has not set them: -tao_max_it 100 (a budget of stochastic
  evaluations), -tao_gatol 0 and -tao_grtol 0 (a noisy gradient estimate that happens to be
  small must not end the run; only an exactly zero projected gradient does). An objective or
  gradient with Inf or NaN ends the solve with TAO_DIVERGED_NAN.

  State: the moments m, v and the step count live in the Tao. TaoSetUp() zeroes them; TaoSolve()
  continues from them and sets the iteration number to the step count, so a second TaoSolve()
  on the same Tao continues the first and -tao_max_it bounds the total number of steps.
  TaoAdamGetState() and TaoAdamSetState() save and restore the state for restarts;
  TaoAdamSetState(tao, NULL, NULL, 0) starts afresh. A continued TaoSolve() first evaluates the
  objective at the saved x_k again, so a stochastic objective must give the same value there
  (e.g. restore its random-number counter to what it was before that evaluation) for the
  iterates to be bitwise those of the uninterrupted run; -tao_gttol, relative to the gradient
  at iteration 0, does not apply in a continued solve.

  The hook of TaoSetUpdate() is called at the start of each iteration, before the step; it does
  not cause a new evaluation.

.seealso: `TaoAdamGetState()`, `TaoAdamSetState()`, `TAOBLMVM`, `TaoSetVariableBounds()`
M*/
PETSC_EXTERN PetscErrorCode TaoCreate_ADAM(Tao tao)
{
  TAO_ADAM *adam;

  PetscFunctionBegin;
  tao->ops->setup          = TaoSetUp_ADAM;
  tao->ops->solve          = TaoSolve_ADAM;
  tao->ops->view           = TaoView_ADAM;
  tao->ops->setfromoptions = TaoSetFromOptions_ADAM;
  tao->ops->destroy        = TaoDestroy_ADAM;

  PetscCall(PetscNew(&adam));
  adam->lr          = 0.05;
  adam->beta1       = 0.9;
  adam->beta2       = 0.999;
  adam->epsilon     = 1.e-8;
  adam->step        = 0;
  adam->decay_steps = 0;
  adam->decay_start = 0;
  tao->data         = (void *)adam;

  /* Override default settings (unless already changed); see the Notes above */
  if (!tao->max_it_changed) tao->max_it = 100;
  if (!tao->gatol_changed) tao->gatol = 0.0;
  if (!tao->grtol_changed) tao->grtol = 0.0;
  PetscFunctionReturn(0);
}

static PetscErrorCode TaoAdamCheckType_Private(Tao tao, const char func[])
{
  PetscBool isadam;

  PetscFunctionBegin;
  PetscCall(PetscObjectTypeCompare((PetscObject)tao, TAOADAM, &isadam));
  PetscCheck(isadam, PetscObjectComm((PetscObject)tao), PETSC_ERR_ARG_WRONG, "%s() needs a Tao of type %s, this one is of type %s", func, TAOADAM, ((PetscObject)tao)->type_name ? ((PetscObject)tao)->type_name : "(not set)");
  PetscFunctionReturn(0);
}

/*@
  TaoAdamGetState - Gets the state of a `TAOADAM` solver, to save it for a restart

  Not Collective

  Input Parameter:
. tao - the Tao context, of type `TAOADAM`

  Output Parameters:
+ m - the first-moment estimate (borrowed: do not destroy; valid until the Tao is set up again or destroyed), or NULL
. v - the second-moment estimate (borrowed), or NULL
- step - the number of Adam steps taken so far, or NULL

  Level: advanced

  Note:
  m and v exist after `TaoSetUp()`. Read inside a monitor at iteration k, the state is that
  after step k, with the solution x_k: (x_k, m, v, k) is a restart point.

.seealso: `TAOADAM`, `TaoAdamSetState()`
@*/
PetscErrorCode TaoAdamGetState(Tao tao, Vec *m, Vec *v, PetscInt *step)
{
  TAO_ADAM *adam;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(tao, TAO_CLASSID, 1);
  PetscCall(TaoAdamCheckType_Private(tao, "TaoAdamGetState"));
  adam = (TAO_ADAM *)tao->data;
  PetscCheck(!(m || v) || tao->setupcalled, PetscObjectComm((PetscObject)tao), PETSC_ERR_ARG_WRONGSTATE, "TaoAdamGetState(): call TaoSetUp() first, the moment vectors do not exist yet");
  if (m) *m = adam->m;
  if (v) *v = adam->v;
  if (step) *step = adam->step;
  PetscFunctionReturn(0);
}

/*@
  TaoAdamSetState - Sets the state of a `TAOADAM` solver, to continue a run

  Collective

  Input Parameters:
+ tao - the Tao context, of type `TAOADAM`, after `TaoSetUp()`
. m - the first-moment estimate to copy in, or NULL for zero
. v - the second-moment estimate to copy in (entries >= 0), or NULL for zero
- step - the number of Adam steps already taken, >= 0

  Level: advanced

  Note:
  The next `TaoSolve()` continues from this state with the iteration number set to step, so
  -tao_max_it counts the iterations of the whole run. With the solution x_k, m, v and k from
  `TaoAdamGetState()` the iterates are bitwise those of the uninterrupted run, if the objective
  returns the same values at the same points. TaoAdamSetState(tao, NULL, NULL, 0) starts afresh.

.seealso: `TAOADAM`, `TaoAdamGetState()`
@*/
PetscErrorCode TaoAdamSetState(Tao tao, Vec m, Vec v, PetscInt step)
{
  TAO_ADAM *adam;
  MPI_Comm  comm;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(tao, TAO_CLASSID, 1);
  if (m) PetscValidHeaderSpecific(m, VEC_CLASSID, 2);
  if (v) PetscValidHeaderSpecific(v, VEC_CLASSID, 3);
  PetscValidLogicalCollectiveInt(tao, step, 4);
  PetscCall(TaoAdamCheckType_Private(tao, "TaoAdamSetState"));
  comm = PetscObjectComm((PetscObject)tao);
  adam = (TAO_ADAM *)tao->data;
  PetscCheck(tao->setupcalled, comm, PETSC_ERR_ARG_WRONGSTATE, "TaoAdamSetState(): call TaoSetUp() first");
  PetscCheck(step >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "TaoAdamSetState(): step %" PetscInt_FMT " must be >= 0", step);
  if (m) {
    PetscCall(TaoAdamCheckLayout_Private(tao, m, "m of TaoAdamSetState()"));
    PetscCall(VecCopy(m, adam->m));
  } else
    PetscCall(VecSet(adam->m, 0.0));
  if (v) {
    PetscReal vmin;

    PetscCall(TaoAdamCheckLayout_Private(tao, v, "v of TaoAdamSetState()"));
    PetscCall(VecMin(v, NULL, &vmin));
    PetscCheck(!(vmin < 0.0), comm, PETSC_ERR_ARG_OUTOFRANGE, "TaoAdamSetState(): the second-moment estimate v has a negative entry (%g)", (double)vmin);
    PetscCall(VecCopy(v, adam->v));
  } else
    PetscCall(VecSet(adam->v, 0.0));
  adam->step = step;
  PetscFunctionReturn(0);
}

/*@
  TaoAdamSetDecay - Sets the step-size decay of a `TAOADAM` solver

  Logically Collective

  Input Parameters:
+ tao - the Tao context, of type `TAOADAM`
. k0 - decay constant (> 0), or 0 for a constant step size
- start - first step t that decays (>= 0), or PETSC_MAX_INT to postpone the decay

  Level: advanced

  Note:
  Step t (counted from 0, as the iteration number) uses lr / sqrt(1 + max(0, t - start)/k0):
  the Robbins-Monro-type decay with sum lr_t = infinity that, with iterate averaging, lets a
  stochastic iteration settle (Polyak & Juditsky 1992). The pair (k0, start) is restart state:
  set it again, with `TaoAdamSetState()`, before a continued `TaoSolve()`.

.seealso: `TAOADAM`, `TaoAdamGetDecay()`, `TaoAdamSetState()`
@*/
PetscErrorCode TaoAdamSetDecay(Tao tao, PetscReal k0, PetscInt start)
{
  TAO_ADAM *adam;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(tao, TAO_CLASSID, 1);
  PetscCall(TaoAdamCheckType_Private(tao, "TaoAdamSetDecay"));
  PetscCheck(k0 >= 0 && !PetscIsInfOrNanReal(k0), PetscObjectComm((PetscObject)tao), PETSC_ERR_ARG_OUTOFRANGE, "TaoAdamSetDecay(): k0 %g must be finite and >= 0", (double)k0);
  PetscCheck(start >= 0, PetscObjectComm((PetscObject)tao), PETSC_ERR_ARG_OUTOFRANGE, "TaoAdamSetDecay(): start %" PetscInt_FMT " must be >= 0", start);
  adam              = (TAO_ADAM *)tao->data;
  adam->decay_steps = k0;
  adam->decay_start = start;
  PetscFunctionReturn(0);
}

/*@
  TaoAdamGetDecay - Gets the step-size decay of a `TAOADAM` solver (see `TaoAdamSetDecay()`)

  Not Collective

  Input Parameter:
. tao - the Tao context, of type `TAOADAM`

  Output Parameters:
+ k0 - decay constant (0: none), or NULL
- start - first decaying step (PETSC_MAX_INT: not yet), or NULL

  Level: advanced

.seealso: `TAOADAM`, `TaoAdamSetDecay()`
@*/
PetscErrorCode TaoAdamGetDecay(Tao tao, PetscReal *k0, PetscInt *start)
{
  TAO_ADAM *adam;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(tao, TAO_CLASSID, 1);
  PetscCall(TaoAdamCheckType_Private(tao, "TaoAdamGetDecay"));
  adam = (TAO_ADAM *)tao->data;
  if (k0) *k0 = adam->decay_steps;
  if (start) *start = adam->decay_start;
  PetscFunctionReturn(0);
}
