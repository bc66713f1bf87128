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
    } else if (f->affine) { /* law affine in the inputs: stored coefficients, no law evaluation */
      const PetscInt   K = f->ninp, np = net->nparams;
      const PetscReal *lc = &f->lc[t * (1 + K)], *ldk = &f->ldk[t * (1 + K) * P], *u = f->env.u, *du = f->env.du;
      PetscReal        v  = lc[0];
      for (PetscInt i = 0; i < K; i++) v += u[i] * lc[1 + i];
      if (!f->raw && !(v >= 0.0 && v <= PETSC_MAX_REAL)) {
        *bad = PetscMin(*bad, (int64_t)f->row_col[f->tr_pos[t]] * f->R + r);
        continue;
      }
      a[c] += f->tr_h[t] * v;
      for (PetscInt q = 0; q < P; q++) {
        PetscReal d = ldk[q];
        for (PetscInt i = 0; i < K; i++) d += u[i] * ldk[(1 + i) * P + q] + du[i * np + f->fit_param[q]] * lc[1 + i];
        da[q * nc + c] += f->tr_h[t] * d;
      }
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

/* Propensities affine in the inputs (DESIGN.md section 2; issue 15): a law a_r(x; u, t) =
   L_0(x) + sum_i u_i L_i(x) that does not read t directly gives
       A(t) = A_0 + sum_i u_i(t) A_i,
       dA_q(t) = D_0q + sum_i u_i(t) D_iq + sum_i w_iq(t) A_i,   w_iq = k_q du_i/dk_q,
   with D_iq = k_q dA_i/dk_q. For each owned law transition t, lc[t(1+K) + i] holds L_i at its
   source state (i = 0: L_0) and ldk[(t(1+K) + i)P + q] = k_q dL_i/dk_q, computed once per
   parameter set from the law with chosen u and du = 0: L_0 at u = 0, L_i = a(e_i) - a(0).
   Affinity is checked at two other points (u, t) to 1e-10 relative; if any transition on any rank
   fails it, f->affine is false and laws are evaluated at every time as before. */
static PetscErrorCode StgssaFSPLawCoefficients(StgssaFSP f, const StgssaNetwork *net)
{
  const PetscInt nloc = f->rend - f->rstart, K = net->ninputs, P = f->P, np = net->nparams, ntr = f->tr_ptr[nloc];
  PetscBool      ok = PETSC_TRUE, all;
  double        *dk0, *dki;

  PetscFunctionBegin;
  f->affine = PETSC_FALSE;
  if (!f->affine_opt || !f->any_law) PetscFunctionReturn(0);
  f->ninp = K;
  if (!f->lc) PetscCall(PetscMalloc2(ntr * (1 + K) + 1, &f->lc, ntr * (1 + K) * P + 1, &f->ldk));
  PetscCall(PetscMalloc2(np + 1, &dk0, np + 1, &dki));
  for (PetscInt i = 0; i < K * np; i++) f->env.du[i] = 0.0;
  for (PetscInt i = 0; i < K; i++) f->env.dudt[i] = 0.0;
  for (PetscInt t = 0; t < ntr && ok; t++) {
    const PetscInt r = f->tr_rxn[t];
    const int64_t *xs;
    PetscReal     *lc = &f->lc[t * (1 + K)], *ldk = &f->ldk[t * (1 + K) * P];
    if (net->order1[r] != -3) continue;
    xs = &f->x[f->row_col[f->tr_pos[t]] * f->S];
    StgssaLawEnvSetState(net, &f->env, xs);
    f->env.t = 0.0;
    for (PetscInt i = 0; i < K; i++) f->env.u[i] = 0.0;
    for (PetscInt m = 0; m < np; m++) dk0[m] = 0.0;
    lc[0] = StgssaPropensityGrad(net, r, xs, &f->env, dk0, NULL, NULL);
    for (PetscInt q = 0; q < P; q++) ldk[q] = dk0[f->fit_param[q]];
    for (PetscInt i = 0; i < K; i++) {
      for (PetscInt j = 0; j < K; j++) f->env.u[j] = j == i ? 1.0 : 0.0;
      for (PetscInt m = 0; m < np; m++) dki[m] = 0.0;
      lc[1 + i] = StgssaPropensityGrad(net, r, xs, &f->env, dki, NULL, NULL) - lc[0];
      for (PetscInt q = 0; q < P; q++) ldk[(1 + i) * P + q] = dki[f->fit_param[q]] - dk0[f->fit_param[q]];
    }
    for (int pt = 0; pt < 2 && ok; pt++) { /* the law at other inputs and times: affine, no t? */
      PetscReal pred = lc[0], scale = PetscAbsReal(lc[0]), v;
      f->env.t = pt ? 2.1 + 1.3 * f->tmax : 0.37 * (1.0 + f->tmax);
      for (PetscInt i = 0; i < K; i++) {
        f->env.u[i] = pt ? 0.45 + 1.9 * i : 1.3 + 0.7 * i;
        pred += f->env.u[i] * lc[1 + i];
        scale += PetscAbsReal(f->env.u[i] * lc[1 + i]);
      }
      v  = StgssaPropensityLaw(net, r, xs, &f->env);
      ok = (PetscBool)(PetscAbsReal(v - pred) <= 1e-10 * (scale + PetscAbsReal(v)) && !PetscIsInfOrNanReal(pred));
    }
  }
  PetscCall(PetscFree2(dk0, dki));
  PetscCallMPI(MPI_Allreduce(&ok, &all, 1, MPIU_BOOL, MPI_LAND, f->comm));
  f->affine = all;
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
static PetscErrorCode StgssaFSPAffineSetUp(StgssaFSP, const StgssaNetwork *);

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
  if (all) PetscCall(StgssaFSPLawCoefficients(f, net)); /* new parameter values */
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
  if (all) { /* the affine form from stored matrices when one rank holds the whole projection */
    PetscMPIInt size;
    PetscCallMPI(MPI_Comm_size(f->pcomm, &size));
    f->fast = (PetscBool)(f->affine && f->any_tdep && size == 1);
    if (f->fast) {
      PetscCall(StgssaFSPAffineSetUp(f, net));
      StgssaLawEnvSetTime(net, &f->env, t, PETSC_TRUE);
    }
  }
  f->top_t = t;
  PetscFunctionReturn(0);
}

/* Stored matrices of the affine form (one rank's whole projection, SeqAIJ; f->affine): the values
   of A_0, A_i, D_0q, D_iq in the CSR order of the owned rows (row_ptr, row_col), from the rows at
   u = 0 and u = e_i with du = 0: av[i*nnz + c] (i = 0: A_0, i >= 1: A_i), dav[(i*P + q)*nnz + c]. */
static PetscErrorCode StgssaFSPAffineSetUp(StgssaFSP f, const StgssaNetwork *net)
{
  const PetscInt nloc = f->rend - f->rstart, nnz = f->row_ptr[nloc], K = f->ninp, P = f->P, np = net->nparams;
  PetscReal     *a, *da;
  int64_t        bad = INT64_MAX;
  MatInfo        info;

  PetscFunctionBegin;
  PetscCall(MatGetInfo(f->A, MAT_LOCAL, &info)); /* the CSR of A is row_col: every entry was inserted */
  PetscCheck((PetscInt)info.nz_used == nnz, PETSC_COMM_SELF, PETSC_ERR_PLIB, "FSP: A holds %g entries, expected %" PetscInt_FMT, info.nz_used, nnz);
  if (!f->av) PetscCall(PetscMalloc2((1 + K) * nnz + 1, &f->av, (1 + K) * P * nnz + 1, &f->dav));
  PetscCall(PetscMalloc2(f->maxcols, &a, f->maxcols * (P + 1), &da));
  f->raw = PETSC_TRUE;
  for (PetscInt i = 0; i <= K; i++) {
    for (PetscInt j = 0; j < K; j++) f->env.u[j] = j + 1 == i ? 1.0 : 0.0;
    for (PetscInt j = 0; j < K * np; j++) f->env.du[j] = 0.0;
    for (PetscInt li = 0; li < nloc; li++) {
      const PetscInt c0 = f->row_ptr[li], nc = f->row_ptr[li + 1] - c0;
      PetscCall(StgssaFSPRowValues(f, net, li, a, da, &bad));
      for (PetscInt c = 0; c < nc; c++) {
        f->av[i * nnz + c0 + c] = a[c];
        for (PetscInt q = 0; q < P; q++) f->dav[(i * P + q) * nnz + c0 + c] = da[q * nc + c];
      }
    }
  }
  f->raw = PETSC_FALSE;
  for (PetscInt i = 1; i <= K; i++) { /* A_i = A(e_i) - A_0 */
    for (PetscInt c = 0; c < nnz; c++) f->av[i * nnz + c] -= f->av[c];
    for (PetscInt c = 0; c < P * nnz; c++) f->dav[i * P * nnz + c] -= f->dav[c];
  }
  PetscCall(PetscFree2(a, da));
  PetscFunctionReturn(0);
}

/* The affine form at t: A = A_0 + sum_i u_i A_i, dA_q = D_0q + sum_i (u_i D_iq + w_iq A_i) written
   into the matrices' value arrays, and J from them (row (i,0): A row i; row (i,b): the pairs
   (dA_{b-1}, A) of each column, its sorted CSR). A negative off-diagonal entry (a propensity < 0)
   goes to the general assembly, which reports it. */
static PetscErrorCode StgssaFSPAffineAt(StgssaFSP f, const StgssaNetwork *net, PetscReal t)
{
  const PetscInt nloc = f->rend - f->rstart, nnz = f->row_ptr[nloc], K = f->ninp, P = f->P, B = 1 + P, np = net->nparams;
  PetscScalar   *va, *vj;
  PetscBool      neg = PETSC_FALSE;

  PetscFunctionBegin;
  StgssaLawEnvSetTime(net, &f->env, t, PETSC_TRUE);
  PetscCall(MatSeqAIJGetArray(f->A, &va));
  PetscCall(PetscArraycpy(va, f->av, nnz));
  for (PetscInt i = 0; i < K; i++) {
    const PetscReal  u  = f->env.u[i];
    const PetscReal *ai = &f->av[(1 + i) * nnz];
    for (PetscInt c = 0; c < nnz; c++) va[c] += u * ai[c];
  }
  for (PetscInt li = 0; li < nloc && !neg; li++)
    for (PetscInt c = f->row_ptr[li]; c < f->row_ptr[li + 1]; c++)
      if (f->row_col[c] != f->rstart + li && !(va[c] >= 0.0 && va[c] <= PETSC_MAX_REAL)) neg = PETSC_TRUE;
  for (PetscInt q = 0; q < P && !f->ponly; q++) { /* p alone (adjoint forward pass): A only */
    PetscScalar *vd;
    PetscCall(MatSeqAIJGetArray(f->dA[q], &vd));
    PetscCall(PetscArraycpy(vd, &f->dav[q * nnz], nnz));
    for (PetscInt i = 0; i < K; i++) {
      const PetscReal  u = f->env.u[i], w = f->env.du[i * np + f->fit_param[q]];
      const PetscReal *ai = &f->av[(1 + i) * nnz], *di = &f->dav[((1 + i) * P + q) * nnz];
      for (PetscInt c = 0; c < nnz; c++) vd[c] += u * di[c] + w * ai[c];
    }
    PetscCall(MatSeqAIJRestoreArray(f->dA[q], &vd));
  }
  if (f->J && !f->ponly && !f->backward) { /* J rows from A and dA (not used by the adjoint's passes) */
    const PetscScalar **vdq;
    PetscInt            m = 0;
    PetscCall(PetscMalloc1(P + 1, &vdq));
    for (PetscInt q = 0; q < P; q++) PetscCall(MatSeqAIJGetArrayRead(f->dA[q], &vdq[q]));
    PetscCall(MatSeqAIJGetArray(f->J, &vj));
    for (PetscInt li = 0; li < nloc; li++) {
      const PetscInt c0 = f->row_ptr[li], c1 = f->row_ptr[li + 1];
      for (PetscInt c = c0; c < c1; c++) vj[m++] = va[c];
      for (PetscInt b = 1; b < B; b++)
        for (PetscInt c = c0; c < c1; c++) {
          vj[m++] = vdq[b - 1][c];
          vj[m++] = va[c];
        }
    }
    PetscCall(MatSeqAIJRestoreArray(f->J, &vj));
    for (PetscInt q = 0; q < P; q++) PetscCall(MatSeqAIJRestoreArrayRead(f->dA[q], &vdq[q]));
    PetscCall(PetscFree(vdq));
  }
  PetscCall(MatSeqAIJRestoreArray(f->A, &va));
  if (neg) PetscCall(StgssaFSPAssemble(f, t, PETSC_FALSE));
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
  if (f->fast) {
    const StgssaNetwork *net;
    PetscCall(StgssaModelGetNetwork(f->model, &net));
    PetscCall(StgssaFSPAffineAt(f, net, t));
  } else PetscCall(StgssaFSPAssemble(f, t, PETSC_FALSE));
  f->shift = PETSC_MAX_REAL;
  PetscFunctionReturn(0);
}
