using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Json;
using ImageTools.Promotion;
using ImageTools.References;
using ImageTools.Registry;
using ImageTools.Tests.Registry;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>
    /// Copy-Image's engine against real registries (distribution 2.8): the loopback registry of tests/services (anonymous)
    /// and a second one started here on another loopback port with htpasswd Basic auth. Requests are counted at the HTTP
    /// handler, below the registry client, per side.
    /// </summary>
    [Collection(DockerCollection.Name)]
    public class ImageCopierIntegrationTests
    {
        private static readonly ImagePlatform Amd64 = new ImagePlatform("linux", "amd64");
        private static readonly ImagePlatform Arm64 = new ImagePlatform("linux", "arm64", "v8");
        private static readonly ImagePlatform S390x = new ImagePlatform("linux", "s390x");

        private static string Ns() => $"cp{Guid.NewGuid():N}".Substring(0, 10);

        private sealed class Run
        {
            public ConcurrentQueue<string> Requests { get; } = new ConcurrentQueue<string>();
            public ConcurrentQueue<string> SourceAuthorization { get; } = new ConcurrentQueue<string>();
            public ConcurrentQueue<string> DestinationAuthorization { get; } = new ConcurrentQueue<string>();
            public IReadOnlyList<CopiedImage> Results { get; set; } = Array.Empty<CopiedImage>();
        }

        private static async Task<Run> CopyAsync(IRegistryCredentialSource? sourceCredential, IRegistryCredentialSource? credential, bool merge,
            string source, params string[] destinations)
        {
            var run = new Run();
            using var copier = new ImageCopier((registry, side) => new RegistryClient(registry, new RegistryClientOptions
            {
                Credentials = (side == CopySide.Source ? sourceCredential : credential) ?? AnonymousCredentialSource.Instance,
                WrapHandler = inner => new Recorder(inner, run, side),
            }), new CopyOptions { Merge = merge });
            var plan = await copier.PlanAsync(new[] { CopyRequest.Parse(source, destinations) }, CancellationToken.None);
            run.Results = await copier.RunAsync(plan, plan.Destinations.ToList(), CancellationToken.None);
            return run;
        }

        private sealed class Recorder : System.Net.Http.DelegatingHandler
        {
            private readonly Run _run;
            private readonly CopySide _side;
            public Recorder(System.Net.Http.HttpMessageHandler inner, Run run, CopySide side) : base(inner)
            {
                _run = run;
                _side = side;
            }

            protected override Task<System.Net.Http.HttpResponseMessage> SendAsync(System.Net.Http.HttpRequestMessage request, CancellationToken cancellationToken)
            {
                _run.Requests.Enqueue($"{_side} {request.Method} {request.RequestUri!.Authority}{request.RequestUri.PathAndQuery}");
                if (request.Headers.Authorization != null)
                    (_side == CopySide.Source ? _run.SourceAuthorization : _run.DestinationAuthorization).Enqueue(request.RequestUri!.Authority + " " + request.Headers.Authorization);
                return base.SendAsync(request, cancellationToken);
            }
        }

        private static async Task<string> PushIndexAsync(RegistryClient client, string repository, string tag, params ImagePlatform[] platforms)
        {
            var images = new List<(PushedImage, ImagePlatform)>();
            foreach (var platform in platforms)
                images.Add((await TestImages.PushAsync(client, repository, null, new Dictionary<string, string> { ["at"] = repository + ":" + tag },
                    platform.Os, platform.Architecture, platform.Variant), platform));
            return await TestImages.PushIndexAsync(client, repository, tag, images.ToArray());
        }

        /// <summary>An image whose one layer is <paramref name="size"/> random bytes: more than one upload chunk, so the stream is read piece by piece.</summary>
        private static async Task<string> PushLargeAsync(RegistryClient client, string repository, string tag, int size)
        {
            var layer = RandomNumberGenerator.GetBytes(size);
            var config = TestImages.Config(new Dictionary<string, string>());
            var layerDigest = await client.UploadBlobAsync(repository, layer);
            var configDigest = await client.UploadBlobAsync(repository, config);
            var manifest = Encoding.UTF8.GetBytes(JsonValue.Object(
                ("schemaVersion", JsonValue.Number(2)),
                ("mediaType", JsonValue.String(MediaTypes.OciManifest)),
                ("config", new ManifestDescriptor(MediaTypes.OciConfig, configDigest, config.Length).ToJson()),
                ("layers", JsonValue.Array(new ManifestDescriptor(MediaTypes.OciLayerGzip, layerDigest, layer.Length).ToJson()))).ToJson());
            return await client.PutManifestAsync(repository, tag, manifest, MediaTypes.OciManifest);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async Task Copies_between_two_registries_with_a_credential_for_each_side()
        {
            DockerServices.Require();
            using var secured = new RegistryServer(RegistryMode.Basic);
            var alice = new ExplicitCredentialSource(RegistryServer.User, RegistryServer.Password, "-Credential");
            var stranger = new ExplicitCredentialSource("bob", "Wr0ng-Pa55-do-not-print", "-SourceCredential");
            var ns = Ns();
            using var loopback = new RegistryClient(DockerServices.RegistryAddress!);
            var digest = await PushLargeAsync(loopback, $"{ns}/app", "1.0", RegistryClient.DefaultChunkSize + 1024 * 1024);

            // Source: the anonymous loopback registry, read with a credential of its own; destination: the Basic-auth one, written with alice's.
            var run = await CopyAsync(stranger, alice, true, $"{DockerServices.RegistryAddress}/{ns}/app:1.0",
                $"{secured.Address}/{ns}/app:1.0", $"{secured.Address}/{ns}/app:stable");

            var result = Assert.Single(run.Results);
            Assert.True(result.Status == CopyStatus.Copied, result.Error);
            Assert.Equal(digest, result.Digest);
            Assert.Equal(2, result.BlobsCopied);
            Assert.Equal(RegistryClient.DefaultChunkSize + 1024 * 1024 + TestImages.Config(new Dictionary<string, string>()).Length, result.BytesCopied);
            using var reader = new RegistryClient(secured.Address, new RegistryClientOptions { Credentials = alice });
            Assert.Equal(digest, (await reader.HeadManifestAsync($"{ns}/app", "1.0"))!.Digest);
            Assert.Equal(digest, (await reader.HeadManifestAsync($"{ns}/app", "stable"))!.Digest);
            // Each side's credential went to its own registry only: alice's Basic header to the secured one, none to the loopback one.
            var basicAlice = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{RegistryServer.User}:{RegistryServer.Password}"));
            Assert.All(run.DestinationAuthorization, a => Assert.Equal($"{secured.Address} {basicAlice}", a));
            Assert.NotEmpty(run.DestinationAuthorization);
            Assert.DoesNotContain(run.SourceAuthorization, a => a.Contains(basicAlice, StringComparison.Ordinal));
            // The layer was streamed in chunks: more than one PATCH for it.
            Assert.True(run.Requests.Count(r => r.StartsWith($"Destination PATCH {secured.Address}/v2/{ns}/app/blobs/uploads/", StringComparison.Ordinal)) >= 3);

            // The other way round, with the destination's credential wrong: an auth error naming the registry, no tag, no secret.
            var back = await CopyAsync(alice, stranger, true, $"{secured.Address}/{ns}/app:1.0", $"{secured.Address}/{ns}/other:1.0");
            var refused = Assert.Single(back.Results);
            Assert.Equal(CopyStatus.Failed, refused.Status);
            Assert.StartsWith("Registry", refused.ErrorId);
            Assert.Contains(secured.Address, refused.Error);
            Assert.DoesNotContain("Wr0ng-Pa55", refused.Error);
            Assert.DoesNotContain(RegistryServer.Password, refused.Error);
            Assert.Null(await reader.HeadManifestAsync($"{ns}/other", "1.0"));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async Task Within_one_registry_blobs_are_mounted_and_the_digest_stays()
        {
            DockerServices.Require();
            var ns = Ns();
            using var loopback = new RegistryClient(DockerServices.RegistryAddress!);
            var digest = await PushIndexAsync(loopback, $"{ns}/staging", "2.0", Amd64, Arm64);

            var run = await CopyAsync(null, null, true, $"{DockerServices.RegistryAddress}/{ns}/staging@{digest}", $"{DockerServices.RegistryAddress}/{ns}/prod:2.0");

            var result = Assert.Single(run.Results);
            Assert.True(result.Status == CopyStatus.Copied, result.Error);
            Assert.Equal(digest, result.Digest);
            Assert.Equal(3, result.BlobsMounted);   // one shared layer, two configs
            Assert.Equal(0, result.BlobsCopied);
            Assert.DoesNotContain(run.Requests, r => r.Contains("PATCH", StringComparison.Ordinal) || r.Contains("?digest=", StringComparison.Ordinal));
            Assert.Equal(3, run.Requests.Count(r => r.Contains($"/v2/{ns}/prod/blobs/uploads/?mount=", StringComparison.Ordinal)));
            Assert.Equal(digest, (await loopback.HeadManifestAsync($"{ns}/prod", "2.0"))!.Digest);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public async Task An_index_merges_into_a_destination_index_that_holds_another_platform()
        {
            DockerServices.Require();
            using var secured = new RegistryServer(RegistryMode.Basic);
            var alice = new ExplicitCredentialSource(RegistryServer.User, RegistryServer.Password, "-Credential");
            var ns = Ns();
            using var loopback = new RegistryClient(DockerServices.RegistryAddress!);
            using var destination = new RegistryClient(secured.Address, new RegistryClientOptions { Credentials = alice });
            var source = await PushIndexAsync(loopback, $"{ns}/app", "3.0", Amd64, Arm64);
            await PushIndexAsync(destination, $"{ns}/app", "3.0", Amd64, S390x);

            var run = await CopyAsync(null, alice, true, $"{DockerServices.RegistryAddress}/{ns}/app:3.0", $"{secured.Address}/{ns}/app:3.0");

            var result = Assert.Single(run.Results);
            Assert.True(result.Status == CopyStatus.Copied, result.Error);
            Assert.True(result.Merged);
            Assert.Equal(new[] { "linux/s390x" }, result.KeptPlatforms);
            Assert.NotEqual(source, result.Digest);
            var merged = (await destination.GetManifestAsync($"{ns}/app", "3.0"))!;
            Assert.Equal(result.Digest, merged.Digest);
            Assert.Equal(new[] { "linux/amd64", "linux/arm64/v8", "linux/s390x" }, merged.Manifests.Select(m => m.Platform!.ToString()));
            var sourceIndex = (await loopback.GetManifestAsync($"{ns}/app", "3.0"))!;
            Assert.Equal(sourceIndex.Manifests.Select(m => m.Digest), merged.Manifests.Take(2).Select(m => m.Digest));
            // The source index is in the destination by its own digest too, unchanged.
            Assert.Equal(source, (await destination.HeadManifestAsync($"{ns}/app", source))!.Digest);
        }
    }
}
