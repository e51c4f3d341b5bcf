using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Pruning;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>Remove-ImageBuild's engine side against the real daemon: old versions and nightlies go, what is current or built on stays.</summary>
    [Collection(DockerCollection.Name)]
    public class ImagePrunerTests
    {
        private static void Build(TestTree tree, string directory, string name, string version, string from, string? tagSuffix = null)
        {
            tree.Image(directory, $"FROM {from}\nRUN echo {name}-{version}{tagSuffix} > /content\n")
                .Write($"{directory}/image.yaml", $"name: {name}\nversion: '{version}'\n");
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var result = new ImageBuilder(DockerServices.Engine(), new BuildOptions { TagSuffix = tagSuffix })
                .BuildAsync(graph, new[] { graph[name] }, CancellationToken.None).GetAwaiter().GetResult().Single();
            Assert.True(result.Status == BuildStatus.Built, result.Error);
        }

        private static IReadOnlyList<string> LocalTags(string repository) =>
            DockerServices.Engine().ListTagsAsync(repository, CancellationToken.None).GetAwaiter().GetResult().OrderBy(t => t, StringComparer.Ordinal).ToList();

        private static IReadOnlyList<string> Prune(TestTree tree, PruneOptions options, string? only = null)
        {
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var pruner = new ImagePruner(DockerServices.Engine(), DockerServices.Engine());
            var selected = graph.Nodes.Where(n => only == null || n.Name == only);
            var candidates = pruner.PlanAsync(graph, selected, options, CancellationToken.None).GetAwaiter().GetResult();
            foreach (var candidate in candidates) pruner.RemoveAsync(candidate, CancellationToken.None).GetAwaiter().GetResult();
            return candidates.Select(c => c.Reference).OrderBy(r => r, StringComparer.Ordinal).ToList();
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void Old_versions_and_nightlies_go_while_the_current_version_and_what_an_image_builds_on_stay()
        {
            using var tree = new TestTree();
            var id = Guid.NewGuid().ToString("N").Substring(0, 8);
            var (base_, app) = ("prunebase" + id, "pruneapp" + id);
            try
            {
                Build(tree, "base", base_, "0.9", "busybox:1.36");
                Build(tree, "base", base_, "1.0", "busybox:1.36");
                // The app pins the old base version: the tree's base is at 2.0 below, and the app's label records 1.0.
                Build(tree, "app", app, "1.0", $"{base_}:1.0");
                Build(tree, "base", base_, "2.0", "busybox:1.36");
                Build(tree, "base", base_, "2.0", "busybox:1.36", tagSuffix: "-20261122");
                Assert.Equal(new[] { $"{base_}:0.9", $"{base_}:1.0", $"{base_}:2.0", $"{base_}:2.0-20261122" }, LocalTags(base_));

                Assert.Empty(Prune(tree, new PruneOptions { NightlyOnly = true, NightlyDate = "20261121" }));
                Assert.Equal(new[] { $"{base_}:2.0-20261122" }, Prune(tree, new PruneOptions { NightlyOnly = true, NightlyDate = "20261122" }));
                Assert.Equal(new[] { $"{base_}:0.9" }, Prune(tree, new PruneOptions()));

                Assert.Equal(new[] { $"{base_}:1.0", $"{base_}:2.0" }, LocalTags(base_));
                Assert.Equal(new[] { $"{app}:1.0" }, LocalTags(app));
            }
            finally
            {
                foreach (var reference in LocalTags(base_).Concat(LocalTags(app)))
                    DockerServices.Run("docker", new[] { "rmi", reference }, null, check: false);
            }
        }
    }
}
