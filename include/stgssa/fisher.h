/* SPDX-License-Identifier: BSD-2-Clause */
/*
  TAOFISHER: stochastic Fisher scoring as a TAO solver type, for likelihood fits with noisy
  gradients (the SSA route of -stgssa_loss likelihood). Each iteration takes the damped Newton
  step with the Fisher information as the curvature (the Hessian routine of TaoSetHessian()
  returns it), capped in size and projected onto the bounds. Select it with -tao_type fisher
  once it is registered: StgssaInitializePackage() does that.

  The method keeps no state besides the iteration count: x_{k+1} depends on x_k and what is
  evaluated there only, so a restart from (x_k, k) with TaoFisherSetStep() continues bitwise.
*/
#ifndef STGSSA_FISHER_H
#define STGSSA_FISHER_H

#include <petsctao.h>

#define TAOFISHER "fisher"

PETSC_EXTERN PetscErrorCode TaoCreate_FISHER(Tao);
/* The iteration count the next TaoSolve() starts from (restarts); default 0. */
PETSC_EXTERN PetscErrorCode TaoFisherSetStep(Tao, PetscInt step);

#endif
