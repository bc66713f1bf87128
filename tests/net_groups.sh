#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# BioNetGen groups as observed quantities (-stgssa_observe GROUP): value sum_i w_i x_{s_i}.
#  1. simulate, telegraph.net with groups Gene_total = G_off + G_on, Mtot = M, W = 2 M + G_on:
#     Gene_total is the point mass at 1 (G_off + G_on = 1 on every path); Mtot gives /simulate
#     moments and histograms byte-identical to M; observing groups leaves the species' datasets
#     byte-identical to a run observing the species alone; mean(W) = 2 mean(M) + mean(G_on)
#     (the means are exact sums, rounded once: 1e-12 relative); 1 and 2 ranks give the same file.
#  2. gradient (stgs, score, fd), the sampled values x and tangents xdot of a group: Mtot bitwise
#     M, and d mean(W)/d log k = 2 d mean(M) + d mean(G_on) (every estimator is linear in the
#     observed values; 1e-9 relative, rounding of the central-moment arithmetic).
#  3. fsp vs simulate, weighted group Atot = A + 2 D of an open dimerization (dimer.net below):
#     20000 trajectories (seed 7) at t = 1, 5 against the FSP marginal of the weighted sum.
#     Kolmogorov distance sup_k |F_sim(k) - F_fsp(k)| <= 1.95/sqrt(N) = 0.0138: the asymptotic
#     level-0.001 critical value of the KS statistic, conservative for a discrete law, so each of
#     the two comparisons fails by chance with probability < 0.1% (measured 0.0049 and 0.0033);
#     mean within 4 standard errors sqrt(Var/N). The exact gradient (-stgssa_gradient fsp)
#     observing Atot gives the /fsp mean (1e-9 relative).
#  4. a group with a non-integer weight is refused when observed, naming the group and the .net
#     line; unobserved it is harmless (and skipped by /fsp). A group named like a species is
#     refused when the .net file is read.
#  5. loss data: a CSV column and an HDF5 histogram named after a group.
# usage: net_groups.sh STGSSA_HPC SOURCE_ROOT
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

run() { # name ranks [options...]
  name=$1; n=$2; shift 2
  if ! timeout 300 mpirun -n "$n" --oversubscribe "$exe" "$@" -stgssa_output "$work/$name.h5" > "$work/$name.log" 2>&1; then
    bad "run $name:"; cat "$work/$name.log"; finish
  fi
}
# a dataset as rows of its last dimension, values (17 digits) separated by commas
rows() {
  ncol=$(h5dump -H -d "$2" "$1" 2> /dev/null | grep -m 1 DATASPACE | sed 's/^[^(]*( *\([^)]*\) *).*/\1/' | awk -F', *' '{ print $NF }')
  h5dump -y -w 0 -m %.17g -o "$work/rows.txt" -d "$2" "$1" > /dev/null 2>&1 &&
    tr -d ' ,' < "$work/rows.txt" | awk -v c="$ncol" 'NF { printf "%s%s", $0, (++n % c ? "," : "\n") }'
}
# raw little-endian bytes of datasets
bytes() {
  f=$1; shift
  for d in "$@"; do h5dump -b LE -d "$d" -o "$work/bin" "$f" > /dev/null 2>&1 && cat "$work/bin"; done
}

# telegraph.net with other groups (line numbers matter for the refusal message)
sed '/^begin groups/,$d' "$root/input/telegraph.net" > tg.net
cat >> tg.net << 'EOF'
begin groups
    1 Gene_total 1,2
    2 Mtot       3
    3 W          2*3,2
    4 Half       0.5*3
end groups
EOF
half_line=$(grep -n ' Half ' tg.net | cut -d: -f1)

# ---------------------------------------------------------------- 1. simulate
sim="-stgssa_model tg.net -stgssa_mode simulate -stgssa_ntraj 4001 -stgssa_seed 91 -stgssa_tfinal 20 -stgssa_sample_times 0.1,1,5,20"
run sim1 1 $sim -stgssa_observe M,G_on,G_off,Gene_total,Mtot,W
run sim2 2 $sim -stgssa_observe M,G_on,G_off,Gene_total,Mtot,W
run simM 1 $sim -stgssa_observe M,G_on,G_off
if h5diff sim1.h5 sim2.h5 /simulate /simulate > /dev/null; then ok "simulate with groups: /simulate identical on 1 and 2 ranks"
else bad "simulate with groups differs between 1 and 2 ranks"; fi
if [ "$(rows sim1.h5 /simulate/histograms/Gene_total | sort -u)" = "0,1" ] && [ "$(rows sim1.h5 /simulate/moments/Gene_total | sort -u)" = "1,0,0" ]; then
  ok "Gene_total = G_off + G_on: histogram the point mass at 1 at every sample time"
else bad "Gene_total is not the point mass at 1:"; rows sim1.h5 /simulate/histograms/Gene_total; fi
bytes sim1.h5 /simulate/moments/M /simulate/histograms/M > m.bin
bytes sim1.h5 /simulate/moments/Mtot /simulate/histograms/Mtot > mtot.bin
if [ -s m.bin ] && cmp -s m.bin mtot.bin; then ok "Mtot = M: moments and histograms byte-identical to M"
else bad "Mtot differs from M"; fi
sp="/simulate/times /simulate/moments/M /simulate/moments/G_on /simulate/moments/G_off /simulate/histograms/M /simulate/histograms/G_on /simulate/histograms/G_off"
bytes sim1.h5 $sp > a.bin
bytes simM.h5 $sp > b.bin
if [ -s a.bin ] && cmp -s a.bin b.bin; then ok "species datasets byte-identical with and without observed groups"
else bad "observing groups changed the species' datasets"; fi
rows sim1.h5 /simulate/moments/M > mM.txt
rows sim1.h5 /simulate/moments/G_on > mG.txt
rows sim1.h5 /simulate/moments/W > mW.txt
if paste -d, mM.txt mG.txt mW.txt | awk -F, '{ e = 2 * $1 + $4; d = $7 - e; if (d < 0) d = -d; if (d > 1e-12 * (1 + e)) bad = 1; n++ } END { exit bad || n != 4 }'; then
  ok "W = 2 M + G_on: mean(W) = 2 mean(M) + mean(G_on) at every sample time"
else bad "mean(W) != 2 mean(M) + mean(G_on):"; paste -d' ' mM.txt mG.txt mW.txt; fi

# ---------------------------------------------------------------- 2. gradient: x, xdot of groups
for g in stgs score fd; do
  run grad_$g 1 -stgssa_model tg.net -stgssa_mode gradient -stgssa_gradient $g -stgssa_ntraj 2000 -stgssa_seed 3 -stgssa_tfinal 5 \
    -stgssa_sample_times 1,5 -stgssa_observe M,G_on,W,Mtot
  bytes grad_$g.h5 /gradient/moments/M /gradient/moments_gradient/M > gm.bin
  bytes grad_$g.h5 /gradient/moments/Mtot /gradient/moments_gradient/Mtot > gt.bin
  rows grad_$g.h5 /gradient/moments_gradient/M | awk 'NR % 3 == 1' > dM.txt # d mean / d log k (rows of T x 3 x P)
  rows grad_$g.h5 /gradient/moments_gradient/G_on | awk 'NR % 3 == 1' > dG.txt
  rows grad_$g.h5 /gradient/moments_gradient/W | awk 'NR % 3 == 1' > dW.txt
  if [ -s gm.bin ] && cmp -s gm.bin gt.bin && [ -s dW.txt ] &&
     paste -d' ' dM.txt dG.txt dW.txt | awk '{ n = split($1, a, ","); split($2, b, ","); split($3, c, ",");
       for (p = 1; p <= n; p++) { e = 2 * a[p] + b[p]; d = c[p] - e; if (d < 0) d = -d; s = e < 0 ? -e : e; if (d > 1e-9 * (1 + s)) bad = 1 } m++ }
       END { exit bad || m != 2 }'; then
    ok "gradient $g: Mtot bitwise M, d mean(W) = 2 d mean(M) + d mean(G_on)"
  else bad "gradient $g of the groups:"; paste -d' ' dM.txt dG.txt dW.txt; fi
done

# ---------------------------------------------------------------- 3. fsp vs simulate, weighted group
cat > dimer.net << 'EOF'
# open dimerization: A made and lost, 2 A <-> D, D lost; Atot = A + 2 D counts the A monomers
begin parameters
    1 kp   4
    2 kd   0.5
    3 kf   0.2
    4 kr   1
    5 kdd  0.2
end parameters
begin species
    1 A()  0
    2 D()  0
end species
begin reactions
    1 0 1 kp        #make
    2 1 0 kd        #lose
    3 1,1 2 0.5*kf  #dimerize
    4 2 1,1 kr      #_reverse_dimerize
    5 2 0 kdd       #lose_dimer
end reactions
begin groups
    1 Atot  1,2*2
    2 Half  0.5*1
end groups
EOF
N=20000
run dsim 2 -stgssa_model dimer.net -stgssa_mode simulate -stgssa_ntraj $N -stgssa_seed 7 -stgssa_tfinal 5 -stgssa_sample_times 1,5 -stgssa_observe A,Atot
run dfsp 2 -stgssa_model dimer.net -stgssa_mode fsp -stgssa_tfinal 5 -stgssa_sample_times 1,5 -stgssa_fsp_max A=40,D=25
run dgrad 1 -stgssa_model dimer.net -stgssa_mode gradient -stgssa_gradient fsp -stgssa_tfinal 5 -stgssa_sample_times 1,5 \
  -stgssa_fsp_max A=40,D=25 -stgssa_observe Atot
rows dsim.h5 /simulate/histograms/Atot > hs.txt
rows dfsp.h5 /fsp/distribution/Atot > hf.txt
rows dsim.h5 /simulate/moments/Atot > ms.txt
rows dfsp.h5 /fsp/moments/Atot > mf.txt
rows dgrad.h5 /gradient/moments/Atot > mg.txt
if paste -d' ' hs.txt hf.txt ms.txt mf.txt | awk -v N=$N '{
     ns = split($1, s, ","); nf = split($2, f, ","); split($3, a, ","); split($4, b, ",");
     n = ns > nf ? ns : nf; Fs = 0; Ff = 0; D = 0; mass = 0;
     for (k = 1; k <= n; k++) { Fs += (k <= ns ? s[k] : 0); Ff += (k <= nf ? f[k] : 0); d = Fs - Ff; if (d < 0) d = -d; if (d > D) D = d }
     for (k = 1; k <= nf; k++) mass += f[k];
     z = (a[1] - b[1]) / sqrt(b[2] / N);
     printf "     t%d: Kolmogorov distance %.4f (bound %.4f), mean %.4f vs exact %.4f (%+.2f s.e.), FSP mass %.10f\n", NR, D, 1.95 / sqrt(N), a[1], b[1], z, mass;
     if (D > 1.95 / sqrt(N) || z > 4 || z < -4 || mass < 1 - 1e-6 || nf < 2) bad = 1; m++ }
     END { exit bad || m != 2 }'; then
  ok "fsp marginal of Atot = A + 2 D agrees with the simulate histogram (N = $N)"
else bad "fsp marginal of Atot vs simulate"; fi
if paste -d' ' mf.txt mg.txt | awk '{ split($1, a, ","); split($2, b, ","); d = a[1] - b[1]; if (d < 0) d = -d; if (d > 1e-9 * a[1]) bad = 1; m++ } END { exit bad || m != 2 }'; then
  ok "-stgssa_gradient fsp observing Atot: the /fsp mean"
else bad "-stgssa_gradient fsp mean of Atot:"; paste -d' ' mf.txt mg.txt; fi
if h5ls dfsp.h5/fsp/distribution | grep -q '^Half '; then bad "/fsp has a distribution of the non-integer group Half"
else ok "/fsp skips the non-integer group Half"; fi

# ---------------------------------------------------------------- 4. refusals
expect_fail() { # name pattern command...
  name=$1; pat=$2; shift 2
  if "$@" -stgssa_output "$work/$name.h5" > "$work/$name.log" 2>&1; then bad "$name: accepted"
  elif grep -q "$pat" "$work/$name.log" && [ ! -e "$work/$name.h5" ]; then ok "$name: $(grep -o "error: .*" "$work/$name.log" | head -1)"
  else bad "$name: unexpected message:"; cat "$work/$name.log"; fi
}
expect_fail half_observed "group 'Half' (tg.net:$half_line) has weight 0.5 for species 'M'; an observed group needs integer weights" \
  "$exe" -stgssa_model tg.net -stgssa_mode simulate -stgssa_ntraj 10 -stgssa_observe M,Half
expect_fail half_fsp_gradient "group 'Half' (tg.net:$half_line) has weight 0.5" \
  "$exe" -stgssa_model tg.net -stgssa_mode gradient -stgssa_gradient fsp -stgssa_fsp_max M=60 -stgssa_observe Half
expect_fail unknown_group "unknown species or group 'Nope'; model tg.net defines: G_off, G_on, M; groups: Gene_total, Mtot, W, Half" \
  "$exe" -stgssa_model tg.net -stgssa_mode simulate -stgssa_ntraj 10 -stgssa_observe Nope
sed 's/^    2 Mtot /    2 M    /' tg.net > clash.net
expect_fail group_named_like_species "clash.net:$((half_line - 2)):7: found group name 'M' already used by a species" \
  "$exe" -stgssa_model clash.net -stgssa_mode simulate -stgssa_ntraj 10

# ---------------------------------------------------------------- 5. loss data named after groups
printf 'time,Atot\n5,9\n5,7\n5,12\n5,8\n5,10\n' > atot.csv
run loss_csv 1 -stgssa_model dimer.net -stgssa_mode gradient -stgssa_gradient fsp -stgssa_fsp_max A=40,D=25 -stgssa_tfinal 5 \
  -stgssa_observe Atot -stgssa_data atot.csv -stgssa_loss moments
run loss_h5 1 -stgssa_model tg.net -stgssa_mode gradient -stgssa_ntraj 2000 -stgssa_tfinal 20 -stgssa_observe W,M \
  -stgssa_data sim1.h5 -stgssa_loss distribution
if grep -q '^loss [0-9]' loss_csv.log && grep -q '^loss [0-9]' loss_h5.log; then
  ok "losses with data columns named after groups (CSV Atot: $(grep '^loss' loss_csv.log); HDF5 W: $(grep '^loss' loss_h5.log))"
else bad "loss with group data:"; cat loss_csv.log loss_h5.log; fi

finish
