#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Data-driven setup (issue 15): with -stgssa_data the data's times are the sample times and
# -stgssa_tfinal defaults to the last data time; CSV columns are mapped and rows filtered.
#  1. cells.csv `Time,rna,replica` (replicas 1 and 2, times 0, 0.5, 1, 2), gradient mode on 2
#     ranks with -stgssa_data_columns rna=M -stgssa_data_where replica=1 and neither
#     -stgssa_sample_times nor -stgssa_tfinal: the start-up line says what was inferred, and
#     /gradient/times are the data times;
#  2. the same run on 1 rank, and a run with the rows of replica 1 pre-filtered into a plain
#     `time,M` file with the times typed by hand (-stgssa_sample_times 0,0.5,1,2 -stgssa_tfinal 2):
#     /gradient/loss, /gradient/gradient and /gradient/times byte-identical (same seed);
#  3. -stgssa_sample_times 0.25,3 adds to the data times (tfinal 3 = last sample time);
#  4. fsp mode (exact) takes the data times too, also with -stgssa_tfinal given: /fsp/times;
#     -stgssa_gradient fsp samples the union; optimize mode runs 2 iterations;
#  5. a study of two members (different seeds, one with a different replica) runs with no times;
#  6. errors: -stgssa_tfinal before the last data time names both; an unknown column names it
#     and both options; on 2 ranks every rank stops.
# usage: data_setup.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
pass=0
fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }
cp "$root/input/telegraph.model" telegraph.model

run() { # name ranks [options...]
  name=$1; n=$2; shift 2
  if ! timeout 300 mpirun -n "$n" --oversubscribe "$exe" -stgssa_model telegraph.model "$@" -stgssa_output "$work/$name.h5" > "$work/$name.log" 2>&1; then
    bad "run $name:"; cat "$work/$name.log"; finish
  fi
}
values() { # file dataset: the values, one per line
  h5dump -y -w 0 -m %.17g -d "$2" "$1" 2> /dev/null | sed -n '/DATA {/,/}/p' | grep -v '[{}]' | tr ',' '\n' | tr -d ' ' | grep -v '^$'
}
same() { # what a.h5 b.h5 datasets...
  what=$1; a=$2; b=$3; shift 3
  for d in "$@"; do
    if [ -z "$(values "$a" "$d")" ] || [ "$(values "$a" "$d")" != "$(values "$b" "$d")" ]; then bad "$what: $d differs or is missing"; return; fi
  done
  ok "$what"
}

# deterministic counts: replica 1 has 30 cells per time, replica 2 has 20 (different numbers)
awk 'BEGIN { print "\"Time\",rna,replica"; n = split("0 0.5 1 2", t, " "); s = 7
  for (i = 1; i <= n; i++) for (r = 1; r <= 2; r++) for (c = 0; c < (r == 1 ? 30 : 20); c++) {
    s = (s * 1103515245 + 12345) % 2147483648; print t[i] "," (s % (4 + 6 * i)) "," r } }' > cells.csv
awk -F, 'NR == 1 { print "time,M"; next } $3 == 1 { print $1 "," $2 }' cells.csv > plain.csv
G="-stgssa_mode gradient -stgssa_ntraj 400 -stgssa_seed 5 -stgssa_loss timecourse"
D="-stgssa_data cells.csv -stgssa_data_columns rna=M -stgssa_data_where replica=1"

# 1.
run inferred 2 $G $D
line="data: cells.csv: 4 times 0..2 (30 cells per time, 120 cells), columns Time->time, rna->M; rows where replica=1 (120 of 200); sample times = data times; tfinal = 2 (last data time)"
if grep -qxF "$line" inferred.log; then ok "start-up line"; else bad "start-up line: expected '$line' in:"; head -3 inferred.log; fi
[ "$(values inferred.h5 /gradient/times | tr '\n' ' ')" = "0 0.5 1 2 " ] && ok "sample times = data times" || bad "/gradient/times: $(values inferred.h5 /gradient/times | tr '\n' ' ')"
grep -q "timecourse loss against cells.csv (4 comparisons)" inferred.log && ok "every data time compared" || bad "comparisons: $(grep StgssaObjective inferred.log)"

# 2.
run inferred1 1 $G $D
same "1 rank = 2 ranks" inferred.h5 inferred1.h5 /gradient/loss /gradient/gradient /gradient/times
run typed 2 $G -stgssa_data plain.csv -stgssa_sample_times 0,0.5,1,2 -stgssa_tfinal 2
same "inferred = typed by hand on a filtered file" inferred.h5 typed.h5 /gradient/loss /gradient/gradient /gradient/times

# 3.
run union 2 $G $D -stgssa_sample_times 0.25,3
[ "$(values union.h5 /gradient/times | tr '\n' ' ')" = "0 0.25 0.5 1 2 3 " ] && ok "union with -stgssa_sample_times" || bad "union: $(values union.h5 /gradient/times | tr '\n' ' ')"
grep -qF "sample times = data times + 2 of -stgssa_sample_times (6 in all); tfinal = 3 (last sample time)" union.log && ok "union reported" || bad "union line: $(grep '^data:' union.log)"

# 4.
run fsp 2 -stgssa_mode fsp -stgssa_fsp_max M=60,G_on=1,G_off=1 $D
[ "$(values fsp.h5 /fsp/times | tr '\n' ' ')" = "0 0.5 1 2 " ] && ok "fsp mode: data times" || bad "/fsp/times: $(values fsp.h5 /fsp/times | tr '\n' ' ')"
run fsp_tf 1 -stgssa_mode fsp -stgssa_fsp_max M=60,G_on=1,G_off=1 $D -stgssa_tfinal 3
[ "$(values fsp_tf.h5 /fsp/times | tr '\n' ' ')" = "0 0.5 1 2 " ] && ok "fsp mode: data times with -stgssa_tfinal" || bad "/fsp/times with tfinal: $(values fsp_tf.h5 /fsp/times | tr '\n' ' ')"
run gfsp 2 $G -stgssa_gradient fsp -stgssa_fsp_max M=60,G_on=1,G_off=1 $D -stgssa_tfinal 3 -stgssa_sample_times 0.25
[ "$(values gfsp.h5 /gradient/times | tr '\n' ' ')" = "0 0.25 0.5 1 2 " ] && ok "gradient fsp: union of times" || bad "gradient fsp times: $(values gfsp.h5 /gradient/times | tr '\n' ' ')"
run opt 2 -stgssa_mode optimize -stgssa_ntraj 200 -stgssa_loss timecourse -tao_max_it 2 $D
grep -q "^Wrote" opt.log && ok "optimize mode" || bad "optimize: $(tail -3 opt.log)"

# 5.
printf 'name,-stgssa_seed,-stgssa_data_where\na,1,\nb,2,replica=2\n' > members.csv
mkdir -p study_members
if timeout 300 mpirun -n 2 --oversubscribe "$exe" -stgssa_model telegraph.model $G $D -stgssa_study members.csv -stgssa_study_groups 2 -stgssa_output study.h5 > study.log 2>&1; then
  ta=$(values study.h5 /members/a/gradient/times | tr '\n' ' '); tb=$(values study.h5 /members/b/gradient/times | tr '\n' ' ')
  [ "$ta" = "0 0.5 1 2 " ] && [ "$tb" = "0 0.5 1 2 " ] && ok "study members infer their times" || bad "study times: a '$ta' b '$tb'"
  grep -qF "rows where replica=2 (80 of 200)" study.log && ok "study member with its own filter" || bad "study: $(grep '^data:' study.log)"
else
  bad "study:"; tail -5 study.log
fi

# 6.
expect_fail() { # name phrase ranks options...
  name=$1; phrase=$2; n=$3; shift 3
  timeout 120 mpirun -n "$n" --oversubscribe "$exe" -stgssa_model telegraph.model "$@" -stgssa_output err.h5 > err.log 2>&1
  rc=$?
  if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then bad "$name: exit $rc"
  elif ! grep -qF -- "$phrase" err.log; then bad "$name: message lacks '$phrase':"; head -5 err.log
  elif [ -e err.h5 ]; then bad "$name: wrote err.h5"
  else ok "$name"; fi
}
expect_fail tfinal_before_data "-stgssa_tfinal 1.5 is before the last data time 2 of cells.csv" 2 $G $D -stgssa_tfinal 1.5
expect_fail unknown_column "cells.csv:1: found column 'replica', which is not among the species of the model telegraph.model (G_off, G_on, M); expected time, a model name, or a column mapped with -stgssa_data_columns FILECOL=NAME (FILECOL= drops it) or used to select rows with -stgssa_data_where COL=VALUE" 2 $G -stgssa_data cells.csv -stgssa_data_columns rna=M
expect_fail where_nothing "no row has replica='3' (column 'replica' holds '1', '2')" 1 $G $D -stgssa_data_where replica=3
finish
