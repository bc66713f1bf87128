/* SPDX-License-Identifier: BSD-2-Clause */
/* Atomic HDF5 output: temporary file, fsync, rename (DESIGN.md section 6). */
#include <stgssa/stgssa.h>
#include <stgssa/output.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "../stgssa_impl.h"

/* Directory part of path into dir (size n). */
static PetscErrorCode StgssaPathDir(const char path[], char dir[], size_t n)
{
  char tmp[PETSC_MAX_PATH_LEN];

  PetscFunctionBegin;
  PetscCall(PetscStrncpy(tmp, path, sizeof(tmp)));
  PetscCall(PetscStrncpy(dir, dirname(tmp), n));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOutputCheckPath(MPI_Comm comm, const char path[])
{
  PetscMPIInt rank;
  char        reason[PETSC_MAX_PATH_LEN + 256] = "";

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    char dir[PETSC_MAX_PATH_LEN];
    PetscCall(StgssaPathDir(path, dir, sizeof(dir)));
    if (!path[0] || path[strlen(path) - 1] == '/') PetscCall(PetscSNPrintf(reason, sizeof(reason), "output '%s': expected a file name, not a directory", path));
    else if (strlen(path) + 32 >= PETSC_MAX_PATH_LEN) PetscCall(PetscSNPrintf(reason, sizeof(reason), "output '%s': path too long", path));
    else if (access(dir, F_OK)) PetscCall(PetscSNPrintf(reason, sizeof(reason), "output '%s': directory '%s' does not exist", path, dir));
    else if (access(dir, W_OK | X_OK)) PetscCall(PetscSNPrintf(reason, sizeof(reason), "output '%s': directory '%s' is not writable: %s", path, dir, strerror(errno)));
  }
  PetscCallMPI(MPI_Bcast(reason, sizeof(reason), MPI_CHAR, 0, comm));
  PetscCheck(!reason[0], comm, PETSC_ERR_FILE_OPEN, "%s", reason);
  PetscFunctionReturn(0);
}

/* Make the renamed file durable: fsync the file, then its directory. */
static int StgssaFsyncPath(const char path[], int directory)
{
  int fd = open(path, directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  int rc;
  if (fd < 0) return -1;
  rc = fsync(fd);
  if (close(fd)) rc = -1;
  return rc;
}

/* Test hook for fault injection (tests/faults.sh), off unless the environment sets it:
   STGSSA_FAULT_WRITE_FAIL=N makes the N-th atomic write of this process (counting from 1; only
   rank 0 of a run writes) fail after its temporary file is complete, at the fsync, with ENOSPC,
   as if the disk had filled up while the file was flushed. */
static int StgssaFaultWriteFail(void)
{
  static int  count = 0;
  const char *n     = getenv("STGSSA_FAULT_WRITE_FAIL");

  count++;
  if (!n || atoi(n) != count) return 0;
  errno = ENOSPC;
  return 1;
}

/* Rank 0: create tmp, run the writer, close, fsync, rename. On failure remove tmp: the target
   is never opened, so its previous contents stay as they were. */
static PetscErrorCode StgssaOutputWrite_Root(const char path[], StgssaOutputWriter writer, void *ctx)
{
  char  tmp[PETSC_MAX_PATH_LEN], dir[PETSC_MAX_PATH_LEN];
  hid_t file;
  int   e;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()));
  {
    /* the 1.8 object-header format: an attribute over 64 kB then goes to dense storage instead of
       failing (a safety net: long strings are written as datasets, StgssaH5WriteText) */
    hid_t fapl;
    PetscCallHDF5(fapl = H5Pcreate(H5P_FILE_ACCESS));
    if (H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0) {
      (void)H5Pclose(fapl);
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "Cannot set the HDF5 format version for '%s'", tmp);
    }
    errno = 0;
    file  = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    e     = errno;
    PetscCallHDF5(H5Pclose(fapl));
  }
  if (file < 0) {
    (void)unlink(tmp);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot create temporary output file '%s': %s; previous contents of '%s' left untouched", tmp, e ? strerror(e) : "HDF5 error", path);
  }
  {
    PetscErrorCode ierr;
    herr_t         hc;

    errno = 0;
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL)); /* one report, below */
    ierr = writer(file, ctx);
    PetscCall(PetscPopErrorHandler());
    e  = errno;
    hc = H5Fclose(file); /* flushes what HDF5 still buffers: a full disk may show only here */
    if (!e) e = errno;
    if (ierr || hc < 0) {
      char inner[1024] = "";
      (void)unlink(tmp);
      if (ierr) {
        const char *text;
        char       *specific;
        PetscCall(PetscErrorMessage(ierr, &text, &specific));
        PetscCall(PetscStrncpy(inner, specific && specific[0] ? specific : (text ? text : "error"), sizeof(inner)));
      }
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Cannot write '%s': %s (%s); previous contents of '%s' left untouched", tmp, e ? strerror(e) : "HDF5 error", ierr ? inner : "H5Fclose", path);
    }
  }
  if (StgssaFaultWriteFail() || StgssaFsyncPath(tmp, 0)) {
    e = errno;
    (void)unlink(tmp);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Cannot flush '%s' to disk (fsync): %s; previous contents of '%s' left untouched", tmp, strerror(e), path);
  }
  if (rename(tmp, path)) {
    e = errno;
    (void)unlink(tmp);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Cannot rename '%s' to '%s': %s; previous contents of '%s' left untouched", tmp, path, strerror(e), path);
  }
  PetscCall(StgssaPathDir(path, dir, sizeof(dir)));
  (void)StgssaFsyncPath(dir, 1); /* best effort: some file systems refuse fsync on directories */
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOutputWrite(MPI_Comm comm, const char path[], StgssaOutputWriter writer, void *ctx)
{
  PetscMPIInt rank;
  char        msg[2048] = ""; /* rank 0's one-line reason; empty: written */

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(STGSSA_Output, 0, 0, 0, 0));
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (rank == 0) {
    PetscErrorCode ierr;

    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL)); /* one report, below, on every rank */
    ierr = StgssaOutputWrite_Root(path, writer, ctx);
    PetscCall(PetscPopErrorHandler());
    if (ierr) {
      const char *text;
      char       *specific;
      PetscCall(PetscErrorMessage(ierr, &text, &specific));
      PetscCall(PetscStrncpy(msg, specific && specific[0] ? specific : (text ? text : "error"), sizeof(msg)));
      if (!msg[0]) PetscCall(PetscSNPrintf(msg, sizeof(msg), "Cannot write '%s'", path));
    }
  }
  PetscCallMPI(MPI_Bcast(msg, (PetscMPIInt)sizeof(msg), MPI_CHAR, 0, comm));
  /* PETSC_ERR_FILE_WRITE: StgssaOutputErrorHandler shows it as one line */
  PetscCheck(!msg[0], comm, PETSC_ERR_FILE_WRITE, "%s", msg);
  PetscCall(PetscLogEventEnd(STGSSA_Output, 0, 0, 0, 0));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOutputErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  PetscBool *quiet = (PetscBool *)ctx;

  if (p == PETSC_ERROR_INITIAL) *quiet = (PetscBool)(n == PETSC_ERR_FILE_WRITE || n == PETSC_ERR_FILE_OPEN);
  if (*quiet) return n; /* the caller prints PetscErrorMessage's text in one line */
  return PetscTraceBackErrorHandler(comm, line, fun, file, n, p, mess, NULL);
}

/* "name" of loc as "/group/name" (or "name" when loc has no path) for error messages. */
static void StgssaH5Where(hid_t loc, const char name[], char buf[], size_t n)
{
  char    dir[512] = "";
  ssize_t len      = H5Iget_name(loc, dir, sizeof(dir));

  if (len <= 0 || !strcmp(dir, "/")) (void)snprintf(buf, n, "/%s", name[0] == '/' ? name + 1 : name);
  else (void)snprintf(buf, n, "%s/%s", dir, name);
}

/* Close dataset name of loc; a failure (the data flushed to a full disk) names it. */
static PetscErrorCode StgssaH5CloseDataset(hid_t loc, const char name[], hid_t dset)
{
  PetscFunctionBegin;
  if (H5Dclose(dset) < 0) {
    char where[1024];
    StgssaH5Where(loc, name, where, sizeof(where));
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "cannot write dataset %s (at its close)", where);
  }
  PetscFunctionReturn(0);
}

/* Create the groups on the way to name (like mkdir -p) via a link-creation property list. */
static hid_t StgssaH5LinkPlist(void)
{
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  if (lcpl >= 0 && H5Pset_create_intermediate_group(lcpl, 1) < 0) {
    (void)H5Pclose(lcpl);
    return -1;
  }
  return lcpl;
}

/* Create dataset name (file type ftype, dataspace space, creation properties dcpl) and write data of
   memory type mtype unless empty; a failure is one line naming the dataset (and detail). The
   caller keeps space and the types. */
static PetscErrorCode StgssaH5CreateWrite(hid_t loc, const char name[], hid_t ftype, hid_t mtype, hid_t space, hid_t dcpl, const void *data, PetscBool empty, const char detail[])
{
  hid_t lcpl, dset;

  PetscFunctionBegin;
  PetscCallHDF5(lcpl = StgssaH5LinkPlist());
  dset = H5Dcreate2(loc, name, ftype, space, lcpl, dcpl, H5P_DEFAULT);
  PetscCallHDF5(H5Pclose(lcpl));
  if (dset < 0 || (!empty && H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)) {
    char where[1024];
    StgssaH5Where(loc, name, where, sizeof(where));
    if (dset >= 0) (void)H5Dclose(dset);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "cannot %s dataset %s%s", dset < 0 ? "create" : "write", where, detail);
  }
  PetscCall(StgssaH5CloseDataset(loc, name, dset));
  PetscFunctionReturn(0);
}

/* Dataset name of doubles [dims] with the creation properties dcpl (nothing to write when a
   dimension is 0). */
static PetscErrorCode StgssaH5WriteDoublesWith(hid_t loc, const char name[], int rank, const hsize_t dims[], hid_t dcpl, const double data[])
{
  hid_t          space;
  PetscBool      empty = PETSC_FALSE;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  for (int i = 0; i < rank; i++)
    if (!dims[i]) empty = PETSC_TRUE;
  PetscCallHDF5(space = H5Screate_simple(rank, dims, NULL));
  ierr = StgssaH5CreateWrite(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space, dcpl, data, empty, "");
  PetscCallHDF5(H5Sclose(space));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaH5WriteDoubles(hid_t loc, const char name[], int rank, const hsize_t dims[], const double data[])
{
  return StgssaH5WriteDoublesWith(loc, name, rank, dims, H5P_DEFAULT, data);
}

/* Whether HDF5 can write deflate-compressed datasets here (the filter is built in and encodes). */
static PetscBool StgssaH5DeflateAvailable(void)
{
  unsigned int info = 0;

  if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0) return PETSC_FALSE;
  if (H5Zget_filter_info(H5Z_FILTER_DEFLATE, &info) < 0) return PETSC_FALSE;
  return (PetscBool)((info & H5Z_FILTER_CONFIG_ENCODE_ENABLED) != 0);
}

PetscErrorCode StgssaH5WriteDoublesChunked(hid_t loc, const char name[], int rank, const hsize_t dims[], const hsize_t chunk_max[], const double data[])
{
  hid_t          dcpl;
  hsize_t        chunk[8];
  PetscBool      empty = PETSC_FALSE;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCheck(rank >= 1 && rank <= 8, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "StgssaH5WriteDoublesChunked: rank %d", rank);
  for (int i = 0; i < rank; i++) {
    chunk[i] = PetscMin(dims[i], chunk_max[i] > 0 ? chunk_max[i] : dims[i]);
    if (!dims[i]) empty = PETSC_TRUE;
  }
  PetscCallHDF5(dcpl = H5Pcreate(H5P_DATASET_CREATE));
  if (!empty) { /* an empty dataset stays contiguous (a chunk cannot have a zero extent) */
    PetscCallHDF5(H5Pset_chunk(dcpl, rank, chunk));
    if (StgssaH5DeflateAvailable()) { /* else uncompressed, no error */
      PetscCallHDF5(H5Pset_shuffle(dcpl)); /* bytes of equal significance together: doubles compress better */
      PetscCallHDF5(H5Pset_deflate(dcpl, 1)); /* level 1: most of the gain at a fraction of level 4's time (measured, bench_largep_opt) */
    }
  }
  ierr = StgssaH5WriteDoublesWith(loc, name, rank, dims, dcpl, data);
  PetscCallHDF5(H5Pclose(dcpl));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaH5WriteInt64s(hid_t loc, const char name[], int rank, const hsize_t dims[], const int64_t data[])
{
  hid_t          space;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  PetscCallHDF5(space = H5Screate_simple(rank, dims, NULL));
  ierr = StgssaH5CreateWrite(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, space, H5P_DEFAULT, data, PETSC_FALSE, "");
  PetscCallHDF5(H5Sclose(space));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* Create attribute name of type/space on loc and write value. */
static PetscErrorCode StgssaH5WriteAttr(hid_t loc, const char name[], hid_t ftype, hid_t mtype, hid_t space, const void *value)
{
  hid_t attr;

  PetscFunctionBegin;
  if (H5Aexists(loc, name) > 0) PetscCallHDF5(H5Adelete(loc, name));
  attr = H5Acreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attr < 0 || H5Awrite(attr, mtype, value) < 0) {
    char where[1024], obj[512] = "";
    if (H5Iget_name(loc, obj, sizeof(obj)) <= 0) (void)PetscStrncpy(obj, "?", sizeof(obj));
    (void)snprintf(where, sizeof(where), "'%s' of %s", name, obj);
    if (attr >= 0) (void)H5Aclose(attr);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "cannot %s attribute %s", attr < 0 ? "create" : "write", where);
  }
  PetscCallHDF5(H5Aclose(attr));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaH5WriteAttrString(hid_t loc, const char name[], const char value[])
{
  hid_t type, space;

  PetscFunctionBegin;
  PetscCallHDF5(type = H5Tcopy(H5T_C_S1));
  PetscCallHDF5(H5Tset_size(type, strlen(value) + 1));
  PetscCallHDF5(H5Tset_cset(type, H5T_CSET_UTF8));
  PetscCallHDF5(space = H5Screate(H5S_SCALAR));
  PetscCall(StgssaH5WriteAttr(loc, name, type, type, space, value));
  PetscCallHDF5(H5Sclose(space));
  PetscCallHDF5(H5Tclose(type));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaH5WriteAttrInt64(hid_t loc, const char name[], int64_t value)
{
  hid_t space;

  PetscFunctionBegin;
  PetscCallHDF5(space = H5Screate(H5S_SCALAR));
  PetscCall(StgssaH5WriteAttr(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, space, &value));
  PetscCallHDF5(H5Sclose(space));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaH5WriteAttrStrings(hid_t loc, const char name[], PetscInt n, const char *const strs[])
{
  hid_t   type, space;
  hsize_t dim = (hsize_t)n;

  PetscFunctionBegin;
  PetscCallHDF5(type = H5Tcopy(H5T_C_S1));
  PetscCallHDF5(H5Tset_size(type, H5T_VARIABLE));
  PetscCallHDF5(H5Tset_cset(type, H5T_CSET_UTF8));
  PetscCallHDF5(space = H5Screate_simple(1, &dim, NULL));
  PetscCall(StgssaH5WriteAttr(loc, name, type, type, space, strs));
  PetscCallHDF5(H5Sclose(space));
  PetscCallHDF5(H5Tclose(type));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaH5WriteAttrDouble(hid_t loc, const char name[], double value)
{
  hid_t space;

  PetscFunctionBegin;
  PetscCallHDF5(space = H5Screate(H5S_SCALAR));
  PetscCall(StgssaH5WriteAttr(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space, &value));
  PetscCallHDF5(H5Sclose(space));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaH5WriteAttrDoubles(hid_t loc, const char name[], hsize_t n, const double value[])
{
  hid_t space;

  PetscFunctionBegin;
  PetscCallHDF5(space = H5Screate_simple(1, &n, NULL));
  PetscCall(StgssaH5WriteAttr(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space, value));
  PetscCallHDF5(H5Sclose(space));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaH5WriteText(hid_t loc, const char name[], const char value[])
{
  hid_t          type, space;
  char           detail[64];
  PetscErrorCode ierr;

  PetscFunctionBegin;
  if (!value) value = "";
  /* one fixed-length string of strlen + 1 bytes (any size; h5py reads it as bytes, h5dump shows it) */
  PetscCallHDF5(type = H5Tcopy(H5T_C_S1));
  PetscCallHDF5(H5Tset_size(type, strlen(value) + 1));
  PetscCallHDF5(H5Tset_strpad(type, H5T_STR_NULLTERM));
  PetscCallHDF5(H5Tset_cset(type, H5T_CSET_UTF8));
  PetscCallHDF5(space = H5Screate(H5S_SCALAR));
  PetscCall(PetscSNPrintf(detail, sizeof(detail), " (a string of %zu bytes)", strlen(value)));
  ierr = StgssaH5CreateWrite(loc, name, type, type, space, H5P_DEFAULT, value, PETSC_FALSE, detail);
  PetscCallHDF5(H5Sclose(space));
  PetscCallHDF5(H5Tclose(type));
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* Read a string (fixed or variable length) from the open attribute (is_attr) or dataset h into a
   new buffer. */
static PetscErrorCode StgssaH5ReadString(hid_t h, PetscBool is_attr, char **text, const char what[], const char path[])
{
  hid_t     ft, mt = -1, sp;
  size_t    n;
  htri_t    vlen;
  hssize_t  npts;
  herr_t    rc;
  PetscBool ok;

  PetscFunctionBegin;
  PetscCallHDF5(ft = is_attr ? H5Aget_type(h) : H5Dget_type(h));
  PetscCallHDF5(sp = is_attr ? H5Aget_space(h) : H5Dget_space(h));
  npts = H5Sget_simple_extent_npoints(sp);
  PetscCallHDF5(H5Sclose(sp));
  n    = H5Tget_size(ft);
  vlen = H5Tis_variable_str(ft);
  ok   = (PetscBool)(H5Tget_class(ft) == H5T_STRING && npts == 1 && vlen >= 0 && n > 0 && (vlen || n < ((size_t)1 << 40)));
  if (ok) mt = H5Tcopy(ft); /* the same character set: HDF5 does not convert between them */
  (void)H5Tclose(ft);
  PetscCheck(ok && mt >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: %s is not one string (corrupt file?)", path, what);
  if (vlen) {
    char *v = NULL;
    rc = is_attr ? H5Aread(h, mt, &v) : H5Dread(h, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v);
    if (rc >= 0) {
      PetscErrorCode ierr = PetscStrallocpy(v ? v : "", text);
      (void)H5free_memory(v);
      PetscCall(ierr);
    }
  } else {
    PetscCall(PetscCalloc1(n + 1, text));
    rc = is_attr ? H5Aread(h, mt, *text) : H5Dread(h, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *text);
    if (rc < 0) PetscCall(PetscFree(*text));
  }
  (void)H5Tclose(mt);
  PetscCheck(rc >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: cannot read %s", path, what);
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaH5ReadText(hid_t loc, const char obj[], const char name[], char **text, const char path[])
{
  char   what[1024];
  hid_t  g, h;
  htri_t has;

  PetscFunctionBegin;
  *text = NULL;
  g     = H5Oopen(loc, obj, H5P_DEFAULT);
  PetscCheck(g >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED, "%s: no object %s (expected an output of stgssa_hpc)", path, obj);
  has = H5Lexists(g, name, H5P_DEFAULT);
  if (has > 0) {
    (void)snprintf(what, sizeof(what), "dataset %s/%s", obj, name);
    h = H5Dopen2(g, name, H5P_DEFAULT);
    if (h >= 0) {
      PetscErrorCode ierr;
      PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
      ierr = StgssaH5ReadString(h, PETSC_FALSE, text, what, path);
      PetscCall(PetscPopErrorHandler());
      (void)H5Dclose(h);
      (void)H5Oclose(g);
      PetscCheck(!ierr, PETSC_COMM_SELF, ierr, "%s: cannot read %s as a string", path, what);
      PetscFunctionReturn(0);
    }
  } else if (has == 0) {
    (void)snprintf(what, sizeof(what), "attribute %s of %s", name, obj);
    has = H5Aexists(g, name);
    if (has > 0 && (h = H5Aopen(g, name, H5P_DEFAULT)) >= 0) {
      PetscErrorCode ierr;
      PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
      ierr = StgssaH5ReadString(h, PETSC_TRUE, text, what, path);
      PetscCall(PetscPopErrorHandler());
      (void)H5Aclose(h);
      (void)H5Oclose(g);
      PetscCheck(!ierr, PETSC_COMM_SELF, ierr, "%s: cannot read %s as a string", path, what);
      PetscFunctionReturn(0);
    }
  }
  (void)H5Oclose(g);
  PetscCheck(has >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_READ, "%s: cannot read %s of %s (corrupt file?)", path, name, obj);
  PetscFunctionReturn(0);
}

/* The command line as one string, arguments separated by spaces. */
static PetscErrorCode StgssaCommandLine(char **line)
{
  int    argc;
  char **argv;
  size_t len = 1;

  PetscFunctionBegin;
  PetscCall(PetscGetArgs(&argc, &argv));
  for (int i = 0; i < argc; i++) len += strlen(argv[i]) + 1;
  PetscCall(PetscCalloc1(len, line));
  for (int i = 0; i < argc; i++) {
    if (i) PetscCall(StgssaStrlcat(*line, " ", len));
    PetscCall(StgssaStrlcat(*line, argv[i], len));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaH5WriteRunInfo(hid_t file, MPI_Comm comm, const char model_text[])
{
  hid_t       run;
  PetscMPIInt size;
  char       *cmd, *opts;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCallHDF5(run = H5Gcreate2(file, "run", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(StgssaH5WriteAttrString(run, "version", STGSSA_VERSION));
  PetscCall(StgssaH5WriteAttrInt64(run, "ranks", size));
  PetscCall(StgssaCommandLine(&cmd));
  /* strings of any length: datasets (an attribute is limited to 64 kB) */
  PetscCall(StgssaH5WriteText(run, "command_line", cmd));
  PetscCall(PetscFree(cmd));
  PetscCall(PetscOptionsGetAll(NULL, &opts));
  PetscCall(StgssaH5WriteText(run, "options", opts));
  PetscCall(PetscFree(opts));
  PetscCall(StgssaH5WriteText(run, "model_text", model_text ? model_text : ""));
  PetscCallHDF5(H5Gclose(run));
  PetscFunctionReturn(0);
}
