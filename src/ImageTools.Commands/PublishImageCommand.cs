using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Graph;
using ImageTools.Publishing;

namespace ImageTools.Commands
{
    /// <summary>
    /// Publishes built and verified images: to the tree's registry (every image uploaded by digest first,
    /// then every tag, only when every image of the run succeeded), or to an archive directory (-ArchivePath)
    /// for air-gapped transfer. Up-to-date images taken from the local engine are verified first (test.sh or the
    /// verify command); one that fails holds back the run like a failed build. With -Verbose each tag is named as it moves.
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
    /// <code>Publish-Image -ArchivePath /mnt/transfer/images -Reference busybox:1.36, registry.example.org/tools/jq:1.7</code>
    /// <para>Archives local images that are not of a tree (keepdocker). An image the archive already holds under another name is stored once and listed under both.</para>
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
        public const string ByReferenceSet = "ByReference";
        private readonly List<BuildResult> _results = new List<BuildResult>();
        private readonly List<ImageNode> _nodes = new List<ImageNode>();
        private readonly System.Collections.Concurrent.BlockingCollection<string> _events = new System.Collections.Concurrent.BlockingCollection<string>();

        /// <summary>Results from Invoke-ImageBuild: Built and UpToDate images are published; a Failed or Skipped one is an error and holds back every tag of the run (see -NonAtomic).</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByResultSet)]
        [ValidateNotNull]
        public BuildResult[] InputObject { get; set; } = null!;

        /// <summary>Images from Get-ImageGraph that were built before; their local tag is published, after its verification passed.</summary>
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

        /// <summary>Local images to archive by reference (with -ArchivePath), any image the engine holds, not only images of a tree.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ByReferenceSet)]
        [ValidateNotNullOrEmpty]
        public string[] Reference { get; set; } = null!;

        /// <summary>With -Reference: write the tar again even if the archive already holds the image.</summary>
        [Parameter(ParameterSetName = ByReferenceSet)]
        public SwitchParameter Force { get; set; }

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

        /// <summary>Seconds one attempt of one registry request may take, answer included, before it counts as failed (and is tried again). Without it: the tree's registry_timeout (imagetools.yaml), else 60.</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = RegistryOptions.DefaultTimeoutSec;

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByResultSet) _results.AddRange(InputObject);
            else if (ParameterSetName == ByNodeSet) _nodes.AddRange(Node);
        }

        /// <summary>
        /// Runs the publish on a worker and writes its milestones (verifications, each tag as it moves) as verbose
        /// lines from this thread while it runs, so that an interrupted run has already said which tags moved.
        /// </summary>
        private IReadOnlyList<PublishResult> RunWithMilestones(Func<Task<IReadOnlyList<PublishResult>>> publish)
        {
            var work = Task.Run(async () =>
            {
                try { return await publish().ConfigureAwait(false); }
                finally { _events.CompleteAdding(); }
            });
            var drained = false;
            try
            {
                foreach (var message in _events.GetConsumingEnumerable()) WriteVerbose(message);
                drained = true;
            }
            finally
            {
                // A write that throws (-Verbose with $VerbosePreference = 'Stop', a stopped pipeline) ends the run here too.
                if (!drained)
                {
                    CancelRun();
                    try { work.GetAwaiter().GetResult(); }
                    catch (Exception) { }
                }
            }
            return work.GetAwaiter().GetResult();
        }

        protected override void EndProcessing()
        {
            if (ParameterSetName == ByReferenceSet)
            {
                ArchiveReferences();
                return;
            }
            if (ParameterSetName == ByPlanSet || Stage || Plan != null)
            {
                PublishPlan();
                return;
            }
            try
            {
                // One engine for the run: it inspects, verifies and saves the images; the registry client uploads them.
                var config = _results.Select(r => r.Node).Concat(_nodes).FirstOrDefault()?.Graph.Tree.Config ?? TreeConfig.Empty;
                var credentials = RegistryOptions.CredentialsFor(config, Credential);
                var engine = Docker.Api.DockerEngineFactory.Create(credentials: credentials);
                using var engineLifetime = engine as IDisposable;
                var run = new PublishRun(engine, RunOptions(credentials));
                var selection = Task.Run(() => run.PrepareAsync(_results, _nodes, StopToken)).GetAwaiter().GetResult();
                if (selection.Images.Count == 0 || ArchivePath != null)
                {
                    foreach (var image in selection.Unpublishable)
                        WriteImageError(new ImageToolsException(image.ErrorId, FaultKind.InvalidOperation, image.Reason, imageName: image.Node.Name));
                    if (selection.Images.Count == 0) return;
                }
                var approved = selection.Images.Where(i => ShouldProcess(i.Reference, selection.Action)).ToList();
                if (approved.Count == 0) return;
                // The engine reports no per-image progress for a publish; one record says that the work is under way.
                var progress = new ProgressRecord(1, "Publish-Image", $"Publishing {approved.Count} images to {(ArchivePath != null ? "the archive " + selection.Destination : "the registry")}");
                WriteProgress(progress);
                IReadOnlyList<PublishResult> published;
                try { published = RunWithMilestones(() => run.PublishAsync(selection, approved, StopToken)); }
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
                var leg = ParameterSetName == ByResultSet ? plan.LegOf(_results.Select(r => r.Name)) : null;
                var action = leg != null ? $"Stage leg {leg} in {config.Registry} by digest (no tag moves)" : $"Promote the run in {config.Registry}: move every tag once every leg staged";
                if (!ShouldProcess(leg != null ? string.Join(", ", _results.Select(r => r.Reference)) : System.IO.Path.Combine(plan.Folder.Directory, Planning.BuildPlanFile.FileName), action)) return;

                var credentials = RegistryOptions.CredentialsFor(config, Credential);
                var engine = Docker.Api.DockerEngineFactory.Create(credentials: credentials);
                using var engineLifetime = engine as IDisposable;
                var run = new PublishRun(engine, RunOptions(credentials));
                string? record = null;
                var published = RunWithMilestones(async () =>
                {
                    if (leg == null) return await run.PromotePlanAsync(plan, graph, StopToken).ConfigureAwait(false);
                    var (results, path) = await run.StageLegAsync(plan, leg, _results, StopToken).ConfigureAwait(false);
                    record = path;
                    return results;
                });
                if (record != null) WriteVerbose($"Wrote the record of leg {leg}: {record}");
                foreach (var result in published) Emit(result);
            }
            catch (ImageToolsException e) { ThrowTerminating(e); }
            catch (OperationCanceledException) { }
        }

        /// <summary>keepdocker's upload of any local image: -ArchivePath with -Reference, no tree.</summary>
        private void ArchiveReferences()
        {
            try
            {
                // -ArchivePath is not mandatory in this set: that would make PowerShell pick it for piped results with -ArchivePath.
                if (ArchivePath == null)
                    throw new ImageToolsException("ReferenceNeedsArchivePath", FaultKind.InvalidArgument,
                        "-Reference archives local images: give the archive directory with -ArchivePath. Images are pushed to a registry from a tree.");
                var directory = SessionState.Path.GetUnresolvedProviderPathFromPSPath(ArchivePath);
                var approved = Reference.Where(r => ShouldProcess(r, $"Save image to the archive {directory}")).ToList();
                if (approved.Count == 0) return;
                var engine = Docker.Api.DockerEngineFactory.Create();
                using var engineLifetime = engine as IDisposable;
                var published = Task.Run(() => new ArchivePublisher(engine, directory).PublishReferencesAsync(approved, Force, StopToken)).GetAwaiter().GetResult();
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

        /// <summary>The run's settings from the cmdlet's parameters, the same for a plain publish, a leg's stage and a promote.</summary>
        private PublishRunOptions RunOptions(Registry.IRegistryCredentialSource? credentials) => new PublishRunOptions
        {
            ArchiveDirectory = ArchivePath == null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(ArchivePath),
            Credentials = credentials,
            PowerShell = PowerShellHost.StartCommand(this),
            Atomic = !NonAtomic,
            AllowOverwrite = AllowOverwrite,
            ThrottleLimit = ThrottleLimit,
            MaximumRetryCount = MaximumRetryCount,
            RetryInterval = TimeSpan.FromSeconds(RetryIntervalSec),
            RequestTimeout = RegistryOptions.TimeoutGiven(this, TimeoutSec) is int seconds ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null,
            Progress = new QueueProgress(_events),
        };

        private sealed class QueueProgress : IProgress<string>
        {
            private readonly System.Collections.Concurrent.BlockingCollection<string> _queue;
            public QueueProgress(System.Collections.Concurrent.BlockingCollection<string> queue) => _queue = queue;
            // A milestone after the run ended (none is expected) is dropped rather than thrown into the engine.
            public void Report(string value)
            {
                try { _queue.Add(value); }
                catch (InvalidOperationException) { }
            }
        }
    }
}
