using System.IO;
using System.Management.Automation;
using ImageTools.Definitions;
using ImageTools.Registry;

namespace ImageTools.Commands
{
    /// <summary>The one place a cmdlet's -Credential and the tree's settings become registry client options.</summary>
    internal static class RegistryOptions
    {
        public static RegistryClientOptions For(TreeConfig config, PSCredential? credential, RetryPolicy? retry = null) => new RegistryClientOptions
        {
            Retry = retry ?? RetryPolicy.Default,
            // The secret goes from the PSCredential straight to the client; it is never written anywhere.
            Credentials = credential == null ? null
                : Credentials(credential),
            InsecureRegistries = config.InsecureRegistries,
            CaBundlePath = config.CaBundle,
            ConfigCacheDirectory = Path.Combine(Path.GetDirectoryName(Planning.FileHashCache.DefaultPath())!, "configs"),
        };

        /// <summary>-Credential as the one credential source of the registry client and the engine's push and pull.</summary>
        public static IRegistryCredentialSource Credentials(PSCredential credential) =>
            new ExplicitCredentialSource(credential.UserName, credential.GetNetworkCredential().Password);
    }
}
