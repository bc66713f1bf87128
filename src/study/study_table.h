/* SPDX-License-Identifier: BSD-2-Clause */
/*
  The table of a parameter study (pure C, no PETSc): a CSV file, '#' comment lines, the first other
  line is the header. Column "name" names members; a column whose header starts with '-' is an
  option (the cell is its value; empty: not given); any other column is a model parameter value
  (empty: not given). Cells may be double-quoted to hold commas; "" inside quotes is one quote.
*/
#ifndef STGSSA_STUDY_TABLE_H
#define STGSSA_STUDY_TABLE_H

#include <stddef.h>

typedef struct {
  int     ncols, nrows;
  char  **header;   /* ncols column names */
  int     name_col; /* index of the "name" column or -1 */
  char  **cells;    /* nrows x ncols, row-major; "" for empty cells */
  int    *line;     /* line number of each row in the file */
  char  **names;    /* nrows member names (from the name column or member_%04d) */
} StgssaStudyTable;

/* Parse text (of file `filename`, for messages). Returns 0 or -1 with "file:line: what was
   expected" in err. On success free with StgssaStudyTableFree. */
int  StgssaStudyTableParse(const char *text, const char *filename, StgssaStudyTable *tab, char *err, size_t errlen);
void StgssaStudyTableFree(StgssaStudyTable *tab);
/* Column kinds */
int StgssaStudyTableIsOption(const StgssaStudyTable *tab, int col);
int StgssaStudyTableIsParameter(const StgssaStudyTable *tab, int col);

#endif
