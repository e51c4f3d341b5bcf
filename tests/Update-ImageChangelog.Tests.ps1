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
    function New-CascadeTree {
        $root = Join-Path $TestDrive ([guid]::NewGuid())
        New-ChangelogImage $root 'base' '1.0.0' 'busybox:1.36'
        New-ChangelogImage $root 'left' '0.2-1' 'base'
        New-ChangelogImage $root 'right' '3.1' 'base'
        $root
    }
    function Get-TreeHashes([string] $Root) {
        Get-ChildItem -Recurse -File $Root | Sort-Object FullName | ForEach-Object { (Get-FileHash $_.FullName).Hash }
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

Describe 'Update-ImageChangelog -WhatIf and -Confirm:$false' {
    BeforeAll {
        $tree = New-CascadeTree
        $before = Get-TreeHashes $tree
    }

    It 'names every changelog of the cascade with -WhatIf and changes nothing' {
        $child = Invoke-ChildPowerShell "Update-ImageChangelog -Path '$tree' -Name base -Reason x -Author a -Email a@example.org -WhatIf"

        $child.ExitCode | Should -Be 0 -Because $child.Error
        foreach ($image in 'base', 'left', 'right') {
            $child.Output | Should -BeLike "*What if:*$(Join-Path $tree $image 'changelog')*"
        }
        @($child.Output -split "`n" | Where-Object { $_ -like 'What if:*' }).Count | Should -Be 3
        Get-TreeHashes $tree | Should -Be $before
    }

    It 'writes every file with -Confirm:$false in a non-interactive host that would otherwise ask' {
        $child = Invoke-ChildPowerShell "`$ConfirmPreference = 'Low'; Update-ImageChangelog -Path '$tree' -Name base -Reason x -Author a -Email a@example.org -Confirm:`$false | ForEach-Object { `$_.Name }"

        $child.ExitCode | Should -Be 0 -Because $child.Error
        ($child.Output.Trim() -split '\r?\n') | Should -Be @('base', 'left', 'right')
        (Get-ImageGraph $tree).Version | Should -Be @('1.0.0-s1', '0.2-1-s1', '3.1-s1')
    }
}

Describe 'Update-ImageChangelog asks for every file and writes all or none' {
    BeforeEach {
        $tree = New-CascadeTree
        $before = Get-TreeHashes $tree
        $update = "Update-ImageChangelog -Path '$tree' -Name base -Reason x -Author a -Email a@example.org -Confirm -WarningVariable declined | ForEach-Object { 'OUT ' + `$_.Name }; 'DECLINED ' + `$declined.Count"
    }

    It 'writes nothing when one file of the cascade is declined, and says so' {
        # Answers on stdin: yes to base, no to the first dependent, yes to the last.
        $child = Invoke-ChildPowerShell $update -InputText "y`nn`ny`n" -TimeoutSec 120

        $child.ExitCode | Should -Be 0 -Because $child.Error
        ([regex]::Matches($child.Output, 'Are you sure')).Count | Should -Be 3 -Because 'every file is asked for'
        $child.Output | Should -Not -Match 'OUT '
        $child.Output | Should -Match 'DECLINED 1'
        Get-TreeHashes $tree | Should -Be $before
    }

    It 'writes every file when every one is confirmed' {
        $child = Invoke-ChildPowerShell $update -InputText "y`ny`ny`n" -TimeoutSec 120

        $child.ExitCode | Should -Be 0 -Because $child.Error
        ([regex]::Matches($child.Output, 'Are you sure')).Count | Should -Be 3
        ([regex]::Matches($child.Output, 'OUT ')).Count | Should -Be 3
        (Get-ImageGraph $tree).Version | Should -Be @('1.0.0-s1', '0.2-1-s1', '3.1-s1')
    }
}

Describe 'Update-ImageChangelog -Distribution and -Urgency' {
    BeforeAll { $tree = New-CascadeTree }

    It 'writes the given distribution and urgency into every entry of the cascade' {
        $updates = Update-ImageChangelog -Path $tree -Name base -Reason 'x' -Author a -Email a@example.org -Distribution bookworm-security -Urgency low

        $updates.Name | Should -Be @('base', 'left', 'right')
        foreach ($image in 'base', 'left', 'right') {
            (Get-Content (Join-Path $tree $image 'changelog'))[0] | Should -Match "^$image \([^)]+\) bookworm-security; urgency=low$"
        }
    }

    It 'refuses an urgency Debian does not know' {
        { Update-ImageChangelog -Path $tree -Name base -Reason 'x' -Urgency soon } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,ImageTools.Commands.UpdateImageChangelogCommand'
    }
}

Describe 'ChangelogUpdate objects in ordinary PowerShell' {
    BeforeAll {
        $tree = New-CascadeTree
        $updates = Update-ImageChangelog -Path $tree -Name base -Reason 'x' -Author a -Email a@example.org
    }

    It 'filters, sorts and groups on the documented properties' {
        ($updates | Where-Object Cascaded).Name | Should -Be @('left', 'right')
        ($updates | Sort-Object NewVersion).Name | Should -Be @('left', 'base', 'right')
        $updates | Group-Object Cascaded | Sort-Object Name | ForEach-Object Count | Should -Be @(1, 2)
    }

    It 'round-trips through ConvertTo-Json and Export-Csv' {
        $json = $updates | ConvertTo-Json | ConvertFrom-Json
        $json.Name | Should -Be $updates.Name
        $json.NewVersion | Should -Be $updates.NewVersion
        $json.Cascaded | Should -Be $updates.Cascaded

        $csv = Join-Path $TestDrive 'updates.csv'
        $updates | Export-Csv -Path $csv
        $back = Import-Csv $csv
        $back.Name | Should -Be $updates.Name
        $back.OldVersion | Should -Be $updates.OldVersion
        $back.Path | Should -Be $updates.Path
        ($back.Cascaded | ForEach-Object { [bool]::Parse($_) }) | Should -Be $updates.Cascaded
    }
}
