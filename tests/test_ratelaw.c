/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Rate laws and time-dependent inputs in the exact engines (issue 7): src/model/ratelaw.c,
  src/ssa/thinning.c, the law paths of src/ssa/ssa.c and src/ssa/tangent.c.

  Exact checks:
    - a law equal to mass action (k_deg*M as a whole propensity, k_on*U with a constant input U = 1)
      gives bitwise the forward path of the mass-action model, and its ST-GS and score tangents
      agree with the mass-action ones to 1e-12 relative (different code: law derivatives by
      forward-mode expression evaluation vs closed-form mass-action derivatives);
  Statistical checks (fixed seeds; |z| < 4 for means: a false alarm has probability 6e-5 per
  check; chi-square p > 1e-3):
    - Michaelis-Menten degradation: stationary histogram against the exact birth-death product;
    - time-varying birth 0 -> M at k*u(t), u(t) = a0 + a1 exp(-r1 t)(1 - exp(-r2 t)) and a
      piecewise-constant table: M(t) ~ Poisson(Lambda(t)), Lambda(t) = int_0^t k u(s) ds, by
      thinning; the score derivative of E[M(t)] and the ST-GS derivative of the time average of M
      (pathwise exact for a pure birth process: dt_n = -dLambda(t_n)/lambda(t_n)) against the
      closed-form derivatives of Lambda;
    - -stgssa_initial steady (burn-in from t0 < 0): birth-death M(0) ~ Poisson(k/g);
  Errors: a law that goes negative stops the run with the reaction's line and the state.
*/
#include <check.h>
#include <stgssa/stgssa.h>
#include <stgssa/ssa.h>
#include <stgssa/tangent.h>
#include <math.h>
#include <string.h>
#include "stat_util.h"
#include "test_scale.h"

#define SEED 20261125u

static const char *telegraph_ma = "begin parameters\n k_on 0.5\n k_off 2\n k_tx 20\n k_deg 1\nend parameters\n"
                                  "begin species\n G_off 1\n G_on 0\n M 0\nend species\n"
                                  "begin reactions\n G_off -> G_on  k_on\n G_on -> G_off  k_off\n G_on -> G_on + M  k_tx\n M -> 0  k_deg\nend reactions\n";
/* the same propensities written as laws: a rate-constant law with a constant input, and full laws */
static const char *telegraph_law = "begin parameters\n k_on 0.5\n k_off 2\n k_tx 20\n k_deg 1\nend parameters\n"
                                   "begin inputs\n U 1 + 0*k_on\nend inputs\n"
                                   "begin species\n G_off 1\n G_on 0\n M 0\nend species\n"
                                   "begin reactions\n G_off -> G_on  k_on*U\n G_on -> G_off  k_off*G_on\n G_on -> G_on + M  G_on*k_tx\n M -> 0  k_deg*M\nend reactions\n";

typedef struct {
  StgssaModel          model;
  const StgssaNetwork *net;
} Lib;

static void lib_load(Lib *L, const char *text)
{
  ck_assert(!StgssaModelCreate(PETSC_COMM_SELF, &L->model));
  ck_assert(!StgssaModelLoadFromString(L->model, text, "test.model"));
  ck_assert(!StgssaModelGetNetwork(L->model, &L->net));
}

static void lib_free(Lib *L) { ck_assert(!StgssaModelDestroy(&L->model)); }

static void config(const StgssaNetwork *net, double tfinal, PetscInt ns, const double *times, StgssaSSAConfig *cfg)
{
  memset(cfg, 0, sizeof(*cfg));
  cfg->net          = net;
  cfg->seed         = SEED;
  cfg->tfinal       = tfinal;
  cfg->thin_step    = tfinal / 64;
  cfg->max_events   = 100000000;
  cfg->nsample      = ns;
  cfg->sample_times = times;
}

static int rel_close(double a, double b, double rtol) { return fabs(a - b) <= rtol * fmax(1.0, fmax(fabs(a), fabs(b))); }

/* Laws equal to mass action: bitwise forward values, tangents to 1e-12. */
START_TEST(test_law_equals_mass_action)
{
  const double   times[3] = {0.5, 2.0, 5.0};
  const PetscInt fitp[4]  = {0, 1, 2, 3}, rxn_param[4] = {0, 1, 2, 3}, obs[1] = {2};
  Lib            A, B;
  lib_load(&A, telegraph_ma);
  lib_load(&B, telegraph_law);
  ck_assert(!A.net->any_law && B.net->any_law && !B.net->any_tdep);
  for (int type = 0; type < 2; type++) {
    StgssaSSAConfig     ca, cb;
    StgssaTangentConfig tc;
    StgssaTangentWork   wa, wb;
    StgssaTangentRecord ra, rb;
    PetscInt            no_rxn[4] = {-1, -1, -1, -1};
    config(A.net, 5.0, 3, times, &ca);
    config(B.net, 5.0, 3, times, &cb);
    memset(&tc, 0, sizeof(tc));
    tc.type      = type ? STGSSA_GRADIENT_SCORE : STGSSA_GRADIENT_STGS;
    tc.P         = 4;
    tc.fit_param = fitp;
    tc.lambda    = 1.0;
    tc.nobs      = 1;
    tc.obs       = obs;
    tc.window    = PETSC_TRUE;
    tc.w0        = 1.0;
    tc.w1        = 4.0;
    ck_assert(!StgssaTangentWorkCreate(A.net, 4, &wa));
    ck_assert(!StgssaTangentWorkCreate(B.net, 4, &wb));
    ck_assert(!StgssaTangentRecordCreate(3, 1, 4, 4, &ra));
    ck_assert(!StgssaTangentRecordCreate(3, 1, 4, 4, &rb));
    for (uint64_t traj = 0; traj < 200; traj++) {
      StgssaTrajInfo ia, ib;
      tc.rxn_param = rxn_param;
      ck_assert(!StgssaSSARunTangent(&ca, &tc, traj, &wa, &ra, &ia));
      tc.rxn_param = no_rxn; /* laws: parameters only through fit_param */
      ck_assert(!StgssaSSARunTangent(&cb, &tc, traj, &wb, &rb, &ib));
      ck_assert_int_eq(ia.events, ib.events);
      for (int i = 0; i < 3; i++) ck_assert_msg(ra.x[i] == rb.x[i], "trajectory %d sample %d: %g vs %g", (int)traj, i, ra.x[i], rb.x[i]);
      ck_assert(ra.wavg[0] == rb.wavg[0]);
      for (int m = 0; m < 12; m++) {
        const double u = type ? ra.score_sample[m] : ra.xdot[m], v = type ? rb.score_sample[m] : rb.xdot[m];
        ck_assert_msg(rel_close(u, v, 1e-12), "%s trajectory %d entry %d: mass action %.17g, law %.17g", type ? "score" : "stgs", (int)traj, m, u, v);
      }
      for (int p = 0; p < 4; p++) {
        const double u = type ? ra.score_end[p] : ra.wavgdot[p], v = type ? rb.score_end[p] : rb.wavgdot[p];
        ck_assert_msg(rel_close(u, v, 1e-12), "%s trajectory %d parameter %d: %.17g vs %.17g", type ? "score" : "stgs window", (int)traj, p, u, v);
      }
    }
    ck_assert(!StgssaTangentRecordDestroy(&ra));
    ck_assert(!StgssaTangentRecordDestroy(&rb));
    ck_assert(!StgssaTangentWorkDestroy(&wa));
    ck_assert(!StgssaTangentWorkDestroy(&wb));
  }
  lib_free(&A);
  lib_free(&B);
}
END_TEST

/* Run N plain trajectories; counts of species s at each sample time into hist[i][0..nb-1] (tail in nb-1). */
static void simulate_hist(const StgssaSSAConfig *cfg, PetscInt s, int N, int nb, int64_t hist[][64], double mean[], double var[])
{
  StgssaSSAWork  w;
  int64_t       *samples;
  const PetscInt S = cfg->net->S, ns = cfg->nsample;
  double         sum[8] = {0}, sum2[8] = {0};
  ck_assert(ns <= 8 && nb <= 64);
  ck_assert(!StgssaSSAWorkCreate(cfg->net, &w));
  samples = (int64_t *)malloc(sizeof(int64_t) * (size_t)(S * ns));
  for (int i = 0; i < ns; i++)
    for (int b = 0; b < nb; b++) hist[i][b] = 0;
  for (int traj = 0; traj < N; traj++) {
    StgssaTrajInfo info;
    ck_assert(!StgssaSSARun(cfg, (uint64_t)traj, &w, samples, &info));
    for (int i = 0; i < ns; i++) {
      const int64_t v = samples[i * S + s];
      hist[i][v < nb - 1 ? v : nb - 1]++;
      sum[i] += (double)v;
      sum2[i] += (double)v * (double)v;
    }
  }
  for (int i = 0; i < ns; i++) {
    mean[i] = sum[i] / N;
    var[i]  = (sum2[i] - N * mean[i] * mean[i]) / (N - 1);
  }
  free(samples);
  ck_assert(!StgssaSSAWorkDestroy(&w));
}

/* Michaelis-Menten degradation at stationarity (from t = -200 by the burn-in start):
   p(n) ∝ prod_{i=1..n} k_b (Km + i) / (vmax i). 20000 trajectories. */
START_TEST(test_michaelis_menten_stationary)
{
  const char  *text = "begin parameters\n k_b 5\n vmax 10\n Km 20\nend parameters\nbegin species\n M 0\nend species\n"
                      "begin reactions\n 0 -> M  k_b\n M -> 0  vmax*M/(Km + M)\nend reactions\n";
  const double t[1] = {0.0};
  const int    N = TestScaled(20000), nb = 64;
  int64_t      hist[1][64];
  double       p[64], mean[1], var[1], stat, norm = 0, mu = 0;
  int          dof;
  Lib          L;
  StgssaSSAConfig cfg;
  lib_load(&L, text);
  config(L.net, 1.0, 1, t, &cfg);
  cfg.t0 = -200.0; /* 24 relaxation times (1/0.119) of burn-in */
  simulate_hist(&cfg, 0, N, nb, hist, mean, var);
  p[0] = 1.0;
  for (int n = 1; n < nb; n++) p[n] = p[n - 1] * 5.0 * (20.0 + n) / (10.0 * n);
  for (int n = 0; n < nb; n++) norm += p[n];
  for (int n = 0; n < nb; n++) {
    p[n] /= norm;
    mu += n * p[n];
  }
  {
    const double pv = test_chi2_pvalue(hist[0], p, nb, N, &stat, &dof);
    const double z  = (mean[0] - mu) / sqrt(var[0] / N);
    ck_assert_msg(pv > 1e-3, "chi2 = %g, dof = %d, p = %g", stat, dof, pv);
    ck_assert_msg(fabs(z) < 4, "mean %g vs exact %g (z = %g)", mean[0], mu, z);
  }
  lib_free(&L);
}
END_TEST

/* Lambda(t) = int_0^t k u(s) ds for u = a0 + a1 e^{-r1 s} (1 - e^{-r2 s}), and its derivatives
   with respect to log k, log a1, log r1 (closed form). */
static const double K = 4.0, A0 = 0.5, A1 = 3.0, R1 = 0.4, R2 = 2.0;
static void lambda_exact(double t, double *L, double dL[3])
{
  const double e1 = (1 - exp(-R1 * t)) / R1, e12 = (1 - exp(-(R1 + R2) * t)) / (R1 + R2);
  const double Iu = A0 * t + A1 * (e1 - e12); /* int_0^t u */
  /* d e1/d r1 = (t e^{-r1 t} r1 - (1 - e^{-r1 t})) / r1^2, likewise for r1 + r2 */
  const double de1  = (t * exp(-R1 * t) * R1 - (1 - exp(-R1 * t))) / (R1 * R1);
  const double de12 = (t * exp(-(R1 + R2) * t) * (R1 + R2) - (1 - exp(-(R1 + R2) * t))) / ((R1 + R2) * (R1 + R2));
  *L    = K * Iu;
  dL[0] = K * Iu;                      /* k dL/dk */
  dL[1] = K * A1 * (e1 - e12);         /* a1 dL/da1 */
  dL[2] = K * A1 * R1 * (de1 - de12);  /* r1 dL/dr1 */
}

static const char *birth_input = "begin parameters\n k 4\n a0 0.5\n a1 3\n r1 0.4\n r2 2\nend parameters\n"
                                 "begin inputs\n u a0 + a1*exp(-r1*t)*(1 - exp(-r2*t))\nend inputs\n"
                                 "begin species\n M 0\nend species\nbegin reactions\n 0 -> M  k*u\nend reactions\n";

/* M(t) ~ Poisson(Lambda(t)) by thinning; 20000 trajectories, three times. */
START_TEST(test_time_varying_birth_poisson)
{
  const double times[3] = {1.0, 3.0, 8.0};
  const int    N = TestScaled(20000), nb = 64;
  int64_t      hist[3][64];
  double       mean[3], var[3];
  Lib          L;
  StgssaSSAConfig cfg;
  lib_load(&L, birth_input);
  ck_assert(L.net->any_tdep);
  config(L.net, 8.0, 3, times, &cfg);
  simulate_hist(&cfg, 0, N, nb, hist, mean, var);
  for (int i = 0; i < 3; i++) {
    double lam, dl[3], p[64], stat;
    int    dof;
    lambda_exact(times[i], &lam, dl);
    test_poisson_pmf(lam, nb, p);
    const double pv = test_chi2_pvalue(hist[i], p, nb, N, &stat, &dof);
    const double z  = (mean[i] - lam) / sqrt(lam / N);
    ck_assert_msg(pv > 1e-3, "t = %g: chi2 = %g, dof = %d, p = %g", times[i], stat, dof, pv);
    ck_assert_msg(fabs(z) < 4, "t = %g: mean %g vs Lambda %g (z = %g)", times[i], mean[i], lam, z);
  }
  lib_free(&L);
}
END_TEST

/* A piecewise-constant birth rate k*u, u = 1 on [0,2), lev on [2,5), 0.5 after: Lambda piecewise linear. */
START_TEST(test_table_birth_poisson)
{
  const char  *text = "begin parameters\n k 3\n lev 4\nend parameters\nbegin inputs\n u table 0 1 2 lev 5 0.5\nend inputs\n"
                      "begin species\n M 0\nend species\nbegin reactions\n 0 -> M  k*u\nend reactions\n";
  const double times[3] = {1.5, 4.0, 7.0}, lam[3] = {3 * 1.5, 3 * (2 + 4 * 2), 3 * (2 + 4 * 3 + 0.5 * 2)};
  const int    N = TestScaled(20000), nb = 64;
  int64_t      hist[3][64];
  double       mean[3], var[3];
  Lib          L;
  StgssaSSAConfig cfg;
  lib_load(&L, text);
  config(L.net, 7.0, 3, times, &cfg);
  simulate_hist(&cfg, 0, N, nb, hist, mean, var);
  for (int i = 0; i < 3; i++) {
    double p[64], stat;
    int    dof;
    test_poisson_pmf(lam[i], nb, p);
    const double pv = test_chi2_pvalue(hist[i], p, nb, N, &stat, &dof);
    const double z  = (mean[i] - lam[i]) / sqrt(lam[i] / N);
    ck_assert_msg(pv > 1e-3, "t = %g: chi2 = %g, dof = %d, p = %g", times[i], stat, dof, pv);
    ck_assert_msg(fabs(z) < 4, "t = %g: mean %g vs Lambda %g (z = %g)", times[i], mean[i], lam[i], z);
  }
  lib_free(&L);
}
END_TEST

/* Derivatives through time-dependent laws: score of E[M(t)] = Lambda(t), and ST-GS of the time
   average (1/T) int_0^T M = (1/T) int_0^T Lambda, both against closed forms. 20000 trajectories;
   |mean - exact| < 4 standard errors. */
START_TEST(test_time_varying_derivatives)
{
  const double   T = 6.0, times[2] = {2.0, 6.0};
  const PetscInt fitp[3] = {0, 2, 3}, rxn[1] = {-1}, obs[1] = {0};
  const int      N = TestScaled(20000), P = 3;
  Lib            L;
  lib_load(&L, birth_input);
  for (int type = 0; type < 2; type++) {
    StgssaSSAConfig     cfg;
    StgssaTangentConfig tc;
    StgssaTangentWork   w;
    StgssaTangentRecord rec;
    double              s1[2][3] = {{0}}, s2[2][3] = {{0}}, ex[2][3];
    config(L.net, T, 2, times, &cfg);
    memset(&tc, 0, sizeof(tc));
    tc.type      = type ? STGSSA_GRADIENT_STGS : STGSSA_GRADIENT_SCORE;
    tc.P         = P;
    tc.rxn_param = rxn;
    tc.fit_param = fitp;
    tc.lambda    = 1.0;
    tc.nobs      = 1;
    tc.obs       = obs;
    tc.window    = PETSC_TRUE;
    tc.w0        = 0.0;
    tc.w1        = T;
    ck_assert(!StgssaTangentWorkCreate(L.net, P, &w));
    ck_assert(!StgssaTangentRecordCreate(2, 1, 1, P, &rec));
    for (int traj = 0; traj < N; traj++) {
      StgssaTrajInfo info;
      if (!type && traj < 200) { /* the score's integrals by table equal the per-dwell quadrature (both exact to degree 15 per cell) */
        double S0[2][3], Se[3];
        w.no_table = PETSC_TRUE;
        ck_assert(!StgssaSSARunTangent(&cfg, &tc, (uint64_t)traj, &w, &rec, &info));
        for (int p = 0; p < P; p++) S0[0][p] = rec.score_sample[p], S0[1][p] = rec.score_sample[P + p], Se[p] = rec.score_end[p];
        w.no_table = PETSC_FALSE;
        w.tab_net  = NULL;
        ck_assert(!StgssaSSARunTangent(&cfg, &tc, (uint64_t)traj, &w, &rec, &info));
        ck_assert(w.tab_state == 1);
        for (int p = 0; p < P; p++)
          ck_assert_msg(fabs(rec.score_sample[p] - S0[0][p]) <= 1e-11 * (1 + fabs(S0[0][p])) && fabs(rec.score_sample[P + p] - S0[1][p]) <= 1e-11 * (1 + fabs(S0[1][p])) && fabs(rec.score_end[p] - Se[p]) <= 1e-11 * (1 + fabs(Se[p])), "trajectory %d parameter %d: table %.17g vs quadrature %.17g", traj, p, rec.score_end[p], Se[p]);
      }
      ck_assert(!StgssaSSARunTangent(&cfg, &tc, (uint64_t)traj, &w, &rec, &info));
      for (int p = 0; p < P; p++) {
        /* score: M(t_i) * S_p(t_i) (mean 0 score: no baseline needed for an unbiased mean); stgs: window tangent */
        const double v0 = type ? rec.wavgdot[p] : rec.x[0] * rec.score_sample[0 * P + p];
        const double v1 = type ? rec.wavgdot[p] : rec.x[1] * rec.score_sample[1 * P + p];
        s1[0][p] += v0;
        s2[0][p] += v0 * v0;
        s1[1][p] += v1;
        s2[1][p] += v1 * v1;
      }
    }
    if (!type) { /* d Lambda(t_i) / d log theta */
      for (int i = 0; i < 2; i++) {
        double lam;
        lambda_exact(times[i], &lam, ex[i]);
      }
    } else { /* (1/T) int_0^T d Lambda(s) ds by composite Simpson, 4000 intervals (error < 1e-12) */
      for (int p = 0; p < 3; p++) ex[0][p] = 0;
      for (int q = 0; q <= 4000; q++) {
        double lam, dl[3];
        const double wq = (q == 0 || q == 4000) ? 1 : (q % 2 ? 4 : 2);
        lambda_exact(T * q / 4000.0, &lam, dl);
        for (int p = 0; p < 3; p++) ex[0][p] += wq * dl[p] * (T / 4000.0) / 3.0 / T;
      }
      for (int p = 0; p < 3; p++) ex[1][p] = ex[0][p];
    }
    for (int i = 0; i < 2; i++)
      for (int p = 0; p < P; p++) {
        const double m = s1[i][p] / N, se = sqrt((s2[i][p] / N - m * m) / N), z = (m - ex[i][p]) / se;
        if (getenv("STGSSA_TEST_VERBOSE")) printf("%s sample %d parameter %d: %.5f +- %.5f, exact %.5f (z = %.2f)\n", type ? "stgs" : "score", i, p, m, se, ex[i][p], z);
        ck_assert_msg(fabs(z) < 4, "%s sample %d parameter %d: %g +- %g vs exact %g (z = %g)", type ? "stgs" : "score", i, p, m, se, ex[i][p], z);
      }
    ck_assert(!StgssaTangentRecordDestroy(&rec));
    ck_assert(!StgssaTangentWorkDestroy(&w));
  }
  lib_free(&L);
}
END_TEST

/* Steady start: birth-death from x0 = 0 with a burn-in of 30 (g = 1): M(0) ~ Poisson(10). */
START_TEST(test_steady_start_burnin)
{
  const char  *text = "begin parameters\n k 10\n g 1\nend parameters\nbegin species\n M 0\nend species\n"
                      "begin reactions\n 0 -> M  k\n M -> 0  g\nend reactions\n";
  const double t[2] = {0.0, 1.0};
  const int    N = TestScaled(20000), nb = 64;
  int64_t      hist[2][64];
  double       mean[2], var[2], p[64], stat;
  int          dof;
  Lib          L;
  StgssaSSAConfig cfg;
  lib_load(&L, text);
  config(L.net, 1.0, 2, t, &cfg);
  cfg.t0 = -30.0;
  simulate_hist(&cfg, 0, N, nb, hist, mean, var);
  test_poisson_pmf(10.0, nb, p);
  for (int i = 0; i < 2; i++) {
    const double pv = test_chi2_pvalue(hist[i], p, nb, N, &stat, &dof);
    ck_assert_msg(pv > 1e-3, "t = %g: chi2 = %g, dof = %d, p = %g", t[i], stat, dof, pv);
    ck_assert_msg(fabs(mean[i] - 10.0) / sqrt(10.0 / N) < 4, "t = %g: mean %g vs 10", t[i], mean[i]);
  }
  lib_free(&L);
}
END_TEST

/* A law that becomes negative (k*(M - 4.5) at M = 4): the run stops with an error. */
START_TEST(test_negative_law_error)
{
  const char     *text = "begin parameters\n k 1\nend parameters\nbegin species\n M 6\nend species\n"
                         "begin reactions\n M -> 0  k*(M - 4.5)\n 0 -> M  0.1\nend reactions\n";
  const double    t[1] = {50.0};
  Lib             L;
  StgssaSSAConfig cfg;
  StgssaSSAWork   w;
  int64_t         samples[1];
  StgssaTrajInfo  info;
  PetscErrorCode  ierr;
  lib_load(&L, text);
  config(L.net, 50.0, 1, t, &cfg);
  ck_assert(!StgssaSSAWorkCreate(L.net, &w));
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = StgssaSSARun(&cfg, 0, &w, samples, &info);
  ck_assert(!PetscPopErrorHandler());
  ck_assert_int_eq(ierr, PETSC_ERR_FP); /* the message itself is checked by tests/cli_errors.sh */
  ck_assert(!StgssaSSAWorkDestroy(&w));
  lib_free(&L);
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s  = suite_create("ratelaw");
  TCase   *tc = tcase_create("engine");
  SRunner *sr;
  int      failed;
  if (PetscInitialize(&argc, &argv, NULL, NULL)) return EXIT_FAILURE;
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_law_equals_mass_action);
  tcase_add_test(tc, test_michaelis_menten_stationary);
  tcase_add_test(tc, test_time_varying_birth_poisson);
  tcase_add_test(tc, test_table_birth_poisson);
  tcase_add_test(tc, test_time_varying_derivatives);
  tcase_add_test(tc, test_steady_start_burnin);
  tcase_add_test(tc, test_negative_law_error);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK); /* MPI must not be used across fork() */
  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (PetscFinalize()) return EXIT_FAILURE;
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
