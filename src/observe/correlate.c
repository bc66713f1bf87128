/* SPDX-License-Identifier: BSD-2-Clause */
/* -stgssa_correlate: parsing, sample times and the product grid (see include/stgssa/correlate.h). */
#include <stgssa/correlate.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "../stgssa_impl.h"

#define STGSSA_CORR_TEXT_MAX 8192

static PetscBool StgssaCorrIsName(const char *s)
{
  if (!s[0] || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return PETSC_FALSE;
  for (const char *p = s + 1; *p; p++)
    if (!(isalnum((unsigned char)*p) || *p == '_')) return PETSC_FALSE;
  return PETSC_TRUE;
}

/* strip blanks at both ends, in place */
static char *StgssaCorrTrim(char *s)
{
  char *e;
  while (*s && isspace((unsigned char)*s)) s++;
  e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
  return s;
}

/* a finite number filling the whole token */
static PetscBool StgssaCorrNumber(const char *s, double *v)
{
  char *end;
  if (!s[0]) return PETSC_FALSE;
  *v = strtod(s, &end);
  return (PetscBool)(*end == 0 && isfinite(*v));
}

static int StgssaCorrCompareReal(const void *x, const void *y)
{
  const PetscReal a = *(const PetscReal *)x, b = *(const PetscReal *)y;
  return a < b ? -1 : (a > b ? 1 : 0);
}

/* Append the lags of one token ("2.5" or "a:h:b") to lag[*n..]. */
static PetscErrorCode StgssaCorrParseLag(MPI_Comm comm, const char *source, const char *pair, char *tok, PetscReal *lag, PetscInt *n)
{
  char  *f[4];
  int    nf = 0;
  double v[3];

  PetscFunctionBegin;
  PetscCheck(tok[0], comm, PETSC_ERR_ARG_WRONG, "%s: pair %s: empty lag; expected a number >= 0 or a range a:h:b", source, pair);
  f[nf++] = tok;
  for (char *p = tok; *p; p++)
    if (*p == ':') {
      PetscCheck(nf < 3, comm, PETSC_ERR_ARG_WRONG, "%s: pair %s: lag range '%s' has more than three fields; expected a:h:b (start, step, end)", source, pair, tok);
      *p      = 0;
      f[nf++] = p + 1;
    }
  for (int k = 0; k < nf; k++) {
    char *t = StgssaCorrTrim(f[k]);
    PetscCheck(StgssaCorrNumber(t, &v[k]), comm, PETSC_ERR_ARG_WRONG, "%s: pair %s: lag field '%s' is not a finite number; expected a lag >= 0 or a range a:h:b", source, pair, t);
  }
  PetscCheck(nf == 1 || nf == 3, comm, PETSC_ERR_ARG_WRONG, "%s: pair %s: lag range with two fields; expected a:h:b (start, step, end), e.g. 0:0.5:10", source, pair);
  PetscCheck(v[0] >= 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: pair %s: negative lag %g; expected tau >= 0 (Cov(B(t), A(t+tau)) is the pair B:A)", source, pair, v[0]);
  if (nf == 1) {
    PetscCheck(*n < STGSSA_CORRELATE_MAX_LAGS, comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: pair %s: more than %d lags", source, pair, STGSSA_CORRELATE_MAX_LAGS);
    lag[(*n)++] = v[0];
  } else {
    const double a = v[0], h = v[1], b = v[2];
    PetscCheck(h > 0, comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: pair %s: lag range step %g; expected a step h > 0 in a:h:b", source, pair, h);
    PetscCheck(b >= a, comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: pair %s: lag range %g:%g:%g ends before it starts; expected a <= b", source, pair, a, h, b);
    PetscCheck((b - a) / h < STGSSA_CORRELATE_MAX_LAGS, comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: pair %s: lag range %g:%g:%g has more than %d lags", source, pair, a, h, b, STGSSA_CORRELATE_MAX_LAGS);
    for (PetscInt m = 0;; m++) {
      const double t = a + m * h; /* a + m h, not repeated addition: no drift */
      if (t > b + 1e-9 * h) break;
      PetscCheck(*n < STGSSA_CORRELATE_MAX_LAGS, comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: pair %s: more than %d lags", source, pair, STGSSA_CORRELATE_MAX_LAGS);
      lag[(*n)++] = StgssaSameTime(t, b) ? b : t;
    }
  }
  PetscFunctionReturn(0);
}

/* Append pair (A, B) with lags lag[0..n-1] (sorted here; duplicates refused). */
static PetscErrorCode StgssaCorrAppend(MPI_Comm comm, const char *source, StgssaCorrelation *c, const char *a, const char *b, PetscReal *lag, PetscInt n)
{
  const PetscInt np = c->npair, nl = c->npair ? c->lag_ptr[c->npair] : 0;
  char         **na, **nb;
  PetscInt      *ptr;
  PetscReal     *lags;

  PetscFunctionBegin;
  PetscCheck(n > 0, comm, PETSC_ERR_ARG_WRONG, "%s: pair %s:%s has no lags; expected A:B@LAGS, e.g. %s:%s@0,1,2 or %s:%s@0:0.5:10", source, a, b, a, b, a, b);
  qsort(lag, (size_t)n, sizeof(PetscReal), StgssaCorrCompareReal);
  for (PetscInt l = 1; l < n; l++) PetscCheck(!StgssaSameTime(lag[l], lag[l - 1]), comm, PETSC_ERR_ARG_WRONG, "%s: pair %s:%s: lag %g listed twice", source, a, b, (double)lag[l]);
  for (PetscInt q = 0; q < np; q++) PetscCheck(strcmp(c->a[q], a) || strcmp(c->b[q], b), comm, PETSC_ERR_ARG_WRONG, "%s: pair %s:%s given twice; list all its lags in one item", source, a, b);
  PetscCall(PetscMalloc4(np + 1, &na, np + 1, &nb, np + 2, &ptr, nl + n, &lags));
  for (PetscInt q = 0; q < np; q++) {
    na[q] = c->a[q];
    nb[q] = c->b[q];
  }
  for (PetscInt q = 0; q <= np; q++) ptr[q] = np ? c->lag_ptr[q] : 0;
  for (PetscInt l = 0; l < nl; l++) lags[l] = c->lags[l];
  PetscCall(PetscStrallocpy(a, &na[np]));
  PetscCall(PetscStrallocpy(b, &nb[np]));
  ptr[np + 1] = nl + n;
  for (PetscInt l = 0; l < n; l++) lags[nl + l] = lag[l];
  PetscCall(PetscFree4(c->a, c->b, c->lag_ptr, c->lags));
  c->a       = na;
  c->b       = nb;
  c->lag_ptr = ptr;
  c->lags    = lags;
  c->npair   = np + 1;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaCorrelationParse(MPI_Comm comm, const char text[], const char source[], StgssaCorrelation *c)
{
  char      *buf, *p, a[256] = "", b[256] = "", pair[520] = "";
  PetscReal *lag;
  PetscInt   n = 0;
  PetscBool  open = PETSC_FALSE, last = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCheck(text && text[0], comm, PETSC_ERR_ARG_WRONG, "%s: expected A:B@LAGS (A = B: auto-correlation), e.g. M:M@0,1,2,5 or M:P@0:0.5:10; several pairs separated by ';'", source);
  PetscCheck(strlen(text) < STGSSA_CORR_TEXT_MAX, comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: value longer than %d characters", source, STGSSA_CORR_TEXT_MAX);
  PetscCall(PetscStrallocpy(text, &buf));
  PetscCall(PetscMalloc1(STGSSA_CORRELATE_MAX_LAGS, &lag));
  p = buf;
  while (!last) {
    char *tok = p, *at;
    while (*p && *p != ';' && *p != ',') p++;
    if (!*p) last = PETSC_TRUE;
    else *p++ = 0;
    tok = StgssaCorrTrim(tok);
    if (!tok[0] && last && open) break; /* a trailing separator */
    PetscCheck(tok[0], comm, PETSC_ERR_ARG_WRONG, "%s: empty item in '%s'; expected A:B@LAGS items and lags separated by ',' or ';'", source, text);
    at = strchr(tok, '@');
    if (at) { /* a new pair: close the one before */
      char *names = tok, *colon;
      if (open) PetscCall(StgssaCorrAppend(comm, source, c, a, b, lag, n));
      n     = 0;
      *at   = 0;
      names = StgssaCorrTrim(names);
      colon = strchr(names, ':');
      if (colon) {
        *colon = 0;
        PetscCall(PetscStrncpy(a, StgssaCorrTrim(names), sizeof(a)));
        PetscCall(PetscStrncpy(b, StgssaCorrTrim(colon + 1), sizeof(b)));
      } else { /* "A@lags": the auto-correlation of A */
        PetscCall(PetscStrncpy(a, names, sizeof(a)));
        PetscCall(PetscStrncpy(b, names, sizeof(b)));
      }
      PetscCheck(StgssaCorrIsName(a) && StgssaCorrIsName(b) && !strchr(b, ':'), comm, PETSC_ERR_ARG_WRONG, "%s: '%s' before '@' is not A:B with two species or group names; expected e.g. M:M@0,1,2", source, names);
      PetscCall(PetscSNPrintf(pair, sizeof(pair), "%s:%s", a, b));
      open = PETSC_TRUE;
      PetscCall(StgssaCorrParseLag(comm, source, pair, StgssaCorrTrim(at + 1), lag, &n));
    } else {
      PetscCheck(open, comm, PETSC_ERR_ARG_WRONG, "%s: '%s' comes before any A:B@; expected A:B@LAGS first, e.g. M:M@0,1,2", source, tok);
      PetscCall(StgssaCorrParseLag(comm, source, pair, tok, lag, &n));
    }
  }
  if (open) PetscCall(StgssaCorrAppend(comm, source, c, a, b, lag, n));
  PetscCall(PetscFree(lag));
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaCorrelationFromOptions(MPI_Comm comm, StgssaCorrelation *c, PetscBool *set)
{
  int    argc = 0;
  char **args = NULL;
  char   val[STGSSA_CORR_TEXT_MAX];
  PetscInt nargv = 0;

  PetscFunctionBegin;
  *set = PETSC_FALSE;
  PetscCall(PetscGetArgs(&argc, &args));
  for (int k = 1; k < argc; k++) { /* the command line may repeat the option: every occurrence counts */
    if (strcmp(args[k], "-stgssa_correlate")) continue;
    PetscCheck(k + 1 < argc, comm, PETSC_ERR_ARG_WRONG, "-stgssa_correlate: missing value; expected A:B@LAGS");
    PetscCall(StgssaCorrelationParse(comm, args[k + 1], "-stgssa_correlate", c));
    nargv++;
    k++;
  }
  {
    PetscBool flg;
    PetscCall(PetscOptionsGetString(NULL, NULL, "-stgssa_correlate", val, sizeof(val), &flg)); /* marks it used */
    if (flg && !nargv) PetscCall(StgssaCorrelationParse(comm, val, "-stgssa_correlate", c));
    *set = (PetscBool)(flg || nargv);
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaCorrelationAddTimes(const StgssaCorrelation *c, PetscReal tfinal, PetscInt n, const PetscReal times[], PetscInt *nout, PetscReal **out)
{
  const PetscInt nl = c->npair ? c->lag_ptr[c->npair] : 0;
  PetscReal     *t;
  PetscInt       m = 0, k = 0;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(n * (nl + 1) + 1, &t));
  for (PetscInt i = 0; i < n; i++) {
    t[m++] = times[i];
    for (PetscInt l = 0; l < nl; l++) {
      PetscReal s = times[i] + c->lags[l];
      if (StgssaSameTime(s, tfinal)) s = tfinal;
      if (s <= tfinal) t[m++] = s;
    }
  }
  qsort(t, (size_t)m, sizeof(PetscReal), StgssaCorrCompareReal);
  for (PetscInt i = 0; i < m; i++) { /* merge times within 1e-9 relative: a requested time wins over an added one */
    if (k && StgssaSameTime(t[i], t[k - 1])) {
      for (PetscInt q = 0; q < n; q++)
        if (t[i] == times[q]) t[k - 1] = t[i];
      continue;
    }
    t[k++] = t[i];
  }
  *nout = k;
  *out  = t;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaCorrelationResolve(MPI_Comm comm, StgssaCorrelation *c, PetscInt nsample, const PetscReal times[], PetscInt nobs, const char *const obs_names[])
{
  const PetscInt nl = c->lag_ptr ? c->lag_ptr[c->npair] : 0;
  PetscInt       k  = 0;

  PetscFunctionBegin;
  PetscCall(PetscFree2(c->oa, c->ob));
  PetscCall(PetscFree2(c->later, c->prod));
  PetscCall(PetscFree5(c->prod_a, c->prod_b, c->prod_i, c->prod_j, c->prod_pair));
  PetscCall(PetscMalloc2(c->npair, &c->oa, c->npair, &c->ob));
  for (PetscInt q = 0; q < c->npair; q++) {
    c->oa[q] = c->ob[q] = -1;
    for (PetscInt o = 0; o < nobs; o++) {
      if (!strcmp(obs_names[o], c->a[q])) c->oa[q] = o;
      if (!strcmp(obs_names[o], c->b[q])) c->ob[q] = o;
    }
    PetscCheck(c->oa[q] >= 0, comm, PETSC_ERR_ARG_WRONG, "-stgssa_correlate: '%s' is not an observed quantity (species or group)", c->a[q]);
    PetscCheck(c->ob[q] >= 0, comm, PETSC_ERR_ARG_WRONG, "-stgssa_correlate: '%s' is not an observed quantity (species or group)", c->b[q]);
  }
  c->nsample = nsample;
  PetscCall(PetscMalloc2(nl * nsample + 1, &c->later, nl * nsample + 1, &c->prod));
  for (PetscInt q = 0; q < c->npair; q++)
    for (PetscInt l = c->lag_ptr[q]; l < c->lag_ptr[q + 1]; l++)
      for (PetscInt i = 0; i < nsample; i++) {
        const PetscReal s  = times[i] + c->lags[l];
        PetscInt        lo = i, hi = nsample - 1, j = -1;
        while (lo <= hi) { /* binary search in the ascending times */
          const PetscInt mid = (lo + hi) / 2;
          if (StgssaSameTime(times[mid], s)) {
            j = mid;
            break;
          }
          if (times[mid] < s) lo = mid + 1;
          else hi = mid - 1;
        }
        c->later[l * nsample + i] = j;
        c->prod[l * nsample + i]  = j >= 0 ? k++ : -1;
      }
  c->nprod = k;
  PetscCall(PetscMalloc5(k + 1, &c->prod_a, k + 1, &c->prod_b, k + 1, &c->prod_i, k + 1, &c->prod_j, k + 1, &c->prod_pair));
  for (PetscInt q = 0; q < c->npair; q++)
    for (PetscInt l = c->lag_ptr[q]; l < c->lag_ptr[q + 1]; l++)
      for (PetscInt i = 0; i < nsample; i++) {
        const PetscInt kk = c->prod[l * nsample + i];
        if (kk < 0) continue;
        c->prod_a[kk]    = c->oa[q];
        c->prod_b[kk]    = c->ob[q];
        c->prod_i[kk]    = i;
        c->prod_j[kk]    = c->later[l * nsample + i];
        c->prod_pair[kk] = q;
      }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaCorrelationPairName(const StgssaCorrelation *c, PetscInt pair, char buf[], size_t len)
{
  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(buf, len, "%s_%s", c->a[pair], c->b[pair]));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaCorrelationCopy(const StgssaCorrelation *from, StgssaCorrelation *to)
{
  PetscReal *lag;

  PetscFunctionBegin;
  PetscCall(StgssaCorrelationReset(to));
  PetscCall(PetscMalloc1(STGSSA_CORRELATE_MAX_LAGS, &lag));
  for (PetscInt q = 0; q < from->npair; q++) {
    const PetscInt n = from->lag_ptr[q + 1] - from->lag_ptr[q];
    PetscCall(PetscArraycpy(lag, &from->lags[from->lag_ptr[q]], n));
    PetscCall(StgssaCorrAppend(PETSC_COMM_SELF, "StgssaCorrelationCopy", to, from->a[q], from->b[q], lag, n));
  }
  PetscCall(PetscFree(lag));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaCorrelationReset(StgssaCorrelation *c)
{
  PetscFunctionBegin;
  for (PetscInt q = 0; q < c->npair; q++) {
    PetscCall(PetscFree(c->a[q]));
    PetscCall(PetscFree(c->b[q]));
  }
  PetscCall(PetscFree4(c->a, c->b, c->lag_ptr, c->lags));
  PetscCall(PetscFree2(c->oa, c->ob));
  PetscCall(PetscFree2(c->later, c->prod));
  PetscCall(PetscFree5(c->prod_a, c->prod_b, c->prod_i, c->prod_j, c->prod_pair));
  PetscCall(PetscMemzero(c, sizeof(*c)));
  PetscFunctionReturn(0);
}
