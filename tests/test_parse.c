/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Unit tests of the model file parser (src/model/modeldef_parse.c, DESIGN.md section 4).
  Quiet unless a test fails; exit status nonzero on failure.
*/
#define _POSIX_C_SOURCE 200809L /* mkstemp, write, unlink */
#include <stgssa/modeldef.h>

#include <check.h>
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
  StgssaModelDef *def = PARSE_OK("begin species\n  A 9223372036854775807\n  B 000\nend species\nbegin reactions\n  A -> B 1\nend reactions\n");
  ck_assert(def->species[0].initial == INT64_MAX);
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
  {MODEL("  A -> B kk\n"), "9:10", "undefined parameter 'kk'"},
  {MODEL("  A -> B A\n"), "9:10", "found species 'A' as a rate"},
  {MODEL("  A -> B -2\n"), "9:10", "negative number '-2'"},
  {MODEL("  A -> B nan\n"), "9:10", "undefined parameter 'nan'"},
  {MODEL("  A -> B inf\n"), "9:10", "undefined parameter 'inf'"},
  {MODEL("  A -> B 1e999\n"), "9:10", "out-of-range number '1e999'"},
  {MODEL("  A -> B 1.2.3\n"), "9:10", "malformed number '1.2.3'; expected a rate"},
  {MODEL("  A -> B 0x10\n"), "9:10", "malformed number '0x10'"},
  {MODEL("  A -> B -2*k\n"), "9:10", "negative number '-2'"},
  {MODEL("  A -> B 1e999*k\n"), "9:10", "out-of-range number"},
  {MODEL("  A -> B 2*\n"), "9:12", "found end of line; expected a parameter name after '*'"},
  {MODEL("  A -> B 2*3\n"), "9:12", "found '3'; expected a parameter name after '*'"},
  {MODEL("  A -> B 2*kk\n"), "9:12", "undefined parameter 'kk'"},
  {MODEL("  A -> B k*2\n"), "9:11", "found '*'; expected end of line"},
  {MODEL("  A -> B\n"), "9:9", "found end of line; expected a rate"},
  {MODEL("  A -> B   # no rate\n"), "9:12", "expected a rate"},
  {MODEL("  A -> B k x\n"), "9:12", "found 'x'; expected end of line"},
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
  {MODEL("  A -> B k @\n"), "9:12", "found '@'; expected end of line"},
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
