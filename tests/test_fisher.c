/* SPDX-License-Identifier: BSD-2-Clause */
/*
  The TAO type "fisher" (src/opt/fisher): stochastic Fisher scoring. On a quadratic
  f = (x - a)^T A (x - a) / 2 with its Hessian A as the "Fisher information", the scoring step
  is Newton's: one step lands on a (to rounding) when no cap or bound acts, whatever the
  conditioning and correlation of A (an Adam step would not). Also: the trust length per
  eigendirection (-tao_fisher_max_step), the eigenvalue floor (-tao_fisher_damping) on a singular A, bounds
  (a coordinate held at its bound, the free ones solved for with the rest), restart by
  TaoFisherSetStep (bitwise the same iterates), option validation, and the missing Hessian.
  Vecs on PETSC_COMM_WORLD with all entries on rank 0, as the driver holds them; run on 1 rank
  or under mpirun -n 2.
*/
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stgssa/fisher.h>

#define N 3

typedef struct {
  PetscReal A[N][N]; /* symmetric positive semidefinite */
  PetscReal a[N];
  PetscReal xs[8][N]; /* iterates seen by the monitor */
  PetscInt  nx;
} Quad;

static PetscErrorCode FormFG(Tao tao, Vec X, PetscReal *f, Vec G, void *ctx)
{
  Quad              *q = (Quad *)ctx;
  const PetscScalar *x;
  PetscScalar       *g;
  PetscInt           n;
  PetscReal          fl = 0;

  PetscFunctionBeginUser;
  PetscCall(VecGetLocalSize(X, &n));
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(VecGetArray(G, &g));
  if (n)
    for (PetscInt i = 0; i < N; i++) {
      PetscReal gi = 0;
      for (PetscInt j = 0; j < N; j++) gi += q->A[i][j] * (x[j] - q->a[j]);
      g[i] = gi;
      fl += 0.5 * (x[i] - q->a[i]) * gi;
    }
  PetscCall(VecRestoreArray(G, &g));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCallMPI(MPI_Allreduce(&fl, f, 1, MPIU_REAL, MPIU_SUM, PetscObjectComm((PetscObject)X)));
  PetscFunctionReturn(0);
}

static PetscErrorCode FormH(Tao tao, Vec X, Mat H, Mat Hpre, void *ctx)
{
  Quad       *q = (Quad *)ctx;
  PetscInt    rlo, rhi;
  PetscScalar vals[N * N];
  PetscInt    idx[N] = {0, 1, 2};

  PetscFunctionBeginUser;
  PetscCall(MatGetOwnershipRange(H, &rlo, &rhi));
  for (PetscInt i = 0; i < N; i++)
    for (PetscInt j = 0; j < N; j++) vals[i * N + j] = q->A[i][j];
  if (rhi > rlo) PetscCall(MatSetValues(H, N, idx, N, idx, vals, INSERT_VALUES));
  PetscCall(MatAssemblyBegin(H, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(H, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(0);
}

static PetscErrorCode Record(Tao tao, void *ctx)
{
  Quad              *q = (Quad *)ctx;
  Vec                X;
  const PetscScalar *x;
  PetscInt           n;

  PetscFunctionBeginUser;
  PetscCall(TaoGetSolution(tao, &X));
  PetscCall(VecGetLocalSize(X, &n));
  PetscCall(VecGetArrayRead(X, &x));
  if (q->nx < 8) {
    for (PetscInt i = 0; i < N; i++) q->xs[q->nx][i] = n ? x[i] : 0;
    q->nx++;
  }
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscFunctionReturn(0);
}

/* A Tao of type fisher on the quadratic from x0; options from the string (pushed first). */
static void Solve(Quad *q, const PetscReal x0[N], const PetscReal *lo, const PetscReal *hi, PetscInt maxit, PetscInt step0, const char *opts, PetscReal xout[N])
{
  Tao         tao;
  Vec         x, xl = NULL, xu = NULL;
  Mat         H;
  PetscMPIInt rank;
  PetscInt    n;

  ck_assert(!MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  n = rank == 0 ? N : 0;
  if (opts) ck_assert(!PetscOptionsInsertString(NULL, opts));
  ck_assert(!VecCreateMPI(PETSC_COMM_WORLD, n, N, &x));
  if (n)
    for (PetscInt i = 0; i < N; i++) ck_assert(!VecSetValue(x, i, x0[i], INSERT_VALUES));
  ck_assert(!VecAssemblyBegin(x) && !VecAssemblyEnd(x));
  ck_assert(!MatCreateDense(PETSC_COMM_WORLD, n, n, N, N, NULL, &H));
  ck_assert(!TaoCreate(PETSC_COMM_WORLD, &tao));
  ck_assert(!TaoSetType(tao, TAOFISHER));
  ck_assert(!TaoSetSolution(tao, x));
  ck_assert(!TaoSetObjectiveAndGradient(tao, NULL, FormFG, q));
  ck_assert(!TaoSetHessian(tao, H, H, FormH, q));
  ck_assert(!TaoSetMaximumIterations(tao, maxit));
  if (lo) {
    ck_assert(!VecDuplicate(x, &xl) && !VecDuplicate(x, &xu));
    if (n)
      for (PetscInt i = 0; i < N; i++) {
        ck_assert(!VecSetValue(xl, i, lo[i], INSERT_VALUES));
        ck_assert(!VecSetValue(xu, i, hi[i], INSERT_VALUES));
      }
    ck_assert(!VecAssemblyBegin(xl) && !VecAssemblyEnd(xl) && !VecAssemblyBegin(xu) && !VecAssemblyEnd(xu));
    ck_assert(!TaoSetVariableBounds(tao, xl, xu));
  }
  q->nx = 0;
  ck_assert(!TaoSetMonitor(tao, Record, q, NULL));
  ck_assert(!TaoSetFromOptions(tao));
  ck_assert(!TaoSetUp(tao));
  ck_assert(!TaoFisherSetStep(tao, step0));
  ck_assert(!TaoSolve(tao));
  {
    const PetscScalar *xa;
    PetscReal          buf[N] = {0, 0, 0};
    ck_assert(!VecGetArrayRead(x, &xa));
    for (PetscInt i = 0; i < n; i++) buf[i] = xa[i];
    ck_assert(!VecRestoreArrayRead(x, &xa));
    ck_assert(!MPI_Bcast(buf, N, MPIU_REAL, 0, PETSC_COMM_WORLD));
    for (PetscInt i = 0; i < N; i++) xout[i] = buf[i];
  }
  ck_assert(!TaoDestroy(&tao));
  ck_assert(!MatDestroy(&H));
  ck_assert(!VecDestroy(&x));
  ck_assert(!VecDestroy(&xl));
  ck_assert(!VecDestroy(&xu));
  if (opts) ck_assert(!PetscOptionsClear(NULL));
}

/* an ill-conditioned, strongly correlated A (eigenvalues 0.052, 1.05, 19.9) */
static void Correlated(Quad *q)
{
  const PetscReal A[N][N] = {
    {10.0,  9.9,  0.0},
    {9.9,   10.0, 0.3},
    {0.0,   0.3,  1.0}
  };
  memset(q, 0, sizeof(*q));
  memcpy(q->A, A, sizeof(A));
  q->a[0] = 0.3;
  q->a[1] = -0.2;
  q->a[2] = 0.1;
}

START_TEST(test_newton_step)
{
  Quad            q;
  const PetscReal x0[N] = {0.5, 0.1, -0.2};
  PetscReal       x[N];

  Correlated(&q);
  Solve(&q, x0, NULL, NULL, 1, 0, "-tao_fisher_max_step 100", x);
  /* one step: x0 - A^{-1} A (x0 - a) = a; the damping floor 1e-4 lambda_max ~ 2e-3 is below the smallest eigenvalue */
  for (PetscInt i = 0; i < N; i++) ck_assert_msg(fabs(x[i] - q.a[i]) < 1e-10, "x[%d] = %.17g, expected %.17g", (int)i, (double)x[i], (double)q.a[i]);
}
END_TEST

START_TEST(test_cap_and_floor)
{
  Quad            q;
  const PetscReal x0[N] = {0.2, 0.3, 5.0};
  PetscReal       x[N];

  /* diagonal A = diag(4, 1, 1e-3), a = 0: the scoring step along each axis is x0_i; the weak third
     one (5) is clipped to the trust length 0.5 while the others take their full step to 0 */
  memset(&q, 0, sizeof(q));
  q.A[0][0] = 4.0;
  q.A[1][1] = 1.0;
  q.A[2][2] = 1e-3;
  Solve(&q, x0, NULL, NULL, 1, 0, "-tao_fisher_max_step 0.5", x);
  ck_assert_msg(fabs(x[0]) < 1e-15 && fabs(x[1]) < 1e-15 && fabs(x[2] - 4.5) < 1e-14, "x = (%g, %g, %g), expected (0, 0, 4.5)", (double)x[0], (double)x[1], (double)x[2]);
  /* singular A (a direction with no curvature): the floor mu lambda_max keeps the step finite */
  memset(&q, 0, sizeof(q));
  q.A[0][0] = q.A[1][1] = q.A[0][1] = q.A[1][0] = 1.0; /* eigenvalues 2, 0 */
  q.A[2][2]                                       = 1.0;
  q.a[0] = q.a[1] = q.a[2] = 0.0;
  {
    const PetscReal y0[N] = {1e-3, -1e-3, 0.5};
    Solve(&q, y0, NULL, NULL, 1, 0, "-tao_fisher_max_step 100 -tao_fisher_damping 0.25", x);
    /* g = (0, 0, 0.5): only x_2 moves, by the Newton step 0.5 (eigenvalue 1 > floor 0.5) */
    ck_assert(fabs(x[0] - 1e-3) < 1e-15 && fabs(x[1] + 1e-3) < 1e-15 && fabs(x[2]) < 1e-14);
    /* g along the null direction (1, -1)/sqrt 2 only: eigenvalue 0 raised to the floor 0.25 * 2 = 0.5 */
    q.A[2][2] = 0.0;
    q.A[0][1] = q.A[1][0] = -1.0; /* now (1, -1) has eigenvalue 2, (1, 1) eigenvalue 0 */
    Solve(&q, y0, NULL, NULL, 1, 0, "-tao_fisher_max_step 100 -tao_fisher_damping 0.25", x);
    /* g = A y0 = (2e-3, -2e-3, 0) lies on (1, -1) with eigenvalue 2: x = y0 - g/2 = 0 in the first two */
    ck_assert(fabs(x[0]) < 1e-15 && fabs(x[1]) < 1e-15 && fabs(x[2] - 0.5) < 1e-15);
  }
}
END_TEST

START_TEST(test_bounds)
{
  Quad            q;
  const PetscReal x0[N] = {0.5, 0.1, -0.2}, lo[N] = {0.4, -1, -1}, hi[N] = {1, 1, 1};
  PetscReal       x[N];

  Correlated(&q);
  /* a_0 = 0.3 is below the bound 0.4: after the first step x_0 sits at 0.4 and the gradient pushes
     outward, so later steps hold it and solve the 2 x 2 system of the others: the constrained
     minimizer x_{1,2} = a_{1,2} - A_FF^{-1} A_F0 (0.4 - a_0) */
  Solve(&q, x0, lo, hi, 5, 0, "-tao_fisher_max_step 100", x);
  {
    const PetscReal d  = 0.4 - q.a[0];
    const PetscReal r1 = -q.A[1][0] * d, r2 = -q.A[2][0] * d; /* A_FF (x_F - a_F) = -A_F0 d */
    const PetscReal det = q.A[1][1] * q.A[2][2] - q.A[1][2] * q.A[2][1];
    const PetscReal y1 = (q.A[2][2] * r1 - q.A[1][2] * r2) / det, y2 = (-q.A[2][1] * r1 + q.A[1][1] * r2) / det;
    ck_assert_msg(x[0] == 0.4, "x_0 = %.17g, expected the bound 0.4", (double)x[0]);
    ck_assert_msg(fabs(x[1] - (q.a[1] + y1)) < 1e-10 && fabs(x[2] - (q.a[2] + y2)) < 1e-10, "x = (%g, %g), expected (%g, %g)", (double)x[1], (double)x[2], (double)(q.a[1] + y1), (double)(q.a[2] + y2));
  }
}
END_TEST

START_TEST(test_restart)
{
  Quad            q, r;
  const PetscReal x0[N] = {0.5, 0.1, -0.2};
  PetscReal       x4[N], x2[N], y4[N];

  Correlated(&q);
  r = q;
  Solve(&q, x0, NULL, NULL, 4, 0, "-tao_fisher_max_step 0.05", x4);
  Solve(&r, x0, NULL, NULL, 2, 0, "-tao_fisher_max_step 0.05", x2);
  Solve(&r, x2, NULL, NULL, 4, 2, "-tao_fisher_max_step 0.05", y4); /* continue at step 2 up to -tao_max_it 4 */
  ck_assert_int_eq(r.nx, 3);                                         /* iterations 2, 3, 4 */
  for (PetscInt i = 0; i < N; i++) ck_assert_msg(x4[i] == y4[i], "restart: x[%d] %.17g vs %.17g", (int)i, (double)x4[i], (double)y4[i]);
}
END_TEST

START_TEST(test_options_and_errors)
{
  Tao         tao;
  Vec         x;
  PetscMPIInt rank;

  ck_assert(!MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  ck_assert(!VecCreateMPI(PETSC_COMM_WORLD, rank == 0 ? N : 0, N, &x));
  ck_assert(!VecSet(x, 0.0));
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  for (int k = 0; k < 3; k++) {
    static const char *const bad[3] = {"-tao_fisher_step 0", "-tao_fisher_damping 1", "-tao_fisher_max_step -1"};
    ck_assert(!TaoCreate(PETSC_COMM_WORLD, &tao));
    ck_assert(!TaoSetType(tao, TAOFISHER));
    ck_assert(!PetscOptionsInsertString(NULL, bad[k]));
    ck_assert_int_eq(TaoSetFromOptions(tao), PETSC_ERR_ARG_OUTOFRANGE);
    ck_assert(!PetscOptionsClear(NULL));
    ck_assert(!TaoDestroy(&tao));
  }
  /* no Hessian routine: a clear error at the solve */
  ck_assert(!TaoCreate(PETSC_COMM_WORLD, &tao));
  ck_assert(!TaoSetType(tao, TAOFISHER));
  ck_assert(!TaoSetSolution(tao, x));
  ck_assert(!TaoSetObjectiveAndGradient(tao, NULL, FormFG, NULL));
  ck_assert(!TaoSetUp(tao));
  ck_assert_int_eq(TaoSolve(tao), PETSC_ERR_ORDER);
  ck_assert(!TaoDestroy(&tao));
  ck_assert(!PetscPopErrorHandler());
  ck_assert(!VecDestroy(&x));
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s  = suite_create("fisher");
  TCase   *tc = tcase_create("fisher");
  SRunner *sr;
  int      failed;

  if (PetscInitialize(&argc, &argv, NULL, NULL)) return EXIT_FAILURE;
  if (TaoRegister(TAOFISHER, TaoCreate_FISHER)) return EXIT_FAILURE;
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_newton_step);
  tcase_add_test(tc, test_cap_and_floor);
  tcase_add_test(tc, test_bounds);
  tcase_add_test(tc, test_restart);
  tcase_add_test(tc, test_options_and_errors);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (PetscFinalize()) return EXIT_FAILURE;
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
