using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace ImageTools.Registry
{
    /// <summary>
    /// The one place where a registry client's requests are sent: it picks the scheme (HTTPS, or plain
    /// HTTP for loopback and insecure registries that do not speak TLS), authenticates as the registry
    /// challenges it to (<see cref="RegistryAuthenticator"/>), sends each attempt with its own timeout,
    /// reads the whole body, and tries transient failures again under the one <see cref="RetryPolicy"/>.
    /// Which failures are transient, and what error each one becomes, is <see cref="RegistryErrors"/>'s
    /// call. Answers that are not failures of the transport (404, 403, ...) are returned for the API to judge.
    /// An endpoint found down (the retry policy used up on a connection failure) opens its
    /// <see cref="RegistryCircuit"/>: the client's other requests to it fail at once, naming that failure.
    /// </summary>
    internal sealed class RegistryTransport : IDisposable
    {
        private const long MaxSmallBody = 1024 * 1024;

        private readonly string _registry;
        private readonly string _authority;
        private readonly RegistryClientOptions _options;
        private readonly RegistryErrors _errors;
        private readonly CertificateTrust _trust;
        private readonly HttpClient _http;
        private readonly bool _allowsHttp;
        private readonly SemaphoreSlim _schemeLock = new SemaphoreSlim(1, 1);
        private readonly RegistryCircuits _circuits = new RegistryCircuits();
        private Uri? _baseUri;
        private ImageToolsException? _baseUriFailure;
        private readonly object _firstLock = new object();
        private Task? _firstAnswer;

        public RegistryTransport(string registry, string authority, RegistryClientOptions options, RegistryErrors errors)
        {
            _registry = registry;
            _authority = authority;
            _options = options;
            _errors = errors;
            _allowsHttp = AllowsPlainHttp(authority, options.InsecureRegistries);
            _trust = new CertificateTrust(options.CaBundlePath);
            HttpMessageHandler handler = _trust.CreateHandler();
            if (options.WrapHandler != null) handler = options.WrapHandler(handler);
            // Timeouts are per attempt (RequestTimeout), so the client-wide one must not cut retries short.
            _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
            Authenticator = new RegistryAuthenticator(registry, authority, options.Credentials ?? new DockerConfigCredentialSource(),
                options.InsecureRegistries, SendWithRetriesAsync, options.Progress);
        }

        public RegistryAuthenticator Authenticator { get; }

        public void Dispose()
        {
            _http.Dispose();
            _schemeLock.Dispose();
        }

        /// <summary>The URL of an API path under /v2/ ("team/app/manifests/1.0").</summary>
        public async Task<Uri> ApiUriAsync(string path, CancellationToken cancellationToken) =>
            new Uri(await BaseUriAsync(cancellationToken, "/v2/" + path).ConfigureAwait(false), "/v2/" + path);

        /// <summary>
        /// Sends a request, authorised for <paramref name="scopes"/> (token scopes such as
        /// <c>repository:team/app:pull</c>), tried again on transient failures; returns the answer
        /// whatever its status, except a 401 that authorization cannot cure (then the auth error).
        /// </summary>
        public async Task<RegistryResponse> SendAsync(HttpMethod method, Uri uri, IReadOnlyList<string> scopes, long maxBytes,
            CancellationToken cancellationToken, IReadOnlyList<string>? accept = null, byte[]? content = null, string? contentType = null,
            string? contentRange = null, bool streamBody = false, long? rangeFrom = null)
        {
            var effectiveScopes = scopes.ToList();
            // Authorization goes only to the registry itself, never to a host a Location header names.
            var ours = string.Equals(uri.Authority, (await BaseUriAsync(cancellationToken).ConfigureAwait(false)).Authority, StringComparison.OrdinalIgnoreCase);
            var lead = ours && content == null ? await WaitForFirstAnswerAsync(cancellationToken).ConfigureAwait(false) : null;
            try
            {
                return await SendAuthorizedAsync(method, uri, effectiveScopes, ours, maxBytes, cancellationToken, accept, content, contentType, contentRange,
                    streamBody, rangeFrom).ConfigureAwait(false);
            }
            finally { lead?.TrySetResult(true); }
        }

        /// <summary>
        /// Until the registry's challenge is known, one request without a body goes first and the others wait
        /// for its answer: then they all carry authorization up front, instead of every request already in
        /// flight (one per parallel look-up, 32 by default) meeting a 401 and being sent twice. Returns the
        /// completion to signal when this request is the one that goes first, else null.
        /// </summary>
        private async Task<TaskCompletionSource<bool>?> WaitForFirstAnswerAsync(CancellationToken cancellationToken)
        {
            if (Authenticator.KnowsChallenge) return null;
            Task? first;
            lock (_firstLock)
            {
                if (_firstAnswer == null)
                {
                    var lead = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                    _firstAnswer = lead.Task;
                    return lead;
                }
                first = _firstAnswer;
            }
            if (!first.IsCompleted)
            {
                var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                using (cancellationToken.Register(() => cancelled.TrySetResult(true)))
                    await Task.WhenAny(first, cancelled.Task).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
            return null;
        }

        private async Task<RegistryResponse> SendAuthorizedAsync(HttpMethod method, Uri uri, List<string> effectiveScopes, bool ours, long maxBytes,
            CancellationToken cancellationToken, IReadOnlyList<string>? accept, byte[]? content, string? contentType, string? contentRange,
            bool streamBody, long? rangeFrom)
        {
            for (var pass = 0; ; pass++)
            {
                var request = new RegistryRequest(method, uri, maxBytes)
                {
                    Accept = accept ?? Array.Empty<string>(),
                    Content = content,
                    ContentType = contentType,
                    ContentRange = contentRange,
                    StreamBody = streamBody,
                    RangeFrom = rangeFrom,
                    Authorization = ours ? await Authenticator.AuthorizationAsync(effectiveScopes, cancellationToken).ConfigureAwait(false) : null,
                };
                var response = await SendWithRetriesAsync(request, cancellationToken).ConfigureAwait(false);
                if (response.Status != HttpStatusCode.Unauthorized || !ours) return response;
                var challenges = AuthChallenge.Parse(response.WwwAuthenticate);
                var hadAuthorization = request.Authorization != null;
                if (pass == 0 && await Authenticator.AcceptChallengeAsync(challenges, hadAuthorization, effectiveScopes, cancellationToken).ConfigureAwait(false))
                    continue;
                throw await Authenticator.RefusedAsync(request, challenges, hadAuthorization, cancellationToken).ConfigureAwait(false);
            }
        }

        private async Task<RegistryResponse> SendWithRetriesAsync(RegistryRequest request, CancellationToken cancellationToken)
        {
            var circuit = _circuits.For(request.Uri);
            var what = $"{request.Method} {request.Uri.PathAndQuery}";
            try
            {
                return await _options.Retry.ExecuteAsync((attempt, token) =>
                {
                    // Checked before every attempt, so that requests already waiting between retries stop too.
                    circuit.ThrowIfOpen(what);
                    return AttemptAsync(request, token);
                }, (failure, attempt, delay) => ReportRetry($"{request.Method} {request.Uri}", failure, attempt, delay), cancellationToken).ConfigureAwait(false);
            }
            catch (ImageToolsException e)
            {
                circuit.Trip(e, what);
                throw;
            }
        }

        /// <summary>The one retry policy's wait before attempt <paramref name="attempt"/> + 1, reported as a retry like any other (for a stream resumed mid-body).</summary>
        public Task WaitBeforeRetryAsync(string what, TransientFailure failure, int attempt, CancellationToken cancellationToken)
        {
            var delay = _options.Retry.DelayAfter(attempt);
            ReportRetry(what, failure, attempt, delay);
            return Task.Delay(delay, cancellationToken);
        }

        public int MaxAttempts => _options.Retry.MaxAttempts;

        private void ReportRetry(string what, TransientFailure failure, int attempt, TimeSpan delay) =>
            _options.Progress?.Report(new RegistryEvent(RegistryEventKind.Retry, _registry,
                $"{what}: {failure.Message}; attempt {attempt} of {_options.Retry.MaxAttempts} failed, " +
                $"trying again in {delay.TotalSeconds:0.0} s", attempt, delay));

        private async Task<RegistryResponse> AttemptAsync(RegistryRequest request, CancellationToken cancellationToken)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.RequestTimeout);
            var clock = Stopwatch.StartNew();
            try
            {
                using var message = request.ToMessage(_options.UserAgent);
                _trust.ClearCertificateFailure();
                var answer = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                if (request.StreamBody && answer.IsSuccessStatusCode && answer.Content != null)
                {
                    // The body stays open for the caller; each read of it has the request timeout of its own (BodyStream).
                    var opened = new RegistryResponse(answer.StatusCode, answer.ReasonPhrase ?? "", answer.RequestMessage?.RequestUri ?? request.Uri,
                        answer.Headers, answer.Content.Headers, new byte[0]);
                    opened.Stream = new BodyStream(answer, await answer.Content.ReadAsStreamAsync().ConfigureAwait(false), request, _options.RequestTimeout, _errors);
                    _options.Progress?.Report(new RegistryEvent(RegistryEventKind.Request, _registry,
                        $"{request.Method} {request.Uri} -> {(int)answer.StatusCode} ({clock.ElapsedMilliseconds} ms, body streamed)"));
                    return opened;
                }
                using var answerLifetime = answer;
                var body = await ReadBodyAsync(answer, request, timeout.Token).ConfigureAwait(false);
                var response = new RegistryResponse(answer.StatusCode, answer.ReasonPhrase ?? "", answer.RequestMessage?.RequestUri ?? request.Uri,
                    answer.Headers, answer.Content?.Headers, body);
                _options.Progress?.Report(new RegistryEvent(RegistryEventKind.Request, _registry,
                    $"{request.Method} {request.Uri} -> {(int)answer.StatusCode} ({clock.ElapsedMilliseconds} ms)"));
                if (RegistryErrors.IsTransient(answer.StatusCode))
                    throw new TransientFailure($"{(int)answer.StatusCode} {answer.StatusCode}", _errors.Exhausted(response, request), RetryAfter(answer));
                return response;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TransientFailure($"no answer within {_options.RequestTimeout.TotalSeconds:0} s", _errors.Timeout(request, _options.RequestTimeout));
            }
            catch (HttpRequestException e)
            {
                var certificate = _trust.LastCertificateFailure;
                if (certificate != null) throw _errors.TlsFailure(request.Uri, certificate, e);
                if (RegistryErrors.IsUnknownHost(e)) throw _errors.Unreachable(request.Uri, e);
                throw new TransientFailure(RegistryErrors.Innermost(e), _errors.Unreachable(request.Uri, e));
            }
            catch (IOException e)
            {
                throw new TransientFailure(RegistryErrors.Innermost(e), _errors.Unreachable(request.Uri, e));
            }
        }

        private static async Task<byte[]> ReadBodyAsync(HttpResponseMessage answer, RegistryRequest request, CancellationToken cancellationToken)
        {
            if (answer.Content == null || request.Method == HttpMethod.Head) return new byte[0];
            // Error bodies are read too (for their error codes), but never more than a small page.
            var limit = answer.IsSuccessStatusCode ? request.MaxBytes : MaxSmallBody;
            if (answer.Content.Headers.ContentLength > limit) throw RegistryErrors.AnswerTooLarge(request, answer.Content.Headers.ContentLength, limit);
            using var stream = await answer.Content.ReadAsStreamAsync().ConfigureAwait(false);
            // Sized by Content-Length when the answer gives one: a manifest is a few hundred bytes, and an
            // 80 KB chunk per request was most of a no-op check's allocations (1,000 look-ups: 80 MB).
            var length = answer.Content.Headers.ContentLength;
            using var buffer = length is long known && known >= 0 ? new MemoryStream((int)known) : new MemoryStream();
            var chunk = new byte[length is long size && size >= 0 && size < 16384 ? Math.Max(1, (int)size + 1) : 16384];
            int read;
            while ((read = await stream.ReadAsync(chunk, 0, chunk.Length, cancellationToken).ConfigureAwait(false)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > limit) throw RegistryErrors.AnswerTooLarge(request, null, limit);
            }
            return buffer.ToArray();
        }

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
        /// <param name="cancellationToken">Stops the wait for, or the run of, the probe.</param>
        /// <param name="forPath">The API path the caller is about to ask for, named in the error when the registry is found down here.</param>
        public async Task<Uri> BaseUriAsync(CancellationToken cancellationToken, string? forPath = null)
        {
            if (_baseUri != null) return _baseUri;
            var https = new Uri("https://" + _authority + "/");
            var circuit = _circuits.For(https);
            var what = $"GET {forPath ?? "/v2/"}";
            await _schemeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_baseUri != null) return _baseUri;
                // The probe has already waited through its retries: callers queued behind it (one per
                // image) get its answer, or that it was not attempted, instead of each repeating the waits.
                circuit.ThrowIfOpen(what);
                if (_baseUriFailure != null) throw _baseUriFailure;
                if (!_allowsHttp) return _baseUri = https;
                var http = new Uri("http://" + _authority + "/");
                var chosen = await _options.Retry.ExecuteAsync(async (attempt, token) =>
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                    timeout.CancelAfter(_options.RequestTimeout);
                    try
                    {
                        _trust.ClearCertificateFailure();
                        using var message = new RegistryRequest(HttpMethod.Get, new Uri(https, "/v2/"), 0).ToMessage(_options.UserAgent);
                        using var answer = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                        // The probe's 401 names the challenge: the look-ups queued behind it need no 401 of their own.
                        if (answer.StatusCode == HttpStatusCode.Unauthorized && answer.Headers.TryGetValues("WWW-Authenticate", out var challenges))
                            Authenticator.Learn(AuthChallenge.Parse(challenges));
                        return https;
                    }
                    catch (OperationCanceledException) when (!token.IsCancellationRequested)
                    {
                        // A server that takes the connection but never finishes a handshake: most likely plain HTTP that waits for a request.
                        return http;
                    }
                    catch (HttpRequestException e)
                    {
                        var certificate = _trust.LastCertificateFailure;
                        if (certificate != null) throw _errors.TlsFailure(https, certificate, e);
                        if (RegistryErrors.IsUnknownHost(e)) throw _errors.Unreachable(https, e);
                        if (RegistryErrors.IsConnectFailure(e)) throw new TransientFailure(RegistryErrors.Innermost(e), _errors.Unreachable(https, e));
                        return http;
                    }
                    catch (IOException)
                    {
                        return http;
                    }
                }, (failure, attempt, delay) => ReportRetry($"connecting to {_authority}", failure, attempt, delay), cancellationToken).ConfigureAwait(false);
                if (chosen == http)
                    _options.Progress?.Report(new RegistryEvent(RegistryEventKind.Request, _registry,
                        $"{_authority} does not speak TLS; using plain HTTP (allowed for loopback and insecure registries)"));
                return _baseUri = chosen;
            }
            catch (ImageToolsException e)
            {
                if (RegistryCircuit.MeansDown(e)) circuit.Trip(e, what);
                else if (RegistryFailure.Of(e)?.NotAttempted != true) _baseUriFailure = e;
                throw;
            }
            finally
            {
                _schemeLock.Release();
            }
        }

        /// <summary>Loopback hosts (127.0.0.0/8, ::1, localhost) may be spoken to over plain HTTP.</summary>
        public static bool IsLoopback(string host)
        {
            var name = HostOnly(host);
            if (string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase) ||
                name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)) return true;
            return IPAddress.TryParse(name, out var address) && IPAddress.IsLoopback(address);
        }

        /// <summary>The host of host[:port] or [v6]:port, without brackets or port.</summary>
        public static string HostOnly(string hostAndPort)
        {
            if (hostAndPort.StartsWith("[", StringComparison.Ordinal))
            {
                var close = hostAndPort.IndexOf(']');
                return close > 0 ? hostAndPort.Substring(1, close - 1) : hostAndPort;
            }
            var colon = hostAndPort.LastIndexOf(':');
            return colon > 0 && hostAndPort.IndexOf(':') == colon ? hostAndPort.Substring(0, colon) : hostAndPort;
        }

        /// <summary>True when plain HTTP may be used: a loopback host, or one the user names as insecure (host or host:port).</summary>
        public static bool AllowsPlainHttp(string registry, IEnumerable<string> insecureRegistries) =>
            IsLoopback(registry) || insecureRegistries.Any(entry =>
                string.Equals(entry.Trim(), registry, StringComparison.OrdinalIgnoreCase) ||
                string.Equals(entry.Trim(), HostOnly(registry), StringComparison.OrdinalIgnoreCase));
    }
}
