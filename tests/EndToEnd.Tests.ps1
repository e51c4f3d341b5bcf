#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The whole pipeline on a copy of examples/: graph → rebuild check → build → publish (to an
# archive, the examples have no registry) → changelog update → the bumped images are stale again.
# Uses the Docker engine this host's docker CLI talks to; needs busybox:1.36 there. Every image
# goes under a unique namespace and is removed afterwards.

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

Describe 'The ImageTools pipeline end to end' -Skip:$noDocker {
    BeforeAll {
        $ns = 'e2e' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $tree = Join-Path $TestDrive 'examples'
        Copy-Item -Recurse (Join-Path $PSScriptRoot '../examples') $tree
        Add-Content (Join-Path $tree 'imagetools.yaml') "namespace: $ns"
        $archive = Join-Path $TestDrive 'archive'
    }

    AfterAll {
        # Children build FROM plain names (base, runtime, tools), so the build also tagged those onto
        # this run's images: remove every tag that points at an image of this namespace.
        $ours = docker image ls --format '{{.Repository}} {{.ID}}' | Where-Object { $_ -like "$ns/* *" } | ForEach-Object { ($_ -split ' ')[1] }
        docker image ls --format '{{.Repository}}:{{.Tag}} {{.ID}}' | ForEach-Object {
            $tag, $id = $_ -split ' '
            if ($ours -contains $id) { docker image rm $tag *> $null }
        }
    }

    It 'builds every stale image, publishes it, and then finds nothing stale' {
        $stale = Get-ImageGraph $tree | Test-ImageNeedsRebuild | Where-Object NeedsRebuild
        $stale.Count | Should -Be 6

        $built = $stale | Invoke-ImageBuild -ThrottleLimit 2
        $built.Status | Sort-Object -Unique | Should -Be @('Built')

        $published = $built | Publish-Image -ArchivePath $archive
        $published.Status | Sort-Object -Unique | Should -Be @('Archived')
        (Get-Content -Raw (Join-Path $archive 'index.json') | ConvertFrom-Json).Count | Should -Be 6

        Get-ImageGraph $tree | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | Should -BeNullOrEmpty
    }

    It 'cascades a changelog update and sees the bumped images as not published' {
        $updates = Update-ImageChangelog -Path $tree -Name base -Reason 'Rebuild for CVE-2026-0001' -Author 'E2E' -Email 'e2e@example.org' -WarningAction SilentlyContinue
        $updates.Name | Should -Be @('base', 'tools', 'app-web')

        $stale = Get-ImageGraph $tree | Test-ImageNeedsRebuild | Where-Object NeedsRebuild
        ($stale | Where-Object Name -eq 'base').Reasons | Should -Contain 'NotPublished'
        ($stale | Where-Object Name -eq 'runtime').Reasons | Should -Be @('ParentRebuilt')
    }
}
