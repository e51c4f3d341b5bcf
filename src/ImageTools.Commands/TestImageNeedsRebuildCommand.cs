using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using ImageTools.Engines;
using ImageTools.Graph;
using ImageTools.Planning;

namespace ImageTools.Commands
{
    /// <summary>
    /// Tells for each image whether it needs a rebuild, with every reason, by comparing its build
    /// inputs and bases with the labels of the published image. Without a registry in the tree's
    /// config, the local engine is the place of record.
    /// </summary>
    /// <example>
    /// <code>Get-ImageGraph ./images | Test-ImageNeedsRebuild | Where-Object NeedsRebuild | Format-Table</code>
    /// <para>A dry run: every image that would be rebuilt and why, cascades included.</para>
    /// </example>
    /// <example>
    /// <code>Get-ImageGraph ./images | Test-ImageNeedsRebuild -ForceName debian:bookworm</code>
    /// <para>Forces every image that builds on the external base debian:bookworm (docker_build's forcing by base); their dependents follow.</para>
    /// </example>
    /// <example>
    /// <code>Get-ImageGraph ./images | Test-ImageNeedsRebuild -All -ForceName base</code>
    /// <para>Forces every image except base (docker_build's xor semantics).</para>
    /// </example>
    [Cmdlet(VerbsDiagnostic.Test, "ImageNeedsRebuild", DefaultParameterSetName = ByNodeSet)]
    [OutputType(typeof(RebuildStatus))]
    public sealed class TestImageNeedsRebuildCommand : ImageToolsCmdlet
    {
        public const string ByNodeSet = "ByNode";
        public const string ByPathSet = "ByPath";
        private readonly List<ImageNode> _nodes = new List<ImageNode>();

        /// <summary>Images from Get-ImageGraph.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByNodeSet)]
        [ValidateNotNull]
        public ImageNode[] InputObject { get; set; } = null!;

        /// <summary>The root of the image tree, to test without Get-ImageGraph.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByPathSet)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = null!;

        /// <summary>Only these images of the tree at -Path (wildcards allowed); all when omitted.</summary>
        [Parameter(Position = 1, ParameterSetName = ByPathSet)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageNameCompleter))]
        public string[]? Name { get; set; }

        /// <summary>
        /// Images to rebuild regardless (wildcards allowed), or an external base (e.g. debian:bookworm): every image
        /// that builds on it. With -All: every image but these. A name that matches nothing is an error.
        /// </summary>
        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageNameCompleter))]
        public string[]? ForceName { get; set; }

        /// <summary>Rebuild every image (except those named by -ForceName).</summary>
        [Parameter]
        public SwitchParameter All { get; set; }

        /// <summary>The build args Invoke-ImageBuild will get: they are build inputs too.</summary>
        [Parameter]
        [ValidateNotNull]
        public Hashtable? BuildArg { get; set; }

        /// <summary>Compare with the local engine's images even when the tree names a registry.</summary>
        [Parameter]
        public SwitchParameter Local { get; set; }

        /// <summary>Credentials for the registry; else Docker's config.json (auths, credsStore, credHelpers), else anonymous.</summary>
        [Parameter]
        [Credential]
        [ValidateNotNull]
        public PSCredential? Credential { get; set; }

        /// <summary>How many look-ups run at once.</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 32;

        /// <summary>What the registry client did that the user should hear of, written after the check.</summary>
        private readonly LaterLines _registryLines = new LaterLines();

        /// <summary>Seconds one attempt of one registry request may take, answer included, before it counts as failed (and is tried again). Without it: the tree's registry_timeout (imagetools.yaml), else 60.</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = RegistryOptions.DefaultTimeoutSec;

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByNodeSet) _nodes.AddRange(InputObject);
        }

        protected override void EndProcessing()
        {
            try
            {
                var (graph, selected) = ParameterSetName == ByNodeSet ? TreeSelection.FromNodes(_nodes) : TreeSelection.FromPath(this, Path, Name, StopToken);
                if (selected.Count == 0) return;
                var source = SourceFor(graph);
                var forced = Forced(graph);
                var planner = new RebuildPlanner(source, new BuildInputDigester(new FileHashCache(FileHashCache.DefaultPath())), new RebuildOptions
                {
                    Forced = forced,
                    All = All,
                    BuildArgs = Hashtables.ToStrings(BuildArg),
                    ThrottleLimit = ThrottleLimit,
                });
                WriteVerbose($"Comparing {selected.Count} images with {source.Description}");
                using var closeClients = source as IDisposable;
                // The planner reports no per-image progress; one record says that the comparison is under way.
                var progress = new ProgressRecord(1, "Test-ImageNeedsRebuild", $"Comparing {selected.Count} images with {source.Description}");
                WriteProgress(progress);
                IReadOnlyList<RebuildStatus> plan;
                var watch = System.Diagnostics.Stopwatch.StartNew();
                try { plan = Task.Run(() => planner.PlanAsync(graph, selected, StopToken)).GetAwaiter().GetResult(); }
                finally
                {
                    progress.RecordType = ProgressRecordType.Completed;
                    WriteProgress(progress);
                    // Retries and work-arounds are worth knowing most when the check failed.
                    _registryLines.WriteVerbose(this);
                }
                Phases.Add("plan", watch.Elapsed, $"{selected.Count} images against {source.Description}");
                foreach (var warning in planner.Warnings) WriteImageWarning(warning);
                foreach (var status in plan)
                {
                    WriteVerbose(status.NeedsRebuild
                        ? $"{status.Reference}: needs a rebuild. {string.Join(" ", status.Details)}"
                        : $"{status.Reference}: up to date (inputs {status.InputsDigest}).");
                    if (status.VersionBumpNeeded)
                        WriteImageWarning($"{status.Reference}: its inputs changed but its version did not; publishing it needs a new version (Update-ImageChangelog).");
                    WriteObject(status);
                }
                WritePhaseTimings();
            }
            catch (ImageToolsException e) { ThrowTerminating(e); }
            catch (OperationCanceledException) { }
        }

        /// <summary>
        /// The images -ForceName names: tree images by name (wildcards), and every image that builds on an external
        /// base it names (docker_build's forcing by base, e.g. debian:bookworm). A name that matches neither stops the
        /// check, as in docker_build: a typo must not quietly force nothing.
        /// </summary>
        private string[] Forced(ImageGraph graph)
        {
            var forced = new HashSet<string>(StringComparer.Ordinal);
            foreach (var pattern in ForceName ?? new string[0])
            {
                var wildcard = WildcardPattern.Get(pattern, WildcardOptions.IgnoreCase);
                var matched = graph.Nodes.Where(n => wildcard.IsMatch(n.Name)).ToList();
                if (matched.Count == 0 && References.ImageReference.TryParse(pattern, out var reference, out _)) matched.AddRange(graph.UsersOfBase(reference!));
                if (matched.Count == 0)
                    throw new ImageToolsException("ForcedNameNotFound", FaultKind.ObjectNotFound,
                        $"-ForceName '{pattern}' names no image of the tree at {graph.Tree.Root} and no external base its images build on. " +
                        "Name an image (wildcards allowed) or a base as its Dockerfiles write it, e.g. debian:bookworm.", graph.Tree.Root);
                forced.UnionWith(matched.Select(n => n.Name));
            }
            return forced.ToArray();
        }

        private IPublishedImageSource SourceFor(ImageGraph graph)
        {
            var config = graph.Tree.Config;
            if (config.Registry == null || Local) return new LocalEngineImageSource(Docker.Api.DockerEngineFactory.Create());
            var options = RegistryOptions.For(config, Credential, timeoutSec: RegistryOptions.TimeoutGiven(this, TimeoutSec));
            options.Progress = new Registry.RegistryEventLines(_registryLines);
            return new RegistryImageSource(options);
        }

    }
}
