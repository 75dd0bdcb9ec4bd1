#!/usr/bin/env bash
# Build the guest that the real libvirt + QEMU integration tests boot: a
# Debian kernel (downloaded as a linux-image-*-amd64 .deb with apt-get
# download, unpacked, never installed) and a busybox initramfs whose /init
# runs a static memory dirtier (dirtier.c).
#
# Outputs go to a cache directory outside the repository, keyed by every
# input (sources, busybox, gcc, kernel package version), so the guest is
# built once: $WRS_LM_GUEST_CACHE, default
# ${XDG_CACHE_HOME:-$HOME/.cache}/nova-wrs-lm/guest.  Prints the directory
# holding vmlinuz and initramfs.gz on its last line.
#
# WRS_LM_GUEST_KERNEL=/path/to/vmlinuz uses that kernel instead of
# downloading one (e.g. offline).  Needs root (device nodes), gcc with a
# static libc (libc6-dev), busybox-static and cpio.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${WRS_LM_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nova-wrs-lm/guest}
mkdir -p "$cache"

log() { echo "build-guest: $*" >&2; }

kernel_package() {
    # The versioned image package the linux-image-amd64 metapackage
    # depends on, e.g. linux-image-6.1.0-56-amd64, and its version.
    local pkg
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null \
        | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' \
        | head -n1)
    [ -n "$pkg" ] || return 1
    echo "$pkg $(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')"
}

download_kernel() {
    # Unpack /boot/vmlinuz-* of package $1 version $2 into $3/vmlinuz.
    local tmp
    tmp=$(mktemp -d "$cache/.kernel.XXXXXX")
    if ! (cd "$tmp" && apt-get download -qq "$1=$2" >&2); then
        rm -rf "$tmp"
        return 1
    fi
    dpkg-deb --fsys-tarfile "$tmp"/*.deb \
        | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
    mkdir -p "$3"
    mv "$tmp"/boot/vmlinuz-* "$3/vmlinuz"
    rm -rf "$tmp"
}

fetch_kernel() {
    # Echo the path of a cached vmlinuz of the current kernel package;
    # refresh the package lists once if they are missing or stale.
    local pkg ver dir
    if ! read -r pkg ver < <(kernel_package); then
        log "no linux-image-amd64 in the package lists; apt-get update"
        apt-get update -qq >&2
        read -r pkg ver < <(kernel_package)
    fi
    dir=$cache/kernel/${pkg}_${ver}
    if [ ! -f "$dir/vmlinuz" ]; then
        log "downloading $pkg $ver"
        if ! download_kernel "$pkg" "$ver" "$dir"; then
            log "download failed; apt-get update and retry"
            apt-get update -qq >&2
            read -r pkg ver < <(kernel_package)
            dir=$cache/kernel/${pkg}_${ver}
            [ -f "$dir/vmlinuz" ] || download_kernel "$pkg" "$ver" "$dir"
        fi
    fi
    echo "$dir/vmlinuz"
}

if [ -n "${WRS_LM_GUEST_KERNEL:-}" ]; then
    kernel=$WRS_LM_GUEST_KERNEL
else
    kernel=$(fetch_kernel)
fi

key=$( {
    cat "$here/dirtier.c" "$here/init" "$0"
    sha256sum "$kernel" | cut -d' ' -f1
    dpkg-query -W -f='${Version}\n' busybox-static
    gcc --version | head -n1
} | sha256sum | cut -c1-16)
out=$cache/$key
if [ ! -f "$out/initramfs.gz" ]; then
    log "building guest $key"
    tmp=$(mktemp -d "$cache/.build.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    root=$tmp/root
    mkdir -p "$root"/{bin,dev,proc}
    gcc -static -O2 -Wall -o "$root/bin/dirtier" "$here/dirtier.c"
    cp /bin/busybox "$root/bin/busybox"
    ln -s busybox "$root/bin/sh"
    install -m 0755 "$here/init" "$root/init"
    mknod -m 600 "$root/dev/console" c 5 1
    mknod -m 666 "$root/dev/null" c 1 3
    (cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) \
        > "$tmp/initramfs.gz"
    cp "$kernel" "$tmp/vmlinuz"
    rm -rf "$root"
    mv "$tmp" "$out" 2>/dev/null || rm -rf "$tmp"
    trap - EXIT
fi
echo "$out"
