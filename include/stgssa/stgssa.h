/* SPDX-License-Identifier: BSD-2-Clause */
/* libstgssa: exact stochastic simulation with gradients, distributed with MPI (umbrella header). */
#ifndef STGSSA_H
#define STGSSA_H

#include <petscsys.h>
#include <petscviewer.h>

#define STGSSA_VERSION "0.1.0"

/* Log events (registered by StgssaInitializePackage), so -log_view shows where time goes. */
PETSC_EXTERN PetscLogEvent STGSSA_Simulate, STGSSA_Tangents, STGSSA_Reduce, STGSSA_Loss, STGSSA_Output, STGSSA_ModelLoad;
PETSC_EXTERN PetscLogEvent STGSSA_ModelParse, STGSSA_NetworkBuild; /* the two parts of StgssaModelLoad (-log_view) */
PETSC_EXTERN PetscLogEvent STGSSA_FSPSolve; /* StgssaFSPSolve, with its growth re-solves */
PETSC_EXTERN PetscClassId  STGSSA_CLASSID;

PETSC_EXTERN PetscErrorCode StgssaInitializePackage(void);
PETSC_EXTERN PetscErrorCode StgssaFinalizePackage(void);

#include <stgssa/modeldef.h>
#include <stgssa/rng.h>
#include <stgssa/model.h>
#include <stgssa/ssa.h>
#include <stgssa/histogram.h>
#include <stgssa/ensemble.h>
#include <stgssa/exactsum.h>
#include <stgssa/correlate.h>
#include <stgssa/tangent.h>
#include <stgssa/lossfn.h>
#include <stgssa/evaluator.h>
#include <stgssa/data.h>
#include <stgssa/objective.h>
#include <stgssa/optimizer.h>
#include <stgssa/output.h>

#endif
