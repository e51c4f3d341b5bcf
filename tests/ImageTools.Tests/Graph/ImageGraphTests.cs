using System.Linq;
using ImageTools.Definitions;
using ImageTools.Graph;
using Xunit;

namespace ImageTools.Tests.Graph
{
    public class ImageGraphTests
    {
        private static ImageGraph GraphOf(TestTree tree) => ImageGraph.Build(TreeScanner.Scan(tree.Root));

        /// <summary>base → (runtime, tools) → app (multi-stage on both), plus an independent leaf.</summary>
        private static TestTree Diamond() => new TestTree()
            .Image("base", "FROM busybox:1.36\n")
            .Image("runtime", "ARG PARENT=base\nFROM ${PARENT}\n")
            .Image("tools", "FROM base:latest AS t\n")
            .Image("app", "FROM tools AS build\nRUN make\nFROM runtime\nCOPY --from=build /out /out\n")
            .Image("leaf", "FROM scratch\nCOPY --from=busybox:1.36 /bin/busybox /bin/busybox\n");

        [Fact]
        public void Levels_and_build_order_follow_the_edges()
        {
            using var tree = Diamond();

            var graph = GraphOf(tree);

            Assert.Equal(new[] { "base", "leaf", "runtime", "tools", "app" }, graph.Nodes.Select(n => n.Name));
            Assert.Equal(new[] { 0, 0, 1, 1, 2 }, graph.Nodes.Select(n => n.Level));
            Assert.Equal(new[] { "runtime", "tools" }, graph["app"].Dependencies);
            Assert.Equal(new[] { "runtime", "tools" }, graph["base"].Dependents);
            Assert.Equal(new[] { "busybox:1.36" }, graph["leaf"].BaseImages);
            Assert.Equal("runtime", graph["app"].FinalBase);
            Assert.Equal("busybox:1.36", graph["base"].FinalBase);
            Assert.Null(graph["leaf"].FinalBase);
        }

        [Fact]
        public void Closures_reach_indirect_neighbours()
        {
            using var tree = Diamond();
            var graph = GraphOf(tree);

            Assert.Equal(new[] { "runtime", "tools", "app" }, graph.AllDependentsOf(graph["base"]).Select(n => n.Name));
            Assert.Equal(new[] { "base", "runtime", "tools" }, graph.AllDependenciesOf(graph["app"]).Select(n => n.Name));
            Assert.Equal(new[] { "base", "tools" }, graph.Select(n => n == "tools", includeDependencies: true).Select(n => n.Name));
            Assert.Equal(new[] { "tools", "app" }, graph.Select(n => n == "tools", includeDependents: true).Select(n => n.Name));
        }

        [Fact]
        public void References_bind_with_or_without_registry_and_namespace()
        {
            using var tree = new TestTree()
                .Write("imagetools.yaml", "registry: registry.example.org:5000\nnamespace: ops\n")
                .Image("base", "FROM busybox:1.36\n")
                .Image("a", "FROM base\n")
                .Image("b", "FROM ops/base:latest\n")
                .Image("c", "FROM registry.example.org:5000/ops/base\n")
                .Image("d", "FROM other.example.org/ops/base\n")
                .Image("e", "FROM docker.io/library/base\n");

            var graph = GraphOf(tree);

            foreach (var name in new[] { "a", "b", "c" }) Assert.Equal(new[] { "base" }, graph[name].Dependencies);
            Assert.Empty(graph["d"].Dependencies);
            Assert.Equal(new[] { "other.example.org/ops/base" }, graph["d"].BaseImages);
            Assert.Empty(graph["e"].Dependencies);
        }

        [Fact]
        public void Pinning_another_version_of_a_sibling_is_a_warning_not_an_edge()
        {
            using var tree = new TestTree()
                .Image("base", "FROM busybox\n").Write("base/changelog", TestTree.Changelog("base", "2.0"))
                .Image("old", "FROM base:1.0\n")
                .Image("current", "FROM base:2.0\n");

            var graph = GraphOf(tree);

            Assert.Empty(graph["old"].Dependencies);
            Assert.Equal(new[] { "base:1.0" }, graph["old"].BaseImages);
            Assert.Equal(new[] { "base" }, graph["current"].Dependencies);
            var warning = Assert.Single(graph.Warnings);
            Assert.Equal(tree.PathOf("old/Dockerfile"), warning.FilePath);
            Assert.Equal(1, warning.Line);
            Assert.Contains("base:2.0", warning.Message);
        }

        [Fact]
        public void A_target_limits_the_edges_to_the_stages_its_build_reads()
        {
            using var tree = new TestTree()
                .Image("base", "FROM busybox\n")
                .Image("tools", "FROM busybox\n")
                .Image("app", "FROM base AS runtime\nRUN true\nFROM tools AS test\nCOPY --from=runtime / /\n")
                .Image("app-runtime", "FROM base AS runtime\nRUN true\nFROM tools AS test\nCOPY --from=runtime / /\n")
                .Write("app-runtime/image.yaml", "target: runtime\n");

            var graph = GraphOf(tree);

            Assert.Equal(new[] { "base", "tools" }, graph["app"].Dependencies);
            Assert.Equal("tools", graph["app"].FinalBase);
            Assert.Equal(new[] { "base" }, graph["app-runtime"].Dependencies);
            Assert.Equal("base", graph["app-runtime"].FinalBase);
        }

        [Fact]
        public void An_unknown_target_names_image_yaml_and_the_stages()
        {
            using var tree = new TestTree().Image("app", "FROM busybox AS build\nFROM build AS final\n").Write("app/image.yaml", "name: app\ntarget: runtime\n");

            var error = Assert.Single(Assert.Throws<ImageTreeException>(() => GraphOf(tree)).Errors);

            Assert.Equal("UnknownTarget", error.ErrorId);
            Assert.Equal(tree.PathOf("app/image.yaml"), error.FilePath);
            Assert.Equal(2, error.Line);
            Assert.Contains("build, final", error.Message);
        }

        [Fact]
        public void Control_and_image_yaml_add_edges()
        {
            using var tree = new TestTree()
                .Image("base", "FROM busybox\n")
                .Image("helper", "FROM busybox\n")
                .Image("a", "FROM busybox\n").Write("a/control", "Package: a\nDepends: base\n")
                .Image("b", "FROM busybox\n").Write("b/image.yaml", "depends: [helper, a]\n");

            var graph = GraphOf(tree);

            Assert.Equal(new[] { "base" }, graph["a"].Dependencies);
            Assert.Equal(new[] { "a", "helper" }, graph["b"].Dependencies);
            Assert.Equal(2, graph["b"].Level);
            Assert.Contains(graph.Edges, e => e.Dependent == "a" && e.Kind == DependencyKind.Control);
            Assert.Contains(graph.Edges, e => e.Dependent == "b" && e.Kind == DependencyKind.ImageYaml);
        }

        [Fact]
        public void A_declared_dependency_on_an_unknown_image_names_the_file()
        {
            using var tree = new TestTree().Image("a", "FROM busybox\n").Write("a/control", "Package: a\nDepends: ghost\n");

            var error = Assert.Single(Assert.Throws<ImageTreeException>(() => GraphOf(tree)).Errors);

            Assert.Equal("UnknownDependency", error.ErrorId);
            Assert.Equal(tree.PathOf("a/control"), error.FilePath);
            Assert.Equal(2, error.Line);
        }

        [Fact]
        public void A_cycle_is_an_error_that_prints_the_cycle_and_where_each_edge_is()
        {
            using var tree = new TestTree()
                .Image("a", "FROM b\n")
                .Image("b", "FROM busybox\nCOPY --from=c /x /x\n")
                .Image("c", "FROM a\n")
                .Image("free", "FROM busybox\n");

            var error = Assert.Throws<ImageToolsException>(() => GraphOf(tree));

            Assert.Equal("DependencyCycle", error.ErrorId);
            Assert.Contains("a → b → c → a", error.Message);
            Assert.Contains(tree.PathOf("b/Dockerfile") + ":2", error.Message);
        }

        [Fact]
        public void An_image_building_on_itself_is_a_cycle()
        {
            using var tree = new TestTree().Image("self", "FROM self\n");

            var error = Assert.Throws<ImageToolsException>(() => GraphOf(tree));

            Assert.Contains("self → self", error.Message);
        }

        [Fact]
        public void An_invalid_reference_in_FROM_names_file_and_line()
        {
            using var tree = new TestTree().Image("a", "FROM busybox\nCOPY --from=Bad/Name:x /a /a\n");

            var error = Assert.Single(Assert.Throws<ImageTreeException>(() => GraphOf(tree)).Errors);

            Assert.Equal("InvalidImageReference", error.ErrorId);
            Assert.Equal(2, error.Line);
        }

        [Fact]
        public void Dot_and_Mermaid_show_nodes_edges_and_external_bases()
        {
            using var tree = Diamond();
            var graph = GraphOf(tree);

            var dot = GraphExport.ToDot(graph, graph.Nodes);
            var mermaid = GraphExport.ToMermaid(graph, graph.Select(n => n == "app", includeDependencies: true));

            Assert.StartsWith("digraph images {", dot);
            Assert.Contains("\"base\" -> \"runtime\";", dot);
            Assert.Contains("\"busybox:1.36\" -> \"base\";", dot);
            Assert.Contains("\"busybox:1.36\" [shape=ellipse, style=dashed];", dot);
            Assert.StartsWith("graph TD\n", mermaid);
            Assert.Contains("[\"app:latest\"]", mermaid);
            Assert.DoesNotContain("leaf", mermaid);
            Assert.Equal(5, mermaid.Split('\n').Count(l => l.Contains("-->")));
        }

        [Theory]
        [InlineData("busybox:1.36", new[] { "base", "leaf" })]
        [InlineData("docker.io/library/busybox:1.36", new[] { "base", "leaf" })]
        [InlineData("busybox", new[] { "base", "leaf", "old" })]
        [InlineData("busybox:latest", new[] { "old" })]
        [InlineData("busybox:1.35", new string[0])]
        [InlineData("debian:bookworm", new string[0])]
        public void The_users_of_an_external_base_are_found_in_Dockers_normal_form(string @base, string[] expected)
        {
            using var tree = Diamond().Image("old", "FROM docker.io/busybox\n");

            var users = GraphOf(tree).UsersOfBase(ImageTools.References.ImageReference.Parse(@base));

            Assert.Equal(expected, users.Select(n => n.Name).OrderBy(n => n));
        }
    }
}
