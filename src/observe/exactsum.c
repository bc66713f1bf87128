/* SPDX-License-Identifier: BSD-2-Clause */
#include <stgssa/exactsum.h>

/* Error for a flagged accumulator (number `i` of a set, or -1 for a single one): NaN/Inf is
   PETSC_ERR_FP, overflow PETSC_ERR_ARG_OUTOFRANGE. */
static PetscErrorCode StgssaExactSumCheckFlags(const StgssaExactSum *s, PetscInt i, MPI_Comm comm)
{
  const char *ov = (s->flags & STGSSA_EXACTSUM_OVERFLOW) ? " (it also overflowed)" : "";
  char        what[64] = "Exact sum";

  PetscFunctionBegin;
  if (i >= 0) PetscCall(PetscSNPrintf(what, sizeof(what), "Exact sum %" PetscInt_FMT, i));
  PetscCheck(!(s->flags & STGSSA_EXACTSUM_NONFINITE), comm, PETSC_ERR_FP, "%s: NaN or Inf was added%s", what, ov);
  PetscCheck(!(s->flags & STGSSA_EXACTSUM_OVERFLOW), comm, PETSC_ERR_ARG_OUTOFRANGE, "%s overflowed: a value with |x| >= 2^255 was added, or the total left [-2^287, 2^287)", what);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaExactSumMerge(StgssaExactSum *into, const StgssaExactSum *from)
{
  StgssaExactSum f = *from;

  PetscFunctionBegin;
  /* both normalized: digits in [0, 2^32), top in [-2^31, 2^31) unless flagged: the sums cannot overflow */
  StgssaExactSumNormalize(&f);
  StgssaExactSumNormalize(into);
  if ((f.flags | into->flags) & STGSSA_EXACTSUM_OVERFLOW) f.limb[STGSSA_EXACTSUM_LIMBS - 1] = 0; /* value is void anyway */
  for (int i = 0; i < STGSSA_EXACTSUM_LIMBS; i++) into->limb[i] += f.limb[i];
  into->flags |= f.flags;
  StgssaExactSumNormalize(into);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaExactSumAllreduce(StgssaExactSum *sums, PetscInt n, MPI_Comm comm)
{
  const int64_t w = STGSSA_EXACTSUM_LIMBS + 2; /* limbs, then 0/1 overflow and 0/1 non-finite: counts of ranks */
  int64_t      *buf;

  PetscFunctionBegin;
  PetscCheck(n >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "Negative number of exact sums %" PetscInt_FMT, n);
  PetscCheck((int64_t)n <= (int64_t)PETSC_MPI_INT_MAX / w, comm, PETSC_ERR_SUP, "Too many exact sums (%" PetscInt_FMT ") to reduce in one MPI call", n);
  PetscCall(PetscMalloc1((size_t)(n * w > 0 ? n * w : 1), &buf));
  for (PetscInt j = 0; j < n; j++) {
    int64_t *b = buf + j * w;
    /* normalized: digits in [0, 2^32), top in [-2^31, 2^31): the sum over <= 2^31 ranks fits in int64 */
    StgssaExactSumNormalize(&sums[j]);
    if (sums[j].flags & STGSSA_EXACTSUM_OVERFLOW) sums[j].limb[STGSSA_EXACTSUM_LIMBS - 1] = 0;
    for (int i = 0; i < STGSSA_EXACTSUM_LIMBS; i++) b[i] = sums[j].limb[i];
    b[STGSSA_EXACTSUM_LIMBS]     = (sums[j].flags & STGSSA_EXACTSUM_OVERFLOW) ? 1 : 0;
    b[STGSSA_EXACTSUM_LIMBS + 1] = (sums[j].flags & STGSSA_EXACTSUM_NONFINITE) ? 1 : 0;
  }
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, buf, (int)(n * w), MPI_INT64_T, MPI_SUM, comm));
  for (PetscInt j = 0; j < n; j++) {
    const int64_t *b = buf + j * w;
    for (int i = 0; i < STGSSA_EXACTSUM_LIMBS; i++) sums[j].limb[i] = b[i];
    sums[j].flags = (b[STGSSA_EXACTSUM_LIMBS] ? STGSSA_EXACTSUM_OVERFLOW : 0) | (b[STGSSA_EXACTSUM_LIMBS + 1] ? STGSSA_EXACTSUM_NONFINITE : 0);
    StgssaExactSumNormalize(&sums[j]);
  }
  PetscCall(PetscFree(buf));
  /* every rank holds the same reduced flags, so all fail together */
  for (PetscInt j = 0; j < n; j++) PetscCall(StgssaExactSumCheckFlags(&sums[j], j, comm));
  PetscFunctionReturn(0);
}

/* Bits lo .. lo+63 of the magnitude d (n 32-bit digits) as an integer; positions outside [0, 32 n) read 0. */
static uint64_t StgssaExactSumWindow(const uint32_t *d, int n, int lo)
{
  uint64_t w = 0;

  for (int j = 0; j < 64; j++) {
    const int p = lo + j;
    if (p >= 0 && p < 32 * n && ((d[p >> 5] >> (p & 31)) & 1u)) w |= UINT64_C(1) << j;
  }
  return w;
}

/* Whether any bit of d below position lo is set. */
static PetscBool StgssaExactSumAnyBelow(const uint32_t *d, int lo)
{
  if (lo <= 0) return PETSC_FALSE;
  for (int i = 0; i < (lo >> 5); i++)
    if (d[i]) return PETSC_TRUE;
  return (lo & 31) && (d[lo >> 5] & ((UINT32_C(1) << (lo & 31)) - 1)) ? PETSC_TRUE : PETSC_FALSE;
}

/* |S| = M 2^-256 with the integer M (digits d). With p the top bit of M, the 53 bits p-52..p form
   the significand q; the bit p-53 is the rounding bit and the bits below are sticky:
   q += round && (sticky || q odd) is round to nearest, ties to even. Since 2^-256 <= |S| <= 2^287,
   the result is a normal double: S = sign q 2^(p - 52 - 256) with no over- or underflow. */
PetscErrorCode StgssaExactSumValue(const StgssaExactSum *s, double *value)
{
  StgssaExactSum t = *s;
  uint32_t       d[STGSSA_EXACTSUM_LIMBS];
  PetscBool      neg;
  int            top = -1, p, lo;
  uint64_t       w, q;

  PetscFunctionBegin;
  StgssaExactSumNormalize(&t);
  PetscCall(StgssaExactSumCheckFlags(&t, -1, PETSC_COMM_SELF));
  neg = t.limb[STGSSA_EXACTSUM_LIMBS - 1] < 0 ? PETSC_TRUE : PETSC_FALSE;
  if (neg) { /* -S: negate every limb and normalize again, then the top limb is >= 0 */
    for (int i = 0; i < STGSSA_EXACTSUM_LIMBS; i++) t.limb[i] = -t.limb[i];
    StgssaExactSumNormalize(&t);
  }
  for (int i = 0; i < STGSSA_EXACTSUM_LIMBS; i++) {
    d[i] = (uint32_t)t.limb[i]; /* digits in [0, 2^32), top in [0, 2^31] */
    if (d[i]) top = i;
  }
  if (top < 0) {
    *value = 0.0;
    PetscFunctionReturn(0);
  }
  p = 32 * top + 31;
  while (!((d[top] >> (p & 31)) & 1u)) p--;
  lo = p - 63;
  w  = StgssaExactSumWindow(d, STGSSA_EXACTSUM_LIMBS, lo);
  q  = w >> 11;
  if (((w >> 10) & 1u) && ((w & 0x3ff) || StgssaExactSumAnyBelow(d, lo) || (q & 1u))) q++; /* q <= 2^53: exact in a double */
  *value = ldexp(neg ? -(double)q : (double)q, lo + 11 - 32 * STGSSA_EXACTSUM_OFFSET);
  PetscFunctionReturn(0);
}
