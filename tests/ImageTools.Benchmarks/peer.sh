#!/usr/bin/env bash
# Peer benchmark: ImageTools and docker-pkg side by side on one generated docker-pkg tree, one
# engine and one registry, in one sitting, runs alternating between the tools (see docs/benchmarks.md).
#
#   tests/services/start.sh /tmp/svc && . /tmp/svc/env          # private dockerd (+ a plain registry, unused here)
#   dotnet tool restore && dotnet pwsh -NoProfile -File build.ps1 -Task Package
#   tests/ImageTools.Benchmarks/peer.sh [--docker-pkg DIR] [--images 30] [--runs 3] [--throttles "1 2 4"]
#                                       [--noop-sizes "200 1000"] [--parts "build leaf noop throttle large profile floor critical"] [--work DIR]
#
# --parts critical (not in the default parts): the critical-path check of issue 16 on the --images tree,
#   ImageTools only, no publishing: (a) the whole tree with -ThrottleLimit 1 -NoCache (each image built
#   alone, its BuildResult.Duration), the critical path = the longest dependency chain of those
#   durations; (b) the images removed, the whole tree again with the default throttle, wall time around
#   the pwsh process; prints parallel wall / critical path (target <= 1.2).
#
# --docker-pkg DIR: a checkout of docker-pkg (never vendored in this repo), e.g. made with the search
#   tool's `fetch github:wikimedia/operations-docker-images-docker-pkg` and `git clone` of that snapshot
#   to /tmp/docker-pkg. It runs with Debian's /usr/bin/python3 (python3-docker, python3-debian,
#   python3-jinja2, python3-yaml, python3-requests). Without it only ImageTools is measured.
# Needs: hyperfine, GNU time (/usr/bin/time), openssl, htpasswd (apache2-utils), docker-registry, jq, curl.
#
# docker-pkg speaks only https to its registry, and publishes only with a username and password,
# so this script starts its own registry: TLS (a self-signed certificate for 127.0.0.1) and Basic
# auth (htpasswd), on loopback only, storage under the work directory.
#   - docker-pkg: config.yaml's ca_bundle (requests trusts the certificate), username/password (it
#     logs the daemon in and pushes); its "is it published?" GET is sent without credentials, which
#     an auth-only registry refuses, so NETRC points requests at a netrc file for 127.0.0.1 (a
#     standard requests feature; the Wikimedia registry it was written for allows anonymous reads).
#   - ImageTools: the same config.yaml's ca_bundle, credentials from DOCKER_CONFIG/config.json
#     (written by `docker login` into the work directory, never ~/.docker).
#   - dockerd: 127.0.0.0/8 is on its insecure-registry list by default, where it accepts the
#     self-signed certificate; checked below, so nothing in /etc/docker/certs.d is touched.
# The seed (busybox:1.36, seeded locally by tests/services/seed-busybox.sh) is pushed to this
# registry, so no base is ever looked up on Docker Hub.
set -euo pipefail

docker_pkg=""
build_images=30
runs=3
throttles="1 2 4"
noop_sizes="200 1000"
parts="build leaf noop throttle large"
work=${PEER_WORK:-/tmp/imagetools-peer}
while [ $# -gt 0 ]; do
  case $1 in
    --docker-pkg) docker_pkg=$(cd "$2" && pwd); shift 2 ;;
    --images) build_images=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --throttles) throttles=$2; shift 2 ;;
    --noop-sizes) noop_sizes=$2; shift 2 ;;
    --parts) parts=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done
has() { case " $parts " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
say() { echo "== $*"; }
die() { echo "peer.sh: $*" >&2; exit 1; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

repo=$(cd "$(dirname "$0")/../.." && pwd)
pwsh=${PWSH:-$(command -v pwsh || echo "${NUGET_PACKAGES:-$HOME/.nuget/packages}/powershell/7.6.9/tools/net10.0/any/unix/pwsh")}
module="$repo/out/ImageTools"
python=/usr/bin/python3
[ -x "$pwsh" ] || die "no pwsh (dotnet tool restore, or set PWSH)"
[ -f "$module/ImageTools.psd1" ] || die "no module in $module (dotnet pwsh -NoProfile -File build.ps1 -Task Package)"
: "${DOCKER_HOST:?source the env of tests/services/start.sh first}"
for tool in hyperfine openssl htpasswd docker-registry jq curl; do command -v "$tool" >/dev/null || die "$tool not found"; done
[ -x /usr/bin/time ] || die "/usr/bin/time not found (apt-get install time)"
if [ -n "$docker_pkg" ]; then
  [ -f "$docker_pkg/docker_pkg/cli.py" ] || die "$docker_pkg is not a docker-pkg checkout (no docker_pkg/cli.py)"
  PYTHONPATH="$docker_pkg" "$python" -c 'import docker_pkg.cli' || die "docker-pkg does not import with $python (python3-docker python3-debian python3-jinja2 python3-yaml python3-requests)"
fi
docker info --format '{{json .RegistryConfig.InsecureRegistryCIDRs}}' | grep -q '127.0.0.0/8' \
  || die "the engine does not treat 127.0.0.0/8 as insecure, so it would refuse the self-signed certificate"

mkdir -p "$work" && work=$(cd "$work" && pwd)
tls="$work/registry"
registry_pid=""
sampler_pid=""
cleanup() {
  [ -z "$sampler_pid" ] || kill "$sampler_pid" 2>/dev/null || true
  [ -z "$registry_pid" ] || kill "$registry_pid" 2>/dev/null || true
}
trap cleanup EXIT

# --- the TLS + Basic auth registry, on loopback ------------------------------------------------
rm -rf "$tls" && mkdir -p "$tls/data" && chmod 700 "$tls"
user=bench
password=$(openssl rand -hex 16)
htpasswd -Bbn "$user" "$password" >"$tls/htpasswd" 2>/dev/null
# docker-pkg's image_tag filter splits "name:tag" at every colon, so a registry with a port
# (127.0.0.1:5000/ns/name:tag) is never found: the registry listens on 443 of a loopback address of
# its own (127.0.0.0/8 is all loopback), chosen at random so that parallel runs do not collide.
host=""
for candidate in $(shuf -i 2-254 -n 30); do
  (exec 3<>"/dev/tcp/127.0.0.$candidate/443") 2>/dev/null && continue
  host=127.0.0.$candidate; break
done
[ -n "$host" ] || die "no loopback address with a free port 443"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$host" -addext "subjectAltName=IP:$host" \
  -keyout "$tls/key.pem" -out "$tls/ca.pem" 2>/dev/null
cat >"$tls/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $tls/data
  delete:
    enabled: true
http:
  addr: $host:443
  tls:
    certificate: $tls/ca.pem
    key: $tls/key.pem
auth:
  htpasswd:
    realm: peer-benchmark
    path: $tls/htpasswd
YAML
docker-registry serve "$tls/config.yml" </dev/null >"$tls/registry.log" 2>&1 &
registry_pid=$!
registry=$host
for _ in $(seq 1 60); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$tls/ca.pem" "https://$registry/v2/")" = 401 ] && break
  kill -0 "$registry_pid" 2>/dev/null || { tail "$tls/registry.log" >&2; die "the registry did not start"; }
  sleep 0.25
done
curl -fsS -o /dev/null --cacert "$tls/ca.pem" --netrc-file /dev/stdin "https://$registry/v2/" <<<"machine $host login $user password $password" \
  || die "the registry refuses the credentials"
# Credentials for both tools, inside the work directory only.
export DOCKER_CONFIG="$tls/docker-config"
mkdir -p "$DOCKER_CONFIG"
docker login --username "$user" --password-stdin "$registry" <<<"$password" >/dev/null 2>&1 || die "docker login to $registry failed"
export NETRC="$tls/netrc"
(umask 077; echo "machine $host login $user password $password" >"$NETRC")
docker tag busybox:1.36 "$registry/seed/busybox:1.36"
docker push --quiet "$registry/seed/busybox:1.36" >/dev/null
say "registry https://$registry (TLS, Basic auth, storage $tls/data); seed $registry/seed/busybox:1.36"
say "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(load), docker $(docker version --format '{{.Server.Version}}') ($(docker info --format '{{.Driver}}')), $("$pwsh" -NoProfile -Command '$PSVersionTable.PSVersion.ToString()' 2>/dev/null | sed 's/^/pwsh /')"

# --- trees and commands ------------------------------------------------------------------------
gen() {  # gen IMAGES NAMESPACE DIR: a docker-pkg tree both tools read, with this registry's TLS and auth settings
  rm -rf "$3"
  dotnet run -c Release --project "$repo/tests/ImageTools.Benchmarks" -- dockerpkg-tree --images "$1" --namespace "$2" --out "$3" --registry "$registry" >/dev/null
  (umask 077; printf 'ca_bundle: %s\nusername: %s\npassword: %s\n' "$tls/ca.pem" "$user" "$password" >>"$3/config.yaml")
}
# hyperfine runs each command through sh: the PowerShell text goes in single quotes, so it uses
# double quotes only. $ErrorActionPreference Stop: a failure fails the run (hyperfine sees the exit code).
it_build() {  # it_build TREE [THROTTLE]
  local limit=${2:+ -ThrottleLimit $2}
  echo "$pwsh -NoProfile -Command 'Import-Module \"$module\"; \$ErrorActionPreference = \"Stop\"; Get-ImageGraph \"$1\" | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | Invoke-ImageBuild -NoCache$limit | Publish-Image | Out-Null'"
}
it_noop() {
  echo "$pwsh -NoProfile -Command 'Import-Module \"$module\"; \$ErrorActionPreference = \"Stop\"; \$s = @(Get-ImageGraph \"$1\" | Test-ImageNeedsRebuild | Where-Object NeedsRebuild); if (\$s.Count) { throw \"\$(\$s.Count) images need a rebuild\" }'"
}
# docker-pkg's console script (setup.py: docker-pkg = docker_pkg.cli:main), in its default mode (it asks the registry first, as in CI); no cache is its default. It logs
# to ./docker-pkg-build.log, so it runs from a directory of its own; a failed image does not change
# its exit code, so the log is checked for ERROR afterwards.
dp() {  # dp TREE
  echo "cd $work/docker-pkg-run && PYTHONPATH=$docker_pkg $python -c \"from docker_pkg.cli import main; main()\" -c $1/config.yaml build $1 >>$work/docker-pkg-run/stdout"
}
timed() {  # timed CASE TOOL COMMAND: the command under GNU time, one line per run: wall user sys maxrss_kb
  echo "/usr/bin/time -a -o $work/time-$1-$2.txt -f \"%e %U %S %M\" bash -c $(printf %q "$3")"
}
reset_tree() {  # reset_tree NAMESPACE: nothing of the tree in the registry or the engine, as before a first build
  rm -rf "$tls/data/docker/registry/v2/repositories/$1"
  docker images --format '{{.Repository}}:{{.Tag}}' | grep "^$registry/$1/" | xargs -r docker rmi -f >/dev/null 2>&1 || true
  docker image prune -f >/dev/null 2>&1 || true
}
leaf_bump() {  # leaf_bump TREE: a new changelog entry on one leaf (a new version: both tools rebuild it, and only it)
  local leaf
  leaf=$(ls -d "$1"/pkg-4-* | tail -n 1)
  local name=${leaf##*/} old new
  old=$(head -n 1 "$leaf/changelog" | sed 's/.*(\(.*\)).*/\1/')
  new="${old%%-s*}-s$(date +%s%N)"
  { printf '%s (%s) bench; urgency=medium\n\n  * Benchmark change.\n\n -- Bench <bench@example.org>  %s\n\n' "$name" "$new" "$(date -R)"; cat "$leaf/changelog"; } >"$leaf/changelog.new"
  mv "$leaf/changelog.new" "$leaf/changelog"
}
summary() {  # summary CASE TOOL: median/min/max wall, median CPU (user+sys), max RSS over the runs of one case
  local f="$work/time-$1-$2.txt"
  [ -s "$f" ] || return 0
  "$python" - "$1" "$2" "$f" <<'PY'
import statistics, sys
case, tool, path = sys.argv[1:4]
rows = [[float(x) for x in line.split()] for line in open(path) if line.strip()]
wall = [r[0] for r in rows]; cpu = [r[1] + r[2] for r in rows]
print(f"   {case:<22} {tool:<24} wall median {statistics.median(wall):7.2f} s (min {min(wall):.2f}, max {max(wall):.2f}, {len(rows)} runs), "
      f"cpu median {statistics.median(cpu):.2f} s, max RSS {max(r[3] for r in rows) / 1024:.0f} MiB")
PY
}
check_dp_log() {
  if [ -n "$docker_pkg" ] && grep -q " ERROR " "$work/docker-pkg-run/docker-pkg-build.log" 2>/dev/null; then
    grep " ERROR " "$work/docker-pkg-run/docker-pkg-build.log" | head -n 5 >&2
    die "docker-pkg logged errors (see $work/docker-pkg-run/docker-pkg-build.log)"
  fi
}
# One hyperfine call per round with every tool's command, so the tools alternate: a slow minute of
# the shared machine hits both, not one.
rounds() {  # rounds CASE PREPARE NAME=COMMAND...
  local case=$1 prepare=$2; shift 2
  local r args
  : >"$work/docker-pkg-run/stdout"
  for r in $(seq 1 "$runs"); do
    args=()
    for pair in "$@"; do args+=(-n "${pair%%=*}" "$(timed "$case" "${pair%%=*}" "${pair#*=}")"); done
    hyperfine --shell bash --runs 1 ${prepare:+--prepare "$prepare"} --export-json "$work/hyperfine-$case-$r.json" "${args[@]}" >/dev/null
  done
  jq -r --arg c "$case" '.results[] | "   \($c) \(.command) \(.mean)"' "$work"/hyperfine-"$case"-*.json | awk '{ s[$2]=s[$2] sprintf(" %.2f", $3) } END { for (k in s) printf "   %-22s %-24s hyperfine wall per run:%s s\n", "'"$case"'", k, s[k] }'
  for pair in "$@"; do summary "$case" "${pair%%=*}"; done
  check_dp_log
  # A no-op must be one for docker-pkg too (it decides by "is the tag in the registry?").
  case $case in noop*) ! grep -q "Built image" "$work/docker-pkg-run/stdout" || die "docker-pkg built images in the no-op case $case (see $work/docker-pkg-run/stdout)" ;; esac
}

mkdir -p "$work/docker-pkg-run"
rm -f "$work"/time-*.txt "$work"/hyperfine-*.json "$work/docker-pkg-run/docker-pkg-build.log" "$work/docker-pkg-run/stdout"
ns="peer$build_images"
tree="$work/tree-$build_images"
gen "$build_images" "$ns" "$tree"
export -f reset_tree leaf_bump 2>/dev/null || true
export registry tls
tools() {  # tools BUILD-COMMAND-FOR-IMAGETOOLS: docker-pkg first, so the state a round leaves is ImageTools' (labels included)
  [ -z "$docker_pkg" ] || echo "docker-pkg=$(dp "$tree")"
  echo "imagetools=$1"
}
mapfile_tools() { mapfile -t cmds < <(tools "$1"); }

if has build; then
  say "full build and publish, $build_images images, --no-cache (both), $runs rounds; load before: $(load)"
  mapfile_tools "$(it_build "$tree")"
  rounds build "bash -c 'reset_tree $ns'" "${cmds[@]}"
  echo "   load after: $(load)"
fi
if has leaf; then
  say "one changed leaf (new changelog version), $runs rounds; load before: $(load)"
  # The tree must be published by ImageTools first (its labels), as the build part leaves it.
  has build || { reset_tree "$ns"; eval "$(it_build "$tree")"; }
  mapfile_tools "$(it_build "$tree")"
  rounds leaf "bash -c 'leaf_bump $tree'" "${cmds[@]}"
  echo "   load after: $(load)"
fi
if has noop; then
  say "no-op, $build_images images, everything published, $runs rounds; load before: $(load)"
  has build || has leaf || { reset_tree "$ns"; eval "$(it_build "$tree")"; }
  mapfile_tools "$(it_noop "$tree")"
  rounds noop "" "${cmds[@]}"
  echo "   load after: $(load)"
fi
if has throttle; then
  say "ImageTools full build and publish, $build_images images, -ThrottleLimit $throttles, $runs rounds; load before: $(load)"
  cmds=()
  for t in $throttles; do cmds+=("throttle-$t=$(it_build "$tree" "$t")"); done
  rounds throttle "bash -c 'reset_tree $ns'" "${cmds[@]}"
  echo "   load after: $(load)"
fi
if has large; then
  for n in $noop_sizes; do
    t="$work/tree-$n"
    gen "$n" "peer$n" "$t"
    # Published through the registry API as a build leaves it (labels included): no need to build them.
    dotnet run -c Release --project "$repo/tests/ImageTools.Benchmarks" -- publish-as-built "$t" | sed 's/^/   /'
    say "no-op, $n images, whole process, $runs rounds; load before: $(load)"
    tree=$t
    mapfile_tools "$(it_noop "$t")"
    rounds "noop-$n" "" "${cmds[@]}"
    echo "   load after: $(load)"
    say "no-op, $n images, inside one running pwsh (first call, then the median of $runs more); load before: $(load)"
    "$pwsh" -NoProfile -Command "
      \$ErrorActionPreference = 'Stop'
      \$import = Measure-Command { Import-Module '$module' }
      \$runs = foreach (\$i in 0..$runs) { (Measure-Command { \$s = @(Get-ImageGraph '$t' | Test-ImageNeedsRebuild | Where-Object NeedsRebuild); if (\$s.Count) { throw \"\$(\$s.Count) images need a rebuild\" } }).TotalMilliseconds }
      \$steady = @(\$runs | Select-Object -Skip 1 | Sort-Object)
      '   Import-Module {0:F0} ms; first pipeline {1:F0} ms; then median {2:F0} ms (min {3:F0}, max {4:F0})' -f \$import.TotalMilliseconds, \$runs[0], \$steady[[int][math]::Floor(\$steady.Count / 2)], \$steady[0], \$steady[-1]"
    echo "   load after: $(load)"
  done
fi
if has profile; then
  # One run of each ImageTools case with -Verbose: the phase lines (scan, graph, plan, build, verify)
  # say where the time goes; publish is timed around Publish-Image.
  prof() {  # prof LABEL POWERSHELL
    local start end
    start=$(date +%s%N)
    # Plain text: pwsh colours verbose lines in a terminal.
    "$pwsh" -NoProfile -Command "\$PSStyle.OutputRendering = 'PlainText'; Import-Module '$module'; \$ErrorActionPreference = 'Stop'; \$VerbosePreference = 'Continue'; $2" 2>&1 \
      | { grep -E '^(VERBOSE: )?(Phase|Run )' || true; } | sed "s/^VERBOSE: //; s/^/   $1: /"
    end=$(date +%s%N)
    echo "   $1: whole process $(( (end - start) / 1000000 )) ms"
  }
  tree="$work/tree-$build_images"
  say "profile, $build_images images; load before: $(load)"
  reset_tree "$ns"
  build_and_publish="\$b = @(Get-ImageGraph '$tree' | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | Invoke-ImageBuild -NoCache); \$p = Measure-Command { \$b | Publish-Image | Out-Null }; 'Phase publish: {0:F3} s (measured around Publish-Image, {1} images)' -f \$p.TotalSeconds, \$b.Count"
  prof "full build" "$build_and_publish"
  leaf_bump "$tree"
  prof "changed leaf" "$build_and_publish"
  prof "no-op" "\$null = Get-ImageGraph '$tree' | Test-ImageNeedsRebuild"
  n=${noop_sizes##* }
  t="$work/tree-$n"
  gen "$n" "peer$n" "$t"
  dotnet run -c Release --project "$repo/tests/ImageTools.Benchmarks" -- publish-as-built "$t" | sed 's/^/   /'
  prof "no-op $n, one pwsh" "foreach (\$i in 1..3) { 'Run ' + \$i; \$null = Get-ImageGraph '$t' | Test-ImageNeedsRebuild }"
  echo "   load after: $(load)"
fi
if has floor; then
  # The registry's own cost, apart from either tool: the seed's manifest asked N times (N = the largest
  # no-op size) by one curl process, one at a time and 32 at once, with the same TLS and credentials;
  # the registry's CPU time read from /proc around each pass.
  n=${noop_sizes##* }
  urls="$work/floor-urls"
  for _ in $(seq 1 "$n"); do printf 'url = https://%s/v2/seed/busybox/manifests/1.36\noutput = /dev/null\n' "$registry"; done >"$urls"
  registry_cpu() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$registry_pid/stat"; }
  say "registry floor: $n authenticated manifest HEADs with curl; load before: $(load)"
  for parallel in 1 32; do
    c0=$(registry_cpu); s0=$(date +%s%N)
    codes=$(curl --no-progress-meter -I --cacert "$tls/ca.pem" --netrc-file "$NETRC" -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
      --parallel --parallel-max "$parallel" -K "$urls" -w '%{http_code}\n' | sort | uniq -c | tr -s ' \n' ' ')
    s1=$(date +%s%N); c1=$(registry_cpu)
    echo "   $parallel at once: wall $(( (s1 - s0) / 1000000 )) ms, registry CPU $(echo "$c1 - $c0" | bc) s, answers:$codes"
  done
  echo "   load after: $(load)"
fi
if has critical; then
  tree="$work/tree-$build_images"
  sampler_pid=""
  sample_load() {  # sample_load FILE: the 1-minute load average every 5 s, until killed
    while :; do cut -d' ' -f1 /proc/loadavg >>"$1"; sleep 5; done
  }
  load_during() { sort -n "$1" | awk '{ v[NR]=$1 } END { if (NR) printf "min %s, median %s, max %s (%d samples)", v[1], v[int((NR+1)/2)], v[NR], NR }'; }
  # critical_build MODE LIMIT: the whole tree built (no rebuild check: every node goes to Invoke-ImageBuild),
  # per-image results to critical-MODE.json; the wall time of the pwsh process to critical-MODE.wall.
  critical_build() {
    local mode=$1 limit=${2:+ -ThrottleLimit $2} s0 s1
    reset_tree "$ns"
    : >"$work/load-critical-$mode.txt"
    sample_load "$work/load-critical-$mode.txt" & sampler_pid=$!
    say "critical $mode: $build_images images, Invoke-ImageBuild -NoCache${limit:- (default throttle)}; load before: $(load)"
    s0=$(date +%s%N)
    "$pwsh" -NoProfile -Command "
      Import-Module '$module'; \$ErrorActionPreference = 'Stop'
      \$nodes = @(Get-ImageGraph '$tree')
      \$clock = [Diagnostics.Stopwatch]::StartNew()
      \$r = @(\$nodes | Invoke-ImageBuild -NoCache$limit)
      \$clock.Stop()
      \$bad = @(\$r | Where-Object Status -ne 'Built')
      if (\$bad.Count -or \$r.Count -ne \$nodes.Count) { throw \"\$(\$bad.Count) of \$(\$r.Count) images not built (\$(\$nodes.Count) in the tree): \$(\$bad | Select-Object -First 3 | ForEach-Object { \$_.Name + ': ' + \$_.Error })\" }
      [pscustomobject]@{
        cmdlet_seconds = \$clock.Elapsed.TotalSeconds
        images = @(\$r | ForEach-Object { [pscustomobject]@{ name = \$_.Name; level = \$_.Node.Level; seconds = \$_.Duration.TotalSeconds; dependencies = @(\$_.Node.Dependencies) } })
      } | ConvertTo-Json -Depth 4 | Set-Content '$work/critical-$mode.json'"
    s1=$(date +%s%N)
    kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=""
    echo "scale=3; ($s1 - $s0) / 1000000000" | bc >"$work/critical-$mode.wall"
    echo "   wall (whole pwsh process) $(cat "$work/critical-$mode.wall") s; load after: $(load); 1-min load during: $(load_during "$work/load-critical-$mode.txt")"
  }
  critical_build alone 1
  critical_build parallel ""
  reset_tree "$ns"
  "$python" - "$work" <<'PY'
import json, sys
work = sys.argv[1]
def read(mode):
    data = json.load(open(f"{work}/critical-{mode}.json"))
    return data, {i["name"]: i for i in data["images"]}, float(open(f"{work}/critical-{mode}.wall").read())
alone, images, alone_wall = read("alone")
par, par_images, par_wall = read("parallel")
finish, via = {}, {}
def visit(name):  # the longest chain ending at name, weighing each image by its duration built alone
    if name not in finish:
        deps = images[name]["dependencies"] or []
        best = max(deps, key=visit, default=None)
        finish[name] = (finish[best] if best else 0.0) + images[name]["seconds"]
        via[name] = best
    return finish[name]
end = max(images, key=visit)
chain = [end]
while via[chain[-1]]: chain.append(via[chain[-1]])
chain.reverse()
critical = finish[end]
serial = sum(i["seconds"] for i in images.values())
levels = {}
for i in images.values(): levels.setdefault(i["level"], []).append(i["seconds"])
print(f"   images: {len(images)}; levels (width): " + ", ".join(f"{l}: {len(v)}" for l, v in sorted(levels.items())))
print(f"   (a) alone: sum of durations {serial:.1f} s (wall {alone_wall:.1f} s, cmdlet {alone['cmdlet_seconds']:.1f} s); "
      f"per image median {sorted(i['seconds'] for i in images.values())[len(images) // 2]:.2f} s, min {min(i['seconds'] for i in images.values()):.2f}, max {max(i['seconds'] for i in images.values()):.2f}")
print(f"   critical path: {critical:.1f} s over {len(chain)} images: " + " -> ".join(f"{n} {images[n]['seconds']:.1f}" for n in chain))
print(f"   sum of durations / critical path (the most parallelism the graph allows, on average): {serial / critical:.1f}")
ps = [i["seconds"] for i in par_images.values()]
print(f"   (b) default throttle: wall {par_wall:.1f} s (cmdlet {par['cmdlet_seconds']:.1f} s); per image median {sorted(ps)[len(ps) // 2]:.2f} s "
      f"(alone {sorted(i['seconds'] for i in images.values())[len(images) // 2]:.2f} s), sum {sum(ps):.1f} s")
print(f"   the same chain's durations in (b): {sum(par_images[n]['seconds'] for n in chain):.1f} s")
print(f"   parallel wall / critical path: {par_wall / critical:.2f} (whole process), {par['cmdlet_seconds'] / critical:.2f} (Invoke-ImageBuild alone); target <= 1.2")
PY
fi
say "done; raw figures in $work (time-*.txt: wall user sys maxrss_kb per run; hyperfine-*.json)"
