using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Json;

namespace ImageTools.Registry
{
    /// <summary>
    /// Turns the registry's <c>WWW-Authenticate</c> challenge into Authorization headers: Basic
    /// with the credential, or Bearer with a token from the challenge's realm (docker token spec:
    /// GET with Basic credentials or anonymously; POST grant_type=refresh_token with an identity
    /// token). Tokens are cached per scope set until shortly before they expire. Once a challenge
    /// is known, requests carry authorization up front, saving a 401 round trip per call.
    /// </summary>
    internal sealed class RegistryAuthenticator
    {
        private static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromSeconds(60);
        private static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(10);

        private readonly string _registry;
        private readonly string _registryAuthority;
        private readonly IRegistryCredentialSource _source;
        private readonly IReadOnlyCollection<string> _insecureRegistries;
        private readonly Func<RegistryRequest, CancellationToken, Task<RegistryResponse>> _send;
        private readonly IProgress<RegistryEvent>? _progress;
        private readonly object _lock = new object();
        private readonly Dictionary<string, CachedToken> _tokens = new Dictionary<string, CachedToken>(StringComparer.Ordinal);
        private Task<RegistryCredential?>? _credential;
        private AuthChallenge? _challenge;

        public RegistryAuthenticator(string registry, string registryAuthority, IRegistryCredentialSource source,
            IReadOnlyCollection<string> insecureRegistries, Func<RegistryRequest, CancellationToken, Task<RegistryResponse>> send,
            IProgress<RegistryEvent>? progress)
        {
            _registry = registry;
            _registryAuthority = registryAuthority;
            _source = source;
            _insecureRegistries = insecureRegistries;
            _send = send;
            _progress = progress;
        }

        /// <summary>True once a challenge is known, so that requests carry authorization up front.</summary>
        public bool KnowsChallenge
        {
            get { lock (_lock) return _challenge != null; }
        }

        /// <summary>
        /// Remembers the challenge of an answer to a request sent without authorization (the /v2/ probe),
        /// unless one is known: the requests after it then carry authorization from the first.
        /// </summary>
        public void Learn(IReadOnlyList<AuthChallenge> challenges)
        {
            var challenge = challenges.FirstOrDefault(c => c.IsBearer && !string.IsNullOrEmpty(c.Realm)) ?? challenges.FirstOrDefault(c => c.IsBasic);
            if (challenge == null) return;
            lock (_lock) _challenge ??= challenge;
        }

        /// <summary>The number of token requests made, for tests and diagnostics.</summary>
        public int TokenRequests { get; private set; }

        public Task<RegistryCredential?> CredentialAsync(CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                if (_credential == null || _credential.IsFaulted || _credential.IsCanceled)
                    _credential = LoadCredentialAsync(cancellationToken);
                return _credential;
            }
        }

        private async Task<RegistryCredential?> LoadCredentialAsync(CancellationToken cancellationToken)
        {
            var credential = await _source.GetAsync(_registry, _progress, cancellationToken).ConfigureAwait(false);
            _progress?.Report(new RegistryEvent(RegistryEventKind.Credentials, _registry,
                credential == null ? "no credentials found; going on anonymously" : "using " + credential.Description));
            return credential;
        }

        /// <summary>The header for a request needing <paramref name="scopes"/>; null while no challenge is known.</summary>
        public async Task<AuthenticationHeaderValue?> AuthorizationAsync(IReadOnlyList<string> scopes, CancellationToken cancellationToken)
        {
            AuthChallenge? challenge;
            lock (_lock) challenge = _challenge;
            if (challenge == null) return null;
            var credential = await CredentialAsync(cancellationToken).ConfigureAwait(false);
            if (challenge.IsBasic)
            {
                if (credential?.Secret == null) return null;
                return new AuthenticationHeaderValue("Basic",
                    Convert.ToBase64String(Encoding.UTF8.GetBytes(credential.UserName + ":" + credential.Secret)));
            }
            var token = await TokenAsync(challenge, scopes, credential, cancellationToken).ConfigureAwait(false);
            return new AuthenticationHeaderValue("Bearer", token);
        }

        /// <summary>
        /// After a 401: remembers the challenge and says whether one more try with (new) authorization
        /// can succeed. <paramref name="scopes"/> gains the challenge's scope when the call named none.
        /// </summary>
        public async Task<bool> AcceptChallengeAsync(IReadOnlyList<AuthChallenge> challenges, bool hadAuthorization,
            List<string> scopes, CancellationToken cancellationToken)
        {
            var challenge = challenges.FirstOrDefault(c => c.IsBearer) ?? challenges.FirstOrDefault(c => c.IsBasic);
            if (challenge == null) return false;
            if (challenge.IsBearer && string.IsNullOrEmpty(challenge.Realm)) return false;
            if (challenge.Scope != null)
                foreach (var scope in challenge.Scope.Split(' '))
                    if (scope.Length > 0 && !scopes.Contains(scope) && !Covered(scopes, scope)) scopes.Add(scope);
            lock (_lock)
            {
                if (hadAuthorization && challenge.IsBearer)
                    // A token the registry refuses (expired, revoked, too narrow) must not be offered again.
                    foreach (var key in _tokens.Keys.ToList()) _tokens.Remove(key);
                _challenge = challenge;
            }
            if (hadAuthorization && challenge.IsBasic) return false;
            var credential = await CredentialAsync(cancellationToken).ConfigureAwait(false);
            if (challenge.IsBasic && credential?.Secret == null) return false;
            return true;
        }

        /// <summary>The error for a 401 that authorization could not cure.</summary>
        public async Task<ImageToolsException> RefusedAsync(RegistryRequest request, IReadOnlyList<AuthChallenge> challenges, bool hadAuthorization,
            CancellationToken cancellationToken)
        {
            var credential = await CredentialAsync(cancellationToken).ConfigureAwait(false);
            var challenge = challenges.FirstOrDefault(c => c.IsBearer) ?? challenges.FirstOrDefault(c => c.IsBasic);
            var what = $"{request.Method} {request.Uri.AbsolutePath}";
            if (challenge == null && challenges.Count > 0)
                return RegistryErrors.Create(RegistryFailureKind.Unauthorized, "RegistryAuthenticationUnsupported", FaultKind.AuthenticationError,
                    $"The registry {_registry} asks for '{challenges[0].Scheme}' authentication, which ImageTools does not speak " +
                    "(it speaks Basic and Bearer tokens).");
            if (credential == null)
                return RegistryErrors.Create(RegistryFailureKind.Unauthorized, "RegistryCredentialsRequired", FaultKind.AuthenticationError,
                    $"The registry {_registry} needs credentials for {what} and none were found. Pass -Credential, or run " +
                    $"'docker login {_registry}'.");
            if (challenge != null && challenge.IsBearer && hadAuthorization &&
                string.Equals(challenge.Error, "insufficient_scope", StringComparison.OrdinalIgnoreCase))
                return RegistryErrors.Create(RegistryFailureKind.Denied, "RegistryAccessDenied", FaultKind.AuthenticationError,
                    $"The registry {_registry} did not grant {credential.Description} the access {what} needs " +
                    $"({challenge.Scope ?? "no scope given"}). Check that this account may pull or push the repository.");
            return RegistryErrors.Create(RegistryFailureKind.Unauthorized, "RegistryAuthenticationFailed", FaultKind.AuthenticationError,
                $"The registry {_registry} refused {credential.Description}. Check the user name and password/token for {_registry}.");
        }

        private static bool Covered(IEnumerable<string> scopes, string wanted)
        {
            // "repository:a:pull" is covered by "repository:a:pull,push".
            var parts = wanted.Split(':');
            if (parts.Length != 3) return false;
            return scopes.Any(s =>
            {
                var have = s.Split(':');
                return have.Length == 3 && have[0] == parts[0] && have[1] == parts[1] &&
                       parts[2].Split(',').All(action => have[2].Split(',').Contains(action));
            });
        }

        private async Task<string> TokenAsync(AuthChallenge challenge, IReadOnlyList<string> scopes, RegistryCredential? credential,
            CancellationToken cancellationToken)
        {
            var key = string.Join(" ", scopes.OrderBy(s => s, StringComparer.Ordinal));
            lock (_lock)
            {
                if (_tokens.TryGetValue(key, out var cached) && cached.ExpiresAt > DateTimeOffset.UtcNow) return cached.Token;
            }

            var realm = RealmUri(challenge, credential);
            var service = challenge.Service;
            RegistryRequest request;
            if (credential?.IdentityToken != null)
            {
                var form = new List<KeyValuePair<string, string>>
                {
                    new KeyValuePair<string, string>("grant_type", "refresh_token"),
                    new KeyValuePair<string, string>("refresh_token", credential.IdentityToken),
                    new KeyValuePair<string, string>("client_id", "imagetools"),
                };
                if (service != null) form.Add(new KeyValuePair<string, string>("service", service));
                if (scopes.Count > 0) form.Add(new KeyValuePair<string, string>("scope", string.Join(" ", scopes)));
                var body = string.Join("&", form.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
                request = new RegistryRequest(HttpMethod.Post, realm, maxBytes: 1 << 20)
                {
                    Content = Encoding.UTF8.GetBytes(body),
                    ContentType = "application/x-www-form-urlencoded",
                };
            }
            else
            {
                var query = new List<string>();
                if (service != null) query.Add("service=" + Uri.EscapeDataString(service));
                foreach (var scope in scopes) query.Add("scope=" + Uri.EscapeDataString(scope));
                if (credential?.UserName != null) query.Add("account=" + Uri.EscapeDataString(credential.UserName));
                var builder = new UriBuilder(realm);
                var existing = builder.Query.TrimStart('?');
                builder.Query = string.Join("&", (existing.Length > 0 ? new[] { existing } : new string[0]).Concat(query));
                request = new RegistryRequest(HttpMethod.Get, builder.Uri, maxBytes: 1 << 20);
                if (credential?.Secret != null)
                    request.Authorization = new AuthenticationHeaderValue("Basic",
                        Convert.ToBase64String(Encoding.UTF8.GetBytes(credential.UserName + ":" + credential.Secret)));
            }

            _progress?.Report(new RegistryEvent(RegistryEventKind.Token, _registry,
                $"requesting a token from {realm.GetLeftPart(UriPartial.Path)} for {(scopes.Count == 0 ? "no scope" : string.Join(" ", scopes))}" +
                (credential == null ? " anonymously" : " as " + credential.Description)));
            TokenRequests++;
            var response = await _send(request, cancellationToken).ConfigureAwait(false);
            if (response.Status == HttpStatusCode.Unauthorized || response.Status == HttpStatusCode.Forbidden)
            {
                if (credential == null)
                    throw RegistryErrors.Create(RegistryFailureKind.Unauthorized, "RegistryCredentialsRequired", FaultKind.AuthenticationError,
                        $"The token service of {_registry} ({realm.Authority}) refused an anonymous token for " +
                        $"{string.Join(" ", scopes)}. Pass -Credential, or run 'docker login {_registry}'.");
                throw RegistryErrors.Create(RegistryFailureKind.Unauthorized, "RegistryAuthenticationFailed", FaultKind.AuthenticationError,
                    $"The token service of {_registry} ({realm.Authority}) refused {credential.Description}. " +
                    $"Check the user name and password/token for {_registry}.");
            }
            if (response.Status != HttpStatusCode.OK)
                throw RegistryErrors.Create(RegistryFailureKind.TokenServiceFailure, "RegistryTokenFailed", FaultKind.ResourceUnavailable,
                    $"The token service of {_registry} ({realm.GetLeftPart(UriPartial.Path)}) answered {(int)response.Status} {response.Status}" +
                    $"{RegistryErrors.ErrorDetail(response)}. Check the registry's auth configuration.");

            JsonValue json;
            try { json = JsonValue.Parse(response.Body); }
            catch (JsonFormatException)
            {
                throw RegistryErrors.Create(RegistryFailureKind.TokenServiceFailure, "RegistryTokenFailed", FaultKind.InvalidData,
                    $"The token service of {_registry} ({realm.GetLeftPart(UriPartial.Path)}) did not answer with JSON. " +
                    "Check the realm the registry names.");
            }
            var token = json["token"]?.AsString ?? json["access_token"]?.AsString;
            if (string.IsNullOrEmpty(token))
                throw RegistryErrors.Create(RegistryFailureKind.TokenServiceFailure, "RegistryTokenFailed", FaultKind.InvalidData,
                    $"The token service of {_registry} ({realm.GetLeftPart(UriPartial.Path)}) answered without a token.");
            var lifetime = json["expires_in"]?.AsInt64 is long seconds && seconds > 0 ? TimeSpan.FromSeconds(seconds) : DefaultTokenLifetime;
            // The spec's floor: a token lives at least 60 s; keep a margin so it does not expire in flight.
            if (lifetime < DefaultTokenLifetime) lifetime = DefaultTokenLifetime;
            var expiresAt = DateTimeOffset.UtcNow + lifetime - ExpiryMargin;
            lock (_lock) _tokens[key] = new CachedToken(token!, expiresAt);
            return token!;
        }

        private Uri RealmUri(AuthChallenge challenge, RegistryCredential? credential)
        {
            if (!Uri.TryCreate(challenge.Realm, UriKind.Absolute, out var realm) || (realm.Scheme != "https" && realm.Scheme != "http"))
                throw RegistryErrors.Create(RegistryFailureKind.TokenServiceFailure, "RegistryTokenFailed", FaultKind.InvalidData,
                    $"The registry {_registry} names a token realm that is not an http(s) URL ('{challenge.Realm}').");
            if (realm.Scheme == "http" && credential != null && !RegistryTransport.AllowsPlainHttp(realm.Authority, _insecureRegistries) &&
                !string.Equals(realm.Authority, _registryAuthority, StringComparison.OrdinalIgnoreCase))
                throw RegistryErrors.Create(RegistryFailureKind.TokenServiceFailure, "RegistryTokenInsecure", FaultKind.InvalidOperation,
                    $"The registry {_registry} sends credentials to a token service over plain HTTP ({realm.Authority}); refusing to send them " +
                    "in clear text. Name the host among insecure_registries if that is intended.");
            return realm;
        }

        private sealed class CachedToken
        {
            public CachedToken(string token, DateTimeOffset expiresAt)
            {
                Token = token;
                ExpiresAt = expiresAt;
            }

            public string Token { get; }
            public DateTimeOffset ExpiresAt { get; }

            public override string ToString() => $"token until {ExpiresAt:u}";
        }
    }
}
