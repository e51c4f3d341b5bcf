using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Publishing;
using ImageTools.References;
using ImageTools.Registry;

namespace ImageTools.Promotion
{
    internal enum CopySide { Source, Destination }

    internal sealed class CopyOptions
    {
        /// <summary>How many blobs move at once, over every destination.</summary>
        public int ThrottleLimit { get; set; } = 4;
        /// <summary>Merge into a destination index that holds other platforms (the default, as pubtools-quay); off: replace it (-NoMerge).</summary>
        public bool Merge { get; set; } = true;
        /// <summary>Each tag as it moves, and each decision worth a verbose line.</summary>
        public IProgress<string>? Progress { get; set; }
    }

    /// <summary>
    /// Copies images and indexes between repositories and registries without a container engine (Copy-Image,
    /// pubtools-quay's tag-images and push): the source's manifest bytes are stored unchanged, so the digest stays.
    /// A run is all or nothing, as Publish-Image's: every blob and manifest goes to every destination by digest first
    /// (blobs the destination has are skipped; within one registry they are mounted from the source repository,
    /// else streamed from the source registry into the upload), each destination is checked by a HEAD of the digest,
    /// and only then do tags move, in <see cref="TagMoveOrder"/>'s order. Anything that fails before holds back every tag.
    /// Requests are sent, retried and timed by the registry clients given (one per registry and side, each with its
    /// own credential); destinations and blobs are worked on in parallel.
    /// </summary>
    internal sealed class ImageCopier : IDisposable
    {
        private readonly Func<string, CopySide, RegistryClient> _newClient;
        private readonly CopyOptions _options;
        private readonly ConcurrentDictionary<(string, CopySide), Lazy<RegistryClient>> _clients = new ConcurrentDictionary<(string, CopySide), Lazy<RegistryClient>>();

        /// <param name="newClient">A registry client for a registry (host[:port]) and side, made once per run and disposed with the copier.</param>
        /// <param name="options">Parallelism, merging, milestones.</param>
        public ImageCopier(Func<string, CopySide, RegistryClient> newClient, CopyOptions options)
        {
            _newClient = newClient;
            _options = options;
        }

        public void Dispose()
        {
            foreach (var client in _clients.Values.Where(c => c.IsValueCreated)) client.Value.Dispose();
        }

        private RegistryClient Client(ImageReference reference, CopySide side) =>
            _clients.GetOrAdd((reference.RegistryHost, side), key => new Lazy<RegistryClient>(() => _newClient(key.Item1, key.Item2))).Value;

        // ---------------------------------------------------------------- plan (reads only)

        /// <summary>Reads every source (its manifest, and an index's every entry) and what every destination tag holds; writes nothing.</summary>
        public async Task<CopyPlan> PlanAsync(IReadOnlyList<CopyRequest> requests, CancellationToken cancellationToken)
        {
            var copies = requests.Select(r => new PlannedCopy(r)).ToList();
            await Task.WhenAll(copies.Select(copy => PlanCopyAsync(copy, cancellationToken))).ConfigureAwait(false);
            return new CopyPlan(copies);
        }

        private async Task PlanCopyAsync(PlannedCopy copy, CancellationToken cancellationToken)
        {
            var request = copy.Request;
            foreach (var destination in request.Destinations) copy.Destinations.Add(new PlannedDestination(copy, destination));
            try
            {
                var source = Client(request.Source, CopySide.Source);
                var root = await source.GetManifestAsync(copy.SourceRepository, request.SourceReference, cancellationToken).ConfigureAwait(false)
                    ?? throw new ImageToolsException("CopySourceNotFound", FaultKind.ObjectNotFound,
                        $"The source {request.SourceText} is not in the registry {source.Registry}: it has no {(request.Source.Digest != null ? "manifest " + request.Source.Digest : "tag " + request.Source.Tag)} " +
                        $"in {copy.SourceRepository}. Check the reference, and that the source credential may read it.", imageName: request.SourceText);
                var children = new Dictionary<string, RegistryManifest>(StringComparer.Ordinal);
                await ReadChildrenAsync(source, copy, root, children, 0, cancellationToken).ConfigureAwait(false);
                copy.Root = root;
                copy.Children = children;
            }
            catch (ImageToolsException e)
            {
                copy.Error = e.ErrorId == "CopySourceNotFound" || e.ErrorId == "CopySourceIncomplete" ? e
                    : new ImageToolsException(e.ErrorId, e.Kind, $"Reading the source {request.SourceText}: {e.Reason}", imageName: request.SourceText, inner: e.InnerException ?? e);
                return;
            }
            await Task.WhenAll(copy.Destinations.Select(d => PlanDestinationAsync(d, cancellationToken))).ConfigureAwait(false);
        }

        private static async Task ReadChildrenAsync(RegistryClient source, PlannedCopy copy, RegistryManifest manifest, Dictionary<string, RegistryManifest> into, int depth,
            CancellationToken cancellationToken)
        {
            if (!manifest.IsIndex) return;
            if (depth > 4)
                throw new ImageToolsException("CopySourceIncomplete", FaultKind.InvalidData,
                    $"The source {copy.Request.SourceText} nests indexes more than four deep; it is not copied.", imageName: copy.Request.SourceText);
            var entries = await Task.WhenAll(manifest.Manifests.Select(entry => source.GetManifestAsync(copy.SourceRepository, entry.Digest, cancellationToken))).ConfigureAwait(false);
            for (var i = 0; i < entries.Length; i++)
            {
                var child = entries[i] ?? throw new ImageToolsException("CopySourceIncomplete", FaultKind.ObjectNotFound,
                    $"The source index {copy.Request.SourceText} ({manifest.Digest}) names {manifest.Manifests[i].Digest}, which {source.Registry} does not have in {copy.SourceRepository}. " +
                    "The index is broken at the source; push it again there.", imageName: copy.Request.SourceText);
                lock (into) into[child.Digest] = child;
                await ReadChildrenAsync(source, copy, child, into, depth + 1, cancellationToken).ConfigureAwait(false);
            }
        }

        private async Task PlanDestinationAsync(PlannedDestination planned, CancellationToken cancellationToken)
        {
            try
            {
                var client = Client(planned.Destination.Repository, CopySide.Destination);
                var current = await Task.WhenAll(planned.Destination.Tags.Select(tag => client.GetManifestAsync(planned.Repository, tag, cancellationToken))).ConfigureAwait(false);
                for (var i = 0; i < current.Length; i++)
                {
                    var tag = planned.Destination.Tags[i];
                    planned.Tags.Add((tag, current[i]?.Digest, IndexMerge.For(planned.Copy.Root!, current[i], _options.Merge, $"{planned.Destination.Name}:{tag}")));
                }
            }
            catch (ImageToolsException e)
            {
                planned.Error = new ImageToolsException(e.ErrorId, e.Kind, $"Reading the destination {planned.Destination.Name}: {e.Reason}",
                    imageName: planned.Destination.Name, inner: e.InnerException ?? e);
            }
        }

        // ---------------------------------------------------------------- run

        /// <summary>
        /// Copies the approved destinations of the plan: all by digest first, checked, then (only when every one of them
        /// got there, and every source of the run could be read) every tag. One result per destination and digest.
        /// </summary>
        public async Task<IReadOnlyList<CopiedImage>> RunAsync(CopyPlan plan, IReadOnlyList<PlannedDestination> approved, CancellationToken cancellationToken)
        {
            using var throttle = new SemaphoreSlim(_options.ThrottleLimit);
            var work = approved.Select(d => (Planned: d, Results: Results(d))).ToList();
            var staged = await Task.WhenAll(work.Select(async w =>
            {
                var error = w.Planned.Copy.Error ?? w.Planned.Error;
                if (error == null)
                {
                    try
                    {
                        var counts = await StageAsync(w.Planned, throttle, cancellationToken).ConfigureAwait(false);
                        foreach (var result in w.Results)
                        {
                            result.BlobsSkipped = counts.Skipped;
                            result.BlobsMounted = counts.Mounted;
                            result.BlobsCopied = counts.Copied;
                            result.BytesCopied = counts.Bytes;
                        }
                        return counts;
                    }
                    catch (ImageToolsException e) { error = e; }
                }
                foreach (var result in w.Results)
                {
                    result.Status = CopyStatus.Failed;
                    result.ErrorId = error.ErrorId;
                    result.Error = error.Message;
                }
                return null;
            })).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();

            var failed = work.Where((w, i) => staged[i] == null).Select(w => w.Planned.Destination.Name)
                .Concat(plan.Copies.Where(c => c.Error != null && !work.Any(w => w.Planned.Copy == c)).Select(c => c.Request.SourceText))
                .Distinct(StringComparer.Ordinal).ToArray();
            var groups = work.Where((w, i) => staged[i] != null)
                .SelectMany((w, i) => w.Planned.Groups.Select((g, j) => (w.Planned, Group: g, Result: w.Results[j], Counts: staged[work.IndexOf(w)]!))).ToList();
            // Past the hold-back check tags move without a stop: a stop between two moves would leave the run half-tagged.
            await TagMoveOrder.RunAsync(groups, atomic: true, anythingFailed: failed.Length > 0,
                holdBack: g =>
                {
                    g.Result.Status = CopyStatus.HeldBack;
                    g.Result.HeldBackBy = failed;
                    g.Result.Error = $"Copied by digest, but no tag moved: {string.Join(", ", failed)} of the same run failed (all or nothing). Fix it and copy again; " +
                        "what was copied is not sent again.";
                },
                moveFirst: async g =>
                {
                    try
                    {
                        await MoveTagsAsync(g.Planned, g.Group.Outcome, g.Group.Tags.Take(1), g.Result, g.Counts).ConfigureAwait(false);
                        return true;
                    }
                    catch (ImageToolsException e) { return TagMoveFailed(g.Result, e); }
                },
                othersHeldBack: (g, first) => g.Result.Error = $"Its first tag moved, but {string.Join(", ", g.Group.Tags.Skip(1))} did not: the first tag of " +
                    $"{string.Join(", ", first.Select(f => f.Result.Reference))} could not be moved. Copy again to complete them.",
                moveOthers: async g =>
                {
                    try { await MoveTagsAsync(g.Planned, g.Group.Outcome, g.Group.Tags.Skip(1), g.Result, g.Counts).ConfigureAwait(false); }
                    catch (ImageToolsException e) { TagMoveFailed(g.Result, e); }
                }).ConfigureAwait(false);
            return work.SelectMany(w => w.Results).ToList();
        }

        private bool TagMoveFailed(CopiedImage result, ImageToolsException e)
        {
            var moved = MovedSoFar(result).ToList();
            result.Status = CopyStatus.Failed;
            result.ErrorId = e.ErrorId;
            result.Error = e.Message + (moved.Count == 0 ? " No tag of it moved." : $" Tags moved before the failure: {string.Join(", ", moved)}.");
            return false;
        }

        /// <summary>One result per digest the destination's tags get (one, unless only some tags merge), filled in as the run goes.</summary>
        private static List<CopiedImage> Results(PlannedDestination planned)
        {
            var root = planned.Copy.Root;
            // A destination that could not be read keeps the tags it was asked for, so its error names them.
            var groups = root == null || planned.Error != null ? new[] { (Outcome: (IndexMerge.Outcome?)null, Tags: (IReadOnlyList<string>)planned.Destination.Tags.ToList()) }
                : planned.Groups.Select(g => (Outcome: (IndexMerge.Outcome?)g.Outcome, g.Tags)).ToArray();
            return groups.Select(g => new CopiedImage(planned.Copy.Request.SourceText, planned.Destination.Name)
            {
                SourceDigest = root?.Digest,
                Digest = g.Outcome?.Digest,
                Tags = g.Tags.ToArray(),
                Platforms = root == null ? new string[0] : IndexMerge.PlatformsOf(root).Select(p => p.ToString()).ToArray(),
                Merged = g.Outcome?.Merged == true,
                KeptPlatforms = g.Outcome?.Kept.Select(p => p.ToString()).ToArray() ?? new string[0],
                Warnings = planned.Tags.Where(t => g.Tags.Contains(t.Tag) && t.Outcome.Warning != null).Select(t => t.Outcome.Warning!).ToArray(),
            }).ToList();
        }

        /// <summary>What staging one destination did: blobs skipped, mounted, copied, bytes, and whether any manifest was stored.</summary>
        private sealed class Counts
        {
            public int Skipped;
            public int Mounted;
            public int Copied;
            public long Bytes;
            public int Manifests;
        }

        /// <summary>Phase one for a destination: every blob and manifest by digest (entries before their index), the merged indexes, then a HEAD of each digest.</summary>
        private async Task<Counts> StageAsync(PlannedDestination planned, SemaphoreSlim throttle, CancellationToken cancellationToken)
        {
            var copy = planned.Copy;
            var source = Client(copy.Request.Source, CopySide.Source);
            var destination = Client(planned.Destination.Repository, CopySide.Destination);
            var counts = new Counts();
            await CopyManifestAsync(copy.Root!, copy, source, destination, planned.Repository, counts, throttle, cancellationToken).ConfigureAwait(false);
            var expected = new List<string> { copy.Root!.Digest };
            foreach (var (outcome, _) in planned.Groups.Where(g => g.Outcome.Merged))
            {
                // The merged index's other entries were under the tag already, so the repository holds them.
                if (await destination.HeadManifestAsync(planned.Repository, outcome.Digest, cancellationToken).ConfigureAwait(false) == null)
                {
                    await destination.PutManifestAsync(planned.Repository, outcome.Digest, outcome.Bytes, outcome.MediaType, cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref counts.Manifests);
                }
                expected.Add(outcome.Digest);
            }
            foreach (var digest in expected)
            {
                var stored = await destination.HeadManifestAsync(planned.Repository, digest, cancellationToken).ConfigureAwait(false);
                if (stored?.Digest != digest)
                    throw new ImageToolsException("CopyNotVerified", FaultKind.InvalidOperation,
                        $"After the copy, {planned.Destination.Name}@{digest} is not in {destination.Registry} (it answers {(stored == null ? "that it has no such manifest" : stored.Digest)}). " +
                        "No tag moved; copy again.", imageName: planned.Destination.Name);
            }
            _options.Progress?.Report($"Copied {copy.Request.SourceText} to {planned.Destination.Name}@{copy.Root.Digest} " +
                $"({counts.Copied} blobs streamed, {counts.Mounted} mounted, {counts.Skipped} already there)");
            return counts;
        }

        /// <summary>A manifest by digest with everything it names: an index's entries first (in parallel), an image's config and layers.</summary>
        private async Task CopyManifestAsync(RegistryManifest manifest, PlannedCopy copy, RegistryClient source, RegistryClient destination, string repository,
            Counts counts, SemaphoreSlim throttle, CancellationToken cancellationToken)
        {
            if (await destination.HeadManifestAsync(repository, manifest.Digest, cancellationToken).ConfigureAwait(false) != null)
                return;  // a registry stores a manifest only once it holds everything the manifest names
            if (manifest.IsIndex)
                await Task.WhenAll(manifest.Manifests.Select(entry =>
                    CopyManifestAsync(copy.Children[entry.Digest], copy, source, destination, repository, counts, throttle, cancellationToken))).ConfigureAwait(false);
            else
                await Task.WhenAll(new[] { manifest.Config! }.Concat(manifest.Layers).Where(IsDistributable).GroupBy(b => b.Digest).Select(b =>
                    CopyBlobAsync(b.First(), copy.SourceRepository, source, destination, repository, counts, throttle, cancellationToken))).ConfigureAwait(false);
            await destination.PutManifestAsync(repository, manifest.Digest, manifest.Bytes, manifest.MediaType, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref counts.Manifests);
        }

        /// <summary>Foreign (non-distributable) layers live elsewhere; registries do not hold them, and copies do not send them.</summary>
        private static bool IsDistributable(ManifestDescriptor blob) =>
            blob.MediaType.IndexOf("foreign", StringComparison.Ordinal) < 0 && blob.MediaType.IndexOf("nondistributable", StringComparison.Ordinal) < 0;

        /// <summary>
        /// Makes the destination repository hold a blob: there already (HEAD), else mounted from the source repository
        /// (same registry) or from a repository this run already put it in, else streamed from the source registry.
        /// </summary>
        private async Task CopyBlobAsync(ManifestDescriptor blob, string sourceRepository, RegistryClient source, RegistryClient destination, string repository,
            Counts counts, SemaphoreSlim throttle, CancellationToken cancellationToken)
        {
            // The blob's lock first, then the throttle: a task that holds the throttle never waits for a lock.
            using (await destination.Blobs.LockAsync(blob.Digest, cancellationToken).ConfigureAwait(false))
            {
                await throttle.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    if (await destination.BlobExistsAsync(repository, blob.Digest, cancellationToken).ConfigureAwait(false))
                    {
                        Interlocked.Increment(ref counts.Skipped);
                        return;
                    }
                    var sameRegistry = string.Equals(source.Authority, destination.Authority, StringComparison.OrdinalIgnoreCase);
                    var holders = (sameRegistry && sourceRepository != repository ? new[] { sourceRepository } : new string[0])
                        .Concat(destination.Blobs.HoldersOf(blob.Digest, repository)).Distinct(StringComparer.Ordinal).ToList();
                    foreach (var from in holders)
                    {
                        try
                        {
                            if (await destination.MountBlobAsync(repository, blob.Digest, from, cancellationToken).ConfigureAwait(false))
                            {
                                Interlocked.Increment(ref counts.Mounted);
                                return;
                            }
                        }
                        catch (ImageToolsException e) when (RegistryFailure.Of(e)?.Kind is RegistryFailureKind.NotFound or RegistryFailureKind.Denied or RegistryFailureKind.Unauthorized)
                        {
                            // The destination's credential may not read there (or it is gone): stream it with the source's.
                            destination.Blobs.Forget(from, blob.Digest);
                        }
                    }
                    using (var content = await source.OpenBlobAsync(sourceRepository, blob.Digest, blob.Size, cancellationToken).ConfigureAwait(false))
                        await destination.UploadBlobAsync(repository, blob.Digest, content, cancellationToken: cancellationToken).ConfigureAwait(false);
                    Interlocked.Increment(ref counts.Copied);
                    Interlocked.Add(ref counts.Bytes, blob.Size);
                }
                finally { throttle.Release(); }
            }
        }

        /// <summary>Moves tags to the staged content, each a manifest PUT of its exact bytes, checked by a HEAD; tags already there are left alone.</summary>
        private async Task MoveTagsAsync(PlannedDestination planned, IndexMerge.Outcome outcome, IEnumerable<string> tags, CopiedImage result, Counts counts)
        {
            var client = Client(planned.Destination.Repository, CopySide.Destination);
            var moved = new List<string>(MovedSoFar(result));
            var changed = counts.Copied + counts.Mounted + counts.Manifests > 0 || result.Status == CopyStatus.Copied;
            foreach (var tag in tags)
            {
                var current = planned.Tags.First(t => t.Tag == tag).Current;
                if (current != outcome.Digest)
                {
                    await client.PutManifestAsync(planned.Repository, tag, outcome.Bytes, outcome.MediaType, CancellationToken.None).ConfigureAwait(false);
                    var atTag = await client.HeadManifestAsync(planned.Repository, tag, CancellationToken.None).ConfigureAwait(false);
                    if (atTag?.Digest != outcome.Digest)
                        throw new ImageToolsException("CopyNotVerified", FaultKind.InvalidOperation,
                            $"After the move, {planned.Destination.Name}:{tag} holds {atTag?.Digest ?? "nothing"}, not {outcome.Digest}. Another run may have moved it meanwhile; copy again.",
                            imageName: planned.Destination.Name);
                    _options.Progress?.Report($"Moved {planned.Destination.Name}:{tag} to {outcome.Digest}{(outcome.Merged ? " (merged index)" : "")}");
                    changed = true;
                }
                moved.Add(tag);
                _moved[result] = moved;
            }
            result.Status = changed ? CopyStatus.Copied : CopyStatus.UpToDate;
        }

        // The tags of each result that moved (or were already there), for the message of a move that fails later.
        private readonly ConcurrentDictionary<CopiedImage, List<string>> _moved = new ConcurrentDictionary<CopiedImage, List<string>>();

        private IEnumerable<string> MovedSoFar(CopiedImage result) => _moved.TryGetValue(result, out var moved) ? moved.ToList() : Enumerable.Empty<string>();
    }
}
