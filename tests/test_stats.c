/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Statistics of the exact SSA against exact answers (fixed seeds).

  Tolerances: every test uses a fixed seed and a bound that a correct engine violates with
  small probability over seeds: chi-square p-values must exceed 1e-3 (false alarm 0.1% per
  comparison) and z-scores must stay below 4 (false alarm 6e-5, two-sided). The seeds are fixed,
  so the outcome is deterministic; the bounds say how unlucky a correct engine would have to be.
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

static StgssaModel model; /* the model of the current test's ensemble */

/* Run an ensemble of model text on PETSC_COMM_SELF, observing one species. */
static StgssaEnsemble run_ensemble(const char *text, const char *species, PetscInt ntraj, PetscInt seed, PetscReal tfinal, PetscInt ns, const PetscReal *times)
{
  StgssaEnsemble ens;
  const char    *obs[1] = {species};
  ck_assert(!StgssaModelCreate(PETSC_COMM_SELF, &model));
  ck_assert(!StgssaModelLoadFromString(model, text, "test.model"));
  ck_assert(!StgssaEnsembleCreate(PETSC_COMM_SELF, &ens));
  ck_assert(!StgssaEnsembleSetModel(ens, model));
  ck_assert(!StgssaEnsembleSetNumTrajectories(ens, ntraj));
  ck_assert(!StgssaEnsembleSetSeed(ens, seed));
  ck_assert(!StgssaEnsembleSetTimes(ens, tfinal, ns, times));
  ck_assert(!StgssaEnsembleSetObserved(ens, 1, obs));
  ck_assert(!StgssaEnsembleRun(ens));
  return ens;
}

/* Chi-square of histogram (nb bins) against p (n bins, last = tail). */
static double hist_pvalue(const int64_t *counts, PetscInt64 nb, const double *p, int n, int64_t N, double *stat, int *dof)
{
  int64_t obs[512] = {0};
  ck_assert(n <= 512);
  for (PetscInt64 x = 0; x < nb; x++) obs[x < n - 1 ? x : n - 1] += counts[x];
  return test_chi2_pvalue(obs, p, n, N, stat, dof);
}

/* Birth-death: M(t) ~ Poisson(k/g (1 - e^{-g t})) from M(0) = 0. 20000 trajectories, three times. */
START_TEST(test_birth_death_poisson)
{
  const PetscInt  N        = TestScaled(20000);
  const PetscReal times[3] = {0.2, 1.0, 5.0};
  StgssaEnsemble  ens      = run_ensemble(birth_death_model, "M", N, 11, 5.0, 3, times);
  for (int i = 0; i < 3; i++) {
    const double      lambda = 10.0 * (1.0 - exp(-times[i]));
    PetscReal         m[3];
    PetscInt64        nb;
    const int64_t    *counts;
    double            p[64], stat;
    int               dof;
    ck_assert(!StgssaEnsembleGetMoments(ens, i, 0, m));
    ck_assert(!StgssaEnsembleGetHistogram(ens, i, 0, &nb, &counts));
    /* mean: z-score with the exact sd sqrt(lambda/N) */
    const double z = (m[0] - lambda) / sqrt(lambda / N);
    ck_assert_msg(fabs(z) < 4, "t=%g: mean %g vs %g (z = %g)", times[i], m[0], lambda, z);
    /* variance of Poisson = lambda; sd of the sample variance ~ sqrt((mu4 - s^4)/N) with mu4 = lambda + 3 lambda^2 */
    const double zv = (m[1] - lambda) / sqrt((lambda + 2 * lambda * lambda) / N);
    ck_assert_msg(fabs(zv) < 4, "t=%g: variance %g vs %g (z = %g)", times[i], m[1], lambda, zv);
    test_poisson_pmf(lambda, 64, p);
    const double pv = hist_pvalue(counts, nb, p, 64, N, &stat, &dof);
    ck_assert_msg(pv > 1e-3, "t=%g: chi2 = %g, dof = %d, p = %g", times[i], stat, dof, pv);
  }
  ck_assert(!StgssaEnsembleDestroy(&ens));
  ck_assert(!StgssaModelDestroy(&model));
}
END_TEST

/* Telegraph steady state (t = 40, 100 relaxation times of the promoter, 40 of the mRNA):
   Peccoud-Ycart distribution, and the closed-form mean and Fano factor
     <M> = (k_tx/k_deg) k_on/(k_on+k_off),  F = 1 + k_tx k_off / ((k_on+k_off)(k_on+k_off+k_deg)). */
START_TEST(test_telegraph_stationary)
{
  const double    kon = 0.5, koff = 2, ktx = 20, kdeg = 1;
  const PetscInt  N     = TestScaled(20000);
  const PetscReal tf    = 40.0;
  StgssaEnsemble  ens   = run_ensemble(telegraph_model, "M", N, 5, tf, 0, NULL);
  const double    mean  = ktx / kdeg * kon / (kon + koff);
  const double    fano  = 1 + ktx * koff / ((kon + koff) * (kon + koff + kdeg));
  enum { NP = 200 };
  double          p[NP], mu = 0, m2 = 0, m4 = 0, stat;
  int             dof;
  PetscReal       m[3];
  PetscInt64      nb;
  const int64_t  *counts;

  test_telegraph_pmf(kon, koff, ktx, kdeg, NP, p);
  /* the reference distribution reproduces the closed forms (checks the reference itself) */
  for (int n = 0; n < NP; n++) mu += n * p[n];
  for (int n = 0; n < NP; n++) {
    m2 += (n - mu) * (n - mu) * p[n];
    m4 += pow(n - mu, 4) * p[n];
  }
  ck_assert_msg(fabs(mu - mean) < 1e-9 && fabs(m2 / mu - fano) < 1e-9, "reference: mean %g vs %g, Fano %g vs %g", mu, mean, m2 / mu, fano);
  ck_assert(p[NP - 1] < 1e-12);

  ck_assert(!StgssaEnsembleGetMoments(ens, 0, 0, m));
  ck_assert(!StgssaEnsembleGetHistogram(ens, 0, 0, &nb, &counts));
  const double zm = (m[0] - mean) / sqrt(m2 / N);
  ck_assert_msg(fabs(zm) < 4, "mean %g vs exact %g (z = %g)", m[0], mean, zm);
  /* Fano = s^2 / mean; delta method: var(F) ~ var(s^2)/mean^2 + s^4 var(mean)/mean^4 (the
     covariance term is omitted; it is of the same order, so 4 sd of this estimate is ~3 sd or more) */
  const double var_s2 = (m4 - m2 * m2) / N;
  const double sd_f   = sqrt(var_s2 / (mean * mean) + m2 * m2 * (m2 / N) / pow(mean, 4));
  const double zf     = (m[1] / m[0] - fano) / sd_f;
  ck_assert_msg(fabs(zf) < 4, "Fano %g vs exact %g (z = %g)", m[1] / m[0], fano, zf);
  const double pv = hist_pvalue(counts, nb, p, NP, N, &stat, &dof);
  ck_assert_msg(pv > 1e-3, "Peccoud-Ycart chi2 = %g, dof = %d, p = %g", stat, dof, pv);
  ck_assert(!StgssaEnsembleDestroy(&ens));
  ck_assert(!StgssaModelDestroy(&model));
}
END_TEST

/* Absorbing state: A -> 0 from A = 3; after all decays the state stays 0 until tfinal. */
START_TEST(test_absorbing)
{
  const char     *text     = "begin species\n A 3\nend species\nbegin reactions\n A -> 0  50\nend reactions\n";
  const PetscReal times[2] = {0.0, 10.0};
  StgssaEnsemble  ens      = run_ensemble(text, "A", 100, 1, 10.0, 2, times);
  PetscReal       m[3];
  PetscInt64      events;
  ck_assert(!StgssaEnsembleGetMoments(ens, 0, 0, m));
  ck_assert(m[0] == 3.0 && m[1] == 0.0);
  ck_assert(!StgssaEnsembleGetMoments(ens, 1, 0, m));
  ck_assert(m[0] == 0.0 && m[1] == 0.0);
  ck_assert(!StgssaEnsembleGetEventCount(ens, &events));
  ck_assert_int_eq(events, 300); /* exactly 3 events per trajectory */
  ck_assert(!StgssaEnsembleDestroy(&ens));
  ck_assert(!StgssaModelDestroy(&model));
}
END_TEST

/* Dimerisation 2 M -> D with binomial propensity k M(M-1)/2 from M = 2: exactly one event,
   waiting time Exp(k): P(still M = 2 at t) = exp(-k t). 4000 trajectories, 4 sd. */
START_TEST(test_binomial_propensity)
{
  const char     *text     = "begin species\n M 2\n D 0\nend species\nbegin reactions\n 2 M -> D  0.7\nend reactions\n";
  const PetscInt  N        = TestScaled(4000);
  const PetscReal times[1] = {1.0};
  StgssaEnsemble  ens      = run_ensemble(text, "M", N, 3, 1.0, 1, times);
  PetscReal       m[3];
  ck_assert(!StgssaEnsembleGetMoments(ens, 0, 0, m));
  const double p = exp(-0.7), frac = m[0] / 2.0; /* mean of M = 2 P(no event) */
  ck_assert_msg(fabs(frac - p) < 4 * sqrt(p * (1 - p) / N), "P(M=2 at t=1) = %g, exact %g", frac, p);
  ck_assert(!StgssaEnsembleDestroy(&ens));
  ck_assert(!StgssaModelDestroy(&model));
}
END_TEST

/* Bimolecular association A + B <-> C (A0 = 10, B0 = 8): SSA histograms of C at t = 0.5 and 5
   against the exact FSP distribution (9 states, no truncation). 20000 trajectories, Pearson
   chi-square p > 1e-3 at each time, and the mean within 4 exact standard deviations. */
START_TEST(test_bimolecular_vs_fsp)
{
  const char     *text     = "begin parameters\n k_f 0.1\n k_b 1\nend parameters\nbegin species\n A 10\n B 8\n C 0\nend species\n"
                             "begin reactions\n bind: A + B <-> C  k_f, k_b\nend reactions\n";
  const PetscReal times[2] = {0.5, 5.0};
  const PetscInt  N        = TestScaled(20000);
  StgssaEnsemble  ens      = run_ensemble(text, "C", N, 21, 5.0, 2, times);
  StgssaFSP       fsp;
  ck_assert(!StgssaFSPCreate(PETSC_COMM_SELF, &fsp));
  ck_assert(!StgssaFSPSetModel(fsp, model));
  ck_assert(!StgssaFSPSetTimes(fsp, 2, times));
  ck_assert(!StgssaFSPSolve(fsp));
  for (PetscInt i = 0; i < 2; i++) {
    PetscInt         nb, cidx;
    PetscInt64       hb;
    const PetscReal *p, *dp;
    const int64_t   *counts;
    double           q[64], stat, mean = 0, var = 0;
    int              dof;
    PetscReal        m[3];
    ck_assert(!StgssaModelFindSpecies(model, "C", &cidx));
    ck_assert(!StgssaFSPGetMarginal(fsp, i, cidx, &nb, &p, &dp));
    ck_assert(nb <= 64);
    for (PetscInt b = 0; b < nb; b++) {
      q[b] = p[b];
      mean += b * p[b];
    }
    for (PetscInt b = 0; b < nb; b++) var += (b - mean) * (b - mean) * p[b];
    ck_assert(!StgssaEnsembleGetHistogram(ens, i, 0, &hb, &counts));
    ck_assert(hb <= nb);
    const double pv = hist_pvalue(counts, hb, q, (int)nb, N, &stat, &dof);
    ck_assert_msg(pv > 1e-3, "t=%g: chi2 = %g, dof = %d, p = %g", times[i], stat, dof, pv);
    ck_assert(!StgssaEnsembleGetMoments(ens, i, 0, m));
    ck_assert_msg(fabs(m[0] - mean) < 4 * sqrt(var / N), "t=%g: mean %g vs FSP %g", times[i], m[0], mean);
  }
  ck_assert(!StgssaFSPDestroy(&fsp));
  ck_assert(!StgssaEnsembleDestroy(&ens));
  ck_assert(!StgssaModelDestroy(&model));
}
END_TEST

/* Rate laws through both paths (issue 7): simulate histograms against the exact FSP of the same
   model. A Hill-type positive feedback 0 -> P at k0 + k1 P^2/(K^2 + P^2) from P = 0, and the
   input-driven telegraph promoter of input/induction.model (time-dependent propensity: thinning
   in the SSA, a time-dependent generator in the FSP) started from its t = 0 steady state (SSA:
   burn-in of 30; FSP: exact). 20000 trajectories; chi-square p > 1e-3 and mean within 4 sd/sqrt(N). */
static void check_vs_fsp(StgssaEnsemble ens, StgssaFSP fsp, const char *sp, PetscInt ns, const PetscReal *times, PetscInt N)
{
  PetscInt sidx;
  ck_assert(!StgssaModelFindSpecies(model, sp, &sidx));
  for (PetscInt i = 0; i < ns; i++) {
    PetscInt         nb;
    PetscInt64       hb;
    const PetscReal *p, *dp;
    const int64_t   *counts;
    double           q[512], stat, mean = 0, var = 0;
    int              dof;
    PetscReal        m[3];
    ck_assert(!StgssaFSPGetMarginal(fsp, i, sidx, &nb, &p, &dp));
    ck_assert(nb <= 512);
    for (PetscInt b = 0; b < nb; b++) {
      q[b] = p[b];
      mean += b * p[b];
    }
    for (PetscInt b = 0; b < nb; b++) var += (b - mean) * (b - mean) * p[b];
    ck_assert(!StgssaEnsembleGetHistogram(ens, i, 0, &hb, &counts));
    ck_assert(hb <= nb);
    const double pv = hist_pvalue(counts, hb, q, (int)nb, N, &stat, &dof);
    ck_assert_msg(pv > 1e-3, "%s t=%g: chi2 = %g, dof = %d, p = %g", sp, times[i], stat, dof, pv);
    ck_assert(!StgssaEnsembleGetMoments(ens, i, 0, m));
    ck_assert_msg(fabs(m[0] - mean) < 4 * sqrt(var / N), "%s t=%g: mean %g vs FSP %g", sp, times[i], m[0], mean);
  }
}

START_TEST(test_laws_vs_fsp)
{
  const char     *hill     = "begin parameters\n k0 1\n k1 20\n K 10\n g 1\nend parameters\nbegin species\n P 0\nend species\n"
                             "begin reactions\n 0 -> P  k0 + k1*P^2/(K^2 + P^2)\n P -> 0  g\nend reactions\n";
  const char     *induction = "begin parameters\n k_on 2\n k_off 1\n k_tx 20\n k_deg 1\n a0 0.05\n a1 3\n r1 0.1\n r2 1\nend parameters\n"
                              "begin inputs\n Hog a0 + a1*exp(-r1*t)*(1 - exp(-r2*t))\nend inputs\n"
                              "begin species\n G_off 1\n G_on 0\n M 0\nend species\n"
                              "begin reactions\n G_off -> G_on  k_on*Hog\n G_on -> G_off  k_off\n G_on -> G_on + M  k_tx\n M -> 0  k_deg\nend reactions\n";
  const PetscReal th[2] = {1.0, 5.0}, ti[3] = {0.0, 1.0, 3.0};
  const PetscInt  N     = 20000; /* full size always: at 5000 the bistable P at t=5 failed the chi-square (p = 2e-4) */
  StgssaEnsemble  ens;
  StgssaFSP       fsp;
  ens = run_ensemble(hill, "P", N, 31, 5.0, 2, th);
  ck_assert(!StgssaFSPCreate(PETSC_COMM_SELF, &fsp));
  ck_assert(!StgssaFSPSetModel(fsp, model));
  ck_assert(!StgssaFSPSetTimes(fsp, 2, th));
  ck_assert(!StgssaFSPSetBound(fsp, "P", 100)); /* mean <= 21: the lost mass is far below the tolerance */
  ck_assert(!StgssaFSPSolve(fsp));
  check_vs_fsp(ens, fsp, "P", 2, th, N);
  ck_assert(!StgssaFSPDestroy(&fsp));
  ck_assert(!StgssaEnsembleDestroy(&ens));
  ck_assert(!StgssaModelDestroy(&model));
  { /* the induction model from its steady state: the ensemble is set up by hand for the initial condition */
    const char *obs[1] = {"M"};
    ck_assert(!StgssaModelCreate(PETSC_COMM_SELF, &model));
    ck_assert(!StgssaModelLoadFromString(model, induction, "induction.model"));
    ck_assert(!StgssaEnsembleCreate(PETSC_COMM_SELF, &ens));
    ck_assert(!StgssaEnsembleSetModel(ens, model));
    ck_assert(!StgssaEnsembleSetNumTrajectories(ens, N));
    ck_assert(!StgssaEnsembleSetSeed(ens, 32));
    ck_assert(!StgssaEnsembleSetTimes(ens, 3.0, 3, ti));
    ck_assert(!StgssaEnsembleSetObserved(ens, 1, obs));
    ck_assert(!StgssaEnsembleSetInitial(ens, PETSC_TRUE, 30.0));
    ck_assert(!StgssaEnsembleRun(ens));
  }
  ck_assert(!StgssaFSPCreate(PETSC_COMM_SELF, &fsp));
  ck_assert(!StgssaFSPSetModel(fsp, model));
  ck_assert(!StgssaFSPSetTimes(fsp, 3, ti));
  ck_assert(!StgssaFSPSetBound(fsp, "M", 120));
  ck_assert(!StgssaFSPSetInitial(fsp, STGSSA_FSP_INITIAL_STEADY));
  ck_assert(!StgssaFSPSolve(fsp));
  check_vs_fsp(ens, fsp, "M", 3, ti, N);
  ck_assert(!StgssaFSPDestroy(&fsp));
  ck_assert(!StgssaEnsembleDestroy(&ens));
  ck_assert(!StgssaModelDestroy(&model));
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s  = suite_create("stats");
  TCase   *tc = tcase_create("ssa");
  SRunner *sr;
  int      failed;
  if (PetscInitialize(&argc, &argv, NULL, NULL)) return EXIT_FAILURE;
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_birth_death_poisson);
  tcase_add_test(tc, test_telegraph_stationary);
  tcase_add_test(tc, test_absorbing);
  tcase_add_test(tc, test_binomial_propensity);
  tcase_add_test(tc, test_bimolecular_vs_fsp);
  tcase_add_test(tc, test_laws_vs_fsp);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK); /* MPI must not be used across fork() */
  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (PetscFinalize()) return EXIT_FAILURE;
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
