/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness: StgssaModelDefParseSBML, SBML documents through libsbml (src/model/sbmlimport.c). */
#include "fuzz_modeldef_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fuzz_modeldef(StgssaModelDefParseSBML, data, size);
  return 0;
}
