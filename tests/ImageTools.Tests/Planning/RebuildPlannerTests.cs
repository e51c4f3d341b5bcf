using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Planning;
using ImageTools.Provenance;
using ImageTools.References;
using Xunit;

namespace ImageTools.Tests.Planning
{
    /// <summary>The decision rules over an in-memory catalogue; the same rules against a real engine are in Integration.</summary>
    public class RebuildPlannerTests
    {
        private sealed class Catalogue : IPublishedImageSource
        {
            /// <summary>By reference, or by "reference platform" for what is published for a platform other than the host's.</summary>
            public Dictionary<string, PublishedImage> Images { get; } = new Dictionary<string, PublishedImage>();
            public string Description => "the catalogue";
            public Task<PublishedImage?> FindAsync(ImageReference reference, ImagePlatform? platform, CancellationToken cancellationToken) =>
                Task.FromResult(Images.TryGetValue(platform == null ? reference.ToString() : $"{reference} {platform}", out var image) ? image : null);
        }

        /// <summary>busybox → base → (mid → top), base → other</summary>
        private static TestTree Tree() => new TestTree()
            .Image("base", "FROM busybox:1.36\n").Write("base/changelog", TestTree.Changelog("base", "1.0"))
            .Image("mid", "FROM base\n")
            .Image("top", "FROM mid\n")
            .Image("other", "FROM base\n");

        /// <summary>The inputs digests of <see cref="Tree"/>'s images (scheme imagetools-inputs-v1); mid and other have the same inputs.</summary>
        private static readonly Dictionary<string, string> TreeInputDigests = new Dictionary<string, string>
        {
            ["base"] = "sha256:a885ea05d3a6476c53b16b041af0a581a9eea96d5c27764426c55c4e91d42957",
            ["mid"] = "sha256:550a191fca728953145a7441ba57400ced08d7081e1d8e877268c30f79da2ac8",
            ["other"] = "sha256:550a191fca728953145a7441ba57400ced08d7081e1d8e877268c30f79da2ac8",
            ["top"] = "sha256:7b01fc34367600bbd3f3274a286bb5893a2cb4d9148eb65ada9d5872c7ec8a88",
        };

        /// <summary>The parents label each image of <see cref="Tree"/> was built with: FROM text @ the digest it had.</summary>
        private static readonly Dictionary<string, string> TreeParentLabels = new Dictionary<string, string>
        {
            ["base"] = "busybox:1.36@sha256:busybox1",
            ["mid"] = "base@sha256:base",
            ["other"] = "base@sha256:base",
            ["top"] = "mid@sha256:mid",
        };

        [Fact]
        public void The_digester_gives_the_pinned_digests()
        {
            using var tree = Tree();
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var digester = new BuildInputDigester();

            Assert.Equal("imagetools-inputs-v1", BuildInputDigester.Scheme);
            Assert.Equal(TreeInputDigests, graph.Nodes.ToDictionary(n => n.Name, n => digester.Compute(n.Definition)));
        }

        private static (ImageGraph Graph, Catalogue Catalogue) PublishedAsBuilt(TestTree tree)
        {
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var catalogue = new Catalogue();
            catalogue.Images["busybox:1.36"] = new PublishedImage("sha256:busybox1", new Dictionary<string, string>());
            foreach (var node in graph.Nodes)
            {
                // Literals, not the planner's own digester and formatter: a digest or label bug must fail these tests.
                catalogue.Images[node.Reference] = new PublishedImage("sha256:" + node.Name, new Dictionary<string, string>
                {
                    [ImageLabels.Name] = node.Name,
                    [ImageLabels.InputsDigest] = TreeInputDigests[node.Name],
                    [ImageLabels.InputsScheme] = "imagetools-inputs-v1",
                    [ImageLabels.Parents] = TreeParentLabels[node.Name],
                });
            }
            return (graph, catalogue);
        }

        private static Dictionary<string, RebuildStatus> Plan(ImageGraph graph, Catalogue catalogue, RebuildOptions? options = null, IEnumerable<ImageNode>? selection = null) =>
            new RebuildPlanner(catalogue, new BuildInputDigester(), options ?? new RebuildOptions())
                .PlanAsync(graph, selection ?? graph.Nodes, CancellationToken.None).GetAwaiter().GetResult().ToDictionary(s => s.Name);

        /// <summary>The first look-up fails as an unreachable registry does; every other one hangs until stopped.</summary>
        private sealed class UnreachableSource : IPublishedImageSource
        {
            private int _calls;
            public string Description => "the registry";
            public async Task<PublishedImage?> FindAsync(ImageReference reference, ImagePlatform? platform, CancellationToken cancellationToken)
            {
                if (Interlocked.Increment(ref _calls) == 1)
                    throw new ImageToolsException("RegistryUnreachable", FaultKind.ResourceUnavailable, "Cannot reach the registry.");
                await Task.Delay(Timeout.Infinite, cancellationToken);
                return null;
            }
        }

        [Fact]
        public async Task One_failed_look_up_stops_the_others_and_is_the_error()
        {
            using var tree = Tree();
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var plan = new RebuildPlanner(new UnreachableSource(), new BuildInputDigester(), new RebuildOptions())
                .PlanAsync(graph, graph.Nodes, CancellationToken.None);

            var finished = await Task.WhenAny(plan, Task.Delay(System.TimeSpan.FromSeconds(20)));

            Assert.Same(plan, finished);
            Assert.Equal("RegistryUnreachable", (await Assert.ThrowsAsync<ImageToolsException>(() => plan)).ErrorId);
        }

        [Fact]
        public void Everything_as_built_is_up_to_date()
        {
            using var tree = Tree();
            var (graph, catalogue) = PublishedAsBuilt(tree);

            Assert.All(Plan(graph, catalogue).Values, s => Assert.False(s.NeedsRebuild, s.ToString()));
        }

        [Fact]
        public void An_image_for_another_platform_is_compared_with_that_platforms_image_and_base()
        {
            using var tree = new TestTree()
                .Image("native", "FROM busybox:1.36\n")
                .Image("foreign", "FROM busybox:1.36\n").Write("foreign/image.yaml", "platforms: [linux/s390x]\n");
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var digester = new BuildInputDigester();
            var catalogue = new Catalogue();
            catalogue.Images["busybox:1.36"] = new PublishedImage("sha256:busybox-host", new Dictionary<string, string>());
            catalogue.Images["busybox:1.36 linux/s390x"] = new PublishedImage("sha256:s390x-new", new Dictionary<string, string>());
            PublishedImage BuiltOn(ImageNode node, string baseDigest) => new PublishedImage("sha256:" + node.Name, new Dictionary<string, string>
            {
                [ImageLabels.Name] = node.Name,
                [ImageLabels.InputsDigest] = digester.Compute(node.Definition),
                [ImageLabels.InputsScheme] = BuildInputDigester.Scheme,
                [ImageLabels.Parents] = ImageLabels.FormatParents(new Dictionary<string, string> { ["busybox:1.36"] = baseDigest }),
            });
            var native = graph.Nodes.Single(n => n.Name == "native");
            var foreign = graph.Nodes.Single(n => n.Name == "foreign");
            catalogue.Images[native.Reference] = BuiltOn(native, "sha256:busybox-host");
            // Published for s390x only (under an index), built on the s390x busybox before it changed.
            catalogue.Images[foreign.Reference + " linux/s390x"] = BuiltOn(foreign, "sha256:s390x-old");

            var plan = Plan(graph, catalogue);

            Assert.False(plan["native"].NeedsRebuild, plan["native"].ToString());
            Assert.Equal(new[] { RebuildReason.BaseChanged }, plan["foreign"].Reasons);
            Assert.Contains("now sha256:s390x-new", plan["foreign"].Details.Single());
        }

        [Fact]
        public void A_missing_tag_is_NotPublished_and_cascades_to_every_dependent()
        {
            using var tree = Tree();
            var (graph, catalogue) = PublishedAsBuilt(tree);
            catalogue.Images.Remove("base:1.0");

            var plan = Plan(graph, catalogue);

            Assert.Equal(new[] { RebuildReason.NotPublished }, plan["base"].Reasons);
            Assert.Equal(new[] { RebuildReason.ParentRebuilt }, plan["mid"].Reasons);
            Assert.Equal(new[] { RebuildReason.ParentRebuilt }, plan["top"].Reasons);
            Assert.Contains("base", plan["mid"].Details.Single());
            Assert.Contains("the catalogue", plan["base"].Details.Single());
        }

        [Fact]
        public void Changed_inputs_are_InputsChanged_and_flag_a_version_bump_under_an_explicit_version()
        {
            using var tree = Tree();
            var (graph, catalogue) = PublishedAsBuilt(tree);
            tree.Write("base/new-file.txt", "x").Write("mid/new-file.txt", "x");
            graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));

            var plan = Plan(graph, catalogue);

            Assert.Equal(new[] { RebuildReason.InputsChanged }, plan["base"].Reasons);
            Assert.True(plan["base"].VersionBumpNeeded);
            Assert.Equal(new[] { RebuildReason.InputsChanged, RebuildReason.ParentRebuilt }, plan["mid"].Reasons);
            Assert.False(plan["mid"].VersionBumpNeeded);
            Assert.NotEqual(plan["base"].InputsDigest, plan["base"].PublishedInputsDigest);
        }

        [Fact]
        public void A_base_with_a_new_digest_is_BaseChanged()
        {
            using var tree = Tree();
            var (graph, catalogue) = PublishedAsBuilt(tree);
            catalogue.Images["busybox:1.36"] = new PublishedImage("sha256:busybox2", new Dictionary<string, string>());
            var old = catalogue.Images["mid:latest"];
            catalogue.Images["mid:latest"] = new PublishedImage("sha256:mid-rebuilt", old.Labels);

            var plan = Plan(graph, catalogue);

            Assert.Equal(new[] { RebuildReason.BaseChanged }, plan["base"].Reasons);
            Assert.Contains("busybox:1.36", plan["base"].Details[0]);
            Assert.Equal(new[] { RebuildReason.ParentRebuilt }, plan["other"].Reasons);
            Assert.Equal(new[] { RebuildReason.BaseChanged, RebuildReason.ParentRebuilt }, plan["top"].Reasons);
        }

        [Fact]
        public void An_image_not_built_by_us_is_NoBuildMetadata()
        {
            using var tree = Tree();
            var (graph, catalogue) = PublishedAsBuilt(tree);
            catalogue.Images["other:latest"] = new PublishedImage("sha256:foreign", new Dictionary<string, string> { ["maintainer"] = "someone" });

            Assert.Equal(new[] { RebuildReason.NoBuildMetadata }, Plan(graph, catalogue)["other"].Reasons);
        }

        [Fact]
        public void Forcing_by_name_and_All_follow_xor_semantics()
        {
            using var tree = Tree();
            var (graph, catalogue) = PublishedAsBuilt(tree);

            var byName = Plan(graph, catalogue, new RebuildOptions { Forced = new[] { "mid" } });
            var all = Plan(graph, catalogue, new RebuildOptions { All = true });
            var allBut = Plan(graph, catalogue, new RebuildOptions { All = true, Forced = new[] { "base" } });

            Assert.Equal(new[] { "mid", "top" }, byName.Values.Where(s => s.NeedsRebuild).Select(s => s.Name));
            Assert.Equal(new[] { RebuildReason.Forced }, byName["mid"].Reasons);
            Assert.Equal(new[] { RebuildReason.ParentRebuilt }, byName["top"].Reasons);
            Assert.All(all.Values, s => Assert.Contains(RebuildReason.Forced, s.Reasons));
            Assert.DoesNotContain(RebuildReason.Forced, allBut["base"].Reasons);
            Assert.False(allBut["base"].NeedsRebuild);
        }

        [Fact]
        public void A_parent_outside_the_selection_still_cascades()
        {
            using var tree = Tree();
            var (graph, catalogue) = PublishedAsBuilt(tree);
            catalogue.Images.Remove("base:1.0");

            var plan = Plan(graph, catalogue, selection: new[] { graph["top"] });

            Assert.Equal(new[] { "top" }, plan.Keys);
            Assert.Equal(new[] { RebuildReason.ParentRebuilt }, plan["top"].Reasons);
        }
    }
}
