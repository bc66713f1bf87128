/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaFSP: results: records of the solution at each sample (marginals, lost mass, outflow),
  getters of the results, View and the /fsp group of the HDF5 output.
*/
#include "fsp_impl.h"
#include "../stgssa_impl.h"

/* Outflow through each bound, flux[s] = sum over leaking jumps through the bound of s of p_j a_r(x_j),
   and the mass on the boundary states (those with a leaking jump), from the gathered augmented
   vector y. Law propensities at the law environment's time. */
static PetscErrorCode StgssaFSPOutflow(StgssaFSP f, const StgssaNetwork *net, const PetscScalar *y, PetscReal flux[], PetscReal *edge)
{
  const PetscInt S = f->S, B = 1 + f->nsens;
  PetscInt       last = -1;

  PetscFunctionBegin;
  *edge = 0;
  for (PetscInt s = 0; s < S; s++) flux[s] = 0;
  for (PetscInt l = 0; l < f->nleak; l++) {
    const PetscInt  r  = f->lk_rxn[l];
    const PetscReal pj = y[f->lk_state[l] * B];
    PetscReal       a;
    if (net->order1[r] != -3) a = net->k[r] * f->lk_h[l];
    else {
      StgssaLawEnvSetState(net, &f->env, &f->x[f->lk_state[l] * S]);
      a = StgssaPropensityLaw(net, r, &f->x[f->lk_state[l] * S], &f->env);
    }
    if (!(a > 0)) continue;
    flux[f->lk_species[l]] += pj * a;
    if (f->lk_state[l] != last) *edge += pj; /* leaks are grouped by state (enumeration order) */
    last = f->lk_state[l];
  }
  PetscFunctionReturn(0);
}

/* -stgssa_initial steady: the mass on the boundary states of the initial distribution y0 (an
   estimate of its truncation, as for a steady-state sample) and its outflow per bound. */
PetscErrorCode StgssaFSPInitialMass(StgssaFSP f, Vec y0)
{
  const StgssaNetwork *net;
  VecScatter           scat;
  Vec                  yall;
  const PetscScalar   *ya;

  PetscFunctionBegin;
  PetscCall(StgssaModelGetNetwork(f->model, &net));
  if (f->any_law) StgssaLawEnvSetTime(net, &f->env, 0.0, PETSC_FALSE);
  PetscCall(VecScatterCreateToAll(y0, &scat, &yall));
  PetscCall(VecScatterBegin(scat, y0, yall, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(scat, y0, yall, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetArrayRead(yall, &ya));
  PetscCall(StgssaFSPOutflow(f, net, ya, f->flux_init, &f->lost_init));
  PetscCall(VecRestoreArrayRead(yall, &ya));
  PetscCall(VecDestroy(&yall));
  PetscCall(VecScatterDestroy(&scat));
  PetscFunctionReturn(0);
}

/* Record sample k from the gathered augmented vector y (p_i at y[i*(1+P)], s_q,i at y[i*(1+P)+1+q]):
   marginals and their derivatives, lost mass, the outflow through each bound. */
static PetscErrorCode StgssaFSPRecord(StgssaFSP f, PetscInt k, const PetscScalar *y, PetscBool steady)
{
  const StgssaNetwork  *net;
  const StgssaModelDef *def;
  const PetscInt       S = f->S, P = f->P, B = 1 + f->nsens, ns = f->nsens; /* adjoint mode: p alone (ns = 0, dmarg stays 0) */
  PetscReal           *marg = &f->marg[k * f->btot], *dmarg = &f->dmarg[k * f->btot * P], mass = 0, edge = 0;

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
      for (PetscInt q = 0; q < ns; q++)
        dmarg[b * P + q] += yi[1 + q];
    }
    for (PetscInt g = 0; g < f->ngroups; g++) { /* groups: the marginal of the weighted sum */
      PetscInt b;
      if (!f->nbins[S + g]) continue;
      b = f->boff[S + g] + (PetscInt)StgssaFSPGroupValue(def, g, &f->x[i * S]);
      marg[b] += yi[0];
      for (PetscInt q = 0; q < ns; q++)
        dmarg[b * P + q] += yi[1 + q];
    }
  }
  if (f->nrules) { /* expression observables: R_k = sum_x p(x) f(x)^k and dR_k/dtheta_q = sum_x s_q(x) f^k + p(x) k f^(k-1) df/dtheta_q */
    double *df = f->rscratch + StgssaRuleScratchSize(net);
    PetscCall(PetscArrayzero(&f->rsum[k * f->nrules * 4], f->nrules * 4));
    PetscCall(PetscArrayzero(&f->drsum[k * f->nrules * 4 * P], f->nrules * 4 * P));
    for (PetscInt r = 0; r < f->nrules; r++) {
      PetscReal *R = &f->rsum[(k * f->nrules + r) * 4], *dR = &f->drsum[(k * f->nrules + r) * 4 * P];
      if (!f->rule_ok[r]) continue;
      for (PetscInt i = 0; i < f->n; i++) {
        const PetscReal *yi = &y[i * B], pk = yi[0];
        const double     v = StgssaRuleTangent(net, r, &f->x[i * S], NULL, 0, ns ? P : 0, f->fit_param, f->rscratch, df), vk[4] = {1.0, v, v * v, v * v * v};
        for (PetscInt j = 0; j < 4; j++) R[j] += pk * vk[j];
        for (PetscInt q = 0; q < ns; q++)
          for (PetscInt j = 0; j < 4; j++) dR[j * P + q] += yi[1 + q] * vk[j] + (j ? pk * j * vk[j - 1] * df[q] : 0.0);
      }
    }
  }
  PetscCall(StgssaFSPOutflow(f, net, y, &f->flux[k * S], &edge));
  /* transient: exactly the mass gone; steady state: the mass on the boundary states (estimate) */
  f->lost[k] = steady ? edge : 1.0 - mass;
  if (f->full) {
    for (PetscInt i = 0; i < f->n; i++) {
      f->fullp[k * f->n + i] = y[i * B];
      for (PetscInt q = 0; q < P; q++)
        f->fulldp[(k * f->n + i) * P + q] = q < ns ? y[i * B + 1 + q] : 0.0;
    }
  }
  PetscFunctionReturn(0);
}

/* Gather the augmented vector y to every rank and record it for every sample in the list. */
PetscErrorCode StgssaFSPGatherRecord(StgssaFSP f, Vec y, PetscInt nk, const PetscInt ks[], PetscBool steady)
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

/* Message naming the bounds that leak at sample k, largest outflow first. */
PetscErrorCode StgssaFSPLeakMessage(StgssaFSP f, PetscInt k, char msg[], size_t len)
{
  const PetscReal      *flux = k < 0 ? f->flux_init : &f->flux[k * f->S];
  const StgssaModelDef *def;
  PetscReal             total = 0;
  PetscBool            *used;

  PetscFunctionBegin;
  PetscCall(StgssaModelGetDef(f->model, &def));
  PetscCall(PetscCalloc1(f->S, &used));
  msg[0] = 0;
  for (PetscInt s = 0; s < f->S; s++)
    total += flux[s];
  for (;;) {
    PetscInt best = -1;
    char     item[256];
    for (PetscInt s = 0; s < f->S; s++)
      if (!used[s] && f->bound[s] >= 0 && flux[s] > 0 && (best < 0 || flux[s] > flux[best])) best = s;
    if (best < 0) break;
    used[best] = PETSC_TRUE;
    PetscCall(PetscSNPrintf(item, sizeof(item), "%s%s=%" PetscInt64_FMT " (now %" PetscInt64_FMT ", %.3g%% of the outflow)", msg[0] ? ", " : "", def->species[best].name, (PetscInt64)2 * f->bound[best] + 1, (PetscInt64)f->bound[best],
                            100.0 * (double)(flux[best] / total)));
    PetscCall(StgssaStrlcat(msg, item, len));
  }
  if (!msg[0]) { /* no outflow at this time: name every bound that leaks somewhere */
    for (PetscInt l = 0; l < f->nleak; l++)
      used[f->lk_species[l]] = PETSC_TRUE;
    for (PetscInt s = 0; s < f->S; s++) {
      char item[256];
      if (!used[s]) continue;
      PetscCall(PetscSNPrintf(item, sizeof(item), "%s%s=%" PetscInt64_FMT " (now %" PetscInt64_FMT ")", msg[0] ? ", " : "", def->species[s].name, (PetscInt64)2 * f->bound[s] + 1, (PetscInt64)f->bound[s]));
      PetscCall(StgssaStrlcat(msg, item, len));
    }
  }
  PetscCall(PetscFree(used));
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

PetscErrorCode StgssaFSPGetRuleSums(StgssaFSP f, PetscInt k, PetscInt r, const PetscReal **sums, const PetscReal **dsums)
{
  PetscFunctionBegin;
  PetscCall(StgssaFSPCheckSample(f, k, 0));
  PetscCheck(r >= 0 && r < f->nrules && f->rule_ok[r], f->comm, PETSC_ERR_ARG_OUTOFRANGE, "FSP: rule %" PetscInt_FMT " is not an expression of counts and parameters", r);
  if (sums) *sums = &f->rsum[(k * f->nrules + r) * 4];
  if (dsums) *dsums = &f->drsum[(k * f->nrules + r) * 4 * f->P];
  PetscFunctionReturn(0);
}

/* Central moments of f normalized by the mass Z = R_0 (as StgssaFSPGetMoments):
     m = R1/Z, mu2 = R2/Z - m^2, mu3 = R3/Z - 3 m R2/Z + 2 m^3, with a_k = R_k/Z,
     da_k = (dR_k - a_k dZ)/Z, dmu2 = da_2 - 2 m dm, dmu3 = da_3 - 3 (dm a_2 + m da_2) + 6 m^2 dm. */
PetscErrorCode StgssaFSPGetRuleMoments(StgssaFSP f, PetscInt k, PetscInt r, PetscReal m[3], PetscReal dm[])
{
  const PetscReal *R, *dR;
  const PetscInt   P = f->P;
  PetscReal        Z, a1, a2, a3;

  PetscFunctionBegin;
  PetscCall(StgssaFSPGetRuleSums(f, k, r, &R, &dR));
  Z = R[0];
  PetscCheck(Z > 0, f->comm, PETSC_ERR_FP, "FSP: no probability left in the projection at sample %" PetscInt_FMT, k);
  a1   = R[1] / Z;
  a2   = R[2] / Z;
  a3   = R[3] / Z;
  m[0] = a1;
  m[1] = a2 - a1 * a1;
  m[2] = a3 - 3 * a1 * a2 + 2 * a1 * a1 * a1;
  if (!dm) PetscFunctionReturn(0);
  for (PetscInt q = 0; q < P; q++) {
    const PetscReal dZ = dR[q], d1 = (dR[P + q] - a1 * dZ) / Z, d2 = (dR[2 * P + q] - a2 * dZ) / Z, d3 = (dR[3 * P + q] - a3 * dZ) / Z;
    dm[q]         = d1;
    dm[P + q]     = d2 - 2 * a1 * d1;
    dm[2 * P + q] = d3 - 3 * (d1 * a2 + a1 * d2) + 6 * a1 * a1 * d1;
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
  PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaFSP: %" PetscInt_FMT " states, %.0f nonzeros in A, %" PetscInt_FMT " jumps out of the projection, on %d ranks%s\n", f->n, info.nz_used, f->nleak, size,
                                   size > 1 && f->pcomm != f->comm ? " (solved whole on every rank: -stgssa_fsp_redundant)" : ""));
  if (f->any_tdep) PetscCall(PetscViewerASCIIPrintf(viewer, "time-dependent propensities: %s\n", f->affine ? "affine in the inputs, A(t) = A0 + sum_i u_i(t) A_i from stored matrices" : "rate laws evaluated at every integrator time"));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  for (PetscInt s = 0; s < f->S; s++) {
    PetscBool leaks = PETSC_FALSE;
    for (PetscInt l = 0; l < f->nleak && !leaks; l++) leaks = (PetscBool)(f->lk_species[l] == s);
    if (f->bkind[s] == STGSSA_FSP_BOUND_GIVEN)
      PetscCall(PetscViewerASCIIPrintf(viewer, "species %-12s <= %" PetscInt_FMT " (bound given)\n", def->species[s].name, f->bound[s]));
    else if (leaks)
      PetscCall(PetscViewerASCIIPrintf(viewer, "species %-12s <= %" PetscInt_FMT " (automatic bound)\n", def->species[s].name, f->bound[s]));
    else
      PetscCall(PetscViewerASCIIPrintf(viewer, "species %-12s <= %" PRId64 " (reachable from x0)\n", def->species[s].name, f->maxcount[s]));
  }
  if (f->ngrown) PetscCall(PetscViewerASCIIPrintf(viewer, "automatic bounds grown %" PetscInt_FMT " time(s) in the last solve (mass leaked over the tolerance)\n", f->ngrown));
  if (f->failed) PetscCall(PetscViewerASCIIPrintf(viewer, "last solve FAILED: %s\n", f->fail_msg));
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
    if (f->adj_ready) PetscCall(PetscViewerASCIIPrintf(viewer, "transient: TS %s, rtol %g, atol %g, %" PetscInt_FMT " steps; p alone (%" PetscInt_FMT " unknowns), loss gradients by the adjoint (backward) pass\n", tt, (double)rtol, (double)atol, f->ts_steps, f->n));
    else
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
  for (PetscInt r = 0; r < f->nrules; r++) { /* expression observables: moments only (no distribution) */
    char name[STGSSA_NAME_MAX + 32];
    if (!f->rule_ok[r]) continue;
    {
      hsize_t dims[2] = {(hsize_t)T, 3};
      for (PetscInt k = 0; k < T; k++) PetscCall(StgssaFSPGetRuleMoments(f, k, r, &buf[3 * k], NULL));
      PetscCall(PetscSNPrintf(name, sizeof(name), "moments/%s", def->rules[r].name));
      PetscCall(StgssaH5WriteDoubles(g, name, 2, dims, buf));
    }
    if (P) {
      hsize_t   dims[3] = {(hsize_t)T, 3, (hsize_t)P};
      PetscReal m[3];
      for (PetscInt k = 0; k < T; k++) PetscCall(StgssaFSPGetRuleMoments(f, k, r, m, &buf[3 * P * k]));
      PetscCall(PetscSNPrintf(name, sizeof(name), "moments_gradient/%s", def->rules[r].name));
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
  PetscCall(StgssaFSPCorrelationWriteHDF5(f, g));
  PetscCallHDF5(H5Gclose(g));
  PetscFunctionReturn(0);
}
