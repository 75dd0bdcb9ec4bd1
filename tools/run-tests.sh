#!/usr/bin/env bash
# The whole test suite: installs what it needs (tools/bootstrap.sh), checks
# style (ruff), then runs every test with stestr (unit, functional tests in
# Nova's in-process cloud, and the real libvirt + QEMU integration tests,
# which skip with a reason where they cannot run).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh
VENV=${WRS_LM_VENV:-$PWD/.venv}
export PATH="$VENV/bin:$PATH"

echo "== ruff"
ruff check nova_wrs_lm nova tests benchmarks tools
echo "== reno lint"
reno lint >/dev/null
echo "== stestr"
status=0
stestr run --concurrency "${WRS_LM_TEST_CONCURRENCY:-2}" "$@" || status=$?
python tools/test_totals.py
exit $status
