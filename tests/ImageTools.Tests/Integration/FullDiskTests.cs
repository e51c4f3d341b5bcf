using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using ImageTools.Building;
using ImageTools.Changelogs;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Publishing;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>A disk that really runs out (see <see cref="TinyDisk"/>): a clear error, and nothing lost.</summary>
    [Collection(DockerCollection.Name)]
    public class FullDiskTests
    {
        [Trait(TestCategory.Name, TestCategory.Integration)]
        [TinyDiskFact]
        public void A_changelog_update_on_a_full_disk_fails_clearly_and_changes_no_file()
        {
            using var disk = new TinyDisk(256);
            using var tree = new TestTree(disk.Root)
                .Image("base", "FROM busybox\n").Write("base/changelog", TestTree.Changelog("base", "1.0.0"))
                .Image("app", "FROM base\n").Write("app/changelog", TestTree.Changelog("app", "2.0"));
            var before = Directory.GetFiles(tree.Root, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllText);
            var plan = ChangelogUpdater.Plan(ImageGraph.Build(TreeScanner.Scan(tree.Root)),
                new ChangelogUpdateRequest(new[] { "base" }, "Rebuild for CVE-2026-0001", new ChangelogAuthor("Ops Person", "ops@example.org")));
            disk.Fill();

            var error = Assert.Throws<ImageToolsException>(() => ChangelogUpdater.Apply(plan.Updates));

            Assert.Equal("ChangelogWriteFailed", error.ErrorId);
            Assert.Contains("No space left on device", error.Message);
            Assert.Contains("Check free disk space", error.Message);
            Assert.StartsWith(tree.Root, error.FilePath);
            Assert.Equal(before, Directory.GetFiles(tree.Root, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllText));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_listing_that_cannot_be_rewritten_fails_no_image_and_says_so()
        {
            Assert.Null(TinyDisk.Unavailable);
            using var tree = new TestTree();
            var (graph, built) = BuildOne(tree, "lst");
            using var disk = new TinyDisk(8 * 1024);
            var archive = Path.Combine(disk.Root, "archive");
            var image = new ImageToPublish(graph.Nodes.Single(), built);
            Assert.Equal(PublishStatus.Archived, new ArchivePublisher(DockerServices.Engine(), archive)
                .PublishAsync(new[] { image }, CancellationToken.None).GetAwaiter().GetResult().Single().Status);
            var listing = File.ReadAllText(Path.Combine(archive, ArchivePublisher.IndexFileName));
            disk.Fill();

            var again = new ArchivePublisher(DockerServices.Engine(), archive).PublishAsync(new[] { image }, CancellationToken.None).GetAwaiter().GetResult().Single();

            Assert.Equal(PublishStatus.AlreadyPublished, again.Status);
            Assert.Contains("could not be rewritten", again.Error);
            Assert.Contains("Check free disk space", again.Error);
            Assert.Equal(listing, File.ReadAllText(Path.Combine(archive, ArchivePublisher.IndexFileName)));
        }

        private static (ImageGraph Graph, string ImageId) BuildOne(TestTree tree, string prefix)
        {
            var name = prefix + Guid.NewGuid().ToString("N").Substring(0, 8);
            tree.Image(name, $"FROM busybox:1.36\nRUN echo {name} > /content\n").Write($"{name}/image.yaml", $"name: {name}\nversion: '1.0'\n");
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var built = new ImageBuilder(DockerServices.Engine(), new BuildOptions())
                .BuildAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult().Single();
            Assert.Equal(BuildStatus.Built, built.Status);
            return (graph, built.ImageId!);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void Archiving_to_a_full_disk_fails_the_image_clearly_leaves_no_partial_file_and_keeps_the_listing()
        {
            Assert.Null(TinyDisk.Unavailable);
            using var tree = new TestTree();
            var (graph, built) = BuildOne(tree, "full");
            var image = new ImageToPublish(graph.Nodes.Single(), built);
            // Room for the listing, not for a 2 MB image.
            using var disk = new TinyDisk(512);
            var archive = Path.Combine(disk.Root, "archive");

            var result = new ArchivePublisher(DockerServices.Engine(), archive)
                .PublishAsync(new[] { image }, CancellationToken.None).GetAwaiter().GetResult().Single();

            Assert.Equal(PublishStatus.Failed, result.Status);
            Assert.Equal("ArchiveWriteFailed", result.ErrorId);
            Assert.Contains("no space left on device", result.Error, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("Check free disk space", result.Error);
            Assert.Equal(new[] { ArchivePublisher.IndexFileName }, Directory.GetFiles(archive).Select(Path.GetFileName));
            using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(archive, ArchivePublisher.IndexFileName)));
            Assert.Empty(index.RootElement.EnumerateArray());

            // Not even room for the listing: the image's result still says why, and the run does not throw.
            disk.Fill();
            var full = new ArchivePublisher(DockerServices.Engine(), archive)
                .PublishAsync(new[] { image }, CancellationToken.None).GetAwaiter().GetResult().Single();

            Assert.Equal(PublishStatus.Failed, full.Status);
            Assert.Equal("ArchiveWriteFailed", full.ErrorId);
            Assert.DoesNotContain(Directory.GetFiles(archive), f => f.Contains(".partial-") || f.Contains(".tmp-"));
            using var kept = JsonDocument.Parse(File.ReadAllText(Path.Combine(archive, ArchivePublisher.IndexFileName)));
            Assert.Empty(kept.RootElement.EnumerateArray());
        }
    }
}
