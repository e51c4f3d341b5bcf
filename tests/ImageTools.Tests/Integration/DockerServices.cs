using System;
using System.Collections.Generic;
using System.Threading;
using ImageTools.Docker.Cli;
using ImageTools.Processes;

namespace ImageTools.Tests.Integration
{
    /// <summary>
    /// The real engine and registry the integration tests use, named by environment variables
    /// that tests/services/start.sh writes (and .ci/run sources): IMAGETOOLS_TEST_DOCKER_HOST and
    /// IMAGETOOLS_TEST_REGISTRY (host:port on loopback).
    /// </summary>
    internal static class DockerServices
    {
        public static string? DockerHost { get; } = Environment.GetEnvironmentVariable("IMAGETOOLS_TEST_DOCKER_HOST");
        public static string? RegistryAddress { get; } = Environment.GetEnvironmentVariable("IMAGETOOLS_TEST_REGISTRY");
        public static bool Configured => !string.IsNullOrEmpty(DockerHost) && !string.IsNullOrEmpty(RegistryAddress);

        public const string NotStartedMessage =
            "The Docker engine and registry for integration tests were not started: IMAGETOOLS_TEST_DOCKER_HOST and " +
            "IMAGETOOLS_TEST_REGISTRY are not set. Run tests/services/start.sh DIR and source DIR/env (as .ci/run does).";

        /// <summary>Fails the calling test when services are missing (only reached when services are promised, see ServicePromise: elsewhere the test was skipped).</summary>
        public static void Require()
        {
            if (!Configured) throw new InvalidOperationException(NotStartedMessage);
        }

        /// <summary>Runs the docker CLI against the test engine, without a shell; throws with its output on failure.</summary>
        public static string Docker(params string[] arguments) => Run("docker", arguments, workingDirectory: null).StandardOutput;

        /// <summary>The engine under test, pointed at the test daemon.</summary>
        public static DockerCliEngine Engine()
        {
            Require();
            return new DockerCliEngine(environment: ClientEnvironment);
        }

        // The CLI here has no buildx plugin, so builds use the classic builder.
        private static Dictionary<string, string?> ClientEnvironment => new Dictionary<string, string?> { ["DOCKER_HOST"] = DockerHost, ["DOCKER_BUILDKIT"] = "0" };

        public static ProcessOutcome Run(string command, IEnumerable<string> arguments, string? workingDirectory, TimeSpan? timeout = null, bool check = true)
        {
            Require();
            using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
            var result = ProcessRunner.RunAsync(command, arguments, deadline.Token, workingDirectory, ClientEnvironment).GetAwaiter().GetResult();
            if (check && result.ExitCode != 0)
                throw new InvalidOperationException(
                    $"{command} {string.Join(" ", arguments)} failed with exit code {result.ExitCode}:\n{result.StandardError}\n{result.StandardOutput}");
            return result;
        }
    }
}
