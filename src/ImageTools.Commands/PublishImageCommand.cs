using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Building;
using ImageTools.Engine;
using ImageTools.Graph;
using ImageTools.Publishing;

namespace ImageTools.Commands
{
    /// <summary>
    /// Publishes built and verified images. This version publishes to an archive directory
    /// (-ArchivePath) for air-gapped transfer; pushing to a registry comes with the registry client.
    /// </summary>
    /// <example>
    /// <code>Get-ImageGraph ./images | Invoke-ImageBuild | Publish-Image -ArchivePath /mnt/transfer/images</code>
    /// <para>Builds the tree and saves every image that passed as a tar, with an index.json listing them.</para>
    /// </example>
    /// <example>
    /// <code>Get-ImageGraph ./images -Name base | Publish-Image -ArchivePath ./archive -WhatIf</code>
    /// <para>Shows which images would be archived where, and writes nothing.</para>
    /// </example>
    [Cmdlet(VerbsData.Publish, "Image", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByResultSet)]
    [OutputType(typeof(PublishResult))]
    public sealed class PublishImageCommand : PSCmdlet
    {
        public const string ByResultSet = "ByResult";
        public const string ByNodeSet = "ByNode";

        private readonly CancellationTokenSource _cancellation = new CancellationTokenSource();
        private readonly List<BuildResult> _results = new List<BuildResult>();
        private readonly List<ImageNode> _nodes = new List<ImageNode>();

        /// <summary>Results from Invoke-ImageBuild: Built and UpToDate images are published, Failed and Skipped ones are errors.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByResultSet)]
        [ValidateNotNull]
        public BuildResult[] InputObject { get; set; } = null!;

        /// <summary>Images from Get-ImageGraph that were built before; their local tag is published.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByNodeSet)]
        [ValidateNotNull]
        public ImageNode[] Node { get; set; } = null!;

        /// <summary>A directory to save the images to as docker-archive tars, with an index.json (air-gapped transfer).</summary>
        [Parameter(Mandatory = true)]
        [ValidateNotNullOrEmpty]
        public string ArchivePath { get; set; } = null!;

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByResultSet) _results.AddRange(InputObject);
            else _nodes.AddRange(Node);
        }

        protected override void StopProcessing() => _cancellation.Cancel();

        protected override void EndProcessing()
        {
            var directory = SessionState.Path.GetUnresolvedProviderPathFromPSPath(ArchivePath);
            var engine = new DockerCliEngine();
            try
            {
                var images = new List<(ImageNode, string)>();
                foreach (var result in _results)
                {
                    if (result.Status == BuildStatus.Built && result.ImageId != null) images.Add((result.Node, result.ImageId));
                    else if (result.Status == BuildStatus.UpToDate) _nodes.Add(result.Node);
                    else
                        ErrorRecords.WriteImageError(this, new ImageToolsException("ImageNotBuilt", FaultKind.InvalidOperation,
                            $"{result.Reference} was {result.Status.ToString().ToLowerInvariant()}, so it is not published. {result.Error}", imageName: result.Name));
                }
                foreach (var node in _nodes)
                {
                    var local = Task.Run(() => engine.InspectAsync(node.Reference, _cancellation.Token)).GetAwaiter().GetResult();
                    if (local != null) images.Add((node, local.Id));
                    else
                        ErrorRecords.WriteImageError(this, new ImageToolsException("ImageNotBuilt", FaultKind.ObjectNotFound,
                            $"{node.Reference} is not in the local engine, so it cannot be published. Build it first (Invoke-ImageBuild).", imageName: node.Name));
                }
                var approved = images.Where(i => ShouldProcess(i.Item1.Reference, $"Save image to the archive {directory}")).ToList();
                if (approved.Count == 0) return;

                var published = Task.Run(() => new ArchivePublisher(engine, directory).PublishAsync(approved, _cancellation.Token)).GetAwaiter().GetResult();
                foreach (var result in published)
                {
                    WriteObject(result);
                    if (result.Status == PublishStatus.Failed)
                        ErrorRecords.WriteImageError(this, new ImageToolsException(result.ErrorId ?? "PublishFailed", FaultKind.InvalidOperation,
                            result.Error ?? "Publishing failed.", imageName: result.Name));
                    else
                        WriteVerbose($"{result.Reference}: {result.Status} ({result.Path})");
                }
            }
            catch (ImageToolsException e) { ErrorRecords.ThrowTerminating(this, e); }
            catch (OperationCanceledException) { }
        }
    }
}
