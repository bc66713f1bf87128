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
