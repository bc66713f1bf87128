/* SPDX-License-Identifier: BSD-2-Clause */
/* Parser of a study table (see study_table.h). */
#include "study_table.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../model/lex_util.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;
  if (err && errlen) {
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* a model parameter name: the names of the model format */
static int is_identifier(const char *s)
{
  if (!is_name_start(uc(s, 0))) return 0;
  for (s++; *s; s++)
    if (!is_name_char(uc(s, 0))) return 0;
  return 1;
}

static int is_member_name(const char *s)
{
  if (!*s || strlen(s) > 128) return 0;
  for (; *s; s++)
    if (!(is_name_char(uc(s, 0)) || *s == '-' || *s == '.')) return 0;
  return 1;
}

/* '-' and a name starting with a letter, like -stgssa_seed */
static int is_option_name(const char *s) { return s[0] == '-' && s[1] != '_' && is_identifier(s + 1); }

int StgssaStudyTableIsOption(const StgssaStudyTable *tab, int col) { return tab->header[col][0] == '-'; }

int StgssaStudyTableIsParameter(const StgssaStudyTable *tab, int col) { return col != tab->name_col && tab->header[col][0] != '-'; }

/* Split one line [s, e) into fields; returns the number of fields or -1 (message in err). */
static int split_fields(const char *s, const char *e, char ***out, const char *filename, int lineno, char *err, size_t errlen)
{
  char **f = NULL;
  int    n = 0, cap = 0;

  for (;;) {
    char  *buf = (char *)malloc((size_t)(e - s) + 1);
    size_t len = 0;
    if (!buf) goto oom;
    while (s < e && (*s == ' ' || *s == '\t')) s++;
    if (s < e && *s == '"') { /* quoted field */
      s++;
      for (;;) {
        if (s >= e) {
          free(buf);
          for (int i = 0; i < n; i++) free(f[i]);
          free(f);
          return fail(err, errlen, "%s:%d: unterminated quoted field; expected a closing '\"'", filename, lineno);
        }
        if (*s == '"') {
          if (s + 1 < e && s[1] == '"') {
            buf[len++] = '"';
            s += 2;
            continue;
          }
          s++;
          break;
        }
        buf[len++] = *s++;
      }
      while (s < e && (*s == ' ' || *s == '\t')) s++;
      if (s < e && *s != ',') {
        free(buf);
        for (int i = 0; i < n; i++) free(f[i]);
        free(f);
        return fail(err, errlen, "%s:%d: text after a quoted field; expected ',' or the end of the line", filename, lineno);
      }
    } else {
      const char *start = s;
      while (s < e && *s != ',') s++;
      const char *end = s;
      while (end > start && (end[-1] == ' ' || end[-1] == '\t')) end--;
      memcpy(buf, start, (size_t)(end - start));
      len = (size_t)(end - start);
    }
    buf[len] = 0;
    if (n == cap) {
      char **g;
      cap = cap ? 2 * cap : 16;
      g   = (char **)realloc(f, (size_t)cap * sizeof(*f));
      if (!g) {
        free(buf);
        goto oom;
      }
      f = g;
    }
    f[n++] = buf;
    if (s >= e) break;
    s++; /* the comma */
  }
  *out = f;
  return n;
oom:
  for (int i = 0; i < n; i++) free(f[i]);
  free(f);
  return fail(err, errlen, "%s:%d: out of memory", filename, lineno);
}

void StgssaStudyTableFree(StgssaStudyTable *tab)
{
  if (!tab) return;
  for (int c = 0; c < tab->ncols; c++) free(tab->header ? tab->header[c] : NULL);
  if (tab->cells)
    for (long i = 0; i < (long)tab->nrows * tab->ncols; i++) free(tab->cells[i]);
  if (tab->names)
    for (int r = 0; r < tab->nrows; r++) free(tab->names[r]);
  free(tab->header);
  free(tab->cells);
  free(tab->line);
  free(tab->names);
  memset(tab, 0, sizeof(*tab));
  tab->name_col = -1;
}

static int check_cell(const StgssaStudyTable *tab, int col, const char *cell, const char *filename, int lineno, char *err, size_t errlen)
{
  if (col == tab->name_col) {
    if (!is_member_name(cell)) return fail(err, errlen, "%s:%d: member name '%s'; expected letters, digits, '_', '-', '.' (1 to 128 characters)", filename, lineno, cell);
  } else if (StgssaStudyTableIsParameter(tab, col) && cell[0]) {
    char  *end;
    double v = strtod(cell, &end);
    if (*end || end == cell || !isfinite(v) || v < 0) return fail(err, errlen, "%s:%d: column %s: '%s'; expected a non-negative number (a rate) or an empty cell", filename, lineno, tab->header[col], cell);
  }
  return 0;
}

int StgssaStudyTableParse(const char *text, const char *filename, StgssaStudyTable *tab, char *err, size_t errlen)
{
  const char *s = text;
  int         lineno = 0, header_line = 0, caprows = 0;

  memset(tab, 0, sizeof(*tab));
  tab->name_col = -1;
  if (!filename) filename = "study table";
  while (*s) {
    const char *e = strchr(s, '\n'), *next, *p;
    char      **f = NULL;
    int         n;
    if (!e) e = s + strlen(s);
    next = *e ? e + 1 : e;
    lineno++;
    if (e > s && e[-1] == '\r') e--;
    for (p = s; p < e && (*p == ' ' || *p == '\t'); p++) {}
    if (p == e || *p == '#') {
      s = next;
      continue;
    }
    if ((n = split_fields(s, e, &f, filename, lineno, err, errlen)) < 0) goto failed;
    if (!tab->header) { /* the header */
      tab->header = f;
      tab->ncols  = n;
      header_line = lineno;
      for (int c = 0; c < n; c++) {
        const char *h = f[c];
        if (!strcmp(h, "name")) tab->name_col = c;
        else if (h[0] == '-') {
          if (!is_option_name(h)) {
            fail(err, errlen, "%s:%d: column %d header '%s'; expected an option name like -stgssa_seed", filename, lineno, c + 1, h);
            goto failed;
          }
          if (!strcmp(h, "-stgssa_output") || !strncmp(h, "-stgssa_study", 13) || !strcmp(h, "-options_file")) {
            fail(err, errlen, "%s:%d: column %s cannot vary between members (the study sets it)", filename, lineno, h);
            goto failed;
          }
        } else if (!is_identifier(h)) {
          fail(err, errlen, "%s:%d: column %d header '%s'; expected name, an option (-...) or a model parameter name", filename, lineno, c + 1, h);
          goto failed;
        }
        for (int d = 0; d < c; d++)
          if (!strcmp(f[d], h)) {
            fail(err, errlen, "%s:%d: column '%s' appears twice", filename, lineno, h);
            goto failed;
          }
      }
    } else {
      if (n != tab->ncols) {
        for (int i = 0; i < n; i++) free(f[i]);
        free(f);
        fail(err, errlen, "%s:%d: %d fields; expected %d as in the header (line %d)", filename, lineno, n, tab->ncols, header_line);
        goto failed;
      }
      if (tab->nrows == caprows) {
        int    nc  = caprows ? 2 * caprows : 64;
        char **cc  = (char **)realloc(tab->cells, (size_t)nc * (size_t)tab->ncols * sizeof(char *));
        int   *ll;
        if (!cc) goto oom;
        tab->cells = cc;
        ll         = (int *)realloc(tab->line, (size_t)nc * sizeof(int));
        if (!ll) goto oom;
        tab->line = ll;
        caprows   = nc;
      }
      for (int c = 0; c < n; c++) tab->cells[(size_t)tab->nrows * (size_t)tab->ncols + (size_t)c] = f[c];
      free(f);
      tab->line[tab->nrows++] = lineno;
      for (int c = 0; c < n; c++)
        if (check_cell(tab, c, tab->cells[(size_t)(tab->nrows - 1) * (size_t)tab->ncols + (size_t)c], filename, lineno, err, errlen)) goto failed;
    }
    s = next;
  }
  if (!tab->header) {
    fail(err, errlen, "%s: no header line; expected a CSV header (name, options -..., parameter names)", filename);
    goto failed;
  }
  if (!tab->nrows) {
    fail(err, errlen, "%s: no members; expected at least one row after the header (line %d)", filename, header_line);
    goto failed;
  }
  tab->names = (char **)calloc((size_t)tab->nrows, sizeof(char *));
  if (!tab->names) goto oom;
  for (int r = 0; r < tab->nrows; r++) {
    char buf[32];
    if (tab->name_col >= 0) tab->names[r] = dup_n(tab->cells[(size_t)r * (size_t)tab->ncols + (size_t)tab->name_col], strlen(tab->cells[(size_t)r * (size_t)tab->ncols + (size_t)tab->name_col]));
    else {
      snprintf(buf, sizeof(buf), "member_%04d", r);
      tab->names[r] = dup_n(buf, strlen(buf));
    }
    if (!tab->names[r]) goto oom;
    for (int q = 0; q < r; q++)
      if (!strcmp(tab->names[q], tab->names[r])) {
        fail(err, errlen, "%s:%d: member name '%s' already used on line %d; expected unique names", filename, tab->line[r], tab->names[r], tab->line[q]);
        goto failed;
      }
  }
  return 0;
oom:
  fail(err, errlen, "%s: out of memory", filename);
failed:
  StgssaStudyTableFree(tab);
  return -1;
}
