#!/usr/bin/env bash
# The whole test suite: installs what it needs (tools/bootstrap.sh), checks
# style (ruff) and release notes (reno lint), then runs every test with
# stestr: unit tests and functional tests in Nova's in-process cloud (in
# parallel), then Nova 34's own live-migration tests against our driver
# (tools/run-nova-suite.py: a stestr run of their own, compared with the
# list of expected differences; WRS_LM_SKIP_NOVA_SUITE=1 skips it), then
# the real libvirt + QEMU integration tests (on their own: Nova's
# functional tests monkey-patch eventlet in the processes that load them;
# the integration tests skip with a reason where they cannot run), then
# the deployment scenarios on a real cloud brought up on this machine
# (tools/cloud.sh; skipped with a reason where the machine cannot, or with
# WRS_LM_SKIP_DEPLOYMENT=1).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh
VENV=${WRS_LM_VENV:-$PWD/.venv}
export PATH="$VENV/bin:$PATH"
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

echo "== ruff"
ruff check nova_wrs_lm nova tests benchmarks tools
echo "== reno lint"
reno lint >/dev/null
status=0
echo "== stestr: unit and functional tests"
stestr run --concurrency "${WRS_LM_TEST_CONCURRENCY:-2}" \
    --exclude-regex '^tests\.(integration|deployment)\.' "$@" || status=$?
stestr last --subunit > "$results/1.subunit" || true
if [ -n "${WRS_LM_SKIP_NOVA_SUITE:-}" ]; then
    echo "== Nova's own live-migration tests: skipped (WRS_LM_SKIP_NOVA_SUITE is set)"
else
    # Nova 34's tests against our driver, in a stestr run of their own,
    # compared with tests/nova_suite/expected_differences.toml (it prints
    # its own totals; doc/nova-tests.md).
    echo "== stestr: Nova 34's own live-migration tests against our driver"
    python tools/run-nova-suite.py || status=$?
fi
echo "== stestr: real libvirt + QEMU integration tests"
stestr --test-path ./tests/integration run --serial "$@" || status=$?
stestr last --subunit > "$results/2.subunit" || true
if [ -n "${WRS_LM_SKIP_DEPLOYMENT:-}" ]; then
    echo "== deployment scenarios: skipped (WRS_LM_SKIP_DEPLOYMENT is set)"
else
    echo "== stestr: deployment scenarios on a real cloud (tools/cloud.sh)"
    # The scenarios bring the cloud up once and down when they end; this
    # stops it too if their process was killed.
    trap 'tools/cloud.sh down --if-tests-started >/dev/null 2>&1 || true;
          rm -rf "$results"' EXIT
    stestr --test-path ./tests/deployment run \
        --serial "$@" || status=$?
    stestr last --subunit > "$results/3.subunit" || true
fi
python tools/test_totals.py "$results"/*.subunit
exit $status
