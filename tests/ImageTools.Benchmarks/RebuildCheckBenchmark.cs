using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Planning;
using ImageTools.Provenance;
using ImageTools.Registry;

namespace ImageTools.Benchmarks
{
    /// <summary>
    /// Get-ImageGraph | Test-ImageNeedsRebuild's engine path against a real registry: a generated
    /// 1,000-image tree is published to the registry through its API (a config with the labels
    /// a build would stamp, and a manifest), then the check runs with nothing changed. Cold: a new
    /// process with empty caches. Warm: later runs in one process with the caches on disk.
    /// Needs IMAGETOOLS_TEST_REGISTRY (host:port on loopback), as tests/services/start.sh sets it.
    /// </summary>
    internal static class RebuildCheckBenchmark
    {
        public static int Run(int imageCount, int depth, int warmRuns)
        {
            var registry = Environment.GetEnvironmentVariable("IMAGETOOLS_TEST_REGISTRY");
            if (string.IsNullOrEmpty(registry))
            {
                Console.Error.WriteLine("Set IMAGETOOLS_TEST_REGISTRY to a loopback registry (tests/services/start.sh DIR; . DIR/env).");
                return 2;
            }
            var id = Guid.NewGuid().ToString("N").Substring(0, 8);
            var root = Path.Combine(Path.GetTempPath(), "imagetools-check-bench-" + id);
            var cache = Path.Combine(root + "-cache");
            var ns = "bench" + id;
            try
            {
                TreeGenerator.Write(root, imageCount, depth, registry, ns, $"{registry}/{ns}/seed:1");
                var setup = Stopwatch.StartNew();
                PublishAsBuilt(root, registry, ns).GetAwaiter().GetResult();
                Console.WriteLine($"Published {imageCount} images (depth {depth}) to {registry}/{ns} in {setup.Elapsed.TotalSeconds:F1} s");

                var cold = Child(root, cache, 1).Single();
                var warm = Child(root, cache, warmRuns + 1);
                var steady = warm.Skip(1).OrderBy(r => r.Milliseconds).ToList();
                Console.WriteLine($"cold (new process, empty caches):        {cold.Milliseconds,6:F0} ms, {cold.Requests / (double)imageCount:F2} round trips per image");
                Console.WriteLine($"warm, first run in a new process:        {warm[0].Milliseconds,6:F0} ms, {warm[0].Requests / (double)imageCount:F2} round trips per image");
                Console.WriteLine($"warm (median of {steady.Count} runs in one process): {steady[steady.Count / 2].Milliseconds,6:F0} ms, " +
                                  $"{steady[steady.Count / 2].Requests / (double)imageCount:F2} round trips per image (best {steady[0].Milliseconds:F0} ms)");
                return 0;
            }
            finally
            {
                Directory.Delete(root, recursive: true);
                if (Directory.Exists(cache)) Directory.Delete(cache, recursive: true);
            }
        }

        /// <summary>The child side: plan <paramref name="runs"/> times, print one line per run: milliseconds, requests.</summary>
        public static int Measure(string root, string cache, int runs)
        {
            for (var run = 0; run < runs; run++)
            {
                var requests = 0;
                var watch = Stopwatch.StartNew();
                var graph = ImageGraph.Build(TreeScanner.Scan(root));
                var options = new RegistryClientOptions
                {
                    ConfigCacheDirectory = Path.Combine(cache, "configs"),
                    Progress = new CountingProgress(() => Interlocked.Increment(ref requests)),
                };
                using var source = new RegistryImageSource(options);
                var planner = new RebuildPlanner(source, new BuildInputDigester(new FileHashCache(Path.Combine(cache, "file-hashes"))), new RebuildOptions());
                var plan = planner.PlanAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult();
                watch.Stop();
                var stale = plan.Where(s => s.NeedsRebuild).ToList();
                if (stale.Count > 0)
                {
                    Console.Error.WriteLine($"{stale.Count} images unexpectedly need a rebuild, e.g. {stale[0]}: {string.Join(" ", stale[0].Details)}");
                    return 1;
                }
                Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0:F1} {1}", watch.Elapsed.TotalMilliseconds, requests));
            }
            return 0;
        }

        private static List<(double Milliseconds, int Requests)> Child(string root, string cache, int runs)
        {
            var start = new ProcessStartInfo("dotnet", $"\"{typeof(RebuildCheckBenchmark).Assembly.Location}\" rebuild-check-run \"{root}\" \"{cache}\" {runs}")
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException("The measuring process failed: " + output);
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' '))
                .Select(p => (double.Parse(p[0], CultureInfo.InvariantCulture), int.Parse(p[1], CultureInfo.InvariantCulture))).ToList();
        }

        /// <summary>Uploads for every image the config a build would have produced (its labels) and a manifest, parents first.</summary>
        private static async Task PublishAsBuilt(string root, string registry, string ns)
        {
            var graph = ImageGraph.Build(TreeScanner.Scan(root));
            using var client = new RegistryClient(registry);
            var seedDigest = await PushAsync(client, $"{ns}/seed", "1", new Dictionary<string, string>()).ConfigureAwait(false);
            await PublishAsBuilt(graph, client, node => $"{ns}/{node.Name}", _ => seedDigest).ConfigureAwait(false);
        }

        /// <summary>
        /// The tree at <paramref name="root"/> (with registry: and namespace: in its config) published as a
        /// build would have left it, on a registry that may need TLS (the config's ca_bundle) and
        /// credentials (Docker's config.json): no-op runs of large trees without building them.
        /// External bases must already be in the registry; their current digests are recorded.
        /// </summary>
        public static int PublishTree(string root)
        {
            var graph = ImageGraph.Build(TreeScanner.Scan(root));
            var config = graph.Tree.Config;
            if (config.Registry == null)
            {
                Console.Error.WriteLine($"{root}: the tree's config names no registry.");
                return 2;
            }
            var options = new RegistryClientOptions { CaBundlePath = config.CaBundle };
            using var client = new RegistryClient(config.Registry, options);
            using var source = new RegistryImageSource(options);
            var externals = graph.Nodes.SelectMany(n => n.BaseImages).Distinct().ToDictionary(b => b, b =>
                source.FindAsync(ImageTools.References.ImageReference.Parse(b), null, CancellationToken.None).GetAwaiter().GetResult()?.Digest
                ?? throw new InvalidOperationException($"The base {b} is not in the registry: push it first."));
            var prefix = config.Registry + "/";
            var watch = Stopwatch.StartNew();
            PublishAsBuilt(graph, client, node => node.Reference.Substring(prefix.Length, node.Reference.LastIndexOf(':') - prefix.Length),
                reference => externals[reference], withLayer: true).GetAwaiter().GetResult();
            Console.WriteLine($"Published {graph.Nodes.Count} images of {root} to {config.Registry} in {watch.Elapsed.TotalSeconds:F1} s");
            return 0;
        }

        private static async Task PublishAsBuilt(ImageGraph graph, RegistryClient client, Func<ImageNode, string> repositoryOf, Func<string, string> externalDigest,
            bool withLayer = false)
        {
            var digests = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
            var digester = new BuildInputDigester();
            using var throttle = new SemaphoreSlim(16);
            foreach (var level in graph.Nodes.GroupBy(n => n.Level).OrderBy(g => g.Key))
            {
                await Task.WhenAll(level.Select(async node =>
                {
                    await throttle.WaitAsync().ConfigureAwait(false);
                    try
                    {
                        var parents = node.Definition.ImageUses.Select(u => u.Reference).Distinct().ToDictionary(r => r, r =>
                            graph.Edges.FirstOrDefault(e => e.Dependent == node.Name && e.Reference == r) is { } edge ? digests[edge.Dependency] : externalDigest(r));
                        var labels = new Dictionary<string, string>
                        {
                            [ImageLabels.Name] = node.Name,
                            [ImageLabels.InputsDigest] = digester.Compute(node.Definition),
                            [ImageLabels.InputsScheme] = BuildInputDigester.Scheme,
                            [ImageLabels.Parents] = ImageLabels.FormatParents(parents),
                        };
                        digests[node.Name] = await PushAsync(client, repositoryOf(node), node.Tag, labels, withLayer).ConfigureAwait(false);
                    }
                    finally { throttle.Release(); }
                })).ConfigureAwait(false);
            }
        }

        /// <summary>An empty tar (two zero blocks), gzipped: the one layer of <see cref="PushAsync"/>'s images when they need one.</summary>
        private static readonly byte[] EmptyLayer = Gzip(new byte[1024]);
        private static readonly string EmptyLayerDiffId = "sha256:" + string.Concat(System.Security.Cryptography.SHA256.Create().ComputeHash(new byte[1024]).Select(b => b.ToString("x2")));

        /// <summary>
        /// A config blob holding the labels and a manifest; returns the config digest (the image id).
        /// Layerless unless <paramref name="withLayer"/>: distribution answers a GET without a schema 2
        /// Accept header (docker-pkg's "is it published?") by converting to schema 1, which fails with
        /// MANIFEST_INVALID for an image without layers and history.
        /// </summary>
        private static async Task<string> PushAsync(RegistryClient client, string repository, string tag, IReadOnlyDictionary<string, string> labels, bool withLayer = false)
        {
            var config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Labels\":{" +
                string.Join(",", labels.Select(l => $"\"{l.Key}\":\"{l.Value}\"")) + "}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" +
                (withLayer ? $"\"{EmptyLayerDiffId}\"]}},\"history\":[{{\"created_by\":\"benchmark\"}}]}}" : "]}}"));
            var layers = "";
            if (withLayer)
            {
                var layerDigest = await client.UploadBlobAsync(repository, EmptyLayer).ConfigureAwait(false);
                layers = "{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":" + EmptyLayer.Length + ",\"digest\":\"" + layerDigest + "\"}";
            }
            var configDigest = await client.UploadBlobAsync(repository, config).ConfigureAwait(false);
            var manifest = Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.DockerManifest + "\",\"config\":{\"mediaType\":\"" +
                MediaTypes.DockerConfig + "\",\"size\":" + config.Length + ",\"digest\":\"" + configDigest + "\"},\"layers\":[" + layers + "]}");
            await client.PutManifestAsync(repository, tag, manifest, MediaTypes.DockerManifest).ConfigureAwait(false);
            return configDigest;
        }

        private static byte[] Gzip(byte[] data)
        {
            using var output = new MemoryStream();
            using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(data, 0, data.Length);
            return output.ToArray();
        }

        private sealed class CountingProgress : IProgress<RegistryEvent>
        {
            private readonly Action _count;
            public CountingProgress(Action count) => _count = count;
            public void Report(RegistryEvent value)
            {
                if (value.Kind == RegistryEventKind.Request) _count();
            }
        }
    }
}
