using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using ImageTools.Building;
using ImageTools.Changelogs;
using ImageTools.Definitions;
using ImageTools.Docker.Cli;
using ImageTools.Graph;
using ImageTools.Planning;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>Every reason produced end to end against the real engine (local mode: no registry in the tree).</summary>
    [Collection(DockerCollection.Name)]
    public class RebuildPlannerIntegrationTests
    {
        private static DockerCliEngine Engine() => DockerServices.Engine();

        private static ImageGraph GraphOf(string root) => ImageGraph.Build(TreeScanner.Scan(root));

        private static Dictionary<string, RebuildStatus> Plan(ImageGraph graph) =>
            new RebuildPlanner(new LocalEngineImageSource(Engine()), new BuildInputDigester(), new RebuildOptions())
                .PlanAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult().ToDictionary(s => s.Name);

        private static void Build(ImageGraph graph, IEnumerable<ImageNode> nodes)
        {
            var results = new ImageBuilder(Engine(), new BuildOptions { ThrottleLimit = 2 }).BuildAsync(graph, nodes, CancellationToken.None).GetAwaiter().GetResult();
            Assert.All(results, r => Assert.True(r.Status == BuildStatus.Built, $"{r.Name}: {r.Status} {r.Error}"));
        }

        /// <summary>A copy of the examples under a unique namespace, so nothing here moves the examples' own tags.</summary>
        private static TestTree CopyOfExamples()
        {
            DockerServices.Require();
            var tree = new TestTree();
            foreach (var file in Directory.GetFiles(RepoPaths.Of("examples"), "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(RepoPaths.Of("examples"), file).Replace('\\', '/');
                var target = tree.PathOf(relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
            File.AppendAllText(tree.PathOf("imagetools.yaml"), $"namespace: plan{Guid.NewGuid():N}".Substring(0, 22) + "\n");
            return tree;
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void After_a_build_everything_is_up_to_date_and_each_change_gives_its_reason()
        {
            using var tree = CopyOfExamples();
            var graph = GraphOf(tree.Root);

            var before = Plan(graph);
            Assert.All(before.Values, s => Assert.Contains(RebuildReason.NotPublished, s.Reasons));

            Build(graph, graph.Nodes);
            Assert.All(Plan(graph).Values, s => Assert.False(s.NeedsRebuild, s.ToString()));

            // A changed source file: InputsChanged, flagged for a version bump, cascading to the dependent.
            tree.Write("tools/greet.sh", "#!/bin/sh\necho \"hello again from ${1:-tools}\"\n");
            var changed = Plan(GraphOf(tree.Root));
            Assert.Equal(new[] { RebuildReason.InputsChanged }, changed["tools"].Reasons);
            Assert.True(changed["tools"].VersionBumpNeeded);
            Assert.Equal(new[] { RebuildReason.ParentRebuilt }, changed["app-web"].Reasons);
            Assert.False(changed["runtime"].NeedsRebuild);

            // The parent rebuilt with other content: its children now sit on an old base.
            tree.Write("tools/greet.sh", File.ReadAllText(RepoPaths.Of("examples/tools/greet.sh")));
            tree.Write("base/Dockerfile.template", File.ReadAllText(tree.PathOf("base/Dockerfile.template")) + "RUN echo rebuilt > /etc/imagetools/rebuilt\n");
            graph = GraphOf(tree.Root);
            Build(graph, new[] { graph["base"] });
            var rebased = Plan(graph);
            Assert.False(rebased["base"].NeedsRebuild);
            Assert.Equal(new[] { RebuildReason.BaseChanged }, rebased["runtime"].Reasons);
            Assert.Equal(new[] { RebuildReason.BaseChanged }, rebased["tools"].Reasons);
            Assert.Equal(new[] { RebuildReason.ParentRebuilt }, rebased["app-web"].Reasons);
            Assert.Equal(new[] { RebuildReason.ParentRebuilt }, rebased["worker"].Reasons);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void After_a_changelog_update_the_bumped_images_are_NotPublished_under_their_new_tags()
        {
            using var tree = CopyOfExamples();
            var graph = GraphOf(tree.Root);
            Build(graph, graph.Nodes);

            var update = ChangelogUpdater.Plan(graph, new ChangelogUpdateRequest(new[] { "base" }, "Rebuild for CVE-2026-0001",
                new ChangelogAuthor("Ops", "ops@example.org")));
            ChangelogUpdater.Apply(update.Updates);
            var plan = Plan(GraphOf(tree.Root));

            Assert.Equal(new[] { "base", "tools", "app-web" }, update.Updates.Select(u => u.Name));
            Assert.Contains(update.Warnings, w => w.ImageName == "runtime" && w.Message.Contains("no changelog"));
            Assert.EndsWith("base:0.1.0-s1", plan["base"].Reference);
            Assert.Contains(RebuildReason.NotPublished, plan["base"].Reasons);
            Assert.Contains(RebuildReason.NotPublished, plan["tools"].Reasons);
            Assert.Contains(RebuildReason.NotPublished, plan["app-web"].Reasons);
            Assert.Equal(new[] { RebuildReason.ParentRebuilt }, plan["runtime"].Reasons);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void With_a_registry_the_verdicts_come_from_what_is_pushed_there()
        {
            var registry = DockerServices.RegistryAddress!;
            var ns = $"reg{Guid.NewGuid():N}".Substring(0, 11);
            // The external base lives on the loopback registry too: tests never reach out to Docker Hub.
            var seed = $"{registry}/{ns}/busybox:1.36";
            DockerServices.Docker("tag", "busybox:1.36", seed);
            DockerServices.Docker("push", seed);
            using var tree = new TestTree()
                .Write("imagetools.yaml", $"registry: {registry}\nnamespace: {ns}\n")
                .Image("base", $"FROM {seed}\nRUN echo one > /marker\n")
                .Image("app", "FROM base\nRUN cat /marker\n");
            var graph = GraphOf(tree.Root);
            using var source = new RegistryImageSource(new ImageTools.Registry.RegistryClientOptions { ConfigCacheDirectory = tree.PathOf("cache") });
            Dictionary<string, RebuildStatus> PlanFromRegistry(ImageGraph g) =>
                new RebuildPlanner(source, new BuildInputDigester(), new RebuildOptions())
                    .PlanAsync(g, g.Nodes, CancellationToken.None).GetAwaiter().GetResult().ToDictionary(s => s.Name);

            Build(graph, graph.Nodes);
            var unpushed = PlanFromRegistry(graph);
            Assert.Equal(new[] { RebuildReason.NotPublished }, unpushed["base"].Reasons);
            Assert.Equal(new[] { RebuildReason.NotPublished, RebuildReason.ParentRebuilt }, unpushed["app"].Reasons);

            DockerServices.Docker("push", graph["base"].Reference);
            DockerServices.Docker("push", graph["app"].Reference);
            var pushed = PlanFromRegistry(graph);
            Assert.All(pushed.Values, s => Assert.False(s.NeedsRebuild, s.ToString()));
            Assert.Equal(DockerServices.Docker("image", "inspect", "--format", "{{.Id}}", graph["app"].Reference).Trim(), pushed["app"].PublishedDigest);

            // A new base pushed under the same tag: the published child now sits on an old base.
            tree.Image("base", $"FROM {seed}\nRUN echo two > /marker\n");
            graph = GraphOf(tree.Root);
            Build(graph, new[] { graph["base"] });
            DockerServices.Docker("push", graph["base"].Reference);
            var rebased = PlanFromRegistry(graph);
            Assert.False(rebased["base"].NeedsRebuild);
            Assert.Equal(new[] { RebuildReason.BaseChanged }, rebased["app"].Reasons);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void An_image_not_built_by_ImageTools_is_NoBuildMetadata()
        {
            var name = $"foreign{Guid.NewGuid():N}".Substring(0, 15);
            using var tree = new TestTree().Image("x", "FROM busybox:1.36\n").Write("x/image.yaml", $"name: {name}\n");
            DockerServices.Docker("tag", "busybox:1.36", $"{name}:latest");

            var status = Plan(GraphOf(tree.Root))[name];

            Assert.Equal(new[] { RebuildReason.NoBuildMetadata }, status.Reasons);
            DockerServices.Docker("rmi", $"{name}:latest");
        }
    }
}
