using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Engines;
using ImageTools.Graph;
using ImageTools.Provenance;
using ImageTools.References;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>
    /// Images with an image.yaml platform other than the host's, on the real daemon and registry.
    /// Every image here is FROM scratch with COPY only: a foreign-platform build that needs no emulator.
    /// </summary>
    [Collection(DockerCollection.Name)]
    public class PlatformBuildTests
    {
        private static readonly ImagePlatform Foreign = new ImagePlatform("linux", ImagePlatform.Host.Architecture == "s390x" ? "ppc64le" : "s390x");

        private static IReadOnlyList<BuildResult> Build(string root, BuildOptions? options = null)
        {
            var graph = ImageGraph.Build(TreeScanner.Scan(root));
            return new ImageBuilder(DockerServices.Engine(), options ?? new BuildOptions()).BuildAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult();
        }

        private static ImagePlatform PlatformOf(string image) =>
            DockerServices.Engine().InspectAsync(image, CancellationToken.None).GetAwaiter().GetResult()!.Platform!;

        /// <summary>
        /// Pushes a one-file image for the host and one for <see cref="Foreign"/>, and puts an index of
        /// both under <paramref name="reference"/>'s tag; returns each platform's image id.
        /// </summary>
        private static (string Host, string Foreign) PushTwoPlatformBase(string repository, string tag)
        {
            var engine = DockerServices.Engine();
            using var client = new RegistryClient(DockerServices.RegistryAddress!);
            var descriptors = new List<string>();
            var ids = new List<string>();
            foreach (var platform in new[] { ImagePlatform.Host, Foreign })
            {
                using var context = new TestTree().Write("which", platform + "\n").Write("Dockerfile", "FROM scratch\nCOPY which /which\n");
                var id = engine.BuildAsync(new BuildRequest("base", context.Root, "FROM scratch\nCOPY which /which\n") { Platforms = new[] { platform.ToString() } },
                    CancellationToken.None).GetAwaiter().GetResult();
                var single = $"{DockerServices.RegistryAddress}/{repository}:{platform.Architecture}";
                engine.TagAsync(id, single, CancellationToken.None).GetAwaiter().GetResult();
                engine.PushAsync(single, CancellationToken.None).GetAwaiter().GetResult();
                var manifest = client.HeadManifestAsync(repository, platform.Architecture).GetAwaiter().GetResult()!;
                descriptors.Add(new ManifestDescriptor(manifest.MediaType, manifest.Digest, manifest.Size, platform).ToJson().ToJson());
                ids.Add(id);
            }
            var index = System.Text.Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.DockerManifestList + "\",\"manifests\":[" +
                string.Join(",", descriptors) + "]}");
            client.PutManifestAsync(repository, tag, index, MediaTypes.DockerManifestList).GetAwaiter().GetResult();
            return (ids[0], ids[1]);
        }

        // The classic builder builds on a local copy of the base as it is, whatever --platform says: the
        // image would come out for the host, tagged and published as if it were for the other platform.
        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void An_image_for_another_platform_builds_on_its_external_bases_entry_for_that_platform()
        {
            var ns = $"xpl{Guid.NewGuid():N}".Substring(0, 11);
            var baseReference = $"{DockerServices.RegistryAddress}/{ns}/base:1";
            var (hostBase, foreignBase) = PushTwoPlatformBase($"{ns}/base", "1");
            DockerServices.Docker("pull", "--quiet", baseReference);
            Assert.Equal(hostBase, DockerServices.Engine().InspectAsync(baseReference, CancellationToken.None).GetAwaiter().GetResult()!.Id);
            using var tree = new TestTree()
                .Image("child", $"FROM {baseReference}\nCOPY child /child\n").Write("child/child", "child\n")
                .Write("child/image.yaml", $"name: {ns}-child\nplatforms: [{Foreign}]\n");

            var built = Build(tree.Root).Single();

            Assert.True(built.Status == BuildStatus.Built, $"{built.Status}: {built.Error}");
            Assert.Equal(Foreign.ToString(), PlatformOf(built.ImageId!).ToString());
            var labels = DockerServices.Engine().InspectAsync(built.ImageId!, CancellationToken.None).GetAwaiter().GetResult()!.Labels;
            // The recorded base digest is the foreign entry's, which is what the rebuild check compares with.
            Assert.Equal(foreignBase, labels[ImageLabels.BaseDigest]);

            // -Pull refreshes the base for the image's platform, not the host's.
            DockerServices.Docker("pull", "--quiet", baseReference);
            var rebuilt = Build(tree.Root, new BuildOptions { Pull = true }).Single();

            Assert.True(rebuilt.Status == BuildStatus.Built, $"{rebuilt.Status}: {rebuilt.Error}");
            Assert.Equal(Foreign.ToString(), PlatformOf(rebuilt.ImageId!).ToString());
            Assert.Equal(Foreign.ToString(), PlatformOf(baseReference).ToString());
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void An_image_whose_platform_its_in_tree_parent_does_not_have_fails_and_moves_no_tag()
        {
            var ns = $"xpm{Guid.NewGuid():N}".Substring(0, 11);
            using var tree = new TestTree()
                .Image("parent", "FROM scratch\nCOPY id /id\n").Write("parent/id", "parent\n").Write("parent/image.yaml", $"name: {ns}-parent\n")
                .Image("child", $"FROM {ns}-parent\nCOPY id /child\n").Write("child/id", "child\n")
                .Write("child/image.yaml", $"name: {ns}-child\nplatforms: [{Foreign}]\n");

            var results = Build(tree.Root).ToDictionary(r => r.Name);

            Assert.Equal(BuildStatus.Built, results[$"{ns}-parent"].Status);
            var child = results[$"{ns}-child"];
            Assert.Equal(BuildStatus.Failed, child.Status);
            Assert.Equal("PlatformMismatch", child.ErrorId);
            Assert.Contains($"for {ImagePlatform.Host}, but {Path.Combine(tree.Root, "child", "image.yaml")} asks for {Foreign}", child.Error);
            Assert.Contains($"It builds on {ns}-parent ({ImagePlatform.Host})", child.Error);
            Assert.Null(DockerServices.Engine().InspectAsync($"{ns}-child:latest", CancellationToken.None).GetAwaiter().GetResult());
        }
    }
}
