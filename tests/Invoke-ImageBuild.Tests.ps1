#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Builds tiny images on the Docker engine this host's docker CLI talks to (DOCKER_HOST/context).
# Every image gets a unique name and is removed afterwards. Needs a local busybox:1.36 image.

BeforeDiscovery {
    $script:noDocker = $true
    if (Get-Command docker -ErrorAction SilentlyContinue) {
        docker image inspect busybox:1.36 *> $null
        $script:noDocker = $LASTEXITCODE -ne 0
    }
}

BeforeAll {
    $manifest = Join-Path $PSScriptRoot '../out/ImageTools/ImageTools.psd1'
    if (-not (Test-Path $manifest)) { throw "Lay out the module first: ./build.ps1 -Task Package ($manifest is missing)" }
    Import-Module $manifest -Force
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

    It 'builds nothing with -WhatIf' {
        Invoke-ImageBuild -Path $tree -WhatIf | Should -BeNullOrEmpty

        docker image ls --format '{{.Repository}}' | Where-Object { $_ -like "pt$id-*" } | Should -BeNullOrEmpty
    }
}
