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
        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_child_published_after_its_parent_uploads_only_its_new_layer_and_config()
        {
            var ns = $"mnt{Guid.NewGuid():N}".Substring(0, 11);
            using var tree = new TestTree()
                .Write("imagetools.yaml", $"registry: {DockerServices.RegistryAddress}\nnamespace: {ns}\n")
                .Image("parent", $"FROM busybox:1.36\nRUN echo parent-{ns} > /parent\n").Write("parent/image.yaml", "version: '1.0'\n")
                .Image("child", $"FROM parent\nRUN echo child-{ns} > /child\n").Write("child/image.yaml", "version: '2.0'\n");
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            Assert.Equal(new[] { "parent" }, graph["child"].Dependencies);
            var built = new ImageBuilder(DockerServices.Engine(), new BuildOptions { ThrottleLimit = 1 })
                .BuildAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult();
            Assert.All(built, r => Assert.True(r.Status == BuildStatus.Built, $"{r.Node.Name}: {r.Status} {r.Error}"));
            var parent = new ImageToPublish(graph["parent"], built.Single(r => r.Node.Name == "parent").ImageId!);
            var child = new ImageToPublish(graph["child"], built.Single(r => r.Node.Name == "child").ImageId!);

            var (parentResult, _) = Publish(parent);
            Assert.True(parentResult.Status == PublishStatus.Pushed, parentResult.Error);
            // A later run with a client that has seen nothing: what the parent's repository holds comes from its manifest.
            var (childResult, requests) = Publish(child);
            Assert.True(childResult.Status == PublishStatus.Pushed, childResult.Error);

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

        private static (PublishResult Result, List<string> Requests) Publish(ImageToPublish image)
        {
            CountingHandler? counter = null;
            using var client = new RegistryClient(DockerServices.RegistryAddress!, new RegistryClientOptions
            {
                WrapHandler = inner => counter = new CountingHandler(inner),
            });
            var result = new RegistryPublisher(DockerServices.Engine(), client, new RegistryPublishOptions())
                .PublishAsync(new[] { image }, CancellationToken.None).GetAwaiter().GetResult().Single();
            return (result, counter!.Requests.ToList());
        }
    }
}
