<#
.SYNOPSIS
    Builds, lays out, tests and demonstrates the ImageTools module.
.DESCRIPTION
    Tasks:
      Build      dotnet build of the solution.
      Package    Build, then lay out out/ImageTools so that Import-Module loads it directly:
                 ImageTools.Commands.dll, manifest, format file and help at the root, every
                 other assembly under dependencies/.
      Test       xunit in Release (dotnet test), then every Pester file under tests/ in a fresh
                 child PowerShell against the laid-out module. Result files go to out/TestResults
                 (xunit*.trx, pester.xml in NUnit format); the last line counts both suites.
      Example    Package, then run the main job on the bundled examples/ tree and a rerun that
                 must find nothing stale.
      Check      Start a child PowerShell the way the other tasks do and show what it is, and
                 which Pester it loads (a quick check of this machine's tools).
      Benchmark  The graph benchmark over a generated 1,000-image tree (docs/benchmarks.md).

    Runs the same in the PowerShell global or local tool (`dotnet pwsh`), an installed pwsh 7
    and Windows PowerShell 5.1. Pester comes from the NuGet feed (tests/tools/tools.csproj) into
    out/tools/Modules, which child processes find first on PSModulePath.
.EXAMPLE
    dotnet tool restore; dotnet pwsh -NoProfile -File ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Package', 'Test', 'Example', 'Check', 'Benchmark')]
    [string] $Task = 'Package',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

$root = $PSScriptRoot
$layout = Join-Path $root 'out/ImageTools'
$results = Join-Path $root 'out/TestResults'
$toolModules = Join-Path $root 'out/tools/Modules'
$pesterVersion = '5.9.1'

function Invoke-Native {
    param([string] $Command, [string[]] $Arguments)
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

# A value as a single-quoted PowerShell literal, for scripts handed to a child process. PowerShell
# also reads the typographic single quotes as quotes, so those are doubled as well.
function ConvertTo-Literal {
    param([string] $Value)
    "'" + ($Value -replace "(['\u2018\u2019\u201A\u201B])", '$1$1') + "'"
}

# How to start a fresh PowerShell of the kind that runs this script. The process path alone is not
# enough: under the PowerShell dotnet tool (global or local) the process is `dotnet` running
# $PSHOME/pwsh.dll; in the ISE it is the ISE.
function Get-PowerShellStartCommand {
    param([string] $ProcessPath = (Get-Process -Id $PID).Path, [string] $PowerShellHome = $PSHOME)
    # Either separator: the rule is the same for a Windows path read on any platform.
    $name = (($ProcessPath -split '[\\/]')[-1]) -replace '\.exe$', ''
    if ($name -eq 'pwsh' -or $name -eq 'powershell') { return , @($ProcessPath) }
    if ($name -eq 'powershell_ise') { return , @($ProcessPath -replace 'powershell_ise(\.exe)?$', 'powershell.exe') }
    $assembly = Join-Path $PowerShellHome 'pwsh.dll'
    if ($name -eq 'dotnet' -and (Test-Path -LiteralPath $assembly)) { return , @($ProcessPath, $assembly) }
    foreach ($candidate in 'pwsh', 'pwsh.exe', 'powershell.exe') {
        $path = Join-Path $PowerShellHome $candidate
        if (Test-Path -LiteralPath $path -PathType Leaf) { return , @($path) }
    }
    throw "Cannot tell how to start PowerShell from this host ($ProcessPath, PSHOME $PowerShellHome). Run build.ps1 with pwsh or powershell.exe."
}

# The same kind of PowerShell, started fresh, so a stale module in this session cannot leak in. The
# script goes as -EncodedCommand: no quoting rules of any platform's command line apply to it.
function Invoke-ChildPowerShell {
    param([string] $Script)
    $start = Get-PowerShellStartCommand
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($Script))
    $arguments = @($start | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-OutputFormat', 'Text', '-EncodedCommand', $encoded)
    # The child's output is shown, not returned: the caller gets the exit code alone.
    & $start[0] @arguments | Out-Host
    return $LASTEXITCODE
}

function Get-ModuleVersion {
    $props = [xml](Get-Content -Raw -LiteralPath (Join-Path $root 'Directory.Build.props'))
    return $props.Project.PropertyGroup.VersionPrefix | Where-Object { $_ } | Select-Object -First 1
}

# Pester from the NuGet feed (the PowerShell Gallery is not needed), laid out as a module folder.
function Install-TestTools {
    $target = Join-Path $toolModules "Pester/$pesterVersion"
    if (-not (Test-Path -LiteralPath (Join-Path $target 'Pester.psd1'))) {
        $packages = Join-Path $root 'out/tools/packages'
        Invoke-Native dotnet @('restore', (Join-Path $root 'tests/tools/tools.csproj'), '--packages', $packages, '--nologo')
        $source = Join-Path $packages "pester/$pesterVersion/tools"
        if (-not (Test-Path -LiteralPath (Join-Path $source 'Pester.psd1'))) { throw "The Pester $pesterVersion package has no tools/Pester.psd1 under $packages" }
        $staging = "$target.partial"
        if (Test-Path -LiteralPath $staging) { Remove-Item -LiteralPath $staging -Recurse -Force }
        New-Item -ItemType Directory -Force (Split-Path $staging) | Out-Null
        Copy-Item -LiteralPath $source -Destination $staging -Recurse
        Move-Item -LiteralPath $staging -Destination $target
    }
    $separator = [IO.Path]::PathSeparator
    if (-not ("$env:PSModulePath".Split($separator) -contains $toolModules)) {
        $env:PSModulePath = $toolModules + $separator + $env:PSModulePath
    }
}

function Invoke-Build {
    Invoke-Native dotnet @('build', (Join-Path $root 'ImageTools.sln'), '-c', $Configuration, '--nologo')
}

function Invoke-Package {
    if (Test-Path -LiteralPath $layout) { Remove-Item -LiteralPath $layout -Recurse -Force }
    # The assemblies: ImageTools.Commands.dll at the root, the engine, YamlDotNet and the PowerShell 7
    # load context under dependencies/ (the publish layout is in ImageTools.Commands.csproj).
    # Published to a plain temporary folder first: the SDK's copy step writes `$(PublishDir)` into an
    # item transform, which an apostrophe in the checkout path breaks (MSB3094).
    $staging = Join-Path ([IO.Path]::GetTempPath()) ('imagetools-layout-' + [guid]::NewGuid().ToString('N'))
    try {
        Invoke-Native dotnet @('publish', (Join-Path $root 'src/ImageTools.Commands/ImageTools.Commands.csproj'),
            '-c', $Configuration, '-o', $staging, '--nologo')
        New-Item -ItemType Directory -Force (Split-Path $layout) | Out-Null
        Copy-Item -LiteralPath $staging -Destination $layout -Recurse
    }
    finally {
        if (Test-Path -LiteralPath $staging) { Remove-Item -LiteralPath $staging -Recurse -Force }
    }
    Copy-Item -LiteralPath (Join-Path $root 'module/ImageTools.Format.ps1xml') -Destination $layout
    # Help is generated from the cmdlets' doc comments, the one source for code and Get-Help.
    Invoke-Native dotnet @('run', '-c', $Configuration, '--project', (Join-Path $root 'src/ImageTools.HelpGenerator'), '--',
        (Join-Path $layout 'en-US/ImageTools.Commands.dll-Help.xml'))
    $version = Get-ModuleVersion
    $manifest = (Get-Content -Raw -LiteralPath (Join-Path $root 'module/ImageTools.psd1')) -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion        = '$version'"
    # UTF-8 without a byte order mark on every edition (Windows PowerShell's utf8 writes one).
    [IO.File]::WriteAllText((Join-Path $layout 'ImageTools.psd1'), $manifest, (New-Object Text.UTF8Encoding $false))
    Write-Host "Module laid out at $layout (version $version)"
}

# Counts of one xunit run from its trx files (dotnet test writes one per test project).
function Get-XunitCounts {
    $counts = @{ Passed = 0; Failed = 0; Skipped = 0 }
    foreach ($file in Get-ChildItem -LiteralPath $results -Filter 'xunit*.trx' -ErrorAction SilentlyContinue) {
        $counters = ([xml](Get-Content -Raw -LiteralPath $file.FullName)).TestRun.ResultSummary.Counters
        $counts.Passed += [int]$counters.passed
        $counts.Failed += [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
        $counts.Skipped += [int]$counters.notExecuted
    }
    $counts
}

function Invoke-Test {
    Install-TestTools
    if (Test-Path -LiteralPath $results) { Remove-Item -LiteralPath $results -Recurse -Force }
    New-Item -ItemType Directory -Force $results | Out-Null

    # A failing xunit run does not stop the Pester run: the last line counts both suites.
    & dotnet test (Join-Path $root 'ImageTools.sln') -c $Configuration --nologo --logger 'trx;LogFilePrefix=xunit' --results-directory $results
    $xunitExit = $LASTEXITCODE
    $xunit = Get-XunitCounts

    Invoke-Package
    $summaryFile = Join-Path $results 'pester-summary.json'
    $pesterExit = Invoke-ChildPowerShell @"
`$ErrorActionPreference = 'Stop'
Import-Module Pester -RequiredVersion $pesterVersion
`$config = New-PesterConfiguration
`$config.Run.Path = $(ConvertTo-Literal (Join-Path $root 'tests'))
`$config.Run.PassThru = `$true
`$config.Output.Verbosity = 'Detailed'
`$config.TestResult.Enabled = `$true
`$config.TestResult.OutputFormat = 'NUnitXml'
`$config.TestResult.OutputPath = $(ConvertTo-Literal (Join-Path $results 'pester.xml'))
`$run = Invoke-Pester -Configuration `$config
@{ Passed = `$run.PassedCount; Failed = `$run.FailedCount; Skipped = `$run.SkippedCount
   FailedContainers = `$run.FailedContainersCount; Result = "`$(`$run.Result)" } |
    ConvertTo-Json | Set-Content -LiteralPath $(ConvertTo-Literal $summaryFile) -Encoding UTF8
"@
    $pester = if (Test-Path -LiteralPath $summaryFile) { Get-Content -Raw -LiteralPath $summaryFile | ConvertFrom-Json } else { $null }

    $problems = @()
    if ($xunitExit -ne 0) { $problems += "xunit failed (dotnet test exit code $xunitExit)" }
    if ($xunit.Passed -eq 0) { $problems += 'xunit ran no test' }
    if (-not $pester) { $problems += "Pester did not run (child exit code $pesterExit)" }
    else {
        if ($pester.FailedContainers -gt 0) { $problems += "$($pester.FailedContainers) Pester file(s) or block(s) failed to run" }
        if ($pester.Failed -gt 0) { $problems += "$($pester.Failed) Pester test(s) failed" }
        if ($pester.Passed -eq 0) { $problems += 'Pester ran no test' }
    }
    $pesterPassed = 0; $pesterFailed = 0; $pesterSkipped = 0
    if ($pester) { $pesterPassed = $pester.Passed; $pesterFailed = $pester.Failed + $pester.FailedContainers; $pesterSkipped = $pester.Skipped }
    Write-Host "xunit: $($xunit.Passed) passed, $($xunit.Failed) failed, $($xunit.Skipped) skipped (out/TestResults/xunit*.trx)"
    Write-Host "Pester: $pesterPassed passed, $pesterFailed failed, $pesterSkipped skipped (out/TestResults/pester.xml)"
    foreach ($problem in $problems) { Write-Host "FAILED: $problem" }
    $failed = $xunit.Failed + $pesterFailed
    if ($problems -and $failed -eq 0) { $failed = 1 }
    Write-Host "Total: $($xunit.Passed + $pesterPassed) passed, $failed failed, $($xunit.Skipped + $pesterSkipped) skipped"
    if ($problems) { exit 1 }
}

# The examples build on busybox:1.36. An engine without it gets one made from this machine's static
# busybox when there is one (no network needed), else the error says the one line that fixes it.
function Assert-ExampleBase {
    if (-not (Get-Command docker -ErrorAction SilentlyContinue)) { throw 'The example needs the docker CLI on PATH and a Docker engine it reaches (DOCKER_HOST).' }
    & docker image inspect busybox:1.36 *> $null
    if ($LASTEXITCODE -eq 0) { return }
    $seed = Join-Path $root 'tests/services/seed-busybox.sh'
    $busybox = Get-Command busybox -ErrorAction SilentlyContinue
    if ($busybox -and (Get-Command bash -ErrorAction SilentlyContinue)) {
        Write-Host 'The engine has no busybox:1.36: making it from this machine''s busybox.'
        Invoke-Native bash @($seed)
        return
    }
    throw "The example builds on busybox:1.36, which the engine (DOCKER_HOST='$env:DOCKER_HOST') does not hold. Get it with: docker pull busybox:1.36   (offline on Linux: apt-get install busybox-static, then bash tests/services/seed-busybox.sh)"
}

function Invoke-Example {
    Assert-ExampleBase
    Invoke-Package
    $examples = ConvertTo-Literal (Join-Path $root 'examples')
    # The main job: what is stale, rebuilt in dependency order, verified, published. The examples
    # have no registry, so the local engine is the record and publishing goes to an archive.
    $archive = ConvertTo-Literal (Join-Path $root 'out/example-archive')
    $status = Invoke-ChildPowerShell @"
`$ErrorActionPreference = 'Stop'
Import-Module $(ConvertTo-Literal (Join-Path $layout 'ImageTools.psd1'))
Get-ImageGraph -Path $examples -Format Mermaid | Write-Host
`$results = Get-ImageGraph -Path $examples | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | Invoke-ImageBuild -Verbose
if (-not `$results) { Write-Host 'Nothing is stale: every image is built from its current inputs.' }
`$results | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
if (`$results | Where-Object Status -in 'Failed', 'Skipped') { exit 1 }
`$results | Publish-Image -ArchivePath $archive | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
Write-Host 'Rerun: the rebuild check must now find nothing stale.'
`$rerun = Get-ImageGraph -Path $examples | Test-ImageNeedsRebuild
`$rerun | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
`$stale = @(`$rerun | Where-Object NeedsRebuild)
if (`$stale) { Write-Host "Still stale after the run: `$(`$stale.Name -join ', ')"; exit 1 }
"@
    if ($status -ne 0) { throw "The example job failed (exit code $status)." }
}

function Invoke-Check {
    Install-TestTools
    $start = Get-PowerShellStartCommand
    Write-Host "Child PowerShell: $($start -join ' ')"
    $status = Invoke-ChildPowerShell @"
`$pester = Get-Module -ListAvailable Pester | Where-Object Version -eq '$pesterVersion' | Select-Object -First 1
Write-Host "PowerShell `$(`$PSVersionTable.PSVersion) (`$(`$PSVersionTable.PSEdition)); Pester `$(`$pester.Version) from `$(`$pester.ModuleBase)"
if (-not `$pester) { exit 3 }
"@
    if ($status -ne 0) { throw "The child PowerShell could not find Pester $pesterVersion (exit code $status)." }
}

function Invoke-Benchmark {
    Invoke-Native dotnet @('run', '-c', 'Release', '--project', (Join-Path $root 'tests/ImageTools.Benchmarks'), '--', 'graph')
}

# Child processes find the tools first; this session's PSModulePath is put back afterwards.
$savedModulePath = $env:PSModulePath
try {
    switch ($Task) {
        'Build' { Invoke-Build }
        'Package' { Invoke-Package }
        'Test' { Invoke-Test }
        'Example' { Invoke-Example }
        'Check' { Invoke-Check }
        'Benchmark' { Invoke-Benchmark }
    }
}
finally {
    $env:PSModulePath = $savedModulePath
}
