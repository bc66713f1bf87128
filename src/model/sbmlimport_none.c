/* SPDX-License-Identifier: BSD-2-Clause */
/* StgssaModelDefParseSBML when stgssa_hpc is built without libsbml (meson did not find it). */
#include <stgssa/modeldef.h>

#include <stdio.h>

int StgssaModelDefParseSBML(const char *text, size_t len, const char *filename, StgssaModelDef **def, char *err, size_t errlen)
{
  (void)text;
  (void)len;
  if (def) *def = NULL;
  if (err && errlen) snprintf(err, errlen, "%s: this stgssa_hpc was built without libsbml; install libsbml5-dev and reconfigure", filename ? filename : "<input>");
  return STGSSA_PARSE_ESYNTAX;
}
