#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Table of true vs recovered rates of an optimize run, and its loss curve.

The truth is read from the data file written by simulate mode (its /run model_text with any
-stgssa_parameters override); the fit from /result and /history of the optimize output.

usage: fit_summary.py FIT.h5 DATA.h5 [--png loss.png]
"""
import argparse
import re

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


def parameters(run_attrs):
    """Rates of the run: the model's parameters section, then -stgssa_parameters overrides."""
    params, inside = {}, False
    for line in text(run_attrs["model_text"]).splitlines():
        words = line.split("#", 1)[0].split()
        if words[:2] == ["begin", "parameters"]:
            inside = True
        elif words[:2] == ["end", "parameters"]:
            inside = False
        elif inside and len(words) == 2:
            params[words[0]] = float(words[1])
    m = re.search(r"-stgssa_parameters\s+(\S+)", text(run_attrs["options"]))
    if m:
        for item in m.group(1).split(","):
            name, value = item.split("=")
            params[name.strip()] = float(value)
    return params


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fit")
    ap.add_argument("data")
    ap.add_argument("--png", default=None)
    args = ap.parse_args()
    with h5py.File(args.data, "r") as f:
        truth = parameters(run_info(f["run"]))
    with h5py.File(args.fit, "r") as f:
        names = [text(n) for n in f["result/parameters"].attrs["names"]]
        rates = f["result/parameters"][:]
        loss = f["history/loss"][:]
        theta = f["history/theta"][:]
        start = parameters(run_info(f["run"]))
        ranks, evals = int(f["run"].attrs["ranks"]), int(f["run"].attrs["evaluations"])
        tao = text(f["run"].attrs["tao_type"])
    print(f"{args.fit}: {tao}, {len(loss) - 1} iterations, {evals} evaluations on {ranks} ranks; "
          f"loss {loss[0]:.4g} -> {loss[-1]:.4g}")
    print(f"{'parameter':<10} {'true':>10} {'start':>10} {'recovered':>10} {'rel. error':>11}")
    for name, value in zip(names, rates):
        t = truth.get(name, float("nan"))
        print(f"{name:<10} {t:>10.4g} {start.get(name, float('nan')):>10.4g} {value:>10.4g} {(value - t) / t:>+10.1%}")
    tail = np.exp(theta[-max(1, len(theta) // 5):])
    print("mean of the last 20% of iterates (Adam's noise averaged out):",
          ", ".join(f"{n} {v:.4g} ({(v - truth.get(n, np.nan)) / truth.get(n, np.nan):+.1%})" for n, v in zip(names, tail.mean(axis=0))))
    if args.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
        a1.semilogy(loss)
        a1.set_xlabel("iteration")
        a1.set_ylabel("loss")
        a1.set_title("loss")
        for k, name in enumerate(names):
            line, = a2.semilogy(np.exp(theta[:, k]), label=name)
            if name in truth:
                a2.axhline(truth[name], color=line.get_color(), ls="--", lw=0.8)
        a2.set_xlabel("iteration")
        a2.set_title("rates (dashed: truth)")
        a2.legend()
        fig.tight_layout()
        fig.savefig(args.png, dpi=110)
        print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
