/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Parser of the `.model` text format (DESIGN.md section 4) into a StgssaModelDef.
  Pure C11: no PETSc, no MPI, so that it can be unit-tested and fuzzed on its own.

  Layout of this file: error messages, a line-oriented lexer, a table of defined names,
  the parsers of the sections, then the public functions.

  Rates (the field after the products; a `<->` line has two, split at the first ',' outside
  parentheses, so min(a,b) stays whole; each follows these rules on its own):
  - Exactly NUMBER, PARAM or NUMBER*PARAM (PARAM a parameter name): mass action with a constant
    rate, stored as factor and param (law = NULL) exactly as before rate laws existed.
  - Anything else is an expression (include/stgssa/expr.h) of numbers, parameters, species,
    inputs and the time t, compiled to reaction.law with factor = 1, param = -1:
      no species named:  a rate "constant", law_full = 0, a_j = law * prod_s C(x_s, r_js)
                         (`k*Hog`, `k1*k2`, `k*2`);
      a species named:   the whole propensity, law_full = 1 (`vmax*M/(Km + M)`, `k*A^n/(K^n + A^n)`,
                         also a bare species name `A`).
    An expression that folds to a constant (`2*3`) is stored as a numeric rate (law = NULL,
    factor = its value, param = -1) and must be >= 0 (the compiler refuses non-finite ones).
  - Errors inside an expression come from the compiler with the expression's column.

  Inputs (`begin inputs` section): `NAME EXPRESSION` (parameters, numbers and t; no species,
  no inputs) or `NAME table T0 V0 T1 V1 ...` (T0 = 0 < T1 < ... finite; V a nonnegative number
  or a parameter name, then values[i] is NaN and vparam[i] the parameter; V_i holds on
  [T_i, T_{i+1}), the last for ever). `table` as the first word of the body always starts a
  table. Input names share the namespace of parameters and species; the name `t` is reserved
  (the time) and refused for parameters, species and inputs.

  Choices made here (the design leaves them open):
  - Sections may appear in any order. The first pass over the file checks the section
    structure, reads the parameters and species sections and the names of the inputs; the
    second pass parses the bodies of the inputs, then the lines of the reactions section, so
    an input or a reaction may use a name defined further down. Hence errors of the first pass
    are reported before errors inside inputs, and those before errors inside reactions.
  - `begin` and `end` are keywords when they start a line.
  - A coefficient is separated from its species by white space: `2 M` is accepted, `2M` is
    rejected as a malformed number (so is `1.5e3x`, `1.2.3`).
  - A `0` at the start of a side is always the empty side (a coefficient 0 is never valid).
  - A reaction `0 -> 0` (no species at all) and an empty species section are rejected.
  - Labels need not be unique; they share no namespace with parameters or species.
  - Columns count bytes from 1; a `\r` before the `\n` is ignored (CRLF files).
  - Every syntax error reads "FILE:LINE:COL: found X; expected Y"; the model is freed.
*/
#include <stgssa/modeldef.h>
#include <stgssa/expr.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lex_util.h"

#if defined(__GNUC__)
  #define STGSSA_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
  #define STGSSA_PRINTF(f, a)
#endif

/* Longest token text quoted in a message. */
#define QUOTE_MAX 40
#define STR_(x)   #x
#define STR(x)    STR_(x)

/* ---------------------------------------------------------------- characters */

static int is_arrow_char(int c) { return c == '-' || c == '<' || c == '>' || c == '='; }

/* Precision argument for "%.*s": lengths of quoted text are capped. */
static int prec(size_t n) { return n > QUOTE_MAX ? QUOTE_MAX : (int)n; }

/* Length of the longest prefix of s[0..n) of the form -?(D+(.D*)?|.D+)([eE][+-]?D+)?, or 0. */
static size_t scan_number(const char *s, size_t n)
{
  size_t i = 0, j;
  int    mantissa;

  if (i < n && s[i] == '-') i++;
  j        = scan_digits(s, n, i);
  mantissa = j > i;
  i        = j;
  if (i < n && s[i] == '.') {
    j = scan_digits(s, n, i + 1);
    if (j > i + 1) mantissa = 1;
    i = j;
  }
  if (!mantissa) return 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    size_t k = i + 1;
    if (k < n && (s[k] == '+' || s[k] == '-')) k++;
    j = scan_digits(s, n, k);
    if (j > k) i = j;
  }
  return i;
}

/* ---------------------------------------------------------------- messages */

STGSSA_PRINTF(3, 0)
static void vappend(char *err, size_t errlen, const char *fmt, va_list ap)
{
  size_t used;
  if (!err || !errlen) return;
  used = strlen(err);
  if (used + 1 < errlen) vsnprintf(err + used, errlen - used, fmt, ap);
}

STGSSA_PRINTF(3, 4)
static void append(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vappend(err, errlen, fmt, ap);
  va_end(ap);
}

STGSSA_PRINTF(4, 5)
static int set_error(int code, char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;
  if (err && errlen) err[0] = '\0';
  va_start(ap, fmt);
  vappend(err, errlen, fmt, ap);
  va_end(ap);
  return code;
}

/* ---------------------------------------------------------------- lexer */

typedef enum { TOK_END, TOK_NAME, TOK_NUMBER, TOK_BADNUMBER, TOK_ARROW, TOK_BIARROW, TOK_PLUS, TOK_COLON, TOK_COMMA, TOK_STAR, TOK_BAD } TokKind;

typedef struct {
  TokKind     kind;
  const char *s; /* text of the token (not NUL-terminated) */
  size_t      n;
  int         line, col;
} Token;

/* Lexer over one line (without its newline); copying the struct saves its state. */
typedef struct {
  const char *s;
  size_t      n;
  size_t      pos;
  int         line;
} Lexer;

static void lex_next(Lexer *lx, Token *t)
{
  const char *s = lx->s;
  size_t      n = lx->n, i = lx->pos, m;

  while (i < n && is_space(uc(s, i))) i++;
  t->s    = s + i;
  t->line = lx->line;
  t->col  = (int)i + 1;
  if (i >= n || s[i] == '#') { /* end of line or comment: stay here */
    t->kind = TOK_END;
    t->n    = 0;
    lx->pos = i;
    return;
  }
  m = i + 1;
  if (is_name_start(uc(s, i))) {
    t->kind = TOK_NAME;
    while (m < n && is_name_char(uc(s, m))) m++;
  } else if (is_digit(uc(s, i)) || s[i] == '.' || (s[i] == '-' && scan_number(s + i, n - i) > 0)) {
    size_t k = scan_number(s + i, n - i);
    t->kind  = k > 0 ? TOK_NUMBER : TOK_BADNUMBER;
    m        = k > 0 ? i + k : i + 1;
    if (m < n && (is_name_char(uc(s, m)) || s[m] == '.')) { /* 2M, 1.2.3, 1e5x */
      t->kind = TOK_BADNUMBER;
      while (m < n && (is_name_char(uc(s, m)) || s[m] == '.')) m++;
    }
  } else if (is_arrow_char(uc(s, i))) {
    while (m < n && is_arrow_char(uc(s, m))) m++;
    if (m - i == 2 && !memcmp(s + i, "->", 2)) t->kind = TOK_ARROW;
    else if (m - i == 3 && !memcmp(s + i, "<->", 3)) t->kind = TOK_BIARROW;
    else t->kind = TOK_BAD;
  } else if (s[i] == '+') t->kind = TOK_PLUS;
  else if (s[i] == ':') t->kind = TOK_COLON;
  else if (s[i] == ',') t->kind = TOK_COMMA;
  else if (s[i] == '*') t->kind = TOK_STAR;
  else t->kind = TOK_BAD;
  t->n    = m - i;
  lx->pos = m;
}

static int tok_is(const Token *t, const char *word) { return t->kind == TOK_NAME && t->n == strlen(word) && !memcmp(t->s, word, t->n); }

/* How a token is named after "found ". */
static void describe(const Token *t, char *buf, size_t len)
{
  if (t->kind == TOK_END) snprintf(buf, len, "end of line");
  else if (t->kind == TOK_BAD && t->n == 1 && !is_print(uc(t->s, 0))) snprintf(buf, len, "byte 0x%02x", (unsigned)uc(t->s, 0));
  else
    snprintf(buf, len, "%s'%.*s%s'", t->kind == TOK_BADNUMBER ? "malformed number " : "", prec(t->n), t->s, t->n > QUOTE_MAX ? "..." : "");
}

/* Iterates over the lines of a text; loads each into a Lexer. */
typedef struct {
  const char *text;
  size_t      len, pos;
  int         line; /* number of the line last returned */
} LineIter;

static int next_line(LineIter *it, Lexer *lx)
{
  const char *s, *nl;
  size_t      n;

  if (it->pos >= it->len) return 0;
  s  = it->text + it->pos;
  nl = memchr(s, '\n', it->len - it->pos);
  n  = nl ? (size_t)(nl - s) : it->len - it->pos;
  it->pos += n + (nl ? 1 : 0);
  it->line++;
  if (n > 0 && s[n - 1] == '\r') n--;
  lx->s    = s;
  lx->n    = n;
  lx->pos  = 0;
  lx->line = it->line;
  return 1;
}

/* ---------------------------------------------------------------- parser state */

enum { SEC_PARAMETERS, SEC_SPECIES, SEC_REACTIONS, SEC_INPUTS, SEC_EVENTS, SEC_COUNT };
static const char *const section_names[SEC_COUNT] = {"parameters", "species", "reactions", "inputs", "events"};
#define SECTION_LIST "'parameters', 'species', 'reactions', 'inputs' or 'events'"
#define BEGIN_LIST   "'begin parameters', 'begin species', 'begin reactions', 'begin inputs' or 'begin events'"

typedef struct {
  int    seen;
  int    line, col;  /* of its `begin` */
  size_t body;       /* offset of the line after `begin` */
  int    body_line;  /* its number */
  int    end_line;   /* line of its `end` */
} Section;

enum { NAME_PARAM = 1, NAME_SPECIES = 2, NAME_INPUT = 3 };

typedef struct {
  const char *name; /* owned by the model; NULL marks a free slot */
  size_t      len;
  int         kind, index;
} NameSlot;

typedef struct {
  const char       *file;
  char             *err;
  size_t            errlen;
  StgssaModelDef   *def;
  int               cap_params, cap_species, cap_reactions, cap_inputs, cap_events;
  NameSlot         *names; /* open addressing, size a power of 2, at most half full */
  size_t            names_cap, names_used;
  StgssaStoichTerm *side[2]; /* scratch for the two sides of a reaction, nspecies each */
  Section           sec[SEC_COUNT];
  int               cur; /* open section, or -1 */
  Lexer             lx;
  Token             tok; /* current token */
} Parser;

typedef struct {
  int               n;
  StgssaStoichTerm *t;
} Side;

/* A parsed rate field: mass action (law == NULL: factor, param) or a compiled law. */
typedef struct {
  double      factor;
  int         param;
  StgssaExpr *law;
  int         law_full;
} Rate;

static void advance(Parser *P) { lex_next(&P->lx, &P->tok); }

static TokKind peek(const Parser *P)
{
  Lexer lx = P->lx;
  Token t;
  lex_next(&lx, &t);
  return t.kind;
}

STGSSA_PRINTF(4, 5)
static int fail_at(Parser *P, int line, int col, const char *fmt, ...)
{
  va_list ap;
  set_error(0, P->err, P->errlen, "%s:%d:%d: ", P->file, line, col);
  va_start(ap, fmt);
  vappend(P->err, P->errlen, fmt, ap);
  va_end(ap);
  return STGSSA_PARSE_ESYNTAX;
}

/* "found <what><token>; expected <expected>" at the token. */
static int fail_tok(Parser *P, const Token *t, const char *what, const char *expected)
{
  char d[2 * QUOTE_MAX];
  describe(t, d, sizeof d);
  return fail_at(P, t->line, t->col, "found %s%s; expected %s", what, d, expected);
}

static int fail_nomem(Parser *P) { return set_error(STGSSA_PARSE_ENOMEM, P->err, P->errlen, "%s: out of memory", P->file); }

static int expect_end(Parser *P) { return P->tok.kind == TOK_END ? 0 : fail_tok(P, &P->tok, "", "end of line"); }

/* Makes room for element number count (count + 1 elements); NULL if out of memory. */
static void *grow_array(void *p, int *cap, int count, size_t elsize)
{
  int   newcap;
  void *q;

  if (count < *cap) return p;
  if (count == INT_MAX) return NULL;
  newcap = *cap < 8 ? 8 : (*cap > INT_MAX / 2 ? INT_MAX : *cap * 2);
  if ((size_t)newcap > SIZE_MAX / elsize) return NULL;
  q = realloc(p, (size_t)newcap * elsize);
  if (q) *cap = newcap;
  return q;
}

/* ---------------------------------------------------------------- names */

static size_t hash_bytes(const char *s, size_t n)
{
  uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
  size_t   i;
  for (i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= UINT64_C(1099511628211);
  }
  return (size_t)h;
}

static const NameSlot *names_find(const Parser *P, const char *s, size_t n)
{
  size_t mask = P->names_cap - 1, i;
  if (!P->names_cap) return NULL;
  for (i = hash_bytes(s, n) & mask; P->names[i].name; i = (i + 1) & mask)
    if (P->names[i].len == n && !memcmp(P->names[i].name, s, n)) return &P->names[i];
  return NULL;
}

static void names_insert(NameSlot *tab, size_t cap, NameSlot e)
{
  size_t i;
  for (i = hash_bytes(e.name, e.len) & (cap - 1); tab[i].name; i = (i + 1) & (cap - 1)) {}
  tab[i] = e;
}

static int names_add(Parser *P, const char *name, size_t len, int kind, int index)
{
  NameSlot e;
  if ((P->names_used + 1) * 2 > P->names_cap) {
    size_t    cap = P->names_cap ? 2 * P->names_cap : 64, i;
    NameSlot *tab = calloc(cap, sizeof *tab);
    if (!tab) return fail_nomem(P);
    for (i = 0; i < P->names_cap; i++)
      if (P->names[i].name) names_insert(tab, cap, P->names[i]);
    free(P->names);
    P->names     = tab;
    P->names_cap = cap;
  }
  e.name  = name;
  e.len   = len;
  e.kind  = kind;
  e.index = index;
  names_insert(P->names, P->names_cap, e);
  P->names_used++;
  return 0;
}

static int check_name_length(Parser *P, const Token *t)
{
  if (t->n <= STGSSA_NAME_MAX) return 0;
  return fail_at(P, t->line, t->col, "found a name of %zu bytes '%.*s...'; expected at most %d bytes", t->n, prec(t->n), t->s, STGSSA_NAME_MAX);
}

static const char *name_kind(int kind) { return kind == NAME_PARAM ? "a parameter" : kind == NAME_SPECIES ? "a species" : "an input"; }

static int name_line(const Parser *P, const NameSlot *e)
{
  const StgssaModelDef *d = P->def;
  return e->kind == NAME_PARAM ? d->params[e->index].line : e->kind == NAME_SPECIES ? d->species[e->index].line : d->inputs[e->index].line;
}

/* The current token must be a name not defined yet (nor the reserved t). */
static int check_new_name(Parser *P, const char *expected)
{
  const Token    *t = &P->tok;
  const NameSlot *e;
  int             rc;

  if (t->kind != TOK_NAME) return fail_tok(P, t, "", expected);
  if ((rc = check_name_length(P, t))) return rc;
  if (t->n == 1 && t->s[0] == 't') return fail_at(P, t->line, t->col, "found reserved name 't' (the time in rate and input expressions); expected another name");
  if (!(e = names_find(P, t->s, t->n))) return 0;
  return fail_at(P, t->line, t->col, "found duplicate name '%.*s' (already defined as %s at line %d); expected a new name", prec(t->n), t->s,
                 name_kind(e->kind), name_line(P, e));
}

static int resolve_species(Parser *P, const Token *t, int *index)
{
  const NameSlot *e = names_find(P, t->s, t->n);
  if (e && e->kind == NAME_SPECIES) {
    *index = e->index;
    return 0;
  }
  if (e)
    return fail_at(P, t->line, t->col, "found %s '%.*s' in a reaction side; expected a species name", e->kind == NAME_PARAM ? "parameter" : "input", prec(t->n),
                   t->s);
  return fail_at(P, t->line, t->col, "found unknown species '%.*s'; expected a species defined in the species section", prec(t->n), t->s);
}

/* ---------------------------------------------------------------- numbers */

/* A finite nonnegative real (parameter value, numeric rate, factor, table value); expected
   names what was expected in messages. */
static int number_value_as(Parser *P, const Token *t, const char *expected, double *out)
{
  char  *end;
  double v;

  if (t->kind != TOK_NUMBER) return fail_tok(P, t, "", expected);
  v = strtod(t->s, &end); /* the model text is NUL-terminated, and the token ends at a non-number character */
  if (end != t->s + t->n) return fail_tok(P, t, "unparsable number ", expected);
  if (!isfinite(v)) return fail_tok(P, t, "out-of-range number ", expected);
  if (v < 0) return fail_tok(P, t, "negative number ", expected);
  *out = v + 0.0; /* -0 becomes +0 */
  return 0;
}

static int number_value(Parser *P, const Token *t, double *out) { return number_value_as(P, t, "a nonnegative finite number", out); }

/* An integer 0..max written with digits only (initial count, coefficient). */
static int integer_value(Parser *P, const Token *t, int64_t max, const char *expected, int64_t *out)
{
  int64_t v = 0;
  size_t  i;

  if (t->kind == TOK_NUMBER && t->s[0] == '-') return fail_tok(P, t, "negative number ", expected);
  if (t->kind != TOK_NUMBER || scan_digits(t->s, t->n, 0) != t->n) return fail_tok(P, t, "", expected);
  for (i = 0; i < t->n; i++) {
    int d = t->s[i] - '0';
    if (v > (max - d) / 10) return fail_tok(P, t, "too large number ", expected);
    v = 10 * v + d;
  }
  *out = v;
  return 0;
}

/* ---------------------------------------------------------------- parameters and species */

static int parse_parameter_line(Parser *P)
{
  StgssaModelDef *d    = P->def;
  Token           name = P->tok;
  double          v    = 0;
  char           *s;
  void           *tmp;
  int             rc;

  if ((rc = check_new_name(P, "a parameter name"))) return rc;
  advance(P);
  if ((rc = number_value(P, &P->tok, &v))) return rc;
  advance(P);
  if ((rc = expect_end(P))) return rc;

  if (!(tmp = grow_array(d->params, &P->cap_params, d->nparams, sizeof *d->params))) return fail_nomem(P);
  d->params = tmp;
  if (!(s = dup_n(name.s, name.n))) return fail_nomem(P);
  if ((rc = names_add(P, s, name.n, NAME_PARAM, d->nparams))) {
    free(s);
    return rc;
  }
  d->params[d->nparams].name  = s;
  d->params[d->nparams].value = v;
  d->params[d->nparams].line  = name.line;
  d->params[d->nparams].expr  = NULL;
  d->nparams++;
  return 0;
}

static int parse_species_line(Parser *P)
{
  StgssaModelDef *d    = P->def;
  Token           name = P->tok;
  int64_t         v    = 0;
  char           *s;
  void           *tmp;
  int             rc;

  if ((rc = check_new_name(P, "a species name"))) return rc;
  advance(P);
  if ((rc = integer_value(P, &P->tok, STGSSA_COUNT_MAX, "a nonnegative integer initial count at most 2^53 = 9007199254740992", &v))) return rc;
  advance(P);
  if ((rc = expect_end(P))) return rc;

  if (!(tmp = grow_array(d->species, &P->cap_species, d->nspecies, sizeof *d->species))) return fail_nomem(P);
  d->species = tmp;
  if (!(s = dup_n(name.s, name.n))) return fail_nomem(P);
  if ((rc = names_add(P, s, name.n, NAME_SPECIES, d->nspecies))) {
    free(s);
    return rc;
  }
  d->species[d->nspecies].name    = s;
  d->species[d->nspecies].initial = v;
  d->species[d->nspecies].line    = name.line;
  d->species[d->nspecies].init_expr = NULL;
  d->nspecies++;
  return 0;
}

/* First pass over an inputs line: the name only (the body may use parameters defined further
   down; it is read by parse_input_body in the second pass). */
static int parse_input_name(Parser *P)
{
  StgssaModelDef *d    = P->def;
  Token           name = P->tok;
  StgssaInputDef *u;
  char           *s;
  void           *tmp;
  int             rc;

  if ((rc = check_new_name(P, "an input name"))) return rc;
  if (!(tmp = grow_array(d->inputs, &P->cap_inputs, d->ninputs, sizeof *d->inputs))) return fail_nomem(P);
  d->inputs = tmp;
  if (!(s = dup_n(name.s, name.n))) return fail_nomem(P);
  if ((rc = names_add(P, s, name.n, NAME_INPUT, d->ninputs))) {
    free(s);
    return rc;
  }
  u = &d->inputs[d->ninputs++];
  memset(u, 0, sizeof *u);
  u->name = s;
  u->kind = STGSSA_INPUT_EXPR;
  u->line = name.line;
  return 0;
}

/* ---------------------------------------------------------------- expressions */

/* Resolver of the expression compiler over the names of the model. When compiling the body of
   an input (input != NULL), only parameters and t are accepted: the first species or input met
   is recorded in bad/badlen/badkind and reported by compile_expr with a message of its own. */
typedef struct {
  Parser      *P;
  const char  *input;
  const char  *bad;
  size_t       badlen;
  int          badkind;
} Resolve;

static StgssaExprVarKind resolve_name(void *ctx, const char *s, size_t n, int *index)
{
  Resolve        *R = ctx;
  const NameSlot *e;

  if (n == 1 && s[0] == 't') return STGSSA_EXPR_TIME;
  if (!(e = names_find(R->P, s, n))) return STGSSA_EXPR_UNKNOWN;
  if (R->input && e->kind != NAME_PARAM) {
    R->bad     = s;
    R->badlen  = n;
    R->badkind = e->kind;
    return STGSSA_EXPR_UNKNOWN;
  }
  *index = e->index;
  return e->kind == NAME_PARAM ? STGSSA_EXPR_PARAM : e->kind == NAME_SPECIES ? STGSSA_EXPR_SPECIES : STGSSA_EXPR_INPUT;
}

/* Compiles s[a..b) of the current line (a at a non-blank, b after the last non-blank). */
static int compile_expr(Parser *P, size_t a, size_t b, const char *input, StgssaExpr **out)
{
  Resolve R = {P, input, NULL, 0, 0};
  int     rc;

  rc = StgssaExprCompile(P->lx.s + a, b - a, P->file, P->lx.line, (int)a + 1, resolve_name, &R, out, P->err, P->errlen);
  if (rc == STGSSA_PARSE_ESYNTAX && R.bad)
    return fail_at(P, P->lx.line, (int)(R.bad - P->lx.s) + 1, "found %s '%.*s' in the expression of input '%s'; expected parameters, numbers and t (an input %s)",
                   R.badkind == NAME_SPECIES ? "species" : "input", prec(R.badlen), R.bad, input,
                   R.badkind == NAME_SPECIES ? "may not depend on species" : "may not use another input");
  return rc;
}

/* Offset of the comment ('#') of the current line at or after a, or the end of the line. */
static size_t comment_start(const Parser *P, size_t a)
{
  const char *h = a < P->lx.n ? memchr(P->lx.s + a, '#', P->lx.n - a) : NULL;
  return h ? (size_t)(h - P->lx.s) : P->lx.n;
}

/* Offset of the first ',' in s[a..b) of the current line outside parentheses, or b. */
static size_t top_comma(const Parser *P, size_t a, size_t b)
{
  int depth = 0;
  for (; a < b; a++) {
    char c = P->lx.s[a];
    if (c == '(') depth++;
    else if (c == ')') depth--;
    else if (c == ',' && depth <= 0) return a;
  }
  return b;
}

static size_t skip_blanks(const Parser *P, size_t a, size_t b)
{
  while (a < b && is_space(uc(P->lx.s, a))) a++;
  return a;
}

static size_t trim_blanks(const Parser *P, size_t a, size_t b)
{
  while (b > a && is_space(uc(P->lx.s, b - 1))) b--;
  return b;
}

/* ---------------------------------------------------------------- reactions */

/* SIDE := '0' | TERM ('+' TERM)*,  TERM := [COEF] NAME.  Repeated species are merged. */
static int parse_side(Parser *P, int which, Side *side)
{
  side->n = 0;
  side->t = P->side[which];
  if (P->tok.kind == TOK_NUMBER && P->tok.n == 1 && P->tok.s[0] == '0') {
    advance(P);
    return 0;
  }
  for (;;) {
    int64_t coef = 1;
    int     sp = -1, rc, i;
    if (P->tok.kind == TOK_NUMBER) {
      if ((rc = integer_value(P, &P->tok, STGSSA_STOICH_MAX, "a coefficient from 1 to " STR(STGSSA_STOICH_MAX), &coef))) return rc;
      if (coef == 0) return fail_tok(P, &P->tok, "coefficient ", "a coefficient from 1 to " STR(STGSSA_STOICH_MAX));
      advance(P);
      if (P->tok.kind != TOK_NAME) return fail_tok(P, &P->tok, "", "a species name after the coefficient");
    } else if (P->tok.kind != TOK_NAME)
      return fail_tok(P, &P->tok, "", "a species, '2 M' (coefficient, space, species) or '0' (no species)");
    if ((rc = resolve_species(P, &P->tok, &sp))) return rc;
    for (i = 0; i < side->n && side->t[i].species != sp; i++) {}
    if (i == side->n) {
      side->t[i].species = sp;
      side->t[i].coef    = 0;
      side->n++;
    }
    if (side->t[i].coef + coef > STGSSA_STOICH_MAX)
      return fail_at(P, P->tok.line, P->tok.col, "found coefficients of '%.*s' adding up to %lld; expected at most %d", prec(P->tok.n), P->tok.s,
                     (long long)(side->t[i].coef + coef), STGSSA_STOICH_MAX);
    side->t[i].coef += (int)coef;
    advance(P);
    if (P->tok.kind != TOK_PLUS) return 0;
    advance(P);
  }
}

static int is_param_token(const Parser *P, const Token *t)
{
  const NameSlot *e = t->kind == TOK_NAME ? names_find(P, t->s, t->n) : NULL;
  return e && e->kind == NAME_PARAM;
}

/* One rate field, s[a..b) of the current line (b: a ',' between two rates, a comment or the end
   of the line). RATE := NUMBER | PARAM | NUMBER '*' PARAM (mass action, kept as factor and
   param exactly as before rate laws existed, with the same messages) | EXPRESSION (expr.h): a
   constant that folds to a number is a numeric rate; one that names no species is a rate
   "constant" law (law_full = 0); one that names a species is the whole propensity (law_full = 1). */
static int parse_rate_field(Parser *P, size_t a, size_t b, Rate *r)
{
  static const char expected[] = "a rate: a number, a parameter or an expression";
  Lexer             lx         = {P->lx.s, b, a, P->lx.line};
  Token             t1, t2, t3, t4;
  double            v;
  int               rc, nsp;

  r->factor   = 1.0;
  r->param    = -1;
  r->law      = NULL;
  r->law_full = 0;
  lex_next(&lx, &t1);
  if (t1.kind == TOK_END) {
    if (b < P->lx.n && P->lx.s[b] == ',') return fail_at(P, t1.line, (int)b + 1, "found ','; expected %s", expected);
    return fail_tok(P, &t1, "", expected);
  }
  lex_next(&lx, &t2);
  if (t1.kind == TOK_NUMBER && t2.kind == TOK_END) return number_value(P, &t1, &r->factor);
  if (is_param_token(P, &t1) && t2.kind == TOK_END) {
    r->param = names_find(P, t1.s, t1.n)->index;
    return 0;
  }
  if (t1.kind == TOK_NUMBER && t2.kind == TOK_STAR) {
    lex_next(&lx, &t3);
    lex_next(&lx, &t4);
    if (is_param_token(P, &t3) && t4.kind == TOK_END) {
      if ((rc = number_value(P, &t1, &r->factor))) return rc;
      r->param = names_find(P, t3.s, t3.n)->index;
      return 0;
    }
  }

  /* an expression */
  a = (size_t)t1.col - 1;
  b = trim_blanks(P, a, b);
  if ((rc = compile_expr(P, a, b, NULL, &r->law))) return rc;
  if (StgssaExprIsConstant(r->law, &v)) {
    StgssaExprFree(&r->law);
    if (!(v >= 0))
      return fail_at(P, t1.line, t1.col, "found negative number '%.*s%s' (value %g); expected a nonnegative finite number", prec(b - a), P->lx.s + a,
                     b - a > QUOTE_MAX ? "..." : "", v);
    r->factor = v + 0.0;
    return 0;
  }
  (void)StgssaExprUsedSpecies(r->law, &nsp);
  r->law_full = nsp > 0;
  return 0;
}

static StgssaStoichTerm *copy_terms(const Side *s, int *ok)
{
  StgssaStoichTerm *t;
  if (s->n == 0) return NULL;
  if (!(t = malloc((size_t)s->n * sizeof *t))) *ok = 0;
  else memcpy(t, s->t, (size_t)s->n * sizeof *t);
  return t;
}

/* Appends a reaction; takes ownership of rate->law in all cases. */
static int push_reaction(Parser *P, const Token *label, const Side *react, const Side *prod, Rate *rate, int line, int reverse)
{
  StgssaModelDef   *d = P->def;
  StgssaReactionDef r = {0}; /* law = NULL, law_full = 0: mass action */
  void             *tmp;
  int               ok = 1;

  memset(&r, 0, sizeof r); /* law = NULL, law_full = 0: mass action */
  r.label   = label ? dup_n(label->s, label->n) : NULL;
  r.nreact  = react->n;
  r.react   = copy_terms(react, &ok);
  r.nprod   = prod->n;
  r.prod    = copy_terms(prod, &ok);
  r.factor   = rate->factor;
  r.param    = rate->param;
  r.law      = rate->law;
  r.law_full = rate->law_full;
  rate->law  = NULL;
  r.reverse  = reverse;
  r.line    = line;
  tmp       = grow_array(d->reactions, &P->cap_reactions, d->nreactions, sizeof *d->reactions);
  if (tmp) d->reactions = tmp;
  if (!tmp || !ok || (label && !r.label)) {
    free(r.label);
    free(r.react);
    free(r.prod);
    StgssaExprFree(&r.law);
    return fail_nomem(P);
  }
  d->reactions[d->nreactions++] = r;
  return 0;
}

/* [LABEL ':'] SIDE ('->' SIDE RATE | '<->' SIDE RATE ',' RATE); the rates are split at the
   first ',' outside parentheses (commas inside belong to calls such as min(a,b)). */
static int parse_reaction_line(Parser *P)
{
  Token  label = {TOK_END, NULL, 0, 0, 0}, first, arrow;
  Side   lhs, rhs;
  Rate   fwd = {1.0, -1, NULL, 0}, bwd = {1.0, -1, NULL, 0};
  int    has_label = 0, rc, j;
  size_t a, e, c;

  if (P->tok.kind == TOK_NAME && peek(P) == TOK_COLON) {
    label = P->tok;
    if ((rc = check_name_length(P, &label))) return rc;
    has_label = 1;
    advance(P);
    advance(P);
  }
  first = P->tok;
  if ((rc = parse_side(P, 0, &lhs))) return rc;
  arrow = P->tok;
  if (arrow.kind != TOK_ARROW && arrow.kind != TOK_BIARROW) return fail_tok(P, &arrow, "", "'->' or '<->'");
  advance(P);
  if ((rc = parse_side(P, 1, &rhs))) return rc;
  if (lhs.n == 0 && rhs.n == 0) return fail_at(P, first.line, first.col, "found a reaction '0 -> 0' without species; expected at least one reactant or product");

  /* the rest of the line (up to a comment) holds the rate fields */
  a = (size_t)P->tok.col - 1;
  e = comment_start(P, a);
  c = top_comma(P, a, e);
  if (arrow.kind == TOK_ARROW) {
    if (c < e) return fail_at(P, P->lx.line, (int)c + 1, "found ','; expected end of line (only a '<->' reaction takes a second rate)");
    if ((rc = parse_rate_field(P, a, e, &fwd))) return rc;
    return push_reaction(P, has_label ? &label : NULL, &lhs, &rhs, &fwd, first.line, -1);
  }
  if ((rc = parse_rate_field(P, a, c, &fwd))) return rc;
  if (c == e) rc = fail_at(P, P->lx.line, (int)e + 1, "found end of line; expected ',' and the backward rate (a '<->' reaction takes two rates)");
  else if (top_comma(P, c + 1, e) < e)
    rc = fail_at(P, P->lx.line, (int)top_comma(P, c + 1, e) + 1, "found ','; expected end of line (a '<->' reaction takes two rates)");
  else rc = parse_rate_field(P, skip_blanks(P, c + 1, e), e, &bwd);
  if (rc) {
    StgssaExprFree(&fwd.law);
    return rc;
  }
  j = P->def->nreactions;
  if ((rc = push_reaction(P, has_label ? &label : NULL, &lhs, &rhs, &fwd, first.line, j + 1))) {
    StgssaExprFree(&bwd.law);
    return rc;
  }
  return push_reaction(P, has_label ? &label : NULL, &rhs, &lhs, &bwd, first.line, j);
}

/* ---------------------------------------------------------------- inputs (second pass)

   NAME EXPRESSION                 parameters, numbers and t (no species, no other input)
   NAME table T0 V0 T1 V1 ...      piecewise constant: V_i on [T_i, T_{i+1}), the last for ever;
                                   T0 = 0 < T1 < ... finite; V_i a nonnegative number or a parameter */

static int parse_input_table(Parser *P, StgssaInputDef *u)
{
  static const char vexpected[] = "a nonnegative finite number or a parameter name";
  int               cap = 0;

  advance(P); /* 'table' */
  for (;;) {
    Token  tt = P->tok;
    double tv;
    char  *end;
    void  *tmp;
    int    rc, k = u->npieces;

    if (tt.kind == TOK_END) {
      if (k == 0) return fail_tok(P, &tt, "", "the pairs 'TIME VALUE ...' of the table, starting at time 0");
      return 0;
    }
    if (tt.kind != TOK_NUMBER) return fail_tok(P, &tt, "", k ? "a time (a finite number) or end of line" : "the first time 0");
    tv = strtod(tt.s, &end);
    if (end != tt.s + tt.n) return fail_tok(P, &tt, "unparsable number ", "a finite time");
    if (!isfinite(tv)) return fail_tok(P, &tt, "out-of-range number ", "a finite time");
    if (k == 0 && tv != 0)
      return fail_at(P, tt.line, tt.col, "found first time '%.*s'; expected 0 (a table starts at time 0)", prec(tt.n), tt.s);
    if (k > 0 && !(tv > u->times[k - 1]))
      return fail_at(P, tt.line, tt.col, "found time '%.*s' not after the previous time %g; expected strictly increasing times", prec(tt.n), tt.s,
                     u->times[k - 1]);
    advance(P);
    if (k == cap) { /* the three arrays have the same capacity */
      int ncap = cap;
      if (!(tmp = grow_array(u->times, &ncap, k, sizeof *u->times))) return fail_nomem(P);
      u->times = tmp;
      ncap     = cap;
      if (!(tmp = grow_array(u->values, &ncap, k, sizeof *u->values))) return fail_nomem(P);
      u->values = tmp;
      ncap      = cap;
      if (!(tmp = grow_array(u->vparam, &ncap, k, sizeof *u->vparam))) return fail_nomem(P);
      u->vparam = tmp;
      cap       = ncap;
    }
    u->times[k]  = tv + 0.0;
    u->values[k] = (double)NAN; /* a parameter's value is read at run time (vparam) */
    u->vparam[k] = -1;
    u->npieces   = k + 1;
    if (P->tok.kind == TOK_END)
      return fail_at(P, P->tok.line, P->tok.col, "found end of line after time '%.*s'; expected its value (a table is pairs 'TIME VALUE')", prec(tt.n), tt.s);
    if (P->tok.kind == TOK_NAME) {
      const NameSlot *e = names_find(P, P->tok.s, P->tok.n);
      if (!e) return fail_tok(P, &P->tok, "unknown parameter ", vexpected);
      if (e->kind != NAME_PARAM)
        return fail_at(P, P->tok.line, P->tok.col, "found %s '%.*s' as a table value; expected %s", e->kind == NAME_SPECIES ? "species" : "input",
                       prec(P->tok.n), P->tok.s, vexpected);
      u->vparam[k] = e->index;
    } else if ((rc = number_value_as(P, &P->tok, vexpected, &u->values[k]))) return rc;
    advance(P);
  }
}

/* The body of input number i (its name was read in the first pass). */
static int parse_input_body(Parser *P, int i)
{
  StgssaInputDef *u = &P->def->inputs[i];
  size_t          a, b;

  advance(P); /* the name */
  if (tok_is(&P->tok, "table")) {
    u->kind = STGSSA_INPUT_TABLE;
    return parse_input_table(P, u);
  }
  a = (size_t)P->tok.col - 1;
  b = trim_blanks(P, a, comment_start(P, a));
  if (a == b) return fail_tok(P, &P->tok, "", "an expression of parameters, numbers and t, or 'table' and TIME VALUE pairs");
  return compile_expr(P, a, b, u->name, &u->expr);
}

/* ---------------------------------------------------------------- events (second pass)

   at T: ACTION                    once at time T (a finite number >= 0)
   every P [from T0]: ACTION       at T0, T0 + P, T0 + 2P, ... (P > 0; T0 >= 0, default P)
   ACTION := divide [S {[,] S}]    binomial halving of the listed species (all when none listed)
           | S = EXPR | S += EXPR | S -= EXPR      (set, add, remove clamped at 0; EXPR rounded)
           | scale S EXPR          binomial thinning, keep probability EXPR in [0, 1]
   EXPR: parameters and numbers (expr.h), no species, inputs or t. A constant EXPR is checked
   here (>= 0, F <= 1); one that reads parameters is checked at run time (StgssaModelDefEventValue's
   callers). */

typedef struct {
  Parser     *P;
  const char *bad;
  size_t      badlen;
  const char *badwhat;
} EventResolve;

static StgssaExprVarKind resolve_event_name(void *ctx, const char *s, size_t n, int *index)
{
  EventResolve   *R = ctx;
  const NameSlot *e;

  if (n == 1 && s[0] == 't') {
    R->bad = s, R->badlen = n, R->badwhat = "the time";
    return STGSSA_EXPR_UNKNOWN;
  }
  if (!(e = names_find(R->P, s, n)) || e->kind != NAME_PARAM) {
    R->bad = s, R->badlen = n, R->badwhat = !e ? "unknown name" : e->kind == NAME_SPECIES ? "species" : "input";
    return STGSSA_EXPR_UNKNOWN;
  }
  *index = e->index;
  return STGSSA_EXPR_PARAM;
}

/* A time or period: a finite number >= 0 (> 0 when positive is set). */
static int event_time(Parser *P, const char *what, int positive, double *out)
{
  const Token *t = &P->tok;
  char        *end;
  double       v;
  char         expected[96];

  snprintf(expected, sizeof expected, "%s (a finite number %s 0)", what, positive ? ">" : ">=");
  if (t->kind != TOK_NUMBER) return fail_tok(P, t, "", expected);
  v = strtod(t->s, &end);
  if (end != t->s + t->n) return fail_tok(P, t, "unparsable number ", expected);
  if (!isfinite(v)) return fail_tok(P, t, "out-of-range number ", expected);
  if (v < 0 || (positive && v <= 0)) return fail_tok(P, t, v < 0 ? "negative number " : "zero ", expected);
  *out = v + 0.0;
  advance(P);
  return 0;
}

static int event_species(Parser *P, int *index)
{
  const Token    *t = &P->tok;
  const NameSlot *e;

  if (t->kind != TOK_NAME) return fail_tok(P, t, "", "a species name");
  e = names_find(P, t->s, t->n);
  if (!e) return fail_at(P, t->line, t->col, "found unknown species '%.*s'; expected a species defined in the species section", prec(t->n), t->s);
  if (e->kind != NAME_SPECIES)
    return fail_at(P, t->line, t->col, "found %s '%.*s'; expected a species name", e->kind == NAME_PARAM ? "parameter" : "input", prec(t->n), t->s);
  *index = e->index;
  advance(P);
  return 0;
}

/* EXPR from column a of the current line to the comment or the end: parameters and numbers. */
static int event_expr(Parser *P, size_t a, StgssaEventDef *ev)
{
  EventResolve R = {P, NULL, 0, NULL};
  size_t       b;
  double       v;
  int          rc;

  a = skip_blanks(P, a, P->lx.n);
  b = trim_blanks(P, a, comment_start(P, a));
  if (a == b) return fail_at(P, P->lx.line, (int)a + 1, "found end of line; expected an expression of parameters and numbers");
  rc = StgssaExprCompile(P->lx.s + a, b - a, P->file, P->lx.line, (int)a + 1, resolve_event_name, &R, &ev->value, P->err, P->errlen);
  if (rc == STGSSA_PARSE_ESYNTAX && R.bad)
    return fail_at(P, P->lx.line, (int)(R.bad - P->lx.s) + 1, "found %s '%.*s' in an event's expression; expected parameters and numbers (an event's value may not depend on the state, inputs or t)",
                   R.badwhat, prec(R.badlen), R.bad);
  if (rc) return rc;
  if (StgssaExprIsConstant(ev->value, &v)) {
    if (!(v >= 0)) return fail_at(P, P->lx.line, (int)a + 1, "found value %g of '%.*s'; expected a value >= 0", v, prec(b - a), P->lx.s + a);
    if (ev->kind == STGSSA_EVENT_SCALE && !(v <= 1))
      return fail_at(P, P->lx.line, (int)a + 1, "found keep fraction %g of '%.*s'; expected a fraction F in [0, 1]", v, prec(b - a), P->lx.s + a);
    if (ev->kind != STGSSA_EVENT_SCALE && !(v < 0x1p53))
      return fail_at(P, P->lx.line, (int)a + 1, "found count %g of '%.*s'; expected at most 2^53", v, prec(b - a), P->lx.s + a);
  }
  return 0;
}

static int parse_event_action(Parser *P, StgssaEventDef *ev)
{
  const Token *t = &P->tok;
  int          sp, rc;

  if (tok_is(t, "divide") && (peek(P) == TOK_END || peek(P) == TOK_NAME)) {
    StgssaModelDef *d = P->def;
    ev->kind          = STGSSA_EVENT_DIVIDE;
    if (!(ev->species = malloc(((size_t)d->nspecies + 1) * sizeof *ev->species))) return fail_nomem(P);
    advance(P);
    if (t->kind == TOK_END) {
      ev->all = 1;
      for (int s = 0; s < d->nspecies; s++) ev->species[s] = s;
      ev->nspecies = d->nspecies;
      return 0;
    }
    for (;;) {
      Token at = *t;
      if ((rc = event_species(P, &sp))) return rc;
      for (int i = 0; i < ev->nspecies; i++)
        if (ev->species[i] == sp) return fail_at(P, at.line, at.col, "found species '%.*s' twice; expected each species once in 'divide'", prec(at.n), at.s);
      ev->species[ev->nspecies++] = sp;
      if (t->kind == TOK_COMMA) {
        advance(P);
        if (t->kind != TOK_NAME) return fail_tok(P, t, "", "a species name after ','");
      }
      if (t->kind == TOK_END) return 0;
      if (t->kind != TOK_NAME) return fail_tok(P, t, "", "a species name, ',' or end of line");
    }
  }
  if (tok_is(t, "scale") && peek(P) == TOK_NAME) {
    ev->kind = STGSSA_EVENT_SCALE;
    advance(P);
    if (!(ev->species = malloc(sizeof *ev->species))) return fail_nomem(P);
    if ((rc = event_species(P, &sp))) return rc;
    ev->species[0] = sp;
    ev->nspecies   = 1;
    if (t->kind == TOK_END) return fail_tok(P, t, "", "the keep fraction F in [0, 1] after the species ('scale S F')");
    return event_expr(P, (size_t)t->col - 1, ev);
  }
  if (t->kind != TOK_NAME) return fail_tok(P, t, "", "an action: 'divide', 'divide S ...', 'S = EXPR', 'S += EXPR', 'S -= EXPR' or 'scale S F'");
  {
    const NameSlot *e = names_find(P, t->s, t->n);
    if (!e || e->kind != NAME_SPECIES) {
      if (e) return fail_at(P, t->line, t->col, "found %s '%.*s'; expected an action: 'divide', 'S = EXPR', 'S += EXPR', 'S -= EXPR' or 'scale S F' with a species S",
                            e->kind == NAME_PARAM ? "parameter" : "input", prec(t->n), t->s);
      return fail_at(P, t->line, t->col, "found unknown species '%.*s'; expected an action: 'divide', 'S = EXPR', 'S += EXPR', 'S -= EXPR' or 'scale S F' with a species S",
                     prec(t->n), t->s);
    }
  }
  if ((rc = event_species(P, &sp))) return rc;
  if (!(ev->species = malloc(sizeof *ev->species))) return fail_nomem(P);
  ev->species[0] = sp;
  ev->nspecies   = 1;
  {
    const char *s = P->lx.s;
    size_t      a = skip_blanks(P, (size_t)t->col - 1, P->lx.n), n = P->lx.n;
    if (a < n && s[a] == '=') ev->kind = STGSSA_EVENT_SET, a += 1;
    else if (a + 1 < n && s[a] == '+' && s[a + 1] == '=') ev->kind = STGSSA_EVENT_ADD, a += 2;
    else if (a + 1 < n && s[a] == '-' && s[a + 1] == '=') ev->kind = STGSSA_EVENT_SUB, a += 2;
    else return fail_tok(P, t, "", "'=', '+=' or '-=' after the species");
    return event_expr(P, a, ev);
  }
}

static int parse_event_line(Parser *P)
{
  StgssaModelDef *d = P->def;
  StgssaEventDef  ev;
  void           *tmp;
  int             rc;

  memset(&ev, 0, sizeof ev);
  ev.line = P->tok.line;
  if (tok_is(&P->tok, "at")) {
    advance(P);
    if ((rc = event_time(P, "the event time", 0, &ev.t_first))) return rc;
  } else if (tok_is(&P->tok, "every")) {
    advance(P);
    Token pt = P->tok;
    if ((rc = event_time(P, "the period", 1, &ev.period))) return rc;
    ev.t_first = ev.period;
    if (tok_is(&P->tok, "from")) {
      advance(P);
      if ((rc = event_time(P, "the first time", 0, &ev.t_first))) return rc;
    }
    if (!(ev.t_first + ev.period > ev.t_first * (1 + 0x1p-40)))
      return fail_at(P, pt.line, pt.col, "found period %g below the resolution of the first time %g; expected a period above 1e-12 times the first time", ev.period, ev.t_first);
  } else return fail_tok(P, &P->tok, "", "'at TIME: ACTION' or 'every PERIOD [from TIME]: ACTION'");
  if (P->tok.kind != TOK_COLON) return fail_tok(P, &P->tok, "", tok_is(&P->tok, "from") ? "':' (a second 'from')" : "':' before the action");
  advance(P);
  if (!(tmp = grow_array(d->events, &P->cap_events, d->nevents, sizeof *d->events))) return fail_nomem(P);
  d->events = tmp;
  rc        = parse_event_action(P, &ev);
  if (rc) {
    free(ev.species);
    StgssaExprFree(&ev.value);
    return rc;
  }
  d->events[d->nevents++] = ev;
  return 0;
}

/* ---------------------------------------------------------------- sections */

static int section_index(const Token *t)
{
  int k;
  for (k = 0; k < SEC_COUNT; k++)
    if (tok_is(t, section_names[k])) return k;
  return -1;
}

static int parse_begin(Parser *P, const LineIter *it)
{
  Token kw = P->tok, name;
  int   k, rc;

  if (P->cur >= 0)
    return fail_at(P, kw.line, kw.col, "found 'begin' inside section '%s' (opened at line %d); expected 'end %s'", section_names[P->cur], P->sec[P->cur].line,
                   section_names[P->cur]);
  advance(P);
  name = P->tok;
  if (name.kind != TOK_NAME) return fail_tok(P, &name, "", "a section name: " SECTION_LIST);
  if ((k = section_index(&name)) < 0) return fail_tok(P, &name, "unknown section ", SECTION_LIST);
  if (P->sec[k].seen)
    return fail_at(P, name.line, name.col, "found a second '%s' section (the first begins at line %d); expected each section at most once", section_names[k],
                   P->sec[k].line);
  advance(P);
  if ((rc = expect_end(P))) return rc;
  P->sec[k].seen      = 1;
  P->sec[k].line      = kw.line;
  P->sec[k].col       = kw.col;
  P->sec[k].body      = it->pos;
  P->sec[k].body_line = it->line + 1;
  P->cur              = k;
  return 0;
}

static int parse_end(Parser *P)
{
  Token kw = P->tok;
  int   rc;

  if (P->cur < 0) return fail_at(P, kw.line, kw.col, "found 'end' outside any section; expected " BEGIN_LIST);
  advance(P);
  if (!tok_is(&P->tok, section_names[P->cur])) {
    char d[2 * QUOTE_MAX];
    describe(&P->tok, d, sizeof d);
    return fail_at(P, P->tok.line, P->tok.col, "found %s after 'end'; expected '%s' to close the section opened at line %d", d, section_names[P->cur],
                   P->sec[P->cur].line);
  }
  advance(P);
  if ((rc = expect_end(P))) return rc;
  P->sec[P->cur].end_line = kw.line;
  P->cur                  = -1;
  return 0;
}

/* First pass: section structure, parameters and species. */
static int parse_sections(Parser *P, const char *text, size_t len)
{
  LineIter it = {text, len, 0, 0};
  int      rc;

  P->cur = -1;
  while (next_line(&it, &P->lx)) {
    advance(P);
    if (P->tok.kind == TOK_END) continue;
    if (tok_is(&P->tok, "begin")) rc = parse_begin(P, &it);
    else if (tok_is(&P->tok, "end")) rc = parse_end(P);
    else if (P->cur < 0) rc = fail_tok(P, &P->tok, "text outside any section: ", BEGIN_LIST);
    else if (P->cur == SEC_PARAMETERS) rc = parse_parameter_line(P);
    else if (P->cur == SEC_SPECIES) rc = parse_species_line(P);
    else if (P->cur == SEC_INPUTS) rc = parse_input_name(P);
    else rc = 0; /* reaction lines: second pass */
    if (rc) return rc;
  }
  if (P->cur >= 0) {
    const Section *s = &P->sec[P->cur];
    return fail_at(P, s->line, s->col, "found end of file in the section '%s' opened here; expected 'end %s'", section_names[P->cur], section_names[P->cur]);
  }
  return 0;
}

/* Second pass, last part: the lines of the events section. */
static int parse_events(Parser *P, const char *text, size_t len)
{
  const Section *s  = &P->sec[SEC_EVENTS];
  LineIter       it = {text, len, s->body, s->body_line - 1};
  int            rc;

  if (!s->seen) return 0;
  while (next_line(&it, &P->lx) && it.line < s->end_line) {
    advance(P);
    if (P->tok.kind == TOK_END) continue;
    if ((rc = parse_event_line(P))) return rc;
  }
  return 0;
}

/* Second pass, first part: the bodies of the inputs (all names are known now). */
static int parse_inputs(Parser *P, const char *text, size_t len)
{
  const Section *s  = &P->sec[SEC_INPUTS];
  LineIter       it = {text, len, s->body, s->body_line - 1};
  int            rc, i = 0;

  if (!s->seen) return 0;
  while (next_line(&it, &P->lx) && it.line < s->end_line) {
    advance(P);
    if (P->tok.kind == TOK_END) continue;
    if ((rc = parse_input_body(P, i++))) return rc;
  }
  return 0;
}

/* Second pass, second part: the lines of the reactions section. */
static int parse_reactions(Parser *P, const char *text, size_t len)
{
  const Section *s  = &P->sec[SEC_REACTIONS];
  LineIter       it = {text, len, s->body, s->body_line - 1};
  int            rc;

  P->side[0] = malloc((size_t)P->def->nspecies * sizeof *P->side[0]);
  P->side[1] = malloc((size_t)P->def->nspecies * sizeof *P->side[1]);
  if (!P->side[0] || !P->side[1]) return fail_nomem(P);
  while (next_line(&it, &P->lx) && it.line < s->end_line) {
    advance(P);
    if (P->tok.kind == TOK_END) continue;
    if ((rc = parse_reaction_line(P))) return rc;
  }
  return 0;
}

static int parse_model(Parser *P, const char *text, size_t len)
{
  const Section *sp = &P->sec[SEC_SPECIES], *rx = &P->sec[SEC_REACTIONS];
  int            rc, eof_line = 1, eof_col = 1;
  size_t         i;

  if (len > INT_MAX / 2) return fail_at(P, 1, 1, "found a file of %zu bytes; expected at most %d bytes", len, INT_MAX / 2);
  if ((rc = parse_sections(P, text, len))) return rc;
  for (i = 0; i < len; i++) {
    eof_col++;
    if (text[i] == '\n') {
      eof_line++;
      eof_col = 1;
    }
  }
  if (!rx->seen) return fail_at(P, eof_line, eof_col, "found end of file with no reactions; expected a 'begin reactions' section");
  if (!sp->seen) return fail_at(P, eof_line, eof_col, "found end of file with no species section; expected a 'begin species' section");
  if (P->def->nspecies == 0) return fail_at(P, sp->line, sp->col, "found an empty species section; expected at least one line 'name initial_count'");
  if ((rc = parse_inputs(P, text, len))) return rc;
  if ((rc = parse_reactions(P, text, len))) return rc;
  if (P->def->nreactions == 0) return fail_at(P, rx->line, rx->col, "found a reactions section with no reactions; expected at least one reaction");
  return parse_events(P, text, len);
}

/* Parses text[0..len), text[len] == '\0'; takes ownership of text in all cases. */
static int parse_owned(char *text, size_t len, const char *filename, StgssaModelDef **out, char *err, size_t errlen)
{
  StgssaModelDef *def;
  Parser          P;
  int             rc;

  memset(&P, 0, sizeof P);
  P.err    = err;
  P.errlen = errlen;
  P.file   = filename ? filename : "<input>";
  if (!(def = calloc(1, sizeof *def))) {
    free(text);
    return fail_nomem(&P);
  }
  def->text = text;
  if (!(def->filename = dup_n(P.file, strlen(P.file)))) {
    StgssaModelDefFree(&def);
    return fail_nomem(&P);
  }
  P.def = def;
  rc    = parse_model(&P, text, len);
  free(P.names);
  free(P.side[0]);
  free(P.side[1]);
  if (rc) {
    StgssaModelDefFree(&def);
    return rc;
  }
  *out = def;
  return STGSSA_PARSE_OK;
}

/* ---------------------------------------------------------------- public functions */

int StgssaModelDefParse(const char *text, size_t len, const char *filename, StgssaModelDef **def, char *err, size_t errlen)
{
  char *copy;

  if (err && errlen) err[0] = '\0';
  if (!def) return set_error(STGSSA_PARSE_ESYNTAX, err, errlen, "StgssaModelDefParse: no output argument");
  *def = NULL;
  if (!text && len) return set_error(STGSSA_PARSE_ESYNTAX, err, errlen, "StgssaModelDefParse: no text");
  if (len == SIZE_MAX || !(copy = malloc(len + 1))) return set_error(STGSSA_PARSE_ENOMEM, err, errlen, "%s: out of memory", filename ? filename : "<input>");
  if (len) memcpy(copy, text, len);
  copy[len] = '\0';
  return parse_owned(copy, len, filename, def, err, errlen);
}

int StgssaModelDefParseFile(const char *path, StgssaModelDef **def, char *err, size_t errlen)
{
  FILE  *f;
  char  *buf = NULL;
  size_t len = 0, cap = 0, got;

  if (err && errlen) err[0] = '\0';
  if (!def || !path) return set_error(STGSSA_PARSE_ESYNTAX, err, errlen, "StgssaModelDefParseFile: no path or output argument");
  *def = NULL;
  if (!(f = fopen(path, "rb"))) return set_error(STGSSA_PARSE_EIO, err, errlen, "%s: cannot open: %s", path, strerror(errno));
  do {
    if (cap - len < 2) { /* room for at least one byte and the NUL */
      char  *tmp;
      size_t ncap = cap ? 2 * cap : 4096;
      if (ncap < cap || !(tmp = realloc(buf, ncap))) {
        free(buf);
        fclose(f);
        return set_error(STGSSA_PARSE_ENOMEM, err, errlen, "%s: out of memory", path);
      }
      buf = tmp;
      cap = ncap;
    }
    got = fread(buf + len, 1, cap - len - 1, f);
    len += got;
  } while (got > 0);
  if (ferror(f)) {
    int e = errno;
    free(buf);
    fclose(f);
    return set_error(STGSSA_PARSE_EIO, err, errlen, "%s: cannot read: %s", path, strerror(e));
  }
  fclose(f);
  buf[len] = '\0';
  return parse_owned(buf, len, path, def, err, errlen);
}

static int find_param_n(const StgssaModelDef *def, const char *s, size_t n)
{
  int i;
  for (i = 0; i < def->nparams; i++)
    if (strlen(def->params[i].name) == n && !memcmp(def->params[i].name, s, n)) return i;
  return -1;
}

int StgssaModelDefFindSpecies(const StgssaModelDef *def, const char *name)
{
  int i;
  if (!def || !name) return -1;
  for (i = 0; i < def->nspecies; i++)
    if (!strcmp(def->species[i].name, name)) return i;
  return -1;
}

int StgssaModelDefFindRule(const StgssaModelDef *def, const char *name)
{
  if (!def || !name) return -1;
  for (int i = 0; i < def->nrules; i++)
    if (!strcmp(def->rules[i].name, name)) return i;
  return -1;
}

int StgssaModelDefFindGroup(const StgssaModelDef *def, const char *name)
{
  int i;
  if (!def || !name) return -1;
  for (i = 0; i < def->ngroups; i++)
    if (!strcmp(def->groups[i].name, name)) return i;
  return -1;
}

int StgssaModelDefGroupCheck(const StgssaModelDef *def, int g)
{
  const StgssaGroupDef *gr = &def->groups[g];
  for (int t = 0; t < gr->nterms; t++) {
    const double w = gr->weight[t];
    if (!(w >= 0.0 && w <= 2147483647.0 && w == floor(w))) return t;
  }
  return -1;
}

int StgssaModelDefFindParam(const StgssaModelDef *def, const char *name)
{
  if (!def || !name) return -1;
  return find_param_n(def, name, strlen(name));
}

int StgssaModelDefFindInput(const StgssaModelDef *def, const char *name)
{
  int i;
  if (!def || !name) return -1;
  for (i = 0; i < def->ninputs; i++)
    if (!strcmp(def->inputs[i].name, name)) return i;
  return -1;
}

static const char *trim_left(const char *a, const char *b)
{
  while (a < b && is_space(uc(a, 0))) a++;
  return a;
}

static const char *trim_right(const char *a, const char *b)
{
  while (b > a && is_space(uc(b - 1, 0))) b--;
  return b;
}

/* Checks (apply = 0) or applies (apply = 1) "name=value[,name=value...]". */
static int assign_parameters(StgssaModelDef *def, const char *s, const char *origin, double *pv, unsigned char *freed, char *err, size_t errlen)
{
  const char *p = s;

  if (trim_left(s, s + strlen(s)) == s + strlen(s)) return STGSSA_PARSE_OK; /* nothing to do */
  for (;;) {
    const char *b = p + strcspn(p, ","), *ia = trim_left(p, b), *ib = trim_right(ia, b), *eq, *na, *nb, *va, *vb;
    char       *end = NULL;
    double      v;
    int         k, i;

    if (ia == ib) return set_error(STGSSA_PARSE_ESYNTAX, err, errlen, "%s: found an empty assignment in '%s'; expected name=value", origin, s);
    if (!(eq = memchr(ia, '=', (size_t)(ib - ia))))
      return set_error(STGSSA_PARSE_ESYNTAX, err, errlen, "%s: found '%.*s'; expected name=value", origin, prec((size_t)(ib - ia)), ia);
    na = ia;
    nb = trim_right(na, eq);
    va = trim_left(eq + 1, ib);
    vb = ib;
    if (na == nb || !is_name_start(uc(na, 0)) || (size_t)(nb - na) > STGSSA_NAME_MAX)
      return set_error(STGSSA_PARSE_ESYNTAX, err, errlen, "%s: found '%.*s'; expected name=value with a parameter name", origin, prec((size_t)(ib - ia)), ia);
    for (i = 1; i < nb - na; i++)
      if (!is_name_char(uc(na, (size_t)i)))
        return set_error(STGSSA_PARSE_ESYNTAX, err, errlen, "%s: found '%.*s'; expected name=value with a parameter name", origin, prec((size_t)(ib - ia)), ia);
    if ((k = find_param_n(def, na, (size_t)(nb - na))) < 0) {
      set_error(STGSSA_PARSE_ESYNTAX, err, errlen, "%s: unknown parameter '%.*s' (model defines", origin, prec((size_t)(nb - na)), na);
      if (!def->nparams) append(err, errlen, " no parameters");
      for (i = 0; i < def->nparams; i++) append(err, errlen, "%s %s", i ? "," : ":", def->params[i].name);
      append(err, errlen, ")");
      return STGSSA_PARSE_ESYNTAX;
    }
    v = va == vb || scan_number(va, (size_t)(vb - va)) != (size_t)(vb - va) ? (double)NAN : strtod(va, &end);
    if (isnan(v) || end != vb)
      return set_error(STGSSA_PARSE_ESYNTAX, err, errlen, "%s: found '%.*s' as value of '%s'; expected a nonnegative finite number", origin,
                       prec((size_t)(vb - va)), va, def->params[k].name);
    if (!isfinite(v))
      return set_error(STGSSA_PARSE_ESYNTAX, err, errlen, "%s: found out-of-range number '%.*s' as value of '%s'; expected a nonnegative finite number", origin,
                       prec((size_t)(vb - va)), va, def->params[k].name);
    if (v < 0)
      return set_error(STGSSA_PARSE_ESYNTAX, err, errlen, "%s: found negative number '%.*s' as value of '%s'; expected a nonnegative finite number", origin,
                       prec((size_t)(vb - va)), va, def->params[k].name);
    if (pv) {
      pv[k]    = v + 0.0;
      freed[k] = 1;
    }
    if (!*b) return STGSSA_PARSE_OK;
    p = b + 1;
  }
}

/* Overrides are validated, applied to a copy of the values, and the derived parameters and
   initial-count expressions re-evaluated from it (an overridden derived parameter becomes free:
   the user's value wins); the definition changes only when all of this succeeds. */
int StgssaModelDefSetParameters(StgssaModelDef *def, const char *assignments, const char *origin, char *err, size_t errlen)
{
  int            rc;
  double        *pv;
  int64_t       *x0;
  unsigned char *freed;
  if (err && errlen) err[0] = '\0';
  if (!origin) origin = "parameters";
  if (!def) return set_error(STGSSA_PARSE_ESYNTAX, err, errlen, "%s: no model", origin);
  if (!assignments) return STGSSA_PARSE_OK;
  if ((rc = assign_parameters(def, assignments, origin, NULL, NULL, err, errlen))) return rc;
  pv    = malloc(sizeof *pv * ((size_t)def->nparams + 1));
  x0    = malloc(sizeof *x0 * ((size_t)def->nspecies + 1));
  freed = calloc((size_t)def->nparams + 1, 1);
  if (!pv || !x0 || !freed) {
    rc = set_error(STGSSA_PARSE_ENOMEM, err, errlen, "%s: out of memory", origin);
    goto done;
  }
  for (int m = 0; m < def->nparams; m++) pv[m] = def->params[m].value;
  if ((rc = assign_parameters(def, assignments, origin, pv, freed, err, errlen))) goto done;
  if (StgssaModelDefHasDerived(def)) {
    char why[768];
    if ((rc = StgssaModelDefEvalDerived(def, freed, pv, x0, why, sizeof why))) {
      set_error(rc, err, errlen, "%s: after the overrides, %s", origin, why);
      goto done;
    }
    for (int s = 0; s < def->nspecies; s++) def->species[s].initial = x0[s];
  }
  for (int m = 0; m < def->nparams; m++) {
    def->params[m].value = pv[m];
    if (freed[m]) StgssaExprFree(&def->params[m].expr);
  }
done:
  free(pv);
  free(x0);
  free(freed);
  return rc;
}

double StgssaModelDefRate(const StgssaModelDef *def, int j)
{
  const StgssaReactionDef *r;
  if (!def || j < 0 || j >= def->nreactions) return (double)NAN;
  r = &def->reactions[j];
  if (r->law) return (double)NAN;
  return r->param >= 0 ? r->factor * def->params[r->param].value : r->factor;
}

/* ---------------------------------------------------------------- events at run time */

/* t_first + k * period, always computed by this formula so that equal k give equal doubles. */
static double event_occurrence(const StgssaEventDef *ev, double k) { return ev->t_first + k * ev->period; }

double StgssaModelDefEventNext(const StgssaModelDef *def, int e, double t)
{
  const StgssaEventDef *ev = &def->events[e];
  double                k;

  if (t < ev->t_first || isnan(t)) return ev->t_first;
  if (ev->period <= 0) return (double)INFINITY;
  k = floor((t - ev->t_first) / ev->period) + 1; /* rounding may be one off either way */
  if (!(k < 0x1p52)) return (double)INFINITY;     /* beyond the resolution of the schedule */
  for (int i = 0; i < 64 && k > 0 && event_occurrence(ev, k - 1) > t; i++) k--;
  for (int i = 0; i < 64 && event_occurrence(ev, k) <= t; i++) k++;
  return event_occurrence(ev, k) > t ? event_occurrence(ev, k) : (double)INFINITY; /* a period below the rounding of t: no later time */
}

double StgssaModelDefNextEventTime(const StgssaModelDef *def, double t)
{
  double best = (double)INFINITY;
  if (!def) return best;
  for (int e = 0; e < def->nevents; e++) {
    const double te = StgssaModelDefEventNext(def, e, t);
    if (te < best) best = te;
  }
  return best;
}

int StgssaModelDefEventAt(const StgssaModelDef *def, int e, double t)
{
  return StgssaModelDefEventNext(def, e, nextafter(t, -(double)INFINITY)) == t;
}

double StgssaModelDefEventValue(const StgssaModelDef *def, int e, const double *pv, double *dlog, double *work)
{
  const StgssaEventDef *ev = &def->events[e];
  double                buf[32], *dp = buf, v;
  const int            *used;
  int                   nu;

  if (dlog)
    for (int m = 0; m < def->nparams; m++) dlog[m] = 0;
  if (!ev->value) return 0.5;
  if (!dlog) return work ? StgssaExprEvalWork(ev->value, NULL, pv, NULL, 0.0, work) : StgssaExprEval(ev->value, NULL, pv, NULL, 0.0);
  used = StgssaExprUsedParams(ev->value, &nu);
  if (nu > 32 && !(dp = malloc((size_t)nu * sizeof *dp))) return (double)NAN;
  v = work ? StgssaExprEvalGradWork(ev->value, NULL, pv, NULL, 0.0, NULL, dp, NULL, NULL, work) : StgssaExprEvalGrad(ev->value, NULL, pv, NULL, 0.0, NULL, dp, NULL, NULL);
  for (int i = 0; i < nu; i++) dlog[used[i]] = pv[used[i]] * dp[i];
  if (dp != buf) free(dp);
  return v;
}

void StgssaModelDefFree(StgssaModelDef **def)
{
  StgssaModelDef *d;
  int             i;

  if (!def || !*def) return;
  d = *def;
  for (i = 0; i < d->nparams; i++) {
    free(d->params[i].name);
    StgssaExprFree(&d->params[i].expr);
  }
  for (i = 0; i < d->nspecies; i++) {
    free(d->species[i].name);
    StgssaExprFree(&d->species[i].init_expr);
  }
  for (i = 0; i < d->nreactions; i++) {
    free(d->reactions[i].label);
    free(d->reactions[i].react);
    free(d->reactions[i].prod);
    StgssaExprFree(&d->reactions[i].law);
  }
  for (i = 0; i < d->ninputs; i++) {
    free(d->inputs[i].name);
    StgssaExprFree(&d->inputs[i].expr);
    free(d->inputs[i].times);
    free(d->inputs[i].values);
    free(d->inputs[i].vparam);
  }
  free(d->inputs);
  for (i = 0; i < d->ngroups; i++) {
    free(d->groups[i].name);
    free(d->groups[i].species);
    free(d->groups[i].weight);
  }
  free(d->groups);
  for (i = 0; i < d->nrules; i++) {
    free(d->rules[i].name);
    StgssaExprFree(&d->rules[i].expr);
  }
  free(d->rules);
  for (i = 0; i < d->nevents; i++) {
    free(d->events[i].species);
    StgssaExprFree(&d->events[i].value);
  }
  free(d->events);
  free(d->params);
  free(d->species);
  free(d->reactions);
  free(d->filename);
  free(d->text);
  free(d);
  *def = NULL;
}
