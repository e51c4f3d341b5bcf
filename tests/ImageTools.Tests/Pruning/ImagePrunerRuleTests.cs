using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Definitions;
using ImageTools.Engines;
using ImageTools.Graph;
using ImageTools.Provenance;
using ImageTools.Pruning;
using ImageTools.References;
using Xunit;

namespace ImageTools.Tests.Pruning
{
    /// <summary>What Remove-ImageBuild keeps and removes, against an engine of a few tags (no daemon).</summary>
    public sealed class ImagePrunerRuleTests : IDisposable
    {
        private readonly TestTree _tree = new TestTree();
        private readonly TagEngine _engine = new TagEngine();
        private readonly ImageGraph _graph;

        public ImagePrunerRuleTests()
        {
            _tree.Image("base", "FROM busybox:1.36\n").Write("base/image.yaml", "name: base\nversion: '2.0'\ntags: [stable]\n");
            _tree.Image("app", "FROM base:2.0\n").Write("app/image.yaml", "name: app\nversion: '1.0'\n");
            _graph = ImageGraph.Build(TreeScanner.Scan(_tree.Root));
            foreach (var tag in new[] { "0.9", "1.0", "1.5", "2.0", "latest", "stable", "2.0-20261122", "2.0-20261123" }) _engine.Hold("base:" + tag);
            _engine.Hold("base:latest", sameAs: "base:2.0");
            // The current app was built on base 1.5 (a pinned parent), and on base 1.0's image under a mirror's name.
            _engine.Hold("app:1.0", labels: new Dictionary<string, string>
            {
                [ImageLabels.Parents] = ImageLabels.FormatParents(new Dictionary<string, string>
                {
                    ["base:1.5"] = "sha256:" + new string('f', 64),
                    ["mirror.example/base:1.0"] = _engine.IdOf("base:1.0"),
                }),
            });
        }

        public void Dispose() => _tree.Dispose();

        private IReadOnlyList<string> Plan(PruneOptions options, params string[] names) =>
            new ImagePruner(_engine, _engine)
                .PlanAsync(_graph, _graph.Nodes.Where(n => names.Length == 0 || names.Contains(n.Name)), options, CancellationToken.None)
                .GetAwaiter().GetResult().Select(c => c.Reference).OrderBy(r => r, StringComparer.Ordinal).ToList();

        [Fact]
        public void Keeps_the_current_version_latest_extra_tags_and_what_a_current_image_builds_on() =>
            Assert.Equal(new[] { "base:0.9", "base:2.0-20261122", "base:2.0-20261123" }, Plan(new PruneOptions()));

        [Fact]
        public void Nightly_removes_only_nightly_builds_and_a_date_only_that_days()
        {
            Assert.Equal(new[] { "base:2.0-20261122", "base:2.0-20261123" }, Plan(new PruneOptions { NightlyOnly = true }));
            Assert.Equal(new[] { "base:2.0-20261123" }, Plan(new PruneOptions { NightlyOnly = true, NightlyDate = "20261123" }));
        }

        [Fact]
        public void KeepNightlyDate_keeps_that_days_nightly_builds_whatever_else_goes()
        {
            Assert.Equal(new[] { "base:0.9", "base:2.0-20261122" }, Plan(new PruneOptions { KeepNightlyDate = "20261123" }));
            Assert.Equal(new[] { "base:2.0-20261122" }, Plan(new PruneOptions { NightlyOnly = true, KeepNightlyDate = "20261123" }));
        }

        [Fact]
        public void Only_the_selected_images_lose_tags_while_the_whole_tree_protects_its_parents()
        {
            Assert.Empty(Plan(new PruneOptions(), "app"));
            // Selecting base alone still keeps what app (not selected) builds on.
            Assert.Equal(new[] { "base:0.9", "base:2.0-20261122", "base:2.0-20261123" }, Plan(new PruneOptions(), "base"));
        }

        /// <summary>An engine that only holds tags: what the pruner asks of it.</summary>
        private sealed class TagEngine : IContainerEngine, ILocalImageCatalog
        {
            private readonly Dictionary<string, string> _tags = new Dictionary<string, string>(StringComparer.Ordinal);
            private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _labels = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);

            public void Hold(string reference, string? sameAs = null, IReadOnlyDictionary<string, string>? labels = null)
            {
                var id = sameAs != null ? _tags[sameAs] : Digests.Sha256(System.Text.Encoding.UTF8.GetBytes(reference));
                _tags[reference] = id;
                _labels[id] = labels ?? new Dictionary<string, string>();
            }

            public string IdOf(string reference) => _tags[reference];

            public Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken cancellationToken) =>
                Task.FromResult<IReadOnlyList<string>>(_tags.Keys.Where(r => r.StartsWith(repository + ":", StringComparison.Ordinal)).ToList());

            public Task<ImageInspection?> InspectAsync(string image, CancellationToken cancellationToken) =>
                Task.FromResult(_tags.TryGetValue(image, out var id)
                    ? new ImageInspection(id, _labels[id], _tags.Where(t => t.Value == id).Select(t => t.Key).ToList(), new string[0])
                    : null);

            public Task RemoveAsync(string image, CancellationToken cancellationToken)
            {
                _tags.Remove(image);
                return Task.CompletedTask;
            }

            public IReadOnlyDictionary<string, string?> ClientEnvironment { get; } = new Dictionary<string, string?>();
            public Task<string> GetVersionAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
            public Task CheckBuilderAsync(string builder, CancellationToken cancellationToken) => throw new NotSupportedException();
            public Task<string> BuildAsync(BuildRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
            public Task TagAsync(string image, string reference, CancellationToken cancellationToken) => throw new NotSupportedException();
            public Task PullAsync(string reference, ImagePlatform? platform, CancellationToken cancellationToken) => throw new NotSupportedException();
            public Task PushAsync(string reference, CancellationToken cancellationToken) => throw new NotSupportedException();
            public Task SaveAsync(string reference, string path, CancellationToken cancellationToken) => throw new NotSupportedException();
        }
    }
}
