/* SPDX-License-Identifier: BSD-2-Clause */
/* Package initialization: log events and class id, registered once. */
#include <stgssa/stgssa.h>
#include "stgssa_impl.h"
#include <stgssa/adam.h>
#include <stgssa/fisher.h>
#include <hdf5.h>

PetscClassId  STGSSA_CLASSID;
PetscLogEvent STGSSA_Simulate, STGSSA_Tangents, STGSSA_Reduce, STGSSA_Loss, STGSSA_Output, STGSSA_ModelLoad;
PetscLogEvent STGSSA_FSPSolve, STGSSA_ModelParse, STGSSA_NetworkBuild;

static PetscBool StgssaPackageInitialized = PETSC_FALSE;

PetscErrorCode StgssaFinalizePackage(void)
{
  PetscFunctionBegin;
  StgssaPackageInitialized = PETSC_FALSE;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaInitializePackage(void)
{
  PetscFunctionBegin;
  if (StgssaPackageInitialized) PetscFunctionReturn(0);
  StgssaPackageInitialized = PETSC_TRUE;
  PetscCall(PetscClassIdRegister("Stgssa", &STGSSA_CLASSID));
  PetscCall(PetscLogEventRegister("StgssaModelLoad", STGSSA_CLASSID, &STGSSA_ModelLoad));
  PetscCall(PetscLogEventRegister("StgssaModelParse", STGSSA_CLASSID, &STGSSA_ModelParse));     /* inside StgssaModelLoad: the text to a definition */
  PetscCall(PetscLogEventRegister("StgssaNetworkBuild", STGSSA_CLASSID, &STGSSA_NetworkBuild)); /* inside StgssaModelLoad: propensity kinds, laws, dependency graph */
  PetscCall(PetscLogEventRegister("StgssaSimulate", STGSSA_CLASSID, &STGSSA_Simulate));
  PetscCall(PetscLogEventRegister("StgssaTangents", STGSSA_CLASSID, &STGSSA_Tangents));
  PetscCall(PetscLogEventRegister("StgssaReduce", STGSSA_CLASSID, &STGSSA_Reduce));
  PetscCall(PetscLogEventRegister("StgssaLoss", STGSSA_CLASSID, &STGSSA_Loss));
  PetscCall(PetscLogEventRegister("StgssaOutput", STGSSA_CLASSID, &STGSSA_Output));
  PetscCall(PetscLogEventRegister("StgssaFSPSolve", STGSSA_CLASSID, &STGSSA_FSPSolve));
  /* the stochastic-optimization TAO type: -tao_type adam */
  PetscCall(TaoRegister("adam", TaoCreate_ADAM));
  /* stochastic Fisher scoring for likelihood fits: -tao_type fisher */
  PetscCall(TaoRegister("fisher", TaoCreate_FISHER));
  /* HDF5 failures are reported through PETSc errors naming the call; silence HDF5's own stack dump */
  PetscCheck(H5Eset_auto2(H5E_DEFAULT, NULL, NULL) >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "H5Eset_auto2 failed");
  PetscCall(PetscRegisterFinalize(StgssaFinalizePackage));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaStringListFree(PetscInt *n, char ***list)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < *n; i++) PetscCall(PetscFree((*list)[i]));
  PetscCall(PetscFree(*list));
  *n = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaStringListSet(PetscInt m, const char *const names[], PetscInt *n, char ***list)
{
  PetscFunctionBegin;
  PetscCall(StgssaStringListFree(n, list));
  PetscCall(PetscMalloc1(m, list));
  for (PetscInt i = 0; i < m; i++) PetscCall(PetscStrallocpy(names[i], &(*list)[i]));
  *n = m;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOptionsCheckEList(MPI_Comm comm, const char name[], const char *const list[], PetscInt n)
{
  char      value[256], avail[1024] = "";
  PetscBool set, match = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetString(NULL, NULL, name, value, sizeof(value), &set));
  if (!set) PetscFunctionReturn(0);
  for (PetscInt i = 0; i < n && !match; i++) PetscCall(PetscStrcasecmp(value, list[i], &match));
  if (match) PetscFunctionReturn(0);
  for (PetscInt i = 0; i < n; i++) {
    PetscCall(StgssaStrlcat(avail, list[i], sizeof(avail)));
    PetscCall(StgssaStrlcat(avail, " ", sizeof(avail)));
  }
  SETERRQ(comm, PETSC_ERR_USER, "Unknown option %s for %s. Available options: %s", value, name, avail);
}
