using System;
using System.Collections.Generic;
using System.Linq;
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

        private readonly string? _registry;
        private readonly RegistryCredential? _credential;
        private readonly IReadOnlyDictionary<string, RegistryCredential> _logins;
        private readonly IRegistryCredentialSource _fallback;

        private TreeCredentialSource(string? registry, RegistryCredential? credential, IReadOnlyDictionary<string, RegistryCredential> logins,
            IRegistryCredentialSource fallback)
        {
            _registry = registry == null ? null : DockerConfigCredentialSource.Hostname(registry);
            _credential = credential;
            _logins = logins;
            _fallback = fallback;
        }

        /// <summary>
        /// The tree registry's credential, in this order: the environment's <see cref="UserNameVariable"/> and
        /// <see cref="PasswordVariable"/>, a <see cref="DockerLoginVariable"/> line naming the registry, then the
        /// configuration's user name and password. Every other registry a <see cref="DockerLoginVariable"/> line names
        /// (an extra repository's, as docker_build logs in to each) gets that line's login; any other registry
        /// what Docker's configuration gives. Null when none is there (Docker's configuration alone applies).
        /// </summary>
        public static TreeCredentialSource? For(string? registry, string? configUserName, string? configPassword, string configPath,
            Func<string, string?> environment, IRegistryCredentialSource fallback)
        {
            var logins = DockerLogins(environment(DockerLoginVariable));
            RegistryCredential? credential = null;
            if (registry != null)
                credential = FromVariables(environment)
                    ?? (logins.TryGetValue(DockerConfigCredentialSource.Hostname(registry), out var login) ? login : null)
                    ?? (string.IsNullOrEmpty(configUserName) ? null : RegistryCredential.FromPassword(configUserName!, configPassword ?? "", configPath + " (username, password)"));
            return credential == null && logins.Count == 0 ? null : new TreeCredentialSource(registry, credential, logins, fallback);
        }

        public Task<RegistryCredential?> GetAsync(string registry, IProgress<RegistryEvent>? progress, CancellationToken cancellationToken)
        {
            var host = DockerConfigCredentialSource.Hostname(registry);
            if (_credential != null && host == _registry) return Task.FromResult<RegistryCredential?>(_credential);
            if (_logins.TryGetValue(host, out var login)) return Task.FromResult<RegistryCredential?>(login);
            return _fallback.GetAsync(registry, progress, cancellationToken);
        }

        public override string ToString() =>
            string.Join(", ", (_credential != null ? new[] { _credential.Description + " for " + _registry } : Array.Empty<string>())
                .Concat(_logins.Where(l => l.Key != _registry || _credential == null).Select(l => l.Value.Description + " for " + l.Key)));

        private static RegistryCredential? FromVariables(Func<string, string?> environment)
        {
            var user = environment(UserNameVariable);
            return string.IsNullOrEmpty(user) ? null : RegistryCredential.FromPassword(user!, environment(PasswordVariable) ?? "", $"${UserNameVariable} and ${PasswordVariable}");
        }

        /// <summary>docker_build's DOCKER_LOGIN: "registry user password" a line; the first line naming a registry counts.</summary>
        private static IReadOnlyDictionary<string, RegistryCredential> DockerLogins(string? logins)
        {
            var found = new Dictionary<string, RegistryCredential>(StringComparer.Ordinal);
            if (string.IsNullOrEmpty(logins)) return found;
            foreach (var line in logins!.Split(new[] { '\n', '\r' }, StringSplitOptions.RemoveEmptyEntries))
            {
                // The password is the rest of the line: it may hold spaces.
                var parts = line.Trim().Split(new[] { ' ', '\t' }, 3, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length != 3) continue;
                var host = DockerConfigCredentialSource.Hostname(parts[0]);
                if (!found.ContainsKey(host)) found[host] = RegistryCredential.FromPassword(parts[1], parts[2], $"${DockerLoginVariable}");
            }
            return found;
        }
    }
}
