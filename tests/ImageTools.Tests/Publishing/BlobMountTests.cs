using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Publishing;
using ImageTools.Tests.Fakes;
using Xunit;

namespace ImageTools.Tests.Publishing
{
    /// <summary>
    /// Cross-repository blob mounts on the in-memory engine and registry: a child's layers that its parent's
    /// repository already holds are mounted, not uploaded again; a registry that will not mount gets uploads.
    /// The same against the real registry is in Integration/BlobMountIntegrationTests.
    /// </summary>
    public class BlobMountTests : IDisposable
    {
        private readonly TestTree _tree = new TestTree();
        private readonly FakeContainerEngine _engine = new FakeContainerEngine();
        private readonly InMemoryRegistry _registry = new InMemoryRegistry();
        private readonly ImageGraph _graph;
        private readonly ImageToPublish _parent;
        private readonly ImageToPublish _child;

        public BlobMountTests()
        {
            _tree.Write("imagetools.yaml", $"registry: {InMemoryRegistry.Address}\n")
                .Image("parent", "FROM scratch\n").Write("parent/changelog", TestTree.Changelog("parent", "1.0.0"))
                .Image("child", "FROM parent\n").Write("child/changelog", TestTree.Changelog("child", "2.0.0"));
            _graph = ImageGraph.Build(TreeScanner.Scan(_tree.Root));
            Assert.Equal(new[] { "parent" }, _graph["child"].Dependencies);
            _parent = new ImageToPublish(_graph["parent"], _engine.Hold(_graph["parent"].Reference, "base layer", "parent layer"));
            _child = new ImageToPublish(_graph["child"], _engine.Hold(_graph["child"].Reference, "base layer", "parent layer", "child layer"));
        }

        public void Dispose() => _tree.Dispose();

        private async Task<Dictionary<string, PublishResult>> PublishAsync(params ImageToPublish[] images)
        {
            using var client = _registry.Client();
            return (await new RegistryPublisher(_engine, client, new RegistryPublishOptions())
                .PublishAsync(images, CancellationToken.None)).ToDictionary(r => r.Name);
        }

        private static string DigestOf(string upload) => upload.Substring(upload.IndexOf('@') + 1).Split(' ')[0];

        [Fact]
        public async Task In_one_run_each_shared_layer_is_uploaded_once_and_mounted_into_the_other_repository()
        {
            var results = await PublishAsync(_parent, _child);

            Assert.All(results.Values, r => Assert.True(r.Status == PublishStatus.Pushed, $"{r.Name}: {r.Status} {r.Error}"));
            // Three distinct layers and two configs: five uploads; the two shared layers are mounted once each.
            Assert.Equal(5, _registry.BlobUploads.Count);
            Assert.Equal(5, _registry.BlobUploads.Select(DigestOf).Distinct().Count());
            Assert.Equal(2, _registry.Mounts.Count);
            Assert.All(_registry.Mounts, m => Assert.True(m.StartsWith("child@", StringComparison.Ordinal) ? m.EndsWith(" from parent", StringComparison.Ordinal)
                : m.StartsWith("parent@", StringComparison.Ordinal) && m.EndsWith(" from child", StringComparison.Ordinal), m));
            foreach (var mount in _registry.Mounts)
            {
                Assert.True(_registry.Holds("parent", DigestOf(mount)), mount);
                Assert.True(_registry.Holds("child", DigestOf(mount)), mount);
            }
            Assert.Equal(_child.ImageId, _registry.ImageAt("child", "2.0.0"));
        }

        [Fact]
        public async Task A_child_published_after_its_parent_uploads_only_its_own_layer_and_config()
        {
            var first = await PublishAsync(_parent);
            Assert.Equal(PublishStatus.Pushed, first["parent"].Status);
            var uploadsBefore = _registry.BlobUploads.Count;
            Assert.Equal(3, uploadsBefore);

            // A later run, with a new client that has seen nothing: the parent's manifest says what its repository holds.
            var second = await PublishAsync(_child);

            Assert.True(second["child"].Status == PublishStatus.Pushed, second["child"].Error);
            var uploaded = _registry.BlobUploads.Skip(uploadsBefore).ToList();
            Assert.Equal(2, uploaded.Count);
            Assert.Contains($"child@{_child.ImageId}", uploaded);
            Assert.Equal(2, _registry.Mounts.Count);
            Assert.All(_registry.Mounts, m => Assert.EndsWith(" from parent", m));
            Assert.DoesNotContain(uploaded, u => _registry.Mounts.Any(m => DigestOf(m) == DigestOf(u)));
            Assert.Equal(_child.ImageId, _registry.ImageAt("child", "2.0.0"));
        }

        [Fact]
        public async Task A_registry_that_answers_a_mount_with_202_gets_a_normal_upload()
        {
            _registry.RefuseMounts();
            await PublishAsync(_parent);

            var results = await PublishAsync(_child);

            Assert.True(results["child"].Status == PublishStatus.Pushed, results["child"].Error);
            Assert.Empty(_registry.Mounts);
            // Parent: 2 layers + config; child: 3 layers + config, every one uploaded.
            Assert.Equal(7, _registry.BlobUploads.Count);
            Assert.Equal(4, _registry.BlobUploads.Count(u => u.StartsWith("child@", StringComparison.Ordinal)));
            // The upload sessions the refused mounts opened were cancelled, not left behind.
            Assert.Equal(2, _registry.Requests.Count(r => r.StartsWith("DELETE /v2/child/blobs/uploads/", StringComparison.Ordinal)));
            Assert.Equal(_child.ImageId, _registry.ImageAt("child", "2.0.0"));
        }

        [Fact]
        public async Task A_mount_denied_for_its_source_repository_falls_back_to_an_upload()
        {
            await PublishAsync(_parent);
            _registry.DenyMountsFrom("parent");

            var results = await PublishAsync(_child);

            Assert.True(results["child"].Status == PublishStatus.Pushed, results["child"].Error);
            Assert.Empty(_registry.Mounts);
            // Two mounts tried and denied, then four uploads started (the request log holds paths, not queries).
            Assert.Equal(6, _registry.Requests.Count(r => r == "POST /v2/child/blobs/uploads/"));
            Assert.Equal(4, _registry.BlobUploads.Count(u => u.StartsWith("child@", StringComparison.Ordinal)));
            Assert.Equal(_child.ImageId, _registry.ImageAt("child", "2.0.0"));
        }

        [Fact]
        public async Task Images_without_a_parent_in_the_tree_upload_as_before()
        {
            var results = await PublishAsync(_parent);

            Assert.Equal(PublishStatus.Pushed, results["parent"].Status);
            Assert.Empty(_registry.Mounts);
            Assert.Equal(3, _registry.BlobUploads.Count);
        }
    }
}
