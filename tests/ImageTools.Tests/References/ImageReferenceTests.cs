using System.Linq;
using ImageTools.References;
using Xunit;

namespace ImageTools.Tests.References
{
    public class ImageReferenceTests
    {
        private const string Sha256 = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        private static readonly string Sha512 = "sha512:" + string.Concat(Enumerable.Repeat("0123456789abcdef", 8));

        // Accept table: the cases of distribution/reference's TestReferenceParse (our own literals
        // where useful), read with Docker's registry rule (see ImageReference remarks).
        [Theory]
        [InlineData("busybox", null, "busybox", null, null)]
        [InlineData("busybox:1.36", null, "busybox", "1.36", null)]
        [InlineData("test_com", null, "test_com", null, null)]
        [InlineData("test.com:tag", null, "test.com", "tag", null)]
        [InlineData("test.com:5000", null, "test.com", "5000", null)]
        [InlineData("test.com/repo:tag", "test.com", "repo", "tag", null)]
        [InlineData("test:5000/repo", "test:5000", "repo", null, null)]
        [InlineData("test:5000/repo:tag", "test:5000", "repo", "tag", null)]
        [InlineData("lowercase:Uppercase", null, "lowercase", "Uppercase", null)]
        [InlineData("team/app:v1", null, "team/app", "v1", null)]
        [InlineData("foo/foo_bar.com:8080", null, "foo/foo_bar.com", "8080", null)]
        [InlineData("foo_bar.com:8080", null, "foo_bar.com", "8080", null)]
        [InlineData("localhost/app", "localhost", "app", null, null)]
        [InlineData("localhost:5000/team/app:1.0", "localhost:5000", "team/app", "1.0", null)]
        [InlineData("sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux", "some-long-tag", null)]
        [InlineData("b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "test.example.com/my-app", "test.example.com", null)]
        [InlineData("xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", null)]
        [InlineData("registry.example.org/a/b/c:x_y.z-1", "registry.example.org", "a/b/c", "x_y.z-1", null)]
        [InlineData("192.168.1.1", null, "192.168.1.1", null, null)]
        [InlineData("192.168.1.1:5000", null, "192.168.1.1", "5000", null)]
        [InlineData("192.168.1.1/repo", "192.168.1.1", "repo", null, null)]
        [InlineData("192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", null)]
        [InlineData("[2001:db8::1]/repo", "[2001:db8::1]", "repo", null, null)]
        [InlineData("[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag", null)]
        [InlineData("[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", null, null)]
        [InlineData("[::1]:5000/app:1", "[::1]:5000", "app", "1", null)]
        [InlineData("Uppercase/lowercase:tag", "Uppercase", "lowercase", "tag", null)]
        [InlineData("a__b/c-d.e_f---g", null, "a__b/c-d.e_f---g", null, null)]
        public void Parses_valid_references(string text, string? registry, string repository, string? tag, string? digest)
        {
            var reference = ImageReference.Parse(text);

            Assert.Equal((registry, repository, tag, digest), (reference.Registry, reference.Repository, reference.Tag, reference.Digest));
            Assert.Equal(text, reference.ToString());
        }

        [Fact]
        public void Parses_digests_with_and_without_a_tag()
        {
            var digestOnly = ImageReference.Parse("app@" + Sha256);
            var both = ImageReference.Parse("test:5000/repo:tag@" + Sha256);
            var sha512 = ImageReference.Parse("xn--7o8h.com/myimage:xn--7o8h.com@" + Sha512);
            var ipv6 = ImageReference.Parse("[2001:db8::1]:5000/repo:tag@" + Sha256);

            Assert.Equal((null, "app", null, Sha256), (digestOnly.Registry, digestOnly.Repository, digestOnly.Tag, digestOnly.Digest));
            Assert.Equal(("test:5000", "repo", "tag", Sha256), (both.Registry, both.Repository, both.Tag, both.Digest));
            Assert.Equal(Sha512, sha512.Digest);
            Assert.Equal("[2001:db8::1]:5000", ipv6.Registry);
            Assert.Equal("test:5000/repo:tag@" + Sha256, both.ToString());
            Assert.Equal("app@" + Sha256, digestOnly.ToString());
        }

        [Theory]
        [InlineData("", "empty")]
        [InlineData(":justtag", "repository name is empty")]
        [InlineData("@" + Sha256, "repository name is empty")]
        [InlineData("Uppercase:tag", "lower case")]
        [InlineData("Busybox", "lower case")]
        [InlineData("test:5000/Uppercase/lowercase:tag", "lower case")]
        [InlineData("team//app", "empty path component")]
        [InlineData("/app", "empty path component")]
        [InlineData("app/", "empty path component")]
        [InlineData("aa/asdf$$^/aa", "path component")]
        [InlineData("-app", "path component")]
        [InlineData("app-", "path component")]
        [InlineData("a...b", "path component")]
        [InlineData("a___b", "path component")]
        [InlineData("has space", "path component")]
        [InlineData("app\n", "path component")]
        [InlineData("café", "path component")]
        [InlineData("app:", "tag after ':' is empty")]
        [InlineData("app:.hidden", "must not start with '.'")]
        [InlineData("app:-x", "must not start with '.' or '-'")]
        [InlineData("app:é", "ASCII")]
        [InlineData("app:1\n", "tag")]
        [InlineData("app@", "digest after '@' is empty")]
        [InlineData("app@sha256:abc", "at least 32 hex digits")]
        [InlineData("repo@sha256:ffffffffffffffffffffffffffffffffff", "64")]
        [InlineData("app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", "64")]
        [InlineData("app@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "lower-case hex")]
        [InlineData("validname@invaliddigest:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "not supported")]
        [InlineData("app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", "algorithm:hex")]
        [InlineData("app@md5@sha256:x", "digest")]
        [InlineData("[2001:db8::1]", "without a repository")]
        [InlineData("[2001:db8::1]:5000", "without a repository")]
        [InlineData("[2001:db8::1]:tag", "without a repository")]
        [InlineData("[fe80::1%eth0]:5000/repo", "registry")]
        [InlineData("[::ffff:127.0.0.1]/repo", "registry")]
        [InlineData("bad_host.io/app", "registry")]
        [InlineData("-host.io/app", "registry")]
        [InlineData("host.io:port/app", "registry")]
        [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "image ID")]
        public void Rejects_invalid_references_saying_what_is_wrong(string text, string expected)
        {
            Assert.False(ImageReference.TryParse(text, out var reference, out var error));
            Assert.Null(reference);
            Assert.Contains(expected, error);

            var exception = Assert.Throws<ImageToolsException>(() => ImageReference.Parse(text));
            Assert.Equal("InvalidImageReference", exception.ErrorId);
            Assert.Equal(FaultKind.InvalidData, exception.Kind);
            Assert.Contains($"'{text}'", exception.Message);
            Assert.Contains(error!, exception.Message);
        }

        [Fact]
        public void Null_is_rejected_like_empty()
        {
            Assert.False(ImageReference.TryParse(null, out _, out var error));
            Assert.Contains("empty", error);
        }

        [Fact]
        public void A_tag_may_have_128_characters_but_not_129()
        {
            Assert.Equal(128, ImageReference.Parse("app:" + new string('a', 128)).Tag!.Length);
            Assert.False(ImageReference.TryParse("app:" + new string('a', 129), out _, out var error));
            Assert.Contains("129 characters", error);
            Assert.Contains("128", error);
        }

        [Fact]
        public void A_name_may_have_255_characters_but_not_256()
        {
            Assert.True(ImageReference.TryParse(new string('a', 255), out _, out _));
            Assert.True(ImageReference.TryParse(string.Concat(Enumerable.Repeat("a/", 127)) + "a:tag-puts-this-over-max", out _, out _));
            Assert.False(ImageReference.TryParse(new string('a', 256), out _, out var error));
            Assert.Contains("255", error);
            // The registry counts: 252 + "r.io/" = 257.
            Assert.False(ImageReference.TryParse("r.io/" + new string('a', 251), out _, out error));
            Assert.Contains("256 characters", error);
            Assert.False(ImageReference.TryParse(string.Concat(Enumerable.Repeat("a/", 128)) + "a:tag", out _, out _));
        }

        [Theory]
        [InlineData("debian:bookworm", "docker.io/library/debian:bookworm")]
        [InlineData("docker.io/library/debian:bookworm", "debian:bookworm")]
        [InlineData("docker.io/debian:bookworm", "debian:bookworm")]
        [InlineData("index.docker.io/library/debian:bookworm", "debian:bookworm")]
        [InlineData("registry-1.docker.io/library/debian", "debian")]
        [InlineData("team/app", "docker.io/team/app")]
        [InlineData("registry.example.org:443/a", "registry.example.org/a")]
        [InlineData("localhost:443/a", "localhost/a")]
        [InlineData("[::1]:443/a", "[::1]/a")]
        [InlineData("r.io/app@" + Sha256, "r.io:443/app@" + Sha256)]
        public void Equal_after_normalisation(string a, string b)
        {
            var left = ImageReference.Parse(a);
            var right = ImageReference.Parse(b);

            Assert.Equal(left, right);
            Assert.True(left == right);
            Assert.Equal(left.GetHashCode(), right.GetHashCode());
        }

        [Theory]
        [InlineData("debian:bookworm", "debian:latest")]
        [InlineData("debian", "debian:latest")] // no tag is invented
        [InlineData("registry.example.org:5000/a", "registry.example.org/a")]
        [InlineData("team/app", "library/app")]
        [InlineData("library/team/app", "team/app")]
        [InlineData("app:v1", "app:V1")]
        [InlineData("app:1@" + Sha256, "app:1")]
        // registry:443 is a registry; "registry/a" is Docker Hub's user "registry", so :443 stays.
        [InlineData("registry:443/a", "registry/a")]
        public void Different_references_are_not_equal(string a, string b)
        {
            Assert.NotEqual(ImageReference.Parse(a), ImageReference.Parse(b));
            Assert.True(ImageReference.Parse(a) != ImageReference.Parse(b));
        }

        [Theory]
        [InlineData("debian", "docker.io", "docker.io/library/debian", "debian")]
        [InlineData("debian:bookworm", "docker.io", "docker.io/library/debian", "debian")]
        [InlineData("docker.io/library/debian", "docker.io", "docker.io/library/debian", "debian")]
        [InlineData("index.docker.io/debian", "docker.io", "docker.io/library/debian", "debian")]
        [InlineData("team/app", "docker.io", "docker.io/team/app", "team/app")]
        [InlineData("library/team/app", "docker.io", "docker.io/library/team/app", "library/team/app")]
        [InlineData("localhost:5000/app", "localhost:5000", "localhost:5000/app", "localhost:5000/app")]
        [InlineData("localhost/app", "localhost", "localhost/app", "localhost/app")]
        [InlineData("r.example.org:443/x/y", "r.example.org", "r.example.org/x/y", "r.example.org/x/y")]
        [InlineData("registry:443/a", "registry:443", "registry:443/a", "registry:443/a")]
        [InlineData("[::1]:5000/x", "[::1]:5000", "[::1]:5000/x", "[::1]:5000/x")]
        [InlineData("quay.io/library/x", "quay.io", "quay.io/library/x", "quay.io/library/x")]
        public void Normalises_like_docker(string text, string host, string normalizedName, string familiar)
        {
            var reference = ImageReference.Parse(text);

            Assert.Equal(host, reference.RegistryHost);
            Assert.Equal(normalizedName, reference.Normalize().Name);
            Assert.Equal(familiar, reference.FamiliarName);
            // The familiar name reads back as the same repository.
            Assert.Equal(reference.Normalize().Name, ImageReference.Parse(familiar).Normalize().Name);
        }

        [Fact]
        public void Normalize_keeps_tag_and_digest_and_the_original_stays_as_written()
        {
            var reference = ImageReference.Parse("debian:bookworm@" + Sha256);

            Assert.Equal("docker.io/library/debian:bookworm@" + Sha256, reference.Normalize().ToString());
            Assert.Equal("debian:bookworm@" + Sha256, reference.ToString());
            Assert.Null(reference.Registry);
            Assert.Equal("debian", reference.Name);
            Assert.Null(ImageReference.Parse("debian").Normalize().Tag);
        }

        [Fact]
        public void WithTag_and_WithDigest_validate_and_keep_the_other_part()
        {
            var reference = ImageReference.Parse("r.io/app:1");

            Assert.Equal("r.io/app:2", reference.WithTag("2").ToString());
            Assert.Equal("r.io/app:1@" + Sha256, reference.WithDigest(Sha256).ToString());
            Assert.Equal("r.io/app:2@" + Sha256, reference.WithDigest(Sha256).WithTag("2").ToString());
            Assert.Equal("r.io/app:1", reference.ToString());

            Assert.Equal("InvalidTag", Assert.Throws<ImageToolsException>(() => reference.WithTag("-x")).ErrorId);
            Assert.Equal("InvalidTag", Assert.Throws<ImageToolsException>(() => reference.WithTag("")).ErrorId);
            var tooLong = Assert.Throws<ImageToolsException>(() => reference.WithTag(new string('t', 129)));
            Assert.Contains("128", tooLong.Message);
            Assert.Equal("InvalidDigest", Assert.Throws<ImageToolsException>(() => reference.WithDigest("sha256:12")).ErrorId);
            Assert.Equal("InvalidDigest", Assert.Throws<ImageToolsException>(() => reference.WithDigest("md5:" + new string('0', 32))).ErrorId);
        }

        [Theory]
        [InlineData("team/app")]
        [InlineData("app")]
        [InlineData("a__b/c---d/e.f")]
        public void ValidateName_accepts_repository_paths(string name) => ImageReference.ValidateName(name);

        [Theory]
        [InlineData("App", "lower case")]
        [InlineData("app:1", "path component")]
        [InlineData("/app", "empty path component")]
        [InlineData("", "empty")]
        [InlineData("r.io/app", "registry")] // the registry is not part of a tree name
        [InlineData("localhost/app", "registry")]
        [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "image ID")]
        public void ValidateName_rejects_bad_names(string name, string expected)
        {
            var error = Assert.Throws<ImageToolsException>(() => ImageReference.ValidateName(name, "/t/image.yaml"));

            Assert.Equal("InvalidImageName", error.ErrorId);
            Assert.Equal("/t/image.yaml", error.FilePath);
            Assert.Contains(expected, error.Message);
            Assert.Contains("Use lower-case letters", error.Message);
        }

        [Fact]
        public void ValidateName_limits_the_length_to_255()
        {
            ImageReference.ValidateName(new string('a', 255));
            Assert.Contains("256 characters", Assert.Throws<ImageToolsException>(() => ImageReference.ValidateName(new string('a', 256))).Message);
        }
    
        [Theory]
        [InlineData("1.0", true)]
        [InlineData("0.1.2-s1", true)]
        [InlineData("_x", true)]
        [InlineData("", false)]
        [InlineData(".1", false)]
        [InlineData("-1", false)]
        [InlineData("1.0~rc1", false)]
        [InlineData("1:2.0", false)]
        [InlineData("1.0\n", false)] // a trailing newline must not pass as '$' would let it
        public void IsValidTag_is_the_grammar_of_a_tag(string tag, bool valid) => Assert.Equal(valid, ImageReference.IsValidTag(tag));

        [Fact]
        public void IsValidTag_limits_the_length_to_128()
        {
            Assert.True(ImageReference.IsValidTag(new string('a', 128)));
            Assert.False(ImageReference.IsValidTag(new string('a', 129)));
        }

        [Theory]
        [InlineData("team/app", true)]
        [InlineData("app", true)]
        [InlineData("Team/app", false)]
        [InlineData("team//app", false)]
        [InlineData("team/app\n", false)]
        [InlineData(null, false)]
        public void IsValidRepository_is_the_grammar_of_a_path(string? path, bool valid) => Assert.Equal(valid, ImageReference.IsValidRepository(path));

        [Theory]
        [InlineData("registry.example.org", true)]
        [InlineData("localhost:5000", true)]
        [InlineData("127.0.0.1:5000", true)]
        [InlineData("[::1]:5000", true)]
        [InlineData("localhost", true)]
        [InlineData("myregistry", false)] // read as a Docker Hub namespace, not a registry
        [InlineData("registry.example.org/ns", false)]
        [InlineData("https://registry.example.org", false)]
        public void IsValidRegistry_is_a_host_a_reference_reads_as_its_registry(string host, bool valid) =>
            Assert.Equal(valid, ImageReference.IsValidRegistry(host));

        [Theory]
        [InlineData(null, "app", null, "app")]
        [InlineData("127.0.0.1:5000", "ops/app", "1.0", "127.0.0.1:5000/ops/app:1.0")]
        [InlineData("[::1]:5000", "app", "latest", "[::1]:5000/app:latest")]
        public void FromParts_makes_the_reference_Parse_reads_back(string? registry, string repository, string? tag, string text)
        {
            var made = ImageReference.FromParts(registry, repository, tag);

            Assert.Equal(text, made.ToString());
            Assert.Equal(ImageReference.Parse(text), made);
            Assert.Equal(registry, made.Registry);
        }

        [Theory]
        [InlineData("registry", "app", "1.0", "registry 'registry'")]
        [InlineData(null, "Ops/app", null, "must be lower case")]
        [InlineData(null, "app", "-1", "must not start with")]
        public void FromParts_refuses_parts_the_grammar_refuses(string? registry, string repository, string? tag, string expected)
        {
            var error = Assert.Throws<ImageToolsException>(() => ImageReference.FromParts(registry, repository, tag));

            Assert.Equal("InvalidImageReference", error.ErrorId);
            Assert.Contains(expected, error.Message);
        }

        [Fact]
        public void ByDigest_drops_the_tag_so_nothing_can_move_the_reference()
        {
            const string digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

            var pinned = ImageReference.Parse("127.0.0.1:5000/ops/runtime:1.0").ByDigest(digest);

            Assert.Equal("127.0.0.1:5000/ops/runtime@" + digest, pinned.ToString());
            Assert.Throws<ImageToolsException>(() => ImageReference.Parse("runtime").ByDigest("sha256:12"));
        }
    }
}
