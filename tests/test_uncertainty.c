/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Fisher information and uncertainty (src/loss/uncertainty.c) against closed forms: the Fisher
  information of a Bernoulli distribution in its logit, inverses of small matrices, exactly and
  nearly confounded directions (infinite intervals and the words that name them). Tolerances are
  roundoff-level (1e-12 relative) except where LAPACK's eigenvectors enter (1e-10).
*/
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <petscsys.h>
#include <stgssa/uncertainty.h>

static const char *const names3[] = {"k_a", "k_b", "k_c"};

typedef struct {
  PetscReal evals[9], evecs[81], se[9], corr[81], ci[18];
  PetscInt  nnull;
  char      words[2048];
} Result;

static void run(PetscInt P, const PetscReal *F, const PetscReal *theta, Result *r)
{
  ck_assert_int_eq(StgssaUncertaintyCompute(P, F, 1e-8, r->evals, r->evecs, r->se, r->corr, &r->nnull), 0);
  StgssaUncertaintyInterval(P, theta, r->se, 1.96, r->ci);
  ck_assert_int_eq(StgssaUncertaintyDescribe(P, names3, theta, r->evals, r->evecs, r->corr, 1e-8, 0.99, r->words, sizeof(r->words), NULL), 0);
}

/* Bernoulli (1 - s, s), s = 1/(1 + e^-theta): dp = s(1-s) (-1, 1), Fisher per trial s(1 - s). The
   same with p and dp scaled by 3 (unnormalized input: the renormalization must cancel it). */
START_TEST(test_fisher_bernoulli)
{
  const double s = 0.3, n = 50, d = s * (1 - s);
  double       p[2] = {1 - s, s}, dp[2] = {-d, d}, F = 0;
  StgssaFisherAddBinned(2, 1, p, dp, 0.0, n, &F);
  ck_assert_double_eq_tol(F, n * s * (1 - s), 1e-12 * n);
  for (int b = 0; b < 2; b++)
    p[b] *= 3, dp[b] *= 3;
  F = 1.0; /* accumulates */
  StgssaFisherAddBinned(2, 1, p, dp, 0.0, n, &F);
  ck_assert_double_eq_tol(F, 1.0 + n * s * (1 - s), 1e-12 * n);
}
END_TEST

/* Full rank: F = [[2,1],[1,1]], F^-1 = [[1,-1],[-1,2]]: se = (1, sqrt 2), correlation -1/sqrt 2. */
START_TEST(test_full_rank)
{
  const PetscReal F[4] = {2, 1, 1, 1}, theta[2] = {log(2.0), log(5.0)};
  Result          r;
  run(2, F, theta, &r);
  ck_assert_int_eq(r.nnull, 0);
  ck_assert_double_eq_tol(r.se[0], 1.0, 1e-12);
  ck_assert_double_eq_tol(r.se[1], sqrt(2.0), 1e-12);
  ck_assert_double_eq_tol(r.corr[1], -1 / sqrt(2.0), 1e-12);
  ck_assert(r.corr[0] == 1.0);
  ck_assert_double_eq_tol(r.ci[0], 2 * exp(-1.96), 1e-12);
  ck_assert_double_eq_tol(r.ci[3], 5 * exp(1.96 * sqrt(2.0)), 1e-10);
  ck_assert_msg(strstr(r.words, "all fitted rates are identified"), "words: %s", r.words);
}
END_TEST

/* Only log k_a + log k_b is determined (F = c u u^T, u = (1, 1)) and k_c independently:
   k_a, k_b get infinite errors and [0, inf] intervals, their correlation is the limit -1, the
   words name the product; k_c keeps se = 1/sqrt(F_cc). */
START_TEST(test_confounded_product)
{
  const PetscReal F[9] = {7, 7, 0, 7, 7, 0, 0, 0, 4}, theta[3] = {log(2.0), log(40.0), 0};
  Result          r;
  run(3, F, theta, &r);
  ck_assert_int_eq(r.nnull, 1);
  ck_assert(isinf(r.se[0]) && isinf(r.se[1]));
  ck_assert_double_eq_tol(r.se[2], 0.5, 1e-12);
  ck_assert(r.ci[0] == 0 && isinf(r.ci[1]) && r.ci[2] == 0 && isinf(r.ci[3]));
  ck_assert_double_eq_tol(r.corr[1], -1.0, 1e-10);
  ck_assert(r.corr[2] == 0.0);
  ck_assert_msg(strstr(r.words, "are not identifiable separately: only the product k_b*k_a ≈ 80 is determined"), "words: %s", r.words);
}
END_TEST

/* Only the ratio is determined (u = (1, -1)): the words name k_b/k_a ≈ 20. */
START_TEST(test_confounded_ratio)
{
  const PetscReal F[4] = {3, -3, -3, 3}, theta[2] = {log(2.0), log(40.0)};
  Result          r;
  run(2, F, theta, &r);
  ck_assert_int_eq(r.nnull, 1);
  ck_assert(isinf(r.se[0]) && isinf(r.se[1]));
  ck_assert_double_eq_tol(r.corr[1], 1.0, 1e-10);
  ck_assert_msg(strstr(r.words, "only k_b/k_a ≈ 20 is determined"), "words: %s", r.words);
  ck_assert_msg(!strstr(r.words, "confounded"), "named twice: %s", r.words);
}
END_TEST

/* Nearly confounded: F = n (u u^T + eps w w^T), u = (1,-1)/sqrt 2, w = (1,1)/sqrt 2, eps = 1e-4:
   identified (eps > rtol), correlation (1 - eps)/(1 + eps) = 0.9998 -> "confounded", ratio. */
START_TEST(test_nearly_confounded)
{
  const double    n = 1000, eps = 1e-4, a = 0.5 * n * (1 + eps), b = 0.5 * n * (eps - 1);
  const PetscReal F[4] = {a, b, b, a}, theta[2] = {log(2.0), log(40.0)};
  Result          r;
  run(2, F, theta, &r);
  ck_assert_int_eq(r.nnull, 0);
  ck_assert_double_eq_tol(r.corr[1], (1 - eps) / (1 + eps), 1e-10);
  ck_assert_double_eq_tol(r.se[0], sqrt(0.5 / n * (1 + 1 / eps)), 1e-8 * r.se[0]);
  ck_assert_msg(strstr(r.words, "k_a and k_b are confounded (correlation 0.9998): only k_b/k_a ≈ 20 is determined"), "words: %s", r.words);
}
END_TEST

/* One rate the data do not see; invalid input is refused. */
START_TEST(test_single_and_errors)
{
  const PetscReal F[4] = {1, 0, 0, 0}, theta[2] = {0, 0}, bad[1] = {NAN};
  Result          r;
  run(2, F, theta, &r);
  ck_assert(!isinf(r.se[0]) && isinf(r.se[1]));
  ck_assert_msg(strstr(r.words, "k_b is not identifiable from these data"), "words: %s", r.words);
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ck_assert_int_ne(StgssaUncertaintyCompute(2, F, 0.0, r.evals, r.evecs, r.se, r.corr, NULL), 0);
  ck_assert_int_ne(StgssaUncertaintyCompute(1, bad, 1e-8, r.evals, r.evecs, r.se, r.corr, NULL), 0);
  ck_assert(!PetscPopErrorHandler());
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s = suite_create("uncertainty");
  TCase   *t = tcase_create("fisher");
  SRunner *sr;
  int      failed;
  if (PetscInitialize(&argc, &argv, NULL, NULL)) return EXIT_FAILURE;
  tcase_add_test(t, test_fisher_bernoulli);
  tcase_add_test(t, test_full_rank);
  tcase_add_test(t, test_confounded_product);
  tcase_add_test(t, test_confounded_ratio);
  tcase_add_test(t, test_nearly_confounded);
  tcase_add_test(t, test_single_and_errors);
  suite_add_tcase(s, t);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK); /* MPI must not be used across fork() */
  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (PetscFinalize()) return EXIT_FAILURE;
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
