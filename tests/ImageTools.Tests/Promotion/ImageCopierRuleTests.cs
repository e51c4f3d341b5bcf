using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ImageTools.Promotion;
using ImageTools.References;
using ImageTools.Registry;
using ImageTools.Tests.Fakes;
using ImageTools.Tests.Registry;
using Xunit;

namespace ImageTools.Tests.Promotion
{
    /// <summary>
    /// Copy-Image's rules against two in-memory registries (no socket): the digest stays, blobs are streamed between
    /// registries, mounted within one and skipped where they are; an index merges into a destination index with other
    /// platforms; and a run is all or nothing. The same against real registries is in Integration/ImageCopierIntegrationTests.
    /// </summary>
    public class ImageCopierRuleTests
    {
        private const string Other = "127.0.0.1:5998";
        private readonly InMemoryRegistry _a = new InMemoryRegistry();
        private readonly InMemoryRegistry _b = new InMemoryRegistry(Other);
        private readonly RegistryClient _clientA;
        private readonly RegistryClient _clientB;

        public ImageCopierRuleTests()
        {
            _clientA = _a.Client();
            _clientB = _b.Client();
        }

        private static readonly ImagePlatform Amd64 = new ImagePlatform("linux", "amd64");
        private static readonly ImagePlatform Arm64 = new ImagePlatform("linux", "arm64", "v8");
        private static readonly ImagePlatform S390x = new ImagePlatform("linux", "s390x");

        private string PushIndex(RegistryClient client, string repository, string tag, params ImagePlatform[] platforms)
        {
            var images = platforms.Select(p => (TestImages.PushAsync(client, repository, null, os: p.Os, architecture: p.Architecture, variant: p.Variant,
                labels: new Dictionary<string, string> { ["at"] = repository + tag }).GetAwaiter().GetResult(), p)).ToArray();
            return TestImages.PushIndexAsync(client, repository, tag, images).GetAwaiter().GetResult();
        }

        private static T Sync<T>(System.Threading.Tasks.Task<T> task) => task.GetAwaiter().GetResult();

        /// <summary>A loopback port nothing listens on: a registry that is down.</summary>
        private const string Down = "127.0.0.1:1";

        private IReadOnlyList<CopiedImage> Copy(bool merge = true, params (string Source, string[] Destinations)[] copies)
        {
            using var copier = new ImageCopier((registry, side) => registry == Other ? _b.Client() : registry == Down
                ? new RegistryClient(Down, new RegistryClientOptions { Retry = RetryPolicy.None, RequestTimeout = TimeSpan.FromSeconds(5) })
                : _a.Client(), new CopyOptions { Merge = merge });
            var plan = copier.PlanAsync(copies.Select(c => CopyRequest.Parse(c.Source, c.Destinations)).ToList(), CancellationToken.None).GetAwaiter().GetResult();
            return copier.RunAsync(plan, plan.Destinations.ToList(), CancellationToken.None).GetAwaiter().GetResult();
        }

        [Fact]
        public void An_index_copied_to_another_registry_keeps_its_digest_under_every_tag_and_streams_each_blob_once()
        {
            var digest = PushIndex(_clientA, "team/app", "1.0", Amd64, Arm64);

            var results = Copy(true, ($"{InMemoryRegistry.Address}/team/app:1.0", new[] { $"{Other}/prod/app:1.0", $"{Other}/prod/app:latest" }));

            var result = Assert.Single(results);
            Assert.True(result.Status == CopyStatus.Copied, result.Error);
            Assert.Equal(new[] { "1.0", "latest" }, result.Tags);
            Assert.Equal(digest, result.Digest);
            Assert.Equal(digest, result.SourceDigest);
            Assert.False(result.Merged);
            Assert.Equal(new[] { "linux/amd64", "linux/arm64/v8" }, result.Platforms);
            Assert.Equal(digest, _b.DigestAt("prod/app:1.0"));
            Assert.Equal(digest, _b.DigestAt("prod/app:latest"));
            // One shared layer and two configs, each streamed once; nothing mounted across registries.
            Assert.Equal(3, result.BlobsCopied);
            Assert.Equal(3, _b.BlobUploads.Count);
            Assert.Empty(_b.Mounts);
            Assert.Equal(0, result.BlobsMounted);
        }

        [Fact]
        public void Within_one_registry_every_blob_is_mounted_from_the_source_repository()
        {
            var source = Sync(TestImages.PushAsync(_clientA, "staging/app", "2.0"));
            var uploadsBefore = _a.BlobUploads.Count;

            var result = Assert.Single(Copy(true, ($"{InMemoryRegistry.Address}/staging/app@{source.ManifestDigest}", new[] { $"{InMemoryRegistry.Address}/prod/app:2.0" })));

            Assert.True(result.Status == CopyStatus.Copied, result.Error);
            Assert.Equal(2, result.BlobsMounted);
            Assert.Equal(0, result.BlobsCopied);
            Assert.Equal(uploadsBefore, _a.BlobUploads.Count);
            Assert.All(_a.Mounts, m => Assert.EndsWith("from staging/app", m));
            Assert.Equal(source.ManifestDigest, _a.DigestAt("prod/app:2.0"));
        }

        [Fact]
        public void Blobs_the_destination_already_holds_are_skipped_and_a_second_run_is_up_to_date()
        {
            var source = Sync(TestImages.PushAsync(_clientA, "team/app", "1.0"));
            Sync(_clientB.UploadBlobAsync("prod/app", TestImages.EmptyLayer(out _)));

            var first = Assert.Single(Copy(true, ($"{InMemoryRegistry.Address}/team/app:1.0", new[] { $"{Other}/prod/app" })));
            Assert.True(first.Status == CopyStatus.Copied, first.Error);
            Assert.Equal(new[] { "1.0" }, first.Tags);   // no tag given: the source's
            Assert.Equal(1, first.BlobsSkipped);
            Assert.Equal(1, first.BlobsCopied);            // the config

            var uploads = _b.BlobUploads.Count;
            var second = Assert.Single(Copy(true, ($"{InMemoryRegistry.Address}/team/app:1.0", new[] { $"{Other}/prod/app:1.0" })));
            Assert.Equal(CopyStatus.UpToDate, second.Status);
            Assert.Equal(uploads, _b.BlobUploads.Count);
            Assert.Equal(source.ManifestDigest, second.Digest);
        }

        [Fact]
        public void An_index_merges_into_a_destination_index_keeping_its_other_platforms_under_a_new_digest()
        {
            var digest = PushIndex(_clientA, "team/app", "1.0", Amd64, Arm64);
            PushIndex(_clientB, "prod/app", "1.0", Amd64, S390x);

            var result = Assert.Single(Copy(true, ($"{InMemoryRegistry.Address}/team/app:1.0", new[] { $"{Other}/prod/app:1.0" })));

            Assert.True(result.Status == CopyStatus.Copied, result.Error);
            Assert.True(result.Merged);
            Assert.Equal(new[] { "linux/s390x" }, result.KeptPlatforms);
            Assert.NotEqual(digest, result.Digest);
            Assert.Equal(result.Digest, _b.DigestAt("prod/app:1.0"));
            var merged = Sync(_clientB.GetManifestAsync("prod/app", "1.0"))!;
            var source = Sync(_clientA.GetManifestAsync("team/app", "1.0"))!;
            Assert.Equal(source.Manifests.Select(m => m.Digest).Concat(new[] { RegistryClient.ResolvePlatform(merged, "linux", "s390x")!.Digest }),
                merged.Manifests.Select(m => m.Digest));
            // The source index itself is there too, by digest.
            Assert.Equal(digest, _b.DigestAt($"prod/app@{digest}"));
        }

        [Fact]
        public void Without_merging_the_destination_index_is_replaced_with_a_warning()
        {
            var digest = PushIndex(_clientA, "team/app", "1.0", Amd64);
            PushIndex(_clientB, "prod/app", "1.0", S390x);

            var result = Assert.Single(Copy(false, ($"{InMemoryRegistry.Address}/team/app:1.0", new[] { $"{Other}/prod/app:1.0" })));

            Assert.Equal(CopyStatus.Copied, result.Status);
            Assert.False(result.Merged);
            Assert.Equal(digest, _b.DigestAt("prod/app:1.0"));
            Assert.Contains(result.Warnings, w => w.Contains($"{Other}/prod/app:1.0") && w.Contains("linux/s390x"));
        }

        [Fact]
        public void A_single_platform_manifest_over_an_index_replaces_it_with_a_warning_naming_the_tag()
        {
            var source = Sync(TestImages.PushAsync(_clientA, "team/app", "1.0"));
            PushIndex(_clientB, "prod/app", "stable", Amd64, S390x);

            var result = Assert.Single(Copy(true, ($"{InMemoryRegistry.Address}/team/app:1.0", new[] { $"{Other}/prod/app:stable" })));

            Assert.Equal(CopyStatus.Copied, result.Status);
            Assert.Equal(source.ManifestDigest, _b.DigestAt("prod/app:stable"));
            var warning = Assert.Single(result.Warnings);
            Assert.Contains($"{Other}/prod/app:stable", warning);
            Assert.Contains("replaced", warning);
        }

        [Fact]
        public void A_destination_that_fails_holds_back_every_tag_of_the_run()
        {
            PushIndex(_clientA, "team/app", "1.0", Amd64, Arm64);
            _b.RefuseUploadsTo("broken/app");

            var results = Copy(true, ($"{InMemoryRegistry.Address}/team/app:1.0", new[] { $"{Other}/prod/app:1.0", $"{Other}/broken/app:1.0" }));

            var good = results.Single(r => r.Destination == $"{Other}/prod/app");
            var bad = results.Single(r => r.Destination == $"{Other}/broken/app");
            Assert.Equal(CopyStatus.Failed, bad.Status);
            Assert.Equal("RegistryAccessDenied", bad.ErrorId);
            Assert.Equal(CopyStatus.HeldBack, good.Status);
            Assert.Equal(new[] { $"{Other}/broken/app" }, good.HeldBackBy);
            Assert.Null(_b.DigestAt("prod/app:1.0"));
            // It was copied by digest all the same: a rerun after the fix only moves the tag.
            Assert.NotNull(_b.DigestAt($"prod/app@{good.SourceDigest}"));
        }

        [Fact]
        public void A_destination_registry_that_is_down_fails_naming_it_and_holds_back_the_others()
        {
            Sync(TestImages.PushAsync(_clientA, "team/app", "1.0"));

            var results = Copy(true, ($"{InMemoryRegistry.Address}/team/app:1.0", new[] { $"{Other}/prod/app:1.0", $"{Down}/prod/app:1.0" }));

            var down = results.Single(r => r.Destination == $"{Down}/prod/app");
            Assert.Equal(CopyStatus.Failed, down.Status);
            Assert.Equal("RegistryUnreachable", down.ErrorId);
            Assert.Contains(Down, down.Error);
            Assert.Equal(new[] { "1.0" }, down.Tags);
            Assert.Equal(CopyStatus.HeldBack, results.Single(r => r.Destination == $"{Other}/prod/app").Status);
            Assert.Null(_b.DigestAt("prod/app:1.0"));
        }

        [Fact]
        public void A_missing_source_fails_with_its_own_error_and_holds_back_the_other_copies()
        {
            Sync(TestImages.PushAsync(_clientA, "team/app", "1.0"));

            var results = Copy(true,
                ($"{InMemoryRegistry.Address}/team/app:1.0", new[] { $"{Other}/prod/app:1.0" }),
                ($"{InMemoryRegistry.Address}/team/app:9.9", new[] { $"{Other}/prod/app:9.9" }));

            var missing = results.Single(r => r.Source.EndsWith(":9.9", StringComparison.Ordinal));
            Assert.Equal(CopyStatus.Failed, missing.Status);
            Assert.Equal("CopySourceNotFound", missing.ErrorId);
            Assert.Contains("team/app:9.9", missing.Error);
            Assert.Equal(CopyStatus.HeldBack, results.Single(r => r.Source.EndsWith(":1.0", StringComparison.Ordinal)).Status);
            Assert.Null(_b.DigestAt("prod/app:1.0"));
        }

        [Fact]
        public void When_a_first_tag_cannot_move_the_other_tags_stay_where_they_were()
        {
            var source = Sync(TestImages.PushAsync(_clientA, "team/app", "1.0"));
            _b.RefuseTag("prod/app", "1.0");

            var results = Copy(true,
                ($"{InMemoryRegistry.Address}/team/app:1.0", new[] { $"{Other}/prod/app:1.0", $"{Other}/prod/app:latest" }),
                ($"{InMemoryRegistry.Address}/team/app:1.0", new[] { $"{Other}/mirror/app:1.0", $"{Other}/mirror/app:latest" }));

            Assert.Equal(CopyStatus.Failed, results.Single(r => r.Destination.EndsWith("prod/app", StringComparison.Ordinal)).Status);
            Assert.Null(_b.DigestAt("prod/app:latest"));
            // The other destination's first tag moved (first tags go first), its latest waits for a rerun.
            var mirror = results.Single(r => r.Destination.EndsWith("mirror/app", StringComparison.Ordinal));
            Assert.Equal(source.ManifestDigest, _b.DigestAt("mirror/app:1.0"));
            Assert.Null(_b.DigestAt("mirror/app:latest"));
            Assert.Contains("latest", mirror.Error);
        }

        [Theory]
        [InlineData("127.0.0.1:5999/team/app", "127.0.0.1:5998/prod/app:1.0", "names no tag or digest")]
        [InlineData("127.0.0.1:5999/team/app:1.0", "127.0.0.1:5998/prod/app@sha256:0000000000000000000000000000000000000000000000000000000000000000", "names a digest")]
        [InlineData("127.0.0.1:5999/Team/App:1.0", "127.0.0.1:5998/prod/app:1.0", "not an image reference")]
        [InlineData("127.0.0.1:5999/team/app:1.0", "127.0.0.1:5999/team/app", "onto itself")]
        public void Bad_references_are_refused_before_anything_is_read(string source, string destination, string message)
        {
            var error = Assert.Throws<ImageToolsException>(() => CopyRequest.Parse(source, new[] { destination }));
            Assert.Equal("CopyReferenceInvalid", error.ErrorId);
            Assert.Contains(message, error.Message);
        }

        [Fact]
        public void Streamed_blobs_are_checked_against_their_digest()
        {
            var layer = TestImages.EmptyLayer(out _);
            var digest = Sync(_clientA.UploadBlobAsync("team/app", layer));
            using (var stream = Sync(_clientA.OpenBlobAsync("team/app", digest, layer.Length)))
            {
                var copy = new System.IO.MemoryStream();
                stream.CopyTo(copy);
                Assert.Equal(layer, copy.ToArray());
            }
            var wrong = Digests.Sha256(new byte[] { 1 });
            _b.RefuseMounts();
            using var other = Sync(_clientA.OpenBlobAsync("team/app", digest, layer.Length + 1));
            var error = Assert.Throws<ImageToolsException>(() => other.CopyTo(System.IO.Stream.Null));
            Assert.Equal("RegistryDigestMismatch", error.ErrorId);
            Assert.NotEqual(wrong, digest);
        }
    
        [Fact]
        public void A_blob_stream_cut_mid_body_is_resumed_where_it_broke_under_the_retry_policy()
        {
            var blob = new byte[300_000];
            new Random(20).NextBytes(blob);
            var digest = Sync(_clientA.UploadBlobAsync("team/app", blob));
            var cutter = new CutFirstBlobBody(_a, cutAfter: 100_000);
            using var client = new RegistryClient(InMemoryRegistry.Address, new RegistryClientOptions
            {
                Retry = new RetryPolicy(3, TimeSpan.FromMilliseconds(10)), WrapHandler = _ => cutter,
            });

            using var stream = Sync(client.OpenBlobAsync("team/app", digest, blob.Length));
            var copy = new System.IO.MemoryStream();
            stream.CopyTo(copy);

            Assert.Equal(blob, copy.ToArray());
            Assert.Equal(2, cutter.BlobGets);   // the first, cut, and one resumed from where it broke
        }

        /// <summary>The in-memory registry, with the first blob GET's body broken off (an IOException) after some bytes.</summary>
        private sealed class CutFirstBlobBody : System.Net.Http.DelegatingHandler
        {
            private readonly int _cutAfter;
            private int _blobGets;

            public CutFirstBlobBody(InMemoryRegistry registry, int cutAfter) : base(registry) => _cutAfter = cutAfter;

            public int BlobGets => _blobGets;

            protected override async System.Threading.Tasks.Task<System.Net.Http.HttpResponseMessage> SendAsync(System.Net.Http.HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var answer = await base.SendAsync(request, cancellationToken);
                if (request.Method != System.Net.Http.HttpMethod.Get || !request.RequestUri!.AbsolutePath.Contains("/blobs/sha256:", StringComparison.Ordinal)) return answer;
                if (Interlocked.Increment(ref _blobGets) > 1) return answer;
                var bytes = await answer.Content.ReadAsByteArrayAsync(cancellationToken);
                var cut = new System.Net.Http.StreamContent(new BreakingStream(bytes, _cutAfter));
                cut.Headers.ContentLength = bytes.Length;
                answer.Content = cut;
                return answer;
            }
        }

        private sealed class BreakingStream : System.IO.MemoryStream
        {
            private readonly int _cutAfter;
            public BreakingStream(byte[] bytes, int cutAfter) : base(bytes) => _cutAfter = cutAfter;

            public override int Read(byte[] buffer, int offset, int count)
            {
                if (Position >= _cutAfter) throw new System.IO.IOException("connection reset by peer (test)");
                return base.Read(buffer, offset, (int)Math.Min(count, _cutAfter - Position));
            }

            public override System.Threading.Tasks.Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                System.Threading.Tasks.Task.FromResult(Read(buffer, offset, count));

            public override System.Threading.Tasks.ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                var array = new byte[buffer.Length];
                var n = Read(array, 0, array.Length);
                array.AsSpan(0, n).CopyTo(buffer.Span);
                return new System.Threading.Tasks.ValueTask<int>(n);
            }
        }
    }
}
