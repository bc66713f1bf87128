#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Write input/studies/ring_N{3..6}.model: a unicyclic ring of N states, one species per state
(S1 = 1 initially), labelled pairs bond_i: S_i <-> S_{i+1} with rates kp_i, km_i (all 1)."""
import os
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "input", "studies")
for n in range(3, 7):
    lines = [f"# unicyclic ring of {n} states (written by scripts/make_ring_models.py)",
             "# cycle affinity A = sum_i log(kp_i/km_i); bond1 carries the design current",
             "begin parameters"]
    lines += [f"  kp{i}  1" for i in range(1, n + 1)] + [f"  km{i}  1" for i in range(1, n + 1)]
    lines += ["end parameters", "begin species"]
    lines += [f"  S{i}  {1 if i == 1 else 0}" for i in range(1, n + 1)]
    lines += ["end species", "begin reactions"]
    lines += [f"  bond{i}: S{i} <-> S{i % n + 1}   kp{i}, km{i}" for i in range(1, n + 1)]
    lines += ["end reactions"]
    path = os.path.join(root, f"ring_N{n}.model")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(path, file=sys.stderr)

# ---- the TUR inverse-design study table input/studies/ring_tur.csv (base options: ring_tur.opts)
# One member per (N, A). kp1 = 1 is held fixed (Q is invariant under a common rate scale; this
# removes the flat direction); the other 2N-1 rates are fitted and km_N is the dependent of the
# affinity constraint log km_N = sum_i log kp_i - sum_{i<N} log km_i - A (log kp1 = 0).
# Start: log kp_i, log km_i + A/N uniform in [-1, 1] (deterministic per member), km_N from the
# constraint. Bounds: every free log-rate within +-BOX of its reference (0 for kp, -A/N for km),
# which keeps the finite-T objective away from its degenerate "frozen ring" maxima.
import math
import random

BOX = 1.5
rows = []
for n in range(3, 7):
    for a in (2, 4, 8, 16):  # A = 1 left out: the finite-T objective is ill-posed there (see ring_tur.opts)
        rnd = random.Random(1000 * n + 10 * a)
        lkp = [0.0] + [rnd.uniform(-1, 1) for _ in range(n - 1)]
        lkm = [-a / n + rnd.uniform(-1, 1) for _ in range(n - 1)]
        lkm.append(sum(lkp) - sum(lkm) - a)
        names = [f"kp{i}" for i in range(2, n + 1)] + [f"km{i}" for i in range(1, n + 1)]
        start = [f"kp{i + 1}={math.exp(v):.10g}" for i, v in enumerate(lkp)] + \
                [f"km{i + 1}={math.exp(v):.10g}" for i, v in enumerate(lkm)]
        rhs = "+".join(f"kp{i}" for i in range(2, n + 1)) + "".join(f"-km{i}" for i in range(1, n)) + f"-{a}"
        bounds = [f"kp{i}={math.exp(-BOX):.6g}:{math.exp(BOX):.6g}" for i in range(2, n + 1)] + \
                 [f"km{i}={math.exp(-a / n - BOX):.6g}:{math.exp(-a / n + BOX):.6g}" for i in range(1, n)]
        rows.append((f"N{n}_A{a}", f"input/studies/ring_N{n}.model", ",".join(names), f"km{n}={rhs}",
                     ",".join(start), ",".join(bounds)))
with open(os.path.join(root, "ring_tur.csv"), "w") as f:
    f.write("# TUR inverse design on unicyclic rings at fixed cycle affinity A (written by scripts/make_ring_models.py)\n")
    f.write("# base options: ring_tur.opts; analysis: postprocess/ring_tur.py\n")
    f.write("name,-stgssa_model,-stgssa_fit,-stgssa_log_constraint,-stgssa_parameters,-stgssa_bounds\n")
    for r in rows:
        f.write(",".join(f'"{c}"' if "," in c else c for c in r) + "\n")
