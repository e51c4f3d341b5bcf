using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Planning;

namespace ImageTools.Benchmarks
{
    /// <summary>
    /// New-ImageBuildPlan at scale: the time to plan a generated tree with every image stale, the waves
    /// and legs it makes, and the wall time the plan implies for 1, 8 and 32 agents against one host, in
    /// units of one image's build time (every image costs the same here; see docs/benchmarks.md).
    /// </summary>
    internal static class PlanBenchmark
    {
        public static int Run(int imageCount, int depth, int runs, int throttle)
        {
            var root = Path.Combine(Path.GetTempPath(), "imagetools-plan-bench-" + Guid.NewGuid().ToString("N"));
            try
            {
                TreeGenerator.Write(root, imageCount, depth);
                var graph = ImageGraph.Build(TreeScanner.Scan(root));
                var statuses = graph.Nodes.Select(node =>
                {
                    var status = new RebuildStatus(node, "sha256:" + node.Name);
                    status.Add(RebuildReason.NotPublished, "generated");
                    return status;
                }).ToList();
                Console.WriteLine($"Tree: {graph.Nodes.Count} images, {graph.Edges.Count} edges, {graph.Nodes.Max(n => n.Level) + 1} levels; all stale");

                // Each agent (and the one host) builds with the same throttle: a leg's images are independent.
                var critical = graph.Nodes.Max(n => n.Level) + 1;
                var host = Math.Max(critical, (int)Math.Ceiling(graph.Nodes.Count / (double)throttle));
                Console.WriteLine($"One host, {throttle} builds at a time: {host} image-times (the longer of the critical path, {critical}, and all images / {throttle})");
                // ImageBuilder's (dotnet/docker-tools) legs are connected components of the stale graph. With
                // one shared in-tree base (the .NET images' case) the whole tree is one component, one leg.
                var components = Components(graph);
                Console.WriteLine($"Connected components: {components.Count} as generated, the largest {components.Max()} images; 1 with a shared in-tree base");
                foreach (var agents in new[] { 1, 8, 32 })
                {
                    var cold = Stopwatch.StartNew();
                    var plan = BuildPlanner.Plan(statuses, agents);
                    var coldMs = cold.Elapsed.TotalMilliseconds;
                    var warm = Enumerable.Range(0, runs).Select(_ =>
                    {
                        var watch = Stopwatch.StartNew();
                        BuildPlanner.Plan(statuses, agents);
                        return watch.Elapsed.TotalMilliseconds;
                    }).OrderBy(t => t).ToArray();
                    // A wave ends when its slowest leg ends; a leg of n independent images takes ceil(n / throttle).
                    var wall = plan.Waves.Sum(wave => wave.Max(leg => (int)Math.Ceiling(leg.ImageCount / (double)throttle)));
                    var legs = string.Join(" ", plan.Waves.Select(wave => wave.Count));
                    // Components packed onto the agents, heaviest first; a leg takes the longer of its critical path and its images / throttle.
                    var loads = new int[agents];
                    foreach (var size in components.OrderByDescending(c => c)) loads[Array.IndexOf(loads, loads.Min())] += size;
                    var byComponent = Math.Max(critical, (int)Math.Ceiling(loads.Max() / (double)throttle));
                    Console.WriteLine($"{agents,2} agents: plan {coldMs,6:F0} ms cold, {warm[warm.Length / 2],6:F0} ms warm (median of {runs}); " +
                                      $"{plan.Waves.Count} waves, legs per wave {legs}; wall {wall} image-times ({host / (double)wall:F1}x one host); " +
                                      $"by component {byComponent} ({host / (double)byComponent:F1}x), with a shared base {host} (1.0x)");
                }
                return 0;
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
        }

        private static List<int> Components(ImageGraph graph)
        {
            var root = graph.Nodes.ToDictionary(n => n.Name, n => n.Name, StringComparer.Ordinal);
            string Find(string name)
            {
                while (root[name] != name) name = root[name] = root[root[name]];
                return name;
            }
            foreach (var edge in graph.Edges) root[Find(edge.Dependent)] = Find(edge.Dependency);
            return graph.Nodes.GroupBy(n => Find(n.Name)).Select(g => g.Count()).ToList();
        }
    }
}
