using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Planning;
using ImageTools.Registry;

namespace ImageTools.Benchmarks
{
    /// <summary>
    /// Where a no-op rebuild check's time goes on a peer tree (peer.sh's TLS + Basic auth registry): the
    /// engine path of Get-ImageGraph | Test-ImageNeedsRebuild, with the tree's own registry options (CA
    /// bundle, the config's credentials, config cache) as the cmdlet builds them, run several times in one
    /// process. Per run: wall time split into scan+graph and plan, HTTP requests by method and status, and
    /// the TLS connections opened (System.Net's own events: a connection the pool reuses is not counted).
    /// </summary>
    internal static class PeerCheckBenchmark
    {
        /// <param name="http2">"alternate": odd runs HTTP/1.1, even runs ask for HTTP/2 (ALPN; the client's default is 1.1).</param>
        /// <param name="replay">After the first run, answer every request from the first run's answers, in memory:
        /// what is left is the client's own cost (scan, digests, JSON, the client's code) without network and TLS.</param>
        public static int Run(string root, int runs, int throttle, bool http2Alternate = false, bool replay = false)
        {
            using var net = new NetEvents();
            var recorded = new ConcurrentDictionary<string, (System.Net.HttpStatusCode Status, byte[] Body, string? Type, string? Digest)>(StringComparer.Ordinal);
            var cache = Path.Combine(Path.GetTempPath(), "imagetools-peer-check-cache");
            for (var run = 0; run < runs; run++)
            {
                var requests = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
                net.Reset();
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                var graph = ImageGraph.Build(TreeScanner.Scan(root));
                var scanned = watch.Elapsed;
                var config = graph.Tree.Config;
                var options = TreeRegistryOptions.For(config, TreeCredentialSource.For(config.Registry!, config.UserName, config.Password,
                    config.FilePath ?? "config.yaml", Environment.GetEnvironmentVariable, new DockerConfigCredentialSource()));
                options.ConfigCacheDirectory = Path.Combine(cache, "configs");
                var http2 = http2Alternate && run % 2 == 1;
                var replaying = replay && run > 0;
                options.WrapHandler = inner => new Counting(replaying ? new Replay(recorded) : inner, requests, http2, replay && run == 0 ? recorded : null);
                using var source = new RegistryImageSource(options);
                var planner = new RebuildPlanner(source, new BuildInputDigester(new FileHashCache(Path.Combine(cache, "file-hashes"))),
                    new RebuildOptions { ThrottleLimit = throttle });
                var plan = planner.PlanAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult();
                watch.Stop();
                cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
                var stale = plan.Count(s => s.NeedsRebuild);
                Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                    "run {0}{11}{12}: {1:F0} ms (scan+graph {2:F0} ms, plan {3:F0} ms), process CPU {10:F0} ms, {4} images, {5} stale; requests {6} ({7}); TLS connections opened {8}, handshakes {9}",
                    run + 1, watch.Elapsed.TotalMilliseconds, scanned.TotalMilliseconds, (watch.Elapsed - scanned).TotalMilliseconds, graph.Nodes.Count, stale,
                    requests.Values.Sum(), string.Join(", ", requests.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}")), net.Connections, net.Handshakes, cpu.TotalMilliseconds, http2 ? " (HTTP/2 asked)" : "", replaying ? " (answers replayed from memory)" : ""));
                if (stale > 0) return 1;
            }
            return 0;
        }

        private sealed class Counting : DelegatingHandler
        {
            private readonly ConcurrentDictionary<string, int> _counts;
            private readonly bool _http2;
            private readonly ConcurrentDictionary<string, (System.Net.HttpStatusCode, byte[], string?, string?)>? _record;
            public Counting(HttpMessageHandler inner, ConcurrentDictionary<string, int> counts, bool http2,
                ConcurrentDictionary<string, (System.Net.HttpStatusCode, byte[], string?, string?)>? record) : base(inner)
            {
                _counts = counts;
                _http2 = http2;
                _record = record;
            }

            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                if (_http2) request.Version = System.Net.HttpVersion.Version20;
                var answer = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (_record != null && answer.Content != null)
                {
                    var body = await answer.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                    _record[request.Method + " " + request.RequestUri!.AbsoluteUri] = (answer.StatusCode, body, answer.Content.Headers.ContentType?.ToString(),
                        answer.Headers.TryGetValues("Docker-Content-Digest", out var digests) ? digests.FirstOrDefault() : null);
                    var copy = new HttpResponseMessage(answer.StatusCode) { RequestMessage = request, Content = new ByteArrayContent(body) };
                    foreach (var header in answer.Headers) copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
                    if (answer.Content.Headers.ContentType != null) copy.Content.Headers.ContentType = answer.Content.Headers.ContentType;
                    answer = copy;
                }
                var path = request.RequestUri!.AbsolutePath;
                var kind = path == "/v2/" ? "ping" : path.Contains("/manifests/") ? "manifest" : path.Contains("/blobs/") ? "blob" : "other";
                _counts.AddOrUpdate($"{request.Method} {kind} {(int)answer.StatusCode} HTTP/{answer.Version}", 1, (_, n) => n + 1);
                return answer;
            }
        }

        /// <summary>Answers from the recorded answers of the first run.</summary>
        private sealed class Replay : HttpMessageHandler
        {
            private readonly ConcurrentDictionary<string, (System.Net.HttpStatusCode Status, byte[] Body, string? Type, string? Digest)> _recorded;
            public Replay(ConcurrentDictionary<string, (System.Net.HttpStatusCode, byte[], string?, string?)> recorded) => _recorded = recorded;

            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                if (!_recorded.TryGetValue(request.Method + " " + request.RequestUri!.AbsoluteUri, out var r))
                    return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.NotFound) { RequestMessage = request, Content = new ByteArrayContent(Array.Empty<byte>()) });
                var answer = new HttpResponseMessage(r.Status) { RequestMessage = request, Content = new ByteArrayContent(r.Body) };
                if (r.Type != null) answer.Content.Headers.TryAddWithoutValidation("Content-Type", r.Type);
                if (r.Digest != null) answer.Headers.TryAddWithoutValidation("Docker-Content-Digest", r.Digest);
                if (r.Status == System.Net.HttpStatusCode.Unauthorized) answer.Headers.TryAddWithoutValidation("WWW-Authenticate", "Basic realm=\"replay\"");
                return Task.FromResult(answer);
            }
        }

        /// <summary>Counts System.Net.Http's ConnectionEstablished and System.Net.Security's HandshakeStart events.</summary>
        private sealed class NetEvents : EventListener
        {
            private int _connections, _handshakes;
            public int Connections => _connections;
            public int Handshakes => _handshakes;
            public void Reset() { _connections = 0; _handshakes = 0; }

            protected override void OnEventSourceCreated(EventSource source)
            {
                if (source.Name == "System.Net.Http" || source.Name == "System.Net.Security")
                    EnableEvents(source, EventLevel.Informational, EventKeywords.All);
            }

            protected override void OnEventWritten(EventWrittenEventArgs e)
            {
                if (e.EventName == "ConnectionEstablished") Interlocked.Increment(ref _connections);
                else if (e.EventName == "HandshakeStart") Interlocked.Increment(ref _handshakes);
            }
        }
    }
}
