/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Benchmark (on demand, never pass/fail): nanoseconds per StgssaExprEval / StgssaExprEvalGrad
  for a few rate laws, in a tight loop whose species value changes every call.
  usage: bench_expr [iterations, default 5e6]
*/
#include <stgssa/expr.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static StgssaExprVarKind resolver(void *ctx, const char *s, size_t len, int *index)
{
  static const char *const sp[] = {"A", "M"}, *const par[] = {"vmax", "Km", "k", "K", "n"};
  (void)ctx;
  for (int i = 0; i < 2; i++)
    if (strlen(sp[i]) == len && !memcmp(sp[i], s, len)) return *index = i, STGSSA_EXPR_SPECIES;
  for (int i = 0; i < 5; i++)
    if (strlen(par[i]) == len && !memcmp(par[i], s, len)) return *index = i, STGSSA_EXPR_PARAM;
  return STGSSA_EXPR_UNKNOWN;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
  static const char *const laws[] = {"vmax*M/(Km + M)", "k*A^n/(K^n + A^n)", "k*A^2/(K^2 + A^2)", "k*A*(A - 1)/2"};
  long                     iters  = argc > 1 ? atol(argv[1]) : 5000000;
  double                   s[2] = {10, 20}, p[5] = {2, 6, 1.5, 2, 2.5}, ds[2], dp[5], sink = 0;
  char                     err[256];

  for (size_t l = 0; l < sizeof laws / sizeof laws[0]; l++) {
    StgssaExpr *e = NULL;
    double      t0, t1, t2;
    if (StgssaExprCompile(laws[l], strlen(laws[l]), "bench", 1, 1, resolver, NULL, &e, err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      return 1;
    }
    t0 = now();
    for (long i = 0; i < iters; i++) {
      s[0] = s[1] = (double)(i & 1023) + 1;
      sink += StgssaExprEval(e, s, p, NULL, 0);
    }
    t1 = now();
    for (long i = 0; i < iters; i++) {
      s[0] = s[1] = (double)(i & 1023) + 1;
      sink += StgssaExprEvalGrad(e, s, p, NULL, 0, ds, dp, NULL, NULL) + dp[0];
    }
    t2 = now();
    printf("%-22s %2d instr  Eval %6.1f ns  EvalGrad %6.1f ns\n", laws[l], StgssaExprLength(e), 1e9 * (t1 - t0) / (double)iters,
           1e9 * (t2 - t1) / (double)iters);
    StgssaExprFree(&e);
  }
  printf("(checksum %g)\n", sink);
  return 0;
}
