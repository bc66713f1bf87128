/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaODE: the mean-field ODE with forward sensitivities on PETSc TS (include/stgssa/ode.h).
  One TS integrates the state and its forward sensitivities together, z = [x; S] with
  z' = [f(x, t); J S + F] (the simultaneous direct method), so the adaptive step controls the
  error of both. PETSc 3.18's own TSForwardSetSensitivities was tried first and is not used: with
  TSRK and an adaptive step it integrates S with the step size proposed for the NEXT step (the
  birth-death sensitivity came out 4% off at t = 0.25 with -ts_rtol 1e-12; correct with a fixed
  step), and it exists for rk and theta only. The output times are reached one after another
  with TS_EXACTFINALTIME_MATCHSTEP.
*/
#include "ode_impl.h"
#include "../stgssa_impl.h"

PetscErrorCode StgssaODECreate(MPI_Comm comm, StgssaODE *ode)
{
  StgssaODE o;

  PetscFunctionBegin;
  PetscCall(PetscNew(&o));
  o->comm = comm;
  *ode    = o;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaODESetModel(StgssaODE o, StgssaModel model)
{
  PetscFunctionBegin;
  o->model = model;
  o->setup = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaODESetFit(StgssaODE o, PetscInt P, const PetscInt fit_param[])
{
  PetscFunctionBegin;
  PetscCheck(P >= 0, o->comm, PETSC_ERR_ARG_OUTOFRANGE, "StgssaODESetFit: P = %" PetscInt_FMT " < 0", P);
  PetscCall(PetscFree(o->fit_param));
  PetscCall(PetscMalloc1(P + 1, &o->fit_param));
  if (P) PetscCall(PetscArraycpy(o->fit_param, fit_param, P));
  o->P     = P;
  o->setup = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaODESetTimes(StgssaODE o, PetscInt n, const PetscReal times[])
{
  PetscFunctionBegin;
  PetscCheck(n > 0, o->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_mode ode: no output times (give -stgssa_sample_times or -stgssa_tfinal)");
  for (PetscInt i = 0; i < n; i++)
    PetscCheck(times[i] >= 0 && (i == 0 || times[i] > times[i - 1]) && PetscIsNormalReal(times[i] + 1), o->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_mode ode: output times must be finite, >= 0 and increasing (time %" PetscInt_FMT " is %g)", i,
               (double)times[i]);
  PetscCall(PetscFree(o->times));
  PetscCall(PetscMalloc1(n, &o->times));
  PetscCall(PetscArraycpy(o->times, times, n));
  o->nt    = n;
  o->setup = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaODESetFromOptions(StgssaODE o)
{
  PetscFunctionBegin;
  o->fromoptions = PETSC_TRUE; /* the TS reads -ts_* at SetUp */
  o->setup       = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* The augmented state z = [x; S e_0; ...; S e_{P-1}] (N = S (1 + P)): z[0..S) = x,
   z[S + p S + s] = d x_s / d theta_p. Its right-hand side is [f; J S_p + F_p] (the forward
   sensitivity equations integrated with the state, so TS's error control covers both). */
static PetscErrorCode StgssaODEFunction(TS ts, PetscReal t, Vec Z, Vec G, void *ctx)
{
  StgssaODE          o = (StgssaODE)ctx;
  const PetscInt     S = o->S, P = o->P;
  const PetscScalar *z;
  PetscScalar       *g;

  PetscFunctionBegin;
  PetscCall(VecGetArrayRead(Z, &z));
  PetscCall(VecGetArray(G, &g));
  PetscCall(StgssaODERhsEval(&o->rhs, t, z, g, P ? o->Jw : NULL, P ? o->Fw : NULL));
  for (PetscInt p = 0; p < P; p++)
    for (PetscInt s = 0; s < S; s++) {
      double v = o->Fw[s * P + p];
      for (PetscInt u = 0; u < S; u++)
        v += o->Jw[s * S + u] * z[S + p * S + u];
      g[S + p * S + s] = v;
    }
  PetscCall(VecRestoreArray(G, &g));
  PetscCall(VecRestoreArrayRead(Z, &z));
  PetscFunctionReturn(0);
}

/* For implicit TS types: the block-diagonal part diag(J, ..., J) of the augmented Jacobian (the
   coupling d(J S_p)/dx needs second derivatives and is left out: it slows Newton, not accuracy). */
static PetscErrorCode StgssaODEJacobian(TS ts, PetscReal t, Vec Z, Mat A, Mat B, void *ctx)
{
  StgssaODE          o = (StgssaODE)ctx;
  const PetscInt     S = o->S;
  const PetscScalar *z;

  PetscFunctionBegin;
  PetscCall(VecGetArrayRead(Z, &z));
  PetscCall(StgssaODERhsEval(&o->rhs, t, z, o->fw, o->Jw, NULL));
  PetscCall(VecRestoreArrayRead(Z, &z));
  PetscCall(MatZeroEntries(B));
  for (PetscInt b = 0; b <= o->P; b++)
    for (PetscInt s = 0; s < S; s++)
      for (PetscInt u = 0; u < S; u++)
        if (o->Jw[s * S + u] != 0.0) PetscCall(MatSetValue(B, b * S + s, b * S + u, o->Jw[s * S + u], INSERT_VALUES));
  PetscCall(MatAssemblyBegin(B, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(B, MAT_FINAL_ASSEMBLY));
  if (A != B) {
    PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaODEFreeSetUp(StgssaODE o)
{
  PetscFunctionBegin;
  PetscCall(TSDestroy(&o->ts));
  PetscCall(VecDestroy(&o->X));
  PetscCall(MatDestroy(&o->J));
  PetscCall(StgssaODERhsDestroy(&o->rhs));
  PetscCall(PetscFree2(o->x, o->dx));
  PetscCall(PetscFree3(o->fw, o->Jw, o->Fw));
  o->setup = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaODESetUp(StgssaODE o)
{
  const StgssaNetwork *net;
  PetscInt             N;

  PetscFunctionBegin;
  if (o->setup) PetscFunctionReturn(0);
  PetscCheck(o->model && o->times, o->comm, PETSC_ERR_ORDER, "StgssaODE: set the model and the times first");
  PetscCall(StgssaODEFreeSetUp(o));
  PetscCall(StgssaModelGetNetwork(o->model, &net));
  o->S = net->S;
  N    = o->S * (1 + o->P);
  if (!o->fit_param) PetscCall(PetscMalloc1(1, &o->fit_param));
  PetscCall(StgssaODERhsCreate(net, &o->rhs));
  o->rhs.P         = o->P;
  o->rhs.fit_param = o->fit_param;
  PetscCall(PetscCalloc2(o->nt * o->S, &o->x, o->nt * o->S * o->P + 1, &o->dx));
  PetscCall(PetscMalloc3(o->S, &o->fw, o->S * o->S, &o->Jw, o->S * o->P + 1, &o->Fw));
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, N, &o->X));
  { /* nonzeros of diag(J, ..., J): the species each species' rate reads, at most S per row */
    PetscCall(MatCreateSeqAIJ(PETSC_COMM_SELF, N, N, o->S, NULL, &o->J));
    PetscCall(MatSetOption(o->J, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_FALSE));
  }
  PetscCall(TSCreate(PETSC_COMM_SELF, &o->ts));
  PetscCall(TSSetProblemType(o->ts, TS_NONLINEAR));
  PetscCall(TSSetType(o->ts, TSRK));
  PetscCall(TSRKSetType(o->ts, TSRK5DP));
  PetscCall(TSSetTolerances(o->ts, 1e-10, NULL, 1e-8, NULL));
  PetscCall(TSSetRHSFunction(o->ts, NULL, StgssaODEFunction, o));
  PetscCall(TSSetRHSJacobian(o->ts, o->J, o->J, StgssaODEJacobian, o));
  PetscCall(TSSetExactFinalTime(o->ts, TS_EXACTFINALTIME_MATCHSTEP));
  PetscCall(TSSetMaxSteps(o->ts, 100000)); /* per output interval: a stiff trial point of a fit fails fast (and is rejected) instead of crawling */
  o->dt0 = 1e-3 * (o->times[o->nt - 1] > 0 ? o->times[o->nt - 1] : 1.0);
  if (o->fromoptions) PetscCall(TSSetFromOptions(o->ts));
  o->setup = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* Copy x and S from the augmented state into the output row of time i. */
static PetscErrorCode StgssaODERecord(StgssaODE o, PetscInt i)
{
  const PetscScalar *z;

  PetscFunctionBegin;
  PetscCall(VecGetArrayRead(o->X, &z));
  for (PetscInt s = 0; s < o->S; s++)
    o->x[i * o->S + s] = z[s];
  for (PetscInt s = 0; s < o->S; s++)
    for (PetscInt p = 0; p < o->P; p++)
      o->dx[(i * o->S + s) * o->P + p] = z[o->S + p * o->S + s];
  PetscCall(VecRestoreArrayRead(o->X, &z));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaODESolve(StgssaODE o, const StgssaNetwork *net)
{
  PetscScalar *z;
  PetscReal    t = 0.0;

  PetscFunctionBegin;
  PetscCall(StgssaODESetUp(o));
  PetscCheck(net->S == o->S, o->comm, PETSC_ERR_ARG_INCOMP, "StgssaODESolve: a network of another model");
  o->rhs.net = net;
  PetscCall(VecSet(o->X, 0.0)); /* S(0) = 0: the initial counts do not depend on the rates */
  PetscCall(VecGetArray(o->X, &z));
  for (PetscInt s = 0; s < o->S; s++)
    z[s] = (PetscScalar)net->x0[s];
  PetscCall(VecRestoreArray(o->X, &z));
  o->steps = 0;
  for (PetscInt i = 0; i < o->nt; i++) {
    if (o->times[i] > t) {
      PetscInt          n;
      TSConvergedReason reason;
      PetscCall(TSSetTime(o->ts, t));
      PetscCall(TSSetStepNumber(o->ts, 0));
      PetscCall(TSSetTimeStep(o->ts, PetscMin(o->dt0, o->times[i] - t)));
      PetscCall(TSSetMaxTime(o->ts, o->times[i]));
      PetscCall(TSSolve(o->ts, o->X));
      PetscCall(TSGetConvergedReason(o->ts, &reason));
      PetscCall(TSGetStepNumber(o->ts, &n));
      PetscCall(TSGetTime(o->ts, &t));
      PetscCheck(reason > 0 && PetscAbsReal(t - o->times[i]) <= 1e-12 * PetscMax(1.0, o->times[i]), o->comm, PETSC_ERR_NOT_CONVERGED,
                 "-stgssa_mode ode: the TS stopped at t = %g before the output time %g (%s); for a stiff model try -ts_type bdf, or raise -ts_max_steps (default 100000 per output interval)", (double)t, (double)o->times[i],
                 TSConvergedReasons[reason]);
      o->steps += n;
      t = o->times[i];
    }
    PetscCall(StgssaODERecord(o, i));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaODEGetMeans(StgssaODE o, const PetscReal **x, const PetscReal **dx)
{
  PetscFunctionBegin;
  if (x) *x = o->x;
  if (dx) *dx = o->dx;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaODEGetSteps(StgssaODE o, PetscInt *steps)
{
  PetscFunctionBegin;
  *steps = o->steps;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaODEView(StgssaODE o, PetscViewer viewer)
{
  TSType    type = "none";
  PetscReal rtol = 0, atol = 0;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(o->comm, &viewer));
  if (o->ts) {
    PetscCall(TSGetType(o->ts, &type));
    PetscCall(TSGetTolerances(o->ts, &atol, NULL, &rtol, NULL));
  }
  PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaODE: mean-field ODE of %" PetscInt_FMT " species, %" PetscInt_FMT " sensitivities, %" PetscInt_FMT " output times; TS %s, rtol %g, atol %g, %" PetscInt_FMT " steps\n", o->S, o->P, o->nt, type,
                                   (double)rtol, (double)atol, o->steps));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaODEDestroy(StgssaODE *ode)
{
  StgssaODE o = *ode;

  PetscFunctionBegin;
  if (!o) PetscFunctionReturn(0);
  PetscCall(StgssaODEFreeSetUp(o));
  PetscCall(PetscFree(o->fit_param));
  PetscCall(PetscFree(o->times));
  PetscCall(StgssaStringListFree(&o->nfit_names, &o->fit_names));
  PetscCall(PetscFree(*ode));
  PetscFunctionReturn(0);
}
