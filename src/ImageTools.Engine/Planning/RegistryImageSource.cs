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
    /// the platform the builds are for. The digest returned is the config digest, which is the
    /// image id the builder recorded for parents.
    /// </summary>
    public sealed class RegistryImageSource : IPublishedImageSource, IDisposable
    {
        private readonly RegistryClientOptions _options;
        private readonly ConcurrentDictionary<string, RegistryClient> _clients = new ConcurrentDictionary<string, RegistryClient>(StringComparer.Ordinal);
        private readonly string _os;
        private readonly string _architecture;

        public RegistryImageSource(RegistryClientOptions options, string? os = null, string? architecture = null)
        {
            _options = options;
            _os = os ?? ImagePlatform.Host.Os;
            _architecture = architecture ?? ImagePlatform.Host.Architecture;
        }

        public string Description => "the registry";

        public async Task<PublishedImage?> FindAsync(string reference, CancellationToken cancellationToken)
        {
            var image = ImageReference.Parse(reference).Normalize();
            var client = _clients.GetOrAdd(image.RegistryHost, host => new RegistryClient(host, _options));
            var manifest = await client.GetManifestAsync(image.Repository, image.Digest ?? image.Tag ?? "latest", cancellationToken).ConfigureAwait(false);
            if (manifest == null) return null;
            if (manifest.IsIndex)
            {
                var platform = RegistryClient.ResolvePlatform(manifest, _os, _architecture);
                if (platform == null) return null;
                manifest = await client.GetManifestAsync(image.Repository, platform.Digest, cancellationToken).ConfigureAwait(false);
                if (manifest == null) return null;
            }
            if (manifest.Config == null)
                throw new ImageToolsException("UnexpectedManifest", FaultKind.InvalidData,
                    $"{reference} resolves to a {manifest.MediaType} manifest without an image config; it is not a container image.");
            var config = await client.GetConfigAsync(image.Repository, manifest.Config.Digest, cancellationToken).ConfigureAwait(false);
            return new PublishedImage(config.Digest, config.Labels);
        }

        public void Dispose()
        {
            foreach (var client in _clients.Values) client.Dispose();
        }
    }
}
