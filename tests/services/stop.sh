#!/usr/bin/env bash
# Stops what start.sh started under STATE_DIR and removes its data. Safe to run twice.
set -uo pipefail

state=${1:?usage: stop.sh STATE_DIR}
[ -d "$state" ] || exit 0
say() { echo "[services] $*"; }

stop_pid() {  # stop_pid PIDFILE NAME
  local pidfile=$1 name=$2 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping $name ($pid)"
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

if [ -S "$state/docker.sock" ] && [ -f "$state/dockerd.pid" ]; then
  # Containers left by a failed test would keep mounts busy.
  ids=$(DOCKER_HOST="unix://$state/docker.sock" docker ps -aq 2>/dev/null)
  [ -z "$ids" ] || DOCKER_HOST="unix://$state/docker.sock" docker rm -f $ids >/dev/null 2>&1 || true
fi
stop_pid "$state/registry.pid" docker-registry
stop_pid "$state/dockerd.pid" dockerd
# dockerd may leave mounts under its roots; unmount before deleting.
grep -o " $state[^ ]*" /proc/mounts 2>/dev/null | sort -r | while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
rm -rf "$state"
say "stopped and removed $state"
