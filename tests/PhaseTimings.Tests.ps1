#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# -Verbose ends each command with one line per phase it ran and its duration ("Phase scan: 0.012 s
# (2 images)"), so a slow run shows where the time went. Get-ImageGraph needs nothing; the others
# use the local engine (busybox:1.36), no registry.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $script:noDocker = -not (Test-DockerEngine)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $null = Import-LaidOutModule
    Use-TempDirectory $TestDrive
    $id = New-TestId 'ph'
    $tree = Join-Path $TestDrive $id
    New-TestImage $tree 'base' "FROM busybox:1.36`n" -Files @{ 'image.yaml' = "name: $id-base`n" }
    New-TestImage $tree 'app' "FROM $id-base`n" -Files @{ 'image.yaml' = "name: $id-app`n"; 'test.sh' = "#!/bin/sh`nexit 0`n" }

    # The verbose messages of one command, in order.
    function Get-VerboseLines([scriptblock] $Command) {
        @(& $Command 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
    }
    $phaseLine = '^Phase (?<phase>[a-z]+): \d+\.\d{3} s( \(.+\))?$'
}

AfterAll {
    Remove-TestImages $id
    Restore-TempDirectory
    Remove-Module ImageTools -ErrorAction SilentlyContinue
}

Describe 'Per-phase timings in -Verbose' {
    It 'Get-ImageGraph ends with the scan and graph phases' {
        $lines = Get-VerboseLines { Get-ImageGraph $tree -Verbose }

        $lines[-2] | Should -Match '^Phase scan: \d+\.\d{3} s \(2 images\)$'
        $lines[-1] | Should -Match '^Phase graph: \d+\.\d{3} s \(1 edges\)$'
        @($lines -match $phaseLine) | Should -HaveCount 2
    }

    It 'writes nothing of the kind without -Verbose' {
        @(Get-ImageGraph $tree 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }) | Should -HaveCount 0
    }
}

Describe 'Per-phase timings of a build and a check' -Skip:$noDocker {
    It 'Invoke-ImageBuild -Path ends with scan, graph, build and verify; Test-ImageNeedsRebuild -Path with scan, graph and plan' {
        $build = Get-VerboseLines { Invoke-ImageBuild -Path $tree -Verbose }
        $phases = $build | ForEach-Object { if ($_ -match $phaseLine) { $Matches.phase } }
        $phases | Should -Be @('scan', 'graph', 'build', 'verify')
        $build[-2] | Should -Match '^Phase build: \d+\.\d{3} s \(2 images, \d+ at a time, verification included\)$'
        # Only app has a test.sh, but every built image goes through verification.
        $build[-1] | Should -Match '^Phase verify: \d+\.\d{3} s \(2 images, summed over parallel builds\)$'
        ($build | Select-Object -Last 4) -notmatch $phaseLine | Should -BeNullOrEmpty -Because 'the phase lines come last'

        $check = Get-VerboseLines { Test-ImageNeedsRebuild -Path $tree -Verbose }
        ($check | ForEach-Object { if ($_ -match $phaseLine) { $Matches.phase } }) | Should -Be @('scan', 'graph', 'plan')
        $check[-1] | Should -Match '^Phase plan: \d+\.\d{3} s \(2 images against the local engine\)$'
    }

    It 'writes the plan phase only once the check is piped from Get-ImageGraph (the scan was that command''s)' {
        $lines = Get-VerboseLines { Get-ImageGraph $tree | Test-ImageNeedsRebuild -Verbose }

        ($lines | ForEach-Object { if ($_ -match $phaseLine) { $Matches.phase } }) | Should -Be @('plan')
    }
}
