using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Building;
using ImageTools.Definitions;
using ImageTools.Engines;
using ImageTools.Graph;
using ImageTools.References;
using ImageTools.Registry;

namespace ImageTools.Publishing
{
    internal sealed class PublishRunOptions
    {
        /// <summary>How to start the PowerShell that runs the module, for test.ps1 checks; "pwsh" when null.</summary>
        public IReadOnlyList<string>? PowerShell { get; set; }
        /// <summary>A directory of docker-archive tars to publish to; null: the tree's registry.</summary>
        public string? ArchiveDirectory { get; set; }
        /// <summary>
        /// What the registry client authenticates with (-Credential); null: Docker's config.json, then anonymous.
        /// The one credential path: only the registry client talks to the registry (uploads and tag moves); the
        /// engine inspects, saves and verifies, and needs none.
        /// </summary>
        public IRegistryCredentialSource? Credentials { get; set; }
        /// <summary>No tag moves unless every image of the run was built, verified and uploaded; off: -NonAtomic.</summary>
        public bool Atomic { get; set; } = true;
        public bool AllowOverwrite { get; set; }
        public int ThrottleLimit { get; set; } = 4;
        /// <summary>Retries of a request that failed for a transient reason (never after 401, 403 or 404).</summary>
        public int MaximumRetryCount { get; set; } = 3;
        /// <summary>The wait before the first retry; each further wait doubles.</summary>
        public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(0.5);
        /// <summary>How long one attempt of one registry request may take (Publish-Image -TimeoutSec).</summary>
        public TimeSpan? RequestTimeout { get; set; }
        /// <summary>Milestones for the verbose stream: each verification, and each tag as it moves.</summary>
        public IProgress<string>? Progress { get; set; }
        /// <summary>Tests put an in-memory registry behind the client.</summary>
        public Func<HttpMessageHandler, HttpMessageHandler>? WrapHandler { get; set; }
    }

    /// <summary>What a run would publish, for the caller to approve image by image (ShouldProcess) before <see cref="PublishRun.PublishAsync"/>.</summary>
    internal sealed class PublishSelection
    {
        internal PublishSelection(IReadOnlyList<ImageToPublish> images, IReadOnlyList<UnpublishableImage> unpublishable, ISet<ImageToPublish> fromEngine,
            string destination, string action)
        {
            Images = images;
            Unpublishable = unpublishable;
            FromEngine = fromEngine;
            Destination = destination;
            Action = action;
        }

        /// <summary>The images that can be published, in the order given (dependency order).</summary>
        public IReadOnlyList<ImageToPublish> Images { get; }
        /// <summary>Images of the run that cannot be published (failed, skipped, missing locally); in an atomic run they hold back every tag.</summary>
        public IReadOnlyList<UnpublishableImage> Unpublishable { get; }
        /// <summary>The registry or the archive directory.</summary>
        public string Destination { get; }
        /// <summary>What publishing does to each image, in words for -WhatIf and -Confirm.</summary>
        public string Action { get; }
        /// <summary>Up-to-date images taken from the local engine: verified before any tag of the run moves.</summary>
        public ISet<ImageToPublish> FromEngine { get; }
    }

    /// <summary>
    /// One Publish-Image run: the results of a build (and images from the graph) become images to publish
    /// or images that hold the run back; up-to-date images taken from the local engine are verified as a
    /// build verifies (a failure holds the run back like a failed build); then the registry publisher (or
    /// the archive publisher) does the rest. The cmdlet binds, approves each image and translates results.
    /// </summary>
    internal sealed class PublishRun
    {
        private readonly IContainerEngine _engine;
        private readonly PublishRunOptions _options;

        public PublishRun(IContainerEngine engine, PublishRunOptions options)
        {
            _engine = engine;
            _options = options;
        }

        /// <summary>
        /// Sorts the run: Built results publish their image; UpToDate results and <paramref name="nodes"/> publish
        /// what the local engine holds under their reference; anything else cannot be published.
        /// Throws NoRegistry when there is something to publish to a registry and the tree names none.
        /// </summary>
        public async Task<PublishSelection> PrepareAsync(IEnumerable<BuildResult> results, IEnumerable<ImageNode> nodes, CancellationToken cancellationToken)
        {
            var images = new List<ImageToPublish>();
            var fromEngine = new HashSet<ImageToPublish>();
            var unpublishable = new List<UnpublishableImage>();
            var local = new List<ImageNode>();
            foreach (var result in results)
            {
                if (result.Status == BuildStatus.Built && result.ImageId != null) images.Add(new ImageToPublish(result.Node, result.ImageId, result.Tag, result.Platform, result.EngineVersion));
                else if (result.Status == BuildStatus.UpToDate) local.Add(result.Node);
                else
                    unpublishable.Add(new UnpublishableImage(result.Node, result.Reference, "ImageNotBuilt",
                        $"{result.Reference} was {result.Status.ToString().ToLowerInvariant()}, so it is not published. {result.Error}"));
            }
            foreach (var node in local.Concat(nodes))
            {
                var held = await _engine.InspectAsync(node.Reference, cancellationToken).ConfigureAwait(false);
                if (held == null)
                {
                    unpublishable.Add(new UnpublishableImage(node, node.Reference, "ImageNotBuilt",
                        $"{node.Reference} is not in the local engine, so it cannot be published. Build it first (Invoke-ImageBuild)."));
                    continue;
                }
                var image = new ImageToPublish(node, held.Id);
                images.Add(image);
                fromEngine.Add(image);
            }
            if (_options.ArchiveDirectory != null)
                return new PublishSelection(images, unpublishable, fromEngine, _options.ArchiveDirectory, $"Save image to the archive {_options.ArchiveDirectory}");
            var registry = images.Count == 0 ? "" : RegistryOf(images[0].Node.Graph.Tree.Config);
            var tags = (_options.Atomic ? "once every image of the run is uploaded, " : "") + "move its version, latest and extra tags";
            return new PublishSelection(images, unpublishable, fromEngine, registry, $"Push to {registry}; {tags}");
        }

        private static string RegistryOf(TreeConfig config) => config.Registry ??
            throw new ImageToolsException("NoRegistry", FaultKind.InvalidArgument,
                $"The tree has no registry to publish to. Set 'registry' in {TreeConfig.FileName}, or pass -ArchivePath.");

        /// <summary>
        /// Publishes the approved images of the selection; its other images count as part of the run only
        /// through <see cref="PublishSelection.Unpublishable"/> (an image left unapproved is not published, and holds
        /// nothing back). Results: one per approved image, then one per image that could not be published.
        /// </summary>
        public async Task<IReadOnlyList<PublishResult>> PublishAsync(PublishSelection selection, IEnumerable<ImageToPublish> approved, CancellationToken cancellationToken)
        {
            var chosen = approved.ToList();
            if (chosen.Count == 0) return Array.Empty<PublishResult>();
            var failedVerification = await VerifyAsync(chosen.Where(selection.FromEngine.Contains).ToList(), cancellationToken).ConfigureAwait(false);
            var ready = chosen.Where(i => !failedVerification.ContainsKey(i)).ToList();
            var unpublishable = selection.Unpublishable.Concat(failedVerification.Values).ToList();

            if (_options.ArchiveDirectory != null)
            {
                var archived = ready.Count == 0 ? Array.Empty<PublishResult>()
                    : await new ArchivePublisher(_engine, _options.ArchiveDirectory).PublishAsync(ready, cancellationToken).ConfigureAwait(false);
                return archived.Concat(failedVerification.Values.Select(u => Refused(u, selection.Destination))).ToList();
            }

            var config = chosen[0].Node.Graph.Tree.Config;
            if (config.ExtraRepositories.Count == 0)
            {
                using var client = new RegistryClient(RegistryOf(config), ClientOptions(config));
                return await new RegistryPublisher(_engine, client, PublisherOptions(stageOnly: false)).PublishAsync(ready, unpublishable, cancellationToken).ConfigureAwait(false);
            }
            return await PublishToEveryRepositoryAsync(config, ready, unpublishable, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// The tree's repositories and its extra ones as one run: every image staged by digest in every repository
        /// first, then, only when every image got into every one (unless not atomic), every tag in each, as a plan's
        /// promote moves them. An image that failed anywhere holds back every tag everywhere.
        /// </summary>
        private async Task<IReadOnlyList<PublishResult>> PublishToEveryRepositoryAsync(TreeConfig config, IReadOnlyList<ImageToPublish> ready,
            IReadOnlyList<UnpublishableImage> unpublishable, CancellationToken cancellationToken)
        {
            var clientOptions = ClientOptions(config);
            var destinations = new[] { RegistryOf(config) + (config.Namespace == null ? "" : "/" + config.Namespace) }.Concat(config.ExtraRepositories)
                .Distinct(StringComparer.Ordinal).ToList();
            var clients = new List<RegistryClient>();
            try
            {
                var failures = new List<UnpublishableImage>(unpublishable);
                var staged = new List<(RegistryClient Client, List<(ImageToPublish Image, PublishResult Result)> Images)>();
                var results = new List<PublishResult>();
                foreach (var destination in destinations)
                {
                    var slash = destination.IndexOf('/');
                    var (registry, ns) = slash < 0 ? (destination, (string?)null) : (destination.Substring(0, slash), destination.Substring(slash + 1));
                    var client = new RegistryClient(registry, clientOptions);
                    clients.Add(client);
                    var images = ready.Select(i => i.To(ImageReference.FromParts(registry, ns == null ? i.Node.Name : ns + "/" + i.Node.Name, tag: null))).ToList();
                    var outcome = await new RegistryPublisher(_engine, client, PublisherOptions(stageOnly: true)).PublishAsync(images, cancellationToken).ConfigureAwait(false);
                    var pairs = images.Zip(outcome, (image, result) => (image, result)).ToList();
                    foreach (var (image, result) in pairs.Where(p => p.result.Status != PublishStatus.Staged))
                    {
                        results.Add(result);
                        failures.Add(new UnpublishableImage(image.Node, image.Reference, result.ErrorId ?? "PublishFailed", result.Error ?? "Uploading failed."));
                    }
                    staged.Add((client, pairs.Where(p => p.result.Status == PublishStatus.Staged).ToList()));
                }
                for (var i = 0; i < staged.Count; i++)
                {
                    var (client, images) = staged[i];
                    // An equivalent build was staged as the image its version tag already holds: that one is promoted.
                    var promoted = await new RegistryPublisher(_engine, client, PublisherOptions(stageOnly: false)).PromoteAsync(
                        images.Select(p => (p.Image.WithImageId(p.Result.Digest!), p.Result.ManifestDigest!, p.Image.Platform)).ToList(),
                        failures, cancellationToken).ConfigureAwait(false);
                    // PromoteAsync answers for its images first, then for each failure it was given: those that came in
                    // with the run are reported once, with the first repository; upload failures were reported above.
                    results.AddRange(promoted.Take(images.Count));
                    if (i == 0) results.AddRange(promoted.Skip(images.Count).Where(r => unpublishable.Any(u => u.Node.Name == r.Name)));
                }
                return results;
            }
            finally
            {
                foreach (var client in clients) client.Dispose();
            }
        }

        /// <summary>
        /// A leg of a fanned-out run (Publish-Image -Plan -Stage): the leg's built images uploaded by digest, no tag moved,
        /// and its record written into the plan folder; images that were not built are recorded as such. The record's path comes back too.
        /// </summary>
        public async Task<(IReadOnlyList<PublishResult> Results, string RecordPath)> StageLegAsync(PlanPublisher plan, string leg, IReadOnlyList<BuildResult> results,
            CancellationToken cancellationToken)
        {
            var config = results[0].Node.Graph.Tree.Config;
            var images = results.Where(r => r.Status == BuildStatus.Built && r.ImageId != null)
                .Select(r => new ImageToPublish(r.Node, r.ImageId!, r.Tag, r.Platform, r.EngineVersion)).ToList();
            var unpublishable = results.Where(r => !(r.Status == BuildStatus.Built && r.ImageId != null))
                .Select(r => new UnpublishableImage(r.Node, r.Reference, "ImageNotBuilt",
                    $"{r.Reference} was {r.Status.ToString().ToLowerInvariant()} on leg {leg}, so it is not staged. {r.Error}")).ToList();
            using var client = PlanClient(config);
            var stager = new RegistryPublisher(_engine, client, PublisherOptions(stageOnly: true));
            return await plan.StageAsync(leg, stager, _engine, images, unpublishable, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>The promote of a fanned-out run (Publish-Image -Path -Plan): every tag of the plan, all or none; the engine is not asked.</summary>
        public async Task<IReadOnlyList<PublishResult>> PromotePlanAsync(PlanPublisher plan, ImageGraph graph, CancellationToken cancellationToken)
        {
            using var client = PlanClient(graph.Tree.Config);
            return await plan.PromoteAsync(new RegistryPublisher(_engine, client, PublisherOptions(stageOnly: false)), graph, cancellationToken).ConfigureAwait(false);
        }

        private RegistryClient PlanClient(TreeConfig config)
        {
            if (config.Registry == null)
                throw new ImageToolsException("NoRegistry", FaultKind.InvalidArgument,
                    $"The tree has no registry to publish to; a fanned-out run hands images over through one. Set 'registry' in {TreeConfig.FileName}.");
            return new RegistryClient(config.Registry, ClientOptions(config));
        }

        /// <summary>The run's one retry policy: the registry client retries each request by it, and publishers are told it.</summary>
        private RetryPolicy Retry => new RetryPolicy(_options.MaximumRetryCount + 1, _options.RetryInterval);

        /// <summary>Every registry client of the run: the tree's TLS settings, the run's credentials, retries, timeout and verbose lines.</summary>
        private RegistryClientOptions ClientOptions(TreeConfig config)
        {
            var clientOptions = Planning.TreeRegistryOptions.For(config, _options.Credentials, Retry);
            clientOptions.WrapHandler = _options.WrapHandler;
            if (_options.RequestTimeout != null) clientOptions.RequestTimeout = _options.RequestTimeout.Value;
            clientOptions.Progress = _options.Progress == null ? null : new RegistryEventLines(_options.Progress);
            return clientOptions;
        }

        private RegistryPublishOptions PublisherOptions(bool stageOnly) => new RegistryPublishOptions
        {
            Atomic = _options.Atomic, AllowOverwrite = _options.AllowOverwrite, ThrottleLimit = _options.ThrottleLimit, Retry = Retry,
            Progress = _options.Progress, StageOnly = stageOnly,
        };

        /// <summary>Verifies images taken from the local engine (test.sh or the verify command, as a build does); the ones that failed, as unpublishable.</summary>
        private async Task<Dictionary<ImageToPublish, UnpublishableImage>> VerifyAsync(IReadOnlyList<ImageToPublish> images, CancellationToken cancellationToken)
        {
            var failed = new Dictionary<ImageToPublish, UnpublishableImage>();
            using var throttle = new SemaphoreSlim(_options.ThrottleLimit);
            var outcomes = await Task.WhenAll(images.Select(async image =>
            {
                await throttle.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    _options.Progress?.Report($"Verifying {image.Reference} ({image.ImageId}), taken from the local engine");
                    await Verifier.VerifyAsync(image.Node, image.ImageId, _engine, logPath: null, cancellationToken, _options.PowerShell).ConfigureAwait(false);
                    return null;
                }
                catch (ImageToolsException e)
                {
                    return new UnpublishableImage(image.Node, image.Reference, e.ErrorId, $"{image.Reference} was taken from the local engine and failed its verification: {e.Message}");
                }
                finally { throttle.Release(); }
            })).ConfigureAwait(false);
            for (var i = 0; i < images.Count; i++)
                if (outcomes[i] != null) failed[images[i]] = outcomes[i]!;
            return failed;
        }

        private static PublishResult Refused(UnpublishableImage image, string destination) =>
            new PublishResult(image.Node, image.Reference, destination) { Status = PublishStatus.Failed, ErrorId = image.ErrorId, Error = image.Reason };
    }
}
