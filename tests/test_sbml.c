/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Unit tests of the SBML importer (src/model/sbmlimport.c, built only with libsbml): the shipped
  telegraph model (mass action, equal to the native model), a Michaelis-Menten law (law_full = 1,
  evaluated against the hand formula), local parameters and their names, compartment folding,
  concentration species, MathML conversion (function definitions, piecewise, time, log, root,
  logic), and one test per refused construct with its message; malformed, truncated and empty
  files. Quiet unless a test fails; exit status nonzero on failure.
*/
#include <stgssa/expr.h>
#include <stgssa/modeldef.h>

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FNAME "t.xml"
#define MATH(x) "<math xmlns='http://www.w3.org/1998/Math/MathML'>" x "</math>"
#define CI(x) "<ci>" x "</ci>"
#define CN(x) "<cn>" x "</cn>"
#define APPLY(op, args) "<apply><" op "/>" args "</apply>"
#define TIME "<csymbol encoding='text' definitionURL='http://www.sbml.org/sbml/symbols/time'>t</csymbol>"
#define COMP(id, size) "<compartment id='" id "' size='" size "' spatialDimensions='3' constant='true'/>"
#define SPEC(id, comp, amount) \
  "<species id='" id "' compartment='" comp "' initialAmount='" amount "' hasOnlySubstanceUnits='true' boundaryCondition='false' constant='false'/>"
#define PARAM(id, value) "<parameter id='" id "' value='" value "' constant='true'/>"
#define SREF(s) "<speciesReference species='" s "' stoichiometry='1' constant='true'/>"
#define REACTION(id, reactants, products, law) \
  "<reaction id='" id "' reversible='false'><listOfReactants>" reactants "</listOfReactants><listOfProducts>" products \
  "</listOfProducts><kineticLaw>" MATH(law) "</kineticLaw></reaction>"
#define L3V2_HEAD "<?xml version='1.0' encoding='UTF-8'?>\n<sbml xmlns='http://www.sbml.org/sbml/level3/version2/core' level='3' version='2'>\n<model id='m'>\n"
#define L3V2_TAIL "\n</model>\n</sbml>\n"
/* a whole L3V2 document: compartments, species, parameters, reactions, anything else */
#define DOC(comps, species, params, reactions, extra)                                                                                               \
  L3V2_HEAD extra "<listOfCompartments>" comps "</listOfCompartments>\n<listOfSpecies>" species "</listOfSpecies>\n<listOfParameters>" params \
              "</listOfParameters>\n<listOfReactions>" reactions "</listOfReactions>" L3V2_TAIL

static StgssaModelDef *sbml_ok(int srcline, const char *text)
{
  StgssaModelDef *def = NULL;
  char            err[1024];
  int             rc = StgssaModelDefParseSBML(text, strlen(text), FNAME, &def, err, sizeof err);
  ck_assert_msg(rc == STGSSA_PARSE_OK, "line %d: rc %d: %s", srcline, rc, err);
  ck_assert_msg(def != NULL, "line %d: no model", srcline);
  return def;
}
#define SBML_OK(text) sbml_ok(__LINE__, text)

/* the import fails with a message containing want */
static void sbml_fails(int srcline, const char *text, size_t len, const char *want)
{
  StgssaModelDef *def = NULL;
  char            err[1024];
  int             rc = StgssaModelDefParseSBML(text, len, FNAME, &def, err, sizeof err);
  ck_assert_msg(rc == STGSSA_PARSE_ESYNTAX, "line %d: rc %d (%s); expected a failure with '%s'", srcline, rc, err, want);
  ck_assert_msg(def == NULL, "line %d: model returned on failure", srcline);
  ck_assert_msg(strstr(err, want) != NULL, "line %d: message\n  %s\nlacks\n  %s", srcline, err, want);
}
#define SBML_FAILS(text, want) sbml_fails(__LINE__, text, strlen(text), want)

static char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf;
  long  n;
  ck_assert_msg(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  ck_assert_ptr_nonnull(buf);
  ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static int sp(const StgssaModelDef *d, const char *name)
{
  int k = StgssaModelDefFindSpecies(d, name);
  ck_assert_msg(k >= 0, "no species %s", name);
  return k;
}

static int par(const StgssaModelDef *d, const char *name)
{
  int k = StgssaModelDefFindParam(d, name);
  ck_assert_msg(k >= 0, "no parameter %s", name);
  return k;
}

static void params_of(const StgssaModelDef *d, double *p)
{
  for (int i = 0; i < d->nparams; i++) p[i] = d->params[i].value;
}

static void assert_close(double got, double want, const char *what)
{
  ck_assert_msg(fabs(got - want) <= 1e-13 * fmax(1.0, fabs(want)), "%s: got %.17g, want %.17g", what, got, want);
}

/* ---------------------------------------------------------------- accepted models */

START_TEST(test_telegraph)
{
  StgssaModelDef *x, *n;
  char            err[512];
  size_t          len;
  char           *text = read_file(SOURCE_ROOT "/input/telegraph.xml", &len);
  int             rc   = StgssaModelDefParseSBML(text, len, "telegraph.xml", &x, err, sizeof err);
  ck_assert_msg(rc == STGSSA_PARSE_OK, "%s", err);
  ck_assert_int_eq(StgssaModelDefParseFile(SOURCE_ROOT "/input/telegraph.model", &n, err, sizeof err), STGSSA_PARSE_OK);
  ck_assert_str_eq(x->text, text);
  ck_assert_int_eq(x->nspecies, n->nspecies);
  ck_assert_int_eq(x->nparams, n->nparams);
  ck_assert_int_eq(x->nreactions, n->nreactions);
  for (int i = 0; i < n->nspecies; i++) {
    ck_assert_str_eq(x->species[i].name, n->species[i].name);
    ck_assert_int_eq(x->species[i].initial, n->species[i].initial);
  }
  for (int i = 0; i < n->nparams; i++) {
    ck_assert_str_eq(x->params[i].name, n->params[i].name);
    ck_assert(x->params[i].value == n->params[i].value);
  }
  for (int j = 0; j < n->nreactions; j++) {
    const StgssaReactionDef *a = &x->reactions[j], *b = &n->reactions[j];
    ck_assert_ptr_null(a->law); /* mass action: the engine's fast path */
    ck_assert(a->factor == b->factor);
    ck_assert_int_eq(a->param, b->param);
    ck_assert_int_eq(a->reverse, b->reverse);
    ck_assert_int_eq(a->nreact, b->nreact);
    ck_assert_int_eq(a->nprod, b->nprod);
    for (int i = 0; i < a->nreact; i++) {
      ck_assert_int_eq(a->react[i].species, b->react[i].species);
      ck_assert_int_eq(a->react[i].coef, b->react[i].coef);
    }
    for (int i = 0; i < a->nprod; i++) {
      ck_assert_int_eq(a->prod[i].species, b->prod[i].species);
      ck_assert_int_eq(a->prod[i].coef, b->prod[i].coef);
    }
    ck_assert(StgssaModelDefRate(x, j) == StgssaModelDefRate(n, j));
  }
  ck_assert_str_eq(x->reactions[0].label, "promoter"); /* promoter + promoter_reverse: the labelled pair */
  ck_assert_str_eq(x->reactions[1].label, "promoter");
  ck_assert_str_eq(x->reactions[2].label, "transcription");
  ck_assert_int_eq(x->reactions[2].line, 42);
  StgssaModelDefFree(&x);
  StgssaModelDefFree(&n);
  free(text);
}
END_TEST

/* S -> P with Vmax*S/(Km+S), and E + S -> E + P with kcat*E*S/(Km+S) (E a reactant and product) */
static const char mm_doc[] = DOC(COMP("cell", "1"), SPEC("S", "cell", "100") SPEC("E", "cell", "10") SPEC("P", "cell", "0"),
                                 PARAM("Vmax", "3.5") PARAM("Km", "12") PARAM("kcat", "0.25"),
                                 REACTION("mm", SREF("S"), SREF("P"), APPLY("divide", APPLY("times", CI("Vmax") CI("S")) APPLY("plus", CI("Km") CI("S"))))
                                   REACTION("mm_e", SREF("E") SREF("S"), SREF("E") SREF("P"),
                                            APPLY("divide", APPLY("times", CI("kcat") CI("E") CI("S")) APPLY("plus", CI("Km") CI("S")))),
                                 "");

START_TEST(test_michaelis_menten)
{
  StgssaModelDef *d = SBML_OK(mm_doc);
  double          p[8], x[3];
  const double    states[][3] = {{0, 10, 0}, {1, 10, 0}, {12, 3, 5}, {100, 10, 0}, {1e6, 1, 0}};
  int             S = sp(d, "S"), E = sp(d, "E");
  ck_assert_int_eq(d->nreactions, 2);
  ck_assert_int_eq(d->species[S].initial, 100);
  params_of(d, p);
  for (int j = 0; j < 2; j++) {
    ck_assert_ptr_nonnull(d->reactions[j].law);
    ck_assert_int_eq(d->reactions[j].law_full, 1);
    ck_assert_int_eq(d->reactions[j].param, -1);
    ck_assert(d->reactions[j].factor == 1.0);
  }
  ck_assert_int_eq(d->reactions[1].nreact, 2);
  for (size_t k = 0; k < sizeof states / sizeof states[0]; k++) {
    x[S] = states[k][0];
    x[E] = states[k][1];
    x[sp(d, "P")] = states[k][2];
    assert_close(StgssaExprEval(d->reactions[0].law, x, p, NULL, 0), 3.5 * x[S] / (12 + x[S]), "Vmax*S/(Km+S)");
    assert_close(StgssaExprEval(d->reactions[1].law, x, p, NULL, 0), 0.25 * x[E] * x[S] / (12 + x[S]), "kcat*E*S/(Km+S)");
  }
  /* the parameters stay fittable: the law follows a change of Km */
  p[par(d, "Km")] = 1;
  x[S]            = 3;
  assert_close(StgssaExprEval(d->reactions[0].law, x, p, NULL, 0), 3.5 * 3 / 4.0, "after Km = 1");
  StgssaModelDefFree(&d);
}
END_TEST

#define LOCAL(id, v) "<localParameter id='" id "' value='" v "'/>"
#define REACTION_LOCAL(id, reactants, products, law, locals)                                                                                          \
  "<reaction id='" id "' reversible='false'><listOfReactants>" reactants "</listOfReactants><listOfProducts>" products "</listOfProducts><kineticLaw>" \
  MATH(law) "<listOfLocalParameters>" locals "</listOfLocalParameters></kineticLaw></reaction>"

START_TEST(test_local_parameters)
{
  /* r1's local k shadows the global k; the name r1_k is taken by a global parameter, so r1's
     local k becomes r1_k_2; r2's local k becomes r2_k; r3 uses the global k */
  StgssaModelDef *d = SBML_OK(DOC(COMP("c", "1"), SPEC("A", "c", "5") SPEC("B", "c", "0"), PARAM("k", "1") PARAM("r1_k", "2"),
                                  REACTION_LOCAL("r1", SREF("A"), SREF("B"), APPLY("times", CI("k") CI("A")), LOCAL("k", "3"))
                                    REACTION_LOCAL("r2", SREF("B"), SREF("A"), APPLY("times", CI("B") CI("k")), LOCAL("k", "4"))
                                      REACTION("r3", SREF("A"), "", APPLY("times", CI("A") CI("k"))),
                                  ""));
  ck_assert_int_eq(d->nparams, 4);
  ck_assert_str_eq(d->params[2].name, "r1_k_2");
  ck_assert(d->params[2].value == 3);
  ck_assert_str_eq(d->params[3].name, "r2_k");
  ck_assert(d->params[3].value == 4);
  ck_assert_ptr_null(d->reactions[0].law);
  ck_assert_int_eq(d->reactions[0].param, 2);
  ck_assert_int_eq(d->reactions[1].param, 3);
  ck_assert_int_eq(d->reactions[2].param, 0);
  ck_assert(StgssaModelDefRate(d, 1) == 4);
  ck_assert_int_eq(d->reactions[2].nprod, 0);
  StgssaModelDefFree(&d);

  /* a local parameter in a general law, and a Level 2 document (kinetic-law <parameter>) */
  d = SBML_OK("<?xml version='1.0' encoding='UTF-8'?><sbml xmlns='http://www.sbml.org/sbml/level2/version4' level='2' version='4'><model>"
              "<listOfCompartments><compartment id='c' size='1'/></listOfCompartments>"
              "<listOfSpecies><species id='A' compartment='c' initialAmount='7' hasOnlySubstanceUnits='true'/></listOfSpecies>"
              "<listOfReactions><reaction id='deg' reversible='false'><listOfReactants><speciesReference species='A'/></listOfReactants>"
              "<kineticLaw>" MATH(APPLY("divide", APPLY("times", CI("v") CI("A")) APPLY("plus", CN("1") CI("A"))))
              "<listOfParameters><parameter id='v' value='2'/></listOfParameters></kineticLaw></reaction></listOfReactions></model></sbml>");
  ck_assert_int_eq(d->nparams, 1);
  ck_assert_str_eq(d->params[0].name, "deg_v");
  ck_assert_int_eq(d->reactions[0].law_full, 1);
  {
    double x[1] = {3}, p[1] = {2};
    assert_close(StgssaExprEval(d->reactions[0].law, x, p, NULL, 0), 2 * 3 / 4.0, "v*A/(1+A)");
  }
  StgssaModelDefFree(&d);
}
END_TEST

START_TEST(test_compartment_folding)
{
  /* amounts in a compartment of size 2.5: V*k*A is mass action with factor 2.5; V*A/(1+A) a law
     with V folded into a constant */
  StgssaModelDef *d = SBML_OK(DOC(COMP("V", "2.5"), SPEC("A", "V", "4") SPEC("B", "V", "1"), PARAM("k", "0.5"),
                                  REACTION("r1", SREF("A"), SREF("B"), APPLY("times", CI("V") CI("k") CI("A")))
                                    REACTION("r2", SREF("B"), SREF("A"), APPLY("divide", APPLY("times", CI("V") CI("B")) APPLY("plus", CN("1") CI("B"))))
                                      REACTION("r3", "", SREF("A"), APPLY("times", CN("2") CI("V"))),
                                  ""));
  double x[2], p[1] = {0.5};
  int    A = sp(d, "A"), B = sp(d, "B");
  ck_assert_ptr_null(d->reactions[0].law);
  ck_assert(d->reactions[0].factor == 2.5);
  ck_assert_int_eq(d->reactions[0].param, 0);
  ck_assert(StgssaModelDefRate(d, 0) == 1.25);
  ck_assert_int_eq(d->reactions[1].law_full, 1);
  ck_assert_ptr_null(d->reactions[2].law); /* 2*V: a numeric zero-order rate */
  ck_assert_int_eq(d->reactions[2].param, -1);
  ck_assert(d->reactions[2].factor == 5.0);
  x[A] = 0;
  x[B] = 3;
  assert_close(StgssaExprEval(d->reactions[1].law, x, p, NULL, 0), 2.5 * 3 / 4.0, "V*B/(1+B)");
  {
    int n;
    StgssaExprUsedParams(d->reactions[1].law, &n);
    ck_assert_int_eq(n, 0);
  }
  StgssaModelDefFree(&d);
}
END_TEST

START_TEST(test_concentration_species)
{
  /* hasOnlySubstanceUnits=false in a compartment of size 2: initialConcentration 3 is 6
     molecules, and the symbol A in a law means A/2 */
  StgssaModelDef *d = SBML_OK(DOC(COMP("c", "2"),
                                  "<species id='A' compartment='c' initialConcentration='3' hasOnlySubstanceUnits='false' boundaryCondition='false' constant='false'/>"
                                  "<species id='B' compartment='c' initialConcentration='0.5' hasOnlySubstanceUnits='false' boundaryCondition='false' constant='false'/>",
                                  PARAM("k", "0.7"),
                                  REACTION("r1", SREF("A"), SREF("B"), APPLY("times", CI("k") CI("A") CI("c")))
                                    REACTION("r2", SREF("B"), SREF("A"), APPLY("divide", APPLY("times", CI("k") CI("B") CI("B")) APPLY("plus", CN("1") CI("B")))),
                                  ""));
  double x[2], p[1] = {0.7};
  int    A = sp(d, "A"), B = sp(d, "B");
  ck_assert_int_eq(d->species[A].initial, 6);
  ck_assert_int_eq(d->species[B].initial, 1);
  ck_assert_ptr_null(d->reactions[0].law); /* k*[A]*V = k*A: mass action, factor (1/2)*2 */
  ck_assert(d->reactions[0].factor == 1.0);
  ck_assert_int_eq(d->reactions[1].law_full, 1);
  x[A] = 1;
  x[B] = 5;
  assert_close(StgssaExprEval(d->reactions[1].law, x, p, NULL, 0), 0.7 * 2.5 * 2.5 / 3.5, "k*[B]^2/(1+[B])");
  StgssaModelDefFree(&d);

  /* non-integer molecule counts are refused */
  SBML_FAILS(DOC(COMP("c", "2"),
                 "<species id='A' compartment='c' initialConcentration='0.3' hasOnlySubstanceUnits='false' boundaryCondition='false' constant='false'/>",
                 PARAM("k", "1"), REACTION("r1", SREF("A"), "", APPLY("times", CI("k") CI("A"))), ""),
             "t.xml: SBML element species 'A' (line 5): has an initial amount of 0.59999999999999998 molecules; expected a whole number >= 0");
}
END_TEST

#define FUNC(id, body) "<functionDefinition id='" id "'>" MATH(body) "</functionDefinition>"

START_TEST(test_math)
{
  /* function definitions inlined (nested), piecewise, time, relations, logic, log10, logbase,
     root, abs, min/max, power, exp, ln, rational and e-notation numbers, pi, unary minus */
  StgssaModelDef *d = SBML_OK(DOC(COMP("c", "1"), SPEC("A", "c", "1") SPEC("t", "c", "0"), PARAM("k", "2"),
                                  REACTION("r1", SREF("A"), SREF("t"), "<apply><ci>g</ci>" CI("k") CI("A") "</apply>")
                                    REACTION("r2", "", SREF("A"),
                                             "<piecewise><piece>" CI("k") APPLY("and", APPLY("lt", TIME CN("5")) APPLY("geq", CI("A") CN("1"))) "</piece>"
                                             "<piece>" CN("3") APPLY("or", APPLY("gt", TIME CN("7")) APPLY("not", APPLY("eq", CI("A") CN("0")))) "</piece>"
                                             "<otherwise>" APPLY("plus", APPLY("log", CI("k")) APPLY("log", "<logbase>" CN("2") "</logbase>" CN("8"))) "</otherwise></piecewise>")
                                      REACTION("r3", SREF("A"), "",
                                               APPLY("plus", APPLY("root", CI("A")) APPLY("root", "<degree>" CN("2") "</degree>" CI("k"))
                                                              APPLY("abs", APPLY("minus", CI("A"))) APPLY("max", CI("A") CI("k") CN("0.5")) APPLY("min", CI("A") CI("k"))
                                                              APPLY("power", CI("A") CN("2")) APPLY("exp", CI("k")) APPLY("ln", CI("k"))
                                                              "<cn type='rational'>1<sep/>4</cn>" "<cn type='e-notation'>1.5<sep/>-2</cn>" "<pi/>"
                                                              APPLY("minus", CI("k") CN("1")))),
                                  "<listOfFunctionDefinitions>" FUNC("f", "<lambda><bvar><ci>x</ci></bvar><bvar><ci>y</ci></bvar>" APPLY("times", CI("x") APPLY("power", CI("y") CN("2"))) "</lambda>")
                                    FUNC("g", "<lambda><bvar><ci>A</ci></bvar><bvar><ci>k</ci></bvar><apply><ci>f</ci>" CI("k") CI("A") "</apply></lambda>") "</listOfFunctionDefinitions>"));
  double p[1] = {2}, x[2];
  int    A = sp(d, "A"), T = sp(d, "t");
  ck_assert_str_eq(d->species[T].name, "t"); /* a species named t: the time symbol is t_1 */
  for (int j = 0; j < 3; j++) ck_assert_int_eq(d->reactions[j].law_full, 1);
  ck_assert(StgssaExprUsesTime(d->reactions[1].law));
  ck_assert(!StgssaExprUsesTime(d->reactions[0].law));
  /* r1: f(x, y) = x*y^2; g(A, k) = f(k, A) with g's A, k bound to the caller's k, A: g(k, A) = f(A, k) = A*k^2 */
  for (double a = 0; a < 4; a++) {
    x[A] = a;
    x[T] = 7;
    assert_close(StgssaExprEval(d->reactions[0].law, x, p, NULL, 0), a * 4, "g(k, A)");
    assert_close(StgssaExprEval(d->reactions[2].law, x, p, NULL, 0),
                 sqrt(a) + sqrt(2.0) + a + fmax(fmax(a, 2), 0.5) + fmin(a, 2) + a * a + exp(2) + log(2) + 0.25 + 0.015 + 3.14159265358979323846 + 1, "r3");
  }
  x[T] = 0;
  x[A] = 1;
  assert_close(StgssaExprEval(d->reactions[1].law, x, p, NULL, 1), 2, "piecewise 1");
  assert_close(StgssaExprEval(d->reactions[1].law, x, p, NULL, 6), 3, "piecewise 2 (A != 0)");
  x[A] = 0;
  assert_close(StgssaExprEval(d->reactions[1].law, x, p, NULL, 6), log10(2) + 3, "otherwise");
  assert_close(StgssaExprEval(d->reactions[1].law, x, p, NULL, 8), 3, "piecewise 2 (t > 7)");
  StgssaModelDefFree(&d);
}
END_TEST

START_TEST(test_boundary_and_reversible)
{
  /* a boundary species that no reaction changes is a constant species; a reversible reaction is
     one reaction whose propensity is the (net) law; reactants merged; stoichiometry 2 */
  StgssaModelDef *d = SBML_OK(DOC(COMP("c", "1"),
                                  SPEC("A", "c", "10") SPEC("B", "c", "0")
                                    "<species id='X' compartment='c' initialAmount='3' hasOnlySubstanceUnits='true' boundaryCondition='true' constant='false'/>",
                                  PARAM("kf", "1") PARAM("kb", "0.5"),
                                  "<reaction id='r' reversible='true'><listOfReactants>" SREF("A") SREF("A") "</listOfReactants><listOfProducts>"
                                  "<speciesReference species='B' stoichiometry='2' constant='true'/></listOfProducts>"
                                  "<listOfModifiers><modifierSpeciesReference species='X'/></listOfModifiers><kineticLaw>" MATH(
                                    APPLY("minus", APPLY("times", CI("kf") CI("X") CI("A") CI("A")) APPLY("times", CI("kb") CI("B")))) "</kineticLaw></reaction>",
                                  ""));
  double x[3], p[2] = {1, 0.5};
  ck_assert_int_eq(d->nspecies, 3);
  ck_assert_int_eq(d->nreactions, 1);
  ck_assert_int_eq(d->reactions[0].nreact, 1);
  ck_assert_int_eq(d->reactions[0].react[0].coef, 2);
  ck_assert_int_eq(d->reactions[0].prod[0].coef, 2);
  ck_assert_int_eq(d->reactions[0].law_full, 1);
  x[sp(d, "A")] = 4;
  x[sp(d, "B")] = 2;
  x[sp(d, "X")] = 3;
  assert_close(StgssaExprEval(d->reactions[0].law, x, p, NULL, 0), 3 * 16 - 1, "kf*X*A^2 - kb*B");
  StgssaModelDefFree(&d);
}
END_TEST

/* ---------------------------------------------------------------- refused constructs */

#define OK_COMP COMP("c", "1")
#define OK_SPEC SPEC("A", "c", "1")
#define OK_PARAM PARAM("k", "1")
#define OK_REACTION REACTION("r", SREF("A"), "", APPLY("times", CI("k") CI("A")))
#define RULES(x) "<listOfRules>" x "</listOfRules>"

typedef struct {
  const char *what, *text, *want;
} Refusal;

static const Refusal refusals[] = {
  {"event",
   DOC(OK_COMP, OK_SPEC, OK_PARAM, OK_REACTION,
       "<listOfEvents><event id='e1' useValuesFromTriggerTime='true'><trigger initialValue='false' persistent='true'>" MATH(APPLY("gt", TIME CN("1"))) "</trigger>"
       "<listOfEventAssignments><eventAssignment variable='A'>" MATH(CN("0")) "</eventAssignment></listOfEventAssignments></event></listOfEvents>"),
   "t.xml: SBML element event 'e1' (line 4): events are not supported"},
  {"rate rule", DOC(OK_COMP, OK_SPEC, OK_PARAM, OK_REACTION, RULES("<rateRule variable='k'>" MATH(CN("1")) "</rateRule>")),
   "t.xml: SBML element rateRule 'k' (line 4): rate rules are not supported (a quantity changed continuously by a differential equation"},
  {"algebraic rule", DOC(OK_COMP, OK_SPEC, OK_PARAM, OK_REACTION, RULES("<algebraicRule>" MATH(APPLY("minus", CI("k") CN("1"))) "</algebraicRule>")),
   "t.xml: SBML element algebraicRule '' (line 4): algebraic rules are not supported (an implicit constraint"},
  {"assignment rule to a species a reaction changes", DOC(OK_COMP, OK_SPEC, OK_PARAM, OK_REACTION, RULES("<assignmentRule variable='A'>" MATH(CN("1")) "</assignmentRule>")),
   "t.xml: SBML element assignmentRule 'A' (line 4): sets species 'A', which reaction 'r' changes; a species is either set by a rule or changed by reactions"},
  {"assignment rule to a compartment", DOC(OK_COMP, OK_SPEC, OK_PARAM, OK_REACTION, RULES("<assignmentRule variable='c'>" MATH(CN("2")) "</assignmentRule>")),
   "t.xml: SBML element assignmentRule 'c' (line 4): sets compartment 'c'; compartments must be constant"},
  {"cyclic assignment rules",
   DOC(OK_COMP, OK_SPEC, OK_PARAM PARAM("u", "1") PARAM("v", "1"), OK_REACTION,
       RULES("<assignmentRule variable='u'>" MATH(APPLY("plus", CI("v") CI("A"))) "</assignmentRule><assignmentRule variable='v'>" MATH(CI("u")) "</assignmentRule>")),
   "is defined through itself (assignment rules must not form a cycle)"},
  {"cyclic initial assignments",
   DOC(OK_COMP, OK_SPEC, OK_PARAM PARAM("u", "1") PARAM("v", "1"), OK_REACTION,
       "<listOfInitialAssignments><initialAssignment symbol='u'>" MATH(CI("v")) "</initialAssignment><initialAssignment symbol='v'>" MATH(APPLY("times", CN("2") CI("u"))) "</initialAssignment></listOfInitialAssignments>"),
   "t.xml:4: parameter 'u' is defined through itself (via 'v', line 4); expected definitions without cycles"},
  {"initial assignment reading a species",
   DOC(OK_COMP, OK_SPEC, OK_PARAM, OK_REACTION, "<listOfInitialAssignments><initialAssignment symbol='k'>" MATH(CI("A")) "</initialAssignment></listOfInitialAssignments>"),
   "t.xml: SBML element initialAssignment 'k' (line 4): reads species or the time"},
  {"initial count not whole",
   DOC(OK_COMP, OK_SPEC, OK_PARAM, OK_REACTION, "<listOfInitialAssignments><initialAssignment symbol='A'>" MATH(CN("2.5")) "</initialAssignment></listOfInitialAssignments>"),
   "t.xml:4: the initial count of species 'A' = 2.5 evaluates to 2.5; expected a whole number >= 0"},
  {"constraint", DOC(OK_COMP, OK_SPEC, OK_PARAM, OK_REACTION, "<listOfConstraints><constraint>" MATH(APPLY("gt", CI("A") CN("0"))) "</constraint></listOfConstraints>"),
   "t.xml: SBML element constraint '' (line 4): constraints are not supported"},
  {"non-constant compartment", DOC("<compartment id='c' size='1' spatialDimensions='3' constant='false'/>", OK_SPEC, OK_PARAM, OK_REACTION, ""),
   "t.xml: SBML element compartment 'c' (line 4): has constant=\"false\"; only constant compartments are supported"},
  {"non-integer stoichiometry",
   DOC(OK_COMP, OK_SPEC, OK_PARAM, REACTION("r", "<speciesReference species='A' stoichiometry='1.5' constant='true'/>", "", APPLY("times", CI("k") CI("A"))), ""),
   "t.xml: SBML element reaction 'r' (line 7): reactant 'A' has stoichiometry 1.5; expected a whole number 0..1000"},
  {"negative stoichiometry",
   DOC(OK_COMP, OK_SPEC, OK_PARAM, REACTION("r", "", "<speciesReference species='A' stoichiometry='-1' constant='true'/>", CI("k")), ""),
   "t.xml: SBML element reaction 'r' (line 7): product 'A' has stoichiometry -1; expected a whole number 0..1000"},
  {"missing stoichiometry", DOC(OK_COMP, OK_SPEC, OK_PARAM, REACTION("r", "<speciesReference species='A' constant='true'/>", "", APPLY("times", CI("k") CI("A"))), ""),
   "t.xml: SBML element reaction 'r' (line 7): reactant 'A' has no stoichiometry; expected stoichiometry=\"1\""},
  {"stoichiometryMath",
   "<?xml version='1.0' encoding='UTF-8'?>\n<sbml xmlns='http://www.sbml.org/sbml/level2/version4' level='2' version='4'><model>"
   "<listOfCompartments><compartment id='c' size='1'/></listOfCompartments>"
   "<listOfSpecies><species id='A' compartment='c' initialAmount='7' hasOnlySubstanceUnits='true'/></listOfSpecies>\n"
   "<listOfReactions><reaction id='r' reversible='false'><listOfReactants><speciesReference species='A'><stoichiometryMath>" MATH(CN("2")) "</stoichiometryMath>"
   "</speciesReference></listOfReactants><kineticLaw>" MATH(CI("A")) "</kineticLaw></reaction></listOfReactions></model></sbml>",
   "t.xml: SBML element reaction 'r' (line 3): reactant 'A' has stoichiometryMath, which is not supported"},
  {"boundary species changed by a reaction",
   DOC(OK_COMP, "<species id='A' compartment='c' initialAmount='1' hasOnlySubstanceUnits='true' boundaryCondition='true' constant='false'/>", OK_PARAM, OK_REACTION, ""),
   "t.xml: SBML element reaction 'r' (line 7): has reactant 'A', which has boundaryCondition=\"true\" (such species must not be reactants or products"},
  {"constant species changed by a reaction",
   DOC(OK_COMP, OK_SPEC "<species id='B' compartment='c' initialAmount='1' hasOnlySubstanceUnits='true' boundaryCondition='false' constant='true'/>", OK_PARAM,
       REACTION("r", SREF("A"), SREF("B"), APPLY("times", CI("k") CI("A"))), ""),
   "t.xml: SBML element reaction 'r' (line 7): has product 'B', which has constant=\"true\""},
  {"fast reaction",
   "<?xml version='1.0' encoding='UTF-8'?>\n<sbml xmlns='http://www.sbml.org/sbml/level3/version1/core' level='3' version='1'><model>"
   "<listOfCompartments><compartment id='c' size='1' constant='true'/></listOfCompartments>"
   "<listOfSpecies>" OK_SPEC "</listOfSpecies>\n"
   "<listOfReactions><reaction id='r' reversible='false' fast='true'><listOfReactants>" SREF("A") "</listOfReactants><kineticLaw>" MATH(CI("A"))
   "</kineticLaw></reaction></listOfReactions></model></sbml>",
   "t.xml: SBML element reaction 'r' (line 3): has fast=\"true\", which is not supported"},
  {"missing kinetic law",
   DOC(OK_COMP, OK_SPEC, OK_PARAM, "<reaction id='r' reversible='false'><listOfReactants>" SREF("A") "</listOfReactants></reaction>", ""),
   "t.xml: SBML element reaction 'r' (line 7): has no kinetic law"},
  {"kinetic law without math",
   DOC(OK_COMP, OK_SPEC, OK_PARAM, "<reaction id='r' reversible='false'><listOfReactants>" SREF("A") "</listOfReactants><kineticLaw/></reaction>", ""),
   "t.xml: SBML element reaction 'r' (line 7): kinetic law has no math"},
  {"reaction without species", DOC(OK_COMP, OK_SPEC, OK_PARAM, "<reaction id='r' reversible='false'><kineticLaw>" MATH(CI("k")) "</kineticLaw></reaction>", ""),
   "t.xml: SBML element reaction 'r' (line 7): has no reactants and no products"},
  {"non-integer initial amount", DOC(OK_COMP, SPEC("A", "c", "2.5"), OK_PARAM, OK_REACTION, ""),
   "t.xml: SBML element species 'A' (line 5): has an initial amount of 2.5 molecules; expected a whole number >= 0 (molecule counts)"},
  {"no initial amount",
   DOC(OK_COMP, "<species id='A' compartment='c' hasOnlySubstanceUnits='true' boundaryCondition='false' constant='false'/>", OK_PARAM, OK_REACTION, ""),
   "t.xml: SBML element species 'A' (line 5): has neither initialAmount nor initialConcentration"},
  {"compartment without size for a concentration",
   DOC("<compartment id='c' spatialDimensions='3' constant='true'/>",
       "<species id='A' compartment='c' initialConcentration='1' hasOnlySubstanceUnits='false' boundaryCondition='false' constant='false'/>", OK_PARAM, OK_REACTION,
       ""),
   "t.xml: SBML element compartment 'c' (line 4): has no size, which the initialConcentration of species 'A' needs"},
  {"negative parameter", DOC(OK_COMP, OK_SPEC, PARAM("k", "-1"), OK_REACTION, ""),
   "t.xml: SBML element parameter 'k' (line 6): has value -1; expected a finite value >= 0"},
  {"parameter without value", DOC(OK_COMP, OK_SPEC, "<parameter id='k' constant='true'/>", OK_REACTION, ""),
   "t.xml: SBML element parameter 'k' (line 6): has no value"},
  {"conversion factor",
   DOC(OK_COMP,
       "<species id='A' compartment='c' initialAmount='1' hasOnlySubstanceUnits='true' boundaryCondition='false' constant='false' conversionFactor='k'/>",
       OK_PARAM, OK_REACTION, ""),
   "t.xml: SBML element species 'A' (line 5): has a conversionFactor, which is not supported"},
  {"trigonometric function", DOC(OK_COMP, OK_SPEC, OK_PARAM, REACTION("r", SREF("A"), "", APPLY("sin", CI("A"))), ""),
   "t.xml: SBML element reaction 'r' (line 7): math uses <sin>, which is not supported"},
  {"delay",
   DOC(OK_COMP, OK_SPEC, OK_PARAM,
       REACTION("r", SREF("A"), "",
                "<apply><csymbol encoding='text' definitionURL='http://www.sbml.org/sbml/symbols/delay'>delay</csymbol>" CI("A") CN("1") "</apply>"),
       ""),
   "t.xml: SBML element reaction 'r' (line 7): math uses <delay>, which is not supported"},
  {"factorial", DOC(OK_COMP, OK_SPEC, OK_PARAM, REACTION("r", SREF("A"), "", APPLY("factorial", CI("A"))), ""),
   "t.xml: SBML element reaction 'r' (line 7): math uses <factorial>, which is not supported"},
  {"root of degree 3",
   DOC(OK_COMP, OK_SPEC, OK_PARAM, REACTION("r", SREF("A"), "", APPLY("root", "<degree>" CN("3") "</degree>" CI("A"))), ""),
   "t.xml: SBML element reaction 'r' (line 7): math has <root/> of a degree other than 2, which is not supported"},
  {"piecewise without otherwise",
   DOC(OK_COMP, OK_SPEC, OK_PARAM, REACTION("r", SREF("A"), "", "<piecewise><piece>" CI("A") APPLY("gt", CI("A") CN("1")) "</piece></piecewise>"), ""),
   "t.xml: SBML element reaction 'r' (line 7): math has <piecewise> without <otherwise>"},
  {"call of an undefined function", DOC(OK_COMP, OK_SPEC, OK_PARAM, REACTION("r", SREF("A"), "", "<apply><ci>hill</ci>" CI("A") "</apply>"), ""),
   "t.xml: SBML element reaction 'r' (line 7): math calls 'hill', which is not a function definition"},
  {"recursive function definitions",
   DOC(OK_COMP, OK_SPEC, OK_PARAM, REACTION("r", SREF("A"), "", "<apply><ci>f</ci>" CI("A") "</apply>"),
       "<listOfFunctionDefinitions>" FUNC("f", "<lambda><bvar><ci>x</ci></bvar><apply><ci>f</ci>" CI("x") "</apply></lambda>") "</listOfFunctionDefinitions>"),
   "t.xml: SBML element reaction 'r' (line 7): function calls nest more than 32 deep"},
  {"unknown name", DOC(OK_COMP, OK_SPEC, OK_PARAM, REACTION("r", SREF("A"), "", APPLY("times", CI("kk") CI("A"))), ""),
   "t.xml: SBML element reaction 'r' (line 7): math uses 'kk', which is not a species, parameter, local parameter or compartment"},
  {"reaction id in math", DOC(OK_COMP, OK_SPEC, OK_PARAM, REACTION("r", SREF("A"), "", APPLY("times", CI("r") CI("A"))), ""),
   "t.xml: SBML element reaction 'r' (line 7): math uses reaction 'r'"},
  {"division by zero", DOC(OK_COMP, OK_SPEC, OK_PARAM, REACTION("r", SREF("A"), "", APPLY("times", APPLY("divide", CN("1") CN("0")) CI("A"))), ""),
   "t.xml: SBML element reaction 'r' (line 7): kinetic law cannot be used: found constant subexpression with value inf; expected a finite value (the law as "
   "converted: ((1 / 0) * A))"},
  {"infinite number", DOC(OK_COMP, OK_SPEC, OK_PARAM, REACTION("r", SREF("A"), "", APPLY("times", "<infinity/>" CI("A"))), ""),
   "t.xml: SBML element reaction 'r' (line 7): math has the number inf; expected a finite number"},
  {"long id", DOC(OK_COMP, OK_SPEC "<species id='A234567890123456789012345678901234567890123456789012345678901234' compartment='c' initialAmount='1' hasOnlySubstanceUnits='true' boundaryCondition='false' constant='false'/>", OK_PARAM, OK_REACTION, ""),
   "t.xml: SBML element species 'A234567890123456789012345678901234567890123456789012345678901234' (line 5): id is longer than 63 bytes"},
  /* ids are unique in a model (found by fuzzing: tests/fuzz/regressions/sbml/) */
  {"two parameters with one id", DOC(OK_COMP, OK_SPEC, OK_PARAM PARAM("k", "2"), OK_REACTION, ""),
   "t.xml: SBML element parameter 'k' (line 6): has the same id as an element before it; expected ids unique in the model"},
  {"two species with one id", DOC(OK_COMP, OK_SPEC SPEC("A", "c", "3"), OK_PARAM, OK_REACTION, ""),
   "t.xml: SBML element species 'A' (line 5): has the same id as an element before it; expected ids unique in the model"},
  {"a parameter with a species id", DOC(OK_COMP, OK_SPEC, OK_PARAM PARAM("A", "2"), OK_REACTION, ""),
   "t.xml: SBML element parameter 'A' (line 6): has the same id as an element before it; expected ids unique in the model"},
  {"no reactions", DOC(OK_COMP, OK_SPEC, OK_PARAM, "", ""), "t.xml: SBML element model 'm' (line 3): has no reactions"},
  {"Level 1",
   "<?xml version='1.0' encoding='UTF-8'?>\n<sbml xmlns='http://www.sbml.org/sbml/level1' level='1' version='2'><model name='m'>"
   "<listOfCompartments><compartment name='c'/></listOfCompartments><listOfSpecies><species name='A' compartment='c' initialAmount='1'/></listOfSpecies>"
   "<listOfReactions><reaction name='r'><listOfReactants><speciesReference species='A'/></listOfReactants><kineticLaw formula='A'/></reaction></listOfReactions>"
   "</model></sbml>",
   "t.xml:2: SBML Level 1 is not supported; convert the file to Level 2 or 3"},
  {"unknown level", "<?xml version='1.0' encoding='UTF-8'?>\n<sbml xmlns='http://www.sbml.org/sbml/level9/version9/core' level='9' version='9'><model/></sbml>",
   "t.xml:2:82: invalid SBML: The level and version specified for the document must be consistent"},
  {"required package",
   "<?xml version='1.0' encoding='UTF-8'?>\n<sbml xmlns='http://www.sbml.org/sbml/level3/version1/core' xmlns:comp='http://www.sbml.org/sbml/level3/version1/comp/version1' "
   "level='3' version='1' comp:required='true'><model/></sbml>",
   "t.xml:2: the document requires the SBML package http://www.sbml.org/sbml/level3/version1/comp/version1, which is not supported"},
  {"malformed XML", "<?xml version='1.0' encoding='UTF-8'?>\n<sbml xmlns='http://www.sbml.org/sbml/level3/version2/core' level='3' version='2'>\n<model></sbml>\n",
   "t.xml:3:15: invalid SBML: Element tag mismatch or missing tag."},
  {"not XML", "begin species\n A 1\nend species\n", "t.xml:2:1: invalid SBML: Main XML content is empty."},
  {"no model", "<?xml version='1.0' encoding='UTF-8'?>\n<sbml xmlns='http://www.sbml.org/sbml/level3/version2/core' level='3' version='2'/>\n",
   "t.xml:2: the SBML document has no model"},
};

START_TEST(test_refusals)
{
  const Refusal *r = &refusals[_i];
  StgssaModelDef *def = NULL;
  char            err[1024];
  int             rc = StgssaModelDefParseSBML(r->text, strlen(r->text), FNAME, &def, err, sizeof err);
  ck_assert_msg(rc == STGSSA_PARSE_ESYNTAX, "%s: rc %d (%s)", r->what, rc, err);
  ck_assert_ptr_null(def);
  ck_assert_msg(strstr(err, r->want) != NULL, "%s: message\n  %s\nlacks\n  %s", r->what, err, r->want);
  if (getenv("STGSSA_TEST_VERBOSE")) printf("%-45s %s\n", r->what, err);
}
END_TEST

START_TEST(test_bad_files)
{
  size_t len;
  char  *text = read_file(SOURCE_ROOT "/input/telegraph.xml", &len);
  /* truncated at every 97th byte: never a crash, always a message with a line */
  for (size_t n = 1; n < len; n += 97) {
    StgssaModelDef *def = NULL;
    char            err[1024];
    int             rc = StgssaModelDefParseSBML(text, n, FNAME, &def, err, sizeof err);
    ck_assert_msg(rc == STGSSA_PARSE_ESYNTAX, "truncated at %zu: rc %d", n, rc);
    ck_assert_ptr_null(def);
    ck_assert_msg(!strncmp(err, "t.xml:", 6) && strstr(err, "invalid SBML: "), "truncated at %zu: %s", n, err);
  }
  sbml_fails(__LINE__, text, len / 2, "t.xml:26:");
  sbml_fails(__LINE__, "", 0, "t.xml: the file is empty; expected an SBML document");
  sbml_fails(__LINE__, NULL, 0, "t.xml: the file is empty");
  sbml_fails(__LINE__, "   \n\n", 3, "t.xml:");
  sbml_fails(__LINE__, "<sbml\0>", 7, "t.xml: the file contains a NUL byte");
  /* not NUL-terminated: only len bytes are read */
  {
    char           *copy = malloc(len + 10);
    StgssaModelDef *def  = NULL;
    char            err[256];
    memcpy(copy, text, len);
    memcpy(copy + len, "<garbage>", 9);
    ck_assert_int_eq(StgssaModelDefParseSBML(copy, len, FNAME, &def, err, sizeof err), STGSSA_PARSE_OK);
    StgssaModelDefFree(&def);
    ck_assert_int_eq(StgssaModelDefParseSBML(copy, len, FNAME, NULL, err, sizeof err), STGSSA_PARSE_ESYNTAX);
    ck_assert_int_eq(StgssaModelDefParseSBML(NULL, 5, FNAME, &def, err, sizeof err), STGSSA_PARSE_ESYNTAX);
    ck_assert_int_eq(StgssaModelDefParseSBML(copy, len, FNAME, &def, NULL, 0), STGSSA_PARSE_OK);
    StgssaModelDefFree(&def);
    free(copy);
  }
  free(text);
}
END_TEST

static Suite *sbml_suite(void)
{
  Suite *s  = suite_create("sbml");
  TCase *tc = tcase_create("valid");
  tcase_add_test(tc, test_telegraph);
  tcase_add_test(tc, test_michaelis_menten);
  tcase_add_test(tc, test_local_parameters);
  tcase_add_test(tc, test_compartment_folding);
  tcase_add_test(tc, test_concentration_species);
  tcase_add_test(tc, test_math);
  tcase_add_test(tc, test_boundary_and_reversible);
  suite_add_tcase(s, tc);
  tc = tcase_create("errors");
  tcase_add_loop_test(tc, test_refusals, 0, (int)(sizeof refusals / sizeof refusals[0]));
  tcase_add_test(tc, test_bad_files);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(sbml_suite());
  int      failed;
  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
