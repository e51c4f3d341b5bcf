using System;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;

namespace ImageTools.Commands
{
    /// <summary>
    /// How to start the PowerShell that runs the module, as a new process: build.ps1's rule
    /// (Get-PowerShellStartCommand), so a test.ps1 check runs in the same kind of PowerShell as the build.
    /// </summary>
    internal static class PowerShellHost
    {
        public static string[] StartCommand(PSCmdlet cmdlet)
        {
            var home = cmdlet.SessionState.PSVariable.GetValue("PSHOME") as string ?? AppContext.BaseDirectory;
            string? process;
            using (var current = Process.GetCurrentProcess()) process = current.MainModule?.FileName;
            return StartCommand(process ?? "", home);
        }

        /// <summary>pwsh or powershell: itself; the ISE: powershell.exe beside it; dotnet (the dotnet tool): dotnet with $PSHOME/pwsh.dll; else what $PSHOME holds.</summary>
        internal static string[] StartCommand(string processPath, string powerShellHome)
        {
            var name = Path.GetFileName(processPath.Replace('\\', '/'));
            if (name.EndsWith(".exe", StringComparison.OrdinalIgnoreCase)) name = name.Substring(0, name.Length - 4);
            if (name == "pwsh" || name == "powershell") return new[] { processPath };
            if (name == "powershell_ise") return new[] { Path.Combine(Path.GetDirectoryName(processPath) ?? "", "powershell.exe") };
            var assembly = Path.Combine(powerShellHome, "pwsh.dll");
            if (name == "dotnet" && File.Exists(assembly)) return new[] { processPath, assembly };
            foreach (var candidate in new[] { "pwsh", "pwsh.exe", "powershell.exe" })
            {
                var path = Path.Combine(powerShellHome, candidate);
                if (File.Exists(path)) return new[] { path };
            }
            return new[] { "pwsh" };
        }
    }
}
