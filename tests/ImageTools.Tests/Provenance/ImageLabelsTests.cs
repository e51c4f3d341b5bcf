using System.Collections.Generic;
using ImageTools.Provenance;
using Xunit;

namespace ImageTools.Tests.Provenance
{
    /// <summary>The labels are read back from images built by older versions: their names and formats are pinned as literals.</summary>
    public class ImageLabelsTests
    {
        private const string A = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        private const string B = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

        [Fact]
        public void Label_names_are_the_published_ones()
        {
            Assert.Equal("io.imagetools.name", ImageLabels.Name);
            Assert.Equal("io.imagetools.parents", ImageLabels.Parents);
            Assert.Equal("io.imagetools.inputs.digest", ImageLabels.InputsDigest);
            Assert.Equal("io.imagetools.inputs.scheme", ImageLabels.InputsScheme);
            Assert.Equal("org.opencontainers.image.version", ImageLabels.Version);
            Assert.Equal("org.opencontainers.image.created", ImageLabels.Created);
            Assert.Equal("org.opencontainers.image.revision", ImageLabels.Revision);
            Assert.Equal("org.opencontainers.image.source", ImageLabels.Source);
            Assert.Equal("org.opencontainers.image.base.name", ImageLabels.BaseName);
            Assert.Equal("org.opencontainers.image.base.digest", ImageLabels.BaseDigest);
        }

        [Fact]
        public void Parents_are_written_as_reference_at_digest_joined_by_commas_in_the_given_order()
        {
            var parents = new[]
            {
                new KeyValuePair<string, string>("registry.example.org/base:1.0", A),
                new KeyValuePair<string, string>("busybox:1.36", B),
            };

            Assert.Equal($"registry.example.org/base:1.0@{A},busybox:1.36@{B}", ImageLabels.FormatParents(parents));
            Assert.Equal("", ImageLabels.FormatParents(new KeyValuePair<string, string>[0]));
        }

        [Fact]
        public void Parents_read_back_take_the_digest_after_the_last_at_sign()
        {
            var parsed = ImageLabels.ParseParents($"busybox@{A}@{B},tools:2@{A}");

            Assert.Equal(2, parsed.Count);
            Assert.Equal(B, parsed[$"busybox@{A}"]);
            Assert.Equal(A, parsed["tools:2"]);
        }

        [Theory]
        [InlineData(null)]
        [InlineData("")]
        [InlineData("no-digest")]
        [InlineData("@sha256:abc")]
        [InlineData("trailing@")]
        [InlineData(",,")]
        public void Malformed_parent_entries_are_skipped(string? text) => Assert.Empty(ImageLabels.ParseParents(text));

        [Fact]
        public void A_malformed_entry_does_not_lose_the_good_ones()
        {
            var parsed = ImageLabels.ParseParents($"broken,base:1@{A}");

            Assert.Equal(new Dictionary<string, string> { ["base:1"] = A }, parsed);
        }
    }
}
