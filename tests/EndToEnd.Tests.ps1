#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The whole pipeline on a copy of examples/: graph → rebuild check → build → publish → changelog
# update → the bumped images are stale again. Once with the local engine as the record and an
# archive (the examples have no registry), once against the registry named by
# IMAGETOOLS_TEST_REGISTRY (host:port; tests/services/start.sh provides one). Where services are
# promised (TestSupport.ps1's rule) a missing registry fails the run instead of skipping.
# Uses the Docker engine this host's docker CLI talks to; needs busybox:1.36 there. Every image
# goes under a unique namespace and its local tags are removed afterwards.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $script:noDocker = -not (Test-DockerEngine)
    $script:noRegistry = $noDocker -or -not (Test-TestRegistry)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $null = Import-LaidOutModule
    Use-TempDirectory $TestDrive
}

AfterAll {
    Restore-TempDirectory
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
        Remove-TestImages "$ns/"
    }

    It 'builds every stale image, publishes it, finds nothing stale, and sees what a changelog update bumped as stale' {
        $stale = Get-ImageGraph $tree | Test-ImageNeedsRebuild | Where-Object NeedsRebuild
        $stale.Count | Should -Be 6

        $built = $stale | Invoke-ImageBuild -ThrottleLimit 2
        $built.Status | Sort-Object -Unique | Should -Be @('Built')

        $published = $built | Publish-Image -ArchivePath $archive
        $published.Status | Sort-Object -Unique | Should -Be @('Archived')
        (Get-Content -Raw (Join-Path $archive 'index.json') | ConvertFrom-Json).Count | Should -Be 6

        Get-ImageGraph $tree | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | Should -BeNullOrEmpty

        # Then a changelog update cascades, and the bumped images are stale again.
        $updates = Update-ImageChangelog -Path $tree -Name base -Reason 'Rebuild for CVE-2026-0001' -Author 'E2E' -Email 'e2e@example.org' -WarningAction SilentlyContinue
        $updates.Name | Should -Be @('base', 'tools', 'app-web')

        $stale = Get-ImageGraph $tree | Test-ImageNeedsRebuild | Where-Object NeedsRebuild
        ($stale | Where-Object Name -eq 'base').Reasons | Should -Contain 'NotPublished'
        ($stale | Where-Object Name -eq 'runtime').Reasons | Should -Be @('ParentRebuilt')
    }
}

Describe 'The ImageTools pipeline end to end with a registry' -Skip:$noRegistry {
    BeforeAll {
        $registry = $env:IMAGETOOLS_TEST_REGISTRY
        $ns = 'e2r' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $tree = Join-Path $TestDrive 'registry-examples'
        Copy-Item -Recurse (Join-Path $PSScriptRoot '../examples') $tree
        # The external base comes from the test registry as well, so that the rebuild check (which
        # asks a base's own registry whether it changed) talks to no other registry.
        $base = "$registry/$ns/busybox:1.36"
        docker tag busybox:1.36 $base
        docker push $base *> $null
        if ($LASTEXITCODE -ne 0) { throw "Cannot push $base to the test registry $registry" }
        foreach ($file in 'base/Dockerfile.template', 'static-files/Dockerfile', 'imagetools.yaml') {
            $path = Join-Path $tree $file
            Set-Content -NoNewline -Path $path -Value ((Get-Content -Raw $path) -replace 'busybox:1\.36', $base)
        }
        Add-Content (Join-Path $tree 'imagetools.yaml') "registry: $registry`nnamespace: $ns"
    }

    AfterAll {
        # The base tag first: it shares busybox's image id, which Remove-TestImages would take for ours.
        docker image rm $base *> $null
        Remove-TestImages "$registry/$ns/"
    }

    It 'pushes every stale image with latest, finds nothing stale, pushes nothing again, and sees bumped versions as not published' {
        $stale = Get-ImageGraph $tree | Test-ImageNeedsRebuild | Where-Object NeedsRebuild
        $stale.Count | Should -Be 6
        ($stale | Where-Object Name -eq 'base').Reasons | Should -Be @('NotPublished')

        $built = $stale | Invoke-ImageBuild -ThrottleLimit 2
        $built.Status | Sort-Object -Unique | Should -Be @('Built')
        $published = $built | Publish-Image
        $published.Status | Sort-Object -Unique | Should -Be @('Pushed')
        ($published | Where-Object Name -eq 'base').Tags | Should -Be @('0.1.0', 'latest')
        ($published | Where-Object Name -eq 'base').Reference | Should -Be "$registry/$ns/base:0.1.0"

        Get-ImageGraph $tree | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | Should -BeNullOrEmpty
        ($built | Publish-Image).Status | Sort-Object -Unique | Should -Be @('AlreadyPublished')

        # Then the images a changelog update bumped are not published under their new versions.
        Update-ImageChangelog -Path $tree -Name base -Reason 'Rebuild for CVE-2026-0001' -Author 'E2E' -Email 'e2e@example.org' -WarningAction SilentlyContinue | Out-Null

        $stale = Get-ImageGraph $tree | Test-ImageNeedsRebuild | Where-Object NeedsRebuild
        ($stale | Where-Object Name -eq 'base').Reference | Should -Be "$registry/$ns/base:0.1.0-s1"
        ($stale | Where-Object Name -eq 'base').Reasons | Should -Contain 'NotPublished'
        ($stale | Where-Object Name -eq 'runtime').Reasons | Should -Be @('ParentRebuilt')
        $stale.Count | Should -Be 5 -Because 'static-files does not build on base'
    }
}
