using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using ImageTools.Docker.Cli;
using ImageTools.Processes;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>
    /// A second, empty Docker engine beside the test engine: its own dockerd with its own data root,
    /// exec root, pidfile and socket (the flags of tests/services/start.sh), holding only busybox:1.36
    /// (copied from the test engine with docker save | docker load). It shares the loopback registry,
    /// so tests can play a throw-away CI agent that starts empty. Use it as a class fixture
    /// (<c>IClassFixture&lt;SecondEngine&gt;</c>): one daemon per test class, stopped after it.
    /// </summary>
    public sealed class SecondEngine : IDisposable
    {
        private readonly Process? _daemon;

        public SecondEngine()
        {
            if (!DockerServices.Configured) return;  // the DockerFact tests of the class are skipped, or fail on Require in CI
            // Short: a unix socket path has a limit of about 100 bytes.
            State = Path.Combine("/tmp", "itb-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(State);
            DockerHost = "unix://" + Path.Combine(State, "docker.sock");
            var start = new ProcessStartInfo("dockerd")
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = false,
                RedirectStandardError = false,
            };
            foreach (var argument in new[]
            {
                "--data-root", Path.Combine(State, "data"), "--exec-root", Path.Combine(State, "exec"), "--pidfile", Path.Combine(State, "dockerd.pid"),
                "--storage-driver", "vfs", "--iptables=false", "--ip-masq=false", "--bridge=none", "-H", DockerHost,
                "--log-level", "warn",
            }) start.ArgumentList.Add(argument);
            _daemon = Process.Start(start) ?? throw new InvalidOperationException("dockerd did not start.");
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Run(false, "version").ExitCode != 0)
            {
                if (_daemon.HasExited) throw new InvalidOperationException($"The second dockerd exited with {_daemon.ExitCode} while starting.");
                if (DateTime.UtcNow > deadline) throw new InvalidOperationException("The second dockerd did not answer within 60 s.");
                Thread.Sleep(250);
            }
            var seed = Path.Combine(State, "busybox.tar");
            DockerServices.Docker("save", "--output", seed, "busybox:1.36");
            Docker("load", "--input", seed);
            File.Delete(seed);
        }

        /// <summary>Where its data root, exec root, pidfile and socket live.</summary>
        public string State { get; } = "";
        /// <summary><c>unix://…/docker.sock</c> of the second engine.</summary>
        public string DockerHost { get; } = "";

        /// <summary>The engine under test, pointed at the second daemon.</summary>
        internal DockerCliEngine Engine()
        {
            DockerServices.Require();
            return new DockerCliEngine(environment: Environment);
        }

        /// <summary>Runs the docker CLI against the second engine; throws with its output on failure.</summary>
        public string Docker(params string[] arguments) => Run(true, arguments).StandardOutput;

        private Dictionary<string, string?> Environment => new Dictionary<string, string?> { ["DOCKER_HOST"] = DockerHost, ["DOCKER_BUILDKIT"] = "0" };

        private ProcessOutcome Run(bool check, params string[] arguments)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            var result = ProcessRunner.RunAsync("docker", arguments, deadline.Token, environment: Environment).GetAwaiter().GetResult();
            if (check && result.ExitCode != 0)
                throw new InvalidOperationException($"docker {string.Join(" ", arguments)} on the second engine failed with exit code {result.ExitCode}:\n{result.StandardError}");
            return result;
        }

        public void Dispose()
        {
            if (_daemon == null) return;
            // SIGTERM lets dockerd stop the containerd it started; a hard kill is the fall-back.
            if (!_daemon.HasExited)
                ProcessRunner.RunAsync("kill", new[] { "-TERM", _daemon.Id.ToString() }, CancellationToken.None).GetAwaiter().GetResult();
            if (!_daemon.WaitForExit(30000)) _daemon.Kill(entireProcessTree: true);
            _daemon.Dispose();
            ProcessRunner.RunAsync("rm", new[] { "-rf", State }, CancellationToken.None).GetAwaiter().GetResult();
        }
    }
}
