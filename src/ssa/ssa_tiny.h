/* SPDX-License-Identifier: BSD-2-Clause */
/* Private to the direct-method engines (ssa.c, ssa_tiny.c). */
#ifndef STGSSA_SSA_TINY_H
#define STGSSA_SSA_TINY_H

#include <stgssa/ssa.h>

/* The tiny-network direct method (ssa_tiny.c) applies: time-independent mass action, R <= 16,
   S + 1 <= 16, every propensity k_j x_s or k_j. */
PETSC_INTERN PetscBool StgssaTinyApplies(const StgssaNetwork *);
/* StgssaSSARunMany for StgssaTinyApplies(): the same numbers, bit for bit. */
PETSC_INTERN PetscErrorCode StgssaSSARunTiny_Private(const StgssaSSAConfig *, PetscInt count, const uint64_t *traj, StgssaSSAWork *, int64_t *samples, StgssaTrajInfo *);

#endif
