using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using ImageTools.Definitions;
using ImageTools.Promotion;
using ImageTools.Registry;

namespace ImageTools.Commands
{
    /// <summary>
    /// Copies an image or a multi-platform index from one registry or repository to others without rebuilding and without a
    /// container engine (pubtools-quay's tag-images and push): the digest stays the same. All or nothing: every blob and manifest
    /// goes to every destination by digest first and is checked there, and only then do the tags move; if anything fails before,
    /// no destination tag changes. A destination tag that holds an index with other platforms is merged (a new digest).
    /// </summary>
    /// <remarks>
    /// Within one registry blobs are mounted from the source repository (nothing is sent); between registries they are streamed
    /// from the source into the destination's upload. Blobs the destination already has are skipped. The source is read with
    /// -SourceCredential, the destination written with -Credential; without them, the DOCKER_LOGIN line naming the registry,
    /// then (destination only) IMAGETOOLS_REGISTRY_USERNAME/PASSWORD, then Docker's config.json and credential helpers.
    /// </remarks>
    /// <example>
    /// <code>Copy-Image -Source registry.example.org/team/app:1.4 -Destination quay.example.com/team/app:1.4, quay.example.com/team/app:latest -SourceCredential $ci -Credential $quay</code>
    /// <para>Promotes the image (or index) to another registry under two tags, with a credential for each side; its digest is the same there.</para>
    /// </example>
    /// <example>
    /// <code>Copy-Image registry.example.org/staging/app@sha256:4f1c... registry.example.org/prod/app:2.0</code>
    /// <para>Copies by digest within one registry: every blob is mounted from the staging repository, none is sent.</para>
    /// </example>
    /// <example>
    /// <code>Import-Csv promotions.csv | Copy-Image -WhatIf</code>
    /// <para>Rows with Source and Destination columns, one run: shows what each destination would get (digest, platforms, merges) and writes nothing.</para>
    /// </example>
    /// <example>
    /// <code>Copy-Image reg.example.org/app:1.0-arm64-index reg.example.org/app:1.0 -NoMerge</code>
    /// <para>Replaces the index under 1.0 by the source's instead of merging its other platforms in.</para>
    /// </example>
    [Cmdlet(VerbsCommon.Copy, "Image", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(CopiedImage))]
    public sealed class CopyImageCommand : ImageToolsCmdlet
    {
        private readonly List<CopyRequest> _requests = new List<CopyRequest>();
        private readonly BlockingCollection<string> _events = new BlockingCollection<string>();

        /// <summary>The image or index to copy: registry/repository:tag or registry/repository@digest.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Source { get; set; } = null!;

        /// <summary>
        /// Where to: registry/repository:tag references; several for one repository give it several tags (each destination its
        /// own tag list). A reference without a tag gets the source's tag (none for a source by digest: copied by digest only).
        /// </summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Destination { get; set; } = null!;

        /// <summary>The credential the source registry is read with; else DOCKER_LOGIN, then Docker's config.json for that registry.</summary>
        [Parameter]
        [Credential]
        [ValidateNotNull]
        public PSCredential? SourceCredential { get; set; }

        /// <summary>The credential the destination registries are written with; else DOCKER_LOGIN, IMAGETOOLS_REGISTRY_USERNAME/PASSWORD, then config.json.</summary>
        [Parameter]
        [Credential]
        [ValidateNotNull]
        public PSCredential? Credential { get; set; }

        /// <summary>Replace a destination index that holds other platforms instead of merging them in (merging is the default, as pubtools-quay's).</summary>
        [Parameter]
        public SwitchParameter NoMerge { get; set; }

        /// <summary>How many blobs move at once, over every destination.</summary>
        [Parameter]
        [ValidateRange(1, 32)]
        public int ThrottleLimit { get; set; } = 4;

        /// <summary>How often a registry request that failed for a transient reason (connection error, timeout, 429, 5xx) is tried again; never after 401, 403 or 404.</summary>
        [Parameter]
        [ValidateRange(0, 10)]
        public int MaximumRetryCount { get; set; } = 3;

        /// <summary>Seconds to wait before the first retry; each further wait doubles.</summary>
        [Parameter]
        [ValidateRange(0, 300)]
        public double RetryIntervalSec { get; set; } = 0.5;

        /// <summary>Seconds one attempt of one registry request (or one read of a streamed blob) may take before it counts as failed; 60 by default.</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = RegistryOptions.DefaultTimeoutSec;

        /// <summary>Registries (host or host:port) that may be spoken to over plain HTTP; loopback always may.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? InsecureRegistry { get; set; }

        /// <summary>A PEM file of CA certificates trusted besides the system's, for registries with a private CA.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? CaBundle { get; set; }

        protected override void ProcessRecord()
        {
            try { _requests.Add(CopyRequest.Parse(Source, Destination)); }
            catch (ImageToolsException e) { ThrowTerminating(e); }
        }

        protected override void EndProcessing()
        {
            try
            {
                using var copier = new ImageCopier(NewClient, new CopyOptions { ThrottleLimit = ThrottleLimit, Merge = !NoMerge, Progress = new QueueProgress(_events) });
                var plan = Task.Run(() => copier.PlanAsync(_requests, StopToken)).GetAwaiter().GetResult();
                DrainEvents();
                var approved = new List<PlannedDestination>();
                var any = false;
                foreach (var destination in plan.Destinations)
                {
                    // A destination that cannot be copied is part of the run all the same: it fails, and holds back the others' tags.
                    if (destination.Copy.Error != null || destination.Error != null) approved.Add(destination);
                    else if (ShouldProcess(Target(destination), destination.Action))
                    {
                        approved.Add(destination);
                        any = true;
                    }
                }
                if (!any)
                {
                    foreach (var error in approved.Select(d => d.Copy.Error ?? d.Error!).Distinct()) WriteImageError(error);
                    return;
                }
                var progress = new ProgressRecord(1, "Copy-Image", $"Copying to {approved.Count} destinations");
                WriteProgress(progress);
                IReadOnlyList<CopiedImage> results;
                try { results = RunWithMilestones(() => copier.RunAsync(plan, approved, StopToken)); }
                finally
                {
                    progress.RecordType = ProgressRecordType.Completed;
                    WriteProgress(progress);
                }
                foreach (var result in results) Emit(result);
            }
            catch (ImageToolsException e) { ThrowTerminating(e); }
            catch (OperationCanceledException) { }
        }

        private static string Target(PlannedDestination destination) =>
            destination.Destination.Tags.Count == 0 ? $"{destination.Destination.Name}@{destination.Copy.Root?.Digest}"
                : $"{destination.Destination.Name}:{string.Join(", ", destination.Destination.Tags)}";

        /// <summary>One client per registry and side: the side's credential, the run's retries, timeout and TLS settings, verbose lines.</summary>
        private RegistryClient NewClient(string registry, CopySide side)
        {
            var options = Planning.TreeRegistryOptions.For(TreeConfig.Empty, CredentialsFor(registry, side),
                new RetryPolicy(MaximumRetryCount + 1, TimeSpan.FromSeconds(RetryIntervalSec)));
            options.RequestTimeout = TimeSpan.FromSeconds(TimeoutSec);
            options.InsecureRegistries = InsecureRegistry ?? new string[0];
            options.CaBundlePath = CaBundle == null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(CaBundle);
            options.Progress = new RegistryEventLines(new QueueProgress(_events));
            return new RegistryClient(registry, options);
        }

        /// <summary>
        /// The side's parameter; else the environment's login for that registry (DOCKER_LOGIN; for the destination, the registry
        /// pushed to, also IMAGETOOLS_REGISTRY_USERNAME/PASSWORD, as Publish-Image takes them); else null: Docker's configuration.
        /// </summary>
        private IRegistryCredentialSource? CredentialsFor(string registry, CopySide side)
        {
            if (side == CopySide.Source && SourceCredential != null)
                return new ExplicitCredentialSource(SourceCredential.UserName, SourceCredential.GetNetworkCredential().Password, "-SourceCredential");
            if (side == CopySide.Destination && Credential != null) return RegistryOptions.Credentials(Credential);
            Func<string, string?> environment = side == CopySide.Destination ? Environment.GetEnvironmentVariable
                : name => name == TreeCredentialSource.DockerLoginVariable ? Environment.GetEnvironmentVariable(name) : null;
            return TreeCredentialSource.For(registry, null, null, "Copy-Image", environment, new DockerConfigCredentialSource());
        }

        private void Emit(CopiedImage result)
        {
            foreach (var warning in result.Warnings) WriteImageWarning(warning);
            WriteObject(result);
            if (result.Status == CopyStatus.Failed)
                WriteImageError(new ImageToolsException(result.ErrorId ?? "CopyFailed", FaultKind.InvalidOperation, result.Error ?? "The copy failed.", imageName: result.Reference));
            else if (result.Error != null)
                WriteImageWarning($"{result.Reference}: {result.Status}. {result.Error}");
            else
                WriteVerbose($"{result.Reference}: {result.Status} ({result.Digest}{(result.Merged ? $", merged with {string.Join(", ", result.KeptPlatforms)}: not the source digest {result.SourceDigest}" : "")})");
        }

        private void DrainEvents()
        {
            while (_events.TryTake(out var line)) WriteVerbose(line);
        }

        /// <summary>Runs the copy on a worker and writes its milestones as verbose lines from this thread while it runs (as Publish-Image).</summary>
        private IReadOnlyList<CopiedImage> RunWithMilestones(Func<Task<IReadOnlyList<CopiedImage>>> run)
        {
            var work = Task.Run(async () =>
            {
                try { return await run().ConfigureAwait(false); }
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
                if (!drained)
                {
                    CancelRun();
                    try { work.GetAwaiter().GetResult(); }
                    catch (Exception) { }
                }
            }
            return work.GetAwaiter().GetResult();
        }

        private sealed class QueueProgress : IProgress<string>
        {
            private readonly BlockingCollection<string> _queue;
            public QueueProgress(BlockingCollection<string> queue) => _queue = queue;
            public void Report(string value)
            {
                try { _queue.Add(value); }
                catch (InvalidOperationException) { }
            }
        }
    }
}
