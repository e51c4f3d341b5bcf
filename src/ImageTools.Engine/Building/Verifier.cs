using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Engines;
using ImageTools.Graph;
using ImageTools.Processes;

namespace ImageTools.Building
{
    /// <summary>
    /// docker-pkg's verification step. A configured verify command (image.yaml, else the tree's)
    /// runs with <c>{path}</c> and <c>{image}</c> replaced; if one of its <c>{path}</c> arguments
    /// does not exist, there is nothing to verify (docker-pkg skips too). Without a command,
    /// <c>test.sh</c> runs directly with the image as its argument.
    /// <c>{image}</c> is the new image's id: no tag points at an image before it passed.
    /// </summary>
    internal static class Verifier
    {
        [DllImport("libc", EntryPoint = "access", SetLastError = true)]
        private static extern int Access(string path, int mode);

        private const int ExecuteOk = 1;

        private static bool IsExecutable(string path)
        {
            try { return Access(path, ExecuteOk) == 0; }
            catch (DllNotFoundException) { return true; }
            catch (EntryPointNotFoundException) { return true; }
        }

        /// <summary>
        /// True when a check ran and passed, false when there was none; throws VerifyFailed. <paramref name="powerShell"/>
        /// is how to start the PowerShell that runs the module (a test.ps1 runs in it); "pwsh" on PATH when null.
        /// </summary>
        public static async Task<bool> VerifyAsync(ImageNode node, string imageId, IContainerEngine engine, string? logPath, CancellationToken cancellationToken,
            IReadOnlyList<string>? powerShell = null)
        {
            var image = node.Definition;
            var config = node.Graph.Tree.Config;
            var command = image.VerifyCommand ?? config.VerifyCommand;
            string program;
            string check;  // what the failure message names: the command, or the script
            IReadOnlyList<string> arguments;
            if (command != null)
            {
                var template = image.VerifyCommand != null ? image.VerifyArgs : config.VerifyArgs;
                template ??= Array.Empty<string>();
                var missing = template.SelectMany(a => a.Split(' ')).Where(p => p.Contains("{path}"))
                    .Select(p => p.Replace("{path}", image.Directory)).FirstOrDefault(p => !File.Exists(p) && !Directory.Exists(p));
                if (missing != null) return false;
                program = command;
                check = Path.GetFileName(command);
                arguments = template.Select(a => a.Replace("{path}", image.Directory).Replace("{image}", imageId)).ToList();
            }
            else if (image.TestPowerShellScriptPath != null && (image.TestScriptPath == null || RuntimeInformation.IsOSPlatform(OSPlatform.Windows)))
            {
                // Windows runs test.ps1 where it has one beside test.sh (it has no sh); elsewhere test.ps1 runs when it is the only check.
                var start = powerShell is { Count: > 0 } ? powerShell : new[] { "pwsh" };
                program = start[0];
                check = Path.GetFileName(image.TestPowerShellScriptPath);
                arguments = start.Skip(1).Concat(new[] { "-NoProfile", "-NonInteractive", "-File", image.TestPowerShellScriptPath, imageId }).ToList();
            }
            else if (image.TestScriptPath != null)
            {
                // docker-pkg runs a test.sh that lost its exec bit (a checkout on Windows, a zip) through /bin/sh.
                var runsItself = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) || IsExecutable(image.TestScriptPath);
                program = runsItself ? image.TestScriptPath : "/bin/sh";
                check = Path.GetFileName(image.TestScriptPath);
                arguments = runsItself ? new[] { imageId } : new[] { image.TestScriptPath, imageId };
            }
            else
            {
                return false;
            }

            using var log = logPath == null ? null : new StreamWriter(logPath, append: true) { AutoFlush = true };
            var gate = new object();
            log?.WriteLine($"$ {program} {ProcessRunner.JoinArguments(arguments)}");
            // As docker-pkg does, the check runs with the tree's proxy in its environment.
            var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var pair in engine.ClientEnvironment) environment[pair.Key] = pair.Value;
            foreach (var pair in config.ProxyVariables) environment[pair.Key] = pair.Value;
            var outcome = await ProcessRunner.RunAsync(program, arguments, cancellationToken, image.Directory, environment,
                line => { lock (gate) log?.WriteLine(line); }).ConfigureAwait(false);
            if (outcome.ExitCode != 0)
            {
                var last = (outcome.StandardError + "\n" + outcome.StandardOutput).Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0) ?? "no output";
                throw new ImageToolsException("VerifyFailed", FaultKind.InvalidOperation,
                    $"Verification of '{node.Name}' failed ({check} exited with {outcome.ExitCode}): {last}" +
                    (logPath != null ? $" (full log: {logPath})" : ""), imageName: node.Name);
            }
            return true;
        }
    }
}
