#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Install, build, and run the whole test suite: first under AddressSanitizer + UndefinedBehavior-
# Sanitizer (build-asan/), then the release build (build/), verbose, whose summary ends the output.
set -eu
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/install-deps.sh
[ -f build-asan/build.ninja ] || meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-asan
meson test -C build-asan --print-errorlogs --num-processes 2
[ -f build/build.ninja ] || meson setup build --buildtype=release
ninja -C build
meson test -C build -v --num-processes 2
