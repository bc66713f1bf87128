#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Scheduled events (issue 18) against closed forms. Fixed seeds; every check is
# |estimate - exact| <= 4 standard errors (a false failure ~6e-5 per check for a normal
# estimate), the standard error of a mean sqrt(Var/N) from the run, of a derivative the batch
# standard error the program writes (/gradient/moments_gradient_stderr).
#  (1) a gene expressed in dividing cells: birth at rate k, no degradation, `every T: divide`
#      (binomial halving). The mean just after a division obeys m+ = (m+ + kT)/2, so m+ = kT; at
#      phase s in [0, T): E[M] = kT + k s; at a division time the sample sees the state before,
#      2kT. After 19 cycles from M = 0 the transient is 2^-19 kT. d E[M]/d log k = E[M]: checked
#      for score and fd (direct method, counter-based binomial draws shared by fd's runs).
#  (1b) the same birth written as a rate law k + 0*M (the rate-law paths): means and score.
#  (2) the same with a time-dependent birth rate k (1 + e^{-t}) (thinning): means and score
#      derivatives against the recursion m(t) = m+_n + k (t - n) + k (e^{-n} - e^{-t}), m+_{n+1} = m(n+1)/2.
#  (3) birth-death (k, g) from 0 with `at 2: M = c` and `at 3: scale M F`: for t in [2, 3)
#      E[M] = c e^{-g(t-2)} + (k/g)(1 - e^{-g(t-2)}), after 3: F m(3) e^{-g(t-3)} + (k/g)(1 - e^{-g(t-3)});
#      means, and score and fd derivatives in log k and log g.
#  (4) ST-GS tangents through the events, exact where the path has no reaction (rate 0):
#      `at 1: X = c`, `at 2: scale X f`, `at 3: X += c`, `at 4: X -= 3*c` (clamped at 0), c = 10,
#      f = 0.5: E[X] = c, c f, c f + c, 0 at t = 1.5, 2.5, 3.5, 4.5; d/d log c = c, c f, c f + c, 0;
#      d/d log f = 0, c f, c f, 0. The score refuses a fit of c (an event reads it).
#  (6) input/gallery/growing_cell.model: means against its exact moment equations with halving,
#      and the score derivative in log k_tl.
#  (5) nrm and tree: the means of (1) and (3); rssa refuses an events model with one line (auto
#      takes direct below 64 reactions, tree from 64 on).
# usage: events.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
pass=0
fail=0
check() { # NAME STATUS LOG
  if [ "$2" -eq 0 ]; then echo "ok   $1"; pass=$((pass + 1)); else echo "FAIL $1"; [ -n "${3:-}" ] && sed 's/^/    /' "$3" | head -30; fail=$((fail + 1)); fi
}
# N trajectories: 20000 (2000 under STGSSA_TEST_SCALE < 1, the sanitizer run)
n=20000
case ${STGSSA_TEST_SCALE:-1} in 0.*|.*) n=2000 ;; esac

cat > div.model <<'MODEL'
begin parameters
  k 10
end parameters
begin species
  M 0
end species
begin reactions
  0 -> M k
end reactions
begin events
  every 1: divide
end events
MODEL
cat > divt.model <<'MODEL'
begin parameters
  k 10
end parameters
begin inputs
  u 1 + exp(-t)
end inputs
begin species
  M 0
end species
begin reactions
  0 -> M k*u
end reactions
begin events
  every 1: divide M
end events
MODEL
cat > bd.model <<'MODEL'
begin parameters
  k 10
  g 1
  c 40
  F 0.3
end parameters
begin species
  M 0
end species
begin reactions
  0 -> M k
  M -> 0 g
end reactions
begin events
  at 2: M = c
  at 3: scale M F
end events
MODEL
cat > tan.model <<'MODEL'
begin parameters
  c 10
  f 0.5
end parameters
begin species
  X 0
end species
begin reactions
  X -> 0 0
end reactions
begin events
  at 1: X = c
  at 2: scale X f
  at 3: X += c
  at 4: X -= 3*c
end events
MODEL

# compare.py FILE GROUP 'exact means' ['exact derivatives per parameter' ...]: the first
# observable's means (and derivatives) at the sample times within 4 standard errors
cat > compare.py <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
grp, nt = sys.argv[2], int(sys.argv[3])
mean_exact = np.array([float(v) for v in sys.argv[4].split(',')])
obs = sorted(f[grp + '/moments'].keys())[0]
mom = f[grp + '/moments/' + obs][:]
worst = 0.0
for i, m in enumerate(mean_exact):
    se = np.sqrt(mom[i, 1] / nt) if mom[i, 1] > 0 else 0.0
    z = (mom[i, 0] - m) / se if se > 0 else (0.0 if abs(mom[i, 0] - m) < 1e-12 else np.inf)
    print('mean t=%g: %.5g exact %.5g z %+.2f' % (f[grp + '/times'][i], mom[i, 0], m, z))
    worst = max(worst, abs(z))
for p, arg in enumerate(sys.argv[5:]):
    d = f[grp + '/moments_gradient/' + obs][:]
    e = f[grp + '/moments_gradient_stderr/' + obs][:]
    for i, v in enumerate(float(v) for v in arg.split(',')):
        se = e[i, 0, p]
        z = (d[i, 0, p] - v) / se if se > 0 else (0.0 if abs(d[i, 0, p] - v) < 1e-9 * max(1, abs(v)) else np.inf)
        print('d mean/d theta_%d t=%g: %.5g exact %.5g se %.3g z %+.2f' % (p, f[grp + '/times'][i], d[i, 0, p], v, se, z))
        worst = max(worst, abs(z))
print('max |z| %.2f' % worst)
sys.exit(0 if worst <= 4 else 1)
PY

# (1) birth + division
ph="19.25 19.5 19.75 20"
times=$(echo $ph | tr ' ' ,)
exact=$($py -c "k=10;T=1;print(','.join(str(k*T+k*(t-19) if t<20 else 2*k*T) for t in (19.25,19.5,19.75,20)))")
"$exe" -stgssa_model div.model -stgssa_mode simulate -stgssa_ntraj $n -stgssa_seed 3 -stgssa_tfinal 20.5 -stgssa_sample_times $times -stgssa_output s1.h5 > s1.log 2>&1 &&
  grep -q "exact method: direct (auto: fewer than 64 reactions)" s1.log && $py compare.py s1.h5 simulate $n "$exact" >> s1.log 2>&1
check "(1) birth + divide every 1: E[M] = kT + ks, 2kT at the division (N = $n)" $? s1.log
grep "max" s1.log
for est in score fd; do
  "$exe" -stgssa_model div.model -stgssa_mode gradient -stgssa_gradient $est -stgssa_ntraj $n -stgssa_seed 4 -stgssa_tfinal 20.5 -stgssa_sample_times $times -stgssa_output g1$est.h5 > g1$est.log 2>&1 &&
    $py compare.py g1$est.h5 gradient $n "$exact" "$exact" >> g1$est.log 2>&1
  check "(1) $est: d E[M]/d log k = E[M] through divisions" $? g1$est.log
  grep "max" g1$est.log
done

# (1b) the same birth rate written as a rate law that reads the state (k + 0*M: the engines'
#      rate-law paths, the same process)
sed 's/0 -> M k$/0 -> M k + 0*M/' div.model > divlaw.model
grep -q "k + 0\*M" divlaw.model || { echo "FAIL divlaw.model"; exit 1; }
"$exe" -stgssa_model divlaw.model -stgssa_mode simulate -stgssa_ntraj $n -stgssa_seed 12 -stgssa_tfinal 20.5 -stgssa_sample_times $times -stgssa_output s1l.h5 > s1l.log 2>&1 &&
  $py compare.py s1l.h5 simulate $n "$exact" >> s1l.log 2>&1
check "(1b) birth as a rate law + divide: means" $? s1l.log
grep "max" s1l.log
"$exe" -stgssa_model divlaw.model -stgssa_mode gradient -stgssa_gradient score -stgssa_ntraj $n -stgssa_seed 13 -stgssa_tfinal 20.5 -stgssa_sample_times $times -stgssa_output g1l.h5 > g1l.log 2>&1 &&
  $py compare.py g1l.h5 gradient $n "$exact" "$exact" >> g1l.log 2>&1
check "(1b) score through a rate law and divisions" $? g1l.log
grep "max" g1l.log

# (2) time-dependent birth (thinning) + division
exact=$($py -c "
import math
k=10.0; mp=0.0
def m(t):
    n=math.floor(t); return mp+k*(t-n)+k*(math.exp(-n)-math.exp(-t))
for n in range(0,5):
    mp=(mp+k+k*(math.exp(-n)-math.exp(-(n+1))))/2
# mp is now m+ at t = 5
print(','.join(str(mp+k*(t-5)+k*(math.exp(-5)-math.exp(-t))) for t in (5.25,5.5,5.75)))")
"$exe" -stgssa_model divt.model -stgssa_mode simulate -stgssa_ntraj $n -stgssa_seed 5 -stgssa_tfinal 6 -stgssa_sample_times 5.25,5.5,5.75 -stgssa_output s2.h5 > s2.log 2>&1 &&
  $py compare.py s2.h5 simulate $n "$exact" >> s2.log 2>&1
check "(2) time-dependent birth (thinning) + divide: means" $? s2.log
grep "max" s2.log
"$exe" -stgssa_model divt.model -stgssa_mode gradient -stgssa_gradient score -stgssa_fit k -stgssa_ntraj $n -stgssa_seed 6 -stgssa_tfinal 6 -stgssa_sample_times 5.25,5.5,5.75 -stgssa_output g2.h5 > g2.log 2>&1 &&
  $py compare.py g2.h5 gradient $n "$exact" "$exact" >> g2.log 2>&1
check "(2) score through thinning and divisions: d E[M]/d log k = E[M]" $? g2.log
grep "max" g2.log

# (3) birth-death with a set and a binomial thinning
read -r exact dk dg <<EOF2
$($py -c "
import math
k,g,c,F=10.,1.,40.,0.3
ts=(1.5,2.5,3.0,3.5,4.5)
def mean(k,g,t):
    if t<2: return k/g*(1-math.exp(-g*t))
    if t<=3: return c*math.exp(-g*(t-2))+k/g*(1-math.exp(-g*(t-2)))
    return F*mean(k,g,3.0)*math.exp(-g*(t-3))+k/g*(1-math.exp(-g*(t-3)))
h=1e-6
m=[mean(k,g,t) for t in ts]
dk=[(mean(k*math.exp(h),g,t)-mean(k*math.exp(-h),g,t))/(2*h) for t in ts]
dg=[(mean(k,g*math.exp(h),t)-mean(k,g*math.exp(-h),t))/(2*h) for t in ts]
print(','.join(map(str,m)),','.join(map(str,dk)),','.join(map(str,dg)))")
EOF2
st=1.5,2.5,3,3.5,4.5
"$exe" -stgssa_model bd.model -stgssa_mode simulate -stgssa_ntraj $n -stgssa_seed 7 -stgssa_tfinal 5 -stgssa_sample_times $st -stgssa_output s3.h5 > s3.log 2>&1 &&
  $py compare.py s3.h5 simulate $n "$exact" >> s3.log 2>&1
check "(3) birth-death, at 2: M = c, at 3: scale M F: means (sample at 3 = before the scale)" $? s3.log
grep "max" s3.log
for est in score fd; do
  "$exe" -stgssa_model bd.model -stgssa_mode gradient -stgssa_gradient $est -stgssa_fit k,g -stgssa_ntraj $n -stgssa_seed 8 -stgssa_tfinal 5 -stgssa_sample_times $st -stgssa_output g3$est.h5 > g3$est.log 2>&1 &&
    $py compare.py g3$est.h5 gradient $n "$exact" "$dk" "$dg" >> g3$est.log 2>&1
  check "(3) $est: d E[M]/d log k, d log g through the set and the thinning" $? g3$est.log
  grep "max" g3$est.log
done

# (4) ST-GS tangents through the events (no reaction fires: deterministic tangents)
"$exe" -stgssa_model tan.model -stgssa_mode gradient -stgssa_gradient stgs -stgssa_fit c,f -stgssa_ntraj 400 -stgssa_seed 9 -stgssa_tfinal 5 -stgssa_sample_times 1.5,2.5,3.5,4.5 -stgssa_output g4.h5 > g4.log 2>&1 &&
  $py - >> g4.log 2>&1 <<'PY'
import h5py, numpy as np, sys
f = h5py.File('g4.h5', 'r')
m = f['gradient/moments/X'][:, 0]
d = f['gradient/moments_gradient/X'][:, 0, :]
e = f['gradient/moments_gradient_stderr/X'][:, 0, :]
exact_d = np.array([[10, 0], [5, 5], [15, 5], [0, 0]], float)
print('means', m, 'derivatives', d.tolist(), 'stderr', e.tolist())
ok = abs(m[0] - 10) < 1e-12 and abs(m[3]) < 1e-12 and abs(m[1] - 5) < 4 * np.sqrt(10 * 0.25 / 400) + 1e-12 and np.allclose(d[[0, 3]], exact_d[[0, 3]], atol=1e-12)
# after the thinning the tangent is f xdot + x df/dtheta per path: its mean over the paths is
# exact in expectation (x ~ Bin(10, 1/2): d/dlog f = mean x_before f = 5 exactly, d/dlog c = f c)
ok = ok and np.allclose(d[1], exact_d[1], atol=1e-9) and np.allclose(d[2], exact_d[2], atol=1e-9)
sys.exit(0 if ok else 1)
PY
check "(4) ST-GS tangents: set, scale (mean map), add, clamped sub exact" $? g4.log
"$exe" -stgssa_model tan.model -stgssa_mode gradient -stgssa_gradient score -stgssa_fit c -stgssa_ntraj 10 -stgssa_tfinal 5 -stgssa_sample_times 4.5 > g4s.log 2>&1
[ $? -ne 0 ] && grep -q "^stgssa_hpc: error: tan.model: an event's value reads a fitted parameter; the score estimator cannot" g4s.log && [ "$(wc -l < g4s.log)" -eq 1 ]
check "(4) score refuses a fit of a parameter an event reads (one line)" $? g4s.log
# values that read parameters are checked at the start values: one line naming the event's line
"$exe" -stgssa_model bd.model -stgssa_mode simulate -stgssa_parameters F=1.5 -stgssa_ntraj 10 -stgssa_tfinal 5 > v1.log 2>&1
[ $? -ne 0 ] && grep -q "^stgssa_hpc: error: bd.model:16: the keep fraction of event 2 ('scale M') is 1.5 with the current parameters; expected a number in \[0, 1\]" v1.log && [ "$(wc -l < v1.log)" -eq 1 ]
check "(4) a keep fraction above 1 from -stgssa_parameters: one line" $? v1.log

# (5) nrm and tree (events rescale nrm's putative times, rebuild the sum tree): the means of (1)
#     and (3); rssa refuses events with one line
for m in nrm tree; do
  exact1=$($py -c "print(','.join(str(10+10*(t-19) if t<20 else 20) for t in (19.25,19.5,19.75,20)))")
  "$exe" -stgssa_model div.model -stgssa_mode simulate -stgssa_ssa_method $m -stgssa_ntraj $n -stgssa_seed 10 -stgssa_tfinal 20.5 -stgssa_sample_times 19.25,19.5,19.75,20 -stgssa_output m1$m.h5 > m1$m.log 2>&1 &&
    grep -q "exact method: $m (as asked)" m1$m.log && $py compare.py m1$m.h5 simulate $n "$exact1" >> m1$m.log 2>&1
  check "(5) $m: birth + divide means" $? m1$m.log
  grep "max" m1$m.log
  "$exe" -stgssa_model bd.model -stgssa_mode simulate -stgssa_ssa_method $m -stgssa_ntraj $n -stgssa_seed 11 -stgssa_tfinal 5 -stgssa_sample_times $st -stgssa_output m3$m.h5 > m3$m.log 2>&1 &&
    $py compare.py m3$m.h5 simulate $n "$exact" >> m3$m.log 2>&1
  check "(5) $m: birth-death with set and thinning, means" $? m3$m.log
  grep "max" m3$m.log
done
"$exe" -stgssa_model div.model -stgssa_mode simulate -stgssa_ssa_method rssa -stgssa_ntraj 10 -stgssa_tfinal 2 > rrssa.log 2>&1
[ $? -ne 0 ] && grep -q "has scheduled events (begin events); the rejection method does not take them" rrssa.log && [ "$(grep -c "error" rrssa.log)" -eq 1 ]
check "(5) -stgssa_ssa_method rssa refuses events (one line)" $? rrssa.log
# (6) the gallery's growing cell (input/gallery/growing_cell.model, its options file): a linear
#     network, so the means obey the moment equations exactly, g' = k_on (1 - g) - k_off g,
#     m' = k_tx g - k_deg m, p' = k_tl m, with m and p halved at every division (the gene copy is
#     not partitioned); solved by the matrix exponential between divisions. Means of M and P over
#     the last cycle, and the score derivative d E[P]/d log k_tl = E[P] (P is linear in k_tl).
root=$(cd "$2" && pwd)
gc="-options_file $root/input/gallery/growing_cell.opts -stgssa_model $root/input/gallery/growing_cell.model -stgssa_ntraj $n -stgssa_seed 14"
read -r gm gp <<EOF2
$($py -c "
import numpy as np
kon,koff,ktx,kdeg,ktl=2.,4.,60.,10.,5.
A=np.zeros((4,4)); A[0,0]=-(kon+koff); A[0,3]=kon; A[1,0]=ktx; A[1,1]=-kdeg; A[2,1]=ktl
def expm(M):
    s=max(0,int(np.ceil(np.log2(max(np.abs(M).sum(1).max(),1e-300))))+1); X=M/2**s; E=np.eye(4); T=np.eye(4)
    for k in range(1,30): T=T@X/k; E=E+T
    for _ in range(s): E=E@E
    return E
y=np.array([0.,0.,0.,1.]); ts=(19,19.25,19.5,19.75,20); out={}; t=0.
for c in range(1,21):
    for q in ts:
        if c-1<q<=c: out[q]=expm(A*(q-t))@y
    y=expm(A*(c-t))@y; y[1]/=2; y[2]/=2; t=c
print(','.join(str(out[q][1]) for q in ts), ','.join(str(out[q][2]) for q in ts))")
EOF2
"$exe" $gc -stgssa_observe M -stgssa_output s6m.h5 > s6m.log 2>&1 && $py compare.py s6m.h5 simulate $n "$gm" >> s6m.log 2>&1
check "(6) growing cell: E[M] over the last cycle vs the moment equations with halving" $? s6m.log
grep "max" s6m.log
"$exe" $gc -stgssa_mode gradient -stgssa_gradient score -stgssa_fit k_tl -stgssa_observe P -stgssa_output g6.h5 > g6.log 2>&1 && $py compare.py g6.h5 gradient $n "$gp" "$gp" >> g6.log 2>&1
check "(6) growing cell: E[P] and score d E[P]/d log k_tl" $? g6.log
grep "max" g6.log
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
