using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Registry;

namespace ImageTools.Tests.Fakes
{
    /// <summary>
    /// Just enough of the distribution API, in memory, for the publisher's rules: the version check,
    /// blob HEAD/GET, uploads (POST, PATCH, PUT with the digest, checked; DELETE cancels), cross-repository
    /// mounts (POST ?mount=&amp;from=: 201 when the source holds the blob, else 202 and an upload session, as
    /// the spec says), and manifest GET/PUT by tag or digest. It stands in for the registry client's
    /// transport, so no socket is opened.
    /// </summary>
    internal sealed class InMemoryRegistry : HttpMessageHandler
    {
        public const string Address = "127.0.0.1:5999";
        private const string ManifestType = "application/vnd.docker.distribution.manifest.v2+json";
        private readonly ConcurrentDictionary<string, byte[]> _manifests = new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal);
        // The media type each manifest was stored with (by digest), sent back as its Content-Type; Docker's v2 manifest when not told.
        private readonly ConcurrentDictionary<string, string> _manifestTypes = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        private readonly string _address;

        /// <param name="address">The host:port clients name it by; a second instance with another address stands for a second registry.</param>
        public InMemoryRegistry(string address = Address) => _address = address;
        private readonly ConcurrentQueue<string> _requests = new ConcurrentQueue<string>();
        private readonly ConcurrentDictionary<string, byte[]> _blobs = new ConcurrentDictionary<string, byte[]>(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, List<byte>> _uploads = new ConcurrentDictionary<string, List<byte>>(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, bool> _refused = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        private readonly ConcurrentQueue<string> _blobUploads = new ConcurrentQueue<string>();
        private readonly ConcurrentQueue<string> _mounts = new ConcurrentQueue<string>();
        private volatile bool _refuseMounts;
        private readonly ConcurrentDictionary<string, bool> _deniedSources = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);

        /// <summary>Mounts from this repository are denied (403), as for an account that may not pull it.</summary>
        public void DenyMountsFrom(string repository) => _deniedSources[repository] = true;

        /// <summary>Every mount request is answered 202 with an upload session, as by a registry that does not mount.</summary>
        public void RefuseMounts() => _refuseMounts = true;

        /// <summary>"repository@digest" of every blob whose bytes were uploaded (a finished upload), in order.</summary>
        public IReadOnlyList<string> BlobUploads => _blobUploads.ToList();

        /// <summary>"repository@digest from source" of every blob mounted, in order.</summary>
        public IReadOnlyList<string> Mounts => _mounts.ToList();

        /// <summary>True when the repository holds the blob.</summary>
        public bool Holds(string repository, string digest) => _blobs.ContainsKey($"{repository}@{digest}");

        /// <summary>A manifest PUT under this tag is denied (403).</summary>
        public void RefuseTag(string repository, string tag) => _refused[$"{repository}:{tag}"] = true;

        public void AcceptTag(string repository, string tag) => _refused.TryRemove($"{repository}:{tag}", out _);

        /// <summary>Uploads to this repository are denied (403): a permanent failure, never retried.</summary>
        public void RefuseUploadsTo(string repository) => _refused[repository] = true;

        /// <summary>How long each manifest PUT under a tag takes (0: none), so that tests can see tag moves overlap.</summary>
        public TimeSpan TagPutDelay { get; set; }

        private int _tagPutsInFlight, _maxTagPutsAtOnce;
        private readonly ConcurrentQueue<string> _tagPutLog = new ConcurrentQueue<string>();

        /// <summary>The most manifest PUTs under a tag that were in flight at once.</summary>
        public int MaxTagPutsAtOnce => _maxTagPutsAtOnce;

        /// <summary>"begin repository:tag" and "end repository:tag" of every manifest PUT under a tag, in the order they happened.</summary>
        public IReadOnlyList<string> TagPutLog => _tagPutLog.ToList();

        /// <summary>"METHOD /v2/path" of every request, in order.</summary>
        public IReadOnlyList<string> Requests => _requests.ToList();

        public RegistryClient Client() =>
            new RegistryClient(_address, new RegistryClientOptions { Retry = RetryPolicy.None, WrapHandler = _ => this });

        /// <summary>"repository:tag" or "repository@digest" → the digest stored there, or null.</summary>
        public string? DigestAt(string key) => _manifests.TryGetValue(key, out var bytes) ? DigestOf(bytes) : null;

        /// <summary>The config digest (image id) the tag holds, or null.</summary>
        public string? ImageAt(string repository, string tag)
        {
            if (!_manifests.TryGetValue($"{repository}:{tag}", out var bytes)) return null;
            var text = Encoding.UTF8.GetString(bytes);
            var at = text.IndexOf("\"digest\":\"", StringComparison.Ordinal) + 10;
            return text.Substring(at, text.IndexOf('"', at) - at);
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            _requests.Enqueue($"{request.Method} {path}");
            if (path == "/v2/" || path == "/v2")
                return Answer(HttpStatusCode.OK, "{}", "application/json");
            var blobs = path.IndexOf("/blobs/", StringComparison.Ordinal);
            if (path.StartsWith("/v2/", StringComparison.Ordinal) && blobs > 0)
                return await BlobAsync(request, path.Substring(4, blobs - 4), path.Substring(blobs + 7), cancellationToken).ConfigureAwait(false);
            var at = path.IndexOf("/manifests/", StringComparison.Ordinal);
            if (!path.StartsWith("/v2/", StringComparison.Ordinal) || at < 0)
                return Answer(HttpStatusCode.NotFound, "{\"errors\":[{\"code\":\"UNSUPPORTED\"}]}", "application/json");
            var repository = path.Substring(4, at - 4);
            var reference = path.Substring(at + 11);
            var key = reference.StartsWith("sha256:", StringComparison.Ordinal) ? $"{repository}@{reference}" : $"{repository}:{reference}";
            if (request.Method == HttpMethod.Put && _refused.ContainsKey(key))
                return Answer(HttpStatusCode.Forbidden, "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}", "application/json");
            if (request.Method == HttpMethod.Put && !reference.StartsWith("sha256:", StringComparison.Ordinal))
            {
                _tagPutLog.Enqueue("begin " + key);
                var now = Interlocked.Increment(ref _tagPutsInFlight);
                int max;
                while (now > (max = _maxTagPutsAtOnce) && Interlocked.CompareExchange(ref _maxTagPutsAtOnce, now, max) != max) { }
                try { if (TagPutDelay > TimeSpan.Zero) await Task.Delay(TagPutDelay, cancellationToken).ConfigureAwait(false); }
                finally { Interlocked.Decrement(ref _tagPutsInFlight); }
                var bytes = await request.Content!.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                _manifests[key] = bytes;
                _manifests[$"{repository}@{DigestOf(bytes)}"] = bytes;
                if (request.Content!.Headers.ContentType?.MediaType is string stored) _manifestTypes[DigestOf(bytes)] = stored;
                _tagPutLog.Enqueue("end " + key);
                var moved = Answer(HttpStatusCode.Created, "", "text/plain");
                moved.Headers.Add("Docker-Content-Digest", DigestOf(bytes));
                return moved;
            }
            if (request.Method == HttpMethod.Put)
            {
                var bytes = await request.Content!.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                _manifests[key] = bytes;
                _manifests[$"{repository}@{DigestOf(bytes)}"] = bytes;
                if (request.Content!.Headers.ContentType?.MediaType is string stored) _manifestTypes[DigestOf(bytes)] = stored;
                var created = Answer(HttpStatusCode.Created, "", "text/plain");
                created.Headers.Add("Docker-Content-Digest", DigestOf(bytes));
                return created;
            }
            if (!_manifests.TryGetValue(key, out var manifest))
                return Answer(HttpStatusCode.NotFound, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\"}]}", "application/json");
            var found = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(request.Method == HttpMethod.Head ? Array.Empty<byte>() : manifest) };
            found.Content.Headers.ContentLength = manifest.Length;   // as a registry says it, for HEAD too
            found.Content.Headers.TryAddWithoutValidation("Content-Type", _manifestTypes.TryGetValue(DigestOf(manifest), out var type) ? type : ManifestType);
            found.Headers.Add("Docker-Content-Digest", DigestOf(manifest));
            found.Headers.Add("Docker-Distribution-API-Version", "registry/2.0");
            return found;
        }

        private async Task<HttpResponseMessage> BlobAsync(HttpRequestMessage request, string repository, string rest, CancellationToken cancellationToken)
        {
            if (rest.StartsWith("uploads/", StringComparison.Ordinal))
            {
                if (_refused.ContainsKey(repository))
                    return Answer(HttpStatusCode.Forbidden, "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}", "application/json");
                var id = rest.Substring(8);
                var query = request.RequestUri!.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
                    .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? Uri.UnescapeDataString(p[1]) : "", StringComparer.Ordinal);
                if (request.Method == HttpMethod.Post && query.TryGetValue("from", out var source) && _deniedSources.ContainsKey(source))
                    return Answer(HttpStatusCode.Forbidden, "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}", "application/json");
                if (request.Method == HttpMethod.Post && query.TryGetValue("mount", out var mount) && query.TryGetValue("from", out var from)
                    && !_refuseMounts && _blobs.TryGetValue($"{from}@{mount}", out var mounted))
                {
                    _blobs[$"{repository}@{mount}"] = mounted;
                    _mounts.Enqueue($"{repository}@{mount} from {from}");
                    var created = Answer(HttpStatusCode.Created, "", "text/plain");
                    created.Headers.Location = new Uri($"http://{_address}/v2/{repository}/blobs/{mount}");
                    created.Headers.Add("Docker-Content-Digest", mount);
                    return created;
                }
                if (request.Method == HttpMethod.Delete)
                    return _uploads.TryRemove(id, out _) ? Answer(HttpStatusCode.NoContent, "", "text/plain")
                        : Answer(HttpStatusCode.NotFound, "{\"errors\":[{\"code\":\"BLOB_UPLOAD_UNKNOWN\"}]}", "application/json");
                if (request.Method == HttpMethod.Post)
                {
                    id = Guid.NewGuid().ToString("N");
                    _uploads[id] = new List<byte>();
                }
                else if (!_uploads.ContainsKey(id)) return Answer(HttpStatusCode.NotFound, "{\"errors\":[{\"code\":\"BLOB_UPLOAD_UNKNOWN\"}]}", "application/json");
                if (request.Content != null) _uploads[id].AddRange(await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
                if (request.Method == HttpMethod.Put)
                {
                    var digest = query["digest"];
                    var bytes = _uploads[id].ToArray();
                    if (DigestOf(bytes) != digest) return Answer(HttpStatusCode.BadRequest, "{\"errors\":[{\"code\":\"DIGEST_INVALID\"}]}", "application/json");
                    _blobs[$"{repository}@{digest}"] = bytes;
                    _uploads.TryRemove(id, out _);
                    _blobUploads.Enqueue($"{repository}@{digest}");
                    return Answer(HttpStatusCode.Created, "", "text/plain");
                }
                var accepted = Answer(HttpStatusCode.Accepted, "", "text/plain");
                accepted.Headers.Location = new Uri($"http://{_address}/v2/{repository}/blobs/uploads/{id}");
                return accepted;
            }
            if (!_blobs.TryGetValue($"{repository}@{rest}", out var blob))
                return Answer(HttpStatusCode.NotFound, "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\"}]}", "application/json");
            var found = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(request.Method == HttpMethod.Head ? Array.Empty<byte>() : blob) };
            found.Content.Headers.ContentLength = blob.Length;
            found.Headers.Add("Docker-Content-Digest", rest);
            return found;
        }

        private static HttpResponseMessage Answer(HttpStatusCode status, string body, string contentType)
        {
            var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8) };
            response.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            response.Headers.Add("Docker-Distribution-API-Version", "registry/2.0");
            return response;
        }

        private static string DigestOf(byte[] bytes) => "sha256:" + Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
    }
}
