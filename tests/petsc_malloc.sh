#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# PETSc's own memory checks (-malloc_debug: guard bytes checked at every free, -malloc_dump: every
# PetscMalloc not freed at PetscFinalize is listed as "[ RANK] N bytes FUNCTION() at FILE:LINE").
# Every mode, each estimator, rate laws with time-dependent inputs, restart, fsp and a study run
# on 2 ranks; any listed block or non-zero exit fails. A canary program that leaks one block
# on purpose proves that the pattern matches PETSc's report.
# usage: petsc_malloc.sh STGSSA_HPC CANARY SOURCE_ROOT
set -u
exe=$1
canary=$2
root=$3
pass=0
fail=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
leaks='^\[ *[0-9]+\] *[0-9]+ bytes '

"$canary" -malloc_debug -malloc_dump > canary.log 2>&1
if grep -qE "$leaks" canary.log; then echo "ok   canary leak reported: $(grep -E "$leaks" canary.log | head -1)"; pass=$((pass + 1))
else echo "FAIL the canary's leak was not reported:"; cat canary.log; fail=$((fail + 1)); fi

# check NAME ARGS...: run on 2 ranks with -malloc_debug -malloc_dump
check() {
  name=$1; shift
  timeout 600 mpirun -n 2 --oversubscribe "$exe" "$@" -malloc_debug -malloc_dump > "$name.log" 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then echo "FAIL $name: exit $rc"; tail -5 "$name.log" | sed 's/^/    /'; fail=$((fail + 1))
  elif grep -qE "$leaks" "$name.log"; then echo "FAIL $name: PETSc memory not freed:"; grep -E "$leaks" "$name.log" | head -10 | sed 's/^/    /'; fail=$((fail + 1))
  else echo "ok   $name"; pass=$((pass + 1)); fi
}

T="-stgssa_model $root/input/telegraph.model -stgssa_tfinal 3 -stgssa_sample_times 1,3"
I="-stgssa_model $root/input/induction.model -stgssa_tfinal 3 -stgssa_sample_times 1,3 -stgssa_initial steady -stgssa_initial_burnin 5"
check simulate            $T -stgssa_mode simulate -stgssa_ntraj 200 -stgssa_output sim.h5
check simulate_inputs     $I -stgssa_mode simulate -stgssa_ntraj 200 -stgssa_output data.h5 -stgssa_observe M
for g in stgs score fd; do
  check gradient_$g       $T -stgssa_mode gradient -stgssa_gradient $g -stgssa_ntraj 100 -stgssa_output g_$g.h5
done
for g in stgs score; do
  check gradient_inputs_$g $I -stgssa_mode gradient -stgssa_gradient $g -stgssa_ntraj 40 -stgssa_fit k_on,a1,r1 -stgssa_output gi_$g.h5
done
check optimize            $I -stgssa_mode optimize -stgssa_data data.h5 -stgssa_observe M -stgssa_loss distribution -stgssa_gradient score -stgssa_ntraj 30 -stgssa_fit a1,k_tx -tao_max_it 4 -stgssa_checkpoint_interval 2 -stgssa_output fit.h5
check restart             $I -stgssa_mode optimize -stgssa_data data.h5 -stgssa_observe M -stgssa_loss distribution -stgssa_gradient score -stgssa_ntraj 30 -stgssa_fit a1,k_tx -tao_max_it 6 -stgssa_checkpoint_interval 2 -stgssa_restart fit.h5 -stgssa_output fit2.h5
check fsp_inputs          $I -stgssa_mode fsp -stgssa_fsp_max M=80 -stgssa_fit a1,r1 -stgssa_output fsp.h5
check fsp_gradient        $I -stgssa_mode optimize -stgssa_data data.h5 -stgssa_observe M -stgssa_loss distribution -stgssa_gradient fsp -stgssa_fsp_max M=80 -stgssa_fit a1 -tao_type blmvm -tao_max_it 2 -stgssa_output fitfsp.h5
printf 'name,-stgssa_seed,k_on\na,1,0.5\nb,2,1\n' > table.csv
check study               $T -stgssa_mode simulate -stgssa_ntraj 100 -stgssa_study table.csv -stgssa_study_groups 2 -stgssa_output study.h5

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
