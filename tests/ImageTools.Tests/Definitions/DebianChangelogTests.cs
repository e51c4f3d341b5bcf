using System;
using System.Linq;
using ImageTools.Formats.Changelogs;
using Xunit;

namespace ImageTools.Tests.Definitions
{
    public class DebianChangelogTests
    {
        // Shaped like real docker-pkg trees: several entries, docker-pkg's three-space updates,
        // dch bullets with continuation lines, a sub-header, extra header fields, several
        // distributions, odd but readable date spellings, extra blank lines between entries.
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
            "\n" +
            "  [ Effie ]\n" +
            "  * Fix bad json (T340935)\n" +
            " -- Giuseppe Lavagetto <glavagetto@example.org> Thu,  3 Aug 2023 15:00:06 +0200\n" +
            "\n" +
            "\n" +
            "mediawiki-httpd (1:0.1.5) wikimedia; urgency=low (first upload)\n" +
            "\n" +
            "  * Initial release.\n" +
            "\n" +
            " -- cgoubert <cgoubert@example.org>  4 Jan 2023 17:37:02 -0100\n";

        [Fact]
        public void Reads_every_entry_newest_first()
        {
            var changelog = DebianChangelog.Parse(RealWorld, "/t/changelog");

            Assert.Equal(new[] { "0.1.8-s1", "0.1.8", "1:0.1.5" }, changelog.Entries.Select(e => e.Version));
            Assert.Same(changelog.Entries[0], changelog.Latest);
            Assert.Equal("mediawiki-httpd", changelog.Latest.Package);
            Assert.Equal(new[] { 1, 8, 19 }, changelog.Entries.Select(e => e.Line));
            Assert.Equal(new[] { "high", "medium", "low" }, changelog.Entries.Select(e => e.Urgency));
            Assert.Equal(new[] { "wikimedia" }, changelog.Latest.Distributions);
            Assert.Equal(new[] { "wikimedia", "bookworm-backports" }, changelog.Entries[1].Distributions);
            Assert.Equal("yes", changelog.Entries[1].Fields["Binary-Only"]);
            Assert.Equal("low (first upload)", changelog.Entries[2].Fields["urgency"]);
        }

        [Fact]
        public void Reads_the_trailer()
        {
            var changelog = DebianChangelog.Parse(RealWorld, "/t/changelog");

            Assert.Equal(("Kamila Součková", "ksouckova@example.org"), (changelog.Latest.AuthorName, changelog.Latest.AuthorEmail));
            Assert.Equal(new DateTimeOffset(2023, 8, 28, 12, 27, 0, TimeSpan.FromHours(2)), changelog.Latest.Date);
            Assert.Equal("Mon, 28 Aug 2023 12:27:00 +0200", changelog.Latest.DateText);
            // One space before the date (dpkg warns, reads it), a space-padded day.
            Assert.Equal(new DateTimeOffset(2023, 8, 3, 15, 0, 6, TimeSpan.FromHours(2)), changelog.Entries[1].Date);
            Assert.Equal("Thu,  3 Aug 2023 15:00:06 +0200", changelog.Entries[1].DateText);
            // No day of week, a negative zone.
            Assert.Equal(new DateTimeOffset(2023, 1, 4, 17, 37, 2, TimeSpan.FromHours(-1)), changelog.Entries[2].Date);
        }

        [Fact]
        public void Keeps_change_lines_as_written_without_surrounding_blank_lines()
        {
            var changelog = DebianChangelog.Parse(RealWorld, "/t/changelog");

            Assert.Equal(new[] { "   Refresh for update in parent image httpd-fcgi:", "   Increase logger packet size to avoid truncating logs" },
                changelog.Latest.Changes);
            Assert.Equal(new[]
            {
                "  [ Giuseppe ]",
                "  * Remove stdout logging when rsyslog is used,",
                "    which doubled every line.",
                "",
                "  [ Effie ]",
                "  * Fix bad json (T340935)",
            }, changelog.Entries[1].Changes);
        }

        [Fact]
        public void Raw_entries_reproduce_the_file_byte_for_byte()
        {
            var changelog = DebianChangelog.Parse(RealWorld, "/t/changelog");

            Assert.Equal(RealWorld, string.Concat(changelog.Entries.Select(e => e.RawText)));
            Assert.Equal(RealWorld, changelog.Text);
            Assert.StartsWith("mediawiki-httpd (0.1.8) wikimedia bookworm-backports", changelog.Entries[1].RawText);
            Assert.EndsWith("+0200\n\n\n", changelog.Entries[1].RawText);
        }

        [Fact]
        public void Round_trips_CRLF_leading_blank_lines_comments_editor_trailers_and_no_final_newline()
        {
            var text = "\r\n# leading comment\r\n" + RealWorld.Replace("\n", "\r\n") + "\r\n/* old style */\r\n# Local variables:\r\n# mode: debian-changelog\r\n";
            var noFinalNewline = RealWorld.TrimEnd('\n');
            var vim = RealWorld + "\nvim: set ft=debchangelog:\nanything at all after the modeline\n";

            foreach (var sample in new[] { text, noFinalNewline, vim })
            {
                var changelog = DebianChangelog.Parse(sample, "/t/changelog");

                Assert.Equal(sample, string.Concat(changelog.Entries.Select(e => e.RawText)));
                Assert.Equal(3, changelog.Entries.Count);
                Assert.Equal("  * Initial release.", changelog.Entries[2].Changes.Single());
            }
            Assert.Equal(3, DebianChangelog.Parse(text, "x").Latest.Line);
        }

        [Fact]
        public void Comments_between_entries_do_not_end_the_changelog()
        {
            var text = Entry("a", "2.0") + "# a comment between entries\n\n" + Entry("a", "1.0");

            var changelog = DebianChangelog.Parse(text, "x");

            Assert.Equal(new[] { "2.0", "1.0" }, changelog.Entries.Select(e => e.Version));
            Assert.Contains("# a comment", changelog.Entries[0].RawText);
        }

        [Fact]
        public void Reads_docker_pkg_fixture_and_updates()
        {
            // As in docker-pkg's tests/fixtures: dch's initial entry, then an update docker-pkg wrote.
            var text =
                "foobar-server (0.0.1~alpha1-s1) wmf; urgency=high\n" +
                "\n" +
                "   Refresh for update in parent image foo-bar:\n" +
                "   \n" +
                "   Security update\n" +
                "\n" +
                " -- Ops <ops@example.org>  Fri,  3 Nov 2017 08:09:10 +0000\n" +
                "\n" +
                "foobar-server (0.0.1~alpha1) wmf; urgency=medium\n" +
                "\n" +
                "  * Initial release. (Closes: T123456789)\n" +
                "\n" +
                " -- Giuseppe Lavagetto <glavagetto@example.org>  Fri, 13 Oct 2017 18:49:14 +0200\n";

            var changelog = DebianChangelog.Parse(text, "x");

            Assert.Equal("0.0.1~alpha1-s1", changelog.Latest.Version);
            Assert.Equal(new[] { "   Refresh for update in parent image foo-bar:", "   ", "   Security update" }, changelog.Latest.Changes);
            Assert.Equal("medium", changelog.Entries[1].Urgency);
        }

        [Theory]
        [InlineData("Sun, 22 Nov 2026 10:00:00 +0000", 2026, 11, 22, 10, 0, 0, 0)]
        [InlineData("Sun, 1 Nov 2026 10:00:00 +0000", 2026, 11, 1, 10, 0, 0, 0)]
        [InlineData("Sun,  1 Nov 2026 10:00:00 +0000", 2026, 11, 1, 10, 0, 0, 0)]
        [InlineData("Sun,1 Nov 2026 10:00:00 +0000", 2026, 11, 1, 10, 0, 0, 0)]
        [InlineData("1 Nov 2026 9:05:07 +0530", 2026, 11, 1, 9, 5, 7, 330)]
        [InlineData("Sun, 22 nov 2026 10:00:00 -0230", 2026, 11, 22, 10, 0, 0, -150)]
        [InlineData("Sunday, 22 Nov 2026 10:00:00 +0000", 2026, 11, 22, 10, 0, 0, 0)] // dpkg ignores a bad week day
        [InlineData("Mon, 22 Nov 2026 10:00:00 +0000", 2026, 11, 22, 10, 0, 0, 0)]    // …and a wrong one
        [InlineData("Sun, 22\tNov  2026 10:00:00 +0000", 2026, 11, 22, 10, 0, 0, 0)]
        [InlineData("Sun, 22 Nov 2026 10:00:00 +0100 (CET)", 2026, 11, 22, 10, 0, 0, 60)]
        [InlineData("Sun, 22 Nov 2026 10:00:00 +0000   ", 2026, 11, 22, 10, 0, 0, 0)]
        // Spellings found in production-images changelogs; python-debian (docker-pkg) reads any word as the month.
        [InlineData("Mon, 25 Sept 2023 09:28:16 +0200", 2023, 9, 25, 9, 28, 16, 120)]
        [InlineData("Fri, 19 June 2026 10:39:55 +0000", 2026, 6, 19, 10, 39, 55, 0)]
        [InlineData("Wed, 11 March 2026 10:13:05 +0300", 2026, 3, 11, 10, 13, 5, 180)]
        [InlineData("Thurs, 15 Jan 2026 16:50:00 +0000", 2026, 1, 15, 16, 50, 0, 0)]
        [InlineData("Thu,  23 May 2024 16:00:01 +0100", 2024, 5, 23, 16, 0, 1, 60)]
        public void Reads_the_date_spellings_dpkg_reads(string date, int year, int month, int day, int hour, int minute, int second, int offsetMinutes)
        {
            var entry = DebianChangelog.Parse("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>  " + date + "\n", "x").Latest;

            Assert.Equal(new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.FromMinutes(offsetMinutes)), entry.Date);
            Assert.Equal(date.TrimEnd(), entry.DateText);
        }

        [Fact]
        public void Tolerates_what_dpkg_only_warns_about()
        {
            var text =
                "\n" +
                "App-Name (1.0+git2) unstable experimental;\n" +       // upper case name, no urgency
                " -- N <e@x> Sun, 22 Nov 2026 10:00:00 +0000\n" +      // no changes, one space before the date
                "app (0.9) d; urgency=low, foo=bar, XS-Thing=1\n" +    // unknown options
                "\n" +
                "\t* tab-indented change\n" +
                " one-space continuation\n" +
                "\n" +
                " -- N <e@x>  Sun, 22 Nov 2026 10:00:00 +0000\n";

            var changelog = DebianChangelog.Parse(text, "x");

            Assert.Equal("App-Name", changelog.Latest.Package);
            Assert.Equal("unknown", changelog.Latest.Urgency);
            Assert.Empty(changelog.Latest.Changes);
            Assert.Equal(new[] { "unstable", "experimental" }, changelog.Latest.Distributions);
            Assert.Equal(2, changelog.Latest.Line);
            Assert.Equal("\n", changelog.Preamble);
            Assert.Equal("bar", changelog.Entries[1].Fields["FOO"]);
            Assert.Equal(new[] { "\t* tab-indented change", " one-space continuation" }, changelog.Entries[1].Changes);
            Assert.Equal(text, string.Concat(changelog.Entries.Select(e => e.RawText)));
        }

        [Fact]
        public void Reads_a_byte_order_mark_and_keeps_it_in_the_raw_text()
        {
            var text = "\uFEFF" + Entry("a", "1.0");

            var changelog = DebianChangelog.Parse(text, "x");

            Assert.Equal("a", changelog.Latest.Package);
            Assert.Equal(text, changelog.Latest.RawText);
            Assert.Equal("\uFEFF", changelog.Preamble);
        }

        [Theory]
        [InlineData("Tue, 02 JMay 2023 08:53:00 -0500")] // production-images flink changelog
        [InlineData("Sun, 22 Noe 2026 10:00:00 +0000")]
        [InlineData("Mi, 11 Mär 2026 10:13:05 +0100")]
        public void A_month_no_reader_knows_leaves_the_date_unset_as_python_debian_accepts_it(string date)
        {
            var entry = DebianChangelog.Parse("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>  " + date + "\n", "x").Latest;

            Assert.Null(entry.Date);
            Assert.Equal(date, entry.DateText);
        }

        [Fact]
        public void Reads_the_nested_address_docker_pkg_writes_when_DEBEMAIL_holds_a_name()
        {
            // production-images envoy changelog: DEBEMAIL='Clément Goubert <cgoubert@…>' through docker-pkg's '{} <{}>'.
            var entry = DebianChangelog.Parse("envoy (1.35.7-2) wikimedia; urgency=high\n\n   * Fix\n\n" +
                " -- Clément Goubert <Clément Goubert <cgoubert@example.org>>  Mon, 23 Feb 2026 12:14:51 +0100\n", "x").Latest;

            Assert.Equal(("Clément Goubert", "cgoubert@example.org"), (entry.AuthorName, entry.AuthorEmail));
            Assert.Equal(new DateTimeOffset(2026, 2, 23, 12, 14, 51, TimeSpan.FromHours(1)), entry.Date);
        }

        [Fact]
        public void A_name_with_angle_brackets_keeps_the_last_address_as_the_email()
        {
            var entry = DebianChangelog.Parse("a (1.0) d; urgency=low\n\n  * x\n\n -- A <b> C <d@e>  Sun, 22 Nov 2026 10:00:00 +0000\n", "x").Latest;

            Assert.Equal(("A <b> C", "d@e"), (entry.AuthorName, entry.AuthorEmail));
        }

        private const string Trailer = " -- N <e@x>  Sun, 22 Nov 2026 10:00:00 +0000\n";

        [Theory]
        [InlineData("", 1, "empty")]
        [InlineData("\n  \n# only a comment\n", 1, "empty")]
        [InlineData("not a header\n", 1, "Expected an entry header")]
        [InlineData("a (1.0) d\n\n  * x\n\n" + Trailer, 1, "Expected an entry header")]          // no ';'
        [InlineData("a (1.0) d/x; urgency=low\n\n  * x\n\n" + Trailer, 1, "Expected an entry header")]
        [InlineData("a 1.0 d; urgency=low\n\n  * x\n\n" + Trailer, 1, "Expected an entry header")]
        [InlineData("  * x\n" + Trailer, 1, "Expected an entry header")]
        [InlineData(Trailer, 1, "Expected an entry header")]
        [InlineData("vim: set ft=changelog\n", 1, "no entry")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n", 1, "no trailer before the end of the file")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\nb (0.9) d; urgency=low\n\n  * y\n\n" + Trailer, 1, "before the next entry at line 5")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\nvim: set ft=changelog\n", 1, "no trailer")]
        [InlineData("a (1.0_1) d; urgency=low\n\n  * x\n\n" + Trailer, 1, "contains '_'")]
        [InlineData("a (1.0-) d; urgency=low\n\n  * x\n\n" + Trailer, 1, "revision")]
        [InlineData("a (1.0) d; low\n\n  * x\n\n" + Trailer, 1, "key=value")]
        [InlineData("a (1.0) d; urgency=low,\n\n  * x\n\n" + Trailer, 1, "key=value")]
        [InlineData("a (1.0) d; urgency=low, urgency=high\n\n  * x\n\n" + Trailer, 1, "twice")]
        [InlineData("a (1.0) d; urgency=!!\n\n  * x\n\n" + Trailer, 1, "urgency")]
        [InlineData("a (1.0) d; urgency=low\n\nunindented change\n\n" + Trailer, 3, "indented")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n" + Trailer + "stray text\n", 6, "Expected an entry header")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n" + Trailer + "  * late change\n", 6, "after the trailer of the entry at line 1")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n" + Trailer + Trailer, 6, "already has a trailer")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n --\n", 5, "trailer must read")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N e@x  Sun, 22 Nov 2026 10:00:00 +0000\n", 5, "trailer must read")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n --  <e@x>  Sun, 22 Nov 2026 10:00:00 +0000\n", 5, "trailer must read")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>   Sun, 22 Nov 2026 10:00:00 +0000\n", 5, "two spaces")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>Sun, 22 Nov 2026 10:00:00 +0000\n", 5, "two spaces")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>  yesterday\n", 5, "not a date")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>  Sun 22 Nov 2026 10:00:00 +0000\n", 5, "comma")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>>  Sun, 22 Nov 2026 10:00:00 +0000\n", 5, "trailer must read")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@<x>  Sun, 22 Nov 2026 10:00:00 +0000\n", 5, "trailer must read")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>  Sun, 22 Nov 2026 10:00 +0000\n", 5, "no seconds")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>  Sun, 22 Nov 2026 10:00:00\n", 5, "zone")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>  Sun, 22 Nov 2026 10:00:00 UTC\n", 5, "not a date")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>  Sun, 31 Feb 2026 10:00:00 +0000\n", 5, "real date")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>  Sun, 22 Nov 2026 25:00:00 +0000\n", 5, "real date")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>  Sun, 22 Nov 2026 10:00:00 +0075\n", 5, "zone offset")]
        [InlineData("a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>  Sun, 22 Nov 2026 10:00:00 +1500\n", 5, "zone offset")]
        public void Broken_changelogs_name_the_line_and_the_fix(string text, int line, string expected)
        {
            var error = Assert.Throws<ImageToolsException>(() => DebianChangelog.Parse(text, "/t/a/changelog"));

            Assert.Equal("InvalidChangelog", error.ErrorId);
            Assert.Equal(FaultKind.InvalidData, error.Kind);
            Assert.Equal("/t/a/changelog", error.FilePath);
            Assert.Equal(line, error.Line);
            Assert.Contains(expected, error.Message);
            Assert.StartsWith($"/t/a/changelog:{line}: ", error.Message);
        }

        [Fact]
        public void Line_numbers_count_CRLF_lines()
        {
            var text = (Entry("a", "2.0") + "a (1.0) d; urgency=low\n\n  * x\n\n -- N <e@x>  bad date\n").Replace("\n", "\r\n");

            Assert.Equal(11, Assert.Throws<ImageToolsException>(() => DebianChangelog.Parse(text, "x")).Line);
        }

        internal static string Entry(string package, string version) =>
            $"{package} ({version}) d; urgency=low\n\n  * change\n\n -- N <e@x>  Sun, 22 Nov 2026 10:00:00 +0000\n\n";
    }

    public class DebianVersionTests
    {
        [Theory]
        [InlineData("1.0", "1.0", 0)]
        [InlineData("1.0", "1.1", -1)]
        [InlineData("1.0~rc1", "1.0", -1)]
        [InlineData("1.0~rc1", "1.0~rc2", -1)]
        [InlineData("1.0~", "1.0", -1)]
        [InlineData("1.0~~", "1.0~", -1)]
        [InlineData("1.0~~a", "1.0~~", 1)]
        [InlineData("1.0", "1.0-1", -1)]
        [InlineData("1.0", "1.0-0", 0)]
        [InlineData("1.0", "0:1.0", 0)]
        [InlineData("1.0-1", "1.0-s1", -1)]
        [InlineData("1.0-1", "1.0-1.1", -1)]
        [InlineData("1.0-1~bpo1", "1.0-1", -1)]
        [InlineData("0.1.2", "0.1.2-s1", -1)]
        [InlineData("0.1.2-s1", "0.1.2-s2", -1)]
        [InlineData("0.1.2-1-s8", "0.1.2-1-s9", -1)]
        [InlineData("0.1.2-1-s9", "0.1.2-1-s10", -1)]
        [InlineData("1.63.0-1-20241211", "1.63.0-1-20241212", -1)]
        [InlineData("1:0.1", "2.0", 1)]
        [InlineData("1:0.1", "2:0.0", -1)]
        [InlineData("1.0a", "1.0+", -1)]
        [InlineData("1.0a", "1.0b", -1)]
        [InlineData("1.0Z", "1.0a", -1)]
        [InlineData("1.0a", "1.0", 1)]
        [InlineData("1.0.", "1.0", 1)]
        [InlineData("1.01", "1.1", 0)]
        [InlineData("1.10", "1.9", 1)]
        [InlineData("2.0", "10.0", -1)]
        [InlineData("1.0+dfsg", "1.0", 1)]
        [InlineData("1:2:3", "1:2.3", 1)]
        public void Orders_like_dpkg(string a, string b, int sign)
        {
            Assert.Equal(sign, Math.Sign(DebianVersion.Compare(DebianVersion.Parse(a), DebianVersion.Parse(b))));
            Assert.Equal(-sign, Math.Sign(DebianVersion.Compare(DebianVersion.Parse(b), DebianVersion.Parse(a))));
            Assert.Equal(sign == 0, DebianVersion.Parse(a).Equals(DebianVersion.Parse(b)));
        }

        [Fact]
        public void Sorts_a_list()
        {
            var sorted = new[] { "1.0", "1.0~rc1", "1.0-1", "0:0.9", "1:0.1", "1.0+b1", "1.0~~" }
                .Select(v => DebianVersion.Parse(v)).OrderBy(v => v).Select(v => v.Text);

            Assert.Equal(new[] { "0:0.9", "1.0~~", "1.0~rc1", "1.0", "1.0-1", "1.0+b1", "1:0.1" }, sorted);
        }

        [Theory]
        [InlineData("2:1.2-3-s4", 2, "1.2-3", "s4")]
        [InlineData("1.0", 0, "1.0", null)]
        [InlineData("0:1.0-1", 0, "1.0", "1")]
        [InlineData("1:2:3-4", 1, "2:3", "4")]
        [InlineData("0.0.1~alpha1", 0, "0.0.1~alpha1", null)]
        // dpkg only warns when upstream does not start with a digit; docker-pkg trees carry such tags.
        [InlineData("v20220915-3", 0, "v20220915", "3")]
        [InlineData("gfx90arocm6.3.0pytorch2.10.0flash-attn2.7.4vllm0.8.5-1", 0, "gfx90arocm6.3.0pytorch2.10.0flash-attn2.7.4vllm0.8.5", "1")]
        public void Splits_epoch_upstream_and_revision(string text, int epoch, string upstream, string? revision)
        {
            var version = DebianVersion.Parse(text);

            Assert.Equal((epoch, upstream, revision, text), (version.Epoch, version.Upstream, version.Revision, version.ToString()));
        }

        [Theory]
        [InlineData("", "empty")]
        [InlineData("a:1.0", "epoch 'a'")]
        [InlineData(":1.0", "epoch before ':' is empty")]
        [InlineData("1:", "nothing follows")]
        [InlineData("99999999999:1.0", "too big")]
        [InlineData("1.0-", "revision after the last '-' is empty")]
        [InlineData("-1", "upstream version is empty")]
        [InlineData("1.0 1", "white space")]
        [InlineData("1.0\n", "white space")]
        [InlineData("1.0-r_1", "revision 'r_1' contains '_'")]
        [InlineData("1.0:1", "epoch '1.0'")]
        [InlineData("1.0_1", "contains '_'")]
        [InlineData("1.0é", "contains 'é'")]
        public void Rejects_malformed_versions(string text, string expected)
        {
            var error = Assert.Throws<ImageToolsException>(() => DebianVersion.Parse(text, "/t/changelog", 3));

            Assert.Equal("InvalidVersion", error.ErrorId);
            Assert.Contains(expected, error.Message);
            Assert.Equal(3, error.Line);
            Assert.False(DebianVersion.TryParse(text, out var version, out _));
            Assert.Null(version);
        }
    }

    public class ChangelogFormatTests
    {
        private static readonly DateTimeOffset When = new DateTimeOffset(2026, 11, 2, 9, 5, 7, TimeSpan.FromHours(1));

        [Fact]
        public void Formats_an_entry_as_docker_pkg_writes_it()
        {
            var entry = ChangelogFormat.FormatEntry("app", "1.0-s1", "wikimedia", "high",
                new[] { "Refresh for update in parent image base:", "Rebuild for CVE-2026-0001" },
                "Ops Person", "ops@example.org", When);

            Assert.Equal(
                "app (1.0-s1) wikimedia; urgency=high\n" +
                "\n" +
                "   Refresh for update in parent image base:\n" +
                "   Rebuild for CVE-2026-0001\n" +
                "\n" +
                " -- Ops Person <ops@example.org>  Mon,  2 Nov 2026 09:05:07 +0100\n" +
                "\n", entry);
        }

        [Fact]
        public void Splits_multi_line_changes_and_moves_blank_lines_down_as_python_debian_does()
        {
            // docker-pkg adds each line with python-debian's add_change, which inserts after the
            // last non-blank line: the empty reason line ('   ') ends up below the text.
            var entry = ChangelogFormat.FormatEntry("app", "1.0", "d", "medium", new[] { "first\r\n\r\n  * detail" },
                "N", "e@x", new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.FromMinutes(-150)));

            Assert.Equal(
                "app (1.0) d; urgency=medium\n\n   first\n     * detail\n\n   \n" +
                " -- N <e@x>  Sun, 22 Nov 2026 10:00:00 -0230\n\n", entry);
        }

        [Theory]
        // Each expected text is what python-debian's Changelog.add_change builds from docker-pkg's calls.
        [InlineData("a\nb", "\n   a\n   b\n\n")]
        [InlineData("a\n", "\n   a\n\n   \n")]
        [InlineData("\na", "\n   \n   a\n\n")]
        [InlineData("a\n\nb\n\nc", "\n   a\n   b\n   c\n\n   \n   \n")]
        public void Places_reason_lines_as_python_debians_add_change(string reason, string expectedChanges)
        {
            var entry = ChangelogFormat.FormatEntry("app", "1.0", "d", "high", new[] { reason }, "N", "e@x", When);

            Assert.Equal("app (1.0) d; urgency=high\n" + expectedChanges + " -- N <e@x>  Mon,  2 Nov 2026 09:05:07 +0100\n\n", entry);
        }

        [Fact]
        public void A_formatted_entry_parses_back_and_is_its_own_raw_text()
        {
            var old = DebianChangelogTests.Entry("app", "1.0");
            var entry = ChangelogFormat.FormatEntry("app", "1.0-s1", "wikimedia bookworm", "high", new[] { "Reason" }, "Kamila Součková", "k@example.org", When);

            var changelog = DebianChangelog.Parse(entry + old, "x");

            Assert.Equal(entry, changelog.Latest.RawText);
            Assert.Equal(old, changelog.Entries[1].RawText);
            Assert.Equal(("app", "1.0-s1", "high", "Kamila Součková", "k@example.org", When),
                (changelog.Latest.Package, changelog.Latest.Version, changelog.Latest.Urgency, changelog.Latest.AuthorName,
                 changelog.Latest.AuthorEmail, changelog.Latest.Date));
            Assert.Equal(new[] { "wikimedia", "bookworm" }, changelog.Latest.Distributions);
            Assert.Equal(new[] { "   Reason" }, changelog.Latest.Changes);
        }

        [Theory]
        [InlineData(2026, 1, 1, 0, 0, 0, 0, "Thu,  1 Jan 2026 00:00:00 +0000")]
        [InlineData(2026, 12, 31, 23, 59, 59, 840, "Thu, 31 Dec 2026 23:59:59 +1400")]
        [InlineData(2024, 2, 29, 12, 0, 5, -570, "Thu, 29 Feb 2024 12:00:05 -0930")]
        public void Formats_dates_like_strftime(int year, int month, int day, int hour, int minute, int second, int offset, string expected) =>
            Assert.Equal(expected, ChangelogFormat.FormatDate(new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.FromMinutes(offset))));

        [Theory]
        [InlineData("bad name", "1.0", "d", "high", "N", "e@x", "InvalidChangelogEntry")]
        [InlineData("app", "1_0", "d", "high", "N", "e@x", "InvalidVersion")]
        [InlineData("app", "1.0", "d;x", "high", "N", "e@x", "InvalidChangelogEntry")]
        [InlineData("app", "1.0", "", "high", "N", "e@x", "InvalidChangelogEntry")]
        [InlineData("app", "1.0", "d", "very high", "N", "e@x", "InvalidChangelogEntry")]
        [InlineData("app", "1.0", "d", "high", "", "e@x", "InvalidChangelogEntry")]
        [InlineData("app", "1.0", "d", "high", "N <x>", "e@x", "InvalidChangelogEntry")]
        [InlineData("app", "1.0", "d", "high", "N", "e@x\n", "InvalidChangelogEntry")]
        public void Refuses_parts_that_would_not_parse_back(string package, string version, string distribution, string urgency,
            string name, string email, string errorId)
        {
            var error = Assert.Throws<ImageToolsException>(() =>
                ChangelogFormat.FormatEntry(package, version, distribution, urgency, new[] { "x" }, name, email, When));

            Assert.Equal(errorId, error.ErrorId);
        }
    }
}
