using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Provenance;
using ImageTools.Tests.Fakes;
using Xunit;

namespace ImageTools.Tests.Building
{
    /// <summary>
    /// The scheduler's rules on the in-memory engine: each runs in milliseconds. The real-engine
    /// versions of the same stories are in Integration/ImageBuilderTests.
    /// </summary>
    public class ImageBuilderRuleTests
    {
        // Generous: only reached when a rule is broken and a wait would otherwise hang.
        private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

        private static ImageGraph GraphOf(TestTree tree) => ImageGraph.Build(TreeScanner.Scan(tree.Root));

        private static Task<IReadOnlyList<BuildResult>> BuildAsync(FakeContainerEngine engine, TestTree tree, ImageGraph graph, int throttle = 2,
            string? tagSuffix = null, CancellationToken cancellationToken = default, bool pull = false) =>
            new ImageBuilder(engine, new BuildOptions { ThrottleLimit = throttle, TagSuffix = tagSuffix, LogDirectory = tree.PathOf("logs"), Pull = pull })
                .BuildAsync(graph, graph.Nodes, cancellationToken);

        private static TestTree Image(TestTree tree, string name, string from, string? version = null)
        {
            tree.Image(name, $"FROM {from}\n").Write(name + "/image.yaml", $"name: {name}\n");
            if (version != null) tree.Write(name + "/changelog", TestTree.Changelog(name, version));
            return tree;
        }

        [Fact]
        public async Task A_failed_parent_skips_its_dependents_with_the_reason_and_independent_branches_go_on()
        {
            using var tree = new TestTree();
            Image(tree, "base", "busybox:1.36");
            Image(tree, "mid", "base");
            Image(tree, "leaf", "mid");
            Image(tree, "sibling", "base");
            Image(tree, "other", "busybox:1.36");
            var engine = new FakeContainerEngine("busybox:1.36");
            engine.FailBuild("mid");

            var results = (await BuildAsync(engine, tree, GraphOf(tree))).ToDictionary(r => r.Name);

            Assert.Equal(BuildStatus.Failed, results["mid"].Status);
            Assert.Equal("BuildFailed", results["mid"].ErrorId);
            Assert.Equal(BuildStatus.Skipped, results["leaf"].Status);
            Assert.Equal("DependencyFailed", results["leaf"].ErrorId);
            Assert.Equal("Not built: 'mid', which it builds on, failed.", results["leaf"].Error);
            Assert.Equal(BuildStatus.Built, results["base"].Status);
            Assert.Equal(BuildStatus.Built, results["sibling"].Status);
            Assert.Equal(BuildStatus.Built, results["other"].Status);
            Assert.DoesNotContain("leaf", engine.Built);
            Assert.DoesNotContain(engine.Tagged, t => t.StartsWith("mid", StringComparison.Ordinal) || t.StartsWith("leaf", StringComparison.Ordinal));
        }

        [Fact]
        public async Task An_engine_found_down_is_not_asked_again_and_every_image_not_started_names_the_first_failure()
        {
            using var tree = new TestTree();
            foreach (var name in new[] { "a", "b", "c", "d", "e" }) Image(tree, name, "busybox:1.36");
            var engine = new FakeContainerEngine("busybox:1.36");
            engine.LoseEngineDuring("a");

            var results = (await BuildAsync(engine, tree, GraphOf(tree), throttle: 1)).ToDictionary(r => r.Name);

            Assert.Equal(new[] { "build a" }, engine.Calls.Where(c => c.StartsWith("build ", StringComparison.Ordinal)));
            Assert.Equal("EngineUnavailable", results["a"].ErrorId);
            foreach (var name in new[] { "b", "c", "d", "e" })
            {
                Assert.Equal(BuildStatus.Failed, results[name].Status);
                Assert.Equal("EngineUnavailable", results[name].ErrorId);
                Assert.StartsWith("Not attempted: the engine was found down earlier in this run, while building 'a'", results[name].Error);
                Assert.Contains("unix:///run/fake.sock", results[name].Error);
                Assert.Empty(results[name].Tags);
            }
        }

        [Fact]
        public async Task A_skipped_grandchild_names_the_parent_that_was_skipped()
        {
            using var tree = new TestTree();
            Image(tree, "base", "busybox:1.36");
            Image(tree, "mid", "base");
            Image(tree, "leaf", "mid");
            var engine = new FakeContainerEngine("busybox:1.36");
            engine.FailBuild("base");

            var results = (await BuildAsync(engine, tree, GraphOf(tree))).ToDictionary(r => r.Name);

            Assert.Equal("Not built: 'base', which it builds on, failed.", results["mid"].Error);
            Assert.Equal("Not built: 'mid', which it builds on, was skipped.", results["leaf"].Error);
            Assert.Equal(new[] { "base" }, engine.Built);
        }

        [Theory]
        [InlineData(1)]
        [InlineData(2)]
        [InlineData(3)]
        public async Task Never_more_builds_at_once_than_the_throttle_limit(int limit)
        {
            using var tree = new TestTree();
            var names = Enumerable.Range(1, 6).Select(i => "img" + i).ToList();
            foreach (var name in names) Image(tree, name, "busybox:1.36");
            var engine = new FakeContainerEngine("busybox:1.36");
            foreach (var name in names) engine.HoldBuild(name);

            var run = BuildAsync(engine, tree, GraphOf(tree), throttle: limit);
            // Let builds in one at a time, each only after `limit` are running, so the limit is reached and any excess would be seen.
            var released = 0;
            var deadline = DateTime.UtcNow + Bound;
            while (released < names.Count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"Builds stalled: {released} released, started: {string.Join(", ", engine.Built)}");
                Assert.False(run.IsCompleted && released < names.Count, "The run ended before every build was let through.");
                var started = engine.Built.ToList();
                var running = started.Count - released;
                if (running == Math.Min(limit, names.Count - released))
                {
                    await Task.Delay(20);  // a chance for a build past the limit to start, if the scheduler allowed one
                    engine.Release(started[released]);
                    released++;
                }
                else await Task.WhenAny(Task.Delay(5), run);
                Assert.False(run.IsFaulted, run.Exception?.ToString());
            }
            var results = await run.WaitAsync(Bound);

            Assert.All(results, r => Assert.Equal(BuildStatus.Built, r.Status));
            Assert.Equal(limit, engine.MaxConcurrentBuilds);
        }

        [Fact]
        public async Task A_child_is_not_built_before_its_parent_is_tagged()
        {
            using var tree = new TestTree();
            Image(tree, "base", "busybox:1.36", "1.0.0");
            Image(tree, "child", "base:1.0.0");
            var engine = new FakeContainerEngine("busybox:1.36");

            var results = (await BuildAsync(engine, tree, GraphOf(tree), throttle: 4)).ToDictionary(r => r.Name);

            var calls = engine.Calls.ToList();
            Assert.True(calls.IndexOf("build child") > calls.FindIndex(c => c.StartsWith("tag ", StringComparison.Ordinal) && c.EndsWith(" base:1.0.0", StringComparison.Ordinal)),
                string.Join("\n", calls));
            Assert.Equal(results["base"].ImageId, engine.TagTarget("base:1.0.0"));
            // The child's parents label records the parent this run built.
            Assert.Contains(results["base"].ImageId!, engine.LabelsOf(results["child"].ImageId!)[ImageLabels.Parents]);
        }

        private static void TestScript(TestTree tree, string image, string body)
        {
            tree.Write(image + "/test.sh", "#!/bin/sh\n" + body);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tree.PathOf(image + "/test.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        // Verification runs test.sh as a process: the one part of these rules the fake cannot script.
        [UnixFact]
        public async Task Tags_move_only_after_verification_passed()
        {
            using var tree = new TestTree();
            Image(tree, "base", "busybox:1.36", "1.0.0");
            TestScript(tree, "base", "touch \"$(dirname \"$0\")/verified-$1\"\n");
            var engine = new FakeContainerEngine("busybox:1.36");
            var verifiedAtTag = new List<bool>();
            engine.BeforeTag = reference => verifiedAtTag.Add(Directory.GetFiles(tree.PathOf("base"), "verified-*").Length == 1);

            var result = (await BuildAsync(engine, tree, GraphOf(tree))).Single();

            Assert.Equal(BuildStatus.Built, result.Status);
            Assert.True(result.Verified);
            Assert.True(File.Exists(tree.PathOf("base/verified-" + result.ImageId)));
            Assert.Equal(new[] { true }, verifiedAtTag);
            Assert.Equal(new[] { "base:1.0.0" }, result.Tags);
        }

        [UnixFact]
        public async Task A_failed_verification_moves_no_tag_and_skips_dependents()
        {
            using var tree = new TestTree();
            Image(tree, "base", "busybox:1.36", "1.0.0");
            Image(tree, "child", "base:1.0.0");
            TestScript(tree, "base", "echo 'expected /ok' >&2\nexit 3\n");
            var engine = new FakeContainerEngine("busybox:1.36");

            var results = (await BuildAsync(engine, tree, GraphOf(tree))).ToDictionary(r => r.Name);

            Assert.Equal(BuildStatus.Failed, results["base"].Status);
            Assert.Equal("VerifyFailed", results["base"].ErrorId);
            Assert.Contains("exited with 3", results["base"].Error);
            Assert.NotNull(results["base"].ImageId);
            Assert.Empty(engine.Tagged);
            Assert.Equal(BuildStatus.Skipped, results["child"].Status);
            Assert.Equal(new[] { "base" }, engine.Built);
        }

        [Fact]
        public async Task A_stop_during_a_build_leaves_no_tag_and_skips_the_rest_as_stopped()
        {
            using var tree = new TestTree();
            Image(tree, "base", "busybox:1.36");
            Image(tree, "child", "base");
            Image(tree, "other", "busybox:1.36");
            var engine = new FakeContainerEngine("busybox:1.36");
            engine.HoldBuild("base");
            engine.HoldBuild("other");
            using var stop = new CancellationTokenSource();

            var run = BuildAsync(engine, tree, GraphOf(tree), throttle: 2, cancellationToken: stop.Token);
            await Task.WhenAll(engine.BuildStarted("base"), engine.BuildStarted("other")).WaitAsync(Bound);
            stop.Cancel();
            var results = (await run.WaitAsync(Bound)).ToDictionary(r => r.Name);

            Assert.All(results.Values, r => Assert.Equal(BuildStatus.Skipped, r.Status));
            Assert.All(results.Values, r => Assert.Empty(r.Tags));
            Assert.Equal("Stopped", results["base"].ErrorId);
            Assert.Equal("Stopped", results["other"].ErrorId);
            Assert.Empty(engine.Tagged);
            Assert.DoesNotContain("child", engine.Built);
        }

        [Theory]
        [InlineData("base")]
        [InlineData("base:1.0.0")]
        [InlineData("base:latest")]
        public async Task A_nightly_build_tags_the_suffixed_version_and_never_moves_the_plain_version_tag(string childFrom)
        {
            using var tree = new TestTree();
            Image(tree, "base", "busybox:1.36", "1.0.0");
            Image(tree, "child", childFrom, "2.0.0");
            var engine = new FakeContainerEngine("busybox:1.36");
            var released = engine.Hold("base:1.0.0");

            var results = (await BuildAsync(engine, tree, GraphOf(tree), tagSuffix: "-20261122")).ToDictionary(r => r.Name);

            Assert.All(results.Values, r => Assert.Equal(BuildStatus.Built, r.Status));
            Assert.Equal("base:1.0.0-20261122", results["base"].Reference);
            Assert.Contains("base:1.0.0-20261122", engine.Tagged);
            Assert.Contains("child:2.0.0-20261122", engine.Tagged);
            Assert.DoesNotContain("base:1.0.0", engine.Tagged);
            Assert.DoesNotContain("child:2.0.0", engine.Tagged);
            Assert.Equal(released, engine.TagTarget("base:1.0.0"));
            Assert.Equal("1.0.0-20261122", engine.LabelsOf(results["base"].ImageId!)[ImageLabels.Version]);
            // The child built on the nightly parent, whatever its FROM names.
            var builtOn = engine.DockerfileOf("child").Split('\n')[0].Substring(5);
            Assert.Equal(results["base"].ImageId, engine.TagTarget(builtOn));
            Assert.Contains(results["base"].ImageId!, engine.LabelsOf(results["child"].ImageId!)[ImageLabels.Parents]);
            Assert.Equal(results["base"].ImageId, engine.LabelsOf(results["child"].ImageId!)[ImageLabels.BaseDigest]);
        }

        [Fact]
        public async Task A_nightly_child_copying_from_the_parents_version_tag_copies_from_the_nightly_parent()
        {
            using var tree = new TestTree();
            Image(tree, "base", "busybox:1.36", "1.0.0");
            tree.Image("child", "FROM busybox:1.36\nCOPY --from=base:1.0.0 /etc/os-release /base-release\n").Write("child/image.yaml", "name: child\n");
            var engine = new FakeContainerEngine("busybox:1.36");
            var released = engine.Hold("base:1.0.0");

            var results = (await BuildAsync(engine, tree, GraphOf(tree), tagSuffix: "-20261122")).ToDictionary(r => r.Name);

            Assert.All(results.Values, r => Assert.Equal(BuildStatus.Built, r.Status));
            Assert.Equal("FROM busybox:1.36\nCOPY --from=base:1.0.0-20261122 /etc/os-release /base-release\n", engine.DockerfileOf("child"));
            Assert.Equal(released, engine.TagTarget("base:1.0.0"));
            Assert.Contains("base:1.0.0@" + results["base"].ImageId, engine.LabelsOf(results["child"].ImageId!)[ImageLabels.Parents]);
        }

        [Fact]
        public async Task Without_nightly_the_dockerfile_goes_to_the_engine_as_written_and_the_version_tag_moves()
        {
            using var tree = new TestTree();
            Image(tree, "base", "busybox:1.36", "1.0.0");
            Image(tree, "child", "base:1.0.0");
            var engine = new FakeContainerEngine("busybox:1.36");

            var results = (await BuildAsync(engine, tree, GraphOf(tree))).ToDictionary(r => r.Name);

            Assert.Equal("FROM base:1.0.0\n", engine.DockerfileOf("child"));
            Assert.Equal(results["base"].ImageId, engine.TagTarget("base:1.0.0"));
        }

        [Fact]
        public async Task A_tag_that_fails_fails_the_image_and_its_dependents_are_skipped()
        {
            using var tree = new TestTree();
            Image(tree, "base", "busybox:1.36", "1.0.0");
            Image(tree, "child", "base:1.0.0");
            var engine = new FakeContainerEngine("busybox:1.36");
            engine.FailTag("base:1.0.0");

            var results = (await BuildAsync(engine, tree, GraphOf(tree))).ToDictionary(r => r.Name);

            Assert.Equal(BuildStatus.Failed, results["base"].Status);
            Assert.Equal("TagFailed", results["base"].ErrorId);
            Assert.Equal(BuildStatus.Skipped, results["child"].Status);
            Assert.DoesNotContain("child", engine.Built);
        }

        [UnixFact]
        public async Task The_trees_http_proxy_reaches_builds_and_verification_and_is_no_build_input()
        {
            using var tree = new TestTree().Write("imagetools.yaml", "http_proxy: http://proxy.invalid:3128\n");
            Image(tree, "app", "busybox:1.36");
            tree.Write("app/test.sh", "#!/bin/sh\necho \"$http_proxy $HTTPS_PROXY\" > \"$(dirname \"$0\")/seen-proxy\"\n");
            using var otherProxy = new TestTree().Write("imagetools.yaml", "http_proxy: http://other.invalid:8080\n");
            Image(otherProxy, "app", "busybox:1.36");
            otherProxy.Write("app/test.sh", File.ReadAllText(tree.PathOf("app/test.sh")));
            var engine = new FakeContainerEngine("busybox:1.36");

            var proxied = (await BuildAsync(engine, tree, GraphOf(tree))).Single();
            var request = engine.Requests["app"];

            Assert.Equal(BuildStatus.Built, proxied.Status);
            foreach (var name in new[] { "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY" })
                Assert.Equal("http://proxy.invalid:3128", request.BuildArgs[name]);
            Assert.Equal("http://proxy.invalid:3128 http://proxy.invalid:3128", File.ReadAllText(tree.PathOf("app/seen-proxy")).Trim());
            // Another proxy, the same inputs: a proxy change rebuilds nothing.
            Assert.Equal(new ImageTools.Planning.BuildInputDigester().Compute(GraphOf(otherProxy).Nodes.Single().Definition),
                request.Labels[ImageLabels.InputsDigest]);
        }

        private static string BaseDigestOf(FakeContainerEngine engine, BuildResult result) => engine.LabelsOf(result.ImageId!)[ImageLabels.BaseDigest];

        [Fact]
        public async Task Base_images_of_the_config_are_refreshed_once_per_run_before_any_build_and_every_image_records_the_refreshed_digest()
        {
            using var tree = new TestTree().Write("imagetools.yaml", "base_images: [busybox:1.36, 'docker.io/library/debian:bookworm']\n");
            foreach (var name in new[] { "one", "two", "three" }) Image(tree, name, "busybox:1.36");
            Image(tree, "deb", "debian:bookworm");
            Image(tree, "alpine", "alpine:3.20");
            var engine = new FakeContainerEngine("busybox:1.36", "debian:bookworm", "alpine:3.20");
            var newer = engine.NewerInRegistry("busybox:1.36");

            var results = await BuildAsync(engine, tree, GraphOf(tree), throttle: 3);

            Assert.All(results, r => Assert.Equal(BuildStatus.Built, r.Status));
            // Listed and used: one pull each, under the name the Dockerfiles use; not listed (alpine): none.
            Assert.Equal(new[] { "pull busybox:1.36", "pull debian:bookworm" }, engine.Calls.Where(c => c.StartsWith("pull ", StringComparison.Ordinal)).OrderBy(c => c));
            var calls = engine.Calls.ToList();
            Assert.True(calls.FindLastIndex(c => c.StartsWith("pull ", StringComparison.Ordinal)) < calls.FindIndex(c => c.StartsWith("build ", StringComparison.Ordinal)),
                string.Join("\n", calls));
            Assert.All(results.Where(r => r.Name != "deb" && r.Name != "alpine"), r => Assert.Equal(newer, BaseDigestOf(engine, r)));
        }

        [Fact]
        public async Task Pull_refreshes_every_external_base_once_per_run()
        {
            using var tree = new TestTree();
            foreach (var name in new[] { "one", "two" }) Image(tree, name, "busybox:1.36");
            Image(tree, "three", "alpine:3.20");
            Image(tree, "child", "one");
            var engine = new FakeContainerEngine("busybox:1.36", "alpine:3.20");

            var results = await BuildAsync(engine, tree, GraphOf(tree), throttle: 3, pull: true);

            Assert.All(results, r => Assert.Equal(BuildStatus.Built, r.Status));
            Assert.Equal(new[] { "pull alpine:3.20", "pull busybox:1.36" }, engine.Calls.Where(c => c.StartsWith("pull ", StringComparison.Ordinal)).OrderBy(c => c));
        }

        [Fact]
        public async Task Without_pull_a_held_base_is_not_pulled_and_a_missing_one_is_pulled_once_for_all_its_images()
        {
            using var tree = new TestTree();
            foreach (var name in new[] { "one", "two", "three" }) Image(tree, name, "alpine:3.20");
            Image(tree, "held", "busybox:1.36");
            var engine = new FakeContainerEngine("busybox:1.36");

            var results = await BuildAsync(engine, tree, GraphOf(tree), throttle: 3);

            Assert.All(results, r => Assert.Equal(BuildStatus.Built, r.Status));
            Assert.Equal(new[] { "pull alpine:3.20" }, engine.Calls.Where(c => c.StartsWith("pull ", StringComparison.Ordinal)));
            Assert.Single(results.Where(r => r.Name != "held").Select(r => BaseDigestOf(engine, r)).Distinct());
        }

        [Fact]
        public async Task A_listed_base_that_cannot_be_refreshed_is_built_on_as_the_engine_holds_it_with_one_warning()
        {
            using var tree = new TestTree().Write("imagetools.yaml", "base_images: [busybox:1.36]\n");
            Image(tree, "one", "busybox:1.36");
            Image(tree, "two", "busybox:1.36");
            var engine = new FakeContainerEngine();
            var held = engine.Hold("busybox:1.36");
            engine.FailPull("busybox:1.36");
            var events = new List<BuildEvent>();

            var graph = GraphOf(tree);

            var results = await new ImageBuilder(engine, new BuildOptions { ThrottleLimit = 2, LogDirectory = tree.PathOf("logs") },
                new SyncProgress<BuildEvent>(e => { lock (events) events.Add(e); })).BuildAsync(graph, graph.Nodes, CancellationToken.None);

            Assert.Equal(2, results.Count);
            Assert.All(results, r => Assert.Equal(BuildStatus.Built, r.Status));
            Assert.All(results, r => Assert.Equal(held, BaseDigestOf(engine, r)));
            var warning = Assert.Single(events, e => e.IsWarning);
            Assert.Contains("base_images could not refresh the base image busybox:1.36", warning.Message);
            Assert.Equal(1, engine.CallCount("pull "));
        }

        [Fact]
        public async Task A_base_that_cannot_be_refreshed_and_is_not_held_fails_only_the_images_on_it()
        {
            using var tree = new TestTree().Write("imagetools.yaml", "base_images: [busybox:1.36]\n");
            Image(tree, "on-busybox", "busybox:1.36");
            Image(tree, "other", "alpine:3.20");
            var engine = new FakeContainerEngine("alpine:3.20");
            engine.FailPull("busybox:1.36");

            var results = (await BuildAsync(engine, tree, GraphOf(tree))).ToDictionary(r => r.Name);

            Assert.Equal("PullFailed", results["on-busybox"].ErrorId);
            Assert.Contains("base_images could not refresh the base image busybox:1.36", results["on-busybox"].Error);
            Assert.Equal(BuildStatus.Built, results["other"].Status);
            Assert.Equal(new[] { "other" }, engine.Built);
        }

        [Fact]
        public async Task With_pull_a_base_that_cannot_be_refreshed_fails_its_images_even_when_held()
        {
            using var tree = new TestTree();
            Image(tree, "on-busybox", "busybox:1.36");
            var engine = new FakeContainerEngine("busybox:1.36");
            engine.FailPull("busybox:1.36");

            var result = (await BuildAsync(engine, tree, GraphOf(tree), pull: true)).Single();

            Assert.Equal("PullFailed", result.ErrorId);
            Assert.Contains("-Pull could not refresh the base image busybox:1.36", result.Error);
        }

        private sealed class SyncProgress<T> : IProgress<T>
        {
            private readonly Action<T> _report;
            public SyncProgress(Action<T> report) => _report = report;
            public void Report(T value) => _report(value);
        }

        [Fact]
        public async Task A_parent_the_engine_already_holds_by_its_id_is_not_pulled_and_a_missing_one_is_pulled_by_digest()
        {
            using var tree = new TestTree().Write("imagetools.yaml", "registry: registry.example.org\n");
            Image(tree, "base", "busybox:1.36");
            Image(tree, "here", "base");
            Image(tree, "other", "busybox:1.36");
            Image(tree, "there", "other");
            var engine = new FakeContainerEngine("busybox:1.36");
            var held = engine.Hold("some-old-tag:1");
            const string manifest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
            var graph = GraphOf(tree);
            var parents = new[]
            {
                new ImageTools.Planning.ParentImage("base", graph["base"].Reference, held, manifest),
                new ImageTools.Planning.ParentImage("other", graph["other"].Reference, "sha256:" + new string('9', 64), manifest),
            };

            var results = await new ImageBuilder(engine, new BuildOptions { LogDirectory = tree.PathOf("logs"), PublishedParents = parents })
                .BuildAsync(graph, new[] { graph["here"], graph["there"] }, CancellationToken.None);

            var here = results.Single(r => r.Name == "here");
            Assert.True(here.Status == BuildStatus.Built, here.Error);
            Assert.DoesNotContain(engine.Calls, c => c.StartsWith("pull registry.example.org/base", StringComparison.Ordinal));
            Assert.Contains($"pull registry.example.org/other@{manifest}", engine.Calls);
        }
    }
}
