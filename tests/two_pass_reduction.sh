#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The two-pass reduction of a loss's score evaluation (-stgssa_reduction two_pass, issue 17):
#  - the same loss (bitwise: pass 1 reduces the same exact sums of values) and the same gradient
#    and standard errors as the single reduction to rounding: the gradient is the same unbiased
#    score covariance contracted with dL/dmu in another order (per trajectory, then summed),
#    so the tolerance is 1e-12 relative to the largest |component| (measured ~2e-16);
#    on a design loss (exclusion ring, current and activity budget) and a moment-fit loss;
#  - bitwise the same /history (loss, gradient, its standard error, theta) on 1, 2 and 3 ranks;
#  - pass 2 replaying the trajectories (-stgssa_score_memory 0) bitwise equal to keeping them;
#  - auto takes two passes when the single reduction would exceed 8 MiB (many sample times),
#    and beyond 64 fitted rates (P = 100: equal to the forced single reduction, bitwise on 2 ranks);
#  - /gradient/moments_gradient_stderr: with a moments loss on the mean at one time only
#    (orders 1), dL/dtheta = c dmu_mean/dtheta, so the loss gradient's batch standard error
#    (objective.c) must be |c| times moments_gradient_stderr's mean row (evaluator.c): the same
#    batch formula by two code paths, to 1e-10 relative; exactly 0 on the exact (fsp) route.
# usage: two_pass_reduction.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail=0
pass=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
run() { # ranks output args...
  n=$1; out=$2; shift 2
  if ! timeout 300 mpirun -n "$n" --oversubscribe "$exe" "$@" -stgssa_output "$out.h5" > "$out.log" 2>&1; then
    echo "FAIL run $out:"; cat "$out.log"; exit 1
  fi
}
# history datasets equal (to tolerance tol; 0: bitwise)
cmp_hist() { # a b tol label
  if $py - "$1.h5" "$2.h5" "$3" <<'EOF'; then ok "$4"; else bad "$4"; fi
import sys, h5py, numpy as np
a, b, tol = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r"), float(sys.argv[3])
bad = 0
for d in ("loss", "theta", "gradient", "gradient_stderr"):
    x, y = a["history/" + d][...], b["history/" + d][...]
    if x.shape != y.shape or x.size == 0: print("  shape", d, x.shape, y.shape); bad = 1; continue
    t = 0.0 if d == "loss" else tol   # pass 1 reduces the same exact sums: the loss is bitwise
    if t == 0.0 and x.tobytes() != y.tobytes(): print("  %s differs bitwise" % d); bad = 1
    r = np.max(np.abs(x - y)) / max(np.max(np.abs(x)), 1e-300)
    if r > t: print("  %s: relative difference %.3g > %.3g" % (d, r, t)); bad = 1
    else: print("     %s: relative difference %.3g" % (d, r))
sys.exit(bad)
EOF
}

excl="-options_file $root/input/studies/exclusion.opts -stgssa_model $root/input/studies/exclusion_L6.model
      -stgssa_budget_activity 8 -tao_max_it 2 -stgssa_ntraj 401 -stgssa_tfinal 10"
run 1 ds $excl -stgssa_reduction single
run 1 dt $excl -stgssa_reduction two_pass
grep -q "reduction (-stgssa_reduction two_pass): two passes" dt.log && ok "design: two_pass takes two passes" || bad "design: no two-pass line"
grep -q "reduction (-stgssa_reduction single): one pass" ds.log && ok "design: single takes one" || bad "design: no single line"
cmp_hist ds dt 1e-12 "design loss: two_pass = single (loss bitwise, gradient and stderr to 1e-12)"
for n in 2 3; do
  run $n dt$n $excl -stgssa_reduction two_pass
  cmp_hist dt dt$n 0 "design, two_pass: /history bitwise on 1 and $n ranks"
done
# fewer gradient trajectories than values (-stgssa_ntraj_grad): the last of 3 ranks holds none of them
run 3 dgs $excl -stgssa_reduction single -stgssa_ntraj_grad 150
run 3 dgt $excl -stgssa_reduction two_pass -stgssa_ntraj_grad 150
cmp_hist dgs dgt 1e-12 "-stgssa_ntraj_grad 150 of 401 on 3 ranks: two_pass = single"
run 2 dr $excl -stgssa_reduction two_pass -stgssa_score_memory 0
grep -q "pass 2 replays trajectories" dr.log && ok "-stgssa_score_memory 0 replays" || bad "-stgssa_score_memory 0 did not replay"
grep -q "pass 2 reads the kept trajectories" dt.log && ok "default memory keeps the trajectories" || bad "default memory did not keep them"
cmp_hist dt dr 0 "replayed pass 2 (2 ranks) bitwise equal to the kept one (1 rank)"

# auto: 12 species x 100 sample times make M ~ 3600 observables: K (2M + M P + 101 P) 144 B ~ 70 MB > 8 MiB -> two passes
times=$(seq -s, 0.1 0.1 10)
run 1 da $excl -stgssa_observe X0,X1,X2,X3,X4,X5,E0,E1,E2,E3,E4,E5 -stgssa_sample_times "$times" -tao_max_it 0
grep -q "reduction (-stgssa_reduction auto): two passes" da.log && ok "auto: two passes on a large single reduction" || { bad "auto did not choose two passes"; cat da.log; }
run 1 dsm $excl -tao_max_it 0
grep -q "reduction (-stgssa_reduction auto): one pass" dsm.log && ok "auto: one pass on a small reduction" || bad "auto did not keep one pass"

# beyond 64 fitted rates (the score at any P): auto takes two passes, equal to the forced single
# reduction to rounding, bitwise on 1 and 2 ranks (every forward rate of a 100-site ring, P = 100)
/usr/bin/python3 "$root/input/studies/exclusion_model.py" 100 50 > ring100.model || exit 1
fit=$(seq -s, 0 99 | sed 's/\([0-9]*\)/p\1/g')
big="-stgssa_model ring100.model -stgssa_mode optimize -stgssa_loss design -stgssa_design current -stgssa_design_pair hop_0
     -stgssa_budget_activity 150 -stgssa_penalty 1 -stgssa_gradient score -stgssa_observe X0 -stgssa_fit $fit -stgssa_ntraj 101
     -stgssa_tfinal 1 -stgssa_batches 4 -stgssa_seed 3 -tao_type adam -tao_max_it 1 -stgssa_adaptive_ntraj 0 -stgssa_average 0"
run 1 bs $big -stgssa_reduction single
run 1 ba $big
grep -q "reduction (-stgssa_reduction auto): two passes" ba.log && ok "P = 100: auto takes two passes" || bad "P = 100: auto did not take two passes"
cmp_hist bs ba 1e-12 "P = 100: two passes = single (loss bitwise, gradient and stderr to 1e-12)"
run 2 ba2 $big
cmp_hist ba ba2 0 "P = 100, two passes: /history bitwise on 1 and 2 ranks"

# moment-fit loss (score) on the telegraph model
tel="-stgssa_model $root/input/telegraph.model -stgssa_tfinal 10 -stgssa_observe M -stgssa_seed 9"
run 1 data $tel -stgssa_mode simulate -stgssa_ntraj 2000 -stgssa_sample_times 2,5,10
mom="$tel -stgssa_mode optimize -stgssa_loss moments -stgssa_data data.h5 -stgssa_gradient score -stgssa_ntraj 301
     -stgssa_parameters k_on=0.5 -stgssa_fit k_on,k_off,k_tx,k_deg -tao_type adam -tao_max_it 2 -stgssa_adaptive_ntraj 0 -stgssa_average 0"
run 1 ms $mom -stgssa_reduction single
run 1 mt $mom -stgssa_reduction two_pass
grep -q "two passes" mt.log && ok "moments: two_pass takes two passes" || bad "moments: no two-pass line"
cmp_hist ms mt 1e-12 "moments loss: two_pass = single (loss bitwise, gradient and stderr to 1e-12)"

# moments_gradient_stderr against the loss gradient's batch standard error
run 1 one $tel -stgssa_mode simulate -stgssa_ntraj 2000 -stgssa_sample_times 5
run 1 gm $tel -stgssa_mode gradient -stgssa_loss moments -stgssa_moment_orders 1 -stgssa_data one.h5 -stgssa_gradient score \
  -stgssa_ntraj 4000 -stgssa_sample_times 5 -stgssa_parameters k_on=0.5 -stgssa_fit k_on,k_off,k_tx,k_deg
if $py - gm.h5 <<'EOF'; then ok "moments_gradient_stderr [T x 3 x P] = the loss gradient's batch stderr / |dL/dmean| (1e-10)"; else bad "moments_gradient_stderr"; fi
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")["gradient"]
dm, se = f["moments_gradient/M"][...], f["moments_gradient_stderr/M"][...]
g, gse = f["gradient"][...], f["gradient_stderr"][...]
assert se.shape == dm.shape == (1, 3, 4), se.shape
c = g / dm[0, 0, :]                       # dL/dmean, the same for every parameter
print("     dL/dmean per parameter:", c, "stderr of d mean/d log k:", se[0, 0, :])
r1 = np.max(np.abs(c - c[0])) / abs(c[0])
r2 = np.max(np.abs(gse - abs(c[0]) * se[0, 0, :]) / gse)
print("     spread of dL/dmean %.2g, stderr relation %.2g" % (r1, r2))
sys.exit(0 if r1 < 1e-10 and r2 < 1e-10 and np.all(se > 0) else 1)
EOF
run 1 gf $tel -stgssa_mode gradient -stgssa_gradient fsp -stgssa_sample_times 2,5 -stgssa_fit k_on,k_off
if $py -c "import h5py,numpy as np,sys; s=h5py.File('gf.h5','r')['gradient/moments_gradient_stderr/M'][...]; print('     fsp stderr max', abs(s).max()); sys.exit(0 if s.shape==(2,3,2) and np.all(s==0) else 1)"; then ok "fsp route: moments_gradient_stderr exactly 0"; else bad "fsp route stderr"; fi

# two_pass applies to the score estimator only
"$exe" $excl -stgssa_gradient fd -stgssa_reduction two_pass -stgssa_output x.h5 > fd.log 2>&1
grep -q "stgssa_reduction two_pass applies to the score estimator" fd.log && ok "two_pass with fd refused" || { bad "two_pass with fd not refused"; cat fd.log; }
"$exe" $excl -stgssa_score_memory -1 -stgssa_output x.h5 > mem.log 2>&1
grep -q "stgssa_score_memory must be a nonnegative number of MB" mem.log && ok "negative -stgssa_score_memory refused" || { bad "negative memory not refused"; cat mem.log; }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
