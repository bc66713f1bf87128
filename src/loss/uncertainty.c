/* SPDX-License-Identifier: BSD-2-Clause */
/* Fisher information, standard errors, correlations and identifiability words (see include/stgssa/uncertainty.h). */
#include <math.h>
#include <string.h>
#include <stgssa/uncertainty.h>
#include <petscblaslapack.h>
#include "../stgssa_impl.h"

/* squared weight of a parameter on the null directions above which it counts as not identified */
#define NULL_WEIGHT 1e-6

/* The SSA route's plug-in F over the bins the ensemble samples well (p_b >= pmin):
     F += n sum_{b: p_b >= pmin} (dq_b dq_b^T - C_b / Z^2) / q_b,
   C_b = sum_k (d_kb - dbar_b)(d_kb - dbar_b)^T / (K (K - 1)) the covariance of the mean of the K
   batch estimates d_kb of dp_b (batch k at dpb + k*stride). Squaring an estimated dp
   overestimates dp dp^T by its covariance on average (E[dp^ dp^T] = dp dp^T + Cov dp^); the
   unbiased covariance estimate removes that. Bins with few trajectories are left out: there
   1/q_b amplifies the noise beyond what the correction can remove. */
void StgssaFisherAddBinnedSampled(int B, int P, const double *p, const double *dp, const double *dpb, size_t stride, int K, double alpha, double n, double pmin, double *F)
{
  /* K < 2: no correction; pmin = -inf: every bin (StgssaFisherAddBinned, the exact p and dp) */
  double Z = 0.0, s[256], dq[256], dbar[256], dev[256];
  if (B < 1 || P < 1 || P > 256) return;
  for (int b = 0; b < B; b++)
    Z += (p[b] > 0 ? p[b] : 0.0);
  Z += B * alpha;
  if (!(Z > 0)) return;
  for (int j = 0; j < P; j++) {
    s[j] = 0.0;
    for (int b = 0; b < B; b++)
      s[j] += dp[(size_t)b * P + j];
  }
  for (int b = 0; b < B; b++) {
    const double q = ((p[b] > 0 ? p[b] : 0.0) + alpha) / Z;
    if (!(q > 0) || (pmin > -PETSC_INFINITY && !(p[b] >= pmin))) continue;
    for (int j = 0; j < P; j++)
      dq[j] = (dp[(size_t)b * P + j] - q * s[j]) / Z;
    for (int i = 0; i < P; i++)
      for (int j = 0; j < P; j++)
        F[i * P + j] += n * dq[i] * dq[j] / q;
    if (K < 2) continue;
    for (int j = 0; j < P; j++) {
      dbar[j] = 0.0;
      for (int k = 0; k < K; k++) dbar[j] += dpb[k * stride + (size_t)b * P + j];
      dbar[j] /= K;
    }
    for (int k = 0; k < K; k++) {
      const double w = n / (Z * Z * q * (double)K * (double)(K - 1));
      for (int j = 0; j < P; j++) dev[j] = dpb[k * stride + (size_t)b * P + j] - dbar[j];
      for (int i = 0; i < P; i++)
        for (int j = 0; j < P; j++) F[i * P + j] -= w * dev[i] * dev[j];
    }
  }
}

/* F += n sum_b dq_b dq_b^T / q_b,  q_b = (u_b + alpha)/Z,  dq_b = (dp_b - q_b sum_c dp_c)/Z. */
void StgssaFisherAddBinned(int B, int P, const double *p, const double *dp, double alpha, double n, double *F)
{
  StgssaFisherAddBinnedSampled(B, P, p, dp, NULL, 0, 0, alpha, n, -PETSC_INFINITY, F);
}

PetscErrorCode StgssaUncertaintyCompute(PetscInt P, const PetscReal F[], PetscReal rtol, PetscReal evals[], PetscReal evecs[], PetscReal se[], PetscReal corr[], PetscInt *nnull)
{
  PetscBLASInt n, lwork, info;
  PetscReal   *A, *work, *C, *N, lmax;
  PetscInt     nn = 0;

  PetscFunctionBegin;
  PetscCheck(P >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Fisher information of %" PetscInt_FMT " parameters", P);
  PetscCheck(rtol > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "identifiability threshold must be positive, got %g", (double)rtol);
  for (PetscInt i = 0; i < P * P; i++)
    PetscCheck(PetscIsNormalReal(F[i]) || F[i] == 0, PETSC_COMM_SELF, PETSC_ERR_FP, "Fisher information entry (%" PetscInt_FMT ",%" PetscInt_FMT ") is %g", i / P, i % P, (double)F[i]);
  PetscCall(PetscBLASIntCast(P, &n));
  lwork = 3 * n + 64;
  PetscCall(PetscMalloc4(P * P, &A, lwork, &work, P * P, &C, P * P, &N));
  /* symmetrized copy; LAPACK is column-major, a symmetric matrix is the same either way */
  for (PetscInt i = 0; i < P; i++)
    for (PetscInt j = 0; j < P; j++)
      A[i * P + j] = 0.5 * (F[i * P + j] + F[j * P + i]);
  PetscCall(PetscFPTrapPush(PETSC_FP_TRAP_OFF));
  LAPACKsyev_("V", "U", &n, A, &n, evals, work, &lwork, &info);
  PetscCall(PetscFPTrapPop());
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "LAPACK syev failed on the Fisher information (info %d)", (int)info);
  /* column k of A (column-major) is eigenvector k: component i at A[i + k*P] */
  for (PetscInt i = 0; i < P; i++)
    for (PetscInt k = 0; k < P; k++)
      evecs[i * P + k] = A[i + k * P];
  lmax = evals[P - 1];
  PetscCall(PetscArrayzero(C, P * P));
  PetscCall(PetscArrayzero(N, P * P));
  for (PetscInt k = 0; k < P; k++) {
    const PetscBool null = (PetscBool)(!(lmax > 0) || evals[k] <= rtol * lmax);
    if (null) nn++;
    for (PetscInt i = 0; i < P; i++)
      for (PetscInt j = 0; j < P; j++) {
        const PetscReal vv = evecs[i * P + k] * evecs[j * P + k];
        if (null)
          N[i * P + j] += vv;
        else
          C[i * P + j] += vv / evals[k];
      }
  }
  for (PetscInt i = 0; i < P; i++)
    se[i] = N[i * P + i] > NULL_WEIGHT ? (PetscReal)INFINITY : PetscSqrtReal(C[i * P + i]);
  for (PetscInt i = 0; i < P; i++)
    for (PetscInt j = 0; j < P; j++) {
      const PetscBool ni = (PetscBool)(N[i * P + i] > NULL_WEIGHT), nj = (PetscBool)(N[j * P + j] > NULL_WEIGHT);
      PetscReal       r;
      if (i == j)
        r = 1.0;
      else if (ni && nj)
        r = N[i * P + j] / PetscSqrtReal(N[i * P + i] * N[j * P + j]);
      else if (ni || nj)
        r = 0.0;
      else
        r = C[i * P + j] / PetscSqrtReal(C[i * P + i] * C[j * P + j]);
      corr[i * P + j] = PetscMax(-1.0, PetscMin(1.0, r));
    }
  if (nnull) *nnull = nn;
  PetscCall(PetscFree4(A, work, C, N));
  PetscFunctionReturn(0);
}

void StgssaUncertaintyInterval(PetscInt P, const PetscReal theta[], const PetscReal se[], PetscReal z, PetscReal ci[])
{
  for (PetscInt p = 0; p < P; p++) {
    if (isinf(se[p])) {
      ci[2 * p]     = 0.0;
      ci[2 * p + 1] = INFINITY;
    } else {
      ci[2 * p]     = exp(theta[p] - z * se[p]);
      ci[2 * p + 1] = exp(theta[p] + z * se[p]);
    }
  }
}

/* "only a/b ≈ R" (ratio = PETSC_TRUE) or "only a*b ≈ R", larger first. */
static PetscErrorCode StgssaCombination(const char *a, const char *b, PetscReal ta, PetscReal tb, PetscBool ratio, char *s, size_t len)
{
  PetscFunctionBegin;
  if (ratio) {
    if (ta >= tb)
      PetscCall(PetscSNPrintf(s, len, "only %s/%s ≈ %.3g is determined", a, b, (double)PetscExpReal(ta - tb)));
    else
      PetscCall(PetscSNPrintf(s, len, "only %s/%s ≈ %.3g is determined", b, a, (double)PetscExpReal(tb - ta)));
  } else
    PetscCall(PetscSNPrintf(s, len, "only the product %s*%s ≈ %.3g is determined", ta >= tb ? a : b, ta >= tb ? b : a, (double)PetscExpReal(ta + tb)));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaUncertaintyDescribe(PetscInt P, const char *const names[], const PetscReal theta[], const PetscReal evals[], const PetscReal evecs[], const PetscReal corr[], PetscReal rtol, PetscReal corr_max, char buf[], size_t len,
                                         PetscInt *nnamed)
{
  PetscBool *named;
  PetscInt   count = 0;
  char       line[1024], comb[512];
  PetscReal  lmax = evals[P - 1];

  PetscFunctionBegin;
  buf[0] = 0;
  PetscCall(PetscCalloc1(P * P, &named));
  /* null directions, smallest eigenvalue first */
  for (PetscInt k = 0; k < P; k++) {
    PetscInt  a = -1, b = -1;
    PetscReal wa = 0, wb = 0;
    if (lmax > 0 && evals[k] > rtol * lmax) break;
    for (PetscInt i = 0; i < P; i++) {
      const PetscReal w = evecs[i * P + k] * evecs[i * P + k];
      if (w > wa) {
        b = a, wb = wa;
        a = i, wa = w;
      } else if (w > wb)
        b = i, wb = w;
    }
    if (wa >= 0.9)
      PetscCall(PetscSNPrintf(line, sizeof(line), "%s is not identifiable from these data\n", names[a]));
    else if (b >= 0 && wa + wb >= 0.9) {
      /* moving both log-rates along v leaves the fit unchanged: same signs keep the ratio */
      PetscCall(StgssaCombination(names[a], names[b], theta[a], theta[b], (PetscBool)(evecs[a * P + k] * evecs[b * P + k] > 0), comb, sizeof(comb)));
      PetscCall(PetscSNPrintf(line, sizeof(line), "%s and %s are not identifiable separately: %s\n", names[a], names[b], comb));
      named[a * P + b] = named[b * P + a] = PETSC_TRUE;
    } else {
      size_t l;
      PetscCall(PetscStrcpy(line, "the combination"));
      for (PetscInt i = 0; i < P; i++) {
        const PetscReal v = evecs[i * P + k];
        if (v * v < 1e-4) continue;
        PetscCall(PetscStrlen(line, &l));
        PetscCall(PetscSNPrintf(line + l, sizeof(line) - l, " %s %.2f log %s", v < 0 ? "-" : "+", (double)PetscAbsReal(v), names[i]));
      }
      PetscCall(StgssaStrlcat(line, " is not identifiable from these data\n", sizeof(line)));
      for (PetscInt i = 0; i < P; i++)
        for (PetscInt j = 0; j < P; j++)
          if (evecs[i * P + k] * evecs[i * P + k] >= 1e-4 && evecs[j * P + k] * evecs[j * P + k] >= 1e-4) named[i * P + j] = PETSC_TRUE;
    }
    PetscCall(StgssaStrlcat(buf, line, len));
    count++;
  }
  /* strongly correlated pairs not named yet */
  for (PetscInt i = 0; i < P; i++)
    for (PetscInt j = i + 1; j < P; j++) {
      const PetscReal r = corr[i * P + j];
      if (named[i * P + j] || !(PetscAbsReal(r) > corr_max)) continue;
      PetscCall(StgssaCombination(names[i], names[j], theta[i], theta[j], (PetscBool)(r > 0), comb, sizeof(comb)));
      PetscCall(PetscSNPrintf(line, sizeof(line), "%s and %s are confounded (correlation %.4f): %s\n", names[i], names[j], (double)r, comb));
      PetscCall(StgssaStrlcat(buf, line, len));
      count++;
    }
  if (!count) {
    PetscReal rmax = 0;
    PetscInt  a = 0, b = 0;
    for (PetscInt i = 0; i < P; i++)
      for (PetscInt j = i + 1; j < P; j++)
        if (PetscAbsReal(corr[i * P + j]) > rmax) rmax = PetscAbsReal(corr[i * P + j]), a = i, b = j;
    if (P > 1)
      PetscCall(PetscSNPrintf(line, sizeof(line), "all fitted rates are identified (largest |correlation| %.3f: %s, %s)\n", (double)rmax, names[a], names[b]));
    else
      PetscCall(PetscSNPrintf(line, sizeof(line), "the fitted rate is identified\n"));
    PetscCall(StgssaStrlcat(buf, line, len));
  }
  if (nnamed) *nnamed = count;
  PetscCall(PetscFree(named));
  PetscFunctionReturn(0);
}
