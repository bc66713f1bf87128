/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Scheduled events (issue 18): the checked value of an event's expression. The schedule itself
  (StgssaModelDefEventNext, ...) is pure C in modeldef_parse.c; the engines apply events in
  src/ssa/events.c.
*/
#include <stgssa/model.h>
#include <math.h>

PetscErrorCode StgssaEventValueChecked(const StgssaNetwork *net, int e, const double *pv, double *dlog, double *work, double *value)
{
  const StgssaModelDef *d  = net->def;
  const StgssaEventDef *ev = &d->events[e];
  const double          v  = StgssaModelDefEventValue(d, e, pv, dlog, work);

  PetscFunctionBegin;
  *value = v;
  if (ev->kind == STGSSA_EVENT_DIVIDE) PetscFunctionReturn(0);
  if (ev->kind == STGSSA_EVENT_SCALE)
    PetscCheck(v >= 0.0 && v <= 1.0, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "%s:%d: the keep fraction of event %d ('scale %s') is %.6g with the current parameters; expected a number in [0, 1]",
               d->filename, ev->line, e + 1, d->species[ev->species[0]].name, v);
  else
    PetscCheck(v >= 0.0 && v < 0x1p53, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "%s:%d: the count of event %d (on %s) is %.6g with the current parameters; expected a finite number >= 0 and below 2^53",
               d->filename, ev->line, e + 1, d->species[ev->species[0]].name, v);
  PetscFunctionReturn(0);
}
