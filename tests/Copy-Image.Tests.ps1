#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Copy-Image against the test registry named by IMAGETOOLS_TEST_REGISTRY (tests/services/start.sh): a source image is
# pushed there from the engine's busybox:1.36 under a namespace of its own, then copied to other repositories of it.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $script:noDocker = -not (Test-DockerEngine)
    $script:noRegistry = $noDocker -or -not (Test-TestRegistry)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $null = Import-LaidOutModule

    # The digest a tag holds, as the registry says it (HEAD with every manifest type accepted); $null when there is none.
    function Get-RegistryDigest([string] $Repository, [string] $Reference) {
        $accept = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, ' +
            'application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json'
        try {
            $answer = Invoke-WebRequest -Method Head -Uri "http://$env:IMAGETOOLS_TEST_REGISTRY/v2/$Repository/manifests/$Reference" -Headers @{ Accept = $accept } -UseBasicParsing
            "$($answer.Headers['Docker-Content-Digest'])"
        }
        catch { $null }
    }
}

AfterAll {
    Remove-Module ImageTools -ErrorAction SilentlyContinue
}

Describe 'Copy-Image input' {
    It 'refuses a source without a tag or digest, naming it' {
        { Copy-Image -Source '127.0.0.1:5000/team/app' -Destination '127.0.0.1:5000/prod/app:1.0' } |
            Should -Throw -ErrorId 'CopyReferenceInvalid,ImageTools.Commands.CopyImageCommand' -ExpectedMessage '*team/app*tag or digest*'
    }

    It 'refuses a destination that names a digest' {
        { Copy-Image '127.0.0.1:5000/team/app:1.0' "127.0.0.1:5000/prod/app@sha256:$('0' * 64)" } |
            Should -Throw -ErrorId 'CopyReferenceInvalid,ImageTools.Commands.CopyImageCommand'
    }
}

Describe 'Copy-Image between repositories of the test registry' -Skip:$noRegistry {
    BeforeAll {
        $registry = $env:IMAGETOOLS_TEST_REGISTRY
        $ns = New-TestId 'ci'
        $source = "$registry/$ns/src:1.0"
        docker tag busybox:1.36 $source
        docker push $source *> $null
        if ($LASTEXITCODE -ne 0) { throw "docker push $source failed" }
        docker rmi $source *> $null
        $sourceDigest = Get-RegistryDigest "$ns/src" '1.0'
    }

    It 'copies the image under every tag with the same digest, and says how each blob got there' {
        $result = Copy-Image $source "$registry/$ns/dst:1.0", "$registry/$ns/dst:latest"

        $result | Should -BeOfType ([ImageTools.Promotion.CopiedImage])
        $result.Status | Should -Be 'Copied'
        $result.Tags | Should -Be @('1.0', 'latest')
        $result.Digest | Should -Be $sourceDigest
        $result.Merged | Should -BeFalse
        $result.BlobsMounted | Should -BeGreaterThan 0 -Because 'within one registry blobs are mounted, not sent'
        $result.BlobsCopied | Should -Be 0
        Get-RegistryDigest "$ns/dst" '1.0' | Should -Be $sourceDigest
        Get-RegistryDigest "$ns/dst" 'latest' | Should -Be $sourceDigest
        ($result | Format-Table | Out-String) | Should -Match 'Destination\s+Tags\s+Status'

        (Copy-Image $source "$registry/$ns/dst:1.0").Status | Should -Be 'UpToDate'
    }

    It 'names each destination with -WhatIf and writes nothing' {
        $child = Invoke-ChildPowerShell "Copy-Image '$source' '$registry/$ns/whatif:1.0', '$registry/$ns/whatif:stable' -WhatIf"

        $child.ExitCode | Should -Be 0 -Because $child.Error
        @($child.Output -split '\r?\n' | Where-Object { $_ -like "What if:*$registry/$ns/whatif:1.0, stable*" }) | Should -HaveCount 1
        $child.Output | Should -BeLike "*$sourceDigest*"
        Get-RegistryDigest "$ns/whatif" '1.0' | Should -BeNullOrEmpty
        Get-RegistryDigest "$ns/whatif" $sourceDigest | Should -BeNullOrEmpty -Because '-WhatIf copies nothing, not even by digest'
    }

    It 'fails with a clear error for a missing source tag, and moves no tag' {
        { Copy-Image "$registry/$ns/src:9.9" "$registry/$ns/never:9.9" -ErrorAction Stop } |
            Should -Throw -ErrorId 'CopySourceNotFound,ImageTools.Commands.CopyImageCommand' -ExpectedMessage "*$ns/src:9.9*"
        Get-RegistryDigest "$ns/never" '9.9' | Should -BeNullOrEmpty
    }

    It 'takes copies from the pipeline by property name, as one run' {
        $rows = @(
            [pscustomobject]@{ Source = $source; Destination = "$registry/$ns/piped-a:1.0" }
            [pscustomobject]@{ Source = $source; Destination = "$registry/$ns/piped-b:1.0" }
        )

        $results = $rows | Copy-Image

        $results | Should -HaveCount 2
        $results.Status | Should -Be @('Copied', 'Copied')
        Get-RegistryDigest "$ns/piped-b" '1.0' | Should -Be $sourceDigest
    }
}
