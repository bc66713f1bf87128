#!/usr/bin/env python3
"""Telegraph regimes (issue 6): relative error of every fitted rate in every regime, from the
distributions and from the first three moments, against what the data can identify at all.

    telegraph_regimes.py FIT.h5 FSP.h5 [--data DATA.h5 | --ncells N] [--threshold 0.05]
                         [--png telegraph_regimes.png]

FIT.h5  the fit study (members <truth>_dist and <truth>_mom, truth = on<k_on>_off<k_off>_tx<k_tx>);
FSP.h5  the FSP study (members <truth>: /fsp/times, distribution/M [T x B], sensitivity/M [T x B x P]);
DATA.h5 the data study, only for the number of cells of each data set (else --ncells, 20000).
A study file holds /members/<name>/...; a single standalone output (no /members) is read as one
member named after its file. Missing members are skipped (scaled-down runs).

Identifiability. For N cells counted at every sample time (treated as independent snapshots), the
Fisher information of the log-rates is I = N sum_t sum_x (dp/dtheta)(dp/dtheta)^T / p, and the
Cramer-Rao bound of the relative sd of a rate is sqrt((I^-1)_ii). For the moments, the best any
estimator from the first three moments at those times can do (optimally weighted, delta method) is
I_mom = N sum_t J_t^T C_t^-1 J_t, with J_t the derivatives of the raw moments E[M^k] (k = 1..3) and
C_t their covariance (E[M^(j+k)] - E[M^j]E[M^k]). A rate is called identifiable by a loss when its
bound is <= --threshold (default 5%: an efficient estimator is then within 10% with ~95% probability).
The bounds are optimistic: the same cells are counted at every time, the loss is not the likelihood,
and the fit adds Monte Carlo noise; they say what no estimator can beat.
"""
import argparse
import re
import sys

import h5py
import numpy as np

RATES = ("k_on", "k_off", "k_tx")
TRUTH_RE = re.compile(r"on([0-9.eE+-]+)_off([0-9.eE+-]+)_tx([0-9.eE+-]+)")
LOSSES = (("dist", "distributions"), ("mom", "3 moments"))


def members(path):
    """{name: h5py group} of a study file, or of a single standalone output."""
    f = h5py.File(path, "r")
    if "members" in f:
        return {k: f["members"][k] for k in f["members"]}
    name = path.rsplit("/", 1)[-1].rsplit(".h5", 1)[0]
    return {name: f["/"]}


def truth_of(name):
    m = TRUTH_RE.search(name)
    if not m:
        return None
    return m.group(0), np.array([float(m.group(i)) for i in (1, 2, 3)])


def fisher(fsp, n_cells):
    """Fisher information (distributions, moments) of the log-rates, from one FSP member."""
    g = fsp["fsp"]
    p = np.asarray(g["distribution/M"][...], dtype=float)  # T x B
    s = np.asarray(g["sensitivity/M"][...], dtype=float)  # T x B x P
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in g.attrs.get("fit_names", RATES)]
    if any(k not in names for k in RATES):
        sys.exit(f"FSP member without sensitivities to {', '.join(RATES)} (has {names}): run it with -stgssa_fit k_on,k_off,k_tx")
    s = s[:, :, [names.index(k) for k in RATES]]  # log-rates in RATES order
    P = s.shape[2]
    Id = np.zeros((P, P))
    Im = np.zeros((P, P))
    last = (None, None)  # the last sample time alone (near stationarity)
    x = np.arange(p.shape[1], dtype=float)
    X = np.stack([x, x**2, x**3])
    for t in range(p.shape[0]):
        m = p[t] > 1e-300
        Id += n_cells * (s[t][m].T / p[t][m]) @ s[t][m]
        mu = X @ p[t]
        J = X @ s[t]
        E = np.array([[(x ** (a + b)) @ p[t] for b in (1, 2, 3)] for a in (1, 2, 3)])
        C = E - np.outer(mu, mu)
        # scale rows/cols to unit diagonal so the solve is well conditioned (moments differ by 10^5)
        d = np.sqrt(np.maximum(np.diag(C), 1e-300))
        Cn = C / np.outer(d, d)
        Jn = J / d[:, None]
        Imt = n_cells * Jn.T @ np.linalg.pinv(Cn, rcond=1e-12) @ Jn
        Im += Imt
        last = (n_cells * (s[t][m].T / p[t][m]) @ s[t][m], Imt)
    return Id, Im, last


def crlb(I):
    try:
        v = np.diag(np.linalg.inv(I))
        return np.sqrt(np.where(v > 0, v, np.inf))
    except np.linalg.LinAlgError:
        return np.full(I.shape[0], np.inf)


def fitted(member):
    """(rates in RATES order, iterate average of the last quarter) or None."""
    if "result" not in member or "parameters" not in member["result"]:
        return None
    r = member["result/parameters"]
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in r.attrs["names"]]
    val = dict(zip(names, np.asarray(r[...], dtype=float)))
    out = np.array([val.get(k, np.nan) for k in RATES])
    avg = np.full(3, np.nan)
    if "history" in member and "theta" in member["history"]:
        th = np.asarray(member["history/theta"][...], dtype=float)
        fn = member["history"].attrs.get("fit_names", names)
        fn = [n.decode() if isinstance(n, bytes) else str(n) for n in fn]
        if th.ndim == 2 and len(th) >= 4:
            a = dict(zip(fn, np.exp(th[-(len(th) // 4):].mean(axis=0))))
            avg = np.array([a.get(k, np.nan) for k in RATES])
    return out, avg


def ncells_of(data_path, default):
    if not data_path:
        return {}, default
    out = {}
    for name, g in members(data_path).items():
        if "run" in g and "ntraj" in g["run"].attrs:
            out[name] = float(g["run"].attrs["ntraj"])
    return out, default


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("fit")
    ap.add_argument("fsp")
    ap.add_argument("--data", help="data study (number of cells per data set)")
    ap.add_argument("--ncells", type=float, default=20000, help="cells per sample time if --data is not given")
    ap.add_argument("--threshold", type=float, default=0.05, help="largest CRLB relative sd of an identifiable rate")
    ap.add_argument("--png", help="figure of |relative error| per rate per regime")
    a = ap.parse_args(argv)

    fits = members(a.fit)
    fsps = members(a.fsp)
    ncell, n_default = ncells_of(a.data, a.ncells)

    truths = {}
    for name in list(fits) + list(fsps):
        t = truth_of(name)
        if t:
            truths[t[0]] = t[1]
    order = sorted(truths, key=lambda k: tuple(truths[k]))
    rows = []
    for key in order:
        tr = truths[key]
        row = {"key": key, "truth": tr, "crlb": {}, "fit": {}, "avg": {}}
        if key in fsps and "fsp" in fsps[key]:
            Id, Im, (Idl, Iml) = fisher(fsps[key], ncell.get(key, n_default))
            row["crlb"] = {"dist": crlb(Id), "mom": crlb(Im)}
            row["crlb_last"] = {"dist": crlb(Idl), "mom": crlb(Iml)}
        for suf, _ in LOSSES:
            m = fits.get(f"{key}_{suf}")
            if m is not None:
                r = fitted(m)
                if r is not None:
                    row["fit"][suf], row["avg"][suf] = r
        rows.append(row)
    if not rows:
        sys.exit(f"{a.fit}, {a.fsp}: no member named on<k_on>_off<k_off>_tx<k_tx>[_dist|_mom]")

    thr = a.threshold
    print(f"fit study {a.fit}, FSP study {a.fsp}; identifiable: CRLB relative sd <= {100 * thr:g}% "
          f"({'cells from ' + a.data if a.data else f'{n_default:g} cells'} per sample time)")
    print("relative errors in %, final iterate (in brackets: mean of the last quarter of the iterates);"
          " '*' = not identifiable by that loss (CRLB above the threshold)")
    hdr = f"{'regime':<20} {'rate':<6} {'truth':>6} | {'CRLB d%':>7} {'fit dist':>9} {'err d%':>15} | " \
          f"{'CRLB m%':>7} {'fit mom':>9} {'err m%':>15}"
    print(hdr)
    print("-" * len(hdr))
    errs = {s: [] for s, _ in LOSSES}
    errs_avg = {s: [] for s, _ in LOSSES}
    errs_all = {s: [] for s, _ in LOSSES}
    for row in rows:
        for i, k in enumerate(RATES):
            line = f"{row['key'] if i == 0 else '':<20} {k:<6} {row['truth'][i]:>6g} |"
            for suf, _ in LOSSES:
                c = row["crlb"].get(suf)
                cs = f"{100 * c[i]:7.1f}" if c is not None and np.isfinite(c[i]) else f"{'-' if c is None else 'inf':>7}"
                ident = c is not None and c[i] <= thr
                if suf in row["fit"]:
                    e = row["fit"][suf][i] / row["truth"][i] - 1
                    ea = row["avg"][suf][i] / row["truth"][i] - 1
                    es = f"{100 * e:+6.1f}{'' if ident else '*'}".ljust(7) + f" [{100 * ea:+5.1f}]"
                    line += f" {cs} {row['fit'][suf][i]:9.4g} {es:>15} |"
                    errs_all[suf].append(abs(e))
                    if ident:
                        errs[suf].append(abs(e))
                        errs_avg[suf].append(abs(ea))
                else:
                    line += f" {cs} {'-':>9} {'-':>15} |"
            print(line.rstrip("|"))
    print()
    for suf, label in LOSSES:
        n_ident = sum(1 for r in rows if suf in r["crlb"] for i in range(3) if r["crlb"][suf][i] <= thr)
        n_tot = sum(3 for r in rows if suf in r["crlb"])
        if errs[suf]:
            print(f"{label:>13}: median |rel. error| over {len(errs[suf])} identifiable fitted rates "
                  f"{100 * np.median(errs[suf]):.1f}% (iterate average {100 * np.nanmedian(errs_avg[suf]):.1f}%), "
                  f"90th percentile {100 * np.percentile(errs[suf], 90):.1f}%; over all {len(errs_all[suf])} fitted rates "
                  f"{100 * np.median(errs_all[suf]):.1f}%; identifiable: {n_ident} of {n_tot} (regime, rate)")
        else:
            print(f"{label:>13}: no fitted identifiable rate")
    both = [r["key"] for r in rows if "dist" in r["crlb"] and np.all(r["crlb"]["dist"] <= thr)]
    print(f"regimes with every rate identifiable from the distributions: {len(both)} of "
          f"{sum(1 for r in rows if 'dist' in r['crlb'])}")
    for suf, label in LOSSES:
        bad = [f"{r['key']}:{RATES[i]}({100 * r['crlb'][suf][i]:.0f}%)" for r in rows if suf in r["crlb"]
               for i in range(3) if not r["crlb"][suf][i] <= thr]
        print(f"not identifiable from the {label}: " + (", ".join(bad) if bad else "none"))

    T = None
    for r in rows:
        if r["key"] in fsps and "fsp" in fsps[r["key"]]:
            T = fsps[r["key"]]["fsp/times"][-1]
            break
    for suf, label in LOSSES:
        cnt = [sum(1 for r in rows if "crlb_last" in r and r["crlb_last"][suf][i] <= thr) for i in range(3)]
        print(f"for comparison, the {label} at the last time t = {T:g} alone (close to stationary) identify "
              + ", ".join(f"{k} in {c}" for k, c in zip(RATES, cnt))
              + f" of {sum(1 for r in rows if 'crlb_last' in r)} regimes")

    if a.png:
        plot(rows, thr, a.png)
        print(f"wrote {a.png}")


def plot(rows, thr, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    ons = sorted({r["truth"][0] for r in rows})
    offs = sorted({r["truth"][1] for r in rows})
    txs = sorted({r["truth"][2] for r in rows})
    pairs = [(on, off) for on in ons for off in offs]
    fig, axes = plt.subplots(2, 3, figsize=(11, 2.2 + 0.42 * len(pairs) * 2), sharey=True, constrained_layout=True)
    norm = LogNorm(vmin=1e-3, vmax=1.0)
    for li, (suf, label) in enumerate(LOSSES):
        for ri, rate in enumerate(RATES):
            ax = axes[li, ri]
            Z = np.full((len(pairs), len(txs)), np.nan)
            for r in rows:
                yi = pairs.index((r["truth"][0], r["truth"][1]))
                xi = txs.index(r["truth"][2])
                if suf in r["fit"]:
                    Z[yi, xi] = max(abs(r["fit"][suf][ri] / r["truth"][ri] - 1), 1e-3)
            ax.set_facecolor("0.85")
            im = ax.imshow(np.clip(Z, 1e-3, 1.0), norm=norm, cmap="viridis", aspect="auto")
            for r in rows:
                yi = pairs.index((r["truth"][0], r["truth"][1]))
                xi = txs.index(r["truth"][2])
                c = r["crlb"].get(suf)
                ident = c is not None and c[ri] <= thr
                if suf in r["fit"]:
                    e = r["fit"][suf][ri] / r["truth"][ri] - 1
                    txt = f"{100 * e:+.0f}%" if abs(e) < 10 else f"{e + 1:.0f}x"
                    ax.text(xi, yi - (0.12 if not ident else 0), txt, ha="center", va="center", fontsize=7,
                            color="w" if abs(e) < 0.1 else "k")
                else:
                    ax.text(xi, yi, "no fit", ha="center", va="center", fontsize=6, color="0.4")
                if c is not None and not ident:
                    ax.add_patch(plt.Rectangle((xi - 0.5, yi - 0.5), 1, 1, fill=False, hatch="///",
                                               edgecolor="r", lw=0))
                    ax.text(xi, yi + 0.28, f"CRLB {100 * c[ri]:.0f}%", ha="center", va="center", fontsize=6, color="r")
            ax.set_xticks(range(len(txs)))
            ax.set_xticklabels([f"{t:g}" for t in txs])
            ax.set_xlabel("k_tx")
            ax.set_yticks(range(len(pairs)))
            ax.set_yticklabels([f"on {p[0]:g}, off {p[1]:g}" for p in pairs], fontsize=8)
            ax.set_title(f"{rate}, from {label}", fontsize=10)
    cb = fig.colorbar(im, ax=axes, shrink=0.6, label="|relative error| (final iterate)")
    fig.suptitle(f"Telegraph regimes: relative error per rate; red hatching = not identifiable "
                 f"(Cramer-Rao relative sd > {100 * thr:g}%), grey = no fit", fontsize=10)
    fig.savefig(png, dpi=120)


if __name__ == "__main__":
    main()
