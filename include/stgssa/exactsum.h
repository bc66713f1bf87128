/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Exact, order-independent sums of doubles in fixed point.

  An accumulator holds the integer vector limb[0..L-1], L = STGSSA_EXACTSUM_LIMBS = 17, and
  represents exactly

      S = sum_i limb[i] * 2^(32 (i - K)),   K = STGSSA_EXACTSUM_OFFSET = 8,

  i.e. limb 0 has weight 2^-256 and limb 16 weight 2^256. A double x is added as its 53-bit
  significand split into the (at most 3) 32-bit digits it covers, added for x > 0 and subtracted
  for x < 0. Integer addition is associative, so S does not depend on the order of additions,
  on how values are split over accumulators, or on how accumulators are merged or summed over
  MPI ranks: the result is bitwise reproducible.

  Range and the only rounding:
   - bits of |x| below 2^-256 are dropped (|x| is truncated toward zero to a multiple of 2^-256,
     per value, before it enters the sum; a deterministic function of x alone). This is the
     only rounding before StgssaExactSumValue();
   - |x| >= 2^255 sets STGSSA_EXACTSUM_OVERFLOW, NaN and +-Inf set STGSSA_EXACTSUM_NONFINITE;
     the flags are sticky and make StgssaExactSumValue()/StgssaExactSumAllreduce() fail;
   - the total (and every partial sum when it is normalized) must satisfy -2^287 <= S < 2^287,
     i.e. top limb in [-2^31, 2^31), else STGSSA_EXACTSUM_OVERFLOW. Reaching that takes > 2^32
     additions of values near 2^255.

  Carry headroom: after normalization limb[0..15] are digits in [0, 2^32); one addition
  changes a limb by less than 2^32, so after m additions |limb| < (m + 1) 2^32, which fits in
  int64_t for m < 2^31 - 1. The accumulator normalizes itself every STGSSA_EXACTSUM_MAXADD = 2^30
  additions (a factor 2 of margin). Normalization propagates carries and leaves S unchanged;
  the normalized form of a given S is unique.
*/
#ifndef STGSSA_EXACTSUM_H
#define STGSSA_EXACTSUM_H

#include <petscsys.h>
#include <stdint.h>
#include <string.h>

#define STGSSA_EXACTSUM_LIMBS  17                  /* limbs of 32-bit digits (+ signed top)   */
#define STGSSA_EXACTSUM_OFFSET 8                   /* limb i has weight 2^(32 (i - 8))        */
#define STGSSA_EXACTSUM_MAXADD (INT32_C(1) << 30) /* additions between normalizations        */

#define STGSSA_EXACTSUM_OVERFLOW  1 /* |x| >= 2^255 added, or total outside [-2^287, 2^287) */
#define STGSSA_EXACTSUM_NONFINITE 2 /* NaN or Inf added */

typedef struct {
  int64_t limb[STGSSA_EXACTSUM_LIMBS]; /* S = sum_i limb[i] 2^(32 (i - OFFSET)) */
  int32_t nadd;                        /* additions since the last normalization */
  int32_t flags;                       /* STGSSA_EXACTSUM_OVERFLOW | STGSSA_EXACTSUM_NONFINITE */
} StgssaExactSum;

static inline void StgssaExactSumZero(StgssaExactSum *s)
{
  memset(s, 0, sizeof(*s));
}

/* Carry propagation: limb[i] = d_i + 2^32 c_i with d_i in [0, 2^32) and c_i = floor(limb[i] / 2^32);
   d_i stays, c_i moves up. S is unchanged; the top limb keeps the sign and must stay in
   [-2^31, 2^31) so that sums over up to 2^31 ranks fit in int64_t. */
static inline void StgssaExactSumNormalize(StgssaExactSum *s)
{
  for (int i = 0; i < STGSSA_EXACTSUM_LIMBS - 1; i++) {
    const int64_t d = s->limb[i] & INT64_C(0xffffffff); /* two's complement: the low 32 bits, >= 0 */
    s->limb[i + 1] += (s->limb[i] - d) / (INT64_C(1) << 32); /* exact division */
    s->limb[i] = d;
  }
  {
    const int64_t top = s->limb[STGSSA_EXACTSUM_LIMBS - 1];
    if (top >= (INT64_C(1) << 31) || top < -(INT64_C(1) << 31)) s->flags |= STGSSA_EXACTSUM_OVERFLOW;
  }
  s->nadd = 0;
}

/* S += x exactly (up to truncation below 2^-256). x = m 2^(e - 1075) with the 53-bit integer
   significand m and biased exponent e; in units of 2^-256 the lowest bit of m sits at
   b = e - 1075 + 256 = e - 819, so x covers limbs b/32 .. b/32 + 2. */
static inline void StgssaExactSumAdd(StgssaExactSum *s, double x)
{
  uint64_t bits, m, hi;
  int64_t  neg;
  int      e, b, k, r;

  memcpy(&bits, &x, sizeof(bits));
  e = (int)((bits >> 52) & 0x7ff);
  if (PetscUnlikely(e >= 1023 + 255)) { /* |x| >= 2^255, Inf or NaN */
    s->flags |= (e == 0x7ff) ? STGSSA_EXACTSUM_NONFINITE : STGSSA_EXACTSUM_OVERFLOW;
    return;
  }
  b = e - 819;
  if (PetscUnlikely(b <= -53)) return; /* |x| < 2^-256 (zeros, subnormals too): truncates to 0 */
  m = (bits & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1) << 52);
  if (PetscUnlikely(b < 0)) { /* drop the bits below 2^-256: |x| rounded toward zero */
    m >>= -b;
    b = 0;
  }
  k   = b >> 5;
  r   = b & 31;
  hi  = m >> (32 - r);          /* bits 32.. of m 2^r (at most 53 bits) */
  neg = -(int64_t)(bits >> 63); /* 0 or -1: d -> (d ^ neg) - neg is d or -d, no branch */
  s->limb[k] += ((int64_t)((m << r) & 0xffffffff) ^ neg) - neg;
  s->limb[k + 1] += ((int64_t)(hi & 0xffffffff) ^ neg) - neg;
  s->limb[k + 2] += ((int64_t)(hi >> 32) ^ neg) - neg;
  if (PetscUnlikely(++s->nadd >= STGSSA_EXACTSUM_MAXADD)) StgssaExactSumNormalize(s);
}

/* into += from, exactly; flags are or-ed. */
PETSC_EXTERN PetscErrorCode StgssaExactSumMerge(StgssaExactSum *into, const StgssaExactSum *from);
/* Collective: sum n accumulators (same n on every rank) over comm in one MPI_Allreduce(MPI_SUM) of
   int64 (limbs, then per flag the number of ranks that set it); afterwards every rank holds the
   same normalized totals. Fails on every rank (PETSC_ERR_FP for NaN/Inf, PETSC_ERR_ARG_OUTOFRANGE
   for overflow) if any rank had a flag set. */
PETSC_EXTERN PetscErrorCode StgssaExactSumAllreduce(StgssaExactSum *sums, PetscInt n, MPI_Comm comm);
/* The double nearest to S (round to nearest, ties to even); S = 0 gives +0.0. Fails if a flag is set. */
PETSC_EXTERN PetscErrorCode StgssaExactSumValue(const StgssaExactSum *s, double *value);

#endif
