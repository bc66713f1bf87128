#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Optimize mode: (1) the whole history and result are bitwise identical on 1, 2 and 3 ranks;
# (2) a run killed (SIGKILL) after a checkpoint and restarted from it ends with bitwise the
# same /history and /result as the uninterrupted run.
# usage: optimize_restart.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
pass=0
cd "$work" || exit 1
# STGSSA_TEST_SCALE < 1 (the sanitizer run): fewer trajectories and iterations; the comparisons
# are bitwise, so they hold at any size (a checkpoint every 10 iterations still lands mid-run)
ntraj=1500 max_it=60
case ${STGSSA_TEST_SCALE:-1} in 0.*|.*) ntraj=500 max_it=30 ;; esac

# raw bytes of the datasets that must agree
dump() {
  : > "$2"
  for d in history/loss history/theta history/gradient history/gradient_stderr history/events history/absorbed history/capped result/parameters; do
    h5dump -b LE -d "/$d" -o part.bin "$1" > /dev/null 2>&1 || { echo "FAIL cannot read /$d of $1"; return 1; }
    cat part.bin >> "$2"
  done
}

timeout 300 "$exe" -stgssa_model "$root/input/telegraph.model" -stgssa_mode simulate -stgssa_ntraj 2000 -stgssa_seed 3 \
  -stgssa_tfinal 10 -stgssa_sample_times 10 -stgssa_observe M -stgssa_output data.h5 > /dev/null 2>&1 || { echo "FAIL data"; exit 1; }
opts="-stgssa_model $root/input/telegraph.model -stgssa_mode optimize -stgssa_data data.h5 -stgssa_loss distribution
      -stgssa_fit k_on,k_off,k_tx -stgssa_parameters k_on=1,k_off=1,k_tx=10 -stgssa_gradient score -stgssa_ntraj $ntraj
      -stgssa_seed 11 -stgssa_tfinal 10 -stgssa_sample_times 10 -stgssa_observe M -tao_max_it $max_it"

# (1) rank-count independence
for n in 1 2 3; do
  timeout 600 mpirun -n $n --oversubscribe "$exe" $opts -stgssa_output "ranks$n.h5" > "log$n" 2>&1 || { echo "FAIL optimize on $n ranks:"; cat "log$n"; exit 1; }
  dump "ranks$n.h5" "ranks$n.bin" || exit 1
done
for n in 2 3; do
  if cmp -s ranks1.bin "ranks$n.bin"; then echo "ok   /history and /result identical, 1 vs $n ranks"; pass=$((pass + 1))
  else echo "FAIL /history or /result differ between 1 and $n ranks"; fail=$((fail + 1)); fi
done

# (2) kill after a checkpoint, restart, compare with the uninterrupted run (ranks2.h5)
"$exe" $opts -stgssa_checkpoint_interval 10 -stgssa_output killed.h5 > killed.log 2>&1 &
pid=$!
i=0
while [ ! -f killed.h5 ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done
kill -9 $pid 2> /dev/null
wait $pid 2> /dev/null
step=$(h5dump -a /checkpoint/adam_step killed.h5 2> /dev/null | grep -A1 DATA | tail -1 | sed "s/.*: *//" | tr -dc 0-9)
if [ -z "$step" ]; then
  echo "FAIL no checkpoint was written before the kill"; fail=$((fail + 1))
else
  echo "     killed after the checkpoint at iteration $step"
  ls killed.h5.tmp.* > /dev/null 2>&1 && echo "     (a temporary file of the interrupted write is left beside it; killed.h5 itself is complete)"
  if timeout 600 mpirun -n 2 --oversubscribe "$exe" $opts -stgssa_checkpoint_interval 10 -stgssa_restart killed.h5 -stgssa_output restarted.h5 > restart.log 2>&1 &&
     dump restarted.h5 restarted.bin && cmp -s ranks2.bin restarted.bin; then
    echo "ok   restarted run bitwise equal to the uninterrupted run"; pass=$((pass + 1))
  else
    echo "FAIL restarted run differs from the uninterrupted run:"; tail -5 restart.log; fail=$((fail + 1))
  fi
fi

# a corrupt checkpoint file is refused with a clear message
head -c 2000 ranks1.h5 > truncated.h5
if timeout 120 "$exe" $opts -stgssa_restart truncated.h5 -stgssa_output never.h5 > bad.log 2>&1; then
  echo "FAIL truncated checkpoint accepted"; fail=$((fail + 1))
elif grep -q "stgssa_restart" bad.log && [ ! -f never.h5 ]; then
  echo "ok   truncated checkpoint refused: $(grep -m1 error bad.log)"; pass=$((pass + 1))
else
  echo "FAIL truncated checkpoint: unclear message:"; cat bad.log; fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
