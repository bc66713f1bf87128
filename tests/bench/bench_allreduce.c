/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Benchmark helper (on demand, never pass/fail) for tests/bench/bench_scaling.sh: the cost of the
  one reduction per evaluation, measured here and extrapolated to many ranks.

  1. Times MPI_Allreduce(SUM) of n doubles on this communicator (run it on 2 ranks) for several n
     (median of repeated calls) and fits t(n) = alpha + beta * 8n by least squares of the relative
     error (each size weighs the same; plain least squares would let the largest size alone set
     both constants, and noise there make alpha negative). On p = 2 the
     standard allreduce model  t(p, bytes) = alpha * log2(p) + beta * bytes * 2(p-1)/p  is exactly
     alpha + beta * bytes, so the fit gives the model's latency alpha and inverse bandwidth beta.
  2. Times the two messages of an evaluation directly:
       nominal: M(1+P) doubles (the means and their derivatives, what the chain rule needs);
       actual:  what the evaluator reduces: K batches x (2M + 2MP) exact sums, each
                STGSSA_EXACTSUM_LIMBS + 2 = 19 int64 (bitwise reproducibility and batch standard
                errors cost this factor 38K over the nominal size), plus 2 small reductions.
  3. Predicts, for weak scaling (fixed trajectories per rank, per-rank compute time t_c per
     evaluation, measured by the script), the reduction time per evaluation, the parallel
     efficiency t_c / (t_c + t_red) and the events/s with gradients at 256, 1024, 4096 ranks, for
     the measured shared-memory alpha, beta and for an interconnect (defaults: InfiniBand-like
     alpha = 2 us, beta = 1/(10 GB/s)).

  Assumptions: the tree/ring model above (a real MPI switches algorithms by size; contention,
  stragglers and OS noise are ignored); every rank computes for the same t_c (the load balance is
  measured separately: events max/mean per rank); the exact sums need no carries in the reduction
  (they are plain int64 sums, so MPI may use its fastest algorithm).

  usage: mpirun -n 2 bench_allreduce -M M -P P [-K 16] [-tc seconds] [-events_per_rank e]
         [-alpha 2e-6] [-beta 1e-10] [-reps 200]
*/
#include <mpi.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* median over reps of the max over ranks of one MPI_Allreduce of n elements of type t */
static double time_allreduce(MPI_Comm comm, int n, MPI_Datatype t, int reps)
{
  size_t  sz = t == MPI_DOUBLE ? sizeof(double) : sizeof(long long);
  void   *in = calloc((size_t)n, sz), *out = calloc((size_t)n, sz);
  double *ts = malloc(sizeof(double) * (size_t)reps), med;
  for (int w = 0; w < 5; w++) MPI_Allreduce(in, out, n, t, MPI_SUM, comm); /* warm-up */
  for (int r = 0; r < reps; r++) {
    double t0, dt;
    MPI_Barrier(comm);
    t0 = MPI_Wtime();
    MPI_Allreduce(in, out, n, t, MPI_SUM, comm);
    dt = MPI_Wtime() - t0;
    MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, comm);
    ts[r] = dt;
  }
  qsort(ts, (size_t)reps, sizeof(double), cmp_double);
  med = ts[reps / 2];
  free(in), free(out), free(ts);
  return med;
}

static double model(double alpha, double beta, double p, double bytes, double nsmall)
{
  /* one large reduction + nsmall latency-bound ones (event counts, wall time) */
  return (1 + nsmall) * alpha * log2(p) + beta * bytes * 2 * (p - 1) / p;
}

int main(int argc, char **argv)
{
  int    rank, size, M = 0, P = 3, K = 16, reps = 200;
  double tc = 0, epr = 0, alpha_ib = 2e-6, beta_ib = 1.0 / 10e9;

  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "-M")) M = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-P")) P = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-K")) K = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-tc")) tc = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "-events_per_rank")) epr = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "-alpha")) alpha_ib = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "-beta")) beta_ib = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "-reps")) reps = atoi(argv[i + 1]);
  }
  if (M <= 0 || size < 2) {
    if (!rank) fprintf(stderr, "usage: mpirun -n 2 bench_allreduce -M M -P P [-K 16] [-tc s] [-events_per_rank e] [-alpha a] [-beta b]\n");
    MPI_Finalize();
    return 1;
  }
  {
    static const int sizes[] = {1, 16, 128, 1024, 8192, 65536, 262144};
    const int        ns      = (int)(sizeof(sizes) / sizeof(sizes[0]));
    double           sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, alpha, beta;
    const int        nnom = M * (1 + P), nact = K * (2 * M + 2 * M * P) * 19;
    double           tnom, tact, tsmall;
    if (!rank) printf("MPI_Allreduce(SUM) on %d ranks, median of %d calls:\n  %10s %12s %12s\n", size, reps, "doubles", "bytes", "seconds");
    for (int s = 0; s < ns; s++) {
      const double t = time_allreduce(MPI_COMM_WORLD, sizes[s], MPI_DOUBLE, sizes[s] > 10000 ? reps / 4 + 1 : reps), x = 8.0 * sizes[s];
      const double w = 1 / (t * t); /* relative error */
      if (!rank) printf("  %10d %12.0f %12.3e\n", sizes[s], x, t);
      sw += w, sx += w * x, sy += w * t, sxx += w * x * x, sxy += w * x * t;
    }
    beta  = (sw * sxy - sx * sy) / (sw * sxx - sx * sx);
    alpha = (sy - beta * sx) / sw;
    if (alpha <= 0) alpha = time_allreduce(MPI_COMM_WORLD, 1, MPI_DOUBLE, reps); /* noise: take the 1-double time */
    tnom   = time_allreduce(MPI_COMM_WORLD, nnom, MPI_DOUBLE, reps);
    tact   = time_allreduce(MPI_COMM_WORLD, nact, MPI_LONG_LONG, reps);
    tsmall = time_allreduce(MPI_COMM_WORLD, 3, MPI_LONG_LONG, reps);
    if (!rank) {
      const double pred[3]  = {256, 1024, 4096};
      const double ab[2][2] = {
        {alpha,    beta   },
        {alpha_ib, beta_ib}
      };
      const char *abname[2] = {"shared memory (measured)", "interconnect (assumed)"};
      printf("fit: alpha = %.3g s, beta = %.3g s/byte (%.3g GB/s)\n", alpha, beta, beta > 0 ? 1e-9 / beta : INFINITY);
      printf("reduction of an evaluation, M = %d observables, P = %d, K = %d batches:\n", M, P, K);
      printf("  nominal M(1+P) = %d doubles (%d bytes): measured %.3e s, fit %.3e s\n", nnom, 8 * nnom, tnom, model(alpha, beta, 2, 8.0 * nnom, 0));
      printf("  actual  K(2M+2MP)x19 = %d int64 (%d bytes): measured %.3e s, fit %.3e s\n", nact, 8 * nact, tact, model(alpha, beta, 2, 8.0 * nact, 0));
      printf("  small   3 int64: %.3e s (the event counts; the wall time/max events one is the same size)\n", tsmall);
      if (tc > 0) {
        printf("weak-scaling prediction, per-rank compute %.4g s per evaluation%s:\n", tc, epr > 0 ? "" : " (no -events_per_rank: no events/s)");
        printf("  %-26s %6s %14s %14s %10s %14s\n", "alpha, beta", "ranks", "t_red nominal", "t_red actual", "eff actual", "events/s");
        for (int a = 0; a < 2; a++)
          for (int k = 0; k < 3; k++) {
            const double tn = model(ab[a][0], ab[a][1], pred[k], 8.0 * nnom, 2), ta = model(ab[a][0], ab[a][1], pred[k], 8.0 * nact, 2);
            printf("  %-26s %6.0f %14.3e %14.3e %9.2f%% %14.3e\n", abname[a], pred[k], tn, ta, 100 * tc / (tc + ta), epr > 0 ? pred[k] * epr / (tc + ta) : 0.0);
          }
        printf("  (alpha %.3g s, beta %.3g s/byte assumed for the interconnect; override with -alpha, -beta)\n", alpha_ib, beta_ib);
        if (epr > 0) printf("predicted 256-rank events/s with gradients (interconnect): %.3e\n", 256 * epr / (tc + model(alpha_ib, beta_ib, 256, 8.0 * nact, 2)));
      }
    }
  }
  MPI_Finalize();
  return 0;
}
