#!/usr/bin/env bash
# Makes busybox:1.36 (and busybox:latest) in the engine the docker CLI talks to (DOCKER_HOST), from
# this machine's static busybox: no registry or network needed. Does nothing when the image is
# there. Used by start.sh and by `build.ps1 -Task Example` on an engine without the base.
set -euo pipefail
say() { echo "[services] $*"; }
die() { echo "[services] error: $*" >&2; exit 1; }

if docker image inspect busybox:1.36 >/dev/null 2>&1; then
  say "busybox:1.36 already present"
else
  busybox_bin=$(command -v busybox) || die "busybox not found (apt-get install busybox-static), or run: docker pull busybox:1.36"
  # The image has no libc: only a static busybox (package busybox-static) runs in it.
  if ldd "$busybox_bin" >/dev/null 2>&1; then die "$busybox_bin is dynamically linked; install busybox-static"; fi
  rootfs=$(mktemp -d "${TMPDIR:-/tmp}/busybox-rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/root"
  cp "$busybox_bin" "$rootfs/bin/busybox"
  "$rootfs/bin/busybox" --install -s "$rootfs/bin"
  # --install -s links to the running binary's absolute path; inside the image that is /bin/busybox.
  for link in "$rootfs"/bin/*; do
    [ -L "$link" ] && ln -sfn busybox "$link"
  done
  chmod 1777 "$rootfs/tmp"
  echo "root:x:0:0:root:/root:/bin/sh" >"$rootfs/etc/passwd"
  echo "root:x:0:" >"$rootfs/etc/group"
  say "seeding busybox:1.36 and busybox:latest from $busybox_bin ($("$busybox_bin" | head -n 1 | cut -d' ' -f1-2))"
  tar -C "$rootfs" -c . | docker import --change 'CMD ["/bin/sh"]' - busybox:1.36 >/dev/null
fi
docker tag busybox:1.36 busybox:latest
