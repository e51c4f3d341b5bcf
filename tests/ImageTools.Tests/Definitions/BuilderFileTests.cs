using System.Linq;
using ImageTools.Definitions;
using ImageTools.Graph;
using Xunit;

namespace ImageTools.Tests.Definitions
{
    /// <summary>The 2014 YAML builder's builder.yaml as a tree description (Get-ImageGraph -Path ./builder.yaml).</summary>
    public class BuilderFileTests
    {
        private const string Example =
            "builder:\n" +
            "  images:\n" +
            "    - name: base:1.0\n" +
            "      from: busybox:1.36\n" +
            "    - name: app\n" +
            "      from: base:1.0\n" +
            "      path: src/app\n" +
            "      tags: [stable]\n" +
            "      build_args: {MODE: fast}\n" +
            "      target: run\n";

        [Fact]
        public void Items_give_name_tag_from_path_and_the_optional_settings_with_their_lines()
        {
            var entries = BuilderFile.Parse(Example, "/t/builder.yaml");

            Assert.Equal(2, entries.Count);
            Assert.Equal((3, "base", "1.0", "busybox:1.36", 4, "base"), (entries[0].Line, entries[0].Name, entries[0].Tag, entries[0].From, entries[0].FromLine, entries[0].Directory));
            Assert.Equal(("app", (string?)null, "src/app", "run"), (entries[1].Name, entries[1].Tag, entries[1].Directory, entries[1].Target));
            Assert.Equal(new[] { "stable" }, entries[1].Tags);
            Assert.Equal("fast", entries[1].BuildArgs["MODE"]);
        }

        [Theory]
        [InlineData("images: []\n", 1, "InvalidSetting", "Unknown key 'images'")]
        [InlineData("# nothing\n", 1, "BuilderFileInvalid", "no top-level 'builder:'")]
        [InlineData("builder:\n  images: []\n", 2, "BuilderFileInvalid", "must be a list of images")]
        [InlineData("builder:\n  images:\n    - from: busybox:1.36\n", 3, "BuilderFileInvalid", "has no 'name'")]
        [InlineData("builder:\n  images:\n    - name: a\n      from: x\n    - name: b\n", 5, "BuilderFileInvalid", "'b' has no 'from'")]
        [InlineData("builder:\n  images:\n    - name: a\n      from: x\n      form: y\n", 5, "InvalidSetting", "Unknown key 'form'")]
        [InlineData("builder:\n  images:\n    - name: a\n      from: x\n    - name: a:2\n      from: x\n", 5, "BuilderFileInvalid", "listed twice (first at line 3)")]
        [InlineData("builder:\n  images:\n    - just-a-name\n", 3, "BuilderFileInvalid", "must be a mapping")]
        public void An_entry_it_cannot_read_is_an_error_naming_file_and_line(string text, int line, string errorId, string expected)
        {
            var error = Assert.Throws<ImageToolsException>(() => BuilderFile.Parse(text, "/t/builder.yaml"));

            Assert.Equal(errorId, error.ErrorId);
            Assert.Equal(("/t/builder.yaml", (int?)line), (error.FilePath, error.Line));
            Assert.Contains(expected, error.Message);
        }

        [Fact]
        public void A_builder_file_is_a_tree_its_names_tags_froms_and_settings_define()
        {
            using var tree = new TestTree()
                .Write("builder.yaml", Example)
                .Image("base", "FROM busybox:1.36\n")
                .Image("src/app", "ARG MODE\nFROM base:1.0 AS run\n");

            var graph = ImageGraph.Build(TreeScanner.Scan(tree.PathOf("builder.yaml")));

            Assert.Equal(new[] { "base", "app" }, graph.Nodes.Select(n => n.Name));
            Assert.Equal("base:1.0", graph["base"].Reference);
            Assert.Equal(new[] { "base" }, graph["app"].Dependencies);
            Assert.Equal(new[] { "stable" }, graph["app"].Definition.ExtraTags);
            Assert.Equal("fast", graph["app"].Definition.BuildArgs["MODE"]);
            Assert.Empty(graph.Tree.Warnings);
        }

        [Fact]
        public void Tab_completion_offers_the_names_a_list_file_holds()
        {
            using var tree = new TestTree()
                .Write("builder.yaml", Example)
                .Write("docker_images", "ghcr.io/team/web:1.0\tweb\n");

            Assert.Equal(new[] { "app", "base" }, TreeScanner.ListNames(tree.PathOf("builder.yaml")));
            Assert.Equal(new[] { "web" }, TreeScanner.ListNames(tree.PathOf("docker_images")));
        }

        [Fact]
        public void A_from_the_Dockerfile_does_not_build_on_is_a_warning_with_its_line()
        {
            using var tree = new TestTree()
                .Write("builder.yml", "builder:\n  images:\n    - name: a\n      from: debian:bookworm\n")
                .Image("a", "FROM busybox:1.36\n");

            var warning = Assert.Single(TreeScanner.Scan(tree.PathOf("builder.yml")).Warnings);

            Assert.Equal((tree.PathOf("builder.yml"), (int?)4), (warning.FilePath, warning.Line));
            Assert.Contains("builds on busybox:1.36", warning.Message);
        }

        [Theory]
        [InlineData("builder:\n  images:\n    - name: a\n      from: busybox:1.36\n      path: nowhere\n", 5, "does not exist")]
        [InlineData("builder:\n  images:\n    - name: a\n      from: 'Not A Ref'\n", 4, "is not an image reference")]
        public void Bad_entries_are_errors_with_the_file_and_line_of_the_setting(string text, int line, string expected)
        {
            using var tree = new TestTree().Write("builder.yaml", text).Image("a", "FROM busybox:1.36\n");

            var error = Assert.Single(Assert.Throws<ImageTreeException>(() => TreeScanner.Scan(tree.PathOf("builder.yaml"))).Errors);

            Assert.Equal(("BuilderFileInvalid", tree.PathOf("builder.yaml"), (int?)line, "a"), (error.ErrorId, error.FilePath, error.Line, error.ImageName));
            Assert.Contains(expected, error.Message);
        }

        [Fact]
        public void An_entry_can_take_its_context_from_a_git_repository()
        {
            using var repository = new GitRepository();
            var commit = repository.Write("Dockerfile", "FROM busybox:1.36\n").Commit();
            using var tree = new TestTree()
                .Write("builder.yaml", $"builder:\n  images:\n    - name: remote\n      from: busybox:1.36\n      path: .\n      context: {repository.Url}#main\n");

            var node = ImageGraph.Build(TreeScanner.Scan(tree.PathOf("builder.yaml")))["remote"];

            Assert.Equal(commit, node.ContextCommit);
        }
    }
}
