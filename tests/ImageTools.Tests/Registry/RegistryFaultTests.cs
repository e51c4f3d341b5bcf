using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using ImageTools.References;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Registry
{
    /// <summary>Transient faults are retried with growing waits; answers are not; servers that are not registries are named as such.</summary>
    public class RegistryFaultTests : IClassFixture<AnonymousRegistryFixture>
    {
        private readonly AnonymousRegistryFixture _fixture;
        private readonly RecordingProgress _progress = new RecordingProgress();

        public RegistryFaultTests(AnonymousRegistryFixture fixture) => _fixture = fixture;

        private RegistryClient Client(string address, out CountingHandler counter, int attempts = 4)
        {
            CountingHandler? created = null;
            var client = new RegistryClient(address, new RegistryClientOptions
            {
                Credentials = AnonymousCredentialSource.Instance,
                Progress = _progress,
                Retry = new RetryPolicy(attempts, TimeSpan.FromMilliseconds(20), jitter: 0),
                RequestTimeout = TimeSpan.FromSeconds(10),
                WrapHandler = inner => created = new CountingHandler(inner),
            });
            counter = created!;
            return client;
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Two_503_answers_are_retried_and_the_third_attempt_succeeds()
        {
            using var proxy = new FaultProxy(_fixture.Server.Port, faults: 2, status: "503 Service Unavailable");
            using var client = Client(proxy.Address, out _);

            var ping = await client.PingAsync();

            Assert.Equal("registry/2.0", ping.ApiVersion);
            Assert.Equal(2, proxy.FaultsInjected);
            var retries = _progress.Events.Where(e => e.Kind == RegistryEventKind.Retry).ToList();
            Assert.Equal(2, retries.Count);
            Assert.Equal(new int?[] { 1, 2 }, retries.Select(r => r.Attempt));
            Assert.True(retries[1].Delay > retries[0].Delay, "waits grow");
            Assert.Contains("503", retries[0].Message);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Dropped_connections_are_retried()
        {
            using var proxy = new FaultProxy(_fixture.Server.Port, faults: 2, status: null);
            using var client = Client(proxy.Address, out _);

            var ping = await client.PingAsync();

            Assert.Equal("registry/2.0", ping.ApiVersion);
            Assert.Equal(2, proxy.FaultsInjected);
            // .NET's handler resends a request whose connection closed before any answer on its own, so
            // drops alone do not show the policy's part; the answers cut off below do.
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Answers_cut_off_mid_body_are_retried_by_the_policy()
        {
            using var proxy = new FaultProxy(_fixture.Server.Port, faults: 2, status: FaultProxy.CutResponse, faultWhen: head => head.StartsWith("GET /v2/ ", StringComparison.Ordinal));
            using var client = Client(proxy.Address, out _);

            var ping = await client.PingAsync();

            Assert.Equal("registry/2.0", ping.ApiVersion);
            Assert.Equal(2, proxy.FaultsInjected);
            Assert.True(2 == _progress.Events.Count(e => e.Kind == RegistryEventKind.Retry), string.Join("\n", _progress.Messages));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Without_retries_an_answer_cut_off_mid_body_fails()
        {
            using var proxy = new FaultProxy(_fixture.Server.Port, faults: 1, status: FaultProxy.CutResponse, faultWhen: head => head.StartsWith("GET /v2/ ", StringComparison.Ordinal));
            using var client = Client(proxy.Address, out _, attempts: 1);

            await Assert.ThrowsAsync<ImageToolsException>(() => client.PingAsync());
            Assert.Equal(1, proxy.FaultsInjected);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Persistent_dropped_connections_are_retried_then_reported_as_unreachable()
        {
            using var proxy = new FaultProxy(_fixture.Server.Port, faults: 1000, status: null);
            using var client = Client(proxy.Address, out _, attempts: 3);

            var error = await Assert.ThrowsAsync<ImageToolsException>(() => client.PingAsync());

            Assert.Equal("RegistryUnreachable", error.ErrorId);
            Assert.Contains(proxy.Address, error.Message);
            Assert.True(2 == _progress.Events.Count(e => e.Kind == RegistryEventKind.Retry), string.Join("\n", _progress.Messages));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task A_429_waits_as_long_as_Retry_After_asks()
        {
            using var proxy = new FaultProxy(_fixture.Server.Port, faults: 1, status: "429 Too Many Requests", extraHeader: "Retry-After: 1");
            using var client = Client(proxy.Address, out _);
            var clock = Stopwatch.StartNew();

            await client.PingAsync();

            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(950), $"waited only {clock.ElapsedMilliseconds} ms");
            Assert.Equal(TimeSpan.FromSeconds(1), _progress.Events.Single(e => e.Kind == RegistryEventKind.Retry).Delay);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Persistent_503_gives_up_after_the_configured_attempts_with_a_clear_error()
        {
            using var proxy = new FaultProxy(_fixture.Server.Port, faults: 100, status: "503 Service Unavailable");
            using var client = Client(proxy.Address, out _, attempts: 3);

            var error = await Assert.ThrowsAsync<ImageToolsException>(() => client.GetManifestAsync("team/app", "1"));

            Assert.Equal("RegistryUnavailable", error.ErrorId);
            Assert.Equal(FaultKind.ResourceUnavailable, error.Kind);
            Assert.Contains("3 attempts", error.Message);
            Assert.Equal(3, proxy.FaultsInjected);
        }

        [Fact]
        public async Task A_401_or_404_is_never_retried()
        {
            var seen = 0;
            using var server = new LoopbackHttpServer(context =>
            {
                System.Threading.Interlocked.Increment(ref seen);
                return context.Request.Url!.AbsolutePath == "/v2/"
                    ? LoopbackHttpServer.WriteAsync(context, 401, "application/json", "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}",
                        new Dictionary<string, string> { ["WWW-Authenticate"] = "Basic realm=\"test\"" })
                    : LoopbackHttpServer.WriteAsync(context, 404, "application/json", "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}");
            });
            using var client = Client(server.Address, out _);

            Assert.Equal("RegistryCredentialsRequired", (await Assert.ThrowsAsync<ImageToolsException>(() => client.PingAsync())).ErrorId);
            Assert.Equal(1, seen);
            Assert.Null(await client.GetManifestAsync("team/app", "1"));
            Assert.Equal(2, seen);
            Assert.DoesNotContain(_progress.Events, e => e.Kind == RegistryEventKind.Retry);
        }

        [Fact]
        public async Task An_unreachable_registry_names_the_address_and_what_to_check()
        {
            var port = RegistryServer.FreePort();
            using var client = Client($"127.0.0.1:{port}", out _, attempts: 2);

            var error = await Assert.ThrowsAsync<ImageToolsException>(() => client.GetManifestAsync("team/app", "1"));

            Assert.Equal("RegistryUnreachable", error.ErrorId);
            Assert.Equal(FaultKind.ResourceUnavailable, error.Kind);
            Assert.Contains($"127.0.0.1:{port}", error.Message);
            Assert.Contains("is it running? is the address right?", error.Message);
            Assert.Single(_progress.Events, e => e.Kind == RegistryEventKind.Retry);
        }

        [Fact]
        public async Task An_unreachable_registry_is_probed_once_for_all_concurrent_callers()
        {
            // Test-ImageNeedsRebuild asks for every image at once; each used to wait for the failed
            // probe, then run its own retries in turn: minutes before the error on a big tree.
            var port = RegistryServer.FreePort();
            using var client = Client($"127.0.0.1:{port}", out var counter, attempts: 3);

            var lookups = Enumerable.Range(0, 6).Select(i => client.GetManifestAsync("team/app" + i, "1")).ToList();
            foreach (var lookup in lookups)
                Assert.Equal("RegistryUnreachable", (await Assert.ThrowsAsync<ImageToolsException>(() => lookup)).ErrorId);
            Assert.Equal("RegistryUnreachable", (await Assert.ThrowsAsync<ImageToolsException>(() => client.GetManifestAsync("team/late", "1"))).ErrorId);

            Assert.Equal(3, counter.Count);
        }

        [Fact]
        public async Task Malformed_manifest_JSON_and_HTML_pages_are_not_taken_for_a_registry()
        {
            using var server = new LoopbackHttpServer(context =>
            {
                var path = context.Request.Url!.AbsolutePath;
                var registryHeader = new Dictionary<string, string> { ["Docker-Distribution-API-Version"] = "registry/2.0" };
                if (path == "/v2/") return LoopbackHttpServer.WriteAsync(context, 200, "application/json", "{}", registryHeader);
                if (path.StartsWith("/v2/bad/")) return LoopbackHttpServer.WriteAsync(context, 200, MediaTypes.OciManifest, "{\"schemaVersion\": 2, \"config\": ", registryHeader);
                if (path.StartsWith("/v2/wrongdigest/"))
                    return LoopbackHttpServer.WriteAsync(context, 200, MediaTypes.OciIndex, "{\"schemaVersion\":2,\"manifests\":[]}",
                        new Dictionary<string, string> { ["Docker-Content-Digest"] = Digests.Sha256(new byte[] { 1 }) });
                return LoopbackHttpServer.WriteAsync(context, 200, "text/html", "<html><body><h1>Welcome to nginx!</h1></body></html>");
            });
            using var client = Client(server.Address, out _);

            var malformed = await Assert.ThrowsAsync<ImageToolsException>(() => client.GetManifestAsync("bad", "1"));
            var html = await Assert.ThrowsAsync<ImageToolsException>(() => client.GetManifestAsync("web/page", "1"));
            var mismatch = await Assert.ThrowsAsync<ImageToolsException>(() => client.GetManifestAsync("wrongdigest", "1"));

            Assert.Equal("RegistryManifestInvalid", malformed.ErrorId);
            Assert.Equal(FaultKind.InvalidData, malformed.Kind);
            Assert.Contains($"The server at {server.Address}", malformed.Message);
            Assert.Contains("did not answer like a container registry", malformed.Message);
            Assert.Contains("not valid JSON", malformed.Message);
            Assert.Equal("RegistryNotARegistry", html.ErrorId);
            Assert.Contains($"The server at {server.Address} did not answer like a container registry", html.Message);
            Assert.Contains("HTML", html.Message);
            Assert.Equal("RegistryDigestMismatch", mismatch.ErrorId);
        }

        [Fact]
        public async Task A_web_server_answering_v2_with_HTML_fails_the_ping()
        {
            using var server = new LoopbackHttpServer(context =>
                LoopbackHttpServer.WriteAsync(context, 200, "text/html", "<!DOCTYPE html><html><body>It works!</body></html>"));
            using var client = Client(server.Address, out _);

            var error = await Assert.ThrowsAsync<ImageToolsException>(() => client.PingAsync());

            Assert.Equal("RegistryNotARegistry", error.ErrorId);
            Assert.Contains("did not answer like a container registry", error.Message);
        }

        [Fact]
        public async Task Tag_lists_follow_Link_pagination_with_n_and_last()
        {
            var all = new[] { "a", "b", "c", "d", "e" };
            var requests = new System.Collections.Concurrent.ConcurrentQueue<string>();
            using var server = new LoopbackHttpServer(context =>
            {
                var url = context.Request.Url!;
                requests.Enqueue(url.PathAndQuery);
                if (url.AbsolutePath == "/v2/") return LoopbackHttpServer.WriteAsync(context, 200, "application/json", "{}");
                var n = int.Parse(context.Request.QueryString["n"] ?? "100");
                var last = context.Request.QueryString["last"];
                var page = all.Where(t => last == null || string.CompareOrdinal(t, last) > 0).Take(n).ToArray();
                var headers = new Dictionary<string, string>();
                if (page.Length == n && page[^1] != all[^1])
                    headers["Link"] = $"</v2/team/app/tags/list?n={n}&last={page[^1]}>; rel=\"next\"";
                var body = "{\"name\":\"team/app\",\"tags\":[" + string.Join(",", page.Select(t => $"\"{t}\"")) + "]}";
                return LoopbackHttpServer.WriteAsync(context, 200, "application/json", body, headers);
            });
            using var client = Client(server.Address, out _);

            var tags = await client.ListTagsAsync("team/app", pageSize: 2);

            Assert.Equal(all, tags);
            Assert.Equal(new[] { "/v2/team/app/tags/list?n=2", "/v2/team/app/tags/list?n=2&last=b", "/v2/team/app/tags/list?n=2&last=d" },
                requests.Where(r => r.Contains("tags")));
        }
    
        /// <summary>
        /// What a name lookup that finds nothing looks like to HttpClient, answered in place of the
        /// network: a real lookup of an unknown name would send a DNS query off this machine.
        /// </summary>
        private sealed class UnknownHostHandler : System.Net.Http.HttpMessageHandler
        {
            public int Calls;
            protected override Task<System.Net.Http.HttpResponseMessage> SendAsync(System.Net.Http.HttpRequestMessage request, System.Threading.CancellationToken cancellationToken)
            {
                System.Threading.Interlocked.Increment(ref Calls);
                throw new System.Net.Http.HttpRequestException($"Name or service not known ({request.RequestUri!.Authority})",
                    new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound));
            }
        }

        [Fact]
        public async Task An_unknown_registry_host_fails_at_once_with_its_name_and_what_to_check()
        {
            var resolver = new UnknownHostHandler();
            using var client = new RegistryClient("registry.example.invalid:5000", new RegistryClientOptions
            {
                Credentials = AnonymousCredentialSource.Instance,
                Retry = new RetryPolicy(4, TimeSpan.FromMilliseconds(20), jitter: 0),
                WrapHandler = _ => resolver,
            });

            var error = await Assert.ThrowsAsync<ImageToolsException>(() => client.GetManifestAsync("team/app", "1.0"));

            Assert.Equal("RegistryUnreachable", error.ErrorId);
            Assert.Contains("registry host registry.example.invalid is not known", error.Message);
            Assert.Contains("check the registry name", error.Message);
            Assert.Equal(1, resolver.Calls);
        }
}
}
