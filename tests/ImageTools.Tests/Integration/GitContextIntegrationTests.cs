using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Engines;
using ImageTools.Graph;
using ImageTools.Planning;
using ImageTools.Provenance;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>
    /// Git contexts and builder files built by the real engine: a repository served by file:// (and by
    /// git daemon on 127.0.0.1), built from the commit its ref names, stale after a new commit.
    /// </summary>
    [Collection(DockerCollection.Name)]
    public class GitContextIntegrationTests
    {
        private static IContainerEngine EngineFor(string builder) => builder == "api" ? ApiBuildTests.ApiBuildingEngine() : DockerServices.Engine();

        private static Dictionary<string, RebuildStatus> Plan(IContainerEngine engine, ImageGraph graph) =>
            new RebuildPlanner(new LocalEngineImageSource(engine), new BuildInputDigester(), new RebuildOptions())
                .PlanAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult().ToDictionary(s => s.Name);

        private static void Build(IContainerEngine engine, ImageGraph graph)
        {
            var results = new ImageBuilder(engine, new BuildOptions { ThrottleLimit = 2 }).BuildAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult();
            Assert.All(results, r => Assert.True(r.Status == BuildStatus.Built, $"{r.Name}: {r.Status} {r.Error}"));
        }

        private static string Cat(string image, string path) => DockerServices.Docker("run", "--rm", image, "cat", path);

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerTheory]
        [InlineData("cli")]
        [InlineData("api")]
        public void An_image_is_built_from_the_commit_its_ref_names_and_is_stale_after_a_new_commit(string builder)
        {
            DockerServices.Require();
            var engine = EngineFor(builder);
            using var repository = new GitRepository();
            var first = repository.Write("images/app/Dockerfile", "FROM busybox:1.36\nCOPY hello.txt /hello.txt\n").Write("images/app/hello.txt", "one\n").Commit();
            var space = "gitctx" + Guid.NewGuid().ToString("N").Substring(0, 10);
            using var tree = new TestTree()
                .Write("imagetools.yaml", $"namespace: {space}\n")
                .Write("app/image.yaml", $"name: app\ncontext: {repository.Url}#main:images/app\n");

            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            Assert.Equal(new[] { RebuildReason.NotPublished }, Plan(engine, graph)["app"].Reasons);
            Build(engine, graph);
            var reference = graph["app"].Reference;
            Assert.Equal("one\n", Cat(reference, "/hello.txt"));
            var labels = engine.InspectAsync(reference, CancellationToken.None).GetAwaiter().GetResult()!.Labels;
            Assert.Equal(first, labels[ImageLabels.Revision]);
            Assert.Equal(repository.Url, labels[ImageLabels.Source]);

            // Unchanged ref: up to date, from the cached checkout.
            Assert.False(Plan(engine, ImageGraph.Build(TreeScanner.Scan(tree.Root)))["app"].NeedsRebuild);

            // A new commit on the ref: stale, and the rebuild takes exactly that commit.
            var second = repository.Write("images/app/hello.txt", "two\n").Commit();
            graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            Assert.Equal(second, graph["app"].ContextCommit);
            var stale = Plan(engine, graph)["app"];
            Assert.Equal(new[] { RebuildReason.InputsChanged }, stale.Reasons);
            Assert.Contains($"built from commit {first.Substring(0, 12)}; refs/heads/main is now {second.Substring(0, 12)}", stale.Details[0]);
            Build(engine, graph);
            Assert.Equal("two\n", Cat(reference, "/hello.txt"));
            Assert.False(Plan(engine, ImageGraph.Build(TreeScanner.Scan(tree.Root)))["app"].NeedsRebuild);
            DockerServices.Run("docker", new[] { "rmi", "-f", reference }, null, check: false);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_repository_served_by_git_daemon_on_loopback_is_a_context_too()
        {
            DockerServices.Require();
            using var repository = new GitRepository();
            var commit = repository.Write("Dockerfile", "FROM busybox:1.36\nRUN echo served > /served\n").Commit();
            var port = FreePort();
            using var daemon = Process.Start(new ProcessStartInfo("git", $"daemon --reuseaddr --export-all --listen=127.0.0.1 --port={port} --base-path={repository.Parent} {repository.Parent}")
            {
                UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true,
            })!;
            try
            {
                WaitForPort(port);
                var space = "gitctx" + Guid.NewGuid().ToString("N").Substring(0, 10);
                using var tree = new TestTree()
                    .Write("imagetools.yaml", $"namespace: {space}\n")
                    .Write("served/image.yaml", $"name: served\ncontext: git://127.0.0.1:{port}/repo.git#main\n");

                var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
                Assert.Equal(commit, graph["served"].ContextCommit);
                Build(DockerServices.Engine(), graph);
                Assert.Equal("served\n", Cat(graph["served"].Reference, "/served"));
                DockerServices.Run("docker", new[] { "rmi", "-f", graph["served"].Reference }, null, check: false);
            }
            finally
            {
                try { daemon.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            }
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_builder_file_builds_its_images_in_order_of_from()
        {
            DockerServices.Require();
            var space = "builder" + Guid.NewGuid().ToString("N").Substring(0, 10);
            using var tree = new TestTree()
                .Write("builder.yaml", $"builder:\n  images:\n    - name: {space}/app\n      from: {space}/base:1.0\n      path: app\n    - name: {space}/base:1.0\n      from: busybox:1.36\n      path: base\n")
                .Image("base", "FROM busybox:1.36\nRUN echo base > /base\n")
                .Image("app", $"FROM {space}/base:1.0\nRUN cat /base > /app\n");
            var engine = DockerServices.Engine();

            var graph = ImageGraph.Build(TreeScanner.Scan(tree.PathOf("builder.yaml")));
            Assert.Equal(new[] { "base" }, graph["app"].Dependencies);
            Build(engine, graph);
            Assert.Equal("base\n", Cat(graph["app"].Reference, "/app"));
            Assert.All(Plan(engine, ImageGraph.Build(TreeScanner.Scan(tree.PathOf("builder.yaml")))).Values, s => Assert.False(s.NeedsRebuild, s.ToString()));
            foreach (var node in graph.Nodes) DockerServices.Run("docker", new[] { "rmi", "-f", node.Reference }, null, check: false);
        }

        private static int FreePort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }

        private static void WaitForPort(int port)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (true)
            {
                try
                {
                    using var client = new TcpClient();
                    client.Connect(IPAddress.Loopback, port);
                    return;
                }
                catch (SocketException) when (DateTime.UtcNow < deadline) { Thread.Sleep(100); }
            }
        }
    }
}
