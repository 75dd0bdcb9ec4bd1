#!/usr/bin/env bash
# Install everything nova-wrs-lm and its tests need on a Debian machine:
# Debian packages (as root, or through sudo), then a virtualenv (.venv by
# default, or $WRS_LM_VENV) with the package and its pinned dependencies
# (constraints.txt).  Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${WRS_LM_VENV:-$PWD/.venv}
PYTHON=${PYTHON:-python3}

# A venv-capable Python with headers, build dependencies of libvirt-python
# (a C extension), and what the real-libvirt
# integration tests run (tests/integration): libvirtd, QEMU, a kernel
# package to boot guests from (downloaded, not installed) and busybox.
DEB_PACKAGES=(
    python3-venv python3-dev
    pkg-config libvirt-dev gcc libc6-dev
    libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
    qemu-system-x86 busybox-static cpio
)

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null \
        | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "bootstrap: Python >= 3.11 is required ($PYTHON)" >&2
    exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "bootstrap: creating virtualenv $VENV"
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.wrs-lm-deps"
want=$(cat constraints.txt setup.cfg requirements.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "bootstrap: installing Python dependencies (constraints.txt)"
    "$VENV/bin/pip" install -q --disable-pip-version-check \
        -c constraints.txt '.[test,libvirt]'
    echo "$want" > "$stamp"
fi
# The package itself, not editable: Nova imports nova.virt.wrs_lm from its
# own package directory, which only a real install provides.
"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps \
    --force-reinstall -c constraints.txt .
