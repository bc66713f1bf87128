#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Fault injection, scaled down (optimize mode on 2 ranks, a checkpoint every 5 iterations):
#  (1) one of the two ranks is killed (SIGKILL) after a checkpoint: the job fails without
#      hanging, the output file is a complete, readable checkpoint, and a restart from it ends
#      with bitwise the /history and /result of the uninterrupted run; once for rank 1 and once
#      for rank 0 (the writer);
#  (2) a write of the output fails: injected (STGSSA_FAULT_WRITE_FAIL=N, the N-th write fails as
#      if the disk were full), a real full disk (tmpfs filled while the run is stopped) and a
#      read-only output directory (tmpfs remounted read-only): a clear error naming the file,
#      a non-zero exit, the previous output bitwise unchanged, no temporary file left;
#  (3) corrupt or foreign checkpoints (truncated, bytes flipped, another model, another
#      -stgssa_fit) are refused with a clear message, the run writes nothing.
# The tmpfs variants need mount (root); without it they are skipped with a note.
# usage: faults.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
work=$(mktemp -d)
mounts=""
cleanup() {
  for m in $mounts; do umount "$m" 2> /dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
fail=0
pass=0
cd "$work" || exit 1
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }

# raw bytes of the datasets that must agree
dump() {
  : > "$2"
  for d in history/loss history/theta history/gradient history/gradient_stderr result/parameters; do
    h5dump -b LE -d "/$d" -o part.bin "$1" > /dev/null 2>&1 || return 1
    cat part.bin >> "$2"
  done
}
# /checkpoint attribute $2 of file $1 (empty if unreadable)
ckattr() { h5dump -a "/checkpoint/$2" "$1" 2> /dev/null | grep -A1 DATA | tail -1 | sed "s/.*: *//" | tr -dc 0-9; }
# wait (at most 30 s) until file $1 exists
wait_for() {
  i=0
  while [ ! -f "$1" ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done
  [ -f "$1" ]
}
# pids of the ranks of the run writing $1 (the rank processes, not mpirun or timeout)
ranks_of() { pgrep -f "^$exe .*-stgssa_output $1\$"; }
# pid of MPI rank $2 of the run writing $1
rank_pid() {
  for p in $(ranks_of "$1"); do
    if tr '\0' '\n' < "/proc/$p/environ" 2> /dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then echo "$p"; return; fi
  done
}
sum() { cksum < "$1"; }
no_tmp() { ! ls "$1".tmp.* > /dev/null 2>&1; }
# a complete checkpoint: readable, at a multiple of the interval, history as long as the steps
ck_complete() {
  h5dump "$1" > /dev/null 2>&1 || return 1
  s=$(ckattr "$1" adam_step)
  [ -n "$s" ] && [ "$s" -gt 0 ] && [ $((s % 5)) -eq 0 ] && [ "$(ckattr "$1" history_length)" = "$s" ]
}
# restart from $1 on 2 ranks; bitwise the uninterrupted run?
restart_equal() {
  timeout 120 mpirun -n 2 --oversubscribe "$exe" $opts -stgssa_restart "$1" -stgssa_output "$1.restarted.h5" > "$1.restart.log" 2>&1 &&
    dump "$1.restarted.h5" "$1.restarted.bin" && cmp -s ref.bin "$1.restarted.bin"
}

timeout 120 "$exe" -stgssa_model "$root/input/telegraph.model" -stgssa_mode simulate -stgssa_ntraj 2000 -stgssa_seed 3 \
  -stgssa_tfinal 10 -stgssa_sample_times 10 -stgssa_observe M -stgssa_output data.h5 > /dev/null 2>&1 || { echo "FAIL data"; exit 1; }
opts="-stgssa_model $root/input/telegraph.model -stgssa_mode optimize -stgssa_data $work/data.h5 -stgssa_loss distribution
      -stgssa_fit k_on,k_off,k_tx -stgssa_parameters k_on=1,k_off=1,k_tx=10 -stgssa_gradient score -stgssa_ntraj 600
      -stgssa_seed 11 -stgssa_tfinal 10 -stgssa_sample_times 10 -stgssa_observe M -tao_max_it 30 -stgssa_checkpoint_interval 5"
timeout 120 mpirun -n 2 --oversubscribe "$exe" $opts -stgssa_output ref.h5 > ref.log 2>&1 && dump ref.h5 ref.bin || { echo "FAIL uninterrupted run:"; cat ref.log; exit 1; }

# (1) SIGKILL of one rank of two, after the first checkpoint (under STGSSA_TEST_SCALE < 1, the
# sanitizer run, rank 0 only: killing rank 1 runs no other code of ours)
killed="1 0"
case ${STGSSA_TEST_SCALE:-1} in 0.*|.*) killed=0 ;; esac
for r in $killed; do
  name=kill$r
  timeout 60 mpirun -n 2 --oversubscribe "$exe" $opts -stgssa_output $name.h5 > $name.log 2>&1 &
  job=$!
  wait_for $name.h5
  # stop the ranks as soon as the first checkpoint is there (a short run could otherwise end before
  # the kill), kill rank $r while it is stopped, let the other one go on
  pids=$(ranks_of $name.h5)
  [ -n "$pids" ] && kill -STOP $pids
  pid=$(rank_pid $name.h5 $r)
  [ -n "$pid" ] && kill -9 "$pid"
  [ -n "$pids" ] && kill -CONT $pids 2> /dev/null
  wait $job
  rc=$?
  if [ -z "$pid" ]; then bad "$name: rank $r not found (run over before the kill?)"
  elif [ $rc -eq 124 ]; then bad "$name: the job hung after rank $r was killed"
  elif [ $rc -eq 0 ]; then bad "$name: mpirun exited 0 although rank $r was killed"
  elif ! ck_complete $name.h5; then bad "$name: $name.h5 is not a complete checkpoint after the kill"
  elif ! restart_equal $name.h5; then bad "$name: restart differs from the uninterrupted run:"; tail -5 $name.h5.restart.log
  else ok "$name: rank $r killed (exit $rc), $name.h5 holds the checkpoint at iteration $(ckattr $name.h5 adam_step), restart bitwise equal"; fi
done

# (2a) injected failure of the 3rd write (fsync with ENOSPC): the file keeps the 2nd checkpoint
STGSSA_FAULT_WRITE_FAIL=3 timeout 60 mpirun -n 2 --oversubscribe "$exe" $opts -stgssa_output inj.h5 > inj.log 2>&1
rc=$?
if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then bad "inject: run did not fail (exit $rc)"
elif ! grep -q "Cannot flush 'inj.h5.tmp.[0-9]*' to disk (fsync): No space left on device; previous contents of 'inj.h5' left untouched" inj.log; then bad "inject: unclear message:"; grep ERROR inj.log | head -3
elif ! no_tmp inj.h5; then bad "inject: temporary file left behind"
elif ! ck_complete inj.h5 || [ "$(ckattr inj.h5 adam_step)" != 10 ]; then bad "inject: inj.h5 is not the checkpoint at iteration 10"
else ok "inject: 3rd write failed with a clear message, no temporary file, inj.h5 = checkpoint at iteration 10"; fi
# (2b) a restart writing over its own checkpoint whose first write fails: the file is unchanged
before=$(sum inj.h5)
STGSSA_FAULT_WRITE_FAIL=1 timeout 60 mpirun -n 2 --oversubscribe "$exe" $opts -stgssa_restart inj.h5 -stgssa_output inj.h5 > inj2.log 2>&1
rc=$?
if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then bad "inject in place: run did not fail (exit $rc)"
elif [ "$(sum inj.h5)" != "$before" ] || ! no_tmp inj.h5; then bad "inject in place: inj.h5 changed or a temporary file is left"
elif ! restart_equal inj.h5; then bad "inject: restart from the surviving checkpoint differs:"; tail -5 inj.h5.restart.log
else ok "inject in place: inj.h5 bitwise unchanged by the failed overwrite; restart from it bitwise equal"; fi

# (2c, 2d) real file systems: tmpfs filled up, tmpfs remounted read-only, while the run is stopped
# run $1 on 2 ranks with output $2; after the first checkpoint stop it, do $3, record the checksum, continue
stop_do_continue() {
  timeout 60 mpirun -n 2 --oversubscribe "$exe" $opts -stgssa_output "$2" > "$1.log" 2>&1 &
  job=$!
  wait_for "$2"
  pids=$(ranks_of "$2")
  kill -STOP $pids
  eval "$3"
  before=$(sum "$2")
  kill -CONT $pids
  wait $job
  rc=$?
}
if mkdir full && mount -t tmpfs -o size=256k tmpfs full 2> /dev/null; then
  mounts="$work/full"
  # fill it up but for 8 KiB: the next write runs out of space half-way
  stop_do_continue full full/out.h5 'dd if=/dev/zero of=full/filler bs=4k > /dev/null 2>&1; truncate -s -8192 full/filler'
  if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then bad "disk full: run did not fail (exit $rc)"
  elif ! grep -q "'full/out.h5.tmp.[0-9]*': No space left on device.*previous contents of 'full/out.h5' left untouched" full.log; then bad "disk full: unclear message:"; grep ERROR full.log | head -3
  elif [ "$(sum full/out.h5)" != "$before" ] || ! no_tmp full/out.h5 || ! ck_complete full/out.h5; then bad "disk full: full/out.h5 changed, incomplete, or a temporary file is left"
  else ok "disk full: $(grep -o "Cannot [^;]*" full.log | head -1); full/out.h5 bitwise unchanged, no temporary file"; fi
  umount full && mounts=""
else
  echo "     disk full: skipped (cannot mount a tmpfs here; the injected failure above covers the code path)"
fi
if mkdir ro && mount -t tmpfs -o size=1m tmpfs ro 2> /dev/null; then
  mounts="$work/ro"
  # the remount waits for writes in progress: retry while the writer finishes
  stop_do_continue ro ro/out.h5 'n=0; until mount -o remount,ro ro 2> /dev/null || [ $n -ge 100 ]; do kill -CONT $pids; sleep 0.01; kill -STOP $pids; n=$((n + 1)); done'
  if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then bad "read-only: run did not fail (exit $rc)"
  elif ! grep -q "Cannot create temporary output file 'ro/out.h5.tmp.[0-9]*': Read-only file system; previous contents of 'ro/out.h5' left untouched" ro.log; then bad "read-only: unclear message:"; grep ERROR ro.log | head -3
  elif [ "$(sum ro/out.h5)" != "$before" ] || ! no_tmp ro/out.h5 || ! ck_complete ro/out.h5; then bad "read-only: ro/out.h5 changed, incomplete, or a temporary file is left"
  else ok "read-only: $(grep -o "Cannot create[^;]*" ro.log | head -1); ro/out.h5 bitwise unchanged"; fi
  umount ro && mounts=""
else
  echo "     read-only directory: skipped (cannot mount a tmpfs here)"
fi

# (3) corrupt or foreign checkpoints: refused, clear message, nothing written, file unchanged
good=inj.h5 # the checkpoint at iteration 10, checked above
# flip (complement) $3 bytes at offset $2 of file $1
flip() {
  esc=""
  for b in $(od -An -tu1 -j "$2" -N "$3" "$1"); do esc="$esc$(printf '\\%03o' $((255 - b)))"; done
  printf "$esc" | dd of="$1" bs=1 seek="$2" conv=notrunc 2> /dev/null
}
# byte offset of the raw data of dataset $2 in file $1
offset() { h5dump -p -H -d "$2" "$1" | grep OFFSET | tr -dc 0-9; }
size=$(wc -c < $good)
head -c $((size / 2)) $good > truncated.h5
cp $good middle.h5 && flip middle.h5 $((size / 2)) 16
cp $good adam_m.h5 && flip adam_m.h5 "$(offset $good /checkpoint/adam_m)" 1
cp $good history.h5 && flip history.h5 $(($(offset $good /checkpoint/history_loss) + 8 * 7)) 1
sed 's/^  k_deg  1$/  k_deg  2/' "$root/input/telegraph.model" > other.model
cmp -s other.model "$root/input/telegraph.model" && bad "could not make a different model"
# refuse NAME RANKS FILE EXPECTED-MESSAGE [options]
refuse() {
  name=$1 n=$2 file=$3 expect=$4
  shift 4
  before=$(sum "$file")
  rm -f never.h5
  timeout 60 mpirun -n $n --oversubscribe "$exe" $opts "$@" -stgssa_restart "$file" -stgssa_output never.h5 > "$name.log" 2>&1
  rc=$?
  if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then bad "$name: checkpoint accepted (exit $rc)"
  elif ! grep -q "stgssa_hpc: error: -stgssa_restart: .*$expect" "$name.log"; then bad "$name: unclear message:"; head -3 "$name.log"
  elif [ -e never.h5 ] || ls never.h5.tmp.* > /dev/null 2>&1; then bad "$name: output written"
  elif [ "$(sum "$file")" != "$before" ]; then bad "$name: $file changed"
  else ok "$name: $(grep -m1 "stgssa_hpc: error" "$name.log")"; fi
}
refuse truncated 1 truncated.h5 "cannot open as HDF5"
refuse flipped_adam_m 2 adam_m.h5 "checksum does not match"
refuse flipped_history 1 history.h5 "checksum does not match"
refuse other_model 1 $good "another model" -stgssa_model other.model
refuse other_fit 2 $good "written with -stgssa_fit k_on,k_off,k_tx; this run has -stgssa_fit k_on,k_off" -stgssa_fit k_on,k_off
refuse fit_order 1 $good "written with -stgssa_fit k_on,k_off,k_tx; this run has -stgssa_fit k_off,k_on,k_tx" -stgssa_fit k_off,k_on,k_tx
# 16 bytes flipped in the middle of the file hit whatever lies there: refused, or (if nothing a
# restart reads was hit) a restart bitwise equal to the uninterrupted run
before=$(sum middle.h5)
if timeout 60 mpirun -n 2 --oversubscribe "$exe" $opts -stgssa_restart middle.h5 -stgssa_output never.h5 > middle.log 2>&1; then
  if dump never.h5 middle.bin && cmp -s ref.bin middle.bin; then ok "flipped_middle: bytes hit nothing a restart reads; restart bitwise equal"
  else bad "flipped_middle: corrupt checkpoint accepted and used"; fi
elif grep -q "stgssa_hpc: error: -stgssa_restart: " middle.log && [ ! -e never.h5 ] && [ "$(sum middle.h5)" = "$before" ]; then
  ok "flipped_middle: $(grep -m1 "stgssa_hpc: error" middle.log)"
else
  bad "flipped_middle: unclear failure:"; head -3 middle.log
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
