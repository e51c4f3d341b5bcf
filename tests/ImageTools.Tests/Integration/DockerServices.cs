using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading.Tasks;

namespace ImageTools.Tests.Integration
{
    /// <summary>
    /// The real engine and registry the integration tests use, named by environment variables
    /// that tests/services/start.sh writes (and .ci/run sources): IMAGETOOLS_TEST_DOCKER_HOST and
    /// IMAGETOOLS_TEST_REGISTRY (host:port on loopback).
    /// </summary>
    public static class DockerServices
    {
        public static string? DockerHost { get; } = Environment.GetEnvironmentVariable("IMAGETOOLS_TEST_DOCKER_HOST");
        public static string? RegistryAddress { get; } = Environment.GetEnvironmentVariable("IMAGETOOLS_TEST_REGISTRY");
        public static bool Configured => !string.IsNullOrEmpty(DockerHost) && !string.IsNullOrEmpty(RegistryAddress);
        public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

        public const string NotStartedMessage =
            "The Docker engine and registry for integration tests were not started: IMAGETOOLS_TEST_DOCKER_HOST and " +
            "IMAGETOOLS_TEST_REGISTRY are not set. Run tests/services/start.sh DIR and source DIR/env (as .ci/run does).";

        /// <summary>Fails the calling test when services are missing (only reached in CI: elsewhere the test was skipped).</summary>
        public static void Require()
        {
            if (!Configured) throw new InvalidOperationException(NotStartedMessage);
        }

        /// <summary>Runs the docker CLI against the test engine, without a shell; throws with its output on failure.</summary>
        public static string Docker(params string[] arguments) => Run("docker", arguments, workingDirectory: null).StandardOutput;

        public static ProcessResult Run(string command, IEnumerable<string> arguments, string? workingDirectory, TimeSpan? timeout = null, bool check = true)
        {
            Require();
            var start = new ProcessStartInfo(command)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
            };
            foreach (var argument in arguments) start.ArgumentList.Add(argument);
            start.Environment["DOCKER_HOST"] = DockerHost;
            // The CLI here has no buildx plugin, so builds use the classic builder.
            start.Environment["DOCKER_BUILDKIT"] = "0";
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit((int)(timeout ?? TimeSpan.FromMinutes(5)).TotalMilliseconds))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{command} {string.Join(" ", arguments)} did not finish in time.");
            }
            Task.WaitAll(output, error);
            var result = new ProcessResult(process.ExitCode, output.Result, error.Result);
            if (check && result.ExitCode != 0)
                throw new InvalidOperationException(
                    $"{command} {string.Join(" ", arguments)} failed with exit code {result.ExitCode}:\n{result.StandardError}\n{result.StandardOutput}");
            return result;
        }
    }

    public sealed class ProcessResult
    {
        public ProcessResult(int exitCode, string standardOutput, string standardError)
        {
            ExitCode = exitCode;
            StandardOutput = standardOutput;
            StandardError = standardError;
        }

        public int ExitCode { get; }
        public string StandardOutput { get; }
        public string StandardError { get; }
    }
}
