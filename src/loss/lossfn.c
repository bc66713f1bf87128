/* SPDX-License-Identifier: BSD-2-Clause */
/* Loss functions of ensemble means and their exact gradients (see include/stgssa/lossfn.h). */
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <stgssa/lossfn.h>

const char *const StgssaKernelNames[]   = {"wendland", "triangular", "gaussian", "StgssaKernel", "STGSSA_KERNEL_", NULL};
const char *const StgssaDistanceNames[] = {"kl", "hellinger", "w1", "StgssaDistance", "STGSSA_DIST_", NULL};

/* Gaussian truncation radius in units of h: exp(-GAUSS_CUT^2 / 2) = exp(-800) underflows to 0. */
#define GAUSS_CUT 40.0

static void zero(double *a, int n)
{
  if (a && n > 0) memset(a, 0, (size_t)n * sizeof(double));
}

static int kernel_valid(StgssaKernel k)
{
  return k == STGSSA_KERNEL_WENDLAND || k == STGSSA_KERNEL_TRIANGULAR || k == STGSSA_KERNEL_GAUSSIAN;
}

/* v clamped to [lo, hi] (all doubles, so huge |x| cannot overflow an int conversion). */
static double clampd(double v, double lo, double hi)
{
  return v < lo ? lo : (v > hi ? hi : v);
}

/* Nearest bin to x: floor(x + 1/2) clamped to 0..B-1. */
static int nearest_bin(double x, int B)
{
  return (int)clampd(floor(x + 0.5), 0.0, (double)(B - 1));
}

int StgssaSoftHistogramMaxWidth(StgssaKernel k, double h, int B)
{
  double w;
  if (B < 1 || !(h > 0) || !isfinite(h) || !kernel_valid(k)) return 0;
  /* compact: bins in [x-h, x+h], at most floor(2h)+1; Gaussian: radius |x-n| + 40h with |x-n| <= 1/2
     inside the range (outside, the window is [0, 40h] or [B-1-40h, B-1]); +1 guards rounding */
  if (k == STGSSA_KERNEL_GAUSSIAN)
    w = floor(2.0 * GAUSS_CUT * h + 1.0) + 2.0;
  else
    w = floor(2.0 * h) + 2.0;
  return w >= (double)B ? B : (int)w;
}

int StgssaSoftHistogramSupport(StgssaKernel k, double h, double x, int B, int *lo, int *hi)
{
  double R, l, u;
  int    n, ilo, ihi, maxw;
  if (B < 1 || !(h > 0) || !isfinite(h) || !isfinite(x) || !kernel_valid(k)) {
    *lo = 0;
    *hi = -1;
    return 0;
  }
  n = nearest_bin(x, B);
  /* Gaussian: bins with |x - b| > |x - n| + 40h weigh < exp(-800) relative to bin n */
  R   = (k == STGSSA_KERNEL_GAUSSIAN) ? fabs(x - (double)n) + GAUSS_CUT * h : h;
  l   = clampd(ceil(x - R), 0.0, (double)(B - 1));
  u   = clampd(floor(x + R), 0.0, (double)(B - 1));
  ilo = (int)l;
  ihi = (int)u;
  /* the nearest bin is always in the window (it carries the one-hot fallback of compact kernels) */
  if (n < ilo) ilo = n;
  if (n > ihi) ihi = n;
  /* never exceed the advertised buffer size (reached only when rounding swamps x - R, |x| ~ 1e300) */
  maxw = StgssaSoftHistogramMaxWidth(k, h, B);
  if (ihi - ilo + 1 > maxw) {
    if (n - ilo >= maxw) ilo = n - (maxw - 1) / 2;
    ihi = ilo + maxw - 1;
    if (ihi > B - 1) {
      ihi = B - 1;
      ilo = ihi - maxw + 1;
    }
  }
  *lo = ilo;
  *hi = ihi;
  return ihi - ilo + 1;
}

/*
  Window values. With w_b = K((x-b)/h) and w'_b = dw_b/dx, S = sum w, S' = sum w':
      p_b = w_b / S,   dp_b/dx = (w'_b - p_b S') / S.
  Kernels of d = (x-b)/h, r = |d| (derivatives dK/dx):
      Wendland   K = (1-r)^4 (4r+1),   dK/dx = -20 d (1-r)^3 / h              (r < 1)
      triangular K = 1 - r,            dK/dx = -sign(d) / h, sign(0) = 0       (r < 1)
      Gaussian   K = exp(-(d^2 - d_n^2)/2), dK/dx = -d K / h, d_n = (x - n)/h for the nearest bin n
  (the Gaussian factor exp(d_n^2/2) is common to all bins, so p and dp/dx are unchanged; it keeps
  S >= 1 so far outside the range the histogram concentrates smoothly on the edge bin).
*/
int StgssaSoftHistogramSparse(StgssaKernel k, double h, double x, int B, int *lo, double *p, double *dpdx)
{
  int    hi, nw = StgssaSoftHistogramSupport(k, h, x, B, lo, &hi);
  double S = 0.0, Sd = 0.0, inv, n;
  if (nw == 0) return 0;
  n = (double)nearest_bin(x, B);
  for (int i = 0; i < nw; i++) {
    const double b = (double)(*lo + i);
    const double d = (x - b) / h;
    double       w = 0.0, wd = 0.0;
    switch (k) {
    case STGSSA_KERNEL_WENDLAND: {
      const double r = fabs(d);
      if (r < 1.0) {
        const double u = 1.0 - r, u3 = u * u * u;
        w  = u3 * u * (4.0 * r + 1.0);
        wd = -20.0 * d * u3 / h;
      }
    } break;
    case STGSSA_KERNEL_TRIANGULAR: {
      const double r = fabs(d);
      if (r < 1.0) {
        w  = 1.0 - r;
        wd = d > 0 ? -1.0 / h : (d < 0 ? 1.0 / h : 0.0);
      }
    } break;
    case STGSSA_KERNEL_GAUSSIAN: {
      /* d^2 - d_n^2 = (n - b)(2x - b - n) / h^2, without cancellation */
      w  = exp(-0.5 * ((n - b) * (2.0 * x - b - n)) / (h * h));
      wd = -d * w / h;
    } break;
    }
    p[i] = w;
    if (dpdx) dpdx[i] = wd;
    S += w;
    Sd += wd;
  }
  if (!(S > 0)) {
    /* compact kernel and no bin within h: one-hot at the nearest bin, zero derivative */
    zero(p, nw);
    zero(dpdx, nw);
    p[(int)n - *lo] = 1.0;
    return nw;
  }
  inv = 1.0 / S;
  for (int i = 0; i < nw; i++) {
    p[i] *= inv;
    if (dpdx) dpdx[i] = (dpdx[i] - p[i] * Sd) * inv;
  }
  return nw;
}

void StgssaSoftHistogram(StgssaKernel k, double h, double x, int B, double *p, double *dpdx)
{
  int lo, hi;
  if (B < 1) return;
  if (StgssaSoftHistogramSupport(k, h, x, B, &lo, &hi) == 0) {
    zero(p, B);
    zero(dpdx, B);
    return;
  }
  /* zero only outside the window; the window is written by the sparse routine */
  zero(p, lo);
  zero(p + hi + 1, B - 1 - hi);
  if (dpdx) {
    zero(dpdx, lo);
    zero(dpdx + hi + 1, B - 1 - hi);
  }
  (void)StgssaSoftHistogramSparse(k, h, x, B, &lo, p + lo, dpdx ? dpdx + lo : NULL);
}

/* ------------------------------------------------------------------------ moments */

/* mean = m1, var = m2 - m1^2, c3 = m3 - 3 m1 m2 + 2 m1^3; jac = d(mean,var,c3)/d(m1,m2,m3). */
void StgssaCentralMoments(const double raw[3], double central[3], double jac[9])
{
  const double m1 = raw[0], m2 = raw[1], m3 = raw[2];
  central[0] = m1;
  central[1] = m2 - m1 * m1;
  central[2] = m3 - 3.0 * m1 * m2 + 2.0 * m1 * m1 * m1;
  if (jac) {
    jac[0] = 1.0;
    jac[1] = 0.0;
    jac[2] = 0.0;
    jac[3] = -2.0 * m1;
    jac[4] = 1.0;
    jac[5] = 0.0;
    jac[6] = 6.0 * m1 * m1 - 3.0 * m2;
    jac[7] = -3.0 * m1;
    jac[8] = 1.0;
  }
}

/* L = sum_{k<n} ((c_k - d_k)/s_k)^2, s_k = max(|d_k|, floor); dL/draw = J^T (2 (c - d)/s^2). */
double StgssaLossMoments(int norders, const double raw[3], const double data[3], double floor, double grad_raw[3])
{
  double c[3], J[9], L = 0.0, g[3] = {0.0, 0.0, 0.0};
  if (grad_raw) grad_raw[0] = grad_raw[1] = grad_raw[2] = 0.0;
  if (norders < 1 || norders > 3 || !(floor > 0)) return NAN;
  StgssaCentralMoments(raw, c, J);
  for (int k = 0; k < norders; k++) {
    const double s = fmax(fabs(data[k]), floor), e = (c[k] - data[k]) / s;
    L += e * e;
    g[k] = 2.0 * e / s;
  }
  if (grad_raw)
    for (int j = 0; j < 3; j++)
      grad_raw[j] = g[0] * J[j] + g[1] * J[3 + j] + g[2] * J[6 + j];
  return L;
}

/* ------------------------------------------------------------------------ distributions */

/*
  p~ = (p + alpha)/Z, Z = sum p + B alpha (likewise q~ with Zq). With g = dL/dp~:
      dL/dp_b = (g_b - sum_c g_c p~_c) / Z.
  KL:        L = sum q~ log(q~/p~),            g_b = -q~_b/p~_b (0 where q~_b = 0)
  Hellinger: L = 1 - sum sqrt(p~ q~), evaluated as (1/2) sum (sqrt p~ - sqrt q~)^2 (equal on the
             simplex, but >= 0 and exactly 0 for p = q);  g_b = (1 - sqrt(q~_b/p~_b))/2
             (the constant 1/2 is annihilated by the projection since sum p~ = 1)
  W1:        L = sum_{b<B-1} |P_b - Q_b|,       g_c = sum_{b=c}^{B-2} sign(P_b - Q_b), sign(0) = 0
*/
double StgssaLossDistribution(StgssaDistance d, int B, const double *p, const double *q, double alpha, double *grad_p)
{
  double Z = 0.0, Zq = 0.0, L = 0.0, sg = 0.0;
  if (B < 1) return NAN;
  zero(grad_p, B);
  if (!(alpha >= 0) || !isfinite(alpha) || (d != STGSSA_DIST_KL && d != STGSSA_DIST_HELLINGER && d != STGSSA_DIST_W1)) return NAN;
  for (int b = 0; b < B; b++) {
    Z += p[b];
    Zq += q[b];
  }
  Z += B * alpha;
  Zq += B * alpha;
  if (!(Z > 0) || !(Zq > 0) || !isfinite(Z) || !isfinite(Zq)) return NAN;
  const double iZ = 1.0 / Z, iZq = 1.0 / Zq;

  switch (d) {
  case STGSSA_DIST_KL:
    for (int b = 0; b < B; b++) {
      const double pt = (p[b] + alpha) * iZ, qt = (q[b] + alpha) * iZq;
      if (qt == 0.0) continue; /* 0 log 0 = 0, zero derivative */
      if (pt == 0.0) {
        zero(grad_p, B);
        return INFINITY;
      }
      const double g = -qt / pt;
      L += qt * log(qt / pt);
      sg += g * pt;
      if (grad_p) grad_p[b] = g;
    }
    break;
  case STGSSA_DIST_HELLINGER:
    for (int b = 0; b < B; b++) {
      const double pt = (p[b] + alpha) * iZ, qt = (q[b] + alpha) * iZq;
      const double sp = sqrt(pt), sq = sqrt(qt), e = sp - sq;
      L += 0.5 * e * e;
      sg += 0.5 * (pt - sp * sq); /* g_b p~_b, finite even where g_b is infinite */
      if (grad_p) grad_p[b] = qt == 0.0 ? 0.5 : (pt == 0.0 ? -(double)INFINITY : 0.5 * (1.0 - sq / sp));
    }
    break;
  case STGSSA_DIST_W1: {
    double P = 0.0, Q = 0.0, T = 0.0;
    /* forward: CDF differences, their signs s_b, and sum_b s_b P_b = sum_c g_c p~_c */
    for (int b = 0; b < B - 1; b++) {
      P += (p[b] + alpha) * iZ;
      Q += (q[b] + alpha) * iZq;
      const double D = P - Q, s = D > 0 ? 1.0 : (D < 0 ? -1.0 : 0.0);
      L += fabs(D);
      sg += s * P;
      if (grad_p) grad_p[b] = s;
    }
    /* backward: g_c = suffix sum of signs (g_{B-1} = 0) */
    if (grad_p) {
      grad_p[B - 1] = 0.0;
      for (int b = B - 2; b >= 0; b--) {
        T += grad_p[b];
        grad_p[b] = T;
      }
    }
  } break;
  }
  if (grad_p)
    for (int b = 0; b < B; b++)
      grad_p[b] = (grad_p[b] - sg) * iZ;
  return L;
}

/* L = -sum c_b log((u_b + alpha)/Z), dL/dp_b = -c_b/(u_b + alpha) + C/Z (see lossfn.h). */
double StgssaLossNegLogLikelihood(int B, const double *p, const double *c, double alpha, double *grad_p)
{
  double Z = 0.0, C = 0.0, L = 0.0;
  if (B < 1) return NAN;
  zero(grad_p, B);
  if (!(alpha >= 0) || !isfinite(alpha)) return NAN;
  for (int b = 0; b < B; b++) {
    if (!(c[b] >= 0) || !isfinite(c[b]) || !isfinite(p[b])) return NAN;
    Z += (p[b] > 0 ? p[b] : 0.0);
    C += c[b];
  }
  Z += B * alpha;
  if (!(Z > 0) || !isfinite(Z)) return NAN;
  const double lZ = log(Z);
  for (int b = 0; b < B; b++) {
    const double u = (p[b] > 0 ? p[b] : 0.0) + alpha;
    if (c[b] == 0.0) continue;
    if (u == 0.0) {
      zero(grad_p, B);
      return INFINITY;
    }
    L -= c[b] * (log(u) - lZ);
    if (grad_p) grad_p[b] = -c[b] / u;
  }
  if (grad_p)
    for (int b = 0; b < B; b++)
      grad_p[b] += C / Z;
  return L;
}

/* ------------------------------------------------------------------------ design */

/*
  Q = 2 mJ^2 / (V mS), V = mJ2 - mJ^2:
      dQ/dmJ = 4 mJ (1 + mJ^2/V) / (V mS),  dQ/dmJ2 = -Q/V,  dQ/dmS = -Q/mS.
*/
double StgssaTURQ(double mJ, double mJ2, double mS, double grad[3])
{
  const double V = mJ2 - mJ * mJ;
  if (grad) grad[0] = grad[1] = grad[2] = 0.0;
  if (!isfinite(mJ) || !isfinite(mJ2) || !isfinite(mS) || !(V > 0) || !(mS > 0)) return NAN;
  const double Q = 2.0 * mJ * mJ / (V * mS);
  if (grad) {
    grad[0] = 4.0 * mJ * (1.0 + mJ * mJ / V) / (V * mS);
    grad[1] = -Q / V;
    grad[2] = -Q / mS;
  }
  return Q;
}

/* P = weight max(0, value - budget)^2, dP/dvalue = 2 weight max(0, value - budget). */
double StgssaPenaltyUpper(double value, double budget, double weight, double *dvalue)
{
  const double e = value > budget ? value - budget : 0.0;
  if (dvalue) *dvalue = 2.0 * weight * e;
  return weight * e * e;
}
