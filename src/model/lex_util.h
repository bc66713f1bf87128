/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Character classes and small string helpers shared by the pure-C text parsers (native model,
  BioNetGen .net, rate-law expressions, study tables). Internal; no PETSc.
*/
#ifndef STGSSA_LEX_UTIL_H
#define STGSSA_LEX_UTIL_H

#include <stdlib.h>
#include <string.h>

static inline int is_digit(int c) { return c >= '0' && c <= '9'; }
static inline int is_name_start(int c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static inline int is_name_char(int c) { return is_name_start(c) || is_digit(c); }
/* blanks within a line (newlines are handled by the callers) */
static inline int is_space(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
static inline int is_print(int c) { return c >= 0x20 && c < 0x7f; }
/* byte i of s as an unsigned char (for the classes above) */
static inline int uc(const char *s, size_t i) { return (unsigned char)s[i]; }

/* first index >= i of s[0..n) that is not a decimal digit */
static inline size_t scan_digits(const char *s, size_t n, size_t i)
{
  while (i < n && is_digit(uc(s, i))) i++;
  return i;
}

/* malloc'ed NUL-terminated copy of s[0..n), or NULL */
static inline char *dup_n(const char *s, size_t n)
{
  char *d = (char *)malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

#endif
