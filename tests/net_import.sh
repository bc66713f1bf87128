#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# BioNetGen .net import: input/telegraph.model and input/telegraph.net, simulated with the same
# options and seed, give byte-identical /simulate datasets (on 1 and 2 ranks); the format can be
# forced with -stgssa_model_format; a malformed .net file fails with a file:line:column message.
# usage: net_import.sh STGSSA_HPC SOURCE_ROOT
set -u
exe=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
pass=0
args="-stgssa_mode simulate -stgssa_ntraj 2001 -stgssa_seed 91 -stgssa_tfinal 20
      -stgssa_sample_times 0.1,1,5,20 -stgssa_observe M,G_on,G_off"

# raw little-endian bytes of every dataset under /simulate, in a fixed order
dump() {
  : > "$2"
  for d in times moments/M moments/G_on moments/G_off histograms/M histograms/G_on histograms/G_off; do
    h5dump -b LE -d "/simulate/$d" -o "$work/bin" "$1" > /dev/null 2>&1 || { echo "FAIL h5dump $d of $1"; return 1; }
    cat "$work/bin" >> "$2"
  done
}

run() { # name ranks model [options...]
  name=$1; n=$2; model=$3; shift 3
  if ! timeout 300 mpirun -n "$n" --oversubscribe "$exe" -stgssa_model "$model" $args "$@" -stgssa_output "$work/$name.h5" > "$work/$name.log" 2>&1; then
    echo "FAIL run $name:"; cat "$work/$name.log"; exit 1
  fi
  dump "$work/$name.h5" "$work/$name.bin" || exit 1
}

for n in 1 2; do
  run model$n $n "$root/input/telegraph.model"
  run net$n $n "$root/input/telegraph.net"
  if [ -s "$work/model$n.bin" ] && cmp -s "$work/model$n.bin" "$work/net$n.bin" && h5diff "$work/model$n.h5" "$work/net$n.h5" /simulate /simulate > /dev/null; then
    echo "ok   telegraph.model and telegraph.net: /simulate bytes identical on $n rank(s)"; pass=$((pass + 1))
  else echo "FAIL telegraph.model and telegraph.net differ on $n rank(s)"; fail=$((fail + 1)); fi
done

# the format option: a .net file under another name
cp "$root/input/telegraph.net" "$work/telegraph.txt"
run forced 1 "$work/telegraph.txt" -stgssa_model_format net
if cmp -s "$work/model1.bin" "$work/forced.bin"; then echo "ok   -stgssa_model_format net on a .txt file"; pass=$((pass + 1))
else echo "FAIL -stgssa_model_format net"; fail=$((fail + 1)); fi
# and the native parser forced on a .net file rejects it
if "$exe" -stgssa_model "$root/input/telegraph.net" -stgssa_model_format native $args -stgssa_output "$work/x.h5" > "$work/x.log" 2>&1; then
  echo "FAIL -stgssa_model_format native accepted a .net file"; fail=$((fail + 1))
elif grep -q "telegraph.net:7:5: found .1.; expected a parameter name" "$work/x.log"; then echo "ok   -stgssa_model_format native rejects a .net file"; pass=$((pass + 1))
else echo "FAIL unexpected message:"; cat "$work/x.log"; fail=$((fail + 1)); fi

# a malformed .net file: the message names file, line and column
printf 'begin species\n1 A() 1\nend species\nbegin reactions\n1 1 0 0.5*kx\nend reactions\n' > "$work/bad.net"
if "$exe" -stgssa_model "$work/bad.net" $args -stgssa_observe A -stgssa_output "$work/y.h5" > "$work/y.log" 2>&1; then
  echo "FAIL bad.net accepted"; fail=$((fail + 1))
elif grep -q "bad.net:5:11: found 'kx' as a rate, which is not a parameter" "$work/y.log"; then echo "ok   bad.net: file:line:column message"; pass=$((pass + 1))
else echo "FAIL unexpected message:"; cat "$work/y.log"; fail=$((fail + 1)); fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
