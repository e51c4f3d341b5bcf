using System;
using System.IO;
using System.Linq;
using System.Threading;
using ImageTools.Publishing;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>Publish-Image -ArchivePath -Reference (keepdocker): any local image, stored once per image id, -Force writes again.</summary>
    [Collection(DockerCollection.Name)]
    public class ArchiveReferenceTests
    {
        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void Local_images_are_archived_by_reference_and_an_image_under_two_names_is_stored_once()
        {
            using var tree = new TestTree();
            var repository = "keep" + Guid.NewGuid().ToString("N").Substring(0, 8);
            var (first, second) = ($"{repository}:one", $"{repository}/copy:two");
            DockerServices.Docker("tag", "busybox:1.36", first);
            DockerServices.Docker("tag", "busybox:1.36", second);
            var busybox = DockerServices.Docker("image", "inspect", "--format", "{{.Id}}", "busybox:1.36").Trim();
            var archive = tree.PathOf("archive");
            var publisher = new ArchivePublisher(DockerServices.Engine(), archive);
            try
            {
                var archived = publisher.PublishReferencesAsync(new[] { first, second, $"{repository}:missing" }, force: false, CancellationToken.None).GetAwaiter().GetResult();
                var again = publisher.PublishReferencesAsync(new[] { first, second }, force: false, CancellationToken.None).GetAwaiter().GetResult();

                Assert.Equal(new[] { PublishStatus.Archived, PublishStatus.Archived, PublishStatus.Failed }, archived.Select(r => r.Status));
                Assert.Equal("ImageNotFound", archived[2].ErrorId);
                Assert.All(archived.Take(2), r => Assert.Equal(busybox, r.Digest));
                Assert.Single(Directory.GetFiles(archive, "*.tar"));
                Assert.Equal(new[] { PublishStatus.AlreadyPublished, PublishStatus.AlreadyPublished }, again.Select(r => r.Status));
                var listed = ArchiveListing.Read(archive);
                Assert.Equal(new[] { first, second }.OrderBy(r => r, StringComparer.Ordinal), listed.Select(i => i.Reference).OrderBy(r => r, StringComparer.Ordinal));
                Assert.Single(listed.Select(i => i.File).Distinct());
                Assert.All(listed, i => Assert.NotNull(i.Created));

                var forced = publisher.PublishReferencesAsync(new[] { second }, force: true, CancellationToken.None).GetAwaiter().GetResult().Single();

                Assert.Equal(PublishStatus.Archived, forced.Status);
                Assert.Equal(2, Directory.GetFiles(archive, "*.tar").Length);
                DockerServices.Docker("rmi", second);
                Assert.Contains(second, DockerServices.Docker("load", "--input", forced.Path!));
            }
            finally
            {
                DockerServices.Run("docker", new[] { "rmi", first, second }, null, check: false);
            }
        }

        /// <summary>
        /// A name whose image was stored once under another name's tar keeps it when that other name is archived again with a
        /// different image: the old tar moves to it first. A killed run's partial tar is cleared by the next write of that image.
        /// </summary>
        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void Archiving_a_name_anew_keeps_the_image_of_the_names_deduplicated_onto_its_tar()
        {
            using var tree = new TestTree().Write("other/Dockerfile", "FROM busybox:1.36\nRUN echo other > /other\n");
            var repository = "hand" + Guid.NewGuid().ToString("N").Substring(0, 8);
            var (owner, dependent) = ($"{repository}/a:1", $"{repository}/b:1");
            DockerServices.Docker("tag", "busybox:1.36", owner);
            DockerServices.Docker("tag", "busybox:1.36", dependent);
            var busybox = DockerServices.Docker("image", "inspect", "--format", "{{.Id}}", "busybox:1.36").Trim();
            var archive = tree.PathOf("archive");
            var publisher = new ArchivePublisher(DockerServices.Engine(), archive);
            try
            {
                publisher.PublishReferencesAsync(new[] { owner, dependent }, force: false, CancellationToken.None).GetAwaiter().GetResult();
                Assert.Single(Directory.GetFiles(archive, "*.tar"));
                DockerServices.Docker("build", "--quiet", "-t", owner, tree.PathOf("other"));
                var otherId = DockerServices.Docker("image", "inspect", "--format", "{{.Id}}", owner).Trim();
                // What a killed run leaves: a partial tar beside the owner's.
                var ownerTar = Path.Combine(archive, ArchiveEntry.FileNameFor($"{repository}/a", "1"));
                File.WriteAllText(ownerTar + ".partial-deadbeef", "half");

                var again = publisher.PublishReferencesAsync(new[] { owner }, force: false, CancellationToken.None).GetAwaiter().GetResult().Single();

                Assert.Equal((PublishStatus.Archived, otherId), (again.Status, again.Digest));
                var listed = ArchiveListing.Read(archive).ToDictionary(i => i.Reference, StringComparer.Ordinal);
                Assert.Equal(otherId, listed[owner].ImageId);
                Assert.Equal(busybox, listed[dependent].ImageId);
                Assert.NotEqual(listed[owner].File, listed[dependent].File);
                Assert.Equal(2, Directory.GetFiles(archive, "*.tar").Length);
                Assert.Empty(Directory.GetFiles(archive, "*.partial-*"));
                // The tar is the one saved under the owner's name (stored once): loading it brings back busybox under that name.
                DockerServices.Docker("load", "--input", listed[dependent].File);
                Assert.Equal(busybox, DockerServices.Docker("image", "inspect", "--format", "{{.Id}}", owner).Trim());
            }
            finally
            {
                DockerServices.Run("docker", new[] { "rmi", owner, dependent }, null, check: false);
            }
        }
    }
}
