#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# A fanned-out pipeline played on this machine (docs/ci.md): New-ImageBuildPlan, then every leg in a
# child pwsh of its own against an empty dockerd of its own (own data root, exec root and socket),
# the plan folder the only hand-off between them and the loopback registry (IMAGETOOLS_TEST_REGISTRY)
# the only place images travel through, the external base included; then the promote, in a child
# whose DOCKER_HOST names no engine at all.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $script:noServices = -not (Test-DockerEngine) -or -not (Test-TestRegistry)
    $script:noDockerd = -not (Get-Command dockerd -ErrorAction SilentlyContinue)
    if ($noDockerd -and -not $noServices -and (Test-ServicesPromised)) { throw 'The fan-out tests start agents with dockerd, which is not on PATH.' }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $null = Import-LaidOutModule
    Use-TempDirectory $TestDrive
    $registry = $env:IMAGETOOLS_TEST_REGISTRY

    # An empty CI agent: a dockerd of its own, holding no image.
    function Start-Agent {
        # Short: a unix socket path has a limit of about 100 bytes.
        $state = Join-Path '/tmp' ('itf-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory $state | Out-Null
        $dockerHost = "unix://$state/docker.sock"
        $arguments = '--data-root', "$state/data", '--exec-root', "$state/exec", '--pidfile', "$state/dockerd.pid", '--storage-driver', 'vfs',
            '--iptables=false', '--ip-masq=false', '--bridge=none', '-H', $dockerHost, '--log-level', 'warn'
        $daemon = Start-Process dockerd -ArgumentList $arguments -PassThru -RedirectStandardOutput "$state/dockerd.out" -RedirectStandardError "$state/dockerd.err"
        $up = Wait-Until { docker -H $dockerHost version *> $null; $LASTEXITCODE -eq 0 } -TimeoutSec 60
        if (-not $up) { throw "The agent's dockerd did not answer within 60 s: $(Get-Content -Raw "$state/dockerd.err")" }
        [pscustomobject]@{ State = $state; DockerHost = $dockerHost; Daemon = $daemon }
    }

    function Stop-Agent($Agent) {
        Stop-Process -Id $Agent.Daemon.Id -ErrorAction SilentlyContinue
        $null = Wait-Until { $Agent.Daemon.HasExited } -TimeoutSec 30
        Remove-Item -Recurse -Force $Agent.State -ErrorAction SilentlyContinue
    }

    # One leg on a fresh agent, the way the pipeline's leg job runs it; returns "name status" lines.
    function Invoke-Leg([string] $Tree, [string] $Plan, [string] $Leg) {
        $agent = Start-Agent
        try {
            $child = Invoke-ChildPowerShell -Environment @{ DOCKER_HOST = $agent.DockerHost } -Script @"
`$ErrorActionPreference = 'Continue'
Invoke-ImageBuild -Path $(ConvertTo-Literal $Tree) -Plan $(ConvertTo-Literal $Plan) -Leg $Leg 2>`$null |
    Publish-Image -Plan $(ConvertTo-Literal $Plan) -Stage 2>`$null |
    ForEach-Object { "RESULT `$(`$_.Name) `$(`$_.Status)" }
exit 0
"@
            $child.ExitCode | Should -Be 0 -Because $child.Error
            @($child.Output -split '\r?\n' | Where-Object { $_ -like 'RESULT *' } | ForEach-Object { $_.Substring(7) })
        }
        finally { Stop-Agent $agent }
    }

    # The promote job: no engine at all, only the registry and the plan folder.
    function Invoke-Promote([string] $Tree, [string] $Plan) {
        Invoke-ChildPowerShell -Environment @{ DOCKER_HOST = 'unix:///nonexistent/docker.sock' } -Script @"
`$ErrorActionPreference = 'Continue'
Publish-Image -Path $(ConvertTo-Literal $Tree) -Plan $(ConvertTo-Literal $Plan) -ErrorVariable failures 2>`$null |
    ForEach-Object { "RESULT `$(`$_.Name) `$(`$_.Status) `$(`$_.Tags -join ',') `$(`$_.HeldBackBy -join ',')" }
`$failures | ForEach-Object { "ERROR `$(`$_.FullyQualifiedErrorId)" }
exit 0
"@
    }

    function Get-RegistryTags([string] $Repository) {
        try { @((Invoke-RestMethod "http://$registry/v2/$Repository/tags/list").tags | Where-Object { $_ } | Sort-Object) }
        catch { @() }
    }

    function Get-RegistryConfig([string] $Repository, [string] $Tag) {
        $headers = @{ Accept = 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' }
        $digest = (Invoke-RestMethod -Headers $headers "http://$registry/v2/$Repository/manifests/$Tag").config.digest
        [pscustomobject]@{ Digest = $digest; Config = Invoke-RestMethod "http://$registry/v2/$Repository/blobs/$digest" }
    }

    # A tree publishing under a namespace of its own; @BASE@ in a Dockerfile is the external base, which
    # is pushed to the test registry under that namespace, so no agent asks any other registry for it.
    function New-FanOutTree([hashtable] $Images) {
        $ns = New-TestId 'fo'
        $root = Join-Path $TestDrive $ns
        $base = "$registry/$ns/busybox:1.36"
        docker tag busybox:1.36 $base
        docker push $base *> $null
        if ($LASTEXITCODE -ne 0) { throw "Cannot push $base to the test registry $registry" }
        docker image rm $base *> $null
        New-Item -ItemType Directory -Force $root | Out-Null
        Set-Content (Join-Path $root 'imagetools.yaml') "registry: $registry`nnamespace: $ns`n"
        foreach ($name in $Images.Keys) {
            New-TestImage $root $name ($Images[$name] -creplace '@BASE@', $base) -Files @{ 'image.yaml' = "name: $name`nversion: '1.0'`n" }
        }
        [pscustomobject]@{ Root = $root; Namespace = $ns; Plan = Join-Path $TestDrive "$ns-plan" }
    }
}

AfterAll {
    Restore-TempDirectory
    Remove-Module ImageTools -ErrorAction SilentlyContinue
}

Describe 'A fanned-out run: legs on empty agents, the plan folder as hand-off, one promote' -Skip:($noServices -or $noDockerd) {
    BeforeAll {
        # base → a, b → d (FROM a, COPY --from b): a root, two levels and a diamond; everything stale.
        $tree = New-FanOutTree @{
            base = "FROM @BASE@`nRUN echo base > /base`n"
            a    = "FROM base`nRUN echo a > /a`n"
            b    = "FROM base:1.0`nRUN echo b > /b`n"
            d    = "FROM a`nCOPY --from=b /b /b`nRUN cat /a /b > /d`n"
        }
        $legs = Get-ImageGraph $tree.Root | Test-ImageNeedsRebuild | New-ImageBuildPlan -Path $tree.Plan -MaximumLegs 2
        $repositories = 'base', 'a', 'b', 'd' | ForEach-Object { "$($tree.Namespace)/$_" }
        $staged = @{}
        foreach ($leg in $legs) { $staged[$leg.Id] = Invoke-Leg $tree.Root $tree.Plan $leg.Id }
        $tagsBeforePromote = $repositories | ForEach-Object { Get-RegistryTags $_ }
        $promote = Invoke-Promote $tree.Root $tree.Plan
        $promoted = @($promote.Output -split '\r?\n' | Where-Object { $_ -like 'RESULT *' })
    }

    It 'plans three waves: the base, then a and b on two legs, then d' {
        $legs | ForEach-Object { "$($_.Wave):$($_.Images -join '+')" } | Should -Be @('0:base', '1:a', '1:b', '2:d')
    }

    It 'stages every image of every leg by digest and moves no tag before the promote' {
        $staged.Values | ForEach-Object { $_ } | Sort-Object | Should -Be @('a Staged', 'b Staged', 'base Staged', 'd Staged')
        $tagsBeforePromote | Should -BeNullOrEmpty
        Get-ChildItem -Recurse (Join-Path $tree.Plan 'legs') -Filter 'leg-*.json' | Should -HaveCount 4
    }

    It 'promotes the whole run without an engine: every image gets its version tag and latest' {
        $promote.ExitCode | Should -Be 0 -Because $promote.Error
        $promoted | Sort-Object | Should -Be @('RESULT a Pushed 1.0,latest ', 'RESULT b Pushed 1.0,latest ', 'RESULT base Pushed 1.0,latest ', 'RESULT d Pushed 1.0,latest ')
        foreach ($repository in $repositories) { Get-RegistryTags $repository | Should -Be @('1.0', 'latest') -Because $repository }
    }

    It "records in every child's labels the registry digests of the parents it was built on on another agent" {
        $base = (Get-RegistryConfig "$($tree.Namespace)/base" '1.0').Digest
        $a = (Get-RegistryConfig "$($tree.Namespace)/a" '1.0').Digest
        $b = (Get-RegistryConfig "$($tree.Namespace)/b" '1.0').Digest
        $labels = { param($name) (Get-RegistryConfig "$($tree.Namespace)/$name" '1.0').Config.config.Labels }

        (& $labels 'a').'io.imagetools.parents' | Should -Match ([regex]::Escape("base@$base"))
        (& $labels 'b').'io.imagetools.parents' | Should -Match ([regex]::Escape("base:1.0@$base"))
        $d = (& $labels 'd').'io.imagetools.parents'
        $d | Should -Match ([regex]::Escape("a@$a"))
        $d | Should -Match ([regex]::Escape("b@$b"))
    }

    It 'leaves nothing stale, as a one-host run would' {
        Get-ImageGraph $tree.Root | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | Should -BeNullOrEmpty
    }

    It 'records how long each build took, which the next plan weighs legs by' {
        $statuses = Get-ImageGraph $tree.Root | Test-ImageNeedsRebuild
        $statuses | ForEach-Object { $_.LastBuildDuration | Should -BeGreaterThan ([timespan]::Zero) -Because $_.Name }
        $statuses | ForEach-Object { $_.LastBuildDuration | Should -BeLessThan ([timespan]::FromMinutes(5)) -Because $_.Name }
    }

    It 'promotes again as AlreadyPublished, moving nothing' {
        $again = Invoke-Promote $tree.Root $tree.Plan
        @($again.Output -split '\r?\n' | Where-Object { $_ -like 'RESULT *' }) | ForEach-Object { ($_ -split ' ')[2] } |
            Should -Be @('AlreadyPublished', 'AlreadyPublished', 'AlreadyPublished', 'AlreadyPublished')
    }
}

Describe 'A fanned-out run with a failed leg moves no tag' -Skip:($noServices -or $noDockerd) {
    BeforeAll {
        $tree = New-FanOutTree @{
            base   = "FROM @BASE@`nRUN echo base > /base`n"
            broken = "FROM base`nRUN exit 3`n"
            fine   = "FROM base`nRUN echo fine > /fine`n"
        }
        $legs = Get-ImageGraph $tree.Root | Test-ImageNeedsRebuild | New-ImageBuildPlan -Path $tree.Plan -MaximumLegs 2
        $staged = @{}
        foreach ($leg in $legs) { $staged[$leg.Id] = Invoke-Leg $tree.Root $tree.Plan $leg.Id }
        $promote = Invoke-Promote $tree.Root $tree.Plan
        $promoted = @($promote.Output -split '\r?\n' | Where-Object { $_ -like 'RESULT *' })
    }

    It "records the broken image's failure in its leg's record" {
        $staged.Values | ForEach-Object { $_ } | Sort-Object | Should -Be @('base Staged', 'broken Failed', 'fine Staged')
    }

    It 'holds every tag back, naming the image that failed, and says so as an error' {
        $promoted | Sort-Object | Should -Be @('RESULT base HeldBack  broken', 'RESULT broken Failed  ', 'RESULT fine HeldBack  broken')
        $promote.Output | Should -Match 'ERROR LegFailed'
        foreach ($name in 'base', 'broken', 'fine') { Get-RegistryTags "$($tree.Namespace)/$name" | Should -BeNullOrEmpty -Because $name }
    }

    It 'names legs that never reported' {
        Get-ChildItem -Recurse (Join-Path $tree.Plan 'legs') -Filter 'leg-*.json' | Where-Object Name -ne 'leg-w0_l0.json' | Remove-Item
        $partial = Invoke-Promote $tree.Root $tree.Plan
        $partial.Output | Should -Match 'ERROR LegNotReported'
        Get-RegistryTags "$($tree.Namespace)/base" | Should -BeNullOrEmpty
    }
}
