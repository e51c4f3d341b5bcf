#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Publishes to an archive directory under $TestDrive (no registry needed). Builds one tiny image on
# the Docker engine this host's docker CLI talks to; needs busybox:1.36 there. Removed afterwards.

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

Describe 'Publish-Image' -Skip:$noDocker {
    BeforeAll {
        $name = 'pi' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $tree = Join-Path $TestDrive 'tree'
        New-Item -ItemType Directory -Force (Join-Path $tree 'img') | Out-Null
        Set-Content -NoNewline -Path (Join-Path $tree 'img/Dockerfile') -Value "FROM busybox:1.36`nRUN echo $name > /name`n"
        Set-Content -NoNewline -Path (Join-Path $tree 'img/image.yaml') -Value "name: $name`nversion: '1.0'`n"
        $built = Get-ImageGraph $tree | Invoke-ImageBuild
    }

    AfterAll {
        docker image rm "${name}:1.0" *> $null
    }

    It 'archives a built image, and a second run is AlreadyPublished' {
        $archive = Join-Path $TestDrive 'archive'

        $first = $built | Publish-Image -ArchivePath $archive
        $second = $built | Publish-Image -ArchivePath $archive

        $first | Should -BeOfType ([ImageTools.Publishing.PublishResult])
        $first.Status | Should -Be 'Archived'
        $second.Status | Should -Be 'AlreadyPublished'
        (Get-Content -Raw (Join-Path $archive 'index.json') | ConvertFrom-Json).name | Should -Be $name
    }

    It 'writes nothing with -WhatIf' {
        $archive = Join-Path $TestDrive 'whatif'

        $built | Publish-Image -ArchivePath $archive -WhatIf | Should -BeNullOrEmpty

        Test-Path (Join-Path $archive 'index.json') | Should -BeFalse
    }

    It 'refuses images that were not built, per image' {
        $node = Get-ImageGraph $tree
        docker image rm "${name}:1.0" *> $null

        $node | Publish-Image -ArchivePath (Join-Path $TestDrive 'none') -ErrorVariable problems -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $problems[0].FullyQualifiedErrorId | Should -Be 'ImageNotBuilt,ImageTools.Commands.PublishImageCommand'
    }

    It 'stops with NoRegistry when there is neither a registry nor -ArchivePath' {
        { $built | Publish-Image } | Should -Throw -ErrorId 'NoRegistry,ImageTools.Commands.PublishImageCommand'
    }
}
