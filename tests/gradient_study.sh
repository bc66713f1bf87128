#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# stgssa_gradient_study end to end on A + B <-> C: it runs on 2 ranks, writes /study, and the
# unbiased score estimator agrees with the exact FSP gradient: |mean - exact| < 5 sd/sqrt(n)
# over n = 8 replicates (Student t, 7 dof: P(|t| > 5) = 0.16%), for both parameters.
# usage: gradient_study.sh STGSSA_HPC STGSSA_GRADIENT_STUDY SOURCE_ROOT
set -u
exe=$1
study=$2
root=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
timeout 300 "$exe" -options_file "$root/input/bimolecular_data.opts" -stgssa_model "$root/input/bimolecular.model" \
  -stgssa_ntraj 4000 -stgssa_output data.h5 > data.log 2>&1 || { echo "FAIL data"; cat data.log; exit 1; }
if ! timeout 600 mpirun -n 2 --oversubscribe "$study" -options_file "$root/input/gradient_study_bimolecular.opts" \
     -stgssa_model "$root/input/bimolecular.model" -stgssa_data data.h5 -stgssa_ntraj 1000 -study_replicates 8 \
     -study_temperatures 1 -stgssa_output study.h5 > study.log 2>&1; then
  echo "FAIL study run:"; cat study.log; echo "0 passed, 1 failed"; exit 1
fi
fail=0
pass=0
for p in k_f k_b; do
  line=$(grep -E "^score +$p " study.log)
  exact=$(echo "$line" | awk '{print $3}')
  bias=$(echo "$line" | awk '{print $4}')
  sd=$(echo "$line" | awk '{print $5}')
  if awk -v b="$bias" -v s="$sd" 'BEGIN { exit !((b < 0 ? -b : b) < 5 * s / sqrt(8)) }'; then
    echo "ok   score d/dlog $p: bias $bias, sd $sd, exact $exact"; pass=$((pass + 1))
  else
    echo "FAIL score d/dlog $p: bias $bias exceeds 5 sd/sqrt(8) (sd $sd, exact $exact)"; fail=$((fail + 1))
  fi
done
if h5dump -d /study/gradient_exact study.h5 > /dev/null 2>&1 && h5dump -d "/study/estimators/stgs(1)/bias" study.h5 > /dev/null 2>&1; then
  echo "ok   /study written"; pass=$((pass + 1))
else
  echo "FAIL /study incomplete"; fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
