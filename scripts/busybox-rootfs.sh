#!/usr/bin/env bash
# Makes a minimal busybox root filesystem in DIR from Debian's busybox-static (the base image of tests and the demo).
set -euo pipefail
dir=${1:?usage: busybox-rootfs.sh DIR}
busybox=${BUSYBOX:-/bin/busybox}
if ! "$busybox" --list >/dev/null 2>&1; then
  echo "busybox-rootfs: $busybox is missing: install Debian's busybox-static (apt-get install -y busybox-static)" >&2
  exit 1
fi
mkdir -p "$dir"/{bin,etc,root,tmp,home/app,usr/bin,var}
chmod 1777 "$dir/tmp"
cp "$busybox" "$dir/bin/busybox"
# Relative links: `busybox --install -s` would point them at the host path of the binary.
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
done
ln -sf ../../bin/env "$dir/usr/bin/env"
cat > "$dir/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$dir/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
staff:x:50:app
app:x:1000:
nogroup:x:65534:
GROUP
chown -R 1000:1000 "$dir/home/app"
