using System;
using System.Formats.Tar;
using System.IO;
using System.Linq;
using System.Text;
using ImageTools.Formats;
using ImageTools.References;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Publishing
{
    /// <summary>Reading docker save tars in place, in the header formats Go's archive/tar and others write.</summary>
    public sealed class SavedImageArchiveTests : IDisposable
    {
        private readonly string _path = Path.Combine(Path.GetTempPath(), "imagetools-saved-" + Guid.NewGuid().ToString("N") + ".tar");
        private static readonly byte[] Config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\"}");
        private static readonly string ConfigHex = Digests.Sha256(Config).Substring("sha256:".Length);

        public void Dispose()
        {
            if (File.Exists(_path)) File.Delete(_path);
        }

        private void WriteTar(TarEntryFormat format, Action<TarWriter> entries)
        {
            using var file = File.Create(_path);
            using var writer = new TarWriter(file, format);
            entries(writer);
        }

        private static void AddFile(TarWriter writer, TarEntryFormat format, string name, byte[] content)
        {
            TarEntry entry = format switch
            {
                TarEntryFormat.Pax => new PaxTarEntry(TarEntryType.RegularFile, name),
                TarEntryFormat.Gnu => new GnuTarEntry(TarEntryType.RegularFile, name),
                _ => new UstarTarEntry(TarEntryType.RegularFile, name),
            };
            entry.DataStream = new MemoryStream(content);
            writer.WriteEntry(entry);
        }

        private static void AddLink(TarWriter writer, TarEntryFormat format, TarEntryType type, string name, string target)
        {
            TarEntry entry = format == TarEntryFormat.Pax ? new PaxTarEntry(type, name) : format == TarEntryFormat.Gnu ? new GnuTarEntry(type, name) : new UstarTarEntry(type, name);
            entry.LinkName = target;
            writer.WriteEntry(entry);
        }

        private static byte[] Manifest(params string[] layers) => Encoding.UTF8.GetBytes(
            $"[{{\"Config\":\"{ConfigHex}.json\",\"RepoTags\":[\"x:1\"],\"Layers\":[{string.Join(",", layers.Select(l => $"\"{l}\""))}]}}]");

        [Theory]
        [InlineData(TarEntryFormat.Pax)]
        [InlineData(TarEntryFormat.Gnu)]
        [InlineData(TarEntryFormat.Ustar)]
        public void Finds_the_image_by_config_digest_and_reads_layers_through_links(TarEntryFormat format)
        {
            WriteTar(format, w =>
            {
                AddFile(w, format, "aaa/layer.tar", Encoding.UTF8.GetBytes("first layer"));
                // docker save stores a layer two images share once and links the other path to it.
                AddLink(w, format, TarEntryType.SymbolicLink, "bbb/layer.tar", "../aaa/layer.tar");
                AddLink(w, format, TarEntryType.HardLink, "ccc/layer.tar", "aaa/layer.tar");
                AddFile(w, format, ConfigHex + ".json", Config);
                AddFile(w, format, "manifest.json", Manifest("aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar"));
            });

            var archive = SavedImageArchive.Open(_path);
            var image = archive.FindImage(Digests.Sha256(Config));

            Assert.NotNull(image);
            Assert.Equal(Config, archive.ReadAll(image!.Value.Config));
            Assert.All(image.Value.Layers, layer => Assert.Equal("first layer", Encoding.UTF8.GetString(archive.ReadAll(layer))));
            Assert.Null(archive.FindImage(Digests.Sha256(new byte[] { 1 })));
        }

        [Theory]
        [InlineData(TarEntryFormat.Pax)]
        [InlineData(TarEntryFormat.Gnu)]
        [InlineData(TarEntryFormat.Ustar)]
        public void Reads_names_longer_than_a_header_holds(TarEntryFormat format)
        {
            // Ustar splits a long path into prefix and name; PAX and GNU write a record before the header.
            var name = "blobs/sha256/" + new string('d', 64) + "/" + new string('e', format == TarEntryFormat.Ustar ? 60 : 200);
            WriteTar(format, w =>
            {
                AddFile(w, format, name, Encoding.UTF8.GetBytes("deep"));
                AddFile(w, format, "short", Encoding.UTF8.GetBytes("after"));
            });

            var archive = SavedImageArchive.Open(_path);

            Assert.Equal("deep", Encoding.UTF8.GetString(archive.ReadAll(name)));
            Assert.Equal("after", Encoding.UTF8.GetString(archive.ReadAll("./short")));
        }

        [Fact]
        public void A_slice_reads_exactly_its_entry_even_across_block_padding()
        {
            var big = Enumerable.Range(0, 70000).Select(i => (byte)(i % 251)).ToArray();
            WriteTar(TarEntryFormat.Pax, w =>
            {
                AddFile(w, TarEntryFormat.Pax, "big", big);
                AddFile(w, TarEntryFormat.Pax, "next", Encoding.UTF8.GetBytes("n"));
            });

            var archive = SavedImageArchive.Open(_path);
            using var stream = archive.OpenEntry("big");
            var copy = new MemoryStream();
            stream.CopyTo(copy, 4096);

            Assert.Equal(big, copy.ToArray());
            Assert.Equal(Digests.Sha256(big), Digests.Sha256(archive.OpenEntry("big")));
            Assert.Equal("n", Encoding.UTF8.GetString(archive.ReadAll("next")));
        }

        [Fact]
        public void A_tar_that_is_not_one_gives_a_clear_error()
        {
            var header = new byte[512];
            Encoding.ASCII.GetBytes("manifest.json").CopyTo(header, 0);
            Encoding.ASCII.GetBytes("zz-not-octal").CopyTo(header, 124);
            header[156] = (byte)'0';
            File.WriteAllBytes(_path, header);

            var error = Assert.Throws<ImageToolsException>(() => SavedImageArchive.Open(_path));

            Assert.Equal("SavedImageUnreadable", error.ErrorId);
            Assert.Contains("zz-not-octal", error.Message);
        }
    }
}
