using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Publishing;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>A run publishes all or nothing: one failed build or verification holds back every tag of the run.</summary>
    [Collection(DockerCollection.Name)]
    public class AtomicPublishTests
    {
        private static readonly string[] Good = { "good-one", "good-two" };
        private static readonly string[] Bad = { "broken", "broken-child", "unverified" };

        private static TestTree Tree(string ns)
        {
            var tree = new TestTree()
                .Write("imagetools.yaml", $"registry: {DockerServices.RegistryAddress}\nnamespace: {ns}\n")
                .Image("good-one", "FROM busybox:1.36\nRUN echo one > /id\n").Write("good-one/image.yaml", "version: '1.0'\ntags: [stable]\n")
                .Image("good-two", "FROM busybox:1.36\nRUN echo two > /id\n").Write("good-two/image.yaml", "version: '1.0'\n")
                .Image("broken", "FROM busybox:1.36\nRUN exit 3\n").Write("broken/image.yaml", "version: '1.0'\n")
                .Image("broken-child", "FROM broken\nRUN echo child > /id\n").Write("broken-child/image.yaml", "version: '1.0'\n")
                .Image("unverified", "FROM busybox:1.36\nRUN echo u > /id\n").Write("unverified/image.yaml", "version: '1.0'\n")
                .Write("unverified/test.sh", "#!/bin/sh\necho 'the image does not work' >&2\nexit 1\n");
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(tree.PathOf("unverified/test.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return tree;
        }

        private static (List<ImageToPublish> Images, List<UnpublishableImage> Unpublishable) BuildAll(string root)
        {
            var graph = ImageGraph.Build(TreeScanner.Scan(root));
            var results = new ImageBuilder(DockerServices.Engine(), new BuildOptions { ThrottleLimit = 2 })
                .BuildAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult().ToDictionary(r => r.Name);
            Assert.Equal("BuildFailed", results["broken"].ErrorId);
            Assert.Equal("DependencyFailed", results["broken-child"].ErrorId);
            Assert.Equal("VerifyFailed", results["unverified"].ErrorId);
            return (results.Values.Where(r => r.Status == BuildStatus.Built).Select(r => new ImageToPublish(r.Node, r.ImageId!, r.Tag)).ToList(),
                results.Values.Where(r => r.Status != BuildStatus.Built).Select(r => new UnpublishableImage(r.Node, r.Reference, "ImageNotBuilt", r.Error ?? "")).ToList());
        }

        private static Dictionary<string, PublishResult> Publish(List<ImageToPublish> images, List<UnpublishableImage> unpublishable, bool atomic)
        {
            using var client = new RegistryClient(DockerServices.RegistryAddress!);
            return new RegistryPublisher(DockerServices.Engine(), client, new RegistryPublishOptions { Atomic = atomic })
                .PublishAsync(images, unpublishable, CancellationToken.None).GetAwaiter().GetResult().ToDictionary(r => r.Name);
        }

        private static string[] TagsOf(string repository)
        {
            using var client = new RegistryClient(DockerServices.RegistryAddress!);
            return new[] { "1.0", "latest", "stable" }.Where(t => client.HeadManifestAsync(repository, t).GetAwaiter().GetResult() != null).ToArray();
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_failed_build_and_a_failed_verification_move_no_tag_at_all_and_the_switch_publishes_the_rest()
        {
            var ns = $"atm{Guid.NewGuid():N}".Substring(0, 11);
            using var tree = Tree(ns);
            var (images, unpublishable) = BuildAll(tree.Root);
            Assert.Equal(Good, images.Select(i => i.Node.Name).OrderBy(n => n));

            var held = Publish(images, unpublishable, atomic: true);
            foreach (var name in Good)
            {
                Assert.Equal(PublishStatus.HeldBack, held[name].Status);
                Assert.Equal(Bad.OrderBy(n => n), held[name].HeldBackBy.OrderBy(n => n));
                Assert.Empty(held[name].Tags);
                Assert.NotNull(held[name].ManifestDigest);  // uploaded by digest all the same
            }
            Assert.All(Bad, name => Assert.Equal(PublishStatus.Failed, held[name].Status));
            Assert.All(Good.Concat(Bad), name => Assert.Empty(TagsOf($"{ns}/{name}")));

            var partial = Publish(images, unpublishable, atomic: false);
            Assert.Equal(new[] { "1.0", "latest", "stable" }, TagsOf($"{ns}/good-one"));
            Assert.Equal(new[] { "1.0", "latest" }, TagsOf($"{ns}/good-two"));
            Assert.All(Good, name => Assert.Equal(PublishStatus.Pushed, partial[name].Status));
            Assert.All(Bad, name => Assert.Empty(TagsOf($"{ns}/{name}")));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void An_up_to_date_image_that_fails_its_verification_holds_back_every_tag_of_the_run()
        {
            var ns = $"vfy{Guid.NewGuid():N}".Substring(0, 11);
            using var tree = new TestTree()
                .Write("imagetools.yaml", $"registry: {DockerServices.RegistryAddress}\nnamespace: {ns}\n")
                .Image("fresh", "FROM busybox:1.36\nRUN echo fresh > /id\n").Write("fresh/image.yaml", "version: '1.0'\n")
                .Image("stale", "FROM busybox:1.36\nRUN echo stale > /id\n").Write("stale/image.yaml", "version: '1.0'\n");
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var built = new ImageBuilder(DockerServices.Engine(), new BuildOptions()).BuildAsync(graph, graph.Nodes, CancellationToken.None)
                .GetAwaiter().GetResult().ToDictionary(r => r.Name);
            Assert.All(built.Values, r => Assert.True(r.Status == BuildStatus.Built, $"{r.Name}: {r.Error}"));
            // The test that "stale" would fail now, run in the image itself: it was never run on this image.
            tree.Write("stale/test.sh", "#!/bin/sh\nexec docker run --rm --pull never --network none \"$1\" grep -q current /id\n");
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(tree.PathOf("stale/test.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));

            var run = new PublishRun(DockerServices.Engine(), new PublishRunOptions());
            var plan = run.PrepareAsync(new[] { built["fresh"] }, new[] { graph["stale"] }, CancellationToken.None).GetAwaiter().GetResult();
            // Built results keep their node of the first scan; the stale one comes from the second, with its test.sh.
            var results = run.PublishAsync(plan, plan.Images, CancellationToken.None).GetAwaiter().GetResult().ToDictionary(r => r.Name);

            Assert.Equal("VerifyFailed", results["stale"].ErrorId);
            Assert.Equal(PublishStatus.HeldBack, results["fresh"].Status);
            Assert.Equal(new[] { "stale" }, results["fresh"].HeldBackBy);
            Assert.Empty(TagsOf($"{ns}/fresh"));
            Assert.Empty(TagsOf($"{ns}/stale"));
        }
    }
}
