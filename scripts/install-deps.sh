#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Install the Debian packages stgssa_hpc needs (skipped when all are present).
set -eu
pkgs="petsc-dev libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools check meson ninja-build
      pkg-config libsbml5-dev python3-numpy python3-h5py python3-matplotlib"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends $missing
