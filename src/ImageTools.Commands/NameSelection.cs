using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ImageTools.Graph;

namespace ImageTools.Commands
{
    /// <summary>-Name handling shared by every cmdlet: wildcards, and a literal name that matches nothing is an error.</summary>
    internal static class NameSelection
    {
        public static IReadOnlyList<ImageNode> Select(ImageGraph graph, string[]? names, bool includeDependents, bool includeDependencies,
            out IReadOnlyList<string> unmatchedLiterals)
        {
            if (names == null || names.Length == 0)
            {
                unmatchedLiterals = new string[0];
                return graph.Nodes;
            }
            var patterns = names.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToArray();
            unmatchedLiterals = names
                .Where(n => !WildcardPattern.ContainsWildcardCharacters(n))
                .Where(n => !graph.Nodes.Any(node => string.Equals(node.Name, n, System.StringComparison.OrdinalIgnoreCase)))
                .ToList();
            return graph.Select(name => patterns.Any(p => p.IsMatch(name)), includeDependents, includeDependencies);
        }
    }
}
