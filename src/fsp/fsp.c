/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaFSP: finite-state-projection chemical master equation with sensitivities
  (DESIGN.md section 2, "exact, for small models"). See include/stgssa/fsp.h for the equations.
  This file: the object (create, options, set-up, solve, destroy) and its simple getters.
  The other files of src/fsp: projection.c (states, bounds), generator.c (A, dA/dtheta),
  steady.c (stationary solve), transient.c (TS integration), output.c (records, View, HDF5).

  Every rank enumerates the same projection (breadth-first from x0, reactions in model order),
  so states are numbered identically everywhere; the matrices are distributed by PETSc's default
  row layout and each rank assembles only the rows it owns. Results are gathered to every rank
  (VecScatterCreateToAll) and reduced there in the same order, so every rank holds bitwise the
  same marginals.
*/
#include "fsp_impl.h"
#include <stgssa/expr.h>
#include "../stgssa_impl.h"

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
  f->grow       = PETSC_TRUE;
  f->affine_opt = PETSC_TRUE;
  f->adjoint_opt = PETSC_FALSE; /* measured slower than the forward sensitivities on the smFISH analog (adjoint.c) */
  f->redundant  = 20000;
  f->pcomm      = comm;
  *fsp          = f;
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaFSPReset(StgssaFSP f);

PetscErrorCode StgssaFSPSetModel(StgssaFSP f, StgssaModel model)
{
  PetscFunctionBegin;
  f->model = model;
  PetscCall(StgssaFSPReset(f));
  PetscCall(PetscFree(f->abound)); /* automatic bounds belong to a model */
  f->nauto  = 0;
  f->probed = PETSC_FALSE;
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
  PetscCall(PetscOptionsStringArray("-stgssa_fsp_max", "Fixed upper bounds of species counts S1=N1,S2=N2 (not grown: a leak through them is an error; default: automatic bounds, see -stgssa_fsp_grow)", "StgssaFSPSetBound", maxs, &nmax, &set_max));
  PetscCall(PetscOptionsReal("-stgssa_fsp_tol", "Largest acceptable probability mass lost from the projection (transient: 1 - sum p; steady state: mass on the boundary states)", "StgssaFSPSetTolerance", tol, &tol, NULL));
  PetscCall(PetscOptionsBool("-stgssa_fsp_steady", "Solve for the steady state instead of the sample times", "StgssaFSPSetTimes", steady, &steady, NULL));
  PetscCall(PetscOptionsBool("-stgssa_fsp_full", "Keep (and write) the full distribution over the projection's states", "StgssaFSPGetFull", f->full, &f->full, NULL));
  PetscCall(PetscOptionsBool("-stgssa_fsp_grow", "Automatic bounds for species without -stgssa_fsp_max: start at x0 + 32 and double where mass leaks over -stgssa_fsp_tol, up to -stgssa_fsp_max_states (0: such species are bounded by reachability only)", "StgssaFSPSolve", f->grow, &f->grow, NULL));
  PetscCall(PetscOptionsBoundedInt("-stgssa_fsp_redundant", "Projections of at most this many states are solved whole on every rank (no communication: faster than distributing them); larger ones are distributed over the ranks", "StgssaFSPSetUp", f->redundant, &f->redundant, NULL, 0));
  PetscCall(PetscOptionsBool("-stgssa_fsp_affine", "Rate laws affine in the inputs: assemble A(t) = A0 + sum_i u_i(t) A_i from stored matrices (no rate-law evaluation inside the integrator; 0: evaluate the laws at every integrator time)", "StgssaFSPSolve", f->affine_opt, &f->affine_opt, NULL));
  PetscCall(PetscOptionsBool("-stgssa_fsp_adjoint", "Loss gradients in fits by the adjoint method (p forward, one backward solve; default 0: forward sensitivities at every evaluation, faster on the projections measured so far)", "StgssaFSPSetAdjoint", f->adjoint_opt, &f->adjoint_opt, NULL));
  PetscCall(PetscOptionsBoundedInt("-stgssa_fsp_max_states", "Largest number of states in the projection (automatic bounds stop growing there: the solve fails)", "StgssaFSPSetUp", f->max_states, &f->max_states, NULL, 1));
  PetscCall(PetscOptionsRealArray("-stgssa_sample_times", "Sample times t1,t2,... ascending (default: -stgssa_tfinal if given, else the steady state)", "StgssaFSPSetTimes", times, &ntimes, &set_times));
  PetscCall(PetscOptionsReal("-stgssa_tfinal", "End time, the FSP's sample time when -stgssa_sample_times is not given", "StgssaFSPSetTimes", tfinal, &tfinal, &set_tf));
  PetscCall(PetscOptionsStringArray("-stgssa_fit", "Parameters to differentiate by, e.g. k_on,k_off (default: all)", "StgssaFSPSetFit", fit, &nfit, &set_fit));
  PetscCall(PetscOptionsEnum("-stgssa_initial",
                             "Initial distribution: x0 (the model's initial counts) or steady (the stationary distribution with the inputs at t = 0; FSP: solved exactly with its sensitivities, SSA: after a burn-in of -stgssa_initial_burnin)",
                             "StgssaFSPSetInitial", StgssaFSPInitials, (PetscEnum)initial, (PetscEnum *)&initial, NULL));
  PetscOptionsEnd();
  PetscCall(StgssaFSPCorrelationSetFromOptions(f));
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

static PetscErrorCode StgssaFSPFreeSetUp(StgssaFSP f)
{
  PetscFunctionBegin;
  PetscCall(PetscFree3(f->bound, f->maxcount, f->bkind));
  PetscCall(PetscFree(f->flux_init));
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
  PetscCall(PetscFree4(f->rule_ok, f->rsum, f->drsum, f->rscratch));
  f->nrules = 0;
  PetscCall(PetscFree2(f->fullp, f->fulldp));
  PetscCall(PetscFree2(f->zl_state, f->zl_rxn));
  PetscCall(PetscFree(f->tdrow));
  PetscCall(PetscFree(f->brk));
  PetscCall(PetscFree(f->dkw));
  PetscCall(PetscFree2(f->lc, f->ldk));
  PetscCall(PetscFree2(f->av, f->dav));
  PetscCall(PetscFree(f->adj_w));
  PetscCall(PetscFree(f->ssr));
  PetscCall(PetscFree2(f->tj_t, f->tj_v));
  PetscCall(PetscFree(f->map_slot));
  f->map_cap = 0;
  PetscCall(StgssaFSPEventsFree(f));
  PetscCall(StgssaFSPEventsClear(f));
  PetscCall(StgssaFSPCorrelationFree(f));
  f->ntj = f->captj = 0;
  f->adj_ready = PETSC_FALSE;
  f->fast = PETSC_FALSE;
  f->affine = PETSC_FALSE;
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

/* The configuration changed (events, correlations): set up again before the next solve. */
PetscErrorCode StgssaFSPInvalidate(StgssaFSP f)
{
  PetscFunctionBegin;
  PetscCall(StgssaFSPReset(f));
  PetscFunctionReturn(0);
}

/* "a, b, c" of the model's species (or parameter) names, for messages. */
static PetscErrorCode StgssaFSPKnownSpecies(const StgssaModelDef *def, char buf[], size_t len)
{
  PetscFunctionBegin;
  buf[0] = 0;
  for (int i = 0; i < def->nspecies; i++) {
    if (i) PetscCall(StgssaStrlcat(buf, ", ", len));
    PetscCall(StgssaStrlcat(buf, def->species[i].name, len));
  }
  PetscFunctionReturn(0);
}

/* The set-up; f->too_big (and f->big_msg) when the enumeration reached max_states (then the
   object is left not set up). */
static PetscErrorCode StgssaFSPSetUp_Private(StgssaFSP f)
{
  const StgssaModelDef *def;
  const StgssaNetwork  *net;
  StgssaNetwork         unit;
  PetscInt              nloc = PETSC_DECIDE, nev;

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
  PetscCall(StgssaModelGetNumEvents(f->model, &nev));
  PetscCheck(!nev || !f->any_steady, f->comm, PETSC_ERR_ARG_WRONG, "FSP: the model has scheduled events (begin events), so it has no steady state; give transient sample times (-stgssa_sample_times or -stgssa_tfinal)");
  PetscCheck(!nev || f->initial != STGSSA_FSP_INITIAL_STEADY, f->comm, PETSC_ERR_ARG_WRONG, "FSP: the model has scheduled events (begin events), so there is no stationary initial distribution; use -stgssa_initial x0");
  PetscCheck(!f->ncorr || f->any_transient, f->comm, PETSC_ERR_ARG_WRONG, "FSP: -stgssa_correlate needs transient sample times (-stgssa_sample_times or -stgssa_tfinal)");
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

  /* bounds: given (-stgssa_fsp_max), else automatic (grown on leaks by StgssaFSPSolve), else none */
  PetscCall(PetscMalloc3(f->S, &f->bound, f->S, &f->maxcount, f->S, &f->bkind));
  PetscCall(PetscCalloc1(f->S, &f->flux_init));
  if (f->nauto != f->S) { /* first automatic bound: x0 + 32, twice x0 when that is more */
    PetscCall(PetscFree(f->abound));
    PetscCall(PetscMalloc1(f->S, &f->abound));
    f->nauto = f->S;
    for (PetscInt s = 0; s < f->S; s++)
      f->abound[s] = (PetscInt)PetscMin((int64_t)PETSC_MAX_INT / 4, PetscMax(net->x0[s] + 32, 2 * net->x0[s]));
  }
  for (PetscInt s = 0; s < f->S; s++) {
    f->bound[s] = f->grow ? f->abound[s] : -1;
    f->bkind[s] = f->grow ? STGSSA_FSP_BOUND_AUTO : STGSSA_FSP_BOUND_NONE;
  }
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
    f->bkind[s] = STGSSA_FSP_BOUND_GIVEN;
  }

  /* fitted parameters: theta_q = log k_q; reaction r depends on q if its rate is factor * k_q */
  if (!f->fit_names) {
    const char **all;
    int         *idx, n = 0;
    PetscCall(PetscMalloc2(def->nparams + 1, &all, def->nparams + 1, &idx));
    PetscCheck(StgssaModelDefDefaultFit(def, idx, &n) == 0, f->comm, PETSC_ERR_MEM, "Out of memory");
    for (int p = 0; p < n; p++) all[p] = def->params[idx[p]].name; /* not derived ones, nor those that set initial counts */
    PetscCall(StgssaFSPSetFit(f, n, all));
    PetscCall(PetscFree2(all, idx));
  }
  PetscCall(PetscMalloc1(f->P + 1, &f->fit_param));
  PetscCall(PetscMalloc1(f->R, &f->rxn_fit));
  PetscCall(StgssaModelResolveFit(f->model, f->P, (const char *const *)f->fit_names, f->fit_param, f->rxn_fit));
  PetscCall(StgssaFSPEventsFromModel(f)); /* at the current parameter values; the enumeration closes the projection under them */

  /* the projection: propensities with unit rates give the structure, independent of k */
  PetscCall(PetscMalloc1(f->R, &f->kunit));
  for (PetscInt r = 0; r < f->R; r++)
    f->kunit[r] = 1.0;
  unit   = *net;
  unit.k = f->kunit;
  for (PetscInt s = 0; s < f->S; s++)
    PetscCheck(net->x0[s] >= 0, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "FSP: negative initial count of species '%s'", def->species[s].name);
  PetscCall(StgssaFSPEnumerate(f, net, &unit));
  if (f->too_big) {
    PetscCall(StgssaFSPFreeSetUp(f));
    PetscFunctionReturn(0);
  }
  f->ngroups = def->ngroups;
  PetscCall(PetscMalloc2(f->S + f->ngroups, &f->nbins, f->S + f->ngroups, &f->boff));
  f->btot = 0;
  for (PetscInt s = 0; s < f->S; s++) {
    f->maxcount[s] = 0;
    for (PetscInt i = 0; i < f->n; i++)
      f->maxcount[s] = PetscMax(f->maxcount[s], f->x[i * f->S + s]);
    f->nbins[s] = (f->bkind[s] == STGSSA_FSP_BOUND_GIVEN ? f->bound[s] : (PetscInt)f->maxcount[s]) + 1; /* automatic: the counts reached */
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
  f->pcomm = f->n <= f->redundant ? PETSC_COMM_SELF : f->comm; /* small: the whole projection on every rank */
  PetscCall(PetscSplitOwnership(f->pcomm, &nloc, &f->n));
  PetscCallMPI(MPI_Scan(&nloc, &f->rend, 1, MPIU_INT, MPI_SUM, f->pcomm));
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

  PetscCall(StgssaFSPCorrelationSetUp(f)); /* resolves the names, sets the horizon */
  PetscCall(StgssaFSPEventsSetUp(f, PetscMax(f->tmax, f->ncorr ? f->corr_horizon : 0)));
  PetscCall(StgssaFSPCreateMat(f, PETSC_FALSE, PETSC_FALSE, &f->A));
  PetscCall(PetscMalloc1(f->P + 1, &f->dA));
  for (PetscInt q = 0; q < f->P; q++)
    PetscCall(StgssaFSPCreateMat(f, PETSC_FALSE, PETSC_FALSE, &f->dA[q]));
  if (f->any_steady || (f->any_transient && f->initial == STGSSA_FSP_INITIAL_STEADY)) PetscCall(StgssaFSPCreateMat(f, PETSC_FALSE, PETSC_TRUE, &f->Mss));
  if (f->any_transient) PetscCall(StgssaFSPCreateMat(f, PETSC_TRUE, PETSC_FALSE, &f->J)); /* Jshift: its duplicate, once assembled */

  PetscCall(PetscCalloc1(f->nsample * f->btot + 1, &f->adj_w));
  PetscCall(PetscCalloc4(f->nsample * f->btot, &f->marg, f->nsample * f->btot * f->P + 1, &f->dmarg, f->nsample, &f->lost, f->nsample * f->S, &f->flux));
  if (f->full) PetscCall(PetscCalloc2(f->nsample * f->n, &f->fullp, f->nsample * f->n * f->P + 1, &f->fulldp));
  f->nrules = def->nrules;
  PetscCall(PetscCalloc4(f->nrules + 1, &f->rule_ok, f->nsample * f->nrules * 4 + 1, &f->rsum, f->nsample * f->nrules * 4 * f->P + 1, &f->drsum, StgssaRuleScratchSize(net) + f->P + 1, &f->rscratch));
  for (PetscInt r = 0; r < f->nrules; r++) {
    int nin;
    (void)StgssaExprUsedInputs(def->rules[r].expr, &nin);
    f->rule_ok[r] = (PetscBool)(!nin && !StgssaExprUsesTime(def->rules[r].expr));
  }
  f->setup = PETSC_TRUE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPSetUp(StgssaFSP f)
{
  PetscFunctionBegin;
  if (f->setup) PetscFunctionReturn(0);
  PetscCall(StgssaFSPSetUp_Private(f));
  PetscCheck(!f->too_big, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "FSP: %s. %s", f->big_msg,
             f->grow ? "Raise -stgssa_fsp_max_states, or give smaller bounds: -stgssa_fsp_max SPECIES=BOUND (automatic bounds start at x0 + 32 and double while mass leaks)"
                     : "Give -stgssa_fsp_max SPECIES=BOUND for every species whose count can grow without limit (or lower the bounds, or raise -stgssa_fsp_max_states, or drop -stgssa_fsp_grow 0)");
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
  PetscCall(StgssaFSPEventsStale(f, stale)); /* an event's value changed: new maps (and projection) */
  if (*stale || !f->nzl) PetscFunctionReturn(0);
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

/* A failed solve: an error (code) with the message in f->fail_msg, or with StgssaFSPSetSoftFailure
   the failed state (StgssaFSPGetFailed) and 0. The caller returns right after. */
PetscErrorCode StgssaFSPRaise(StgssaFSP f, StgssaFSPFailure kind, PetscErrorCode code)
{
  PetscFunctionBegin;
  f->failed = kind;
  if (f->soft) {
    PetscCall(PetscInfo(NULL, "FSP solve failed (reported, not raised): %s\n", f->fail_msg));
    PetscFunctionReturn(0);
  }
  SETERRQ(f->comm, code, "%s", f->fail_msg);
}

/* One solve on the current projection: the steady state (samples t < 0, or the initial
   distribution), then the transient. */
static PetscErrorCode StgssaFSPSolveOnce(StgssaFSP f)
{
  Vec y0 = NULL;

  PetscFunctionBegin;
  f->done      = PETSC_FALSE;
  f->aborted   = PETSC_FALSE;
  f->lost_init = 0;
  f->ss_used   = PETSC_FALSE;
  PetscCall(StgssaFSPTrajectoryReset(f));
  { /* adjoint mode: asked for, with parameters, on a projection one rank holds whole */
    PetscMPIInt size;
    PetscCallMPI(MPI_Comm_size(f->pcomm, &size));
    f->adj = (PetscBool)(f->adj_req && f->adjoint_opt && f->P > 0 && size == 1 && !f->nev && !f->ncorr); /* events and correlations: forward sensitivities */
  }
  f->nsens = f->adj ? 0 : f->P;
  PetscCall(StgssaFSPAssemble(f, 0.0, PETSC_TRUE)); /* time-dependent inputs at t = 0 */
  if (f->any_steady || (f->any_transient && f->initial == STGSSA_FSP_INITIAL_STEADY)) PetscCall(StgssaFSPSolveSteady(f, f->initial == STGSSA_FSP_INITIAL_STEADY ? &y0 : NULL));
  if (f->failed) PetscFunctionReturn(0);
  if (y0) PetscCall(StgssaFSPInitialMass(f, y0)); /* boundary mass of the initial distribution */
  if (f->any_transient) {
    PetscErrorCode ierr = StgssaFSPSolveTransient(f, y0);
    PetscCall(VecDestroy(&y0));
    PetscCall(ierr);
  }
  if (!f->failed) f->done = PETSC_TRUE;
  if (f->done && f->adj && !f->aborted) {
    f->adj_ready = PETSC_TRUE;
    PetscCall(PetscArrayzero(f->adj_w, f->nsample * f->btot));
  }
  PetscFunctionReturn(0);
}

/* The worst truncation: sample k (-1: the initial steady state, -2: none) whose lost mass exceeds
   the tolerance the most; the same numbers on every rank, so the same verdict. */
static PetscInt StgssaFSPWorst(StgssaFSP f)
{
  PetscInt  worst = -2;
  PetscReal wl    = f->tol;
  if (f->lost_init > wl) worst = -1, wl = f->lost_init;
  for (PetscInt k = 0; k < f->nsample; k++)
    if (f->lost[k] > wl) worst = k, wl = f->lost[k];
  return worst;
}

/* Grow the automatic bounds that leak at the worst sample: every automatic bound carrying at least
   1e-3 of the largest outflow there (all automatic bounds that leak somewhere when nothing flows
   out at that instant) doubles, b -> 2b + 1. *grown: some bound grew. */
static PetscErrorCode StgssaFSPGrowBounds(StgssaFSP f, PetscInt worst, PetscBool *grown)
{
  const PetscReal *flux = worst < 0 ? f->flux_init : &f->flux[worst * f->S];
  PetscReal        fmax = 0;

  PetscFunctionBegin;
  *grown = PETSC_FALSE;
  for (PetscInt s = 0; s < f->S; s++) fmax = PetscMax(fmax, flux[s]);
  for (PetscInt s = 0; s < f->S; s++)
    if (f->bkind[s] == STGSSA_FSP_BOUND_AUTO && fmax > 0 && flux[s] >= 1e-3 * fmax && f->abound[s] <= (PETSC_MAX_INT - 1) / 2) { /* no overflow: a bound that large cannot grow */
      f->abound[s] = 2 * f->abound[s] + 1;
      *grown       = PETSC_TRUE;
    }
  if (!*grown && !(fmax > 0))
    for (PetscInt l = 0; l < f->nleak; l++) {
      const PetscInt s = f->lk_species[l];
      if (f->bkind[s] == STGSSA_FSP_BOUND_AUTO && f->abound[s] == f->bound[s] && f->abound[s] <= (PETSC_MAX_INT - 1) / 2) {
        f->abound[s] = 2 * f->abound[s] + 1;
        *grown       = PETSC_TRUE;
      }
    }
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaFSPSolve_Private(StgssaFSP f);

PetscErrorCode StgssaFSPSolve(StgssaFSP f)
{
  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(STGSSA_FSPSolve, 0, 0, 0, 0));
  PetscCall(StgssaFSPSolve_Private(f));
  if (!f->failed && f->grow_factor > 0) f->grow_limit = PetscMax(f->grow_limit, (PetscInt)PetscMin(f->grow_factor * f->n, (PetscReal)PETSC_MAX_INT));
  PetscCall(PetscLogEventEnd(STGSSA_FSPSolve, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaFSPSolveGrow(StgssaFSP);

static PetscErrorCode StgssaFSPSolve_Private(StgssaFSP f)
{
  PetscBool stale, probe = PETSC_FALSE;

  PetscFunctionBegin;
  f->failed      = STGSSA_FSP_OK;
  f->fail_msg[0] = 0;
  f->ngrown      = 0;
  if (!f->setup) PetscCall(StgssaFSPSetUp_Private(f));
  if (f->too_big) {
    PetscCall(PetscSNPrintf(f->fail_msg, sizeof(f->fail_msg), "FSP: %s. Raise -stgssa_fsp_max_states or give smaller bounds (-stgssa_fsp_max SPECIES=BOUND)", f->big_msg));
    PetscCall(StgssaFSPRaise(f, STGSSA_FSP_FAILED_SIZE, PETSC_ERR_ARG_OUTOFRANGE));
    PetscFunctionReturn(0);
  }
  PetscCall(StgssaFSPStale(f, &stale));
  if (stale) {
    PetscCall(PetscInfo(NULL, "FSP: a rate law left out of the projection is no longer 0, or an event's value changed, at the new parameter values: building the projection again\n"));
    PetscCall(StgssaFSPReset(f));
    PetscCall(StgssaFSPSetUp(f));
  }
  /* first solve with automatic bounds: find them with p alone (1/(1+P) of the work of each
     attempt), then solve once with the sensitivities */
  for (PetscInt l = 0; l < f->nleak && !f->probed && f->P > 0; l++) probe = (PetscBool)(probe || f->bkind[f->lk_species[l]] == STGSSA_FSP_BOUND_AUTO); /* an automatic bound can leak */
  if (probe) {
    const PetscInt P = f->P;
    PetscCall(StgssaFSPReset(f));
    f->P = 0;
    {
      PetscErrorCode ierr = StgssaFSPSetUp_Private(f);
      if (!ierr && !f->too_big) ierr = StgssaFSPSolveGrow(f);
      PetscCall(StgssaFSPReset(f)); /* built without the sensitivities (P = 0 sizes) */
      f->P = P;
      PetscCall(ierr);
    }
    f->probed = PETSC_TRUE;
    PetscCall(StgssaFSPSetUp_Private(f));
    PetscCheck(!f->too_big, f->comm, PETSC_ERR_PLIB, "FSP: the projection found without sensitivities no longer fits");
    if (f->failed) PetscFunctionReturn(0); /* the probe failed: so does the solve (no results) */
    PetscCall(StgssaFSPSolveGrow(f));
    PetscFunctionReturn(0);
  }
  PetscCall(StgssaFSPSolveGrow(f));
  PetscFunctionReturn(0);
}

/* Solve, growing the automatic bounds while mass leaks over the tolerance (see StgssaFSPSolve). */
static PetscErrorCode StgssaFSPSolveGrow(StgssaFSP f)
{
  PetscInt worst, *saved;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(f->S, &saved));
  for (;;) {
    PetscBool growable = PETSC_FALSE, grown;
    for (PetscInt l = 0; l < f->nleak && !growable; l++) growable = (PetscBool)(f->bkind[f->lk_species[l]] == STGSSA_FSP_BOUND_AUTO);
    f->abort_on_leak = growable; /* the transient stops at the first sample that leaks too much */
    {
      PetscErrorCode ierr = StgssaFSPSolveOnce(f);
      if (ierr) PetscCall(PetscFree(saved));
      PetscCall(ierr);
    }
    if (f->failed) break;
    worst = StgssaFSPWorst(f);
    if (worst == -2) break; /* within the tolerance */
    PetscCall(PetscArraycpy(saved, f->abound, f->S));
    PetscCall(StgssaFSPGrowBounds(f, worst, &grown));
    if (grown) {
      PetscCall(StgssaFSPReset(f));
      PetscCall(StgssaFSPSetUp_Private(f));
      if (!f->too_big && f->grow_limit > 0 && f->n > f->grow_limit) { /* a trial point far out: fail it rather than solve on a huge projection (kept for later solves) */
        const PetscInt n = f->n;
        PetscCall(StgssaFSPReset(f)); /* re-enumerated with the saved bounds below */
        f->too_big = PETSC_TRUE;
        PetscCall(PetscSNPrintf(f->big_msg, sizeof(f->big_msg), "the projection would grow to %" PetscInt_FMT " states, over %g x the largest one solved so far (%" PetscInt_FMT ")", n, (double)f->grow_factor, f->grow_limit));
      }
      if (!f->too_big) {
        f->ngrown++;
        PetscCall(PetscInfo(NULL, "FSP: lost mass over -stgssa_fsp_tol: automatic bounds grown (%" PetscInt_FMT " states now)\n", f->n));
        continue;
      }
      /* the larger projection does not fit: back to the last one, and fail */
      {
        char big[sizeof(f->big_msg)];
        PetscCall(PetscStrncpy(big, f->big_msg, sizeof(big)));
        PetscCall(PetscArraycpy(f->abound, saved, f->S));
        PetscCall(StgssaFSPSetUp_Private(f));
        PetscCheck(!f->too_big, f->comm, PETSC_ERR_PLIB, "FSP: the projection before growing no longer fits");
        PetscCall(PetscSNPrintf(f->fail_msg, sizeof(f->fail_msg),
                                "FSP: mass leaks from the projection (lost mass over -stgssa_fsp_tol %g) and growing the automatic bounds would exceed -stgssa_fsp_max_states: %s. Raise -stgssa_fsp_max_states or -stgssa_fsp_tol",
                                (double)f->tol, big));
        PetscCall(PetscFree(saved));
        PetscCall(StgssaFSPRaise(f, STGSSA_FSP_FAILED_SIZE, PETSC_ERR_NOT_CONVERGED));
        PetscFunctionReturn(0);
      }
    }
    /* leaks through given bounds only: the error names them */
    {
      char msg[2048];
      PetscCall(StgssaFSPLeakMessage(f, worst, msg, sizeof(msg)));
      if (worst == -1)
        PetscCall(PetscSNPrintf(f->fail_msg, sizeof(f->fail_msg), "FSP truncation: the initial steady state holds lost mass %.3g (probability on the boundary states, from which reactions leave the projection) > -stgssa_fsp_tol %g; raise the bounds, e.g. -stgssa_fsp_max %s", (double)f->lost_init, (double)f->tol, msg));
      else if (f->times[worst] < 0)
        PetscCall(PetscSNPrintf(f->fail_msg, sizeof(f->fail_msg), "FSP truncation: the steady state holds lost mass %.3g (probability on the boundary states, from which reactions leave the projection) > -stgssa_fsp_tol %g; raise the bounds, e.g. -stgssa_fsp_max %s", (double)f->lost[worst], (double)f->tol, msg));
      else
        PetscCall(PetscSNPrintf(f->fail_msg, sizeof(f->fail_msg), "FSP truncation: lost mass %.3g (probability that left the projection by t = %g) > -stgssa_fsp_tol %g; raise the bounds, e.g. -stgssa_fsp_max %s", (double)f->lost[worst], (double)f->times[worst], (double)f->tol, msg));
      PetscCall(PetscFree(saved));
      PetscCall(StgssaFSPRaise(f, STGSSA_FSP_FAILED_LEAK, PETSC_ERR_NOT_CONVERGED));
      PetscFunctionReturn(0);
    }
  }
  PetscCall(PetscFree(saved));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPSetGrowthLimit(StgssaFSP f, PetscReal factor)
{
  PetscFunctionBegin;
  PetscCheck(factor == 0 || factor >= 1, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "growth limit factor %g: expected 0 or >= 1", (double)factor);
  f->grow_factor = factor;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPSetAdjoint(StgssaFSP f, PetscBool adjoint)
{
  PetscFunctionBegin;
  f->adj_req = adjoint;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPGetAdjoint(StgssaFSP f, PetscBool *ready)
{
  PetscFunctionBegin;
  *ready = (PetscBool)(f->adj_ready && f->done);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPSetSoftFailure(StgssaFSP f, PetscBool soft)
{
  PetscFunctionBegin;
  f->soft = soft;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPGetFailed(StgssaFSP f, StgssaFSPFailure *kind, const char **msg)
{
  PetscFunctionBegin;
  if (kind) *kind = f->failed;
  if (msg) *msg = f->fail_msg;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPEstimateSize(StgssaFSP f, PetscInt *nstates, PetscBool *fits)
{
  PetscBool soft = f->soft;

  PetscFunctionBegin;
  f->soft = PETSC_TRUE;
  PetscCall(StgssaFSPSolve(f));
  f->soft = soft;
  if (nstates) *nstates = f->setup ? f->n : -1;
  if (fits) *fits = (PetscBool)(f->failed != STGSSA_FSP_FAILED_SIZE);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPGetNumStates(StgssaFSP f, PetscInt *n)
{
  PetscFunctionBegin;
  PetscCall(StgssaFSPSetUp(f));
  *n = f->n;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPGetMaxStates(StgssaFSP f, PetscInt *max_states)
{
  PetscFunctionBegin;
  *max_states = f->max_states;
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
  PetscCall(PetscFree(f->abound));
  PetscCall(StgssaFSPSetCorrelations(f, 0, NULL, NULL, 0, NULL));
  PetscCall(PetscFree(*fsp));
  PetscFunctionReturn(0);
}
