using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Docker;
using ImageTools.Docker.Api;
using ImageTools.Engines;
using ImageTools.Processes;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>
    /// The Engine API adapter against the real test daemon and loopback registry, and the engine-facing
    /// theories against Podman's Docker-compatible service too (when it runs, or CI promises it).
    /// </summary>
    [Collection(DockerCollection.Name)]
    public class DockerApiEngineTests
    {
        public const string Dockerd = "dockerd";
        public const string Podman = "podman";

        /// <summary>The engines the theories run on: dockerd always, Podman when it is there or promised.</summary>
        public static IEnumerable<object[]> Engines()
        {
            yield return new object[] { Dockerd };
            if (PodmanService.Configured || PodmanService.Promised) yield return new object[] { Podman };
        }

        internal static string HostOf(string engine)
        {
            DockerServices.Require();
            if (engine == Dockerd) return DockerServices.DockerHost!;
            PodmanService.Require();
            return PodmanService.Host!;
        }

        private static DockerApiEngine Api(IRegistryCredentialSource? credentials = null, string engine = Dockerd) =>
            new DockerApiEngine(DockerEndpoint.Resolve(new Dictionary<string, string?> { ["DOCKER_HOST"] = HostOf(engine) }),
                credentials ?? AnonymousCredentialSource.Instance);

        /// <summary>The docker CLI against <paramref name="engine"/>.</summary>
        internal static string Cli(string engine, params string[] arguments)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var outcome = ProcessRunner.RunAsync("docker", arguments, deadline.Token,
                environment: new Dictionary<string, string?> { ["DOCKER_HOST"] = HostOf(engine), ["DOCKER_BUILDKIT"] = "0" }).GetAwaiter().GetResult();
            if (outcome.ExitCode != 0) throw new InvalidOperationException($"docker {string.Join(" ", arguments)} on {engine} failed: {outcome.StandardError}");
            return outcome.StandardOutput;
        }

        private static readonly CancellationToken None = CancellationToken.None;

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerTheory]
        [MemberData(nameof(Engines))]
        public async Task Version_negotiates_with_the_engine_and_passes_the_image_store_check(string engine)
        {
            using var api = Api(engine: engine);
            var version = await api.GetVersionAsync(None);
            Assert.Equal(Cli(engine, "version", "--format", "{{.Server.Version}}").Trim(), version);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerTheory]
        [MemberData(nameof(Engines))]
        public async Task Inspect_reads_what_the_cli_reads(string engine)
        {
            using var api = Api(engine: engine);
            var inspection = await api.InspectAsync("busybox:1.36", None);
            Assert.NotNull(inspection);
            Assert.Equal(Cli(engine, "image", "inspect", "--format", "{{.Id}}", "busybox:1.36").Trim(), inspection!.Id);
            Assert.StartsWith("sha256:", inspection.Id);
            // Podman keeps an image loaded without a registry as localhost/…, and finds it by its short name.
            Assert.Contains(engine == Podman ? "localhost/busybox:1.36" : "busybox:1.36", inspection.RepoTags);
            Assert.Equal("linux", inspection.Platform?.Os);
            Assert.Null(await api.InspectAsync("imagetools-no-such-image:never", None));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerTheory]
        [MemberData(nameof(Engines))]
        public async Task Tag_and_remove_go_through_the_api(string engine)
        {
            using var api = Api(engine: engine);
            var tag = $"imagetools-api-tag:{Guid.NewGuid():N}";
            await api.TagAsync("busybox:1.36", tag, None);
            Assert.Equal((await api.InspectAsync("busybox:1.36", None))!.Id, (await api.InspectAsync(tag, None))!.Id);
            await api.RemoveAsync(tag, None);
            Assert.Null(await api.InspectAsync(tag, None));
            var error = await Assert.ThrowsAsync<ImageToolsException>(() => api.RemoveAsync(tag, None));
            Assert.Equal("ImageNotFound", error.ErrorId);
            Assert.Contains(HostOf(engine), error.Message);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerTheory]
        [MemberData(nameof(Engines))]
        public async Task Push_and_pull_with_a_platform_round_trip_through_the_registry(string engine)
        {
            using var api = Api(engine: engine);
            var reference = $"{DockerServices.RegistryAddress}/imagetools-api/busybox:{Guid.NewGuid():N}";
            await api.TagAsync("busybox:1.36", reference, None);
            await api.PushAsync(reference, None);
            var pushed = (await api.InspectAsync(reference, None))!;
            Assert.Contains(pushed.RepoDigests, d => d.StartsWith(DockerServices.RegistryAddress + "/imagetools-api/busybox@sha256:", StringComparison.Ordinal));
            await api.RemoveAsync(reference, None);
            await api.PullAsync(reference, pushed.Platform, None);
            Assert.Equal(pushed.Id, (await api.InspectAsync(reference, None))!.Id);
            await api.RemoveAsync(reference, None);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerTheory]
        [MemberData(nameof(Engines))]
        public async Task A_push_whose_stream_reports_an_error_fails(string engine)
        {
            using var api = Api(engine: engine);
            // Nothing listens on port 1: the engine answers 200 and reports the failure inside the stream.
            var reference = $"127.0.0.1:1/imagetools-api/busybox:{Guid.NewGuid():N}";
            await api.TagAsync("busybox:1.36", reference, None);
            try
            {
                var error = await Assert.ThrowsAsync<ImageToolsException>(() => api.PushAsync(reference, None));
                Assert.Equal("PushFailed", error.ErrorId);
                Assert.Equal(reference, error.ImageName);
            }
            finally { await api.RemoveAsync(reference, None); }
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerTheory]
        [MemberData(nameof(Engines))]
        public async Task A_pull_of_a_missing_image_fails_naming_it(string engine)
        {
            using var api = Api(engine: engine);
            var reference = $"{DockerServices.RegistryAddress}/imagetools-api/absent:{Guid.NewGuid():N}";
            var error = await Assert.ThrowsAsync<ImageToolsException>(() => api.PullAsync(reference, null, None));
            Assert.Contains(reference.Split(':')[0], error.Message);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerTheory]
        [MemberData(nameof(Engines))]
        public async Task Save_writes_an_archive_docker_load_reads(string engine)
        {
            using var api = Api(engine: engine);
            using var tree = new TestTree();
            var path = tree.PathOf("busybox.tar");
            await api.SaveAsync("busybox:1.36", path, None);
            Assert.True(new FileInfo(path).Length > 100_000);
            Assert.Contains("busybox:1.36", Cli(engine, "load", "--input", path));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async Task An_engine_that_does_not_answer_is_EngineUnavailable_naming_the_endpoint()
        {
            DockerServices.Require();
            using var api = new DockerApiEngine(DockerEndpoint.Resolve(new Dictionary<string, string?> { ["DOCKER_HOST"] = "unix:///nonexistent/imagetools.sock" }));
            var error = await Assert.ThrowsAsync<ImageToolsException>(() => api.GetVersionAsync(None));
            Assert.Equal("EngineUnavailable", error.ErrorId);
            Assert.Contains("unix:///nonexistent/imagetools.sock", error.Message);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async Task The_composite_engine_builds_through_the_cli_and_tags_through_the_api()
        {
            DockerServices.Require();
            var environment = new Dictionary<string, string?> { ["DOCKER_HOST"] = DockerServices.DockerHost, ["DOCKER_BUILDKIT"] = "0" };
            using var engine = (DockerEngine)DockerEngineFactory.Create(environment, AnonymousCredentialSource.Instance);
            Assert.True(engine.BuildsThroughCli);
            using var tree = new TestTree();
            tree.Write("ctx/file.txt", "hello");
            var id = await engine.BuildAsync(new BuildRequest("composite", tree.PathOf("ctx"), "FROM busybox:1.36\nCOPY file.txt /file.txt\n"), None);
            var tag = $"imagetools-composite:{Guid.NewGuid():N}";
            await engine.TagAsync(id, tag, None);
            Assert.Equal(id, (await engine.InspectAsync(tag, None))!.Id);
            await engine.RemoveAsync(tag, None);
        }
    }
}
