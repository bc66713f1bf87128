#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Per-time report of a fit: data against model at every data time.

Reads /result/fit/<observable>/ (optimize mode) or /gradient/fit/<observable>/ (gradient mode)
written by stgssa_hpc with data (times, cells, data_histogram, model_distribution,
neg_log_likelihood, kl, data/model mean and Fano factor), prints the table and, with --png, draws
one small panel per data time (data histogram as bars, model distribution as a line; the last
bin lumps the tail) plus the mean and the Fano factor against time, data and model.
The fitted rates with their 95% intervals (/result/ci95) go into the title when present.

usage: fit_report.py FIT.h5 [--observable NAME] [--png FILE]
"""
import argparse
import math
import sys

import h5py
import numpy as np


def attr_str(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def fit_groups(f):
    for top in ("result", "gradient"):
        if top in f and "fit" in f[top]:
            return f[top], f[top]["fit"]
    sys.exit("%s: no /result/fit or /gradient/fit (run with -stgssa_data and a histogram loss)" % f.filename)


def print_table(name, g):
    print("Fit of %s at each data time" % name)
    print("%10s %8s %12s %10s %10s %10s %10s %10s" % ("time", "cells", "-logL/cell", "KL", "data mean", "model mean", "data Fano", "model Fano"))
    cols = [g[k][()] for k in ("times", "cells", "neg_log_likelihood", "kl", "data_mean", "model_mean", "data_fano", "model_fano")]
    for t, n, nll, kl, dm, mm, df, mf in zip(*cols):
        print("%10.4g %8.0f %12.5g %10.3g %10.4g %10.4g %10.4g %10.4g" % (t, n, nll / n, kl, dm, mm, df, mf))


def title_of(top):
    if "parameters" not in top or "ci95" not in top:
        return ""
    names = [attr_str(n) for n in top["parameters"].attrs["names"]]
    val, ci = top["parameters"][()], top["ci95"][()]
    return ";  ".join("%s = %.3g [%.3g, %.3g]" % (n, v, lo, hi) for n, v, (lo, hi) in zip(names, val, ci))


def draw(path, top, groups):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    T = max(g["times"].shape[0] for _, g in groups)
    ncol = min(T, 6)
    nrow_h = math.ceil(T / ncol)
    fig = plt.figure(figsize=(2.3 * ncol + 1, 2.0 * (nrow_h * len(groups) + 1.4)))
    gs = fig.add_gridspec(nrow_h * len(groups) + 1, ncol, height_ratios=[1] * (nrow_h * len(groups)) + [1.4])
    for k, (name, g) in enumerate(groups):
        times, data, model = g["times"][()], g["data_histogram"][()], g["model_distribution"][()]
        cells, nll = g["cells"][()], g["neg_log_likelihood"][()]
        x = np.arange(data.shape[1])
        for t in range(times.shape[0]):
            ax = fig.add_subplot(gs[k * nrow_h + t // ncol, t % ncol])
            ax.bar(x, data[t], width=1.0, color="0.75", label="data")
            ax.plot(x, model[t], color="C3", lw=1.2, label="model")
            ax.set_title("%s, t = %.3g (%d cells)\n-log L/cell %.3g" % (name, times[t], cells[t], nll[t] / cells[t]), fontsize=7)
            ax.tick_params(labelsize=6)
            if t == 0:
                ax.legend(fontsize=6, frameon=False)
    axm = fig.add_subplot(gs[-1, : max(1, ncol // 2)])
    axf = fig.add_subplot(gs[-1, max(1, ncol // 2):] if ncol > 1 else gs[-1, 0])
    for k, (name, g) in enumerate(groups):
        t = g["times"][()]
        axm.plot(t, g["data_mean"][()], "o", color="C%d" % k, label="%s data" % name)
        axm.plot(t, g["model_mean"][()], "-", color="C%d" % k, label="%s model" % name)
        axf.plot(t, g["data_fano"][()], "o", color="C%d" % k, label="%s data" % name)
        axf.plot(t, g["model_fano"][()], "-", color="C%d" % k, label="%s model" % name)
    for ax, lab in ((axm, "mean"), (axf, "Fano factor")):
        ax.set_xlabel("time")
        ax.set_ylabel(lab)
        ax.legend(fontsize=7, frameon=False)
    title = title_of(top)
    if title:
        fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print("Wrote %s" % path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--observable", help="only this observable (default: all in /result/fit)")
    ap.add_argument("--png", help="draw the report into this PNG file")
    a = ap.parse_args()
    with h5py.File(a.file, "r") as f:
        top, fit = fit_groups(f)
        names = [a.observable] if a.observable else sorted(fit.keys())
        for n in names:
            if n not in fit:
                sys.exit("%s: no /%s/fit/%s (have: %s)" % (a.file, top.name.strip("/"), n, ", ".join(fit.keys())))
        groups = [(n, fit[n]) for n in names]
        for n, g in groups:
            print_table(n, g)
        if "identifiability" in top.attrs:
            print(attr_str(top.attrs["identifiability"]).rstrip())
        if a.png:
            draw(a.png, top, groups)


if __name__ == "__main__":
    main()
