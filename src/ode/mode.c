/* SPDX-License-Identifier: BSD-2-Clause */
/* -stgssa_mode ode: the mean-field ODE of the model at its parameter values, written in the
   /simulate and /gradient layouts (include/stgssa/ode.h). */
#include "ode_impl.h"
#include "../stgssa_impl.h"

#define STGSSA_ODE_FIT_MAX 4096

PetscErrorCode StgssaODEModeSetUp(StgssaODE o, StgssaModel model, StgssaEnsemble ens)
{
  const StgssaModelDef *d;
  char                **names;
  PetscInt              nfit = STGSSA_ODE_FIT_MAX, *fit_param;
  PetscBool             set  = PETSC_FALSE, steady;
  PetscReal             T, rate;
  PetscErrorCode        ierr = 0;

  PetscFunctionBegin;
  PetscCall(StgssaModelGetDef(model, &d));
  PetscCall(StgssaEnsembleGetSampling(ens, &o->smp));
  PetscCall(StgssaEnsembleGetBurnin(ens, &steady, &T, &rate));
  PetscCheck(!steady, o->comm, PETSC_ERR_SUP, "-stgssa_mode ode starts from the model's initial counts: drop -stgssa_initial steady (or give the steady counts in %s)", d->filename);
  if (o->smp.obs_rule)
    for (PetscInt k = 0; k < o->smp.nobs; k++)
      PetscCheck(o->smp.obs_rule[k] < 0, o->comm, PETSC_ERR_SUP, "-stgssa_mode ode: %s is an expression observable, whose mean is not a function of the means; observe species or groups", o->smp.obs_names[k]);
  PetscCall(PetscCalloc1(nfit, &names));
  PetscOptionsBegin(o->comm, NULL, "Mean-field ODE (-stgssa_mode ode)", "StgssaODE");
  ierr = PetscOptionsStringArray("-stgssa_fit", "Parameters whose sensitivities d mean / d log k are computed (default: all)", "StgssaODE", names, &nfit, &set);
  PetscOptionsEnd();
  if (!ierr && set) ierr = StgssaStringListSet(nfit, (const char *const *)names, &o->nfit_names, &o->fit_names);
  for (PetscInt i = 0; i < STGSSA_ODE_FIT_MAX; i++)
    PetscCall(PetscFree(names[i]));
  PetscCall(PetscFree(names));
  PetscCall(ierr);
  if (!set) { /* default: every parameter a fit would take */
    const char **all;
    int         *idx, n = 0;
    PetscCall(PetscMalloc2(d->nparams + 1, &all, d->nparams + 1, &idx));
    PetscCheck(StgssaModelDefDefaultFit(d, idx, &n) == 0, o->comm, PETSC_ERR_MEM, "Out of memory");
    for (int p = 0; p < n; p++)
      all[p] = d->params[idx[p]].name;
    PetscCall(StgssaStringListSet(n, all, &o->nfit_names, &o->fit_names));
    PetscCall(PetscFree2(all, idx));
  }
  PetscCall(PetscMalloc1(o->nfit_names + 1, &fit_param));
  PetscCall(StgssaModelResolveFit(model, o->nfit_names, (const char *const *)o->fit_names, fit_param, NULL));
  PetscCall(StgssaODESetModel(o, model));
  PetscCall(StgssaODESetFit(o, o->nfit_names, fit_param));
  PetscCall(PetscFree(fit_param));
  PetscCall(StgssaODESetTimes(o, o->smp.nsample, o->smp.sample_times));
  PetscCall(StgssaODESetFromOptions(o));
  PetscCall(StgssaODESetUp(o));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaODEModeRun(StgssaODE o)
{
  const StgssaNetwork *net;
  PetscLogDouble       t0, t1;

  PetscFunctionBegin;
  PetscCall(StgssaModelGetNetwork(o->model, &net));
  PetscCall(PetscTime(&t0));
  PetscCall(StgssaODESolve(o, net));
  PetscCall(PetscTime(&t1));
  PetscCall(StgssaODEView(o, NULL));
  PetscCall(PetscPrintf(o->comm, "mean-field ODE: means (no variances) of %" PetscInt_FMT " observed quantities at %" PetscInt_FMT " times and their derivatives per log-rate, in %.3g s\n", o->smp.nobs, o->nt, (double)(t1 - t0)));
  PetscFunctionReturn(0);
}

/* Mean of observed quantity o at time i (a weighted sum of species) and its derivatives. */
static void StgssaODEObsMean(StgssaODE o, PetscInt i, PetscInt q, double *m, double *dm)
{
  *m = 0.0;
  for (PetscInt p = 0; p < o->P; p++)
    dm[p] = 0.0;
  for (PetscInt t = o->smp.obs_ptr[q]; t < o->smp.obs_ptr[q + 1]; t++) {
    const PetscInt s = o->smp.obs[t];
    const double   w = (double)o->smp.obs_weight[t];
    *m += w * o->x[i * o->S + s];
    for (PetscInt p = 0; p < o->P; p++)
      dm[p] += w * o->dx[(i * o->S + s) * o->P + p];
  }
}

PetscErrorCode StgssaODEModeWriteHDF5(StgssaODE o, hid_t file)
{
  const PetscInt T = o->nt, P = o->P;
  hid_t          sim, grad;
  double        *mom, *dmom, *dm;

  PetscFunctionBegin;
  PetscCall(PetscMalloc3(3 * T, &mom, 3 * T * P + 1, &dmom, P + 1, &dm));
  PetscCallHDF5(sim = H5Gcreate2(file, "simulate", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCallHDF5(grad = H5Gcreate2(file, "gradient", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(StgssaH5WriteAttrString(sim, "source", "mean-field ODE (-stgssa_mode ode): moments column 0 is the ODE mean; variance and third moment are not computed (NaN)"));
  PetscCall(StgssaH5WriteAttrString(grad, "source", "mean-field ODE forward sensitivities (-stgssa_mode ode): moments_gradient column 0 is d mean / d log k; the other columns NaN"));
  PetscCall(StgssaH5WriteAttrStrings(grad, "fit_names", P, (const char *const *)o->fit_names));
  {
    hsize_t dims[1] = {(hsize_t)T};
    PetscCall(StgssaH5WriteDoubles(sim, "times", 1, dims, o->times));
    PetscCall(StgssaH5WriteDoubles(grad, "times", 1, dims, o->times));
  }
  for (PetscInt q = 0; q < o->smp.nobs; q++) {
    char name[STGSSA_NAME_MAX + 32];
    for (PetscInt i = 0; i < T; i++) {
      StgssaODEObsMean(o, i, q, &mom[3 * i], dm);
      mom[3 * i + 1] = mom[3 * i + 2] = NAN;
      for (PetscInt p = 0; p < P; p++) {
        dmom[(3 * i) * P + p]     = dm[p];
        dmom[(3 * i + 1) * P + p] = NAN;
        dmom[(3 * i + 2) * P + p] = NAN;
      }
    }
    {
      hsize_t dims[3] = {(hsize_t)T, 3, (hsize_t)P};
      PetscCall(PetscSNPrintf(name, sizeof(name), "moments/%s", o->smp.obs_names[q]));
      PetscCall(StgssaH5WriteDoubles(sim, name, 2, dims, mom));
      PetscCall(StgssaH5WriteDoubles(grad, name, 2, dims, mom));
      if (P) {
        PetscCall(PetscSNPrintf(name, sizeof(name), "moments_gradient/%s", o->smp.obs_names[q]));
        PetscCall(StgssaH5WriteDoubles(grad, name, 3, dims, dmom));
      }
    }
  }
  PetscCallHDF5(H5Gclose(grad));
  PetscCallHDF5(H5Gclose(sim));
  PetscCall(PetscFree3(mom, dmom, dm));
  PetscFunctionReturn(0);
}
