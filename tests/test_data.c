/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Unit tests of StgssaData (src/io/data.c): -stgssa_data FILE in both formats, CSV of per-cell
  counts and the HDF5 written by simulate mode, and the errors of each. Runs on any number of
  ranks: rank 0 writes each temporary file and every rank loads it collectively and checks the
  same results (and the same error message). Quiet unless a test fails; exit status nonzero on
  failure.
*/
#include <stgssa/data.h>
#include <stgssa/stgssa.h>
#include <hdf5.h>

#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATHLEN 64

/* ---------------------------------------------------------------- helpers */

static int rank0(void)
{
  PetscMPIInt rank;
  ck_assert(!MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  return rank == 0;
}

/* Collective: rank 0 writes len bytes to a new file under /tmp; every rank gets its name. */
static void write_temp(const char *bytes, size_t len, char path[PATHLEN])
{
  char name[PATHLEN] = "/tmp/test_data_XXXXXX";

  if (rank0()) {
    int fd = mkstemp(name);
    ck_assert_msg(fd >= 0, "mkstemp: %s", strerror(errno));
    ck_assert_msg(write(fd, bytes, len) == (ssize_t)len, "write: %s", strerror(errno));
    ck_assert_int_eq(close(fd), 0);
  }
  ck_assert(!MPI_Bcast(name, PATHLEN, MPI_CHAR, 0, PETSC_COMM_WORLD));
  memcpy(path, name, PATHLEN);
}
#define WRITE_TEXT(text, path) write_temp(text, strlen(text), path)

/* Collective: a fresh temporary name (no file) for rank 0 to create. */
static void temp_name(char path[PATHLEN])
{
  write_temp("", 0, path);
}

/* Collective: remove a temporary file once every rank is done with it. */
static void remove_temp(const char path[])
{
  ck_assert(!MPI_Barrier(PETSC_COMM_WORLD));
  if (rank0()) (void)unlink(path);
}

static StgssaData load_ok(const char path[])
{
  StgssaData d;
  ck_assert(!StgssaDataCreate(PETSC_COMM_WORLD, &d));
  ck_assert_msg(!StgssaDataLoad(d, path), "loading %s failed", path);
  return d;
}

/* Load path expecting an error; returns its message in msg (every rank gets the same). */
static PetscErrorCode load_error(const char path[], char msg[], size_t n)
{
  StgssaData     d;
  PetscErrorCode ierr;
  char          *specific = NULL;

  ck_assert(!StgssaDataCreate(PETSC_COMM_WORLD, &d));
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = StgssaDataLoad(d, path);
  ck_assert(!PetscPopErrorHandler());
  msg[0] = 0;
  if (ierr) {
    ck_assert(!PetscErrorMessage(ierr, NULL, &specific));
    snprintf(msg, n, "%s", specific ? specific : "");
  }
  ck_assert(!StgssaDataDestroy(&d));
  ck_assert(d == NULL);
  return ierr;
}

/* The message starts with "path<where>" and contains every phrase. */
static void check_message(const char *ctx, const char path[], const char *msg, const char *where, const char *phrase1, const char *phrase2)
{
  char prefix[PATHLEN + 32];
  snprintf(prefix, sizeof prefix, "%s%s", path, where);
  ck_assert_msg(!strncmp(msg, prefix, strlen(prefix)), "%s: expected '%s' at the start of '%s'", ctx, prefix, msg);
  ck_assert_msg(strstr(msg, phrase1) != NULL, "%s: expected '%s' in '%s'", ctx, phrase1, msg);
  ck_assert_msg(!phrase2 || strstr(msg, phrase2) != NULL, "%s: expected '%s' in '%s'", ctx, phrase2, msg);
}

/* Histogram of species at time index i equals want[0..nb) with the given total. */
static void check_hist(StgssaData d, PetscInt i, const char *species, PetscInt nb, const double *want, double total)
{
  PetscInt         n;
  const PetscReal *c;
  PetscReal        tot;
  ck_assert(!StgssaDataGetHistogram(d, i, species, &n, &c, &tot));
  ck_assert_msg(n == nb, "%s at time %d: %d bins, expected %d", species, (int)i, (int)n, (int)nb);
  for (PetscInt b = 0; b < nb; b++)
    ck_assert_msg(c[b] == want[b], "%s at time %d: bin %d = %g, expected %g", species, (int)i, (int)b, (double)c[b], want[b]);
  ck_assert_msg(tot == total, "%s at time %d: total %g, expected %g", species, (int)i, (double)tot, total);
}

/* Moments equal want to within 1e-14 relative (two-pass long double, rounded to double). */
static void check_moments(StgssaData d, PetscInt i, const char *species, double m0, double m1, double m2)
{
  PetscReal    m[3];
  const double want[3] = {m0, m1, m2};
  ck_assert(!StgssaDataGetMoments(d, i, species, m));
  for (int k = 0; k < 3; k++)
    ck_assert_msg(fabs(m[k] - want[k]) <= 1e-14 * fmax(1.0, fabs(want[k])), "%s at time %d: moment %d = %.17g, expected %.17g", species, (int)i, k, (double)m[k], want[k]);
}

/* ---------------------------------------------------------------- CSV */

/* One time group (no time column). A = 0,1,1,2: mean 1, variance 2/4, third 0.
   B = 0,0,1,5: mean 1.5, deviations -1.5,-1.5,-0.5,3.5: variance 17/4, third 36/4. */
START_TEST(test_csv_no_time)
{
  char             path[PATHLEN];
  StgssaData       d;
  PetscInt         nt;
  const PetscReal *t;
  PetscBool        has;
  const double     a[3] = {1, 2, 1}, b[6] = {2, 1, 0, 0, 0, 1};

  WRITE_TEXT("# per-cell counts\nA, B\n0,0\n1,0\n1,1\n2,5\n", path);
  d = load_ok(path);
  ck_assert(!StgssaDataGetTimes(d, &nt, &t));
  ck_assert_int_eq(nt, 1);
  ck_assert(t[0] == -1);
  ck_assert(!StgssaDataHasSpecies(d, "A", &has) && has);
  ck_assert(!StgssaDataHasSpecies(d, "B", &has) && has);
  ck_assert(!StgssaDataHasSpecies(d, "C", &has) && !has);
  ck_assert(!StgssaDataHasSpecies(d, "time", &has) && !has);
  {
    PetscInt    ns;
    const char *name;
    ck_assert(!StgssaDataGetNumSpecies(d, &ns));
    ck_assert_int_eq(ns, 2);
    ck_assert(!StgssaDataGetSpeciesName(d, 1, &name));
    ck_assert_str_eq(name, "B");
  }
  check_hist(d, 0, "A", 3, a, 4);
  check_hist(d, 0, "B", 6, b, 4);
  check_moments(d, 0, "A", 1.0, 0.5, 0.0);
  check_moments(d, 0, "B", 1.5, 4.25, 9.0);
  ck_assert(!StgssaDataDestroy(&d));
  remove_temp(path);
}
END_TEST

/* Time column in the middle, CRLF line ends, comments (also indented), blank lines, spaces and
   tabs around fields, unsorted times, "1.50" grouped with "1.5", last line without a line end.
   t = 0:   M = 1,0     -> [1,1], mean 1/2, var 1/4, third 0;  P = 2,4 -> [0,0,1,0,1], mean 3, var 1, third 0
   t = 1.5: M = 3,2,4   -> [0,0,1,1,1], mean 3, var 2/3, third 0;  P = 0,0,1 -> [2,1], mean 1/3, var 2/9, third 2/27 */
START_TEST(test_csv_time)
{
  char             path[PATHLEN];
  StgssaData       d;
  PetscInt         nt;
  const PetscReal *t;
  const double     m0[2] = {1, 1}, p0[5] = {0, 0, 1, 0, 1}, m1[5] = {0, 0, 1, 1, 1}, p1[2] = {2, 1};

  WRITE_TEXT("# synthetic data\r\n\r\nM , time,\tP \r\n3, 1.5, 0\r\n1, 0, 2\r\n   # a comment\r\n2, 1.50, 0\r\n\t\r\n0, 0e0, 4\r\n4,1.5,1", path);
  d = load_ok(path);
  ck_assert(!StgssaDataGetTimes(d, &nt, &t));
  ck_assert_int_eq(nt, 2);
  ck_assert(t[0] == 0 && t[1] == 1.5);
  check_hist(d, 0, "M", 2, m0, 2);
  check_hist(d, 0, "P", 5, p0, 2);
  check_hist(d, 1, "M", 5, m1, 3);
  check_hist(d, 1, "P", 2, p1, 3);
  check_moments(d, 0, "M", 0.5, 0.25, 0.0);
  check_moments(d, 0, "P", 3.0, 1.0, 0.0);
  check_moments(d, 1, "M", 3.0, 2.0 / 3.0, 0.0);
  check_moments(d, 1, "P", 1.0 / 3.0, 2.0 / 9.0, 2.0 / 27.0);
  ck_assert(!StgssaDataDestroy(&d));
  remove_temp(path);
}
END_TEST

/* Loading again replaces the data; lookups of unknown species and times fail with a clear message;
   View reports file, format, species, times and cells per time. */
START_TEST(test_csv_reload_and_queries)
{
  char             p1[PATHLEN], p2[PATHLEN], pv[PATHLEN], msg[1024], *specific, text[4096] = "";
  StgssaData       d;
  PetscInt         nt, nb;
  const PetscReal *t, *c;
  PetscReal        tot, m[3];
  PetscErrorCode   ierr;
  PetscBool        has;
  PetscViewer      v;
  const double     x[2] = {0, 2};

  WRITE_TEXT("A\n7\n", p1);
  WRITE_TEXT("time,X\n2,1\n2,1\n5,0\n", p2);
  d = load_ok(p1);
  ck_assert(!StgssaDataLoad(d, p2));
  ck_assert(!StgssaDataGetTimes(d, &nt, &t));
  ck_assert_int_eq(nt, 2);
  ck_assert(t[0] == 2 && t[1] == 5);
  ck_assert(!StgssaDataHasSpecies(d, "A", &has) && !has);
  check_hist(d, 0, "X", 2, x, 2);

  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = StgssaDataGetHistogram(d, 0, "A", &nb, &c, &tot);
  ck_assert(!PetscPopErrorHandler());
  ck_assert(ierr);
  ck_assert(!PetscErrorMessage(ierr, NULL, &specific));
  snprintf(msg, sizeof msg, "%s", specific);
  check_message("unknown species", p2, msg, ": ", "'A'", "the data has: X");
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = StgssaDataGetMoments(d, 2, "X", m);
  ck_assert(!PetscPopErrorHandler());
  ck_assert(ierr);
  ck_assert(!PetscErrorMessage(ierr, NULL, &specific));
  snprintf(msg, sizeof msg, "%s", specific);
  check_message("time out of range", p2, msg, ": ", "time index 2", "0..1");

  temp_name(pv);
  ck_assert(!PetscViewerASCIIOpen(PETSC_COMM_WORLD, pv, &v));
  ck_assert(!StgssaDataView(d, v));
  ck_assert(!PetscViewerDestroy(&v));
  if (rank0()) {
    FILE  *fp = fopen(pv, "r");
    size_t got;
    ck_assert(fp != NULL);
    got       = fread(text, 1, sizeof text - 1, fp);
    text[got] = 0;
    fclose(fp);
    ck_assert_msg(strstr(text, p2) && strstr(text, "CSV") && strstr(text, "1 species: X") && strstr(text, "2 times") && strstr(text, "t = 2: 2 cells") && strstr(text, "t = 5: 1 cells") && strstr(text, "columns time->time, X->X"), "view:\n%s", text);
  }
  ck_assert(!StgssaDataDestroy(&d));
  remove_temp(p1);
  remove_temp(p2);
  remove_temp(pv);
}
END_TEST

/* Each error class: file content, "where" after the file name, and two phrases of the message. */
static const struct {
  const char *text;
  size_t      len; /* 0: strlen(text) */
  const char *where, *phrase1, *phrase2;
} csv_errors[] = {
    /* clang-format off */
  {"",                                      0,  ":1: ", "empty file",          "header"                      },
  {"# only a comment\n\n  \n",              0,  ":3: ", "only comments",       "expected a header"           },
  {"A,B,A\n1,2,3\n",                        0,  ":1: ", "'A' twice",           "distinct column names"       },
  {"time,A,time\n1,2,3\n",                  0,  ":1: ", "'time' twice",        "distinct"                    },
  {"A,2x\n1,2\n",                           0,  ":1: ", "'2x'",                "species names"               },
  {"A,,B\n1,2,3\n",                         0,  ":1: ", "empty column name",   "column 2"                    },
  {"A B\n1\n",                              0,  ":1: ", "'A B'",               "[A-Za-z_][A-Za-z0-9_]*"      },
  {"A123456789012345678901234567890123456789012345678901234567890123\n1\n",
                                            0,  ":1: ", "of 64 bytes",         "at most 63"                  },
  {"time\n1\n",                             0,  ":1: ", "no count column among time", "at least one species" },
  {"A,B\n1,2\n# c\n1\n",                    0,  ":4: ", "found 1 field;",      "expected 2"                  },
  {"A,B\n1,2\n1,2,3\n",                     0,  ":3: ", "found 3 fields",      "expected 2"                  },
  {"A\n1\n1.5\n",                           0,  ":3: ", "'1.5' in column 'A'", "nonnegative integer count"   },
  {"A\nx\n",                                0,  ":2: ", "'x' in column 'A'",   "nonnegative integer count"   },
  {"A,B\n1,\n",                             0,  ":2: ", "empty field in column 'B'", "integer count"         },
  {"A\r\n-3\r\n",                           0,  ":2: ", "negative count '-3'", "nonnegative integer count"   },
  {"A\n99999999999999999999999999\n",       0,  ":2: ", "too large",           "at most 1073741823"          },
  {"A\n1073741824\n",                       0,  ":2: ", "too large",           "at most 1073741823"          },
  {"A,time\n1,abc\n",                       0,  ":2: ", "'abc' in column 'time'", "finite nonnegative time"  },
  {"A,time\n1,-2\n",                        0,  ":2: ", "'-2' in column 'time'", "finite nonnegative time"   },
  {"A,time\n1,nan\n",                       0,  ":2: ", "'nan' in column 'time'", "finite nonnegative time"  },
  {"A,time\n1,1e999\n",                     0,  ":2: ", "'1e999'",             "finite nonnegative time"     },
  {"A,time\n1,\n",                          0,  ":2: ", "empty field in column 'time'", "time"             },
  {"A,B\n# no cells\n\n",                   0,  ":1: ", "no data rows",        "one line of counts per cell" },
  {"A\n1\n2\0\n",                           8,  ":3: ", "NUL byte",            "text file"                   },
    /* clang-format on */
};
#define NCSV_ERRORS ((int)(sizeof(csv_errors) / sizeof(csv_errors[0])))

START_TEST(test_csv_error)
{
  char           path[PATHLEN], msg[1024], ctx[64];
  PetscErrorCode ierr;
  const char    *text = csv_errors[_i].text;

  write_temp(text, csv_errors[_i].len ? csv_errors[_i].len : strlen(text), path);
  ierr = load_error(path, msg, sizeof msg);
  remove_temp(path);
  snprintf(ctx, sizeof ctx, "csv_errors[%d]", _i);
  ck_assert_msg(ierr == PETSC_ERR_FILE_UNEXPECTED, "%s: error code %d, expected PETSC_ERR_FILE_UNEXPECTED; message '%s'", ctx, (int)ierr, msg);
  check_message(ctx, path, msg, csv_errors[_i].where, csv_errors[_i].phrase1, csv_errors[_i].phrase2);
}
END_TEST

START_TEST(test_missing_file)
{
  char           path[PATHLEN], msg[1024];
  PetscErrorCode ierr;

  temp_name(path);
  remove_temp(path);
  ierr = load_error(path, msg, sizeof msg);
  ck_assert_msg(ierr == PETSC_ERR_FILE_OPEN, "error code %d; message '%s'", (int)ierr, msg);
  check_message("missing file", path, msg, ": ", "cannot open data file", "No such file");
  ierr = load_error("/tmp", msg, sizeof msg);
  ck_assert_msg(ierr, "reading a directory succeeded");
  check_message("directory", "/tmp", msg, ": ", "cannot", "directory");
}
END_TEST

/* ---------------------------------------------------------------- HDF5 */

static void h5_dataset(hid_t loc, const char *name, int rank, const hsize_t *dims, const double *v)
{
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE), space, dset;
  ck_assert(lcpl >= 0 && H5Pset_create_intermediate_group(lcpl, 1) >= 0);
  ck_assert((space = H5Screate_simple(rank, dims, NULL)) >= 0);
  ck_assert((dset = H5Dcreate2(loc, name, H5T_IEEE_F64LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT)) >= 0);
  ck_assert(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
  ck_assert(H5Dclose(dset) >= 0 && H5Sclose(space) >= 0 && H5Pclose(lcpl) >= 0);
}

static void h5_attr_doubles(hid_t loc, const char *obj, const char *name, hsize_t n, const double *v)
{
  hid_t space, attr;
  ck_assert((space = H5Screate_simple(1, &n, NULL)) >= 0);
  ck_assert((attr = H5Acreate_by_name(loc, obj, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) >= 0);
  ck_assert(H5Awrite(attr, H5T_NATIVE_DOUBLE, v) >= 0);
  ck_assert(H5Aclose(attr) >= 0 && H5Sclose(space) >= 0);
}

/* The moments written to the file; deliberately not those of the histograms (the third moment
   is off), so the test sees that they are taken from the file, not recomputed. */
static const double h5_mom_A[6] = {0.7, 0.61, 0.125, 2.0, 1.0, -0.5};
static const double h5_mom_B[6] = {0.0, 0.0, 0.0, 1.1, 0.49, 0.25};

/* Variants of the simulate layout written by h5_write. */
enum { H5_GOOD, H5_TAIL, H5_NO_SIMULATE, H5_NOT_INTEGER, H5_NO_MOMENTS };

/* Collective: rank 0 writes the simulate layout with ntraj = 10, times {1, 2.5}, species B and A
   (created in that order; read in name order):
     A: t=1 counts [5,3,2,0] (p = .5,.3,.2,0: a trailing empty bin), t=2.5 counts [1,2,3,4]
     B: t=1 counts [10,0,0],  t=2.5 counts [2,5,3]                                         */
static void h5_write(int variant, char path[PATHLEN])
{
  temp_name(path);
  if (rank0()) {
    const double  times[2] = {1.0, 2.5}, zero[2] = {0, 0}, tail[2] = {0, 0.1};
    const double  hA[8]     = {0.5, 0.3, 0.2, 0.0, 0.1, 0.2, 0.3, 0.4};
    const double  hA_bad[8] = {0.5, 0.33, 0.17, 0.0, 0.1, 0.2, 0.3, 0.4};
    const double  hB[6]     = {1.0, 0.0, 0.0, 0.2, 0.5, 0.3};
    const hsize_t dt[1] = {2}, dA[2] = {2, 4}, dB[2] = {2, 3}, dm[2] = {2, 3};
    const int64_t ntraj = 10;
    hid_t         file, run, space, attr;

    ck_assert((file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) >= 0);
    ck_assert((run = H5Gcreate2(file, "run", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) >= 0);
    ck_assert((space = H5Screate(H5S_SCALAR)) >= 0);
    ck_assert((attr = H5Acreate2(run, "ntraj", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT)) >= 0);
    ck_assert(H5Awrite(attr, H5T_NATIVE_INT64, &ntraj) >= 0);
    ck_assert(H5Aclose(attr) >= 0 && H5Sclose(space) >= 0 && H5Gclose(run) >= 0);
    if (variant != H5_NO_SIMULATE) {
      h5_dataset(file, "simulate/times", 1, dt, times);
      h5_dataset(file, "simulate/histograms/B", 2, dB, hB);
      h5_attr_doubles(file, "simulate/histograms/B", "tail_mass", 2, zero);
      h5_dataset(file, "simulate/histograms/A", 2, dA, variant == H5_NOT_INTEGER ? hA_bad : hA);
      h5_attr_doubles(file, "simulate/histograms/A", "tail_mass", 2, variant == H5_TAIL ? tail : zero);
      h5_dataset(file, "simulate/moments/B", 2, dm, h5_mom_B);
      if (variant != H5_NO_MOMENTS) h5_dataset(file, "simulate/moments/A", 2, dm, h5_mom_A);
    }
    ck_assert(H5Fclose(file) >= 0);
  }
  ck_assert(!MPI_Barrier(PETSC_COMM_WORLD));
}

START_TEST(test_hdf5_simulate)
{
  char             path[PATHLEN];
  StgssaData       d;
  PetscInt         nt, ns;
  const PetscReal *t;
  const char      *name;
  PetscBool        has;
  const double     a0[3] = {5, 3, 2}, a1[4] = {1, 2, 3, 4}, b0[1] = {10}, b1[3] = {2, 5, 3};

  h5_write(H5_GOOD, path);
  d = load_ok(path);
  ck_assert(!StgssaDataGetTimes(d, &nt, &t));
  ck_assert_int_eq(nt, 2);
  ck_assert(t[0] == 1.0 && t[1] == 2.5);
  ck_assert(!StgssaDataGetNumSpecies(d, &ns));
  ck_assert_int_eq(ns, 2);
  ck_assert(!StgssaDataGetSpeciesName(d, 0, &name));
  ck_assert_str_eq(name, "A");
  ck_assert(!StgssaDataHasSpecies(d, "B", &has) && has);
  ck_assert(!StgssaDataHasSpecies(d, "C", &has) && !has);
  check_hist(d, 0, "A", 3, a0, 10);
  check_hist(d, 1, "A", 4, a1, 10);
  check_hist(d, 0, "B", 1, b0, 10);
  check_hist(d, 1, "B", 3, b1, 10);
  for (PetscInt i = 0; i < 2; i++) {
    PetscReal m[3];
    ck_assert(!StgssaDataGetMoments(d, i, "A", m));
    for (int k = 0; k < 3; k++)
      ck_assert(m[k] == h5_mom_A[3 * i + k]);
    ck_assert(!StgssaDataGetMoments(d, i, "B", m));
    for (int k = 0; k < 3; k++)
      ck_assert(m[k] == h5_mom_B[3 * i + k]);
  }
  ck_assert(!StgssaDataDestroy(&d));
  remove_temp(path);
}
END_TEST

START_TEST(test_hdf5_tail_mass_refused)
{
  char           path[PATHLEN], msg[1024];
  PetscErrorCode ierr;

  h5_write(H5_TAIL, path);
  ierr = load_error(path, msg, sizeof msg);
  remove_temp(path);
  ck_assert_msg(ierr == PETSC_ERR_FILE_UNEXPECTED, "error code %d; message '%s'", (int)ierr, msg);
  check_message("tail_mass", path, msg, ": dataset /simulate/histograms/A: ", "tail_mass = 0.1 at time index 1 (t = 2.5)", "-stgssa_hist_bins");
}
END_TEST

START_TEST(test_hdf5_errors)
{
  char           path[PATHLEN], msg[1024];
  PetscErrorCode ierr;

  h5_write(H5_NO_SIMULATE, path);
  ierr = load_error(path, msg, sizeof msg);
  remove_temp(path);
  ck_assert(ierr == PETSC_ERR_FILE_UNEXPECTED);
  check_message("no /simulate", path, msg, ": ", "no group /simulate", "-stgssa_mode simulate");

  h5_write(H5_NOT_INTEGER, path);
  ierr = load_error(path, msg, sizeof msg);
  remove_temp(path);
  ck_assert(ierr == PETSC_ERR_FILE_UNEXPECTED);
  check_message("not integer", path, msg, ": dataset /simulate/histograms/A: ", "not an integer", "time index 0");

  h5_write(H5_NO_MOMENTS, path);
  ierr = load_error(path, msg, sizeof msg);
  remove_temp(path);
  ck_assert(ierr == PETSC_ERR_FILE_UNEXPECTED);
  check_message("no moments", path, msg, ": dataset /simulate/moments/A: ", "missing", "[T x 3]");

  /* the HDF5 signature followed by garbage */
  write_temp("\x89HDF\r\n\x1a\nnot really an HDF5 file", 31, path);
  ierr = load_error(path, msg, sizeof msg);
  remove_temp(path);
  ck_assert(ierr == PETSC_ERR_FILE_OPEN);
  check_message("corrupt", path, msg, ": ", "cannot open", "HDF5");
}
END_TEST

/* ---------------------------------------------------------------- column roles (issue 15) */

/* Load path with a column map, a row filter and known names (any may be empty); ierr returned,
   message in msg; on success *out holds the data (else NULL). */
static PetscErrorCode load_with(const char path[], const char *map, const char *where, const char *known, StgssaData *out, char msg[], size_t n)
{
  StgssaData     d;
  PetscErrorCode ierr;
  char           buf[3][512], *item[3][16], *val[3][16];
  int            cnt[3]  = {0, 0, 0};
  const char    *spec[3] = {map, where, known};

  for (int k = 0; k < 3; k++) { /* "a=b,c=d" (or "a,b" for known names) split in place */
    char *save = NULL, *tok;
    if (!spec[k]) continue;
    snprintf(buf[k], sizeof buf[k], "%s", spec[k]);
    for (tok = strtok_r(buf[k], ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      char *eq = strchr(tok, '=');
      if (eq) *eq = 0;
      item[k][cnt[k]] = tok;
      val[k][cnt[k]]  = eq ? eq + 1 : tok;
      cnt[k]++;
    }
  }
  ck_assert(!StgssaDataCreate(PETSC_COMM_WORLD, &d));
  if (map) ck_assert(!StgssaDataSetColumnMap(d, cnt[0], (const char *const *)item[0], (const char *const *)val[0]));
  if (where) ck_assert(!StgssaDataSetWhere(d, cnt[1], (const char *const *)item[1], (const char *const *)val[1]));
  if (known) ck_assert(!StgssaDataSetKnownNames(d, cnt[2], (const char *const *)item[2], "species of the model test.model"));
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = StgssaDataLoad(d, path);
  ck_assert(!PetscPopErrorHandler());
  msg[0] = 0;
  if (ierr) {
    char *specific = NULL;
    ck_assert(!PetscErrorMessage(ierr, NULL, &specific));
    snprintf(msg, n, "%s", specific ? specific : "");
    ck_assert(!StgssaDataDestroy(&d));
  }
  *out = d;
  return ierr;
}

/* The time column by name, ignoring case: time, Time, TIME, t, T; a model species named T is data. */
START_TEST(test_csv_time_case)
{
  const char *heads[5] = {"time", "Time", "TIME", "t", "T"};
  for (int k = 0; k < 5; k++) {
    char             path[PATHLEN], text[64], msg[512];
    StgssaData       d;
    PetscInt         nt;
    const PetscReal *t;
    const double     h0[2] = {1, 1}, h1[4] = {0, 0, 0, 1};
    snprintf(text, sizeof text, "M,%s\n0,2\n1,2\n3,7.5\n", heads[k]);
    WRITE_TEXT(text, path);
    ck_assert_msg(!load_with(path, NULL, NULL, k % 2 ? "M" : NULL, &d, msg, sizeof msg), "%s: %s", heads[k], msg);
    ck_assert(!StgssaDataGetTimes(d, &nt, &t));
    ck_assert_msg(nt == 2 && t[0] == 2 && t[1] == 7.5, "%s: %d times", heads[k], (int)nt);
    check_hist(d, 0, "M", 2, h0, 2);
    check_hist(d, 1, "M", 4, h1, 1);
    ck_assert(!StgssaDataDestroy(&d));
    remove_temp(path);
  }
  { /* a species named T (known) is data, not time */
    char             path[PATHLEN], msg[512];
    StgssaData       d;
    PetscInt         nt;
    const PetscReal *t;
    PetscBool        has;
    WRITE_TEXT("time,T\n1,4\n", path);
    ck_assert_msg(!load_with(path, NULL, NULL, "T,M", &d, msg, sizeof msg), "%s", msg);
    ck_assert(!StgssaDataGetTimes(d, &nt, &t) && nt == 1 && t[0] == 1);
    ck_assert(!StgssaDataHasSpecies(d, "T", &has) && has);
    ck_assert(!StgssaDataDestroy(&d));
    remove_temp(path);
  }
}
END_TEST

/* Time,rna,replica with rna=M and replica=1: only replica-1 rows, the column named M; the summary
   line names the columns and the filter. Another filter value and a dropped column too.
   replica 1: t=0: M = 2,0 ; t=5: M = 1.  replica 2: t=0: M = 9 ; t=5: M = 3,3 */
START_TEST(test_csv_map_where)
{
  char             path[PATHLEN], msg[512], sum[512];
  StgssaData       d;
  PetscInt         nt, ns;
  PetscInt64       nobs;
  const PetscReal *t;
  const char      *name;
  PetscBool        has;
  const double     a0[3] = {1, 0, 1}, a1[2] = {0, 1}, b0[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, b1[4] = {0, 0, 0, 2};

  WRITE_TEXT("\"Time\",\"rna\",replica\n0,2,1\n0,9,2\n5,1,1\n0,0,1\n5,3,2\n5,3,2\n", path);
  ck_assert_msg(!load_with(path, "rna=M", "replica=1", "G,M", &d, msg, sizeof msg), "%s", msg);
  ck_assert(!StgssaDataGetTimes(d, &nt, &t) && nt == 2 && t[0] == 0 && t[1] == 5);
  ck_assert(!StgssaDataGetNumSpecies(d, &ns) && ns == 1);
  ck_assert(!StgssaDataGetSpeciesName(d, 0, &name));
  ck_assert_str_eq(name, "M");
  ck_assert(!StgssaDataHasSpecies(d, "rna", &has) && !has);
  ck_assert(!StgssaDataHasSpecies(d, "replica", &has) && !has);
  ck_assert(!StgssaDataGetNumObservations(d, &nobs) && nobs == 3);
  check_hist(d, 0, "M", 3, a0, 2);
  check_hist(d, 1, "M", 2, a1, 1);
  ck_assert(!StgssaDataGetSummary(d, sum, sizeof sum));
  ck_assert_msg(strstr(sum, "2 times 0..5 (1-2 cells per time, 3 cells), columns Time->time, rna->M; rows where replica=1 (3 of 6)") != NULL, "summary: %s", sum);
  ck_assert(!StgssaDataDestroy(&d));

  ck_assert_msg(!load_with(path, "rna=M", "replica=2", "M", &d, msg, sizeof msg), "%s", msg);
  check_hist(d, 0, "M", 10, b0, 1);
  check_hist(d, 1, "M", 4, b1, 2);
  ck_assert(!StgssaDataDestroy(&d));

  /* replica dropped: all 6 rows; a column mapped to time */
  ck_assert_msg(!load_with(path, "rna=M,replica=", NULL, "M", &d, msg, sizeof msg), "%s", msg);
  ck_assert(!StgssaDataGetNumObservations(d, &nobs) && nobs == 6);
  ck_assert(!StgssaDataGetSummary(d, sum, sizeof sum));
  ck_assert_msg(strstr(sum, "; dropped replica") != NULL, "summary: %s", sum);
  ck_assert(!StgssaDataDestroy(&d));
  remove_temp(path);

  /* filtering on the time column keeps it the time column: one time, 30 */
  WRITE_TEXT("Time,M\n0,1\n30,2\n30,3\n", path);
  ck_assert_msg(!load_with(path, NULL, "Time=30", "M", &d, msg, sizeof msg), "%s", msg);
  ck_assert(!StgssaDataGetTimes(d, &nt, &t) && nt == 1 && t[0] == 30);
  ck_assert(!StgssaDataGetNumObservations(d, &nobs) && nobs == 2);
  ck_assert(!StgssaDataDestroy(&d));
  remove_temp(path);

  WRITE_TEXT("minutes,M,cond,rep\n1,4,a,x\n2,5,b,x\n2,6,a,x\n2,7,a,y\n", path);
  ck_assert_msg(!load_with(path, "minutes=time", "cond=a,rep=x", "M", &d, msg, sizeof msg), "%s", msg);
  ck_assert(!StgssaDataGetTimes(d, &nt, &t) && nt == 2 && t[0] == 1 && t[1] == 2);
  ck_assert(!StgssaDataGetNumObservations(d, &nobs) && nobs == 2);
  ck_assert(!StgssaDataDestroy(&d));
  remove_temp(path);
}
END_TEST

/* Errors of the column roles: the file and header line, the column(s), and what to do. */
static const struct {
  const char *text, *map, *where, *known, *phrase1, *phrase2;
} role_errors[] = {
    /* clang-format off */
  {"Time,rna,replica\n0,1,1\n", NULL,      NULL,         "M,G", "found columns 'rna', 'replica', which are not among the species of the model test.model (M, G)", "-stgssa_data_columns FILECOL=NAME"},
  {"time,M,replica\n0,1,1\n",   NULL,      NULL,         "M,G", "found column 'replica', which is not among", "-stgssa_data_where COL=VALUE"},
  {"time,rna\n0,1\n",           "rna=X",   NULL,         "M,G", "-stgssa_data_columns rna=X: 'X' is not among the species", "rna= drops the column"},
  {"time,M\n0,1\n",             "rna=M",   NULL,         "M",   "found no column 'rna' of -stgssa_data_columns rna=M", "(time, M)"},
  {"time,M\n0,1\n",             NULL,      "replica=1",  "M",   "found no column 'replica' of -stgssa_data_where replica=1", "(time, M)"},
  {"time,M,replica\n0,1,1\n0,2,2\n", NULL, "replica=3",  "M",   "keeps none of the 2 data rows: no row has replica='3'", "holds '1', '2'"},
  {"time,M,a,b\n0,1,x,y\n0,2,z,w\n", NULL, "a=x,b=w",    "M",   "each pair matches some row, but no row matches all", "a=x,b=w"},
  {"time,M,rep\n0,1,1\n",       "rep=M",   "rep=1",      "M",   "column 'rep' is both a filter", "-stgssa_data_columns"},
  {"time,M,rna\n0,1,2\n",       "rna=M",   NULL,         "M",   "columns 'rna' and 'M' both give 'M'", "one column per name"},
  {"time,T,M\n0,1,2\n",         NULL,      NULL,         "M",   "found two time columns, 'time' (column 1) and 'T' (column 2)", "-stgssa_data_columns T=NAME"},
  {"a,b,M\n0,1,2\n",            "a=time,b=time", NULL,   "M",   "maps two columns to time ('a' and 'b')", "one time column"},
  /* no known names: every other column is data (rep too) */
  {"time,M,rep\n0,1,1\n0,x,2\n", NULL,     NULL,         NULL,  ":3: found 'x' in column 'M'", "nonnegative integer count"},
  {"Time,M\n0,1\n-1,2\n",       NULL,      NULL,         "M",   ":3: found '-1' in column 'Time'", "finite nonnegative time"},
  {"time,rep\n0,1\n",           NULL,      "rep=1",      NULL,  "found no count column among time, rep", "at least one species column"},
    /* clang-format on */
};
#define NROLE_ERRORS ((int)(sizeof(role_errors) / sizeof(role_errors[0])))

START_TEST(test_csv_role_error)
{
  char           path[PATHLEN], msg[1024], ctx[64], prefix[PATHLEN + 8];
  StgssaData     d;
  PetscErrorCode ierr;

  WRITE_TEXT(role_errors[_i].text, path);
  ierr = load_with(path, role_errors[_i].map, role_errors[_i].where, role_errors[_i].known, &d, msg, sizeof msg);
  remove_temp(path);
  snprintf(ctx, sizeof ctx, "role_errors[%d]", _i);
  ck_assert_msg(ierr == PETSC_ERR_FILE_UNEXPECTED, "%s: error code %d; message '%s'", ctx, (int)ierr, msg);
  snprintf(prefix, sizeof prefix, "%s:", path);
  ck_assert_msg(!strncmp(msg, prefix, strlen(prefix)), "%s: expected '%s' at the start of '%s'", ctx, prefix, msg);
  ck_assert_msg(strstr(msg, role_errors[_i].phrase1) != NULL, "%s: expected '%s' in '%s'", ctx, role_errors[_i].phrase1, msg);
  ck_assert_msg(!role_errors[_i].phrase2 || strstr(msg, role_errors[_i].phrase2) != NULL, "%s: expected '%s' in '%s'", ctx, role_errors[_i].phrase2, msg);
}
END_TEST

/* A map or filter with HDF5 data is an error; option syntax errors name the entry. */
START_TEST(test_roles_misuse)
{
  char           path[PATHLEN], msg[1024];
  StgssaData     d;
  PetscErrorCode ierr;
  const char    *bad[1] = {"2x"}, *val[1] = {"M"};

  h5_write(H5_GOOD, path);
  ierr = load_with(path, "A=M", NULL, NULL, &d, msg, sizeof msg);
  remove_temp(path);
  ck_assert_msg(ierr == PETSC_ERR_FILE_UNEXPECTED && strstr(msg, "apply to CSV columns only"), "'%s'", msg);

  ck_assert(!StgssaDataCreate(PETSC_COMM_WORLD, &d));
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = StgssaDataSetColumnMap(d, 1, bad, val);
  ck_assert(!PetscPopErrorHandler());
  ck_assert(ierr == PETSC_ERR_ARG_WRONG);
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ck_assert(!PetscOptionsSetValue(NULL, "-stgssa_data_where", "replica"));
  ierr = StgssaDataSetFromOptions(d);
  ck_assert(!PetscOptionsClearValue(NULL, "-stgssa_data_where"));
  ck_assert(!PetscPopErrorHandler());
  {
    char *specific = NULL;
    ck_assert(ierr == PETSC_ERR_ARG_WRONG);
    ck_assert(!PetscErrorMessage(ierr, NULL, &specific));
    ck_assert_msg(strstr(specific, "-stgssa_data_where: found 'replica'; expected COL=VALUE") != NULL, "'%s'", specific);
  }
  ck_assert(!StgssaDataDestroy(&d));
}
END_TEST

/* Data times become sample times: united with -stgssa_sample_times (a time within 1e-9 relative
   is one time); tfinal defaults to the last of them; a given tfinal before the last data time is
   an error naming both; stationary data (time -1) leaves the sampling as it was. */
START_TEST(test_time_union)
{
  const char     *text = "begin species\n  M 0\nend species\nbegin reactions\n  0 -> M  1\n  M -> 0  1\nend reactions\n";
  StgssaModel     model;
  StgssaEnsemble  e;
  StgssaSampling  smp;
  const PetscReal data[3] = {0, 2, 5}, given[3] = {1, 2.0000000001, 7}, stationary[1] = {-1};
  PetscBool       tset;
  PetscInt        nreq, nd;
  PetscErrorCode  ierr;

  ck_assert(!StgssaModelCreate(PETSC_COMM_WORLD, &model));
  ck_assert(!StgssaModelLoadFromString(model, text, "union.model"));
  ck_assert(!StgssaEnsembleCreate(PETSC_COMM_WORLD, &e));
  ck_assert(!StgssaEnsembleSetModel(e, model));
  ck_assert(!StgssaEnsembleSetDataTimes(e, 3, data, "d.csv"));
  ck_assert(!StgssaEnsembleGetSampling(e, &smp));
  ck_assert(smp.nsample == 3 && smp.sample_times[0] == 0 && smp.sample_times[1] == 2 && smp.sample_times[2] == 5);
  ck_assert(smp.tfinal == 5);
  ck_assert(!StgssaEnsembleGetRequestedTimes(e, &tset, &nreq, &nd) && !tset && nreq == 0 && nd == 3);

  /* union with given times; tfinal = last of the union (7) when not given, or the given one */
  ck_assert(!StgssaEnsembleSetTimes(e, 8, 3, given));
  ck_assert(!StgssaEnsembleGetSampling(e, &smp));
  ck_assert_msg(smp.nsample == 5, "%d sample times", (int)smp.nsample);
  ck_assert(smp.sample_times[0] == 0 && smp.sample_times[1] == 1 && smp.sample_times[2] == 2 && smp.sample_times[3] == 5 && smp.sample_times[4] == 7);
  ck_assert(smp.tfinal == 8);

  /* tfinal before the last data time */
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = StgssaEnsembleSetTimes(e, 4, 0, NULL);
  ck_assert(!PetscPopErrorHandler());
  ck_assert(ierr == PETSC_ERR_ARG_OUTOFRANGE);
  {
    char *specific = NULL;
    ck_assert(!PetscErrorMessage(ierr, NULL, &specific));
    ck_assert_msg(strstr(specific, "-stgssa_tfinal 4 is before the last data time 5 of d.csv") != NULL, "'%s'", specific);
  }
  ck_assert(!StgssaEnsembleDestroy(&e));

  /* stationary data: the sampling of the options (default: tfinal 10, one sample time) */
  ck_assert(!StgssaEnsembleCreate(PETSC_COMM_WORLD, &e));
  ck_assert(!StgssaEnsembleSetModel(e, model));
  ck_assert(!StgssaEnsembleSetDataTimes(e, 1, stationary, "s.csv"));
  ck_assert(!StgssaEnsembleGetSampling(e, &smp));
  ck_assert(smp.nsample == 1 && smp.sample_times[0] == 10 && smp.tfinal == 10);
  ck_assert(!StgssaEnsembleDestroy(&e));

  /* data only at time 0 and no tfinal */
  {
    const PetscReal zero[1] = {0};
    ck_assert(!StgssaEnsembleCreate(PETSC_COMM_WORLD, &e));
    ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = StgssaEnsembleSetDataTimes(e, 1, zero, "z.csv");
    ck_assert(!PetscPopErrorHandler());
    ck_assert(ierr == PETSC_ERR_ARG_WRONG);
    ck_assert(!StgssaEnsembleDestroy(&e));
  }
  ck_assert(!StgssaModelDestroy(&model));
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s   = suite_create("data");
  TCase   *csv = tcase_create("csv"), *h5 = tcase_create("hdf5");
  SRunner *sr;
  int      failed;

  if (PetscInitialize(&argc, &argv, NULL, NULL)) return EXIT_FAILURE;
  tcase_add_test(csv, test_csv_no_time);
  tcase_add_test(csv, test_csv_time);
  tcase_add_test(csv, test_csv_reload_and_queries);
  tcase_add_loop_test(csv, test_csv_error, 0, NCSV_ERRORS);
  tcase_add_test(csv, test_missing_file);
  tcase_add_test(csv, test_csv_time_case);
  tcase_add_test(csv, test_csv_map_where);
  tcase_add_loop_test(csv, test_csv_role_error, 0, NROLE_ERRORS);
  tcase_add_test(csv, test_roles_misuse);
  tcase_add_test(csv, test_time_union);
  tcase_add_test(h5, test_hdf5_simulate);
  tcase_add_test(h5, test_hdf5_tail_mass_refused);
  tcase_add_test(h5, test_hdf5_errors);
  suite_add_tcase(s, csv);
  suite_add_tcase(s, h5);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK); /* MPI must not be used across fork() */
  srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY: the suite sets normal, so the Checks line shows */
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (PetscFinalize()) return EXIT_FAILURE;
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
