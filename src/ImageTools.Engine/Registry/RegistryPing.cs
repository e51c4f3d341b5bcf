using System;

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
}
