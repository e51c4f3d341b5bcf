using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Docker;
using ImageTools.Docker.Api;
using ImageTools.Engines;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>The Engine API adapter against the real test daemon and loopback registry.</summary>
    [Collection(DockerCollection.Name)]
    public class DockerApiEngineTests
    {
        private static DockerApiEngine Api(IRegistryCredentialSource? credentials = null)
        {
            DockerServices.Require();
            return new DockerApiEngine(DockerEndpoint.Resolve(new Dictionary<string, string?> { ["DOCKER_HOST"] = DockerServices.DockerHost }),
                credentials ?? AnonymousCredentialSource.Instance);
        }

        private static readonly CancellationToken None = CancellationToken.None;

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async Task Version_negotiates_with_the_engine_and_passes_the_image_store_check()
        {
            using var api = Api();
            var version = await api.GetVersionAsync(None);
            Assert.Equal(DockerServices.Docker("version", "--format", "{{.Server.Version}}").Trim(), version);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async Task Inspect_reads_what_the_cli_reads()
        {
            using var api = Api();
            var inspection = await api.InspectAsync("busybox:1.36", None);
            Assert.NotNull(inspection);
            Assert.Equal(DockerServices.Docker("image", "inspect", "--format", "{{.Id}}", "busybox:1.36").Trim(), inspection!.Id);
            Assert.StartsWith("sha256:", inspection.Id);
            Assert.Contains("busybox:1.36", inspection.RepoTags);
            Assert.Equal("linux", inspection.Platform?.Os);
            Assert.Null(await api.InspectAsync("imagetools-no-such-image:never", None));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async Task Tag_and_remove_go_through_the_api()
        {
            using var api = Api();
            var tag = $"imagetools-api-tag:{Guid.NewGuid():N}";
            await api.TagAsync("busybox:1.36", tag, None);
            Assert.Equal((await api.InspectAsync("busybox:1.36", None))!.Id, (await api.InspectAsync(tag, None))!.Id);
            await api.RemoveAsync(tag, None);
            Assert.Null(await api.InspectAsync(tag, None));
            var error = await Assert.ThrowsAsync<ImageToolsException>(() => api.RemoveAsync(tag, None));
            Assert.Equal("ImageNotFound", error.ErrorId);
            Assert.Contains(DockerServices.DockerHost!, error.Message);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async Task Push_and_pull_with_a_platform_round_trip_through_the_registry()
        {
            using var api = Api();
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
        [DockerFact]
        public async Task A_push_whose_stream_reports_an_error_fails()
        {
            using var api = Api();
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
        [DockerFact]
        public async Task A_pull_of_a_missing_image_fails_naming_it()
        {
            using var api = Api();
            var reference = $"{DockerServices.RegistryAddress}/imagetools-api/absent:{Guid.NewGuid():N}";
            var error = await Assert.ThrowsAsync<ImageToolsException>(() => api.PullAsync(reference, null, None));
            Assert.Contains(reference.Split(':')[0], error.Message);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async Task Save_writes_an_archive_docker_load_reads()
        {
            using var api = Api();
            using var tree = new TestTree();
            var path = tree.PathOf("busybox.tar");
            await api.SaveAsync("busybox:1.36", path, None);
            Assert.True(new FileInfo(path).Length > 100_000);
            Assert.Contains("busybox:1.36", DockerServices.Docker("load", "--input", path));
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
