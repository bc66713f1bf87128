/* SPDX-License-Identifier: BSD-2-Clause */
/*
  TAOADAM: the Adam method (Kingma & Ba, ICLR 2015) as a TAO solver type, for stochastic
  objectives (DESIGN.md §3: TAO type "adam"). Select it with TaoSetType(tao, TAOADAM) or
  -tao_type adam once it is registered: StgssaInitializePackage() does that, or call
  TaoRegister(TAOADAM, TaoCreate_ADAM) yourself (registering twice is harmless).

  Restart: TaoAdamGetState() gives the moment vectors and the step count; store them with the
  solution. To continue, create the Tao, TaoSetSolution() with the stored solution, TaoSetUp(),
  TaoAdamSetState(), TaoSolve(): the iterates are bitwise those of the uninterrupted run
  (for an objective that returns the same values at the same points).
*/
#ifndef STGSSA_ADAM_H
#define STGSSA_ADAM_H

#include <petsctao.h>

#define TAOADAM "adam"

PETSC_EXTERN PetscErrorCode TaoCreate_ADAM(Tao);
/* Borrowed references to the moment vectors m, v (after TaoSetUp()) and the number of Adam
   steps taken so far; any output may be NULL. */
PETSC_EXTERN PetscErrorCode TaoAdamGetState(Tao, Vec *m, Vec *v, PetscInt *step);
/* Copies m, v in (after TaoSetUp(), before TaoSolve()); NULL means zero. The next TaoSolve()
   continues from that state with tao->niter = step, so -tao_max_it counts total iterations. */
PETSC_EXTERN PetscErrorCode TaoAdamSetState(Tao, Vec m, Vec v, PetscInt step);
/* Step-size decay: step t (from 0) uses lr / sqrt(1 + max(0, t - start) / k0); k0 = 0 turns it
   off, start = PETSC_MAX_INT postpones it. -tao_adam_decay_steps sets k0 (default 0), start is 0
   unless set here. Part of the restart state with the step count. */
PETSC_EXTERN PetscErrorCode TaoAdamSetDecay(Tao, PetscReal k0, PetscInt start);
PETSC_EXTERN PetscErrorCode TaoAdamGetDecay(Tao, PetscReal *k0, PetscInt *start);

#endif
