using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace ImageTools.Registry
{
    /// <summary>
    /// A credential that belongs to one registry, the tree's: from the tree's configuration (docker-pkg's
    /// <c>username</c>/<c>password</c>) or from the environment (CI secrets). Only that registry is
    /// given it; every other registry (an external base's, say) gets what the fallback, Docker's own
    /// configuration, gives, so the tree's secret never travels to another host.
    /// </summary>
    internal sealed class TreeCredentialSource : IRegistryCredentialSource
    {
        /// <summary>docker_build's variable: <c>"registry user password"</c>, one login a line.</summary>
        public const string DockerLoginVariable = "DOCKER_LOGIN";
        /// <summary>The secret-variable-friendly form, for the tree's registry: a user name and a password of their own.</summary>
        public const string UserNameVariable = "IMAGETOOLS_REGISTRY_USERNAME";
        public const string PasswordVariable = "IMAGETOOLS_REGISTRY_PASSWORD";

        private readonly string _registry;
        private readonly RegistryCredential _credential;
        private readonly IRegistryCredentialSource _fallback;

        private TreeCredentialSource(string registry, RegistryCredential credential, IRegistryCredentialSource fallback)
        {
            _registry = DockerConfigCredentialSource.Hostname(registry);
            _credential = credential;
            _fallback = fallback;
        }

        /// <summary>
        /// The tree registry's credential, in this order: the environment's <see cref="UserNameVariable"/> and
        /// <see cref="PasswordVariable"/>, a <see cref="DockerLoginVariable"/> line naming the registry, then the
        /// configuration's user name and password. Null when none is there (Docker's configuration alone applies).
        /// </summary>
        public static TreeCredentialSource? For(string? registry, string? configUserName, string? configPassword, string configPath,
            Func<string, string?> environment, IRegistryCredentialSource fallback)
        {
            if (registry == null) return null;
            var credential = FromVariables(environment) ?? FromDockerLogin(registry, environment(DockerLoginVariable))
                ?? (string.IsNullOrEmpty(configUserName) ? null : RegistryCredential.FromPassword(configUserName!, configPassword ?? "", configPath + " (username, password)"));
            return credential == null ? null : new TreeCredentialSource(registry, credential, fallback);
        }

        public Task<RegistryCredential?> GetAsync(string registry, IProgress<RegistryEvent>? progress, CancellationToken cancellationToken) =>
            DockerConfigCredentialSource.Hostname(registry) == _registry
                ? Task.FromResult<RegistryCredential?>(_credential)
                : _fallback.GetAsync(registry, progress, cancellationToken);

        public override string ToString() => _credential.Description + " for " + _registry;

        private static RegistryCredential? FromVariables(Func<string, string?> environment)
        {
            var user = environment(UserNameVariable);
            return string.IsNullOrEmpty(user) ? null : RegistryCredential.FromPassword(user!, environment(PasswordVariable) ?? "", $"${UserNameVariable} and ${PasswordVariable}");
        }

        private static RegistryCredential? FromDockerLogin(string registry, string? logins)
        {
            if (string.IsNullOrEmpty(logins)) return null;
            var host = DockerConfigCredentialSource.Hostname(registry);
            foreach (var line in logins!.Split(new[] { '\n', '\r' }, StringSplitOptions.RemoveEmptyEntries))
            {
                // The password is the rest of the line: it may hold spaces.
                var parts = line.Trim().Split(new[] { ' ', '\t' }, 3, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length == 3 && DockerConfigCredentialSource.Hostname(parts[0]) == host)
                    return RegistryCredential.FromPassword(parts[1], parts[2], $"${DockerLoginVariable}");
            }
            return null;
        }
    }
}
