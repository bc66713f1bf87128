#!/usr/bin/env python3
"""Large exclusion-ring design (every forward rate fitted): rates, history and J / J*.

    exclusion_design.py OUT.h5 [--png FIG] [--evaluate BIN] [--launcher "mpirun -n 2"] [--eval-ntraj 500]
                        [--eval-seeds 8] [--eval-tfinal 200] [--eval-count-from 20] [--exact]

OUT.h5 is the output of an optimize run with input/studies/exclusion_ring.py's options (design
loss -<J> + W (<A> - B)_+^2 on an ASEP ring of L sites, N particles, fixed backward rate q).
The exact bound for any rates is J* = (B - 2q)/L (A = L J + 2 q W_walls, W_walls >= 1).

Prints L, P, N, B, J*, the homogeneous ring J_hom(B) = B/L - 2 q N(L-N)/(L(L-1)), the slow bond
and the fast rates of the result. With --evaluate BIN it measures the stationary current J and
activity A at the optimized rates (/result/parameters) with BIN itself: K = --eval-seeds
independent gradient-mode runs (seeds 1001.., -stgssa_fit q: one score column, cheap) of
--eval-ntraj trajectories each over [--eval-count-from, --eval-tfinal] (the burn-in lets the
queue settle). Each seed runs twice on the same trajectories: the design loss without budget
gives -J; with -stgssa_budget_activity 0 -stgssa_penalty 1 it gives -J + A^2. J, A are the
means over the seeds, their standard errors sd/sqrt(K). With --exact (small rings: at most
2e5 configurations) the stationary master equation is also solved exactly (scipy sparse).

The figure: (a) optimized forward rates p_i against the bond i (log scale; start dashed, the
slow bond marked), (b) per iteration -loss (= the SSA estimate of J when <A> <= B) with J*,
J_hom(B) and the evaluated J +- 2 SE, (c) per iteration the activity over [0, T] from
/history/events (all jumps per trajectory per unit time, the burn-in included) and B.
"""
import argparse
import math
import os
import shlex
import subprocess
import sys
import tempfile

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exclusion_pareto import parse_model, parse_options, run_info, text  # noqa: E402


def load(path):
    f = h5py.File(path, "r")
    run = run_info(f["run"])
    opts = parse_options(text(run["options"]))
    model = text(run["model_text"])
    params, species, reactions = parse_model(model)
    fit = [text(n) for n in f["history"].attrs["fit_names"]]
    names = [text(n) for n in f["result/parameters"].attrs["names"]]
    res = dict(zip(names, f["result/parameters"][()]))
    h = f["history"]
    d = dict(
        model=model, opts=opts, params=params, species=species, reactions=reactions, fit=fit, result=res,
        loss=h["loss"][()], theta=h["theta"][()], events=h["events"][()] if "events" in h else None,
        ntraj=h["ntraj"][()] if "ntraj" in h else None, ranks=int(f["run"].attrs.get("ranks", 0)),
        wall=float(f["run"].attrs.get("wall_seconds", float("nan"))))
    L = sum(1 for r in reactions if r["rev"])
    N = sum(c for s, c in species if s.startswith("X"))
    q = params["q"]
    B = float(opts.get("-stgssa_budget_activity", "inf"))
    d.update(L=L, N=N, q=q, B=B, W=float(opts.get("-stgssa_penalty", "100")), T=float(opts.get("-stgssa_tfinal", "nan")),
             t0=float(opts.get("-stgssa_count_from", "0")), Jstar=(B - 2 * q) / L, Jhom=B / L - 2 * q * N * (L - N) / (L * (L - 1)))
    d["p"] = np.array([res.get(f"p{i}", params[f"p{i}"]) for i in range(L)])
    d["p_start"] = np.array([params[f"p{i}"] if f"p{i}" not in fit else math.exp(d["theta"][0][fit.index(f"p{i}")]) for i in range(L)])
    f.close()
    return d


def loss_of(bin_, launcher, model_path, d, seed, a, budget):
    """One gradient-mode run at the optimized rates; returns /gradient/loss."""
    pars = ",".join(f"p{i}={v:.17g}" for i, v in enumerate(d["p"]))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "eval.h5")
        cmd = shlex.split(launcher) + [
            bin_, "-stgssa_model", model_path, "-stgssa_parameters", pars, "-stgssa_mode", "gradient",
            "-stgssa_loss", "design", "-stgssa_design", "current", "-stgssa_design_pair", "hop_0", "-stgssa_fit", "q",
            "-stgssa_gradient", "score", "-stgssa_ntraj", str(a.eval_ntraj), "-stgssa_tfinal", str(a.eval_tfinal),
            "-stgssa_count_from", str(a.eval_count_from), "-stgssa_observe", "X0", "-stgssa_seed", str(seed),
            "-stgssa_output", out]
        if budget:
            cmd += ["-stgssa_budget_activity", "0", "-stgssa_penalty", "1"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with h5py.File(out, "r") as f:
            return float(f["gradient/loss"][()])


def evaluate(d, a):
    """Stationary J and A at the optimized rates by K independent seeds (mean, standard error)."""
    with tempfile.NamedTemporaryFile("w", suffix=".model", delete=False) as m:
        m.write(d["model"])
        model_path = m.name
    try:
        J, A = [], []
        for k in range(a.eval_seeds):
            seed = 1001 + k
            l1 = loss_of(a.evaluate, a.launcher, model_path, d, seed, a, False)  # -J
            l2 = loss_of(a.evaluate, a.launcher, model_path, d, seed, a, True)   # -J + A^2 (same trajectories)
            J.append(-l1)
            A.append(math.sqrt(max(l2 - l1, 0.0)))
    finally:
        os.unlink(model_path)
    J, A = np.array(J), np.array(A)
    K = len(J)
    return J.mean(), J.std(ddof=1) / math.sqrt(K), A.mean(), A.std(ddof=1) / math.sqrt(K)


def exact(d, max_states=200000):
    """Stationary J (bond 0) and A of the ring at the optimized rates: configurations of N
    particles on L sites, generator Q (scipy sparse), pi Q = 0."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla
    L, N, q, p = d["L"], d["N"], d["q"], d["p"]
    if math.comb(L, N) > max_states:
        return None
    states = [sum(1 << i for i in c) for c in __import__("itertools").combinations(range(L), N)]
    index = {s: k for k, s in enumerate(states)}
    rows, cols, vals = [], [], []
    n = len(states)
    jf, jb, act = np.zeros(n), np.zeros(n), np.zeros(n)
    for k, s in enumerate(states):
        out = 0.0
        for i in range(L):
            j = (i + 1) % L
            xi, xj = (s >> i) & 1, (s >> j) & 1
            if xi and not xj:  # forward hop across bond i
                t, r = s ^ (1 << i) ^ (1 << j), p[i]
                if i == 0:
                    jf[k] = r
            elif xj and not xi:  # backward hop
                t, r = s ^ (1 << i) ^ (1 << j), q
                if i == 0:
                    jb[k] = r
            else:
                continue
            rows.append(index[t])
            cols.append(k)
            vals.append(r)
            out += r
        act[k] = out
        rows.append(k)
        cols.append(k)
        vals.append(-out)
    M = sp.csr_matrix((vals, (rows, cols)), shape=(n, n)).tolil()  # M pi = 0 (columns: from-state)
    M[n - 1, :] = np.ones(n)
    rhs = np.zeros(n)
    rhs[-1] = 1.0
    pi = spla.spsolve(M.tocsc(), rhs)
    return float(pi @ (jf - jb)), float(pi @ act)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--png")
    ap.add_argument("--evaluate", metavar="BIN", help="measure J and A at the optimized rates with this stgssa_hpc")
    ap.add_argument("--launcher", default="", help='MPI launcher of the evaluation runs, e.g. "mpirun -n 2" (default: none)')
    ap.add_argument("--eval-ntraj", type=int, default=500)
    ap.add_argument("--eval-seeds", type=int, default=8)
    ap.add_argument("--eval-tfinal", type=float, default=200)
    ap.add_argument("--eval-count-from", type=float, default=20)
    ap.add_argument("--exact", action="store_true", help="also solve the stationary master equation (small rings)")
    a = ap.parse_args()
    d = load(a.file)
    L, P, s = d["L"], len(d["fit"]), int(np.argmin(d["p"]))
    fast = np.delete(d["p"], s)
    it = len(d["loss"]) - 1
    print(f"ASEP ring L = {L}, N = {d['N']}, q = {d['q']:g}; P = {P} fitted rates; budget B = {d['B']:g}, penalty W = {d['W']:.3g}")
    print(f"exact bound J* = (B - 2q)/L = {d['Jstar']:.6g};  homogeneous ring J_hom(B) = {d['Jhom']:.6g}")
    print(f"iterations {it}, wall {d['wall']:.1f} s on {d['ranks']} ranks; T = {d['T']:g}, count_from = {d['t0']:g}")
    print(f"slow bond p{s} = {d['p'][s]:.4g}; fast rates: min {fast.min():.4g}, harmonic mean {len(fast) / np.sum(1 / fast):.4g}, "
          f"median {np.median(fast):.4g}, max {fast.max():.4g}")
    # near the optimum J/J* ~ 1 - (2q/L) sum_{i != s} 1/(p_i - q) (one particle or hole in transit)
    pf = np.maximum(fast - d["q"], 1e-12)
    print(f"one-wall estimate J/J* ~ 1 - (2q/L) sum 1/(p_i - q) = {1 - 2 * d['q'] / L * np.sum(1 / pf):.4f}")
    K = min(30, len(d["loss"]))
    print(f"SSA -loss, mean of the last {K} iterations: {-np.mean(d['loss'][-K:]):.5g}")
    ev = None
    if a.evaluate:
        J, seJ, A, seA = evaluate(d, a)
        ev = (J, seJ, A, seA)
        print(f"evaluated at /result ({a.eval_seeds} seeds x {a.eval_ntraj} trajectories, [{a.eval_count_from:g}, {a.eval_tfinal:g}]): "
              f"J = {J:.5f} +- {seJ:.5f}, A = {A:.4f} +- {seA:.4f}")
        print(f"J/J*(B) = {J / d['Jstar']:.4f} +- {seJ / d['Jstar']:.4f};  J/J*(A) = {J / ((A - 2 * d['q']) / L):.4f};  "
              f"J/J_hom(B) = {J / d['Jhom']:.3g}" if d["Jhom"] > 0 else "")
    if a.exact:
        r = exact(d)
        if r is None:
            print("exact: too many configurations, skipped")
        else:
            print(f"exact stationary at /result: J = {r[0]:.6f}, A = {r[1]:.5f}, J/J*(B) = {r[0] / d['Jstar']:.4f}, "
                  f"J/J*(A) = {r[0] / ((r[1] - 2 * d['q']) / L):.4f}")
            print(f"exact_values J {r[0]:.9g} A {r[1]:.9g} Jstar {d['Jstar']:.9g} Jhom {d['Jhom']:.9g}")
    if a.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.2))
        sites = np.arange(L)
        ax1.semilogy(sites, d["p_start"], "--", color="0.6", lw=1, label="start")
        ax1.semilogy(sites, d["p"], "o-", color="C3", ms=3, lw=1, label="optimized")
        ax1.semilogy([s], [d["p"][s]], "s", color="C0", ms=8, mfc="none", label=f"slow bond {s}: p = {d['p'][s]:.3g}")
        ax1.axhline(d["q"], color="C2", lw=0.8, ls=":", label="backward rate q")
        ax1.axhline(d["Jstar"], color="C0", lw=0.8, ls=":", label="J*")
        ax1.set_xlabel("bond i (site i -> i+1)")
        ax1.set_ylabel("forward rate p_i")
        ax1.set_title(f"(a) ASEP ring L={L}, N={d['N']}: designed rates (P={P})", fontsize=10)
        ax1.legend(fontsize=7, loc="center right")
        its = np.arange(len(d["loss"]))
        ax2.plot(its, -d["loss"], color="C3", lw=0.8, label="-loss (= J when A <= B)")
        ax2.axhline(d["Jstar"], color="k", ls="--", lw=1, label=f"J* = (B-2q)/L = {d['Jstar']:.3g}")
        ax2.axhline(d["Jhom"], color="0.5", ls=":", lw=1, label=f"homogeneous ring J_hom(B) = {d['Jhom']:.3g}")
        if ev:
            ax2.errorbar([its[-1]], [ev[0]], yerr=[2 * ev[1]], fmt="o", color="C0", capsize=3,
                         label=f"stationary J at the result: {ev[0] / d['Jstar']:.3f} J*")
        ax2.set_xlabel("Adam iteration")
        ax2.set_ylabel(f"current J of bond 0 over [{d['t0']:g}, {d['T']:g}]")
        ax2.set_ylim(min(0, float(np.min(-d["loss"]))) - 0.02, d["Jstar"] * 1.1)
        ax2.legend(fontsize=7, loc="lower right")
        ax2.set_title("(b) current per iteration (SSA estimate)", fontsize=10)
        if d["events"] is not None and d["ntraj"] is not None:
            ax3.plot(its, d["events"] / (d["ntraj"] * d["T"]), color="C1", lw=0.8, label=f"all jumps over [0, {d['T']:g}] per unit time")
            ax3.axhline(d["B"], color="k", ls="--", lw=0.8, label=f"budget B = {d['B']:g}")
            ax3.set_ylim(0, 1.4 * d["B"])
            ax3.set_xlabel("Adam iteration")
            ax3.set_ylabel("activity A (jumps per unit time)")
            ax3.legend(fontsize=7, loc="lower right")
            ax3.set_title("(c) activity per iteration (from /history/events)", fontsize=10)
        fig.tight_layout()
        fig.savefig(a.png, dpi=120)
        print(f"wrote {a.png}")


if __name__ == "__main__":
    sys.exit(main())
