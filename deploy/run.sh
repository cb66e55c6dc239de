#!/usr/bin/env bash
# README command 1: install dependencies, build in Release, run the main program.
# Until the daemon exists, the main program is the demo of the book chapter's examples.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
cmake --preset release >/dev/null
examples=(spawn mutex mpsc oneshot broadcast watch mpmc local_set task_local auth_middleware
          read_file sleepers)
cmake --build --preset release -j2 --target "${examples[@]/#/example_}"
bin=build/release/runtime/examples
for e in "${examples[@]}"; do
  echo "== the chapter's ${e//_/ } example =="
  if [ "$e" = sleepers ]; then "$bin/example_$e" 1000000; else "$bin/example_$e"; fi
done
