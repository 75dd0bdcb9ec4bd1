#!/usr/bin/env bash
# The main job: install what is needed (tools/bootstrap.sh), then run the
# end-to-end demo of nova-wrs-lm on an embedded in-process Nova cloud.
# Extra arguments go to `nova-wrs-lm demo` (e.g. --format json, --step 3).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh
VENV=${WRS_LM_VENV:-$PWD/.venv}
exec "$VENV/bin/nova-wrs-lm" demo "$@"
