#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The same seed on 1, 2 and 3 ranks gives byte-identical /simulate datasets and the same event count.
# usage: mpi_reproducible.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
pass=0
# 3001 trajectories: not divisible by 2 or 3, so the blocks differ in size across runs
args="-stgssa_model $root/input/telegraph.model -stgssa_mode simulate -stgssa_ntraj 3001 -stgssa_seed 77
      -stgssa_tfinal 20 -stgssa_sample_times 0.1,1,5,20 -stgssa_observe M,G_on"
for n in 1 2 3; do
  if ! timeout 300 mpirun -n $n --oversubscribe "$exe" $args -stgssa_output "$work/out$n.h5" > "$work/log$n" 2>&1; then
    echo "FAIL run on $n ranks:"; cat "$work/log$n"; exit 1
  fi
  # raw little-endian bytes of every dataset under /simulate, in a fixed order
  for d in times moments/M moments/G_on histograms/M histograms/G_on; do
    h5dump -b LE -d "/simulate/$d" -o "$work/bin$n" "$work/out$n.h5" > /dev/null 2>&1 || { echo "FAIL h5dump $d"; exit 1; }
    cat "$work/bin$n" >> "$work/all$n"
  done
  h5dump -a /run/events "$work/out$n.h5" | grep -A1 DATA | tail -1 > "$work/events$n"
done
for n in 2 3; do
  if cmp -s "$work/all1" "$work/all$n"; then echo "ok   /simulate bytes identical, 1 vs $n ranks"; pass=$((pass + 1))
  else echo "FAIL /simulate differs between 1 and $n ranks"; fail=$((fail + 1)); fi
  if cmp -s "$work/events1" "$work/events$n" && h5diff "$work/out1.h5" "$work/out$n.h5" /simulate /simulate > /dev/null; then
    echo "ok   events and h5diff /simulate, 1 vs $n ranks ($(tr -d ' ' < "$work/events1"))"; pass=$((pass + 1))
  else echo "FAIL events or h5diff differ between 1 and $n ranks"; fail=$((fail + 1)); fi
done
[ -s "$work/all1" ] || { echo "FAIL nothing compared"; fail=$((fail + 1)); }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
