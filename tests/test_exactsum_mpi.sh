#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The exact-sum unit tests on 1, 2 and 3 ranks: the Allreduce test compares the reduced sums
# bitwise with the serial sum of the whole list, so each run checks split independence.
# usage: test_exactsum_mpi.sh TEST_EXACTSUM
set -u
exe=$1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fail=0
pass=0
for n in 1 2 3; do
  log=$(mktemp)
  timeout 300 mpirun -n $n --oversubscribe "$exe" > "$log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    echo "ok   exact sums on $n rank(s)"; pass=$((pass + 1))
  else
    echo "FAIL exact sums on $n rank(s) (exit $rc):"; sed 's/^/    /' "$log" | head -40; fail=$((fail + 1))
  fi
  rm -f "$log"
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
