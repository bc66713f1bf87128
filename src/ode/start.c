/* SPDX-License-Identifier: BSD-2-Clause */
/*
  -stgssa_start_from ode (with -ts_type bdf unless given): before a stochastic fit, a fit of the data's means with the mean-field
  ODE (-stgssa_gradient ode, -stgssa_loss moments -stgssa_moment_orders 1, TAO's default for
  deterministic objectives), run quietly on a copy of the options; the stochastic fit then starts
  from its rates (StgssaRun, src/run/run.c).
*/
#include <stgssa/ode.h>
#include <stdarg.h>

/* Options of the stochastic fit that the fit of the means must not inherit: its optimizer and
   schedule (the means' fit is deterministic: blmvm with bounds), checkpoints and restarts,
   the estimator's and the distribution losses' settings. */
static const char *const StgssaStartDrop[] = {"-tao_type",
                                              "-tao_max_it",
                                              "-tao_monitor",
                                              "-tao_gatol",
                                              "-tao_grtol",
                                              "-tao_gttol",
                                              "-tao_view",
                                              "-tao_converged_reason",
                                              "-tao_adam_learning_rate",
                                              "-tao_adam_beta1",
                                              "-tao_adam_beta2",
                                              "-tao_adam_epsilon",
                                              "-tao_adam_decay_steps",
                                              "-tao_fisher_damping",
                                              "-tao_fisher_max_step",
                                              "-tao_fisher_step",
                                              "-stgssa_adaptive_ntraj",
                                              "-stgssa_average",
                                              "-stgssa_checkpoint_interval",
                                              "-stgssa_restart",
                                              "-stgssa_time_limit",
                                              "-stgssa_profile",
                                              "-stgssa_profile_range",
                                              "-stgssa_profile_tol",
                                              "-stgssa_crn",
                                              "-stgssa_ntraj_max",
                                              "-stgssa_norm_test_eta",
                                              "-stgssa_stop_window",
                                              "-stgssa_stop_nse",
                                              "-stgssa_result_ntraj_factor",
                                              "-stgssa_history_every",
                                              "-stgssa_reduction",
                                              "-stgssa_score_memory",
                                              "-stgssa_temperature",
                                              "-stgssa_fd_h",
                                              "-stgssa_ntraj_grad",
                                              "-stgssa_distance",
                                              "-stgssa_alpha",
                                              "-stgssa_bandwidth",
                                              "-stgssa_kernel",
                                              "-stgssa_bins",
                                              "-stgssa_view_model",
                                              "-log_view",
                                              NULL};

PetscErrorCode StgssaODEStartOptions(const char output[], PetscOptions *db)
{
  char *all, tmp[PETSC_MAX_PATH_LEN + 32];

  PetscFunctionBegin;
  PetscCall(PetscOptionsCreate(db));
  PetscCall(PetscOptionsGetAll(NULL, &all));
  PetscCall(PetscOptionsInsertString(*db, all));
  PetscCall(PetscFree(all));
  for (int k = 0; StgssaStartDrop[k]; k++)
    PetscCall(PetscOptionsClearValue(*db, StgssaStartDrop[k]));
  {
    PetscBool given;
    PetscCall(PetscOptionsHasName(NULL, NULL, "-ts_type", &given));
    if (!given) PetscCall(PetscOptionsSetValue(*db, "-ts_type", "bdf")); /* a fit of means wanders along unidentified directions into stiff rates (k_on -> 1e7 in the telegraph): bdf's steps do not shrink with them */
  }
  PetscCall(PetscOptionsSetValue(*db, "-stgssa_start_from", "none"));
  PetscCall(PetscOptionsSetValue(*db, "-stgssa_gradient", "ode"));
  PetscCall(PetscOptionsSetValue(*db, "-stgssa_loss", "moments"));
  PetscCall(PetscOptionsSetValue(*db, "-stgssa_moment_orders", "1"));
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.start_from_ode", output));
  PetscCall(PetscOptionsSetValue(*db, "-stgssa_output", tmp)); /* never written (the fit of the means writes no file); keeps the user's file out of reach */
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaVFPrintfQuiet(FILE *fd, const char fmt[], va_list ap)
{
  (void)fd;
  (void)fmt;
  (void)ap;
  return 0;
}

PetscErrorCode StgssaODEQuiet(PetscBool quiet)
{
  static PetscErrorCode (*saved)(FILE *, const char[], va_list) = NULL;

  PetscFunctionBegin;
  if (quiet && !saved) {
    saved         = PetscVFPrintf;
    PetscVFPrintf = StgssaVFPrintfQuiet;
  } else if (!quiet && saved) {
    PetscVFPrintf = saved;
    saved         = NULL;
  }
  PetscFunctionReturn(0);
}
