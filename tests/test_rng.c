/* SPDX-License-Identifier: BSD-2-Clause */
/* Philox4x32-10: published known-answer vectors, key/counter sensitivity, uniformity. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <stgssa/rng.h>
#include <stgssa/fastlog.h>
#include "stat_util.h"

/* Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors):
   counter (4 words), key (2 words) -> output (4 words). */
static const uint32_t kat[3][10] = {
  {0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
  {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
  {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
};

START_TEST(test_known_answers)
{
  for (int i = 0; i < 3; i++) {
    StgssaPhiloxCtr ctr = {{kat[i][0], kat[i][1], kat[i][2], kat[i][3]}};
    StgssaPhiloxKey key = {{kat[i][4], kat[i][5]}};
    StgssaPhiloxCtr out = StgssaPhilox4x32_10(ctr, key);
    for (int w = 0; w < 4; w++) ck_assert_msg(out.v[w] == kat[i][6 + w], "vector %d word %d: got %08x expected %08x", i, w, out.v[w], kat[i][6 + w]);
  }
}
END_TEST

/* Changing one bit of key or counter changes about half of the 128 output bits. */
START_TEST(test_avalanche)
{
  const StgssaPhiloxKey key  = StgssaRngKey(12345u, 678u);
  const StgssaPhiloxCtr ctr  = StgssaRngCounter(3u, 99u, 0u);
  const StgssaPhiloxCtr base = StgssaPhilox4x32_10(ctr, key);
  for (int bit = 0; bit < 192; bit++) {
    StgssaPhiloxCtr c = ctr;
    StgssaPhiloxKey k = key;
    if (bit < 128) c.v[bit / 32] ^= 1u << (bit % 32);
    else k.v[(bit - 128) / 32] ^= 1u << (bit % 32);
    StgssaPhiloxCtr o    = StgssaPhilox4x32_10(c, k);
    int             diff = 0;
    for (int w = 0; w < 4; w++) diff += __builtin_popcount(o.v[w] ^ base.v[w]);
    /* Binomial(128, 1/2) has sd 5.66: [32, 96] is beyond 5.6 sd, never reached by a sound mixer */
    ck_assert_msg(diff > 32 && diff < 96, "flipping input bit %d changed %d output bits", bit, diff);
  }
}
END_TEST

/* The 8-lane batch is bitwise the scalar generator on each lane, across the 2^32 event boundary too. */
START_TEST(test_batch_matches_scalar)
{
  const uint64_t  starts[3] = {0, 8 * 12345, ((uint64_t)1 << 32) - 8};
  StgssaPhiloxKey key       = StgssaRngKey(99u, 123456u);
  for (int s = 0; s < 3; s++) {
    uint32_t out[4][STGSSA_PHILOX_LANES];
    StgssaPhiloxEvents8(5u, starts[s], 2u, key, out);
    for (int i = 0; i < STGSSA_PHILOX_LANES; i++) {
      StgssaPhiloxCtr r = StgssaPhilox4x32_10(StgssaRngCounter(5u, starts[s] + (uint64_t)i, 2u), key);
      for (int w = 0; w < 4; w++) ck_assert_uint_eq(out[w][i], r.v[w]);
    }
  }
}
END_TEST

/* Determinism and the open interval of the uniform map. */
START_TEST(test_uniform_map)
{
  ck_assert(StgssaUniformOpen(0, 0) > 0.0);
  ck_assert(StgssaUniformOpen(0xffffffffu, 0xffffffffu) < 1.0);
  const StgssaPhiloxCtr a = StgssaPhilox4x32_10(StgssaRngCounter(1, 2, 3), StgssaRngKey(4, 5));
  const StgssaPhiloxCtr b = StgssaPhilox4x32_10(StgssaRngCounter(1, 2, 3), StgssaRngKey(4, 5));
  for (int w = 0; w < 4; w++) ck_assert_uint_eq(a.v[w], b.v[w]);
}
END_TEST

/* Uniformity: 2^20 doubles from consecutive events of one trajectory in 1024 equal bins.
   Pearson chi-square with 1023 dof; the fixed seed's p-value must exceed 1e-4 (a correct
   generator fails this with probability 1e-4 over seeds). Also the mean of -log U (Exp(1)):
   sd of the mean of 2^20 draws is 2^-10, we allow 5 sd. */
START_TEST(test_uniformity)
{
  enum { NBIN = 1024, N = 1 << 20 };
  static int64_t  counts[NBIN];
  static double   p[NBIN];
  double          expsum = 0, stat;
  int             dof;
  StgssaPhiloxKey key = StgssaRngKey(2026u, 7u);
  for (int i = 0; i < NBIN; i++) p[i] = 1.0 / NBIN;
  for (int i = 0; i < N / 2; i++) {
    StgssaPhiloxCtr r  = StgssaPhilox4x32_10(StgssaRngCounter(0, (uint64_t)i, 0), key);
    double          u1 = StgssaUniformOpen(r.v[0], r.v[1]), u2 = StgssaUniformOpen(r.v[2], r.v[3]);
    counts[(int)(u1 * NBIN)]++;
    counts[(int)(u2 * NBIN)]++;
    expsum += -log(u1) - log(u2);
  }
  double pv = test_chi2_pvalue(counts, p, NBIN, N, &stat, &dof);
  ck_assert_int_eq(dof, NBIN - 1);
  ck_assert_msg(pv > 1e-4, "chi2 = %g (dof %d), p = %g", stat, dof, pv);
  ck_assert_msg(fabs(expsum / N - 1.0) < 5.0 / 1024, "mean of Exp(1) draws %g", expsum / N);
}
END_TEST

/* StgssaFastLog against libm over 2^22 Philox uniforms, values near 1, and tiny values:
   at most 4 ulp where |log x| > 1e-3 and 4e-15 absolute everywhere (the bound in fastlog.h). */
START_TEST(test_fastlog)
{
  StgssaPhiloxKey key = StgssaRngKey(3u, 4u);
  double          maxulp = 0, maxabs = 0;
  for (int i = 0; i < (1 << 20); i++) {
    StgssaPhiloxCtr r = StgssaPhilox4x32_10(StgssaRngCounter(0, (uint64_t)i, 0), key);
    double          u[4];
    u[0] = StgssaUniformOpen(r.v[0], r.v[1]);
    u[1] = StgssaUniformOpen(r.v[2], r.v[3]);
    u[2] = 1.0 - 1e-3 * u[0];      /* log near 0 */
    u[3] = exp(-700.0 * u[1]);     /* down to 1e-304 */
    for (int k = 0; k < 4; k++) {
      const double a = StgssaFastLog(u[k]), b = log(u[k]), err = fabs(a - b);
      if (err > maxabs) maxabs = err;
      if (fabs(b) > 1e-3) {
        const double ulp = err / (nextafter(fabs(b), INFINITY) - fabs(b));
        if (ulp > maxulp) maxulp = ulp;
      }
    }
  }
  ck_assert_msg(maxulp <= 4 && maxabs <= 4e-15, "fast log: %g ulp, %g absolute", maxulp, maxabs);
  ck_assert(StgssaFastLog(1.0) == 0.0);
  ck_assert(fabs(StgssaFastLog(0x1.0p-52) + 52 * log(2.0)) < 1e-13);
}
END_TEST

/* StgssaUniformOpen32 (derivative draws): (w + 1/2) 2^-32 exactly, in the open interval, at both
   ends and for 2^20 Philox words against the textbook form. */
START_TEST(test_uniform32)
{
  StgssaPhiloxKey key = StgssaRngKey(5u, 6u);
  ck_assert(StgssaUniformOpen32(0) == 0x1.0p-33);
  ck_assert(StgssaUniformOpen32(UINT32_MAX) == 1.0 - 0x1.0p-33);
  ck_assert(StgssaUniformOpen32(UINT32_MAX) < 1.0);
  int same = 1;
  for (int i = 0; i < (1 << 18); i++) {
    StgssaPhiloxCtr r = StgssaPhilox4x32_10(StgssaRngCounter(1, (uint64_t)i, 1), key);
    for (int k = 0; k < 4; k++) same &= StgssaUniformOpen32(r.v[k]) == ((double)r.v[k] + 0.5) * 0x1.0p-32;
  }
  ck_assert(same);
}
END_TEST

/* The branch-free forms of StgssaUniformOpen and StgssaFastLog (conversions by the exponent 2^52,
   the exponent of the log by a logical shift; written so that SSE2 vectorizes them) against the
   textbook forms they replaced, bit for bit: derivative draws of a given seed must not change. */
static double RefUniformOpen(uint32_t hi, uint32_t lo) { return ((double)((((uint64_t)hi << 32) | lo) >> 12) + 0.5) * 0x1.0p-52; }
static double RefFastLog(double x)
{
  uint64_t bits;
  memcpy(&bits, &x, sizeof(bits));
  const int64_t  k     = (int64_t)(bits - 0x3fe6a09e667f3bcdull) >> 52;
  const uint64_t mbits = bits - ((uint64_t)k << 52);
  double         m;
  memcpy(&m, &mbits, sizeof(m));
  const double s = (m - 1.0) / (m + 1.0), z = s * s;
  double       poly = 1.0 / 19.0;
  poly = poly * z + 1.0 / 17.0;
  poly = poly * z + 1.0 / 15.0;
  poly = poly * z + 1.0 / 13.0;
  poly = poly * z + 1.0 / 11.0;
  poly = poly * z + 1.0 / 9.0;
  poly = poly * z + 1.0 / 7.0;
  poly = poly * z + 1.0 / 5.0;
  poly = poly * z + 1.0 / 3.0;
  const double fk = (double)k;
  return fk * 6.93147180369123816490e-01 + (2.0 * s + (2.0 * s * z * poly + fk * 1.90821492927058770002e-10));
}
START_TEST(test_bitwise_forms)
{
  StgssaPhiloxKey key = StgssaRngKey(9u, 2u);
  const uint32_t  edge[4][2] = {{0, 0}, {0xffffffffu, 0xffffffffu}, {0, 0xfffu}, {0x80000000u, 0}};
  for (int i = 0; i < 4; i++) {
    const double a = StgssaUniformOpen(edge[i][0], edge[i][1]), b = RefUniformOpen(edge[i][0], edge[i][1]);
    ck_assert(memcmp(&a, &b, sizeof(a)) == 0);
  }
  long bad = 0; /* counted, asserted once: check's asserts cost a pipe write each */
  for (int i = 0; i < (1 << 20); i++) {
    StgssaPhiloxCtr r = StgssaPhilox4x32_10(StgssaRngCounter(0, (uint64_t)i, 1), key);
    const double    u = StgssaUniformOpen(r.v[0], r.v[1]), ur = RefUniformOpen(r.v[0], r.v[1]);
    const uint64_t  xb = (((uint64_t)r.v[2] << 32) | r.v[3]) & 0x7fffffffffffffffull; /* any positive double */
    double          x, a, b;
    memcpy(&x, &xb, sizeof(x));
    bad += memcmp(&u, &ur, sizeof(u)) != 0;
    a = StgssaFastLog(u), b = RefFastLog(u);
    bad += memcmp(&a, &b, sizeof(a)) != 0;
    if (isnormal(x)) {
      a = StgssaFastLog(x), b = RefFastLog(x);
      bad += memcmp(&a, &b, sizeof(a)) != 0;
    }
  }
  ck_assert_msg(bad == 0, "%ld values differ from the reference forms", bad);
}
END_TEST

/* The chi-square helper itself: Q(1/2 dof, x/2) against known quantiles. */
START_TEST(test_chi2_helper)
{
  ck_assert(fabs(test_gamma_q(0.5, 3.841459 / 2) - 0.05) < 1e-6);  /* chi2(1) 95% quantile */
  ck_assert(fabs(test_gamma_q(5.0, 18.307038 / 2) - 0.05) < 1e-6); /* chi2(10) */
  ck_assert(fabs(test_gamma_q(50.0, 124.342113 / 2) - 0.05) < 1e-6); /* chi2(100) */
}
END_TEST

int main(void)
{
  Suite   *s  = suite_create("rng");
  TCase   *tc = tcase_create("philox");
  SRunner *sr;
  int      failed;
  tcase_add_test(tc, test_known_answers);
  tcase_add_test(tc, test_avalanche);
  tcase_add_test(tc, test_batch_matches_scalar);
  tcase_add_test(tc, test_uniform_map);
  tcase_add_test(tc, test_uniformity);
  tcase_add_test(tc, test_chi2_helper);
  tcase_add_test(tc, test_fastlog);
  tcase_add_test(tc, test_uniform32);
  tcase_add_test(tc, test_bitwise_forms);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
