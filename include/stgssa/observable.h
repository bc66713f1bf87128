/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Observed quantities (-stgssa_observe): each is a weighted sum of species counts with
  nonnegative integer weights, sum_t w_t x_{s_t}. A species is the one-term sum (weight 1); a
  BioNetGen group (StgssaModelDef.groups) has its own terms. Terms are stored in compressed rows:
  the terms of quantity o are t = ptr[o] .. ptr[o+1]-1, with species sp[t] and weight w[t].
  ptr == NULL means one term per quantity (t = o) and w == NULL means every weight is 1, so a
  plain list of species indices sp[o] is a valid mapping on its own.
*/
#ifndef STGSSA_OBSERVABLE_H
#define STGSSA_OBSERVABLE_H

#include <petscsys.h>
#include <stdint.h>

/* Largest accepted weight of an observed group term (keeps sums of counts far from overflow). */
#define STGSSA_GROUP_WEIGHT_MAX 2147483647

/* Value of observed quantity o in state x: sum_t w_t x[sp_t]. For one term of weight 1 this is
   x[sp_t] itself. */
static inline int64_t StgssaObservedValue(const PetscInt *ptr, const PetscInt *sp, const int64_t *w, PetscInt o, const int64_t *x)
{
  const PetscInt t0 = ptr ? ptr[o] : o, t1 = ptr ? ptr[o + 1] : o + 1;
  int64_t        v = 0;
  for (PetscInt t = t0; t < t1; t++) v += (w ? w[t] : 1) * x[sp[t]];
  return v;
}

/* Its tangent along xdot[S*P] (layout s*P + p): sum_t w_t xdot[sp_t*P + p]. The first term is
   not added to 0.0, so one term of weight 1 gives xdot[sp_t*P + p] bit for bit (sign of zero
   included). */
static inline double StgssaObservedTangent(const PetscInt *ptr, const PetscInt *sp, const int64_t *w, PetscInt o, const double *xdot, PetscInt P, PetscInt p)
{
  const PetscInt t0 = ptr ? ptr[o] : o, t1 = ptr ? ptr[o + 1] : o + 1;
  double         v;
  if (t1 <= t0) return 0.0;
  v = (w ? (double)w[t0] : 1.0) * xdot[sp[t0] * P + p];
  for (PetscInt t = t0 + 1; t < t1; t++) v += (w ? (double)w[t] : 1.0) * xdot[sp[t] * P + p];
  return v;
}

#endif
