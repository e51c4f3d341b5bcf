using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using System.Text;
using ImageTools.Engine;
using ImageTools.Json;
using ImageTools.Graph;
using ImageTools.References;
using ImageTools.Registry;

namespace ImageTools.Publishing
{
    public sealed class RegistryPublishOptions
    {
        /// <summary>Move floating tags (latest, extra tags) only when every image of the run was published.</summary>
        public bool Atomic { get; set; } = true;
        /// <summary>Allow different content under an existing version tag (normally refused: bump the version).</summary>
        public bool AllowOverwrite { get; set; }
        public int ThrottleLimit { get; set; } = 4;
        /// <summary>
        /// Attempts and growing waits for a failed push (auth failures and missing repositories
        /// excepted); the registry client takes the same policy for its own requests.
        /// </summary>
        public RetryPolicy Retry { get; set; } = RetryPolicy.Default;
    }

    /// <summary>
    /// Publishes to the tree's registry in two phases: every image under its version tag (pushed by
    /// the engine), then — only when all of them succeeded — the floating tags (latest and extra
    /// tags) through the registry API, a manifest PUT of the exact bytes, with no pull/push round trip.
    /// A tag that holds a multi-platform index keeps its other platforms: only ours is replaced (for a
    /// version tag, the image is uploaded by digest first, so the index is swapped in one PUT).
    /// A version tag already holding the same image is not pushed again; one holding other content
    /// is refused, since version tags are immutable.
    /// </summary>
    public sealed class RegistryPublisher
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

        public async Task<IReadOnlyList<PublishResult>> PublishAsync(IEnumerable<ImageToPublish> images, CancellationToken cancellationToken)
        {
            var work = images.Select(i => (Image: i, Result: new PublishResult(i, _client.Registry))).ToList();
            if (work.Count > 0) await _engine.GetVersionAsync(cancellationToken).ConfigureAwait(false);
            using var throttle = new SemaphoreSlim(_options.ThrottleLimit);
            var pushed = await Task.WhenAll(work.Select(async item =>
            {
                await throttle.WaitAsync(cancellationToken).ConfigureAwait(false);
                try { return await PublishVersionAsync(item.Image, item.Result, cancellationToken).ConfigureAwait(false); }
                finally { throttle.Release(); }
            })).ConfigureAwait(false);

            var failed = work.Where(w => w.Result.Status == PublishStatus.Failed).Select(w => w.Image.Node.Name).ToList();
            for (var i = 0; i < work.Count; i++)
            {
                var (image, result) = work[i];
                if (result.Status == PublishStatus.Failed || pushed[i] == null) continue;
                if (_options.Atomic && failed.Count > 0)
                {
                    result.Error = $"Floating tags were not moved because {string.Join(", ", failed)} failed (atomic publish).";
                    continue;
                }
                try { await MoveFloatingTagsAsync(image, pushed[i]!, result, cancellationToken).ConfigureAwait(false); }
                catch (ImageToolsException e)
                {
                    result.Status = PublishStatus.Failed;
                    result.ErrorId = e.ErrorId;
                    result.Error = e.Message;
                }
            }
            return work.Select(w => w.Result).ToList();
        }

        /// <summary>Phase one: the version tag. Returns the pushed image's own manifest, or null when the image failed.</summary>
        private async Task<RegistryManifest?> PublishVersionAsync(ImageToPublish image, PublishResult result, CancellationToken cancellationToken)
        {
            var (node, imageId, tag) = (image.Node, image.ImageId, image.Tag);
            var repository = ImageReference.Parse(image.Reference).Normalize().Repository;
            result.Digest = imageId;
            try
            {
                var existing = await _client.GetManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
                var published = existing == null ? null : await OurPlatformOfAsync(repository, existing, image, cancellationToken).ConfigureAwait(false);
                if (published?.Config?.Digest == imageId)
                {
                    result.Status = PublishStatus.AlreadyPublished;
                    result.Tags = new[] { tag };
                    result.ManifestDigest = published.Digest;
                    return published;
                }
                // Other platforms in an index are not a conflict: they are kept. Our platform with other content is.
                // A tree image without a version publishes as latest, which is floating by nature.
                if (published != null && node.Version != null && !_options.AllowOverwrite)
                    throw new ImageToolsException("VersionTagExists", FaultKind.InvalidOperation,
                        $"{image.Reference} already holds other content ({published.Config?.Digest ?? published.Digest}); version tags are immutable. " +
                        "Bump the version (Update-ImageChangelog), or pass -AllowOverwrite to replace it.", imageName: node.Name);

                if (existing != null && existing.IsIndex)
                {
                    // docker push would replace the index with our platform alone until the merge is written
                    // back (for good, if that failed): upload by digest, then swap in the merged index at once.
                    result.Attempts = 1;  // the registry client retries each request itself
                    var uploaded = await new ImageUploader(_engine, _client).UploadAsync(image, repository, existing.MediaType, cancellationToken).ConfigureAwait(false);
                    await PutMergedAsync(repository, tag, existing, uploaded, image, cancellationToken).ConfigureAwait(false);
                }
                else await PushWithRetriesAsync(image, result, cancellationToken).ConfigureAwait(false);

                var atTag = await _client.GetManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
                var manifest = atTag == null ? null : await OurPlatformOfAsync(repository, atTag, image, cancellationToken).ConfigureAwait(false);
                if (manifest?.Config?.Digest != imageId)
                    throw new ImageToolsException("PushNotVerified", FaultKind.InvalidOperation,
                        $"After the push, {image.Reference} in the registry is not the built image {imageId}. Another run may have pushed meanwhile; publish again.",
                        imageName: node.Name);
                result.Status = PublishStatus.Pushed;
                result.Tags = new[] { tag };
                result.ManifestDigest = manifest.Digest;
                return manifest;
            }
            catch (ImageToolsException e)
            {
                result.Status = PublishStatus.Failed;
                result.ErrorId = e.ErrorId;
                result.Error = e.Message;
                return null;
            }
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

        private async Task PushWithRetriesAsync(ImageToPublish image, PublishResult result, CancellationToken cancellationToken)
        {
            for (var attempt = 1; ; attempt++)
            {
                result.Attempts = attempt;
                try
                {
                    await _engine.PushAsync(image.Reference, cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (ImageToolsException e) when (attempt < _options.Retry.MaxAttempts && !IsPermanent(e))
                {
                    await Task.Delay(_options.Retry.DelayAfter(attempt), cancellationToken).ConfigureAwait(false);
                }
            }
        }

        /// <summary>Phase two: latest and the extra tags, by manifest PUT of the version tag's exact bytes; tags already there are left alone.</summary>
        private async Task MoveFloatingTagsAsync(ImageToPublish image, RegistryManifest manifest, PublishResult result, CancellationToken cancellationToken)
        {
            var repository = ImageReference.Parse(image.Reference).Normalize().Repository;
            var tags = new List<string>(result.Tags);
            foreach (var tag in new[] { "latest" }.Concat(image.Node.Definition.ExtraTags).Where(t => t != image.Tag).Distinct(StringComparer.Ordinal))
            {
                var current = await _client.GetManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
                if (current != null && current.IsIndex)
                {
                    var entry = Resolve(current, await PlatformOfAsync(image, cancellationToken).ConfigureAwait(false));
                    if (entry?.Digest != manifest.Digest) await PutMergedAsync(repository, tag, current, manifest, image, cancellationToken).ConfigureAwait(false);
                }
                else if (current?.Digest != manifest.Digest)
                {
                    await _client.PutManifestAsync(repository, tag, manifest.Bytes, manifest.MediaType, cancellationToken).ConfigureAwait(false);
                }
                tags.Add(tag);
            }
            result.Tags = tags.ToArray();
        }

        // Refused credentials or a missing repository do not get better by asking again.
        private static bool IsPermanent(ImageToolsException e) =>
            System.Text.RegularExpressions.Regex.IsMatch(e.Message, "unauthorized|denied|authentication required|no basic auth credentials|forbidden|not found", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
    }
}
