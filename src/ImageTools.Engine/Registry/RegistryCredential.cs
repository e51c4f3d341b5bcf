using System;
using System.Threading;
using System.Threading.Tasks;

namespace ImageTools.Registry
{
    /// <summary>
    /// What a registry is logged in with: a user name and password or token, or an identity
    /// (refresh) token from <c>docker login</c> against an OAuth2 token service. The secret never
    /// leaves this object except into an Authorization header or a token request body: ToString
    /// and <see cref="Description"/> name the user and the origin only.
    /// </summary>
    internal sealed class RegistryCredential
    {
        private RegistryCredential(string? userName, string? secret, string? identityToken, string origin)
        {
            UserName = userName;
            Secret = secret;
            IdentityToken = identityToken;
            Origin = origin;
        }

        public static RegistryCredential FromPassword(string userName, string secret, string origin)
        {
            if (string.IsNullOrEmpty(userName)) throw new ArgumentException("A user name is needed.", nameof(userName));
            return new RegistryCredential(userName, secret ?? "", null, origin);
        }

        /// <summary>An identity token (docker config <c>identitytoken</c>, or a helper's <c>&lt;token&gt;</c> user).</summary>
        public static RegistryCredential FromIdentityToken(string? userName, string identityToken, string origin) =>
            new RegistryCredential(string.IsNullOrEmpty(userName) || userName == "<token>" ? null : userName, null,
                identityToken ?? throw new ArgumentNullException(nameof(identityToken)), origin);

        public string? UserName { get; }

        /// <summary>Password or personal access token; null with an identity token.</summary>
        public string? Secret { get; }

        /// <summary>OAuth2 refresh token, sent as <c>refresh_token</c> in a token request.</summary>
        public string? IdentityToken { get; }

        /// <summary>Where the credential was found, e.g. "-Credential" or "/root/.docker/config.json (auths)".</summary>
        public string Origin { get; }

        /// <summary>For messages: user and origin, never the secret.</summary>
        public string Description =>
            IdentityToken != null
                ? $"an identity token{(UserName != null ? " for user '" + UserName + "'" : "")} from {Origin}"
                : $"user '{UserName}' from {Origin}";

        public override string ToString() => Description;
    }

    /// <summary>Finds the credential for a registry; null means anonymous.</summary>
    internal interface IRegistryCredentialSource
    {
        /// <param name="registry">The registry as a reference names it, e.g. <c>docker.io</c> or <c>localhost:5000</c>.</param>
        /// <param name="progress">Where to say what was found or worked around (never the secret).</param>
        /// <param name="cancellationToken">Stops a credential helper that is still running.</param>
        Task<RegistryCredential?> GetAsync(string registry, IProgress<RegistryEvent>? progress, CancellationToken cancellationToken);
    }

    /// <summary>No credentials: anonymous pulls (and anonymous bearer tokens).</summary>
    internal sealed class AnonymousCredentialSource : IRegistryCredentialSource
    {
        public static AnonymousCredentialSource Instance { get; } = new AnonymousCredentialSource();

        public Task<RegistryCredential?> GetAsync(string registry, IProgress<RegistryEvent>? progress, CancellationToken cancellationToken) =>
            Task.FromResult<RegistryCredential?>(null);
    }

    /// <summary>One credential the user gave (the cmdlet's -Credential), for every registry it is asked about.</summary>
    internal sealed class ExplicitCredentialSource : IRegistryCredentialSource
    {
        private readonly RegistryCredential _credential;

        public ExplicitCredentialSource(string userName, string secret, string origin = "-Credential") =>
            _credential = RegistryCredential.FromPassword(userName, secret, origin);

        public Task<RegistryCredential?> GetAsync(string registry, IProgress<RegistryEvent>? progress, CancellationToken cancellationToken) =>
            Task.FromResult<RegistryCredential?>(_credential);

        public override string ToString() => _credential.Description;
    }
}
