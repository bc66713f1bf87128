/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaModel: a reaction network read from a `.model` file (DESIGN.md section 4), with
  parameter overrides from -stgssa_parameters, compiled into a StgssaNetwork for the engine.
*/
#ifndef STGSSA_MODEL_H
#define STGSSA_MODEL_H

#include <petscsys.h>
#include <petscviewer.h>
#include <stgssa/modeldef.h>

/* Mass-action network in compressed form, the engine's read-only input. */
typedef struct {
  PetscInt  S, R;                          /* species, reactions */
  int64_t  *x0;                            /* [S] initial counts */
  double   *k;                             /* [R] rate constants */
  PetscInt *react_ptr;                     /* [R+1] reactant terms of reaction j: react_ptr[j]..react_ptr[j+1]-1 */
  PetscInt *react_species, *react_coef;    /* species index and coefficient of each reactant term */
  PetscInt *nu_ptr;                        /* [R+1] nonzero net changes of reaction j */
  PetscInt *nu_species;                    /* species index of each net change */
  int64_t  *nu_delta;                      /* nu_j for that species (p_j - r_j), nonzero */
  PetscInt *order1;                        /* [R] species s if a_j = k_j x_s (one reactant, coefficient 1), -1 if a_j = k_j, -2 otherwise */
  PetscInt *dep_ptr, *dep;                 /* [R+1], reactions whose propensity changes when reaction j fires: dep[dep_ptr[j]..dep_ptr[j+1]-1] */
} StgssaNetwork;

typedef struct _p_StgssaModel *StgssaModel;

/* Format of a model file: AUTO chooses by extension (`.net` is BioNetGen, anything else native). */
typedef enum { STGSSA_MODEL_FORMAT_AUTO, STGSSA_MODEL_FORMAT_NATIVE, STGSSA_MODEL_FORMAT_NET } StgssaModelFormat;
PETSC_EXTERN const char *const StgssaModelFormats[];
PETSC_EXTERN PetscErrorCode    StgssaModelSetFormat(StgssaModel, StgssaModelFormat);

PETSC_EXTERN PetscErrorCode StgssaModelCreate(MPI_Comm, StgssaModel *);
PETSC_EXTERN PetscErrorCode StgssaModelLoad(StgssaModel, const char[]);
PETSC_EXTERN PetscErrorCode StgssaModelLoadFromString(StgssaModel, const char[], const char[]);
PETSC_EXTERN PetscErrorCode StgssaModelSetParameters(StgssaModel, const char[], const char[]);
PETSC_EXTERN PetscErrorCode StgssaModelSetFromOptions(StgssaModel);
PETSC_EXTERN PetscErrorCode StgssaModelView(StgssaModel, PetscViewer);
PETSC_EXTERN PetscErrorCode StgssaModelGetDef(StgssaModel, const StgssaModelDef **);
PETSC_EXTERN PetscErrorCode StgssaModelGetNetwork(StgssaModel, const StgssaNetwork **);
PETSC_EXTERN PetscErrorCode StgssaModelFindSpecies(StgssaModel, const char[], PetscInt *);
/* Collective: resolve the fitted parameter names (-stgssa_fit) to model parameters, refusing
   unknown, repeated and non-positive ones: fit_param[P] = parameter index of fitted name q;
   rxn_fit[R] (may be NULL) = fitted index q of reaction j's rate parameter (rate = factor * k_q), or -1. */
PETSC_EXTERN PetscErrorCode StgssaModelResolveFit(StgssaModel, PetscInt P, const char *const names[], PetscInt fit_param[], PetscInt rxn_fit[]);
PETSC_EXTERN PetscErrorCode StgssaModelDestroy(StgssaModel *);

#endif
