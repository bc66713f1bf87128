#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Built without libsbml (meson -Dsbml=disabled, or libsbml5-dev absent): an SBML file is refused
# with a message saying how to get the import, and nothing is written.
# usage: sbml_missing.sh STGSSA_HPC SOURCE_ROOT
set -u
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if "$1" -stgssa_model "$2/input/telegraph.xml" -stgssa_mode simulate -stgssa_ntraj 10 -stgssa_output "$work/x.h5" > "$work/log" 2>&1; then
  echo "FAIL an SBML file was accepted without libsbml"; exit 1
fi
if grep -q "telegraph.xml: this stgssa_hpc was built without libsbml; install libsbml5-dev and reconfigure" "$work/log" && [ ! -e "$work/x.h5" ]; then
  echo "ok   $(grep -o 'error: .*' "$work/log")"; exit 0
fi
echo "FAIL unexpected message:"; cat "$work/log"; exit 1
