using System.IO;
using System.Linq;
using ImageTools.Definitions;
using Xunit;

namespace ImageTools.Tests.Definitions
{
    public class TreeScannerTests
    {
        [Fact]
        public void Finds_Dockerfile_template_and_image_yaml_directories_and_skips_hidden_ones()
        {
            using var tree = new TestTree()
                .Image("a", "FROM busybox:1.36\n")
                .Write("nested/deeper/b/Dockerfile.template", "FROM busybox:1.36\n")
                .Write("c/image.yaml", "dockerfile: ../shared/Dockerfile.c\n")
                .Write("shared/Dockerfile.c", "FROM busybox:1.36\n")
                .Image(".git/hooks-image", "FROM busybox:1.36\n")
                .Write("docs/readme.md", "not an image");

            var scanned = TreeScanner.Scan(tree.Root);

            Assert.Equal(new[] { "a", "b", "c" }, scanned.Images.Select(i => i.Name));
            Assert.True(scanned.Find("b")!.IsTemplate);
            Assert.Equal(tree.PathOf("shared/Dockerfile.c"), scanned.Find("c")!.DockerfilePath);
        }

        [Fact]
        public void Name_comes_from_image_yaml_then_changelog_then_directory()
        {
            using var tree = new TestTree()
                .Image("dir-a", "FROM busybox\n").Write("dir-a/image.yaml", "name: from-yaml\nversion: '2.0'\n")
                    .Write("dir-a/changelog", TestTree.Changelog("from-changelog", "1.0.0"))
                .Image("dir-b", "FROM busybox\n").Write("dir-b/changelog", TestTree.Changelog("from-changelog", "0.3.1-1"))
                .Image("dir-c", "FROM busybox\n");

            var images = TreeScanner.Scan(tree.Root).Images.ToDictionary(i => Path.GetFileName(i.Directory));

            Assert.Equal(("from-yaml", NameSource.ImageYaml), (images["dir-a"].Name, images["dir-a"].NameSource));
            Assert.Equal(("1.0.0", VersionSource.Changelog), (images["dir-a"].Version, images["dir-a"].VersionSource));
            Assert.Equal(("from-changelog", "0.3.1-1"), (images["dir-b"].Name, images["dir-b"].Version));
            Assert.Equal(("dir-c", (string?)null, "latest"), (images["dir-c"].Name, images["dir-c"].Version, images["dir-c"].Tag));
        }

        [Fact]
        public void Renders_templates_with_sibling_tags_and_config_variables()
        {
            using var tree = new TestTree()
                .Write("imagetools.yaml", "registry: registry.example.org\nnamespace: ops\nseed_image: busybox:1.36\n")
                .Write("base/Dockerfile.template", "FROM {{ seed_image }}\n")
                .Write("base/changelog", TestTree.Changelog("base", "1.2.0"))
                .Write("app/Dockerfile.template", "FROM {{ \"base\" | image_tag }}\nLABEL r={{ registry }}\n");

            var scanned = TreeScanner.Scan(tree.Root);

            Assert.StartsWith("FROM registry.example.org/ops/base:1.2.0\n", scanned.Find("app")!.DockerfileText);
            Assert.Equal("busybox:1.36", scanned.Find("base")!.Dockerfile.ImageUses.Single().Reference);
            Assert.Equal("registry.example.org/ops/app:latest", scanned.ReferenceOf(scanned.Find("app")!).ToString());
        }

        [Fact]
        public void Config_and_image_build_args_expand_FROM()
        {
            using var tree = new TestTree()
                .Write("imagetools.yaml", "build_args:\n  BASE: busybox\n  TAG: '1.0'\n")
                .Image("a", "ARG BASE=alpine\nARG TAG\nFROM ${BASE}:${TAG}\n")
                .Write("a/image.yaml", "build_args: {TAG: '1.36'}\n");

            var image = TreeScanner.Scan(tree.Root).Find("a")!;

            Assert.Equal("busybox:1.36", image.Dockerfile.FinalBase!.Reference);
            Assert.Equal("1.36", image.BuildArgs["TAG"]);
        }

        [Fact]
        public void Two_directories_claiming_one_name_is_an_error_naming_both()
        {
            using var tree = new TestTree()
                .Image("one", "FROM busybox\n").Write("one/image.yaml", "name: same\n")
                .Image("two", "FROM busybox\n").Write("two/image.yaml", "name: same\n");

            var error = Assert.Throws<ImageTreeException>(() => TreeScanner.Scan(tree.Root));

            var duplicate = Assert.Single(error.Errors);
            Assert.Equal("DuplicateImageName", duplicate.ErrorId);
            Assert.Contains(tree.PathOf("one"), duplicate.Message);
            Assert.Contains(tree.PathOf("two"), duplicate.Message);
        }

        [Fact]
        public void Image_yaml_pointing_at_a_missing_Dockerfile_names_the_line()
        {
            using var tree = new TestTree().Write("a/image.yaml", "name: a\ndockerfile: build/Dockerfile\n");

            var error = Assert.Single(Assert.Throws<ImageTreeException>(() => TreeScanner.Scan(tree.Root)).Errors);

            Assert.Equal("DockerfileNotFound", error.ErrorId);
            Assert.Equal(tree.PathOf("a/image.yaml"), error.FilePath);
            Assert.Equal(2, error.Line);
            Assert.Contains("build/Dockerfile", error.Message);
        }

        [Theory]
        [InlineData("name: Upper\n", "image.yaml")]
        [InlineData("name: 'bad name'\n", "image.yaml")]
        [InlineData("name: registry.example.org/app\n", "image.yaml")]
        public void Invalid_image_names_are_rejected_with_the_file(string yaml, string file)
        {
            using var tree = new TestTree().Image("a", "FROM busybox\n").Write("a/image.yaml", yaml);

            var error = Assert.Single(Assert.Throws<ImageTreeException>(() => TreeScanner.Scan(tree.Root)).Errors);

            Assert.Equal("InvalidImageName", error.ErrorId);
            Assert.EndsWith(file, error.FilePath);
            Assert.Equal(1, error.Line);
        }

        [Fact]
        public void An_invalid_directory_name_says_to_set_a_name()
        {
            using var tree = new TestTree().Image("MyImage", "FROM busybox\n");

            var error = Assert.Single(Assert.Throws<ImageTreeException>(() => TreeScanner.Scan(tree.Root)).Errors);

            Assert.Equal("InvalidImageName", error.ErrorId);
            Assert.Contains("image.yaml", error.Message);
        }

        [Fact]
        public void A_version_that_is_no_valid_tag_is_rejected()
        {
            using var tree = new TestTree().Image("a", "FROM busybox\n").Write("a/image.yaml", "version: '1.0+build 2'\n");

            var error = Assert.Single(Assert.Throws<ImageTreeException>(() => TreeScanner.Scan(tree.Root)).Errors);

            Assert.Equal("InvalidTag", error.ErrorId);
        }

        [Fact]
        public void Every_broken_image_is_reported_in_one_run()
        {
            using var tree = new TestTree()
                .Image("a", "FROM busybox\n").Write("a/image.yaml", "name: [oops\n")
                .Image("b", "FROM busybox\n").Write("b/changelog", "this is not a changelog\n")
                .Write("c/Dockerfile.template", "FROM {{ \"base\" | no_such_filter }}\n")
                .Image("d", "FROM busybox\n");

            var error = Assert.Throws<ImageTreeException>(() => TreeScanner.Scan(tree.Root));

            // a and b fail while reading; c only when rendering, which needs every name first.
            Assert.Equal(2, error.Errors.Count);
            Assert.Equal(new[] { tree.PathOf("a/image.yaml"), tree.PathOf("b/changelog") }, error.Errors.Select(e => e.FilePath));
            Assert.Contains("2 problems", error.Message);
        }

        [Fact]
        public void An_unknown_template_filter_names_file_and_line()
        {
            using var tree = new TestTree().Write("c/Dockerfile.template", "# comment\nFROM {{ \"base\" | no_such_filter }}\n");

            var error = Assert.Single(Assert.Throws<ImageTreeException>(() => TreeScanner.Scan(tree.Root)).Errors);

            Assert.Equal("TemplateUnknownFilter", error.ErrorId);
            Assert.Equal(tree.PathOf("c/Dockerfile.template"), error.FilePath);
            Assert.Equal(2, error.Line);
        }

        [Fact]
        public void A_missing_root_is_a_clear_error()
        {
            var error = Assert.Throws<ImageToolsException>(() => TreeScanner.Scan(Path.Combine(Path.GetTempPath(), "no-such-tree-4711")));

            Assert.Equal("TreeNotFound", error.ErrorId);
        }

        [Fact]
        public void A_root_that_is_a_file_says_so_instead_of_that_it_does_not_exist()
        {
            using var tree = new TestTree().Image("a", "FROM busybox\n");

            var error = Assert.Throws<ImageToolsException>(() => TreeScanner.Scan(tree.PathOf("a/Dockerfile")));

            Assert.Equal("TreeNotFound", error.ErrorId);
            Assert.Equal(tree.PathOf("a/Dockerfile"), error.FilePath);
            Assert.Contains("is a file, not an image tree directory", error.Message);
            Assert.DoesNotContain("does not exist", error.Message);
        }

        [Fact]
        public void ListNames_offers_names_even_when_an_image_is_broken()
        {
            using var tree = new TestTree()
                .Image("a", "FROM busybox\n").Write("a/image.yaml", "name: alpha\n")
                .Image("b", "FROM busybox\n").Write("b/image.yaml", "name: [broken\n");

            Assert.Equal(new[] { "alpha", "b" }, TreeScanner.ListNames(tree.Root));
        }

        [Fact]
        public void Image_tag_resolves_a_configured_base_image_by_its_full_name_as_docker_pkg_does()
        {
            using var tree = new TestTree()
                .Write("config.yaml", "registry: registry.example.org\nnamespace: ops\n" +
                                      "base_images:\n  - registry.example.org/ops/bullseye:20261101\n  - registry.example.org/other/bookworm:1\n")
                .Write("app/Dockerfile.template", "FROM {{ \"bullseye\" | image_tag }}\n")
                .Write("odd/Dockerfile.template", "FROM {{ \"bookworm\" | image_tag }}\n");

            var error = Assert.Throws<ImageTreeException>(() => TreeScanner.Scan(tree.Root));
            tree.Write("odd/Dockerfile.template", "FROM busybox:1.36\n");
            var scanned = TreeScanner.Scan(tree.Root);

            Assert.Equal("registry.example.org/ops/bullseye:20261101", scanned.Find("app")!.Dockerfile.ImageUses.Single().Reference);
            // Another namespace is another full name: docker-pkg does not find it either.
            Assert.Contains("no image named 'bookworm'", error.Message);
        }
    }
}
