using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Publishing;
using ImageTools.Registry;
using ImageTools.Tests.Fakes;
using ImageTools.Tests.Registry;
using Xunit;

namespace ImageTools.Tests.Publishing
{
    /// <summary>
    /// Fail fast, once (issue 18): a registry found down stops the rest of the run within one retry
    /// policy, and every image says that it was not attempted because of the first failure, naming it.
    /// Real sockets on 127.0.0.1 (a closed port; a proxy that dies), the default retry policy.
    /// </summary>
    public class RegistryCircuitTests : IDisposable
    {
        private const int ImageCount = 30;
        private readonly TestTree _tree = new TestTree();
        private readonly FakeContainerEngine _engine = new FakeContainerEngine();

        public void Dispose() => _tree.Dispose();

        private List<ImageToPublish> Tree(string registry)
        {
            _tree.Write("imagetools.yaml", $"registry: {registry}\n");
            for (var i = 0; i < ImageCount; i++)
                _tree.Image($"app{i:00}", "FROM scratch\n").Write($"app{i:00}/changelog", TestTree.Changelog($"app{i:00}", "1.0.0"));
            var graph = ImageGraph.Build(TreeScanner.Scan(_tree.Root));
            return graph.Nodes.OrderBy(n => n.Name, StringComparer.Ordinal)
                .Select(n => new ImageToPublish(n, _engine.Hold(n.Reference, "layer of " + n.Name + new string('x', 400)))).ToList();
        }

        private static RegistryClient Client(string address, out CountingHandler counter)
        {
            CountingHandler? created = null;
            var client = new RegistryClient(address, new RegistryClientOptions
            {
                Credentials = AnonymousCredentialSource.Instance,
                Retry = RetryPolicy.Default,
                WrapHandler = inner => created = new CountingHandler(inner),
            });
            counter = created!;
            return client;
        }

        /// <summary>The one result with the first failure, after checking that every other failure names it.</summary>
        private static PublishResult AssertEveryFailureNamesTheFirst(IReadOnlyList<PublishResult> results, string address)
        {
            var failed = results.Where(r => r.Status == PublishStatus.Failed).ToList();
            var first = failed.Where(r => !r.Error!.StartsWith("Not attempted", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(first);
            Assert.All(first, r => Assert.Equal("RegistryUnreachable", r.ErrorId));
            Assert.All(first, r => Assert.Contains($"Cannot reach the registry at {address}", r.Error));
            foreach (var follower in failed.Except(first))
            {
                Assert.Equal("RegistryUnreachable", follower.ErrorId);
                Assert.Contains($"Not attempted: the registry at {address} was found down earlier in this run, while working on ", follower.Error);
                Assert.Contains($"The first failure: Cannot reach the registry at {address}", follower.Error);
                Assert.True(first.Any(f => follower.Error!.Contains($"while working on {f.Name} (")), follower.Error);
            }
            return first[0];
        }

        [Fact]
        public async Task Thirty_images_against_a_dead_registry_fail_within_one_retry_policy_and_each_names_the_first_failure()
        {
            var address = $"127.0.0.1:{RegistryServer.FreePort()}";
            var images = Tree(address);
            using var client = Client(address, out var counter);
            var clock = Stopwatch.StartNew();

            var results = await new RegistryPublisher(_engine, client, new RegistryPublishOptions()).PublishAsync(images, CancellationToken.None);

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.Equal(ImageCount, results.Count);
            Assert.All(results, r => Assert.Equal(PublishStatus.Failed, r.Status));
            var first = AssertEveryFailureNamesTheFirst(results, address);
            Assert.Single(results, r => r.Error == first.Error);
            // One image's request went through the retry policy; no other request was sent at all.
            Assert.Equal(RetryPolicy.Default.MaxAttempts, counter.Count);
        }

        [Fact]
        public async Task A_registry_that_dies_mid_run_stops_the_rest_within_one_retry_policy_and_moves_no_tag()
        {
            var registry = new InMemoryRegistry();
            using var server = new InMemoryRegistryServer(registry);
            // Enough for a few images' blobs: the registry dies in the middle of the uploads.
            using var proxy = new FaultProxy(server.Port) { DieAfterUploadBytes = 3000 };
            var images = Tree(proxy.Address);
            using var client = Client(proxy.Address, out var counter);
            var clock = Stopwatch.StartNew();

            var results = await new RegistryPublisher(_engine, client, new RegistryPublishOptions()).PublishAsync(images, CancellationToken.None);

            Assert.True(proxy.Killed);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed.TotalSeconds:0.0} s");
            AssertEveryFailureNamesTheFirst(results, proxy.Address);
            var notAttempted = results.Count(r => r.Error?.StartsWith("Not attempted", StringComparison.Ordinal) == true);
            Assert.True(notAttempted >= ImageCount - 2 * new RegistryPublishOptions().ThrottleLimit, $"only {notAttempted} images were stopped by the circuit");
            // Atomic publish: images uploaded before the registry died are held back by the failed ones; no tag moved.
            Assert.All(results, r => Assert.True(r.Status == PublishStatus.Failed || r.Status == PublishStatus.HeldBack, $"{r.Name}: {r.Status}"));
            Assert.All(images, i => Assert.Null(registry.ImageAt(i.Node.Name, "1.0.0")));
            // Each image that was working when the registry died used up one retry policy at most; the rest sent nothing more.
            Assert.True(counter.Count < registry.Requests.Count + (new RegistryPublishOptions().ThrottleLimit + 1) * RetryPolicy.Default.MaxAttempts,
                $"{counter.Count} requests sent, {registry.Requests.Count} answered");
        }
    
        [Fact]
        public async Task Thirty_images_through_a_slow_and_flaky_network_are_all_published_and_every_retry_is_reported()
        {
            var registry = new InMemoryRegistry();
            using var server = new InMemoryRegistryServer(registry);
            // Latency on every request, 10 % of connections reset (seeded), and a 429 with Retry-After: 1 on every 25th request.
            // 50 ms, not issue 18's 300 ms: the tag moves of a run go one image after the other, and this is the fast tier.
            using var proxy = new FaultProxy(server.Port) { DelayPerRequest = TimeSpan.FromMilliseconds(50), ResetPercent = 10, RateLimitEvery = 25, RetryAfterSeconds = 1 };
            var images = Tree(proxy.Address);
            var progress = new RecordingProgress();
            using var client = new RegistryClient(proxy.Address, new RegistryClientOptions
            {
                Credentials = AnonymousCredentialSource.Instance,
                Retry = RetryPolicy.Default,
                Progress = progress,
            });

            var results = await new RegistryPublisher(_engine, client, new RegistryPublishOptions { ThrottleLimit = 8 }).PublishAsync(images, CancellationToken.None);

            Assert.All(results, r => Assert.True(r.Status == PublishStatus.Pushed, $"{r.Name}: {r.Status} {r.Error}"));
            Assert.All(images, i => Assert.Equal(i.ImageId, registry.ImageAt(i.Node.Name, "1.0.0")));
            Assert.True(proxy.Resets > 10 && proxy.RateLimited > 5, $"{proxy.Resets} resets, {proxy.RateLimited} 429s in {proxy.Requests} requests");
            var retries = progress.Events.Where(e => e.Kind == RegistryEventKind.Retry).ToList();
            // Every fault was retried and reported (.NET resends some reset requests itself, before the policy sees them).
            Assert.True(retries.Count >= proxy.RateLimited, $"{retries.Count} retry events for {proxy.RateLimited} 429s");
            var rateLimited = retries.Where(r => r.Message.Contains(": 429 TooManyRequests;")).ToList();
            Assert.Equal(proxy.RateLimited, rateLimited.Count);
            Assert.All(rateLimited, r => Assert.True(r.Delay >= TimeSpan.FromSeconds(1), $"waited {r.Delay} after a Retry-After: 1"));
        }
    }

    /// <summary>The flaky network of issue 18 at its own numbers (300 ms per request), through FaultProxy to distribution 2.8.</summary>
    /// <summary>Collects lines as they are reported (Progress&lt;T&gt; would post them later, on the thread pool).</summary>
    internal sealed class SynchronousLines : IProgress<string>
    {
        private readonly List<string> _lines;
        public SynchronousLines(List<string> lines) => _lines = lines;
        public void Report(string value) { lock (_lines) _lines.Add(value); }
    }

    public class FlakyNetworkIntegrationTests : IClassFixture<AnonymousRegistryFixture>, IDisposable
    {
        private readonly AnonymousRegistryFixture _fixture;
        private readonly TestTree _tree = new TestTree();
        private readonly FakeContainerEngine _engine = new FakeContainerEngine();

        public FlakyNetworkIntegrationTests(AnonymousRegistryFixture fixture) => _fixture = fixture;

        public void Dispose() => _tree.Dispose();

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Thirty_images_published_through_300_ms_latency_resets_and_429s_to_the_real_registry_are_all_there_and_each_429_is_a_verbose_line()
        {
            using var proxy = new FaultProxy(_fixture.Server.Port) { DelayPerRequest = TimeSpan.FromMilliseconds(300), ResetPercent = 10, RateLimitEvery = 10, RetryAfterSeconds = 1 };
            _tree.Write("imagetools.yaml", $"registry: {proxy.Address}\n");
            // Issue 18's thirty images at its numbers (docs/reliability.md row 134 gives the wall time).
            for (var i = 0; i < 30; i++)
                _tree.Image($"flaky{i}", "FROM scratch\n").Write($"flaky{i}/changelog", TestTree.Changelog($"flaky{i}", "1.0.6"));
            var graph = ImageGraph.Build(TreeScanner.Scan(_tree.Root));
            var tag = Guid.NewGuid().ToString("N").Substring(0, 8);
            var images = graph.Nodes.Select(n => new ImageToPublish(n, _engine.Hold(n.Reference, $"layer of {n.Name} {tag}"))).ToList();
            var progress = new RecordingProgress();
            using var client = new RegistryClient(proxy.Address, new RegistryClientOptions { Credentials = AnonymousCredentialSource.Instance, Progress = progress });

            var results = await new RegistryPublisher(_engine, client, new RegistryPublishOptions { ThrottleLimit = 8, AllowOverwrite = true }).PublishAsync(images, CancellationToken.None);

            Assert.All(results, r => Assert.True(r.Status == PublishStatus.Pushed, $"{r.Name}: {r.Status} {r.Error}"));
            Assert.True(proxy.Resets > 0 && proxy.RateLimited > 0, $"{proxy.Resets} resets, {proxy.RateLimited} 429s in {proxy.Requests} requests");
            // Nearly every 429 the proxy sends reaches the client as one. Once in a while a 429 lands while the client is still
            // sending a body the proxy does not wait for: that request then fails on the write, and it is retried as a connection failure.
            var rateLimitedRetries = progress.Events.Count(e => e.Kind == RegistryEventKind.Retry && e.Message.Contains(": 429 TooManyRequests;"));
            Assert.InRange(rateLimitedRetries, Math.Max(1, proxy.RateLimited - 2), proxy.RateLimited);
            // What -Verbose shows (Publish-Image writes RegistryEventLines): each 429 the client got as a line with the Retry-After wait,
            // a line that says the same as an earlier one (the same request at the same attempt, for two images) once.
            var verbose = new List<string>();
            var lines = new RegistryEventLines(new SynchronousLines(verbose));
            foreach (var e in progress.Events) lines.Report(e);
            var distinctRateLimited = progress.Events.Where(e => e.Kind == RegistryEventKind.Retry && e.Message.Contains(": 429 TooManyRequests;"))
                .Select(e => e.ToString()).Distinct(StringComparer.Ordinal).Count();
            Assert.Equal(distinctRateLimited, verbose.Count(l => l.Contains(": 429 TooManyRequests;") && l.Contains("trying again in ")));
            Assert.All(progress.Events.Where(e => e.Kind == RegistryEventKind.Retry && e.Message.Contains(": 429 ")), e => Assert.True(e.Delay >= TimeSpan.FromSeconds(1), e.Message));
            using var direct = new RegistryClient(_fixture.Server.Address, new RegistryClientOptions { Credentials = AnonymousCredentialSource.Instance });
            foreach (var image in images)
                Assert.Equal(image.ImageId, (await direct.GetManifestAsync(image.Node.Name, "1.0.6"))?.Config?.Digest);
        }
    }
}
