/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaData: observed count distributions that a loss compares the simulation with
  (-stgssa_data FILE, DESIGN.md section 5). Two formats, recognised by content:

  - HDF5 written by `stgssa_hpc -stgssa_mode simulate` (first 8 bytes "\x89HDF\r\n\x1a\n"):
    /simulate/times [T], /simulate/histograms/<species> [T x B] (probabilities of counts
    0..B-1, attribute tail_mass [T] which must be 0) and /simulate/moments/<species> [T x 3];
    counts = probability * /run ntraj. Species come in name order; moments are taken from the
    file (exact), not recomputed.
  - CSV of per-cell counts: a header of column names, then one line per cell. Rows are grouped
    by distinct time value (ascending); without a time column there is one group whose time is
    -1 ("stationary / the last sample time"). Moments are computed from the integer histograms
    (two-pass, long double, deterministic). Header fields may be "quoted". Column roles:
      1. StgssaDataSetColumnMap (-stgssa_data_columns FILECOL=NAME,...): NAME is the data
         column's name (a species or group of the model), `time`, or empty (column dropped);
      2. StgssaDataSetWhere (-stgssa_data_where COL=VALUE,...): a row is kept only if the text
         of every field COL equals VALUE; these columns are filters, not data (a filter on the
         time column keeps it the time column);
      3. a column named like a known name (StgssaDataSetKnownNames) is that data column;
      4. a column named `time` or `t`, ignoring case, is the time column (at most one);
      5. any other column: an error naming it (with known names), else data under its name.

  Load is collective: rank 0 reads and parses, the result is broadcast, and every rank holds
  the same data or raises the same error ("FILE:LINE: found ...; expected ..." for CSV,
  "FILE: dataset /simulate/...: ..." for HDF5). Histograms are indexed by time index and
  species name; counts[b] is the number of cells (trajectories) with count b, b = 0..nbins-1,
  where nbins = largest count observed at that time + 1.
*/
#ifndef STGSSA_DATA_H
#define STGSSA_DATA_H

#include <petscsys.h>
#include <petscviewer.h>

typedef struct _p_StgssaData *StgssaData;

PETSC_EXTERN PetscErrorCode StgssaDataCreate(MPI_Comm, StgssaData *);
/* Before Load, the same on every rank (CSV only; an HDF5 file with a map or filter is an error). */
PETSC_EXTERN PetscErrorCode StgssaDataSetColumnMap(StgssaData, PetscInt n, const char *const filecols[], const char *const names[]);
PETSC_EXTERN PetscErrorCode StgssaDataSetWhere(StgssaData, PetscInt n, const char *const cols[], const char *const values[]);
/* Names a data column may have (the model's species and groups); `what` names them in messages. */
PETSC_EXTERN PetscErrorCode StgssaDataSetKnownNames(StgssaData, PetscInt n, const char *const names[], const char what[]);
/* -stgssa_data_columns, -stgssa_data_where */
PETSC_EXTERN PetscErrorCode StgssaDataSetFromOptions(StgssaData);
/* Collective: read path (HDF5 or CSV, by content), replacing any data loaded before. */
PETSC_EXTERN PetscErrorCode StgssaDataLoad(StgssaData, const char path[]);
/* Distinct times in ascending order; a CSV without a time column gives ntimes = 1, times[0] = -1. */
PETSC_EXTERN PetscErrorCode StgssaDataGetTimes(StgssaData, PetscInt *ntimes, const PetscReal **times);
/* Number of species and the name of species s (0 <= s < nspecies; order of the file). */
PETSC_EXTERN PetscErrorCode StgssaDataGetNumSpecies(StgssaData, PetscInt *nspecies);
PETSC_EXTERN PetscErrorCode StgssaDataGetSpeciesName(StgssaData, PetscInt s, const char **name);
PETSC_EXTERN PetscErrorCode StgssaDataHasSpecies(StgssaData, const char name[], PetscBool *);
/* counts[b] = number of cells/trajectories with count b, b = 0..nbins-1 (nbins = max count + 1); total = sum. */
PETSC_EXTERN PetscErrorCode StgssaDataGetHistogram(StgssaData, PetscInt itime, const char species[], PetscInt *nbins, const PetscReal **counts, PetscReal *total);
/* Mean, variance and third central moment (population moments, dividing by the total). */
PETSC_EXTERN PetscErrorCode StgssaDataGetMoments(StgssaData, PetscInt itime, const char species[], PetscReal moments[3]);
/* File, format, times, species and the number of cells/trajectories per time (ASCII viewers). */
PETSC_EXTERN PetscErrorCode StgssaDataView(StgssaData, PetscViewer);
/* Cells (CSV rows kept) or trajectories (HDF5 ntraj, per time) */
PETSC_EXTERN PetscErrorCode StgssaDataGetNumObservations(StgssaData, PetscInt64 *);
/* One line: "cells.csv: 16 times 0..55 (385-1930 cells per time, 17523 cells), columns time->time, rna->M[; rows where ...]" */
PETSC_EXTERN PetscErrorCode StgssaDataGetSummary(StgssaData, char buf[], size_t len);
PETSC_EXTERN PetscErrorCode StgssaDataDestroy(StgssaData *);

#endif
