#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Score derivatives of a network whose time-independent reactions change rate when a
# time-dependent one fires (thinning): a two-state gene, activation c*u(t)*Goff with
# u = 1 + exp(-t)/2, inactivation koff*Gon, transcription k*Gon, degradation g*A, from Goff = 1.
# The score derivative d E[A(t)]/d log theta at t = 1, 2 against the exact FSP derivative, and
# from a steady start (burn-in 10) at t = 0.5. A regression test: the score once read the
# propensities of the last accepted thinning proposal in the last dwell of a path (the state
# before its last jump, or another path's state when a path had no event), a bias of 30 standard
# errors here. 8 seeds x 2500 trajectories; pass: |mean - exact| <= 5 standard errors of the
# mean over the seeds for each of the 12 derivatives (t with 7 degrees of freedom: a false
# failure ~0.2% per derivative, fixed seeds).
# usage: score_thinning.sh STGSSA_HPC
set -u
exe=$1
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail() { echo "FAIL $1"; [ -n "${2:-}" ] && cat "$2"; echo "0 passed, 1 failed"; exit 1; }
cat > tel.model <<'MODEL'
begin parameters
  k 10
  g 1
  c 1
  koff 1
end parameters
begin inputs
  u  1 + 0.5*exp(-t)
end inputs
begin species
  Goff 1
  Gon 0
  A 0
end species
begin reactions
  on:   Goff -> Gon      c*u
  off:  Gon -> Goff      koff
  tx:   Gon -> Gon + A   k
  deg:  A -> 0           g
end reactions
MODEL
x0="-stgssa_model tel.model -stgssa_fit k,g,c,koff -stgssa_mode gradient -stgssa_tfinal 2 -stgssa_sample_times 1,2 -stgssa_observe A"
st="-stgssa_model tel.model -stgssa_fit k,g,c,koff -stgssa_mode gradient -stgssa_tfinal 0.5 -stgssa_sample_times 0.5 -stgssa_observe A -stgssa_initial steady -stgssa_initial_burnin 10"
"$exe" $x0 -stgssa_gradient fsp -stgssa_output fsp_x0.h5 > fsp_x0.log 2>&1 || fail "fsp x0" fsp_x0.log
"$exe" $st -stgssa_gradient fsp -stgssa_output fsp_st.h5 > fsp_st.log 2>&1 || fail "fsp steady" fsp_st.log
for s in 1 2 3 4 5 6 7 8; do
  "$exe" $x0 -stgssa_gradient score -stgssa_ntraj 2500 -stgssa_seed $s -stgssa_output "x0_$s.h5" > "x0_$s.log" 2>&1 || fail "score x0 seed $s" "x0_$s.log"
  "$exe" $st -stgssa_gradient score -stgssa_ntraj 2500 -stgssa_seed $s -stgssa_output "st_$s.h5" > "st_$s.log" 2>&1 || fail "score steady seed $s" "st_$s.log"
done
$py - <<'PY' || fail "score derivatives off the exact ones"
import h5py, numpy as np
names = ['k', 'g', 'c', 'koff']
bad = 0
for tag in ['x0', 'st']:
    exact = h5py.File('fsp_%s.h5' % tag, 'r')['gradient/moments_gradient/A'][:, 0, :]
    est = np.array([h5py.File('%s_%d.h5' % (tag, s), 'r')['gradient/moments_gradient/A'][:, 0, :] for s in range(1, 9)])
    m, se = est.mean(0), est.std(0, ddof=1) / np.sqrt(est.shape[0])
    for i in range(exact.shape[0]):
        for p in range(4):
            z = (m[i, p] - exact[i, p]) / se[i, p]
            ok = abs(z) <= 5
            bad += not ok
            print('%s sample %d d mean A / d log %-4s: score %.4f +- %.4f, exact %.4f (z = %+.2f) %s' % (tag, i, names[p], m[i, p], se[i, p], exact[i, p], z, 'ok' if ok else 'FAIL'))
print('%d passed, %d failed' % (12 - bad, bad))
raise SystemExit(1 if bad else 0)
PY
