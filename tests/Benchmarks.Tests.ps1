#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# A smoke test of the peer benchmark's pieces (the benchmarks themselves never run in CI): the
# docker-pkg tree generator writes a tree ImageTools reads with the shape the benchmark promises,
# and peer.sh parses. Needs nothing but dotnet and bash.

BeforeDiscovery {
    $script:noBash = -not (Get-Command bash -ErrorAction SilentlyContinue)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $null = Import-LaidOutModule
    $benchmarks = Join-Path $PSScriptRoot 'ImageTools.Benchmarks'
}

AfterAll {
    Remove-Module ImageTools -ErrorAction SilentlyContinue
}

Describe 'The peer benchmark' {
    It 'generates a docker-pkg tree (template, changelog, control) that Get-ImageGraph reads as levels with diamonds' {
        $tree = Join-Path $TestDrive 'peer'
        $output = & dotnet run -c Release --project $benchmarks -- dockerpkg-tree --images 10 --depth 5 --namespace smoke --registry 127.0.0.9 --out $tree 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")

        $nodes = Get-ImageGraph $tree
        $nodes | Should -HaveCount 10
        ($nodes.Level | Sort-Object -Unique) | Should -Be @(0, 1, 2, 3, 4)
        $nodes | ForEach-Object { Test-Path (Join-Path $_.Directory 'Dockerfile.template') | Should -BeTrue }
        $nodes | ForEach-Object { $_.Reference | Should -BeLike '127.0.0.9/smoke/pkg-*:0.1.*-1' }
        # Level 0 builds on the seed (external, on the benchmark's registry), every other level on the level above.
        ($nodes | Where-Object Level -eq 0).BaseImages | Sort-Object -Unique | Should -Be @('127.0.0.9/seed/busybox:1.36')
        $nodes | Where-Object Level -gt 0 | ForEach-Object { $_.BaseImages | Should -BeNullOrEmpty }
        # Diamonds: some image uses two parents (FROM one, COPY --from another).
        @($nodes | Where-Object { $_.Dependencies.Count -eq 2 }) | Should -Not -BeNullOrEmpty
    }

    It 'has a peer.sh that bash parses' -Skip:$noBash {
        bash -n (Join-Path $benchmarks 'peer.sh')
        $LASTEXITCODE | Should -Be 0
    }
}
