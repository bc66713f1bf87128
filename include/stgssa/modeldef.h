/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Plain-data description of a reaction network as read from a `.model` file
  (DESIGN.md section 4). The parser is pure C (no PETSc, no MPI) so that it can be
  unit-tested and fuzzed on its own; StgssaModel (model.h) wraps it as a PETSc-style
  object and compiles it for the SSA engine.
*/
#ifndef STGSSA_MODELDEF_H
#define STGSSA_MODELDEF_H

#include <stddef.h>
#include <stdint.h>

typedef struct StgssaExpr_ StgssaExpr; /* compiled rate-law expression (expr.h) */

#ifdef __cplusplus
extern "C" {
#endif

/* Longest accepted name (parameter, species, label), in bytes, without the NUL. */
#define STGSSA_NAME_MAX 63
/* Largest count (initial counts in model files, and every count during a run): 2^53, the largest
   integer up to which doubles (propensities read counts as doubles) hold every count exactly. */
#define STGSSA_COUNT_MAX ((int64_t)1 << 53)
/* Largest stoichiometric coefficient accepted on one side of a reaction. */
#define STGSSA_STOICH_MAX 1000

typedef struct {
  char  *name;
  double value; /* rate constant, finite and >= 0 */
  int    line;  /* line of the definition in the model file (0 if set programmatically) */
  /* Derived parameter (a `.net` parameter written as an expression, an SBML initial assignment or
     parameter-only assignment rule): value = expr(other parameters), kept up to date by
     StgssaModelDefUpdateDerived (after loading and after every override). NULL: a free parameter.
     Owned; an override of the parameter itself frees it (the parameter becomes free). */
  StgssaExpr *expr;
} StgssaParamDef;

typedef struct {
  char   *name;
  int64_t initial; /* initial copy number, >= 0 */
  int     line;
  StgssaExpr *init_expr; /* initial count as an expression of parameters (re-evaluated like derived parameters), or NULL; owned */
} StgssaSpeciesDef;

typedef struct {
  int species; /* index into StgssaModelDef.species */
  int coef;    /* stoichiometric coefficient, 1..STGSSA_STOICH_MAX */
} StgssaStoichTerm;

typedef struct {
  char             *label;    /* optional label (NULL if none); both directions of a <-> pair carry it */
  int               nreact;   /* number of distinct reactant species */
  StgssaStoichTerm *react;    /* reactants, each species at most once (coefficients merged) */
  int               nprod;
  StgssaStoichTerm *prod;
  double            factor;   /* rate = factor * parameter value (param >= 0) or rate = factor (param < 0) */
  int               param;    /* index into StgssaModelDef.params, or -1 for a numeric rate */
  /* General rate law (issue 7). law == NULL: mass action with the constant rate above (fast path).
     Otherwise factor = 1, param = -1 and
       law_full = 0: law is a rate "constant" (parameters, numbers, t, inputs; no species):
                     a_j = law * prod_s C(x_s, r_js)   (mass-action combinatorics kept);
       law_full = 1: law is the whole propensity a_j(x, theta, t) in molecule counts (it may use
                     species; Michaelis-Menten, Hill, SBML kinetic laws). The engine takes
                     a_j = 0 without evaluating the law when some reactant count x_s < r_js.
     The expression's variables: species and parameters by StgssaModelDef index, inputs by
     StgssaModelDef.inputs index, and t. The definition owns the expression. */
  StgssaExpr       *law;
  int               law_full;
  int               reverse;  /* index of the paired reaction of a <-> line, or -1 */
  int               line;     /* line of the reaction in the model file */
} StgssaReactionDef;

/* A weighted sum of species (BioNetGen `.net` groups). Observable by name (-stgssa_observe) when
   every weight is a nonnegative integer (StgssaModelDefGroupCheck). Group names differ from every
   parameter and species name (the .net reader refuses a clash). */
typedef struct {
  char   *name;
  int     nterms;
  int    *species; /* indices into StgssaModelDef.species */
  double *weight;  /* weight of each term */
  int     line;
} StgssaGroupDef;

/* A named input signal u(t) (issue 7): an expression of parameters and the time t, or a
   piecewise-constant table of (time, value) pairs. */
typedef enum { STGSSA_INPUT_EXPR = 0, STGSSA_INPUT_TABLE = 1 } StgssaInputKind;
typedef struct {
  char           *name;
  StgssaInputKind kind;
  StgssaExpr     *expr;    /* EXPR: uses parameters and t only (no species, no inputs); owned */
  int             npieces; /* TABLE: u(t) = value of piece i for times[i] <= t < times[i+1]; */
  double         *times;   /*   times[0] = 0 < times[1] < ... (strictly increasing, finite); */
  double         *values;  /*   the last piece holds for ever. value = values[i] when vparam[i] < 0, */
  int            *vparam;  /*   else the value of parameter vparam[i] (so table levels can be fitted) */
  int             line;
} StgssaInputDef;

/* A quantity of the state that is not a sum of species (an SBML assignment rule such as
   act = LRp/(K + LRp)): read inside the rate laws that name it (inlined there at import), kept
   here by name for messages and for later use as a moment observable. expr may use species,
   parameters and t. */
typedef struct {
  char       *name;
  StgssaExpr *expr; /* owned */
  int         line;
} StgssaRuleDef;

/* A scheduled event (intervention, issue 18; `begin events` section). Occurrences at
   t_first + k * period, k = 0, 1, ... (period > 0), or once at t_first (period = 0); times are
   finite and >= 0. Several events at the same time apply in file order (index order here); a
   sample taken at an event time sees the state before the event.
     DIVIDE: x_s <- Binomial(x_s, 1/2) for each listed species (all species when none is listed)
     SET:    x_s <- n,  ADD: x_s <- x_s + n,  SUB: x_s <- max(x_s - n, 0)   (one species)
             n = value rounded to the nearest integer (halves away from 0), value >= 0 and finite
     SCALE:  x_s <- Binomial(x_s, F), F = value in [0, 1]                   (one species)
   value is an expression of parameters and numbers only (no species, inputs or t). */
typedef enum { STGSSA_EVENT_DIVIDE = 0, STGSSA_EVENT_SET = 1, STGSSA_EVENT_ADD = 2, STGSSA_EVENT_SUB = 3, STGSSA_EVENT_SCALE = 4 } StgssaEventKind;
typedef struct {
  StgssaEventKind kind;
  double          t_first; /* first (or only) time */
  double          period;  /* > 0: every period from t_first; 0: once */
  int             nspecies;
  int            *species; /* [nspecies] species indices (DIVIDE without a list: 0..S-1) */
  int             all;     /* DIVIDE written without a list */
  StgssaExpr     *value;   /* SET/ADD/SUB: the count, SCALE: F; NULL for DIVIDE (F = 1/2); owned */
  int             line;
} StgssaEventDef;

typedef struct {
  char              *filename; /* name used in messages */
  char              *text;     /* the whole model file as read (stored in the output) */
  int                nparams, nspecies, nreactions;
  StgssaParamDef    *params;
  StgssaSpeciesDef  *species;
  StgssaReactionDef *reactions;
  int                ngroups; /* groups (`.net` files only; 0 for `.model` files) */
  StgssaGroupDef    *groups;
  int                ninputs; /* input signals (`begin inputs` section; 0 if none) */
  StgssaInputDef    *inputs;
  int                nrules; /* state-dependent assignment rules that are not groups (SBML; 0 otherwise) */
  StgssaRuleDef     *rules;
  int                nevents; /* scheduled events (`begin events` section; 0 if none) */
  StgssaEventDef    *events;
} StgssaModelDef;

/* Return codes of the functions below; err receives "file:line:column: message". */
enum {
  STGSSA_PARSE_OK     = 0,
  STGSSA_PARSE_ESYNTAX = 1, /* malformed input */
  STGSSA_PARSE_EIO    = 2,  /* missing or unreadable file */
  STGSSA_PARSE_ENOMEM = 3
};

/* Parse a model from text (len bytes, need not be NUL-terminated). filename is used in messages. */
int StgssaModelDefParse(const char *text, size_t len, const char *filename, StgssaModelDef **def, char *err, size_t errlen);
/* Parse a BioNetGen `.net` network file (mass-action subset; see src/model/netimport.c). */
int StgssaModelDefParseNet(const char *text, size_t len, const char *filename, StgssaModelDef **def, char *err, size_t errlen);
/* Import an SBML Level 2/3 document through libsbml (subset and conventions: src/model/sbmlimport.c
   and README). err: "FILE: SBML element KIND 'ID' (line L): ..." or "FILE:LINE:COL: invalid SBML: ...".
   Without libsbml at build time it always fails with a message saying so. */
int StgssaModelDefParseSBML(const char *text, size_t len, const char *filename, StgssaModelDef **def, char *err, size_t errlen);
/* Read and parse a model file. */
int StgssaModelDefParseFile(const char *path, StgssaModelDef **def, char *err, size_t errlen);
/* Apply overrides "name=value,name=value" (the -stgssa_parameters option); origin names the option in messages. */
int StgssaModelDefSetParameters(StgssaModelDef *def, const char *assignments, const char *origin, char *err, size_t errlen);
/* Index of a species / parameter / input by name, or -1. */
int StgssaModelDefFindSpecies(const StgssaModelDef *def, const char *name);
int StgssaModelDefFindParam(const StgssaModelDef *def, const char *name);
int StgssaModelDefFindInput(const StgssaModelDef *def, const char *name);
/* Index of a rule (StgssaModelDef.rules) by name, or -1. */
int StgssaModelDefFindRule(const StgssaModelDef *def, const char *name);
/* Index of a group by name, or -1. */
int StgssaModelDefFindGroup(const StgssaModelDef *def, const char *name);
/* -1 if every weight of group g is an integer in [0, 2^31-1] (an observable count), else the index
   of the first term whose weight is not. */
int StgssaModelDefGroupCheck(const StgssaModelDef *def, int g);
/* Derived parameters and initial-count expressions (derived.c). Evaluate every derived parameter
   into pv[nparams] (in: the values of the free parameters; derived entries are overwritten) in
   dependency order, and, when x0 is not NULL, the initial count of every species with init_expr
   (others: x0[s] = initial). freed[m] != 0 (freed may be NULL) treats parameter m as free even if
   it has an expression. Errors (a cycle, a value that is negative or not finite, a count that is
   not a whole number in [0, 2^53]): "FILE:LINE: ..." naming the element and the expression. */
int StgssaModelDefEvalDerived(const StgssaModelDef *def, const unsigned char *freed, double *pv, int64_t *x0, char *err, size_t errlen);
/* The same on the definition itself (params[].value, species[].initial); unchanged on error. */
int StgssaModelDefUpdateDerived(StgssaModelDef *def, char *err, size_t errlen);
/* deg[m] (m < nparams) = homogeneity degree of parameter m in free parameter q (q itself 1, other
   free parameters 0, derived ones through their expressions; INT_MIN: not homogeneous). With
   degree 1, d log k_m / d log k_q = 1 identically (Euler), with 0 it is 0. 0 on success. */
int StgssaModelDefParamDegrees(const StgssaModelDef *def, int q, int *deg);
/* The default fit list (every parameter when none is named) in list[nparams], *n entries: the
   parameters StgssaModelResolveFit accepts together (not derived ones, nor those reaching an
   initial count, a rate law or an input through derived parameters, nor a second one moving the
   same mass-action rate). 0 on success, -1 out of memory. */
int StgssaModelDefDefaultFit(const StgssaModelDef *def, int *list, int *n);
/* 1 if some derived parameter or initial-count expression exists. */
int StgssaModelDefHasDerived(const StgssaModelDef *def);
/* Rate constant k_j of reaction j with the current parameter values (NaN for a reaction with a law). */
double StgssaModelDefRate(const StgssaModelDef *def, int j);
/* Events (issue 18). Time of the first occurrence of event e strictly after t (+inf if none). */
double StgssaModelDefEventNext(const StgssaModelDef *def, int e, double t);
/* First occurrence of any event strictly after t (+inf when none). */
double StgssaModelDefNextEventTime(const StgssaModelDef *def, double t);
/* 1 if event e has an occurrence exactly at t (t as returned by the two functions above). */
int StgssaModelDefEventAt(const StgssaModelDef *def, int e, double t);
/* Value of event e's expression at parameter values pv[nparams] (0.5 for DIVIDE); dlog (may be
   NULL) receives dlog[m] = k_m d value / d k_m for every parameter m (0 where not read); work:
   NULL (the expression's own work space, not thread safe) or StgssaExprWorkSize doubles. */
double StgssaModelDefEventValue(const StgssaModelDef *def, int e, const double *pv, double *dlog, double *work);
void StgssaModelDefFree(StgssaModelDef **def);

#ifdef __cplusplus
}
#endif
#endif
