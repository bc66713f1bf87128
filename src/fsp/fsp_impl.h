/* SPDX-License-Identifier: BSD-2-Clause */
/* Private struct and internal functions of StgssaFSP (the files of src/fsp); see include/stgssa/fsp.h. */
#ifndef STGSSA_FSP_IMPL_H
#define STGSSA_FSP_IMPL_H

#include <stgssa/fsp.h> /* first: declares struct _p_StgssaFSP before headers that name it */
#include <stgssa/stgssa.h>
#include <stgssa/output.h>
#include <petscts.h>
#include <math.h>

#define STGSSA_FSP_MAX_SAMPLES 65536
#define STGSSA_FSP_MAX_ITEMS 4096

/* Where the bound of a species comes from: none (reachability only), -stgssa_fsp_max, automatic (grown on leaks) */
/* A scheduled event (events.c): at t0, and every period after it when period > 0 */
typedef struct {
  StgssaEventKind kind;
  PetscReal       t0, period;
  PetscReal       value;    /* divide 1/2, scale F, set/add/subtract the count c (rounded) */
  PetscReal      *dval;     /* [P] dF/dtheta_q (scale), else 0 */
  PetscBool       any_dval;
  PetscInt        nsp;      /* listed species */
  PetscInt       *species;  /* [nsp] */
  PetscInt        line;
} StgssaFSPEvent;

typedef enum { STGSSA_FSP_BOUND_NONE, STGSSA_FSP_BOUND_GIVEN, STGSSA_FSP_BOUND_AUTO } StgssaFSPBoundKind;

struct _p_StgssaFSP {
  MPI_Comm    comm;
  MPI_Comm    pcomm;      /* of the matrices and solvers: comm, or PETSC_COMM_SELF (redundant solve of a small projection) */
  PetscInt    redundant;  /* -stgssa_fsp_redundant: largest projection solved whole on every rank */
  StgssaModel model;
  /* configuration */
  PetscInt   nbnd;       /* bounds as given */
  char     **bnd_names;  /* [nbnd] species names */
  PetscInt  *bnd_values; /* [nbnd] upper bounds, -1: none */
  PetscInt   P;          /* fitted parameters */
  char     **fit_names;  /* [P], NULL: every parameter of the model */
  PetscInt   nsample;    /* sample times (0 until set: steady state) */
  PetscReal *times;      /* [nsample]; t >= 0 transient (ascending), t < 0 steady state */
  PetscReal  tol;        /* largest acceptable lost mass */
  PetscInt   max_states; /* cap on the projection size */
  PetscBool  full;       /* keep the full distribution */
  StgssaFSPInitial initial; /* transient from x0 or from the steady state at t = 0 */
  PetscBool  grow;       /* automatic bounds for species without a given one, grown when mass leaks */
  PetscInt   nauto;      /* automatic bounds held (kept across set-ups; cleared by a new model) */
  PetscInt  *abound;     /* [nauto] automatic bound of species s */
  PetscBool  soft;       /* a failed solve sets failed instead of raising an error */
  StgssaFSPFailure failed; /* the last solve failed (soft) */
  char       fail_msg[4096];
  PetscInt   ngrown;     /* growth steps of the last solve */
  PetscBool  probed;     /* automatic bounds were found once with p alone (then kept) */
  PetscReal  grow_factor; /* StgssaFSPSetGrowthLimit: a solve may grow the automatic bounds to at most grow_factor x the states of the largest successful solve (0: no limit) */
  PetscInt   grow_limit;  /* that many states (0: none yet) */
  PetscBool  too_big;    /* the enumeration stopped at max_states */
  char       big_msg[2048];
  PetscBool  abort_on_leak, aborted; /* stop the transient at the first sample over tol (it will grow) */
  PetscReal  lost_init;  /* -stgssa_initial steady: mass on the boundary states of the initial distribution */
  PetscReal *flux_init;  /* [S] its outflow through each bound */
  PetscBool  setup;
  /* projection (after SetUp; the same on every rank) */
  PetscInt   S, R;
  PetscInt  *bound;                          /* [S] upper bound of species s, -1: bounded by reachability */
  StgssaFSPBoundKind *bkind;                 /* [S] where bound[s] comes from */
  int64_t   *maxcount;                       /* [S] largest count in the projection */
  PetscInt  *fit_param;                      /* [P] model parameter index of fitted parameter q */
  PetscInt  *rxn_fit;                        /* [R] fitted parameter q of reaction r (its rate is factor*k_q), -1: none */
  PetscInt   n;                              /* number of states */
  int64_t   *x;                              /* [n*S] states in breadth-first order; state 0 is x0 */
  PetscInt   nleak;                          /* jumps out of the projection: state lk_state[l] by reaction lk_rxn[l] */
  PetscInt  *lk_state, *lk_rxn, *lk_species; /* [nleak] (first species whose bound is exceeded) */
  PetscReal *lk_h;                           /* [nleak] combinatorial factor h_r(x) = a_r(x)/k_r */
  PetscInt   ngroups;                        /* groups of the model: marginal quantities S + g */
  PetscInt  *nbins, *boff, btot;             /* [S + ngroups] marginal of species s (or group g at S + g): values 0..nbins-1 at boff;
                                                nbins = 0 for a group with a non-integer or negative weight */
  PetscReal *kunit;                          /* [R] unit rates: StgssaPropensity with them gives h_r(x) */
  PetscBool  any_steady, any_transient;
  /* rate laws and time-dependent propensities (issue 7) */
  PetscBool    any_law, any_tdep; /* of the network */
  StgssaLawEnv env;               /* law environment (any_law) */
  double      *dkw;               /* [nparams] k_m da/dk_m of one law propensity */
  PetscReal    tmax;              /* largest transient sample time */
  PetscBool    affine_opt;        /* -stgssa_fsp_affine: use the affine form when the laws allow it */
  PetscBool    affine;            /* every law is affine in the inputs: A(t) = A_0 + sum_i u_i(t) A_i (generator.c) */
  PetscInt     ninp;              /* inputs */
  PetscReal   *lc, *ldk;          /* [ntr*(1+K)], [ntr*(1+K)*P] law coefficients of the owned transitions */
  PetscBool    raw;               /* row values without the propensity check (building the affine form) */
  PetscBool    fast;              /* time-dependent operators from the stored affine form (one rank holds all rows) */
  PetscReal   *av, *dav;          /* the stored matrices A_0, A_i, D_0q, D_iq (generator.c) */
  PetscBool    kdirty;            /* shift or t changed: form and factor shift I - A again before the next stage solve */
  PetscBool    stage_shell;       /* the stages use the block-triangular PC (shift I - J itself is not needed) */
  PetscInt     nzl, *zl_state, *zl_rxn; /* law jumps left out because a_r(x) = 0 (rebuilt when that changes) */
  PetscInt     ntd, *tdrow;       /* owned rows (local index) holding time-dependent transitions */
  PetscInt     nbrk;              /* breakpoints of table inputs in (0, tmax], ascending */
  PetscReal   *brk;
  PetscReal    top_t;             /* time at which A, dA, J hold the time-dependent entries */
  PetscBool    seg_clamp;         /* the current transient segment ends at a breakpoint seg_end: */
  PetscReal    seg_end, seg_before; /*   evaluate at times >= seg_end with the piece before it (seg_before) */
  /* owned rows [rstart, rend) of A: unique columns, and the transitions (jumps) that fill them */
  PetscInt   rstart, rend;
  PetscInt  *row_ptr, *row_col;        /* [nloc+1], columns (global state indices) */
  PetscInt  *tr_ptr, *tr_pos, *tr_rxn; /* [nloc+1]; entry position in row_col; reaction */
  PetscReal *tr_h;                     /* signed factor: +h_r(x_j) into row i, -h_r(x_i) on the diagonal (law: +-1, times a_r) */
  PetscInt   maxcols;                  /* longest row */
  Mat        A, *dA;                   /* generator and dA/dtheta_q */
  Mat        Mss;                      /* steady state: A with the row of x0 replaced by ones */
  Mat        J;                        /* transient: augmented [A 0; dA_q A] on y = (p, s_1..s_P) interleaved per state */
  Mat        Jshift;                   /* transient: shift I - J, the implicit stages' operator */
  PetscReal  shift;                    /* shift of Jshift (PETSC_MAX_REAL: not formed) */
  Mat        K;                        /* transient: shift I - A, the diagonal block of Jshift */
  KSP        kstage;                   /* transient: solver for K (prefix fsp_stage_) */
  Vec        u, v, w;                  /* transient: work vectors of one block (state layout) */
  KSP        ksp;                      /* steady-state solver (prefix fsp_) */
  TS         ts;                       /* transient integrator (prefix fsp_) */
  PetscInt   ts_steps;                 /* steps of the last transient solve */
  /* results (every rank, after Solve) */
  PetscReal *marg;           /* [nsample*btot] */
  PetscReal *dmarg;          /* [nsample*btot*P] */
  PetscReal *lost;           /* [nsample] */
  PetscInt   nrules;         /* expression observables: the model's assignment rules (StgssaModelDef.rules) */
  PetscBool *rule_ok;        /* [nrules] the rule reads counts and parameters only (else no moments) */
  PetscReal *rsum, *drsum;   /* [nsample*nrules*4], [nsample*nrules*4*P]: sum_x p(x) f(x)^k, k = 0..3, and d/dtheta_q */
  double    *rscratch;       /* StgssaRuleTangent's scratch and df/dtheta [P] */
  PetscReal *flux;           /* [nsample*S] probability flux out of the projection through the bound of s */
  PetscReal *fullp, *fulldp; /* [nsample*n], [nsample*n*P] with -stgssa_fsp_full */
  PetscBool  done;
  /* adjoint gradients of a loss of the marginals (adjoint.c; issue 15) */
  PetscBool  adjoint_opt;   /* -stgssa_fsp_adjoint */
  PetscBool  adj_req;       /* StgssaFSPSetAdjoint: the caller needs only loss gradients */
  PetscBool  adj;           /* this solve: p alone forward, its trajectory kept (nsens = 0) */
  PetscBool  adj_ready;     /* the last solve succeeded in adjoint mode: StgssaFSPAdjointSolve may follow */
  PetscInt   nsens;         /* sensitivity blocks carried by this solve: P (forward) or 0 (adjoint) */
  PetscReal *adj_w;         /* [nsample*btot] dL/d marginal, filled by the caller */
  PetscReal *ssr;           /* [P*nloc] steady start: right-hand sides -(dA_q p0), row of x0 zeroed */
  PetscBool  ss_used;       /* the steady solve of this solve (initial distribution or steady samples) */
  PetscInt   ntj, captj;    /* forward steps stored: interval j = [tj_t[2j], tj_t[2j+1]] */
  PetscReal *tj_t;          /* [2*captj] */
  PetscReal *tj_v;          /* [4*captj*nloc] per step: p0, p1, d0 = A(t0+) p0, d1 = A(t1-) p1 */
  PetscBool  ponly;         /* forward pass of p alone: the time-dependent update skips dA and J */
  /* state look-up (projection.c): open-addressing hash of the states, kept after the enumeration */
  PetscInt   map_cap, *map_slot;
  /* scheduled events (events.c; issue 18) */
  PetscInt        nev;
  StgssaFSPEvent *ev;
  Mat            *evT, *evdT;          /* [nev] transposed maps T[x][y] = K(x, y), and dT/dF (NULL unless F depends on theta) */
  PetscInt        ninst;               /* event instances in [0, horizon], by time */
  PetscReal      *inst_t;
  PetscInt       *inst_e;
  int64_t        *ev_ty;               /* scratch of StgssaFSPEventTargets */
  PetscReal      *ev_tw, *ev_tdw, *ev_b;
  PetscInt        ev_tcap, ev_bcap, *ev_all, *ev_off, *ev_cnt;
  /* two-time correlations (correlation.c; issue 18) */
  PetscInt    ncorr;                   /* pairs A:B */
  PetscInt   *corr_a, *corr_b;         /* [ncorr] quantity index: species s, or S + g for group g (resolved at set-up) */
  char      **corr_an, **corr_bn;      /* [ncorr] names as given */
  PetscInt    nlag;                    /* lags of all pairs */
  PetscReal  *lags;                    /* [nlag]: pair c has lags[lag_ptr[c] .. lag_ptr[c+1]-1], ascending, >= 0 */
  PetscInt   *lag_ptr;                 /* [ncorr+1] */
  PetscReal   corr_horizon;            /* t + tau beyond it: NaN (-stgssa_tfinal, else the last sample time) */
  PetscBool   corr_tfinal_set;
  PetscReal   corr_tfinal;
  PetscReal  *cov, *dcov;              /* [nsample*nlag], [... * P] Cov(A(t_k), B(t_k + tau_l)) at k*nlag + lag_ptr[c] + l */
  Vec        *ysave;                   /* [nsample] y at the samples (kept while the correlations need them) */
  PetscBool  backward;      /* backward pass: the time-dependent update skips J */
};

/* Value of group g of the model in state x: sum_t w_t x_{s_t} (integer weights, checked). */
static inline int64_t StgssaFSPGroupValue(const StgssaModelDef *def, PetscInt g, const int64_t *x)
{
  const StgssaGroupDef *gr = &def->groups[g];
  int64_t               v  = 0;
  for (int t = 0; t < gr->nterms; t++) v += (int64_t)gr->weight[t] * x[gr->species[t]];
  return v;
}

/* projection.c */
PETSC_INTERN PetscBool      StgssaFSPJumps(StgssaFSP, const StgssaNetwork *, const StgssaNetwork *, PetscInt, const int64_t *, PetscReal *, PetscBool *);
PETSC_INTERN PetscErrorCode StgssaFSPEnumerate(StgssaFSP, const StgssaNetwork *, const StgssaNetwork *);
PETSC_INTERN PetscErrorCode StgssaFSPBuildRows(StgssaFSP, const StgssaNetwork *, const StgssaNetwork *);
PETSC_INTERN PetscErrorCode StgssaFSPCreateMat(StgssaFSP, PetscBool, PetscBool, Mat *);
/* generator.c */
PETSC_INTERN PetscErrorCode StgssaFSPAssemble(StgssaFSP, PetscReal, PetscBool);
PETSC_INTERN PetscErrorCode StgssaFSPOperatorsAt(StgssaFSP, PetscReal);
/* steady.c */
PETSC_INTERN PetscErrorCode StgssaFSPDefaultKSP(StgssaFSP, KSP, PetscBool);
PETSC_INTERN PetscErrorCode StgssaFSPSolveSteady(StgssaFSP, Vec *);
/* transient.c */
PETSC_INTERN PetscErrorCode StgssaFSPSolveTransient(StgssaFSP, Vec);
/* adjoint.c */
PETSC_INTERN PetscErrorCode StgssaFSPTrajectoryReset(StgssaFSP);
PETSC_INTERN PetscErrorCode StgssaFSPTrajectoryPreStep(TS);
PETSC_INTERN PetscErrorCode StgssaFSPTrajectoryPostStep(TS);
/* fsp.c */
PETSC_INTERN PetscErrorCode StgssaFSPRaise(StgssaFSP, StgssaFSPFailure, PetscErrorCode);
PETSC_INTERN PetscErrorCode StgssaFSPInvalidate(StgssaFSP);
/* projection.c */
PETSC_INTERN PetscInt StgssaFSPFindState(StgssaFSP, const int64_t *);
/* events.c */
PETSC_INTERN PetscErrorCode StgssaFSPEventsPrepare(StgssaFSP);
PETSC_INTERN PetscErrorCode StgssaFSPEventsFromModel(StgssaFSP);
PETSC_INTERN PetscErrorCode StgssaFSPEventValue(StgssaFSP, PetscInt, PetscReal *, PetscReal[]);
PETSC_INTERN PetscErrorCode StgssaFSPEventsStale(StgssaFSP, PetscBool *);
PETSC_INTERN PetscErrorCode StgssaFSPEventsClear(StgssaFSP);
PETSC_INTERN PetscErrorCode StgssaFSPEventTargets(StgssaFSP, PetscInt, const int64_t *, PetscInt *);
PETSC_INTERN PetscErrorCode StgssaFSPEventsSetUp(StgssaFSP, PetscReal);
PETSC_INTERN PetscErrorCode StgssaFSPEventsFree(StgssaFSP);
PETSC_INTERN PetscErrorCode StgssaFSPEventApply(StgssaFSP, PetscInt, Vec);
/* transient.c */
PETSC_INTERN PetscErrorCode StgssaFSPAdvance(StgssaFSP, Vec, PetscReal *, PetscReal, PetscInt *, PetscBool *);
/* correlation.c */
PETSC_INTERN PetscErrorCode StgssaFSPCorrelationSetFromOptions(StgssaFSP);
PETSC_INTERN PetscErrorCode StgssaFSPCorrelationSetUp(StgssaFSP);
PETSC_INTERN PetscErrorCode StgssaFSPCorrelationFree(StgssaFSP);
PETSC_INTERN PetscErrorCode StgssaFSPCorrelationCompute(StgssaFSP, PetscBool *);
PETSC_INTERN PetscErrorCode StgssaFSPCorrelationWriteHDF5(StgssaFSP, hid_t);
/* output.c */
PETSC_INTERN PetscErrorCode StgssaFSPInitialMass(StgssaFSP, Vec);
PETSC_INTERN PetscErrorCode StgssaFSPGatherRecord(StgssaFSP, Vec, PetscInt, const PetscInt[], PetscBool);
PETSC_INTERN PetscErrorCode StgssaFSPLeakMessage(StgssaFSP, PetscInt, char[], size_t);

#endif
