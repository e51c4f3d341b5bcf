using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.References;
using ImageTools.Registry;

namespace ImageTools.Planning
{
    /// <summary>
    /// Registries as the place of record: a manifest GET, and the config blob (cached on disk by
    /// digest, so a warm run costs one round trip per image) for the labels. An index resolves to
    /// the platform asked for, else the one local builds produce. The digest returned is the config digest, which is the
    /// image id the builder recorded for parents.
    /// </summary>
    internal sealed class RegistryImageSource : IPublishedImageSource, IDisposable
    {
        private readonly RegistryClientOptions _options;
        private readonly ConcurrentDictionary<string, RegistryClient> _clients = new ConcurrentDictionary<string, RegistryClient>(StringComparer.Ordinal);
        public RegistryImageSource(RegistryClientOptions options)
        {
            _options = options;
        }

        public string Description => "the registry";

        public async Task<PublishedImage?> FindAsync(ImageReference reference, ImagePlatform? platform, CancellationToken cancellationToken)
        {
            var image = reference.Normalize();
            var client = _clients.GetOrAdd(image.RegistryHost, host => new RegistryClient(host, _options));
            var manifest = await client.GetManifestAsync(image.Repository, image.Digest ?? image.Tag ?? "latest", cancellationToken).ConfigureAwait(false);
            if (manifest == null) return null;
            if (manifest.IsIndex)
            {
                var wanted = platform ?? ImagePlatform.Host;
                var entry = RegistryClient.ResolvePlatform(manifest, wanted.Os, wanted.Architecture, wanted.Variant);
                if (entry == null) return null;
                manifest = await client.GetManifestAsync(image.Repository, entry.Digest, cancellationToken).ConfigureAwait(false);
                if (manifest == null) return null;
            }
            if (manifest.Config == null)
                throw new ImageToolsException("UnexpectedManifest", FaultKind.InvalidData,
                    $"{reference} resolves to a {manifest.MediaType} manifest without an image config; it is not a container image.");
            var config = await client.GetConfigAsync(image.Repository, manifest.Config.Digest, cancellationToken).ConfigureAwait(false);
            return new PublishedImage(config.Digest, config.Labels, manifest.Digest, PublishedImage.DurationOf(config.Labels, config.Created));
        }

        public void Dispose()
        {
            foreach (var client in _clients.Values) client.Dispose();
        }
    }
}
