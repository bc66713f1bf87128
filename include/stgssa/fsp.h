/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaFSP: the exact distribution of a small network by the finite state projection of the
  chemical master equation (FSP-CME, DESIGN.md section 2), with its sensitivities to the
  log-rates theta_p = log k_p.

  The projection holds the states reachable from x0 (breadth-first over the reactions) with
  every species s at most its bound: given (-stgssa_fsp_max S=N, fixed), else automatic
  (-stgssa_fsp_grow, default): x0_s + 32 (2 x0_s if larger) at first, doubled (b -> 2b + 1) by
  StgssaFSPSolve for the species through whose bound probability leaks when the lost mass
  exceeds -stgssa_fsp_tol, and solved again, as long as the projection stays within
  -stgssa_fsp_max_states (a species never reaching its automatic bound is bounded by
  reachability: View says "reachable from x0"). Automatic bounds are kept across solves and
  set-ups (a new model clears them). On it
      dp/dt = A p,   A[i][j] = sum of a_r(x_j) over reactions r taking x_j to x_i,
                     A[j][j] = -sum_r a_r(x_j)   (including jumps out of the projection),
  so probability leaving the projection is lost and measured. dA_p = dA/dtheta_p holds the
  entries of the reactions whose rate parameter is p (a_r is linear in k_r), and for reactions
  with a rate law (issue 7) k_p da_r/dk_p from StgssaPropensityGrad (a law may read several
  parameters, through inputs too). A law reaction whose propensity is exactly 0 at a state (at
  t = 0, and with no positive bound over the transient's time range when it depends on time) is
  no transition there; the structure is rebuilt when new parameter values make it nonzero. A
  negative, NaN or infinite propensity met while assembling is an error naming the reaction,
  the time and the state (StgssaPropensityCheck).

  Time-dependent propensities (laws reading t or input signals): when every law is affine in the
  inputs and does not read t (checked numerically at two more points per transition, 1e-10),
      A(t) = A_0 + sum_i u_i(t) A_i,  dA_q(t) = D_0q + sum_i (u_i(t) D_iq + w_iq(t) A_i),
  w_iq = k_q du_i/dk_q, with A_i, D_iq stored once per parameter set (-stgssa_fsp_affine); the
  integrator's time then only combines stored values (one rank holding the whole projection).
  Otherwise A(t) and dA_p(t) are re-assembled, for the rows holding time-dependent transitions,
  from the laws whenever the integrator asks for another time; the integration stops exactly at every breakpoint of a piecewise-constant
  table input (each piece is integrated with its own level; the step restarts after the jump).
  Steady state with time-dependent inputs: the generator with the inputs at t = 0.

  Transient (sample times t >= 0, from the point mass at x0): the augmented linear ODE
      dp/dt = A p,  ds_p/dt = A s_p + dA_p p,  p(0) = e_x0,  s_p(0) = 0
  (with -stgssa_initial steady: p(0) and s_p(0) are the steady state below at the t = 0 inputs
  and its sensitivities)
  integrated with PETSc TS (prefix fsp_; default ARKIMEX 5 fully implicit, rtol 1e-10,
  atol 1e-14), stopping exactly at each sample time. The implicit stages solve the block lower
  triangular (shift I - J) exactly with 1+P solves of K = shift I - A (prefix fsp_stage_; LU on
  one rank, GMRES + block Jacobi to 1e-13 on several). Lost mass = 1 - sum_i p_i(t), exact.
  Steady state (negative sample time, no times, or -stgssa_fsp_steady): A with the row of x0
  replaced by ones,  [A; 1^T] p = [0; 1],  which is the stationary law of the projection whose
  outflow re-enters at x0; sensitivities from the same factorization: [A; 1^T] s_p = -[dA_p p; 0].
  Solved with KSP (prefix fsp_; default LU with MUMPS, which pivots: absorbing states put zeros
  on the diagonal). Lost mass (an estimate) = the stationary probability of the boundary
  states, those from which some reaction leaves the projection: for tails that decay at least
  geometrically with ratio r <= 1/2 it bounds the mass beyond the bounds within a factor r/(1-r).

  Projections of at most -stgssa_fsp_redundant states (default 20000) are solved whole on every
  rank (PETSC_COMM_SELF objects, the same numbers on any rank count); larger ones are distributed.

  Results (marginals of every species over counts 0..bound and of every group of the model with
  integer weights, their derivatives, moments, lost mass) are held by every rank after
  StgssaFSPSolve().
*/
#ifndef STGSSA_FSP_H
#define STGSSA_FSP_H

#include <petscsys.h>
#include <petscviewer.h>
#include <petscmat.h>
#include <hdf5.h>
#include <stgssa/model.h>

typedef struct _p_StgssaFSP *StgssaFSP;

PETSC_EXTERN PetscErrorCode StgssaFSPCreate(MPI_Comm, StgssaFSP *);
PETSC_EXTERN PetscErrorCode StgssaFSPSetModel(StgssaFSP, StgssaModel);
/* Parameters to differentiate by (log-rates); default: every parameter of the model. */
PETSC_EXTERN PetscErrorCode StgssaFSPSetFit(StgssaFSP, PetscInt P, const char *const names[]);
/* Sample times: t >= 0 transient from x0 (ascending), t < 0 the steady state; nsample = 0: steady state only. */
PETSC_EXTERN PetscErrorCode StgssaFSPSetTimes(StgssaFSP, PetscInt nsample, const PetscReal times[]);
/* Upper bound of the count of one species (-stgssa_fsp_max name=bound); bound < 0 removes it. */
PETSC_EXTERN PetscErrorCode StgssaFSPSetBound(StgssaFSP, const char species[], PetscInt bound);
/* Initial distribution of the transient (-stgssa_initial): the point mass at x0, or the stationary
   distribution of the generator at t = 0 (with its sensitivities). */
typedef enum { STGSSA_FSP_INITIAL_X0, STGSSA_FSP_INITIAL_STEADY } StgssaFSPInitial;
PETSC_EXTERN const char *const StgssaFSPInitials[];
PETSC_EXTERN PetscErrorCode    StgssaFSPSetInitial(StgssaFSP, StgssaFSPInitial);
/* Largest acceptable lost probability mass (-stgssa_fsp_tol). */
PETSC_EXTERN PetscErrorCode StgssaFSPSetTolerance(StgssaFSP, PetscReal);
PETSC_EXTERN PetscErrorCode StgssaFSPSetFromOptions(StgssaFSP);
/* Collective: enumerate the projection, build the generator and its derivatives. An error
   (PETSC_ERR_ARG_OUTOFRANGE) when the projection with the current bounds exceeds
   -stgssa_fsp_max_states. StgssaFSPGetNumStates reports its size (with the first automatic
   bounds, before any growth; StgssaFSPEstimateSize gives the size that holds the mass). */
PETSC_EXTERN PetscErrorCode StgssaFSPSetUp(StgssaFSP);
/* Collective: solve at the model's current parameter values (re-assembles A, so parameters may
   change between solves), growing the automatic bounds while the lost mass exceeds the
   tolerance. Raises an error if the lost mass still exceeds it (the results are kept, so they
   can still be viewed), or see StgssaFSPSetSoftFailure. */
PETSC_EXTERN PetscErrorCode StgssaFSPSolve(StgssaFSP);
/* Failed solves. By default StgssaFSPSolve raises an error (PETSC_ERR_NOT_CONVERGED for a leak or a
   failed integrator or linear solve, PETSC_ERR_ARG_OUTOFRANGE for a projection over
   -stgssa_fsp_max_states). With StgssaFSPSetSoftFailure(f, PETSC_TRUE) it returns 0 instead and
   StgssaFSPGetFailed tells what happened (STGSSA_FSP_OK: the results are valid): an optimizer
   rejects the trial point (loss +inf) and goes on; the object stays usable for other parameter
   values (the projection is the last one that fitted). Errors that do not depend on the point
   (bad options, a propensity that is negative or NaN: a model error) are always raised. Collective;
   every rank gets the same verdict. msg: one line saying why (empty when OK). */
typedef enum {
  STGSSA_FSP_OK = 0,
  STGSSA_FSP_FAILED_LEAK,   /* lost mass over -stgssa_fsp_tol through a bound given with -stgssa_fsp_max */
  STGSSA_FSP_FAILED_SIZE,   /* holding the mass within -stgssa_fsp_tol needs more than -stgssa_fsp_max_states states */
  STGSSA_FSP_FAILED_SOLVER  /* the integrator or the steady-state linear solve failed */
} StgssaFSPFailure;
PETSC_EXTERN PetscErrorCode StgssaFSPSetSoftFailure(StgssaFSP, PetscBool);
PETSC_EXTERN PetscErrorCode StgssaFSPGetFailed(StgssaFSP, StgssaFSPFailure *, const char **msg);
/* Collective: whether the exact route fits, before a fit. Solves once at the model's current
   parameters (growing the automatic bounds as StgssaFSPSolve does, errors reported, not raised)
   and returns the number of states of the projection that holds the mass within -stgssa_fsp_tol
   (-1 if none was built) and fits = PETSC_FALSE when that needs more than -stgssa_fsp_max_states
   states. The bounds found are kept for later solves. Costs one solve (plus smaller ones while
   bounds grow). */
PETSC_EXTERN PetscErrorCode StgssaFSPEstimateSize(StgssaFSP, PetscInt *nstates, PetscBool *fits);
/* In a fit: a solve may grow the automatic bounds to at most factor x the states of the largest
   successful solve so far (the first solve is not limited; 0: no limit, the default). A point that
   needs more fails like a projection over -stgssa_fsp_max_states (STGSSA_FSP_FAILED_SIZE), so an
   optimizer rejects a far-out trial point instead of growing the projection for every later solve. */
PETSC_EXTERN PetscErrorCode StgssaFSPSetGrowthLimit(StgssaFSP, PetscReal factor);

/* Loss gradients by the adjoint method (src/fsp/adjoint.c). With StgssaFSPSetAdjoint(f, PETSC_TRUE)
   (and -stgssa_fsp_adjoint, default off) a solve on a projection one rank holds whole integrates p
   alone and keeps its steps: the marginals, lost mass and moments are as usual, their derivatives
   are 0 (not computed). StgssaFSPGetAdjoint says whether the last solve ran so (ready). Then the
   caller writes dL/d marginal for each sample and quantity it uses into the arrays of
   StgssaFSPGetAdjointWeights (zeroed by the solve; same layout as StgssaFSPGetMarginal's p), and
   StgssaFSPAdjointSolve (collective) returns grad[q] = sum over samples and bins of
   w * d marginal/d theta_q, the same as contracting the forward sensitivities, by one backward
   solve. Without adjoint mode (or on a distributed projection) solves carry the sensitivities. */
PETSC_EXTERN PetscErrorCode StgssaFSPSetAdjoint(StgssaFSP, PetscBool);
PETSC_EXTERN PetscErrorCode StgssaFSPGetAdjoint(StgssaFSP, PetscBool *ready);
PETSC_EXTERN PetscErrorCode StgssaFSPGetAdjointWeights(StgssaFSP, PetscInt itime, PetscInt species, PetscInt *nbins, PetscReal **w);
PETSC_EXTERN PetscErrorCode StgssaFSPAdjointSolve(StgssaFSP, PetscReal grad[]);
PETSC_EXTERN PetscErrorCode StgssaFSPGetNumStates(StgssaFSP, PetscInt *);
/* -stgssa_fsp_max_states (after SetFromOptions). */
PETSC_EXTERN PetscErrorCode StgssaFSPGetMaxStates(StgssaFSP, PetscInt *);
PETSC_EXTERN PetscErrorCode StgssaFSPGetTimes(StgssaFSP, PetscInt *nsample, const PetscReal **times);
PETSC_EXTERN PetscErrorCode StgssaFSPGetFit(StgssaFSP, PetscInt *P, const char *const **names);
/* The generator A and dA/dtheta_p (after SetUp; values of the last solve; for time-dependent
   propensities, at the last time the integrator evaluated). */
PETSC_EXTERN PetscErrorCode StgssaFSPGetOperators(StgssaFSP, Mat *A, const Mat **dA);
/* Marginal of species at sample itime: p[b] = P(x_species = b), b = 0..nbins-1; dp[b*P + q] = dp[b]/dtheta_q.
   species = S + g (S species in the model) gives group g of the model (StgssaModelDef.groups): the
   distribution of its weighted sum sum_t w_t x_{s_t}, summed over the projected states by their
   group value (an error for a group whose weights are not integers in [0, 2^31-1]). */
PETSC_EXTERN PetscErrorCode StgssaFSPGetMarginal(StgssaFSP, PetscInt itime, PetscInt species, PetscInt *nbins, const PetscReal **p, const PetscReal **dp);
PETSC_EXTERN PetscErrorCode StgssaFSPGetLostMass(StgssaFSP, PetscInt itime, PetscReal *);
/* Mean, variance, third central moment of the distribution in the projection (normalized by its
   mass) and their derivatives dm[k*P + q] by theta_q. */
PETSC_EXTERN PetscErrorCode StgssaFSPGetMoments(StgssaFSP, PetscInt itime, PetscInt species, PetscReal m[3], PetscReal dm[]);
/* Expression observables (issue 16): rule r of the model (StgssaModelDef.rules; one that reads
   counts and parameters only) at sample itime. Sums: sums[k] = sum_x p(x) f(x)^k, k = 0..3 (sums[0]
   the mass in the projection), dsums[k*P + q] = d sums[k]/d theta_q = sum_x s_q(x) f^k + p(x) k f^(k-1)
   df/dtheta_q. Moments: mean, variance, third central moment of f normalized by the mass, and
   dm[k*P + q] (as StgssaFSPGetMoments). In adjoint mode the derivatives are 0 (not computed). */
PETSC_EXTERN PetscErrorCode StgssaFSPGetRuleSums(StgssaFSP, PetscInt itime, PetscInt r, const PetscReal **sums, const PetscReal **dsums);
PETSC_EXTERN PetscErrorCode StgssaFSPGetRuleMoments(StgssaFSP, PetscInt itime, PetscInt r, PetscReal m[3], PetscReal dm[]);
/* The full distribution (only with -stgssa_fsp_full): states[i*S + s], p[i], dp[i*P + q]. */
PETSC_EXTERN PetscErrorCode StgssaFSPGetFull(StgssaFSP, PetscInt itime, PetscInt *nstates, const int64_t **states, const PetscReal **p, const PetscReal **dp);
PETSC_EXTERN PetscErrorCode StgssaFSPView(StgssaFSP, PetscViewer);
/* Scheduled events (src/fsp/events.c): the model's `begin events` (StgssaModelGetEvent), read at
   set-up. Each is a linear map on the distribution applied when the transient reaches its time (a
   sample at an event time sees the state before it, as in the SSA): divide / scale F: binomial
   thinning of the listed species; S = c, S += c, S -= c (clamped at 0). Targets over a bound are
   lost mass (the FSP error). The sensitivities pass through the same map (plus dK/dF p dF/dtheta for
   a scale whose F reads a fitted parameter; counts are rounded, so piecewise constant in theta).
   With events there is no steady state: steady samples and -stgssa_initial steady are refused.
   Adjoint mode is not used with events or correlations (forward sensitivities). */
PETSC_EXTERN PetscErrorCode StgssaFSPGetNumEvents(StgssaFSP, PetscInt *);
/* Two-time correlations (src/fsp/correlation.c): for each pair (A, B) of species or groups and lag
   tau_l, Cov(A(t_k), B(t_k + tau_l)) at every transient sample t_k, exactly via the propagator:
     Cov = sum_y B(y) [exp(tau Q)((A - E[A(t_k)]) .* p(t_k))](y)
   (events between t_k and t_k + tau applied on the way), with its derivatives (the sensitivity of
   the weighted vector propagated along). NaN where t_k + tau_l exceeds the horizon (-stgssa_tfinal,
   else the last sample time). Set by -stgssa_correlate (StgssaCorrelationFromOptions, include/stgssa/correlate.h)
   or here (lags of pair c: lags[lag_ptr[c] .. lag_ptr[c+1]-1]); names are resolved at set-up. */
PETSC_EXTERN PetscErrorCode StgssaFSPSetCorrelations(StgssaFSP, PetscInt npairs, const char *const a[], const char *const b[], const PetscInt lag_ptr[], const PetscReal lags[]);
/* cov[l], dcov[l*P + q] of pair c at sample itime, l over the pair's lags (NaN beyond the horizon or at a steady sample). */
PETSC_EXTERN PetscErrorCode StgssaFSPGetCorrelation(StgssaFSP, PetscInt itime, PetscInt pair, PetscInt *nlag, const PetscReal **lags, const PetscReal **cov, const PetscReal **dcov);
/* Write the /fsp group (rank 0 only, inside StgssaOutputWrite). */
PETSC_EXTERN PetscErrorCode StgssaFSPWriteHDF5(StgssaFSP, hid_t file);
PETSC_EXTERN PetscErrorCode StgssaFSPDestroy(StgssaFSP *);

#endif
