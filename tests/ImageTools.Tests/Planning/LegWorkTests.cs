using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Planning;
using Xunit;

namespace ImageTools.Tests.Planning
{
    /// <summary>A leg on its agent (Invoke-ImageBuild -Plan -Leg) and the plan folder it reads.</summary>
    public class LegWorkTests
    {
        private const string BaseDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        private const string BaseManifest = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
        private static readonly Dictionary<string, string> NoBuildArgs = new Dictionary<string, string>();

        /// <summary>busybox → base → (a, b); a → top.</summary>
        private static TestTree Tree() => new TestTree()
            .Write("imagetools.yaml", "registry: 127.0.0.1:5000\nnamespace: ops\n")
            .Image("base", "FROM busybox:1.36\n")
            .Image("a", "FROM base\n")
            .Image("b", "FROM base\n")
            .Image("top", "FROM a\n");

        private static ImageGraph Graph(TestTree tree) => ImageGraph.Build(TreeScanner.Scan(tree.Root));

        /// <summary>A plan folder for the tree with <paramref name="stale"/> stale and the rest published, with the real inputs digests.</summary>
        private static PlanFolder Plan(TestTree tree, ImageGraph graph, params string[] stale)
        {
            var digester = new BuildInputDigester();
            var statuses = graph.Nodes.Select(node =>
            {
                var status = new RebuildStatus(node, digester.Compute(node.Definition))
                {
                    Parents = node.Dependencies.Where(d => !stale.Contains(d)).Select(d => new ParentImage(d, graph[d].Reference, BaseDigest, BaseManifest)).ToList(),
                };
                if (stale.Contains(node.Name)) status.Add(RebuildReason.NotPublished, "not published");
                else status.PublishedDigest = BaseDigest;
                return status;
            }).ToList();
            var folder = tree.PathOf("plan");
            BuildPlanFile.Write(BuildPlanner.Plan(statuses, maximumLegs: 1), folder, DateTimeOffset.UtcNow, id: "plan-1");
            return PlanFolder.Read(folder);
        }

        private static LegWork Prepare(PlanFolder plan, string leg, ImageGraph graph) =>
            LegWork.Prepare(plan, leg, graph, new BuildInputDigester(), NoBuildArgs, CancellationToken.None);

        [Fact]
        public void A_parent_the_run_does_not_rebuild_is_pinned_to_the_digest_the_check_saw()
        {
            using var tree = Tree();
            var graph = Graph(tree);
            var plan = Plan(tree, graph, "a", "top");

            var work = Prepare(plan, "w0_l0", graph);

            Assert.Equal(new[] { "a" }, work.ToBuild.Select(n => n.Name));
            var parent = Assert.Single(work.Parents);
            Assert.Equal(("base", BaseDigest, BaseManifest), (parent.Name, parent.Digest, parent.ManifestDigest));
            Assert.Equal(plan.Leg("w0_l0")[0].InputsDigest, work.InputsDigests["a"]);
        }

        [Fact]
        public void A_parent_an_earlier_leg_built_comes_from_that_legs_record()
        {
            using var tree = Tree();
            var graph = Graph(tree);
            var plan = Plan(tree, graph, "a", "top");
            Assert.Equal("PlanParentNotStaged", Assert.Throws<ImageToolsException>(() => Prepare(plan, "w1_l0", graph)).ErrorId);

            plan.Write(new LegRecord("plan-1", "w0_l0", new[]
            {
                new LegRecordImage("a", "127.0.0.1:5000/ops/a:latest", LegRecordImage.Staged, "sha256:" + new string('a', 64), "sha256:" + new string('b', 64), "linux/amd64", null, null),
            }));
            var work = Prepare(PlanFolder.Read(plan.Directory), "w1_l0", graph);

            Assert.Equal(new[] { "top" }, work.ToBuild.Select(n => n.Name));
            var parent = Assert.Single(work.Parents);
            Assert.Equal(("a", "sha256:" + new string('b', 64)), (parent.Name, parent.ManifestDigest));
        }

        [Fact]
        public void An_image_whose_parent_failed_in_its_leg_is_blocked_and_the_rest_of_the_leg_builds()
        {
            using var tree = new TestTree()
                .Image("base", "FROM busybox:1.36\n")
                .Image("broken", "FROM base\n")
                .Image("fine", "FROM base\n")
                .Image("child", "FROM broken\n")
                .Image("other", "FROM fine\n");
            var graph = Graph(tree);
            var plan = Plan(tree, graph, "base", "broken", "fine", "child", "other");
            var wave1 = plan.Leg("w1_l0").Select(i => i.Name).ToArray();
            Assert.Equal(new[] { "broken", "fine" }, wave1);
            plan.Write(new LegRecord("plan-1", "w1_l0", new[]
            {
                new LegRecordImage("broken", "broken:latest", "Failed", null, null, null, null, "RUN exited 3"),
                new LegRecordImage("fine", "fine:latest", LegRecordImage.Staged, "sha256:" + new string('c', 64), "sha256:" + new string('d', 64), "linux/amd64", null, null),
            }));

            var work = Prepare(PlanFolder.Read(plan.Directory), "w2_l0", graph);

            Assert.Equal(new[] { "other" }, work.ToBuild.Select(n => n.Name));
            var (node, reason) = Assert.Single(work.Blocked);
            Assert.Equal("child", node.Name);
            Assert.Contains("'broken'", reason);
            Assert.Contains("RUN exited 3", reason);
        }

        [Fact]
        public void A_checkout_whose_inputs_differ_from_the_plan_builds_nothing()
        {
            using var tree = Tree();
            var graph = Graph(tree);
            var plan = Plan(tree, graph, "a");
            tree.Write("a/extra.txt", "changed after the plan");
            var changed = Graph(tree);

            var error = Assert.Throws<ImageToolsException>(() => Prepare(plan, "w0_l0", changed));

            Assert.Equal("PlanOutOfDate", error.ErrorId);
            Assert.Equal("a", error.ImageName);
        }

        [Fact]
        public void Records_of_another_plan_are_ignored()
        {
            using var tree = Tree();
            var graph = Graph(tree);
            var plan = Plan(tree, graph, "a", "top");
            plan.Write(new LegRecord("an-older-plan", "w0_l0", new[]
            {
                new LegRecordImage("a", "a:latest", LegRecordImage.Staged, "sha256:" + new string('a', 64), "sha256:" + new string('b', 64), null, null, null),
            }));

            Assert.Empty(PlanFolder.Read(plan.Directory).Records());
            Assert.Equal("PlanParentNotStaged", Assert.Throws<ImageToolsException>(() => Prepare(plan, "w1_l0", graph)).ErrorId);
        }

        [Fact]
        public void An_unknown_leg_names_the_legs_there_are()
        {
            using var tree = Tree();
            var graph = Graph(tree);
            var plan = Plan(tree, graph, "a", "top");

            var error = Assert.Throws<ImageToolsException>(() => plan.Leg("w9_l9"));

            Assert.Equal("PlanLegNotFound", error.ErrorId);
            Assert.Contains("w0_l0, w1_l0", error.Message);
        }

        [Theory]
        [InlineData("{\"format\":\"imagetools-build-plan\",\"version\":2,\"id\":\"x\"}", "version is 2")]
        [InlineData("{\"format\":\"something-else\",\"version\":1}", "format is not")]
        [InlineData("{\"format\":\"imagetools-build-plan\",\"version\":1}", "'id' is missing")]
        [InlineData("{not json", "not a plan file")]
        public void A_plan_file_it_cannot_read_is_refused_naming_the_file(string text, string expected)
        {
            using var tree = new TestTree().Write("plan/plan.json", text);

            var error = Assert.Throws<ImageToolsException>(() => PlanFolder.Read(tree.PathOf("plan")));

            Assert.Equal("PlanInvalid", error.ErrorId);
            Assert.Contains(expected, error.Message);
            Assert.Equal(Path.Combine(tree.PathOf("plan"), "plan.json"), error.FilePath);
        }
    }
}
