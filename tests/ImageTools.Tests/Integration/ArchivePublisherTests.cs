using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Publishing;
using Xunit;

namespace ImageTools.Tests.Integration
{
    [Collection(DockerCollection.Name)]
    public class ArchivePublisherTests
    {
        /// <summary>A tiny image built for real; returns its node and image id.</summary>
        private static ImageToPublish BuildOne(TestTree tree, string name, string content)
        {
            tree.Image(name, $"FROM busybox:1.36\nRUN echo {content} > /content\n").Write($"{name}/image.yaml", $"name: {name}\nversion: '1.0'\n");
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var result = new ImageBuilder(DockerServices.Engine(), new BuildOptions())
                .BuildAsync(graph, new[] { graph[name] }, CancellationToken.None).GetAwaiter().GetResult().Single();
            Assert.Equal(BuildStatus.Built, result.Status);
            return new ImageToPublish(graph[name], result.ImageId!);
        }

        private static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N").Substring(0, 8);

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void An_archive_round_trips_through_docker_load_and_a_second_run_is_a_no_op()
        {
            using var tree = new TestTree();
            var name = Unique("arch");
            var image = BuildOne(tree, name, "round-trip");
            var archive = tree.PathOf("archive");
            var publisher = new ArchivePublisher(DockerServices.Engine(), archive);

            var first = publisher.PublishAsync(new[] { image }, CancellationToken.None).GetAwaiter().GetResult().Single();
            var written = File.GetLastWriteTimeUtc(first.Path!);
            var second = publisher.PublishAsync(new[] { image }, CancellationToken.None).GetAwaiter().GetResult().Single();

            Assert.Equal(PublishStatus.Archived, first.Status);
            Assert.Equal(PublishStatus.AlreadyPublished, second.Status);
            Assert.Equal(written, File.GetLastWriteTimeUtc(first.Path!));
            DockerServices.Docker("rmi", $"{name}:1.0");
            Assert.Contains($"{name}:1.0", DockerServices.Docker("load", "--input", first.Path!));
            Assert.Equal(image.ImageId, DockerServices.Docker("image", "inspect", "--format", "{{.Id}}", $"{name}:1.0").Trim());

            using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(archive, ArchivePublisher.IndexFileName)));
            var entry = index.RootElement.EnumerateArray().Single();
            Assert.Equal(name, entry.GetProperty("name").GetString());
            Assert.Equal("1.0", entry.GetProperty("tag").GetString());
            Assert.Equal(image.ImageId, entry.GetProperty("digest").GetString());
            Assert.Equal(new FileInfo(first.Path!).Length, entry.GetProperty("size").GetInt64());
            Assert.Single(ArchivePublisher.List(archive));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void An_interrupted_run_is_resumed_and_a_changed_image_is_archived_again()
        {
            using var tree = new TestTree();
            var name = Unique("resume");
            var image = BuildOne(tree, name, "one");
            var archive = tree.PathOf("archive");
            Directory.CreateDirectory(archive);
            // What a killed run leaves: a partial file and a tar without its record.
            File.WriteAllText(Path.Combine(archive, ArchiveEntry.FileNameFor(name, "1.0") + ".partial-dead"), "half");
            File.WriteAllText(Path.Combine(archive, ArchiveEntry.FileNameFor(name, "1.0")), "truncated");
            var publisher = new ArchivePublisher(DockerServices.Engine(), archive);

            var resumed = publisher.PublishAsync(new[] { image }, CancellationToken.None).GetAwaiter().GetResult().Single();
            var changed = BuildOne(tree, name, "two");
            var again = publisher.PublishAsync(new[] { changed }, CancellationToken.None).GetAwaiter().GetResult().Single();

            Assert.Equal(PublishStatus.Archived, resumed.Status);
            Assert.False(File.Exists(Path.Combine(archive, ArchiveEntry.FileNameFor(name, "1.0") + ".partial-dead")),
                "the partial file a killed run left is removed by the next run that holds the image's lock");
            Assert.Equal(PublishStatus.Archived, again.Status);
            Assert.Equal(changed.ImageId, ArchivePublisher.List(archive).Single().Digest);
            Assert.True(new FileInfo(again.Path!).Length > 1_000_000);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void Two_concurrent_runs_never_write_the_same_image_twice()
        {
            using var tree = new TestTree();
            var image = BuildOne(tree, Unique("conc"), "concurrent");
            var archive = tree.PathOf("archive");

            var runs = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
                new ArchivePublisher(DockerServices.Engine(), archive).PublishAsync(new[] { image }, CancellationToken.None))).ToArray();
            var statuses = runs.Select(r => r.GetAwaiter().GetResult().Single().Status).OrderBy(s => s).ToList();

            Assert.Equal(new[] { PublishStatus.AlreadyPublished, PublishStatus.Archived }, statuses);
            Assert.Empty(Directory.GetFiles(archive, "*.partial-*"));
        }

        /// <summary>keepdocker locks per image hash: one image under two names, archived by two runs at once, is written once.</summary>
        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void Two_concurrent_runs_archiving_one_image_under_two_names_write_it_once()
        {
            using var tree = new TestTree();
            var repository = Unique("twonames");
            var names = new[] { $"{repository}/a:1", $"{repository}/b:1" };
            foreach (var name in names) DockerServices.Docker("tag", "busybox:1.36", name);
            var archive = tree.PathOf("archive");
            try
            {
                var runs = names.Select(name => Task.Run(() =>
                    new ArchivePublisher(DockerServices.Engine(), archive).PublishReferencesAsync(new[] { name }, force: false, CancellationToken.None))).ToArray();
                Assert.All(runs.Select(r => r.GetAwaiter().GetResult().Single()), r => Assert.Equal(PublishStatus.Archived, r.Status));

                Assert.Single(Directory.GetFiles(archive, "*.tar"));
                Assert.Equal(names.OrderBy(n => n, StringComparer.Ordinal), ArchiveListing.Read(archive).Select(i => i.Reference).OrderBy(n => n, StringComparer.Ordinal));
                Assert.Empty(Directory.GetFiles(archive, "*.lock"));
            }
            finally
            {
                DockerServices.Run("docker", new[] { "rmi", names[0], names[1] }, null, check: false);
            }
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void An_image_whose_tag_moved_since_the_build_is_not_archived()
        {
            using var tree = new TestTree();
            var image = BuildOne(tree, Unique("moved"), "x");
            DockerServices.Docker("tag", "busybox:1.36", image.Node.Reference);

            var result = new ArchivePublisher(DockerServices.Engine(), tree.PathOf("archive"))
                .PublishAsync(new[] { image }, CancellationToken.None).GetAwaiter().GetResult().Single();

            Assert.Equal(PublishStatus.Failed, result.Status);
            Assert.Equal("ImageChanged", result.ErrorId);
            Assert.Empty(ArchivePublisher.List(tree.PathOf("archive")));
        }
    }
}
