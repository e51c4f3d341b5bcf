using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Publishing;
using ImageTools.References;
using ImageTools.Registry;
using Xunit;

namespace ImageTools.Tests.Integration
{
    /// <summary>Publishing to the real loopback registry: version tags by push, floating tags by manifest PUT, atomically.</summary>
    [Collection(DockerCollection.Name)]
    public class RegistryPublisherTests
    {
        private static TestTree Tree(string ns) => new TestTree()
            .Write("imagetools.yaml", $"registry: {DockerServices.RegistryAddress}\nnamespace: {ns}\n")
            .Image("alpha", "FROM busybox:1.36\nRUN echo alpha-1 > /id\n").Write("alpha/image.yaml", "version: '1.0'\ntags: [stable]\n")
            .Image("beta", "FROM busybox:1.36\nRUN echo beta-1 > /id\n").Write("beta/image.yaml", "version: '2.0'\n");

        private static List<ImageToPublish> BuildAll(string root)
        {
            var graph = ImageGraph.Build(TreeScanner.Scan(root));
            var results = new ImageBuilder(DockerServices.Engine(), new BuildOptions { ThrottleLimit = 2 })
                .BuildAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult();
            Assert.All(results, r => Assert.Equal(BuildStatus.Built, r.Status));
            return results.Select(r => new ImageToPublish(r.Node, r.ImageId!)).ToList();
        }

        private static Dictionary<string, PublishResult> Publish(IEnumerable<ImageToPublish> images, RegistryPublishOptions? options = null)
        {
            using var client = new RegistryClient(DockerServices.RegistryAddress!);
            return new RegistryPublisher(DockerServices.Engine(), client, options ?? new RegistryPublishOptions())
                .PublishAsync(images, CancellationToken.None).GetAwaiter().GetResult().ToDictionary(r => r.Name);
        }

        private static string? DigestOf(string repository, string tag)
        {
            using var client = new RegistryClient(DockerServices.RegistryAddress!);
            return client.HeadManifestAsync(repository, tag).GetAwaiter().GetResult()?.Digest;
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void Pushes_version_tags_then_moves_latest_and_extra_tags_and_a_rerun_is_a_no_op()
        {
            var ns = $"pub{Guid.NewGuid():N}".Substring(0, 11);
            using var tree = Tree(ns);
            var images = BuildAll(tree.Root);

            var first = Publish(images);
            var second = Publish(images);

            Assert.Equal(PublishStatus.Pushed, first["alpha"].Status);
            Assert.Equal(new[] { "1.0", "latest", "stable" }, first["alpha"].Tags);
            var version = DigestOf($"{ns}/alpha", "1.0");
            Assert.NotNull(version);
            Assert.Equal(version, DigestOf($"{ns}/alpha", "latest"));
            Assert.Equal(version, DigestOf($"{ns}/alpha", "stable"));
            Assert.All(second.Values, r => Assert.Equal(PublishStatus.AlreadyPublished, r.Status));
            Assert.All(second.Values, r => Assert.Equal(0, r.Attempts));
            // What pins the image (repository@digest) is the manifest's digest, not the image id.
            Assert.Equal(version, first["alpha"].ManifestDigest);
            Assert.Equal(version, second["alpha"].ManifestDigest);
            Assert.NotEqual(first["alpha"].Digest, first["alpha"].ManifestDigest);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_nightly_build_is_tagged_and_published_under_its_suffixed_version_only()
        {
            var ns = $"ngt{Guid.NewGuid():N}".Substring(0, 11);
            using var tree = Tree(ns);
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            var built = new ImageBuilder(DockerServices.Engine(), new BuildOptions { TagSuffix = "-20261122" })
                .BuildAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult().ToDictionary(r => r.Name);
            Assert.Equal($"{DockerServices.RegistryAddress}/{ns}/alpha:1.0-20261122", built["alpha"].Reference);
            Assert.Equal(built["alpha"].Reference, built["alpha"].Tags[0]);

            var published = Publish(built.Values.Select(r => new ImageToPublish(r.Node, r.ImageId!, r.Tag)));

            Assert.Equal(PublishStatus.Pushed, published["alpha"].Status);
            Assert.Equal(built["alpha"].Reference, published["alpha"].Reference);
            Assert.Equal(new[] { "1.0-20261122", "latest", "stable" }, published["alpha"].Tags);
            Assert.Equal(DigestOf($"{ns}/alpha", "1.0-20261122"), DigestOf($"{ns}/alpha", "latest"));
            Assert.Null(DigestOf($"{ns}/alpha", "1.0"));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void Different_content_under_an_existing_version_is_refused_unless_overwriting_is_allowed()
        {
            var ns = $"imm{Guid.NewGuid():N}".Substring(0, 11);
            using var tree = Tree(ns);
            Publish(BuildAll(tree.Root));
            tree.Image("alpha", "FROM busybox:1.36\nRUN echo alpha-2 > /id\n");
            var rebuilt = BuildAll(tree.Root);
            var published = DigestOf($"{ns}/alpha", "1.0");

            var refused = Publish(rebuilt);
            Assert.Equal(PublishStatus.Failed, refused["alpha"].Status);
            Assert.Equal("VersionTagExists", refused["alpha"].ErrorId);
            Assert.Contains("Bump the version", refused["alpha"].Error);
            Assert.Equal(published, DigestOf($"{ns}/alpha", "1.0"));

            var allowed = Publish(rebuilt, new RegistryPublishOptions { AllowOverwrite = true });
            Assert.Equal(PublishStatus.Pushed, allowed["alpha"].Status);
            Assert.NotEqual(published, DigestOf($"{ns}/alpha", "1.0"));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void An_equivalent_rebuild_under_an_existing_version_is_already_published()
        {
            var ns = $"eqv{Guid.NewGuid():N}".Substring(0, 11);
            using var tree = Tree(ns);
            var graph = ImageGraph.Build(TreeScanner.Scan(tree.Root));
            List<ImageToPublish> BuildAt(DateTimeOffset now) =>
                new ImageBuilder(DockerServices.Engine(), new BuildOptions { Now = now, NoCache = true })
                    .BuildAsync(graph, graph.Nodes, CancellationToken.None).GetAwaiter().GetResult().Select(r => new ImageToPublish(r.Node, r.ImageId!)).ToList();
            var first = BuildAt(new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero));
            Publish(first);
            var version = DigestOf($"{ns}/alpha", "1.0");

            var rebuilt = BuildAt(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero));
            Assert.NotEqual(first[0].ImageId, rebuilt[0].ImageId);  // same inputs, another digest (the created label)
            var again = Publish(rebuilt);

            Assert.All(again.Values, r => Assert.True(r.Status == PublishStatus.AlreadyPublished, $"{r.Name}: {r.Status} {r.Error}"));
            Assert.Equal(version, DigestOf($"{ns}/alpha", "1.0"));
            Assert.Equal(version, again["alpha"].ManifestDigest);
            Assert.Equal(first.Single(i => i.Node.Name == "alpha").ImageId, again["alpha"].Digest);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerTheory]
        [InlineData(MediaTypes.OciIndex, MediaTypes.OciManifest)]
        [InlineData(MediaTypes.DockerManifestList, MediaTypes.DockerManifest)]
        public void An_index_at_the_destination_keeps_its_other_platforms(string indexType, string expectedManifestType)
        {
            var ns = $"idx{Guid.NewGuid():N}".Substring(0, 11);
            using var tree = Tree(ns);
            var images = BuildAll(tree.Root);
            using var client = new RegistryClient(DockerServices.RegistryAddress!);
            var foreign = new[] { ("arm64", "v8"), ("s390x", (string?)null) }.Select(p => PushForeignPlatform(client, $"{ns}/alpha", p.Item1, p.Item2)).ToList();
            var index = System.Text.Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"" + indexType + "\",\"manifests\":[" +
                string.Join(",", foreign.Select(f => f.ToJson().ToJson())) + "]}");
            foreach (var tag in new[] { "1.0", "latest" }) client.PutManifestAsync($"{ns}/alpha", tag, index, indexType).GetAwaiter().GetResult();

            var first = Publish(images);
            var again = Publish(images);

            Assert.True(first["alpha"].Status == PublishStatus.Pushed, $"{first["alpha"].Status}: {first["alpha"].Error}");
            Assert.Equal(1, first["alpha"].Attempts);
            Assert.Equal(PublishStatus.AlreadyPublished, again["alpha"].Status);
            var alpha = images.Single(i => i.Node.Name == "alpha").ImageId;
            foreach (var tag in new[] { "1.0", "latest", "stable" })
            {
                var published = client.GetManifestAsync($"{ns}/alpha", tag).GetAwaiter().GetResult()!;
                if (tag == "stable") { Assert.False(published.IsIndex); continue; }
                Assert.Equal(indexType, published.MediaType);
                Assert.Equal(new[] { ImagePlatform.Host.Architecture, "arm64", "s390x" }.Distinct().OrderBy(a => a),
                    published.Manifests.Select(m => m.Platform!.Architecture).OrderBy(a => a));
                var ours = RegistryClient.ResolvePlatform(published, "linux", ImagePlatform.Host.Architecture)!;
                var manifest = client.GetManifestAsync($"{ns}/alpha", ours.Digest).GetAwaiter().GetResult()!;
                Assert.Equal(alpha, manifest.Config!.Digest);
                // Uploaded by digest (never by docker push, which would have moved the tag): its types follow the index.
                Assert.Equal(expectedManifestType, manifest.MediaType);
            }

            // What was uploaded is the image itself: pulled back by digest, the engine has the same image id.
            var engine = DockerServices.Engine();
            var byDigest = $"{DockerServices.RegistryAddress}/{ns}/alpha@{RegistryClient.ResolvePlatform(client.GetManifestAsync($"{ns}/alpha", "1.0").GetAwaiter().GetResult()!, "linux", ImagePlatform.Host.Architecture)!.Digest}";
            engine.RemoveAsync(images.Single(i => i.Node.Name == "alpha").Node.Reference, CancellationToken.None).GetAwaiter().GetResult();
            Assert.Null(engine.InspectAsync(alpha, CancellationToken.None).GetAwaiter().GetResult());
            engine.PullAsync(byDigest, null, CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(alpha, engine.InspectAsync(byDigest, CancellationToken.None).GetAwaiter().GetResult()!.Id);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void An_image_built_for_another_platform_than_the_hosts_takes_its_own_entry_in_the_index()
        {
            var ns = $"plt{Guid.NewGuid():N}".Substring(0, 11);
            // FROM scratch with COPY only: a build for a foreign platform that needs no emulator.
            using var tree = new TestTree()
                .Write("imagetools.yaml", $"registry: {DockerServices.RegistryAddress}\nnamespace: {ns}\n")
                .Image("foreign", "FROM scratch\nCOPY id /id\n").Write("foreign/id", "foreign\n")
                .Write("foreign/image.yaml", "version: '1.0'\nplatforms: [linux/s390x]\n");
            var image = BuildAll(tree.Root).Single();
            using var client = new RegistryClient(DockerServices.RegistryAddress!);
            var host = PushForeignPlatform(client, $"{ns}/foreign", ImagePlatform.Host.Architecture, null);
            var other = PushForeignPlatform(client, $"{ns}/foreign", "ppc64le", null);
            var index = System.Text.Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OciIndex + "\",\"manifests\":[" +
                host.ToJson().ToJson() + "," + other.ToJson().ToJson() + "]}");
            client.PutManifestAsync($"{ns}/foreign", "1.0", index, MediaTypes.OciIndex).GetAwaiter().GetResult();

            var result = Publish(new[] { image })["foreign"];

            Assert.True(result.Status == PublishStatus.Pushed, $"{result.Status}: {result.Error}");
            var published = client.GetManifestAsync($"{ns}/foreign", "1.0").GetAwaiter().GetResult()!;
            Assert.Equal(new[] { ImagePlatform.Host.Architecture, "ppc64le", "s390x" }.OrderBy(a => a), published.Manifests.Select(m => m.Platform!.Architecture).OrderBy(a => a));
            Assert.Equal(host.Digest, RegistryClient.ResolvePlatform(published, "linux", ImagePlatform.Host.Architecture)!.Digest);
            var ours = RegistryClient.ResolvePlatform(published, "linux", "s390x")!;
            Assert.Equal(image.ImageId, client.GetManifestAsync($"{ns}/foreign", ours.Digest).GetAwaiter().GetResult()!.Config!.Digest);
            Assert.Equal(PublishStatus.AlreadyPublished, Publish(new[] { image })["foreign"].Status);

            // Test-ImageNeedsRebuild finds it there too: the image's platform, not the host's entry.
            using var source = new ImageTools.Planning.RegistryImageSource(new RegistryClientOptions());
            Assert.Equal(image.ImageId, source.FindAsync(image.ImageReference, image.Node.Definition.Platform, CancellationToken.None).GetAwaiter().GetResult()!.Digest);
            Assert.NotEqual(image.ImageId, source.FindAsync(image.ImageReference, null, CancellationToken.None).GetAwaiter().GetResult()!.Digest);
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_registry_that_is_down_fails_every_image_with_a_clear_error()
        {
            using var tree = new TestTree()
                .Write("imagetools.yaml", "registry: 127.0.0.1:9\n")
                .Image("down", "FROM busybox:1.36\nRUN echo down > /id\n").Write("down/image.yaml", $"name: down{Guid.NewGuid():N}\n".Substring(0, 20) + "\n");
            var images = BuildAll(tree.Root);
            using var client = new RegistryClient("127.0.0.1:9", new RegistryClientOptions { Retry = RetryPolicy.None });

            var result = new RegistryPublisher(DockerServices.Engine(), client, new RegistryPublishOptions())
                .PublishAsync(images, CancellationToken.None).GetAwaiter().GetResult().Single();

            Assert.Equal(PublishStatus.Failed, result.Status);
            Assert.Equal("RegistryUnreachable", result.ErrorId);
            Assert.Contains("127.0.0.1:9", result.Error);
        }

        private static int RegistryPort => int.Parse(DockerServices.RegistryAddress!.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>Publishes one fresh image to the test registry as reached through <paramref name="proxy"/>.</summary>
        private static (PublishResult Result, string ImageId, string Repository) PublishThrough(ImageTools.Tests.Registry.FaultProxy proxy, string name)
        {
            var ns = $"{name}{Guid.NewGuid():N}".Substring(0, 12);
            using var tree = new TestTree()
                .Write("imagetools.yaml", $"registry: {proxy.Address}\nnamespace: {ns}\n")
                .Image(name, $"FROM busybox:1.36\nRUN echo {ns} > /id\n").Write($"{name}/image.yaml", "version: '1.0'\n");
            var images = BuildAll(tree.Root);
            using var client = new RegistryClient(proxy.Address);
            var options = new RegistryPublishOptions { Retry = new RetryPolicy(3, TimeSpan.FromMilliseconds(200), jitter: 0) };
            var result = new RegistryPublisher(DockerServices.Engine(), client, options).PublishAsync(images, CancellationToken.None).GetAwaiter().GetResult().Single();
            return (result, images[0].ImageId, $"{ns}/{name}");
        }

        // Images go up through the registry client (no docker push): its one retry loop gets past a dropped connection.
        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_push_cut_off_by_a_dropped_connection_is_tried_again()
        {
            using var proxy = new ImageTools.Tests.Registry.FaultProxy(RegistryPort, faults: 1, status: null);

            var (result, imageId, repository) = PublishThrough(proxy, "flaky");

            // The registry client retries the request itself; the publish is one attempt.
            Assert.True(result.Status == PublishStatus.Pushed, $"{result.Status}: {result.Error}");
            Assert.Equal(1, proxy.FaultsInjected);
            using var direct = new RegistryClient(DockerServices.RegistryAddress!);
            Assert.Equal(imageId, direct.GetManifestAsync(repository, "latest").GetAwaiter().GetResult()!.Config!.Digest);
        }

        // A 401 without credentials to offer is permanent: no retry.
        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_push_the_registry_refuses_is_not_tried_again()
        {
            using var proxy = new ImageTools.Tests.Registry.FaultProxy(RegistryPort, faults: 1000, status: "401 Unauthorized",
                extraHeader: "WWW-Authenticate: Basic realm=\"imagetools-test\"");

            var (result, _, repository) = PublishThrough(proxy, "refused");

            Assert.Equal(PublishStatus.Failed, result.Status);
            Assert.True(result.Attempts <= 1, $"{result.Attempts} attempts, {proxy.FaultsInjected} faults: {result.Error}");
            Assert.True(proxy.FaultsInjected > 0);
            using var direct = new RegistryClient(DockerServices.RegistryAddress!);
            Assert.Null(direct.HeadManifestAsync(repository, "1.0").GetAwaiter().GetResult());
        }

        /// <summary>
        /// docker pushes over TLS trust a registry's CA through /etc/docker/certs.d/HOST:PORT (read per
        /// connection, no daemon restart). The entry is scoped to this test's random loopback port and
        /// removed afterwards; writing it needs root, which CI has.
        /// </summary>
        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void Publishes_with_credentials_to_a_registry_with_Basic_auth_over_TLS_with_a_self_signed_CA()
        {
            using var registry = new ImageTools.Tests.Registry.RegistryServer(ImageTools.Tests.Registry.RegistryMode.BasicTls);
            const string OwnerMark = "imagetools-test-entry";
            // A run killed mid-test leaves its entry behind; remove those (and only those) first.
            foreach (var stale in System.IO.Directory.Exists("/etc/docker/certs.d") ? System.IO.Directory.GetDirectories("/etc/docker/certs.d", "127.0.0.1:*") : Array.Empty<string>())
                if (System.IO.File.Exists(System.IO.Path.Combine(stale, OwnerMark))) System.IO.Directory.Delete(stale, recursive: true);
            var certs = System.IO.Path.Combine("/etc/docker/certs.d", registry.Address);
            System.IO.Directory.CreateDirectory(certs);
            try
            {
                System.IO.File.WriteAllText(System.IO.Path.Combine(certs, OwnerMark), "");
                System.IO.File.Copy(registry.CaBundlePath!, System.IO.Path.Combine(certs, "ca.crt"), overwrite: true);
                var ns = $"tls{Guid.NewGuid():N}".Substring(0, 11);
                using var tree = new TestTree()
                    .Write("imagetools.yaml", $"registry: {registry.Address}\nnamespace: {ns}\n")
                    .Image("secure", "FROM busybox:1.36\nRUN echo secure > /id\n").Write("secure/image.yaml", "version: '1.0'\n");
                var images = BuildAll(tree.Root);
                var user = ImageTools.Tests.Registry.RegistryServer.User;
                var password = ImageTools.Tests.Registry.RegistryServer.Password;
                var options = new RegistryClientOptions { CaBundlePath = registry.CaBundlePath, Credentials = new ExplicitCredentialSource(user, password) };

                using var login = ImageTools.Docker.Cli.TemporaryDockerConfig.LoginAsync(registry.Address, user, password,
                    new Dictionary<string, string?> { ["DOCKER_HOST"] = DockerServices.DockerHost }).GetAwaiter().GetResult();
                var engine = new ImageTools.Docker.Cli.DockerCliEngine(environment: new Dictionary<string, string?> { ["DOCKER_HOST"] = DockerServices.DockerHost, ["DOCKER_CONFIG"] = login.Directory });
                using var client = new RegistryClient(registry.Address, options);
                var result = new RegistryPublisher(engine, client, new RegistryPublishOptions()).PublishAsync(images, CancellationToken.None).GetAwaiter().GetResult().Single();

                Assert.True(result.Status == PublishStatus.Pushed, $"{result.Status}: {result.Error}");
                Assert.Equal(new[] { "1.0", "latest" }, result.Tags);
                Assert.Equal(images[0].ImageId, client.GetManifestAsync($"{ns}/secure", "latest").GetAwaiter().GetResult()!.Config!.Digest);
                Assert.DoesNotContain(password, result.Error ?? "");
            }
            finally
            {
                System.IO.Directory.Delete(certs, recursive: true);
            }
        }

        /// <summary>A layerless image for another platform, pushed by digest through the API.</summary>
        private static ManifestDescriptor PushForeignPlatform(RegistryClient client, string repository, string architecture, string? variant)
        {
            var config = System.Text.Encoding.UTF8.GetBytes($"{{\"architecture\":\"{architecture}\",\"os\":\"linux\"" +
                (variant == null ? "" : $",\"variant\":\"{variant}\"") + ",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
            var configDigest = client.UploadBlobAsync(repository, config).GetAwaiter().GetResult();
            var manifest = System.Text.Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OciManifest + "\",\"config\":{\"mediaType\":\"" +
                MediaTypes.OciConfig + $"\",\"size\":{config.Length},\"digest\":\"{configDigest}\"}},\"layers\":[]}}");
            var digest = client.PutManifestAsync(repository, "sha256:" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(manifest)).ToLowerInvariant(),
                manifest, MediaTypes.OciManifest).GetAwaiter().GetResult();
            return new ManifestDescriptor(MediaTypes.OciManifest, digest, manifest.Length, new ImagePlatform("linux", architecture, variant));
        }

        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void When_one_image_fails_no_tag_moves()
        {
            var ns = $"atm{Guid.NewGuid():N}".Substring(0, 11);
            using var tree = Tree(ns);
            Publish(BuildAll(tree.Root));
            var latestBefore = DigestOf($"{ns}/alpha", "latest");
            tree.Write("alpha/image.yaml", "version: '1.1'\ntags: [stable]\n").Image("alpha", "FROM busybox:1.36\nRUN echo alpha-3 > /id\n");
            tree.Image("beta", "FROM busybox:1.36\nRUN echo beta-changed > /id\n");
            var images = BuildAll(tree.Root);

            var results = Publish(images);

            Assert.Equal(PublishStatus.Failed, results["beta"].Status);
            Assert.Equal("VersionTagExists", results["beta"].ErrorId);
            // Atomic: alpha is uploaded by digest, but none of its tags moves, not even its new version tag.
            Assert.Equal(PublishStatus.HeldBack, results["alpha"].Status);
            Assert.Equal(new[] { "beta" }, results["alpha"].HeldBackBy);
            Assert.Null(DigestOf($"{ns}/alpha", "1.1"));
            Assert.Equal(latestBefore, DigestOf($"{ns}/alpha", "latest"));
            Assert.Equal(latestBefore, DigestOf($"{ns}/alpha", "stable"));
            Assert.Contains("beta", results["alpha"].Error);
        }
    }
}

namespace ImageTools.Tests.Integration
{
    /// <summary>-Credential pushes go through a throw-away Docker config; the secret never shows.</summary>
    [Collection(DockerCollection.Name)]
    public class TemporaryDockerConfigTests
    {
        [Trait(TestCategory.Name, TestCategory.Integration)]
        [DockerFact]
        public void A_login_in_a_temporary_config_lets_docker_push_to_a_registry_with_Basic_auth()
        {
            using var registry = new ImageTools.Tests.Registry.RegistryServer(ImageTools.Tests.Registry.RegistryMode.Basic);
            var reference = $"{registry.Address}/auth/busybox:{Guid.NewGuid():N}";
            DockerServices.Docker("tag", "busybox:1.36", reference);
            var engineEnvironment = new Dictionary<string, string?> { ["DOCKER_HOST"] = DockerServices.DockerHost };

            var anonymous = DockerServices.Run("docker", new[] { "push", reference }, null, check: false);
            Assert.NotEqual(0, anonymous.ExitCode);

            string directory;
            using (var login = ImageTools.Docker.Cli.TemporaryDockerConfig.LoginAsync(registry.Address, ImageTools.Tests.Registry.RegistryServer.User,
                       ImageTools.Tests.Registry.RegistryServer.Password, engineEnvironment).GetAwaiter().GetResult())
            {
                directory = login.Directory;
                var engine = new ImageTools.Docker.Cli.DockerCliEngine(environment: new Dictionary<string, string?>(engineEnvironment) { ["DOCKER_CONFIG"] = login.Directory });
                engine.PushAsync(reference, CancellationToken.None).GetAwaiter().GetResult();
            }

            Assert.False(System.IO.Directory.Exists(directory));
            var error = Assert.Throws<ImageToolsException>(() => ImageTools.Docker.Cli.TemporaryDockerConfig.LoginAsync(registry.Address,
                ImageTools.Tests.Registry.RegistryServer.User, "wrong-" + ImageTools.Tests.Registry.RegistryServer.Password, engineEnvironment).GetAwaiter().GetResult());
            Assert.Equal("RegistryAuthenticationFailed", error.ErrorId);
            Assert.DoesNotContain(ImageTools.Tests.Registry.RegistryServer.Password, error.Message);
            DockerServices.Docker("rmi", reference);
        }
    }
}
