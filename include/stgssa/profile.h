/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaProfile: profile-likelihood intervals of fitted log-rates on the exact route
  (-stgssa_profile [NAME,...], optimize mode with -stgssa_gradient fsp or auto choosing fsp,
  -stgssa_loss likelihood).

  For a profiled log-rate theta_p the profile is
      l_p(t) = min over the other log-rates of -log L(theta)  with theta_p = t   (total -log L),
  and the 95% interval is {t : l_p(t) - l_min <= chi2_{1,0.95}/2 = 1.92} (Wilks), l_min the
  -log L of the fit. On each side t = theta^_p +/- h is walked outwards (first h = 1.96 se_p of
  the Fisher information, 0.1 when se_p is infinite), each point an inner blmvm solve over the
  other P - 1 log-rates warm-started from the nearest point already solved; once
  l_p - l_min brackets 1.92 the crossing is refined by interpolation of sqrt(l_p - l_min)
  (linear in h for a quadratic profile) until the bracket is narrower than
  -stgssa_profile_tol (log-rate units). No crossing within |h| <= log(-stgssa_profile_range)
  (or the -stgssa_bounds of theta_p): that side is unbounded (0 or +inf in rate units).
*/
#ifndef STGSSA_PROFILE_H
#define STGSSA_PROFILE_H

#include <stgssa/evaluator.h>
#include <stgssa/objective.h>
#include <petscviewer.h>

typedef struct _p_StgssaProfile *StgssaProfile;

PETSC_EXTERN PetscErrorCode StgssaProfileCreate(MPI_Comm, StgssaProfile *);
PETSC_EXTERN PetscErrorCode StgssaProfileSetFromOptions(StgssaProfile);
/* Whether -stgssa_profile was given. */
PETSC_EXTERN PetscErrorCode StgssaProfileIsActive(StgssaProfile, PetscBool *);
/* Check the route (exact: FSP), the loss (likelihood) and the names; lo/hi [P]: log-rate bounds
   of the fitted parameters (-inf/+inf where none). Collective; before the fit. */
PETSC_EXTERN PetscErrorCode StgssaProfileSetUp(StgssaProfile, StgssaEvaluator, StgssaObjective, const PetscReal lo[], const PetscReal hi[]);
/* Collective, after StgssaObjectiveSummarize at the optimum theta (length P): the profiles.
   Leaves the evaluator and objective evaluated at theta again. */
PETSC_EXTERN PetscErrorCode StgssaProfileCompute(StgssaProfile, const PetscReal theta[]);
/* The table beside the Fisher intervals. */
PETSC_EXTERN PetscErrorCode StgssaProfileView(StgssaProfile, const char *const names[], PetscViewer);
/* Rank 0, into /result: profile_ci95 [P x 2] (rate units; NaN where not profiled),
   profile/<name> [n x 2] (log-rate, total -log L; sorted), profile_log_rates/<name> [n x P]. */
PETSC_EXTERN PetscErrorCode StgssaProfileWriteHDF5(StgssaProfile, hid_t group);
PETSC_EXTERN PetscErrorCode StgssaProfileDestroy(StgssaProfile *);

#endif
