using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Json;
using ImageTools.References;

namespace ImageTools.Registry
{
    /// <summary>
    /// A client of one registry's OCI distribution API (HTTP API v2): manifests, config blobs, tags,
    /// blob existence, mounts and uploads. This class is the API: what to ask and what an answer
    /// means. Sending, authentication and the one retry policy are <see cref="RegistryTransport"/>'s
    /// (one HttpClient and handler per instance); what a failure becomes is <see cref="RegistryErrors"/>'s.
    /// Reports what it does through <see cref="RegistryClientOptions.Progress"/>. Safe for concurrent
    /// calls. Errors are <see cref="ImageToolsException"/>s that say what to do, with the typed
    /// <see cref="RegistryFailure"/> as their inner exception.
    /// </summary>
    internal sealed class RegistryClient : IDisposable
    {
        private const long MaxManifestBytes = 4 * 1024 * 1024; // the distribution spec's limit registries must accept
        private const long MaxConfigBytes = 32 * 1024 * 1024;
        private const long MaxSmallBody = 1024 * 1024;
        /// <summary>Bytes per PATCH of a chunked blob upload.</summary>
        public const int DefaultChunkSize = 16 * 1024 * 1024;

        private readonly RegistryClientOptions _options;
        private readonly RegistryTransport _transport;
        private readonly RegistryErrors _errors;
        private readonly ConfigCache? _configCache;
        private readonly BlobLocations _blobs = new BlobLocations();

        /// <param name="registry">host[:port] as image references name it; docker.io is spoken to at registry-1.docker.io.</param>
        /// <param name="options">Credentials, TLS, retries, cache; defaults when null.</param>
        public RegistryClient(string registry, RegistryClientOptions? options = null)
        {
            if (string.IsNullOrWhiteSpace(registry) || registry.IndexOf('/') >= 0 || registry.Contains("://"))
                throw new ImageToolsException("InvalidRegistry", FaultKind.InvalidArgument,
                    $"'{registry}' is not a registry host with an optional port, like registry.example.org or localhost:5000.");
            Registry = registry;
            _options = options ?? new RegistryClientOptions();
            Authority = registry == "docker.io" || registry == "index.docker.io" ? "registry-1.docker.io" : registry;
            _errors = new RegistryErrors(registry, Authority, _options.Retry.MaxAttempts);
            _transport = new RegistryTransport(registry, Authority, _options, _errors);
            if (_options.ConfigCacheDirectory != null) _configCache = new ConfigCache(_options.ConfigCacheDirectory);
        }

        /// <summary>The registry as given (e.g. docker.io).</summary>
        public string Registry { get; }

        /// <summary>host[:port] requests go to.</summary>
        public string Authority { get; }

        /// <summary>Which repositories of this registry hold which blobs, as far as this client has seen (for mounts).</summary>
        internal BlobLocations Blobs => _blobs;

        /// <summary>Token requests made so far (each scope set once per token lifetime).</summary>
        public int TokenRequests => _transport.Authenticator.TokenRequests;

        public void Dispose()
        {
            _transport.Dispose();
        }

        public override string ToString() => $"RegistryClient({Registry})";

        // ---------------------------------------------------------------- API

        /// <summary>Checks that the registry answers the v2 API and, when it asks for them, accepts the credentials.</summary>
        public async Task<RegistryPing> PingAsync(CancellationToken cancellationToken = default)
        {
            var baseUri = await _transport.BaseUriAsync(cancellationToken).ConfigureAwait(false);
            var response = await _transport.SendAsync(HttpMethod.Get, new Uri(baseUri, "/v2/"), Array.Empty<string>(), MaxSmallBody, cancellationToken).ConfigureAwait(false);
            if (response.Status != HttpStatusCode.OK) throw _errors.Failure(response, "answer the API version check");
            var apiVersion = response.Header("Docker-Distribution-API-Version");
            if (response.LooksLikeHtml || (apiVersion == null && !LooksLikeJson(response.Body)))
                throw _errors.NotARegistry(response);
            var credential = await _transport.Authenticator.CredentialAsync(cancellationToken).ConfigureAwait(false);
            var authorization = await _transport.Authenticator.AuthorizationAsync(Array.Empty<string>(), cancellationToken).ConfigureAwait(false);
            return new RegistryPing(Registry, baseUri, apiVersion, authorization?.Scheme, authorization != null && credential != null);
        }

        /// <summary>The manifest or index a tag or digest names, or null when the registry has no such tag or repository.</summary>
        public async Task<RegistryManifest?> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
        {
            CheckRepository(repository);
            CheckReference(reference);
            var uri = await _transport.ApiUriAsync($"{repository}/manifests/{reference}", cancellationToken).ConfigureAwait(false);
            var response = await _transport.SendAsync(HttpMethod.Get, uri, Pull(repository), MaxManifestBytes, cancellationToken, MediaTypes.ManifestAccept)
                .ConfigureAwait(false);
            if (response.Status == HttpStatusCode.NotFound && !response.LooksLikeHtml) return null;
            if (response.Status != HttpStatusCode.OK) throw _errors.Failure(response, $"send the manifest of {repository}:{reference}");
            if (response.LooksLikeHtml) throw _errors.NotARegistry(response);

            var digest = CheckDigest(response, response.Body, repository, reference);
            var error = ManifestParser.Parse(response.ContentType ?? "", digest, response.Body, out var manifest);
            if (error != null)
                throw _errors.InvalidManifest(repository, reference, error);
            _blobs.RecordManifest(repository, manifest!);
            return manifest;
        }

        /// <summary>Media type, digest and size of a manifest without its body; null when the tag or repository does not exist.</summary>
        public async Task<ManifestInfo?> HeadManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
        {
            CheckRepository(repository);
            CheckReference(reference);
            var uri = await _transport.ApiUriAsync($"{repository}/manifests/{reference}", cancellationToken).ConfigureAwait(false);
            var response = await _transport.SendAsync(HttpMethod.Head, uri, Pull(repository), 0, cancellationToken, MediaTypes.ManifestAccept)
                .ConfigureAwait(false);
            if (response.Status == HttpStatusCode.NotFound && !response.LooksLikeHtml) return null;
            if (response.Status != HttpStatusCode.OK) throw _errors.Failure(response, $"describe the manifest of {repository}:{reference}");
            if (response.LooksLikeHtml) throw _errors.NotARegistry(response);
            var digest = response.Header("Docker-Content-Digest");
            var mediaType = response.ContentType;
            if (!Digests.IsValid(digest) || mediaType == null || !(MediaTypes.IsIndex(mediaType) || MediaTypes.IsImageManifest(mediaType)))
            {
                // Some registries leave the digest out of HEAD answers; the body tells it for certain.
                var manifest = await GetManifestAsync(repository, reference, cancellationToken).ConfigureAwait(false);
                return manifest == null ? null : new ManifestInfo(manifest.MediaType, manifest.Digest, manifest.Bytes.LongLength);
            }
            if (IsDigest(reference) && digest != reference) throw _errors.DigestMismatch(repository, reference, digest!, reference);
            return new ManifestInfo(mediaType, digest!, response.ContentHeaders?.ContentLength ?? -1);
        }

        /// <summary>The manifest of <paramref name="index"/> for a platform; see <see cref="PlatformMatcher.Resolve"/>.</summary>
        public static ManifestDescriptor? ResolvePlatform(RegistryManifest index, string os, string architecture, string? variant = null) =>
            PlatformMatcher.Resolve(index, os, architecture, variant);

        /// <summary>
        /// The image config blob (labels, platform). Configs are content-addressed, so the on-disk cache
        /// (<see cref="RegistryClientOptions.ConfigCacheDirectory"/>) never goes stale.
        /// </summary>
        public async Task<ImageConfig> GetConfigAsync(string repository, string configDigest, CancellationToken cancellationToken = default)
        {
            CheckRepository(repository);
            if (!Digests.IsValid(configDigest))
                throw new ImageToolsException("InvalidDigest", FaultKind.InvalidArgument,
                    $"'{configDigest}' is not a sha256 or sha512 digest in lower-case hex.");
            var cached = _configCache?.TryRead(configDigest);
            if (cached != null)
            {
                var json = ParseConfig(cached, repository, configDigest, fromCache: true);
                if (json != null)
                {
                    _options.Progress?.Report(new RegistryEvent(RegistryEventKind.CacheHit, Registry, $"config {configDigest} from the cache"));
                    return new ImageConfig(configDigest, cached, json);
                }
            }

            var uri = await _transport.ApiUriAsync($"{repository}/blobs/{configDigest}", cancellationToken).ConfigureAwait(false);
            var response = await _transport.SendAsync(HttpMethod.Get, uri, Pull(repository), MaxConfigBytes, cancellationToken).ConfigureAwait(false);
            if (response.Status != HttpStatusCode.OK) throw _errors.Failure(response, $"send the config {configDigest} of {repository}");
            if (!Digests.Matches(configDigest, response.Body))
                throw _errors.DigestMismatch(repository, configDigest, Digests.ComputeLike(configDigest, response.Body), configDigest);
            var parsed = ParseConfig(response.Body, repository, configDigest, fromCache: false)!;
            _configCache?.Write(configDigest, response.Body);
            return new ImageConfig(configDigest, response.Body, parsed);
        }

        /// <summary>Every tag of a repository, following the Link header page by page; empty when the repository does not exist.</summary>
        public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, int pageSize = 1000, CancellationToken cancellationToken = default)
        {
            CheckRepository(repository);
            if (pageSize < 1) throw new ArgumentOutOfRangeException(nameof(pageSize));
            var uri = await _transport.ApiUriAsync($"{repository}/tags/list?n={pageSize.ToString(CultureInfo.InvariantCulture)}", cancellationToken).ConfigureAwait(false);
            var tags = new List<string>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var page = 0; uri != null; page++)
            {
                var response = await _transport.SendAsync(HttpMethod.Get, uri, Pull(repository), MaxConfigBytes, cancellationToken).ConfigureAwait(false);
                if (response.Status == HttpStatusCode.NotFound && !response.LooksLikeHtml && page == 0) return tags;
                if (response.Status != HttpStatusCode.OK) throw _errors.Failure(response, $"list the tags of {repository}");
                if (response.LooksLikeHtml) throw _errors.NotARegistry(response);
                JsonValue json;
                try { json = JsonValue.Parse(response.Body); }
                catch (JsonFormatException e) { throw _errors.InvalidAnswer(response, $"the tag list of {repository} is not JSON ({e.Message})"); }
                var list = json["tags"];
                if (list != null && list.Kind == JsonKind.Array)
                    foreach (var tag in list.Items)
                        if (tag.AsString != null && seen.Add(tag.AsString)) tags.Add(tag.AsString);
                var next = NextLink(response);
                if (next == null) break;
                var nextUri = new Uri(response.RequestUri, next);
                if (!string.Equals(nextUri.Authority, uri.Authority, StringComparison.OrdinalIgnoreCase) || nextUri == uri)
                    throw _errors.InvalidAnswer(response, $"the tag list of {repository} links its next page to '{next}'");
                uri = nextUri;
            }
            return tags;
        }

        /// <summary>Stores a manifest under a tag (or digest) with its exact bytes; returns its digest.</summary>
        public async Task<string> PutManifestAsync(string repository, string reference, byte[] manifest, string mediaType,
            CancellationToken cancellationToken = default)
        {
            CheckRepository(repository);
            CheckReference(reference);
            var digest = Digests.Sha256(manifest);
            if (IsDigest(reference) && !Digests.Matches(reference, manifest))
                throw new ImageToolsException("InvalidDigest", FaultKind.InvalidArgument,
                    $"The manifest's digest is {Digests.ComputeLike(reference, manifest)}, not {reference}; a manifest can only be stored under its own digest.");
            var uri = await _transport.ApiUriAsync($"{repository}/manifests/{reference}", cancellationToken).ConfigureAwait(false);
            var response = await _transport.SendAsync(HttpMethod.Put, uri, Push(repository), MaxSmallBody, cancellationToken,
                content: manifest, contentType: mediaType).ConfigureAwait(false);
            if (response.Status != HttpStatusCode.Created && response.Status != HttpStatusCode.OK)
                throw _errors.Failure(response, $"store the manifest {repository}:{reference}");
            var stored = response.Header("Docker-Content-Digest");
            if (Digests.IsValid(stored) && stored!.StartsWith("sha256:", StringComparison.Ordinal) && stored != digest)
                throw _errors.DigestMismatch(repository, reference, stored, digest);
            return digest;
        }

        /// <summary>True when the repository holds the blob.</summary>
        public async Task<bool> BlobExistsAsync(string repository, string digest, CancellationToken cancellationToken = default)
        {
            CheckRepository(repository);
            CheckDigestArgument(digest);
            var uri = await _transport.ApiUriAsync($"{repository}/blobs/{digest}", cancellationToken).ConfigureAwait(false);
            var response = await _transport.SendAsync(HttpMethod.Head, uri, Pull(repository), 0, cancellationToken).ConfigureAwait(false);
            if (response.Status == HttpStatusCode.OK)
            {
                _blobs.Record(repository, digest);
                return true;
            }
            if (response.Status == HttpStatusCode.NotFound && !response.LooksLikeHtml)
            {
                _blobs.Forget(repository, digest);
                return false;
            }
            throw _errors.Failure(response, $"say whether {repository} holds {digest}");
        }

        /// <summary>
        /// A blob's bytes as a stream that reads the registry's answer as the caller reads it (a layer copied to
        /// another registry is never held whole in memory), checked against <paramref name="digest"/> and
        /// <paramref name="size"/> at its end (<see cref="VerifiedBlobStream"/>). The caller disposes it. Getting
        /// the answer is retried like any request; a connection that breaks mid-body fails the read (Unreachable).
        /// </summary>
        public async Task<Stream> OpenBlobAsync(string repository, string digest, long? size = null, CancellationToken cancellationToken = default)
        {
            CheckRepository(repository);
            CheckDigestArgument(digest);
            var first = await OpenBlobFromAsync(repository, digest, 0, cancellationToken).ConfigureAwait(false);
            var resuming = new ResumingStream(first, (offset, token) => OpenBlobFromAsync(repository, digest, offset, token),
                (failure, attempt, token) => _transport.WaitBeforeRetryAsync($"GET {repository}/blobs/{digest} (resumed)", failure, attempt, token), _transport.MaxAttempts);
            return new VerifiedBlobStream(resuming, digest, size, actual => _errors.DigestMismatch(repository, digest, digest, actual));
        }

        /// <summary>
        /// The blob's body from <paramref name="offset"/> on: a 206 answer to the Range request as it is, or, from a
        /// registry that ignores Range (200, the whole blob), the whole body with its first bytes skipped.
        /// </summary>
        private async Task<Stream> OpenBlobFromAsync(string repository, string digest, long offset, CancellationToken cancellationToken)
        {
            var uri = await _transport.ApiUriAsync($"{repository}/blobs/{digest}", cancellationToken).ConfigureAwait(false);
            var response = await _transport.SendAsync(HttpMethod.Get, uri, Pull(repository), MaxSmallBody, cancellationToken, streamBody: true,
                rangeFrom: offset > 0 ? offset : (long?)null).ConfigureAwait(false);
            var partial = offset > 0 && response.Status == HttpStatusCode.PartialContent;
            if ((response.Status != HttpStatusCode.OK && !partial) || response.Stream == null)
            {
                response.Stream?.Dispose();
                throw _errors.Failure(response, $"send the blob {digest} of {repository}");
            }
            if (offset > 0 && !partial)
            {
                var skip = new byte[81920];
                for (var left = offset; left > 0;)
                {
                    var n = await response.Stream.ReadAsync(skip, 0, (int)Math.Min(skip.Length, left), cancellationToken).ConfigureAwait(false);
                    if (n == 0) break;
                    left -= n;
                }
            }
            return response.Stream;
        }

        /// <summary>
        /// Links a blob from another repository of this registry without uploading it. False when the
        /// registry would not mount it (it then offers an upload, which is cancelled): upload instead.
        /// </summary>
        public async Task<bool> MountBlobAsync(string repository, string digest, string fromRepository, CancellationToken cancellationToken = default)
        {
            CheckRepository(repository);
            CheckRepository(fromRepository);
            CheckDigestArgument(digest);
            var uri = await _transport.ApiUriAsync($"{repository}/blobs/uploads/?mount={Uri.EscapeDataString(digest)}&from={Uri.EscapeDataString(fromRepository)}",
                cancellationToken).ConfigureAwait(false);
            var scopes = new[] { PushScope(repository), PullScope(fromRepository) };
            var response = await _transport.SendAsync(HttpMethod.Post, uri, scopes, MaxSmallBody, cancellationToken, content: new byte[0]).ConfigureAwait(false);
            if (response.Status == HttpStatusCode.Created)
            {
                _blobs.Record(repository, digest);
                _options.Progress?.Report(new RegistryEvent(RegistryEventKind.BlobMounted, Registry,
                    $"mounted {digest} into {repository} from {fromRepository} (not uploaded)"));
                return true;
            }
            if (response.Status == HttpStatusCode.Accepted)
            {
                var location = UploadLocation(response, repository);
                try
                {
                    await _transport.SendAsync(HttpMethod.Delete, location, Push(repository), MaxSmallBody, cancellationToken).ConfigureAwait(false);
                }
                catch (ImageToolsException)
                {
                    // An abandoned upload session expires on its own; the mount answer stands.
                }
                return false;
            }
            throw _errors.Failure(response, $"mount {digest} from {fromRepository} into {repository}");
        }

        /// <summary>Uploads a blob held in memory; returns its digest.</summary>
        public async Task<string> UploadBlobAsync(string repository, byte[] content, CancellationToken cancellationToken = default)
        {
            var digest = Digests.Sha256(content);
            using var stream = new MemoryStream(content, writable: false);
            await UploadBlobAsync(repository, digest, stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            return digest;
        }

        /// <summary>
        /// Uploads a blob of any size in chunks (POST, a PATCH per chunk, then PUT with the digest), so
        /// that no request holds more than <paramref name="chunkSize"/> bytes or runs longer than one
        /// chunk takes. <paramref name="digest"/> is the content's, checked by the registry.
        /// </summary>
        public async Task UploadBlobAsync(string repository, string digest, Stream content, int chunkSize = DefaultChunkSize,
            CancellationToken cancellationToken = default)
        {
            CheckRepository(repository);
            CheckDigestArgument(digest);
            var start = await _transport.ApiUriAsync($"{repository}/blobs/uploads/", cancellationToken).ConfigureAwait(false);
            var response = await _transport.SendAsync(HttpMethod.Post, start, Push(repository), MaxSmallBody, cancellationToken, content: new byte[0]).ConfigureAwait(false);
            if (response.Status != HttpStatusCode.Accepted) throw _errors.Failure(response, $"start an upload to {repository}");
            var location = UploadLocation(response, repository);
            var buffer = new byte[chunkSize];
            long offset = 0;
            while (true)
            {
                var length = await ReadChunkAsync(content, buffer, cancellationToken).ConfigureAwait(false);
                if (length == 0) break;
                var chunk = length == buffer.Length ? buffer : buffer.Take(length).ToArray();
                response = await _transport.SendAsync(new HttpMethod("PATCH"), location, Push(repository), MaxSmallBody, cancellationToken,
                    content: chunk, contentType: "application/octet-stream", contentRange: $"{offset}-{offset + length - 1}").ConfigureAwait(false);
                if (response.Status != HttpStatusCode.Accepted) throw _errors.Failure(response, $"upload bytes {offset}-{offset + length - 1} of {digest} to {repository}");
                location = UploadLocation(response, repository);
                offset += length;
            }
            var put = new UriBuilder(location);
            var query = put.Query.TrimStart('?');
            put.Query = (query.Length > 0 ? query + "&" : "") + "digest=" + Uri.EscapeDataString(digest);
            response = await _transport.SendAsync(HttpMethod.Put, put.Uri, Push(repository), MaxSmallBody, cancellationToken, content: new byte[0]).ConfigureAwait(false);
            if (response.Status != HttpStatusCode.Created) throw _errors.Failure(response, $"finish the upload of {digest} to {repository}");
            _blobs.Record(repository, digest);
            _options.Progress?.Report(new RegistryEvent(RegistryEventKind.BlobUploaded, Registry, $"uploaded {digest} ({offset} bytes) to {repository}"));
        }

        private static async Task<int> ReadChunkAsync(Stream content, byte[] buffer, CancellationToken cancellationToken)
        {
            var read = 0;
            while (read < buffer.Length)
            {
                var n = await content.ReadAsync(buffer, read, buffer.Length - read, cancellationToken).ConfigureAwait(false);
                if (n == 0) break;
                read += n;
            }
            return read;
        }

        // ---------------------------------------------------------------- checks and errors

        private static IReadOnlyList<string> Pull(string repository) => new[] { PullScope(repository) };
        private static IReadOnlyList<string> Push(string repository) => new[] { PushScope(repository) };
        private static string PullScope(string repository) => $"repository:{repository}:pull";
        private static string PushScope(string repository) => $"repository:{repository}:pull,push";

        private static bool IsDigest(string reference) => reference.IndexOf(':') >= 0;

        private static void CheckRepository(string repository)
        {
            if (!References.ImageReference.IsValidRepository(repository))
                throw new ImageToolsException("InvalidRepository", FaultKind.InvalidArgument,
                    $"'{repository}' is not a repository name: use lower-case path components like 'team/app', without registry or tag.");
        }

        private static void CheckReference(string reference)
        {
            if (reference == null || !(References.ImageReference.IsValidTag(reference) || Digests.IsValid(reference)))
                throw new ImageToolsException("InvalidTag", FaultKind.InvalidArgument,
                    $"'{reference}' is neither a tag (letters, digits, '_', '.', '-', up to 128) nor a sha256/sha512 digest.");
        }

        private static void CheckDigestArgument(string digest)
        {
            if (!Digests.IsValid(digest))
                throw new ImageToolsException("InvalidDigest", FaultKind.InvalidArgument,
                    $"'{digest}' is not a sha256 or sha512 digest in lower-case hex.");
        }

        /// <summary>The digest of a manifest answer: the header's when it matches the bytes, the bytes' when there is none.</summary>
        private string CheckDigest(RegistryResponse response, byte[] body, string repository, string reference)
        {
            var header = response.Header("Docker-Content-Digest");
            var computed = Digests.IsValid(header) ? Digests.ComputeLike(header!, body) : Digests.Sha256(body);
            if (Digests.IsValid(header) && header != computed) throw _errors.DigestMismatch(repository, reference, header!, computed);
            if (IsDigest(reference) && Digests.IsValid(reference) && Digests.ComputeLike(reference, body) != reference)
                throw _errors.DigestMismatch(repository, reference, Digests.ComputeLike(reference, body), reference);
            return computed;
        }

        private JsonValue? ParseConfig(byte[] bytes, string repository, string digest, bool fromCache)
        {
            try
            {
                var json = JsonValue.Parse(bytes);
                if (json.Kind == JsonKind.Object) return json;
            }
            catch (JsonFormatException)
            {
            }
            if (fromCache) return null;
            throw _errors.InvalidConfig(repository, digest);
        }

        private Uri UploadLocation(RegistryResponse response, string repository)
        {
            var location = response.Headers.Location;
            if (location == null) throw _errors.InvalidAnswer(response, $"an upload to {repository} was accepted without a Location");
            return location.IsAbsoluteUri ? location : new Uri(response.RequestUri, location);
        }

        private static string? NextLink(RegistryResponse response)
        {
            if (!response.Headers.TryGetValues("Link", out var values)) return null;
            foreach (var value in values)
                foreach (var part in value.Split(','))
                {
                    var open = part.IndexOf('<');
                    var close = part.IndexOf('>');
                    if (open < 0 || close < open) continue;
                    var parameters = part.Substring(close + 1).Replace(" ", "");
                    if (parameters.IndexOf("rel=\"next\"", StringComparison.OrdinalIgnoreCase) >= 0 ||
                        parameters.IndexOf("rel=next", StringComparison.OrdinalIgnoreCase) >= 0)
                        return part.Substring(open + 1, close - open - 1);
                }
            return null;
        }

        private static bool LooksLikeJson(byte[] body)
        {
            try { JsonValue.Parse(body); return true; }
            catch (JsonFormatException) { return false; }
        }
    }
}
