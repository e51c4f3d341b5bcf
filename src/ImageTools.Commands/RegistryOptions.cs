using System.IO;
using System.Management.Automation;
using ImageTools.Definitions;
using ImageTools.Registry;

namespace ImageTools.Commands
{
    /// <summary>The one place a cmdlet's -Credential and the tree's settings become registry client options.</summary>
    internal static class RegistryOptions
    {
        /// <summary>What -TimeoutSec defaults to: how long one attempt of one registry request may take, body included.</summary>
        public const int DefaultTimeoutSec = 60;

        public static RegistryClientOptions For(TreeConfig config, PSCredential? credential, RetryPolicy? retry = null, int timeoutSec = DefaultTimeoutSec) => new RegistryClientOptions
        {
            Retry = retry ?? RetryPolicy.Default,
            RequestTimeout = System.TimeSpan.FromSeconds(timeoutSec),
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
