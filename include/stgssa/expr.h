/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Rate-law expressions (issue 7): compiled once, evaluated per event with forward-mode
  derivatives. Pure C11 (no PETSc, no MPI), like the model parser (modeldef.h).

  Grammar (lowest precedence first; whitespace is allowed between tokens):
    expr    := sum [ cmp sum ]              cmp: < <= > >= == !=   (gives 1.0 or 0.0; no chains)
    sum     := product { (+|-) product }    left-associative
    product := unary { (*|/) unary }        left-associative
    unary   := (+|-) unary | power
    power   := primary [ ^ unary ]          right-associative, binds tighter than unary minus:
                                            -x^2 = -(x^2), 2^-1 = 0.5, a^b^c = a^(b^c)
    primary := number | name | func '(' expr { ',' expr } ')' | '(' expr ')'
    number  := C float syntax without sign: 12, 1.5, .5, 3., 1e-3, 2.5E+4 (must be finite)
    name    := [A-Za-z_][A-Za-z0-9_]*       resolved by the caller's resolver
    func    := exp(x) log(x) sqrt(x) min(a,b) max(a,b) if(c,a,b)
  A name followed by '(' is a function call; otherwise it is a variable, so a species may be
  called `min`. `if(c,a,b)` is a when c != 0, else b (both branches are evaluated).

  Compiled form: a flat postfix program. Subexpressions whose operands are all constants are
  folded at compile time (a constant expression compiles to one instruction); a folded
  constant that is not finite (1/0, log(0)) is a compile error. x^k with a constant integer
  k, |k| <= 64, uses repeated multiplication (exact for negative x).

  Values and derivative conventions (forward mode, dual numbers over the used variables):
    - min/max: the value and derivative of the selected operand; on a tie, the first operand.
    - comparisons, if-condition: derivative 0. if(c,a,b) takes value and derivative of the
      selected branch.
    - a^b with a variable exponent: d = b a^(b-1) da + a^b log(a) db; a term whose tangent
      component is 0 is skipped, and a^b log(a) is taken as 0 when a^b == 0 (so 0^n with
      n > 0 has derivative 0 with respect to n).
    - NaN propagates: min/max/comparisons/if with a NaN operand (or condition) give NaN.
      Negative base with a non-integer exponent, log of a negative number, sqrt of a negative
      number give NaN; log(0) = -inf, 0^-1 = inf. The caller decides what to do with
      non-finite or negative results (the engine turns them into run-time errors).

  Derivative output: COMPACT arrays, indexed like the used-variable lists:
    dspecies[k] = d value / d species[StgssaExprUsedSpecies(e,&n)[k]], k < n; likewise dparams,
    dinputs; *dt = d value / d t (0 if t is unused). Any of the four pointers may be NULL.

  Thread safety: StgssaExprEval and StgssaExprEvalGrad use a work array owned by the
  expression, so one expression must not be evaluated by two threads at the same time. The
  *Work variants take a caller-provided work array of StgssaExprWorkSize(e) doubles instead.
  Evaluation does not allocate and is not recursive.
*/
#ifndef STGSSA_EXPR_H
#define STGSSA_EXPR_H

#include <stgssa/modeldef.h> /* STGSSA_PARSE_* return codes */

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  STGSSA_EXPR_UNKNOWN = 0, /* the resolver does not know the name */
  STGSSA_EXPR_SPECIES = 1,
  STGSSA_EXPR_PARAM   = 2,
  STGSSA_EXPR_INPUT   = 3, /* named input signal */
  STGSSA_EXPR_TIME    = 4  /* the time t (index ignored) */
} StgssaExprVarKind;

/* Maps the name (len bytes, not NUL-terminated) to its kind and sets *index (>= 0) for
   species, parameters and inputs. */
typedef StgssaExprVarKind (*StgssaExprResolver)(void *ctx, const char *name, size_t len, int *index);

/* Gives the name of a variable for StgssaExprToString (NULL: a generic name is printed). */
typedef const char *(*StgssaExprNamer)(void *ctx, StgssaExprVarKind kind, int index);

typedef struct StgssaExpr_ StgssaExpr;

/* Compile text[0..len) (need not be NUL-terminated). filename and line name the location in
   messages; col0 is the column (from 1) of text[0]. On error *out is NULL, the return code is
   STGSSA_PARSE_ESYNTAX (err: "file:line:col: found X; expected Y") or STGSSA_PARSE_ENOMEM. */
int StgssaExprCompile(const char *text, size_t len, const char *filename, int line, int col0, StgssaExprResolver resolve, void *ctx,
                      StgssaExpr **out, char *err, size_t errlen);
void StgssaExprFree(StgssaExpr **e);

/* Value. species/params/inputs are full-length arrays (only the used indices are read; an
   array may be NULL when the expression uses no variable of that kind). */
double StgssaExprEval(const StgssaExpr *e, const double *species, const double *params, const double *inputs, double t);
/* Value and derivatives (compact arrays, see above). */
double StgssaExprEvalGrad(const StgssaExpr *e, const double *species, const double *params, const double *inputs, double t,
                          double *dspecies, double *dparams, double *dinputs, double *dt);
/* The same with a caller-provided work array of StgssaExprWorkSize(e) doubles (thread-safe). */
size_t StgssaExprWorkSize(const StgssaExpr *e);
double StgssaExprEvalWork(const StgssaExpr *e, const double *species, const double *params, const double *inputs, double t, double *work);
double StgssaExprEvalGradWork(const StgssaExpr *e, const double *species, const double *params, const double *inputs, double t,
                              double *dspecies, double *dparams, double *dinputs, double *dt, double *work);

/* Interval enclosure (issue 7, bounds for thinning of time-dependent propensities): with the
   species and parameters fixed at the given values, t anywhere in [t_lo, t_hi] and input i
   anywhere in [inputs_lo[i], inputs_hi[i]], the value lies in [*lo, *hi] (outward rounding, so
   the enclosure is guaranteed despite floating point). Returns 0 on success, or nonzero when no
   enclosure can be given (a NaN operand or domain error possible in the box); then *lo = -inf,
   *hi = +inf. Does not allocate (uses the expression's work array; not thread safe).
   Rules: division by an interval containing 0, log of one reaching 0, sqrt of one reaching below
   0, a^b unless a > 0 (or a >= 0 and b > 0) except for a point exponent (integer: monotone
   pieces, else a >= 0) and 0^b with b > 0: no enclosure. Comparisons give [1,1] or [0,0] when
   decided on the whole box, else [0,1]; if(c,a,b) with c decided takes that branch only (a NaN or
   domain error in the other is ignored, as by StgssaExprEval), else the hull of both. An input or
   t bound that is NaN or reversed (lo > hi) gives no enclosure; endpoints may be infinite. */
int StgssaExprEvalInterval(const StgssaExpr *e, const double *species, const double *params, const double *inputs_lo, const double *inputs_hi, double t_lo,
                           double t_hi, double *lo, double *hi);

/* Distinct used indices, ascending; *n receives the count (the pointer is NULL when 0). */
const int *StgssaExprUsedSpecies(const StgssaExpr *e, int *n);
const int *StgssaExprUsedParams(const StgssaExpr *e, int *n);
const int *StgssaExprUsedInputs(const StgssaExpr *e, int *n);
int        StgssaExprUsesTime(const StgssaExpr *e);
/* 1 and *value set if the expression compiled to a single constant, else 0. */
int StgssaExprIsConstant(const StgssaExpr *e, double *value);
/* Homogeneity in one scaled quantity: pdeg[m] (NULL: all 0) is the degree of parameter m (INT_MIN
   when not homogeneous). On return 0, *deg = k when e(lambda q) = lambda^k e(q) for every
   lambda > 0 follows from the operations (sums of equal degrees, products, quotients, integer
   powers; any function of degree-0 operands), else INT_MIN (also when e reads species, inputs or
   t). -1 when out of memory. */
int StgssaExprParamDegree(const StgssaExpr *e, const int *pdeg, int *deg);
/* Number of instructions of the compiled program. */
int StgssaExprLength(const StgssaExpr *e);

/* Infix text of the compiled (folded) expression with minimal parentheses, snprintf-style:
   writes at most len bytes including the NUL, returns the length of the full text, or -1
   when out of memory. Numbers are printed with the shortest of %.15g/%.17g that round-trips. */
int StgssaExprToString(const StgssaExpr *e, StgssaExprNamer name, void *ctx, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
