#!/usr/bin/env bash
# Usage: consumer_test.sh <rt build dir> <consumer source dir> <c++ compiler>
set -euo pipefail
build=$1 src=$2 cxx=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
# A plain (non-sanitized) configure: the consumer must need nothing but the installed package.
flags=""
if grep -q 'RT_SANITIZE:STRING=.\+' "$build/CMakeCache.txt"; then
  san=$(sed -n 's/^RT_SANITIZE:STRING=//p' "$build/CMakeCache.txt")
  flags="-fsanitize=$san"
fi
cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
cmake --build "$work/build" >/dev/null
out=$("$work/build/consumer")
echo "$out"
[ "$out" = "consumer: 42" ]
