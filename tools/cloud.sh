#!/usr/bin/env bash
# A real OpenStack cloud on this machine, for trying nova-wrs-lm and for
# tests/deployment: tools/cloud.sh up|down|status (doc/real-cloud.md).
# Runs from the project's venv (tools/bootstrap.sh makes it); the cloud's
# own services run from venvs under the state directory.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${WRS_LM_VENV:-$PWD/.venv}
if [ "${1:-}" = up ] && [ -z "${WRS_LM_SKIP_BOOTSTRAP:-}" ]; then
    tools/bootstrap.sh
fi
exec "$VENV/bin/python" tools/cloud.py "$@"
