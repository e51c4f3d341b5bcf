using System.Management.Automation;
using ImageTools.Definitions;
using ImageTools.Registry;

namespace ImageTools.Commands
{
    /// <summary>A cmdlet's -Credential as the registry client's credential source; the options themselves come from <see cref="Planning.TreeRegistryOptions"/>.</summary>
    internal static class RegistryOptions
    {
        /// <summary>What -TimeoutSec shows as its default: how long one attempt of one registry request may take, body included.</summary>
        public const int DefaultTimeoutSec = Planning.TreeRegistryOptions.DefaultTimeoutSec;

        /// <summary>The registry client options of a cmdlet's run: the tree's settings, -Credential, the retry policy and the timeout.</summary>
        /// <param name="config">The tree's imagetools.yaml.</param>
        /// <param name="credential">-Credential, or null.</param>
        /// <param name="retry">Null: the default policy.</param>
        /// <param name="timeoutSec">-TimeoutSec when the user gave it (see <see cref="TimeoutGiven"/>); null: the tree's registry_timeout, else the default.</param>
        public static RegistryClientOptions For(TreeConfig config, PSCredential? credential, RetryPolicy? retry = null, int? timeoutSec = null) =>
            Planning.TreeRegistryOptions.For(config, CredentialsFor(config, credential), retry, timeoutSec);

        /// <summary>-TimeoutSec if the user gave it, else null: precedence is parameter, then registry_timeout, then 60 s.</summary>
        public static int? TimeoutGiven(PSCmdlet cmdlet, int timeoutSec) =>
            cmdlet.MyInvocation.BoundParameters.ContainsKey("TimeoutSec") ? timeoutSec : (int?)null;

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
