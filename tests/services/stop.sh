#!/usr/bin/env bash
# Stops what start.sh started under STATE_DIR and removes STATE_DIR with its data (vfs layers are
# full copies and get big). Safe to run twice, and on a half-started STATE_DIR.
#   tests/services/stop.sh STATE_DIR
set -uo pipefail

state=${1:?usage: stop.sh STATE_DIR}
[ -d "$state" ] || { echo "[services] $state does not exist: nothing to stop"; exit 0; }
state=$(cd "$state" && pwd)
say() { echo "[services] $*"; }
[ "$state" != / ] || { echo "[services] refusing to remove /" >&2; exit 1; }

stop_pid() {  # stop_pid NAME PIDFILE... : TERM, wait up to 20 s, then KILL and wait
  local name=$1 pidfile pid; shift
  for pidfile in "$@"; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || continue
    say "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
      say "$name (pid $pid) ignored TERM for 20 s: killing it"
      kill -9 "$pid" 2>/dev/null
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    fi
  done
}

if [ -S "$state/docker.sock" ] && docker --host "unix://$state/docker.sock" version >/dev/null 2>&1; then
  # Containers left by a failed test would keep mounts busy.
  ids=$(docker --host "unix://$state/docker.sock" ps -aq 2>/dev/null)
  if [ -n "$ids" ]; then
    say "removing leftover containers:"
    docker --host "unix://$state/docker.sock" ps -a --format '    {{.ID}} {{.Image}} {{.Command}} {{.Status}}' 2>/dev/null
    # shellcheck disable=SC2086
    docker --host "unix://$state/docker.sock" rm -f $ids >/dev/null 2>&1 || true
  fi
fi
stop_pid "podman service" "$state/podman/service.pid"
stop_pid docker-registry "$state/registry.pid"
stop_pid dockerd "$state/dockerd.pid" "$state/dockerd.launch.pid"
# dockerd normally stops its containerd; after a KILL it is left behind.
stop_pid containerd "$state/docker-exec/containerd/containerd.pid"

# dockerd bind-mounts its data root and leaves netns/shm mounts; unmount (deepest first) before
# deleting. Match STATE_DIR itself or paths below it only, never a sibling like STATE_DIR2.
awk -v s="$state" '$2 == s || index($2, s "/") == 1 { print $2 }' /proc/mounts | sort -r | while read -r mount; do
  say "unmounting $mount"
  umount "$mount" 2>/dev/null || umount -l "$mount" 2>/dev/null || say "could not unmount $mount"
done
rm -rf "$state" || say "could not remove all of $state"
say "stopped and removed $state"
