/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaFSP: scheduled events (issue 18). An event acts on the distribution as a linear map
      p'(y) = sum_x p(x) K(x, y)
  applied when the transient reaches the event time (the integrator stops there, as at a sample
  time, and restarts its step). Kernels, on the listed species (the others are unchanged):
    divide / scale F:  K(x, y) = prod_s C(x_s, y_s) F^y_s (1 - F)^(x_s - y_s)   (divide: F = 1/2)
    S = c:             y_s = c;   S += c: y_s = x_s + c;   S -= c: y_s = max(x_s - c, 0)
  A target outside the projection (over a bound) is lost mass, counted as the FSP error like the
  jumps that leave the projection. The enumeration closes the projection under the events
  (StgssaFSPEventTargets), so the targets within the bounds are states of the projection.
  The sensitivities go through the same map, s_q' = K^T s_q, plus (dK/dF)^T p dF/dtheta_q for a
  scale whose F reads a fitted parameter; a count (S = EXPR(theta)) is rounded to an integer, so
  its map is piecewise constant in theta and contributes no derivative (exact between the jumps).
  A sample at an event time sees the state BEFORE the event (as in the SSA; the model's API).
  The map is stored transposed, T[x][y] = K(x, y) (rows: source states, owned as A's rows), and
  applied to every block of the interleaved vector (p, s_1..s_P) at once with MatMultTranspose of
  its MAIJ form.
*/
#include "fsp_impl.h"
#include "../stgssa_impl.h"


/* The events of the model at its current parameter values (a count rounded to the nearest
   integer, as the model applies it; a keep fraction F with dF/dtheta_q of the fitted parameters).
   A count is piecewise constant in theta, so its derivative is 0 (exact between the jumps of the
   rounding). Called at set-up; StgssaFSPEventsStale says when new parameter values change them. */
PetscErrorCode StgssaFSPEventsFromModel(StgssaFSP f)
{
  const StgssaModelDef *def;
  PetscInt              nev;
  PetscReal            *dlog;

  PetscFunctionBegin;
  PetscCall(StgssaFSPEventsClear(f));
  PetscCall(StgssaModelGetDef(f->model, &def));
  PetscCall(StgssaModelGetNumEvents(f->model, &nev));
  if (!nev) PetscFunctionReturn(0);
  PetscCall(PetscCalloc1(nev, &f->ev));
  PetscCall(PetscMalloc1(def->nparams + 1, &dlog));
  for (PetscInt i = 0; i < nev; i++) {
    StgssaEventInfo info;
    StgssaFSPEvent *e = &f->ev[i];
    PetscCall(StgssaModelGetEvent(f->model, i, &info));
    e->kind   = info.kind;
    e->t0     = info.t_first;
    e->period = info.period;
    e->line   = info.line;
    e->nsp    = info.nspecies;
    PetscCall(PetscMalloc1(e->nsp + 1, &e->species));
    for (PetscInt j = 0; j < e->nsp; j++) e->species[j] = info.species[j];
    PetscCall(PetscCalloc1(f->P + 1, &e->dval));
    PetscCall(StgssaFSPEventValue(f, i, &e->value, dlog));
    if (e->kind == STGSSA_EVENT_SCALE)
      for (PetscInt q = 0; q < f->P; q++) e->dval[q] = dlog[f->fit_param[q]]; /* dF/dtheta_q = k_q dF/dk_q */
    for (PetscInt q = 0; q < f->P; q++) e->any_dval = (PetscBool)(e->any_dval || e->dval[q] != 0);
    PetscCheck(!e->any_dval || (e->value > 0 && e->value < 1), f->comm, PETSC_ERR_SUP, "FSP: event 'scale' at %s:%d keeps the fraction F = %g, which depends on a fitted parameter: its derivative at F = 0 or 1 is not defined; fix F inside (0, 1) or do not fit its parameters", def->filename, e->line, (double)e->value);
    f->nev++;
  }
  PetscCall(PetscFree(dlog));
  PetscFunctionReturn(0);
}

/* Value of event i at the model's current parameters (counts rounded as the model applies them). */
PetscErrorCode StgssaFSPEventValue(StgssaFSP f, PetscInt i, PetscReal *value, PetscReal dlog[])
{
  StgssaEventInfo info;

  PetscFunctionBegin;
  PetscCall(StgssaModelGetEvent(f->model, i, &info));
  PetscCall(StgssaModelEventValue(f->model, i, NULL, value, dlog));
  if (info.kind == STGSSA_EVENT_SET || info.kind == STGSSA_EVENT_ADD || info.kind == STGSSA_EVENT_SUB) *value = (PetscReal)llround(*value);
  PetscFunctionReturn(0);
}

/* New parameter values change an event's value (or its derivative): the projection and the maps
   are built again. */
PetscErrorCode StgssaFSPEventsStale(StgssaFSP f, PetscBool *stale)
{
  const StgssaModelDef *def;
  PetscReal            *dlog, v;

  PetscFunctionBegin;
  *stale = PETSC_FALSE;
  if (!f->nev) PetscFunctionReturn(0);
  PetscCall(StgssaModelGetDef(f->model, &def));
  PetscCall(PetscMalloc1(def->nparams + 1, &dlog));
  for (PetscInt i = 0; i < f->nev && !*stale; i++) {
    const StgssaFSPEvent *e = &f->ev[i];
    PetscCall(StgssaFSPEventValue(f, i, &v, dlog));
    *stale = (PetscBool)(v != e->value);
    if (e->kind == STGSSA_EVENT_SCALE)
      for (PetscInt q = 0; q < f->P; q++) *stale = (PetscBool)(*stale || dlog[f->fit_param[q]] != e->dval[q]);
  }
  PetscCall(PetscFree(dlog));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPEventsClear(StgssaFSP f)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < f->nev; i++) PetscCall(PetscFree(f->ev[i].species));
  for (PetscInt i = 0; i < f->nev; i++) PetscCall(PetscFree(f->ev[i].dval));
  PetscCall(PetscFree(f->ev));
  f->nev = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPGetNumEvents(StgssaFSP f, PetscInt *nev)
{
  PetscFunctionBegin;
  *nev = f->nev;
  PetscFunctionReturn(0);
}

/* Binomial probabilities b[y] = C(x, y) F^y (1 - F)^(x - y), y = 0..x (log-gamma form: no
   overflow for large x). */
static void StgssaBinomialPmf(int64_t x, PetscReal F, PetscReal b[])
{
  if (F <= 0 || F >= 1) {
    for (int64_t y = 0; y <= x; y++) b[y] = 0;
    b[F <= 0 ? 0 : x] = 1;
    return;
  }
  {
    const PetscReal lF = PetscLogReal(F), l1F = log1p(-F), lx = lgamma((double)x + 1);
    for (int64_t y = 0; y <= x; y++) b[y] = PetscExpReal(lx - lgamma((double)y + 1) - lgamma((double)(x - y) + 1) + (PetscReal)y * lF + (PetscReal)(x - y) * l1F);
  }
}

/* The images of state x under event e with their weights K(x, y): f->ev_ty [nt*S], f->ev_tw [nt]
   (all images, in the projection or not; zero weights left out). */
PetscErrorCode StgssaFSPEventTargets(StgssaFSP f, PetscInt ie, const int64_t *x, PetscInt *nt)
{
  const StgssaFSPEvent *e = &f->ev[ie];
  const PetscInt        S = f->S;
  PetscInt              nsp, *sp, need = 1;

  PetscFunctionBegin;
  nsp = e->nsp ? e->nsp : S; /* divide with no list: every species */
  sp  = f->ev_all;
  if (e->nsp) sp = e->species;
  if (e->kind == STGSSA_EVENT_DIVIDE || e->kind == STGSSA_EVENT_SCALE) {
    int64_t tot = 0;
    for (PetscInt i = 0; i < nsp; i++) {
      need *= (PetscInt)(x[sp[i]] + 1);
      tot += x[sp[i]] + 1;
    }
    if (tot > f->ev_bcap) {
      PetscCall(PetscFree(f->ev_b));
      f->ev_bcap = (PetscInt)(2 * tot);
      PetscCall(PetscMalloc1(f->ev_bcap, &f->ev_b));
    }
  }
  if (need > f->ev_tcap) {
    PetscCall(PetscFree3(f->ev_ty, f->ev_tw, f->ev_tdw));
    f->ev_tcap = 2 * need;
    PetscCall(PetscMalloc3(f->ev_tcap * S, &f->ev_ty, f->ev_tcap, &f->ev_tw, f->ev_tcap, &f->ev_tdw));
  }
  *nt = 0;
  switch (e->kind) {
  case STGSSA_EVENT_DIVIDE:
  case STGSSA_EVENT_SCALE: { /* odometer over y_s = 0..x_s of the listed species */
    PetscInt  *off = f->ev_off, *cnt = f->ev_cnt;
    PetscReal *b   = f->ev_b;
    PetscInt   o   = 0;
    for (PetscInt i = 0; i < nsp; i++) {
      off[i] = o;
      cnt[i] = 0;
      StgssaBinomialPmf(x[sp[i]], e->value, &b[o]);
      o += (PetscInt)x[sp[i]] + 1;
    }
    for (;;) {
      PetscReal w = 1, dw = 0; /* dK/dF = K sum_s (y_s/F - (x_s - y_s)/(1 - F)) */
      int64_t  *y   = &f->ev_ty[*nt * S];
      PetscInt  pos = 0;
      PetscCall(PetscArraycpy(y, x, S));
      for (PetscInt i = 0; i < nsp; i++) {
        y[sp[i]] = cnt[i];
        w *= b[off[i] + cnt[i]];
        if (e->value > 0 && e->value < 1) dw += (PetscReal)cnt[i] / e->value - (PetscReal)(x[sp[i]] - cnt[i]) / (1 - e->value);
      }
      if (w > 0) {
        f->ev_tdw[*nt]     = w * dw;
        f->ev_tw[(*nt)++] = w;
      }
      while (pos < nsp && cnt[pos] == x[sp[pos]]) cnt[pos++] = 0;
      if (pos == nsp) break;
      cnt[pos]++;
    }
  } break;
  default: {
    int64_t *y = f->ev_ty;
    PetscCall(PetscArraycpy(y, x, S));
    for (PetscInt i = 0; i < nsp; i++) {
      const int64_t c = (int64_t)e->value;
      if (e->kind == STGSSA_EVENT_SET) y[sp[i]] = c;
      else if (e->kind == STGSSA_EVENT_ADD) y[sp[i]] += c;
      else y[sp[i]] = PetscMax(y[sp[i]] - c, 0); /* clamped at 0 */
    }
    f->ev_tw[0]  = 1;
    f->ev_tdw[0] = 0;
    *nt          = 1;
  }
  }
  PetscFunctionReturn(0);
}

/* Scratch of StgssaFSPEventTargets (before the enumeration). */
PetscErrorCode StgssaFSPEventsPrepare(StgssaFSP f)
{
  PetscFunctionBegin;
  PetscCall(PetscFree3(f->ev_all, f->ev_off, f->ev_cnt));
  PetscCall(PetscMalloc3(f->S + 1, &f->ev_all, f->S + 1, &f->ev_off, f->S + 1, &f->ev_cnt));
  for (PetscInt s = 0; s < f->S; s++) f->ev_all[s] = s;
  for (PetscInt i = 0; i < f->nev; i++)
    for (PetscInt j = 0; j < f->ev[i].nsp; j++) PetscCheck(f->ev[i].species[j] < f->S, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "FSP event: species index %" PetscInt_FMT " out of range (the model has %" PetscInt_FMT ")", f->ev[i].species[j], f->S);
  PetscFunctionReturn(0);
}

/* After the enumeration: the schedule of event instances in [0, horizon] (sorted by time; events
   at the same time in the order given) and the map matrices T_e. */
PetscErrorCode StgssaFSPEventsSetUp(StgssaFSP f, PetscReal horizon)
{
  const PetscInt nloc = f->rend - f->rstart;
  PetscInt       cap  = 0;

  PetscFunctionBegin;
  f->ninst = 0;
  if (!f->nev) PetscFunctionReturn(0);
  for (PetscInt i = 0; i < f->nev; i++) {
    const StgssaFSPEvent *e = &f->ev[i];
    if (e->t0 > horizon) continue;
    if (e->period > 0) {
      const PetscReal m = PetscFloorReal((horizon - e->t0) / e->period);
      PetscCheck(m < 1e7, f->comm, PETSC_ERR_ARG_OUTOFRANGE, "FSP: event %" PetscInt_FMT " every %g from %g repeats %g times before t = %g; too many", i, (double)e->period, (double)e->t0, (double)m, (double)horizon);
      cap += (PetscInt)m + 2;
    } else cap++;
  }
  PetscCall(PetscMalloc2(cap + 1, &f->inst_t, cap + 1, &f->inst_e));
  for (PetscInt i = 0; i < f->nev; i++) {
    const StgssaFSPEvent *e = &f->ev[i];
    for (PetscInt j = 0;; j++) {
      const PetscReal t = e->t0 + (PetscReal)j * e->period; /* the j-th occurrence, no accumulated round-off */
      if (t > horizon || f->ninst == cap) break;
      f->inst_t[f->ninst]   = t;
      f->inst_e[f->ninst++] = i;
      if (!(e->period > 0)) break;
    }
  }
  { /* stable sort by time (insertion into runs: the lists are short or already sorted per event) */
    PetscInt *perm;
    PetscReal *tt;
    PetscInt  *ee;
    PetscCall(PetscMalloc3(f->ninst + 1, &perm, f->ninst + 1, &tt, f->ninst + 1, &ee));
    for (PetscInt k = 0; k < f->ninst; k++) perm[k] = k;
    for (PetscInt k = 1; k < f->ninst; k++) {
      const PetscInt pk = perm[k];
      PetscInt       j  = k;
      while (j > 0 && (f->inst_t[perm[j - 1]] > f->inst_t[pk] || (f->inst_t[perm[j - 1]] == f->inst_t[pk] && f->inst_e[perm[j - 1]] > f->inst_e[pk]))) {
        perm[j] = perm[j - 1];
        j--;
      }
      perm[j] = pk;
    }
    for (PetscInt k = 0; k < f->ninst; k++) tt[k] = f->inst_t[perm[k]], ee[k] = f->inst_e[perm[k]];
    PetscCall(PetscArraycpy(f->inst_t, tt, f->ninst));
    PetscCall(PetscArraycpy(f->inst_e, ee, f->ninst));
    PetscCall(PetscFree3(perm, tt, ee));
  }
  /* the maps: T_e[x][y] = K_e(x, y) over the states of the projection */
  PetscCall(PetscCalloc2(f->nev, &f->evT, f->nev, &f->evdT));
  for (PetscInt i = 0; i < f->nev; i++) {
    PetscInt *dnz, *onz;
    PetscCall(PetscCalloc2(nloc + 1, &dnz, nloc + 1, &onz));
    for (PetscInt li = 0; li < nloc; li++) {
      PetscInt nt;
      PetscCall(StgssaFSPEventTargets(f, i, &f->x[(f->rstart + li) * f->S], &nt));
      for (PetscInt t = 0; t < nt; t++) {
        const PetscInt j = StgssaFSPFindState(f, &f->ev_ty[t * f->S]);
        if (j < 0) continue; /* over a bound: lost */
        if (j >= f->rstart && j < f->rend) dnz[li]++;
        else onz[li]++;
      }
    }
    PetscCall(MatCreateAIJ(f->pcomm, nloc, nloc, f->n, f->n, 0, dnz, 0, onz, &f->evT[i]));
    PetscCall(MatSetOption(f->evT[i], MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_TRUE));
    if (f->ev[i].any_dval && f->P) PetscCall(MatCreateAIJ(f->pcomm, nloc, nloc, f->n, f->n, 0, dnz, 0, onz, &f->evdT[i])); /* dT/dF (scale with a fitted F) */
    for (PetscInt li = 0; li < nloc; li++) {
      const PetscInt row = f->rstart + li;
      PetscInt       nt;
      PetscCall(StgssaFSPEventTargets(f, i, &f->x[row * f->S], &nt));
      for (PetscInt t = 0; t < nt; t++) {
        const PetscInt j = StgssaFSPFindState(f, &f->ev_ty[t * f->S]);
        if (j < 0) continue;
        PetscCall(MatSetValue(f->evT[i], row, j, f->ev_tw[t], ADD_VALUES));
        if (f->evdT[i]) PetscCall(MatSetValue(f->evdT[i], row, j, f->ev_tdw[t], ADD_VALUES));
      }
    }
    PetscCall(MatAssemblyBegin(f->evT[i], MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(f->evT[i], MAT_FINAL_ASSEMBLY));
    if (f->evdT[i]) {
      PetscCall(MatAssemblyBegin(f->evdT[i], MAT_FINAL_ASSEMBLY));
      PetscCall(MatAssemblyEnd(f->evdT[i], MAT_FINAL_ASSEMBLY));
    }
    PetscCall(PetscFree2(dnz, onz));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFSPEventsFree(StgssaFSP f)
{
  PetscFunctionBegin;
  if (f->evT)
    for (PetscInt i = 0; i < f->nev; i++) {
      PetscCall(MatDestroy(&f->evT[i]));
      PetscCall(MatDestroy(&f->evdT[i]));
    }
  PetscCall(PetscFree2(f->evT, f->evdT));
  PetscCall(PetscFree2(f->inst_t, f->inst_e));
  PetscCall(PetscFree3(f->ev_ty, f->ev_tw, f->ev_tdw));
  PetscCall(PetscFree(f->ev_b));
  PetscCall(PetscFree3(f->ev_all, f->ev_off, f->ev_cnt));
  f->ev_tcap = f->ev_bcap = 0;
  f->ninst              = 0;
  PetscFunctionReturn(0);
}

/* y <- the event map applied to every block of the interleaved vector y (block size bs = 1 + nsens):
   p' = T_e^T p, s_q' = T_e^T s_q. */
PetscErrorCode StgssaFSPEventApply(StgssaFSP f, PetscInt ie, Vec y)
{
  const PetscInt bs = f->ponly ? 1 : 1 + f->nsens;
  Vec            z;

  PetscFunctionBegin;
  PetscCall(VecDuplicate(y, &z));
  if (bs == 1) PetscCall(MatMultTranspose(f->evT[ie], y, z));
  else {
    Mat M;
    PetscCall(MatCreateMAIJ(f->evT[ie], bs, &M));
    PetscCall(MatMultTranspose(M, y, z));
    PetscCall(MatDestroy(&M));
  }
  if (f->evdT[ie] && bs > 1) { /* F depends on theta: s_q' = T^T s_q + dF/dtheta_q (dT/dF)^T p */
    PetscCall(VecStrideGather(y, 0, f->u, INSERT_VALUES));
    PetscCall(MatMultTranspose(f->evdT[ie], f->u, f->w));
    for (PetscInt q = 0; q < f->nsens; q++) {
      if (f->ev[ie].dval[q] == 0) continue;
      PetscCall(VecStrideGather(z, 1 + q, f->v, INSERT_VALUES));
      PetscCall(VecAXPY(f->v, f->ev[ie].dval[q], f->w));
      PetscCall(VecStrideScatter(f->v, 1 + q, z, INSERT_VALUES));
    }
  }
  PetscCall(VecCopy(z, y));
  PetscCall(VecDestroy(&z));
  PetscFunctionReturn(0);
}
