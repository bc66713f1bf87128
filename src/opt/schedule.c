/* SPDX-License-Identifier: BSD-2-Clause */
/* StgssaSchedule: norm test, averaging window and stopping rule of the stochastic route
   (include/stgssa/schedule.h has the equations). */
#include <stgssa/schedule.h>

PetscErrorCode StgssaScheduleInit(StgssaSchedule *s, PetscBool adaptive, PetscInt n0, PetscInt nmax, PetscReal eta, PetscReal factor, PetscInt window, PetscReal nse)
{
  PetscFunctionBegin;
  PetscCheck(n0 >= 2, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "StgssaSchedule: start sample size %" PetscInt_FMT " must be >= 2", n0);
  PetscCheck(nmax >= n0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_ntraj_max %" PetscInt_FMT " must be >= -stgssa_ntraj %" PetscInt_FMT, nmax, n0);
  PetscCheck(eta > 0 && PetscIsNormalReal(eta), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_norm_test_eta %g must be finite and > 0", (double)eta);
  PetscCheck(factor > 1 && PetscIsNormalReal(factor), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "StgssaSchedule: growth factor %g must be > 1", (double)factor);
  PetscCheck(window >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_stop_window %" PetscInt_FMT " must be >= 0", window);
  PetscCheck(nse > 0 && PetscIsNormalReal(nse), PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_stop_nse %g must be finite and > 0", (double)nse);
  s->adaptive = adaptive;
  s->n0       = n0;
  s->nmax     = adaptive ? nmax : n0;
  s->eta      = eta;
  s->factor   = factor;
  s->window   = window;
  s->nse      = nse;
  s->n        = n0;
  s->k_first  = -1;
  s->k_cap    = -1;
  s->quiet    = 0;
  s->k_last   = -1;
  s->k_grow   = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaScheduleUpdate(StgssaSchedule *s, PetscInt k, PetscInt P, const PetscReal g[], const PetscReal se[], PetscBool *grew, PetscBool *stop)
{
  const PetscReal *gk = &g[k * P], *sek = &se[k * P];
  PetscReal        g2 = 0, v = 0; /* ||g_k||^2, sum_p se_kp^2 */
  PetscBool        up = PETSC_FALSE, quiet = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCheck(k == s->k_last + 1, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "StgssaSchedule: iteration %" PetscInt_FMT " after %" PetscInt_FMT " (updates must come in order)", k, s->k_last);
  for (PetscInt p = 0; p < P; p++) {
    g2 += gk[p] * gk[p];
    v += sek[p] * sek[p];
  }
  s->k_last = k;
  if (s->n >= s->nmax && s->k_cap < 0) s->k_cap = k;
  /* norm test for the next evaluation */
  if (v > s->eta * s->eta * g2) {
    if (s->k_first < 0) s->k_first = k;
    if (s->n < s->nmax) {
      const PetscReal nn = PetscCeilReal(s->factor * (PetscReal)s->n);
      s->n               = nn >= (PetscReal)s->nmax ? s->nmax : (PetscInt)nn;
      up                 = PETSC_TRUE;
      s->k_grow          = k + 1;
    }
  }
  /* stopping rule over the averaging window from the cap on (a small gradient at a small sample
     size is noise), j = j0..k with at least W entries: the mean gradient gbar_p = (1/m) sum_j g_jp
     (for a quadratic loss exactly the gradient at the averaged iterate) has the standard errors
     s_p = sqrt(sum_j se_jp^2)/m (fresh draws each evaluation); stop when the z-scores satisfy
     sum_p (gbar_p / s_p)^2 <= c^2 P (root-mean-square z-score <= c). Per coordinate, so a noisy
     coordinate cannot hide a significant one; the window grows with the run, and so does the
     power of the test. */
  if (s->window > 0 && s->k_cap >= 0) {
    const PetscInt j0 = PetscMax(StgssaScheduleAverageStart(s, k), s->k_cap), m = k - j0 + 1;
    if (m >= s->window) {
      PetscReal z2 = 0;
      for (PetscInt p = 0; p < P; p++) {
        PetscReal sum = 0, var = 0;
        for (PetscInt j = j0; j <= k; j++) {
          sum += g[j * P + p];
          var += se[j * P + p] * se[j * P + p];
        }
        if (var > 0)
          z2 += sum * sum / var; /* (sum/m)^2 / (var/m^2) */
        else if (sum != 0)
          z2 = PETSC_INFINITY; /* a gradient without noise: only an exact zero is zero */
      }
      quiet = (PetscBool)(z2 <= s->nse * s->nse * (PetscReal)P);
    }
  }
  s->quiet = quiet ? s->quiet + 1 : 0;
  if (grew) *grew = up;
  if (stop) *stop = quiet;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaScheduleStall(StgssaSchedule *s, PetscInt k, const PetscReal loss[], PetscInt W, PetscBool *grew)
{
  PetscInt jbest = s->k_grow;

  PetscFunctionBegin;
  PetscCheck(k == s->k_last, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "StgssaScheduleStall: iteration %" PetscInt_FMT " but the last update was %" PetscInt_FMT, k, s->k_last);
  PetscCheck(W >= 1, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "StgssaScheduleStall: window %" PetscInt_FMT " must be >= 1", W);
  if (grew) *grew = PETSC_FALSE;
  if (!s->adaptive || s->n >= s->nmax || s->k_grow > k) PetscFunctionReturn(0);
  for (PetscInt j = s->k_grow + 1; j <= k; j++)
    if (loss[j] < loss[jbest]) jbest = j; /* NaN never wins */
  if (k - jbest >= W) {
    const PetscReal nn = PetscCeilReal(s->factor * (PetscReal)s->n);
    s->n               = nn >= (PetscReal)s->nmax ? s->nmax : (PetscInt)nn;
    s->k_grow          = k + 1;
    if (s->k_first < 0) s->k_first = k;
    if (grew) *grew = PETSC_TRUE;
  }
  PetscFunctionReturn(0);
}

PetscInt StgssaScheduleAverageStart(const StgssaSchedule *s, PetscInt K)
{
  if (s->k_first < 0 || s->k_first > K) return K;
  return PetscMax(s->k_first, K / 2);
}

PetscErrorCode StgssaScheduleAverage(const StgssaSchedule *s, PetscInt K, PetscInt P, const PetscReal theta[], PetscReal avg[])
{
  const PetscInt start = StgssaScheduleAverageStart(s, K);

  PetscFunctionBegin;
  PetscCheck(K >= 0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "StgssaScheduleAverage: no iterate");
  /* sum in iteration order: the same rounding on every rank and after a restart */
  for (PetscInt p = 0; p < P; p++) {
    PetscReal sum = 0;
    for (PetscInt j = start; j <= K; j++)
      sum += theta[j * P + p];
    avg[p] = sum / (PetscReal)(K - start + 1);
  }
  PetscFunctionReturn(0);
}
