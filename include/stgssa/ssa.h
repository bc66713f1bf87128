/* SPDX-License-Identifier: BSD-2-Clause */
/*
  The exact SSA engine: one trajectory at a time, random numbers from Philox keyed by
  (seed, global trajectory index), so a trajectory depends on nothing but its index.
*/
#ifndef STGSSA_SSA_H
#define STGSSA_SSA_H

#include <stgssa/model.h>
#include <stgssa/rng.h>
#include <math.h>
#include <stgssa/fastlog.h>

typedef struct {
  const StgssaNetwork *net;
  uint32_t             seed;
  uint32_t             iteration;    /* outer iteration (optimizer step), part of the RNG counter */
  double               tfinal;
  double               t0;           /* start time, <= 0: -burn-in of -stgssa_initial steady (laws read time max(t, 0)) */
  double               thin_step;    /* time-dependent propensities: thinning bounds hold on the grid cells [kH, (k+1)H) */
  int64_t              max_events;   /* per-trajectory cap on SSA events (on thinning proposals when propensities depend on time) */
  PetscInt             nsample;
  const double        *sample_times; /* [nsample], ascending, in [0, tfinal] */
} StgssaSSAConfig;

/* How one trajectory ended. */
typedef enum {
  STGSSA_TRAJ_TFINAL   = 0, /* reached the end time */
  STGSSA_TRAJ_ABSORBED = 1, /* a0 = 0: absorbing state held until tfinal */
  STGSSA_TRAJ_CAPPED   = 2  /* hit max_events before tfinal: later samples hold the last state */
} StgssaTrajEnd;

typedef struct {
  int64_t      events;
  StgssaTrajEnd end;
} StgssaTrajInfo;

/* Thinning of time-dependent propensities (Lewis-Shedler): proposals at the rate B = sum_j b_j,
   where b_j bounds a_j(x, s) over the current grid cell [t, th) (b_j = a_j for reactions that do
   not depend on time); a proposal at s is accepted with probability a_0(x, s)/B. */
typedef struct {
  double  *b;     /* [R] bounds (time-dependent reactions) or propensities */
  double  *at;    /* [R] propensities at the last proposal time */
  double   th;    /* end of the current grid cell */
  double   B;     /* sum_j b_j */
  uint32_t rbuf[4][STGSSA_PHILOX_LANES];
  int64_t  rbase; /* proposal index of rbuf's first lane, -1: empty */
} StgssaThin;

/* Next-reaction method (Gibson-Bruck): putative firing times in an indexed binary min-heap. */
typedef struct {
  double   *tau;  /* [R] putative firing time of each reaction (+inf when a_i = 0) */
  PetscInt *heap; /* [R] reactions in heap order: tau[heap[0]] is the smallest */
  PetscInt *pos;  /* [R] position of reaction i in heap */
  int64_t  *ndraw; /* [R] fresh exponentials drawn so far for reaction i (its RNG counter) */
  uint32_t *spare; /* [2R] words 2, 3 of reaction i's last Philox block (its next odd draw) */
} StgssaNRM;

/* Direct method on a sum tree: node[P + i] = a_i, node[k] = node[2k] + node[2k+1], node[1] = a_0. */
typedef struct {
  PetscInt  P;       /* leaves: the smallest power of two >= R */
  double   *node;    /* [2P] */
  PetscInt *changed; /* [R] leaves changed by the last event, then their ancestors */
} StgssaSumTree;

/* The score's grouped integrals on rssa (src/ssa/score_lazy.c), built on first use. */
typedef struct _n_StgssaScoreLazy *StgssaScoreLazy;

/* Rejection-based SSA: count intervals [lo_s, hi_s] and the readers of each species. */
typedef struct {
  int64_t        *lo, *hi; /* [S] */
  PetscInt       *rd_ptr;  /* [S+1] reactions with species s among their reactants: rd[rd_ptr[s]..rd_ptr[s+1]) */
  PetscInt       *rd;
  StgssaScoreLazy score;   /* StgssaSSARunRSSAScore's groups, NULL until then */
} StgssaRSSA;

/* Work space for StgssaSSARun, StgssaSSARunNRM, StgssaSSARunTree and StgssaSSARunRSSA, sized for one network. */
typedef struct {
  int64_t      *x; /* [S] state */
  double       *a; /* [R] propensities */
  StgssaLawEnv  env;
  StgssaThin    thin;
  StgssaNRM     nrm;
  StgssaSumTree tree;
  StgssaRSSA    rssa;
} StgssaSSAWork;

/* The score function's accumulators per reaction (issue 17; src/ssa/score_acc.h), so that its cost
   per event does not grow with the number P of fitted log-rates theta_p:
     S_p(t) = sum_{events n <= t} d log a_{j_n}/d theta_p - int_{t0}^{t} sum_i d a_i/d theta_p ds.
   Mass action (rp[i] = p): d a_i/d theta_p = a_i, so a firing adds 1 to S_p and the integral is
   int a_i. A rate law: per pair (i, m) of the reaction and a model parameter its law can read
   (built once: the law's parameters, what derived ones are computed from, the inputs' parameters),
   g_im = k_m d a_i/d k_m at the current state; a firing adds g_im / a_i to the fitted p of m.
   The integrals are brought up to date only when reaction i's propensity changes (O(dependents)
   per event); reactions map to parameters only at sample times and at the end (O(R + pairs + P)). */
typedef struct {
  PetscInt        R, P;
  const PetscInt *rp;             /* [R] fitted parameter of a mass-action reaction, or -1 */
  double         *a, *integ, *tlast; /* [R] propensity, int a_i ds up to tlast_i (mass action) */
  double         *S;              /* [P] the firing terms so far (the caller's array, e.g. score_end) */
  PetscInt       *lp_ptr;         /* [R+1] pairs of law reaction i (NULL: no laws) */
  PetscInt       *lp_m, *lp_p;    /* model parameter m, its fitted index or -1 */
  double         *lp_g, *lp_int;  /* g_im at the current state, its integral up to tlast_i */
  double         *dk;             /* [nparams] scratch of StgssaPropensityGrad, zero between uses */
} StgssaScoreAcc;

/* Exact method of plain simulate mode (-stgssa_ssa_method). */
typedef enum {
  STGSSA_SSA_DIRECT = 0, /* Gillespie's direct method, StgssaSSARun: O(R) per event */
  STGSSA_SSA_NRM    = 1, /* Gibson-Bruck next-reaction method, StgssaSSARunNRM: O(deps log R) per event */
  STGSSA_SSA_TREE   = 2, /* direct method on a sum tree, StgssaSSARunTree: O(log R + changed log R) per event */
  STGSSA_SSA_RSSA   = 3, /* rejection-based SSA on a sum tree of bounds, StgssaSSARunRSSA: O(log R) per trial */
  STGSSA_SSA_AUTO   = 4  /* from STGSSA_SSA_TREE_MIN_R reactions on: rssa (mass action) or tree (rate laws),
                            time-independent propensities only; else direct */
} StgssaSSAMethod;
/* auto: the large-network methods from this many reactions on (tests/bench/bench_large.sh, bench_nrm) */
#define STGSSA_SSA_TREE_MIN_R 64
PETSC_EXTERN const char *const StgssaSSAMethods[];

PETSC_EXTERN PetscErrorCode StgssaSSAWorkCreate(const StgssaNetwork *, StgssaSSAWork *);
PETSC_EXTERN PetscErrorCode StgssaSSAWorkDestroy(StgssaSSAWork *);

/* Simulate trajectory `traj`; samples[i*S + s] receives x_s(sample_times[i]). Not collective. */
PETSC_EXTERN PetscErrorCode StgssaSSARun(const StgssaSSAConfig *, uint64_t traj, StgssaSSAWork *, int64_t *samples, StgssaTrajInfo *);
/* StgssaSSARun of trajectories traj[0..count) into w[k], samples[k * nsample * S ..], info[k]: the
   same numbers, bit for bit; small time-independent mass-action networks (nu_dense) advance
   STGSSA_SSA_MANY paths together, one event each per round (their dependency chains overlap). */
#define STGSSA_SSA_MANY 4
PETSC_EXTERN PetscErrorCode StgssaSSARunMany(const StgssaSSAConfig *, PetscInt count, const uint64_t *traj, StgssaSSAWork *, int64_t *samples, StgssaTrajInfo *);
/* The same process by the next-reaction method (src/ssa/nrm.c): equal in law to StgssaSSARun, not
   path by path (other random numbers). Time-independent propensities only (refuses net->any_tdep).
   RNG: key (seed, traj) as StgssaSSARun; the k-th fresh exponential of reaction i (k = 0, 1, ...)
   is -log U with U from words 0, 1 (k even) or 2, 3 (k odd) of the block at counter
     {block = 2^31 + i, event = floor(k/2), iteration}   (STGSSA_NRM_BLOCK0 + i; requires R < 2^31)
   a stream disjoint from the direct method's (blocks < 2^31), so a path depends on (seed, traj) only. */
#define STGSSA_NRM_BLOCK0 0x80000000u
PETSC_EXTERN PetscErrorCode StgssaSSARunNRM(const StgssaSSAConfig *, uint64_t traj, StgssaSSAWork *, int64_t *samples, StgssaTrajInfo *);
/* The same process by the direct method on a sum tree (src/ssa/tree.c): the direct method's random
   numbers (block 0), O(log R) selection, only changed propensities re-summed (each inner node
   recomputed from its children: no drift, a function of (seed, traj) only); equal in law to
   StgssaSSARun, not path by path (other selection order and rounding of a_0). Time-independent
   propensities only (refuses net->any_tdep). */
PETSC_EXTERN PetscErrorCode StgssaSSARunTree(const StgssaSSAConfig *, uint64_t traj, StgssaSSAWork *, int64_t *samples, StgssaTrajInfo *);
PETSC_EXTERN PetscInt       StgssaTreeSize(PetscInt R);
/* The same process by the rejection-based SSA (src/ssa/rssa.c): trial k uses the direct method's
   draws of event k (block 0); equal in law to StgssaSSARun. Time-independent mass action only
   (refuses rate laws). */
PETSC_EXTERN PetscErrorCode StgssaSSARunRSSA(const StgssaSSAConfig *, uint64_t traj, StgssaSSAWork *, int64_t *samples, StgssaTrajInfo *);
/* StgssaSSARunRSSA that also counts firings after count_from: nrx[j] += 1, *ncounted their total. */
PETSC_EXTERN PetscErrorCode StgssaSSARunRSSACounts(const StgssaSSAConfig *, uint64_t traj, StgssaSSAWork *, int64_t *samples, StgssaTrajInfo *, double *nrx, double count_from, int64_t *ncounted);
/* StgssaSSARunRSSACounts with the score of the path (theta_p = log k_p, mass action; rxn_param[i]
   the parameter of reaction i or -1): S_p(t) = N_p(t) - int_{t0}^{t} sum_{i: param i = p} a_i ds at
   the sample times into score_sample[i * P + p] and at tfinal into acc->S[p]. The integrals are
   kept per group of fitted reactions sharing parameter, rate constant and hub reactant
   (score_lazy.c: O(changed species' non-hub readers + hub groups) per event); the groups and their
   integrals are built on the first call and kept in w while rxn_param (acc->rp) and the rate
   constants stay the same. acc: mass action, sized for rxn_param's P; acc->S is the caller's. */
PETSC_EXTERN PetscErrorCode StgssaSSARunRSSAScore(const StgssaSSAConfig *, uint64_t traj, StgssaSSAWork *, int64_t *samples, StgssaTrajInfo *, double *nrx, double count_from, int64_t *ncounted, StgssaScoreAcc *acc, double *score_sample);
/* The same score by the per-reaction accumulators (the reference for tests): after each event the
   exact propensities of the fired reaction's dependents are recomputed and each one's integral
   brought up to date when it changes (score_acc.h). Equal to StgssaSSARunRSSAScore to rounding, on
   the same path. */
PETSC_EXTERN PetscErrorCode StgssaSSARunRSSAScorePerReaction(const StgssaSSAConfig *, uint64_t traj, StgssaSSAWork *, int64_t *samples, StgssaTrajInfo *, double *nrx, double count_from, int64_t *ncounted, StgssaScoreAcc *acc, double *score_sample);
/* The accumulators for P fitted parameters (rp: [R] parameter of each mass-action reaction or -1;
   fit_param: [P] model parameter of each fitted one, may be NULL without laws); S is the caller's. */
PETSC_EXTERN PetscErrorCode StgssaScoreAccCreate(const StgssaNetwork *, PetscInt P, const PetscInt *rp, const PetscInt *fit_param, StgssaScoreAcc *);
PETSC_EXTERN PetscErrorCode StgssaScoreAccDestroy(StgssaScoreAcc *);
PETSC_EXTERN PetscErrorCode StgssaRSSACreate(const StgssaNetwork *, StgssaRSSA *);
PETSC_EXTERN PetscErrorCode StgssaRSSADestroy(StgssaRSSA *);
/* The method auto resolves to on this network (direct or tree); reason: a short why. */
PETSC_EXTERN StgssaSSAMethod StgssaSSAMethodResolve(StgssaSSAMethod, const StgssaNetwork *, const char **reason);

/* Counts stay <= STGSSA_COUNT_MAX (modeldef.h): the parsers refuse larger initial counts, and a
   jump beyond it stops the run (StgssaJump). */
/* "A=1, B=2, ..." (cut with ", ..." when longer than len). */
PETSC_EXTERN PetscErrorCode StgssaFormatState(const StgssaNetwork *, const int64_t *x, char buf[], size_t len);
/* The error of a count beyond STGSSA_COUNT_MAX: species s after reaction j fired at time t. */
PETSC_EXTERN PetscErrorCode StgssaCountOverflowError(const StgssaNetwork *, PetscInt j, const int64_t *x, PetscInt s, double t);

/* Fire reaction j at time t: x += nu_j, one comparison per changed species (the count guard). */
static inline PetscErrorCode StgssaJump(const StgssaNetwork *net, PetscInt j, int64_t *x, double t)
{
  for (PetscInt i = net->nu_ptr[j]; i < net->nu_ptr[j + 1]; i++) {
    const PetscInt s = net->nu_species[i];
    x[s] += net->nu_delta[i];
    if (PetscUnlikely(x[s] > STGSSA_COUNT_MAX)) return StgssaCountOverflowError(net, j, x, s, t);
  }
  return 0;
}

/* Mass-action propensity a_j(x) = k_j prod_s C(x_s, r_js)   (DESIGN.md §2) */
static inline double StgssaPropensity(const StgssaNetwork *net, PetscInt j, const int64_t *x)
{
  double a = net->k[j];
  if (net->order1[j] >= 0) return a * (double)x[net->order1[j]]; /* fast paths: first and zeroth order */
  if (net->order1[j] == -1) return a;
  for (PetscInt t = net->react_ptr[j]; t < net->react_ptr[j + 1]; t++) {
    const int64_t n = x[net->react_species[t]];
    const PetscInt c = net->react_coef[t];
    if (n < c) return 0.0;
    /* C(n, c) = prod_{i=0}^{c-1} (n - i) / (i + 1) */
    double b = (double)n;
    for (PetscInt i = 1; i < c; i++) b = b * (double)(n - i) / (double)(i + 1);
    a *= b;
  }
  return a;
}

/* a_j of any reaction: mass action, or the rate law read at env's state and time. */
static inline double StgssaPropensityAt(const StgssaNetwork *net, PetscInt j, const int64_t *x, const StgssaLawEnv *env)
{
  return net->order1[j] == -3 ? StgssaPropensityLaw(net, j, x, env) : StgssaPropensity(net, j, x);
}

/* Index j with cumulative propensity first exceeding target = U a_0 (reactions with a_j = 0 can
   never be the first to exceed it). Rounding can leave target at or above the last partial sum:
   then the last reaction with a_j > 0 is chosen. Shared by every engine so that forward paths
   agree to the bit. */
static inline PetscInt StgssaSelectReaction(PetscInt R, const double *a, double target)
{
  double cum = 0.0;
  for (PetscInt j = 0; j < R; j++) {
    cum += a[j];
    if (cum > target) return j;
  }
  for (PetscInt j = R - 1; j > 0; j--)
    if (a[j] > 0.0) return j;
  return 0;
}

/* Small networks: every propensity recomputed into a, their partial sums into cum (cum[R-1] = a_0,
   the sum StgssaPropensitiesAll forms, in the same order, so the same double); returns a_0. */
static inline double StgssaPropensitiesCumulative(const StgssaNetwork *net, const int64_t *x, double *restrict a, double *restrict cum)
{
  double a0 = 0.0;
  for (PetscInt j = 0; j < net->R; j++) {
    a[j] = StgssaPropensity(net, j, x);
    a0 += a[j];
    cum[j] = a0;
  }
  return a0;
}

/* StgssaSelectReaction from the partial sums, without data-dependent branches: the partial sums
   are non-decreasing (a_j >= 0 and rounding is monotone), so the first index whose partial sum
   exceeds the target is the number of partial sums that do not; the comparisons are independent
   of each other, off the chain of additions. The rounding case falls back. Same answer, bit for bit. */
static inline PetscInt StgssaSelectReactionCumulative(PetscInt R, const double *a, const double *restrict cum, double target)
{
  PetscInt j = 0;
  for (PetscInt i = 0; i < R; i++) j += (PetscInt)(cum[i] <= target);
  return PetscLikely(j < R) ? j : StgssaSelectReaction(R, a, target);
}

/* StgssaJump through the dense row nu_dense[j*S..]: every species, no branch on which change. */
static inline PetscErrorCode StgssaJumpDense(const StgssaNetwork *net, PetscInt j, int64_t *x, double t)
{
  const PetscInt           S  = net->S;
  const int64_t *restrict  nd = &net->nu_dense[j * S];
  int                      over = 0;
  for (PetscInt s = 0; s < S; s++) {
    x[s] += nd[s];
    over |= x[s] > STGSSA_COUNT_MAX;
  }
  if (PetscUnlikely(over))
    for (PetscInt s = 0; s < S; s++)
      if (x[s] > STGSSA_COUNT_MAX) return StgssaCountOverflowError(net, j, x, s, t);
  return 0;
}

/* a_0 = sum_j a_j in index order, recomputing every propensity. */
static inline double StgssaPropensitiesAll(const StgssaNetwork *net, const int64_t *x, double *a)
{
  double a0 = 0.0;
  for (PetscInt j = 0; j < net->R; j++) {
    a[j] = StgssaPropensity(net, j, x);
    a0 += a[j];
  }
  return a0;
}

/* The forward draws of the eight events event0..event0+7 (event0 a multiple of 8): u1[l] = U_1 and
   e2[l] = -log U_2 of event event0 + l, from counter block 0. The logarithms of a batch are
   independent of the path, so computing them together takes libm's latency off the event loop;
   the values are those of the one-at-a-time formulas (same Philox words, same log). */
static inline void StgssaForwardDraws8(uint32_t iteration, uint64_t event0, StgssaPhiloxKey key, double u1[STGSSA_PHILOX_LANES], double e2[STGSSA_PHILOX_LANES])
{
  uint32_t rbuf[4][STGSSA_PHILOX_LANES];
  StgssaPhiloxEvents8(iteration, event0, 0, key, rbuf);
  for (int l = 0; l < STGSSA_PHILOX_LANES; l++) {
    u1[l] = StgssaUniformOpen(rbuf[0][l], rbuf[1][l]);
    e2[l] = -StgssaFastLog(StgssaUniformOpen(rbuf[2][l], rbuf[3][l]));
  }
}

/* Scheduled events (issue 18; src/ssa/events.c). Binomial draws of events from counter block
   STGSSA_EVENT_BLOCK, event = the trajectory's draw number. */
#define STGSSA_EVENT_BLOCK 0x40000000u
/* Binomial(n, F) from one uniform u in (0, 1), by inversion from the mode. */
PETSC_EXTERN int64_t        StgssaBinomialInversion(int64_t n, double F, double u);
/* Apply every event occurring at te (in file order) to x; *ndraw counts the binomial draws of the
   trajectory. With xdot ([S*P], ST-GS tangents) also the tangents: divide/scale by the mean map
   (xdot <- F xdot + x dF/dtheta), set: dEXPR/dtheta, add/sub: +- dEXPR/dtheta (0 when clamped);
   fit_param [P] and dlog [nparams] scratch are then needed. The caller recomputes propensities. */
PETSC_EXTERN PetscErrorCode StgssaEventsApply(const StgssaSSAConfig *, StgssaPhiloxKey key, double te, int64_t *x, uint64_t *ndraw, double *xdot, PetscInt P, const PetscInt *fit_param, double *dlog);
/* PETSC_TRUE when some event's value reads one of the fitted parameters fit_param[0..P). */
PETSC_EXTERN PetscBool StgssaEventsReadFit(const StgssaNetwork *, PetscInt P, const PetscInt *fit_param);
/* First event time at or after t (the engines' start; +inf without events). */
static inline double StgssaEventsFirst(const StgssaNetwork *net, double t) { return net->nevents ? StgssaModelDefNextEventTime(net->def, nextafter(t, -PETSC_INFINITY)) : PETSC_INFINITY; }

/* Time at which rate laws are read: the burn-in of -stgssa_initial steady (t < 0) sees t = 0. */
static inline double StgssaLawTime(double t) { return t > 0.0 ? t : 0.0; }

/* Shared by the engines (src/ssa/thinning.c). */
/* Every propensity at env's state and time, checked (laws); *a0 = sum in index order. */
PETSC_EXTERN PetscErrorCode StgssaPropensitiesAllAt(const StgssaNetwork *, const int64_t *x, const StgssaLawEnv *, double t, double *a, double *a0);
/* Fire reaction j: x += nu_j (and env->xd); then recompute the propensities of j's dependents
   into a (time-independent ones; with thin != NULL the bounds of time-dependent ones over
   [t, thin->th)), and return the new sum in *a0 (index order). */
PETSC_EXTERN PetscErrorCode StgssaFireAndUpdate(const StgssaSSAConfig *, PetscInt j, int64_t *x, StgssaLawEnv *, double t, double *a, StgssaThin *thin, double *a0);
/* The second half of StgssaFireAndUpdate: x (and env->xd) already moved by nu_j. */
PETSC_EXTERN PetscErrorCode StgssaUpdateDependents(const StgssaSSAConfig *, PetscInt j, const int64_t *x, StgssaLawEnv *, double t, double *a, StgssaThin *thin, double *a0);
PETSC_EXTERN PetscErrorCode StgssaThinCreate(const StgssaNetwork *, StgssaThin *);
PETSC_EXTERN PetscErrorCode StgssaThinDestroy(StgssaThin *);
/* Start the grid cell containing t and bound every time-dependent propensity over it. */
PETSC_EXTERN PetscErrorCode StgssaThinCell(const StgssaSSAConfig *, StgssaThin *, const int64_t *x, StgssaLawEnv *, double t);
/* Next accepted event after time t: draws proposals from counter slots *prop, *prop + 1, ...
   On return *tnext > cfg->tfinal when no event comes before tfinal; otherwise *j is the reaction,
   *slot the counter slot of the accepted proposal, thin->at the propensities at *tnext (env's
   time is *tnext) and *a0 their sum. *capped: the proposal cap was reached first. */
PETSC_EXTERN PetscErrorCode StgssaThinNext(const StgssaSSAConfig *, StgssaPhiloxKey key, StgssaThin *, const int64_t *x, StgssaLawEnv *, double t, int64_t *prop, int64_t *slot, double *tnext, PetscInt *j, double *a0, PetscBool *capped);

#endif
