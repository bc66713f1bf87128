/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness: StgssaModelDefParse, .model files (src/model/modeldef_parse.c). */
#include "fuzz_modeldef_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fuzz_modeldef(StgssaModelDefParse, data, size);
  return 0;
}
