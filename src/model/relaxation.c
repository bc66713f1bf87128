/* SPDX-License-Identifier: BSD-2-Clause */
/* Slowest relaxation rate of a first-order network (the default burn-in of -stgssa_initial steady
   on the SSA route): see StgssaNetworkRelaxationRate in include/stgssa/model.h. */
#include <stgssa/model.h>
#include <petscksp.h>

/* Coefficient c_j and reactant s_j of a first-order (or zeroth-order, s_j = -1) propensity
   a_j = c_j x_s at the inputs of t = 0; PETSC_FALSE for any other propensity. Mass action with
   one reactant of coefficient 1 (or none), or a rate law that is a rate "constant" (law_full 0:
   parameters, numbers, inputs, t; no species) times such a reactant term. */
static PetscBool StgssaFirstOrderTerm(const StgssaNetwork *net, PetscInt j, const StgssaLawEnv *env, int64_t *x, double *c, PetscInt *s)
{
  const PetscInt nr = net->react_ptr[j + 1] - net->react_ptr[j];

  if (net->order1[j] >= 0 || net->order1[j] == -1) {
    *c = net->k[j];
    *s = net->order1[j];
    return PETSC_TRUE;
  }
  if (net->order1[j] != -3 || net->law_full[j] || nr > 1) return PETSC_FALSE;
  if (nr == 1 && net->react_coef[net->react_ptr[j]] != 1) return PETSC_FALSE;
  *s = nr ? net->react_species[net->react_ptr[j]] : -1;
  if (*s >= 0) x[*s] = 1;
  *c = StgssaPropensityLaw(net, j, x, env); /* law * C(1, 1) = law */
  if (*s >= 0) x[*s] = 0;
  return PETSC_TRUE;
}

PetscErrorCode StgssaNetworkRelaxationRate(const StgssaNetwork *net, PetscReal *rate)
{
  const PetscInt n = net->S;
  StgssaLawEnv   env;
  int64_t       *x;
  Mat            J;
  KSP            ksp;
  PC             pc;
  PetscReal     *wr, *wi, big = 0, lambda = PETSC_MAX_REAL;
  PetscBool      first = PETSC_TRUE, grows = PETSC_FALSE;

  PetscFunctionBegin;
  *rate = 0;
  if (n > 1000 || n < 1) PetscFunctionReturn(0); /* a dense eigenproblem per rank: small networks only */
  for (PetscInt j = 0; j < net->R; j++)
    if (net->order1[j] < -1 && (net->order1[j] != -3 || net->law_full[j])) PetscFunctionReturn(0);
  PetscCall(PetscCalloc1(n, &x));
  PetscCall(StgssaLawEnvCreate(net, &env));
  StgssaLawEnvSetState(net, &env, x);
  StgssaLawEnvSetTime(net, &env, 0.0, PETSC_FALSE);
  PetscCall(MatCreateSeqDense(PETSC_COMM_SELF, n, n, NULL, &J)); /* every rank alike: the same numbers */
  for (PetscInt j = 0; j < net->R && first; j++) {
    double   c;
    PetscInt sp;
    if (!StgssaFirstOrderTerm(net, j, &env, x, &c, &sp)) first = PETSC_FALSE;
    else if (!PetscIsNormalReal(c) && c != 0) first = PETSC_FALSE; /* NaN/Inf: no default; the run's own checks name it */
    else if (sp >= 0)                                             /* zero order: a constant source, no entry in J */
      for (PetscInt t = net->nu_ptr[j]; t < net->nu_ptr[j + 1]; t++) PetscCall(MatSetValue(J, net->nu_species[t], sp, (PetscScalar)(c * (double)net->nu_delta[t]), ADD_VALUES));
  }
  PetscCall(StgssaLawEnvDestroy(&env));
  PetscCall(PetscFree(x));
  PetscCall(MatAssemblyBegin(J, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(J, MAT_FINAL_ASSEMBLY));
  if (!first) {
    PetscCall(MatDestroy(&J));
    PetscFunctionReturn(0);
  }
  /* the eigenvalues of J by LAPACK's dense solver, through PETSc (KSP with no preconditioner) */
  PetscCall(PetscMalloc2(n, &wr, n, &wi));
  PetscCall(KSPCreate(PETSC_COMM_SELF, &ksp));
  PetscCall(KSPSetOperators(ksp, J, J));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCSetType(pc, PCNONE));
  PetscCall(KSPSetUp(ksp));
  PetscCall(KSPComputeEigenvaluesExplicitly(ksp, n, wr, wi));
  PetscCall(KSPDestroy(&ksp));
  PetscCall(MatDestroy(&J));
  for (PetscInt i = 0; i < n; i++) big = PetscMax(big, PetscSqrtReal(wr[i] * wr[i] + wi[i] * wi[i]));
  for (PetscInt i = 0; i < n; i++) {
    const PetscReal mod = PetscSqrtReal(wr[i] * wr[i] + wi[i] * wi[i]);
    if (mod <= 1e-10 * big) continue; /* a conserved total */
    if (wr[i] > 1e-10 * big) grows = PETSC_TRUE;
    else if (-wr[i] > 1e-10 * big) lambda = PetscMin(lambda, -wr[i]);
  }
  if (!grows && lambda < PETSC_MAX_REAL) *rate = lambda;
  PetscCall(PetscFree2(wr, wi));
  PetscFunctionReturn(0);
}
