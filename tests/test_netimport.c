/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Unit tests of the BioNetGen `.net` importer (src/model/netimport.c): the accepted subset, the
  species name mapping, the mass-action convention (propensities equal to the native parser's
  and to BNG's x(x-1)... formula), groups, labels of reverse pairs, and every error class.
  Quiet unless a test fails; exit status nonzero on failure.
*/
#include <stgssa/modeldef.h>

#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FNAME "t.net"

static StgssaModelDef *net_ok(int srcline, const char *text)
{
  StgssaModelDef *def = NULL;
  char            err[512];
  int             rc = StgssaModelDefParseNet(text, strlen(text), FNAME, &def, err, sizeof err);
  ck_assert_msg(rc == STGSSA_PARSE_OK, "line %d: rc %d: %s", srcline, rc, err);
  ck_assert_msg(def != NULL, "line %d: no model", srcline);
  return def;
}
#define NET_OK(text) net_ok(__LINE__, text)

static StgssaModelDef *native_ok(const char *text)
{
  StgssaModelDef *def = NULL;
  char            err[512];
  int             rc = StgssaModelDefParse(text, strlen(text), "t.model", &def, err, sizeof err);
  ck_assert_msg(rc == STGSSA_PARSE_OK, "native: %s", err);
  return def;
}

/* Our propensity: k * prod_s C(x_s, n_s), computed as the engine's convention defines it. */
static double propensity(const StgssaModelDef *def, int j, const int64_t *x)
{
  const StgssaReactionDef *r = &def->reactions[j];
  double                   a = StgssaModelDefRate(def, j);
  for (int i = 0; i < r->nreact; i++) {
    int64_t xs = x[r->react[i].species];
    for (int m = 0; m < r->react[i].coef; m++) a *= (double)(xs - m) / (double)(m + 1);
  }
  return a;
}

static const char telegraph_net[] = "# Created by BioNetGen 2.9.0\n"
                                    "substanceUnits(\"Number\");\n"
                                    "begin parameters\n"
                                    "    1 k_on   0.5  # Constant\n"
                                    "    2 k_off  2.0\n"
                                    "    3 k_tx   20\n"
                                    "    4 k_deg  1\n"
                                    "end parameters\n"
                                    "begin species\n"
                                    "    1 G(s~off)  1\n"
                                    "    2 G(s~on)   0\n"
                                    "    3 mRNA()    0\n"
                                    "end species\n"
                                    "begin reactions\n"
                                    "    1 1 2 k_on #promoter\n"
                                    "    2 2 1 k_off #_reverse_promoter\n"
                                    "    3 2 2,3 k_tx #R2\n"
                                    "    4 3 0 k_deg #R3\n"
                                    "end reactions\n"
                                    "begin groups\n"
                                    "    1 Mtot 3\n"
                                    "    2 Weighted 2*3,1\n"
                                    "    3 Empty\n"
                                    "end groups\n";

START_TEST(test_telegraph)
{
  StgssaModelDef *def = NET_OK(telegraph_net);
  ck_assert_int_eq(def->nparams, 4);
  ck_assert_int_eq(def->nspecies, 3);
  ck_assert_int_eq(def->nreactions, 4);
  ck_assert_str_eq(def->species[0].name, "G_s_off");
  ck_assert_str_eq(def->species[1].name, "G_s_on");
  ck_assert_str_eq(def->species[2].name, "mRNA");
  ck_assert(def->species[0].initial == 1);
  ck_assert_int_eq(def->species[0].line, 10);
  ck_assert_double_eq(def->params[1].value, 2.0);
  ck_assert_int_eq(def->params[1].line, 5);
  /* labels from the rule comments; the reverse reaction is paired */
  ck_assert_str_eq(def->reactions[0].label, "promoter");
  ck_assert_str_eq(def->reactions[1].label, "promoter");
  ck_assert_int_eq(def->reactions[0].reverse, 1);
  ck_assert_int_eq(def->reactions[1].reverse, 0);
  ck_assert_str_eq(def->reactions[2].label, "R2");
  ck_assert_int_eq(def->reactions[2].reverse, -1);
  ck_assert_int_eq(def->reactions[2].line, 17);
  ck_assert_int_eq(def->reactions[2].nprod, 2);
  ck_assert_int_eq(def->reactions[3].nprod, 0);
  ck_assert_int_eq(def->reactions[3].param, 3);
  ck_assert_double_eq(def->reactions[3].factor, 1.0);
  /* groups */
  ck_assert_int_eq(def->ngroups, 3);
  ck_assert_str_eq(def->groups[0].name, "Mtot");
  ck_assert_int_eq(def->groups[0].nterms, 1);
  ck_assert_int_eq(def->groups[0].species[0], 2);
  ck_assert_double_eq(def->groups[0].weight[0], 1.0);
  ck_assert_int_eq(def->groups[1].nterms, 2);
  ck_assert_int_eq(def->groups[1].species[0], 2);
  ck_assert_double_eq(def->groups[1].weight[0], 2.0);
  ck_assert_int_eq(def->groups[1].species[1], 0);
  ck_assert_int_eq(def->groups[2].nterms, 0);
  ck_assert_ptr_nonnull(strstr(def->text, "substanceUnits"));
  ck_assert_str_eq(def->filename, FNAME);
  StgssaModelDefFree(&def);
  ck_assert_ptr_null(def);
}
END_TEST

/* The shipped input/telegraph.net is the native telegraph model. */
START_TEST(test_shipped_telegraph)
{
  static const char *names[] = {"G_off", "G_on", "M"};
  char               path[1024], *buf;
  FILE              *f;
  long               n;
  StgssaModelDef    *net = NULL, *nat = NULL;
  char               err[512];

  snprintf(path, sizeof path, "%s/input/telegraph.net", SOURCE_ROOT);
  ck_assert_ptr_nonnull(f = fopen(path, "rb"));
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  rewind(f);
  buf = malloc((size_t)n + 1);
  ck_assert_int_eq((long)fread(buf, 1, (size_t)n, f), n);
  fclose(f);
  ck_assert_int_eq(StgssaModelDefParseNet(buf, (size_t)n, path, &net, err, sizeof err), STGSSA_PARSE_OK);
  free(buf);
  snprintf(path, sizeof path, "%s/input/telegraph.model", SOURCE_ROOT);
  ck_assert_int_eq(StgssaModelDefParseFile(path, &nat, err, sizeof err), STGSSA_PARSE_OK);
  ck_assert_int_eq(net->nspecies, nat->nspecies);
  ck_assert_int_eq(net->nreactions, nat->nreactions);
  for (int s = 0; s < 3; s++) {
    ck_assert_str_eq(net->species[s].name, names[s]);
    ck_assert_str_eq(nat->species[s].name, names[s]);
    ck_assert(net->species[s].initial == nat->species[s].initial);
  }
  for (int j = 0; j < nat->nreactions; j++) {
    const StgssaReactionDef *a = &net->reactions[j], *b = &nat->reactions[j];
    ck_assert_int_eq(a->nreact, b->nreact);
    ck_assert_int_eq(a->nprod, b->nprod);
    for (int i = 0; i < a->nreact; i++) ck_assert_int_eq(a->react[i].species, b->react[i].species);
    for (int i = 0; i < a->nprod; i++) ck_assert_int_eq(a->prod[i].species, b->prod[i].species);
    ck_assert_int_eq(a->reverse, b->reverse);
    ck_assert(StgssaModelDefRate(net, j) == StgssaModelDefRate(nat, j));
    if (b->label) ck_assert_str_eq(a->label, b->label);
  }
  StgssaModelDefFree(&net);
  StgssaModelDefFree(&nat);
}
END_TEST

/* Dimerization 2A -> B: BNG writes the rule A + A -> B kf as the reaction `1,1 2 0.5*kf` and
   run_network's propensity is 0.5*kf * A*(A-1); ours is kf * C(A,2); both must be identical,
   and identical to the native `2 A -> B  kf`. */
START_TEST(test_dimerization)
{
  StgssaModelDef *net = NET_OK("begin parameters\n 1 kf 0.37\nend parameters\n"
                               "begin species\n 1 A() 100\n 2 B() 0\nend species\n"
                               "begin reactions\n 1 1,1 2 0.5*kf\nend reactions\n");
  StgssaModelDef *nat = native_ok("begin parameters\n kf 0.37\nend parameters\nbegin species\n A 100\n B 0\nend species\n"
                                  "begin reactions\n 2 A -> B  kf\nend reactions\n");
  const StgssaReactionDef *r = &net->reactions[0], *q = &nat->reactions[0];
  ck_assert_int_eq(r->nreact, 1);
  ck_assert_int_eq(r->react[0].species, 0);
  ck_assert_int_eq(r->react[0].coef, 2);
  ck_assert_int_eq(r->param, q->param);
  ck_assert(r->factor == q->factor); /* 0.5 * 2! = 1 exactly */
  ck_assert(StgssaModelDefRate(net, 0) == StgssaModelDefRate(nat, 0));
  for (int64_t a = 0; a <= 100; a++) {
    int64_t x[2] = {a, 0};
    double  bng  = 0.5 * 0.37 * (double)a * (double)(a - 1);
    ck_assert(propensity(net, 0, x) == propensity(nat, 0, x));
    ck_assert_msg(fabs(propensity(net, 0, x) - bng) <= 1e-15 * bng, "A=%lld: %.17g vs BNG %.17g", (long long)a, propensity(net, 0, x), bng);
  }
  StgssaModelDefFree(&net);
  StgssaModelDefFree(&nat);
}
END_TEST

/* Repeated reactants in any order merge; the factor is multiplied by n! per species. */
START_TEST(test_combinatorics)
{
  StgssaModelDef *def = NET_OK("begin parameters\n 1 k 2\nend parameters\n"
                               "begin species\n 1 A 10\n 2 B 5\nend species\n"
                               "begin reactions\n"
                               " 1 1,2,1 2,2 3*k\n"   /* 2A + B -> 2B: factor 3 * 2! */
                               " 2 1,1,1 0 0.25\n"    /* 3A -> 0, numeric rate: 0.25 * 3! */
                               " 3 0 1 k\n"
                               "end reactions\n");
  const StgssaReactionDef *r = &def->reactions[0];
  ck_assert_int_eq(r->nreact, 2);
  ck_assert_int_eq(r->react[0].species, 0);
  ck_assert_int_eq(r->react[0].coef, 2);
  ck_assert_int_eq(r->react[1].species, 1);
  ck_assert_int_eq(r->react[1].coef, 1);
  ck_assert_int_eq(r->nprod, 1);
  ck_assert_int_eq(r->prod[0].coef, 2);
  ck_assert_double_eq(r->factor, 6.0);
  ck_assert_int_eq(def->reactions[1].param, -1);
  ck_assert_double_eq(StgssaModelDefRate(def, 1), 1.5);
  ck_assert_int_eq(def->reactions[2].nreact, 0);
  {
    int64_t x[2] = {10, 5};
    ck_assert_double_eq(propensity(def, 0, x), 3 * 2 * 10.0 * 9 * 5); /* BNG: 3k A(A-1) B */
    ck_assert_double_eq(propensity(def, 1, x), 0.25 * 10.0 * 9 * 8);
  }
  StgssaModelDefFree(&def);
}
END_TEST

START_TEST(test_name_mapping)
{
  StgssaModelDef *def = NET_OK("begin parameters\n 1 M 1\nend parameters\n"
                               "begin species\n"
                               " 1 G(s~off) 1\n"
                               " 2 mRNA() 0\n"
                               " 3 A(b!1).B(a!1) 0\n"
                               " 4 @c::X() 0\n"
                               " 5 M() 0\n"              /* clashes with parameter M */
                               " 6 G(s~off,x) 0\n"
                               " 7 G_s_off() 0\n"        /* clashes with species 1 */
                               " 8 7up() 0\n"            /* starts with a digit */
                               " 9 L(" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa) 0\n"
                               " 10 _x() 0\n"
                               "end species\n"
                               "begin reactions\n 1 1 0 M\nend reactions\n");
  ck_assert_str_eq(def->species[0].name, "G_s_off");
  ck_assert_str_eq(def->species[1].name, "mRNA");
  ck_assert_str_eq(def->species[2].name, "A_b_1_B_a_1");
  ck_assert_str_eq(def->species[3].name, "c_X");
  ck_assert_str_eq(def->species[4].name, "M_5");
  ck_assert_str_eq(def->species[5].name, "G_s_off_x");
  ck_assert_str_eq(def->species[6].name, "G_s_off_7");
  ck_assert_str_eq(def->species[7].name, "S_7up");
  ck_assert_int_eq((int)strlen(def->species[8].name), STGSSA_NAME_MAX);
  ck_assert_str_eq(def->species[8].name + STGSSA_NAME_MAX - 2, "_9");
  ck_assert(!strncmp(def->species[8].name, "L_aaaa", 6));
  ck_assert_str_eq(def->species[9].name, "_x");
  ck_assert_int_eq(StgssaModelDefFindSpecies(def, "mRNA"), 1);
  StgssaModelDefFree(&def);
}
END_TEST

START_TEST(test_parameter_expressions)
{
  StgssaModelDef *def = NET_OK("begin parameters\n"
                               " 1 a 2\n"
                               " 2 b a*3+1\n"
                               " 3 c (b-a)/2  # ConstantExpression\n"
                               " 4 d -a*-1.5e1\n"
                               " 5 n0 b*10\n"
                               "end parameters\n"
                               "begin species\n 1 X n0\n 2 Y 3.0\nend species\n"
                               "begin reactions\n 1 1 2 c\nend reactions\n");
  ck_assert_double_eq(def->params[1].value, 7.0);
  ck_assert_double_eq(def->params[2].value, 2.5);
  ck_assert_double_eq(def->params[3].value, 30.0);
  ck_assert(def->species[0].initial == 70);
  ck_assert(def->species[1].initial == 3);
  StgssaModelDefFree(&def);
}
END_TEST

/* issue 16: derived parameters and initial counts follow overrides; an overridden derived
   parameter becomes free; a failed override leaves the definition unchanged; homogeneity degrees */
START_TEST(test_derived_overrides)
{
  StgssaModelDef *def = NET_OK("begin parameters\n"
                               " 1 a 2\n"
                               " 2 b a*3+1\n"
                               " 3 c (b-a)/2\n"
                               " 4 g a*a/b\n"
                               " 5 n0 b*10\n"
                               "end parameters\n"
                               "begin species\n 1 X n0\n 2 Y 3.0\nend species\n"
                               "begin reactions\n 1 1 2 c\nend reactions\n");
  char err[512];
  int  deg[5];
  ck_assert_ptr_null(def->params[0].expr);
  ck_assert_ptr_nonnull(def->params[1].expr);
  ck_assert_ptr_nonnull(def->species[0].init_expr);
  ck_assert_ptr_null(def->species[1].init_expr);
  ck_assert_int_eq(StgssaModelDefSetParameters(def, "a=4", "-stgssa_parameters", err, sizeof err), STGSSA_PARSE_OK);
  ck_assert_double_eq(def->params[1].value, 13.0);  /* b = 3a + 1 */
  ck_assert_double_eq(def->params[2].value, 4.5);   /* c = (b - a)/2 */
  ck_assert(def->species[0].initial == 130);        /* X = n0 = 10 b */
  ck_assert_double_eq(StgssaModelDefRate(def, 0), 4.5);
  /* degrees in a: b = 3a + 1 is not homogeneous, g = a^2/b neither; in a free b: c has none, g degree -1 */
  ck_assert_int_eq(StgssaModelDefParamDegrees(def, 0, deg), 0);
  ck_assert_int_eq(deg[0], 1);
  ck_assert_int_eq(deg[1], INT_MIN);
  ck_assert_int_eq(deg[3], INT_MIN);
  /* override the derived b: it becomes free, and c, n0 follow it, not a */
  ck_assert_int_eq(StgssaModelDefSetParameters(def, "b=6", "-stgssa_parameters", err, sizeof err), STGSSA_PARSE_OK);
  ck_assert_ptr_null(def->params[1].expr);
  ck_assert_double_eq(def->params[2].value, 1.0);
  ck_assert(def->species[0].initial == 60);
  ck_assert_int_eq(StgssaModelDefParamDegrees(def, 1, deg), 0);
  ck_assert_int_eq(deg[2], INT_MIN); /* (b - a)/2 */
  ck_assert_int_eq(deg[3], -1);      /* a*a/b */
  ck_assert_int_eq(StgssaModelDefSetParameters(def, "a=1", "-stgssa_parameters", err, sizeof err), STGSSA_PARSE_OK);
  ck_assert_double_eq(def->params[1].value, 6.0);
  ck_assert_double_eq(def->params[2].value, 2.5);
  /* a = 7 > b makes c negative: refused, naming the line and the expression; nothing changes */
  ck_assert_int_eq(StgssaModelDefSetParameters(def, "a=7", "-stgssa_parameters", err, sizeof err), STGSSA_PARSE_ESYNTAX);
  ck_assert_msg(strstr(err, "-stgssa_parameters: after the overrides, t.net:4: parameter 'c' = (b - a)/2 evaluates to -0.5; expected a finite value >= 0") != NULL, "%s", err);
  ck_assert_double_eq(def->params[0].value, 1.0);
  ck_assert_double_eq(def->params[2].value, 2.5);
  /* b = 1.25 makes n0 = 12.5: not a whole count */
  ck_assert_int_eq(StgssaModelDefSetParameters(def, "b=1.25", "-stgssa_parameters", err, sizeof err), STGSSA_PARSE_ESYNTAX);
  ck_assert_msg(strstr(err, "the initial count of species 'X' = n0 evaluates to 12.5; expected a whole number") != NULL, "%s", err);
  ck_assert(def->species[0].initial == 60);
  StgssaModelDefFree(&def);
}
END_TEST

START_TEST(test_crlf_and_not_nul_terminated)
{
  static const char text[] = "begin species\r\n 1 A() 3\r\nend species\r\nbegin reactions\r\n 1 1 0 2.5\r\nend reactionsXYZ";
  StgssaModelDef   *def   = NULL;
  char              err[256];
  ck_assert_int_eq(StgssaModelDefParseNet(text, strlen(text) - 3, FNAME, &def, err, sizeof err), STGSSA_PARSE_OK);
  ck_assert_str_eq(def->species[0].name, "A");
  ck_assert_double_eq(StgssaModelDefRate(def, 0), 2.5);
  ck_assert_int_eq((int)strlen(def->text), (int)strlen(text) - 3);
  StgssaModelDefFree(&def);
}
END_TEST

/* ---------------------------------------------------------------- errors */

typedef struct {
  const char *text;
  const char *where; /* "LINE:COL" */
  const char *phrase;
} ErrCase;

#define HEAD   "begin parameters\n 1 k 1\nend parameters\nbegin species\n 1 A() 1\n 2 B() 0\nend species\n"
#define RX(l)  HEAD "begin reactions\n" l "end reactions\n"
#define SP(l)  "begin parameters\n 1 k 1\nend parameters\nbegin species\n" l "end species\nbegin reactions\n 1 1 0 k\nend reactions\n"
#define PAR(l) "begin parameters\n" l "end parameters\nbegin species\n 1 A 1\nend species\nbegin reactions\n 1 1 0 1\nend reactions\n"
#define GR(l)  RX(" 1 1 2 k\n") "begin groups\n" l "end groups\n"

static const ErrCase errors[] = {
  /* structure */
  {"begin functions\n", "1:7", "found unsupported block 'functions'; expected 'parameters', 'species', 'reactions' or 'groups' (functional rate laws"},
  {"begin molecule types\n", "1:7", "unsupported block 'molecule ...'"},
  {"begin\n", "1:6", "found end of line; expected a block name"},
  {HEAD "begin species\n", "8:7", "found a second 'species' block"},
  {"begin species\n 1 A 1\nend species\nbegin parameters\n", "4:7", "found block 'parameters' after block 'species'; expected the order parameters, species, reactions, groups"},
  {"begin reactions\n", "1:7", "found block 'reactions' before any species block"},
  {"begin species\nend species\nbegin reactions\n", "3:7", "after an empty species block"},
  {"begin species\n 1 A 1\n begin reactions\n", "3:2", "found 'begin' inside block 'species' (opened at line 1); expected 'end species'"},
  {"end species\n", "1:1", "found 'end' outside any block"},
  {"begin species\n 1 A 1\nend reactions\n", "3:5", "found 'reactions' after 'end'; expected 'species' to close the block opened at line 1"},
  {"begin species\n 1 A 1\n", "1:1", "found end of file in the block 'species' opened here; expected 'end species'"},
  {"# c\nA 1\n", "2:1", "found text outside any block: 'A'"},
  {"begin species\n 1 A 1\nend species\n", "3:1", "found no reactions"},
  {"", "1:1", "found no species"},
  {HEAD "begin reactions\nend reactions\n", "9:1", "found no reactions"},
  /* indices */
  {PAR(" 2 k 1\n"), "2:2", "found parameter index 2; expected 1 (indices count 1, 2, 3, ... in order)"},
  {PAR(" k 1\n"), "2:2", "found 'k' as parameter index; expected the index 1"},
  {SP(" 1 A 1\n 1 B 1\n"), "6:2", "found species index 1; expected 2"},
  {RX(" 0 1 2 k\n"), "9:2", "found reaction index 0; expected 1"},
  {GR(" 3 G 1\n"), "12:2", "found group index 3; expected 1"},
  /* parameters */
  {PAR(" 1 k\n"), "2:5", "found end of line; expected parameter value"},
  {PAR(" 1\n"), "2:3", "found end of line; expected a parameter name"},
  {PAR(" 1 k -1\n"), "2:4", "found negative value -1 of parameter 'k'; expected a nonnegative value"},
  {PAR(" 1 k 1\n 2 k 2\n"), "3:4", "found duplicate parameter name 'k' (already defined at line 2)"},
  {PAR(" 1 k-on 1\n"), "2:4", "found invalid parameter name 'k-on'"},
  {PAR(" 1 k ln(2)/120\n"), "2:6", "found function call 'ln('; expected a number, an earlier parameter"},
  {PAR(" 1 k j*2\n 2 j 1\n"), "2:6", "found undefined parameter 'j'; expected a parameter defined on an earlier line"},
  {PAR(" 1 k 2^3\n"), "2:7", "found '^3' after the parameter value; expected end of line"},
  {PAR(" 1 k (1+2\n"), "2:10", "found end of expression; expected ')'"},
  {PAR(" 1 k 1/0\n"), "2:6", "found a parameter value that is not finite"},
  {PAR(" 1 k 1e999\n"), "2:6", "not finite"},
  {PAR(" 1 k 1.2.3\n"), "2:6", "found malformed number '1.2.3'"},
  {PAR(" 1 k 2*\n"), "2:8", "found end of expression; expected a number"},
  {PAR(" 1 k @\n"), "2:6", "found '@'; expected a number"},
  /* species */
  {SP(" 1 A() -1\n"), "5:4", "found initial count -1 of species 'A()'; expected a nonnegative integer"},
  {SP(" 1 A() 1.5\n"), "5:4", "found initial count 1.5 of species 'A()'"},
  {SP(" 1 A() 1e16\n"), "5:4", "found initial count 10000000000000000 of species 'A()'; expected a nonnegative integer at most 2^53"},
  {SP(" 1 A() 1e19\n"), "5:4", "expected a nonnegative integer"},
  {SP(" 1 A()\n"), "5:7", "found end of line; expected initial count"},
  {SP(" 1 A() x\n"), "5:8", "found undefined parameter 'x'"},
  {SP(" 1 $A() 1\n"), "5:4", "found constant species '$A()'"},
  {SP(" 1 A() 1\n 2 A() 2\n"), "6:4", "found duplicate species 'A()' (already defined at line 5)"},
  {SP(" 1 ()~! 1\n"), "5:4", "found species name '()~!' without letters or digits"},
  {SP(" 1 A 1\n 2 A_3 1\n 3 A() 1\n"), "7:4", "found species 'A()' whose native name 'A_3' is already used by a species"},
  {SP(" 1 k_2 1\n 2 k() 1\n"), "6:4", "found species 'k()' whose native name 'k_2' is already used by a species"},
  /* reactions */
  {RX(" 1 1 2\n"), "9:7", "found end of line; expected a mass-action rate"},
  {RX(" 1 1 2 kk\n"), "9:8", "found 'kk' as a rate, which is not a parameter"},
  {RX(" 1 1 2 A\n"), "9:8", "found 'A' as a rate, which is not a parameter"},
  {RX(" 1 1 2 Sat(k,1)\n"), "9:8", "found rate 'Sat(k,1)'; expected a mass-action rate: a parameter name, a number or NUMBER*NAME (functional and other rate laws are not supported)"},
  {RX(" 1 1 2 k*2\n"), "9:8", "found rate 'k*2'"},
  {RX(" 1 1 2 2*\n"), "9:8", "found rate '2*'"},
  {RX(" 1 1 2 2/k\n"), "9:8", "found rate '2/k'"},
  {RX(" 1 1 2 1e999\n"), "9:8", "found out-of-range number '1e999'"},
  {RX(" 1 1 2 k extra\n"), "9:10", "found 'extra' after the rate; expected end of line or a '#' comment"},
  {RX(" 1 3 2 k\n"), "9:4", "found species index 3 in the reactants; expected a species index from 1 to 2"},
  {RX(" 1 1 0,2 k\n"), "9:6", "found species index 0 in the products"},
  {RX(" 1 1, k 2\n"), "9:6", "found an empty entry in the reactants"},
  {RX(" 1 1 x k\n"), "9:6", "found 'x' in the products"},
  {RX(" 1 -1 2 k\n"), "9:4", "found '-1' in the reactants"},
  {RX(" 1 0 0 k\n"), "9:4", "found a reaction '0 0' without species"},
  /* groups */
  {GR(" 1 G 1,3\n"), "12:8", "found species index 3 in the group list"},
  {GR(" 1 G 1, 2\n"), "12:9", "found '2' after the species list"},
  {GR(" 1 k 1\n"), "12:4", "found group name 'k' already used by a parameter"},
  {GR(" 1 G 1\n 2 G 2\n"), "13:4", "found group name 'G' already used by a group"},
  {GR(" 1 G() 1\n"), "12:4", "found invalid group name 'G()'"},
  {GR(" 1 G x*1\n"), "12:6", "found 'x*1' in the group list"},
};

START_TEST(test_errors)
{
  static StgssaModelDef sentinel;
  const ErrCase        *c   = &errors[_i];
  StgssaModelDef       *def = &sentinel;
  char                  err[512], prefix[64];
  int                   rc = StgssaModelDefParseNet(c->text, strlen(c->text), FNAME, &def, err, sizeof err);

  snprintf(prefix, sizeof prefix, FNAME ":%s: ", c->where);
  ck_assert_msg(rc == STGSSA_PARSE_ESYNTAX, "case %d: rc %d, err '%s'", _i, rc, err);
  ck_assert_msg(def == NULL, "case %d: *def not NULL on error", _i);
  ck_assert_msg(!strncmp(err, prefix, strlen(prefix)), "case %d: expected '%s' at the start of '%s'", _i, prefix, err);
  ck_assert_msg(strstr(err, c->phrase) != NULL, "case %d: expected '%s' in '%s'", _i, c->phrase, err);
}
END_TEST

START_TEST(test_bad_arguments)
{
  StgssaModelDef *def = NULL;
  char            err[128];
  ck_assert_int_eq(StgssaModelDefParseNet("x", 1, FNAME, NULL, err, sizeof err), STGSSA_PARSE_ESYNTAX);
  ck_assert_int_eq(StgssaModelDefParseNet(NULL, 3, FNAME, &def, err, sizeof err), STGSSA_PARSE_ESYNTAX);
  ck_assert_ptr_null(def);
  ck_assert_int_eq(StgssaModelDefParseNet(NULL, 0, NULL, &def, NULL, 0), STGSSA_PARSE_ESYNTAX); /* empty: no species */
  ck_assert_int_eq(StgssaModelDefParseNet(NULL, 0, NULL, &def, err, sizeof err), STGSSA_PARSE_ESYNTAX);
  ck_assert_str_eq(err, "<input>:1:1: found no species; expected a 'begin species' block with at least one species");
}
END_TEST

static Suite *net_suite(void)
{
  Suite *s  = suite_create("netimport");
  TCase *tc = tcase_create("valid");
  tcase_add_test(tc, test_telegraph);
  tcase_add_test(tc, test_shipped_telegraph);
  tcase_add_test(tc, test_dimerization);
  tcase_add_test(tc, test_combinatorics);
  tcase_add_test(tc, test_name_mapping);
  tcase_add_test(tc, test_parameter_expressions);
  tcase_add_test(tc, test_derived_overrides);
  tcase_add_test(tc, test_crlf_and_not_nul_terminated);
  suite_add_tcase(s, tc);
  tc = tcase_create("errors");
  tcase_add_loop_test(tc, test_errors, 0, (int)(sizeof errors / sizeof errors[0]));
  tcase_add_test(tc, test_bad_arguments);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(net_suite());
  int      failed;
  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
