/* SPDX-License-Identifier: BSD-2-Clause */
/*
  The TAO type "adam" (src/opt/adam): convergence on a convex quadratic, the exact first steps
  against Kingma & Ba's formulas computed here, bounds, bitwise restart through
  TaoAdamGetState/SetState, Inf/NaN handling, options and their validation.

  Every Vec lives on PETSC_COMM_WORLD with all P entries on rank 0 (local size 0 elsewhere), as
  the driver holds theta; run it on 1 rank or under mpirun -n 2. Checks of values are combined
  over the ranks (all_ok) so that every rank takes the same path. Quiet unless failing.
*/
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stgssa/adam.h>

#define P 3
#define MAXH 64

/* f(x) = sum_i c_i (x_i - a_i)^2 + w sum_i sin(3 x_i), with optional Inf/NaN injection */
typedef struct {
  PetscReal c[P];      /* curvatures */
  PetscReal a[P];      /* unconstrained minimizer (when w = 0) */
  PetscReal w;         /* weight of a non-quadratic term (restart test) */
  PetscInt  nevals;    /* evaluations so far */
  PetscInt  bad_after; /* from this evaluation on, inject a bad value (-1: never) */
  int       bad_kind;  /* 0: f = NaN, 1: f = +Inf, 2: g_0 = NaN, 3: g_0 = +Inf */
} Quad;

static const Quad quad_default = {{1.0, 4.0, 0.25}, {1.0, -2.0, 0.5}, 0.0, 0, -1, 0};

static PetscErrorCode FormFunctionGradient(Tao tao, Vec X, PetscReal *f, Vec G, void *ctx)
{
  Quad              *q = (Quad *)ctx;
  const PetscScalar *x;
  PetscScalar       *g;
  PetscInt           lo, hi;
  PetscReal          floc = 0.0;
  PetscBool          bad;

  PetscFunctionBeginUser;
  bad = (PetscBool)(q->bad_after >= 0 && q->nevals >= q->bad_after);
  PetscCall(VecGetOwnershipRange(X, &lo, &hi));
  PetscCall(VecGetArrayRead(X, &x));
  PetscCall(VecGetArray(G, &g));
  for (PetscInt i = lo; i < hi; i++) {
    const PetscReal d = x[i - lo] - q->a[i];

    floc += q->c[i] * d * d + q->w * PetscSinReal(3.0 * x[i - lo]);
    g[i - lo] = 2.0 * q->c[i] * d + 3.0 * q->w * PetscCosReal(3.0 * x[i - lo]);
    if (bad && i == 0 && q->bad_kind == 2) g[0] = (PetscReal)NAN;
    if (bad && i == 0 && q->bad_kind == 3) g[0] = (PetscReal)INFINITY;
  }
  PetscCall(VecRestoreArray(G, &g));
  PetscCall(VecRestoreArrayRead(X, &x));
  PetscCallMPI(MPI_Allreduce(&floc, f, 1, MPIU_REAL, MPIU_SUM, PetscObjectComm((PetscObject)X)));
  if (bad && q->bad_kind == 0) *f = (PetscReal)NAN;
  if (bad && q->bad_kind == 1) *f = (PetscReal)INFINITY;
  q->nevals++;
  PetscFunctionReturn(0);
}

/* Records every iterate (on rank 0, which owns all entries) and whether it was within [lo, hi]. */
typedef struct {
  PetscInt  n;
  PetscReal x[MAXH][P];
  PetscInt  its[MAXH];
  PetscBool check_bounds;
  PetscReal lo[P], hi[P];
  PetscBool outside;
} Recorder;

static PetscErrorCode RecordIterate(Tao tao, void *ctx)
{
  Recorder          *r = (Recorder *)ctx;
  Vec                X;
  const PetscScalar *x;
  PetscInt           nloc, it;

  PetscFunctionBeginUser;
  PetscCall(TaoGetSolution(tao, &X));
  PetscCall(TaoGetIterationNumber(tao, &it));
  PetscCall(VecGetLocalSize(X, &nloc));
  PetscCall(VecGetArrayRead(X, &x));
  for (PetscInt i = 0; i < nloc; i++) {
    if (r->n < MAXH) r->x[r->n][i] = x[i];
    if (r->check_bounds && (x[i] < r->lo[i] || x[i] > r->hi[i])) r->outside = PETSC_TRUE;
  }
  PetscCall(VecRestoreArrayRead(X, &x));
  if (r->n < MAXH) r->its[r->n] = it;
  r->n++;
  PetscFunctionReturn(0);
}

static PetscMPIInt rank_world(void)
{
  PetscMPIInt rank;
  ck_assert(!MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  return rank;
}

/* true on every rank iff true on every rank */
static int all_ok(int ok)
{
  int all = 0;
  ck_assert(!MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, PETSC_COMM_WORLD));
  return all;
}

/* x with all P entries on rank 0, set to vals */
static Vec make_vec(const PetscReal vals[P])
{
  Vec x;
  ck_assert(!VecCreateMPI(PETSC_COMM_WORLD, rank_world() == 0 ? P : 0, P, &x));
  if (rank_world() == 0) {
    PetscInt idx[P];
    for (PetscInt i = 0; i < P; i++)
      idx[i] = i;
    ck_assert(!VecSetValues(x, P, idx, vals, INSERT_VALUES));
  }
  ck_assert(!VecAssemblyBegin(x));
  ck_assert(!VecAssemblyEnd(x));
  return x;
}

/* Adam Tao on x0 (the Tao takes a reference) */
static Tao make_tao(Vec x0, Quad *q)
{
  Tao tao;
  ck_assert(!TaoCreate(PETSC_COMM_WORLD, &tao));
  ck_assert(!TaoSetType(tao, TAOADAM));
  ck_assert(!TaoSetSolution(tao, x0));
  ck_assert(!TaoSetObjectiveAndGradient(tao, NULL, FormFunctionGradient, q));
  return tao;
}

/* local entries of v copied to buf (at most P) */
static PetscInt get_local(Vec v, PetscReal buf[P])
{
  const PetscScalar *a;
  PetscInt           n;
  ck_assert(!VecGetLocalSize(v, &n));
  ck_assert(!VecGetArrayRead(v, &a));
  for (PetscInt i = 0; i < n; i++)
    buf[i] = a[i];
  ck_assert(!VecRestoreArrayRead(v, &a));
  return n;
}

static int close_ulps(PetscReal x, PetscReal y)
{
  return PetscAbsReal(x - y) <= 4 * DBL_EPSILON * PetscMax(1.0, PetscAbsReal(y));
}

/* (a) convex quadratic to 1e-4 in max_it 2000 with lr 0.05 */
START_TEST(test_quadratic)
{
  const PetscReal    zero[P] = {0, 0, 0};
  Quad               q       = quad_default;
  Vec                x       = make_vec(zero);
  Tao                tao     = make_tao(x, &q);
  TaoConvergedReason reason;
  PetscReal          xs[P];
  PetscInt           n, its;
  int                ok = 1;

  ck_assert(!TaoSetMaximumIterations(tao, 2000));
  ck_assert(!PetscOptionsSetValue(NULL, "-tao_adam_learning_rate", "0.05"));
  ck_assert(!TaoSetFromOptions(tao));
  ck_assert(!PetscOptionsClearValue(NULL, "-tao_adam_learning_rate"));
  ck_assert(!TaoSolve(tao));
  ck_assert(!TaoGetConvergedReason(tao, &reason));
  ck_assert(!TaoGetIterationNumber(tao, &its));
  ck_assert(reason == TAO_DIVERGED_MAXITS || reason > 0);
  ck_assert_int_le(its, 2000);
  n = get_local(x, xs);
  for (PetscInt i = 0; i < n; i++)
    ok = ok && PetscAbsReal(xs[i] - q.a[i]) < 1e-4;
  ck_assert(all_ok(ok));
  ck_assert(!TaoDestroy(&tao));
  ck_assert(!VecDestroy(&x));
}
END_TEST

/* (b) the first three iterates against the formula computed here; the first step is ~ lr sign(g) */
START_TEST(test_first_steps)
{
  const PetscReal x0[P] = {0.3, -1.2, 2.0};
  const PetscReal lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  Quad            q   = quad_default;
  Vec             x   = make_vec(x0);
  Tao             tao = make_tao(x, &q);
  Recorder        rec = {0};
  PetscReal       xe[P], m[P] = {0}, v[P] = {0};
  int             ok = 1;

  ck_assert(!TaoSetMaximumIterations(tao, 3));
  ck_assert(!TaoSetMonitor(tao, RecordIterate, &rec, NULL));
  ck_assert(!TaoSolve(tao));
  ck_assert_int_eq(rec.n, 4); /* iterations 0..3 */
  for (PetscInt k = 0; k < 4; k++)
    ck_assert_int_eq(rec.its[k], k);
  if (rank_world() == 0) {
    for (PetscInt i = 0; i < P; i++)
      xe[i] = x0[i];
    for (PetscInt i = 0; i < P; i++)
      ok = ok && rec.x[0][i] == x0[i];
    for (PetscInt t = 1; t <= 3; t++) {
      for (PetscInt i = 0; i < P; i++) {
        const PetscReal g = 2.0 * q.c[i] * (xe[i] - q.a[i]);
        PetscReal       mhat, vhat;

        m[i] = b1 * m[i] + (1.0 - b1) * g;
        v[i] = b2 * v[i] + (1.0 - b2) * g * g;
        mhat = m[i] / (1.0 - pow(b1, (double)t));
        vhat = v[i] / (1.0 - pow(b2, (double)t));
        if (t == 1) {
          /* Adam's first step is lr g / (|g| + eps): lr sign(g) up to a relative eps/|g| */
          const PetscReal sgn = g > 0 ? 1.0 : -1.0;
          ok                  = ok && PetscAbsReal(rec.x[1][i] - (x0[i] - lr * sgn)) <= lr * 1e-6;
          ok                  = ok && PetscAbsReal(rec.x[1][i] - x0[i]) < lr;
        }
        xe[i] = xe[i] - lr * mhat / (sqrt(vhat) + eps);
        ok    = ok && close_ulps(rec.x[t][i], xe[i]);
      }
    }
  }
  ck_assert(all_ok(ok));
  ck_assert(!TaoDestroy(&tao));
  ck_assert(!VecDestroy(&x));
}
END_TEST

/* (c) bounds: iterates stay within [XL, XU]; the solution sits at the active bounds */
START_TEST(test_bounds)
{
  const PetscReal    start[P] = {5.0, 0.0, -3.0}; /* outside: the initial point is projected */
  const PetscReal    lo[P] = {-1.0, -1.0, -1.0}, hi[P] = {0.5, 1.0, 1.0};
  Quad               q = quad_default; /* minimizer (1, -2, 0.5): bound 0 above, 1 below, 2 inside */
  Vec                x = make_vec(start), xl = make_vec(lo), xu = make_vec(hi);
  Tao                tao = make_tao(x, &q);
  Recorder          *rec;
  TaoConvergedReason reason;
  PetscReal          xs[P], gnorm;
  PetscInt           n, its;
  int                ok;

  ck_assert(!PetscCalloc1(1, &rec));
  rec->check_bounds = PETSC_TRUE;
  for (PetscInt i = 0; i < P; i++) {
    rec->lo[i] = lo[i];
    rec->hi[i] = hi[i];
  }
  ck_assert(!TaoSetVariableBounds(tao, xl, xu));
  ck_assert(!TaoSetMaximumIterations(tao, 2000));
  ck_assert(!TaoSetMonitor(tao, RecordIterate, rec, NULL));
  ck_assert(!TaoSolve(tao));
  ck_assert(!TaoGetSolutionStatus(tao, &its, NULL, &gnorm, NULL, NULL, &reason));
  ck_assert(reason == TAO_DIVERGED_MAXITS || reason > 0); /* GATOL if the projected gradient becomes exactly 0 */
  ck_assert_int_eq(rec->n, its + 1);
  ok = !rec->outside;
  n  = get_local(x, xs);
  if (n) ok = ok && xs[0] == hi[0] && xs[1] == lo[1] && PetscAbsReal(xs[2] - q.a[2]) < 1e-4;
  ck_assert(all_ok(ok));
  ck_assert(gnorm < 1e-3); /* projected gradient: only the free component counts */
  ck_assert(!TaoDestroy(&tao));

  /* one-sided: only an upper bound */
  {
    const PetscReal zero[P] = {0, 0, 0};
    Vec             x1      = make_vec(zero);

    q            = quad_default;
    tao          = make_tao(x1, &q);
    rec->n       = 0;
    rec->outside = PETSC_FALSE;
    for (PetscInt i = 0; i < P; i++)
      rec->lo[i] = PETSC_NINFINITY;
    ck_assert(!TaoSetVariableBounds(tao, NULL, xu));
    ck_assert(!TaoSetMaximumIterations(tao, 2000));
    ck_assert(!TaoSetMonitor(tao, RecordIterate, rec, NULL));
    ck_assert(!TaoSolve(tao));
    ok = !rec->outside;
    n  = get_local(x1, xs);
    if (n) ok = ok && xs[0] == hi[0] && PetscAbsReal(xs[1] - q.a[1]) < 1e-4 && PetscAbsReal(xs[2] - q.a[2]) < 1e-4;
    ck_assert(all_ok(ok));
    ck_assert(!TaoDestroy(&tao));
    ck_assert(!VecDestroy(&x1));
  }
  ck_assert(!PetscFree(rec));
  ck_assert(!VecDestroy(&x));
  ck_assert(!VecDestroy(&xl));
  ck_assert(!VecDestroy(&xu));
}
END_TEST

/* bitwise equality of the local parts, on every rank */
static int same_bits(Vec a, Vec b)
{
  PetscReal ba[P], bb[P];
  PetscInt  na = get_local(a, ba), nb = get_local(b, bb);
  return all_ok(na == nb && !memcmp(ba, bb, (size_t)na * sizeof(PetscReal)));
}

/* A checkpoint taken by a monitor at iteration `at`, as a driver does it. */
typedef struct {
  PetscInt at; /* iteration to save */
  Vec      x;  /* copies of the solution and moments at that iteration */
  Vec      m, v;
  PetscInt step; /* Adam steps taken then */
} Checkpoint;

static PetscErrorCode SaveCheckpoint(Tao tao, void *ctx)
{
  Checkpoint *c = (Checkpoint *)ctx;
  PetscInt    it;
  Vec         x, m, v;

  PetscFunctionBeginUser;
  PetscCall(TaoGetIterationNumber(tao, &it));
  if (it != c->at) PetscFunctionReturn(0);
  PetscCall(TaoGetSolution(tao, &x));
  PetscCall(TaoAdamGetState(tao, &m, &v, &c->step));
  PetscCall(VecDuplicate(x, &c->x));
  PetscCall(VecCopy(x, c->x));
  PetscCall(VecDuplicate(m, &c->m));
  PetscCall(VecCopy(m, c->m));
  PetscCall(VecDuplicate(v, &c->v));
  PetscCall(VecCopy(v, c->v));
  PetscFunctionReturn(0);
}

/* (d) restart: 4 iterations, state saved, new Tao, 6 more == 10 uninterrupted, bitwise; also
   two TaoSolve() calls on one Tao, and a checkpoint taken inside a monitor */
START_TEST(test_restart)
{
  const PetscReal x0[P] = {0.3, -1.2, 2.0};
  Quad            q     = quad_default;
  Vec             xa, xb, xc, ma, va, mb, vb, xsave, msave, vsave, m, v;
  Tao             tao;
  PetscInt        step, its;

  q.w = 0.3; /* not a pure quadratic, still deterministic */

  /* uninterrupted: 10 iterations */
  xa  = make_vec(x0);
  tao = make_tao(xa, &q);
  ck_assert(!TaoSetMaximumIterations(tao, 10));
  ck_assert(!TaoSolve(tao));
  ck_assert(!TaoAdamGetState(tao, &m, &v, &step));
  ck_assert_int_eq(step, 10);
  ck_assert(!VecDuplicate(m, &ma));
  ck_assert(!VecCopy(m, ma));
  ck_assert(!VecDuplicate(v, &va));
  ck_assert(!VecCopy(v, va));
  ck_assert(!TaoDestroy(&tao));

  /* killed after 4: keep copies of x, m, v and step, destroy everything else */
  xb  = make_vec(x0);
  tao = make_tao(xb, &q);
  ck_assert(!TaoSetMaximumIterations(tao, 4));
  ck_assert(!TaoSolve(tao));
  ck_assert(!TaoAdamGetState(tao, &m, &v, &step));
  ck_assert_int_eq(step, 4);
  ck_assert(!VecDuplicate(xb, &xsave));
  ck_assert(!VecCopy(xb, xsave));
  ck_assert(!VecDuplicate(m, &msave));
  ck_assert(!VecCopy(m, msave));
  ck_assert(!VecDuplicate(v, &vsave));
  ck_assert(!VecCopy(v, vsave));
  ck_assert(!TaoDestroy(&tao));
  ck_assert(!VecDestroy(&xb));

  /* restarted */
  tao = make_tao(xsave, &q);
  ck_assert(!TaoSetUp(tao));
  ck_assert(!TaoAdamSetState(tao, msave, vsave, step));
  ck_assert(!TaoSetMaximumIterations(tao, 10));
  ck_assert(!TaoSolve(tao));
  ck_assert(!TaoGetIterationNumber(tao, &its));
  ck_assert_int_eq(its, 10);
  ck_assert(same_bits(xsave, xa));
  ck_assert(!TaoAdamGetState(tao, &m, &v, &step));
  ck_assert_int_eq(step, 10);
  ck_assert(same_bits(m, ma));
  ck_assert(same_bits(v, va));
  ck_assert(!TaoDestroy(&tao));

  /* a second TaoSolve on the same Tao continues the first: 4 then up to 10 == 10 */
  xc  = make_vec(x0);
  tao = make_tao(xc, &q);
  ck_assert(!TaoSetMaximumIterations(tao, 4));
  ck_assert(!TaoSolve(tao));
  ck_assert(!TaoSetMaximumIterations(tao, 10));
  ck_assert(!TaoSolve(tao));
  ck_assert(same_bits(xc, xa));
  ck_assert(!TaoAdamGetState(tao, &mb, &vb, NULL));
  ck_assert(same_bits(mb, ma));
  ck_assert(same_bits(vb, va));
  /* SetState(NULL, NULL, 0) starts afresh: the same 10 iterations from x0 again */
  {
    Vec x0v = make_vec(x0);
    ck_assert(!VecCopy(x0v, xc));
    ck_assert(!VecDestroy(&x0v));
  }
  ck_assert(!TaoAdamSetState(tao, NULL, NULL, 0));
  ck_assert(!TaoSolve(tao));
  ck_assert(same_bits(xc, xa));
  ck_assert(!TaoDestroy(&tao));

  /* checkpoint written by a monitor during a 10-iteration run, restarted from */
  {
    Checkpoint ck = {6, NULL, NULL, NULL, -1};
    Vec        xd = make_vec(x0);

    tao = make_tao(xd, &q);
    ck_assert(!TaoSetMaximumIterations(tao, 10));
    ck_assert(!TaoSetMonitor(tao, SaveCheckpoint, &ck, NULL));
    ck_assert(!TaoSolve(tao));
    ck_assert(!TaoDestroy(&tao));
    ck_assert(!VecDestroy(&xd));
    ck_assert_int_eq(ck.step, 6);
    tao = make_tao(ck.x, &q);
    ck_assert(!TaoSetUp(tao));
    ck_assert(!TaoAdamSetState(tao, ck.m, ck.v, ck.step));
    ck_assert(!TaoSetMaximumIterations(tao, 10));
    ck_assert(!TaoSolve(tao));
    ck_assert(same_bits(ck.x, xa));
    ck_assert(!TaoDestroy(&tao));
    ck_assert(!VecDestroy(&ck.x));
    ck_assert(!VecDestroy(&ck.m));
    ck_assert(!VecDestroy(&ck.v));
  }

  ck_assert(!VecDestroy(&xa));
  ck_assert(!VecDestroy(&xc));
  ck_assert(!VecDestroy(&ma));
  ck_assert(!VecDestroy(&va));
  ck_assert(!VecDestroy(&xsave));
  ck_assert(!VecDestroy(&msave));
  ck_assert(!VecDestroy(&vsave));
}
END_TEST

/* (e) Inf/NaN in f or g ends the solve with TAO_DIVERGED_NAN, without an error */
START_TEST(test_nan)
{
  const PetscReal x0[P] = {0.3, -1.2, 2.0}, zero[P] = {0, 0, 0}, big[P] = {10, 10, 10};
  struct {
    PetscInt after;
    int      kind;
    PetscInt its;
  } cases[] = {
      {0, 0, 0}, {3, 0, 3}, {2, 1, 2}, {1, 2, 1}, {0, 3, 0},
  };

  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
    Quad               q = quad_default;
    Vec                x = make_vec(x0);
    Tao                tao;
    TaoConvergedReason reason;
    PetscInt           its;

    q.bad_after = cases[c].after;
    q.bad_kind  = cases[c].kind;
    tao         = make_tao(x, &q);
    ck_assert(!TaoSolve(tao));
    ck_assert(!TaoGetConvergedReason(tao, &reason));
    ck_assert(!TaoGetIterationNumber(tao, &its));
    ck_assert_int_eq(reason, TAO_DIVERGED_NAN);
    ck_assert_int_eq(its, cases[c].its);
    ck_assert(!TaoDestroy(&tao));
    ck_assert(!VecDestroy(&x));
  }

  /* an infinite gradient pushing against an active bound is still reported */
  {
    Quad               q = quad_default;
    Vec                x = make_vec(zero), xl = make_vec(zero), xu = make_vec(big);
    Tao                tao;
    TaoConvergedReason reason;
    PetscInt           its;

    q.bad_after = 0;
    q.bad_kind  = 3; /* g_0 = +Inf at x_0 = XL_0 = 0 */
    tao         = make_tao(x, &q);
    ck_assert(!TaoSetVariableBounds(tao, xl, xu));
    ck_assert(!TaoSolve(tao));
    ck_assert(!TaoGetConvergedReason(tao, &reason));
    ck_assert(!TaoGetIterationNumber(tao, &its));
    ck_assert_int_eq(reason, TAO_DIVERGED_NAN);
    ck_assert_int_eq(its, 0); /* caught before any step, not one NaN step later */
    ck_assert(!TaoDestroy(&tao));
    ck_assert(!VecDestroy(&x));
    ck_assert(!VecDestroy(&xl));
    ck_assert(!VecDestroy(&xu));
  }
}
END_TEST

/* TaoView into a string (rank 0 holds the text) */
static char *view_to_string(Tao tao)
{
  char       *buf = NULL;
  size_t      len = 0;
  FILE       *fp  = open_memstream(&buf, &len);
  PetscViewer viewer;

  ck_assert(fp != NULL);
  ck_assert(!PetscViewerASCIIOpenWithFILE(PETSC_COMM_WORLD, fp, &viewer));
  ck_assert(!TaoView(tao, viewer));
  ck_assert(!PetscViewerDestroy(&viewer));
  ck_assert(!fclose(fp));
  return buf;
}

/* (f) options are parsed (values checked through two exact steps and TaoView); bad ones fail */
START_TEST(test_options)
{
  const PetscReal x0[P] = {0.3, -1.2, 2.0};
  const PetscReal lr = 0.01, b1 = 0.5, b2 = 0.75, eps = 1e-3;
  const char     *bad[][2] = {
          {"-tao_adam_beta1", "1"}, {"-tao_adam_beta1", "-0.1"}, {"-tao_adam_beta2", "1.5"}, {"-tao_adam_learning_rate", "0"}, {"-tao_adam_epsilon", "0"},
  };
  Quad      q   = quad_default;
  Vec       x   = make_vec(x0);
  Tao       tao = make_tao(x, &q);
  Recorder  rec = {0};
  PetscReal xe[P], m[P] = {0}, v[P] = {0};
  char     *text;
  int       ok = 1;

  ck_assert(!PetscOptionsSetValue(NULL, "-tao_adam_learning_rate", "0.01"));
  ck_assert(!PetscOptionsSetValue(NULL, "-tao_adam_beta1", "0.5"));
  ck_assert(!PetscOptionsSetValue(NULL, "-tao_adam_beta2", "0.75"));
  ck_assert(!PetscOptionsSetValue(NULL, "-tao_adam_epsilon", "1e-3"));
  ck_assert(!TaoSetFromOptions(tao));
  ck_assert(!PetscOptionsClearValue(NULL, "-tao_adam_learning_rate"));
  ck_assert(!PetscOptionsClearValue(NULL, "-tao_adam_beta1"));
  ck_assert(!PetscOptionsClearValue(NULL, "-tao_adam_beta2"));
  ck_assert(!PetscOptionsClearValue(NULL, "-tao_adam_epsilon"));
  ck_assert(!TaoSetMaximumIterations(tao, 2));
  ck_assert(!TaoSetMonitor(tao, RecordIterate, &rec, NULL));
  ck_assert(!TaoSolve(tao));
  ck_assert_int_eq(rec.n, 3);
  if (rank_world() == 0) {
    for (PetscInt i = 0; i < P; i++)
      xe[i] = x0[i];
    for (PetscInt t = 1; t <= 2; t++) {
      for (PetscInt i = 0; i < P; i++) {
        const PetscReal g = 2.0 * q.c[i] * (xe[i] - q.a[i]);

        m[i]  = b1 * m[i] + (1.0 - b1) * g;
        v[i]  = b2 * v[i] + (1.0 - b2) * g * g;
        xe[i] = xe[i] - lr * (m[i] / (1.0 - pow(b1, (double)t))) / (sqrt(v[i] / (1.0 - pow(b2, (double)t))) + eps);
        ok    = ok && close_ulps(rec.x[t][i], xe[i]);
      }
    }
  }
  ck_assert(all_ok(ok));

  text = view_to_string(tao);
  if (rank_world() == 0) {
    ok = strstr(text, "learning rate 0.01, beta1 0.5, beta2 0.75, epsilon 0.001") && strstr(text, "Adam steps taken: 2");
    if (!ok) fprintf(stderr, "TaoView gave:\n%s", text);
  }
  free(text);
  ck_assert(all_ok(ok));

  /* each bad value is an error of TaoSetFromOptions(), and the valid values stay */
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
    PetscErrorCode ierr;

    ck_assert(!PetscOptionsSetValue(NULL, bad[k][0], bad[k][1]));
    ierr = TaoSetFromOptions(tao);
    ck_assert(!PetscOptionsClearValue(NULL, bad[k][0]));
    ck_assert_int_eq(ierr, PETSC_ERR_ARG_OUTOFRANGE);
  }
  ck_assert(!PetscPopErrorHandler());
  text = view_to_string(tao);
  ok   = rank_world() != 0 || strstr(text, "learning rate 0.01, beta1 0.5, beta2 0.75, epsilon 0.001");
  free(text);
  ck_assert(all_ok(ok));
  ck_assert(!TaoDestroy(&tao));
  ck_assert(!VecDestroy(&x));
}
END_TEST

/* defaults of TAOADAM, and those it leaves alone when the user has set them */
START_TEST(test_defaults)
{
  const PetscReal x0[P] = {0.3, -1.2, 2.0};
  Quad            q     = quad_default;
  Vec             x     = make_vec(x0);
  Tao             tao;
  PetscInt        maxit, its;
  PetscReal       gatol, grtol, gttol;

  tao = make_tao(x, &q);
  ck_assert(!TaoGetMaximumIterations(tao, &maxit));
  ck_assert(!TaoGetTolerances(tao, &gatol, &grtol, &gttol));
  ck_assert_int_eq(maxit, 100);
  ck_assert(gatol == 0.0 && grtol == 0.0);
  ck_assert(!TaoSolve(tao));
  ck_assert(!TaoGetIterationNumber(tao, &its));
  ck_assert_int_eq(its, 100);
  ck_assert(!TaoDestroy(&tao));

  ck_assert(!TaoCreate(PETSC_COMM_WORLD, &tao));
  ck_assert(!TaoSetMaximumIterations(tao, 7));
  ck_assert(!TaoSetTolerances(tao, 1e-3, PETSC_DEFAULT, PETSC_DEFAULT));
  ck_assert(!TaoSetType(tao, TAOADAM));
  ck_assert(!TaoGetMaximumIterations(tao, &maxit));
  ck_assert(!TaoGetTolerances(tao, &gatol, &grtol, &gttol));
  ck_assert_int_eq(maxit, 7);
  ck_assert(gatol == 1e-3 && grtol == 0.0);
  ck_assert(!TaoDestroy(&tao));
  ck_assert(!VecDestroy(&x));
}
END_TEST

/* registration twice is harmless; -tao_type adam works; state calls check type and order */
START_TEST(test_register_and_state_errors)
{
  const PetscReal x0[P] = {0.3, -1.2, 2.0};
  Quad            q     = quad_default;
  Vec             x     = make_vec(x0), w;
  Tao             tao;
  PetscBool       isadam;
  PetscInt        step;

  ck_assert(!TaoRegister(TAOADAM, TaoCreate_ADAM));
  ck_assert(!TaoRegister(TAOADAM, TaoCreate_ADAM));
  ck_assert(!TaoCreate(PETSC_COMM_WORLD, &tao));
  ck_assert(!PetscOptionsSetValue(NULL, "-tao_type", "adam"));
  ck_assert(!TaoSetFromOptions(tao));
  ck_assert(!PetscOptionsClearValue(NULL, "-tao_type"));
  ck_assert(!PetscObjectTypeCompare((PetscObject)tao, TAOADAM, &isadam));
  ck_assert(isadam);
  ck_assert(!TaoSetSolution(tao, x));
  ck_assert(!TaoSetObjectiveAndGradient(tao, NULL, FormFunctionGradient, &q));

  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ck_assert_int_eq(TaoAdamSetState(tao, NULL, NULL, 0), PETSC_ERR_ARG_WRONGSTATE); /* before TaoSetUp() */
  ck_assert(!PetscPopErrorHandler());
  ck_assert(!TaoAdamGetState(tao, NULL, NULL, &step)); /* the step count needs no set-up */
  ck_assert_int_eq(step, 0);
  ck_assert(!TaoSetUp(tao));
  ck_assert(!VecDuplicate(x, &w));
  ck_assert(!VecSet(w, -1.0));
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ck_assert_int_eq(TaoAdamSetState(tao, NULL, NULL, -1), PETSC_ERR_ARG_OUTOFRANGE);
  ck_assert_int_eq(TaoAdamSetState(tao, NULL, w, 3), PETSC_ERR_ARG_OUTOFRANGE); /* v < 0 */
  ck_assert(!PetscPopErrorHandler());
  ck_assert(!TaoSetType(tao, TAOLMVM));
  ck_assert(!PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ck_assert_int_eq(TaoAdamGetState(tao, NULL, NULL, &step), PETSC_ERR_ARG_WRONG);
  ck_assert_int_eq(TaoAdamSetState(tao, NULL, NULL, 0), PETSC_ERR_ARG_WRONG);
  ck_assert(!PetscPopErrorHandler());
  ck_assert(!TaoDestroy(&tao));
  ck_assert(!VecDestroy(&w));
  ck_assert(!VecDestroy(&x));
}
END_TEST

int main(int argc, char **argv)
{
  Suite   *s  = suite_create("adam");
  TCase   *tc = tcase_create("adam");
  SRunner *sr;
  int      failed;

  if (PetscInitialize(&argc, &argv, NULL, NULL)) return EXIT_FAILURE;
  if (TaoRegister(TAOADAM, TaoCreate_ADAM)) return EXIT_FAILURE;
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_quadratic);
  tcase_add_test(tc, test_first_steps);
  tcase_add_test(tc, test_bounds);
  tcase_add_test(tc, test_restart);
  tcase_add_test(tc, test_nan);
  tcase_add_test(tc, test_options);
  tcase_add_test(tc, test_defaults);
  tcase_add_test(tc, test_register_and_state_errors);
  suite_add_tcase(s, tc);
  sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK); /* MPI must not be used across fork() */
  srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY: the suite sets normal, so the Checks line shows */
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  if (PetscFinalize()) return EXIT_FAILURE;
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
