/* SPDX-License-Identifier: BSD-2-Clause */
/* Compile a parsed model into the compressed network the engine reads. */
#include "model_impl.h"
#include <stgssa/expr.h>

PetscErrorCode StgssaNetworkDestroy_Private(StgssaNetwork *net)
{
  PetscFunctionBegin;
  PetscCall(PetscFree2(net->x0, net->k));
  PetscCall(PetscFree3(net->react_ptr, net->react_species, net->react_coef));
  PetscCall(PetscFree3(net->nu_ptr, net->nu_species, net->nu_delta));
  PetscCall(PetscFree(net->order1));
  PetscCall(PetscFree2(net->dep_ptr, net->dep));
  PetscCall(PetscFree(net->nu_dense));
  PetscCall(PetscFree4(net->pv, net->law, net->law_full, net->tdep));
  PetscCall(PetscFree2(net->lawsp_ptr, net->lawsp));
  PetscCall(PetscMemzero(net, sizeof(*net)));
  PetscFunctionReturn(0);
}

/* Species read by the propensity of reaction i: its reactants, then the species of its law. */
static inline PetscInt StgssaReadCount(const StgssaNetwork *net, PetscInt i)
{
  return (net->react_ptr[i + 1] - net->react_ptr[i]) + (net->lawsp_ptr[i + 1] - net->lawsp_ptr[i]);
}
static inline PetscInt StgssaReadSpecies(const StgssaNetwork *net, PetscInt i, PetscInt q)
{
  const PetscInt nr = net->react_ptr[i + 1] - net->react_ptr[i];
  return q < nr ? net->react_species[net->react_ptr[i] + q] : net->lawsp[net->lawsp_ptr[i] + q - nr];
}

/* Fast-path kind of each propensity, and the dependency graph: reaction i depends on reaction j
   when j changes the count of a reactant of i, or of a species read by i's rate law (then a_i
   must be recomputed after j fires). Built through the index species s -> reactions whose
   propensity reads s, so the cost is the total length of the lists (not R^2 as a double loop
   over reactions would be): dep(j) is the union of the readers of j's changed species, in
   ascending reaction order (the order the engines have always used). */
static PetscErrorCode StgssaNetworkBuildDependencies(StgssaNetwork *net)
{
  const PetscInt R = net->R, S = net->S;
  PetscInt       n = 0, *rd_ptr, *rd, *smark, *rmark, *list;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(R, &net->order1));
  for (PetscInt j = 0; j < R; j++) {
    const PetscInt nr = net->react_ptr[j + 1] - net->react_ptr[j];
    if (nr == 0) net->order1[j] = -1;
    else if (nr == 1 && net->react_coef[net->react_ptr[j]] == 1) net->order1[j] = net->react_species[net->react_ptr[j]];
    else net->order1[j] = -2;
    if (net->law[j]) net->order1[j] = -3;
  }
  /* readers of species s: rd[rd_ptr[s] .. rd_ptr[s+1]), ascending, each reaction once */
  PetscCall(PetscCalloc4(S + 1, &rd_ptr, S, &smark, R, &rmark, R, &list));
  for (PetscInt s = 0; s < S; s++) smark[s] = -1;
  for (PetscInt i = 0; i < R; i++)
    for (PetscInt q = 0; q < StgssaReadCount(net, i); q++) {
      const PetscInt s = StgssaReadSpecies(net, i, q);
      if (smark[s] != i) rd_ptr[s + 1]++;
      smark[s] = i;
    }
  for (PetscInt s = 0; s < S; s++) rd_ptr[s + 1] += rd_ptr[s];
  PetscCall(PetscMalloc1(rd_ptr[S] + 1, &rd));
  for (PetscInt s = 0; s < S; s++) smark[s] = -1;
  for (PetscInt i = 0; i < R; i++) /* i ascending: every list comes out sorted */
    for (PetscInt q = 0; q < StgssaReadCount(net, i); q++) {
      const PetscInt s = StgssaReadSpecies(net, i, q);
      if (smark[s] != i) rd[rd_ptr[s]++] = i;
      smark[s] = i;
    }
  for (PetscInt s = S; s > 0; s--) rd_ptr[s] = rd_ptr[s - 1]; /* the fill moved each start to the next one's */
  rd_ptr[0] = 0;
  /* two passes over the reactions: count, then fill */
  for (PetscInt i = 0; i < R; i++) rmark[i] = -1;
  for (int pass = 0; pass < 2; pass++) {
    n = 0;
    for (PetscInt j = 0; j < R; j++) {
      PetscInt m = 0;
      if (pass) net->dep_ptr[j] = n;
      for (PetscInt u = net->nu_ptr[j]; u < net->nu_ptr[j + 1]; u++) {
        const PetscInt s = net->nu_species[u];
        for (PetscInt r = rd_ptr[s]; r < rd_ptr[s + 1]; r++)
          if (rmark[rd[r]] != j + pass * R) {
            rmark[rd[r]] = j + pass * R;
            list[m++]    = rd[r];
          }
      }
      if (pass) {
        PetscCall(PetscSortInt(m, list));
        for (PetscInt q = 0; q < m; q++) net->dep[n + q] = list[q];
      }
      n += m;
    }
    if (!pass) PetscCall(PetscMalloc2(R + 1, &net->dep_ptr, n + 1, &net->dep));
  }
  net->dep_ptr[R] = n;
  PetscCall(PetscFree(rd));
  PetscCall(PetscFree4(rd_ptr, smark, rmark, list));
  PetscFunctionReturn(0);
}

/* Rate laws: parameter values, laws, which propensities depend on time, species read by laws.
   A law reaction gets k_j = 1, so that StgssaPropensity gives its combinatorial factor h_j(x). */
static PetscErrorCode StgssaNetworkBuildLaws(const StgssaModelDef *d, StgssaNetwork *net)
{
  PetscInt   nsp = 0, *tdep_input;
  StgssaExpr **law;

  PetscFunctionBegin;
  net->def     = d;
  net->nparams = d->nparams;
  net->ninputs = d->ninputs;
  net->nevents = d->nevents;
  PetscCall(PetscMalloc4(d->nparams + 1, &net->pv, net->R, &law, net->R, &net->law_full, net->R, &net->tdep));
  net->law = (StgssaExpr *const *)law;
  PetscCall(StgssaNetworkSetParameterValues_Private(d, net));
  PetscCall(PetscCalloc1(d->ninputs + 1, &tdep_input));
  for (int i = 0; i < d->ninputs; i++) {
    const StgssaInputDef *in = &d->inputs[i];
    tdep_input[i] = in->kind == STGSSA_INPUT_TABLE ? in->npieces > 1 : StgssaExprUsesTime(in->expr);
  }
  net->any_law = net->any_tdep = PETSC_FALSE;
  for (PetscInt j = 0; j < net->R; j++) {
    const StgssaReactionDef *r = &d->reactions[j];
    law[j]                     = r->law;
    net->law_full[j]           = (PetscBool)(r->law && r->law_full);
    net->tdep[j]               = PETSC_FALSE;
    if (!r->law) continue;
    net->any_law = PETSC_TRUE;
    net->k[j]    = 1.0;
    {
      int        n;
      const int *in = StgssaExprUsedInputs(r->law, &n);
      net->tdep[j]  = (PetscBool)StgssaExprUsesTime(r->law);
      for (int q = 0; q < n; q++)
        if (tdep_input[in[q]]) net->tdep[j] = PETSC_TRUE;
    }
    if (net->tdep[j]) net->any_tdep = PETSC_TRUE;
    if (net->law_full[j]) {
      int n;
      (void)StgssaExprUsedSpecies(r->law, &n);
      nsp += n;
    }
  }
  PetscCall(PetscFree(tdep_input));
  PetscCall(PetscMalloc2(net->R + 1, &net->lawsp_ptr, nsp + 1, &net->lawsp));
  nsp = 0;
  for (PetscInt j = 0; j < net->R; j++) {
    net->lawsp_ptr[j] = nsp;
    if (net->law_full[j]) {
      int        n;
      const int *sp = StgssaExprUsedSpecies(net->law[j], &n);
      for (int q = 0; q < n; q++) net->lawsp[nsp++] = sp[q];
    }
  }
  net->lawsp_ptr[net->R] = nsp;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaNetworkSetParameterValues_Private(const StgssaModelDef *d, StgssaNetwork *net)
{
  PetscFunctionBegin;
  for (int m = 0; m < d->nparams; m++) net->pv[m] = d->params[m].value;
  for (PetscInt j = 0; j < net->R; j++) net->k[j] = d->reactions[j].law ? 1.0 : StgssaModelDefRate(d, (int)j);
  for (PetscInt s = 0; s < net->S; s++) net->x0[s] = d->species[s].initial; /* initial counts written as expressions follow the overrides */
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaNetworkBuild_Private(const StgssaModelDef *d, StgssaNetwork *net)
{
  PetscInt nreact = 0, nnu = 0, *delta_of;
  int64_t *delta;

  PetscFunctionBegin;
  PetscCall(StgssaNetworkDestroy_Private(net));
  net->S = d->nspecies;
  net->R = d->nreactions;
  for (int j = 0; j < d->nreactions; j++) nreact += d->reactions[j].nreact;
  /* net changes: at most nreact + nprod nonzeros per reaction */
  for (int j = 0; j < d->nreactions; j++) nnu += d->reactions[j].nreact + d->reactions[j].nprod;
  PetscCall(PetscMalloc2(net->S, &net->x0, net->R, &net->k));
  PetscCall(PetscMalloc3(net->R + 1, &net->react_ptr, nreact, &net->react_species, nreact, &net->react_coef));
  PetscCall(PetscMalloc3(net->R + 1, &net->nu_ptr, nnu, &net->nu_species, nnu, &net->nu_delta));
  PetscCall(PetscCalloc2(net->S, &delta, net->S, &delta_of));
  for (PetscInt s = 0; s < net->S; s++) net->x0[s] = d->species[s].initial;
  net->react_ptr[0] = 0;
  net->nu_ptr[0]    = 0;
  for (PetscInt j = 0; j < net->R; j++) {
    const StgssaReactionDef *r = &d->reactions[j];
    PetscInt                 t = net->react_ptr[j], u = net->nu_ptr[j];

    net->k[j] = StgssaModelDefRate(d, (int)j);
    for (int i = 0; i < r->nreact; i++) {
      net->react_species[t] = r->react[i].species;
      net->react_coef[t++]  = r->react[i].coef;
      delta[r->react[i].species] -= r->react[i].coef;
    }
    for (int i = 0; i < r->nprod; i++) delta[r->prod[i].species] += r->prod[i].coef;
    /* nu_j = p_j - r_j, keeping only the species that change, in the order they appear */
    for (int i = 0; i < r->nreact + r->nprod; i++) {
      const int s = i < r->nreact ? r->react[i].species : r->prod[i - r->nreact].species;
      if (delta[s] != 0 && !delta_of[s]) {
        net->nu_species[u] = s;
        net->nu_delta[u++] = delta[s];
        delta_of[s]        = 1;
      }
    }
    for (int i = 0; i < r->nreact + r->nprod; i++) {
      const int s = i < r->nreact ? r->react[i].species : r->prod[i - r->nreact].species;
      delta[s]    = 0;
      delta_of[s] = 0;
    }
    net->react_ptr[j + 1] = t;
    net->nu_ptr[j + 1]    = u;
  }
  PetscCall(PetscFree2(delta, delta_of));
  PetscCall(StgssaNetworkBuildLaws(d, net));
  PetscCall(StgssaNetworkBuildDependencies(net));
  if ((int64_t)net->R * net->S <= STGSSA_DENSE_MAX) { /* dense rows of nu for the small-network engines (R S computed in 64 bits: 10^5 x 10^5 models exist) */
    PetscCall(PetscCalloc1(net->R * net->S, &net->nu_dense));
    for (PetscInt j = 0; j < net->R; j++)
      for (PetscInt u = net->nu_ptr[j]; u < net->nu_ptr[j + 1]; u++) net->nu_dense[j * net->S + net->nu_species[u]] = net->nu_delta[u];
  }
  PetscFunctionReturn(0);
}
