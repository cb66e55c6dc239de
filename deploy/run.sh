#!/usr/bin/env bash
# README command 1: install dependencies, build in Release, run the main program.
# Until the daemon exists, the main program is the demo of the book chapter's examples.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j2
bin=build/release/runtime/examples
echo "== spawn (the chapter prints Ok(1) and Ok(5)) =="
"$bin/example_spawn"
echo "== 1,000,000 tasks sleeping 1 s each =="
"$bin/example_sleepers" 1000000
