using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using ImageTools.Definitions;
using ImageTools.Graph;

namespace ImageTools.Benchmarks
{
    /// <summary>
    /// dotnet run -c Release --project tests/ImageTools.Benchmarks -- graph [--images N] [--depth D] [--runs R]
    /// dotnet run -c Release --project tests/ImageTools.Benchmarks -- builds [--throttle 8]
    /// dotnet run -c Release --project tests/ImageTools.Benchmarks -- plan [--images 1000] [--depth 5] [--runs 5] [--throttle 4]
    /// dotnet run -c Release --project tests/ImageTools.Benchmarks -- builder-tree [--images 50] [--out DIR]; then builder-run DIR cli|api [--throttle 2]
    /// dotnet run -c Release --project tests/ImageTools.Benchmarks -- dockerpkg-tree [--images 30] [--depth 5] [--out DIR] [--registry HOST:PORT] [--namespace NS]
    /// </summary>
    internal static class Program
    {
        private static int Main(string[] args)
        {
            if (args.Length > 0 && args[0] == "dockerpkg-tree")
            {
                var root = Path.GetFullPath(Text(args, "--out") ?? Path.Combine(Path.GetTempPath(), "imagetools-peer-tree"));
                var registry = Text(args, "--registry") ?? Environment.GetEnvironmentVariable("IMAGETOOLS_TEST_REGISTRY") ?? "127.0.0.1:5000";
                DockerPkgTreeGenerator.Write(root, Option(args, "--images", 30), Option(args, "--depth", 5), registry, Text(args, "--namespace") ?? "peer");
                Console.WriteLine(root);
                return 0;
            }
            if (args.Length > 0 && args[0] == "plan") return PlanBenchmark.Run(Option(args, "--images", 1000), Option(args, "--depth", 5), Option(args, "--runs", 5), Option(args, "--throttle", 4));
            if (args.Length > 0 && args[0] == "builder-tree")
                return BuilderBenchmark.WriteTree(Path.GetFullPath(Text(args, "--out") ?? Path.Combine(Path.GetTempPath(), "imagetools-builder-tree")), Option(args, "--images", 50));
            if (args.Length >= 3 && args[0] == "builder-run") return BuilderBenchmark.Build(args[1], args[2], Option(args, "--throttle", 2));
            if (args.Length >= 2 && args[0] == "peer-check") return PeerCheckBenchmark.Run(Path.GetFullPath(args[1]), Option(args, "--runs", 5), Option(args, "--throttle", 32), args.Contains("--http2-alternate"), args.Contains("--replay"));
            if (args.Length == 2 && args[0] == "publish-as-built") return RebuildCheckBenchmark.PublishTree(Path.GetFullPath(args[1]));
            if (args.Length > 0 && args[0] == "plan-scaling")
                return PlanScalingBenchmark.Run((Text(args, "--images") ?? "1000,10000").Split(',').Select(int.Parse).ToList(), Option(args, "--depth", 5), Option(args, "--runs", 3));
            if (args.Length > 0 && args[0] == "builds") return BuildBenchmark.Run(Option(args, "--throttle", 8));
            if (args.Length > 0 && args[0] == "local-check") return LocalCheckBenchmark.Run(Option(args, "--images", 1000), Option(args, "--depth", 5), Option(args, "--runs", 3), args.Contains("--present"));
            if (args.Length > 0 && args[0] == "publish") return PublishBenchmark.Run(Option(args, "--images", 50));
            if (args.Length > 0 && args[0] == "rebuild-check") return RebuildCheckBenchmark.Run(Option(args, "--images", 1000), Option(args, "--depth", 5), Option(args, "--runs", 5));
            if (args.Length == 4 && args[0] == "rebuild-check-run") return RebuildCheckBenchmark.Measure(args[1], args[2], int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture));
            if (args.Length == 0 || args[0] != "graph")
            {
                Console.Error.WriteLine("usage: ImageTools.Benchmarks graph [--images 1000] [--depth 5] [--runs 10]");
                Console.Error.WriteLine("       ImageTools.Benchmarks plan [--images 1000] [--depth 5] [--runs 5] [--throttle 4]   (New-ImageBuildPlan at scale)");
                Console.Error.WriteLine("       ImageTools.Benchmarks dockerpkg-tree [--images 30] [--depth 5] [--out DIR] [--registry HOST:PORT] [--namespace NS]   (see peer.sh)");
                Console.Error.WriteLine("       ImageTools.Benchmarks publish-as-built TREE   (the tree's images as a build leaves them, on its config's registry; see peer.sh)");
                Console.Error.WriteLine("       ImageTools.Benchmarks peer-check TREE [--runs 5] [--throttle 32] [--http2-alternate] [--replay]   (a no-op check of a published peer tree: time, requests, TLS connections per run)");
                Console.Error.WriteLine("       ImageTools.Benchmarks plan-scaling [--images 1000,10000] [--depth 5] [--runs 3]   (the rebuild check's decisions, registry in memory)");
                Console.Error.WriteLine("       ImageTools.Benchmarks builds [--throttle 8]   (needs a Docker engine with busybox:1.36)");
                Console.Error.WriteLine("       ImageTools.Benchmarks builder-tree [--images 50] [--out DIR], then builder-run DIR cli|api [--throttle 2]   (for hyperfine)");
                Console.Error.WriteLine("       ImageTools.Benchmarks publish [--images 50]   (needs DOCKER_HOST and IMAGETOOLS_TEST_REGISTRY)");
                Console.Error.WriteLine("       ImageTools.Benchmarks rebuild-check [--images 1000] [--depth 5] [--runs 5]   (needs IMAGETOOLS_TEST_REGISTRY)");
                return 2;
            }
            var images = Option(args, "--images", 1000);
            var depth = Option(args, "--depth", 5);
            var runs = Option(args, "--runs", 10);
            return GraphBenchmark(images, depth, runs);
        }

        /// <summary>Get-ImageGraph's engine path: scan (read, render, parse) and build the graph.</summary>
        private static int GraphBenchmark(int imageCount, int depth, int runs)
        {
            var root = Path.Combine(Path.GetTempPath(), "imagetools-bench-" + Guid.NewGuid().ToString("N"));
            try
            {
                TreeGenerator.Write(root, imageCount, depth);
                Console.WriteLine($"Tree: {imageCount} images, depth {depth}, at {root}");

                // Cold: first scan in a fresh process (JIT, type loading, YAML setup included).
                var cold = Time(root, out var graph);
                Console.WriteLine($"Nodes {graph.Nodes.Count}, edges {graph.Edges.Count}, levels {graph.Nodes.Max(n => n.Level) + 1}");
                var warm = Enumerable.Range(0, runs).Select(run => Time(root, out _)).OrderBy(t => t).ToArray();
                Console.WriteLine($"cold: {cold.TotalMilliseconds,8:F0} ms");
                Console.WriteLine($"warm: {warm[warm.Length / 2].TotalMilliseconds,8:F0} ms median, {warm[0].TotalMilliseconds:F0} ms best, {warm[warm.Length - 1].TotalMilliseconds:F0} ms worst over {runs} runs");
                return 0;
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
        }

        private static TimeSpan Time(string root, out ImageGraph graph)
        {
            var watch = Stopwatch.StartNew();
            var tree = TreeScanner.Scan(root);
            var scanned = watch.Elapsed;
            graph = ImageGraph.Build(tree);
            // The split shows which half grows faster than the tree (issue 16: linear in the tree).
            Console.WriteLine($"  scan {scanned.TotalMilliseconds:F0} ms, graph {(watch.Elapsed - scanned).TotalMilliseconds:F0} ms");
            return watch.Elapsed;
        }

        private static string? Text(string[] args, string name)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
        }

        private static int Option(string[] args, string name, int fallback)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], out var value) ? value : fallback;
        }
    }
}
