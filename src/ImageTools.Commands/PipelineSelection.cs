using System.Collections.Generic;
using System.Linq;
using ImageTools.Graph;

namespace ImageTools.Commands
{
    /// <summary>Nodes piped from Get-ImageGraph: they carry their graph, so the tree is not scanned again.</summary>
    internal static class PipelineSelection
    {
        public static (ImageGraph Graph, IReadOnlyList<ImageNode> Selected) FromNodes(IReadOnlyCollection<ImageNode> nodes)
        {
            var graphs = nodes.Select(n => n.Graph).Distinct().ToList();
            if (graphs.Count > 1)
                throw new ImageToolsException("MixedTrees", FaultKind.InvalidArgument,
                    "The piped images come from more than one Get-ImageGraph call; pipe one tree at a time.");
            return graphs.Count == 0 ? (null!, new ImageNode[0]) : (graphs[0], graphs[0].InBuildOrder(nodes));
        }
    }
}
