using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Json;
using ImageTools.References;

namespace ImageTools.Registry
{
    /// <summary>What <see cref="RegistryClient.PingAsync"/> learnt about a registry.</summary>
    internal sealed class RegistryPing
    {
        public RegistryPing(string registry, Uri baseUri, string? apiVersion, string? authScheme, bool authenticated)
        {
            Registry = registry;
            BaseUri = baseUri;
            ApiVersion = apiVersion;
            AuthScheme = authScheme;
            Authenticated = authenticated;
        }

        public string Registry { get; }
        /// <summary>https://host/ or, for loopback and insecure registries without TLS, http://host/.</summary>
        public Uri BaseUri { get; }
        /// <summary>The Docker-Distribution-API-Version header, e.g. registry/2.0.</summary>
        public string? ApiVersion { get; }
        /// <summary>Basic, Bearer, or null when the registry asked for no authentication.</summary>
        public string? AuthScheme { get; }
        /// <summary>True when a credential was used (and accepted).</summary>
        public bool Authenticated { get; }
    }

    /// <summary>
    /// A client of one registry's OCI distribution API (HTTP API v2): manifests, config blobs, tags,
    /// blob existence, mounts and uploads. One HttpClient and handler per instance; every call is
    /// tried again on transient faults by <see cref="RetryPolicy"/>, authenticates as the registry
    /// challenges it to, and reports what it does through <see cref="RegistryClientOptions.Progress"/>.
    /// Safe for concurrent calls. Errors are <see cref="ImageToolsException"/>s that say what to do.
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
        private readonly HttpClient _http;
        private readonly RegistryAuthenticator _auth;
        private readonly bool _allowsHttp;
        private readonly SemaphoreSlim _schemeLock = new SemaphoreSlim(1, 1);
        private readonly ConfigCache? _configCache;
        private Uri? _baseUri;
        private ImageToolsException? _baseUriFailure;

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
            _allowsHttp = RegistryTransport.AllowsPlainHttp(Authority, _options.InsecureRegistries);
            _transport = new RegistryTransport(_options.CaBundlePath);
            HttpMessageHandler handler = _transport.CreateHandler();
            if (_options.WrapHandler != null) handler = _options.WrapHandler(handler);
            // Timeouts are per attempt (RequestTimeout), so the client-wide one must not cut retries short.
            _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
            _auth = new RegistryAuthenticator(registry, Authority, _options.Credentials ?? new DockerConfigCredentialSource(),
                _options.InsecureRegistries, SendWithRetriesAsync, _options.Progress);
            if (_options.ConfigCacheDirectory != null) _configCache = new ConfigCache(_options.ConfigCacheDirectory);
        }

        /// <summary>The registry as given (e.g. docker.io).</summary>
        public string Registry { get; }

        /// <summary>host[:port] requests go to.</summary>
        public string Authority { get; }

        /// <summary>Token requests made so far (each scope set once per token lifetime).</summary>
        public int TokenRequests => _auth.TokenRequests;

        public void Dispose()
        {
            _http.Dispose();
            _schemeLock.Dispose();
        }

        public override string ToString() => $"RegistryClient({Registry})";

        // ---------------------------------------------------------------- API

        /// <summary>Checks that the registry answers the v2 API and, when it asks for them, accepts the credentials.</summary>
        public async Task<RegistryPing> PingAsync(CancellationToken cancellationToken = default)
        {
            var baseUri = await BaseUriAsync(cancellationToken).ConfigureAwait(false);
            var response = await SendAsync(HttpMethod.Get, new Uri(baseUri, "/v2/"), Array.Empty<string>(), MaxSmallBody, cancellationToken).ConfigureAwait(false);
            if (response.Status != HttpStatusCode.OK) throw Failure(response, "answer the API version check");
            var apiVersion = response.Header("Docker-Distribution-API-Version");
            if (response.LooksLikeHtml || (apiVersion == null && !LooksLikeJson(response.Body)))
                throw NotARegistry(response);
            var credential = await _auth.CredentialAsync(cancellationToken).ConfigureAwait(false);
            var authorization = await _auth.AuthorizationAsync(Array.Empty<string>(), cancellationToken).ConfigureAwait(false);
            return new RegistryPing(Registry, baseUri, apiVersion, authorization?.Scheme, authorization != null && credential != null);
        }

        /// <summary>The manifest or index a tag or digest names, or null when the registry has no such tag or repository.</summary>
        public async Task<RegistryManifest?> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
        {
            CheckRepository(repository);
            CheckReference(reference);
            var uri = await ApiUriAsync($"{repository}/manifests/{reference}", cancellationToken).ConfigureAwait(false);
            var response = await SendAsync(HttpMethod.Get, uri, Pull(repository), MaxManifestBytes, cancellationToken, MediaTypes.ManifestAccept)
                .ConfigureAwait(false);
            if (response.Status == HttpStatusCode.NotFound && !response.LooksLikeHtml) return null;
            if (response.Status != HttpStatusCode.OK) throw Failure(response, $"send the manifest of {repository}:{reference}");
            if (response.LooksLikeHtml) throw NotARegistry(response);

            var digest = CheckDigest(response, response.Body, repository, reference);
            var error = ManifestParser.Parse(response.ContentType ?? "", digest, response.Body, out var manifest);
            if (error != null)
                throw new ImageToolsException("RegistryManifestInvalid", FaultKind.InvalidData,
                    $"The server at {Authority} sent a manifest for {repository}:{reference} that cannot be read: {error}. " +
                    "It did not answer like a container registry; check the registry address, or push the image again.",
                    imageName: $"{Registry}/{repository}:{reference}");
            return manifest;
        }

        /// <summary>Media type, digest and size of a manifest without its body; null when the tag or repository does not exist.</summary>
        public async Task<ManifestInfo?> HeadManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
        {
            CheckRepository(repository);
            CheckReference(reference);
            var uri = await ApiUriAsync($"{repository}/manifests/{reference}", cancellationToken).ConfigureAwait(false);
            var response = await SendAsync(HttpMethod.Head, uri, Pull(repository), 0, cancellationToken, MediaTypes.ManifestAccept)
                .ConfigureAwait(false);
            if (response.Status == HttpStatusCode.NotFound && !response.LooksLikeHtml) return null;
            if (response.Status != HttpStatusCode.OK) throw Failure(response, $"describe the manifest of {repository}:{reference}");
            if (response.LooksLikeHtml) throw NotARegistry(response);
            var digest = response.Header("Docker-Content-Digest");
            var mediaType = response.ContentType;
            if (!Digests.IsValid(digest) || mediaType == null || !(MediaTypes.IsIndex(mediaType) || MediaTypes.IsImageManifest(mediaType)))
            {
                // Some registries leave the digest out of HEAD answers; the body tells it for certain.
                var manifest = await GetManifestAsync(repository, reference, cancellationToken).ConfigureAwait(false);
                return manifest == null ? null : new ManifestInfo(manifest.MediaType, manifest.Digest, manifest.Bytes.LongLength);
            }
            if (IsDigest(reference) && digest != reference) throw DigestMismatch(repository, reference, digest!, reference);
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

            var uri = await ApiUriAsync($"{repository}/blobs/{configDigest}", cancellationToken).ConfigureAwait(false);
            var response = await SendAsync(HttpMethod.Get, uri, Pull(repository), MaxConfigBytes, cancellationToken).ConfigureAwait(false);
            if (response.Status != HttpStatusCode.OK) throw Failure(response, $"send the config {configDigest} of {repository}");
            if (!Digests.Matches(configDigest, response.Body))
                throw DigestMismatch(repository, configDigest, Digests.ComputeLike(configDigest, response.Body), configDigest);
            var parsed = ParseConfig(response.Body, repository, configDigest, fromCache: false)!;
            _configCache?.Write(configDigest, response.Body);
            return new ImageConfig(configDigest, response.Body, parsed);
        }

        /// <summary>Every tag of a repository, following the Link header page by page; empty when the repository does not exist.</summary>
        public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, int pageSize = 1000, CancellationToken cancellationToken = default)
        {
            CheckRepository(repository);
            if (pageSize < 1) throw new ArgumentOutOfRangeException(nameof(pageSize));
            var uri = await ApiUriAsync($"{repository}/tags/list?n={pageSize.ToString(CultureInfo.InvariantCulture)}", cancellationToken).ConfigureAwait(false);
            var tags = new List<string>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var page = 0; uri != null; page++)
            {
                var response = await SendAsync(HttpMethod.Get, uri, Pull(repository), MaxConfigBytes, cancellationToken).ConfigureAwait(false);
                if (response.Status == HttpStatusCode.NotFound && !response.LooksLikeHtml && page == 0) return tags;
                if (response.Status != HttpStatusCode.OK) throw Failure(response, $"list the tags of {repository}");
                if (response.LooksLikeHtml) throw NotARegistry(response);
                JsonValue json;
                try { json = JsonValue.Parse(response.Body); }
                catch (JsonFormatException e) { throw InvalidAnswer(response, $"the tag list of {repository} is not JSON ({e.Message})"); }
                var list = json["tags"];
                if (list != null && list.Kind == JsonKind.Array)
                    foreach (var tag in list.Items)
                        if (tag.AsString != null && seen.Add(tag.AsString)) tags.Add(tag.AsString);
                var next = NextLink(response);
                if (next == null) break;
                var nextUri = new Uri(response.RequestUri, next);
                if (!string.Equals(nextUri.Authority, uri.Authority, StringComparison.OrdinalIgnoreCase) || nextUri == uri)
                    throw InvalidAnswer(response, $"the tag list of {repository} links its next page to '{next}'");
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
            var uri = await ApiUriAsync($"{repository}/manifests/{reference}", cancellationToken).ConfigureAwait(false);
            var response = await SendAsync(HttpMethod.Put, uri, Push(repository), MaxSmallBody, cancellationToken,
                content: manifest, contentType: mediaType).ConfigureAwait(false);
            if (response.Status != HttpStatusCode.Created && response.Status != HttpStatusCode.OK)
                throw Failure(response, $"store the manifest {repository}:{reference}");
            var stored = response.Header("Docker-Content-Digest");
            if (Digests.IsValid(stored) && stored!.StartsWith("sha256:", StringComparison.Ordinal) && stored != digest)
                throw DigestMismatch(repository, reference, stored, digest);
            return digest;
        }

        /// <summary>True when the repository holds the blob.</summary>
        public async Task<bool> BlobExistsAsync(string repository, string digest, CancellationToken cancellationToken = default)
        {
            CheckRepository(repository);
            CheckDigestArgument(digest);
            var uri = await ApiUriAsync($"{repository}/blobs/{digest}", cancellationToken).ConfigureAwait(false);
            var response = await SendAsync(HttpMethod.Head, uri, Pull(repository), 0, cancellationToken).ConfigureAwait(false);
            if (response.Status == HttpStatusCode.OK) return true;
            if (response.Status == HttpStatusCode.NotFound && !response.LooksLikeHtml) return false;
            throw Failure(response, $"say whether {repository} holds {digest}");
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
            var uri = await ApiUriAsync($"{repository}/blobs/uploads/?mount={Uri.EscapeDataString(digest)}&from={Uri.EscapeDataString(fromRepository)}",
                cancellationToken).ConfigureAwait(false);
            var scopes = new[] { PushScope(repository), PullScope(fromRepository) };
            var response = await SendAsync(HttpMethod.Post, uri, scopes, MaxSmallBody, cancellationToken, content: new byte[0]).ConfigureAwait(false);
            if (response.Status == HttpStatusCode.Created) return true;
            if (response.Status == HttpStatusCode.Accepted)
            {
                var location = UploadLocation(response, repository);
                try
                {
                    await SendAsync(HttpMethod.Delete, location, Push(repository), MaxSmallBody, cancellationToken).ConfigureAwait(false);
                }
                catch (ImageToolsException)
                {
                    // An abandoned upload session expires on its own; the mount answer stands.
                }
                return false;
            }
            throw Failure(response, $"mount {digest} from {fromRepository} into {repository}");
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
            var start = await ApiUriAsync($"{repository}/blobs/uploads/", cancellationToken).ConfigureAwait(false);
            var response = await SendAsync(HttpMethod.Post, start, Push(repository), MaxSmallBody, cancellationToken, content: new byte[0]).ConfigureAwait(false);
            if (response.Status != HttpStatusCode.Accepted) throw Failure(response, $"start an upload to {repository}");
            var location = UploadLocation(response, repository);
            var buffer = new byte[chunkSize];
            long offset = 0;
            while (true)
            {
                var length = await ReadChunkAsync(content, buffer, cancellationToken).ConfigureAwait(false);
                if (length == 0) break;
                var chunk = length == buffer.Length ? buffer : buffer.Take(length).ToArray();
                response = await SendAsync(new HttpMethod("PATCH"), location, Push(repository), MaxSmallBody, cancellationToken,
                    content: chunk, contentType: "application/octet-stream", contentRange: $"{offset}-{offset + length - 1}").ConfigureAwait(false);
                if (response.Status != HttpStatusCode.Accepted) throw Failure(response, $"upload bytes {offset}-{offset + length - 1} of {digest} to {repository}");
                location = UploadLocation(response, repository);
                offset += length;
            }
            var put = new UriBuilder(location);
            var query = put.Query.TrimStart('?');
            put.Query = (query.Length > 0 ? query + "&" : "") + "digest=" + Uri.EscapeDataString(digest);
            response = await SendAsync(HttpMethod.Put, put.Uri, Push(repository), MaxSmallBody, cancellationToken, content: new byte[0]).ConfigureAwait(false);
            if (response.Status != HttpStatusCode.Created) throw Failure(response, $"finish the upload of {digest} to {repository}");
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

        // ---------------------------------------------------------------- HTTP

        private async Task<RegistryResponse> SendAsync(HttpMethod method, Uri uri, IReadOnlyList<string> scopes, long maxBytes,
            CancellationToken cancellationToken, IReadOnlyList<string>? accept = null, byte[]? content = null, string? contentType = null,
            string? contentRange = null)
        {
            var effectiveScopes = scopes.ToList();
            // Authorization goes only to the registry itself, never to a host a Location header names.
            var ours = string.Equals(uri.Authority, (await BaseUriAsync(cancellationToken).ConfigureAwait(false)).Authority, StringComparison.OrdinalIgnoreCase);
            for (var pass = 0; ; pass++)
            {
                var request = new RegistryRequest(method, uri, maxBytes)
                {
                    Accept = accept ?? Array.Empty<string>(),
                    Content = content,
                    ContentType = contentType,
                    ContentRange = contentRange,
                    Authorization = ours ? await _auth.AuthorizationAsync(effectiveScopes, cancellationToken).ConfigureAwait(false) : null,
                };
                var response = await SendWithRetriesAsync(request, cancellationToken).ConfigureAwait(false);
                if (response.Status != HttpStatusCode.Unauthorized || !ours) return response;
                var challenges = AuthChallenge.Parse(response.WwwAuthenticate);
                var hadAuthorization = request.Authorization != null;
                if (pass == 0 && await _auth.AcceptChallengeAsync(challenges, hadAuthorization, effectiveScopes, cancellationToken).ConfigureAwait(false))
                    continue;
                throw await _auth.RefusedAsync(request, challenges, hadAuthorization, cancellationToken).ConfigureAwait(false);
            }
        }

        private Task<RegistryResponse> SendWithRetriesAsync(RegistryRequest request, CancellationToken cancellationToken) =>
            _options.Retry.ExecuteAsync((attempt, token) => AttemptAsync(request, token), (failure, attempt, delay) =>
                _options.Progress?.Report(new RegistryEvent(RegistryEventKind.Retry, Registry,
                    $"{request.Method} {request.Uri}: {failure.Message}; attempt {attempt} of {_options.Retry.MaxAttempts} failed, " +
                    $"trying again in {delay.TotalSeconds:0.0} s", attempt, delay)), cancellationToken);

        private async Task<RegistryResponse> AttemptAsync(RegistryRequest request, CancellationToken cancellationToken)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.RequestTimeout);
            var clock = Stopwatch.StartNew();
            try
            {
                using var message = request.ToMessage(_options.UserAgent);
                _transport.ClearCertificateFailure();
                using var answer = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                var body = await ReadBodyAsync(answer, request, timeout.Token).ConfigureAwait(false);
                var response = new RegistryResponse(answer.StatusCode, answer.ReasonPhrase ?? "", answer.RequestMessage?.RequestUri ?? request.Uri,
                    answer.Headers, answer.Content?.Headers, body);
                _options.Progress?.Report(new RegistryEvent(RegistryEventKind.Request, Registry,
                    $"{request.Method} {request.Uri} -> {(int)answer.StatusCode} ({clock.ElapsedMilliseconds} ms)"));
                if (IsTransient(answer.StatusCode))
                    throw new TransientFailure($"{(int)answer.StatusCode} {answer.StatusCode}", Failure(response, Describe(request), _options.Retry.MaxAttempts),
                        RetryAfter(answer));
                return response;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TransientFailure($"no answer within {_options.RequestTimeout.TotalSeconds:0} s",
                    new ImageToolsException("RegistryTimeout", FaultKind.ResourceUnavailable,
                        $"The registry at {request.Uri.Authority} did not answer {Describe(request)} within {_options.RequestTimeout.TotalSeconds:0} s " +
                        $"({_options.Retry.MaxAttempts} attempts). Is it running and reachable? Try again later."));
            }
            catch (HttpRequestException e)
            {
                var certificate = _transport.LastCertificateFailure;
                if (certificate != null) throw TlsFailure(request.Uri, certificate, e);
                if (IsUnknownHost(e)) throw Unreachable(request.Uri, e);
                throw new TransientFailure(Innermost(e), Unreachable(request.Uri, e));
            }
            catch (IOException e)
            {
                throw new TransientFailure(Innermost(e), Unreachable(request.Uri, e));
            }
        }

        private static async Task<byte[]> ReadBodyAsync(HttpResponseMessage answer, RegistryRequest request, CancellationToken cancellationToken)
        {
            if (answer.Content == null || request.Method == HttpMethod.Head) return new byte[0];
            // Error bodies are read too (for their error codes), but never more than a small page.
            var limit = answer.IsSuccessStatusCode ? request.MaxBytes : MaxSmallBody;
            if (answer.Content.Headers.ContentLength > limit)
                throw new ImageToolsException("RegistryAnswerTooLarge", FaultKind.InvalidData,
                    $"The registry at {request.Uri.Authority} answered {request} with {answer.Content.Headers.ContentLength} bytes, " +
                    $"more than the {limit} expected. Check the registry address.");
            using var stream = await answer.Content.ReadAsStreamAsync().ConfigureAwait(false);
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, 0, chunk.Length, cancellationToken).ConfigureAwait(false)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > limit)
                    throw new ImageToolsException("RegistryAnswerTooLarge", FaultKind.InvalidData,
                        $"The registry at {request.Uri.Authority} answered {request} with more than the {limit} bytes expected. Check the registry address.");
            }
            return buffer.ToArray();
        }

        private static bool IsTransient(HttpStatusCode status) =>
            (int)status == 429 || ((int)status >= 500 && status != HttpStatusCode.NotImplemented && status != HttpStatusCode.HttpVersionNotSupported);

        private static TimeSpan? RetryAfter(HttpResponseMessage answer)
        {
            var retryAfter = answer.Headers.RetryAfter;
            if (retryAfter?.Delta != null) return retryAfter.Delta;
            if (retryAfter?.Date != null)
            {
                var wait = retryAfter.Date.Value - DateTimeOffset.UtcNow;
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
            return null;
        }

        /// <summary>
        /// https unless the registry may be spoken to over plain HTTP (loopback or insecure): then one
        /// HTTPS attempt decides. A server that presents a certificate speaks TLS, so a refused
        /// certificate is a TLS error, never a reason to fall back to HTTP.
        /// </summary>
        private async Task<Uri> BaseUriAsync(CancellationToken cancellationToken)
        {
            if (_baseUri != null) return _baseUri;
            await _schemeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_baseUri != null) return _baseUri;
                // The probe has already waited through its retries: callers queued behind it (one per
                // image) get its answer instead of each repeating the waits, one after the other.
                if (_baseUriFailure != null) throw _baseUriFailure;
                var https = new Uri("https://" + Authority + "/");
                if (!_allowsHttp) return _baseUri = https;
                var http = new Uri("http://" + Authority + "/");
                var chosen = await _options.Retry.ExecuteAsync(async (attempt, token) =>
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                    timeout.CancelAfter(_options.RequestTimeout);
                    try
                    {
                        _transport.ClearCertificateFailure();
                        using var message = new RegistryRequest(HttpMethod.Get, new Uri(https, "/v2/"), 0).ToMessage(_options.UserAgent);
                        using var answer = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                        return https;
                    }
                    catch (OperationCanceledException) when (!token.IsCancellationRequested)
                    {
                        // A server that takes the connection but never finishes a handshake: most likely plain HTTP that waits for a request.
                        return http;
                    }
                    catch (HttpRequestException e)
                    {
                        var certificate = _transport.LastCertificateFailure;
                        if (certificate != null) throw TlsFailure(https, certificate, e);
                        if (IsUnknownHost(e)) throw Unreachable(https, e);
                        if (IsConnectFailure(e)) throw new TransientFailure(Innermost(e), Unreachable(https, e));
                        return http;
                    }
                    catch (IOException)
                    {
                        return http;
                    }
                }, (failure, attempt, delay) => _options.Progress?.Report(new RegistryEvent(RegistryEventKind.Retry, Registry,
                    $"connecting to {Authority}: {failure.Message}; attempt {attempt} of {_options.Retry.MaxAttempts} failed, " +
                    $"trying again in {delay.TotalSeconds:0.0} s", attempt, delay)), cancellationToken).ConfigureAwait(false);
                if (chosen == http)
                    _options.Progress?.Report(new RegistryEvent(RegistryEventKind.Request, Registry,
                        $"{Authority} does not speak TLS; using plain HTTP (allowed for loopback and insecure registries)"));
                return _baseUri = chosen;
            }
            catch (ImageToolsException e)
            {
                _baseUriFailure = e;
                throw;
            }
            finally
            {
                _schemeLock.Release();
            }
        }

        private async Task<Uri> ApiUriAsync(string path, CancellationToken cancellationToken) =>
            new Uri(await BaseUriAsync(cancellationToken).ConfigureAwait(false), "/v2/" + path);

        // A name the resolver says does not exist will not exist a second later; a resolver that
        // cannot answer now (TryAgain) is a transient fault like any other.
        private static bool IsUnknownHost(Exception e)
        {
            for (var inner = e.InnerException; inner != null; inner = inner.InnerException)
                if (inner is SocketException socket)
                    return socket.SocketErrorCode == SocketError.HostNotFound || socket.SocketErrorCode == SocketError.NoData;
            return false;
        }

        private static bool IsConnectFailure(Exception e)
        {
            for (var inner = e.InnerException; inner != null; inner = inner.InnerException)
                if (inner is SocketException socket)
                    return socket.SocketErrorCode == SocketError.ConnectionRefused || socket.SocketErrorCode == SocketError.HostNotFound ||
                           socket.SocketErrorCode == SocketError.HostUnreachable || socket.SocketErrorCode == SocketError.NetworkUnreachable ||
                           socket.SocketErrorCode == SocketError.TryAgain || socket.SocketErrorCode == SocketError.NoData ||
                           socket.SocketErrorCode == SocketError.TimedOut || socket.SocketErrorCode == SocketError.AddressNotAvailable;
            return false;
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
            if (Digests.IsValid(header) && header != computed) throw DigestMismatch(repository, reference, header!, computed);
            if (IsDigest(reference) && Digests.IsValid(reference) && Digests.ComputeLike(reference, body) != reference)
                throw DigestMismatch(repository, reference, Digests.ComputeLike(reference, body), reference);
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
            throw new ImageToolsException("RegistryConfigInvalid", FaultKind.InvalidData,
                $"The config {digest} of {repository} at {Registry} is not a JSON object. Push the image again.",
                imageName: $"{Registry}/{repository}@{digest}");
        }

        private ImageToolsException DigestMismatch(string repository, string reference, string said, string actual) =>
            new ImageToolsException("RegistryDigestMismatch", FaultKind.InvalidData,
                $"The registry at {Authority} sent content for {repository}:{reference} whose digest is {actual}, not {said}. " +
                "The content was altered on the way or in storage; check proxies between here and the registry, and try again.",
                imageName: $"{Registry}/{repository}:{reference}");

        private Uri UploadLocation(RegistryResponse response, string repository)
        {
            var location = response.Headers.Location;
            if (location == null) throw InvalidAnswer(response, $"an upload to {repository} was accepted without a Location");
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

        private static string Describe(RegistryRequest request) => $"{request.Method} {request.Uri.PathAndQuery}";

        private static string Innermost(Exception e)
        {
            var inner = e;
            while (inner.InnerException != null) inner = inner.InnerException;
            return inner == e || e.Message.Contains(inner.Message) ? e.Message : $"{e.Message} {inner.Message}";
        }

        private ImageToolsException Unreachable(Uri uri, Exception e) =>
            new ImageToolsException("RegistryUnreachable", FaultKind.ResourceUnavailable,
                IsUnknownHost(e)
                    ? $"The registry host {uri.Host} is not known ({Innermost(e)}): check the registry name (imagetools.yaml, or the image reference) and this machine's DNS."
                    : $"Cannot reach the registry at {uri.Authority} ({Innermost(e)}, {_options.Retry.MaxAttempts} attempts): is it running? is the address right?",
                inner: e);

        private ImageToolsException TlsFailure(Uri uri, string certificateFailure, Exception e) =>
            new ImageToolsException("RegistryTlsFailure", FaultKind.ResourceUnavailable,
                $"The TLS connection to the registry at {uri.Authority} failed: {certificateFailure}. If the registry uses a private CA, " +
                "pass its certificate as a CA bundle (PEM); if it has no valid certificate at all, name it among insecure_registries.",
                inner: e);

        private ImageToolsException NotARegistry(RegistryResponse response) =>
            new ImageToolsException("RegistryNotARegistry", FaultKind.InvalidData,
                $"The server at {response.RequestUri.Authority} did not answer like a container registry: it sent " +
                $"{(response.LooksLikeHtml ? "an HTML page" : $"'{response.ContentType ?? "no content type"}'")} for {response.RequestUri.AbsolutePath}. " +
                "Check the registry address and port; a web server or proxy may be answering instead.");

        private ImageToolsException InvalidAnswer(RegistryResponse response, string what) =>
            new ImageToolsException("RegistryInvalidAnswer", FaultKind.InvalidData,
                $"The server at {response.RequestUri.Authority} did not answer like a container registry: {what}. Check the registry address.");

        private ImageToolsException Failure(RegistryResponse response, string what, int attempts = 1)
        {
            if (response.LooksLikeHtml && (int)response.Status < 500) return NotARegistry(response);
            var status = $"{(int)response.Status} {response.Status}{ErrorDetail(response)}";
            var target = $"{Registry}";
            switch ((int)response.Status)
            {
                case 403:
                    return new ImageToolsException("RegistryAccessDenied", FaultKind.AuthenticationError,
                        $"The registry {target} denied the request to {what} ({status}). Check that the account may pull or push this repository.");
                case 404:
                    return new ImageToolsException("RegistryNotFound", FaultKind.ObjectNotFound,
                        $"The registry {target} could not {what}: it does not have it ({status}).");
                case 429:
                    return new ImageToolsException("RegistryRateLimited", FaultKind.ResourceUnavailable,
                        $"The registry {target} kept refusing to {what} for too many requests ({status}, {attempts} attempts). " +
                        "Wait and try again, or log in for a higher limit.");
            }
            if ((int)response.Status >= 500)
                return new ImageToolsException("RegistryUnavailable", FaultKind.ResourceUnavailable,
                    $"The registry {target} failed to {what} ({status}, {attempts} attempts). It may be overloaded or broken; try again later.");
            return new ImageToolsException("RegistryRequestRefused", FaultKind.InvalidOperation,
                $"The registry {target} refused to {what} ({status}).");
        }

        /// <summary>": CODE message" from a registry's JSON error body (distribution spec), else "".</summary>
        internal static string ErrorDetail(RegistryResponse response)
        {
            if (response.Body.Length == 0 || response.LooksLikeHtml) return "";
            try
            {
                var errors = JsonValue.Parse(response.Body)["errors"];
                if (errors == null || errors.Kind != JsonKind.Array || errors.Items.Count == 0) return "";
                return ": " + string.Join("; ", errors.Items.Select(e =>
                    $"{e["code"]?.AsString ?? "ERROR"} {e["message"]?.AsString}".Trim()));
            }
            catch (JsonFormatException)
            {
                return "";
            }
        }
    }
}
