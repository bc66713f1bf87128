/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Unknown options: a name under -stgssa_, -tao_ or -fsp_ that no object of the program reads (a
  typo) stops a run before any work, naming the closest known option.

  The known names are those `stgssa_hpc -help` lists: every object's SetFromOptions is run once
  on an options database holding only -help, with PETSc's help printer replaced by one that
  collects the option names it prints (the run's objects, TAO of the types below, the FSP's
  integrator and linear solvers with their prefixes fsp_ and fsp_stage_, a study's options). PETSc reads a few
  viewer options only during a solve (-tao_view, -fsp_ksp_converged_reason, ...): names of the
  families below count as known too.
  Rules: after a run's SetUp, an option the run has not read is
    - an error if it is under -stgssa_, -tao_ or -fsp_ and not known (exit 1, nothing written);
    - otherwise, if still unread at the end of the run, a note (an options file shared by
      several modes may carry options another mode reads, e.g. -tao_adam_* for a blmvm fit).
*/
#include <stgssa/stgssa.h>
#include <stgssa/run.h>
#include <stgssa/study.h>
#include <petsctao.h>
#include <petscts.h>
#include <stdarg.h>
#include <ctype.h>

#define STGSSA_HELP_PREFIX "zzstgssahelp" /* options prefix of the help pass's TAO objects (see StgssaHelpPass) */
static char    *StgssaHelpText; /* text printed by the help pass */
static size_t   StgssaHelpLen, StgssaHelpCap;
static char   **StgssaKnown; /* names without the dash */
static PetscInt StgssaNKnown, StgssaKnownCap;

static PetscErrorCode StgssaKnownFinalize(void)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < StgssaNKnown; i++)
    PetscCall(PetscFree(StgssaKnown[i]));
  PetscCall(PetscFree(StgssaKnown));
  StgssaNKnown = StgssaKnownCap = 0;
  PetscFunctionReturn(0);
}

static PetscErrorCode StgssaHelpCapture(MPI_Comm comm, const char fmt[], ...)
{
  va_list ap;
  int     n;

  PetscFunctionBegin;
  (void)comm;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n <= 0) PetscFunctionReturn(0);
  if (StgssaHelpLen + (size_t)n + 1 > StgssaHelpCap) {
    StgssaHelpCap = 2 * (StgssaHelpLen + (size_t)n + 1) + 4096;
    PetscCall(PetscRealloc(StgssaHelpCap, &StgssaHelpText));
  }
  va_start(ap, fmt);
  (void)vsnprintf(StgssaHelpText + StgssaHelpLen, (size_t)n + 1, fmt, ap);
  va_end(ap);
  StgssaHelpLen += (size_t)n;
  PetscFunctionReturn(0);
}

/* PETSc lists the types of a *_type option with PetscFPrintf (through PetscVFPrintf) */
static PetscErrorCode StgssaVFPrintfCapture(FILE *fd, const char fmt[], va_list ap)
{
  va_list cp;
  int     n;

  PetscFunctionBegin;
  (void)fd;
  va_copy(cp, ap);
  n = vsnprintf(NULL, 0, fmt, cp);
  va_end(cp);
  if (n <= 0) PetscFunctionReturn(0);
  if (StgssaHelpLen + (size_t)n + 1 > StgssaHelpCap) {
    StgssaHelpCap = 2 * (StgssaHelpLen + (size_t)n + 1) + 4096;
    PetscCall(PetscRealloc(StgssaHelpCap, &StgssaHelpText));
  }
  (void)vsnprintf(StgssaHelpText + StgssaHelpLen, (size_t)n + 1, fmt, ap);
  StgssaHelpLen += (size_t)n;
  PetscFunctionReturn(0);
}

static PetscBool StgssaCheckedPrefix(const char *name)
{
  return (PetscBool)(!strncmp(name, "stgssa_", 7) || !strncmp(name, "tao_", 4) || !strncmp(name, "fsp_", 4));
}

static PetscErrorCode StgssaKnownAdd(const char *name, size_t len)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < StgssaNKnown; i++)
    if (strlen(StgssaKnown[i]) == len && !strncmp(StgssaKnown[i], name, len)) PetscFunctionReturn(0);
  if (StgssaNKnown == StgssaKnownCap) {
    StgssaKnownCap = StgssaKnownCap ? 2 * StgssaKnownCap : 256;
    PetscCall(PetscRealloc(sizeof(char *) * (size_t)StgssaKnownCap, &StgssaKnown));
  }
  PetscCall(PetscMalloc1(len + 1, &StgssaKnown[StgssaNKnown]));
  PetscCall(PetscMemcpy(StgssaKnown[StgssaNKnown], name, len));
  StgssaKnown[StgssaNKnown++][len] = 0;
  PetscFunctionReturn(0);
}

/* The help pass: the SetFromOptions of every object, with -help only, printing into the buffer. */
static PetscErrorCode StgssaHelpPass(MPI_Comm comm)
{
  static const char *const taotypes[] = {"adam", "fisher", "blmvm", "lmvm", "bqnls", "nm", "cg", "bncg", "bnls", "bntr", "pounders"};
  StgssaRun                r;
  PetscErrorCode           ierr = 0;

  PetscFunctionBegin;
  PetscCall(StgssaRunCreate(comm, &r));
  PetscCall(StgssaRunSetFromOptions(r)); /* -help: every module of a run (its TAO as adam) */
  PetscCall(StgssaRunDestroy(&r));
  {
    StgssaStudy st; /* a study's options (-stgssa_study_groups ...) are known without -stgssa_study too */
    PetscCall(StgssaStudyCreate(comm, &st));
    PetscCall(StgssaStudySetFromOptions(st));
    PetscCall(StgssaStudyDestroy(&st));
  }
  for (size_t i = 0; i < sizeof(taotypes) / sizeof(taotypes[0]); i++) {
    Tao  tao;
    char prefix[32];
    /* PETSc prints the help of an options block once per (prefix, title): a prefix of its own
       for each type, stripped again when the names are read (StgssaKnownOptions) */
    PetscCall(PetscSNPrintf(prefix, sizeof(prefix), STGSSA_HELP_PREFIX "%d_", (int)i));
    PetscCall(TaoCreate(comm, &tao));
    PetscCall(TaoSetOptionsPrefix(tao, prefix));
    PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL)); /* a type this PETSc lacks */
    ierr = TaoSetType(tao, taotypes[i]);
    if (!ierr) ierr = TaoSetFromOptions(tao);
    PetscCall(PetscPopErrorHandler());
    PetscCall(TaoDestroy(&tao));
  }
  { /* the FSP's solvers: the integrator (fsp_), the steady state (fsp_) and the stages (fsp_stage_) */
    TS   ts;
    KSP  ksp;
    SNES snes;
    PetscCall(TSCreate(comm, &ts));
    PetscCall(TSSetOptionsPrefix(ts, "fsp_"));
    PetscCall(TSSetProblemType(ts, TS_LINEAR));
    PetscCall(TSSetType(ts, TSARKIMEX));
    PetscCall(TSGetSNES(ts, &snes));
    PetscCall(SNESSetType(snes, SNESKSPONLY));
    PetscCall(TSSetFromOptions(ts));
    PetscCall(TSDestroy(&ts));
    for (int k = 0; k < 2; k++) {
      PC pc;
      PetscCall(KSPCreate(comm, &ksp));
      PetscCall(KSPSetOptionsPrefix(ksp, k ? "fsp_stage_" : "fsp_"));
      PetscCall(KSPSetType(ksp, KSPPREONLY));
      PetscCall(KSPGetPC(ksp, &pc));
      PetscCall(PCSetType(pc, PCLU));
      PetscCall(KSPSetFromOptions(ksp));
      PetscCall(KSPDestroy(&ksp));
    }
  }
  PetscFunctionReturn(0);
}

/* Collect the known names once per process. */
static PetscErrorCode StgssaKnownOptions(MPI_Comm comm)
{
  PetscOptions opts;
  PetscErrorCode (*saved)(MPI_Comm, const char[], ...)    = PetscHelpPrintf;
  PetscErrorCode (*savedv)(FILE *, const char[], va_list) = PetscVFPrintf;
  PetscErrorCode ierr;

  PetscFunctionBegin;
  if (StgssaNKnown) PetscFunctionReturn(0);
  PetscCall(PetscOptionsCreate(&opts));
  PetscCall(PetscOptionsSetValue(opts, "-help", NULL));
  PetscCall(PetscOptionsPush(opts));
  PetscHelpPrintf = StgssaHelpCapture;
  PetscVFPrintf   = StgssaVFPrintfCapture;
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = StgssaHelpPass(PETSC_COMM_SELF); /* on each rank alone: PETSc prints type lists on rank 0 of a communicator only */
  PetscCall(PetscPopErrorHandler());
  PetscHelpPrintf = saved;
  PetscVFPrintf   = savedv;
  PetscCall(PetscOptionsPop());
  PetscCall(PetscOptionsDestroy(&opts));
  PetscCheck(!ierr, comm, PETSC_ERR_PLIB, "Listing the known options failed (error %d)", (int)ierr);
  /* names: a dash after white space (or at the start), then [A-Za-z0-9_]+ */
  for (size_t i = 0; i < StgssaHelpLen; i++) {
    const char *c = StgssaHelpText + i;
    size_t      n = 0;
    if (c[0] != '-' || (i > 0 && c[-1] != ' ' && c[-1] != '\t' && c[-1] != '\n' && c[-1] != '(')) continue;
    if (!strncmp(c + 1, STGSSA_HELP_PREFIX, strlen(STGSSA_HELP_PREFIX))) { /* -zzhelpK_tao_...: the name is tao_... */
      size_t k = strlen(STGSSA_HELP_PREFIX);
      while (isdigit((unsigned char)c[1 + k])) k++;
      if (c[1 + k] == '_') { /* c[1 + k] stands in for the dash */
        i += k + 1;
        c += k + 1;
      }
    }
    while (c[1 + n] && (isalnum((unsigned char)c[1 + n]) || c[1 + n] == '_'))
      n++;
    if (n && StgssaCheckedPrefix(c + 1)) PetscCall(StgssaKnownAdd(c + 1, n));
    i += n;
  }
  PetscCall(PetscFree(StgssaHelpText));
  StgssaHelpLen = StgssaHelpCap = 0;
  PetscCall(PetscRegisterFinalize(StgssaKnownFinalize));
  PetscFunctionReturn(0);
}

/* Names PETSc reads only while solving (viewers, reasons, -tao_test_gradient) or from a solver package at
   factorization (-fsp_mat_mumps_*): known without appearing in -help. */
static PetscBool StgssaSolveTimeName(const char *name)
{
  if (!strncmp(name, "tao_", 4) || !strncmp(name, "fsp_", 4)) {
    if (strstr(name, "_view") || strstr(name, "_converged_reason") || strstr(name, "_monitor") || strstr(name, "_test_")) return PETSC_TRUE;
    if (!strncmp(name, "fsp_mat_", 8) || !strncmp(name, "fsp_stage_mat_", 14)) return PETSC_TRUE;
  }
  return PETSC_FALSE;
}

static PetscBool StgssaIsKnown(const char *name)
{
  for (PetscInt i = 0; i < StgssaNKnown; i++)
    if (!strcmp(StgssaKnown[i], name)) return PETSC_TRUE;
  return StgssaSolveTimeName(name);
}

/* Levenshtein distance (insertions, deletions, substitutions) of short strings. */
static PetscInt StgssaEditDistance(const char *a, const char *b)
{
  PetscInt la = (PetscInt)strlen(a), lb = (PetscInt)strlen(b), d[129];
  if (la > 128 || lb > 128) return PETSC_MAX_INT;
  for (PetscInt j = 0; j <= lb; j++)
    d[j] = j;
  for (PetscInt i = 1; i <= la; i++) {
    PetscInt diag = d[0];
    d[0]          = i;
    for (PetscInt j = 1; j <= lb; j++) {
      const PetscInt up = d[j];
      d[j]              = PetscMin(PetscMin(d[j] + 1, d[j - 1] + 1), diag + (a[i - 1] != b[j - 1]));
      diag              = up;
    }
  }
  return d[lb];
}

PetscErrorCode StgssaOptionsCollectKnown(MPI_Comm comm)
{
  PetscBool help;

  PetscFunctionBegin;
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (!help) PetscCall(StgssaKnownOptions(comm));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOptionsCheckUnknown(MPI_Comm comm)
{
  PetscInt  n;
  char    **names, **values;
  PetscBool help;

  PetscFunctionBegin;
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (help) PetscFunctionReturn(0);
  PetscCall(StgssaKnownOptions(comm));
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt i = 0; i < n; i++) {
    const char *name  = names[i][0] == '-' ? names[i] + 1 : names[i];
    const char *best  = NULL;
    PetscInt    dbest = PETSC_MAX_INT;
    if (!StgssaCheckedPrefix(name) || StgssaIsKnown(name)) continue;
    for (PetscInt k = 0; k < StgssaNKnown; k++) {
      const PetscInt d = StgssaEditDistance(name, StgssaKnown[k]);
      if (d < dbest) dbest = d, best = StgssaKnown[k];
    }
    {
      char msg[1024];
      PetscCall(PetscSNPrintf(msg, sizeof(msg), "unknown option -%s%s%s%s (stgssa_hpc -help lists every option)", name, best ? "; did you mean -" : "", best ? best : "", best ? "?" : ""));
      PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
      SETERRQ(comm, PETSC_ERR_USER_INPUT, "%s", msg);
    }
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaOptionsViewUnused(MPI_Comm comm)
{
  PetscInt n, k = 0;
  char   **names, **values;

  PetscFunctionBegin;
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt i = 0; i < n; i++) {
    const char *name = names[i][0] == '-' ? names[i] + 1 : names[i];
    if (!StgssaCheckedPrefix(name)) continue;
    PetscCall(PetscPrintf(comm, "%s -%s", k++ ? "," : "Note: options given but not used by this run:", name));
  }
  if (k) PetscCall(PetscPrintf(comm, "\n"));
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscFunctionReturn(0);
}
