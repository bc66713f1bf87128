/* SPDX-License-Identifier: BSD-2-Clause */
/* StgssaStudy: parameter studies over groups of ranks (see include/stgssa/study.h). */
#include <stgssa/stgssa.h>
#include <stgssa/run.h>
#include <stgssa/study.h>
#include <ctype.h>
#include <math.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include "study_table.h"
#include "../stgssa_impl.h"

/* What a member needs at this run: computed earlier (its file is complete), resumed from the
   checkpoint in its file, or run from the start. */
typedef enum {
  MEMBER_RUN    = 0,
  MEMBER_DONE   = 1,
  MEMBER_RESUME = 2
} MemberState;

/* An option value replaced while a member is configured, and how to put it back. */
typedef struct {
  char     *name, *old;
  PetscBool had;
} SavedOption;

struct _p_StgssaStudy {
  MPI_Comm         comm;  /* all ranks of the study */
  MPI_Comm         gcomm; /* this rank's group */
  PetscInt         ngroups, group;
  char             file[PETSC_MAX_PATH_LEN];   /* -stgssa_study: the table */
  char             output[PETSC_MAX_PATH_LEN]; /* -stgssa_output: the study file */
  char             dir[PETSC_MAX_PATH_LEN];    /* <output stem>_members */
  char             select[4096];               /* -stgssa_study_members */
  char            *text;                       /* the table's text */
  char            *base_params;                /* -stgssa_parameters of the command line */
  StgssaStudyTable tab;
  PetscInt         nm;      /* selected members */
  PetscInt        *rows;    /* their rows in the table */
  PetscInt        *state;   /* MemberState of each */
  char           **sig;     /* the options that determine each member's results */
  SavedOption     *saved;   /* options replaced for the member being configured */
  PetscInt         nsaved;
  PetscBool        setup;
};

PetscErrorCode StgssaStudyCreate(MPI_Comm comm, StgssaStudy *study)
{
  StgssaStudy s;

  PetscFunctionBegin;
  PetscCall(StgssaInitializePackage());
  PetscCall(PetscNew(&s));
  s->comm         = comm;
  s->gcomm        = MPI_COMM_NULL;
  s->ngroups      = 1;
  s->tab.name_col = -1;
  PetscCall(PetscStrncpy(s->output, "stgssa_out.h5", sizeof(s->output)));
  *study = s;
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaStudySetFromOptions(StgssaStudy s)
{
  char      params[4096] = "";
  PetscBool set          = PETSC_FALSE;

  PetscFunctionBegin;
  PetscOptionsBegin(s->comm, NULL, "Parameter study options", "StgssaStudy");
  PetscCall(PetscOptionsString("-stgssa_study", "Study table (CSV): one member per row: name, options (-...), parameter values", "StgssaStudy", s->file, s->file, sizeof(s->file), NULL));
  PetscCall(PetscOptionsBoundedInt("-stgssa_study_groups", "Groups of ranks running members side by side", "StgssaStudy", s->ngroups, &s->ngroups, NULL, 1));
  PetscCall(PetscOptionsString("-stgssa_study_members", "Run only these members (names, comma separated; default: all)", "StgssaStudy", s->select, s->select, sizeof(s->select), NULL));
  PetscCall(PetscOptionsString("-stgssa_output", "HDF5 output file (the study file; members go to <stem>_members/<name>.h5)", "StgssaStudy", s->output, s->output, sizeof(s->output), NULL));
  PetscCall(PetscOptionsString("-stgssa_parameters", "Override parameter values: name=value,name=value (members add their own)", "StgssaStudy", params, params, sizeof(params), &set));
  PetscOptionsEnd();
  PetscCall(PetscStrallocpy(set ? params : "", &s->base_params));
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------------------------------------
   Member options: the command line's options database, with the member's values set in place
   while it is configured and run, and the previous values put back afterwards.
   --------------------------------------------------------------------------------------------- */
static PetscErrorCode StgssaStudySetOption(StgssaStudy s, const char name[], const char value[])
{
  char      buf[8192];
  PetscBool had;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetString(NULL, NULL, name, buf, sizeof(buf), &had));
  PetscCall(PetscRealloc(sizeof(SavedOption) * (size_t)(s->nsaved + 1), &s->saved));
  PetscCall(PetscStrallocpy(name, &s->saved[s->nsaved].name));
  s->saved[s->nsaved].had = had;
  s->saved[s->nsaved].old = NULL;
  if (had) PetscCall(PetscStrallocpy(buf, &s->saved[s->nsaved].old));
  s->nsaved++;
  PetscCall(PetscOptionsSetValue(NULL, name, value && value[0] ? value : NULL));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaStudyRestoreOptions(StgssaStudy s)
{
  PetscFunctionBegin;
  for (PetscInt i = s->nsaved - 1; i >= 0; i--) { /* reverse order: the first saved value is the original */
    SavedOption *o = &s->saved[i];
    if (o->had) PetscCall(PetscOptionsSetValue(NULL, o->name, o->old && o->old[0] ? o->old : NULL));
    else PetscCall(PetscOptionsClearValue(NULL, o->name));
    PetscCall(PetscFree(o->name));
    PetscCall(PetscFree(o->old));
  }
  PetscCall(PetscFree(s->saved));
  s->nsaved = 0;
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaStudyMemberPath(StgssaStudy s, PetscInt m, char path[], size_t len)
{
  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(path, len, "%s/%s.h5", s->dir, s->tab.names[s->rows[m]]));
  PetscFunctionReturn(0);
}

/* Set the options of member m (its row, its output file, optionally a restart from it). */
static PetscErrorCode StgssaStudyApplyMember(StgssaStudy s, PetscInt m, PetscBool resume)
{
  const StgssaStudyTable *t   = &s->tab;
  const PetscInt          row = s->rows[m];
  char                    path[PETSC_MAX_PATH_LEN];
  char                   *params;
  size_t                  len = strlen(s->base_params) + 2;

  PetscFunctionBegin;
  for (int c = 0; c < t->ncols; c++) len += strlen(t->header[c]) + strlen(t->cells[(size_t)row * (size_t)t->ncols + (size_t)c]) + 2;
  PetscCall(PetscCalloc1(len, &params));
  PetscCall(StgssaStrlcat(params, s->base_params, len));
  for (int c = 0; c < t->ncols; c++) {
    const char *cell = t->cells[(size_t)row * (size_t)t->ncols + (size_t)c];
    if (!cell[0] || c == t->name_col) continue;
    if (!strcmp(t->header[c], "-stgssa_parameters")) { /* after the command line's, before the columns' */
      if (params[0]) PetscCall(StgssaStrlcat(params, ",", len));
      PetscCall(StgssaStrlcat(params, cell, len));
    } else if (StgssaStudyTableIsOption(t, c)) PetscCall(StgssaStudySetOption(s, t->header[c], cell));
  }
  for (int c = 0; c < t->ncols; c++) {
    const char *cell = t->cells[(size_t)row * (size_t)t->ncols + (size_t)c];
    if (!cell[0] || !StgssaStudyTableIsParameter(t, c)) continue;
    if (params[0]) PetscCall(StgssaStrlcat(params, ",", len));
    PetscCall(StgssaStrlcat(params, t->header[c], len));
    PetscCall(StgssaStrlcat(params, "=", len));
    PetscCall(StgssaStrlcat(params, cell, len));
  }
  if (params[0]) PetscCall(StgssaStudySetOption(s, "-stgssa_parameters", params));
  PetscCall(PetscFree(params));
  PetscCall(StgssaStudyMemberPath(s, m, path, sizeof(path)));
  PetscCall(StgssaStudySetOption(s, "-stgssa_output", path));
  if (resume) PetscCall(StgssaStudySetOption(s, "-stgssa_restart", path));
  PetscFunctionReturn(0);
}

/* Options that do not change a member's numbers (where files go, what is printed, profiling). */
static PetscBool StgssaStudyIgnoredOption(const char *name)
{
  static const char *const prefixes[] = {"-stgssa_study", "-stgssa_output", "-stgssa_restart", "-stgssa_checkpoint_interval", "-stgssa_view", "-log", "-malloc", "-options_", "-info", "-help", "-tao_monitor", "-tao_view", "-history", NULL};
  for (int i = 0; prefixes[i]; i++)
    if (!strncmp(name, prefixes[i], strlen(prefixes[i]))) return PETSC_TRUE;
  return PETSC_FALSE;
}

/* The signature of the member now configured: every option that can change its numbers, as
   "-name value" pairs in database order (PetscOptionsGetAll). A name is a token starting with '-'
   and a letter; other tokens are values (negative numbers included). */
static PetscErrorCode StgssaStudySignature(char **sig)
{
  char     *all, *out, *save = NULL;
  PetscBool skip = PETSC_FALSE;
  size_t    len;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetAll(NULL, &all));
  len = strlen(all) + 1;
  PetscCall(PetscCalloc1(len, &out));
  for (char *tok = strtok_r(all, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
    if (tok[0] == '-' && isalpha((unsigned char)tok[1])) skip = StgssaStudyIgnoredOption(tok);
    if (skip) continue;
    if (out[0]) PetscCall(StgssaStrlcat(out, " ", len));
    PetscCall(StgssaStrlcat(out, tok, len));
  }
  PetscCall(PetscFree(all));
  *sig = out;
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------------------------------------
   Each member's signature is kept beside its output as <dir>/<name>.options, so a rerun never
   mixes in results computed with other options. One small file per member (not one shared
   file): separate jobs (e.g. a Slurm array, one member each) never write the same file.
   --------------------------------------------------------------------------------------------- */
static PetscErrorCode StgssaStudySignaturePath(StgssaStudy s, PetscInt m, char path[], size_t len)
{
  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(path, len, "%s/%s.options", s->dir, s->tab.names[s->rows[m]]));
  PetscFunctionReturn(0);
}

/* Rank 0: write the signatures of the members about to run, atomically (tmp + fsync + rename). */
static PetscErrorCode StgssaStudyWriteSignatures_Root(StgssaStudy s)
{
  PetscFunctionBegin;
  for (PetscInt m = 0; m < s->nm; m++) {
    char  path[PETSC_MAX_PATH_LEN], tmp[PETSC_MAX_PATH_LEN];
    FILE *fp;
    int   bad = 0;
    if (s->state[m] == MEMBER_DONE) continue;
    PetscCall(StgssaStudySignaturePath(s, m, path, sizeof(path)));
    PetscCall(PetscSNPrintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()));
    fp = fopen(tmp, "wb");
    PetscCheck(fp, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot create '%s': %s", tmp, strerror(errno));
    bad |= fprintf(fp, "%s\n", s->sig[m]) < 0;
    bad |= fflush(fp) != 0;
    bad |= fsync(fileno(fp)) != 0;
    bad |= fclose(fp) != 0;
    if (bad || rename(tmp, path)) {
      (void)unlink(tmp);
      SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "Cannot write '%s'", path);
    }
  }
  PetscFunctionReturn(0);
}

/* Rank 0: what member m needs, from its file: complete (the group of its mode is there), a
   checkpoint to resume (optimize), or nothing usable. */
static PetscErrorCode StgssaStudyInspect_Root(StgssaStudy s, PetscInt m, StgssaMode mode, PetscInt *state, char reason[], size_t rlen)
{
  static const char *const complete[] = {"simulate", "gradient", "result", "fsp"};
  char                     path[PETSC_MAX_PATH_LEN], sigpath[PETSC_MAX_PATH_LEN], *recorded;
  hid_t                    file;
  H5E_auto2_t              func;
  void                    *data;

  PetscFunctionBegin;
  *state = MEMBER_RUN;
  PetscCall(StgssaStudyMemberPath(s, m, path, sizeof(path)));
  if (access(path, F_OK)) PetscFunctionReturn(0);
  PetscCall(StgssaStudySignaturePath(s, m, sigpath, sizeof(sigpath)));
  recorded = NULL;
  if (!access(sigpath, R_OK)) { /* "<signature>\n" as written by StgssaStudyWriteSignatures_Root */
    size_t n;
    PetscCall(StgssaReadTextFile(PETSC_COMM_SELF, sigpath, "member options file", &recorded));
    n = strlen(recorded);
    if (n && recorded[n - 1] == '\n') recorded[n - 1] = 0;
  }
  if (!recorded || strcmp(recorded, s->sig[m])) {
    PetscCall(PetscSNPrintf(reason, rlen, "%s:%d: member %s: %s exists but was computed with other options (%s %s); remove it or choose another -stgssa_output", s->file, s->tab.line[s->rows[m]], s->tab.names[s->rows[m]], path, recorded ? "see" : "no", sigpath));
    PetscCall(PetscFree(recorded));
    PetscFunctionReturn(0);
  }
  PetscCall(PetscFree(recorded));
  PetscCallHDF5(H5Eget_auto2(H5E_DEFAULT, &func, &data));
  PetscCallHDF5(H5Eset_auto2(H5E_DEFAULT, NULL, NULL));
  file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) PetscCall(PetscSNPrintf(reason, rlen, "member %s: %s is not a readable HDF5 file (damaged?); remove it to recompute the member", s->tab.names[s->rows[m]], path));
  else {
    if (H5Lexists(file, complete[mode], H5P_DEFAULT) > 0) *state = MEMBER_DONE;
    else if (mode == STGSSA_MODE_OPTIMIZE && H5Lexists(file, "checkpoint", H5P_DEFAULT) > 0) *state = MEMBER_RESUME;
    (void)H5Fclose(file);
  }
  PetscCallHDF5(H5Eset_auto2(H5E_DEFAULT, func, data));
  PetscFunctionReturn(0);
}

/* Collective on the world: configure member m, check its input and its file; restore options. */
static PetscErrorCode StgssaStudyCheckMember(StgssaStudy s, PetscInt m)
{
  StgssaRun      run;
  StgssaMode     mode;
  PetscMPIInt    rank;
  PetscErrorCode ierr;
  char           reason[2 * PETSC_MAX_PATH_LEN + 512] = "";
  PetscInt       state = MEMBER_RUN;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(s->comm, &rank));
  PetscCall(StgssaStudyApplyMember(s, m, PETSC_FALSE));
  PetscCall(StgssaStudySignature(&s->sig[m]));
  PetscCall(StgssaRunCreate(s->comm, &run));
  PetscCall(StgssaRunSetFromOptions(run));
  PetscCall(StgssaRunGetMode(run, &mode));
  if (rank == 0) PetscCall(StgssaStudyInspect_Root(s, m, mode, &state, reason, sizeof(reason)));
  PetscCallMPI(MPI_Bcast(reason, sizeof(reason), MPI_CHAR, 0, s->comm));
  PetscCallMPI(MPI_Bcast(&state, 1, MPIU_INT, 0, s->comm));
  s->state[m] = state;
  ierr        = reason[0] ? PETSC_ERR_FILE_UNEXPECTED : 0;
  if (!ierr && state == MEMBER_RESUME) { /* check the checkpoint too */
    PetscCall(StgssaRunDestroy(&run));
    PetscCall(StgssaStudyRestoreOptions(s));
    PetscCall(StgssaStudyApplyMember(s, m, PETSC_TRUE));
    PetscCall(StgssaRunCreate(s->comm, &run));
    PetscCall(StgssaRunSetFromOptions(run));
  }
  if (!ierr && state != MEMBER_DONE) {
    char msg[4096];
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = StgssaRunSetUp(run);
    PetscCall(PetscPopErrorHandler());
    if (ierr) {
      PetscCall(StgssaErrorText(ierr, msg, sizeof(msg)));
      PetscCall(PetscSNPrintf(reason, sizeof(reason), "%s:%d: member %s: %s", s->file, s->tab.line[s->rows[m]], s->tab.names[s->rows[m]], msg));
    }
  }
  PetscCall(StgssaRunDestroy(&run));
  PetscCall(StgssaStudyRestoreOptions(s));
  PetscCheck(!ierr, s->comm, PETSC_ERR_USER_INPUT, "%s", reason);
  PetscFunctionReturn(0);
}

/* Parse -stgssa_study_members into selected rows (all rows by default). */
static PetscErrorCode StgssaStudySelect(StgssaStudy s)
{
  PetscFunctionBegin;
  PetscCall(PetscMalloc1(s->tab.nrows, &s->rows));
  s->nm = 0;
  if (!s->select[0]) {
    for (PetscInt r = 0; r < s->tab.nrows; r++) s->rows[s->nm++] = r;
  } else {
    char *copy, *save = NULL;
    PetscCall(PetscStrallocpy(s->select, &copy));
    for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
      PetscInt r;
      for (r = 0; r < s->tab.nrows; r++)
        if (!strcmp(s->tab.names[r], name)) break;
      if (r == s->tab.nrows) {
        char tmp[256];
        PetscCall(PetscStrncpy(tmp, name, sizeof(tmp)));
        PetscCall(PetscFree(copy));
        SETERRQ(s->comm, PETSC_ERR_USER_INPUT, "-stgssa_study_members: no member '%s' in %s", tmp, s->file);
      }
      for (PetscInt q = 0; q < s->nm; q++) PetscCheck(s->rows[q] != r, s->comm, PETSC_ERR_USER_INPUT, "-stgssa_study_members: member '%s' listed twice", s->tab.names[r]);
      PetscCheck(s->nm < s->tab.nrows, s->comm, PETSC_ERR_USER_INPUT, "-stgssa_study_members: too many names");
      s->rows[s->nm++] = r;
    }
    PetscCall(PetscFree(copy));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaStudySetUp(StgssaStudy s)
{
  PetscMPIInt size, rank;
  char        err[PETSC_MAX_PATH_LEN + 512];
  int         rc;
  PetscBool   created = PETSC_FALSE; /* the members' directory is new: removed again if the input is bad */

  PetscFunctionBegin;
  if (s->setup) PetscFunctionReturn(0);
  PetscCallMPI(MPI_Comm_size(s->comm, &size));
  PetscCallMPI(MPI_Comm_rank(s->comm, &rank));
  PetscCheck(s->file[0], s->comm, PETSC_ERR_USER_INPUT, "-stgssa_study: expected a study table file");
  PetscCheck(s->ngroups <= size, s->comm, PETSC_ERR_USER_INPUT, "-stgssa_study_groups %" PetscInt_FMT ": expected at most the number of ranks (%d)", s->ngroups, (int)size);
  PetscCall(StgssaOutputCheckPath(s->comm, s->output));
  PetscCall(StgssaReadTextFile(s->comm, s->file, "study table", &s->text));
  rc = StgssaStudyTableParse(s->text, s->file, &s->tab, err, sizeof(err));
  PetscCheck(rc == 0, s->comm, PETSC_ERR_USER_INPUT, "%s", err);
  PetscCall(StgssaStudySelect(s));

  { /* the members' directory: <output without .h5>_members */
    size_t n = strlen(s->output);
    char   reason[PETSC_MAX_PATH_LEN + 128] = "";
    PetscCall(PetscStrncpy(s->dir, s->output, sizeof(s->dir)));
    if (n > 3 && !strcmp(s->output + n - 3, ".h5")) s->dir[n - 3] = 0;
    PetscCall(StgssaStrlcat(s->dir, "_members", sizeof(s->dir)));
    if (rank == 0 && access(s->dir, F_OK)) created = PETSC_TRUE;
    if (rank == 0 && mkdir(s->dir, 0777) && errno != EEXIST) PetscCall(PetscSNPrintf(reason, sizeof(reason), "cannot create the members' directory '%s': %s", s->dir, strerror(errno)));
    PetscCallMPI(MPI_Bcast(reason, sizeof(reason), MPI_CHAR, 0, s->comm));
    PetscCheck(!reason[0], s->comm, PETSC_ERR_FILE_OPEN, "%s", reason);
  }
  /* every member once, before any work: bad input anywhere stops the study here */
  PetscCall(PetscCalloc2(s->nm, &s->state, s->nm, &s->sig));
  for (PetscInt m = 0; m < s->nm; m++) {
    PetscErrorCode ierr;
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = StgssaStudyCheckMember(s, m);
    PetscCall(PetscPopErrorHandler());
    if (ierr) { /* PetscCall keeps the member's message (the first error raised) */
      if (created) (void)rmdir(s->dir); /* nothing half-written */
      PetscCall(ierr);
    }
  }
  if (rank == 0) {
    PetscErrorCode ierr;
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
    ierr = StgssaStudyWriteSignatures_Root(s);
    PetscCall(PetscPopErrorHandler());
    rc = (int)ierr;
  }
  PetscCallMPI(MPI_Bcast(&rc, 1, MPI_INT, 0, s->comm));
  PetscCheck(!rc, s->comm, PETSC_ERR_FILE_WRITE, "Cannot write the members' option files in '%s'", s->dir);

  /* groups: contiguous blocks of ranks */
  s->group = (PetscInt)(((PetscInt64)rank * s->ngroups) / size);
  PetscCallMPI(MPI_Comm_split(s->comm, (int)s->group, rank, &s->gcomm));
  s->setup = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/* ---------------------------------------------------------------------------------------------
   Running the members
   --------------------------------------------------------------------------------------------- */
/* Collective on the group: run member m; the error (if any) is returned, not raised. */
static PetscErrorCode StgssaStudyRunMember(StgssaStudy s, PetscInt m, PetscReal *seconds, PetscErrorCode *ierr)
{
  StgssaRun run = NULL;
  PetscReal t0  = MPI_Wtime();

  PetscFunctionBegin;
  PetscCall(StgssaStudyApplyMember(s, m, (PetscBool)(s->state[m] == MEMBER_RESUME)));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  *ierr = StgssaRunCreate(s->gcomm, &run);
  if (!*ierr) *ierr = StgssaRunSetFromOptions(run);
  if (!*ierr) *ierr = StgssaRunExecute(run);
  PetscCall(PetscPopErrorHandler());
  if (*ierr) {
    char        msg[4096];
    PetscMPIInt grank;
    PetscCall(StgssaErrorText(*ierr, msg, sizeof(msg)));
    PetscCallMPI(MPI_Comm_rank(s->gcomm, &grank));
    if (!grank) PetscCall(PetscFPrintf(PETSC_COMM_SELF, PETSC_STDERR, "stgssa_hpc: error: study member %s (%s:%d): %s\n", s->tab.names[s->rows[m]], s->file, s->tab.line[s->rows[m]], msg));
  }
  PetscCall(StgssaRunDestroy(&run));
  PetscCall(StgssaStudyRestoreOptions(s));
  *seconds = MPI_Wtime() - t0;
  PetscFunctionReturn(0);
}

typedef struct {
  StgssaStudy s;
  PetscReal  *seconds, *group, *status;
} StgssaStudyWriteCtx;

/* Rank 0: copy every top-level object of the member file into /members/<name>. */
static PetscErrorCode StgssaStudyCopyMember(hid_t dst, const char path[], const char name[], PetscReal *loss)
{
  hid_t       src, grp, root;
  H5G_info_t  info;
  char        link[256];

  PetscFunctionBegin;
  src = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  PetscCheck(src >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "Cannot open member file '%s'", path);
  PetscCallHDF5(root = H5Gopen2(src, "/", H5P_DEFAULT));
  PetscCallHDF5(grp = H5Gcreate2(dst, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCallHDF5(H5Gget_info(root, &info));
  for (hsize_t i = 0; i < info.nlinks; i++) {
    ssize_t n;
    PetscCallHDF5(n = H5Lget_name_by_idx(root, ".", H5_INDEX_NAME, H5_ITER_INC, i, link, sizeof(link), H5P_DEFAULT));
    PetscCheck((size_t)n < sizeof(link), PETSC_COMM_SELF, PETSC_ERR_SUP, "Member file '%s': name of object %d too long", path, (int)i);
    PetscCallHDF5(H5Ocopy(root, link, grp, link, H5P_DEFAULT, H5P_DEFAULT));
  }
  *loss = (PetscReal)NAN;
  if (H5Aexists_by_name(root, "result", "loss", H5P_DEFAULT) > 0) { /* optimize */
    hid_t a;
    PetscCallHDF5(a = H5Aopen_by_name(root, "result", "loss", H5P_DEFAULT, H5P_DEFAULT));
    PetscCallHDF5(H5Aread(a, H5T_NATIVE_DOUBLE, loss));
    PetscCallHDF5(H5Aclose(a));
  } else if (H5Lexists(root, "gradient", H5P_DEFAULT) > 0 && H5Lexists(root, "gradient/loss", H5P_DEFAULT) > 0) { /* gradient with data */
    hid_t d;
    PetscCallHDF5(d = H5Dopen2(root, "gradient/loss", H5P_DEFAULT));
    PetscCallHDF5(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, loss));
    PetscCallHDF5(H5Dclose(d));
  }
  PetscCallHDF5(H5Gclose(grp));
  PetscCallHDF5(H5Gclose(root));
  PetscCallHDF5(H5Fclose(src));
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaStudyWriter(hid_t file, void *ctx)
{
  StgssaStudyWriteCtx *w = (StgssaStudyWriteCtx *)ctx;
  StgssaStudy          s = w->s;
  hid_t                members, study;
  PetscReal           *loss;
  const char         **names;
  hsize_t              dims[1] = {(hsize_t)s->nm};

  PetscFunctionBegin;
  PetscCall(StgssaH5WriteRunInfo(file, s->comm, ""));
  PetscCall(PetscMalloc2(s->nm, &loss, s->nm, &names));
  PetscCallHDF5(members = H5Gcreate2(file, "members", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  for (PetscInt m = 0; m < s->nm; m++) {
    char path[PETSC_MAX_PATH_LEN];
    names[m] = s->tab.names[s->rows[m]];
    loss[m]  = (PetscReal)NAN;
    if (w->status[m] < 0) continue; /* failed: nothing to copy */
    PetscCall(StgssaStudyMemberPath(s, m, path, sizeof(path)));
    PetscCall(StgssaStudyCopyMember(members, path, names[m], &loss[m]));
  }
  PetscCallHDF5(H5Gclose(members));
  PetscCallHDF5(study = H5Gcreate2(file, "study", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  PetscCall(StgssaH5WriteAttrStrings(study, "members", s->nm, names));
  PetscCall(StgssaH5WriteAttrInt64(study, "groups", s->ngroups));
  PetscCall(StgssaH5WriteAttrString(study, "study_file", s->file));
  PetscCall(StgssaH5WriteText(study, "table", s->text)); /* any length: a dataset */
  PetscCall(StgssaH5WriteAttrString(study, "members_directory", s->dir));
  PetscCall(StgssaH5WriteDoubles(study, "loss", 1, dims, loss));
  PetscCall(StgssaH5WriteDoubles(study, "wall_seconds", 1, dims, w->seconds));
  PetscCall(StgssaH5WriteDoubles(study, "group", 1, dims, w->group));
  PetscCall(StgssaH5WriteDoubles(study, "status", 1, dims, w->status));
  {
    hid_t ds;
    PetscCallHDF5(ds = H5Dopen2(study, "status", H5P_DEFAULT));
    PetscCall(StgssaH5WriteAttrString(ds, "meaning", "1: run now, 0: complete from an earlier run (reused), -1: failed"));
    PetscCallHDF5(H5Dclose(ds));
    PetscCallHDF5(ds = H5Dopen2(study, "group", H5P_DEFAULT));
    PetscCall(StgssaH5WriteAttrString(ds, "meaning", "group of ranks that ran the member (-1: reused)"));
    PetscCallHDF5(H5Dclose(ds));
  }
  PetscCallHDF5(H5Gclose(study));
  PetscCall(PetscFree2(loss, names));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaStudyRun(StgssaStudy s, PetscInt *failed)
{
  PetscMPIInt         rank, grank;
  MPI_Win             win;
  int                *counter = NULL, one = 1, next = 0;
  PetscInt           *todo, ntodo = 0;
  PetscReal          *mine, *all; /* per member: seconds, group, status (contributed by the group leader) */
  StgssaStudyWriteCtx w;

  PetscFunctionBegin;
  PetscCall(StgssaStudySetUp(s));
  PetscCallMPI(MPI_Comm_rank(s->comm, &rank));
  PetscCallMPI(MPI_Comm_rank(s->gcomm, &grank));
  PetscCall(PetscMalloc1(s->nm, &todo));
  PetscCall(PetscCalloc2(3 * s->nm, &mine, 3 * s->nm, &all));
  for (PetscInt m = 0; m < s->nm; m++) {
    if (s->state[m] != MEMBER_DONE) todo[ntodo++] = m;
    else if (rank == 0) { /* reused: reported once, by rank 0 */
      mine[3 * m + 0] = (PetscReal)NAN;
      mine[3 * m + 1] = -1;
      mine[3 * m + 2] = 0;
    }
  }
  PetscCall(PetscPrintf(s->comm, "Study %s: %" PetscInt_FMT " members, %" PetscInt_FMT " to run (%" PetscInt_FMT " complete from an earlier run) on %" PetscInt_FMT " group(s); member files in %s/\n", s->file, s->nm, ntodo, s->nm - ntodo, s->ngroups, s->dir));

  /* the shared counter: the next entry of todo[] to hand out */
  PetscCallMPI(MPI_Win_allocate(rank == 0 ? (MPI_Aint)sizeof(int) : 0, sizeof(int), MPI_INFO_NULL, s->comm, &counter, &win));
  if (rank == 0) {
    PetscCallMPI(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win));
    *counter = 0;
    PetscCallMPI(MPI_Win_unlock(0, win));
  }
  PetscCallMPI(MPI_Barrier(s->comm));
  for (;;) {
    PetscReal      seconds = 0;
    PetscErrorCode ierr    = 0;
    PetscInt       m;
    if (grank == 0) {
      PetscCallMPI(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win));
      PetscCallMPI(MPI_Fetch_and_op(&one, &next, MPI_INT, 0, 0, MPI_SUM, win));
      PetscCallMPI(MPI_Win_unlock(0, win));
    }
    PetscCallMPI(MPI_Bcast(&next, 1, MPI_INT, 0, s->gcomm));
    if (next >= ntodo) break;
    m = todo[next];
    if (grank == 0) PetscCall(PetscFPrintf(PETSC_COMM_SELF, PETSC_STDOUT, "Study: member %s (%d of %" PetscInt_FMT ") on group %" PetscInt_FMT "%s\n", s->tab.names[s->rows[m]], next + 1, ntodo, s->group, s->state[m] == MEMBER_RESUME ? ", resumed from its checkpoint" : ""));
    PetscCall(StgssaStudyRunMember(s, m, &seconds, &ierr));
    if (grank == 0) {
      mine[3 * m + 0] = seconds;
      mine[3 * m + 1] = (PetscReal)s->group;
      mine[3 * m + 2] = ierr ? -1 : 1;
    }
  }
  PetscCallMPI(MPI_Win_free(&win));
  PetscCallMPI(MPI_Allreduce(mine, all, (PetscMPIInt)(3 * s->nm), MPIU_REAL, MPIU_SUM, s->comm));
  PetscCall(PetscMalloc3(s->nm, &w.seconds, s->nm, &w.group, s->nm, &w.status));
  w.s     = s;
  *failed = 0;
  for (PetscInt m = 0; m < s->nm; m++) {
    w.seconds[m] = all[3 * m + 0];
    w.group[m]   = all[3 * m + 1];
    w.status[m]  = all[3 * m + 2];
    if (w.status[m] < 0) (*failed)++;
  }
  PetscCall(StgssaOutputWrite(s->comm, s->output, StgssaStudyWriter, &w));
  PetscCall(PetscPrintf(s->comm, "Study %s: %" PetscInt_FMT " of %" PetscInt_FMT " members complete%s; wrote %s\n", s->file, s->nm - *failed, s->nm, *failed ? " (failed members were reported above; rerun the study to retry them)" : "", s->output));
  PetscCall(PetscFree3(w.seconds, w.group, w.status));
  PetscCall(PetscFree2(mine, all));
  PetscCall(PetscFree(todo));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaStudyDestroy(StgssaStudy *study)
{
  StgssaStudy s = *study;

  PetscFunctionBegin;
  if (!s) PetscFunctionReturn(0);
  if (s->gcomm != MPI_COMM_NULL) PetscCallMPI(MPI_Comm_free(&s->gcomm));
  for (PetscInt m = 0; m < s->nm && s->sig; m++) PetscCall(PetscFree(s->sig[m]));
  PetscCall(PetscFree2(s->state, s->sig));
  PetscCall(PetscFree(s->rows));
  PetscCall(PetscFree(s->text));
  PetscCall(PetscFree(s->base_params));
  StgssaStudyTableFree(&s->tab);
  PetscCall(StgssaStudyRestoreOptions(s));
  PetscCall(PetscFree(*study));
  PetscFunctionReturn(0);
}
