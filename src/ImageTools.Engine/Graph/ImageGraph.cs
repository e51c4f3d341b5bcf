using System;
using System.Collections.Generic;
using System.Linq;
using ImageTools.Definitions;
using ImageTools.References;

namespace ImageTools.Graph
{
    /// <summary>
    /// The dependency graph of a tree. Edges are inferred from Dockerfiles (FROM, COPY --from,
    /// RUN --mount from=) and declared in control and image.yaml; nothing is hand-wired.
    /// </summary>
    internal sealed class ImageGraph
    {
        private readonly Dictionary<string, ImageNode> _byName;
        private readonly Dictionary<string, List<ImageNode>> _dependencies;
        private readonly Dictionary<string, List<ImageNode>> _dependents;
        private readonly Dictionary<ImageNode, int> _buildOrderIndex;

        private ImageGraph(ImageTree tree, List<ImageNode> ordered, List<DependencyEdge> edges, List<TreeWarning> warnings)
        {
            Tree = tree;
            Nodes = ordered;
            Edges = edges;
            Warnings = warnings;
            _byName = ordered.ToDictionary(n => n.Name, StringComparer.Ordinal);
            _buildOrderIndex = ordered.Select((node, index) => (node, index)).ToDictionary(p => p.node, p => p.index);
            _dependencies = ordered.ToDictionary(n => n.Name, _ => new List<ImageNode>(), StringComparer.Ordinal);
            _dependents = ordered.ToDictionary(n => n.Name, _ => new List<ImageNode>(), StringComparer.Ordinal);
            foreach (var edge in edges.Select(e => (e.Dependent, e.Dependency)).Distinct())
            {
                _dependencies[edge.Dependent].Add(_byName[edge.Dependency]);
                _dependents[edge.Dependency].Add(_byName[edge.Dependent]);
            }
        }

        public ImageTree Tree { get; }
        /// <summary>Every node in build order: by level, then by name.</summary>
        public IReadOnlyList<ImageNode> Nodes { get; }
        public IReadOnlyList<DependencyEdge> Edges { get; }
        /// <summary>Scan warnings and binding warnings (e.g. a FROM pinning another version of a sibling).</summary>
        public IReadOnlyList<TreeWarning> Warnings { get; }

        public ImageNode? Find(string name) => _byName.TryGetValue(name, out var node) ? node : null;

        public ImageNode this[string name] => Find(name) ??
            throw new ImageToolsException("ImageNotFound", FaultKind.ObjectNotFound,
                $"There is no image named '{name}' in the tree at {Tree.Root}. Run Get-ImageGraph to list the names.", imageName: name);

        public IReadOnlyList<ImageNode> DependenciesOf(ImageNode node) => _dependencies[node.Name];
        public IReadOnlyList<ImageNode> DependentsOf(ImageNode node) => _dependents[node.Name];

        /// <summary>Every image <paramref name="node"/> needs, directly or not, in build order.</summary>
        public IReadOnlyList<ImageNode> AllDependenciesOf(ImageNode node) => InBuildOrder(Closure(new[] { node }, _dependencies));

        /// <summary>Every image that needs <paramref name="node"/>, directly or not, in build order.</summary>
        public IReadOnlyList<ImageNode> AllDependentsOf(ImageNode node) => InBuildOrder(Closure(new[] { node }, _dependents));

        /// <summary>The nodes whose names match, optionally with their dependents and dependencies, in build order.</summary>
        public IReadOnlyList<ImageNode> Select(Func<string, bool> nameMatches, bool includeDependents = false, bool includeDependencies = false)
        {
            var matched = Nodes.Where(n => nameMatches(n.Name)).ToList();
            var selected = new HashSet<ImageNode>(matched);
            if (includeDependents) selected.UnionWith(Closure(matched, _dependents));
            if (includeDependencies) selected.UnionWith(Closure(matched, _dependencies));
            return InBuildOrder(selected);
        }

        /// <summary>
        /// The images that build directly on the external base <paramref name="base"/> (docker_build's forcing by
        /// base): the same repository in Docker's normal form and, when <paramref name="base"/> names a tag or a
        /// digest, the same one (a base written without a tag is <c>latest</c>). Its users' dependents follow as ParentRebuilt.
        /// </summary>
        public IReadOnlyList<ImageNode> UsersOfBase(ImageReference @base)
        {
            var wanted = @base.Normalize();
            bool Matches(ImageReference used)
            {
                var have = used.Normalize();
                if (have.Name != wanted.Name) return false;
                if (wanted.Digest != null) return have.Digest == wanted.Digest;
                return wanted.Tag == null || (have.Tag ?? "latest") == wanted.Tag;
            }
            return Nodes.Where(node => node.BaseReferences.Any(Matches)).ToList();
        }

        /// <summary>
        /// The distinct <paramref name="nodes"/> of this graph in build order. Sorts only the nodes given (by their
        /// place in <see cref="Nodes"/>), so a caller asking once per image does not walk the whole tree each time.
        /// </summary>
        public IReadOnlyList<ImageNode> InBuildOrder(IEnumerable<ImageNode> nodes) =>
            nodes.Where(_buildOrderIndex.ContainsKey).Distinct().OrderBy(node => _buildOrderIndex[node]).ToList();

        public static ImageGraph Build(ImageTree tree)
        {
            var nodes = tree.Images.ToDictionary(i => i.Name, i => new ImageNode(i, tree.ReferenceOf(i)), StringComparer.Ordinal);
            var warnings = new List<TreeWarning>(tree.Warnings);
            var binder = new ReferenceBinder(tree);
            var edges = new List<DependencyEdge>();
            var errors = new List<ImageToolsException>();

            foreach (var image in tree.Images)
            {
                var node = nodes[image.Name];
                var ownEdgesStart = edges.Count;
                var bases = new List<ImageReference>();
                foreach (var use in image.ImageUses)
                {
                    var kind = use.Instruction == "FROM" ? DependencyKind.From
                        : use.Instruction.StartsWith("COPY", StringComparison.Ordinal) ? DependencyKind.CopyFrom
                        : DependencyKind.RunMount;
                    try
                    {
                        var bound = binder.Bind(use.Reference, image, image.DockerfilePath, use.Line, warnings, out var parsed);
                        if (bound != null) edges.Add(new DependencyEdge(image.Name, bound.Name, kind, image.DockerfilePath, use.Line, use.Reference));
                        else if (!bases.Any(b => b.ToString() == use.Reference)) bases.Add(parsed);
                    }
                    catch (ImageToolsException e) { errors.Add(e); }
                }
                foreach (var declared in image.DeclaredDependencies)
                {
                    if (!nodes.ContainsKey(declared.Name))
                    {
                        errors.Add(new ImageToolsException("UnknownDependency", FaultKind.ObjectNotFound,
                            $"'{image.Name}' declares a dependency on '{declared.Name}', which is not an image of this tree. " +
                            "Fix the name or remove the entry.", declared.FilePath, declared.Line, image.Name));
                        continue;
                    }
                    var kind = declared.FilePath.EndsWith(ImageSpec.FileName, StringComparison.Ordinal) ? DependencyKind.ImageYaml : DependencyKind.Control;
                    edges.Add(new DependencyEdge(image.Name, declared.Name, kind, declared.FilePath, declared.Line, null));
                }
                node.BaseReferences = bases.ToArray();
                var finalBase = image.FinalBase;
                node.FinalBase = finalBase == null ? null
                    : OwnEdge(edges, ownEdgesStart, finalBase.Line, finalBase.Reference)?.Dependency ?? finalBase.Reference;
            }
            if (errors.Count > 0) throw new ImageTreeException(tree.Root, errors);

            var ordered = AssignLevels(nodes, edges);
            var graph = new ImageGraph(tree, ordered, edges, warnings);
            foreach (var node in ordered)
            {
                node.Graph = graph;
                node.Dependencies = graph._dependencies[node.Name].Select(n => n.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray();
                node.Dependents = graph._dependents[node.Name].Select(n => n.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray();
            }
            return graph;
        }

        /// <summary>
        /// The edge of a FROM line among the edges the current image added (from <paramref name="start"/> on):
        /// searching every edge of the tree made building the graph quadratic (3.9 s for 10,000 images).
        /// </summary>
        private static DependencyEdge? OwnEdge(List<DependencyEdge> edges, int start, int line, string reference)
        {
            for (var i = start; i < edges.Count; i++)
                if (edges[i].Line == line && edges[i].Reference == reference) return edges[i];
            return null;
        }

        /// <summary>Kahn's algorithm: a node's level is one more than its deepest dependency. What is left over sits on a cycle.</summary>
        private static List<ImageNode> AssignLevels(Dictionary<string, ImageNode> nodes, List<DependencyEdge> edges)
        {
            var dependencies = nodes.Keys.ToDictionary(n => n, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
            var dependents = nodes.Keys.ToDictionary(n => n, _ => new List<string>(), StringComparer.Ordinal);
            foreach (var edge in edges)
                if (dependencies[edge.Dependent].Add(edge.Dependency)) dependents[edge.Dependency].Add(edge.Dependent);

            var remaining = dependencies.ToDictionary(p => p.Key, p => p.Value.Count, StringComparer.Ordinal);
            var ready = new Queue<string>(remaining.Where(p => p.Value == 0).Select(p => p.Key));
            var placed = 0;
            while (ready.Count > 0)
            {
                var name = ready.Dequeue();
                placed++;
                foreach (var dependent in dependents[name])
                {
                    nodes[dependent].Level = Math.Max(nodes[dependent].Level, nodes[name].Level + 1);
                    if (--remaining[dependent] == 0) ready.Enqueue(dependent);
                }
            }
            if (placed < nodes.Count) throw CycleError(remaining.Where(p => p.Value > 0).Select(p => p.Key), dependencies, edges);
            return nodes.Values.OrderBy(n => n.Level).ThenBy(n => n.Name, StringComparer.Ordinal).ToList();
        }

        private static ImageToolsException CycleError(IEnumerable<string> stuck, Dictionary<string, HashSet<string>> dependencies, List<DependencyEdge> edges)
        {
            // Walk dependencies from a stuck node until a name repeats: that stretch is a cycle.
            var stuckSet = new HashSet<string>(stuck, StringComparer.Ordinal);
            var start = stuckSet.OrderBy(n => n, StringComparer.Ordinal).First();
            var path = new List<string>();
            var seenAt = new Dictionary<string, int>(StringComparer.Ordinal);
            var current = start;
            while (!seenAt.ContainsKey(current))
            {
                seenAt[current] = path.Count;
                path.Add(current);
                current = dependencies[current].Where(stuckSet.Contains).OrderBy(n => n, StringComparer.Ordinal).First();
            }
            var cycle = path.Skip(seenAt[current]).Concat(new[] { current }).ToList();
            var where = cycle.Zip(cycle.Skip(1), (from, to) => edges.First(e => e.Dependent == from && e.Dependency == to))
                .Select(e => $"  {e.Dependent} needs {e.Dependency}: {e.FilePath}:{e.Line}");
            var first = edges.First(e => e.Dependent == cycle[0] && e.Dependency == cycle[1]);
            return new ImageToolsException("DependencyCycle", FaultKind.InvalidOperation,
                $"Dependency cycle: {string.Join(" → ", cycle)}. Break it by changing one of these:" + Environment.NewLine +
                string.Join(Environment.NewLine, where),
                first.FilePath, first.Line, cycle[0]);
        }

        /// <summary>Everything reachable from <paramref name="start"/> along <paramref name="next"/>, not counting the start itself.</summary>
        private static HashSet<ImageNode> Closure(IEnumerable<ImageNode> start, Dictionary<string, List<ImageNode>> next)
        {
            var seen = new HashSet<ImageNode>();
            var pending = new Stack<ImageNode>(start);
            while (pending.Count > 0)
                foreach (var neighbour in next[pending.Pop().Name])
                    if (seen.Add(neighbour)) pending.Push(neighbour);
            return seen;
        }
    }
}
