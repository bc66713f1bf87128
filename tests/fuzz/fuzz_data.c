/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Fuzz harness: the -stgssa_data reader StgssaDataLoad (src/io/data.c), CSV and HDF5 by
  content. The reader takes a path and uses PETSc, so PETSc is initialized once (no signal
  handler, so crashes reach the sanitizer) and each input goes to one temporary file in
  /dev/shm (or $TMPDIR) that is unlinked at once and read back through /proc/self/fd/N: nothing
  is left behind, even after a crash. Leading lines `#!map A=B,...`, `#!where C=V,...` and
  `#!known N,...` (comments to the CSV reader) configure the column map, the row filter and the
  known names first (StgssaDataSetColumnMap/SetWhere/SetKnownNames), so the fuzzer reaches the
  column roles too. Checked on success: every time, species, histogram and moment can be
  queried, histograms add up to their totals, moments are finite, every data column's name is
  known (when names are), and the summary line is a NUL-terminated string.
*/
#define _POSIX_C_SOURCE 200809L
#include "fuzz_util.h"

#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stgssa/data.h>
#include <unistd.h>

static int  fuzz_fd = -1;
static char fuzz_path[64];

void StgssaFuzzFinalize(void);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  char        templ[4096];
  const char *dir = "/dev/shm";

  (void)argc;
  (void)argv;
  if (access(dir, W_OK)) dir = getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
  snprintf(templ, sizeof templ, "%s/stgssa_fuzz_data_XXXXXX", dir);
  if ((fuzz_fd = mkstemp(templ)) < 0 || unlink(templ)) {
    perror("fuzz_data: temporary file");
    abort();
  }
  snprintf(fuzz_path, sizeof fuzz_path, "/proc/self/fd/%d", fuzz_fd);
  /* PETSc's signal handler would catch the sanitizer's SIGSEGV; no argv: libFuzzer's flags are not PETSc options */
  if (PetscOptionsSetValue(NULL, "-no_signal_handler", NULL) || PetscInitialize(NULL, NULL, NULL, NULL)) abort();
  if (PetscPushErrorHandler(PetscReturnErrorHandler, NULL)) abort();
  return 0;
}

void StgssaFuzzFinalize(void)
{
  (void)PetscPopErrorHandler();
  (void)PetscFinalize();
  if (fuzz_fd >= 0) close(fuzz_fd);
}

static void write_input(const uint8_t *data, size_t size)
{
  size_t done = 0;
  if (ftruncate(fuzz_fd, 0)) abort();
  while (done < size) {
    ssize_t w = pwrite(fuzz_fd, data + done, size - done, (off_t)done);
    if (w <= 0) abort();
    done += (size_t)w;
  }
}

/* Histograms are dense by design (one bin per count value, counts up to 2^30 accepted, see
   data.h): a CSV count above 10^6 asks for up to 8 GB, which is documented behaviour, not a bug,
   and would only make the fuzzer report out-of-memory. Inputs with a digit run whose value lies
   in (10^6, 2^30] are skipped; larger numbers (rejected as too large) are still parsed. */
static int dense_histogram_too_big(const uint8_t *data, size_t size)
{
  unsigned long long v = 0;
  int                digits = 0;
  if (size >= 8 && !memcmp(data, "\x89HDF", 4)) return 0;
  for (size_t i = 0; i <= size; i++) {
    if (i < size && data[i] >= '0' && data[i] <= '9') {
      if (v < (1ull << 40)) v = 10 * v + (unsigned long long)(data[i] - '0');
      digits = 1;
    } else {
      if (digits && v > 1000000ull && v <= (1ull << 30)) return 1;
      v      = 0;
      digits = 0;
    }
  }
  return 0;
}

#define FUZZ_MAX_ITEMS 16

/* The directives of the leading "#!map", "#!where", "#!known" lines: kind 0, 1, 2. */
static void configure(StgssaData d, const uint8_t *data, size_t size, int *nknown, char known[][64])
{
  size_t pos = 0;
  *nknown    = 0;
  while (pos < size && size - pos > 2 && !memcmp(data + pos, "#!", 2)) {
    const char *nl  = memchr(data + pos, '\n', size - pos);
    size_t      len = nl ? (size_t)(nl - (const char *)(data + pos)) : size - pos;
    char        line[512], *item[FUZZ_MAX_ITEMS], *val[FUZZ_MAX_ITEMS], *save = NULL, *tok, *body;
    int         kind = -1, n = 0;
    if (len >= sizeof line) return;
    memcpy(line, data + pos, len);
    line[len] = 0;
    pos += len + (nl ? 1 : 0);
    if (!strncmp(line, "#!map ", 6))
      kind = 0;
    else if (!strncmp(line, "#!where ", 8))
      kind = 1;
    else if (!strncmp(line, "#!known ", 8))
      kind = 2;
    else
      return;
    body = strchr(line, ' ') + 1;
    for (tok = strtok_r(body, ",", &save); tok && n < FUZZ_MAX_ITEMS; tok = strtok_r(NULL, ",", &save)) {
      char *eq = strchr(tok, '=');
      if (eq && kind < 2) *eq = 0;
      item[n]  = tok;
      val[n++] = eq && kind < 2 ? eq + 1 : tok;
    }
    if (kind == 0)
      (void)StgssaDataSetColumnMap(d, n, (const char *const *)item, (const char *const *)val);
    else if (kind == 1)
      (void)StgssaDataSetWhere(d, n, (const char *const *)item, (const char *const *)val);
    else if (!StgssaDataSetKnownNames(d, n, (const char *const *)item, "known names")) {
      *nknown = n;
      for (int k = 0; k < n; k++)
        snprintf(known[k], 64, "%s", item[k]);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  StgssaData     d = NULL;
  PetscErrorCode ierr;
  int            nknown;
  char           known[FUZZ_MAX_ITEMS][64];

  if (dense_histogram_too_big(data, size)) return 0;
  write_input(data, size);
  if (StgssaDataCreate(PETSC_COMM_SELF, &d)) abort();
  configure(d, data, size, &nknown, known);
  ierr = StgssaDataLoad(d, fuzz_path);
  if (!ierr) {
    PetscInt         nt, ns;
    const PetscReal *times;
    FUZZ_CHECK(!StgssaDataGetTimes(d, &nt, &times) && nt >= 1);
    FUZZ_CHECK(!StgssaDataGetNumSpecies(d, &ns) && ns >= 1);
    for (PetscInt i = 1; i < nt; i++) FUZZ_CHECK(times[i] > times[i - 1]);
    for (PetscInt s = 0; s < ns; s++) {
      const char *name;
      PetscBool   has;
      FUZZ_CHECK(!StgssaDataGetSpeciesName(d, s, &name) && name && name[0]);
      FUZZ_CHECK(!StgssaDataHasSpecies(d, name, &has) && has);
      if (nknown) {
        int k = 0;
        while (k < nknown && strcmp(known[k], name))
          k++;
        FUZZ_CHECK(k < nknown);
      }
      for (PetscInt i = 0; i < nt; i++) {
        PetscInt         nb;
        const PetscReal *c;
        PetscReal        total, sum = 0, m[3];
        FUZZ_CHECK(!StgssaDataGetHistogram(d, i, name, &nb, &c, &total));
        FUZZ_CHECK(nb >= 1);
        for (PetscInt b = 0; b < nb; b++) {
          FUZZ_CHECK(c[b] >= 0);
          sum += c[b];
        }
        FUZZ_CHECK(fabs(sum - total) <= 1e-9 * total);
        FUZZ_CHECK(!StgssaDataGetMoments(d, i, name, m));
        FUZZ_CHECK(isfinite(m[0]) && isfinite(m[1]) && isfinite(m[2]));
      }
    }
    FUZZ_CHECK(StgssaDataGetMoments(d, nt, "no such species", NULL) != 0); /* out of range: an error, not a crash */
    {
      char sum[1024];
      sum[sizeof sum - 1] = 'x';
      FUZZ_CHECK(!StgssaDataGetSummary(d, sum, sizeof sum));
      FUZZ_CHECK_MSG(sum);
    }
  }
  if (StgssaDataDestroy(&d)) abort();
  /* libhdf5 keeps the last error's text (vasprintf) on its error stack until the next API call;
     clear it so that LeakSanitizer's check at exit does not report libhdf5's state */
  (void)H5Eclear2(H5E_DEFAULT);
  return 0;
}
