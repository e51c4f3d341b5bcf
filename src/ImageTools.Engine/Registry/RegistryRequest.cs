using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;

namespace ImageTools.Registry
{
    /// <summary>One request, kept as data so that every retry sends it afresh (bodies are bytes).</summary>
    internal sealed class RegistryRequest
    {
        public RegistryRequest(HttpMethod method, Uri uri, long maxBytes)
        {
            Method = method;
            Uri = uri;
            MaxBytes = maxBytes;
        }

        public HttpMethod Method { get; }
        public Uri Uri { get; }
        /// <summary>Longest body accepted in the answer.</summary>
        public long MaxBytes { get; }
        public AuthenticationHeaderValue? Authorization { get; set; }
        public IReadOnlyList<string> Accept { get; set; } = Array.Empty<string>();
        public byte[]? Content { get; set; }
        public string? ContentType { get; set; }
        /// <summary>For a chunk of an upload: its first and last byte offsets, <c>0-1023</c>.</summary>
        public string? ContentRange { get; set; }
        /// <summary>
        /// A successful answer's body is not read: it comes back open (<see cref="RegistryResponse.Stream"/>) for the
        /// caller to read as it goes (a blob copied registry to registry, never held whole in memory).
        /// </summary>
        public bool StreamBody { get; set; }
        /// <summary>Ask for the body from this byte on (<c>Range: bytes=N-</c>): a streamed blob resumed after a broken connection.</summary>
        public long? RangeFrom { get; set; }

        private static readonly Version Http2 = new Version(2, 0);

        /// <summary>False on .NET Framework (Windows PowerShell), whose handler refuses HTTP/2 requests.</summary>
        private static readonly bool Http2Allowed =
            !System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.Ordinal);

        public HttpRequestMessage ToMessage(string userAgent)
        {
            var message = new HttpRequestMessage(Method, Uri);
            // Look-ups (no body) ask for HTTP/2 over TLS: the parallel look-ups of a check then share one
            // connection and one TLS handshake instead of one each (about 35 per 1,000 look-ups), and the
            // client spends about a third less CPU (docs/benchmarks.md, 2026-12-03). The runtime falls back to
            // HTTP/1.1 where the server does not offer h2 (ALPN). Uploads keep HTTP/1.1, whose throughput for
            // large bodies is known; .NET Framework's handler speaks only HTTP/1.x.
            if (Content == null && Http2Allowed && Uri.Scheme == Uri.UriSchemeHttps) message.Version = Http2;
            message.Headers.TryAddWithoutValidation("User-Agent", userAgent);
            if (Authorization != null) message.Headers.Authorization = Authorization;
            foreach (var type in Accept) message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
            if (RangeFrom != null) message.Headers.Range = new RangeHeaderValue(RangeFrom, null);
            if (Content != null)
            {
                message.Content = new ByteArrayContent(Content);
                message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(ContentType ?? "application/octet-stream");
                // The registry API's bare "first-last", not HTTP's "bytes first-last/total", so set unchecked.
                if (ContentRange != null) message.Content.Headers.TryAddWithoutValidation("Content-Range", ContentRange);
            }
            return message;
        }

        /// <summary>For messages: method and URL. URLs never carry secrets here (tokens travel in headers or bodies).</summary>
        public override string ToString() => $"{Method} {Uri}";
    }

    /// <summary>An answer with its body read, so that the connection is free and retries see whole bodies.</summary>
    internal sealed class RegistryResponse
    {
        public RegistryResponse(HttpStatusCode status, string reason, Uri requestUri, HttpResponseHeaders headers,
            HttpContentHeaders? contentHeaders, byte[] body)
        {
            Status = status;
            Reason = reason;
            RequestUri = requestUri;
            Headers = headers;
            ContentHeaders = contentHeaders;
            Body = body;
        }

        public HttpStatusCode Status { get; }
        public string Reason { get; }
        /// <summary>The URL finally answered (after redirects).</summary>
        public Uri RequestUri { get; }
        public HttpResponseHeaders Headers { get; }
        public HttpContentHeaders? ContentHeaders { get; }
        public byte[] Body { get; }
        /// <summary>The open body of a successful streamed request (<see cref="RegistryRequest.StreamBody"/>); the caller disposes it.</summary>
        public System.IO.Stream? Stream { get; internal set; }

        public string? ContentType => ContentHeaders?.ContentType?.MediaType;

        public string? Header(string name) =>
            Headers.TryGetValues(name, out var values) ? values.FirstOrDefault()
            : ContentHeaders != null && ContentHeaders.TryGetValues(name, out var contentValues) ? contentValues.FirstOrDefault()
            : null;

        public IEnumerable<string> WwwAuthenticate =>
            Headers.TryGetValues("WWW-Authenticate", out var values) ? values : Enumerable.Empty<string>();

        /// <summary>An HTML page where a registry answers JSON: a web server or proxy, not a registry.</summary>
        public bool LooksLikeHtml
        {
            get
            {
                if (ContentType != null && ContentType.IndexOf("html", StringComparison.OrdinalIgnoreCase) >= 0) return true;
                foreach (var b in Body)
                {
                    if (b == ' ' || b == '\t' || b == '\r' || b == '\n') continue;
                    return b == '<';
                }
                return false;
            }
        }
    }
}
