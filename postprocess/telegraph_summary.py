#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Compare a simulate-mode run of the telegraph model with its exact stationary solution.

Reads the HDF5 written by `stgssa_hpc -stgssa_mode simulate`, takes the rates from the model text
stored in /run (with any -stgssa_parameters override applied), and prints, at the last sample
time, the simulated mean and Fano factor of M (with standard errors) beside the closed forms
  <M> = (k_tx/k_deg) k_on/(k_on+k_off),   F = 1 + k_tx k_off / ((k_on+k_off)(k_on+k_off+k_deg)).
With --png, plots the histograms at every sample time and the exact stationary distribution
(Peccoud & Ycart 1995).

usage: telegraph_summary.py OUTPUT.h5 [--species M] [--png FILE]
"""
import argparse
import math
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


def attr_str(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def model_parameters(model_text, options):
    """Parameter values from the model's parameters section, then -stgssa_parameters overrides."""
    params, inside = {}, False
    for line in model_text.splitlines():
        line = line.split("#", 1)[0].split()
        if line[:2] == ["begin", "parameters"]:
            inside = True
        elif line[:2] == ["end", "parameters"]:
            inside = False
        elif inside and len(line) == 2:
            params[line[0]] = float(line[1])
    m = re.search(r"-stgssa_parameters\s+(\S+)", options)
    if m:
        for item in m.group(1).split(","):
            name, value = item.split("=")
            params[name.strip()] = float(value)
    return params


def telegraph_pmf(kon, koff, ktx, kdeg, nmax):
    """Stationary P(n), n < nmax: Gamma(a+n)Gamma(a+b)/(n!Gamma(a)Gamma(a+b+n)) K^n e^-K M(b; a+b+n; K)."""
    a, b, K = kon / kdeg, koff / kdeg, ktx / kdeg
    p = np.empty(nmax)
    for n in range(nmax):
        term, total, k = 1.0, 1.0, 0
        while term > 1e-17 * total:  # Kummer M(b; a+b+n; K), all terms positive
            term *= (b + k) / (a + b + n + k) * K / (k + 1)
            total += term
            k += 1
        logpre = (math.lgamma(a + n) + math.lgamma(a + b) - math.lgamma(n + 1) - math.lgamma(a)
                  - math.lgamma(a + b + n) + n * math.log(K) - K)
        p[n] = math.exp(logpre) * total
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output")
    ap.add_argument("--species", default="M")
    ap.add_argument("--png", default=None)
    args = ap.parse_args()

    with h5py.File(args.output, "r") as f:
        run = run_info(f["run"])
        params = model_parameters(attr_str(run["model_text"]), attr_str(run["options"]))
        ntraj, ranks, events, wall = int(run["ntraj"]), int(run["ranks"]), int(run["events"]), float(run["wall_seconds"])
        times = f["simulate/times"][:]
        mom = f["simulate/moments/" + args.species][:]
        hist = f["simulate/histograms/" + args.species][:]

    try:
        kon, koff, ktx, kdeg = (params[k] for k in ("k_on", "k_off", "k_tx", "k_deg"))
    except KeyError as e:
        sys.exit(f"{args.output}: model has no parameter {e}; expected the telegraph model (k_on, k_off, k_tx, k_deg)")
    mean_exact = ktx / kdeg * kon / (kon + koff)
    fano_exact = 1 + ktx * koff / ((kon + koff) * (kon + koff + kdeg))
    pex = telegraph_pmf(kon, koff, ktx, kdeg, max(hist.shape[1], 4 * int(mean_exact * fano_exact) + 20))

    mean, var, m3 = mom[-1]
    n = np.arange(len(pex))
    m4 = float(np.sum((n - mean_exact) ** 4 * pex))
    var_exact = mean_exact * fano_exact
    se_mean = math.sqrt(var_exact / ntraj)
    se_fano = math.sqrt((m4 - var_exact**2) / ntraj) / mean_exact  # dominant term of the delta method
    print(f"telegraph model: k_on={kon:g} k_off={koff:g} k_tx={ktx:g} k_deg={kdeg:g}; "
          f"{ntraj} trajectories on {ranks} ranks, {events} SSA events in {wall:.2f} s")
    print(f"{args.species} at t = {times[-1]:g} (stationary)   simulated            exact     z-score")
    print(f"  mean                       {mean:9.4f} +- {se_mean:6.4f}   {mean_exact:9.4f}   {(mean - mean_exact) / se_mean:+6.2f}")
    print(f"  Fano factor                {var / mean:9.4f} +- {se_fano:6.4f}   {fano_exact:9.4f}   {(var / mean - fano_exact) / se_fano:+6.2f}")
    B = hist.shape[1]
    tv = 0.5 * (np.abs(hist[-1] - pex[:B]).sum() + pex[B:].sum())
    print(f"  total-variation distance to the exact distribution: {tv:.4f}")

    if args.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4.2))
        for i, t in enumerate(times):
            ax.step(np.arange(B), hist[i], where="mid", label=f"SSA t = {t:g}", alpha=0.8)
        ax.plot(n[: B + 10], pex[: B + 10], "k.", label="exact stationary")
        ax.set_xlabel(f"copy number of {args.species}")
        ax.set_ylabel("probability")
        ax.set_title(f"telegraph model, {ntraj} trajectories")
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.png, dpi=120)
        print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
