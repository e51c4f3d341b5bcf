using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Engines;
using ImageTools.Graph;
using ImageTools.Publishing;

namespace ImageTools.Commands
{
    /// <summary>
    /// Publishes built and verified images: to the tree's registry (every image uploaded by digest first,
    /// then every tag, only when every image of the run succeeded), or to an archive directory (-ArchivePath)
    /// for air-gapped transfer.
    /// </summary>
    /// <example>
    /// <code>Get-ImageGraph ./images | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | Invoke-ImageBuild | Publish-Image -Credential (Get-Credential)</code>
    /// <para>Rebuilds what is stale and pushes it to the tree's registry; no tag moves unless every image of the run was built, verified and uploaded.</para>
    /// </example>
    /// <example>
    /// <code>Get-ImageGraph ./images | Invoke-ImageBuild | Publish-Image -ArchivePath /mnt/transfer/images</code>
    /// <para>Builds the tree and saves every image that passed as a tar, with an index.json listing them.</para>
    /// </example>
    /// <example>
    /// <code>Invoke-ImageBuild -Path ./images -Plan ./plan -Leg w0_l1 | Publish-Image -Plan ./plan -Stage</code>
    /// <para>On a leg's agent: uploads the leg's images by digest, moves no tag, and writes the leg's record into ./plan/legs for later stages (docs/ci.md).</para>
    /// </example>
    /// <example>
    /// <code>Publish-Image -Path ./images -Plan ./plan</code>
    /// <para>The promote job: moves every tag of the fanned-out run once every leg's record is in ./plan and every image was staged; otherwise none. Needs no engine.</para>
    /// </example>
    /// <example>
    /// <code>Get-ImageGraph ./images -Name base | Publish-Image -ArchivePath ./archive -WhatIf</code>
    /// <para>Shows which images would be archived where, and writes nothing.</para>
    /// </example>
    [Cmdlet(VerbsData.Publish, "Image", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByResultSet)]
    [OutputType(typeof(PublishResult))]
    public sealed class PublishImageCommand : ImageToolsCmdlet
    {
        public const string ByResultSet = "ByResult";
        public const string ByNodeSet = "ByNode";
        public const string ByPlanSet = "ByPlan";
        private readonly List<BuildResult> _results = new List<BuildResult>();
        private readonly List<ImageNode> _nodes = new List<ImageNode>();

        /// <summary>Results from Invoke-ImageBuild: Built and UpToDate images are published; a Failed or Skipped one is an error and holds back every tag of the run (see -NonAtomic).</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByResultSet)]
        [ValidateNotNull]
        public BuildResult[] InputObject { get; set; } = null!;

        /// <summary>Images from Get-ImageGraph that were built before; their local tag is published.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByNodeSet)]
        [ValidateNotNull]
        public ImageNode[] Node { get; set; } = null!;

        /// <summary>The tree the plan was made from, for the promote of a fanned-out run (with -Plan, no pipeline input).</summary>
        [Parameter(Mandatory = true, ParameterSetName = ByPlanSet)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = null!;

        /// <summary>
        /// The plan folder of a fanned-out run (New-ImageBuildPlan): with -Stage and a leg's build results, stage them and
        /// write the leg's record; with -Path and no input, promote the whole run.
        /// </summary>
        [Parameter(ParameterSetName = ByResultSet)]
        [Parameter(Mandatory = true, ParameterSetName = ByPlanSet)]
        [ValidateNotNullOrEmpty]
        public string? Plan { get; set; }

        /// <summary>Upload the piped leg's images by digest and record them in the -Plan folder; no tag moves (the promote moves them).</summary>
        [Parameter(ParameterSetName = ByResultSet)]
        public SwitchParameter Stage { get; set; }

        /// <summary>A directory to save the images to as docker-archive tars, with an index.json (air-gapped transfer), instead of the registry.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? ArchivePath { get; set; }

        /// <summary>Credentials for the registry (the registry client uploads and moves tags itself); else Docker's own configuration.</summary>
        [Parameter]
        [Credential]
        [ValidateNotNull]
        public PSCredential? Credential { get; set; }

        /// <summary>Replace different content under an existing version tag (normally refused: version tags are immutable).</summary>
        [Parameter]
        public SwitchParameter AllowOverwrite { get; set; }

        /// <summary>
        /// Publish what succeeded: each image that was built, verified and uploaded gets its tags even if other
        /// images of the run failed or were skipped. Without it no tag moves unless every image of the run got that far.
        /// </summary>
        [Parameter]
        public SwitchParameter NonAtomic { get; set; }

        /// <summary>How many images are pushed at once.</summary>
        [Parameter]
        [ValidateRange(1, 32)]
        public int ThrottleLimit { get; set; } = 4;

        /// <summary>How often a push or registry request that failed for a transient reason (connection error, timeout, 429, 5xx) is tried again; never after 401, 403 or 404.</summary>
        [Parameter]
        [ValidateRange(0, 10)]
        public int MaximumRetryCount { get; set; } = 3;

        /// <summary>Seconds to wait before the first retry; each further wait doubles.</summary>
        [Parameter]
        [ValidateRange(0, 300)]
        public double RetryIntervalSec { get; set; } = 0.5;

        /// <summary>Seconds one attempt of one registry request may take, answer included, before it counts as failed (and is tried again); 60 by default.</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = RegistryOptions.DefaultTimeoutSec;

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByResultSet) _results.AddRange(InputObject);
            else if (ParameterSetName == ByNodeSet) _nodes.AddRange(Node);
        }

        protected override void EndProcessing()
        {
            if (ParameterSetName == ByPlanSet || Stage || Plan != null)
            {
                PublishPlan();
                return;
            }
            try
            {
                // One engine for the run: it inspects and saves the images; the registry client uploads them.
                var engine = Docker.Api.DockerEngineFactory.Create(credentials: Credential == null ? null : RegistryOptions.Credentials(Credential));
                using var engineLifetime = engine as IDisposable;
                var images = new List<ImageToPublish>();
                // Images of the run that cannot be published: in an atomic publish they hold back every tag.
                var unpublishable = new List<UnpublishableImage>();
                foreach (var result in _results)
                {
                    if (result.Status == BuildStatus.Built && result.ImageId != null) images.Add(new ImageToPublish(result.Node, result.ImageId, result.Tag));
                    else if (result.Status == BuildStatus.UpToDate) _nodes.Add(result.Node);
                    else
                        unpublishable.Add(new UnpublishableImage(result.Node, result.Reference, "ImageNotBuilt",
                            $"{result.Reference} was {result.Status.ToString().ToLowerInvariant()}, so it is not published. {result.Error}"));
                }
                foreach (var node in _nodes)
                {
                    var local = Task.Run(() => engine.InspectAsync(node.Reference, StopToken)).GetAwaiter().GetResult();
                    if (local != null) images.Add(new ImageToPublish(node, local.Id));
                    else
                        unpublishable.Add(new UnpublishableImage(node, node.Reference, "ImageNotBuilt",
                            $"{node.Reference} is not in the local engine, so it cannot be published. Build it first (Invoke-ImageBuild)."));
                }
                if (images.Count == 0 || ArchivePath != null)
                {
                    foreach (var image in unpublishable)
                        WriteImageError(new ImageToolsException(image.ErrorId, FaultKind.InvalidOperation, image.Reason, imageName: image.Node.Name));
                    if (images.Count == 0) return;
                }
                // The engine reports no per-image progress for a publish; one record says that the work is under way.
                var progress = new ProgressRecord(1, "Publish-Image", $"Publishing {images.Count} images to {(ArchivePath != null ? "the archive " + ArchivePath : "the registry")}");
                WriteProgress(progress);
                IReadOnlyList<PublishResult> published;
                try { published = ArchivePath != null ? ToArchive(engine, images) : ToRegistry(engine, images, unpublishable); }
                finally
                {
                    progress.RecordType = ProgressRecordType.Completed;
                    WriteProgress(progress);
                }
                foreach (var result in published) Emit(result);
            }
            catch (ImageToolsException e) { ThrowTerminating(e); }
            catch (OperationCanceledException) { }
        }

        /// <summary>A fanned-out run: one leg's stage (-Plan -Stage), or the promote of the whole run (-Path -Plan).</summary>
        private void PublishPlan()
        {
            try
            {
                if (Plan == null || (ParameterSetName == ByResultSet && !Stage) || ArchivePath != null)
                    throw new ImageToolsException("PlanNeedsStage", FaultKind.InvalidArgument,
                        "With a plan, stage a leg's results (... | Publish-Image -Plan ./plan -Stage) or promote the run (Publish-Image -Path ./images -Plan ./plan); " +
                        "-Stage needs -Plan, and a plan publishes to the registry, not an archive.");
                var plan = new PlanPublisher(Planning.PlanFolder.Read(SessionState.Path.GetUnresolvedProviderPathFromPSPath(Plan)));
                var graph = ParameterSetName == ByPlanSet
                    ? TreeSelection.Load(this, TreePaths.ResolveSingle(this, Path), StopToken)
                    : TreeSelection.FromNodes(_results.Select(r => r.Node).ToList()).Graph;
                if (graph == null) return;
                var config = graph.Tree.Config;
                if (config.Registry == null)
                    throw new ImageToolsException("NoRegistry", FaultKind.InvalidArgument,
                        $"The tree has no registry to publish to; a fanned-out run hands images over through one. Set 'registry' in {TreeConfig.FileName}.");
                var leg = ParameterSetName == ByResultSet ? plan.LegOf(_results.Select(r => r.Name)) : null;
                var action = leg != null ? $"Stage leg {leg} in {config.Registry} by digest (no tag moves)" : $"Promote the run in {config.Registry}: move every tag once every leg staged";
                if (!ShouldProcess(leg != null ? string.Join(", ", _results.Select(r => r.Reference)) : System.IO.Path.Combine(plan.Folder.Directory, Planning.BuildPlanFile.FileName), action)) return;

                var (published, record) = Task.Run<(IReadOnlyList<PublishResult>, string?)>(async () =>
                {
                    var retry = new Registry.RetryPolicy(MaximumRetryCount + 1, TimeSpan.FromSeconds(RetryIntervalSec));
                    using var client = new Registry.RegistryClient(config.Registry, RegistryOptions.For(config, Credential, retry, TimeoutSec));
                    var options = new RegistryPublishOptions { Atomic = !NonAtomic, AllowOverwrite = AllowOverwrite, ThrottleLimit = ThrottleLimit, Retry = retry, StageOnly = leg != null };
                    var engine = Docker.Api.DockerEngineFactory.Create(credentials: Credential == null ? null : RegistryOptions.Credentials(Credential));
                    using var engineLifetime = engine as IDisposable;
                    var publisher = new RegistryPublisher(engine, client, options);
                    if (leg == null) return (await plan.PromoteAsync(publisher, graph, StopToken).ConfigureAwait(false), null);

                    var images = _results.Where(r => r.Status == BuildStatus.Built && r.ImageId != null).Select(r => new ImageToPublish(r.Node, r.ImageId!, r.Tag)).ToList();
                    var unpublishable = _results.Where(r => !(r.Status == BuildStatus.Built && r.ImageId != null))
                        .Select(r => new UnpublishableImage(r.Node, r.Reference, "ImageNotBuilt",
                            $"{r.Reference} was {r.Status.ToString().ToLowerInvariant()} on leg {leg}, so it is not staged. {r.Error}")).ToList();
                    return await plan.StageAsync(leg, publisher, engine, images, unpublishable, StopToken).ConfigureAwait(false);
                }).GetAwaiter().GetResult();
                if (record != null) WriteVerbose($"Wrote the record of leg {leg}: {record}");
                foreach (var result in published) Emit(result);
            }
            catch (ImageToolsException e) { ThrowTerminating(e); }
            catch (OperationCanceledException) { }
        }

        private void Emit(PublishResult result)
        {
            WriteObject(result);
            if (result.Status == PublishStatus.Failed)
                WriteImageError(new ImageToolsException(result.ErrorId ?? "PublishFailed", FaultKind.InvalidOperation,
                    result.Error ?? "Publishing failed.", imageName: result.Name));
            else if (result.Error != null)
                WriteImageWarning($"{result.Reference}: {result.Status}. {result.Error}");
            else
                WriteVerbose($"{result.Reference}: {result.Status} to {result.Path ?? result.Destination} ({string.Join(", ", result.Tags)})");
        }

        private IReadOnlyList<PublishResult> ToArchive(IContainerEngine engine, List<ImageToPublish> images)
        {
            var directory = SessionState.Path.GetUnresolvedProviderPathFromPSPath(ArchivePath);
            var approved = images.Where(i => ShouldProcess(i.Reference, $"Save image to the archive {directory}")).ToList();
            if (approved.Count == 0) return new PublishResult[0];
            return Task.Run(() => new ArchivePublisher(engine, directory).PublishAsync(approved, StopToken)).GetAwaiter().GetResult();
        }

        private IReadOnlyList<PublishResult> ToRegistry(IContainerEngine engine, List<ImageToPublish> images, List<UnpublishableImage> unpublishable)
        {
            var config = images[0].Node.Graph.Tree.Config;
            if (config.Registry == null)
                throw new ImageToolsException("NoRegistry", FaultKind.InvalidArgument,
                    $"The tree has no registry to publish to. Set 'registry' in {TreeConfig.FileName}, or pass -ArchivePath.");
            var tags = (NonAtomic ? "" : "once every image of the run is uploaded, ") + "move its version, latest and extra tags";
            var approved = images.Where(i => ShouldProcess(i.Reference, $"Push to {config.Registry}; {tags}")).ToList();
            if (approved.Count == 0) return new PublishResult[0];
            var verbose = new RegistryVerbose();
            return verbose.Wait(Task.Run(async () =>
            {
                var retry = new Registry.RetryPolicy(MaximumRetryCount + 1, TimeSpan.FromSeconds(RetryIntervalSec));
                var clientOptions = RegistryOptions.For(config, Credential, retry, TimeoutSec);
                clientOptions.Progress = verbose;
                using var client = new Registry.RegistryClient(config.Registry, clientOptions);
                var publisher = new RegistryPublisher(engine, client,
                    new RegistryPublishOptions { Atomic = !NonAtomic, AllowOverwrite = AllowOverwrite, ThrottleLimit = ThrottleLimit, Retry = retry });
                return await publisher.PublishAsync(approved, unpublishable, StopToken).ConfigureAwait(false);
            }), WriteVerbose);
        }
    }
}
