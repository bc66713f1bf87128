#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Bad input and bad options: non-zero exit, a message saying what was expected, nothing written,
# and (under ASan) no leak whose allocation stack passes through our code.
# usage: cli_errors.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
fail=0
pass=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$root/input/telegraph.model" "$work/telegraph.model"
cp "$root/input/mm_decay.model" "$work/mm.model"
printf 'begin species\n  M 0\nend species\nbegin reactions\n  M => 0  1\nend reactions\n' > "$work/bad.model"

# expect_fail NAME PHRASE ARGS...: run in $work, expect exit != 0, PHRASE in the output, no new files
expect_fail() {
  name=$1; phrase=$2; shift 2
  before=$(ls -A "$work" | sort)
  (cd "$work" && timeout 120 "$@") > "$work/../cli_$$.log" 2>&1
  rc=$?
  after=$(ls -A "$work" | sort)
  if [ $rc -eq 0 ]; then
    echo "FAIL $name: exit 0, expected failure"; fail=$((fail + 1))
  elif [ $rc -eq 124 ]; then
    echo "FAIL $name: timed out (hang?)"; fail=$((fail + 1))
  elif ! grep -qF -- "$phrase" "$work/../cli_$$.log"; then
    echo "FAIL $name: message lacks '$phrase':"; sed 's/^/    /' "$work/../cli_$$.log" | head -20; fail=$((fail + 1))
  elif awk '/leak of/{blk=1} /^$/{blk=0} blk && /Stgssa|stgssa_hpc/{found=1} END{exit !found}' "$work/../cli_$$.log"; then
    echo "FAIL $name: LeakSanitizer reports a leak through our code:"; grep -A8 "leak of" "$work/../cli_$$.log" | head -20 | sed 's/^/    /'; fail=$((fail + 1))
  elif [ "$before" != "$after" ]; then
    echo "FAIL $name: files were written: $(echo "$after" | tr '\n' ' ')"; fail=$((fail + 1))
  else
    echo "ok   $name"; pass=$((pass + 1))
  fi
  rm -f "$work/../cli_$$.log"
}

M="-stgssa_model telegraph.model -stgssa_mode simulate -stgssa_ntraj 50 -stgssa_tfinal 2 -stgssa_output out.h5"
expect_fail ntraj_zero       "-stgssa_ntraj must be positive"   "$exe" $M -stgssa_ntraj 0
expect_fail ntraj_negative   "-stgssa_ntraj must be positive"   "$exe" $M -stgssa_ntraj -5
expect_fail unknown_observed "unknown species 'X'"              "$exe" $M -stgssa_observe M,X
expect_fail sample_after_end "is beyond -stgssa_tfinal"         "$exe" $M -stgssa_sample_times 1,3
expect_fail sample_unsorted  "expected strictly increasing"     "$exe" $M -stgssa_sample_times 1,0.5
expect_fail tfinal_negative  "-stgssa_tfinal must be positive"  "$exe" $M -stgssa_tfinal -1
expect_fail missing_dir      "does not exist"                   "$exe" $M -stgssa_output nodir/out.h5
expect_fail missing_model    "nofile.model: cannot open"        "$exe" $M -stgssa_model nofile.model
expect_fail malformed_model  "bad.model:5:"                     "$exe" $M -stgssa_model bad.model
expect_fail no_model         "expected -stgssa_model FILE"      "$exe" -stgssa_mode simulate -stgssa_output out.h5
expect_fail unknown_param    "unknown parameter 'k_x'"          "$exe" $M -stgssa_parameters k_x=1
expect_fail negative_param   "k_on"                             "$exe" $M -stgssa_parameters k_on=-1
expect_fail nan_param        "k_on"                             "$exe" $M -stgssa_parameters k_on=nan
expect_fail unknown_mode     "stgssa_mode"                      "$exe" $M -stgssa_mode fly
G="-stgssa_model telegraph.model -stgssa_mode gradient -stgssa_ntraj 50 -stgssa_tfinal 2 -stgssa_output out.h5"
printf 'M\n1\n2,3\n' > "$work/cells.csv"
printf 'time,M\n1,3\n1.5,4\n' > "$work/timed.csv"
expect_fail fit_unknown      "-stgssa_fit: unknown parameter 'k_x'"  "$exe" $G -stgssa_fit k_on,k_x
expect_fail fit_twice        "listed twice"                          "$exe" $G -stgssa_fit k_on,k_on
expect_fail temperature      "-stgssa_temperature must be positive"  "$exe" $G -stgssa_temperature 0
expect_fail fd_step          "-stgssa_fd_h must be positive"         "$exe" $G -stgssa_fd_h -1
expect_fail window_order     "-stgssa_window: expected 0 <= t0 < t1" "$exe" $G -stgssa_window 2,1
expect_fail window_after_end "is beyond -stgssa_tfinal"              "$exe" $G -stgssa_window 1,3
expect_fail unknown_gradient "stgssa_gradient"                       "$exe" $G -stgssa_gradient magic
expect_fail loss_needs_data  "needs -stgssa_data FILE"               "$exe" $G -stgssa_loss moments
expect_fail data_missing     "nodata.csv: cannot open"               "$exe" $G -stgssa_data nodata.csv
expect_fail data_bad_line    "cells.csv:3:"                          "$exe" $G -stgssa_data cells.csv
expect_fail data_tfinal      "-stgssa_tfinal 1.2 is before the last data time 1.5 of timed.csv" "$exe" $G -stgssa_data timed.csv -stgssa_tfinal 1.2
expect_fail data_where_col   "found no column 'replica' of -stgssa_data_where replica=1" "$exe" $G -stgssa_data timed.csv -stgssa_data_where replica=1
expect_fail data_columns_syntax "-stgssa_data_columns: found 'M'; expected FILECOL=NAME" "$exe" $G -stgssa_data timed.csv -stgssa_data_columns M
expect_fail entropy_irrev    "has no reverse"                        "$exe" $G -stgssa_entropy
expect_fail fit_zero_rate    "log-rates need a positive value"       "$exe" $G -stgssa_parameters k_on=0

O="-stgssa_model telegraph.model -stgssa_mode optimize -stgssa_ntraj 50 -stgssa_tfinal 2 -stgssa_output out.h5 -tao_max_it 2"
printf 'M,Z\n1,2\n' > "$work/unknown.csv"
printf 'M\n1\n-2\n' > "$work/negative.csv"
printf 'M\n1\nabc\n' > "$work/text.csv"
: > "$work/empty.csv"
expect_fail opt_no_data       "optimize mode needs a loss"           "$exe" $O
expect_fail opt_unknown_col   "unknown.csv:1: found column 'Z', which is not among the species of the model telegraph.model" "$exe" $O -stgssa_data unknown.csv
expect_fail opt_unknown_hint  "-stgssa_data_where COL=VALUE"         "$exe" $O -stgssa_data unknown.csv
expect_fail opt_negative      "negative.csv:3:"                      "$exe" $O -stgssa_data negative.csv
expect_fail opt_non_numeric   "text.csv:3:"                          "$exe" $O -stgssa_data text.csv
expect_fail opt_empty_data    "empty.csv"                            "$exe" $O -stgssa_data empty.csv
expect_fail opt_fit_unknown   "unknown parameter 'k_x'"              "$exe" $O -stgssa_data timed.csv -stgssa_sample_times 1,1.5 -stgssa_fit k_x
expect_fail opt_bounds_empty  "empty interval for k_on"              "$exe" $O -stgssa_data timed.csv -stgssa_sample_times 1,1.5 -stgssa_bounds k_on=2:1
expect_fail opt_bounds_start  "outside -stgssa_bounds"               "$exe" $O -stgssa_data timed.csv -stgssa_sample_times 1,1.5 -stgssa_bounds k_on=1:2
# a fit on the SSA route of a network that is not first order has no default burn-in (first-order
# ones get 20 relaxation times at each iterate's rates); auto says why it is not on the exact route
OM="-stgssa_model mm.model -stgssa_mode optimize -stgssa_ntraj 50 -stgssa_tfinal 2 -stgssa_output out.h5 -tao_max_it 2 -stgssa_fit k_b"
expect_fail steady_no_burnin  "give -stgssa_initial_burnin T > 0"   "$exe" $OM -stgssa_data timed.csv -stgssa_initial steady -stgssa_gradient score
expect_fail steady_auto_score "-stgssa_gradient auto chose score: " "$exe" $OM -stgssa_data timed.csv -stgssa_initial steady -stgssa_fsp_max_states 10
if (cd "$work" && timeout 120 "$exe" $O -stgssa_data timed.csv -stgssa_sample_times 1,1.5 -stgssa_initial steady -stgssa_gradient score -stgssa_output fitb.h5) > "$work/../cli_$$.log" 2>&1 &&
   grep -qF "recomputed at every iterate's rates" "$work/../cli_$$.log"; then
  echo "ok   steady_default_burnin_fit"; pass=$((pass + 1))
else
  echo "FAIL steady_default_burnin_fit:"; sed 's/^/    /' "$work/../cli_$$.log" | head -20; fail=$((fail + 1))
fi
rm -f "$work/../cli_$$.log" "$work/fitb.h5"
# an exact fit whose start point the projection cannot hold stops with the FSP's advice (later trial points are rejected instead)
expect_fail fsp_start_point   "stgssa_hpc: error: optimizer iteration 0 (evaluation 0): FSP truncation" "$exe" $O -stgssa_data timed.csv -stgssa_sample_times 1,1.5 -stgssa_gradient fsp -stgssa_fsp_max M=2
expect_fail opt_bounds_syntax "expected name=lo:hi"                  "$exe" $O -stgssa_data timed.csv -stgssa_sample_times 1,1.5 -stgssa_bounds k_on
expect_fail opt_bounds_notfit "is not a fitted parameter"            "$exe" $O -stgssa_data timed.csv -stgssa_sample_times 1,1.5 -stgssa_fit k_on -stgssa_bounds k_off=1:2
expect_fail opt_history_every "-stgssa_history_every 0: expected an integer >= 1" "$exe" $O -stgssa_data timed.csv -stgssa_sample_times 1,1.5 -stgssa_history_every 0
expect_fail opt_restart_none  "nofile.h5"                            "$exe" $O -stgssa_data timed.csv -stgssa_sample_times 1,1.5 -stgssa_restart nofile.h5
C="$O -stgssa_data timed.csv -stgssa_sample_times 1,1.5"
expect_fail lc_unknown_name   "unknown parameter 'k_x'"              "$exe" $C -stgssa_log_constraint "k_tx=k_on+k_x"
expect_fail lc_dep_not_fitted "dependent 'k_tx' of 'k_tx=k_on' is not a fitted parameter" "$exe" $C -stgssa_fit k_on,k_off -stgssa_log_constraint "k_tx=k_on"
expect_fail lc_term_not_fit   "term 'k_deg' of 'k_tx=k_deg' is not a fitted parameter" "$exe" $C -stgssa_fit k_on,k_off,k_tx -stgssa_log_constraint "k_tx=k_deg"
expect_fail lc_malformed      "malformed term '2*+k_on'"             "$exe" $C -stgssa_log_constraint "k_tx=2*+k_on"
expect_fail lc_malformed_num  "expected NAME, NUMBER*NAME or NUMBER" "$exe" $C -stgssa_log_constraint "k_tx=k_on+3x"
expect_fail lc_no_equals      "expected DEP=TERM"                    "$exe" $C -stgssa_log_constraint "k_tx"
expect_fail lc_dep_on_rhs     "'k_tx' is a dependent and appears on the right-hand side" "$exe" $C -stgssa_log_constraint "k_tx=k_on;k_off=k_tx"
expect_fail lc_dep_twice      "the dependent of two constraints"     "$exe" $C -stgssa_log_constraint "k_tx=k_on;k_tx=k_off"
expect_fail lc_bounds_dep     "is set by -stgssa_log_constraint"     "$exe" $C -stgssa_log_constraint "k_tx=k_on+1" -stgssa_bounds k_tx=1:100
expect_fail opt_adam_beta     "beta"                                 "$exe" $O -stgssa_data timed.csv -stgssa_sample_times 1,1.5 -tao_type adam -tao_adam_beta1 1.5

F="-stgssa_model telegraph.model -stgssa_mode fsp -stgssa_tfinal 2 -stgssa_output out.h5"
expect_fail fsp_no_bound      "Give -stgssa_fsp_max SPECIES=BOUND"   "$exe" $F -stgssa_fsp_max_states 5000 -stgssa_fsp_grow 0
expect_fail fsp_auto_too_big  "reached -stgssa_fsp_max_states 40 states"  "$exe" $F -stgssa_fsp_max_states 40
expect_fail fsp_small_bound   "FSP truncation: lost mass"            "$exe" $F -stgssa_fsp_max M=5,G_on=1,G_off=1
expect_fail fsp_unknown_sp    "X"                                    "$exe" $F -stgssa_fsp_max X=5
expect_fail fsp_design        "not fsp"                              "$exe" $G -stgssa_gradient fsp -stgssa_fsp_max M=60,G_on=1,G_off=1 -stgssa_loss design
expect_fail fsp_window        "drop -stgssa_window"                  "$exe" $G -stgssa_gradient fsp -stgssa_fsp_max M=60,G_on=1,G_off=1 -stgssa_window 0,1

# collective failure on 2 ranks: both exit, no hang
# rate laws and inputs (issue 7): run-time guards name the reaction's line, the time and the state
printf 'begin parameters\n  k 1\nend parameters\nbegin species\n  M 6\nend species\nbegin reactions\n  M -> 0  k*(M - 4.5)\n  0 -> M  0.1\nend reactions\n' > "$work/neglaw.model"
printf 'begin parameters\n  k 1\nend parameters\nbegin inputs\n  u log(1 - t)\nend inputs\nbegin species\n  M 0\nend species\nbegin reactions\n  0 -> M  k*u\nend reactions\n' > "$work/unbounded.model"
L="-stgssa_mode simulate -stgssa_ntraj 20 -stgssa_tfinal 50 -stgssa_output out.h5"
expect_fail law_negative     "neglaw.model:8: the rate law of reaction 1 gives the propensity -0.5" "$exe" $L -stgssa_model neglaw.model
expect_fail law_negative_state "in the state M=4"                  "$exe" $L -stgssa_model neglaw.model
expect_fail law_unbounded    "unbounded.model:11: cannot bound the rate law of reaction 1" "$exe" $L -stgssa_model unbounded.model
# unknown options (typos) stop before any work, naming the closest known option; known options
# another mode would read are not errors (a note at the end)
expect_fail unknown_option     "stgssa_hpc: error: unknown option -stgssa_typo; did you mean -stgssa_" "$exe" $M -stgssa_typo 3
expect_fail unknown_option_ckpt "unknown option -stgssa_checkpoint_every; did you mean -stgssa_checkpoint_interval?" "$exe" $M -stgssa_checkpoint_every 3
expect_fail unknown_tao_option "unknown option -tao_adam_bta1; did you mean -tao_adam_beta1?"             "$exe" $M -tao_adam_bta1 0.8
expect_fail unknown_fsp_option "unknown option -fsp_ksp_tpye; did you mean -fsp_ksp_type?"               "$exe" $M -fsp_ksp_tpye gmres
expect_fail thinning_step    "-stgssa_thinning_step: expected a time >= 0" "$exe" $M -stgssa_thinning_step -1
expect_fail mpi_bad_observed "unknown species 'X'"              mpirun -n 2 --oversubscribe "$exe" $M -stgssa_observe X

# and a good run writes exactly out.h5, no temporary left behind
(cd "$work" && timeout 120 "$exe" $M > /dev/null 2>&1)
if [ $? -eq 0 ] && [ "$(ls -A "$work" | sort | tr '\n' ' ')" = "bad.model cells.csv empty.csv mm.model negative.csv neglaw.model out.h5 telegraph.model text.csv timed.csv unbounded.model unknown.csv " ]; then
  echo "ok   good_run_writes_output"; pass=$((pass + 1))
else
  echo "FAIL good_run_writes_output: $(ls -A "$work" | tr '\n' ' ')"; fail=$((fail + 1))
fi

# -stgssa_ssa_method (issue 9): nrm is for simulate mode with time-independent propensities only
cp "$root/input/induction.model" "$work/induction.model"
expect_fail ssa_method_unknown   "Unknown option foo for -stgssa_ssa_method. Available options: direct nrm" "$exe" $M -stgssa_ssa_method foo
expect_fail ssa_method_gradient  "-stgssa_ssa_method nrm applies to -stgssa_mode simulate only; mode gradient uses the direct method" "$exe" $M -stgssa_mode gradient -stgssa_ssa_method nrm
expect_fail ssa_method_optimize  "-stgssa_ssa_method nrm applies to -stgssa_mode simulate only; mode optimize uses the direct method" "$exe" $M -stgssa_mode optimize -stgssa_ssa_method nrm
expect_fail ssa_method_fsp       "-stgssa_ssa_method nrm applies to -stgssa_mode simulate only; mode fsp solves the master equation" "$exe" $M -stgssa_mode fsp -stgssa_ssa_method nrm
expect_fail ssa_method_tdep      "-stgssa_ssa_method nrm: model induction.model has propensities that depend on time" "$exe" $M -stgssa_model induction.model -stgssa_ssa_method nrm
expect_fail ssa_method_tdep_mpi  "use -stgssa_ssa_method direct (exact by thinning)" mpirun -n 2 --oversubscribe "$exe" $M -stgssa_model induction.model -stgssa_ssa_method nrm
expect_fail ssa_method_tree_tdep "-stgssa_ssa_method tree: model induction.model has propensities that depend on time" "$exe" $M -stgssa_model induction.model -stgssa_ssa_method tree
expect_fail ssa_method_rssa_law  "-stgssa_ssa_method rssa: model induction.model has rate laws (or propensities that depend on time)" "$exe" $M -stgssa_model induction.model -stgssa_ssa_method rssa
expect_fail ssa_method_rssa_grad "-stgssa_ssa_method rssa applies to -stgssa_mode simulate only; mode gradient uses the direct method" "$exe" $M -stgssa_mode gradient -stgssa_ssa_method rssa

# numerical guards (issue 8), in a subdirectory so the file list above stays as it is
mkdir -p "$work/g"
cp "$root/input/studies/ring_N3.model" "$work/g/ring.model"
printf 'begin parameters\n  b 10\nend parameters\nbegin species\n  B 1\n  A 9007199254740990\nend species\nbegin reactions\n  B -> B + A  b\n  A -> 0  1e-30\nend reactions\n' > "$work/g/explosive.model"
printf 'begin species\n  A 9007199254740993\nend species\nbegin reactions\n  A -> 0  1\nend reactions\n' > "$work/g/bigcount.model"
E="-stgssa_model g/ring.model -stgssa_ntraj 50 -stgssa_tfinal 5 -stgssa_output out.h5 -stgssa_parameters km2=0 -stgssa_fit kp1,kp2"
expect_fail entropy_zero_reverse  "its reverse, reaction 4 (g/ring.model:18, rate constant 0 from the parameter km2), has the propensity 0" "$exe" $E -stgssa_mode gradient -stgssa_entropy
expect_fail entropy_fix_hint      "give km2 a positive value (-stgssa_parameters km2=...)" "$exe" $E -stgssa_mode gradient -stgssa_entropy -stgssa_gradient stgs
expect_fail entropy_fd            "trajectory 1: the entropy production is inf at event 3" "$exe" $E -stgssa_mode gradient -stgssa_entropy -stgssa_gradient fd
expect_fail entropy_optimize      "optimizer iteration 0 (evaluation 0): trajectory 1: the entropy production is inf" "$exe" $E -stgssa_mode optimize -stgssa_loss design -stgssa_design tur -tao_max_it 2
expect_fail entropy_mpi           "the entropy production is inf"        mpirun -n 2 --oversubscribe "$exe" $E -stgssa_mode gradient -stgssa_entropy
expect_fail loss_undefined_iter   "optimizer iteration 0 (evaluation 0): Uncertainty efficiency undefined" "$exe" -stgssa_model g/ring.model -stgssa_ntraj 20 -stgssa_tfinal 1e-9 -stgssa_output out.h5 -stgssa_mode optimize -stgssa_loss design -stgssa_design tur -tao_max_it 2
expect_fail count_overflow        "explosive.model:9: reaction 1 takes the count of species 'A' to 9007199254740993 at t =" "$exe" -stgssa_model g/explosive.model -stgssa_mode simulate -stgssa_ntraj 5 -stgssa_output out.h5
expect_fail count_overflow_grad   "explosive.model:9: reaction 1 takes the count of species 'A' to 9007199254740993" "$exe" -stgssa_model g/explosive.model -stgssa_mode gradient -stgssa_ntraj 5 -stgssa_output out.h5
expect_fail initial_count_2p53    "bigcount.model:2:5: found too large number '9007199254740993'; expected a nonnegative integer initial count at most 2^53" "$exe" -stgssa_model g/bigcount.model -stgssa_mode simulate -stgssa_output out.h5

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
