/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef STGSSA_MODEL_IMPL_H
#define STGSSA_MODEL_IMPL_H

#include <stgssa/model.h>

struct _p_StgssaModel {
  MPI_Comm        comm;
  StgssaModelDef *def; /* parsed model, NULL until loaded */
  StgssaNetwork   net; /* compiled from def */
  StgssaModelFormat format;     /* file format (-stgssa_model_format) */
  PetscBool         format_set; /* set by StgssaModelSetFormat: the option is not read */
};

PETSC_INTERN PetscErrorCode StgssaNetworkBuild_Private(const StgssaModelDef *, StgssaNetwork *);
PETSC_INTERN PetscErrorCode StgssaNetworkDestroy_Private(StgssaNetwork *);
/* Copy the definition's parameter values into the network (pv, and k of mass-action reactions). */
PETSC_INTERN PetscErrorCode StgssaNetworkSetParameterValues_Private(const StgssaModelDef *, StgssaNetwork *);

#endif
