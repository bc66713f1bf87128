/* SPDX-License-Identifier: BSD-2-Clause */
/*
  StgssaData: -stgssa_data FILE, observed distributions for a loss (see include/stgssa/data.h).
  Rank 0 reads and parses the file with PETSc errors raised silently on PETSC_COMM_SELF; the
  verdict (code and message) is broadcast first, then the parsed data, so every rank either
  holds the same data or raises the same error on the communicator.
*/
#include <stgssa/data.h>
#include <stgssa/modeldef.h> /* STGSSA_NAME_MAX */
#include <stgssa/output.h>   /* PetscCallHDF5 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "../stgssa_impl.h"

/* Largest count accepted: histograms are dense, one bin per value (same cap as StgssaCountHist). */
#define STGSSA_DATA_COUNT_MAX ((PetscInt64)(PETSC_MAX_INT / 2))
/* Longest message carried from rank 0 to the other ranks. */
#define STGSSA_DATA_MSG_LEN 2048

typedef enum { STGSSA_DATA_NONE, STGSSA_DATA_CSV, STGSSA_DATA_HDF5 } StgssaDataFormat;

typedef char StgssaDataName[STGSSA_NAME_MAX + 1];

/* Histogram set k = s * ntimes + itime holds species s at time index itime. */
struct _p_StgssaData {
  MPI_Comm         comm;
  char            *path;
  StgssaDataFormat format;
  PetscBool        has_time; /* CSV: a time column was present */
  PetscInt64       nobs;     /* HDF5: /run ntraj; CSV: number of data rows (cells) */
  PetscInt         ntimes, nspecies;
  PetscReal       *times;   /* [ntimes] ascending; {-1} for a CSV without a time column */
  StgssaDataName  *names;   /* [nspecies] */
  PetscInt        *nbins;   /* [nsets] */
  PetscInt64      *offset;  /* [nsets + 1] start of set k in counts */
  PetscReal       *counts;  /* [offset[nsets]] concatenated histograms (integer values) */
  PetscReal       *total;   /* [nsets] sum of the histogram */
  PetscReal       *moments; /* [3 * nsets] mean, variance, third central moment */
  /* CSV: what the header gave (for StgssaDataGetSummary) */
  StgssaDataName *srcnames;   /* [nspecies] file column of each data column */
  StgssaDataName  timecol;    /* file column of the times ("" without one) */
  PetscInt64      nrows_file; /* data rows of the file before -stgssa_data_where */
  /* configuration, the same on every rank (set before Load) */
  PetscInt        nmap; /* -stgssa_data_columns FILECOL=NAME */
  StgssaDataName *mapcol, *mapname;
  PetscInt        nwhere; /* -stgssa_data_where COL=VALUE */
  StgssaDataName *wcol;
  char          **wval;
  PetscInt        nknown; /* names a data column may have (0: any) */
  StgssaDataName *known;
  char           *known_what; /* what the known names are, for messages */
};

PetscErrorCode StgssaDataCreate(MPI_Comm comm, StgssaData *data)
{
  PetscFunctionBegin;
  PetscCheck(data, comm, PETSC_ERR_ARG_NULL, "StgssaDataCreate: null output pointer");
  PetscCall(PetscNew(data));
  (*data)->comm = comm;
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaDataReset(StgssaData d)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(d->path));
  PetscCall(PetscFree(d->times));
  PetscCall(PetscFree(d->names));
  PetscCall(PetscFree(d->nbins));
  PetscCall(PetscFree(d->offset));
  PetscCall(PetscFree(d->counts));
  PetscCall(PetscFree(d->total));
  PetscCall(PetscFree(d->moments));
  PetscCall(PetscFree(d->srcnames));
  d->timecol[0] = 0;
  d->nrows_file = 0;
  d->format     = STGSSA_DATA_NONE;
  d->has_time   = PETSC_FALSE;
  d->nobs       = 0;
  d->ntimes     = 0;
  d->nspecies   = 0;
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------- shared helpers */

/* A name [A-Za-z_][A-Za-z0-9_]* of at most STGSSA_NAME_MAX bytes. */
static PetscBool StgssaDataValidName(const char *s, size_t n)
{
  if (n == 0 || n > STGSSA_NAME_MAX) return PETSC_FALSE;
  if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) return PETSC_FALSE;
  for (size_t i = 1; i < n; i++)
    if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) return PETSC_FALSE;
  return PETSC_TRUE;
}

/* Printable excerpt of s[0..n) for messages: at most 40 bytes, control bytes as '?'. */
static void StgssaDataExcerpt(const char *s, size_t n, char out[48])
{
  size_t m = n > 40 ? 40 : n;
  for (size_t i = 0; i < m; i++)
    out[i] = (unsigned char)s[i] < 32 || (unsigned char)s[i] == 127 ? '?' : s[i];
  if (n > m) {
    out[m++] = '.';
    out[m++] = '.';
    out[m++] = '.';
  }
  out[m] = 0;
}

/* Two-pass population moments of a histogram with integer counts c[0..nb) summing to n > 0,
   accumulated in long double in a fixed order: the result depends only on the histogram. */
static void StgssaDataHistMoments(PetscInt nb, const PetscReal c[], PetscReal m[3])
{
  long double n = 0, s1 = 0, s2 = 0, s3 = 0, mean;

  for (PetscInt x = 0; x < nb; x++) {
    n += c[x];
    s1 += (long double)x * c[x];
  }
  mean = s1 / n;
  for (PetscInt x = 0; x < nb; x++) {
    const long double dx = (long double)x - mean;
    s2 += dx * dx * c[x];
    s3 += dx * dx * dx * c[x];
  }
  m[0] = (PetscReal)mean;
  m[1] = (PetscReal)(s2 / n);
  m[2] = (PetscReal)(s3 / n);
}

/* Allocate the per-set arrays for ntimes x nspecies sets (names, times set by the caller). */
static PetscErrorCode StgssaDataAllocSets(StgssaData d)
{
  const PetscInt64 nsets = (PetscInt64)d->ntimes * d->nspecies;

  PetscFunctionBegin;
  PetscCheck(3 * nsets <= PETSC_MPI_INT_MAX, PETSC_COMM_SELF, PETSC_ERR_SUP, "%s: %" PetscInt_FMT " times x %" PetscInt_FMT " species is too many histograms", d->path, d->ntimes, d->nspecies);
  PetscCall(PetscCalloc1((size_t)nsets, &d->nbins));
  PetscCall(PetscCalloc1((size_t)nsets + 1, &d->offset));
  PetscCall(PetscCalloc1((size_t)nsets, &d->total));
  PetscCall(PetscCalloc1(3 * (size_t)nsets, &d->moments));
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------- reading the file (rank 0) */

static const unsigned char StgssaHDF5Signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

/* Read fp into *buf (grown as needed; owned by the caller). Stops after the first block if it
   starts with the HDF5 signature: HDF5 files are opened by name, not parsed from memory. */
static PetscErrorCode StgssaDataReadStream(FILE *fp, const char path[], char **buf, size_t *len, PetscBool *hdf5)
{
  size_t cap = 1 << 16, got = 0, r;

  PetscFunctionBegin;
  *hdf5 = PETSC_FALSE;
  PetscCall(PetscMalloc1(cap, buf));
  while ((r = fread(*buf + got, 1, cap - got - 1, fp)) > 0) {
    got += r;
    if (got >= 8 && !memcmp(*buf, StgssaHDF5Signature, 8)) {
      *hdf5 = PETSC_TRUE;
      break;
    }
    if (got + 1 == cap) {
      char *bigger;
      PetscCall(PetscMalloc1(2 * cap, &bigger));
      PetscCall(PetscArraycpy(bigger, *buf, got));
      PetscCall(PetscFree(*buf));
      *buf = bigger;
      cap *= 2;
    }
  }
  PetscCheck(*hdf5 || !ferror(fp), PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: cannot read data file: %s", path, strerror(errno));
  (*buf)[got] = 0;
  *len        = got;
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------- CSV */

typedef struct {
  const char *s;
  size_t      n;
} StgssaDataField;

/* Role of a CSV column (StgssaDataCSV.col[j] >= 0: index of the data column it fills). */
#define STGSSA_DATA_COL_TIME (-1)
#define STGSSA_DATA_COL_SKIP (-2) /* a -stgssa_data_where column, or dropped (FILECOL= with no name) */
#define STGSSA_DATA_COL_UNSET (-3)
/* Distinct values shown when -stgssa_data_where keeps no row */
#define STGSSA_DATA_SEEN 4

/* Scratch of the CSV parser, freed by the caller whether or not the parse succeeded. */
typedef struct {
  StgssaDataField *fields;   /* [ncols] fields of the current line */
  PetscInt        *col;      /* [ncols] role of the column (STGSSA_DATA_COL_* or data column index) */
  PetscInt        *wj;       /* [nwhere] column of each -stgssa_data_where pair */
  PetscInt64      *wmatch;   /* [nwhere] rows matching each pair alone */
  char            *seen;     /* [nwhere * STGSSA_DATA_SEEN * 48] distinct values of each where column */
  PetscInt        *nseen;    /* [nwhere] */
  PetscInt        *rowcount; /* [maxrows * nspecies] */
  PetscReal       *rowtime;  /* [maxrows] */
  PetscInt        *rowtidx;  /* [maxrows] time index of the row */
  PetscInt        *hmax;     /* [nsets] largest count of the set */
} StgssaDataCSV;

static PetscErrorCode StgssaDataCSVFree(StgssaDataCSV *c)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(c->fields));
  PetscCall(PetscFree(c->col));
  PetscCall(PetscFree(c->wj));
  PetscCall(PetscFree(c->wmatch));
  PetscCall(PetscFree(c->seen));
  PetscCall(PetscFree(c->nseen));
  PetscCall(PetscFree(c->rowcount));
  PetscCall(PetscFree(c->rowtime));
  PetscCall(PetscFree(c->rowtidx));
  PetscCall(PetscFree(c->hmax));
  PetscFunctionReturn(0);
}

/* Next line of text from *pos without its line break ('\n' or "\r\n"); false at the end. */
static PetscBool StgssaDataNextLine(const char *text, size_t len, size_t *pos, const char **line, size_t *n)
{
  const char *start, *nl;

  if (*pos >= len) return PETSC_FALSE;
  start = text + *pos;
  nl    = (const char *)memchr(start, '\n', len - *pos);
  *n    = nl ? (size_t)(nl - start) : len - *pos;
  *pos += *n + (nl ? 1 : 0);
  if (*n && start[*n - 1] == '\r') (*n)--;
  *line = start;
  return PETSC_TRUE;
}

static PetscBool StgssaDataSkipLine(const char *s, size_t n)
{
  size_t i = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t'))
    i++;
  return (PetscBool)(i == n || s[i] == '#');
}

static size_t StgssaDataCountFields(const char *s, size_t n)
{
  size_t k = 1;
  for (size_t i = 0; i < n; i++)
    k += s[i] == ',';
  return k;
}

/* Split s[0..n) at commas into f[0..k), each field trimmed of spaces and tabs. */
static void StgssaDataSplit(const char *s, size_t n, StgssaDataField f[])
{
  size_t i = 0, k = 0;
  for (;;) {
    size_t start = i, end;
    while (i < n && s[i] != ',')
      i++;
    end = i;
    while (start < end && (s[start] == ' ' || s[start] == '\t'))
      start++;
    while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
      end--;
    if (end - start >= 2 && s[start] == '"' && s[end - 1] == '"') { /* "quoted", as R's write.csv writes names */
      start++;
      end--;
    }
    f[k].s = s + start;
    f[k].n = end - start;
    k++;
    if (i >= n) break;
    i++; /* skip the comma */
  }
}

/* Parse a nonnegative decimal integer: 0 ok, 1 not an integer, 2 negative, 3 above STGSSA_DATA_COUNT_MAX. */
static int StgssaDataParseCount(const char *s, size_t n, PetscInt *v)
{
  PetscInt64 x   = 0;
  PetscBool  big = PETSC_FALSE;
  size_t     i   = 0;
  int        neg = 0;

  if (n && s[0] == '-') {
    neg = 1;
    i   = 1;
  }
  if (i == n) return 1;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 1;
    if (!big) {
      x = 10 * x + (s[i] - '0');
      if (x > STGSSA_DATA_COUNT_MAX) big = PETSC_TRUE;
    }
  }
  if (neg) return 2;
  if (big) return 3;
  *v = (PetscInt)x;
  return 0;
}

/* Parse a finite nonnegative time (strtod syntax); false if it is not one. */
static PetscBool StgssaDataParseTime(const char *s, size_t n, PetscReal *t)
{
  char   buf[128], *end;
  double v;

  if (n == 0 || n >= sizeof(buf)) return PETSC_FALSE;
  memcpy(buf, s, n);
  buf[n] = 0;
  v      = strtod(buf, &end);
  if (end != buf + n || !isfinite(v) || v < 0) return PETSC_FALSE;
  *t = (PetscReal)(v + 0.0); /* -0 -> +0 */
  return PETSC_TRUE;
}

/* Index of t in the sorted distinct times v[0..n) (present by construction). */
static PetscInt StgssaDataFindTime(PetscInt n, const PetscReal v[], PetscReal t)
{
  PetscInt lo = 0, hi = n - 1;
  while (lo < hi) {
    const PetscInt mid = lo + (hi - lo) / 2;
    if (v[mid] < t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Name of field f as a C string in out (fields of a valid header are names of <= STGSSA_NAME_MAX bytes). */
static void StgssaDataFieldName(const StgssaDataField *f, StgssaDataName out)
{
  const size_t m = f->n > STGSSA_NAME_MAX ? STGSSA_NAME_MAX : f->n;
  memcpy(out, f->s, m);
  out[m] = 0;
}

/* A time column by its name alone: "time" or "t", ignoring case. */
static PetscBool StgssaDataTimeLike(const char *s)
{
  char   low[8];
  size_t n = strlen(s);
  if (n > 4) return PETSC_FALSE;
  for (size_t i = 0; i <= n; i++)
    low[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
  return (PetscBool)(!strcmp(low, "time") || !strcmp(low, "t"));
}

static PetscInt StgssaDataFindName(PetscInt n, const StgssaDataName list[], const char *name)
{
  for (PetscInt k = 0; k < n; k++)
    if (!strcmp(list[k], name)) return k;
  return -1;
}

/* "a, b, c" of the header fields (for messages), truncated to fit. */
static PetscErrorCode StgssaDataHeaderList(size_t ncols, const StgssaDataField f[], char *buf, size_t len)
{
  PetscFunctionBegin;
  buf[0] = 0;
  for (size_t j = 0; j < ncols; j++) {
    StgssaDataName name;
    StgssaDataFieldName(&f[j], name);
    if (j) PetscCall(StgssaStrlcat(buf, ", ", len));
    PetscCall(StgssaStrlcat(buf, name, len));
  }
  PetscFunctionReturn(0);
}

/* "a, b, c" of the known names (for messages), truncated to fit. */
static PetscErrorCode StgssaDataKnownList(StgssaData d, char *buf, size_t len)
{
  PetscFunctionBegin;
  buf[0] = 0;
  for (PetscInt k = 0; k < d->nknown; k++) {
    if (k) PetscCall(StgssaStrlcat(buf, ", ", len));
    PetscCall(StgssaStrlcat(buf, d->known[k], len));
  }
  PetscFunctionReturn(0);
}

/* The role of every header column (c->fields holds the header; c->col[j] is set on return):
   1. -stgssa_data_columns FILECOL=NAME: NAME "time" makes it the time column, an empty NAME
      drops it, any other NAME makes it the data column NAME;
   2. a column of -stgssa_data_where is a filter, not data (the time column stays the time);
   3. a column named like a known name (species or group of the model) is that data column;
   4. a column named "time" or "t", ignoring case, is the time column (at most one);
   5. any other column is data under its own name if no known names were given, else an error
      naming every such column and the two options.
   Data column k gets d->names[k] (model name) and d->srcnames[k] (file column). */
static PetscErrorCode StgssaDataCSVColumns(StgssaData d, const char path[], PetscInt64 hl, size_t ncols, StgssaDataCSV *c)
{
  char     header[1024], known[1024], bad[1024] = "";
  PetscInt nbad = 0, ns = 0, tcol = -1;

  PetscFunctionBegin;
  PetscCall(StgssaDataHeaderList(ncols, c->fields, header, sizeof(header)));
  PetscCall(StgssaDataKnownList(d, known, sizeof(known)));
  PetscCall(PetscMalloc1(ncols, &d->names));
  PetscCall(PetscMalloc1(ncols, &d->srcnames));
  /* 1. the mapping */
  for (PetscInt k = 0; k < d->nmap; k++) {
    size_t j;
    for (j = 0; j < ncols; j++) {
      StgssaDataName name;
      StgssaDataFieldName(&c->fields[j], name);
      if (!strcmp(name, d->mapcol[k])) break;
    }
    PetscCheck(j < ncols, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found no column '%s' of -stgssa_data_columns %s=%s; expected a column of the header (%s)", path, hl, d->mapcol[k], d->mapcol[k], d->mapname[k], header);
    if (!d->mapname[k][0])
      c->col[j] = STGSSA_DATA_COL_SKIP;
    else if (!strcmp(d->mapname[k], "time")) {
      PetscCheck(tcol < 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": -stgssa_data_columns maps two columns to time ('%s' and '%s'); expected one time column", path, hl, d->timecol, d->mapcol[k]);
      tcol      = (PetscInt)j;
      c->col[j] = STGSSA_DATA_COL_TIME;
      PetscCall(PetscStrncpy(d->timecol, d->mapcol[k], sizeof(d->timecol)));
    } else {
      PetscCheck(!d->nknown || StgssaDataFindName(d->nknown, d->known, d->mapname[k]) >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
                 "%s:%" PetscInt64_FMT ": -stgssa_data_columns %s=%s: '%s' is not among the %s (%s); expected one of them, time, or nothing (%s= drops the column)", path, hl, d->mapcol[k], d->mapname[k], d->mapname[k], d->known_what, known,
                 d->mapcol[k]);
      c->col[j] = ns;
      PetscCall(PetscStrncpy(d->names[ns], d->mapname[k], sizeof(StgssaDataName)));
      PetscCall(PetscStrncpy(d->srcnames[ns], d->mapcol[k], sizeof(StgssaDataName)));
      ns++;
    }
  }
  /* 2. filters */
  for (PetscInt k = 0; k < d->nwhere; k++) {
    size_t j;
    for (j = 0; j < ncols; j++) {
      StgssaDataName name;
      StgssaDataFieldName(&c->fields[j], name);
      if (!strcmp(name, d->wcol[k])) break;
    }
    PetscCheck(j < ncols, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found no column '%s' of -stgssa_data_where %s=%s; expected a column of the header (%s)", path, hl, d->wcol[k], d->wcol[k], d->wval[k], header);
    PetscCheck(c->col[j] < 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": column '%s' is both a filter (-stgssa_data_where) and mapped to a model name by -stgssa_data_columns; expected one of the two", path, hl, d->wcol[k]);
    /* the time column stays the time column (filtering one time keeps its time) */
    if (c->col[j] == STGSSA_DATA_COL_UNSET && !(StgssaDataTimeLike(d->wcol[k]) && !(d->nknown && StgssaDataFindName(d->nknown, d->known, d->wcol[k]) >= 0))) c->col[j] = STGSSA_DATA_COL_SKIP;
    c->wj[k] = (PetscInt)j;
  }
  /* 3.-5. the other columns, by name */
  for (size_t j = 0; j < ncols; j++) {
    StgssaDataName name;
    if (c->col[j] != STGSSA_DATA_COL_UNSET) continue;
    StgssaDataFieldName(&c->fields[j], name);
    if ((d->nknown && StgssaDataFindName(d->nknown, d->known, name) >= 0) || (!d->nknown && !StgssaDataTimeLike(name))) {
      c->col[j] = ns;
      PetscCall(PetscStrncpy(d->names[ns], name, sizeof(StgssaDataName)));
      PetscCall(PetscStrncpy(d->srcnames[ns], name, sizeof(StgssaDataName)));
      ns++;
    } else if (StgssaDataTimeLike(name)) {
      PetscCheck(tcol < 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
                 "%s:%" PetscInt64_FMT ": found two time columns, '%s' (column %d) and '%s' (column %d); expected one: map the other to a model name with -stgssa_data_columns %s=NAME or drop it with %s=", path, hl, d->timecol, (int)tcol + 1, name,
                 (int)j + 1, name, name);
      tcol      = (PetscInt)j;
      c->col[j] = STGSSA_DATA_COL_TIME;
      PetscCall(PetscStrncpy(d->timecol, name, sizeof(d->timecol)));
    } else {
      if (nbad) PetscCall(StgssaStrlcat(bad, ", ", sizeof(bad)));
      PetscCall(StgssaStrlcat(bad, "'", sizeof(bad)));
      PetscCall(StgssaStrlcat(bad, name, sizeof(bad)));
      PetscCall(StgssaStrlcat(bad, "'", sizeof(bad)));
      nbad++;
    }
  }
  PetscCheck(!nbad, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
             "%s:%" PetscInt64_FMT
             ": found column%s %s, which %s not among the %s (%s); expected time, a model name, or a column mapped with -stgssa_data_columns FILECOL=NAME (FILECOL= drops it) or used to select rows with -stgssa_data_where COL=VALUE",
             path, hl, nbad > 1 ? "s" : "", bad, nbad > 1 ? "are" : "is", d->known_what, known);
  /* one column per model name */
  for (PetscInt k = 0; k < ns; k++)
    for (PetscInt i = 0; i < k; i++)
      PetscCheck(strcmp(d->names[i], d->names[k]), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": columns '%s' and '%s' both give '%s'; expected one column per name (drop one with -stgssa_data_columns FILECOL=)", path, hl,
                 d->srcnames[i], d->srcnames[k], d->names[k]);
  PetscCheck(ns > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found no count column among %s; expected at least one species column", path, hl, header);
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaDataParseCSV_Private(StgssaData d, const char path[], const char *text, size_t len, StgssaDataCSV *c)
{
  const char *line;
  size_t      pos = 0, n, ncols = 0, maxrows = 1;
  PetscInt64  lineno = 0, header_line = 0, nrows = 0, nfile = 0;
  PetscInt    ns = 0, tcol = -1;
  char        ex[48];

  PetscFunctionBegin;
  PetscCheck(len > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:1: found an empty file; expected a CSV header line of species names (or an HDF5 file written by simulate mode)", path);
  if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) pos = 3; /* UTF-8 byte order mark */
  for (size_t i = pos; i < len; i++)
    maxrows += text[i] == '\n';

  /* header */
  while (StgssaDataNextLine(text, len, &pos, &line, &n)) {
    lineno++;
    PetscCheck(!memchr(line, 0, n), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found a NUL byte; expected a text file (CSV) or an HDF5 file", path, lineno);
    if (StgssaDataSkipLine(line, n)) continue;
    header_line = lineno;
    break;
  }
  PetscCheck(header_line, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found only comments and blank lines; expected a header line of species names", path, lineno);
  ncols = StgssaDataCountFields(line, n);
  PetscCall(PetscMalloc1(ncols, &c->fields));
  PetscCall(PetscMalloc1(ncols, &c->col));
  PetscCall(PetscMalloc1(PetscMax(d->nwhere, 1), &c->wj));
  PetscCall(PetscCalloc1(PetscMax(d->nwhere, 1), &c->wmatch));
  PetscCall(PetscCalloc1(PetscMax(d->nwhere, 1) * STGSSA_DATA_SEEN * 48, &c->seen));
  PetscCall(PetscCalloc1(PetscMax(d->nwhere, 1), &c->nseen));
  StgssaDataSplit(line, n, c->fields);
  for (size_t j = 0; j < ncols; j++) {
    const StgssaDataField *f = &c->fields[j];
    StgssaDataExcerpt(f->s, f->n, ex);
    PetscCheck(f->n, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found an empty column name (column %d); expected a header line of species names, optionally with a 'time' column", path, header_line, (int)j + 1);
    PetscCheck(f->n <= STGSSA_NAME_MAX, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found column name '%s' of %d bytes (column %d); expected at most %d bytes", path, header_line, ex, (int)f->n, (int)j + 1, STGSSA_NAME_MAX);
    PetscCheck(StgssaDataValidName(f->s, f->n), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found column name '%s' (column %d); expected a header line of species names [A-Za-z_][A-Za-z0-9_]*, optionally with a 'time' column",
               path, header_line, ex, (int)j + 1);
    for (size_t i = 0; i < j; i++)
      PetscCheck(f->n != c->fields[i].n || memcmp(f->s, c->fields[i].s, f->n), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found column '%s' twice (columns %d and %d); expected distinct column names", path, header_line, ex,
                 (int)i + 1, (int)j + 1);
    c->col[j] = STGSSA_DATA_COL_UNSET;
  }
  PetscCall(StgssaDataCSVColumns(d, path, header_line, ncols, c));
  for (size_t j = 0; j < ncols; j++) {
    if (c->col[j] == STGSSA_DATA_COL_TIME) tcol = (PetscInt)j;
    if (c->col[j] >= 0) ns++;
  }
  d->nspecies = ns;
  d->has_time = (PetscBool)(tcol >= 0);

  /* data rows */
  PetscCall(PetscMalloc1(maxrows * (size_t)ns, &c->rowcount));
  PetscCall(PetscMalloc1(maxrows, &c->rowtime));
  while (StgssaDataNextLine(text, len, &pos, &line, &n)) {
    size_t nf;
    lineno++;
    PetscCheck(!memchr(line, 0, n), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found a NUL byte; expected a text file (CSV) or an HDF5 file", path, lineno);
    if (StgssaDataSkipLine(line, n)) continue;
    nf = StgssaDataCountFields(line, n);
    PetscCheck(nf == ncols, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found %d field%s; expected %d, one per column of the header on line %" PetscInt64_FMT, path, lineno, (int)PetscMin(nf, (size_t)PETSC_MAX_INT),
               nf == 1 ? "" : "s", (int)ncols, header_line);
    PetscCheck(nrows < PETSC_MAX_INT, PETSC_COMM_SELF, PETSC_ERR_SUP, "%s:%" PetscInt64_FMT ": found more than %d data rows; expected fewer", path, lineno, (int)PETSC_MAX_INT);
    StgssaDataSplit(line, n, c->fields);
    nfile++;
    { /* -stgssa_data_where: keep the row if every pair matches (exact text of the field) */
      PetscBool keep = PETSC_TRUE;
      for (PetscInt k = 0; k < d->nwhere; k++) {
        const StgssaDataField *f  = &c->fields[c->wj[k]];
        const PetscBool        eq = (PetscBool)(f->n == strlen(d->wval[k]) && !memcmp(f->s, d->wval[k], f->n));
        if (eq)
          c->wmatch[k]++;
        else {
          char *seen = c->seen + (size_t)k * STGSSA_DATA_SEEN * 48;
          keep       = PETSC_FALSE;
          StgssaDataExcerpt(f->s, f->n, ex);
          if (c->nseen[k] < STGSSA_DATA_SEEN) {
            PetscInt i;
            for (i = 0; i < c->nseen[k]; i++)
              if (!strcmp(seen + 48 * i, ex)) break;
            if (i == c->nseen[k]) memcpy(seen + 48 * c->nseen[k]++, ex, 48);
          }
        }
      }
      if (!keep) continue;
    }
    c->rowtime[nrows] = -1;
    for (size_t j = 0; j < ncols; j++) {
      const StgssaDataField *f = &c->fields[j];
      if (c->col[j] == STGSSA_DATA_COL_SKIP) continue;
      StgssaDataExcerpt(f->s, f->n, ex);
      if (c->col[j] == STGSSA_DATA_COL_TIME) {
        PetscCheck(f->n, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found an empty field in column '%s'; expected a finite nonnegative time", path, lineno, d->timecol);
        PetscCheck(StgssaDataParseTime(f->s, f->n, &c->rowtime[nrows]), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found '%s' in column '%s'; expected a finite nonnegative time", path, lineno, ex, d->timecol);
      } else {
        const char *name = d->srcnames[c->col[j]];
        PetscInt    v    = 0;
        int         rc;
        PetscCheck(f->n, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found an empty field in column '%s'; expected a nonnegative integer count", path, lineno, name);
        rc = StgssaDataParseCount(f->s, f->n, &v);
        PetscCheck(rc != 1, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found '%s' in column '%s'; expected a nonnegative integer count", path, lineno, ex, name);
        PetscCheck(rc != 2, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found negative count '%s' in column '%s'; expected a nonnegative integer count", path, lineno, ex, name);
        PetscCheck(rc != 3, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found count '%s' in column '%s', too large; expected at most %" PetscInt64_FMT " (histograms are dense)", path, lineno, ex, name, STGSSA_DATA_COUNT_MAX);
        c->rowcount[nrows * ns + c->col[j]] = v;
      }
    }
    nrows++;
  }
  PetscCheck(nfile > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": found a header but no data rows; expected one line of counts per cell after the header", path, header_line);
  if (nrows == 0) { /* every row filtered out: say which pair never matched and what the column holds */
    char     pairs[512] = "", vals[512] = "";
    PetscInt k0 = -1;
    for (PetscInt k = 0; k < d->nwhere; k++) {
      if (k) PetscCall(StgssaStrlcat(pairs, ",", sizeof(pairs)));
      PetscCall(StgssaStrlcat(pairs, d->wcol[k], sizeof(pairs)));
      PetscCall(StgssaStrlcat(pairs, "=", sizeof(pairs)));
      PetscCall(StgssaStrlcat(pairs, d->wval[k], sizeof(pairs)));
      if (k0 < 0 && !c->wmatch[k]) k0 = k;
    }
    if (k0 >= 0) {
      for (PetscInt i = 0; i < c->nseen[k0]; i++) {
        if (i) PetscCall(StgssaStrlcat(vals, ", ", sizeof(vals)));
        PetscCall(StgssaStrlcat(vals, "'", sizeof(vals)));
        PetscCall(StgssaStrlcat(vals, c->seen + ((size_t)k0 * STGSSA_DATA_SEEN + i) * 48, sizeof(vals)));
        PetscCall(StgssaStrlcat(vals, "'", sizeof(vals)));
      }
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": -stgssa_data_where %s keeps none of the %" PetscInt64_FMT " data rows: no row has %s='%s' (column '%s' holds %s%s); expected a value of the column", path, header_line,
              pairs, nfile, d->wcol[k0], d->wval[k0], d->wcol[k0], vals, c->nseen[k0] == STGSSA_DATA_SEEN ? ", ..." : "");
    }
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s:%" PetscInt64_FMT ": -stgssa_data_where %s keeps none of the %" PetscInt64_FMT " data rows (each pair matches some row, but no row matches all); expected a combination present in the file",
            path, header_line, pairs, nfile);
  }
  d->nobs       = nrows;
  d->nrows_file = nfile;

  /* group the rows by distinct time */
  PetscCall(PetscMalloc1(nrows, &c->rowtidx));
  if (d->has_time) {
    PetscInt nt = (PetscInt)nrows;
    PetscCall(PetscMalloc1(nrows, &d->times));
    PetscCall(PetscArraycpy(d->times, c->rowtime, nrows));
    PetscCall(PetscSortRemoveDupsReal(&nt, d->times));
    d->ntimes = nt;
    for (PetscInt64 r = 0; r < nrows; r++)
      c->rowtidx[r] = StgssaDataFindTime(nt, d->times, c->rowtime[r]);
  } else {
    PetscCall(PetscMalloc1(1, &d->times));
    d->times[0] = -1;
    d->ntimes   = 1;
    for (PetscInt64 r = 0; r < nrows; r++)
      c->rowtidx[r] = 0;
  }

  /* exact integer histograms, set k = s * ntimes + itime */
  {
    const PetscInt T = d->ntimes, nsets = T * ns;
    PetscCall(StgssaDataAllocSets(d));
    PetscCall(PetscMalloc1(nsets, &c->hmax));
    for (PetscInt k = 0; k < nsets; k++)
      c->hmax[k] = -1;
    for (PetscInt64 r = 0; r < nrows; r++) {
      for (PetscInt s = 0; s < ns; s++) {
        const PetscInt k = s * T + c->rowtidx[r];
        c->hmax[k]       = PetscMax(c->hmax[k], c->rowcount[r * ns + s]);
      }
    }
    for (PetscInt k = 0; k < nsets; k++) {
      d->nbins[k]      = c->hmax[k] + 1; /* every time has at least one row */
      d->offset[k + 1] = d->offset[k] + d->nbins[k];
    }
    PetscCheck(d->offset[nsets] <= PETSC_MPI_INT_MAX, PETSC_COMM_SELF, PETSC_ERR_SUP, "%s: the histograms need %" PetscInt64_FMT " bins in all; expected at most %d (counts too large for dense histograms)", path, d->offset[nsets],
               (int)PETSC_MPI_INT_MAX);
    PetscCall(PetscCalloc1((size_t)PetscMax(d->offset[nsets], 1), &d->counts));
    for (PetscInt64 r = 0; r < nrows; r++) {
      for (PetscInt s = 0; s < ns; s++) {
        const PetscInt k = s * T + c->rowtidx[r];
        d->counts[d->offset[k] + c->rowcount[r * ns + s]] += 1;
        d->total[k] += 1;
      }
    }
    for (PetscInt k = 0; k < nsets; k++)
      StgssaDataHistMoments(d->nbins[k], d->counts + d->offset[k], d->moments + 3 * k);
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaDataParseCSV(StgssaData d, const char path[], const char *text, size_t len)
{
  StgssaDataCSV  c;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(&c, sizeof(c)));
  d->format = STGSSA_DATA_CSV;
  ierr      = StgssaDataParseCSV_Private(d, path, text, len, &c);
  PetscCall(StgssaDataCSVFree(&c));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------- HDF5 (simulate mode output) */

/* Open handles and buffers of the HDF5 reader; closed and freed by the caller on every path. */
typedef struct {
  const char *path;
  hid_t       file, run, sim, hgrp, mgrp, obj, space, attr;
  double     *times, *hist, *tail, *mom;
} StgssaDataH5;

static herr_t StgssaDataH5Close(hid_t *id)
{
  herr_t rc;

  if (*id < 0) return 0;
  switch (H5Iget_type(*id)) {
  case H5I_FILE:
    rc = H5Fclose(*id);
    break;
  case H5I_GROUP:
    rc = H5Gclose(*id);
    break;
  case H5I_DATASET:
    rc = H5Dclose(*id);
    break;
  case H5I_DATASPACE:
    rc = H5Sclose(*id);
    break;
  case H5I_ATTR:
    rc = H5Aclose(*id);
    break;
  default:
    rc = H5Oclose(*id);
  }
  *id = -1;
  return rc;
}

static PetscErrorCode StgssaDataH5Free(StgssaDataH5 *h)
{
  PetscFunctionBegin;
  /* best effort on error paths: the first failure has been reported already */
  (void)StgssaDataH5Close(&h->attr);
  (void)StgssaDataH5Close(&h->space);
  (void)StgssaDataH5Close(&h->obj);
  (void)StgssaDataH5Close(&h->mgrp);
  (void)StgssaDataH5Close(&h->hgrp);
  (void)StgssaDataH5Close(&h->sim);
  (void)StgssaDataH5Close(&h->run);
  (void)StgssaDataH5Close(&h->file);
  PetscCall(PetscFree(h->times));
  PetscCall(PetscFree(h->hist));
  PetscCall(PetscFree(h->tail));
  PetscCall(PetscFree(h->mom));
  PetscFunctionReturn(0);
}

/* Open loc/name (shown as `full`) into h->obj and check it is a group. */
static PetscErrorCode StgssaDataH5OpenGroup(StgssaDataH5 *h, hid_t loc, const char name[], const char full[], const char expect[], hid_t *grp)
{
  htri_t exists;

  PetscFunctionBegin;
  PetscCallHDF5(exists = H5Lexists(loc, name, H5P_DEFAULT));
  PetscCheck(exists > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: group %s: missing; expected %s", h->path, full, expect);
  PetscCallHDF5(*grp = H5Oopen(loc, name, H5P_DEFAULT));
  PetscCheck(H5Iget_type(*grp) == H5I_GROUP, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: %s: found an object that is not a group; expected %s", h->path, full, expect);
  PetscFunctionReturn(0);
}

/* Open dataset loc/name (shown as `full`) into h->obj, check it holds numbers in `rank`
   dimensions, return its shape and its values as doubles (finite) in *data. h->obj stays open. */
static PetscErrorCode StgssaDataH5ReadDataset(StgssaDataH5 *h, hid_t loc, const char name[], const char full[], int rank, const char expect[], hsize_t dims[], double **data)
{
  htri_t      exists;
  hid_t       type;
  H5T_class_t cls;
  int         nd;
  hsize_t     n = 1;

  PetscFunctionBegin;
  PetscCallHDF5(exists = H5Lexists(loc, name, H5P_DEFAULT));
  PetscCheck(exists > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s: missing; expected %s", h->path, full, expect);
  PetscCallHDF5(StgssaDataH5Close(&h->obj));
  PetscCallHDF5(h->obj = H5Oopen(loc, name, H5P_DEFAULT));
  PetscCheck(H5Iget_type(h->obj) == H5I_DATASET, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s: found an object that is not a dataset; expected %s", h->path, full, expect);
  PetscCallHDF5(type = H5Dget_type(h->obj));
  cls = H5Tget_class(type);
  PetscCallHDF5(H5Tclose(type));
  PetscCheck(cls == H5T_FLOAT || cls == H5T_INTEGER, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s: found non-numeric data; expected %s", h->path, full, expect);
  PetscCallHDF5(h->space = H5Dget_space(h->obj));
  PetscCallHDF5(nd = H5Sget_simple_extent_ndims(h->space));
  PetscCheck(nd == rank, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s: found %d dimension%s; expected %s", h->path, full, nd, nd == 1 ? "" : "s", expect);
  PetscCallHDF5(H5Sget_simple_extent_dims(h->space, dims, NULL));
  PetscCallHDF5(StgssaDataH5Close(&h->space));
  for (int i = 0; i < rank; i++) {
    PetscCheck(dims[i] > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s: found an empty dimension; expected %s", h->path, full, expect);
    PetscCheck(dims[i] <= (hsize_t)PETSC_MAX_INT / n, PETSC_COMM_SELF, PETSC_ERR_SUP, "%s: dataset %s: found too many elements; expected at most %d", h->path, full, (int)PETSC_MAX_INT);
    n *= dims[i];
  }
  PetscCall(PetscFree(*data));
  PetscCall(PetscMalloc1((size_t)n, data));
  PetscCallHDF5(H5Dread(h->obj, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *data));
  for (hsize_t i = 0; i < n; i++)
    PetscCheck(isfinite((*data)[i]), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s: found %.6g at element %d; expected finite numbers", h->path, full, (*data)[i], (int)i);
  PetscFunctionReturn(0);
}

/* Read the numeric attribute `name` of loc (shown as `full`) with n elements into v. */
static PetscErrorCode StgssaDataH5ReadAttr(StgssaDataH5 *h, hid_t loc, const char name[], const char full[], hsize_t n, const char expect[], double v[])
{
  htri_t      exists;
  hssize_t    np;
  hid_t       type;
  H5T_class_t cls;

  PetscFunctionBegin;
  PetscCallHDF5(exists = H5Aexists(loc, name));
  PetscCheck(exists > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: %s: attribute %s missing; expected %s", h->path, full, name, expect);
  PetscCallHDF5(h->attr = H5Aopen(loc, name, H5P_DEFAULT));
  PetscCallHDF5(type = H5Aget_type(h->attr));
  cls = H5Tget_class(type);
  PetscCallHDF5(H5Tclose(type));
  PetscCheck(cls == H5T_FLOAT || cls == H5T_INTEGER, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: %s: attribute %s holds non-numeric data; expected %s", h->path, full, name, expect);
  PetscCallHDF5(h->space = H5Aget_space(h->attr));
  PetscCallHDF5(np = H5Sget_simple_extent_npoints(h->space));
  PetscCallHDF5(StgssaDataH5Close(&h->space));
  PetscCheck((hsize_t)np == n, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: %s: attribute %s has %d element%s; expected %s", h->path, full, name, (int)np, np == 1 ? "" : "s", expect);
  PetscCallHDF5(H5Aread(h->attr, H5T_NATIVE_DOUBLE, v));
  PetscCallHDF5(StgssaDataH5Close(&h->attr));
  for (hsize_t i = 0; i < n; i++)
    PetscCheck(isfinite(v[i]), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: %s: attribute %s: found %.6g at element %d; expected %s", h->path, full, name, v[i], (int)i, expect);
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaDataReadHDF5_Private(StgssaData d, StgssaDataH5 *h)
{
  const char *path = h->path;
  hsize_t     dims[2];
  double      ntraj;
  H5G_info_t  info;
  PetscInt    T, ns;
  char        full[STGSSA_NAME_MAX + 64];

  PetscFunctionBegin;
  d->format = STGSSA_DATA_HDF5;
  PetscCheck(!d->nmap && !d->nwhere, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: found an HDF5 file (simulate output); expected a CSV file: -stgssa_data_columns and -stgssa_data_where apply to CSV columns only", path);
  h->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  PetscCheck(h->file >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN,
             "%s: found the HDF5 signature but the HDF5 library cannot open the file (truncated, corrupt or locked by a running writer?); expected an HDF5 file written by stgssa_hpc -stgssa_mode simulate", path);
  {
    htri_t exists;
    PetscCallHDF5(exists = H5Lexists(h->file, "simulate", H5P_DEFAULT));
    PetscCheck(exists > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: no group /simulate; expected an HDF5 file written by stgssa_hpc -stgssa_mode simulate (or a CSV file of per-cell counts)", path);
  }
  PetscCall(StgssaDataH5OpenGroup(h, h->file, "simulate", "/simulate", "the output of stgssa_hpc -stgssa_mode simulate", &h->sim));

  /* number of trajectories */
  PetscCall(StgssaDataH5OpenGroup(h, h->file, "run", "/run", "the /run group with attribute ntraj written by simulate mode", &h->run));
  PetscCall(StgssaDataH5ReadAttr(h, h->run, "ntraj", "/run", 1, "the number of trajectories (one positive integer)", &ntraj));
  PetscCheck(ntraj >= 1 && ntraj == floor(ntraj) && ntraj < 9007199254740992.0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: /run: attribute ntraj = %.6g; expected the number of trajectories (a positive integer)", path, ntraj);
  PetscCallHDF5(StgssaDataH5Close(&h->run));
  d->nobs = (PetscInt64)ntraj;

  /* times */
  PetscCall(StgssaDataH5ReadDataset(h, h->sim, "times", "/simulate/times", 1, "the sample times [T]", dims, &h->times));
  PetscCallHDF5(StgssaDataH5Close(&h->obj));
  T = (PetscInt)dims[0];
  for (PetscInt i = 0; i < T; i++) {
    PetscCheck(h->times[i] >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset /simulate/times: found %.6g at element %" PetscInt_FMT "; expected nonnegative times", path, h->times[i], i);
    PetscCheck(i == 0 || h->times[i] > h->times[i - 1], PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset /simulate/times: found %.6g after %.6g at element %" PetscInt_FMT "; expected strictly increasing times", path, h->times[i],
               h->times[i - 1], i);
  }
  d->ntimes = T;
  PetscCall(PetscMalloc1(T, &d->times));
  for (PetscInt i = 0; i < T; i++)
    d->times[i] = h->times[i];

  /* species: the datasets under /simulate/histograms, in name order */
  PetscCall(StgssaDataH5OpenGroup(h, h->sim, "histograms", "/simulate/histograms", "one histogram dataset per observed species", &h->hgrp));
  PetscCall(StgssaDataH5OpenGroup(h, h->sim, "moments", "/simulate/moments", "one moments dataset per observed species", &h->mgrp));
  PetscCallHDF5(H5Gget_info(h->hgrp, &info));
  PetscCheck(info.nlinks > 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: group /simulate/histograms: found no datasets; expected one per observed species", path);
  PetscCheck(info.nlinks <= 65536, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: group /simulate/histograms: found %d members; expected at most 65536 species", path, (int)PetscMin(info.nlinks, (hsize_t)PETSC_MAX_INT));
  ns = (PetscInt)info.nlinks;
  PetscCall(PetscMalloc1(ns, &d->names));
  PetscCall(PetscMalloc1(ns, &d->srcnames));
  for (PetscInt s = 0; s < ns; s++) {
    ssize_t len;
    char    big[STGSSA_NAME_MAX + 2], ex[48];
    PetscCallHDF5(len = H5Lget_name_by_idx(h->hgrp, ".", H5_INDEX_NAME, H5_ITER_INC, (hsize_t)s, big, sizeof(big), H5P_DEFAULT));
    StgssaDataExcerpt(big, (size_t)PetscMin(len, (ssize_t)STGSSA_NAME_MAX + 1), ex);
    PetscCheck(StgssaDataValidName(big, (size_t)len), PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: group /simulate/histograms: found member '%s'; expected species names [A-Za-z_][A-Za-z0-9_]* of at most %d bytes", path, ex, STGSSA_NAME_MAX);
    PetscCall(PetscStrncpy(d->names[s], big, sizeof(d->names[s])));
    PetscCall(PetscStrncpy(d->srcnames[s], big, sizeof(d->srcnames[s])));
  }
  d->nspecies = ns;
  PetscCall(StgssaDataAllocSets(d));
  PetscCall(PetscMalloc1(T, &h->tail));

  for (PetscInt s = 0; s < ns; s++) {
    PetscInt64 B, need = 0;
    PetscCall(PetscSNPrintf(full, sizeof(full), "/simulate/histograms/%s", d->names[s]));
    PetscCall(StgssaDataH5ReadDataset(h, h->hgrp, d->names[s], full, 2, "[T x B] probabilities of counts 0..B-1, one row per entry of /simulate/times", dims, &h->hist));
    PetscCheck(dims[0] == (hsize_t)T, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s: found %d rows; expected %" PetscInt_FMT ", one per entry of /simulate/times", path, full, (int)dims[0], T);
    B = (PetscInt64)dims[1];
    PetscCheck(B - 1 <= STGSSA_DATA_COUNT_MAX, PETSC_COMM_SELF, PETSC_ERR_SUP, "%s: dataset %s: found %" PetscInt64_FMT " bins; expected at most %" PetscInt64_FMT, path, full, B, STGSSA_DATA_COUNT_MAX + 1);
    PetscCall(StgssaDataH5ReadAttr(h, h->obj, "tail_mass", full, (hsize_t)T, "tail_mass [T] = P(count >= B) per time, as written by simulate mode", h->tail));
    PetscCallHDF5(StgssaDataH5Close(&h->obj));
    for (PetscInt i = 0; i < T; i++) {
      PetscCheck(h->tail[i] >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s: attribute tail_mass = %.6g at time index %" PetscInt_FMT "; expected a probability", path, full, h->tail[i], i);
      PetscCheck(h->tail[i] == 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
                 "%s: dataset %s: tail_mass = %.6g at time index %" PetscInt_FMT " (t = %.6g): counts >= %" PetscInt64_FMT
                 " are not stored, so the distribution is incomplete; expected tail_mass 0: rerun simulate with a larger -stgssa_hist_bins, or 0 to keep every count",
                 path, full, h->tail[i], i, h->times[i], B);
    }
    /* probabilities -> integer counts; trailing empty bins are dropped */
    for (PetscInt i = 0; i < T; i++) {
      const PetscInt k    = s * T + i;
      double        *row  = h->hist + i * B;
      double         sum  = 0;
      PetscInt64     last = -1;
      for (PetscInt64 b = 0; b < B; b++) {
        const double c = row[b] * ntraj, r = nearbyint(c);
        PetscCheck(row[b] >= 0 && row[b] <= 1, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s: found probability %.6g of count %" PetscInt64_FMT " at time index %" PetscInt_FMT "; expected a probability in [0, 1]", path, full, row[b], b,
                   i);
        PetscCheck(fabs(c - r) <= 1e-6, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
                   "%s: dataset %s: probability %.10g of count %" PetscInt64_FMT " at time index %" PetscInt_FMT " times ntraj = %.0f is %.9g, not an integer; expected probabilities count/ntraj as written by simulate mode", path, full, row[b], b, i,
                   ntraj, c);
        row[b] = r;
        sum += r;
        if (r > 0) last = b;
      }
      PetscCheck(sum == ntraj, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s: counts at time index %" PetscInt_FMT " sum to %.0f; expected ntraj = %.0f (attribute /run ntraj)", path, full, i, sum, ntraj);
      d->nbins[k] = (PetscInt)(last + 1);
      d->total[k] = ntraj;
      need += last + 1;
    }
    /* append this species' histograms (sets s*T .. s*T+T-1 are contiguous) */
    {
      const PetscInt64 have = d->offset[s * T];
      PetscReal       *bigger;
      PetscCheck(have + need <= PETSC_MPI_INT_MAX, PETSC_COMM_SELF, PETSC_ERR_SUP, "%s: the histograms need more than %d bins in all", path, (int)PETSC_MPI_INT_MAX);
      PetscCall(PetscMalloc1((size_t)(have + need), &bigger));
      if (have) PetscCall(PetscArraycpy(bigger, d->counts, have));
      PetscCall(PetscFree(d->counts));
      d->counts = bigger;
      for (PetscInt i = 0; i < T; i++) {
        const PetscInt k = s * T + i;
        d->offset[k + 1] = d->offset[k] + d->nbins[k];
        for (PetscInt b = 0; b < d->nbins[k]; b++)
          d->counts[d->offset[k] + b] = h->hist[i * B + b];
      }
    }
    /* moments: exact, from the file */
    PetscCall(PetscSNPrintf(full, sizeof(full), "/simulate/moments/%s", d->names[s]));
    PetscCall(StgssaDataH5ReadDataset(h, h->mgrp, d->names[s], full, 2, "[T x 3] mean, variance, third central moment for every species in /simulate/histograms", dims, &h->mom));
    PetscCallHDF5(StgssaDataH5Close(&h->obj));
    PetscCheck(dims[0] == (hsize_t)T && dims[1] == 3, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: dataset %s: found shape [%d x %d]; expected [%" PetscInt_FMT " x 3], mean, variance and third central moment per entry of /simulate/times", path,
               full, (int)dims[0], (int)dims[1], T);
    for (PetscInt i = 0; i < T; i++)
      for (int m = 0; m < 3; m++)
        d->moments[3 * (s * T + i) + m] = h->mom[3 * i + m];
  }
  PetscCallHDF5(StgssaDataH5Close(&h->mgrp));
  PetscCallHDF5(StgssaDataH5Close(&h->hgrp));
  PetscCallHDF5(StgssaDataH5Close(&h->sim));
  PetscCallHDF5(StgssaDataH5Close(&h->file));
  PetscFunctionReturn(0);
}

/* Serial read (H5P_DEFAULT) on rank 0. HDF5's own error stack printing is off meanwhile: the
   message raised here says what was wrong. */
static PetscErrorCode StgssaDataReadHDF5(StgssaData d, const char path[])
{
  StgssaDataH5   h = {path, -1, -1, -1, -1, -1, -1, -1, -1, NULL, NULL, NULL, NULL};
  H5E_auto2_t    func;
  void          *client;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCallHDF5(H5Eget_auto2(H5E_DEFAULT, &func, &client));
  PetscCallHDF5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));
  ierr = StgssaDataReadHDF5_Private(d, &h);
  PetscCall(StgssaDataH5Free(&h));
  PetscCallHDF5(H5Eset_auto2(H5E_DEFAULT, func, client));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* Rank 0: read and parse path into d. */
static PetscErrorCode StgssaDataRead_Root(StgssaData d, const char path[])
{
  FILE          *fp;
  char          *buf = NULL;
  size_t         len = 0;
  PetscBool      hdf5;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  fp = fopen(path, "rb");
  PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "%s: cannot open data file: %s", path, strerror(errno));
  ierr = StgssaDataReadStream(fp, path, &buf, &len, &hdf5);
  (void)fclose(fp);
  if (!ierr) {
    if (hdf5) {
      PetscCall(PetscFree(buf));
      PetscCall(StgssaDataReadHDF5(d, path));
    } else
      ierr = StgssaDataParseCSV(d, path, buf, len);
  }
  PetscCall(PetscFree(buf));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------- collective load */

/* Broadcast the parsed data from rank 0 (which holds it) to every rank. */
static PetscErrorCode StgssaDataBcast(StgssaData d)
{
  PetscMPIInt rank;
  PetscInt64  hdr[7];
  PetscInt    nsets;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(d->comm, &rank));
  if (rank == 0) {
    hdr[0] = d->format;
    hdr[1] = d->has_time;
    hdr[2] = d->nobs;
    hdr[3] = d->ntimes;
    hdr[4] = d->nspecies;
    hdr[5] = d->offset[d->ntimes * d->nspecies];
    hdr[6] = d->nrows_file;
  }
  PetscCallMPI(MPI_Bcast(hdr, 7, MPIU_INT64, 0, d->comm));
  if (rank) {
    d->format     = (StgssaDataFormat)hdr[0];
    d->has_time   = (PetscBool)hdr[1];
    d->nobs       = hdr[2];
    d->ntimes     = (PetscInt)hdr[3];
    d->nspecies   = (PetscInt)hdr[4];
    d->nrows_file = hdr[6];
    PetscCall(PetscMalloc1(d->ntimes, &d->times));
    PetscCall(PetscMalloc1(d->nspecies, &d->names));
    PetscCall(PetscMalloc1(d->nspecies, &d->srcnames));
    PetscCall(StgssaDataAllocSets(d));
    PetscCall(PetscMalloc1((size_t)PetscMax(hdr[5], 1), &d->counts));
  }
  nsets = d->ntimes * d->nspecies;
  PetscCallMPI(MPI_Bcast(d->times, (PetscMPIInt)d->ntimes, MPIU_REAL, 0, d->comm));
  PetscCallMPI(MPI_Bcast(d->names, (PetscMPIInt)(d->nspecies * sizeof(StgssaDataName)), MPI_CHAR, 0, d->comm));
  PetscCallMPI(MPI_Bcast(d->srcnames, (PetscMPIInt)(d->nspecies * sizeof(StgssaDataName)), MPI_CHAR, 0, d->comm));
  PetscCallMPI(MPI_Bcast(d->timecol, (PetscMPIInt)sizeof(StgssaDataName), MPI_CHAR, 0, d->comm));
  PetscCallMPI(MPI_Bcast(d->nbins, (PetscMPIInt)nsets, MPIU_INT, 0, d->comm));
  PetscCallMPI(MPI_Bcast(d->total, (PetscMPIInt)nsets, MPIU_REAL, 0, d->comm));
  PetscCallMPI(MPI_Bcast(d->moments, (PetscMPIInt)(3 * nsets), MPIU_REAL, 0, d->comm));
  PetscCallMPI(MPI_Bcast(d->counts, (PetscMPIInt)hdr[5], MPIU_REAL, 0, d->comm));
  for (PetscInt k = 0; k < nsets; k++)
    d->offset[k + 1] = d->offset[k] + d->nbins[k];
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaDataLoad(StgssaData d, const char path[])
{
  PetscMPIInt rank;
  int         status = 0; /* PETSc error code of rank 0's read, 0 on success */
  char       *msg;

  PetscFunctionBegin;
  PetscCheck(path && path[0], d->comm, PETSC_ERR_ARG_NULL, "StgssaDataLoad: expected a file name");
  PetscCall(StgssaDataReset(d));
  PetscCall(PetscStrallocpy(path, &d->path));
  PetscCall(PetscCalloc1(STGSSA_DATA_MSG_LEN, &msg));
  PetscCallMPI(MPI_Comm_rank(d->comm, &rank));
  if (rank == 0) {
    PetscErrorCode ierr;
    char          *specific = NULL;
    size_t         plen;
    PetscBool      named;

    /* the error is raised once, on the communicator, below: rank 0 records it silently here */
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = StgssaDataRead_Root(d, path);
    PetscCall(PetscPopErrorHandler());
    if (ierr) {
      status = (int)ierr;
      PetscCall(PetscErrorMessage(ierr, NULL, &specific));
      if (!specific || !specific[0]) specific = (char *)"unknown error";
      PetscCall(PetscStrlen(path, &plen));
      PetscCall(PetscStrncmp(specific, path, plen, &named));
      if (named)
        PetscCall(PetscStrncpy(msg, specific, STGSSA_DATA_MSG_LEN));
      else
        PetscCall(PetscSNPrintf(msg, STGSSA_DATA_MSG_LEN, "%s: %s", path, specific));
    }
  }
  PetscCallMPI(MPI_Bcast(&status, 1, MPI_INT, 0, d->comm));
  if (status) {
    PetscErrorCode code = (PetscErrorCode)status;
    PetscCallMPI(MPI_Bcast(msg, STGSSA_DATA_MSG_LEN, MPI_CHAR, 0, d->comm));
    PetscCall(StgssaDataReset(d));
    /* message first into a local, so msg can be freed before raising */
    {
      char text[STGSSA_DATA_MSG_LEN];
      PetscCall(PetscStrncpy(text, msg, sizeof(text)));
      PetscCall(PetscFree(msg));
      SETERRQ(d->comm, code, "%s", text);
    }
  }
  PetscCall(PetscFree(msg));
  PetscCall(StgssaDataBcast(d));
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------- queries */

static PetscErrorCode StgssaDataFindSet(StgssaData d, PetscInt itime, const char species[], PetscInt *k)
{
  PetscFunctionBegin;
  PetscCheck(d->format != STGSSA_DATA_NONE, d->comm, PETSC_ERR_ORDER, "Call StgssaDataLoad() first");
  PetscCheck(species, d->comm, PETSC_ERR_ARG_NULL, "%s: expected a species name, got NULL", d->path);
  PetscCheck(itime >= 0 && itime < d->ntimes, d->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: time index %" PetscInt_FMT " out of range; expected 0..%" PetscInt_FMT, d->path, itime, d->ntimes - 1);
  for (PetscInt s = 0; s < d->nspecies; s++) {
    PetscBool same;
    PetscCall(PetscStrcmp(d->names[s], species, &same));
    if (same) {
      *k = s * d->ntimes + itime;
      PetscFunctionReturn(0);
    }
  }
  {
    char known[1024] = "";
    for (PetscInt s = 0; s < d->nspecies; s++) {
      if (s) PetscCall(StgssaStrlcat(known, ", ", sizeof(known)));
      PetscCall(StgssaStrlcat(known, d->names[s], sizeof(known)));
    }
    SETERRQ(d->comm, PETSC_ERR_ARG_WRONG, "%s: no data for species '%s'; the data has: %s", d->path, species, known);
  }
}

PetscErrorCode StgssaDataGetTimes(StgssaData d, PetscInt *ntimes, const PetscReal **times)
{
  PetscFunctionBegin;
  PetscCheck(d->format != STGSSA_DATA_NONE, d->comm, PETSC_ERR_ORDER, "Call StgssaDataLoad() first");
  if (ntimes) *ntimes = d->ntimes;
  if (times) *times = d->times;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaDataGetNumSpecies(StgssaData d, PetscInt *nspecies)
{
  PetscFunctionBegin;
  PetscCheck(d->format != STGSSA_DATA_NONE, d->comm, PETSC_ERR_ORDER, "Call StgssaDataLoad() first");
  *nspecies = d->nspecies;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaDataGetSpeciesName(StgssaData d, PetscInt s, const char **name)
{
  PetscFunctionBegin;
  PetscCheck(d->format != STGSSA_DATA_NONE, d->comm, PETSC_ERR_ORDER, "Call StgssaDataLoad() first");
  PetscCheck(s >= 0 && s < d->nspecies, d->comm, PETSC_ERR_ARG_OUTOFRANGE, "%s: species index %" PetscInt_FMT " out of range; expected 0..%" PetscInt_FMT, d->path, s, d->nspecies - 1);
  *name = d->names[s];
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaDataHasSpecies(StgssaData d, const char name[], PetscBool *has)
{
  PetscFunctionBegin;
  PetscCheck(d->format != STGSSA_DATA_NONE, d->comm, PETSC_ERR_ORDER, "Call StgssaDataLoad() first");
  *has = PETSC_FALSE;
  for (PetscInt s = 0; s < d->nspecies && !*has; s++)
    PetscCall(PetscStrcmp(d->names[s], name, has));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaDataGetHistogram(StgssaData d, PetscInt itime, const char species[], PetscInt *nbins, const PetscReal **counts, PetscReal *total)
{
  PetscInt k;

  PetscFunctionBegin;
  PetscCall(StgssaDataFindSet(d, itime, species, &k));
  if (nbins) *nbins = d->nbins[k];
  if (counts) *counts = d->counts + d->offset[k];
  if (total) *total = d->total[k];
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaDataGetMoments(StgssaData d, PetscInt itime, const char species[], PetscReal moments[3])
{
  PetscInt k;

  PetscFunctionBegin;
  PetscCall(StgssaDataFindSet(d, itime, species, &k));
  for (int m = 0; m < 3; m++)
    moments[m] = d->moments[3 * k + m];
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaDataView(StgssaData d, PetscViewer viewer)
{
  PetscBool   isascii;
  const char *unit = d->format == STGSSA_DATA_HDF5 ? "trajectories" : "cells";

  PetscFunctionBegin;
  if (!viewer) PetscCall(PetscViewerASCIIGetStdout(d->comm, &viewer));
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &isascii));
  if (!isascii) PetscFunctionReturn(0);
  if (d->format == STGSSA_DATA_NONE) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaData: (not loaded)\n"));
    PetscFunctionReturn(0);
  }
  if (d->format == STGSSA_DATA_HDF5)
    PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaData %s: HDF5 written by simulate mode, ntraj %" PetscInt64_FMT "\n", d->path, d->nobs));
  else
    PetscCall(PetscViewerASCIIPrintf(viewer, "StgssaData %s: CSV of per-cell counts, %" PetscInt64_FMT " cells, %s\n", d->path, d->nobs, d->has_time ? "with a time column" : "no time column (stationary / last sample time)"));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  PetscCall(PetscViewerASCIIPrintf(viewer, "%" PetscInt_FMT " species:", d->nspecies));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
  for (PetscInt s = 0; s < d->nspecies; s++)
    PetscCall(PetscViewerASCIIPrintf(viewer, " %s", d->names[s]));
  PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  if (d->format == STGSSA_DATA_CSV) { /* where each came from: file column -> name, filters */
    char line[2048], *cols;
    PetscCall(StgssaDataGetSummary(d, line, sizeof(line)));
    cols = strstr(line, ", columns ");
    if (cols) PetscCall(PetscViewerASCIIPrintf(viewer, "%s\n", cols + 2));
  }
  PetscCall(PetscViewerASCIIPrintf(viewer, "%" PetscInt_FMT " time%s:\n", d->ntimes, d->ntimes == 1 ? "" : "s"));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  for (PetscInt i = 0; i < d->ntimes; i++) {
    if (d->times[i] < 0)
      PetscCall(PetscViewerASCIIPrintf(viewer, "stationary: %.0f %s\n", (double)d->total[i], unit));
    else
      PetscCall(PetscViewerASCIIPrintf(viewer, "t = %.6g: %.0f %s\n", (double)d->times[i], (double)d->total[i], unit));
  }
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------- configuration (before Load) */

static PetscErrorCode StgssaDataFreeConfig(StgssaData d)
{
  PetscFunctionBegin;
  for (PetscInt k = 0; k < d->nwhere; k++)
    PetscCall(PetscFree(d->wval[k]));
  PetscCall(PetscFree(d->wval));
  PetscCall(PetscFree(d->wcol));
  PetscCall(PetscFree(d->mapcol));
  PetscCall(PetscFree(d->mapname));
  d->nmap   = 0;
  d->nwhere = 0;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaDataSetColumnMap(StgssaData d, PetscInt n, const char *const filecols[], const char *const names[])
{
  PetscFunctionBegin;
  for (PetscInt k = 0; k < n; k++) {
    size_t lc, ln;
    PetscCall(PetscStrlen(filecols[k], &lc));
    PetscCall(PetscStrlen(names[k], &ln));
    PetscCheck(StgssaDataValidName(filecols[k], lc), d->comm, PETSC_ERR_ARG_WRONG, "-stgssa_data_columns %s=%s: expected FILECOL=NAME with FILECOL a column name [A-Za-z_][A-Za-z0-9_]* of at most %d bytes", filecols[k], names[k], STGSSA_NAME_MAX);
    PetscCheck(!ln || StgssaDataValidName(names[k], ln), d->comm, PETSC_ERR_ARG_WRONG, "-stgssa_data_columns %s=%s: expected FILECOL=NAME with NAME a species or group name [A-Za-z_][A-Za-z0-9_]*, time, or nothing (drops the column)", filecols[k],
               names[k]);
    for (PetscInt i = 0; i < k; i++)
      PetscCheck(strcmp(filecols[i], filecols[k]), d->comm, PETSC_ERR_ARG_WRONG, "-stgssa_data_columns: column '%s' mapped twice; expected each file column at most once", filecols[k]);
  }
  PetscCall(PetscFree(d->mapcol));
  PetscCall(PetscFree(d->mapname));
  PetscCall(PetscCalloc1(PetscMax(n, 1), &d->mapcol));
  PetscCall(PetscCalloc1(PetscMax(n, 1), &d->mapname));
  for (PetscInt k = 0; k < n; k++) {
    PetscCall(PetscStrncpy(d->mapcol[k], filecols[k], sizeof(StgssaDataName)));
    PetscCall(PetscStrncpy(d->mapname[k], names[k], sizeof(StgssaDataName)));
  }
  d->nmap = n;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaDataSetWhere(StgssaData d, PetscInt n, const char *const cols[], const char *const values[])
{
  PetscFunctionBegin;
  for (PetscInt k = 0; k < n; k++) {
    size_t lc;
    PetscCall(PetscStrlen(cols[k], &lc));
    PetscCheck(StgssaDataValidName(cols[k], lc), d->comm, PETSC_ERR_ARG_WRONG, "-stgssa_data_where %s=%s: expected COL=VALUE with COL a column name [A-Za-z_][A-Za-z0-9_]* of at most %d bytes", cols[k], values[k], STGSSA_NAME_MAX);
  }
  for (PetscInt k = 0; k < d->nwhere; k++)
    PetscCall(PetscFree(d->wval[k]));
  PetscCall(PetscFree(d->wval));
  PetscCall(PetscFree(d->wcol));
  PetscCall(PetscCalloc1(PetscMax(n, 1), &d->wcol));
  PetscCall(PetscCalloc1(PetscMax(n, 1), &d->wval));
  for (PetscInt k = 0; k < n; k++) {
    PetscCall(PetscStrncpy(d->wcol[k], cols[k], sizeof(StgssaDataName)));
    PetscCall(PetscStrallocpy(values[k], &d->wval[k]));
  }
  d->nwhere = n;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaDataSetKnownNames(StgssaData d, PetscInt n, const char *const names[], const char what[])
{
  PetscFunctionBegin;
  PetscCall(PetscFree(d->known));
  PetscCall(PetscFree(d->known_what));
  PetscCall(PetscCalloc1(PetscMax(n, 1), &d->known));
  for (PetscInt k = 0; k < n; k++)
    PetscCall(PetscStrncpy(d->known[k], names[k], sizeof(StgssaDataName)));
  d->nknown = n;
  PetscCall(PetscStrallocpy(what && what[0] ? what : "known names", &d->known_what));
  PetscFunctionReturn(0);
}

/* Split every "KEY=VALUE" entry of list[0..n) in place at its first '='; false if one has none. */
static PetscBool StgssaDataSplitPairs(PetscInt n, char *list[], const char *values[], PetscInt *bad)
{
  for (PetscInt k = 0; k < n; k++) {
    char *eq = strchr(list[k], '=');
    if (!eq) {
      *bad = k;
      return PETSC_FALSE;
    }
    *eq       = 0;
    values[k] = eq + 1;
  }
  return PETSC_TRUE;
}

#define STGSSA_DATA_MAX_PAIRS 256

PetscErrorCode StgssaDataSetFromOptions(StgssaData d)
{
  char       *cols[STGSSA_DATA_MAX_PAIRS] = {NULL}, *where[STGSSA_DATA_MAX_PAIRS] = {NULL};
  const char *cv[STGSSA_DATA_MAX_PAIRS], *wv[STGSSA_DATA_MAX_PAIRS];
  PetscInt    ncols = STGSSA_DATA_MAX_PAIRS, nwhere = STGSSA_DATA_MAX_PAIRS, bad = -1;
  PetscBool   set_cols = PETSC_FALSE, set_where = PETSC_FALSE;

  PetscFunctionBegin;
  PetscOptionsBegin(d->comm, NULL, "Data options (CSV of per-cell counts)", "StgssaData");
  PetscCall(PetscOptionsStringArray("-stgssa_data_columns", "Map CSV columns to model names FILECOL=NAME,... (NAME a species or group, time, or empty to drop the column)", "StgssaDataSetColumnMap", cols, &ncols, &set_cols));
  PetscCall(PetscOptionsStringArray("-stgssa_data_where", "Keep only CSV rows whose column COL reads VALUE: COL=VALUE,... (all must match; the columns are not data)", "StgssaDataSetWhere", where, &nwhere, &set_where));
  PetscOptionsEnd();
  if (!set_cols) ncols = 0;
  if (!set_where) nwhere = 0;
  if (!StgssaDataSplitPairs(ncols, cols, cv, &bad)) {
    char entry[128];
    PetscCall(PetscStrncpy(entry, cols[bad], sizeof(entry)));
    for (PetscInt k = 0; k < STGSSA_DATA_MAX_PAIRS; k++)
      PetscCall(PetscFree(cols[k]));
    for (PetscInt k = 0; k < STGSSA_DATA_MAX_PAIRS; k++)
      PetscCall(PetscFree(where[k]));
    SETERRQ(d->comm, PETSC_ERR_ARG_WRONG, "-stgssa_data_columns: found '%s'; expected FILECOL=NAME,... (e.g. rna=M; NAME empty drops the column)", entry);
  }
  if (!StgssaDataSplitPairs(nwhere, where, wv, &bad)) {
    char entry[128];
    PetscCall(PetscStrncpy(entry, where[bad], sizeof(entry)));
    for (PetscInt k = 0; k < STGSSA_DATA_MAX_PAIRS; k++)
      PetscCall(PetscFree(cols[k]));
    for (PetscInt k = 0; k < STGSSA_DATA_MAX_PAIRS; k++)
      PetscCall(PetscFree(where[k]));
    SETERRQ(d->comm, PETSC_ERR_ARG_WRONG, "-stgssa_data_where: found '%s'; expected COL=VALUE,... (e.g. replica=1)", entry);
  }
  {
    PetscErrorCode ierr = 0;
    if (set_cols) ierr = StgssaDataSetColumnMap(d, ncols, (const char *const *)cols, cv);
    if (!ierr && set_where) ierr = StgssaDataSetWhere(d, nwhere, (const char *const *)where, wv);
    for (PetscInt k = 0; k < STGSSA_DATA_MAX_PAIRS; k++)
      PetscCall(PetscFree(cols[k]));
    for (PetscInt k = 0; k < STGSSA_DATA_MAX_PAIRS; k++)
      PetscCall(PetscFree(where[k]));
    PetscCall(ierr);
  }
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------- summary */

PetscErrorCode StgssaDataGetNumObservations(StgssaData d, PetscInt64 *nobs)
{
  PetscFunctionBegin;
  PetscCheck(d->format != STGSSA_DATA_NONE, d->comm, PETSC_ERR_ORDER, "Call StgssaDataLoad() first");
  *nobs = d->nobs;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaDataGetSummary(StgssaData d, char buf[], size_t len)
{
  const char *unit = d->format == STGSSA_DATA_HDF5 ? "trajectories" : "cells";
  const char *file;
  char        part[512];
  PetscReal   lo = PETSC_MAX_REAL, hi = 0;

  PetscFunctionBegin;
  PetscCheck(d->format != STGSSA_DATA_NONE, d->comm, PETSC_ERR_ORDER, "Call StgssaDataLoad() first");
  file = strrchr(d->path, '/') ? strrchr(d->path, '/') + 1 : d->path;
  for (PetscInt i = 0; i < d->ntimes; i++) { /* cells per time: the first data column (every column has every row) */
    lo = PetscMin(lo, d->total[i]);
    hi = PetscMax(hi, d->total[i]);
  }
  if (!d->has_time && d->format == STGSSA_DATA_CSV)
    PetscCall(PetscSNPrintf(buf, len, "%s: no time column (stationary: compared at the last sample time), %" PetscInt64_FMT " %s", file, d->nobs, unit));
  else if (d->ntimes == 1)
    PetscCall(PetscSNPrintf(buf, len, "%s: 1 time %.6g (%" PetscInt64_FMT " %s)", file, (double)d->times[0], d->nobs, unit));
  else if (d->format == STGSSA_DATA_HDF5)
    PetscCall(PetscSNPrintf(buf, len, "%s: %" PetscInt_FMT " times %.6g..%.6g (%" PetscInt64_FMT " %s per time)", file, d->ntimes, (double)d->times[0], (double)d->times[d->ntimes - 1], d->nobs, unit));
  else if (lo == hi)
    PetscCall(PetscSNPrintf(buf, len, "%s: %" PetscInt_FMT " times %.6g..%.6g (%.0f %s per time, %" PetscInt64_FMT " %s)", file, d->ntimes, (double)d->times[0], (double)d->times[d->ntimes - 1], (double)lo, unit, d->nobs, unit));
  else
    PetscCall(PetscSNPrintf(buf, len, "%s: %" PetscInt_FMT " times %.6g..%.6g (%.0f-%.0f %s per time, %" PetscInt64_FMT " %s)", file, d->ntimes, (double)d->times[0], (double)d->times[d->ntimes - 1], (double)lo, (double)hi, unit, d->nobs, unit));
  PetscCall(StgssaStrlcat(buf, d->format == STGSSA_DATA_HDF5 ? ", species " : ", columns ", len));
  if (d->has_time && d->format == STGSSA_DATA_CSV) {
    PetscCall(PetscSNPrintf(part, sizeof(part), "%s->time, ", d->timecol));
    PetscCall(StgssaStrlcat(buf, part, len));
  }
  for (PetscInt s = 0; s < d->nspecies; s++) {
    if (d->format == STGSSA_DATA_HDF5)
      PetscCall(PetscSNPrintf(part, sizeof(part), "%s%s", s ? ", " : "", d->names[s]));
    else
      PetscCall(PetscSNPrintf(part, sizeof(part), "%s%s->%s", s ? ", " : "", d->srcnames[s], d->names[s]));
    PetscCall(StgssaStrlcat(buf, part, len));
  }
  if (d->nwhere && d->format == STGSSA_DATA_CSV) {
    PetscCall(StgssaStrlcat(buf, "; rows where ", len));
    for (PetscInt k = 0; k < d->nwhere; k++) {
      PetscCall(PetscSNPrintf(part, sizeof(part), "%s%s=%s", k ? "," : "", d->wcol[k], d->wval[k]));
      PetscCall(StgssaStrlcat(buf, part, len));
    }
    PetscCall(PetscSNPrintf(part, sizeof(part), " (%" PetscInt64_FMT " of %" PetscInt64_FMT ")", d->nobs, d->nrows_file));
    PetscCall(StgssaStrlcat(buf, part, len));
  }
  for (PetscInt k = 0, first = 1; k < d->nmap; k++) /* dropped columns */
    if (!d->mapname[k][0]) {
      PetscCall(PetscSNPrintf(part, sizeof(part), "%s%s", first ? "; dropped " : ", ", d->mapcol[k]));
      PetscCall(StgssaStrlcat(buf, part, len));
      first = 0;
    }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaDataDestroy(StgssaData *data)
{
  PetscFunctionBegin;
  if (!*data) PetscFunctionReturn(0);
  PetscCall(StgssaDataReset(*data));
  PetscCall(StgssaDataFreeConfig(*data));
  PetscCall(PetscFree((*data)->known));
  PetscCall(PetscFree((*data)->known_what));
  PetscCall(PetscFree(*data));
  PetscFunctionReturn(0);
}
