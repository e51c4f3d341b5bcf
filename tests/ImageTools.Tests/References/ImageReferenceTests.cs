using ImageTools.References;
using Xunit;

namespace ImageTools.Tests.References
{
    public class ImageReferenceTests
    {
        [Theory]
        [InlineData("busybox", null, "busybox", null, null)]
        [InlineData("busybox:1.36", null, "busybox", "1.36", null)]
        [InlineData("team/app:v1", null, "team/app", "v1", null)]
        [InlineData("localhost/app", "localhost", "app", null, null)]
        [InlineData("localhost:5000/team/app:1.0", "localhost:5000", "team/app", "1.0", null)]
        [InlineData("registry.example.org/a/b/c:x_y.z-1", "registry.example.org", "a/b/c", "x_y.z-1", null)]
        [InlineData("127.0.0.1:5000/app", "127.0.0.1:5000", "app", null, null)]
        [InlineData("[::1]:5000/app:1", "[::1]:5000", "app", "1", null)]
        [InlineData("a__b/c-d.e_f---g", null, "a__b/c-d.e_f---g", null, null)]
        [InlineData("app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", null, "app", null,
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
        [InlineData("r.io/app:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "r.io", "app", "1",
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
        public void Parses_valid_references(string text, string? registry, string repository, string? tag, string? digest)
        {
            var reference = ImageReference.Parse(text);

            Assert.Equal((registry, repository, tag, digest), (reference.Registry, reference.Repository, reference.Tag, reference.Digest));
            Assert.Equal(text, reference.ToString());
        }

        [Theory]
        [InlineData("", "empty")]
        [InlineData("Busybox", "lower case")]
        [InlineData("team//app", "empty path component")]
        [InlineData("app:", "tag")]
        [InlineData("app:.hidden", "tag")]
        [InlineData("-app", "path component")]
        [InlineData("app-", "path component")]
        [InlineData("a...b", "path component")]
        [InlineData("app@sha256:abc", "digest")]
        [InlineData("app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", "length")]
        [InlineData("bad host!/app", "path component")]
        [InlineData("has space", "path component")]
        public void Rejects_invalid_references_saying_what_is_wrong(string text, string expected)
        {
            Assert.False(ImageReference.TryParse(text, out _, out var error));
            Assert.Contains(expected, error);

            var exception = Assert.Throws<ImageToolsException>(() => ImageReference.Parse(text));
            Assert.Equal("InvalidImageReference", exception.ErrorId);
            Assert.Contains($"'{text}'", exception.Message);
        }

        [Fact]
        public void A_tag_may_have_128_characters_but_not_129()
        {
            Assert.True(ImageReference.TryParse("app:" + new string('a', 128), out _, out _));
            Assert.False(ImageReference.TryParse("app:" + new string('a', 129), out _, out var error));
            Assert.Contains("128", error);
        }

        [Fact]
        public void A_name_may_have_255_characters_but_not_256()
        {
            Assert.True(ImageReference.TryParse(new string('a', 255), out _, out _));
            Assert.False(ImageReference.TryParse(new string('a', 256), out _, out var error));
            Assert.Contains("255", error);
        }

        [Theory]
        [InlineData("debian:bookworm", "docker.io/library/debian:bookworm")]
        [InlineData("docker.io/library/debian:bookworm", "debian:bookworm")]
        [InlineData("index.docker.io/library/debian:bookworm", "debian:bookworm")]
        [InlineData("team/app", "docker.io/team/app")]
        [InlineData("registry.example.org:443/a", "registry.example.org/a")]
        public void Equal_after_normalisation(string a, string b) =>
            Assert.Equal(ImageReference.Parse(a), ImageReference.Parse(b));

        [Theory]
        [InlineData("debian:bookworm", "debian:latest")]
        [InlineData("registry.example.org:5000/a", "registry.example.org/a")]
        [InlineData("team/app", "library/app")]
        public void Different_references_are_not_equal(string a, string b) =>
            Assert.NotEqual(ImageReference.Parse(a), ImageReference.Parse(b));

        [Theory]
        [InlineData("debian", "docker.io", "docker.io/library/debian", "debian")]
        [InlineData("docker.io/library/debian", "docker.io", "docker.io/library/debian", "debian")]
        [InlineData("team/app", "docker.io", "docker.io/team/app", "team/app")]
        [InlineData("localhost:5000/app", "localhost:5000", "localhost:5000/app", "localhost:5000/app")]
        [InlineData("r.example.org:443/x/y", "r.example.org", "r.example.org/x/y", "r.example.org/x/y")]
        public void Normalises_like_docker(string text, string host, string normalizedName, string familiar)
        {
            var reference = ImageReference.Parse(text);

            Assert.Equal(host, reference.RegistryHost);
            Assert.Equal(normalizedName, reference.Normalize().Name);
            Assert.Equal(familiar, reference.FamiliarName);
        }

        [Fact]
        public void WithTag_and_WithDigest_validate()
        {
            var reference = ImageReference.Parse("r.io/app:1");

            Assert.Equal("r.io/app:2", reference.WithTag("2").ToString());
            Assert.Equal("InvalidTag", Assert.Throws<ImageToolsException>(() => reference.WithTag("-x")).ErrorId);
            Assert.Equal("InvalidDigest", Assert.Throws<ImageToolsException>(() => reference.WithDigest("sha256:12")).ErrorId);
        }

        [Theory]
        [InlineData("team/app")]
        [InlineData("app")]
        public void ValidateName_accepts_repository_paths(string name) => ImageReference.ValidateName(name);

        [Theory]
        [InlineData("App")]
        [InlineData("app:1")]
        [InlineData("/app")]
        public void ValidateName_rejects_bad_names(string name)
        {
            var error = Assert.Throws<ImageToolsException>(() => ImageReference.ValidateName(name, "/t/image.yaml"));

            Assert.Equal("InvalidImageName", error.ErrorId);
            Assert.Equal("/t/image.yaml", error.FilePath);
        }
    }
}
