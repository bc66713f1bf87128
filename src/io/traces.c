/* SPDX-License-Identifier: BSD-2-Clause */
/* Per-cell trajectory data and the correlation loss (see include/stgssa/traces.h). */
#include <stgssa/stgssa.h>
#include <stgssa/traces.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "../stgssa_impl.h"

typedef struct {
  PetscInt  kind;   /* 0: mean of column s at data time d; 1: correlation product k */
  PetscInt  m;      /* model observable: x^1 index (kind 0) or product index k (kind 1) */
  PetscReal data, se;
} StgssaTraceTerm;

struct _p_StgssaTraces {
  MPI_Comm   comm;
  char       path[PETSC_MAX_PATH_LEN];
  PetscInt   ncol;      /* data columns (species or groups) */
  char     **col;       /* [ncol] */
  PetscInt   T, n;      /* times, cells */
  PetscReal *times;     /* [T] ascending */
  PetscReal *x;         /* [n*T*ncol] value of column s of cell c at time i: (c*T + i)*ncol + s */
  /* after SetUp */
  const StgssaCorrelation *corr; /* the run's correlation (borrowed) */
  PetscInt  *tmap;      /* [nsample] data time index of sample i, or -1 */
  PetscInt  *omap;      /* [nobs] data column of observed quantity o, or -1 */
  PetscInt   nterm, nskip;
  StgssaTraceTerm *term;
  PetscReal *cdata, *cse; /* [nprod] data covariance and standard error of each product (NaN if not in the data) */
  PetscInt   nobs, nsample;
  PetscReal *tfull;     /* [nsample] sample times of the run */
};

/* split line in place at commas into f[0..*nf-1] (trimmed) */
static void StgssaTrSplit(char *line, char **f, PetscInt max, PetscInt *nf)
{
  PetscInt n = 0;
  char    *p = line;
  for (;;) {
    char *s = p, *e;
    while (*p && *p != ',') p++;
    e = p;
    while (*s && isspace((unsigned char)*s)) s++;
    while (e > s && isspace((unsigned char)e[-1])) e--;
    if (n < max) f[n] = s;
    n++;
    if (!*p) {
      *e = 0;
      break;
    }
    *p++ = 0;
    *e   = 0;
  }
  *nf = n;
}

typedef struct {
  char     *id;
  PetscInt  line, nrow;
  PetscReal *t, *v; /* [nrow], [nrow*ncol] */
  PetscInt  cap;
} StgssaTrCell;

static int StgssaTrCmpReal(const void *a, const void *b)
{
  const PetscReal x = *(const PetscReal *)a, y = *(const PetscReal *)b;
  return x < y ? -1 : (x > y ? 1 : 0);
}

PetscErrorCode StgssaTracesLoad(MPI_Comm comm, const char path[], PetscInt nknown, const char *const known[], const char what[], StgssaTraces *out)
{
  StgssaTraces  tr;
  char         *text, *p, **f;
  PetscInt      lineno = 0, nf, icell = -1, itime = -1, ncells = 0, capcells = 16, *colidx;
  StgssaTrCell *cells;
  PetscBool     header = PETSC_FALSE;
  const PetscInt FMAX = 1024;

  PetscFunctionBegin;
  PetscCall(PetscNew(&tr));
  tr->comm = comm;
  PetscCall(PetscStrncpy(tr->path, path, sizeof(tr->path)));
  PetscCall(StgssaReadTextFile(comm, path, "traces CSV (-stgssa_data_traces)", &text));
  PetscCall(PetscMalloc2(FMAX, &f, FMAX, &colidx));
  PetscCall(PetscMalloc1(capcells, &cells)); /* grows: its own block */
  p = text;
  while (*p) {
    char *line = p;
    while (*p && *p != '\n') p++;
    if (*p) *p++ = 0;
    lineno++;
    if (strchr(line, '\r')) *strchr(line, '\r') = 0;
    {
      char *s = line;
      while (*s && isspace((unsigned char)*s)) s++;
      if (!*s || *s == '#') continue;
    }
    StgssaTrSplit(line, f, FMAX, &nf);
    PetscCheck(nf <= FMAX, comm, PETSC_ERR_ARG_OUTOFRANGE, "%s:%" PetscInt_FMT ": more than %" PetscInt_FMT " columns", path, lineno, FMAX);
    if (!header) {
      header = PETSC_TRUE;
      tr->ncol = 0;
      PetscCall(PetscMalloc1(nf, &tr->col));
      for (PetscInt k = 0; k < nf; k++) {
        if (!strcmp(f[k], "cell") || !strcmp(f[k], "Cell")) {
          PetscCheck(icell < 0, comm, PETSC_ERR_ARG_WRONG, "%s:%" PetscInt_FMT ": column 'cell' given twice", path, lineno);
          icell = k;
        } else if (!strcmp(f[k], "time") || !strcmp(f[k], "Time") || !strcmp(f[k], "t")) {
          PetscCheck(itime < 0, comm, PETSC_ERR_ARG_WRONG, "%s:%" PetscInt_FMT ": two time columns", path, lineno);
          itime = k;
        } else {
          PetscBool ok = PETSC_FALSE;
          for (PetscInt q = 0; q < nknown; q++) ok = (PetscBool)(ok || !strcmp(known[q], f[k]));
          if (!ok) {
            char list[1024] = "";
            for (PetscInt q = 0; q < nknown; q++) {
              if (q) PetscCall(StgssaStrlcat(list, ", ", sizeof(list)));
              PetscCall(StgssaStrlcat(list, known[q], sizeof(list)));
            }
            SETERRQ(comm, PETSC_ERR_ARG_WRONG, "%s:%" PetscInt_FMT ": unknown species column '%s'; expected cell, time and %s: %s", path, lineno, f[k], what, list);
          }
          for (PetscInt q = 0; q < tr->ncol; q++) PetscCheck(strcmp(tr->col[q], f[k]), comm, PETSC_ERR_ARG_WRONG, "%s:%" PetscInt_FMT ": column '%s' given twice", path, lineno, f[k]);
          colidx[tr->ncol] = k;
          PetscCall(PetscStrallocpy(f[k], &tr->col[tr->ncol++]));
        }
      }
      PetscCheck(icell >= 0 && itime >= 0, comm, PETSC_ERR_ARG_WRONG, "%s:%" PetscInt_FMT ": header needs columns 'cell' and 'time' (per-cell traces: cell,time,S1,...)", path, lineno);
      PetscCheck(tr->ncol > 0, comm, PETSC_ERR_ARG_WRONG, "%s:%" PetscInt_FMT ": no species column; expected cell,time,S1,...", path, lineno);
      continue;
    }
    PetscCheck(nf == tr->ncol + 2, comm, PETSC_ERR_ARG_WRONG, "%s:%" PetscInt_FMT ": %" PetscInt_FMT " fields, expected %" PetscInt_FMT " as in the header", path, lineno, nf, tr->ncol + 2);
    {
      StgssaTrCell *c = NULL;
      char         *end;
      double        t, v;
      for (PetscInt q = ncells - 1; q >= 0 && !c; q--) /* rows of one cell are usually together: search from the last */
        if (!strcmp(cells[q].id, f[icell])) c = &cells[q];
      if (!c) {
        PetscCheck(f[icell][0], comm, PETSC_ERR_ARG_WRONG, "%s:%" PetscInt_FMT ": empty cell id", path, lineno);
        if (ncells == capcells) {
          StgssaTrCell *bigger;
          PetscCall(PetscMalloc1(2 * capcells, &bigger));
          PetscCall(PetscArraycpy(bigger, cells, ncells));
          PetscCall(PetscFree(cells));
          cells = bigger;
          capcells *= 2;
        }
        c = &cells[ncells++];
        PetscCall(PetscMemzero(c, sizeof(*c)));
        PetscCall(PetscStrallocpy(f[icell], &c->id));
        c->line = lineno;
      }
      t = strtod(f[itime], &end);
      PetscCheck(f[itime][0] && !*end && isfinite(t) && t >= 0, comm, PETSC_ERR_ARG_WRONG, "%s:%" PetscInt_FMT ": time '%s' is not a number >= 0", path, lineno, f[itime]);
      for (PetscInt r = 0; r < c->nrow; r++) PetscCheck(!StgssaSameTime(c->t[r], t), comm, PETSC_ERR_ARG_WRONG, "%s:%" PetscInt_FMT ": cell '%s' has time %g twice", path, lineno, c->id, t);
      if (c->nrow == c->cap) {
        PetscReal *nt, *nv;
        c->cap = c->cap ? 2 * c->cap : 16;
        PetscCall(PetscMalloc2(c->cap, &nt, c->cap * tr->ncol, &nv));
        if (c->nrow) {
          PetscCall(PetscArraycpy(nt, c->t, c->nrow));
          PetscCall(PetscArraycpy(nv, c->v, c->nrow * tr->ncol));
        }
        PetscCall(PetscFree2(c->t, c->v));
        c->t = nt;
        c->v = nv;
      }
      c->t[c->nrow] = t;
      for (PetscInt s = 0; s < tr->ncol; s++) {
        const char *fs = f[colidx[s]];
        v              = strtod(fs, &end);
        PetscCheck(fs[0] && !*end && isfinite(v), comm, PETSC_ERR_ARG_WRONG, "%s:%" PetscInt_FMT ": column '%s': '%s' is not a finite number", path, lineno, tr->col[s], fs);
        c->v[c->nrow * tr->ncol + s] = v;
      }
      c->nrow++;
    }
  }
  PetscCheck(header, comm, PETSC_ERR_ARG_WRONG, "%s: no header line; expected cell,time,S1,...", path);
  PetscCheck(ncells >= 2, comm, PETSC_ERR_ARG_WRONG, "%s: %" PetscInt_FMT " cell(s); the correlation statistics need at least 2 cells", path, ncells);
  /* times of the first cell (sorted); every cell must have exactly these */
  {
    tr->T = cells[0].nrow;
    tr->n = ncells;
    PetscCall(PetscMalloc1(tr->T, &tr->times));
    PetscCall(PetscMalloc1((size_t)tr->n * tr->T * tr->ncol, &tr->x));
    PetscCall(PetscArraycpy(tr->times, cells[0].t, tr->T));
    qsort(tr->times, (size_t)tr->T, sizeof(PetscReal), StgssaTrCmpReal);
    for (PetscInt c = 0; c < ncells; c++) {
      StgssaTrCell *cl = &cells[c];
      PetscCheck(cl->nrow == tr->T, comm, PETSC_ERR_ARG_WRONG, "%s:%" PetscInt_FMT ": ragged traces: cell '%s' (from this line) has %" PetscInt_FMT " times, cell '%s' (line %" PetscInt_FMT ") has %" PetscInt_FMT "; every cell needs the same times", path, cl->line, cl->id, cl->nrow, cells[0].id, cells[0].line, tr->T);
      for (PetscInt r = 0; r < cl->nrow; r++) {
        PetscInt lo = 0, hi = tr->T - 1, i = -1;
        while (lo <= hi) {
          const PetscInt mid = (lo + hi) / 2;
          if (StgssaSameTime(tr->times[mid], cl->t[r])) {
            i = mid;
            break;
          }
          if (tr->times[mid] < cl->t[r]) lo = mid + 1;
          else hi = mid - 1;
        }
        PetscCheck(i >= 0, comm, PETSC_ERR_ARG_WRONG, "%s:%" PetscInt_FMT ": ragged traces: cell '%s' (from this line) has time %g, which cell '%s' (line %" PetscInt_FMT ") does not have; every cell needs the same times", path, cl->line, cl->id, (double)cl->t[r], cells[0].id, cells[0].line);
        for (PetscInt s = 0; s < tr->ncol; s++) tr->x[((size_t)c * tr->T + i) * tr->ncol + s] = cl->v[r * tr->ncol + s];
      }
    }
  }
  for (PetscInt c = 0; c < ncells; c++) {
    PetscCall(PetscFree(cells[c].id));
    PetscCall(PetscFree2(cells[c].t, cells[c].v));
  }
  PetscCall(PetscFree2(f, colidx));
  PetscCall(PetscFree(cells));
  PetscCall(PetscFree(text));
  *out = tr;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaTracesGetTimes(StgssaTraces tr, PetscInt *n, const PetscReal **t)
{
  PetscFunctionBegin;
  *n = tr->T;
  *t = tr->times;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaTracesGetColumns(StgssaTraces tr, PetscInt *n, const char *const **names)
{
  PetscFunctionBegin;
  *n     = tr->ncol;
  *names = (const char *const *)tr->col;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaTracesGetNumCells(StgssaTraces tr, PetscInt *n)
{
  PetscFunctionBegin;
  *n = tr->n;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaTracesDefaultCorrelation(StgssaTraces tr, StgssaCorrelation *c)
{
  char     text[8192] = "", item[256];
  PetscInt L = PetscMax((tr->T + 1) / 2, 1);

  PetscFunctionBegin;
  for (PetscInt s = 0; s < tr->ncol; s++) {
    PetscCall(PetscSNPrintf(item, sizeof(item), "%s%s:%s@", s ? ";" : "", tr->col[s], tr->col[s]));
    PetscCall(StgssaStrlcat(text, item, sizeof(text)));
    for (PetscInt l = 0; l < L; l++) {
      PetscCall(PetscSNPrintf(item, sizeof(item), "%s%.17g", l ? "," : "", (double)(tr->times[l] - tr->times[0])));
      PetscCall(StgssaStrlcat(text, item, sizeof(text)));
    }
  }
  PetscCall(StgssaCorrelationParse(tr->comm, text, "-stgssa_data_traces (default correlation)", c));
  PetscFunctionReturn(0);
}

/* mean and standard error of column s at data time i */
static void StgssaTrMean(StgssaTraces tr, PetscInt s, PetscInt i, double *mean, double *se)
{
  double m = 0, ss = 0;
  for (PetscInt c = 0; c < tr->n; c++) m += tr->x[((size_t)c * tr->T + i) * tr->ncol + s];
  m /= tr->n;
  for (PetscInt c = 0; c < tr->n; c++) {
    const double d = tr->x[((size_t)c * tr->T + i) * tr->ncol + s] - m;
    ss += d * d;
  }
  *mean = m;
  *se   = PetscSqrtReal(ss / (tr->n - 1) / tr->n);
}

/* Cov(a(t_i), b(t_j)) across cells and its standard error sd(z)/sqrt(n), z_c = (a_c - abar)(b_c - bbar) */
static void StgssaTrCov(StgssaTraces tr, PetscInt a, PetscInt i, PetscInt b, PetscInt j, double *cov, double *se)
{
  double ma, sa, mb, sb, sz = 0, szz = 0;
  StgssaTrMean(tr, a, i, &ma, &sa);
  StgssaTrMean(tr, b, j, &mb, &sb);
  for (PetscInt c = 0; c < tr->n; c++) {
    const double z = (tr->x[((size_t)c * tr->T + i) * tr->ncol + a] - ma) * (tr->x[((size_t)c * tr->T + j) * tr->ncol + b] - mb);
    sz += z;
  }
  *cov = sz / (tr->n - 1);
  for (PetscInt c = 0; c < tr->n; c++) {
    const double z = (tr->x[((size_t)c * tr->T + i) * tr->ncol + a] - ma) * (tr->x[((size_t)c * tr->T + j) * tr->ncol + b] - mb) - sz / tr->n;
    szz += z * z;
  }
  *se = PetscSqrtReal(szz / (tr->n - 1) / tr->n);
}

PetscErrorCode StgssaTracesSetUp(StgssaTraces tr, StgssaEvaluator ev)
{
  StgssaSampling         smp;
  const StgssaObsLayout *lay;
  PetscInt               cap;

  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorGetSampling(ev, &smp));
  PetscCall(StgssaEvaluatorGetLayout(ev, &lay));
  PetscCall(PetscFree2(tr->tmap, tr->omap));
  PetscCall(PetscFree(tr->term));
  PetscCall(PetscFree3(tr->cdata, tr->cse, tr->tfull));
  tr->corr    = smp.corr;
  tr->nobs    = smp.nobs;
  tr->nsample = smp.nsample;
  PetscCall(PetscMalloc2(smp.nsample, &tr->tmap, smp.nobs, &tr->omap));
  PetscCall(PetscMalloc3(smp.corr ? smp.corr->nprod + 1 : 1, &tr->cdata, smp.corr ? smp.corr->nprod + 1 : 1, &tr->cse, smp.nsample, &tr->tfull));
  PetscCall(PetscArraycpy(tr->tfull, smp.sample_times, smp.nsample));
  for (PetscInt i = 0; i < smp.nsample; i++) {
    tr->tmap[i] = -1;
    for (PetscInt d = 0; d < tr->T; d++)
      if (StgssaSameTime(smp.sample_times[i], tr->times[d])) tr->tmap[i] = d;
  }
  for (PetscInt o = 0; o < smp.nobs; o++) {
    tr->omap[o] = -1;
    for (PetscInt s = 0; s < tr->ncol; s++)
      if (!strcmp(smp.obs_names[o], tr->col[s])) tr->omap[o] = s;
  }
  cap = smp.nsample * smp.nobs + (smp.corr ? smp.corr->nprod : 0) + 1;
  PetscCall(PetscMalloc1(cap, &tr->term));
  tr->nterm = tr->nskip = 0;
  for (PetscInt i = 0; i < smp.nsample; i++)
    for (PetscInt o = 0; o < smp.nobs; o++) {
      double m, se;
      if (tr->tmap[i] < 0 || tr->omap[o] < 0) continue;
      StgssaTrMean(tr, tr->omap[o], tr->tmap[i], &m, &se);
      if (!(se > 0)) {
        tr->nskip++;
        continue;
      }
      tr->term[tr->nterm++] = (StgssaTraceTerm){0, lay->off_pow + (i * smp.nobs + o) * 3, m, se};
    }
  for (PetscInt k = 0; smp.corr && k < smp.corr->nprod; k++) {
    const StgssaCorrelation *c = smp.corr;
    const PetscInt           a = tr->omap[c->prod_a[k]], b = tr->omap[c->prod_b[k]], i = tr->tmap[c->prod_i[k]], j = tr->tmap[c->prod_j[k]];
    double                   cov, se;
    tr->cdata[k] = tr->cse[k] = NAN;
    if (a < 0 || b < 0 || i < 0 || j < 0) continue;
    StgssaTrCov(tr, a, i, b, j, &cov, &se);
    tr->cdata[k] = cov;
    tr->cse[k]   = se;
    if (!(se > 0)) {
      tr->nskip++;
      continue;
    }
    tr->term[tr->nterm++] = (StgssaTraceTerm){1, k, cov, se};
  }
  PetscCheck(tr->nterm > 0, tr->comm, PETSC_ERR_ARG_WRONG, "%s: no statistic of the traces matches the run (observed quantities and sample times), or all have standard error 0", tr->path);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaTracesLoss(StgssaTraces tr, StgssaEvaluator ev, const PetscReal mu[], PetscReal *L, PetscReal dLdmu[])
{
  const StgssaObsLayout *lay;
  StgssaSampling         smp;
  double                 f, chi2 = 0.0;
  const double           w = 1.0 / (double)tr->nterm;

  PetscFunctionBegin;
  PetscCall(StgssaEvaluatorGetLayout(ev, &lay));
  PetscCall(StgssaEvaluatorGetSampling(ev, &smp));
  f = smp.ntraj > 1 ? (double)smp.ntraj / (smp.ntraj - 1.0) : 1.0;
  for (PetscInt t = 0; t < tr->nterm; t++) {
    const StgssaTraceTerm *q = &tr->term[t];
    const double           s2 = q->se * q->se;
    if (q->kind == 0) {
      const double r = mu[q->m] - q->data;
      chi2 += r * r / s2;
      dLdmu[q->m] += w * 2 * r / s2;
    } else { /* C = f (mu_AB - mu_A mu_B) */
      const StgssaCorrelation *c  = tr->corr;
      const PetscInt           k  = q->m, ma = lay->off_pow + (c->prod_i[k] * smp.nobs + c->prod_a[k]) * 3, mb = lay->off_pow + (c->prod_j[k] * smp.nobs + c->prod_b[k]) * 3, mab = lay->off_corr + k;
      const double             C  = f * (mu[mab] - mu[ma] * mu[mb]), r = C - q->data, g = w * 2 * r / s2 * f;
      chi2 += r * r / s2;
      dLdmu[mab] += g;
      dLdmu[ma] -= g * mu[mb];
      dLdmu[mb] -= g * mu[ma];
    }
  }
  *L = w * chi2;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaTracesGetSummary(StgssaTraces tr, char buf[], size_t len)
{
  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(buf, len, "%s: %" PetscInt_FMT " cells x %" PetscInt_FMT " times (%g..%g), %" PetscInt_FMT " columns", tr->path, tr->n, tr->T, (double)tr->times[0], (double)tr->times[tr->T - 1], tr->ncol));
  if (tr->nsample) {
    char more[256];
    PetscCall(PetscSNPrintf(more, sizeof(more), "; correlation loss: %" PetscInt_FMT " chi-square terms (means and covariances), %" PetscInt_FMT " with data standard error 0 left out", tr->nterm, tr->nskip));
    PetscCall(StgssaStrlcat(buf, more, len));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaTracesWriteHDF5(StgssaTraces tr, hid_t loc)
{
  hid_t   g;
  double *m, *se;

  PetscFunctionBegin;
  PetscCallHDF5(g = H5Gcreate2(loc, "/data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(StgssaH5WriteAttrString(g, "file", tr->path));
  PetscCall(StgssaH5WriteAttrInt64(g, "cells", tr->n));
  {
    hsize_t dims[1] = {(hsize_t)tr->T};
    PetscCall(StgssaH5WriteDoubles(g, "times", 1, dims, tr->times));
  }
  PetscCall(PetscMalloc2(tr->T, &m, tr->T, &se));
  for (PetscInt s = 0; s < tr->ncol; s++) {
    char    name[STGSSA_NAME_MAX + 32];
    hsize_t dims[1] = {(hsize_t)tr->T};
    for (PetscInt i = 0; i < tr->T; i++) StgssaTrMean(tr, s, i, &m[i], &se[i]);
    PetscCall(PetscSNPrintf(name, sizeof(name), "mean/%s", tr->col[s]));
    PetscCall(StgssaH5WriteDoubles(g, name, 1, dims, m));
    PetscCall(PetscSNPrintf(name, sizeof(name), "mean_stderr/%s", tr->col[s]));
    PetscCall(StgssaH5WriteDoubles(g, name, 1, dims, se));
  }
  PetscCall(PetscFree2(m, se));
  if (tr->corr && tr->cdata) { /* on the run's grid: rows = the run's sample times (as /gradient/correlation) */
    const StgssaCorrelation *c = tr->corr;
    const PetscInt           T = tr->nsample;
    {
      hsize_t dims[1] = {(hsize_t)T};
      PetscCall(StgssaH5WriteDoubles(g, "correlation_times", 1, dims, tr->tfull));
    }
    for (PetscInt q = 0; q < c->npair; q++) {
      const PetscInt l0 = c->lag_ptr[q], L = c->lag_ptr[q + 1] - l0;
      char           pname[2 * STGSSA_NAME_MAX + 8], name[2 * STGSSA_NAME_MAX + 64];
      double        *v, *e;
      PetscCall(StgssaCorrelationPairName(c, q, pname, sizeof(pname)));
      PetscCall(PetscMalloc2(T * L, &v, T * L, &e));
      for (PetscInt i = 0; i < T; i++)
        for (PetscInt l = 0; l < L; l++) {
          const PetscInt k = c->prod[(l0 + l) * T + i];
          v[i * L + l]     = k < 0 ? NAN : tr->cdata[k];
          e[i * L + l]     = k < 0 ? NAN : tr->cse[k];
        }
      for (int h = 0; h < 2; h++) {
        hsize_t dims[2] = {(hsize_t)T, (hsize_t)L};
        hid_t   dset;
        PetscCall(PetscSNPrintf(name, sizeof(name), "%s/%s", h ? "correlation_stderr" : "correlation", pname));
        PetscCall(StgssaH5WriteDoubles(g, name, 2, dims, h ? e : v));
        PetscCallHDF5(dset = H5Dopen2(g, name, H5P_DEFAULT));
        PetscCall(StgssaH5WriteAttrDoubles(dset, "lags", (hsize_t)L, &c->lags[l0]));
        PetscCallHDF5(H5Dclose(dset));
      }
      PetscCall(PetscFree2(v, e));
    }
  }
  PetscCallHDF5(H5Gclose(g));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaTracesDestroy(StgssaTraces *ptr)
{
  StgssaTraces tr = *ptr;

  PetscFunctionBegin;
  if (!tr) PetscFunctionReturn(0);
  for (PetscInt s = 0; s < tr->ncol; s++) PetscCall(PetscFree(tr->col[s]));
  PetscCall(PetscFree(tr->col));
  PetscCall(PetscFree(tr->times));
  PetscCall(PetscFree(tr->x));
  PetscCall(PetscFree2(tr->tmap, tr->omap));
  PetscCall(PetscFree(tr->term));
  PetscCall(PetscFree3(tr->cdata, tr->cse, tr->tfull));
  PetscCall(PetscFree(*ptr));
  PetscFunctionReturn(0);
}
