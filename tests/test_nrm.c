/* SPDX-License-Identifier: BSD-2-Clause */
/*
  The next-reaction method (-stgssa_ssa_method nrm, issue 9) against exact answers and against
  the direct method (fixed seeds, 20000 trajectories). Tolerances as in test_stats.c: chi-square
  p-values > 1e-3, z-scores < 4. The two-sample test compares the nrm and direct histograms of
  the same model (independent random numbers: disjoint Philox streams) by Pearson's statistic
  sum (n1 - n2)^2 / (n1 + n2) over bins merged until n1 + n2 >= 10 (dof = bins - 1, equal N).
*/
#include <check.h>
#include <stgssa/stgssa.h>
#include <stgssa/fsp.h>
#include "stat_util.h"
#include "test_scale.h"

static const char *birth_death_model = "begin parameters\n  k 10\n  g 1\nend parameters\n"
                                       "begin species\n  M 0\nend species\n"
                                       "begin reactions\n  0 -> M  k\n  M -> 0  g\nend reactions\n";

static const char *telegraph_model = "begin parameters\n  k_on 0.5\n  k_off 2\n  k_tx 20\n  k_deg 1\nend parameters\n"
                                     "begin species\n  G_off 1\n  G_on 0\n  M 0\nend species\n"
                                     "begin reactions\n  G_off -> G_on  k_on\n  G_on -> G_off  k_off\n"
                                     "  G_on -> G_on + M  k_tx\n  M -> 0  k_deg\nend reactions\n";

/* A + B <-> C from A = 10, B = 8 (propensities fall to 0 and come back) and a Hill-type rate law */
static const char *bimolecular_model = "begin parameters\n k_f 0.1\n k_b 1\nend parameters\nbegin species\n A 10\n B 8\n C 0\nend species\n"
                                       "begin reactions\n bind: A + B <-> C  k_f, k_b\nend reactions\n";
static const char *hill_model        = "begin parameters\n k0 1\n k1 20\n K 10\n g 1\nend parameters\nbegin species\n P 0\nend species\n"
                                       "begin reactions\n 0 -> P  k0 + k1*P^2/(K^2 + P^2)\n P -> 0  g\nend reactions\n";

typedef struct {
  StgssaModel    model;
  StgssaEnsemble ens;
} Run;

static Run run_ensemble(const char *text, const char *species, StgssaSSAMethod method, PetscInt ntraj, PetscInt seed, PetscReal tfinal, PetscInt ns, const PetscReal *times)
{
  Run         r;
  const char *obs[1] = {species};
  ck_assert(!StgssaModelCreate(PETSC_COMM_SELF, &r.model));
  ck_assert(!StgssaModelLoadFromString(r.model, text, "test.model"));
  ck_assert(!StgssaEnsembleCreate(PETSC_COMM_SELF, &r.ens));
  ck_assert(!StgssaEnsembleSetModel(r.ens, r.model));
  ck_assert(!StgssaEnsembleSetSSAMethod(r.ens, method));
  ck_assert(!StgssaEnsembleSetNumTrajectories(r.ens, ntraj));
  ck_assert(!StgssaEnsembleSetSeed(r.ens, seed));
  ck_assert(!StgssaEnsembleSetTimes(r.ens, tfinal, ns, times));
  ck_assert(!StgssaEnsembleSetObserved(r.ens, 1, obs));
  ck_assert(!StgssaEnsembleRun(r.ens));
  return r;
}

static void run_destroy(Run *r)
{
  ck_assert(!StgssaEnsembleDestroy(&r->ens));
  ck_assert(!StgssaModelDestroy(&r->model));
}

/* Chi-square of histogram (nb bins) against p (n bins, last = tail). */
static double hist_pvalue(const int64_t *counts, PetscInt64 nb, const double *p, int n, int64_t N, double *stat, int *dof)
{
  int64_t obs[512] = {0};
  ck_assert(n <= 512);
  for (PetscInt64 x = 0; x < nb; x++) obs[x < n - 1 ? x : n - 1] += counts[x];
  return test_chi2_pvalue(obs, p, n, N, stat, dof);
}

/* Two-sample chi-square (equal sample sizes) of sample i, observed 0, of two ensembles. */
static double two_sample_pvalue(StgssaEnsemble e1, StgssaEnsemble e2, PetscInt i, double *stat, int *dof)
{
  PetscInt64     n1, n2;
  const int64_t *c1, *c2;
  double         chi2 = 0, o1 = 0, o2 = 0;
  int            bins = 0;
  ck_assert(!StgssaEnsembleGetHistogram(e1, i, 0, &n1, &c1));
  ck_assert(!StgssaEnsembleGetHistogram(e2, i, 0, &n2, &c2));
  const PetscInt64 nb = PetscMax(n1, n2);
  for (PetscInt64 x = 0; x < nb; x++) {
    o1 += x < n1 ? (double)c1[x] : 0;
    o2 += x < n2 ? (double)c2[x] : 0;
    if (o1 + o2 >= 10) {
      double rest = 0;
      for (PetscInt64 y = x + 1; y < nb; y++) rest += (y < n1 ? (double)c1[y] : 0) + (y < n2 ? (double)c2[y] : 0);
      if (rest >= 10 || x == nb - 1) {
        chi2 += (o1 - o2) * (o1 - o2) / (o1 + o2);
        bins++;
        o1 = o2 = 0;
      }
    }
  }
  if (o1 + o2 > 0) {
    chi2 += (o1 - o2) * (o1 - o2) / (o1 + o2);
    bins++;
  }
  *stat = chi2;
  *dof  = bins - 1;
  return bins > 1 ? test_gamma_q(0.5 * (bins - 1), 0.5 * chi2) : 1.0;
}

/* nrm against direct on the same model, every sample time, 20000 trajectories each. */
static void check_vs_direct(const char *text, const char *sp, PetscInt seed, PetscReal tf, PetscInt ns, const PetscReal *times)
{
  const PetscInt N = TestScaled(20000);
  Run            rn = run_ensemble(text, sp, STGSSA_SSA_NRM, N, seed, tf, ns, times);
  Run            rd = run_ensemble(text, sp, STGSSA_SSA_DIRECT, N, seed, tf, ns, times);
  for (PetscInt i = 0; i < (ns ? ns : 1); i++) {
    double stat;
    int    dof;
    const double pv = two_sample_pvalue(rn.ens, rd.ens, i, &stat, &dof);
    ck_assert_msg(pv > 1e-3, "%s sample %d: nrm vs direct chi2 = %g, dof = %d, p = %g", sp, (int)i, stat, dof, pv);
    ck_assert_msg(dof >= 1, "%s sample %d: nothing compared", sp, (int)i);
  }
  run_destroy(&rn);
  run_destroy(&rd);
}

/* Birth-death from 0: M(t) ~ Poisson(10 (1 - e^{-t})), and nrm vs direct. */
START_TEST(test_nrm_birth_death)
{
  const PetscInt  N        = TestScaled(20000);
  const PetscReal times[3] = {0.2, 1.0, 5.0};
  Run             r        = run_ensemble(birth_death_model, "M", STGSSA_SSA_NRM, N, 11, 5.0, 3, times);
  for (int i = 0; i < 3; i++) {
    const double   lambda = 10.0 * (1.0 - exp(-times[i]));
    PetscReal      m[3];
    PetscInt64     nb;
    const int64_t *counts;
    double         p[64], stat;
    int            dof;
    ck_assert(!StgssaEnsembleGetMoments(r.ens, i, 0, m));
    ck_assert(!StgssaEnsembleGetHistogram(r.ens, i, 0, &nb, &counts));
    const double z = (m[0] - lambda) / sqrt(lambda / N);
    ck_assert_msg(fabs(z) < 4, "t=%g: mean %g vs %g (z = %g)", times[i], m[0], lambda, z);
    test_poisson_pmf(lambda, 64, p);
    const double pv = hist_pvalue(counts, nb, p, 64, N, &stat, &dof);
    ck_assert_msg(pv > 1e-3, "t=%g: chi2 = %g, dof = %d, p = %g", times[i], stat, dof, pv);
  }
  run_destroy(&r);
  check_vs_direct(birth_death_model, "M", 12, 5.0, 3, times);
}
END_TEST

/* Telegraph at t = 40: Peccoud-Ycart, and nrm vs direct at transient and stationary times. */
START_TEST(test_nrm_telegraph)
{
  const double    kon = 0.5, koff = 2, ktx = 20, kdeg = 1;
  const PetscInt  N = TestScaled(20000);
  const PetscReal times[3] = {0.5, 2.0, 40.0};
  enum { NP = 200 };
  double          p[NP], stat;
  int             dof;
  PetscInt64      nb;
  const int64_t  *counts;
  Run             r = run_ensemble(telegraph_model, "M", STGSSA_SSA_NRM, N, 5, 40.0, 0, NULL);

  test_telegraph_pmf(kon, koff, ktx, kdeg, NP, p);
  ck_assert(!StgssaEnsembleGetHistogram(r.ens, 0, 0, &nb, &counts));
  const double pv = hist_pvalue(counts, nb, p, NP, N, &stat, &dof);
  ck_assert_msg(pv > 1e-3, "Peccoud-Ycart chi2 = %g, dof = %d, p = %g", stat, dof, pv);
  run_destroy(&r);
  check_vs_direct(telegraph_model, "M", 6, 40.0, 3, times);
  check_vs_direct(telegraph_model, "G_on", 7, 40.0, 3, times);
}
END_TEST

/* Propensities that drop to 0 and return (A + B <-> C), against the exact FSP; a rate law. */
START_TEST(test_nrm_bimolecular_law)
{
  const PetscReal times[2] = {0.5, 5.0};
  const PetscInt  N        = TestScaled(20000);
  Run             r        = run_ensemble(bimolecular_model, "C", STGSSA_SSA_NRM, N, 21, 5.0, 2, times);
  StgssaFSP       fsp;
  PetscInt        cidx;
  ck_assert(!StgssaFSPCreate(PETSC_COMM_SELF, &fsp));
  ck_assert(!StgssaFSPSetModel(fsp, r.model));
  ck_assert(!StgssaFSPSetTimes(fsp, 2, times));
  ck_assert(!StgssaFSPSolve(fsp));
  ck_assert(!StgssaModelFindSpecies(r.model, "C", &cidx));
  for (PetscInt i = 0; i < 2; i++) {
    PetscInt         nb;
    PetscInt64       hb;
    const PetscReal *p, *dp;
    const int64_t   *counts;
    double           q[64], stat;
    int              dof;
    ck_assert(!StgssaFSPGetMarginal(fsp, i, cidx, &nb, &p, &dp));
    ck_assert(nb <= 64);
    for (PetscInt b = 0; b < nb; b++) q[b] = p[b];
    ck_assert(!StgssaEnsembleGetHistogram(r.ens, i, 0, &hb, &counts));
    const double pv = hist_pvalue(counts, hb, q, (int)nb, N, &stat, &dof);
    ck_assert_msg(pv > 1e-3, "t=%g: chi2 = %g, dof = %d, p = %g", times[i], stat, dof, pv);
  }
  ck_assert(!StgssaFSPDestroy(&fsp));
  run_destroy(&r);
  check_vs_direct(bimolecular_model, "C", 22, 5.0, 2, times);
  check_vs_direct(hill_model, "P", 31, 5.0, 2, times);
}
END_TEST

/* Absorbing state: exactly 3 events per trajectory, the state 0 held until tfinal. */
START_TEST(test_nrm_absorbing)
{
  const char     *text     = "begin species\n A 3\nend species\nbegin reactions\n A -> 0  50\nend reactions\n";
  const PetscReal times[2] = {0.0, 10.0};
  Run             r        = run_ensemble(text, "A", STGSSA_SSA_NRM, 100, 1, 10.0, 2, times);
  PetscReal       m[3];
  PetscInt64      events;
  ck_assert(!StgssaEnsembleGetMoments(r.ens, 0, 0, m));
  ck_assert(m[0] == 3.0 && m[1] == 0.0);
  ck_assert(!StgssaEnsembleGetMoments(r.ens, 1, 0, m));
  ck_assert(m[0] == 0.0 && m[1] == 0.0);
  ck_assert(!StgssaEnsembleGetEventCount(r.ens, &events));
  ck_assert_int_eq(events, 300);
  run_destroy(&r);
}
END_TEST

/* A trajectory is a function of (seed, index): the same samples run alone, in any order. */
START_TEST(test_nrm_per_trajectory)
{
  StgssaModel          model;
  const StgssaNetwork *net;
  StgssaSSAWork        w;
  StgssaSSAConfig      cfg;
  const double         ts[3] = {0.5, 2.0, 10.0};
  int64_t              a[3 * 3], b[3 * 3];
  StgssaTrajInfo       ia, ib;
  ck_assert(!StgssaModelCreate(PETSC_COMM_SELF, &model));
  ck_assert(!StgssaModelLoadFromString(model, telegraph_model, "t.model"));
  ck_assert(!StgssaModelGetNetwork(model, &net));
  ck_assert(!StgssaSSAWorkCreate(net, &w));
  cfg.net = net, cfg.seed = 9, cfg.iteration = 0, cfg.tfinal = 10.0, cfg.t0 = 0.0, cfg.thin_step = 1.0, cfg.max_events = 1000000, cfg.nsample = 3, cfg.sample_times = ts;
  ck_assert(!StgssaSSARunNRM(&cfg, 17, &w, a, &ia));
  for (uint64_t t = 0; t < 5; t++) ck_assert(!StgssaSSARunNRM(&cfg, t, &w, b, &ib));
  ck_assert(!StgssaSSARunNRM(&cfg, 17, &w, b, &ib));
  ck_assert(ia.events == ib.events && ia.events > 0);
  for (int i = 0; i < 9; i++) ck_assert(a[i] == b[i]);
  { /* the cap: on the first trajectory with more than 5 events */
    uint64_t t = 0;
    do ck_assert(!StgssaSSARunNRM(&cfg, t++, &w, a, &ia));
    while (ia.events <= 5 && t < 100);
    ck_assert(ia.events > 5);
    cfg.max_events = 5;
    ck_assert(!StgssaSSARunNRM(&cfg, t - 1, &w, b, &ib));
    ck_assert(ib.end == STGSSA_TRAJ_CAPPED && ib.events == 5);
  }
  ck_assert(!StgssaSSAWorkDestroy(&w));
  ck_assert(!StgssaModelDestroy(&model));
}
END_TEST

/* Time-dependent propensities: nrm refuses (use direct, exact by thinning). */
START_TEST(test_nrm_refuses_time_dependent)
{
  const char    *text = "begin parameters\n k 2\nend parameters\nbegin inputs\n u 1 + exp(-t)\nend inputs\nbegin species\n A 0\nend species\n"
                        "begin reactions\n 0 -> A  k*u\n A -> 0  1\nend reactions\n";
  StgssaModel    model;
  StgssaEnsemble ens;
  PetscErrorCode ierr;
  ck_assert(!StgssaModelCreate(PETSC_COMM_SELF, &model));
  ck_assert(!StgssaModelLoadFromString(model, text, "tdep.model"));
  ck_assert(!StgssaEnsembleCreate(PETSC_COMM_SELF, &ens));
  ck_assert(!StgssaEnsembleSetModel(ens, model));
  ck_assert(!StgssaEnsembleSetSSAMethod(ens, STGSSA_SSA_NRM));
  ck_assert(!StgssaEnsembleSetNumTrajectories(ens, 10));
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = StgssaEnsembleSetUp(ens);
  ck_assert(!PetscPopErrorHandler());
  ck_assert_int_eq(ierr, PETSC_ERR_SUP);
  ck_assert(!StgssaEnsembleSetSSAMethod(ens, STGSSA_SSA_DIRECT));
  ck_assert(!StgssaEnsembleRun(ens));
  ck_assert(!StgssaEnsembleDestroy(&ens));
  ck_assert(!StgssaModelDestroy(&model));
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s  = suite_create("nrm");
  TCase   *tc = tcase_create("nrm");
  SRunner *sr;
  int      failed;
  if (PetscInitialize(&argc, &argv, NULL, NULL)) return EXIT_FAILURE;
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_nrm_birth_death);
  tcase_add_test(tc, test_nrm_telegraph);
  tcase_add_test(tc, test_nrm_bimolecular_law);
  tcase_add_test(tc, test_nrm_absorbing);
  tcase_add_test(tc, test_nrm_per_trajectory);
  tcase_add_test(tc, test_nrm_refuses_time_dependent);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (PetscFinalize()) return EXIT_FAILURE;
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
