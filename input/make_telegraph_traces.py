#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Synthetic live-cell traces of the telegraph model (input/telegraph.model: G_off <-> G_on at
k_on, k_off; G_on -> G_on + M at k_tx; M -> 0 at k_deg), exact SSA (Gillespie direct method) in
numpy, every cell from the model's initial state (G_off = 1, M = 0) at t = 0 (an induction
experiment), M read at the times 0, dt, ..., tfinal. Writes CSV cell,time,M.

usage: make_telegraph_traces.py [--cells 3000] [--seed 1] [--tfinal 10] [--dt 0.5]
                                [--k_on 0.5 --k_off 2 --k_tx 20 --k_deg 1] [--out FILE]
"""
import argparse
import numpy as np


def trace(rng, k_on, k_off, k_tx, k_deg, times):
    g_on, m, t = 0, 0, 0.0
    out = np.empty(len(times), dtype=np.int64)
    i = 0
    while i < len(times):
        a = np.array([k_on * (1 - g_on), k_off * g_on, k_tx * g_on, k_deg * m], dtype=float)
        a0 = a.sum()
        tau = rng.exponential(1.0 / a0)
        while i < len(times) and times[i] < t + tau:  # the state holds until the next jump
            out[i] = m
            i += 1
        t += tau
        j = rng.choice(4, p=a / a0)
        if j == 0:
            g_on = 1
        elif j == 1:
            g_on = 0
        elif j == 2:
            m += 1
        else:
            m -= 1
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tfinal", type=float, default=10.0)
    ap.add_argument("--dt", type=float, default=0.5)
    ap.add_argument("--k_on", type=float, default=0.5)
    ap.add_argument("--k_off", type=float, default=2.0)
    ap.add_argument("--k_tx", type=float, default=20.0)
    ap.add_argument("--k_deg", type=float, default=1.0)
    ap.add_argument("--out", default="telegraph_traces.csv")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    n = int(round(a.tfinal / a.dt))
    times = np.arange(n + 1) * a.dt
    with open(a.out, "w") as f:
        f.write("# telegraph model traces: k_on=%g k_off=%g k_tx=%g k_deg=%g, %d cells, seed %d "
                "(input/make_telegraph_traces.py)\n" % (a.k_on, a.k_off, a.k_tx, a.k_deg, a.cells, a.seed))
        f.write("cell,time,M\n")
        for c in range(a.cells):
            x = trace(rng, a.k_on, a.k_off, a.k_tx, a.k_deg, times)
            for t, v in zip(times, x):
                f.write("%d,%.10g,%d\n" % (c + 1, t, v))


if __name__ == "__main__":
    main()
