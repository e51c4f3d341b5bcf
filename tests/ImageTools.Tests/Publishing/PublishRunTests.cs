using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Publishing;
using ImageTools.Tests.Fakes;
using Xunit;

namespace ImageTools.Tests.Publishing
{
    /// <summary>
    /// A Publish-Image run on the in-memory engine and registry: what a build's results become, and the
    /// verification of up-to-date images taken from the local engine before any tag moves.
    /// </summary>
    public class PublishRunTests
    {
        private sealed class Setup : IDisposable
        {
            public readonly TestTree Tree = new TestTree();
            public readonly FakeContainerEngine Engine = new FakeContainerEngine();
            public readonly InMemoryRegistry Registry = new InMemoryRegistry();
            public ImageGraph Graph = null!;

            public Setup(params string[] names)
            {
                Tree.Write("imagetools.yaml", $"registry: {InMemoryRegistry.Address}\n");
                foreach (var name in names)
                    Tree.Image(name, "FROM scratch\n").Write(name + "/image.yaml", $"name: {name}\n").Write(name + "/changelog", TestTree.Changelog(name, "1.0.0"));
                Graph = ImageGraph.Build(TreeScanner.Scan(Tree.Root));
            }

            public ImageNode this[string name] => Graph[name];

            public void TestScript(string image, string body)
            {
                Tree.Write(image + "/test.sh", "#!/bin/sh\n" + body);
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Tree.PathOf(image + "/test.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                Graph = ImageGraph.Build(TreeScanner.Scan(Tree.Root));
            }

            /// <summary>A result as Invoke-ImageBuild leaves it: built (and verified by the build) and tagged.</summary>
            public BuildResult Built(string name) => new BuildResult(this[name], BuildStatus.Built) { ImageId = Engine.Hold(this[name].Reference) };

            /// <summary>Up to date: the local engine holds it, nothing in this run built or verified it.</summary>
            public BuildResult UpToDate(string name)
            {
                Engine.Hold(this[name].Reference);
                return BuildResult.UpToDate(this[name]);
            }

            public async Task<Dictionary<string, PublishResult>> PublishAsync(IEnumerable<BuildResult> results, bool atomic = true)
            {
                var run = new PublishRun(Engine, new PublishRunOptions { Atomic = atomic, MaximumRetryCount = 0, WrapHandler = _ => Registry });
                var plan = await run.PrepareAsync(results, Array.Empty<ImageNode>(), CancellationToken.None);
                return (await run.PublishAsync(plan, plan.Images, CancellationToken.None)).ToDictionary(r => r.Name);
            }

            public bool AnyTagPut => Registry.Requests.Any(r => r.StartsWith("PUT /v2/", StringComparison.Ordinal) && r.Contains("/manifests/") && !r.Contains("sha256:"));

            public void Dispose() => Tree.Dispose();
        }

        [UnixFact]
        public async Task An_up_to_date_image_from_the_local_engine_is_verified_before_its_tags_move()
        {
            using var setup = new Setup("one");
            setup.TestScript("one", "touch \"$(dirname \"$0\")/verified-$1\"\n");

            var result = (await setup.PublishAsync(new[] { setup.UpToDate("one") })).Values.Single();

            Assert.True(result.Status == PublishStatus.Pushed, $"{result.Status}: {result.Error}");
            Assert.True(File.Exists(setup.Tree.PathOf("one/verified-" + result.Digest)), "test.sh did not run on the published image");
            Assert.Equal(result.Digest, setup.Registry.ImageAt("one", "1.0.0"));
        }

        [UnixFact]
        public async Task A_built_image_is_not_verified_again()
        {
            using var setup = new Setup("one");
            setup.TestScript("one", "touch \"$(dirname \"$0\")/verified-$1\"\n");

            var result = (await setup.PublishAsync(new[] { setup.Built("one") })).Values.Single();

            Assert.Equal(PublishStatus.Pushed, result.Status);
            Assert.Empty(Directory.GetFiles(setup.Tree.PathOf("one"), "verified-*"));
        }

        [UnixFact]
        public async Task A_failed_verification_of_an_up_to_date_image_holds_back_every_tag_of_the_run()
        {
            using var setup = new Setup("good", "stale");
            setup.TestScript("stale", "echo 'the image does not work' >&2\nexit 4\n");

            var results = await setup.PublishAsync(new[] { setup.Built("good"), setup.UpToDate("stale") });

            Assert.Equal(PublishStatus.Failed, results["stale"].Status);
            Assert.Equal("VerifyFailed", results["stale"].ErrorId);
            Assert.Contains("the image does not work", results["stale"].Error);
            Assert.Equal(PublishStatus.HeldBack, results["good"].Status);
            Assert.Equal(new[] { "stale" }, results["good"].HeldBackBy);
            Assert.False(setup.AnyTagPut);
            // The image that failed was not even uploaded.
            Assert.DoesNotContain(setup.Registry.Requests, r => r.StartsWith("PUT /v2/stale/", StringComparison.Ordinal));
        }

        [UnixFact]
        public async Task Without_atomic_a_failed_verification_keeps_only_that_image_back()
        {
            using var setup = new Setup("good", "stale");
            setup.TestScript("stale", "exit 1\n");

            var results = await setup.PublishAsync(new[] { setup.Built("good"), setup.UpToDate("stale") }, atomic: false);

            Assert.Equal("VerifyFailed", results["stale"].ErrorId);
            Assert.Equal(PublishStatus.Pushed, results["good"].Status);
            Assert.NotNull(setup.Registry.ImageAt("good", "1.0.0"));
            Assert.Null(setup.Registry.ImageAt("stale", "1.0.0"));
        }

        [Fact]
        public async Task Failed_and_skipped_results_and_images_missing_locally_cannot_be_published()
        {
            using var setup = new Setup("one", "two", "three");
            var failed = new BuildResult(setup["one"], BuildStatus.Failed) { Error = "boom" };
            var run = new PublishRun(setup.Engine, new PublishRunOptions { WrapHandler = _ => setup.Registry });

            var plan = await run.PrepareAsync(new[] { failed, BuildResult.UpToDate(setup["two"]) }, new[] { setup["three"] }, CancellationToken.None);

            Assert.Empty(plan.Images);
            Assert.Equal(new[] { "one", "two", "three" }, plan.Unpublishable.Select(u => u.Node.Name));
            Assert.All(plan.Unpublishable, u => Assert.Equal("ImageNotBuilt", u.ErrorId));
            Assert.Contains("boom", plan.Unpublishable[0].Reason);
        }

        [Fact]
        public async Task A_tree_without_a_registry_is_refused_before_anything_is_published()
        {
            using var tree = new TestTree().Image("one", "FROM scratch\n");
            var node = ImageGraph.Build(TreeScanner.Scan(tree.Root)).Nodes.Single();
            var engine = new FakeContainerEngine();
            engine.Hold(node.Reference);

            var error = await Assert.ThrowsAsync<ImageToolsException>(() => new PublishRun(engine, new PublishRunOptions())
                .PrepareAsync(Array.Empty<BuildResult>(), new[] { node }, CancellationToken.None));

            Assert.Equal("NoRegistry", error.ErrorId);
        }

        private static async Task<List<PublishResult>> PublishToExtraRepositoriesAsync(Setup setup, params string[] names)
        {
            setup.Tree.Write("imagetools.yaml", $"registry: {InMemoryRegistry.Address}\nextra_repositories: [mirror.example.org/copies, '{InMemoryRegistry.Address}/second']\n");
            setup.Graph = ImageGraph.Build(TreeScanner.Scan(setup.Tree.Root));
            var run = new PublishRun(setup.Engine, new PublishRunOptions { MaximumRetryCount = 0, WrapHandler = _ => setup.Registry });
            var plan = await run.PrepareAsync(names.Select(setup.Built).ToList(), Array.Empty<ImageNode>(), CancellationToken.None);
            return (await run.PublishAsync(plan, plan.Images, CancellationToken.None)).ToList();
        }

        [Fact]
        public async Task Extra_repositories_get_the_same_digests_and_tags_in_the_same_run()
        {
            using var setup = new Setup("one", "two");

            var results = await PublishToExtraRepositoriesAsync(setup, "one", "two");

            Assert.Equal(6, results.Count);
            Assert.All(results, r => Assert.True(r.Status == PublishStatus.Pushed, $"{r.Reference}: {r.Status} {r.Error}"));
            foreach (var name in new[] { "one", "two" })
                foreach (var repository in new[] { name, "copies/" + name, "second/" + name })
                    foreach (var tag in new[] { "1.0.0", "latest" })
                        Assert.Equal(setup.Registry.ImageAt(name, "1.0.0"), setup.Registry.ImageAt(repository, tag));
            Assert.Contains(results, r => r.Reference == "mirror.example.org/copies/two:1.0.0");
        }

        [Fact]
        public async Task An_upload_refused_by_one_extra_repository_holds_back_every_tag_everywhere()
        {
            using var setup = new Setup("one", "two");
            setup.Registry.RefuseUploadsTo("copies/two");

            var results = await PublishToExtraRepositoriesAsync(setup, "one", "two");

            var failed = Assert.Single(results, r => r.Status == PublishStatus.Failed);
            Assert.Equal("mirror.example.org/copies/two:1.0.0", failed.Reference);
            Assert.All(results.Where(r => r != failed), r => Assert.Equal(PublishStatus.HeldBack, r.Status));
            Assert.False(setup.AnyTagPut);
        }
    }
}
