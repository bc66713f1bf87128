/* SPDX-License-Identifier: BSD-2-Clause */
/* StgssaOptimizer at large P without a simulation (StgssaOptimizerSetAnalyticProblem, issue 17):
   -stgssa_history_every K (/history's P-wide rows at iterations 0, K, 2K, ... and the last, with
   /history/iteration; the scalar history every iteration; the run itself unchanged), the chunked
   compressed datasets, a restart from a mid-run checkpoint bitwise equal to the uninterrupted run
   with thinning, -stgssa_bounds over many names (sorted-name look-up) and
   -stgssa_log_constraint's sparse terms (repeated names add up), StgssaModelResolveFit at P = 4000. */
#include <check.h>
#include <stdio.h>
#include <unistd.h>
#include <hdf5.h>
#include <stgssa/stgssa.h>
#include <stgssa/optimizer.h>
#include <stgssa/model.h>

#define CHK(call) ck_assert_int_eq((int)(call), 0)

typedef struct {
  PetscInt P;
  char     copy_from[256], copy_to[256]; /* at evaluation copy_at: copy the output file (a mid-run checkpoint) */
  PetscInt copy_at, ncalls;
} Quad;

static double Xi(uint64_t a, uint64_t b) /* a fixed pseudo-random number from (a, b) (splitmix64) in [-1.7, 1.7] */
{
  uint64_t x = (a + 1) * 0x9E3779B97F4A7C15ULL ^ (b + 7) * 0xBF58476D1CE4E5B9ULL;
  x          = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x          = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return ((double)(x >> 11) / 9007199254740992.0 - 0.5) * 3.4641016151377544;
}

static void CopyFile(const char *from, const char *to)
{
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  char  buf[65536];
  size_t n;
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  while ((n = fread(buf, 1, sizeof(buf), a)) > 0) ck_assert_uint_eq(fwrite(buf, 1, n, b), n);
  fclose(a);
  fclose(b);
}

/* L = sum_p w_p (theta_p - c_p)^2 / 2 with gradient noise se_p xi (fresh per evaluation index) */
static PetscErrorCode QuadFn(const PetscReal theta[], PetscInt it, PetscInt64 ntraj, PetscReal *loss, PetscReal grad[], PetscReal se[], void *ctx)
{
  Quad     *q = (Quad *)ctx;
  PetscReal f = 0;

  PetscFunctionBegin;
  if (q->copy_at >= 0 && q->ncalls++ == q->copy_at) CopyFile(q->copy_from, q->copy_to);
  for (PetscInt p = 0; p < q->P; p++) {
    const PetscReal w = 1 + (p % 3), c = 0.3 * (p % 5) - 0.5, d = theta[p] - c, s = 0.3 * PetscSqrtReal(100.0 / (PetscReal)ntraj);
    f += 0.5 * w * d * d;
    grad[p] = w * d + s * Xi((uint64_t)it, (uint64_t)p);
    se[p]   = s;
  }
  *loss = f;
  PetscFunctionReturn(0);
}

static PetscErrorCode Names(PetscInt P, char ***names, PetscReal **theta0)
{
  char buf[32];

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(P, names));
  PetscCall(PetscCalloc1(P, theta0));
  for (PetscInt p = 0; p < P; p++) {
    PetscCall(PetscSNPrintf(buf, sizeof(buf), "k%" PetscInt_FMT, p));
    PetscCall(PetscStrallocpy(buf, &(*names)[p]));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode FreeNames(PetscInt P, char ***names, PetscReal **theta0)
{
  PetscFunctionBegin;
  for (PetscInt p = 0; p < P; p++) PetscCall(PetscFree((*names)[p]));
  PetscCall(PetscFree(*names));
  PetscCall(PetscFree(*theta0));
  PetscFunctionReturn(0);
}

/* One fit; the options are set by the caller. Returns the error code of the run (0: fine). */
static PetscErrorCode Fit(PetscInt P, const char *out, Quad *q, PetscErrorCode *ierr)
{
  StgssaOptimizer o;
  char          **names;
  PetscReal      *theta0;

  PetscFunctionBegin;
  PetscCall(Names(P, &names, &theta0));
  q->P = P;
  PetscCall(StgssaOptimizerCreate(PETSC_COMM_WORLD, &o));
  PetscCall(StgssaOptimizerSetAnalyticProblem(o, P, (const char *const *)names, theta0, 5, 100, QuadFn, q));
  PetscCall(StgssaOptimizerSetOutput(o, out));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  *ierr = StgssaOptimizerSetFromOptions(o);
  if (!*ierr) *ierr = StgssaOptimizerSolve(o);
  if (!*ierr) *ierr = StgssaOptimizerWrite(o);
  PetscCall(PetscPopErrorHandler());
  if (*ierr && getenv("TEST_HISTORY_VERBOSE")) { /* the message of an error (expected or not) */
    const char *text;
    char       *specific;
    PetscCall(PetscErrorMessage(*ierr, &text, &specific));
    fprintf(stderr, "%s: error %d: %s\n", out, (int)*ierr, specific ? specific : text);
  }
  PetscCall(StgssaOptimizerDestroy(&o));
  PetscCall(FreeNames(P, &names, &theta0));
  PetscFunctionReturn(0);
}

/* A dataset as doubles (or int64 converted) with its dims; *n elements. */
static double *ReadDataset(const char *file, const char *name, int *rank, hsize_t dims[2], size_t *n)
{
  hid_t   f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT), d, sp;
  double *buf;
  ck_assert_int_ge(f, 0);
  d = H5Dopen2(f, name, H5P_DEFAULT);
  ck_assert_msg(d >= 0, "%s: no dataset %s", file, name);
  sp    = H5Dget_space(d);
  *rank = H5Sget_simple_extent_ndims(sp);
  dims[1] = 1;
  H5Sget_simple_extent_dims(sp, dims, NULL);
  *n  = (size_t)H5Sget_simple_extent_npoints(sp);
  buf = (double *)malloc((*n + 1) * sizeof(double));
  if (*n) ck_assert_int_ge(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), 0);
  H5Sclose(sp);
  H5Dclose(d);
  H5Fclose(f);
  return buf;
}

static void SetCommon(const char *its, const char *every)
{
  CHK(PetscOptionsClearValue(NULL, "-stgssa_crn"));
  CHK(PetscOptionsClearValue(NULL, "-stgssa_restart"));
  CHK(PetscOptionsSetValue(NULL, "-tao_type", "adam"));
  CHK(PetscOptionsSetValue(NULL, "-tao_max_it", its));
  CHK(PetscOptionsSetValue(NULL, "-stgssa_stop_window", "8"));
  CHK(PetscOptionsSetValue(NULL, "-stgssa_ntraj_max", "800"));
  CHK(PetscOptionsSetValue(NULL, "-stgssa_checkpoint_interval", "10"));
  CHK(PetscOptionsSetValue(NULL, "-stgssa_history_every", every));
}

static const char *const wide[3] = {"/history/theta", "/history/gradient", "/history/gradient_stderr"};

/* history_every: the same run, the P-wide rows thinned; shapes, iteration index, chunks, filters;
   a restart from the checkpoint at iteration 10 gives bitwise the uninterrupted output. With the
   schedule (adam, fresh draws) memory and checkpoint keep every row; without it (-stgssa_crn)
   they keep the thinned ones too. */
static void EveryCase(PetscBool crn)
{
  const PetscInt P = 1500; /* chunks of 1024 columns: two per row block */
  Quad           q = {P, "", "", -1, 0};
  PetscErrorCode ierr;
  int            rank;
  hsize_t        d1[2], d4[2];
  size_t         n1, n4, ni, nl;

  SetCommon("37", "1");
  if (crn) CHK(PetscOptionsSetValue(NULL, "-stgssa_crn", "1"));
  CHK(Fit(P, "every1.h5", &q, &ierr));
  ck_assert_int_eq(ierr, 0);
  SetCommon("37", "4");
  if (crn) CHK(PetscOptionsSetValue(NULL, "-stgssa_crn", "1"));
  q.copy_at = 15; /* the 16th evaluation: after the checkpoint of iteration 10 */
  q.ncalls  = 0;
  CHK(PetscStrncpy(q.copy_from, "every4.h5", sizeof(q.copy_from)));
  CHK(PetscStrncpy(q.copy_to, "every4_ck10.h5", sizeof(q.copy_to)));
  CHK(Fit(P, "every4.h5", &q, &ierr));
  ck_assert_int_eq(ierr, 0);
  q.copy_at = -1;
  {
    double *l = ReadDataset("every4.h5", "/history/loss", &rank, d1, &nl);
    double *it = ReadDataset("every4.h5", "/history/iteration", &rank, d4, &ni);
    const size_t nI = nl, expect = (nI - 1) / 4 + 1 + ((nI - 1) % 4 != 0);
    ck_assert_uint_ge(nI, 20);
    ck_assert_uint_eq(ni, expect);
    for (size_t j = 0; j + 1 < ni; j++) ck_assert_double_eq(it[j], (double)(4 * j));
    ck_assert_double_eq(it[ni - 1], (double)(nI - 1));
    for (int a = 0; a < 3; a++) {
      double *x1 = ReadDataset("every1.h5", wide[a], &rank, d1, &n1);
      double *x4 = ReadDataset("every4.h5", wide[a], &rank, d4, &n4);
      ck_assert_int_eq(rank, 2);
      ck_assert_uint_eq(d1[0], nI);
      ck_assert_uint_eq(d4[0], ni);
      ck_assert_uint_eq(d4[1], (hsize_t)P);
      for (size_t j = 0; j < ni; j++) ck_assert_msg(!memcmp(&x4[j * P], &x1[(size_t)it[j] * P], P * sizeof(double)), "%s row %zu differs from iteration %g of the unthinned run", wide[a], j, it[j]);
      free(x1);
      free(x4);
    }
    free(l);
    free(it);
  }
  { /* chunks [min(I',64) x min(P,1024)]; deflate when the library can */
    hid_t   f = H5Fopen("every4.h5", H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(f, "/history/theta", H5P_DEFAULT), pl = H5Dget_create_plist(d);
    hsize_t ch[2];
    ck_assert_int_eq(H5Pget_layout(pl), H5D_CHUNKED);
    ck_assert_int_eq(H5Pget_chunk(pl, 2, ch), 2);
    ck_assert_uint_eq(ch[1], 1024);
    ck_assert_uint_le(ch[0], 64);
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) ck_assert_int_eq(H5Pget_nfilters(pl), 2); /* shuffle, deflate */
    H5Pclose(pl);
    H5Dclose(d);
    H5Fclose(f);
  }
  /* restart from the checkpoint of iteration 10 */
  SetCommon("37", "4");
  if (crn) CHK(PetscOptionsSetValue(NULL, "-stgssa_crn", "1"));
  CHK(PetscOptionsSetValue(NULL, "-stgssa_restart", "every4_ck10.h5"));
  CHK(Fit(P, "restarted.h5", &q, &ierr));
  ck_assert_int_eq(ierr, 0);
  CHK(PetscOptionsClearValue(NULL, "-stgssa_restart"));
  {
    static const char *const all[] = {"/history/loss", "/history/iteration", "/history/theta", "/history/gradient", "/history/gradient_stderr", "/history/ntraj", "/result/parameters", "/checkpoint/history_theta"};
    for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++) {
      double *a = ReadDataset("every4.h5", all[k], &rank, d1, &n1);
      double *b = ReadDataset("restarted.h5", all[k], &rank, d4, &n4);
      ck_assert_uint_eq(n1, n4);
      ck_assert_msg(!memcmp(a, b, n1 * sizeof(double)), "%s: the restarted run differs from the uninterrupted one", all[k]);
      free(a);
      free(b);
    }
  }
  {
    double *it = ReadDataset("every4_ck10.h5", "/history/iteration", &rank, d1, &n1);
    double *ci = ReadDataset("every4_ck10.h5", "/checkpoint/history_iteration", &rank, d4, &n4);
    ck_assert_double_eq(it[n1 - 1], 10); /* the copy was the checkpoint of iteration 10 */
    ck_assert_uint_eq(n4, crn ? 3 : 10); /* entries 0..9: 0, 4, 8 thinned; all with the schedule */
    for (size_t j = 0; j < n4; j++) ck_assert_double_eq(ci[j], (double)(crn ? 4 * j : j));
    free(it);
    free(ci);
  }
  /* the restart must keep the rows the checkpoint kept */
  SetCommon("37", "3");
  if (crn) CHK(PetscOptionsSetValue(NULL, "-stgssa_crn", "1"));
  CHK(PetscOptionsSetValue(NULL, "-stgssa_restart", "every4_ck10.h5"));
  CHK(Fit(P, "never.h5", &q, &ierr));
  if (crn) ck_assert_int_ne(ierr, 0); /* rows 3, 6, 9 are not there */
  else ck_assert_int_eq(ierr, 0);      /* every row is there */
  CHK(PetscOptionsClearValue(NULL, "-stgssa_restart"));
  CHK(PetscOptionsClearValue(NULL, "-stgssa_history_every"));
  CHK(PetscOptionsClearValue(NULL, "-stgssa_crn"));
}

START_TEST(test_history_every)
{
  EveryCase(PETSC_FALSE);
}
END_TEST

START_TEST(test_history_every_crn)
{
  EveryCase(PETSC_TRUE);
}
END_TEST

/* -stgssa_bounds with a bound on each of 3000 names (any order, any length) and the errors;
   -stgssa_log_constraint with repeated names: k0 = 0.5 k1 + 0.5 k1 + k2 holds in every row. */
START_TEST(test_names)
{
  const PetscInt P = 3000;
  Quad           q = {P, "", "", -1, 0};
  PetscErrorCode ierr;
  char          *bounds;
  size_t         len = 0;
  int            rank;
  hsize_t        d[2];
  size_t         n;

  bounds = (char *)malloc(32 * (size_t)P);
  for (PetscInt p = P - 1; p >= 0; p--) len += (size_t)snprintf(bounds + len, 32, "%sk%" PetscInt_FMT "=0.2:%s", p < P - 1 ? "," : "", p, p == 4 ? "1.2" : "");
  SetCommon("6", "1");
  CHK(PetscOptionsSetValue(NULL, "-stgssa_bounds", bounds));
  CHK(PetscOptionsSetValue(NULL, "-stgssa_crn", "1"));
  CHK(PetscOptionsSetValue(NULL, "-tao_type", "blmvm"));
  CHK(Fit(P, "bounds.h5", &q, &ierr));
  ck_assert_int_eq(ierr, 0);
  {
    double *th = ReadDataset("bounds.h5", "/history/theta", &rank, d, &n);
    for (size_t i = 0; i < d[0]; i++) {
      ck_assert(th[i * P + 4] <= log(1.2) + 1e-14); /* the one upper bound (k4: its optimum is above it) */
      ck_assert(th[i * P + 3] >= log(0.2) - 1e-14);
    }
    ck_assert_double_eq_tol(th[(d[0] - 1) * P + 4], log(1.2), 1e-12);
    free(th);
  }
  CHK(PetscOptionsSetValue(NULL, "-stgssa_bounds", "k12=1:2,k99999=1:2"));
  CHK(Fit(P, "never.h5", &q, &ierr));
  ck_assert_int_ne(ierr, 0); /* not a fitted name */
  CHK(PetscOptionsClearValue(NULL, "-stgssa_bounds"));
  CHK(PetscOptionsSetValue(NULL, "-stgssa_log_constraint", "k0=0.5*k1+0.5*k1+k2"));
  CHK(Fit(P, "constraint.h5", &q, &ierr));
  ck_assert_int_eq(ierr, 0);
  {
    double *th = ReadDataset("constraint.h5", "/history/theta", &rank, d, &n);
    ck_assert_uint_ge(d[0], 3);
    for (size_t i = 0; i < d[0]; i++) ck_assert_double_eq_tol(th[i * P + 0], th[i * P + 1] + th[i * P + 2], 1e-12);
    ck_assert(th[(d[0] - 1) * P + 1] != 0); /* it moved */
    free(th);
  }
  CHK(PetscOptionsSetValue(NULL, "-stgssa_log_constraint", "k0=k1;k1=k2"));
  CHK(Fit(P, "never.h5", &q, &ierr));
  ck_assert_int_ne(ierr, 0); /* a dependent on a right-hand side */
  CHK(PetscOptionsClearValue(NULL, "-stgssa_log_constraint"));
  CHK(PetscOptionsClearValue(NULL, "-stgssa_crn"));
  free(bounds);
}
END_TEST

/* StgssaModelResolveFit with 4000 fitted names (sorted look-up, O(1) duplicate test): indices
   and reaction map against the construction; an unknown name, a repeated one. */
START_TEST(test_resolve_fit)
{
  const PetscInt n = 2000; /* species S_i: 0 -> S_i (k_i), S_i -> 0 (g_i); fit all 2n rates */
  size_t         cap = 200 * (size_t)n, len = 0;
  char          *text = (char *)malloc(cap), **names;
  PetscInt      *fit, *rxn, P = 2 * n;
  StgssaModel    m;

  len += (size_t)snprintf(text + len, cap - len, "begin parameters\n");
  for (PetscInt i = 0; i < n; i++) len += (size_t)snprintf(text + len, cap - len, "  k%" PetscInt_FMT " %g\n  g%" PetscInt_FMT " %g\n", i, 1.0 + i, i, 0.5);
  len += (size_t)snprintf(text + len, cap - len, "end parameters\nbegin species\n");
  for (PetscInt i = 0; i < n; i++) len += (size_t)snprintf(text + len, cap - len, "  S%" PetscInt_FMT " 0\n", i);
  len += (size_t)snprintf(text + len, cap - len, "end species\nbegin reactions\n");
  for (PetscInt i = 0; i < n; i++) len += (size_t)snprintf(text + len, cap - len, "  0 -> S%" PetscInt_FMT "  k%" PetscInt_FMT "\n  S%" PetscInt_FMT " -> 0  g%" PetscInt_FMT "\n", i, i, i, i);
  (void)snprintf(text + len, cap - len, "end reactions\n");
  CHK(StgssaModelCreate(PETSC_COMM_WORLD, &m));
  CHK(StgssaModelLoadFromString(m, text, "many.model"));
  CHK(PetscMalloc3(P, &names, P, &fit, 2 * n, &rxn));
  for (PetscInt q = 0; q < P; q++) { /* fitted order: g's from the last, then k's */
    char buf[32];
    const PetscInt i = q < n ? n - 1 - q : q - n;
    CHK(PetscSNPrintf(buf, sizeof(buf), "%c%" PetscInt_FMT, q < n ? 'g' : 'k', i));
    CHK(PetscStrallocpy(buf, &names[q]));
  }
  CHK(StgssaModelResolveFit(m, P, (const char *const *)names, fit, rxn));
  for (PetscInt q = 0; q < P; q++) {
    const PetscInt i = q < n ? n - 1 - q : q - n;
    ck_assert_int_eq(fit[q], q < n ? 2 * i + 1 : 2 * i); /* parameters in file order k0 g0 k1 g1 ... */
  }
  for (PetscInt i = 0; i < n; i++) {
    ck_assert_int_eq(rxn[2 * i], n + i);         /* 0 -> S_i by k_i */
    ck_assert_int_eq(rxn[2 * i + 1], n - 1 - i); /* S_i -> 0 by g_i */
  }
  CHK(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  CHK(PetscFree(names[7]));
  CHK(PetscStrallocpy("g1999", &names[7])); /* g1999 is names[0] too */
  ck_assert_int_ne(StgssaModelResolveFit(m, P, (const char *const *)names, fit, rxn), 0);
  CHK(PetscFree(names[7]));
  CHK(PetscStrallocpy("nonesuch", &names[7]));
  ck_assert_int_ne(StgssaModelResolveFit(m, P, (const char *const *)names, fit, rxn), 0);
  CHK(PetscPopErrorHandler());
  for (PetscInt q = 0; q < P; q++) CHK(PetscFree(names[q]));
  CHK(PetscFree3(names, fit, rxn));
  CHK(StgssaModelDestroy(&m));
  free(text);
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s  = suite_create("history");
  TCase   *tc = tcase_create("history");
  SRunner *sr;
  int      failed;
  char     dir[] = "/tmp/test_history_XXXXXX";

  if (PetscInitialize(&argc, &argv, NULL, NULL)) return EXIT_FAILURE;
  if (!mkdtemp(dir) || chdir(dir)) return EXIT_FAILURE;
  if (PetscOptionsSetValue(NULL, "-stgssa_result_ntraj_factor", "0")) return EXIT_FAILURE;
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_history_every);
  tcase_add_test(tc, test_history_every_crn);
  tcase_add_test(tc, test_names);
  tcase_add_test(tc, test_resolve_fit);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (PetscFinalize()) return EXIT_FAILURE;
  {
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd)) { /* the files are left in /tmp */
    }
  }
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
