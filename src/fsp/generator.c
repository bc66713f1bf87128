/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaFSP: assembly of the generator A and its derivatives dA/dtheta_q at the current rates
  (and, for time-dependent propensities, at the integrator's time).
*/
#include "fsp_impl.h"

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
PetscErrorCode StgssaFSPAssemble(StgssaFSP f, PetscReal t, PetscBool all)
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
PetscErrorCode StgssaFSPOperatorsAt(StgssaFSP f, PetscReal t)
{
  PetscFunctionBegin;
  if (!f->any_tdep) PetscFunctionReturn(0);
  if (f->seg_clamp && t >= f->seg_before) t = f->seg_before;
  if (t == f->top_t) PetscFunctionReturn(0);
  PetscCall(StgssaFSPAssemble(f, t, PETSC_FALSE));
  f->shift = PETSC_MAX_REAL;
  PetscFunctionReturn(0);
}
