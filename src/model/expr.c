/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Rate-law expressions: recursive-descent compiler to a flat postfix program with constant
  folding, and a non-recursive stack evaluator with forward-mode derivatives (expr.h).
  Pure C11: no PETSc, no MPI.

  Layout of this file: the program representation, messages, the lexer, the parser (which
  emits postfix code directly and folds constants as it goes), the evaluators, the printer.

  Choices made here:
  - The parser emits code as it recognises operators. An operand whose code ends with a
    constant push is that single constant (postfix code of an operation ends with the
    operation), so an operator whose last k instructions are all constants is folded on the
    spot; the result is exact-same arithmetic as the evaluator's.
  - Nesting (parentheses, unary signs, powers, function arguments) is limited to
    EXPR_DEPTH_MAX levels so that compiling hostile input cannot overflow the C stack.
  - Columns count bytes from 1 (col0 is the column of the first byte of the text).
*/
#include <stgssa/expr.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lex_util.h"

#if defined(__GNUC__)
  #define STGSSA_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
  #define STGSSA_PRINTF(f, a)
#endif

#define QUOTE_MAX      40  /* longest token text quoted in a message */
#define EXPR_DEPTH_MAX 200 /* nesting levels accepted by the parser */
#define POWI_MAX       64  /* x^k with constant integer |k| <= POWI_MAX uses multiplications */

/* ---------------------------------------------------------------- program */

typedef enum {
  OP_CONST, /* push c */
  OP_S,     /* push species[arg]  (slot: position in the used-variable vector) */
  OP_P,     /* push params[arg] */
  OP_I,     /* push inputs[arg] */
  OP_T,     /* push t */
  OP_NEG,
  OP_ADD,
  OP_SUB,
  OP_MUL,
  OP_DIV,
  OP_POW,
  OP_POWI, /* x^arg, arg a constant integer */
  OP_EXP,
  OP_LOG,
  OP_SQRT,
  OP_MIN,
  OP_MAX,
  OP_LT,
  OP_LE,
  OP_GT,
  OP_GE,
  OP_EQ,
  OP_NE,
  OP_IF,
  OP_COUNT
} Op;

/* operands popped by each op (pushes are 1 for all) */
static const int op_arity[OP_COUNT] = {0, 0, 0, 0, 0, 1, 2, 2, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3};

typedef struct {
  int    op;
  int    arg;  /* variable index, or the exponent of OP_POWI */
  int    slot; /* OP_S/P/I/T: position in the compact used-variable vector */
  double c;    /* OP_CONST: the value */
} Instr;

struct StgssaExpr_ {
  int     ncode;
  Instr  *code;
  int     depth; /* largest stack size */
  int     nvar;  /* nS + nP + nI + usesT: length of a gradient vector */
  int     nS, nP, nI, usesT;
  int    *usedS, *usedP, *usedI; /* point into one allocation */
  double *work;                  /* StgssaExprWorkSize doubles */
};

/* ---------------------------------------------------------------- messages */

STGSSA_PRINTF(3, 4)
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;
  if (!err || !errlen) return;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* ---------------------------------------------------------------- lexer */

typedef enum {
  T_END,
  T_NUM,
  T_BADNUM,
  T_NAME,
  T_PLUS,
  T_MINUS,
  T_STAR,
  T_SLASH,
  T_CARET,
  T_LPAREN,
  T_RPAREN,
  T_COMMA,
  T_LT,
  T_LE,
  T_GT,
  T_GE,
  T_EQ,
  T_NE,
  T_BAD
} TokKind;

typedef struct {
  TokKind kind;
  size_t  pos, n; /* offset and length in the text */
} Tok;

typedef struct {
  const char        *s;
  size_t             n, pos;
  Tok                tok;
  const char        *file;
  int                line, col0;
  StgssaExprResolver resolve;
  void              *ctx;
  Instr             *code;
  int                ncode, cap;
  int                depth;
  char              *err;
  size_t             errlen;
} Parser;


/* End of the number starting at i: D+(.D*)?|.D+ then ([eE][+-]?D+)?; i itself if none. */
static size_t scan_number(const char *s, size_t n, size_t i)
{
  size_t j = scan_digits(s, n, i);
  int    mant = j > i;
  if (j < n && s[j] == '.') {
    size_t k = scan_digits(s, n, j + 1);
    if (k > j + 1) mant = 1;
    j = k;
  }
  if (!mant) return i;
  if (j < n && (s[j] == 'e' || s[j] == 'E')) {
    size_t k = j + 1;
    if (k < n && (s[k] == '+' || s[k] == '-')) k++;
    size_t m = scan_digits(s, n, k);
    if (m > k) j = m;
  }
  return j;
}

static void lex(Parser *P)
{
  const char *s = P->s;
  size_t      n = P->n, i = P->pos, m;
  Tok        *t = &P->tok;

  while (i < n && is_space(uc(s, i))) i++;
  t->pos = i;
  if (i >= n) {
    t->kind = T_END;
    t->n    = 0;
    P->pos  = i;
    return;
  }
  m = i + 1;
  if (is_name_start(uc(s, i))) {
    t->kind = T_NAME;
    while (m < n && is_name_char(uc(s, m))) m++;
  } else if (is_digit(uc(s, i)) || (s[i] == '.' && i + 1 < n && is_digit(uc(s, i + 1)))) {
    m       = scan_number(s, n, i);
    t->kind = T_NUM;
    if (m < n && (is_name_char(uc(s, m)) || s[m] == '.')) { /* 2M, 1.2.3, 1e, 1e5x */
      t->kind = T_BADNUM;
      while (m < n && (is_name_char(uc(s, m)) || s[m] == '.')) m++;
    }
  } else {
    int c2 = i + 1 < n ? s[i + 1] : 0;
    switch (s[i]) {
    case '+': t->kind = T_PLUS; break;
    case '-': t->kind = T_MINUS; break;
    case '*': t->kind = T_STAR; break;
    case '/': t->kind = T_SLASH; break;
    case '^': t->kind = T_CARET; break;
    case '(': t->kind = T_LPAREN; break;
    case ')': t->kind = T_RPAREN; break;
    case ',': t->kind = T_COMMA; break;
    case '<':
      t->kind = c2 == '=' ? T_LE : T_LT;
      m += c2 == '=';
      break;
    case '>':
      t->kind = c2 == '=' ? T_GE : T_GT;
      m += c2 == '=';
      break;
    case '=':
      t->kind = c2 == '=' ? T_EQ : T_BAD;
      m += c2 == '=';
      break;
    case '!':
      t->kind = c2 == '=' ? T_NE : T_BAD;
      m += c2 == '=';
      break;
    default: t->kind = T_BAD;
    }
  }
  t->n   = m - i;
  P->pos = m;
}

static Tok peek(const Parser *P)
{
  Parser Q = *P;
  lex(&Q);
  return Q.tok;
}

static void describe(const Parser *P, const Tok *t, char *buf, size_t len)
{
  int q = t->n > QUOTE_MAX ? QUOTE_MAX : (int)t->n;
  if (t->kind == T_END) snprintf(buf, len, "end of expression");
  else if (t->kind == T_BAD && !is_print(uc(P->s, t->pos))) snprintf(buf, len, "byte 0x%02x", (unsigned)uc(P->s, t->pos));
  else snprintf(buf, len, "%s'%.*s%s'", t->kind == T_BADNUM ? "malformed number " : "", q, P->s + t->pos, t->n > QUOTE_MAX ? "..." : "");
}

STGSSA_PRINTF(3, 4)
static int fail_at(Parser *P, size_t pos, const char *fmt, ...)
{
  char    msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  set_err(P->err, P->errlen, "%s:%d:%d: %s", P->file, P->line, P->col0 + (int)pos, msg);
  return STGSSA_PARSE_ESYNTAX;
}

/* "found <token>; expected <expected>" at the current token */
static int fail_tok(Parser *P, const char *expected)
{
  char d[2 * QUOTE_MAX + 32];
  describe(P, &P->tok, d, sizeof d);
  return fail_at(P, P->tok.pos, "found %s; expected %s", d, expected);
}

static int fail_nomem(Parser *P)
{
  set_err(P->err, P->errlen, "%s:%d: out of memory", P->file, P->line);
  return STGSSA_PARSE_ENOMEM;
}

/* ---------------------------------------------------------------- scalar arithmetic */

static double ipow(double x, int k)
{
  unsigned m = (unsigned)(k < 0 ? -k : k);
  double   r = 1.0;
  while (m) {
    if (m & 1u) r *= x;
    x *= x;
    m >>= 1;
  }
  return k < 0 ? 1.0 / r : r;
}

static double cmp_result(double a, double b, int truth) { return (isnan(a) || isnan(b)) ? NAN : (truth ? 1.0 : 0.0); }

/* Value of op applied to a[0..arity) (used for folding; the evaluators inline the same). */
static double apply(int op, int arg, const double *a)
{
  switch (op) {
  case OP_NEG: return -a[0];
  case OP_ADD: return a[0] + a[1];
  case OP_SUB: return a[0] - a[1];
  case OP_MUL: return a[0] * a[1];
  case OP_DIV: return a[0] / a[1];
  case OP_POW: return pow(a[0], a[1]);
  case OP_POWI: return ipow(a[0], arg);
  case OP_EXP: return exp(a[0]);
  case OP_LOG: return log(a[0]);
  case OP_SQRT: return sqrt(a[0]);
  case OP_MIN: return (a[0] <= a[1] || isnan(a[0])) ? a[0] : a[1];
  case OP_MAX: return (a[0] >= a[1] || isnan(a[0])) ? a[0] : a[1];
  case OP_LT: return cmp_result(a[0], a[1], a[0] < a[1]);
  case OP_LE: return cmp_result(a[0], a[1], a[0] <= a[1]);
  case OP_GT: return cmp_result(a[0], a[1], a[0] > a[1]);
  case OP_GE: return cmp_result(a[0], a[1], a[0] >= a[1]);
  case OP_EQ: return cmp_result(a[0], a[1], a[0] == a[1]);
  case OP_NE: return cmp_result(a[0], a[1], a[0] != a[1]);
  case OP_IF: return isnan(a[0]) ? NAN : (a[0] != 0 ? a[1] : a[2]);
  default: return NAN;
  }
}

/* ---------------------------------------------------------------- code emission */

static int push_instr(Parser *P, Instr in)
{
  if (P->ncode == P->cap) {
    int    cap = P->cap ? 2 * P->cap : 16;
    Instr *c   = realloc(P->code, (size_t)cap * sizeof *c);
    if (!c) return fail_nomem(P);
    P->code = c;
    P->cap  = cap;
  }
  P->code[P->ncode++] = in;
  return 0;
}

static int emit_const(Parser *P, double c)
{
  Instr in = {OP_CONST, 0, 0, c};
  return push_instr(P, in);
}

/* Emit operation op (pos: column offset of its token, for messages), folding constants. */
static int emit_op(Parser *P, int op, size_t pos)
{
  int    k = op_arity[op], i;
  double a[3], r;

  for (i = 0; i < k; i++)
    if (P->code[P->ncode - k + i].op != OP_CONST) break;
  if (i == k) { /* all operands constant: fold */
    for (i = 0; i < k; i++) a[i] = P->code[P->ncode - k + i].c;
    r = apply(op, 0, a);
    if (!isfinite(r)) return fail_at(P, pos, "found constant subexpression with value %g; expected a finite value", r);
    P->ncode -= k;
    return emit_const(P, r);
  }
  if (op == OP_POW && P->code[P->ncode - 1].op == OP_CONST) { /* x^k, k a small integer */
    double c = P->code[P->ncode - 1].c;
    if (c == floor(c) && fabs(c) <= POWI_MAX) {
      if (c == 1) {
        P->ncode--;
        return 0;
      }
      P->code[P->ncode - 1] = (Instr){OP_POWI, (int)c, 0, 0.0};
      return 0;
    }
  }
  return push_instr(P, (Instr){op, 0, 0, 0.0});
}

/* ---------------------------------------------------------------- parser */

static int parse_expr(Parser *P);
static int parse_unary(Parser *P);

typedef struct {
  const char *name;
  int         arity, op;
} Func;

static const Func funcs[] = {
  {"exp",  1, OP_EXP },
  {"log",  1, OP_LOG },
  {"sqrt", 1, OP_SQRT},
  {"min",  2, OP_MIN },
  {"max",  2, OP_MAX },
  {"if",   3, OP_IF  },
};
#define NFUNCS (int)(sizeof funcs / sizeof funcs[0])

static const Func *find_func(const char *s, size_t n)
{
  for (int i = 0; i < NFUNCS; i++)
    if (strlen(funcs[i].name) == n && !memcmp(funcs[i].name, s, n)) return &funcs[i];
  return NULL;
}

static int enter(Parser *P)
{
  if (++P->depth > EXPR_DEPTH_MAX) return fail_at(P, P->tok.pos, "found nesting deeper than %d levels; expected a simpler expression", EXPR_DEPTH_MAX);
  return 0;
}

/* What may follow a complete operand, for messages. */
static const char *after_operand(const Parser *P, int in_call, int in_paren)
{
  (void)P;
  if (in_call) return "an operator, ',' or ')'";
  if (in_paren) return "an operator or ')'";
  return "an operator or end of expression";
}

static int parse_number(Parser *P)
{
  char   buf[128], *end, *tmp = buf;
  size_t n = P->tok.n;
  double v;

  if (n >= sizeof buf && !(tmp = malloc(n + 1))) return fail_nomem(P);
  memcpy(tmp, P->s + P->tok.pos, n);
  tmp[n] = '\0';
  errno  = 0;
  v      = strtod(tmp, &end);
  if (tmp != buf) free(tmp);
  if (isinf(v)) {
    char d[2 * QUOTE_MAX + 32];
    describe(P, &P->tok, d, sizeof d);
    return fail_at(P, P->tok.pos, "found number %s out of range; expected a finite number", d);
  }
  lex(P);
  return emit_const(P, v);
}

static int parse_call(Parser *P, const Func *f, size_t namepos, size_t namelen)
{
  int nargs = 0, rc;

  lex(P); /* the name */
  lex(P); /* '(' */
  if (P->tok.kind != T_RPAREN) {
    for (;;) {
      if ((rc = parse_expr(P))) return rc;
      nargs++;
      if (P->tok.kind == T_COMMA) {
        lex(P);
        continue;
      }
      if (P->tok.kind == T_RPAREN) break;
      return fail_tok(P, after_operand(P, 1, 0));
    }
  }
  if (nargs != f->arity)
    return fail_at(P, namepos, "found %d argument%s to '%.*s'; expected %d", nargs, nargs == 1 ? "" : "s", (int)namelen, P->s + namepos, f->arity);
  lex(P); /* ')' */
  return emit_op(P, f->op, namepos);
}

static int parse_name(Parser *P)
{
  const char *name = P->s + P->tok.pos;
  size_t      len = P->tok.n, pos = P->tok.pos;
  int         q   = len > QUOTE_MAX ? QUOTE_MAX : (int)len;
  const char *ell = len > QUOTE_MAX ? "..." : "";
  Tok         nx  = peek(P);

  if (nx.kind == T_LPAREN) {
    const Func *f = find_func(name, len);
    if (!f) return fail_at(P, pos, "found unknown function '%.*s%s'; expected exp, log, sqrt, min, max or if", q, name, ell);
    return parse_call(P, f, pos, len);
  } else {
    int               index = -1;
    StgssaExprVarKind kind  = P->resolve ? P->resolve(P->ctx, name, len, &index) : STGSSA_EXPR_UNKNOWN;
    Instr             in    = {OP_T, 0, 0, 0.0};

    if (kind != STGSSA_EXPR_TIME && (kind < STGSSA_EXPR_SPECIES || kind > STGSSA_EXPR_INPUT || index < 0)) {
      if (find_func(name, len)) return fail_at(P, pos, "found function name '%.*s' without '('; expected '%.*s(...)'", q, name, q, name);
      return fail_at(P, pos, "found unknown name '%.*s%s'; expected a species, a parameter, an input or t", q, name, ell);
    }
    in.op  = kind == STGSSA_EXPR_SPECIES ? OP_S : kind == STGSSA_EXPR_PARAM ? OP_P : kind == STGSSA_EXPR_INPUT ? OP_I : OP_T;
    in.arg = kind == STGSSA_EXPR_TIME ? 0 : index;
    lex(P);
    return push_instr(P, in);
  }
}

static int parse_primary(Parser *P)
{
  int rc;
  switch (P->tok.kind) {
  case T_NUM: return parse_number(P);
  case T_NAME: return parse_name(P);
  case T_LPAREN:
    lex(P);
    if ((rc = parse_expr(P))) return rc;
    if (P->tok.kind != T_RPAREN) return fail_tok(P, after_operand(P, 0, 1));
    lex(P);
    return 0;
  default: return fail_tok(P, "a number, a name, '(', '+' or '-'");
  }
}

/* power := primary [ '^' unary ] */
static int parse_power(Parser *P)
{
  int    rc;
  size_t pos;
  if ((rc = parse_primary(P))) return rc;
  if (P->tok.kind != T_CARET) return 0;
  pos = P->tok.pos;
  lex(P);
  if ((rc = parse_unary(P))) return rc;
  return emit_op(P, OP_POW, pos);
}

/* unary := ('+'|'-') unary | power */
static int parse_unary(Parser *P)
{
  int rc;
  if ((rc = enter(P))) return rc;
  if (P->tok.kind == T_MINUS || P->tok.kind == T_PLUS) {
    int    neg = P->tok.kind == T_MINUS;
    size_t pos = P->tok.pos;
    lex(P);
    if ((rc = parse_unary(P))) return rc;
    if (neg && (rc = emit_op(P, OP_NEG, pos))) return rc;
  } else if ((rc = parse_power(P))) return rc;
  P->depth--;
  return 0;
}

static int parse_product(Parser *P)
{
  int rc;
  if ((rc = parse_unary(P))) return rc;
  while (P->tok.kind == T_STAR || P->tok.kind == T_SLASH) {
    int    op  = P->tok.kind == T_STAR ? OP_MUL : OP_DIV;
    size_t pos = P->tok.pos;
    lex(P);
    if ((rc = parse_unary(P)) || (rc = emit_op(P, op, pos))) return rc;
  }
  return 0;
}

static int parse_sum(Parser *P)
{
  int rc;
  if ((rc = parse_product(P))) return rc;
  while (P->tok.kind == T_PLUS || P->tok.kind == T_MINUS) {
    int    op  = P->tok.kind == T_PLUS ? OP_ADD : OP_SUB;
    size_t pos = P->tok.pos;
    lex(P);
    if ((rc = parse_product(P)) || (rc = emit_op(P, op, pos))) return rc;
  }
  return 0;
}

static int cmp_op(TokKind k)
{
  switch (k) {
  case T_LT: return OP_LT;
  case T_LE: return OP_LE;
  case T_GT: return OP_GT;
  case T_GE: return OP_GE;
  case T_EQ: return OP_EQ;
  case T_NE: return OP_NE;
  default: return -1;
  }
}

/* expr := sum [ cmp sum ] */
static int parse_expr(Parser *P)
{
  int    rc, op;
  size_t pos;
  if ((rc = enter(P))) return rc;
  if ((rc = parse_sum(P))) return rc;
  if ((op = cmp_op(P->tok.kind)) >= 0) {
    pos = P->tok.pos;
    lex(P);
    if ((rc = parse_sum(P)) || (rc = emit_op(P, op, pos))) return rc;
    if (cmp_op(P->tok.kind) >= 0) {
      char d[2 * QUOTE_MAX + 32];
      describe(P, &P->tok, d, sizeof d);
      return fail_at(P, P->tok.pos, "found second comparison %s; expected parentheses, as in (a < b) < c (comparisons do not chain)", d);
    }
  }
  P->depth--;
  return 0;
}

/* ---------------------------------------------------------------- compile */

static int cmp_int(const void *a, const void *b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Sorted distinct indices of variables of opcode op in code; returns count, list in out. */
static int collect(const Instr *code, int ncode, int op, int *out)
{
  int n = 0, i, m = 0;
  for (i = 0; i < ncode; i++)
    if (code[i].op == op) out[n++] = code[i].arg;
  qsort(out, (size_t)n, sizeof *out, cmp_int);
  for (i = 0; i < n; i++)
    if (i == 0 || out[i] != out[m - 1]) out[m++] = out[i];
  return m;
}

static int find_slot(const int *list, int n, int index)
{
  int lo = 0, hi = n - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (list[mid] == index) return mid;
    if (list[mid] < index) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

int StgssaExprCompile(const char *text, size_t len, const char *filename, int line, int col0, StgssaExprResolver resolve, void *ctx,
                      StgssaExpr **out, char *err, size_t errlen)
{
  Parser      P;
  StgssaExpr *e = NULL;
  int         rc, i, sp, nvs = 0;
  int        *lists;

  if (err && errlen) err[0] = '\0';
  if (!out) return STGSSA_PARSE_ESYNTAX;
  *out = NULL;
  memset(&P, 0, sizeof P);
  P.s       = text ? text : "";
  P.n       = text ? len : 0;
  P.file    = filename ? filename : "(expression)";
  P.line    = line;
  P.col0    = col0;
  P.resolve = resolve;
  P.ctx     = ctx;
  P.err     = err;
  P.errlen  = errlen;

  lex(&P);
  rc = parse_expr(&P);
  if (!rc && P.tok.kind != T_END) rc = fail_tok(&P, after_operand(&P, 0, 0));
  if (rc) goto fail;

  e = calloc(1, sizeof *e);
  if (!e) goto nomem;
  for (i = 0; i < P.ncode; i++) nvs += P.code[i].op == OP_S || P.code[i].op == OP_P || P.code[i].op == OP_I;
  lists = malloc((size_t)(3 * nvs + 1) * sizeof *lists);
  if (!lists) goto nomem;
  e->usedS = lists;
  e->nS    = collect(P.code, P.ncode, OP_S, e->usedS);
  e->usedP = e->usedS + e->nS;
  e->nP    = collect(P.code, P.ncode, OP_P, e->usedP);
  e->usedI = e->usedP + e->nP;
  e->nI    = collect(P.code, P.ncode, OP_I, e->usedI);
  for (i = 0; i < P.ncode; i++) e->usesT |= P.code[i].op == OP_T;
  e->nvar = e->nS + e->nP + e->nI + e->usesT;

  /* slots: species, then parameters, inputs, t; stack depth */
  for (i = 0, sp = 0; i < P.ncode; i++) {
    Instr *in = &P.code[i];
    if (in->op == OP_S) in->slot = find_slot(e->usedS, e->nS, in->arg);
    else if (in->op == OP_P) in->slot = e->nS + find_slot(e->usedP, e->nP, in->arg);
    else if (in->op == OP_I) in->slot = e->nS + e->nP + find_slot(e->usedI, e->nI, in->arg);
    else if (in->op == OP_T) in->slot = e->nS + e->nP + e->nI;
    sp += 1 - op_arity[in->op];
    if (sp > e->depth) e->depth = sp;
  }
  e->code  = P.code;
  e->ncode = P.ncode;
  P.code   = NULL;
  {
    /* the interval evaluator keeps [lo, hi] per stack slot: 2 * depth doubles (already covered
       when the expression uses a variable, since then depth * (1 + nvar) + 1 > 2 * depth) */
    size_t nw = StgssaExprWorkSize(e);
    if (nw < 2 * (size_t)e->depth) nw = 2 * (size_t)e->depth;
    e->work = malloc(nw * sizeof *e->work);
  }
  if (!e->work) goto nomem;
  *out = e;
  return STGSSA_PARSE_OK;

nomem:
  rc = fail_nomem(&P);
fail:
  free(P.code);
  StgssaExprFree(&e);
  return rc;
}

void StgssaExprFree(StgssaExpr **pe)
{
  if (!pe || !*pe) return;
  free((*pe)->code);
  free((*pe)->usedS);
  free((*pe)->work);
  free(*pe);
  *pe = NULL;
}

/* ---------------------------------------------------------------- accessors */

const int *StgssaExprUsedSpecies(const StgssaExpr *e, int *n)
{
  *n = e->nS;
  return e->nS ? e->usedS : NULL;
}
const int *StgssaExprUsedParams(const StgssaExpr *e, int *n)
{
  *n = e->nP;
  return e->nP ? e->usedP : NULL;
}
const int *StgssaExprUsedInputs(const StgssaExpr *e, int *n)
{
  *n = e->nI;
  return e->nI ? e->usedI : NULL;
}
int StgssaExprUsesTime(const StgssaExpr *e) { return e->usesT; }
int StgssaExprLength(const StgssaExpr *e) { return e->ncode; }

int StgssaExprIsConstant(const StgssaExpr *e, double *value)
{
  if (e->ncode != 1 || e->code[0].op != OP_CONST) return 0;
  if (value) *value = e->code[0].c;
  return 1;
}

/* Homogeneity degree by abstract interpretation of the postfix program: each stack entry holds
   the degree k of its value v in the scaling q -> lambda q (v(lambda q) = lambda^k v(q) for all
   lambda > 0), or NOT_HOM. Euler: a homogeneous v of degree k has q dv/dq = k v. */
#define NOT_HOM INT_MIN
int StgssaExprParamDegree(const StgssaExpr *e, const int *pdeg, int *deg)
{
  int *st, sp = 0, ok = 1;
  if (!e || !deg) return -1;
  if (!(st = calloc((size_t)e->depth + 3, sizeof *st))) return -1;
  for (int i = 0; i < e->ncode && ok; i++) {
    const Instr *in = &e->code[i];
    const int    n  = op_arity[in->op];
    int         *a  = &st[sp - n], r = NOT_HOM, all0 = 1;
    if (sp < n) { ok = 0; break; } /* malformed program (cannot happen) */
    for (int k = 0; k < n; k++)
      if (a[k] != 0) all0 = 0;
    switch (in->op) {
    case OP_CONST: r = 0; break;
    case OP_P: r = pdeg ? pdeg[in->arg] : 0; break;
    case OP_S:
    case OP_I:
    case OP_T: r = NOT_HOM; break;
    case OP_NEG: r = a[0]; break;
    case OP_ADD:
    case OP_SUB:
    case OP_MIN:
    case OP_MAX: r = (a[0] != NOT_HOM && a[0] == a[1]) ? a[0] : NOT_HOM; break;
    case OP_MUL: r = (a[0] != NOT_HOM && a[1] != NOT_HOM && abs(a[0]) < 1000 && abs(a[1]) < 1000) ? a[0] + a[1] : NOT_HOM; break;
    case OP_DIV: r = (a[0] != NOT_HOM && a[1] != NOT_HOM && abs(a[0]) < 1000 && abs(a[1]) < 1000) ? a[0] - a[1] : NOT_HOM; break;
    case OP_POWI: r = (a[0] != NOT_HOM && abs(a[0]) < 1000) ? a[0] * in->arg : NOT_HOM; break;
    default: r = all0 ? 0 : NOT_HOM; break; /* any function of degree-0 operands is degree 0 */
    }
    sp -= n;
    st[sp++] = r;
    if (r == NOT_HOM) ok = 0;
  }
  *deg = ok && sp == 1 ? st[0] : NOT_HOM;
  free(st);
  return 0;
}

/* values: depth + 1 (the value-only evaluator pushes a dummy bottom); gradients: depth * nvar */
size_t StgssaExprWorkSize(const StgssaExpr *e) { return (size_t)e->depth * (size_t)(1 + e->nvar) + 1; }

/* ---------------------------------------------------------------- evaluation */

double StgssaExprEvalWork(const StgssaExpr *e, const double *species, const double *params, const double *inputs, double t, double *v)
{
  const Instr *c = e->code, *end = c + e->ncode;
  int          sp  = 0;   /* the top of the stack is kept in `top`; v[1..sp) holds the rest */
  double       top = 0.0, a, ab[2];

  for (; c < end; c++) {
    switch (c->op) {
    case OP_CONST: v[sp++] = top; top = c->c; break;
    case OP_S: v[sp++] = top; top = species[c->arg]; break;
    case OP_P: v[sp++] = top; top = params[c->arg]; break;
    case OP_I: v[sp++] = top; top = inputs[c->arg]; break;
    case OP_T: v[sp++] = top; top = t; break;
    case OP_NEG: top = -top; break;
    case OP_ADD: top = v[--sp] + top; break;
    case OP_SUB: top = v[--sp] - top; break;
    case OP_MUL: top = v[--sp] * top; break;
    case OP_DIV: top = v[--sp] / top; break;
    case OP_POW: top = pow(v[--sp], top); break;
    case OP_POWI: top = ipow(top, c->arg); break;
    case OP_EXP: top = exp(top); break;
    case OP_LOG: top = log(top); break;
    case OP_SQRT: top = sqrt(top); break;
    case OP_MIN:
      a   = v[--sp];
      top = (a <= top || isnan(a)) ? a : top;
      break;
    case OP_MAX:
      a   = v[--sp];
      top = (a >= top || isnan(a)) ? a : top;
      break;
    case OP_IF:
      a   = v[--sp]; /* then-branch; top is the else-branch */
      sp--;          /* condition */
      top = isnan(v[sp]) ? NAN : (v[sp] != 0 ? a : top);
      break;
    default: /* comparisons */
      ab[0] = v[--sp];
      ab[1] = top;
      top   = apply(c->op, 0, ab);
      break;
    }
  }
  return top;
}

double StgssaExprEval(const StgssaExpr *e, const double *species, const double *params, const double *inputs, double t)
{
  return StgssaExprEvalWork(e, species, params, inputs, t, e->work);
}

double StgssaExprEvalGradWork(const StgssaExpr *e, const double *species, const double *params, const double *inputs, double t,
                              double *dspecies, double *dparams, double *dinputs, double *dt, double *work)
{
  const Instr *c = e->code, *end = c + e->ncode;
  const int    nv = e->nvar;
  double      *v  = work, *G = work + e->depth + 1; /* G + i*nv: gradient of v[i] */
  int          sp = 0, k;
  double       a, b, r, ca, cb;
  double      *ga, *gb, *gc;

  for (; c < end; c++) {
    switch (c->op) {
    case OP_CONST:
    case OP_S:
    case OP_P:
    case OP_I:
    case OP_T:
      ga = G + sp * nv;
      for (k = 0; k < nv; k++) ga[k] = 0.0;
      switch (c->op) {
      case OP_CONST: v[sp] = c->c; break;
      case OP_S: v[sp] = species[c->arg]; break;
      case OP_P: v[sp] = params[c->arg]; break;
      case OP_I: v[sp] = inputs[c->arg]; break;
      default: v[sp] = t; break;
      }
      if (c->op != OP_CONST) ga[c->slot] = 1.0;
      sp++;
      break;
    case OP_NEG:
      ga        = G + (sp - 1) * nv;
      v[sp - 1] = -v[sp - 1];
      for (k = 0; k < nv; k++) ga[k] = -ga[k];
      break;
    case OP_ADD:
    case OP_SUB:
      sp--;
      ga = G + (sp - 1) * nv, gb = G + sp * nv;
      if (c->op == OP_ADD) {
        v[sp - 1] += v[sp];
        for (k = 0; k < nv; k++) ga[k] += gb[k];
      } else {
        v[sp - 1] -= v[sp];
        for (k = 0; k < nv; k++) ga[k] -= gb[k];
      }
      break;
    case OP_MUL:
      sp--;
      ga = G + (sp - 1) * nv, gb = G + sp * nv;
      a = v[sp - 1], b = v[sp];
      for (k = 0; k < nv; k++) ga[k] = ga[k] * b + a * gb[k];
      v[sp - 1] = a * b;
      break;
    case OP_DIV:
      sp--;
      ga = G + (sp - 1) * nv, gb = G + sp * nv;
      a = v[sp - 1], b = v[sp];
      r = a / b;
      for (k = 0; k < nv; k++) ga[k] = (ga[k] - r * gb[k]) / b;
      v[sp - 1] = r;
      break;
    case OP_POW: {
      int need_a = 0, need_b = 0;
      sp--;
      ga = G + (sp - 1) * nv, gb = G + sp * nv;
      a = v[sp - 1], b = v[sp];
      r = pow(a, b);
      for (k = 0; k < nv; k++) need_a |= ga[k] != 0, need_b |= gb[k] != 0;
      ca = need_a ? (b == 0 ? 0.0 : (a != 0 ? b * (r / a) : b * pow(a, b - 1))) : 0.0;
      cb = need_b ? (r == 0 ? 0.0 : r * log(a)) : 0.0;
      for (k = 0; k < nv; k++) ga[k] = (ga[k] != 0 ? ca * ga[k] : 0.0) + (gb[k] != 0 ? cb * gb[k] : 0.0);
      v[sp - 1] = r;
      break;
    }
    case OP_POWI:
      ga = G + (sp - 1) * nv;
      a  = v[sp - 1];
      ca = c->arg == 0 ? 0.0 : c->arg * ipow(a, c->arg - 1);
      for (k = 0; k < nv; k++) ga[k] = ga[k] != 0 ? ca * ga[k] : 0.0;
      v[sp - 1] = ipow(a, c->arg);
      break;
    case OP_EXP:
    case OP_LOG:
    case OP_SQRT:
      ga = G + (sp - 1) * nv;
      a  = v[sp - 1];
      if (c->op == OP_EXP) r = exp(a), ca = r;
      else if (c->op == OP_LOG) r = log(a), ca = 1.0 / a;
      else r = sqrt(a), ca = 0.5 / r;
      for (k = 0; k < nv; k++) ga[k] = ga[k] != 0 ? ca * ga[k] : 0.0;
      v[sp - 1] = r;
      break;
    case OP_MIN:
    case OP_MAX:
      sp--;
      ga = G + (sp - 1) * nv, gb = G + sp * nv;
      a = v[sp - 1], b = v[sp];
      if (!(c->op == OP_MIN ? (a <= b || isnan(a)) : (a >= b || isnan(a)))) {
        v[sp - 1] = b;
        for (k = 0; k < nv; k++) ga[k] = gb[k];
      }
      break;
    case OP_IF:
      sp -= 2;
      gc = G + (sp - 1) * nv;
      a  = v[sp - 1];
      if (isnan(a)) {
        v[sp - 1] = NAN;
        for (k = 0; k < nv; k++) gc[k] = 0.0;
      } else {
        int pick = a != 0 ? sp : sp + 1;
        gb       = G + pick * nv;
        v[sp - 1] = v[pick];
        for (k = 0; k < nv; k++) gc[k] = gb[k];
      }
      break;
    default: /* comparisons: derivative 0 */
      sp--;
      ga        = G + (sp - 1) * nv;
      v[sp - 1] = apply(c->op, 0, &v[sp - 1]);
      for (k = 0; k < nv; k++) ga[k] = 0.0;
      break;
    }
  }
  /* v[0], G[0..nv): value and gradient in slot order: species, parameters, inputs, t */
  ga = G;
  if (dspecies)
    for (k = 0; k < e->nS; k++) dspecies[k] = ga[k];
  ga += e->nS;
  if (dparams)
    for (k = 0; k < e->nP; k++) dparams[k] = ga[k];
  ga += e->nP;
  if (dinputs)
    for (k = 0; k < e->nI; k++) dinputs[k] = ga[k];
  ga += e->nI;
  if (dt) *dt = e->usesT ? ga[0] : 0.0;
  return v[0];
}

double StgssaExprEvalGrad(const StgssaExpr *e, const double *species, const double *params, const double *inputs, double t,
                          double *dspecies, double *dparams, double *dinputs, double *dt)
{
  return StgssaExprEvalGradWork(e, species, params, inputs, t, dspecies, dparams, dinputs, dt, e->work);
}

/* ---------------------------------------------------------------- interval evaluation */
/*
  Interval enclosure (StgssaExprEvalInterval). Each stack slot holds [lo, hi]; the slot
  encloses the exact value and every value the point evaluator computes on the box (by
  induction: every operation below is monotone in each operand on the pieces it is applied to,
  and rounding to nearest is monotone too). Outward rounding: + - * / and sqrt are correctly
  rounded, so one ulp (nextafter) per endpoint covers the exact result; for + - and * the
  rounding error is computed exactly (2Sum, fma) and an endpoint is widened only when it is
  inexact, on the side of the exact value, so exact results (t - 5 at t = 5, 0*x) stay exact.
  exp, log and pow are within 1 ulp on glibc but not correctly rounded (and not necessarily
  monotone), so their endpoints are widened by 2 ulp. Negation, min, max, comparisons and if
  are exact.

  "No enclosure" is the slot [NaN, NaN]: it propagates through every operation except an if()
  whose condition decides the branch for the whole box, like the NaN of a branch not taken in
  the point evaluator. Endpoints may be infinite (overflow, exp of a large interval).
*/

/* nextafter(x, +inf) and nextafter(x, -inf) without the library call: the next double up is
   the bit pattern plus one for x > 0, minus one for x < 0 (IEEE 754 binary64 ordering) */
static double up1(double x)
{
  uint64_t b;
  if (!(x < INFINITY)) return x; /* +inf, NaN */
  if (x == 0) return 0x1p-1074;
  memcpy(&b, &x, sizeof b);
  b += x > 0 ? 1 : (uint64_t)-1;
  memcpy(&x, &b, sizeof x);
  return x;
}
static double dn1(double x) { return -up1(-x); }
static double dn2(double x) { return dn1(dn1(x)); } /* exp, log, pow: libm within 1 ulp */
static double up2(double x) { return up1(up1(x)); }
static double nonneg(double x) { return x < 0 ? 0.0 : x; } /* NaN stays NaN */

/* s = a + b (s = a*b) rounded to nearest, as a lower (up = 0) or upper (up = 1) bound of the
   exact result: err = exact - s by 2Sum (Knuth) or fma is exact when s is finite (and for the
   product not below 2^-969, where the residual could underflow: then widen unconditionally) */
static double add_dir(double a, double b, int up)
{
  double s = a + b, bb, err;
  if (!isfinite(s)) return up ? up1(s) : dn1(s);
  bb  = s - a;
  err = (a - (s - bb)) + (b - bb);
  return up ? (err > 0 ? up1(s) : s) : (err < 0 ? dn1(s) : s);
}

static double mul_dir(double a, double b, int up)
{
  double p = a * b, err;
  if (!isfinite(p) || (fabs(p) < 0x1p-969 && a != 0 && b != 0)) return up ? up1(p) : dn1(p);
  err = fma(a, b, -p); /* 0 when a or b is 0 */
  return up ? (err > 0 ? up1(p) : p) : (err < 0 ? dn1(p) : p);
}

/* x^m for x >= 0 rounded downward (up = 0) or upward (up = 1): the multiplications of ipow
   in the same order, each rounded outward (so it bounds ipow's rounded result too). */
static double ipow_dir(double x, unsigned m, int up)
{
  double r = 1.0;
  int    first = 1;
  while (m) {
    if (m & 1u) {
      r     = first ? x : up ? mul_dir(r, x, 1) : nonneg(mul_dir(r, x, 0)); /* 1*x is exact */
      first = 0;
    }
    m >>= 1;
    if (m) x = up ? mul_dir(x, x, 1) : nonneg(mul_dir(x, x, 0));
  }
  return r;
}

/* Signed x^m for odd m, rounded outward: x < 0 gives -(|x|^m) with the other rounding. */
static double spow_dir(double x, unsigned m, int up) { return x < 0 ? -ipow_dir(-x, m, !up) : ipow_dir(x, m, up); }

/* [ml, mh] = range of |x| over [l, h] */
static void magnitude(double l, double h, double *ml, double *mh)
{
  if (l >= 0) *ml = l, *mh = h;
  else if (h <= 0) *ml = -h, *mh = -l;
  else *ml = 0.0, *mh = fmax(-l, h);
}

/* slot = [l, h], or no enclosure if either is NaN */
static void set_iv(double *L, double *H, double l, double h)
{
  if (isnan(l) || isnan(h)) l = h = NAN;
  *L = l;
  *H = h;
}

/* hull of the four corner values p[0..4) into [*l, *h]; 0 when one is NaN */
static int hull4(const double *p, double *l, double *h)
{
  *l = *h = p[0];
  for (int i = 0; i < 4; i++) {
    if (isnan(p[i])) return 0;
    *l = p[i] < *l ? p[i] : *l;
    *h = p[i] > *h ? p[i] : *h;
  }
  return 1;
}

/* [al,ah] * [bl,bh]: the hull of the four corner products (0 * inf gives no enclosure). The
   smallest and the largest rounded products are recomputed with outward rounding; corners whose
   rounded products tie may have different exact products, so each of a tie is recomputed. */
static void mul_iv(double al, double ah, double bl, double bh, double *L, double *H)
{
  double x[4] = {al, al, ah, ah}, y[4] = {bl, bh, bl, bh}, p[4], l = INFINITY, h = -INFINITY;
  int    il = 0, ih = 0, i;
  for (i = 0; i < 4; i++) {
    p[i] = x[i] * y[i];
    if (isnan(p[i])) {
      set_iv(L, H, NAN, NAN);
      return;
    }
    if (p[i] < p[il]) il = i;
    if (p[i] > p[ih]) ih = i;
  }
  for (i = 0; i < 4; i++) {
    if (p[i] == p[il]) l = fmin(l, mul_dir(x[i], y[i], 0));
    if (p[i] == p[ih]) h = fmax(h, mul_dir(x[i], y[i], 1));
  }
  set_iv(L, H, l, h);
}

/* [al,ah] / [bl,bh]: no enclosure when the divisor interval contains 0, else a/b is monotone
   in each operand and its extremes are corner quotients */
static void div_iv(double al, double ah, double bl, double bh, double *L, double *H)
{
  double p[4] = {al / bl, al / bh, ah / bl, ah / bh}, l, h;
  if (!(bl <= 0 && bh >= 0) && hull4(p, &l, &h)) set_iv(L, H, dn1(l), up1(h));
  else set_iv(L, H, NAN, NAN);
}

/* x^k, k a constant integer (OP_POWI): monotone in |x| for even k, in x for odd k; k < 0 is
   1/x^|k|, no enclosure when x^|k| can be 0 (pole) */
static void powi_iv(double l, double h, int k, double *L, double *H)
{
  unsigned m = (unsigned)(k < 0 ? -k : k);
  double   pl, ph, ml, mh;

  if (k == 0) { /* ipow(x, 0) = 1 */
    set_iv(L, H, 1.0, 1.0);
    return;
  }
  if (m % 2 == 0) {
    magnitude(l, h, &ml, &mh);
    pl = ipow_dir(ml, m, 0), ph = ipow_dir(mh, m, 1);
  } else pl = spow_dir(l, m, 0), ph = spow_dir(h, m, 1);
  if (k > 0) set_iv(L, H, pl, ph);
  else if (pl <= 0 && ph >= 0) set_iv(L, H, NAN, NAN);
  else set_iv(L, H, dn1(1.0 / ph), up1(1.0 / pl)); /* 1/x decreasing on a sign-definite interval */
}

/* a^b (OP_POW). A point exponent b: integer b as powi (monotone pieces), non-integer b needs
   a >= 0 (NaN for a < 0) and a > 0 when b < 0 (pole). A point base a <= 0 with an interval
   exponent: 0^b = 0 for b > 0, else no enclosure (jump at b = 0, pole, or NaN for a < 0).
   Otherwise a > 0 (or a >= 0 and b > 0): a^b is monotone in a for fixed b and in b for fixed
   a, so its extremes are at the four corners. */
/* pow(x0, b) and pow(x1, b), one call when x0 == x1 */
static void pow_pair(double x0, double x1, double b, double *r0, double *r1)
{
  *r0 = pow(x0, b);
  *r1 = x1 == x0 ? *r0 : pow(x1, b);
}

static void pow_iv(double al, double ah, double bl, double bh, double *L, double *H)
{
  double p[4], l, h, ml, mh;

  if (bl == bh) {
    double b = bl;
    if (b == 0) { /* pow(x, 0) = 1 */
      set_iv(L, H, 1.0, 1.0);
      return;
    }
    if (b == floor(b) && fabs(b) < 0x1p53) {
      if (b < 0 && al <= 0 && ah >= 0) {
        set_iv(L, H, NAN, NAN);
        return;
      }
      if (fmod(b, 2.0) == 0) { /* even: monotone in |a| */
        magnitude(al, ah, &ml, &mh);
        pow_pair(ml, mh, b, &l, &h);
        if (b > 0) set_iv(L, H, nonneg(dn2(l)), up2(h));
        else set_iv(L, H, nonneg(dn2(h)), up2(l));
        return;
      }
      pow_pair(al, ah, b, &l, &h);
      if (b > 0) set_iv(L, H, dn2(l), up2(h)); /* odd, increasing */
      else set_iv(L, H, dn2(h), up2(l));       /* odd < 0, decreasing */
      return;
    }
    if (al < 0 || (b < 0 && al <= 0)) {
      set_iv(L, H, NAN, NAN);
      return;
    }
    pow_pair(al, ah, b, &l, &h);
    if (b > 0) set_iv(L, H, nonneg(dn2(l)), up2(h));
    else set_iv(L, H, nonneg(dn2(h)), up2(l));
    return;
  }
  if (al == ah && al <= 0) {
    if (al == 0 && bl > 0) set_iv(L, H, 0.0, 0.0);
    else set_iv(L, H, NAN, NAN);
    return;
  }
  if (!(al > 0 || (al >= 0 && bl > 0))) {
    set_iv(L, H, NAN, NAN);
    return;
  }
  pow_pair(al, ah, bl, &p[0], &p[2]);
  pow_pair(al, ah, bh, &p[1], &p[3]);
  if (hull4(p, &l, &h)) set_iv(L, H, nonneg(dn2(l)), up2(h));
  else set_iv(L, H, NAN, NAN);
}

/* comparison: [1,1] when true on the whole box, [0,0] when false on the whole box, else [0,1] */
static void cmp_iv(int op, double al, double ah, double bl, double bh, double *L, double *H)
{
  int yes, no, same = al == ah && bl == bh && al == bl;
  switch (op) {
  case OP_LT: yes = ah < bl, no = al >= bh; break;
  case OP_LE: yes = ah <= bl, no = al > bh; break;
  case OP_GT: yes = al > bh, no = ah <= bl; break;
  case OP_GE: yes = al >= bh, no = ah < bl; break;
  case OP_EQ: yes = same, no = ah < bl || bh < al; break;
  default: yes = ah < bl || bh < al, no = same; break; /* OP_NE */
  }
  set_iv(L, H, yes ? 1.0 : 0.0, no ? 0.0 : 1.0);
}

int StgssaExprEvalInterval(const StgssaExpr *e, const double *species, const double *params, const double *inputs_lo, const double *inputs_hi, double t_lo,
                           double t_hi, double *lo, double *hi)
{
  const Instr *c = e->code, *end = c + e->ncode;
  double      *L = e->work, *H = e->work + e->depth; /* slot i: [L[i], H[i]] */
  int          sp = 0;
  double       al, ah, bl, bh, *rl, *rh;

  for (; c < end; c++) {
    switch (c->op) {
    case OP_CONST: set_iv(&L[sp], &H[sp], c->c, c->c); sp++; continue;
    case OP_S: set_iv(&L[sp], &H[sp], species[c->arg], species[c->arg]); sp++; continue;
    case OP_P: set_iv(&L[sp], &H[sp], params[c->arg], params[c->arg]); sp++; continue;
    case OP_I: /* a NaN or reversed bound is a caller error: no enclosure */
      if (!(inputs_lo[c->arg] <= inputs_hi[c->arg])) goto fail;
      set_iv(&L[sp], &H[sp], inputs_lo[c->arg], inputs_hi[c->arg]);
      sp++;
      continue;
    case OP_T:
      if (!(t_lo <= t_hi)) goto fail;
      set_iv(&L[sp], &H[sp], t_lo, t_hi);
      sp++;
      continue;
    case OP_IF: /* condition decided for the whole box: that branch (the other may be NaN) */
      sp -= 2;
      al = L[sp - 1], ah = H[sp - 1];
      if (isnan(al)) continue; /* condition without enclosure: stays [NaN, NaN] */
      if (al > 0 || ah < 0) set_iv(&L[sp - 1], &H[sp - 1], L[sp], H[sp]);
      else if (al == 0 && ah == 0) set_iv(&L[sp - 1], &H[sp - 1], L[sp + 1], H[sp + 1]);
      else if (isnan(L[sp]) || isnan(L[sp + 1])) set_iv(&L[sp - 1], &H[sp - 1], NAN, NAN);
      else set_iv(&L[sp - 1], &H[sp - 1], fmin(L[sp], L[sp + 1]), fmax(H[sp], H[sp + 1])); /* hull */
      continue;
    default: break;
    }
    /* operations of one or two operands: a = [al, ah] (first), b = [bl, bh] (second) */
    if (op_arity[c->op] == 2) sp--, bl = L[sp], bh = H[sp];
    else bl = bh = 0.0;
    al = L[sp - 1], ah = H[sp - 1];
    rl = &L[sp - 1], rh = &H[sp - 1];
    if (isnan(al) || isnan(bl)) { /* NaN in, NaN out */
      set_iv(rl, rh, NAN, NAN);
      continue;
    }
    switch (c->op) {
    case OP_NEG: set_iv(rl, rh, -ah, -al); break;
    case OP_ADD: set_iv(rl, rh, add_dir(al, bl, 0), add_dir(ah, bh, 1)); break; /* inf - inf: NaN */
    case OP_SUB: set_iv(rl, rh, add_dir(al, -bh, 0), add_dir(ah, -bl, 1)); break;
    case OP_MUL: mul_iv(al, ah, bl, bh, rl, rh); break;
    case OP_DIV: div_iv(al, ah, bl, bh, rl, rh); break;
    case OP_POW: pow_iv(al, ah, bl, bh, rl, rh); break;
    case OP_POWI: powi_iv(al, ah, c->arg, rl, rh); break;
    case OP_EXP: /* increasing */
      bl = exp(al);
      set_iv(rl, rh, nonneg(dn2(bl)), up2(ah == al ? bl : exp(ah)));
      break;
    case OP_LOG: /* increasing on (0, inf]; log(0) = -inf and log(x < 0) = NaN: no enclosure */
      if (al <= 0) set_iv(rl, rh, NAN, NAN);
      else bl = log(al), set_iv(rl, rh, dn2(bl), up2(ah == al ? bl : log(ah)));
      break;
    case OP_SQRT: /* increasing on [0, inf], correctly rounded: 1 ulp */
      if (al < 0) set_iv(rl, rh, NAN, NAN);
      else set_iv(rl, rh, nonneg(dn1(sqrt(al))), up1(sqrt(ah)));
      break;
    case OP_MIN: set_iv(rl, rh, fmin(al, bl), fmin(ah, bh)); break; /* increasing in both */
    case OP_MAX: set_iv(rl, rh, fmax(al, bl), fmax(ah, bh)); break;
    default: cmp_iv(c->op, al, ah, bl, bh, rl, rh); break; /* comparisons */
    }
  }
  if (isnan(L[0])) goto fail;
  *lo = L[0];
  *hi = H[0];
  return 0;

fail:
  *lo = -INFINITY;
  *hi = INFINITY;
  return 1;
}

/* ---------------------------------------------------------------- printer */

/* precedence of printed forms: 1 comparison, 2 sum, 3 product, 4 unary, 5 power, 6 primary */
typedef struct {
  char *s;
  int   prec;
} Piece;

static char *format_number(double x)
{
  char buf[64];
  snprintf(buf, sizeof buf, "%.15g", x);
  if (strtod(buf, NULL) != x) snprintf(buf, sizeof buf, "%.17g", x);
  return strdup(buf);
}

/* s wrapped in parentheses when its precedence is below min; takes ownership of p.s */
static char *operand(Piece p, int min)
{
  char  *r;
  size_t n;
  if (p.prec >= min) return p.s;
  n = strlen(p.s);
  r = malloc(n + 3);
  if (r) {
    r[0] = '(';
    memcpy(r + 1, p.s, n);
    r[n + 1] = ')';
    r[n + 2] = '\0';
  }
  free(p.s);
  return r;
}

static char *concat(const char *a, const char *b, const char *c, const char *d, const char *f)
{
  size_t la = strlen(a), lb = strlen(b), lc = strlen(c), ld = strlen(d), lf = strlen(f);
  char  *r  = malloc(la + lb + lc + ld + lf + 1);
  if (!r) return NULL;
  memcpy(r, a, la);
  memcpy(r + la, b, lb);
  memcpy(r + la + lb, c, lc);
  memcpy(r + la + lb + lc, d, ld);
  memcpy(r + la + lb + lc + ld, f, lf);
  r[la + lb + lc + ld + lf] = '\0';
  return r;
}

int StgssaExprToString(const StgssaExpr *e, StgssaExprNamer namer, void *ctx, char *buf, size_t len)
{
  static const char *const binop[OP_COUNT] = {[OP_ADD] = " + ", [OP_SUB] = " - ", [OP_MUL] = "*", [OP_DIV] = "/", [OP_POW] = "^",
                                              [OP_LT] = " < ",  [OP_LE] = " <= ", [OP_GT] = " > ", [OP_GE] = " >= ", [OP_EQ] = " == ",
                                              [OP_NE] = " != "};
  static const char *const fname[OP_COUNT] = {[OP_EXP] = "exp", [OP_LOG] = "log", [OP_SQRT] = "sqrt", [OP_MIN] = "min", [OP_MAX] = "max", [OP_IF] = "if"};
  Piece *st = malloc((size_t)(e->depth + 1) * sizeof *st);
  int    sp = 0, i, total = -1, ok = 1;

  if (!st) return -1;
  for (i = 0; i < e->ncode && ok; i++) {
    const Instr *c = &e->code[i];
    Piece        p = {NULL, 6};
    switch (c->op) {
    case OP_CONST:
      p.s    = format_number(c->c);
      p.prec = c->c < 0 || (c->c == 0 && signbit(c->c)) ? 4 : 6;
      break;
    case OP_S:
    case OP_P:
    case OP_I:
    case OP_T: {
      StgssaExprVarKind k    = c->op == OP_S ? STGSSA_EXPR_SPECIES : c->op == OP_P ? STGSSA_EXPR_PARAM : c->op == OP_I ? STGSSA_EXPR_INPUT : STGSSA_EXPR_TIME;
      const char       *name = namer ? namer(ctx, k, c->arg) : NULL;
      char              tmp[48];
      if (!name) {
        if (k == STGSSA_EXPR_TIME) snprintf(tmp, sizeof tmp, "t");
        else snprintf(tmp, sizeof tmp, "%s[%d]", k == STGSSA_EXPR_SPECIES ? "species" : k == STGSSA_EXPR_PARAM ? "param" : "input", c->arg);
        name = tmp;
      }
      p.s = strdup(name);
      break;
    }
    case OP_NEG: {
      char *x = operand(st[--sp], 4);
      p.s     = x ? concat("-", x, "", "", "") : NULL;
      p.prec  = 4;
      free(x);
      break;
    }
    case OP_POWI: {
      char *x = operand(st[--sp], 6), num[16];
      snprintf(num, sizeof num, "%d", c->arg);
      p.s    = x ? concat(x, "^", num, "", "") : NULL;
      p.prec = 5;
      free(x);
      break;
    }
    case OP_EXP:
    case OP_LOG:
    case OP_SQRT: {
      char *x = st[--sp].s;
      p.s     = x ? concat(fname[c->op], "(", x, ")", "") : NULL;
      free(x);
      break;
    }
    case OP_MIN:
    case OP_MAX:
    case OP_IF: {
      int   k = op_arity[c->op], j;
      char *acc;
      sp -= k;
      acc = st[sp].s ? concat(fname[c->op], "(", st[sp].s, "", "") : NULL;
      free(st[sp].s);
      for (j = 1; j < k; j++) {
        char *nx = acc && st[sp + j].s ? concat(acc, ", ", st[sp + j].s, "", "") : NULL;
        free(acc);
        free(st[sp + j].s);
        acc = nx;
      }
      p.s = acc ? concat(acc, ")", "", "", "") : NULL;
      free(acc);
      break;
    }
    default: { /* binary operators */
      int   lmin, rmin;
      char *l, *r;
      switch (c->op) {
      case OP_ADD:
      case OP_SUB: lmin = 2, rmin = 3, p.prec = 2; break;
      case OP_MUL:
      case OP_DIV: lmin = 3, rmin = 4, p.prec = 3; break;
      case OP_POW: lmin = 6, rmin = 4, p.prec = 5; break;
      default: lmin = 2, rmin = 2, p.prec = 1; break; /* comparisons */
      }
      sp -= 2;
      l   = operand(st[sp], lmin);
      r   = operand(st[sp + 1], rmin);
      p.s = l && r ? concat(l, binop[c->op], r, "", "") : NULL;
      free(l);
      free(r);
      break;
    }
    }
    if (!p.s) ok = 0;
    st[sp++] = p;
  }
  if (ok && sp == 1) {
    total = (int)strlen(st[0].s);
    if (buf && len) snprintf(buf, len, "%s", st[0].s);
  }
  for (i = 0; i < sp; i++) free(st[i].s);
  free(st);
  return total;
}
