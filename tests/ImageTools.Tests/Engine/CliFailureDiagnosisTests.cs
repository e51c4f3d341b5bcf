using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Docker.Cli;
using ImageTools.Tests.Fakes;
using Xunit;

namespace ImageTools.Tests.Engine
{
    /// <summary>
    /// Issue 18: a push to a registry that was killed made the docker CLI say "connection refused", which
    /// the CLI adapter read as a dead engine. Played with a stand-in docker CLI (a shell script) that
    /// answers `version` or not, and fails a push with the line docker 20.10 prints for a dead registry.
    /// </summary>
    public class CliFailureDiagnosisTests : IDisposable
    {
        private readonly TestTree _bin = new TestTree();

        public void Dispose() => _bin.Dispose();

        private const string RefusedPush =
            "Get \\\"http://127.0.0.1:5557/v2/\\\": dial tcp 127.0.0.1:5557: connect: connection refused";

        private DockerCliEngine Engine(bool engineAnswers)
        {
            _bin.Write("docker", "#!/bin/sh\ncase \"$1\" in\n" +
                (engineAnswers ? "  version) echo 20.10.24 ;;\n" : "  version) echo 'Cannot connect to the Docker daemon at unix:///gone.sock. Is the docker daemon running?' >&2; exit 1 ;;\n") +
                $"  push) echo \"{RefusedPush}\" >&2; exit 1 ;;\n  *) exit 1 ;;\nesac\n");
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(_bin.PathOf("docker"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return new DockerCliEngine(_bin.PathOf("docker"), new System.Collections.Generic.Dictionary<string, string?> { ["DOCKER_HOST"] = "unix:///run/test-docker.sock" });
        }

        [UnixFact]
        public async Task A_registry_that_refuses_a_push_is_named_as_the_registry_not_the_engine()
        {
            var error = await Assert.ThrowsAsync<ImageToolsException>(() => Engine(engineAnswers: true).PushAsync("127.0.0.1:5557/app:1.0", CancellationToken.None));

            Assert.Equal("RegistryUnreachable", error.ErrorId);
            Assert.Contains("the registry at 127.0.0.1:5557 refused the connection", error.Message);
            Assert.Contains("engine at unix:///run/test-docker.sock answers", error.Message);
        }

        [UnixFact]
        public async Task A_refused_connection_with_an_engine_that_does_not_answer_is_the_engine()
        {
            var error = await Assert.ThrowsAsync<ImageToolsException>(() => Engine(engineAnswers: false).PushAsync("127.0.0.1:5557/app:1.0", CancellationToken.None));

            Assert.Equal("EngineUnavailable", error.ErrorId);
            Assert.Contains("unix:///run/test-docker.sock", error.Message);
        }
    }
}
