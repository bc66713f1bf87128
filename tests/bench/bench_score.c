/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Benchmark (on demand, never pass/fail): events per second of the score function against the
  number P of fitted log-rates (issue 17), engine level (StgssaSSARunTangent, no evaluator).
  Model: n independent birth-death species (0 -> X_i at k_i, X_i -> 0 at g_i, from 0; R = 2n),
  the first P/2 species' k_i, g_i fitted. Columns, each the median of 3 interleaved repetitions of
  >= -bench_seconds:
    plain        StgssaSSARun (values only; the direct method)
    acc          the score by the per-reaction accumulators (score_acc.h), direct method
    per-event    the score by the per-event a_0 derivative (w->score_lazy = 0: the path before
                 issue 17, O(R + P) per event)
    rssa-acc     the score on rssa (StgssaTangentWorkUseLarge; from 64 reactions on)
  The same trajectories in every column (seed, trajectory index) but rssa's.
  usage: bench_score [-bench_seconds 1] [-bench_species 100] [-bench_tfinal 1]
*/
#include <stgssa/stgssa.h>

static PetscErrorCode BuildModel(PetscInt n, char **text)
{
  size_t len = 256 + (size_t)n * 120, off = 0;
  char  *s;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(len, &s));
  off += (size_t)snprintf(s + off, len - off, "begin parameters\n");
  for (PetscInt i = 0; i < n; i++) off += (size_t)snprintf(s + off, len - off, " k%" PetscInt_FMT " %g\n g%" PetscInt_FMT " %g\n", i, 4.0 + (double)(i % 9), i, 0.5 + 0.25 * (double)(i % 5));
  off += (size_t)snprintf(s + off, len - off, "end parameters\nbegin species\n");
  for (PetscInt i = 0; i < n; i++) off += (size_t)snprintf(s + off, len - off, " X%" PetscInt_FMT " 0\n", i);
  off += (size_t)snprintf(s + off, len - off, "end species\nbegin reactions\n");
  for (PetscInt i = 0; i < n; i++) off += (size_t)snprintf(s + off, len - off, " 0 -> X%" PetscInt_FMT " k%" PetscInt_FMT "\n X%" PetscInt_FMT " -> 0 g%" PetscInt_FMT "\n", i, i, i, i);
  (void)snprintf(s + off, len - off, "end reactions\n");
  *text = s;
  PetscFunctionReturn(0);
}

/* mode 0: plain, 1: accumulators, 2: per event, 3: rssa; events/s over >= seconds */
static PetscErrorCode Measure(const StgssaNetwork *net, PetscInt P, int mode, double tfinal, PetscReal seconds, double *rate)
{
  const PetscInt      R = net->R, S = net->S;
  PetscInt           *rxn, *fit, *obs;
  StgssaSSAConfig     cfg;
  StgssaTangentConfig tc;
  StgssaTangentWork   w;
  StgssaTangentRecord rec;
  StgssaSSAWork       sw;
  int64_t            *smp, events = 0;
  uint64_t            traj = 0;
  PetscLogDouble      t0, t1;
  double              t = tfinal;

  PetscFunctionBegin;
  PetscCall(PetscMalloc4(R, &rxn, P + 1, &fit, S, &obs, S, &smp));
  for (PetscInt j = 0; j < R; j++) rxn[j] = j < P ? j : -1;
  for (PetscInt p = 0; p < P; p++) fit[p] = p;
  for (PetscInt s = 0; s < S; s++) obs[s] = s;
  PetscCall(PetscMemzero(&cfg, sizeof(cfg)));
  PetscCall(PetscMemzero(&tc, sizeof(tc)));
  cfg.net = net, cfg.seed = 1, cfg.tfinal = tfinal, cfg.thin_step = tfinal / 64, cfg.max_events = 1000000000, cfg.nsample = 1, cfg.sample_times = &t;
  tc.type = STGSSA_GRADIENT_SCORE, tc.P = P, tc.rxn_param = rxn, tc.fit_param = fit, tc.lambda = 1.0, tc.nobs = S, tc.obs = obs, tc.count_from = -1.0;
  PetscCall(StgssaTangentWorkCreate(net, P, &w));
  if (mode == 2) w.score_lazy = 0;
  if (mode == 3) PetscCall(StgssaTangentWorkUseLarge(net, &w));
  PetscCall(StgssaTangentRecordCreate(1, S, R, P, &rec));
  PetscCall(StgssaSSAWorkCreate(net, &sw));
  PetscCall(PetscTime(&t0));
  do {
    StgssaTrajInfo info;
    for (int k = 0; k < 16; k++, traj++) {
      if (mode == 0) PetscCall(StgssaSSARun(&cfg, traj, &sw, smp, &info));
      else PetscCall(StgssaSSARunTangent(&cfg, &tc, traj, &w, &rec, &info));
      events += info.events;
    }
    PetscCall(PetscTime(&t1));
  } while (t1 - t0 < seconds);
  *rate = (double)events / (t1 - t0);
  PetscCall(StgssaSSAWorkDestroy(&sw));
  PetscCall(StgssaTangentRecordDestroy(&rec));
  PetscCall(StgssaTangentWorkDestroy(&w));
  PetscCall(PetscFree4(rxn, fit, obs, smp));
  PetscFunctionReturn(0);
}

static int CmpDouble(const void *a, const void *b) { return (*(const double *)a > *(const double *)b) - (*(const double *)a < *(const double *)b); }

int main(int argc, char **argv)
{
  PetscReal seconds = 1.0, tfinal = 1.0;
  PetscInt  n = 100, Ps[3];

  PetscCall(PetscInitialize(&argc, &argv, NULL, "score events/s against P\n"));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Benchmark options", NULL);
  PetscCall(PetscOptionsReal("-bench_seconds", "Minimum seconds per measurement", NULL, seconds, &seconds, NULL));
  PetscCall(PetscOptionsInt("-bench_species", "Birth-death species (R = 2n)", NULL, n, &n, NULL));
  PetscCall(PetscOptionsReal("-bench_tfinal", "End time of each trajectory", NULL, tfinal, &tfinal, NULL));
  PetscOptionsEnd();
  Ps[0] = 2, Ps[1] = PetscMin(64, 2 * n), Ps[2] = 2 * n;
  {
    StgssaModel          model;
    const StgssaNetwork *net;
    char                *text = NULL;
    PetscCall(BuildModel(n, &text));
    PetscCall(StgssaModelCreate(PETSC_COMM_SELF, &model));
    PetscCall(StgssaModelLoadFromString(model, text, "bd.model"));
    PetscCall(StgssaModelGetNetwork(model, &net));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%" PetscInt_FMT " birth-death species (R = %" PetscInt_FMT "), tfinal %g, medians of 3 interleaved runs of >= %g s\n", n, net->R, (double)tfinal, (double)seconds));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%5s %12s %12s %12s %12s %10s %10s\n", "P", "plain ev/s", "acc ev/s", "per-event", "rssa-acc", "acc/plain", "acc/per-ev"));
    for (int q = 0; q < 3; q++) {
      double r[4][3], med[4];
      if (q > 0 && Ps[q] == Ps[q - 1]) continue;
      for (int rep = 0; rep < 3; rep++)
        for (int mode = 0; mode < 4; mode++) {
          if (mode == 3 && net->R < STGSSA_SSA_TREE_MIN_R) r[mode][rep] = 0;
          else PetscCall(Measure(net, Ps[q], mode, tfinal, seconds, &r[mode][rep]));
        }
      for (int mode = 0; mode < 4; mode++) {
        qsort(r[mode], 3, sizeof(double), CmpDouble);
        med[mode] = r[mode][1];
      }
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%5" PetscInt_FMT " %12.4g %12.4g %12.4g %12.4g %10.2f %10.2f\n", Ps[q], med[0], med[1], med[2], med[3], med[1] / med[0], med[1] / med[2]));
    }
    PetscCall(StgssaModelDestroy(&model));
    PetscCall(PetscFree(text));
  }
  PetscCall(PetscFinalize());
  return 0;
}
