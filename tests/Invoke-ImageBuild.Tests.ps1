#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Builds tiny images on the Docker engine this host's docker CLI talks to (DOCKER_HOST/context).
# Every image gets a unique name and is removed afterwards. Needs a local busybox:1.36 image.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $script:noDocker = -not (Test-DockerEngine)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $manifest = Get-LaidOutManifest
    $null = Import-LaidOutModule
}

AfterAll {
    Remove-Module ImageTools -ErrorAction SilentlyContinue
}

Describe 'Invoke-ImageBuild' -Skip:$noDocker {
    BeforeEach {
        $id = [guid]::NewGuid().ToString('N').Substring(0, 8)
        $tree = Join-Path $TestDrive $id
        foreach ($image in @(
                @{ Dir = 'base'; Text = "FROM busybox:1.36`nRUN echo base > /base`n" },
                @{ Dir = 'broken'; Text = "FROM pt$id-base`nRUN false`n" },
                @{ Dir = 'child'; Text = "FROM pt$id-broken`n" },
                @{ Dir = 'sibling'; Text = "FROM pt$id-base`nRUN cat /base`n" })) {
            $path = Join-Path $tree $image.Dir
            New-Item -ItemType Directory -Force $path | Out-Null
            Set-Content -NoNewline -Path (Join-Path $path 'Dockerfile') -Value $image.Text
            Set-Content -NoNewline -Path (Join-Path $path 'image.yaml') -Value "name: pt$id-$($image.Dir)`n"
        }
    }

    AfterEach {
        docker image ls --format '{{.Repository}}:{{.Tag}}' | Where-Object { $_ -like "pt$id-*" } | ForEach-Object { docker image rm $_ *> $null }
    }

    It 'builds what it can, fails and skips per image, and emits a result for each' {
        $results = Get-ImageGraph $tree | Invoke-ImageBuild -ThrottleLimit 2 -ErrorVariable failures -ErrorAction SilentlyContinue -WarningAction SilentlyContinue

        $results | ForEach-Object { $_ | Should -BeOfType ([ImageTools.Building.BuildResult]) }
        ($results | Where-Object Name -eq "pt$id-base").Status | Should -Be 'Built'
        ($results | Where-Object Name -eq "pt$id-sibling").Status | Should -Be 'Built'
        ($results | Where-Object Name -eq "pt$id-broken").Status | Should -Be 'Failed'
        ($results | Where-Object Name -eq "pt$id-child").Status | Should -Be 'Skipped'
        $failures[0].FullyQualifiedErrorId | Should -Be 'BuildFailed,ImageTools.Commands.InvokeImageBuildCommand'
    }

    It 'stops promptly when the pipeline is stopped (Ctrl+C), and tags nothing' {
        $slowTree = Join-Path $TestDrive "$id-slow"
        New-Item -ItemType Directory -Force (Join-Path $slowTree 'slow') | Out-Null
        Set-Content -NoNewline -Path (Join-Path $slowTree 'slow/Dockerfile') -Value "FROM busybox:1.36`nRUN sleep 120`n"
        Set-Content -NoNewline -Path (Join-Path $slowTree 'slow/image.yaml') -Value "name: pt$id-slow`n"
        # Stop() on a PowerShell instance is what Ctrl+C does to the running pipeline: StopProcessing.
        $shell = [powershell]::Create()
        try {
            $null = $shell.AddScript("Import-Module '$manifest'; Invoke-ImageBuild -Path '$slowTree'")
            $running = $shell.BeginInvoke()
            $deadline = [datetime]::UtcNow.AddSeconds(90)
            while (-not (docker ps --no-trunc --format '{{.Command}}' | Select-String 'sleep 120') -and [datetime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 250
            }
            docker ps --no-trunc --format '{{.Command}}' | Select-String 'sleep 120' | Should -Not -BeNullOrEmpty -Because 'the RUN step started'

            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $shell.Stop()
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 20

            $shell.InvocationStateInfo.State | Should -Be 'Stopped'
            $running.IsCompleted | Should -BeTrue
            docker image inspect "pt$id-slow:latest" *> $null
            $LASTEXITCODE | Should -Not -Be 0 -Because 'no tag moves for a build that did not finish'
            $deadline = [datetime]::UtcNow.AddSeconds(30)
            while ((docker ps --no-trunc --format '{{.Command}}' | Select-String 'sleep 120') -and [datetime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 500
            }
            docker ps --no-trunc --format '{{.Command}}' | Select-String 'sleep 120' | Should -BeNullOrEmpty -Because 'the engine cancels the build when its client stops'
        }
        finally {
            $shell.Dispose()
        }
    }

    It 'stops the whole run when a failure stops the command (-ErrorAction Stop), building and tagging nothing afterwards' {
        $stopTree = Join-Path $TestDrive "$id-stop"
        foreach ($image in @(
                @{ Dir = 'fails'; Text = "FROM busybox:1.36`nRUN false`n" },
                @{ Dir = 'slow'; Text = "FROM busybox:1.36`nRUN sleep 6 && echo $id`n" },
                @{ Dir = 'after'; Text = "FROM pt$id-slow`n" })) {
            New-Item -ItemType Directory -Force (Join-Path $stopTree $image.Dir) | Out-Null
            Set-Content -NoNewline -Path (Join-Path $stopTree "$($image.Dir)/Dockerfile") -Value $image.Text
            Set-Content -NoNewline -Path (Join-Path $stopTree "$($image.Dir)/image.yaml") -Value "name: pt$id-$($image.Dir)`n"
        }

        { Invoke-ImageBuild -Path $stopTree -ThrottleLimit 2 -ErrorAction Stop } |
            Should -Throw -ErrorId 'BuildFailed,ImageTools.Commands.InvokeImageBuildCommand'
        # Long enough for the slow image to finish (commits are slow on vfs), had it gone on in the background.
        $deadline = [datetime]::UtcNow.AddSeconds(25)
        do {
            $built = docker image ls --format '{{.Repository}}' | Where-Object { $_ -in "pt$id-slow", "pt$id-after" }
            if ($built) { break }
            Start-Sleep -Seconds 1
        } while ([datetime]::UtcNow -lt $deadline)

        $built | Should -BeNullOrEmpty -Because 'the run ends with the command'
    }

    It 'builds nothing with -WhatIf' {
        Invoke-ImageBuild -Path $tree -WhatIf | Should -BeNullOrEmpty

        docker image ls --format '{{.Repository}}' | Where-Object { $_ -like "pt$id-*" } | Should -BeNullOrEmpty
    }
}
