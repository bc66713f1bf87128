/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Uncertainty of fitted log-rates from the Fisher information (pure functions of (P, F); no MPI).

  For binned count data (n_t cells at data time t, model probabilities p_t(x) of the observed
  count) the Fisher information per log-rate theta = log k is
      I = sum_t n_t sum_x (dp_t(x)/dtheta) (dp_t(x)/dtheta)^T / p_t(x)           (P x P),
  exact when p and dp/dtheta come from the finite state projection; from an SSA ensemble the
  same formula is a plug-in estimate (p^ and the estimator's dp^/dtheta), biased upwards by the
  derivative noise (E[dp^ dp^^T] = dp dp^T + Cov dp^): standard errors too small at small N.
  Asymptotically theta^ ~ N(theta, I^{-1}). I = V diag(lambda) V^T (ascending eigenvalues);
  directions with lambda_k <= rtol * lambda_max are not identified (null directions). Then
      C = sum_{k identified} v_k v_k^T / lambda_k          (the pseudo-inverse),
      stderr_p = sqrt(C_pp), or +inf if theta_p has weight N_pp > 1e-6 on the null directions
      (N = sum_{k null} v_k v_k^T),
      correlation = the limit of (I + eps)^{-1} as eps -> 0: C_pq / sqrt(C_pp C_qq) when neither
      parameter touches a null direction, N_pq / sqrt(N_pp N_qq) when both do, 0 otherwise,
      95% interval in rate units: exp(theta_p -/+ 1.96 stderr_p)  ([0, inf] if not identified).
*/
#ifndef STGSSA_UNCERTAINTY_H
#define STGSSA_UNCERTAINTY_H

#include <stddef.h>
#include <petscsys.h>
#include <petscviewer.h>

/*
  F += n sum_b dq_b dq_b^T / q_b for the smoothed, normalized model distribution of the
  likelihood (StgssaLossNegLogLikelihood): q_b = (max(p_b,0) + alpha)/Z, Z = sum_c max(p_c,0) + B alpha,
  dq_b = (dp_b - q_b sum_c dp_c) / Z. dp is B x P row-major (dp[b*P + j] = d p_b / d theta_j);
  F is P x P row-major. Bins with q_b = 0 are skipped. P <= 256 (the evaluator's limit on fitted
  parameters); larger P or invalid input leaves F unchanged.
*/
PETSC_EXTERN void StgssaFisherAddBinned(int B, int P, const double *p, const double *dp, double alpha, double n, double *F);

/*
  The plug-in F of the SSA route: as StgssaFisherAddBinned over the bins with p_b >= pmin (bins
  the ensemble samples), less the noise that squaring an estimated dp adds, n Cov(dp^_b)/(Z^2 q_b),
  with the covariance of the mean estimated from K >= 2 batch estimates of dp (batch k at dpb +
  k*stride, B x P row-major each; K < 2: no correction). The result may be indefinite where the
  signal is below the noise.
*/
PETSC_EXTERN void StgssaFisherAddBinnedSampled(int B, int P, const double *p, const double *dp, const double *dpb, size_t stride, int K, double alpha, double n, double pmin, double *F);

/*
  Eigendecomposition of the symmetrized F (LAPACK syev) and the quantities above.
  rtol    relative eigenvalue threshold for identified directions (> 0)
  evals   [P] ascending eigenvalues;  evecs [P*P], evecs[i*P + k] = component i of eigenvector k
  se      [P] standard errors of theta (+inf where not identified)
  corr    [P*P] correlation (row-major)
  nnull   number of null directions (may be NULL)
*/
PETSC_EXTERN PetscErrorCode StgssaUncertaintyCompute(PetscInt P, const PetscReal F[], PetscReal rtol, PetscReal evals[], PetscReal evecs[], PetscReal se[], PetscReal corr[], PetscInt *nnull);

/* ci[2p], ci[2p+1] = exp(theta_p -/+ z se_p) (z = 1.96 for 95%); 0 and +inf for se_p = +inf. */
PETSC_EXTERN void StgssaUncertaintyInterval(PetscInt P, const PetscReal theta[], const PetscReal se[], PetscReal z, PetscReal ci[]);

/*
  Sentences naming the weakly identified directions, one per line, into buf (always terminated):
  - a null direction dominated by one log-rate: "k is not identifiable from these data";
    by two (weight >= 0.9): "a and b are not identifiable separately: only a/b ≈ R is determined"
    (same signs in the null vector: the ratio; opposite signs: the product a*b); otherwise the
    combination "... of 0.71 log a - 0.71 log b ... is not identifiable";
  - every other pair with |correlation| > corr_max (0.99): "a and b are confounded (correlation
    0.999): only a/b ≈ R is determined" (positive correlation: the ratio, negative: the product);
  - nothing of the above: "all fitted rates are identified (largest |correlation| 0.42: a, b)".
  Ratios and products are written with the larger value first (R >= 1 for ratios).
  Returns the number of directions named in *nnamed (may be NULL).
*/
PETSC_EXTERN PetscErrorCode StgssaUncertaintyDescribe(PetscInt P, const char *const names[], const PetscReal theta[], const PetscReal evals[], const PetscReal evecs[], const PetscReal corr[], PetscReal rtol, PetscReal corr_max, char buf[],
                                                      size_t len, PetscInt *nnamed);

#endif
