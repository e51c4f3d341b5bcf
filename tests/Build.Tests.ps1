#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# build.ps1 as users start it: under the PowerShell dotnet tool (the process is `dotnet`), an
# installed pwsh, or Windows PowerShell, from a checkout path with a space and an apostrophe.
# Needs no Docker.

BeforeAll {
    # TestSupport brings build.ps1's helper functions (Get-PowerShellStartCommand, ConvertTo-Literal).
    . (Join-Path $PSScriptRoot 'TestSupport.ps1')
    $buildScript = Join-Path $PSScriptRoot '../build.ps1'

    # A checkout of just what -Task Check needs, under a path that breaks naive quoting.
    function New-AwkwardCheckout {
        $checkout = Join-Path $TestDrive "it's a checkout"
        New-Item -ItemType Directory -Force (Join-Path $checkout 'tests/tools') | Out-Null
        Copy-Item $buildScript, (Join-Path $PSScriptRoot '../Directory.Build.props') $checkout
        Copy-Item (Join-Path $PSScriptRoot 'tools/tools.csproj') (Join-Path $checkout 'tests/tools')
        $checkout
    }
}

Describe 'How build.ps1 starts its child PowerShell' {
    It 'starts an installed pwsh or Windows PowerShell as itself' -ForEach @(
        @{ Process = '/opt/microsoft/powershell/7/pwsh' }
        @{ Process = 'C:\Program Files\PowerShell\7\pwsh.exe' }
        @{ Process = 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe' }) {
        Get-PowerShellStartCommand -ProcessPath $Process -PowerShellHome $TestDrive | Should -Be @($Process)
    }

    It 'starts pwsh.dll through dotnet under the dotnet tool, where the process is dotnet' {
        $toolHome = Join-Path $TestDrive 'tool'
        New-Item -ItemType File -Force (Join-Path $toolHome 'pwsh.dll') | Out-Null
        $command = Get-PowerShellStartCommand -ProcessPath '/usr/share/dotnet/dotnet' -PowerShellHome $toolHome
        $command | Should -Be @('/usr/share/dotnet/dotnet', (Join-Path $toolHome 'pwsh.dll'))
    }

    It 'starts powershell.exe from the ISE' {
        Get-PowerShellStartCommand -ProcessPath 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell_ise.exe' -PowerShellHome 'C:\Windows\System32\WindowsPowerShell\v1.0' |
            Should -Be 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe'
    }

    It 'says what to do in a host it cannot place' {
        { Get-PowerShellStartCommand -ProcessPath '/usr/bin/somehost' -PowerShellHome (Join-Path $TestDrive 'empty') } |
            Should -Throw '*Run build.ps1 with pwsh or powershell.exe*'
    }

    It 'quotes values as literals that survive apostrophes, typographic quotes and dollars' -ForEach @(
        "it's", "a $([char]0x2018)b$([char]0x2019) c", '$env:HOME `n', "'") {
        $literal = ConvertTo-Literal $_
        (Invoke-Expression $literal) | Should -BeExactly $_
    }
}

Describe 'build.ps1 -Task Package from a checkout path with a space and an apostrophe' {
    It 'lays out a module that imports' {
        $checkout = Join-Path $TestDrive "pack'age checkout"
        New-Item -ItemType Directory -Force $checkout | Out-Null
        $repo = Join-Path $PSScriptRoot '..'
        foreach ($item in 'src', 'module', 'build.ps1', 'Directory.Build.props', 'global.json', '.config') {
            Copy-Item -Recurse (Join-Path $repo $item) $checkout -Exclude 'bin', 'obj'
        }
        Get-ChildItem -Recurse -Directory (Join-Path $checkout 'src') -Include 'bin', 'obj' | Remove-Item -Recurse -Force
        $start = Get-PowerShellStartCommand
        $arguments = @($start | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $checkout 'build.ps1'), '-Task', 'Package')
        $output = & $start[0] @arguments 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $output
        $manifest = Join-Path $checkout 'out/ImageTools/ImageTools.psd1'
        Test-Path -LiteralPath $manifest | Should -BeTrue
        Test-Path -LiteralPath (Join-Path $checkout 'out/ImageTools/dependencies/YamlDotNet.dll') | Should -BeTrue
        $probe = & $start[0] @(@($start | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command',
            "Import-Module -Name '$($manifest -replace "'", "''")'; (Get-Command -Module ImageTools).Count"))
        $probe | Should -Be '9'  # the cmdlets ImageTools.psd1 exports
    }
}

Describe 'build.ps1 -Task Check from a checkout path with a space and an apostrophe' {
    BeforeAll { $checkout = New-AwkwardCheckout }

    It 'runs under <Label>' -ForEach @(
        @{ Label = 'the dotnet tool host (dotnet pwsh.dll)'; Kind = 'tool' }
        @{ Label = 'an installed pwsh (the pwsh executable beside pwsh.dll)'; Kind = 'installed' }) {
        # Under the tool this process is dotnet itself; else the dotnet on PATH.
        $self = (Get-Process -Id $PID).Path
        $dotnet = if ((Split-Path -Leaf $self) -match '^dotnet(\.exe)?$') { $self } else { (Get-Command dotnet -CommandType Application | Select-Object -First 1).Source }
        $start = @(switch ($Kind) {
            'tool' { $dotnet; Join-Path $PSHOME 'pwsh.dll' }
            'installed' { Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' }) }
        })
        if ($Kind -eq 'tool' -and -not (Test-Path $start[1])) { Set-ItResult -Skipped -Because "this PowerShell ($PSHOME) is not the dotnet tool" ; return }
        Test-Path $start[0] | Should -BeTrue -Because "$($start[0]) must exist to play this host"
        $arguments = @($start | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $checkout 'build.ps1'), '-Task', 'Check')
        $output = & $start[0] @arguments 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $output
        $output | Should -Match ([regex]::Escape("Pester 5.9.1 from $(Join-Path $checkout 'out/tools/Modules/Pester/5.9.1')"))
        $output | Should -Match "PowerShell $([regex]::Escape($PSVersionTable.PSVersion.ToString()))"
        if ($Kind -eq 'tool') { $output | Should -Match ([regex]::Escape("Child PowerShell: $dotnet")) }
        else { $output | Should -Match ([regex]::Escape("Child PowerShell: $($start[0])")) }
    }
}
