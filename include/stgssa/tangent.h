/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Derivatives along exact SSA trajectories (DESIGN.md §2), forward mode: tangents carried
  along each trajectory, memory O((S+1) P) per trajectory whatever its length.

  Estimators:
    STGS   straight-through Gumbel-Softmax pathwise tangents (biased, low variance);
    SCORE  likelihood-ratio score d log P(path)/d theta (unbiased);
  The forward path of a trajectory is bitwise the one StgssaSSARun produces for the same seed:
  derivative draws come from counter blocks >= 1 only.
  Parameters theta_p = log k_p; a mass-action reaction j depends on theta through
  k_j = factor_j k_{param(j)}, a reaction with a rate law through every parameter its law and its
  inputs read (StgssaPropensityGrad).
*/
#ifndef STGSSA_TANGENT_H
#define STGSSA_TANGENT_H

#include <stgssa/ssa.h>
#include <stgssa/observable.h>

typedef enum {
  STGSSA_GRADIENT_STGS  = 0,
  STGSSA_GRADIENT_SCORE = 1,
  STGSSA_GRADIENT_FD    = 2,
  STGSSA_GRADIENT_FSP   = 3, /* exact: means and derivatives from the finite state projection (StgssaEvaluator only) */
  STGSSA_GRADIENT_AUTO  = 4, /* StgssaEvaluator only: fsp when the projection fits, else score (resolved at StgssaEvaluatorSetUp) */
  STGSSA_GRADIENT_ODE   = 5  /* StgssaEvaluator only: means (no variances) and derivatives from the mean-field ODE (include/stgssa/ode.h); never chosen by auto */
} StgssaGradientType;
PETSC_EXTERN const char *const StgssaGradientTypes[];

/* What a derivative run records, beyond the plain samples. */
typedef struct {
  StgssaGradientType type;
  PetscInt           P;          /* number of fitted log-rates */
  const PetscInt    *rxn_param;  /* [R] fitted parameter index of reaction j, or -1: d log a_j / d theta_p = [p == rxn_param[j]] (mass action) */
  const PetscInt    *fit_param;  /* [P] model parameter index of fitted parameter p (rate laws and inputs; may be NULL without laws) */
  double             lambda;     /* ST-GS temperature */
  PetscInt           nobs;       /* observed quantities */
  const PetscInt    *obs;        /* species of each term of the observed quantities (observable.h) */
  const PetscInt    *obs_ptr;    /* [nobs+1] terms of quantity o, or NULL: obs[o] is a species */
  const int64_t     *obs_weight; /* integer weight of each term, or NULL: all 1 */
  const PetscInt    *obs_rule;   /* [nobs] expression observable: rule index (StgssaRuleTangent), -1 a sum; NULL: none */
  double            *obs_scratch; /* StgssaRuleScratchSize doubles, with obs_rule (shared scratch: one trajectory at a time) */
  PetscBool          window;     /* record time averages over [w0, w1] */
  double             w0, w1;
  const PetscInt    *rev;        /* [R] reverse reaction of j or -1; NULL: no entropy production */
  double             count_from; /* path observables (reaction counts, entropy production, counted
                                    events) take only the jumps at times > count_from (burn-in) */
  const char        *locate;     /* NULL: no per-event checks (the default). Otherwise every event's
                                    tangents, score and entropy production are checked and the first
                                    NaN/Inf stops with a message prefixed by this text (the evaluator
                                    re-runs a trajectory whose record was not finite this way) */
} StgssaTangentConfig;

/* Per-trajectory record. All arrays are sized by StgssaTangentRecordCreate. Tangent layout:
   value index m, parameter p -> [m * P + p]. The tangents xdot, nrxdot, sigmadot are written by
   STGS only, wavgdot by STGS and under a window, and allocated (zero) at the first run that needs
   them, NULL before; the score leaves them alone (so that its cost and memory per trajectory do
   not grow as R P). */
typedef struct {
  PetscInt nsample, nobs, R, P;
  double  *x, *xdot;          /* [nsample*nobs], [nsample*nobs*P]: observed values (sum_t w_t x_{s_t}) at sample times and tangents */
  double  *wavg, *wavgdot;    /* [nobs], [nobs*P]: (1/(w1-w0)) int_{w0}^{w1} x dt and tangents */
  double  *nrx, *nrxdot;      /* [R], [R*P]: reaction counts and tangents */
  double   sigma, *sigmadot;  /* stochastic entropy production sum_n log(a_{j_n}(x_n)/a_{rev j_n}(x_{n+1})), [P] */
  double  *score_sample;      /* [nsample*P]: score d log P(path up to t_i)/d theta (SCORE only) */
  double  *score_end;         /* [P]: score of the whole path up to tfinal (SCORE only) */
  int64_t  events;            /* all SSA events of the path */
  int64_t  events_counted;    /* events at times > count_from (activity) */
} StgssaTangentRecord;

typedef struct {
  int64_t *x;      /* [S] */
  double  *a;      /* [R] propensities */
  PetscInt Pmax;   /* parameters the work was created for */
  double  *xdot;   /* [S*P] state tangent (xdot, ldot, pidot: allocated at the first ST-GS or window run) */
  double  *tdot;   /* [P] time tangent t_n-dot */
  double  *ldot;   /* [R*P] log-propensity tangents */
  double  *pidot;  /* [R*P] softmax tangents */
  double  *pi;     /* [R] relaxed choice probabilities */
  double  *arrive; /* [R] conditioned race times T_i */
  double  *dtau;   /* [P] */
  double  *da0;    /* [P] d a_0 / d theta */
  /* rate laws and time-dependent propensities (issue 7) */
  StgssaLawEnv env;
  StgssaThin   thin;
  double      *dk, *dx;     /* [nparams], [S] scratch of StgssaPropensityGrad */
  double      *gint;        /* [P] integrals over a dwell */
  double      *breaks;      /* [nbreaks] breakpoints of table inputs, ascending */
  PetscInt     nbreaks;
  /* score: the integrals of the time-dependent rate-law reactions' derivatives by Chebyshev tables
     on the thinning grid (tangent.c, StgssaTdepTable), built once per network, NULL: none yet */
  const StgssaNetwork *tab_net;   /* the network the table was built for */
  PetscInt     tab_state;         /* 0: not built, 1: built, -1: does not apply (quadrature per dwell) */
  PetscInt     tab_ncell, tab_nr; /* cells of the thinning grid on [0, tfinal]; tabulated reactions */
  PetscInt    *tab_rxn;           /* [tab_nr] the time-dependent reactions */
  double       tab_H;             /* cell length */
  double      *tab_coef;          /* [tab_nr][ncell][P][STGSSA_TAB_N + 1] antiderivative series per cell */
  double      *tab_cum;           /* [tab_nr][ncell + 1][P] integral from 0 to each cell start */
  double      *tab_g0;            /* [tab_nr][P] the integrand at t = 0 (the burn-in's constant inputs) */
  PetscBool    no_table;          /* force the per-dwell Gauss-Legendre quadrature (tests) */
  double      *recip;       /* [STGSSA_RECIP_N] 1.0/n (n >= 1) as the division gives it */
  double      *dE;          /* [ceil(R/4)*4][8] ST-GS derivative draws of eight events */
  /* large networks (StgssaTangentWorkUseLarge): score and values (fd) by rssa */
  StgssaSSAWork *large;     /* NULL: the direct method only */
  int64_t       *smp;       /* [nsample*S] states at the sample times (values by rssa) */
  PetscInt       nsmp;
  /* the score on time-independent networks (issue 17): per-reaction accumulators, O(dependents)
     per event whatever P (score_acc.h); built at the first score run, rebuilt when the network,
     P or the reaction-to-parameter map change */
  StgssaScoreAcc acc;
  const StgssaNetwork *acc_net;
  PetscInt      *acc_fit;   /* [P] the fit_param the accumulators were built for */
  PetscInt       score_lazy; /* PETSC_DECIDE (default) or 1: the accumulators; 0: the per-event O(R + P) a_0 derivative (the path before issue 17; tests, benches) */
} StgssaTangentWork;
#define STGSSA_TAB_N 16 /* Chebyshev nodes per cell of the score's integral tables */
#define STGSSA_RECIP_N 1024

PETSC_EXTERN PetscErrorCode StgssaTangentRecordCreate(PetscInt nsample, PetscInt nobs, PetscInt R, PetscInt P, StgssaTangentRecord *);
PETSC_EXTERN PetscErrorCode StgssaTangentRecordDestroy(StgssaTangentRecord *);
PETSC_EXTERN PetscErrorCode StgssaTangentWorkCreate(const StgssaNetwork *, PetscInt P, StgssaTangentWork *);
PETSC_EXTERN PetscErrorCode StgssaTangentWorkDestroy(StgssaTangentWork *);
/* Opt in to the large-network engines (issue 16; the evaluator does under -stgssa_ssa_method auto):
   on a time-independent mass-action network of at least STGSSA_SSA_TREE_MIN_R reactions,
   StgssaSSARunTangent then runs values only (P = 0, fd) and the score by the rejection-based SSA
   (rssa.c; the score's integrals of the propensities updated lazily, per reaction, when they
   change), whenever no window, entropy production or per-event check is asked for.
   Equal in law to the direct method's numbers, not bit for bit. No-op on other networks. */
PETSC_EXTERN PetscErrorCode StgssaTangentWorkUseLarge(const StgssaNetwork *, StgssaTangentWork *);
/* The engine of StgssaTangentWorkUseLarge (src/ssa/tree.c); PETSC_FALSE in *done: not applicable. */
PETSC_EXTERN PetscErrorCode StgssaSSARunTangentLarge(const StgssaSSAConfig *, const StgssaTangentConfig *, uint64_t traj, StgssaTangentWork *, StgssaTangentRecord *, StgssaTrajInfo *, PetscBool *done);

/* tc->locate: the checks of event n (reaction j fired at time t from the state x - nu_j to x; a
   the propensities before the jump), StgssaSSARunTangent calls it after the tangents moved. */
PETSC_EXTERN PetscErrorCode StgssaTangentCheckEvent(const StgssaSSAConfig *, const StgssaTangentConfig *, StgssaTangentWork *, const StgssaTangentRecord *, int64_t n, PetscInt j, const int64_t *x, const double *a, double t);

/* Simulate trajectory traj with derivatives of the kind tcfg->type (STGS or SCORE). */
PETSC_EXTERN PetscErrorCode StgssaSSARunTangent(const StgssaSSAConfig *, const StgssaTangentConfig *, uint64_t traj, StgssaTangentWork *, StgssaTangentRecord *, StgssaTrajInfo *);
/* StgssaSSARunTangent of trajectories traj[0..count) into w[k], rec[k], info[k] (one work and one
   record per trajectory): the same numbers, bit for bit; where the small-network ST-GS engine
   applies, trajectories advance in interleaved groups (faster: independent dependency chains). */
PETSC_EXTERN PetscErrorCode StgssaSSARunTangentMany(const StgssaSSAConfig *, const StgssaTangentConfig *, PetscInt count, const uint64_t *traj, StgssaTangentWork *, StgssaTangentRecord *, StgssaTrajInfo *);

#endif
