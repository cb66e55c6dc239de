#!/usr/bin/env bash
# README command 2: install dependencies, build, run the whole test suite (ctest) in the default
# build, then again under ThreadSanitizer, under AddressSanitizer+UBSan, and built with clang 14.
# Exits non-zero on any failure. RT_SANITIZERS=0 skips the two sanitizer passes.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh

run_suite() {
  local preset=$1
  local start=$SECONDS
  echo "==== ${preset}: configure and build ===="
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j2
  echo "==== ${preset}: ctest ===="
  ctest --preset "$preset" -j2 --timeout 300
  echo "==== ${preset}: done in $((SECONDS - start)) s ===="
}

run_suite default
if [ "${RT_SANITIZERS:-1}" != 0 ]; then
  run_suite tsan
  run_suite asan
fi
if [ "${RT_CLANG:-1}" != 0 ]; then
  run_suite clang
fi
