/* SPDX-License-Identifier: BSD-2-Clause */
/* StgssaODE private struct and the right-hand side (src/ode/rhs.c). */
#ifndef STGSSA_ODE_IMPL_H
#define STGSSA_ODE_IMPL_H

#include <stgssa/ode.h>
#include <petscts.h>
#include <stgssa/ensemble.h>

/* The mean-field right-hand side of one network (rates of the network given to Solve). */
typedef struct {
  const StgssaNetwork *net;
  StgssaLawEnv         env; /* rate laws read env.xd (the real-valued state) and the inputs at t */
  int64_t             *xi;  /* [S] integer proxy: reactants of a law set to their coefficients (StgssaODERhs) */
  double              *gx;  /* [S] d a_j / d x of one reaction */
  double              *dk;  /* [nparams] k_m d a_j / d k_m of one reaction */
  PetscInt             P;
  const PetscInt      *fit_param; /* [P] */
} StgssaODERhsCtx;

PETSC_INTERN PetscErrorCode StgssaODERhsCreate(const StgssaNetwork *, StgssaODERhsCtx *);
PETSC_INTERN PetscErrorCode StgssaODERhsDestroy(StgssaODERhsCtx *);
/* f[S] = sum_j nu_j a_j(x, t); J [S*S] row-major (J[s*S + u] = d f_s / d x_u) and Fp [S*P]
   (Fp[s*P + p] = d f_s / d theta_p) when not NULL. */
PETSC_INTERN PetscErrorCode StgssaODERhsEval(StgssaODERhsCtx *, double t, const double *x, double *f, double *J, double *Fp);

struct _p_StgssaODE {
  MPI_Comm        comm;
  StgssaModel     model;
  PetscInt        S, P, nt;
  PetscInt       *fit_param; /* [P] */
  PetscReal      *times;     /* [nt] */
  PetscReal      *x, *dx;    /* [nt*S], [nt*S*P] */
  StgssaODERhsCtx rhs;
  TS              ts;
  Vec             X;
  Mat             J;            /* N x N, N = S (1 + P): diag(J, ..., J) for implicit TS types */
  double         *fw, *Jw, *Fw; /* [S], [S*S] row-major, [S*P] work of the right-hand side */
  PetscReal       dt0;          /* first step (1e-3 of the first output interval, or of tfinal) */
  PetscInt        steps;
  PetscBool       setup, fromoptions;
  /* -stgssa_mode ode (mode.c) */
  char         **fit_names; /* [P] */
  PetscInt       nfit_names;
  StgssaSampling smp; /* times and observed quantities of the ensemble */
};

#endif
