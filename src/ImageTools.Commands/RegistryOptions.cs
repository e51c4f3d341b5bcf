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
            Credentials = CredentialsFor(config, credential),
            InsecureRegistries = config.InsecureRegistries,
            CaBundlePath = config.CaBundle,
            ConfigCacheDirectory = Path.Combine(Path.GetDirectoryName(Planning.FileHashCache.DefaultPath())!, "configs"),
        };

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

        /// <summary>-Credential as the one credential source of the registry client and the engine's push and pull.</summary>
        public static IRegistryCredentialSource Credentials(PSCredential credential) =>
            new ExplicitCredentialSource(credential.UserName, credential.GetNetworkCredential().Password);
    }
}
