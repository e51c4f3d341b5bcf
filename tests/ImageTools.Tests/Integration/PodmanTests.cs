using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Docker;
using ImageTools.Docker.Api;
using ImageTools.Graph;
using ImageTools.Provenance;
using ImageTools.Publishing;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>
    /// Podman's Docker-compatible API service (tests/services/start.sh starts it as root, vfs storage,
    /// the loopback registry as its only, insecure registry; IMAGETOOLS_TEST_PODMAN_HOST names its socket).
    /// </summary>
    internal static class PodmanService
    {
        public static string? Host { get; } = Environment.GetEnvironmentVariable("IMAGETOOLS_TEST_PODMAN_HOST");
        public static bool Configured => !string.IsNullOrEmpty(Host) && DockerServices.Configured;

        public const string NotStartedMessage =
            "Podman's API service for integration tests was not started: IMAGETOOLS_TEST_PODMAN_HOST is not set. Install podman, " +
            "run tests/services/start.sh DIR and source DIR/env (as .ci/run does).";

        /// <summary>CI promises Podman too; a developer's own engine (IMAGETOOLS_TEST_DOCKER_HOST alone) does not.</summary>
        public static bool Promised => ServicePromise.IsPromised(name => name == "IMAGETOOLS_TEST_DOCKER_HOST" ? null : Environment.GetEnvironmentVariable(name));

        public static void Require()
        {
            if (!Configured) throw new InvalidOperationException(NotStartedMessage);
        }
    }

    public sealed class PodmanFactAttribute : FactAttribute
    {
        public PodmanFactAttribute()
        {
            if (!PodmanService.Configured && !PodmanService.Promised) Skip = PodmanService.NotStartedMessage;
        }
    }

    /// <summary>The whole build, verify and publish path through DockerApiEngine against Podman.</summary>
    [Collection(DockerCollection.Name)]
    public class PodmanTests
    {
        private static readonly CancellationToken None = CancellationToken.None;

        private static DockerEngine Podman()
        {
            PodmanService.Require();
            var engine = (DockerEngine)DockerEngineFactory.Create(new Dictionary<string, string?>
            {
                ["DOCKER_HOST"] = PodmanService.Host,
                [DockerEngineFactory.BuilderVariable] = "api",
            }, AnonymousCredentialSource.Instance);
            Assert.False(engine.BuildsThroughCli);
            return engine;
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [PodmanFact]
        public async Task Podman_answers_the_version_check_and_holds_the_seeded_busybox_under_its_short_name()
        {
            using var podman = Podman();
            Assert.StartsWith("4.", await podman.GetVersionAsync(None));
            var busybox = await podman.InspectAsync("busybox:1.36", None);
            Assert.NotNull(busybox);
            // Loaded from the Docker engine's archive: the same config, so the same image id; podman names it localhost/….
            Assert.Equal((await DockerServices.Engine().InspectAsync("busybox:1.36", None))!.Id, busybox!.Id);
            Assert.Contains("localhost/busybox:1.36", busybox.RepoTags);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [PodmanFact]
        public async Task A_tree_builds_verifies_and_publishes_through_the_api_on_podman()
        {
            var ns = $"pod{Guid.NewGuid():N}".Substring(0, 11);
            var registry = DockerServices.RegistryAddress!;
            // test.sh calls the docker CLI: it must reach Podman through the DOCKER_HOST the engine hands it.
            using var tree = new TestTree()
                .Write("imagetools.yaml", $"registry: {registry}\nnamespace: {ns}\n")
                .Image("base", "FROM busybox:1.36\nRUN echo base > /id\n").Write("base/image.yaml", "version: '1.0'\nlabels:\n  org.example.engine: podman\n")
                .Image("app", $"FROM {registry}/{ns}/base:1.0\nCOPY greeting /greeting\nRUN cat /id /greeting > /both\n")
                .Write("app/greeting", "hello\n").Write("app/image.yaml", "version: '2.0'\n")
                .Write("app/test.sh", "#!/bin/sh\nset -e\ntest \"$(docker run --rm --network none \"$1\" cat /both)\" = \"$(printf 'base\\nhello')\"\n" +
                                      "docker version --format '{{.Server.Version}}' | grep -q '^4\\.'\n");
            using var podman = Podman();
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var built = await new ImageBuilder(podman, new BuildOptions { ThrottleLimit = 2 }).BuildAsync(graph, graph.Nodes, None);
            try
            {
                foreach (var result in built)
                    Assert.True(result.Status == BuildStatus.Built, $"{result.Name}: {result.Status}: {result.Error}\n{(result.LogPath != null ? File.ReadAllText(result.LogPath) : "")}");
                var app = built.Single(r => r.Name == "app");
                Assert.True(app.Verified);
                var baseLabels = (await podman.InspectAsync(built.Single(r => r.Name == "base").ImageId!, None))!.Labels;
                Assert.Equal("podman", baseLabels["org.example.engine"]);
                Assert.StartsWith("sha256:", baseLabels[ImageLabels.InputsDigest]);

                using var client = new RegistryClient(registry);
                var published = await new RegistryPublisher(podman, client, new RegistryPublishOptions())
                    .PublishAsync(built.Select(r => new ImageToPublish(r.Node, r.ImageId!)), None);
                Assert.All(published, p => Assert.True(p.Status == PublishStatus.Pushed, $"{p.Name}: {p.Status}: {p.Error}"));
                // The registry holds what Podman built: its config digest is the image id.
                var manifest = await client.HeadManifestAsync($"{ns}/app", "2.0");
                Assert.NotNull(manifest);
                Assert.Equal(app.ImageId, published.Single(p => p.Name == "app").Digest);
                Assert.NotNull(await client.HeadManifestAsync($"{ns}/app", "latest"));

                // The rebuild check then finds nothing stale in the registry Podman published to.
                using (var source = new ImageTools.Planning.RegistryImageSource(new RegistryClientOptions()))
                {
                    var statuses = await new ImageTools.Planning.RebuildPlanner(source, new ImageTools.Planning.BuildInputDigester(),
                        new ImageTools.Planning.RebuildOptions()).PlanAsync(graph, graph.Nodes, None);
                    Assert.All(statuses, s => Assert.False(s.NeedsRebuild, $"{s.Name}: {string.Join("; ", s.Details)}"));
                }

                // And the archive: Podman's docker save, one tar and record per image, listed in index.json.
                var archive = Path.Combine(tree.Root, "archive");
                var archived = await new ArchivePublisher(podman, archive).PublishAsync(built.Select(r => new ImageToPublish(r.Node, r.ImageId!)), None);
                Assert.All(archived, a => Assert.True(a.Status == PublishStatus.Archived, $"{a.Name}: {a.Status}: {a.Error}"));
                Assert.Equal(2, System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(archive, ArchivePublisher.IndexFileName))).RootElement.GetArrayLength());
            }
            finally
            {
                foreach (var tag in built.SelectMany(r => r.Tags).Distinct())
                    try { await podman.RemoveAsync(tag, None); } catch (ImageToolsException) { }
            }
        }
    
        [Trait(TestCategory.Name, TestCategory.Integration)]
        [PodmanFact]
        public async Task A_failing_step_on_podman_fails_the_build_naming_the_image_and_the_step()
        {
            using var podman = Podman();
            using var tree = new TestTree().Write("ctx/file.txt", "x");
            var error = await Assert.ThrowsAsync<ImageToolsException>(() => podman.BuildAsync(
                new Engines.BuildRequest("broken", tree.PathOf("ctx"), "FROM busybox:1.36\nRUN exit 3\n"), None));
            Assert.Equal("BuildFailed", error.ErrorId);
            Assert.Contains("'broken'", error.Message);
            Assert.Contains("STEP 2/2: RUN exit 3", error.Message);
            Assert.Contains(PodmanService.Host!, error.Message);
        }
    }
}
