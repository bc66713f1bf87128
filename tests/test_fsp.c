/* SPDX-License-Identifier: BSD-2-Clause */
/*
  The finite state projection (StgssaFSP) against exact answers, on any number of ranks
  (tests/test_fsp_mpi.sh runs it on 1, 2 and 3). Set STGSSA_TEST_VERBOSE=1 to print the
  measured errors.

  Tolerances:
  - distributions against closed forms (telegraph steady state 1e-8, birth-death transient
    1e-6, max abs error): the projection's truncation error is below 1e-60 here (Poisson and
    telegraph tails far below the bounds), so what remains is the LU round-off (~1e-15) and the
    integrator's error (rtol 1e-10, atol 1e-14);
  - sensitivities against central differences of the FSP itself, rates k e^{+-h}, h = 1e-4:
    the difference quotient errs by h^2/6 |d^3 p/dtheta^3| ~ 2e-9 |p| (log-rate derivatives
    of p are O(p) for these models) plus (solver error)/h: LU round-off 1e-15/1e-4 = 1e-11,
    and for the transient the integrator's error, whose change between theta +- h is smooth
    in theta (same step pattern) and so O(1e-10) per unit theta. Compared norm-wise per
    (sample, species, parameter): max_b |fd_b - dp_b| / max_b |dp_b| < 1e-5, because entries
    near a sign change of dp_b have no meaningful entry-wise relative error; a marginal that
    does not depend on the parameter (max_b |dp_b| < 1e-8, round-off) needs |fd_b| < 1e-9;
  - moments of birth-death against closed forms: relative 1e-7 (same error budget as above);
  - conservation (bimolecular, no bound): marginals sum to 1 and lost mass 0 within 1e-12.
*/
#include <stgssa/fsp.h> /* first: declares struct _p_StgssaFSP */
#include <check.h>
#include <stgssa/stgssa.h>
#include <stgssa/output.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>
#include "stat_util.h"

static const char *birth_death_model = "begin parameters\n  k 10\n  g 1\nend parameters\n"
                                       "begin species\n  M 0\nend species\n"
                                       "begin reactions\n  0 -> M  k\n  M -> 0  g\nend reactions\n";

static const char *telegraph_model = "begin parameters\n  k_on 0.5\n  k_off 2\n  k_tx 20\n  k_deg 1\nend parameters\n"
                                     "begin species\n  G_off 1\n  G_on 0\n  M 0\nend species\n"
                                     "begin reactions\n  G_off -> G_on  k_on\n  G_on -> G_off  k_off\n"
                                     "  G_on -> G_on + M  k_tx\n  M -> 0  k_deg\nend reactions\n";

static const char *bimolecular_model = "begin parameters\n  k_f 0.1\n  k_b 1\nend parameters\n"
                                       "begin species\n  A 10\n  B 8\n  C 0\nend species\n"
                                       "begin reactions\n  A + B <-> C  k_f, k_b\nend reactions\n";

static int verbose;

/* printf on rank 0 when STGSSA_TEST_VERBOSE is set: the measured errors. */
static void say(const char *fmt, ...)
{
  PetscMPIInt rank;
  va_list     ap;
  if (!verbose || MPI_Comm_rank(PETSC_COMM_WORLD, &rank) || rank) return;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
}

/* Options as "-name", "value" pairs, NULL-terminated; set for one FSP and cleared after. */
static void set_options(const char *const opts[])
{
  for (int i = 0; opts && opts[i]; i += 2)
    ck_assert(!PetscOptionsSetValue(NULL, opts[i], opts[i + 1]));
}

static void clear_options(const char *const opts[])
{
  for (int i = 0; opts && opts[i]; i += 2)
    ck_assert(!PetscOptionsClearValue(NULL, opts[i]));
}

static StgssaModel load_model(const char *text)
{
  StgssaModel m;
  ck_assert(!StgssaModelCreate(PETSC_COMM_WORLD, &m));
  ck_assert(!StgssaModelLoadFromString(m, text, "test.model"));
  return m;
}

/* An FSP of model at times (ntimes = 0: steady state), configured from opts, not yet solved. */
static StgssaFSP make_fsp(StgssaModel m, PetscInt ntimes, const PetscReal *times, const char *const opts[])
{
  StgssaFSP f;
  ck_assert(!StgssaFSPCreate(PETSC_COMM_WORLD, &f));
  ck_assert(!StgssaFSPSetModel(f, m));
  ck_assert(!StgssaFSPSetTimes(f, ntimes, times));
  set_options(opts);
  ck_assert(!StgssaFSPSetFromOptions(f));
  clear_options(opts);
  return f;
}

static PetscInt species_index(StgssaModel m, const char *name)
{
  PetscInt s;
  ck_assert(!StgssaModelFindSpecies(m, name, &s));
  ck_assert(s >= 0);
  return s;
}

/* Every rank must hold the same value. */
static void check_same_on_all_ranks(double v, const char *what)
{
  double lo, hi;
  ck_assert(!MPI_Allreduce(&v, &lo, 1, MPI_DOUBLE, MPI_MIN, PETSC_COMM_WORLD));
  ck_assert(!MPI_Allreduce(&v, &hi, 1, MPI_DOUBLE, MPI_MAX, PETSC_COMM_WORLD));
  ck_assert_msg(lo == hi, "%s differs between ranks: %.17g vs %.17g", what, lo, hi);
}

/* Telegraph steady state: the mRNA marginal against Peccoud-Ycart, the gene against k_on/(k_on+k_off). */
START_TEST(test_telegraph_steady)
{
  const char *const opts[] = {"-stgssa_fsp_max", "M=200", "-stgssa_fsp_steady", "1", NULL};
  StgssaModel       m      = load_model(telegraph_model);
  StgssaFSP         f      = make_fsp(m, 0, NULL, opts);
  const PetscReal  *p;
  PetscInt          nb, n;
  double            exact[201], err = 0, sum = 0, lost;
  ck_assert(!StgssaFSPSolve(f));
  ck_assert(!StgssaFSPGetNumStates(f, &n));
  ck_assert_int_eq(n, 2 * 201);
  ck_assert(!StgssaFSPGetMarginal(f, 0, species_index(m, "M"), &nb, &p, NULL));
  ck_assert_int_eq(nb, 201);
  test_telegraph_pmf(0.5, 2, 20, 1, 201, exact); /* exact[0..199], exact[200] = P(M >= 200) */
  for (int b = 0; b < 201; b++) {
    err = PetscMax(err, PetscAbsReal(p[b] - exact[b]));
    sum += p[b];
  }
  say("telegraph steady state: %d states, max |p - Peccoud-Ycart| = %.3e, 1 - sum = %.1e\n", (int)n, err, 1 - sum);
  ck_assert_msg(err < 1e-8, "telegraph steady state: max abs error %g", err);
  ck_assert(!StgssaFSPGetMarginal(f, 0, species_index(m, "G_on"), &nb, &p, NULL));
  ck_assert_int_eq(nb, 2);
  ck_assert_msg(PetscAbsReal(p[1] - 0.2) < 1e-12, "P(G_on = 1) = %.17g, expected 0.2", p[1]);
  ck_assert(!StgssaFSPGetLostMass(f, 0, &lost));
  ck_assert_msg(lost >= 0 && lost < 1e-30, "telegraph boundary mass %g", lost);
  check_same_on_all_ranks(p[1], "P(G_on = 1)");
  ck_assert(!StgssaFSPDestroy(&f));
  ck_assert(f == NULL);
  ck_assert(!StgssaModelDestroy(&m));
}
END_TEST

/* Birth-death from M(0) = 0: M(t) ~ Poisson(k/g (1 - e^{-g t})). */
START_TEST(test_birth_death_transient)
{
  const char *const opts[]   = {"-stgssa_fsp_max", "M=100", NULL};
  const PetscReal   times[3] = {0.5, 1, 5};
  StgssaModel       m        = load_model(birth_death_model);
  StgssaFSP         f        = make_fsp(m, 3, times, opts);
  ck_assert(!StgssaFSPSolve(f));
  for (int i = 0; i < 3; i++) {
    const PetscReal *p;
    PetscInt         nb;
    double           exact[101], err = 0, lost;
    ck_assert(!StgssaFSPGetMarginal(f, i, 0, &nb, &p, NULL));
    ck_assert_int_eq(nb, 101);
    test_poisson_pmf(10 * (1 - exp(-times[i])), 101, exact);
    for (int b = 0; b < 101; b++)
      err = PetscMax(err, PetscAbsReal(p[b] - exact[b]));
    ck_assert(!StgssaFSPGetLostMass(f, i, &lost));
    say("birth-death t = %g: max |p - Poisson| = %.3e, lost mass %.1e\n", times[i], err, lost);
    ck_assert_msg(err < 1e-6, "t = %g: max abs error %g", times[i], err);
    ck_assert_msg(PetscAbsReal(lost) < 1e-9, "t = %g: lost mass %g", times[i], lost);
    check_same_on_all_ranks(p[10], "P(M = 10)");
  }
  ck_assert(!StgssaFSPDestroy(&f));
  ck_assert(!StgssaModelDestroy(&m));
}
END_TEST

/* Birth-death moments: mean = var = mu3 = lambda(t) = k/g (1 - e^{-gt}); d/dlog k = lambda,
   d/dlog g = -(k/g)(1 - e^{-gt}) + k t e^{-gt}; at steady state lambda = k/g, d/dlog g = -k/g. */
START_TEST(test_birth_death_moments)
{
  const char *const  opts[]   = {"-stgssa_fsp_max", "M=100", NULL};
  const PetscReal    times[4] = {0.5, 1, 5, -1}; /* -1: the steady state */
  const double       k = 10, g = 1;
  StgssaModel        m = load_model(birth_death_model);
  StgssaFSP          f = make_fsp(m, 4, times, opts);
  PetscInt           P;
  const char *const *names;
  ck_assert(!StgssaFSPSolve(f));
  ck_assert(!StgssaFSPGetFit(f, &P, &names));
  ck_assert_int_eq(P, 2);
  ck_assert_str_eq(names[0], "k");
  ck_assert_str_eq(names[1], "g");
  for (int i = 0; i < 4; i++) {
    const double t = times[i], e = t < 0 ? 0 : exp(-g * t), lam = k / g * (1 - e);
    const double dk = lam, dg = -k / g * (1 - e) + (t < 0 ? 0 : k * t * e);
    PetscReal    mo[3], dm[6], err = 0, derr = 0;
    ck_assert(!StgssaFSPGetMoments(f, i, 0, mo, dm));
    for (int j = 0; j < 3; j++) {
      err  = PetscMax(err, PetscAbsReal(mo[j] - lam) / lam);
      derr = PetscMax(derr, PetscAbsReal(dm[2 * j] - dk) / PetscAbsReal(dk));
      derr = PetscMax(derr, PetscAbsReal(dm[2 * j + 1] - dg) / PetscAbsReal(dg));
    }
    say("birth-death moments t = %g: rel err moments %.2e, derivatives %.2e\n", t, err, derr);
    ck_assert_msg(err < 1e-7, "t = %g: moments %.12g %.12g %.12g vs %.12g", t, mo[0], mo[1], mo[2], lam);
    ck_assert_msg(derr < 1e-7, "t = %g: d mean/dlog k %.12g (%.12g), d/dlog g %.12g (%.12g); d var %.12g %.12g; d mu3 %.12g %.12g", t, dm[0], dk, dm[1], dg, dm[2], dm[3], dm[4], dm[5]);
  }
  ck_assert(!StgssaFSPDestroy(&f));
  ck_assert(!StgssaModelDestroy(&m));
}
END_TEST

/* Sensitivities of every marginal against central differences of the FSP at k e^{+-h}
   (the same object re-solved after StgssaModelSetParameters). Returns the worst norm-wise error. */
static double check_fd(const char *text, const char *bounds, PetscInt ntimes, const PetscReal *times, const char *label)
{
  const char *const     opts[] = {"-stgssa_fsp_max", bounds, NULL};
  const double          h      = 1e-4;
  StgssaModel           m      = load_model(text);
  StgssaFSP             f      = make_fsp(m, ntimes, times, opts);
  const StgssaModelDef *def;
  PetscInt              P, T, nb;
  const char *const    *names;
  PetscReal            *dp0, *pp, *pm;
  PetscInt              total = 0, *off;
  double                worst = 0;

  ck_assert(!StgssaModelGetDef(m, &def));
  ck_assert(!StgssaFSPSolve(f));
  ck_assert(!StgssaFSPGetFit(f, &P, &names));
  ck_assert(!StgssaFSPGetTimes(f, &T, NULL));
  /* flatten (sample, species, bin) */
  ck_assert(!PetscMalloc1(T * def->nspecies + 1, &off));
  for (PetscInt i = 0; i < T; i++)
    for (int s = 0; s < def->nspecies; s++) {
      off[i * def->nspecies + s] = total;
      ck_assert(!StgssaFSPGetMarginal(f, i, s, &nb, NULL, NULL));
      total += nb;
    }
  off[T * def->nspecies] = total;
  ck_assert(!PetscMalloc3(total * P, &dp0, total, &pp, total, &pm));
  for (PetscInt i = 0; i < T; i++)
    for (int s = 0; s < def->nspecies; s++) {
      const PetscReal *dp;
      ck_assert(!StgssaFSPGetMarginal(f, i, s, &nb, NULL, &dp));
      ck_assert(!PetscArraycpy(&dp0[off[i * def->nspecies + s] * P], dp, nb * P));
    }
  for (PetscInt q = 0; q < P; q++) {
    const int    idx = StgssaModelDefFindParam(def, names[q]);
    const double k0  = def->params[idx].value;
    for (int sign = -1; sign <= 1; sign += 2) {
      char assign[256];
      snprintf(assign, sizeof assign, "%s=%.17g", names[q], k0 * exp(sign * h));
      ck_assert(!StgssaModelSetParameters(m, assign, "test"));
      ck_assert(!StgssaFSPSolve(f));
      for (PetscInt i = 0; i < T; i++)
        for (int s = 0; s < def->nspecies; s++) {
          const PetscReal *p;
          ck_assert(!StgssaFSPGetMarginal(f, i, s, &nb, &p, NULL));
          ck_assert(!PetscArraycpy(&(sign > 0 ? pp : pm)[off[i * def->nspecies + s]], p, nb));
        }
    }
    {
      char assign[256];
      snprintf(assign, sizeof assign, "%s=%.17g", names[q], k0);
      ck_assert(!StgssaModelSetParameters(m, assign, "test"));
    }
    for (PetscInt c = 0; c < T * def->nspecies; c++) {
      double dmax = 0, emax = 0, rel;
      for (PetscInt b = off[c]; b < off[c + 1]; b++) {
        const double fd = (pp[b] - pm[b]) / (2 * h), an = dp0[b * P + q];
        dmax = PetscMax(dmax, PetscAbsReal(an));
        emax = PetscMax(emax, PetscAbsReal(fd - an));
      }
      if (dmax < 1e-8) { /* no dependence (e.g. the gene on k_tx: dp is round-off): the quotient must vanish too */
        ck_assert_msg(emax < 1e-9, "%s: sample %d species %d: d/dlog %s = 0 but the difference quotient is %g", label, (int)(c / def->nspecies), (int)(c % def->nspecies), names[q], emax);
        continue;
      }
      rel   = emax / dmax;
      worst = PetscMax(worst, rel);
      ck_assert_msg(rel < 1e-5, "%s: sample %d species %s: d/dlog %s norm-wise relative error %g (max |dp| %g)", label, (int)(c / def->nspecies), def->species[c % def->nspecies].name, names[q], rel, dmax);
    }
  }
  say("%s: sensitivities vs central differences (h = 1e-4), worst norm-wise relative error %.2e\n", label, worst);
  ck_assert(!PetscFree3(dp0, pp, pm));
  ck_assert(!PetscFree(off));
  ck_assert(!StgssaFSPDestroy(&f));
  ck_assert(!StgssaModelDestroy(&m));
  return worst;
}

START_TEST(test_sensitivity_fd)
{
  const PetscReal tt[2] = {0.5, 2}, tb[2] = {0.5, 5};
  check_fd(telegraph_model, "M=200", 0, NULL, "telegraph steady state");
  check_fd(telegraph_model, "M=200", 2, tt, "telegraph transient");
  check_fd(birth_death_model, "M=100", 0, NULL, "birth-death steady state");
  check_fd(birth_death_model, "M=100", 2, tb, "birth-death transient");
}
END_TEST

/* The error message of a solve that must fail. */
static PetscErrorCode solve_error(StgssaFSP f, char msg[], size_t n)
{
  PetscErrorCode ierr;
  char          *specific = NULL;
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = StgssaFSPSolve(f);
  ck_assert(!PetscPopErrorHandler());
  msg[0] = 0;
  if (ierr) {
    ck_assert(!PetscErrorMessage(ierr, NULL, &specific));
    snprintf(msg, n, "%s", specific ? specific : "");
  }
  return ierr;
}

/* Bound 8 on a Poisson(10) count: transient and steady state fail, naming the lost mass and the bound. */
START_TEST(test_truncation_error)
{
  const char *const opts[] = {"-stgssa_fsp_max", "M=8", NULL};
  const PetscReal   t5     = 5;
  StgssaModel       m      = load_model(birth_death_model);
  StgssaFSP         f      = make_fsp(m, 1, &t5, opts);
  char              msg[4096];
  PetscReal         lost;
  ck_assert_msg(solve_error(f, msg, sizeof msg) == PETSC_ERR_NOT_CONVERGED, "expected a truncation error, got '%s'", msg);
  ck_assert(!StgssaFSPGetLostMass(f, 0, &lost)); /* results are kept */
  say("bound 8, t = 5: lost mass %.4f; message: %s\n", lost, msg);
  ck_assert_msg(lost > 0.1 && lost < 1, "lost mass %g", lost);
  ck_assert_msg(strstr(msg, "lost mass") && strstr(msg, "-stgssa_fsp_max M=") && strstr(msg, "now 8") && strstr(msg, "t = 5"), "message: %s", msg);
  {
    char num[64];
    snprintf(num, sizeof num, "%.3g", lost);
    ck_assert_msg(strstr(msg, num), "message should state the lost mass %s: %s", num, msg);
  }
  ck_assert(!StgssaFSPDestroy(&f));
  f = make_fsp(m, 0, NULL, opts); /* steady state: mass on the boundary M = 8 */
  ck_assert(solve_error(f, msg, sizeof msg) == PETSC_ERR_NOT_CONVERGED);
  ck_assert(!StgssaFSPGetLostMass(f, 0, &lost));
  say("bound 8, steady state: boundary mass %.4f; message: %s\n", lost, msg);
  ck_assert_msg(strstr(msg, "steady state") && strstr(msg, "-stgssa_fsp_max M="), "message: %s", msg);
  ck_assert(!StgssaFSPDestroy(&f));
  /* no bound on a species that grows without limit: the state cap names it */
  {
    const char *const opts2[] = {"-stgssa_fsp_max_states", "500", NULL};
    f                         = make_fsp(m, 1, &t5, opts2);
    ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ck_assert(StgssaFSPSetUp(f) == PETSC_ERR_ARG_OUTOFRANGE);
    ck_assert(!PetscPopErrorHandler());
    ck_assert(!StgssaFSPDestroy(&f));
  }
  /* unknown species and a bound below x0 */
  {
    const char *const bad[] = {"-stgssa_fsp_max", "X=5", NULL};
    f                       = make_fsp(m, 1, &t5, bad);
    ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ck_assert(StgssaFSPSetUp(f) == PETSC_ERR_ARG_WRONG);
    ck_assert(!PetscPopErrorHandler());
    ck_assert(!StgssaFSPDestroy(&f));
  }
  ck_assert(!StgssaModelDestroy(&m));
}
END_TEST

/* A + B <-> C from (10, 8, 0): conserved, no bound needed; nothing is lost. The steady state
   obeys detailed balance pi(c+1)/pi(c) = k_f (10-c)(8-c) / (k_b (c+1)). */
START_TEST(test_bimolecular)
{
  const PetscReal times[3] = {0.5, 2, -1};
  StgssaModel     m        = load_model(bimolecular_model);
  StgssaFSP       f        = make_fsp(m, 3, times, NULL);
  PetscInt        n;
  double          db = 0;
  ck_assert(!StgssaFSPSolve(f));
  ck_assert(!StgssaFSPGetNumStates(f, &n));
  ck_assert_int_eq(n, 9);
  for (int i = 0; i < 3; i++) {
    PetscReal lost;
    double    worst = 0;
    ck_assert(!StgssaFSPGetLostMass(f, i, &lost));
    ck_assert_msg(PetscAbsReal(lost) < 1e-12, "sample %d: lost mass %g", i, lost);
    for (int s = 0; s < 3; s++) {
      const PetscReal *p, *dp;
      PetscInt         nb;
      double           sum = 0, dsum[2] = {0, 0};
      ck_assert(!StgssaFSPGetMarginal(f, i, s, &nb, &p, &dp));
      ck_assert_int_eq(nb, s == 0 ? 11 : s == 1 ? 9 : 9);
      for (int b = 0; b < nb; b++) {
        sum += p[b];
        dsum[0] += dp[2 * b];
        dsum[1] += dp[2 * b + 1];
      }
      worst = PetscMax(worst, PetscAbsReal(sum - 1));
      ck_assert_msg(PetscAbsReal(sum - 1) < 1e-12, "sample %d species %d: sum %.17g", i, s, sum);
      ck_assert_msg(PetscAbsReal(dsum[0]) < 1e-12 && PetscAbsReal(dsum[1]) < 1e-12, "sample %d species %d: sensitivities sum to %g, %g", i, s, dsum[0], dsum[1]);
    }
    say("bimolecular sample %d: lost mass %.1e, max |sum - 1| = %.1e\n", i, lost, worst);
  }
  {
    const PetscReal *p;
    PetscInt         nb;
    ck_assert(!StgssaFSPGetMarginal(f, 2, 2, &nb, &p, NULL));
    for (int c = 0; c < 8; c++)
      db = PetscMax(db, PetscAbsReal(p[c + 1] * (c + 1) - 0.1 * (10 - c) * (8 - c) * p[c]));
    say("bimolecular steady state: detailed balance residual %.1e\n", db);
    ck_assert_msg(db < 1e-13, "detailed balance residual %g", db);
  }
  ck_assert(!StgssaFSPDestroy(&f));
  ck_assert(!StgssaModelDestroy(&m));
}
END_TEST

/* A -> B from A = 5: A(t) ~ Binomial(5, e^{-kt}); the steady state is the absorbing state A = 0
   (a zero diagonal in the steady-state matrix: needs a pivoting LU). A -> B, A -> C from A = 1
   has two absorbing states: no unique steady state, a clear error. */
START_TEST(test_absorbing)
{
  const PetscReal  times[2] = {1, -1};
  StgssaModel      m        = load_model("begin parameters\n  k 1\nend parameters\nbegin species\n  A 5\n  B 0\nend species\n"
                                                     "begin reactions\n  A -> B  k\nend reactions\n");
  StgssaFSP        f        = make_fsp(m, 2, times, NULL);
  const PetscReal *p;
  PetscInt         nb;
  double           err = 0, q = exp(-1.0);
  char             msg[4096];
  ck_assert(!StgssaFSPSolve(f));
  ck_assert(!StgssaFSPGetMarginal(f, 0, 0, &nb, &p, NULL));
  ck_assert_int_eq(nb, 6);
  for (int a = 0; a <= 5; a++) {
    const double binom[6] = {1, 5, 10, 10, 5, 1};
    err                   = PetscMax(err, PetscAbsReal(p[a] - binom[a] * pow(q, a) * pow(1 - q, 5 - a)));
  }
  ck_assert(!StgssaFSPGetMarginal(f, 1, 0, &nb, &p, NULL));
  say("absorbing: transient max |p - Binomial| = %.2e, steady P(A = 0) - 1 = %.1e\n", err, p[0] - 1);
  ck_assert_msg(err < 1e-8, "A -> B at t = 1: max abs error %g", err);
  ck_assert_msg(PetscAbsReal(p[0] - 1) < 1e-12, "A -> B steady state: P(A = 0) = %.17g", p[0]);
  ck_assert(!StgssaFSPDestroy(&f));
  ck_assert(!StgssaModelDestroy(&m));
  m = load_model("begin parameters\n  k1 1\n  k2 2\nend parameters\nbegin species\n  A 1\n  B 0\n  C 0\nend species\n"
                 "begin reactions\n  A -> B  k1\n  A -> C  k2\nend reactions\n");
  f = make_fsp(m, 0, NULL, NULL);
  ck_assert(solve_error(f, msg, sizeof msg) == PETSC_ERR_NOT_CONVERGED);
  ck_assert_msg(strstr(msg, "steady state") && strstr(msg, "not be unique"), "message: %s", msg);
  ck_assert(!StgssaFSPDestroy(&f));
  ck_assert(!StgssaModelDestroy(&m));
}
END_TEST

/* View and HDF5 output: /fsp/times, distribution/M, sensitivity/M, lost_mass, fit_names. */
static PetscErrorCode write_fsp(hid_t file, void *ctx)
{
  return StgssaFSPWriteHDF5((StgssaFSP)ctx, file);
}

START_TEST(test_output)
{
  const char *const opts[]   = {"-stgssa_fsp_max", "M=100", "-stgssa_fsp_full", "1", NULL};
  const PetscReal   times[2] = {0, 1};
  StgssaModel       m        = load_model(birth_death_model);
  StgssaFSP         f        = make_fsp(m, 2, times, opts);
  char              path[PETSC_MAX_PATH_LEN];
  long              pid = (long)getpid();
  PetscViewer       v;
  ck_assert(!StgssaFSPSolve(f));
  ck_assert(!PetscViewerASCIIOpen(PETSC_COMM_WORLD, verbose ? "stdout" : "/dev/null", &v));
  ck_assert(!StgssaFSPView(f, v));
  ck_assert(!PetscViewerDestroy(&v));
  {
    PetscInt         n;
    const int64_t   *x;
    const PetscReal *p, *dp;
    ck_assert(!StgssaFSPGetFull(f, 0, &n, &x, &p, &dp));
    ck_assert_int_eq(n, 101);
    ck_assert(x[0] == 0 && p[0] == 1 && dp[0] == 0); /* t = 0: the point mass at x0 */
  }
  ck_assert(!MPI_Bcast(&pid, 1, MPI_LONG, 0, PETSC_COMM_WORLD));
  snprintf(path, sizeof path, "%s/test_fsp_%ld.h5", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", pid);
  ck_assert(!StgssaOutputWrite(PETSC_COMM_WORLD, path, write_fsp, f));
  {
    PetscMPIInt rank;
    ck_assert(!MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
    if (!rank) {
      hid_t            file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d, sp, a;
      hsize_t          dims[3];
      double           dist[2 * 101], lost[2], sens[2 * 101 * 2];
      const PetscReal *p, *dp;
      PetscInt         nb;
      ck_assert(file >= 0);
      ck_assert((d = H5Dopen2(file, "fsp/distribution/M", H5P_DEFAULT)) >= 0);
      ck_assert((sp = H5Dget_space(d)) >= 0);
      ck_assert(H5Sget_simple_extent_dims(sp, dims, NULL) == 2 && dims[0] == 2 && dims[1] == 101);
      ck_assert(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, dist) >= 0);
      H5Sclose(sp);
      H5Dclose(d);
      ck_assert((d = H5Dopen2(file, "fsp/sensitivity/M", H5P_DEFAULT)) >= 0);
      ck_assert((sp = H5Dget_space(d)) >= 0);
      ck_assert(H5Sget_simple_extent_dims(sp, dims, NULL) == 3 && dims[0] == 2 && dims[1] == 101 && dims[2] == 2);
      ck_assert(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, sens) >= 0);
      H5Sclose(sp);
      H5Dclose(d);
      ck_assert(!StgssaFSPGetMarginal(f, 1, 0, &nb, &p, &dp));
      for (int b = 0; b < 101; b++)
        ck_assert(dist[101 + b] == p[b] && sens[2 * 101 + 2 * b + 1] == dp[2 * b + 1]);
      ck_assert((a = H5Aopen_by_name(file, "fsp", "lost_mass", H5P_DEFAULT, H5P_DEFAULT)) >= 0);
      ck_assert(H5Aread(a, H5T_NATIVE_DOUBLE, lost) >= 0);
      H5Aclose(a);
      ck_assert(lost[0] == 0 && PetscAbsReal(lost[1]) < 1e-9);
      ck_assert(H5Aexists_by_name(file, "fsp", "fit_names", H5P_DEFAULT) > 0);
      ck_assert(H5Lexists(file, "fsp/full/probability", H5P_DEFAULT) > 0);
      H5Fclose(file);
      unlink(path);
    }
  }
  ck_assert(!StgssaFSPDestroy(&f));
  ck_assert(!StgssaModelDestroy(&m));
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s  = suite_create("fsp");
  TCase   *tc = tcase_create("fsp");
  SRunner *sr;
  int      failed;

  if (PetscInitialize(&argc, &argv, NULL, NULL)) return EXIT_FAILURE;
  verbose = getenv("STGSSA_TEST_VERBOSE") && atoi(getenv("STGSSA_TEST_VERBOSE"));
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_telegraph_steady);
  tcase_add_test(tc, test_birth_death_transient);
  tcase_add_test(tc, test_birth_death_moments);
  tcase_add_test(tc, test_sensitivity_fd);
  tcase_add_test(tc, test_truncation_error);
  tcase_add_test(tc, test_bimolecular);
  tcase_add_test(tc, test_absorbing);
  tcase_add_test(tc, test_output);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK); /* MPI must not be used across fork() */
  srunner_run_all(sr, CK_ENV);            /* CK_VERBOSITY: the suite sets normal, so the Checks line shows */
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (PetscFinalize()) return EXIT_FAILURE;
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
