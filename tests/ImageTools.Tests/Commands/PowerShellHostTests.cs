using System.IO;
using ImageTools.Commands;
using Xunit;

namespace ImageTools.Tests.Commands
{
    /// <summary>The start rule of the PowerShell a test.ps1 runs in: build.ps1's Get-PowerShellStartCommand, from C#.</summary>
    public class PowerShellHostTests
    {
        [Fact]
        public void Pwsh_and_Windows_PowerShell_start_themselves_and_the_ISE_starts_powershell_exe()
        {
            Assert.Equal(new[] { "/opt/microsoft/powershell/7/pwsh" }, PowerShellHost.StartCommand("/opt/microsoft/powershell/7/pwsh", "/opt/microsoft/powershell/7"));
            Assert.Equal(new[] { "/ps/powershell.exe" }, PowerShellHost.StartCommand("/ps/powershell.exe", "/ps"));
            Assert.Equal(new[] { Path.Combine("/ps", "powershell.exe") }, PowerShellHost.StartCommand("/ps/powershell_ise.exe", "/ps"));
        }

        [Fact]
        public void Under_the_dotnet_tool_it_is_dotnet_with_pwsh_dll_and_otherwise_what_PSHOME_holds()
        {
            using var home = new TestTree().Write("pwsh.dll", "").Write("pwsh", "");

            Assert.Equal(new[] { "/usr/bin/dotnet", Path.Combine(home.Root, "pwsh.dll") }, PowerShellHost.StartCommand("/usr/bin/dotnet", home.Root));
            Assert.Equal(new[] { Path.Combine(home.Root, "pwsh") }, PowerShellHost.StartCommand("/usr/bin/some-host", home.Root));
            Assert.Equal(new[] { "pwsh" }, PowerShellHost.StartCommand("/usr/bin/some-host", Path.Combine(home.Root, "missing")));
        }
    }
}
