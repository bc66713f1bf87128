#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Large networks (issue 16): events/s of every exact method of simulate mode on generated
# BioNetGen-like networks (tests/bench/gen_network.py: ligand binding, multisite phosphorylation
# with adaptors, mixed uni/bimolecular; 10^2 to 10^4 reactions), one trajectory on one rank, and
# the fixed-cost split from -log_view (parse, network/dependency graph, simulate, output, and the
# rest of the process: MPI/PETSc start-up, options, exit). Ratios against the direct method and
# against rssa's simulate of the same run. The methods "score", "fd" and "stgs" are gradient mode's
# estimators (-stgssa_gradient score / fd / stgs, every parameter fitted, 2 trajectories: gradient mode's
# least; fd's events are those of all its 2P+1 runs); with BASELINE=another stgssa_hpc they are
# run by that build too (rows "score@base", ...: before/after in one run). Timing only,
# never pass/fail.
# usage: bench_large.sh [STGSSA_HPC] [SITES...]   (env: TFINAL=2, METHODS="direct nrm tree rssa auto
#        score", RECEPTORS=1000, BASELINE=; SITES 3 4 5 6 give 243, 918, 3321 and 11664 reactions)
set -u
here=$(cd "$(dirname "$0")" && pwd)
exe=${1:-$here/../../build/stgssa_hpc}
[ $# -gt 0 ] && shift
sites=${*:-3 4 5 6}
tfinal=${TFINAL:-2}
methods=${METHODS:-direct nrm tree rssa auto score}
base=${BASELINE:-}
if [ -n "$base" ]; then # the gradient rows of the baseline build right after this build's
  m2=
  for m in $methods; do m2="$m2 $m"; case $m in score | fd | stgs) m2="$m2 $m@base" ;; esac; done
  methods=$m2
fi
receptors=${RECEPTORS:-1000}
py=/usr/bin/python3
[ -x "$py" ] || py=python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# seconds of a -log_view event (column 4 of its line), or - when absent
ev() { awk -v e="$1" '$1 == e { printf "%.3f", $4; f = 1 } END { if (!f) printf "-" }' "$2"; }

printf '%-6s %6s %-10s %10s %12s %9s %7s %8s %8s %8s %8s %8s %8s\n' R S method events "events/s" "/direct" "/rssa" total parse graph simulate output other
for n in $sites; do
  net=$work/g$n.net
  "$py" "$here/gen_network.py" "$n" "$receptors" > "$net" || { echo "generator failed"; exit 1; }
  R=$(awk '/^begin reactions/ { r = 1; next } /^end reactions/ { r = 0 } r { c++ } END { print c }' "$net")
  S=$(awk '/^begin species/ { r = 1; next } /^end species/ { r = 0 } r { c++ } END { print c }' "$net")
  direct_rate=
  rssa_rate=
  for m in $methods; do
    log=$work/log_${n}_$m
    x=$exe
    case $m in *@base) x=$base ;; esac
    case $m in
      score* | fd* | stgs*) mode="-stgssa_mode gradient -stgssa_gradient ${m%@base} -stgssa_ntraj 2" ;;
      *) mode="-stgssa_mode simulate -stgssa_ntraj 1 -stgssa_ssa_method $m" ;;
    esac
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    "$x" -stgssa_model "$net" $mode -stgssa_seed 1 -stgssa_tfinal "$tfinal" \
      -stgssa_observe Rtot,Lfree -stgssa_output "$work/out.h5" -log_view > "$log" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    total=$(echo "$t1 - $t0" | bc -l)
    line=$(grep 'SSA events in' "$log")
    if [ -z "$line" ]; then echo "$m on $n sites failed:"; tail -5 "$log"; continue; fi
    events=$(echo "$line" | awk '{ print $1 }')
    secs=$(echo "$line" | awk '{ print $5 }')
    rate=$(echo "$events / $secs" | bc -l)
    [ "$m" = direct ] && direct_rate=$rate
    [ "$m" = rssa ] && rssa_rate=$rate
    ratio=-
    [ -n "$direct_rate" ] && ratio=$(printf '%.2f' "$(echo "$rate / $direct_rate" | bc -l)")
    rratio=-
    [ -n "$rssa_rate" ] && rratio=$(printf '%.2f' "$(echo "$rate / $rssa_rate" | bc -l)")
    used=$m
    [ "$m" = auto ] && used="auto:$(grep -o 'exact method: [a-z]*' "$log" | awk '{ print $3 }')"
    parse=$(ev StgssaModelParse "$log")
    graph=$(ev StgssaNetworkBuild "$log")
    sim=$(ev StgssaSimulate "$log")
    out=$(ev StgssaOutput "$log")
    [ "$sim" = - ] && sim=$(ev StgssaTangents "$log")
    [ "$sim" = - ] && sim=$secs
    other=-
    if [ "$parse" != - ] && [ "$out" != - ]; then other=$(printf '%.3f' "$(echo "$total - $parse - $graph - $sim - $out" | bc -l)"); fi
    [ $rc -ne 0 ] && out="FAIL" # e.g. an output the HDF5 layer refused (the simulation ran)
    printf '%-6s %6s %-10s %10s %12.4g %9s %7s %8.3f %8s %8s %8s %8s %8s\n' "$R" "$S" "$used" "$events" "$rate" "$ratio" "$rratio" "$total" "$parse" "$graph" "$sim" "$out" "$other"
  done
done
