using System;
using System.IO;
using System.Linq;
using ImageTools.Changelogs;
using ImageTools.Definitions;
using ImageTools.Formats.Changelogs;
using ImageTools.Graph;
using Xunit;

namespace ImageTools.Tests.Changelogs
{
    /// <summary>Real changelogs from a docker-pkg tree (see Fixtures/README.md for their source).</summary>
    public class DockerPkgFixtureTests
    {
        private static string Fixture(string name) =>
            File.ReadAllText(RepoPaths.Of("tests/ImageTools.Tests/Changelogs/Fixtures/" + name));

        private static DebianChangelog Parse(string name) => DebianChangelog.Parse(Fixture(name), name);

        // Expected values are python-debian's reading (package, version, len(changelog)) and
        // docker-pkg's new_tag; null where new_tag raises.
        [Theory]
        [InlineData("dispatch.changelog", "dispatch", "v20220915-3", 4, null)]
        [InlineData("amd-vllm022.changelog", "amd-vllm022", "gfx90agfx942rocm7.2.0pytorch2.10.0flash-attn2.8.3aiter0.1.13vllm0.22.1-3", 3, null)]
        [InlineData("nodejs24.changelog", "nodejs24-slim", "24.17.0-1-20260816", 27, "24.17.0-1-20260816-s1")]
        [InlineData("openjdk-21-jre-bookworm.changelog", "openjdk-21-jre-bookworm", "0.1-20260816", 33, "0.1-20260816-s1")]
        [InlineData("php8.3-fpm.changelog", "php8.3-fpm", "8.3.33-1-20260816", 71, "8.3.33-1-20260816-s1")]
        [InlineData("envoy.changelog", "envoy", "1.39.0-1", 192, "1.39.0-1-s1")]
        [InlineData("flink.changelog", "flink", "2.0.2-wmf1-20260816", 170, null)]
        public void Reads_real_changelogs_as_docker_pkg_does(string file, string package, string version, int entries, string? bumped)
        {
            var changelog = Parse(file);

            Assert.Equal((package, version, entries), (changelog.Latest.Package, changelog.Latest.Version, changelog.Entries.Count));
            Assert.Equal(Fixture(file), string.Concat(changelog.Entries.Select(e => e.RawText)));
            if (bumped != null) Assert.Equal(bumped, VersionBump.Next(version, "s"));
            else Assert.Equal("VersionNotBumpable", Assert.Throws<ImageToolsException>(() => VersionBump.Next(version, "s")).ErrorId);
        }

        [Fact]
        public void Reads_the_odd_trailers_they_hold()
        {
            var envoy = Parse("envoy.changelog").Entries.Single(e => e.Version == "1.35.7-2");
            Assert.Equal(("Clément Goubert", "cgoubert@wikimedia.org"), (envoy.AuthorName, envoy.AuthorEmail));
            Assert.Equal(new[] { "   * Fix setting envoy drain strategy" }, envoy.Changes);

            var flink = Parse("flink.changelog").Entries.Single(e => e.Version == "1.17.0-wmf0");
            Assert.Null(flink.Date);
            Assert.Equal("Tue, 02 JMay 2023 08:53:00 -0500", flink.DateText);

            var nodejs = Parse("nodejs24.changelog").Entries.Single(e => e.Version == "24.17.0-1");
            Assert.Equal(new DateTimeOffset(2026, 6, 19, 10, 39, 55, TimeSpan.Zero), nodejs.Date);

            var openjdk = Parse("openjdk-21-jre-bookworm.changelog").Entries.Single(e => e.Version == "0.1");
            Assert.Equal(new DateTimeOffset(2026, 1, 15, 16, 50, 0, TimeSpan.Zero), openjdk.Date);
        }

        [Fact]
        public void Reads_the_cascaded_entries_docker_pkg_wrote()
        {
            var entry = Parse("php8.3-fpm.changelog").Entries.Single(e => e.Version == "8.3.32-2");

            Assert.Equal("high", entry.Urgency);
            Assert.StartsWith("   Refresh for update in parent image php8.3-cli:", entry.Changes[0]);
        }

        [Fact]
        public void An_update_writes_what_docker_pkg_writes_byte_for_byte()
        {
            using var tree = new TestTree()
                .Image("nodejs24", "FROM busybox\n")
                .Write("nodejs24/changelog", Fixture("nodejs24.changelog"));
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var request = new ChangelogUpdateRequest(new[] { "nodejs24-slim" }, "Security update\n\n  * openssl 3.0.18\n",
                new ChangelogAuthor("Ops Person", "ops@example.org"))
            {
                Date = new DateTimeOffset(2026, 11, 2, 9, 5, 7, TimeSpan.FromHours(1)),
            };

            ChangelogUpdater.Apply(ChangelogUpdater.Plan(graph, request).Updates);

            Assert.Equal(Fixture("nodejs24.after-docker-pkg-update.changelog"), File.ReadAllText(tree.PathOf("nodejs24/changelog")));
        }
    }
}
