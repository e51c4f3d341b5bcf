using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Engines;
using ImageTools.Formats;
using ImageTools.Json;
using ImageTools.References;
using ImageTools.Registry;

namespace ImageTools.Publishing
{
    /// <summary>
    /// Puts a local image into a repository by digest, moving no tag: docker push without its last
    /// step. For a version tag that holds a multi-platform index, whose other platforms must stay
    /// visible: the index is then rewritten with our entry in one manifest PUT, so no reader ever sees
    /// the tag with our platform alone. The image comes from <c>docker save</c>; uncompressed layers
    /// are gzipped on the way (into a temporary file, to know their digest before uploading).
    /// A blob the repository lacks but another repository of the registry holds is mounted from there
    /// (distribution spec: <c>POST /v2/R/blobs/uploads/?mount=D&amp;from=S</c>), not uploaded again: the
    /// layers of a parent published earlier in this run (the client remembers what it uploaded), or in
    /// an earlier run (read from the manifest under the parent's version tag). A registry that answers
    /// the mount with 202 (it does not mount) gets a normal upload.
    /// </summary>
    internal sealed class ImageUploader
    {
        private readonly IContainerEngine _engine;
        private readonly RegistryClient _client;
        private Task? _parentsRead;

        public ImageUploader(IContainerEngine engine, RegistryClient client)
        {
            _engine = engine;
            _client = client;
        }

        /// <summary>
        /// Uploads the image's layers and config (those the repository lacks) and its manifest, in the
        /// media type family of <paramref name="likeIndex"/> (OCI or Docker); returns the stored manifest.
        /// </summary>
        public async Task<RegistryManifest> UploadAsync(ImageToPublish image, string repository, string likeIndex, CancellationToken cancellationToken)
        {
            var work = Path.Combine(Path.GetTempPath(), "imagetools-upload-" + Guid.NewGuid().ToString("N").Substring(0, 12));
            Directory.CreateDirectory(work);
            try
            {
                var saved = Path.Combine(work, "image.tar");
                await _engine.SaveAsync(image.LocalReference, saved, cancellationToken).ConfigureAwait(false);
                var archive = SavedImageArchive.Open(saved);
                var (configPath, layerPaths) = archive.FindImage(image.ImageId) ?? throw new ImageToolsException("ImageChanged", FaultKind.InvalidOperation,
                    $"{image.LocalReference} no longer points at the built image {image.ImageId}; it was not published. Build and publish it again.",
                    imageName: image.Node.Name);

                var layers = new List<ManifestDescriptor>();
                foreach (var layerPath in layerPaths)
                    layers.Add(await UploadLayerAsync(image, archive, layerPath, repository, work, cancellationToken).ConfigureAwait(false));

                var oci = likeIndex == MediaTypes.OciIndex || layers.Any(l => l.MediaType == MediaTypes.OciLayerZstd);
                var config = archive.ReadAll(configPath);
                await PutBlobAsync(image, repository, image.ImageId, () => new MemoryStream(config, writable: false), cancellationToken).ConfigureAwait(false);

                var mediaType = oci ? MediaTypes.OciManifest : MediaTypes.DockerManifest;
                var manifest = JsonValue.Object(
                    ("schemaVersion", JsonValue.Number(2)),
                    ("mediaType", JsonValue.String(mediaType)),
                    ("config", new ManifestDescriptor(oci ? MediaTypes.OciConfig : MediaTypes.DockerConfig, image.ImageId, config.Length).ToJson()),
                    ("layers", JsonValue.Array(layers.Select(l => (oci ? l : new ManifestDescriptor(MediaTypes.DockerLayerGzip, l.Digest, l.Size)).ToJson()))));
                var bytes = Encoding.UTF8.GetBytes(manifest.ToJson());
                var digest = await _client.PutManifestAsync(repository, Digests.Sha256(bytes), bytes, mediaType, cancellationToken).ConfigureAwait(false);
                return await _client.GetManifestAsync(repository, digest, cancellationToken).ConfigureAwait(false)
                    ?? throw new ImageToolsException("PushNotVerified", FaultKind.InvalidOperation,
                        $"The registry accepted the manifest of {image.Reference} ({digest}) but does not return it. Publish again.", imageName: image.Node.Name);
            }
            catch (IOException e)
            {
                // The saved image and the gzipped layers go to the temporary directory: a full disk there fails this image, not the run.
                throw new ImageToolsException("UploadStagingFailed", FaultKind.ResourceUnavailable,
                    $"Preparing {image.Reference} for upload in {work} failed: {e.Message}. Check free disk space in the temporary directory; " +
                    "blobs already uploaded are not sent again when you publish again.", imageName: image.Node.Name, inner: e);
            }
            finally
            {
                try { Directory.Delete(work, recursive: true); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
        }

        /// <summary>One layer as an OCI descriptor (gzip or zstd), uploaded unless the repository has it.</summary>
        private async Task<ManifestDescriptor> UploadLayerAsync(ImageToPublish image, SavedImageArchive archive, string layerPath, string repository,
            string work, CancellationToken cancellationToken)
        {
            string mediaType;
            Func<Stream> open;
            using (var probe = archive.OpenEntry(layerPath))
            {
                var magic = new byte[4];
                var read = probe.Read(magic, 0, magic.Length);
                var gzip = read >= 2 && magic[0] == 0x1f && magic[1] == 0x8b;
                var zstd = read == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd;
                if (gzip || zstd)
                {
                    // Already compressed (a containerd image store saves blobs as pulled): upload as is.
                    mediaType = gzip ? MediaTypes.OciLayerGzip : MediaTypes.OciLayerZstd;
                    open = () => archive.OpenEntry(layerPath);
                }
                else
                {
                    var compressed = Path.Combine(work, Guid.NewGuid().ToString("N") + ".tar.gz");
                    probe.Position = 0;
                    using (var file = File.Create(compressed))
                    using (var gzipStream = new GZipStream(file, CompressionLevel.Optimal))
                        await probe.CopyToAsync(gzipStream, 81920, cancellationToken).ConfigureAwait(false);
                    mediaType = MediaTypes.OciLayerGzip;
                    open = () => File.OpenRead(compressed);
                }
            }

            string digest;
            long size;
            using (var content = open())
            {
                digest = Digests.Sha256(content);
                size = content.Length;
            }
            await PutBlobAsync(image, repository, digest, open, cancellationToken).ConfigureAwait(false);
            return new ManifestDescriptor(mediaType, digest, size);
        }

        /// <summary>Makes the repository hold the blob: there already, else mounted from a repository known to hold it, else uploaded.</summary>
        private async Task PutBlobAsync(ImageToPublish image, string repository, string digest, Func<Stream> open, CancellationToken cancellationToken)
        {
            using (await _client.Blobs.LockAsync(digest, cancellationToken).ConfigureAwait(false))
            {
                if (await _client.BlobExistsAsync(repository, digest, cancellationToken).ConfigureAwait(false)) return;
                if (_client.Blobs.HoldersOf(digest, repository).Count == 0)
                    await (_parentsRead ??= ReadParentsAsync(image, repository, cancellationToken)).ConfigureAwait(false);
                foreach (var from in _client.Blobs.HoldersOf(digest, repository))
                {
                    try
                    {
                        if (await _client.MountBlobAsync(repository, digest, from, cancellationToken).ConfigureAwait(false)) return;
                    }
                    catch (ImageToolsException e) when (CannotMountFrom(e))
                    {
                        // Not ours to read there (or gone since): try the next holder, or upload.
                        _client.Blobs.Forget(from, digest);
                    }
                }
                using var content = open();
                await _client.UploadBlobAsync(repository, digest, content, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>A mount refused for the source's sake: the upload that follows will tell whether the target is the problem.</summary>
        private static bool CannotMountFrom(ImageToolsException e) =>
            RegistryFailure.Of(e)?.Kind is RegistryFailureKind.NotFound or RegistryFailureKind.Denied or RegistryFailureKind.Unauthorized;

        /// <summary>
        /// Reads the manifests under the version tags of the image's in-tree parents on this registry, so
        /// that the client knows which of their blobs those repositories hold. A parent not published
        /// (yet) is no error: its blobs are uploaded.
        /// </summary>
        private async Task ReadParentsAsync(ImageToPublish image, string repository, CancellationToken cancellationToken)
        {
            var registry = image.ImageReference.Normalize().Registry;
            foreach (var parent in image.Node.Graph.AllDependenciesOf(image.Node))
            {
                var reference = ImageReference.Parse(parent.Reference).Normalize();
                if (reference.Registry != registry || reference.Repository == repository) continue;
                try
                {
                    var manifest = await _client.GetManifestAsync(reference.Repository, parent.Tag, cancellationToken).ConfigureAwait(false);
                    if (manifest == null || !manifest.IsIndex) continue;
                    foreach (var entry in manifest.Manifests)
                        await _client.GetManifestAsync(reference.Repository, entry.Digest, cancellationToken).ConfigureAwait(false);
                }
                catch (ImageToolsException e) when (RegistryFailure.Of(e)?.IsTransient == false)
                {
                    // Only a hint for mounts: a parent we may not read, or whose manifest is odd, means uploads.
                }
            }
        }
    }
}
