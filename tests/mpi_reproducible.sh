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
# 3001 trajectories: not divisible by 2 or 3, so the blocks differ in size across runs (301 under
# STGSSA_TEST_SCALE < 1, the sanitizer run: the same splits, a tenth of the events)
nt=3001
case ${STGSSA_TEST_SCALE:-1} in 0.*|.*) nt=301 ;; esac
args="-stgssa_model $root/input/telegraph.model -stgssa_mode simulate -stgssa_ntraj $nt -stgssa_seed 77
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

# scheduled events (issue 18): divisions with binomial partitioning (input/gallery/growing_cell.model);
# the binomial draws come from the counter block of the events keyed by the trajectory index, so
# /simulate (direct and nrm) and the ST-GS and score derivatives are byte-identical on 1, 2 and 3 ranks
for mode in simulate nrm stgs score; do
  for n in 1 2 3; do
    rm -f "$work/eall$n"
    if [ $mode = simulate ]; then eargs="-stgssa_mode simulate"; grp=simulate; ds="moments/M moments/P histograms/P"
    elif [ $mode = nrm ]; then eargs="-stgssa_mode simulate -stgssa_ssa_method nrm"; grp=simulate; ds="moments/M moments/P histograms/P"
    else eargs="-stgssa_mode gradient -stgssa_gradient $mode -stgssa_fit k_tx,k_tl"; grp=gradient; ds="moments/P moments_gradient/P moments_gradient/M"; fi
    if ! timeout 300 mpirun -n $n --oversubscribe "$exe" -stgssa_model "$root/input/gallery/growing_cell.model" $eargs -stgssa_ntraj $nt -stgssa_seed 9 \
         -stgssa_tfinal 4 -stgssa_sample_times 0.5,2,3.5,4 -stgssa_observe M,P -stgssa_output "$work/ev$n.h5" > "$work/elog$n" 2>&1; then
      echo "FAIL events ($mode) on $n ranks:"; cat "$work/elog$n"; exit 1
    fi
    for d in $ds; do
      h5dump -b LE -d "/$grp/$d" -o "$work/ebin$n" "$work/ev$n.h5" > /dev/null 2>&1 || { echo "FAIL h5dump events /$grp/$d"; exit 1; }
      cat "$work/ebin$n" >> "$work/eall$n"
    done
  done
  [ -s "$work/eall1" ] || { echo "FAIL events ($mode): nothing compared"; fail=$((fail + 1)); }
  for n in 2 3; do
    if cmp -s "$work/eall1" "$work/eall$n"; then echo "ok   events ($mode): /$grp bytes identical, 1 vs $n ranks"; pass=$((pass + 1))
    else echo "FAIL events ($mode): /$grp differs between 1 and $n ranks"; fail=$((fail + 1)); fi
  done
done

# the next-reaction method (-stgssa_ssa_method nrm, issue 9): per-reaction Philox streams keyed by
# the trajectory index, so /simulate is again byte-identical on 1, 2 and 3 ranks
for n in 1 2 3; do
  rm -f "$work/nall$n"
  if ! timeout 300 mpirun -n $n --oversubscribe "$exe" $args -stgssa_ssa_method nrm -stgssa_output "$work/nrm$n.h5" > "$work/nlog$n" 2>&1; then
    echo "FAIL nrm run on $n ranks:"; cat "$work/nlog$n"; exit 1
  fi
  for d in times moments/M moments/G_on histograms/M histograms/G_on; do
    h5dump -b LE -d "/simulate/$d" -o "$work/nbin$n" "$work/nrm$n.h5" > /dev/null 2>&1 || { echo "FAIL h5dump nrm $d"; exit 1; }
    cat "$work/nbin$n" >> "$work/nall$n"
  done
  h5dump -a /run/events "$work/nrm$n.h5" | grep -A1 DATA | tail -1 > "$work/nevents$n"
done
[ -s "$work/nall1" ] || { echo "FAIL nrm: nothing compared"; fail=$((fail + 1)); }
for n in 2 3; do
  if cmp -s "$work/nall1" "$work/nall$n" && cmp -s "$work/nevents1" "$work/nevents$n"; then echo "ok   nrm: /simulate bytes and events identical, 1 vs $n ranks ($(tr -d ' ' < "$work/nevents1") events)"; pass=$((pass + 1))
  else echo "FAIL nrm: /simulate or events differ between 1 and $n ranks"; fail=$((fail + 1)); fi
done
if cmp -s "$work/all1" "$work/nall1"; then echo "FAIL nrm gave the direct method's bytes (method not applied?)"; fail=$((fail + 1))
else echo "ok   nrm and direct are different samples"; pass=$((pass + 1)); fi

# the large-network methods (issue 16): tree and rssa draw from the direct method's block-0 stream
# keyed by the trajectory index (rssa: trial k takes event k's draws), so /simulate is byte-identical on 1, 2 and 3 ranks
for m in tree rssa; do
  for n in 1 2 3; do
    rm -f "$work/${m}all$n"
    if ! timeout 300 mpirun -n $n --oversubscribe "$exe" $args -stgssa_ssa_method $m -stgssa_output "$work/$m$n.h5" > "$work/${m}log$n" 2>&1; then
      echo "FAIL $m run on $n ranks:"; cat "$work/${m}log$n"; exit 1
    fi
    for d in times moments/M moments/G_on histograms/M histograms/G_on; do
      h5dump -b LE -d "/simulate/$d" -o "$work/${m}bin$n" "$work/$m$n.h5" > /dev/null 2>&1 || { echo "FAIL h5dump $m $d"; exit 1; }
      cat "$work/${m}bin$n" >> "$work/${m}all$n"
    done
    h5dump -a /run/events "$work/$m$n.h5" | grep -A1 DATA | tail -1 > "$work/${m}events$n"
  done
  [ -s "$work/${m}all1" ] || { echo "FAIL $m: nothing compared"; fail=$((fail + 1)); }
  for n in 2 3; do
    if cmp -s "$work/${m}all1" "$work/${m}all$n" && cmp -s "$work/${m}events1" "$work/${m}events$n"; then echo "ok   $m: /simulate bytes and events identical, 1 vs $n ranks ($(tr -d ' ' < "$work/${m}events1") events)"; pass=$((pass + 1))
    else echo "FAIL $m: /simulate or events differ between 1 and $n ranks"; fail=$((fail + 1)); fi
  done
  # tree draws the direct method's numbers and differs from it only in rounding (the order of the
  # sums), so on this 4-reaction model it may give the direct method's bytes: check the method ran
  if grep -q "exact method: $m (as asked)" "$work/${m}log1"; then echo "ok   $m ran ($m)"; pass=$((pass + 1))
  else echo "FAIL $m: start-up output does not name the method"; fail=$((fail + 1)); fi
done

# gradient mode with a loss on data: loss, gradient and its standard errors, moments and their
# derivatives, for each estimator, identical on 1, 2 and 3 ranks
if ! timeout 300 "$exe" $args -stgssa_ntraj 2000 -stgssa_output "$work/data.h5" > "$work/logd" 2>&1; then
  echo "FAIL data run:"; cat "$work/logd"; exit 1
fi
for est in stgs score fd; do
  gargs="-stgssa_model $root/input/telegraph.model -stgssa_mode gradient -stgssa_gradient $est -stgssa_ntraj 1001
         -stgssa_seed 5 -stgssa_tfinal 20 -stgssa_sample_times 0.1,1,5,20 -stgssa_observe M,G_on -stgssa_data $work/data.h5
         -stgssa_loss timecourse -stgssa_parameters k_on=0.7 -stgssa_fit k_on,k_off,k_tx -stgssa_window 5,20"
  for n in 1 2 3; do
    rm -f "$work/g$n"
    if ! timeout 300 mpirun -n $n --oversubscribe "$exe" $gargs -stgssa_output "$work/grad$n.h5" > "$work/glog$n" 2>&1; then
      echo "FAIL gradient ($est) on $n ranks:"; cat "$work/glog$n"; exit 1
    fi
    for d in loss gradient gradient_stderr moments/M moments_gradient/M moments_gradient/G_on; do
      h5dump -b LE -d "/gradient/$d" -o "$work/gbin" "$work/grad$n.h5" > /dev/null 2>&1 || { echo "FAIL h5dump /gradient/$d"; exit 1; }
      cat "$work/gbin" >> "$work/g$n"
    done
  done
  [ -s "$work/g1" ] || { echo "FAIL nothing compared ($est)"; fail=$((fail + 1)); }
  for n in 2 3; do
    if cmp -s "$work/g1" "$work/g$n"; then echo "ok   /gradient ($est) bytes identical, 1 vs $n ranks"; pass=$((pass + 1))
    else echo "FAIL /gradient ($est) differs between 1 and $n ranks"; fail=$((fail + 1)); fi
  done
done
# score and fd on a large network (issue 16): auto runs them on rssa (the score's grouped
# integrals, score_lazy.c), a path per (seed, index): identical on 1, 2 and 3 ranks
/usr/bin/python3 "$root/tests/bench/gen_network.py" 3 100 > "$work/g3.net" || { echo "FAIL gen_network.py"; exit 1; }
for est in score fd; do
  gargs="-stgssa_model $work/g3.net -stgssa_mode gradient -stgssa_gradient $est -stgssa_ntraj 31 -stgssa_seed 3
         -stgssa_tfinal 1 -stgssa_sample_times 0.2,1 -stgssa_observe Rtot,Lfree"
  for n in 1 2 3; do
    rm -f "$work/l$n"
    if ! timeout 300 mpirun -n $n --oversubscribe "$exe" $gargs -stgssa_output "$work/large$n.h5" > "$work/llog$n" 2>&1; then
      echo "FAIL large-network gradient ($est) on $n ranks:"; cat "$work/llog$n"; exit 1
    fi
    for d in moments/Lfree moments_gradient/Lfree; do
      h5dump -b LE -d "/gradient/$d" -o "$work/lbin" "$work/large$n.h5" > /dev/null 2>&1 || { echo "FAIL h5dump /gradient/$d ($est, large)"; exit 1; }
      cat "$work/lbin" >> "$work/l$n"
    done
  done
  [ -s "$work/l1" ] || { echo "FAIL nothing compared ($est, large)"; fail=$((fail + 1)); }
  for n in 2 3; do
    if cmp -s "$work/l1" "$work/l$n"; then echo "ok   /gradient ($est, 243-reaction network) bytes identical, 1 vs $n ranks"; pass=$((pass + 1))
    else echo "FAIL /gradient ($est, 243-reaction network) differs between 1 and $n ranks"; fail=$((fail + 1)); fi
  done
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
