#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Builds tiny images on the Docker engine this host's docker CLI talks to (DOCKER_HOST/context).
# Every image gets a unique name and is removed by the Describe that made it. Needs a local
# busybox:1.36 image; the -Pull block also needs the test registry (IMAGETOOLS_TEST_REGISTRY).

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $script:noDocker = -not (Test-DockerEngine)
    $script:noRegistry = $noDocker -or -not (Test-TestRegistry)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $manifest = Get-LaidOutManifest
    $null = Import-LaidOutModule
    Use-TempDirectory $TestDrive

    # base <- broken <- child, base <- sibling: one build shows Built, Failed and Skipped.
    function New-MixedTree([string] $Root, [string] $Id) {
        foreach ($image in @(
                @{ Dir = 'base'; Text = "FROM busybox:1.36`nRUN echo base > /base`n" },
                @{ Dir = 'broken'; Text = "FROM $Id-base`nRUN false`n" },
                @{ Dir = 'child'; Text = "FROM $Id-broken`n" },
                @{ Dir = 'sibling'; Text = "FROM $Id-base`nRUN cat /base`n" })) {
            New-TestImage $Root $image.Dir $image.Text -Files @{ 'image.yaml' = "name: $Id-$($image.Dir)`n" }
        }
    }

    # The docker CLI processes the module started for a tree (their build context is under it).
    function Get-BuildProcesses([string] $Root) {
        @(Get-Process -ErrorAction SilentlyContinue | Where-Object { $_.Id -ne $PID -and "$($_.CommandLine)" -like "*docker*build*$Root*" })
    }

    function Get-RunningCommands { @(docker ps --no-trunc --format '{{.Command}}') }
}

AfterAll {
    Restore-TempDirectory
    Remove-Module ImageTools -ErrorAction SilentlyContinue
}

Describe 'Invoke-ImageBuild per-image results and errors' -Skip:$noDocker {
    BeforeAll {
        $id = New-TestId 'pt'
        $tree = Join-Path $TestDrive $id
        New-MixedTree $tree $id
        $results = Get-ImageGraph $tree | Invoke-ImageBuild -ThrottleLimit 2 -ErrorVariable failures -WarningVariable skips -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
    }

    AfterAll { Remove-TestImages $id }

    It 'builds what it can, fails and skips per image, and emits a result for each' {
        $results | ForEach-Object { $_ | Should -BeOfType ([ImageTools.Building.BuildResult]) }
        ($results | Where-Object Name -eq "$id-base").Status | Should -Be 'Built'
        ($results | Where-Object Name -eq "$id-sibling").Status | Should -Be 'Built'
        ($results | Where-Object Name -eq "$id-broken").Status | Should -Be 'Failed'
        ($results | Where-Object Name -eq "$id-child").Status | Should -Be 'Skipped'
        Get-TestImageTags $id | Sort-Object | Should -Be @("$id-base:latest", "$id-sibling:latest") -Because 'a tag only follows a successful build'
    }

    It 'writes the failure as an error record whose target is the image, and the skip as a warning' {
        $failures | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'BuildFailed,ImageTools.Commands.InvokeImageBuildCommand'
        $failures[0].TargetObject | Should -Be "$id-broken"
        $skips | Should -HaveCount 1
        "$($skips[0])" | Should -BeLike "*$id-child*skipped*"
    }

    It 'filters, sorts and groups results on the documented properties' {
        ($results | Where-Object Status -eq 'Built' | Sort-Object Name).Name | Should -Be @("$id-base", "$id-sibling")
        $groups = $results | Group-Object Status | Sort-Object Name
        $groups.Name | Should -Be @('Built', 'Failed', 'Skipped')
        $groups | ForEach-Object Count | Should -Be @(2, 1, 1)
        ($results | Sort-Object Duration -Descending | Select-Object -Last 1).Status | Should -Not -Be 'Built' -Because 'a skipped image takes no time'
    }

    It 'round-trips results through ConvertTo-Json and Export-Csv' {
        $json = $results | ConvertTo-Json -WarningAction SilentlyContinue | ConvertFrom-Json
        $json.Name | Should -Be $results.Name
        $json.Reference | Should -Be $results.Reference
        $json.ImageId | Should -Be $results.ImageId
        $json.Status | Should -Be ($results.Status | ForEach-Object { [int] $_ }) -Because 'ConvertTo-Json writes enums as numbers'

        $csv = Join-Path $TestDrive 'results.csv'
        $results | Export-Csv -Path $csv
        $back = Import-Csv $csv
        $back.Name | Should -Be $results.Name
        $back.Status | Should -Be ($results.Status | ForEach-Object { "$_" })
        $back.ImageId | Should -Be ($results | ForEach-Object { "$($_.ImageId)" })
        $back.LogPath | Should -Be ($results | ForEach-Object { "$($_.LogPath)" })
    }

    It 'takes statuses from Test-ImageNeedsRebuild: builds those that need it and reports the others UpToDate' {
        $before = docker image inspect --format '{{.Id}}' "$id-base:latest"
        $statuses = Test-ImageNeedsRebuild -Path $tree -Name "$id-base", "$id-sibling" -ForceName "$id-sibling" -Local

        $again = $statuses | Invoke-ImageBuild

        ($again | Where-Object Name -eq "$id-base").Status | Should -Be 'UpToDate'
        ($again | Where-Object Name -eq "$id-sibling").Status | Should -Be 'Built'
        docker image inspect --format '{{.Id}}' "$id-base:latest" | Should -Be $before -Because 'an up-to-date image is not built again'
    }

    It 'writes progress records, and nothing to the console itself' {
        $shell = [powershell]::Create()
        try {
            $null = $shell.AddScript("Import-Module '$manifest'; Invoke-ImageBuild -Path '$tree' -Name '$id-sibling'")
            $output = $shell.Invoke()
            $output.Status | Should -Be 'Built'
            $shell.Streams.Progress | Should -Not -BeNullOrEmpty
            $shell.Streams.Progress | Where-Object Activity -like '*Invoke-ImageBuild*' | Should -Not -BeNullOrEmpty
        }
        finally { $shell.Dispose() }

        # In a real console host: every stream PowerShell knows is silenced, so anything left was
        # written around them (System.Console, a child process inheriting the console).
        $child = Invoke-ChildPowerShell "`$ProgressPreference = 'SilentlyContinue'; `$r = Invoke-ImageBuild -Path '$tree' -Name '$id-sibling' -Verbose 2>`$null 3>`$null 4>`$null 5>`$null 6>`$null; 'STATUS ' + `$r.Status"
        $child.ExitCode | Should -Be 0 -Because $child.Error
        $child.Output.Trim() | Should -Be 'STATUS Built'
        $child.Error | Should -BeNullOrEmpty
    }

    It 'also writes per-image errors and warnings as Azure Pipelines logging commands when TF_BUILD is set' {
        $child = Invoke-ChildPowerShell "Invoke-ImageBuild -Path '$tree' -Name '$id-broken', '$id-child' -ErrorAction SilentlyContinue -WarningAction SilentlyContinue | Out-Null" -Environment @{ TF_BUILD = 'True' }

        $child.ExitCode | Should -Be 0 -Because $child.Error
        $lines = $child.Output -split '\r?\n'
        @($lines | Where-Object { $_ -like '##vso`[task.logissue type=error*' -and $_ -like "*$id-broken*" }) | Should -HaveCount 1
        @($lines | Where-Object { $_ -like '##vso`[task.logissue type=warning*' -and $_ -like "*$id-child*" }) | Should -HaveCount 1
    }
}

Describe 'Invoke-ImageBuild -WhatIf and -Confirm:$false' -Skip:$noDocker {
    BeforeAll {
        $id = New-TestId 'pw'
        $tree = Join-Path $TestDrive $id
        New-TestImage $tree 'one' "FROM busybox:1.36`n" -Files @{ 'image.yaml' = "name: $id-one`nversion: '1.0'`n" }
        New-TestImage $tree 'two' "FROM $id-one`n" -Files @{ 'image.yaml' = "name: $id-two`n" }
    }

    AfterAll { Remove-TestImages $id }

    It 'names every image with -WhatIf and builds nothing' {
        $child = Invoke-ChildPowerShell "Invoke-ImageBuild -Path '$tree' -WhatIf"

        $child.ExitCode | Should -Be 0 -Because $child.Error
        $whatIf = @($child.Output -split '\r?\n' | Where-Object { $_ -like 'What if:*' })
        $whatIf | Should -HaveCount 2
        $whatIf[0] | Should -BeLike "*`"$id-one:1.0`"*"
        $whatIf[1] | Should -BeLike "*`"$id-two:latest`"*"
        Get-TestImageTags $id | Should -BeNullOrEmpty
    }

    It 'builds with -Confirm:$false in a non-interactive host that would otherwise ask' {
        $child = Invoke-ChildPowerShell "`$ConfirmPreference = 'Low'; (Invoke-ImageBuild -Path '$tree' -Name '$id-one' -Confirm:`$false).Status"

        $child.ExitCode | Should -Be 0 -Because $child.Error
        $child.Output.Trim() | Should -Be 'Built'
        Get-TestImageTags $id | Sort-Object | Should -Be @("$id-one:1.0", "$id-one:latest")
    }
}

Describe 'Invoke-ImageBuild -BuildArg -LogPath -Nightly -NoCache' -Skip:$noDocker {
    BeforeAll {
        $id = New-TestId 'pa'
        $tree = Join-Path $TestDrive $id
        New-TestImage $tree 'img' "FROM busybox:1.36`nARG GREETING=none`nRUN echo `"`$GREETING`" > /greeting`n" -Files @{ 'image.yaml' = "name: $id`nversion: '1.0'`n" }
        $logs = Join-Path $TestDrive 'logs'
        # The layer id of the RUN step: the cache reuses it, -NoCache makes a new one.
        function Get-RunLayer([string] $Reference) {
            docker image history --no-trunc --format '{{.ID}} {{.CreatedBy}}' $Reference | Where-Object { $_ -like '*echo*GREETING*' } | ForEach-Object { ($_ -split ' ')[0] }
        }
    }

    AfterAll { Remove-TestImages $id }

    It 'passes -BuildArg to the build, writes the log under -LogPath and tags -Nightly builds with the date' {
        $result = Invoke-ImageBuild -Path $tree -BuildArg @{ GREETING = 'hello' } -LogPath $logs -Nightly

        $date = Get-Date -Format 'yyyyMMdd'
        $result.Status | Should -Be 'Built'
        $result.Tag | Should -BeIn @("1.0-$date", "1.0-$((Get-Date).AddDays(-1).ToString('yyyyMMdd'))") -Because 'the date may have turned during the build'
        docker image inspect "$id`:$($result.Tag)" *> $null
        $LASTEXITCODE | Should -Be 0
        docker image inspect "$id`:1.0" *> $null
        $LASTEXITCODE | Should -Not -Be 0 -Because 'a nightly build does not take the release tag'
        docker image history --no-trunc --format '{{.CreatedBy}}' $result.ImageId | Where-Object { $_ -like '*GREETING=hello*' } | Should -Not -BeNullOrEmpty
        $result.LogPath | Should -Be (Join-Path $logs "$id.log")
        Get-Content -Raw $result.LogPath | Should -Match 'GREETING'
    }

    It 'reuses the layer cache, and builds every step again with -NoCache' {
        $first = Invoke-ImageBuild -Path $tree -BuildArg @{ GREETING = 'cache' }
        $cached = Invoke-ImageBuild -Path $tree -BuildArg @{ GREETING = 'cache' }
        $fresh = Invoke-ImageBuild -Path $tree -BuildArg @{ GREETING = 'cache' } -NoCache

        $layer = Get-RunLayer $first.ImageId
        $layer | Should -Not -BeNullOrEmpty
        Get-RunLayer $cached.ImageId | Should -Be $layer
        Get-RunLayer $fresh.ImageId | Should -Not -Be $layer
    }
}

Describe 'Invoke-ImageBuild -Pull' -Skip:$noRegistry {
    BeforeAll {
        $id = New-TestId 'pp'
        $registry = $env:IMAGETOOLS_TEST_REGISTRY
        # The registry holds a newer base than the local engine's copy of the same reference.
        $base = "$registry/$id/base:1"
        'FROM busybox:1.36', "RUN echo $id > /newer" -join "`n" | docker build -q -t $base - 2>$null | Out-Null
        $newer = docker image inspect --format '{{.Id}}' $base
        docker push $base *> $null
        if ($LASTEXITCODE -ne 0) { throw "Cannot push $base to the test registry" }
        docker tag busybox:1.36 $base
        $tree = Join-Path $TestDrive $id
        New-TestImage $tree 'img' "FROM $base`n" -Files @{ 'image.yaml' = "name: $id-img`n" }
    }

    AfterAll {
        docker image rm $base *> $null
        Remove-TestImages $id
        docker image ls -q --filter "dangling=true" | ForEach-Object { docker image rm $_ *> $null }
    }

    It 'refreshes the external base from its registry before building on it' {
        $result = Invoke-ImageBuild -Path $tree -Pull

        $result.Status | Should -Be 'Built'
        docker image inspect --format '{{.Id}}' $base | Should -Be $newer
        $layers = docker image inspect --format '{{json .RootFS.Layers}}' $result.ImageId | ConvertFrom-Json
        $newerLayers = docker image inspect --format '{{json .RootFS.Layers}}' $newer | ConvertFrom-Json
        $layers[0..($newerLayers.Count - 1)] | Should -Be $newerLayers
    }
}

Describe 'The whole pipeline with no docker CLI on PATH: builds through the Engine API' -Skip:$noRegistry {
    BeforeAll {
        $id = New-TestId 'pn'
        $registry = $env:IMAGETOOLS_TEST_REGISTRY
        $tree = Join-Path $TestDrive $id
        New-Item -ItemType Directory -Force $tree | Out-Null
        Set-Content -NoNewline -Path (Join-Path $tree 'imagetools.yaml') -Value "registry: $registry`nnamespace: $id`n"
        # The external base in the test registry, so the rebuild check asks no registry but loopback.
        $external = "$registry/$id/busybox:1.36"
        docker tag busybox:1.36 $external
        docker push $external *> $null
        if ($LASTEXITCODE -ne 0) { throw "Cannot push $external to the test registry" }
        New-TestImage $tree 'base' "FROM $external`nRUN echo base > /id`n" -Files @{ 'image.yaml' = "version: '1.0'`nlabels:`n  org.example.path: none`n" }
        # The verify command needs no docker either: it only checks it was given the image.
        New-TestImage $tree 'app' "FROM $registry/$id/base:1.0`nCOPY note /note`n" -Files @{
            'image.yaml' = "version: '2.0'`n"; 'note' = "note`n"; 'test.sh' = "#!/bin/sh`ntest -n `"`$1`"`n" }
        $archive = Join-Path $TestDrive "$id-archive"
        $verbose = Join-Path $TestDrive "$id-verbose.txt"
        $savedPath = $env:PATH
        # An empty folder as the whole PATH: no docker CLI (and no git) for the cmdlets to find.
        $env:PATH = Join-Path $TestDrive 'empty-path'
        New-Item -ItemType Directory -Force $env:PATH | Out-Null
        try {
            $statuses = @(Get-ImageGraph $tree | Test-ImageNeedsRebuild)
            $built = @($statuses | Where-Object NeedsRebuild | Invoke-ImageBuild -Verbose 4> $verbose)
            $published = @($built | Publish-Image)
            $archived = @($built | Publish-Image -ArchivePath $archive)
            $again = @(Get-ImageGraph $tree | Test-ImageNeedsRebuild)
        }
        finally { $env:PATH = $savedPath }
    }

    AfterAll {
        docker image rm $external *> $null
        Remove-TestImages $id
    }

    It 'checks, builds, verifies, publishes to the registry and to an archive, and the check then finds nothing to do' {
        $statuses.NeedsRebuild | Should -Be @($true, $true)
        $built.Status | Should -Be @('Built', 'Built')
        $built.Verified | Should -Contain $true
        $published.Status | Should -Be @('Pushed', 'Pushed')
        $archived.Status | Should -Not -Contain 'Failed'
        $archived.Count | Should -Be 2
        $again.NeedsRebuild | Should -Be @($false, $false)
    }

    It 'stamps the labels, and shows the build steps on the verbose stream' {
        $base = $built | Where-Object Name -eq 'base'
        docker image inspect --format '{{index .Config.Labels "org.example.path"}} {{index .Config.Labels "org.opencontainers.image.version"}}' $base.ImageId |
            Should -Be 'none 1.0'
        Get-Content -Raw $verbose | Should -Match 'Step 2/3 : RUN echo base'
        Get-Content -Raw $base.LogPath | Should -Match 'POST /build'
    }
}

Describe 'Invoke-ImageBuild stopped while it runs' -Skip:$noDocker {
    BeforeAll {
        $id = New-TestId 'ps'
    }

    AfterAll { Remove-TestImages $id }

    It 'cancels the run under -ErrorAction Stop when an image fails: the command ends, no tag, no child process, no build container' {
        $tree = Join-Path $TestDrive "$id-stop"
        # The failure comes while the slow build runs (it waits on purpose), so the run has work to cancel.
        New-TestImage $tree 'fails' "FROM busybox:1.36`nRUN sleep 12 && false`n" -Files @{ 'image.yaml' = "name: $id-fails`n" }
        New-TestImage $tree 'slow' "FROM busybox:1.36`nRUN sleep 300 && echo $id`n" -Files @{ 'image.yaml' = "name: $id-slow`n" }
        New-TestImage $tree 'after' "FROM $id-slow`n" -Files @{ 'image.yaml' = "name: $id-after`n" }
        $shell = [powershell]::Create()
        try {
            $null = $shell.AddScript("Import-Module '$manifest'; Invoke-ImageBuild -Path '$tree' -ThrottleLimit 2 -ErrorAction Stop")
            $running = $shell.BeginInvoke()
            Wait-Until { Get-RunningCommands | Select-String "sleep 300 && echo $id" } -TimeoutSec 120 | Should -BeTrue -Because 'the slow build started'
            Get-BuildProcesses $tree | Should -Not -BeNullOrEmpty -Because 'docker build runs as a child process'

            $running.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(120)) | Should -BeTrue -Because 'the failure ends the command long before the slow build could'
            $thrown = { $shell.EndInvoke($running) } | Should -Throw -PassThru
            $thrown.Exception.InnerException.ErrorRecord.FullyQualifiedErrorId + '' | Should -Be 'BuildFailed,ImageTools.Commands.InvokeImageBuildCommand'

            Get-BuildProcesses $tree | Should -BeNullOrEmpty -Because 'the run ends with the command'
            Wait-Until { -not (Get-RunningCommands | Select-String "sleep 300 && echo $id") } -TimeoutSec 60 | Should -BeTrue -Because 'the engine drops a build whose client is gone'
            Get-TestImageTags $id | Should -BeNullOrEmpty
        }
        finally { $shell.Dispose() }
    }

    It 'stops promptly when the pipeline is stopped (Ctrl+C), and tags nothing' {
        $tree = Join-Path $TestDrive "$id-ctrlc"
        New-TestImage $tree 'slow' "FROM busybox:1.36`nRUN sleep 301 && echo $id`n" -Files @{ 'image.yaml' = "name: $id-ctrlc`n" }
        # Stop() on a PowerShell instance is what Ctrl+C does to the running pipeline: StopProcessing.
        $shell = [powershell]::Create()
        try {
            $null = $shell.AddScript("Import-Module '$manifest'; Invoke-ImageBuild -Path '$tree'")
            $running = $shell.BeginInvoke()
            Wait-Until { Get-RunningCommands | Select-String "sleep 301 && echo $id" } -TimeoutSec 120 | Should -BeTrue -Because 'the RUN step started'

            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $shell.Stop()
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 30

            $shell.InvocationStateInfo.State | Should -Be 'Stopped'
            $running.IsCompleted | Should -BeTrue
            Get-BuildProcesses $tree | Should -BeNullOrEmpty
            Wait-Until { -not (Get-RunningCommands | Select-String "sleep 301 && echo $id") } -TimeoutSec 60 | Should -BeTrue -Because 'the engine cancels the build when its client stops'
            Get-TestImageTags $id | Should -BeNullOrEmpty -Because 'no tag moves for a build that did not finish'
        }
        finally { $shell.Dispose() }
    }
}

Describe 'Invoke-ImageBuild verifies with a test.ps1 in the PowerShell that runs the module' -Skip:$noDocker {
    BeforeAll {
        $id = New-TestId 'ps1'
        $tree = Join-Path $TestDrive $id
        # The check writes what it saw: the image it was given and the PowerShell it ran in.
        $check = 'param($Image) "$Image $($PSVersionTable.PSEdition) $($PSVersionTable.PSVersion)" | Set-Content -NoNewline (Join-Path $PSScriptRoot "seen"); exit 0'
        New-TestImage $tree 'good' "FROM busybox:1.36`nRUN echo good > /good`n" -Files @{ 'image.yaml' = "name: $id-good`n"; 'test.ps1' = $check }
        New-TestImage $tree 'bad' "FROM busybox:1.36`nRUN echo bad > /bad`n" -Files @{ 'image.yaml' = "name: $id-bad`n"; 'test.ps1' = "Write-Output 'the check says no'; exit 3" }
        $results = Invoke-ImageBuild -Path $tree -ErrorAction SilentlyContinue -ErrorVariable failures
    }

    AfterAll { Remove-TestImages $id }

    It 'runs test.ps1 with the image id in the same PowerShell edition and version' {
        $good = $results | Where-Object Name -eq "$id-good"
        $good.Status | Should -Be 'Built'
        $good.Verified | Should -BeTrue
        Get-Content -Raw (Join-Path $tree 'good/seen') | Should -Be "$($good.ImageId) $($PSVersionTable.PSEdition) $($PSVersionTable.PSVersion)"
    }

    It 'fails the image whose test.ps1 exits non-zero, naming the check, and tags nothing' {
        $bad = $results | Where-Object Name -eq "$id-bad"
        $bad.Status | Should -Be 'Failed'
        $bad.ErrorId | Should -Be 'VerifyFailed'
        $bad.Error | Should -Match 'test\.ps1 exited with 3\): the check says no'
        Get-TestImageTags "$id-bad" | Should -BeNullOrEmpty
    }
}
