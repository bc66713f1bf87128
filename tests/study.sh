#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Parameter studies (-stgssa_study): (1) a study on 2 ranks in 2 groups gives, member by member,
# bitwise the /history and /result of the member run alone on 1 rank; (2) a rerun reuses the
# finished members; (3) a study killed (SIGKILL) inside a member resumes that member from its
# checkpoint and ends bitwise equal to the member run alone; (4) bad tables and options are
# refused with file:line messages and nothing written.
# usage: study.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
pass=0
cd "$work" || exit 1
# STGSSA_TEST_SCALE < 1 (the sanitizer run): fewer trajectories and iterations; every comparison
# below is bitwise, so it holds at any size
fit_ntraj=600 long_it=60
case ${STGSSA_TEST_SCALE:-1} in 0.*|.*) fit_ntraj=250 long_it=24 ;; esac
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1"; fail=$((fail + 1)); }

# raw bytes of the datasets that must agree; $2: group prefix inside the file
dump() {
  : > "$3"
  for d in history/loss history/theta history/gradient history/gradient_stderr result/parameters; do
    h5dump -b LE -d "$2/$d" -o part.bin "$1" > /dev/null 2>&1 || { echo "FAIL cannot read $2/$d of $1"; return 1; }
    cat part.bin >> "$3"
  done
}

# data: a simulate study, two truths
cat > data.opts << EOT
-stgssa_model $root/input/telegraph.model
-stgssa_mode simulate
-stgssa_ntraj 2000
-stgssa_tfinal 10
-stgssa_observe M
EOT
cat > data.csv << 'EOT'
# two synthetic truths
name,-stgssa_seed,k_on,k_off,k_tx
slow,3,0.5,2,20
fast,4,2,2,
EOT
timeout 300 mpirun -n 2 "$exe" -options_file data.opts -stgssa_study data.csv -stgssa_study_groups 2 -stgssa_output data.h5 > data.log 2>&1 ||
  { echo "FAIL data study:"; cat data.log; exit 1; }
[ -f data_members/slow.h5 ] && [ -f data_members/fast.h5 ] && ok "data study wrote its member files" || bad "data study member files missing"

cat > fit.opts << EOT
-stgssa_model $root/input/telegraph.model
-stgssa_mode optimize
-stgssa_loss distribution
-stgssa_fit k_on,k_off,k_tx
-stgssa_gradient score
-stgssa_ntraj $fit_ntraj
-stgssa_tfinal 10
-stgssa_observe M
-tao_max_it 25
EOT
cat > fit.csv << EOT
name,-stgssa_data,-stgssa_seed,-tao_max_it,k_on,k_off,k_tx
long,data_members/slow.h5,11,$long_it,1,1,10
short1,data_members/slow.h5,12,,2,1,10
short2,"data_members/fast.h5",13,,1,3,10
EOT
alone() { # member name, data, seed, max_it, start
  timeout 300 "$exe" -options_file fit.opts -stgssa_data "$2" -stgssa_seed "$3" -tao_max_it "$4" -stgssa_parameters "$5" -stgssa_output "alone_$1.h5" > "alone_$1.log" 2>&1 ||
    { echo "FAIL member $1 alone:"; cat "alone_$1.log"; return 1; }
  dump "alone_$1.h5" "" "alone_$1.bin"
}
alone long data_members/slow.h5 11 $long_it k_on=1,k_off=1,k_tx=10 || exit 1
alone short1 data_members/slow.h5 12 25 k_on=2,k_off=1,k_tx=10 || exit 1
alone short2 data_members/fast.h5 13 25 k_on=1,k_off=3,k_tx=10 || exit 1

# (1) two groups on two ranks
timeout 600 mpirun -n 2 "$exe" -options_file fit.opts -stgssa_study fit.csv -stgssa_study_groups 2 -stgssa_output fit.h5 > fit.log 2>&1 ||
  { echo "FAIL fit study:"; cat fit.log; exit 1; }
for m in long short1 short2; do
  dump fit.h5 "/members/$m" "study_$m.bin" || exit 1
  cmp -s "alone_$m.bin" "study_$m.bin" && ok "member $m: 2 groups on 2 ranks bitwise equal to the member alone on 1 rank" ||
    bad "member $m differs from the member alone"
done
groups=$(h5dump -d /study/group fit.h5 | grep "(0)" | head -1)
echo "     groups that ran long, short1, short2: $groups"
echo "$groups" | grep -q "0" && echo "$groups" | grep -q "1" && ok "both groups took members" || bad "one group did all the work: $groups"

# (2) rerun: everything reused, same numbers
timeout 300 mpirun -n 2 "$exe" -options_file fit.opts -stgssa_study fit.csv -stgssa_study_groups 2 -stgssa_output fit.h5 > rerun.log 2>&1 || bad "rerun failed"
grep -q "0 to run (3 complete" rerun.log && ok "rerun reused the 3 finished members" || { bad "rerun recomputed members:"; head -3 rerun.log; }
dump fit.h5 /members/long rerun_long.bin && cmp -s alone_long.bin rerun_long.bin && ok "rerun study file holds the same results" || bad "rerun study file differs"

sed 's/^short2,"data_members\/fast.h5",13,/short2,"data_members\/fast.h5",14,/' fit.csv > changed.csv
if timeout 300 mpirun -n 2 "$exe" -options_file fit.opts -stgssa_study changed.csv -stgssa_output fit.h5 > changed.log 2>&1; then
  bad "a member file computed with another seed was reused"
elif grep -q "changed.csv:4: member short2: fit_members/short2.h5 exists but was computed with other options" changed.log; then
  ok "member file computed with other options refused: $(grep -m1 error changed.log | cut -c1-120)..."
else bad "changed member options: unclear message:"; cat changed.log; fi

# (3) kill inside member long (1 group), rerun: long resumes from its checkpoint
"$exe" -options_file fit.opts -stgssa_study fit.csv -stgssa_checkpoint_interval 5 -stgssa_output killed.h5 > killed.log 2>&1 &
pid=$!
i=0
while [ ! -f killed_members/long.h5 ] && [ $i -lt 6000 ]; do sleep 0.01; i=$((i + 1)); done
kill -9 $pid 2> /dev/null
wait $pid 2> /dev/null
if [ ! -f killed_members/long.h5 ] || [ -f killed.h5 ]; then
  bad "the kill did not land inside member long"
else
  timeout 600 mpirun -n 2 "$exe" -options_file fit.opts -stgssa_study fit.csv -stgssa_study_groups 2 -stgssa_checkpoint_interval 5 -stgssa_output killed.h5 > resumed.log 2>&1 || { bad "resumed study failed:"; tail -5 resumed.log; }
  grep -q "member long .*resumed from its checkpoint" resumed.log && ok "member long resumed from its checkpoint" || bad "member long not resumed"
  for m in long short1 short2; do
    dump killed.h5 "/members/$m" "killed_$m.bin" && cmp -s "alone_$m.bin" "killed_$m.bin" && ok "member $m after kill + rerun bitwise equal to the member alone" ||
      bad "member $m after kill + rerun differs"
  done
fi

# (4) bad input: file:line messages, exit status 1, nothing written
refuse() { # description, expected text, args...
  what=$1
  expect=$2
  shift 2
  rm -rf never.h5 never_members
  if timeout 120 "$exe" -options_file fit.opts -stgssa_output never.h5 "$@" > refuse.log 2>&1; then bad "$what: accepted"
  elif grep -q -- "$expect" refuse.log && [ ! -e never.h5 ] && [ ! -e never_members ]; then ok "$what: $(grep -m1 error refuse.log)"
  else bad "$what: expected '$expect', nothing written; got:"; cat refuse.log; fi
}
printf 'name,k_on\na,1,2\n' > fields.csv
refuse "wrong field count" "fields.csv:2: 3 fields; expected 2" -stgssa_study fields.csv
printf 'name,k_onn\na,1\n' > param.csv
refuse "unknown parameter" "param.csv:2: member a: -stgssa_parameters: unknown parameter 'k_onn'" -stgssa_study param.csv -stgssa_data data_members/slow.h5
printf 'name,-stgssa_data\na,missing.h5\n' > data2.csv
refuse "missing data file of a member" "data2.csv:2: member a:" -stgssa_study data2.csv
printf 'name,k_on\na,1\na,2\n' > dup.csv
refuse "duplicate member names" "dup.csv:3: member name 'a' already used on line 2" -stgssa_study dup.csv
printf 'name,k_on\na,-1\n' > neg.csv
refuse "negative rate" "neg.csv:2: column k_on" -stgssa_study neg.csv
printf 'name,-stgssa_output\na,x.h5\n' > out.csv
refuse "an option the study sets" "out.csv:1: column -stgssa_output cannot vary" -stgssa_study out.csv
refuse "more groups than ranks" "-stgssa_study_groups 2: expected at most the number of ranks (1)" -stgssa_study fit.csv -stgssa_study_groups 2
refuse "unknown member selected" "no member 'nope'" -stgssa_study fit.csv -stgssa_study_members short1,nope
refuse "missing study table" "cannot open study table" -stgssa_study nothere.csv
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
