using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Changelogs;
using ImageTools.Definitions;
using ImageTools.Graph;
using Xunit;

namespace ImageTools.Tests.Changelogs
{
    /// <summary>Two changelog updates of one tree at once take turns under the tree's lock; neither loses the other's entry.</summary>
    public class ChangelogLockTests
    {
        private static readonly ChangelogAuthor Author = new ChangelogAuthor("Ops Person", "ops@example.org");

        private static TestTree Tree() => new TestTree()
            .Image("base", "FROM busybox\n").Write("base/changelog", TestTree.Changelog("base", "1.0.0"))
            .Image("app", "FROM base\n").Write("app/changelog", TestTree.Changelog("app", "2.0"));

        /// <summary>What Update-ImageChangelog does: lock, read the tree, plan, write, unlock.</summary>
        private static void Update(string root, string reason, Barrier? together = null, TimeSpan? hold = null)
        {
            together?.SignalAndWait();
            using (ChangelogLock.Acquire(root, TimeSpan.FromSeconds(20), CancellationToken.None))
            {
                var plan = ChangelogUpdater.Plan(ImageGraph.Build(TreeScanner.Scan(root)), new ChangelogUpdateRequest(new[] { "base" }, reason, Author));
                if (hold.HasValue) Thread.Sleep(hold.Value);
                ChangelogUpdater.Apply(plan.Updates);
            }
        }

        [Fact]
        public async Task Two_concurrent_updates_of_one_tree_keep_both_entries()
        {
            using var tree = Tree();
            using var together = new Barrier(2);

            // Each reads the tree and waits before writing: without the lock both plan on the same old changelog.
            await Task.WhenAll(
                Task.Run(() => Update(tree.Root, "First reason", together, TimeSpan.FromMilliseconds(300))),
                Task.Run(() => Update(tree.Root, "Second reason", together, TimeSpan.FromMilliseconds(300))));

            foreach (var image in new[] { "base", "app" })
            {
                var text = File.ReadAllText(tree.PathOf(image + "/changelog"));
                Assert.Contains("First reason", text);
                Assert.Contains("Second reason", text);
            }
        }

        [Fact]
        public void A_lock_held_past_the_wait_is_a_clear_error_naming_the_lock_file()
        {
            using var tree = Tree();
            using var held = ChangelogLock.Acquire(tree.Root, TimeSpan.Zero, CancellationToken.None);
            var before = File.ReadAllText(tree.PathOf("base/changelog"));

            var error = Assert.Throws<ImageToolsException>(() => ChangelogLock.Acquire(tree.Root, TimeSpan.FromMilliseconds(300), CancellationToken.None));

            Assert.Equal("ChangelogLocked", error.ErrorId);
            Assert.Equal(Path.Combine(tree.Root, ChangelogLock.FileName), error.FilePath);
            Assert.Contains(ChangelogLock.FileName, error.Message);
            Assert.Contains("no changelog was changed", error.Message);
            Assert.Equal(before, File.ReadAllText(tree.PathOf("base/changelog")));
        }

        [Fact]
        public void A_lock_file_left_by_a_killed_run_does_not_block()
        {
            using var tree = Tree();
            // What a SIGKILLed run leaves: the file, but no process holding it (the OS dropped the lock with the process).
            File.WriteAllText(Path.Combine(tree.Root, ChangelogLock.FileName), "");

            Update(tree.Root, "After a killed run");

            Assert.Contains("After a killed run", File.ReadAllText(tree.PathOf("base/changelog")));
        }
    }
}
