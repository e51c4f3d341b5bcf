#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Compares with the Docker engine this host's docker CLI talks to (local mode: the trees here have
# no registry). Every image gets a unique name and is removed afterwards. Needs busybox:1.36.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $script:noDocker = -not (Test-DockerEngine)
    $script:noRegistry = $noDocker -or -not (Test-TestRegistry)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $manifest = Get-LaidOutManifest
    $null = Import-LaidOutModule
    Use-TempDirectory $TestDrive
}

AfterAll {
    Restore-TempDirectory
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

    It 'forces by external base the images that build on it, and refuses a name that matches nothing' {
        (Test-ImageNeedsRebuild -Path $tree -ForceName 'docker.io/library/busybox:1.36' | Where-Object { $_.Reasons -contains 'Forced' }).Name | Should -Be @("tn$id-base")
        (Test-ImageNeedsRebuild -Path $tree -All -ForceName 'busybox' | Where-Object { $_.Reasons -contains 'Forced' }).Name | Should -Be @("tn$id-app")
        { Test-ImageNeedsRebuild -Path $tree -ForceName "tn$id-typo" -ErrorAction Stop } | Should -Throw -ErrorId 'ForcedNameNotFound*'
        { Test-ImageNeedsRebuild -Path $tree -ForceName 'busybox:1.35' -ErrorAction Stop } | Should -Throw "*'busybox:1.35' names no image*"
    }

    It 'forces by name, and -All with names forces all the others' {
        (Test-ImageNeedsRebuild -Path $tree -ForceName "tn$id-app" | Where-Object { $_.Reasons -contains 'Forced' }).Name | Should -Be @("tn$id-app")
        (Test-ImageNeedsRebuild -Path $tree -All -ForceName "tn$id-app" | Where-Object { $_.Reasons -contains 'Forced' }).Name | Should -Be @("tn$id-base")
    }

    It 'stops with RegistryUnreachable when the registry does not answer, and -Local still works' {
        # Port 9 (discard) on loopback: nothing listens there on a normal host.
        Set-Content (Join-Path $tree 'imagetools.yaml') "registry: 127.0.0.1:9`n"

        { Test-ImageNeedsRebuild -Path $tree } | Should -Throw -ErrorId 'RegistryUnreachable,ImageTools.Commands.TestImageNeedsRebuildCommand'
        # The retries that came before are on the verbose stream, each once.
        $records = [System.Collections.Generic.List[object]]::new()
        try { Test-ImageNeedsRebuild -Path $tree -Verbose 4>&1 | ForEach-Object { $records.Add($_) } } catch { $records.Add($_) }
        $verbose = $records | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        @($verbose | Where-Object { $_.Message -like '127.0.0.1:9: *attempt 1 of * failed, trying again*' }) | Should -Not -BeNullOrEmpty
        @($verbose.Message | Group-Object | Where-Object Count -gt 1) | Should -BeNullOrEmpty
        (Test-ImageNeedsRebuild -Path $tree -Local).Count | Should -Be 2
    }
}

Describe 'Test-ImageNeedsRebuild on a built tree' -Skip:$noDocker {
    BeforeAll {
        $id = New-TestId 'tb'
        $tree = Join-Path $TestDrive $id
        New-TestImage $tree 'base' "FROM busybox:1.36`nARG FLAVOUR=plain`n" -Files @{ 'image.yaml' = "name: $id-base`nversion: '1.0'`n" }
        New-TestImage $tree 'app-one' "FROM $id-base`n" -Files @{ 'image.yaml' = "name: $id-app-one`n" }
        New-TestImage $tree 'app-two' "FROM $id-base`n" -Files @{ 'image.yaml' = "name: $id-app-two`n" }
        $built = Get-ImageGraph $tree | Invoke-ImageBuild -BuildArg @{ FLAVOUR = 'plain' } -ThrottleLimit 2
    }

    AfterAll { Remove-TestImages $id }

    It 'finds the tree up to date with the build args it was built with, with -ThrottleLimit 1' {
        $built.Status | Should -Be @('Built', 'Built', 'Built')
        $statuses = Test-ImageNeedsRebuild -Path $tree -BuildArg @{ FLAVOUR = 'plain' } -ThrottleLimit 1

        $statuses.NeedsRebuild | Should -Be @($false, $false, $false)
    }

    It 'sees other -BuildArg values as changed inputs, cascades, and warns that the version needs a bump' {
        $statuses = Test-ImageNeedsRebuild -Path $tree -BuildArg @{ FLAVOUR = 'spicy' } -WarningVariable warnings -WarningAction SilentlyContinue

        $base = $statuses | Where-Object Name -eq "$id-base"
        $base.Reasons | Should -Be @('InputsChanged')
        $base.VersionBumpNeeded | Should -BeTrue
        # Build args are inputs of every image, so the dependents changed too, and cascade on top.
        ($statuses | Where-Object Name -like "$id-app-*") | ForEach-Object { $_.Reasons | Should -Be @('InputsChanged', 'ParentRebuilt') }
        @($warnings | Where-Object { "$_" -like "*$id-base:1.0*version*" }) | Should -HaveCount 1
        ($statuses | Where-Object Name -like "$id-app-*").VersionBumpNeeded | Should -Be @($false, $false) -Because 'they have no explicit version'
    }

    It 'also writes the VersionBumpNeeded warning as a logging command when TF_BUILD is set' {
        $child = Invoke-ChildPowerShell "Test-ImageNeedsRebuild -Path '$tree' -BuildArg @{ FLAVOUR = 'spicy' } -WarningAction SilentlyContinue | Out-Null" -Environment @{ TF_BUILD = 'True' }

        $child.ExitCode | Should -Be 0 -Because $child.Error
        @($child.Output -split '\r?\n' | Where-Object { $_ -like '##vso`[task.logissue type=warning*' -and $_ -like "*$id-base:1.0*version*" }) | Should -HaveCount 1
    }

    It 'forces the images a wildcard -ForceName matches, and -All the others' {
        $forced = Test-ImageNeedsRebuild -Path $tree -BuildArg @{ FLAVOUR = 'plain' } -ForceName "$id-app-*"
        ($forced | Where-Object { $_.Reasons -contains 'Forced' }).Name | Should -Be @("$id-app-one", "$id-app-two")

        $others = Test-ImageNeedsRebuild -Path $tree -BuildArg @{ FLAVOUR = 'plain' } -ForceName "$id-app-*" -All
        ($others | Where-Object { $_.Reasons -contains 'Forced' }).Name | Should -Be @("$id-base")
    }

    It 'writes progress records, and nothing to the console itself' {
        $shell = [powershell]::Create()
        try {
            $null = $shell.AddScript("Import-Module '$manifest'; Test-ImageNeedsRebuild -Path '$tree'")
            $shell.Invoke() | Should -HaveCount 3
            $shell.Streams.Progress | Where-Object Activity -like '*Test-ImageNeedsRebuild*' | Should -Not -BeNullOrEmpty
        }
        finally { $shell.Dispose() }

        # Every stream PowerShell knows is silenced: anything left was written around them.
        $child = Invoke-ChildPowerShell "`$ProgressPreference = 'SilentlyContinue'; `$r = Test-ImageNeedsRebuild -Path '$tree' -Verbose 2>`$null 3>`$null 4>`$null 5>`$null 6>`$null; 'COUNT ' + @(`$r).Count"
        $child.ExitCode | Should -Be 0 -Because $child.Error
        $child.Output.Trim() | Should -Be 'COUNT 3'
        $child.Error | Should -BeNullOrEmpty
    }

    It 'composes with Where-Object, Sort-Object, Group-Object, and round-trips through JSON and CSV' {
        $statuses = Test-ImageNeedsRebuild -Path $tree -BuildArg @{ FLAVOUR = 'spicy' } -WarningAction SilentlyContinue

        ($statuses | Where-Object NeedsRebuild | Sort-Object Name -Descending).Name | Should -Be @("$id-base", "$id-app-two", "$id-app-one")
        $statuses | Group-Object { $_.Reasons.Count } | Sort-Object Name | ForEach-Object Count | Should -Be @(1, 2)
        $json = $statuses | ConvertTo-Json -WarningAction SilentlyContinue | ConvertFrom-Json
        $json.Name | Should -Be $statuses.Name
        $json.InputsDigest | Should -Be $statuses.InputsDigest
        $json.NeedsRebuild | Should -Be $statuses.NeedsRebuild
        $csv = Join-Path $TestDrive 'statuses.csv'
        $statuses | Select-Object Name, Reference, NeedsRebuild, InputsDigest, VersionBumpNeeded | Export-Csv -Path $csv
        $back = Import-Csv $csv
        $back.Reference | Should -Be $statuses.Reference
        $back.InputsDigest | Should -Be $statuses.InputsDigest
        ($back.VersionBumpNeeded | ForEach-Object { [bool]::Parse($_) }) | Should -Be $statuses.VersionBumpNeeded
    }
}

Describe 'Test-ImageNeedsRebuild against a registry with -Credential' -Skip:$noRegistry {
    BeforeAll {
        $registry = $env:IMAGETOOLS_TEST_REGISTRY
        $id = New-TestId 'tr'
        $tree = Join-Path $TestDrive $id
        # The external base comes from the test registry too, so that the base check asks no other registry.
        $base = "$registry/$id/busybox:1.36"
        docker tag busybox:1.36 $base
        docker push $base *> $null
        if ($LASTEXITCODE -ne 0) { throw "Cannot push $base to the test registry $registry" }
        New-TestImage $tree 'img' "FROM $base`n" -Files @{ 'image.yaml' = "name: $id`nversion: '1.0'`n" }
        Set-Content (Join-Path $tree 'imagetools.yaml') "registry: $registry`nnamespace: $id`n"
        $credential = [pscredential]::new('tester', (ConvertTo-SecureString 'not-needed-here' -AsPlainText -Force))
    }

    AfterAll {
        # The base tag first: it shares busybox's image id, which Remove-TestImages would take for ours.
        docker image rm $base *> $null
        Remove-TestImages $id
    }

    It 'asks the registry: NotPublished before a push, up to date after it' {
        (Test-ImageNeedsRebuild -Path $tree -Credential $credential).Reasons | Should -Be @('NotPublished')

        Get-ImageGraph $tree | Invoke-ImageBuild | Publish-Image -Credential $credential | Out-Null

        $status = Test-ImageNeedsRebuild -Path $tree -Credential $credential
        $status.NeedsRebuild | Should -BeFalse
        $status.PublishedDigest | Should -Not -BeNullOrEmpty
    }
}

Describe 'A git context' -Skip:$noDocker {
    BeforeAll {
        function Invoke-TestGit { param([string] $Repository) git -C $Repository -c user.name=Test -c user.email=test@example.org @args; if ($LASTEXITCODE) { throw "git $args failed" } }
    }

    BeforeEach {
        $id = New-TestId 'gc'
        $repository = Join-Path $TestDrive "$id/repo.git"
        New-Item -ItemType Directory -Force (Join-Path $repository 'app') | Out-Null
        Set-Content -NoNewline -Path (Join-Path $repository 'app/Dockerfile') -Value "FROM busybox:1.36`nCOPY hello.txt /hello.txt`n"
        Set-Content -NoNewline -Path (Join-Path $repository 'app/hello.txt') -Value "one`n"
        Invoke-TestGit $repository init -q -b main
        Invoke-TestGit $repository add -A
        Invoke-TestGit $repository commit -q -m first
        $url = ([System.Uri]::new($repository, [System.UriKind]::Absolute)).AbsoluteUri
        $tree = Join-Path $TestDrive "$id/tree"
        New-Item -ItemType Directory -Force (Join-Path $tree 'app') | Out-Null
        Set-Content -NoNewline -Path (Join-Path $tree 'app/image.yaml') -Value "name: $id-app`ncontext: $url#main:app`n"
    }

    AfterEach {
        Remove-TestImages $id
    }

    It 'shows the commit its ref names, is up to date after a build and stale after a new commit' {
        $first = (git -C $repository rev-parse HEAD).Trim()

        $node = Get-ImageGraph -Path $tree
        $node.ContextCommit | Should -Be $first
        $node.Context | Should -Be "$url#main:app"
        $node | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | Invoke-ImageBuild | ForEach-Object { $_.Status | Should -Be 'Built' -Because $_.Error }
        (Get-ImageGraph -Path $tree | Test-ImageNeedsRebuild).NeedsRebuild | Should -BeFalse

        Set-Content -NoNewline -Path (Join-Path $repository 'app/hello.txt') -Value "two`n"
        Invoke-TestGit $repository commit -q -am second
        $status = Get-ImageGraph -Path $tree | Test-ImageNeedsRebuild
        $status.Node.ContextCommit | Should -Be (git -C $repository rev-parse HEAD).Trim()
        $status.Reasons | Should -Be @('InputsChanged')
    }

    It 'names the image and the ref that the repository does not have' {
        Set-Content -NoNewline -Path (Join-Path $tree 'app/image.yaml') -Value "name: $id-app`ncontext: $url#nosuch:app`n"

        { Get-ImageGraph -Path $tree -ErrorAction Stop } | Should -Throw -ErrorId 'GitRefNotFound*'
    }
}
