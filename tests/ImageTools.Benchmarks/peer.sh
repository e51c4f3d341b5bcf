#!/usr/bin/env bash
# Peer benchmark, ImageTools side: generates a docker-pkg tree (dockerpkg-tree), then times as whole
# processes (a) a full build and publish with --no-cache semantics and (b) no-op runs with
# everything published (hyperfine). docker-pkg runs on the same tree: see docs/benchmarks.md.
#   tests/services/start.sh /tmp/svc && . /tmp/svc/env
#   dotnet tool restore && dotnet pwsh -NoProfile -File build.ps1 -Task Package
#   tests/ImageTools.Benchmarks/peer.sh [BUILD_IMAGES=30] [NOOP_IMAGES="200 1000"] [THROTTLE=]
set -euo pipefail
build_images=${1:-30}
noop_images=${2:-"200 1000"}
throttle=${3:-}
repo=$(cd "$(dirname "$0")/../.." && pwd)
# The pwsh on PATH, else the apphost of the repo's pinned tool (after `dotnet tool restore`).
pwsh=${PWSH:-$(command -v pwsh || echo "${NUGET_PACKAGES:-$HOME/.nuget/packages}/powershell/7.6.9/tools/net10.0/any/unix/pwsh")}
module="$repo/out/ImageTools"
: "${IMAGETOOLS_TEST_REGISTRY:?source the env of tests/services/start.sh first}"
: "${DOCKER_HOST:?source the env of tests/services/start.sh first}"
work=${PEER_WORK:-/tmp/imagetools-peer}
rm -rf "$work" && mkdir -p "$work"
gen() { dotnet run -c Release --project "$repo/tests/ImageTools.Benchmarks" -- dockerpkg-tree --images "$1" --out "$2" --registry "$IMAGETOOLS_TEST_REGISTRY" >/dev/null; }
limit=${throttle:+-ThrottleLimit $throttle}
pipeline() { echo "Import-Module '$module'; \$ErrorActionPreference='Stop'; Get-ImageGraph '$1' | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | Invoke-ImageBuild -NoCache $limit | Publish-Image | Out-Null"; }
# hyperfine runs its command through sh: single quotes keep the PowerShell text (and its $) as it is.
noop() { echo "Import-Module \"$module\"; \$ErrorActionPreference = \"Stop\"; \$s = @(Get-ImageGraph \"$1\" | Test-ImageNeedsRebuild | Where-Object NeedsRebuild); if (\$s.Count) { throw \"\$(\$s.Count) images need a rebuild\" }"; }

# The seed, on loopback: the rebuild check asks its registry whether it changed.
docker tag busybox:1.36 "$IMAGETOOLS_TEST_REGISTRY/seed/busybox:1.36"
docker push --quiet "$IMAGETOOLS_TEST_REGISTRY/seed/busybox:1.36" >/dev/null
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), docker $(docker version --format '{{.Server.Version}}')"
tree="$work/build-$build_images"
gen "$build_images" "$tree"
echo "== full build and publish: $build_images images ($tree)"
/usr/bin/time -v "$pwsh" -NoProfile -Command "$(pipeline "$tree")" 2>"$work/build.time"
grep -E "Elapsed|Maximum resident|User time|System time" "$work/build.time"
echo "   load after: $(cut -d' ' -f1-3 /proc/loadavg)"

for n in $noop_images; do
  t="$work/noop-$n"
  gen "$n" "$t"
  # Everything is built and published once for real, so the no-op sees what a real run leaves behind.
  echo "== publishing $n images once (not timed)"
  "$pwsh" -NoProfile -Command "$(pipeline "$t")"
  echo "== no-op run, $n images, whole process"
  hyperfine --warmup 1 --runs "${NOOP_RUNS:-7}" --export-markdown "$work/noop-$n.md" "$pwsh -NoProfile -Command '$(noop "$t")'"
done
