#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# SBML import: input/telegraph.model, input/telegraph.net and input/telegraph.xml, simulated with
# the same options and seed, give byte-identical /simulate datasets (on 1 and 2 ranks): the SBML
# kinetic laws are recognized as mass action and take the engine's fast path. The format can be
# forced with -stgssa_model_format sbml; a malformed SBML file fails with a file:line:column message
# and a refused construct with a message naming the element.
# usage: sbml_import.sh STGSSA_HPC SOURCE_ROOT
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

same() { # a b what
  if [ -s "$work/$1.bin" ] && cmp -s "$work/$1.bin" "$work/$2.bin" && h5diff "$work/$1.h5" "$work/$2.h5" /simulate /simulate > /dev/null; then
    echo "ok   $3"; pass=$((pass + 1))
  else echo "FAIL $3"; fail=$((fail + 1)); fi
}

for n in 1 2; do
  run model$n $n "$root/input/telegraph.model"
  run net$n $n "$root/input/telegraph.net"
  run xml$n $n "$root/input/telegraph.xml"
  same model$n net$n "telegraph.model and telegraph.net: /simulate bytes identical on $n rank(s)"
  same model$n xml$n "telegraph.model and telegraph.xml: /simulate bytes identical on $n rank(s)"
done
same xml1 xml2 "telegraph.xml: /simulate bytes identical on 1 and 2 ranks"

# the format option: an SBML file under another name
cp "$root/input/telegraph.xml" "$work/telegraph.txt"
run forced 1 "$work/telegraph.txt" -stgssa_model_format sbml
same model1 forced "-stgssa_model_format sbml on a .txt file"
# and a .sbml extension is detected
cp "$root/input/telegraph.xml" "$work/telegraph.sbml"
run ext 1 "$work/telegraph.sbml"
same model1 ext "a .sbml file is read as SBML"

expect_error() { # name file pattern
  if "$exe" -stgssa_model "$2" $args -stgssa_output "$work/x.h5" > "$work/$1.log" 2>&1; then
    echo "FAIL $1 accepted"; fail=$((fail + 1))
  elif grep -q "$3" "$work/$1.log" && [ ! -e "$work/x.h5" ]; then echo "ok   $1: $(grep -o 'error: .*' "$work/$1.log" | head -1)"; pass=$((pass + 1))
  else echo "FAIL $1: unexpected message:"; cat "$work/$1.log"; fail=$((fail + 1)); fi
}

# a truncated SBML file: file:line:column message from libsbml
head -c 1500 "$root/input/telegraph.xml" > "$work/truncated.xml"
expect_error truncated "$work/truncated.xml" "truncated.xml:[0-9]*:[0-9]*: invalid SBML: "
# a refused construct: an event, named with its line
sed 's#</listOfReactions>#</listOfReactions><listOfEvents><event id="pulse" useValuesFromTriggerTime="true"><trigger initialValue="false" persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><gt/><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time"> t </csymbol><cn> 5 </cn></apply></math></trigger><listOfEventAssignments><eventAssignment variable="M"><math xmlns="http://www.w3.org/1998/Math/MathML"><cn> 0 </cn></math></eventAssignment></listOfEventAssignments></event></listOfEvents>#' \
  "$root/input/telegraph.xml" > "$work/event.xml"
expect_error event "$work/event.xml" "event.xml: SBML element event 'pulse' (line [0-9]*): events are not supported"
# the native parser forced on an SBML file rejects it
if "$exe" -stgssa_model "$root/input/telegraph.xml" -stgssa_model_format native $args -stgssa_output "$work/y.h5" > "$work/y.log" 2>&1; then
  echo "FAIL -stgssa_model_format native accepted an SBML file"; fail=$((fail + 1))
elif grep -q "telegraph.xml:1:1: " "$work/y.log"; then echo "ok   -stgssa_model_format native rejects an SBML file"; pass=$((pass + 1))
else echo "FAIL unexpected message:"; cat "$work/y.log"; fail=$((fail + 1)); fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
