#!/usr/bin/env bash
# Starts a private Docker engine and a loopback registry for the integration tests, and seeds
# the base images the examples and tests build on; with podman installed, also Podman's
# Docker-compatible API service (IMAGETOOLS_TEST_PODMAN_HOST). Everything lives under STATE_DIR (data root,
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

# --- Podman (its Docker-compatible API service) -------------------------------------------------
# Optional here (skipped with a note when podman is missing); .ci/run installs it, and with CI=true
# the Podman tests fail without IMAGETOOLS_TEST_PODMAN_HOST. Its own storage (vfs), run root, tmp dir
# and config under STATE_DIR/podman, so it shares no images or containers with another podman on the
# machine (only its blob-info cache, /var/lib/containers/cache, which podman locks); no registry but
# the loopback one (insecure), and no short-name lookups anywhere.
podman_env=""
if command -v podman >/dev/null; then
  pstate="$state/podman"
  psocket="$pstate/podman.sock"
  mkdir -p "$pstate/root" "$pstate/run" "$pstate/tmp"
  cat >"$pstate/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$pstate/root"
runroot = "$pstate/run"
CONF
  cat >"$pstate/registries.conf" <<CONF
unqualified-search-registries = []
short-name-mode = "disabled"
[[registry]]
location = "127.0.0.1:$port"
insecure = true
CONF
  # No network for RUN steps (none exists here), cgroupfs and file events (no systemd in a sandbox).
  # Podman gives a container higher nofile/nproc limits than its own (it caps its own nproc at
  # 32768), which a sandbox without CAP_SYS_RESOURCE refuses (runc: "error setting rlimit"): ask for
  # no more than the service has.
  cap() { local hard; hard=$(ulimit "$1"); if [ "$hard" = unlimited ] || [ "$hard" -gt "$2" ]; then echo "$2"; else echo "$hard"; fi; }
  nofile=$(cap -Hn 1048576); nproc=$(cap -Hu 32768)
  cat >"$pstate/containers.conf" <<CONF
[containers]
netns = "none"
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$pstate/events.log"
tmp_dir = "$pstate/tmp"
static_dir = "$pstate/root/libpod"
volume_path = "$pstate/root/volumes"
CONF
  if ! command -v crun >/dev/null && command -v runc >/dev/null; then echo 'runtime = "runc"' >>"$pstate/containers.conf"; fi
  cat >"$pstate/env" <<CONF
export CONTAINERS_STORAGE_CONF=$pstate/storage.conf
export CONTAINERS_REGISTRIES_CONF=$pstate/registries.conf
export CONTAINERS_CONF=$pstate/containers.conf
CONF
  # shellcheck disable=SC1091
  . "$pstate/env"
  if alive "$pstate/service.pid" && [ -S "$psocket" ] && docker --host "unix://$psocket" version >/dev/null 2>&1; then
    say "podman service already answers on $psocket: reusing it"
  else
    say "starting podman system service (storage $pstate/root, socket $psocket, log $pstate/service.log)"
    podman system service --time=0 "unix://$psocket" </dev/null >"$pstate/service.log" 2>&1 &
    echo $! >"$pstate/service.pid"
    wait_for 60 "podman service" "$pstate/service.log" "$pstate/service.pid" docker --host "unix://$psocket" version
  fi
  # The same busybox as the Docker engine's (same image id), through a docker-archive: podman keeps it
  # as localhost/busybox:1.36, which is what a short name finds with no search registries.
  if ! podman image exists localhost/busybox:1.36; then
    docker save --output "$pstate/busybox.tar" busybox:1.36
    podman load --quiet --input "$pstate/busybox.tar" >/dev/null
    rm -f "$pstate/busybox.tar"
  fi
  say "podman $(podman version --format '{{.Server.Version}}' 2>/dev/null || podman --version) is up (API unix://$psocket)"
  podman_env="export IMAGETOOLS_TEST_PODMAN_HOST=unix://$psocket"
else
  say "podman not found: the Podman tests will be skipped (or fail with CI=true); apt-get install podman"
fi

cat >"$state/env" <<ENV
export DOCKER_HOST=unix://$socket
export IMAGETOOLS_TEST_DOCKER_HOST=unix://$socket
export IMAGETOOLS_TEST_REGISTRY=127.0.0.1:$port
export IMAGETOOLS_TEST_STATE=$state
$podman_env
ENV
say "ready: . $state/env   (DOCKER_HOST=unix://$socket, registry 127.0.0.1:$port${podman_env:+, podman unix://$psocket})"
