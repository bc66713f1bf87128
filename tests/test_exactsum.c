/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Exact sums (stgssa/exactsum.h): exactness, correct rounding, order and split independence,
  normalization, range limits, flags, and the MPI reduction (run on 1, 2, 3 ranks by
  test_exactsum_mpi.sh).

  References are independent of the accumulator: sums of integers scaled by one power of two are
  exact in __int128 and the result is checked to be the nearest double (ties to even) by comparing
  it with its two neighbours; wide-range sums are compared with a __float128 sum within
  0.5 ulp(result) + N 2^-112 sum|x| (the rounding of the result plus the worst case error of
  N - 1 binary128 additions).
*/
#include <check.h>
#include <float.h>
#include <math.h>
#include <stgssa/exactsum.h>

/* xorshift64* stream for test data */
static uint64_t rng_state;
static uint64_t rng_next(void)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * UINT64_C(2685821657736338717);
}
static double   rng_unit(void) { return (double)(rng_next() >> 11) * 0x1p-53; }
static unsigned rng_below(unsigned n) { return (unsigned)(rng_next() % n); }

static double value_of(const StgssaExactSum *s)
{
  double v = -1.0;
  ck_assert(!StgssaExactSumValue(s, &v));
  return v;
}

static double sum_of(const double *x, size_t n)
{
  StgssaExactSum s;
  StgssaExactSumZero(&s);
  for (size_t i = 0; i < n; i++) StgssaExactSumAdd(&s, x[i]);
  return value_of(&s);
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof(a)) == 0; }

static __int128 abs128(__int128 a) { return a < 0 ? -a : a; }

/* Whether v is the double nearest to S 2^scale, ties to even (|S| < 2^120). */
static int rounds_to(__int128 S, int scale, double v)
{
  const double u = ldexp(v, -scale); /* exact: a power-of-two scaling of a normal double */
  if (S == 0) return same_bits(v, 0.0);
  if (abs128(S) < ((__int128)1 << 53)) return u == (double)(int64_t)S;
  if (u != floor(u) || fabs(u) >= 0x1p126) return 0;
  {
    const __int128 U = (__int128)u, up = (__int128)nextafter(u, INFINITY), dn = (__int128)nextafter(u, -INFINITY);
    const __int128 d = abs128(S - U), dup = abs128(S - up), ddn = abs128(S - dn);
    int            e;
    if (d > dup || d > ddn) return 0;
    if (d == dup || d == ddn) return ((int64_t)ldexp(frexp(u, &e), 53) & 1) == 0; /* tie: even significand */
    return 1;
  }
}

START_TEST(test_cancellation)
{
  const double a[3] = {1e20, 1.0, -1e20}, b[3] = {-1e20, 1e20, 1.0}, c[4] = {1e70, 1.0, -1e70, 0.5};
  ck_assert(same_bits(sum_of(a, 3), 1.0));
  ck_assert(same_bits(sum_of(b, 3), 1.0));
  ck_assert(same_bits(sum_of(c, 4), 1.5));
}
END_TEST

/* 0.1 = M 2^-56 exactly with M = 0x1999999999999a; ten of them sum to 10 M 2^-56 < 2^1, and the
   hardware conversion uint64 -> double rounds 10 M to nearest-even. */
START_TEST(test_tenth)
{
  const uint64_t M = UINT64_C(0x1999999999999a);
  StgssaExactSum s;
  double         naive = 0, ten[10];
  ck_assert(ldexp((double)M, -56) == 0.1);
  for (int i = 0; i < 10; i++) naive += ten[i] = 0.1;
  ck_assert(same_bits(sum_of(ten, 10), ldexp((double)(10 * M), -56)));
  ck_assert(naive != ldexp((double)(10 * M), -56)); /* the point: recursive summation is off by one ulp */
  /* 10^7 of them: exact value 10^7 M 2^-56 */
  StgssaExactSumZero(&s);
  for (int i = 0; i < 10000000; i++) StgssaExactSumAdd(&s, 0.1);
  ck_assert(rounds_to((__int128)10000000 * M, -56, value_of(&s)));
}
END_TEST

/* Round to nearest, ties to even, with the sticky bits far below. */
START_TEST(test_ties)
{
  const double t53 = 0x1p53;
  const double c1[2] = {t53, 1.0}, c2[2] = {t53 + 2, 1.0}, c3[3] = {t53, 1.0, 0x1p-200};
  const double c4[2] = {1.0, 0x1p-53}, c5[3] = {1.0, 0x1p-53, 0x1p-256}, c6[2] = {1.0, -0x1p-256};
  const double c7[2] = {-1.0, 0x1p-256}, c8[3] = {-t53, -1.0, -0x1p-200}, c9[2] = {0x1p254, -0x1p-256};
  ck_assert(same_bits(sum_of(c1, 2), t53));
  ck_assert(same_bits(sum_of(c2, 2), t53 + 4));
  ck_assert(same_bits(sum_of(c3, 3), t53 + 2));
  ck_assert(same_bits(sum_of(c4, 2), 1.0));
  ck_assert(same_bits(sum_of(c5, 3), 1.0 + 0x1p-52));
  ck_assert(same_bits(sum_of(c6, 2), 1.0));
  ck_assert(same_bits(sum_of(c7, 2), -1.0));
  ck_assert(same_bits(sum_of(c8, 3), -t53 - 2));
  ck_assert(same_bits(sum_of(c9, 2), 0x1p254));
}
END_TEST

/* Sums of k_i 2^(e_i + off), |k_i| < 2^53, e_i in [0, 60], against the exact __int128 sum;
   off moves the whole sum over the range 2^-256 .. 2^263. */
START_TEST(test_random_exact)
{
  rng_state = 12345;
  for (int trial = 0; trial < 400; trial++) {
    const int      n = 1 + (int)rng_below(300), off = -256 + (int)rng_below(398);
    StgssaExactSum s, r;
    __int128       S = 0;
    double         x[300];
    StgssaExactSumZero(&s);
    StgssaExactSumZero(&r);
    for (int i = 0; i < n; i++) {
      const int     e = (int)rng_below(61);
      const int64_t k = (int64_t)(rng_next() >> (11 + rng_below(53))) * (rng_next() & 1 ? 1 : -1);
      x[i]            = ldexp((double)k, e + off);
      S += (__int128)k * ((__int128)1 << e);
      StgssaExactSumAdd(&s, x[i]);
    }
    for (int i = n - 1; i >= 0; i--) StgssaExactSumAdd(&r, x[i]);
    ck_assert_msg(rounds_to(S, off, value_of(&s)), "trial %d: n %d off %d: %a", trial, n, off, value_of(&s));
    ck_assert(same_bits(value_of(&s), value_of(&r)));
  }
}
END_TEST

/* Wide range 1e-60 .. 1e60, mixed signs: 5 orders and 20 random splits into 1..7 partial sums
   merged in random order give bitwise identical results (and identical normalized limbs). */
START_TEST(test_orders_splits)
{
  enum { N = 20000 };
  static double  x[N];
  static int     perm[N];
  StgssaExactSum ref, part[7];
  __float128     q = 0, qabs = 0;
  double         v0, v;

  rng_state = 777;
  for (int i = 0; i < N; i++) {
    x[i] = (rng_next() & 1 ? 1 : -1) * (0.5 + rng_unit()) * pow(10.0, -60 + 120 * rng_unit());
    if (i % 10 == 9) x[i] = -x[i - 9]; /* some exact cancellation */
    q += x[i];
    qabs += fabs(x[i]);
    perm[i] = i;
  }
  StgssaExactSumZero(&ref);
  for (int i = 0; i < N; i++) StgssaExactSumAdd(&ref, x[i]);
  StgssaExactSumNormalize(&ref);
  v0 = value_of(&ref);
  {
    const __float128 ulp = (__float128)nextafter(fabs(v0), INFINITY) - (__float128)fabs(v0);
    const __float128 tol = ulp / 2 + (__float128)N * qabs * (__float128)0x1p-112;
    const __float128 err = (__float128)v0 - q;
    ck_assert_msg(err <= tol && -err <= tol, "sum %a differs from the binary128 reference by %g ulp", v0, (double)(err / ulp));
  }
  for (int order = 0; order < 5; order++) {
    StgssaExactSum s;
    for (int i = N - 1; i > 0; i--) { /* Fisher-Yates */
      const int j = (int)rng_below((unsigned)i + 1), t = perm[i];
      perm[i]     = perm[j];
      perm[j]     = t;
    }
    StgssaExactSumZero(&s);
    for (int i = 0; i < N; i++) StgssaExactSumAdd(&s, x[perm[i]]);
    v = value_of(&s);
    ck_assert_msg(same_bits(v, v0), "order %d: %a vs %a", order, v, v0);
    StgssaExactSumNormalize(&s);
    ck_assert(!memcmp(s.limb, ref.limb, sizeof(s.limb)));
  }
  for (int split = 0; split < 20; split++) {
    const int      np = 1 + (int)rng_below(7);
    int            mo[7];
    StgssaExactSum total;
    for (int p = 0; p < np; p++) {
      StgssaExactSumZero(&part[p]);
      mo[p] = p;
    }
    for (int i = 0; i < N; i++) StgssaExactSumAdd(&part[rng_below((unsigned)np)], x[perm[i]]);
    for (int p = np - 1; p > 0; p--) {
      const int j = (int)rng_below((unsigned)p + 1), t = mo[p];
      mo[p]       = mo[j];
      mo[j]       = t;
    }
    StgssaExactSumZero(&total);
    for (int p = 0; p < np; p++) ck_assert(!StgssaExactSumMerge(&total, &part[mo[p]]));
    v = value_of(&total);
    ck_assert_msg(same_bits(v, v0), "split %d into %d: %a vs %a", split, np, v, v0);
    ck_assert(!memcmp(total.limb, ref.limb, sizeof(total.limb)));
    ck_assert_int_eq(total.flags, 0);
  }
}
END_TEST

/* The automatic normalization at STGSSA_EXACTSUM_MAXADD additions, from the worst-case state:
   x = (2^53 - 1) 2^-20 has digits 0xfffff000, 0xffffffff, 1, so after MAXADD - 1 additions
   (built directly: the limbs are MAXADD - 1 times those of one addition) the middle limb is
   ~2^62. Two more additions must normalize once and give exactly (MAXADD + 1) x. */
START_TEST(test_normalization)
{
  for (int sign = -1; sign <= 1; sign += 2) {
    const double   x = sign * ldexp(0x1p53 - 1, -20);
    StgssaExactSum s;
    StgssaExactSumZero(&s);
    StgssaExactSumAdd(&s, x);
    ck_assert_int_eq(s.nadd, 1);
    for (int i = 0; i < STGSSA_EXACTSUM_LIMBS; i++) s.limb[i] *= STGSSA_EXACTSUM_MAXADD - 1;
    s.nadd = STGSSA_EXACTSUM_MAXADD - 1;
    ck_assert(s.limb[8] == sign * (int64_t)(STGSSA_EXACTSUM_MAXADD - 1) * INT64_C(0xffffffff));
    StgssaExactSumAdd(&s, x); /* the MAXADD-th addition normalizes */
    ck_assert_int_eq(s.nadd, 0);
    for (int i = 0; i < STGSSA_EXACTSUM_LIMBS - 1; i++) ck_assert(s.limb[i] >= 0 && s.limb[i] < (INT64_C(1) << 32));
    StgssaExactSumAdd(&s, x);
    ck_assert_int_eq(s.nadd, 1);
    ck_assert(rounds_to(sign * ((__int128)STGSSA_EXACTSUM_MAXADD + 1) * (((__int128)1 << 53) - 1), -20, value_of(&s)));
    ck_assert_int_eq(s.flags, 0);
  }
  /* normalization keeps the value, and Value does not depend on whether it happened */
  {
    const double   x[4] = {-3.25, 1e-70, 7e40, -0x1p-256};
    StgssaExactSum s;
    double         a, b;
    StgssaExactSumZero(&s);
    for (int i = 0; i < 4; i++) StgssaExactSumAdd(&s, x[i]);
    a = value_of(&s);
    StgssaExactSumNormalize(&s);
    b = value_of(&s);
    ck_assert(same_bits(a, b) && same_bits(a, 7e40));
  }
}
END_TEST

/* Zero, signs, the smallest and the largest representable values, and truncation below 2^-256. */
START_TEST(test_range)
{
  const double   tiny = 0x1p-256, big = nextafter(0x1p255, 0);
  const double   z1[2] = {3.7, -3.7}, z2[1] = {-0.0}, z3[2] = {0x1p-257, 0x1p-257}, z4[3] = {DBL_MIN, 4.9e-324, -0x1.fffffp-257};
  const double   n1[2] = {-1.5, 0.25}, n2[3] = {1.0, -3.0, 0x1p-256}, b4[4] = {big, big, big, big};
  const double   t1[1] = {1.5 * tiny}, t2[1] = {-1.5 * tiny}, p8[8] = {0x1p254, 0x1p254, 0x1p254, 0x1p254, 0x1p254, 0x1p254, 0x1p254, 0x1p254};
  StgssaExactSum s;
  StgssaExactSumZero(&s);
  ck_assert(same_bits(value_of(&s), 0.0)); /* empty: +0 */
  ck_assert(same_bits(sum_of(z1, 2), 0.0));
  ck_assert(same_bits(sum_of(z2, 1), 0.0)); /* -0 adds nothing: zero totals are +0 */
  ck_assert(same_bits(sum_of(z3, 2), 0.0)); /* each value truncated on its own */
  ck_assert(same_bits(sum_of(z4, 3), 0.0));
  ck_assert(same_bits(sum_of(n1, 2), -1.25));
  ck_assert(same_bits(sum_of(n2, 3), -2.0)); /* -2 + 2^-256 rounds to -2 */
  ck_assert(same_bits(sum_of(&tiny, 1), tiny));
  {
    const double mt = -tiny;
    ck_assert(same_bits(sum_of(&mt, 1), -tiny));
  }
  ck_assert(same_bits(sum_of(t1, 1), tiny));  /* truncated toward zero */
  ck_assert(same_bits(sum_of(t2, 1), -tiny)); /* toward zero for negatives too */
  ck_assert(same_bits(sum_of(&big, 1), big));
  {
    const double mb = -big;
    ck_assert(same_bits(sum_of(&mb, 1), -big));
  }
  ck_assert(same_bits(sum_of(b4, 4), 4 * big));
  ck_assert(same_bits(sum_of(p8, 8), 0x1p257)); /* into the top limb */
  {
    double m8[8];
    for (int i = 0; i < 8; i++) m8[i] = -p8[i];
    ck_assert(same_bits(sum_of(m8, 8), -0x1p257));
  }
  /* the extreme totals: 2^287 - 2^-256 (top limb 2^31 - 1, all digits full) rounds to 2^287;
     -2^287 (top limb -2^31) is the most negative */
  StgssaExactSumZero(&s);
  for (int i = 0; i < STGSSA_EXACTSUM_LIMBS - 1; i++) s.limb[i] = INT64_C(0xffffffff);
  s.limb[STGSSA_EXACTSUM_LIMBS - 1] = (INT64_C(1) << 31) - 1;
  ck_assert(same_bits(value_of(&s), 0x1p287));
  StgssaExactSumZero(&s);
  s.limb[STGSSA_EXACTSUM_LIMBS - 1] = -(INT64_C(1) << 31);
  ck_assert(same_bits(value_of(&s), -0x1p287));
  s.limb[0] = 1; /* -2^287 + 2^-256 */
  ck_assert(same_bits(value_of(&s), -0x1p287));
}
END_TEST

/* Overflow and non-finite values set sticky flags; Value, Merge and Allreduce report them. */
START_TEST(test_flags)
{
  const double   over[4] = {0x1p255, -0x1p255, DBL_MAX, -1e300}, nonfin[3] = {NAN, INFINITY, -INFINITY};
  StgssaExactSum s, t, a[3];
  double         v;
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  for (int i = 0; i < 4; i++) {
    StgssaExactSumZero(&s);
    StgssaExactSumAdd(&s, 1.0);
    StgssaExactSumAdd(&s, over[i]);
    StgssaExactSumAdd(&s, 2.0);
    ck_assert_int_eq(s.flags, STGSSA_EXACTSUM_OVERFLOW);
    ck_assert_int_eq(StgssaExactSumValue(&s, &v), PETSC_ERR_ARG_OUTOFRANGE);
  }
  for (int i = 0; i < 3; i++) {
    StgssaExactSumZero(&s);
    StgssaExactSumAdd(&s, nonfin[i]);
    ck_assert_int_eq(s.flags, STGSSA_EXACTSUM_NONFINITE);
    ck_assert_int_eq(StgssaExactSumValue(&s, &v), PETSC_ERR_FP);
    StgssaExactSumAdd(&s, 0x1p300);
    ck_assert_int_eq(StgssaExactSumValue(&s, &v), PETSC_ERR_FP); /* non-finite is reported first */
  }
  /* totals of 2^287 and -2^287 - 2^-256 overflow the top limb */
  StgssaExactSumZero(&s);
  s.limb[STGSSA_EXACTSUM_LIMBS - 1] = INT64_C(1) << 31;
  ck_assert_int_eq(StgssaExactSumValue(&s, &v), PETSC_ERR_ARG_OUTOFRANGE);
  StgssaExactSumZero(&s);
  s.limb[STGSSA_EXACTSUM_LIMBS - 1] = -(INT64_C(1) << 31);
  s.limb[0]                         = -1;
  ck_assert_int_eq(StgssaExactSumValue(&s, &v), PETSC_ERR_ARG_OUTOFRANGE);
  /* Merge propagates flags, sticky */
  StgssaExactSumZero(&s);
  StgssaExactSumZero(&t);
  StgssaExactSumAdd(&s, 1.0);
  StgssaExactSumAdd(&t, NAN);
  ck_assert(!StgssaExactSumMerge(&s, &t));
  StgssaExactSumZero(&t);
  ck_assert(!StgssaExactSumMerge(&s, &t));
  ck_assert_int_eq(StgssaExactSumValue(&s, &v), PETSC_ERR_FP);
  /* Allreduce on one rank: a flag on any of the n sums fails the call */
  for (int i = 0; i < 3; i++) {
    StgssaExactSumZero(&a[i]);
    StgssaExactSumAdd(&a[i], i + 1.0);
  }
  ck_assert(!StgssaExactSumAllreduce(a, 3, PETSC_COMM_SELF));
  ck_assert(value_of(&a[2]) == 3.0);
  StgssaExactSumAdd(&a[1], -0x1p256);
  ck_assert_int_eq(StgssaExactSumAllreduce(a, 3, PETSC_COMM_SELF), PETSC_ERR_ARG_OUTOFRANGE);
  ck_assert_int_eq(StgssaExactSumAllreduce(a, -1, PETSC_COMM_SELF), PETSC_ERR_ARG_OUTOFRANGE);
  ck_assert_int_eq(StgssaExactSumAllreduce(a, PETSC_MPI_INT_MAX / 4, PETSC_COMM_SELF), PETSC_ERR_SUP); /* checked before touching a[] */
  ck_assert(!StgssaExactSumAllreduce(a, 0, PETSC_COMM_SELF));
  ck_assert(!PetscPopErrorHandler());
}
END_TEST

/* Global list of values; each rank adds a size-dependent, interleaved subset in reverse order into
   3 sums (x, x^2, -x/3) that are reduced in one call: bitwise equal to the serial sums. */
START_TEST(test_allreduce)
{
  enum { N = 10007 };
  static double  x[N];
  StgssaExactSum loc[3], ser[3];
  PetscMPIInt    rank, size;
  double         v;
  ck_assert(!MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  ck_assert(!MPI_Comm_size(PETSC_COMM_WORLD, &size));
  rng_state = 4242;
  for (int i = 0; i < N; i++) x[i] = (rng_next() & 1 ? 1 : -1) * rng_unit() * pow(2.0, -200 + 320 * rng_unit());
  for (int j = 0; j < 3; j++) {
    StgssaExactSumZero(&loc[j]);
    StgssaExactSumZero(&ser[j]);
  }
  for (int i = 0; i < N; i++) {
    StgssaExactSumAdd(&ser[0], x[i]);
    StgssaExactSumAdd(&ser[1], x[i] * x[i] * 0x1p-100);
    StgssaExactSumAdd(&ser[2], -x[i] / 3);
  }
  for (int i = N - 1; i >= 0; i--) { /* owner: a hash of i, so the slices interleave irregularly */
    const uint64_t h = (uint64_t)i * UINT64_C(0x9e3779b97f4a7c15);
    if ((PetscMPIInt)((h >> 33) % (uint64_t)size) != rank) continue;
    StgssaExactSumAdd(&loc[0], x[i]);
    StgssaExactSumAdd(&loc[1], x[i] * x[i] * 0x1p-100);
    StgssaExactSumAdd(&loc[2], -x[i] / 3);
  }
  ck_assert(!StgssaExactSumAllreduce(loc, 3, PETSC_COMM_WORLD));
  for (int j = 0; j < 3; j++) {
    StgssaExactSumNormalize(&ser[j]);
    ck_assert_msg(same_bits(value_of(&loc[j]), value_of(&ser[j])), "sum %d on %d ranks: %a vs serial %a", j, size, value_of(&loc[j]), value_of(&ser[j]));
    ck_assert(!memcmp(loc[j].limb, ser[j].limb, sizeof(loc[j].limb)));
  }
  /* a NaN on the last rank only: every rank gets the error, none hangs */
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  StgssaExactSumZero(&loc[0]);
  StgssaExactSumAdd(&loc[0], 1.0);
  if (rank == size - 1) StgssaExactSumAdd(&loc[0], NAN);
  ck_assert_int_eq(StgssaExactSumAllreduce(loc, 1, PETSC_COMM_WORLD), PETSC_ERR_FP);
  ck_assert(!PetscPopErrorHandler());
  /* one per rank: the total is the number of ranks */
  StgssaExactSumZero(&loc[0]);
  StgssaExactSumAdd(&loc[0], 1.0);
  ck_assert(!StgssaExactSumAllreduce(loc, 1, PETSC_COMM_WORLD));
  ck_assert(!StgssaExactSumValue(&loc[0], &v));
  ck_assert(v == size);
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s  = suite_create("exactsum");
  TCase   *tc = tcase_create("exactsum");
  SRunner *sr;
  int      failed;

  if (PetscInitialize(&argc, &argv, NULL, NULL)) return EXIT_FAILURE;
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_cancellation);
  tcase_add_test(tc, test_tenth);
  tcase_add_test(tc, test_ties);
  tcase_add_test(tc, test_random_exact);
  tcase_add_test(tc, test_orders_splits);
  tcase_add_test(tc, test_normalization);
  tcase_add_test(tc, test_range);
  tcase_add_test(tc, test_flags);
  tcase_add_test(tc, test_allreduce);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK); /* MPI must not be used across fork() */
  srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY: the suite sets normal, so the Checks line shows */
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (PetscFinalize()) return EXIT_FAILURE;
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
