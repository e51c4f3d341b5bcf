#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Runs against the laid-out module (./build.ps1 -Task Package, or -Task Test which does it first).

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $manifest = Get-LaidOutManifest
    $null = Import-LaidOutModule

}

AfterAll {
    Remove-Module ImageTools -ErrorAction SilentlyContinue
}

Describe 'Get-ImageGraph' {
    It 'reads YAML through its own YamlDotNet from the dependencies folder, and keeps the engine where scripts can name its types' {
        $node = Get-ImageGraph -Path (Join-Path $PSScriptRoot '../examples') | Select-Object -First 1
        $root = Split-Path $manifest
        $dependencies = Join-Path $root 'dependencies'

        $node | Should -BeOfType ([ImageTools.Graph.ImageNode])
        $node.GetType().Assembly.Location | Should -Be (Join-Path $root 'ImageTools.Engine.dll' | Resolve-Path).ProviderPath
        $reader = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'ImageTools.Yaml' }
        $reader.Location | Should -Be (Join-Path $dependencies 'ImageTools.Yaml.dll' | Resolve-Path).ProviderPath
        if ($PSEdition -eq 'Core') {
            # An isolated context, so another module's YamlDotNet in PowerShell's own stays apart.
            $context = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($reader)
            $context.Name | Should -Be 'ImageTools'
            $yaml = $context.Assemblies | Where-Object { $_.GetName().Name -eq 'YamlDotNet' }
            $yaml.Location | Should -Be (Join-Path $dependencies 'YamlDotNet.dll' | Resolve-Path).ProviderPath
            $inPowerShellsContext = [System.Runtime.Loader.AssemblyLoadContext]::Default.Assemblies | Where-Object { -not $_.IsDynamic }
            $inPowerShellsContext.Location | Should -Not -Contain $yaml.Location
        }
    }

    BeforeEach {
        $tree = Join-Path $TestDrive ([guid]::NewGuid())
        New-TestImage $tree 'base' "FROM busybox:1.36`n"
        New-TestImage $tree 'runtime' "FROM base`n" -Files @{ 'image.yaml' = "version: '1.0'`n" }
        New-TestImage $tree 'app' "FROM runtime AS build`nFROM base`nCOPY --from=build /x /x`n"
        New-TestImage $tree 'other' "FROM scratch`n"
    }

    It 'emits typed nodes in build order' {
        $nodes = Get-ImageGraph -Path $tree

        $nodes | ForEach-Object { $_ | Should -BeOfType ([ImageTools.Graph.ImageNode]) }
        $nodes.Name | Should -Be @('base', 'other', 'runtime', 'app')
        ($nodes | Where-Object Name -eq 'app').Level | Should -Be 2
        ($nodes | Where-Object Name -eq 'runtime').Reference | Should -Be 'runtime:1.0'
        ($nodes | Where-Object Name -eq 'base').BaseImages | Should -Be @('busybox:1.36')
    }

    It 'resolves a relative path against the PowerShell location' {
        Push-Location $tree
        try { (Get-ImageGraph .).Count | Should -Be 4 }
        finally { Pop-Location }
    }

    It 'takes the path from the pipeline' {
        (Get-Item $tree | Get-ImageGraph).Count | Should -Be 4
    }

    It 'selects by wildcard and adds dependencies or dependents' {
        (Get-ImageGraph $tree -Name 'run*').Name | Should -Be @('runtime')
        (Get-ImageGraph $tree -Name runtime -IncludeDependencies).Name | Should -Be @('base', 'runtime')
        (Get-ImageGraph $tree -Name runtime -IncludeDependents).Name | Should -Be @('runtime', 'app')
    }

    It 'writes ImageNotFound for a literal name that matches nothing and goes on' {
        $nodes = Get-ImageGraph $tree -Name 'nope', 'base' -ErrorVariable problems -ErrorAction SilentlyContinue

        $nodes.Name | Should -Be @('base')
        $problems[0].FullyQualifiedErrorId | Should -Be 'ImageNotFound,ImageTools.Commands.GetImageGraphCommand'
    }

    It 'renders DOT and Mermaid text' {
        Get-ImageGraph $tree -Format Dot | Should -Match '"base" -> "runtime";'
        Get-ImageGraph $tree -Format Mermaid | Should -Match '^graph TD'
    }

    It 'fails with TreeNotFound for a missing directory' {
        { Get-ImageGraph (Join-Path $TestDrive 'missing') } |
            Should -Throw -ErrorId 'TreeNotFound,ImageTools.Commands.GetImageGraphCommand'
    }

    It 'names a missing tree by its full path, the same way from every cmdlet' -ForEach @(
        @{ Command = { param($Path) Get-ImageGraph -Path $Path }; Class = 'GetImageGraphCommand' }
        @{ Command = { param($Path) Test-ImageNeedsRebuild -Path $Path }; Class = 'TestImageNeedsRebuildCommand' }
        @{ Command = { param($Path) Invoke-ImageBuild -Path $Path -WhatIf }; Class = 'InvokeImageBuildCommand' }
        @{ Command = { param($Path) Update-ImageChangelog -Path $Path -Name x -Reason r -WhatIf }; Class = 'UpdateImageChangelogCommand' }
    ) {
        Push-Location $TestDrive
        try { $thrown = { & $Command './missing' } | Should -Throw -ErrorId "TreeNotFound,ImageTools.Commands.$Class" -PassThru }
        finally { Pop-Location }

        $full = Join-Path $TestDrive 'missing'
        $thrown.TargetObject | Should -Be $full
        $thrown.Exception.Message | Should -BeLike "$full`: The image tree directory does not exist. Pass -Path*"
    }

    It 'warns when the tree holds no image directory, so a wrong -Path does not pass quietly' {
        $empty = New-Item -ItemType Directory (Join-Path $TestDrive ([guid]::NewGuid()))

        $nodes = Get-ImageGraph $empty -WarningVariable warnings -WarningAction SilentlyContinue

        $nodes | Should -BeNullOrEmpty
        $warnings | Should -HaveCount 1
        "$($warnings[0])" | Should -BeLike "There are no image directories under $($empty.FullName)*Check -Path."
    }

    It 'fails with DependencyCycle and prints the cycle' {
        New-TestImage $tree 'base' "FROM app`n"

        { Get-ImageGraph $tree } | Should -Throw -ErrorId 'DependencyCycle,ImageTools.Commands.GetImageGraphCommand'
        { Get-ImageGraph $tree } | Should -Throw '*→*'
    }

    It 'reports malformed image.yaml with file and line' {
        Set-Content (Join-Path $tree 'runtime/image.yaml') "version: '1.0'`ntags: [unclosed`n"

        $thrown = { Get-ImageGraph $tree } | Should -Throw -ErrorId 'InvalidYaml,ImageTools.Commands.GetImageGraphCommand' -PassThru
        $thrown.Exception.Message | Should -BeLike '*image.yaml:*'
    }

    It 'completes image names for -Name' {
        $result = TabExpansion2 -inputScript "Get-ImageGraph -Path '$tree' -Name ru" -cursorColumn ("Get-ImageGraph -Path '$tree' -Name ru").Length
        $result.CompletionMatches.CompletionText | Should -Be @('runtime')
    }

    It 'completes image names of a tree given relative to the PowerShell location, or of the location itself' {
        Push-Location (Split-Path $tree)
        try {
            $line = "Get-ImageGraph -Path ./$(Split-Path -Leaf $tree) -Name a"
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('app')
            Set-Location $tree
            $line = 'Invoke-ImageBuild -Name '
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('app', 'base', 'other', 'runtime')
        }
        finally {
            Pop-Location
        }
    }
}

Describe 'Unusable -Path and piped input' {
    BeforeAll {
        $trees = Join-Path $TestDrive ([guid]::NewGuid())
        foreach ($name in 'one', 'two') { New-TestImage (Join-Path $trees $name) 'img' "FROM busybox:1.36`n" }
    }

    It 'reads every tree a wildcard -Path matches in Get-ImageGraph, which takes many trees' {
        (Get-ImageGraph -Path (Join-Path $trees '*')).Directory | Should -Be @((Join-Path $trees 'one/img'), (Join-Path $trees 'two/img'))
    }

    It 'fails with AmbiguousPath when a wildcard -Path matches several directories, from <Class>' -ForEach @(
        @{ Command = { param($Path) Test-ImageNeedsRebuild -Path $Path -Local }; Class = 'TestImageNeedsRebuildCommand' }
        @{ Command = { param($Path) Invoke-ImageBuild -Path $Path -WhatIf }; Class = 'InvokeImageBuildCommand' }
        @{ Command = { param($Path) Update-ImageChangelog -Path $Path -Name img -Reason r -WhatIf }; Class = 'UpdateImageChangelogCommand' }
    ) {
        $thrown = { & $Command (Join-Path $trees '*') } | Should -Throw -ErrorId "AmbiguousPath,ImageTools.Commands.$Class" -PassThru
        $thrown.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'fails with PathNotFileSystem for a path on another provider, from <Class>' -ForEach @(
        @{ Command = { Get-ImageGraph -Path 'Env:' }; Class = 'GetImageGraphCommand' }
        @{ Command = { Test-ImageNeedsRebuild -Path 'Env:' -Local }; Class = 'TestImageNeedsRebuildCommand' }
        @{ Command = { Invoke-ImageBuild -Path 'Env:' -WhatIf }; Class = 'InvokeImageBuildCommand' }
        @{ Command = { Update-ImageChangelog -Path 'Env:' -Name img -Reason r -WhatIf }; Class = 'UpdateImageChangelogCommand' }
    ) {
        $Command | Should -Throw -ErrorId "PathNotFileSystem,ImageTools.Commands.$Class"
    }

    It 'fails with MixedTrees when images of two Get-ImageGraph calls are piped together, into <Class>' -ForEach @(
        @{ Command = { param($Nodes) $Nodes | Test-ImageNeedsRebuild -Local }; Class = 'TestImageNeedsRebuildCommand' }
        @{ Command = { param($Nodes) $Nodes | Invoke-ImageBuild -WhatIf }; Class = 'InvokeImageBuildCommand' }
        @{ Command = { param($Nodes) $Nodes | Update-ImageChangelog -Reason r -WhatIf }; Class = 'UpdateImageChangelogCommand' }
    ) {
        $nodes = Get-ImageGraph (Join-Path $trees '*')

        { & $Command $nodes } | Should -Throw -ErrorId "MixedTrees,ImageTools.Commands.$Class"
    }
}

Describe 'ImageNode objects in ordinary PowerShell' {
    BeforeAll {
        $nodes = Get-ImageGraph -Path (Join-Path $PSScriptRoot '../examples')
    }

    It 'filters, sorts and groups on the documented properties' {
        ($nodes | Where-Object Level -eq 2 | Sort-Object Name).Name | Should -Be @('app-web', 'worker')
        ($nodes | Sort-Object Level, Name -Descending | Select-Object -First 1).Name | Should -Be 'worker'
        $levels = $nodes | Group-Object Level | Sort-Object Name
        $levels.Name | Should -Be @('0', '1', '2')
        $levels | ForEach-Object Count | Should -Be @(2, 2, 2)
        ($nodes | Where-Object { $_.Dependencies -contains 'base' }).Name | Should -Be @('runtime', 'tools')
    }

    It 'round-trips through ConvertTo-Json and Export-Csv' {
        $json = $nodes | ConvertTo-Json -WarningAction SilentlyContinue | ConvertFrom-Json
        $json.Name | Should -Be $nodes.Name
        $json.Reference | Should -Be $nodes.Reference
        $json.Level | Should -Be $nodes.Level
        ($json | Where-Object Name -eq 'app-web').Dependencies | Should -Be @('runtime', 'tools')

        $csv = Join-Path $TestDrive 'nodes.csv'
        $nodes | Select-Object Name, Version, Reference, Level, Directory | Export-Csv -Path $csv
        $back = Import-Csv $csv
        $back.Name | Should -Be $nodes.Name
        $back.Version | Should -Be ($nodes | ForEach-Object { "$($_.Version)" }) -Because 'CSV writes a missing version as empty'
        $back.Directory | Should -Be $nodes.Directory
        [int[]] $back.Level | Should -Be $nodes.Level
    }
}

Describe 'Per-name errors in Azure Pipelines' {
    BeforeAll {
        $tree = Join-Path $TestDrive ([guid]::NewGuid())
        New-TestImage $tree 'base' "FROM busybox:1.36`n"
    }

    It 'writes ImageNotFound also as a logging command when TF_BUILD is set, from <Command>' -ForEach @(
        @{ Command = 'Get-ImageGraph' }
        @{ Command = 'Update-ImageChangelog -Reason r -WhatIf' }
    ) {
        $verb, $rest = $Command -split ' ', 2
        $child = Invoke-ChildPowerShell "$verb -Path '$tree' -Name nope $rest -ErrorAction SilentlyContinue | Out-Null" -Environment @{ TF_BUILD = 'True' }

        $child.ExitCode | Should -Be 0 -Because $child.Error
        @($child.Output -split '\r?\n' | Where-Object { $_ -like '##vso`[task.logissue type=error*code=ImageNotFound*' -and $_ -like "*'nope'*" }) | Should -HaveCount 1
    }
}

Describe 'A docker_build docker_images file as the tree' {
    BeforeAll {
        $tree = Join-Path $TestDrive ([guid]::NewGuid())
        New-TestImage $tree 'base' "FROM busybox:1.36`n"
        New-TestImage $tree 'apps/web' "FROM base`n"
        Set-Content -NoNewline -Path (Join-Path $tree "docker_images") -Value "# Name`tDirectory`tBase`tOptions`n--platform=linux/amd64`nbase:1.0`tbase`nweb`tapps/web`tbase:1.0`n"
    }

    It 'reads names, tags and directories from the file, and -Name selects among them' {
        $nodes = Get-ImageGraph -Path (Join-Path $tree 'docker_images')

        $nodes.Name | Should -Be @('base', 'web')
        $nodes.Reference | Should -Be @('base:1.0', 'web:latest')
        $nodes[1].Dependencies | Should -Be @('base')
        (Get-ImageGraph -Path (Join-Path $tree 'docker_images') -Name web).Directory | Should -Be (Join-Path $tree 'apps/web')
    }

    It 'names the file and line of a line it cannot read' {
        $bad = Join-Path $TestDrive ([guid]::NewGuid())
        New-TestImage $bad 'x' "FROM busybox:1.36`n"
        Set-Content -NoNewline -Path (Join-Path $bad "docker_images") -Value "x`tx`t--squash`n"

        { Get-ImageGraph -Path (Join-Path $bad 'docker_images') -ErrorAction Stop } | Should -Throw "*--squash*"
    }
}

Describe "The 2014 builder's builder.yaml as the tree" {
    BeforeAll {
        $tree = Join-Path $TestDrive ([guid]::NewGuid())
        New-TestImage $tree 'base' "FROM busybox:1.36`n"
        New-TestImage $tree 'apps/web' "FROM base:1.0`n"
        Set-Content -NoNewline -Path (Join-Path $tree 'builder.yaml') -Value "builder:`n  images:`n    - name: web`n      from: base:1.0`n      path: apps/web`n    - name: base:1.0`n      from: busybox:1.36`n"
    }

    It 'reads names, tags, directories and froms from the file' {
        $nodes = Get-ImageGraph -Path (Join-Path $tree 'builder.yaml')

        $nodes.Name | Should -Be @('base', 'web')
        $nodes.Reference | Should -Be @('base:1.0', 'web:latest')
        $nodes[1].Dependencies | Should -Be @('base')
    }

    It 'names the file and line of an entry it cannot read' {
        $bad = Join-Path $TestDrive ([guid]::NewGuid())
        New-Item -ItemType Directory -Force $bad | Out-Null
        Set-Content -NoNewline -Path (Join-Path $bad 'builder.yaml') -Value "builder:`n  images:`n    - name: x`n"

        { Get-ImageGraph -Path (Join-Path $bad 'builder.yaml') -ErrorAction Stop } | Should -Throw -ErrorId 'BuilderFileInvalid*'
    }
}
