#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The FSP unit tests on 1, 2 and 3 ranks: the same exact answers whatever the row distribution
# of the CME generator (serial LU on one rank, a parallel direct solver on more), and every rank
# holding the same results. On several ranks twice: small projections solved whole on every rank
# (the default, -stgssa_fsp_redundant 20000) and, on 2, distributed over the ranks (-stgssa_fsp_redundant 0).
# usage: test_fsp_mpi.sh TEST_FSP
set -u
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 TEST_FSP_BINARY" >&2
  exit 2
fi
exe=$1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fail=0
pass=0
# STGSSA_TEST_SCALE < 1 (the sanitizer run of scripts/run-tests.sh): 1 rank and 2 ranks distributed
# only; the redundant runs on 2 and 3 ranks execute on each rank the code of the 1-rank run (the
# release run keeps all four)
runs="1 2 3 2d"
case ${STGSSA_TEST_SCALE:-1} in 0.*|.*) runs="1 2d" ;; esac
for run in $runs; do
  log=$(mktemp)
  n=${run%d}
  opt=""
  what="$n rank(s)"
  if [ "$run" != "$n" ]; then opt="-stgssa_fsp_redundant 0"; what="$n ranks, distributed"; fi
  if [ $n -eq 1 ]; then
    timeout 900 mpirun -n 1 "$exe" > "$log" 2>&1
  else
    timeout 900 mpirun -n $n --oversubscribe "$exe" $opt > "$log" 2>&1
  fi
  rc=$?
  if [ $rc -eq 0 ]; then
    echo "ok   fsp on $what"; pass=$((pass + 1))
  else
    echo "FAIL fsp on $what (exit $rc):"; sed 's/^/    /' "$log" | head -40; fail=$((fail + 1))
  fi
  rm -f "$log"
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
