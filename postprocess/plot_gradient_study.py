#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Plot a gradient-quality study: per estimator and parameter, |bias| and standard deviation
relative to the exact (FSP) loss gradient, and the cost per unit variance.

usage: plot_gradient_study.py STUDY.h5 [--png out.png]
"""
import argparse

import h5py
import numpy as np


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study")
    ap.add_argument("--png", default=None)
    args = ap.parse_args()
    with h5py.File(args.study, "r") as f:
        g = f["study"]
        names = [text(n) for n in g.attrs["fit_names"]]
        exact = g["gradient_exact"][:]
        est = {k: (g["estimators"][k]["bias"][:], g["estimators"][k]["stddev"][:],
                   g["estimators"][k]["cost_per_unit_variance"][:])
               for k in g["estimators"]}
    order = sorted(est, key=lambda k: (not k.startswith("stgs"), float(k[5:-1]) if k.startswith("stgs") else 0.0, k))
    scale = np.maximum(np.abs(exact), 1e-12)
    print(f"{'estimator':<12}" + "".join(f" {n + ' bias/|g|':>16} {n + ' sd/|g|':>14}" for n in names))
    for k in order:
        b, s, _ = est[k]
        print(f"{k:<12}" + "".join(f" {bi / sc:>+16.3f} {si / sc:>14.3f}" for bi, si, sc in zip(b, s, scale)))
    if args.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        x = np.arange(len(order))
        w = 0.8 / len(names)
        for j, n in enumerate(names):
            axes[0].bar(x + j * w, [abs(est[k][0][j]) / scale[j] for k in order], w, label=f"|bias| {n}")
            axes[0].scatter(x + j * w, [est[k][1][j] / scale[j] for k in order], marker="_", s=200, color="k")
            axes[1].bar(x + j * w, [est[k][2][j] for k in order], w, label=n)
        for a in axes:
            a.set_xticks(x + 0.4 - w / 2)
            a.set_xticklabels(order, rotation=30)
            a.set_yscale("log")
            a.legend(fontsize=8)
        axes[0].set_title("relative |bias| (bars) and std. dev. (dashes)")
        axes[1].set_title("cost per unit variance (var x s)")
        fig.tight_layout()
        fig.savefig(args.png, dpi=110)
        print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
