/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Import of BioNetGen `.net` network files (the output of BNG's generate_network) into a
  StgssaModelDef. Pure C11: no PETSc, no MPI, so that it can be unit-tested on its own.

  Accepted subset (anything else is a "FILE:LINE:COL: found X; expected Y" error):
  - Blocks `begin parameters`, `begin species`, `begin reactions`, `begin groups`, each at most
    once, in that order (parameters and groups optional). Outside blocks only comments, blank
    lines and `substanceUnits(...)` lines (ignored). `#` starts a comment everywhere.
  - Every line of a block starts with its index: 1, 2, 3, ... in order.
  - parameters: `INDEX NAME VALUE`; VALUE is a number or arithmetic (+ - * / parentheses,
    unary minus) of numbers and parameters defined on earlier lines. A value that names
    parameters is also kept compiled (StgssaParamDef.expr, derived.c): derived parameters are
    re-evaluated after every -stgssa_parameters override. The value must be finite and >= 0.
  - species: `INDEX NAME COUNT`; COUNT is evaluated like a parameter value and must be a
    nonnegative integer (kept as StgssaSpeciesDef.init_expr when it names parameters). Constant species (`$` prefix) are refused.
    Names are mapped to native names: the maximal runs of characters [A-Za-z0-9_] of the BNG
    name are joined with '_' (`G(s~off)` -> `G_s_off`, `mRNA()` -> `mRNA`,
    `A(b!1).B(a!1)` -> `A_b_1_B_a_1`); a result starting with a digit gets the prefix `S_`.
    When the result is longer than STGSSA_NAME_MAX bytes, or equals a parameter name or an
    earlier species name, it is cut and suffixed with `_INDEX` (the species index of the file).
    Messages quote the original BNG name.
  - reactions: `INDEX REACTANTS PRODUCTS RATE [# COMMENT]`; REACTANTS and PRODUCTS are `0` (none)
    or comma-separated species indices (repeats allowed, merged into a coefficient); RATE is a
    parameter name, a number or NUMBER*NAME. Functional and non-elementary rate laws are refused.
    A comment `#NAME` labels the reaction (BNG writes the rule name there); a reaction labelled
    `#_reverse_NAME` is paired with an earlier reaction labelled `#NAME` whose sides are its own
    swapped, which makes the pair a labelled `<->` pair of the native format.
  - groups: `INDEX NAME [TERM,TERM,...]` with TERM = SPECIES_INDEX or WEIGHT*SPECIES_INDEX.
    Stored in StgssaModelDef.groups; observable by name (-stgssa_observe) when every weight is a
    nonnegative integer. A group name equal to a parameter, species (mapped name) or earlier
    group name is refused, so a name observed is never ambiguous.

  Mass-action convention. BNG's run_network (Network3, rxn_rate(), rate law ELEMENTARY with
  discrete = 1 in the SSA) computes the propensity as k * x*(x-1)*...*(x-n+1) for a species
  appearing n times among the reactants, with k the rate written in the .net file, which already
  includes BNG's statistical factor (BNG writes `0.5*kf` for a rule A + A -> B with rate kf).
  Our engine uses k' * C(x, n) = k' * x*(x-1)*...*(x-n+1) / n!, so the imported rate factor is
  multiplied by n! for each reactant species: both give the same propensity, e.g. the .net
  reaction `1,1 2 0.5*kf` becomes factor 1.0 times kf, as the native `2 A -> B kf`.
*/
#include <stgssa/modeldef.h>
#include <stgssa/expr.h>

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lex_util.h"

#define QMAX 40 /* longest quoted text in messages */

static int  qlen(size_t n) { return n > QMAX ? QMAX : (int)n; }
static const char *ell(size_t n) { return n > QMAX ? "..." : ""; }

/* ---------------------------------------------------------------- state */

typedef struct {
  const char *s; /* points into the text; NULL = free slot */
  size_t      n;
  int         kind, index;
} Slot;

typedef struct {
  Slot  *tab;
  size_t cap, used;
} Table;

enum { K_PARAM = 1, K_SPECIES = 2, K_GROUP = 3 };
enum { B_NONE = -1, B_PARAMETERS, B_SPECIES, B_REACTIONS, B_GROUPS, B_COUNT };
static const char *const block_names[B_COUNT] = {"parameters", "species", "reactions", "groups"};

typedef struct {
  const char     *file;
  char           *err;
  size_t          errlen;
  StgssaModelDef *def;
  int             cap_p, cap_s, cap_r, cap_g;
  Table           names; /* native names: parameters, mapped species, groups */
  Table           orig;  /* original BNG species names */
  int            *rev_of; /* per reaction: 1 if labelled #_reverse_NAME */
  int             cap_rev;
  int            *count;  /* scratch [nspecies] */
  /* current line */
  const char     *ls;  /* start of the line */
  size_t          ln;  /* length up to the comment */
  const char     *cs;  /* comment text after '#', or NULL */
  size_t          cn;
  int             line;
} Net;

static int fail(Net *N, const char *at, const char *fmt, ...)
{
  va_list ap;
  size_t  used;
  int     col = at ? (int)(at - N->ls) + 1 : 1;
  if (!N->err || !N->errlen) return STGSSA_PARSE_ESYNTAX;
  snprintf(N->err, N->errlen, "%s:%d:%d: ", N->file, N->line, col);
  used = strlen(N->err);
  va_start(ap, fmt);
  if (used + 1 < N->errlen) vsnprintf(N->err + used, N->errlen - used, fmt, ap);
  va_end(ap);
  return STGSSA_PARSE_ESYNTAX;
}

static int nomem(Net *N)
{
  if (N->err && N->errlen) snprintf(N->err, N->errlen, "%s: out of memory", N->file);
  return STGSSA_PARSE_ENOMEM;
}

static void *grow(void *p, int *cap, int count, size_t el)
{
  int   nc;
  void *q;
  if (count < *cap) return p;
  if (count >= INT_MAX / 2) return NULL;
  nc = *cap < 8 ? 8 : 2 * *cap;
  if ((size_t)nc > SIZE_MAX / el) return NULL;
  q = realloc(p, (size_t)nc * el);
  if (q) *cap = nc;
  return q;
}

static size_t hash(const char *s, size_t n)
{
  uint64_t h = UINT64_C(14695981039346656037);
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= UINT64_C(1099511628211);
  }
  return (size_t)h;
}

static const Slot *tfind(const Table *t, const char *s, size_t n)
{
  if (!t->cap) return NULL;
  for (size_t i = hash(s, n) & (t->cap - 1); t->tab[i].s; i = (i + 1) & (t->cap - 1))
    if (t->tab[i].n == n && !memcmp(t->tab[i].s, s, n)) return &t->tab[i];
  return NULL;
}

static int tadd(Table *t, const char *s, size_t n, int kind, int index)
{
  size_t i;
  if ((t->used + 1) * 2 > t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 64;
    Slot  *tab = calloc(cap, sizeof *tab);
    if (!tab) return -1;
    for (size_t k = 0; k < t->cap; k++)
      if (t->tab[k].s) {
        for (i = hash(t->tab[k].s, t->tab[k].n) & (cap - 1); tab[i].s; i = (i + 1) & (cap - 1)) {}
        tab[i] = t->tab[k];
      }
    free(t->tab);
    t->tab = tab;
    t->cap = cap;
  }
  for (i = hash(s, n) & (t->cap - 1); t->tab[i].s; i = (i + 1) & (t->cap - 1)) {}
  t->tab[i].s     = s;
  t->tab[i].n     = n;
  t->tab[i].kind  = kind;
  t->tab[i].index = index;
  t->used++;
  return 0;
}

/* ---------------------------------------------------------------- fields */

typedef struct {
  const char *s;
  size_t      n;
} Field;

/* Next white-space separated field of the current line at or after *pos; n = 0 at the end. */
static Field next_field(const Net *N, size_t *pos)
{
  Field  f;
  size_t i = *pos;
  while (i < N->ln && is_space(uc(N->ls, i))) i++;
  f.s = N->ls + i;
  while (i < N->ln && !is_space(uc(N->ls, i))) i++;
  f.n  = (size_t)(N->ls + i - f.s);
  *pos = i;
  return f;
}

static const char *kind_name(int kind) { return kind == K_PARAM ? "parameter" : kind == K_SPECIES ? "species" : "group"; }

/* The line index: must be `expected` (1, 2, 3, ... within the block). */
static int check_index(Net *N, Field f, int expected, const char *what)
{
  long v = 0;
  for (size_t i = 0; i < f.n; i++) {
    if (!is_digit(uc(f.s, i)) || v > INT_MAX / 10) return fail(N, f.s, "found '%.*s%s' as %s index; expected the index %d", qlen(f.n), f.s, ell(f.n), what, expected);
    v = 10 * v + (f.s[i] - '0');
  }
  if (f.n == 0) return fail(N, f.s, "found end of line; expected the %s index %d", what, expected);
  if (v != expected) return fail(N, f.s, "found %s index %ld; expected %d (indices count 1, 2, 3, ... in order)", what, v, expected);
  return 0;
}

static int valid_name(const char *s, size_t n)
{
  if (n == 0 || n > STGSSA_NAME_MAX || !is_name_start(uc(s, 0))) return 0;
  for (size_t i = 1; i < n; i++)
    if (!is_name_char(uc(s, i))) return 0;
  return 1;
}

/* Length of a number [0-9]+(.[0-9]*)?|.[0-9]+ with optional exponent at s[0..n), or 0. */
static size_t scan_num(const char *s, size_t n)
{
  size_t i = 0, d = 0;
  while (i < n && is_digit(uc(s, i))) i++, d++;
  if (i < n && s[i] == '.') {
    i++;
    while (i < n && is_digit(uc(s, i))) i++, d++;
  }
  if (!d) return 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    size_t k = i + 1;
    if (k < n && (s[k] == '+' || s[k] == '-')) k++;
    if (k < n && is_digit(uc(s, k))) {
      while (k < n && is_digit(uc(s, k))) k++;
      i = k;
    }
  }
  return i;
}

static double num_value(const char *s, size_t n)
{
  char buf[128];
  if (n >= sizeof buf) n = sizeof buf - 1;
  memcpy(buf, s, n);
  buf[n] = '\0';
  return strtod(buf, NULL);
}

/* ---------------------------------------------------------------- expressions */

typedef struct {
  Net        *N;
  const char *s;
  size_t      n, i;
  int         uses; /* the expression names a parameter */
} Expr;

static const char expr_expected[] = "a number, an earlier parameter, '(' or '-' (expressions may use + - * / and parentheses)";

static void eskip(Expr *E)
{
  while (E->i < E->n && is_space(uc(E->s, E->i))) E->i++;
}

static int esum(Expr *E, double *v);

static int eprimary(Expr *E, double *v)
{
  const char *at;
  size_t      k;
  eskip(E);
  at = E->s + E->i;
  if (E->i >= E->n) return fail(E->N, at, "found end of expression; expected %s", expr_expected);
  if (E->s[E->i] == '-' || E->s[E->i] == '+') {
    int neg = E->s[E->i] == '-', rc;
    E->i++;
    if ((rc = eprimary(E, v))) return rc;
    if (neg) *v = -*v;
    return 0;
  }
  if (E->s[E->i] == '(') {
    int rc;
    E->i++;
    if ((rc = esum(E, v))) return rc;
    eskip(E);
    if (E->i >= E->n || E->s[E->i] != ')') return fail(E->N, E->s + E->i, "found %s; expected ')'", E->i >= E->n ? "end of expression" : "another character");
    E->i++;
    return 0;
  }
  if ((k = scan_num(E->s + E->i, E->n - E->i)) > 0) {
    if (E->i + k < E->n && (is_name_char(uc(E->s, E->i + k)) || E->s[E->i + k] == '.'))
      return fail(E->N, at, "found malformed number '%.*s'; expected %s", qlen(E->n - E->i), at, expr_expected);
    *v = num_value(at, k);
    E->i += k;
    return 0;
  }
  if (is_name_start(uc(E->s, E->i))) {
    const Slot *e;
    size_t      j = E->i;
    while (j < E->n && is_name_char(uc(E->s, j))) j++;
    k     = j - E->i;
    E->i  = j;
    eskip(E);
    if (E->i < E->n && E->s[E->i] == '(')
      return fail(E->N, at, "found function call '%.*s('; expected %s (functions are not supported)", qlen(k), at, expr_expected);
    e = tfind(&E->N->names, at, k);
    if (!e || e->kind != K_PARAM)
      return fail(E->N, at, "found undefined parameter '%.*s%s'; expected a parameter defined on an earlier line", qlen(k), at, ell(k));
    *v      = E->N->def->params[e->index].value;
    E->uses = 1;
    return 0;
  }
  return fail(E->N, at, "found '%c'; expected %s", E->s[E->i], expr_expected);
}

static int eproduct(Expr *E, double *v)
{
  int rc;
  if ((rc = eprimary(E, v))) return rc;
  for (;;) {
    double w;
    char   op;
    eskip(E);
    if (E->i >= E->n || (E->s[E->i] != '*' && E->s[E->i] != '/')) return 0;
    op = E->s[E->i++];
    if ((rc = eprimary(E, &w))) return rc;
    *v = op == '*' ? *v * w : *v / w;
  }
}

static int esum(Expr *E, double *v)
{
  int rc;
  if ((rc = eproduct(E, v))) return rc;
  for (;;) {
    double w;
    char   op;
    eskip(E);
    if (E->i >= E->n || (E->s[E->i] != '+' && E->s[E->i] != '-')) return 0;
    op = E->s[E->i++];
    if ((rc = eproduct(E, &w))) return rc;
    *v = op == '+' ? *v + w : *v - w;
  }
}

static StgssaExprVarKind net_resolve(void *ctx, const char *name, size_t len, int *index)
{
  const Slot *e = tfind(&((Net *)ctx)->names, name, len);
  if (!e || e->kind != K_PARAM) return STGSSA_EXPR_UNKNOWN;
  *index = e->index;
  return STGSSA_EXPR_PARAM;
}

/* Evaluates the rest of the current line from pos; what names the value in messages. When the
   value names parameters, *ex (if not NULL) receives it compiled (a derived quantity, re-evaluated
   after overrides), else NULL. */
static int eval_rest(Net *N, size_t pos, const char *what, double *v, StgssaExpr **ex)
{
  Expr E = {N, N->ls, N->ln, pos, 0};
  int  rc;
  if (ex) *ex = NULL;
  eskip(&E);
  pos = E.i;
  if (E.i >= E.n) return fail(N, N->ls + E.i, "found end of line; expected %s", what);
  if ((rc = esum(&E, v))) return rc;
  eskip(&E);
  if (E.i < E.n) return fail(N, N->ls + E.i, "found '%.*s%s' after the %s; expected end of line", qlen(E.n - E.i), N->ls + E.i, ell(E.n - E.i), what);
  if (!isfinite(*v)) return fail(N, N->ls + pos, "found a %s that is not finite; expected a finite number", what);
  if (E.uses && ex) { /* the same text through the rate-law compiler (its grammar contains this one) */
    char cerr[256];
    rc = StgssaExprCompile(N->ls + pos, E.n - pos, N->file, N->line, (int)pos + 1, net_resolve, N, ex, cerr, sizeof cerr);
    if (rc == STGSSA_PARSE_ENOMEM) return nomem(N);
    if (rc) return fail(N, N->ls + pos, "found a %s that cannot be kept as an expression: %s", what, cerr);
  }
  return 0;
}

/* ---------------------------------------------------------------- blocks */

static int parameter_line(Net *N)
{
  StgssaModelDef *d   = N->def;
  size_t          pos = 0;
  Field           idx = next_field(N, &pos), name;
  const Slot     *e;
  double          v;
  char           *s;
  void           *tmp;
  int             rc;
  StgssaExpr     *ex = NULL;

  if ((rc = check_index(N, idx, d->nparams + 1, "parameter"))) return rc;
  name = next_field(N, &pos);
  if (name.n == 0) return fail(N, name.s, "found end of line; expected a parameter name");
  if (!valid_name(name.s, name.n))
    return fail(N, name.s, "found invalid parameter name '%.*s%s'; expected [A-Za-z_][A-Za-z0-9_]* of at most %d bytes", qlen(name.n), name.s, ell(name.n), STGSSA_NAME_MAX);
  if ((e = tfind(&N->names, name.s, name.n)))
    return fail(N, name.s, "found duplicate parameter name '%.*s' (already defined at line %d); expected a new name", qlen(name.n), name.s, d->params[e->index].line);
  if ((rc = eval_rest(N, pos, "parameter value", &v, &ex))) return rc;
  if (v < 0) {
    StgssaExprFree(&ex);
    return fail(N, name.s, "found negative value %g of parameter '%.*s'; expected a nonnegative value", v, qlen(name.n), name.s);
  }
  if (!(tmp = grow(d->params, &N->cap_p, d->nparams, sizeof *d->params))) {
    StgssaExprFree(&ex);
    return nomem(N);
  }
  d->params = tmp;
  if (!(s = dup_n(name.s, name.n))) {
    StgssaExprFree(&ex);
    return nomem(N);
  }
  if (tadd(&N->names, s, name.n, K_PARAM, d->nparams)) {
    free(s);
    StgssaExprFree(&ex);
    return nomem(N);
  }
  d->params[d->nparams].expr  = ex;
  d->params[d->nparams].name  = s;
  d->params[d->nparams].value = v + 0.0;
  d->params[d->nparams].line  = N->line;
  d->nparams++;
  return 0;
}

/* Native name of a BNG species name (see the header comment); buf holds STGSSA_NAME_MAX + 1 bytes. */
static size_t map_name(const char *s, size_t n, char *buf)
{
  size_t len = 0, i = 0;
  int    first = 1;
  while (i < n) {
    size_t j;
    while (i < n && !is_name_char(uc(s, i))) i++;
    if (i >= n) break;
    for (j = i; j < n && is_name_char(uc(s, j)); j++) {}
    if (first && is_digit(uc(s, i))) {
      if (len + 2 <= STGSSA_NAME_MAX + 1) memcpy(buf + len, "S_", 2);
      len += 2;
    }
    if (!first) {
      if (len < STGSSA_NAME_MAX + 1) buf[len] = '_';
      len++;
    }
    for (size_t k = i; k < j; k++, len++)
      if (len < STGSSA_NAME_MAX + 1) buf[len] = s[k];
    first = 0;
    i     = j;
  }
  return len; /* may exceed STGSSA_NAME_MAX: then buf holds the first STGSSA_NAME_MAX + 1 bytes */
}

static int species_line(Net *N)
{
  StgssaModelDef *d   = N->def;
  size_t          pos = 0, len;
  Field           idx = next_field(N, &pos), name;
  const Slot     *e;
  char            buf[STGSSA_NAME_MAX + 1 + 32];
  double          v;
  char           *s;
  void           *tmp;
  int             rc;
  size_t          vpos;

  if ((rc = check_index(N, idx, d->nspecies + 1, "species"))) return rc;
  name = next_field(N, &pos);
  if (name.n == 0) return fail(N, name.s, "found end of line; expected a species name");
  if (name.s[0] == '$')
    return fail(N, name.s, "found constant species '%.*s%s'; expected a species whose count reactions change (constant '$' species are not supported)", qlen(name.n), name.s, ell(name.n));
  if ((e = tfind(&N->orig, name.s, name.n)))
    return fail(N, name.s, "found duplicate species '%.*s%s' (already defined at line %d); expected a new species", qlen(name.n), name.s, ell(name.n), d->species[e->index].line);
  vpos = pos;
  if ((rc = eval_rest(N, pos, "initial count", &v, NULL))) return rc;
  if (v < 0 || v != floor(v) || v > (double)STGSSA_COUNT_MAX) {
    return fail(N, name.s, "found initial count %.17g of species '%.*s%s'; expected a nonnegative integer at most 2^53 = 9007199254740992", v, qlen(name.n), name.s, ell(name.n));
  }

  len = map_name(name.s, name.n, buf);
  if (len == 0) return fail(N, name.s, "found species name '%.*s%s' without letters or digits; expected a name with some of [A-Za-z0-9_]", qlen(name.n), name.s, ell(name.n));
  if (len > STGSSA_NAME_MAX || tfind(&N->names, buf, len)) {
    char suffix[24];
    int  sn = snprintf(suffix, sizeof suffix, "_%d", d->nspecies + 1);
    if (len > STGSSA_NAME_MAX - (size_t)sn) len = STGSSA_NAME_MAX - (size_t)sn;
    memcpy(buf + len, suffix, (size_t)sn);
    len += (size_t)sn;
    if ((e = tfind(&N->names, buf, len)))
      return fail(N, name.s, "found species '%.*s%s' whose native name '%.*s' is already used by a %s; expected names that map to distinct native names", qlen(name.n), name.s,
                  ell(name.n), (int)len, buf, kind_name(e->kind));
  }
  if (!(tmp = grow(d->species, &N->cap_s, d->nspecies, sizeof *d->species))) return nomem(N);
  d->species = tmp;
  if (!(s = dup_n(buf, len))) return nomem(N);
  if (tadd(&N->names, s, len, K_SPECIES, d->nspecies) || tadd(&N->orig, name.s, name.n, K_SPECIES, d->nspecies)) {
    free(s);
    return nomem(N);
  }
  d->species[d->nspecies].name      = s;
  d->species[d->nspecies].initial   = (int64_t)v;
  d->species[d->nspecies].line      = N->line;
  d->species[d->nspecies].init_expr = NULL;
  d->nspecies++; /* counted before the expression is compiled: freed with the definition */
  if ((rc = eval_rest(N, vpos, "initial count", &v, &d->species[d->nspecies - 1].init_expr))) return rc;
  return 0;
}

/* A species index 1..nspecies at s[0..n). */
static int species_index(Net *N, const char *s, size_t n, const char *what, int *sp)
{
  long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!is_digit(uc(s, i)) || v > INT_MAX / 10) return fail(N, s, "found '%.*s%s' in the %s; expected a species index from 1 to %d", qlen(n), s, ell(n), what, N->def->nspecies);
    v = 10 * v + (s[i] - '0');
  }
  if (n == 0) return fail(N, s, "found an empty entry in the %s; expected a species index from 1 to %d", what, N->def->nspecies);
  if (v < 1 || v > N->def->nspecies) return fail(N, s, "found species index %ld in the %s; expected a species index from 1 to %d", v, what, N->def->nspecies);
  *sp = (int)v - 1;
  return 0;
}

/* `0` or I,J,K: fills the stoichiometric terms (merged); *nt receives their number. */
static int parse_side(Net *N, Field f, const char *what, StgssaStoichTerm **out, int *nt)
{
  int               n = 0;
  StgssaStoichTerm *t;
  size_t            i = 0;

  *out = NULL;
  *nt  = 0;
  if (f.n == 0) return fail(N, f.s, "found end of line; expected the %s: '0' or comma-separated species indices", what);
  if (f.n == 1 && f.s[0] == '0') return 0;
  for (int k = 0; k < N->def->nspecies; k++) N->count[k] = 0;
  while (i <= f.n) {
    size_t j = i;
    int    sp, rc;
    while (j < f.n && f.s[j] != ',') j++;
    if ((rc = species_index(N, f.s + i, j - i, what, &sp))) return rc;
    if (N->count[sp] == 0) n++;
    if (++N->count[sp] > STGSSA_STOICH_MAX)
      return fail(N, f.s + i, "found species %d more than %d times in the %s; expected at most %d", sp + 1, STGSSA_STOICH_MAX, what, STGSSA_STOICH_MAX);
    i = j + 1;
  }
  if (!(t = malloc((size_t)n * sizeof *t))) return nomem(N);
  /* terms in order of first appearance */
  n = 0;
  for (i = 0; i <= f.n;) {
    size_t j = i;
    long   v = 0;
    while (j < f.n && f.s[j] != ',') v = 10 * v + (f.s[j++] - '0');
    if (N->count[v - 1] > 0) {
      t[n].species = (int)v - 1;
      t[n].coef    = N->count[v - 1];
      N->count[v - 1] = 0;
      n++;
    }
    i = j + 1;
  }
  *out = t;
  *nt  = n;
  return 0;
}

static const char rate_expected[] = "a mass-action rate: a parameter name, a number or NUMBER*NAME (functional and other rate laws are not supported)";

static int parse_rate(Net *N, Field f, double *factor, int *param)
{
  size_t      k = scan_num(f.s, f.n);
  const Slot *e;
  const char *nm = f.s;
  size_t      nn = f.n;

  *factor = 1.0;
  *param  = -1;
  if (f.n == 0) return fail(N, f.s, "found end of line; expected %s", rate_expected);
  if (k > 0) {
    *factor = num_value(f.s, k);
    if (!isfinite(*factor)) return fail(N, f.s, "found out-of-range number '%.*s'; expected a finite rate", qlen(k), f.s);
    if (k == f.n) return 0;
    if (f.s[k] != '*' || k + 1 >= f.n) return fail(N, f.s, "found rate '%.*s%s'; expected %s", qlen(f.n), f.s, ell(f.n), rate_expected);
    nm = f.s + k + 1;
    nn = f.n - k - 1;
  }
  if (!valid_name(nm, nn)) return fail(N, f.s, "found rate '%.*s%s'; expected %s", qlen(f.n), f.s, ell(f.n), rate_expected);
  e = tfind(&N->names, nm, nn);
  if (!e || e->kind != K_PARAM)
    return fail(N, nm, "found '%.*s' as a rate, which is not a parameter; expected %s", qlen(nn), nm, rate_expected);
  *param = e->index;
  return 0;
}

static int same_terms(const StgssaStoichTerm *a, int na, const StgssaStoichTerm *b, int nb)
{
  if (na != nb) return 0;
  for (int i = 0; i < na; i++) {
    int j;
    for (j = 0; j < nb && (b[j].species != a[i].species || b[j].coef != a[i].coef); j++) {}
    if (j == nb) return 0;
  }
  return 1;
}

static int reaction_line(Net *N)
{
  StgssaModelDef   *d   = N->def;
  size_t            pos = 0;
  Field             idx = next_field(N, &pos), fr, fp, fk, extra;
  StgssaReactionDef r;
  void             *tmp;
  int               rc, reverse_label = 0;

  memset(&r, 0, sizeof r);
  r.reverse = -1;
  r.line    = N->line;
  if ((rc = check_index(N, idx, d->nreactions + 1, "reaction"))) return rc;
  fr = next_field(N, &pos);
  fp = next_field(N, &pos);
  fk = next_field(N, &pos);
  extra = next_field(N, &pos);
  if ((rc = parse_rate(N, fk, &r.factor, &r.param))) return rc;
  if (extra.n) return fail(N, extra.s, "found '%.*s%s' after the rate; expected end of line or a '#' comment", qlen(extra.n), extra.s, ell(extra.n));
  if ((rc = parse_side(N, fr, "reactants", &r.react, &r.nreact))) return rc;
  if ((rc = parse_side(N, fp, "products", &r.prod, &r.nprod))) {
    free(r.react);
    return rc;
  }
  if (!r.nreact && !r.nprod) return fail(N, fr.s, "found a reaction '0 0' without species; expected at least one reactant or product");
  /* BNG propensity k x(x-1)...(x-n+1) equals ours k n! C(x,n) */
  for (int i = 0; i < r.nreact; i++)
    for (int m = 2; m <= r.react[i].coef; m++) r.factor *= m;
  if (!isfinite(r.factor)) {
    free(r.react);
    free(r.prod);
    return fail(N, fk.s, "found a rate whose combinatorial factor overflows; expected smaller stoichiometric coefficients");
  }
  if (N->cs) { /* a leading word of the comment that is a name labels the reaction */
    size_t i = 0, j;
    while (i < N->cn && is_space(uc(N->cs, i))) i++;
    for (j = i; j < N->cn && !is_space(uc(N->cs, j)); j++) {}
    if (j - i > 9 && !memcmp(N->cs + i, "_reverse_", 9) && valid_name(N->cs + i + 9, j - i - 9)) {
      reverse_label = 1;
      i += 9;
    }
    if (valid_name(N->cs + i, j - i) && !(r.label = dup_n(N->cs + i, j - i))) {
      free(r.react);
      free(r.prod);
      return nomem(N);
    }
  }
  if (!(tmp = grow(d->reactions, &N->cap_r, d->nreactions, sizeof *d->reactions))) goto oom;
  d->reactions = tmp;
  if (!(tmp = grow(N->rev_of, &N->cap_rev, d->nreactions, sizeof *N->rev_of))) goto oom;
  N->rev_of = tmp;
  N->rev_of[d->nreactions] = reverse_label;
  if (reverse_label) { /* pair with the forward reaction of the same rule */
    for (int i = 0; i < d->nreactions; i++) {
      StgssaReactionDef *q = &d->reactions[i];
      if (q->reverse < 0 && !N->rev_of[i] && q->label && !strcmp(q->label, r.label) && same_terms(q->react, q->nreact, r.prod, r.nprod) &&
          same_terms(q->prod, q->nprod, r.react, r.nreact)) {
        q->reverse = d->nreactions;
        r.reverse  = i;
        break;
      }
    }
  }
  d->reactions[d->nreactions++] = r;
  return 0;
oom:
  free(r.label);
  free(r.react);
  free(r.prod);
  return nomem(N);
}

static int group_line(Net *N)
{
  StgssaModelDef *d   = N->def;
  size_t          pos = 0;
  Field           idx = next_field(N, &pos), name, list, extra;
  StgssaGroupDef  g;
  const Slot     *e;
  void           *tmp;
  int             rc, cap_s = 0, cap_w = 0;

  memset(&g, 0, sizeof g);
  g.line = N->line;
  if ((rc = check_index(N, idx, d->ngroups + 1, "group"))) return rc;
  name = next_field(N, &pos);
  if (name.n == 0) return fail(N, name.s, "found end of line; expected a group name");
  if (!valid_name(name.s, name.n))
    return fail(N, name.s, "found invalid group name '%.*s%s'; expected [A-Za-z_][A-Za-z0-9_]* of at most %d bytes", qlen(name.n), name.s, ell(name.n), STGSSA_NAME_MAX);
  if ((e = tfind(&N->names, name.s, name.n)))
    return fail(N, name.s, "found group name '%.*s' already used by a %s; expected a new name", qlen(name.n), name.s, kind_name(e->kind));
  list  = next_field(N, &pos);
  extra = next_field(N, &pos);
  if (extra.n) return fail(N, extra.s, "found '%.*s%s' after the species list; expected end of line (no spaces inside the list)", qlen(extra.n), extra.s, ell(extra.n));
  for (size_t i = 0; list.n && i <= list.n;) {
    size_t j = i, k;
    double w = 1.0;
    int    sp;
    while (j < list.n && list.s[j] != ',') j++;
    k = scan_num(list.s + i, j - i);
    if (k > 0 && i + k < j && list.s[i + k] == '*') {
      w = num_value(list.s + i, k);
      i += k + 1;
    }
    if ((rc = species_index(N, list.s + i, j - i, "group list", &sp))) goto fail;
    if (!(tmp = grow(g.species, &cap_s, g.nterms, sizeof *g.species))) goto oom;
    g.species = tmp;
    if (!(tmp = grow(g.weight, &cap_w, g.nterms, sizeof *g.weight))) goto oom;
    g.weight             = tmp;
    g.species[g.nterms]  = sp;
    g.weight[g.nterms++] = w;
    i                    = j + 1;
  }
  if (!(g.name = dup_n(name.s, name.n))) goto oom;
  if (!(tmp = grow(d->groups, &N->cap_g, d->ngroups, sizeof *d->groups))) goto oom;
  d->groups = tmp;
  if (tadd(&N->names, g.name, name.n, K_GROUP, d->ngroups)) goto oom;
  d->groups[d->ngroups++] = g;
  return 0;
oom:
  rc = nomem(N);
fail:
  free(g.name);
  free(g.species);
  free(g.weight);
  return rc;
}

/* ---------------------------------------------------------------- file structure */

static int block_index(Field f)
{
  for (int k = 0; k < B_COUNT; k++)
    if (f.n == strlen(block_names[k]) && !memcmp(f.s, block_names[k], f.n)) return k;
  return -1;
}

static int is_word(Field f, const char *w) { return f.n == strlen(w) && !memcmp(f.s, w, f.n); }

static int parse_net(Net *N, const char *text, size_t len)
{
  size_t p = 0;
  int    cur = B_NONE, last = B_NONE, seen[B_COUNT] = {0}, open_line = 0, rc;

  if (len > INT_MAX / 2) return fail(N, NULL, "found a file of %zu bytes; expected at most %d bytes", len, INT_MAX / 2);
  N->line = 0;
  while (p < len) {
    const char *s = text + p, *nl = memchr(s, '\n', len - p), *hash_at;
    size_t      n = nl ? (size_t)(nl - s) : len - p, pos = 0;
    Field       f, g, h;

    p += n + (nl ? 1 : 0);
    N->line++;
    if (n && s[n - 1] == '\r') n--;
    N->ls = s;
    N->ln = n;
    N->cs = NULL;
    N->cn = 0;
    if ((hash_at = memchr(s, '#', n))) {
      N->cs = hash_at + 1;
      N->cn = n - (size_t)(hash_at + 1 - s);
      N->ln = (size_t)(hash_at - s);
    }
    f = next_field(N, &pos);
    if (f.n == 0) continue;
    if (is_word(f, "begin") || is_word(f, "end")) {
      int k;
      /* block names may have two words (`molecule types`): quote the rest of the line */
      g = next_field(N, &pos);
      h = next_field(N, &pos);
      k = block_index(g);
      if (is_word(f, "begin")) {
        if (cur != B_NONE) return fail(N, f.s, "found 'begin' inside block '%s' (opened at line %d); expected 'end %s'", block_names[cur], open_line, block_names[cur]);
        if (g.n == 0) return fail(N, g.s, "found end of line; expected a block name: 'parameters', 'species', 'reactions' or 'groups'");
        if (k < 0 || h.n)
          return fail(N, g.s, "found unsupported block '%.*s%s%s'; expected 'parameters', 'species', 'reactions' or 'groups'%s", qlen(g.n), g.s, h.n ? " " : "",
                      h.n ? "..." : "", is_word(g, "functions") ? " (functional rate laws are not supported)" : "");
        if (seen[k]) return fail(N, g.s, "found a second '%s' block; expected each block at most once", block_names[k]);
        if (k <= last) return fail(N, g.s, "found block '%s' after block '%s'; expected the order parameters, species, reactions, groups", block_names[k], block_names[last]);
        if ((k == B_REACTIONS || k == B_GROUPS) && !seen[B_SPECIES]) return fail(N, g.s, "found block '%s' before any species block; expected 'begin species' first", block_names[k]);
        if ((k == B_REACTIONS || k == B_GROUPS) && N->def->nspecies == 0) return fail(N, g.s, "found block '%s' after an empty species block; expected at least one species", block_names[k]);
        if (k == B_REACTIONS && !(N->count = calloc((size_t)N->def->nspecies + 1, sizeof *N->count))) return nomem(N);
        seen[k]   = 1;
        cur       = k;
        last      = k;
        open_line = N->line;
      } else {
        if (cur == B_NONE) return fail(N, f.s, "found 'end' outside any block; expected 'begin parameters', 'begin species', 'begin reactions' or 'begin groups'");
        if (k != cur || h.n) return fail(N, g.s, "found '%.*s%s' after 'end'; expected '%s' to close the block opened at line %d", qlen(g.n), g.s, ell(g.n), block_names[cur], open_line);
        cur = B_NONE;
      }
      continue;
    }
    switch (cur) {
    case B_PARAMETERS: rc = parameter_line(N); break;
    case B_SPECIES: rc = species_line(N); break;
    case B_REACTIONS: rc = reaction_line(N); break;
    case B_GROUPS: rc = group_line(N); break;
    default:
      if (f.n >= 15 && !memcmp(f.s, "substanceUnits(", 15)) rc = 0; /* BNG header line, no meaning here */
      else rc = fail(N, f.s, "found text outside any block: '%.*s%s'; expected 'begin parameters', 'begin species', 'begin reactions' or 'begin groups'", qlen(f.n), f.s, ell(f.n));
    }
    if (rc) return rc;
  }
  N->ls = text;
  N->ln = len;
  if (cur != B_NONE) {
    N->line = open_line;
    return fail(N, NULL, "found end of file in the block '%s' opened here; expected 'end %s'", block_names[cur], block_names[cur]);
  }
  N->line = N->line ? N->line : 1;
  if (!seen[B_SPECIES] || N->def->nspecies == 0) return fail(N, NULL, "found no species; expected a 'begin species' block with at least one species");
  if (!seen[B_REACTIONS] || N->def->nreactions == 0) return fail(N, NULL, "found no reactions; expected a 'begin reactions' block with at least one reaction");
  return 0;
}

int StgssaModelDefParseNet(const char *text, size_t len, const char *filename, StgssaModelDef **out, char *err, size_t errlen)
{
  Net             N;
  StgssaModelDef *def;
  int             rc;

  memset(&N, 0, sizeof N);
  N.err    = err;
  N.errlen = errlen;
  N.file   = filename ? filename : "<input>";
  if (err && errlen) err[0] = '\0';
  if (!out) {
    if (err && errlen) snprintf(err, errlen, "StgssaModelDefParseNet: no output argument");
    return STGSSA_PARSE_ESYNTAX;
  }
  *out = NULL;
  if (!text && len) {
    if (err && errlen) snprintf(err, errlen, "StgssaModelDefParseNet: no text");
    return STGSSA_PARSE_ESYNTAX;
  }
  if (!(def = calloc(1, sizeof *def))) return nomem(&N);
  N.def = def;
  if (len == SIZE_MAX || !(def->text = malloc(len + 1)) || !(def->filename = dup_n(N.file, strlen(N.file)))) {
    StgssaModelDefFree(&def);
    return nomem(&N);
  }
  if (len) memcpy(def->text, text, len);
  def->text[len] = '\0';
  rc = parse_net(&N, def->text, len);
  free(N.names.tab);
  free(N.orig.tab);
  free(N.rev_of);
  free(N.count);
  if (rc) {
    StgssaModelDefFree(&def);
    return rc;
  }
  *out = def;
  return STGSSA_PARSE_OK;
}
