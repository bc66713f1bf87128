/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Unit tests of the model file parser (src/model/modeldef_parse.c, DESIGN.md section 4).
  Quiet unless a test fails; exit status nonzero on failure.
*/
#define _POSIX_C_SOURCE 200809L /* mkstemp, write, unlink */
#include <stgssa/modeldef.h>
#include <stgssa/expr.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FNAME "t.model"

/* The example of DESIGN.md section 4, verbatim but for the indentation. It uses k_b, k_u and D
   without defining them. */
static const char design_example[] = "# telegraph promoter; '#' starts a comment\n"
                                     "begin parameters\n"
                                     "  k_on   0.5\n"
                                     "  k_off  2.0\n"
                                     "  k_tx   20\n"
                                     "  k_deg  1\n"
                                     "end parameters\n"
                                     "begin species\n"
                                     "  G_off  1        # name and initial copy number\n"
                                     "  G_on   0\n"
                                     "  M      0\n"
                                     "end species\n"
                                     "begin reactions\n"
                                     "  G_off -> G_on         k_on\n"
                                     "  G_on  -> G_off        k_off\n"
                                     "  G_on  -> G_on + M     k_tx\n"
                                     "  M     -> 0            k_deg\n"
                                     "  bind: 2 M <-> D       k_b, k_u     # optional label; <-> gives a forward/backward pair\n"
                                     "end reactions\n";

/* The same model with the missing definitions added. */
static const char telegraph[] = "# telegraph promoter; '#' starts a comment\n"
                                "begin parameters\n"
                                "  k_on   0.5\n"
                                "  k_off  2.0\n"
                                "  k_tx   20\n"
                                "  k_deg  1\n"
                                "  k_b    1.5e-3\n"
                                "  k_u    0.25\n"
                                "end parameters\n"
                                "\n"
                                "begin species\n"
                                "  G_off  1        # name and initial copy number\n"
                                "  G_on   0\n"
                                "  M      0\n"
                                "  D      7\n"
                                "end species\n"
                                "begin reactions\n"
                                "  G_off -> G_on         k_on\n"
                                "  G_on  -> G_off        k_off\n"
                                "  G_on  -> G_on + M     k_tx\n"
                                "  M     -> 0            k_deg\n"
                                "  bind: 2 M <-> D       k_b, k_u     # optional label; <-> gives a forward/backward pair\n"
                                "end reactions\n";

/* ---------------------------------------------------------------- helpers */

static StgssaModelDef *parse_ok_len(int srcline, const char *text, size_t len)
{
  StgssaModelDef *def = NULL;
  char            err[512];
  int             rc = StgssaModelDefParse(text, len, FNAME, &def, err, sizeof err);
  ck_assert_msg(rc == STGSSA_PARSE_OK, "line %d: rc %d: %s", srcline, rc, err);
  ck_assert_msg(def != NULL, "line %d: no model", srcline);
  return def;
}
#define PARSE_OK(text) parse_ok_len(__LINE__, text, strlen(text))

static void expect_error_len(const char *ctx, const char *text, size_t len, const char *where, const char *phrase)
{
  static StgssaModelDef sentinel;
  StgssaModelDef       *def = &sentinel;
  char                  err[512], prefix[64];
  int                   rc = StgssaModelDefParse(text, len, FNAME, &def, err, sizeof err);

  snprintf(prefix, sizeof prefix, FNAME ":%s: ", where);
  ck_assert_msg(rc == STGSSA_PARSE_ESYNTAX, "%s: rc %d, err '%s'", ctx, rc, err);
  ck_assert_msg(def == NULL, "%s: *def not NULL on error", ctx);
  ck_assert_msg(!strncmp(err, prefix, strlen(prefix)), "%s: expected '%s' at the start of '%s'", ctx, prefix, err);
  ck_assert_msg(strstr(err, phrase) != NULL, "%s: expected '%s' in '%s'", ctx, phrase, err);
}
#define STR_(x)                           #x
#define STR(x)                            STR_(x)
#define HERE                              "line " STR(__LINE__)
#define EXPECT_ERROR(text, where, phrase) expect_error_len(HERE, text, strlen(text), where, phrase)

/* Writes text to a new file under /tmp; path receives its name. */
static void write_temp(const char *text, char *path, size_t pathlen)
{
  int     fd;
  size_t  len = strlen(text);
  ssize_t w;

  snprintf(path, pathlen, "/tmp/test_parse_XXXXXX");
  fd = mkstemp(path);
  ck_assert_msg(fd >= 0, "mkstemp: %s", strerror(errno));
  w = write(fd, text, len);
  ck_assert_msg(w == (ssize_t)len, "write: %s", strerror(errno));
  ck_assert_int_eq(close(fd), 0);
}

static int find_term(const StgssaStoichTerm *t, int n, int species)
{
  int i;
  for (i = 0; i < n; i++)
    if (t[i].species == species) return t[i].coef;
  return 0;
}

/* ---------------------------------------------------------------- valid models */

static void check_telegraph(const StgssaModelDef *def)
{
  int                      goff, gon, m, d, kb, ku;
  const StgssaReactionDef *r;

  ck_assert_int_eq(def->nparams, 6);
  ck_assert_int_eq(def->nspecies, 4);
  ck_assert_int_eq(def->nreactions, 6);
  ck_assert_str_eq(def->params[0].name, "k_on");
  ck_assert_double_eq(def->params[0].value, 0.5);
  ck_assert_int_eq(def->params[0].line, 3);
  ck_assert_double_eq(def->params[1].value, 2.0);
  ck_assert_double_eq(def->params[2].value, 20.0);
  ck_assert_double_eq(def->params[3].value, 1.0);
  ck_assert_double_eq(def->params[4].value, 1.5e-3);
  ck_assert_double_eq(def->params[5].value, 0.25);

  goff = StgssaModelDefFindSpecies(def, "G_off");
  gon  = StgssaModelDefFindSpecies(def, "G_on");
  m    = StgssaModelDefFindSpecies(def, "M");
  d    = StgssaModelDefFindSpecies(def, "D");
  kb   = StgssaModelDefFindParam(def, "k_b");
  ku   = StgssaModelDefFindParam(def, "k_u");
  ck_assert_int_eq(goff, 0);
  ck_assert_int_eq(gon, 1);
  ck_assert_int_eq(m, 2);
  ck_assert_int_eq(d, 3);
  ck_assert_int_eq(kb, 4);
  ck_assert_int_eq(ku, 5);
  ck_assert(def->species[goff].initial == 1);
  ck_assert(def->species[gon].initial == 0);
  ck_assert(def->species[d].initial == 7);
  ck_assert_int_eq(def->species[goff].line, 12);

  r = &def->reactions[0];
  ck_assert_ptr_null(r->label);
  ck_assert_int_eq(r->nreact, 1);
  ck_assert_int_eq(r->react[0].species, goff);
  ck_assert_int_eq(r->react[0].coef, 1);
  ck_assert_int_eq(r->nprod, 1);
  ck_assert_int_eq(r->prod[0].species, gon);
  ck_assert_int_eq(r->param, 0);
  ck_assert_double_eq(r->factor, 1.0);
  ck_assert_int_eq(r->reverse, -1);
  ck_assert_int_eq(r->line, 18);

  r = &def->reactions[2]; /* G_on -> G_on + M */
  ck_assert_int_eq(r->nreact, 1);
  ck_assert_int_eq(r->nprod, 2);
  ck_assert_int_eq(find_term(r->prod, r->nprod, gon), 1);
  ck_assert_int_eq(find_term(r->prod, r->nprod, m), 1);
  ck_assert_double_eq(StgssaModelDefRate(def, 2), 20.0);

  r = &def->reactions[3]; /* M -> 0 */
  ck_assert_int_eq(r->nprod, 0);
  ck_assert_ptr_null(r->prod);

  r = &def->reactions[4]; /* bind: 2 M -> D */
  ck_assert_str_eq(r->label, "bind");
  ck_assert_int_eq(r->nreact, 1);
  ck_assert_int_eq(r->react[0].species, m);
  ck_assert_int_eq(r->react[0].coef, 2);
  ck_assert_int_eq(r->nprod, 1);
  ck_assert_int_eq(r->prod[0].species, d);
  ck_assert_int_eq(r->prod[0].coef, 1);
  ck_assert_int_eq(r->param, kb);
  ck_assert_int_eq(r->reverse, 5);
  ck_assert_int_eq(r->line, 22);
  ck_assert_double_eq(StgssaModelDefRate(def, 4), 1.5e-3);

  r = &def->reactions[5]; /* bind: D -> 2 M */
  ck_assert_str_eq(r->label, "bind");
  ck_assert_int_eq(r->nreact, 1);
  ck_assert_int_eq(r->react[0].species, d);
  ck_assert_int_eq(r->nprod, 1);
  ck_assert_int_eq(r->prod[0].species, m);
  ck_assert_int_eq(r->prod[0].coef, 2);
  ck_assert_int_eq(r->param, ku);
  ck_assert_int_eq(r->reverse, 4);
  ck_assert_int_eq(r->line, 22);
  ck_assert_double_eq(StgssaModelDefRate(def, 5), 0.25);
}

START_TEST(test_telegraph_file)
{
  StgssaModelDef *def = NULL;
  char            path[64], err[512];
  int             rc;

  write_temp(telegraph, path, sizeof path);
  rc = StgssaModelDefParseFile(path, &def, err, sizeof err);
  unlink(path);
  ck_assert_msg(rc == STGSSA_PARSE_OK, "%s", err);
  check_telegraph(def);
  ck_assert_str_eq(def->filename, path);
  ck_assert_str_eq(def->text, telegraph);
  StgssaModelDefFree(&def);
  ck_assert_ptr_null(def);
}
END_TEST

START_TEST(test_design_example_verbatim)
{
  /* The example as printed in DESIGN.md does not define D, k_b, k_u. */
  EXPECT_ERROR(design_example, "18:17", "unknown species 'D'");
}
END_TEST

START_TEST(test_crlf)
{
  char            buf[sizeof telegraph * 2];
  size_t          i, n = 0;
  StgssaModelDef *def;

  for (i = 0; telegraph[i]; i++) {
    if (telegraph[i] == '\n') buf[n++] = '\r';
    buf[n++] = telegraph[i];
  }
  buf[n] = '\0';
  def    = PARSE_OK(buf);
  check_telegraph(def);
  ck_assert_str_eq(def->text, buf);
  StgssaModelDefFree(&def);
  /* columns do not count the '\r' */
  EXPECT_ERROR("begin species\r\n  A 1\r\nend species\r\nbegin reactions\r\n  A -> 0\r\nend reactions\r\n", "5:9", "expected a rate");
}
END_TEST

START_TEST(test_comments_blank_lines)
{
  const char     *text = "\n# leading comment\n   \n\t\n"
                         "begin species # comment after a header\n"
                         "\tA\t3# no space before the comment\n"
                         "  # a comment line inside a section\n"
                         "\n"
                         "  B 0\n"
                         "end species   # trailing comment\n"
                         "begin reactions\n"
                         "  A->B 2# tight\n"
                         "end reactions"; /* no final newline */
  StgssaModelDef *def  = PARSE_OK(text);

  ck_assert_int_eq(def->nparams, 0);
  ck_assert_int_eq(def->nspecies, 2);
  ck_assert(def->species[0].initial == 3);
  ck_assert_int_eq(def->species[0].line, 6);
  ck_assert_int_eq(def->species[1].line, 9);
  ck_assert_int_eq(def->nreactions, 1);
  ck_assert_int_eq(def->reactions[0].line, 12);
  ck_assert_int_eq(def->reactions[0].param, -1);
  ck_assert_double_eq(StgssaModelDefRate(def, 0), 2.0);
  ck_assert_str_eq(def->filename, FNAME);
  ck_assert_str_eq(def->text, text);
  StgssaModelDefFree(&def);
}
END_TEST

START_TEST(test_section_order)
{
  /* reactions may come before the definitions they use */
  StgssaModelDef *def = PARSE_OK("begin reactions\n  A -> B k\nend reactions\n"
                                 "begin species\n  A 1\n  B 2\nend species\n"
                                 "begin parameters\n  k 3\nend parameters\n");
  ck_assert_int_eq(def->nreactions, 1);
  ck_assert_int_eq(def->reactions[0].param, 0);
  ck_assert_int_eq(def->reactions[0].line, 2);
  ck_assert_double_eq(StgssaModelDefRate(def, 0), 3.0);
  StgssaModelDefFree(&def);

  def = PARSE_OK("begin parameters\nend parameters\nbegin species\n  A 1\nend species\nbegin reactions\n  A -> 0 1\nend reactions\n");
  ck_assert_int_eq(def->nparams, 0);
  StgssaModelDefFree(&def);
}
END_TEST

#define MODEL(reactions) \
  "begin parameters\n  k 1.5\nend parameters\nbegin species\n  A 10\n  B 0\nend species\nbegin reactions\n" reactions "end reactions\n"

START_TEST(test_rates)
{
  StgssaModelDef *def = PARSE_OK(MODEL("  A -> B 20\n  A -> B 1.5e-3\n  A -> B 2.5*k\n  A -> B 4 * k\n  A -> B k\n  A -> B .5\n  A -> B 3.\n"
                                       "  A -> B 0\n  A -> B -0\n"));
  ck_assert_int_eq(def->nreactions, 9);
  ck_assert_int_eq(def->reactions[0].param, -1);
  ck_assert_double_eq(def->reactions[0].factor, 20.0);
  ck_assert_double_eq(StgssaModelDefRate(def, 1), 1.5e-3);
  ck_assert_int_eq(def->reactions[2].param, 0);
  ck_assert_double_eq(def->reactions[2].factor, 2.5);
  ck_assert_double_eq(StgssaModelDefRate(def, 2), 3.75);
  ck_assert_double_eq(StgssaModelDefRate(def, 3), 6.0);
  ck_assert_double_eq(StgssaModelDefRate(def, 4), 1.5);
  ck_assert_double_eq(StgssaModelDefRate(def, 5), 0.5);
  ck_assert_double_eq(StgssaModelDefRate(def, 6), 3.0);
  ck_assert_double_eq(StgssaModelDefRate(def, 7), 0.0);
  ck_assert(!signbit(StgssaModelDefRate(def, 8)));
  ck_assert(isnan(StgssaModelDefRate(def, 9)));
  ck_assert(isnan(StgssaModelDefRate(def, -1)));
  ck_assert(isnan(StgssaModelDefRate(NULL, 0)));
  /* today's three forms (NUMBER, NAME, NUMBER*NAME) stay mass action without a law */
  for (int j = 0; j < def->nreactions; j++) {
    ck_assert_ptr_null(def->reactions[j].law);
    ck_assert_int_eq(def->reactions[j].law_full, 0);
  }
  ck_assert_int_eq(def->ninputs, 0);
  ck_assert_ptr_null(def->inputs);
  StgssaModelDefFree(&def);
}
END_TEST

/* ---------------------------------------------------------------- rate laws and inputs */

static const char laws_model[] = "begin parameters\n"              /* 1 */
                                 "  k 1.5\n"                       /* 2 */
                                 "  vmax 2\n"                      /* 3 */
                                 "  Km 10\n"                       /* 4 */
                                 "  n 2\n"                         /* 5 */
                                 "  K 5\n"                         /* 6 */
                                 "  a0 0.1\n"                      /* 7 */
                                 "  a1 1\n"                        /* 8 */
                                 "  r1 0.5\n"                      /* 9 */
                                 "  r2 2\n"                        /* 10 */
                                 "  lev 3\n"                       /* 11 */
                                 "end parameters\n"                /* 12 */
                                 "begin species\n"                 /* 13 */
                                 "  A 10\n"                        /* 14 */
                                 "  B 0\n"                         /* 15 */
                                 "end species\n"                   /* 16 */
                                 "begin inputs\n"                  /* 17 */
                                 "  Hog  a0 + a1*exp(-r1*t)*(1-exp(-r2*t))  # a pulse\n" /* 18 */
                                 "\n"                              /* 19 */
                                 "  Pulse table 0 0  1.5 lev  4 2.5e0\n" /* 20 */
                                 "end inputs\n"                    /* 21 */
                                 "begin reactions\n"               /* 22 */
                                 "  A -> B  k*Hog\n"               /* 23: j 0, constant law with an input */
                                 "  A -> B  k*k\n"                 /* 24: j 1, constant law of parameters */
                                 "  decay: A -> 0  vmax*A/(Km + A)  # Michaelis-Menten\n" /* 25: j 2, full law */
                                 "  A -> B  k*A^n/(K^n + A^n)\n"   /* 26: j 3, Hill */
                                 "  A <-> B  min(k, vmax)*Pulse, max(A, B)/2\n" /* 27: j 4 constant, j 5 full */
                                 "  A -> B  2*3\n"                 /* 28: j 6 folds to 6 */
                                 "  A -> B  k*2\n"                 /* 29: j 7 constant law */
                                 "  A -> B  A\n"                   /* 30: j 8 full law */
                                 "  A -> B  t*k\n"                 /* 31: j 9 constant law with t */
                                 "  A -> B  min(k, 1)\n"           /* 32: j 10 comma inside on a '->' line */
                                 "  A <-> B  k, 2*k\n"             /* 33: j 11, 12 today's forms */
                                 "  A -> B  -(0)\n"                /* 34: j 13 folds to -0 -> +0 */
                                 "end reactions\n";

static double law_at(const StgssaModelDef *def, int j, double a, double b, double t)
{
  double x[2] = {a, b}, p[16], u[2] = {0, 0};
  int    i;
  ck_assert_int_le(def->nparams, 16);
  for (i = 0; i < def->nparams; i++) p[i] = def->params[i].value;
  if (def->ninputs > 0) u[0] = StgssaExprEval(def->inputs[0].expr, x, p, NULL, t);
  if (def->ninputs > 1) u[1] = 7.0; /* stands for the table's value */
  return StgssaExprEval(def->reactions[j].law, x, p, u, t);
}

START_TEST(test_laws)
{
  StgssaModelDef          *def = PARSE_OK(laws_model);
  const StgssaReactionDef *r   = def->reactions;
  int                      n, hog = StgssaModelDefFindInput(def, "Hog"), pulse = StgssaModelDefFindInput(def, "Pulse");
  const int               *used;
  double                   hog1;

  ck_assert_int_eq(def->nreactions, 14);
  ck_assert_int_eq(hog, 0);
  ck_assert_int_eq(pulse, 1);
  /* a rate constant expression using an input */
  ck_assert_ptr_nonnull(r[0].law);
  ck_assert_int_eq(r[0].law_full, 0);
  ck_assert_int_eq(r[0].param, -1);
  ck_assert_double_eq(r[0].factor, 1.0);
  ck_assert(isnan(StgssaModelDefRate(def, 0)));
  used = StgssaExprUsedInputs(r[0].law, &n);
  ck_assert_int_eq(n, 1);
  ck_assert_int_eq(used[0], hog);
  (void)StgssaExprUsedSpecies(r[0].law, &n);
  ck_assert_int_eq(n, 0);
  ck_assert_double_eq_tol(law_at(def, 0, 10, 0, 0), 1.5 * 0.1, 1e-15);
  hog1 = 0.1 + exp(-0.5) * (1 - exp(-2.0));
  ck_assert_double_eq_tol(law_at(def, 0, 10, 0, 1), 1.5 * hog1, 1e-14);
  /* parameters only */
  ck_assert_int_eq(r[1].law_full, 0);
  ck_assert_int_eq(r[1].param, -1);
  ck_assert_double_eq(law_at(def, 1, 0, 0, 0), 2.25);
  /* full laws */
  ck_assert_ptr_nonnull(r[2].law);
  ck_assert_int_eq(r[2].law_full, 1);
  ck_assert_int_eq(r[2].param, -1);
  ck_assert_double_eq(r[2].factor, 1.0);
  ck_assert_str_eq(r[2].label, "decay");
  ck_assert_int_eq(r[2].nprod, 0);
  ck_assert_int_eq(r[2].line, 25);
  ck_assert_double_eq_tol(law_at(def, 2, 10, 0, 0), 1.0, 1e-15);
  ck_assert_double_eq_tol(law_at(def, 2, 30, 0, 0), 1.5, 1e-15);
  used = StgssaExprUsedSpecies(r[2].law, &n);
  ck_assert_int_eq(n, 1);
  ck_assert_int_eq(used[0], 0);
  ck_assert_int_eq(r[3].law_full, 1);
  ck_assert_double_eq_tol(law_at(def, 3, 5, 0, 0), 1.5 * 0.5, 1e-15);
  /* a <-> pair of laws split at the top-level comma: min(k, vmax)*Pulse and max(A, B)/2 */
  ck_assert_int_eq(r[4].reverse, 5);
  ck_assert_int_eq(r[5].reverse, 4);
  ck_assert_int_eq(r[4].law_full, 0);
  used = StgssaExprUsedInputs(r[4].law, &n);
  ck_assert_int_eq(n, 1);
  ck_assert_int_eq(used[0], pulse);
  ck_assert_double_eq(law_at(def, 4, 0, 0, 0), 1.5 * 7.0);
  ck_assert_int_eq(r[5].law_full, 1);
  ck_assert_int_eq(r[5].react[0].species, 1);
  ck_assert_double_eq(law_at(def, 5, 10, 3, 0), 5.0);
  ck_assert_double_eq(law_at(def, 5, 1, 3, 0), 1.5);
  /* a constant expression is a numeric rate */
  ck_assert_ptr_null(r[6].law);
  ck_assert_int_eq(r[6].param, -1);
  ck_assert_double_eq(r[6].factor, 6.0);
  ck_assert_double_eq(StgssaModelDefRate(def, 6), 6.0);
  /* not one of today's forms: a law */
  ck_assert_ptr_nonnull(r[7].law);
  ck_assert_int_eq(r[7].law_full, 0);
  ck_assert_double_eq(law_at(def, 7, 0, 0, 0), 3.0);
  /* a bare species name is a full law */
  ck_assert_ptr_nonnull(r[8].law);
  ck_assert_int_eq(r[8].law_full, 1);
  ck_assert_double_eq(law_at(def, 8, 4, 0, 0), 4.0);
  /* t */
  ck_assert_int_eq(r[9].law_full, 0);
  ck_assert(StgssaExprUsesTime(r[9].law));
  ck_assert_double_eq(law_at(def, 9, 0, 0, 2), 3.0);
  ck_assert_int_eq(r[10].law_full, 0);
  ck_assert_int_eq(r[10].reverse, -1);
  ck_assert_double_eq(law_at(def, 10, 0, 0, 0), 1.0);
  /* today's forms in a <-> pair */
  ck_assert_ptr_null(r[11].law);
  ck_assert_ptr_null(r[12].law);
  ck_assert_int_eq(r[11].param, 0);
  ck_assert_int_eq(r[12].param, 0);
  ck_assert_double_eq(r[12].factor, 2.0);
  ck_assert_ptr_null(r[13].law);
  ck_assert(!signbit(r[13].factor));
  ck_assert_double_eq(r[13].factor, 0.0);
  StgssaModelDefFree(&def);
  ck_assert_ptr_null(def);
}
END_TEST

START_TEST(test_inputs)
{
  StgssaModelDef       *def = PARSE_OK(laws_model);
  const StgssaInputDef *u;
  int                   n, lev = StgssaModelDefFindParam(def, "lev");
  const int            *used;
  double                p[16];

  ck_assert_int_eq(def->ninputs, 2);
  u = &def->inputs[0];
  ck_assert_str_eq(u->name, "Hog");
  ck_assert_int_eq(u->kind, STGSSA_INPUT_EXPR);
  ck_assert_int_eq(u->line, 18);
  ck_assert_ptr_nonnull(u->expr);
  ck_assert_int_eq(u->npieces, 0);
  ck_assert_ptr_null(u->times);
  ck_assert(StgssaExprUsesTime(u->expr));
  used = StgssaExprUsedParams(u->expr, &n);
  ck_assert_int_eq(n, 4);
  ck_assert_int_eq(used[0], StgssaModelDefFindParam(def, "a0"));
  (void)StgssaExprUsedSpecies(u->expr, &n);
  ck_assert_int_eq(n, 0);
  (void)StgssaExprUsedInputs(u->expr, &n);
  ck_assert_int_eq(n, 0);
  for (n = 0; n < def->nparams; n++) p[n] = def->params[n].value;
  ck_assert_double_eq_tol(StgssaExprEval(u->expr, NULL, p, NULL, 2.0), 0.1 + exp(-1.0) * (1 - exp(-4.0)), 1e-15);

  u = &def->inputs[1];
  ck_assert_str_eq(u->name, "Pulse");
  ck_assert_int_eq(u->kind, STGSSA_INPUT_TABLE);
  ck_assert_int_eq(u->line, 20);
  ck_assert_ptr_null(u->expr);
  ck_assert_int_eq(u->npieces, 3);
  ck_assert_double_eq(u->times[0], 0.0);
  ck_assert_double_eq(u->times[1], 1.5);
  ck_assert_double_eq(u->times[2], 4.0);
  ck_assert_double_eq(u->values[0], 0.0);
  ck_assert_int_eq(u->vparam[0], -1);
  ck_assert_int_eq(u->vparam[1], lev);
  ck_assert(isnan(u->values[1]));
  ck_assert_double_eq(u->values[2], 2.5);
  ck_assert_int_eq(u->vparam[2], -1);

  /* the namespace is shared, but the lookups are per kind */
  ck_assert_int_eq(StgssaModelDefFindInput(def, "Hog"), 0);
  ck_assert_int_eq(StgssaModelDefFindInput(def, "k"), -1);
  ck_assert_int_eq(StgssaModelDefFindInput(def, NULL), -1);
  ck_assert_int_eq(StgssaModelDefFindInput(NULL, "Hog"), -1);
  ck_assert_int_eq(StgssaModelDefFindParam(def, "Hog"), -1);
  ck_assert_int_eq(StgssaModelDefFindSpecies(def, "Pulse"), -1);
  /* parameter overrides are read by the laws at run time: nothing to recompile */
  ck_assert_int_eq(StgssaModelDefSetParameters(def, "vmax=4", NULL, NULL, 0), STGSSA_PARSE_OK);
  ck_assert_double_eq_tol(law_at(def, 2, 10, 0, 0), 2.0, 1e-15);
  StgssaModelDefFree(&def);
}
END_TEST

START_TEST(test_inputs_order)
{
  /* inputs before the parameters they use, reactions before the inputs; a table of one piece;
     an input that uses no parameter; an empty inputs section */
  StgssaModelDef *def = PARSE_OK("begin reactions\n  0 -> A  k*U + V + W\nend reactions\n"
                                 "begin inputs\n  U  2*k*(t < 5)\n  V table 0 k\n  W table -0 1 1e-3 0 # off\n  X 3\nend inputs\n"
                                 "begin species\n  A 0\nend species\nbegin parameters\n  k 0.5\nend parameters\n");
  ck_assert_int_eq(def->ninputs, 4);
  ck_assert_int_eq(def->inputs[0].line, 5);
  ck_assert_int_eq(def->inputs[1].npieces, 1);
  ck_assert_int_eq(def->inputs[1].vparam[0], 0);
  ck_assert_int_eq(def->inputs[2].npieces, 2);
  ck_assert(!signbit(def->inputs[2].times[0]));
  ck_assert_double_eq(def->inputs[2].times[1], 1e-3);
  ck_assert_int_eq(def->inputs[3].kind, STGSSA_INPUT_EXPR);
  ck_assert_ptr_nonnull(def->inputs[3].expr);
  ck_assert_ptr_nonnull(def->reactions[0].law);
  ck_assert_int_eq(def->reactions[0].law_full, 0);
  StgssaModelDefFree(&def);

  def = PARSE_OK("begin inputs\nend inputs\nbegin species\n  A 0\nend species\nbegin reactions\n  0 -> A 1\nend reactions\n");
  ck_assert_int_eq(def->ninputs, 0);
  StgssaModelDefFree(&def);
}
END_TEST

/* Every model shipped in input/ and input/studies/ parses. */
static int parse_models_in(const char *dir)
{
  DIR           *d = opendir(dir);
  struct dirent *e;
  int            count = 0;

  ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
  while ((e = readdir(d))) {
    size_t          len = strlen(e->d_name);
    char            path[1024], err[512];
    StgssaModelDef *def = NULL;
    int             rc;
    if (len < 7 || strcmp(e->d_name + len - 6, ".model")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    rc = StgssaModelDefParseFile(path, &def, err, sizeof err);
    ck_assert_msg(rc == STGSSA_PARSE_OK, "%s: %s", path, err);
    StgssaModelDefFree(&def);
    count++;
  }
  closedir(d);
  return count;
}

START_TEST(test_input_files)
{
  StgssaModelDef *def = NULL;
  char            err[512];
  int             rc;

  ck_assert_int_ge(parse_models_in(SOURCE_ROOT "/input"), 5);
  ck_assert_int_ge(parse_models_in(SOURCE_ROOT "/input/studies"), 1);

  rc = StgssaModelDefParseFile(SOURCE_ROOT "/input/mm_decay.model", &def, err, sizeof err);
  ck_assert_msg(rc == STGSSA_PARSE_OK, "%s", err);
  ck_assert_int_eq(def->nreactions, 2);
  ck_assert_ptr_null(def->reactions[0].law);
  ck_assert_ptr_nonnull(def->reactions[1].law);
  ck_assert_int_eq(def->reactions[1].law_full, 1);
  StgssaModelDefFree(&def);

  rc = StgssaModelDefParseFile(SOURCE_ROOT "/input/induction.model", &def, err, sizeof err);
  ck_assert_msg(rc == STGSSA_PARSE_OK, "%s", err);
  ck_assert_int_eq(def->ninputs, 1);
  ck_assert_str_eq(def->inputs[0].name, "Hog");
  ck_assert_ptr_nonnull(def->reactions[0].law);
  ck_assert_int_eq(def->reactions[0].law_full, 0);
  for (int j = 1; j < def->nreactions; j++) ck_assert_ptr_null(def->reactions[j].law);
  StgssaModelDefFree(&def);
}
END_TEST

START_TEST(test_sides)
{
  StgssaModelDef          *def = PARSE_OK(MODEL("  0 -> A k\n  A -> 0 k\n  A + B + A -> 3 B + B k\n  2 A -> B k\n"
                                                "  1000 A -> B k\n  999 A + A -> B k\n  0 -> 1 A k\n  A + 2 B <-> 0 k, 2\n"));
  const StgssaReactionDef *r   = def->reactions;

  ck_assert_int_eq(def->nreactions, 9);
  ck_assert_int_eq(r[0].nreact, 0);
  ck_assert_ptr_null(r[0].react);
  ck_assert_int_eq(r[0].nprod, 1);
  ck_assert_int_eq(r[1].nprod, 0);
  ck_assert_ptr_null(r[1].prod);
  /* merged duplicates */
  ck_assert_int_eq(r[2].nreact, 2);
  ck_assert_int_eq(find_term(r[2].react, r[2].nreact, 0), 2);
  ck_assert_int_eq(find_term(r[2].react, r[2].nreact, 1), 1);
  ck_assert_int_eq(r[2].nprod, 1);
  ck_assert_int_eq(r[2].prod[0].species, 1);
  ck_assert_int_eq(r[2].prod[0].coef, 4);
  ck_assert_int_eq(r[3].react[0].coef, 2);
  ck_assert_int_eq(r[4].react[0].coef, STGSSA_STOICH_MAX);
  ck_assert_int_eq(r[5].nreact, 1);
  ck_assert_int_eq(r[5].react[0].coef, 1000);
  ck_assert_int_eq(r[6].nreact, 0);
  ck_assert_int_eq(r[6].nprod, 1);
  ck_assert_int_eq(r[6].prod[0].species, 0);
  /* unlabeled <-> with a numeric backward rate and an empty side */
  ck_assert_ptr_null(r[7].label);
  ck_assert_int_eq(r[7].reverse, 8);
  ck_assert_int_eq(r[8].reverse, 7);
  ck_assert_int_eq(r[7].nreact, 2);
  ck_assert_int_eq(r[7].nprod, 0);
  ck_assert_int_eq(r[8].nreact, 0);
  ck_assert_int_eq(r[8].nprod, 2);
  ck_assert_int_eq(find_term(r[8].prod, r[8].nprod, 1), 2);
  ck_assert_int_eq(r[8].param, -1);
  ck_assert_double_eq(StgssaModelDefRate(def, 8), 2.0);
  StgssaModelDefFree(&def);
}
END_TEST

START_TEST(test_labels_and_names)
{
  char            name63[STGSSA_NAME_MAX + 1], text[1024];
  StgssaModelDef *def;

  memset(name63, 'x', STGSSA_NAME_MAX);
  name63[STGSSA_NAME_MAX] = '\0';
  name63[0]               = '_';
  snprintf(text, sizeof text, "begin species\n  %s 1\n  B9 2\nend species\nbegin reactions\n  deg: %s -> 0 1\n  %s : B9 -> 0 1\n end reactions\n", name63, name63,
           name63);
  def = PARSE_OK(text);
  ck_assert_int_eq(StgssaModelDefFindSpecies(def, name63), 0);
  ck_assert_int_eq(StgssaModelDefFindSpecies(def, "B9"), 1);
  ck_assert_int_eq(StgssaModelDefFindSpecies(def, "b9"), -1);
  ck_assert_int_eq(StgssaModelDefFindSpecies(def, NULL), -1);
  ck_assert_int_eq(StgssaModelDefFindSpecies(NULL, "B9"), -1);
  ck_assert_int_eq(StgssaModelDefFindParam(def, "B9"), -1);
  ck_assert_int_eq(StgssaModelDefFindParam(NULL, "B9"), -1);
  ck_assert_str_eq(def->reactions[0].label, "deg");
  ck_assert_str_eq(def->reactions[1].label, name63);
  ck_assert_int_eq(def->reactions[0].reverse, -1);
  ck_assert(def->species[0].initial == 1);
  StgssaModelDefFree(&def);
}
END_TEST

START_TEST(test_large_counts)
{
  StgssaModelDef *def = PARSE_OK("begin species\n  A 9007199254740992\n  B 000\nend species\nbegin reactions\n  A -> B 1\nend reactions\n");
  ck_assert(def->species[0].initial == STGSSA_COUNT_MAX); /* 2^53: the largest count */
  ck_assert(def->species[1].initial == 0);
  StgssaModelDefFree(&def);
}
END_TEST

START_TEST(test_not_nul_terminated)
{
  static const char text[] = "begin species\n  A 1\nend species\nbegin reactions\n  A -> 0 1\nend reactions\nGARBAGE";
  size_t            len    = strlen(text) - strlen("GARBAGE");
  StgssaModelDef   *def    = parse_ok_len(__LINE__, text, len);

  ck_assert_uint_eq(strlen(def->text), len);
  ck_assert(!memcmp(def->text, text, len));
  StgssaModelDefFree(&def);
  /* a NUL byte inside the text is an invalid character */
  expect_error_len(HERE, "begin species\n  A 1\0\nend species\n", 33, "2:6", "found byte 0x00; expected end of line");
  /* the text stops at len, in the middle of a line */
  expect_error_len(HERE, text, len - 2, "6:5", "found 'reaction' after 'end'; expected 'reactions'");
  expect_error_len(HERE, text, len - 14, "4:1", "found end of file in the section 'reactions'");
}
END_TEST

START_TEST(test_free_null)
{
  StgssaModelDef *def = NULL;
  StgssaModelDefFree(&def);
  StgssaModelDefFree(NULL);
  ck_assert_ptr_null(def);
}
END_TEST

/* ---------------------------------------------------------------- errors */

typedef struct {
  const char *text;
  const char *where; /* "LINE:COL" */
  const char *phrase;
} ErrCase;

#define PARAMS(lines) "begin parameters\n" lines "end parameters\nbegin species\n  A 1\nend species\nbegin reactions\n  A -> 0 1\nend reactions\n"
#define SPECIES(lines) "begin species\n" lines "end species\nbegin reactions\n  0 -> A 1\nend reactions\n"
#define LONG64 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

static const ErrCase reaction_errors[] = {
  {MODEL("  A -> C k\n"), "9:8", "unknown species 'C'"},
  {MODEL("  A -> B + k k\n"), "9:12", "found parameter 'k' in a reaction side"},
  {MODEL("  A -> B kk\n"), "9:10", "found unknown name 'kk'; expected a species, a parameter, an input or t"},
  {MODEL("  A -> B -2\n"), "9:10", "negative number '-2'"},
  {MODEL("  A -> B nan\n"), "9:10", "found unknown name 'nan'"},
  {MODEL("  A -> B inf\n"), "9:10", "found unknown name 'inf'"},
  {MODEL("  A -> B 1e999\n"), "9:10", "out-of-range number '1e999'"},
  {MODEL("  A -> B 1.2.3\n"), "9:10", "found malformed number '1.2.3'; expected a number, a name"},
  {MODEL("  A -> B 0x10\n"), "9:10", "malformed number '0x10'"},
  {MODEL("  A -> B -2*k\n"), "9:10", "negative number '-2'"},
  {MODEL("  A -> B 1e999*k\n"), "9:10", "out-of-range number"},
  {MODEL("  A -> B 2*\n"), "9:12", "found end of expression; expected a number, a name, '(', '+' or '-'"},
  {MODEL("  A -> B 2*kk\n"), "9:12", "found unknown name 'kk'"},
  {MODEL("  A -> B\n"), "9:9", "found end of line; expected a rate"},
  {MODEL("  A -> B   # no rate\n"), "9:12", "expected a rate"},
  {MODEL("  A -> B k x\n"), "9:12", "found 'x'; expected an operator or end of expression"},
  {MODEL("  A -> B k, k\n"), "9:11", "only a '<->' reaction takes a second rate"},
  {MODEL("  A <-> B k\n"), "9:12", "expected ',' and the backward rate"},
  {MODEL("  A <-> B k,\n"), "9:13", "expected a rate"},
  {MODEL("  A <-> B k, k, k\n"), "9:15", "expected end of line"},
  {MODEL("  A => B k\n"), "9:5", "found '=>'; expected '->' or '<->'"},
  {MODEL("  A - > B k\n"), "9:5", "found '-'; expected '->' or '<->'"},
  {MODEL("  A <- B k\n"), "9:5", "found '<-'; expected '->' or '<->'"},
  {MODEL("  A --> B k\n"), "9:5", "found '-->'; expected '->' or '<->'"},
  {MODEL("  A > B k\n"), "9:5", "found '>'; expected '->' or '<->'"},
  {MODEL("  A <=> B k\n"), "9:5", "found '<=>'"},
  {MODEL("  A = B k\n"), "9:5", "found '='"},
  {MODEL("  A B k\n"), "9:5", "found 'B'; expected '->' or '<->'"},
  {MODEL("  A\n"), "9:4", "found end of line; expected '->' or '<->'"},
  {MODEL("  0 -> 0 k\n"), "9:3", "without species"},
  {MODEL("  0 A -> B k\n"), "9:5", "found 'A'; expected '->' or '<->'"},
  {MODEL("  A + 0 B -> B k\n"), "9:7", "found coefficient '0'"},
  {MODEL("  1001 A -> B k\n"), "9:3", "too large number '1001'"},
  {MODEL("  99999999999999999999 A -> B k\n"), "9:3", "too large number"},
  {MODEL("  1000 A + A -> B k\n"), "9:12", "adding up to 1001"},
  {MODEL("  A -> 600 B + 400 A + 500 B k\n"), "9:28", "coefficients of 'B' adding up to 1100"},
  {MODEL("  2A -> B k\n"), "9:3", "malformed number '2A'"},
  {MODEL("  A -> 2B k\n"), "9:8", "malformed number '2B'"},
  {MODEL("  -1 A -> B k\n"), "9:3", "negative number '-1'"},
  {MODEL("  1.5 A -> B k\n"), "9:3", "found '1.5'; expected a coefficient from 1 to 1000"},
  {MODEL("  A -> B k @\n"), "9:12", "found '@'; expected an operator or end of expression"},
  {MODEL("  A -> B k \x01\n"), "9:12", "found byte 0x01"},
  {MODEL("  A -> B k \xc3\xa9\n"), "9:12", "found byte 0xc3"},
  {MODEL("  -> B k\n"), "9:3", "found '->'; expected a species"},
  {MODEL("  2 -> B k\n"), "9:5", "expected a species name after the coefficient"},
  {MODEL("  A + -> B k\n"), "9:7", "found '->'; expected a species"},
  {MODEL("  A + B\n"), "9:8", "expected '->' or '<->'"},
  {MODEL("  lab: -> B k\n"), "9:8", "found '->'; expected a species"},
  {MODEL("  lab:\n"), "9:7", "found end of line; expected a species"},
  {MODEL("  " LONG64 ": A -> B k\n"), "9:3", "at most 63 bytes"},
  {MODEL("  A -> B k\n\n  A -> C k\n"), "11:8", "unknown species 'C'"},
};

static const ErrCase definition_errors[] = {
  {PARAMS("  k -1\n"), "2:5", "found negative number '-1'; expected a nonnegative finite number"},
  {PARAMS("  k nan\n"), "2:5", "found 'nan'; expected a nonnegative finite number"},
  {PARAMS("  k inf\n"), "2:5", "found 'inf'; expected a nonnegative finite number"},
  {PARAMS("  k -inf\n"), "2:5", "found '-'; expected a nonnegative finite number"},
  {PARAMS("  k 1e999\n"), "2:5", "out-of-range number '1e999'"},
  {PARAMS("  k -1e999\n"), "2:5", "out-of-range number '-1e999'"},
  {PARAMS("  k 1.2.3\n"), "2:5", "malformed number '1.2.3'"},
  {PARAMS("  k 0x10\n"), "2:5", "malformed number '0x10'"},
  {PARAMS("  k 1e\n"), "2:5", "malformed number '1e'"},
  {PARAMS("  k .\n"), "2:5", "malformed number '.'"},
  {PARAMS("  k abc\n"), "2:5", "found 'abc'; expected a nonnegative finite number"},
  {PARAMS("  k\n"), "2:4", "found end of line; expected a nonnegative finite number"},
  {PARAMS("  k 1 2\n"), "2:7", "found '2'; expected end of line"},
  {PARAMS("  k = 1\n"), "2:5", "found '='; expected a nonnegative finite number"},
  {PARAMS("  k 1\n  k 2\n"), "3:3", "duplicate name 'k' (already defined as a parameter at line 2)"},
  {PARAMS("  5 1\n"), "2:3", "found '5'; expected a parameter name"},
  {PARAMS("  " LONG64 " 1\n"), "2:3", "found a name of 64 bytes"},
  {SPECIES("  A -1\n"), "2:5", "found negative number '-1'; expected a nonnegative integer initial count"},
  {SPECIES("  A 1.5\n"), "2:5", "found '1.5'; expected a nonnegative integer initial count"},
  {SPECIES("  A 1e3\n"), "2:5", "found '1e3'; expected a nonnegative integer"},
  {SPECIES("  A 2x\n"), "2:5", "malformed number '2x'"},
  {SPECIES("  A 9223372036854775808\n"), "2:5", "too large number '9223372036854775808'"},
  {SPECIES("  A 9007199254740993\n"), "2:5", "found too large number '9007199254740993'; expected a nonnegative integer initial count at most 2^53"},
  {SPECIES("  A 9223372036854775807\n"), "2:5", "too large number '9223372036854775807'"},
  {SPECIES("  A 99999999999999999999999\n"), "2:5", "too large number"},
  {SPECIES("  A x\n"), "2:5", "found 'x'; expected a nonnegative integer"},
  {SPECIES("  A\n"), "2:4", "found end of line; expected a nonnegative integer initial count"},
  {SPECIES("  A 1 1\n"), "2:7", "expected end of line"},
  {SPECIES("  A 1\n  A 2\n"), "3:3", "duplicate name 'A' (already defined as a species at line 2)"},
  {SPECIES("  " LONG64 " 1\n"), "2:3", "expected at most 63 bytes"},
  {"begin parameters\n  A 1\nend parameters\nbegin species\n  A 1\nend species\nbegin reactions\n  A -> 0 1\nend reactions\n", "5:3",
   "duplicate name 'A' (already defined as a parameter at line 2)"},
  {"begin species\n  k 1\nend species\nbegin parameters\n  x 1\n  k 2\nend parameters\nbegin reactions\n  k -> 0 x\nend reactions\n", "6:3",
   "duplicate name 'k' (already defined as a species at line 2)"},
  /* errors of definitions come before errors of reactions (two passes) */
  {"begin reactions\n  A -> Q k\nend reactions\nbegin species\n  A -1\nend species\n", "5:5", "negative number"},
};

static const ErrCase structure_errors[] = {
  {"begin species\n  A 1\nend species\nbegin reactions\n  A -> 0 1\n", "4:1", "found end of file in the section 'reactions' opened here; expected 'end reactions'"},
  {"begin parameters\n  k 1\n", "1:1", "expected 'end parameters'"},
  {"begin species\n  A 1\nend species\n  begin reactions\n  A -> 0 1\n", "4:3", "expected 'end reactions'"},
  {"begin species\n  A 1\n  begin reactions\n", "3:3", "found 'begin' inside section 'species' (opened at line 1); expected 'end species'"},
  {"end species\n", "1:1", "found 'end' outside any section"},
  {"begin species\n  A 1\nend species\nend species\n", "4:1", "found 'end' outside any section"},
  {"begin species\n  A 1\nend reactions\n", "3:5", "found 'reactions' after 'end'; expected 'species'"},
  {"begin species\n  A 1\nend\n", "3:4", "found end of line after 'end'; expected 'species'"},
  {"begin species\n  A 1\nend species x\n", "3:13", "found 'x'; expected end of line"},
  {"begin foo\n", "1:7", "found unknown section 'foo'"},
  {"begin Species\n", "1:7", "unknown section 'Species'"},
  {"begin\n", "1:6", "found end of line; expected a section name"},
  {"begin 5\n", "1:7", "found '5'; expected a section name"},
  {"begin species x\n", "1:15", "found 'x'; expected end of line"},
  {"begin species\n  A 1\nend species\nbegin species\n", "4:7", "found a second 'species' section (the first begins at line 1)"},
  {"# c\nA 1\n", "2:1", "text outside any section: 'A'"},
  {"begin species\n  A 1\nend species\n  junk\n", "4:3", "text outside any section"},
  {"", "1:1", "no reactions"},
  {"# only a comment\n\n", "3:1", "no reactions"},
  {"   ", "1:4", "no reactions"},
  {"begin species\n  A 1\nend species\n", "4:1", "no reactions"},
  {"begin species\n  A 1\nend species\n\nbegin reactions\n# none\nend reactions\n", "5:1", "no reactions"},
  {"begin reactions\n  0 -> A 1\nend reactions\n", "4:1", "no species section"},
  {"begin species\nend species\nbegin reactions\n  0 -> A 1\nend reactions\n", "1:1", "empty species section"},
};

/* Line 10 is the first line of the inputs section; with one input line, line 13 is the first
   reaction. */
#define LAWS(inputs, reactions)                                                                                                             \
  "begin parameters\n  k 1.5\n  a0 1\nend parameters\nbegin species\n  A 10\n  B 0\nend species\nbegin inputs\n" inputs "end inputs\n" \
  "begin reactions\n" reactions "end reactions\n"
#define INPUT(line) LAWS(line, "  A -> B k\n")
#define LAW(line)   LAWS("  U 1\n", line)

static const ErrCase law_errors[] = {
  /* rate laws */
  {LAW("  A -> B  k*A/(Kx + A)\n"), "13:16", "found unknown name 'Kx'; expected a species, a parameter, an input or t"},
  {LAW("  A -> B  k*T\n"), "13:13", "found unknown name 'T'"},
  {LAW("  A -> B  foo(k)\n"), "13:11", "found unknown function 'foo'"},
  {LAW("  A -> B  k*(A + 1\n"), "13:19", "found end of expression; expected an operator or ')'"},
  {LAW("  A -> B  1/0\n"), "13:12", "found constant subexpression with value inf; expected a finite value"},
  {LAW("  A -> B  2-3\n"), "13:11", "found negative number '2-3' (value -1); expected a nonnegative finite number"},
  {LAW("  A -> B  -(2*3)  # negative\n"), "13:11", "found negative number '-(2*3)' (value -6); expected a nonnegative finite number"},
  {LAW("  A <-> B  1, 1-2*1\n"), "13:15", "found negative number '1-2*1' (value -1)"},
  {LAW("  A <-> B  min(k, 1)\n"), "13:21", "found end of line; expected ',' and the backward rate"},
  {LAW("  A <-> B  min(k, 1), max(k,1), k\n"), "13:31", "found ','; expected end of line (a '<->' reaction takes two rates)"},
  {LAW("  A <-> B  , k\n"), "13:12", "found ','; expected a rate"},
  {LAW("  A <-> B  k*U, B*kx\n"), "13:19", "found unknown name 'kx'"},
  {LAW("  A -> B  min(k, 1), k\n"), "13:20", "found ','; expected end of line (only a '<->' reaction takes a second rate)"},
  {LAW("  U -> B  k\n"), "13:3", "found input 'U' in a reaction side; expected a species name"},
  /* input expressions */
  {INPUT("  U k*A\n"), "10:7", "found species 'A' in the expression of input 'U'; expected parameters, numbers and t (an input may not depend on species)"},
  {INPUT("  U 1\n  V 2*U\n"), "11:7", "found input 'U' in the expression of input 'V'; expected parameters, numbers and t (an input may not use another input)"},
  {INPUT("  V 2*U\n  U 1\n"), "10:7", "found input 'U' in the expression of input 'V'"},
  {INPUT("  V V\n"), "10:5", "found input 'V' in the expression of input 'V'"},
  {INPUT("  U a0 + kx*t\n"), "10:10", "found unknown name 'kx'; expected a species, a parameter, an input or t"},
  {INPUT("  U a0 +\n"), "10:9", "found end of expression"},
  {INPUT("  U\n"), "10:4", "found end of line; expected an expression of parameters, numbers and t, or 'table'"},
  {INPUT("  U   # nothing\n"), "10:7", "found end of line; expected an expression"},
  {INPUT("  5 1\n"), "10:3", "found '5'; expected an input name"},
  {INPUT("  " LONG64 " 1\n"), "10:3", "found a name of 64 bytes"},
  /* tables */
  {INPUT("  U table 1 2\n"), "10:11", "found first time '1'; expected 0 (a table starts at time 0)"},
  {INPUT("  U table -1 2\n"), "10:11", "found first time '-1'; expected 0"},
  {INPUT("  U table 0 1 2 3 2 4\n"), "10:19", "found time '2' not after the previous time 2; expected strictly increasing times"},
  {INPUT("  U table 0 1 0 2\n"), "10:15", "found time '0' not after the previous time 0"},
  {INPUT("  U table 0 1 1e999 2\n"), "10:15", "found out-of-range number '1e999'; expected a finite time"},
  {INPUT("  U table 0 1 x 2\n"), "10:15", "found 'x'; expected a time (a finite number) or end of line"},
  {INPUT("  U table k 1\n"), "10:11", "found 'k'; expected the first time 0"},
  {INPUT("  U table 0 -1\n"), "10:13", "found negative number '-1'; expected a nonnegative finite number or a parameter name"},
  {INPUT("  U table 0 1e999\n"), "10:13", "found out-of-range number '1e999'; expected a nonnegative finite number or a parameter name"},
  {INPUT("  U table 0 kk\n"), "10:13", "found unknown parameter 'kk'; expected a nonnegative finite number or a parameter name"},
  {INPUT("  U table 0 t\n"), "10:13", "found unknown parameter 't'"},
  {INPUT("  U table 0 A\n"), "10:13", "found species 'A' as a table value; expected a nonnegative finite number or a parameter name"},
  {INPUT("  U table 0 U\n"), "10:13", "found input 'U' as a table value"},
  {INPUT("  U table 0 (1)\n"), "10:13", "found '('; expected a nonnegative finite number or a parameter name"},
  {INPUT("  U table 0 1 2\n"), "10:16", "found end of line after time '2'; expected its value (a table is pairs 'TIME VALUE')"},
  {INPUT("  U table 0\n"), "10:12", "found end of line after time '0'; expected its value"},
  {INPUT("  U table\n"), "10:10", "found end of line; expected the pairs 'TIME VALUE ...' of the table, starting at time 0"},
  {INPUT("  U table   # none\n"), "10:13", "found end of line; expected the pairs 'TIME VALUE ...'"},
  /* names: t is reserved, inputs share the namespace */
  {INPUT("  t 1\n"), "10:3", "found reserved name 't' (the time in rate and input expressions); expected another name"},
  {PARAMS("  t 1\n"), "2:3", "found reserved name 't'"},
  {SPECIES("  t 1\n"), "2:3", "found reserved name 't'"},
  {INPUT("  k 1\n"), "10:3", "found duplicate name 'k' (already defined as a parameter at line 2); expected a new name"},
  {INPUT("  A 1\n"), "10:3", "found duplicate name 'A' (already defined as a species at line 6)"},
  {INPUT("  U 1\n  U t\n"), "11:3", "found duplicate name 'U' (already defined as an input at line 10)"},
  {"begin inputs\n  U 1\nend inputs\nbegin species\n  U 1\nend species\nbegin reactions\n  U -> 0 1\nend reactions\n", "5:3",
   "found duplicate name 'U' (already defined as an input at line 2)"},
  {"begin inputs\n  U 1\nend inputs\nbegin parameters\n  U 1\nend parameters\n", "5:3", "already defined as an input at line 2"},
  /* sections */
  {INPUT("  U 1\nend inputs\nbegin inputs\n"), "12:7", "found a second 'inputs' section (the first begins at line 9)"},
  {"begin inputs\n  U 1\n", "1:1", "found end of file in the section 'inputs' opened here; expected 'end inputs'"},
  {"begin input\n", "1:7", "found unknown section 'input'; expected 'parameters', 'species', 'reactions', 'inputs' or 'events'"},
  /* errors of the first pass before errors of inputs, those before errors of reactions */
  {"begin inputs\n  U k*A\nend inputs\nbegin species\n  A -1\nend species\n", "5:5", "negative number"},
  {"begin reactions\n  A -> 0 q\nend reactions\nbegin inputs\n  U k*A\nend inputs\nbegin species\n  A 1\nend species\n", "5:5", "found unknown name 'k'"},
};

static void run_case(const char *table, const ErrCase *c, int i)
{
  char ctx[80];
  snprintf(ctx, sizeof ctx, "%s[%d]", table, i);
  expect_error_len(ctx, c->text, strlen(c->text), c->where, c->phrase);
}

START_TEST(test_reaction_errors) { run_case("reaction_errors", &reaction_errors[_i], _i); }
END_TEST

START_TEST(test_definition_errors) { run_case("definition_errors", &definition_errors[_i], _i); }
END_TEST

START_TEST(test_structure_errors) { run_case("structure_errors", &structure_errors[_i], _i); }
END_TEST

START_TEST(test_law_errors) { run_case("law_errors", &law_errors[_i], _i); }
END_TEST


/* ---------------------------------------------------------------- events (issue 18) */

/* A model with parameters k (line 2), c (3), species A (6), B (7), input U (10), then the events
   section from line 16 on. */
#define EVMODEL(body) \
  "begin parameters\n  k 2\n  c 0.25\nend parameters\nbegin species\n  A 3\n  B 0\nend species\nbegin inputs\n  U 1\nend inputs\nbegin reactions\n  0 -> A k\nend reactions\nbegin events\n" body "end events\n"

START_TEST(test_events)
{
  StgssaModelDef *def = PARSE_OK(EVMODEL("  every 2: divide          # all species\n"
                                         "  at 1.5: A = 4*k + 0.5\n"
                                         "  every 3 from 0.5: divide B, A\n"
                                         "  at 0: B += c*4\n"
                                         "  at 7: A -= 3\n"
                                         "  at 7: scale A c\n"
                                         "  at 2: divide B\n"));
  double          pv[2] = {2, 0.25}, dl[2];
  ck_assert_int_eq(def->nevents, 7);
  ck_assert_int_eq(def->events[0].kind, STGSSA_EVENT_DIVIDE);
  ck_assert_int_eq(def->events[0].all, 1);
  ck_assert_int_eq(def->events[0].nspecies, 2);
  ck_assert(def->events[0].t_first == 2 && def->events[0].period == 2);
  ck_assert_int_eq(def->events[0].line, 16);
  ck_assert_int_eq(def->events[1].kind, STGSSA_EVENT_SET);
  ck_assert(def->events[1].period == 0 && def->events[1].t_first == 1.5);
  ck_assert_int_eq(def->events[1].species[0], 0);
  ck_assert_double_eq(StgssaModelDefEventValue(def, 1, pv, dl, NULL), 8.5);
  ck_assert_double_eq(dl[0], 8.0); /* k d(4k + 0.5)/dk */
  ck_assert_double_eq(dl[1], 0.0);
  ck_assert_int_eq(def->events[2].all, 0);
  ck_assert_int_eq(def->events[2].nspecies, 2);
  ck_assert_int_eq(def->events[2].species[0], 1);
  ck_assert_int_eq(def->events[2].species[1], 0);
  ck_assert(def->events[2].t_first == 0.5 && def->events[2].period == 3);
  ck_assert_int_eq(def->events[3].kind, STGSSA_EVENT_ADD);
  ck_assert_double_eq(StgssaModelDefEventValue(def, 3, pv, NULL, NULL), 1.0);
  ck_assert_int_eq(def->events[4].kind, STGSSA_EVENT_SUB);
  ck_assert_int_eq(def->events[5].kind, STGSSA_EVENT_SCALE);
  ck_assert_double_eq(StgssaModelDefEventValue(def, 5, pv, dl, NULL), 0.25);
  ck_assert_double_eq(dl[1], 0.25);
  ck_assert_double_eq(StgssaModelDefEventValue(def, 0, pv, NULL, NULL), 0.5);
  /* the schedule: strictly after t, in file order at equal times */
  ck_assert_double_eq(StgssaModelDefNextEventTime(def, -1.0), 0.0);
  ck_assert_double_eq(StgssaModelDefNextEventTime(def, 0.0), 0.5);
  ck_assert_double_eq(StgssaModelDefNextEventTime(def, 0.5), 1.5);
  ck_assert_double_eq(StgssaModelDefNextEventTime(def, 1.5), 2.0);
  ck_assert_double_eq(StgssaModelDefNextEventTime(def, 2.0), 3.5);
  ck_assert_double_eq(StgssaModelDefNextEventTime(def, 6.5), 7.0);
  ck_assert_double_eq(StgssaModelDefEventNext(def, 4, 7.0), INFINITY);
  ck_assert_double_eq(StgssaModelDefEventNext(def, 0, 1e6 + 1), 1e6 + 2);
  ck_assert(StgssaModelDefEventAt(def, 0, 2.0) && StgssaModelDefEventAt(def, 6, 2.0) && !StgssaModelDefEventAt(def, 1, 2.0));
  ck_assert(StgssaModelDefEventAt(def, 2, 3.5) && !StgssaModelDefEventAt(def, 2, 2.0));
  ck_assert(StgssaModelDefEventAt(def, 4, 7.0) && StgssaModelDefEventAt(def, 5, 7.0));
  /* a periodic schedule stays on t_first + k P for large k (no drift) */
  for (int k = 0; k < 1000; k++) ck_assert_double_eq(StgssaModelDefEventNext(def, 2, 0.5 + k * 3.0), 0.5 + (k + 1) * 3.0);
  StgssaModelDefFree(&def);
  /* a period far below the resolution of the time: no later occurrence (the engines stop there) */
  def = PARSE_OK(EVMODEL("  every 1e-320: divide\n"));
  ck_assert_double_eq(StgssaModelDefEventNext(def, 0, 1.0), INFINITY);
  ck_assert_double_eq(StgssaModelDefEventNext(def, 0, 1e-320), 2e-320);
  StgssaModelDefFree(&def);
  /* no events section: nevents 0, next time +inf */
  def = PARSE_OK("begin species\n  A 1\nend species\nbegin reactions\n  A -> 0 1\nend reactions\nbegin events\nend events\n");
  ck_assert_int_eq(def->nevents, 0);
  ck_assert_double_eq(StgssaModelDefNextEventTime(def, 0.0), INFINITY);
  StgssaModelDefFree(&def);
}
END_TEST

static const ErrCase event_errors[] = {
  {EVMODEL("  at -1: divide\n"), "16:6", "found negative number '-1'; expected the event time (a finite number >= 0)"},
  {EVMODEL("  at nan: divide\n"), "16:6", "found 'nan'; expected the event time"},
  {EVMODEL("  at 1e999: divide\n"), "16:6", "found out-of-range number '1e999'; expected the event time"},
  {EVMODEL("  every 0: divide\n"), "16:9", "found zero '0'; expected the period (a finite number > 0)"},
  {EVMODEL("  every -2: divide\n"), "16:9", "found negative number '-2'; expected the period"},
  {EVMODEL("  every 2 from -1: divide\n"), "16:16", "found negative number '-1'; expected the first time"},
  {EVMODEL("  every 1 from 1e300: divide\n"), "16:9", "found period 1 below the resolution of the first time 1e+300"},
  {EVMODEL("  at 1 divide\n"), "16:8", "found 'divide'; expected ':' before the action"},
  {EVMODEL("  every 1 from 2 from 3: divide\n"), "16:18", "expected ':' (a second 'from')"},
  {EVMODEL("  when 1: divide\n"), "16:3", "found 'when'; expected 'at TIME: ACTION' or 'every PERIOD [from TIME]: ACTION'"},
  {EVMODEL("  at 1:\n"), "16:8", "found end of line; expected an action"},
  {EVMODEL("  at 1: divide Q\n"), "16:16", "found unknown species 'Q'; expected a species defined in the species section"},
  {EVMODEL("  at 1: divide A k\n"), "16:18", "found parameter 'k'; expected a species name"},
  {EVMODEL("  at 1: divide A A\n"), "16:18", "found species 'A' twice"},
  {EVMODEL("  at 1: divide A,\n"), "16:18", "found end of line; expected a species name after ','"},
  {EVMODEL("  at 1: divide A 2\n"), "16:18", "found '2'; expected a species name, ',' or end of line"},
  {EVMODEL("  at 1: Q = 2\n"), "16:9", "found unknown species 'Q'; expected an action"},
  {EVMODEL("  at 1: k = 2\n"), "16:9", "found parameter 'k'; expected an action"},
  {EVMODEL("  at 1: A * 2\n"), "16:11", "found '*'; expected '=', '+=' or '-=' after the species"},
  {EVMODEL("  at 1: A =\n"), "16:12", "found end of line; expected an expression of parameters and numbers"},
  {EVMODEL("  at 1: A = B + 1\n"), "16:13", "found species 'B' in an event's expression; expected parameters and numbers"},
  {EVMODEL("  at 1: A = U\n"), "16:13", "found input 'U' in an event's expression"},
  {EVMODEL("  at 1: A = 2*t\n"), "16:15", "found the time 't' in an event's expression"},
  {EVMODEL("  at 1: A = zz\n"), "16:13", "found unknown name 'zz' in an event's expression; expected parameters and numbers"},
  {EVMODEL("  at 1: A = 1 - 3\n"), "16:13", "found value -2 of '1 - 3'; expected a value >= 0"},
  {EVMODEL("  at 1: A += 1e300\n"), "16:14", "found count 1e+300 of '1e300'; expected at most 2^53"},
  {EVMODEL("  at 1: scale A 1.5\n"), "16:17", "found keep fraction 1.5 of '1.5'; expected a fraction F in [0, 1]"},
  {EVMODEL("  at 1: scale A -0.5\n"), "16:17", "found value -0.5 of '-0.5'; expected a value >= 0"},
  {EVMODEL("  at 1: scale A\n"), "16:16", "found end of line; expected the keep fraction F in [0, 1]"},
  {EVMODEL("  at 1: scale k 0.5\n"), "16:15", "found parameter 'k'; expected a species name"},
  {EVMODEL("  at 1: A -= (2\n"), "16:16", "found end of expression; expected an operator or ')'"},
  {"begin species\n  A 1\nend species\nbegin reactions\n  A -> 0 1\nend reactions\nbegin events\n  at 1: divide\n", "7:1",
   "found end of file in the section 'events' opened here; expected 'end events'"},
};

START_TEST(test_event_errors) { run_case("event_errors", &event_errors[_i], _i); }
END_TEST

START_TEST(test_bad_arguments)
{
  StgssaModelDef *def = NULL;
  char            err[128];
  ck_assert_int_eq(StgssaModelDefParse("x", 1, FNAME, NULL, err, sizeof err), STGSSA_PARSE_ESYNTAX);
  ck_assert_int_eq(StgssaModelDefParse(NULL, 1, FNAME, &def, err, sizeof err), STGSSA_PARSE_ESYNTAX);
  ck_assert_ptr_null(def);
  /* NULL filename and no error buffer */
  ck_assert_int_eq(StgssaModelDefParse(NULL, 0, NULL, &def, NULL, 0), STGSSA_PARSE_ESYNTAX);
  ck_assert_int_eq(StgssaModelDefParse("", 0, NULL, &def, err, sizeof err), STGSSA_PARSE_ESYNTAX);
  ck_assert_str_eq(err, "<input>:1:1: found end of file with no reactions; expected a 'begin reactions' section");
  /* a short error buffer is truncated, not overrun */
  ck_assert_int_eq(StgssaModelDefParse("", 0, FNAME, &def, err, 8), STGSSA_PARSE_ESYNTAX);
  ck_assert_str_eq(err, "t.model");
}
END_TEST

/* ---------------------------------------------------------------- files */

START_TEST(test_missing_file)
{
  StgssaModelDef *def = NULL;
  char            err[512], expect[512];
  const char     *path = "/tmp/test_parse_no_such_dir/none.model";
  int             rc   = StgssaModelDefParseFile(path, &def, err, sizeof err);

  ck_assert_int_eq(rc, STGSSA_PARSE_EIO);
  ck_assert_ptr_null(def);
  snprintf(expect, sizeof expect, "%s: cannot open: %s", path, strerror(ENOENT));
  ck_assert_str_eq(err, expect);
}
END_TEST

START_TEST(test_directory)
{
  StgssaModelDef *def = NULL;
  char            err[512];
  int             rc = StgssaModelDefParseFile("/tmp", &def, err, sizeof err);

  ck_assert_int_eq(rc, STGSSA_PARSE_EIO);
  ck_assert_ptr_null(def);
  ck_assert_msg(!strncmp(err, "/tmp: cannot ", 13), "%s", err);
}
END_TEST

START_TEST(test_file_error_names_file)
{
  StgssaModelDef *def = NULL;
  char            path[64], err[512], prefix[96];
  int             rc;

  write_temp("begin species\n  A 1\nend species\nbegin reactions\n  A -> Z 1\nend reactions\n", path, sizeof path);
  rc = StgssaModelDefParseFile(path, &def, err, sizeof err);
  unlink(path);
  ck_assert_int_eq(rc, STGSSA_PARSE_ESYNTAX);
  ck_assert_ptr_null(def);
  snprintf(prefix, sizeof prefix, "%s:5:8: found unknown species 'Z'", path);
  ck_assert_msg(!strncmp(err, prefix, strlen(prefix)), "%s", err);
}
END_TEST

START_TEST(test_empty_file)
{
  StgssaModelDef *def = NULL;
  char            path[64], err[512], expect[128];
  int             rc;

  write_temp("", path, sizeof path);
  rc = StgssaModelDefParseFile(path, &def, err, sizeof err);
  unlink(path);
  ck_assert_int_eq(rc, STGSSA_PARSE_ESYNTAX);
  snprintf(expect, sizeof expect, "%s:1:1: found end of file with no reactions", path);
  ck_assert_msg(!strncmp(err, expect, strlen(expect)), "%s", err);
}
END_TEST

START_TEST(test_large_file)
{
  /* more than one read buffer */
  size_t          n = 20000, i, len = 0;
  char           *text = malloc(n * 16 + 128), path[64], err[512];
  StgssaModelDef *def = NULL;
  int             rc;

  ck_assert_ptr_nonnull(text);
  len += (size_t)sprintf(text + len, "begin species\n  A 1\nend species\nbegin reactions\n");
  for (i = 0; i < n; i++) len += (size_t)sprintf(text + len, "  A -> 0 %zu\n", i);
  len += (size_t)sprintf(text + len, "end reactions\n");
  write_temp(text, path, sizeof path);
  rc = StgssaModelDefParseFile(path, &def, err, sizeof err);
  unlink(path);
  ck_assert_msg(rc == STGSSA_PARSE_OK, "%s", err);
  ck_assert_int_eq(def->nreactions, (int)n);
  ck_assert_double_eq(StgssaModelDefRate(def, (int)n - 1), (double)(n - 1));
  ck_assert_str_eq(def->text, text);
  StgssaModelDefFree(&def);
  free(text);
}
END_TEST

/* ---------------------------------------------------------------- parameter overrides */

static StgssaModelDef *telegraph_def(void) { return PARSE_OK(telegraph); }

static void expect_override_error(int srcline, const char *assign, const char *phrase)
{
  StgssaModelDef *def = telegraph_def();
  char            err[512];
  double          before[6];
  int             i, rc;

  for (i = 0; i < def->nparams; i++) before[i] = def->params[i].value;
  rc = StgssaModelDefSetParameters(def, assign, "-stgssa_parameters", err, sizeof err);
  ck_assert_msg(rc == STGSSA_PARSE_ESYNTAX, "line %d: rc %d for '%s'", srcline, rc, assign);
  ck_assert_msg(!strncmp(err, "-stgssa_parameters: ", 20), "line %d: %s", srcline, err);
  ck_assert_msg(strstr(err, phrase) != NULL, "line %d: expected '%s' in '%s'", srcline, phrase, err);
  for (i = 0; i < def->nparams; i++) ck_assert_msg(def->params[i].value == before[i], "line %d: parameter %d changed", srcline, i);
  StgssaModelDefFree(&def);
}
#define EXPECT_OVERRIDE_ERROR(assign, phrase) expect_override_error(__LINE__, assign, phrase)

START_TEST(test_override_valid)
{
  StgssaModelDef *def = telegraph_def();
  char            err[256];

  ck_assert_int_eq(StgssaModelDefSetParameters(def, "k_on=0.75, k_off = 3 ,\tk_b=2.5e-1 ", "-stgssa_parameters", err, sizeof err), STGSSA_PARSE_OK);
  ck_assert_double_eq(def->params[0].value, 0.75);
  ck_assert_double_eq(def->params[1].value, 3.0);
  ck_assert_double_eq(def->params[2].value, 20.0);
  ck_assert_double_eq(def->params[4].value, 0.25);
  ck_assert_int_eq(def->params[0].line, 3);
  ck_assert_double_eq(StgssaModelDefRate(def, 0), 0.75);
  ck_assert_double_eq(StgssaModelDefRate(def, 4), 0.25);
  /* the last assignment of a name wins; zero is allowed */
  ck_assert_int_eq(StgssaModelDefSetParameters(def, "k_tx=1,k_tx=0", NULL, err, sizeof err), STGSSA_PARSE_OK);
  ck_assert_double_eq(StgssaModelDefRate(def, 2), 0.0);
  /* nothing to do */
  ck_assert_int_eq(StgssaModelDefSetParameters(def, "", NULL, err, sizeof err), STGSSA_PARSE_OK);
  ck_assert_int_eq(StgssaModelDefSetParameters(def, "  \t", NULL, err, sizeof err), STGSSA_PARSE_OK);
  ck_assert_int_eq(StgssaModelDefSetParameters(def, NULL, NULL, err, sizeof err), STGSSA_PARSE_OK);
  ck_assert_double_eq(def->params[0].value, 0.75);
  /* origin defaults */
  ck_assert_int_eq(StgssaModelDefSetParameters(def, "zz=1", NULL, err, sizeof err), STGSSA_PARSE_ESYNTAX);
  ck_assert_str_eq(err, "parameters: unknown parameter 'zz' (model defines: k_on, k_off, k_tx, k_deg, k_b, k_u)");
  ck_assert_int_eq(StgssaModelDefSetParameters(NULL, "k_on=1", "-x", err, sizeof err), STGSSA_PARSE_ESYNTAX);
  StgssaModelDefFree(&def);
}
END_TEST

START_TEST(test_override_errors)
{
  StgssaModelDef *def;
  char            err[256];

  EXPECT_OVERRIDE_ERROR("k_x=1", "unknown parameter 'k_x' (model defines: k_on, k_off, k_tx, k_deg, k_b, k_u)");
  EXPECT_OVERRIDE_ERROR("k_on=1,k_x=1", "unknown parameter 'k_x'");
  EXPECT_OVERRIDE_ERROR("K_ON=1", "unknown parameter 'K_ON'");
  EXPECT_OVERRIDE_ERROR("k_on", "found 'k_on'; expected name=value");
  EXPECT_OVERRIDE_ERROR("k_on 0.5", "found 'k_on 0.5'; expected name=value");
  EXPECT_OVERRIDE_ERROR("=1", "found '=1'; expected name=value with a parameter name");
  EXPECT_OVERRIDE_ERROR("1k=1", "found '1k=1'; expected name=value with a parameter name");
  EXPECT_OVERRIDE_ERROR("k-on=1", "found 'k-on=1'; expected name=value with a parameter name");
  EXPECT_OVERRIDE_ERROR("k_on=1,,k_off=2", "found an empty assignment in 'k_on=1,,k_off=2'");
  EXPECT_OVERRIDE_ERROR("k_on=1,", "found an empty assignment");
  EXPECT_OVERRIDE_ERROR(",k_on=1", "found an empty assignment");
  EXPECT_OVERRIDE_ERROR("k_on=", "found '' as value of 'k_on'; expected a nonnegative finite number");
  EXPECT_OVERRIDE_ERROR("k_on=1x", "found '1x' as value of 'k_on'");
  EXPECT_OVERRIDE_ERROR("k_on=1 2", "found '1 2' as value of 'k_on'");
  EXPECT_OVERRIDE_ERROR("k_on=0x10", "found '0x10' as value of 'k_on'");
  EXPECT_OVERRIDE_ERROR("k_on=1=2", "found '1=2' as value of 'k_on'");
  EXPECT_OVERRIDE_ERROR("k_on=-1", "found negative number '-1' as value of 'k_on'; expected a nonnegative finite number");
  EXPECT_OVERRIDE_ERROR("k_on=nan", "found 'nan' as value of 'k_on'; expected a nonnegative finite number");
  EXPECT_OVERRIDE_ERROR("k_on=NaN", "found 'NaN' as value of 'k_on'");
  EXPECT_OVERRIDE_ERROR("k_on=inf", "found 'inf' as value of 'k_on'");
  EXPECT_OVERRIDE_ERROR("k_on=-inf", "found '-inf' as value of 'k_on'");
  EXPECT_OVERRIDE_ERROR("k_on=1e999", "found out-of-range number '1e999' as value of 'k_on'");
  /* def unchanged when a later item is invalid */
  EXPECT_OVERRIDE_ERROR("k_on=7,k_off=8,k_tx=-1", "negative number '-1' as value of 'k_tx'");
  EXPECT_OVERRIDE_ERROR("k_on=7,k_off", "found 'k_off'; expected name=value");

  /* a model without parameters */
  def = PARSE_OK("begin species\n  A 1\nend species\nbegin reactions\n  A -> 0 1\nend reactions\n");
  ck_assert_int_eq(StgssaModelDefSetParameters(def, "k=1", "-stgssa_parameters", err, sizeof err), STGSSA_PARSE_ESYNTAX);
  ck_assert_str_eq(err, "-stgssa_parameters: unknown parameter 'k' (model defines no parameters)");
  StgssaModelDefFree(&def);
}
END_TEST

/* ---------------------------------------------------------------- main */

static Suite *parse_suite(void)
{
  Suite *s = suite_create("modeldef_parse");
  TCase *tc;

  tc = tcase_create("valid");
  tcase_add_test(tc, test_telegraph_file);
  tcase_add_test(tc, test_design_example_verbatim);
  tcase_add_test(tc, test_crlf);
  tcase_add_test(tc, test_comments_blank_lines);
  tcase_add_test(tc, test_section_order);
  tcase_add_test(tc, test_rates);
  tcase_add_test(tc, test_sides);
  tcase_add_test(tc, test_labels_and_names);
  tcase_add_test(tc, test_large_counts);
  tcase_add_test(tc, test_not_nul_terminated);
  tcase_add_test(tc, test_free_null);
  suite_add_tcase(s, tc);

  tc = tcase_create("laws");
  tcase_add_test(tc, test_laws);
  tcase_add_test(tc, test_inputs);
  tcase_add_test(tc, test_inputs_order);
  tcase_add_test(tc, test_input_files);
  tcase_add_test(tc, test_events);
  tcase_add_loop_test(tc, test_event_errors, 0, (int)(sizeof event_errors / sizeof event_errors[0]));
  tcase_add_loop_test(tc, test_law_errors, 0, (int)(sizeof law_errors / sizeof law_errors[0]));
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_loop_test(tc, test_reaction_errors, 0, (int)(sizeof reaction_errors / sizeof reaction_errors[0]));
  tcase_add_loop_test(tc, test_definition_errors, 0, (int)(sizeof definition_errors / sizeof definition_errors[0]));
  tcase_add_loop_test(tc, test_structure_errors, 0, (int)(sizeof structure_errors / sizeof structure_errors[0]));
  tcase_add_test(tc, test_bad_arguments);
  suite_add_tcase(s, tc);

  tc = tcase_create("files");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_missing_file);
  tcase_add_test(tc, test_directory);
  tcase_add_test(tc, test_file_error_names_file);
  tcase_add_test(tc, test_empty_file);
  tcase_add_test(tc, test_large_file);
  suite_add_tcase(s, tc);

  tc = tcase_create("overrides");
  tcase_add_test(tc, test_override_valid);
  tcase_add_test(tc, test_override_errors);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(parse_suite());
  int      failed;

  srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY: the suite sets normal, so the Checks line shows */
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
