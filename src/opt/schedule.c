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
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaScheduleUpdate(StgssaSchedule *s, PetscInt k, PetscInt P, const PetscReal g[], const PetscReal se[], PetscBool *grew, PetscBool *stop)
{
  PetscReal g2 = 0, v = 0; /* ||g||^2, sum_p se_p^2 */
  PetscBool up = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCheck(k == s->k_last + 1, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONGSTATE, "StgssaSchedule: iteration %" PetscInt_FMT " after %" PetscInt_FMT " (updates must come in order)", k, s->k_last);
  for (PetscInt p = 0; p < P; p++) {
    g2 += g[p] * g[p];
    v += se[p] * se[p];
  }
  s->k_last = k;
  if (s->n >= s->nmax && s->k_cap < 0) s->k_cap = k;
  /* stopping rule, at the cap only: a small gradient at a small sample size is noise */
  if (s->k_cap >= 0) s->quiet = (g2 <= s->nse * s->nse * v) ? s->quiet + 1 : 0;
  /* norm test for the next evaluation */
  if (v > s->eta * s->eta * g2) {
    if (s->k_first < 0) s->k_first = k;
    if (s->n < s->nmax) {
      const PetscReal nn = PetscCeilReal(s->factor * (PetscReal)s->n);
      s->n = nn >= (PetscReal)s->nmax ? s->nmax : (PetscInt)nn;
      up   = PETSC_TRUE;
    }
  }
  if (grew) *grew = up;
  if (stop) *stop = (PetscBool)(s->window > 0 && s->quiet >= s->window);
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
    for (PetscInt j = start; j <= K; j++) sum += theta[j * P + p];
    avg[p] = sum / (PetscReal)(K - start + 1);
  }
  PetscFunctionReturn(0);
}
