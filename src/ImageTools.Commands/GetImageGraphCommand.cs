using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ImageTools.Definitions;
using ImageTools.Graph;

namespace ImageTools.Commands
{
    /// <summary>
    /// Scans an image tree and emits its images in build order, or the graph as DOT/Mermaid text.
    /// </summary>
    /// <remarks>
    /// Dependencies are inferred from every FROM, COPY --from and RUN --mount from= after ARG
    /// expansion, and from control and image.yaml; a cycle is an error that prints the cycle.
    /// </remarks>
    /// <example>
    /// <code>Get-ImageGraph ./images | Format-Table</code>
    /// <para>Lists every image of the tree with its build level, dependencies and base images.</para>
    /// </example>
    /// <example>
    /// <code>Get-ImageGraph ./images -Name 'php*' -IncludeDependents -Format Mermaid</code>
    /// <para>Shows the php images and everything built on them as a Mermaid diagram.</para>
    /// </example>
    /// <example>
    /// <code>Get-ImageGraph ./builder.yaml | Select-Object Name, Context, ContextCommit</code>
    /// <para>Reads the 2014 builder's file as the tree (a docker_images file works the same way) and shows each image's context; for a git context, the commit its ref names now.</para>
    /// </example>
    [Cmdlet(VerbsCommon.Get, "ImageGraph", DefaultParameterSetName = NodesSet)]
    [OutputType(typeof(ImageNode), ParameterSetName = new[] { NodesSet })]
    [OutputType(typeof(string), ParameterSetName = new[] { TextSet })]
    public sealed class GetImageGraphCommand : ImageToolsCmdlet
    {
        public const string NodesSet = "Nodes";
        public const string TextSet = "Text";

        /// <summary>The root of the image tree, or a file that lists its images: docker_build's docker_images or the 2014 builder's builder.yaml.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = ".";

        /// <summary>Only images whose names match (wildcards allowed).</summary>
        [Parameter(Position = 1)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageNameCompleter))]
        public string[]? Name { get; set; }

        /// <summary>Also every image that depends on a selected image, directly or not.</summary>
        [Parameter]
        public SwitchParameter IncludeDependents { get; set; }

        /// <summary>Also every image a selected image depends on, directly or not.</summary>
        [Parameter]
        public SwitchParameter IncludeDependencies { get; set; }

        /// <summary>Emit the (selected) graph as Graphviz DOT or Mermaid text instead of nodes.</summary>
        [Parameter(Mandatory = true, ParameterSetName = TextSet)]
        public GraphTextFormat Format { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var root in ResolveRoots())
            {
                ImageGraph graph;
                try
                {
                    WriteVerbose($"Scanning image tree {root}");
                    graph = TreeSelection.Load(this, root, StopToken);
                    WriteVerbose($"Found {graph.Nodes.Count} images in {graph.Nodes.Select(n => n.Level).DefaultIfEmpty(-1).Max() + 1} levels");
                }
                catch (ImageToolsException e)
                {
                    ThrowTerminating(e);
                    return;
                }
                catch (OperationCanceledException)
                {
                    return;
                }


                var selection = NameSelection.Select(graph, Name, IncludeDependents, IncludeDependencies, out var unmatched);
                foreach (var name in unmatched) ErrorRecords.WriteImageNotFound(this, name, root);

                if (ParameterSetName == TextSet) WriteObject(GraphExport.Render(graph, selection, Format));
                else foreach (var node in selection) WriteObject(node);
            }
        }

        protected override void EndProcessing() => WritePhaseTimings();

        private IReadOnlyList<string> ResolveRoots()
        {
            try { return TreePaths.Resolve(this, Path); }
            catch (ImageToolsException e) { ThrowTerminating(e); }
            return Array.Empty<string>();
        }
    }
}
