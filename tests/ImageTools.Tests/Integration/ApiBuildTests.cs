using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Docker;
using ImageTools.Docker.Api;
using ImageTools.Engines;
using ImageTools.Graph;
using ImageTools.Provenance;
using ImageTools.References;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>Builds through the Engine API's POST /build (no docker CLI involved) against the real daemon.</summary>
    [Collection(DockerCollection.Name)]
    public class ApiBuildTests
    {
        private static readonly CancellationToken None = CancellationToken.None;

        /// <summary>The shipped engine with the CLI out of the build path, as where no docker CLI is on PATH.</summary>
        internal static DockerEngine ApiBuildingEngine(string? dockerHost = null)
        {
            DockerServices.Require();
            var engine = (DockerEngine)DockerEngineFactory.Create(new Dictionary<string, string?>
            {
                ["DOCKER_HOST"] = dockerHost ?? DockerServices.DockerHost,
                [DockerEngineFactory.BuilderVariable] = "api",
            }, AnonymousCredentialSource.Instance);
            Assert.False(engine.BuildsThroughCli);
            return engine;
        }

        private sealed class Events : IProgress<BuildEvent>
        {
            public ConcurrentQueue<string> Messages { get; } = new ConcurrentQueue<string>();
            public void Report(BuildEvent value) => Messages.Enqueue(value.Message);
        }

        private static string LongPath => "deep/" + string.Join("/", Enumerable.Repeat("directory-with-a-long-name", 5)) + "/file.txt";

        /// <summary>
        /// A two-stage image with a target, a build arg, a label from image.yaml and the host platform, whose RUN
        /// step checks the context it was sent: .dockerignore honoured, exec bits kept, long and non-ASCII names whole,
        /// nothing of the build's own Dockerfile left where COPY sees it. A wrong context fails the build.
        /// </summary>
        private static TestTree Tree(string name)
        {
            var tree = new TestTree()
                .Image("app", "ARG GREETING=unset\n" +
                              "FROM busybox:1.36 AS build\nARG GREETING\nRUN echo \"$GREETING\" > /greeting\n" +
                              "FROM busybox:1.36 AS final\nCOPY --from=build /greeting /greeting\nCOPY . /ctx/\n" +
                              "RUN test \"$(cat /greeting)\" = hello && test -x /ctx/run.sh && test ! -x /ctx/plain.txt && test ! -e /ctx/skip.log " +
                              $"&& test \"$(cat '/ctx/{LongPath}')\" = long && test \"$(cat /ctx/grüße.txt)\" = umlaut && test ! -e /ctx/.dockerignore " +
                              "&& test ! -e /ctx/Dockerfile && test -z \"$(ls -a /ctx | grep imagetools)\"\n" +
                              "FROM busybox:1.36 AS later\nRUN exit 1\n")
                .Write("app/image.yaml", $"name: {name}\nversion: '1.0'\ntarget: final\nplatforms: [{ImagePlatform.Host}]\n" +
                                         "build_args:\n  GREETING: hello\nlabels:\n  org.example.team: ops\n")
                .Write("app/.dockerignore", "*.log\n.dockerignore\nDockerfile\n")
                .Write("app/plain.txt", "plain\n").Write("app/run.sh", "#!/bin/sh\n").Write("app/skip.log", "skipped\n")
                .Write("app/" + LongPath, "long\n").Write("app/grüße.txt", "umlaut\n");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tree.PathOf("app/run.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return tree;
        }

        private static BuildResult Build(IContainerEngine engine, string root, IProgress<BuildEvent>? progress = null)
        {
            var graph = ImageGraph.Build(TreeScanner.Scan(root));
            var result = new ImageBuilder(engine, new BuildOptions(), progress).BuildAsync(graph, graph.Nodes, None).GetAwaiter().GetResult().Single();
            Assert.True(result.Status == BuildStatus.Built, $"{result.Status}: {result.Error}\n{(result.LogPath != null ? File.ReadAllText(result.LogPath) : "")}");
            return result;
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerTheory]
        [MemberData(nameof(DockerApiEngineTests.Engines), MemberType = typeof(DockerApiEngineTests))]
        public async Task An_api_build_sends_the_digested_context_and_carries_the_labels_a_cli_build_gives(string engine)
        {
            var name = "imagetools-apibuild-" + Guid.NewGuid().ToString("N").Substring(0, 8);
            using var tree = Tree(name);
            using var api = ApiBuildingEngine(DockerApiEngineTests.HostOf(engine));
            var events = new Events();
            var viaApi = Build(api, tree.Root, events);
            var cli = DockerServices.Engine();
            var viaCli = Build(cli, tree.Root);
            try
            {
                var apiLabels = (await api.InspectAsync(viaApi.ImageId!, None))!.Labels;
                var cliLabels = (await cli.InspectAsync(viaCli.ImageId!, None))!.Labels;
                Assert.Equal("ops", apiLabels["org.example.team"]);
                Assert.Equal("1.0", apiLabels[ImageLabels.Version]);
                Assert.StartsWith("sha256:", apiLabels[ImageLabels.InputsDigest]);
                // Everything but the times a build stamps is the same, whichever builder made the image (buildah adds its own io.buildah.version).
                var times = new[] { ImageLabels.Created, ImageLabels.Prefix + "build.started" };
                Assert.Equal(cliLabels.Where(l => !times.Contains(l.Key)).OrderBy(l => l.Key),
                             apiLabels.Where(l => !times.Contains(l.Key) && !(engine == DockerApiEngineTests.Podman && l.Key == "io.buildah.version")).OrderBy(l => l.Key));
                Assert.Equal(ImagePlatform.Host.ToString(), (await api.InspectAsync(viaApi.ImageId!, None))!.Platform!.ToString());
                // The steps reached progress, and the whole output the log.
                Assert.Contains(events.Messages, m => m.Contains(engine == DockerApiEngineTests.Podman ? "STEP 1/" : "Step 1/", StringComparison.Ordinal));
                var log = File.ReadAllText(viaApi.LogPath!);
                Assert.Contains("POST /build", log);
                Assert.Contains("Successfully built", log);
                Assert.DoesNotContain("exit 1", DockerApiEngineTests.Cli(engine, "history", "--no-trunc", "--format", "{{.CreatedBy}}", viaApi.ImageId!));
            }
            finally
            {
                foreach (var tag in viaApi.Tags) try { await api.RemoveAsync(tag, None); } catch (ImageToolsException) { }
                foreach (var tag in viaCli.Tags) DockerServices.Run("docker", new[] { "image", "rm", tag }, null, check: false);
            }
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async Task A_failing_step_fails_the_build_naming_the_image_and_the_step()
        {
            using var api = ApiBuildingEngine();
            using var tree = new TestTree().Write("ctx/file.txt", "x");
            var log = tree.PathOf("build.log");
            var error = await Assert.ThrowsAsync<ImageToolsException>(() => api.BuildAsync(
                new BuildRequest("broken", tree.PathOf("ctx"), "FROM busybox:1.36\nCOPY file.txt /file.txt\nRUN echo about to fail && exit 3\n") { LogPath = log }, None));
            Assert.Equal("BuildFailed", error.ErrorId);
            Assert.Equal("broken", error.ImageName);
            Assert.Contains("'broken'", error.Message);
            Assert.Contains("Step 3/3 : RUN echo about to fail && exit 3", error.Message);
            Assert.Contains("non-zero code: 3", error.Message);
            Assert.Contains("about to fail", File.ReadAllText(log));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async Task A_dockerfile_the_daemon_refuses_fails_the_build_naming_the_image()
        {
            using var api = ApiBuildingEngine();
            using var tree = new TestTree().Write("ctx/file.txt", "x");
            var error = await Assert.ThrowsAsync<ImageToolsException>(() => api.BuildAsync(
                new BuildRequest("refused", tree.PathOf("ctx"), "FROM busybox:1.36\nCOPY missing.txt /missing.txt\n"), None));
            Assert.Equal("BuildFailed", error.ErrorId);
            Assert.Contains("'refused'", error.Message);
            Assert.Contains("missing.txt", error.Message);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async Task A_base_the_engine_lacks_is_never_pulled()
        {
            using var api = ApiBuildingEngine();
            using var tree = new TestTree().Write("ctx/file.txt", "x");
            var absent = "imagetools-absent-base:" + Guid.NewGuid().ToString("N");
            var error = await Assert.ThrowsAsync<ImageToolsException>(() => api.BuildAsync(
                new BuildRequest("orphan", tree.PathOf("ctx"), $"FROM busybox:1.36 AS one\nFROM {absent}\nCOPY --from=one /bin/sh /sh\n"), None));
            Assert.Equal("BaseImageMissing", error.ErrorId);
            Assert.Contains(absent, error.Message);
            Assert.Contains("line 2", error.Message);
            Assert.Null(await api.InspectAsync(absent, None));
        }
    }
}
