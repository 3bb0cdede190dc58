#!/usr/bin/env bash
# Stryker's command runner (run in its sandbox copy of web/): for a mutant, the web tests that load the mutated file
# (tests-for.mjs); for the dry run, all of them. Each mutant id is in exactly one instrumented file.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
file=""
if [ -n "${__STRYKER_ACTIVE_MUTANT__:-}" ]; then
  file=$(grep -l -F "stryMutAct_9fa48(\"${__STRYKER_ACTIVE_MUTANT__}\")" client/*.js js/*.js workspace/src/*.js | head -1 || true)
fi
mapfile -t tests < <(node "$here/tests-for.mjs" $file)
exec node --test "${tests[@]}"
