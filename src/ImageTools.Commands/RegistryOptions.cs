using System.Management.Automation;
using ImageTools.Definitions;
using ImageTools.Registry;

namespace ImageTools.Commands
{
    /// <summary>A cmdlet's -Credential as the registry client's credential source; the options themselves come from <see cref="Planning.TreeRegistryOptions"/>.</summary>
    internal static class RegistryOptions
    {
        /// <summary>What -TimeoutSec defaults to: how long one attempt of one registry request may take, body included.</summary>
        public const int DefaultTimeoutSec = 60;

        public static RegistryClientOptions For(TreeConfig config, PSCredential? credential, RetryPolicy? retry = null, int timeoutSec = DefaultTimeoutSec)
        {
            var options = Planning.TreeRegistryOptions.For(config, CredentialsFor(config, credential), retry);
            options.RequestTimeout = System.TimeSpan.FromSeconds(timeoutSec);
            return options;
        }

        /// <summary>
        /// The one credential path of the registry client and the engine's pulls: -Credential; else the tree
        /// registry's login from the environment or the tree's username/password, for that registry only;
        /// else null, and Docker's configuration (config.json, credential helpers) applies. Secrets go
        /// straight to the client and are never written anywhere.
        /// </summary>
        public static IRegistryCredentialSource? CredentialsFor(TreeConfig config, PSCredential? credential) =>
            credential != null
                ? Credentials(credential)
                : TreeCredentialSource.For(config.Registry, config.UserName, config.Password, config.FilePath ?? TreeConfig.FileName,
                    System.Environment.GetEnvironmentVariable, new DockerConfigCredentialSource());

        /// <summary>
        /// -Credential as a credential source. The secret goes from the PSCredential straight to the client;
        /// it is never written anywhere.
        /// </summary>
        public static IRegistryCredentialSource Credentials(PSCredential credential) =>
            new ExplicitCredentialSource(credential.UserName, credential.GetNetworkCredential().Password);
    }
}
