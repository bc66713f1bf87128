/* SPDX-License-Identifier: BSD-2-Clause */
#include <stgssa/histogram.h>

PetscErrorCode StgssaCountHistCreate(PetscInt nsets, StgssaCountHist *h)
{
  PetscFunctionBegin;
  PetscCheck(nsets >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Negative number of histograms %" PetscInt_FMT, nsets);
  h->nsets = nsets;
  PetscCall(PetscCalloc3(nsets, &h->len, nsets, &h->max, nsets, &h->counts));
  for (PetscInt i = 0; i < nsets; i++) h->max[i] = -1;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaCountHistDestroy(StgssaCountHist *h)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < h->nsets; i++) PetscCall(PetscFree(h->counts[i]));
  PetscCall(PetscFree3(h->len, h->max, h->counts));
  h->nsets = 0;
  PetscFunctionReturn(0);
}

/* Resize set to exactly `len` bins, keeping the counts it has (new bins are zero). */
static PetscErrorCode StgssaCountHistResize(StgssaCountHist *h, PetscInt set, int64_t len)
{
  int64_t *c;

  PetscFunctionBegin;
  PetscCheck(len <= (int64_t)(PETSC_MAX_INT / 2), PETSC_COMM_SELF, PETSC_ERR_SUP, "Copy number %" PRId64 " too large for a dense histogram", len - 1);
  PetscCall(PetscCalloc1((size_t)len, &c));
  if (h->len[set]) PetscCall(PetscArraycpy(c, h->counts[set], (size_t)h->len[set]));
  PetscCall(PetscFree(h->counts[set]));
  h->counts[set] = c;
  h->len[set]    = len;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaCountHistGrow_Private(StgssaCountHist *h, PetscInt set, int64_t v)
{
  int64_t len = h->len[set] ? h->len[set] : 16;

  PetscFunctionBegin;
  PetscCheck(v >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Negative copy number %" PRId64, v);
  while (len <= v) len *= 2;
  PetscCall(StgssaCountHistResize(h, set, len));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaCountHistAllreduce(StgssaCountHist *h, MPI_Comm comm)
{
  int64_t *gmax, *buf, total = 0, off = 0;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(h->nsets, &gmax));
  PetscCallMPI(MPI_Allreduce(h->max, gmax, (int)h->nsets, MPI_INT64_T, MPI_MAX, comm));
  for (PetscInt i = 0; i < h->nsets; i++) {
    /* every rank resizes to the same length, so the packed buffers line up */
    PetscCall(StgssaCountHistResize(h, i, gmax[i] + 1 > h->len[i] ? gmax[i] + 1 : h->len[i]));
    h->max[i] = gmax[i];
    total += gmax[i] + 1;
  }
  PetscCall(PetscMalloc1((size_t)(total > 0 ? total : 1), &buf));
  for (PetscInt i = 0; i < h->nsets; i++) {
    PetscCall(PetscArraycpy(buf + off, h->counts[i], (size_t)(gmax[i] + 1)));
    off += gmax[i] + 1;
  }
  PetscCheck(total <= PETSC_MPI_INT_MAX, comm, PETSC_ERR_SUP, "Histograms too large to reduce in one call (%" PRId64 " bins)", total);
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, buf, (int)total, MPI_INT64_T, MPI_SUM, comm));
  off = 0;
  for (PetscInt i = 0; i < h->nsets; i++) {
    PetscCall(PetscArraycpy(h->counts[i], buf + off, (size_t)(gmax[i] + 1)));
    off += gmax[i] + 1;
  }
  PetscCall(PetscFree(buf));
  PetscCall(PetscFree(gmax));
  PetscFunctionReturn(0);
}

/* Two-pass moments over the exact histogram: mean = sum_x x h_x / n, then
   m_k = sum_x (x - mean)^k h_x / n for k = 2, 3 (no cancellation from raw power sums).
   long double accumulation in a fixed order: the result depends only on the histogram. */
PetscErrorCode StgssaCountHistMoments(const StgssaCountHist *h, PetscInt set, int64_t *n, double moments[3])
{
  long double s1 = 0, s2 = 0, s3 = 0, mean;
  int64_t     cnt = 0;

  PetscFunctionBegin;
  for (int64_t x = 0; x <= h->max[set]; x++) {
    cnt += h->counts[set][x];
    s1 += (long double)x * (long double)h->counts[set][x];
  }
  *n = cnt;
  if (!cnt) {
    moments[0] = moments[1] = moments[2] = NAN;
    PetscFunctionReturn(0);
  }
  mean = s1 / (long double)cnt;
  for (int64_t x = 0; x <= h->max[set]; x++) {
    const long double d = (long double)x - mean, c = (long double)h->counts[set][x];
    s2 += d * d * c;
    s3 += d * d * d * c;
  }
  moments[0] = (double)mean;
  moments[1] = (double)(s2 / (long double)cnt);
  moments[2] = (double)(s3 / (long double)cnt);
  PetscFunctionReturn(0);
}
