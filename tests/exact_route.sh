#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The exact route when it fits (telegraph model, small projections, each run < 2 s):
#  (1) -stgssa_gradient auto (the default) takes fsp when the projection sets up, and says so;
#  (2) it takes score, with the FSP's reason, when the projection exceeds -stgssa_fsp_max_states;
#  (3) gradient (-stgssa_gradient fsp) and fsp modes start from the exact steady state with no -stgssa_initial_burnin:
#      telegraph at steady state has E[M] = k_tx k_on/((k_on+k_off) k_deg) = 20*0.5/2.5 = 4 exactly
#      (to 1e-5: the six digits printed; the FSP truncation error is below 1e-6) at every sample time;
#  (3b) simulate mode (the SSA route) of this first-order network chooses the burn-in itself;
#  (4) an exact fit whose line search tries parameters the projection cannot hold (the FSP fails
#      there: mass leaves the bounds) rejects those trial points and still converges, with blmvm
#      and the stall rule chosen by default; its loss matches a run with bounds that hold every
#      trial point (-stgssa_fsp_max M=70) to 1e-6 relative.
#  FSP output prints no SSA counts (no "SSA events", no load balance, "exact" standard errors).
# usage: exact_route.sh STGSSA_HPC SOURCE_ROOT
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
/usr/bin/python3 - <<'PY'
import numpy as np
r = np.random.default_rng(1)
with open('big.csv', 'w') as f:
    f.write('time,M\n')
    for t in (1, 2):
        for x in r.poisson(18, 300):
            f.write('%d,%d\n' % (t, x))
PY
tg="-stgssa_model $root/input/telegraph.model -stgssa_sample_times 1,2 -stgssa_tfinal 2"

# (1) auto -> fsp
"$exe" $tg -stgssa_mode gradient -stgssa_data big.csv -stgssa_fsp_max M=60 -stgssa_output g1.h5 > g1.log 2>&1
grep -q "^gradient: fsp (exact): the projection holding the probability mass at the start values has 122 states <= -stgssa_fsp_max_states" g1.log &&
  grep -q "exact$" g1.log && ! grep -q "SSA events\|trajectories\|max/mean" g1.log
check "auto takes fsp on a 122-state projection; no SSA output" $? g1.log

# (2) auto -> score with the reason
"$exe" $tg -stgssa_mode gradient -stgssa_data big.csv -stgssa_fsp_max M=60 -stgssa_fsp_max_states 50 -stgssa_ntraj 200 -stgssa_output g2.h5 > g2.log 2>&1
grep -q "^gradient: score: the exact FSP route failed to set up: FSP: the projection reached -stgssa_fsp_max_states 50 states" g2.log &&
  grep -q "score derivatives" g2.log
check "auto takes score beyond -stgssa_fsp_max_states, with the reason" $? g2.log

# (3) steady start, no burn-in: gradient mode (auto -> fsp) and fsp mode
"$exe" $tg -stgssa_mode gradient -stgssa_gradient fsp -stgssa_fsp_max M=60 -stgssa_initial steady -stgssa_output g3.h5 > g3.log 2>&1 &&
  awk '/^  M at t = /{ n++; if ($7 + 0 < 4 - 1e-5 || $7 + 0 > 4 + 1e-5) bad++ } END { exit !(n == 2 && bad == 0) }' g3.log
check "gradient mode, steady start without burn-in: E[M] = 4 at t = 1, 2" $? g3.log
"$exe" $tg -stgssa_mode fsp -stgssa_fsp_max M=60 -stgssa_initial steady -stgssa_output f3.h5 > f3.log 2>&1
check "fsp mode, steady start without burn-in" $? f3.log

# (3b) the SSA route (simulate) of a first-order network without -stgssa_initial_burnin: the
#      default burn-in 20/lambda, lambda = min(k_on + k_off, k_deg) = 1; stationary E[M] = 4 within
#      4 standard errors (sqrt(Var/N), Var from the run; fixed seed)
"$exe" -stgssa_model $root/input/telegraph.model -stgssa_mode simulate -stgssa_initial steady -stgssa_ntraj 20000 -stgssa_tfinal 1 -stgssa_output s3.h5 > s3.log 2>&1 &&
  grep -q "^initial: steady, by an SSA burn-in of 20 (default: 20 relaxation times 1/lambda, lambda = 1 " s3.log &&
  awk '$1 == "M" && NF == 5 { se = sqrt($4 / 20000); d = $3 - 4; if (d < 0) d = -d; ok = (d <= 4 * se) } END { exit !ok }' s3.log
check "simulate, steady start: default burn-in 20 relaxation times; E[M] = 4 within 4 s.e." $? s3.log

# (4) a fit across failing trial points. Automatic bounds: blmvm's first trial point (k_tx far up)
#     would need the projection to grow past 4x the largest one solved (264 -> 528 states), so it
#     is rejected, the line search steps back, and the fit converges to the optimum found with
#     wide explicit bounds (M <= 70). With explicit bounds at M = 60 the failing points form a wall
#     the line search may end on (blmvm: DIVERGED_LS_FAILURE): the run still ends, reports the
#     rejections and writes its output.
fit="$tg -stgssa_mode optimize -stgssa_data big.csv -stgssa_loss timecourse -stgssa_fit k_on,k_off,k_tx -stgssa_parameters k_tx=5"
"$exe" $fit -stgssa_output o1.h5 > o1.log 2>&1 &&
  grep -q "^optimizer: blmvm (exact gradients)" o1.log && grep -q "trial points\? rejected (the FSP failed there" o1.log &&
  grep -q "CONVERGED_USER" o1.log && ! grep -q "max/mean" o1.log
check "exact fit rejects failing trial points and converges (blmvm, stall rule)" $? o1.log
"$exe" $fit -stgssa_fsp_max M=70 -stgssa_output o2.h5 > o2.log 2>&1
l1=$(awk '/final loss/{print $3}' o1.log)
l2=$(awk '/final loss/{print $3}' o2.log)
awk -v a="$l1" -v b="$l2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= 1e-6 * b) }'
check "same optimum as with wider bounds: $l1 vs $l2" $? o2.log
"$exe" $fit -stgssa_fsp_max M=60 -stgssa_output o3.h5 > o3.log 2>&1 && [ -f o3.h5 ] && grep -q "trial points rejected (the FSP failed there" o3.log
check "explicit bounds at M = 60: the fit ends with its output and reports the rejected points" $? o3.log

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
