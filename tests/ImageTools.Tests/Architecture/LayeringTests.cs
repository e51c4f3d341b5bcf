using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace ImageTools.Tests.Architecture
{
    /// <summary>
    /// The engine's layers (docs/ARCHITECTURE.md), lowest first. A namespace may use only namespaces of
    /// lower layers: never a higher one, never a sibling of its own layer (except the edges listed), so
    /// there is no cycle. A new namespace must be given a layer here.
    /// </summary>
    public class LayeringTests
    {
        private static readonly string[][] Layers =
        {
            // Foundations: the error model and atomic file writes; then JSON and child processes.
            new[] { "ImageTools" },
            new[] { "ImageTools.Json", "ImageTools.Processes" },
            // References and the model: image references, digests, platforms, the label scheme.
            new[] { "ImageTools.References", "ImageTools.Provenance" },
            // File formats.
            new[] { "ImageTools.Formats", "ImageTools.Formats.Changelogs", "ImageTools.Formats.Control", "ImageTools.Formats.Dockerfiles",
                    "ImageTools.Formats.Templates" },
            // The tree: image definitions and the scanner that reads them.
            new[] { "ImageTools.Definitions" },
            new[] { "ImageTools.Graph" },
            // Adapters to the world outside: the registry client, what a container engine offers, and Docker's.
            new[] { "ImageTools.Registry", "ImageTools.Engines" },
            new[] { "ImageTools.Docker.Cli" },
            new[] { "ImageTools.Docker" },
            // What the cmdlets ask for.
            new[] { "ImageTools.Planning", "ImageTools.Changelogs", "ImageTools.Pruning" },
            new[] { "ImageTools.Building" },
            // A publish run takes a build's results and verifies up-to-date images as a build does.
            new[] { "ImageTools.Publishing" },
            // Copy-Image: registry to registry, no engine; above Publishing because its tags move in Publish-Image's
            // order (Publishing.TagMoveOrder), which it reuses rather than repeats.
            new[] { "ImageTools.Promotion" },
        };

        /// <summary>Sibling edges that are part of the design, with the reason.</summary>
        private static readonly HashSet<(string From, string To)> AllowedSiblingEdges = new HashSet<(string, string)>
        {
            // A control file's version constraints compare versions as the changelog orders them.
            ("ImageTools.Formats.Control", "ImageTools.Formats.Changelogs"),
        };

        private static int LayerOf(string ns)
        {
            for (var layer = 0; layer < Layers.Length; layer++)
                if (Layers[layer].Contains(ns)) return layer;
            return -1;
        }

        public static IEnumerable<object[]> Edges() =>
            NamespaceDependencies.Of(typeof(ImageTools.Graph.ImageGraph).Assembly, "ImageTools")
                .OrderBy(edge => edge.Key.From).ThenBy(edge => edge.Key.To)
                .Select(edge => new object[] { edge.Key.From, edge.Key.To, edge.Value });

        [Fact]
        public void The_analysis_sees_the_edges_that_are_there() =>
            // A reader that saw no edge would pass every rule below.
            Assert.Contains(Edges(), edge => (string)edge[0] == "ImageTools.Graph" && (string)edge[1] == "ImageTools.Definitions");

        [Fact]
        public void Every_engine_namespace_has_a_layer()
        {
            var namespaces = typeof(ImageTools.Graph.ImageGraph).Assembly.GetTypes()
                .Where(type => !type.IsNested && type.Namespace != null && type.Namespace.StartsWith("ImageTools"))
                .Select(type => type.Namespace!).Distinct().OrderBy(ns => ns);
            Assert.DoesNotContain(namespaces, ns => LayerOf(ns) < 0);
        }

        [Theory]
        [MemberData(nameof(Edges))]
        public void A_namespace_uses_only_lower_layers(string from, string to, string example)
        {
            var allowed = LayerOf(to) < LayerOf(from) || AllowedSiblingEdges.Contains((from, to));
            Assert.True(allowed, $"{from} (layer {LayerOf(from)}) must not use {to} (layer {LayerOf(to)}): {example}");
        }
    }
}
