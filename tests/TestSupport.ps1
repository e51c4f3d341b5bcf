# Shared by the *.Tests.ps1 files (dot-source it in BeforeDiscovery or BeforeAll); Pester does not
# run it on its own.

# Whether this host's docker CLI reaches an engine holding busybox:1.36, the base the Docker tests
# build on (tests/services/start.sh seeds one). On a workstation without Docker those tests are
# skipped with a warning saying why; where an engine is promised (CI, TF_BUILD, or
# IMAGETOOLS_TEST_DOCKER_HOST set) a missing one fails the run instead of skipping quietly.
function Test-DockerEngine {
    $problem = if (-not (Get-Command docker -ErrorAction SilentlyContinue)) {
        'the docker CLI is not on PATH'
    } else {
        docker image inspect busybox:1.36 *> $null
        if ($LASTEXITCODE -ne 0) { "the engine docker talks to (DOCKER_HOST='$env:DOCKER_HOST') is unreachable or has no busybox:1.36" }
    }
    if (-not $problem) { return $true }
    if ($env:CI -or $env:TF_BUILD -or $env:IMAGETOOLS_TEST_DOCKER_HOST) {
        throw "These tests need Docker, and this host promises it, but $problem. Start one with tests/services/start.sh."
    }
    Write-Warning "Skipping the tests that need Docker: $problem."
    return $false
}

# The manifest of the module as build.ps1 lays it out, the way users load it.
function Get-LaidOutManifest {
    $manifest = Join-Path $PSScriptRoot '../out/ImageTools/ImageTools.psd1'
    if (-not (Test-Path $manifest)) { throw "Lay out the module first: ./build.ps1 -Task Package ($manifest is missing)" }
    $manifest
}

function Import-LaidOutModule {
    Import-Module (Get-LaidOutManifest) -Force -PassThru
}
