/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Benchmark (on demand, never pass/fail): events per second of the direct method (StgssaSSARun,
  O(R) per event) against the next-reaction method (StgssaSSARunNRM, O(deps log R) per event) on
  a generated sparse network of R unimolecular conversions among N = R/2 species (issue 9):
    A_i -> A_{i+1 mod N}   rate 1
    A_i -> A_{h(i)}        rate 0.5   (h a fixed pseudo-random map)
  10 molecules per species at t = 0; every reaction has at most 4 dependents. Trajectories run
  until ~ -bench_events events each (tfinal = events / (15 N)), repeated for >= -bench_seconds.
  Prints events/s of both methods and the ratio nrm/direct for R = 10, 100, 1000, 10000, and the
  events/s of gradient mode's engine there: ST-GS tangents of P = 2 log-rates (k1, k2), O(R P) per
  event (R exponential draws and the relaxed choice over every active reaction). Issue 16 added
  the sum-tree direct method (tree), the rejection-based SSA (rssa) and the score on large
  networks (StgssaTangentWorkUseLarge: the tree with lazily integrated propensities; at R = 10 the
  direct method's score, the large engine applies from STGSSA_SSA_TREE_MIN_R reactions on).
  usage: bench_nrm [-bench_seconds 1] [-bench_events 20000] [-bench_rmax 10000]
*/
#include <stgssa/stgssa.h>

static PetscErrorCode BuildModel(PetscInt R, char **text)
{
  const PetscInt N = R / 2;
  size_t         len = 256 + (size_t)N * 80, off = 0;
  char          *s;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(len, &s));
  off += (size_t)snprintf(s + off, len - off, "begin parameters\n k1 1\n k2 0.5\nend parameters\nbegin species\n");
  for (PetscInt i = 0; i < N; i++) off += (size_t)snprintf(s + off, len - off, " A%" PetscInt_FMT " 10\n", i);
  off += (size_t)snprintf(s + off, len - off, "end species\nbegin reactions\n");
  for (PetscInt i = 0; i < N; i++) {
    const PetscInt h = (PetscInt)(((uint64_t)i * 2654435761u + 12345u) % (uint64_t)N);
    off += (size_t)snprintf(s + off, len - off, " A%" PetscInt_FMT " -> A%" PetscInt_FMT " k1\n A%" PetscInt_FMT " -> A%" PetscInt_FMT " k2\n", i, (i + 1) % N, i, h == i ? (i + 2) % N : h);
  }
  (void)snprintf(s + off, len - off, "end reactions\n");
  *text = s;
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscReal seconds = 1.0;
  PetscInt  nev = 20000, rmax = 10000;
  int64_t   sink = 0;

  PetscCall(PetscInitialize(&argc, &argv, NULL, "direct vs next-reaction method, events/s against R\n"));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Benchmark options", NULL);
  PetscCall(PetscOptionsReal("-bench_seconds", "Minimum seconds per measurement", NULL, seconds, &seconds, NULL));
  PetscCall(PetscOptionsInt("-bench_events", "Events per trajectory (sets tfinal)", NULL, nev, &nev, NULL));
  PetscCall(PetscOptionsInt("-bench_rmax", "Largest R (10, 100, ... up to it)", NULL, rmax, &rmax, NULL));
  PetscOptionsEnd();
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "sparse unimolecular network, ~%" PetscInt_FMT " events per trajectory, >= %g s per measurement\n", nev, (double)seconds));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%8s %12s %12s %10s %12s %10s %12s %10s %14s %12s %14s %12s\n", "R", "direct ev/s", "nrm ev/s", "nrm/direct", "tree ev/s", "tree/dir", "rssa ev/s", "rssa/dir", "ST-GS P=2 ev/s", "ST-GS/direct", "score-large", "score/rssa"));
  for (PetscInt R = 10; R <= rmax; R *= 10) {
    StgssaModel          model;
    const StgssaNetwork *net;
    StgssaSSAWork        work;
    StgssaSSAConfig      cfg;
    char                *text = NULL;
    double               rate[6], ts;
    const PetscInt       S = R / 2;
    int64_t             *samples;

    PetscCall(BuildModel(R, &text));
    PetscCall(StgssaModelCreate(PETSC_COMM_SELF, &model));
    PetscCall(StgssaModelLoadFromString(model, text, "ring"));
    PetscCall(StgssaModelGetNetwork(model, &net));
    PetscCheck(net->R == R, PETSC_COMM_SELF, PETSC_ERR_PLIB, "expected %" PetscInt_FMT " reactions", R);
    ts = (double)nev / (15.0 * (double)S); /* a_0 = 10 N (1 + 0.5) */
    cfg.net = net, cfg.seed = 1, cfg.iteration = 0, cfg.tfinal = ts, cfg.t0 = 0.0, cfg.thin_step = ts / 64, cfg.max_events = INT64_MAX, cfg.nsample = 1, cfg.sample_times = &ts;
    PetscCall(StgssaSSAWorkCreate(net, &work));
    PetscCall(PetscMalloc1(S, &samples));
    for (int m = 0; m < 6; m++) {
      PetscLogDouble      t0, t1;
      int64_t             events = 0;
      uint64_t            traj   = 0;
      StgssaTangentConfig tc;
      StgssaTangentWork   tw;
      StgssaTangentRecord rec;
      PetscInt           *param = NULL, obs[1] = {0};
      if (m == 2 || m == 5) { /* reactions alternate k1, k2 (BuildModel); m = 5: the score on large networks (tree.c) */
        PetscCall(PetscMalloc1(R, &param));
        for (PetscInt j = 0; j < R; j++) param[j] = j % 2;
        PetscCall(PetscMemzero(&tc, sizeof(tc)));
        tc.type = m == 2 ? STGSSA_GRADIENT_STGS : STGSSA_GRADIENT_SCORE, tc.P = 2, tc.rxn_param = param, tc.lambda = 1.0, tc.nobs = 1, tc.obs = obs;
        PetscCall(StgssaTangentWorkCreate(net, 2, &tw));
        if (m == 5) PetscCall(StgssaTangentWorkUseLarge(net, &tw));
        PetscCall(StgssaTangentRecordCreate(1, 1, R, 2, &rec));
      }
      PetscCall(PetscTime(&t0));
      do {
        StgssaTrajInfo info;
        if (m == 1) PetscCall(StgssaSSARunNRM(&cfg, traj++, &work, samples, &info));
        else if (m == 0) PetscCall(StgssaSSARun(&cfg, traj++, &work, samples, &info));
        else if (m == 3) PetscCall(StgssaSSARunTree(&cfg, traj++, &work, samples, &info));
        else if (m == 4) PetscCall(StgssaSSARunRSSA(&cfg, traj++, &work, samples, &info));
        else PetscCall(StgssaSSARunTangent(&cfg, &tc, traj++, &tw, &rec, &info));
        events += info.events;
        sink += m == 2 || m == 5 ? (int64_t)rec.x[0] : samples[0];
        PetscCall(PetscTime(&t1));
      } while (t1 - t0 < seconds);
      rate[m] = (double)events / (t1 - t0);
      if (m == 2 || m == 5) {
        PetscCall(StgssaTangentRecordDestroy(&rec));
        PetscCall(StgssaTangentWorkDestroy(&tw));
        PetscCall(PetscFree(param));
      }
    }
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%8" PetscInt_FMT " %12.4g %12.4g %10.3f %12.4g %10.3f %12.4g %10.3f %14.4g %12.3f %14.4g %12.3f\n", R, rate[0], rate[1], rate[1] / rate[0], rate[3], rate[3] / rate[0], rate[4], rate[4] / rate[0], rate[2], rate[2] / rate[0], rate[5], rate[5] / rate[4]));
    PetscCall(PetscFree(samples));
    PetscCall(StgssaSSAWorkDestroy(&work));
    PetscCall(StgssaModelDestroy(&model));
    PetscCall(PetscFree(text));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "(checksum %" PRId64 ")\n", sink));
  PetscCall(PetscFinalize());
  return 0;
}
