/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Private context of the TAO type "adam" (TAOADAM, adam.c).
*/
#ifndef STGSSA_OPT_ADAM_H
#define STGSSA_OPT_ADAM_H

#include <petscvec.h>

typedef struct {
  Vec       m;       /* first-moment estimate (biased), same layout as tao->solution */
  Vec       v;       /* second-moment estimate (biased) */
  Vec       G;       /* unprojected gradient as returned by the user; tao->gradient holds its projection */
  PetscReal lr;      /* learning rate (step size alpha), > 0 */
  PetscReal beta1;   /* decay rate of m, in [0, 1) */
  PetscReal beta2;   /* decay rate of v, in [0, 1) */
  PetscReal epsilon; /* added to sqrt(vhat) in the denominator, > 0 */
  PetscInt  step;    /* Adam steps taken so far (t of the last update; the next one uses t = step + 1) */
  PetscReal decay_steps; /* k0 of the step-size decay lr / sqrt(1 + (step - decay_start)/k0); 0: none */
  PetscInt  decay_start; /* first step that decays (PETSC_MAX_INT: not yet) */
} TAO_ADAM;

#endif
