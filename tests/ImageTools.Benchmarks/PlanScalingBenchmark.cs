using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Planning;
using ImageTools.Provenance;
using ImageTools.References;

namespace ImageTools.Benchmarks
{
    /// <summary>
    /// The rebuild check's own cost as the tree grows, with the registry taken away: every image is
    /// "published" in memory with the labels a build would stamp (inputs digest, parent digests), so
    /// the plan runs the whole decision (the base-change comparison included) and finds nothing to
    /// rebuild. Times <see cref="RebuildPlanner.PlanAsync"/> alone (the graph is built once), for
    /// each size, so that 10× the images can be compared with 10× the time.
    /// </summary>
    internal static class PlanScalingBenchmark
    {
        public static int Run(IReadOnlyList<int> sizes, int depth, int runs)
        {
            foreach (var size in sizes)
            {
                var root = Path.Combine(Path.GetTempPath(), "imagetools-plan-scaling-" + Guid.NewGuid().ToString("N").Substring(0, 8));
                try
                {
                    const string registry = "127.0.0.1:5000", seed = registry + "/scale/seed:1";
                    TreeGenerator.Write(root, size, depth, registry, "scale", seed);
                    var graph = ImageGraph.Build(TreeScanner.Scan(root));
                    var source = AsBuilt(graph, seed);
                    var digester = new BuildInputDigester(new FileHashCache(Path.Combine(root + "-cache", "file-hashes")));
                    var times = new List<double>();
                    for (var run = 0; run <= runs; run++)
                    {
                        var watch = Stopwatch.StartNew();
                        var plan = new RebuildPlanner(source, digester, new RebuildOptions()).PlanAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult();
                        watch.Stop();
                        var stale = plan.Where(s => s.NeedsRebuild).ToList();
                        if (stale.Count > 0)
                        {
                            Console.Error.WriteLine($"{stale.Count} images unexpectedly need a rebuild, e.g. {stale[0]}: {string.Join(" ", stale[0].Details)}");
                            return 1;
                        }
                        times.Add(watch.Elapsed.TotalMilliseconds);
                    }
                    var steady = times.Skip(1).OrderBy(t => t).ToList();
                    Console.WriteLine($"{size,6} images, {graph.Edges.Count,6} edges: first plan {times[0],7:F0} ms, then median {steady[steady.Count / 2],7:F0} ms " +
                                      $"(best {steady[0]:F0}, worst {steady[steady.Count - 1]:F0}, {steady.Count} runs)");
                }
                finally
                {
                    Directory.Delete(root, recursive: true);
                    if (Directory.Exists(root + "-cache")) Directory.Delete(root + "-cache", recursive: true);
                }
            }
            return 0;
        }

        /// <summary>What a registry would answer after a build of the whole tree: labels with inputs and parent digests.</summary>
        private static MemorySource AsBuilt(ImageGraph graph, string seed)
        {
            var digester = new BuildInputDigester();
            var images = new Dictionary<string, PublishedImage>(StringComparer.Ordinal) { [seed] = new PublishedImage("sha256:seed", new Dictionary<string, string>()) };
            var digestOf = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var node in graph.InBuildOrder(graph.Nodes))
            {
                var parents = node.Definition.ImageUses.Select(u => u.Reference).Distinct().ToDictionary(r => r, r =>
                    graph.Edges.FirstOrDefault(e => e.Dependent == node.Name && e.Reference == r) is { } edge ? digestOf[edge.Dependency] : images[r].Digest);
                var labels = new Dictionary<string, string>
                {
                    [ImageLabels.Name] = node.Name,
                    [ImageLabels.InputsDigest] = digester.Compute(node.Definition),
                    [ImageLabels.InputsScheme] = BuildInputDigester.Scheme,
                    [ImageLabels.Parents] = ImageLabels.FormatParents(parents),
                };
                digestOf[node.Name] = "sha256:" + node.Name;
                images[node.Reference] = new PublishedImage(digestOf[node.Name], labels);
            }
            return new MemorySource(images);
        }

        private sealed class MemorySource : IPublishedImageSource
        {
            private readonly IReadOnlyDictionary<string, PublishedImage> _images;
            public MemorySource(IReadOnlyDictionary<string, PublishedImage> images) => _images = images;
            public string Description => "memory";
            public Task<PublishedImage?> FindAsync(ImageReference reference, ImagePlatform? platform, CancellationToken cancellationToken) =>
                Task.FromResult(_images.TryGetValue(reference.ToString(), out var image) ? image : null);
        }
    }
}
