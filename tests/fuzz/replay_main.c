/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Replays inputs through a fuzz harness without libFuzzer: each argument is a file, or a
  directory whose regular files are replayed (sorted by name). Linked with one harness
  (tests/fuzz/fuzz_*.c) by the normal build, so the seed corpus and the regression inputs run
  in CI as part of the 'unit' suite. Exit status 0 when every input ran (a harness reports a
  bug by aborting, as under libFuzzer).
*/
#define _POSIX_C_SOURCE 200809L
#include "fuzz_util.h"

#include <dirent.h>
#include <sys/stat.h>

/* Optional in a harness: one-time setup and teardown. */
int __attribute__((weak)) LLVMFuzzerInitialize(int *argc, char ***argv);
void __attribute__((weak)) StgssaFuzzFinalize(void);

static int replay_file(const char *path)
{
  FILE    *fp = fopen(path, "rb");
  uint8_t *buf;
  long     n;

  if (!fp) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return 1;
  }
  if (fseek(fp, 0, SEEK_END) || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET)) {
    fprintf(stderr, "replay: cannot size %s\n", path);
    fclose(fp);
    return 1;
  }
  buf = (uint8_t *)malloc((size_t)n + 1); /* +1: never malloc(0) */
  if (!buf || fread(buf, 1, (size_t)n, fp) != (size_t)n) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    free(buf);
    fclose(fp);
    return 1;
  }
  fclose(fp);
  /* an exact-size copy so that ASan sees reads past the end, as under libFuzzer */
  {
    uint8_t *exact = (uint8_t *)malloc(n ? (size_t)n : 1);
    if (!exact) abort();
    if (n) memcpy(exact, buf, (size_t)n);
    free(buf);
    (void)LLVMFuzzerTestOneInput(exact, (size_t)n);
    free(exact);
  }
  return 0;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int replay_dir(const char *dir, int *count)
{
  DIR           *d = opendir(dir);
  struct dirent *e;
  char         **names = NULL;
  size_t         n = 0, cap = 0;
  int            bad = 0;

  if (!d) {
    fprintf(stderr, "replay: cannot open directory %s\n", dir);
    return 1;
  }
  while ((e = readdir(d))) {
    char       *path;
    struct stat st;
    if (e->d_name[0] == '.') continue;
    path = (char *)malloc(strlen(dir) + strlen(e->d_name) + 2);
    if (!path) abort();
    sprintf(path, "%s/%s", dir, e->d_name);
    if (stat(path, &st) || !S_ISREG(st.st_mode)) {
      free(path);
      continue;
    }
    if (n == cap) {
      char **bigger = (char **)realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));
      if (!bigger) abort();
      names = bigger;
    }
    names[n++] = path;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof(*names), cmp_names);
  for (size_t i = 0; i < n; i++) {
    bad |= replay_file(names[i]);
    (*count)++;
    free(names[i]);
  }
  free(names);
  return bad;
}

int main(int argc, char **argv)
{
  int bad = 0, count = 0;

  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st)) {
      fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
      bad = 1;
    } else if (S_ISDIR(st.st_mode))
      bad |= replay_dir(argv[i], &count);
    else {
      bad |= replay_file(argv[i]);
      count++;
    }
  }
  if (StgssaFuzzFinalize) StgssaFuzzFinalize();
  printf("replayed %d input%s\n", count, count == 1 ? "" : "s");
  return bad;
}
