/* SPDX-License-Identifier: BSD-2-Clause */
/*
  The large-network methods (-stgssa_ssa_method tree and rssa, issue 16) against exact answers
  (Poisson laws, the FSP) and against the direct method (two-sample chi-square), fixed seeds,
  20000 trajectories. Tolerances as in test_nrm.c: chi-square p-values > 1e-3, z-scores < 4 (each
  check fails by chance with probability about 1e-3 or 6e-5; the seeds are fixed, so a pass is
  reproducible and a wrong law, e.g. a bound below a propensity in rssa or a stale tree sum,
  moves these statistics far beyond). The two-sample statistic: sum (n1 - n2)^2 / (n1 + n2) over
  bins merged until n1 + n2 >= 10 (dof = bins - 1, equal N).
  rssa is exercised with abundant species (counts in the hundreds and thousands), where its count
  intervals are wide and most trials do not touch the bounds, and with small counts, where the
  intervals are single points.
*/
#include <check.h>
#include <stgssa/stgssa.h>
#include <stgssa/fsp.h>
#include <stgssa/tangent.h>
#include "stat_util.h"
#include "test_scale.h"

static const StgssaSSAMethod methods[2] = {STGSSA_SSA_TREE, STGSSA_SSA_RSSA};

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
  int64_t obs[1024] = {0};
  ck_assert(n <= 1024);
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

/* method against direct on the same model, every sample time, 20000 trajectories each. */
static void check_vs_direct(StgssaSSAMethod method, const char *text, const char *sp, PetscInt seed, PetscReal tf, PetscInt ns, const PetscReal *times)
{
  const PetscInt N = TestScaled(20000); /* STGSSA_TEST_SCALE: the sanitizer run draws fewer */
  Run            rn = run_ensemble(text, sp, method, N, seed, tf, ns, times);
  Run            rd = run_ensemble(text, sp, STGSSA_SSA_DIRECT, N, seed, tf, ns, times);
  for (PetscInt i = 0; i < (ns ? ns : 1); i++) {
    double stat;
    int    dof;
    const double pv = two_sample_pvalue(rn.ens, rd.ens, i, &stat, &dof);
    ck_assert_msg(pv > 1e-3, "%s %s sample %d: vs direct chi2 = %g, dof = %d, p = %g", StgssaSSAMethods[method], sp, (int)i, stat, dof, pv);
    ck_assert_msg(dof >= 1, "%s sample %d: nothing compared", sp, (int)i);
  }
  run_destroy(&rn);
  run_destroy(&rd);
}


/* 0 -> M at k, M -> 0 at g: M(t) ~ Poisson(k/g (1 - e^{-g t})) from M = 0 (small and large k). */
static void check_poisson(StgssaSSAMethod method, double k, PetscInt N, PetscReal tf, PetscInt seed)
{
  const PetscReal times[3] = {0.04 * tf, 0.2 * tf, tf};
  char            text[512];
  ck_assert(!PetscSNPrintf(text, sizeof(text), "begin parameters\n  k %g\n  g 1\nend parameters\nbegin species\n  M 0\nend species\nbegin reactions\n  0 -> M  k\n  M -> 0  g\nend reactions\n", k));
  Run r = run_ensemble(text, "M", method, N, seed, tf, 3, times);
  for (int i = 0; i < 3; i++) {
    const double lambda = k * (1.0 - exp(-times[i]));
    PetscReal    m[3];
    ck_assert(!StgssaEnsembleGetMoments(r.ens, i, 0, m));
    /* mean: Var = lambda / N; sample variance: Var ~ (mu_4 - sigma^4) / N = (lambda + 2 lambda^2) / N */
    const double z1 = (m[0] - lambda) / sqrt(lambda / N), z2 = (m[1] - lambda) / sqrt((lambda + 2 * lambda * lambda) / N);
    ck_assert_msg(fabs(z1) < 4 && fabs(z2) < 4, "%s k=%g t=%g: mean %g variance %g vs %g (z = %g, %g)", StgssaSSAMethods[method], k, times[i], m[0], m[1], lambda, z1, z2);
    if (lambda < 400) { /* the whole law */
      PetscInt64     nb;
      const int64_t *counts;
      double         p[1024], stat;
      int            dof;
      ck_assert(!StgssaEnsembleGetHistogram(r.ens, i, 0, &nb, &counts));
      test_poisson_pmf(lambda, 1024, p);
      const double pv = hist_pvalue(counts, nb, p, 1024, N, &stat, &dof);
      ck_assert_msg(pv > 1e-3, "%s k=%g t=%g: chi2 = %g, dof = %d, p = %g", StgssaSSAMethods[method], k, times[i], stat, dof, pv);
    }
  }
  run_destroy(&r);
}

START_TEST(test_large_poisson)
{
  const PetscReal times[3] = {0.2, 1.0, 5.0};
  for (int q = 0; q < 2; q++) {
    check_poisson(methods[q], 10, 20000, 5.0, 11 + q);
    check_poisson(methods[q], 300, 4000, 2.0, 13 + q); /* fewer paths where each has thousands of events */
    check_poisson(methods[q], 5000, 1000, 1.0, 15 + q);
    check_vs_direct(methods[q], birth_death_model, "M", 17 + q, 5.0, 3, times);
  }
}
END_TEST

START_TEST(test_large_telegraph)
{
  const PetscReal times[3] = {0.5, 2.0, 40.0};
  for (int q = 0; q < 2; q++) {
    check_vs_direct(methods[q], telegraph_model, "M", 6 + q, 40.0, 3, times);
    check_vs_direct(methods[q], telegraph_model, "G_on", 8 + q, 40.0, 3, times);
  }
}
END_TEST

/* FSP marginal of species sp at the sample times against the method's histograms. */
static void check_fsp(StgssaSSAMethod method, const char *text, const char *sp, PetscInt seed, PetscReal tf, PetscInt ns, const PetscReal *times)
{
  const PetscInt N = TestScaled(20000);
  Run            r = run_ensemble(text, sp, method, N, seed, tf, ns, times);
  StgssaFSP      fsp;
  PetscInt       idx;
  ck_assert(!StgssaFSPCreate(PETSC_COMM_SELF, &fsp));
  ck_assert(!StgssaFSPSetModel(fsp, r.model));
  ck_assert(!StgssaFSPSetTimes(fsp, ns, times));
  ck_assert(!StgssaFSPSolve(fsp));
  ck_assert(!StgssaModelFindSpecies(r.model, sp, &idx));
  for (PetscInt i = 0; i < ns; i++) {
    PetscInt         nb;
    PetscInt64       hb;
    const PetscReal *p, *dp;
    const int64_t   *counts;
    double           q[1024], stat;
    int              dof;
    ck_assert(!StgssaFSPGetMarginal(fsp, i, idx, &nb, &p, &dp));
    ck_assert(nb <= 1024);
    for (PetscInt b = 0; b < nb; b++) q[b] = p[b];
    ck_assert(!StgssaEnsembleGetHistogram(r.ens, i, 0, &hb, &counts));
    const double pv = hist_pvalue(counts, hb, q, (int)nb, N, &stat, &dof);
    ck_assert_msg(pv > 1e-3, "%s %s t=%g: chi2 = %g, dof = %d, p = %g", StgssaSSAMethods[method], sp, times[i], stat, dof, pv);
    ck_assert(dof >= 2);
  }
  ck_assert(!StgssaFSPDestroy(&fsp));
  run_destroy(&r);
}

/* A + B <-> C (propensities fall to 0 and return) and 2 D <-> E from D = 400 (a coefficient 2 on
   an abundant species) against the FSP; a Hill rate law (tree only: rssa refuses laws). */
START_TEST(test_large_fsp)
{
  const char     *dimer    = "begin parameters\n kd 0.01\n ku 2\nend parameters\nbegin species\n D 400\n E 0\nend species\n"
                             "begin reactions\n 2 D <-> E  kd, ku\nend reactions\n";
  const PetscReal times[2] = {0.05, 5.0}, dtimes[2] = {0.02, 0.5};
  for (int q = 0; q < 2; q++) {
    check_fsp(methods[q], bimolecular_model, "C", 21 + q, 5.0, 2, times);
    check_fsp(methods[q], dimer, "E", 23 + q, 0.5, 2, dtimes);
    check_vs_direct(methods[q], dimer, "D", 25 + q, 0.5, 2, dtimes);
  }
  check_vs_direct(STGSSA_SSA_TREE, hill_model, "P", 31, 5.0, 2, times);
}
END_TEST

/* A BioNetGen-like network of 122 reactions: a ligand L (abundant, in 40 reactions) binds 40
   receptor kinds X_i (small counts), which also convert X_i -> X_{i+1}; against direct. */
static char *ring_model(void)
{
  static char text[16384];
  size_t      n = 0;
  n += (size_t)snprintf(text + n, sizeof(text) - n, "begin parameters\n kon 0.002\n koff 1\n kc 0.5\nend parameters\nbegin species\n L 600\n");
  for (int i = 0; i < 40; i++) n += (size_t)snprintf(text + n, sizeof(text) - n, " X%d %d\n Y%d 0\n", i, i % 3 == 0 ? 12 : 0, i);
  n += (size_t)snprintf(text + n, sizeof(text) - n, "end species\nbegin reactions\n");
  for (int i = 0; i < 40; i++) n += (size_t)snprintf(text + n, sizeof(text) - n, " L + X%d <-> Y%d  kon, koff\n X%d -> X%d  kc\n", i, i, i, (i + 1) % 40);
  n += (size_t)snprintf(text + n, sizeof(text) - n, " 0 -> L  20\n L -> 0  0.02\nend reactions\n");
  ck_assert(n < sizeof(text) - 1);
  return text;
}

START_TEST(test_large_network)
{
  const PetscReal times[2] = {0.2, 1.0};
  const char     *text     = ring_model();
  for (int q = 0; q < 2; q++) {
    check_vs_direct(methods[q], text, "L", 41 + q, 1.0, 2, times);
    check_vs_direct(methods[q], text, "X3", 43 + q, 1.0, 2, times);
    check_vs_direct(methods[q], text, "Y0", 45 + q, 1.0, 2, times);
  }
}
END_TEST

/* auto: direct below STGSSA_SSA_TREE_MIN_R reactions and when propensities depend on time, rssa
   for large mass-action networks, tree for large networks with rate laws. */
START_TEST(test_large_auto)
{
  const char   *tdep = "begin parameters\n k 2\nend parameters\nbegin inputs\n u 1 + exp(-t)\nend inputs\nbegin species\n A 0\nend species\n"
                       "begin reactions\n 0 -> A  k*u\n A -> 0  1\nend reactions\n";
  char          law[20000];
  const char   *why;
  StgssaModel   model;
  const StgssaNetwork *net;
  size_t        n = 0;
  const char   *texts[4]   = {birth_death_model, tdep, ring_model(), law};
  const StgssaSSAMethod expect[4] = {STGSSA_SSA_DIRECT, STGSSA_SSA_DIRECT, STGSSA_SSA_RSSA, STGSSA_SSA_TREE};
  n += (size_t)snprintf(law + n, sizeof(law) - n, "begin species\n");
  for (int i = 0; i < 70; i++) n += (size_t)snprintf(law + n, sizeof(law) - n, " A%d %d\n", i, i ? 0 : 10);
  n += (size_t)snprintf(law + n, sizeof(law) - n, "end species\nbegin reactions\n");
  for (int i = 0; i < 69; i++) n += (size_t)snprintf(law + n, sizeof(law) - n, " A%d -> A%d  A%d/(1 + A%d)\n", i, i + 1, i, i);
  n += (size_t)snprintf(law + n, sizeof(law) - n, "end reactions\n");
  for (int q = 0; q < 4; q++) {
    ck_assert(!StgssaModelCreate(PETSC_COMM_SELF, &model));
    ck_assert(!StgssaModelLoadFromString(model, texts[q], "auto.model"));
    ck_assert(!StgssaModelGetNetwork(model, &net));
    ck_assert_msg(StgssaSSAMethodResolve(STGSSA_SSA_AUTO, net, &why) == expect[q], "model %d (R = %d): auto chose %s (%s)", q, (int)net->R, StgssaSSAMethods[StgssaSSAMethodResolve(STGSSA_SSA_AUTO, net, NULL)], why);
    ck_assert(StgssaSSAMethodResolve(STGSSA_SSA_NRM, net, NULL) == STGSSA_SSA_NRM);
    ck_assert(!StgssaModelDestroy(&model));
  }
  { /* a large law network simulates on the tree, the same law as direct */
    const PetscReal times[2] = {1.0, 5.0};
    check_vs_direct(STGSSA_SSA_AUTO, law, "A3", 51, 5.0, 2, times);
  }
}
END_TEST

/* Absorbing state: exactly 3 events per trajectory, the state 0 held until tfinal. */
START_TEST(test_large_absorbing)
{
  const char     *text     = "begin species\n A 3\nend species\nbegin reactions\n A -> 0  50\nend reactions\n";
  const PetscReal times[2] = {0.0, 10.0};
  for (int q = 0; q < 2; q++) {
    Run        r = run_ensemble(text, "A", methods[q], 100, 1, 10.0, 2, times);
    PetscReal  m[3];
    PetscInt64 events, nabs;
    ck_assert(!StgssaEnsembleGetMoments(r.ens, 0, 0, m));
    ck_assert(m[0] == 3.0 && m[1] == 0.0);
    ck_assert(!StgssaEnsembleGetMoments(r.ens, 1, 0, m));
    ck_assert(m[0] == 0.0 && m[1] == 0.0);
    ck_assert(!StgssaEnsembleGetEventCount(r.ens, &events));
    ck_assert_int_eq(events, 300);
    (void)nabs;
    run_destroy(&r);
  }
}
END_TEST

/* A trajectory is a function of (seed, index): the same samples run alone, in any order; the cap. */
START_TEST(test_large_per_trajectory)
{
  StgssaModel          model;
  const StgssaNetwork *net;
  StgssaSSAWork        w;
  StgssaSSAConfig      cfg;
  const double         ts[3] = {0.1, 0.5, 2.0};
  int64_t              a[3 * 81], b[3 * 81];
  StgssaTrajInfo       ia, ib;
  PetscErrorCode (*run[2])(const StgssaSSAConfig *, uint64_t, StgssaSSAWork *, int64_t *, StgssaTrajInfo *) = {StgssaSSARunTree, StgssaSSARunRSSA};
  ck_assert(!StgssaModelCreate(PETSC_COMM_SELF, &model));
  ck_assert(!StgssaModelLoadFromString(model, ring_model(), "ring.model"));
  ck_assert(!StgssaModelGetNetwork(model, &net));
  ck_assert(net->S == 81);
  ck_assert(!StgssaSSAWorkCreate(net, &w));
  for (int q = 0; q < 2; q++) {
    cfg.net = net, cfg.seed = 9, cfg.iteration = 0, cfg.tfinal = 2.0, cfg.t0 = 0.0, cfg.thin_step = 1.0, cfg.max_events = 1000000, cfg.nsample = 3, cfg.sample_times = ts;
    ck_assert(!run[q](&cfg, 17, &w, a, &ia));
    for (uint64_t t = 0; t < 5; t++) ck_assert(!run[q](&cfg, t, &w, b, &ib));
    ck_assert(!run[q](&cfg, 17, &w, b, &ib));
    ck_assert(ia.events == ib.events && ia.events > 100);
    for (int i = 0; i < 3 * 81; i++) ck_assert(a[i] == b[i]);
    cfg.max_events = 5; /* the cap counts events (rssa: accepted trials) */
    ck_assert(!run[q](&cfg, 17, &w, b, &ib));
    ck_assert(ib.end == STGSSA_TRAJ_CAPPED && ib.events == 5);
  }
  ck_assert(!StgssaSSAWorkDestroy(&w));
  ck_assert(!StgssaModelDestroy(&model));
}
END_TEST

/* Refusals: tree and rssa need time-independent propensities, rssa mass action. */
START_TEST(test_large_refusals)
{
  const char *tdep = "begin parameters\n k 2\nend parameters\nbegin inputs\n u 1 + exp(-t)\nend inputs\nbegin species\n A 0\nend species\n"
                     "begin reactions\n 0 -> A  k*u\n A -> 0  1\nend reactions\n";
  const char *texts[3] = {tdep, tdep, hill_model};
  const StgssaSSAMethod m[3] = {STGSSA_SSA_TREE, STGSSA_SSA_RSSA, STGSSA_SSA_RSSA};
  for (int q = 0; q < 3; q++) {
    StgssaModel    model;
    StgssaEnsemble ens;
    PetscErrorCode ierr;
    ck_assert(!StgssaModelCreate(PETSC_COMM_SELF, &model));
    ck_assert(!StgssaModelLoadFromString(model, texts[q], "x.model"));
    ck_assert(!StgssaEnsembleCreate(PETSC_COMM_SELF, &ens));
    ck_assert(!StgssaEnsembleSetModel(ens, model));
    ck_assert(!StgssaEnsembleSetSSAMethod(ens, m[q]));
    ck_assert(!StgssaEnsembleSetNumTrajectories(ens, 10));
    ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = StgssaEnsembleSetUp(ens);
    ck_assert(!PetscPopErrorHandler());
    ck_assert_int_eq(ierr, PETSC_ERR_SUP);
    ck_assert(!StgssaEnsembleSetSSAMethod(ens, STGSSA_SSA_AUTO));
    ck_assert(!StgssaEnsembleRun(ens));
    ck_assert(!StgssaEnsembleDestroy(&ens));
    ck_assert(!StgssaModelDestroy(&model));
  }
}
END_TEST


/* Derivative runs on a large network (StgssaTangentWorkUseLarge): 32 independent birth-death
   pairs 0 -> M_i at k = 40, M_i -> 0 at g = 1 (R = 64; k, g shared), from 0. Closed forms at time t:
     E M_1 = (k/g)(1 - e^{-g t}),  d E M_1 / d log k = E M_1,
     d E M_1 / d log g = (k/g)(g t e^{-g t} - (1 - e^{-g t})).
   The score estimator E[M_1 S_p] (S = d log P(path)/d log k_p, unbiased) against them: z < 4 with
   the sample standard error of 4000 paths (k = 40: counts >= 10 have wide intervals, so trials are
   rejected and the bounds are exercised); values only (P = 0) give the same paths. */
START_TEST(test_large_score)
{
  const double   k = 40, g = 1, ts[2] = {0.5, 2.0};
  const PetscInt N = 4000, P = 2;
  char           text[8192];
  size_t         n = 0;
  StgssaModel    model;
  const StgssaNetwork *net;
  StgssaSSAConfig      cfg;
  StgssaTangentConfig  tc;
  StgssaTangentWork    w;
  StgssaTangentRecord  rec, rec0;
  StgssaTrajInfo       info;
  PetscInt             param[64], obs[1] = {0};
  double               sx[2] = {0, 0}, sxs[2][2][2] = {{{0}}}, vx[2] = {0, 0};
  n += (size_t)snprintf(text + n, sizeof(text) - n, "begin parameters\n k %g\n g %g\nend parameters\nbegin species\n", k, g);
  for (int i = 0; i < 32; i++) n += (size_t)snprintf(text + n, sizeof(text) - n, " M%d 0\n", i);
  n += (size_t)snprintf(text + n, sizeof(text) - n, "end species\nbegin reactions\n");
  for (int i = 0; i < 32; i++) n += (size_t)snprintf(text + n, sizeof(text) - n, " 0 -> M%d  k\n M%d -> 0  g\n", i, i);
  n += (size_t)snprintf(text + n, sizeof(text) - n, "end reactions\n");
  ck_assert(!StgssaModelCreate(PETSC_COMM_SELF, &model));
  ck_assert(!StgssaModelLoadFromString(model, text, "pairs.model"));
  ck_assert(!StgssaModelGetNetwork(model, &net));
  ck_assert(net->R == 64 && net->R >= STGSSA_SSA_TREE_MIN_R);
  for (PetscInt j = 0; j < 64; j++) param[j] = j % 2; /* k: births, g: deaths */
  ck_assert(net->react_ptr[1] - net->react_ptr[0] == 0); /* reaction 0 is a birth */
  memset(&cfg, 0, sizeof(cfg));
  memset(&tc, 0, sizeof(tc));
  cfg.net = net, cfg.seed = 5, cfg.tfinal = 2.0, cfg.max_events = 1000000, cfg.nsample = 2, cfg.sample_times = ts;
  tc.type = STGSSA_GRADIENT_SCORE, tc.P = P, tc.rxn_param = param, tc.nobs = 1, tc.obs = obs, tc.count_from = -1.0;
  ck_assert(!StgssaTangentWorkCreate(net, P, &w));
  ck_assert(!StgssaTangentWorkUseLarge(net, &w));
  ck_assert(w.large != NULL);
  ck_assert(!StgssaTangentRecordCreate(2, 1, net->R, P, &rec));
  ck_assert(!StgssaTangentRecordCreate(2, 1, net->R, 0, &rec0));
  for (PetscInt i = 0; i < N; i++) {
    ck_assert(!StgssaSSARunTangent(&cfg, &tc, (uint64_t)i, &w, &rec, &info));
    for (int s = 0; s < 2; s++) {
      const double xv = rec.x[s];
      sx[s] += xv;
      for (int p = 0; p < 2; p++) {
        sxs[s][p][0] += xv * rec.score_sample[s * P + p];
        sxs[s][p][1] += xv * xv * rec.score_sample[s * P + p] * rec.score_sample[s * P + p];
      }
    }
    for (int p = 0; p < 2; p++) ck_assert(rec.score_sample[1 * P + p] == rec.score_end[p]); /* the last sample is tfinal */
  }
  for (int s = 0; s < 2; s++) {
    const double m = k / g * (1 - exp(-g * ts[s])), d[2] = {m, k / g * (g * ts[s] * exp(-g * ts[s]) - (1 - exp(-g * ts[s])))};
    const double zm = (sx[s] / N - m) / sqrt(m / N);
    ck_assert_msg(fabs(zm) < 4, "t=%g: mean %g vs %g (z = %g)", ts[s], sx[s] / N, m, zm);
    for (int p = 0; p < 2; p++) {
      const double est = sxs[s][p][0] / N, se = sqrt((sxs[s][p][1] / N - est * est) / N), z = (est - d[p]) / se;
      ck_assert_msg(fabs(z) < 4, "t=%g p=%d: score estimate %g +- %g vs exact %g (z = %g)", ts[s], p, est, se, d[p], z);
    }
  }
  /* values only (the fd runs): rssa, with the Poisson mean */
  tc.type = STGSSA_GRADIENT_FD, tc.P = 0;
  for (PetscInt i = 0; i < N; i++) {
    ck_assert(!StgssaSSARunTangent(&cfg, &tc, (uint64_t)i, &w, &rec0, &info));
    for (int s = 0; s < 2; s++) vx[s] += rec0.x[s];
  }
  for (int s = 0; s < 2; s++) {
    const double m = k / g * (1 - exp(-g * ts[s])), zm = (vx[s] / N - m) / sqrt(m / N);
    ck_assert_msg(fabs(zm) < 4, "values t=%g: mean %g vs %g (z = %g)", ts[s], vx[s] / N, m, zm);
    ck_assert(vx[s] == sx[s]); /* the same path as the score runs (rssa, the same draws) */
  }
  ck_assert(!StgssaTangentRecordDestroy(&rec));
  ck_assert(!StgssaTangentRecordDestroy(&rec0));
  ck_assert(!StgssaTangentWorkDestroy(&w));
  ck_assert(!StgssaModelDestroy(&model));
}
END_TEST

/* The grouped score integrals (StgssaSSARunRSSAScore, score_lazy.c) against the per-reaction ones
   (StgssaSSARunRSSAScorePerReaction) on the same paths: a rule-derived receptor network as
   tests/bench/gen_network.py writes it (ligand site and 2 phosphosites: ligand, kinase and adaptor
   binding, dephosphorylation) with the other shapes a group can take: dimerization (hub
   coefficient 2), a trimolecular reaction (a general non-hub product), birth (zeroth order), a
   coefficient above 8 (groups re-summed at every change), a partner at 10^14 (W above 2^49:
   re-summed), two rate constants in one parameter (two groups), unfitted reactions. The path
   likelihood is the same sum of the same products, grouped: the integrals I_p = N_p - S_p must
   agree to 1e-12 of I_p(tfinal) at every sample time (rounding of about 10^5 events' sums), the
   samples bitwise; a second fit (other parameters) rebuilds the groups. */
START_TEST(test_large_score_grouped)
{
  static const char st[3] = {'u', 'p', 'a'};
  static char       text[16384];
  PetscInt          param[2][256], R = 0, n = 0;
  const double      ts[3] = {0.05, 0.2, 0.4};
  StgssaModel       model;
  const StgssaNetwork *net;
  StgssaSSAConfig   cfg;
  StgssaSSAWork     w;
  StgssaTrajInfo    info[2];

#define ADD(p0, p1, ...) (n += snprintf(text + n, sizeof(text) - (size_t)n, __VA_ARGS__), param[0][R] = (p0), param[1][R] = (p1), R++)
  n += snprintf(text + n, sizeof(text) - (size_t)n, "begin species\n L 5000\n K 250\n A1 500\n A2 500\n D 40\n D2 0\n E 30\n F 30\n G 0\n H 12\n H9 0\n Big 100000000000000\n");
  for (int l = 0; l < 2; l++)
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++) n += snprintf(text + n, sizeof(text) - (size_t)n, " R%d%c%c %d\n", l, st[a], st[b], l == 0 && a == 0 && b == 0 ? 1000 : 0);
  n += snprintf(text + n, sizeof(text) - (size_t)n, "end species\nbegin reactions\n");
  for (int l = 0; l < 2; l++)
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++) {
        const int   y[2] = {a, b};
        const char *A[2] = {"A1", "A2"};
        if (l == 0) {
          ADD(0, 1, " L + R0%c%c -> R1%c%c  0.1\n", st[a], st[b], st[a], st[b]);
          ADD(1, 0, " R1%c%c -> L + R0%c%c  10\n", st[a], st[b], st[a], st[b]);
        }
        for (int i = 0; i < 2; i++) {
          int z[2] = {a, b};
          if (y[i] == 0 && l == 1) {
            z[i] = 1;
            ADD(2, -1, " K + R1%c%c -> K + R1%c%c  %s\n", st[a], st[b], st[z[0]], st[z[1]], i == 0 ? "0.2" : "0.4"); /* two rate constants of one parameter */
          } else if (y[i] == 1) {
            z[i] = 0;
            ADD(3, 2, " R%d%c%c -> R%d%c%c  50\n", l, st[a], st[b], l, st[z[0]], st[z[1]]);
            z[i] = 2;
            ADD(4, 3, " %s + R%d%c%c -> R%d%c%c  0.1\n", A[i], l, st[a], st[b], l, st[z[0]], st[z[1]]);
            ADD(5, -1, " R%d%c%c -> %s + R%d%c%c  20\n", l, st[z[0]], st[z[1]], A[i], l, st[a], st[b]);
          }
        }
      }
  ADD(6, 4, " 2 D -> D2  0.05\n");
  ADD(-1, 5, " D2 -> 2 D  1\n");
  ADD(7, 6, " D + E + F -> G  0.001\n");
  ADD(8, 6, " G -> D + E + F  2\n");
  ADD(9, 7, " 0 -> D  5\n");
  ADD(8, -1, " D -> 0  0.1\n");
  ADD(10, 8, " 9 H -> H9  0.01\n");
  ADD(10, 8, " H9 -> 9 H  1\n");
  ADD(11, 9, " Big + D -> E  1e-15\n");
  ADD(11, -1, " Big + E + F -> Big + G  1e-17\n"); /* hub E, g = Big F = 3e15 */
  ADD(11, 9, " E -> Big + D  1\n");
  ADD(-1, 9, " Big + E -> Big + F  1e-16\n");
  ADD(-1, -1, " F -> E  1\n");
  n += snprintf(text + n, sizeof(text) - (size_t)n, "end reactions\n");
#undef ADD
  ck_assert(n < (PetscInt)sizeof(text) - 1 && R <= 256);
  ck_assert(!StgssaModelCreate(PETSC_COMM_SELF, &model));
  ck_assert(!StgssaModelLoadFromString(model, text, "grouped.model"));
  ck_assert(!StgssaModelGetNetwork(model, &net));
  ck_assert_int_eq(net->R, R);
  ck_assert(!StgssaSSAWorkCreate(net, &w));
  memset(&cfg, 0, sizeof(cfg));
  cfg.net = net, cfg.seed = 7, cfg.tfinal = ts[2], cfg.max_events = 100000000, cfg.nsample = 3, cfg.sample_times = ts;
  for (int f = 0; f < 2; f++) {
    const PetscInt P = f == 0 ? 12 : 10;
    for (uint64_t traj = 0; traj < 3; traj++) {
      int64_t        smp[2][3 * 64], nc[2];
      double        *nrx[2], end[2][12], ss[2][3 * 12];
      StgssaScoreAcc acc;
      ck_assert(net->S <= 64);
      ck_assert(!PetscCalloc2(R, &nrx[0], R, &nrx[1])); /* nrx: the runs add their firings */
      ck_assert(!StgssaScoreAccCreate(net, P, param[f], NULL, &acc));
      acc.S = end[0];
      ck_assert(!StgssaSSARunRSSAScore(&cfg, traj, &w, smp[0], &info[0], nrx[0], -1.0, &nc[0], &acc, ss[0]));
      acc.S = end[1];
      ck_assert(!StgssaSSARunRSSAScorePerReaction(&cfg, traj, &w, smp[1], &info[1], nrx[1], -1.0, &nc[1], &acc, ss[1]));
      ck_assert(!StgssaScoreAccDestroy(&acc));
      ck_assert(info[0].events == info[1].events && info[0].events > 20000 && nc[0] == nc[1]);
      ck_assert(!memcmp(smp[0], smp[1], sizeof(int64_t) * 3 * (size_t)net->S));
      for (PetscInt p = 0; p < P; p++) {
        double N = 0.0, In;
        for (PetscInt j = 0; j < R; j++)
          if (param[f][j] == p) N += nrx[0][j];
        In = N - end[1][p]; /* the integral to tfinal, the largest of the path */
        ck_assert_msg(In > 0.0 && fabs(end[0][p] - end[1][p]) <= 1e-12 * In, "fit %d traj %d p %d: score %.17g vs %.17g (integral %g)", f, (int)traj, (int)p, end[0][p], end[1][p], In);
        for (int k = 0; k < 3; k++) ck_assert_msg(fabs(ss[0][k * P + p] - ss[1][k * P + p]) <= 1e-12 * In, "fit %d traj %d p %d t %g: %.17g vs %.17g", f, (int)traj, (int)p, ts[k], ss[0][k * P + p], ss[1][k * P + p]);
      }
      ck_assert(!PetscFree2(nrx[0], nrx[1]));
    }
  }
  ck_assert(!StgssaSSAWorkDestroy(&w));
  ck_assert(!StgssaModelDestroy(&model));
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s  = suite_create("largessa");
  TCase   *tc = tcase_create("largessa"), *ts = tcase_create("score");
  SRunner *sr;
  int      failed;
  if (PetscInitialize(&argc, &argv, NULL, NULL)) return EXIT_FAILURE;
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_large_poisson);
  tcase_add_test(tc, test_large_telegraph);
  tcase_add_test(tc, test_large_fsp);
  tcase_add_test(tc, test_large_network);
  tcase_add_test(tc, test_large_auto);
  tcase_add_test(tc, test_large_absorbing);
  tcase_add_test(tc, test_large_per_trajectory);
  tcase_add_test(tc, test_large_refusals);
  suite_add_tcase(s, tc);
  tcase_set_timeout(ts, 300);
  tcase_add_test(ts, test_large_score);
  tcase_add_test(ts, test_large_score_grouped);
  suite_add_tcase(s, ts);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (PetscFinalize()) return EXIT_FAILURE;
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
