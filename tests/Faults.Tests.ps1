#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Issue 18's faults played as a user meets them (docs/reliability.md, section 6 and 7): an engine of
# the test's own killed in the middle of a build; a child PowerShell running the pipeline killed
# with SIGKILL (no finally block runs) during a build, between build and tag, during the uploads and
# during an archive write; two processes publishing one tree to one registry at once. After each:
# what the user saw, that no registry tag names an image that is not whole there, that no file is
# half-written (archive tar, listing and records, the stat cache, the config cache), that no docker
# process or container of the run is left, and that a plain rerun finishes without rebuilding.
# Needs the test engine and registry (tests/services/start.sh), and dockerd on PATH for the first.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $script:noDocker = -not (Test-DockerEngine)
    $script:noRegistry = $noDocker -or -not (Test-TestRegistry)
    $script:noDockerd = -not (Get-Command dockerd -ErrorAction SilentlyContinue) -or $IsWindows
    if ($noDockerd -and -not $noDocker -and (Test-ServicesPromised) -and -not $IsWindows) { throw 'The engine fault test starts a dockerd of its own, which is not on PATH.' }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $null = Import-LaidOutModule
    Use-TempDirectory $TestDrive
    $registry = $env:IMAGETOOLS_TEST_REGISTRY

    # A child PowerShell running $Script with the laid-out module, started and left running: the
    # test kills it. Its stdout is read as it comes (lines the script writes with RESULT/ERROR).
    function Start-Child([string] $Script, [hashtable] $Environment = @{}) {
        $shell = Get-PowerShellStartCommand
        $file = Join-Path $TestDrive ("child-" + [guid]::NewGuid().ToString('N') + '.ps1')
        Set-Content -Path $file -Encoding utf8 -Value ("`$ErrorActionPreference = 'Continue'`nImport-Module $(ConvertTo-Literal (Get-LaidOutManifest))`n" + $Script)
        $start = [Diagnostics.ProcessStartInfo]::new($shell[0])
        foreach ($argument in @($shell | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $file)) { $start.ArgumentList.Add($argument) }
        $start.UseShellExecute = $false
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        foreach ($key in $Environment.Keys) { $start.Environment[$key] = [string] $Environment[$key] }
        $process = [Diagnostics.Process]::Start($start)
        [pscustomobject]@{ Process = $process; Output = $process.StandardOutput.ReadToEndAsync(); Error = $process.StandardError.ReadToEndAsync() }
    }

    # What a pipeline writes, one line per result and per error, for a child to print.
    $report = @'
| ForEach-Object { [Console]::Out.WriteLine("RESULT $($_.Name) $($_.Status) $($_.ImageId)$($_.Digest)"); [Console]::Out.Flush() }
$failures | ForEach-Object { [Console]::Out.WriteLine("ERROR $($_.FullyQualifiedErrorId) $($_.Exception.Message -replace '\s+', ' ')") }
'@

    # SIGKILL of the child PowerShell alone (not its process tree): what `kill -9 PID` does.
    function Stop-Hard($Child) {
        $Child.Process.Kill()
        $null = $Child.Process.WaitForExit(30000)
        $Child.Process.HasExited | Should -BeTrue
    }

    function Get-Lines($Child, [string] $Kind) { @($Child.Output.Result -split '\r?\n' | Where-Object { $_ -like "$Kind *" } | ForEach-Object { $_.Substring($Kind.Length + 1) }) }

    # The docker CLI processes a run started for a tree (their arguments name a path under it), and the engine's running commands.
    function Get-DockerProcesses([string] $Under) {
        @(Get-Process -ErrorAction SilentlyContinue | Where-Object { $_.Id -ne $PID -and $_.ProcessName -like 'docker*' -and "$($_.CommandLine)" -like "*$Under*" })
    }
    function Get-RunningCommands([string] $DockerHost) {
        if ($DockerHost) { @(docker -H $DockerHost ps --no-trunc --format '{{.Command}}') } else { @(docker ps --no-trunc --format '{{.Command}}') }
    }

    function Get-RegistryTags([string] $Repository) {
        try { @((Invoke-RestMethod "http://$registry/v2/$Repository/tags/list").tags | Where-Object { $_ } | Sort-Object) }
        catch { @() }
    }

    # Every tag of the repository names a manifest whose config and layers are all in the registry:
    # returns the tag => config digest of each, and fails the test on a tag whose image is not whole.
    function Get-WholeTags([string] $Repository) {
        $headers = @{ Accept = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' }
        $tags = @{}
        foreach ($tag in Get-RegistryTags $Repository) {
            $manifest = Invoke-RestMethod -Headers $headers "http://$registry/v2/$Repository/manifests/$tag"
            foreach ($blob in @($manifest.config) + @($manifest.layers)) {
                $answer = Invoke-WebRequest -Method Head -SkipHttpErrorCheck "http://$registry/v2/$Repository/blobs/$($blob.digest)"
                $answer.StatusCode | Should -Be 200 -Because "$Repository`:$tag names $($blob.digest), which must be in the registry"
            }
            $tags[$tag] = $manifest.config.digest
        }
        $tags
    }

    # The stat cache and config cache under XDG_CACHE_HOME are whole: the stat cache has its header
    # and whole lines, every cached config matches the digest it is stored under, no temporary file.
    function Assert-CachesWhole([string] $CacheHome) {
        $root = Join-Path $CacheHome 'imagetools'
        if (-not (Test-Path $root)) { return }
        @(Get-ChildItem -Recurse -File $root | Where-Object { $_.Name -match '\.tmp-|\.tmp$' }) | Should -BeNullOrEmpty -Because 'no cache write is left half-done'
        $hashes = Join-Path $root 'file-hashes'
        if (Test-Path $hashes) {
            $text = Get-Content -Raw $hashes
            $text | Should -Match '\n$' -Because 'the stat cache ends with a whole line'
            foreach ($line in @($text -split '\n' | Select-Object -Skip 1 | Where-Object { $_ })) { ($line -split "`t").Count | Should -Be 4 }
        }
        foreach ($config in Get-ChildItem -Recurse -File (Join-Path $root 'configs') -ErrorAction SilentlyContinue) {
            $hash = (Get-FileHash -Algorithm SHA256 $config.FullName).Hash.ToLowerInvariant()
            $hash | Should -Be $config.Name -Because 'a cached config holds exactly its digest'
        }
    }
}

AfterAll {
    Restore-TempDirectory
    Remove-Module ImageTools -ErrorAction SilentlyContinue
}

Describe 'An engine that dies in the middle of a build' -Skip:($noDocker -or $noDockerd) {
    BeforeAll {
        $id = New-TestId 'fe'
        # A dockerd of the test's own (own data root, exec root, pidfile, socket), seeded with busybox:1.36.
        $state = Join-Path '/tmp' ('itk-' + [guid]::NewGuid().ToString('N').Substring(0, 8))   # a unix socket path has a limit of about 100 bytes
        New-Item -ItemType Directory $state | Out-Null
        $engineHost = "unix://$state/docker.sock"
        $arguments = '--data-root', "$state/data", '--exec-root', "$state/exec", '--pidfile', "$state/dockerd.pid", '--storage-driver', 'vfs',
            '--iptables=false', '--ip-masq=false', '--bridge=none', '-H', $engineHost, '--log-level', 'warn'
        function Start-Engine {
            $daemon = Start-Process dockerd -ArgumentList $arguments -PassThru -RedirectStandardOutput "$state/dockerd.out" -RedirectStandardError "$state/dockerd.err"
            $up = Wait-Until { docker -H $engineHost version *> $null; $LASTEXITCODE -eq 0 } -TimeoutSec 60
            if (-not $up) { throw "The test's dockerd did not answer within 60 s: $(Get-Content -Raw "$state/dockerd.err")" }
            $daemon
        }
        $script:daemon = Start-Engine
        docker save --output "$state/busybox.tar" busybox:1.36
        docker -H $engineHost load --input "$state/busybox.tar" *> $null
        Remove-Item "$state/busybox.tar"
    }

    AfterAll {
        if ($daemon -and -not $daemon.HasExited) { kill -TERM $daemon.Id; $null = $daemon.WaitForExit(30000) }
        # dockerd leaves the containerd it started behind when it is killed; stop that one too.
        $containerd = "$state/exec/containerd/containerd.pid"
        if (Test-Path $containerd) { kill -TERM (Get-Content $containerd) 2>$null }
        Start-Sleep -Seconds 1
        # The shim of the build container the killed engine was running outlives both.
        Get-Process -ErrorAction SilentlyContinue | Where-Object { "$($_.CommandLine)" -like "*$state/*" } | ForEach-Object { kill -TERM $_.Id 2>$null }
        # A dockerd that was killed leaves its data root mounted on itself.
        if ((Get-Content /proc/mounts) -match [regex]::Escape("$state/data ")) { umount "$state/data" 2>$null }
        # rm, not Remove-Item: the vfs layers hold entries Remove-Item gives up on.
        $null = Wait-Until { rm -rf $state 2>$null; -not (Test-Path $state) } -TimeoutSec 30 -IntervalMs 1000
    }

    It 'fails the image being built with EngineUnavailable naming the engine and its socket, tags nothing, and a rerun after the restart builds only what was not built' {
        $tree = Join-Path $TestDrive $id
        New-TestImage $tree 'first' "FROM busybox:1.36`nRUN echo $id > /first`n" -Files @{ 'image.yaml' = "name: $id-first`n" }
        New-TestImage $tree 'second' "FROM $id-first`nRUN sleep 6 && echo $id-slow > /second`n" -Files @{ 'image.yaml' = "name: $id-second`n" }
        New-TestImage $tree 'third' "FROM $id-second`n" -Files @{ 'image.yaml' = "name: $id-third`n" }
        $pipeline = "Get-ImageGraph $(ConvertTo-Literal $tree) | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | Invoke-ImageBuild -ErrorVariable failures 2>`$null`n"

        $child = Start-Child ($pipeline + $report) -Environment @{ DOCKER_HOST = $engineHost }
        Wait-Until { (Get-RunningCommands $engineHost) -match "sleep 6 && echo $id-slow" } -TimeoutSec 180 | Should -BeTrue -Because 'the second build is in its RUN step'
        # SIGKILL of the whole engine, as on an OOM kill or a crash: dockerd, and the containerd it started
        # (which a dockerd started again would otherwise wait on).
        $daemon.Kill()
        $containerd = "$state/exec/containerd/containerd.pid"
        if (Test-Path $containerd) {
            kill -KILL (Get-Content $containerd) 2>$null
            # Killed, it may stay a zombie here (nothing reaps it), which a dockerd started again takes for a
            # live containerd and waits on: drop its pidfile so that the new dockerd starts its own.
            Start-Sleep -Milliseconds 500
            Remove-Item $containerd
        }
        $child.Process.WaitForExit(120000) | Should -BeTrue -Because 'the run ends when its engine is gone'

        $results = Get-Lines $child 'RESULT'
        $errors = Get-Lines $child 'ERROR'
        $results | Where-Object { $_ -like "$id-first Built *" } | Should -HaveCount 1
        $firstId = (($results | Where-Object { $_ -like "$id-first *" }) -split ' ')[2]
        $results | Where-Object { $_ -like "$id-second Failed*" } | Should -HaveCount 1
        $results | Where-Object { $_ -like "$id-third Skipped*" } | Should -HaveCount 1
        $engineError = @($errors | Where-Object { $_ -like 'EngineUnavailable,*' })
        $engineError | Should -HaveCount 1 -Because "the engine, not the build, failed: $($errors -join ' | ')"
        $engineError[0] | Should -BeLike "*Docker engine*$engineHost*"

        $script:daemon = Start-Engine
        docker -H $engineHost image inspect "$id-second" *> $null
        $LASTEXITCODE | Should -Not -Be 0 -Because 'no tag points at a build that did not finish'
        (docker -H $engineHost image inspect --format '{{.Id}}' "$id-first") | Should -Be $firstId

        $rerun = Invoke-ChildPowerShell -Environment @{ DOCKER_HOST = $engineHost } -Script ("`$ErrorActionPreference = 'Continue'`n" + $pipeline + $report)
        $rerunResults = @($rerun.Output -split '\r?\n' | Where-Object { $_ -like 'RESULT *' })
        $rerunResults | Where-Object { $_ -like "RESULT $id-first *" } | Should -BeNullOrEmpty -Because 'what was built is not built again'
        $rerunResults | Where-Object { $_ -like "RESULT $id-second Built *" } | Should -HaveCount 1
        $rerunResults | Where-Object { $_ -like "RESULT $id-third Built *" } | Should -HaveCount 1
        (docker -H $engineHost image inspect --format '{{.Id}}' "$id-first") | Should -Be $firstId
    }
}

Describe 'A run killed with SIGKILL' -Skip:$noRegistry {
    BeforeAll {
        $id = New-TestId 'fk'
        $cacheHome = Join-Path $TestDrive 'cache'
        $childEnvironment = @{ XDG_CACHE_HOME = $cacheHome }
    }

    AfterAll { Remove-TestImages $id }

    It 'during a build: no tag, no docker process or build container left, and a rerun builds only what was not built' {
        $tree = Join-Path $TestDrive "$id-build"
        New-TestImage $tree 'first' "FROM busybox:1.36`nRUN echo $id > /first`n" -Files @{ 'image.yaml' = "name: $id-b1`n" }
        New-TestImage $tree 'second' "FROM $id-b1`nRUN sleep 8 && echo $id-b2 > /second`n" -Files @{ 'image.yaml' = "name: $id-b2`n" }
        $pipeline = "Get-ImageGraph $(ConvertTo-Literal $tree) | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | Invoke-ImageBuild -ErrorVariable failures 2>`$null`n"

        $child = Start-Child ($pipeline + $report) -Environment $childEnvironment
        Wait-Until { (Get-RunningCommands) -match "sleep 8 && echo $id-b2" } -TimeoutSec 180 | Should -BeTrue -Because 'the second build is in its RUN step'
        $firstId = docker image inspect --format '{{.Id}}' "$id-b1"
        Stop-Hard $child

        # The orphaned docker CLI dies at its next output line (its stdout was the killed process's pipe);
        # the engine then drops the build.
        Wait-Until { (Get-DockerProcesses $tree).Count -eq 0 -and -not ((Get-RunningCommands) -match "sleep 8 && echo $id-b2") } -TimeoutSec 60 |
            Should -BeTrue -Because 'no docker process or build container of the killed run is left'
        Get-TestImageTags "$id-b2" | Should -BeNullOrEmpty -Because 'no tag points at a build that did not finish'
        Assert-CachesWhole $cacheHome

        $rerun = Invoke-ChildPowerShell -Environment $childEnvironment -Script ("`$ErrorActionPreference = 'Continue'`n" + $pipeline + $report)
        $lines = @($rerun.Output -split '\r?\n' | Where-Object { $_ -like 'RESULT *' })
        $lines | Where-Object { $_ -like "RESULT $id-b1 *" } | Should -BeNullOrEmpty -Because "what was built is not built again: $($rerun.Output)"
        $lines | Where-Object { $_ -like "RESULT $id-b2 Built *" } | Should -HaveCount 1
        docker image inspect --format '{{.Id}}' "$id-b1" | Should -Be $firstId
        Assert-CachesWhole $cacheHome
    }

    It 'between build and tag (during the verification): the built image carries no tag, and a rerun tags it after verifying' {
        $tree = Join-Path $TestDrive "$id-verify"
        $signals = Join-Path $TestDrive "$id-signals"
        New-Item -ItemType Directory $signals | Out-Null
        # test.sh runs on the host after the build and before any tag: it says it started and waits for the test.
        $test = "#!/bin/sh`necho started > '$signals/verifying'`nfor i in `$(seq 1 240); do [ -e '$signals/release' ] && exit 0; sleep 0.25; done`nexit 0`n"
        New-TestImage $tree 'img' "FROM busybox:1.36`nRUN echo $id-v > /v`n" -Files @{ 'image.yaml' = "name: $id-v`n"; 'test.sh' = $test }
        chmod +x (Join-Path $tree 'img/test.sh')
        $pipeline = "Get-ImageGraph $(ConvertTo-Literal $tree) | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | Invoke-ImageBuild -ErrorVariable failures 2>`$null`n"

        $child = Start-Child ($pipeline + $report) -Environment $childEnvironment
        Wait-Until { Test-Path "$signals/verifying" } -TimeoutSec 180 | Should -BeTrue -Because 'the image is built and being verified'
        Stop-Hard $child
        New-Item "$signals/release" | Out-Null

        Get-TestImageTags "$id-v" | Should -BeNullOrEmpty -Because 'an image is tagged only after it passed'
        Wait-Until { (Get-DockerProcesses $tree).Count -eq 0 } -TimeoutSec 30 | Should -BeTrue
        Assert-CachesWhole $cacheHome

        Remove-Item "$signals/verifying"
        $rerun = Invoke-ChildPowerShell -Environment $childEnvironment -Script ("`$ErrorActionPreference = 'Continue'`n" + $pipeline + $report)
        @($rerun.Output -split '\r?\n' | Where-Object { $_ -like "RESULT $id-v Built *" }) | Should -HaveCount 1 -Because $rerun.Output
        Test-Path "$signals/verifying" | Should -BeTrue -Because 'the rerun verified before tagging'
        Get-TestImageTags "$id-v" | Should -Be @("$id-v`:latest")
    }
}

Describe 'A publish killed with SIGKILL' -Skip:$noRegistry {
    BeforeAll {
        $id = New-TestId 'fu'
        $cacheHome = Join-Path $TestDrive 'cache-publish'
        $childEnvironment = @{ XDG_CACHE_HOME = $cacheHome }
    }

    AfterAll { Remove-TestImages $id }

    It 'during the uploads: no tag moved anywhere, and a rerun publishes every image as built, each tag whole' {
        $signals = Join-Path $TestDrive "$id-signals"
        New-Item -ItemType Directory $signals | Out-Null
        $proxy = Start-HoldingProxy -Upstream $registry -Signals $signals -Method 'PATCH', 'PUT' -PathPattern '/blobs/uploads/'
        try {
            $ns = New-TestId 'ns'
            $tree = Join-Path $TestDrive "$id-tree"
            Set-Content (New-Item -Force (Join-Path $tree 'imagetools.yaml')) "registry: 127.0.0.1:$($proxy.Port)`nnamespace: $ns`n"
            New-TestImage $tree 'a' "FROM busybox:1.36`nRUN echo $id-a > /a`n" -Files @{ 'image.yaml' = "name: $id-a`nversion: '1.0'`n" }
            New-TestImage $tree 'b' "FROM $id-a`nRUN echo $id-b > /b`n" -Files @{ 'image.yaml' = "name: $id-b`nversion: '2.0'`n" }
            $pipeline = "Get-ImageGraph $(ConvertTo-Literal $tree) | Invoke-ImageBuild | Publish-Image -ErrorVariable failures 2>`$null`n"

            $child = Start-Child ($pipeline + $report) -Environment $childEnvironment
            Wait-Until { (Test-Path "$signals/holding") -or $child.Process.HasExited } -TimeoutSec 240 | Should -BeTrue
            $child.Process.HasExited | Should -BeFalse -Because 'the child must still be uploading when it is killed'
            Stop-Hard $child
            New-Item "$signals/release" | Out-Null

            foreach ($name in "$id-a", "$id-b") { Get-RegistryTags "$ns/$name" | Should -BeNullOrEmpty -Because 'no tag moves before every image is uploaded' }
            Assert-CachesWhole $cacheHome
            $built = @{}
            foreach ($node in Get-ImageGraph $tree) { $built[$node.Name] = docker image inspect --format '{{.Id}}' $node.Reference }

            $rerun = Invoke-ChildPowerShell -Environment $childEnvironment -Script ("`$ErrorActionPreference = 'Continue'`nGet-ImageGraph $(ConvertTo-Literal $tree) | Publish-Image -ErrorVariable failures 2>`$null`n" + $report)
            $lines = @($rerun.Output -split '\r?\n' | Where-Object { $_ -like 'RESULT *' -or $_ -like 'ERROR *' })
            $lines | Should -HaveCount 2 -Because $rerun.Output
            $lines | ForEach-Object { $_ | Should -Match '^RESULT \S+ Pushed ' }
            foreach ($name in "$id-a", "$id-b") {
                $tags = Get-WholeTags "$ns/$name"
                @($tags.Keys | Sort-Object) | Should -Be @($(if ($name -eq "$id-a") { '1.0' } else { '2.0' }), 'latest')
                foreach ($tag in $tags.Keys) { $tags[$tag] | Should -Be $built[$name] -Because 'the rerun published what was built, not a rebuild' }
            }
            Assert-CachesWhole $cacheHome
        }
        finally {
            if (-not (Test-Path "$signals/release")) { New-Item "$signals/release" | Out-Null }
            Stop-HoldingProxy $proxy
        }
    }

    It 'during an archive write: no record, listing or tar is half-written, and a rerun archives the image whole, leaving no partial file' {
        $tree = Join-Path $TestDrive "$id-archive"
        # Big enough (150 MB) that the save is still being written when the test sees its partial file.
        New-TestImage $tree 'big' "FROM busybox:1.36`nRUN head -c 150000000 /dev/urandom > /blob`n" -Files @{ 'image.yaml' = "name: $id-big`nversion: '1.0'`n" }
        $built = Get-ImageGraph $tree | Invoke-ImageBuild
        $built.Status | Should -Be 'Built'
        $archive = Join-Path $TestDrive "$id-store"
        $pipeline = "Get-ImageGraph $(ConvertTo-Literal $tree) | Publish-Image -ArchivePath $(ConvertTo-Literal $archive) -ErrorVariable failures 2>`$null`n"

        $child = Start-Child ($pipeline + $report) -Environment $childEnvironment
        # A tight loop: the kill must land while the engine's stream is being written into the partial file.
        $deadline = [datetime]::UtcNow.AddSeconds(120)
        $writing = $false
        while (-not $writing -and -not $child.Process.HasExited -and [datetime]::UtcNow -lt $deadline) {
            $writing = [IO.Directory]::Exists($archive) -and @([IO.Directory]::GetFiles($archive, '*.partial-*') | Where-Object { ([IO.FileInfo] $_).Length -gt 0 }).Count -gt 0
            if ($writing) { $child.Process.Kill() } else { Start-Sleep -Milliseconds 5 }
        }
        $writing | Should -BeTrue -Because 'the child must still be writing the tar when it is killed'
        Stop-Hard $child

        $files = @(Get-ChildItem -Force $archive | ForEach-Object Name)
        $files | Where-Object { $_ -like '*.tar' -or $_ -like '*.tar.json' -or $_ -like '*.tmp-*' } | Should -BeNullOrEmpty -Because "only a partial file may be left: $($files -join ', ')"
        if (Test-Path "$archive/index.json") { @(Get-Content -Raw "$archive/index.json" | ConvertFrom-Json) | Where-Object name -eq "$id-big" | Should -BeNullOrEmpty }

        $rerun = Invoke-ChildPowerShell -Environment $childEnvironment -Script ("`$ErrorActionPreference = 'Continue'`n" + $pipeline + $report)
        @($rerun.Output -split '\r?\n' | Where-Object { $_ -like "RESULT $id-big Archived *" }) | Should -HaveCount 1 -Because $rerun.Output
        $files = @(Get-ChildItem -Force $archive | ForEach-Object Name)
        $files | Where-Object { $_ -like '*.partial-*' -or $_ -like '*.tmp-*' } | Should -BeNullOrEmpty -Because "the rerun removes what the killed run left: $($files -join ', ')"
        $entry = @(Get-Content -Raw "$archive/index.json" | ConvertFrom-Json) | Where-Object name -eq "$id-big"
        $entry | Should -HaveCount 1
        $tar = Join-Path $archive $entry.file
        (Get-Item $tar).Length | Should -Be $entry.size
        tar -tf $tar *> $null
        $LASTEXITCODE | Should -Be 0 -Because 'the archived tar is whole'
        Assert-CachesWhole $cacheHome
    }
}

Describe 'Two processes publishing one tree to one registry at once' -Skip:$noRegistry {
    BeforeAll {
        $id = New-TestId 'fc'
        $ns = New-TestId 'ns'
        $tree = Join-Path $TestDrive $id
        Set-Content (New-Item -Force (Join-Path $tree 'imagetools.yaml')) "registry: $registry`nnamespace: $ns`n"
        New-TestImage $tree 'a' "FROM busybox:1.36`nRUN echo $id-a > /a`n" -Files @{ 'image.yaml' = "name: $id-a`nversion: '1.0'`n" }
        New-TestImage $tree 'b' "FROM $id-a`nRUN echo $id-b > /b`n" -Files @{ 'image.yaml' = "name: $id-b`nversion: '1.0'`n" }
        New-TestImage $tree 'c' "FROM busybox:1.36`nRUN echo $id-c > /c`n" -Files @{ 'image.yaml' = "name: $id-c`nversion: '1.0'`ntags: [stable]`n" }
        $results = Get-ImageGraph $tree | Invoke-ImageBuild
        $built = @{}
        foreach ($result in $results) { $built[$result.Name] = $result.ImageId }
    }

    AfterAll { Remove-TestImages $id }

    It 'both end with every tag on the image built, each image Pushed or AlreadyPublished, and neither errs on the other''s work' {
        $script = "Get-ImageGraph $(ConvertTo-Literal $tree) | Publish-Image -ErrorVariable failures 2>`$null`n" + $report
        $children = 1..2 | ForEach-Object { Start-Child $script }
        foreach ($child in $children) { $child.Process.WaitForExit(240000) | Should -BeTrue }

        foreach ($child in $children) {
            Get-Lines $child 'ERROR' | Should -BeNullOrEmpty -Because "neither run errs on the other's work: $($child.Error.Result)"
            $lines = Get-Lines $child 'RESULT'
            $lines | Should -HaveCount 3 -Because $child.Output.Result
            $lines | ForEach-Object { $_ | Should -Match '^\S+ (Pushed|AlreadyPublished) ' }
        }
        $expected = @{ "$id-a" = @('1.0', 'latest'); "$id-b" = @('1.0', 'latest'); "$id-c" = @('1.0', 'latest', 'stable') }
        foreach ($name in $expected.Keys) {
            $tags = Get-WholeTags "$ns/$name"
            @($tags.Keys | Sort-Object) | Should -Be $expected[$name]
            foreach ($tag in $tags.Keys) { $tags[$tag] | Should -Be $built[$name] }
        }
    }
}

Describe 'Registry timeouts: -TimeoutSec, else registry_timeout, else 60 s' -Skip:$noDocker {
    BeforeAll {
        $id = New-TestId 'ft'
        # A registry that takes connections and never answers: a listener that never accepts (the
        # kernel completes the handshake into its backlog), so every attempt waits out the timeout.
        $silent = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $silent.Start(64)
        $port = $silent.LocalEndpoint.Port
        $tree = Join-Path $TestDrive $id
        Set-Content (New-Item -Force (Join-Path $tree 'imagetools.yaml')) "registry: 127.0.0.1:$port`nnamespace: $id`nregistry_timeout: 1`n"
        New-TestImage $tree 'parent' "FROM busybox:1.36`n" -Files @{ 'image.yaml' = "name: $id-parent`nversion: '1.0'`n" }
        New-TestImage $tree 'child' "FROM $id-parent`n" -Files @{ 'image.yaml' = "name: $id-child`nversion: '1.0'`n" }
    }

    AfterAll { $silent.Stop(); Remove-TestImages $id }

    It 'the rebuild check gives up after registry_timeout per attempt, naming it' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $thrown = { Test-ImageNeedsRebuild -Path $tree -ErrorAction Stop } | Should -Throw -PassThru
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 30
        $thrown.FullyQualifiedErrorId | Should -Be 'RegistryTimeout,ImageTools.Commands.TestImageNeedsRebuildCommand'
        $thrown.Exception.Message | Should -BeLike "*127.0.0.1:$port did not answer*within 1 s*"
    }

    It '-TimeoutSec wins over registry_timeout' {
        $thrown = { Test-ImageNeedsRebuild -Path $tree -TimeoutSec 2 -ErrorAction Stop } | Should -Throw -PassThru
        $thrown.Exception.Message | Should -BeLike '*within 2 s*'
    }

    It 'Invoke-ImageBuild -TimeoutSec bounds the look-up of a parent it does not build' {
        $results = Invoke-ImageBuild -Path $tree -Name "$id-child" -TimeoutSec 2 -ErrorVariable problems -ErrorAction SilentlyContinue
        $results.Status | Should -Be 'Failed'
        "$($problems[0].Exception.Message)" | Should -BeLike '*within 2 s*'
        Get-TestImageTags "$id-child" | Should -BeNullOrEmpty
    }
}

Describe 'A changelog update killed with SIGKILL' {
    It 'leaves every changelog whole, as it was or with the new entry on top; the rerun removes the staged files and writes each entry once' {
        $id = New-TestId 'fl'
        $tree = Join-Path $TestDrive $id
        $trailer = ' -- Ops <ops@example.org>  Mon, 01 Jan 2024 00:00:00 +0000'
        $old = @{}
        # A base and 150 dependents: the cascade stages 151 files, then renames them, long enough to land a kill in.
        foreach ($i in 0..150) {
            $name = if ($i -eq 0) { "$id-base" } else { "$id-app$i" }
            $text = "$name (1.0) unstable; urgency=medium`n`n  * Initial release.`n`n$trailer`n"
            New-TestImage $tree $name $(if ($i -eq 0) { "FROM busybox:1.36`n" } else { "FROM $id-base`n" }) -Files @{ 'changelog' = $text }
            $old[(Join-Path $tree "$name/changelog")] = $text
        }
        $child = Start-Child "Update-ImageChangelog -Path $(ConvertTo-Literal $tree) -Name '$id-base' -Reason 'Rebuild for CVE-2026-0001' -Author 'Ops' -Email 'ops@example.org' -Confirm:`$false`n"
        $deadline = [datetime]::UtcNow.AddSeconds(120)
        $writing = $false
        while (-not $writing -and -not $child.Process.HasExited -and [datetime]::UtcNow -lt $deadline) {
            $writing = @([IO.Directory]::EnumerateFiles($tree, 'changelog.tmp-*', [IO.SearchOption]::AllDirectories)).Count -gt 0
            if ($writing) { $child.Process.Kill() } else { Start-Sleep -Milliseconds 2 }
        }
        $writing | Should -BeTrue -Because 'the kill lands while the changelogs are being written'
        Stop-Hard $child

        $updated = 0
        foreach ($path in $old.Keys) {
            $text = [IO.File]::ReadAllText($path)
            if ($text -ne $old[$path]) {
                $text.EndsWith("`n`n" + $old[$path]) | Should -BeTrue -Because "$path is the old changelog with one new entry on top, or the old one"
                $updated++
            }
        }
        $nodes = Get-ImageGraph $tree -ErrorAction Stop
        @($nodes).Count | Should -Be 151 -Because 'every changelog still parses'

        # The plain rerun (under the tree's lock): a kill while staging left no journal, so its staged files are removed and
        # the cascade is written; a kill between renames left one, so the rerun completes that cascade and writes nothing more.
        $journal = Join-Path $tree '.imagetools-changelog.journal'
        $interruptedInRenames = Test-Path -LiteralPath $journal
        if ($updated -gt 0 -and $updated -lt 151) { $interruptedInRenames | Should -BeTrue -Because 'a half-applied cascade has its journal' }
        if ($updated -lt 151 -or $interruptedInRenames) {
            Update-ImageChangelog -Path $tree -Name "$id-base" -Reason 'Rebuild for CVE-2026-0001' -Author 'Ops' -Email 'ops@example.org' -Confirm:$false -WarningVariable rerunWarnings -WarningAction SilentlyContinue | Out-Null
            if ($interruptedInRenames) { "$rerunWarnings" | Should -BeLike '*interrupted earlier and is now complete*' }
        }
        Test-Path -LiteralPath $journal | Should -BeFalse -Because 'the journal goes once its cascade is complete'
        @([IO.Directory]::EnumerateFiles($tree, 'changelog.tmp-*', [IO.SearchOption]::AllDirectories)) | Should -BeNullOrEmpty -Because 'no staged file is left behind'
        foreach ($path in $old.Keys) {
            $text = [IO.File]::ReadAllText($path)
            $text.EndsWith("`n`n" + $old[$path]) | Should -BeTrue
            ([regex]::Matches($text, 'CVE-2026-0001')).Count | Should -Be 1 -Because "$path has the new entry once"
        }
    }
}
