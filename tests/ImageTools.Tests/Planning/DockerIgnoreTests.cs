using ImageTools.Formats;
using Xunit;

namespace ImageTools.Tests.Planning
{
    public class DockerIgnoreTests
    {
        [Theory]
        [InlineData("*.md", "README.md", true)]
        [InlineData("*.md", "docs/README.md", false)]
        [InlineData("**/*.md", "docs/deep/README.md", true)]
        [InlineData("**/*.md", "README.md", true)]
        [InlineData("docs", "docs/a/b.txt", true)]
        [InlineData("/docs/", "docs/x", true)]
        [InlineData("./build/../docs", "docs/x", true)]
        [InlineData("node_modules/**", "node_modules/a/b", true)]
        [InlineData("a?c", "abc", true)]
        [InlineData("a?c", "a/c", false)]
        [InlineData("[a-c]*.txt", "b1.txt", true)]
        [InlineData("[!a-c]*.txt", "b1.txt", false)]
        [InlineData("[!a-c]*.txt", "d1.txt", true)]
        [InlineData("\\*literal", "*literal", true)]
        [InlineData("\\*literal", "xliteral", false)]
        [InlineData("a/**/b", "a/b", true)]
        [InlineData("a/**/b", "a/x/y/b", true)]
        [InlineData("file.txt", "other/file.txt", false)]
        public void Matches_like_docker(string pattern, string path, bool excluded) =>
            Assert.Equal(excluded, DockerIgnore.Parse(pattern, ".dockerignore").IsExcluded(path));

        [Fact]
        public void The_last_matching_pattern_wins_and_exceptions_reinclude()
        {
            var ignore = DockerIgnore.Parse("# build output\n*.log\n!keep.log\nlogs\n!logs/important.txt\n\n", ".dockerignore");

            Assert.True(ignore.IsExcluded("debug.log"));
            Assert.False(ignore.IsExcluded("keep.log"));
            Assert.True(ignore.IsExcluded("logs/other.txt"));
            Assert.False(ignore.IsExcluded("logs/important.txt"));
            Assert.False(ignore.IsExcluded("src/main.c"));
            Assert.True(ignore.HasExceptions);
        }

        [Fact]
        public void A_malformed_pattern_names_the_line()
        {
            var error = Assert.Throws<ImageToolsException>(() => DockerIgnore.Parse("ok\n# c\n[unclosed\n", "/t/.dockerignore"));

            Assert.Equal("InvalidDockerignore", error.ErrorId);
            Assert.Equal(3, error.Line);
        }
    }
}
