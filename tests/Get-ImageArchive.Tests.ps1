#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Lists an archive that Publish-Image -ArchivePath wrote under $TestDrive, from one tiny image built
# on the Docker engine this host's docker CLI talks to (busybox:1.36 needed there).

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

Describe 'Get-ImageArchive errors' {
    It 'names the path of a missing archive, with a stable ErrorId' {
        $missing = Join-Path $TestDrive 'no-such-archive'
        { Get-ImageArchive -Path $missing } | Should -Throw -ErrorId 'ArchiveNotFound,ImageTools.Commands.GetImageArchiveCommand' -ExpectedMessage "*$missing*"
    }

    It 'refuses a directory that is not an archive' {
        $plain = Join-Path $TestDrive 'plain'
        $null = New-Item -ItemType Directory $plain
        Set-Content (Join-Path $plain 'readme.txt') 'hello'
        { Get-ImageArchive $plain } | Should -Throw -ErrorId 'ArchiveNotFound,ImageTools.Commands.GetImageArchiveCommand'
    }
}

Describe 'Get-ImageArchive lists what Publish-Image archived' -Skip:$noDocker {
    BeforeAll {
        $name = New-TestId 'gia'
        $tree = Join-Path $TestDrive 'tree'
        New-TestImage $tree 'img' "FROM busybox:1.36`nRUN echo $name > /name`n" -Files @{ 'image.yaml' = "name: $name`nversion: '1.0'`n" }
        $built = Get-ImageGraph $tree | Invoke-ImageBuild
        $archive = Join-Path $TestDrive 'archive'
        $published = $built | Publish-Image -ArchivePath $archive
        $createdText = (docker image inspect --format '{{.Created}}' "${name}:1.0").Trim() -replace '(\.\d{7})\d+', '$1'
        $created = [DateTimeOffset]::Parse($createdText, [Globalization.CultureInfo]::InvariantCulture)
    }

    AfterAll { Remove-TestImages $name }

    It 'emits one typed object per image with the image''s own creation time' {
        $listed = Get-ImageArchive $archive

        $listed | Should -BeOfType ([ImageTools.Publishing.ArchivedImage])
        $listed.Repository | Should -Be $name
        $listed.Tag | Should -Be '1.0'
        $listed.ImageId | Should -Be $built.ImageId
        $listed.File | Should -Be $published.Path
        $listed.Size | Should -Be (Get-Item $published.Path).Length
        [Math]::Abs(($listed.Created - $created).TotalSeconds) | Should -BeLessThan 1
        $listed.ArchivedAt | Should -BeGreaterOrEqual $listed.Created.AddSeconds(-1)
    }

    It 'binds the archive from the pipeline and has a table view' {
        $table = Get-Item $archive | Get-ImageArchive | Format-Table | Out-String

        $table | Should -Match 'Repository\s+Tag\s+ImageId\s+Created\s+SizeMB\s+ArchivedAt'
        $table | Should -Match $name
    }
}

Describe 'Publish-Image -Reference archives any local image' -Skip:$noDocker {
    BeforeAll {
        $name = New-TestId 'pir'
        docker tag busybox:1.36 "${name}:a"
        docker tag busybox:1.36 "${name}:b"
    }

    AfterAll { Remove-TestImages $name }

    It 'archives images that are not of a tree, stores one image once, and lists both names' {
        $archive = Join-Path $TestDrive 'by-reference'

        $results = Publish-Image -ArchivePath $archive -Reference "${name}:a", "${name}:b"

        $results | Should -BeOfType ([ImageTools.Publishing.PublishResult])
        $results.Status | Should -Be 'Archived', 'Archived'
        @(Get-ChildItem $archive -Filter *.tar) | Should -HaveCount 1
        (Get-ImageArchive $archive).Reference | Sort-Object | Should -Be "${name}:a", "${name}:b"
        (Publish-Image -ArchivePath $archive -Reference "${name}:a" -Force).Status | Should -Be 'Archived'
    }

    It 'writes nothing with -WhatIf, and names a missing image' {
        $archive = Join-Path $TestDrive 'what-if'

        Publish-Image -ArchivePath $archive -Reference "${name}:a" -WhatIf | Should -BeNullOrEmpty
        Test-Path $archive | Should -BeFalse
        $missing = Publish-Image -ArchivePath $archive -Reference "${name}:nope" -ErrorVariable errors -ErrorAction SilentlyContinue
        $missing.Status | Should -Be 'Failed'
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ImageNotFound,*'
    }
}

Describe 'Publish-Image -Reference input' {
    It 'needs -ArchivePath' {
        { Publish-Image -Reference busybox:1.36 } | Should -Throw -ErrorId 'ReferenceNeedsArchivePath,ImageTools.Commands.PublishImageCommand'
    }
}
