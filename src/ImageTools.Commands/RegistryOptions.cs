using System.Management.Automation;
using ImageTools.Definitions;
using ImageTools.Registry;

namespace ImageTools.Commands
{
    /// <summary>A cmdlet's -Credential as the registry client's credential source; the options themselves come from <see cref="Planning.TreeRegistryOptions"/>.</summary>
    internal static class RegistryOptions
    {
        public static RegistryClientOptions For(TreeConfig config, PSCredential? credential, RetryPolicy? retry = null) =>
            Planning.TreeRegistryOptions.For(config, credential == null ? null : Credentials(credential), retry);

        /// <summary>
        /// -Credential as a credential source. The secret goes from the PSCredential straight to the client;
        /// it is never written anywhere.
        /// </summary>
        public static IRegistryCredentialSource Credentials(PSCredential credential) =>
            new ExplicitCredentialSource(credential.UserName, credential.GetNetworkCredential().Password);
    }
}
