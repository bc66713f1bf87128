#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Large-design demonstration, shortened (README "Large design: exclusion ring of 100 sites"):
# every forward rate of an exclusion ring of L = 12 sites with N = 6 particles fitted (P = 12)
# to maximize the current under the activity budget B = 8, from the non-uniform start of
# input/studies/exclusion_ring.py. Exact checks at the optimized rates (the 924-configuration
# stationary master equation, postprocess/exclusion_design.py --exact):
#  - J <= J*(A) = (A - 2q)/L (the bound, A = L J + 2 q W_walls with W_walls >= 1);
#  - J >= 0.90 J*(B) = 0.90 (B - 2q)/L, 3.5x the homogeneous ring's J_hom(B) = B/L - 2q N(L-N)/(L(L-1));
#  - the activity at most 3% above the budget.
# Tolerance: the fit is stochastic (fixed seed 1; bitwise the same on any rank count); measured
# J/J*(B) = 0.969, 0.940, 0.971 with seeds 1, 2, 3 (A = 8.08-8.11), about 30 s on 1 rank. 0.90
# leaves room below the worst seed for the last iterate's jitter. The last iterate (--average 0), not
# the generator's averaged default: in 150 iterations the later half is still climbing (averaged:
# 0.930, 0.903, 0.946 with seeds 1-3, too close to 0.90); the bound J <= J*(A) holds for
# any rates, so a failure there is an error of the exact solver or of the model file.
# usage: exclusion_design.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
/usr/bin/python3 "$root/input/studies/exclusion_ring.py" 12 --prefix ring12 --iterations 150 --lr 0.1 --average 0 > /dev/null || { echo "FAIL generator"; exit 1; }
if ! mpirun -n 2 "$exe" -options_file ring12.opts -stgssa_output ring12.h5 > fit.log 2>&1; then
  echo "FAIL optimize run:"; tail -20 fit.log; exit 1
fi
/usr/bin/python3 "$root/postprocess/exclusion_design.py" ring12.h5 --exact > pp.log 2>&1 || { echo "FAIL postprocess:"; cat pp.log; exit 1; }
cat pp.log
fail=0
pass=0
val() { awk -v k="$1" '$1 == "exact_values" { for (i = 2; i < NF; i += 2) if ($i == k) print $(i + 1) }' pp.log; }
j=$(val J)
a=$(val A)
jstar=$(val Jstar)
jhom=$(val Jhom)
echo "     exact at the result: J = $j, A = $a; J* = $jstar, J_hom(B) = $jhom"
num() { awk -v v="$1" 'BEGIN { exit !(v ~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/) }'; }
num "$j" && num "$a" && num "$jstar" && num "$jhom" || { echo "FAIL no exact values in the postprocess output"; exit 1; }
check() { # description, awk condition over j a js jh
  if awk -v j="$j" -v a="$a" -v js="$jstar" -v jh="$jhom" "BEGIN { j += 0; a += 0; js += 0; jh += 0; exit !($2) }"; then echo "ok   $1"; pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi
}
check "J <= J*(A) = (A - 2q)/12 (the bound)" "j <= (a - 2) / 12 + 1e-9"
check "J >= 0.90 J*(B)" "j >= 0.90 * js"
check "J >= 3.5 J_hom(B)" "j >= 3.5 * jh"
check "A <= 1.03 B" "a <= 1.03 * 8"
# -stgssa_bounds at full length: 400 rates make a 5.5 kB list (a fixed 4 kB buffer cut it inside
# p300's item: "found 'p300='"); the last rate's bound, made to exclude its start, must be read
/usr/bin/python3 "$root/input/studies/exclusion_ring.py" 400 --prefix ring400 --ntraj 4 --iterations 1 > /dev/null || { echo "FAIL generator (400)"; exit 1; }
"$exe" -options_file ring400.opts -stgssa_bounds "$(sed -n 's/^-stgssa_bounds //p' ring400.opts | sed 's/p399=1e-2:1e3$/p399=100:1e3/')" \
  -stgssa_output ring400.h5 > b400.log 2>&1
if grep -q "Start value .* of p399 is outside -stgssa_bounds \\[100., 1000.\\]" b400.log; then echo "ok   -stgssa_bounds of 400 rates read to the end"; pass=$((pass + 1))
else echo "FAIL -stgssa_bounds of 400 rates:"; tail -3 b400.log; fail=$((fail + 1)); fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
