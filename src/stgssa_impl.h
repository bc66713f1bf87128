/* SPDX-License-Identifier: BSD-2-Clause */
/* Small helpers shared by the objects of the library (not part of the public API). */
#ifndef STGSSA_IMPL_H
#define STGSSA_IMPL_H

#include <petscsys.h>
#include <string.h>

/* s[len] += t, truncated so that s stays NUL-terminated within len bytes. PetscStrlcat of PETSc
   3.18 writes one byte past s[len - 1] when t does not fit (found by ASan on long name lists). */
static inline PetscErrorCode StgssaStrlcat(char s[], const char t[], size_t len)
{
  size_t used, n;
  if (!len) return 0;
  used = strnlen(s, len);
  if (used >= len - 1) return 0;
  n = strlen(t);
  if (n > len - 1 - used) n = len - 1 - used;
  memcpy(s + used, t, n);
  s[used + n] = 0;
  return 0;
}

/* Two times are one sample time when they agree to 1e-9 relative (absolute below 1): the tolerance
   of sample, data and lag times everywhere (requested vs data times, lags, trace times). */
static inline PetscBool StgssaSameTime(PetscReal a, PetscReal b)
{
  return (PetscBool)(PetscAbsReal(a - b) <= 1e-9 * PetscMax(1.0, PetscMax(PetscAbsReal(a), PetscAbsReal(b))));
}

/* Replace the string list (*list, *n) by copies of names[0..m-1]; free a list. */
PETSC_INTERN PetscErrorCode StgssaStringListSet(PetscInt m, const char *const names[], PetscInt *n, char ***list);
PETSC_INTERN PetscErrorCode StgssaStringListFree(PetscInt *n, char ***list);

/* Collective: rank 0 reads the whole text file path (what: "model file", ...), every rank gets it. */
PETSC_INTERN PetscErrorCode StgssaReadTextFile(MPI_Comm comm, const char path[], const char what[], char **text);

/* The value of enumerated option name (if given) is one of list[0..n-1] (case-insensitive), else
   the error PETSc's PetscOptionsEList gives. Called before an options block that holds scratch
   memory: PETSc 3.18's PetscOptionsGetEList leaks its own copies when it raises that error. */
PETSC_INTERN PetscErrorCode StgssaOptionsCheckEList(MPI_Comm comm, const char name[], const char *const list[], PetscInt n);

/* A call inside a PetscOptionsBegin/End block while the caller holds scratch memory: the first
   error is kept in the caller's PetscErrorCode ierr_opt (0 at start) and the later calls are
   skipped, so the block ends and the scratch is freed before the error is raised
   (PetscCall(ierr_opt) after the frees): an unknown -stgssa_gradient value leaks nothing. */
#define STGSSA_OPT_CALL(call) \
  do { \
    if (!ierr_opt) ierr_opt = (call); \
  } while (0)

#endif
