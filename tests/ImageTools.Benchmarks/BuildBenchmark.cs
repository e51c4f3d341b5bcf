using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Docker.Cli;
using ImageTools.Engines;
using ImageTools.Graph;

namespace ImageTools.Benchmarks
{
    /// <summary>
    /// Builds 8 independent images with a CPU-light 2-second RUN plus a 3-level chain of the same,
    /// once with -ThrottleLimit 8 and once one at a time, with --no-cache so every RUN executes.
    /// The critical path is the longest chain of per-image durations measured in the serial run.
    /// Needs a Docker engine (DOCKER_HOST) holding busybox:1.36.
    /// </summary>
    internal static class BuildBenchmark
    {
        public static int Run(int throttle)
        {
            var root = Path.Combine(Path.GetTempPath(), "imagetools-build-bench-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            var prefix = "bench" + Path.GetFileName(root).Substring(Path.GetFileName(root).Length - 8);
            try
            {
                Write(root, prefix);
                var graph = ImageGraph.Build(TreeScanner.Scan(root));
                var engine = new DockerCliEngine();

                var serial = Time(graph, engine, 1, out var serialResults);
                var parallel = Time(graph, engine, throttle, out _);
                var durations = serialResults.ToDictionary(r => r.Name, r => r.Duration);
                var critical = CriticalPath(graph, durations);

                Console.WriteLine($"Images: {graph.Nodes.Count} (8 independent + a 3-level chain), each RUN sleeps 2 s, --no-cache");
                Console.WriteLine($"serial (-ThrottleLimit 1):   {serial.TotalSeconds,6:F1} s");
                Console.WriteLine($"parallel (-ThrottleLimit {throttle}): {parallel.TotalSeconds,6:F1} s");
                Console.WriteLine($"critical path (serial durations of the chain): {critical.TotalSeconds:F1} s");
                Console.WriteLine($"parallel / critical path: {parallel.TotalSeconds / critical.TotalSeconds:F2} (target <= 1.2)");
                return 0;
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
        }

        private static void Write(string root, string prefix)
        {
            void Image(string name, string from)
            {
                var directory = Path.Combine(root, name);
                Directory.CreateDirectory(directory);
                File.WriteAllText(Path.Combine(directory, "Dockerfile"), $"FROM {from}\nRUN sleep 2 && echo {name} > /{name}\n");
                File.WriteAllText(Path.Combine(directory, "image.yaml"), $"name: {prefix}-{name}\n");
            }
            for (var i = 1; i <= 8; i++) Image($"leaf{i}", "busybox:1.36");
            Image("chain1", "busybox:1.36");
            Image("chain2", $"{prefix}-chain1");
            Image("chain3", $"{prefix}-chain2");
        }

        private static TimeSpan Time(ImageGraph graph, IContainerEngine engine, int throttle, out IReadOnlyList<BuildResult> results)
        {
            var watch = Stopwatch.StartNew();
            results = new ImageBuilder(engine, new BuildOptions { ThrottleLimit = throttle, NoCache = true })
                .BuildAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult();
            var failed = results.FirstOrDefault(r => r.Status != BuildStatus.Built);
            if (failed != null) throw new InvalidOperationException($"{failed.Name}: {failed.Status} {failed.Error}");
            return watch.Elapsed;
        }

        /// <summary>The longest path through the graph, weighing each image by its build duration.</summary>
        private static TimeSpan CriticalPath(ImageGraph graph, IReadOnlyDictionary<string, TimeSpan> durations)
        {
            var finish = new Dictionary<string, TimeSpan>();
            foreach (var node in graph.Nodes)
                finish[node.Name] = graph.DependenciesOf(node).Select(d => finish[d.Name]).DefaultIfEmpty(TimeSpan.Zero).Max() + durations[node.Name];
            return finish.Values.Max();
        }
    }
}
