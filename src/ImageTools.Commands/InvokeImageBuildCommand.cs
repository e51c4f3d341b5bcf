using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using ImageTools.Building;
using ImageTools.Engines;
using ImageTools.Graph;

namespace ImageTools.Commands
{
    /// <summary>
    /// Builds images in dependency order, independent ones in parallel; verifies each and moves its
    /// tags only when it passed. A failed image skips its dependents; other branches go on.
    /// </summary>
    /// <example>
    /// <code>Get-ImageGraph ./images | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | Invoke-ImageBuild -ThrottleLimit 4</code>
    /// <para>Rebuilds only what is stale, four images at a time, and emits one result per image.</para>
    /// </example>
    /// <example>
    /// <code>Invoke-ImageBuild -Path ./images -Plan ./plan -Leg w1_l0 | Publish-Image -Plan ./plan -Stage</code>
    /// <para>On one agent of a fanned-out pipeline: builds the leg's images on parents that earlier legs staged, then stages them in turn (docs/ci.md).</para>
    /// </example>
    /// <example>
    /// <code>Invoke-ImageBuild -Path ./images -Name base -WhatIf</code>
    /// <para>Shows what would be built, with build levels, and builds nothing.</para>
    /// </example>
    [Cmdlet(VerbsLifecycle.Invoke, "ImageBuild", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
        DefaultParameterSetName = ByNodeSet)]
    [OutputType(typeof(BuildResult))]
    public sealed class InvokeImageBuildCommand : ImageToolsCmdlet
    {
        public const string ByNodeSet = "ByNode";
        public const string ByStatusSet = "ByStatus";
        public const string ByPathSet = "ByPath";
        public const string ByPlanSet = "ByPlan";
        private readonly List<ImageNode> _nodes = new List<ImageNode>();
        private readonly List<ImageNode> _upToDate = new List<ImageNode>();
        private readonly Dictionary<string, Planning.ParentImage> _seenParents = new Dictionary<string, Planning.ParentImage>(StringComparer.Ordinal);
        private readonly Dictionary<string, Planning.RebuildStatus> _checked = new Dictionary<string, Planning.RebuildStatus>(StringComparer.Ordinal);

        /// <summary>What the registry client did looking up parents, written when the build has ended.</summary>
        private readonly LaterLines _registryLines = new LaterLines();

        /// <summary>Images from Get-ImageGraph.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByNodeSet)]
        [ValidateNotNull]
        public ImageNode[] InputObject { get; set; } = null!;

        /// <summary>Verdicts from Test-ImageNeedsRebuild: images that need a rebuild are built, the others reported UpToDate.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByStatusSet)]
        [ValidateNotNull]
        public Planning.RebuildStatus[] Status { get; set; } = null!;

        /// <summary>The root of the image tree, to build without Get-ImageGraph (with -Plan: the checkout's tree the plan was made from).</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByPathSet)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByPlanSet)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = null!;

        /// <summary>The plan folder New-ImageBuildPlan wrote, with the records of earlier legs downloaded into it.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ByPlanSet)]
        [ValidateNotNullOrEmpty]
        public string Plan { get; set; } = null!;

        /// <summary>The leg of the plan this agent builds (its id, e.g. w1_l0, from the plan job's matrix).</summary>
        [Parameter(Mandatory = true, ParameterSetName = ByPlanSet)]
        [ValidateNotNullOrEmpty]
        public string Leg { get; set; } = null!;

        /// <summary>Only these images of the tree at -Path (wildcards allowed); all when omitted.</summary>
        [Parameter(Position = 1, ParameterSetName = ByPathSet)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageNameCompleter))]
        public string[]? Name { get; set; }

        /// <summary>
        /// Seconds one attempt of one registry request of the build may take (looking up parents in the tree's registry),
        /// answer included, before it counts as failed (and is tried again). Without it: the tree's registry_timeout
        /// (imagetools.yaml), else 60.
        /// </summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = RegistryOptions.DefaultTimeoutSec;

        /// <summary>How many images build at once; default: the tree's parallelism, else four per processor (at most 16).</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; }

        /// <summary>Build without the engine's layer cache.</summary>
        [Parameter]
        public SwitchParameter NoCache { get; set; }

        /// <summary>Pull every external base image first, so none builds on a stale local copy.</summary>
        [Parameter]
        public SwitchParameter Pull { get; set; }

        /// <summary>Build args over the tree's and the images' own, e.g. @{ HTTP_PROXY = 'http://proxy:3128' }.</summary>
        [Parameter]
        [ValidateNotNull]
        public Hashtable? BuildArg { get; set; }

        /// <summary>Directory for the per-image build logs; a new temp directory when omitted.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? LogPath { get; set; }

        /// <summary>A buildx builder (remote BuildKit) to build on; needs the buildx plugin, and a builder it cannot use stops the run before any build.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Builder { get; set; }

        /// <summary>docker-pkg's nightly build: the version tag gets a -yyyyMMdd suffix.</summary>
        [Parameter]
        public SwitchParameter Nightly { get; set; }

        /// <summary>
        /// Builds wait on the engine (context upload, a container and a commit per step) far more than
        /// they use this host's CPU: on 2 cores a 30-image tree built in 132 s one at a time, 73 s two,
        /// 48 s four and 32 s eight at a time (docs/benchmarks.md, peer.sh). Hence four per processor;
        /// at most 16, so a large host does not start dozens of memory-hungry builds at once.
        /// </summary>
        internal static int DefaultThrottleLimit => Math.Min(16, 4 * Environment.ProcessorCount);

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByNodeSet) _nodes.AddRange(InputObject);
            if (ParameterSetName != ByStatusSet) return;
            foreach (var status in Status)
            {
                _checked[status.Name] = status;
                (status.NeedsRebuild ? _nodes : _upToDate).Add(status.Node);
                foreach (var parent in status.Parents) _seenParents[parent.Name] = parent;
            }
        }

        protected override void EndProcessing()
        {
            var buildArgs = Hashtables.ToStrings(BuildArg);
            var digester = new Planning.BuildInputDigester(new Planning.FileHashCache(Planning.FileHashCache.DefaultPath()));
            ImageGraph graph;
            IReadOnlyList<ImageNode> selected;
            Planning.LegWork? leg = null;
            try
            {
                switch (ParameterSetName)
                {
                    case ByPathSet:
                        (graph, selected) = TreeSelection.FromPath(this, Path, Name, StopToken);
                        break;
                    case ByPlanSet:
                        graph = TreeSelection.Load(this, TreePaths.ResolveSingle(this, Path), StopToken);
                        leg = Planning.LegWork.Prepare(Planning.PlanFolder.Read(SessionState.Path.GetUnresolvedProviderPathFromPSPath(Plan)), Leg,
                            graph, digester, buildArgs, StopToken);
                        foreach (var (node, reason) in leg.Blocked)
                            Report(new BuildResult(node, BuildStatus.Skipped) { ErrorId = "DependencyFailed", Error = reason });
                        selected = leg.ToBuild;
                        break;
                    default:
                        (graph, selected) = TreeSelection.FromNodes(_nodes.Concat(_upToDate).ToList());
                        break;
                }
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
            if (selected.Count == 0) return;
            var upToDate = new HashSet<ImageNode>(_upToDate);
            foreach (var node in selected.Where(upToDate.Contains)) Report(BuildResult.UpToDate(node));

            var approved = selected.Where(n => !upToDate.Contains(n) && ShouldProcess(n.Reference, $"Build image (level {n.Level})")).ToList();
            if (approved.Count == 0)
            {
                WritePhaseTimings();
                return;
            }

            var options = new BuildOptions
            {
                ThrottleLimit = ThrottleLimit > 0 ? ThrottleLimit : graph.Tree.Config.Parallelism ?? DefaultThrottleLimit,
                NoCache = NoCache,
                Pull = Pull,
                BuildArgs = buildArgs,
                InputDigester = digester,
                // Computed once this run: by the check (when made with the same build args) or by the leg's check against its plan.
                InputsDigests = leg?.InputsDigests ?? _checked.Values.Where(status => Dictionaries.SameEntries(status.BuildArgs, buildArgs))
                    .ToDictionary(status => status.Name, status => status.InputsDigest, StringComparer.Ordinal),
                LogDirectory = LogPath == null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(LogPath),
                Builder = Builder,
                TagSuffix = Nightly ? "-" + DateTime.Now.ToString("yyyyMMdd", CultureInfo.InvariantCulture) : null,
                PublishedParents = leg?.Parents ?? _seenParents.Values.ToList(),
                PowerShell = PowerShellHost.StartCommand(this),
            };
            // Parents the check did not report (images from Get-ImageGraph or -Path) are looked up in the registry at build time.
            var parentOptions = RegistryOptions.For(graph.Tree.Config, null, timeoutSec: RegistryOptions.TimeoutGiven(this, TimeoutSec));
            parentOptions.Progress = new Registry.RegistryEventLines(_registryLines);
            using var parentSource = graph.Tree.Config.Registry == null ? null : new Planning.RegistryImageSource(parentOptions);
            options.ParentSource = parentSource;
            RunBuild(graph, approved, options);
        }

        /// <summary>Worker threads only queue events; this thread writes them, as PowerShell requires.</summary>
        private void RunBuild(ImageGraph graph, IReadOnlyList<ImageNode> nodes, BuildOptions options)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var events = new BlockingCollection<(BuildEvent Event, TimeSpan At)>();
            var engine = Docker.Api.DockerEngineFactory.Create(credentials: RegistryOptions.CredentialsFor(graph.Tree.Config, null));
            // Disposed when the method returns, which is only after the build task has ended (see below).
            using var engineLifetime = engine as IDisposable;
            var builder = new ImageBuilder(engine, options, new QueueProgress(events, clock));
            WriteVerbose($"Building {nodes.Count} images, {options.ThrottleLimit} at a time");
            var started = DateTime.UtcNow;
            var build = Task.Run(async () =>
            {
                try { return await builder.BuildAsync(graph, nodes, StopToken).ConfigureAwait(false); }
                finally { events.CompleteAdding(); }
            });

            var progress = new BuildProgress("Invoke-ImageBuild", nodes.Select(n => n.Name));
            // Verification runs inside each image's build, in parallel: its time is the sum, per image,
            // from the builder's "Verifying" event to the image's result (tagging, which is quick, included).
            var verifyStarted = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
            var verifying = TimeSpan.Zero;
            var drained = false;
            try
            {
                foreach (var (item, at) in events.GetConsumingEnumerable())
                {
                    foreach (var line in progress.On(item)) WriteProgress(ToRecord(line));
                    if (item.Result == null && item.Message.StartsWith("Verifying ", StringComparison.Ordinal)) verifyStarted[item.Name] = at;
                    else if (item.Result != null && verifyStarted.TryGetValue(item.Name, out var since)) verifying += at - since;
                    if (item.IsWarning) WriteImageWarning(item.Message);
                    else if (item.Result == null) WriteVerbose(item.Message);
                    else Report(item.Result);
                }
                drained = true;
            }
            finally
            {
                // A write can throw: WriteError under -ErrorAction Stop (the default of Azure Pipelines'
                // PowerShell task), or a stopped pipeline downstream (Select-Object -First). StopProcessing
                // is not called then, so the run is stopped here; else it would go on building and tagging
                // in the background after the command had failed.
                if (!drained)
                {
                    CancelRun();
                    try { build.GetAwaiter().GetResult(); }
                    catch (Exception) { }
                }
            }
            foreach (var line in progress.Complete()) WriteProgress(ToRecord(line));
            _registryLines.WriteVerbose(this);

            IReadOnlyList<BuildResult> results;
            try { results = build.GetAwaiter().GetResult(); }
            catch (ImageToolsException e)
            {
                ThrowTerminating(e);
                return;
            }
            catch (OperationCanceledException) { return; }
            var counts = string.Join(", ", results.GroupBy(r => r.Status).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}"));
            WriteVerbose($"Done in {DateTime.UtcNow - started:hh\\:mm\\:ss}: {counts}. Logs: {builder.LogDirectory}");
            Phases.Add("build", clock.Elapsed, $"{nodes.Count} images, {options.ThrottleLimit} at a time, verification included");
            Phases.Add("verify", verifying, $"{verifyStarted.Count} images, summed over parallel builds");
            WritePhaseTimings();
        }

        private void Report(BuildResult result)
        {
            WriteObject(result);
            switch (result.Status)
            {
                case BuildStatus.Failed:
                    WriteImageError(new ImageToolsException(result.ErrorId ?? "BuildFailed", FaultKind.InvalidOperation, result.Error ?? "The build failed.", imageName: result.Name));
                    break;
                case BuildStatus.Skipped:
                    WriteImageWarning($"{result.Reference}: skipped. {result.Error}");
                    break;
                default:
                    WriteVerbose($"{result.Reference}: {result.Status} in {result.Duration.TotalSeconds:F1}s ({result.ImageId})");
                    break;
            }
        }


        private static ProgressRecord ToRecord(ProgressLine line) => new ProgressRecord(line.Id, line.Activity, line.Status)
        {
            ParentActivityId = line.ParentId,
            PercentComplete = line.Percent,
            RecordType = line.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        };

        /// <summary>Stamps each event when the builder reports it (on its thread), not when this thread gets to it.</summary>
        private sealed class QueueProgress : IProgress<BuildEvent>
        {
            private readonly BlockingCollection<(BuildEvent, TimeSpan)> _queue;
            private readonly System.Diagnostics.Stopwatch _clock;
            public QueueProgress(BlockingCollection<(BuildEvent, TimeSpan)> queue, System.Diagnostics.Stopwatch clock)
            {
                _queue = queue;
                _clock = clock;
            }
            public void Report(BuildEvent value) => _queue.Add((value, _clock.Elapsed));
        }
    }
}
