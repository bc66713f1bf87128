#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""True vs fitted rates with the fit's 95% intervals.

    compare_truth.py FIT.h5 --truth k1=v1,k2=v2,... [--quiet]

Reads /result/parameters (attribute names) and /result/ci95 [P x 2] (rate units; +-inf or NaN
where the fit is not identifiable) and prints one line per fitted rate: true value, estimate,
relative error, interval, whether the interval is finite (identifiable) and covers the truth.
The last line counts them: "covered C of I identifiable rates (U not identifiable)".
"""
import argparse
import math

import h5py
import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("fit")
    ap.add_argument("--truth", required=True)
    ap.add_argument("--quiet", action="store_true", help="only the counting line")
    args = ap.parse_args()
    truth = {}
    for item in args.truth.split(","):
        k, v = item.split("=")
        truth[k.strip()] = float(v)
    with h5py.File(args.fit, "r") as f:
        ds = f["/result/parameters"]
        est = ds[:]
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in ds.attrs["names"]]
        ci = f["/result/ci95"][:] if "/result/ci95" in f else np.full((len(est), 2), np.nan)
    covered = ident = unident = 0
    if not args.quiet:
        print("%-10s %11s %11s %9s %23s  %s" % ("parameter", "true", "fitted", "rel.err", "95% interval", "covers"))
    for name, e, (lo, hi) in zip(names, est, ci):
        t = truth.get(name, math.nan)
        finite = math.isfinite(lo) and math.isfinite(hi) and lo > 0
        cov = finite and lo <= t <= hi
        if finite:
            ident += 1
            covered += cov
        else:
            unident += 1
        if not args.quiet:
            iv = "[%.4g, %.4g]" % (lo, hi) if finite else "not identifiable"
            print("%-10s %11.4g %11.4g %+8.1f%% %23s  %s" % (name, t, e, 100 * (e / t - 1), iv, ("yes" if cov else "NO") if finite else "-"))
    print("covered %d of %d identifiable rates (%d not identifiable)" % (covered, ident, unident))


if __name__ == "__main__":
    main()
