# Shared by the *.Tests.ps1 files (dot-source it in BeforeDiscovery and BeforeAll); Pester does not
# run it on its own.

# The one "are services promised?" rule, the same as the xunit side's: CI or TF_BUILD set to anything
# but empty, 'false' or '0' (any case), or IMAGETOOLS_TEST_DOCKER_HOST set. Where services are
# promised a missing engine or registry fails the run; elsewhere those tests skip with the reason.
function Test-ServicesPromised {
    foreach ($flag in $env:CI, $env:TF_BUILD) {
        if ($flag -and $flag.Trim() -notin @('false', '0')) { return $true }
    }
    return [bool] $env:IMAGETOOLS_TEST_DOCKER_HOST
}

# Whether this host's docker CLI reaches an engine holding busybox:1.36, the base the Docker tests
# build on (tests/services/start.sh seeds one). Without one the tests are skipped with a warning
# saying why, unless services are promised: then the run fails instead of skipping quietly.
function Test-DockerEngine {
    $problem = if (-not (Get-Command docker -ErrorAction SilentlyContinue)) {
        'the docker CLI is not on PATH'
    } else {
        docker image inspect busybox:1.36 *> $null
        if ($LASTEXITCODE -ne 0) { "the engine docker talks to (DOCKER_HOST='$env:DOCKER_HOST') is unreachable or has no busybox:1.36" }
    }
    if (-not $problem) { return $true }
    if (Test-ServicesPromised) {
        throw "These tests need Docker, and this host promises it (CI, TF_BUILD or IMAGETOOLS_TEST_DOCKER_HOST), but $problem. Start one with tests/services/start.sh."
    }
    Write-Warning "Skipping the tests that need Docker: $problem."
    return $false
}

# Whether a test registry (IMAGETOOLS_TEST_REGISTRY, host:port on loopback) is there. Promised
# services without it fail the run; otherwise the registry tests skip with a warning.
function Test-TestRegistry {
    $registry = $env:IMAGETOOLS_TEST_REGISTRY
    $problem = if (-not $registry) { 'IMAGETOOLS_TEST_REGISTRY is not set' } else {
        try { $null = Invoke-WebRequest -Uri "http://$registry/v2/" -TimeoutSec 10 -UseBasicParsing; $null }
        catch { "the registry at $registry does not answer ($($_.Exception.Message))" }
    }
    if (-not $problem) { return $true }
    if (Test-ServicesPromised) {
        throw "These tests need a registry, and this host promises services (CI, TF_BUILD or IMAGETOOLS_TEST_DOCKER_HOST), but $problem. Start one with tests/services/start.sh."
    }
    Write-Warning "Skipping the tests that need a registry: $problem."
    return $false
}

# The manifest of the module as build.ps1 lays it out, the way users load it.
function Get-LaidOutManifest {
    $manifest = Join-Path $PSScriptRoot '../out/ImageTools/ImageTools.psd1'
    if (-not (Test-Path $manifest)) { throw "Lay out the module first: ./build.ps1 -Task Package ($manifest is missing)" }
    (Resolve-Path $manifest).ProviderPath
}

function Import-LaidOutModule {
    Import-Module (Get-LaidOutManifest) -Force -PassThru
}

# build.ps1's own helpers, taken from its syntax tree (running the script would run a task), so the
# tests start a child PowerShell (Get-PowerShellStartCommand: `dotnet …/pwsh.dll` under the dotnet
# tool, else the host's executable) and quote literals (ConvertTo-Literal) exactly as the build does.
. ([scriptblock]::Create((& {
    $script = (Resolve-Path (Join-Path $PSScriptRoot '../build.ps1')).ProviderPath
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($script, [ref]$null, [ref]$null)
    $wanted = 'Get-PowerShellStartCommand', 'ConvertTo-Literal'
    ($ast.FindAll({ param($node) $node -is [System.Management.Automation.Language.FunctionDefinitionAst] -and $node.Name -in $wanted }, $true) |
        ForEach-Object { $_.Extent.Text }) -join "`n"
})))

# Runs $Script in a fresh child PowerShell with the laid-out module imported and returns what the
# child wrote to its stdout and stderr (the host's output; a logging command or a stray Console write
# lands there). $Environment adds variables for the child only. Bounded: a child still running after
# $TimeoutSec is killed and the test fails, so no prompt can ever wait.
function Invoke-ChildPowerShell {
    param([string] $Script, [hashtable] $Environment = @{}, [string] $InputText, [int] $TimeoutSec = 300)
    $shell = Get-PowerShellStartCommand
    $file = Join-Path ([IO.Path]::GetTempPath()) ("imagetools-child-" + [guid]::NewGuid().ToString('N') + '.ps1')
    Set-Content -Path $file -Encoding utf8 -Value ("`$ErrorActionPreference = 'Stop'`nImport-Module $(ConvertTo-Literal (Get-LaidOutManifest))`n" + $Script)
    $start = [Diagnostics.ProcessStartInfo]::new($shell[0])
    $arguments = @($shell | Select-Object -Skip 1) + @('-NoProfile') + $(if ($null -eq $InputText) { @('-NonInteractive') } else { @() }) + @('-File', $file)
    if ($start.PSObject.Properties['ArgumentList']) { foreach ($argument in $arguments) { $start.ArgumentList.Add($argument) } }
    else { $start.Arguments = ($arguments | ForEach-Object { '"' + ($_ -replace '"', '\"') + '"' }) -join ' ' }  # .NET Framework (Windows PowerShell 5.1)
    $start.UseShellExecute = $false
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $start.RedirectStandardInput = $true
    foreach ($key in $Environment.Keys) { $start.Environment[$key] = [string] $Environment[$key] }
    try {
        $process = [Diagnostics.Process]::Start($start)
        $stdout = $process.StandardOutput.ReadToEndAsync()
        $stderr = $process.StandardError.ReadToEndAsync()
        if ($null -ne $InputText) { $process.StandardInput.Write($InputText) }
        $process.StandardInput.Close()
        if (-not $process.WaitForExit($TimeoutSec * 1000)) {
            if ($PSVersionTable.PSEdition -eq 'Core') { $process.Kill($true) } else { $process.Kill() }
            throw "The child PowerShell did not finish within $TimeoutSec s (a prompt waiting?): $Script"
        }
        $process.WaitForExit()
        [pscustomobject]@{ ExitCode = $process.ExitCode; Output = $stdout.Result; Error = $stderr.Result }
    }
    finally {
        Remove-Item -LiteralPath $file -ErrorAction SilentlyContinue
    }
}

# Writes an image directory: a Dockerfile and any further files (name => text).
function New-TestImage {
    param([string] $Root, [string] $Directory, [string] $Dockerfile, [hashtable] $Files = @{})
    $path = Join-Path $Root $Directory
    New-Item -ItemType Directory -Force $path | Out-Null
    Set-Content -NoNewline -Path (Join-Path $path 'Dockerfile') -Value $Dockerfile
    foreach ($name in $Files.Keys) { Set-Content -NoNewline -Path (Join-Path $path $name) -Value $Files[$name] }
}

# A short unique prefix for image names, so that tests never meet each other's images.
function New-TestId([string] $Prefix) { $Prefix + [guid]::NewGuid().ToString('N').Substring(0, 8) }

# Removes every local tag whose repository contains $Prefix, and every other tag pointing at the same
# image ids (children build FROM plain names, so a build also tags those onto the run's images).
function Remove-TestImages([string] $Prefix) {
    $lines = @(docker image ls --format '{{.Repository}}:{{.Tag}} {{.ID}}')
    $ours = $lines | Where-Object { ($_ -split ' ')[0] -like "*$Prefix*" } | ForEach-Object { ($_ -split ' ')[1] }
    foreach ($line in $lines) {
        $tag, $id = $line -split ' '
        if ($ours -contains $id -and $tag -notlike 'busybox:*' -and $tag -notlike '*:<none>') { docker image rm $tag *> $null }
    }
    # A pushed tag that was moved away leaves its repository digest behind on the image (shown as
    # <none>); it is removed by digest.
    docker image ls --digests --format '{{.Repository}}@{{.Digest}}' | Where-Object { $_ -like "*$Prefix*" -and $_ -notlike '*@<none>' } |
        ForEach-Object { docker image rm $_ *> $null }
}

# Local tags whose repository contains $Prefix.
function Get-TestImageTags([string] $Prefix) {
    @(docker image ls --format '{{.Repository}}:{{.Tag}}' | Where-Object { $_ -like "*$Prefix*" })
}

# Waits until $Condition is true, polling; returns whether it became true within $TimeoutSec.
function Wait-Until([scriptblock] $Condition, [int] $TimeoutSec = 60, [int] $IntervalMs = 250) {
    $deadline = [datetime]::UtcNow.AddSeconds($TimeoutSec)
    do {
        if (& $Condition) { return $true }
        Start-Sleep -Milliseconds $IntervalMs
    } while ([datetime]::UtcNow -lt $deadline)
    return [bool] (& $Condition)
}

# Points the temp folder (TMPDIR, TMP, TEMP: what [IO.Path]::GetTempPath reads) of this process and
# its children into $Root, so that build logs a run writes without -LogPath go away with the test
# drive. Restore-TempDirectory puts the previous values back.
function Use-TempDirectory([string] $Root) {
    $script:savedTemp = @{}
    $path = (New-Item -ItemType Directory -Force (Join-Path $Root 'tmp')).FullName
    foreach ($name in 'TMPDIR', 'TMP', 'TEMP') {
        $script:savedTemp[$name] = [Environment]::GetEnvironmentVariable($name)
        [Environment]::SetEnvironmentVariable($name, $path)
    }
}

function Restore-TempDirectory {
    if (-not (Get-Variable -Scope Script -Name savedTemp -ErrorAction SilentlyContinue)) { return }
    foreach ($name in $script:savedTemp.Keys) { [Environment]::SetEnvironmentVariable($name, $script:savedTemp[$name]) }
}

# A loopback proxy in front of the registry at $Upstream that forwards every request, except that it holds the
# $Occurrence-th request whose method is one of $Method and whose path matches $PathPattern: it writes the file
# 'holding' in $Signals, waits until the file 'release' appears there, then drops that request. The fault tests
# use it to kill a run at a known point (during an upload, between two tag moves). Stop it with Stop-HoldingProxy.
function Start-HoldingProxy {
    param([string] $Upstream, [string] $Signals, [string[]] $Method, [string] $PathPattern, [int] $Occurrence = 1)
    $listener = [System.Net.HttpListener]::new()
    $port = Get-Random -Minimum 20000 -Maximum 60000
    $listener.Prefixes.Add("http://127.0.0.1:$port/")
    $listener.Start()
    $proxy = [powershell]::Create().AddScript({
        param($Listener, $Upstream, $Signals, $Method, $PathPattern, $Occurrence)
        $client = [System.Net.Http.HttpClient]::new([System.Net.Http.HttpClientHandler]@{ AllowAutoRedirect = $false })
        $seen = 0
        while ($Listener.IsListening) {
            try { $context = $Listener.GetContext() } catch { break }
            $request = $context.Request
            if ($request.HttpMethod -in $Method -and $request.Url.AbsolutePath -match $PathPattern -and ++$seen -eq $Occurrence) {
                Set-Content (Join-Path $Signals 'holding') $request.Url.AbsolutePath
                while (-not (Test-Path (Join-Path $Signals 'release'))) { Start-Sleep -Milliseconds 50 }
                $context.Response.Abort()
                continue
            }
            $message = [System.Net.Http.HttpRequestMessage]::new([System.Net.Http.HttpMethod]::new($request.HttpMethod), "http://$Upstream$($request.Url.PathAndQuery)")
            if ($request.HasEntityBody) {
                $body = [IO.MemoryStream]::new()
                $request.InputStream.CopyTo($body)
                $message.Content = [System.Net.Http.ByteArrayContent]::new($body.ToArray())
                if ($request.ContentType) { $null = $message.Content.Headers.TryAddWithoutValidation('Content-Type', $request.ContentType) }
            }
            foreach ($name in 'Accept', 'Authorization') {
                if ($request.Headers[$name]) { $null = $message.Headers.TryAddWithoutValidation($name, $request.Headers.GetValues($name)) }
            }
            try {
                $answer = $client.SendAsync($message).GetAwaiter().GetResult()
                $bytes = $answer.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult()
                $response = $context.Response
                $response.StatusCode = [int] $answer.StatusCode
                foreach ($header in @($answer.Headers) + @($answer.Content.Headers)) {
                    if ($header.Key -eq 'Content-Type') { $response.ContentType = $header.Value -join ',' }
                    elseif ($header.Key -eq 'Location') { $response.RedirectLocation = ($header.Value -join ',') -replace [regex]::Escape($Upstream), $request.Url.Authority }
                    elseif ($header.Key -notin 'Content-Length', 'Transfer-Encoding', 'Connection', 'Date', 'Server') {
                        try { $response.Headers[$header.Key] = $header.Value -join ',' } catch { }
                    }
                }
                $length = if ($request.HttpMethod -eq 'HEAD') { $answer.Content.Headers.ContentLength } else { $bytes.Length }
                if ($null -ne $length) { $response.ContentLength64 = $length }
                if ($request.HttpMethod -ne 'HEAD') { $response.OutputStream.Write($bytes, 0, $bytes.Length) }
                $response.Close()
            }
            catch { try { $context.Response.Abort() } catch { } }
        }
    }).AddArgument($listener).AddArgument($Upstream).AddArgument($Signals).AddArgument($Method).AddArgument($PathPattern).AddArgument($Occurrence)
    [pscustomobject]@{ Port = $port; Listener = $listener; Shell = $proxy; Run = $proxy.BeginInvoke() }
}

function Stop-HoldingProxy($Proxy) {
    $Proxy.Listener.Stop()
    $Proxy.Listener.Close()
    $null = $Proxy.Run.AsyncWaitHandle.WaitOne(10000)
    $Proxy.Shell.Dispose()
}
