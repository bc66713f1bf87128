/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Unit tests of the rate-law expressions (src/model/expr.c, include/stgssa/expr.h).
  Quiet unless a test fails; exit status nonzero on failure.

  Derivative check: forward-mode derivatives against central differences
  (f(x+h) - f(x-h)) / 2h with h = 1e-6 max(1,|x|), at NPOINTS random points per expression
  (fixed seed). Truncation error is O(h^2 f''') ~ 1e-12 relative; rounding error is
  ~ eps |f| / h ~ 1e-10 |f| / max(1,|x|), plus cancellation inside the expression of a few
  times that. The tolerance |ad - fd| <= 1e-6 (|ad| + |f| / max(1,|x|)) + 1e-12 therefore
  leaves a margin of about 1e3 over the expected error while still catching any wrong
  derivative formula (an error of a factor, a sign or a missing term is O(1) relative).
*/
#include <stgssa/expr.h>

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FNAME   "t.model"
#define NPOINTS 1000
#define NS      5
#define NPAR    6
#define NIN     2

/* species A=0, M=3, B=4 (1, 2 unused names X1 X2); params vmax=0 Km=1 k=2 K=3 n=4 c=5; inputs u=0 w=1; t */
static const char *const sp_names[NS]  = {"A", "X1", "X2", "M", "B"};
static const char *const par_names[NPAR] = {"vmax", "Km", "k", "K", "n", "c"};
static const char *const in_names[NIN] = {"u", "w"};

static int lookup(const char *const *names, int n, const char *s, size_t len)
{
  for (int i = 0; i < n; i++)
    if (strlen(names[i]) == len && !memcmp(names[i], s, len)) return i;
  return -1;
}

static StgssaExprVarKind resolver(void *ctx, const char *s, size_t len, int *index)
{
  (void)ctx;
  if ((*index = lookup(sp_names, NS, s, len)) >= 0) return STGSSA_EXPR_SPECIES;
  if ((*index = lookup(par_names, NPAR, s, len)) >= 0) return STGSSA_EXPR_PARAM;
  if ((*index = lookup(in_names, NIN, s, len)) >= 0) return STGSSA_EXPR_INPUT;
  if (len == 1 && s[0] == 't') return STGSSA_EXPR_TIME;
  return STGSSA_EXPR_UNKNOWN;
}

static const char *namer(void *ctx, StgssaExprVarKind kind, int index)
{
  (void)ctx;
  switch (kind) {
  case STGSSA_EXPR_SPECIES: return sp_names[index];
  case STGSSA_EXPR_PARAM: return par_names[index];
  case STGSSA_EXPR_INPUT: return in_names[index];
  default: return NULL;
  }
}

static StgssaExpr *compile_ok(const char *text)
{
  StgssaExpr *e = NULL;
  char        err[512];
  int         rc = StgssaExprCompile(text, strlen(text), FNAME, 3, 10, resolver, NULL, &e, err, sizeof err);
  ck_assert_msg(rc == STGSSA_PARSE_OK, "'%s': rc %d: %s", text, rc, err);
  ck_assert_ptr_nonnull(e);
  return e;
}

/* splitmix64 */
static uint64_t rng_state = 0x243f6a8885a308d3ull;
static double   uniform(double lo, double hi)
{
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z          = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return lo + (hi - lo) * ((double)(z >> 11) * 0x1.0p-53);
}

typedef struct {
  double s[NS], p[NPAR], u[NIN], t;
} Point;

static void random_point(Point *x)
{
  for (int i = 0; i < NS; i++) x->s[i] = uniform(0.5, 50);
  for (int i = 0; i < NPAR; i++) x->p[i] = uniform(0.1, 5);
  x->p[4] = uniform(0.5, 4); /* Hill exponent */
  for (int i = 0; i < NIN; i++) x->u[i] = uniform(-2, 2);
  x->t = uniform(0, 10);
}

static double eval_at(const StgssaExpr *e, const Point *x) { return StgssaExprEval(e, x->s, x->p, x->u, x->t); }

/* ---------------------------------------------------------------- values */

typedef struct {
  const char *text;
  double      value; /* at the fixed point below */
} ValueCase;

/* fixed point: A=3, M=4, B=0.5, vmax=2, Km=6, k=1.5, K=2, n=2.5, c=-1, u=0.25, w=-3, t=2 */
static const Point fixed = {{3, 0, 0, 4, 0.5}, {2, 6, 1.5, 2, 2.5, -1}, {0.25, -3}, 2};

static double hill_value(void) { return 1.5 * pow(3, 2.5) / (pow(2, 2.5) + pow(3, 2.5)); }

static const ValueCase value_cases[] = {
  {"vmax*M/(Km + M)",              2.0 * 4 / (6 + 4)},
  {"vmax * M / (Km+M)",            0.8              },
  {"A - M - B",                    3 - 4 - 0.5      },
  {"A / M / B",                    3.0 / 4 / 0.5    },
  {"A + M * B",                    5                },
  {"(A + M) * B",                  3.5              },
  {"-A^2",                         -9               },
  {"(-A)^2",                       9                },
  {"- -A",                         3                },
  {"+A",                           3                },
  {"2^A^2",                        512              },
  {"A^-1",                         1.0 / 3          },
  {"A^-n",                         0                }, /* filled in the test: pow(3,-2.5) */
  {"c^2",                          1                },
  {"c^3",                          -1               },
  {"c^n",                          NAN              }, /* negative base, non-integer exponent */
  {"-A*M",                         -12              },
  {"A*-M",                         -12              },
  {"exp(B) * log(M) + sqrt(A)",    0                }, /* filled in the test */
  {"min(A, M) + max(A, M)*10",     43               },
  {"min(M, A)",                    3                },
  {"A < M",                        1                },
  {"A <= 3",                       1                },
  {"A > M",                        0                },
  {"A >= M",                       0                },
  {"A == 3",                       1                },
  {"A != 3",                       0                },
  {"1 + A < M",                    0                }, /* comparison binds loosest */
  {"(A < M) + (A < M)",            2                },
  {"if(A > M, vmax, Km)",          6                },
  {"if(A - 3, vmax, Km*u)",        1.5              },
  {"u*t + w",                      -2.5             },
  {"1e-3*A + .5 + 2.E1",           20.503           },
  {"0^0 + A^0",                    2                },
  {"min(M, log(c))",               NAN              }, /* NaN propagates through min */
  {"log(c) < 1",                   NAN              }, /* and comparisons */
  {"if(log(c), 1, 2)",             NAN              },
  {"if(A > 0, log(A), log(c - A))", 0                }, /* filled: the other branch's NaN is ignored */
};

static int same(double a, double b, double rel) { return a == b || (isnan(a) && isnan(b)) || fabs(a - b) <= rel * fmax(1.0, fabs(b)); }

START_TEST(test_values)
{
  const ValueCase *c = &value_cases[_i];
  StgssaExpr      *e = compile_ok(c->text);
  double           want = c->value, v, vg, ds[NS], dp[NPAR], di[NIN], dt;

  if (!strcmp(c->text, "A^-n")) want = pow(3, -2.5);
  if (!strcmp(c->text, "exp(B) * log(M) + sqrt(A)")) want = exp(0.5) * log(4) + sqrt(3);
  if (!strcmp(c->text, "if(A > 0, log(A), log(c - A))")) want = log(3);
  v  = StgssaExprEval(e, fixed.s, fixed.p, fixed.u, fixed.t);
  vg = StgssaExprEvalGrad(e, fixed.s, fixed.p, fixed.u, fixed.t, ds, dp, di, &dt);
  ck_assert_msg(same(v, want, 1e-15), "'%s' = %.17g, expected %.17g", c->text, v, want);
  ck_assert_msg(same(vg, v, 0), "'%s': EvalGrad value %.17g != Eval %.17g", c->text, vg, v);
  StgssaExprFree(&e);
  ck_assert_ptr_null(e);
}
END_TEST

START_TEST(test_hill)
{
  StgssaExpr *e = compile_ok("k*A^n/(K^n + A^n)");
  double      v = StgssaExprEval(e, fixed.s, fixed.p, fixed.u, fixed.t), dp[NPAR], ds[NS];
  int         n;
  const int  *used;

  ck_assert(fabs(v - hill_value()) <= 1e-15 * hill_value());
  StgssaExprEvalGrad(e, fixed.s, fixed.p, fixed.u, fixed.t, ds, dp, NULL, NULL);
  used = StgssaExprUsedParams(e, &n);
  ck_assert_int_eq(n, 3);
  ck_assert_int_eq(used[0], 2); /* k */
  ck_assert_int_eq(used[1], 3); /* K */
  ck_assert_int_eq(used[2], 4); /* n */
  /* d/dk = value/k */
  ck_assert(fabs(dp[0] - v / 1.5) <= 1e-14 * v);
  /* Hill at A = 0: value 0 and d/dn = 0 (0^n log 0 taken as 0), not NaN */
  {
    double s0[NS] = {0, 0, 0, 4, 0.5};
    v             = StgssaExprEvalGrad(e, s0, fixed.p, fixed.u, fixed.t, ds, dp, NULL, NULL);
    ck_assert(v == 0);
    ck_assert(dp[2] == 0);
    ck_assert(ds[0] == 0); /* n = 2.5 > 1 */
  }
  StgssaExprFree(&e);
}
END_TEST

/* ---------------------------------------------------------------- derivatives */

static const char *const grad_cases[] = {
  "vmax*M/(Km + M)",
  "k*A^n/(K^n + A^n)",
  "k/(1 + (A/K)^2)",
  "k/(1 + (A/K)^4) - Km*A^-2",
  "exp(-k*t)*A + log(1 + M)*sqrt(B)",
  "min(A, M)*vmax + max(Km, u)",
  "if(A > M, k*A, K*M) + (u >= 0)*t + (A != M) - (B == 2)",
  "u^2*A^-1 + 3*A^2.5 - w^3",
  "Km^(M/10) + 2^k",
  "(A + u)^3/(1 + t)",
  "-A^2 + k*A*(A - 1)/2",
  "sqrt(A*M)/exp(u) - t*u + w/(2 + w^2)",
  "c*A*M*B/(1 + vmax*A + Km*M + K*B)",
  "log(vmax*A + 1)^n",
};

/* derivative of f with respect to the variable at *x, by central differences */
static double central(const StgssaExpr *e, Point *pt, double *x)
{
  double x0 = *x, h = 1e-6 * fmax(1.0, fabs(x0)), fp, fm;
  *x = x0 + h;
  fp = eval_at(e, pt);
  *x = x0 - h;
  fm = eval_at(e, pt);
  *x = x0;
  return (fp - fm) / (2 * h);
}

static void check_one(const char *text, double ad, double fd, double f, double x, const char *var, int point)
{
  double tol = 1e-6 * (fabs(ad) + fabs(f) / fmax(1.0, fabs(x))) + 1e-12;
  ck_assert_msg(isfinite(ad) && fabs(ad - fd) <= tol, "'%s' d/d%s at point %d: forward %.17g, central %.17g (tol %.3g)", text, var, point, ad, fd, tol);
}

START_TEST(test_gradients)
{
  const char *text = grad_cases[_i];
  StgssaExpr *e    = compile_ok(text);
  int         nS, nP, nI, p, k;
  const int  *uS = StgssaExprUsedSpecies(e, &nS), *uP = StgssaExprUsedParams(e, &nP), *uI = StgssaExprUsedInputs(e, &nI);
  double      ds[NS], dp[NPAR], di[NIN], dt, f;
  double     *work = malloc(StgssaExprWorkSize(e) * sizeof *work);
  Point       x;

  for (p = 0; p < NPOINTS; p++) {
    random_point(&x);
    f = StgssaExprEvalGrad(e, x.s, x.p, x.u, x.t, ds, dp, di, &dt);
    ck_assert_msg(isfinite(f), "'%s' not finite at point %d", text, p);
    ck_assert(f == eval_at(e, &x));
    ck_assert(f == StgssaExprEvalWork(e, x.s, x.p, x.u, x.t, work));
    for (k = 0; k < nS; k++) check_one(text, ds[k], central(e, &x, &x.s[uS[k]]), f, x.s[uS[k]], sp_names[uS[k]], p);
    for (k = 0; k < nP; k++) check_one(text, dp[k], central(e, &x, &x.p[uP[k]]), f, x.p[uP[k]], par_names[uP[k]], p);
    for (k = 0; k < nI; k++) check_one(text, di[k], central(e, &x, &x.u[uI[k]]), f, x.u[uI[k]], in_names[uI[k]], p);
    if (StgssaExprUsesTime(e)) check_one(text, dt, central(e, &x, &x.t), f, x.t, "t", p);
    else ck_assert(dt == 0);
    /* the caller-provided work array gives the same numbers */
    {
      double ds2[NS], dp2[NPAR], di2[NIN], dt2;
      ck_assert(f == StgssaExprEvalGradWork(e, x.s, x.p, x.u, x.t, ds2, dp2, di2, &dt2, work));
      ck_assert(!memcmp(ds, ds2, (size_t)nS * sizeof *ds) && !memcmp(dp, dp2, (size_t)nP * sizeof *dp));
      ck_assert(!memcmp(di, di2, (size_t)nI * sizeof *di) && dt == dt2);
    }
  }
  free(work);
  StgssaExprFree(&e);
}
END_TEST

/* Kink conventions: min/max take the first operand on a tie; comparisons have derivative 0. */
START_TEST(test_kinks)
{
  StgssaExpr *e;
  double      s[NS] = {2, 0, 0, 2, 1}, ds[NS], dp[NPAR];

  e = compile_ok("min(A, M)");
  StgssaExprEvalGrad(e, s, fixed.p, NULL, 0, ds, NULL, NULL, NULL);
  ck_assert(ds[0] == 1 && ds[1] == 0);
  StgssaExprFree(&e);
  e = compile_ok("max(M, A)");
  StgssaExprEvalGrad(e, s, fixed.p, NULL, 0, ds, NULL, NULL, NULL);
  ck_assert(ds[0] == 0 && ds[1] == 1); /* used list is A, M: M selected */
  StgssaExprFree(&e);
  e = compile_ok("(A <= M)*k");
  ck_assert(StgssaExprEvalGrad(e, s, fixed.p, NULL, 0, ds, dp, NULL, NULL) == 1.5);
  ck_assert(ds[0] == 0 && ds[1] == 0 && dp[0] == 1);
  StgssaExprFree(&e);
  /* sqrt at 0: infinite derivative; pow of a negative base with a non-integer exponent: NaN */
  e = compile_ok("sqrt(A)");
  s[0] = 0;
  StgssaExprEvalGrad(e, s, NULL, NULL, 0, ds, NULL, NULL, NULL);
  ck_assert(isinf(ds[0]));
  StgssaExprFree(&e);
  e = compile_ok("c^n");
  ck_assert(isnan(StgssaExprEvalGrad(e, NULL, fixed.p, NULL, 0, NULL, dp, NULL, NULL)));
  StgssaExprFree(&e);
  /* integer power of a negative base is exact, derivative too */
  e = compile_ok("c^3");
  ck_assert(StgssaExprEvalGrad(e, NULL, fixed.p, NULL, 0, NULL, dp, NULL, NULL) == -1);
  ck_assert(dp[0] == 3);
  StgssaExprFree(&e);
}
END_TEST

/* ---------------------------------------------------------------- errors */

typedef struct {
  const char *text;
  const char *msg; /* the whole message */
} ErrorCase;

/* col0 = 10, so the column of byte i is 10 + i */
static const ErrorCase error_cases[] = {
  {"",                  FNAME ":3:10: found end of expression; expected a number, a name, '(', '+' or '-'"                                  },
  {"   ",               FNAME ":3:13: found end of expression; expected a number, a name, '(', '+' or '-'"                                  },
  {"k*",                FNAME ":3:12: found end of expression; expected a number, a name, '(', '+' or '-'"                                  },
  {"A^",                FNAME ":3:12: found end of expression; expected a number, a name, '(', '+' or '-'"                                  },
  {"*A",                FNAME ":3:10: found '*'; expected a number, a name, '(', '+' or '-'"                                                },
  {"k*M)",              FNAME ":3:13: found ')'; expected an operator or end of expression"                                                 },
  {"k M",               FNAME ":3:12: found 'M'; expected an operator or end of expression"                                                 },
  {"A @ M",             FNAME ":3:12: found '@'; expected an operator or end of expression"                                                 },
  {"A = M",             FNAME ":3:12: found '='; expected an operator or end of expression"                                                 },
  {"A ! M",             FNAME ":3:12: found '!'; expected an operator or end of expression"                                                 },
  {"A * \x01",          FNAME ":3:14: found byte 0x01; expected a number, a name, '(', '+' or '-'"                                          },
  {"(A + M",            FNAME ":3:16: found end of expression; expected an operator or ')'"                                                 },
  {"min(A M)",          FNAME ":3:16: found 'M'; expected an operator, ',' or ')'"                                                          },
  {"min(A,",            FNAME ":3:16: found end of expression; expected a number, a name, '(', '+' or '-'"                                  },
  {"foo*M",             FNAME ":3:10: found unknown name 'foo'; expected a species, a parameter, an input or t"                              },
  {"vmax*M/(Kmm + M)",  FNAME ":3:18: found unknown name 'Kmm'; expected a species, a parameter, an input or t"                             },
  {"k*bar(M)",          FNAME ":3:12: found unknown function 'bar'; expected exp, log, sqrt, min, max or if"                                },
  {"k*A(M)",            FNAME ":3:12: found unknown function 'A'; expected exp, log, sqrt, min, max or if"                                  },
  {"exp*2",             FNAME ":3:10: found function name 'exp' without '('; expected 'exp(...)'"                                            },
  {"min(A)",            FNAME ":3:10: found 1 argument to 'min'; expected 2"                                                                },
  {"1 + exp(A, M)",     FNAME ":3:14: found 2 arguments to 'exp'; expected 1"                                                               },
  {"exp()",             FNAME ":3:10: found 0 arguments to 'exp'; expected 1"                                                               },
  {"if(A, 1)",          FNAME ":3:10: found 2 arguments to 'if'; expected 3"                                                                },
  {"2M",                FNAME ":3:10: found malformed number '2M'; expected a number, a name, '(', '+' or '-'"                              },
  {"k*1e",              FNAME ":3:12: found malformed number '1e'; expected a number, a name, '(', '+' or '-'"                              },
  {"1.2.3",             FNAME ":3:10: found malformed number '1.2.3'; expected a number, a name, '(', '+' or '-'"                           },
  {"k*1e999",           FNAME ":3:12: found number '1e999' out of range; expected a finite number"                                          },
  {"A < M < B",         FNAME ":3:16: found second comparison '<'; expected parentheses, as in (a < b) < c (comparisons do not chain)"      },
  {"A*(1/0)",           FNAME ":3:14: found constant subexpression with value inf; expected a finite value"                                 },
  {"A + log(0)",        FNAME ":3:14: found constant subexpression with value -inf; expected a finite value"                                },
  {"sqrt(-1)",          FNAME ":3:10: found constant subexpression with value -nan; expected a finite value"                                },
};

START_TEST(test_errors)
{
  const ErrorCase *c = &error_cases[_i];
  StgssaExpr      *e = (StgssaExpr *)&rng_state; /* must be reset to NULL */
  char             err[512];
  int              rc = StgssaExprCompile(c->text, strlen(c->text), FNAME, 3, 10, resolver, NULL, &e, err, sizeof err);

  ck_assert_msg(rc == STGSSA_PARSE_ESYNTAX, "'%s': rc %d", c->text, rc);
  ck_assert_ptr_null(e);
  if (!strcmp(c->text, "sqrt(-1)") && strstr(err, "value nan")) { /* sign of the NaN printed depends on libm */
    ck_assert_str_eq(err, FNAME ":3:10: found constant subexpression with value nan; expected a finite value");
    return;
  }
  ck_assert_str_eq(err, c->msg);
}
END_TEST

START_TEST(test_deep_nesting)
{
  char        text[1024], err[512];
  StgssaExpr *e = NULL;
  int         i;

  for (i = 0; i < 300; i++) text[i] = '(';
  text[300] = 'A';
  for (i = 0; i < 300; i++) text[301 + i] = ')';
  text[601] = '\0';
  ck_assert_int_eq(StgssaExprCompile(text, strlen(text), FNAME, 1, 1, resolver, NULL, &e, err, sizeof err), STGSSA_PARSE_ESYNTAX);
  ck_assert_ptr_null(e);
  ck_assert_msg(strstr(err, "found nesting deeper than 200 levels; expected a simpler expression") != NULL, "%s", err);
  /* 50 levels are fine, and so is a long flat sum (no recursion over + chains) */
  for (i = 0; i < 50; i++) text[i] = '(';
  text[50] = 'A';
  for (i = 0; i < 50; i++) text[51 + i] = ')';
  text[101] = '\0';
  e         = compile_ok(text);
  StgssaExprFree(&e);
  {
    size_t n = 20000, j;
    char  *big = malloc(2 * n + 1);
    for (j = 0; j < n; j++) big[2 * j] = 'A', big[2 * j + 1] = '+';
    big[2 * n - 1] = '\0';
    e              = compile_ok(big);
    ck_assert(StgssaExprEval(e, fixed.s, NULL, NULL, 0) == 3.0 * (double)n);
    ck_assert_int_eq((int)StgssaExprWorkSize(e), 2 * 2 + 1); /* depth 2, one variable */
    StgssaExprFree(&e);
    free(big);
  }
}
END_TEST

START_TEST(test_not_nul_terminated)
{
  StgssaExpr *e = NULL;
  char        err[256];
  const char  text[] = "A*M;garbage";
  ck_assert_int_eq(StgssaExprCompile(text, 3, FNAME, 1, 1, resolver, NULL, &e, err, sizeof err), STGSSA_PARSE_OK);
  ck_assert(StgssaExprEval(e, fixed.s, NULL, NULL, 0) == 12);
  StgssaExprFree(&e);
  StgssaExprFree(&e); /* NULL: no-op */
  StgssaExprFree(NULL);
  /* tiny and absent error buffers */
  ck_assert_int_eq(StgssaExprCompile("foo", 3, FNAME, 1, 1, resolver, NULL, &e, err, 8), STGSSA_PARSE_ESYNTAX);
  ck_assert_str_eq(err, "t.model");
  ck_assert_int_eq(StgssaExprCompile("foo", 3, FNAME, 1, 1, resolver, NULL, &e, NULL, 0), STGSSA_PARSE_ESYNTAX);
}
END_TEST

/* ---------------------------------------------------------------- folding, used lists, printer */

typedef struct {
  const char *text;
  int         length; /* instructions after folding */
  const char *printed;
} FoldCase;

static const FoldCase fold_cases[] = {
  {"2*3 + 1",                     1,  "7"                    },
  {"exp(0) + max(1, 2)^2",        1,  "5"                    },
  {"-(2^2)",                      1,  "-4"                   },
  {"-2^2",                        1,  "-4"                   },
  {"if(1 < 2, 10, 20) * (3 >= 4)", 1,  "0"                    },
  {"min(sqrt(16), log(1))",       1,  "0"                    },
  {"1e-3",                        1,  "0.001"                },
  {"0.1 + 0.2",                   1,  "0.30000000000000004"  },
  {"k*(1 + 2)",                   3,  "k*3"                  },
  {"1 + 2 + k",                   3,  "3 + k"                },
  {"k + 1 + 2",                   5,  "k + 1 + 2"            }, /* left-assoc: (k+1)+2 is not folded */
  {"A^2",                         2,  "A^2"                  },
  {"A^1",                         1,  "A"                    },
  {"A^-1",                        2,  "A^-1"                 },
  {"A^2.5",                       3,  "A^2.5"                },
  {"A^(1/2)",                     3,  "A^0.5"                },
  {"-A^2",                        3,  "-A^2"                 },
  {"(-A)^2",                      3,  "(-A)^2"               },
  {"-0.5*A",                      3,  "-0.5*A"               },
  {"A*-2",                        3,  "A*-2"                 },
  {"(A - M) - (B - M)",           7,  "A - M - (B - M)"      },
  {"A/(M*B)",                     5,  "A/(M*B)"              },
  {"(A + M)*B",                   5,  "(A + M)*B"            },
  {"A^M^B",                       5,  "A^M^B"                },
  {"(A^M)^B",                     5,  "(A^M)^B"              },
  {"k*A^n/(K^n + A^n)",           13, "k*A^n/(K^n + A^n)"    },
  {"if(A<M,1,u) + (t>=2)*w",      12, "if(A < M, 1, u) + (t >= 2)*w"},
  {"(A < M) == (B < M)",          7,  "(A < M) == (B < M)"   },
};

START_TEST(test_folding)
{
  const FoldCase *c = &fold_cases[_i];
  StgssaExpr     *e = compile_ok(c->text), *e2;
  char            buf[256];
  int             n = StgssaExprToString(e, namer, NULL, buf, sizeof buf);
  double          v;
  Point           x;

  ck_assert_msg(StgssaExprLength(e) == c->length, "'%s': %d instructions, expected %d", c->text, StgssaExprLength(e), c->length);
  ck_assert_int_eq(StgssaExprIsConstant(e, &v), c->length == 1 && strcmp(c->text, "A^1") != 0);
  ck_assert_str_eq(buf, c->printed);
  ck_assert_int_eq(n, (int)strlen(c->printed));
  /* the printed text compiles to the same function */
  e2 = compile_ok(buf);
  ck_assert_int_eq(StgssaExprLength(e2), StgssaExprLength(e));
  for (int p = 0; p < 20; p++) {
    random_point(&x);
    ck_assert(same(eval_at(e2, &x), eval_at(e, &x), 0));
  }
  StgssaExprFree(&e2);
  StgssaExprFree(&e);
}
END_TEST

START_TEST(test_used_and_printer)
{
  StgssaExpr *e = compile_ok("k*B*A + Km*A + w*t - k*u + B");
  int         n;
  const int  *l;
  char        buf[16];

  l = StgssaExprUsedSpecies(e, &n);
  ck_assert_int_eq(n, 2);
  ck_assert_int_eq(l[0], 0);
  ck_assert_int_eq(l[1], 4);
  l = StgssaExprUsedParams(e, &n);
  ck_assert_int_eq(n, 2);
  ck_assert_int_eq(l[0], 1);
  ck_assert_int_eq(l[1], 2);
  l = StgssaExprUsedInputs(e, &n);
  ck_assert_int_eq(n, 2);
  ck_assert_int_eq(l[0], 0);
  ck_assert_int_eq(l[1], 1);
  ck_assert_int_eq(StgssaExprUsesTime(e), 1);
  ck_assert_int_eq(StgssaExprIsConstant(e, NULL), 0);
  /* truncation is snprintf-like; a NULL namer prints generic names */
  ck_assert_int_eq(StgssaExprToString(e, namer, NULL, buf, sizeof buf), (int)strlen("k*B*A + Km*A + w*t - k*u + B"));
  ck_assert_str_eq(buf, "k*B*A + Km*A + ");
  StgssaExprFree(&e);
  e = compile_ok("vmax*M/(Km + M) + t");
  {
    char big[128];
    StgssaExprToString(e, NULL, NULL, big, sizeof big);
    ck_assert_str_eq(big, "param[0]*species[3]/(param[1] + species[3]) + t");
  }
  StgssaExprFree(&e);
  e = compile_ok("3");
  l = StgssaExprUsedSpecies(e, &n);
  ck_assert_int_eq(n, 0);
  ck_assert_ptr_null(l);
  ck_assert(StgssaExprEvalGrad(e, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL) == 3);
  StgssaExprFree(&e);
}
END_TEST

/* ---------------------------------------------------------------- interval enclosures */

/*
  Enclosure check (StgssaExprEvalInterval): for each case, NBOXES = 200 boxes (fixed seed): the
  species and parameters at a random point, each input in [-2, 2] and t in [0, 10] a random
  interval (a wide one, one of width 1e-3, or a single point). In each box, the 8 corners of
  (u, w, t) and NBOXPTS = 200 random points: every point value must lie in [lo, hi]. That is
  21 cases x 200 boxes x 208 points = 8.7e5 point evaluations. Cases without may_fail must give
  an enclosure in every box; the others (a divisor, a log or a non-integer power whose operand
  may reach 0 or below) must give one in some boxes and are checked where they do.
*/
#define NBOXES  200
#define NBOXPTS 200

typedef struct {
  const char *text;
  int         may_fail;
} IntervalCase;

static const IntervalCase interval_cases[] = {
  {"k*(A*exp(-c*t))^n/(K^n + (A*exp(-c*t))^n)",                                        0}, /* Hill, t-dependent activator */
  {"vmax*(1 + u^2)^n/(Km^n + (1 + u^2)^n)",                                            0}, /* Hill, input-dependent */
  {"k*A^4/(K^4 + (A*(2 + u))^4)",                                                      0}, /* Hill, integer exponent */
  {"exp(-k*t)*(1 - exp(-K*t))",                                                        0},
  {"vmax + k*t - Km*u*w",                                                              0},
  {"(u + 3)/(w + 3) - A/(1 + t) + u/(t + 0.5)",                                        0}, /* division */
  {"(u - 3)^3 + (w - 2.5)^-2 - (u - 2.25)^-3 + u^2*w^5 - w^4",                         0}, /* negative interval bases */
  {"-(u*w)^2 + (u*t)^4/1e3 - 2*(w - t)^3 + (-u)^-4*(u > 1)",                           1}, /* pole of (-u)^-4 */
  {"(u + 2.5)^(w + 2) + n^u*Km^(t/10) + 2^-t + A^u",                                   0}, /* a^b, interval exponent */
  {"sqrt(u + 2.5) + log(w + 3) + sqrt(t)*log(1 + t)",                                  0},
  {"min(u, w) + max(u*t, 1) - min(t, Km)*max(-w, u)",                                  0},
  {"if(u > w, k*t, K - t) + (t >= 5)*vmax + (u != w) - (u == 0.5) + (t < Km) + (w <= u)", 0},
  {"c*A*u/(1 + vmax*t + Km*w^2)",                                                      0},
  {"if(A > 0, log(A), log(c - A))*t",                                                  0}, /* NaN of the branch not taken */
  {"if(u*w > 0, (u*w)^n, 0)",                                                          1},
  {"k/(u - w)",                                                                        1},
  {"log(u + w + 1) + sqrt(u)",                                                         1},
  {"(t - 5)^2.5 + (u + 1)^-1.5",                                                       1},
  {"exp(u*t)/(1 + exp(u*t)) - log(1 + exp(-w*t))",                                     0},
  {"0^t + t^0 + t^1 + (w^3)^-1",                                                       1}, /* 0^t jumps at t = 0 */
  {"(u - w)*(u + w) - (u^2 - w^2) + t*(1 - t)",                                        0}, /* dependency: wide, still valid */
};

/* point in [lo, hi] */
static double uniform_in(double lo, double hi) { return fmin(hi, fmax(lo, uniform(lo, hi))); }

/* random sub-interval of [a, b]: wide (70%), width 1e-3 (20%) or a point (10%) */
static void random_interval(double a, double b, double *lo, double *hi)
{
  double r = uniform(0, 1), x = uniform(a, b), y;
  if (r < 0.1) y = x;
  else if (r < 0.3) y = fmin(b, x + 1e-3);
  else y = uniform(a, b);
  *lo = fmin(x, y);
  *hi = fmax(x, y);
}

START_TEST(test_interval_enclosure)
{
  const IntervalCase *c = &interval_cases[_i];
  StgssaExpr         *e = compile_ok(c->text);
  double              ulo[NIN], uhi[NIN], tlo, thi, lo, hi, v;
  int                 b, p, nok = 0;
  Point               x;

  for (b = 0; b < NBOXES; b++) {
    random_point(&x);
    for (int i = 0; i < NIN; i++) random_interval(-2, 2, &ulo[i], &uhi[i]);
    random_interval(0, 10, &tlo, &thi);
    if (StgssaExprEvalInterval(e, x.s, x.p, ulo, uhi, tlo, thi, &lo, &hi)) {
      ck_assert_msg(c->may_fail, "'%s': no enclosure for box %d", c->text, b);
      ck_assert(lo == -INFINITY && hi == INFINITY);
      continue;
    }
    nok++;
    ck_assert_msg(lo <= hi, "'%s' box %d: [%.17g, %.17g]", c->text, b, lo, hi);
    for (p = 0; p < NBOXPTS + 8; p++) {
      if (p < 8) { /* corners */
        x.u[0] = p & 1 ? uhi[0] : ulo[0];
        x.u[1] = p & 2 ? uhi[1] : ulo[1];
        x.t    = p & 4 ? thi : tlo;
      } else {
        for (int i = 0; i < NIN; i++) x.u[i] = uniform_in(ulo[i], uhi[i]);
        x.t = uniform_in(tlo, thi);
      }
      v = eval_at(e, &x);
      if (!(lo <= v && v <= hi)) /* (ck_assert marks a point through a pipe on success: too slow here) */
        ck_abort_msg("'%s' box %d point %d (u=%.17g w=%.17g t=%.17g): %.17g not in [%.17g, %.17g]", c->text, b, p, x.u[0], x.u[1], x.t, v,
                     lo, hi);
    }
  }
  ck_assert_msg(nok > 0, "'%s': no box with an enclosure", c->text);
  StgssaExprFree(&e);
}
END_TEST

/* distance in units in the last place (ordered integer representation) */
static double ulps(double a, double b)
{
  int64_t i, j;
  memcpy(&i, &a, sizeof i);
  memcpy(&j, &b, sizeof j);
  i = i < 0 ? INT64_MIN - i : i;
  j = j < 0 ? INT64_MIN - j : j;
  return i > j ? (double)((uint64_t)i - (uint64_t)j) : (double)((uint64_t)j - (uint64_t)i);
}

/* the interval of text at the fixed point (params p, or fixed.p when NULL), u in [u0, u1],
   w = fixed.u[1], t in [t0, t1]; returns the return code */
static int interval1(const char *text, const double *p, double u0, double u1, double t0, double t1, double *lo, double *hi)
{
  StgssaExpr *e = compile_ok(text);
  double      ulo[NIN] = {u0, fixed.u[1]}, uhi[NIN] = {u1, fixed.u[1]};
  int         rc = StgssaExprEvalInterval(e, fixed.s, p ? p : fixed.p, ulo, uhi, t0, t1, lo, hi);
  StgssaExprFree(&e);
  return rc;
}

/* [lo, hi] is [want_lo, want_hi] up to n ulp, outward */
#define CK_NEAR(text, lo, hi, want_lo, want_hi, n)                                                                                                                \
  ck_assert_msg((lo) <= (want_lo) && (hi) >= (want_hi) && ulps(lo, want_lo) <= (n) && ulps(hi, want_hi) <= (n), "'%s': [%.17g, %.17g], expected [%.17g, %.17g]", \
                text, lo, hi, (double)(want_lo), (double)(want_hi))

/* Tightness: monotone expressions give the images of the endpoints up to a few ulp; powers
   use monotone pieces (an even power of an interval containing 0 starts at 0). */
START_TEST(test_interval_tight)
{
  double lo, hi, p3[NPAR];
  int    i;

  for (i = 0; i < 1000; i++) { /* vmax + k*t = 2 + 1.5 t: 2 ulp (one product, one sum) */
    double t0 = uniform(0, 10), t1 = t0 + uniform(0, 10);
    ck_assert_int_eq(interval1("vmax + k*t", NULL, 0, 0, t0, t1, &lo, &hi), 0);
    CK_NEAR("vmax + k*t", lo, hi, 2 + 1.5 * t0, 2 + 1.5 * t1, 4);
  }
  for (i = 0; i < 1000; i++) { /* exp(-k*t), decreasing; the 1 ulp of k*t becomes |k t| ulp of exp */
    double t0 = uniform(0, 2), t1 = t0 + uniform(0, 2);
    ck_assert_int_eq(interval1("exp(-k*t)", NULL, 0, 0, t0, t1, &lo, &hi), 0);
    CK_NEAR("exp(-k*t)", lo, hi, exp(-1.5 * t1), exp(-1.5 * t0), 8 + 2 * 1.5 * t1);
  }
  ck_assert_int_eq(interval1("u^2", NULL, -1, 2, 0, 0, &lo, &hi), 0);
  ck_assert(lo == 0); /* not -2 as from u*u */
  CK_NEAR("u^2", lo, hi, 0, 4, 1);
  ck_assert_int_eq(interval1("u^3", NULL, -1, 2, 0, 0, &lo, &hi), 0);
  CK_NEAR("u^3", lo, hi, -1, 8, 4);
  ck_assert_int_eq(interval1("(u - 3)^4", NULL, -1, 1, 0, 0, &lo, &hi), 0);
  CK_NEAR("(u - 3)^4", lo, hi, 16, 256, 8);
  ck_assert_int_eq(interval1("u^-2", NULL, 0.5, 2, 0, 0, &lo, &hi), 0);
  CK_NEAR("u^-2", lo, hi, 0.25, 4, 4);
  ck_assert_int_eq(interval1("(u - 3)^-1", NULL, -1, 1, 0, 0, &lo, &hi), 0);
  CK_NEAR("(u - 3)^-1", lo, hi, -0.5, -0.25, 8);
  memcpy(p3, fixed.p, sizeof p3);
  p3[4] = 3; /* n = 3: an integer exponent given as a parameter (pow, monotone pieces) */
  ck_assert_int_eq(interval1("(u - 3)^n", p3, -1, 1, 0, 0, &lo, &hi), 0);
  CK_NEAR("(u - 3)^n", lo, hi, -64, -8, 8);
  p3[4] = 2;
  ck_assert_int_eq(interval1("u^n", p3, -1, 2, 0, 0, &lo, &hi), 0);
  CK_NEAR("u^n", lo, hi, 0, 4, 2);
  ck_assert_int_eq(interval1("u^n", NULL, 1, 4, 0, 0, &lo, &hi), 0); /* n = 2.5 */
  CK_NEAR("u^n", lo, hi, 1, 32, 2);
  ck_assert_int_eq(interval1("K^t", NULL, 0, 0, 0, 3, &lo, &hi), 0); /* point base 2 */
  CK_NEAR("K^t", lo, hi, 1, 8, 2);
  ck_assert_int_eq(interval1("sqrt(t) + log(u)", NULL, 1, 4, 4, 9, &lo, &hi), 0);
  CK_NEAR("sqrt(t) + log(u)", lo, hi, 2, 3 + log(4), 6);
  /* exact: constants, points, min, max, negation */
  ck_assert_int_eq(interval1("k", NULL, 0, 0, 0, 0, &lo, &hi), 0);
  ck_assert(lo == 1.5 && hi == 1.5);
  ck_assert_int_eq(interval1("min(u, t)", NULL, 0, 3, 1, 2, &lo, &hi), 0);
  ck_assert(lo == 0 && hi == 2);
  ck_assert_int_eq(interval1("-max(u, t)", NULL, 0, 3, 1, 2, &lo, &hi), 0);
  ck_assert(lo == -3 && hi == -1);
  /* the enclosure of a point box is the point value up to a few ulp */
  {
    const char *text = "k*A^n/(K^n + A^n)";
    ck_assert_int_eq(interval1(text, NULL, 0, 0, 0, 0, &lo, &hi), 0);
    ck_assert(lo <= hill_value() && hill_value() <= hi && ulps(lo, hi) <= 32);
  }
}
END_TEST

/* Comparisons are decided when the whole box agrees, if() then takes one branch. */
START_TEST(test_interval_logic)
{
  double lo, hi, pn[NPAR];

  ck_assert_int_eq(interval1("t < 5", NULL, 0, 0, 1, 2, &lo, &hi), 0);
  ck_assert(lo == 1 && hi == 1);
  ck_assert_int_eq(interval1("t < 5", NULL, 0, 0, 6, 7, &lo, &hi), 0);
  ck_assert(lo == 0 && hi == 0);
  ck_assert_int_eq(interval1("t < 5", NULL, 0, 0, 4, 6, &lo, &hi), 0);
  ck_assert(lo == 0 && hi == 1);
  ck_assert_int_eq(interval1("t <= 5", NULL, 0, 0, 4, 5, &lo, &hi), 0);
  ck_assert(lo == 1 && hi == 1);
  ck_assert_int_eq(interval1("t >= 5", NULL, 0, 0, 5, 6, &lo, &hi), 0);
  ck_assert(lo == 1 && hi == 1);
  ck_assert_int_eq(interval1("t > 5", NULL, 0, 0, 5, 6, &lo, &hi), 0);
  ck_assert(lo == 0 && hi == 1);
  ck_assert_int_eq(interval1("t == 5", NULL, 0, 0, 5, 5, &lo, &hi), 0);
  ck_assert(lo == 1 && hi == 1);
  ck_assert_int_eq(interval1("t != u", NULL, 0, 1, 2, 3, &lo, &hi), 0);
  ck_assert(lo == 1 && hi == 1);
  ck_assert_int_eq(interval1("t == u", NULL, 0, 1, 1, 3, &lo, &hi), 0);
  ck_assert(lo == 0 && hi == 1);
  /* if: the condition excludes 0, is exactly 0, or neither (hull) */
  ck_assert_int_eq(interval1("if(u > 0, sqrt(u), 0)", NULL, 1, 4, 0, 0, &lo, &hi), 0);
  CK_NEAR("if(u > 0, sqrt(u), 0)", lo, hi, 1, 2, 1);
  ck_assert_int_eq(interval1("if(u > 0, sqrt(u), 0)", NULL, -1, -0.5, 0, 0, &lo, &hi), 0);
  ck_assert(lo == 0 && hi == 0); /* sqrt of a negative interval in the branch not taken */
  ck_assert_int_eq(interval1("if(u > 0, sqrt(u), 0)", NULL, -1, 1, 0, 0, &lo, &hi), 1);
  ck_assert_int_eq(interval1("if(t - 5, k, K)", NULL, 0, 0, 5, 5, &lo, &hi), 0);
  ck_assert(lo == 2 && hi == 2);
  ck_assert_int_eq(interval1("if(t - 5, k, K)", NULL, 0, 0, 6, 7, &lo, &hi), 0);
  ck_assert(lo == 1.5 && hi == 1.5);
  ck_assert_int_eq(interval1("if(t < 5, k, K)", NULL, 0, 0, 4, 6, &lo, &hi), 0);
  ck_assert(lo == 1.5 && hi == 2);
  /* a NaN parameter in the branch not taken is ignored, as by the point evaluator */
  memcpy(pn, fixed.p, sizeof pn);
  pn[2] = NAN; /* k */
  ck_assert_int_eq(interval1("if(t > 5, k, 1)", pn, 0, 0, 0, 1, &lo, &hi), 0);
  ck_assert(lo == 1 && hi == 1);
  ck_assert_int_eq(interval1("if(t > 5, k, 1)", pn, 0, 0, 4, 6, &lo, &hi), 1);
}
END_TEST

typedef struct {
  const char *text;
  double      u0, u1, t0, t1;
} FailCase;

/* no enclosure: the box reaches a pole, a domain error or a NaN */
static const FailCase fail_cases[] = {
  {"k/u",                  -1,  1,  0, 0 }, /* divisor interval contains 0 */
  {"k/u",                  0,   1,  0, 0 }, /* ... at an endpoint */
  {"k/(t - u)",            0,   1,  1, 2 },
  {"log(u)",               0,   1,  0, 0 }, /* log of an interval containing 0 */
  {"log(u)",               -1,  -0.5, 0, 0 },
  {"sqrt(u)",              -1,  1,  0, 0 },
  {"u^-2",                 -1,  2,  0, 0 }, /* pole of a negative integer power */
  {"u^-1",                 0,   0,  0, 0 },
  {"(t - 5)^2.5",          0,   0,  0, 10}, /* negative base, non-integer exponent */
  {"(u - 3)^n",            0,   1,  0, 0 },
  {"u^n",                  -1,  1,  0, 0 },
  {"c^t",                  0,   0,  1, 2 }, /* negative point base, exponent interval */
  {"0^t",                  0,   0,  0, 1 }, /* 0^t jumps at t = 0 */
  {"u^t",                  0,   1,  -1, 1},
  {"log(c)*t",             0,   0,  0, 1 }, /* NaN from a parameter */
  {"t - t",                0,   0,  INFINITY, INFINITY}, /* inf - inf */
  {"if(log(c), 1, 2)",     0,   0,  0, 0 }, /* NaN condition */
  {"min(u, log(c))",       0,   1,  0, 0 },
  {"t",                    0,   0,  2, 1 }, /* reversed box */
  {"u + t",                NAN, 1,  0, 1 }, /* NaN bound */
};

/* one test for the whole table (a forked test each costs more than the checks) */
START_TEST(test_interval_fail)
{
  for (size_t i = 0; i < sizeof fail_cases / sizeof fail_cases[0]; i++) {
    const FailCase *c  = &fail_cases[i];
    double          lo = 0, hi = 0;
    ck_assert_msg(interval1(c->text, NULL, c->u0, c->u1, c->t0, c->t1, &lo, &hi) != 0, "'%s': enclosure [%g, %g] where none exists", c->text, lo, hi);
    ck_assert(lo == -INFINITY && hi == INFINITY);
  }
}
END_TEST

/* a NaN parameter that is used, infinite endpoints, deep expressions in the work array */
START_TEST(test_interval_edges)
{
  double lo, hi, pn[NPAR];

  memcpy(pn, fixed.p, sizeof pn);
  pn[2] = NAN; /* k */
  ck_assert_int_eq(interval1("k*t", pn, 0, 0, 0, 1, &lo, &hi), 1);
  ck_assert_int_eq(interval1("vmax + k", pn, 0, 0, 0, 0, &lo, &hi), 1);
  /* overflow: an infinite endpoint is still an enclosure */
  ck_assert_int_eq(interval1("exp(u)", NULL, 0, 1000, 0, 0, &lo, &hi), 0);
  ck_assert(lo <= 1 && hi == INFINITY);
  ck_assert_int_eq(interval1("exp(-k*t)", NULL, 0, 0, 0, INFINITY, &lo, &hi), 0);
  ck_assert(lo == 0 && hi >= 1 && ulps(hi, 1) <= 2);
  /* the largest stack with no variable other than t: every slot used */
  {
    const char *text = "t^2*(t^3*(t^4*(t^5*(t + 1) + 2) + 3) + 4)";
    ck_assert_int_eq(interval1(text, NULL, 0, 0, 1, 1, &lo, &hi), 0);
    CK_NEAR(text, lo, hi, 11, 11, 32);
  }
}
END_TEST

/* ---------------------------------------------------------------- main */

static Suite *expr_suite(void)
{
  Suite *s = suite_create("expr");
  TCase *tc;

  tc = tcase_create("values");
  tcase_add_loop_test(tc, test_values, 0, (int)(sizeof value_cases / sizeof value_cases[0]));
  tcase_add_test(tc, test_hill);
  tcase_add_test(tc, test_kinks);
  suite_add_tcase(s, tc);

  tc = tcase_create("derivatives");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_gradients, 0, (int)(sizeof grad_cases / sizeof grad_cases[0]));
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_loop_test(tc, test_errors, 0, (int)(sizeof error_cases / sizeof error_cases[0]));
  tcase_add_test(tc, test_deep_nesting);
  tcase_add_test(tc, test_not_nul_terminated);
  suite_add_tcase(s, tc);

  tc = tcase_create("compiled");
  tcase_add_loop_test(tc, test_folding, 0, (int)(sizeof fold_cases / sizeof fold_cases[0]));
  tcase_add_test(tc, test_used_and_printer);
  suite_add_tcase(s, tc);

  tc = tcase_create("interval");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_interval_enclosure, 0, (int)(sizeof interval_cases / sizeof interval_cases[0]));
  tcase_add_test(tc, test_interval_tight);
  tcase_add_test(tc, test_interval_logic);
  tcase_add_test(tc, test_interval_fail);
  tcase_add_test(tc, test_interval_edges);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(expr_suite());
  int      failed;

  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
