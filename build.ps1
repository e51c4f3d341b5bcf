<#
.SYNOPSIS
    Builds, lays out, tests and demonstrates the ImageTools module.
.DESCRIPTION
    Tasks:
      Build      dotnet build of the solution.
      Package    Build, then lay out out/ImageTools so that Import-Module loads it directly:
                 ImageTools.Commands.dll, manifest, format file and help at the root, every
                 other assembly under dependencies/.
      Test       xunit (dotnet test), then the Pester files under tests/ in a fresh child
                 PowerShell process against the laid-out module. Result files go to out/TestResults.
      Example    Package, then run the main job on the bundled examples/ tree.
      Benchmark  The graph benchmark over a generated 1,000-image tree (docs/benchmarks.md).
.EXAMPLE
    ./build.ps1 -Task Example
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Package', 'Test', 'Example', 'Benchmark')]
    [string] $Task = 'Package',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

$root = $PSScriptRoot
$layout = Join-Path $root 'out/ImageTools'
$results = Join-Path $root 'out/TestResults'

function Invoke-Native {
    param([string] $Command, [string[]] $Arguments)
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

# The same PowerShell that runs this script, started fresh, so a stale module in this session cannot leak in.
function Invoke-ChildPowerShell {
    param([string] $Command)
    $shell = (Get-Process -Id $PID).Path
    Invoke-Native $shell @('-NoProfile', '-NonInteractive', '-Command', $Command)
}

function Get-ModuleVersion {
    $props = [xml](Get-Content -Raw (Join-Path $root 'Directory.Build.props'))
    return $props.Project.PropertyGroup.VersionPrefix | Where-Object { $_ } | Select-Object -First 1
}

function Invoke-Build {
    Invoke-Native dotnet @('build', (Join-Path $root 'ImageTools.sln'), '-c', $Configuration, '--nologo')
}

function Invoke-Package {
    if (Test-Path $layout) { Remove-Item -Recurse -Force $layout }
    # The assemblies: ImageTools.Commands.dll at the root, the engine, YamlDotNet and the PowerShell 7
    # load context under dependencies/ (the publish layout is in ImageTools.Commands.csproj).
    Invoke-Native dotnet @('publish', (Join-Path $root 'src/ImageTools.Commands/ImageTools.Commands.csproj'),
        '-c', $Configuration, '-o', $layout, '--nologo')
    Copy-Item (Join-Path $root 'module/ImageTools.Format.ps1xml') $layout
    # Help is generated from the cmdlets' doc comments, the one source for code and Get-Help.
    Invoke-Native dotnet @('run', '-c', $Configuration, '--project', (Join-Path $root 'src/ImageTools.HelpGenerator'), '--',
        (Join-Path $layout 'en-US/ImageTools.Commands.dll-Help.xml'))
    $version = Get-ModuleVersion
    (Get-Content -Raw (Join-Path $root 'module/ImageTools.psd1')) -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion        = '$version'" |
        Set-Content -NoNewline -Encoding utf8 (Join-Path $layout 'ImageTools.psd1')
    Write-Host "Module laid out at $layout (version $version)"
}

function Invoke-Test {
    Invoke-Native dotnet @('test', (Join-Path $root 'ImageTools.sln'), '-c', $Configuration, '--nologo',
        '--logger', "trx;LogFilePrefix=xunit", '--results-directory', $results)
    Invoke-Package
    $pester = Get-Module -ListAvailable Pester | Where-Object Version -ge '5.0.0' | Sort-Object Version -Descending | Select-Object -First 1
    if (-not $pester) {
        Write-Warning 'Pester 5 is not installed here: the Pester files under tests/ were not run. Install-Module Pester -MinimumVersion 5.0 to run them.'
        return
    }
    New-Item -ItemType Directory -Force $results | Out-Null
    $testsDir = Join-Path $root 'tests'
    $resultFile = Join-Path $results 'pester.xml'
    Invoke-ChildPowerShell @"
Import-Module Pester -MinimumVersion 5.0
`$config = New-PesterConfiguration
`$config.Run.Path = '$testsDir'
`$config.Run.Exit = `$true
`$config.Output.Verbosity = 'Detailed'
`$config.TestResult.Enabled = `$true
`$config.TestResult.OutputPath = '$resultFile'
Invoke-Pester -Configuration `$config
"@
}

function Invoke-Example {
    Invoke-Package
    $examples = Join-Path $root 'examples'
    # The main job: what is stale, rebuilt in dependency order, verified, published. The examples
    # have no registry, so the local engine is the record and publishing goes to an archive.
    $archive = Join-Path $root 'out/example-archive'
    Invoke-ChildPowerShell @"
Import-Module '$layout/ImageTools.psd1'
Get-ImageGraph -Path '$examples' -Format Mermaid | Write-Host
`$results = Get-ImageGraph -Path '$examples' | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | Invoke-ImageBuild -Verbose
if (-not `$results) { Write-Host 'Nothing is stale: every image is built from its current inputs.' }
`$results | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
if (`$results | Where-Object Status -in 'Failed', 'Skipped') { exit 1 }
`$results | Publish-Image -ArchivePath '$archive' | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
Get-ImageGraph -Path '$examples' | Test-ImageNeedsRebuild | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
"@
}

function Invoke-Benchmark {
    Invoke-Native dotnet @('run', '-c', 'Release', '--project', (Join-Path $root 'tests/ImageTools.Benchmarks'), '--', 'graph')
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Package' { Invoke-Package }
    'Test' { Invoke-Test }
    'Example' { Invoke-Example }
    'Benchmark' { Invoke-Benchmark }
}
