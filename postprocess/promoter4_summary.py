#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""True vs fitted rates of a time-course fit (four-state promoter study), and a figure of the
data histograms against the fitted model at every sample time, with the loss curve.

The truth is the data file's /run (model text and any -stgssa_parameters override); the fit is
/result and /history of the optimize output, read from the file root or, for a study file, from
/members/<name> (--member; chosen automatically when the study has a single member).

Model histograms at the fitted rates come, in this order of preference, from
  --model FSP.h5   an `-stgssa_mode fsp` output run at the fitted rates (/fsp/distribution/<S>);
  otherwise       a small exact master-equation solve done here (numpy only): the model text
                   stored in the fit's /run, the states reachable from the initial state with
                   the observed species capped at --max-count (default: twice the
                   data's range + 20), p(t) = expm(A t) p(0).
With --no-model (or a projection larger than --max-states) only the data are drawn.

--crlb FSP.h5 --cells N adds the Cramer-Rao relative standard deviations sqrt(diag(I^-1)) with
I = N sum_t sum_x (dp/dlog k)(dp/dlog k)^T / p, from the /fsp/sensitivity/<S> [T x B x P] of an
fsp-mode run at the truth whose -stgssa_fit lists the fitted rates.

usage: promoter4_summary.py FIT.h5 DATA.h5 [--member NAME] [--data-member NAME] [--species M]
                            [--model FSP.h5 | --no-model] [--max-count N] [--png FILE]
                            [--crlb FSP.h5 --cells N]
"""
import argparse
import re
import sys

import h5py
import numpy as np


def run_info(run):
    """/run's attributes and its string datasets (model_text, options, command_line: datasets since
    issue 16, attributes in older outputs) as one mapping."""
    info = dict(run.attrs)
    info.update({k: v[()] for k, v in run.items() if isinstance(v, h5py.Dataset)})
    return info


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def root_of(f, member, want):
    """The group holding `want` (e.g. 'result'): the root, /members/<member>, or the only member."""
    if member:
        if f"members/{member}" not in f:
            sys.exit(f"{f.filename}: no member '{member}' (have: {', '.join(f.get('members', {}).keys())})")
        return f[f"members/{member}"]
    if want in f:
        return f["/"]
    names = list(f.get("members", {}).keys())
    if len(names) == 1:
        return f[f"members/{names[0]}"]
    sys.exit(f"{f.filename}: no /{want}; a study file with members {names}: choose one with --member/--data-member")


def sections(model_text):
    """{section: [lines without comments]} of a .model text."""
    out, cur = {}, None
    for line in model_text.splitlines():
        words = line.split("#", 1)[0].strip()
        if not words:
            continue
        w = words.split()
        if w[0] == "begin" and len(w) == 2:
            cur = w[1]
            out[cur] = []
        elif w[0] == "end":
            cur = None
        elif cur:
            out[cur].append(words)
    return out


def parameters(run_attrs):
    """Rates of the run: the model's parameters section, then -stgssa_parameters overrides."""
    params = {}
    for line in sections(text(run_attrs["model_text"])).get("parameters", []):
        w = line.split()
        params[w[0]] = float(w[1])
    m = re.search(r"-stgssa_parameters\s+(\S+)", text(run_attrs["options"]))
    if m:
        for item in m.group(1).split(","):
            name, value = item.split("=")
            params[name.strip()] = float(value)
    return params


def reactions(model_text, params):
    """Species names, initial state, and (reactants {i: nu}, change vector, rate) per reaction."""
    sec = sections(model_text)
    names, x0 = [], []
    for line in sec["species"]:
        w = line.split()
        names.append(w[0])
        x0.append(int(float(w[1])))
    idx = {n: i for i, n in enumerate(names)}

    def side(s):
        terms = {}
        for t in s.split("+"):
            w = t.split()
            if not w or w == ["0"]:
                continue
            nu, sp = (int(w[0]), w[1]) if len(w) == 2 else (1, w[0])
            terms[idx[sp]] = terms.get(idx[sp], 0) + nu
        return terms

    def rate(r):
        r = r.strip()
        if "*" in r:
            a, b = r.split("*")
            return float(a) * params[b.strip()]
        return params[r] if r in params else float(r)

    out = []
    for line in sec["reactions"]:
        line = re.sub(r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*:", "", line)
        m = re.match(r"(.*?)(<->|->)(.*)$", line)
        lhs, arrow, rest = m.group(1), m.group(2), m.group(3)
        # the products end at the last species name (or '0'); the rate expression(s) follow
        toks = rest.split()
        k = len(toks)
        while k > 0 and toks[k - 1] not in names and toks[k - 1] != "0":
            k -= 1
        rhs, rates = " ".join(toks[:k]), " ".join(toks[k:])
        rates = [r for r in rates.replace(",", " ").split()]
        a, b = side(lhs), side(rhs)
        for reac, prod, r in [(a, b, rates[0])] + ([(b, a, rates[1])] if arrow == "<->" else []):
            nu = np.zeros(len(names), dtype=int)
            for i, v in prod.items():
                nu[i] += v
            for i, v in reac.items():
                nu[i] -= v
            out.append((reac, nu, rate(r)))
    return names, np.array(x0), out


def expm(A):
    """exp(A) by scaling and squaring with a Taylor series (A a generator: no cancellation)."""
    norm = np.abs(A).sum(axis=0).max()
    s = max(0, int(np.ceil(np.log2(max(norm, 1e-300)))) + 1)
    B = A / 2.0**s
    E, term = np.eye(len(A)), np.eye(len(A))
    for k in range(1, 30):
        term = term @ B / k
        E = E + term
        if np.abs(term).max() < 1e-18:
            break
    for _ in range(s):
        E = E @ E
    return E


def cme_marginals(model_text, params, species, times, max_count, max_states):
    """Exact marginal distribution of `species` at `times` (from the model's initial state), or None."""
    names, x0, rx = reactions(model_text, params)
    obs = names.index(species)
    index, states, queue = {tuple(x0): 0}, [tuple(x0)], [tuple(x0)]
    while queue:  # reachable states, the observed species capped at max_count
        x = queue.pop()
        for reac, nu, _ in rx:
            if all(x[i] >= v for i, v in reac.items()):
                y = tuple(np.array(x) + nu)
                if min(y) < 0 or y[obs] > max_count or y in index:
                    continue
                if len(states) >= max_states:
                    return None
                index[y] = len(states)
                states.append(y)
                queue.append(y)
    n = len(states)
    A = np.zeros((n, n))
    for j, x in enumerate(states):
        for reac, nu, k in rx:
            a = k
            for i, v in reac.items():
                for m in range(v):
                    a *= (x[i] - m) / (m + 1)  # binomial combinatorics
            if a <= 0:
                continue
            A[j, j] -= a  # leaving the projection is lost mass
            y = tuple(np.array(x) + nu)
            if y in index:
                A[index[y], j] += a
    p = np.zeros(n)
    p[0] = 1.0
    counts = np.array([s[obs] for s in states])
    out, t0 = [], 0.0
    for t in times:
        if t > t0:
            p = expm(A * (t - t0)) @ p
        t0 = t
        out.append(np.bincount(counts, weights=p, minlength=max_count + 1))
    return np.array(out)


def crlb(fsp_file, species, cells):
    with h5py.File(fsp_file, "r") as f:
        p = f[f"fsp/distribution/{species}"][:]
        S = f[f"fsp/sensitivity/{species}"][:]
        names = [text(n) for n in f["fsp"].attrs["fit_names"]]
    ok = p > 1e-14
    Sw = S * ok[..., None]
    info = cells * np.einsum("tba,tbc->ac", Sw, Sw / np.where(ok, p, 1.0)[..., None])
    return dict(zip(names, np.sqrt(np.diag(np.linalg.inv(info)))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fit")
    ap.add_argument("data")
    ap.add_argument("--member", default=None, help="fit: /members/<name> of a study file")
    ap.add_argument("--data-member", default=None, help="data: /members/<name> of a study file")
    ap.add_argument("--species", default="M")
    ap.add_argument("--model", default=None, help="fsp-mode output at the fitted rates")
    ap.add_argument("--no-model", action="store_true")
    ap.add_argument("--max-count", type=int, default=0, help="CME cap on the observed count (0: twice the data's range + 20)")
    ap.add_argument("--max-states", type=int, default=3000)
    ap.add_argument("--crlb", default=None, help="fsp-mode output at the truth, with sensitivities")
    ap.add_argument("--cells", type=float, default=None, help="cells per sample time, for --crlb")
    ap.add_argument("--png", default=None)
    args = ap.parse_args()

    with h5py.File(args.data, "r") as f:
        d = root_of(f, args.data_member, "simulate")
        truth = parameters(run_info(d["run"]))
        dtimes = d["simulate/times"][:]
        dhist = d[f"simulate/histograms/{args.species}"][:]
        dcells = int(d["run"].attrs["ntraj"])
    with h5py.File(args.fit, "r") as f:
        g = root_of(f, args.member, "result")
        names = [text(n) for n in g["result/parameters"].attrs["names"]]
        rates = g["result/parameters"][:]
        loss = g["history/loss"][:]
        theta = g["history/theta"][:]
        run = run_info(g["run"])
        start = parameters(run)
        fitted = dict(start, **dict(zip(names, rates)))
        model_text = text(run["model_text"])
        tao = text(run["tao_type"]) if "tao_type" in run else "?"
        evals = int(run["evaluations"]) if "evaluations" in run else -1
        ranks = int(run["ranks"])
        options = text(run["options"])
        wall = float(run["wall_seconds"]) if "wall_seconds" in run else float("nan")
    est = re.search(r"-stgssa_gradient\s+(\S+)", options)
    est = est.group(1) if est else "score"
    bounds = crlb(args.crlb, args.species, args.cells or dcells) if args.crlb else {}

    print(f"{args.fit}: {est}/{tao}, {len(loss) - 1} iterations, {evals} evaluations on {ranks} ranks"
          + (f", {wall:.1f} s" if wall == wall else "") + f"; loss {loss[0]:.4g} -> {loss[-1]:.4g}")
    tail = np.exp(theta[-max(1, len(theta) // 5):]).mean(axis=0)
    head = f"{'rate':<8} {'truth':>9} {'start':>9} {'fitted':>9} {'rel.err':>8} {'tail-20%':>9} {'rel.err':>8}"
    print(head + (f" {'CRLB sd':>8}" if bounds else ""))
    worst = 0.0
    for k, name in enumerate(names):
        t = truth.get(name, float("nan"))
        e, et = (rates[k] - t) / t, (tail[k] - t) / t
        worst = max(worst, abs(e))
        line = f"{name:<8} {t:>9.4g} {start.get(name, float('nan')):>9.4g} {rates[k]:>9.4g} {e:>+8.1%} {tail[k]:>9.4g} {et:>+8.1%}"
        print(line + (f" {bounds[name]:>8.1%}" if name in bounds else ""))
    held = [n for n in truth if n not in names]
    print("held fixed: " + ", ".join(f"{n} {fitted[n]:.4g}" + ("" if fitted[n] == truth[n] else f" (truth {truth[n]:.4g})") for n in held))
    print(f"largest |rel. error| of the final iterate: {worst:.1%}")

    if not args.png:
        return
    model, source = None, ""
    if args.model:
        with h5py.File(args.model, "r") as f:
            mt, model = f["fsp/times"][:], f[f"fsp/distribution/{args.species}"][:]
        if len(mt) != len(dtimes) or not np.allclose(mt, dtimes):
            sys.exit(f"{args.model}: fsp times {list(mt)} differ from the data times {list(dtimes)}")
        source = f"fsp output {args.model}"
    elif not args.no_model:
        cap = args.max_count or 2 * dhist.shape[1] + 20
        model = cme_marginals(model_text, fitted, args.species, dtimes, cap, args.max_states)
        if model is not None and model.sum(axis=1).min() < 1 - 1e-6:
            print(f"warning: {1 - model.sum(axis=1).min():.2g} of the probability leaves the projection; raise --max-count")
        source = "exact CME at the fitted rates" if model is not None else ""
        if model is None:
            print(f"model larger than --max-states {args.max_states}: drawing the data only")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    nt = len(dtimes)
    ncol = min(3, nt + 1)
    nrow = (nt + 1 + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    axes = axes.ravel()
    for i, t in enumerate(dtimes):
        ax = axes[i]
        h = dhist[i]
        ax.bar(np.arange(len(h)), h, width=1.0, color="0.75", label=f"data ({dcells} cells)")
        if model is not None:
            ax.step(np.arange(model.shape[1]), model[i], where="mid", color="C3", lw=1.3, label="fitted model")
        ax.set_xlim(-0.5, max(len(h), 5) + 0.5)
        ax.set_title(f"t = {t:g}")
        ax.set_xlabel(f"{args.species} count")
        if i == 0:
            ax.set_ylabel("probability")
            ax.legend(fontsize=8)
    ax = axes[nt]
    ax.semilogy(loss, color="C0")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title(f"{est}/{tao}: loss")
    for ax in axes[nt + 1:]:
        ax.axis("off")
    fig.suptitle("fit: " + ", ".join(f"{n} {v:.3g} ({(v - truth[n]) / truth[n]:+.0%})" for n, v in zip(names, rates))
                 + (f"\nmodel: {source}" if source else ""), fontsize=9)
    fig.tight_layout()
    fig.savefig(args.png, dpi=110)
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
