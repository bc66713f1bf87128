#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The shipped studies, scaled down (scripts/run-study.sh --ci NAME): each must run end to end
# on 2 ranks in 2 groups, write its figure, and reach a loose version of its acceptance
# criterion (the full-size numbers are in README; these bounds leave room for the smaller
# ensembles and iteration counts of the CI settings, with fixed seeds).
# usage: studies.sh STGSSA_HPC SOURCE_ROOT NAME
set -u
exe=$1
root=$2
name=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log=$work/log
if ! STGSSA_HPC=$exe timeout 1500 "$root/scripts/run-study.sh" --ci "$name" "$work/out" > "$log" 2>&1; then
  echo "FAIL $name: run-study.sh failed:"; tail -30 "$log"; echo "0 passed, 1 failed"; exit 1
fi
grep -v '^  \|^StgssaEnsemble\|^Wrote' "$log" | tail -30
fail=0
pass=0
check() { # description, awk program over the log that exits 0 when the criterion holds
  if awk "$2" "$log"; then echo "ok   $name: $1"; pass=$((pass + 1)); else echo "FAIL $name: $1"; fail=$((fail + 1)); fi
}
case $name in
exclusion)
  # optimized current >= 90% of the exact bound J*(A) at the achieved activity, and above the
  # homogeneous ring at the same budget (full size: 98-99.8%)
  check "J_opt/J*(A) >= 0.9 and J_opt > J_hom(B) for every budget" \
    '$1 ~ /^B[0-9]/ { if (NF < 12) next; n++; if ($9 < 0.9 || $4 <= $5) bad++ } END { exit !(n == 2 && bad == 0) }' ;;
promoter4)
  # every fitted rate within 20% of the truth (the acceptance bound; CI measured <= 10%)
  check "every fitted rate within 20% of the truth" \
    '/largest \|rel. error\| of the final iterate/ { v = $NF; sub(/%/, "", v); n++; if (v + 0 > 20) bad++ } END { exit !(n == 1 && bad == 0) }' ;;
ring_tur)
  check "exact long-time Q of the optimized rates within 5% of tanh(A/2N)/(A/2N) (N = 4, A = 4, 8)" \
    '$1 ~ /^N4_A[48]$/ { n++; e = $8; sub(/%/, "", e); if (e + 0 > 5 || e + 0 < -5) bad++ } END { exit !(n == 2 && bad == 0) }' ;;
telegraph_regimes)
  check "median relative error <= 10% over identifiable regimes (distribution fits)" \
    '/^distributions: median \|rel. error\| over [0-9]+ identifiable fitted rates/ { n++; v = $10; sub(/%/, "", v); if ($6 + 0 < 4 || v + 0 > 10) bad++ } END { exit !(n == 1 && bad == 0) }' ;;
esac
[ -f "$work/out/$name.png" ] || ls "$work/out"/*.png > /dev/null 2>&1 && { echo "ok   $name: figure written"; pass=$((pass + 1)); } || { echo "FAIL $name: no figure"; fail=$((fail + 1)); }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
