#!/usr/bin/env bash
# Starts a private Docker engine and a loopback registry for the integration tests, and seeds
# the base images the examples and tests build on. Everything lives under STATE_DIR, so it never
# collides with another daemon on the machine. Needs root, dockerd, docker-registry, busybox-static.
#   tests/services/start.sh STATE_DIR      then   . STATE_DIR/env
set -euo pipefail

state=${1:?usage: start.sh STATE_DIR}
mkdir -p "$state"
state=$(cd "$state" && pwd)
say() { echo "[services] $*"; }

free_port() {
  local port
  for port in $(seq 45000 45999 | shuf); do
    if ! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "$port"; return 0; fi
  done
  echo "no free loopback port in 45000-45999" >&2; return 1
}

wait_for() {  # wait_for SECONDS DESCRIPTION LOG COMMAND...
  local seconds=$1 what=$2 log=$3; shift 3
  for _ in $(seq 1 $((seconds * 4))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  echo "[services] $what did not come up within ${seconds}s; last lines of $log:" >&2
  tail -n 30 "$log" >&2 || true
  return 1
}

# --- Docker engine -------------------------------------------------------------------------
socket="$state/docker.sock"
mkdir -p "$state/docker-data" "$state/docker-exec"
say "starting dockerd (data $state/docker-data, socket $socket)"
# vfs and no networking: works without overlay mounts or iptables inside a sandbox; builds run with --network=none.
dockerd \
  --data-root "$state/docker-data" --exec-root "$state/docker-exec" --pidfile "$state/dockerd.pid" \
  --storage-driver vfs --iptables=false --ip-masq=false --bridge=none \
  -H "unix://$socket" >"$state/dockerd.log" 2>&1 &
export DOCKER_HOST="unix://$socket"
wait_for 60 dockerd "$state/dockerd.log" docker version

# --- Registry ------------------------------------------------------------------------------
port=$(free_port)
mkdir -p "$state/registry-data"
cat >"$state/registry.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $state/registry-data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
say "starting docker-registry on 127.0.0.1:$port"
docker-registry serve "$state/registry.yml" >"$state/registry.log" 2>&1 &
echo $! >"$state/registry.pid"
wait_for 30 docker-registry "$state/registry.log" curl -fsS "http://127.0.0.1:$port/v2/"

# --- Base images ---------------------------------------------------------------------------
busybox_bin=$(command -v busybox)
rootfs="$state/busybox-rootfs"
rm -rf "$rootfs" && mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
cp "$busybox_bin" "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
  [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$rootfs/etc/passwd"
echo "root:x:0:" >"$rootfs/etc/group"
say "seeding busybox:1.36 and busybox:latest from $busybox_bin"
tar -C "$rootfs" -c . | docker import --change 'CMD ["/bin/sh"]' - busybox:1.36 >/dev/null
docker tag busybox:1.36 busybox:latest

cat >"$state/env" <<ENV
export DOCKER_HOST=unix://$socket
export IMAGETOOLS_TEST_DOCKER_HOST=unix://$socket
export IMAGETOOLS_TEST_REGISTRY=127.0.0.1:$port
export IMAGETOOLS_TEST_STATE=$state
ENV
say "ready: . $state/env"
