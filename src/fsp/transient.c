/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaFSP: the transient, p and its sensitivities integrated with PETSc TS.
*/
#include "fsp_impl.h"

/* Implicit form of dy/dt = J y:  F(t, y, ydot) = ydot - J y = 0. */
static PetscErrorCode StgssaFSPIFunction(TS ts, PetscReal t, Vec y, Vec ydot, Vec F, void *ctx)
{
  StgssaFSP f = (StgssaFSP)ctx;

  PetscFunctionBegin;
  PetscCall(StgssaFSPOperatorsAt(f, t));
  PetscCall(MatMult(f->ponly ? f->A : f->J, y, F)); /* p alone (adjoint mode): dp/dt = A p */
  PetscCall(VecAYPX(F, -1.0, ydot));
  PetscFunctionReturn(0);
}

/* dF/dy + shift dF/dydot = shift I - J. J is constant, so the operator changes only with the
   shift (the step size): left untouched otherwise, its factorization is reused across the
   stages of a step (SDIRK stages share one diagonal coefficient) and across equal steps.
   With time-dependent propensities J = J(t): formed again whenever t changes. */
static PetscErrorCode StgssaFSPIJacobian(TS ts, PetscReal t, Vec y, Vec ydot, PetscReal shift, Mat A, Mat B, void *ctx)
{
  StgssaFSP f = (StgssaFSP)ctx;

  PetscFunctionBegin;
  PetscCall(StgssaFSPOperatorsAt(f, t));
  if (shift == f->shift) PetscFunctionReturn(0);
  f->shift = shift;
  if (f->stage_shell) { /* the block-triangular PC forms shift I - A itself, at its next application */
    f->kdirty = PETSC_TRUE;
    PetscFunctionReturn(0);
  }
  PetscCall(MatCopy(f->ponly ? f->A : f->J, B, SAME_NONZERO_PATTERN));
  PetscCall(MatScale(B, -1.0));
  PetscCall(MatShift(B, shift));
  f->shift = shift;
  PetscFunctionReturn(0);
}

/* The stage operator shift I - J is block lower triangular in (p, s_1..s_P):
     (shift I - A) y_0 = x_0,   (shift I - A) y_q = x_q + dA_q y_0,
   so its exact inverse needs one factorization of K = shift I - A (n x n) instead of one of
   the (1+P)n x (1+P)n operator: the default preconditioner (with KSPPREONLY) of the stages. */
static PetscErrorCode StgssaFSPStageSetUp(PC pc)
{
  StgssaFSP f;

  PetscFunctionBegin;
  PetscCall(PCShellGetContext(pc, &f));
  PetscCall(MatCopy(f->A, f->K, SAME_NONZERO_PATTERN));
  PetscCall(MatScale(f->K, -1.0));
  PetscCall(MatShift(f->K, f->shift));
  PetscCall(KSPSetOperators(f->kstage, f->K, f->K));
  f->kdirty = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* K^-1 rhs; a failed solve marks the PC failed (the integrator then rejects the step) */
static PetscErrorCode StgssaFSPStageSolve(PC pc, StgssaFSP f, Vec rhs, Vec sol, PetscBool *ok)
{
  KSPConvergedReason reason;

  PetscFunctionBegin;
  PetscCall(KSPSolve(f->kstage, rhs, sol));
  PetscCall(KSPGetConvergedReason(f->kstage, &reason));
  *ok = (PetscBool)(reason > 0);
  if (!*ok) PetscCall(PCSetFailedReason(pc, PC_SUBPC_ERROR));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaFSPStageApply(PC pc, Vec x, Vec y)
{
  StgssaFSP f;
  PetscBool ok;

  PetscFunctionBegin;
  PetscCall(PCShellGetContext(pc, &f));
  if (f->kdirty) PetscCall(StgssaFSPStageSetUp(pc));
  if (f->ponly) { /* p alone: one block */
    PetscCall(StgssaFSPStageSolve(pc, f, x, y, &ok));
    PetscFunctionReturn(0);
  }
  PetscCall(VecStrideGather(x, 0, f->u, INSERT_VALUES));
  PetscCall(StgssaFSPStageSolve(pc, f, f->u, f->v, &ok)); /* y_0 = K^-1 x_0 */
  PetscCall(VecStrideScatter(f->v, 0, y, INSERT_VALUES));
  for (PetscInt q = 0; q < f->P && ok; q++) {
    PetscCall(VecStrideGather(x, 1 + q, f->u, INSERT_VALUES));
    PetscCall(MatMultAdd(f->dA[q], f->v, f->u, f->u)); /* x_q + dA_q y_0 */
    PetscCall(StgssaFSPStageSolve(pc, f, f->u, f->w, &ok));
    PetscCall(VecStrideScatter(f->w, 1 + q, y, INSERT_VALUES));
  }
  PetscFunctionReturn(0);
}

/* Integrate y from *t to end (end > *t), in segments between the breakpoints of table inputs
   (time-dependent propensities), each ending exactly on its end (TS_EXACTFINALTIME_MATCHSTEP),
   the step restarted after a jump of an input. *failed: the integrator stopped (f->fail_msg set,
   raised through StgssaFSPRaise). */
static PetscErrorCode StgssaFSPIntegrate(StgssaFSP f, Vec y, PetscReal *t, PetscReal end_all, PetscBool *failed)
{
  PetscFunctionBegin;
  *failed = PETSC_FALSE;
  while (end_all > *t) {
    TSConvergedReason reason;
    PetscReal         end = end_all;
    if (f->any_tdep) { /* time-dependent: segments between breakpoints */
      PetscInt ib = 0;
      while (ib < f->nbrk && f->brk[ib] <= *t) ib++;
      f->seg_clamp = (PetscBool)(ib < f->nbrk && f->brk[ib] <= end);
      if (f->seg_clamp) end = f->brk[ib];
      f->seg_end    = end;
      f->seg_before = nextafter(end, -PETSC_INFINITY);
    }
    PetscCall(TSSetMaxTime(f->ts, end));
    PetscCall(TSSolve(f->ts, y));
    PetscCall(TSGetConvergedReason(f->ts, &reason));
    if (reason < 0) {
      PetscCall(PetscSNPrintf(f->fail_msg, sizeof(f->fail_msg), "FSP transient: the integrator stopped before t = %g (%s); try other stage solvers (-fsp_stage_ksp_type, -fsp_stage_pc_type), -fsp_ts_type bdf or a looser -fsp_ts_rtol", (double)end,
                              TSConvergedReasons[reason]));
      *failed = PETSC_TRUE;
      PetscFunctionReturn(0);
    }
    PetscCall(TSSetTime(f->ts, end)); /* exactly on the breakpoint or end time */
    *t = end;
    if (f->seg_clamp) { /* the input jumps: the next step starts afresh with the new level */
      f->seg_clamp = PETSC_FALSE;
      PetscCall(TSRestartStep(f->ts));
    }
  }
  PetscFunctionReturn(0);
}

/* Advance y from *t to end, applying the scheduled event instances *ie, *ie + 1, ... whose times
   are < end on the way (a sample at an event time sees the state before it) (integrate to the event time, apply its map, restart the step: the
   solution jumps there). On return *ie is the first instance not applied. */
PetscErrorCode StgssaFSPAdvance(StgssaFSP f, Vec y, PetscReal *t, PetscReal end, PetscInt *ie, PetscBool *failed)
{
  PetscFunctionBegin;
  *failed = PETSC_FALSE;
  while (*ie < f->ninst && f->inst_t[*ie] < end) {
    PetscCall(StgssaFSPIntegrate(f, y, t, f->inst_t[*ie], failed));
    if (*failed) PetscFunctionReturn(0);
    PetscCall(StgssaFSPEventApply(f, f->inst_e[*ie], y));
    (*ie)++;
    PetscCall(TSRestartStep(f->ts));
  }
  PetscCall(StgssaFSPIntegrate(f, y, t, end, failed));
  PetscFunctionReturn(0);
}

/* Transient: y = (p, s_1..s_P) interleaved per state, dy/dt = J y with
   dp/dt = A p, ds_q/dt = A s_q + dA_q p; y(0) = (e_x0, 0), or y0 (the steady state at t = 0 and
   its sensitivities). Integrated to each sample time in turn (StgssaFSPAdvance: events and
   breakpoints of table inputs on the way), recorded there; then the two-time correlations,
   which start from the states kept at the samples. */
PetscErrorCode StgssaFSPSolveTransient(StgssaFSP f, Vec y0)
{
  Vec       y;
  PetscReal t = 0, dt0, maxexit = 0;
  PetscInt  steps0, ie = 0;

  PetscFunctionBegin;
  PetscCall(TSDestroy(&f->ts)); /* fresh integrator per solve: the same steps for the same input */
  {
    Vec d;
    PetscCall(MatCreateVecs(f->A, &d, NULL));
    PetscCall(MatGetDiagonal(f->A, d));
    PetscCall(VecNorm(d, NORM_INFINITY, &maxexit));
    PetscCall(VecDestroy(&d));
  }
  PetscCall(TSCreate(f->pcomm, &f->ts));
  PetscCall(TSSetOptionsPrefix(f->ts, "fsp_"));
  PetscCall(TSSetProblemType(f->ts, TS_LINEAR));
  PetscCall(TSSetIFunction(f->ts, NULL, StgssaFSPIFunction, f));
  if (!f->K) PetscCall(MatDuplicate(f->A, MAT_DO_NOT_COPY_VALUES, &f->K));
  if (f->adj) PetscCall(TSSetIJacobian(f->ts, f->K, f->K, StgssaFSPIJacobian, f)); /* p alone: shift I - A */
  else PetscCall(TSSetIJacobian(f->ts, f->Jshift, f->Jshift, StgssaFSPIJacobian, f));
  f->shift = PETSC_MAX_REAL; /* J has new values: form shift I - J at the first stage */
  /* default: ARK5(4)8L[2]SA treated fully implicitly (L-stable SDIRK, order 5), tight tolerances */
  PetscCall(TSSetType(f->ts, TSARKIMEX));
  PetscCall(TSARKIMEXSetType(f->ts, TSARKIMEX5));
  PetscCall(TSARKIMEXSetFullyImplicit(f->ts, PETSC_TRUE));
  PetscCall(TSSetTolerances(f->ts, 1e-14, NULL, 1e-10, NULL));
  PetscCall(TSSetExactFinalTime(f->ts, TS_EXACTFINALTIME_MATCHSTEP));
  PetscCall(TSSetMaxSteps(f->ts, PETSC_MAX_INT / 2));
  PetscCall(TSSetMaxSNESFailures(f->ts, 10));           /* a failed stage solve: retry with a smaller step */
  PetscCall(TSSetErrorIfStepFails(f->ts, PETSC_FALSE)); /* and report failure below, with advice */
  dt0 = 1e-3 / (1.0 + maxexit);
  PetscCall(TSSetTimeStep(f->ts, dt0));
  { /* stages: one exact block-triangular solve (KSPPREONLY + the PCSHELL above) */
    SNES snes;
    KSP  ksp;
    PC   pc;
    PetscCall(TSGetSNES(f->ts, &snes));
    PetscCall(SNESSetType(snes, SNESKSPONLY));
    PetscCall(SNESGetKSP(snes, &ksp));
    PetscCall(KSPSetType(ksp, KSPPREONLY));
    PetscCall(KSPGetPC(ksp, &pc));
    PetscCall(PCSetType(pc, PCSHELL));
    PetscCall(PCShellSetContext(pc, f));
    PetscCall(PCShellSetSetUp(pc, StgssaFSPStageSetUp));
    PetscCall(PCShellSetApply(pc, StgssaFSPStageApply));
    PetscCall(PCShellSetName(pc, "FSP stages: block triangular, (shift I - A)^-1 per block"));
  }
  PetscCall(KSPDestroy(&f->kstage));
  PetscCall(KSPCreate(f->pcomm, &f->kstage));
  PetscCall(KSPSetOptionsPrefix(f->kstage, "fsp_stage_"));
  PetscCall(StgssaFSPDefaultKSP(f, f->kstage, PETSC_TRUE));
  PetscCall(KSPSetFromOptions(f->kstage));
  if (!f->u) {
    PetscCall(MatCreateVecs(f->A, &f->u, &f->v));
    PetscCall(VecDuplicate(f->v, &f->w));
  }
  PetscCall(TSSetFromOptions(f->ts));
  { /* the default stage solver (KSPPREONLY + the PCSHELL above) never reads shift I - J */
    SNES      snes;
    KSP       ksp;
    PC        pc;
    PetscBool pre, shell;
    PetscCall(TSGetSNES(f->ts, &snes));
    PetscCall(SNESGetKSP(snes, &ksp));
    PetscCall(KSPGetPC(ksp, &pc));
    PetscCall(PetscObjectTypeCompare((PetscObject)ksp, KSPPREONLY, &pre));
    PetscCall(PetscObjectTypeCompare((PetscObject)pc, PCSHELL, &shell));
    f->stage_shell = (PetscBool)(pre && shell);
  }
  f->ponly = f->adj; /* adjoint mode: p alone, each step stored for the backward pass (adjoint.c) */
  f->top_t = PETSC_MAX_REAL; /* time-dependent operators: fill the blocks this pass uses at the first time */
  if (f->adj) {
    PetscCall(StgssaFSPTrajectoryReset(f));
    PetscCall(TSSetApplicationContext(f->ts, f));
    PetscCall(TSSetPreStep(f->ts, StgssaFSPTrajectoryPreStep));
    PetscCall(TSSetPostStep(f->ts, StgssaFSPTrajectoryPostStep));
  }
  PetscCall(MatCreateVecs(f->ponly ? f->A : f->J, &y, NULL));
  if (y0) PetscCall(VecCopy(y0, y)); /* -stgssa_initial steady */
  else {
    PetscCall(VecZeroEntries(y));
    if (f->rstart == 0 && f->rend > 0) PetscCall(VecSetValue(y, 0, 1.0, INSERT_VALUES)); /* p(0) = e_x0 */
    PetscCall(VecAssemblyBegin(y));
    PetscCall(VecAssemblyEnd(y));
  }
  PetscCall(TSSetTime(f->ts, 0.0));
  PetscCall(TSGetStepNumber(f->ts, &steps0));
  f->seg_clamp = PETSC_FALSE;
  for (PetscInt k = 0; k < f->nsample; k++) {
    PetscBool failed;
    if (f->times[k] < 0) continue;
    PetscCall(StgssaFSPAdvance(f, y, &t, f->times[k], &ie, &failed));
    if (failed) {
      f->ponly = PETSC_FALSE;
      PetscCall(VecDestroy(&y));
      PetscCall(StgssaFSPRaise(f, STGSSA_FSP_FAILED_SOLVER, PETSC_ERR_NOT_CONVERGED));
      PetscFunctionReturn(0);
    }
    PetscCall(StgssaFSPGatherRecord(f, y, 1, &k, PETSC_FALSE));
    if (f->ysave) { /* the correlations start here */
      PetscCall(VecDestroy(&f->ysave[k]));
      PetscCall(VecDuplicate(y, &f->ysave[k]));
      PetscCall(VecCopy(y, f->ysave[k]));
    }
    if (f->abort_on_leak && f->lost[k] > f->tol) { /* the lost mass only grows: the bounds will grow, the rest is not needed */
      f->aborted = PETSC_TRUE;
      break;
    }
  }
  PetscCall(TSGetStepNumber(f->ts, &f->ts_steps));
  f->ts_steps -= steps0;
  if (f->ncorr && !f->aborted) {
    PetscBool failed;
    PetscCall(StgssaFSPCorrelationCompute(f, &failed));
    if (failed) {
      f->ponly = PETSC_FALSE;
      PetscCall(VecDestroy(&y));
      PetscCall(StgssaFSPRaise(f, STGSSA_FSP_FAILED_SOLVER, PETSC_ERR_NOT_CONVERGED));
      PetscFunctionReturn(0);
    }
  }
  f->ponly = PETSC_FALSE;
  PetscCall(VecDestroy(&y));
  PetscFunctionReturn(0);
}
