/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Benchmark (on demand, never pass/fail): SSA events per second on the telegraph model, one rank.
  Prints, in one run:
    baseline  a minimal hand-written direct-method SSA for this one model (xoshiro256+ RNG,
              propensities recomputed every event, no sampling), compiled with the same flags;
    engine    StgssaSSARun (Philox counter-based RNG, general mass-action network);
    simulate  the whole simulate mode (StgssaEnsembleRun: engine + exact histograms + reduction);
  and the ratios engine/baseline and simulate/baseline (target: >= 0.5); then the engine with
  ST-GS tangents (P = 3 and 4 log-rates) and its ratio to the plain engine (target: >= 0.3).
  usage: bench_ssa [-bench_seconds 2] [-bench_tfinal 1000]
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

int main(int argc, char **argv)
{
  PetscReal            seconds = 2.0, tfinal = 1000.0;
  StgssaModel          model;
  const StgssaNetwork *net;
  StgssaSSAWork        work;
  StgssaSSAConfig      cfg;
  PetscLogDouble       t0, t1;
  double               rate_base, rate_engine, rate_sim, rate_grad[3];
  int64_t              sink = 0;

  PetscCall(PetscInitialize(&argc, &argv, NULL, "SSA events/s benchmark\n"));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Benchmark options", NULL);
  PetscCall(PetscOptionsReal("-bench_seconds", "Minimum seconds per measurement", NULL, seconds, &seconds, NULL));
  PetscCall(PetscOptionsReal("-bench_tfinal", "End time of each trajectory", NULL, tfinal, &tfinal, NULL));
  PetscOptionsEnd();
  PetscCall(StgssaModelCreate(PETSC_COMM_SELF, &model));
  PetscCall(StgssaModelLoadFromString(model, telegraph, "telegraph"));
  PetscCall(StgssaModelGetNetwork(model, &net));

  { /* baseline */
    Xoshiro rng    = {{0x9E3779B97F4A7C15ull, 0xBF58476D1CE4E5B9ull, 0x94D049BB133111EBull, 0x2545F4914F6CDD1Dull}};
    int64_t events = 0, m;
    PetscCall(PetscTime(&t0));
    do {
      events += baseline_trajectory(&rng, tfinal, &m);
      sink += m;
      PetscCall(PetscTime(&t1));
    } while (t1 - t0 < seconds);
    rate_base = (double)events / (t1 - t0);
  }
  { /* engine */
    int64_t  events = 0, samples[3];
    uint64_t traj   = 0;
    double   ts     = tfinal;
    cfg.net = net, cfg.seed = 1, cfg.iteration = 0, cfg.tfinal = tfinal, cfg.t0 = 0.0, cfg.thin_step = tfinal / 64, cfg.max_events = INT64_MAX, cfg.nsample = 1, cfg.sample_times = &ts;
    PetscCall(StgssaSSAWorkCreate(net, &work));
    PetscCall(PetscTime(&t0));
    do {
      StgssaTrajInfo info;
      PetscCall(StgssaSSARun(&cfg, traj++, &work, samples, &info));
      events += info.events;
      sink += samples[2];
      PetscCall(PetscTime(&t1));
    } while (t1 - t0 < seconds);
    rate_engine = (double)events / (t1 - t0);
    PetscCall(StgssaSSAWorkDestroy(&work));
  }
  { /* whole simulate mode: as many trajectories as the engine did in `seconds` */
    StgssaEnsemble ens;
    PetscInt64     events;
    const char    *obs[1] = {"M"};
    const PetscInt ntraj  = (PetscInt)PetscMax(1.0, rate_engine * seconds / (35.0 * tfinal)); /* ~35 events per unit time */
    PetscCall(StgssaEnsembleCreate(PETSC_COMM_SELF, &ens));
    PetscCall(StgssaEnsembleSetModel(ens, model));
    PetscCall(StgssaEnsembleSetNumTrajectories(ens, ntraj));
    PetscCall(StgssaEnsembleSetTimes(ens, tfinal, 0, NULL));
    PetscCall(StgssaEnsembleSetObserved(ens, 1, obs));
    PetscCall(PetscTime(&t0));
    PetscCall(StgssaEnsembleRun(ens));
    PetscCall(PetscTime(&t1));
    PetscCall(StgssaEnsembleGetEventCount(ens, &events));
    rate_sim = (double)events / (t1 - t0);
    PetscCall(StgssaEnsembleDestroy(&ens));
  }
  /* ST-GS tangents with P = 3 (k_on, k_off, k_tx) and P = 4 (all rates), same trajectories */
  for (PetscInt P = 0; P <= 4; P++) {
    if (P == 1 || P == 2) continue; /* P = 0: the derivative engine recording values only */
    StgssaTangentConfig tc;
    StgssaTangentWork   tw;
    StgssaTangentRecord rec;
    PetscInt            rxn_param[4] = {0, 1, 2, P == 4 ? 3 : -1}, obs[1] = {2};
    int64_t             events = 0;
    uint64_t            traj   = 0;
    double              ts     = tfinal;
    cfg.net = net, cfg.seed = 1, cfg.iteration = 0, cfg.tfinal = tfinal, cfg.t0 = 0.0, cfg.thin_step = tfinal / 64, cfg.max_events = INT64_MAX, cfg.nsample = 1, cfg.sample_times = &ts;
    tc.type = P ? STGSSA_GRADIENT_STGS : STGSSA_GRADIENT_FD, tc.P = P, tc.rxn_param = rxn_param, tc.lambda = 1.0, tc.nobs = 1, tc.obs = obs, tc.obs_ptr = NULL, tc.obs_weight = NULL;
    tc.window = PETSC_FALSE, tc.w0 = tc.w1 = 0, tc.rev = NULL, tc.count_from = 0.0, tc.fit_param = NULL, tc.locate = NULL;
    PetscCall(StgssaTangentWorkCreate(net, P, &tw));
    PetscCall(StgssaTangentRecordCreate(1, 1, net->R, P, &rec));
    PetscCall(PetscTime(&t0));
    do {
      StgssaTrajInfo info;
      PetscCall(StgssaSSARunTangent(&cfg, &tc, traj++, &tw, &rec, &info));
      events += info.events;
      sink += (int64_t)rec.x[0];
      PetscCall(PetscTime(&t1));
    } while (t1 - t0 < seconds);
    rate_grad[P ? P - 2 : 0] = (double)events / (t1 - t0);
    PetscCall(StgssaTangentRecordDestroy(&rec));
    PetscCall(StgssaTangentWorkDestroy(&tw));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "telegraph model, tfinal %g, >= %g s per measurement (checksum %" PRId64 ")\n", (double)tfinal, (double)seconds, sink));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  baseline (minimal direct method)  %12.4g events/s\n", rate_base));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  engine   (StgssaSSARun)           %12.4g events/s   ratio %.3f\n", rate_engine, rate_engine / rate_base));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  simulate (StgssaEnsembleRun)      %12.4g events/s   ratio %.3f  (target >= 0.5)\n", rate_sim, rate_sim / rate_base));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  derivative engine, values only     %12.4g events/s   ratio to engine %.3f\n", rate_grad[0], rate_grad[0] / rate_engine));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  ST-GS tangents, P = 3               %12.4g events/s   ratio to engine %.3f (target >= 0.3)\n", rate_grad[1], rate_grad[1] / rate_engine));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "  ST-GS tangents, P = 4               %12.4g events/s   ratio to engine %.3f\n", rate_grad[2], rate_grad[2] / rate_engine));
  PetscCall(StgssaModelDestroy(&model));
  PetscCall(PetscFinalize());
  return 0;
}
