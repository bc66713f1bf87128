/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Observed groups in the tangent engine (StgssaSSARunTangent with obs_ptr / obs_weight): the
  values x and tangents xdot recorded at the sample times and the window averages (and their
  tangents) of a group are those of the weighted sum of its species, computed from a run that
  observes the species, on the same trajectories (same seed: the forward path does not depend on
  what is observed).
    - a one-term group of weight 1 (Mtot = M): every recorded value bitwise that of M;
    - W = 2 M + G_on: x, xdot at the sample times bitwise 2 a + b (the helper evaluates
      exactly 2.0 * a + 1.0 * b); the window average accumulates (2 x_M + x_G) dt / W per dwell
      instead of two separate sums, so it agrees to rounding: |lib - ref| <= 1e-12 max(|ref|, 1);
    - an empty group: 0 and tangent 0.
  ST-GS (tangents) and score (values), telegraph model, 200 trajectories each.
*/
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <petscsys.h>
#include <stgssa/model.h>
#include <stgssa/tangent.h>

#define NTRAJ 200
#define NP    4

static const char telegraph[] = "begin parameters\n  k_on 0.5\n  k_off 2\n  k_tx 20\n  k_deg 1\nend parameters\n"
                                "begin species\n  G_off 1\n  G_on 0\n  M 0\nend species\n"
                                "begin reactions\n  G_off -> G_on  k_on\n  G_on -> G_off  k_off\n  G_on -> G_on + M  k_tx\n  M -> 0  k_deg\nend reactions\n";

static void run_case(StgssaGradientType type)
{
  StgssaModel          model;
  const StgssaNetwork *net;
  StgssaSSAConfig      cfg = {0};
  StgssaTangentConfig  ts = {0}, tg;
  StgssaTangentWork    work;
  StgssaTangentRecord  rs, rg;
  const double         times[3] = {0.5, 2.0, 6.0};
  const PetscInt       rxn_param[4] = {0, 1, 2, 3};
  /* species run: G_on (1), M (2); group run: Mtot = M, W = 2 M + G_on, Empty = (no terms) */
  const PetscInt sp_obs[2] = {1, 2};
  const PetscInt g_ptr[4] = {0, 1, 3, 3}, g_sp[3] = {2, 2, 1};
  const int64_t  g_w[3] = {1, 2, 1};
  const PetscInt ns = 3, stgs = type == STGSSA_GRADIENT_STGS;

  ck_assert(!StgssaModelCreate(PETSC_COMM_SELF, &model));
  ck_assert(!StgssaModelLoadFromString(model, telegraph, "test_observable.model"));
  ck_assert(!StgssaModelGetNetwork(model, &net));
  cfg.net          = net;
  cfg.seed         = 17;
  cfg.tfinal       = 8.0;
  cfg.max_events   = 10000000;
  cfg.nsample      = ns;
  cfg.sample_times = times;
  ts.type          = type;
  ts.P             = NP;
  ts.rxn_param     = rxn_param;
  ts.lambda        = 1.0;
  ts.window        = PETSC_TRUE;
  ts.w0            = 1.0;
  ts.w1            = 7.0;
  tg               = ts;
  ts.nobs          = 2;
  ts.obs           = sp_obs; /* obs_ptr, obs_weight NULL: plain species */
  tg.nobs          = 3;
  tg.obs           = g_sp;
  tg.obs_ptr       = g_ptr;
  tg.obs_weight    = g_w;
  tg.obs_rule      = NULL;
  tg.obs_scratch   = NULL;
  ck_assert(!StgssaTangentWorkCreate(net, NP, &work));
  ck_assert(!StgssaTangentRecordCreate(ns, 2, net->R, NP, &rs));
  ck_assert(!StgssaTangentRecordCreate(ns, 3, net->R, NP, &rg));
  for (uint64_t traj = 0; traj < NTRAJ; traj++) {
    StgssaTrajInfo is, ig;
    ck_assert(!StgssaSSARunTangent(&cfg, &ts, traj, &work, &rs, &is));
    ck_assert(!StgssaSSARunTangent(&cfg, &tg, traj, &work, &rg, &ig));
    ck_assert(is.events == ig.events);
    for (PetscInt i = 0; i < ns; i++) {
      const double G = rs.x[i * 2 + 0], M = rs.x[i * 2 + 1];
      ck_assert_msg(rg.x[i * 3 + 0] == M, "traj %d sample %d: Mtot %g, M %g", (int)traj, (int)i, rg.x[i * 3 + 0], M);
      ck_assert_msg(rg.x[i * 3 + 1] == 2 * M + G, "traj %d sample %d: W %g, 2 M + G_on %g", (int)traj, (int)i, rg.x[i * 3 + 1], 2 * M + G);
      ck_assert(rg.x[i * 3 + 2] == 0.0);
      for (PetscInt p = 0; p < NP && stgs; p++) {
        const double Gd = rs.xdot[(i * 2 + 0) * NP + p], Md = rs.xdot[(i * 2 + 1) * NP + p];
        ck_assert(!memcmp(&rg.xdot[(i * 3 + 0) * NP + p], &Md, sizeof(double)));
        ck_assert_msg(rg.xdot[(i * 3 + 1) * NP + p] == 2.0 * Md + 1.0 * Gd, "traj %d sample %d p %d: W tangent %.17g, expected %.17g", (int)traj, (int)i, (int)p, rg.xdot[(i * 3 + 1) * NP + p], 2.0 * Md + Gd);
        ck_assert(rg.xdot[(i * 3 + 2) * NP + p] == 0.0);
      }
    }
    {
      const double G = rs.wavg[0], M = rs.wavg[1], W = 2 * M + G;
      ck_assert(!memcmp(&rg.wavg[0], &M, sizeof(double)));
      ck_assert_msg(fabs(rg.wavg[1] - W) <= 1e-12 * fmax(fabs(W), 1.0), "traj %d: window average of W %.17g, 2 M + G_on %.17g", (int)traj, rg.wavg[1], W);
      ck_assert(rg.wavg[2] == 0.0);
      for (PetscInt p = 0; p < NP && stgs; p++) {
        const double Gd = rs.wavgdot[0 * NP + p], Md = rs.wavgdot[1 * NP + p], Wd = 2 * Md + Gd;
        ck_assert(!memcmp(&rg.wavgdot[0 * NP + p], &Md, sizeof(double)));
        ck_assert_msg(fabs(rg.wavgdot[1 * NP + p] - Wd) <= 1e-12 * fmax(fabs(Wd), 1.0), "traj %d p %d: window tangent of W %.17g, expected %.17g", (int)traj, (int)p, rg.wavgdot[1 * NP + p], Wd);
        ck_assert(rg.wavgdot[2 * NP + p] == 0.0);
      }
    }
  }
  ck_assert(!StgssaTangentRecordDestroy(&rs));
  ck_assert(!StgssaTangentRecordDestroy(&rg));
  ck_assert(!StgssaTangentWorkDestroy(&work));
  ck_assert(!StgssaModelDestroy(&model));
}

START_TEST(test_groups_stgs) { run_case(STGSSA_GRADIENT_STGS); }
END_TEST

START_TEST(test_groups_score) { run_case(STGSSA_GRADIENT_SCORE); }
END_TEST

int main(int argc, char **argv)
{
  Suite   *s  = suite_create("observable");
  TCase   *tc = tcase_create("groups");
  SRunner *sr;
  int      failed;
  if (PetscInitialize(&argc, &argv, NULL, NULL)) return EXIT_FAILURE;
  tcase_add_test(tc, test_groups_stgs);
  tcase_add_test(tc, test_groups_score);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK); /* MPI must not be used across fork() */
  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (PetscFinalize()) return EXIT_FAILURE;
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
