#!/usr/bin/env python3
"""Write the exclusion-process model file input/studies/exclusion_L{L}.model.

Asymmetric simple exclusion process on a ring of L sites with N particles: species X_i
(particle at site i) and E_i (site i empty), X_i + E_i = 1 at all times. Bond i joins site i to
site i+1 (mod L); the labelled pair hop_i moves a particle forward at rate p_i and backward at
the fixed rate q (the time unit). Only p_i are fitted; q stays fixed.

    usage: exclusion_model.py L N [p0,p1,...]   (default start: non-uniform, see START)
"""
import sys

START = [2.0, 0.8, 3.0, 1.5, 4.0, 1.2, 2.5, 0.6]  # non-uniform start of the p_i (cycled)


def occupied(L, N, start):
    """Initial particles: 'queue' sites 0..N-1; 'front' sites L-N+1..L-1 and 0 (one queue whose
    front particle stands at bond 0); 'spread' N sites evenly over the ring."""
    if start == "queue":
        return [i < N for i in range(L)]
    if start == "front":
        return [i == 0 or i > L - N for i in range(L)]
    return [(i + 1) * N // L > i * N // L for i in range(L)]


def model_text(L, N, p, start="queue"):
    c = N * (L - N) / (L * (L - 1))
    x = occupied(L, N, start)
    out = [f"# Asymmetric simple exclusion process (ASEP) on a ring of L = {L} sites, N = {N} particles.",
           "# Written by input/studies/exclusion_model.py. X_i: particle at site i, E_i: site i empty.",
           "# hop_i: forward hop across bond i -> i+1 (mod L) at rate p_i, backward at the fixed rate q.",
           "# The net current J of hop_0 is the design target (-stgssa_design_pair hop_0); activity =",
           "# all jumps per unit time. Exact facts used by postprocess/exclusion_pareto.py:",
           "#   J = p_i r10_i - q r01_i on every bond (r10_i = P(X_i=1, E_{i+1}=1), r01_i likewise),",
           "#   activity A = sum_i (p_i r10_i + q r01_i) = L J + 2 q W,  W = sum_i r01_i = mean number",
           "#   of (empty, particle) walls, W >= 1 for 0 < N < L. Homogeneous ring (uniform stationary",
           f"#   measure): r10 = r01 = N(L-N)/(L(L-1)) = {c:.6g}, so J_hom(B) = B/L - 2 q N(L-N)/(L(L-1)),",
           "#   and the best any rates can do is J* = (B - 2 q)/L (one wall: the particles queued).",
           "begin parameters"]
    for i in range(L):
        out.append(f"  p{i}  {p[i]:g}")
    out.append("  q   1")
    out += ["end parameters", "begin species"]
    for i in range(L):
        out.append(f"  X{i}  {int(x[i])}")
    for i in range(L):
        out.append(f"  E{i}  {1 - int(x[i])}")
    out += ["end species", "begin reactions"]
    for i in range(L):
        j = (i + 1) % L
        out.append(f"  hop_{i}: X{i} + E{j} <-> E{i} + X{j}   p{i}, q")
    out.append("end reactions")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    L, N = int(sys.argv[1]), int(sys.argv[2])
    p = [float(v) for v in sys.argv[3].split(",")] if len(sys.argv) > 3 else [START[i % len(START)] for i in range(L)]
    assert len(p) == L and 0 < N < L
    sys.stdout.write(model_text(L, N, p))
