#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Spread of the telegraph fit from live-cell traces, with the exact moments (no SSA): how well do
n cells pin k_on, k_off, k_tx under -stgssa_loss correlation? For each seed, writes a data set with
input/make_telegraph_traces.py, computes the data statistics as the run does (means with sd/sqrt(n),
Cov(M(t), M(t+tau)) with sd(z)/sqrt(n), z_c = (M_c(t) - mean)(M_c(t+tau) - mean)), and minimises the
same reduced chi-square against the exact model (Nelder-Mead on log rates, start 1, 1, 10).

Exact moments from G_off = 1, M = 0 at t = 0 (G in {0,1}, so G^2 = G), y = (E G, E M, E GM, E M^2):
  dEG/dt = k_on (1 - EG) - k_off EG,            dEM/dt = k_tx EG - g EM,
  dEGM/dt = k_on (EM - EGM) - (k_off + g) EGM + k_tx EG,
  dEM2/dt = k_tx (2 EGM + EG) + g (EM - 2 EM2).
Two times: E[M(t+tau) | G, M at t] = a M + b G + c, a = e^{-g tau}, k = k_on + k_off, G_inf = k_on/k,
  b = k_tx (e^{-k tau} - e^{-g tau})/(g - k), c = k_tx G_inf (1 - e^{-g tau})/g - G_inf b,
so E[M(t) M(t+tau)] = a EM2(t) + b EGM(t) + c EM(t).

usage: telegraph_traces_spread.py [--cells 3000] [--seeds 5] [--dt 0.5] [--tfinal 10] [--lags 11]
"""
import argparse, os, subprocess, sys, tempfile
import numpy as np
from scipy.linalg import expm
from scipy.optimize import minimize

TRUTH = np.array([0.5, 2.0, 20.0])


def load(fn):
    d = np.loadtxt(fn, delimiter=",", comments="#", skiprows=2)
    cells, times = np.unique(d[:, 0]), np.unique(d[:, 1])
    return times, d[:, 2].reshape(len(cells), len(times))


def data_stats(X, L):
    n, T = X.shape
    mean, mse = X.mean(0), X.std(0, ddof=1) / np.sqrt(n)
    cov, cse = np.full((T, L), np.nan), np.full((T, L), np.nan)
    for i in range(T):
        for l in range(min(L, T - i)):
            z = (X[:, i] - mean[i]) * (X[:, i + l] - mean[i + l])
            cov[i, l], cse[i, l] = z.sum() / (n - 1), z.std(ddof=1) / np.sqrt(n)
    return mean, mse, cov, cse


def model(th, times, L, g=1.0):
    kon, koff, ktx = th
    A = np.zeros((5, 5))  # y = (EG, EM, EGM, EM2, 1)
    A[0, 0], A[0, 4] = -(kon + koff), kon
    A[1, 0], A[1, 1] = ktx, -g
    A[2, 0], A[2, 1], A[2, 2] = ktx, kon, -(kon + koff + g)
    A[3, 0], A[3, 1], A[3, 2], A[3, 3] = ktx, g, 2 * ktx, -2 * g
    dt = times[1] - times[0]
    E, y, Y = expm(A * dt), np.array([0, 0, 0, 0, 1.0]), np.zeros((len(times), 5))
    for i in range(len(times)):
        Y[i], y = y, E @ y
    k = kon + koff
    ginf, T = kon / k, len(times)
    cov = np.full((T, L), np.nan)
    for l in range(L):
        tau = l * dt
        a = np.exp(-g * tau)
        b = ktx * (np.exp(-k * tau) - np.exp(-g * tau)) / (g - k)
        c = ktx * ginf * (1 - np.exp(-g * tau)) / g - ginf * b
        for i in range(T - l):
            cov[i, l] = a * Y[i, 3] + b * Y[i, 2] + c * Y[i, 1] - Y[i, 1] * Y[i + l, 1]
    return Y[:, 1], cov


def loss(th, times, st, L):
    mean, mse, cov, cse = st
    mm, mc = model(th, times, L)
    ok1, ok2 = mse > 0, np.isfinite(cov) & (cse > 0)  # terms with SE 0 are left out, as in the run
    r = np.concatenate([(mm - mean)[ok1] / mse[ok1], (mc - cov)[ok2] / cse[ok2]])
    return (r ** 2).sum() / len(r)


def fit(times, st, L, start=(1.0, 1.0, 10.0)):
    res = minimize(lambda x: loss(np.exp(x), times, st, L), np.log(start), method="Nelder-Mead",
                   options=dict(xatol=1e-6, fatol=1e-9, maxiter=5000))
    return np.exp(res.x), res.fun


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", type=int, default=3000)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--dt", type=float, default=0.5)
    ap.add_argument("--tfinal", type=float, default=10.0)
    ap.add_argument("--lags", type=int, default=11)
    a = ap.parse_args()
    gen = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "input", "make_telegraph_traces.py")
    rel = []
    with tempfile.TemporaryDirectory() as tmp:
        for s in range(1, a.seeds + 1):
            fn = os.path.join(tmp, "t.csv")
            subprocess.run([sys.executable, gen, "--cells", str(a.cells), "--seed", str(s), "--dt", str(a.dt),
                            "--tfinal", str(a.tfinal), "--out", fn], check=True)
            times, X = load(fn)
            st = data_stats(X, a.lags)
            th, fv = fit(times, st, a.lags)
            rel.append(th / TRUTH - 1)
            print("seed %d: fit k_on %.4f k_off %.4f k_tx %.3f (rel %+.3f %+.3f %+.3f), loss %.4f, at the truth %.4f"
                  % ((s,) + tuple(th) + tuple(rel[-1]) + (fv, loss(TRUTH, times, st, a.lags))), flush=True)
    rel = np.array(rel)
    print("cells %d: mean rel error k_on %+.3f k_off %+.3f k_tx %+.3f; sd %.3f %.3f %.3f"
          % ((a.cells,) + tuple(rel.mean(0)) + tuple(rel.std(0, ddof=1) if len(rel) > 1 else (np.nan,) * 3)))


if __name__ == "__main__":
    main()
