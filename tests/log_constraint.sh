#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# -stgssa_log_constraint: (1) a short TUR design run on a 3-state ring with the cycle affinity
# fixed (km3 = kp1+kp2+kp3-km1-km2-4): the constraint holds to 1e-12 in every /history row and
# in /result; (2) the gradient handed to TAO (B^T dL/dtheta) agrees with finite differences of
# the loss in the free coordinates (exact FSP gradient, TAO's gradient test); (3) a run restarted
# from the final checkpoint of a shorter run ends bitwise equal to the uninterrupted run.
# usage: log_constraint.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
pass=0
cd "$work" || exit 1

ring="-stgssa_model $root/input/studies/ring_N3.model -stgssa_mode optimize -stgssa_loss design -stgssa_design tur
      -stgssa_design_pair bond1 -stgssa_entropy -stgssa_parameters kp1=2,kp2=0.5,kp3=1.5,km1=0.7,km2=1.3
      -stgssa_log_constraint km3=kp1+kp2+kp3-km1-km2-4 -stgssa_ntraj 400 -stgssa_tfinal 10 -stgssa_seed 5"

# (1) the constraint in every row of /history/theta (columns kp1 kp2 kp3 km1 km2 km3) and in /result
timeout 300 "$exe" $ring -tao_max_it 15 -stgssa_output ring.h5 > ring.log 2>&1 || { echo "FAIL ring run:"; cat ring.log; exit 1; }
h5dump -b LE -d /history/theta -o theta.bin ring.h5 > /dev/null 2>&1 &&
  h5dump -b LE -d /result/parameters -o result.bin ring.h5 > /dev/null 2>&1 || { echo "FAIL cannot read ring.h5"; exit 1; }
rows=$(od -A n -v -t f8 -w48 theta.bin |
  awk '{ r = $1 + $2 + $3 - $4 - $5 - 4 - $6; if (r < 0) r = -r; if (r > 1e-12) bad++; n++ }
       END { printf "%d %d\n", n, bad + 0 }')
res=$(od -A n -v -t f8 -w48 result.bin |
  awk '{ r = log($1) + log($2) + log($3) - log($4) - log($5) - 4 - log($6); if (r < 0) r = -r; print (r <= 1e-12) ? "ok" : "bad " r }')
if [ "${rows#* }" = "0" ] && [ "${rows% *}" -ge 15 ] && [ "$res" = "ok" ]; then
  echo "ok   constraint exact (1e-12) in all ${rows% *} /history rows and /result"; pass=$((pass + 1))
else
  echo "FAIL constraint violated: rows/bad = $rows, result: $res"; fail=$((fail + 1))
fi
grep -q "Note: -stgssa_log_constraint sets the start value of km3" ring.log && grep -q "5 free log-rates, 1 set by" ring.log &&
  { echo "ok   start value note and view line"; pass=$((pass + 1)); } || { echo "FAIL no note / view line:"; cat ring.log; fail=$((fail + 1)); }

# (2) chain rule: TAO's finite-difference gradient test in the free coordinates (deterministic FSP)
printf 'time,M\n1,3\n1,5\n1.5,4\n1.5,2\n' > timed.csv
timeout 300 "$exe" -stgssa_model "$root/input/telegraph.model" -stgssa_mode optimize -stgssa_data timed.csv \
  -stgssa_sample_times 1,1.5 -stgssa_tfinal 2 -stgssa_gradient fsp -stgssa_fsp_max M=60,G_on=1,G_off=1 \
  -stgssa_loss moments -stgssa_log_constraint "k_tx = 2*k_on - 0.5*k_off + 2" -tao_type blmvm -tao_test_gradient \
  -tao_max_it 1 -stgssa_output fd.h5 > fd.log 2>&1 || { echo "FAIL gradient test run:"; cat fd.log; exit 1; }
rel=$(grep "2-norm ||G - Gfd||/||G||" fd.log | head -1 | sed 's/.*||G|| = *//; s/,.*//')
if [ -n "$rel" ] && awk -v r="$rel" 'BEGIN { exit !(r < 1e-5) }'; then
  echo "ok   gradient in free coordinates matches finite differences (rel. error $rel)"; pass=$((pass + 1))
else
  echo "FAIL gradient test: rel. error '$rel'"; sed 's/^/    /' fd.log | head -20; fail=$((fail + 1))
fi

# (3) restart from the checkpoint of a 6-iteration run, continue to 15: bitwise the run of (1)
dump() {
  : > "$2"
  for d in history/loss history/theta history/gradient history/gradient_stderr result/parameters; do
    h5dump -b LE -d "/$d" -o part.bin "$1" > /dev/null 2>&1 || return 1
    cat part.bin >> "$2"
  done
}
if timeout 300 "$exe" $ring -tao_max_it 6 -stgssa_output short.h5 > short.log 2>&1 &&
   timeout 300 "$exe" $ring -tao_max_it 15 -stgssa_restart short.h5 -stgssa_output restarted.h5 > restarted.log 2>&1 &&
   dump ring.h5 ring.bin && dump restarted.h5 restarted.bin && cmp -s ring.bin restarted.bin; then
  echo "ok   restart with a constraint is bitwise equal to the uninterrupted run"; pass=$((pass + 1))
else
  echo "FAIL restart with a constraint differs:"; tail -5 restarted.log; fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
