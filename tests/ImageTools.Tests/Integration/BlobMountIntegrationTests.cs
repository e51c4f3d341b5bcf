using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Publishing;
using ImageTools.Registry;
using ImageTools.Tests.Registry;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>
    /// Cross-repository blob mounts against the real loopback registry (distribution 2.8): a child published
    /// after its parent uploads only its own layer and config, and mounts the layers its parent's repository holds.
    /// Uploads are counted at the HTTP handler, below the registry client.
    /// </summary>
    [Collection(DockerCollection.Name)]
    public class BlobMountIntegrationTests
    {
        /// <summary>A parent on busybox and a child on the parent, both built; the namespace is new to the registry.</summary>
        private static (string Ns, ImageToPublish Parent, ImageToPublish Child, TestTree Tree) BuildParentAndChild()
        {
            var ns = $"mnt{Guid.NewGuid():N}".Substring(0, 11);
            var tree = new TestTree()
                .Write("imagetools.yaml", $"registry: {DockerServices.RegistryAddress}\nnamespace: {ns}\n")
                .Image("parent", $"FROM busybox:1.36\nRUN echo parent-{ns} > /parent\n").Write("parent/image.yaml", "version: '1.0'\n")
                .Image("child", $"FROM parent\nRUN echo child-{ns} > /child\n").Write("child/image.yaml", "version: '2.0'\n");
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            Assert.Equal(new[] { "parent" }, graph["child"].Dependencies);
            var built = new ImageBuilder(DockerServices.Engine(), new BuildOptions { ThrottleLimit = 1 })
                .BuildAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult();
            Assert.All(built, r => Assert.True(r.Status == BuildStatus.Built, $"{r.Node.Name}: {r.Status} {r.Error}"));
            return (ns, new ImageToPublish(graph["parent"], built.Single(r => r.Node.Name == "parent").ImageId!),
                new ImageToPublish(graph["child"], built.Single(r => r.Node.Name == "child").ImageId!), tree);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_child_published_after_its_parent_uploads_only_its_new_layer_and_config()
        {
            var (ns, parent, child, tree) = BuildParentAndChild();
            using var _ = tree;

            var (parentResults, _) = Publish(parent);
            Assert.True(parentResults[0].Status == PublishStatus.Pushed, parentResults[0].Error);
            // A later run with a client that has seen nothing: what the parent's repository holds comes from its manifest.
            var (childResults, requests) = Publish(child);
            Assert.True(childResults[0].Status == PublishStatus.Pushed, childResults[0].Error);

            using var direct = new RegistryClient(DockerServices.RegistryAddress!);
            var parentManifest = direct.GetManifestAsync($"{ns}/parent", "1.0").GetAwaiter().GetResult()!;
            var childManifest = direct.GetManifestAsync($"{ns}/child", "2.0").GetAwaiter().GetResult()!;
            Assert.Equal(child.ImageId, childManifest.Config!.Digest);
            var shared = childManifest.Layers.Select(l => l.Digest).Intersect(parentManifest.Layers.Select(l => l.Digest)).ToList();
            var own = childManifest.Layers.Select(l => l.Digest).Except(shared).ToList();
            Assert.Equal(2, shared.Count);   // busybox's layer and the parent's RUN layer
            Assert.Single(own);              // the child's RUN layer

            var uploaded = requests.Where(r => r.StartsWith($"PUT /v2/{ns}/child/blobs/uploads/", StringComparison.Ordinal))
                .Select(r => Uri.UnescapeDataString(r.Substring(r.IndexOf("digest=", StringComparison.Ordinal) + 7))).ToList();
            Assert.Equal(own.Append(child.ImageId).OrderBy(d => d, StringComparer.Ordinal), uploaded.OrderBy(d => d, StringComparer.Ordinal));
            var mounts = requests.Where(r => r.StartsWith($"POST /v2/{ns}/child/blobs/uploads/?mount=", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, mounts.Count);
            Assert.All(mounts, m => Assert.Contains("from=" + Uri.EscapeDataString($"{ns}/parent"), m));
            foreach (var digest in shared)
                Assert.True(direct.BlobExistsAsync($"{ns}/child", digest).GetAwaiter().GetResult(), digest);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_parent_and_child_published_in_one_run_upload_each_blob_once()
        {
            var (ns, parent, child, tree) = BuildParentAndChild();
            using var _ = tree;

            var (results, requests) = Publish(parent, child);

            Assert.All(results, r => Assert.True(r.Status == PublishStatus.Pushed, $"{r.Name}: {r.Status} {r.Error}"));
            using var direct = new RegistryClient(DockerServices.RegistryAddress!);
            var parentManifest = direct.GetManifestAsync($"{ns}/parent", "1.0").GetAwaiter().GetResult()!;
            var childManifest = direct.GetManifestAsync($"{ns}/child", "2.0").GetAwaiter().GetResult()!;
            var blobs = parentManifest.Layers.Concat(childManifest.Layers).Select(l => l.Digest)
                .Append(parent.ImageId).Append(child.ImageId).Distinct().ToList();
            Assert.Equal(5, blobs.Count);   // busybox's layer, the parent's, the child's, and two configs
            var uploaded = requests.Where(r => r.StartsWith("PUT /v2/", StringComparison.Ordinal) && r.Contains("/blobs/uploads/", StringComparison.Ordinal))
                .Select(r => Uri.UnescapeDataString(r.Substring(r.IndexOf("digest=", StringComparison.Ordinal) + 7))).ToList();
            Assert.Equal(blobs.OrderBy(d => d, StringComparer.Ordinal), uploaded.OrderBy(d => d, StringComparer.Ordinal));
            // The two layers both images have went up once, into one repository, and were mounted into the other.
            Assert.Equal(2, requests.Count(r => r.StartsWith("POST /v2/", StringComparison.Ordinal) && r.Contains("?mount=", StringComparison.Ordinal)));
            foreach (var digest in parentManifest.Layers.Select(l => l.Digest))
                Assert.True(direct.BlobExistsAsync($"{ns}/child", digest).GetAwaiter().GetResult(), digest);
        }

        private static (IReadOnlyList<PublishResult> Results, List<string> Requests) Publish(params ImageToPublish[] images)
        {
            CountingHandler? counter = null;
            using var client = new RegistryClient(DockerServices.RegistryAddress!, new RegistryClientOptions
            {
                WrapHandler = inner => counter = new CountingHandler(inner),
            });
            var results = new RegistryPublisher(DockerServices.Engine(), client, new RegistryPublishOptions())
                .PublishAsync(images, CancellationToken.None).GetAwaiter().GetResult();
            return (results, counter!.Requests.ToList());
        }
    }
}
