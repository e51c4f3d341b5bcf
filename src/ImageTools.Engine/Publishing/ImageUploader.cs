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
    /// </summary>
    internal sealed class ImageUploader
    {
        private readonly IContainerEngine _engine;
        private readonly RegistryClient _client;

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
                await _engine.SaveAsync(image.Reference, saved, cancellationToken).ConfigureAwait(false);
                var archive = SavedImageArchive.Open(saved);
                var (configPath, layerPaths) = archive.FindImage(image.ImageId) ?? throw new ImageToolsException("ImageChanged", FaultKind.InvalidOperation,
                    $"{image.Reference} no longer points at the built image {image.ImageId}; it was not published. Build and publish it again.",
                    imageName: image.Node.Name);

                var layers = new List<ManifestDescriptor>();
                foreach (var layerPath in layerPaths)
                    layers.Add(await UploadLayerAsync(archive, layerPath, repository, work, cancellationToken).ConfigureAwait(false));

                var oci = likeIndex == MediaTypes.OciIndex || layers.Any(l => l.MediaType == MediaTypes.OciLayerZstd);
                var config = archive.ReadAll(configPath);
                if (!await _client.BlobExistsAsync(repository, image.ImageId, cancellationToken).ConfigureAwait(false))
                    await _client.UploadBlobAsync(repository, config, cancellationToken).ConfigureAwait(false);

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
            finally
            {
                try { Directory.Delete(work, recursive: true); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
        }

        /// <summary>One layer as an OCI descriptor (gzip or zstd), uploaded unless the repository has it.</summary>
        private async Task<ManifestDescriptor> UploadLayerAsync(SavedImageArchive archive, string layerPath, string repository, string work,
            CancellationToken cancellationToken)
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
            if (!await _client.BlobExistsAsync(repository, digest, cancellationToken).ConfigureAwait(false))
            {
                using var content = open();
                await _client.UploadBlobAsync(repository, digest, content, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            return new ManifestDescriptor(mediaType, digest, size);
        }
    }
}
