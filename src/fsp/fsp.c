/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaFSP: finite-state-projection chemical master equation with sensitivities
  (DESIGN.md section 2, "exact, for small models"). See include/stgssa/fsp.h for the equations.

  Every rank enumerates the same projection (breadth-first from x0, reactions in model order),
  so states are numbered identically everywhere; the matrices are distributed by PETSc's default
  row layout and each rank assembles only the rows it owns. Results are gathered to every rank
  (VecScatterCreateToAll) and reduced there in the same order, so every rank holds bitwise the
  same marginals.
*/
#include <stgssa/fsp.h> /* first: declares struct _p_StgssaFSP before headers that name it */
#include <stgssa/stgssa.h>
#include <stgssa/output.h>
#include <petscts.h>
#include <math.h>

#define STGSSA_FSP_MAX_SAMPLES 65536
#define STGSSA_FSP_MAX_ITEMS 4096

struct _p_StgssaFSP {
  MPI_Comm    comm;
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
  PetscBool  setup;
  /* projection (after SetUp; the same on every rank) */
  PetscInt   S, R;
  PetscInt  *bound;                          /* [S] upper bound of species s, -1: bounded by reachability */
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
  PetscReal *flux;           /* [nsample*S] probability flux out of the projection through the bound of s */
  PetscReal *fullp, *fulldp; /* [nsample*n], [nsample*n*P] with -stgssa_fsp_full */
  PetscBool  done;
};

/* Value of group g of the model in state x: sum_t w_t x_{s_t} (integer weights, checked). */
static inline int64_t StgssaFSPGroupValue(const StgssaModelDef *def, PetscInt g, const int64_t *x)
{
  const StgssaGroupDef *gr = &def->groups[g];
  int64_t               v  = 0;
  for (int t = 0; t < gr->nterms; t++) v += (int64_t)gr->weight[t] * x[gr->species[t]];
  return v;
}

/* ---------------------------------------------------------------------------------------------- */
/* configuration */

PetscErrorCode StgssaFSPCreate(MPI_Comm comm, StgssaFSP *fsp)
{
  StgssaFSP f;

  PetscFunctionBegin;
  PetscCall(StgssaInitializePackage());
  PetscCall(PetscNew(&f));
  f->comm       = comm;
  f->tol        = 1e-6;
  f->max_states = 1000000;
  *fsp          = f;
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaFSPReset(StgssaFSP f);

PetscErrorCode StgssaFSPSetModel(StgssaFSP f, StgssaModel model)
{
  PetscFunctionBegin;
  f->model = model;
  PetscCall(StgssaFSPReset(f));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPSetFit(StgssaFSP f, PetscInt P, const char *const names[])
{
  PetscFunctionBegin;
  PetscCheck(P >= 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "StgssaFSPSetFit: expected P >= 0, got %" PetscInt_FMT, P);
  for (PetscInt q = 0; q < f->P && f->fit_names; q++)
    PetscCall(PetscFree(f->fit_names[q]));
  PetscCall(PetscFree(f->fit_names));
  f->P = P;
  PetscCall(PetscMalloc1(P + 1, &f->fit_names)); /* non-NULL even for P = 0: "no parameters" */
  for (PetscInt q = 0; q < P; q++)
    PetscCall(PetscStrallocpy(names[q], &f->fit_names[q]));
  PetscCall(StgssaFSPReset(f));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPSetTimes(StgssaFSP f, PetscInt nsample, const PetscReal times[])
{
  PetscReal last = -1;

  PetscFunctionBegin;
  PetscCheck(nsample >= 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "StgssaFSPSetTimes: expected nsample >= 0, got %" PetscInt_FMT, nsample);
  for (PetscInt i = 0; i < nsample; i++) {
    PetscCheck(!PetscIsInfOrNanReal(times[i]), f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_sample_times: entry %" PetscInt_FMT " is not a finite number", i + 1);
    if (times[i] < 0) continue; /* the steady state */
    PetscCheck(times[i] > last, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_sample_times: expected strictly increasing times, entry %" PetscInt_FMT " = %g follows %g", i + 1, (double)times[i], (double)last);
    last = times[i];
  }
  PetscCall(PetscFree(f->times));
  f->nsample = nsample ? nsample : 1;
  PetscCall(PetscMalloc1(f->nsample, &f->times));
  if (nsample)
    PetscCall(PetscArraycpy(f->times, times, nsample));
  else
    f->times[0] = -1; /* steady state */
  PetscCall(StgssaFSPReset(f));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPSetBound(StgssaFSP f, const char species[], PetscInt bound)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < f->nbnd; i++) {
    PetscBool same;
    PetscCall(PetscStrcmp(f->bnd_names[i], species, &same));
    if (same) {
      f->bnd_values[i] = bound < 0 ? -1 : bound;
      PetscCall(StgssaFSPReset(f));
      PetscFunctionReturn(0);
    }
  }
  {
    char    **names;
    PetscInt *values;
    PetscCall(PetscMalloc2(f->nbnd + 1, &names, f->nbnd + 1, &values));
    if (f->nbnd) {
      PetscCall(PetscArraycpy(names, f->bnd_names, f->nbnd));
      PetscCall(PetscArraycpy(values, f->bnd_values, f->nbnd));
    }
    PetscCall(PetscStrallocpy(species, &names[f->nbnd]));
    values[f->nbnd] = bound < 0 ? -1 : bound;
    PetscCall(PetscFree2(f->bnd_names, f->bnd_values));
    f->bnd_names  = names;
    f->bnd_values = values;
    f->nbnd++;
  }
  PetscCall(StgssaFSPReset(f));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPSetTolerance(StgssaFSP f, PetscReal tol)
{
  PetscFunctionBegin;
  PetscCheck(tol >= 0 && !PetscIsInfOrNanReal(tol), f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_fsp_tol must be a nonnegative number, got %g", (double)tol);
  f->tol = tol;
  PetscFunctionReturn(0);
}

const char *const StgssaFSPInitials[] = {"x0", "steady", "StgssaFSPInitial", "STGSSA_FSP_INITIAL_", NULL};

PetscErrorCode StgssaFSPSetInitial(StgssaFSP f, StgssaFSPInitial initial)
{
  PetscFunctionBegin;
  PetscCheck(initial == STGSSA_FSP_INITIAL_X0 || initial == STGSSA_FSP_INITIAL_STEADY, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "StgssaFSPSetInitial: unknown initial distribution %d", (int)initial);
  if (initial != f->initial) PetscCall(StgssaFSPReset(f)); /* the steady-state operator is needed or not */
  f->initial = initial;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPSetFromOptions(StgssaFSP f)
{
  StgssaFSPInitial initial = f->initial;
  PetscReal *times, tfinal = 10.0, tol = f->tol;
  PetscInt   ntimes = STGSSA_FSP_MAX_SAMPLES, nmax = STGSSA_FSP_MAX_ITEMS, nfit = STGSSA_FSP_MAX_ITEMS;
  char     **maxs, **fit;
  PetscBool  set_times = PETSC_FALSE, set_tf = PETSC_FALSE, set_max = PETSC_FALSE, set_fit = PETSC_FALSE, steady = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(PetscCalloc1(ntimes, &times));
  PetscCall(PetscCalloc2(nmax, &maxs, nfit, &fit));
  PetscOptionsBegin(f->comm, NULL, "Finite state projection (FSP-CME) options", "StgssaFSP");
  PetscCall(PetscOptionsStringArray("-stgssa_fsp_max", "Upper bounds of species counts S1=N1,S2=N2 (needed for every species whose count can grow without limit)", "StgssaFSPSetBound", maxs, &nmax, &set_max));
  PetscCall(PetscOptionsReal("-stgssa_fsp_tol", "Largest acceptable probability mass lost from the projection (transient: 1 - sum p; steady state: mass on the boundary states)", "StgssaFSPSetTolerance", tol, &tol, NULL));
  PetscCall(PetscOptionsBool("-stgssa_fsp_steady", "Solve for the steady state instead of the sample times", "StgssaFSPSetTimes", steady, &steady, NULL));
  PetscCall(PetscOptionsBool("-stgssa_fsp_full", "Keep (and write) the full distribution over the projection's states", "StgssaFSPGetFull", f->full, &f->full, NULL));
  PetscCall(PetscOptionsBoundedInt("-stgssa_fsp_max_states", "Largest number of states in the projection", "StgssaFSPSetUp", f->max_states, &f->max_states, NULL, 1));
  PetscCall(PetscOptionsRealArray("-stgssa_sample_times", "Sample times t1,t2,... ascending (default: -stgssa_tfinal if given, else the steady state)", "StgssaFSPSetTimes", times, &ntimes, &set_times));
  PetscCall(PetscOptionsReal("-stgssa_tfinal", "End time, the FSP's sample time when -stgssa_sample_times is not given", "StgssaFSPSetTimes", tfinal, &tfinal, &set_tf));
  PetscCall(PetscOptionsStringArray("-stgssa_fit", "Parameters to differentiate by, e.g. k_on,k_off (default: all)", "StgssaFSPSetFit", fit, &nfit, &set_fit));
  PetscCall(PetscOptionsEnum("-stgssa_initial",
                             "Initial distribution: x0 (the model's initial counts) or steady (the stationary distribution with the inputs at t = 0; FSP: solved exactly with its sensitivities, SSA: after a burn-in of -stgssa_initial_burnin)",
                             "StgssaFSPSetInitial", StgssaFSPInitials, (PetscEnum)initial, (PetscEnum *)&initial, NULL));
  PetscOptionsEnd();
  PetscCall(StgssaFSPSetInitial(f, initial));
  PetscCall(StgssaFSPSetTolerance(f, tol));
  if (set_max) {
    for (PetscInt i = 0; i < nmax; i++) {
      char     *eq, *end;
      long long v;
      PetscCall(PetscStrchr(maxs[i], '=', &eq));
      PetscCheck(eq && eq != maxs[i], f->comm, PETSC_ERR_ARG_WRONG, "-stgssa_fsp_max: expected SPECIES=BOUND, got '%s'", maxs[i]);
      *eq = 0;
      v   = strtoll(eq + 1, &end, 10);
      PetscCheck(eq[1] && !*end && v >= 0 && v <= PETSC_MAX_INT / 2, f->comm, PETSC_ERR_ARG_WRONG, "-stgssa_fsp_max: bound of '%s' must be a nonnegative integer, got '%s'", maxs[i], eq + 1);
      PetscCall(StgssaFSPSetBound(f, maxs[i], (PetscInt)v));
    }
  }
  if (set_fit) {
    PetscCheck(nfit > 0, f->comm, PETSC_ERR_ARG_WRONG, "-stgssa_fit: expected a comma-separated list of parameter names");
    PetscCall(StgssaFSPSetFit(f, nfit, (const char *const *)fit));
  }
  if (steady)
    PetscCall(StgssaFSPSetTimes(f, 0, NULL));
  else if (set_times)
    PetscCall(StgssaFSPSetTimes(f, ntimes, times));
  else if (set_tf) {
    PetscCheck(tfinal >= 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_tfinal must be nonnegative, got %g", (double)tfinal);
    PetscCall(StgssaFSPSetTimes(f, 1, &tfinal));
  }
  for (PetscInt i = 0; i < STGSSA_FSP_MAX_ITEMS; i++) {
    PetscCall(PetscFree(maxs[i]));
    PetscCall(PetscFree(fit[i]));
  }
  PetscCall(PetscFree2(maxs, fit));
  PetscCall(PetscFree(times));
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------------------------------------- */
/* state enumeration */

/* Open-addressing hash map: state vector -> index into the state list. */
typedef struct {
  PetscInt  cap;  /* power of two */
  PetscInt *slot; /* state index or -1 */
} StgssaStateMap;

static inline uint64_t StgssaMix64(uint64_t z)
{
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static inline uint64_t StgssaStateHash(const int64_t *x, PetscInt S)
{
  uint64_t h = UINT64_C(0x9e3779b97f4a7c15);
  for (PetscInt s = 0; s < S; s++)
    h = StgssaMix64(h ^ (uint64_t)x[s]);
  return h;
}

/* Index of state y in the list x (n states), or -1. */
static PetscInt StgssaStateMapFind(const StgssaStateMap *m, const int64_t *x, PetscInt S, const int64_t *y)
{
  PetscInt i = (PetscInt)(StgssaStateHash(y, S) & (uint64_t)(m->cap - 1));
  for (;; i = (i + 1) & (m->cap - 1)) {
    const PetscInt k = m->slot[i];
    if (k < 0) return -1;
    if (!memcmp(&x[k * S], y, (size_t)S * sizeof(int64_t))) return k;
  }
}

static void StgssaStateMapInsert(StgssaStateMap *m, const int64_t *x, PetscInt S, PetscInt k)
{
  PetscInt i = (PetscInt)(StgssaStateHash(&x[k * S], S) & (uint64_t)(m->cap - 1));
  while (m->slot[i] >= 0)
    i = (i + 1) & (m->cap - 1);
  m->slot[i] = k;
}

static PetscErrorCode StgssaStateMapResize(StgssaStateMap *m, const int64_t *x, PetscInt S, PetscInt n, PetscInt cap)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(m->slot));
  m->cap = cap;
  PetscCall(PetscMalloc1(cap, &m->slot));
  for (PetscInt i = 0; i < cap; i++)
    m->slot[i] = -1;
  for (PetscInt k = 0; k < n; k++)
    StgssaStateMapInsert(m, x, S, k);
  PetscFunctionReturn(0);
}

/* Combinatorial factor h_r(x) = a_r(x)/k_r = prod_s C(x_s, r_rs), from the engine's propensity with unit rates. */
static inline PetscReal StgssaFSPFactor(const StgssaNetwork *unit, PetscInt r, const int64_t *x)
{
  return StgssaPropensity(unit, r, x);
}

/* Whether reaction r jumps out of x. Mass action: when its reactants are present (h_r(x) > 0,
   whatever k_r). A rate law also needs a_r(x) != 0 at t = 0 or, when it depends on time, no proof
   that a_r(x, t) <= 0 over [0, tmax] (StgssaPropensityUpper); NaN and negative values count as
   jumps, so that the assembly reports them. *excluded: a law reaction whose reactants are present
   but whose propensity is 0 (recorded, to rebuild the projection if new parameters change that). */
static PetscBool StgssaFSPJumps(StgssaFSP f, const StgssaNetwork *net, const StgssaNetwork *unit, PetscInt r, const int64_t *x, PetscReal *h, PetscBool *excluded)
{
  double a;

  *excluded = PETSC_FALSE;
  *h        = StgssaFSPFactor(unit, r, x);
  if (*h <= 0) return PETSC_FALSE;
  if (net->order1[r] != -3) return PETSC_TRUE;
  StgssaLawEnvSetState(net, &f->env, x);
  StgssaLawEnvSetTime(net, &f->env, 0.0, PETSC_FALSE);
  a = StgssaPropensityLaw(net, r, x, &f->env);
  if (a != 0.0) return PETSC_TRUE;
  if (net->tdep[r] && f->any_transient && f->tmax > 0) {
    const double up = StgssaPropensityUpper(net, r, x, &f->env, 0.0, f->tmax);
    if (!(up <= 0.0)) return PETSC_TRUE;
  }
  *excluded = PETSC_TRUE;
  return PETSC_FALSE;
}

/* Breadth-first enumeration from x0: a jump x -> x + nu_r (StgssaFSPJumps) stays in the projection
   unless it takes a bounded species above its bound; those jumps are recorded as leaks. */
static PetscErrorCode StgssaFSPEnumerate(StgssaFSP f, const StgssaNetwork *net, const StgssaNetwork *unit)
{
  const PetscInt S   = f->S;
  PetscInt       cap = 1024, lcap = 256, zcap = 0;
  StgssaStateMap map = {0, NULL};
  int64_t       *y;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(cap * S, &f->x));
  PetscCall(PetscMalloc4(lcap, &f->lk_state, lcap, &f->lk_rxn, lcap, &f->lk_species, lcap, &f->lk_h));
  PetscCall(PetscMalloc1(S, &y));
  PetscCall(PetscArraycpy(f->x, net->x0, S));
  f->n     = 1;
  f->nleak = 0;
  f->nzl   = 0;
  PetscCall(StgssaStateMapResize(&map, f->x, S, 1, 4096));
  for (PetscInt head = 0; head < f->n; head++) {
    for (PetscInt r = 0; r < f->R; r++) {
      PetscInt  over = -1;
      PetscReal h;
      PetscBool excluded;
      if (net->nu_ptr[r] == net->nu_ptr[r + 1]) continue; /* no net change: no effect on the CME */
      if (!StgssaFSPJumps(f, net, unit, r, &f->x[head * S], &h, &excluded)) {
        if (excluded) {
          if (f->nzl == zcap) {
            PetscInt *a, *b;
            zcap = zcap ? 2 * zcap : 64;
            PetscCall(PetscMalloc2(zcap, &a, zcap, &b));
            if (f->nzl) {
              PetscCall(PetscArraycpy(a, f->zl_state, f->nzl));
              PetscCall(PetscArraycpy(b, f->zl_rxn, f->nzl));
            }
            PetscCall(PetscFree2(f->zl_state, f->zl_rxn));
            f->zl_state = a, f->zl_rxn = b;
          }
          f->zl_state[f->nzl]  = head;
          f->zl_rxn[f->nzl++] = r;
        }
        continue;
      }
      if (net->order1[r] == -3) h = 1.0; /* law: the propensity is evaluated at each assembly */
      PetscCall(PetscArraycpy(y, &f->x[head * S], S));
      for (PetscInt u = net->nu_ptr[r]; u < net->nu_ptr[r + 1]; u++) {
        const PetscInt s = net->nu_species[u];
        y[s] += net->nu_delta[u];
        PetscCheck(y[s] >= 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "FSP: reaction %" PetscInt_FMT " makes a count negative", r);
        if (over < 0 && f->bound[s] >= 0 && y[s] > f->bound[s]) over = s;
      }
      if (over >= 0) { /* leaves the projection */
        if (f->nleak == lcap) {
          PetscInt  *a, *b, *c;
          PetscReal *d;
          PetscCall(PetscMalloc4(2 * lcap, &a, 2 * lcap, &b, 2 * lcap, &c, 2 * lcap, &d));
          PetscCall(PetscArraycpy(a, f->lk_state, lcap));
          PetscCall(PetscArraycpy(b, f->lk_rxn, lcap));
          PetscCall(PetscArraycpy(c, f->lk_species, lcap));
          PetscCall(PetscArraycpy(d, f->lk_h, lcap));
          PetscCall(PetscFree4(f->lk_state, f->lk_rxn, f->lk_species, f->lk_h));
          f->lk_state = a, f->lk_rxn = b, f->lk_species = c, f->lk_h = d;
          lcap *= 2;
        }
        f->lk_state[f->nleak]   = head;
        f->lk_rxn[f->nleak]     = r;
        f->lk_species[f->nleak] = over;
        f->lk_h[f->nleak++]     = h;
        continue;
      }
      if (StgssaStateMapFind(&map, f->x, S, y) >= 0) continue;
      if (f->n == f->max_states) { /* the same verdict on every rank: the enumeration is deterministic */
        char                  msg[4096] = "";
        const StgssaModelDef *def;
        PetscCall(StgssaModelGetDef(f->model, &def));
        for (PetscInt s = 0; s < S; s++) {
          int64_t mx = 0;
          char    item[128];
          if (f->bound[s] >= 0) continue;
          for (PetscInt k = 0; k < f->n; k++)
            mx = PetscMax(mx, f->x[k * S + s]);
          PetscCall(PetscSNPrintf(item, sizeof(item), "%s%s (count %" PRId64 ")", msg[0] ? ", " : "", def->species[s].name, mx));
          PetscCall(PetscStrlcat(msg, item, sizeof(msg)));
        }
        PetscCall(PetscFree(y));
        PetscCall(PetscFree(map.slot));
        SETERRQ(f->comm, PETSC_ERR_ARG_OUTOFRANGE,
                "FSP: the projection reached -stgssa_fsp_max_states %" PetscInt_FMT
                " states. Species without a bound reached: %s. Give -stgssa_fsp_max SPECIES=BOUND for every species whose count can grow without limit (or lower the bounds, or raise -stgssa_fsp_max_states)",
                f->max_states, msg[0] ? msg : "(none; every species is bounded)");
      }
      if (f->n == cap) {
        int64_t *bigger;
        PetscCall(PetscMalloc1(2 * cap * S, &bigger));
        PetscCall(PetscArraycpy(bigger, f->x, cap * S));
        PetscCall(PetscFree(f->x));
        f->x = bigger;
        cap *= 2;
      }
      PetscCall(PetscArraycpy(&f->x[f->n * S], y, S));
      if (2 * (f->n + 1) > map.cap) PetscCall(StgssaStateMapResize(&map, f->x, S, f->n, 2 * map.cap));
      StgssaStateMapInsert(&map, f->x, S, f->n);
      f->n++;
    }
  }
  PetscCall(PetscFree(y));
  PetscCall(PetscFree(map.slot));
  PetscFunctionReturn(0);
}

/* For each owned row i: the jumps into x_i (column j = source, +h_r(x_j)) and out of x_i
   (diagonal, -h_r(x_i), including jumps that leave the projection); unique sorted columns. */
static PetscErrorCode StgssaFSPBuildRows(StgssaFSP f, const StgssaNetwork *net, const StgssaNetwork *unit)
{
  const PetscInt S = f->S, nloc = f->rend - f->rstart;
  StgssaStateMap map = {0, NULL};
  PetscInt       ntr = 0, ncol = 0, *cols;
  int64_t       *y;

  PetscFunctionBegin;
  {
    PetscInt cap = 16;
    while (cap < 2 * f->n)
      cap *= 2;
    PetscCall(StgssaStateMapResize(&map, f->x, S, f->n, cap));
  }
  PetscCall(PetscMalloc1(S, &y));
  PetscCall(PetscMalloc1(2 * f->R + 1, &cols));
  PetscCall(PetscMalloc2(nloc + 1, &f->tr_ptr, nloc + 1, &f->row_ptr));
  /* two passes: count, then fill */
  for (int pass = 0; pass < 2; pass++) {
    ntr = ncol = 0;
    f->maxcols = 0;
    for (PetscInt li = 0; li < nloc; li++) {
      const PetscInt i  = f->rstart + li;
      const int64_t *xi = &f->x[i * S];
      PetscInt       nc = 0, t0 = ntr;
      f->tr_ptr[li]  = ntr;
      f->row_ptr[li] = ncol;
      for (PetscInt r = 0; r < f->R; r++) {
        PetscBool ok = PETSC_TRUE, excluded;
        PetscInt  j;
        PetscReal h;
        if (net->nu_ptr[r] == net->nu_ptr[r + 1]) continue;
        /* out of x_i: diagonal */
        if (StgssaFSPJumps(f, net, unit, r, xi, &h, &excluded)) {
          if (pass) {
            f->tr_rxn[ntr] = r;
            f->tr_h[ntr]   = net->order1[r] == -3 ? -1.0 : -h;
            f->tr_pos[ntr] = i; /* column for now; position below */
          }
          ntr++;
          cols[nc++] = i;
        }
        /* into x_i from x_i - nu_r */
        PetscCall(PetscArraycpy(y, xi, S));
        for (PetscInt u = net->nu_ptr[r]; u < net->nu_ptr[r + 1]; u++) {
          y[net->nu_species[u]] -= net->nu_delta[u];
          if (y[net->nu_species[u]] < 0) ok = PETSC_FALSE;
        }
        if (!ok || (j = StgssaStateMapFind(&map, f->x, S, y)) < 0) continue;
        if (!StgssaFSPJumps(f, net, unit, r, y, &h, &excluded)) continue;
        if (pass) {
          f->tr_rxn[ntr] = r;
          f->tr_h[ntr]   = net->order1[r] == -3 ? 1.0 : h;
          f->tr_pos[ntr] = j;
        }
        ntr++;
        cols[nc++] = j;
      }
      /* every row holds its diagonal (kept even if zero: absorbing states) */
      cols[nc++] = i;
      PetscCall(PetscSortRemoveDupsInt(&nc, cols));
      if (pass) {
        PetscCall(PetscArraycpy(&f->row_col[ncol], cols, nc));
        for (PetscInt t = t0; t < ntr; t++) {
          PetscInt loc;
          PetscCall(PetscFindInt(f->tr_pos[t], nc, cols, &loc));
          f->tr_pos[t] = ncol + loc;
        }
      }
      ncol += nc;
      f->maxcols = PetscMax(f->maxcols, nc);
    }
    f->tr_ptr[nloc]  = ntr;
    f->row_ptr[nloc] = ncol;
    if (!pass) {
      PetscCall(PetscMalloc3(ntr, &f->tr_pos, ntr, &f->tr_rxn, ntr, &f->tr_h));
      PetscCall(PetscMalloc1(ncol, &f->row_col));
    }
  }
  PetscCall(PetscFree(cols));
  PetscCall(PetscFree(y));
  PetscCall(PetscFree(map.slot));
  PetscFunctionReturn(0);
}

/* A preallocated AIJ matrix with the pattern of A, blown up by (1+P) when aug (the transient
   operator J), or with a dense row 0 when dense0 (the steady-state operator). */
static PetscErrorCode StgssaFSPCreateMat(StgssaFSP f, PetscBool aug, PetscBool dense0, Mat *mat)
{
  const PetscInt nloc = f->rend - f->rstart, B = aug ? 1 + f->P : 1;
  PetscInt      *dnnz, *onnz;

  PetscFunctionBegin;
  PetscCall(PetscCalloc2(nloc * B, &dnnz, nloc * B, &onnz));
  for (PetscInt li = 0; li < nloc; li++) {
    PetscInt d = 0, o = 0;
    for (PetscInt c = f->row_ptr[li]; c < f->row_ptr[li + 1]; c++) {
      if (f->row_col[c] >= f->rstart && f->row_col[c] < f->rend)
        d++;
      else
        o++;
    }
    for (PetscInt b = 0; b < B; b++) { /* block row b >= 1: columns (j,0) and (j,b) */
      dnnz[li * B + b] = b ? 2 * d : d;
      onnz[li * B + b] = b ? 2 * o : o;
    }
  }
  if (dense0 && f->rstart == 0 && nloc > 0) {
    dnnz[0] = nloc;
    onnz[0] = f->n - nloc;
  }
  PetscCall(MatCreate(f->comm, mat));
  PetscCall(MatSetSizes(*mat, nloc * B, nloc * B, f->n * B, f->n * B));
  PetscCall(MatSetBlockSize(*mat, B)); /* vectors interleave (p_i, s_1i..s_Pi): VecStride* picks a block */
  PetscCall(MatSetType(*mat, MATAIJ));
  PetscCall(MatSeqAIJSetPreallocation(*mat, 0, dnnz));
  PetscCall(MatMPIAIJSetPreallocation(*mat, 0, dnnz, 0, onnz));
  PetscCall(MatSetOption(*mat, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_TRUE));
  PetscCall(PetscFree2(dnnz, onnz));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaFSPFreeSetUp(StgssaFSP f)
{
  PetscFunctionBegin;
  PetscCall(PetscFree2(f->bound, f->maxcount));
  PetscCall(PetscFree(f->fit_param));
  PetscCall(PetscFree(f->rxn_fit));
  PetscCall(PetscFree(f->x));
  PetscCall(PetscFree4(f->lk_state, f->lk_rxn, f->lk_species, f->lk_h));
  PetscCall(PetscFree2(f->nbins, f->boff));
  PetscCall(PetscFree(f->kunit));
  PetscCall(PetscFree2(f->tr_ptr, f->row_ptr));
  PetscCall(PetscFree3(f->tr_pos, f->tr_rxn, f->tr_h));
  PetscCall(PetscFree(f->row_col));
  PetscCall(MatDestroy(&f->A));
  if (f->dA)
    for (PetscInt q = 0; q < f->P; q++)
      PetscCall(MatDestroy(&f->dA[q]));
  PetscCall(PetscFree(f->dA));
  PetscCall(MatDestroy(&f->Mss));
  PetscCall(MatDestroy(&f->J));
  PetscCall(MatDestroy(&f->Jshift));
  PetscCall(MatDestroy(&f->K));
  PetscCall(KSPDestroy(&f->kstage));
  PetscCall(VecDestroy(&f->u));
  PetscCall(VecDestroy(&f->v));
  PetscCall(VecDestroy(&f->w));
  PetscCall(KSPDestroy(&f->ksp));
  PetscCall(TSDestroy(&f->ts));
  PetscCall(PetscFree4(f->marg, f->dmarg, f->lost, f->flux));
  PetscCall(PetscFree2(f->fullp, f->fulldp));
  PetscCall(PetscFree2(f->zl_state, f->zl_rxn));
  PetscCall(PetscFree(f->tdrow));
  PetscCall(PetscFree(f->brk));
  PetscCall(PetscFree(f->dkw));
  if (f->any_law) PetscCall(StgssaLawEnvDestroy(&f->env));
  f->any_law = f->any_tdep = PETSC_FALSE;
  f->nzl = f->ntd = f->nbrk = 0;
  f->n     = 0;
  f->nleak = 0;
  f->done  = PETSC_FALSE;
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaFSPReset(StgssaFSP f)
{
  PetscFunctionBegin;
  if (f->setup) PetscCall(StgssaFSPFreeSetUp(f));
  f->setup = PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* "a, b, c" of the model's species (or parameter) names, for messages. */
static PetscErrorCode StgssaFSPKnownSpecies(const StgssaModelDef *def, char buf[], size_t len)
{
  PetscFunctionBegin;
  buf[0] = 0;
  for (int i = 0; i < def->nspecies; i++) {
    if (i) PetscCall(PetscStrlcat(buf, ", ", len));
    PetscCall(PetscStrlcat(buf, def->species[i].name, len));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPSetUp(StgssaFSP f)
{
  const StgssaModelDef *def;
  const StgssaNetwork  *net;
  StgssaNetwork         unit;
  PetscInt              nloc = PETSC_DECIDE;

  PetscFunctionBegin;
  if (f->setup) PetscFunctionReturn(0);
  PetscCheck(f->model, f->comm, PETSC_ERR_ORDER, "Call StgssaFSPSetModel() first");
  PetscCall(StgssaFSPFreeSetUp(f));
  PetscCall(StgssaModelGetDef(f->model, &def));
  PetscCall(StgssaModelGetNetwork(f->model, &net));
  f->S = net->S;
  f->R = net->R;
  if (!f->times) PetscCall(StgssaFSPSetTimes(f, 0, NULL));
  f->any_steady = f->any_transient = PETSC_FALSE;
  f->tmax                          = 0;
  for (PetscInt k = 0; k < f->nsample; k++) {
    if (f->times[k] < 0)
      f->any_steady = PETSC_TRUE;
    else {
      f->any_transient = PETSC_TRUE;
      f->tmax          = PetscMax(f->tmax, f->times[k]);
    }
  }
  /* rate laws: one law environment; time dependence: the table inputs' breakpoints before tmax */
  f->any_law  = net->any_law;
  f->any_tdep = (PetscBool)(net->any_tdep && f->any_transient);
  if (f->any_law) {
    PetscCall(StgssaLawEnvCreate(net, &f->env));
    PetscCall(PetscCalloc1(net->nparams + 1, &f->dkw));
  }
  f->nbrk = 0;
  if (f->any_tdep) {
    PetscInt nb = 0;
    for (int i = 0; i < def->ninputs; i++)
      if (def->inputs[i].kind == STGSSA_INPUT_TABLE) nb += def->inputs[i].npieces;
    PetscCall(PetscMalloc1(nb + 1, &f->brk));
    for (int i = 0; i < def->ninputs; i++)
      if (def->inputs[i].kind == STGSSA_INPUT_TABLE)
        for (int c = 1; c < def->inputs[i].npieces; c++)
          if (def->inputs[i].times[c] > 0 && def->inputs[i].times[c] <= f->tmax) f->brk[f->nbrk++] = def->inputs[i].times[c];
    PetscCall(PetscSortRemoveDupsReal(&f->nbrk, f->brk));
  }

  /* bounds */
  PetscCall(PetscMalloc2(f->S, &f->bound, f->S, &f->maxcount));
  for (PetscInt s = 0; s < f->S; s++)
    f->bound[s] = -1;
  for (PetscInt i = 0; i < f->nbnd; i++) {
    const int s = StgssaModelDefFindSpecies(def, f->bnd_names[i]);
    if (s < 0) {
      char known[2048];
      PetscCall(StgssaFSPKnownSpecies(def, known, sizeof(known)));
      SETERRQ(f->comm, PETSC_ERR_ARG_WRONG, "-stgssa_fsp_max: unknown species '%s'; model %s defines: %s", f->bnd_names[i], def->filename, known);
    }
    if (f->bnd_values[i] < 0) continue;
    PetscCheck(f->bnd_values[i] >= net->x0[s], f->comm, PETSC_ERR_ARG_OUTOFRANGE, "-stgssa_fsp_max: bound %" PetscInt_FMT " of species '%s' is below its initial count %" PRId64, f->bnd_values[i], f->bnd_names[i], net->x0[s]);
    f->bound[s] = f->bnd_values[i];
  }

  /* fitted parameters: theta_q = log k_q; reaction r depends on q if its rate is factor * k_q */
  if (!f->fit_names) {
    const char **all;
    PetscCall(PetscMalloc1(def->nparams + 1, &all));
    for (int p = 0; p < def->nparams; p++)
      all[p] = def->params[p].name;
    PetscCall(StgssaFSPSetFit(f, def->nparams, all));
    PetscCall(PetscFree(all));
  }
  PetscCall(PetscMalloc1(f->P + 1, &f->fit_param));
  PetscCall(PetscMalloc1(f->R, &f->rxn_fit));
  PetscCall(StgssaModelResolveFit(f->model, f->P, (const char *const *)f->fit_names, f->fit_param, f->rxn_fit));

  /* the projection: propensities with unit rates give the structure, independent of k */
  PetscCall(PetscMalloc1(f->R, &f->kunit));
  for (PetscInt r = 0; r < f->R; r++)
    f->kunit[r] = 1.0;
  unit   = *net;
  unit.k = f->kunit;
  for (PetscInt s = 0; s < f->S; s++)
    PetscCheck(net->x0[s] >= 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "FSP: negative initial count of species '%s'", def->species[s].name);
  PetscCall(StgssaFSPEnumerate(f, net, &unit));
  f->ngroups = def->ngroups;
  PetscCall(PetscMalloc2(f->S + f->ngroups, &f->nbins, f->S + f->ngroups, &f->boff));
  f->btot = 0;
  for (PetscInt s = 0; s < f->S; s++) {
    f->maxcount[s] = 0;
    for (PetscInt i = 0; i < f->n; i++)
      f->maxcount[s] = PetscMax(f->maxcount[s], f->x[i * f->S + s]);
    f->nbins[s] = (f->bound[s] >= 0 ? f->bound[s] : (PetscInt)f->maxcount[s]) + 1;
    f->boff[s]  = f->btot;
    f->btot += f->nbins[s];
  }
  for (PetscInt g = 0; g < f->ngroups; g++) { /* groups: values 0..largest weighted sum over the projection */
    int64_t mx = 0;
    if (StgssaModelDefGroupCheck(def, (int)g) < 0)
      for (PetscInt i = 0; i < f->n; i++)
        mx = PetscMax(mx, StgssaFSPGroupValue(def, g, &f->x[i * f->S]));
    PetscCheck(mx < PETSC_MAX_INT / 2, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "FSP: group '%s' reaches %" PRId64 " in the projection; too large for its distribution", def->groups[g].name, mx);
    f->nbins[f->S + g] = StgssaModelDefGroupCheck(def, (int)g) < 0 ? (PetscInt)mx + 1 : 0;
    f->boff[f->S + g]  = f->btot;
    f->btot += f->nbins[f->S + g];
  }

  /* row layout: PETSc's default split; rows owned here are [rstart, rend) */
  PetscCall(PetscSplitOwnership(f->comm, &nloc, &f->n));
  PetscCallMPI(MPI_Scan(&nloc, &f->rend, 1, MPIU_INT, MPI_SUM, f->comm));
  f->rstart = f->rend - nloc;
  PetscCall(StgssaFSPBuildRows(f, net, &unit));
  f->ntd = 0; /* owned rows with time-dependent transitions: re-assembled as t changes */
  if (f->any_tdep) {
    PetscCall(PetscMalloc1(f->rend - f->rstart + 1, &f->tdrow));
    for (PetscInt li = 0; li < f->rend - f->rstart; li++)
      for (PetscInt t = f->tr_ptr[li]; t < f->tr_ptr[li + 1]; t++)
        if (net->tdep[f->tr_rxn[t]]) {
          f->tdrow[f->ntd++] = li;
          break;
        }
  }

  PetscCall(StgssaFSPCreateMat(f, PETSC_FALSE, PETSC_FALSE, &f->A));
  PetscCall(PetscMalloc1(f->P + 1, &f->dA));
  for (PetscInt q = 0; q < f->P; q++)
    PetscCall(StgssaFSPCreateMat(f, PETSC_FALSE, PETSC_FALSE, &f->dA[q]));
  if (f->any_steady || (f->any_transient && f->initial == STGSSA_FSP_INITIAL_STEADY)) PetscCall(StgssaFSPCreateMat(f, PETSC_FALSE, PETSC_TRUE, &f->Mss));
  if (f->any_transient) PetscCall(StgssaFSPCreateMat(f, PETSC_TRUE, PETSC_FALSE, &f->J)); /* Jshift: its duplicate, once assembled */

  PetscCall(PetscCalloc4(f->nsample * f->btot, &f->marg, f->nsample * f->btot * f->P + 1, &f->dmarg, f->nsample, &f->lost, f->nsample * f->S, &f->flux));
  if (f->full) PetscCall(PetscCalloc2(f->nsample * f->n, &f->fullp, f->nsample * f->n * f->P + 1, &f->fulldp));
  f->setup = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------------------------------------- */
/* assembly at the current rates: A = sum_r k_r G_r (G_r the jumps of reaction r with factors h_r),
   dA_q = dA/dlog k_q = sum_{r: rate of r is factor*k_q} k_r G_r (a_r is linear in k_q). A reaction
   with a rate law contributes +-a_r(x_src, t) and +-k_q da_r/dk_q (StgssaPropensityGrad) instead.

   Values of owned row li: a[c] for its columns, da[q*nc + c]. The law environment's time must be
   set. A law propensity that is not a finite number >= 0 is left out and the smallest key
   source * R + r of such a jump is kept in *bad (reported collectively by the caller). */
static PetscErrorCode StgssaFSPRowValues(StgssaFSP f, const StgssaNetwork *net, PetscInt li, PetscReal *a, PetscReal *da, int64_t *bad)
{
  const PetscInt c0 = f->row_ptr[li], nc = f->row_ptr[li + 1] - c0, P = f->P, S = f->S;

  PetscFunctionBegin;
  PetscCall(PetscArrayzero(a, nc));
  PetscCall(PetscArrayzero(da, nc * (P + 1)));
  for (PetscInt t = f->tr_ptr[li]; t < f->tr_ptr[li + 1]; t++) {
    const PetscInt r = f->tr_rxn[t], c = f->tr_pos[t] - c0;
    if (net->order1[r] != -3) { /* mass action: the fast path */
      const PetscReal v = net->k[r] * f->tr_h[t];
      a[c] += v;
      if (f->rxn_fit[r] >= 0) da[f->rxn_fit[r] * nc + c] += v;
    } else {
      const PetscInt src = f->row_col[f->tr_pos[t]]; /* the jump's source state (the diagonal: x_i) */
      const int64_t *xs  = &f->x[src * S];
      double         v;
      for (PetscInt m = 0; m < net->nparams; m++) f->dkw[m] = 0.0;
      StgssaLawEnvSetState(net, &f->env, xs);
      v = StgssaPropensityGrad(net, r, xs, &f->env, f->dkw, NULL, NULL);
      if (!(v >= 0.0 && v <= PETSC_MAX_REAL)) {
        *bad = PetscMin(*bad, (int64_t)src * f->R + r);
        continue;
      }
      a[c] += f->tr_h[t] * v;
      for (PetscInt q = 0; q < P; q++) da[q * nc + c] += f->tr_h[t] * f->dkw[f->fit_param[q]];
    }
  }
  PetscFunctionReturn(0);
}

/* Collective: the StgssaPropensityCheck error of the jump with the smallest key on any rank. */
static PetscErrorCode StgssaFSPCheckBad(StgssaFSP f, const StgssaNetwork *net, int64_t bad, PetscReal t)
{
  int64_t gbad;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Allreduce(&bad, &gbad, 1, MPI_INT64_T, MPI_MIN, f->comm));
  if (gbad == INT64_MAX) PetscFunctionReturn(0);
  {
    const PetscInt src = (PetscInt)(gbad / f->R), r = (PetscInt)(gbad % f->R);
    const int64_t *xs  = &f->x[src * f->S];
    StgssaLawEnvSetState(net, &f->env, xs);
    PetscCall(StgssaPropensityCheck(net, r, xs, t, StgssaPropensityLaw(net, r, xs, &f->env)));
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_PLIB, "FSP: reaction %" PetscInt_FMT " has an invalid propensity at t = %g", r + 1, (double)t);
  }
}

/* Row i of A (and dA_q) into the operators: A, dA_q, the steady-state matrix (mss) and J. */
static PetscErrorCode StgssaFSPSetRow(StgssaFSP f, PetscInt li, const PetscReal *a, const PetscReal *da, PetscBool mss, const PetscReal *ones, const PetscInt *ones_cols, PetscInt *acols, PetscReal *vals)
{
  const PetscInt  i = f->rstart + li, c0 = f->row_ptr[li], nc = f->row_ptr[li + 1] - c0, P = f->P, B = 1 + P;
  const PetscInt *cols = &f->row_col[c0];

  PetscFunctionBegin;
  PetscCall(MatSetValues(f->A, 1, &i, nc, cols, a, INSERT_VALUES));
  for (PetscInt q = 0; q < P; q++)
    PetscCall(MatSetValues(f->dA[q], 1, &i, nc, cols, &da[q * nc], INSERT_VALUES));
  if (mss && f->Mss) {
    if (i == 0)
      PetscCall(MatSetValues(f->Mss, 1, &i, f->n, ones_cols, ones, INSERT_VALUES)); /* sum p = 1 */
    else
      PetscCall(MatSetValues(f->Mss, 1, &i, nc, cols, a, INSERT_VALUES));
  }
  if (f->J) { /* row (i,0): A p;  row (i,b): dA_{b-1} p + A s_{b-1} */
    for (PetscInt b = 0; b < B; b++) {
      const PetscInt row = i * B + b;
      PetscInt       m   = 0;
      for (PetscInt c = 0; c < nc; c++) {
        if (b) {
          acols[m]  = cols[c] * B;
          vals[m++] = da[(b - 1) * nc + c];
        }
        acols[m]  = cols[c] * B + b;
        vals[m++] = a[c];
      }
      PetscCall(MatSetValues(f->J, 1, &row, m, acols, vals, INSERT_VALUES));
    }
  }
  PetscFunctionReturn(0);
}

/* Assemble the operators at time t: every owned row (all, with the steady-state matrix), or only
   the rows holding time-dependent transitions (A, dA, J; the steady state stays at t = 0). */
static PetscErrorCode StgssaFSPAssemble(StgssaFSP f, PetscReal t, PetscBool all)
{
  const StgssaNetwork *net;
  const PetscInt       nloc = f->rend - f->rstart, P = f->P, nrow = all ? nloc : f->ntd;
  PetscReal           *a, *da, *vals;
  PetscReal           *ones      = NULL; /* row 0 of the steady-state matrix: sum p = 1 */
  PetscInt            *ones_cols = NULL, *acols;
  int64_t              bad       = INT64_MAX;

  PetscFunctionBegin;
  PetscCall(StgssaModelGetNetwork(f->model, &net));
  PetscCall(PetscMalloc2(f->maxcols, &a, f->maxcols * (P + 1), &da));
  PetscCall(PetscMalloc2(2 * f->maxcols, &acols, 2 * f->maxcols, &vals));
  if (all && f->Mss && f->rstart == 0 && nloc > 0) {
    PetscCall(PetscMalloc2(f->n, &ones, f->n, &ones_cols));
    for (PetscInt j = 0; j < f->n; j++) {
      ones[j]      = 1.0;
      ones_cols[j] = j;
    }
  }
  if (f->any_law) StgssaLawEnvSetTime(net, &f->env, t, PETSC_TRUE);
  for (PetscInt k = 0; k < nrow; k++) {
    const PetscInt li = all ? k : f->tdrow[k];
    PetscCall(StgssaFSPRowValues(f, net, li, a, da, &bad));
    PetscCall(StgssaFSPSetRow(f, li, a, da, all, ones, ones_cols, acols, vals));
  }
  PetscCall(PetscFree2(ones, ones_cols));
  PetscCall(PetscFree2(acols, vals));
  PetscCall(PetscFree2(a, da));
  if (f->any_law) PetscCall(StgssaFSPCheckBad(f, net, bad, t));
  PetscCall(MatAssemblyBegin(f->A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(f->A, MAT_FINAL_ASSEMBLY));
  for (PetscInt q = 0; q < P; q++) {
    PetscCall(MatAssemblyBegin(f->dA[q], MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(f->dA[q], MAT_FINAL_ASSEMBLY));
  }
  if (all && f->Mss) {
    PetscCall(MatAssemblyBegin(f->Mss, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(f->Mss, MAT_FINAL_ASSEMBLY));
  }
  if (f->J) {
    PetscCall(MatAssemblyBegin(f->J, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(f->J, MAT_FINAL_ASSEMBLY));
    if (!f->Jshift) PetscCall(MatDuplicate(f->J, MAT_DO_NOT_COPY_VALUES, &f->Jshift));
  }
  f->top_t = t;
  PetscFunctionReturn(0);
}

/* Time-dependent propensities: make A, dA, J hold their values at t (the integrator's time). In a
   segment ending at a table breakpoint, times at or past it use the piece before it (the left
   limit), so that no stage of the segment sees the next level. Forces the stage operator to be
   formed again. */
static PetscErrorCode StgssaFSPOperatorsAt(StgssaFSP f, PetscReal t)
{
  PetscFunctionBegin;
  if (!f->any_tdep) PetscFunctionReturn(0);
  if (f->seg_clamp && t >= f->seg_before) t = f->seg_before;
  if (t == f->top_t) PetscFunctionReturn(0);
  PetscCall(StgssaFSPAssemble(f, t, PETSC_FALSE));
  f->shift = PETSC_MAX_REAL;
  PetscFunctionReturn(0);
}

/* Default linear solvers (each overridable with -fsp_ksp_* / -fsp_pc_*, -fsp_stage_ksp_* / ...):
   - steady state: direct LU with pivoting, MUMPS (else SuperLU_DIST, else PETSc's own LU).
     [A; 1^T] has a dense row and a zero diagonal at every absorbing state, so LU without
     pivoting (PETSc's own) can meet a zero pivot, and iterative solvers are not robust on it;
   - transient stages, K = shift I - A: column diagonally dominant (shift + exit rates > sum of
     the column), so LU without pivoting is stable: PETSc's own LU on one rank; on several,
     GMRES with block Jacobi (ILU(0) per rank) to relative tolerance 1e-13, which converges in
     a few iterations while a parallel direct solve costs ~1 ms of latency per stage. */
static PetscErrorCode StgssaFSPDefaultKSP(StgssaFSP f, KSP ksp, PetscBool transient)
{
  PC          pc;
  PetscMPIInt size;
  PetscBool   direct = PETSC_TRUE;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(f->comm, &size));
  PetscCall(KSPGetPC(ksp, &pc));
  if (transient) direct = (PetscBool)(size == 1);
#if !defined(PETSC_HAVE_MUMPS) && !defined(PETSC_HAVE_SUPERLU_DIST)
  else
    direct = (PetscBool)(size == 1);
#endif
  if (direct) {
    PetscCall(KSPSetType(ksp, KSPPREONLY));
    PetscCall(PCSetType(pc, PCLU));
    if (!transient) {
#if defined(PETSC_HAVE_MUMPS)
      PetscCall(PCFactorSetMatSolverType(pc, MATSOLVERMUMPS));
#elif defined(PETSC_HAVE_SUPERLU_DIST)
      PetscCall(PCFactorSetMatSolverType(pc, MATSOLVERSUPERLU_DIST));
#endif
    }
  } else {
    PetscCall(KSPSetType(ksp, KSPGMRES));
    PetscCall(PCSetType(pc, PCBJACOBI));
    PetscCall(KSPSetTolerances(ksp, 1e-13, 1e-50, PETSC_DEFAULT, 10000));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaFSPCheckReason(StgssaFSP f, KSPConvergedReason reason, const char what[])
{
  PetscFunctionBegin;
  PetscCheck(reason > 0, f->comm, PETSC_ERR_NOT_CONVERGED,
             "FSP %s: the linear solve failed (%s). The steady state on the projection may not be unique (more than one closed class of states reachable from x0), or try other -fsp_ksp_type / -fsp_pc_type", what, KSPConvergedReasons[reason]);
  PetscFunctionReturn(0);
}

/* Record sample k from the gathered augmented vector y (p_i at y[i*(1+P)], s_q,i at y[i*(1+P)+1+q]):
   marginals and their derivatives, lost mass, the outflow through each bound. */
static PetscErrorCode StgssaFSPRecord(StgssaFSP f, PetscInt k, const PetscScalar *y, PetscBool steady)
{
  const StgssaNetwork  *net;
  const StgssaModelDef *def;
  const PetscInt       S = f->S, P = f->P, B = 1 + P;
  PetscReal           *marg = &f->marg[k * f->btot], *dmarg = &f->dmarg[k * f->btot * P], mass = 0, edge = 0;
  PetscInt             last = -1;

  PetscFunctionBegin;
  PetscCall(StgssaModelGetNetwork(f->model, &net));
  PetscCall(StgssaModelGetDef(f->model, &def));
  if (f->any_law) StgssaLawEnvSetTime(net, &f->env, steady ? 0.0 : f->times[k], PETSC_FALSE); /* leaks of laws: a_r at the sample time */
  PetscCall(PetscArrayzero(marg, f->btot));
  PetscCall(PetscArrayzero(dmarg, f->btot * P));
  for (PetscInt i = 0; i < f->n; i++) {
    const PetscReal *yi = &y[i * B];
    mass += yi[0];
    for (PetscInt s = 0; s < S; s++) {
      const PetscInt b = f->boff[s] + (PetscInt)f->x[i * S + s];
      marg[b] += yi[0];
      for (PetscInt q = 0; q < P; q++)
        dmarg[b * P + q] += yi[1 + q];
    }
    for (PetscInt g = 0; g < f->ngroups; g++) { /* groups: the marginal of the weighted sum */
      PetscInt b;
      if (!f->nbins[S + g]) continue;
      b = f->boff[S + g] + (PetscInt)StgssaFSPGroupValue(def, g, &f->x[i * S]);
      marg[b] += yi[0];
      for (PetscInt q = 0; q < P; q++)
        dmarg[b * P + q] += yi[1 + q];
    }
  }
  /* outflow per bound: sum over leaking jumps of p_j a_r(x_j); boundary mass: p of their states */
  for (PetscInt s = 0; s < S; s++)
    f->flux[k * S + s] = 0;
  for (PetscInt l = 0; l < f->nleak; l++) {
    const PetscInt  r = f->lk_rxn[l];
    const PetscReal pj = y[f->lk_state[l] * B];
    PetscReal       a;
    if (net->order1[r] != -3) a = net->k[r] * f->lk_h[l];
    else {
      StgssaLawEnvSetState(net, &f->env, &f->x[f->lk_state[l] * S]);
      a = StgssaPropensityLaw(net, r, &f->x[f->lk_state[l] * S], &f->env);
    }
    if (!(a > 0)) continue;
    f->flux[k * S + f->lk_species[l]] += pj * a;
    if (f->lk_state[l] != last) edge += pj; /* leaks are grouped by state (enumeration order) */
    last = f->lk_state[l];
  }
  /* transient: exactly the mass gone; steady state: the mass on the boundary states (estimate) */
  f->lost[k] = steady ? edge : 1.0 - mass;
  if (f->full) {
    for (PetscInt i = 0; i < f->n; i++) {
      f->fullp[k * f->n + i] = y[i * B];
      for (PetscInt q = 0; q < P; q++)
        f->fulldp[(k * f->n + i) * P + q] = y[i * B + 1 + q];
    }
  }
  PetscFunctionReturn(0);
}

/* Gather the augmented vector y to every rank and record it for every sample in the list. */
static PetscErrorCode StgssaFSPGatherRecord(StgssaFSP f, Vec y, PetscInt nk, const PetscInt ks[], PetscBool steady)
{
  VecScatter         scat;
  Vec                yall;
  const PetscScalar *ya;

  PetscFunctionBegin;
  PetscCall(VecScatterCreateToAll(y, &scat, &yall));
  PetscCall(VecScatterBegin(scat, y, yall, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(scat, y, yall, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetArrayRead(yall, &ya));
  for (PetscInt i = 0; i < nk; i++)
    PetscCall(StgssaFSPRecord(f, ks[i], ya, steady));
  PetscCall(VecRestoreArrayRead(yall, &ya));
  PetscCall(VecDestroy(&yall));
  PetscCall(VecScatterDestroy(&scat));
  PetscFunctionReturn(0);
}

/* Steady state: M p = e_0 with M = A whose row 0 (state x0) is 1^T, i.e. A p = 0 off row 0 and
   sum p = 1 (the stationary law when the outflow re-enters at x0). Sensitivities with the same
   factorization: M s_q = -(dA_q p) with row 0 set to 0 (sum s_q = 0). */
static PetscErrorCode StgssaFSPSolveSteady(StgssaFSP f, Vec *yout)
{
  Vec                p, rhs, s, y;
  PetscInt           nk   = 0, *ks;
  const PetscInt     nloc = f->rend - f->rstart, B = 1 + f->P;
  KSPConvergedReason reason;

  PetscFunctionBegin;
  if (!f->ksp) {
    PetscCall(KSPCreate(f->comm, &f->ksp));
    PetscCall(KSPSetOptionsPrefix(f->ksp, "fsp_"));
    PetscCall(StgssaFSPDefaultKSP(f, f->ksp, PETSC_FALSE));
    PetscCall(KSPSetOperators(f->ksp, f->Mss, f->Mss));
    PetscCall(KSPSetFromOptions(f->ksp));
  } else
    PetscCall(KSPSetOperators(f->ksp, f->Mss, f->Mss)); /* new values: refactor */
  PetscCall(MatCreateVecs(f->A, &p, &rhs));
  PetscCall(VecDuplicate(p, &s));
  PetscCall(VecCreateMPI(f->comm, nloc * B, f->n * B, &y)); /* (p, s_1..s_P) interleaved per state, as in the transient */
  for (PetscInt q = -1; q < f->P; q++) {                    /* q = -1: p; then s_q */
    const PetscScalar *xa;
    PetscScalar       *ya;
    if (q < 0)
      PetscCall(VecZeroEntries(rhs));
    else {
      PetscCall(MatMult(f->dA[q], p, rhs));
      PetscCall(VecScale(rhs, -1.0));
    }
    if (f->rstart == 0 && nloc > 0) PetscCall(VecSetValue(rhs, 0, q < 0 ? 1.0 : 0.0, INSERT_VALUES)); /* row 0: sum p = 1, sum s_q = 0 */
    PetscCall(VecAssemblyBegin(rhs));
    PetscCall(VecAssemblyEnd(rhs));
    PetscCall(KSPSolve(f->ksp, rhs, q < 0 ? p : s));
    PetscCall(KSPGetConvergedReason(f->ksp, &reason));
    if (reason < 0) break;
    PetscCall(VecGetArrayRead(q < 0 ? p : s, &xa));
    PetscCall(VecGetArray(y, &ya));
    for (PetscInt li = 0; li < nloc; li++)
      ya[li * B + 1 + q] = xa[li];
    PetscCall(VecRestoreArray(y, &ya));
    PetscCall(VecRestoreArrayRead(q < 0 ? p : s, &xa));
  }
  if (reason > 0) {
    PetscCall(PetscMalloc1(f->nsample, &ks));
    for (PetscInt k = 0; k < f->nsample; k++)
      if (f->times[k] < 0) ks[nk++] = k;
    if (nk) PetscCall(StgssaFSPGatherRecord(f, y, nk, ks, PETSC_TRUE));
    PetscCall(PetscFree(ks));
  }
  if (yout && reason > 0) *yout = y;
  else PetscCall(VecDestroy(&y));
  PetscCall(VecDestroy(&s));
  PetscCall(VecDestroy(&rhs));
  PetscCall(VecDestroy(&p));
  PetscCall(StgssaFSPCheckReason(f, reason, "steady state"));
  PetscFunctionReturn(0);
}

/* Implicit form of dy/dt = J y:  F(t, y, ydot) = ydot - J y = 0. */
static PetscErrorCode StgssaFSPIFunction(TS ts, PetscReal t, Vec y, Vec ydot, Vec F, void *ctx)
{
  StgssaFSP f = (StgssaFSP)ctx;

  PetscFunctionBegin;
  PetscCall(StgssaFSPOperatorsAt(f, t));
  PetscCall(MatMult(f->J, y, F));
  PetscCall(VecAYPX(F, -1.0, ydot));
  PetscFunctionReturn(0);
}

/* dF/dy + shift dF/dydot = shift I - J. J is constant, so the operator changes only with the
   shift (the step size): left untouched otherwise, its factorization is reused across the
   stages of a step (SDIRK stages share one diagonal coefficient) and across equal steps.
   With time-dependent propensities J = J(t): formed again whenever t changes. */
static PetscErrorCode StgssaFSPIJacobian(TS ts, PetscReal t, Vec y, Vec ydot, PetscReal shift, Mat A, Mat B, void *ctx)
{
  StgssaFSP f = (StgssaFSP)ctx;

  PetscFunctionBegin;
  PetscCall(StgssaFSPOperatorsAt(f, t));
  if (shift == f->shift) PetscFunctionReturn(0);
  PetscCall(MatCopy(f->J, B, SAME_NONZERO_PATTERN));
  PetscCall(MatScale(B, -1.0));
  PetscCall(MatShift(B, shift));
  f->shift = shift;
  PetscFunctionReturn(0);
}

/* The stage operator shift I - J is block lower triangular in (p, s_1..s_P):
     (shift I - A) y_0 = x_0,   (shift I - A) y_q = x_q + dA_q y_0,
   so its exact inverse needs one factorization of K = shift I - A (n x n) instead of one of
   the (1+P)n x (1+P)n operator: the default preconditioner (with KSPPREONLY) of the stages. */
static PetscErrorCode StgssaFSPStageSetUp(PC pc)
{
  StgssaFSP f;

  PetscFunctionBegin;
  PetscCall(PCShellGetContext(pc, &f));
  PetscCall(MatCopy(f->A, f->K, SAME_NONZERO_PATTERN));
  PetscCall(MatScale(f->K, -1.0));
  PetscCall(MatShift(f->K, f->shift));
  PetscCall(KSPSetOperators(f->kstage, f->K, f->K));
  PetscFunctionReturn(0);
}

/* K^-1 rhs; a failed solve marks the PC failed (the integrator then rejects the step) */
static PetscErrorCode StgssaFSPStageSolve(PC pc, StgssaFSP f, Vec rhs, Vec sol, PetscBool *ok)
{
  KSPConvergedReason reason;

  PetscFunctionBegin;
  PetscCall(KSPSolve(f->kstage, rhs, sol));
  PetscCall(KSPGetConvergedReason(f->kstage, &reason));
  *ok = (PetscBool)(reason > 0);
  if (!*ok) PetscCall(PCSetFailedReason(pc, PC_SUBPC_ERROR));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaFSPStageApply(PC pc, Vec x, Vec y)
{
  StgssaFSP f;
  PetscBool ok;

  PetscFunctionBegin;
  PetscCall(PCShellGetContext(pc, &f));
  PetscCall(VecStrideGather(x, 0, f->u, INSERT_VALUES));
  PetscCall(StgssaFSPStageSolve(pc, f, f->u, f->v, &ok)); /* y_0 = K^-1 x_0 */
  PetscCall(VecStrideScatter(f->v, 0, y, INSERT_VALUES));
  for (PetscInt q = 0; q < f->P && ok; q++) {
    PetscCall(VecStrideGather(x, 1 + q, f->u, INSERT_VALUES));
    PetscCall(MatMultAdd(f->dA[q], f->v, f->u, f->u)); /* x_q + dA_q y_0 */
    PetscCall(StgssaFSPStageSolve(pc, f, f->u, f->w, &ok));
    PetscCall(VecStrideScatter(f->w, 1 + q, y, INSERT_VALUES));
  }
  PetscFunctionReturn(0);
}

/* Transient: y = (p, s_1..s_P) interleaved per state, dy/dt = J y with
   dp/dt = A p, ds_q/dt = A s_q + dA_q p; y(0) = (e_x0, 0), or y0 (the steady state at t = 0 and
   its sensitivities). One TSSolve per sample time, each ending exactly on it
   (TS_EXACTFINALTIME_MATCHSTEP); with time-dependent propensities also one per breakpoint of a
   table input before it, the step restarted after each (the right-hand side jumps there). */
static PetscErrorCode StgssaFSPSolveTransient(StgssaFSP f, Vec y0)
{
  Vec       y;
  PetscReal t = 0, dt0, maxexit = 0;
  PetscInt  steps0;

  PetscFunctionBegin;
  PetscCall(TSDestroy(&f->ts)); /* fresh integrator per solve: the same steps for the same input */
  {
    Vec d;
    PetscCall(MatCreateVecs(f->A, &d, NULL));
    PetscCall(MatGetDiagonal(f->A, d));
    PetscCall(VecNorm(d, NORM_INFINITY, &maxexit));
    PetscCall(VecDestroy(&d));
  }
  PetscCall(TSCreate(f->comm, &f->ts));
  PetscCall(TSSetOptionsPrefix(f->ts, "fsp_"));
  PetscCall(TSSetProblemType(f->ts, TS_LINEAR));
  PetscCall(TSSetIFunction(f->ts, NULL, StgssaFSPIFunction, f));
  PetscCall(TSSetIJacobian(f->ts, f->Jshift, f->Jshift, StgssaFSPIJacobian, f));
  f->shift = PETSC_MAX_REAL; /* J has new values: form shift I - J at the first stage */
  /* default: ARK5(4)8L[2]SA treated fully implicitly (L-stable SDIRK, order 5), tight tolerances */
  PetscCall(TSSetType(f->ts, TSARKIMEX));
  PetscCall(TSARKIMEXSetType(f->ts, TSARKIMEX5));
  PetscCall(TSARKIMEXSetFullyImplicit(f->ts, PETSC_TRUE));
  PetscCall(TSSetTolerances(f->ts, 1e-14, NULL, 1e-10, NULL));
  PetscCall(TSSetExactFinalTime(f->ts, TS_EXACTFINALTIME_MATCHSTEP));
  PetscCall(TSSetMaxSteps(f->ts, PETSC_MAX_INT / 2));
  PetscCall(TSSetMaxSNESFailures(f->ts, 10));           /* a failed stage solve: retry with a smaller step */
  PetscCall(TSSetErrorIfStepFails(f->ts, PETSC_FALSE)); /* and report failure below, with advice */
  dt0 = 1e-3 / (1.0 + maxexit);
  PetscCall(TSSetTimeStep(f->ts, dt0));
  { /* stages: one exact block-triangular solve (KSPPREONLY + the PCSHELL above) */
    SNES snes;
    KSP  ksp;
    PC   pc;
    PetscCall(TSGetSNES(f->ts, &snes));
    PetscCall(SNESSetType(snes, SNESKSPONLY));
    PetscCall(SNESGetKSP(snes, &ksp));
    PetscCall(KSPSetType(ksp, KSPPREONLY));
    PetscCall(KSPGetPC(ksp, &pc));
    PetscCall(PCSetType(pc, PCSHELL));
    PetscCall(PCShellSetContext(pc, f));
    PetscCall(PCShellSetSetUp(pc, StgssaFSPStageSetUp));
    PetscCall(PCShellSetApply(pc, StgssaFSPStageApply));
    PetscCall(PCShellSetName(pc, "FSP stages: block triangular, (shift I - A)^-1 per block"));
  }
  PetscCall(KSPDestroy(&f->kstage));
  PetscCall(KSPCreate(f->comm, &f->kstage));
  PetscCall(KSPSetOptionsPrefix(f->kstage, "fsp_stage_"));
  PetscCall(StgssaFSPDefaultKSP(f, f->kstage, PETSC_TRUE));
  PetscCall(KSPSetFromOptions(f->kstage));
  if (!f->K) PetscCall(MatDuplicate(f->A, MAT_DO_NOT_COPY_VALUES, &f->K));
  if (!f->u) {
    PetscCall(MatCreateVecs(f->A, &f->u, &f->v));
    PetscCall(VecDuplicate(f->v, &f->w));
  }
  PetscCall(TSSetFromOptions(f->ts));
  PetscCall(MatCreateVecs(f->J, &y, NULL));
  if (y0) PetscCall(VecCopy(y0, y)); /* -stgssa_initial steady */
  else {
    PetscCall(VecZeroEntries(y));
    if (f->rstart == 0 && f->rend > 0) PetscCall(VecSetValue(y, 0, 1.0, INSERT_VALUES)); /* p(0) = e_x0 */
    PetscCall(VecAssemblyBegin(y));
    PetscCall(VecAssemblyEnd(y));
  }
  PetscCall(TSSetTime(f->ts, 0.0));
  PetscCall(TSGetStepNumber(f->ts, &steps0));
  f->seg_clamp = PETSC_FALSE;
  for (PetscInt k = 0, ib = 0; k < f->nsample; k++) {
    if (f->times[k] < 0) continue;
    while (f->any_tdep && f->times[k] > t) { /* time-dependent: segments between breakpoints */
      TSConvergedReason reason;
      PetscReal         end = f->times[k];
      while (ib < f->nbrk && f->brk[ib] <= t) ib++;
      f->seg_clamp = (PetscBool)(ib < f->nbrk && f->brk[ib] <= end);
      if (f->seg_clamp) end = f->brk[ib];
      f->seg_end    = end;
      f->seg_before = nextafter(end, -PETSC_INFINITY);
      PetscCall(TSSetMaxTime(f->ts, end));
      PetscCall(TSSolve(f->ts, y));
      PetscCall(TSGetConvergedReason(f->ts, &reason));
      if (reason < 0) PetscCall(VecDestroy(&y));
      PetscCheck(reason > 0, f->comm, PETSC_ERR_NOT_CONVERGED, "FSP transient: the integrator stopped before t = %g (%s); try other stage solvers (-fsp_stage_ksp_type, -fsp_stage_pc_type), -fsp_ts_type bdf or a looser -fsp_ts_rtol",
                 (double)end, TSConvergedReasons[reason]);
      PetscCall(TSSetTime(f->ts, end)); /* exactly on the breakpoint or sample time */
      t = end;
      if (f->seg_clamp) { /* the input jumps: the next step starts afresh with the new level */
        f->seg_clamp = PETSC_FALSE;
        PetscCall(TSRestartStep(f->ts));
      }
    }
    if (!f->any_tdep && f->times[k] > t) {
      TSConvergedReason reason;
      PetscCall(TSSetMaxTime(f->ts, f->times[k]));
      PetscCall(TSSolve(f->ts, y));
      PetscCall(TSGetConvergedReason(f->ts, &reason));
      if (reason < 0) PetscCall(VecDestroy(&y));
      PetscCheck(reason > 0, f->comm, PETSC_ERR_NOT_CONVERGED, "FSP transient: the integrator stopped before t = %g (%s); try other stage solvers (-fsp_stage_ksp_type, -fsp_stage_pc_type), -fsp_ts_type bdf or a looser -fsp_ts_rtol",
                 (double)f->times[k], TSConvergedReasons[reason]);
      PetscCall(TSGetSolveTime(f->ts, &t));
    }
    PetscCall(StgssaFSPGatherRecord(f, y, 1, &k, PETSC_FALSE));
  }
  PetscCall(TSGetStepNumber(f->ts, &f->ts_steps));
  f->ts_steps -= steps0;
  PetscCall(VecDestroy(&y));
  PetscFunctionReturn(0);
}

/* Message naming the bounds that leak at sample k, largest outflow first. */
static PetscErrorCode StgssaFSPLeakMessage(StgssaFSP f, PetscInt k, char msg[], size_t len)
{
  const StgssaModelDef *def;
  PetscReal             total = 0;
  PetscBool            *used;

  PetscFunctionBegin;
  PetscCall(StgssaModelGetDef(f->model, &def));
  PetscCall(PetscCalloc1(f->S, &used));
  msg[0] = 0;
  for (PetscInt s = 0; s < f->S; s++)
    total += f->flux[k * f->S + s];
  for (;;) {
    PetscInt best = -1;
    char     item[256];
    for (PetscInt s = 0; s < f->S; s++)
      if (!used[s] && f->bound[s] >= 0 && f->flux[k * f->S + s] > 0 && (best < 0 || f->flux[k * f->S + s] > f->flux[k * f->S + best])) best = s;
    if (best < 0) break;
    used[best] = PETSC_TRUE;
    PetscCall(PetscSNPrintf(item, sizeof(item), "%s%s=%" PetscInt_FMT " (now %" PetscInt_FMT ", %.3g%% of the outflow)", msg[0] ? ", " : "", def->species[best].name, 2 * f->bound[best] + 1, f->bound[best],
                            100.0 * (double)(f->flux[k * f->S + best] / total)));
    PetscCall(PetscStrlcat(msg, item, len));
  }
  if (!msg[0]) { /* no outflow at this time: name every bound that leaks somewhere */
    for (PetscInt l = 0; l < f->nleak; l++)
      used[f->lk_species[l]] = PETSC_TRUE;
    for (PetscInt s = 0; s < f->S; s++) {
      char item[256];
      if (!used[s]) continue;
      PetscCall(PetscSNPrintf(item, sizeof(item), "%s%s=%" PetscInt_FMT " (now %" PetscInt_FMT ")", msg[0] ? ", " : "", def->species[s].name, 2 * f->bound[s] + 1, f->bound[s]));
      PetscCall(PetscStrlcat(msg, item, len));
    }
  }
  PetscCall(PetscFree(used));
  PetscFunctionReturn(0);
}

/* Whether a law jump left out of the projection (a_r(x) = 0 when it was built) has become one
   with the current parameter values: then the projection is built again. The same verdict on
   every rank (every rank holds every state). */
static PetscErrorCode StgssaFSPStale(StgssaFSP f, PetscBool *stale)
{
  const StgssaNetwork *net;
  StgssaNetwork        unit;

  PetscFunctionBegin;
  *stale = PETSC_FALSE;
  if (!f->nzl) PetscFunctionReturn(0);
  PetscCall(StgssaModelGetNetwork(f->model, &net));
  unit   = *net;
  unit.k = f->kunit;
  for (PetscInt l = 0; l < f->nzl && !*stale; l++) {
    PetscReal h;
    PetscBool excluded;
    *stale = StgssaFSPJumps(f, net, &unit, f->zl_rxn[l], &f->x[f->zl_state[l] * f->S], &h, &excluded);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPSolve(StgssaFSP f)
{
  PetscInt  worst = -1;
  PetscBool stale;
  Vec       y0 = NULL;

  PetscFunctionBegin;
  PetscCall(StgssaFSPSetUp(f));
  PetscCall(StgssaFSPStale(f, &stale));
  if (stale) {
    PetscCall(PetscInfo(NULL, "FSP: a rate law left out of the projection is no longer 0 at the new parameter values: building the projection again\n"));
    PetscCall(StgssaFSPReset(f));
    PetscCall(StgssaFSPSetUp(f));
  }
  f->done = PETSC_FALSE;
  PetscCall(StgssaFSPAssemble(f, 0.0, PETSC_TRUE)); /* time-dependent inputs at t = 0 */
  if (f->any_steady || (f->any_transient && f->initial == STGSSA_FSP_INITIAL_STEADY)) PetscCall(StgssaFSPSolveSteady(f, f->initial == STGSSA_FSP_INITIAL_STEADY ? &y0 : NULL));
  if (f->any_transient) {
    PetscErrorCode ierr = StgssaFSPSolveTransient(f, y0);
    PetscCall(VecDestroy(&y0));
    PetscCall(ierr);
  }
  f->done = PETSC_TRUE;
  /* truncation check: the same numbers on every rank, so the same verdict */
  for (PetscInt k = 0; k < f->nsample; k++)
    if (f->lost[k] > f->tol && (worst < 0 || f->lost[k] > f->lost[worst])) worst = k;
  if (worst >= 0) {
    char msg[4096];
    PetscCall(StgssaFSPLeakMessage(f, worst, msg, sizeof(msg)));
    if (f->times[worst] < 0)
      SETERRQ(f->comm, PETSC_ERR_NOT_CONVERGED, "FSP truncation: the steady state holds lost mass %.3g (probability on the boundary states, from which reactions leave the projection) > -stgssa_fsp_tol %g; raise the bounds, e.g. -stgssa_fsp_max %s",
              (double)f->lost[worst], (double)f->tol, msg);
    SETERRQ(f->comm, PETSC_ERR_NOT_CONVERGED, "FSP truncation: lost mass %.3g (probability that left the projection by t = %g) > -stgssa_fsp_tol %g; raise the bounds, e.g. -stgssa_fsp_max %s", (double)f->lost[worst], (double)f->times[worst],
            (double)f->tol, msg);
  }
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------------------------------------- */
/* results */

static PetscErrorCode StgssaFSPCheckSample(StgssaFSP f, PetscInt k, PetscInt s)
{
  PetscFunctionBegin;
  PetscCheck(f->done, f->comm, PETSC_ERR_ORDER, "Call StgssaFSPSolve() first");
  PetscCheck(k >= 0 && k < f->nsample, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "FSP: sample %" PetscInt_FMT " out of range 0..%" PetscInt_FMT, k, f->nsample - 1);
  PetscCheck(s >= 0 && s < f->S + f->ngroups, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "FSP: species %" PetscInt_FMT " out of range 0..%" PetscInt_FMT " (groups from %" PetscInt_FMT ")", s, f->S + f->ngroups - 1, f->S);
  if (s >= f->S && !f->nbins[s]) {
    const StgssaModelDef *def;
    PetscCall(StgssaModelGetDef(f->model, &def));
    SETERRQ(f->comm, PETSC_ERR_ARG_WRONG, "FSP: group '%s' (%s:%d) has a weight that is not an integer in [0, %d]: it has no distribution of counts", def->groups[s - f->S].name, def->filename, def->groups[s - f->S].line, STGSSA_GROUP_WEIGHT_MAX);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPGetNumStates(StgssaFSP f, PetscInt *n)
{
  PetscFunctionBegin;
  PetscCall(StgssaFSPSetUp(f));
  *n = f->n;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPGetTimes(StgssaFSP f, PetscInt *nsample, const PetscReal **times)
{
  PetscFunctionBegin;
  if (!f->times) PetscCall(StgssaFSPSetTimes(f, 0, NULL));
  if (nsample) *nsample = f->nsample;
  if (times) *times = f->times;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPGetFit(StgssaFSP f, PetscInt *P, const char *const **names)
{
  PetscFunctionBegin;
  PetscCall(StgssaFSPSetUp(f));
  if (P) *P = f->P;
  if (names) *names = (const char *const *)f->fit_names;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPGetOperators(StgssaFSP f, Mat *A, const Mat **dA)
{
  PetscFunctionBegin;
  PetscCall(StgssaFSPSetUp(f));
  if (A) *A = f->A;
  if (dA) *dA = f->dA;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPGetMarginal(StgssaFSP f, PetscInt k, PetscInt s, PetscInt *nbins, const PetscReal **p, const PetscReal **dp)
{
  PetscFunctionBegin;
  PetscCall(StgssaFSPCheckSample(f, k, s));
  if (nbins) *nbins = f->nbins[s];
  if (p) *p = &f->marg[k * f->btot + f->boff[s]];
  if (dp) *dp = &f->dmarg[(k * f->btot + f->boff[s]) * f->P];
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPGetLostMass(StgssaFSP f, PetscInt k, PetscReal *lost)
{
  PetscFunctionBegin;
  PetscCall(StgssaFSPCheckSample(f, k, 0));
  *lost = f->lost[k];
  PetscFunctionReturn(0);
}

/* Moments of the marginal normalized by its mass Z = sum_b p_b:
     m = sum b p_b / Z,  mu_k = sum (b - m)^k p_b / Z  (k = 2, 3), and by the quotient rule
     dm    = (sum b dp_b - m dZ) / Z
     dmu_2 = (sum (b-m)^2 dp_b - mu_2 dZ) / Z                      (sum (b-m) p_b = 0)
     dmu_3 = (sum (b-m)^3 dp_b - 3 mu_2 Z dm - mu_3 dZ) / Z        (sum (b-m)^2 p_b = mu_2 Z) */
PetscErrorCode StgssaFSPGetMoments(StgssaFSP f, PetscInt k, PetscInt s, PetscReal m[3], PetscReal dm[])
{
  const PetscReal *p, *dp;
  PetscInt         nb;
  const PetscInt   P = f->P;
  PetscReal        Z = 0, m1 = 0, m2 = 0, m3 = 0;

  PetscFunctionBegin;
  PetscCall(StgssaFSPGetMarginal(f, k, s, &nb, &p, &dp));
  for (PetscInt b = 0; b < nb; b++) {
    Z += p[b];
    m1 += b * p[b];
  }
  PetscCheck(Z > 0, f->comm, PETSC_ERR_FP, "FSP: no probability left in the projection at sample %" PetscInt_FMT, k);
  m1 /= Z;
  for (PetscInt b = 0; b < nb; b++) {
    const PetscReal d = b - m1;
    m2 += d * d * p[b];
    m3 += d * d * d * p[b];
  }
  m2 /= Z;
  m3 /= Z;
  m[0] = m1;
  m[1] = m2;
  m[2] = m3;
  if (!dm) PetscFunctionReturn(0);
  for (PetscInt q = 0; q < P; q++) {
    PetscReal dZ = 0, d1 = 0, d2 = 0, d3 = 0, dmean;
    for (PetscInt b = 0; b < nb; b++) {
      const PetscReal d = b - m1, v = dp[b * P + q];
      dZ += v;
      d1 += b * v;
      d2 += d * d * v;
      d3 += d * d * d * v;
    }
    dmean         = (d1 - m1 * dZ) / Z;
    dm[0 * P + q] = dmean;
    dm[1 * P + q] = (d2 - m2 * dZ) / Z;
    dm[2 * P + q] = (d3 - 3 * m2 * Z * dmean - m3 * dZ) / Z;
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPGetFull(StgssaFSP f, PetscInt k, PetscInt *nstates, const int64_t **states, const PetscReal **p, const PetscReal **dp)
{
  PetscFunctionBegin;
  PetscCall(StgssaFSPCheckSample(f, k, 0));
  PetscCheck(f->full, f->comm, PETSC_ERR_ORDER, "FSP: the full distribution is kept only with -stgssa_fsp_full");
  if (nstates) *nstates = f->n;
  if (states) *states = f->x;
  if (p) *p = &f->fullp[k * f->n];
  if (dp) *dp = &f->fulldp[k * f->n * f->P];
  PetscFunctionReturn(0);
}

/* One line: what, KSP type, PC type (and the factorization package). */
static PetscErrorCode StgssaFSPViewKSP(PetscViewer viewer, const char what[], KSP ksp)
{
  KSPType       kt;
  PCType        pt;
  PC            pc;
  MatSolverType st = NULL;
  PetscBool     lu;

  PetscFunctionBegin;
  PetscCall(KSPGetType(ksp, &kt));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCGetType(pc, &pt));
  PetscCall(PetscObjectTypeCompare((PetscObject)pc, PCLU, &lu));
  if (lu) PetscCall(PCFactorGetMatSolverType(pc, &st));
  PetscCall(PetscViewerASCIIPrintf(viewer, "%s KSP %s, PC %s%s%s%s\n", what, kt, pt, st ? " (" : "", st ? st : "", st ? ")" : ""));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPView(StgssaFSP f, PetscViewer viewer)
{
  const StgssaModelDef *def;
  MatInfo               info;
  PetscMPIInt           size;

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(f->comm, &viewer));
  if (!f->setup) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaFSP: (not set up)\n"));
    PetscFunctionReturn(0);
  }
  PetscCall(StgssaModelGetDef(f->model, &def));
  PetscCallMPI(MPI_Comm_size(f->comm, &size));
  PetscCall(MatGetInfo(f->A, MAT_GLOBAL_SUM, &info));
  PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaFSP: %" PetscInt_FMT " states, %.0f nonzeros in A, %" PetscInt_FMT " jumps out of the projection, on %d ranks\n", f->n, info.nz_used, f->nleak, size));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  for (PetscInt s = 0; s < f->S; s++) {
    if (f->bound[s] >= 0)
      PetscCall(PetscViewerASCIIPrintf(viewer, "species %-12s <= %" PetscInt_FMT " (bound)\n", def->species[s].name, f->bound[s]));
    else
      PetscCall(PetscViewerASCIIPrintf(viewer, "species %-12s <= %" PRId64 " (reachable from x0)\n", def->species[s].name, f->maxcount[s]));
  }
  PetscCall(PetscViewerASCIIPrintf(viewer, "%" PetscInt_FMT " fitted log-rates:", f->P));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
  for (PetscInt q = 0; q < f->P; q++)
    PetscCall(PetscViewerASCIIPrintf(viewer, " %s", f->fit_names[q]));
  PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  PetscCall(PetscViewerASCIIPrintf(viewer, "tolerance on lost mass %g\n", (double)f->tol));
  if (f->ksp) PetscCall(StgssaFSPViewKSP(viewer, "steady state: [A with row x0 := 1^T] p = e_x0,", f->ksp));
  if (f->ts) {
    TSType    tt;
    PetscReal atol, rtol;
    SNES      snes;
    KSP       ksp;
    PC        pc;
    PetscBool shell;
    PetscCall(TSGetType(f->ts, &tt));
    PetscCall(TSGetTolerances(f->ts, &atol, NULL, &rtol, NULL));
    PetscCall(PetscViewerASCIIPrintf(viewer, "transient: TS %s, rtol %g, atol %g, %" PetscInt_FMT " steps; system of %" PetscInt_FMT " unknowns (p and %" PetscInt_FMT " sensitivities)\n", tt, (double)rtol, (double)atol, f->ts_steps,
                                     f->n * (1 + f->P), f->P));
    PetscCall(TSGetSNES(f->ts, &snes));
    PetscCall(SNESGetKSP(snes, &ksp));
    PetscCall(KSPGetPC(ksp, &pc));
    PetscCall(PetscObjectTypeCompare((PetscObject)pc, PCSHELL, &shell));
    if (shell && f->kstage)
      PetscCall(StgssaFSPViewKSP(viewer, "  stages: block triangular, 1+P solves with shift I - A:", f->kstage));
    else
      PetscCall(StgssaFSPViewKSP(viewer, "  stages: shift I - J:", ksp));
  }
  if (f->done) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "%12s %14s\n", "time", "lost mass"));
    for (PetscInt k = 0; k < f->nsample; k++) {
      if (f->times[k] < 0)
        PetscCall(PetscViewerASCIIPrintf(viewer, "%12s %14.3e (mass on the boundary states)\n", "steady", (double)f->lost[k]));
      else
        PetscCall(PetscViewerASCIIPrintf(viewer, "%12.5g %14.3e\n", (double)f->times[k], (double)f->lost[k]));
    }
  }
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}

/* /fsp: times [T] (negative: steady state); distribution/<species> [T x B]; sensitivity/<species>
   [T x B x P]; moments/<species> [T x 3], moments_gradient/<species> [T x 3 x P], and the same
   for every group of the model with integer weights (<group>: its weighted sum); attributes
   fit_names, lost_mass [T], states, tol; with -stgssa_fsp_full also full/states [n x S],
   full/probability [T x n], full/sensitivity [T x n x P]. Not collective (rank 0 writes). */
PetscErrorCode StgssaFSPWriteHDF5(StgssaFSP f, hid_t file)
{
  const StgssaModelDef *def;
  const PetscInt        T = f->nsample, P = f->P;
  hid_t                 g;
  double               *buf;

  PetscFunctionBegin;
  PetscCheck(f->done, PETSC_COMM_SELF, PETSC_ERR_ORDER, "Call StgssaFSPSolve() first");
  PetscCall(StgssaModelGetDef(f->model, &def));
  PetscCallHDF5(g = H5Gcreate2(file, "fsp", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  {
    hsize_t dims[1] = {(hsize_t)T};
    PetscCall(StgssaH5WriteDoubles(g, "times", 1, dims, f->times));
  }
  if (P) PetscCall(StgssaH5WriteAttrStrings(g, "fit_names", P, (const char *const *)f->fit_names));
  PetscCall(StgssaH5WriteAttrDoubles(g, "lost_mass", (hsize_t)T, f->lost));
  PetscCall(StgssaH5WriteAttrInt64(g, "states", f->n));
  PetscCall(StgssaH5WriteAttrDouble(g, "tol", f->tol));
  {
    PetscInt mx = 3;
    for (PetscInt s = 0; s < f->S + f->ngroups; s++)
      mx = PetscMax(mx, f->nbins[s]);
    PetscCall(PetscMalloc1(T * mx * (P + 1), &buf));
  }
  for (PetscInt s = 0; s < f->S + f->ngroups; s++) { /* species, then the groups with integer weights */
    const PetscInt B     = f->nbins[s];
    const char    *qname = s < f->S ? def->species[s].name : def->groups[s - f->S].name;
    char           name[STGSSA_NAME_MAX + 32];
    if (!B) continue;
    for (PetscInt k = 0; k < T; k++)
      PetscCall(PetscArraycpy(&buf[k * B], &f->marg[k * f->btot + f->boff[s]], B));
    {
      hsize_t dims[2] = {(hsize_t)T, (hsize_t)B};
      PetscCall(PetscSNPrintf(name, sizeof(name), "distribution/%s", qname));
      PetscCall(StgssaH5WriteDoubles(g, name, 2, dims, buf));
    }
    if (P) {
      hsize_t dims[3] = {(hsize_t)T, (hsize_t)B, (hsize_t)P};
      for (PetscInt k = 0; k < T; k++)
        PetscCall(PetscArraycpy(&buf[k * B * P], &f->dmarg[(k * f->btot + f->boff[s]) * P], B * P));
      PetscCall(PetscSNPrintf(name, sizeof(name), "sensitivity/%s", qname));
      PetscCall(StgssaH5WriteDoubles(g, name, 3, dims, buf));
    }
    {
      hsize_t dims[2] = {(hsize_t)T, 3};
      for (PetscInt k = 0; k < T; k++)
        PetscCall(StgssaFSPGetMoments(f, k, s, &buf[3 * k], NULL));
      PetscCall(PetscSNPrintf(name, sizeof(name), "moments/%s", qname));
      PetscCall(StgssaH5WriteDoubles(g, name, 2, dims, buf));
    }
    if (P) {
      hsize_t   dims[3] = {(hsize_t)T, 3, (hsize_t)P};
      PetscReal m[3];
      for (PetscInt k = 0; k < T; k++)
        PetscCall(StgssaFSPGetMoments(f, k, s, m, &buf[3 * P * k]));
      PetscCall(PetscSNPrintf(name, sizeof(name), "moments_gradient/%s", qname));
      PetscCall(StgssaH5WriteDoubles(g, name, 3, dims, buf));
    }
  }
  PetscCall(PetscFree(buf));
  if (f->full) {
    hsize_t dims[3] = {(hsize_t)f->n, (hsize_t)f->S, 0};
    PetscCall(PetscMalloc1(f->n * f->S, &buf));
    for (PetscInt i = 0; i < f->n * f->S; i++)
      buf[i] = (double)f->x[i];
    PetscCall(StgssaH5WriteDoubles(g, "full/states", 2, dims, buf));
    PetscCall(PetscFree(buf));
    dims[0] = (hsize_t)T;
    dims[1] = (hsize_t)f->n;
    PetscCall(StgssaH5WriteDoubles(g, "full/probability", 2, dims, f->fullp));
    dims[2] = (hsize_t)P;
    if (P) PetscCall(StgssaH5WriteDoubles(g, "full/sensitivity", 3, dims, f->fulldp));
  }
  PetscCallHDF5(H5Gclose(g));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPDestroy(StgssaFSP *fsp)
{
  StgssaFSP f = *fsp;

  PetscFunctionBegin;
  if (!f) PetscFunctionReturn(0);
  PetscCall(StgssaFSPFreeSetUp(f));
  for (PetscInt i = 0; i < f->nbnd; i++)
    PetscCall(PetscFree(f->bnd_names[i]));
  PetscCall(PetscFree2(f->bnd_names, f->bnd_values));
  if (f->fit_names)
    for (PetscInt q = 0; q < f->P; q++)
      PetscCall(PetscFree(f->fit_names[q]));
  PetscCall(PetscFree(f->fit_names));
  PetscCall(PetscFree(f->times));
  PetscCall(PetscFree(*fsp));
  PetscFunctionReturn(0);
}
