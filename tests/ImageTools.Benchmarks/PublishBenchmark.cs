using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Definitions;
using ImageTools.Docker.Cli;
using ImageTools.Engines;
using ImageTools.Graph;
using ImageTools.Publishing;
using ImageTools.References;
using ImageTools.Registry;

namespace ImageTools.Benchmarks
{
    /// <summary>
    /// 50 images published to a loopback registry, then: publishing them again (a no-op), and adding
    /// a tag to each through the registry API (manifest GET + PUT) beside docker pull/tag/push.
    /// The images are busybox:1.36 under 50 names, so the numbers measure publishing, not building.
    /// Needs DOCKER_HOST and IMAGETOOLS_TEST_REGISTRY (tests/services/start.sh).
    /// </summary>
    internal static class PublishBenchmark
    {
        public static int Run(int count)
        {
            var registry = Environment.GetEnvironmentVariable("IMAGETOOLS_TEST_REGISTRY");
            if (string.IsNullOrEmpty(registry))
            {
                Console.Error.WriteLine("Set DOCKER_HOST and IMAGETOOLS_TEST_REGISTRY (tests/services/start.sh DIR; . DIR/env).");
                return 2;
            }
            var id = Guid.NewGuid().ToString("N").Substring(0, 8);
            var root = Path.Combine(Path.GetTempPath(), "imagetools-publish-bench-" + id);
            try
            {
                Directory.CreateDirectory(root);
                File.WriteAllText(Path.Combine(root, "imagetools.yaml"), $"registry: {registry}\nnamespace: pub{id}\n");
                for (var i = 0; i < count; i++)
                {
                    var directory = Path.Combine(root, $"img-{i:D2}");
                    Directory.CreateDirectory(directory);
                    File.WriteAllText(Path.Combine(directory, "Dockerfile"), "FROM busybox:1.36\n");
                    File.WriteAllText(Path.Combine(directory, "image.yaml"), "version: '1.0'\n");
                }
                var graph = ImageGraph.Build(TreeScanner.Scan(root));
                var engine = new DockerCliEngine();
                var imageId = engine.InspectAsync("busybox:1.36", CancellationToken.None).GetAwaiter().GetResult()!.Id;
                foreach (var node in graph.Nodes) engine.TagAsync(imageId, node.Reference, CancellationToken.None).GetAwaiter().GetResult();
                var images = graph.Nodes.Select(n => new ImageToPublish(n, imageId)).ToList();

                var first = Time(() => Publish(registry!, engine, images, PublishStatus.Pushed));
                var again = Time(() => Publish(registry!, engine, images, PublishStatus.AlreadyPublished));
                var api = Time(() => TagThroughApi(registry!, graph.Nodes, "api-tag"));
                var docker = Time(() => TagThroughDocker(engine, graph.Nodes, "docker-tag"));

                Console.WriteLine($"{count} images, registry {registry}");
                Console.WriteLine($"first publish (push + latest):          {first.TotalSeconds,6:F2} s");
                Console.WriteLine($"publish again (no-op, target < 2 s):     {again.TotalSeconds,6:F2} s");
                Console.WriteLine($"add a tag via registry API:             {api.TotalSeconds,6:F2} s");
                Console.WriteLine($"add a tag via docker pull/tag/push:     {docker.TotalSeconds,6:F2} s");
                foreach (var node in graph.Nodes)
                    foreach (var tag in new[] { node.Reference, Retagged(node, "docker-tag") })
                        engine.RemoveAsync(tag, CancellationToken.None).GetAwaiter().GetResult();
                return 0;
            }
            finally
            {
                Directory.Delete(root, recursive: true);
            }
        }

        private static void Publish(string registry, IContainerEngine engine, List<ImageToPublish> images, PublishStatus expected)
        {
            using var client = new RegistryClient(registry);
            var results = new RegistryPublisher(engine, client, new RegistryPublishOptions { ThrottleLimit = 8 })
                .PublishAsync(images, CancellationToken.None).GetAwaiter().GetResult();
            var wrong = results.FirstOrDefault(r => r.Status != expected);
            if (wrong != null) throw new InvalidOperationException($"{wrong.Reference}: {wrong.Status}, expected {expected}. {wrong.Error}");
        }

        private static void TagThroughApi(string registry, IReadOnlyList<ImageNode> nodes, string tag)
        {
            using var client = new RegistryClient(registry);
            Task.WhenAll(nodes.Select(async node =>
            {
                var repository = ImageReference.Parse(node.Reference).Normalize().Repository;
                var manifest = (await client.GetManifestAsync(repository, node.Tag).ConfigureAwait(false))!;
                await client.PutManifestAsync(repository, tag, manifest.Bytes, manifest.MediaType).ConfigureAwait(false);
            })).GetAwaiter().GetResult();
        }

        /// <summary>What scripts do without a registry client: pull, tag, push, one image after another.</summary>
        private static void TagThroughDocker(IContainerEngine engine, IReadOnlyList<ImageNode> nodes, string tag)
        {
            foreach (var node in nodes)
            {
                engine.PullAsync(node.Reference, null, CancellationToken.None).GetAwaiter().GetResult();
                engine.TagAsync(node.Reference, Retagged(node, tag), CancellationToken.None).GetAwaiter().GetResult();
                engine.PushAsync(Retagged(node, tag), CancellationToken.None).GetAwaiter().GetResult();
            }
        }

        private static string Retagged(ImageNode node, string tag) => node.ReferenceWithTag(tag).ToString();

        private static TimeSpan Time(Action action)
        {
            var watch = Stopwatch.StartNew();
            action();
            return watch.Elapsed;
        }
    }
}
