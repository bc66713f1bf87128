/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Loss functions (src/loss/lossfn.c): soft histograms, moments, distribution distances, TUR
  efficiency and penalties. Values at hand-computed points; gradients against central finite
  differences with step 1e-6, accepted when |fd - exact| <= 1e-6 * max(|exact|, 1e-3 (1 + |f|))
  with f the function value: relative 1e-6, with an absolute floor for derivatives near 0, where
  the finite-difference roundoff of about 1e-16 |f| / 1e-6 dominates (the floor is 10x that). Finite differences avoid points where the function is not
  differentiable: for compact kernels every |x - b|/h stays >= 1e-3 away from 0 and 1 (the
  triangular kernel has kinks there, and the support edge r = 1 switches bins in and out), and
  for W1 every CDF difference stays >= 1e-5 away from 0.
*/
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stgssa/lossfn.h>

#define FD_STEP 1e-6
#define FD_RTOL 1e-6
#define NB_MAX 1000

static const StgssaKernel kernels[3] = {STGSSA_KERNEL_WENDLAND, STGSSA_KERNEL_TRIANGULAR, STGSSA_KERNEL_GAUSSIAN};

/* deterministic uniform doubles in [0, 1) (splitmix64) */
static uint64_t rng_state = 0x243f6a8885a308d3ull;
static double   urand(void)
{
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z          = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (double)(z >> 11) * 0x1.0p-53;
}

/* ck_assert() marks a point (file I/O) on every success; in hot loops only act on failure */
#define REQUIRE(expr, ...)                                                                                                                                                                                                                               \
  do {                                                                                                                                                                                                                                                   \
    if (!(expr)) ck_abort_msg(__VA_ARGS__);                                                                                                                                                                                                              \
  } while (0)

/* fval: the function value; the finite-difference roundoff is about 1e-16 |fval| / FD_STEP */
static int fd_ok(double fd, double exact, double fval)
{
  return fabs(fd - exact) <= FD_RTOL * fmax(fabs(exact), 1e-3 * (1.0 + fabs(fval)));
}

/* ------------------------------------------------------------------ soft histograms */

/* p sums to 1, is >= 0, dpdx sums to 0; vanishes outside the support window; dense == sparse. */
START_TEST(test_hist_sum_to_one)
{
  static double p[NB_MAX], dp[NB_MAX], sp[NB_MAX], sdp[NB_MAX];
  const double  hs[]     = {0.3, 0.5, 1.0, 2.5, 7.0};
  const int     Bs[]     = {1, 2, 5, 50, NB_MAX};
  const double  far[]    = {-1e300, -1e15, -300.5, 1e15, 1e300};
  int           nchecked = 0;
  for (int ik = 0; ik < 3; ik++)
    for (size_t ih = 0; ih < sizeof hs / sizeof hs[0]; ih++)
      for (size_t iB = 0; iB < sizeof Bs / sizeof Bs[0]; iB++) {
        const int B    = Bs[iB];
        const int maxw = StgssaSoftHistogramMaxWidth(kernels[ik], hs[ih], B);
        REQUIRE(maxw >= 1 && maxw <= B, "max width %d for B %d", maxw, B);
        for (int ix = -1; ix < 700 + 5; ix++) {
          double x;
          if (ix < 0)
            x = 0.0;
          else if (ix < 700)
            x = -20.0 + (B + 40.0) * ix / 699.0 + 0.0137 * (ix % 3); /* non-integers, edges, outside */
          else
            x = far[ix - 700];
          if (ix >= 0 && ix < 700 && ix % 7 == 0) x = round(x); /* exact bins too */
          StgssaSoftHistogram(kernels[ik], hs[ih], x, B, p, dp);
          double s = 0.0, sd = 0.0, sdabs = 0.0;
          for (int b = 0; b < B; b++) {
            REQUIRE(p[b] >= 0.0 && isfinite(dp[b]), "kernel %d h %g x %g bin %d: p %g dpdx %g", ik, hs[ih], x, b, p[b], dp[b]);
            s += p[b];
            sd += dp[b];
            sdabs += fabs(dp[b]);
          }
          REQUIRE(fabs(s - 1.0) < 1e-12, "kernel %s h %g B %d x %g: sum p - 1 = %g", StgssaKernelNames[ik], hs[ih], B, x, s - 1.0);
          REQUIRE(fabs(sd) <= 1e-12 * (1.0 + sdabs), "kernel %s h %g B %d x %g: sum dpdx = %g", StgssaKernelNames[ik], hs[ih], B, x, sd);
          /* the support window holds all the mass and matches the sparse routine */
          int lo, hi, lo2;
          int n = StgssaSoftHistogramSupport(kernels[ik], hs[ih], x, B, &lo, &hi);
          REQUIRE(n == hi - lo + 1 && n >= 1 && n <= maxw && lo >= 0 && hi <= B - 1, "window %d..%d (n %d, max %d) for x %g", lo, hi, n, maxw, x);
          for (int b = 0; b < B; b++)
            if (b < lo || b > hi) REQUIRE(p[b] == 0.0 && dp[b] == 0.0, "mass outside window at bin %d", b);
          int n2 = StgssaSoftHistogramSparse(kernels[ik], hs[ih], x, B, &lo2, sp, sdp);
          REQUIRE(n2 == n && lo2 == lo, "sparse window %d+%d vs %d+%d", lo2, n2, lo, n);
          for (int i = 0; i < n; i++)
            REQUIRE(sp[i] == p[lo + i] && sdp[i] == dp[lo + i], "sparse differs at bin %d", lo + i);
          /* dpdx may be NULL */
          StgssaSoftHistogram(kernels[ik], hs[ih], x, B, sp, NULL);
          for (int b = 0; b < B; b++)
            REQUIRE(sp[b] == p[b], "dpdx = NULL changes p[%d]", b);
          nchecked++;
        }
      }
  ck_assert_int_eq(nchecked, 3 * 5 * 5 * 706);
}
END_TEST

/* min over bins of the distance of |x - b|/h to the kinks 0 and 1 */
static double kink_distance(double h, double x, int B)
{
  double m = INFINITY;
  for (int b = 0; b < B; b++) {
    const double r = fabs(x - b) / h;
    m              = fmin(m, fmin(r, fabs(r - 1.0)));
  }
  return m;
}

START_TEST(test_hist_fd)
{
  static double p[NB_MAX], dp[NB_MAX], pp[NB_MAX], pm[NB_MAX];
  const double  hs[]    = {0.3, 0.7, 1.0, 1.6, 4.0};
  const int     B       = 60;
  int           ntested = 0;
  for (int ik = 0; ik < 3; ik++)
    for (size_t ih = 0; ih < sizeof hs / sizeof hs[0]; ih++)
      for (int t = 0; t < 200; t++) {
        const double x = -3.0 + (B + 5.0) * urand();
        if (kernels[ik] != STGSSA_KERNEL_GAUSSIAN && kink_distance(hs[ih], x, B) < 1e-3) continue;
        StgssaSoftHistogram(kernels[ik], hs[ih], x, B, p, dp);
        StgssaSoftHistogram(kernels[ik], hs[ih], x + FD_STEP, B, pp, NULL);
        StgssaSoftHistogram(kernels[ik], hs[ih], x - FD_STEP, B, pm, NULL);
        for (int b = 0; b < B; b++) {
          const double fd = (pp[b] - pm[b]) / (2.0 * FD_STEP);
          REQUIRE(fd_ok(fd, dp[b], p[b]), "kernel %s h %g x %.10g bin %d: dpdx %.12g fd %.12g", StgssaKernelNames[ik], hs[ih], x, b, dp[b], fd);
        }
        ntested++;
      }
  ck_assert_int_gt(ntested, 2000);
}
END_TEST

START_TEST(test_hist_values)
{
  static double p[NB_MAX], dp[NB_MAX];
  const int     B = 10;
  /* x exactly on a bin with h < 1: one-hot with zero derivative (Gaussian: up to exp(-50)) */
  for (int ik = 0; ik < 3; ik++) {
    const double h = kernels[ik] == STGSSA_KERNEL_GAUSSIAN ? 0.1 : 0.8;
    StgssaSoftHistogram(kernels[ik], h, 4.0, B, p, dp);
    for (int b = 0; b < B; b++) {
      REQUIRE(fabs(p[b] - (b == 4)) < 1e-20, "%s: p[%d] = %g", StgssaKernelNames[ik], b, p[b]);
      REQUIRE(fabs(dp[b]) < 1e-18, "%s: dpdx[%d] = %g", StgssaKernelNames[ik], b, dp[b]);
    }
  }
  /* triangular, h = 1: linear interpolation between neighbours */
  StgssaSoftHistogram(STGSSA_KERNEL_TRIANGULAR, 1.0, 3.25, B, p, dp);
  ck_assert(fabs(p[3] - 0.75) < 1e-15 && fabs(p[4] - 0.25) < 1e-15);
  ck_assert(fabs(dp[3] + 1.0) < 1e-14 && fabs(dp[4] - 1.0) < 1e-14);
  /* Wendland, h = 2, x = 5: K(0) = 1, K(1/2) = (1/2)^4 * 3 = 3/16, K(1) = 0; S = 11/8;
     dK/dx at bin 4 = -20 d (1-r)^3 / h = -20 (1/2)(1/8)/2 = -5/8, +5/8 at bin 6 */
  StgssaSoftHistogram(STGSSA_KERNEL_WENDLAND, 2.0, 5.0, B, p, dp);
  ck_assert(fabs(p[5] - 8.0 / 11.0) < 1e-15);
  ck_assert(fabs(p[4] - 1.5 / 11.0) < 1e-15 && fabs(p[6] - 1.5 / 11.0) < 1e-15);
  ck_assert(p[3] == 0.0 && p[7] == 0.0);
  ck_assert(fabs(dp[4] + 5.0 / 11.0) < 1e-14 && fabs(dp[6] - 5.0 / 11.0) < 1e-14 && fabs(dp[5]) < 1e-15);
  /* Gaussian, h = 1, two bins, x = 0: p0 = 1/(1 + e^{-1/2}); dp0/dx = -p0 p1 (d0 - d1)/h^2... = -p0 p1 */
  StgssaSoftHistogram(STGSSA_KERNEL_GAUSSIAN, 1.0, 0.0, 2, p, dp);
  ck_assert(fabs(p[0] - 1.0 / (1.0 + exp(-0.5))) < 1e-15);
  ck_assert(fabs(dp[0] + p[0] * p[1]) < 1e-15 && fabs(dp[1] - p[0] * p[1]) < 1e-15);
  /* edge renormalization: triangular h = 2 at x = 0, the mass of bin -1 goes to bins 0, 1 */
  StgssaSoftHistogram(STGSSA_KERNEL_TRIANGULAR, 2.0, 0.0, B, p, dp);
  ck_assert(fabs(p[0] - 2.0 / 3.0) < 1e-15 && fabs(p[1] - 1.0 / 3.0) < 1e-15 && p[2] == 0.0);
  /* compact kernels beyond h from every bin: one-hot at the nearest bin, zero derivative */
  const double xs[]  = {-5.0, -1.0, 2.45, 2.55, 9.0 + 1.0, 1e300};
  const int    nbs[] = {0, 0, 2, 3, 9, 9};
  for (int ik = 0; ik < 2; ik++)
    for (int i = 0; i < 6; i++) {
      const double h = (i == 2 || i == 3) ? 0.3 : 1.0;
      StgssaSoftHistogram(kernels[ik], h, xs[i], B, p, dp);
      for (int b = 0; b < B; b++)
        REQUIRE(p[b] == (b == nbs[i]) && dp[b] == 0.0, "%s x %g bin %d: %g", StgssaKernelNames[ik], xs[i], b, p[b]);
    }
  /* Gaussian far outside: smooth concentration on the edge bin, no underflow to 0/0 */
  StgssaSoftHistogram(STGSSA_KERNEL_GAUSSIAN, 1.0, -1e3, B, p, dp);
  ck_assert(p[0] == 1.0 && p[1] == 0.0 && isfinite(dp[0]));
  StgssaSoftHistogram(STGSSA_KERNEL_GAUSSIAN, 0.5, B - 1 + 3.0, B, p, dp);
  ck_assert(p[B - 1] > 0.999 && p[B - 2] > 0.0 && dp[B - 1] > 0.0); /* ratio exp(-14) */
  /* cheap: only a few bins touched for B = 1000 */
  int lo, hi;
  ck_assert_int_eq(StgssaSoftHistogramSupport(STGSSA_KERNEL_WENDLAND, 1.5, 500.2, NB_MAX, &lo, &hi), 3);
  ck_assert(lo == 499 && hi == 501);
  ck_assert_int_le(StgssaSoftHistogramMaxWidth(STGSSA_KERNEL_WENDLAND, 1.5, NB_MAX), 5);
  ck_assert_int_le(StgssaSoftHistogramSupport(STGSSA_KERNEL_GAUSSIAN, 0.5, 500.2, NB_MAX, &lo, &hi), 42);
  /* invalid input gives zeros */
  StgssaSoftHistogram(STGSSA_KERNEL_WENDLAND, 0.0, 3.0, B, p, dp);
  for (int b = 0; b < B; b++)
    ck_assert(p[b] == 0.0 && dp[b] == 0.0);
  StgssaSoftHistogram(STGSSA_KERNEL_GAUSSIAN, 1.0, NAN, B, p, NULL);
  for (int b = 0; b < B; b++)
    ck_assert(p[b] == 0.0);
  /* names */
  ck_assert_str_eq(StgssaKernelNames[STGSSA_KERNEL_WENDLAND], "wendland");
  ck_assert_str_eq(StgssaKernelNames[STGSSA_KERNEL_TRIANGULAR], "triangular");
  ck_assert_str_eq(StgssaKernelNames[STGSSA_KERNEL_GAUSSIAN], "gaussian");
  ck_assert(StgssaKernelNames[5] == NULL);
  ck_assert_str_eq(StgssaDistanceNames[STGSSA_DIST_KL], "kl");
  ck_assert_str_eq(StgssaDistanceNames[STGSSA_DIST_HELLINGER], "hellinger");
  ck_assert_str_eq(StgssaDistanceNames[STGSSA_DIST_W1], "w1");
  ck_assert(StgssaDistanceNames[5] == NULL);
}
END_TEST

/* ------------------------------------------------------------------ moments */

START_TEST(test_moments_jacobian)
{
  /* x in {0, 1, 2} with probabilities (0.2, 0.5, 0.3): m = (1.1, 1.7, 2.9);
     var = 1.7 - 1.21 = 0.49, c3 = 0.2(-1.1)^3 + 0.5(-0.1)^3 + 0.3(0.9)^3 = -0.048 */
  const double raw0[3] = {1.1, 1.7, 2.9};
  double       c[3], J[9];
  StgssaCentralMoments(raw0, c, J);
  ck_assert(fabs(c[0] - 1.1) < 1e-15 && fabs(c[1] - 0.49) < 1e-14 && fabs(c[2] + 0.048) < 1e-14);
  StgssaCentralMoments(raw0, c, NULL);
  for (int t = 0; t < 50; t++) {
    double raw[3] = {-5.0 + 10.0 * urand(), 30.0 * urand(), -50.0 + 100.0 * urand()};
    StgssaCentralMoments(raw, c, J);
    for (int j = 0; j < 3; j++) {
      double rp[3] = {raw[0], raw[1], raw[2]}, rm[3] = {raw[0], raw[1], raw[2]}, cp[3], cm[3];
      rp[j] += FD_STEP;
      rm[j] -= FD_STEP;
      StgssaCentralMoments(rp, cp, NULL);
      StgssaCentralMoments(rm, cm, NULL);
      for (int i = 0; i < 3; i++) {
        const double fd = (cp[i] - cm[i]) / (2.0 * FD_STEP);
        REQUIRE(fd_ok(fd, J[3 * i + j], c[i]), "d c%d / d m%d: %.12g vs fd %.12g", i, j, J[3 * i + j], fd);
      }
    }
  }
}
END_TEST

START_TEST(test_loss_moments)
{
  double g[3];
  for (int t = 0; t < 40; t++) {
    const double raw[3] = {-2.0 + 10.0 * urand(), 0.0, 0.0};
    double       r[3]   = {raw[0], raw[0] * raw[0] + 0.1 + 5.0 * urand(), 0.0}, data[3];
    do { /* keep |c3| >= 1 so the 1e-3 floor does not blow up L and the finite-difference roundoff */
      r[2] = -20.0 + 80.0 * urand();
      StgssaCentralMoments(r, data, NULL);
    } while (fabs(data[2]) < 1.0);
    for (int n = 1; n <= 3; n++) {
      /* zero loss and gradient when the model moments equal the data moments */
      const double L0 = StgssaLossMoments(n, r, data, 1e-3, g);
      REQUIRE(fabs(L0) < 1e-24, "norders %d: L = %g", n, L0);
      for (int j = 0; j < 3; j++)
        ck_assert(fabs(g[j]) < 1e-10);
      /* perturbed model: positive loss, gradient vs finite differences; floors 1e-3 (inactive)
         and 50 (active for most moments) */
      double rm[3] = {r[0] + 0.3 * urand() + 0.05, r[1] + 0.5 * urand() + 0.05, r[2] - 2.0 * urand() - 0.1};
      for (int f = 0; f < 2; f++) {
        const double floor = f ? 50.0 : 1e-3;
        const double L     = StgssaLossMoments(n, rm, data, floor, g);
        ck_assert(L > 0.0);
        for (int j = 0; j < 3; j++) {
          double a[3] = {rm[0], rm[1], rm[2]}, b[3] = {rm[0], rm[1], rm[2]};
          a[j] += FD_STEP;
          b[j] -= FD_STEP;
          const double fd = (StgssaLossMoments(n, a, data, floor, NULL) - StgssaLossMoments(n, b, data, floor, NULL)) / (2.0 * FD_STEP);
          REQUIRE(fd_ok(fd, g[j], L), "norders %d floor %g dL/dm%d: %.12g vs fd %.12g", n, floor, j, g[j], fd);
        }
        if (n < 3) ck_assert(g[2] == 0.0);
        if (n < 2) ck_assert(g[1] == 0.0);
      }
    }
  }
  /* hand example: raw (1, 3, 0): mean 1, var 2, c3 = 0 - 9 + 2 = -7; data (2, 1, -7), floor 0.5:
     L = ((1-2)/2)^2 + ((2-1)/1)^2 + 0 = 1.25 */
  const double raw[3] = {1.0, 3.0, 0.0}, data[3] = {2.0, 1.0, -7.0};
  ck_assert(fabs(StgssaLossMoments(3, raw, data, 0.5, g) - 1.25) < 1e-14);
  /* a data moment of 0 uses the floor: ((1 - 0)/0.5)^2 = 4 */
  const double d0[3] = {0.0, 0.0, 0.0};
  ck_assert(fabs(StgssaLossMoments(1, raw, d0, 0.5, NULL) - 4.0) < 1e-14);
  /* invalid */
  ck_assert(isnan(StgssaLossMoments(0, raw, data, 0.5, g)) && g[0] == 0.0 && g[1] == 0.0 && g[2] == 0.0);
  ck_assert(isnan(StgssaLossMoments(4, raw, data, 0.5, NULL)));
  ck_assert(isnan(StgssaLossMoments(2, raw, data, 0.0, NULL)));
}
END_TEST

/* ------------------------------------------------------------------ distributions */

static const StgssaDistance dists[3] = {STGSSA_DIST_KL, STGSSA_DIST_HELLINGER, STGSSA_DIST_W1};

static void random_dist(int B, double *p, double total, int zeros)
{
  double s = 0.0;
  for (int b = 0; b < B; b++)
    s += (p[b] = (zeros && b % 3 == 1) ? 0.0 : 0.05 + urand());
  for (int b = 0; b < B; b++)
    p[b] *= total / s;
}

START_TEST(test_dist_zero_when_equal)
{
  static double p[NB_MAX], q[NB_MAX], g[NB_MAX];
  const int     Bs[] = {1, 2, 7, 40, NB_MAX};
  for (int id = 0; id < 3; id++)
    for (int iB = 0; iB < 5; iB++)
      for (int ia = 0; ia < 2; ia++) {
        const int    B     = Bs[iB];
        const double alpha = ia ? 1e-3 : 0.0;
        random_dist(B, p, 1.0, 0);
        memcpy(q, p, (size_t)B * sizeof(double));
        const double L = StgssaLossDistribution(dists[id], B, p, q, alpha, g);
        REQUIRE(L == 0.0, "%s B %d alpha %g: L = %g", StgssaDistanceNames[id], B, alpha, L);
        for (int b = 0; b < B; b++)
          REQUIRE(fabs(g[b]) < 1e-12, "%s B %d: grad[%d] = %g", StgssaDistanceNames[id], B, b, g[b]);
      }
}
END_TEST

START_TEST(test_dist_fd)
{
  static double p[NB_MAX], q[NB_MAX], g[NB_MAX];
  const int     Bs[]     = {2, 3, 8, 25};
  const double  alphas[] = {0.0, 1e-3, 0.05};
  int           ntested  = 0;
  for (int id = 0; id < 3; id++)
    for (int iB = 0; iB < 4; iB++)
      for (int ia = 0; ia < 3; ia++)
        for (int t = 0; t < 5; t++) {
          const int    B     = Bs[iB];
          const double alpha = alphas[ia];
          random_dist(B, q, 1.0, t % 2);                           /* data with some empty bins when t odd */
          random_dist(B, p, t < 2 ? 1.0 : 0.9 + 0.2 * urand(), 0); /* sum p != 1 exercises the normalization term */
          const double L = StgssaLossDistribution(dists[id], B, p, q, alpha, g);
          REQUIRE(L > 0.0 && isfinite(L), "%s: L = %g", StgssaDistanceNames[id], L);
          if (dists[id] == STGSSA_DIST_W1) {
            /* stay away from CDF ties, where W1 is not differentiable */
            double P = 0, Q = 0, Zp = 0, Zq = 0, m = INFINITY;
            for (int b = 0; b < B; b++) {
              Zp += p[b] + alpha;
              Zq += q[b] + alpha;
            }
            for (int b = 0; b < B - 1; b++) {
              P += (p[b] + alpha) / Zp;
              Q += (q[b] + alpha) / Zq;
              m = fmin(m, fabs(P - Q));
            }
            if (m < 1e-5) continue;
          }
          for (int b = 0; b < B; b++) {
            const double s  = p[b];
            p[b]            = s + FD_STEP;
            const double Lp = StgssaLossDistribution(dists[id], B, p, q, alpha, NULL);
            p[b]            = s - FD_STEP;
            const double Lm = StgssaLossDistribution(dists[id], B, p, q, alpha, NULL);
            p[b]            = s;
            const double fd = (Lp - Lm) / (2.0 * FD_STEP);
            REQUIRE(fd_ok(fd, g[b], L), "%s B %d alpha %g bin %d: grad %.12g fd %.12g", StgssaDistanceNames[id], B, alpha, b, g[b], fd);
          }
          /* the gradient is orthogonal to scaling p: L(c p) = L(p) when alpha = 0 */
          if (alpha == 0.0) {
            double dot = 0.0, nrm = 0.0;
            for (int b = 0; b < B; b++) {
              dot += g[b] * p[b];
              nrm += fabs(g[b] * p[b]);
            }
            ck_assert(fabs(dot) <= 1e-12 * (1.0 + nrm));
          }
          ntested++;
        }
  ck_assert_int_gt(ntested, 150);
}
END_TEST

START_TEST(test_dist_smoothing)
{
  double       g[4];
  const double p[4] = {0.5, 0.0, 0.5, 0.0}, q[4] = {0.25, 0.25, 0.25, 0.25};
  /* KL with zeros in p: infinite without smoothing, finite with it */
  ck_assert(isinf(StgssaLossDistribution(STGSSA_DIST_KL, 4, p, q, 0.0, g)));
  const double L = StgssaLossDistribution(STGSSA_DIST_KL, 4, p, q, 1e-3, g);
  ck_assert(isfinite(L) && L > 0.0);
  for (int b = 0; b < 4; b++)
    ck_assert(isfinite(g[b]));
  ck_assert(g[1] < 0.0 && g[3] < 0.0); /* more model mass where data has mass lowers the loss */
  /* alpha: p~ = (0.501, 0.001, 0.501, 0.001)/1.004, q~ = q; L = sum q~ log(q~/p~) */
  double ref = 0.0;
  for (int b = 0; b < 4; b++)
    ref += 0.25 * log(0.25 / ((p[b] + 1e-3) / 1.004));
  ck_assert(fabs(L - ref) < 1e-14);
  /* Hellinger with alpha = 0 and p zeros: finite value 1 - 2 sqrt(0.125), infinite slope there */
  const double H = StgssaLossDistribution(STGSSA_DIST_HELLINGER, 4, p, q, 0.0, g);
  ck_assert(fabs(H - (1.0 - 2.0 * sqrt(0.125))) < 1e-15);
  ck_assert(isinf(g[1]) && g[1] < 0.0 && isfinite(g[0]));
  /* zeros in q only: finite everything with alpha = 0 */
  ck_assert(isfinite(StgssaLossDistribution(STGSSA_DIST_KL, 4, q, p, 0.0, g)));
  for (int b = 0; b < 4; b++)
    ck_assert(isfinite(g[b]));
  /* KL and Hellinger hand values: p = (1/2, 1/2), q = (1, 0) */
  const double p2[2] = {0.5, 0.5}, q2[2] = {1.0, 0.0};
  ck_assert(fabs(StgssaLossDistribution(STGSSA_DIST_KL, 2, p2, q2, 0.0, NULL) - log(2.0)) < 1e-15);
  ck_assert(fabs(StgssaLossDistribution(STGSSA_DIST_HELLINGER, 2, p2, q2, 0.0, NULL) - (1.0 - sqrt(0.5))) < 1e-15);
  /* invalid input */
  const double z[2] = {0.0, 0.0};
  ck_assert(isnan(StgssaLossDistribution(STGSSA_DIST_KL, 2, z, q2, 0.0, g)) && g[0] == 0.0 && g[1] == 0.0);
  ck_assert(isnan(StgssaLossDistribution(STGSSA_DIST_W1, 2, p2, q2, -1.0, NULL)));
  ck_assert(isnan(StgssaLossDistribution((StgssaDistance)7, 2, p2, q2, 0.0, NULL)));
}
END_TEST

START_TEST(test_w1_hand)
{
  double g[4];
  /* all mass moved from bin 0 to bin 3: W1 = 3 */
  const double a[4] = {1, 0, 0, 0}, b[4] = {0, 0, 0, 1};
  ck_assert(fabs(StgssaLossDistribution(STGSSA_DIST_W1, 4, a, b, 0.0, g) - 3.0) < 1e-15);
  /* p = (1/2, 1/2, 0, 0), q = (0, 1/2, 1/2, 0): P = (1/2, 1, 1), Q = (0, 1/2, 1): W1 = 1 = |mean p - mean q|.
     Signs (1, 1, 0) (tie at b = 2, sign 0), g = (2, 1, 0, 0), sum g p~ = 3/2, grad = g - 3/2 */
  const double p[4] = {0.5, 0.5, 0, 0}, q[4] = {0, 0.5, 0.5, 0};
  ck_assert(fabs(StgssaLossDistribution(STGSSA_DIST_W1, 4, p, q, 0.0, g) - 1.0) < 1e-15);
  ck_assert(fabs(g[0] - 0.5) < 1e-15 && fabs(g[1] + 0.5) < 1e-15 && fabs(g[2] + 1.5) < 1e-15 && fabs(g[3] + 1.5) < 1e-15);
  /* with alpha = 1/4: p~ = (3/4, 3/4, 1/4, 1/4)/2, q~ = (1/4, 3/4, 3/4, 1/4)/2:
     P = (3/8, 6/8, 7/8), Q = (1/8, 4/8, 7/8): W1 = 1/4 + 1/4 = 1/2 */
  ck_assert(fabs(StgssaLossDistribution(STGSSA_DIST_W1, 4, p, q, 0.25, NULL) - 0.5) < 1e-15);
  /* one bin: always 0 */
  ck_assert(StgssaLossDistribution(STGSSA_DIST_W1, 1, p, q + 1, 0.0, g) == 0.0 && g[0] == 0.0);
}
END_TEST

/* ------------------------------------------------------------------ design */

START_TEST(test_turq)
{
  double g[3];
  /* mJ = 2, mJ2 = 6 (var 2), mS = 4: Q = 2*4/(2*4) = 1 (TUR saturated, as for a Poisson-like
     current). dQ/dmJ = 4*2*(1 + 4/2)/(2*4) = 3, dQ/dmJ2 = -Q/var = -1/2, dQ/dmS = -Q/mS = -1/4 */
  ck_assert(fabs(StgssaTURQ(2.0, 6.0, 4.0, g) - 1.0) < 1e-15);
  ck_assert(fabs(g[0] - 3.0) < 1e-14 && fabs(g[1] + 0.5) < 1e-15 && fabs(g[2] + 0.25) < 1e-15);
  for (int t = 0; t < 50; t++) {
    double v[3]    = {-5.0 + 10.0 * urand(), 0.0, 0.1 + 10.0 * urand()};
    v[1]           = v[0] * v[0] + 0.2 + 5.0 * urand();
    const double Q = StgssaTURQ(v[0], v[1], v[2], g);
    ck_assert(Q >= 0.0 && isfinite(Q));
    for (int j = 0; j < 3; j++) {
      double a[3] = {v[0], v[1], v[2]}, b[3] = {v[0], v[1], v[2]};
      a[j] += FD_STEP;
      b[j] -= FD_STEP;
      const double fd = (StgssaTURQ(a[0], a[1], a[2], NULL) - StgssaTURQ(b[0], b[1], b[2], NULL)) / (2.0 * FD_STEP);
      REQUIRE(fd_ok(fd, g[j], Q), "dQ/dv%d: %.12g vs fd %.12g", j, g[j], fd);
    }
  }
  /* zero current: Q = 0 with zero slope in mJ */
  ck_assert(StgssaTURQ(0.0, 1.0, 1.0, g) == 0.0 && g[0] == 0.0);
  /* degenerate: NAN and zero gradient */
  ck_assert(isnan(StgssaTURQ(2.0, 4.0, 1.0, g)) && g[0] == 0.0 && g[1] == 0.0 && g[2] == 0.0);
  ck_assert(isnan(StgssaTURQ(2.0, 3.0, 1.0, NULL)));
  ck_assert(isnan(StgssaTURQ(2.0, 6.0, 0.0, g)) && g[0] == 0.0);
  ck_assert(isnan(StgssaTURQ(2.0, 6.0, -1.0, NULL)));
}
END_TEST

START_TEST(test_penalty)
{
  double d;
  ck_assert(StgssaPenaltyUpper(3.0, 5.0, 10.0, &d) == 0.0 && d == 0.0);
  ck_assert(StgssaPenaltyUpper(5.0, 5.0, 10.0, &d) == 0.0 && d == 0.0);
  ck_assert(fabs(StgssaPenaltyUpper(7.0, 5.0, 10.0, &d) - 40.0) < 1e-14 && fabs(d - 40.0) < 1e-14);
  ck_assert(StgssaPenaltyUpper(7.0, 5.0, 0.5, NULL) == 2.0);
  for (int t = 0; t < 20; t++) {
    const double v = 5.0 + 0.01 + 3.0 * urand(), w = 0.1 + urand();
    const double P = StgssaPenaltyUpper(v, 5.0, w, &d);
    ck_assert(P > 0.0);
    const double fd = (StgssaPenaltyUpper(v + FD_STEP, 5.0, w, NULL) - StgssaPenaltyUpper(v - FD_STEP, 5.0, w, NULL)) / (2.0 * FD_STEP);
    ck_assert(fd_ok(fd, d, P));
  }
}
END_TEST

/* -log L at a hand-computed point: p = (0.2, 0.5, 0.3) (sums to 1), counts c = (1, 2, 0), alpha = 0:
   L = -(log 0.2 + 2 log 0.5) = 1.6094379 + 1.3862944 = 2.9957323; dL/dp_b = -c_b/p_b + C/Z
   = (-5 + 3, -4 + 3, 0 + 3) = (-2, -1, 3). With alpha = 0.1: p~ = (0.3, 0.6, 0.4)/1.3. */
START_TEST(test_nll_hand)
{
  const double p[3] = {0.2, 0.5, 0.3}, c[3] = {1, 2, 0}, want[3] = {-2, -1, 3};
  double       g[3], L;
  L = StgssaLossNegLogLikelihood(3, p, c, 0.0, g);
  ck_assert_double_eq_tol(L, -(log(0.2) + 2 * log(0.5)), 1e-14);
  for (int b = 0; b < 3; b++)
    ck_assert_double_eq_tol(g[b], want[b], 1e-13);
  L = StgssaLossNegLogLikelihood(3, p, c, 0.1, NULL);
  ck_assert_double_eq_tol(L, -(log(0.3 / 1.3) + 2 * log(0.6 / 1.3)), 1e-14);
}
END_TEST

/* Gradient against central differences (random p not normalized, random counts, alpha > 0), and
   the floor: a bin with data but p = 0 costs -c log(alpha/Z), finite; alpha = 0 there gives +inf. */
START_TEST(test_nll_fd_floor)
{
  enum { B = 7 };
  double p[B], c[B], g[B];
  for (int trial = 0; trial < 20; trial++) {
    const double alpha = trial % 2 ? 1e-3 : 0.05;
    for (int b = 0; b < B; b++) {
      p[b] = 0.02 + urand();
      c[b] = floor(10 * urand());
    }
    const double L = StgssaLossNegLogLikelihood(B, p, c, alpha, g);
    for (int b = 0; b < B; b++) {
      const double p0 = p[b];
      p[b]            = p0 + FD_STEP;
      const double Lp = StgssaLossNegLogLikelihood(B, p, c, alpha, NULL);
      p[b]            = p0 - FD_STEP;
      const double Lm = StgssaLossNegLogLikelihood(B, p, c, alpha, NULL);
      p[b]            = p0;
      const double fd = (Lp - Lm) / (2 * FD_STEP);
      REQUIRE(fabs(fd - g[b]) <= FD_RTOL * fmax(fabs(g[b]), 1e-3 * (1 + fabs(L))), "trial %d bin %d: fd %.12g exact %.12g", trial, b, fd, g[b]);
    }
  }
  {
    const double q[3] = {0.0, 1.0, 0.0}, cc[3] = {2, 1, 0};
    const double L = StgssaLossNegLogLikelihood(3, q, cc, 1e-12, g);
    ck_assert(isfinite(L));
    ck_assert_double_eq_tol(L, -2 * log(1e-12 / (1 + 3e-12)) - log((1 + 1e-12) / (1 + 3e-12)), 1e-9);
    ck_assert(StgssaLossNegLogLikelihood(3, q, cc, 0.0, NULL) == INFINITY);
    ck_assert(isnan(StgssaLossNegLogLikelihood(3, q, cc, -1.0, NULL)));
    ck_assert(isnan(StgssaLossNegLogLikelihood(0, q, cc, 0.1, NULL)));
  }
}
END_TEST

int main(void)
{
  Suite   *s  = suite_create("lossfn");
  TCase   *th = tcase_create("soft_histogram"), *tm = tcase_create("moments"), *td = tcase_create("distributions"), *tt = tcase_create("design");
  SRunner *sr;
  int      failed;
  tcase_add_test(th, test_hist_sum_to_one);
  tcase_add_test(th, test_hist_fd);
  tcase_add_test(th, test_hist_values);
  tcase_add_test(tm, test_moments_jacobian);
  tcase_add_test(tm, test_loss_moments);
  tcase_add_test(td, test_dist_zero_when_equal);
  tcase_add_test(td, test_dist_fd);
  tcase_add_test(td, test_dist_smoothing);
  tcase_add_test(td, test_w1_hand);
  tcase_add_test(td, test_nll_hand);
  tcase_add_test(td, test_nll_fd_floor);
  tcase_add_test(tt, test_turq);
  tcase_add_test(tt, test_penalty);
  suite_add_tcase(s, th);
  suite_add_tcase(s, tm);
  suite_add_tcase(s, td);
  suite_add_tcase(s, tt);
  sr = srunner_create(s);
  srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY: the suite sets normal, so the Checks line shows */
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
