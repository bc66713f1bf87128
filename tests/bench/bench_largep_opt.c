/* SPDX-License-Identifier: BSD-2-Clause */
/* The optimizer's own cost per iteration against the number of fitted log-rates P, without a
   simulation (StgssaOptimizerSetAnalyticProblem): TAO (blmvm with a bound on every name and common
   random numbers, or adam with the stochastic-route schedule), the history append, the progress
   line, the checkpoint every -bench_ckpt iterations and the final write, on the separable
   quadratic
       L(theta) = sum_p w_p (theta_p - c_p)^2 / 2,   w_p = 1 + (p mod 7),  c_p = log(0.4 + 0.3 (p mod 5))
   whose gradient gets noise se_p xi_p (xi from a hash of (evaluation, p), se_p = 0.05) when the
   draws are fresh. Prints, per P and method: iterations, set-up seconds (options with P names),
   microseconds per iteration outside the objective (the overhead), per P-entry, and the ratio of
   the per-iteration overhead to that at the smallest P. Timing only: never pass/fail.
   Options: -bench_P 10,1000,10000 -bench_its 40 -bench_ckpt 10 -bench_out DIR -bench_repeat 3
   (the median of the repeats, interleaved over P) -bench_every K (-stgssa_history_every) */
#include <stgssa/stgssa.h>
#include <stgssa/optimizer.h>

typedef struct {
  PetscInt  P;
  double    t_obj; /* seconds inside the objective */
  PetscBool noisy;
} Quad;

static double Xi(uint64_t a, uint64_t b) /* a standard-normal-ish number from (a, b): splitmix64, sum of 4 uniforms */
{
  uint64_t z = a * 0x9E3779B97F4A7C15ULL + b + 1;
  double   s = 0;
  for (int k = 0; k < 4; k++) {
    z += 0x9E3779B97F4A7C15ULL;
    uint64_t x = z;
    x          = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x          = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    x ^= x >> 31;
    s += (double)(x >> 11) / 9007199254740992.0;
  }
  return (s - 2.0) * 1.7320508075688772; /* variance 4/12 * 3 = 1 */
}

static PetscErrorCode QuadFn(const PetscReal theta[], PetscInt it, PetscInt64 ntraj, PetscReal *loss, PetscReal grad[], PetscReal se[], void *ctx)
{
  Quad     *q  = (Quad *)ctx;
  double    t0 = MPI_Wtime();
  PetscReal f  = 0;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < q->P; p++) {
    const PetscReal w = 1 + (p % 7), c = PetscLogReal(0.4 + 0.3 * (p % 5)), d = theta[p] - c;
    const PetscReal s = 0.05 * PetscSqrtReal(100.0 / (PetscReal)ntraj);
    f += 0.5 * w * d * d;
    grad[p] = w * d + (q->noisy ? s * Xi((uint64_t)it, (uint64_t)p) : 0);
    se[p]   = s;
  }
  *loss = f;
  q->t_obj += MPI_Wtime() - t0;
  PetscFunctionReturn(0);
}

static int CmpD(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One run: seconds of set-up, of solving outside the objective, of the final write; iterations. */
static PetscErrorCode Run(PetscInt P, PetscBool adam, PetscInt its, PetscInt ckpt, PetscInt every, const char *dir, double t[3], PetscInt *nit)
{
  StgssaOptimizer o;
  Quad            q = {P, 0, (PetscBool)adam};
  char          **names, *bounds, out[PETSC_MAX_PATH_LEN], buf[64];
  PetscReal      *theta0;
  size_t          len = 0;
  Tao             tao;
  double          t0;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(P, &names, P, &theta0));
  for (PetscInt p = 0; p < P; p++) {
    PetscCall(PetscSNPrintf(buf, sizeof(buf), "k%" PetscInt_FMT, p));
    PetscCall(PetscStrallocpy(buf, &names[p]));
    theta0[p] = 0;
  }
  PetscCall(PetscMalloc1(32 * (size_t)P + 1, &bounds));
  bounds[0] = 0;
  for (PetscInt p = 0; p < P; p++) { /* a bound on every name, in reverse order (no lucky linear search) */
    int n = snprintf(bounds + len, 32, "%sk%" PetscInt_FMT "=1e-3:1e3", p ? "," : "", P - 1 - p);
    len += (size_t)n;
  }
  PetscCall(PetscOptionsClearValue(NULL, "-stgssa_bounds"));
  PetscCall(PetscOptionsClearValue(NULL, "-stgssa_crn"));
  if (!adam) {
    PetscCall(PetscOptionsSetValue(NULL, "-stgssa_bounds", bounds));
    PetscCall(PetscOptionsSetValue(NULL, "-stgssa_crn", "1"));
  }
  PetscCall(PetscOptionsSetValue(NULL, "-tao_type", adam ? "adam" : "blmvm"));
  PetscCall(PetscSNPrintf(buf, sizeof(buf), "%" PetscInt_FMT, its));
  PetscCall(PetscOptionsSetValue(NULL, "-tao_max_it", buf));
  PetscCall(PetscOptionsSetValue(NULL, "-tao_gatol", "0"));
  PetscCall(PetscOptionsSetValue(NULL, "-tao_grtol", "0"));
  PetscCall(PetscOptionsSetValue(NULL, "-tao_gttol", "0"));
  PetscCall(PetscOptionsSetValue(NULL, "-stgssa_stop_window", "0"));
  PetscCall(PetscSNPrintf(buf, sizeof(buf), "%" PetscInt_FMT, ckpt));
  PetscCall(PetscOptionsSetValue(NULL, "-stgssa_checkpoint_interval", buf));
  if (every > 0) {
    PetscCall(PetscSNPrintf(buf, sizeof(buf), "%" PetscInt_FMT, every));
    PetscCall(PetscOptionsSetValue(NULL, "-stgssa_history_every", buf));
  }
  PetscCall(PetscSNPrintf(out, sizeof(out), "%s/bench_largep_%" PetscInt_FMT "_%s.h5", dir, P, adam ? "adam" : "blmvm"));

  t0 = MPI_Wtime();
  PetscCall(StgssaOptimizerCreate(PETSC_COMM_WORLD, &o));
  PetscCall(StgssaOptimizerSetAnalyticProblem(o, P, (const char *const *)names, theta0, 7, 100, QuadFn, &q));
  PetscCall(StgssaOptimizerSetOutput(o, out));
  PetscCall(StgssaOptimizerSetFromOptions(o));
  PetscCall(StgssaOptimizerSetUp(o));
  t[0] = MPI_Wtime() - t0;
  q.t_obj = 0;
  t0      = MPI_Wtime();
  PetscCall(StgssaOptimizerSolve(o));
  t[1] = MPI_Wtime() - t0 - q.t_obj;
  t0   = MPI_Wtime();
  PetscCall(StgssaOptimizerWrite(o));
  t[2] = MPI_Wtime() - t0;
  PetscCall(StgssaOptimizerGetTao(o, &tao));
  PetscCall(TaoGetIterationNumber(tao, nit));
  PetscCall(StgssaOptimizerDestroy(&o));
  for (PetscInt p = 0; p < P; p++) PetscCall(PetscFree(names[p]));
  PetscCall(PetscFree2(names, theta0));
  PetscCall(PetscFree(bounds));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscInt  Ps[8] = {10, 1000, 10000}, nP = 8, its = 40, ckpt = 10, repeat = 3, every = 0;
  char      dir[PETSC_MAX_PATH_LEN] = ".";
  PetscBool flg;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(PetscOptionsGetIntArray(NULL, NULL, "-bench_P", Ps, &nP, &flg));
  if (!flg) nP = 3;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_its", &its, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_ckpt", &ckpt, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_repeat", &repeat, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-bench_every", &every, NULL));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-bench_out", dir, sizeof(dir), NULL));
  PetscCall(PetscOptionsSetValue(NULL, "-stgssa_result_ntraj_factor", "0"));
  PetscCheck(repeat >= 1 && repeat <= 15, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE, "-bench_repeat 1..15");
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "bench_largep_opt: %" PetscInt_FMT " iterations, checkpoint every %" PetscInt_FMT ", median of %" PetscInt_FMT " (interleaved); seconds outside the objective\n", its, ckpt, repeat));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%-6s %7s %5s %10s %14s %12s %10s %14s\n", "method", "P", "its", "setup_s", "us_per_iter", "ns_per_iter_P", "write_s", "ratio_to_P0"));
  for (int m = 0; m < 2; m++) {
    double med[8][3], base = 0;
    PetscInt nit[8];
    double   all[8][15][3];
    for (PetscInt r = 0; r < repeat; r++)
      for (PetscInt i = 0; i < nP; i++) PetscCall(Run(Ps[i], (PetscBool)(m == 1), its, ckpt, every, dir, all[i][r], &nit[i]));
    for (PetscInt i = 0; i < nP; i++) {
      for (int c = 0; c < 3; c++) {
        double v[15];
        for (PetscInt r = 0; r < repeat; r++) v[r] = all[i][r][c];
        qsort(v, (size_t)repeat, sizeof(double), CmpD);
        med[i][c] = v[repeat / 2];
      }
      {
        const double per = 1e6 * med[i][1] / (double)PetscMax(nit[i], 1);
        if (i == 0) base = per;
        PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%-6s %7" PetscInt_FMT " %5" PetscInt_FMT " %10.4f %14.1f %12.1f %10.4f %14.1f\n", m ? "adam" : "blmvm", Ps[i], nit[i], med[i][0], per, 1e3 * per / (double)Ps[i], med[i][2], per / base));
      }
    }
  }
  PetscCall(PetscFinalize());
  return 0;
}
