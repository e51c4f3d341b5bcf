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
    }
}
