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
  if (n < c) return 0.0;
  double b = (double)n;
  for (PetscInt i = 1; i < c; i++) b = b * (double)(n - i) / (double)(i + 1);
  return b;
}

/* g_i: the product of reaction i's non-hub reactant binomials. */
static inline double NonHub(const StgssaNetwork *net, StgssaScoreLazy sl, PetscInt i, const int64_t *x)
{
  if (sl->o1[i] >= 0) return (double)x[sl->o1[i]];
  if (sl->o1[i] == -2) return 1.0;
  const PetscInt h = sl->ghub[sl->grp[i]];
  double         g = 1.0;
  for (PetscInt t = net->react_ptr[i]; t < net->react_ptr[i + 1]; t++)
    if (net->react_species[t] != h) g *= Binom(x[net->react_species[t]], net->react_coef[t]);
  return g;
}

/* W_G = sum of its members' g in member order; exact when every term and the sum are below the threshold. */
static inline void Resum(StgssaScoreLazy sl, PetscInt G)
{
  double    W  = 0.0;
  PetscBool ex = sl->safe[G];
  for (PetscInt m = sl->mem_ptr[G]; m < sl->mem_ptr[G + 1]; m++) {
    const double g = sl->g[sl->mem[m]];
    W += g;
    ex = ex && g < STGSSA_SCORE_EXACT;
  }
  sl->W[G]     = W;
  sl->exact[G] = ex && W < STGSSA_SCORE_EXACT;
}

static inline double Value(StgssaScoreLazy sl, PetscInt G, const int64_t *x)
{
  const PetscInt h = sl->ghub[G];
  return h < 0 ? sl->gk[G] * sl->W[G] : sl->gk[G] * Binom(x[h], sl->gcoef[G]) * sl->W[G];
}

/* V_G changes at time t: close its integral up to t (the old value held since tlast). */
static inline void SetValue(StgssaScoreLazy sl, PetscInt G, double v, double t, double *integ, double *tlast)
{
  if (v == sl->V[G]) return;
  integ[G] += sl->V[G] * (t - tlast[G]);
  tlast[G]  = t;
  sl->V[G]  = v;
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
  PetscCall(PetscFree5(sl->rp, sl->k, sl->grp, sl->o1, sl->g));
  PetscCall(PetscFree4(sl->nh_ptr, sl->nh, sl->hub_ptr, sl->hub));
  PetscCall(PetscFree5(sl->mem_ptr, sl->mem, sl->ghub, sl->gcoef, sl->gp));
  PetscCall(PetscFree5(sl->exact, sl->safe, sl->gk, sl->W, sl->V));
  PetscCall(PetscFree(*slp));
  PetscFunctionReturn(0);
}

PetscErrorCode StgssaScoreLazySetUp(const StgssaNetwork *net, const PetscInt *rd_ptr, PetscInt P, const PetscInt *rp, StgssaScoreLazy *slp)
{
  const PetscInt  R = net->R, S = net->S;
  StgssaScoreLazy sl = *slp;
  Key            *key;
  PetscInt        nf = 0, ng = 0, *hubof;

  PetscFunctionBegin;
  if (sl && sl->P == P) { /* the same fit and rate constants: keep the groups */
    PetscBool same = PETSC_TRUE;
    for (PetscInt i = 0; i < R && same; i++) same = sl->rp[i] == rp[i] && (rp[i] < 0 || memcmp(&sl->k[i], &net->k[i], sizeof(double)) == 0);
    if (same) PetscFunctionReturn(0);
  }
  PetscCall(StgssaScoreLazyDestroy(slp));
  PetscCall(PetscNew(&sl));
  sl->R = R, sl->S = S, sl->P = P;
  PetscCall(PetscMalloc5(R, &sl->rp, R, &sl->k, R, &sl->grp, R, &sl->o1, R, &sl->g));
  PetscCall(PetscMalloc2(R, &key, R, &hubof));
  for (PetscInt i = 0; i < R; i++) {
    PetscInt h = -1, hc = 0, nread = -1;
    sl->rp[i] = rp[i], sl->k[i] = net->k[i], sl->grp[i] = -1, sl->o1[i] = -2;
    hubof[i] = -1;
    if (rp[i] < 0) continue;
    PetscCheck(rp[i] < P, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE, "Reaction %" PetscInt_FMT ": fitted parameter %" PetscInt_FMT " not below P = %" PetscInt_FMT, i, rp[i], P);
    for (PetscInt t = net->react_ptr[i]; t < net->react_ptr[i + 1]; t++) { /* hub: the reactant read by the most reactions (first on ties) */
      const PetscInt s = net->react_species[t];
      if (rd_ptr[s + 1] - rd_ptr[s] > nread) h = s, hc = net->react_coef[t], nread = rd_ptr[s + 1] - rd_ptr[s];
    }
    hubof[i] = h;
    key[nf].p = rp[i], key[nf].hub = h, key[nf].coef = hc, key[nf].i = i;
    memcpy(&key[nf].kbits, &net->k[i], sizeof(double));
    nf++;
  }
  qsort(key, (size_t)nf, sizeof(Key), KeyCompare);
  for (PetscInt f = 0; f < nf; f++) ng += f == 0 || !SameGroup(&key[f - 1], &key[f]);
  sl->ng = ng;
  PetscCall(PetscMalloc5(ng + 1, &sl->mem_ptr, nf, &sl->mem, ng, &sl->ghub, ng, &sl->gcoef, ng, &sl->gp));
  PetscCall(PetscMalloc5(ng, &sl->exact, ng, &sl->safe, ng, &sl->gk, ng, &sl->W, ng, &sl->V));
  ng = 0;
  for (PetscInt f = 0; f < nf; f++) {
    const PetscInt i = key[f].i;
    if (f == 0 || !SameGroup(&key[f - 1], &key[f])) {
      sl->mem_ptr[ng] = f;
      sl->ghub[ng] = key[f].hub, sl->gcoef[ng] = key[f].coef, sl->gp[ng] = key[f].p, sl->gk[ng] = net->k[i], sl->safe[ng] = PETSC_TRUE;
      ng++;
    }
    sl->mem[f]  = i;
    sl->grp[i]  = ng - 1;
    PetscInt no = 0, o = -1;
    for (PetscInt t = net->react_ptr[i]; t < net->react_ptr[i + 1]; t++) {
      if (net->react_coef[t] > 8) sl->safe[ng - 1] = PETSC_FALSE;
      if (net->react_species[t] == hubof[i]) continue;
      no++;
      o = net->react_coef[t] == 1 ? net->react_species[t] : -1;
    }
    sl->o1[i] = no == 0 ? -2 : (no == 1 ? o : -1);
  }
  sl->mem_ptr[ng] = nf;
  /* species -> fitted reactions reading it as a non-hub reactant, and -> groups with it as hub */
  PetscInt nnh = 0, nhub = 0;
  for (PetscInt i = 0; i < R; i++)
    if (sl->grp[i] >= 0) nnh += net->react_ptr[i + 1] - net->react_ptr[i] - (hubof[i] >= 0);
  for (PetscInt G = 0; G < ng; G++) nhub += sl->ghub[G] >= 0;
  PetscCall(PetscMalloc4(S + 1, &sl->nh_ptr, nnh + 1, &sl->nh, S + 1, &sl->hub_ptr, nhub + 1, &sl->hub));
  for (PetscInt s = 0; s <= S; s++) sl->nh_ptr[s] = sl->hub_ptr[s] = 0;
  for (PetscInt i = 0; i < R; i++)
    if (sl->grp[i] >= 0)
      for (PetscInt t = net->react_ptr[i]; t < net->react_ptr[i + 1]; t++)
        if (net->react_species[t] != hubof[i]) sl->nh_ptr[net->react_species[t] + 1]++;
  for (PetscInt G = 0; G < ng; G++)
    if (sl->ghub[G] >= 0) sl->hub_ptr[sl->ghub[G] + 1]++;
  for (PetscInt s = 0; s < S; s++) sl->nh_ptr[s + 1] += sl->nh_ptr[s], sl->hub_ptr[s + 1] += sl->hub_ptr[s];
  for (PetscInt i = 0; i < R; i++)
    if (sl->grp[i] >= 0)
      for (PetscInt t = net->react_ptr[i]; t < net->react_ptr[i + 1]; t++)
        if (net->react_species[t] != hubof[i]) sl->nh[sl->nh_ptr[net->react_species[t]]++] = i;
  for (PetscInt G = 0; G < ng; G++)
    if (sl->ghub[G] >= 0) sl->hub[sl->hub_ptr[sl->ghub[G]]++] = G;
  for (PetscInt s = S; s > 0; s--) sl->nh_ptr[s] = sl->nh_ptr[s - 1], sl->hub_ptr[s] = sl->hub_ptr[s - 1];
  sl->nh_ptr[0] = sl->hub_ptr[0] = 0;
  PetscCall(PetscFree2(key, hubof));
  *slp = sl;
  PetscFunctionReturn(0);
}

void StgssaScoreLazyStart(StgssaScoreLazy sl, const StgssaNetwork *net, const int64_t *x, double t0, double *integ, double *tlast)
{
  for (PetscInt i = 0; i < sl->R; i++)
    if (sl->grp[i] >= 0) sl->g[i] = NonHub(net, sl, i, x);
  for (PetscInt G = 0; G < sl->ng; G++) {
    Resum(sl, G);
    sl->V[G] = Value(sl, G, x);
    integ[G] = 0.0;
    tlast[G] = t0;
  }
}

void StgssaScoreLazyEvent(StgssaScoreLazy sl, const StgssaNetwork *net, PetscInt j, const int64_t *x, double t, double *integ, double *tlast)
{
  const PetscInt *restrict nh_ptr = sl->nh_ptr, *restrict nh = sl->nh, *restrict grp = sl->grp;
  double *restrict         g = sl->g, *restrict W = sl->W;

  for (PetscInt u = net->nu_ptr[j]; u < net->nu_ptr[j + 1]; u++) {
    const PetscInt s = net->nu_species[u];
    for (PetscInt e = nh_ptr[s]; e < nh_ptr[s + 1]; e++) { /* g_i of the reactions reading s beside their hub */
      const PetscInt i  = nh[e], G = grp[i];
      const double   gn = NonHub(net, sl, i, x), go = g[i];
      if (gn == go) continue;
      g[i] = gn;
      if (PetscLikely(sl->exact[G] && gn < STGSSA_SCORE_EXACT && W[G] + gn < STGSSA_SCORE_EXACT)) W[G] = W[G] - go + gn; /* integers below 2^49: exact */
      else Resum(sl, G);
      SetValue(sl, G, Value(sl, G, x), t, integ, tlast);
    }
    for (PetscInt e = sl->hub_ptr[s]; e < sl->hub_ptr[s + 1]; e++) { /* the groups with hub s */
      const PetscInt G = sl->hub[e];
      SetValue(sl, G, Value(sl, G, x), t, integ, tlast);
    }
  }
}

void StgssaScoreLazyAt(StgssaScoreLazy sl, const double *N, const double *integ, const double *tlast, double s, double *out)
{
  for (PetscInt p = 0; p < sl->P; p++) out[p] = 0.0;
  for (PetscInt G = 0; G < sl->ng; G++) out[sl->gp[G]] += integ[G] + sl->V[G] * (s - tlast[G]);
  for (PetscInt p = 0; p < sl->P; p++) out[p] = N[p] - out[p];
}
