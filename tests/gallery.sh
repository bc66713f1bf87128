#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The model gallery (input/gallery/, issue 18): every model against an exact answer.
#  toggle_switch   SSA histograms of U and V at t = 1, 2, 5, 10, 20 (its options file) against the
#                  FSP (U, V <= 45, lost mass < 2e-8) by chi-square; the FSP marginal of U at
#                  t = 20 bimodal (two peaks, valley < half the lower one) and the SSA weight of
#                  the lower mode within 4 SE of the FSP's.
#  repressilator   SSA histograms of P1, P2, P3 at t = 0.1, 0.2 against the FSP on
#                  P1 <= 26, P2, P3 <= 18 (lost mass 2e-8), chi-square.
#  schlogl         the FSP stationary law (-stgssa_fsp_tol 1e-10: the steady solve returns the
#                  boundary's outflow at x0, which moves p by about that flux, 5e-5 at the default
#                  1e-6) = the birth-death product formula (1e-10); bimodal
#                  (modes 7 and 56, valley 28); the FSP transient at t = 150 from X = 25 equal to it
#                  (weight of X <= 28 to 1e-4); the SSA at t = 150 (its options file): weight of
#                  X <= 28 within 4 SE + 1e-4 of the stationary one, and chi-square vs the FSP at
#                  t = 10, 150.
#  lotka_volterra  SSA vs FSP (X <= 72, Y <= 64, lost mass 8e-9) at t = 0.25, 0.5: means within
#                  4 SE (z from the FSP variance), chi-square of X and Y.
#  sirs            SSA vs FSP (its options file: the 1326 states of S + I + R = 50, exact) at days
#                  5..60: chi-square of I; the fraction of paths absorbed in (50, 0, 0) by day 60
#                  (/run absorbed_trajectories) within 4 SE of the FSP's P(S = 50 at day 60).
#  kinetic_proofreading
#                  its options file (FSP, t = 30, 60): the error fraction from the increments of
#                  E[Pw], E[Pc] = 2/79 (closed form of the linear scheme's steady state) and the
#                  fluxes J_c, J_w to 1e-6; one turnover (products end the run: sed on the model):
#                  FSP P(first product wrong) = 2/79 to 1e-6, SSA within 4 SE.
#  growing_cell    (input/gallery/growing_cell.model, from the events part: division every cycle,
#                  binomial partitioning of M and P) its options file: the means of M and P over
#                  the last of 20 cycles within 4 SE of the cyclo-stationary closed form (the
#                  start's effect after 19 halvings: < 1e-5 relative); across the first division
#                  (t = 0.75..1.5) SSA vs the FSP's event map, chi-square of M and P.
#  every options file runs (simulate ones with few paths).
# Chi-square: SSA counts against N times the exact probabilities, bins pooled from the left until
# the expected count is >= 5 (the rest of the tail one bin); pass when the statistic is below the
# 1 - 1e-4 quantile of chi-square (Wilson-Hilferty, z = 3.719): a false failure has probability
# 1e-4 per comparison (about 30 comparisons: < 0.3% in all; the seeds are fixed, so a run either
# always passes or always fails). 4 SE: false failure ~6e-5 per comparison.
# Sizes: N = 8000 paths (schlogl 2000 on 2 ranks, proofreading 40000); under STGSSA_TEST_SCALE < 1
# (the sanitizer run) a quarter (schlogl 1000): the tests use their own standard errors, so they
# stay valid with less power.
# usage: gallery.sh STGSSA_HPC SOURCE_ROOT
set -u
n=8000 nsch=2000 nkp=40000
case ${STGSSA_TEST_SCALE:-1} in 0.*|.*) n=2000 nsch=1000 nkp=10000 ;; esac
export NSSA=$n NSCH=$nsch NKP=$nkp
exe=$1
root=$2
g=$root/input/gallery
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
pass=0
fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }
run() { # name ranks model [options...]
  name=$1; nr=$2; m=$3; shift 3
  if ! timeout 300 mpirun -n "$nr" --oversubscribe "$exe" "$@" -stgssa_model "$g/$m.model" -stgssa_output "$work/$name.h5" > "$work/$name.log" 2>&1; then
    bad "run $name:"; cat "$work/$name.log"; finish
  fi
}
check() { # what; python script on stdin (exit 0 = pass)
  if $py - "$work" > check.log 2>&1; then ok "$1: $(cat check.log)"; else bad "$1"; cat check.log; fi
}
cat > "$work/gal.py" << 'PY'
import math, h5py, numpy as np
def h(w, name, path):
    return h5py.File(w + "/" + name + ".h5", "r")[path][...]
def chi2(counts, p, N):
    """SSA counts (any length) against N*p; pooled bins; returns (statistic, df, threshold)"""
    L = max(len(counts), len(p))
    c = np.zeros(L); c[:len(counts)] = counts
    q = np.zeros(L); q[:len(p)] = p
    e = N * q
    stat, bins, acc_c, acc_e = 0.0, 0, 0.0, 0.0
    for i in range(L):
        acc_c += c[i]; acc_e += e[i]
        rest = N - (np.sum(e[:i + 1]))
        if acc_e >= 5 and rest >= 5:
            stat += (acc_c - acc_e) ** 2 / acc_e; bins += 1; acc_c = acc_e = 0.0
    acc_e = N - (np.sum(e) - acc_e)  # the tail bin: what the earlier bins do not hold (lost FSP mass included)
    stat += (acc_c - acc_e) ** 2 / acc_e; bins += 1
    df = bins - 1
    z = 3.719  # 1 - 1e-4 normal quantile
    thr = df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3
    return stat, df, thr
def compare(w, ssa, fsp, species, N, times=None):
    """chi-square of every species at every common time; returns (worst stat/threshold, text)"""
    worst, txt = 0.0, []
    st = h(w, ssa, "/simulate/times"); ft = h(w, fsp, "/fsp/times")
    for s in species:
        H = h(w, ssa, "/simulate/histograms/" + s); P = h(w, fsp, "/fsp/distribution/" + s)
        for i, t in enumerate(st):
            if times is not None and t not in times: continue
            j = int(np.argmin(np.abs(ft - t)))
            if abs(ft[j] - t) > 1e-12: raise SystemExit("no FSP time %g" % t)
            stat, df, thr = chi2(np.rint(H[i] * N), P[j], N)
            worst = max(worst, stat / thr); txt.append("%s@%g %.1f/%d" % (s, t, stat, df))
    return worst, txt
PY

# ---------------------------------------------------------------- toggle switch
run tog_ssa 1 toggle_switch -options_file "$g/toggle_switch.opts" -stgssa_ntraj $n -stgssa_seed 11
run tog_fsp 1 toggle_switch -options_file "$g/toggle_switch.opts" -stgssa_mode fsp -stgssa_fsp_max U=45,V=45 -stgssa_fit a
check "toggle switch: SSA vs FSP chi-square (U, V at 5 times), bimodal U at t = 20" << 'PY'
import os, sys; sys.path.insert(0, sys.argv[1]); from gal import *
w = sys.argv[1]; N = int(os.environ["NSSA"])
worst, txt = compare(w, "tog_ssa", "tog_fsp", ("U", "V"), N)
p = h(w, "tog_fsp", "/fsp/distribution/U")[-1]
peaks = [i for i in range(len(p)) if p[i] > 0.01 and (i == 0 or p[i] > p[i - 1]) and (i == len(p) - 1 or p[i] >= p[i + 1])]
ok = len(peaks) == 2
if ok:
    v = peaks[0] + int(np.argmin(p[peaks[0]:peaks[1] + 1]))
    ok = p[v] < 0.5 * min(p[peaks[0]], p[peaks[1]])
    wf = p[:v + 1].sum(); ws = h(w, "tog_ssa", "/simulate/histograms/U")[-1][:v + 1].sum()
    z = (ws - wf) / math.sqrt(wf * (1 - wf) / N)
print("largest chi2/threshold %.2f (%s); FSP peaks of U at %s, valley %d (p %.4f), weight of U <= %d: FSP %.4f SSA %.4f (z %.2f)"
      % (worst, ", ".join(txt[-2:]), peaks, v, p[v], v, wf, ws, z))
sys.exit(0 if worst < 1 and ok and abs(z) < 4 else 1)
PY

# ---------------------------------------------------------------- repressilator
rep="-stgssa_sample_times 0.1,0.2 -stgssa_tfinal 0.2"
run rep_ssa 1 repressilator -stgssa_mode simulate -stgssa_ntraj $n -stgssa_seed 12 $rep
run rep_fsp 1 repressilator -stgssa_mode fsp $rep -stgssa_fit a -stgssa_fsp_max P1=26,P2=18,P3=18 \
  -fsp_ksp_type gmres -fsp_pc_type ilu -fsp_ksp_rtol 1e-12
check "repressilator: SSA vs FSP chi-square (P1, P2, P3 at t = 0.1, 0.2)" << 'PY'
import os, sys; sys.path.insert(0, sys.argv[1]); from gal import *
w = sys.argv[1]; N = int(os.environ["NSSA"])
worst, txt = compare(w, "rep_ssa", "rep_fsp", ("P1", "P2", "P3"), N)
print("largest chi2/threshold %.2f (%s)" % (worst, ", ".join(txt)))
sys.exit(0 if worst < 1 else 1)
PY

# ---------------------------------------------------------------- Schloegl
run sch_ssa 2 schlogl -options_file "$g/schlogl.opts" -stgssa_ntraj $nsch -stgssa_seed 13
run sch_fsp 1 schlogl -options_file "$g/schlogl.opts" -stgssa_mode fsp -stgssa_fit c1
run sch_pi 1 schlogl -options_file "$g/schlogl.opts" -stgssa_mode fsp -stgssa_fsp_steady -stgssa_fsp_tol 1e-10 -stgssa_fit c1
check "Schloegl: FSP stationary = product formula, bimodal; SSA mode weights at t = 150 vs stationary" << 'PY'
import os, sys; sys.path.insert(0, sys.argv[1]); from gal import *
w = sys.argv[1]; N = int(os.environ["NSCH"])
c1, c2, c3, c4 = 0.09, 0.003, 6.0, 1.0
pi = h(w, "sch_pi", "/fsp/distribution/X")[0]
x = np.arange(len(pi), dtype=float)
lam = c1 * x * (x - 1) / 2 + c3; mu = c2 * x * (x - 1) * (x - 2) / 6 + c4 * x
lq = np.concatenate(([0.0], np.cumsum(np.log(lam[:-1]) - np.log(mu[1:]))))  # pi(x) ~ prod lam(y-1)/mu(y)
q = np.exp(lq - lq.max()); q /= q.sum()
e_pi = np.max(np.abs(pi - q))
peaks = [i for i in range(1, len(q) - 1) if q[i] > q[i - 1] and q[i] >= q[i + 1]]
v = peaks[0] + int(np.argmin(q[peaks[0]:peaks[-1] + 1])) if len(peaks) == 2 else -1
wpi = q[:v + 1].sum()
pT = h(w, "sch_fsp", "/fsp/distribution/X")[-1]
wT = pT[:v + 1].sum()
ws = h(w, "sch_ssa", "/simulate/histograms/X")[-1][:v + 1].sum()
z = (ws - wpi) / math.sqrt(wpi * (1 - wpi) / N)
worst, txt = compare(w, "sch_ssa", "sch_fsp", ("X",), N, times=(10.0, 150.0))
print("|FSP - product formula| %.1e; modes %s, valley %d (pi %.4f vs %.4f, %.4f); weight of X <= %d: stationary %.4f, FSP t=150 %+.1e, SSA %.4f (%+.2f SE); chi2/threshold %.2f (%s)"
      % (e_pi, peaks, v, q[v], q[peaks[0]], q[peaks[-1]], v, wpi, wT - wpi, ws, z, worst, ", ".join(txt)))
good = (e_pi < 1e-10 and peaks == [7, 56] and v == 28 and q[v] < 0.5 * min(q[7], q[56])
        and abs(wT - wpi) < 1e-4 and abs(ws - wpi) < 4 * math.sqrt(wpi * (1 - wpi) / N) + 1e-4 and worst < 1)
sys.exit(0 if good else 1)
PY

# ---------------------------------------------------------------- Lotka-Volterra
lv="-stgssa_sample_times 0.25,0.5 -stgssa_tfinal 0.5"
run lv_ssa 1 lotka_volterra -stgssa_mode simulate -stgssa_ntraj $n -stgssa_seed 14 $lv
run lv_fsp 1 lotka_volterra -stgssa_mode fsp $lv -stgssa_fit k2 -stgssa_fsp_max X=72,Y=64
check "Lotka-Volterra: SSA vs FSP at t = 0.25, 0.5: means within 4 SE, chi-square of X and Y" << 'PY'
import os, sys; sys.path.insert(0, sys.argv[1]); from gal import *
w = sys.argv[1]; N = int(os.environ["NSSA"])
zs = []
for s in ("X", "Y"):
    a = h(w, "lv_ssa", "/simulate/moments/" + s); e = h(w, "lv_fsp", "/fsp/moments/" + s)
    zs += list((a[:, 0] - e[:, 0]) / np.sqrt(e[:, 1] / N))
worst, txt = compare(w, "lv_ssa", "lv_fsp", ("X", "Y"), N)
print("mean z %s; chi2/threshold %.2f (%s)" % (" ".join("%+.2f" % z for z in zs), worst, ", ".join(txt)))
sys.exit(0 if max(abs(z) for z in zs) < 4 and worst < 1 else 1)
PY

# ---------------------------------------------------------------- SIRS
run sirs_ssa 1 sirs -options_file "$g/sirs.opts" -stgssa_mode simulate -stgssa_ntraj $n -stgssa_seed 15
run sirs_fsp 1 sirs -options_file "$g/sirs.opts"
check "SIRS: SSA vs FSP chi-square of I (days 5..60); absorbed fraction by day 60 vs FSP P(S = 50)" << 'PY'
import os, sys; sys.path.insert(0, sys.argv[1]); from gal import *
w = sys.argv[1]; N = int(os.environ["NSSA"])
worst, txt = compare(w, "sirs_ssa", "sirs_fsp", ("I",), N)
pS = h(w, "sirs_fsp", "/fsp/distribution/S")[-1]
pa = pS[50]
na = int(h5py.File(w + "/sirs_ssa.h5", "r")["/run"].attrs["absorbed_trajectories"])
z = (na / N - pa) / math.sqrt(pa * (1 - pa) / N)
print("chi2/threshold %.2f (%s); absorbed by day 60: SSA %d/%d = %.4f, FSP %.4f (z %+.2f)" % (worst, ", ".join(txt), na, N, na / N, pa, z))
sys.exit(0 if worst < 1 and abs(z) < 4 and 0.2 < pa < 0.9 else 1)
PY

# ---------------------------------------------------------------- kinetic proofreading
run kp_fsp 1 kinetic_proofreading -options_file "$g/kinetic_proofreading.opts"
sed 's/-> E + P\([cw]\)/-> P\1/' "$g/kinetic_proofreading.model" > "$work/kp_once.model"
if ! grep -q 'ECs -> Pc' "$work/kp_once.model" || ! grep -q 'EWs -> Pw' "$work/kp_once.model"; then bad "kinetic_proofreading.model: product reactions not found"; finish; fi
g=$work
run kp1_fsp 1 kp_once -stgssa_mode fsp -stgssa_sample_times 400 -stgssa_tfinal 400 -stgssa_fit w
run kp1_ssa 1 kp_once -stgssa_mode simulate -stgssa_sample_times 400 -stgssa_tfinal 400 -stgssa_ntraj $nkp -stgssa_seed 16
g=$root/input/gallery
check "kinetic proofreading: error fraction 2/79 (FSP 1e-6, SSA 4 SE), fluxes J_c, J_w (1e-6)" << 'PY'
import os, sys; sys.path.insert(0, sys.argv[1]); from gal import *
w = sys.argv[1]; N = int(os.environ["NKP"])
kon_c = kon_w = 1.0; koff_c, koff_w, m, l_c, l_w, wp = 1.0, 10.0, 1.0, 1.0, 10.0, 0.5
# linear scheme: per visit of E, a product x with probability m/(m + koff_x) * w/(w + l_x);
# pi_E from the dwell times: 1/pi_E = 1 + sum_x kon_x (1/(koff_x + m) + m/((koff_x + m)(l_x + w)))
pc = m / (m + koff_c) * wp / (wp + l_c); pw = m / (m + koff_w) * wp / (wp + l_w)
eta = kon_w * pw / (kon_c * pc + kon_w * pw)
piE = 1 / (1 + kon_c * (1 / (koff_c + m) + m / ((koff_c + m) * (l_c + wp))) + kon_w * (1 / (koff_w + m) + m / ((koff_w + m) * (l_w + wp))))
Jc, Jw = piE * kon_c * pc, piE * kon_w * pw
Pw = h(w, "kp_fsp", "/fsp/moments/Pw")[:, 0]; Pc = h(w, "kp_fsp", "/fsp/moments/Pc")[:, 0]; t = h(w, "kp_fsp", "/fsp/times")
dw, dc = Pw[1] - Pw[0], Pc[1] - Pc[0]
e1 = abs(dw / (dw + dc) - eta); e2 = max(abs(dw / (t[1] - t[0]) - Jw) / Jw, abs(dc / (t[1] - t[0]) - Jc) / Jc)
f1w = h(w, "kp1_fsp", "/fsp/moments/Pw")[0, 0]; f1c = h(w, "kp1_fsp", "/fsp/moments/Pc")[0, 0]
e3 = max(abs(f1w - eta), abs(f1w + f1c - 1))
sw = h(w, "kp1_ssa", "/simulate/moments/Pw")[0, 0]
z = (sw - eta) / math.sqrt(eta * (1 - eta) / N)
print("eta = 2/79 = %.6f: FSP increments %.1e, J_c %.5f J_w %.6f (rel. %.1e); one turnover FSP %.1e, SSA %.5f (z %+.2f)" % (eta, e1, Jc, Jw, e2, e3, sw, z))
sys.exit(0 if abs(eta - 2 / 79) < 1e-15 and e1 < 1e-6 and e2 < 1e-6 and e3 < 1e-6 and abs(z) < 4 else 1)
PY

# ---------------------------------------------------------------- growing and dividing cell
run gc_ssa 2 growing_cell -options_file "$g/growing_cell.opts" -stgssa_ntraj $n -stgssa_seed 17
check "growing cell: means of M and P over the last cycle vs the cyclo-stationary closed form (4 SE)" << 'PY'
import os, sys; sys.path.insert(0, sys.argv[1]); from gal import *
w = sys.argv[1]; N = int(os.environ["NSSA"])
k_on, k_off, k_tx, k_deg, k_tl, T = 2.0, 4.0, 60.0, 10.0, 5.0, 1.0
# The network is first order, so the means obey closed linear equations, and halving (binomial
# with p = 1/2) maps a mean m to m/2 at each division. The gene is not partitioned: E[G_on] =
# k_on/(k_on + k_off) (stationary after ~20/(k_on + k_off)). mRNA: m' = k_tx E[G_on] - k_deg m,
# m(s) = mu + (m0 - mu) e^{-k_deg s}, mu = k_tx E[G_on]/k_deg, and m0 = m(T-)/2 gives
# m0 = mu (1 - e^{-k_deg T})/(2 - e^{-k_deg T}). Protein (no loss but division):
# P(s) = P0 + k_tl int_0^s m, P0 = P(T-)/2, so P0 = k_tl int_0^T m (= I) and P(T-) = 2 I.
g_on = k_on / (k_on + k_off); mu = k_tx * g_on / k_deg; e = math.exp(-k_deg * T)
m0 = mu * (1 - e) / (2 - e)
M = lambda s: mu + (m0 - mu) * math.exp(-k_deg * s)
intM = lambda s: mu * s + (m0 - mu) * (1 - math.exp(-k_deg * s)) / k_deg
I = k_tl * intM(T)
P = lambda s: I + k_tl * intM(s)
t = h(w, "gc_ssa", "/simulate/times")
phase = [T if abs(x - round(x)) < 1e-12 else x - math.floor(x) for x in t]  # a division time: the cell before it divides
zs, txt = [], []
for name, f in (("M", M), ("P", P)):
    a = h(w, "gc_ssa", "/simulate/moments/" + name)
    for i, s in enumerate(phase):
        z = (a[i, 0] - f(s)) / math.sqrt(a[i, 1] / N); zs.append(z)
        txt.append("%s(%g) %.3f vs %.3f (%+.2f SE)" % (name, s, a[i, 0], f(s), z))
print("; ".join(txt))
sys.exit(0 if max(abs(z) for z in zs) < 4 and len(zs) == 10 else 1)
PY

# the FSP's event map against the SSA: the first division (t = 1) seen from both sides, chi-square
# of M and P at t = 0.75, 1 (the mother just before it divides), 1.25, 1.5 (the daughter)
gct="-stgssa_tfinal 1.5 -stgssa_sample_times 0.75,1,1.25,1.5"
run gc_ssa1 2 growing_cell -options_file "$g/growing_cell.opts" $gct -stgssa_ntraj $n -stgssa_seed 19
run gc_fsp1 1 growing_cell -options_file "$g/growing_cell.opts" $gct -stgssa_mode fsp
check "growing cell: SSA vs FSP (events as maps on the distribution) across the first division, chi-square of M, P" << 'PY'
import os, sys; sys.path.insert(0, sys.argv[1]); from gal import *
w = sys.argv[1]; N = int(os.environ["NSSA"])
worst, txt = compare(w, "gc_ssa1", "gc_fsp1", ("M", "P"), N)
print("largest chi2/threshold %.2f (%s)" % (worst, ", ".join(txt)))
sys.exit(0 if worst < 1 and len(txt) == 8 else 1)
PY

# ---------------------------------------------------------------- the other options files run
run opt_rep 2 repressilator -options_file "$g/repressilator.opts" -stgssa_ntraj 100
run opt_lv 2 lotka_volterra -options_file "$g/lotka_volterra.opts" -stgssa_ntraj 100
ok "repressilator.opts, lotka_volterra.opts run (100 paths)"
finish
