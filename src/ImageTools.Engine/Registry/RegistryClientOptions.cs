using System;
using System.Collections.Generic;
using System.Net.Http;

namespace ImageTools.Registry
{
    /// <summary>How a <see cref="RegistryClient"/> connects, authenticates, retries and caches.</summary>
    internal sealed class RegistryClientOptions
    {
        /// <summary>Where credentials come from; null: Docker's config.json (then anonymous).</summary>
        public IRegistryCredentialSource? Credentials { get; set; }

        /// <summary>A PEM file of CA certificates trusted in addition to the system store.</summary>
        public string? CaBundlePath { get; set; }

        /// <summary>
        /// Registries (host or host:port) that may be spoken to over plain HTTP, like the docker
        /// daemon's insecure-registries; loopback hosts always may. HTTPS is still tried first.
        /// </summary>
        public IReadOnlyCollection<string> InsecureRegistries { get; set; } = Array.Empty<string>();

        public RetryPolicy Retry { get; set; } = RetryPolicy.Default;

        /// <summary>How long one attempt of one request may take, body included.</summary>
        public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>Requests, retries, token requests and cache hits, for -Verbose. Never holds secrets.</summary>
        public IProgress<RegistryEvent>? Progress { get; set; }

        /// <summary>Directory where config blobs are cached by digest; null: no cache.</summary>
        public string? ConfigCacheDirectory { get; set; }

        public string UserAgent { get; set; } = "ImageTools/" + typeof(RegistryClientOptions).Assembly.GetName().Version;

        /// <summary>Tests wrap the transport handler (e.g. to count requests).</summary>
        internal Func<HttpMessageHandler, HttpMessageHandler>? WrapHandler { get; set; }
    }
}
