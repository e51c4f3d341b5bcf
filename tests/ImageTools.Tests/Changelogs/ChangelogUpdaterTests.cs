using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ImageTools.Changelogs;
using ImageTools.Definitions;
using ImageTools.Graph;
using Xunit;

namespace ImageTools.Tests.Changelogs
{
    public class VersionBumpTests
    {
        [Theory]
        [InlineData("0.1.2", "s", "0.1.2-s1")]
        [InlineData("0.1.2-s1", "s", "0.1.2-s2")]
        [InlineData("0.1.2-1-s8", "s", "0.1.2-1-s9")]
        [InlineData("0.1.2-1-s9", "s", "0.1.2-1-s10")]
        [InlineData("1.0-1", "s", "1.0-1-s1")]
        [InlineData("2.4.1", "sec", "2.4.1-sec1")]
        [InlineData("2.4.1-sec3", "sec", "2.4.1-sec4")]
        [InlineData("0.1.2-1", "", "0.1.2-2")] // docker-pkg's test_new_tag with identifier=""
        [InlineData("0.1.2", "", "0.1.2-1")]
        public void Follows_docker_pkg(string version, string updateId, string expected) =>
            Assert.Equal(expected, VersionBump.Next(version, updateId));

        [Theory]
        [InlineData("1.0~rc1")]
        [InlineData("2:1.0")]
        [InlineData("1.0+deb12u1")]
        [InlineData("v1.0")]
        [InlineData("2.4.1-s3")] // with update id "s" it would bump; under "sec" docker-pkg refuses it too
        public void Versions_the_rule_cannot_bump_are_a_clear_error(string version)
        {
            var error = Assert.Throws<ImageToolsException>(() => VersionBump.Next(version, "sec", "/t/a/changelog", "a"));

            Assert.Equal("VersionNotBumpable", error.ErrorId);
            Assert.Equal("/t/a/changelog", error.FilePath);
            Assert.Contains("-Version", error.Message);
        }
    }

    public class ChangelogAuthorTests
    {
        private static readonly TreeConfig Fallback = TreeConfig.Parse("fallback_author: Fallback\nfallback_email: fallback@example.org\n", "/t/config.yaml");

        private static (string, string) Resolve(string? name, string? email, Dictionary<string, string> environment, Dictionary<string, string> git, TreeConfig? config = null)
        {
            var author = ChangelogAuthor.Resolve(name, email, config ?? Fallback,
                key => environment.TryGetValue(key, out var value) ? value : null,
                key => git.TryGetValue(key, out var value) ? value : null);
            return (author.Name, author.Email);
        }

        private static readonly Dictionary<string, string> Deb = new Dictionary<string, string> { ["DEBFULLNAME"] = "Deb Name", ["DEBEMAIL"] = "deb@example.org" };
        private static readonly Dictionary<string, string> Git = new Dictionary<string, string> { ["user.name"] = "Git Name", ["user.email"] = "git@example.org" };
        private static readonly Dictionary<string, string> None = new Dictionary<string, string>();

        [Fact]
        public void Parameters_then_DEBFULLNAME_and_DEBEMAIL_then_git_then_the_configured_fallback()
        {
            Assert.Equal(("P", "p@example.org"), Resolve("P", "p@example.org", Deb, Git));
            Assert.Equal(("Deb Name", "deb@example.org"), Resolve(null, null, Deb, Git));
            Assert.Equal(("Git Name", "git@example.org"), Resolve(null, null, None, Git));
            Assert.Equal(("Fallback", "fallback@example.org"), Resolve(null, null, None, None));
            Assert.Equal(("Author", "email@domain"), Resolve(null, null, None, None, TreeConfig.Empty)); // docker-pkg's defaults
        }

        [Fact]
        public void A_DEBEMAIL_holding_a_name_gives_its_address_instead_of_nesting_brackets()
        {
            var environment = new Dictionary<string, string> { ["DEBEMAIL"] = "Clément Goubert <cgoubert@example.org>" };

            Assert.Equal(("Git Name", "cgoubert@example.org"), Resolve(null, null, environment, Git));
        }
    }

    public class ChangelogUpdaterTests
    {
        private static readonly ChangelogAuthor Author = new ChangelogAuthor("Ops Person", "ops@example.org");
        private static readonly DateTimeOffset Date = new DateTimeOffset(2026, 11, 2, 9, 5, 7, TimeSpan.FromHours(1));

        /// <summary>base → (left, right) → top: a diamond, plus an unrelated image.</summary>
        private static TestTree Diamond() => new TestTree()
            .Write("imagetools.yaml", "distribution: imagetools\nupdate_id: s\n")
            .Image("base", "FROM busybox\n").Write("base/changelog", TestTree.Changelog("base", "1.0.0"))
            .Image("left", "FROM base\n").Write("left/changelog", TestTree.Changelog("left", "0.2-1"))
            .Image("right", "FROM base\n").Write("right/changelog", TestTree.Changelog("right", "3.1-s4"))
            .Image("top", "FROM left\nCOPY --from=right /a /a\n").Write("top/changelog", TestTree.Changelog("top", "1.0"))
            .Image("other", "FROM busybox\n").Write("other/changelog", TestTree.Changelog("other", "5.0"));

        private static ChangelogUpdatePlan Plan(TestTree tree, string[] names, string? version = null) =>
            ChangelogUpdater.Plan(ImageGraph.Build(TreeScanner.Scan(tree.Root)),
                new ChangelogUpdateRequest(names, "Rebuild for CVE-2026-0001", Author) { Version = version, Date = Date });

        [Fact]
        public void Cascades_to_every_dependent_once_in_build_order()
        {
            using var tree = Diamond();

            var plan = Plan(tree, new[] { "base" });

            Assert.Equal(new[] { "base", "left", "right", "top" }, plan.Updates.Select(u => u.Name));
            Assert.Equal(new[] { "1.0.0-s1", "0.2-1-s1", "3.1-s5", "1.0-s1" }, plan.Updates.Select(u => u.NewVersion));
            Assert.False(plan.Updates[0].Cascaded);
            Assert.All(plan.Updates.Skip(1), u => Assert.True(u.Cascaded));
            Assert.Equal("Refresh for update in parent image base:\nRebuild for CVE-2026-0001", plan.Updates[3].Reason);
        }

        [Fact]
        public void An_explicit_version_applies_to_the_named_image_only()
        {
            using var tree = Diamond();

            var plan = Plan(tree, new[] { "left" }, version: "0.3");

            Assert.Equal(new[] { ("left", "0.3"), ("top", "1.0-s1") }, plan.Updates.Select(u => (u.Name, u.NewVersion)));
        }

        [Fact]
        public void Writes_the_entry_as_docker_pkg_does_and_keeps_old_entries_byte_for_byte()
        {
            using var tree = Diamond();
            var original = File.ReadAllText(tree.PathOf("top/changelog"));

            ChangelogUpdater.Apply(Plan(tree, new[] { "base" }).Updates);

            var expected =
                "top (1.0-s1) imagetools; urgency=high\n" +
                "\n" +
                "   Refresh for update in parent image base:\n" +
                "   Rebuild for CVE-2026-0001\n" +
                "\n" +
                " -- Ops Person <ops@example.org>  Mon,  2 Nov 2026 09:05:07 +0100\n" +
                "\n" + original;
            Assert.Equal(expected, File.ReadAllText(tree.PathOf("top/changelog")));
        }

        [Fact]
        public void The_new_entry_goes_below_leading_comment_and_blank_lines_as_python_debian_keeps_them_on_top()
        {
            var preamble = "# Maintained by the ops team\n\n";
            using var tree = Diamond().Write("base/changelog", preamble + TestTree.Changelog("base", "1.0.0"));

            ChangelogUpdater.Apply(Plan(tree, new[] { "base" }).Updates);

            var text = File.ReadAllText(tree.PathOf("base/changelog"));
            Assert.StartsWith(preamble + "base (1.0.0-s1) imagetools; urgency=high\n", text);
            Assert.EndsWith("\n\n" + TestTree.Changelog("base", "1.0.0"), text);
            Assert.Equal("1.0.0-s1", ImageGraph.Build(TreeScanner.Scan(tree.Root))["base"].Version);
        }

        [Fact]
        public void A_byte_order_mark_stays_at_the_start_of_the_file()
        {
            using var tree = Diamond();
            var original = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(System.Text.Encoding.UTF8.GetBytes(TestTree.Changelog("base", "1.0.0"))).ToArray();
            File.WriteAllBytes(tree.PathOf("base/changelog"), original);

            ChangelogUpdater.Apply(Plan(tree, new[] { "base" }).Updates);

            var bytes = File.ReadAllBytes(tree.PathOf("base/changelog"));
            Assert.Equal(original.Take(3), bytes.Take(3));
            Assert.Equal(original.Skip(3), bytes.Skip(bytes.Length - original.Length + 3));
            Assert.Equal("1.0.0-s1", ImageGraph.Build(TreeScanner.Scan(tree.Root))["base"].Version);
        }

        [Fact]
        public void After_applying_the_graph_shows_the_new_versions()
        {
            using var tree = Diamond();

            ChangelogUpdater.Apply(Plan(tree, new[] { "base" }).Updates);
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));

            Assert.Equal("1.0.0-s1", graph["base"].Version);
            Assert.Equal("1.0-s1", graph["top"].Version);
            Assert.Equal("5.0", graph["other"].Version);
            Assert.Equal(2, graph["top"].Definition.Changelog!.Entries.Count);
        }

        [Fact]
        public void An_unbumpable_dependent_stops_everything_before_any_write()
        {
            using var tree = Diamond().Write("right/changelog", TestTree.Changelog("right", "3.1a"));
            var before = Snapshot(tree);

            var error = Assert.Throws<ImageTreeException>(() => Plan(tree, new[] { "base" }));

            Assert.Equal("VersionNotBumpable", Assert.Single(error.Errors).ErrorId);
            Assert.Equal(tree.PathOf("right/changelog"), error.Errors[0].FilePath);
            Assert.Equal(before, Snapshot(tree));
        }

        [Fact]
        public void A_version_that_is_not_newer_is_refused()
        {
            using var tree = Diamond();

            var error = Assert.Throws<ImageTreeException>(() => Plan(tree, new[] { "base" }, version: "0.9"));

            Assert.Equal("VersionNotNewer", Assert.Single(error.Errors).ErrorId);
        }

        [Fact]
        public void An_image_without_changelog_needs_an_explicit_version()
        {
            using var tree = new TestTree().Image("plain", "FROM busybox\n");

            var error = Assert.Throws<ImageTreeException>(() => Plan(tree, new[] { "plain" }));
            Assert.Equal("ChangelogMissing", Assert.Single(error.Errors).ErrorId);

            var plan = Plan(tree, new[] { "plain" }, version: "1.0.0");
            ChangelogUpdater.Apply(plan.Updates);
            Assert.True(plan.Updates.Single().CreatesFile);
            Assert.Equal("1.0.0", ImageGraph.Build(TreeScanner.Scan(tree.Root))["plain"].Version);
        }

        [Fact]
        public void A_dependent_without_changelog_is_a_warning_not_an_error()
        {
            using var tree = Diamond().Image("plain-child", "FROM base\n");

            var plan = Plan(tree, new[] { "base" });

            Assert.DoesNotContain(plan.Updates, u => u.Name == "plain-child");
            Assert.Contains(plan.Warnings, w => w.ImageName == "plain-child");
        }

        [Fact]
        public void A_failure_while_staging_leaves_every_file_as_it_was()
        {
            using var tree = Diamond();
            var before = Snapshot(tree);
            var updates = Plan(tree, new[] { "base" }).Updates;

            Assert.Throws<ImageToolsException>(() => ChangelogUpdater.Apply(updates, new FailingFileSystem(failWriteNumber: 3)));

            Assert.Equal(before, Snapshot(tree));
        }

        [Fact]
        public void A_failure_while_renaming_restores_the_files_already_replaced()
        {
            using var tree = Diamond();
            var before = Snapshot(tree);
            var updates = Plan(tree, new[] { "base" }).Updates;

            var error = Assert.Throws<ImageToolsException>(() => ChangelogUpdater.Apply(updates, new FailingFileSystem(failReplaceNumber: 3)));

            Assert.Equal("ChangelogWriteFailed", error.ErrorId);
            Assert.Equal(before, Snapshot(tree));
        }

        [Fact]
        public void A_run_killed_between_its_renames_is_completed_by_the_next_one_from_the_journal()
        {
            using var tree = Diamond();
            var updates = Plan(tree, new[] { "base" }).Updates;
            var journal = ChangelogUpdater.JournalPathFor(tree.Root);

            // Replace 1 lands the journal; the kill comes at the third, after one changelog was renamed. No catch
            // block of Apply runs for it, as none runs for SIGKILL.
            Assert.Throws<ProcessKilled>(() => ChangelogUpdater.Apply(updates, new FailingFileSystem(killReplaceNumber: 3), journal, requestKey: "base/CVE"));
            Assert.True(File.Exists(journal));
            Assert.Single(updates, u => File.ReadAllText(u.Path).StartsWith($"{u.Name} ({u.NewVersion})", StringComparison.Ordinal));

            var (completed, requestKey) = ChangelogUpdater.RecoverInterrupted(tree.Root);

            Assert.Equal(3, completed.Count);
            Assert.Equal("base/CVE", requestKey);
            Assert.False(File.Exists(journal));
            foreach (var update in updates)
            {
                Assert.Equal(update.NewText, File.ReadAllText(update.Path));
            }
            Assert.Empty(Directory.GetFiles(tree.Root, "*.tmp-*", SearchOption.AllDirectories));
            // Nothing is applied twice: a second recovery finds no journal.
            Assert.Null(ChangelogUpdater.RecoverInterrupted(tree.Root).RequestKey);
        }

        [Fact]
        public void A_run_killed_while_staging_leaves_no_journal_and_its_leftovers_are_removed()
        {
            using var tree = Diamond();
            var before = Snapshot(tree);
            var updates = Plan(tree, new[] { "base" }).Updates;

            Assert.Throws<ProcessKilled>(() => ChangelogUpdater.Apply(updates, new FailingFileSystem(killWriteNumber: 3), ChangelogUpdater.JournalPathFor(tree.Root)));
            // And one killed while writing its journal (the fifth write, after the four staged changelogs).
            Assert.Throws<ProcessKilled>(() => ChangelogUpdater.Apply(updates, new FailingFileSystem(killWriteNumber: 5), ChangelogUpdater.JournalPathFor(tree.Root)));
            File.WriteAllText(ChangelogUpdater.JournalPathFor(tree.Root) + ".tmp-0badf00d", "[{\"sta");

            Assert.Empty(ChangelogUpdater.RecoverInterrupted(tree.Root).Completed);
            ChangelogUpdater.RemoveLeftovers(ImageGraph.Build(TreeScanner.Scan(tree.Root)));
            Assert.Equal(before, Snapshot(tree));
        }

        [Fact]
        public void A_journal_that_cannot_be_read_is_an_error_naming_it_and_changes_nothing()
        {
            using var tree = Diamond();
            var journal = ChangelogUpdater.JournalPathFor(tree.Root);
            File.WriteAllText(journal, "[{\"staged\": ");
            var before = Snapshot(tree);

            var error = Assert.Throws<ImageToolsException>(() => ChangelogUpdater.RecoverInterrupted(tree.Root));

            Assert.Equal("ChangelogJournalInvalid", error.ErrorId);
            Assert.Contains(journal, error.Message);
            Assert.Equal(before, Snapshot(tree));
        }

        /// <summary>Every file of the tree with its content, temp files included, so a leftover shows.</summary>
        private static Dictionary<string, string> Snapshot(TestTree tree) =>
            Directory.GetFiles(tree.Root, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllText);

        /// <summary>Stands for SIGKILL: an exception no catch block of the code under test handles.</summary>
        private sealed class ProcessKilled : Exception { }

        private sealed class FailingFileSystem : IChangelogFileSystem
        {
            private readonly int _failWriteNumber;
            private readonly int _failReplaceNumber;
            private readonly int _killWriteNumber;
            private readonly int _killReplaceNumber;
            private int _writes;
            private int _replaces;

            public FailingFileSystem(int failWriteNumber = int.MaxValue, int failReplaceNumber = int.MaxValue,
                int killWriteNumber = int.MaxValue, int killReplaceNumber = int.MaxValue)
            {
                _failWriteNumber = failWriteNumber;
                _failReplaceNumber = failReplaceNumber;
                _killWriteNumber = killWriteNumber;
                _killReplaceNumber = killReplaceNumber;
            }

            public string ReadAllText(string path) => File.ReadAllText(path);

            public void WriteAllText(string path, string text)
            {
                if (++_writes == _failWriteNumber) throw new IOException("No space left on device");
                if (_writes == _killWriteNumber) throw new ProcessKilled();
                File.WriteAllText(path, text);
            }

            public void Replace(string source, string destination)
            {
                if (++_replaces == _failReplaceNumber) throw new IOException("No space left on device");
                if (_replaces == _killReplaceNumber) throw new ProcessKilled();
                File.Move(source, destination, overwrite: true);
            }

            public void DeleteIfExists(string path) => File.Delete(path);
        }
    }
}
