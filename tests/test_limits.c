/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Input limits and engine guards (issue 8 "Hardening"):
    - the dependency graph built through the species -> readers index is exactly the one of the
      definition (reaction i depends on j when j changes a species i's propensity reads), checked
      against the brute-force double loop on random models with rate laws;
    - a generated model of 10^5 reactions (and 10^5 species) is parsed, compiled and simulated
      within bounded time; the time of each stage is printed (not pass/fail: it must finish);
    - a count that would pass 2^53 stops the plain and the derivative engine with an error naming
      the species, the reaction's line and the time.
*/
#include <check.h>
#include <stgssa/stgssa.h>
#include <stgssa/ssa.h>
#include <stgssa/tangent.h>
#include <stdio.h>
#include <string.h>

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

static uint64_t lcg(uint64_t *s)
{
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return *s >> 33;
}

/* Brute force: does the propensity of i read a species that reaction j changes? */
static int reads_changed(const StgssaNetwork *net, PetscInt i, PetscInt j)
{
  for (PetscInt u = net->nu_ptr[j]; u < net->nu_ptr[j + 1]; u++) {
    const PetscInt s = net->nu_species[u];
    for (PetscInt t = net->react_ptr[i]; t < net->react_ptr[i + 1]; t++)
      if (net->react_species[t] == s) return 1;
    for (PetscInt t = net->lawsp_ptr[i]; t < net->lawsp_ptr[i + 1]; t++)
      if (net->lawsp[t] == s) return 1;
  }
  return 0;
}

START_TEST(test_dependencies_brute_force)
{
  uint64_t seed = 12345;
  for (int rep = 0; rep < 20; rep++) {
    const int S = 2 + (int)(lcg(&seed) % 12), R = 1 + (int)(lcg(&seed) % 60);
    char     *text = malloc(200000);
    size_t    len  = 0;
    Lib       L;
    ck_assert_ptr_nonnull(text);
    len += (size_t)sprintf(text + len, "begin parameters\n k 1\n K 3\nend parameters\nbegin species\n");
    for (int s = 0; s < S; s++) len += (size_t)sprintf(text + len, " X%d %d\n", s, (int)(lcg(&seed) % 5));
    len += (size_t)sprintf(text + len, "end species\nbegin reactions\n");
    for (int r = 0; r < R; r++) {
      const int nr = (int)(lcg(&seed) % 3), np = nr ? (int)(lcg(&seed) % 3) : 1 + (int)(lcg(&seed) % 2), kind = (int)(lcg(&seed) % 4);
      int       a = (int)(lcg(&seed) % S), b = (int)(lcg(&seed) % S);
      if (b == a) b = (a + 1) % S;
      text[len++] = ' ';
      if (nr == 0) len += (size_t)sprintf(text + len, "0");
      else if (nr == 1) len += (size_t)sprintf(text + len, "X%d", a);
      else len += (size_t)sprintf(text + len, "2 X%d + X%d", a, b);
      len += (size_t)sprintf(text + len, " -> ");
      if (np == 0) len += (size_t)sprintf(text + len, "0");
      else if (np == 1) len += (size_t)sprintf(text + len, "X%d", (int)(lcg(&seed) % S));
      else len += (size_t)sprintf(text + len, "X%d + 3 X%d", (int)(lcg(&seed) % S), b);
      if (kind == 0) len += (size_t)sprintf(text + len, "  k\n");
      else if (kind == 1) len += (size_t)sprintf(text + len, "  2*k\n");
      else if (kind == 2) len += (size_t)sprintf(text + len, "  k*X%d/(K + X%d)\n", (int)(lcg(&seed) % S), (int)(lcg(&seed) % S)); /* a law reading other species */
      else len += (size_t)sprintf(text + len, "  k*(1 + t)\n");                                                                    /* a rate constant law */
    }
    len += (size_t)sprintf(text + len, "end reactions\n");
    text[len] = 0;
    lib_load(&L, text);
    for (PetscInt j = 0; j < L.net->R; j++) {
      PetscInt d = L.net->dep_ptr[j];
      for (PetscInt i = 0; i < L.net->R; i++)
        if (reads_changed(L.net, i, j)) {
          ck_assert_msg(d < L.net->dep_ptr[j + 1] && L.net->dep[d] == i, "model %d: reaction %d should list dependent %d", rep, (int)j, (int)i);
          d++;
        }
      ck_assert_msg(d == L.net->dep_ptr[j + 1], "model %d: reaction %d lists extra dependents", rep, (int)j);
    }
    lib_free(&L);
    free(text);
  }
}
END_TEST

/* 10^5 reactions on 10^5 species: a ring of conversions X_i -> X_{i+1} plus a decay of each
   species every 10th, labelled, with names of 40 bytes: parse, compile and simulate. */
START_TEST(test_huge_model)
{
  const int       S = 100000, R = 100000;
  size_t          cap = (size_t)R * 160 + (size_t)S * 80 + 1024, len = 0;
  char           *text = malloc(cap);
  double          t0, t1, t2, t3;
  Lib             L;
  StgssaSSAConfig cfg;
  StgssaSSAWork   w;
  StgssaTrajInfo  info;
  int64_t        *samples;
  const double    ts[1] = {0.001};
  int64_t         events = 0;

  ck_assert_ptr_nonnull(text);
  len += (size_t)sprintf(text + len, "begin parameters\n  k 1\n  g 0.5\nend parameters\nbegin species\n");
  for (int s = 0; s < S; s++) len += (size_t)sprintf(text + len, "  species_with_a_rather_long_name_%08d %d\n", s, s % 7 == 0 ? 3 : 0);
  len += (size_t)sprintf(text + len, "end species\nbegin reactions\n");
  for (int r = 0; r < R; r++) {
    if (r % 10 == 9) len += (size_t)sprintf(text + len, "  decay_%d: species_with_a_rather_long_name_%08d -> 0  g\n", r, r);
    else len += (size_t)sprintf(text + len, "  species_with_a_rather_long_name_%08d -> species_with_a_rather_long_name_%08d  k\n", r, (r + 1) % S);
  }
  len += (size_t)sprintf(text + len, "end reactions\n");
  ck_assert(len < cap);
  t0 = MPI_Wtime();
  lib_load(&L, text);
  t1 = MPI_Wtime();
  ck_assert_int_eq((int)L.net->R, R);
  ck_assert_int_eq((int)L.net->S, S);
  ck_assert_int_eq((int)(L.net->dep_ptr[1] - L.net->dep_ptr[0]), 2); /* X0 -> X1 changes the readers of X0 and X1 */
  memset(&cfg, 0, sizeof(cfg));
  cfg.net          = L.net;
  cfg.seed         = 7;
  cfg.tfinal       = ts[0];
  cfg.thin_step    = ts[0];
  cfg.max_events   = 100000000;
  cfg.nsample      = 1;
  cfg.sample_times = ts;
  ck_assert(!PetscMalloc1(S, &samples));
  ck_assert(!StgssaSSAWorkCreate(L.net, &w));
  t2 = MPI_Wtime();
  for (uint64_t i = 0; i < 3; i++) {
    ck_assert(!StgssaSSARun(&cfg, i, &w, samples, &info));
    events += info.events;
  }
  t3 = MPI_Wtime();
  ck_assert(events > 0);
  printf("huge model: %zu bytes, %d species, %d reactions; parse + compile %.2f s, 3 trajectories (%lld events) %.2f s\n", len, S, R, t1 - t0, (long long)events, t3 - t2);
  ck_assert(!StgssaSSAWorkDestroy(&w));
  ck_assert(!PetscFree(samples));
  lib_free(&L);
  free(text);
}
END_TEST

/* Counts stop at 2^53: A starts at 2^53 - 2 and grows. */
static const char *explosive = "begin parameters\n  b 10\nend parameters\nbegin species\n  B 1\n  A 9007199254740990\nend species\n"
                               "begin reactions\n  B -> B + A  b\n  A -> 0  1e-30\nend reactions\n";

START_TEST(test_count_overflow)
{
  const double    ts[1] = {10.0};
  Lib             L;
  StgssaSSAConfig cfg;
  StgssaSSAWork   w;
  StgssaTrajInfo  info;
  int64_t         samples[2];
  PetscErrorCode  ierr;
  const char     *text;
  char           *msg;

  lib_load(&L, explosive);
  memset(&cfg, 0, sizeof(cfg));
  cfg.net = L.net, cfg.seed = 1, cfg.tfinal = 10.0, cfg.thin_step = 1.0, cfg.max_events = 1000, cfg.nsample = 1, cfg.sample_times = ts;
  ck_assert(!StgssaSSAWorkCreate(L.net, &w));
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = StgssaSSARun(&cfg, 0, &w, samples, &info);
  ck_assert(!PetscPopErrorHandler());
  ck_assert_int_eq(ierr, PETSC_ERR_FP);
  ck_assert(!PetscErrorMessage(ierr, &text, &msg));
  ck_assert_msg(strstr(msg, "test.model:9: reaction 1 takes the count of species 'A' to 9007199254740993") != NULL, "%s", msg);
  ck_assert_msg(strstr(msg, "beyond 2^53") != NULL, "%s", msg);
  ck_assert(!StgssaSSAWorkDestroy(&w));
  { /* the derivative engine too */
    StgssaTangentConfig tc;
    StgssaTangentWork   tw;
    StgssaTangentRecord rec;
    PetscInt            rxn[2] = {0, -1}, obs[1] = {1};
    memset(&tc, 0, sizeof(tc));
    tc.type = STGSSA_GRADIENT_STGS, tc.P = 1, tc.rxn_param = rxn, tc.lambda = 1.0, tc.nobs = 1, tc.obs = obs;
    ck_assert(!StgssaTangentWorkCreate(L.net, 1, &tw));
    ck_assert(!StgssaTangentRecordCreate(1, 1, L.net->R, 1, &rec));
    ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = StgssaSSARunTangent(&cfg, &tc, 0, &tw, &rec, &info);
    ck_assert(!PetscPopErrorHandler());
    ck_assert_int_eq(ierr, PETSC_ERR_FP);
    ck_assert(!PetscErrorMessage(ierr, &text, &msg));
    ck_assert_msg(strstr(msg, "species 'A'") != NULL, "%s", msg);
    ck_assert(!StgssaTangentRecordDestroy(&rec));
    ck_assert(!StgssaTangentWorkDestroy(&tw));
  }
  lib_free(&L);
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s  = suite_create("limits");
  TCase   *tc = tcase_create("limits");
  SRunner *sr;
  int      failed;
  if (PetscInitialize(&argc, &argv, NULL, NULL)) return EXIT_FAILURE;
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_dependencies_brute_force);
  tcase_add_test(tc, test_huge_model);
  tcase_add_test(tc, test_count_overflow);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK); /* MPI must not be used across fork() */
  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (PetscFinalize()) return EXIT_FAILURE;
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
