using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using ImageTools.Json;

namespace ImageTools.Registry
{
    /// <summary>What went wrong between us and a registry, by type: what callers decide on (retry, fall back, give up).</summary>
    internal enum RegistryFailureKind
    {
        /// <summary>No connection, or one dropped before a whole answer (refused, reset, cut off mid-body).</summary>
        Unreachable,
        /// <summary>The resolver says the host does not exist; it will not exist a second later either.</summary>
        UnknownHost,
        /// <summary>No whole answer within the request timeout.</summary>
        Timeout,
        /// <summary>The server's certificate was refused.</summary>
        TlsFailure,
        /// <summary>A 401 that no credential or token could cure (none given, wrong, unsupported scheme).</summary>
        Unauthorized,
        /// <summary>403, or a token without the scope the request needs.</summary>
        Denied,
        /// <summary>404: the repository, manifest, blob or upload session does not exist.</summary>
        NotFound,
        /// <summary>429.</summary>
        RateLimited,
        /// <summary>5xx except 501 and 505 (which say the server will never do it).</summary>
        ServerError,
        /// <summary>Any other refusal (4xx, 501, 505).</summary>
        Refused,
        /// <summary>The server answers, but not as a registry (an HTML page, no v2 API).</summary>
        NotARegistry,
        /// <summary>A registry answer we cannot use: malformed, too large, a digest that does not match the bytes.</summary>
        InvalidAnswer,
        /// <summary>The token service failed, answered without a usable token, or would get credentials in clear text.</summary>
        TokenServiceFailure,
    }

    /// <summary>
    /// The typed cause of a registry error. The client throws <see cref="ImageToolsException"/>s (a stable
    /// ErrorId and a message that says what to do); this is their <see cref="Exception.InnerException"/>,
    /// so that code deciding on a failure reads <see cref="Kind"/>, <see cref="Status"/> and
    /// <see cref="ErrorCodes"/> instead of the message text. <see cref="Of"/> finds it.
    /// </summary>
    internal sealed class RegistryFailure : Exception
    {
        public RegistryFailure(RegistryFailureKind kind, int? status = null, IReadOnlyList<string>? errorCodes = null, Exception? cause = null,
            bool notAttempted = false)
            : base(Describe(kind, status, errorCodes), cause)
        {
            Kind = kind;
            Status = status;
            ErrorCodes = errorCodes ?? Array.Empty<string>();
            NotAttempted = notAttempted;
        }

        public RegistryFailureKind Kind { get; }
        /// <summary>The HTTP status of the answer, when there was one.</summary>
        public int? Status { get; }
        /// <summary>The <c>errors[].code</c> values of the answer's body (distribution spec), e.g. BLOB_UNKNOWN, DENIED.</summary>
        public IReadOnlyList<string> ErrorCodes { get; }

        /// <summary>
        /// True when the request was never sent: its endpoint was found down earlier in the run (<see cref="RegistryCircuit"/>);
        /// the cause is that first failure, and <see cref="Kind"/> is its kind.
        /// </summary>
        public bool NotAttempted { get; }

        /// <summary>True for faults that another attempt can get past: the retry policy tries these again.</summary>
        public bool IsTransient => IsTransientKind(Kind);

        public static bool IsTransientKind(RegistryFailureKind kind) =>
            kind == RegistryFailureKind.Unreachable || kind == RegistryFailureKind.Timeout ||
            kind == RegistryFailureKind.RateLimited || kind == RegistryFailureKind.ServerError;

        /// <summary>The typed cause of <paramref name="error"/> (itself or an inner exception); null when it did not come from a registry.</summary>
        public static RegistryFailure? Of(Exception? error)
        {
            for (var e = error; e != null; e = e.InnerException)
                if (e is RegistryFailure failure) return failure;
            return null;
        }

        // Built from the kind, status and error codes only: never a URL's query, a header or a body.
        private static string Describe(RegistryFailureKind kind, int? status, IReadOnlyList<string>? codes) =>
            kind + (status.HasValue ? $" ({status})" : "") + (codes != null && codes.Count > 0 ? ": " + string.Join(", ", codes) : "");
    }

    /// <summary>
    /// The error mapping of one registry client: HTTP statuses, the distribution spec's JSON error bodies
    /// and socket failures become <see cref="ImageToolsException"/>s with a stable ErrorId, a
    /// <see cref="FaultKind"/> and a <see cref="RegistryFailure"/> inside. The one place that knows which
    /// answers are transient (<see cref="KindOf"/>); the transport retries exactly those.
    /// </summary>
    internal sealed class RegistryErrors
    {
        private readonly string _registry;
        private readonly string _authority;
        private readonly int _maxAttempts;

        public RegistryErrors(string registry, string authority, int maxAttempts)
        {
            _registry = registry;
            _authority = authority;
            _maxAttempts = maxAttempts;
        }

        public static ImageToolsException Create(RegistryFailureKind kind, string errorId, FaultKind fault, string message,
            int? status = null, IReadOnlyList<string>? errorCodes = null, Exception? cause = null, string? imageName = null) =>
            new ImageToolsException(errorId, fault, message, imageName: imageName, inner: new RegistryFailure(kind, status, errorCodes, cause));

        /// <summary>What an answer's status means; null for the ones that are answers, not failures (2xx, 3xx).</summary>
        public static RegistryFailureKind? KindOf(HttpStatusCode status)
        {
            var code = (int)status;
            if (code < 400) return null;
            switch (code)
            {
                case 401: return RegistryFailureKind.Unauthorized;
                case 403: return RegistryFailureKind.Denied;
                case 404: return RegistryFailureKind.NotFound;
                case 429: return RegistryFailureKind.RateLimited;
                case 501:
                case 505: return RegistryFailureKind.Refused;
            }
            return code >= 500 ? RegistryFailureKind.ServerError : RegistryFailureKind.Refused;
        }

        public static bool IsTransient(HttpStatusCode status) => KindOf(status) is RegistryFailureKind kind && RegistryFailure.IsTransientKind(kind);

        /// <summary>The error for an answer that is not what <paramref name="what"/> needed ("send the manifest of team/app:1").</summary>
        public ImageToolsException Failure(RegistryResponse response, string what, int attempts = 1)
        {
            if (response.LooksLikeHtml && (int)response.Status < 500) return NotARegistry(response);
            var codes = ErrorCodes(response);
            var status = $"{(int)response.Status} {response.Status}{ErrorDetail(response)}";
            var kind = KindOf(response.Status) ?? RegistryFailureKind.InvalidAnswer;
            switch (kind)
            {
                case RegistryFailureKind.Denied:
                    return Create(kind, "RegistryAccessDenied", FaultKind.AuthenticationError,
                        $"The registry {_registry} denied the request to {what} ({status}). Check that the account may pull or push this repository.",
                        (int)response.Status, codes);
                case RegistryFailureKind.NotFound:
                    return Create(kind, "RegistryNotFound", FaultKind.ObjectNotFound,
                        $"The registry {_registry} could not {what}: it does not have it ({status}).", (int)response.Status, codes);
                case RegistryFailureKind.RateLimited:
                    return Create(kind, "RegistryRateLimited", FaultKind.ResourceUnavailable,
                        $"The registry {_registry} kept refusing to {what} for too many requests ({status}, {attempts} attempts). " +
                        "Wait and try again, or log in for a higher limit.", (int)response.Status, codes);
            }
            if ((int)response.Status >= 500)
                return Create(kind, "RegistryUnavailable", FaultKind.ResourceUnavailable,
                    $"The registry {_registry} failed to {what} ({status}, {attempts} attempts). It may be overloaded or broken; try again later.",
                    (int)response.Status, codes);
            return Create(kind, "RegistryRequestRefused", FaultKind.InvalidOperation,
                $"The registry {_registry} refused to {what} ({status}).", (int)response.Status, codes);
        }

        /// <summary>A transient answer: the error the caller sees when the retry policy has no attempt left.</summary>
        public ImageToolsException Exhausted(RegistryResponse response, RegistryRequest request) =>
            Failure(response, $"{request.Method} {request.Uri.PathAndQuery}", _maxAttempts);

        public ImageToolsException Timeout(RegistryRequest request, TimeSpan timeout) =>
            Create(RegistryFailureKind.Timeout, "RegistryTimeout", FaultKind.ResourceUnavailable,
                $"The registry at {request.Uri.Authority} did not answer {request.Method} {request.Uri.PathAndQuery} within {timeout.TotalSeconds:0} s " +
                $"({_maxAttempts} attempts). Is it running and reachable? Try again later.");

        /// <summary>A connection that failed or broke; <see cref="RegistryFailureKind.UnknownHost"/> when the name does not resolve.</summary>
        public ImageToolsException Unreachable(Uri uri, Exception e) =>
            IsUnknownHost(e)
                ? Create(RegistryFailureKind.UnknownHost, "RegistryUnreachable", FaultKind.ResourceUnavailable,
                    $"The registry host {uri.Host} is not known ({Innermost(e)}): check the registry name (imagetools.yaml, or the image reference) and this machine's DNS.",
                    cause: e)
                : Create(RegistryFailureKind.Unreachable, "RegistryUnreachable", FaultKind.ResourceUnavailable,
                    $"Cannot reach the registry at {uri.Authority} ({Innermost(e)}, {_maxAttempts} attempts): is it running? is the address right?",
                    cause: e);

        public ImageToolsException TlsFailure(Uri uri, string certificateFailure, Exception e) =>
            Create(RegistryFailureKind.TlsFailure, "RegistryTlsFailure", FaultKind.ResourceUnavailable,
                $"The TLS connection to the registry at {uri.Authority} failed: {certificateFailure}. If the registry uses a private CA, " +
                "pass its certificate as a CA bundle (PEM); if it has no valid certificate at all, name it among insecure_registries.",
                cause: e);

        public ImageToolsException NotARegistry(RegistryResponse response) =>
            Create(RegistryFailureKind.NotARegistry, "RegistryNotARegistry", FaultKind.InvalidData,
                $"The server at {response.RequestUri.Authority} did not answer like a container registry: it sent " +
                $"{(response.LooksLikeHtml ? "an HTML page" : $"'{response.ContentType ?? "no content type"}'")} for {response.RequestUri.AbsolutePath}. " +
                "Check the registry address and port; a web server or proxy may be answering instead.", (int)response.Status);

        public ImageToolsException InvalidAnswer(RegistryResponse response, string what) =>
            Create(RegistryFailureKind.InvalidAnswer, "RegistryInvalidAnswer", FaultKind.InvalidData,
                $"The server at {response.RequestUri.Authority} did not answer like a container registry: {what}. Check the registry address.",
                (int)response.Status);

        public ImageToolsException InvalidManifest(string repository, string reference, string error) =>
            Create(RegistryFailureKind.InvalidAnswer, "RegistryManifestInvalid", FaultKind.InvalidData,
                $"The server at {_authority} sent a manifest for {repository}:{reference} that cannot be read: {error}. " +
                "It did not answer like a container registry; check the registry address, or push the image again.",
                imageName: $"{_registry}/{repository}:{reference}");

        public ImageToolsException InvalidConfig(string repository, string digest) =>
            Create(RegistryFailureKind.InvalidAnswer, "RegistryConfigInvalid", FaultKind.InvalidData,
                $"The config {digest} of {repository} at {_registry} is not a JSON object. Push the image again.",
                imageName: $"{_registry}/{repository}@{digest}");

        public ImageToolsException DigestMismatch(string repository, string reference, string said, string actual) =>
            Create(RegistryFailureKind.InvalidAnswer, "RegistryDigestMismatch", FaultKind.InvalidData,
                $"The registry at {_authority} sent content for {repository}:{reference} whose digest is {actual}, not {said}. " +
                "The content was altered on the way or in storage; check proxies between here and the registry, and try again.",
                imageName: $"{_registry}/{repository}:{reference}");

        public static ImageToolsException AnswerTooLarge(RegistryRequest request, long? length, long limit) =>
            Create(RegistryFailureKind.InvalidAnswer, "RegistryAnswerTooLarge", FaultKind.InvalidData,
                length.HasValue
                    ? $"The registry at {request.Uri.Authority} answered {request} with {length} bytes, more than the {limit} expected. Check the registry address."
                    : $"The registry at {request.Uri.Authority} answered {request} with more than the {limit} bytes expected. Check the registry address.");

        /// <summary>": CODE message" from a registry's JSON error body (distribution spec), else "".</summary>
        public static string ErrorDetail(RegistryResponse response)
        {
            var errors = Errors(response);
            return errors.Count == 0 ? "" : ": " + string.Join("; ", errors.Select(e => $"{e.Code} {e.Message}".Trim()));
        }

        /// <summary>The <c>errors[].code</c> values of a JSON error body (distribution spec).</summary>
        public static IReadOnlyList<string> ErrorCodes(RegistryResponse response) => Errors(response).Select(e => e.Code).ToList();

        private static IReadOnlyList<(string Code, string? Message)> Errors(RegistryResponse response)
        {
            if (response.Body.Length == 0 || response.LooksLikeHtml) return Array.Empty<(string, string?)>();
            try
            {
                var errors = JsonValue.Parse(response.Body)["errors"];
                if (errors == null || errors.Kind != JsonKind.Array) return Array.Empty<(string, string?)>();
                return errors.Items.Select(e => (e["code"]?.AsString ?? "ERROR", e["message"]?.AsString)).ToList();
            }
            catch (JsonFormatException)
            {
                return Array.Empty<(string, string?)>();
            }
        }

        // A name the resolver says does not exist will not exist a second later; a resolver that
        // cannot answer now (TryAgain) is a transient fault like any other.
        public static bool IsUnknownHost(Exception e)
        {
            for (var inner = e.InnerException; inner != null; inner = inner.InnerException)
                if (inner is SocketException socket)
                    return socket.SocketErrorCode == SocketError.HostNotFound || socket.SocketErrorCode == SocketError.NoData;
            return false;
        }

        /// <summary>True when no connection was made at all (as opposed to one that broke, or a server that speaks no TLS).</summary>
        public static bool IsConnectFailure(Exception e)
        {
            for (var inner = e.InnerException; inner != null; inner = inner.InnerException)
                if (inner is SocketException socket)
                    return socket.SocketErrorCode == SocketError.ConnectionRefused || socket.SocketErrorCode == SocketError.HostNotFound ||
                           socket.SocketErrorCode == SocketError.HostUnreachable || socket.SocketErrorCode == SocketError.NetworkUnreachable ||
                           socket.SocketErrorCode == SocketError.TryAgain || socket.SocketErrorCode == SocketError.NoData ||
                           socket.SocketErrorCode == SocketError.TimedOut || socket.SocketErrorCode == SocketError.AddressNotAvailable;
            return false;
        }

        /// <summary>The message of an exception and of its innermost cause, for users (the cause says what the socket saw).</summary>
        public static string Innermost(Exception e)
        {
            var inner = e;
            while (inner.InnerException != null) inner = inner.InnerException;
            return inner == e || e.Message.Contains(inner.Message) ? e.Message : $"{e.Message} {inner.Message}";
        }
    }
}
