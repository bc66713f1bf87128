/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness: StgssaModelDefParseNet, BioNetGen .net files (src/model/netimport.c). */
#include "fuzz_modeldef_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fuzz_modeldef(StgssaModelDefParseNet, data, size);
  return 0;
}
