using System.IO;
using ImageTools.Definitions;
using ImageTools.Registry;

namespace ImageTools.Planning
{
    /// <summary>The one place a tree's settings and a credential source become registry client options.</summary>
    internal static class TreeRegistryOptions
    {
        /// <param name="config">The tree's imagetools.yaml: insecure registries, CA bundle.</param>
        /// <param name="credentials">-Credential; null: Docker's config.json, then anonymous.</param>
        /// <param name="retry">Null: the default policy.</param>
        public static RegistryClientOptions For(TreeConfig config, IRegistryCredentialSource? credentials, RetryPolicy? retry = null) => new RegistryClientOptions
        {
            Retry = retry ?? RetryPolicy.Default,
            Credentials = credentials,
            InsecureRegistries = config.InsecureRegistries,
            CaBundlePath = config.CaBundle,
            ConfigCacheDirectory = Path.Combine(Path.GetDirectoryName(FileHashCache.DefaultPath())!, "configs"),
        };
    }
}
