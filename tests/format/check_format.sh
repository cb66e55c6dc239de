#!/usr/bin/env bash
# Lists every tracked-or-new C++ file that clang-format would change; exits 1 if there is one.
set -euo pipefail
cd "$(dirname "$0")/../.."
fmt=$(command -v clang-format-14 || command -v clang-format)
bad=0
while IFS= read -r -d '' f; do
  if ! "$fmt" --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (run: $fmt -i $f)"
    bad=1
  fi
done < <(find runtime daemon console tests -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.cc' \) -not -path '*/build/*' -print0)
exit $bad
