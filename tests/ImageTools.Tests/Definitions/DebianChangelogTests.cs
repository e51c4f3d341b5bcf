using System;
using System.Linq;
using ImageTools.Definitions.Changelogs;
using Xunit;

namespace ImageTools.Tests.Definitions
{
    public class DebianChangelogTests
    {
        // Shaped like real docker-pkg trees: several entries, docker-pkg's three-space updates,
        // bullets with continuation lines, a sub-header, extra header fields, odd date spellings.
        private const string RealWorld =
            "mediawiki-httpd (0.1.8-s1) wikimedia; urgency=high\n" +
            "\n" +
            "   Refresh for update in parent image httpd-fcgi:\n" +
            "   Increase logger packet size to avoid truncating logs\n" +
            "\n" +
            " -- Kamila Součková <ksouckova@example.org>  Mon, 28 Aug 2023 12:27:00 +0200\n" +
            "\n" +
            "mediawiki-httpd (0.1.8) wikimedia bookworm-backports; urgency=medium, binary-only=yes\n" +
            "\n" +
            "  [ Giuseppe ]\n" +
            "  * Remove stdout logging when rsyslog is used,\n" +
            "    which doubled every line.\n" +
            "  * Fix bad json (T340935)\n" +
            " -- Giuseppe Lavagetto <glavagetto@example.org> Thu,  3 Aug 2023 15:00:06 +0200\n" +
            "\n" +
            "\n" +
            "mediawiki-httpd (1:0.1.5) wikimedia; urgency=low\n" +
            "\n" +
            "  * Initial release.\n" +
            "\n" +
            " -- cgoubert <cgoubert@example.org>  4 Jan 2023 17:37:02 -0100 (CET)\n";

        [Fact]
        public void Reads_every_entry_newest_first()
        {
            var changelog = DebianChangelog.Parse(RealWorld, "/t/changelog");

            Assert.Equal(new[] { "0.1.8-s1", "0.1.8", "1:0.1.5" }, changelog.Entries.Select(e => e.Version));
            Assert.Equal("mediawiki-httpd", changelog.Latest.Package);
            Assert.Equal(new[] { 1, 8, 17 }, changelog.Entries.Select(e => e.Line));
            Assert.Equal("high", changelog.Entries[0].Urgency);
            Assert.Equal("medium", changelog.Entries[1].Urgency);
            Assert.Equal(new[] { "wikimedia", "bookworm-backports" }, changelog.Entries[1].Distributions);
            Assert.Equal("Kamila Součková", changelog.Latest.AuthorName);
            Assert.Equal("ksouckova@example.org", changelog.Latest.AuthorEmail);
            Assert.Equal(new DateTimeOffset(2023, 8, 28, 12, 27, 0, TimeSpan.FromHours(2)), changelog.Latest.Date);
            Assert.Equal(new DateTimeOffset(2023, 8, 3, 15, 0, 6, TimeSpan.FromHours(2)), changelog.Entries[1].Date);
            Assert.Equal(new DateTimeOffset(2023, 1, 4, 17, 37, 2, TimeSpan.FromHours(-1)), changelog.Entries[2].Date);
            Assert.Equal(new[] { "   Refresh for update in parent image httpd-fcgi:", "   Increase logger packet size to avoid truncating logs" },
                changelog.Latest.Changes);
            Assert.Equal(4, changelog.Entries[1].Changes.Count);
        }

        [Fact]
        public void Raw_entries_reproduce_the_file_byte_for_byte()
        {
            var text = "\n" + RealWorld.Replace("\n", "\r\n") + "\r\n# vim: set ft=debchangelog:\r\n";

            var changelog = DebianChangelog.Parse(text, "/t/changelog");

            Assert.Equal(text, string.Concat(changelog.Entries.Select(e => e.RawText)));
            Assert.Equal(text, changelog.Text);
            Assert.Equal(3, changelog.Entries.Count);
        }

        [Theory]
        [InlineData("", 1, "empty")]
        [InlineData("not a header\n", 1, "header")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n", 1, "no trailer")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\nb (0.9) d; urgency=low\n\n  * y\n\n -- N <e@x>  Sun, 22 Nov 2026 10:00:00 +0000\n", 1, "no trailer")]
        [InlineData("a (1.0) d\n\n  * x\n\n -- N <e@x>  Sun, 22 Nov 2026 10:00:00 +0000\n", 1, "header")]
        [InlineData("a (1.0) d; low\n\n  * x\n\n -- N <e@x>  Sun, 22 Nov 2026 10:00:00 +0000\n", 1, "key=value")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>  yesterday\n", 5, "date")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>  Sun, 31 Feb 2026 10:00:00 +0000\n", 5, "real date")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N e@x  Sun, 22 Nov 2026 10:00:00 +0000\n", 5, "trailer")]
        [InlineData("a (1.0) d; urgency=low\n\nunindented change\n\n -- N <e@x>  Sun, 22 Nov 2026 10:00:00 +0000\n", 3, "indented")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>  Sun, 22 Nov 2026 10:00:00 +0000\nstray text\n", 6, "after the trailer")]
        public void Broken_changelogs_name_the_line_and_the_fix(string text, int line, string expected)
        {
            var error = Assert.Throws<ImageToolsException>(() => DebianChangelog.Parse(text, "/t/a/changelog"));

            Assert.Equal("InvalidChangelog", error.ErrorId);
            Assert.Equal("/t/a/changelog", error.FilePath);
            Assert.Equal(line, error.Line);
            Assert.Contains(expected, error.Message);
        }
    }

    public class DebianVersionTests
    {
        [Theory]
        [InlineData("1.0", "1.0", 0)]
        [InlineData("1.0", "1.1", -1)]
        [InlineData("1.0~rc1", "1.0", -1)]
        [InlineData("1.0", "1.0-1", -1)]
        [InlineData("1.0-1", "1.0-s1", -1)]
        [InlineData("0.1.2-1-s8", "0.1.2-1-s9", -1)]
        [InlineData("0.1.2-1-s9", "0.1.2-1-s10", -1)]
        [InlineData("1:0.1", "2.0", 1)]
        [InlineData("1.0a", "1.0+", -1)]
        [InlineData("1.01", "1.1", 0)]
        [InlineData("1.0~~", "1.0~", -1)]
        public void Orders_like_dpkg(string a, string b, int sign)
        {
            Assert.Equal(sign, Math.Sign(DebianVersion.Compare(DebianVersion.Parse(a), DebianVersion.Parse(b))));
            Assert.Equal(-sign, Math.Sign(DebianVersion.Compare(DebianVersion.Parse(b), DebianVersion.Parse(a))));
        }

        [Fact]
        public void Splits_epoch_upstream_and_revision()
        {
            var version = DebianVersion.Parse("2:1.2-3-s4");

            Assert.Equal((2, "1.2-3", "s4"), (version.Epoch, version.Upstream, version.Revision));
        }

        [Theory]
        [InlineData("")]
        [InlineData("x1.0")]
        [InlineData("a:1.0")]
        [InlineData("1.0-")]
        [InlineData("1.0 1")]
        [InlineData("1.0-r_1")]
        public void Rejects_malformed_versions(string text) =>
            Assert.Equal("InvalidVersion", Assert.Throws<ImageToolsException>(() => DebianVersion.Parse(text)).ErrorId);
    }

    public class ChangelogFormatTests
    {
        [Fact]
        public void Formats_an_entry_as_docker_pkg_writes_it()
        {
            var entry = ChangelogFormat.FormatEntry("app", "1.0-s1", "wikimedia", "high", new[] { "Security update", "  * detail" },
                "Ops Person", "ops@example.org", new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.FromMinutes(-150)));

            Assert.Equal(
                "app (1.0-s1) wikimedia; urgency=high\n\n   Security update\n     * detail\n\n" +
                " -- Ops Person <ops@example.org>  Sun, 22 Nov 2026 10:00:00 -0230\n", entry);
            Assert.Equal("1.0-s1", DebianChangelog.Parse(entry, "x").Latest.Version);
        }
    }
}
