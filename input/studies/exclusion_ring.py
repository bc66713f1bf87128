#!/usr/bin/env python3
"""Write the model and options of the large exclusion-ring design (every forward rate fitted).

    exclusion_ring.py L [--N N] [--budget B] [--prefix input/studies/exclusion_ring100]
                        [--ntraj M] [--iterations I] [--tfinal T] [--count-from t0] [--penalty W]

Writes PREFIX.model (input/studies/exclusion_model.py's ASEP ring: L sites, N particles, hop_i
across bond i -> i+1 at the fitted rate p_i forward and the fixed q = 1 backward) and PREFIX.opts
(-stgssa_fit p0..p{L-1} with bounds on every one: P = L fitted rates). The design: maximize the
net current J of bond 0 under the activity budget B (loss -<J> + W (<A> - B)_+^2). On the ring
A = L J + 2 q W_walls with W_walls >= 1 the mean number of (empty, particle) walls, so no rates beat
    J* = (B - 2 q) / L,
reached as one bond slows down (p_s ~ J*) and the L - 1 others become fast: the particles queue
behind the slow bond, one wall. Near the optimum W_walls - 1 ~ J sum_{i != s} 1/(p_i - q) (a
particle or a hole in transit), so J / J* ~ 1 - (2/L) sum_{i != s} 1/(p_i - q): the fast rates
must reach ~ 40 q for 95%.

Optimizer (README "Large design"): Adam in log-rates with a constant step, fixed sample size,
result = mean of the iterates of the later half of the run (-stgssa_average 1 with
-stgssa_norm_test_eta 0.01, which dates the averaging's start at once: with eta 1 the slow bond's
large gradient keeps the norm test from ever failing, and the result would be the last iterate).
Why averaging: the fast rates' gradient, ~ J (2q/L) p/(p - q)^2 per log-rate, is far below the
score's noise (measured at the L = 100 end point of a 500-iteration run: standard error 0.015 per
rate with 1000 trajectories, signal 0.006 at p = 3 and 0.0002 at p = 40), so they drift up slowly
while random-walking by ~lr per step, and 1/(p - q) punishes the low excursions of the last
iterate; the slow bond's strong gradient (0.38 +- 0.008) flips sign at the budget, so the last
iterate's activity jitters by ~L J lr around B, on average below it (0.93 B measured).
Defaults (the README demonstration): N = L/2 (the homogeneous ring is then far from the bound:
J_hom(B) = B/L - 2 q N(L-N)/(L(L-1)) ~ B/L - 1/2), B = L/2 + 2 (J* = 1/2, about B = L/2 + 2 jumps
per unit time per trajectory), penalty W = 100 J*/B^2 (the L = 6 study's W = 1 at B = 8 scaled:
a 10% excess of activity then costs about J*; stiffer weights stall Adam, see exclusion.opts).
The start is exclusion_model.py's non-uniform profile (2, 0.8, 3, 1.5, 4, 1.2, 2.5, 0.6 cycled,
mean 1.94 q; --scale multiplies it: L = 100 uses 2, see below) with the particles queued on
sites 0..N-1, so the target,
bond 0 (site 0 -> 1), is the queue's back end. The finite-time objective counts J over
[t0, T] from a fixed start, and a transient can carry extra particles through bond 0: when the
queue moves forward by d sites, min(d, k + 1) extra particles cross a bond with k particles
behind it. At the back end k = 0 (one extra crossing at most); with the queue's front at bond 0
(--start front) or the particles spread evenly (--start spread) a design can gain up to ~N/(T - t0)
by relocating the queue across bond 0 inside the window (measured at L = 48: the SSA estimate
of J over [10, 40] reached 0.59 and 0.51 > J* = 0.5 within 120 iterations).
From the queue, current reaches bond 0 only when a hole has crossed the N occupied sites, at a
speed ~ (mean p - q): the start rates must let that happen well inside [0, T],
N / (1.94 SCALE - 1) <~ T/2. At L = 100 with N = 50 (T = 40) the unscaled profile left the SSA
current at ~0.05 for 70 iterations, and --scale 2 (J ~ 0.12, activity 27% above B) was brought
back below the budget by the penalty with every rate, J ~ 0 after 80 iterations; the shipped
L = 100 files use N = 25 and --scale 1.5 (J = 0.04, A = 33 at the start).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exclusion_model import START, model_text  # noqa: E402


def options_text(a, L, N, B, W, Jstar, model_path):
    names = [f"p{i}" for i in range(L)]
    c = N * (L - N) / (L * (L - 1))
    return "\n".join([
        f"# Large design: exclusion ring of L = {L} sites, N = {N} particles, every forward rate fitted",
        f"# (P = {L}). Written by input/studies/exclusion_ring.py " + " ".join(sys.argv[1:]) + ".",
        f"# Exact bound: J* = (B - 2q)/L = {Jstar:.6g}; homogeneous ring J_hom(B) = B/L - 2qc = {B / L - 2 * c:.6g}.",
        "#   mpirun -n 2 build/stgssa_hpc -options_file THIS_FILE",
        "#   /usr/bin/python3 postprocess/exclusion_design.py exclusion_ring.h5 --png design.png",
        f"-stgssa_model {model_path}",
        "-stgssa_mode optimize",
        "-stgssa_loss design",
        "-stgssa_design current",
        "-stgssa_design_pair hop_0",
        "-stgssa_fit " + ",".join(names),
        "-stgssa_bounds " + ",".join(f"{n}=1e-2:1e3" for n in names),
        f"-stgssa_budget_activity {B:g}",
        f"-stgssa_penalty {W:.3g}",
        "# score function: unbiased for the current and the activity (ST-GS sees no activity tangent)",
        "-stgssa_gradient score",
        f"-stgssa_ntraj {a.ntraj}",
        f"# J over [{a.count_from:g}, {a.tfinal:g}]: the first {a.count_from:g} time units let the queue settle",
        f"-stgssa_tfinal {a.tfinal:g}",
        f"-stgssa_count_from {a.count_from:g}",
        "-stgssa_observe X0",
        "-stgssa_seed 1",
        "-tao_type adam",
        f"-tao_adam_learning_rate {a.lr:g}",
        "-tao_adam_beta2 0.9",
        f"-tao_max_it {a.iterations}",
        "# fixed sample size; the result is the mean of the later half of the iterates (log-rates),",
        "# constant step: the last iterate jitters (the slow bond by ~lr in log-rate, the activity by",
        "# ~L J lr around B) and the fast rates random-walk; their average does not",
        "-stgssa_adaptive_ntraj 0",
        f"-stgssa_average {1 if a.average else 0}",
        "# with the sample size fixed the norm test only dates where the averaging may begin; the slow",
        "# bond's gradient keeps |g| above the noise of all the others, so eta 1 would never let it",
        "-stgssa_norm_test_eta 0.01",
        f"-tao_adam_decay_steps {a.decay_steps:g}",
        "-stgssa_stop_window 0",
        "-stgssa_output exclusion_ring.h5",
    ]) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("L", type=int)
    ap.add_argument("--N", type=int, help="particles (default L/2)")
    ap.add_argument("--budget", type=float, help="activity budget B (default L/2 + 2: J* = 1/2)")
    ap.add_argument("--penalty", type=float, help="W (default 100 J*/B^2)")
    ap.add_argument("--prefix", help="output prefix (default input/studies/exclusion_ringL)")
    ap.add_argument("--ntraj", type=int, default=1000)
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--tfinal", type=float, default=40)
    ap.add_argument("--count-from", type=float, default=10)
    ap.add_argument("--lr", type=float, default=0.2,
                    help="Adam learning rate (L = 100, averaged: 0.2 better than 0.3, whose SSA -loss per iteration stayed ~0.37; "
                         "L = 48, last iterate: 0.15 reached 0.942 J*, 0.1 0.902 in 300 iterations)")
    ap.add_argument("--start", choices=["queue", "front", "spread"], default="queue",
                    help="initial particles: one queue on sites 0..N-1 (default), one queue with its front at bond 0, or spread evenly")
    ap.add_argument("--average", type=int, choices=[0, 1], default=1,
                    help="result = mean of the later half of the iterates (default 1; 0: the last iterate)")
    ap.add_argument("--decay-steps", type=float, default=0, help="-tao_adam_decay_steps (default 0: constant step)")
    ap.add_argument("--scale", type=float, default=1.0, help="start rates p_i = SCALE x START_i")
    a = ap.parse_args()
    L = a.L
    N = a.N if a.N else L // 2
    B = a.budget if a.budget else L / 2 + 2
    assert 0 < N < L and B > 2
    Jstar = (B - 2) / L
    W = a.penalty if a.penalty else 100 * Jstar / B ** 2
    c = N * (L - N) / (L * (L - 1))
    prof = [START[i % len(START)] for i in range(L)]
    s = a.scale
    p = [round(s * v, 4) for v in prof]
    prefix = a.prefix or f"input/studies/exclusion_ring{L}"
    with open(prefix + ".model", "w") as f:
        f.write(model_text(L, N, p, start=a.start))
    with open(prefix + ".opts", "w") as f:
        f.write(options_text(a, L, N, B, W, Jstar, prefix + ".model"))
    print(f"wrote {prefix}.model and {prefix}.opts: L = {L}, N = {N}, B = {B:g}, J* = {Jstar:.6g}, W = {W:.3g}, start scale {s:.4g}")


if __name__ == "__main__":
    main()
