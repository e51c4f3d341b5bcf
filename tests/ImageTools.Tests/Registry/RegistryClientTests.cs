using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using ImageTools.References;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Registry
{
    /// <summary>One anonymous plain-HTTP registry shared by the tests of a class.</summary>
    public sealed class AnonymousRegistryFixture : IDisposable
    {
        private readonly Lazy<RegistryServer> _server = new Lazy<RegistryServer>(() => new RegistryServer(RegistryMode.Anonymous));
        public RegistryServer Server => _server.Value;
        public void Dispose() { if (_server.IsValueCreated) _server.Value.Dispose(); }
    }

    /// <summary>Progress that records synchronously (Progress&lt;T&gt; posts to the thread pool, too late for assertions).</summary>
    internal sealed class RecordingProgress : IProgress<RegistryEvent>
    {
        public ConcurrentQueue<RegistryEvent> Events { get; } = new ConcurrentQueue<RegistryEvent>();
        public void Report(RegistryEvent value) => Events.Enqueue(value);
        public IEnumerable<string> Messages => Events.Select(e => e.ToString());
    }

    public class RegistryClientTests : IClassFixture<AnonymousRegistryFixture>, IDisposable
    {
        private readonly AnonymousRegistryFixture _fixture;
        private readonly string _cache = Path.Combine(Path.GetTempPath(), "imagetools-config-cache-" + Guid.NewGuid().ToString("N"));

        public RegistryClientTests(AnonymousRegistryFixture fixture) => _fixture = fixture;

        public void Dispose()
        {
            if (Directory.Exists(_cache)) Directory.Delete(_cache, recursive: true);
        }

        private RegistryClient Client(out CountingHandler counter, RecordingProgress? progress = null)
        {
            CountingHandler? created = null;
            var client = new RegistryClient(_fixture.Server.Address, new RegistryClientOptions
            {
                Credentials = AnonymousCredentialSource.Instance,
                ConfigCacheDirectory = _cache,
                Progress = progress,
                Retry = new RetryPolicy(3, TimeSpan.FromMilliseconds(20)),
                WrapHandler = inner => created = new CountingHandler(inner),
            });
            counter = created!;
            return client;
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Pings_an_anonymous_registry_over_plain_HTTP_on_loopback()
        {
            using var client = Client(out _);

            var ping = await client.PingAsync();

            Assert.Equal("http", ping.BaseUri.Scheme);
            Assert.Equal("registry/2.0", ping.ApiVersion);
            Assert.Null(ping.AuthScheme);
            Assert.False(ping.Authenticated);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Gets_a_pushed_manifest_with_its_exact_bytes_digest_and_labels()
        {
            using var client = Client(out _);
            var labels = new Dictionary<string, string> { ["org.opencontainers.image.version"] = "1.2.3", ["imagetools.inputs"] = "sha256:abc" };
            var pushed = await TestImages.PushAsync(client, "team/app", "1.2.3", labels);

            var manifest = await client.GetManifestAsync("team/app", "1.2.3");
            var head = await client.HeadManifestAsync("team/app", "1.2.3");
            var byDigest = await client.GetManifestAsync("team/app", pushed.ManifestDigest);
            var config = await client.GetConfigAsync("team/app", manifest!.Config!.Digest);

            Assert.Equal(MediaTypes.OciManifest, manifest.MediaType);
            Assert.Equal(pushed.ManifestDigest, manifest.Digest);
            Assert.Equal(pushed.ManifestBytes, manifest.Bytes);
            Assert.False(manifest.IsIndex);
            Assert.Single(manifest.Layers);
            Assert.Equal(pushed.ConfigDigest, manifest.Config.Digest);
            Assert.Equal(pushed.ManifestDigest, head!.Digest);
            Assert.Equal(MediaTypes.OciManifest, head.MediaType);
            Assert.Equal(pushed.ManifestSize, head.Size);
            Assert.Equal(pushed.ManifestBytes, byDigest!.Bytes);
            Assert.Equal(labels, config.Labels);
            Assert.Equal("linux", config.Os);
            Assert.Equal("amd64", config.Architecture);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task A_missing_tag_or_repository_is_null_and_asked_only_once()
        {
            using var client = Client(out var counter);
            await TestImages.PushAsync(client, "team/present", "1");
            await client.PingAsync();
            counter.Reset();

            Assert.Null(await client.HeadManifestAsync("team/present", "missing"));
            Assert.Null(await client.GetManifestAsync("team/present", "missing"));
            Assert.Null(await client.HeadManifestAsync("team/absent", "latest"));
            Assert.Equal(3, counter.Count); // 404 is an answer, never retried
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Config_is_fetched_once_then_served_from_the_disk_cache_even_by_a_new_client()
        {
            string configDigest;
            using (var first = Client(out var firstCounter))
            {
                var pushed = await TestImages.PushAsync(first, "team/cached", "1", new Dictionary<string, string> { ["a"] = "b" });
                configDigest = pushed.ConfigDigest;
                await first.GetConfigAsync("team/cached", configDigest);
                firstCounter.Reset();
                var again = await first.GetConfigAsync("team/cached", configDigest);
                Assert.Equal("b", again.Labels["a"]);
                Assert.Equal(0, firstCounter.Count);
            }

            var progress = new RecordingProgress();
            using var second = Client(out var secondCounter, progress);
            var cached = await second.GetConfigAsync("team/cached", configDigest);

            Assert.Equal("b", cached.Labels["a"]);
            Assert.Equal(0, secondCounter.Count);
            Assert.Contains(progress.Events, e => e.Kind == RegistryEventKind.CacheHit);
            Assert.Empty(Directory.GetFiles(_cache, "*.tmp", SearchOption.AllDirectories));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task A_damaged_cache_entry_is_fetched_again()
        {
            using var client = Client(out var counter);
            var pushed = await TestImages.PushAsync(client, "team/damaged", "1");
            await client.GetConfigAsync("team/damaged", pushed.ConfigDigest);
            var file = Path.Combine(_cache, "sha256", pushed.ConfigDigest.Substring(7));
            File.WriteAllText(file, "{\"tampered\":true}");
            counter.Reset();

            var config = await client.GetConfigAsync("team/damaged", pushed.ConfigDigest);

            Assert.Equal(1, counter.Count);
            Assert.Equal(pushed.ConfigDigest, Digests.Sha256(File.ReadAllBytes(file)));
            Assert.Equal("amd64", config.Architecture);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Lists_every_tag_of_a_repository()
        {
            using var client = Client(out var counter);
            var tags = new[] { "1.0", "1.1", "2.0", "latest", "stable" };
            var image = await TestImages.PushAsync(client, "team/paged", tags[0]);
            foreach (var tag in tags.Skip(1)) await client.PutManifestAsync("team/paged", tag, image.ManifestBytes, MediaTypes.OciManifest);
            counter.Reset();

            var listed = await client.ListTagsAsync("team/paged", pageSize: 2);

            Assert.Equal(tags.OrderBy(t => t, StringComparer.Ordinal), listed.OrderBy(t => t, StringComparer.Ordinal));
            // distribution 2.8 answers tag lists in one page whatever n says; paging is tested against a fake registry.
            Assert.Empty(await client.ListTagsAsync("team/never-pushed"));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Resolves_the_platform_of_a_two_platform_index()
        {
            using var client = Client(out _);
            var amd64 = await TestImages.PushAsync(client, "team/multi", null, architecture: "amd64");
            var arm64 = await TestImages.PushAsync(client, "team/multi", null, architecture: "arm64", variant: "v8");
            var indexDigest = await TestImages.PushIndexAsync(client, "team/multi", "latest",
                (amd64, new ImagePlatform("linux", "amd64")), (arm64, new ImagePlatform("linux", "arm64", "v8")));

            var index = await client.GetManifestAsync("team/multi", "latest");

            Assert.True(index!.IsIndex);
            Assert.Equal(MediaTypes.OciIndex, index.MediaType);
            Assert.Equal(indexDigest, index.Digest);
            Assert.Equal(2, index.Manifests.Count);
            Assert.Equal(amd64.ManifestDigest, RegistryClient.ResolvePlatform(index, "linux", "amd64")!.Digest);
            Assert.Equal(amd64.ManifestDigest, RegistryClient.ResolvePlatform(index, "linux", "x86_64")!.Digest);
            Assert.Equal(arm64.ManifestDigest, RegistryClient.ResolvePlatform(index, "linux", "arm64")!.Digest);
            Assert.Equal(arm64.ManifestDigest, RegistryClient.ResolvePlatform(index, "linux", "aarch64", "v8")!.Digest);
            Assert.Null(RegistryClient.ResolvePlatform(index, "linux", "s390x"));
            Assert.Null(RegistryClient.ResolvePlatform(index, "windows", "amd64"));
            var child = await client.GetManifestAsync("team/multi", RegistryClient.ResolvePlatform(index, "linux", "arm64")!.Digest);
            Assert.Equal("arm64", (await client.GetConfigAsync("team/multi", child!.Config!.Digest)).Architecture);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Checks_blobs_and_mounts_them_across_repositories()
        {
            using var client = Client(out _);
            var pushed = await TestImages.PushAsync(client, "team/source", "1");

            Assert.True(await client.BlobExistsAsync("team/source", pushed.ConfigDigest));
            Assert.False(await client.BlobExistsAsync("team/target", pushed.ConfigDigest));
            Assert.True(await client.MountBlobAsync("team/target", pushed.ConfigDigest, "team/source"));
            Assert.True(await client.BlobExistsAsync("team/target", pushed.ConfigDigest));
            Assert.False(await client.MountBlobAsync("team/target2", Digests.Sha256(new byte[] { 1, 2, 3 }), "team/source"));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Uploads_a_blob_in_chunks_and_the_registry_checks_its_digest()
        {
            using var client = Client(out var counter);
            var config = System.Text.Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"pad\":\"" + new string('x', 100) + "\"}");
            var digest = Digests.Sha256(config);

            var patchesBefore = counter.Requests.Count(r => r.StartsWith("PATCH", StringComparison.Ordinal));
            await client.UploadBlobAsync("team/chunks", digest, new MemoryStream(config), chunkSize: 7);

            Assert.Equal((config.Length + 6) / 7, counter.Requests.Count(r => r.StartsWith("PATCH", StringComparison.Ordinal)) - patchesBefore);
            Assert.Equal(config, (await client.GetConfigAsync("team/chunks", digest)).Bytes);
            var wrong = Digests.Sha256(new byte[] { 1 });
            var error = await Assert.ThrowsAsync<ImageToolsException>(() => client.UploadBlobAsync("team/chunks", wrong, new MemoryStream(config), chunkSize: 7));
            Assert.Contains(wrong, error.Message);
            Assert.False(await client.BlobExistsAsync("team/chunks", wrong));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task Tags_an_existing_manifest_by_PUT_of_its_exact_bytes()
        {
            using var client = Client(out _);
            var pushed = await TestImages.PushAsync(client, "team/retag", "1.0");
            var original = await client.GetManifestAsync("team/retag", "1.0");

            var digest = await client.PutManifestAsync("team/retag", "latest", original!.Bytes, original.MediaType);

            Assert.Equal(pushed.ManifestDigest, digest);
            Assert.Equal(pushed.ManifestDigest, (await client.HeadManifestAsync("team/retag", "latest"))!.Digest);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [RegistryFact]
        public async Task A_registry_refusal_names_the_registry_code()
        {
            using var client = Client(out _);
            var manifest = System.Text.Encoding.UTF8.GetBytes(
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\"," +
                "\"digest\":\"" + Digests.Sha256(new byte[] { 9 }) + "\",\"size\":1},\"layers\":[]}");

            var error = await Assert.ThrowsAsync<ImageToolsException>(() =>
                client.PutManifestAsync("team/broken", "1", manifest, MediaTypes.OciManifest));

            Assert.Equal("RegistryRequestRefused", error.ErrorId);
            Assert.Contains("MANIFEST_BLOB_UNKNOWN", error.Message);
        }

        [Fact]
        public async Task Refuses_bad_repository_names_and_references_before_any_request()
        {
            using var client = new RegistryClient("127.0.0.1:1", new RegistryClientOptions { Credentials = AnonymousCredentialSource.Instance });

            Assert.Equal("InvalidRepository", (await Assert.ThrowsAsync<ImageToolsException>(() => client.GetManifestAsync("Team/App", "1"))).ErrorId);
            Assert.Equal("InvalidRepository", (await Assert.ThrowsAsync<ImageToolsException>(() => client.GetManifestAsync("../etc", "1"))).ErrorId);
            Assert.Equal("InvalidTag", (await Assert.ThrowsAsync<ImageToolsException>(() => client.GetManifestAsync("team/app", "a/b"))).ErrorId);
            Assert.Equal("InvalidDigest", (await Assert.ThrowsAsync<ImageToolsException>(() => client.GetConfigAsync("team/app", "sha256:xyz"))).ErrorId);
            Assert.Equal("InvalidRegistry", Assert.Throws<ImageToolsException>(() => new RegistryClient("https://example.org")).ErrorId);
        }
    }
}
