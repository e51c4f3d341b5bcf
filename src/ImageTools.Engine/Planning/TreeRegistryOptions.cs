using System;
using System.IO;
using ImageTools.Definitions;
using ImageTools.Registry;

namespace ImageTools.Planning
{
    /// <summary>The one place a tree's settings and a credential source become registry client options.</summary>
    internal static class TreeRegistryOptions
    {
        /// <summary>How long one attempt of one registry request may take, body included, when neither -TimeoutSec nor registry_timeout says.</summary>
        public const int DefaultTimeoutSec = 60;

        /// <param name="config">The tree's imagetools.yaml: insecure registries, CA bundle.</param>
        /// <param name="credentials">-Credential; null: Docker's config.json, then anonymous.</param>
        /// <param name="retry">Null: the default policy.</param>
        /// <param name="timeoutSec">A cmdlet's -TimeoutSec when given; else the tree's <c>registry_timeout</c>; else 60 s.</param>
        public static RegistryClientOptions For(TreeConfig config, IRegistryCredentialSource? credentials, RetryPolicy? retry = null,
            int? timeoutSec = null) => new RegistryClientOptions
        {
            RequestTimeout = TimeSpan.FromSeconds(timeoutSec ?? config.RegistryTimeout ?? DefaultTimeoutSec),
            Retry = retry ?? RetryPolicy.Default,
            Credentials = credentials,
            InsecureRegistries = config.InsecureRegistries,
            CaBundlePath = config.CaBundle,
            ConfigCacheDirectory = Path.Combine(Path.GetDirectoryName(FileHashCache.DefaultPath())!, "configs"),
        };
    }
}
