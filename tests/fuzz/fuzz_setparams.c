/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Fuzz harness: StgssaModelDefSetParameters (the -stgssa_parameters "name=value,..." list,
  src/model/modeldef_parse.c) applied to a fixed small model. Checked: on error the model is
  unchanged (the list is validated before anything is assigned); on success every value is
  finite and nonnegative; the message is terminated.
*/
#include "fuzz_util.h"

#include <math.h>
#include <stgssa/modeldef.h>

static const char model[] = "begin parameters\n"
                            "  k_on 0.5\n  k_off 2\n  k_tx 20\n  k_deg 1\n"
                            "end parameters\n"
                            "begin species\n  G 1\n  M 0\nend species\n"
                            "begin reactions\n"
                            "  G -> G + M  k_tx\n"
                            "  M -> 0      k_deg\n"
                            "  G -> 0      k_off*G/(k_on + G)\n"
                            "end reactions\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  StgssaModelDef *def = NULL;
  char            err[512], *list;
  double          before[4];
  int             rc;

  if (StgssaModelDefParse(model, sizeof model - 1, "fixed.model", &def, err, sizeof err) || def->nparams != 4) {
    fprintf(stderr, "fixed model: %s\n", err);
    abort();
  }
  for (int i = 0; i < 4; i++) before[i] = def->params[i].value;
  list = fuzz_strdup(data, size);
  memset(err, 'x', sizeof(err));
  rc = StgssaModelDefSetParameters(def, list, "-stgssa_parameters", err, sizeof err);
  FUZZ_CHECK_MSG(err);
  if (rc) {
    FUZZ_CHECK(rc == STGSSA_PARSE_ESYNTAX || rc == STGSSA_PARSE_ENOMEM);
    FUZZ_CHECK(err[0]);
    for (int i = 0; i < 4; i++) FUZZ_CHECK(!memcmp(&before[i], &def->params[i].value, sizeof(double)));
  } else
    for (int i = 0; i < 4; i++) FUZZ_CHECK(isfinite(def->params[i].value) && def->params[i].value >= 0);
  free(list);
  StgssaModelDefFree(&def);
  return 0;
}
