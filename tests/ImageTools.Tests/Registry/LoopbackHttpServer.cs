using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Json;

namespace ImageTools.Tests.Registry
{
    /// <summary>A tiny HTTP server on 127.0.0.1 answering with a test's handler.</summary>
    public sealed class LoopbackHttpServer : IDisposable
    {
        private readonly HttpListener _listener = new HttpListener();
        private readonly Func<HttpListenerContext, Task> _handler;
        private readonly Task _loop;

        public LoopbackHttpServer(Func<HttpListenerContext, Task> handler)
        {
            _handler = handler;
            for (var tries = 0; ; tries++)
            {
                Port = RegistryServer.FreePort();
                _listener.Prefixes.Clear();
                _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
                try { _listener.Start(); break; }
                catch (HttpListenerException) when (tries < 5) { }
            }
            _loop = Task.Run(LoopAsync);
        }

        public int Port { get; }
        public string Address => $"127.0.0.1:{Port}";

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                _ = Task.Run(async () =>
                {
                    try { await _handler(context); }
                    catch (Exception) { context.Response.StatusCode = 500; }
                    finally { try { context.Response.Close(); } catch (Exception) { } }
                });
            }
        }

        public static async Task WriteAsync(HttpListenerContext context, int status, string contentType, string body,
            IDictionary<string, string>? headers = null)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = contentType;
            foreach (var header in headers ?? new Dictionary<string, string>()) context.Response.AddHeader(header.Key, header.Value);
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Response.ContentLength64 = bytes.Length;
            if (context.Request.HttpMethod != "HEAD") await context.Response.OutputStream.WriteAsync(bytes, 0, bytes.Length);
        }

        public void Dispose()
        {
            try { _listener.Stop(); _listener.Close(); }
            catch (ObjectDisposedException) { }
        }
    }

    /// <summary>
    /// A docker token service (the "token" auth of distribution): issues RS256 JWTs whose x5c header
    /// carries a signing certificate issued by a CA in the registry's rootcertbundle. Alice with the
    /// right password may pull and push everything; anonymous callers may pull; anyone else is refused.
    /// </summary>
    public sealed class TokenServer : IDisposable
    {
        private readonly X509Certificate2 _ca;
        private readonly X509Certificate2 _signer;
        private readonly LoopbackHttpServer _http;

        public TokenServer(string service, string issuer)
        {
            Service = service;
            Issuer = issuer;
            _ca = TestCertificates.CreateCa("ImageTools test token CA");
            _signer = TestCertificates.CreateServer(_ca, "imagetools-token-signer", forServer: false);
            RootBundlePem = TestCertificates.Pem(_ca);
            _http = new LoopbackHttpServer(HandleAsync);
        }

        public string Service { get; }
        public string Issuer { get; }
        public string RootBundlePem { get; }
        public string Realm => $"http://{_http.Address}/token";
        /// <summary>An identity token that POST grant_type=refresh_token exchanges for alice's access.</summary>
        public string RefreshToken { get; } = "refresh-" + Guid.NewGuid().ToString("N");

        /// <summary>Each token request as "METHOD user scope scope…".</summary>
        public ConcurrentQueue<string> Requests { get; } = new ConcurrentQueue<string>();

        private async Task HandleAsync(HttpListenerContext context)
        {
            var request = context.Request;
            string? user = null;
            var authorized = false;
            var scopes = new List<string>();
            if (request.HttpMethod == "POST")
            {
                string body;
                using (var reader = new StreamReader(request.InputStream, Encoding.UTF8)) body = await reader.ReadToEndAsync();
                var form = body.Split('&').Select(p => p.Split(new[] { '=' }, 2))
                    .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "");
                if (form.TryGetValue("grant_type", out var grant) && grant == "refresh_token" &&
                    form.TryGetValue("refresh_token", out var refresh) && refresh == RefreshToken)
                {
                    user = RegistryServer.User;
                    authorized = true;
                }
                else
                {
                    await LoopbackHttpServer.WriteAsync(context, 401, "application/json", "{\"error\":\"invalid_grant\"}");
                    Requests.Enqueue("POST refused");
                    return;
                }
                if (form.TryGetValue("scope", out var scope)) scopes.AddRange(scope.Split(' ').Where(s => s.Length > 0));
            }
            else
            {
                var header = request.Headers["Authorization"];
                if (header != null && header.StartsWith("Basic "))
                {
                    var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Substring(6)));
                    var colon = decoded.IndexOf(':');
                    user = decoded.Substring(0, colon);
                    authorized = user == RegistryServer.User && decoded.Substring(colon + 1) == RegistryServer.Password;
                    if (!authorized)
                    {
                        Requests.Enqueue($"GET {user} refused");
                        await LoopbackHttpServer.WriteAsync(context, 401, "application/json", "{\"details\":\"bad credentials\"}");
                        return;
                    }
                }
                scopes.AddRange(request.QueryString.GetValues("scope") ?? new string[0]);
            }
            Requests.Enqueue($"{request.HttpMethod} {user ?? "anonymous"} {string.Join(" ", scopes)}".TrimEnd());

            var access = new List<JsonValue>();
            foreach (var scope in scopes)
            {
                var parts = scope.Split(':');
                if (parts.Length != 3) continue;
                var actions = parts[2].Split(',').Where(a => authorized ? (a == "pull" || a == "push") : a == "pull");
                access.Add(JsonValue.Object(("type", JsonValue.String(parts[0])), ("name", JsonValue.String(parts[1])),
                    ("actions", JsonValue.Array(actions.Select(JsonValue.String)))));
            }
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var claims = JsonValue.Object(
                ("iss", JsonValue.String(Issuer)), ("sub", JsonValue.String(user ?? "")), ("aud", JsonValue.String(Service)),
                ("exp", JsonValue.Number(now + 300)), ("nbf", JsonValue.Number(now - 60)), ("iat", JsonValue.Number(now)),
                ("jti", JsonValue.String(Guid.NewGuid().ToString("N"))), ("access", JsonValue.Array(access)));
            var jwtHeader = JsonValue.Object(("typ", JsonValue.String("JWT")), ("alg", JsonValue.String("RS256")),
                ("x5c", JsonValue.Array(JsonValue.String(Convert.ToBase64String(_signer.RawData)))));
            var unsigned = Base64Url(Encoding.UTF8.GetBytes(jwtHeader.ToJson())) + "." + Base64Url(Encoding.UTF8.GetBytes(claims.ToJson()));
            var signature = _signer.GetRSAPrivateKey()!.SignData(Encoding.ASCII.GetBytes(unsigned), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var token = unsigned + "." + Base64Url(signature);
            var field = request.HttpMethod == "POST" ? "access_token" : "token";
            await LoopbackHttpServer.WriteAsync(context, 200, "application/json",
                JsonValue.Object((field, JsonValue.String(token)), ("expires_in", JsonValue.Number(300))).ToJson());
        }

        private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        public void Dispose()
        {
            _http.Dispose();
            _signer.Dispose();
            _ca.Dispose();
        }
    }

    /// <summary>Counts the requests a client sends (after retries: one per attempt).</summary>
    internal sealed class CountingHandler : DelegatingHandler
    {
        private int _count;

        public CountingHandler(HttpMessageHandler inner) : base(inner) { }

        public int Count => _count;
        public ConcurrentQueue<string> Requests { get; } = new ConcurrentQueue<string>();
        /// <summary>Every Authorization header sent, to check secrets travel only there.</summary>
        public ConcurrentQueue<string> AuthorizationHeaders { get; } = new ConcurrentQueue<string>();

        public void Reset()
        {
            _count = 0;
            while (Requests.TryDequeue(out _)) { }
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            Requests.Enqueue($"{request.Method} {request.RequestUri!.PathAndQuery}");
            if (request.Headers.Authorization != null) AuthorizationHeaders.Enqueue(request.Headers.Authorization.ToString());
            return base.SendAsync(request, cancellationToken);
        }
    }
}
