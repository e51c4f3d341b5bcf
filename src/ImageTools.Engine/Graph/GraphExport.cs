using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace ImageTools.Graph
{
    /// <summary>Text renderings of (part of) a graph so people can look at it.</summary>
    public enum GraphTextFormat { Dot, Mermaid }

    internal static class GraphExport
    {
        /// <summary>Renders <paramref name="nodes"/>, the edges among them, and their external bases. Edges point parent → child (build flow).</summary>
        public static string Render(ImageGraph graph, IEnumerable<ImageNode> nodes, GraphTextFormat format) =>
            format == GraphTextFormat.Dot ? ToDot(graph, nodes) : ToMermaid(graph, nodes);

        public static string ToDot(ImageGraph graph, IEnumerable<ImageNode> nodes)
        {
            var selected = graph.InBuildOrder(nodes);
            var text = new StringBuilder();
            text.Append("digraph images {\n");
            text.Append("  rankdir=TB;\n");
            text.Append("  node [shape=box, style=rounded];\n");
            foreach (var node in selected)
                text.Append($"  {DotId(node.Name)} [label={DotId($"{node.Name}\n{node.Tag}")}];\n");
            foreach (var external in Externals(selected))
                text.Append($"  {DotId(external)} [shape=ellipse, style=dashed];\n");
            foreach (var (from, to) in Edges(selected))
                text.Append($"  {DotId(from)} -> {DotId(to)};\n");
            text.Append("}\n");
            return text.ToString();
        }

        public static string ToMermaid(ImageGraph graph, IEnumerable<ImageNode> nodes)
        {
            var selected = graph.InBuildOrder(nodes);
            // Mermaid ids cannot hold ':' or '/', so every node gets a plain id and a quoted label.
            var ids = new Dictionary<string, string>(StringComparer.Ordinal);
            var text = new StringBuilder("graph TD\n");
            foreach (var node in selected)
            {
                ids[node.Name] = "i" + ids.Count;
                text.Append($"  {ids[node.Name]}[\"{MermaidLabel($"{node.Name}:{node.Tag}")}\"]\n");
            }
            foreach (var external in Externals(selected))
            {
                ids[external] = "x" + ids.Count;
                text.Append($"  {ids[external]}([\"{MermaidLabel(external)}\"])\n");
            }
            foreach (var (from, to) in Edges(selected))
                text.Append($"  {ids[from]} --> {ids[to]}\n");
            return text.ToString();
        }

        private static IEnumerable<string> Externals(IReadOnlyList<ImageNode> selected) =>
            selected.SelectMany(n => n.BaseImages).Distinct(StringComparer.Ordinal).OrderBy(b => b, StringComparer.Ordinal);

        private static IEnumerable<(string From, string To)> Edges(IReadOnlyList<ImageNode> selected)
        {
            var names = new HashSet<string>(selected.Select(n => n.Name), StringComparer.Ordinal);
            foreach (var node in selected)
            {
                foreach (var external in node.BaseImages) yield return (external, node.Name);
                foreach (var dependency in node.Dependencies.Where(names.Contains)) yield return (dependency, node.Name);
            }
        }

        private static string DotId(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n") + "\"";

        private static string MermaidLabel(string text) => text.Replace("\"", "#quot;");
    }
}
