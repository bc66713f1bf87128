/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Exact integer histograms of copy numbers, one per (sample time, observed species).
  Counts are integers, so their MPI sum is associative: the reduced histogram, and every
  statistic computed from it, is bitwise independent of how trajectories were split over
  ranks (DESIGN.md section 3). Memory grows with the range of counts, never with the
  number or length of trajectories.
*/
#ifndef STGSSA_HISTOGRAM_H
#define STGSSA_HISTOGRAM_H

#include <petscsys.h>

typedef struct {
  PetscInt  nsets;  /* number of histograms */
  int64_t  *len;    /* [nsets] bins allocated (values 0..len-1) */
  int64_t  *max;    /* [nsets] largest value added, -1 if none */
  int64_t **counts; /* [nsets][len] */
} StgssaCountHist;

PETSC_EXTERN PetscErrorCode StgssaCountHistCreate(PetscInt nsets, StgssaCountHist *);
PETSC_EXTERN PetscErrorCode StgssaCountHistDestroy(StgssaCountHist *);
/* Grow histogram `set` so that value v fits (v >= 0). */
PETSC_EXTERN PetscErrorCode StgssaCountHistGrow_Private(StgssaCountHist *, PetscInt set, int64_t v);
/* Sum histograms over comm (collective); afterwards every rank holds the global histograms. */
PETSC_EXTERN PetscErrorCode StgssaCountHistAllreduce(StgssaCountHist *, MPI_Comm);
/* Total count, mean, variance and third central moment of histogram `set` (population moments). */
PETSC_EXTERN PetscErrorCode StgssaCountHistMoments(const StgssaCountHist *, PetscInt set, int64_t *n, double moments[3]);

static inline PetscErrorCode StgssaCountHistAdd(StgssaCountHist *h, PetscInt set, int64_t v)
{
  PetscFunctionBegin;
  if (PetscUnlikely(v >= h->len[set])) PetscCall(StgssaCountHistGrow_Private(h, set, v));
  h->counts[set][v]++;
  if (v > h->max[set]) h->max[set] = v;
  PetscFunctionReturn(0);
}

#endif
