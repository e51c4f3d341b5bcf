#!/usr/bin/env bash
# Starts a private Docker engine and a loopback registry for the integration tests, and seeds
# the base images the examples and tests build on. Everything lives under STATE_DIR (data root,
# exec root, pidfiles, socket, registry storage, logs), so it never collides with another daemon
# on the machine. Needs root, dockerd, docker-registry, busybox-static, curl.
#   tests/services/start.sh STATE_DIR      then   . STATE_DIR/env
#   tests/services/stop.sh STATE_DIR       stops both and removes STATE_DIR
# Running it again on the same STATE_DIR reuses what is still running.
set -euo pipefail

state=${1:?usage: start.sh STATE_DIR}
mkdir -p "$state"
state=$(cd "$state" && pwd)
say() { echo "[services] $*"; }
die() { echo "[services] error: $*" >&2; exit 1; }

for tool in dockerd docker docker-registry busybox curl; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install docker.io docker-registry busybox-static curl)"
done

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local port
  for port in $(seq 45000 45999 | shuf); do
    if port_free "$port"; then echo "$port"; return 0; fi
  done
  die "no free loopback port in 45000-45999"
}

wait_for() {  # wait_for SECONDS DESCRIPTION LOG PIDFILE COMMAND...
  local seconds=$1 what=$2 log=$3 pidfile=$4; shift 4
  for _ in $(seq 1 $((seconds * 4))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if ! alive "$pidfile"; then
      echo "[services] $what exited while starting; last lines of $log:" >&2
      tail -n 30 "$log" >&2 || true
      return 1
    fi
    sleep 0.25
  done
  echo "[services] $what did not answer within ${seconds}s; last lines of $log:" >&2
  tail -n 30 "$log" >&2 || true
  return 1
}

# --- Docker engine -------------------------------------------------------------------------
socket="$state/docker.sock"
export DOCKER_HOST="unix://$socket"
# dockerd.launch.pid is the pid we started; dockerd writes dockerd.pid itself once it is up.
# stop.sh uses either, so a daemon that hangs before writing its pidfile is still stopped.
if [ -S "$socket" ] && docker version >/dev/null 2>&1; then
  say "dockerd already answers on $socket: reusing it"
else
  mkdir -p "$state/docker-data" "$state/docker-exec"
  say "starting dockerd (data $state/docker-data, socket $socket, log $state/dockerd.log)"
  # vfs and no networking: works without overlay mounts or iptables inside a sandbox. The classic
  # builder runs RUN steps fine here; BuildKit (CLI 20.10 only, no buildx plugin) needs --network=none.
  dockerd \
    --data-root "$state/docker-data" --exec-root "$state/docker-exec" --pidfile "$state/dockerd.pid" \
    --storage-driver vfs --iptables=false --ip-masq=false --bridge=none \
    -H "$DOCKER_HOST" </dev/null >"$state/dockerd.log" 2>&1 &
  echo $! >"$state/dockerd.launch.pid"
  wait_for 60 dockerd "$state/dockerd.log" "$state/dockerd.launch.pid" docker version
  say "dockerd $(docker version --format '{{.Server.Version}}') is up (pid $(cat "$state/dockerd.launch.pid"))"
fi

# --- Registry ------------------------------------------------------------------------------
if alive "$state/registry.pid" && [ -f "$state/registry.port" ] \
   && curl -fsS "http://127.0.0.1:$(cat "$state/registry.port")/v2/" >/dev/null 2>&1; then
  port=$(cat "$state/registry.port")
  say "docker-registry already running on 127.0.0.1:$port"
else
  if alive "$state/registry.pid"; then kill "$(cat "$state/registry.pid")" 2>/dev/null || true; fi
  mkdir -p "$state/registry-data"
  # Another process may take the port between the check and the bind: try a few.
  for attempt in 1 2 3; do
    port=$(free_port)
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
    say "starting docker-registry on 127.0.0.1:$port (storage $state/registry-data, log $state/registry.log)"
    docker-registry serve "$state/registry.yml" </dev/null >"$state/registry.log" 2>&1 &
    echo $! >"$state/registry.pid"
    echo "$port" >"$state/registry.port"
    if wait_for 30 docker-registry "$state/registry.log" "$state/registry.pid" curl -fsS "http://127.0.0.1:$port/v2/"; then
      break
    fi
    kill "$(cat "$state/registry.pid")" 2>/dev/null || true
    [ "$attempt" -lt 3 ] || die "docker-registry did not start (see $state/registry.log)"
  done
fi

# --- Base images ---------------------------------------------------------------------------
# No network: the base images are made from the busybox-static binary of this machine.
bash "$(dirname "$0")/seed-busybox.sh"

cat >"$state/env" <<ENV
export DOCKER_HOST=unix://$socket
export IMAGETOOLS_TEST_DOCKER_HOST=unix://$socket
export IMAGETOOLS_TEST_REGISTRY=127.0.0.1:$port
export IMAGETOOLS_TEST_STATE=$state
ENV
say "ready: . $state/env   (DOCKER_HOST=unix://$socket, registry 127.0.0.1:$port)"
