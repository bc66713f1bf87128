/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaFSP: the projection: breadth-first enumeration of the states reachable from x0 within
  the bounds, the jumps that leave it, and the sparsity pattern of the generator.
*/
#include "fsp_impl.h"
#include "../stgssa_impl.h"

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
PetscBool StgssaFSPJumps(StgssaFSP f, const StgssaNetwork *net, const StgssaNetwork *unit, PetscInt r, const int64_t *x, PetscReal *h, PetscBool *excluded)
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

/* Add state y to the projection unless it is there; f->too_big (with the message) when the
   projection is full. */
static PetscErrorCode StgssaFSPInsertState(StgssaFSP f, StgssaStateMap *map, PetscInt *cap, const int64_t *y)
{
  const PetscInt S = f->S;

  PetscFunctionBegin;
  if (StgssaStateMapFind(map, f->x, S, y) >= 0) PetscFunctionReturn(0);
  if (f->n == f->max_states) { /* the same verdict on every rank: the enumeration is deterministic */
    char                  item[160];
    const StgssaModelDef *def;
    PetscCall(StgssaModelGetDef(f->model, &def));
    f->too_big = PETSC_TRUE;
    PetscCall(PetscSNPrintf(f->big_msg, sizeof(f->big_msg), "the projection reached -stgssa_fsp_max_states %" PetscInt_FMT " states; counts reached:", f->max_states));
    for (PetscInt s = 0; s < S; s++) {
      int64_t mx = 0;
      for (PetscInt k = 0; k < f->n; k++)
        mx = PetscMax(mx, f->x[k * S + s]);
      if (f->bkind[s] == STGSSA_FSP_BOUND_NONE) PetscCall(PetscSNPrintf(item, sizeof(item), " %s %" PRId64 " (no bound)", def->species[s].name, mx));
      else PetscCall(PetscSNPrintf(item, sizeof(item), " %s %" PRId64 " (%s bound %" PetscInt_FMT ")", def->species[s].name, mx, f->bkind[s] == STGSSA_FSP_BOUND_GIVEN ? "given" : "automatic", f->bound[s]));
      PetscCall(StgssaStrlcat(f->big_msg, item, sizeof(f->big_msg)));
    }
    PetscFunctionReturn(0);
  }
  if (f->n == *cap) {
    int64_t *bigger;
    PetscCall(PetscMalloc1(2 * *cap * S, &bigger));
    PetscCall(PetscArraycpy(bigger, f->x, *cap * S));
    PetscCall(PetscFree(f->x));
    f->x = bigger;
    *cap *= 2;
  }
  PetscCall(PetscArraycpy(&f->x[f->n * S], y, S));
  if (2 * (f->n + 1) > map->cap) PetscCall(StgssaStateMapResize(map, f->x, S, f->n, 2 * map->cap));
  StgssaStateMapInsert(map, f->x, S, f->n);
  f->n++;
  PetscFunctionReturn(0);
}

/* Index of state y in the projection, or -1 (after the enumeration). */
PetscInt StgssaFSPFindState(StgssaFSP f, const int64_t *y)
{
  StgssaStateMap m = {f->map_cap, f->map_slot};
  return StgssaStateMapFind(&m, f->x, f->S, y);
}

/* Breadth-first enumeration from x0: a jump x -> x + nu_r (StgssaFSPJumps) stays in the projection
   unless it takes a bounded species above its bound; those jumps are recorded as leaks. */
PetscErrorCode StgssaFSPEnumerate(StgssaFSP f, const StgssaNetwork *net, const StgssaNetwork *unit)
{
  const PetscInt S   = f->S;
  PetscInt       cap = 1024, lcap = 256, zcap = 0;
  StgssaStateMap map = {0, NULL};
  int64_t       *y;

  PetscFunctionBegin;
  PetscCall(StgssaFSPEventsPrepare(f));
  PetscCall(PetscMalloc1(cap * S, &f->x));
  PetscCall(PetscMalloc4(lcap, &f->lk_state, lcap, &f->lk_rxn, lcap, &f->lk_species, lcap, &f->lk_h));
  PetscCall(PetscMalloc1(S, &y));
  PetscCall(PetscArraycpy(f->x, net->x0, S));
  f->n     = 1;
  f->nleak = 0;
  f->nzl   = 0;
  PetscCall(StgssaStateMapResize(&map, f->x, S, 1, 4096));
  f->too_big = PETSC_FALSE;
  for (PetscInt head = 0; head < f->n && !f->too_big; head++) {
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
      PetscCall(StgssaFSPInsertState(f, &map, &cap, y));
      if (f->too_big) break;
    }
    for (PetscInt e = 0; e < f->nev && !f->too_big; e++) { /* closed under the events: their images within the bounds */
      PetscInt nt;
      PetscCall(StgssaFSPEventTargets(f, e, &f->x[head * S], &nt));
      for (PetscInt t = 0; t < nt && !f->too_big; t++) {
        PetscBool over = PETSC_FALSE;
        PetscCall(PetscArraycpy(y, &f->ev_ty[t * S], S));
        for (PetscInt s = 0; s < S; s++) over = (PetscBool)(over || (f->bound[s] >= 0 && y[s] > f->bound[s]));
        if (!over) PetscCall(StgssaFSPInsertState(f, &map, &cap, y));
      }
    }
  }
  PetscCall(PetscFree(y));
  PetscCall(PetscFree(f->map_slot)); /* kept for StgssaFSPFindState */
  f->map_cap  = map.cap;
  f->map_slot = map.slot;
  PetscFunctionReturn(0);
}

/* For each owned row i: the jumps into x_i (column j = source, +h_r(x_j)) and out of x_i
   (diagonal, -h_r(x_i), including jumps that leave the projection); unique sorted columns. */
PetscErrorCode StgssaFSPBuildRows(StgssaFSP f, const StgssaNetwork *net, const StgssaNetwork *unit)
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
PetscErrorCode StgssaFSPCreateMat(StgssaFSP f, PetscBool aug, PetscBool dense0, Mat *mat)
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
  PetscCall(MatCreate(f->pcomm, mat));
  PetscCall(MatSetSizes(*mat, nloc * B, nloc * B, f->n * B, f->n * B));
  PetscCall(MatSetBlockSize(*mat, B)); /* vectors interleave (p_i, s_1i..s_Pi): VecStride* picks a block */
  PetscCall(MatSetType(*mat, MATAIJ));
  PetscCall(MatSeqAIJSetPreallocation(*mat, 0, dnnz));
  PetscCall(MatMPIAIJSetPreallocation(*mat, 0, dnnz, 0, onnz));
  PetscCall(MatSetOption(*mat, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_TRUE));
  PetscCall(PetscFree2(dnnz, onnz));
  PetscFunctionReturn(0);
}
