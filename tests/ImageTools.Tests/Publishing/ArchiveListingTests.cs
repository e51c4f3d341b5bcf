using System;
using System.Formats.Tar;
using System.IO;
using System.Linq;
using System.Text;
using ImageTools.Publishing;
using ImageTools.References;
using Xunit;

namespace ImageTools.Tests.Publishing
{
    /// <summary>Get-ImageArchive's listing: records written now and by older versions, and archives that are not there.</summary>
    public sealed class ArchiveListingTests
    {
        private static readonly byte[] Config = Encoding.UTF8.GetBytes("{\"created\":\"2025-03-04T05:06:07.123456789Z\",\"os\":\"linux\"}");
        private static readonly string ImageId = Digests.Sha256(Config);

        /// <summary>A docker save tar holding one image whose config is <see cref="Config"/>.</summary>
        private static void WriteSavedImage(string path)
        {
            using var file = File.Create(path);
            using var writer = new TarWriter(file, TarEntryFormat.Pax);
            void Add(string name, byte[] content) => writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
            var configName = ImageId.Substring("sha256:".Length) + ".json";
            Add(configName, Config);
            Add("manifest.json", Encoding.UTF8.GetBytes($"[{{\"Config\":\"{configName}\",\"RepoTags\":[\"web:1.0\"],\"Layers\":[]}}]"));
        }

        [Fact]
        public void Lists_each_entry_with_the_images_own_creation_time_even_from_a_record_that_predates_it()
        {
            using var tree = new TestTree();
            var archive = tree.PathOf("archive");
            Directory.CreateDirectory(archive);
            var tar = Path.Combine(archive, ArchiveEntry.FileNameFor("team/web", "1.0"));
            WriteSavedImage(tar);
            var archivedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
            // A record as versions before the image's creation time was kept wrote it: no imagecreated line.
            File.WriteAllText(tar + ArchiveEntry.RecordExtension,
                $"name=team/web\ntag=1.0\nreference=team/web:1.0\ndigest={ImageId}\ncreated=2026-01-02T03:04:05Z\nsize={new FileInfo(tar).Length}\nfile={Path.GetFileName(tar)}\n");
            // A tar without a record is an interrupted write and is not listed.
            File.WriteAllText(Path.Combine(archive, "half_1.0.tar"), "partial");

            var image = ArchiveListing.Read(archive).Single();

            Assert.Equal(("team/web", "1.0", "team/web:1.0", ImageId), (image.Repository, image.Tag, image.Reference, image.ImageId));
            Assert.Equal(new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.Zero).AddTicks(1234567), image.Created);
            Assert.Equal(archivedAt, image.ArchivedAt);
            Assert.Equal(new FileInfo(tar).Length, image.Size);
            Assert.Equal(tar, image.File);
        }

        [Fact]
        public void A_record_keeps_the_image_creation_time_and_reads_it_back()
        {
            var created = new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);
            var entry = new ArchiveEntry("web", "1.0", "web:1.0", ImageId, DateTimeOffset.UtcNow, 10, "web_1.0.tar", created);
            using var tree = new TestTree();
            var record = tree.PathOf("web_1.0.tar.entry");
            File.WriteAllText(record, entry.ToRecord());

            Assert.Equal(created, ArchiveEntry.FromRecord(record)!.ImageCreated);
            Assert.Equal("2025-03-04T05:06:07Z", entry.ToJson()["imageCreated"]!.AsString);
        }

        [Fact]
        public void A_missing_archive_is_an_error_naming_the_path()
        {
            using var tree = new TestTree();
            var missing = tree.PathOf("nowhere");

            var error = Assert.Throws<ImageToolsException>(() => ArchiveListing.Read(missing));

            Assert.Equal("ArchiveNotFound", error.ErrorId);
            Assert.Contains(missing, error.Message);
        }

        [Fact]
        public void A_directory_that_holds_no_archive_is_an_error_naming_the_path()
        {
            using var tree = new TestTree();
            tree.Write("not-an-archive/readme.txt", "hello");

            var error = Assert.Throws<ImageToolsException>(() => ArchiveListing.Read(tree.PathOf("not-an-archive")));

            Assert.Equal("ArchiveNotFound", error.ErrorId);
            Assert.Contains(tree.PathOf("not-an-archive"), error.Message);
        }
    }
}
