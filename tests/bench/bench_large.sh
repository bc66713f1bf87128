#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Large networks (issue 16): events/s of every exact method of simulate mode on generated
# BioNetGen-like networks (tests/bench/gen_network.py: ligand binding, multisite phosphorylation
# with adaptors, mixed uni/bimolecular; 10^2 to 10^4 reactions), one trajectory on one rank, and
# the fixed-cost split from -log_view (parse, network/dependency graph, simulate, output, and the
# rest of the process: MPI/PETSc start-up, options, exit). Ratios against the direct method of the
# same run. Timing only, never pass/fail.
# usage: bench_large.sh [STGSSA_HPC] [SITES...]   (env: TFINAL=2, METHODS="direct nrm tree rssa auto",
#        RECEPTORS=1000; SITES 3 4 5 6 give 243, 918, 3321 and 11664 reactions)
set -u
here=$(cd "$(dirname "$0")" && pwd)
exe=${1:-$here/../../build/stgssa_hpc}
[ $# -gt 0 ] && shift
sites=${*:-3 4 5 6}
tfinal=${TFINAL:-2}
methods=${METHODS:-direct nrm tree rssa auto}
receptors=${RECEPTORS:-1000}
py=/usr/bin/python3
[ -x "$py" ] || py=python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# seconds of a -log_view event (column 4 of its line), or - when absent
ev() { awk -v e="$1" '$1 == e { printf "%.3f", $4; f = 1 } END { if (!f) printf "-" }' "$2"; }

printf '%-6s %6s %-7s %10s %12s %9s %8s %8s %8s %8s %8s %8s\n' R S method events "events/s" "/direct" total parse graph simulate output other
for n in $sites; do
  net=$work/g$n.net
  "$py" "$here/gen_network.py" "$n" "$receptors" > "$net" || { echo "generator failed"; exit 1; }
  R=$(awk '/^begin reactions/ { r = 1; next } /^end reactions/ { r = 0 } r { c++ } END { print c }' "$net")
  S=$(awk '/^begin species/ { r = 1; next } /^end species/ { r = 0 } r { c++ } END { print c }' "$net")
  direct_rate=
  for m in $methods; do
    log=$work/log_${n}_$m
    t0=$(date +%s.%N)
    "$exe" -stgssa_model "$net" -stgssa_mode simulate -stgssa_ntraj 1 -stgssa_seed 1 -stgssa_tfinal "$tfinal" \
      -stgssa_observe Rtot,Lfree -stgssa_ssa_method "$m" -stgssa_output "$work/out.h5" -log_view > "$log" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    total=$(echo "$t1 - $t0" | bc -l)
    line=$(grep 'SSA events in' "$log")
    if [ -z "$line" ]; then echo "$m on $n sites failed:"; tail -5 "$log"; continue; fi
    events=$(echo "$line" | awk '{ print $1 }')
    secs=$(echo "$line" | awk '{ print $5 }')
    rate=$(echo "$events / $secs" | bc -l)
    [ "$m" = direct ] && direct_rate=$rate
    ratio=-
    [ -n "$direct_rate" ] && ratio=$(printf '%.2f' "$(echo "$rate / $direct_rate" | bc -l)")
    used=$m
    [ "$m" = auto ] && used="auto:$(grep -o 'exact method: [a-z]*' "$log" | awk '{ print $3 }')"
    parse=$(ev StgssaModelParse "$log")
    graph=$(ev StgssaNetworkBuild "$log")
    sim=$(ev StgssaSimulate "$log")
    out=$(ev StgssaOutput "$log")
    [ "$sim" = - ] && sim=$secs
    other=-
    if [ "$parse" != - ] && [ "$out" != - ]; then other=$(printf '%.3f' "$(echo "$total - $parse - $graph - $sim - $out" | bc -l)"); fi
    [ $rc -ne 0 ] && out="FAIL" # e.g. an output the HDF5 layer refused (the simulation ran)
    printf '%-6s %6s %-7s %10s %12.4g %9s %8.3f %8s %8s %8s %8s %8s\n' "$R" "$S" "$used" "$events" "$rate" "$ratio" "$total" "$parse" "$graph" "$sim" "$out" "$other"
  done
done
