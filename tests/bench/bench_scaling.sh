#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Scaling benchmark (on demand, never pass/fail), telegraph model (input/telegraph.model), in one run:
#   1. strong scaling (fixed total trajectories) and weak scaling (fixed trajectories per rank) on
#      1, 2, 4, 8 ranks of plain simulate and of gradient mode with ST-GS derivatives of the
#      distribution loss (P = 3 fitted rates k_on, k_off, k_tx; data simulated first): events,
#      seconds (the program's own "SSA events in S s"), events/s, events/s per rank, efficiency,
#      load balance (events per rank max/mean, printed by stgssa_hpc and stored as the /run
#      attribute events_max_over_mean). On a machine with C cores, counts above C are
#      oversubscribed: they measure MPI and scheduling overhead, not speedup, so a second
#      efficiency column divides by min(ranks, C) instead of ranks.
#   2. the reduction model: bench_allreduce on 2 ranks times MPI_Allreduce for several sizes, fits
#      latency alpha and inverse bandwidth beta, times the evaluation's messages (M observables from
#      stgssa_hpc's own report) and predicts reduction time, efficiency and events/s at 256, 1024,
#      4096 ranks from the measured 1-rank compute time per evaluation (ALPHA, BETA: interconnect).
#   3. peak RSS (/usr/bin/time -v, one process) of simulate and gradient at NTRAJ_SMALL vs
#      NTRAJ_BIG trajectories and at tfinal T vs 100 T, and the ratios (target <= 1.1).
# usage: tests/bench/bench_scaling.sh [BUILD_DIR]        (from the source root; BUILD_DIR = build)
# environment (defaults): RANKS="1 2 4 8" CORES=(nproc) STRONG_SIM=100000 WEAK_SIM=25000
#   STRONG_GRAD=20000 WEAK_GRAD=5000 T=20 MEM_SMALL=10000 MEM_BIG_SIM=1000000 MEM_BIG_GRAD=100000
#   MEM_TRAJ_T=500 ALPHA=2e-6 BETA=1e-10 NICE=10 (every run under nice -n NICE) REPEAT=2 (each
#   scaling point: the fastest of REPEAT runs, against the noise of a shared machine)
set -u
build=${1:-build}
root=$(pwd)
exe=$root/$build/stgssa_hpc
ar=$root/$build/tests/bench_allreduce
[ -x "$exe" ] && [ -x "$ar" ] || { echo "bench_scaling: build first (ninja -C $build): need $exe and $ar" >&2; exit 1; }
[ -f "$root/input/telegraph.model" ] || { echo "bench_scaling: run from the source root" >&2; exit 1; }
RANKS=${RANKS:-"1 2 4 8"}
CORES=${CORES:-$(nproc)}
STRONG_SIM=${STRONG_SIM:-100000}
WEAK_SIM=${WEAK_SIM:-25000}
STRONG_GRAD=${STRONG_GRAD:-20000}
WEAK_GRAD=${WEAK_GRAD:-5000}
T=${T:-20}
MEM_SMALL=${MEM_SMALL:-10000}
MEM_BIG_SIM=${MEM_BIG_SIM:-1000000}
MEM_BIG_GRAD=${MEM_BIG_GRAD:-100000}
MEM_TRAJ_T=${MEM_TRAJ_T:-500}
ALPHA=${ALPHA:-2e-6}
BETA=${BETA:-1e-10}
NICE=${NICE:-10}
REPEAT=${REPEAT:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { nice -n "$NICE" "$@"; }
mpi() { n=$1; shift; run mpirun -n "$n" --oversubscribe "$@"; }

model="-stgssa_model $root/input/telegraph.model -stgssa_seed 9 -stgssa_tfinal $T -stgssa_sample_times $T -stgssa_observe M"
grad="-stgssa_mode gradient -stgssa_gradient stgs -stgssa_fit k_on,k_off,k_tx -stgssa_loss distribution -stgssa_data $work/data.h5"
echo "bench_scaling: telegraph model, tfinal $T, $(date -u '+%Y-%m-%d %H:%M UTC'), $CORES cores, ranks $RANKS, best of $REPEAT"
echo "  load average before: $(cut -d' ' -f1-3 /proc/loadavg 2> /dev/null) (other work on the machine slows every rank count)"
mpi 2 "$exe" $model -stgssa_mode simulate -stgssa_ntraj 20000 -stgssa_output "$work/data.h5" > "$work/data.log" 2>&1 ||
  { echo "bench_scaling: data run failed:"; cat "$work/data.log"; exit 1; }

# one run: prints "events seconds imbalance M K" from stgssa_hpc's own report
one() { # ranks mode ntraj
  n=$1 mode=$2 nt=$3
  if [ "$mode" = simulate ]; then args="-stgssa_mode simulate"; else args=$grad; fi
  mpi "$n" "$exe" $model $args -stgssa_ntraj "$nt" -stgssa_output "$work/o.h5" -log_view > "$work/run.log" 2>&1 ||
    { echo "bench_scaling: run failed ($n ranks, $mode, $nt):" >&2; cat "$work/run.log" >&2; exit 1; }
  awk '/derivatives of [0-9]+ observables/ { for (i = 1; i <= NF; i++) { if ($i == "observables") M = $(i - 1); if ($i ~ /^batches/) K = $(i - 1) } }
       /SSA events in/ { ev = $1; s = $5; imb = $NF }
       /^Stgssa(Simulate|Tangents) / { tr = $5 }  # compute seconds: max over ranks, then max/min
       /^StgssaReduce / { red = $4 }                # seconds in the reductions (incl. waiting for the slowest rank)
       END { if (M == "") M = 0; if (K == "") K = 0; print ev, s, imb, M, K, red, tr }' "$work/run.log"
}

echo
echo "1. scaling (events and seconds: stgssa_hpc's 'N SSA events in S s'; eff = T1 work rate / Tp rate per rank;"
echo "   eff/core divides by min(ranks, $CORES): ranks > $CORES are oversubscribed and measure MPI overhead, not speedup;"
echo "   max/mean: SSA events per rank (load balance); red%: -log_view StgssaReduce (the reductions, including waiting"
echo "   for the slowest rank) / seconds; t-max/min: compute time of the slowest / fastest rank (CPU share, not events))"
printf "%-9s %-6s %5s %8s %11s %8s %11s %11s %7s %9s %8s %7s %7s\n" mode kind ranks ntraj events seconds events/s ev/s/rank eff eff/core max/mean red% t-max/min
for mode in simulate gradient; do
  for kind in strong weak; do
    base=""
    for n in $RANKS; do
      if [ $mode = simulate ]; then s=$STRONG_SIM w=$WEAK_SIM; else s=$STRONG_GRAD w=$WEAK_GRAD; fi
      if [ $kind = strong ]; then nt=$s; else nt=$((w * n)); fi
      best=""
      for r in $(seq "$REPEAT"); do
        out=$(one "$n" "$mode" "$nt") || exit 1
        best=$(printf '%s\n%s\n' "$best" "$out" | awk 'NF && (b == "" || $2 < s) { b = $0; s = $2 } END { print b }')
      done
      set -- $best
      ev=$1 sec=$2 imb=$3
      [ $mode = gradient ] && [ "$4" != 0 ] && M=$4 K=$5
      [ -z "$base" ] && base="$ev $sec"
      echo "$n $nt $ev $sec $imb $base $CORES $6 $7" | awk -v mode=$mode -v kind=$kind '{
        n = $1; r = $3 / $4; r1 = $6 / $7; c = (n < $8) ? n : $8
        printf "%-9s %-6s %5d %8d %11d %8.3f %11.4g %11.4g %6.0f%% %8.0f%% %8.4f %6.2f%% %9.2f\n", mode, kind, n, $2, $3, $4, r, r / n, 100 * r / (n * r1), 100 * r / (c * r1), $5, 100 * $9 / $4, $10 }'
      [ $mode = gradient ] && [ $kind = weak ] && [ "$n" = 1 ] && tc=$sec epr=$ev
    done
  done
done

echo
echo "2. reduction model (gradient, distribution loss: M = $M observables, P = 3, K = $K batches; per-rank compute per"
echo "   evaluation t_c = $tc s for $epr events, the 1-rank weak run; interconnect alpha = $ALPHA s, beta = $BETA s/byte)"
mpi 2 "$ar" -M "$M" -P 3 -K "$K" -tc "$tc" -events_per_rank "$epr" -alpha "$ALPHA" -beta "$BETA" 2>&1

echo
echo "3. peak RSS (/usr/bin/time -v, one process, no mpirun), target ratio <= 1.1"
rss() { # extra args...; prints max RSS in kB
  run /usr/bin/time -v "$exe" -stgssa_model "$root/input/telegraph.model" -stgssa_seed 9 -stgssa_observe M -stgssa_output "$work/m.h5" "$@" > "$work/mem.log" 2>&1 ||
    { echo "bench_scaling: memory run failed ($*):" >&2; tail -5 "$work/mem.log" >&2; exit 1; }
  awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$work/mem.log"
}
[ -x /usr/bin/time ] || { echo "   /usr/bin/time not installed (Debian: apt-get install time): skipped"; exit 0; }
T100=$(awk -v t="$T" 'BEGIN { print 100 * t }')
# gradient without data: the observables are the moments at tfinal (a data time would have to equal tfinal)
gm="-stgssa_mode gradient -stgssa_gradient stgs -stgssa_fit k_on,k_off,k_tx"
r0=$(rss -stgssa_mode simulate -stgssa_ntraj 1 -stgssa_tfinal "$T" -stgssa_sample_times "$T") || exit 1
echo "   baseline (libraries, MPI, PETSc, HDF5): simulate of 1 trajectory $r0 kB"
printf "%-9s %-26s %12s %-26s %12s %7s\n" mode small "RSS kB" big "RSS kB" ratio
for mode in simulate gradient; do
  if [ $mode = simulate ]; then a="-stgssa_mode simulate" big=$MEM_BIG_SIM; else a=$gm big=$MEM_BIG_GRAD; fi
  r1=$(rss $a -stgssa_ntraj "$MEM_SMALL" -stgssa_tfinal "$T" -stgssa_sample_times "$T") || exit 1
  r2=$(rss $a -stgssa_ntraj "$big" -stgssa_tfinal "$T" -stgssa_sample_times "$T") || exit 1
  printf "%-9s %-26s %12d %-26s %12d %7.3f\n" $mode "ntraj $MEM_SMALL, T $T" "$r1" "ntraj $big, T $T" "$r2" "$(awk -v a="$r2" -v b="$r1" 'BEGIN { print a / b }')"
  r1=$(rss $a -stgssa_ntraj "$MEM_TRAJ_T" -stgssa_tfinal "$T" -stgssa_sample_times "$T") || exit 1
  r2=$(rss $a -stgssa_ntraj "$MEM_TRAJ_T" -stgssa_tfinal "$T100" -stgssa_sample_times "$T100") || exit 1
  printf "%-9s %-26s %12d %-26s %12d %7.3f\n" $mode "ntraj $MEM_TRAJ_T, T $T" "$r1" "ntraj $MEM_TRAJ_T, T $T100" "$r2" "$(awk -v a="$r2" -v b="$r1" 'BEGIN { print a / b }')"
done
