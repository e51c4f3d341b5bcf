using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Engines;
using ImageTools.Json;
using ImageTools.References;
using ImageTools.Registry;

namespace ImageTools.Publishing
{
    internal sealed class RegistryPublishOptions
    {
        /// <summary>
        /// Move no tag (version, latest, extra) until every image of the run was built, verified and uploaded;
        /// off: each image that got that far gets its tags whatever happened to the others (-NonAtomic).
        /// </summary>
        public bool Atomic { get; set; } = true;
        /// <summary>Allow different content under an existing version tag (normally refused: bump the version).</summary>
        public bool AllowOverwrite { get; set; }
        public int ThrottleLimit { get; set; } = 4;
        /// <summary>Upload by digest and stop there: no tag moves (a plan leg's stage; the promote moves them).</summary>
        public bool StageOnly { get; set; }
        /// <summary>
        /// Not used by the publisher, which has no retry loop of its own: it makes one attempt per image, and
        /// each request in it is retried by the registry client's transport under <see cref="RegistryClientOptions.Retry"/>
        /// (give the client this policy). Kept so that callers that set it still build.
        /// </summary>
        public RetryPolicy Retry { get; set; } = RetryPolicy.Default;
        /// <summary>Each tag as it moves (<c>repository:tag → digest</c>), so that an interrupted run has said which moved.</summary>
        public IProgress<string>? Progress { get; set; }
    }

    /// <summary>
    /// Publishes a run to the tree's registry in two phases: every image uploaded by digest (layers, config,
    /// manifest; no tag moves), then — only when all of them and every image of the run got that far — the
    /// tags through the registry API, each a manifest PUT of the exact bytes, with no pull/push round trip.
    /// A tag that holds a multi-platform index keeps its other platforms: only ours is replaced, in one PUT.
    /// A version tag already holding the same image is not pushed again; one holding other content
    /// is refused, since version tags are immutable.
    /// </summary>
    internal sealed class RegistryPublisher
    {
        private readonly IContainerEngine _engine;
        private readonly RegistryClient _client;
        private readonly RegistryPublishOptions _options;
        // Each image's own platform (image.yaml may build for another than the host's), asked of the engine once.
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task<ImagePlatform>> _platforms =
            new System.Collections.Concurrent.ConcurrentDictionary<string, Task<ImagePlatform>>(StringComparer.Ordinal);

        public RegistryPublisher(IContainerEngine engine, RegistryClient client, RegistryPublishOptions options)
        {
            _engine = engine;
            _client = client;
            _options = options;
        }

        public Task<IReadOnlyList<PublishResult>> PublishAsync(IEnumerable<ImageToPublish> images, CancellationToken cancellationToken) =>
            PublishAsync(images, Array.Empty<UnpublishableImage>(), cancellationToken);

        /// <summary>
        /// Publishes the run: every image uploaded by digest first (no tag moves), then — only when every image
        /// of the run, <paramref name="unpublishable"/> included, got that far, unless <see cref="RegistryPublishOptions.Atomic"/>
        /// is off — the version tags of every image in the order given (dependency order), and only then latest
        /// and the extra tags, image by image. Each tag moves in one manifest PUT, so an interrupted run leaves
        /// every tag old or new, no floating tag points at an image of a run whose version tags are not all in
        /// place, and a rerun finds the uploaded images (by digest, or already under their version tags) and
        /// moves what is left. Every tag moved is reported to <see cref="RegistryPublishOptions.Progress"/> as it moves.
        /// </summary>
        public async Task<IReadOnlyList<PublishResult>> PublishAsync(IEnumerable<ImageToPublish> images, IEnumerable<UnpublishableImage> unpublishable,
            CancellationToken cancellationToken)
        {
            var work = images.Select(i => (Image: i, Result: new PublishResult(i, _client.Registry))).ToList();
            var refused = unpublishable.Select(u => new PublishResult(u.Node, u.Reference, _client.Registry)
                { Status = PublishStatus.Failed, ErrorId = u.ErrorId, Error = u.Reason }).ToList();
            // The engine answers (or says why not) before any upload; images built in this run already asked it.
            if (work.Any(w => w.Image.EngineVersion == null)) await _engine.GetVersionAsync(cancellationToken).ConfigureAwait(false);
            foreach (var (image, _) in work.Where(w => w.Image.Platform != null))
                _platforms.TryAdd(image.ImageId, Task.FromResult(image.Platform!));
            using var throttle = new SemaphoreSlim(_options.ThrottleLimit);
            var staged = await Task.WhenAll(work.Select(async item =>
            {
                await throttle.WaitAsync(cancellationToken).ConfigureAwait(false);
                try { return await StageAsync(item.Image, item.Result, cancellationToken).ConfigureAwait(false); }
                finally { throttle.Release(); }
            })).ConfigureAwait(false);

            if (_options.StageOnly)
            {
                foreach (var (item, index) in work.Select((item, index) => (item, index)).Where(pair => staged[pair.index] != null))
                    item.Result.Status = PublishStatus.Staged;
                return work.Select(w => w.Result).Concat(refused).ToList();
            }
            var failed = refused.Select(r => r.Name).Concat(work.Where((w, i) => staged[i] == null).Select(w => w.Image.Node.Name))
                .Distinct(StringComparer.Ordinal).ToArray();
            var moved = await MoveAllTagsAsync(work, staged, failed, cancellationToken).ConfigureAwait(false);
            return moved.Concat(refused).ToList();
        }

        /// <summary>
        /// The promote of a fanned-out run: images that legs staged by digest (perhaps from other engines), found
        /// in the registry by their manifest digest and tagged like a one-host run, all or none. Needs no engine.
        /// </summary>
        public async Task<IReadOnlyList<PublishResult>> PromoteAsync(IReadOnlyList<(ImageToPublish Image, string ManifestDigest, ImagePlatform? Platform)> images,
            IReadOnlyList<UnpublishableImage> unpublishable, CancellationToken cancellationToken)
        {
            var work = images.Select(i => (Image: i.Image, Result: new PublishResult(i.Image, _client.Registry) { Digest = i.Image.ImageId, ManifestDigest = i.ManifestDigest })).ToList();
            var refused = unpublishable.Select(u => new PublishResult(u.Node, u.Reference, _client.Registry)
                { Status = PublishStatus.Failed, ErrorId = u.ErrorId, Error = u.Reason }).ToList();
            foreach (var image in images)
                _platforms.TryAdd(image.Image.ImageId, Task.FromResult(image.Platform ?? ImagePlatform.Host));
            var staged = await Task.WhenAll(images.Select(async (image, index) =>
            {
                var result = work[index].Result;
                try
                {
                    var repository = image.Image.ImageReference.Normalize().Repository;
                    var manifest = await _client.GetManifestAsync(repository, image.ManifestDigest, cancellationToken).ConfigureAwait(false);
                    if (manifest == null || manifest.Config?.Digest != image.Image.ImageId)
                        throw new ImageToolsException("StagedImageMissing", FaultKind.ObjectNotFound,
                            $"{image.Image.ImageReference.ByDigest(image.ManifestDigest)} is not in the registry as the leg staged it (image {image.Image.ImageId}). " +
                            "Run that leg again.", imageName: image.Image.Node.Name);
                    var existing = await _client.GetManifestAsync(repository, image.Image.Tag, cancellationToken).ConfigureAwait(false);
                    var published = existing == null ? null : await OurPlatformOfAsync(repository, existing, image.Image, cancellationToken).ConfigureAwait(false);
                    var already = published?.Config?.Digest == image.Image.ImageId;
                    if (!already && published != null && image.Image.Node.Version != null && !_options.AllowOverwrite)
                        throw new ImageToolsException("VersionTagExists", FaultKind.InvalidOperation,
                            $"{image.Image.Reference} already holds other content ({published.Config?.Digest ?? published.Digest}); version tags are immutable. " +
                            "Another run published it after this run's legs staged theirs. Bump the version (Update-ImageChangelog), or pass -AllowOverwrite.",
                            imageName: image.Image.Node.Name);
                    return new Staged(manifest, existing, already);
                }
                catch (ImageToolsException e)
                {
                    result.Status = PublishStatus.Failed;
                    result.ErrorId = e.ErrorId;
                    result.Error = e.Message;
                    return null;
                }
            })).ConfigureAwait(false);
            var failed = refused.Select(r => r.Name).Concat(work.Where((w, i) => staged[i] == null).Select(w => w.Image.Node.Name))
                .Distinct(StringComparer.Ordinal).ToArray();
            return (await MoveAllTagsAsync(work, staged, failed, cancellationToken).ConfigureAwait(false)).Concat(refused).ToList();
        }

        /// <summary>
        /// Phase two for the run: every staged image's tags, in <see cref="TagMoveOrder"/>'s phases, unless the run is atomic
        /// and something failed. Within a phase images move in parallel, up to <see cref="RegistryPublishOptions.ThrottleLimit"/>
        /// at once, but never before their parents (<see cref="InDependencyOrderAsync"/>).
        /// </summary>
        private async Task<IReadOnlyList<PublishResult>> MoveAllTagsAsync(List<(ImageToPublish Image, PublishResult Result)> work, Staged?[] staged,
            string[] failed, CancellationToken cancellationToken)
        {
            // Past the hold-back check tags move, without a stop: a stop between two moves would leave the run half-tagged.
            await TagMoveOrder.RunAsync(Enumerable.Range(0, work.Count).Where(i => staged[i] != null).ToList(), _options.Atomic, failed.Length > 0,
                holdBack: i =>
                {
                    var result = work[i].Result;
                    result.Status = PublishStatus.HeldBack;
                    result.HeldBackBy = failed;
                    result.Tags = new string[0];
                    result.Error = $"Uploaded by digest, but no tag moved: {string.Join(", ", failed)} of the same run failed (atomic publish). " +
                        "Fix it and publish again, or pass -NonAtomic to publish what succeeded.";
                },
                moveFirst: async i =>
                {
                    try
                    {
                        await MoveVersionTagAsync(work[i].Image, staged[i]!, work[i].Result, CancellationToken.None).ConfigureAwait(false);
                        return true;
                    }
                    catch (ImageToolsException e)
                    {
                        TagMoveFailed(work[i].Result, e);
                        return false;
                    }
                },
                othersHeldBack: (i, versionFailed) => work[i].Result.Error =
                    $"Its version tag moved, but latest and the extra tags did not: the version tag of {string.Join(", ", versionFailed.Select(f => work[f].Image.Node.Name))} " +
                    "of the same run could not be moved. Publish again to complete them.",
                moveOthers: async i =>
                {
                    try { await MoveFloatingTagsAsync(work[i].Image, staged[i]!.Manifest, work[i].Result, CancellationToken.None).ConfigureAwait(false); }
                    catch (ImageToolsException e) { TagMoveFailed(work[i].Result, e); }
                },
                runPhase: (indices, move) => InDependencyOrderAsync(work, indices, move)).ConfigureAwait(false);
            return work.Select(w => w.Result).ToList();
        }

        /// <summary>
        /// Runs <paramref name="move"/> for each of <paramref name="indices"/> (positions in <paramref name="work"/>, which
        /// is in dependency order), up to the throttle at once, each only after the moves of the images it builds on
        /// (its node's dependencies among the earlier entries, whatever their repository) are over. Never throws: the
        /// moves record their own failures.
        /// </summary>
        private async Task InDependencyOrderAsync(List<(ImageToPublish Image, PublishResult Result)> work, IReadOnlyList<int> indices, Func<int, Task> move)
        {
            if (indices.Count == 0) return;
            using var throttle = new SemaphoreSlim(Math.Max(1, _options.ThrottleLimit));
            var done = new Dictionary<string, List<Task>>(StringComparer.Ordinal);
            var tasks = new List<Task>(indices.Count);
            foreach (var i in indices)
            {
                var node = work[i].Image.Node;
                var parents = node.Dependencies.Where(done.ContainsKey).SelectMany(d => done[d]).ToArray();
                var task = MoveAfterAsync(parents, throttle, () => move(i));
                if (!done.TryGetValue(node.Name, out var same)) done[node.Name] = same = new List<Task>();
                same.Add(task);
                tasks.Add(task);
            }
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }

        private static async Task MoveAfterAsync(Task[] parents, SemaphoreSlim throttle, Func<Task> move)
        {
            // The throttle is taken only once the parents are done, so a waiting child never holds a slot its parent needs.
            if (parents.Length > 0) await Task.WhenAll(parents).ConfigureAwait(false);
            await throttle.WaitAsync().ConfigureAwait(false);
            try { await move().ConfigureAwait(false); }
            finally { throttle.Release(); }
        }

        private static void TagMoveFailed(PublishResult result, ImageToolsException e)
        {
            result.Status = PublishStatus.Failed;
            result.ErrorId = e.ErrorId;
            result.Error = e.Message + (result.Tags.Length == 0 ? " No tag of it moved." : $" Tags moved before the failure: {string.Join(", ", result.Tags)}.");
        }

        /// <summary>
        /// True when the published image and the built one carry the same inputs digest (same scheme) and the
        /// same parent digests: an equivalent build, which the classic builder still gives another digest.
        /// </summary>
        private async Task<bool> IsEquivalentAsync(string repository, string publishedConfig, string imageId, CancellationToken cancellationToken)
        {
            var built = await _engine.InspectAsync(imageId, cancellationToken).ConfigureAwait(false);
            if (built == null || !built.Labels.TryGetValue(Provenance.ImageLabels.InputsDigest, out var inputs)) return false;
            var published = (await _client.GetConfigAsync(repository, publishedConfig, cancellationToken).ConfigureAwait(false)).Labels;
            string? Of(IReadOnlyDictionary<string, string> labels, string key) => labels.TryGetValue(key, out var value) ? value : null;
            return Of(published, Provenance.ImageLabels.InputsDigest) == inputs
                && Of(published, Provenance.ImageLabels.InputsScheme) == Of(built.Labels, Provenance.ImageLabels.InputsScheme)
                && Of(published, Provenance.ImageLabels.Parents) == Of(built.Labels, Provenance.ImageLabels.Parents);
        }

        /// <summary>What phase one left for phase two: the uploaded manifest, and what the version tag held.</summary>
        private sealed class Staged
        {
            public Staged(RegistryManifest manifest, RegistryManifest? atVersion, bool alreadyAtVersion)
            {
                Manifest = manifest;
                AtVersion = atVersion;
                AlreadyAtVersion = alreadyAtVersion;
            }

            public RegistryManifest Manifest { get; }
            public RegistryManifest? AtVersion { get; }
            public bool AlreadyAtVersion { get; }
        }

        /// <summary>Phase one: the image uploaded by digest, no tag moved. Null when the image failed.</summary>
        private async Task<Staged?> StageAsync(ImageToPublish image, PublishResult result, CancellationToken cancellationToken)
        {
            var (node, imageId, tag) = (image.Node, image.ImageId, image.Tag);
            var repository = image.ImageReference.Normalize().Repository;
            result.Digest = imageId;
            try
            {
                var existing = await _client.GetManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
                var published = existing == null ? null : await OurPlatformOfAsync(repository, existing, image, cancellationToken).ConfigureAwait(false);
                if (published?.Config?.Digest == imageId)
                {
                    result.ManifestDigest = published.Digest;
                    return new Staged(published, existing, alreadyAtVersion: true);
                }
                if (published?.Config != null && node.Version != null && !_options.AllowOverwrite
                    && await IsEquivalentAsync(repository, published.Config.Digest, imageId, cancellationToken).ConfigureAwait(false))
                {
                    // The same inputs on the same parents: a rebuild whose digest differs only by its timestamps.
                    // The version tag keeps its image; floating tags follow it.
                    result.Digest = published.Config.Digest;
                    result.ManifestDigest = published.Digest;
                    return new Staged(published, existing, alreadyAtVersion: true);
                }
                // Other platforms in an index are not a conflict: they are kept. Our platform with other content is.
                // A tree image without a version publishes as latest, which is floating by nature.
                if (published != null && node.Version != null && !_options.AllowOverwrite)
                    throw new ImageToolsException("VersionTagExists", FaultKind.InvalidOperation,
                        $"{image.Reference} already holds other content ({published.Config?.Digest ?? published.Digest}); version tags are immutable. " +
                        "Bump the version (Update-ImageChangelog), or pass -AllowOverwrite to replace it.", imageName: node.Name);

                result.Attempts = 1;  // the registry client retries each request itself
                var uploaded = await new ImageUploader(_engine, _client).UploadAsync(image, repository, existing?.IsIndex == true ? existing.MediaType : "",
                    cancellationToken).ConfigureAwait(false);
                result.ManifestDigest = uploaded.Digest;
                return new Staged(uploaded, existing, alreadyAtVersion: false);
            }
            catch (ImageToolsException e)
            {
                result.Status = PublishStatus.Failed;
                result.ErrorId = e.ErrorId;
                result.Error = e.Message;
                return null;
            }
        }

        /// <summary>Phase two: the version tag, in one PUT (the manifest, or the index with our entry swapped).</summary>
        private async Task MoveVersionTagAsync(ImageToPublish image, Staged staged, PublishResult result, CancellationToken cancellationToken)
        {
            var repository = image.ImageReference.Normalize().Repository;
            if (!staged.AlreadyAtVersion)
            {
                if (staged.AtVersion != null && staged.AtVersion.IsIndex)
                    await PutMergedAsync(repository, image.Tag, staged.AtVersion, staged.Manifest, image, cancellationToken).ConfigureAwait(false);
                else
                    await _client.PutManifestAsync(repository, image.Tag, staged.Manifest.Bytes, staged.Manifest.MediaType, cancellationToken).ConfigureAwait(false);
                var atTag = await _client.GetManifestAsync(repository, image.Tag, cancellationToken).ConfigureAwait(false);
                var manifest = atTag == null ? null : await OurPlatformOfAsync(repository, atTag, image, cancellationToken).ConfigureAwait(false);
                if (manifest?.Config?.Digest != image.ImageId)
                    throw new ImageToolsException("PushNotVerified", FaultKind.InvalidOperation,
                        $"After the push, {image.Reference} in the registry is not the built image {image.ImageId}. Another run may have pushed meanwhile; publish again.",
                        imageName: image.Node.Name);
                _options.Progress?.Report($"Moved {repository}:{image.Tag} to {staged.Manifest.Digest}");
            }
            result.Tags = new[] { image.Tag };
            result.Status = staged.AlreadyAtVersion ? PublishStatus.AlreadyPublished : PublishStatus.Pushed;
        }

        /// <summary>The image's manifest: the manifest itself, or the index's entry for the image's platform (null when the index has none).</summary>
        private async Task<RegistryManifest?> OurPlatformOfAsync(string repository, RegistryManifest manifest, ImageToPublish image, CancellationToken cancellationToken)
        {
            if (!manifest.IsIndex) return manifest;
            var entry = Resolve(manifest, await PlatformOfAsync(image, cancellationToken).ConfigureAwait(false));
            return entry == null ? null : await _client.GetManifestAsync(repository, entry.Digest, cancellationToken).ConfigureAwait(false);
        }

        private static ManifestDescriptor? Resolve(RegistryManifest index, ImagePlatform platform) =>
            RegistryClient.ResolvePlatform(index, platform.Os, platform.Architecture, platform.Variant);

        /// <summary>Only asked where an index is involved; an engine that does not say means the host's platform.</summary>
        private Task<ImagePlatform> PlatformOfAsync(ImageToPublish image, CancellationToken cancellationToken) =>
            _platforms.GetOrAdd(image.ImageId, async id =>
                (await _engine.InspectAsync(id, cancellationToken).ConfigureAwait(false))?.Platform ?? ImagePlatform.Host);

        /// <summary>
        /// Writes under <paramref name="tag"/> the index it held, with the image's platform entry replaced by
        /// <paramref name="ours"/>: platforms this run does not build are merged, not clobbered.
        /// </summary>
        private async Task<string> PutMergedAsync(string repository, string tag, RegistryManifest index, RegistryManifest ours, ImageToPublish image,
            CancellationToken cancellationToken)
        {
            var platform = await PlatformOfAsync(image, cancellationToken).ConfigureAwait(false);
            var replaced = Resolve(index, platform);
            var entries = index.Manifests.Where(m => m != replaced).Select(m => m.ToJson())
                .Append(new ManifestDescriptor(ours.MediaType, ours.Digest, ours.Bytes.Length, platform).ToJson());
            var merged = JsonValue.Object(("schemaVersion", JsonValue.Number(2)), ("mediaType", JsonValue.String(index.MediaType)),
                ("manifests", JsonValue.Array(entries)));
            return await _client.PutManifestAsync(repository, tag, Encoding.UTF8.GetBytes(merged.ToJson()), index.MediaType, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Latest and the extra tags, by manifest PUT of the version tag's exact bytes; tags already there are left alone.</summary>
        private async Task MoveFloatingTagsAsync(ImageToPublish image, RegistryManifest manifest, PublishResult result, CancellationToken cancellationToken)
        {
            var repository = image.ImageReference.Normalize().Repository;
            var tags = new List<string>(result.Tags);
            // A nightly image (its tag suffixed) never moves the plain version tag, even one listed among the extra tags.
            foreach (var tag in new[] { "latest" }.Concat(image.Node.Definition.ExtraTags).Where(t => t != image.Tag && t != image.Node.Tag).Distinct(StringComparer.Ordinal))
            {
                var current = await _client.GetManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
                if (current != null && current.IsIndex)
                {
                    var entry = Resolve(current, await PlatformOfAsync(image, cancellationToken).ConfigureAwait(false));
                    if (entry?.Digest != manifest.Digest)
                    {
                        await PutMergedAsync(repository, tag, current, manifest, image, cancellationToken).ConfigureAwait(false);
                        _options.Progress?.Report($"Moved {repository}:{tag} to {manifest.Digest}");
                    }
                }
                else if (current?.Digest != manifest.Digest)
                {
                    await _client.PutManifestAsync(repository, tag, manifest.Bytes, manifest.MediaType, cancellationToken).ConfigureAwait(false);
                    _options.Progress?.Report($"Moved {repository}:{tag} to {manifest.Digest}");
                }
                tags.Add(tag);
                result.Tags = tags.ToArray();
            }
        }
    }
}
