using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Publishing;
using ImageTools.References;
using ImageTools.Registry;
using ImageTools.Tests.Fakes;
using Xunit;

namespace ImageTools.Tests.Publishing
{
    /// <summary>The publisher's two-phase rule on the in-memory engine and registry; the real ones are in Integration/RegistryPublisherTests.</summary>
    public class RegistryPublisherRuleTests
    {
        private sealed class Setup : IDisposable
        {
            public readonly TestTree Tree = new TestTree();
            public readonly FakeContainerEngine Engine = new FakeContainerEngine();
            public readonly InMemoryRegistry Registry = new InMemoryRegistry();
            public readonly List<ImageToPublish> Images = new List<ImageToPublish>();

            public Setup(params string[] names)
            {
                Tree.Write("imagetools.yaml", $"registry: {InMemoryRegistry.Address}\n");
                foreach (var name in names)
                    Tree.Image(name, "FROM scratch\n").Write(name + "/image.yaml", $"name: {name}\ntags: [stable]\n").Write(name + "/changelog", TestTree.Changelog(name, "1.0.0"));
                Engine.AfterPush = (reference, id) =>
                {
                    var parsed = ImageReference.Parse(reference).Normalize();
                    Registry.Store(parsed.Repository, parsed.Tag!, id);
                };
                var graph = ImageGraph.Build(TreeScanner.Scan(Tree.Root));
                foreach (var node in graph.Nodes) Images.Add(new ImageToPublish(node, Engine.Hold(node.Reference)));
            }

            public async Task<Dictionary<string, PublishResult>> PublishAsync(bool atomic = true)
            {
                using var client = Registry.Client();
                var options = new RegistryPublishOptions { Atomic = atomic, Retry = new RetryPolicy(2, TimeSpan.FromMilliseconds(1), jitter: 0) };
                return (await new RegistryPublisher(Engine, client, options).PublishAsync(Images, CancellationToken.None)).ToDictionary(r => r.Name);
            }

            public void Dispose() => Tree.Dispose();
        }

        [Fact]
        public async Task When_every_image_is_published_the_floating_tags_move_to_it()
        {
            using var setup = new Setup("one", "two");

            var results = await setup.PublishAsync();

            Assert.All(results.Values, r => Assert.Equal(PublishStatus.Pushed, r.Status));
            foreach (var image in setup.Images)
            {
                Assert.Equal(image.ImageId, setup.Registry.ImageAt(image.Node.Name, "1.0.0"));
                Assert.Equal(image.ImageId, setup.Registry.ImageAt(image.Node.Name, "latest"));
                Assert.Equal(image.ImageId, setup.Registry.ImageAt(image.Node.Name, "stable"));
            }
        }

        [Fact]
        public async Task One_failed_image_holds_back_every_floating_tag_of_an_atomic_publish()
        {
            using var setup = new Setup("one", "two");
            setup.Engine.FailPush(setup.Images.Single(i => i.Node.Name == "two").Reference, "denied: requested access to the resource is denied");

            var results = await setup.PublishAsync();

            Assert.Equal(PublishStatus.Failed, results["two"].Status);
            Assert.Equal(PublishStatus.Pushed, results["one"].Status);
            Assert.Contains("two failed (atomic publish)", results["one"].Error);
            Assert.Equal(setup.Images.Single(i => i.Node.Name == "one").ImageId, setup.Registry.ImageAt("one", "1.0.0"));
            Assert.Null(setup.Registry.ImageAt("one", "latest"));
            Assert.Null(setup.Registry.ImageAt("one", "stable"));
            Assert.DoesNotContain(setup.Registry.Requests, r => r.StartsWith("PUT ", StringComparison.Ordinal));
            // A permanent refusal is not asked again.
            Assert.Equal(1, setup.Engine.CallCount("push " + setup.Images.Single(i => i.Node.Name == "two").Reference));
        }

        [Fact]
        public async Task Without_atomic_the_images_that_were_published_get_their_floating_tags()
        {
            using var setup = new Setup("one", "two");
            setup.Engine.FailPush(setup.Images.Single(i => i.Node.Name == "two").Reference, "denied");

            var results = await setup.PublishAsync(atomic: false);

            Assert.Equal(PublishStatus.Failed, results["two"].Status);
            Assert.Equal(setup.Images.Single(i => i.Node.Name == "one").ImageId, setup.Registry.ImageAt("one", "latest"));
            Assert.Null(setup.Registry.ImageAt("two", "latest"));
        }

        [Fact]
        public async Task A_push_that_fails_once_is_tried_again()
        {
            using var setup = new Setup("one");
            var reference = setup.Images.Single().Reference;
            setup.Engine.FailPush(reference, "connection reset by peer", times: 1);

            var result = (await setup.PublishAsync()).Values.Single();

            Assert.Equal(PublishStatus.Pushed, result.Status);
            Assert.Equal(2, result.Attempts);
            Assert.Equal(2, setup.Engine.CallCount("push " + reference));
        }
    }
}
