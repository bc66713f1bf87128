/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaModel: a reaction network read from a `.model` file (DESIGN.md section 4), with
  parameter overrides from -stgssa_parameters, compiled into a StgssaNetwork for the engine.
*/
#ifndef STGSSA_MODEL_H
#define STGSSA_MODEL_H

#include <petscsys.h>
#include <petscviewer.h>
#include <stgssa/modeldef.h>

/* Reaction network in compressed form, the engine's read-only input. Mass-action reactions use
   k, react_* and the fast paths of order1; reactions with a rate law (issue 7) have order1 = -3
   and are evaluated through StgssaPropensityAt with a StgssaLawEnv. */
/* Small networks (R*S up to this) also keep nu as dense rows: the engines then jump and recompute
   every propensity without data-dependent branches, which is faster than following the dependency
   graph when R is small (measured by tests/bench/bench_ssa). */
#define STGSSA_DENSE_MAX 256

typedef struct {
  PetscInt  S, R;                          /* species, reactions */
  int64_t  *x0;                            /* [S] initial counts */
  double   *k;                             /* [R] rate constants */
  PetscInt *react_ptr;                     /* [R+1] reactant terms of reaction j: react_ptr[j]..react_ptr[j+1]-1 */
  PetscInt *react_species, *react_coef;    /* species index and coefficient of each reactant term */
  PetscInt *nu_ptr;                        /* [R+1] nonzero net changes of reaction j */
  PetscInt *nu_species;                    /* species index of each net change */
  int64_t  *nu_delta;                      /* nu_j for that species (p_j - r_j), nonzero */
  PetscInt *order1;                        /* [R] species s if a_j = k_j x_s (one reactant, coefficient 1), -1 if a_j = k_j, -2 otherwise, -3 rate law */
  PetscInt *dep_ptr, *dep;                 /* [R+1], reactions whose propensity changes when reaction j fires: dep[dep_ptr[j]..dep_ptr[j+1]-1] */
  int64_t  *nu_dense;                      /* [R*S] nu_j as dense rows when R*S <= STGSSA_DENSE_MAX (small networks), else NULL */
  /* rate laws and inputs (issue 7) */
  const StgssaModelDef *def;               /* definition the network was built from (names and lines for messages) */
  PetscInt              nparams;
  double               *pv;                /* [nparams] parameter values read by laws and inputs (the evaluator's copies change them) */
  StgssaExpr *const    *law;               /* [R] rate law of reaction j (owned by def), NULL: mass action */
  PetscBool            *law_full;          /* [R] the law is the whole propensity (else a rate constant times prod C(x_s, r_js)) */
  PetscInt              ninputs;
  PetscBool            *tdep;              /* [R] a_j depends on the time t, directly or through an input */
  PetscBool             any_law, any_tdep;
  PetscInt             *lawsp_ptr, *lawsp; /* [R+1] species read by the law of j (full laws), for dependencies and tangents */
  PetscInt              nevents;           /* scheduled events (def->events, issue 18) */
} StgssaNetwork;

/* What rate laws read besides the parameters: the state as doubles, the time and the inputs at
   that time (with their derivatives). One per trajectory engine; not shared between threads. */
typedef struct {
  double  t;
  double *xd;   /* [S] state as doubles */
  double *u;    /* [ninputs] u_i(t) */
  double *du;   /* [ninputs * nparams] k_m d u_i / d k_m at t (valid after SetTime with grad) */
  double *dudt; /* [ninputs] d u_i / d t at t (valid after SetTime with grad; 0 for tables) */
  double *ulo, *uhi; /* [ninputs] input ranges over a time interval (StgssaPropensityUpper) */
  double *work; /* expression work space */
  double *gsp, *gpar, *ginp; /* [S], [nparams], [ninputs] compact derivative scratch */
  PetscInt *doff; double *dwork; /* derived parameters (issue 16): scratch slice of parameter m at dwork + doff[m], NULL when the model has none */
} StgssaLawEnv;

PETSC_EXTERN PetscErrorCode StgssaLawEnvCreate(const StgssaNetwork *, StgssaLawEnv *);
PETSC_EXTERN PetscErrorCode StgssaLawEnvDestroy(StgssaLawEnv *);
/* Copy the whole state; after a jump, update env->xd[s] for the species that changed. */
PETSC_EXTERN void StgssaLawEnvSetState(const StgssaNetwork *, StgssaLawEnv *, const int64_t *x);
/* Evaluate the inputs at time t (and their derivatives when grad is true). */
PETSC_EXTERN void StgssaLawEnvSetTime(const StgssaNetwork *, StgssaLawEnv *, double t, PetscBool grad);
/* a_j of a reaction with a law at the env's state and time (order1[j] == -3). */
PETSC_EXTERN double StgssaPropensityLaw(const StgssaNetwork *, PetscInt j, const int64_t *x, const StgssaLawEnv *);
/* a_j and its derivatives, accumulated: dk[m] += k_m d a_j / d k_m (m < nparams; log-parameter
   derivative), dx[s] += d a_j / d x_s (the law's continuous extension; for mass action the
   derivative of prod C(x_s, c) taken as prod over falling factors), *dt = d a_j / d t. Any output
   may be NULL. The env must have been set with grad when the law uses inputs. */
PETSC_EXTERN double StgssaPropensityGrad(const StgssaNetwork *, PetscInt j, const int64_t *x, const StgssaLawEnv *, double *dk, double *dx, double *dt);
/* Expression observables (issue 16): rule r of net->def (StgssaModelDef.rules, an SBML assignment
   rule that is not a sum of species) as a function f(x, k) of the counts and the parameter values
   net->pv. Returns f at x; with P > 0 also dval[p] = sum_s df/dx_s xdot[s*ld + p] + k_q df/dk_q,
   q = fit_param[p] (xdot NULL: the parameter term alone; derived parameters chained as for laws).
   scratch: StgssaRuleScratchSize(net) doubles. Not thread safe (the expression's work array). */
PETSC_EXTERN size_t    StgssaRuleScratchSize(const StgssaNetwork *);
PETSC_EXTERN double    StgssaRuleTangent(const StgssaNetwork *, PetscInt r, const int64_t *x, const double *xdot, PetscInt ld, PetscInt P, const PetscInt *fit_param, double *scratch, double *dval);
/* Run-time guard: an error naming the reaction (file:line), the time and the state when a_j is
   negative, NaN or infinite. */
PETSC_EXTERN PetscErrorCode StgssaPropensityCheck(const StgssaNetwork *, PetscInt j, const int64_t *x, double t, double a);
/* Upper bound of a_j(x, s) over s in [t0, t1] at fixed state (time-dependent reactions; interval
   arithmetic), or a_j itself for a time-independent reaction. Returns +inf when no finite bound
   can be proven. */
PETSC_EXTERN double StgssaPropensityUpper(const StgssaNetwork *, PetscInt j, const int64_t *x, StgssaLawEnv *, double t0, double t1);

/* Value of event e (StgssaModelDefEventValue) at parameter values pv, checked: an error naming the
   event's file:line when it is not finite, negative, a count above 2^53 or a keep fraction above 1. */
PETSC_EXTERN PetscErrorCode StgssaEventValueChecked(const StgssaNetwork *, int e, const double *pv, double *dlog, double *work, double *value);

/* Slowest relaxation rate lambda of a first-order network at its current rates, for a default
   burn-in of -stgssa_initial steady: every propensity c_j x_s or c_j (mass action, or a rate law
   that is a rate "constant" of parameters and inputs, taken at the inputs of t = 0). The means
   obey dm/dt = J m + b with J_{s s'} = sum_{j: a_j = c_j x_s'} nu_js c_j; moments of order n
   relax with sums of n eigenvalues of J, so lambda = min |Re mu| over the eigenvalues mu of J
   that are not zero (zero: conserved totals such as promoter states). *rate = 0 for any other
   network (no closed moment equations), when an eigenvalue has Re mu > 0 (no stationary law),
   or for more than 1000 species (a dense eigenproblem). The same numbers on every rank. */
PETSC_EXTERN PetscErrorCode StgssaNetworkRelaxationRate(const StgssaNetwork *, PetscReal *rate);

typedef struct _p_StgssaModel *StgssaModel;

/* Format of a model file: AUTO chooses by extension (`.net` is BioNetGen, anything else native). */
typedef enum { STGSSA_MODEL_FORMAT_AUTO, STGSSA_MODEL_FORMAT_NATIVE, STGSSA_MODEL_FORMAT_NET, STGSSA_MODEL_FORMAT_SBML } StgssaModelFormat;
PETSC_EXTERN const char *const StgssaModelFormats[];
PETSC_EXTERN PetscErrorCode    StgssaModelSetFormat(StgssaModel, StgssaModelFormat);

PETSC_EXTERN PetscErrorCode StgssaModelCreate(MPI_Comm, StgssaModel *);
PETSC_EXTERN PetscErrorCode StgssaModelLoad(StgssaModel, const char[]);
PETSC_EXTERN PetscErrorCode StgssaModelLoadFromString(StgssaModel, const char[], const char[]);
/* Take ownership of a model definition built elsewhere (programmatically, an importer such as
   SBML, a test): the model frees it; *def is set to NULL. Compiles the network (rate laws,
   inputs) as StgssaModelLoad does. Not collective (every rank must pass the same definition). */
PETSC_EXTERN PetscErrorCode StgssaModelSetDef(StgssaModel, StgssaModelDef **def);
PETSC_EXTERN PetscErrorCode StgssaModelSetParameters(StgssaModel, const char[], const char[]);
PETSC_EXTERN PetscErrorCode StgssaModelSetFromOptions(StgssaModel);
PETSC_EXTERN PetscErrorCode StgssaModelView(StgssaModel, PetscViewer);
PETSC_EXTERN PetscErrorCode StgssaModelGetDef(StgssaModel, const StgssaModelDef **);
PETSC_EXTERN PetscErrorCode StgssaModelGetNetwork(StgssaModel, const StgssaNetwork **);
PETSC_EXTERN PetscErrorCode StgssaModelFindSpecies(StgssaModel, const char[], PetscInt *);
/* Collective: resolve the fitted parameter names (-stgssa_fit) to model parameters, refusing
   unknown, repeated and non-positive ones: fit_param[P] = parameter index of fitted name q;
   rxn_fit[R] (may be NULL) = fitted index q of reaction j's rate parameter (rate = factor * k_q), or -1. */
PETSC_EXTERN PetscErrorCode StgssaModelResolveFit(StgssaModel, PetscInt P, const char *const names[], PetscInt fit_param[], PetscInt rxn_fit[]);
PETSC_EXTERN PetscErrorCode StgssaModelDestroy(StgssaModel *);

/* Scheduled events (issue 18; `begin events`, StgssaEventDef in modeldef.h for the semantics).
   Several events at the same time apply in index (file) order; a sample at an event time sees the
   state before the event. Not collective. */
typedef struct {
  StgssaEventKind kind;     /* DIVIDE, SET, ADD, SUB (clamped at 0), SCALE */
  PetscReal       t_first;  /* first (or only) time, >= 0 */
  PetscReal       period;   /* > 0: every period; 0: once */
  PetscInt        nspecies; /* species acted on (DIVIDE: the list, every species when none given; else 1) */
  const int      *species;  /* [nspecies] species indices (read-only, owned by the model) */
  PetscBool       has_value; /* SET/ADD/SUB/SCALE: a value expression (StgssaModelEventValue); DIVIDE: F = 1/2 */
  PetscBool       constant;  /* the value reads no parameter */
  PetscInt        line;     /* line in the model file */
} StgssaEventInfo;
PETSC_EXTERN PetscErrorCode StgssaModelGetNumEvents(StgssaModel, PetscInt *n);
PETSC_EXTERN PetscErrorCode StgssaModelGetEvent(StgssaModel, PetscInt e, StgssaEventInfo *info);
/* Value of event e at parameter values pv[nparams] (NULL: the model's current values): the count
   n (SET/ADD/SUB; applied rounded to the nearest integer, halves away from 0) or the keep fraction
   F (SCALE; 1/2 for DIVIDE). dlog (may be NULL): [nparams] k_m d value / d k_m. Errors (naming the
   event's line) when the value is not finite, negative, or F > 1. */
PETSC_EXTERN PetscErrorCode StgssaModelEventValue(StgssaModel, PetscInt e, const PetscReal pv[], PetscReal *value, PetscReal dlog[]);
/* First event time strictly after t (+inf when none). */
PETSC_EXTERN PetscErrorCode StgssaModelNextEventTime(StgssaModel, PetscReal t, PetscReal *t_next);
/* PETSC_TRUE when event e has an occurrence exactly at t (a time from StgssaModelNextEventTime). */
PETSC_EXTERN PetscErrorCode StgssaModelEventOccursAt(StgssaModel, PetscInt e, PetscReal t, PetscBool *occurs);

#endif
