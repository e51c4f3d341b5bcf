using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Docker.Cli;
using ImageTools.Graph;
using ImageTools.Processes;
using ImageTools.Provenance;
using Xunit;

namespace ImageTools.Tests.Integration
{
    [Collection(DockerCollection.Name)]
    public class ImageBuilderTests : IDisposable
    {
        // Every result of this test's builds, so Dispose can untag all it made: tests share one engine.
        private readonly ConcurrentQueue<BuildResult> _built = new ConcurrentQueue<BuildResult>();

        public void Dispose()
        {
            if (DockerServices.Configured) RemoveTags(_built);
        }

        private static DockerCliEngine Engine() => DockerServices.Engine();

        private IReadOnlyList<BuildResult> Build(ImageGraph graph, IEnumerable<ImageNode>? selection = null, BuildOptions? options = null,
            CancellationToken cancellationToken = default, IProgress<BuildEvent>? progress = null)
        {
            DockerServices.Require();
            var results = new ImageBuilder(Engine(), options ?? new BuildOptions { ThrottleLimit = 2 }, progress)
                .BuildAsync(graph, selection ?? graph.Nodes, cancellationToken).GetAwaiter().GetResult();
            foreach (var result in results) _built.Enqueue(result);
            return results;
        }

        private static ImageGraph GraphOf(string root) => ImageGraph.Build(TreeScanner.Scan(root));

        private static string Suffix() => Guid.NewGuid().ToString("N").Substring(0, 8);

        private static string Run(string image, params string[] command) =>
            DockerServices.Docker(new[] { "run", "--rm", "--pull", "never", "--network", "none", image }.Concat(command).ToArray()).Trim();

        private static string LogOf(string directory)
        {
            try { return string.Concat(Directory.GetFiles(directory, "*.log").Select(f => { using var r = new StreamReader(new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)); return r.ReadToEnd(); })); }
            catch (IOException) { return ""; }
        }

        /// <summary>Untags what a test built, so the shared engine holds no tags of it afterwards.</summary>
        private static void RemoveTags(IEnumerable<BuildResult> results)
        {
            foreach (var tag in results.SelectMany(r => r.Tags).Distinct(StringComparer.Ordinal))
                DockerServices.Run("docker", new[] { "image", "rm", tag }, null, check: false);
        }

        private static bool Exists(string reference) =>
            DockerServices.Run("docker", new[] { "image", "inspect", reference }, null, check: false).ExitCode == 0;

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_nightly_child_written_from_the_parents_version_tag_builds_on_the_nightly_parent_and_the_version_tag_stays()
        {
            var id = Suffix();
            using var tree = new TestTree()
                .Image($"nb-{id}", $"FROM busybox:1.36\nRUN echo nightly > /made\n").Write($"nb-{id}/image.yaml", "version: '1.0'\n")
                .Image($"nc-{id}", $"FROM nb-{id}:1.0\nRUN cat /made > /parent\n").Write($"nc-{id}/image.yaml", "version: '2.0'\n");
            // What the plain version tag held before the nightly run: busybox itself, which has no /made.
            DockerServices.Docker("tag", "busybox:1.36", $"nb-{id}:1.0");
            try
            {
                var results = Build(GraphOf(tree.Root), options: new BuildOptions { TagSuffix = "-20261122" }).ToDictionary(r => r.Name.Substring(0, 2));

                Assert.All(results.Values, r => Assert.True(r.Status == BuildStatus.Built, $"{r.Name}: {r.Status} {r.Error}"));
                Assert.Equal(DockerServices.Docker("image", "inspect", "--format", "{{.Id}}", "busybox:1.36").Trim(),
                    DockerServices.Docker("image", "inspect", "--format", "{{.Id}}", $"nb-{id}:1.0").Trim());
                Assert.Equal("nightly", Run(results["nc"].ImageId!, "cat", "/parent"));
                var labels = ImageLabels.ParseParents(Engine().InspectAsync(results["nc"].ImageId!, CancellationToken.None).GetAwaiter().GetResult()!.Labels[ImageLabels.Parents]);
                Assert.Equal(results["nb"].ImageId, labels[$"nb-{id}:1.0"]);
            }
            finally { DockerServices.Run("docker", new[] { "image", "rm", $"nb-{id}:1.0" }, null, check: false); }
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void Base_images_are_refreshed_from_the_registry_once_and_every_image_of_the_run_builds_on_and_records_the_new_digest()
        {
            var id = Suffix();
            var external = $"{DockerServices.RegistryAddress}/ext{id}/base:1";
            // The registry holds a newer base (with /v2) than the engine's copy (plain busybox).
            DockerServices.Docker("run", "--name", $"ext{id}", "--pull", "never", "--network", "none", "busybox:1.36", "touch", "/v2");
            try
            {
                DockerServices.Docker("commit", $"ext{id}", external);
                DockerServices.Docker("push", "--quiet", external);
                var newer = DockerServices.Docker("image", "inspect", "--format", "{{.Id}}", external).Trim();
                DockerServices.Docker("tag", "busybox:1.36", external);
                using var tree = new TestTree().Write("imagetools.yaml", $"base_images: ['{external}']\n")
                    .Image($"ea-{id}", $"FROM {external}\nRUN test -f /v2\n")
                    .Image($"eb-{id}", $"FROM {external}\nRUN test -f /v2 && echo b > /b\n");

                var results = Build(GraphOf(tree.Root));

                Assert.All(results, r => Assert.True(r.Status == BuildStatus.Built, $"{r.Name}: {r.Status} {r.Error}"));
                Assert.Equal(newer, DockerServices.Docker("image", "inspect", "--format", "{{.Id}}", external).Trim());
                foreach (var result in results)
                    Assert.Equal(newer, Engine().InspectAsync(result.ImageId!, CancellationToken.None).GetAwaiter().GetResult()!.Labels[ImageLabels.BaseDigest]);
            }
            finally
            {
                DockerServices.Run("docker", new[] { "rm", "-f", $"ext{id}" }, null, check: false);
                DockerServices.Run("docker", new[] { "image", "rm", external }, null, check: false);
            }
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void Builds_the_examples_verified_with_provenance_labels()
        {
            var graph = GraphOf(RepoPaths.Of("examples"));
            var events = new ConcurrentQueue<BuildEvent>();

            var results = Build(graph, options: new BuildOptions { ThrottleLimit = 3 }, progress: new SyncProgress(events.Enqueue));
            AssertExamplesBuilt(results, events);
        }

        private static void AssertExamplesBuilt(IReadOnlyList<BuildResult> results, ConcurrentQueue<BuildEvent> events)
        {
            Assert.All(results, r => Assert.Equal(BuildStatus.Built, r.Status));
            Assert.True(results.Single(r => r.Name == "base").Verified);
            Assert.True(results.Single(r => r.Name == "worker").Verified);
            Assert.Contains("base:0.1.0", results.Single(r => r.Name == "base").Tags);
            Assert.Contains("runtime", results.Single(r => r.Name == "runtime").Tags);
            Assert.All(results, r => Assert.True(File.Exists(r.LogPath)));
            Assert.Contains(events, e => e.Message.StartsWith("Verifying app-web", StringComparison.Ordinal));

            var labels = Engine().InspectAsync("app-web:1.2.0", CancellationToken.None).Result!.Labels;
            var runtimeId = Engine().InspectAsync("runtime:1.0.0", CancellationToken.None).Result!.Id;
            Assert.Equal("app-web", labels[ImageLabels.Name]);
            Assert.Equal("1.2.0", labels[ImageLabels.Version]);
            Assert.Equal("runtime", labels[ImageLabels.BaseName]);
            Assert.Equal(runtimeId, labels[ImageLabels.BaseDigest]);
            Assert.Equal(new[] { "runtime", "tools" }, ImageLabels.ParseParents(labels[ImageLabels.Parents]).Keys.OrderBy(k => k));
            Assert.Equal("platform", Engine().InspectAsync("runtime:1.0.0", CancellationToken.None).Result!.Labels["org.example.team"]);
            Assert.Equal("hi from runtime", Run("worker:0.3.0", "cat", "/etc/imagetools/runtime"));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_failing_image_skips_its_dependents_and_spares_independent_branches()
        {
            var s = Suffix();
            using var tree = new TestTree()
                .Image("base", "FROM busybox:1.36\nRUN echo base > /base\n").Write("base/image.yaml", $"name: f{s}-base\n")
                .Image("mid", $"FROM f{s}-base\nRUN echo about to fail {s} && false\n").Write("mid/image.yaml", $"name: f{s}-mid\n")
                .Image("leaf", $"FROM f{s}-mid\n").Write("leaf/image.yaml", $"name: f{s}-leaf\n")
                .Image("sibling", $"FROM f{s}-base\nRUN cat /base\n").Write("sibling/image.yaml", $"name: f{s}-sibling\n");

            var results = Build(GraphOf(tree.Root)).ToDictionary(r => r.Name.Substring(10));

            Assert.Equal(BuildStatus.Built, results["base"].Status);
            Assert.Equal(BuildStatus.Built, results["sibling"].Status);
            Assert.Equal(BuildStatus.Failed, results["mid"].Status);
            Assert.Equal("BuildFailed", results["mid"].ErrorId);
            Assert.Contains("non-zero code", results["mid"].Error);
            Assert.Contains("about to fail", File.ReadAllText(results["mid"].LogPath!));
            Assert.Equal(BuildStatus.Skipped, results["leaf"].Status);
            Assert.Equal("DependencyFailed", results["leaf"].ErrorId);
            Assert.Equal($"Not built: 'f{s}-mid', which it builds on, failed.", results["leaf"].Error);
            Assert.False(Exists($"f{s}-mid:latest"));
            Assert.False(Exists($"f{s}-leaf:latest"));
            var containers = DockerServices.Docker("ps", "-a", "--no-trunc", "--format", "{{.Command}}");
            Assert.DoesNotContain($"about to fail {s}", containers);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_failing_verification_fails_the_image_and_moves_no_tag()
        {
            var s = Suffix();
            using var tree = new TestTree()
                .Image("bad", "FROM busybox:1.36\nRUN echo built > /built\n")
                .Write("bad/image.yaml", $"name: v{s}-bad\n")
                .Write("bad/test.sh", "#!/bin/sh\necho \"checking $1\"\necho 'expected /ok' >&2\nexit 3\n")
                .Image("child", $"FROM v{s}-bad\n").Write("child/image.yaml", $"name: v{s}-child\n");
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(tree.PathOf("bad/test.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            var results = Build(GraphOf(tree.Root)).ToDictionary(r => r.Name.Substring(10));

            Assert.Equal(BuildStatus.Failed, results["bad"].Status);
            Assert.Equal("VerifyFailed", results["bad"].ErrorId);
            Assert.Contains("exited with 3", results["bad"].Error);
            Assert.NotNull(results["bad"].ImageId);
            Assert.Contains("checking " + results["bad"].ImageId, File.ReadAllText(results["bad"].LogPath!));
            Assert.False(Exists($"v{s}-bad:latest"));
            Assert.Equal(BuildStatus.Skipped, results["child"].Status);
            Assert.Equal($"Not built: 'v{s}-bad', which it builds on, failed.", results["child"].Error);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_test_sh_without_its_exec_bit_runs_through_bin_sh()
        {
            var s = Suffix();
            using var tree = new TestTree()
                .Image("good", "FROM busybox:1.36\n").Write("good/image.yaml", $"name: x{s}-good\n")
                .Write("good/test.sh", "echo \"checked $1\"\n")
                .Image("bad", "FROM busybox:1.36\n").Write("bad/image.yaml", $"name: x{s}-bad\n")
                .Write("bad/test.sh", "echo 'not fine' >&2\nexit 4\n");
            if (!OperatingSystem.IsWindows())
                foreach (var name in new[] { "good", "bad" })
                    File.SetUnixFileMode(tree.PathOf(name + "/test.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

            var results = Build(GraphOf(tree.Root)).ToDictionary(r => r.Name.Substring(10));

            Assert.True(results["good"].Status == BuildStatus.Built, results["good"].Error);
            Assert.True(results["good"].Verified);
            Assert.Contains("checked " + results["good"].ImageId, File.ReadAllText(results["good"].LogPath!));
            Assert.Equal("VerifyFailed", results["bad"].ErrorId);
            Assert.Contains("exited with 4", results["bad"].Error);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_child_builds_on_the_parent_just_built()
        {
            var s = Suffix();
            using var tree = new TestTree()
                .Image("parent", "FROM busybox:1.36\nRUN echo one > /marker\n").Write("parent/image.yaml", $"name: c{s}-parent\nversion: '1.0'\n")
                .Image("child", $"FROM c{s}-parent:1.0\nRUN cp /marker /copied\n").Write("child/image.yaml", $"name: c{s}-child\n");
            Build(GraphOf(tree.Root));
            Assert.Equal("one", Run($"c{s}-child", "cat", "/copied"));

            tree.Image("parent", "FROM busybox:1.36\nRUN echo two > /marker\n");
            var results = Build(GraphOf(tree.Root));

            Assert.All(results, r => Assert.Equal(BuildStatus.Built, r.Status));
            Assert.Equal("two", Run($"c{s}-child", "cat", "/copied"));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void Stopping_a_run_ends_the_build_promptly_and_moves_no_tag()
        {
            var s = Suffix();
            using var tree = new TestTree().Image("slow", "FROM busybox:1.36\nRUN sleep 60\n").Write("slow/image.yaml", $"name: s{s}-slow\n");
            using var stop = new CancellationTokenSource();
            var started = new ManualResetEventSlim();
            var progress = new SyncProgress(e => { if (e.Message.StartsWith("Building", StringComparison.Ordinal)) started.Set(); });
            var logs = Path.Combine(tree.Root, "logs");

            var run = System.Threading.Tasks.Task.Run(() => Build(GraphOf(tree.Root), cancellationToken: stop.Token, progress: progress,
                options: new BuildOptions { LogDirectory = logs }));
            Assert.True(started.Wait(TimeSpan.FromSeconds(60)), "The build never started.");
            // Stop only once the engine is inside the slow step, as the log shows, so the stop interrupts a real build.
            var inSlowStep = SpinWait.SpinUntil(() => LogOf(logs).Contains("sleep 60", StringComparison.Ordinal), TimeSpan.FromSeconds(120));
            Assert.True(inSlowStep, "The build never reached its slow step: " + LogOf(logs));
            var watch = Stopwatch.StartNew();
            stop.Cancel();
            Assert.True(run.Wait(TimeSpan.FromSeconds(120)), "The run did not end after the stop.");
            var result = run.Result.Single();

            Assert.Equal(BuildStatus.Skipped, result.Status);
            Assert.Equal("Stopped", result.ErrorId);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"the stop took {watch.Elapsed}");
            Assert.False(Exists($"s{s}-slow:latest"));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void Bad_input_fails_with_a_clear_error_and_quoted_build_args_arrive_intact()
        {
            var s = Suffix();
            const string tricky = "he said \"hi there\" \\ and 'left'";
            using var tree = new TestTree()
                .Image("syntax", "FROM busybox:1.36\nFROBNICATE now\n").Write("syntax/image.yaml", $"name: b{s}-syntax\n")
                .Image("missing", "FROM busybox:1.36\nCOPY not-there.txt /x\n").Write("missing/image.yaml", $"name: b{s}-missing\n")
                .Image("args", "FROM busybox:1.36\nARG TRICKY\nRUN echo \"$TRICKY\" > /value\n").Write("args/image.yaml", $"name: b{s}-args\n");

            var results = Build(GraphOf(tree.Root), options: new BuildOptions { BuildArgs = new Dictionary<string, string> { ["TRICKY"] = tricky } })
                .ToDictionary(r => r.Name.Substring(10));

            Assert.Equal(BuildStatus.Failed, results["syntax"].Status);
            Assert.Contains("frobnicate", results["syntax"].Error, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(BuildStatus.Failed, results["missing"].Status);
            Assert.Contains("not-there.txt", results["missing"].Error);
            Assert.Equal(BuildStatus.Built, results["args"].Status);
            Assert.Equal(tricky, Run($"b{s}-args", "cat", "/value"));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async System.Threading.Tasks.Task An_unreachable_engine_is_one_clear_error()
        {
            var engine = new DockerCliEngine(environment: new Dictionary<string, string?> { ["DOCKER_HOST"] = "unix:///nonexistent/imagetools.sock" });

            var error = await Assert.ThrowsAsync<ImageToolsException>(() => engine.GetVersionAsync(CancellationToken.None));

            Assert.Equal("EngineUnavailable", error.ErrorId);
            Assert.Contains("unix:///nonexistent/imagetools.sock", error.Message);
            Assert.Contains("Start it, or point DOCKER_HOST/DOCKER_CONTEXT", error.Message);
            Assert.DoesNotContain("?.", error.Message);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async System.Threading.Tasks.Task A_builder_the_CLI_cannot_use_stops_the_run_before_any_build()
        {
            var s = Guid.NewGuid().ToString("N").Substring(0, 8);
            using var tree = new TestTree().Image($"b{s}-lone", "FROM busybox:1.36\nRUN echo lone > /id\n");
            var graph = GraphOf(tree.Root);
            var engine = DockerServices.Engine();
            var hasBuildx = DockerServices.Run("docker", new[] { "buildx", "version" }, null, check: false).ExitCode == 0;

            var error = await Assert.ThrowsAsync<ImageToolsException>(() => new ImageBuilder(engine, new BuildOptions { Builder = "imagetools-no-such-builder" })
                .BuildAsync(graph, graph.Nodes, CancellationToken.None));

            // Never a quiet local build in place of the remote builder asked for.
            Assert.Equal(hasBuildx ? "BuilderNotFound" : "BuildxMissing", error.ErrorId);
            Assert.Contains("imagetools-no-such-builder", error.Message);
            Assert.Null(await engine.InspectAsync($"b{s}-lone:latest", CancellationToken.None));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void Builds_and_verifies_on_the_engine_of_the_docker_context_DOCKER_CONTEXT_names()
        {
            var s = Suffix();
            using var config = new TestTree();
            // The context lives in a Docker config of the test's own; DOCKER_HOST would override the context.
            var environment = new Dictionary<string, string?> { ["DOCKER_HOST"] = null, ["DOCKER_CONFIG"] = config.Root, ["DOCKER_BUILDKIT"] = "0" };
            var created = ProcessRunner.RunAsync("docker", new[] { "context", "create", $"it-{s}", "--docker", $"host={DockerServices.DockerHost}" },
                CancellationToken.None, environment: environment).GetAwaiter().GetResult();
            Assert.True(created.ExitCode == 0, created.StandardError);
            environment["DOCKER_CONTEXT"] = $"it-{s}";
            using var tree = new TestTree()
                .Image("ctx", $"FROM busybox:1.36\nRUN echo ctx-{s} > /id\n").Write("ctx/image.yaml", $"name: c{s}-ctx\n")
                .Write("ctx/test.sh", "#!/bin/sh\nset -e\ntest \"$(docker run --rm --pull never --network none \"$1\" cat /id)\" = \"$EXPECTED\"\n");
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(tree.PathOf("ctx/test.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            environment["EXPECTED"] = $"ctx-{s}";
            var graph = GraphOf(tree.Root);

            var result = new ImageBuilder(new DockerCliEngine(environment: environment), new BuildOptions())
                .BuildAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult().Single();
            _built.Enqueue(result);

            Assert.True(result.Status == BuildStatus.Built, $"{result.Status}: {result.Error}");
            Assert.True(result.Verified);
            Assert.Equal($"ctx-{s}", Run($"c{s}-ctx:latest", "cat", "/id"));
        }

        /// <summary>Progress&lt;T&gt; posts to a thread pool; tests want the callback in order and at once.</summary>
        private sealed class SyncProgress : IProgress<BuildEvent>
        {
            private readonly Action<BuildEvent> _report;
            public SyncProgress(Action<BuildEvent> report) => _report = report;
            public void Report(BuildEvent value) => _report(value);
        }
    }
}
