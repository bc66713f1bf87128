#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# SBML observables and derived quantities (issue 16), on test models written in BioNetGen's and
# BioModels' styles (tests/models/):
#  1. receptor_bng.xml (BioNetGen-style export: observables Bound, A_P, Sites as assignment rules
#     of non-constant parameters, kon and the counts of S1, S2 from initial assignments, kdp from a
#     parameter-only rule) against receptor.net (the same network as BioNetGen writes it): simulate
#     gives byte-identical datasets for the rule observables and the groups, and for the species
#     (S1 vs L_r ...), on 1 and 2 ranks.
#  2. fsp mode: the distribution, moments and sensitivities of the rule observables byte-identical
#     to those of the .net groups; the marginal of Bound has mass 1 and mean E[S3] + E[S4] (exact
#     identities up to rounding: 1e-12), and the simulated histogram of Bound is within
#     the Kolmogorov bound 1.95/sqrt(N) (level 0.001) of the FSP marginal (N = 4000, seed 5).
#  3. overrides re-evaluate: -stgssa_parameters kon_M=0.04,L0=30 (.net and SBML alike) equals a
#     run with kon freed at kon_M/NAV = 0.02 and L0 = 30 (the initial count of L follows L0), and
#     differs from the run without overrides.
#  4. gradients through derived parameters (exact FSP route, identities of the chain rule, 1e-9
#     relative): fitting kon_M (kon = kon_M/NAV moves with it) equals fitting the freed kon;
#     fitting kp (kdp = 2*kp*0.4 moves with it) equals the sum of the kp and kdp columns of the
#     freed model; the score estimator (seed 3, 2000 paths) gives the same numbers for kon_M as
#     for the freed kon (1e-9 relative: the two runs differ only in how the rate is rounded).
#     Refused: fitting a derived parameter, a parameter that sets an initial count, a parameter
#     a rate is not proportional to; each message names the file and line.
#  5. receptor_rule.xml (BioModels style: the assignment rule act = LRp/(K + LRp) read inside the
#     transcription law, initial assignments) against receptor_rule.model (the law written out):
#     simulate byte-identical; the rule observable Rtot (a sum) works; observing a rule that is
#     not a sum of species (Vfrac = act*M) gives moments (an expression observable); the gradients (fsp, score,
#     stgs, fd; seed 3) by kon_M (a derived mass-action rate in a model with laws), K and ktx (read
#     through the inlined rule) equal the native file's by kon, K, ktx (1e-9 relative); with
#     ktx = ktx_a + ktx_b (an initial assignment read by the law), d/dlog ktx_a = 0.4 d/dlog ktx
#     (the chain rule through a derived parameter in a law; fd: the other columns only, its step
#     in log ktx_a is another perturbation of ktx).
#  6. refused SBML constructs (rate rule, algebraic rule, event): one line naming file, element,
#     line and why; no output file.
# usage: sbml_rules.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
m=$root/tests/models
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
pass=0
fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

run() { # name ranks [options...]
  name=$1; n=$2; shift 2
  if ! timeout 300 mpirun -n "$n" --oversubscribe "$exe" "$@" -stgssa_output "$work/$name.h5" > "$work/$name.log" 2>&1; then
    bad "run $name:"; cat "$work/$name.log"; finish
  fi
}
bytes() { # file datasets... : raw little-endian bytes
  f=$1; shift
  for d in "$@"; do h5dump -b LE -d "$d" -o "$work/bin" "$f" > /dev/null 2>&1 && cat "$work/bin"; done
}
same_bytes() { # what fileA fileB "datasets of A" "datasets of B"
  bytes "$2" $4 > a.bin
  bytes "$3" $5 > b.bin
  if [ -s a.bin ] && cmp -s a.bin b.bin; then ok "$1"; else bad "$1"; fi
}
check() { # what python-expression-script (exit 0 = pass)
  if $py - "$work" > check.log 2>&1; then ok "$1 $(cat check.log)"; else bad "$1"; cat check.log; fi
}
expect_error() { # name pattern [options...]
  name=$1; pat=$2; shift 2
  if "$exe" "$@" -stgssa_output "$work/x.h5" > "$work/$name.log" 2>&1; then bad "$name accepted"
  elif grep -q "$pat" "$work/$name.log" && [ "$(grep -c 'error' "$work/$name.log")" -eq 1 ] && [ ! -e "$work/x.h5" ]; then ok "$name: $(grep -o 'error: .*' "$work/$name.log" | cut -c1-200)"
  else bad "$name: unexpected message:"; cat "$work/$name.log"; fi
}

# ---------------------------------------------------------------- 1. simulate, .net vs BioNetGen-style SBML
sim="-stgssa_mode simulate -stgssa_ntraj 4000 -stgssa_seed 5 -stgssa_tfinal 5 -stgssa_sample_times 0.5,1,5"
for n in 1 2; do
  run net$n $n -stgssa_model "$m/receptor.net" $sim -stgssa_observe Bound,A_P,Sites,L_r,R_l_p_0
  run xml$n $n -stgssa_model "$m/receptor_bng.xml" $sim -stgssa_observe Bound,A_P,Sites,S1,S2
  g="/simulate/times /simulate/moments/Bound /simulate/moments/A_P /simulate/moments/Sites /simulate/histograms/Bound /simulate/histograms/A_P /simulate/histograms/Sites"
  same_bytes "simulate on $n rank(s): rule observables Bound, A_P, Sites byte-identical to the .net groups" net$n.h5 xml$n.h5 "$g" "$g"
  same_bytes "simulate on $n rank(s): species L_r, R_l_p_0 of .net byte-identical to S1, S2 of the SBML export" net$n.h5 xml$n.h5 \
    "/simulate/moments/L_r /simulate/moments/R_l_p_0 /simulate/histograms/L_r" "/simulate/moments/S1 /simulate/moments/S2 /simulate/histograms/S1"
done
if h5diff xml1.h5 xml2.h5 /simulate /simulate > /dev/null; then ok "receptor_bng.xml: /simulate identical on 1 and 2 ranks"; else bad "receptor_bng.xml differs between 1 and 2 ranks"; fi

# ---------------------------------------------------------------- 2. fsp
fsp="-stgssa_mode fsp -stgssa_sample_times 0.5,1,5 -stgssa_observe Bound,A_P,Sites"
run fspnet 1 -stgssa_model "$m/receptor.net" $fsp
run fspxml 1 -stgssa_model "$m/receptor_bng.xml" $fsp
d=""
for o in Bound A_P Sites; do d="$d /fsp/distribution/$o /fsp/moments/$o /fsp/sensitivity/$o /fsp/moments_gradient/$o"; done
same_bytes "fsp: distributions, moments, sensitivities of the rule observables byte-identical to the .net groups" fspnet.h5 fspxml.h5 "$d" "$d"
run fspsp 1 -stgssa_model "$m/receptor_bng.xml" -stgssa_mode fsp -stgssa_sample_times 0.5,1,5 -stgssa_observe S3,S4,Bound
check "fsp: the marginal of the rule Bound has mass 1 and mean E[S3] + E[S4] (1e-12 relative)" << 'PY'
import sys, h5py, numpy as np
w = sys.argv[1]
f = h5py.File(w + "/fspsp.h5", "r")
# E[Bound] = E[S3] + E[S4] exactly (linearity), and the distribution sums to 1
mb = f["/fsp/moments/Bound"][:, 0]; m3 = f["/fsp/moments/S3"][:, 0]; m4 = f["/fsp/moments/S4"][:, 0]
p = f["/fsp/distribution/Bound"][...]
err = np.max(np.abs(mb - (m3 + m4)) / np.maximum(1e-300, np.abs(mb)))
mean_from_p = (p * np.arange(p.shape[1])).sum(axis=1)
err2 = np.max(np.abs(mean_from_p - mb) / mb)
print("mean relative error %.2e, %.2e" % (err, err2))
sys.exit(0 if err < 1e-12 and err2 < 1e-12 and np.allclose(p.sum(axis=1), 1, atol=1e-12) else 1)
PY
check "simulate vs fsp, rule observable Bound: Kolmogorov distance <= 1.95/sqrt(4000) = 0.0308" << 'PY'
import sys, h5py, numpy as np
w = sys.argv[1]
s = h5py.File(w + "/xml1.h5", "r")["/simulate/histograms/Bound"][...]
e = h5py.File(w + "/fspxml.h5", "r")["/fsp/distribution/Bound"][...]
n = min(s.shape[1], e.shape[1])
ks = max(np.max(np.abs(np.cumsum(s[i, :n]) - np.cumsum(e[i, :n]))) for i in range(3))
print("D = %.4f" % ks)
sys.exit(0 if ks <= 1.95 / np.sqrt(4000) else 1)
PY

# ---------------------------------------------------------------- 3. overrides
run ovnet 1 -stgssa_model "$m/receptor.net" $sim -stgssa_observe Bound,L_r -stgssa_parameters kon_M=0.04,L0=30
run ovxml 1 -stgssa_model "$m/receptor_bng.xml" $sim -stgssa_observe Bound,S1 -stgssa_parameters kon_M=0.04,L0=30
run ovfree 1 -stgssa_model "$m/receptor.net" $sim -stgssa_observe Bound,L_r -stgssa_parameters kon=0.02,L0=30
o="/simulate/moments/Bound /simulate/histograms/Bound"
same_bytes "override kon_M=0.04,L0=30: .net and SBML byte-identical" ovnet.h5 ovxml.h5 "$o /simulate/moments/L_r" "$o /simulate/moments/S1"
same_bytes "override kon_M=0.04 re-evaluates kon = kon_M/NAV: equal to kon freed at 0.02" ovnet.h5 ovfree.h5 "$o /simulate/moments/L_r" "$o /simulate/moments/L_r"
check "override L0=30 moves the initial count of L (mean L at t=0.5 near 30 - bound, > 20)" << 'PY'
import sys, h5py
w = sys.argv[1]
a = h5py.File(w + "/ovnet.h5", "r")["/simulate/moments/L_r"][0, 0]
b = h5py.File(w + "/net1.h5", "r")["/simulate/moments/L_r"][0, 0]
print("mean L(0.5): %.3f with L0=30, %.3f without" % (a, b))
sys.exit(0 if a > 20 and b < 20 else 1)
PY

# ---------------------------------------------------------------- 4. gradients through derived parameters
gr="-stgssa_mode gradient -stgssa_gradient fsp -stgssa_sample_times 0.5,1,5 -stgssa_observe Bound,A_P"
run gkm 1 -stgssa_model "$m/receptor_bng.xml" $gr -stgssa_fit kon_M
run gkon 1 -stgssa_model "$m/receptor.net" $gr -stgssa_parameters kon=0.01 -stgssa_fit kon
run gkp 1 -stgssa_model "$m/receptor.net" $gr -stgssa_fit kp
run gkpdp 1 -stgssa_model "$m/receptor.net" $gr -stgssa_parameters kdp=0.8 -stgssa_fit kp,kdp
sc="-stgssa_mode gradient -stgssa_gradient score -stgssa_ntraj 2000 -stgssa_seed 3 -stgssa_sample_times 0.5,1,5 -stgssa_observe Bound,A_P"
run skm 1 -stgssa_model "$m/receptor.net" $sc -stgssa_fit kon_M
run skon 1 -stgssa_model "$m/receptor.net" $sc -stgssa_parameters kon=0.01 -stgssa_fit kon
check "d/dlog kon_M (kon follows) = d/dlog kon (freed); d/dlog kp (kdp follows) = d/dlog kp + d/dlog kdp (freed); score alike" << 'PY'
import sys, h5py, numpy as np
w = sys.argv[1]
def g(n, o): return h5py.File(w + "/" + n + ".h5", "r")["/gradient/moments_gradient/" + o][...]
worst = 0.0
both = lambda f: np.concatenate([np.ravel(f(o)) for o in ("Bound", "A_P")])  # Bound does not depend on kp: compare relative to the largest entry
for a, b in ((both(lambda o: g("gkm", o)), both(lambda o: g("gkon", o))),
             (both(lambda o: g("gkp", o)[..., 0]), both(lambda o: g("gkpdp", o).sum(axis=-1))),
             (both(lambda o: g("skm", o)), both(lambda o: g("skon", o)))):
    scale = np.max(np.abs(b))
    if not scale > 0: sys.exit(1)
    worst = max(worst, np.max(np.abs(a - b)) / scale)
print("largest relative difference %.2e" % worst)
sys.exit(0 if worst < 1e-9 else 1)
PY
expect_error fit_derived "receptor.net:9: kon = kon_M/NAV) and follows the parameters it is computed from" -stgssa_model "$m/receptor.net" $gr -stgssa_fit kon
expect_error fit_count "parameter 'L0' sets the initial count of species 'L_r' (.*receptor.net:15)" -stgssa_model "$m/receptor.net" $gr -stgssa_fit L0
expect_error fit_not_proportional "is the derived parameter kon = kon_M/NAV (line 9), which is not proportional to the fitted 'NAV'" -stgssa_model "$m/receptor.net" $gr -stgssa_fit NAV

# ---------------------------------------------------------------- 5. BioModels style: a rule inside a kinetic law
run rnat 1 -stgssa_model "$m/receptor_rule.model" $sim -stgssa_observe LRp,M,L
run rxml 1 -stgssa_model "$m/receptor_rule.xml" $sim -stgssa_observe LRp,M,L,Rtot
r="/simulate/times /simulate/moments/LRp /simulate/moments/M /simulate/moments/L /simulate/histograms/M /simulate/histograms/L"
same_bytes "receptor_rule.xml (act inlined into the transcription law) byte-identical to receptor_rule.model" rnat.h5 rxml.h5 "$r" "$r"
check "Rtot = R + LR + LRp: mean 10, variance 0 at every time (conserved)" << 'PY'
import sys, h5py, numpy as np
m = h5py.File(sys.argv[1] + "/rxml.h5", "r")["/simulate/moments/Rtot"][...]
print(m[:, :2].tolist())
sys.exit(0 if np.all(m[:, 0] == 10) and np.all(m[:, 1] == 0) else 1)
PY
run rvf 1 -stgssa_model "$m/receptor_rule.xml" $sim -stgssa_observe Vfrac
check "Vfrac = act*M (not a sum of species): an expression observable, moments and no histogram (tests/sbml_expr.sh checks them)" << 'PY'
import sys, h5py, numpy as np
s = h5py.File(sys.argv[1] + "/rvf.h5", "r")["/simulate"]
m = s["moments/Vfrac"][...]
print(m[:, 0].tolist())
sys.exit(0 if "histograms" not in s and np.all(np.isfinite(m)) and np.all(m[:, 0] > 0) else 1)
PY
for est in fsp score stgs fd; do
  ge="-stgssa_mode gradient -stgssa_gradient $est -stgssa_ntraj 500 -stgssa_seed 3 -stgssa_sample_times 0.5,1,5 -stgssa_observe LRp,M"
  run rgn_$est 1 -stgssa_model "$m/receptor_rule.model" $ge -stgssa_fit kon,K,ktx
  run rgx_$est 1 -stgssa_model "$m/receptor_rule.xml" $ge -stgssa_fit kon_M,K,ktx
done
check "gradients (fsp, score, stgs, fd) by kon_M (kon = kon_M/NAV follows), K and ktx (read through the inlined rule): SBML = native with kon (1e-9)" << 'PY'
import sys, h5py, numpy as np
w = sys.argv[1]
worst = 0.0
for est in ("fsp", "score", "stgs", "fd"):
    for o in ("LRp", "M"):
        a = h5py.File(w + "/rgn_" + est + ".h5", "r")["/gradient/moments_gradient/" + o][...]
        b = h5py.File(w + "/rgx_" + est + ".h5", "r")["/gradient/moments_gradient/" + o][...]
        if not np.max(np.abs(a)) > 0: sys.exit(1)
        worst = max(worst, np.max(np.abs(a - b)) / np.max(np.abs(a)))
print("largest relative difference %.2e" % worst)
sys.exit(0 if worst < 1e-9 else 1)
PY

# the law reads a derived parameter: ktx = ktx_a + ktx_b (initial assignment; 2 + 3), fitted by
# ktx_a: the chain rule gives d/dlog ktx_a = (ktx_a/ktx) d/dlog ktx = 0.4 d/dlog ktx
sed 's#<parameter id="ktx" value="5" constant="true"/>#<parameter id="ktx" constant="true"/><parameter id="ktx_a" value="2" constant="true"/><parameter id="ktx_b" value="3" constant="true"/>#
     s#<initialAssignment symbol="kon">#<initialAssignment symbol="ktx"><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><plus/><ci> ktx_a </ci><ci> ktx_b </ci></apply></math></initialAssignment><initialAssignment symbol="kon">#' \
  "$m/receptor_rule.xml" > sum.xml
for est in fsp score stgs fd; do
  run rgs_$est 1 -stgssa_model sum.xml -stgssa_mode gradient -stgssa_gradient $est -stgssa_ntraj 500 -stgssa_seed 3 -stgssa_sample_times 0.5,1,5 -stgssa_observe LRp,M -stgssa_fit kon_M,K,ktx_a
done
check "a law reading ktx = ktx_a + ktx_b: d/dlog ktx_a = 0.4 d/dlog ktx (chain rule), every estimator (fsp 1e-7, others 1e-9)" << 'PY'
import sys, h5py, numpy as np
w = sys.argv[1]
worst = 0.0
# fsp: the time stepper's error control sees the sensitivity column scaled by 0.4, so its steps
# differ from the native run's: agreement to the solver's accuracy (measured 3e-10), not bitwise
for est in ("fsp", "score", "stgs", "fd"):
    for o in ("LRp", "M"):
        a = h5py.File(w + "/rgs_" + est + ".h5", "r")["/gradient/moments_gradient/" + o][...]
        b = h5py.File(w + "/rgn_" + est + ".h5", "r")["/gradient/moments_gradient/" + o][...]
        b[..., 2] *= 0.4
        if est == "fd": a, b = a[..., :2], b[..., :2]  # fd steps differ in log ktx_a and log ktx
        e = np.max(np.abs(a - b)) / np.max(np.abs(b))
        if e > (1e-7 if est == "fsp" else 1e-9): print(est, o, e); sys.exit(1)
        worst = max(worst, e)
print("largest relative difference %.2e" % worst)
PY

# ---------------------------------------------------------------- 6. refused constructs
math='<math xmlns="http://www.w3.org/1998/Math/MathML"><cn> 1 </cn></math>'
sed "s#<listOfRules>#<listOfRules><rateRule variable=\"kp\">$math</rateRule>#" "$m/receptor_rule.xml" > raterule.xml
expect_error rate_rule "raterule.xml: SBML element rateRule 'kp' (line [0-9]*): rate rules are not supported (a quantity changed continuously" -stgssa_model raterule.xml $sim
sed "s#<listOfRules>#<listOfRules><algebraicRule>$math</algebraicRule>#" "$m/receptor_rule.xml" > algrule.xml
expect_error algebraic_rule "algrule.xml: SBML element algebraicRule '' (line [0-9]*): algebraic rules are not supported" -stgssa_model algrule.xml $sim
sed 's#</listOfReactions>#</listOfReactions><listOfEvents><event id="pulse" useValuesFromTriggerTime="true"><trigger initialValue="false" persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><gt/><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time"> t </csymbol><cn> 5 </cn></apply></math></trigger><listOfEventAssignments><eventAssignment variable="M"><math xmlns="http://www.w3.org/1998/Math/MathML"><cn> 0 </cn></math></eventAssignment></listOfEventAssignments></event></listOfEvents>#' \
  "$m/receptor_rule.xml" > event.xml
expect_error event "event.xml: SBML element event 'pulse' (line [0-9]*): events are not supported" -stgssa_model event.xml $sim
finish
