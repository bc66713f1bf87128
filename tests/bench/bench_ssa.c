/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Benchmark (on demand, never pass/fail): SSA events per second on the telegraph model, one rank.
  Measures, in alternating slices (every mode once per round, -bench_rounds rounds of
  -bench_seconds each), so that a drift of the machine's speed during the run hits all alike:
    baseline  a minimal hand-written direct-method SSA for this one model (xoshiro256+ RNG,
              propensities recomputed every event, no sampling), compiled with the same flags;
    engine    StgssaSSARunMany, -bench_batch paths per call (Philox counter-based RNG, the model as
              a general network: on this first-order model the vector step of ssa_tiny.h);
    simulate  the whole simulate mode (StgssaEnsembleRun: engine + exact histograms + reduction);
    values    the derivative engine recording values only (P = 0);
    ST-GS     StgssaSSARunTangentMany, -bench_batch paths per call: ST-GS tangents, P = 3 (k_on,
              k_off, k_tx) and P = 4 (all rates);
    score     the engine with score-function derivatives, P = 3.
  Prints the median rate of each and the median over rounds of its ratio to the baseline of the
  same round, against issue 9's targets: plain >= 0.67, gradient (ST-GS, P = 3) >= 0.25.
  usage: bench_ssa [-bench_seconds 0.25] [-bench_rounds 9] [-bench_tfinal 1000] [-bench_batch 4]
*/
#include <stgssa/stgssa.h>

static const char *telegraph = "begin parameters\n k_on 0.5\n k_off 2\n k_tx 20\n k_deg 1\nend parameters\n"
                               "begin species\n G_off 1\n G_on 0\n M 0\nend species\n"
                               "begin reactions\n G_off -> G_on k_on\n G_on -> G_off k_off\n G_on -> G_on + M k_tx\n M -> 0 k_deg\nend reactions\n";

/* xoshiro256+ (Blackman & Vigna), a fast non-cryptographic generator, for the baseline only */
typedef struct {
  uint64_t s[4];
} Xoshiro;
static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static inline double   xo_uniform(Xoshiro *r)
{
  const uint64_t res = r->s[0] + r->s[3], t = r->s[1] << 17;
  r->s[2] ^= r->s[0];
  r->s[3] ^= r->s[1];
  r->s[1] ^= r->s[2];
  r->s[0] ^= r->s[3];
  r->s[2] ^= t;
  r->s[3] = rotl(r->s[3], 45);
  return ((double)(res >> 12) + 0.5) * 0x1.0p-52;
}

/* Minimal direct method for the telegraph model, one trajectory to tfinal; returns events. */
static int64_t baseline_trajectory(Xoshiro *rng, double tfinal, int64_t *mfinal)
{
  const double kon = 0.5, koff = 2, ktx = 20, kdeg = 1;
  int64_t      off = 1, on = 0, m = 0, n = 0;
  double       t = 0;
  for (;;) {
    const double a[4] = {kon * off, koff * on, ktx * on, kdeg * m};
    const double a0 = a[0] + a[1] + a[2] + a[3];
    const double u1 = xo_uniform(rng), u2 = xo_uniform(rng);
    t += -log(u2) / a0;
    if (t > tfinal) break;
    double target = u1 * a0;
    int    j      = 0;
    while (j < 3 && target >= a[j]) target -= a[j++];
    switch (j) {
    case 0: off--, on++; break;
    case 1: on--, off++; break;
    case 2: m++; break;
    default: m--; break;
    }
    n++;
  }
  *mfinal = m;
  return n;
}

typedef enum { BENCH_BASELINE, BENCH_ENGINE, BENCH_SIMULATE, BENCH_VALUES, BENCH_STGS3, BENCH_STGS4, BENCH_SCORE3, BENCH_N } BenchKind;
static const char *bench_names[BENCH_N] = {"baseline (minimal direct method)", "engine   (StgssaSSARunMany)", "simulate (StgssaEnsembleRun)", "values   (derivative engine, P = 0)", "ST-GS    tangents, P = 3", "ST-GS    tangents, P = 4", "score    derivatives, P = 3"};

typedef struct {
  StgssaModel          model;
  const StgssaNetwork *net;
  double               tfinal, seconds;
  Xoshiro              xo;
  uint64_t             traj;  /* next trajectory index (each slice continues where the last ended) */
  PetscInt             batch; /* trajectories per StgssaSSARunMany / StgssaSSARunTangentMany call (interleaved) */
  int64_t              sink;
} Bench;

/* events/s of one slice of kind k */
static PetscErrorCode BenchSlice(Bench *b, BenchKind k, double engine_rate, double *rate)
{
  PetscLogDouble t0, t1;
  int64_t        events = 0;
  double         ts     = b->tfinal;
  StgssaSSAConfig cfg;

  PetscFunctionBeginUser;
  cfg.net = b->net, cfg.seed = 1, cfg.iteration = 0, cfg.tfinal = b->tfinal, cfg.t0 = 0.0, cfg.thin_step = b->tfinal / 64, cfg.max_events = INT64_MAX, cfg.nsample = 1, cfg.sample_times = &ts;
  if (k == BENCH_BASELINE) {
    int64_t m;
    PetscCall(PetscTime(&t0));
    do {
      events += baseline_trajectory(&b->xo, b->tfinal, &m);
      b->sink += m;
      PetscCall(PetscTime(&t1));
    } while (t1 - t0 < b->seconds);
  } else if (k == BENCH_ENGINE) { /* b->batch paths per StgssaSSARunMany call (interleaved) */
    StgssaSSAWork work[4];
    int64_t       samples[4 * 3];
    for (PetscInt q = 0; q < b->batch; q++) PetscCall(StgssaSSAWorkCreate(b->net, &work[q]));
    PetscCall(PetscTime(&t0));
    do {
      StgssaTrajInfo info[4];
      uint64_t       traj[4] = {b->traj, b->traj + 1, b->traj + 2, b->traj + 3};
      PetscCall(StgssaSSARunMany(&cfg, b->batch, traj, work, samples, info));
      b->traj += (uint64_t)b->batch;
      for (PetscInt q = 0; q < b->batch; q++) {
        events += info[q].events;
        b->sink += samples[3 * q + 2];
      }
      PetscCall(PetscTime(&t1));
    } while (t1 - t0 < b->seconds);
    for (PetscInt q = 0; q < b->batch; q++) PetscCall(StgssaSSAWorkDestroy(&work[q]));
  } else if (k == BENCH_SIMULATE) { /* as many trajectories as the engine does in one slice */
    StgssaEnsemble ens;
    PetscInt64     ev;
    const char    *obs[1] = {"M"};
    const PetscInt ntraj  = (PetscInt)PetscMax(1.0, engine_rate * b->seconds / (35.0 * b->tfinal)); /* ~35 events per unit time */
    PetscCall(StgssaEnsembleCreate(PETSC_COMM_SELF, &ens));
    PetscCall(StgssaEnsembleSetModel(ens, b->model));
    PetscCall(StgssaEnsembleSetNumTrajectories(ens, ntraj));
    PetscCall(StgssaEnsembleSetTimes(ens, b->tfinal, 0, NULL));
    PetscCall(StgssaEnsembleSetObserved(ens, 1, obs));
    PetscCall(PetscTime(&t0));
    PetscCall(StgssaEnsembleRun(ens));
    PetscCall(PetscTime(&t1));
    PetscCall(StgssaEnsembleGetEventCount(ens, &ev));
    events = ev;
    PetscCall(StgssaEnsembleDestroy(&ens));
  } else {
    const PetscInt      P            = k == BENCH_VALUES ? 0 : (k == BENCH_STGS4 ? 4 : 3);
    PetscInt            rxn_param[4] = {0, 1, 2, P == 4 ? 3 : -1}, obs[1] = {2};
    StgssaTangentConfig tc;
    StgssaTangentWork   tw[4];
    StgssaTangentRecord rec[4];
    const PetscInt      nb = k == BENCH_VALUES || k == BENCH_SCORE3 ? 1 : b->batch; /* trajectories per call */
    tc.type = k == BENCH_VALUES ? STGSSA_GRADIENT_FD : (k == BENCH_SCORE3 ? STGSSA_GRADIENT_SCORE : STGSSA_GRADIENT_STGS);
    tc.P = P, tc.rxn_param = rxn_param, tc.lambda = 1.0, tc.nobs = 1, tc.obs = obs, tc.obs_ptr = NULL, tc.obs_weight = NULL, tc.obs_rule = NULL, tc.obs_scratch = NULL;
    tc.window = PETSC_FALSE, tc.w0 = tc.w1 = 0, tc.rev = NULL, tc.count_from = 0.0, tc.fit_param = NULL, tc.locate = NULL;
    for (PetscInt q = 0; q < nb; q++) {
      PetscCall(StgssaTangentWorkCreate(b->net, P, &tw[q]));
      PetscCall(StgssaTangentRecordCreate(1, 1, b->net->R, P, &rec[q]));
    }
    PetscCall(PetscTime(&t0));
    do {
      StgssaTrajInfo info[4];
      uint64_t       traj[4] = {b->traj, b->traj + 1, b->traj + 2, b->traj + 3};
      PetscCall(StgssaSSARunTangentMany(&cfg, &tc, nb, traj, tw, rec, info));
      b->traj += (uint64_t)nb;
      for (PetscInt q = 0; q < nb; q++) {
        events += info[q].events;
        b->sink += (int64_t)rec[q].x[0];
      }
      PetscCall(PetscTime(&t1));
    } while (t1 - t0 < b->seconds);
    for (PetscInt q = 0; q < nb; q++) {
      PetscCall(StgssaTangentRecordDestroy(&rec[q]));
      PetscCall(StgssaTangentWorkDestroy(&tw[q]));
    }
  }
  *rate = (double)events / (t1 - t0);
  PetscFunctionReturn(0);
}

static int CompareDouble(const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double Median(PetscInt n, double *v)
{
  qsort(v, (size_t)n, sizeof(double), CompareDouble);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
  Bench     b = {.tfinal = 1000.0, .seconds = 0.25, .batch = 4, .xo = {{0x9E3779B97F4A7C15ull, 0xBF58476D1CE4E5B9ull, 0x94D049BB133111EBull, 0x2545F4914F6CDD1Dull}}};
  PetscInt  rounds = 9;
  double   *rate[BENCH_N], *ratio[BENCH_N], med[BENCH_N], medratio[BENCH_N];

  PetscCall(PetscInitialize(&argc, &argv, NULL, "SSA events/s benchmark\n"));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Benchmark options", NULL);
  PetscCall(PetscOptionsReal("-bench_seconds", "Seconds per slice (one mode, one round)", NULL, b.seconds, &b.seconds, NULL));
  PetscCall(PetscOptionsInt("-bench_rounds", "Rounds: every mode once per round, medians over rounds", NULL, rounds, &rounds, NULL));
  PetscCall(PetscOptionsReal("-bench_tfinal", "End time of each trajectory", NULL, b.tfinal, &b.tfinal, NULL));
  PetscCall(PetscOptionsRangeInt("-bench_batch", "Trajectories per StgssaSSARunMany and StgssaSSARunTangentMany call (engine, ST-GS)", NULL, b.batch, &b.batch, NULL, 1, 4));
  PetscOptionsEnd();
  PetscCheck(rounds >= 1 && b.seconds > 0 && b.tfinal > 0, PETSC_COMM_WORLD, PETSC_ERR_ARG_OUTOFRANGE, "-bench_rounds >= 1, -bench_seconds > 0 and -bench_tfinal > 0 required");
  PetscCall(StgssaModelCreate(PETSC_COMM_SELF, &b.model));
  PetscCall(StgssaModelLoadFromString(b.model, telegraph, "telegraph"));
  PetscCall(StgssaModelGetNetwork(b.model, &b.net));
  for (int k = 0; k < BENCH_N; k++) PetscCall(PetscMalloc2(rounds, &rate[k], rounds, &ratio[k]));
  for (PetscInt r = 0; r < rounds; r++)
    for (int k = 0; k < BENCH_N; k++) {
      PetscCall(BenchSlice(&b, (BenchKind)k, k == BENCH_SIMULATE ? rate[BENCH_ENGINE][r] : 0.0, &rate[k][r]));
      ratio[k][r] = rate[k][r] / rate[BENCH_BASELINE][r];
    }
  for (int k = 0; k < BENCH_N; k++) {
    med[k]      = Median(rounds, rate[k]);
    medratio[k] = Median(rounds, ratio[k]);
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "telegraph model, tfinal %g, %" PetscInt_FMT " rounds of %g s per mode (checksum %" PRId64 ")\n", b.tfinal, rounds, b.seconds, b.sink));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  %-36s %12s %22s\n", "mode", "events/s", "ratio to baseline"));
  for (int k = 0; k < BENCH_N; k++) {
    const char *target = (k == BENCH_ENGINE || k == BENCH_SIMULATE) ? "(target >= 0.67)" : (k == BENCH_STGS3 ? "(target >= 0.25)" : "");
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  %-36s %12.4g %10.3f %s\n", bench_names[k], med[k], medratio[k], target));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  ST-GS P = 3 per event: %.1f ns (the baseline: %.1f ns)\n", 1e9 / med[BENCH_STGS3], 1e9 / med[BENCH_BASELINE]));
  for (int k = 0; k < BENCH_N; k++) PetscCall(PetscFree2(rate[k], ratio[k]));
  PetscCall(StgssaModelDestroy(&b.model));
  PetscCall(PetscFinalize());
  return 0;
}
