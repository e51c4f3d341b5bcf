#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Publishes to an archive directory under $TestDrive, and to the test registry named by
# IMAGETOOLS_TEST_REGISTRY (tests/services/start.sh). Builds tiny images on the Docker engine this
# host's docker CLI talks to (busybox:1.36 needed there) once per Describe; each Describe removes
# its own local tags, and every registry test pushes under a namespace of its own.

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

Describe 'Publish-Image to an archive' -Skip:$noDocker {
    BeforeAll {
        $name = New-TestId 'pi'
        $tree = Join-Path $TestDrive 'tree'
        New-TestImage $tree 'img' "FROM busybox:1.36`nRUN echo $name > /name`n" -Files @{ 'image.yaml' = "name: $name`nversion: '1.0'`n" }
        New-TestImage $tree 'broken' "FROM busybox:1.36`nRUN false`n" -Files @{ 'image.yaml' = "name: $name-broken`n" }
        $results = Get-ImageGraph $tree | Invoke-ImageBuild -ErrorAction SilentlyContinue
        $built = $results | Where-Object Status -eq 'Built'
        $failed = $results | Where-Object Status -eq 'Failed'
        # An image directory that no build ever made.
        $unbuiltTree = Join-Path $TestDrive 'unbuilt'
        New-TestImage $unbuiltTree 'img' "FROM busybox:1.36`n" -Files @{ 'image.yaml' = "name: $name-never`n" }
    }

    AfterAll { Remove-TestImages $name }

    It 'archives a built image, and a second run is AlreadyPublished' {
        $archive = Join-Path $TestDrive ([guid]::NewGuid())

        $first = $built | Publish-Image -ArchivePath $archive
        $second = $built | Publish-Image -ArchivePath $archive

        $first | Should -BeOfType ([ImageTools.Publishing.PublishResult])
        $first.Status | Should -Be 'Archived'
        $second.Status | Should -Be 'AlreadyPublished'
        (Get-Content -Raw (Join-Path $archive 'index.json') | ConvertFrom-Json).name | Should -Be $name
    }

    It 'names every image with -WhatIf and writes nothing' {
        $archive = Join-Path $TestDrive ([guid]::NewGuid())

        $child = Invoke-ChildPowerShell "Get-ImageGraph '$tree' -Name '$name' | Publish-Image -ArchivePath '$archive' -WhatIf"

        $child.ExitCode | Should -Be 0 -Because $child.Error
        @($child.Output -split '\r?\n' | Where-Object { $_ -like "What if:*`"$name`:1.0`"*" }) | Should -HaveCount 1
        Test-Path $archive | Should -BeFalse
    }

    It 'archives with -Confirm:$false in a non-interactive host that would otherwise ask' {
        $archive = Join-Path $TestDrive ([guid]::NewGuid())

        $child = Invoke-ChildPowerShell "`$ConfirmPreference = 'Low'; (Get-ImageGraph '$tree' -Name '$name' | Publish-Image -ArchivePath '$archive' -Confirm:`$false).Status"

        $child.ExitCode | Should -Be 0 -Because $child.Error
        $child.Output.Trim() | Should -Be 'Archived'
        Test-Path (Join-Path $archive 'index.json') | Should -BeTrue
    }

    It 'writes an error for each failed build result piped in, with the image as target, and publishes the rest' {
        $archive = Join-Path $TestDrive ([guid]::NewGuid())

        $published = $results | Publish-Image -ArchivePath $archive -ErrorVariable problems -ErrorAction SilentlyContinue

        $failed.Status | Should -Be 'Failed'
        $published.Name | Should -Be @($name)
        $problems | Should -HaveCount 1
        $problems[0].FullyQualifiedErrorId | Should -Be 'ImageNotBuilt,ImageTools.Commands.PublishImageCommand'
        $problems[0].TargetObject | Should -Be "$name-broken"
    }

    It 'refuses images that were not built, per image' {
        $node = Get-ImageGraph $unbuiltTree

        $node | Publish-Image -ArchivePath (Join-Path $TestDrive 'none') -ErrorVariable problems -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $problems[0].FullyQualifiedErrorId | Should -Be 'ImageNotBuilt,ImageTools.Commands.PublishImageCommand'
        $problems[0].TargetObject | Should -Be "$name-never"
    }

    It 'stops with NoRegistry when there is neither a registry nor -ArchivePath' {
        { $built | Publish-Image } | Should -Throw -ErrorId 'NoRegistry,ImageTools.Commands.PublishImageCommand'
    }

    It 'writes progress records, and nothing to the console itself' {
        $shell = [powershell]::Create()
        try {
            $archive = Join-Path $TestDrive ([guid]::NewGuid())
            $null = $shell.AddScript("Import-Module '$manifest'; Get-ImageGraph '$tree' -Name '$name' | Publish-Image -ArchivePath '$archive'")
            $shell.Invoke().Status | Should -Be 'Archived'
            $shell.Streams.Progress | Where-Object Activity -like '*Publish-Image*' | Should -Not -BeNullOrEmpty
        }
        finally { $shell.Dispose() }

        # Every stream PowerShell knows is silenced: anything left was written around them.
        $archive = Join-Path $TestDrive ([guid]::NewGuid())
        $child = Invoke-ChildPowerShell "`$ProgressPreference = 'SilentlyContinue'; `$r = Get-ImageGraph '$tree' -Name '$name' | Publish-Image -ArchivePath '$archive' -Verbose 2>`$null 3>`$null 4>`$null 5>`$null 6>`$null; 'STATUS ' + `$r.Status"
        $child.ExitCode | Should -Be 0 -Because $child.Error
        $child.Output.Trim() | Should -Be 'STATUS Archived'
        $child.Error | Should -BeNullOrEmpty
    }

    It 'composes with Where-Object, Sort-Object, Group-Object, and round-trips through JSON and CSV' {
        $published = $built | Publish-Image -ArchivePath (Join-Path $TestDrive ([guid]::NewGuid()))

        ($published | Where-Object Status -eq 'Archived' | Sort-Object Name).Name | Should -Be @($name)
        ($published | Group-Object Status).Name | Should -Be @('Archived')
        $json = $published | ConvertTo-Json -WarningAction SilentlyContinue | ConvertFrom-Json
        $json.Name | Should -Be $name
        $json.Reference | Should -Be $published.Reference
        $json.Digest | Should -Be $published.Digest
        $csv = Join-Path $TestDrive 'published.csv'
        $published | Export-Csv -Path $csv
        $back = Import-Csv $csv
        $back.Status | Should -Be 'Archived'
        $back.Path | Should -Be $published.Path
        $back.Digest | Should -Be $published.Digest
    }
}

Describe 'Publish-Image to a registry' -Skip:$noRegistry {
    BeforeAll {
        $registry = $env:IMAGETOOLS_TEST_REGISTRY
        $id = New-TestId 'pr'
        $template = Join-Path $TestDrive 'template'
        New-TestImage $template 'a' "FROM busybox:1.36`nRUN echo $id-a > /a`n" -Files @{ 'image.yaml' = "name: $id-a`nversion: '1.0'`n" }
        New-TestImage $template 'b' "FROM busybox:1.36`nRUN echo $id-b > /b`n" -Files @{ 'image.yaml' = "name: $id-b`nversion: '2.0'`n" }
        $images = @{}
        Get-ImageGraph $template | Invoke-ImageBuild -ThrottleLimit 2 | ForEach-Object { $images[$_.Name] = $_.ImageId }

        # A tree of its own per test (its own namespace in the registry), holding the images built
        # above under its references, so that no test sees what another pushed.
        function New-RegistryTree {
            $ns = New-TestId 'ns'
            $root = Join-Path $TestDrive $ns
            Copy-Item -Recurse $template $root
            Set-Content (Join-Path $root 'imagetools.yaml') "registry: $registry`nnamespace: $ns`n"
            foreach ($node in Get-ImageGraph $root) { docker tag $images[$node.Name] $node.Reference }
            [pscustomobject]@{ Root = $root; Namespace = $ns; Nodes = Get-ImageGraph $root }
        }
        function Get-RegistryTags([string] $Repository) {
            try { @((Invoke-RestMethod "http://$registry/v2/$Repository/tags/list").tags | Sort-Object) }
            catch { @() }
        }
        function Get-RegistryConfigDigest([string] $Repository, [string] $Tag) {
            $headers = @{ Accept = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' }
            (Invoke-RestMethod -Headers $headers "http://$registry/v2/$Repository/manifests/$Tag").config.digest
        }
        # Other content under b's version tag, as a previous release would have left it.
        function Set-OtherContent($Tree) {
            $b = $Tree.Nodes | Where-Object Name -eq "$id-b"
            docker tag busybox:1.36 $b.Reference
            docker push $b.Reference *> $null
            if ($LASTEXITCODE -ne 0) { throw "Cannot push $($b.Reference)" }
            docker tag $images["$id-b"] $b.Reference
        }
    }

    AfterAll { Remove-TestImages $id }

    It 'pushes every image with its version tag and latest, with -Credential and -ThrottleLimit, and prints no secret' {
        $tree = New-RegistryTree
        $secret = 'pw-' + [guid]::NewGuid()
        $credential = [pscredential]::new('tester', (ConvertTo-SecureString $secret -AsPlainText -Force))

        $published = $tree.Nodes | Publish-Image -Credential $credential -ThrottleLimit 1 -Verbose 4>&1 -ErrorVariable problems

        $records = $published | Where-Object { $_ -isnot [ImageTools.Publishing.PublishResult] }
        $published = $published | Where-Object { $_ -is [ImageTools.Publishing.PublishResult] }
        $problems | Should -BeNullOrEmpty
        $published.Status | Should -Be @('Pushed', 'Pushed')
        Get-RegistryTags "$($tree.Namespace)/$id-a" | Should -Be @('1.0', 'latest')
        Get-RegistryTags "$($tree.Namespace)/$id-b" | Should -Be @('2.0', 'latest')
        "$($records | Out-String) $($published | ConvertTo-Json -Depth 3 -WarningAction SilentlyContinue)" | Should -Not -BeLike "*$secret*"
    }

    It 'names every image with -WhatIf and pushes nothing' {
        $tree = New-RegistryTree

        $child = Invoke-ChildPowerShell "Get-ImageGraph '$($tree.Root)' | Publish-Image -WhatIf"

        $child.ExitCode | Should -Be 0 -Because $child.Error
        $whatIf = @($child.Output -split '\r?\n' | Where-Object { $_ -like 'What if:*' })
        $whatIf | Should -HaveCount 2
        foreach ($node in $tree.Nodes) { $whatIf -like "*`"$($node.Reference)`"*" | Should -HaveCount 1 }
        Get-RegistryTags "$($tree.Namespace)/$id-a" | Should -BeNullOrEmpty
    }

    It 'holds back every tag of the run when one image fails (atomic), and says which image held it back' {
        $tree = New-RegistryTree
        Set-OtherContent $tree

        $published = $tree.Nodes | Publish-Image -ErrorVariable problems -ErrorAction SilentlyContinue -WarningAction SilentlyContinue

        ($published | Where-Object Name -eq "$id-b").Status | Should -Be 'Failed'
        $problems | Should -HaveCount 1
        $problems[0].FullyQualifiedErrorId | Should -Be 'VersionTagExists,ImageTools.Commands.PublishImageCommand'
        $problems[0].TargetObject | Should -Be "$id-b"
        $a = $published | Where-Object Name -eq "$id-a"
        $a.Status | Should -Be 'HeldBack'
        $a.HeldBackBy | Should -Be @("$id-b")
        $a.Error | Should -BeLike "*$id-b of the same run failed*"
        Get-RegistryTags "$($tree.Namespace)/$id-a" | Should -BeNullOrEmpty -Because 'no tag of the run moves unless every image got through (uploaded by digest only)'
    }

    It 'moves latest of the images that succeeded with -NonAtomic' {
        $tree = New-RegistryTree
        Set-OtherContent $tree

        $published = $tree.Nodes | Publish-Image -NonAtomic -ErrorAction SilentlyContinue -WarningAction SilentlyContinue

        ($published | Where-Object Name -eq "$id-b").Status | Should -Be 'Failed'
        Get-RegistryTags "$($tree.Namespace)/$id-a" | Should -Be @('1.0', 'latest')
    }

    It 'replaces other content under a version tag with -AllowOverwrite' {
        $tree = New-RegistryTree
        Set-OtherContent $tree

        $published = $tree.Nodes | Publish-Image -AllowOverwrite

        $published.Status | Should -Be @('Pushed', 'Pushed')
        Get-RegistryConfigDigest "$($tree.Namespace)/$id-b" '2.0' | Should -Be $images["$id-b"]
    }

    It 'leaves each version tag old or new when the process is killed between tag moves, says which moved, and a rerun puts every tag in place without rebuilding' {
        $tree = New-RegistryTree
        # A proxy in front of the registry that holds the run's second tag move (b's version tag, as
        # every version tag moves before any floating one) until the child is killed; then it drops it.
        $signals = Join-Path $TestDrive (New-TestId 'signals')
        New-Item -ItemType Directory $signals | Out-Null
        $proxy = Start-HoldingProxy -Upstream $registry -Signals $signals -Method 'PUT' -PathPattern '/manifests/(?!sha256:)' -Occurrence 2
        $port = $proxy.Port
        try {
            # The same tree, published through the proxy (the references name it, so the images are tagged under them).
            Set-Content (Join-Path $tree.Root 'imagetools.yaml') "registry: 127.0.0.1:$port`nnamespace: $($tree.Namespace)`n"
            $nodes = Get-ImageGraph $tree.Root
            foreach ($node in $nodes) { docker tag $images[$node.Name] $node.Reference }
            $shell = Get-PowerShellStartCommand
            $script = Join-Path $signals 'publish.ps1'
            Set-Content $script ("`$ErrorActionPreference = 'Stop'`nImport-Module $(ConvertTo-Literal (Get-LaidOutManifest))`n" +
                "Get-ImageGraph $(ConvertTo-Literal $tree.Root) | Publish-Image -ThrottleLimit 1 -Verbose 4>&1 | ForEach-Object { [Console]::Out.WriteLine([string] `$_); [Console]::Out.Flush() }`n")
            $start = [Diagnostics.ProcessStartInfo]::new($shell[0])
            foreach ($argument in @($shell | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $script)) { $start.ArgumentList.Add($argument) }
            $start.UseShellExecute = $false
            $start.RedirectStandardOutput = $true
            $start.RedirectStandardError = $true
            $child = [Diagnostics.Process]::Start($start)
            $output = $child.StandardOutput.ReadToEndAsync()
            $null = $child.StandardError.ReadToEndAsync()
            Wait-Until { (Test-Path (Join-Path $signals 'holding')) -or $child.HasExited } -TimeoutSec 120
            $child.HasExited | Should -BeFalse -Because 'the child must still be moving tags when it is killed'
            $child.Kill($true)   # SIGKILL: no finally block, no cleanup in the child
            $child.WaitForExit()
            New-Item (Join-Path $signals 'release') | Out-Null

            # Killed between two tag moves: a's version tag is new, b's still old (absent), no floating tag moved.
            Get-Content (Join-Path $signals 'holding') | Should -Be "/v2/$($tree.Namespace)/$id-b/manifests/2.0"
            Get-RegistryTags "$($tree.Namespace)/$id-a" | Should -Be @('1.0')
            Get-RegistryTags "$($tree.Namespace)/$id-b" | Should -BeNullOrEmpty
            $output.Result | Should -BeLike "*Moved $($tree.Namespace)/$id-a:1.0 to sha256:*" -Because 'the run says which tags moved as they move'

            $rerun = Get-ImageGraph $tree.Root | Publish-Image -ThrottleLimit 1

            ($rerun | Where-Object Name -eq "$id-a").Status | Should -Be 'AlreadyPublished'
            ($rerun | Where-Object Name -eq "$id-b").Status | Should -Be 'Pushed'
            Get-RegistryTags "$($tree.Namespace)/$id-a" | Should -Be @('1.0', 'latest')
            Get-RegistryTags "$($tree.Namespace)/$id-b" | Should -Be @('2.0', 'latest')
            foreach ($name in "$id-a", "$id-b") {
                $tag = if ($name -eq "$id-a") { '1.0' } else { '2.0' }
                foreach ($t in $tag, 'latest') { Get-RegistryConfigDigest "$($tree.Namespace)/$name" $t | Should -Be $images[$name] -Because 'nothing was rebuilt' }
            }
        }
        finally {
            if (-not (Test-Path (Join-Path $signals 'release'))) { New-Item (Join-Path $signals 'release') | Out-Null }
            Stop-HoldingProxy $proxy
            foreach ($node in Get-ImageGraph $tree.Root) { docker image rm $node.Reference *> $null }
        }
    }

    It 'retries an unreachable registry -MaximumRetryCount times, waiting -RetryIntervalSec and then longer' {
        $tree = New-RegistryTree
        # Port 9 (discard) on loopback: nothing listens there on a normal host.
        Set-Content (Join-Path $tree.Root 'imagetools.yaml') "registry: 127.0.0.1:9`n"
        $nodes = Get-ImageGraph $tree.Root -Name "$id-a"
        docker tag $images["$id-a"] $nodes.Reference

        $once = Measure-Command { $nodes | Publish-Image -MaximumRetryCount 0 -ErrorVariable onceErrors -ErrorAction SilentlyContinue }
        $retried = Measure-Command { $nodes | Publish-Image -MaximumRetryCount 2 -RetryIntervalSec 1 -ErrorVariable retriedErrors -ErrorAction SilentlyContinue }

        $onceErrors[0].FullyQualifiedErrorId | Should -BeLike 'RegistryUnreachable,ImageTools.Commands.PublishImageCommand'
        $retriedErrors[0].FullyQualifiedErrorId | Should -BeLike 'RegistryUnreachable,ImageTools.Commands.PublishImageCommand'
        $once.TotalSeconds | Should -BeLessThan 2
        $retried.TotalSeconds | Should -BeGreaterThan 2.3 -Because 'two retries wait about 1 s and 2 s (±20% jitter)'
        docker image rm $nodes.Reference *> $null
    }
}
