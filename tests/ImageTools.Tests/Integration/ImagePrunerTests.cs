using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Docker;
using ImageTools.Docker.Api;
using ImageTools.Engines;
using ImageTools.Graph;
using ImageTools.Pruning;
using ImageTools.Registry;
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

        /// <summary>The engine Remove-ImageBuild makes where no docker CLI is on PATH: the factory's DockerEngine without a CLI adapter.</summary>
        private static DockerEngine ApiOnly(string engine)
        {
            var made = (DockerEngine)DockerEngineFactory.Create(new Dictionary<string, string?> { ["DOCKER_HOST"] = DockerApiEngineTests.HostOf(engine) },
                AnonymousCredentialSource.Instance, useCli: false);
            Assert.False(made.BuildsThroughCli);
            return made;
        }

        private static string BuildOn(DockerEngine engine, TestTree tree, string directory, string name, string version, string from, string? tagSuffix = null,
            string extra = "")
        {
            tree.Image(directory, $"FROM {from}\nRUN echo {name}-{version}{tagSuffix} > /content\n")
                .Write($"{directory}/image.yaml", $"name: {name}\nversion: '{version}'\n{extra}");
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var result = new ImageBuilder(engine, new BuildOptions { TagSuffix = tagSuffix })
                .BuildAsync(graph, new[] { graph[name] }, CancellationToken.None).GetAwaiter().GetResult().Single();
            Assert.True(result.Status == BuildStatus.Built, $"{result.Error}\n{(result.LogPath != null ? System.IO.File.ReadAllText(result.LogPath) : "")}");
            return result.ImageId!;
        }

        /// <summary>
        /// Tags in dockerd's familiar spelling, sorted, so both engines compare with one list: Podman's compat API names what it
        /// builds and tags without registry docker.io/library/NAME (and what it loads localhost/NAME).
        /// </summary>
        private static IReadOnlyList<string> TagsOn(ILocalImageCatalog engine, string repository) =>
            engine.ListTagsAsync(repository, CancellationToken.None).GetAwaiter().GetResult()
                .Select(t => new[] { "localhost/", "docker.io/library/" }.Aggregate(t, (text, prefix) => text.StartsWith(prefix, StringComparison.Ordinal) ? text.Substring(prefix.Length) : text))
                .OrderBy(t => t, StringComparer.Ordinal).ToList();

        private static IReadOnlyList<string> PruneOn(DockerEngine engine, TestTree tree, PruneOptions options, params string[] only)
        {
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var pruner = new ImagePruner(engine, engine);
            var candidates = pruner.PlanAsync(graph, graph.Nodes.Where(n => only.Length == 0 || only.Contains(n.Name)), options, CancellationToken.None)
                .GetAwaiter().GetResult();
            foreach (var candidate in candidates) pruner.RemoveAsync(candidate, CancellationToken.None).GetAwaiter().GetResult();
            return candidates.Select(c => c.Tag).OrderBy(t => t, StringComparer.Ordinal).ToList();
        }

        /// <summary>
        /// The whole prune through the Engine API, no docker CLI involved (the engine the factory makes without one): listing,
        /// inspecting and removing. On dockerd and on Podman's service, whose names without registry are localhost/NAME.
        /// </summary>
        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerTheory]
        [MemberData(nameof(DockerApiEngineTests.Engines), MemberType = typeof(DockerApiEngineTests))]
        public void Pruning_through_the_engine_api_keeps_current_latest_extra_tags_and_bases_and_removes_old_and_nightly_builds(string engineName)
        {
            using var engine = ApiOnly(engineName);
            using var tree = new TestTree();
            var id = Guid.NewGuid().ToString("N").Substring(0, 8);
            var (base_, app) = ("apibase" + id, "apiapp" + id);
            var other = base_ + "-other";
            try
            {
                BuildOn(engine, tree, "base", base_, "0.8", "busybox:1.36");
                var old = BuildOn(engine, tree, "base", base_, "0.9", "busybox:1.36");
                BuildOn(engine, tree, "base", base_, "1.0", "busybox:1.36");
                // The app pins base 1.0, while the tree's base moves on to 2.0: its parents label keeps 1.0.
                BuildOn(engine, tree, "app", app, "1.0", $"{base_}:1.0");
                BuildOn(engine, tree, "base", base_, "2.0", "busybox:1.36", tagSuffix: "-20261122");
                BuildOn(engine, tree, "base", base_, "2.0", "busybox:1.36", tagSuffix: "-20261123");
                var current = BuildOn(engine, tree, "base", base_, "2.0", "busybox:1.36", extra: "tags: [stable]\n");
                // Extra tags and latest move on publish, not on build: put them where a publish would have.
                engine.TagAsync(current, $"{base_}:stable", CancellationToken.None).GetAwaiter().GetResult();
                engine.TagAsync(old, $"{base_}:latest", CancellationToken.None).GetAwaiter().GetResult();
                // Another repository whose name starts the same: the reference filter must not hand its tags over.
                BuildOn(engine, tree, "other", other, "0.1", "busybox:1.36");
                BuildOn(engine, tree, "other", other, "0.2", "busybox:1.36");
                Assert.Equal(new[] { $"{base_}:0.8", $"{base_}:0.9", $"{base_}:1.0", $"{base_}:2.0", $"{base_}:2.0-20261122", $"{base_}:2.0-20261123", $"{base_}:latest", $"{base_}:stable" },
                    TagsOn(engine, base_));

                // One nightly date, then every nightly, then the rest; -Name-like selection leaves the other image alone.
                Assert.Empty(PruneOn(engine, tree, new PruneOptions { NightlyOnly = true, NightlyDate = "20261121" }));
                Assert.Equal(new[] { "2.0-20261122" }, PruneOn(engine, tree, new PruneOptions { NightlyOnly = true, NightlyDate = "20261122" }, base_));
                Assert.Equal(new[] { "2.0-20261123" }, PruneOn(engine, tree, new PruneOptions { NightlyOnly = true }, base_));
                // 0.9 stays: latest names the same image, which is current under that tag.
                Assert.Equal(new[] { "0.8" }, PruneOn(engine, tree, new PruneOptions(), base_));

                Assert.Equal(new[] { $"{base_}:0.9", $"{base_}:1.0", $"{base_}:2.0", $"{base_}:latest", $"{base_}:stable" }, TagsOn(engine, base_));
                Assert.Equal(new[] { $"{app}:1.0" }, TagsOn(engine, app));
                Assert.Equal(new[] { $"{other}:0.1", $"{other}:0.2" }, TagsOn(engine, other));
                Assert.Null(engine.InspectAsync($"{base_}:0.8", CancellationToken.None).GetAwaiter().GetResult());

                Assert.Equal(new[] { "0.1" }, PruneOn(engine, tree, new PruneOptions(), other));
                Assert.Equal(new[] { $"{other}:0.2" }, TagsOn(engine, other));
            }
            finally
            {
                foreach (var repository in new[] { app, base_, other })
                foreach (var reference in engine.ListTagsAsync(repository, CancellationToken.None).GetAwaiter().GetResult())
                    try { engine.RemoveAsync(reference, CancellationToken.None).GetAwaiter().GetResult(); } catch (ImageToolsException) { }
            }
        }
    }
}
