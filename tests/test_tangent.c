/* SPDX-License-Identifier: BSD-2-Clause */
/*
  Forward-mode derivatives along exact SSA trajectories (StgssaSSARunTangent, src/ssa/tangent.c)
  against an independent, deliberately naive reference written from DESIGN.md section 2.

  The reference (ref_run below) knows nothing of the library's network structure: each model is
  given again here as dense reactant / product stoichiometry matrices, every propensity is
  recomputed from scratch at every event, there is no dependency graph and no 8-event Philox
  batching; the random numbers come from the scalar StgssaPhilox4x32_10 with the counter layout of
  rng.h (key {trajectory, seed}, counter {block, event lo, event hi, iteration}):
    block 0 of event n:   U1 = words (0,1), U2 = words (2,3);  tau_n = -log(U2)/a_0 (the library's
                          StgssaFastLog, so that forward values can be compared bit for bit),
                          j_n = first j with a_1 + ... + a_j > U1 a_0 (categorical inversion);
    blocks >= 1 (ST-GS): uniform i (i = 0..R-1) is (w + 1/2) 2^-32 for word w = i % 4 of
                          block 1 + i/4, E_i = -log u_i (libm); the race is completed given the winner:
                          T_j = E_j/a_0, T_i = T_j + E_i/a_i (other active i); the perturbed
                          log-propensities are l_i + G_i = -log T_i, pi = softmax(-log T / lambda).
  Tangents (theta_p = log k_p):
    ldot_j  = d_theta log a_j + sum_s (d log a_j/d x_s) xdot_s,  d log C(x,c)/dx = sum_{q<c} 1/(x-q)
    pidot_j = pi_j (ldot_j - sum_k pi_k ldot_k) / lambda
    xdot_{n+1} = xdot_n + sum_j nu_j pidot_j,  taudot_n = -tau_n (sum_j a_j ldot_j)/a_0,
    tdot_{n+1} = tdot_n + taudot_n                       (reactions with a_j = 0 take no part)
  Observables computed from the stored trajectory afterwards: samples (x_n, xdot_n for
  t_n <= t_s < t_{n+1}); window average (1/(w1-w0)) int_{w0}^{w1} x dt over the piecewise-constant
  path, its tangent differentiating each overlap length through the event-time tangents (event
  times inside the window move, the window ends and tfinal do not); reaction counts and
  sum_n pidot; entropy production sum_n f_{j_n}(x_n), f_i(x) = log a_i(x) - log a_{rev i}(x+nu_i),
  with tangent sum_n [sum_i pidot_i f_i(x_n) + d/dtheta f_{j_n}(x_n) along xdot_n]; the score
  d log P(path up to t)/d theta_p = sum_n [p = param(j_n)] - sum_n tau_n da_0/dtheta_p
  - (t - t_last) da_0/dtheta_p(x_last), da_0/dtheta_p = sum of a_i over reactions i of parameter p.

  Tolerances.
  - Forward values (sample counts, reaction counts, event counts, how the trajectory ended) must
    be bitwise equal: both sides do the same IEEE operations (a_j = k_j C(x, c) with C an exact
    integer, a_0 summed in reaction order, the same inversion), so any difference is a bug.
  - Every derivative and every non-integer value (window average, entropy production, scores):
    |lib - ref| <= RTOL * max(|lib|, |ref|, 1) with RTOL = 1e-10. The two sides evaluate the same
    formulas in different orders (softmax by max-shift and exp here, ratios T_j/T_i in the
    library; naive window bookkeeping here), so they agree to rounding: ~1e-16 per operation,
    grown over a few hundred events to well below 1e-12 in practice. The floor of 1 (the natural
    unit: one molecule, one molecule per unit log-rate, one nat) is there because tangents such
    as xdot are sums of O(1) terms of both signs and can cancel to nearly zero, where a purely
    relative comparison of two rounding-level results is meaningless.
  - Finite differences (one-reaction models, see test_fd_*): RTOL_FD = 1e-5, see there.

  Models (dense here, text for the library): telegraph (first order, inactive reactions), a
  dimerization 0 <-> A, 2 A <-> B (binomial propensity; a parameter shared by two reactions with
  a factor, P < R; entropy production), birth-death (entropy production; window = whole run),
  pure decay and a branching decay A -> B, A -> C (absorbing states inside the window), a
  19-reaction chain (derivative draws from counter blocks 1..10, odd R), pure birth. Each with
  NTRAJ = 50 trajectories at lambda = 1 and 0.3 (ST-GS), and at lambda = 1 with the score.
  TEST_TANGENT_VERBOSE=1 prints the largest differences seen.
*/
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <petscsys.h>
#include <stgssa/rng.h>
#include <stgssa/fastlog.h>
#include <stgssa/model.h>
#include <stgssa/ssa.h>
#include <stgssa/tangent.h>

#define RTOL    1e-10
#define RTOL_FD 1e-5
#define NTRAJ   50
#define MAXS    10
#define MAXR    20
#define MAXP    20
#define MAXT    8

/* ------------------------------------------------------------------------------------------ */
/* Dense models                                                                               */

typedef struct {
  const char *name;
  const char *text; /* the same model for the library */
  int         S, R, P;
  int64_t     x0[MAXS];
  int         react[MAXR][MAXS]; /* reactant coefficients r_js */
  int         prod[MAXR][MAXS];  /* product coefficients p_js */
  double      par[MAXP];         /* parameter values */
  double      factor[MAXR];      /* k_j = factor_j * par[param_j] */
  PetscInt    param[MAXR];       /* fitted parameter of reaction j (all parameters fitted) */
  int         has_rev;
  PetscInt    rev[MAXR]; /* reverse reaction, for the entropy production */
  int         nobs;
  PetscInt    obs[MAXS];
  double      tfinal, w0, w1;
  int         nsample;
  double      times[MAXT];
} DenseModel;

static const DenseModel telegraph = {
  .name    = "telegraph",
  .text    = "begin parameters\n  k_on 0.5\n  k_off 2.0\n  k_tx 20\n  k_deg 1\nend parameters\n"
             "begin species\n  G_off 1\n  G_on 0\n  M 0\nend species\n"
             "begin reactions\n  G_off -> G_on  k_on\n  G_on -> G_off  k_off\n"
             "  G_on -> G_on + M  k_tx\n  M -> 0  k_deg\nend reactions\n",
  .S       = 3,
  .R       = 4,
  .P       = 4,
  .x0      = {1, 0, 0},
  .react   = {{1, 0, 0}, {0, 1, 0}, {0, 1, 0}, {0, 0, 1}},
  .prod    = {{0, 1, 0}, {1, 0, 0}, {0, 1, 1}, {0, 0, 0}},
  .par     = {0.5, 2.0, 20.0, 1.0},
  .factor  = {1, 1, 1, 1},
  .param   = {0, 1, 2, 3},
  .has_rev = 0, /* transcription has no reverse (pairing it with degradation gives log 0 when G_on = 0) */
  .nobs    = 2,
  .obs     = {1, 2},
  .tfinal  = 10.0,
  .w0      = 2.0,
  .w1      = 7.0,
  .nsample = 7,
  .times   = {0.0, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0},
};

/* 0 <-> A, 2 A <-> B; the dissociation shares k_p (factor 0.5), so P = 3 < R = 4 */
static const DenseModel dimer = {
  .name    = "dimerization",
  .text    = "begin parameters\n  k_p 5\n  k_d 0.5\n  k_b 0.2\nend parameters\n"
             "begin species\n  A 10\n  B 0\nend species\n"
             "begin reactions\n  0 <-> A  k_p, k_d\n  2 A <-> B  k_b, 0.5*k_p\nend reactions\n",
  .S       = 2,
  .R       = 4,
  .P       = 3,
  .x0      = {10, 0},
  .react   = {{0, 0}, {1, 0}, {2, 0}, {0, 1}},
  .prod    = {{1, 0}, {0, 0}, {0, 1}, {2, 0}},
  .par     = {5.0, 0.5, 0.2},
  .factor  = {1, 1, 1, 0.5},
  .param   = {0, 1, 2, 0},
  .has_rev = 1,
  .rev     = {1, 0, 3, 2},
  .nobs    = 2,
  .obs     = {0, 1},
  .tfinal  = 5.0,
  .w0      = 1.0,
  .w1      = 4.0,
  .nsample = 5,
  .times   = {0.0, 0.3, 1.7, 3.2, 5.0},
};

static const DenseModel birthdeath = {
  .name    = "birth-death",
  .text    = "begin parameters\n  k 10\n  g 1\nend parameters\n"
             "begin species\n  M 0\nend species\n"
             "begin reactions\n  0 <-> M  k, g\nend reactions\n",
  .S       = 1,
  .R       = 2,
  .P       = 2,
  .x0      = {0},
  .react   = {{0}, {1}},
  .prod    = {{1}, {0}},
  .par     = {10.0, 1.0},
  .factor  = {1, 1},
  .param   = {0, 1},
  .has_rev = 1,
  .rev     = {1, 0},
  .nobs    = 1,
  .obs     = {0},
  .tfinal  = 5.0,
  .w0      = 0.0, /* the whole run: the window's start is t = 0, its end tfinal */
  .w1      = 5.0,
  .nsample = 4,
  .times   = {0.0, 1.0, 2.5, 5.0},
};

static const DenseModel decay = {
  .name    = "pure decay",
  .text    = "begin parameters\n  k 1\nend parameters\n"
             "begin species\n  A 20\nend species\n"
             "begin reactions\n  A -> 0  k\nend reactions\n",
  .S       = 1,
  .R       = 1,
  .P       = 1,
  .x0      = {20},
  .react   = {{1}},
  .prod    = {{0}},
  .par     = {1.0},
  .factor  = {1},
  .param   = {0},
  .has_rev = 0,
  .nobs    = 1,
  .obs     = {0},
  .tfinal  = 4.0, /* about half the trajectories are absorbed (A = 0) before tfinal */
  .w0      = 0.5,
  .w1      = 3.0,
  .nsample = 4,
  .times   = {0.0, 1.0, 2.0, 4.0},
};

/* A -> B, A -> C: absorbed when A = 0, with B, C and their tangents nonzero there */
static const DenseModel branch = {
  .name    = "branching",
  .text    = "begin parameters\n  k1 1\n  k2 0.5\nend parameters\n"
             "begin species\n  A 10\n  B 0\n  C 0\nend species\n"
             "begin reactions\n  A -> B  k1\n  A -> C  k2\nend reactions\n",
  .S       = 3,
  .R       = 2,
  .P       = 2,
  .x0      = {10, 0, 0},
  .react   = {{1, 0, 0}, {1, 0, 0}},
  .prod    = {{0, 1, 0}, {0, 0, 1}},
  .par     = {1.0, 0.5},
  .factor  = {1, 1},
  .param   = {0, 1},
  .has_rev = 0,
  .nobs    = 3,
  .obs     = {0, 1, 2},
  .tfinal  = 6.0,
  .w0      = 1.0,
  .w1      = 5.0, /* most trajectories are absorbed inside the window */
  .nsample = 4,
  .times   = {0.0, 1.0, 3.0, 6.0},
};

/* a linear chain X0 <-> X1 <-> ... <-> X9 -> 0: R = 19 (odd) reactions, so the derivative draws
   use counter blocks 1..10, more than the library batches (it batches the first 8) */
static const DenseModel chain = {
  .name    = "chain",
  .text    = "begin parameters\n"
             "  f0 1\n"
             "  b0 0.5\n"
             "  f1 1.25\n"
             "  b1 0.625\n"
             "  f2 1.5\n"
             "  b2 0.75\n"
             "  f3 1.75\n"
             "  b3 0.875\n"
             "  f4 2\n"
             "  b4 1\n"
             "  f5 2.25\n"
             "  b5 1.125\n"
             "  f6 2.5\n"
             "  b6 1.25\n"
             "  f7 2.75\n"
             "  b7 1.375\n"
             "  f8 3\n"
             "  b8 1.5\n"
             "  d 0.75\n"
             "end parameters\n"
             "begin species\n"
             "  X0 30\n"
             "  X1 0\n"
             "  X2 0\n"
             "  X3 0\n"
             "  X4 0\n"
             "  X5 0\n"
             "  X6 0\n"
             "  X7 0\n"
             "  X8 0\n"
             "  X9 0\n"
             "end species\n"
             "begin reactions\n"
             "  X0 <-> X1  f0, b0\n"
             "  X1 <-> X2  f1, b1\n"
             "  X2 <-> X3  f2, b2\n"
             "  X3 <-> X4  f3, b3\n"
             "  X4 <-> X5  f4, b4\n"
             "  X5 <-> X6  f5, b5\n"
             "  X6 <-> X7  f6, b6\n"
             "  X7 <-> X8  f7, b7\n"
             "  X8 <-> X9  f8, b8\n"
             "  X9 -> 0  d\n"
             "end reactions\n",
  .S       = 10,
  .R       = 19,
  .P       = 19,
  .x0      = {30},
  .react   = {{1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 1, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 1, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 1, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 1, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
  .prod    = {{0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, {0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 1, 0, 0, 0, 0, 0}, {0, 0, 0, 1, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, {0, 0, 0, 0, 1, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, {0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 1, 0, 0}, {0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 0, 0, 0, 1, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, {0, 0, 0, 0, 0, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
  .par     = {1, 0.5, 1.25, 0.625, 1.5, 0.75, 1.75, 0.875, 2, 1, 2.25, 1.125, 2.5, 1.25, 2.75, 1.375, 3, 1.5, 0.75},
  .factor  = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
  .param   = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18},
  .has_rev = 0,
  .nobs    = 3,
  .obs     = {0, 4, 9},
  .tfinal  = 3.0,
  .w0      = 0.5,
  .w1      = 2.5,
  .nsample = 4,
  .times   = {0.0, 0.7, 1.9, 3.0},
};

static const DenseModel birth = {
  .name    = "pure birth",
  .text    = "begin parameters\n  k 3\nend parameters\n"
             "begin species\n  M 0\nend species\n"
             "begin reactions\n  0 -> M  k\nend reactions\n",
  .S       = 1,
  .R       = 1,
  .P       = 1,
  .x0      = {0},
  .react   = {{0}},
  .prod    = {{1}},
  .par     = {3.0},
  .factor  = {1},
  .param   = {0},
  .has_rev = 0,
  .nobs    = 1,
  .obs     = {0},
  .tfinal  = 5.0,
  .w0      = 1.0,
  .w1      = 4.0,
  .nsample = 3,
  .times   = {0.0, 2.0, 5.0},
};

static const uint32_t SEED = 20240611u, ITERATION = 3u;

static double rate(const DenseModel *m, int j) { return m->factor[j] * m->par[m->param[j]]; }

/* a_j(x) = k_j prod_s C(x_s, r_js); C built as an exact integer in double (C(x,q+1) = C(x,q)(x-q)/(q+1)) */
static double ref_prop(const DenseModel *m, int j, const int64_t *x)
{
  double c = 1.0;
  for (int s = 0; s < m->S; s++)
    for (int q = 0; q < m->react[j][s]; q++) c = c * (double)(x[s] - q) / (double)(q + 1);
  return rate(m, j) * c;
}

/* d log a_j / d theta along the state tangent xdot ([S*P]) at x */
static void ref_ldot(const DenseModel *m, int j, const int64_t *x, const double *xdot, double *ld)
{
  for (int p = 0; p < m->P; p++) ld[p] = (m->param[j] == p) ? 1.0 : 0.0;
  for (int s = 0; s < m->S; s++) {
    double g = 0.0;
    for (int q = 0; q < m->react[j][s]; q++) g += 1.0 / (double)(x[s] - q);
    for (int p = 0; p < m->P; p++) ld[p] += g * xdot[s * m->P + p];
  }
}

static int nu(const DenseModel *m, int j, int s) { return m->prod[j][s] - m->react[j][s]; }

/* f_i(x) = log a_i(x) - log a_{rev i}(x + nu_i) */
static double ref_entropy(const DenseModel *m, int i, const int64_t *x)
{
  int64_t y[MAXS];
  for (int s = 0; s < m->S; s++) y[s] = x[s] + nu(m, i, s);
  return log(ref_prop(m, i, x)) - log(ref_prop(m, (int)m->rev[i], y));
}

/* ------------------------------------------------------------------------------------------ */
/* The naive reference trajectory                                                             */

typedef struct {
  int      N, cap; /* events, capacity */
  double  *t;      /* [N+1] t_n (t_0 = 0) */
  double  *tdot;   /* [(N+1)*P] */
  int64_t *x;      /* [(N+1)*S] state after n events */
  double  *xdot;   /* [(N+1)*S*P] */
  int     *j;      /* [N] */
  double  *tau;    /* [N] */
  int      absorbed;
  double   nrx[MAXR], nrxdot[MAXR * MAXP], sigma, sigmadot[MAXP];
} RefTraj;

static void ref_store(RefTraj *r, const DenseModel *m, int n, double t, const double *tdot, const int64_t *x, const double *xdot)
{
  if (n >= r->cap) {
    r->cap  = r->cap ? 2 * r->cap : 256;
    r->t    = realloc(r->t, (size_t)r->cap * sizeof(double));
    r->tdot = realloc(r->tdot, (size_t)r->cap * MAXP * sizeof(double));
    r->x    = realloc(r->x, (size_t)r->cap * MAXS * sizeof(int64_t));
    r->xdot = realloc(r->xdot, (size_t)r->cap * MAXS * MAXP * sizeof(double));
    r->j    = realloc(r->j, (size_t)r->cap * sizeof(int));
    r->tau  = realloc(r->tau, (size_t)r->cap * sizeof(double));
    ck_assert(r->t && r->tdot && r->x && r->xdot && r->j && r->tau);
  }
  r->t[n] = t;
  memcpy(&r->tdot[n * m->P], tdot, (size_t)m->P * sizeof(double));
  memcpy(&r->x[n * m->S], x, (size_t)m->S * sizeof(int64_t));
  memcpy(&r->xdot[n * m->S * m->P], xdot, (size_t)m->S * m->P * sizeof(double));
}

static void ref_free(RefTraj *r)
{
  free(r->t);
  free(r->tdot);
  free(r->x);
  free(r->xdot);
  free(r->j);
  free(r->tau);
  memset(r, 0, sizeof(*r));
}

/* Burn-in of the path observables: reaction counts and entropy production take only the jumps
   at times > ref_count_from (the library's -stgssa_count_from). */
static double ref_count_from = 0.0;

static void ref_run(const DenseModel *m, double lambda, uint64_t traj, RefTraj *r)
{
  const int             S = m->S, R = m->R, P = m->P;
  const StgssaPhiloxKey key = StgssaRngKey(SEED, traj);
  int64_t               x[MAXS];
  double                xdot[MAXS * MAXP] = {0}, tdot[MAXP] = {0}, t = 0.0;
  int                   n = 0;

  r->N = 0;
  r->absorbed = 0;
  r->sigma    = 0.0;
  memset(r->nrx, 0, sizeof(r->nrx));
  memset(r->nrxdot, 0, sizeof(r->nrxdot));
  memset(r->sigmadot, 0, sizeof(r->sigmadot));
  for (int s = 0; s < S; s++) x[s] = m->x0[s];
  ref_store(r, m, 0, t, tdot, x, xdot);
  for (;;) {
    double a[MAXR], a0 = 0.0;
    for (int i = 0; i < R; i++) a0 += (a[i] = ref_prop(m, i, x));
    if (a0 <= 0.0) {
      r->absorbed = 1;
      break;
    }
    const StgssaPhiloxCtr b0  = StgssaPhilox4x32_10(StgssaRngCounter(ITERATION, (uint64_t)n, 0), key);
    const double          u1  = StgssaUniformOpen(b0.v[0], b0.v[1]);
    const double          u2  = StgssaUniformOpen(b0.v[2], b0.v[3]);
    const double          tau = -StgssaFastLog(u2) / a0;
    if (t + tau > m->tfinal) break;
    int    j = -1;
    double cum = 0.0;
    for (int i = 0; i < R && j < 0; i++)
      if ((cum += a[i]) > u1 * a0) j = i;
    for (int i = R - 1; j < 0 && i >= 0; i--) /* rounding: the last active reaction */
      if (a[i] > 0.0) j = i;

    /* the Gumbels: the exponential race completed given the winner j */
    double E[MAXR], T[MAXR], g[MAXR], pi[MAXR], ld[MAXR][MAXP], pid[MAXR][MAXP], gmax = -INFINITY, psum = 0.0;
    for (int i = 0; i < R; i++) {
      const StgssaPhiloxCtr bi = StgssaPhilox4x32_10(StgssaRngCounter(ITERATION, (uint64_t)n, (uint32_t)(1 + i / 4)), key);
      E[i]                     = -log(((double)bi.v[i % 4] + 0.5) * 0x1.0p-32);
    }
    for (int i = 0; i < R; i++) {
      if (a[i] <= 0.0) continue;
      T[i] = (i == j) ? E[j] / a0 : E[j] / a0 + E[i] / a[i];
      g[i] = -log(T[i]) / lambda;
      if (g[i] > gmax) gmax = g[i];
    }
    for (int i = 0; i < R; i++) {
      pi[i] = a[i] > 0.0 ? exp(g[i] - gmax) : 0.0;
      psum += pi[i];
    }
    for (int i = 0; i < R; i++) pi[i] /= psum;
    for (int i = 0; i < R; i++)
      if (a[i] > 0.0) ref_ldot(m, i, x, xdot, ld[i]);
    double taudot[MAXP];
    for (int p = 0; p < P; p++) {
      double mean = 0.0, sa = 0.0;
      for (int i = 0; i < R; i++)
        if (a[i] > 0.0) {
          mean += pi[i] * ld[i][p];
          sa += a[i] * ld[i][p];
        }
      for (int i = 0; i < R; i++) pid[i][p] = a[i] > 0.0 ? pi[i] * (ld[i][p] - mean) / lambda : 0.0;
      taudot[p] = -tau * sa / a0;
    }

    /* entropy production and its straight-through tangent (xdot is still xdot_n) */
    const int counted = t + tau > ref_count_from;
    if (m->has_rev && counted) {
      int64_t y[MAXS];
      double  lrev[MAXP];
      r->sigma += ref_entropy(m, j, x);
      for (int i = 0; i < R; i++)
        if (a[i] > 0.0) {
          const double fi = ref_entropy(m, i, x);
          for (int p = 0; p < P; p++) r->sigmadot[p] += pid[i][p] * fi;
        }
      for (int s = 0; s < S; s++) y[s] = x[s] + nu(m, j, s);
      ref_ldot(m, (int)m->rev[j], y, xdot, lrev); /* d(x + nu_j) = xdot_n */
      for (int p = 0; p < P; p++) r->sigmadot[p] += ld[j][p] - lrev[p];
    }
    if (counted) {
      r->nrx[j] += 1.0;
      for (int i = 0; i < R; i++)
        for (int p = 0; p < P; p++) r->nrxdot[i * P + p] += pid[i][p];
    }
    r->j[n]   = j;
    r->tau[n] = tau;

    /* exact jump, relaxed tangent */
    for (int s = 0; s < S; s++) {
      x[s] += nu(m, j, s);
      for (int p = 0; p < P; p++)
        for (int i = 0; i < R; i++) xdot[s * P + p] += nu(m, i, s) * pid[i][p];
    }
    for (int p = 0; p < P; p++) tdot[p] += taudot[p];
    t = t + tau;
    n++;
    ref_store(r, m, n, t, tdot, x, xdot);
    ck_assert_msg(n < 1000000, "reference trajectory runs away");
  }
  r->N = n;
}

/* index of the state seen at time ts: the last n with t_n <= ts */
static int ref_state_at(const RefTraj *r, double ts)
{
  int n = 0;
  while (n < r->N && r->t[n + 1] <= ts) n++;
  return n;
}

static void ref_window(const DenseModel *m, const RefTraj *r, double *wavg, double *wavgdot)
{
  const int    P = m->P;
  const double W = m->w1 - m->w0;
  for (int o = 0; o < m->nobs; o++) {
    wavg[o] = 0.0;
    for (int p = 0; p < P; p++) wavgdot[o * P + p] = 0.0;
  }
  for (int n = 0; n <= r->N; n++) {
    const int    last = n == r->N; /* the last dwell ends at tfinal, which does not move */
    const double ta = r->t[n], tb = last ? m->tfinal : r->t[n + 1];
    const double lo = ta > m->w0 ? ta : m->w0, hi = tb < m->w1 ? tb : m->w1;
    if (!(hi > lo)) continue;
    for (int o = 0; o < m->nobs; o++) {
      const int s = (int)m->obs[o];
      wavg[o] += (double)r->x[n * m->S + s] * (hi - lo) / W;
      for (int p = 0; p < P; p++) {
        const double dhi = (!last && tb < m->w1) ? r->tdot[(n + 1) * P + p] : 0.0;
        const double dlo = (ta > m->w0) ? r->tdot[n * P + p] : 0.0;
        wavgdot[o * P + p] += (r->xdot[(n * m->S + s) * P + p] * (hi - lo) + (double)r->x[n * m->S + s] * (dhi - dlo)) / W;
      }
    }
  }
}

/* d a_0/d theta_p at state x */
static void ref_da0(const DenseModel *m, const int64_t *x, double *da0)
{
  for (int p = 0; p < m->P; p++) da0[p] = 0.0;
  for (int i = 0; i < m->R; i++) da0[m->param[i]] += ref_prop(m, i, x);
}

/* score of the path up to time t */
static void ref_score(const DenseModel *m, const RefTraj *r, double t, double *score)
{
  double da0[MAXP];
  int    last = 0;
  for (int p = 0; p < m->P; p++) score[p] = 0.0;
  for (int n = 0; n < r->N && r->t[n + 1] <= t; n++) {
    ref_da0(m, &r->x[n * m->S], da0);
    for (int p = 0; p < m->P; p++) score[p] += (m->param[r->j[n]] == p ? 1.0 : 0.0) - r->tau[n] * da0[p];
    last = n + 1;
  }
  ref_da0(m, &r->x[last * m->S], da0);
  for (int p = 0; p < m->P; p++) score[p] -= (t - r->t[last]) * da0[p];
}

/* ------------------------------------------------------------------------------------------ */
/* Library side                                                                               */

typedef struct {
  StgssaModel          model;
  const StgssaNetwork *net;
} Lib;

static void lib_open(const char *text, Lib *L)
{
  ck_assert(!StgssaModelCreate(PETSC_COMM_SELF, &L->model));
  ck_assert(!StgssaModelLoadFromString(L->model, text, "test_tangent.model"));
  ck_assert(!StgssaModelGetNetwork(L->model, &L->net));
}

static void lib_close(Lib *L) { ck_assert(!StgssaModelDestroy(&L->model)); }

/* the text and the dense matrices describe the same network */
static void check_network(const DenseModel *m, const StgssaNetwork *net)
{
  ck_assert_int_eq(net->S, m->S);
  ck_assert_int_eq(net->R, m->R);
  for (int s = 0; s < m->S; s++) ck_assert_int_eq(net->x0[s], m->x0[s]);
  for (int j = 0; j < m->R; j++) {
    int r[MAXS] = {0}, d[MAXS] = {0};
    ck_assert_msg(net->k[j] == rate(m, j), "%s: k[%d] = %.17g, expected %.17g", m->name, j, net->k[j], rate(m, j));
    for (PetscInt t = net->react_ptr[j]; t < net->react_ptr[j + 1]; t++) r[net->react_species[t]] += (int)net->react_coef[t];
    for (PetscInt u = net->nu_ptr[j]; u < net->nu_ptr[j + 1]; u++) d[net->nu_species[u]] += (int)net->nu_delta[u];
    for (int s = 0; s < m->S; s++) {
      ck_assert_msg(r[s] == m->react[j][s], "%s: reactant coefficient of species %d in reaction %d", m->name, s, j);
      ck_assert_msg(d[s] == nu(m, j, s), "%s: net change of species %d in reaction %d", m->name, s, j);
    }
  }
}

static void fill_configs(const DenseModel *m, const StgssaNetwork *net, StgssaGradientType type, double lambda, StgssaSSAConfig *cfg, StgssaTangentConfig *tc)
{
  memset(cfg, 0, sizeof(*cfg));
  memset(tc, 0, sizeof(*tc));
  cfg->net          = net;
  cfg->seed         = SEED;
  cfg->iteration    = ITERATION;
  cfg->tfinal       = m->tfinal;
  cfg->max_events   = 10000000;
  cfg->nsample      = m->nsample;
  cfg->sample_times = m->times;
  memset(tc, 0, sizeof(*tc));
  tc->type          = type;
  tc->P             = m->P;
  tc->rxn_param     = m->param;
  tc->lambda        = lambda;
  tc->nobs          = m->nobs;
  tc->obs           = m->obs;
  tc->window        = PETSC_TRUE;
  tc->w0            = m->w0;
  tc->w1            = m->w1;
  tc->rev           = m->has_rev ? m->rev : NULL;
  tc->count_from    = 0.0;
}

/* ------------------------------------------------------------------------------------------ */
/* Comparison                                                                                 */

static double max_rel_seen = 0.0; /* largest |lib - ref| / max(|lib|, |ref|, 1), for -v */
static int    verbose      = 0;

#define CHECK_CLOSE(lib, ref, ...) \
  do { \
    const double l_ = (lib), r_ = (ref); \
    const double sc_ = fmax(1.0, fmax(fabs(l_), fabs(r_))); \
    const double e_ = fabs(l_ - r_) / sc_; \
    if (e_ > max_rel_seen) max_rel_seen = e_; \
    if (!(e_ <= RTOL)) { \
      char w_[256]; \
      snprintf(w_, sizeof w_, __VA_ARGS__); \
      ck_abort_msg("%s: library %.17g, reference %.17g (relative difference %.3g > %g)", w_, l_, r_, e_, RTOL); \
    } \
  } while (0)

static const DenseModel *const models[] = {&telegraph, &dimer, &birthdeath, &decay, &branch, &chain, &birth};
#define NMODEL ((int)(sizeof(models) / sizeof(models[0])))
static const double lambdas[] = {1.0, 0.3};

/* ST-GS: everything the record holds, against the reference, for NTRAJ trajectories */
static void compare_stgs(const DenseModel *m, double lambda)
{
  const int           P = m->P, no = m->nobs;
  Lib                 L;
  StgssaSSAConfig     cfg;
  StgssaTangentConfig tc;
  StgssaTangentWork   work;
  StgssaTangentRecord rec;
  StgssaSSAWork       swork;
  RefTraj             r = {0};
  int64_t            *plain;
  int                 nabsorbed = 0;
  int64_t             nev       = 0;

  lib_open(m->text, &L);
  check_network(m, L.net);
  fill_configs(m, L.net, STGSSA_GRADIENT_STGS, lambda, &cfg, &tc);
  tc.count_from = ref_count_from;
  ck_assert(!StgssaTangentWorkCreate(L.net, P, &work));
  ck_assert(!StgssaTangentRecordCreate(m->nsample, no, m->R, P, &rec));
  ck_assert(!StgssaSSAWorkCreate(L.net, &swork));
  plain = malloc((size_t)m->nsample * m->S * sizeof(int64_t));
  for (uint64_t traj = 0; traj < NTRAJ; traj++) {
    StgssaTrajInfo info, pinfo;
    double         wavg[MAXS], wavgdot[MAXS * MAXP];
    ck_assert(!StgssaSSARunTangent(&cfg, &tc, traj, &work, &rec, &info));
    ref_run(m, lambda, traj, &r);
    nev += r.N;
    nabsorbed += r.absorbed;
    /* forward values: bitwise */
    ck_assert_msg(rec.events == r.N && info.events == r.N, "%s lambda %g traj %d: events %lld (info %lld), reference %d", m->name, lambda, (int)traj, (long long)rec.events, (long long)info.events, r.N);
    ck_assert_msg(info.end == (r.absorbed ? STGSSA_TRAJ_ABSORBED : STGSSA_TRAJ_TFINAL), "%s traj %d: end %d, reference absorbed %d", m->name, (int)traj, (int)info.end, r.absorbed);
    for (int i = 0; i < m->R; i++) ck_assert_msg(rec.nrx[i] == r.nrx[i], "%s lambda %g traj %d: count of reaction %d %g, reference %g", m->name, lambda, (int)traj, i, rec.nrx[i], r.nrx[i]);
    /* the forward path is the plain engine's, whatever the estimator */
    ck_assert(!StgssaSSARun(&cfg, traj, &swork, plain, &pinfo));
    ck_assert_int_eq(pinfo.events, r.N);
    for (int i = 0; i < m->nsample; i++) {
      const int n = ref_state_at(&r, m->times[i]);
      for (int o = 0; o < no; o++) {
        const int s = (int)m->obs[o];
        ck_assert_msg(rec.x[i * no + o] == (double)r.x[n * m->S + s], "%s lambda %g traj %d: sample %d species %d = %g, reference %lld", m->name, lambda, (int)traj, i, s, rec.x[i * no + o], (long long)r.x[n * m->S + s]);
        ck_assert_msg(plain[i * m->S + s] == r.x[n * m->S + s], "%s traj %d: StgssaSSARun sample %d species %d = %lld, reference %lld", m->name, (int)traj, i, s, (long long)plain[i * m->S + s], (long long)r.x[n * m->S + s]);
        for (int p = 0; p < P; p++) CHECK_CLOSE(rec.xdot[(i * no + o) * P + p], r.xdot[(n * m->S + s) * P + p], "%s lambda %g traj %d: xdot sample %d species %d param %d", m->name, lambda, (int)traj, i, s, p);
      }
    }
    /* window average */
    ref_window(m, &r, wavg, wavgdot);
    for (int o = 0; o < no; o++) {
      CHECK_CLOSE(rec.wavg[o], wavg[o], "%s lambda %g traj %d: window average of species %d", m->name, lambda, (int)traj, (int)m->obs[o]);
      for (int p = 0; p < P; p++) CHECK_CLOSE(rec.wavgdot[o * P + p], wavgdot[o * P + p], "%s lambda %g traj %d: window average tangent species %d param %d", m->name, lambda, (int)traj, (int)m->obs[o], p);
    }
    /* reaction counts */
    for (int i = 0; i < m->R; i++)
      for (int p = 0; p < P; p++) CHECK_CLOSE(rec.nrxdot[i * P + p], r.nrxdot[i * P + p], "%s lambda %g traj %d: tangent of count of reaction %d param %d", m->name, lambda, (int)traj, i, p);
    /* entropy production */
    if (m->has_rev) {
      CHECK_CLOSE(rec.sigma, r.sigma, "%s lambda %g traj %d: entropy production", m->name, lambda, (int)traj);
      for (int p = 0; p < P; p++) CHECK_CLOSE(rec.sigmadot[p], r.sigmadot[p], "%s lambda %g traj %d: entropy production tangent param %d", m->name, lambda, (int)traj, p);
    }
  }
  /* the cases are not vacuous */
  ck_assert_msg(nev >= 5 * NTRAJ, "%s: only %lld events in %d trajectories", m->name, (long long)nev, NTRAJ);
  if (m == &decay) ck_assert_msg(nabsorbed > 0 && nabsorbed < NTRAJ, "pure decay: %d of %d absorbed; want both kinds", nabsorbed, NTRAJ);
  if (m == &branch) ck_assert_msg(nabsorbed >= NTRAJ / 2, "branching: only %d of %d absorbed", nabsorbed, NTRAJ);
  if (verbose) printf("  %-13s lambda %.1f: %lld events, %d absorbed, max relative difference so far %.3g\n", m->name, lambda, (long long)nev, nabsorbed, max_rel_seen);
  free(plain);
  ref_free(&r);
  ck_assert(!StgssaSSAWorkDestroy(&swork));
  ck_assert(!StgssaTangentRecordDestroy(&rec));
  ck_assert(!StgssaTangentWorkDestroy(&work));
  lib_close(&L);
}

/* loop index i: model i / 2, lambda lambdas[i % 2] */
START_TEST(test_stgs_vs_reference)
{
  compare_stgs(models[_i / 2], lambdas[_i % 2]);
}
END_TEST

/* the same with a burn-in of the path observables at half the final time (lambda 1) */
START_TEST(test_stgs_count_from_vs_reference)
{
  ref_count_from = 0.5 * models[_i]->tfinal;
  compare_stgs(models[_i], 1.0);
  ref_count_from = 0.0;
}
END_TEST

/* Score estimator: scores at the sample times and at tfinal against the reference formula */
START_TEST(test_score_vs_reference)
{
  const DenseModel   *m = models[_i];
  const int           P = m->P, no = m->nobs;
  Lib                 L;
  StgssaSSAConfig     cfg;
  StgssaTangentConfig tc;
  StgssaTangentWork   work;
  StgssaTangentRecord rec;
  RefTraj             r = {0};

  lib_open(m->text, &L);
  fill_configs(m, L.net, STGSSA_GRADIENT_SCORE, 1.0, &cfg, &tc);
  ck_assert(!StgssaTangentWorkCreate(L.net, P, &work));
  ck_assert(!StgssaTangentRecordCreate(m->nsample, no, m->R, P, &rec));
  for (uint64_t traj = 0; traj < NTRAJ; traj++) {
    StgssaTrajInfo info;
    double         sc[MAXP];
    ck_assert(!StgssaSSARunTangent(&cfg, &tc, traj, &work, &rec, &info));
    ref_run(m, 1.0, traj, &r);
    ck_assert_msg(rec.events == r.N, "%s traj %d: events %lld, reference %d", m->name, (int)traj, (long long)rec.events, r.N);
    for (int i = 0; i < m->R; i++) ck_assert(rec.nrx[i] == r.nrx[i]);
    for (int i = 0; i < m->nsample; i++) {
      const int n = ref_state_at(&r, m->times[i]);
      for (int o = 0; o < no; o++) ck_assert(rec.x[i * no + o] == (double)r.x[n * m->S + m->obs[o]]);
      ref_score(m, &r, m->times[i], sc);
      for (int p = 0; p < P; p++) CHECK_CLOSE(rec.score_sample[i * P + p], sc[p], "%s traj %d: score at sample %d (t = %g) param %d", m->name, (int)traj, i, m->times[i], p);
    }
    ref_score(m, &r, m->tfinal, sc);
    for (int p = 0; p < P; p++) CHECK_CLOSE(rec.score_end[p], sc[p], "%s traj %d: score at tfinal param %d", m->name, (int)traj, p);
    if (m->has_rev) CHECK_CLOSE(rec.sigma, r.sigma, "%s traj %d: entropy production (score run)", m->name, (int)traj);
    {
      double wavg[MAXS], wavgdot[MAXS * MAXP];
      ref_window(m, &r, wavg, wavgdot);
      for (int o = 0; o < no; o++) CHECK_CLOSE(rec.wavg[o], wavg[o], "%s traj %d: window average (score run)", m->name, (int)traj);
    }
  }
  ref_free(&r);
  ck_assert(!StgssaTangentRecordDestroy(&rec));
  ck_assert(!StgssaTangentWorkDestroy(&work));
  lib_close(&L);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* Finite differences on locally constant paths                                               */

/*
  One reaction: pi = 1, so pidot = 0 exactly and the ST-GS tangent is the true pathwise
  derivative. With the same trajectory index (common random numbers) the path at k e^{+-h} has the
  same event sequence and event times t_n(theta) = e^{-theta} s_n (s_n fixed sums of E/(count)),
  as long as no event crosses w0, w1 or tfinal (probability O(h) per trajectory; none does for
  these seeds). The window average is then a smooth function of theta and its central difference
  with h = 1e-6 has truncation error (h^2/6) |f'''| ~ 1e-13 relative and roundoff
  ~ eps |f| / h ~ 1e-16 * 20 / 1e-6 ~ 2e-9 absolute; RTOL_FD = 1e-5 leaves four orders of
  magnitude for both while any real error of the tangent (a missing tdot term, a wrong sign)
  is O(1) relative.
*/
static void wavg_at(const char *fmt, double k, const DenseModel *m, uint64_t traj, double *wavg, double *wavgdot)
{
  char                text[512];
  Lib                 L;
  StgssaSSAConfig     cfg;
  StgssaTangentConfig tc;
  StgssaTangentWork   work;
  StgssaTangentRecord rec;
  StgssaTrajInfo      info;
  snprintf(text, sizeof text, fmt, k);
  lib_open(text, &L);
  fill_configs(m, L.net, STGSSA_GRADIENT_STGS, 1.0, &cfg, &tc);
  ck_assert(!StgssaTangentWorkCreate(L.net, m->P, &work));
  ck_assert(!StgssaTangentRecordCreate(m->nsample, m->nobs, m->R, m->P, &rec));
  ck_assert(!StgssaSSARunTangent(&cfg, &tc, traj, &work, &rec, &info));
  *wavg = rec.wavg[0];
  if (wavgdot) *wavgdot = rec.wavgdot[0];
  ck_assert(!StgssaTangentRecordDestroy(&rec));
  ck_assert(!StgssaTangentWorkDestroy(&work));
  lib_close(&L);
}

static void check_fd(const DenseModel *m, const char *fmt)
{
  const double h = 1e-6, k = m->par[0];
  int          nonzero = 0;
  double       worst   = 0.0;
  for (uint64_t traj = 0; traj < NTRAJ; traj++) {
    double w, wd, wp, wm;
    wavg_at(fmt, k, m, traj, &w, &wd);
    wavg_at(fmt, k * exp(h), m, traj, &wp, NULL);
    wavg_at(fmt, k * exp(-h), m, traj, &wm, NULL);
    const double fd = (wp - wm) / (2.0 * h), sc = fmax(fabs(fd), fabs(wd));
    if (sc > 0.0) {
      nonzero++;
      worst = fmax(worst, fabs(wd - fd) / sc);
    }
    ck_assert_msg(fabs(wd - fd) <= RTOL_FD * sc, "%s traj %d: ST-GS d(window average)/d log k = %.12g, central difference %.12g", m->name, (int)traj, wd, fd);
  }
  ck_assert_msg(nonzero >= NTRAJ / 2, "%s: only %d nonzero derivatives", m->name, nonzero);
  if (verbose) printf("  %-13s finite differences: %d nonzero, largest relative difference %.3g (tolerance %g)\n", m->name, nonzero, worst, RTOL_FD);
}

START_TEST(test_fd_pure_birth)
{
  check_fd(&birth, "begin parameters\n  k %.17g\nend parameters\nbegin species\n  M 0\nend species\n"
                   "begin reactions\n  0 -> M  k\nend reactions\n");
}
END_TEST

START_TEST(test_fd_pure_decay)
{
  check_fd(&decay, "begin parameters\n  k %.17g\nend parameters\nbegin species\n  A 20\nend species\n"
                   "begin reactions\n  A -> 0  k\nend reactions\n");
}
END_TEST

/* the unperturbed text of the FD models is the same model as the dense one */
START_TEST(test_fd_models_consistent)
{
  double w1, w2, d1, d2;
  wavg_at("begin parameters\n  k %.17g\nend parameters\nbegin species\n  M 0\nend species\n"
          "begin reactions\n  0 -> M  k\nend reactions\n",
          birth.par[0], &birth, 7, &w1, &d1);
  {
    Lib                 L;
    StgssaSSAConfig     cfg;
    StgssaTangentConfig tc;
    StgssaTangentWork   work;
    StgssaTangentRecord rec;
    StgssaTrajInfo      info;
    lib_open(birth.text, &L);
    fill_configs(&birth, L.net, STGSSA_GRADIENT_STGS, 1.0, &cfg, &tc);
    ck_assert(!StgssaTangentWorkCreate(L.net, 1, &work));
    ck_assert(!StgssaTangentRecordCreate(birth.nsample, 1, 1, 1, &rec));
    ck_assert(!StgssaSSARunTangent(&cfg, &tc, 7, &work, &rec, &info));
    w2 = rec.wavg[0];
    d2 = rec.wavgdot[0];
    ck_assert(!StgssaTangentRecordDestroy(&rec));
    ck_assert(!StgssaTangentWorkDestroy(&work));
    lib_close(&L);
  }
  ck_assert(w1 == w2 && d1 == d2);
}
END_TEST

/* ------------------------------------------------------------------------------------------ */
/* The small-network ST-GS engine (src/ssa/stgs_small.c) against the general loop (tangent.c):   */
/* the same numbers, bit for bit, in every field of the record (memcmp: sign of zero included).  */
/* The general loop is forced by a copy of the network without its dense rows (nu_dense = NULL). */

/* a 6-parameter network (P = 6: the 8-wide padded tangents), binomial and first-order propensities */
static const char *six_text = "begin parameters\n k1 8\n k2 0.5\n k3 1.5\n k4 0.7\n k5 0.02\n k6 0.9\nend parameters\n"
                              "begin species\n A 3\n B 0\n C 1\nend species\n"
                              "begin reactions\n 0 -> A k1\n A -> 0 k2\n A -> B k3\n B -> A k4\n 2 A -> C k5\n C -> 2 A k6\nend reactions\n";

static void compare_small_general(const char *name, const char *text, PetscInt P, const PetscInt *param, PetscInt nobs, const PetscInt *obs, double tfinal, double w0, double w1, double lambda, double count_from)
{
  const double        times[5] = {0.0, 0.3 * tfinal, 0.5 * tfinal, 0.9 * tfinal, tfinal};
  Lib                 L;
  StgssaNetwork       general;
  StgssaSSAConfig     cfg;
  StgssaTangentConfig tc;
  StgssaTangentWork   w1s, w2s;
  StgssaTangentRecord r1, r2;
  int64_t             nev = 0;

  lib_open(text, &L);
  ck_assert_msg(L.net->nu_dense != NULL, "%s: the network should be small enough for the dense engine", name);
  general          = *L.net;
  general.nu_dense = NULL; /* the general loop (and the sparse forward step) */
  memset(&cfg, 0, sizeof(cfg));
  memset(&tc, 0, sizeof(tc));
  cfg.seed = SEED, cfg.iteration = ITERATION, cfg.tfinal = tfinal, cfg.max_events = 10000000, cfg.nsample = 5, cfg.sample_times = times;
  tc.type = STGSSA_GRADIENT_STGS, tc.P = P, tc.rxn_param = param, tc.lambda = lambda, tc.nobs = nobs, tc.obs = obs;
  tc.window = PETSC_TRUE, tc.w0 = w0, tc.w1 = w1, tc.count_from = count_from;
  ck_assert(!StgssaTangentWorkCreate(L.net, P, &w1s));
  ck_assert(!StgssaTangentWorkCreate(L.net, P, &w2s));
  ck_assert(!StgssaTangentRecordCreate(5, nobs, L.net->R, P, &r1));
  ck_assert(!StgssaTangentRecordCreate(5, nobs, L.net->R, P, &r2));
  for (uint64_t traj = 0; traj < NTRAJ; traj++) {
    StgssaTrajInfo i1, i2;
    cfg.net = L.net;
    ck_assert(!StgssaSSARunTangent(&cfg, &tc, traj, &w1s, &r1, &i1));
    cfg.net = &general;
    ck_assert(!StgssaSSARunTangent(&cfg, &tc, traj, &w2s, &r2, &i2));
    nev += r1.events;
    ck_assert_msg(i1.events == i2.events && i1.end == i2.end && r1.events == r2.events && r1.events_counted == r2.events_counted, "%s traj %d: events %lld / %lld", name, (int)traj, (long long)i1.events, (long long)i2.events);
#define SAME(f, n) ck_assert_msg(!memcmp(r1.f, r2.f, (size_t)(n) * sizeof(double)), "%s lambda %g traj %d: " #f " differs between the small and the general engine", name, lambda, (int)traj)
    SAME(x, 5 * nobs);
    SAME(xdot, 5 * nobs * P);
    SAME(wavg, nobs);
    SAME(wavgdot, nobs * P);
    SAME(nrx, L.net->R);
    SAME(nrxdot, L.net->R * P);
    ck_assert(!memcmp(w1s.xdot, w2s.xdot, (size_t)(L.net->S * P) * sizeof(double)) && !memcmp(w1s.tdot, w2s.tdot, (size_t)P * sizeof(double)));
#undef SAME
  }
  ck_assert_msg(nev >= 5 * NTRAJ, "%s: only %lld events", name, (long long)nev);
  { /* the interleaved entry points (groups of trajectories, and a remainder) against one at a time */
    enum { NM = 7 };
    StgssaTangentWork   wm[NM];
    StgssaTangentRecord rm[NM];
    StgssaSSAWork       sw[NM], s1;
    StgssaTrajInfo      im[NM], i1;
    uint64_t            traj[NM];
    int64_t             sm[NM * 5 * 16], s1m[5 * 16];
    ck_assert(L.net->S <= 16);
    cfg.net = L.net;
    for (int k = 0; k < NM; k++) {
      traj[k] = (uint64_t)(3 * k + 1);
      ck_assert(!StgssaTangentWorkCreate(L.net, P, &wm[k]));
      ck_assert(!StgssaTangentRecordCreate(5, nobs, L.net->R, P, &rm[k]));
      ck_assert(!StgssaSSAWorkCreate(L.net, &sw[k]));
    }
    ck_assert(!StgssaSSAWorkCreate(L.net, &s1));
    ck_assert(!StgssaSSARunTangentMany(&cfg, &tc, NM, traj, wm, rm, im));
    ck_assert(!StgssaSSARunMany(&cfg, NM, traj, sw, sm, im));
    for (int k = 0; k < NM; k++) {
      StgssaTrajInfo it;
      ck_assert(!StgssaSSARunTangent(&cfg, &tc, traj[k], &w1s, &r1, &it));
      ck_assert_msg(rm[k].events == r1.events && !memcmp(rm[k].xdot, r1.xdot, (size_t)(5 * nobs * P) * sizeof(double)) && !memcmp(rm[k].wavgdot, r1.wavgdot, (size_t)(nobs * P) * sizeof(double)) && !memcmp(rm[k].nrxdot, r1.nrxdot, (size_t)(L.net->R * P) * sizeof(double)),
                    "%s: StgssaSSARunTangentMany trajectory %d differs from StgssaSSARunTangent", name, (int)traj[k]);
      ck_assert(!StgssaSSARun(&cfg, traj[k], &s1, s1m, &i1));
      ck_assert_msg(im[k].events == i1.events && im[k].end == i1.end && !memcmp(&sm[k * 5 * L.net->S], s1m, (size_t)(5 * L.net->S) * sizeof(int64_t)), "%s: StgssaSSARunMany trajectory %d differs from StgssaSSARun", name, (int)traj[k]);
      cfg.net = &general; /* and the sparse forward step */
      ck_assert(!StgssaSSARun(&cfg, traj[k], &s1, s1m, &i1));
      ck_assert_msg(im[k].events == i1.events && !memcmp(&sm[k * 5 * L.net->S], s1m, (size_t)(5 * L.net->S) * sizeof(int64_t)), "%s: the dense forward step differs from the sparse one, trajectory %d", name, (int)traj[k]);
      cfg.net = L.net;
    }
    for (int k = 0; k < NM; k++) {
      ck_assert(!StgssaTangentWorkDestroy(&wm[k]));
      ck_assert(!StgssaTangentRecordDestroy(&rm[k]));
      ck_assert(!StgssaSSAWorkDestroy(&sw[k]));
    }
    ck_assert(!StgssaSSAWorkDestroy(&s1));
  }
  ck_assert(!StgssaTangentRecordDestroy(&r1));
  ck_assert(!StgssaTangentRecordDestroy(&r2));
  ck_assert(!StgssaTangentWorkDestroy(&w1s));
  ck_assert(!StgssaTangentWorkDestroy(&w2s));
  lib_close(&L);
}

/* loop index i: models without entropy production, lambda 1 or 0.3, burn-in of the path observables or not */
START_TEST(test_small_engine_bitwise)
{
  static const DenseModel *const small[] = {&telegraph, &dimer, &birthdeath, &decay, &branch, &birth};
  const DenseModel              *m       = small[_i / 4];
  const double                   lambda  = _i % 2 ? 0.3 : 1.0;
  compare_small_general(m->name, m->text, m->P, m->param, m->nobs, m->obs, m->tfinal, m->w0, m->w1, lambda, (_i / 2) % 2 ? 0.5 * m->tfinal : 0.0);
}
END_TEST

START_TEST(test_small_engine_bitwise_p6)
{
  static const PetscInt param[6] = {0, 1, 2, 3, 4, 5}, param3[6] = {0, -1, 1, -1, 2, -1}, obs[3] = {0, 1, 2};
  compare_small_general("six", six_text, 6, param, 3, obs, 5.0, 1.0, 4.0, 1.0, 0.0);
  compare_small_general("six", six_text, 6, param, 3, obs, 5.0, 1.0, 4.0, 0.3, 1.0);
  compare_small_general("six, 3 fitted", six_text, 3, param3, 2, obs, 5.0, 0.0, 5.0, 1.0, 0.0);
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s  = suite_create("tangent");
  TCase   *tc = tcase_create("tangent");
  SRunner *sr;
  int      failed;
  if (PetscInitialize(&argc, &argv, NULL, NULL)) return EXIT_FAILURE;
  verbose = getenv("TEST_TANGENT_VERBOSE") != NULL;
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, test_stgs_vs_reference, 0, 2 * NMODEL);
  tcase_add_loop_test(tc, test_stgs_count_from_vs_reference, 0, NMODEL);
  tcase_add_loop_test(tc, test_score_vs_reference, 0, NMODEL);
  tcase_add_test(tc, test_fd_models_consistent);
  tcase_add_test(tc, test_fd_pure_birth);
  tcase_add_test(tc, test_fd_pure_decay);
  tcase_add_loop_test(tc, test_small_engine_bitwise, 0, 24);
  tcase_add_test(tc, test_small_engine_bitwise_p6);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK); /* MPI must not be used across fork() */
  srunner_run_all(sr, CK_ENV);
  failed = srunner_ntests_failed(sr);
  if (failed && !getenv("CK_VERBOSITY")) { /* quiet unless failing: then say what failed */
    TestResult **f = srunner_failures(sr);
    for (int i = 0; i < failed; i++) fprintf(stderr, "%s:%d: %s: %s\n", tr_lfile(f[i]), tr_lno(f[i]), tr_tcname(f[i]), tr_msg(f[i]));
    free(f);
  }
  if (verbose) printf("test_tangent: %d tests, %d failed, largest relative difference %.3g (tolerance %g)\n", srunner_ntests_run(sr), failed, max_rel_seen, RTOL);
  srunner_free(sr);
  if (PetscFinalize()) return EXIT_FAILURE;
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
