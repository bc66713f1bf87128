/* SPDX-License-Identifier: BSD-2-Clause */
/*
  The score's integrals on the rejection method (StgssaSSARunRSSAScore), grouped.

  The score of a mass-action path needs, per fitted parameter p, I_p(s) = int_{t0}^{s} A_p dt with
  A_p = sum_{i: param(i) = p} a_i. Recomputing every dependent's a_i after each event costs
  O(dependents): on rule-derived networks the free ligand and adaptors are read by hundreds of
  reactions, so that is about 100 propensities per event. But a_i = k_i prod_s C(x_s, c_is), and
  the reactions of a rule share their rate constant and one abundant reactant. Each fitted reaction
  names a hub h_i (its reactant read by the most reactions); the group of (p, k, h, c_h) has
    V_G = k C(x_h, c_h) W_G,   W_G = sum_{i in G} g_i,   g_i = prod_{s != h_i} C(x_s, c_is),
  and A_p = sum_{G of p} V_G. When species s changes, only the g_i of reactions with s as a
  non-hub reactant change (W_G += g_i^new - g_i^old: a receptor state is read by a few reactions)
  and the V_G of the groups with hub s (one per rule: the ligand's change is one group's update,
  however many receptor states it binds). Each group's integral is brought up to date lazily when
  V_G changes: integ_G += V_G^old (t - tlast_G); at a sample time s,
    I_p(s) = sum_{G of p} integ_G + V_G (s - tlast_G).
  W_G is kept exact: the g_i are integers (binomials of counts), and while every g_i and W_G is
  below 2^49 (STGSSA_SCORE_EXACT) the increments are exact in double; otherwise W_G is re-summed
  over its members in a fixed order. So W_G, V_G are functions of the state alone (no drift over
  millions of events, the same numbers on any rank count), and I_p differs from the per-reaction
  sums (StgssaSSARunRSSAScorePerReaction) by rounding only: the same products, grouped.
*/
#include "score_lazy.h"
#include <string.h>

/* C(n, c) as StgssaPropensity forms it. */
static inline double Binom(int64_t n, PetscInt c)
{
  if (c == 1) return (double)n;
  if (n < c) return 0.0;
  double b = (double)n;
  for (PetscInt i = 1; i < c; i++) b = b * (double)(n - i) / (double)(i + 1);
  return b;
}

/* g_i of a reaction with a general non-hub product: its reactant binomials but the hub's. */
static double NonHubProduct(const StgssaNetwork *net, PetscInt h, PetscInt i, const int64_t *x)
{
  double g = 1.0;
  for (PetscInt t = net->react_ptr[i]; t < net->react_ptr[i + 1]; t++)
    if (net->react_species[t] != h) g *= Binom(x[net->react_species[t]], net->react_coef[t]);
  return g;
}

/* W = sum of the group's members' g in member order; exact when every term and the sum are below the threshold. */
static void Resum(StgssaScoreLazy sl, StgssaScoreGroup *gr, PetscInt G)
{
  double    W  = 0.0;
  PetscBool ex = gr->safe;
  for (PetscInt m = sl->mem_ptr[G]; m < sl->mem_ptr[G + 1]; m++) {
    const double g = sl->g[sl->mem[m]];
    W += g;
    ex = ex && g < STGSSA_SCORE_EXACT;
  }
  gr->W     = W;
  gr->exact = ex && W < STGSSA_SCORE_EXACT;
}

static inline double Value(const StgssaScoreGroup *gr, const int64_t *x)
{
  return gr->hub < 0 ? gr->k * gr->W : gr->k * Binom(x[gr->hub], gr->coef) * gr->W;
}

/* V changes at time t: close the integral up to t (the old value held since tlast). */
static inline void SetValue(StgssaScoreGroup *gr, double v, double t)
{
  if (v == gr->V) return;
  gr->integ += gr->V * (t - gr->tlast);
  gr->tlast = t;
  gr->V     = v;
}

typedef struct {
  PetscInt p, hub, coef, i;
  uint64_t kbits; /* the rate constant's bits: a total order, equal exactly when equal */
} Key;

static inline PetscBool SameGroup(const Key *a, const Key *b) { return a->p == b->p && a->kbits == b->kbits && a->hub == b->hub && a->coef == b->coef; }

static int KeyCompare(const void *a_, const void *b_)
{
  const Key *a = (const Key *)a_, *b = (const Key *)b_;
  if (a->p != b->p) return a->p < b->p ? -1 : 1;
  if (a->kbits != b->kbits) return a->kbits < b->kbits ? -1 : 1;
  if (a->hub != b->hub) return a->hub < b->hub ? -1 : 1;
  if (a->coef != b->coef) return a->coef < b->coef ? -1 : 1;
  return a->i < b->i ? -1 : (a->i > b->i);
}

PetscErrorCode StgssaScoreLazyDestroy(StgssaScoreLazy *slp)
{
  StgssaScoreLazy sl = *slp;

  PetscFunctionBegin;
  if (!sl) PetscFunctionReturn(0);
  PetscCall(PetscFree4(sl->rp, sl->k, sl->grp, sl->g));
  PetscCall(PetscFree4(sl->nh_ptr, sl->nh, sl->hub_ptr, sl->hub));
  PetscCall(PetscFree3(sl->mem_ptr, sl->mem, sl->grps));
  PetscCall(PetscFree(*slp));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaScoreLazySetUp(const StgssaNetwork *net, const PetscInt *rd_ptr, PetscInt P, const PetscInt *rp, StgssaScoreLazy *slp)
{
  const PetscInt  R = net->R, S = net->S;
  StgssaScoreLazy sl = *slp;
  Key            *key;
  PetscInt        nf = 0, ng = 0, nnh = 0, nhub = 0, *hubof;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < R; i++) PetscCheck(rp[i] < P, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Reaction %" PetscInt_FMT ": fitted parameter %" PetscInt_FMT " not below P = %" PetscInt_FMT, i, rp[i], P);
  if (sl && sl->P == P && sl->R == R && sl->S == S) { /* the same fit and rate constants: keep the groups */
    PetscBool same = PETSC_TRUE;
    for (PetscInt i = 0; i < R && same; i++) same = sl->rp[i] == rp[i] && (rp[i] < 0 || memcmp(&sl->k[i], &net->k[i], sizeof(double)) == 0);
    if (same) PetscFunctionReturn(0);
  }
  PetscCall(StgssaScoreLazyDestroy(slp));
  PetscCall(PetscNew(&sl));
  *slp  = sl; /* freed by StgssaScoreLazyDestroy whatever was allocated */
  sl->R = R, sl->S = S, sl->P = P;
  PetscCall(PetscMalloc4(R, &sl->rp, R, &sl->k, R, &sl->grp, R, &sl->g));
  PetscCall(PetscMalloc2(R, &key, R, &hubof));
  for (PetscInt i = 0; i < R; i++) {
    PetscInt h = -1, hc = 0, nread = -1;
    sl->rp[i] = rp[i], sl->k[i] = net->k[i], sl->grp[i] = -1;
    hubof[i] = -1;
    if (rp[i] < 0) continue;
    for (PetscInt t = net->react_ptr[i]; t < net->react_ptr[i + 1]; t++) { /* hub: the reactant read by the most reactions (first on ties) */
      const PetscInt s = net->react_species[t];
      if (rd_ptr[s + 1] - rd_ptr[s] > nread) h = s, hc = net->react_coef[t], nread = rd_ptr[s + 1] - rd_ptr[s];
    }
    hubof[i] = h;
    key[nf].p = rp[i], key[nf].hub = h, key[nf].coef = hc, key[nf].i = i;
    memcpy(&key[nf].kbits, &net->k[i], sizeof(double));
    nf++;
    nnh += net->react_ptr[i + 1] - net->react_ptr[i] - (h >= 0);
  }
  qsort(key, (size_t)nf, sizeof(Key), KeyCompare);
  for (PetscInt f = 0; f < nf; f++) ng += f == 0 || !SameGroup(&key[f - 1], &key[f]);
  sl->ng = ng;
  PetscCall(PetscMalloc3(ng + 1, &sl->mem_ptr, nf, &sl->mem, ng, &sl->grps));
  ng = 0;
  for (PetscInt f = 0; f < nf; f++) {
    const PetscInt i = key[f].i;
    if (f == 0 || !SameGroup(&key[f - 1], &key[f])) {
      StgssaScoreGroup *gr = &sl->grps[ng];
      sl->mem_ptr[ng] = f;
      gr->hub = key[f].hub, gr->coef = key[f].coef, gr->p = key[f].p, gr->k = net->k[i], gr->safe = PETSC_TRUE;
      nhub += gr->hub >= 0;
      ng++;
    }
    sl->mem[f] = i;
    sl->grp[i] = ng - 1;
    for (PetscInt t = net->react_ptr[i]; t < net->react_ptr[i + 1]; t++)
      if (net->react_coef[t] > 8) sl->grps[ng - 1].safe = PETSC_FALSE;
  }
  sl->mem_ptr[ng] = nf;
  /* species -> fitted reactions reading it as a non-hub reactant, and -> groups with it as hub */
  PetscCall(PetscMalloc4(S + 1, &sl->nh_ptr, nnh + 1, &sl->nh, S + 1, &sl->hub_ptr, nhub + 1, &sl->hub));
  for (PetscInt s = 0; s <= S; s++) sl->nh_ptr[s] = sl->hub_ptr[s] = 0;
  for (PetscInt i = 0; i < R; i++)
    if (sl->grp[i] >= 0)
      for (PetscInt t = net->react_ptr[i]; t < net->react_ptr[i + 1]; t++)
        if (net->react_species[t] != hubof[i]) sl->nh_ptr[net->react_species[t] + 1]++;
  for (PetscInt G = 0; G < ng; G++)
    if (sl->grps[G].hub >= 0) sl->hub_ptr[sl->grps[G].hub + 1]++;
  for (PetscInt s = 0; s < S; s++) sl->nh_ptr[s + 1] += sl->nh_ptr[s], sl->hub_ptr[s + 1] += sl->hub_ptr[s];
  for (PetscInt i = 0; i < R; i++) {
    PetscInt no = 0, o = -1;
    if (sl->grp[i] < 0) continue;
    for (PetscInt t = net->react_ptr[i]; t < net->react_ptr[i + 1]; t++)
      if (net->react_species[t] != hubof[i]) no++, o = net->react_coef[t] == 1 ? net->react_species[t] : -1;
    for (PetscInt t = net->react_ptr[i]; t < net->react_ptr[i + 1]; t++)
      if (net->react_species[t] != hubof[i]) sl->nh[sl->nh_ptr[net->react_species[t]]++] = (StgssaScoreReader){i, sl->grp[i], no == 1 ? o : -1};
  }
  for (PetscInt G = 0; G < ng; G++)
    if (sl->grps[G].hub >= 0) sl->hub[sl->hub_ptr[sl->grps[G].hub]++] = G;
  for (PetscInt s = S; s > 0; s--) sl->nh_ptr[s] = sl->nh_ptr[s - 1], sl->hub_ptr[s] = sl->hub_ptr[s - 1];
  sl->nh_ptr[0] = sl->hub_ptr[0] = 0;
  PetscCall(PetscFree2(key, hubof));
  PetscFunctionReturn(0);
}

void StgssaScoreLazyStart(StgssaScoreLazy sl, const StgssaNetwork *net, const int64_t *x, double t0)
{
  for (PetscInt i = 0; i < sl->R; i++)
    if (sl->grp[i] >= 0) sl->g[i] = NonHubProduct(net, sl->grps[sl->grp[i]].hub, i, x);
  for (PetscInt G = 0; G < sl->ng; G++) {
    StgssaScoreGroup *gr = &sl->grps[G];
    Resum(sl, gr, G);
    gr->V     = Value(gr, x);
    gr->integ = 0.0;
    gr->tlast = t0;
  }
}

void StgssaScoreLazyEvent(StgssaScoreLazy sl, const StgssaNetwork *net, PetscInt j, const int64_t *x, double t)
{
  const StgssaScoreReader *restrict nh = sl->nh;
  StgssaScoreGroup *restrict        grps = sl->grps;
  double *restrict                  g    = sl->g;

  for (PetscInt u = net->nu_ptr[j]; u < net->nu_ptr[j + 1]; u++) {
    const PetscInt s = net->nu_species[u];
    for (PetscInt e = sl->nh_ptr[s]; e < sl->nh_ptr[s + 1]; e++) { /* g_i of the reactions reading s beside their hub */
      const StgssaScoreReader r  = nh[e];
      StgssaScoreGroup       *gr = &grps[r.G];
      const double            gn = r.o >= 0 ? (double)x[r.o] : NonHubProduct(net, gr->hub, r.i, x), go = g[r.i];
      if (gn == go) continue;
      g[r.i] = gn;
      if (PetscLikely(gr->exact && gn < STGSSA_SCORE_EXACT && gr->W + gn < STGSSA_SCORE_EXACT)) gr->W = gr->W - go + gn; /* integers below 2^49: exact */
      else Resum(sl, gr, r.G);
      SetValue(gr, Value(gr, x), t);
    }
    for (PetscInt e = sl->hub_ptr[s]; e < sl->hub_ptr[s + 1]; e++) { /* the groups with hub s */
      StgssaScoreGroup *gr = &grps[sl->hub[e]];
      SetValue(gr, Value(gr, x), t);
    }
  }
}

void StgssaScoreLazyAt(StgssaScoreLazy sl, const double *N, double s, double *out)
{
  if (out != N) /* out may be N */
    for (PetscInt p = 0; p < sl->P; p++) out[p] = N[p];
  for (PetscInt G = 0; G < sl->ng; G++) {
    const StgssaScoreGroup *gr = &sl->grps[G];
    out[gr->p] -= gr->integ + gr->V * (s - gr->tlast);
  }
}
