using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Planning;
using ImageTools.References;
using Xunit;

namespace ImageTools.Tests.Planning
{
    /// <summary>A no-op check costs about one round trip per image: an external base is asked once per run, not once per image.</summary>
    public class ExternalBaseLookupTests
    {
        private sealed class CountingSource : IPublishedImageSource
        {
            public ConcurrentDictionary<string, int> Calls { get; } = new ConcurrentDictionary<string, int>();
            public string Description => "the counting catalogue";
            public Task<PublishedImage?> FindAsync(ImageReference reference, ImagePlatform? platform, CancellationToken cancellationToken)
            {
                Calls.AddOrUpdate(reference.ToString(), 1, (_, n) => n + 1);
                return Task.FromResult<PublishedImage?>(new PublishedImage("sha256:" + reference.ToString().GetHashCode(), new Dictionary<string, string>()));
            }
        }

        [Fact]
        public async System.Threading.Tasks.Task Twenty_images_on_two_external_bases_ask_for_each_base_once()
        {
            using var tree = new TestTree();
            for (var i = 0; i < 20; i++)
                tree.Image($"img{i}", i % 2 == 0 ? "FROM busybox:1.36\n" : "FROM busybox:1.36 AS a\nFROM debian:bookworm\nCOPY --from=a /bin/sh /sh\n");
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var source = new CountingSource();

            await new RebuildPlanner(source, new BuildInputDigester(), new RebuildOptions())
                .PlanAsync(graph, graph.Nodes, CancellationToken.None);

            Assert.Equal(1, source.Calls["busybox:1.36"]);
            Assert.Equal(1, source.Calls["debian:bookworm"]);
            // Each image's own reference once, plus the two bases: one round trip per image and per base.
            Assert.Equal(22, source.Calls.Values.Sum());
        }
    }
}
