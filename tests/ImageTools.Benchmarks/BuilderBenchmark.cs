using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Docker;
using ImageTools.Docker.Api;
using ImageTools.Graph;
using ImageTools.Registry;

namespace ImageTools.Benchmarks
{
    /// <summary>
    /// The docker CLI against the Engine API as the builder, as the cmdlets put the engine together
    /// (DockerEngineFactory, IMAGETOOLS_BUILDER=cli or api), on one 50-image tree: 10 images on
    /// busybox:1.36, 20 on those, 20 on those; each copies a small file and gets the labels, and is
    /// tagged. --no-cache, so every run builds every step. One build of the whole tree per process,
    /// for hyperfine: <c>builder-tree --out DIR</c> writes the tree once, <c>builder-run DIR cli|api</c> builds it.
    /// </summary>
    internal static class BuilderBenchmark
    {
        public static int WriteTree(string root, int images)
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
            var prefix = "bb" + Guid.NewGuid().ToString("N").Substring(0, 6);
            var level0 = Math.Max(1, images / 5);
            var level1 = (images - level0) / 2;
            for (var i = 0; i < images; i++)
            {
                var name = $"img{i:D3}";
                var from = i < level0 ? "busybox:1.36" : i < level0 + level1 ? $"{prefix}-img{(i - level0) % level0:D3}" : $"{prefix}-img{level0 + (i - level0 - level1) % level1:D3}";
                var directory = Path.Combine(root, name);
                Directory.CreateDirectory(directory);
                File.WriteAllText(Path.Combine(directory, "Dockerfile"), $"FROM {from}\nCOPY payload.txt /payload/{name}.txt\n");
                File.WriteAllText(Path.Combine(directory, "payload.txt"), string.Concat(Enumerable.Repeat(name + "\n", 200)));
                File.WriteAllText(Path.Combine(directory, "image.yaml"), $"name: {prefix}-{name}\nversion: '1.0'\n");
            }
            Console.WriteLine(root);
            return 0;
        }

        public static int Build(string root, string builder, int throttle)
        {
            var graph = ImageGraph.Build(TreeScanner.Scan(root));
            using var engine = (DockerEngine)DockerEngineFactory.Create(
                new Dictionary<string, string?> { [DockerEngineFactory.BuilderVariable] = builder }, AnonymousCredentialSource.Instance);
            if (engine.BuildsThroughCli != (builder == "cli")) throw new InvalidOperationException($"asked for the {builder} builder, got the other");
            var watch = Stopwatch.StartNew();
            var results = new ImageBuilder(engine, new BuildOptions { ThrottleLimit = throttle, NoCache = true })
                .BuildAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult();
            var failed = results.FirstOrDefault(r => r.Status != BuildStatus.Built);
            if (failed != null) throw new InvalidOperationException($"{failed.Name}: {failed.Status} {failed.Error}");
            Console.WriteLine($"{results.Count} images built and tagged through the {builder} builder in {watch.Elapsed.TotalSeconds:F1} s");
            return 0;
        }
    }
}
