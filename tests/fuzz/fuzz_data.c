/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Fuzz harness: the -stgssa_data reader StgssaDataLoad (src/io/data.c), CSV and HDF5 by
  content. The reader takes a path and uses PETSc, so PETSc is initialized once (no signal
  handler, so crashes reach the sanitizer) and each input goes to one temporary file in
  /dev/shm (or $TMPDIR) that is unlinked at once and read back through /proc/self/fd/N: nothing
  is left behind, even after a crash. Checked on success: every time, species, histogram and
  moment can be queried, histograms add up to their totals, moments are finite.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  StgssaData     d = NULL;
  PetscErrorCode ierr;

  if (dense_histogram_too_big(data, size)) return 0;
  write_input(data, size);
  if (StgssaDataCreate(PETSC_COMM_SELF, &d)) abort();
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
  }
  if (StgssaDataDestroy(&d)) abort();
  /* libhdf5 keeps the last error's text (vasprintf) on its error stack until the next API call;
     clear it so that LeakSanitizer's check at exit does not report libhdf5's state */
  (void)H5Eclear2(H5E_DEFAULT);
  return 0;
}
