/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaSchedule: what makes score/stgs + Adam converge (issue 15): the sample size per
  evaluation, the start of the step-size decay, the window of iterate averaging and the stopping
  rule, as pure functions of the sequence of (gradient, batch standard errors) per iteration.
  Nothing here draws random numbers or communicates, so the schedule is the same on every rank
  and a restart rebuilds it exactly by replaying the stored history (StgssaScheduleUpdate over
  /checkpoint/history_gradient and history_gradient_stderr).

  Norm test (Byrd, Chin, Nocedal & Wu, Math. Program. 134, 2012, eq. 2.5 with the sample
  variance of the estimate): with g the gradient estimate of iteration k and se_p its batch
  standard errors,
      sum_p se_p^2 > eta^2 ||g||^2      (the noise is larger than the signal)
  multiplies the trajectories of the following evaluations by `factor`, up to nmax.
  k_first: the first iteration where the test failed (noise reached the signal: the descent is
  over); k_cap: the first iteration evaluated with nmax trajectories.
  Averaging (Polyak-Ruppert, in log-rate space): the result at iteration K is the mean of the
  iterates j = s..K with s = max(k_first, floor(K/2)), the later half of the part of the run
  after the descent; s = K (the last iterate) if the test never failed.
  Stopping rule: over the averaging window from the cap on, j = max(s, k_cap)..K, at least W
  iterations long, the mean gradient gbar_p = (1/m) sum_j g_jp has standard errors
  s_p = sqrt(sum_j se_jp^2)/m (independent draws per evaluation); stop when
  sum_p (gbar_p/s_p)^2 <= c^2 P, a root-mean-square z-score <= c. For a quadratic loss gbar is the
  gradient at the averaged iterate: the rule asks that the result be stationary to within the
  noise, coordinate by coordinate (a noisy coordinate cannot hide a significant one), and its
  power grows with the window, so a small but steady gradient that single noisy ones hide (a
  weakly determined direction Adam still follows) keeps the run going.
  With `adaptive` false the sample size stays n0 and counts as capped from iteration 0 (the test
  still dates k_first).
*/
#ifndef STGSSA_SCHEDULE_H
#define STGSSA_SCHEDULE_H

#include <petscsys.h>

typedef struct {
  /* settings */
  PetscBool adaptive; /* grow the sample size by the norm test */
  PetscInt  n0, nmax; /* trajectories per evaluation at the start, cap */
  PetscReal eta;      /* norm-test constant */
  PetscReal factor;   /* growth factor of the sample size (> 1) */
  PetscInt  window;   /* W: shortest window of the stopping rule, iterations (0: no stopping rule) */
  PetscReal nse;      /* c of the stopping rule */
  /* state after the updates of iterations 0..k */
  PetscInt n;       /* trajectories of the next evaluation */
  PetscInt k_first; /* first iteration where the norm test failed (-1: none yet) */
  PetscInt k_cap;   /* first iteration evaluated with nmax trajectories (-1: none yet) */
  PetscInt quiet;   /* consecutive iterations at which the stopping rule held */
  PetscInt k_last;  /* last iteration updated (-1: none) */
  PetscInt k_grow;  /* first iteration evaluated with the current sample size */
} StgssaSchedule;

/* Settings checked (n0 >= 2, nmax >= n0, eta > 0, factor > 1, window >= 0, nse > 0); state reset. */
PETSC_EXTERN PetscErrorCode StgssaScheduleInit(StgssaSchedule *, PetscBool adaptive, PetscInt n0, PetscInt nmax, PetscReal eta, PetscReal factor, PetscInt window, PetscReal nse);
/* Iteration k (= the previous k + 1), evaluated with s->n trajectories, gave the gradient and
   standard errors in row k of g and se, the histories [(k+1) x P] row-major (the stopping rule
   reads the last W rows). On return s->n is the sample size of the next evaluation;
   grew: whether it changed; stop: whether the stopping rule holds. Either output may be NULL. */
PETSC_EXTERN PetscErrorCode StgssaScheduleUpdate(StgssaSchedule *, PetscInt k, PetscInt P, const PetscReal g[], const PetscReal se[], PetscBool *grew, PetscBool *stop);
/* Stall rule, after StgssaScheduleUpdate of iteration k when that did not grow the sample: if
   the lowest loss since the sample size last changed is W or more iterations old (loss[j] for
   j = k_grow..k), the iterates are bouncing around a minimum of the loss this sample size can
   resolve (its noise, and the bias of estimators such as the SSA likelihood's, shrink with it):
   grow the sample size as the norm test does, and date k_first if the norm test has not. A
   minimizer that overshoots with a noisy or biased curvature (Fisher scoring) shows this before
   its gradient noise reaches the norm test. Pure function of the loss history: replayed on
   restart like the norm test. grew may be NULL. */
PETSC_EXTERN PetscErrorCode StgssaScheduleStall(StgssaSchedule *, PetscInt k, const PetscReal loss[], PetscInt W, PetscBool *grew);
/* First iterate of the average at iteration K (see above). */
PETSC_EXTERN PetscInt StgssaScheduleAverageStart(const StgssaSchedule *, PetscInt K);
/* avg[P] = mean of the rows s..K of theta[(K+1) x P] (row-major), s = StgssaScheduleAverageStart(). */
PETSC_EXTERN PetscErrorCode StgssaScheduleAverage(const StgssaSchedule *, PetscInt K, PetscInt P, const PetscReal theta[], PetscReal avg[]);

#endif
