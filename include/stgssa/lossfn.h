/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Loss functions of ensemble means for the gradient engine (pure C11, no PETSc, no MPI).

  Every function returns a value and its exact gradient with respect to its own inputs;
  the caller applies the chain rule back to the parameters. Conventions:

  - Soft histograms map a copy number x to probabilities over the integer bins 0..B-1 with a
    smooth (or piecewise smooth) kernel, normalized over the bins that exist: near the edges
    (x close to 0 or B-1) the kernel mass that would fall on bins < 0 or > B-1 is renormalized
    onto bins 0..B-1, so p always sums to 1.
  - Distribution losses smooth BOTH distributions with a Dirichlet pseudo-probability alpha
    per bin before renormalizing; the gradient is taken with respect to the unnormalized model
    probabilities p (sum p is a variable), so it includes the normalization term.
  - W1 is not differentiable where two CDFs touch; the gradient uses sign(0) = 0 there.
  - Functions given invalid input return NAN and a zero gradient (unless stated otherwise).
*/
#ifndef STGSSA_LOSSFN_H
#define STGSSA_LOSSFN_H

/* ---------------------------------------------------------------- soft histograms */

typedef enum {
  STGSSA_KERNEL_WENDLAND = 0, /* K(r) = (1 - r)^4 (4 r + 1) for r < 1, else 0 (Wendland C2) */
  STGSSA_KERNEL_TRIANGULAR,   /* K(r) = max(0, 1 - r)                                        */
  STGSSA_KERNEL_GAUSSIAN      /* K(r) = exp(-r^2 / 2), truncated at r > 40 (K < 1e-300)      */
} StgssaKernel;

/* {"wendland", "triangular", "gaussian", "StgssaKernel", "STGSSA_KERNEL_", NULL}: indexed by
   StgssaKernel; the trailing entries follow PETSc's PetscOptionsEnum() convention. */
extern const char *const StgssaKernelNames[];

/*
  Soft histogram of one value x over the integer bins b = 0..B-1 (r = |x - b| / h):

      p_b = K((x - b)/h) / sum_{b'=0}^{B-1} K((x - b')/h),      dpdx[b] = dp_b/dx.

  k     kernel
  h     bandwidth in count units, h > 0
  x     the (real-valued) count
  B     number of bins, B >= 1
  p     [B] output probabilities (sum to 1 up to roundoff)
  dpdx  [B] output derivatives dp_b/dx (sum to 0), or NULL

  Only the bins within the kernel support are computed; the rest of p and dpdx are zeroed with
  memset. Compact kernels (Wendland, triangular) touch the bins with |x - b| < h. The Gaussian
  kernel is evaluated relative to the nearest bin in 0..B-1 (a common factor, so p is unchanged)
  and truncated at |x - c| > 40 h around the clamped point c = min(max(x, 0), B-1): the
  neglected weights are below exp(-800) < 1e-300 relative to the nearest bin, i.e. exactly zero
  in double precision; hence the Gaussian soft histogram never degenerates, and far outside the
  range it concentrates smoothly on the edge bin.
  If every kernel value is 0 (compact kernel and x at distance >= h from every bin), p is
  one-hot at the nearest bin, floor(x + 1/2) clamped to 0..B-1, and dpdx = 0.
  Derivative conventions at kinks: the triangular kernel uses dK/dr = 0 at r = 0 (sign(0) = 0)
  and 0 at r = 1 (support is r < 1); Wendland C2 has no kinks. With h <= 1 and integer x the
  Wendland and triangular histograms are one-hot with dpdx = 0.
  Invalid input (B < 1, h not > 0, x not finite) leaves p = 0 and dpdx = 0 when B >= 1.
*/
void StgssaSoftHistogram(StgssaKernel k, double h, double x, int B, double *p, double *dpdx);

/*
  The support window of StgssaSoftHistogram(): on return bins *lo..*hi (inclusive) are the only
  ones that may be nonzero in p or dpdx, so a caller accumulating many samples into one histogram
  can loop over this window only. Returns *hi - *lo + 1 (>= 1), or 0 on invalid input.
  StgssaSoftHistogramSparse() writes exactly these entries.
*/
int StgssaSoftHistogramSupport(StgssaKernel k, double h, double x, int B, int *lo, int *hi);

/*
  Same as StgssaSoftHistogram() but writes only the window: p[i] and dpdx[i] (dpdx may be NULL)
  are the values for bin *lo + i, i = 0..n-1, where n is the return value (n = 0 on invalid input).
  The buffers must hold StgssaSoftHistogramMaxWidth(k, h, B) entries.
*/
int StgssaSoftHistogramSparse(StgssaKernel k, double h, double x, int B, int *lo, double *p, double *dpdx);

/* Upper bound on the window width returned by StgssaSoftHistogramSupport() for any x (<= B). */
int StgssaSoftHistogramMaxWidth(StgssaKernel k, double h, int B);

/* ---------------------------------------------------------------- moments */

/*
  Central moments from raw moments (m1, m2, m3) = (E x, E x^2, E x^3):
      mean = m1,  var = m2 - m1^2,  c3 = m3 - 3 m1 m2 + 2 m1^3.

  raw      [3] raw moments
  central  [3] output (mean, var, c3)
  jac      [9] output, row-major d central_i / d raw_j, or NULL
*/
void StgssaCentralMoments(const double raw[3], double central[3], double jac[9]);

/*
  Relative squared error of the first norders central moments:
      L = sum_{k < norders} ((c_k - d_k) / s_k)^2,   s_k = max(|d_k|, floor),
  with c = StgssaCentralMoments(raw).

  norders   number of moments compared, 1..3 (mean; mean, var; mean, var, c3)
  raw       [3] model raw moments (E x, E x^2, E x^3); raw[k] for k >= norders may be anything
            finite (use 0) when unused, it receives zero gradient
  data      [3] data central moments (mean, var, c3); entries k >= norders are ignored
  floor     > 0, lower bound on the scale s_k (guards data moments near 0, e.g. a symmetric c3)
  grad_raw  [3] output dL/draw_j, or NULL

  Returns L, or NAN (zero gradient) if norders is outside 1..3 or floor is not > 0.
*/
double StgssaLossMoments(int norders, const double raw[3], const double data[3], double floor, double grad_raw[3]);

/* ---------------------------------------------------------------- distributions */

typedef enum {
  STGSSA_DIST_KL = 0,    /* KL(data || model)            */
  STGSSA_DIST_HELLINGER, /* squared Hellinger distance    */
  STGSSA_DIST_W1         /* Wasserstein-1 on unit bins    */
} StgssaDistance;

/* {"kl", "hellinger", "w1", "StgssaDistance", "STGSSA_DIST_", NULL} (PetscOptionsEnum() convention). */
extern const char *const StgssaDistanceNames[];

/*
  Distance between model and data count distributions over bins 0..B-1. Both are smoothed:
      p~_b = (p_b + alpha) / (sum_c p_c + B alpha),   q~_b = (q_b + alpha) / (sum_c q_c + B alpha).
  KL:        L = sum_b q~_b log(q~_b / p~_b)              (terms with q~_b = 0 are 0)
  Hellinger: L = 1 - sum_b sqrt(p~_b q~_b)
  W1:        L = sum_{b=0}^{B-2} |P_b - Q_b|,  P_b = sum_{c<=b} p~_c,  Q_b = sum_{c<=b} q~_c
  Gradient through the renormalization (sum p is a variable, Z = sum p + B alpha):
      dL/dp_b = (g_b - sum_c g_c p~_c) / Z,   g_c = dL/dp~_c.
  W1 is not differentiable where P_b = Q_b; there sign(0) = 0 is used (so p = q gives grad 0).

  d       distance
  B       number of bins, B >= 1
  p       [B] model probabilities (e.g. mean soft histogram), p_b >= 0, sum > 0 unless alpha > 0
  q       [B] data probabilities over the same bins (data mass >= B-1 lumped into bin B-1)
  alpha   >= 0, Dirichlet pseudo-probability added to every bin of both distributions
  grad_p  [B] output dL/dp_b, or NULL

  Returns L. Invalid input (B < 1, alpha < 0, unknown d, Z or the q normalizer not > 0) gives NAN
  and a zero gradient. With alpha = 0: KL is +INFINITY when some p~_b = 0 < q~_b (gradient set to
  zero, unusable); Hellinger stays finite but dL/dp_b = -INFINITY for those bins.
*/
double StgssaLossDistribution(StgssaDistance d, int B, const double *p, const double *q, double alpha, double *grad_p);

/*
  Negative log-likelihood of binned counts c_b (cells with count b; the last bin may lump the
  tail) under a model distribution p over bins 0..B-1, with a pseudo-probability alpha per bin
  as a floor (so a bin the model misses costs a finite -log(alpha/Z), never NaN):
      p~_b = (u_b + alpha) / Z,   u_b = max(p_b, 0),   Z = sum_c u_c + B alpha,
      L = -sum_b c_b log p~_b,
      dL/dp_b = -c_b / (u_b + alpha) + C / Z,   C = sum_c c_c   (the first term 0 where c_b = 0).
  grad_p  [B] output dL/dp_b, or NULL
  Returns L. Invalid input (B < 1, alpha < 0 or not finite, Z not > 0, a count < 0) gives NAN and a
  zero gradient; with alpha = 0 and c_b > 0 where p~_b = 0, +INFINITY (zero gradient).
*/
double StgssaLossNegLogLikelihood(int B, const double *p, const double *c, double alpha, double *grad_p);

/* ---------------------------------------------------------------- design / stochastic thermodynamics */

/*
  Thermodynamic-uncertainty efficiency of a time-integrated current J with total entropy
  production Sigma (k_B = 1), from ensemble means:
      Q = 2 <J>^2 / (Var J * <Sigma>),   Var J = <J^2> - <J>^2,
  so the TUR reads Q <= 1.

  mJ, mJ2, mS  the means <J>, <J^2>, <Sigma>
  grad         [3] output (dQ/dmJ, dQ/dmJ2, dQ/dmS), or NULL

  Returns Q, or NAN (zero gradient) when Var J <= 0 or mS <= 0 (or an input is not finite).
*/
double StgssaTURQ(double mJ, double mJ2, double mS, double grad[3]);

/*
  Quadratic hinge penalty for an upper budget (entropy production, activity, ...):
      P = weight * max(0, value - budget)^2,   dP/dvalue = 2 weight max(0, value - budget).

  value    the constrained quantity
  budget   its upper bound
  weight   penalty weight (>= 0)
  dvalue   output dP/dvalue, or NULL
*/
double StgssaPenaltyUpper(double value, double budget, double weight, double *dvalue);

#endif
