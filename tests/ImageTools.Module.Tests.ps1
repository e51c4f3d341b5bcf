#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The laid-out module as PowerShell sees it: manifest, exports, help, views. Needs no Docker.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $manifest = Get-LaidOutManifest
    $module = Import-LaidOutModule
    $cmdlets = 'Get-ImageGraph', 'Test-ImageNeedsRebuild', 'Invoke-ImageBuild', 'Publish-Image', 'Update-ImageChangelog', 'New-ImageBuildPlan', 'Get-ImageArchive', 'Remove-ImageBuild', 'Copy-Image'
}

AfterAll {
    Remove-Module ImageTools -ErrorAction SilentlyContinue
}

Describe 'The ImageTools module' {
    It 'has a valid manifest that exports exactly the six cmdlets' {
        $info = Test-ModuleManifest $manifest
        $info.Version | Should -Not -Be ([version]'0.0.0') -Because 'build.ps1 stamps the version'
        $info.CompatiblePSEditions | Should -Be @('Desktop', 'Core')
        @($module.ExportedCmdlets.Keys | Sort-Object) | Should -Be @($cmdlets | Sort-Object)
        $module.ExportedFunctions.Count | Should -Be 0
        $module.ExportedAliases.Count | Should -Be 0
    }

    It 'has offline help with examples for <_>, and a description for every parameter' -ForEach @(
        'Get-ImageGraph', 'Test-ImageNeedsRebuild', 'Invoke-ImageBuild', 'Publish-Image', 'Update-ImageChangelog', 'New-ImageBuildPlan', 'Get-ImageArchive', 'Remove-ImageBuild', 'Copy-Image') {
        $help = Get-Help $_ -Full
        $help.Synopsis | Should -Not -BeLike "$_*" -Because 'generated help replaces the bare syntax'
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        "$($help.Synopsis)".Trim() | Should -Not -BeNullOrEmpty
        $cmdlet = $_
        @($help.Examples.Example | Where-Object { "$($_.Code)" -like "*$cmdlet*" -and "$($_.Code)" -like '*|*' }) |
            Should -Not -BeNullOrEmpty -Because 'one example shows the cmdlet in a pipeline'
        $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
        $undocumented = (Get-Command $_).Parameters.Keys | Where-Object { $_ -notin $common } | Where-Object {
            $name = $_
            -not ($help.Parameters.Parameter | Where-Object { $_.Name -eq $name -and "$($_.Description.Text)".Trim() })
        }
        $undocumented | Should -BeNullOrEmpty
    }

    It 'has a table view for every object type a cmdlet outputs' {
        $types = $cmdlets | ForEach-Object { (Get-Command $_).OutputType.Type } | Where-Object { $_ -ne [string] } | Sort-Object FullName -Unique
        $types | Should -Not -BeNullOrEmpty
        foreach ($type in $types) {
            $views = (Get-FormatData -TypeName $type.FullName).FormatViewDefinition
            $views.Control | Where-Object { $_ -is [System.Management.Automation.TableControl] } |
                Should -Not -BeNullOrEmpty -Because "$($type.FullName) needs a table view"
        }
    }
}

Describe 'Removing and importing the module again' {
    It 'unloads the cmdlets and loads them again in the same session' {
        Remove-Module ImageTools
        Get-Command Get-ImageGraph -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

        $again = Import-LaidOutModule

        @($again.ExportedCmdlets.Keys | Sort-Object) | Should -Be @($cmdlets | Sort-Object)
        (Get-ImageGraph -Path (Join-Path $PSScriptRoot '../examples')).Count | Should -Be 6 -Because 'the engine and YAML reader still load'
    }
}

Describe 'Completing -Name with the tree''s image names' {
    BeforeAll {
        $tree = Join-Path $PSScriptRoot '../examples' | Resolve-Path | Select-Object -ExpandProperty ProviderPath
    }

    It 'offers the matching names for <_> -Name' -ForEach @('Get-ImageGraph', 'Test-ImageNeedsRebuild', 'Invoke-ImageBuild', 'Update-ImageChangelog') {
        $line = "$_ -Path '$tree' -Name "
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText |
            Should -Be @('app-web', 'base', 'runtime', 'static-files', 'tools', 'worker')
        $line = "$_ -Path '$tree' -Name r"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('runtime')
    }
}

Describe 'The rule for when test services are promised' {
    BeforeAll {
        $names = 'CI', 'TF_BUILD', 'IMAGETOOLS_TEST_DOCKER_HOST', 'IMAGETOOLS_TEST_REGISTRY', 'DOCKER_HOST'
        $saved = @{}
        foreach ($name in $names) { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
        function Set-TestEnvironment([hashtable] $Values) {
            foreach ($name in $names) { [Environment]::SetEnvironmentVariable($name, $Values[$name]) }
        }
    }

    AfterEach {
        foreach ($name in $names) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) }
    }

    It 'is <Promised> for CI=<CI> TF_BUILD=<TF_BUILD> IMAGETOOLS_TEST_DOCKER_HOST=<DockerHost>' -ForEach @(
        @{ CI = $null; TF_BUILD = $null; DockerHost = $null; Promised = $false }
        @{ CI = 'true'; TF_BUILD = $null; DockerHost = $null; Promised = $true }
        @{ CI = 'TRUE'; TF_BUILD = $null; DockerHost = $null; Promised = $true }
        @{ CI = '1'; TF_BUILD = $null; DockerHost = $null; Promised = $true }
        @{ CI = 'yes'; TF_BUILD = $null; DockerHost = $null; Promised = $true }
        @{ CI = 'false'; TF_BUILD = $null; DockerHost = $null; Promised = $false }
        @{ CI = 'False'; TF_BUILD = $null; DockerHost = $null; Promised = $false }
        @{ CI = '0'; TF_BUILD = $null; DockerHost = $null; Promised = $false }
        @{ CI = $null; TF_BUILD = 'True'; DockerHost = $null; Promised = $true }
        @{ CI = 'false'; TF_BUILD = 'True'; DockerHost = $null; Promised = $true }
        @{ CI = $null; TF_BUILD = 'false'; DockerHost = $null; Promised = $false }
        @{ CI = $null; TF_BUILD = $null; DockerHost = 'unix:///tmp/x.sock'; Promised = $true }
    ) {
        Set-TestEnvironment @{ CI = $CI; TF_BUILD = $TF_BUILD; IMAGETOOLS_TEST_DOCKER_HOST = $DockerHost }

        Test-ServicesPromised | Should -Be $Promised
    }

    It 'fails loudly when promised services are missing, and skips with a reason otherwise' {
        $missing = 'unix://' + (Join-Path $TestDrive 'no-such-docker.sock')
        Set-TestEnvironment @{ CI = 'true'; DOCKER_HOST = $missing }
        { Test-DockerEngine } | Should -Throw '*promises it*'
        { Test-TestRegistry } | Should -Throw '*IMAGETOOLS_TEST_REGISTRY is not set*'

        Set-TestEnvironment @{ CI = 'false'; DOCKER_HOST = $missing }
        $answer, $why = Test-DockerEngine 3>&1 | Sort-Object { $_ -is [System.Management.Automation.WarningRecord] }
        $answer | Should -BeFalse
        "$why" | Should -BeLike '*Skipping*unreachable*'
        Test-TestRegistry 3>$null | Should -BeFalse
    }
}
