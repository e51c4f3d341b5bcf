#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# New-ImageBuildPlan on statuses from Test-ImageNeedsRebuild against the local engine (the trees
# here have no registry and are never built, so every image is stale). Needs an engine that answers.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $script:noDocker = -not (Test-DockerEngine)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $null = Import-LaidOutModule

    # base → (a, b); a → c. Names unique per run, so no image of the engine matches them.
    function New-PlanTree {
        $id = [guid]::NewGuid().ToString('N').Substring(0, 8)
        $tree = Join-Path $TestDrive "tree-$id"
        $images = [ordered]@{ base = 'FROM busybox:1.36'; a = "FROM bp$id-base"; b = "FROM bp$id-base"; c = "FROM bp$id-a" }
        foreach ($name in $images.Keys) {
            $path = Join-Path $tree $name
            New-Item -ItemType Directory -Force $path | Out-Null
            Set-Content -NoNewline -Path (Join-Path $path 'Dockerfile') -Value "$($images[$name])`n"
            Set-Content -NoNewline -Path (Join-Path $path 'image.yaml') -Value "name: bp$id-$name`n"
        }
        [pscustomobject]@{ Id = $id; Path = $tree }
    }
}

AfterAll {
    Remove-Module ImageTools -ErrorAction SilentlyContinue
}

Describe 'New-ImageBuildPlan' -Skip:$noDocker {
    BeforeAll {
        $tree = New-PlanTree
        $statuses = Get-ImageGraph $tree.Path | Test-ImageNeedsRebuild
    }

    It 'emits typed legs wave by wave and writes plan.json' {
        $plan = Join-Path $TestDrive 'plan'
        $legs = $statuses | Where-Object NeedsRebuild | New-ImageBuildPlan -Path $plan -MaximumLegs 4

        $legs | Should -HaveCount 4
        $legs | ForEach-Object { $_ | Should -BeOfType ([ImageTools.Planning.BuildPlanLeg]) }
        ($legs | ForEach-Object { "$($_.Wave):$($_.Images -join ',')" } | Sort-Object) |
            Should -Be @("0:bp$($tree.Id)-base", "1:bp$($tree.Id)-a", "1:bp$($tree.Id)-b", "2:bp$($tree.Id)-c") -Because 'a and b alone would put the wave on one agent'
        ($legs.Id | Sort-Object -Unique) | Should -HaveCount 4
        $json = Get-Content -Raw (Join-Path $plan 'plan.json') | ConvertFrom-Json
        $json.version | Should -Be 1
        $json.waveSlots | Should -Be 3
        @($json.waves).Count | Should -Be 3
        $json.waves[2].legs[0].images[0].name | Should -Be "bp$($tree.Id)-c"
        $json.waves[2].legs[0].images[0].reasons | Should -Contain 'NotPublished'
    }

    It 'with -WhatIf shows the legs and writes nothing' {
        $plan = Join-Path $TestDrive 'whatif-plan'
        $legs = $statuses | New-ImageBuildPlan -Path $plan -WhatIf
        $legs | Should -Not -BeNullOrEmpty
        Test-Path $plan | Should -BeFalse
    }

    It 'refuses a -Path that is a file' {
        $file = Join-Path $TestDrive 'a-file'
        Set-Content -Path $file -Value 'x'
        { $statuses | New-ImageBuildPlan -Path $file } | Should -Throw -ErrorId 'PlanPathIsFile,ImageTools.Commands.NewImageBuildPlanCommand'
    }

    It 'refuses -MaximumLegs 0' {
        { $statuses | New-ImageBuildPlan -Path (Join-Path $TestDrive 'zero') -MaximumLegs 0 } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,ImageTools.Commands.NewImageBuildPlanCommand'
    }

    It 'sets one matrix output per wave for Azure Pipelines and GitHub Actions' {
        $plan = Join-Path $TestDrive 'ci-plan'
        $githubOutput = Join-Path $TestDrive 'github-output'
        Set-Content -Path $githubOutput -Value 'earlier=kept'
        $child = Invoke-ChildPowerShell -Environment @{ TF_BUILD = 'True'; GITHUB_OUTPUT = $githubOutput } -Script @"
`$null = Get-ImageGraph '$($tree.Path -replace "'", "''")' -Name 'bp$($tree.Id)-b' | Test-ImageNeedsRebuild | New-ImageBuildPlan -Path '$($plan -replace "'", "''")'
"@
        $child.ExitCode | Should -Be 0 -Because $child.Error
        $lines = $child.Output -split "`r?`n"
        $lines | Should -Contain '##vso[task.setvariable variable=wave0;isOutput=true]{"w0_l0":{"leg":"w0_l0"}}'
        $lines | Should -Contain '##vso[task.setvariable variable=wave0Legs;isOutput=true]1'
        # The tree is three levels deep: the pipeline's later wave stages find empty matrices.
        $lines | Should -Contain '##vso[task.setvariable variable=wave2;isOutput=true]{}'
        $lines | Should -Contain '##vso[task.setvariable variable=wave2Legs;isOutput=true]0'
        $github = Get-Content $githubOutput
        $github | Should -Contain 'earlier=kept'
        $github | Should -Contain 'wave0={"include":[{"leg":"w0_l0"}]}'
        $github | Should -Contain 'wave1={"include":[]}'
        $github | Should -Contain 'wave-count=1'
    }
}
