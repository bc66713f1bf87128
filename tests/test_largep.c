/* SPDX-License-Identifier: BSD-2-Clause */
/*
  The score function at many fitted parameters (issue 17): per-reaction accumulators
  (StgssaScoreAcc, src/ssa/score_acc.h), cost per event independent of P.

  Model (tests 2-4, at t = 0.5): 100 independent birth-death species X_i (0 -> X_i at k_i, X_i -> 0 at g_i, x(0) = 0),
  k_i = 4 + (i mod 9), g_i = 0.5 + 0.25 (i mod 5), every k_i and g_i fitted (P = 200). Closed forms
  (X_i(t) is Poisson with mean m_i(t)):
    m_i = (k_i/g_i)(1 - e^{-g_i t}),  d m_i/d log k_i = m_i,
    d m_i/d log g_i = -(k_i/g_i)(1 - e^{-g_i t}) + k_i t e^{-g_i t},
    d m_i/d theta_p = 0 for the parameters of the other species;
    E X_i^2 = m_i + m_i^2:  d E X_i^2 / d theta = (1 + 2 m_i) d m_i / d theta.

  Tests and tolerances.
  1. Accumulators vs the per-event a_0 derivative (the path before issue 17, w->score_lazy = 0) at
     P <= 64, on a mass-action model (a binomial 2A -> B, a parameter shared by two reactions with
     a factor, an unfitted reaction) and a rate-law model (a full law reading a species, a
     rate-constant law of an input, mass action beside them): the forward path is the same, so
     samples, event and reaction counts are bitwise equal; the scores sum the same terms in
     another order (per reaction, lazily, instead of per event), so they agree to rounding:
     |a - b| <= 1e-12 (1 + events) (each of the <= events terms is O(1) or a rounding of one).
  2. The score of k_0, g_0 with P = 2 (only they fitted) and with P = 200: bitwise equal, on the
     direct method and on rssa (the accumulators map a reaction's sums to its parameter in the
     same order whatever P).
  3. P = 200 against the closed forms: E[X_i(t) S_p(t)] estimates d m_i / d theta_p (E S_p = 0),
     with the standard error of the per-trajectory products (N - 1 degrees of freedom: normal).
     Every one of the 100 x 200 derivatives within 5 SE: P(|z| > 5) = 5.7e-7 per check, so a
     correct estimator fails one of the 2e4 checks with probability ~1.1% per engine, direct
     method and rssa (both run: ~2.3%, correlated within a trajectory set so at most that); the
     fixed seed passes. Second moments: d E X_i^2 / d theta for the own two parameters (200 checks
     per engine, 5 SE). Under STGSSA_TEST_SCALE fewer trajectories (>= 1000), the same rule.
  4. The evaluator in gradient mode with -stgssa_gradient score at P = 200 (the default fit: all
     200 rates), X_0..X_9 observed at t = 0.5, 16 batches: d mean / d theta from
     StgssaEvaluatorGetMeans and the batch standard error from StgssaEvaluatorGetBatchDerivatives
     (t with 15 degrees of freedom). The 20 own derivatives within 5 SE (P(|t_15| > 5) = 1.6e-4:
     0.3% for the family); the 1980 cross-derivatives, exactly 0: max |z| < 8 (P(|t_15| > 8) =
     8.4e-7 each, 0.2% for the family) and their mean z^2 within [0.7, 1.7] (E t_15^2 = 15/13 =
     1.15; a mean over 1980 correlated z^2 is within ±0.3 of it by far). Few batches because the
     evaluator keeps M (1 + P) exact sums per batch (M includes the 200 reaction counts).
     Also: -stgssa_gradient stgs refused at set-up with P = 200, auto chooses score and says why,
     fd runs (2P simulations per trajectory, 8 trajectories) and gives finite derivatives.
*/
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <petscsys.h>
#include <stgssa/stgssa.h>
#include "test_scale.h"

#define NS 100 /* species of the birth-death model */

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

static double kof(int i) { return 4.0 + (i % 9); }
static double gof(int i) { return 0.5 + 0.25 * (i % 5); }

static char *bd_text(void)
{
  size_t cap = 64 * 1024, n = 0;
  char  *t   = malloc(cap);
  n += (size_t)snprintf(t + n, cap - n, "begin parameters\n");
  for (int i = 0; i < NS; i++) n += (size_t)snprintf(t + n, cap - n, "  k%d %g\n  g%d %g\n", i, kof(i), i, gof(i));
  n += (size_t)snprintf(t + n, cap - n, "end parameters\nbegin species\n");
  for (int i = 0; i < NS; i++) n += (size_t)snprintf(t + n, cap - n, "  X%d 0\n", i);
  n += (size_t)snprintf(t + n, cap - n, "end species\nbegin reactions\n");
  for (int i = 0; i < NS; i++) n += (size_t)snprintf(t + n, cap - n, "  0 -> X%d  k%d\n  X%d -> 0  g%d\n", i, i, i, i);
  (void)snprintf(t + n, cap - n, "end reactions\n");
  return t;
}

/* d m_i / d log k_i and d m_i / d log g_i at time t */
static void bd_exact(int i, double t, double *m, double *dk, double *dg)
{
  const double k = kof(i), g = gof(i), e = exp(-g * t);
  *m  = k / g * (1 - e);
  *dk = *m;
  *dg = -k / g * (1 - e) + k * t * e;
}

static void config(const StgssaNetwork *net, uint64_t seed, double tfinal, PetscInt ns, const double *times, StgssaSSAConfig *cfg)
{
  memset(cfg, 0, sizeof(*cfg));
  cfg->net          = net;
  cfg->seed         = seed;
  cfg->tfinal       = tfinal;
  cfg->thin_step    = tfinal / 64;
  cfg->max_events   = 100000000;
  cfg->nsample      = ns;
  cfg->sample_times = times;
}

/* ---- 1. accumulators vs the per-event path ------------------------------------------------ */

static const char *ma_text = "begin parameters\n k1 6\n k2 0.3\n k3 1\n k4 0.5\nend parameters\n"
                             "begin species\n A 0\n B 0\n C 2\nend species\n"
                             "begin reactions\n 0 -> A  k1\n 2 A -> B  k2\n B -> 2 A  k3\n B -> 0  0.2\n"
                             " C -> C + A  2*k4\n A -> 0  k4\nend reactions\n";
static const char *law_text = "begin parameters\n k 12\n K 5\n g 1\n ky 2\n gy 0.7\nend parameters\n"
                              "begin inputs\n U 1 + 0.5*K/(K + 1)\nend inputs\n"
                              "begin species\n X 0\n Y 0\nend species\n"
                              "begin reactions\n 0 -> X  k*K/(K + X)\n X -> 0  g\n X -> X + Y  ky*U\n Y -> 0  gy*Y\nend reactions\n";

static void compare_paths(const char *name, const char *text, PetscInt P, const char *const *fit)
{
  const double        times[3] = {0.5, 2.0, 6.0};
  const PetscInt      obs[2]   = {0, 1};
  Lib                 L;
  StgssaSSAConfig     cfg;
  StgssaTangentConfig tc;
  StgssaTangentWork   w0, w1;
  StgssaTangentRecord r0, r1;
  PetscInt           *rxn, fitp[8];
  lib_load(&L, text);
  rxn = malloc(sizeof(PetscInt) * (size_t)L.net->R);
  ck_assert(!StgssaModelResolveFit(L.model, P, fit, fitp, rxn));
  config(L.net, 11, 6.0, 3, times, &cfg);
  memset(&tc, 0, sizeof(tc));
  tc.type = STGSSA_GRADIENT_SCORE, tc.P = P, tc.rxn_param = rxn, tc.fit_param = fitp, tc.lambda = 1.0, tc.nobs = 2, tc.obs = obs, tc.count_from = -1.0;
  ck_assert(!StgssaTangentWorkCreate(L.net, P, &w0));
  ck_assert(!StgssaTangentWorkCreate(L.net, P, &w1));
  w0.score_lazy = 0; /* the per-event a_0 derivative */
  w1.score_lazy = 1;
  ck_assert(!StgssaTangentRecordCreate(3, 2, L.net->R, P, &r0));
  ck_assert(!StgssaTangentRecordCreate(3, 2, L.net->R, P, &r1));
  for (uint64_t traj = 0; traj < 300; traj++) {
    StgssaTrajInfo i0, i1;
    double         tol;
    ck_assert(!StgssaSSARunTangent(&cfg, &tc, traj, &w0, &r0, &i0));
    ck_assert(!StgssaSSARunTangent(&cfg, &tc, traj, &w1, &r1, &i1));
    ck_assert_int_eq(i0.events, i1.events);
    ck_assert_int_eq(i0.end, i1.end);
    for (int m = 0; m < 6; m++) ck_assert_msg(r0.x[m] == r1.x[m], "%s trajectory %d sample entry %d", name, (int)traj, m);
    for (PetscInt j = 0; j < L.net->R; j++) ck_assert(r0.nrx[j] == r1.nrx[j]);
    tol = 1e-12 * (1.0 + (double)i0.events);
    for (PetscInt m = 0; m < 3 * P; m++) ck_assert_msg(fabs(r0.score_sample[m] - r1.score_sample[m]) <= tol, "%s trajectory %d score sample entry %d: per event %.17g, accumulators %.17g", name, (int)traj, (int)m, r0.score_sample[m], r1.score_sample[m]);
    for (PetscInt p = 0; p < P; p++) ck_assert_msg(fabs(r0.score_end[p] - r1.score_end[p]) <= tol, "%s trajectory %d score at tfinal %d: %.17g vs %.17g", name, (int)traj, (int)p, r0.score_end[p], r1.score_end[p]);
  }
  ck_assert(!StgssaTangentRecordDestroy(&r0));
  ck_assert(!StgssaTangentRecordDestroy(&r1));
  ck_assert(!StgssaTangentWorkDestroy(&w0));
  ck_assert(!StgssaTangentWorkDestroy(&w1));
  free(rxn);
  lib_free(&L);
}

START_TEST(test_acc_vs_per_event)
{
  static const char *const fma[4] = {"k1", "k2", "k3", "k4"}, *const flaw[5] = {"k", "K", "g", "ky", "gy"};
  compare_paths("mass action", ma_text, 4, fma);
  compare_paths("rate laws", law_text, 5, flaw);
}
END_TEST

/* ---- 2. P = 2 and P = 200: the same numbers --------------------------------------------------- */

START_TEST(test_p_independent_bitwise)
{
  const double        times[2] = {0.5, 1.0};
  PetscInt            obs[NS], rxn2[2 * NS], rxn200[2 * NS], fit2[2], fit200[2 * NS];
  char               *text = bd_text();
  Lib                 L;
  StgssaSSAConfig     cfg;
  StgssaTangentConfig t2, t200;
  lib_load(&L, text);
  free(text);
  ck_assert(L.net->R == 2 * NS && L.net->R >= STGSSA_SSA_TREE_MIN_R);
  for (int i = 0; i < NS; i++) obs[i] = i;
  for (int j = 0; j < 2 * NS; j++) rxn2[j] = j < 2 ? j : -1, rxn200[j] = j, fit200[j] = j;
  fit2[0] = 0, fit2[1] = 1;
  config(L.net, 3, 1.0, 2, times, &cfg);
  memset(&t2, 0, sizeof(t2));
  t2.type = STGSSA_GRADIENT_SCORE, t2.P = 2, t2.rxn_param = rxn2, t2.fit_param = fit2, t2.lambda = 1.0, t2.nobs = NS, t2.obs = obs, t2.count_from = -1.0;
  t200 = t2, t200.P = 2 * NS, t200.rxn_param = rxn200, t200.fit_param = fit200;
  for (int large = 0; large < 2; large++) {
    StgssaTangentWork   w2, w200;
    StgssaTangentRecord r2, r200;
    ck_assert(!StgssaTangentWorkCreate(L.net, 2, &w2));
    ck_assert(!StgssaTangentWorkCreate(L.net, 2 * NS, &w200));
    if (large) {
      ck_assert(!StgssaTangentWorkUseLarge(L.net, &w2));
      ck_assert(!StgssaTangentWorkUseLarge(L.net, &w200));
      ck_assert(w2.large && w200.large);
    }
    ck_assert(!StgssaTangentRecordCreate(2, NS, L.net->R, 2, &r2));
    ck_assert(!StgssaTangentRecordCreate(2, NS, L.net->R, 2 * NS, &r200));
    for (uint64_t traj = 0; traj < 50; traj++) {
      StgssaTrajInfo i2, i200;
      ck_assert(!StgssaSSARunTangent(&cfg, &t2, traj, &w2, &r2, &i2));
      ck_assert(!StgssaSSARunTangent(&cfg, &t200, traj, &w200, &r200, &i200));
      ck_assert_int_eq(i2.events, i200.events);
      for (int m = 0; m < 2 * NS; m++) ck_assert(r2.x[m] == r200.x[m]);
      for (int p = 0; p < 2; p++) {
        ck_assert_msg(r2.score_end[p] == r200.score_end[p], "%s trajectory %d parameter %d: P = 2 %.17g, P = 200 %.17g", large ? "rssa" : "direct", (int)traj, p, r2.score_end[p], r200.score_end[p]);
        for (int s = 0; s < 2; s++) ck_assert(r2.score_sample[s * 2 + p] == r200.score_sample[s * 2 * NS + p]);
      }
    }
    ck_assert(!StgssaTangentRecordDestroy(&r2));
    ck_assert(!StgssaTangentRecordDestroy(&r200));
    ck_assert(!StgssaTangentWorkDestroy(&w2));
    ck_assert(!StgssaTangentWorkDestroy(&w200));
  }
  lib_free(&L);
}
END_TEST

/* ---- 2b. time-dependent propensities (thinning) at P > 64 ---------------------------------------
   40 species born at k_i u(t), u = a0 + a1 e^{-r1 t} (1 - e^{-r2 t}) shared, dying at g_i: the
   per-event score with heap buffers and the Chebyshev integral tables, at P = 83 (every k_i, g_i
   and a0, a1, r1) and P = 3 (k0, g0, a1): the three shared parameters' scores bitwise equal (the
   P = 3 path is checked against the FSP by tests score_thinning and ratelaw). The cost per event
   is O(R + P) plus, for the integrals, O(time-dependent reactions x P) table evaluations. */
START_TEST(test_tdep_large_p)
{
  const int           n = 40, Pl = 2 * n + 3;
  const double        times[2] = {0.5, 1.0};
  size_t              cap = 16384, off = 0;
  char               *text = malloc(cap);
  const char        **names = malloc(sizeof(char *) * (size_t)Pl);
  char                buf[2 * 40 + 3][8];
  const char *const   small[3] = {"k0", "g0", "a1"};
  PetscInt           *rl, *rs, fl[2 * 40 + 3], fs[3], obs[40], map[3];
  Lib                 L;
  StgssaSSAConfig     cfg;
  StgssaTangentConfig tl, ts;
  StgssaTangentWork   wl, ws;
  StgssaTangentRecord rcl, rcs;
  off += (size_t)snprintf(text + off, cap - off, "begin parameters\n a0 0.5\n a1 3\n r1 0.4\n r2 2\n");
  for (int i = 0; i < n; i++) off += (size_t)snprintf(text + off, cap - off, " k%d %g\n g%d %g\n", i, kof(i), i, gof(i));
  off += (size_t)snprintf(text + off, cap - off, "end parameters\nbegin inputs\n u a0 + a1*exp(-r1*t)*(1 - exp(-r2*t))\nend inputs\nbegin species\n");
  for (int i = 0; i < n; i++) off += (size_t)snprintf(text + off, cap - off, " X%d 0\n", i);
  off += (size_t)snprintf(text + off, cap - off, "end species\nbegin reactions\n");
  for (int i = 0; i < n; i++) off += (size_t)snprintf(text + off, cap - off, " 0 -> X%d  k%d*u\n X%d -> 0  g%d\n", i, i, i, i);
  (void)snprintf(text + off, cap - off, "end reactions\n");
  lib_load(&L, text);
  free(text);
  ck_assert(L.net->any_tdep);
  for (int i = 0; i < n; i++) {
    (void)snprintf(buf[2 * i], 8, "k%d", i), (void)snprintf(buf[2 * i + 1], 8, "g%d", i);
    names[2 * i] = buf[2 * i], names[2 * i + 1] = buf[2 * i + 1];
    obs[i] = i;
  }
  names[2 * n] = "a0", names[2 * n + 1] = "a1", names[2 * n + 2] = "r1";
  rl = malloc(sizeof(PetscInt) * (size_t)L.net->R), rs = malloc(sizeof(PetscInt) * (size_t)L.net->R);
  ck_assert(!StgssaModelResolveFit(L.model, Pl, names, fl, rl));
  ck_assert(!StgssaModelResolveFit(L.model, 3, small, fs, rs));
  map[0] = 0, map[1] = 1, map[2] = 2 * n + 1; /* k0, g0, a1 in the P = 83 numbering */
  config(L.net, 9, 1.0, 2, times, &cfg);
  memset(&ts, 0, sizeof(ts));
  ts.type = STGSSA_GRADIENT_SCORE, ts.P = 3, ts.rxn_param = rs, ts.fit_param = fs, ts.lambda = 1.0, ts.nobs = n, ts.obs = obs, ts.count_from = -1.0;
  tl = ts, tl.P = Pl, tl.rxn_param = rl, tl.fit_param = fl;
  ck_assert(!StgssaTangentWorkCreate(L.net, Pl, &wl));
  ck_assert(!StgssaTangentWorkCreate(L.net, 3, &ws));
  ck_assert(!StgssaTangentRecordCreate(2, n, L.net->R, Pl, &rcl));
  ck_assert(!StgssaTangentRecordCreate(2, n, L.net->R, 3, &rcs));
  for (uint64_t traj = 0; traj < 6; traj++) { /* O(time-dependent reactions x P) per event: a few paths */
    StgssaTrajInfo il, is;
    ck_assert(!StgssaSSARunTangent(&cfg, &tl, traj, &wl, &rcl, &il));
    ck_assert(!StgssaSSARunTangent(&cfg, &ts, traj, &ws, &rcs, &is));
    ck_assert_int_eq(il.events, is.events);
    for (int q = 0; q < 3; q++) {
      ck_assert_msg(rcl.score_end[map[q]] == rcs.score_end[q], "trajectory %d %s: P = 83 %.17g, P = 3 %.17g", (int)traj, small[q], rcl.score_end[map[q]], rcs.score_end[q]);
      for (int s = 0; s < 2; s++) ck_assert(rcl.score_sample[s * Pl + map[q]] == rcs.score_sample[s * 3 + q]);
    }
    for (int p = 0; p < Pl; p++) ck_assert(isfinite(rcl.score_end[p]));
  }
  ck_assert(wl.tab_state == 1 && ws.tab_state == 1); /* both by the integral tables */
  ck_assert(!StgssaTangentRecordDestroy(&rcl));
  ck_assert(!StgssaTangentRecordDestroy(&rcs));
  ck_assert(!StgssaTangentWorkDestroy(&wl));
  ck_assert(!StgssaTangentWorkDestroy(&ws));
  free(rl), free(rs), free(names);
  lib_free(&L);
}
END_TEST

/* ---- 3. P = 200 against the closed forms ------------------------------------------------------ */

START_TEST(test_p200_closed_form)
{
  const int           large = _i, N = TestScaled(4000), P = 2 * NS;
  const double        t     = 0.5;
  PetscInt            obs[NS], rxn[2 * NS], fit[2 * NS];
  char               *text = bd_text();
  Lib                 L;
  StgssaSSAConfig     cfg;
  StgssaTangentConfig tc;
  StgssaTangentWork   w;
  StgssaTangentRecord rec;
  double             *s1 = calloc((size_t)NS * P, sizeof(double)), *s2 = calloc((size_t)NS * P, sizeof(double));
  double             *q1 = calloc((size_t)NS * 2, sizeof(double)), *q2 = calloc((size_t)NS * 2, sizeof(double)), xm[NS] = {0};
  double              zmax = 0;
  lib_load(&L, text);
  free(text);
  for (int i = 0; i < NS; i++) obs[i] = i;
  for (int j = 0; j < P; j++) rxn[j] = j, fit[j] = j; /* parameters in reaction order: k0, g0, k1, g1, ... */
  config(L.net, 2026, t, 1, &t, &cfg);
  memset(&tc, 0, sizeof(tc));
  tc.type = STGSSA_GRADIENT_SCORE, tc.P = P, tc.rxn_param = rxn, tc.fit_param = fit, tc.lambda = 1.0, tc.nobs = NS, tc.obs = obs, tc.count_from = -1.0;
  ck_assert(!StgssaTangentWorkCreate(L.net, P, &w));
  if (large) ck_assert(!StgssaTangentWorkUseLarge(L.net, &w));
  ck_assert(!StgssaTangentRecordCreate(1, NS, L.net->R, P, &rec));
  for (int n = 0; n < N; n++) {
    StgssaTrajInfo info;
    ck_assert(!StgssaSSARunTangent(&cfg, &tc, (uint64_t)n, &w, &rec, &info));
    for (int i = 0; i < NS; i++) {
      const double x = rec.x[i];
      xm[i] += x;
      for (int p = 0; p < P; p++) {
        const double v = x * rec.score_sample[p];
        s1[i * P + p] += v;
        s2[i * P + p] += v * v;
      }
      for (int q = 0; q < 2; q++) { /* second moment, own parameters */
        const double v = x * x * rec.score_sample[2 * i + q];
        q1[2 * i + q] += v;
        q2[2 * i + q] += v * v;
      }
    }
  }
  for (int i = 0; i < NS; i++) {
    double m, d[2];
    bd_exact(i, t, &m, &d[0], &d[1]);
    {
      const double zm = (xm[i] / N - m) / sqrt(m / N);
      ck_assert_msg(fabs(zm) < 5, "%s: mean of X%d %g vs %g (z = %.2f)", large ? "rssa" : "direct", i, xm[i] / N, m, zm);
    }
    for (int p = 0; p < P; p++) {
      const double est = s1[i * P + p] / N, se = sqrt((s2[i * P + p] / N - est * est) / (N - 1));
      const double ex = p / 2 == i ? d[p % 2] : 0.0, z = (est - ex) / se;
      if (fabs(z) > zmax) zmax = fabs(z);
      ck_assert_msg(fabs(z) < 5, "%s: d E X%d / d theta_%d = %g +- %g, exact %g (z = %.2f)", large ? "rssa" : "direct", i, p, est, se, ex, z);
    }
    for (int q = 0; q < 2; q++) {
      const double est = q1[2 * i + q] / N, se = sqrt((q2[2 * i + q] / N - est * est) / (N - 1)), ex = (1 + 2 * m) * d[q], z = (est - ex) / se;
      ck_assert_msg(fabs(z) < 5, "%s: d E X%d^2 / d theta_%d = %g +- %g, exact %g (z = %.2f)", large ? "rssa" : "direct", i, 2 * i + q, est, se, ex, z);
    }
  }
  if (getenv("STGSSA_TEST_VERBOSE")) printf("p200 closed form (%s, N = %d): largest |z| over 20000 derivatives %.2f\n", large ? "rssa" : "direct", N, zmax);
  ck_assert(!w.xdot && !w.ldot && !rec.nrxdot && !rec.xdot); /* the score allocates no O((S + R) P) tangents */
  ck_assert(!StgssaTangentRecordDestroy(&rec));
  ck_assert(!StgssaTangentWorkDestroy(&w));
  free(s1), free(s2), free(q1), free(q2);
  lib_free(&L);
}
END_TEST

/* ---- 4. the evaluator at P = 200 -------------------------------------------------------------- */

typedef struct {
  StgssaModel     model;
  StgssaEnsemble  ens;
  StgssaEvaluator ev;
} Run;

static void run_create(Run *r, const char *text, PetscInt ntraj, const char *gradient)
{
  const char  *obs[10] = {"X0", "X1", "X2", "X3", "X4", "X5", "X6", "X7", "X8", "X9"};
  const double t       = 0.5;
  ck_assert(!StgssaModelCreate(PETSC_COMM_SELF, &r->model));
  ck_assert(!StgssaModelLoadFromString(r->model, text, "bd100.model"));
  ck_assert(!StgssaEnsembleCreate(PETSC_COMM_SELF, &r->ens));
  ck_assert(!StgssaEnsembleSetModel(r->ens, r->model));
  ck_assert(!StgssaEnsembleSetNumTrajectories(r->ens, ntraj));
  ck_assert(!StgssaEnsembleSetSeed(r->ens, 17));
  ck_assert(!StgssaEnsembleSetTimes(r->ens, t, 1, &t));
  ck_assert(!StgssaEnsembleSetObserved(r->ens, 10, obs));
  ck_assert(!StgssaEvaluatorCreate(PETSC_COMM_SELF, &r->ev));
  ck_assert(!StgssaEvaluatorSetEnsemble(r->ev, r->ens, r->model));
  ck_assert(!PetscOptionsSetValue(NULL, "-stgssa_batches", "16"));
  ck_assert(!PetscOptionsSetValue(NULL, "-stgssa_gradient", gradient));
  ck_assert(!StgssaEvaluatorSetFromOptions(r->ev));
  ck_assert(!PetscOptionsClearValue(NULL, "-stgssa_batches"));
  ck_assert(!PetscOptionsClearValue(NULL, "-stgssa_gradient"));
}

static void run_destroy(Run *r)
{
  ck_assert(!StgssaEvaluatorDestroy(&r->ev));
  ck_assert(!StgssaEnsembleDestroy(&r->ens));
  ck_assert(!StgssaModelDestroy(&r->model));
}

START_TEST(test_evaluator_p200)
{
  char                  *text = bd_text();
  Run                    r;
  const StgssaObsLayout *L;
  const PetscReal       *mu, *dmu, *db;
  PetscInt               P, K;
  double                 z2 = 0, zmax = 0;
  int                    ncross = 0;
  /* score, the closed forms */
  run_create(&r, text, TestScaled(4000), "score");
  ck_assert(!StgssaEvaluatorEvaluate(r.ev));
  ck_assert(!StgssaEvaluatorGetFit(r.ev, &P, NULL));
  ck_assert_int_eq(P, 2 * NS);
  ck_assert(!StgssaEvaluatorGetLayout(r.ev, &L));
  ck_assert(!StgssaEvaluatorGetMeans(r.ev, &mu, &dmu));
  ck_assert(!StgssaEvaluatorGetBatchDerivatives(r.ev, &K, &db));
  ck_assert_int_eq(K, 16);
  for (int o = 0; o < 10; o++) {
    const PetscInt m0 = L->off_pow + o * 3; /* the mean of X_o at the one sample */
    double         m, d[2];
    bd_exact(o, 0.5, &m, &d[0], &d[1]);
    for (PetscInt p = 0; p < P; p++) {
      double s1 = 0, s2 = 0, se, z;
      for (PetscInt b = 0; b < K; b++) {
        const double v = db[((size_t)b * L->M + m0) * P + p];
        s1 += v, s2 += v * v;
      }
      se = sqrt((s2 / K - (s1 / K) * (s1 / K)) / (K - 1));
      if (p / 2 == o) {
        z = (dmu[m0 * P + p] - d[p % 2]) / se;
        ck_assert_msg(fabs(z) < 5, "evaluator: d mean X%d / d theta_%d = %g +- %g, exact %g (z = %.2f)", o, (int)p, dmu[m0 * P + p], se, d[p % 2], z);
      } else {
        z = dmu[m0 * P + p] / se;
        z2 += z * z, ncross++;
        if (fabs(z) > zmax) zmax = fabs(z);
        ck_assert_msg(fabs(z) < 8, "evaluator: cross-derivative d mean X%d / d theta_%d = %g +- %g (z = %.2f)", o, (int)p, dmu[m0 * P + p], se, z);
      }
    }
  }
  z2 /= ncross;
  if (getenv("STGSSA_TEST_VERBOSE")) printf("evaluator P = 200: %d cross-derivatives, mean z^2 %.3f (t_15: 1.154), max |z| %.2f\n", ncross, z2, zmax);
  ck_assert_msg(z2 > 0.7 && z2 < 1.7, "evaluator: mean z^2 of the cross-derivatives %.3f (expected ~1.15)", z2);
  run_destroy(&r);

  /* ST-GS refused at set-up; auto takes score and says why */
  {
    PetscErrorCode     ierr;
    StgssaGradientType type;
    PetscBool          automatic;
    const char        *why;
    run_create(&r, text, 100, "stgs");
    ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = StgssaEvaluatorSetUp(r.ev);
    ck_assert(!PetscPopErrorHandler());
    ck_assert_int_eq(ierr, PETSC_ERR_SUP);
    run_destroy(&r);
    run_create(&r, text, 100, "auto");
    ck_assert(!StgssaEvaluatorSetUp(r.ev));
    ck_assert(!StgssaEvaluatorGetGradientChoice(r.ev, &type, &automatic, &why));
    ck_assert(type == STGSSA_GRADIENT_SCORE && automatic);
    ck_assert_msg(strstr(why, "200 fitted rates") != NULL, "auto's reason: %s", why);
    run_destroy(&r);
  }
  /* fd: 2P + 1 simulations per trajectory, finite derivatives */
  run_create(&r, text, 8, "fd");
  ck_assert(!StgssaEvaluatorEvaluate(r.ev));
  ck_assert(!StgssaEvaluatorGetLayout(r.ev, &L));
  ck_assert(!StgssaEvaluatorGetMeans(r.ev, &mu, &dmu));
  for (PetscInt m = 0; m < L->M * 2 * NS; m++) ck_assert(isfinite(dmu[m]));
  {
    PetscInt64 ev;
    ck_assert(!StgssaEvaluatorGetEventCount(r.ev, &ev));
    ck_assert(ev > 8 * 2 * 2 * NS * 100); /* the 2P perturbed runs were simulated (~400 events each at t = 0.5) */
  }
  run_destroy(&r);
  free(text);
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s  = suite_create("largep");
  TCase   *tc = tcase_create("largep");
  SRunner *sr;
  int      failed;
  if (PetscInitialize(&argc, &argv, NULL, NULL)) return EXIT_FAILURE;
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, test_acc_vs_per_event);
  tcase_add_test(tc, test_p_independent_bitwise);
  tcase_add_test(tc, test_tdep_large_p);
  tcase_add_loop_test(tc, test_p200_closed_form, 0, 2);
  tcase_add_test(tc, test_evaluator_p200);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK); /* MPI must not be used across fork() */
  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  if (failed && !getenv("CK_VERBOSITY")) {
    TestResult **f = srunner_failures(sr);
    for (int i = 0; i < failed; i++) fprintf(stderr, "%s:%d: %s: %s\n", tr_lfile(f[i]), tr_lno(f[i]), tr_tcname(f[i]), tr_msg(f[i]));
    free(f);
  }
  srunner_free(sr);
  if (PetscFinalize()) return EXIT_FAILURE;
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
