/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Fuzz harness: StgssaExprCompile (src/model/expr.c) and, on a compiled expression, every
  evaluator: Eval, EvalGrad, the *Work variants, EvalInterval, ToString. The resolver knows
  species x, y; parameters k, K, n; inputs u, w; and the time t. Checked: an error leaves no
  expression and a terminated message; used-variable lists are in range; the Work variants agree
  with the plain ones bitwise; a point interval that succeeds encloses the value; the printed form
  compiles again to the same value.
*/
#include "fuzz_util.h"

#include <math.h>
#include <stgssa/expr.h>

static const char *const sp_names[]  = {"x", "y"};
static const char *const par_names[] = {"k", "K", "n"};
static const char *const in_names[]  = {"u", "w"};

static int lookup(const char *const *names, int n, const char *s, size_t len)
{
  for (int i = 0; i < n; i++)
    if (strlen(names[i]) == len && !memcmp(names[i], s, len)) return i;
  return -1;
}

static StgssaExprVarKind resolver(void *ctx, const char *s, size_t len, int *index)
{
  (void)ctx;
  if (len == 1 && s[0] == 't') return STGSSA_EXPR_TIME;
  if ((*index = lookup(sp_names, 2, s, len)) >= 0) return STGSSA_EXPR_SPECIES;
  if ((*index = lookup(par_names, 3, s, len)) >= 0) return STGSSA_EXPR_PARAM;
  if ((*index = lookup(in_names, 2, s, len)) >= 0) return STGSSA_EXPR_INPUT;
  return STGSSA_EXPR_UNKNOWN;
}

static const char *namer(void *ctx, StgssaExprVarKind kind, int index)
{
  (void)ctx;
  switch (kind) {
  case STGSSA_EXPR_SPECIES: return sp_names[index];
  case STGSSA_EXPR_PARAM:   return par_names[index];
  case STGSSA_EXPR_INPUT:   return in_names[index];
  case STGSSA_EXPR_TIME:    return "t";
  default:                  return NULL;
  }
}

/* a == b bitwise, or both NaN */
static int same(double a, double b) { return (isnan(a) && isnan(b)) || !memcmp(&a, &b, sizeof a); }

static void check_used(const StgssaExpr *e)
{
  int        n;
  const int *u = StgssaExprUsedSpecies(e, &n);
  FUZZ_CHECK(n >= 0 && n <= 2 && (n == 0 || u));
  for (int i = 0; i < n; i++) FUZZ_CHECK(u[i] >= 0 && u[i] < 2 && (i == 0 || u[i] > u[i - 1]));
  u = StgssaExprUsedParams(e, &n);
  FUZZ_CHECK(n >= 0 && n <= 3 && (n == 0 || u));
  for (int i = 0; i < n; i++) FUZZ_CHECK(u[i] >= 0 && u[i] < 3 && (i == 0 || u[i] > u[i - 1]));
  u = StgssaExprUsedInputs(e, &n);
  FUZZ_CHECK(n >= 0 && n <= 2 && (n == 0 || u));
  for (int i = 0; i < n; i++) FUZZ_CHECK(u[i] >= 0 && u[i] < 2 && (i == 0 || u[i] > u[i - 1]));
}

static void evaluate(const StgssaExpr *e, const double *sp, const double *par, const double *in, double t)
{
  double  ds[2], dp[3], di[2], dt, v, vg, vw, vgw, lo, hi;
  size_t  wn = StgssaExprWorkSize(e);
  double *work = (double *)malloc((wn ? wn : 1) * sizeof(double));

  if (!work) abort();
  v   = StgssaExprEval(e, sp, par, in, t);
  vg  = StgssaExprEvalGrad(e, sp, par, in, t, ds, dp, di, &dt);
  vw  = StgssaExprEvalWork(e, sp, par, in, t, work);
  vgw = StgssaExprEvalGradWork(e, sp, par, in, t, NULL, NULL, NULL, NULL, work);
  FUZZ_CHECK(same(v, vw));
  FUZZ_CHECK(same(vg, vgw));
  /* a point box: an enclosure, when given, holds the value */
  if (!StgssaExprEvalInterval(e, sp, par, in, in, t, t, &lo, &hi) && !isnan(v)) FUZZ_CHECK(lo <= v && v <= hi);
  /* a wide box, reversed and NaN boxes (no enclosure for the last two) */
  {
    double ilo[2] = {in[0] - 1, -INFINITY}, ihi[2] = {in[0] + 1, INFINITY};
    (void)StgssaExprEvalInterval(e, sp, par, ilo, ihi, 0, 10, &lo, &hi);
    FUZZ_CHECK(StgssaExprEvalInterval(e, sp, par, in, in, 2, 1, &lo, &hi) != 0 || !StgssaExprUsesTime(e));
    (void)StgssaExprEvalInterval(e, sp, par, in, in, NAN, NAN, &lo, &hi);
  }
  free(work);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  StgssaExpr *e = NULL, *e2 = NULL;
  char        err[256], small[8], *text;
  int         rc, n;

  memset(err, 'x', sizeof(err));
  rc = StgssaExprCompile((const char *)data, size, "fuzz.expr", 1, 1, resolver, NULL, &e, err, sizeof(err));
  if (rc) {
    FUZZ_CHECK_MSG(err);
    FUZZ_CHECK(e == NULL && err[0]);
    FUZZ_CHECK(rc == STGSSA_PARSE_ESYNTAX || rc == STGSSA_PARSE_ENOMEM);
    return 0;
  }
  FUZZ_CHECK(e != NULL && StgssaExprLength(e) >= 1);
  check_used(e);
  {
    const double sp[2] = {3, 0}, par[3] = {0.5, 2, 4}, in[2] = {1.5, -2};
    const double sp0[2] = {0, 0}, par0[3] = {0, 0, 0}, in0[2] = {0, 0};
    evaluate(e, sp, par, in, 0.25);
    evaluate(e, sp0, par0, in0, 0);
  }
  /* printing: truncated like snprintf, and the full text compiles again to the same value */
  n = StgssaExprToString(e, namer, NULL, small, sizeof small);
  FUZZ_CHECK(n >= 0 && strlen(small) == (size_t)(n < (int)sizeof small ? n : (int)sizeof small - 1));
  (void)StgssaExprToString(e, NULL, NULL, small, sizeof small);
  text = (char *)malloc((size_t)n + 1);
  if (!text) abort();
  FUZZ_CHECK(StgssaExprToString(e, namer, NULL, text, (size_t)n + 1) == n && strlen(text) == (size_t)n);
  rc = StgssaExprCompile(text, (size_t)n, "printed", 1, 1, resolver, NULL, &e2, err, sizeof(err));
  if (rc) fprintf(stderr, "printed form '%s' does not compile: %s\n", text, err);
  FUZZ_CHECK(rc == 0);
  {
    const double sp[2] = {3, 0}, par[3] = {0.5, 2, 4}, in[2] = {1.5, -2};
    double       a = StgssaExprEval(e, sp, par, in, 0.25), b = StgssaExprEval(e2, sp, par, in, 0.25);
    if (!same(a, b) && !(fabs(a - b) <= 1e-12 * fabs(a))) fprintf(stderr, "printed form '%s': %.17g, original %.17g\n", text, b, a);
    FUZZ_CHECK(same(a, b) || fabs(a - b) <= 1e-12 * fabs(a));
  }
  free(text);
  StgssaExprFree(&e2);
  StgssaExprFree(&e);
  FUZZ_CHECK(e == NULL);
  return 0;
}
