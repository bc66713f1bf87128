#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The distribution loss smooths the data histogram with the model's soft-histogram kernel, so
# its exact minimum does not move with the bandwidth: exact (FSP) blmvm fits of the same data at
# h = 1 (one-hot bins, the plain KL) and h = 2.5 agree. Smoothing only the model histogram put
# the h = 2.5 optimum at k_on -86%, k_off -94%, k_tx -54% from the h = 1 one on this data set; the remaining
# difference (measured 1.4%, 3.3%, 1.7%) is the information the wider kernel discards from
# 5000 cells, so the bound is 6%.
# usage: distribution_loss.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
m=$root/input/telegraph.model
"$exe" -stgssa_model "$m" -stgssa_mode simulate -stgssa_ntraj 5000 -stgssa_seed 5 -stgssa_parameters k_tx=5 -stgssa_tfinal 20 \
  -stgssa_observe M -stgssa_output data.h5 > /dev/null 2>&1 || { echo "FAIL data"; echo "0 passed, 1 failed"; exit 1; }
for h in 1 2.5; do
  timeout 300 "$exe" -stgssa_model "$m" -stgssa_data data.h5 -stgssa_loss distribution -stgssa_fit k_on,k_off,k_tx \
    -stgssa_parameters k_on=1,k_off=1,k_tx=10 -stgssa_gradient fsp -stgssa_fsp_max M=60 -tao_type blmvm -tao_max_it 50 \
    -stgssa_tfinal 20 -stgssa_observe M -stgssa_bandwidth $h -stgssa_output "fit$h.h5" > "fit$h.log" 2>&1 ||
    { echo "FAIL fit at h = $h:"; cat "fit$h.log"; echo "0 passed, 1 failed"; exit 1; }
  h5dump -y -w 0 -o "raw$h.txt" -d /result/parameters "fit$h.h5" > /dev/null && tr ',\n' '  ' < "raw$h.txt" | tr -s ' ' > "p$h.txt"
done
echo "     h = 1:   $(cat p1.txt)"
echo "     h = 2.5: $(cat p2.5.txt)"
if awk -v a="$(cat p1.txt)" -v b="$(cat p2.5.txt)" 'BEGIN { n = split(a, x, " "); split(b, y, " "); if (n != 3) exit 1;
     for (i = 1; i <= 3; i++) { d = y[i] / x[i] - 1; printf "     rate %d: %+.2f%%\n", i, 100 * d; if (d > 0.06 || d < -0.06) bad = 1 } exit bad }'; then
  echo "ok   exact optimum of the distribution loss independent of the bandwidth (within 6%)"; echo "1 passed, 0 failed"
else
  echo "FAIL exact optimum moves with the bandwidth"; echo "0 passed, 1 failed"; exit 1
fi
