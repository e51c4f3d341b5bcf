using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Definitions;
using ImageTools.Docker.Api;
using ImageTools.Docker.Cli;
using ImageTools.Engines;
using ImageTools.Graph;
using ImageTools.Planning;
using ImageTools.References;

namespace ImageTools.Benchmarks
{
    /// <summary>
    /// Test-ImageNeedsRebuild with no registry (the local engine as the record of what is built) on a
    /// generated 1,000-image tree whose every image is in the engine: one inspection per image,
    /// through the docker CLI (a process each) and through the Engine API, same engine, same run.
    /// Needs DOCKER_HOST pointing at a test engine holding busybox:1.36.
    /// </summary>
    internal static class LocalCheckBenchmark
    {
        public static int Run(int imageCount, int depth, int runs, bool present)
        {
            var id = Guid.NewGuid().ToString("N").Substring(0, 8);
            var root = Path.Combine(Path.GetTempPath(), "imagetools-local-bench-" + id);
            var ns = "localbench" + id;
            using var api = (IDisposable)DockerEngineFactory.Create(useCli: false);
            var engine = (IContainerEngine)api;
            try
            {
                TreeGenerator.Write(root, imageCount, depth, "127.0.0.1:5000", ns);
                var graph = ImageGraph.Build(TreeScanner.Scan(root));
                // --present: every image in the engine (all tags of one image, so each inspection carries
                // 1,000 tags); else none is, and each look-up is the engine's "no such image".
                if (present) Parallel.ForEach(graph.Nodes, new ParallelOptions { MaxDegreeOfParallelism = 8 },
                    node => engine.TagAsync("busybox:1.36", node.Reference, CancellationToken.None).GetAwaiter().GetResult());
                foreach (var (name, candidate) in new[] { ("docker CLI", (IContainerEngine)new DockerCliEngine()), ("Engine API", engine), ("floor", new AnswerOfOne(engine)) })
                {
                    var times = Enumerable.Range(0, runs).Select(_ => Plan(root, candidate)).OrderBy(t => t).ToList();
                    Console.WriteLine($"{name,-10}: median {times[times.Count / 2],7:F0} ms of {runs} runs (best {times[0]:F0} ms), {imageCount} images {(present ? "present" : "absent")}");
                }
                if (present) Parallel.ForEach(graph.Nodes, new ParallelOptions { MaxDegreeOfParallelism = 8 },
                    node => engine.RemoveAsync(node.Reference, CancellationToken.None).GetAwaiter().GetResult());
                return 0;
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
        }

        /// <summary>The floor: every look-up answered from memory with one inspection, so only scanning and digesting remain.</summary>
        private sealed class AnswerOfOne : IContainerEngine
        {
            private readonly ImageInspection _inspection;
            public AnswerOfOne(IContainerEngine engine) => _inspection = engine.InspectAsync("busybox:1.36", CancellationToken.None).GetAwaiter().GetResult()!;
            public System.Collections.Generic.IReadOnlyDictionary<string, string?> ClientEnvironment => throw new NotSupportedException();
            public Task<ImageInspection?> InspectAsync(string image, CancellationToken cancellationToken) => Task.FromResult<ImageInspection?>(_inspection);
            public Task<string> GetVersionAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
            public Task CheckBuilderAsync(string builder, CancellationToken cancellationToken) => throw new NotSupportedException();
            public Task<string> BuildAsync(BuildRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
            public Task TagAsync(string image, string reference, CancellationToken cancellationToken) => throw new NotSupportedException();
            public Task PullAsync(string reference, ImagePlatform? platform, CancellationToken cancellationToken) => throw new NotSupportedException();
            public Task PushAsync(string reference, CancellationToken cancellationToken) => throw new NotSupportedException();
            public Task RemoveAsync(string image, CancellationToken cancellationToken) => throw new NotSupportedException();
            public Task SaveAsync(string reference, string path, CancellationToken cancellationToken) => throw new NotSupportedException();
        }

        private static double Plan(string root, IContainerEngine engine)
        {
            var watch = Stopwatch.StartNew();
            var graph = ImageGraph.Build(TreeScanner.Scan(root));
            var planner = new RebuildPlanner(new LocalEngineImageSource(engine), new BuildInputDigester(), new RebuildOptions());
            var plan = planner.PlanAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult();
            if (plan.Count != graph.Nodes.Count) throw new InvalidOperationException("The plan lost images.");
            return watch.Elapsed.TotalMilliseconds;
        }
    }
}
