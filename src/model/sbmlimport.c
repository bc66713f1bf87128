/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Import of SBML (Level 2 and 3) models into a StgssaModelDef through libSBML's C API. Pure C11
  on top of libsbml: no PETSc, no MPI, so that it can be unit-tested on its own. Compiled only
  when meson finds libsbml (STGSSA_HAVE_SBML); sbmlimport_none.c stands in otherwise.

  Messages: "FILE: SBML element KIND 'ID' (line L): what is wrong" (the line when libsbml knows
  it); XML and SBML read errors of libsbml (severity error or fatal): "FILE:LINE:COL: invalid
  SBML: libsbml's message". libsbml's complaint about a missing encoding in the XML declaration
  (MissingXMLEncoding) is ignored: XML without it is UTF-8.

  Convention: the stochastic propensity is in molecule counts, and the kinetic law IS the
  propensity (no combinatorial factor is added). Units are ignored: amounts are molecule
  counts, the time unit is the model's. In a law a species symbol means its amount (count),
  except for a species with hasOnlySubstanceUnits="false" in a compartment of size V != 1 (and
  spatialDimensions != 0), where SBML says it means the concentration: the symbol is printed as
  (S / V).

  Accepted:
  - Levels 2 and 3 (all versions); Level 1 is refused. Packages required by the document
    (`pkg:required="true"`) are refused; optional ones (layout, render, ...) are ignored.
  - compartments with constant="true" (a missing size is refused only where the size is needed:
    initialConcentration, a concentration species symbol, the compartment in a law). A
    compartment named in a law is replaced by its size as a numeric literal.
  - species: initialAmount, or initialConcentration times the compartment size, must be a whole
    number of molecules (within 1e-9 relative) >= 0 and <= 2^53. boundaryCondition="true" or
    constant="true" species are accepted only when no reaction has them as reactant or product
    (then their count is constant; they may appear in laws and as modifiers).
  - global parameters with a value, finite and >= 0 (constant="false" is accepted).
  - assignment rules (collect_rules): the variable is a parameter, or a species that no reaction
    changes. A rule reading species or the time (directly, through other rules or function
    bodies) is a quantity of the state: not a parameter or species of the definition; its math
    is inlined (in parentheses, global scope) wherever a law reads it; when it is a sum of species
    with number weights it becomes a group named by its variable (observable), else a
    StgssaRuleDef. A rule reading parameters only is a derived parameter (StgssaParamDef.expr).
  - initial assignments to parameters (derived parameters) and species (init_expr; a
    concentration species: times the compartment size), reading parameters, numbers and
    compartments only. Derived values are evaluated at the end (StgssaModelDefUpdateDerived) and
    after every override.
  - local parameters of kinetic laws become model parameters named REACTION_PARAM; when that
    name is taken (by any SBML id, an earlier generated name or the time symbol) or longer than
    STGSSA_NAME_MAX, the first free of REACTION_PARAM_2, _3, ... (cut to fit) is used. Global
    parameters come first in document order, then the local ones reaction by reaction.
  - reactions with a kinetic law; reactants and products with an integer stoichiometry
    1..STGSSA_STOICH_MAX (0 drops the term; several references to one species are merged);
    modifiers are ignored (they may appear in the law). reversible="true" is one reaction whose
    propensity is the law (the net rate): the engine refuses a negative propensity at run time.
    Reactions NAME and NAME_reverse with swapped sides form the labelled pair NAME (the `<->`
    pair of the native format); every other reaction is labelled with its id.
  - kinetic-law MathML: plus, minus (unary, binary), times, divide, power, exp, ln (log), log
    (base 10 or logbase), root of degree 2 (sqrt), abs (max(x,-x)), min, max, piecewise with an
    otherwise (nested if), eq neq gt lt geq leq (binary), and or not xor(binary) (as 0/1
    arithmetic), numbers (integer, real, e-notation, rational; finite), true, false, pi,
    exponentiale, avogadro, names of species, parameters, local parameters and compartments,
    the time csymbol (printed t, or t_1, t_2, ... when t is an SBML id), and calls of function
    definitions, which are inlined (arguments substituted; nesting at most 32 deep).
  - Mass action: a law that is a product (any order, nested) of exactly one parameter (or
    none), numbers, compartments and the reactants, each reactant once and with coefficient 1,
    is stored as a native mass-action reaction (law = NULL, param = the parameter, factor = the
    numbers times the compartment sizes times 1/V for every concentration species): the engine
    uses its fast path, and the propensity equals the law. Every other law is compiled with
    StgssaExprCompile and stored with law_full = 1.
  Refused (message naming the element and why): events, rate rules, algebraic rules, rules and
  initial assignments to compartments or stoichiometries, assignment rules to a species a
  reaction changes, cycles of rules, initial assignments reading species or the time, constraints, non-constant compartments,
  conversion factors, fast reactions, reactions without kinetic law (or math), reactions without
  reactants and products, stoichiometryMath, a non-integer, negative or unset (Level 3)
  stoichiometry, boundary or constant species that a reaction changes, other MathML (delay,
  lambda outside a function definition, trigonometric and hyperbolic functions, factorial,
  floor, ceiling, rem, quotient, implies, rateOf, root of another degree, n-ary relations,
  piecewise without otherwise, distrib functions, ...), reaction ids and species-reference ids
  in math, ids longer than STGSSA_NAME_MAX bytes.
*/
#include <stgssa/modeldef.h>
#include <stgssa/expr.h>

#include <sbml/SBMLTypes.h>
#include <sbml/xml/XMLNamespaces.h>

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lex_util.h"

#define MAX_INLINE_DEPTH 32
#define MAX_LAW_TEXT     (1u << 20) /* longest printed law (function inlining can blow up) */

/* ---------------------------------------------------------------- growing strings */

typedef struct {
  char  *s;
  size_t n, cap;
  int    oom;
} Buf;

static void bput(Buf *b, const char *s, size_t n)
{
  if (b->oom) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    char  *t;
    while (cap < b->n + n + 1) cap *= 2;
    if (!(t = realloc(b->s, cap))) {
      b->oom = 1;
      return;
    }
    b->s   = t;
    b->cap = cap;
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = '\0';
}

static void bputs(Buf *b, const char *s) { bput(b, s, strlen(s)); }

static void bnum(Buf *b, double v) /* shortest round-trip form; negative in parentheses */
{
  char t[64];
  snprintf(t, sizeof t, "%.15g", fabs(v));
  if (strtod(t, NULL) != fabs(v)) snprintf(t, sizeof t, "%.17g", fabs(v));
  if (v < 0) bputs(b, "(-");
  bputs(b, t);
  if (v < 0) bputs(b, ")");
}

/* ---------------------------------------------------------------- name set */

typedef struct {
  const char **tab;
  size_t       cap, used;
} NameSet;

static size_t hash_str(const char *s)
{
  uint64_t h = UINT64_C(14695981039346656037);
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= UINT64_C(1099511628211);
  }
  return (size_t)h;
}

static int nset_has(const NameSet *t, const char *s)
{
  if (!t->cap) return 0;
  for (size_t i = hash_str(s) & (t->cap - 1); t->tab[i]; i = (i + 1) & (t->cap - 1))
    if (!strcmp(t->tab[i], s)) return 1;
  return 0;
}

/* s must outlive the set; returns -1 when out of memory */
static int nset_add(NameSet *t, const char *s)
{
  size_t i;
  if (!s || nset_has(t, s)) return 0;
  if ((t->used + 1) * 2 > t->cap) {
    size_t       cap = t->cap ? 2 * t->cap : 64;
    const char **tab = calloc(cap, sizeof *tab);
    if (!tab) return -1;
    for (size_t k = 0; k < t->cap; k++)
      if (t->tab[k]) {
        for (i = hash_str(t->tab[k]) & (cap - 1); tab[i]; i = (i + 1) & (cap - 1)) {}
        tab[i] = t->tab[k];
      }
    free(t->tab);
    t->tab = tab;
    t->cap = cap;
  }
  for (i = hash_str(s) & (t->cap - 1); t->tab[i]; i = (i + 1) & (t->cap - 1)) {}
  t->tab[i] = s;
  t->used++;
  return 0;
}

/* ---------------------------------------------------------------- importer state */

/* An assignment rule (or, for kind RV_INIT, an initial assignment). RV_INLINE: the variable's
   value depends on the state (species or time): it is not a model parameter or species; its
   math is inlined wherever it is read, and it is an observable when it is an integer-weighted
   sum of species. RV_DERIVED: a parameter-only rule of a parameter: a derived parameter. */
enum { RV_UNKNOWN = 0, RV_INLINE = 1, RV_DERIVED = 2 };
struct RuleVar {
  const char      *var;
  const ASTNode_t *math;
  const void      *sb;      /* the rule or initial assignment (line) */
  int              init;    /* 1: an initial assignment */
  int              species; /* the variable is a species */
  int              kind;    /* RV_* (assignment rules) */
  int              state;   /* 0 unvisited, 1 being classified or printed (cycle check), 2 done */
};

typedef struct {
  int    nlocal;
  char **sbml_id; /* local parameter ids (borrowed from libsbml) */
  int   *param;   /* their indices into def->params */
} Locals;

/* A function-definition frame: its argument names and the printed text of each argument. */
typedef struct {
  const char  *fname;
  int          n;
  const char **names;
  char       **texts;
} Frame;

typedef struct {
  const char     *file;
  char           *err;
  size_t          errlen;
  SBMLDocument_t *doc;
  Model_t        *m;
  StgssaModelDef *def;
  int             cap_p;
  NameSet         ids;       /* every SBML id and every generated name */
  char            time_name[STGSSA_NAME_MAX + 1];
  /* context of the law being converted (for messages) */
  const char     *ctx_kind, *ctx_id;
  unsigned        ctx_line;
  const Locals   *locals;
  int             depth;
  int            *count;     /* scratch [nspecies] */
  int             nrules;
  struct RuleVar *rules;     /* assignment rules and initial assignments (collect_rules) */
} Imp;

static int vfail(Imp *I, const char *kind, const char *id, unsigned line, const char *fmt, va_list ap)
{
  size_t used;
  if (!I->err || !I->errlen) return STGSSA_PARSE_ESYNTAX;
  if (line) snprintf(I->err, I->errlen, "%s: SBML element %s '%s' (line %u): ", I->file, kind, id ? id : "", line);
  else snprintf(I->err, I->errlen, "%s: SBML element %s '%s': ", I->file, kind, id ? id : "");
  used = strlen(I->err);
  if (used + 1 < I->errlen) vsnprintf(I->err + used, I->errlen - used, fmt, ap);
  return STGSSA_PARSE_ESYNTAX;
}

static int fail(Imp *I, const char *kind, const char *id, const void *sb, const char *fmt, ...)
{
  va_list ap;
  int     rc;
  va_start(ap, fmt);
  rc = vfail(I, kind, id, sb ? SBase_getLine((const SBase_t *)sb) : 0, fmt, ap);
  va_end(ap);
  return rc;
}

/* failure inside the math being converted: names the element that holds it */
static int mfail(Imp *I, const char *fmt, ...)
{
  va_list ap;
  int     rc;
  va_start(ap, fmt);
  rc = vfail(I, I->ctx_kind, I->ctx_id, I->ctx_line, fmt, ap);
  va_end(ap);
  return rc;
}

/* failure of the document as a whole: "FILE: message" or "FILE:LINE: message" */
static int docfail(Imp *I, unsigned line, const char *fmt, ...)
{
  va_list ap;
  size_t  used;
  if (!I->err || !I->errlen) return STGSSA_PARSE_ESYNTAX;
  if (line) snprintf(I->err, I->errlen, "%s:%u: ", I->file, line);
  else snprintf(I->err, I->errlen, "%s: ", I->file);
  used = strlen(I->err);
  va_start(ap, fmt);
  if (used + 1 < I->errlen) vsnprintf(I->err + used, I->errlen - used, fmt, ap);
  va_end(ap);
  return STGSSA_PARSE_ESYNTAX;
}

static int nomem(Imp *I)
{
  if (I->err && I->errlen) snprintf(I->err, I->errlen, "%s: out of memory", I->file);
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

static int valid_name(const char *s)
{
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > STGSSA_NAME_MAX || !is_name_start(uc(s, 0))) return 0;
  for (size_t i = 1; i < n; i++)
    if (!is_name_char(uc(s, i))) return 0;
  return 1;
}

static int check_id(Imp *I, const char *kind, const char *id, const void *sb)
{
  if (!id || !*id) return fail(I, kind, "", sb, "has no id");
  if (strlen(id) > STGSSA_NAME_MAX) return fail(I, kind, id, sb, "id is longer than %d bytes", STGSSA_NAME_MAX);
  if (!valid_name(id)) return fail(I, kind, id, sb, "id is not a name [A-Za-z_][A-Za-z0-9_]*");
  return 0;
}

/* ---------------------------------------------------------------- compartments and species */

/* Size of a compartment: 0 and *V set, or an error naming who needs it. */
static int compartment_size(Imp *I, const Compartment_t *c, const char *needed_by, double *V)
{
  const char *id = Compartment_getId(c);
  if (!Compartment_isSetSize(c)) return fail(I, "compartment", id, c, "has no size, which %s needs", needed_by);
  *V = Compartment_getSize(c);
  return 0;
}

/* 1 when the symbol of species s means its concentration: hasOnlySubstanceUnits="false" in a
   compartment of size != 1 and spatialDimensions != 0. *V receives the size. */
static int species_is_concentration(Imp *I, const Species_t *s, double *V, int *rc)
{
  const Compartment_t *c = Model_getCompartmentById(I->m, Species_getCompartment(s));
  double               dim;
  *rc = 0;
  *V  = 1.0;
  if (Species_getHasOnlySubstanceUnits(s) || !c) return 0;
  dim = Compartment_getSpatialDimensionsAsDouble(c);
  if (Compartment_isSetSpatialDimensions(c) && dim == 0) return 0;
  if (!Compartment_isSetSize(c)) {
    char what[160];
    snprintf(what, sizeof what, "the symbol of species '%s' (hasOnlySubstanceUnits=\"false\": a concentration)", Species_getId(s));
    *rc = compartment_size(I, c, what, V);
    return 0;
  }
  *V = Compartment_getSize(c);
  return *V != 1.0;
}

/* ---------------------------------------------------------------- MathML to expression text */

static int print_ast(Imp *I, const ASTNode_t *a, const Frame *env, Buf *b);
static struct RuleVar *find_rule(const Imp *I, const char *name, int init);

static const char *ast_name(const ASTNode_t *a)
{
  switch (ASTNode_getType(a)) {
  case AST_FUNCTION_DELAY: return "delay";
  case AST_LAMBDA: return "lambda";
  case AST_FUNCTION_RATE_OF: return "rateOf";
  case AST_FUNCTION_FACTORIAL: return "factorial";
  case AST_FUNCTION_FLOOR: return "floor";
  case AST_FUNCTION_CEILING: return "ceiling";
  case AST_FUNCTION_REM: return "rem";
  case AST_FUNCTION_QUOTIENT: return "quotient";
  case AST_LOGICAL_IMPLIES: return "implies";
  default: {
    const char *n = ASTNode_getName(a);
    return n && *n ? n : "an unknown MathML element";
  }
  }
}

/* value of a number node (integer, real, e-notation, rational) */
static double number_value(const ASTNode_t *a)
{
  switch (ASTNode_getType(a)) {
  case AST_INTEGER: return (double)ASTNode_getInteger(a);
  case AST_RATIONAL: return ASTNode_getDenominator(a) ? (double)ASTNode_getNumerator(a) / (double)ASTNode_getDenominator(a) : (double)NAN;
  default: return ASTNode_getReal(a);
  }
}

static int print_children(Imp *I, const ASTNode_t *a, const Frame *env, Buf *b, const char *open, const char *sep, const char *close)
{
  unsigned n = ASTNode_getNumChildren(a);
  int      rc;
  bputs(b, open);
  for (unsigned i = 0; i < n; i++) {
    if (i) bputs(b, sep);
    if ((rc = print_ast(I, ASTNode_getChild(a, i), env, b))) return rc;
  }
  bputs(b, close);
  return 0;
}

/* min/max of n >= 1 children, nested to the right */
static int print_minmax(Imp *I, const ASTNode_t *a, const Frame *env, Buf *b, const char *fn, unsigned from)
{
  unsigned n = ASTNode_getNumChildren(a);
  int      rc;
  if (from + 1 == n) return print_ast(I, ASTNode_getChild(a, from), env, b);
  bputs(b, fn);
  bputs(b, "(");
  if ((rc = print_ast(I, ASTNode_getChild(a, from), env, b))) return rc;
  bputs(b, ", ");
  if ((rc = print_minmax(I, a, env, b, fn, from + 1))) return rc;
  bputs(b, ")");
  return 0;
}

/* piecewise(v1, c1, v2, c2, ..., otherwise) from child `from` */
static int print_piecewise(Imp *I, const ASTNode_t *a, const Frame *env, Buf *b, unsigned from)
{
  unsigned n = ASTNode_getNumChildren(a);
  int      rc;
  if (from + 1 == n) return print_ast(I, ASTNode_getChild(a, from), env, b);
  bputs(b, "if(");
  if ((rc = print_ast(I, ASTNode_getChild(a, from + 1), env, b))) return rc;
  bputs(b, ", ");
  if ((rc = print_ast(I, ASTNode_getChild(a, from), env, b))) return rc;
  bputs(b, ", ");
  if ((rc = print_piecewise(I, a, env, b, from + 2))) return rc;
  bputs(b, ")");
  return 0;
}

/* logical operators as 0/1 arithmetic: each operand becomes (x != 0) */
static int print_logical(Imp *I, const ASTNode_t *a, const Frame *env, Buf *b, const char *sep, const char *empty, const char *open, const char *close)
{
  unsigned n = ASTNode_getNumChildren(a);
  int      rc;
  if (n == 0) {
    bputs(b, empty);
    return 0;
  }
  bputs(b, open);
  for (unsigned i = 0; i < n; i++) {
    if (i) bputs(b, sep);
    bputs(b, "(");
    if ((rc = print_ast(I, ASTNode_getChild(a, i), env, b))) return rc;
    bputs(b, " != 0)");
  }
  bputs(b, close);
  return 0;
}

static int print_name(Imp *I, const ASTNode_t *a, const Frame *env, Buf *b)
{
  const char          *nm = ASTNode_getName(a);
  const Species_t     *s;
  const Compartment_t *c;
  int                  rc;

  if (!nm || !*nm) return mfail(I, "math has a <ci> without a name");
  if (env) { /* inside a function definition: its arguments only */
    for (int i = 0; i < env->n; i++)
      if (!strcmp(env->names[i], nm)) {
        bputs(b, "(");
        bputs(b, env->texts[i]);
        bputs(b, ")");
        return 0;
      }
    return mfail(I, "function definition '%s' uses '%s', which is not one of its arguments", env->fname, nm);
  }
  if (I->locals)
    for (int i = 0; i < I->locals->nlocal; i++)
      if (!strcmp(I->locals->sbml_id[i], nm)) {
        bputs(b, I->def->params[I->locals->param[i]].name);
        return 0;
      }
  { /* a variable of an assignment rule that reads the state: its math, inlined (global scope) */
    struct RuleVar *rv = find_rule(I, nm, 0);
    if (rv && rv->kind == RV_INLINE) {
      const Locals *L = I->locals;
      if (I->depth >= MAX_INLINE_DEPTH) return mfail(I, "assignment rules nest more than %d deep (at '%s')", MAX_INLINE_DEPTH, nm);
      I->locals = NULL;
      I->depth++;
      bputs(b, "(");
      rc = print_ast(I, rv->math, NULL, b);
      bputs(b, ")");
      I->depth--;
      I->locals = L;
      return rc;
    }
  }
  if ((s = Model_getSpeciesById(I->m, nm))) {
    double V;
    if (species_is_concentration(I, s, &V, &rc)) {
      bputs(b, "(");
      bputs(b, nm);
      bputs(b, " / ");
      bnum(b, V);
      bputs(b, ")");
    } else if (rc) return rc;
    else bputs(b, nm);
    return 0;
  }
  if (Model_getParameterById(I->m, nm)) {
    bputs(b, nm);
    return 0;
  }
  if ((c = Model_getCompartmentById(I->m, nm))) {
    double V = 0;
    char   what[160];
    snprintf(what, sizeof what, "the math of %s '%s'", I->ctx_kind, I->ctx_id);
    if ((rc = compartment_size(I, c, what, &V))) return rc;
    bnum(b, V);
    return 0;
  }
  if (Model_getReactionById(I->m, nm)) return mfail(I, "math uses reaction '%s' (reaction rates in math are not supported)", nm);
  if (Model_getSpeciesReferenceById(I->m, nm)) return mfail(I, "math uses species reference '%s' (stoichiometries in math are not supported)", nm);
  return mfail(I, "math uses '%s', which is not a species, parameter, local parameter or compartment", nm);
}

static int print_call(Imp *I, const ASTNode_t *a, const Frame *env, Buf *b)
{
  const char                 *nm = ASTNode_getName(a);
  const FunctionDefinition_t *fd = nm ? Model_getFunctionDefinitionById(I->m, nm) : NULL;
  const ASTNode_t            *body;
  unsigned                    n = ASTNode_getNumChildren(a), na;
  Frame                       f;
  int                         rc = 0;

  if (!fd) return mfail(I, "math calls '%s', which is not a function definition", nm ? nm : "");
  na   = FunctionDefinition_getNumArguments(fd);
  body = FunctionDefinition_getBody(fd);
  if (!body) return fail(I, "functionDefinition", nm, fd, "has no body");
  if (na != n) return mfail(I, "math calls function '%s' with %u arguments; it takes %u", nm, n, na);
  if (I->depth >= MAX_INLINE_DEPTH) return mfail(I, "function calls nest more than %d deep (at '%s'; recursive function definitions?)", MAX_INLINE_DEPTH, nm);
  memset(&f, 0, sizeof f);
  f.fname = nm;
  f.n     = (int)n;
  if (n && (!(f.names = calloc(n, sizeof *f.names)) || !(f.texts = calloc(n, sizeof *f.texts)))) {
    free(f.names);
    return nomem(I);
  }
  for (unsigned i = 0; i < n && !rc; i++) {
    const ASTNode_t *arg = FunctionDefinition_getArgument(fd, i);
    Buf              t   = {0};
    f.names[i]           = arg ? ASTNode_getName(arg) : NULL;
    if (!f.names[i]) {
      rc = fail(I, "functionDefinition", nm, fd, "argument %u has no name", i + 1);
      break;
    }
    rc = print_ast(I, ASTNode_getChild(a, i), env, &t);
    if (!rc && (t.oom || !t.s)) rc = nomem(I);
    f.texts[i] = t.s;
  }
  if (!rc) {
    I->depth++;
    bputs(b, "(");
    rc = print_ast(I, body, &f, b);
    bputs(b, ")");
    I->depth--;
  }
  for (unsigned i = 0; i < n; i++) free(f.texts[i]);
  free(f.texts);
  free(f.names);
  return rc;
}

static const char supported[] = "supported: + - * / power exp ln log root(2) abs min max piecewise relations and or not xor, numbers, names, time, function definitions";

static int print_ast(Imp *I, const ASTNode_t *a, const Frame *env, Buf *b)
{
  unsigned n;
  int      rc;

  if (!a) return mfail(I, "has no math");
  if (b->oom) return nomem(I);
  if (b->n > MAX_LAW_TEXT) return mfail(I, "math is longer than %u bytes once function definitions are inlined", MAX_LAW_TEXT);
  n = ASTNode_getNumChildren(a);
  switch (ASTNode_getType(a)) {
  case AST_INTEGER: bnum(b, (double)ASTNode_getInteger(a)); return 0;
  case AST_REAL:
  case AST_REAL_E:
  case AST_NAME_AVOGADRO: {
    double v = ASTNode_getReal(a);
    if (!isfinite(v)) return mfail(I, "math has the number %g; expected a finite number", v);
    bnum(b, v);
    return 0;
  }
  case AST_RATIONAL: {
    long num = ASTNode_getNumerator(a), den = ASTNode_getDenominator(a);
    if (den == 0) return mfail(I, "math has the rational number %ld/0", num);
    bputs(b, "(");
    bnum(b, (double)num);
    bputs(b, " / ");
    bnum(b, (double)den);
    bputs(b, ")");
    return 0;
  }
  case AST_CONSTANT_TRUE: bputs(b, "1"); return 0;
  case AST_CONSTANT_FALSE: bputs(b, "0"); return 0;
  case AST_CONSTANT_PI: bnum(b, 3.14159265358979323846); return 0;
  case AST_CONSTANT_E: bputs(b, "exp(1)"); return 0;
  case AST_NAME: return print_name(I, a, env, b);
  case AST_NAME_TIME: bputs(b, I->time_name); return 0;
  case AST_PLUS:
    if (n == 0) {
      bputs(b, "0");
      return 0;
    }
    return print_children(I, a, env, b, "(", " + ", ")");
  case AST_MINUS:
    if (n == 1) return print_children(I, a, env, b, "(-", "", ")");
    if (n == 2) return print_children(I, a, env, b, "(", " - ", ")");
    return mfail(I, "math has <minus/> with %u arguments; expected 1 or 2", n);
  case AST_TIMES:
    if (n == 0) {
      bputs(b, "1");
      return 0;
    }
    return print_children(I, a, env, b, "(", " * ", ")");
  case AST_DIVIDE:
    if (n != 2) return mfail(I, "math has <divide/> with %u arguments; expected 2", n);
    return print_children(I, a, env, b, "(", " / ", ")");
  case AST_POWER:
  case AST_FUNCTION_POWER:
    if (n != 2) return mfail(I, "math has <power/> with %u arguments; expected 2", n);
    return print_children(I, a, env, b, "(", " ^ ", ")");
  case AST_FUNCTION_EXP:
    if (n != 1) return mfail(I, "math has <exp/> with %u arguments; expected 1", n);
    return print_children(I, a, env, b, "exp(", "", ")");
  case AST_FUNCTION_LN:
    if (n != 1) return mfail(I, "math has <ln/> with %u arguments; expected 1", n);
    return print_children(I, a, env, b, "log(", "", ")");
  case AST_FUNCTION_LOG:
    if (n == 1) {
      bputs(b, "(log(");
      if ((rc = print_ast(I, ASTNode_getChild(a, 0), env, b))) return rc;
      bputs(b, ") / log(10))");
      return 0;
    }
    if (n == 2) { /* child 0 is the logbase */
      bputs(b, "(log(");
      if ((rc = print_ast(I, ASTNode_getChild(a, 1), env, b))) return rc;
      bputs(b, ") / log(");
      if ((rc = print_ast(I, ASTNode_getChild(a, 0), env, b))) return rc;
      bputs(b, "))");
      return 0;
    }
    return mfail(I, "math has <log/> with %u arguments; expected 1 or 2", n);
  case AST_FUNCTION_ROOT:
    if (n == 1) return print_children(I, a, env, b, "sqrt(", "", ")");
    if (n == 2) {
      const ASTNode_t *deg = ASTNode_getChild(a, 0);
      if (ASTNode_isNumber(deg) && number_value(deg) == 2.0) {
        bputs(b, "sqrt(");
        if ((rc = print_ast(I, ASTNode_getChild(a, 1), env, b))) return rc;
        bputs(b, ")");
        return 0;
      }
      return mfail(I, "math has <root/> of a degree other than 2, which is not supported (%s)", supported);
    }
    return mfail(I, "math has <root/> with %u arguments; expected 1 or 2", n);
  case AST_FUNCTION_ABS:
    if (n != 1) return mfail(I, "math has <abs/> with %u arguments; expected 1", n);
    bputs(b, "max(");
    if ((rc = print_ast(I, ASTNode_getChild(a, 0), env, b))) return rc;
    bputs(b, ", (-");
    if ((rc = print_ast(I, ASTNode_getChild(a, 0), env, b))) return rc;
    bputs(b, "))");
    return 0;
  case AST_FUNCTION_MIN:
  case AST_FUNCTION_MAX:
    if (n == 0) return mfail(I, "math has <%s/> without arguments", ASTNode_getType(a) == AST_FUNCTION_MIN ? "min" : "max");
    return print_minmax(I, a, env, b, ASTNode_getType(a) == AST_FUNCTION_MIN ? "min" : "max", 0);
  case AST_FUNCTION_PIECEWISE:
    if (n % 2 == 0) return mfail(I, "math has <piecewise> without <otherwise>, which is not supported (the value would be undefined)");
    return print_piecewise(I, a, env, b, 0);
  case AST_RELATIONAL_EQ:
  case AST_RELATIONAL_NEQ:
  case AST_RELATIONAL_GT:
  case AST_RELATIONAL_LT:
  case AST_RELATIONAL_GEQ:
  case AST_RELATIONAL_LEQ: {
    static const char *ops[] = {" == ", " >= ", " > ", " <= ", " < ", " != "};
    int                k     = (int)ASTNode_getType(a) - (int)AST_RELATIONAL_EQ;
    if (n != 2) return mfail(I, "math has <%s/> with %u arguments; expected 2 (chained relations are not supported)", ast_name(a), n);
    return print_children(I, a, env, b, "(", ops[k], ")");
  }
  case AST_LOGICAL_AND: return print_logical(I, a, env, b, " * ", "1", "(", ")");
  case AST_LOGICAL_OR: return print_logical(I, a, env, b, " + ", "0", "((", ") > 0)");
  case AST_LOGICAL_NOT:
    if (n != 1) return mfail(I, "math has <not/> with %u arguments; expected 1", n);
    return print_children(I, a, env, b, "((", "", ") == 0)");
  case AST_LOGICAL_XOR:
    if (n != 2) return mfail(I, "math has <xor/> with %u arguments; expected 2", n);
    return print_logical(I, a, env, b, " != ", "0", "(", ")");
  case AST_FUNCTION: return print_call(I, a, env, b);
  default: return mfail(I, "math uses <%s>, which is not supported (%s)", ast_name(a), supported);
  }
}

/* ---------------------------------------------------------------- laws */

static StgssaExprVarKind resolve(void *ctx, const char *name, size_t len, int *index)
{
  Imp *I = ctx;
  char buf[STGSSA_NAME_MAX + 1];
  int  k;
  if (len > STGSSA_NAME_MAX) return STGSSA_EXPR_UNKNOWN;
  memcpy(buf, name, len);
  buf[len] = '\0';
  if (!strcmp(buf, I->time_name)) return STGSSA_EXPR_TIME;
  if ((k = StgssaModelDefFindSpecies(I->def, buf)) >= 0) {
    *index = k;
    return STGSSA_EXPR_SPECIES;
  }
  if ((k = StgssaModelDefFindParam(I->def, buf)) >= 0) {
    *index = k;
    return STGSSA_EXPR_PARAM;
  }
  return STGSSA_EXPR_UNKNOWN;
}

static void flatten_times(const ASTNode_t *a, const ASTNode_t **leaf, int *nleaf, int cap)
{
  if (ASTNode_getType(a) == AST_TIMES) {
    for (unsigned i = 0; i < ASTNode_getNumChildren(a); i++) flatten_times(ASTNode_getChild(a, i), leaf, nleaf, cap);
    return;
  }
  if (*nleaf < cap) leaf[*nleaf] = a;
  (*nleaf)++;
}

/* 1 if the law is mass action for r (see the header comment); sets r->factor and r->param. */
static int mass_action(Imp *I, const ASTNode_t *law, StgssaReactionDef *r)
{
  enum { CAP = 64 };
  const ASTNode_t *leaf[CAP];
  int              nleaf = 0, param = -1, ok = 1, rc;
  double           factor = 1.0;

  flatten_times(law, leaf, &nleaf, CAP);
  if (nleaf > CAP) return 0;
  for (int s = 0; s < I->def->nspecies; s++) I->count[s] = 0;
  for (int i = 0; i < nleaf && ok; i++) {
    const ASTNode_t     *a = leaf[i];
    const char          *nm;
    const Species_t     *sp;
    const Compartment_t *c;
    int                  k = -1;
    switch (ASTNode_getType(a)) {
    case AST_INTEGER:
    case AST_REAL:
    case AST_REAL_E:
    case AST_RATIONAL: factor *= number_value(a); break;
    case AST_NAME:
      nm = ASTNode_getName(a);
      if (!nm) return 0;
      for (int j = 0; I->locals && j < I->locals->nlocal; j++)
        if (!strcmp(I->locals->sbml_id[j], nm)) k = I->locals->param[j];
      if (k >= 0 || Model_getParameterById(I->m, nm)) {
        if (k < 0) k = StgssaModelDefFindParam(I->def, nm);
        if (k < 0 || param >= 0) return 0;
        param = k;
      } else if ((sp = Model_getSpeciesById(I->m, nm))) {
        double V;
        k = StgssaModelDefFindSpecies(I->def, nm);
        if (k < 0) return 0;
        if (species_is_concentration(I, sp, &V, &rc)) factor /= V;
        else if (rc) return 0; /* the printer reports it */
        I->count[k]++;
      } else if ((c = Model_getCompartmentById(I->m, nm)) && Compartment_isSetSize(c)) {
        factor *= Compartment_getSize(c);
      } else return 0;
      break;
    default: ok = 0;
    }
  }
  if (!ok || !isfinite(factor) || !(factor > 0)) return 0;
  for (int i = 0; i < r->nreact; i++)
    if (r->react[i].coef != 1 || I->count[r->react[i].species] != 1) return 0;
  {
    int nsp = 0;
    for (int s = 0; s < I->def->nspecies; s++) nsp += I->count[s];
    if (nsp != r->nreact) return 0;
  }
  r->factor = factor;
  r->param  = param;
  return 1;
}

static int convert_law(Imp *I, Reaction_t *rx, KineticLaw_t *kl, StgssaReactionDef *r)
{
  const ASTNode_t *law = KineticLaw_getMath(kl);
  Buf              b   = {0};
  char             cerr[512];
  int              rc;

  if (!law) return fail(I, "reaction", Reaction_getId(rx), rx, "kinetic law has no math");
  if (mass_action(I, law, r)) return 0;
  if ((rc = print_ast(I, law, NULL, &b))) {
    free(b.s);
    return rc;
  }
  if (b.oom || !b.s) {
    free(b.s);
    return nomem(I);
  }
  rc = StgssaExprCompile(b.s, b.n, I->file, (int)SBase_getLine((const SBase_t *)kl), 1, resolve, I, &r->law, cerr, sizeof cerr);
  if (rc == STGSSA_PARSE_ENOMEM) rc = nomem(I);
  else if (rc) { /* the compiler's "file:line:col: " refers to the converted text: drop it */
    const char *msg = cerr;
    size_t      fl  = strlen(I->file);
    if (!strncmp(msg, I->file, fl) && msg[fl] == ':') {
      const char *q = msg + fl + 1;
      while (is_digit(uc(q, 0)) || *q == ':') q++;
      if (*q == ' ') msg = q + 1;
    }
    rc = fail(I, "reaction", Reaction_getId(rx), rx, "kinetic law cannot be used: %s (the law as converted: %.200s%s)", msg, b.s, b.n > 200 ? "..." : "");
  }
  free(b.s);
  if (rc) return rc;
  r->factor   = 1.0;
  r->param    = -1;
  r->law_full = 1;
  return 0;
}

/* ---------------------------------------------------------------- model parts */

static int check_document(Imp *I)
{
  SBMLDocument_t        *d = I->doc;
  const XMLNamespaces_t *ns;
  unsigned               n = SBMLDocument_getNumErrors(d);

  for (unsigned i = 0; i < n; i++) {
    const SBMLError_t *e = SBMLDocument_getError(d, i);
    const XMLError_t  *x = (const XMLError_t *)e;
    if (XMLError_getSeverity(x) < LIBSBML_SEV_ERROR || XMLError_getErrorId(x) == MissingXMLEncoding) continue;
    if (I->err && I->errlen) {
      const char *msg = XMLError_getMessage(x);
      char        clean[400];
      size_t      k = 0;
      int         sp = 0;
      for (; msg && *msg && k + 1 < sizeof clean; msg++) { /* one line, blanks collapsed */
        int c = (unsigned char)*msg;
        if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
          sp = k > 0;
          continue;
        }
        if (sp && k + 2 < sizeof clean) clean[k++] = ' ';
        sp         = 0;
        clean[k++] = (char)c;
      }
      clean[k] = '\0';
      snprintf(I->err, I->errlen, "%s:%u:%u: invalid SBML: %s", I->file, XMLError_getLine(x), XMLError_getColumn(x), k ? clean : "(no message)");
    }
    return STGSSA_PARSE_ESYNTAX;
  }
  if (SBMLDocument_getLevel(d) < 2) return docfail(I, SBase_getLine((const SBase_t *)d), "SBML Level %u is not supported; convert the file to Level 2 or 3", SBMLDocument_getLevel(d));
  if ((ns = SBMLDocument_getNamespaces(d))) {
    for (int i = 0; i < XMLNamespaces_getLength(ns); i++) {
      char *uri = XMLNamespaces_getURI(ns, i);
      int   req = 0;
      size_t ul = uri ? strlen(uri) : 0;
      if (ul > 40 && strstr(uri, "http://www.sbml.org/sbml/level3/version") == uri && strcmp(uri + ul - 5, "/core")) /* a package namespace */
        req = SBMLDocument_getPackageRequired(d, uri) == 1;
      if (req) {
        int rc = docfail(I, SBase_getLine((const SBase_t *)d), "the document requires the SBML package %s, which is not supported", uri);
        free(uri);
        return rc;
      }
      free(uri);
    }
  }
  if (!(I->m = SBMLDocument_getModel(d))) return docfail(I, SBase_getLine((const SBase_t *)d), "the SBML document has no model");
  return 0;
}

static int refuse_unsupported(Imp *I)
{
  Model_t *m = I->m;
  if (Model_getNumEvents(m)) {
    const Event_t *e = Model_getEvent(m, 0);
    return fail(I, "event", Event_getId(e), e,
                "events are not supported (an event changes the state at a trigger outside the reactions; in the native format use `begin events`, or write the change as reactions)");
  }
  for (unsigned i = 0; i < Model_getNumRules(m); i++) {
    const Rule_t *r   = Model_getRule(m, i);
    const char   *var = Rule_isSetVariable(r) ? Rule_getVariable(r) : "";
    if (Rule_isRate(r))
      return fail(I, "rateRule", var, r,
                  "rate rules are not supported (a quantity changed continuously by a differential equation has no place in an exact stochastic simulation, where counts change only by reactions; write the change as reactions)");
    if (Rule_isAlgebraic(r))
      return fail(I, "algebraicRule", "", r, "algebraic rules are not supported (an implicit constraint between quantities has no exact stochastic form; write the quantity as an assignment rule or through reactions)");
  }
  if (Model_getNumConstraints(m)) {
    const Constraint_t *c = Model_getConstraint(m, 0);
    return fail(I, "constraint", "", c, "constraints are not supported");
  }
  if (Model_isSetConversionFactor(m)) return fail(I, "model", Model_getId(m), m, "conversionFactor is not supported");
  return 0;
}

static struct RuleVar *find_rule(const Imp *I, const char *name, int init)
{
  for (int i = 0; i < I->nrules; i++)
    if (I->rules[i].init == init && !strcmp(I->rules[i].var, name)) return &I->rules[i];
  return NULL;
}

/* 1 if the math reads the state (a species that is not a derived-parameter rule, the time, an
   inline rule); classifies the rules it reads on the way. -1 on a cycle or error (reported). */
static int classify(Imp *I, struct RuleVar *rv);
static int ast_uses_state(Imp *I, const ASTNode_t *a)
{
  int r = 0;
  if (!a) return 0;
  if (ASTNode_getType(a) == AST_NAME_TIME) return 1;
  if (ASTNode_getType(a) == AST_NAME) {
    const char     *nm = ASTNode_getName(a);
    struct RuleVar *rv = nm ? find_rule(I, nm, 0) : NULL;
    if (rv) {
      int k = classify(I, rv);
      return k < 0 ? -1 : k == RV_INLINE;
    }
    return nm && Model_getSpeciesById(I->m, nm) ? 1 : 0;
  }
  if (ASTNode_getType(a) == AST_FUNCTION) { /* a function definition's body reads its arguments (the children), and maybe the time */
    const char                 *nm = ASTNode_getName(a);
    const FunctionDefinition_t *fd = nm ? Model_getFunctionDefinitionById(I->m, nm) : NULL;
    if (fd && FunctionDefinition_getBody(fd) && I->depth < MAX_INLINE_DEPTH) {
      I->depth++;
      r = ast_uses_state(I, FunctionDefinition_getBody(fd));
      I->depth--;
      if (r) return r;
    }
  }
  for (unsigned i = 0; i < ASTNode_getNumChildren(a); i++)
    if ((r = ast_uses_state(I, ASTNode_getChild(a, i)))) return r;
  return 0;
}

static int classify(Imp *I, struct RuleVar *rv)
{
  int u;
  if (rv->state == 2) return rv->kind;
  if (rv->state == 1) {
    fail(I, "assignmentRule", rv->var, rv->sb, "is defined through itself (assignment rules must not form a cycle)");
    return -1;
  }
  rv->state = 1;
  u         = ast_uses_state(I, rv->math);
  if (u < 0) return -1;
  rv->kind  = (u || rv->species) ? RV_INLINE : RV_DERIVED;
  rv->state = 2;
  return rv->kind;
}

/* Assignment rules and initial assignments: checked and classified (after the ids are known). */
static int collect_rules(Imp *I)
{
  Model_t *m = I->m;
  unsigned nr = Model_getNumRules(m), na = Model_getNumInitialAssignments(m);
  if (!nr && !na) return 0;
  if (!(I->rules = calloc((size_t)nr + na, sizeof *I->rules))) return nomem(I);
  for (unsigned i = 0; i < nr + na; i++) {
    const int          init = i >= nr;
    const Rule_t      *r    = init ? NULL : Model_getRule(m, i);
    const InitialAssignment_t *ia = init ? Model_getInitialAssignment(m, i - nr) : NULL;
    const char        *kind = init ? "initialAssignment" : "assignmentRule";
    const void        *sb   = init ? (const void *)ia : (const void *)r;
    const char        *var  = init ? (InitialAssignment_isSetSymbol(ia) ? InitialAssignment_getSymbol(ia) : "") : (Rule_isSetVariable(r) ? Rule_getVariable(r) : "");
    const ASTNode_t   *math = init ? InitialAssignment_getMath(ia) : Rule_getMath(r);
    struct RuleVar    *rv   = &I->rules[I->nrules];
    if (!var || !*var) return fail(I, kind, "", sb, "has no variable");
    if (!math) return fail(I, kind, var, sb, "has no math");
    if (Model_getCompartmentById(m, var)) return fail(I, kind, var, sb, "sets compartment '%s'; compartments must be constant with their size given in the element", var);
    if (!Model_getParameterById(m, var) && !Model_getSpeciesById(m, var)) {
      if (Model_getSpeciesReferenceById(m, var)) return fail(I, kind, var, sb, "sets the stoichiometry '%s'; stoichiometries must be constant numbers", var);
      return fail(I, kind, var, sb, "sets '%s', which is not a parameter or species", var);
    }
    if (find_rule(I, var, init)) return fail(I, kind, var, sb, "sets '%s' a second time", var);
    if (Model_getSpeciesById(m, var) && !init) { /* a rule's species must not be changed by reactions */
      for (unsigned j = 0; j < Model_getNumReactions(m); j++) {
        Reaction_t *rx = Model_getReaction(m, j);
        for (unsigned k = 0; k < Reaction_getNumReactants(rx) + Reaction_getNumProducts(rx); k++) {
          const SpeciesReference_t *sr = k < Reaction_getNumReactants(rx) ? Reaction_getReactant(rx, k) : Reaction_getProduct(rx, k - Reaction_getNumReactants(rx));
          const char               *sid = SpeciesReference_getSpecies(sr);
          if (sid && !strcmp(sid, var))
            return fail(I, kind, var, sb, "sets species '%s', which reaction '%s' changes; a species is either set by a rule or changed by reactions", var, Reaction_getId(rx));
        }
      }
    }
    rv->var     = var;
    rv->math    = math;
    rv->sb      = sb;
    rv->init    = init;
    rv->species = Model_getSpeciesById(m, var) != NULL;
    I->nrules++;
  }
  for (int i = 0; i < I->nrules; i++) {
    struct RuleVar *rv = &I->rules[i];
    if (rv->init) {
      const struct RuleVar *ar = find_rule(I, rv->var, 0);
      int                   u;
      if (ar) return fail(I, "initialAssignment", rv->var, rv->sb, "sets '%s', which an assignment rule (line %u) also sets", rv->var, SBase_getLine((const SBase_t *)ar->sb));
      if ((u = ast_uses_state(I, rv->math)) < 0) return STGSSA_PARSE_ESYNTAX;
      if (u) return fail(I, "initialAssignment", rv->var, rv->sb, "reads species or the time; initial assignments are supported when they read parameters, numbers and compartments only");
      rv->kind  = RV_DERIVED;
      rv->state = 2;
    } else if (classify(I, rv) < 0) return STGSSA_PARSE_ESYNTAX;
  }
  return 0;
}

/* Record the id of one element. SBML ids are unique within a model (SId namespace: compartments,
   species, parameters, reactions, function definitions), but libsbml's reader does not enforce it
   (only its consistency check does). Found by fuzzing (tests/fuzz/regressions/sbml): two
   parameters or species with the same id were imported as two definitions of one name, so
   StgssaModelDefFindParam/FindSpecies found only the first and the second was unreachable. */
static int add_id(Imp *I, const char *kind, const char *id, const void *sb)
{
  if (id && id[0] && nset_has(&I->ids, id)) return fail(I, kind, id, sb, "has the same id as an element before it; expected ids unique in the model");
  return nset_add(&I->ids, id) ? nomem(I) : 0;
}

static int add_ids(Imp *I)
{
  Model_t *m = I->m;
  int      rc = 0;
  for (unsigned i = 0; i < Model_getNumCompartments(m) && !rc; i++) {
    const Compartment_t *c = Model_getCompartment(m, i);
    rc                     = add_id(I, "compartment", Compartment_getId(c), c);
  }
  for (unsigned i = 0; i < Model_getNumSpecies(m) && !rc; i++) {
    const Species_t *sp = Model_getSpecies(m, i);
    rc                  = add_id(I, "species", Species_getId(sp), sp);
  }
  for (unsigned i = 0; i < Model_getNumParameters(m) && !rc; i++) {
    const Parameter_t *p = Model_getParameter(m, i);
    rc                   = add_id(I, "parameter", Parameter_getId(p), p);
  }
  for (unsigned i = 0; i < Model_getNumReactions(m) && !rc; i++) {
    const Reaction_t *r = Model_getReaction(m, i);
    rc                  = add_id(I, "reaction", Reaction_getId(r), r);
  }
  for (unsigned i = 0; i < Model_getNumFunctionDefinitions(m) && !rc; i++) {
    const FunctionDefinition_t *f = Model_getFunctionDefinition(m, i);
    rc                            = add_id(I, "functionDefinition", FunctionDefinition_getId(f), f);
  }
  if (rc) return rc;
  /* the name of the time symbol */
  strcpy(I->time_name, "t");
  for (int k = 1; nset_has(&I->ids, I->time_name); k++) snprintf(I->time_name, sizeof I->time_name, "t_%d", k);
  if (nset_add(&I->ids, I->time_name)) return nomem(I);
  return 0;
}

static int compartments(Imp *I)
{
  for (unsigned i = 0; i < Model_getNumCompartments(I->m); i++) {
    const Compartment_t *c  = Model_getCompartment(I->m, i);
    const char          *id = Compartment_getId(c);
    int                  rc;
    if ((rc = check_id(I, "compartment", id, c))) return rc;
    if (!Compartment_getConstant(c)) return fail(I, "compartment", id, c, "has constant=\"false\"; only constant compartments are supported");
    if (Compartment_isSetSize(c) && !(isfinite(Compartment_getSize(c)) && Compartment_getSize(c) > 0))
      return fail(I, "compartment", id, c, "has size %g; expected a finite size > 0", Compartment_getSize(c));
  }
  return 0;
}

static int add_param(Imp *I, const char *name, double value, int line, int *index)
{
  StgssaModelDef *d = I->def;
  void           *tmp;
  char           *s;
  if (!(tmp = grow(d->params, &I->cap_p, d->nparams, sizeof *d->params))) return nomem(I);
  d->params = tmp;
  if (!(s = dup_n(name, strlen(name)))) return nomem(I);
  d->params[d->nparams].name  = s;
  d->params[d->nparams].value = value + 0.0;
  d->params[d->nparams].line  = line;
  d->params[d->nparams].expr  = NULL;
  if (index) *index = d->nparams;
  d->nparams++;
  return 0;
}

static int param_value(Imp *I, const char *kind, const char *id, const Parameter_t *p, double *v)
{
  if (!Parameter_isSetValue(p)) return fail(I, kind, id, p, "has no value");
  *v = Parameter_getValue(p);
  if (!isfinite(*v) || *v < 0) return fail(I, kind, id, p, "has value %g; expected a finite value >= 0", *v);
  return 0;
}

/* The math of a rule or initial assignment compiled as an expression of parameters (times the
   number scale, when not 1). */
static int compile_math(Imp *I, const struct RuleVar *rv, StgssaExpr **out, double scale)
{
  Buf  b = {0};
  char cerr[512];
  int  rc;
  I->ctx_kind = rv->init ? "initialAssignment" : "assignmentRule";
  I->ctx_id   = rv->var;
  I->ctx_line = SBase_getLine((const SBase_t *)rv->sb);
  I->locals   = NULL;
  bputs(&b, "(");
  if ((rc = print_ast(I, rv->math, NULL, &b))) {
    free(b.s);
    return rc;
  }
  bputs(&b, ")");
  if (scale != 1.0) {
    bputs(&b, " * ");
    bnum(&b, scale);
  }
  if (b.oom || !b.s) {
    free(b.s);
    return nomem(I);
  }
  rc = StgssaExprCompile(b.s, b.n, I->file, (int)I->ctx_line, 1, resolve, I, out, cerr, sizeof cerr);
  if (rc == STGSSA_PARSE_ENOMEM) rc = nomem(I);
  else if (rc) rc = fail(I, I->ctx_kind, rv->var, rv->sb, "math cannot be used: %s (as converted: %.200s)", cerr, b.s);
  else if (StgssaExprUsesTime(*out) || StgssaExprUsedSpecies(*out, &(int){0})) {
    StgssaExprFree(out);
    rc = fail(I, I->ctx_kind, rv->var, rv->sb, "reads species or the time; expected parameters, numbers and compartments only");
  }
  free(b.s);
  return rc;
}

static int parameters(Imp *I)
{
  for (unsigned i = 0; i < Model_getNumParameters(I->m); i++) {
    const Parameter_t *p  = Model_getParameter(I->m, i);
    const char        *id = Parameter_getId(p);
    double             v = 0;
    int                rc;
    const struct RuleVar *ar = find_rule(I, id ? id : "", 0), *ia = find_rule(I, id ? id : "", 1);
    int                   k;
    if ((rc = check_id(I, "parameter", id, p))) return rc;
    if (ar && ar->kind == RV_INLINE) continue; /* a quantity of the state (an observable): not a parameter */
    if (!ar && !ia && (rc = param_value(I, "parameter", id, p, &v))) return rc;
    if ((rc = add_param(I, id, v, (int)SBase_getLine((const SBase_t *)p), &k))) return rc;
  }
  /* derived parameters: their math, once every global parameter is known */
  for (int i = 0; i < I->nrules; i++) {
    struct RuleVar *rv = &I->rules[i];
    int             k, rc;
    if (rv->species || rv->kind != RV_DERIVED || (k = StgssaModelDefFindParam(I->def, rv->var)) < 0) continue;
    if ((rc = compile_math(I, rv, &I->def->params[k].expr, 1.0))) return rc;
    I->def->params[k].line = (int)SBase_getLine((const SBase_t *)rv->sb);
  }
  return 0;
}

static int species(Imp *I)
{
  StgssaModelDef *d = I->def;
  unsigned        n = Model_getNumSpecies(I->m);
  if (n > (unsigned)INT_MAX / 2) return fail(I, "model", Model_getId(I->m), I->m, "has too many species");
  if (n && !(d->species = calloc(n, sizeof *d->species))) return nomem(I);
  for (unsigned i = 0; i < n; i++) {
    const Species_t     *s  = Model_getSpecies(I->m, i);
    const char          *id = Species_getId(s);
    const Compartment_t *c  = Model_getCompartmentById(I->m, Species_getCompartment(s));
    double               a, r;
    int                  rc;
    const struct RuleVar *ia;
    StgssaSpeciesDef     *sd = &d->species[d->nspecies];
    if ((rc = check_id(I, "species", id, s))) return rc;
    if (!c) return fail(I, "species", id, s, "is in compartment '%s', which is not defined", Species_getCompartment(s));
    if (Species_isSetConversionFactor(s)) return fail(I, "species", id, s, "has a conversionFactor, which is not supported");
    if (find_rule(I, id, 0)) continue; /* set by an assignment rule: a quantity of the state, not a species */
    if ((ia = find_rule(I, id, 1))) { /* initial count from an initial assignment (a concentration times the size) */
      double V = 1.0;
      if (!Species_getHasOnlySubstanceUnits(s) && !(Compartment_isSetSpatialDimensions(c) && Compartment_getSpatialDimensionsAsDouble(c) == 0)) {
        char what[160];
        snprintf(what, sizeof what, "the initial assignment of species '%s' (a concentration)", id);
        if ((rc = compartment_size(I, c, what, &V))) return rc;
      }
      if (!(sd->name = dup_n(id, strlen(id)))) return nomem(I);
      sd->initial = 0;
      sd->line    = (int)SBase_getLine((const SBase_t *)ia->sb);
      d->nspecies++;
      if ((rc = compile_math(I, ia, &sd->init_expr, V))) return rc;
      continue;
    }
    if (Species_isSetInitialAmount(s)) a = Species_getInitialAmount(s);
    else if (Species_isSetInitialConcentration(s)) {
      double V = 1.0;
      if (!(Compartment_isSetSpatialDimensions(c) && Compartment_getSpatialDimensionsAsDouble(c) == 0)) {
        char what[160];
        snprintf(what, sizeof what, "the initialConcentration of species '%s'", id);
        if ((rc = compartment_size(I, c, what, &V))) return rc;
      }
      a = Species_getInitialConcentration(s) * V;
    } else return fail(I, "species", id, s, "has neither initialAmount nor initialConcentration");
    r = nearbyint(a);
    if (!isfinite(a) || a < 0 || fabs(a - r) > 1e-9 * fmax(1.0, fabs(a)) || r > (double)STGSSA_COUNT_MAX)
      return fail(I, "species", id, s, "has an initial amount of %.17g molecules; expected a whole number >= 0 (molecule counts) and at most 2^53 = 9007199254740992", a);
    if (!(sd->name = dup_n(id, strlen(id)))) return nomem(I);
    sd->initial = (int64_t)r;
    sd->line    = (int)SBase_getLine((const SBase_t *)s);
    d->nspecies++;
  }
  if (!d->nspecies) return fail(I, "model", Model_getId(I->m), I->m, "has no species");
  return 0;
}

/* reactants or products of one reaction, merged per species */
static int side(Imp *I, Reaction_t *rx, int products, StgssaStoichTerm **out, int *nout)
{
  unsigned          n = products ? Reaction_getNumProducts(rx) : Reaction_getNumReactants(rx);
  const char       *rid = Reaction_getId(rx), *what = products ? "product" : "reactant";
  StgssaStoichTerm *t;
  int               nt = 0;

  *out  = NULL;
  *nout = 0;
  if (!n) return 0;
  if (!(t = calloc(n, sizeof *t))) return nomem(I);
  for (unsigned i = 0; i < n; i++) {
    const SpeciesReference_t *sr = products ? Reaction_getProduct(rx, i) : Reaction_getReactant(rx, i);
    const char               *sid = SpeciesReference_getSpecies(sr);
    const Species_t          *sp  = sid ? Model_getSpeciesById(I->m, sid) : NULL;
    double                    st;
    int                       k, j;
    if (!sp || (k = StgssaModelDefFindSpecies(I->def, sid)) < 0) {
      free(t);
      return fail(I, "reaction", rid, sr, "has %s '%s', which is not a species", what, sid ? sid : "");
    }
    if (SpeciesReference_isSetStoichiometryMath(sr)) {
      free(t);
      return fail(I, "reaction", rid, sr, "%s '%s' has stoichiometryMath, which is not supported", what, sid);
    }
    if (SBase_getLevel((const SBase_t *)sr) >= 3 && !SpeciesReference_isSetStoichiometry(sr)) {
      free(t);
      return fail(I, "reaction", rid, sr, "%s '%s' has no stoichiometry; expected stoichiometry=\"1\" (or another whole number)", what, sid);
    }
    st = SpeciesReference_getStoichiometry(sr);
    if (!(st >= 0 && st <= STGSSA_STOICH_MAX && st == floor(st))) {
      free(t);
      return fail(I, "reaction", rid, sr, "%s '%s' has stoichiometry %g; expected a whole number 0..%d", what, sid, st, STGSSA_STOICH_MAX);
    }
    if (Species_getBoundaryCondition(sp) || Species_getConstant(sp)) {
      free(t);
      return fail(I, "reaction", rid, sr, "has %s '%s', which has %s=\"true\" (such species must not be reactants or products; make it a modifier)", what, sid,
                  Species_getBoundaryCondition(sp) ? "boundaryCondition" : "constant");
    }
    if (st == 0) continue;
    for (j = 0; j < nt && t[j].species != k; j++) {}
    if (j == nt) {
      t[nt].species = k;
      t[nt++].coef  = 0;
    }
    if (t[j].coef + (int)st > STGSSA_STOICH_MAX) {
      free(t);
      return fail(I, "reaction", rid, sr, "%s '%s' has a total stoichiometry above %d", what, sid, STGSSA_STOICH_MAX);
    }
    t[j].coef += (int)st;
  }
  *out  = t;
  *nout = nt;
  return 0;
}

/* first free name of REACTION_PARAM, REACTION_PARAM_2, ... (cut to STGSSA_NAME_MAX) */
static int local_name(Imp *I, const char *rid, const char *pid, char *out)
{
  char base[2 * STGSSA_NAME_MAX + 2];
  snprintf(base, sizeof base, "%s_%s", rid, pid);
  for (int k = 1; k < INT_MAX; k++) {
    char suffix[16] = "";
    int  keep;
    if (k > 1) snprintf(suffix, sizeof suffix, "_%d", k);
    keep = STGSSA_NAME_MAX - (int)strlen(suffix);
    if (k == 1 && strlen(base) > STGSSA_NAME_MAX) continue;
    snprintf(out, STGSSA_NAME_MAX + 1, "%.*s%s", keep, base, suffix);
    if (!nset_has(&I->ids, out)) return 0;
  }
  return -1;
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

static int reaction(Imp *I, Reaction_t *rx, StgssaReactionDef *r)
{
  const char         *rid = Reaction_getId(rx);
  KineticLaw_t *kl  = Reaction_getKineticLaw(rx);
  Locals              L   = {0, NULL, NULL};
  int                 rc;
  unsigned            nl;

  if ((rc = check_id(I, "reaction", rid, rx))) return rc;
  r->line    = (int)SBase_getLine((const SBase_t *)rx);
  r->reverse = -1;
  r->factor  = 1.0;
  r->param   = -1;
  if (Reaction_isSetFast(rx) && Reaction_getFast(rx)) return fail(I, "reaction", rid, rx, "has fast=\"true\", which is not supported");
  if (!kl) return fail(I, "reaction", rid, rx, "has no kinetic law");
  if ((rc = side(I, rx, 0, &r->react, &r->nreact))) return rc;
  if ((rc = side(I, rx, 1, &r->prod, &r->nprod))) return rc;
  if (!r->nreact && !r->nprod) return fail(I, "reaction", rid, rx, "has no reactants and no products");
  nl = KineticLaw_getNumParameters(kl);
  if (nl && (!(L.sbml_id = calloc(nl, sizeof *L.sbml_id)) || !(L.param = calloc(nl, sizeof *L.param)))) {
    free(L.sbml_id);
    return nomem(I);
  }
  for (unsigned i = 0; i < nl; i++) {
    const Parameter_t *p   = KineticLaw_getParameter((KineticLaw_t *)kl, i);
    const char        *pid = Parameter_getId(p);
    char               name[STGSSA_NAME_MAX + 1];
    double             v = 0;
    if ((rc = check_id(I, "localParameter", pid, p))) goto done;
    if ((rc = param_value(I, "localParameter", pid, p, &v))) goto done;
    if (local_name(I, rid, pid, name)) {
      rc = fail(I, "localParameter", pid, p, "no free name for it");
      goto done;
    }
    if ((rc = add_param(I, name, v, (int)SBase_getLine((const SBase_t *)p), &L.param[i]))) goto done;
    if (nset_add(&I->ids, I->def->params[L.param[i]].name)) {
      rc = nomem(I);
      goto done;
    }
    L.sbml_id[i] = (char *)pid;
    L.nlocal++;
  }
  I->ctx_kind = "reaction";
  I->ctx_id   = rid;
  I->ctx_line = r->line;
  I->locals   = &L;
  rc          = convert_law(I, rx, kl, r);
  I->locals   = NULL;
done:
  free(L.sbml_id);
  free(L.param);
  return rc;
}

static int reactions(Imp *I)
{
  StgssaModelDef *d = I->def;
  unsigned        n = Model_getNumReactions(I->m);
  int             rc;
  if (!n) return fail(I, "model", Model_getId(I->m), I->m, "has no reactions");
  if (n > (unsigned)INT_MAX / 2) return fail(I, "model", Model_getId(I->m), I->m, "has too many reactions");
  if (!(d->reactions = calloc(n, sizeof *d->reactions))) return nomem(I);
  if (!(I->count = calloc((size_t)d->nspecies + 1, sizeof *I->count))) return nomem(I);
  for (unsigned i = 0; i < n; i++) {
    d->nreactions++;
    if ((rc = reaction(I, Model_getReaction(I->m, i), &d->reactions[i]))) return rc;
  }
  /* labels; NAME and NAME_reverse with swapped sides form the labelled pair NAME */
  for (int j = 0; j < d->nreactions; j++) {
    const char *rid = Reaction_getId(Model_getReaction(I->m, (unsigned)j));
    size_t      len = strlen(rid);
    if (len > 8 && !strcmp(rid + len - 8, "_reverse")) {
      for (int i = 0; i < d->nreactions; i++) {
        StgssaReactionDef *q = &d->reactions[i], *r = &d->reactions[j];
        const char        *fid = Reaction_getId(Model_getReaction(I->m, (unsigned)i));
        if (i != j && q->reverse < 0 && strlen(fid) == len - 8 && !strncmp(fid, rid, len - 8) && same_terms(q->react, q->nreact, r->prod, r->nprod) &&
            same_terms(q->prod, q->nprod, r->react, r->nreact)) {
          q->reverse = j;
          r->reverse = i;
          if (!(r->label = dup_n(fid, strlen(fid)))) return nomem(I);
          break;
        }
      }
    }
  }
  for (int j = 0; j < d->nreactions; j++) {
    const char *rid = Reaction_getId(Model_getReaction(I->m, (unsigned)j));
    if (!d->reactions[j].label && !(d->reactions[j].label = dup_n(rid, strlen(rid)))) return nomem(I);
  }
  return 0;
}

/* The math of a state rule compiled as an expression of species, parameters and t. */
static int compile_state_math(Imp *I, const struct RuleVar *rv, StgssaExpr **out)
{
  Buf  b = {0};
  char cerr[512];
  int  rc;
  I->ctx_kind = "assignmentRule";
  I->ctx_id   = rv->var;
  I->ctx_line = SBase_getLine((const SBase_t *)rv->sb);
  I->locals   = NULL;
  I->depth    = 0;
  if ((rc = print_ast(I, rv->math, NULL, &b))) {
    free(b.s);
    return rc;
  }
  if (b.oom || !b.s) {
    free(b.s);
    return nomem(I);
  }
  rc = StgssaExprCompile(b.s, b.n, I->file, (int)I->ctx_line, 1, resolve, I, out, cerr, sizeof cerr);
  if (rc == STGSSA_PARSE_ENOMEM) rc = nomem(I);
  else if (rc) rc = fail(I, "assignmentRule", rv->var, rv->sb, "math cannot be used: %s (as converted: %.200s)", cerr, b.s);
  free(b.s);
  return rc;
}

/* Keep rule rv as a named expression of the model (d->rules: read inside laws, observable as an
   expression), declared at line. */
static int add_rule(Imp *I, StgssaModelDef *d, const struct RuleVar *rv, int line)
{
  StgssaRuleDef *ru;
  void          *tmp = realloc(d->rules, ((size_t)d->nrules + 1) * sizeof *d->rules);
  if (!tmp) return nomem(I);
  d->rules = tmp;
  ru       = &d->rules[d->nrules];
  memset(ru, 0, sizeof *ru);
  ru->line = line;
  if (!(ru->name = dup_n(rv->var, strlen(rv->var)))) return nomem(I);
  d->nrules++;
  return compile_state_math(I, rv, &ru->expr);
}

/* Linear decomposition of math into sum_s w[s] x_s + *c with number weights (rules read through;
   a species meaning its concentration counts 1/V). 0 on success, 1 when the math is not of that
   form (then the rule is only inlined, not an observable). */
static int linear(Imp *I, const ASTNode_t *a, double scale, double *w, double *c)
{
  unsigned n = ASTNode_getNumChildren(a);
  if (I->depth > MAX_INLINE_DEPTH) return 1;
  switch (ASTNode_getType(a)) {
  case AST_INTEGER:
  case AST_REAL:
  case AST_REAL_E:
  case AST_RATIONAL: *c += scale * number_value(a); return 0;
  case AST_PLUS:
    for (unsigned i = 0; i < n; i++)
      if (linear(I, ASTNode_getChild(a, i), scale, w, c)) return 1;
    return 0;
  case AST_MINUS:
    if (n == 1) return linear(I, ASTNode_getChild(a, 0), -scale, w, c);
    if (n != 2) return 1;
    return linear(I, ASTNode_getChild(a, 0), scale, w, c) || linear(I, ASTNode_getChild(a, 1), -scale, w, c);
  case AST_TIMES: { /* numbers times one linear factor */
    int var = -1;
    for (unsigned i = 0; i < n; i++) {
      if (ASTNode_isNumber(ASTNode_getChild(a, i))) scale *= number_value(ASTNode_getChild(a, i));
      else if (var >= 0) return 1;
      else var = (int)i;
    }
    if (var < 0) {
      *c += scale;
      return 0;
    }
    return linear(I, ASTNode_getChild(a, (unsigned)var), scale, w, c);
  }
  case AST_DIVIDE:
    if (n != 2 || !ASTNode_isNumber(ASTNode_getChild(a, 1)) || number_value(ASTNode_getChild(a, 1)) == 0) return 1;
    return linear(I, ASTNode_getChild(a, 0), scale / number_value(ASTNode_getChild(a, 1)), w, c);
  case AST_NAME: {
    const char           *nm = ASTNode_getName(a);
    const struct RuleVar *rv = nm ? find_rule(I, nm, 0) : NULL;
    const Species_t      *sp;
    int                   k, rc = 0;
    if (rv) {
      if (rv->kind != RV_INLINE) return 1;
      I->depth++;
      rc = linear(I, rv->math, scale, w, c);
      I->depth--;
      return rc;
    }
    if (!nm || !(sp = Model_getSpeciesById(I->m, nm)) || (k = StgssaModelDefFindSpecies(I->def, nm)) < 0) return 1;
    {
      double V = 1.0;
      if (species_is_concentration(I, sp, &V, &rc)) scale /= V;
      if (rc) return 1;
    }
    w[k] += scale;
    return 0;
  }
  default: return 1;
  }
}

/* Assignment rules that read the state and are sums of species with whole-number weights (what
   BioNetGen writes for its observables: A_P = S7 + S8 + 2*S9) become groups: observables by
   the variable's id (-stgssa_observe, data columns, FSP marginals). A weighted sum with other
   weights is a group too, and a rule (StgssaModelDef.rules) by the same id; other math is a rule
   only. Rules are inlined where laws read them and observable as expressions (moments only). */
static int observables(Imp *I)
{
  StgssaModelDef *d   = I->def;
  double         *w   = NULL;
  int             cap = 0, rc = 0;
  for (int i = 0; i < I->nrules && !rc; i++) {
    struct RuleVar *rv = &I->rules[i];
    double          c  = 0;
    int             nt = 0;
    StgssaGroupDef *g;
    if (rv->init || rv->kind != RV_INLINE) continue;
    if (!w && !(w = calloc((size_t)d->nspecies + 1, sizeof *w))) return nomem(I);
    for (int k = 0; k < d->nspecies; k++) w[k] = 0;
    I->depth = 0;
    {
      double V = 1.0;
      int    r2 = 0, bad;
      if (rv->species) (void)species_is_concentration(I, Model_getSpeciesById(I->m, rv->var), &V, &r2); /* the rule gives a concentration: the count is V times it */
      bad = r2 || linear(I, rv->math, V, w, &c) || c != 0;
      for (int k = 0; k < d->nspecies && !bad; k++) nt += w[k] != 0;
      if (bad || !nt) { /* not a sum of species: kept as a rule (read inside laws; named in messages) */
        if ((rc = add_rule(I, d, rv, (int)SBase_getLine((const SBase_t *)rv->sb)))) break;
        continue;
      }
    }
    {
      void *tmp = grow(d->groups, &cap, d->ngroups, sizeof *d->groups);
      if (!tmp) {
        rc = nomem(I);
        break;
      }
      d->groups = tmp;
    }
    g = &d->groups[d->ngroups];
    memset(g, 0, sizeof *g);
    g->line = (int)SBase_getLine((const SBase_t *)rv->sb);
    if (!(g->name = dup_n(rv->var, strlen(rv->var))) || !(g->species = calloc((size_t)nt, sizeof *g->species)) || !(g->weight = calloc((size_t)nt, sizeof *g->weight))) {
      free(g->name);
      free(g->species);
      rc = nomem(I);
      break;
    }
    d->ngroups++;
    for (int k = 0; k < d->nspecies; k++)
      if (w[k] != 0) {
        g->species[g->nterms] = k;
        g->weight[g->nterms++] = w[k];
      }
    if (StgssaModelDefGroupCheck(d, d->ngroups - 1) >= 0) { /* weights that are not whole counts (a concentration-scaled sum,
                                                               0.5*A + B): also kept as a rule, observable as an expression (moments) */
      if ((rc = add_rule(I, d, rv, g->line))) break;
    }
  }
  free(w);
  return rc;
}

int StgssaModelDefParseSBML(const char *text, size_t len, const char *filename, StgssaModelDef **out, char *err, size_t errlen)
{
  Imp             I;
  StgssaModelDef *def;
  int             rc;

  memset(&I, 0, sizeof I);
  I.err    = err;
  I.errlen = errlen;
  I.file   = filename ? filename : "<input>";
  if (err && errlen) err[0] = '\0';
  if (!out) {
    if (err && errlen) snprintf(err, errlen, "StgssaModelDefParseSBML: no output argument");
    return STGSSA_PARSE_ESYNTAX;
  }
  *out = NULL;
  if (!text && len) {
    if (err && errlen) snprintf(err, errlen, "StgssaModelDefParseSBML: no text");
    return STGSSA_PARSE_ESYNTAX;
  }
  if (!(def = calloc(1, sizeof *def))) return nomem(&I);
  I.def = def;
  if (len == SIZE_MAX || !(def->text = malloc(len + 1)) || !(def->filename = dup_n(I.file, strlen(I.file)))) {
    StgssaModelDefFree(&def);
    return nomem(&I);
  }
  if (len) memcpy(def->text, text, len);
  def->text[len] = '\0';
  if (len == 0) rc = docfail(&I, 0, "the file is empty; expected an SBML document");
  else if (memchr(text, '\0', len)) rc = docfail(&I, 0, "the file contains a NUL byte; expected an XML text");
  else if (!(I.doc = readSBMLFromString(def->text))) rc = nomem(&I);
  else if (!(rc = check_document(&I)) && !(rc = refuse_unsupported(&I)) && !(rc = add_ids(&I)) && !(rc = collect_rules(&I)) && !(rc = compartments(&I)) &&
           !(rc = parameters(&I)) && !(rc = species(&I)) && !(rc = reactions(&I)) && !(rc = observables(&I)))
    rc = StgssaModelDefUpdateDerived(def, err, errlen);
  if (I.doc) SBMLDocument_free(I.doc);
  free(I.ids.tab);
  free(I.count);
  free(I.rules);
  if (rc) {
    StgssaModelDefFree(&def);
    return rc;
  }
  *out = def;
  return STGSSA_PARSE_OK;
}
