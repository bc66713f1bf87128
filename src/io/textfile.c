/* SPDX-License-Identifier: BSD-2-Clause */
/* Collective read of a whole text file: rank 0 reads, every rank receives the same text. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "../stgssa_impl.h"

PetscErrorCode StgssaReadTextFile(MPI_Comm comm, const char path[], const char what[], char **text_out)
{
  PetscMPIInt rank;
  long        len = 0; /* -1: cannot read */
  char       *text = NULL, reason[PETSC_MAX_PATH_LEN + 256] = "";

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
      PetscCall(PetscSNPrintf(reason, sizeof(reason), "%s: cannot open %s: %s", path, what, strerror(errno)));
      len = -1;
    } else {
      size_t cap = 4096, got = 0, r;
      PetscCall(PetscMalloc1(cap, &text));
      while ((r = fread(text + got, 1, cap - got - 1, fp)) > 0) {
        got += r;
        if (got + 1 == cap) {
          char *bigger;
          PetscCall(PetscMalloc1(2 * cap, &bigger));
          PetscCall(PetscArraycpy(bigger, text, got));
          PetscCall(PetscFree(text));
          text = bigger;
          cap *= 2;
        }
      }
      if (ferror(fp)) {
        PetscCall(PetscSNPrintf(reason, sizeof(reason), "%s: cannot read %s: %s", path, what, strerror(errno)));
        len = -1;
      } else len = (long)got;
      text[got] = 0;
      (void)fclose(fp);
    }
  }
  PetscCallMPI(MPI_Bcast(&len, 1, MPI_LONG, 0, comm));
  if (len < 0) {
    PetscCallMPI(MPI_Bcast(reason, sizeof(reason), MPI_CHAR, 0, comm));
    PetscCall(PetscFree(text));
    SETERRQ(comm, PETSC_ERR_FILE_OPEN, "%s", reason);
  }
  if (rank) PetscCall(PetscMalloc1((size_t)len + 1, &text));
  PetscCallMPI(MPI_Bcast(text, (int)len + 1, MPI_CHAR, 0, comm));
  if (strlen(text) != (size_t)len) {
    PetscCall(PetscFree(text));
    SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "%s: %s contains a NUL byte; expected a text file", path, what);
  }
  *text_out = text;
  PetscFunctionReturn(0);
}
