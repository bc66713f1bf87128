/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaFSP: the stationary distribution of the projection and its sensitivities.
*/
#include "fsp_impl.h"

/* Default linear solvers (each overridable with -fsp_ksp_* / -fsp_pc_*, -fsp_stage_ksp_* / ...):
   - steady state: direct LU with pivoting, MUMPS (else SuperLU_DIST, else PETSc's own LU).
     [A; 1^T] has a dense row and a zero diagonal at every absorbing state, so LU without
     pivoting (PETSc's own) can meet a zero pivot, and iterative solvers are not robust on it;
   - transient stages, K = shift I - A: column diagonally dominant (shift + exit rates > sum of
     the column), so LU without pivoting is stable: PETSc's own LU on one rank; on several,
     GMRES with block Jacobi (ILU(0) per rank) to relative tolerance 1e-13, which converges in
     a few iterations while a parallel direct solve costs ~1 ms of latency per stage. */
PetscErrorCode StgssaFSPDefaultKSP(StgssaFSP f, KSP ksp, PetscBool transient)
{
  PC          pc;
  PetscMPIInt size;
  PetscBool   direct = PETSC_TRUE;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(f->pcomm, &size));
  PetscCall(KSPGetPC(ksp, &pc));
  if (transient) direct = (PetscBool)(size == 1);
#if !defined(PETSC_HAVE_MUMPS) && !defined(PETSC_HAVE_SUPERLU_DIST)
  else
    direct = (PetscBool)(size == 1);
#endif
  if (direct) {
    PetscCall(KSPSetType(ksp, KSPPREONLY));
    PetscCall(PCSetType(pc, PCLU));
    if (!transient) {
#if defined(PETSC_HAVE_MUMPS)
      PetscCall(PCFactorSetMatSolverType(pc, MATSOLVERMUMPS));
#elif defined(PETSC_HAVE_SUPERLU_DIST)
      PetscCall(PCFactorSetMatSolverType(pc, MATSOLVERSUPERLU_DIST));
#endif
    } else /* the breadth-first numbering keeps K banded (width: the largest BFS level); nested dissection doubled the fill */
      PetscCall(PCFactorSetMatOrderingType(pc, MATORDERINGNATURAL));
  } else {
    PetscCall(KSPSetType(ksp, KSPGMRES));
    PetscCall(PCSetType(pc, PCBJACOBI));
    PetscCall(KSPSetTolerances(ksp, 1e-13, 1e-50, PETSC_DEFAULT, 10000));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaFSPCheckReason(StgssaFSP f, KSPConvergedReason reason, const char what[])
{
  PetscFunctionBegin;
  if (reason > 0) PetscFunctionReturn(0);
  PetscCall(PetscSNPrintf(f->fail_msg, sizeof(f->fail_msg),
                          "FSP %s: the linear solve failed (%s). The steady state on the projection may not be unique (more than one closed class of states reachable from x0), or try other -fsp_ksp_type / -fsp_pc_type", what, KSPConvergedReasons[reason]));
  PetscCall(StgssaFSPRaise(f, STGSSA_FSP_FAILED_SOLVER, PETSC_ERR_NOT_CONVERGED));
  PetscFunctionReturn(0);
}

/* Steady state: M p = e_0 with M = A whose row 0 (state x0) is 1^T, i.e. A p = 0 off row 0 and
   sum p = 1 (the stationary law when the outflow re-enters at x0). Sensitivities with the same
   factorization: M s_q = -(dA_q p) with row 0 set to 0 (sum s_q = 0). */
PetscErrorCode StgssaFSPSolveSteady(StgssaFSP f, Vec *yout)
{
  Vec                p, rhs, s, y;
  PetscInt           nk   = 0, *ks;
  const PetscInt     nloc = f->rend - f->rstart, B = 1 + f->nsens;
  KSPConvergedReason reason;

  PetscFunctionBegin;
  if (!f->ksp) {
    PetscCall(KSPCreate(f->pcomm, &f->ksp));
    PetscCall(KSPSetOptionsPrefix(f->ksp, "fsp_"));
    PetscCall(StgssaFSPDefaultKSP(f, f->ksp, PETSC_FALSE));
    PetscCall(KSPSetOperators(f->ksp, f->Mss, f->Mss));
    PetscCall(KSPSetFromOptions(f->ksp));
  } else
    PetscCall(KSPSetOperators(f->ksp, f->Mss, f->Mss)); /* new values: refactor */
  PetscCall(MatCreateVecs(f->A, &p, &rhs));
  PetscCall(VecDuplicate(p, &s));
  PetscCall(VecCreateMPI(f->pcomm, nloc * B, f->n * B, &y)); /* (p, s_1..s_P) interleaved per state, as in the transient */
  f->ss_used = PETSC_TRUE;
  for (PetscInt q = -1; q < f->P; q++) {                    /* q = -1: p; then s_q (adjoint mode: their right-hand sides only) */
    const PetscScalar *xa;
    PetscScalar       *ya;
    if (q < 0)
      PetscCall(VecZeroEntries(rhs));
    else {
      PetscCall(MatMult(f->dA[q], p, rhs));
      PetscCall(VecScale(rhs, -1.0));
    }
    if (f->rstart == 0 && nloc > 0) PetscCall(VecSetValue(rhs, 0, q < 0 ? 1.0 : 0.0, INSERT_VALUES)); /* row 0: sum p = 1, sum s_q = 0 */
    PetscCall(VecAssemblyBegin(rhs));
    PetscCall(VecAssemblyEnd(rhs));
    if (q >= f->nsens) { /* adjoint mode: s_q . v = mu . rhs_q with Mss^T mu = v (StgssaFSPAdjointSolve) */
      const PetscScalar *ra;
      if (!f->ssr) PetscCall(PetscMalloc1(f->P * nloc + 1, &f->ssr));
      PetscCall(VecGetArrayRead(rhs, &ra));
      PetscCall(PetscArraycpy(&f->ssr[q * nloc], ra, nloc));
      PetscCall(VecRestoreArrayRead(rhs, &ra));
      continue;
    }
    PetscCall(KSPSolve(f->ksp, rhs, q < 0 ? p : s));
    PetscCall(KSPGetConvergedReason(f->ksp, &reason));
    if (reason < 0) break;
    PetscCall(VecGetArrayRead(q < 0 ? p : s, &xa));
    PetscCall(VecGetArray(y, &ya));
    for (PetscInt li = 0; li < nloc; li++)
      ya[li * B + 1 + q] = xa[li];
    PetscCall(VecRestoreArray(y, &ya));
    PetscCall(VecRestoreArrayRead(q < 0 ? p : s, &xa));
  }
  if (reason > 0) {
    PetscCall(PetscMalloc1(f->nsample, &ks));
    for (PetscInt k = 0; k < f->nsample; k++)
      if (f->times[k] < 0) ks[nk++] = k;
    if (nk) PetscCall(StgssaFSPGatherRecord(f, y, nk, ks, PETSC_TRUE));
    PetscCall(PetscFree(ks));
  }
  if (yout && reason > 0) *yout = y;
  else PetscCall(VecDestroy(&y));
  PetscCall(VecDestroy(&s));
  PetscCall(VecDestroy(&rhs));
  PetscCall(VecDestroy(&p));
  PetscCall(StgssaFSPCheckReason(f, reason, "steady state"));
  PetscFunctionReturn(0);
}
