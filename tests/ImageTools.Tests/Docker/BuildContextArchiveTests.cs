using System;
using System.Collections.Generic;
using System.Formats.Tar;
using System.IO;
using System.Linq;
using System.Text;
using ImageTools.Formats;
using Xunit;

namespace ImageTools.Tests.Docker
{
    /// <summary>The context tar of Engine API builds, read back with .NET's own tar reader.</summary>
    public class BuildContextArchiveTests
    {
        private static List<(TarEntryType Type, string Name, UnixFileMode Mode, string Link, string Content)> Read(byte[] archive)
        {
            var entries = new List<(TarEntryType, string, UnixFileMode, string, string)>();
            using var reader = new TarReader(new MemoryStream(archive));
            while (reader.GetNextEntry() is TarEntry entry)
            {
                var content = entry.DataStream == null ? "" : new StreamReader(entry.DataStream, Encoding.UTF8).ReadToEnd();
                entries.Add((entry.EntryType, entry.Name, entry.Mode, entry.LinkName, content));
            }
            return entries;
        }

        [Fact]
        public void The_archive_holds_the_context_list_long_and_non_ascii_names_and_the_extra_files()
        {
            using var tree = new TestTree();
            var longName = "deep/" + string.Join("/", Enumerable.Repeat("directory-with-a-long-name", 6)) + "/file.txt";
            tree.Write("ctx/Dockerfile", "FROM scratch\n").Write("ctx/plain.txt", "plain\n").Write("ctx/" + longName, "long\n")
                .Write("ctx/grüße.txt", "umlaut\n").Write("ctx/ignored.log", "no\n").Write("ctx/.dockerignore", "*.log\n")
                .Write("ctx/run.sh", "#!/bin/sh\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(tree.PathOf("ctx/run.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                File.CreateSymbolicLink(tree.PathOf("ctx/link"), "plain.txt");
            }
            var entries = BuildContext.Collect(tree.PathOf("ctx"), tree.PathOf("ctx/Dockerfile"));
            using var output = new MemoryStream();
            BuildContextArchive.Write(output, entries, new[] { new KeyValuePair<string, byte[]>(".imagetools-dockerfile", Encoding.UTF8.GetBytes("FROM scratch\nLABEL a=b\n")) });

            var read = Read(output.ToArray());
            var names = read.Select(e => e.Name.TrimEnd('/')).ToList();
            Assert.Equal(entries.Select(e => e.RelativePath).Concat(new[] { ".imagetools-dockerfile" }), names);
            Assert.DoesNotContain("Dockerfile", names);
            Assert.DoesNotContain("ignored.log", names);
            Assert.DoesNotContain(".dockerignore", names);
            Assert.Equal("long\n", read.Single(e => e.Name == longName).Content);
            Assert.Equal("umlaut\n", read.Single(e => e.Name == "grüße.txt").Content);
            Assert.Equal("FROM scratch\nLABEL a=b\n", read.Single(e => e.Name == ".imagetools-dockerfile").Content);
            Assert.Equal(TarEntryType.Directory, read.Single(e => e.Name.TrimEnd('/') == "deep").Type);
            var plainMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
            Assert.Equal(plainMode, read.Single(e => e.Name == "plain.txt").Mode);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(plainMode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute, read.Single(e => e.Name == "run.sh").Mode);
                var link = read.Single(e => e.Name == "link");
                Assert.Equal(TarEntryType.SymbolicLink, link.Type);
                Assert.Equal("plain.txt", link.Link);
            }
        }

        [Fact]
        public void A_file_is_sent_as_it_is_when_the_archive_is_written_in_whole_blocks()
        {
            using var tree = new TestTree();
            tree.Write("ctx/a.txt", "12345");
            var entries = BuildContext.Collect(tree.PathOf("ctx"), "");
            // The list is taken first (the rebuild check); the file changes before the build sends it.
            File.AppendAllText(tree.PathOf("ctx/a.txt"), "6789");
            using var output = new MemoryStream();
            BuildContextArchive.Write(output, entries, Array.Empty<KeyValuePair<string, byte[]>>());
            Assert.Equal("123456789", Read(output.ToArray()).Single().Content);
            Assert.Equal(0, output.Length % 512);
        }
    }
}
