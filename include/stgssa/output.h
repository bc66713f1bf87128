/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Atomic HDF5 output (DESIGN.md section 6). Rank 0 writes everything into a temporary file
  beside the target, flushes it to disk and renames it over the target only when every write
  succeeded; on any failure the temporary file is removed and the previous output stays intact.
  The verdict is broadcast, so every rank returns the same error code.
*/
#ifndef STGSSA_OUTPUT_H
#define STGSSA_OUTPUT_H

#include <petscsys.h>
#include <hdf5.h>

/* Check an HDF5 return value (negative means failure) and raise a PETSc error naming the call. */
#define PetscCallHDF5(...) \
  do { \
    if (PetscUnlikely((__VA_ARGS__) < 0)) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 call failed: %s", #__VA_ARGS__); \
  } while (0)

typedef PetscErrorCode (*StgssaOutputWriter)(hid_t file, void *ctx);

/* Collective: fail early (before any work) unless the directory of path exists and is writable. */
PETSC_EXTERN PetscErrorCode StgssaOutputCheckPath(MPI_Comm, const char path[]);
/* Collective: write path atomically; writer(file, ctx) is called on rank 0 only. */
PETSC_EXTERN PetscErrorCode StgssaOutputWrite(MPI_Comm, const char path[], StgssaOutputWriter writer, void *ctx);

/* Helpers for writers. Intermediate groups in name are created. */
PETSC_EXTERN PetscErrorCode StgssaH5WriteDoubles(hid_t loc, const char name[], int rank, const hsize_t dims[], const double data[]);
PETSC_EXTERN PetscErrorCode StgssaH5WriteInt64s(hid_t loc, const char name[], int rank, const hsize_t dims[], const int64_t data[]);
/* The same in chunks of min(dims[i], chunk_max[i]) (chunk_max[i] = 0: the whole extent),
   shuffled and deflate-compressed (level 1) when HDF5 has the filter with encoding, else
   chunked uncompressed without an error; an empty dataset is contiguous. For the large
   /history and /checkpoint arrays (issue 17). */
PETSC_EXTERN PetscErrorCode StgssaH5WriteDoublesChunked(hid_t loc, const char name[], int rank, const hsize_t dims[], const hsize_t chunk_max[], const double data[]);
PETSC_EXTERN PetscErrorCode StgssaH5WriteAttrString(hid_t loc, const char name[], const char value[]);
PETSC_EXTERN PetscErrorCode StgssaH5WriteAttrInt64(hid_t loc, const char name[], int64_t value);
/* A 1-D attribute of n variable-length UTF-8 strings (e.g. parameter names). */
PETSC_EXTERN PetscErrorCode StgssaH5WriteAttrStrings(hid_t loc, const char name[], PetscInt n, const char *const strs[]);
PETSC_EXTERN PetscErrorCode StgssaH5WriteAttrDouble(hid_t loc, const char name[], double value);
PETSC_EXTERN PetscErrorCode StgssaH5WriteAttrDoubles(hid_t loc, const char name[], hsize_t n, const double value[]);
/* A string of any length as a scalar dataset (fixed-length UTF-8 string of strlen + 1 bytes):
   for text that may pass the 64 kB limit of an attribute (model text, options, tables). */
PETSC_EXTERN PetscErrorCode StgssaH5WriteText(hid_t loc, const char name[], const char value[]);
/* Rank 0, reading: the string dataset obj/name (under loc), or else the string attribute name of
   obj (outputs of earlier versions), into *text (free it); *text = NULL when neither exists.
   path is the file name for messages. */
PETSC_EXTERN PetscErrorCode StgssaH5ReadText(hid_t loc, const char obj[], const char name[], char **text, const char path[]);
/* Error handler for a run's work (push it around it): PETSC_ERR_FILE_WRITE and
   PETSC_ERR_FILE_OPEN (a file that cannot be written, e.g. StgssaOutputWrite's failures) set
   *(PetscBool *)ctx and print nothing, for the caller to print PetscErrorMessage's text in one
   line; any other error gets PETSc's traceback. */
PETSC_EXTERN PetscErrorCode StgssaOutputErrorHandler(MPI_Comm, int, const char *, const char *, PetscErrorCode, PetscErrorType, const char *, void *);
/* Write the /run group common to all modes: attributes version, ranks; string datasets
   command_line, options, model_text. */
PETSC_EXTERN PetscErrorCode StgssaH5WriteRunInfo(hid_t file, MPI_Comm comm, const char model_text[]);

#endif
