/* SPDX-License-Identifier: BSD-2-Clause */
/* Leaks one PetscMalloc on purpose: tests/petsc_malloc.sh checks that its leak pattern catches it. */
#include <petscsys.h>

int main(int argc, char **argv)
{
  void *p;
  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(PetscMalloc(100, &p));
  PetscCall(PetscFinalize());
  return 0;
}
