#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Compares with the Docker engine this host's docker CLI talks to (local mode: the trees here have
# no registry). Every image gets a unique name and is removed afterwards. Needs busybox:1.36.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $script:noDocker = -not (Test-DockerEngine)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $null = Import-LaidOutModule
}

AfterAll {
    Remove-Module ImageTools -ErrorAction SilentlyContinue
}

Describe 'Test-ImageNeedsRebuild' -Skip:$noDocker {
    BeforeEach {
        $id = [guid]::NewGuid().ToString('N').Substring(0, 8)
        $tree = Join-Path $TestDrive $id
        foreach ($image in @(@{ Dir = 'base'; Text = "FROM busybox:1.36`n" }, @{ Dir = 'app'; Text = "FROM tn$id-base`nCOPY app.txt /app.txt`n" })) {
            $path = Join-Path $tree $image.Dir
            New-Item -ItemType Directory -Force $path | Out-Null
            Set-Content -NoNewline -Path (Join-Path $path 'Dockerfile') -Value $image.Text
            Set-Content -NoNewline -Path (Join-Path $path 'image.yaml') -Value "name: tn$id-$($image.Dir)`n"
        }
        Set-Content -NoNewline -Path (Join-Path $tree 'app/app.txt') -Value 'one'
    }

    AfterEach {
        docker image ls --format '{{.Repository}}:{{.Tag}}' | Where-Object { $_ -like "tn$id-*" } | ForEach-Object { docker image rm $_ *> $null }
    }

    It 'reports unbuilt images NotPublished, then up to date after a build, then the changed one' {
        $before = Get-ImageGraph $tree | Test-ImageNeedsRebuild
        $before | ForEach-Object { $_ | Should -BeOfType ([ImageTools.Planning.RebuildStatus]) }
        $before.NeedsRebuild | Should -Be @($true, $true)
        ($before | Where-Object Name -eq "tn$id-base").Reasons | Should -Be @('NotPublished')

        $built = $before | Where-Object NeedsRebuild | Invoke-ImageBuild
        $built.Status | Should -Be @('Built', 'Built')
        (Get-ImageGraph $tree | Test-ImageNeedsRebuild).NeedsRebuild | Should -Be @($false, $false)

        Set-Content -NoNewline -Path (Join-Path $tree 'app/app.txt') -Value 'two'
        $after = Get-ImageGraph $tree | Test-ImageNeedsRebuild
        ($after | Where-Object Name -eq "tn$id-app").Reasons | Should -Be @('InputsChanged')
        ($after | Where-Object Name -eq "tn$id-base").NeedsRebuild | Should -BeFalse
    }

    It 'forces by name, and -All with names forces all the others' {
        (Test-ImageNeedsRebuild -Path $tree -ForceName "tn$id-app" | Where-Object { $_.Reasons -contains 'Forced' }).Name | Should -Be @("tn$id-app")
        (Test-ImageNeedsRebuild -Path $tree -All -ForceName "tn$id-app" | Where-Object { $_.Reasons -contains 'Forced' }).Name | Should -Be @("tn$id-base")
    }

    It 'stops with RegistryUnreachable when the registry does not answer, and -Local still works' {
        # Port 9 (discard) on loopback: nothing listens there on a normal host.
        Set-Content (Join-Path $tree 'imagetools.yaml') "registry: 127.0.0.1:9`n"

        { Test-ImageNeedsRebuild -Path $tree } | Should -Throw -ErrorId 'RegistryUnreachable,ImageTools.Commands.TestImageNeedsRebuildCommand'
        (Test-ImageNeedsRebuild -Path $tree -Local).Count | Should -Be 2
    }
}
