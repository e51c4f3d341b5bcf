using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace ImageTools.Processes
{
    /// <summary>What a finished process printed and how it exited.</summary>
    internal sealed class ProcessOutcome
    {
        public ProcessOutcome(int exitCode, string standardOutput, string standardError)
        {
            ExitCode = exitCode;
            StandardOutput = standardOutput;
            StandardError = standardError;
        }

        public int ExitCode { get; }
        public string StandardOutput { get; }
        public string StandardError { get; }
    }

    /// <summary>
    /// Starts programs without a shell. Arguments are quoted by the Windows rules
    /// (CommandLineToArgvW), which .NET also uses to split them on Unix, so one quoting serves
    /// both; netstandard2.0 has no ProcessStartInfo.ArgumentList.
    /// </summary>
    internal static class ProcessRunner
    {
        public static async Task<ProcessOutcome> RunAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken,
            string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null,
            Action<string>? onOutputLine = null, string? standardInput = null)
        {
            var start = new ProcessStartInfo(fileName, JoinArguments(arguments))
            {
                UseShellExecute = false,
                CreateNoWindow = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = standardInput != null,
                WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory(),
            };
            foreach (var pair in environment ?? new Dictionary<string, string?>())
            {
                if (pair.Value == null) start.Environment.Remove(pair.Key);
                else start.Environment[pair.Key] = pair.Value;
            }

            using var process = new Process { StartInfo = start, EnableRaisingEvents = true };
            var output = new StringBuilder();
            var error = new StringBuilder();
            var outputDone = new TaskCompletionSource<bool>();
            var errorDone = new TaskCompletionSource<bool>();
            process.OutputDataReceived += (_, e) => Collect(e.Data, output, outputDone, onOutputLine);
            process.ErrorDataReceived += (_, e) => Collect(e.Data, error, errorDone, onOutputLine);
            var exited = new TaskCompletionSource<bool>();
            process.Exited += (_, _) => exited.TrySetResult(true);

            try { process.Start(); }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new ImageToolsException("ProgramNotFound", FaultKind.ResourceUnavailable,
                    $"Cannot start '{fileName}': {e.Message}. Install it or put it on PATH.", inner: e);
            }
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (standardInput != null)
            {
                await process.StandardInput.WriteAsync(standardInput).ConfigureAwait(false);
                process.StandardInput.Close();
            }

            using (cancellationToken.Register(() => Kill(process)))
            {
                await exited.Task.ConfigureAwait(false);
                await Task.WhenAll(outputDone.Task, errorDone.Task).ConfigureAwait(false);
            }
            cancellationToken.ThrowIfCancellationRequested();
            return new ProcessOutcome(process.ExitCode, output.ToString(), error.ToString());
        }

        /// <summary>Quotes each argument so that CommandLineToArgvW (and .NET on Unix) gives it back unchanged.</summary>
        public static string JoinArguments(IEnumerable<string> arguments) => string.Join(" ", arguments.Select(Quote));

        internal static string Quote(string argument)
        {
            if (argument.Length > 0 && argument.IndexOfAny(new[] { ' ', '\t', '\n', '\v', '"' }) < 0) return argument;
            var quoted = new StringBuilder("\"");
            var backslashes = 0;
            foreach (var c in argument)
            {
                if (c == '\\') { backslashes++; continue; }
                // Backslashes are literal unless they precede a quote: then each must be doubled.
                quoted.Append('\\', c == '"' ? backslashes * 2 + 1 : backslashes);
                backslashes = 0;
                quoted.Append(c);
            }
            quoted.Append('\\', backslashes * 2);
            return quoted.Append('"').ToString();
        }

        private static void Collect(string? line, StringBuilder into, TaskCompletionSource<bool> done, Action<string>? onLine)
        {
            if (line == null) { done.TrySetResult(true); return; }
            lock (into) into.AppendLine(line);
            onLine?.Invoke(line);
        }

        private static void Kill(Process process)
        {
            try
            {
                if (process.HasExited) return;
                // netstandard2.0 cannot kill a process tree; docker CLI children end with their parent's connection.
                process.Kill();
            }
            catch (InvalidOperationException) { }
            catch (System.ComponentModel.Win32Exception) { }
        }
    }
}
