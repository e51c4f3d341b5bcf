using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Publishing;
using ImageTools.Registry;
using ImageTools.Tests.Fakes;
using Xunit;

namespace ImageTools.Tests.Publishing
{
    /// <summary>
    /// The publisher's all-or-nothing rule on the in-memory engine and registry (uploads by digest, then
    /// every tag or none); the same against a real registry is in Integration/AtomicPublishTests.
    /// </summary>
    public class RegistryPublisherRuleTests
    {
        private sealed class Setup : IDisposable
        {
            public readonly TestTree Tree = new TestTree();
            public readonly FakeContainerEngine Engine = new FakeContainerEngine();
            public readonly InMemoryRegistry Registry = new InMemoryRegistry();
            public readonly List<ImageToPublish> Images = new List<ImageToPublish>();
            public readonly ImageGraph Graph;

            public Setup(params string[] names)
            {
                Tree.Write("imagetools.yaml", $"registry: {InMemoryRegistry.Address}\n");
                foreach (var name in names)
                    Tree.Image(name, "FROM scratch\n").Write(name + "/image.yaml", $"name: {name}\ntags: [stable]\n").Write(name + "/changelog", TestTree.Changelog(name, "1.0.0"));
                Graph = ImageGraph.Build(TreeScanner.Scan(Tree.Root));
                foreach (var node in Graph.Nodes) Images.Add(new ImageToPublish(node, Engine.Hold(node.Reference)));
            }

            public string IdOf(string name) => Images.Single(i => i.Node.Name == name).ImageId;

            public readonly List<string> Moves = new List<string>();

            public async Task<Dictionary<string, PublishResult>> PublishAsync(bool atomic = true, IEnumerable<ImageToPublish>? images = null,
                IEnumerable<UnpublishableImage>? unpublishable = null)
            {
                using var client = Registry.Client();
                var options = new RegistryPublishOptions
                {
                    Atomic = atomic, Retry = new RetryPolicy(2, TimeSpan.FromMilliseconds(1), jitter: 0),
                    Progress = new SyncProgress<string>(m => { lock (Moves) Moves.Add(m); }),
                };
                return (await new RegistryPublisher(Engine, client, options)
                    .PublishAsync(images ?? Images, unpublishable ?? Array.Empty<UnpublishableImage>(), CancellationToken.None)).ToDictionary(r => r.Name);
            }

            public bool TagWasPut(string repository) =>
                Registry.Requests.Any(r => r.StartsWith($"PUT /v2/{repository}/manifests/", StringComparison.Ordinal) && !r.Contains("sha256:"));

            public void Dispose() => Tree.Dispose();
        }

        [Fact]
        public async Task When_every_image_is_uploaded_every_tag_moves_to_it()
        {
            using var setup = new Setup("one", "two");

            var results = await setup.PublishAsync();

            Assert.All(results.Values, r => Assert.True(r.Status == PublishStatus.Pushed, $"{r.Name}: {r.Status} {r.Error}"));
            foreach (var name in new[] { "one", "two" })
                foreach (var tag in new[] { "1.0.0", "latest", "stable" })
                    Assert.Equal(setup.IdOf(name), setup.Registry.ImageAt(name, tag));
        }

        [Fact]
        public async Task One_failed_upload_holds_back_every_tag_of_an_atomic_run()
        {
            using var setup = new Setup("one", "two");
            setup.Registry.RefuseUploadsTo("two");

            var results = await setup.PublishAsync();

            Assert.Equal(PublishStatus.Failed, results["two"].Status);
            Assert.Equal(PublishStatus.HeldBack, results["one"].Status);
            Assert.Equal(new[] { "two" }, results["one"].HeldBackBy);
            // one went up by digest, and no tag of the run moved: not even its version tag.
            Assert.Contains(setup.Registry.Requests, r => r.StartsWith("PUT /v2/one/manifests/sha256:", StringComparison.Ordinal));
            Assert.False(setup.TagWasPut("one"));
            Assert.Null(setup.Registry.ImageAt("one", "1.0.0"));
            Assert.Null(setup.Registry.ImageAt("one", "latest"));
            // A refusal (403) is permanent: asked once.
            Assert.Equal(1, setup.Registry.Requests.Count(r => r == "POST /v2/two/blobs/uploads/"));
        }

        [Fact]
        public async Task A_failed_build_of_the_run_holds_back_every_tag_though_it_was_never_uploaded()
        {
            using var setup = new Setup("one", "two");
            var failed = setup.Graph.Nodes.Single(n => n.Name == "two");

            var results = await setup.PublishAsync(images: setup.Images.Where(i => i.Node.Name == "one"),
                unpublishable: new[] { new UnpublishableImage(failed, failed.Reference, "ImageNotBuilt", "two was failed, so it is not published.") });

            Assert.Equal(PublishStatus.HeldBack, results["one"].Status);
            Assert.Equal(new[] { "two" }, results["one"].HeldBackBy);
            Assert.Equal("ImageNotBuilt", results["two"].ErrorId);
            Assert.False(setup.TagWasPut("one"));
            Assert.Null(setup.Registry.ImageAt("one", "1.0.0"));
        }

        [Fact]
        public async Task Without_atomic_the_images_that_were_uploaded_get_their_tags()
        {
            using var setup = new Setup("one", "two");
            setup.Registry.RefuseUploadsTo("two");

            var results = await setup.PublishAsync(atomic: false);

            Assert.Equal(PublishStatus.Failed, results["two"].Status);
            Assert.Equal(PublishStatus.Pushed, results["one"].Status);
            Assert.Equal(setup.IdOf("one"), setup.Registry.ImageAt("one", "1.0.0"));
            Assert.Equal(setup.IdOf("one"), setup.Registry.ImageAt("one", "latest"));
            Assert.Null(setup.Registry.ImageAt("two", "latest"));
        }

        [Fact]
        public async Task A_nightly_image_moves_its_suffixed_tag_and_never_the_plain_version_tag()
        {
            using var setup = new Setup("one");
            // A tree that lists its version among the extra tags too: still not moved by a nightly image.
            setup.Tree.Write("one/image.yaml", "name: one\ntags: [stable, 1.0.0]\n");
            var node = ImageGraph.Build(TreeScanner.Scan(setup.Tree.Root)).Nodes.Single();
            var nightly = new ImageToPublish(node, setup.IdOf("one"), "1.0.0-20261122");
            await setup.Engine.TagAsync(nightly.ImageId, nightly.Reference, CancellationToken.None);

            var result = (await setup.PublishAsync(images: new[] { nightly })).Values.Single();

            Assert.True(result.Status == PublishStatus.Pushed, $"{result.Status}: {result.Error}");
            Assert.Equal(new[] { "1.0.0-20261122", "latest", "stable" }, result.Tags);
            Assert.Equal(setup.IdOf("one"), setup.Registry.ImageAt("one", "1.0.0-20261122"));
            Assert.Null(setup.Registry.ImageAt("one", "1.0.0"));
            Assert.DoesNotContain(setup.Registry.Requests, r => r == "PUT /v2/one/manifests/1.0.0");
        }

        [Fact]
        public async Task A_rerun_after_success_moves_nothing_again()
        {
            using var setup = new Setup("one");
            await setup.PublishAsync();
            var before = setup.Registry.Requests.Count(r => r.StartsWith("PUT ", StringComparison.Ordinal));

            var again = (await setup.PublishAsync()).Values.Single();

            Assert.Equal(PublishStatus.AlreadyPublished, again.Status);
            Assert.Equal(before, setup.Registry.Requests.Count(r => r.StartsWith("PUT ", StringComparison.Ordinal)));
        }

        [Fact]
        public async Task Images_built_in_this_run_are_published_without_asking_the_engine_its_version_again()
        {
            using var setup = new Setup("one", "two");
            var built = setup.Images.Select(i => new ImageToPublish(i.Node, i.ImageId, platform: new ImageTools.References.ImagePlatform("linux", "amd64"),
                engineVersion: "fake 1.0")).ToList();

            using var fromTheEngine = new Setup("three");

            var results = await setup.PublishAsync(images: built);
            var found = await fromTheEngine.PublishAsync();

            Assert.All(results.Values, r => Assert.Equal(PublishStatus.Pushed, r.Status));
            Assert.Equal(0, setup.Engine.CallCount("version"));
            // Images taken from the engine (Publish-Image on nodes) make it answer first, once.
            Assert.Equal(PublishStatus.Pushed, found["three"].Status);
            Assert.Equal(1, fromTheEngine.Engine.CallCount("version"));
        }

        private static string TagOf(string request) => request.Substring(request.LastIndexOf('/') + 1);

        [Fact]
        public async Task Every_version_tag_of_the_run_moves_before_any_floating_tag_and_each_move_is_reported()
        {
            using var setup = new Setup("one", "two");

            await setup.PublishAsync();

            var tagPuts = setup.Registry.Requests.Where(r => r.StartsWith("PUT /v2/", StringComparison.Ordinal) && r.Contains("/manifests/") && !r.Contains("sha256:")).ToList();
            // The two images are independent, so they move side by side; every version tag still comes first,
            // and each image's own tags in their order.
            Assert.Equal(new[] { "1.0.0", "1.0.0", "latest", "latest", "stable", "stable" }, tagPuts.Select(TagOf).OrderBy(t => t == "1.0.0" ? 0 : 1).ThenBy(t => t));
            Assert.Equal(new[] { "1.0.0", "1.0.0" }, tagPuts.Take(2).Select(TagOf));
            var moves = setup.Moves.Select(m => m.Split(' ')[1]).ToList();
            Assert.Equal(6, moves.Count);
            Assert.Equal(new[] { "one:1.0.0", "two:1.0.0" }, moves.Take(2).OrderBy(m => m, StringComparer.Ordinal));
            foreach (var name in new[] { "one", "two" })
                Assert.Equal(new[] { name + ":1.0.0", name + ":latest", name + ":stable" }, moves.Where(m => m.StartsWith(name + ":", StringComparison.Ordinal)));
            Assert.All(setup.Moves, m => Assert.Contains(" to sha256:", m));
        }

        [Fact]
        public async Task Tags_of_independent_images_move_in_parallel_up_to_the_throttle_but_never_before_their_parents_tags()
        {
            using var tree = new TestTree().Write("imagetools.yaml", $"registry: {InMemoryRegistry.Address}\n");
            tree.Image("base", "FROM scratch\n").Write("base/image.yaml", "name: base\ntags: [stable]\n").Write("base/changelog", TestTree.Changelog("base", "1.0.0"));
            tree.Image("child", "FROM base\n").Write("child/image.yaml", "name: child\ntags: [stable]\n").Write("child/changelog", TestTree.Changelog("child", "1.0.0"));
            tree.Image("grandchild", "FROM child\n").Write("grandchild/image.yaml", "name: grandchild\ntags: [stable]\n")
                .Write("grandchild/changelog", TestTree.Changelog("grandchild", "1.0.0"));
            var independent = Enumerable.Range(1, 6).Select(i => "solo" + i).ToArray();
            foreach (var name in independent)
                tree.Image(name, "FROM scratch\n").Write(name + "/image.yaml", $"name: {name}\ntags: [stable]\n").Write(name + "/changelog", TestTree.Changelog(name, "1.0.0"));
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var engine = new FakeContainerEngine();
            var registry = new InMemoryRegistry { TagPutDelay = TimeSpan.FromMilliseconds(60) };
            var images = graph.InBuildOrder(graph.Nodes).Select(node => new ImageToPublish(node, engine.Hold(node.Reference))).ToList();
            using var client = registry.Client();
            var options = new RegistryPublishOptions { ThrottleLimit = 4, Retry = new RetryPolicy(2, TimeSpan.FromMilliseconds(1), jitter: 0) };

            var results = await new RegistryPublisher(engine, client, options).PublishAsync(images, CancellationToken.None);

            Assert.All(results, r => Assert.True(r.Status == PublishStatus.Pushed, $"{r.Name}: {r.Status} {r.Error}"));
            Assert.InRange(registry.MaxTagPutsAtOnce, 2, 4);
            var log = registry.TagPutLog.ToList();
            int At(string entry) => log.IndexOf(entry) is var i && i >= 0 ? i : throw new Xunit.Sdk.XunitException($"no '{entry}' in {string.Join(", ", log)}");
            // Parents first, for every kind of tag.
            foreach (var tag in new[] { "1.0.0", "latest", "stable" })
            {
                Assert.True(At($"end base:{tag}") < At($"begin child:{tag}"), string.Join(", ", log));
                Assert.True(At($"end child:{tag}") < At($"begin grandchild:{tag}"), string.Join(", ", log));
            }
            // Every version tag of the (atomic) run before any floating tag; each image's own tags in order.
            var lastVersionEnd = log.FindLastIndex(e => e.StartsWith("end ", StringComparison.Ordinal) && e.EndsWith(":1.0.0", StringComparison.Ordinal));
            var firstFloatingBegin = log.FindIndex(e => e.StartsWith("begin ", StringComparison.Ordinal) && !e.EndsWith(":1.0.0", StringComparison.Ordinal));
            Assert.True(lastVersionEnd < firstFloatingBegin, string.Join(", ", log));
            foreach (var name in independent.Concat(new[] { "base", "child", "grandchild" }))
            {
                Assert.True(At($"end {name}:1.0.0") < At($"begin {name}:latest"));
                Assert.True(At($"end {name}:latest") < At($"begin {name}:stable"));
                foreach (var tag in new[] { "1.0.0", "latest", "stable" }) Assert.Equal(images.Single(i => i.Node.Name == name).ImageId, registry.ImageAt(name, tag));
            }
        }

        [Fact]
        public async Task A_version_tag_that_cannot_move_keeps_every_floating_tag_of_an_atomic_run_where_it_was_and_says_what_moved()
        {
            using var setup = new Setup("one", "two");
            setup.Registry.RefuseTag("two", "1.0.0");

            var results = await setup.PublishAsync();

            Assert.Equal(PublishStatus.Failed, results["two"].Status);
            Assert.Contains("No tag of it moved.", results["two"].Error);
            Assert.Equal(PublishStatus.Pushed, results["one"].Status);
            Assert.Equal(new[] { "1.0.0" }, results["one"].Tags);
            Assert.Contains("latest and the extra tags did not", results["one"].Error);
            Assert.Equal(setup.IdOf("one"), setup.Registry.ImageAt("one", "1.0.0"));
            Assert.Null(setup.Registry.ImageAt("one", "latest"));
            Assert.Null(setup.Registry.ImageAt("two", "latest"));

            // A rerun completes the run and uploads nothing again.
            setup.Registry.AcceptTag("two", "1.0.0");
            var uploads = setup.Registry.Requests.Count(r => r.StartsWith("POST ", StringComparison.Ordinal));
            var again = await setup.PublishAsync();
            Assert.Equal(PublishStatus.AlreadyPublished, again["one"].Status);
            Assert.Equal(PublishStatus.Pushed, again["two"].Status);
            foreach (var name in new[] { "one", "two" })
                foreach (var tag in new[] { "1.0.0", "latest", "stable" })
                    Assert.Equal(setup.IdOf(name), setup.Registry.ImageAt(name, tag));
            Assert.Equal(uploads, setup.Registry.Requests.Count(r => r.StartsWith("POST ", StringComparison.Ordinal)));
        }

        private static async Task<IReadOnlyList<PublishResult>> StageAsync(Setup setup)
        {
            using var client = setup.Registry.Client();
            return await new RegistryPublisher(setup.Engine, client, new RegistryPublishOptions { StageOnly = true })
                .PublishAsync(setup.Images, CancellationToken.None);
        }

        private static async Task<Dictionary<string, PublishResult>> PromoteAsync(Setup setup, IEnumerable<(ImageToPublish, string, ImageTools.References.ImagePlatform?)> images,
            params UnpublishableImage[] missing)
        {
            using var client = setup.Registry.Client();
            // The promote needs no engine: an empty one proves that nothing is asked of it.
            var engine = new FakeContainerEngine();
            var results = await new RegistryPublisher(engine, client, new RegistryPublishOptions()).PromoteAsync(images.ToList(), missing, CancellationToken.None);
            Assert.Empty(engine.Calls);
            return results.ToDictionary(r => r.Name);
        }

        [Fact]
        public async Task A_stage_uploads_by_digest_without_a_tag_and_the_promote_moves_every_tag_without_an_engine()
        {
            using var setup = new Setup("one", "two");

            var staged = await StageAsync(setup);
            Assert.All(staged, r => Assert.Equal(PublishStatus.Staged, r.Status));
            Assert.False(setup.TagWasPut("one") || setup.TagWasPut("two"));

            var promoted = await PromoteAsync(setup, setup.Images.Select(i => (i, staged.Single(r => r.Name == i.Node.Name).ManifestDigest!, (ImageTools.References.ImagePlatform?)null)));

            Assert.All(promoted.Values, r => Assert.Equal(PublishStatus.Pushed, r.Status));
            foreach (var name in new[] { "one", "two" })
                foreach (var tag in new[] { "1.0.0", "latest", "stable" })
                    Assert.Equal(setup.IdOf(name), setup.Registry.ImageAt(name, tag));
        }

        [Fact]
        public async Task A_promote_with_an_image_that_was_not_staged_or_is_gone_moves_no_tag()
        {
            using var setup = new Setup("one", "two", "three");
            var staged = await StageAsync(setup);
            var digestOf = staged.ToDictionary(r => r.Name, r => r.ManifestDigest!);
            var three = setup.Images.Single(i => i.Node.Name == "three");

            var gone = await PromoteAsync(setup, setup.Images.Select(i =>
                (i, i.Node.Name == "two" ? "sha256:" + new string('0', 64) : digestOf[i.Node.Name], (ImageTools.References.ImagePlatform?)null)));
            var unreported = await PromoteAsync(setup, setup.Images.Where(i => i != three).Select(i => (i, digestOf[i.Node.Name], (ImageTools.References.ImagePlatform?)null)),
                new UnpublishableImage(three.Node, three.Reference, "LegNotReported", "Leg w0_l2 left no record."));

            Assert.Equal(("StagedImageMissing", PublishStatus.HeldBack), (gone["two"].ErrorId, gone["one"].Status));
            Assert.Equal(new[] { "two" }, gone["one"].HeldBackBy);
            Assert.Equal((PublishStatus.Failed, "LegNotReported"), (unreported["three"].Status, unreported["three"].ErrorId));
            Assert.Equal(new[] { "three" }, unreported["two"].HeldBackBy);
            Assert.False(setup.TagWasPut("one") || setup.TagWasPut("two") || setup.TagWasPut("three"));
        }

        private sealed class SyncProgress<T> : IProgress<T>
        {
            private readonly Action<T> _report;
            public SyncProgress(Action<T> report) => _report = report;
            public void Report(T value) => _report(value);
        }
    }
}
