/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c). Each harness defines
  LLVMFuzzerTestOneInput; built with clang -fsanitize=fuzzer (meson -Dfuzz=true) it is a fuzzer,
  built with the normal compiler and replay_main.c it replays files (test suite 'unit').
*/
#ifndef STGSSA_FUZZ_UTIL_H
#define STGSSA_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A harness found a broken invariant: report it as a crash (libFuzzer saves the input). */
#define FUZZ_CHECK(cond)                                                                     \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n", __FILE__, __LINE__, #cond);   \
      abort();                                                                               \
    }                                                                                        \
  } while (0)

/* A NUL-terminated copy of the input (abort on out of memory: not the parser's fault). */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
  char *s = (char *)malloc(size + 1);
  if (!s) abort();
  if (size) memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* An error message must be NUL-terminated inside its buffer. */
#define FUZZ_CHECK_MSG(buf) FUZZ_CHECK(memchr((buf), '\0', sizeof(buf)) != NULL)

#endif
