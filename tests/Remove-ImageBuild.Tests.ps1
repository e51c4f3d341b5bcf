#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Prunes old local builds of a tiny tree built on the Docker engine this host's docker CLI talks to
# (busybox:1.36 needed there): two versions and a nightly of one image.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $script:noDocker = -not (Test-DockerEngine)
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

Describe 'Remove-ImageBuild input' {
    It 'refuses a -NightlyDate that is no date, with a stable ErrorId' {
        $tree = Join-Path $TestDrive 'input'
        New-TestImage $tree 'img' "FROM busybox:1.36`n"
        { Remove-ImageBuild -Path $tree -NightlyDate 20261340 } | Should -Throw -ErrorId 'NightlyDateInvalid,ImageTools.Commands.RemoveImageBuildCommand'
    }
}

Describe 'Remove-ImageBuild prunes old builds' -Skip:$noDocker {
    BeforeAll {
        $name = New-TestId 'rib'
        $tree = Join-Path $TestDrive 'tree'
        foreach ($version in '1.0', '2.0') {
            New-TestImage $tree 'img' "FROM busybox:1.36`nRUN echo $version > /v`n" -Files @{ 'image.yaml' = "name: $name`nversion: '$version'`n" }
            $null = Get-ImageGraph $tree | Invoke-ImageBuild
        }
        $null = Get-ImageGraph $tree | Invoke-ImageBuild -Nightly
        $nightly = "${name}:2.0-$(Get-Date -Format yyyyMMdd)"
    }

    AfterAll { Remove-TestImages $name }

    It 'names what would go with -WhatIf and removes nothing' {
        $child = Invoke-ChildPowerShell "Remove-ImageBuild -Path '$tree' -WhatIf"

        $child.ExitCode | Should -Be 0 -Because $child.Error
        $child.Output | Should -BeLike "*What if:*${name}:1.0*"
        $child.Output | Should -BeLike "*What if:*$nightly*"
        @($child.Output -split "`n" | Where-Object { $_ -like 'What if:*' }).Count | Should -Be 2 -Because 'the current version 2.0 stays'

        Get-TestImageTags $name | Should -HaveCount 3
    }

    It 'keeps the nightly builds of -KeepNightlyDate (docker-pkg prune --nightly ID) and names the rest with -WhatIf' {
        $child = Invoke-ChildPowerShell "Remove-ImageBuild -Path '$tree' -KeepNightlyDate $(Get-Date -Format yyyyMMdd) -WhatIf"

        $child.ExitCode | Should -Be 0 -Because $child.Error
        @($child.Output -split "`n" | Where-Object { $_ -like 'What if:*' }) | Should -HaveCount 1
        $child.Output | Should -BeLike "*What if:*${name}:1.0*"
        Get-TestImageTags $name | Should -HaveCount 3
    }

    It 'removes only the nightly build with -Nightly, then the old version, and emits what it removed' {
        $nightlies = Remove-ImageBuild -Path $tree -Name 'rib*' -Nightly -Confirm:$false
        $rest = Remove-ImageBuild -Path $tree -Confirm:$false

        $nightlies | Should -BeOfType ([ImageTools.Pruning.PrunedImage])
        $nightlies.Reference | Should -Be $nightly
        $nightlies.Nightly | Should -BeTrue
        $rest.Reference | Should -Be "${name}:1.0"
        Get-TestImageTags $name | Should -Be "${name}:2.0"
    }
}

Describe 'Remove-ImageBuild without a docker CLI' -Skip:$noDocker {
    BeforeAll {
        $name = New-TestId 'ribapi'
        $tree = Join-Path $TestDrive 'api'
        foreach ($version in '1.0', '2.0') {
            New-TestImage $tree 'one' "FROM busybox:1.36`nRUN echo one $version > /v`n" -Files @{ 'image.yaml' = "name: $name-one`nversion: '$version'`n" }
            New-TestImage $tree 'two' "FROM busybox:1.36`nRUN echo two $version > /v`n" -Files @{ 'image.yaml' = "name: $name-two`nversion: '$version'`n" }
            $null = Get-ImageGraph $tree | Invoke-ImageBuild
        }
        # The child's PATH keeps every directory but those holding a docker CLI: the prune goes through the Engine API alone.
        $separator = [IO.Path]::PathSeparator
        $path = ($env:PATH -split $separator | Where-Object { $_ -and -not (Test-Path (Join-Path $_ 'docker')) -and -not (Test-Path (Join-Path $_ 'docker.exe')) }) -join $separator
        $childEnvironment = @{ PATH = $path }
    }

    AfterAll { Remove-TestImages $name }

    It 'lists with -WhatIf, then removes only the old build of the images -Name selects' {
        $child = Invoke-ChildPowerShell -Environment $childEnvironment @"
if (Get-Command docker -ErrorAction SilentlyContinue) { throw 'a docker CLI is still on PATH' }
Remove-ImageBuild -Path '$tree' -WhatIf
'--'
Remove-ImageBuild -Path '$tree' -Name '*-one' -Confirm:`$false | ForEach-Object { 'removed ' + `$_.Reference }
"@
        $child.ExitCode | Should -Be 0 -Because $child.Error
        $whatIf, $removed = $child.Output -split '--'
        @($whatIf -split "`n" | Where-Object { $_ -like 'What if:*' }).Count | Should -Be 2 -Because "$name-one:1.0 and $name-two:1.0 are old: $whatIf"
        $removed.Trim() | Should -Be "removed ${name}-one:1.0"
        Get-TestImageTags "$name-one" | Should -Be "${name}-one:2.0"
        Get-TestImageTags "$name-two" | Sort-Object | Should -Be @("${name}-two:1.0", "${name}-two:2.0")
    }
}
