#!/usr/bin/env bash
# The offline demo: a busybox base image from Debian's busybox-static, then build and run examples/hello.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg -s busybox-static >/dev/null 2>&1; then
  echo "demo: busybox-static is not installed; installing it with apt-get"
  apt-get install -y busybox-static || { apt-get update && apt-get install -y busybox-static; }
fi
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
scripts/busybox-rootfs.sh "$rootfs"
echo "demo: importing the busybox root filesystem as busybox:latest"
bin/kiln import "$rootfs" busybox:latest
echo "demo: kiln build -t hello examples/hello"
bin/kiln build -t hello examples/hello
echo "demo: kiln run --rm hello"
bin/kiln run --rm hello
