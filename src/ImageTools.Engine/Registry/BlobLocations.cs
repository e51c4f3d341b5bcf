using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace ImageTools.Registry
{
    /// <summary>
    /// Which repositories of one registry hold which blobs, as far as one client has seen: blobs it
    /// uploaded, mounted or found with HEAD, and the config and layers of every image manifest it read
    /// (a registry stores a manifest only once its blobs are there). A blob another repository holds can
    /// be mounted instead of uploaded (distribution spec, cross-repository blob mount). What it knows
    /// may be stale (a repository deleted since): a mount that fails only means an upload.
    /// </summary>
    internal sealed class BlobLocations
    {
        private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, bool>> _holders =
            new ConcurrentDictionary<string, ConcurrentDictionary<string, bool>>(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, SemaphoreSlim> _gates = new ConcurrentDictionary<string, SemaphoreSlim>(StringComparer.Ordinal);

        public void Record(string repository, string digest) =>
            _holders.GetOrAdd(digest, _ => new ConcurrentDictionary<string, bool>(StringComparer.Ordinal))[repository] = true;

        public void Forget(string repository, string digest)
        {
            if (_holders.TryGetValue(digest, out var repositories)) repositories.TryRemove(repository, out _);
        }

        /// <summary>Records the config and layers of an image manifest as held by <paramref name="repository"/>.</summary>
        public void RecordManifest(string repository, RegistryManifest manifest)
        {
            if (manifest.IsIndex) return;
            if (manifest.Config != null) Record(repository, manifest.Config.Digest);
            foreach (var layer in manifest.Layers)
                // Foreign (non-distributable) layers live elsewhere; the registry does not hold them.
                if (layer.MediaType.IndexOf("foreign", StringComparison.Ordinal) < 0 &&
                    layer.MediaType.IndexOf("nondistributable", StringComparison.Ordinal) < 0)
                    Record(repository, layer.Digest);
        }

        /// <summary>The repositories known to hold <paramref name="digest"/>, other than <paramref name="except"/>, in a stable order.</summary>
        public IReadOnlyList<string> HoldersOf(string digest, string except) =>
            _holders.TryGetValue(digest, out var repositories)
                ? repositories.Keys.Where(r => r != except).OrderBy(r => r, StringComparer.Ordinal).ToList()
                : (IReadOnlyList<string>)Array.Empty<string>();

        /// <summary>
        /// Serialises the work on one blob: two images of a run that share a layer (a parent and its child)
        /// do not upload it twice at once; the second waits, then mounts what the first uploaded.
        /// </summary>
        public async Task<IDisposable> LockAsync(string digest, CancellationToken cancellationToken)
        {
            var gate = _gates.GetOrAdd(digest, _ => new SemaphoreSlim(1, 1));
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            return new Release(gate);
        }

        private sealed class Release : IDisposable
        {
            private SemaphoreSlim? _gate;
            public Release(SemaphoreSlim gate) => _gate = gate;
            public void Dispose() => Interlocked.Exchange(ref _gate, null)?.Release();
        }
    }
}
