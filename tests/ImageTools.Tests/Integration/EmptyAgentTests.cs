using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Engines;
using ImageTools.Graph;
using ImageTools.Planning;
using ImageTools.Provenance;
using ImageTools.Publishing;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>
    /// Two real engines and one registry, as two CI agents: engine A publishes the tree; engine B,
    /// empty but for busybox, rebuilds one changed leaf on the registry's parents.
    /// </summary>
    [Collection(DockerCollection.Name)]
    public class EmptyAgentTests : IClassFixture<SecondEngine>
    {
        private readonly SecondEngine _agentB;

        public EmptyAgentTests(SecondEngine agentB) => _agentB = agentB;

        private static string Registry => DockerServices.RegistryAddress!;

        private static TestTree PublishedTree(string ns) => new TestTree()
            .Write("imagetools.yaml", $"registry: {Registry}\nnamespace: {ns}\n")
            .Image("base", "FROM busybox:1.36\nRUN echo base > /base\n").Write("base/image.yaml", "version: '1.0'\n")
            .Image("runtime", "FROM base\nRUN echo runtime > /runtime\n").Write("runtime/image.yaml", "version: '1.0'\n")
            .Image("application-a", "FROM runtime\nRUN echo a > /a\n").Write("application-a/image.yaml", "version: '1.0'\n")
            .Image("application-b", $"FROM runtime:latest\nCOPY --from={Registry}/{ns}/base:1.0 /base /base-copy\nRUN echo b > /b\n")
            .Write("application-b/image.yaml", "version: '1.0'\n");

        private static Dictionary<string, RebuildStatus> Plan(ImageGraph graph, string cache)
        {
            using var source = new RegistryImageSource(new RegistryClientOptions { ConfigCacheDirectory = cache });
            return new RebuildPlanner(source, new BuildInputDigester(), new RebuildOptions())
                .PlanAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult().ToDictionary(s => s.Name);
        }

        private static IReadOnlyList<BuildResult> Build(IContainerEngine engine, ImageGraph graph, IEnumerable<ImageNode> nodes, BuildOptions? options = null) =>
            new ImageBuilder(engine, options ?? new BuildOptions()).BuildAsync(graph, nodes, CancellationToken.None).GetAwaiter().GetResult();

        private static void Publish(IContainerEngine engine, IEnumerable<BuildResult> built)
        {
            using var client = new RegistryClient(Registry);
            var results = new RegistryPublisher(engine, client, new RegistryPublishOptions())
                .PublishAsync(built.Select(r => new ImageToPublish(r.Node, r.ImageId!, r.Tag)), CancellationToken.None).GetAwaiter().GetResult();
            Assert.All(results, r => Assert.True(r.Status == PublishStatus.Pushed, $"{r.Name}: {r.Status} {r.Error}"));
        }

        private static void AssertBuilt(IEnumerable<BuildResult> results) =>
            Assert.All(results, r => Assert.True(r.Status == BuildStatus.Built, $"{r.Name}: {r.Status} {r.ErrorId} {r.Error}"));

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void An_empty_agent_rebuilds_a_changed_leaf_on_the_registry_parents_pulled_by_digest()
        {
            var ns = $"agt{Guid.NewGuid():N}".Substring(0, 11);
            using var tree = PublishedTree(ns);
            var cache = tree.PathOf(".cache");
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var agentA = DockerServices.Engine();
            var built = Build(agentA, graph, graph.Nodes);
            AssertBuilt(built);
            Publish(agentA, built);

            // Agent B: one leaf changed, under a new version.
            tree.Image("application-b", $"FROM runtime:latest\nCOPY --from={Registry}/{ns}/base:1.0 /base /base-copy\nRUN echo b2 > /b\n")
                .Write("application-b/image.yaml", "version: '1.1'\n");
            graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var plan = Plan(graph, cache);
            Assert.Equal(new[] { "application-b" }, plan.Values.Where(s => s.NeedsRebuild).Select(s => s.Name));
            var seen = plan["application-b"].Parents.ToDictionary(p => p.Name);
            Assert.Equal(new[] { "base", "runtime" }, seen.Keys.OrderBy(k => k));
            Assert.All(seen.Values, p => Assert.NotNull(p.ManifestDigest));

            var agentB = _agentB.Engine();
            Assert.Null(agentB.InspectAsync("runtime:latest", CancellationToken.None).GetAwaiter().GetResult());
            var rebuilt = Build(agentB, graph, new[] { graph["application-b"] }, new BuildOptions { PublishedParents = plan.Values.SelectMany(s => s.Parents).ToList() });
            AssertBuilt(rebuilt);
            Publish(agentB, rebuilt);

            Assert.All(Plan(ImageGraph.Build(TreeScanner.Scan(tree.Root)), cache).Values, s => Assert.False(s.NeedsRebuild, s.ToString()));
            // The parents came from the registry by digest, under the references the Dockerfile uses.
            var runtime = agentB.InspectAsync("runtime:latest", CancellationToken.None).GetAwaiter().GetResult()!;
            Assert.Equal(seen["runtime"].Digest, runtime.Id);
            Assert.Contains($"{Registry}/{ns}/runtime@{seen["runtime"].ManifestDigest}", runtime.RepoDigests);
            Assert.Equal(seen["base"].Digest, agentB.InspectAsync($"{Registry}/{ns}/base:1.0", CancellationToken.None).GetAwaiter().GetResult()!.Id);
            // The child's labels record the registry's digests of its parents, as for parents built in the run.
            var labels = agentB.InspectAsync(rebuilt[0].ImageId!, CancellationToken.None).GetAwaiter().GetResult()!.Labels;
            var parents = ImageLabels.ParseParents(labels[ImageLabels.Parents]);
            Assert.Equal(seen["runtime"].Digest, parents["runtime:latest"]);
            Assert.Equal(seen["base"].Digest, parents[$"{Registry}/{ns}/base:1.0"]);
            Assert.Equal(seen["runtime"].Digest, labels[ImageLabels.BaseDigest]);

            // Without a rebuild check (images straight from Get-ImageGraph), the parent is looked up in the registry at build time.
            _agentB.Docker("image", "rm", "runtime:latest");
            _agentB.Docker("tag", "busybox:1.36", "runtime:latest");  // a stale or foreign copy must not be built on
            using var source = new RegistryImageSource(new RegistryClientOptions { ConfigCacheDirectory = cache });
            var again = Build(agentB, graph, new[] { graph["application-a"] }, new BuildOptions { ParentSource = source, NoCache = true });
            AssertBuilt(again);
            var aLabels = agentB.InspectAsync(again[0].ImageId!, CancellationToken.None).GetAwaiter().GetResult()!.Labels;
            Assert.Equal(seen["runtime"].Digest, ImageLabels.ParseParents(aLabels[ImageLabels.Parents])["runtime"]);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void Without_a_registry_a_parent_missing_from_the_engine_fails_the_child_before_its_build()
        {
            var prefix = $"loc{Guid.NewGuid():N}".Substring(0, 11);
            using var tree = new TestTree()
                .Image(prefix + "-parent", "FROM busybox:1.36\nRUN echo parent > /parent\n")
                .Image(prefix + "-child", $"FROM {prefix}-parent\nRUN echo child > /child\n");
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var agentB = _agentB.Engine();

            var failed = Build(agentB, graph, new[] { graph[prefix + "-child"] }).Single();
            Assert.Equal(BuildStatus.Failed, failed.Status);
            Assert.Equal("ParentMissing", failed.ErrorId);
            Assert.Contains(prefix + "-parent", failed.Error);
            Assert.Contains("registry", failed.Error);
            Assert.Equal("", File.ReadAllText(failed.LogPath!));  // the engine was never asked to build
            Assert.Null(failed.ImageId);

            AssertBuilt(Build(agentB, graph, new[] { graph[prefix + "-parent"] }));
            var child = Build(agentB, graph, new[] { graph[prefix + "-child"] }).Single();
            AssertBuilt(new[] { child });
            var parentId = agentB.InspectAsync(prefix + "-parent:latest", CancellationToken.None).GetAwaiter().GetResult()!.Id;
            var labels = agentB.InspectAsync(child.ImageId!, CancellationToken.None).GetAwaiter().GetResult()!.Labels;
            Assert.Equal(parentId, ImageLabels.ParseParents(labels[ImageLabels.Parents])[prefix + "-parent"]);
        }
    }
}
