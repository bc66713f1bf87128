/* SPDX-License-Identifier: BSD-2-Clause */
/* Small helpers shared by the objects of the library (not part of the public API). */
#ifndef STGSSA_IMPL_H
#define STGSSA_IMPL_H

#include <petscsys.h>

/* Replace the string list (*list, *n) by copies of names[0..m-1]; free a list. */
PETSC_INTERN PetscErrorCode StgssaStringListSet(PetscInt m, const char *const names[], PetscInt *n, char ***list);
PETSC_INTERN PetscErrorCode StgssaStringListFree(PetscInt *n, char ***list);

/* Collective: rank 0 reads the whole text file path (what: "model file", ...), every rank gets it. */
PETSC_INTERN PetscErrorCode StgssaReadTextFile(MPI_Comm comm, const char path[], const char what[], char **text);

#endif
