/* SPDX-License-Identifier: BSD-2-Clause */
/* Statistical helpers for the tests: chi-square p-values and exact reference distributions. */
#ifndef STGSSA_TEST_STAT_UTIL_H
#define STGSSA_TEST_STAT_UTIL_H

#include <math.h>
#include <stdint.h>

/* Regularized upper incomplete gamma Q(s, x): series for x < s + 1, continued fraction otherwise. */
static inline double test_gamma_q(double s, double x)
{
  if (x <= 0) return 1.0;
  const double lg = lgamma(s);
  if (x < s + 1) { /* P(s,x) = x^s e^-x / Gamma(s+1) * sum_n x^n / ((s+1)...(s+n)) */
    double term = 1.0 / s, sum = term;
    for (int n = 1; n < 10000; n++) {
      term *= x / (s + n);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    return 1.0 - sum * exp(-x + s * log(x) - lg);
  }
  /* Lentz's method for the continued fraction of Q(s,x) */
  double b = x + 1 - s, c = 1e300, d = 1 / b, h = d;
  for (int i = 1; i < 10000; i++) {
    const double an = -i * (i - s);
    b += 2;
    d = an * d + b;
    if (fabs(d) < 1e-300) d = 1e-300;
    c = b + an / c;
    if (fabs(c) < 1e-300) c = 1e-300;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (fabs(del - 1) < 1e-16) break;
  }
  return exp(-x + s * log(x) - lg) * h;
}

/* Pearson chi-square test of observed counts obs[0..n-1] (obs[n-1] may be a tail bin) against
   probabilities p[0..n-1] (summing to 1) for N samples. Adjacent bins are merged until each
   merged bin expects at least 5 samples. Returns the p-value; *stat and *dof receive the statistic. */
static inline double test_chi2_pvalue(const int64_t *obs, const double *p, int n, int64_t N, double *stat, int *dof)
{
  double chi2 = 0, e = 0, o = 0;
  int    bins = 0;
  for (int i = 0; i < n; i++) {
    e += p[i] * (double)N;
    o += (double)obs[i];
    if (e >= 5 && (N - 0) > 0) {
      /* close the bin unless the rest expects fewer than 5 (then merge it in) */
      double rest = 0;
      for (int k = i + 1; k < n; k++) rest += p[k] * (double)N;
      if (rest >= 5 || i == n - 1) {
        chi2 += (o - e) * (o - e) / e;
        bins++;
        e = o = 0;
      }
    }
  }
  if (e > 0 || o > 0) { /* leftover (only if the total expected is tiny) */
    chi2 += e > 0 ? (o - e) * (o - e) / e : o;
    bins++;
  }
  *stat = chi2;
  *dof  = bins - 1;
  return test_gamma_q(0.5 * (bins - 1), 0.5 * chi2);
}

/* Poisson(lambda) probabilities p[0..n-2]; p[n-1] = P(X >= n-1). */
static inline void test_poisson_pmf(double lambda, int n, double *p)
{
  double cum = 0;
  for (int k = 0; k < n - 1; k++) {
    p[k] = exp(-lambda + k * log(lambda) - lgamma(k + 1.0));
    cum += p[k];
  }
  p[n - 1] = 1 - cum > 0 ? 1 - cum : 0;
}

/* Kummer's function M(a; b; z) for z >= 0 by its (all-positive) series, in long double. */
static inline long double test_kummer_m(long double a, long double b, long double z)
{
  long double term = 1, sum = 1;
  for (int k = 0; k < 100000; k++) {
    term *= (a + k) / (b + k) * z / (k + 1);
    sum += term;
    if (term < sum * 1e-21L) break;
  }
  return sum;
}

/* Stationary mRNA distribution of the telegraph model (Peccoud & Ycart 1995), a = k_on/d,
   b = k_off/d, K = k_tx/d:
     P(n) = Gamma(a+n) Gamma(a+b) / (n! Gamma(a) Gamma(a+b+n)) K^n M(a+n; a+b+n; -K),
   evaluated with Kummer's transformation M(a+n; a+b+n; -K) = e^-K M(b; a+b+n; K).
   p[0..n-2] exact, p[n-1] = tail mass. */
static inline void test_telegraph_pmf(double kon, double koff, double ktx, double kdeg, int n, double *p)
{
  const long double a = kon / kdeg, b = koff / kdeg, K = ktx / kdeg;
  double            cum = 0;
  for (int k = 0; k < n - 1; k++) {
    const long double lpre = lgammal(a + k) + lgammal(a + b) - lgammal(k + 1.0L) - lgammal(a) - lgammal(a + b + k) + k * logl(K) - K;
    p[k]                   = (double)(expl(lpre) * test_kummer_m(b, a + b + k, K));
    cum += p[k];
  }
  p[n - 1] = 1 - cum > 0 ? 1 - cum : 0;
}

#endif
