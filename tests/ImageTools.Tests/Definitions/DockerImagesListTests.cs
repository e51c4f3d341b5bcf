using System;
using System.Linq;
using ImageTools.Definitions;
using ImageTools.Formats;
using ImageTools.Graph;
using Xunit;

namespace ImageTools.Tests.Definitions
{
    /// <summary>docker_build's docker_images file as a tree description (Get-ImageGraph -Path ./docker_images).</summary>
    public class DockerImagesListTests
    {
        // The example of docker_build.md, with a comment, an empty line and options after the directory.
        private const string Example =
            "# Name\t\tDirectory\t[Base Image]\t[Build Options]\n" +
            "\n" +
            "--platform=linux/arm64,linux/amd64\t\t# global options\n" +
            "\n" +
            "alpine-1\talpine-1\talpine\t\t--build-arg=FLAVOUR=small\n" +
            "alpine-2:test\talpine-2\t--target final\n";

        [Fact]
        public void Lines_give_name_tag_directory_base_and_the_global_options_then_their_own()
        {
            var entries = DockerImagesList.Parse(Example, "/t/docker_images");

            Assert.Equal(2, entries.Count);
            Assert.Equal((5, "alpine-1", (string?)null, "alpine-1", "alpine"), (entries[0].Line, entries[0].Name, entries[0].Tag, entries[0].Directory, entries[0].BaseImage));
            Assert.Equal(new[] { "--platform=linux/arm64,linux/amd64", "--build-arg=FLAVOUR=small" }, entries[0].Options);
            Assert.Equal(("alpine-2", "test", (string?)null), (entries[1].Name, entries[1].Tag, entries[1].BaseImage));
            Assert.Equal(new[] { "--platform=linux/arm64,linux/amd64", "--target", "final" }, entries[1].Options);
        }

        [Theory]
        [InlineData("alpine-1\n", 1, "has no directory")]
        [InlineData("\n\na\tb\tc\td\te\n", 3, "at most four")]
        [InlineData("a\tb\t--x\tbase\n", 1, "neither the base image nor build options")]
        public void A_line_it_cannot_read_is_an_error_naming_file_and_line(string text, int line, string expected)
        {
            var error = Assert.Throws<ImageToolsException>(() => DockerImagesList.Parse(text, "/t/docker_images"));

            Assert.Equal("ImageListInvalid", error.ErrorId);
            Assert.Equal(("/t/docker_images", (int?)line), (error.FilePath, error.Line));
            Assert.Contains(expected, error.Message);
        }

        [Fact]
        public void A_docker_images_file_is_a_tree_its_names_tags_and_options_define()
        {
            using var tree = new TestTree()
                .Write("docker_images", "--platform=linux/amd64\nghcr.io/team/base:1.0\tbase\nghcr.io/team/app\tsrc/app\tghcr.io/team/base:1.0\t--build-arg=MODE=fast --target run\n")
                .Image("base", "FROM busybox:1.36\n")
                .Image("src/app", "ARG MODE\nFROM ghcr.io/team/base:1.0 AS run\n");

            var graph = ImageGraph.Build(TreeScanner.Scan(tree.PathOf("docker_images")));

            Assert.Equal(new[] { "base", "app" }, graph.Nodes.Select(n => n.Name));
            Assert.Equal("ghcr.io/team/base:1.0", graph["base"].Reference);
            Assert.Equal("ghcr.io/team/app:latest", graph["app"].Reference);
            Assert.Equal(new[] { "base" }, graph["app"].Dependencies);
            var app = graph["app"].Definition;
            Assert.Equal(("fast", "run"), (app.BuildArgs["MODE"], app.Target));
            Assert.Equal(new[] { "linux/amd64" }, app.Platforms);
        }

        [Fact]
        public void Short_names_need_one_account_and_unknown_options_and_directories_name_their_line()
        {
            using var mixed = new TestTree().Write("docker_images", "ghcr.io/a/x\tx\nghcr.io/b/y\ty\n").Image("x", "FROM busybox:1.36\n").Image("y", "FROM busybox:1.36\n");
            using var option = new TestTree().Write("docker_images", "x\tx\t--squash\n").Image("x", "FROM busybox:1.36\n");
            using var missing = new TestTree().Write("docker_images", "\nx\tnowhere\n");

            Assert.Equal("ImageListMixedRepositories", Assert.Throws<ImageToolsException>(() => TreeScanner.Scan(mixed.PathOf("docker_images"))).ErrorId);
            var unknown = Assert.IsType<ImageToolsException>(Assert.Throws<ImageTreeException>(() => TreeScanner.Scan(option.PathOf("docker_images"))).Errors.Single());
            Assert.Contains("'--squash'", unknown.Message);
            Assert.Equal(1, unknown.Line);
            var gone = Assert.Throws<ImageTreeException>(() => TreeScanner.Scan(missing.PathOf("docker_images"))).Errors.Single();
            Assert.Equal(("ImageListInvalid", (int?)2), (gone.ErrorId, gone.Line));
        }

        [Fact]
        public void An_unknown_global_option_names_the_line_it_is_written_on()
        {
            using var tree = new TestTree().Write("docker_images", "x\tx\n# global options from here on\n--squash\ny\ty\n")
                .Image("x", "FROM busybox:1.36\n").Image("y", "FROM busybox:1.36\n");

            var error = Assert.IsType<ImageToolsException>(Assert.Throws<ImageTreeException>(() => TreeScanner.Scan(tree.PathOf("docker_images"))).Errors.Single());

            Assert.Equal(("ImageListInvalid", (int?)3), (error.ErrorId, error.Line));
            Assert.Contains("'--squash' of y", error.Message);
            Assert.Contains("line 3", error.Message);
        }
    }
}
