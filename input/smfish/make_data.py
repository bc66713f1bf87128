#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Synthetic smFISH time course: independent cells drawn from the exact distributions.

    make_data.py FSP.h5 OUT.csv [--seed S] [--species rna] [--header time]

FSP.h5 is the output of `stgssa_hpc -stgssa_mode fsp` at the true rates (see
input/smfish/README or scripts/run-smfish.sh): /fsp/times [T] and /fsp/distribution/<species>
[T x B]. At the i-th time, CELLS[i] cells are drawn independently from that distribution (as in
smFISH, every time point is a separate population of fixed cells), so the data have no
correlation across times and the likelihood is exactly a product over cells. CELLS is unequal
per time (385..1930, as in the published data sets this mimics). The CSV has the columns
`time,<species>` (the time header can be changed to test data loading, e.g. `Time`).
"""
import argparse
import sys

import h5py
import numpy as np

# cells per time: unequal, as in a real experiment (more cells early and at the peak)
CELLS = [1930, 1210, 880, 1540, 640, 1120, 385, 990, 1480, 720, 860, 1305, 505, 940, 1100, 610]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("fsp")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--species", default="rna")
    ap.add_argument("--header", default="time", help="name of the time column")
    args = ap.parse_args()
    with h5py.File(args.fsp, "r") as f:
        times = f["/fsp/times"][:]
        dist = f["/fsp/distribution/" + args.species][:]
    if len(times) > len(CELLS):
        sys.exit("make_data.py: %d times, at most %d supported" % (len(times), len(CELLS)))
    rng = np.random.default_rng(args.seed)
    rows = []
    for i, t in enumerate(times):
        p = np.clip(dist[i], 0, None)
        p /= p.sum()  # the projection's lost mass (<= its tolerance) is renormalized away
        counts = rng.choice(len(p), size=CELLS[i], p=p)
        rows.extend((t, int(c)) for c in counts)
    with open(args.out, "w") as f:
        f.write("%s,%s\n" % (args.header, args.species))
        for t, c in rows:
            f.write("%.10g,%d\n" % (t, c))
    print("%s: %d times, %d cells (%d..%d per time), seed %d" % (args.out, len(times), len(rows), min(CELLS[: len(times)]), max(CELLS[: len(times)]), args.seed))


if __name__ == "__main__":
    main()
