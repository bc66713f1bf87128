/* SPDX-License-Identifier: BSD-2-Clause */
/* Sample sizes of the statistical tests under STGSSA_TEST_SCALE (0 < s <= 1; default 1, the full
   size). scripts/run-tests.sh sets it for the sanitizer run only, where each trajectory costs
   ~10x more: the same code paths, fewer trajectories. Every check these sizes feed is a z-score
   or a chi-square p-value on the sample's own standard error, so a smaller sample keeps the test
   valid (with less power); the release run keeps the full sizes and their power. */
#ifndef STGSSA_TEST_SCALE_H
#define STGSSA_TEST_SCALE_H
#include <math.h>
#include <stdlib.h>

static inline int TestScaled(int n)
{
  const char *env = getenv("STGSSA_TEST_SCALE");
  double      s   = env ? atof(env) : 1.0;
  int         m;

  if (!(s > 0 && s < 1)) return n;
  m = (int)ceil(s * n);
  return m < 1000 && n >= 1000 ? 1000 : m; /* at least 1000 trajectories */
}
#endif
