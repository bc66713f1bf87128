/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaODE: the mean-field (reaction-rate) ODE of a model and its forward sensitivities,
  integrated with PETSc TS (issue 18, -stgssa_mode ode, -stgssa_gradient ode):

      dx/dt = sum_j nu_j a_j(x, t),      x(0) = x0 (the model's initial counts),
      dS/dt = J(x, t) S + F(x, t),       S(0) = 0,  S = dx/dtheta (S x P),
      J = sum_j nu_j (da_j/dx)^T,        F_{:,p} = sum_j nu_j k_q da_j/dk_q  (theta_p = log k_q).

  a_j is the SSA propensity read at real-valued counts: mass action k_j prod_s C(x_s, r_js) with
  the combinatorial polynomial C(x, c) = x (x-1) ... (x-c+1) / c! (so 2X -> k x (x-1)/2, the exact
  propensity at integer x, not k x^2/2), and rate laws and inputs as the SSA reads them. For
  networks whose propensities are linear (affine) in the state, E[a_j(x)] = a_j(E x) and the ODE
  gives the exact means; otherwise (bimolecular reactions, nonlinear laws) it is the mean-field
  approximation. No variances: the ODE has none.

  The solve is serial and redundant on every rank (PETSC_COMM_SELF: a few species), so results
  are the same numbers for any rank count. TS options (-ts_type, -ts_rtol, -ts_atol, -ts_adapt_*,
  -ts_monitor, ...) are honored; default rk 5dp. The sensitivities are integrated with the state
  in one TS (src/ode/ode.c says why not TSForwardSetSensitivities), so any TS type works (bdf,
  arkimex, beuler for stiff models).
*/
#ifndef STGSSA_ODE_H
#define STGSSA_ODE_H

#include <stgssa/model.h>
#include <stgssa/ensemble.h>

typedef struct _p_StgssaODE *StgssaODE;

PETSC_EXTERN PetscErrorCode StgssaODECreate(MPI_Comm, StgssaODE *);
/* The model (its network's structure; the rates are those of the network given to Solve). */
PETSC_EXTERN PetscErrorCode StgssaODESetModel(StgssaODE, StgssaModel);
/* Fitted parameters: fit_param[p] = model parameter index of theta_p = log k (P may be 0). */
PETSC_EXTERN PetscErrorCode StgssaODESetFit(StgssaODE, PetscInt P, const PetscInt fit_param[]);
/* Output times (ascending, >= 0). */
PETSC_EXTERN PetscErrorCode StgssaODESetTimes(StgssaODE, PetscInt n, const PetscReal times[]);
/* -ts_* options (default: rk 5dp, -ts_rtol 1e-8, -ts_atol 1e-10). */
PETSC_EXTERN PetscErrorCode StgssaODESetFromOptions(StgssaODE);
PETSC_EXTERN PetscErrorCode StgssaODESetUp(StgssaODE);
/* Solve at the rates of net (a network of the model: its own, or a copy with other k and pv). */
PETSC_EXTERN PetscErrorCode StgssaODESolve(StgssaODE, const StgssaNetwork *net);
/* After Solve: x [T*S] (x[i*S + s] = mean of species s at time i) and dx [T*S*P]
   (dx[(i*S + s)*P + p] = d x_s(t_i) / d theta_p); either may be NULL. */
PETSC_EXTERN PetscErrorCode StgssaODEGetMeans(StgssaODE, const PetscReal **x, const PetscReal **dx);
/* TS steps of the last Solve (all output intervals). */
PETSC_EXTERN PetscErrorCode StgssaODEGetSteps(StgssaODE, PetscInt *);
PETSC_EXTERN PetscErrorCode StgssaODEView(StgssaODE, PetscViewer);

/* -stgssa_mode ode (src/ode/mode.c): read -stgssa_fit (default: the parameters a fit would take),
   take the ensemble's sample times and observed quantities (species and groups; expression
   observables and -stgssa_initial steady are refused), set up. */
PETSC_EXTERN PetscErrorCode StgssaODEModeSetUp(StgssaODE, StgssaModel, StgssaEnsemble);
/* Collective: solve at the model's parameter values and print one summary line. */
PETSC_EXTERN PetscErrorCode StgssaODEModeRun(StgssaODE);
/* Rank 0 inside StgssaOutputWrite: /simulate times, moments/<obs> [T x 3] (column 0 the ODE mean,
   columns 1, 2 NaN: no variances), /gradient fit_names, moments/<obs>, moments_gradient/<obs>
   [T x 3 x P] (column 0 d mean / d log k, the rest NaN). /run is the caller's. */
PETSC_EXTERN PetscErrorCode StgssaODEModeWriteHDF5(StgssaODE, hid_t file);

/* -stgssa_start_from ode (src/ode/start.c): a copy of the options database for the fit of the
   means (-stgssa_gradient ode, -stgssa_loss moments -stgssa_moment_orders 1, the stochastic
   optimizer's and checkpoint options dropped, output path `output`.start_from_ode, unwritten);
   and quiet output (PetscVFPrintf swallowed) around that fit. */
PETSC_EXTERN PetscErrorCode StgssaODEStartOptions(const char output[], PetscOptions *db);
PETSC_EXTERN PetscErrorCode StgssaODEQuiet(PetscBool);
PETSC_EXTERN PetscErrorCode StgssaODEDestroy(StgssaODE *);

#endif
