using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using ImageTools.Definitions;
using ImageTools.Graph;

namespace ImageTools.Commands
{
    /// <summary>How every cmdlet gets its graph and images: piped nodes, or a -Path and -Name.</summary>
    internal static class TreeSelection
    {
        /// <summary>Nodes piped from Get-ImageGraph carry their graph, so the tree is not scanned again.</summary>
        public static (ImageGraph Graph, IReadOnlyList<ImageNode> Selected) FromNodes(IReadOnlyCollection<ImageNode> nodes)
        {
            var graphs = nodes.Select(n => n.Graph).Distinct().ToList();
            if (graphs.Count > 1)
                throw new ImageToolsException("MixedTrees", FaultKind.InvalidArgument,
                    "The piped images come from more than one Get-ImageGraph call; pipe one tree at a time.");
            return graphs.Count == 0 ? (null!, new ImageNode[0]) : (graphs[0], graphs[0].InBuildOrder(nodes));
        }

        /// <summary>The tree at <paramref name="path"/> and the images named (all when none); an unmatched literal name is a per-name error.</summary>
        public static (ImageGraph Graph, IReadOnlyList<ImageNode> Selected) FromPath(PSCmdlet cmdlet, string path, string[]? names, CancellationToken cancellationToken)
        {
            var root = TreePaths.ResolveSingle(cmdlet, path);
            var graph = Load(cmdlet, root, cancellationToken);
            var selected = NameSelection.Select(graph, names, false, false, out var unmatched);
            foreach (var name in unmatched) ErrorRecords.WriteImageNotFound(cmdlet, name, root);
            return (graph, selected);
        }

        /// <summary>Scans and builds the graph, writing its warnings (file and line) as the cmdlet's.</summary>
        public static ImageGraph Load(PSCmdlet cmdlet, string root, CancellationToken cancellationToken)
        {
            var phases = (cmdlet as ImageToolsCmdlet)?.Phases;
            var watch = Stopwatch.StartNew();
            var tree = TreeScanner.Scan(root, cancellationToken);
            phases?.Add("scan", watch.Elapsed, $"{tree.Images.Count} images");
            watch.Restart();
            var graph = ImageGraph.Build(tree);
            phases?.Add("graph", watch.Elapsed, $"{graph.Edges.Count} edges");
            foreach (var warning in graph.Warnings) ErrorRecords.WriteImageWarning(cmdlet, warning.ToString(), warning.FilePath, warning.Line);
            // A -Path one level off (the repository instead of its images folder is fine, a sibling is
            // not) would otherwise make a pipeline that does nothing and passes.
            if (graph.Nodes.Count == 0)
                ErrorRecords.WriteImageWarning(cmdlet, $"There are no image directories under {root} (a directory holding a " +
                    $"{TreeScanner.DockerfileName}, {TreeScanner.TemplateName} or {ImageSpec.FileName}). Check -Path.");
            return graph;
        }
    }
}
