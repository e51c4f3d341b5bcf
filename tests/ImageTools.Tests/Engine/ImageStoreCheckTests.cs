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
    /// The engine check reads `docker info`'s DriverStatus. The Docker here (20.10) has no containerd
    /// image store, so the CLI's answer for one is played by a script; every real engine of the
    /// integration tests goes through the same check and must pass it.
    /// </summary>
    public class ImageStoreCheckTests : IDisposable
    {
        private readonly TestTree _bin = new TestTree();

        public void Dispose() => _bin.Dispose();

        private DockerCliEngine EngineAnswering(string driverStatusJson)
        {
            _bin.Write("docker", "#!/bin/sh\ncase \"$1\" in\n  version) echo 29.0.1 ;;\n" +
                $"  info) echo '{driverStatusJson}' ;;\n  *) exit 1 ;;\nesac\n");
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(_bin.PathOf("docker"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return new DockerCliEngine(_bin.PathOf("docker"));
        }

        // The stand-in CLI is a shell script.
        [UnixFact]
        public async Task An_engine_with_the_containerd_image_store_is_one_clear_error()
        {
            var error = await Assert.ThrowsAsync<ImageToolsException>(() =>
                EngineAnswering("[[\"driver-type\",\"io.containerd.snapshotter.v1\"]]").GetVersionAsync(CancellationToken.None));

            Assert.Equal("ImageStoreUnsupported", error.ErrorId);
            Assert.Contains("version 29.0.1", error.Message);
            Assert.Contains("\"containerd-snapshotter\": false", error.Message);
        }

        [UnixTheory]
        [InlineData("null")]
        [InlineData("[[\"Backing Filesystem\",\"extfs\"],[\"Supports d_type\",\"true\"]]")]
        public async Task An_engine_with_the_classic_image_store_passes(string driverStatusJson)
        {
            Assert.Equal("29.0.1", await EngineAnswering(driverStatusJson).GetVersionAsync(CancellationToken.None));
        }
    }
}
