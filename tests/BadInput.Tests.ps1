#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The bad inputs of docs/reliability.md section 1 as a user meets them: a tiny tree per case (one
# image directory, busybox as base, nothing built), read with Get-ImageGraph; the ErrorId and the
# gist of the message each row of the catalogue gives. No engine or registry: milliseconds a case.

BeforeDiscovery {
    $trailer = ' -- Ops <ops@example.org>  Mon, 01 Jan 2024 00:00:00 +0000'
    $good = "FROM busybox:1.36`n"
    # Row: the catalogue's row; Files: relative path => text (an image directory 'img' unless a case says);
    # ErrorId and Like: what the user sees (one of the errors of the run has both).
    $script:cases = @(
        @{ Row = '2'; Files = @{ 'afile' = 'x' }; Path = 'afile'; ErrorId = 'TreeNotFound'; Like = '*is a file*' }
        @{ Row = '4'; Files = @{ 'a/Dockerfile' = $good; 'a/image.yaml' = "name: same`n"; 'b/Dockerfile' = $good; 'b/image.yaml' = "name: same`n" }; ErrorId = 'DuplicateImageName'; Like = "*'same' is claimed by*" }
        @{ Row = '5'; Files = @{ 'img/Dockerfile' = $good; 'img/image.yaml' = "dockerfile: build/Dockerfile`n" }; ErrorId = 'DockerfileNotFound'; Like = '*image.yaml:1*does not exist*' }
        @{ Row = '6'; Files = @{ 'img/Dockerfile' = $good; 'img/image.yaml' = "name: Upper`n" }; ErrorId = 'InvalidImageName'; Like = "*'Upper' is not a valid image name*" }
        @{ Row = '7'; Files = @{ 'Bad Dir/Dockerfile' = $good }; ErrorId = 'InvalidImageName'; Like = '*image.yaml*' }
        @{ Row = '8'; Files = @{ 'img/Dockerfile' = $good; 'img/image.yaml' = "version: '1.0+build 2'`n" }; ErrorId = 'InvalidTag'; Like = "*'1.0+build 2' is not a valid tag*" }
        @{ Row = '9'; Files = @{ 'a/Dockerfile' = $good; 'a/image.yaml' = "name: [unclosed`n"; 'b/Dockerfile' = $good; 'b/changelog' = "not a changelog`n" }; ErrorId = 'InvalidChangelog'; Like = '*b/changelog:1*'; Also = 'InvalidYaml' }
        @{ Row = '11'; Files = @{ 'img/Dockerfile' = $good; 'imagetools.yaml' = "registry: [unclosed`n" }; ErrorId = 'InvalidYaml'; Like = '*imagetools.yaml:*' }
        @{ Row = '13'; Files = @{ 'img/Dockerfile' = $good; 'imagetools.yaml' = "registry: a.example`nbuild_args: [A, B]`n" }; ErrorId = 'InvalidSetting'; Like = "*'build_args' must be a mapping*" }
        @{ Row = '14'; Files = @{ 'img/Dockerfile' = $good; 'imagetools.yaml' = "parallelism: 0`n" }; ErrorId = 'InvalidSetting'; Like = "*'parallelism' must be 1 or more*" }
        @{ Row = '14'; Files = @{ 'img/Dockerfile' = $good; 'imagetools.yaml' = "registry_timeout: 0`n" }; ErrorId = 'InvalidSetting'; Like = "*'registry_timeout' must be a number of seconds from 1 to 3600*" }
        @{ Row = '15'; Files = @{ 'img/Dockerfile' = $good; 'img/image.yaml' = "platforms: [linux/amd64, linux/arm64]`n" }; ErrorId = 'InvalidSetting'; Like = '*image.yaml:1*platform*' }
        @{ Row = '16'; Files = @{ 'img/Dockerfile' = $good; 'img/image.yaml' = "buildargs: {A: b}`n" }; ErrorId = 'InvalidSetting'; Like = "*Unknown key 'buildargs'*" }
        @{ Row = '17'; Files = @{ 'img/Dockerfile' = "# only a comment`n" }; ErrorId = 'DockerfileSyntaxError'; Like = '*FROM*' }
        @{ Row = '18'; Files = @{ 'img/Dockerfile' = "RUN echo`nFROM busybox:1.36`n" }; ErrorId = 'DockerfileSyntaxError'; Like = '*Dockerfile:1*before the first FROM*' }
        @{ Row = '19'; Files = @{ 'img/Dockerfile' = "FROM`n" }; ErrorId = 'DockerfileSyntaxError'; Like = '*names no image*' }
        @{ Row = '20'; Files = @{ 'img/Dockerfile' = "ARG BASE`nFROM `$BASE`n" }; ErrorId = 'DockerfileSyntaxError'; Like = '*BASE has no value*' }
        @{ Row = '21'; Files = @{ 'img/Dockerfile' = "FROM busybox:`${TAG`n" }; ErrorId = 'DockerfileSyntaxError'; Like = '*Unterminated*' }
        @{ Row = '22'; Files = @{ 'img/Dockerfile' = "FROM busybox:1.36`nRUN <<EOF`necho`n" }; ErrorId = 'DockerfileSyntaxError'; Like = '*Dockerfile:2*never closed*' }
        @{ Row = '23'; Files = @{ 'img/Dockerfile' = "FROM busybox:1.36`nCOPY --from=3 /a /b`n" }; ErrorId = 'DockerfileSyntaxError'; Like = '*Dockerfile:2*3*' }
        @{ Row = '24'; Files = @{ 'img/Dockerfile' = "# escape=x`nFROM busybox:1.36`n" }; ErrorId = 'DockerfileSyntaxError'; Like = '*escape*' }
        @{ Row = '25'; Files = @{ 'img/Dockerfile' = "FROM busybox:1.36 AS 1st`n" }; ErrorId = 'DockerfileSyntaxError'; Like = '*not a valid stage name*' }
        @{ Row = '27'; Files = @{ 'img/Dockerfile' = "FROM busybox:1.36 AS build`n"; 'img/image.yaml' = "target: runtime`n" }; ErrorId = 'UnknownTarget'; Like = "*image.yaml:1*'target: runtime' names no stage*" }
        @{ Row = '28'; Files = @{ 'img/Dockerfile' = "FROM Bad/Name:x`n" }; ErrorId = 'InvalidImageReference'; Like = '*Dockerfile:1*is not a valid image reference*' }
        @{ Row = '29'; Files = @{ 'img/Dockerfile.template' = "FROM busybox:1.36`nRUN echo {{ 'x' | frobnicate }}`n" }; ErrorId = 'TemplateUnknownFilter'; Like = "*Dockerfile.template:2*Unknown filter 'frobnicate'*" }
        @{ Row = '30'; Files = @{ 'img/Dockerfile.template' = "FROM {{ nope }}`n" }; ErrorId = 'TemplateUnknownVariable'; Like = '*Dockerfile.template:1*nope*' }
        @{ Row = '31'; Files = @{ 'img/Dockerfile.template' = "FROM {{ 'ghost' | image_tag }}`n" }; ErrorId = 'TemplateUnknownImage'; Like = "*no image named 'ghost'*" }
        @{ Row = '34'; Files = @{ 'img/Dockerfile.template' = "FROM busybox:1.36`n{% if registry %}`nRUN true`n" }; ErrorId = 'TemplateSyntaxError'; Like = '*Dockerfile.template:2*never closed*' }
        @{ Row = '35'; Files = @{ 'img/Dockerfile.template' = "FROM {{ registry `n" }; ErrorId = 'TemplateSyntaxError'; Like = '*Dockerfile.template:1*never closed*' }
        @{ Row = '36'; Files = @{ 'img/Dockerfile.template' = "{% extends 'x' %}`nFROM busybox:1.36`n" }; ErrorId = 'TemplateUnsupportedSyntax'; Like = '*Dockerfile.template:1*' }
        @{ Row = '37'; Files = @{ 'img/Dockerfile' = $good; 'img/changelog' = "# only a comment`n" }; ErrorId = 'InvalidChangelog'; Like = '*changelog:*' }
        @{ Row = '38'; Files = @{ 'img/Dockerfile' = $good; 'img/changelog' = "img 1.0 unstable`n`n  * x`n`n$trailer`n" }; ErrorId = 'InvalidChangelog'; Like = '*changelog:1*entry header*' }
        @{ Row = '39'; Files = @{ 'img/Dockerfile' = $good; 'img/changelog' = "img (1.0) unstable; urgency=medium`n`n  * x`n" }; ErrorId = 'InvalidChangelog'; Like = '*no trailer*' }
        @{ Row = '42'; Files = @{ 'img/Dockerfile' = $good; 'img/changelog' = "img (1.0) unstable; urgency=medium`n`n* x`n`n$trailer`n" }; ErrorId = 'InvalidChangelog'; Like = '*changelog:3*indented*' }
        @{ Row = '43'; Files = @{ 'img/Dockerfile' = $good; 'img/changelog' = "img (1.0) unstable; urgency=medium`n`n  * x`n`n -- Ops <ops@example.org>  yesterday`n" }; ErrorId = 'InvalidChangelog'; Like = '*changelog:5*' }
        @{ Row = '46'; Files = @{ 'img/Dockerfile' = $good; 'img/changelog' = "img (1.0-) unstable; urgency=medium`n`n  * x`n`n$trailer`n" }; ErrorId = 'InvalidChangelog'; Like = '*changelog:1*' }
        @{ Row = '48'; Files = @{ 'img/Dockerfile' = $good; 'img/control' = "Depends foo`n" }; ErrorId = 'InvalidControlFile'; Like = '*control:1*' }
        @{ Row = '49'; Files = @{ 'img/Dockerfile' = $good; 'img/control' = "Depends: Foo Bar`n" }; ErrorId = 'InvalidControlFile'; Like = '*control:1*' }
        @{ Row = '32'; Files = @{ 'img/Dockerfile.template' = "FROM busybox:1.36`nRUN echo {{ 'x' | image_tag('y') }}`n" }; ErrorId = 'TemplateSyntaxError'; Like = '*Dockerfile.template:2*argument*' }
        @{ Row = '33'; Files = @{ 'img/Dockerfile.template' = "FROM busybox:1.36`nRUN echo {{ 'debian' | upstream_version }}`n" }; ErrorId = 'TemplateFilterError'; Like = '*Dockerfile.template:2*image:tag*' }
        @{ Row = '40'; Files = @{ 'img/Dockerfile' = $good; 'img/changelog' = "img (1.0_1) unstable; urgency=medium`n`n  * x`n`n$trailer`n" }; ErrorId = 'Invalid*'; Like = "*changelog:1*'_'*" }
        @{ Row = '41'; Files = @{ 'img/Dockerfile' = $good; 'img/changelog' = "img (1.0) unstable; urgency=medium, urgency=low`n`n  * x`n`n$trailer`n" }; ErrorId = 'InvalidChangelog'; Like = '*changelog:1*twice*' }
        @{ Row = '44'; Files = @{ 'img/Dockerfile' = $good; 'img/changelog' = "img (1.0) unstable; urgency=medium`r`n`r`n* x`r`n`r`n$trailer`r`n" }; ErrorId = 'InvalidChangelog'; Like = '*changelog:3*' }
        @{ Row = '136'; Files = @{ 'img/image.yaml' = "context: file:///nonexistent/imagetools-bad-input.git#main`n" }; ErrorId = 'GitContextUnreachable'; Like = '*image.yaml:1*' }
        @{ Row = '138'; Files = @{ 'img/image.yaml' = "context: file:///nonexistent/imagetools-bad-input.git#bad..ref`n" }; ErrorId = 'GitContextInvalid'; Like = '*image.yaml:1*' }
        @{ Row = '141'; Files = @{ 'builder.yaml' = "builder:`n  images:`n    - name: app`n      from: busybox:1.36`n      path: nowhere`n" }; Path = 'builder.yaml'; ErrorId = 'BuilderFileInvalid'; Like = '*builder.yaml:5*' }
        @{ Row = '51'; Files = @{ 'img/Dockerfile' = $good; 'img/control' = "Source: img`n`nPackage: img`nDepends: ghost`n" }; ErrorId = 'UnknownDependency'; Like = "*dependency on 'ghost'*" }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $null = Import-LaidOutModule
}

AfterAll { Remove-Module ImageTools -ErrorAction SilentlyContinue }

Describe 'Bad input in the tree: Get-ImageGraph names the file, the line and what to do' {
    It 'row <Row>: <ErrorId> (<Like>)' -ForEach $cases {
        $root = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        foreach ($file in $Files.Keys) {
            $written = Join-Path $root $file
            New-Item -ItemType Directory -Force (Split-Path $written) | Out-Null
            Set-Content -NoNewline -LiteralPath $written -Value $Files[$file]
        }
        $target = if ($Path) { Join-Path $root $Path } else { $root }

        $errors = @()
        # Every problem of one scan is its own error of the same run; none is terminating on its own.
        try { $null = Get-ImageGraph -Path $target -ErrorAction SilentlyContinue -ErrorVariable +errors } catch { $errors += $_ }
        $errors = @($errors | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })

        $errors | Should -Not -BeNullOrEmpty -Because 'the tree is refused'
        $matching = @($errors | Where-Object { "$($_.FullyQualifiedErrorId)" -like "$ErrorId,*" -and "$($_.Exception.Message)" -like $Like })
        if ($Also) { @($errors | Where-Object { "$($_.FullyQualifiedErrorId)" -like "$Also,*" }) | Should -Not -BeNullOrEmpty -Because 'every problem is reported in the same run' }
        $matching | Should -Not -BeNullOrEmpty -Because "one error is $ErrorId with '$Like'; the run gave: $(($errors | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }) -join ' | ')"
    }
}

Describe 'Input that is accepted, warned about or offered anyway' {
    BeforeAll {
        $trailer = ' -- Ops <ops@example.org>  Mon, 01 Jan 2024 00:00:00 +0000'
        function New-Tree([hashtable] $Files) {
            $root = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
            foreach ($file in $Files.Keys) {
                $written = Join-Path $root $file
                New-Item -ItemType Directory -Force (Split-Path $written) | Out-Null
                Set-Content -NoNewline -LiteralPath $written -Value $Files[$file]
            }
            $root
        }
    }

    It 'row 10: offers image names for -Name even when an image.yaml is broken, the broken one under its directory name' {
        $root = New-Tree @{ 'good/Dockerfile' = "FROM busybox:1.36`n"; 'broken/Dockerfile' = "FROM busybox:1.36`n"; 'broken/image.yaml' = "name: [unclosed`n" }
        $line = "Get-ImageGraph -Path '$root' -Name "
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Sort-Object | Should -Be @('broken', 'good')
    }

    It 'row 45: accepts what dpkg only warns about in a changelog (an upper-case name, one space before the date, tab-indented changes)' {
        $root = New-Tree @{ 'img/Dockerfile' = "FROM busybox:1.36`n"; 'img/image.yaml' = "name: img`n"; 'img/changelog' = "Img (1.0) unstable; urgency=medium`n`n`t* x`n`n -- Ops <ops@example.org> Mon, 01 Jan 2024 00:00:00 +0000`n" }
        $node = Get-ImageGraph $root -ErrorAction Stop
        $node.Version | Should -Be '1.0'
    }

    It 'row 50: accepts an empty Depends and doubled commas in control' {
        $root = New-Tree @{ 'a/Dockerfile' = "FROM busybox:1.36`n"; 'b/Dockerfile' = "FROM busybox:1.36`n"; 'b/control' = "Source: b`n`nPackage: b`nDepends: a,, `nBuild-Depends:`n" }
        $nodes = Get-ImageGraph $root -ErrorAction Stop
        ($nodes | Where-Object Name -eq 'b').Dependencies | Should -Be @('a')
    }

    It 'row 53: warns, naming the Dockerfile line and the tree''s version, when a Dockerfile pins another version of a sibling' {
        $root = New-Tree @{ 'base/Dockerfile' = "FROM busybox:1.36`n"; 'base/image.yaml' = "version: '2.0'`n"; 'app/Dockerfile' = "FROM base:1.0`n" }
        $nodes = Get-ImageGraph $root -WarningVariable warnings -WarningAction SilentlyContinue
        "$warnings" | Should -BeLike '*Dockerfile:1*base:2.0*'
        ($nodes | Where-Object Name -eq 'app').Dependencies | Should -BeNullOrEmpty -Because 'a pinned other version is an external base, not an edge'
    }

    It 'row 142: warns at the from line of a builder.yaml when the Dockerfile builds on something else, and reads the graph' {
        $root = New-Tree @{ 'builder.yaml' = "builder:`n  images:`n    - name: app`n      from: debian:bookworm`n"; 'app/Dockerfile' = "FROM busybox:1.36`n" }
        $nodes = Get-ImageGraph (Join-Path $root 'builder.yaml') -WarningVariable warnings -WarningAction SilentlyContinue
        "$warnings" | Should -BeLike '*builder.yaml:4*busybox:1.36*'
        $nodes.Name | Should -Be 'app'
    }

    It 'row 61: a build names an engine socket that is gone, before anything is built' {
        $root = New-Tree @{ 'img/Dockerfile' = "FROM busybox:1.36`n" }
        $saved = $env:DOCKER_HOST
        try {
            $env:DOCKER_HOST = 'unix:///nonexistent/imagetools-bad-input.sock'
            $thrown = { Get-ImageGraph $root | Invoke-ImageBuild -ErrorAction Stop } | Should -Throw -PassThru
        }
        finally { $env:DOCKER_HOST = $saved }
        $thrown.FullyQualifiedErrorId | Should -BeLike 'EngineUnavailable,*'
        $thrown.Exception.Message | Should -BeLike '*unix:///nonexistent/imagetools-bad-input.sock*'
    }

    It 'row 164: a changelog update names the journal of an interrupted update that it cannot read, and changes nothing' {
        $changelog = "img (1.0) unstable; urgency=medium`n`n  * x`n`n$trailer`n"
        $root = New-Tree @{ 'img/Dockerfile' = "FROM busybox:1.36`n"; 'img/changelog' = $changelog; '.imagetools-changelog.journal' = '[{"staged": ' }
        $thrown = { Update-ImageChangelog -Path $root -Name img -Reason 'x' -Author 'Ops' -Email 'ops@example.org' -Confirm:$false -ErrorAction Stop } | Should -Throw -PassThru
        $thrown.FullyQualifiedErrorId | Should -BeLike 'ChangelogJournalInvalid,*'
        $thrown.Exception.Message | Should -BeLike '*.imagetools-changelog.journal*delete it*'
        [IO.File]::ReadAllText((Join-Path $root 'img/changelog')) | Should -Be $changelog
    }

    It 'row 73: the rebuild check names a registry that nothing listens at, and what to check' {
        $closed = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $closed.Start(); $port = $closed.LocalEndpoint.Port; $closed.Stop()
        $root = New-Tree @{ 'img/Dockerfile' = "FROM busybox:1.36`n"; 'imagetools.yaml' = "registry: 127.0.0.1:$port`n" }
        $thrown = { Test-ImageNeedsRebuild -Path $root -ErrorAction Stop } | Should -Throw -PassThru
        $thrown.FullyQualifiedErrorId | Should -Be 'RegistryUnreachable,ImageTools.Commands.TestImageNeedsRebuildCommand'
        $thrown.Exception.Message | Should -BeLike "*Cannot reach the registry at 127.0.0.1:$port*is it running?*"
    }

    It 'row 77: the rebuild check names a registry host that does not resolve (the reserved .invalid), at once' {
        $root = New-Tree @{ 'img/Dockerfile' = "FROM busybox:1.36`n"; 'imagetools.yaml' = "registry: registry.imagetools.invalid`n" }
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $thrown = { Test-ImageNeedsRebuild -Path $root -ErrorAction Stop } | Should -Throw -PassThru
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 3 -Because 'an unknown host is not retried'
        $thrown.FullyQualifiedErrorId | Should -Be 'RegistryUnreachable,ImageTools.Commands.TestImageNeedsRebuildCommand'
        $thrown.Exception.Message | Should -BeLike '*registry.imagetools.invalid is not known*DNS*'
    }
}
