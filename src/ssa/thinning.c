/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Pieces shared by the exact engines (StgssaSSARun, StgssaSSARunTangent): propensity updates
  with rate laws, and thinning for propensities that depend on time (issue 7).

  Thinning (Lewis-Shedler). On the grid cell [t, th) (th the next multiple of cfg->thin_step;
  during the burn-in t < 0 the cell ends at 0 and laws see time 0) every time-dependent a_j is
  bounded by b_j >= a_j(x, s) for s in [t, th): an interval enclosure of the law
  (StgssaPropensityUpper), valid because the state is fixed between events. Proposals come at
  rate B = sum_j b_j:
      s = t + E/B,  E = -log U_2                      (U_2, U_1: one Philox block per proposal)
      accept when U_1 B < a_0(x, s), then j = min { j : sum_{i<=j} a_i(x, s) > U_1 B }
  so that, given acceptance, U_1 B is uniform on [0, a_0(x, s)) and j is distributed as
  a_j(x, s)/a_0(x, s). A proposal beyond th moves t to th with nothing fired (the exponential
  is memoryless), and the bounds are recomputed on the next cell. The accepted events are an
  exact sample of the process with intensity a_0(x, s): no time step, no quadrature. Bounds of
  reactions that do not depend on j stay valid after a jump (they bound a sub-interval).
*/
#include <stgssa/ssa.h>
#include <math.h>

PetscErrorCode StgssaPropensitiesAllAt(const StgssaNetwork *net, const int64_t *x, const StgssaLawEnv *env, double t, double *a, double *a0)
{
  double sum = 0.0;

  PetscFunctionBegin;
  for (PetscInt j = 0; j < net->R; j++) {
    a[j] = StgssaPropensityAt(net, j, x, env);
    if (net->order1[j] == -3) PetscCall(StgssaPropensityCheck(net, j, x, t, a[j]));
    sum += a[j];
  }
  *a0 = sum;
  PetscFunctionReturn(0);
}

/* Bound of time-dependent reaction i over [t, th) (StgssaPropensityUpper), or an error naming it. */
static PetscErrorCode StgssaThinBound(const StgssaNetwork *net, PetscInt i, const int64_t *x, StgssaLawEnv *env, double t, double th, double *b)
{
  PetscFunctionBegin;
  *b = StgssaPropensityUpper(net, i, x, env, StgssaLawTime(t), StgssaLawTime(th));
  PetscCheck(*b < PETSC_INFINITY, PETSC_COMM_SELF, PETSC_ERR_FP, "%s:%d: cannot bound the rate law of reaction %" PetscInt_FMT " on [%.6g, %.6g] (a domain error or NaN is possible there); thinning needs a finite bound",
             net->def->filename, net->def->reactions[i].line, i + 1, StgssaLawTime(t), StgssaLawTime(th));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaFireAndUpdate(const StgssaSSAConfig *cfg, PetscInt j, int64_t *x, StgssaLawEnv *env, double t, double *a, StgssaThin *thin, double *a0)
{
  const StgssaNetwork *net = cfg->net;

  PetscFunctionBegin;
  PetscCall(StgssaJump(net, j, x, t));
  for (PetscInt i = net->nu_ptr[j]; i < net->nu_ptr[j + 1]; i++) env->xd[net->nu_species[i]] = (double)x[net->nu_species[i]];
  PetscCall(StgssaUpdateDependents(cfg, j, x, env, t, a, thin, a0));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaUpdateDependents(const StgssaSSAConfig *cfg, PetscInt j, const int64_t *x, StgssaLawEnv *env, double t, double *a, StgssaThin *thin, double *a0)
{
  const StgssaNetwork *net = cfg->net;
  double               sum = 0.0;

  PetscFunctionBegin;
  for (PetscInt d = net->dep_ptr[j]; d < net->dep_ptr[j + 1]; d++) {
    const PetscInt i = net->dep[d];
    if (thin && net->tdep[i]) {
      PetscCall(StgssaThinBound(net, i, x, env, t, thin->th, &a[i]));
    } else {
      a[i] = StgssaPropensityAt(net, i, x, env);
      if (net->order1[i] == -3) PetscCall(StgssaPropensityCheck(net, i, x, t, a[i]));
    }
  }
  for (PetscInt i = 0; i < net->R; i++) sum += a[i];
  *a0 = sum;
  if (thin) thin->B = sum;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaThinCreate(const StgssaNetwork *net, StgssaThin *thin)
{
  PetscFunctionBegin;
  PetscCall(PetscMemzero(thin, sizeof(*thin)));
  PetscCall(PetscMalloc2(net->R, &thin->b, net->R, &thin->at));
  thin->rbase = -1;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaThinDestroy(StgssaThin *thin)
{
  PetscFunctionBegin;
  PetscCall(PetscFree2(thin->b, thin->at));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaThinCell(const StgssaSSAConfig *cfg, StgssaThin *thin, const int64_t *x, StgssaLawEnv *env, double t)
{
  const StgssaNetwork *net = cfg->net;
  const double         H   = cfg->thin_step;
  double               sum = 0.0;

  PetscFunctionBegin;
  if (t < 0.0) thin->th = 0.0;
  else {
    thin->th = (floor(t / H) + 1.0) * H;
    if (thin->th <= t) thin->th = nextafter(t, PETSC_INFINITY); /* t at the end of a cell up to rounding */
  }
  StgssaLawEnvSetTime(net, env, StgssaLawTime(t), PETSC_FALSE);
  for (PetscInt i = 0; i < net->R; i++) {
    if (net->tdep[i]) {
      PetscCall(StgssaThinBound(net, i, x, env, t, thin->th, &thin->b[i]));
    } else {
      thin->b[i] = StgssaPropensityAt(net, i, x, env);
      if (net->order1[i] == -3) PetscCall(StgssaPropensityCheck(net, i, x, t, thin->b[i]));
    }
    sum += thin->b[i];
  }
  thin->B = sum;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaThinNext(const StgssaSSAConfig *cfg, StgssaPhiloxKey key, StgssaThin *thin, const int64_t *x, StgssaLawEnv *env, double t, int64_t *prop, int64_t *slot, double *tnext, PetscInt *j, double *a0, PetscBool *capped)
{
  const StgssaNetwork *net = cfg->net;

  PetscFunctionBegin;
  *capped = PETSC_FALSE;
  *j      = -1;
  for (;;) {
    double s, u1, u2, sum = 0.0;
    if (thin->B <= 0.0) { /* nothing can fire in this cell */
      if (thin->th >= cfg->tfinal) break;
      t = thin->th;
      PetscCall(StgssaThinCell(cfg, thin, x, env, t));
      continue;
    }
    if (*prop >= cfg->max_events) {
      *capped = PETSC_TRUE;
      *tnext  = t;
      PetscFunctionReturn(0);
    }
    {
      const int     lane = (int)(*prop % STGSSA_PHILOX_LANES);
      const int64_t base = *prop - lane;
      if (thin->rbase != base) {
        StgssaPhiloxEvents8(cfg->iteration, (uint64_t)base, 0, key, thin->rbuf);
        thin->rbase = base;
      }
      u1 = StgssaUniformOpen(thin->rbuf[0][lane], thin->rbuf[1][lane]);
      u2 = StgssaUniformOpen(thin->rbuf[2][lane], thin->rbuf[3][lane]);
    }
    (*prop)++;
    s = t + -log(u2) / thin->B;
    if (s >= thin->th) { /* no proposal in this cell */
      if (thin->th >= cfg->tfinal) break;
      t = thin->th;
      PetscCall(StgssaThinCell(cfg, thin, x, env, t));
      continue;
    }
    if (s > cfg->tfinal) break;
    StgssaLawEnvSetTime(net, env, StgssaLawTime(s), PETSC_FALSE);
    for (PetscInt i = 0; i < net->R; i++) {
      if (net->tdep[i]) {
        thin->at[i] = StgssaPropensityAt(net, i, x, env);
        PetscCall(StgssaPropensityCheck(net, i, x, s, thin->at[i]));
        PetscCheck(thin->at[i] <= thin->b[i], PETSC_COMM_SELF, PETSC_ERR_PLIB, "%s:%d: reaction %" PetscInt_FMT " has propensity %.17g at t = %.17g above its interval bound %.17g", net->def->filename, net->def->reactions[i].line, i + 1, thin->at[i], s,
                   thin->b[i]);
      } else thin->at[i] = thin->b[i];
      sum += thin->at[i];
    }
    if (u1 * thin->B < sum) {
      *j     = StgssaSelectReaction(net->R, thin->at, u1 * thin->B);
      *slot  = *prop - 1;
      *tnext = s;
      *a0    = sum;
      PetscFunctionReturn(0);
    }
    t = s; /* rejected: the bounds still hold on [s, th) */
  }
  *tnext = PETSC_INFINITY;
  PetscFunctionReturn(0);
}
