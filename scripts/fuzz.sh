#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Run the libFuzzer harnesses (tests/fuzz/fuzz_*.c) for a bounded time each, one at a time.
#   scripts/fuzz.sh [SECONDS] [HARNESS...]     (default: 60 s; every harness built)
# Builds build-fuzz first if needed (clang, ASan + UBSan, -Dfuzz=true). Seeds come from
# tests/fuzz/corpus/<h>/ and tests/fuzz/regressions/<h>/ (read only); what the fuzzer adds goes
# to build-fuzz/fuzz-corpus/<h>/, crash/leak/timeout inputs to build-fuzz/fuzz-artifacts/<h>/.
# Prints, per harness, the executions (libFuzzer's stat::number_of_executed_units) and the path
# of any crash file; exits 1 if a harness found something. Environment: FUZZ_JOBS is not
# supported on purpose (one job; shared machines), FUZZ_NICE (default 10), FUZZ_ARGS (extra
# libFuzzer flags, e.g. -runs=1000000).
set -u
cd "$(dirname "$0")/.." || exit 2
root=$(pwd)
. "$root/scripts/env.sh"
secs=${1:-60}
[ $# -gt 0 ] && shift
build=$root/build-fuzz
all="modeldef net sbml expr setparams study_table data"

if [ ! -f "$build/build.ninja" ]; then
  CC=clang meson setup "$build" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false || exit 2
fi
targets=""
for h in ${*:-$all}; do
  if [ -f "$root/tests/fuzz/fuzz_$h.c" ]; then targets="$targets tests/fuzz/fuzz_$h"; else echo "fuzz.sh: no harness '$h' (tests/fuzz/fuzz_$h.c)"; exit 2; fi
done
# the SBML harness exists only when libsbml was found
if [ $# -eq 0 ] && ! grep -q 'tests/fuzz/fuzz_sbml:' "$build/build.ninja"; then targets=$(echo "$targets" | sed 's# tests/fuzz/fuzz_sbml##'); fi
nice -n "${FUZZ_NICE:-10}" ninja -C "$build" $targets || exit 2

export ASAN_OPTIONS="detect_leaks=1"
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export OMPI_MCA_mca_base_component_disable_dlclose=1

status=0
summary=""
for t in $targets; do
  h=${t#tests/fuzz/fuzz_}
  corpus=$build/fuzz-corpus/$h
  artifacts=$build/fuzz-artifacts/$h
  log=$build/fuzz-$h.log
  mkdir -p "$corpus" "$artifacts"
  seeds="$root/tests/fuzz/corpus/$h"
  [ -d "$root/tests/fuzz/regressions/$h" ] && seeds="$seeds $root/tests/fuzz/regressions/$h"
  echo "== fuzz_$h: $secs s (log $log)"
  # fuzz_data runs MPI (through PETSc): Open MPI keeps allocations until exit whose stacks, with
  # the fast unwinder, end in uninstrumented code, so tests/lsan.supp cannot name them. The
  # check at exit is off for it; libFuzzer's leak check after each input (-detect_leaks) stays on.
  asan=$ASAN_OPTIONS
  [ "$h" = data ] && asan="$ASAN_OPTIONS:leak_check_at_exit=0"
  # shellcheck disable=SC2086
  ASAN_OPTIONS=$asan nice -n "${FUZZ_NICE:-10}" "$build/$t" -max_total_time="$secs" -print_final_stats=1 -timeout=25 \
    -artifact_prefix="$artifacts/" ${FUZZ_ARGS:-} "$corpus" $seeds > "$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log")
  line="fuzz_$h: ${execs:-?} executions (${rate:-?}/s)"
  if [ $rc -ne 0 ] || [ -n "$crash" ]; then
    status=1
    line="$line; FOUND (exit $rc): ${crash:-see $log}"
    grep -m 3 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*fuzz invariant)' "$log"
  fi
  echo "$line"
  summary="$summary$line
"
done
printf '== summary\n%s' "$summary"
exit $status
