/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Fuzz harness: StgssaStudyTableParse (the -stgssa_study CSV table, src/study/study_table.c).
  Checked: the parsed table is consistent (cells, names and lines for every row, the name column
  in range, column kinds callable) and freed completely; the message is terminated.
*/
#include "fuzz_util.h"

#include "study_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  StgssaStudyTable tab;
  char             err[512], *text;
  int              rc;

  text = fuzz_strdup(data, size);
  memset(&tab, 0, sizeof tab);
  memset(err, 'x', sizeof(err));
  rc = StgssaStudyTableParse(text, "fuzz.csv", &tab, err, sizeof err);
  if (rc == 0) {
    FUZZ_CHECK(tab.ncols >= 1 && tab.nrows >= 0);
    FUZZ_CHECK(tab.name_col >= -1 && tab.name_col < tab.ncols);
    for (int c = 0; c < tab.ncols; c++) {
      FUZZ_CHECK(tab.header[c] != NULL);
      (void)StgssaStudyTableIsOption(&tab, c);
      (void)StgssaStudyTableIsParameter(&tab, c);
    }
    for (int r = 0; r < tab.nrows; r++) {
      FUZZ_CHECK(tab.names[r] && tab.names[r][0]);
      FUZZ_CHECK(tab.line[r] >= 1);
      for (int c = 0; c < tab.ncols; c++) FUZZ_CHECK(tab.cells[(size_t)r * tab.ncols + c] != NULL);
    }
  } else {
    FUZZ_CHECK_MSG(err); /* written on error only */
    FUZZ_CHECK(err[0]);
  }
  StgssaStudyTableFree(&tab); /* also after an error: the parser leaves a freeable table */
  free(text);
  return 0;
}
