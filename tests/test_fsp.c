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
#include <stgssa/expr.h>
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
static double check_fd_model(StgssaModel m, const char *bounds, PetscInt ntimes, const PetscReal *times, const char *label)
{
  const char *const     opts[] = {"-stgssa_fsp_max", bounds, NULL};
  const double          h      = 1e-4;
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

static double check_fd(const char *text, const char *bounds, PetscInt ntimes, const PetscReal *times, const char *label)
{
  return check_fd_model(load_model(text), bounds, ntimes, times, label);
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
  /* no bound on a species that grows without limit and no automatic bounds: the state cap names it */
  {
    const char *const opts2[] = {"-stgssa_fsp_max_states", "500", "-stgssa_fsp_grow", "0", NULL};
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

/* Automatic bounds (no -stgssa_fsp_max): the telegraph model's transient and steady state equal
   the solve with the generous explicit bound M = 200 to 1e-8 (both truncations are below 1e-6 in
   mass; the automatic projection is smaller, so the difference is its truncation, ~1e-7 at most
   in total and far less per bin, plus the integrator's error, rtol 1e-10); extra bins of the
   explicit solve hold < 1e-8. Then growth after a leak: birth-death with k raised from 10 to
   60 leaks out of the first automatic bound (x0 + 32 = 32), which grows until the lost mass is
   below the tolerance; the result equals the explicit bound M = 200 to 1e-8. */
static double compare_marginals(StgssaFSP a, StgssaFSP b, PetscInt T, PetscInt S, PetscInt P)
{
  double worst = 0;
  for (PetscInt i = 0; i < T; i++)
    for (PetscInt s = 0; s < S; s++) {
      const PetscReal *pa, *pb, *da, *db;
      PetscInt         na, nb;
      ck_assert(!StgssaFSPGetMarginal(a, i, s, &na, &pa, &da));
      ck_assert(!StgssaFSPGetMarginal(b, i, s, &nb, &pb, &db));
      for (PetscInt x = 0; x < PetscMax(na, nb); x++) {
        const double va = x < na ? pa[x] : 0, vb = x < nb ? pb[x] : 0;
        worst = PetscMax(worst, PetscAbsReal(va - vb));
        for (PetscInt q = 0; q < P; q++) worst = PetscMax(worst, PetscAbsReal((x < na ? da[x * P + q] : 0) - (x < nb ? db[x * P + q] : 0)));
      }
    }
  return worst;
}

START_TEST(test_auto_bounds)
{
  const char *const gen[]    = {"-stgssa_fsp_max", "M=200", NULL};
  const PetscReal   times[3] = {0.5, 2, -1};
  StgssaModel       m        = load_model(telegraph_model);
  StgssaFSP         fa       = make_fsp(m, 3, times, NULL), fe = make_fsp(m, 3, times, gen);
  PetscInt          na, ne;
  double            err;
  StgssaFSPFailure  failed;
  ck_assert(!StgssaFSPSolve(fa));
  ck_assert(!StgssaFSPSolve(fe));
  ck_assert(!StgssaFSPGetFailed(fa, &failed, NULL));
  ck_assert(failed == STGSSA_FSP_OK);
  ck_assert(!StgssaFSPGetNumStates(fa, &na));
  ck_assert(!StgssaFSPGetNumStates(fe, &ne));
  err = compare_marginals(fa, fe, 3, 3, 4);
  say("telegraph, automatic bounds (%d states) vs M <= 200 (%d states): max difference of p and dp %.2e\n", (int)na, (int)ne, err);
  ck_assert_msg(na < ne, "automatic projection %d states, explicit %d", (int)na, (int)ne);
  ck_assert_msg(err < 1e-8, "automatic vs explicit bounds: %g", err);
  check_same_on_all_ranks(err, "automatic vs explicit");
  ck_assert(!StgssaFSPDestroy(&fa));
  ck_assert(!StgssaFSPDestroy(&fe));
  ck_assert(!StgssaModelDestroy(&m));
  { /* growth after a leak */
    const PetscReal t5 = 5;
    PetscInt        n0, n1;
    m  = load_model(birth_death_model);
    fa = make_fsp(m, 1, &t5, NULL);
    ck_assert(!StgssaFSPSolve(fa));
    ck_assert(!StgssaFSPGetNumStates(fa, &n0));
    ck_assert_int_eq(n0, 33); /* 0..32: Poisson(10) fits */
    ck_assert(!StgssaModelSetParameters(m, "k=60", "test"));
    ck_assert(!StgssaFSPSolve(fa));
    ck_assert(!StgssaFSPGetNumStates(fa, &n1));
    fe = make_fsp(m, 1, &t5, gen);
    ck_assert(!StgssaFSPSolve(fe));
    err = compare_marginals(fa, fe, 1, 1, 2);
    say("birth-death k = 60: automatic bound grew from 32 to %d; max difference to M <= 200: %.2e\n", (int)n1 - 1, err);
    ck_assert_msg(n1 > 65, "bound did not grow enough: %d states", (int)n1);
    ck_assert_msg(err < 1e-8, "grown vs explicit bounds: %g", err);
    ck_assert(!StgssaFSPDestroy(&fa));
    ck_assert(!StgssaFSPDestroy(&fe));
    ck_assert(!StgssaModelDestroy(&m));
  }
}
END_TEST

/* Soft failure (StgssaFSPSetSoftFailure): a trial point that needs more than
   -stgssa_fsp_max_states 70 states (birth-death, k = 60: Poisson(~60) needs M up to ~110) returns
   0 with STGSSA_FSP_FAILED_SIZE; the object then solves k = 10 again (on the last projection that
   fitted, 66 states). A leak through a given bound (M = 8) gives STGSSA_FSP_FAILED_LEAK. Without
   soft failure the same point raises an error. */
START_TEST(test_soft_failure)
{
  const char *const opts[] = {"-stgssa_fsp_max_states", "70", NULL};
  const char *const bnd[]  = {"-stgssa_fsp_max", "M=8", NULL};
  const PetscReal   t5     = 5;
  StgssaModel       m      = load_model(birth_death_model);
  StgssaFSP         f      = make_fsp(m, 1, &t5, opts);
  StgssaFSPFailure  failed;
  const char       *why;
  PetscInt          n;
  PetscBool         fits;
  char              msg[4096];
  ck_assert(!StgssaFSPEstimateSize(f, &n, &fits));
  ck_assert(fits && n == 33);
  ck_assert(!StgssaFSPSetSoftFailure(f, PETSC_TRUE));
  ck_assert(!StgssaModelSetParameters(m, "k=60", "test"));
  ck_assert(!StgssaFSPSolve(f));
  ck_assert(!StgssaFSPGetFailed(f, &failed, &why));
  say("soft failure: %s\n", why);
  ck_assert_msg(failed == STGSSA_FSP_FAILED_SIZE && strstr(why, "-stgssa_fsp_max_states"), "failed %d: %s", (int)failed, why);
  ck_assert(!StgssaFSPEstimateSize(f, &n, &fits));
  ck_assert(!fits);
  ck_assert(!StgssaModelSetParameters(m, "k=10", "test"));
  ck_assert(!StgssaFSPSolve(f));
  ck_assert(!StgssaFSPGetFailed(f, &failed, NULL));
  ck_assert(failed == STGSSA_FSP_OK);
  ck_assert(!StgssaFSPGetNumStates(f, &n));
  ck_assert_int_eq(n, 66);
  ck_assert(!StgssaModelSetParameters(m, "k=60", "test"));
  ck_assert(!StgssaFSPSetSoftFailure(f, PETSC_FALSE));
  ck_assert(solve_error(f, msg, sizeof msg) == PETSC_ERR_NOT_CONVERGED);
  ck_assert(!StgssaFSPDestroy(&f));
  ck_assert(!StgssaModelSetParameters(m, "k=10", "test"));
  f = make_fsp(m, 1, &t5, bnd);
  ck_assert(!StgssaFSPSetSoftFailure(f, PETSC_TRUE));
  ck_assert(!StgssaFSPSolve(f));
  ck_assert(!StgssaFSPGetFailed(f, &failed, &why));
  ck_assert_msg(failed == STGSSA_FSP_FAILED_LEAK && strstr(why, "-stgssa_fsp_max M="), "failed %d: %s", (int)failed, why);
  ck_assert(!StgssaFSPDestroy(&f));
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

/* ---------------------------------------------------------------------------------------------- */
/* Rate laws and inputs (issue 7). Until the native parser reads laws (branch parser-laws), the
   models are a mass-action text whose reaction j then gets a law compiled here (test-only
   stand-in), and inputs filled in programmatically; StgssaModelSetDef compiles the network. */

static StgssaExprVarKind resolve_name(void *ctx, const char *name, size_t len, int *index)
{
  const StgssaModelDef *d = ctx;
  char                  buf[STGSSA_NAME_MAX + 1];
  if (len > STGSSA_NAME_MAX) return STGSSA_EXPR_UNKNOWN;
  memcpy(buf, name, len);
  buf[len] = 0;
  if (!strcmp(buf, "t")) return STGSSA_EXPR_TIME;
  if ((*index = StgssaModelDefFindSpecies(d, buf)) >= 0) return STGSSA_EXPR_SPECIES;
  if ((*index = StgssaModelDefFindParam(d, buf)) >= 0) return STGSSA_EXPR_PARAM;
  if ((*index = StgssaModelDefFindInput(d, buf)) >= 0) return STGSSA_EXPR_INPUT;
  return STGSSA_EXPR_UNKNOWN;
}

static StgssaExpr *compile(StgssaModelDef *d, const char *text)
{
  StgssaExpr *e = NULL;
  char        err[512];
  ck_assert_msg(StgssaExprCompile(text, strlen(text), "test.model", 0, 1, resolve_name, d, &e, err, sizeof err) == STGSSA_PARSE_OK, "%s", err);
  return e;
}

static StgssaModelDef *parse_def(const char *text)
{
  StgssaModelDef *d = NULL;
  char            err[512];
  ck_assert_msg(StgssaModelDefParse(text, strlen(text), "test.model", &d, err, sizeof err) == STGSSA_PARSE_OK, "%s", err);
  return d;
}

/* Reaction j (0-based) gets the rate law `law` (full: the whole propensity). */
static void set_law(StgssaModelDef *d, int j, const char *law, int full)
{
  d->reactions[j].law      = compile(d, law);
  d->reactions[j].law_full = full;
  d->reactions[j].factor   = 1;
  d->reactions[j].param    = -1;
}

static StgssaInputDef *add_input(StgssaModelDef *d, const char *name)
{
  StgssaInputDef *in;
  d->inputs = realloc(d->inputs, (size_t)(d->ninputs + 1) * sizeof(*d->inputs));
  ck_assert(d->inputs);
  in = &d->inputs[d->ninputs++];
  memset(in, 0, sizeof(*in));
  in->name = strdup(name);
  return in;
}

static void add_expr_input(StgssaModelDef *d, const char *name, const char *expr)
{
  StgssaExpr *e = compile(d, expr); /* before the input exists: it may not use itself */
  StgssaInputDef *in = add_input(d, name);
  in->kind           = STGSSA_INPUT_EXPR;
  in->expr           = e;
}

/* Piecewise-constant table: level i from times[i]; vparam[i] >= 0: the level is that parameter. */
static void add_table_input(StgssaModelDef *d, const char *name, int n, const double *times, const double *values, const char *const *params)
{
  StgssaInputDef *in = add_input(d, name);
  in->kind           = STGSSA_INPUT_TABLE;
  in->npieces        = n;
  in->times          = malloc((size_t)n * sizeof(double));
  in->values         = malloc((size_t)n * sizeof(double));
  in->vparam         = malloc((size_t)n * sizeof(int));
  for (int i = 0; i < n; i++) {
    in->times[i]  = times[i];
    in->values[i] = values[i];
    in->vparam[i] = params[i] ? StgssaModelDefFindParam(d, params[i]) : -1;
    ck_assert(!params[i] || in->vparam[i] >= 0);
  }
}

static StgssaModel model_from_def(StgssaModelDef *d)
{
  StgssaModel m;
  ck_assert(!StgssaModelCreate(PETSC_COMM_WORLD, &m));
  ck_assert(!StgssaModelSetDef(m, &d));
  ck_assert(d == NULL);
  return m;
}

/* Birth k_b, Michaelis-Menten degradation vmax M/(Km + M) (a full law). */
static const char *mm_text = "begin parameters\n  kb 10\n  vmax 20\n  Km 5\nend parameters\nbegin species\n  M 0\nend species\n"
                             "begin reactions\n  0 -> M  kb\n  M -> 0  vmax\nend reactions\n";

static StgssaModel mm_model(void)
{
  StgssaModelDef *d = parse_def(mm_text);
  set_law(d, 1, "vmax*M/(Km+M)", 1);
  return model_from_def(d);
}

/* Largest |a_b - e_b| / max_b |e_b| over bins (norm-wise relative error; see the header). */
static double normwise(int n, const double *a, int sa, const double *e, int se)
{
  double emax = 0, dmax = 0;
  for (int b = 0; b < n; b++) {
    emax = PetscMax(emax, PetscAbsReal(e[b * se]));
    dmax = PetscMax(dmax, PetscAbsReal(a[b * sa] - e[b * se]));
  }
  return dmax / emax;
}

/* One-dimensional birth-death chain: pi(n) proportional to prod_{i=1..n} kb / (vmax i/(Km + i)).
   Log-derivatives in closed form: d log pi(n)/d log kb = n - E n, d/d log vmax = -(n - E n),
   d/d log Km = c(n) - E c with c(n) = sum_{i<=n} Km/(Km + i). */
START_TEST(test_law_michaelis_menten)
{
  const char *const  opts[] = {"-stgssa_fsp_max", "M=150", NULL};
  const double       kb = 10, vmax = 20, Km = 5;
  StgssaModel        m = mm_model();
  StgssaFSP          f = make_fsp(m, 0, NULL, opts);
  const PetscReal   *p, *dp;
  const char *const *names;
  PetscInt           nb, P;
  double             pi[151], c[151], dex[151 * 3], Z = 0, En = 0, Ec = 0, err = 0, derr[3];
  ck_assert(!StgssaFSPSolve(f));
  ck_assert(!StgssaFSPGetFit(f, &P, &names));
  ck_assert_int_eq(P, 3);
  ck_assert(!StgssaFSPGetMarginal(f, 0, 0, &nb, &p, &dp));
  ck_assert_int_eq(nb, 151);
  pi[0] = 1;
  c[0]  = 0;
  for (int n = 1; n <= 150; n++) {
    pi[n] = pi[n - 1] * kb / (vmax * n / (Km + n));
    c[n]  = c[n - 1] + Km / (Km + n);
  }
  for (int n = 0; n <= 150; n++) Z += pi[n];
  for (int n = 0; n <= 150; n++) {
    pi[n] /= Z;
    En += n * pi[n];
    Ec += c[n] * pi[n];
  }
  for (int n = 0; n <= 150; n++) {
    err              = PetscMax(err, PetscAbsReal(p[n] - pi[n]));
    dex[n * 3 + 0] = pi[n] * (n - En);
    dex[n * 3 + 1] = -pi[n] * (n - En);
    dex[n * 3 + 2] = pi[n] * (c[n] - Ec);
  }
  for (int q = 0; q < 3; q++) derr[q] = normwise(151, &dp[q], 3, &dex[q], 3);
  say("Michaelis-Menten steady state: max |p - closed form| = %.3e; sensitivities norm-wise vs closed form: kb %.2e, vmax %.2e, Km %.2e\n", err, derr[0], derr[1], derr[2]);
  ck_assert_msg(err < 1e-8, "Michaelis-Menten steady state: max abs error %g", err);
  for (int q = 0; q < 3; q++) ck_assert_msg(derr[q] < 1e-7, "Michaelis-Menten d/dlog %s: norm-wise error %g", names[q], derr[q]);
  ck_assert(!StgssaFSPDestroy(&f));
  ck_assert(!StgssaModelDestroy(&m));
  {
    const PetscReal tt[2] = {0.5, 2};
    check_fd_model(mm_model(), "M=150", 0, NULL, "Michaelis-Menten steady state");
    check_fd_model(mm_model(), "M=150", 2, tt, "Michaelis-Menten transient");
  }
}
END_TEST

/* Poisson check of a pure-birth count M(t) ~ Poisson(lam) with d lam / d theta_q = dlam[q]:
   dP(n)/dtheta = P(n) (n/lam - 1) dlam. Returns the value error, *derr the worst norm-wise
   sensitivity error over the parameters listed in qs (nq of them, fitted index and dlam index). */
static double check_poisson(StgssaFSP f, PetscInt itime, PetscInt P, double lam, const double *dlam, double *derr)
{
  const PetscReal *p, *dp;
  PetscInt         nb;
  double           exact[512], *dex, err = 0;
  ck_assert(!StgssaFSPGetMarginal(f, itime, 0, &nb, &p, &dp));
  ck_assert(nb <= 512);
  test_poisson_pmf(lam, (int)nb + 1, exact); /* exact[0..nb-1]: pmf; the bin past the bound is the tail */
  ck_assert(!PetscMalloc1(nb * P, &dex));
  for (PetscInt b = 0; b < nb; b++) {
    err = PetscMax(err, PetscAbsReal(p[b] - exact[b]));
    for (PetscInt q = 0; q < P; q++) dex[b * P + q] = exact[b] * (b / lam - 1) * dlam[q];
  }
  *derr = 0;
  for (PetscInt q = 0; q < P; q++)
    if (dlam[q] != 0) *derr = PetscMax(*derr, normwise((int)nb, &dp[q], (int)P, &dex[q], (int)P));
    else
      for (PetscInt b = 0; b < nb; b++) *derr = PetscMax(*derr, PetscAbsReal(dp[b * P + q]));
  ck_assert(!PetscFree(dex));
  return err;
}

/* 0 -> M  k*u(t),  u = a0 + a1 e^{-r1 t}(1 - e^{-r2 t}) (an expression input; a rate-constant law):
   M(t) ~ Poisson(Lambda), Lambda = k [a0 t + a1 (G(r1) - G(r1 + r2))], G(R) = (1 - e^{-R t})/R. */
static double G_(double R, double t) { return (1 - exp(-R * t)) / R; }
static double dG_(double R, double t) { return (R * t * exp(-R * t) - (1 - exp(-R * t))) / (R * R); }

START_TEST(test_law_input_expression)
{
  const char *const opts[]   = {"-stgssa_fsp_max", "M=100", NULL};
  const PetscReal   times[3] = {0.5, 1, 3};
  const double      k = 5, a0 = 1, a1 = 4, r1 = 1, r2 = 3;
  StgssaModelDef   *d = parse_def("begin parameters\n  k 5\n  a0 1\n  a1 4\n  r1 1\n  r2 3\nend parameters\nbegin species\n  M 0\nend species\n"
                                    "begin reactions\n  0 -> M  k\nend reactions\n");
  StgssaModel       m;
  StgssaFSP         f;
  PetscInt          P;
  add_expr_input(d, "u", "a0 + a1*exp(-r1*t)*(1-exp(-r2*t))");
  set_law(d, 0, "k*u", 0);
  m = model_from_def(d);
  f = make_fsp(m, 3, times, opts);
  ck_assert(!StgssaFSPSolve(f));
  ck_assert(!StgssaFSPGetFit(f, &P, NULL));
  ck_assert_int_eq(P, 5); /* k a0 a1 r1 r2 */
  for (int i = 0; i < 3; i++) {
    const double t = times[i], R = r1 + r2, lam = k * (a0 * t + a1 * (G_(r1, t) - G_(R, t)));
    const double dlam[5] = {lam, k * a0 * t, k * a1 * (G_(r1, t) - G_(R, t)), k * a1 * r1 * (dG_(r1, t) - dG_(R, t)), -k * a1 * r2 * dG_(R, t)};
    double       derr, err = check_poisson(f, i, P, lam, dlam, &derr);
    say("input u(t) expression, t = %g: Lambda %.6g, max |p - Poisson| = %.3e, sensitivities (k, a0, a1, r1, r2) norm-wise %.2e\n", t, lam, err, derr);
    ck_assert_msg(err < 1e-6, "t = %g: max abs error %g", t, err);
    ck_assert_msg(derr < 1e-5, "t = %g: sensitivity norm-wise error %g", t, derr);
  }
  ck_assert(!StgssaFSPDestroy(&f));
  ck_assert(!StgssaModelDestroy(&m));
}
END_TEST

/* 0 -> M  k*u(t), u a table: 2 on [0, 1), L on [1, 2.5), 1 from 2.5 (L a fitted parameter):
   Lambda(t) = k int_0^t u is piecewise linear; d Lambda/d log L = k L |[1, 2.5] cap [0, t]|.
   Sample times on and between the breakpoints. */
START_TEST(test_law_input_table)
{
  const char *const opts[]   = {"-stgssa_fsp_max", "M=80", NULL};
  const PetscReal   times[5] = {0.5, 1, 2, 2.5, 4};
  const double      tb[3] = {0, 1, 2.5}, lv[3] = {2, 0, 1}, k = 2, L = 5;
  const char *const lp[3] = {NULL, "L", NULL};
  StgssaModelDef   *d     = parse_def("begin parameters\n  k 2\n  L 5\nend parameters\nbegin species\n  M 0\nend species\n"
                                        "begin reactions\n  0 -> M  k\nend reactions\n");
  StgssaModel       m;
  StgssaFSP         f;
  PetscInt          P;
  double            worst = 0, dworst = 0;
  add_table_input(d, "u", 3, tb, lv, lp);
  set_law(d, 0, "k*u", 0);
  m = model_from_def(d);
  f = make_fsp(m, 5, times, opts);
  ck_assert(!StgssaFSPSolve(f));
  ck_assert(!StgssaFSPGetFit(f, &P, NULL));
  ck_assert_int_eq(P, 2);
  for (int i = 0; i < 5; i++) {
    const double t = times[i], in2 = PetscMax(0.0, PetscMin(t, 2.5) - 1);
    const double lam = k * (2 * PetscMin(t, 1.0) + L * in2 + 1 * PetscMax(0.0, t - 2.5)), dlam[2] = {lam, k * L * in2};
    double       derr, err = check_poisson(f, i, P, lam, dlam, &derr);
    worst  = PetscMax(worst, err);
    dworst = PetscMax(dworst, derr);
    ck_assert_msg(err < 1e-6, "t = %g: max abs error %g", t, err);
    ck_assert_msg(derr < 1e-5, "t = %g: sensitivity norm-wise error %g", t, derr);
  }
  {
    PetscViewer v;
    ck_assert(!PetscViewerASCIIOpen(PETSC_COMM_WORLD, verbose ? "stdout" : "/dev/null", &v));
    ck_assert(!StgssaFSPView(f, v));
    ck_assert(!PetscViewerDestroy(&v));
  }
  say("table input (3 levels, breakpoints 1 and 2.5): max |p - Poisson| = %.3e, sensitivities (k, L) norm-wise %.2e\n", worst, dworst);
  ck_assert(!StgssaFSPDestroy(&f));
  ck_assert(!StgssaModelDestroy(&m));
}
END_TEST

/* -stgssa_initial steady. Telegraph: the transient from the stationary distribution stays there
   (p and its sensitivities at t = 0.5, 2 equal the steady-state sample's within 1e-9: the exact
   solution is constant, the integrator only adds its own error on A p = O(round-off)).
   Birth-death whose birth rate k u(t), u = 3 - 2 e^{-r t}, switches on at t = 0: p(0) is the
   t = 0 stationary law Poisson(k/g); after it M(t) ~ Poisson(m), m' = k u - g m:
   m = 3k/g + C e^{-g t} + D e^{-r t}, D = 2k/(r - g), C = -2k/g - D. */
START_TEST(test_initial_steady)
{
  {
    const char *const opts[]   = {"-stgssa_fsp_max", "M=200", "-stgssa_initial", "steady", NULL};
    const PetscReal   times[3] = {-1, 0.5, 2};
    StgssaModel       m        = load_model(telegraph_model);
    StgssaFSP         f        = make_fsp(m, 3, times, opts);
    double            err = 0, derr = 0;
    ck_assert(!StgssaFSPSolve(f));
    for (PetscInt s = 0; s < 3; s++) {
      const PetscReal *p0, *dp0;
      PetscInt         nb;
      ck_assert(!StgssaFSPGetMarginal(f, 0, s, &nb, &p0, &dp0));
      for (int i = 1; i < 3; i++) {
        const PetscReal *p, *dp;
        ck_assert(!StgssaFSPGetMarginal(f, i, s, &nb, &p, &dp));
        for (PetscInt b = 0; b < nb; b++) {
          err = PetscMax(err, PetscAbsReal(p[b] - p0[b]));
          for (int q = 0; q < 4; q++) derr = PetscMax(derr, PetscAbsReal(dp[b * 4 + q] - dp0[b * 4 + q]));
        }
      }
    }
    say("telegraph from its steady state: max |p(t) - p_steady| = %.2e, sensitivities %.2e\n", err, derr);
    ck_assert_msg(err < 1e-9 && derr < 1e-9, "telegraph from the steady state drifts: %g, sensitivities %g", err, derr);
    ck_assert(!StgssaFSPDestroy(&f));
    ck_assert(!StgssaModelDestroy(&m));
  }
  {
    const char *const opts[]   = {"-stgssa_fsp_max", "M=100", NULL};
    const PetscReal   times[3] = {0, 0.5, 2};
    const double      k = 10, g = 1, r = 2;
    StgssaModelDef   *d        = parse_def("begin parameters\n  k 10\n  g 1\n  r 2\nend parameters\nbegin species\n  M 0\nend species\n"
                                             "begin reactions\n  0 -> M  k\n  M -> 0  g\nend reactions\n");
    StgssaModel       m;
    StgssaFSP         f;
    PetscInt          P;
    add_expr_input(d, "u", "3 - 2*exp(-r*t)");
    set_law(d, 0, "k*u", 0);
    m = model_from_def(d);
    f = make_fsp(m, 3, times, opts);
    ck_assert(!StgssaFSPSetInitial(f, STGSSA_FSP_INITIAL_STEADY));
    ck_assert(!StgssaFSPSolve(f));
    ck_assert(!StgssaFSPGetFit(f, &P, NULL));
    ck_assert_int_eq(P, 3);
    for (int i = 0; i < 3; i++) {
      const double t = times[i], h = 1e-5;
      double       th[3] = {k, g, r}, dlam[3], lam, derr, err;
      /* m(t; k, g, r) and its log-derivatives by central differences of the closed form (error ~h^2) */
#define MEAN(K, Gm, Rr) (3 * (K) / (Gm) + (-2 * (K) / (Gm) - 2 * (K) / ((Rr) - (Gm))) * exp(-(Gm) * t) + 2 * (K) / ((Rr) - (Gm)) * exp(-(Rr) * t))
      lam = MEAN(k, g, r);
      for (int q = 0; q < 3; q++) {
        double tp[3] = {th[0], th[1], th[2]}, tm[3] = {th[0], th[1], th[2]};
        tp[q] *= exp(h);
        tm[q] *= exp(-h);
        dlam[q] = (MEAN(tp[0], tp[1], tp[2]) - MEAN(tm[0], tm[1], tm[2])) / (2 * h);
        if (PetscAbsReal(dlam[q]) < 1e-8 * lam) dlam[q] = 0; /* d/dlog r at t = 0: u(0) = 1 for every r */
      }
#undef MEAN
      err = check_poisson(f, i, P, lam, dlam, &derr);
      say("input switching on at t = 0, from the t = 0 steady state, t = %g: mean %.6g, max |p - Poisson| = %.3e, sensitivities (k, g, r) norm-wise %.2e\n", t, lam, err, derr);
      ck_assert_msg(err < 1e-6, "t = %g: max abs error %g", t, err);
      ck_assert_msg(derr < 1e-5, "t = %g: sensitivity norm-wise error %g", t, derr);
    }
    ck_assert(!StgssaFSPDestroy(&f));
    ck_assert(!StgssaModelDestroy(&m));
  }
}
END_TEST

/* A law that goes negative (g (M - 3) for M < 3): the error names the model line, the reaction
   and the state. */
START_TEST(test_law_negative)
{
  const char *const opts[] = {"-stgssa_fsp_max", "M=20", NULL};
  const PetscReal   t1     = 1;
  StgssaModelDef   *d      = parse_def(birth_death_model);
  StgssaModel       m;
  StgssaFSP         f;
  char              msg[4096], where[64];
  int               line = d->reactions[1].line;
  set_law(d, 1, "g*(M-3)", 1);
  m = model_from_def(d);
  f = make_fsp(m, 1, &t1, opts);
  ck_assert_msg(solve_error(f, msg, sizeof msg) == PETSC_ERR_FP, "expected a propensity error, got '%s'", msg);
  say("negative law: %s\n", msg);
  snprintf(where, sizeof where, "test.model:%d:", line);
  ck_assert_msg(strstr(msg, where) && strstr(msg, "reaction 2") && strstr(msg, "M=1") && strstr(msg, "-2"), "message: %s", msg);
  ck_assert(!StgssaFSPDestroy(&f));
  ck_assert(!StgssaModelDestroy(&m));
}
END_TEST

/* The affine form A(t) = A0 + sum_i u_i(t) A_i (default) against the per-time evaluation of the
   laws (-stgssa_fsp_affine 0): the induction model (G_off -> G_on at k_on*Hog(t), Hog = a0 +
   a1 e^{-r1 t}(1 - e^{-r2 t}); here at k_on (0.5 + 2 Hog)), from the t = 0 steady state, fitting
   k_on and the input's a0, a1, r1, r2 (through w_iq = k_q du_i/dk_q). Both integrate the same ODE with the same steps;
   the operators differ by round-off (1e-16 relative), so p and dp agree to 1e-10. A law that is
   not affine in its input (k u^2) must use the per-time path: then both runs are bitwise equal. */
static StgssaModel induction_model(const char *law)
{
  StgssaModelDef *d = parse_def("begin parameters\n  k_on 2\n  k_off 1\n  k_tx 20\n  k_deg 1\n  a0 0.05\n  a1 3\n  r1 0.1\n  r2 1\nend parameters\n"
                                "begin species\n  G_off 1\n  G_on 0\n  M 0\nend species\n"
                                "begin reactions\n  G_off -> G_on  k_on\n  G_on -> G_off  k_off\n  G_on -> G_on + M  k_tx\n  M -> 0  k_deg\nend reactions\n");
  add_expr_input(d, "Hog", "a0 + a1*exp(-r1*t)*(1 - exp(-r2*t))");
  set_law(d, 0, law, 0);
  return model_from_def(d);
}

START_TEST(test_affine_inputs)
{
  const char *const on[]     = {"-stgssa_fsp_max", "M=70", "-stgssa_initial", "steady", "-stgssa_fit", "k_on,a0,a1,r1,r2", NULL};
  const char *const off[]    = {"-stgssa_fsp_max", "M=70", "-stgssa_initial", "steady", "-stgssa_fit", "k_on,a0,a1,r1,r2", "-stgssa_fsp_affine", "0", NULL};
  const PetscReal   times[3] = {0.5, 2, 4};
  const char       *laws[2]  = {"k_on*(0.5 + 2*Hog)", "k_on*Hog*Hog"};
  for (int l = 0; l < 2; l++) {
    StgssaModel m  = induction_model(laws[l]);
    StgssaFSP   fa = make_fsp(m, 3, times, on), fp = make_fsp(m, 3, times, off);
    PetscInt    P;
    double      err;
    ck_assert(!StgssaFSPSolve(fa));
    ck_assert(!StgssaFSPSolve(fp));
    ck_assert(!StgssaFSPGetFit(fa, &P, NULL));
    ck_assert_int_eq(P, 5);
    err = compare_marginals(fa, fp, 3, 3, P);
    say("law %s: affine form vs per-time evaluation, max difference of p and dp %.2e\n", laws[l], err);
    if (l == 0) ck_assert_msg(err < 1e-10, "affine form vs per-time evaluation: %g", err);
    else ck_assert_msg(err == 0, "a law not affine in its input took the affine path: difference %g", err);
    { /* and a second parameter point (the stored matrices are rebuilt) */
      ck_assert(!StgssaModelSetParameters(m, "a1=5,r1=0.2,k_off=0.7", "test"));
      ck_assert(!StgssaFSPSolve(fa));
      ck_assert(!StgssaFSPSolve(fp));
      err = compare_marginals(fa, fp, 3, 3, P);
      if (l == 0) ck_assert_msg(err < 1e-10, "affine form vs per-time evaluation at new parameters: %g", err);
      else ck_assert(err == 0);
    }
    ck_assert(!StgssaFSPDestroy(&fa));
    ck_assert(!StgssaFSPDestroy(&fp));
    ck_assert(!StgssaModelDestroy(&m));
  }
}
END_TEST

/* Adjoint gradients (src/fsp/adjoint.c) of L = sum_k sum_j sum_b w_kjb marginal_j(t_k)_b with
   fixed pseudo-random weights w (M and G_on, every sample), against
   (a) the forward sensitivities contracted with the same weights: max_q |g_adj - g_fwd| / max_q |g_fwd|
       < 1e-6. Both are exact up to the integrators' tolerances (rtol 1e-10, atol 1e-14) and the
       adjoint's cubic Hermite interpolation of p on the forward steps (O(h^4) per step; measured
       1e-8..1e-7 here, the terms summed being ~20x the result); 1e-6 keeps a margin without
       hiding a wrong term (a missing steady-start term, quadrature piece or one-sided operator
       at a breakpoint is O(1e-2..1) relative);
   (b) central differences of L at theta_q +- 1e-4 (error h^2/6 |L'''| ~ 1e-9 plus solver
       error / h ~ 1e-6): tolerance 1e-4 relative to the largest gradient component.
   Cases: the induction model with its affine input and a steady start (a sample at t = 0), the
   telegraph model from x0 with a steady-state sample among the transient ones, and a table input
   with breakpoints on (1) and between (2.5) sample times. */
static double adjoint_weight(int k, int j, int b)
{
  return sin(1.3 * k + 2.1 * j + 0.37 * b + 0.5) / (1.0 + 0.05 * b);
}

static double adjoint_loss(StgssaFSP f, const PetscInt *qs, PetscInt T, PetscInt P, double *gf, double *scale)
{
  double L = 0;
  for (PetscInt p = 0; p < P; p++) gf[p] = 0;
  if (scale) *scale = 0;
  for (PetscInt k = 0; k < T; k++)
    for (PetscInt j = 0; j < 2; j++) {
      PetscInt         nb;
      const PetscReal *pr, *dp;
      ck_assert(!StgssaFSPGetMarginal(f, k, qs[j], &nb, &pr, &dp));
      for (PetscInt b = 0; b < nb; b++) {
        const double w = adjoint_weight((int)k, (int)j, (int)b);
        L += w * pr[b];
        for (PetscInt p = 0; p < P; p++) {
          gf[p] += w * dp[b * P + p];
          *scale += PetscAbsReal(w * dp[b * P + p]);
        }
      }
    }
  return L;
}

static double parameter_value(StgssaModel m, const char *name)
{
  const StgssaModelDef *d;
  ck_assert(!StgssaModelGetDef(m, &d));
  for (int i = 0; i < d->nparams; i++)
    if (!strcmp(d->params[i].name, name)) return d->params[i].value;
  ck_abort_msg("no parameter %s", name);
  return 0;
}

static void check_adjoint(StgssaModel m, PetscInt T, const PetscReal *times, const char *const opts[], const char *what)
{
  StgssaFSP          f = make_fsp(m, T, times, opts);
  PetscInt           P, qs[2];
  const char *const *names;
  double             gf[16], ga[16], gd[16], scale, gmax = 0, err = 0, derr = 0;
  PetscBool          ready;
  qs[0] = species_index(m, "M");
  qs[1] = species_index(m, "G_on");
  ck_assert(!StgssaFSPSolve(f)); /* forward sensitivities */
  ck_assert(!StgssaFSPGetFit(f, &P, &names));
  ck_assert(P <= 16);
  (void)adjoint_loss(f, qs, T, P, gf, &scale);
  ck_assert(!StgssaFSPSetAdjoint(f, PETSC_TRUE));
  ck_assert(!StgssaFSPSolve(f));
  ck_assert(!StgssaFSPGetAdjoint(f, &ready));
  if (!ready) { /* only a projection held whole by one rank runs the adjoint: a distributed one keeps the sensitivities */
    PetscMPIInt size;
    PetscInt    red = 20000;
    PetscBool   set;
    ck_assert(!MPI_Comm_size(PETSC_COMM_WORLD, &size));
    ck_assert(!PetscOptionsGetInt(NULL, NULL, "-stgssa_fsp_redundant", &red, &set));
    ck_assert_msg(size > 1 && red < 100, "%s: the solve did not run in adjoint mode", what);
    say("%s: distributed projection: forward sensitivities (no adjoint mode)\n", what);
    ck_assert(!StgssaFSPDestroy(&f));
    return;
  }
  for (PetscInt k = 0; k < T; k++)
    for (PetscInt j = 0; j < 2; j++) {
      PetscInt   nb;
      PetscReal *w;
      ck_assert(!StgssaFSPGetAdjointWeights(f, k, qs[j], &nb, &w));
      for (PetscInt b = 0; b < nb; b++) w[b] += adjoint_weight((int)k, (int)j, (int)b);
    }
  ck_assert(!StgssaFSPAdjointSolve(f, ga));
  for (PetscInt p = 0; p < P; p++) gmax = PetscMax(gmax, PetscAbsReal(gf[p]));
  for (PetscInt p = 0; p < P; p++) err = PetscMax(err, PetscAbsReal(ga[p] - gf[p]) / gmax);
  for (PetscInt p = 0; p < P; p++) { /* central differences of L (adjoint mode: p alone) */
    const double h = 1e-4, v0 = parameter_value(m, names[p]);
    double       Lp, Lm, dummy[16];
    char         a[256];
    snprintf(a, sizeof(a), "%s=%.17g", names[p], v0 * exp(h));
    ck_assert(!StgssaModelSetParameters(m, a, "test"));
    ck_assert(!StgssaFSPSolve(f));
    Lp = adjoint_loss(f, qs, T, 0, dummy, NULL);
    snprintf(a, sizeof(a), "%s=%.17g", names[p], v0 * exp(-h));
    ck_assert(!StgssaModelSetParameters(m, a, "test"));
    ck_assert(!StgssaFSPSolve(f));
    Lm = adjoint_loss(f, qs, T, 0, dummy, NULL);
    snprintf(a, sizeof(a), "%s=%.17g", names[p], v0);
    ck_assert(!StgssaModelSetParameters(m, a, "test"));
    gd[p] = (Lp - Lm) / (2 * h);
    derr  = PetscMax(derr, PetscAbsReal(gd[p] - ga[p]) / gmax);
  }
  say("%s: adjoint vs forward sensitivities %.2e, vs central differences %.2e (relative to max |g| = %.3g; sum |w dp| = %.3g)\n", what, err, derr, gmax, scale);
  for (PetscInt p = 0; p < P; p++) say("  %-6s forward %.12g  adjoint %.12g  fd %.9g\n", names[p], gf[p], ga[p], gd[p]);
  ck_assert_msg(err < 1e-6, "%s: adjoint gradient differs from the forward sensitivities by %g (relative)", what, err);
  ck_assert_msg(derr < 1e-4, "%s: adjoint gradient differs from central differences by %g (relative)", what, derr);
  check_same_on_all_ranks(ga[0], "adjoint gradient");
  ck_assert(!StgssaFSPDestroy(&f));
}

START_TEST(test_adjoint)
{
  { /* induction, affine input, steady start, a sample at t = 0 */
    const char *const opts[]   = {"-stgssa_fsp_max", "M=60", "-stgssa_initial", "steady", "-stgssa_fit", "k_on,k_off,k_tx,k_deg,a0,a1,r1,r2", "-stgssa_fsp_adjoint", "1", NULL};
    const PetscReal   times[5] = {0, 0.7, 2, 3.5, 6};
    StgssaModel       m        = induction_model("k_on*Hog");
    check_adjoint(m, 5, times, opts, "induction, steady start");
    ck_assert(!StgssaModelDestroy(&m));
  }
  { /* telegraph from x0, a steady-state sample among the transient ones */
    const char *const opts[]   = {"-stgssa_fsp_max", "M=80", "-stgssa_fsp_adjoint", "1", NULL};
    const PetscReal   times[4] = {0.5, 1.5, -1, 4};
    StgssaModel       m        = load_model(telegraph_model);
    check_adjoint(m, 4, times, opts, "telegraph from x0, with a steady-state sample");
    ck_assert(!StgssaModelDestroy(&m));
  }
  { /* a table input: breakpoints 1 (a sample time) and 2.5 (between samples) */
    const char *const opts[]   = {"-stgssa_fsp_max", "M=80", "-stgssa_initial", "steady", "-stgssa_fsp_adjoint", "1", NULL};
    const PetscReal   times[4] = {0.5, 1, 2, 4};
    const double      tb[3] = {0, 1, 2.5}, lv[3] = {2, 0, 1};
    const char *const lp[3] = {NULL, "L", NULL};
    StgssaModelDef   *d     = parse_def("begin parameters\n  k_on 0.5\n  k_off 2\n  k_tx 5\n  k_deg 1\n  L 5\nend parameters\n"
                                              "begin species\n  G_off 1\n  G_on 0\n  M 0\nend species\n"
                                              "begin reactions\n  G_off -> G_on  k_on\n  G_on -> G_off  k_off\n  G_on -> G_on + M  k_tx\n  M -> 0  k_deg\nend reactions\n");
    StgssaModel       m;
    add_table_input(d, "u", 3, tb, lv, lp);
    set_law(d, 2, "k_tx*u", 0);
    m = model_from_def(d);
    check_adjoint(m, 4, times, opts, "table input with breakpoints");
    ck_assert(!StgssaModelDestroy(&m));
  }
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
  tcase_add_test(tc, test_law_michaelis_menten);
  tcase_add_test(tc, test_law_input_expression);
  tcase_add_test(tc, test_law_input_table);
  tcase_add_test(tc, test_initial_steady);
  tcase_add_test(tc, test_law_negative);
  tcase_add_test(tc, test_auto_bounds);
  tcase_add_test(tc, test_soft_failure);
  tcase_add_test(tc, test_affine_inputs);
  tcase_add_test(tc, test_adjoint);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK); /* MPI must not be used across fork() */
  srunner_run_all(sr, CK_ENV);            /* CK_VERBOSITY: the suite sets normal, so the Checks line shows */
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (PetscFinalize()) return EXIT_FAILURE;
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
