#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# -stgssa_mode ode (the mean-field ODE with TS forward sensitivities), each run < 1 s:
#  (1) birth-death from M(0) = 0: m(t) = (k/g)(1 - e^{-g t}) (the ODE of a linear network is the
#      exact mean), dm/dlog k = m, dm/dlog g = -m + k t e^{-g t}: both to 1e-8 relative (-ts_rtol
#      1e-12, -ts_atol 1e-12; the RK 5(4) error at these tolerances is ~1e-11);
#  (2) chain A -> B -> C from A(0) = 100: A = 100 e^{-k1 t}, B = 100 k1/(k2-k1) (e^{-k1 t} - e^{-k2 t}),
#      with the closed-form derivatives, to 1e-8 relative;
#  (3) sensitivities vs central differences of the ODE itself (h = 1e-4 in log k, error O(h^2) ~ 1e-8
#      relative; tolerance 1e-6) on the nonlinear paths: a rate law (vmax M/(Km + M), mm_decay)
#      and a bimolecular A + B <-> C (mass action at real counts);
#  (4) dimerization 2A -> 0, rate k: the propensity is k A(A-1)/2 (the combinatorial form, stated in
#      README), so dA/dt = -k A (A - 1) and A(t) = 1/(1 - (1 - 1/A0) e^{-k t}), to 1e-8 relative;
#  (5) a stiff solver (-ts_type bdf) gives the same birth-death answer to 1e-6; -stgssa_initial steady is refused.
#  (6) -stgssa_gradient ode: a fit of k (g fixed) to the mean of birth-death data at one time t
#      (linear network: the ODE mean is exact) reaches the closed-form optimum
#      k = mean_data g / (1 - e^{-g t}) (loss 0) to 1e-6 relative; gradient mode's loss gradient
#      equals the closed form 2 (m - d)/d^2 dm/dlog k to 1e-8; variance and distribution losses
#      are refused with a message naming the fix.
#  (7) 1 and 2 ranks write bitwise the same means and sensitivities (the ODE is solved redundantly).
#  Output layout: /simulate/moments/<obs> column 0 the mean, columns 1, 2 NaN; /gradient fit_names.
# usage: ode_mode.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
pass=0
cd "$work" || exit 1
check() { # NAME CONDITION-EXIT-STATUS LOG
  if [ "$2" -eq 0 ]; then echo "ok   $1"; pass=$((pass + 1)); else echo "FAIL $1:"; sed 's/^/    /' "$3" | head -30; fail=$((fail + 1)); fi
}
tight="-stgssa_mode ode -ts_rtol 1e-12 -ts_atol 1e-12"
cat > chain.model <<'M'
begin parameters
  k1 0.7
  k2 1.9
end parameters
begin species
  A 100
  B 0
  C 0
end species
M
cat >> chain.model <<'M'
begin reactions
  A -> B  k1
  B -> C  k2
end reactions
M
cat > dimer.model <<'M'
begin parameters
  k 0.3
end parameters
begin species
  A 50
end species
begin reactions
  2 A -> 0  k
end reactions
M

# (1) birth-death
"$exe" -stgssa_model "$root/input/birth_death.model" $tight -stgssa_sample_times 0,0.25,1,3,10 -stgssa_tfinal 10 -stgssa_output bd.h5 > bd.log 2>&1
/usr/bin/python3 - >> bd.log 2>&1 <<'PY'
import h5py, numpy as np
f = h5py.File('bd.h5', 'r')
t = f['simulate/times'][:]; mom = f['simulate/moments/M'][:]
names = [n.decode() if isinstance(n, bytes) else n for n in f['gradient'].attrs['fit_names']]
dm = f['gradient/moments_gradient/M'][:, 0, :]
k, g = 10.0, 1.0
m = k / g * (1 - np.exp(-g * t))
ex = {'k': m, 'g': -m + k * t * np.exp(-g * t)}
assert np.all(np.isnan(mom[:, 1:])), 'variance columns must be NaN'
err = np.max(np.abs(mom[:, 0] - m) / np.maximum(np.abs(m), 1e-300)[...] * (m > 0)) 
assert np.all(np.abs(mom[:, 0] - m) <= 1e-8 * np.maximum(np.abs(m), 1e-12)), (mom[:, 0], m)
for p, n in enumerate(names):
    e = ex[n]
    assert np.all(np.abs(dm[:, p] - e) <= 1e-8 * np.maximum(np.abs(e), 1e-12)), (n, dm[:, p], e)
print('birth-death: max rel error of means %.2e' % err)
PY
check "birth-death means and sensitivities vs closed form to 1e-8" $? bd.log

# (2) chain
"$exe" -stgssa_model chain.model $tight -stgssa_sample_times 0.1,0.5,1,2,4 -stgssa_tfinal 4 -stgssa_observe A,B -stgssa_fit k1,k2 -stgssa_output ch.h5 > ch.log 2>&1
/usr/bin/python3 - >> ch.log 2>&1 <<'PY'
import h5py, numpy as np
f = h5py.File('ch.h5', 'r')
t = f['simulate/times'][:]
k1, k2, A0 = 0.7, 1.9, 100.0
e1, e2 = np.exp(-k1 * t), np.exp(-k2 * t)
A = A0 * e1
B = A0 * k1 / (k2 - k1) * (e1 - e2)
# d/dlog k = k d/dk
dA = [k1 * (-t * A), np.zeros_like(t)]
dB1 = A0 * ((k2 / (k2 - k1) ** 2) * (e1 - e2) + k1 / (k2 - k1) * (-t * e1))
dB2 = A0 * (-(k1 / (k2 - k1) ** 2) * (e1 - e2) + k1 / (k2 - k1) * (t * e2))
dB = [k1 * dB1, k2 * dB2]
ex = {'A': (A, dA), 'B': (B, dB)}
for o, (m, d) in ex.items():
    got = f['simulate/moments/' + o][:, 0]
    assert np.all(np.abs(got - m) <= 1e-8 * np.abs(m)), (o, got, m)
    dg = f['gradient/moments_gradient/' + o][:, 0, :]
    for p in range(2):
        sc = np.maximum(np.abs(d[p]), 1e-8 * np.abs(m))
        assert np.all(np.abs(dg[:, p] - d[p]) <= 1e-8 * sc), (o, p, dg[:, p], d[p])
print('chain ok')
PY
check "chain A->B->C vs closed form to 1e-8" $? ch.log

# (3) central differences of the ODE (rate law; bimolecular)
fdcheck() { # NAME MODEL OBS PARAMS(name=value,...) TIMES
  "$exe" -stgssa_model "$2" $tight -stgssa_sample_times "$5" -stgssa_observe "$3" -stgssa_output c.h5 > "$1.log" 2>&1 || return 1
  for kv in $(echo "$4" | tr ',' ' '); do
    n=${kv%%=*}; v=${kv#*=}
    for s in p m; do
      vv=$(/usr/bin/python3 -c "import math; print(repr($v * math.exp(($([ $s = p ] && echo 1 || echo -1)) * 1e-4)))")
      "$exe" -stgssa_model "$2" $tight -stgssa_sample_times "$5" -stgssa_observe "$3" -stgssa_parameters "$n=$vv" -stgssa_output "c_${n}_$s.h5" >> "$1.log" 2>&1 || return 1
    done
  done
  /usr/bin/python3 - "$3" "$4" >> "$1.log" 2>&1 <<'PY'
import h5py, sys, numpy as np
obs = sys.argv[1].split(','); params = [kv.split('=')[0] for kv in sys.argv[2].split(',')]
f = h5py.File('c.h5', 'r')
names = [n.decode() if isinstance(n, bytes) else n for n in f['gradient'].attrs['fit_names']]
worst = 0
for o in obs:
    dg = f['gradient/moments_gradient/' + o][:, 0, :]
    m = f['simulate/moments/' + o][:, 0]
    for n in params:
        p = names.index(n)
        fd = (h5py.File('c_%s_p.h5' % n)['simulate/moments/' + o][:, 0] - h5py.File('c_%s_m.h5' % n)['simulate/moments/' + o][:, 0]) / 2e-4
        sc = np.maximum(np.abs(fd), 1e-6 * np.abs(m))
        r = np.max(np.abs(dg[:, p] - fd) / sc)
        worst = max(worst, r)
        assert r <= 1e-6, (o, n, dg[:, p], fd)
print('worst relative difference vs central differences %.2e' % worst)
PY
}
fdcheck mm "$root/input/mm_decay.model" M "k_b=5,vmax=10,Km=20" 0.5,2,8
check "rate law (Michaelis-Menten decay) sensitivities vs central differences" $? mm.log
fdcheck bi "$root/input/bimolecular.model" A,C "k_f=0.1,k_b=1" 0.2,1,5
check "bimolecular A + B <-> C sensitivities vs central differences" $? bi.log

# (4) dimerization: the combinatorial propensity k A (A-1)/2
"$exe" -stgssa_model dimer.model $tight -stgssa_sample_times 0.01,0.1,1,5 -stgssa_output dm.h5 > dm.log 2>&1
/usr/bin/python3 - >> dm.log 2>&1 <<'PY'
import h5py, numpy as np
f = h5py.File('dm.h5', 'r'); t = f['simulate/times'][:]; got = f['simulate/moments/A'][:, 0]
k, A0 = 0.3, 50.0
A = 1 / (1 - (1 - 1 / A0) * np.exp(-k * t))
assert np.all(np.abs(got - A) <= 1e-8 * A), (got, A)
PY
check "dimerization follows dA/dt = -k A (A-1) (combinatorial propensity)" $? dm.log

# (5) bdf (implicit: the augmented Jacobian's block diagonal) and the refusal of a steady start
"$exe" -stgssa_model "$root/input/birth_death.model" -stgssa_mode ode -ts_type bdf -ts_rtol 1e-10 -ts_atol 1e-10 -stgssa_sample_times 0.25,1,3 -stgssa_tfinal 3 -stgssa_output bdf.h5 > bdf.log 2>&1
/usr/bin/python3 - >> bdf.log 2>&1 <<'PY'
import h5py, numpy as np
f = h5py.File('bdf.h5', 'r'); t = f['simulate/times'][:]
m = 10 * (1 - np.exp(-t)); dg = -m + 10 * t * np.exp(-t)
assert np.all(np.abs(f['simulate/moments/M'][:, 0] - m) <= 1e-6 * m)
assert np.all(np.abs(f['gradient/moments_gradient/M'][:, 0, 1] - dg) <= 1e-6 * np.abs(dg))
PY
check "-ts_type bdf agrees with the closed form to 1e-6" $? bdf.log
"$exe" -stgssa_model "$root/input/birth_death.model" -stgssa_mode ode -stgssa_tfinal 1 -stgssa_initial steady -stgssa_output e.h5 > e2.log 2>&1
[ $? -ne 0 ] && grep -q "stgssa_mode ode starts from the model's initial counts" e2.log
check "refuses -stgssa_initial steady" $? e2.log

# (6) -stgssa_gradient ode
/usr/bin/python3 - <<'PY'
import numpy as np
r = np.random.default_rng(3)
with open('bd.csv', 'w') as f:
    f.write('time,M\n')
    for x in r.poisson(10 * (1 - np.exp(-2.0)) * 0.8, 400):
        f.write('2,%d\n' % x)
PY
bdfit="-stgssa_model $root/input/birth_death.model -stgssa_data bd.csv -stgssa_loss moments -stgssa_moment_orders 1 -stgssa_fit k -stgssa_gradient ode -ts_rtol 1e-12 -ts_atol 1e-12"
"$exe" $bdfit -stgssa_mode optimize -stgssa_output fit.h5 > fit.log 2>&1
/usr/bin/python3 - >> fit.log 2>&1 <<'PY'
import h5py, numpy as np
d = np.loadtxt('bd.csv', delimiter=',', skiprows=1)[:, 1].mean()
k = h5py.File('fit.h5', 'r')['result/parameters'][0]
ke = d * 1.0 / (1 - np.exp(-2.0))
print('fitted k %.10g, closed form %.10g' % (k, ke))
assert abs(k - ke) <= 1e-6 * ke
PY
check "gradient ode: fit of the mean reaches the closed-form optimum" $? fit.log
"$exe" $bdfit -stgssa_mode gradient -stgssa_output gr.h5 > gr.log 2>&1
/usr/bin/python3 - >> gr.log 2>&1 <<'PY'
import h5py, numpy as np
d = np.loadtxt('bd.csv', delimiter=',', skiprows=1)[:, 1].mean()
f = h5py.File('gr.h5', 'r')
m = 10 * (1 - np.exp(-2.0))
L = ((m - d) / d) ** 2; dL = 2 * (m - d) / d ** 2 * m
assert abs(f['gradient/loss'][()] - L) <= 1e-8 * L, (f['gradient/loss'][()], L)
assert abs(f['gradient/gradient'][0] - dL) <= 1e-8 * abs(dL), (f['gradient/gradient'][0], dL)
PY
check "gradient ode: loss and gradient of the means' loss vs closed form" $? gr.log
"$exe" -stgssa_model "$root/input/birth_death.model" -stgssa_data bd.csv -stgssa_loss moments -stgssa_moment_orders 2 -stgssa_gradient ode -stgssa_mode gradient -stgssa_output e.h5 > e3.log 2>&1
[ $? -ne 0 ] && grep -q "stgssa_gradient ode gives means only.*use -stgssa_loss moments -stgssa_moment_orders 1, not -stgssa_loss moments with -stgssa_moment_orders > 1" e3.log
check "gradient ode refuses a variance loss" $? e3.log
"$exe" -stgssa_model "$root/input/birth_death.model" -stgssa_data bd.csv -stgssa_loss distribution -stgssa_gradient ode -stgssa_mode gradient -stgssa_output e.h5 > e4.log 2>&1
[ $? -ne 0 ] && grep -q "stgssa_gradient ode gives means only.*not -stgssa_loss distribution" e4.log
check "gradient ode refuses a distribution loss" $? e4.log

# (7) rank count
"$exe" -stgssa_model "$root/input/telegraph.model" -stgssa_mode ode -stgssa_sample_times 1,5 -stgssa_tfinal 5 -stgssa_output r1.h5 > r.log 2>&1 &&
  timeout 120 mpirun -n 2 --oversubscribe "$exe" -stgssa_model "$root/input/telegraph.model" -stgssa_mode ode -stgssa_sample_times 1,5 -stgssa_tfinal 5 -stgssa_output r2.h5 >> r.log 2>&1 &&
  /usr/bin/python3 - >> r.log 2>&1 <<'PY'
import h5py, numpy as np
a, b = h5py.File('r1.h5', 'r'), h5py.File('r2.h5', 'r')
for k in ('simulate/moments/M', 'gradient/moments_gradient/M', 'simulate/moments/G_on'):
    assert np.array_equal(a[k][:], b[k][:], equal_nan=True), k
PY
check "1 and 2 ranks: bitwise the same output" $? r.log

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
