#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""TUR inverse design on unicyclic rings: exact long-time Q of the optimized rates.

usage: ring_tur.py STUDY.h5 [--png FILE]          (members under /members/<name>)
       ring_tur.py RUN1.h5 RUN2.h5 ... [--png FILE] (standalone optimize outputs)

For every optimize run on a ring model (bond_i: S_i <-> S_{i+1}, rates kp_i, km_i) it prints
N, A = sum log(kp_i/km_i), Q_exact of the optimized rates, Q_ssa (= -final loss, finite T),
Q_exact of the start rates, the analytic optimum Q* = tanh(A/2N)/(A/2N), 1 - Q_exact/Q*, and
the same for the Polyak average of the log-rates over the second half of /history (Q_avg).
Q_exact: tilted generator L(s) (e^s on the bond1 forward jump, e^-s on its backward jump),
lambda(s) its largest eigenvalue, J = lambda'(0), 2D = lambda''(0), Sigma = A J, and
Q = 2 J^2 / (lambda''(0) Sigma) (long-time limit of 2<J_T>^2/(Var J_T <Sigma_T>)).
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


def ring_q(kp, km, h=1e-3):
    """Exact long-time Q of the current through bond1 of a unicyclic ring."""
    kp = np.asarray(kp, float)
    km = np.asarray(km, float)
    n = len(kp)

    def lam(s):
        L = np.zeros((n, n))
        for i in range(n):
            j = (i + 1) % n
            t = np.exp(s) if i == 0 else 1.0
            L[j, i] += kp[i] * t
            L[i, i] -= kp[i]
            L[i, j] += km[i] / t
            L[j, j] -= km[i]
        return np.max(np.linalg.eigvals(L).real)

    l = [lam(k * h) for k in (-2, -1, 0, 1, 2)]
    J = (-l[4] + 8 * l[3] - 8 * l[1] + l[0]) / (12 * h)
    d2 = (-l[4] + 16 * l[3] - 30 * l[2] + 16 * l[1] - l[0]) / (12 * h * h)
    A = np.sum(np.log(kp / km))
    return 2 * J / (A * d2)


def q_star(n, A):
    x = A / (2 * n)
    return np.tanh(x) / x


def text(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray):
        return text(v.flat[0]) if v.size else ""
    return str(v)


def model_params(model_text):
    """Parameter values of the model text stored in /run (begin parameters ... end parameters)."""
    vals, inside = {}, False
    for line in model_text.splitlines():
        line = line.split("#")[0].strip()
        if line == "begin parameters":
            inside = True
        elif line == "end parameters":
            inside = False
        elif inside and line:
            k, v = line.split()[:2]
            vals[k] = float(v)
    return vals


def option(opts, name):
    m = re.search(r"(?:^|\s)-" + name + r"\s+(\S+)", opts)
    return m.group(1) if m else None


def analyse(g, label):
    """One run (a group with /run, /result, /history): dict of results, or None if not a ring."""
    if "result" not in g or "run" not in g:
        return None
    run = g["run"]
    base = model_params(text(run_info(run).get("model_text", "")))
    n = sum(1 for k in base if re.fullmatch(r"kp\d+", k))
    if n < 2 or any(f"km{i}" not in base for i in range(1, n + 1)):
        return None
    names = [text(x) for x in g["result/parameters"].attrs["names"]]
    rates = dict(base)
    opts = text(run_info(run).get("options", "")) + " " + text(run_info(run).get("command_line", ""))
    given = option(opts, "stgssa_parameters")
    if given:
        for kv in given.strip("\"'").split(","):
            k, v = kv.split("=")
            rates[k] = float(v)
    start = dict(rates)
    if "history/theta" in g and len(g["history/theta"]):  # the start as the optimizer used it
        for k, v in zip(names, g["history/theta"][0]):
            start[k] = float(np.exp(v))
    rates.update(zip(names, g["result/parameters"][:]))
    kp = [rates[f"kp{i}"] for i in range(1, n + 1)]
    km = [rates[f"km{i}"] for i in range(1, n + 1)]
    A = float(np.sum(np.log(np.array(kp) / np.array(km))))
    q = ring_q(kp, km)
    q0 = ring_q([start[f"kp{i}"] for i in range(1, n + 1)], [start[f"km{i}"] for i in range(1, n + 1)])
    qs = q_star(n, A)
    loss = float(g["result"].attrs["loss"])
    # Polyak averaging: mean log-rates over the second half of the history (the constraint is
    # affine in the log-rates, so the average satisfies it too)
    qa = float("nan")
    if "history/theta" in g and len(g["history/theta"]) >= 4:
        th = g["history/theta"][:]
        avg = dict(rates)
        avg.update(zip(names, np.exp(th[len(th) // 2:].mean(axis=0))))
        qa = ring_q([avg[f"kp{i}"] for i in range(1, n + 1)], [avg[f"km{i}"] for i in range(1, n + 1)])
    return dict(name=label, N=n, A=A, Q=q, Q_ssa=-loss, Q0=q0, Qs=qs, err=1 - q / qs, Qa=qa, erra=1 - qa / qs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--png", help="plot Q_opt(A) against the analytic optimum, one panel per N")
    a = ap.parse_args()
    res = []
    for path in a.files:
        with h5py.File(path, "r") as f:
            if "members" in f:
                for name in f["members"]:
                    r = analyse(f["members"][name], name)
                    if r:
                        res.append(r)
            else:
                r = analyse(f, path)
                if r:
                    res.append(r)
    if not res:
        sys.exit("no optimize runs on ring models found")
    res.sort(key=lambda r: (r["N"], r["A"]))
    print(f"{'name':<14} {'N':>2} {'A':>6} {'Q_exact':>8} {'Q_ssa':>8} {'Q_start':>8} {'Q*':>8} {'rel.err':>8} {'Q_avg':>8} {'err_avg':>8}")
    for r in res:
        print(f"{r['name']:<14} {r['N']:>2} {r['A']:>6.3g} {r['Q']:>8.4f} {r['Q_ssa']:>8.4f} {r['Q0']:>8.4f} {r['Qs']:>8.4f} {r['err']:>8.2%} {r['Qa']:>8.4f} {r['erra']:>8.2%}")
    if a.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        Ns = sorted({r["N"] for r in res})
        fig, axes = plt.subplots(1, len(Ns), figsize=(3.2 * len(Ns), 3.2), sharey=True, squeeze=False)
        for ax, n in zip(axes[0], Ns):
            rs = [r for r in res if r["N"] == n]
            As = np.geomspace(min(r["A"] for r in rs) / 1.5, max(r["A"] for r in rs) * 1.5, 200)
            ax.plot(As, q_star(n, As), "k-", lw=1, label="Q* (uniform rates)")
            ax.plot([r["A"] for r in rs], [r["Q0"] for r in rs], "x", color="0.6", label="start")
            ax.plot([r["A"] for r in rs], [r["Q"] for r in rs], "o", label="optimized (exact Q)")
            ax.plot([r["A"] for r in rs], [r["Q_ssa"] for r in rs], "s", mfc="none", label="SSA estimate")
            ax.set_xscale("log")
            ax.set_xlabel("affinity A")
            ax.set_title(f"N = {n}")
        axes[0][0].set_ylabel("Q")
        axes[0][-1].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(a.png, dpi=120)


if __name__ == "__main__":
    main()
