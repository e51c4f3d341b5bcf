#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Runs against the laid-out module (./build.ps1 -Task Package, or -Task Test which does it first).

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $null = Import-LaidOutModule

    function New-ChangelogImage {
        param([string] $Root, [string] $Name, [string] $Version, [string] $From)
        $path = Join-Path $Root $Name
        New-Item -ItemType Directory -Force $path | Out-Null
        Set-Content -NoNewline -Path (Join-Path $path 'Dockerfile') -Value "FROM $From`n"
        $changelog = "$Name ($Version) imagetools; urgency=medium`n`n  * Initial release.`n`n -- Test <test@example.org>  Sun, 22 Nov 2026 10:00:00 +0000`n"
        Set-Content -NoNewline -Path (Join-Path $path 'changelog') -Value $changelog
    }
}

AfterAll {
    Remove-Module ImageTools -ErrorAction SilentlyContinue
}

Describe 'Update-ImageChangelog' {
    BeforeEach {
        $tree = Join-Path $TestDrive ([guid]::NewGuid())
        New-ChangelogImage $tree 'base' '1.0.0' 'busybox:1.36'
        New-ChangelogImage $tree 'left' '0.2-1' 'base'
        New-ChangelogImage $tree 'right' '3.1' 'base'
        New-ChangelogImage $tree 'top' '1.0' 'left'
        Add-Content -Path (Join-Path $tree 'top/Dockerfile') -Value 'COPY --from=right /a /a'
    }

    It 'adds an entry to the named image and cascades once to every dependent' {
        $updates = Update-ImageChangelog -Path $tree -Name base -Reason 'Rebuild for CVE-2026-0001' -Author 'Ops' -Email 'ops@example.org'

        $updates | ForEach-Object { $_ | Should -BeOfType ([ImageTools.Changelogs.ChangelogUpdate]) }
        $updates.Name | Should -Be @('base', 'left', 'right', 'top')
        $updates.NewVersion | Should -Be @('1.0.0-s1', '0.2-1-s1', '3.1-s1', '1.0-s1')
        Get-Content -Raw (Join-Path $tree 'top/changelog') | Should -Match '^top \(1\.0-s1\) wikimedia; urgency=high'
        Get-Content -Raw (Join-Path $tree 'top/changelog') | Should -Match 'Refresh for update in parent image base:'
        (Get-ImageGraph $tree -Name top).Version | Should -Be '1.0-s1'
    }

    It 'takes images from Get-ImageGraph' {
        $updates = Get-ImageGraph $tree -Name right | Update-ImageChangelog -Reason 'Bump' -Version '3.2'

        $updates.Name | Should -Be @('right', 'top')
        $updates[0].NewVersion | Should -Be '3.2'
    }

    It 'changes nothing with -WhatIf' {
        $before = Get-ChildItem -Recurse -File $tree | ForEach-Object { Get-FileHash $_.FullName } | Select-Object -ExpandProperty Hash

        Update-ImageChangelog -Path $tree -Name base -Reason 'x' -WhatIf | Should -BeNullOrEmpty

        Get-ChildItem -Recurse -File $tree | ForEach-Object { Get-FileHash $_.FullName } | Select-Object -ExpandProperty Hash | Should -Be $before
    }

    It 'refuses an image without changelog unless -Version is given' {
        $plain = Join-Path $tree 'plain'
        New-Item -ItemType Directory $plain | Out-Null
        Set-Content (Join-Path $plain 'Dockerfile') "FROM busybox`n"

        { Update-ImageChangelog -Path $tree -Name plain -Reason 'x' } |
            Should -Throw -ErrorId 'ChangelogMissing,ImageTools.Commands.UpdateImageChangelogCommand'
        (Update-ImageChangelog -Path $tree -Name plain -Reason 'first' -Version '1.0.0').CreatesFile | Should -BeTrue
    }

    It 'refuses a version the rule cannot bump, before writing anything' {
        New-ChangelogImage $tree 'right' '3.1a' 'base'
        $before = Get-Content -Raw (Join-Path $tree 'left/changelog')

        { Update-ImageChangelog -Path $tree -Name base -Reason 'x' } |
            Should -Throw -ErrorId 'VersionNotBumpable,ImageTools.Commands.UpdateImageChangelogCommand'
        Get-Content -Raw (Join-Path $tree 'left/changelog') | Should -Be $before
    }
}
