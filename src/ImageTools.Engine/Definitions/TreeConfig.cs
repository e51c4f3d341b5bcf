using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ImageTools.Definitions
{
    /// <summary>
    /// The tree's root settings: <c>imagetools.yaml</c>, else docker-pkg's <c>config.yaml</c>.
    /// Every key is also a template variable, as docker-pkg passes its whole config to Jinja.
    /// </summary>
    internal sealed class TreeConfig
    {
        public const string FileName = "imagetools.yaml";
        public const string DockerPkgFileName = "config.yaml";

        /// <summary>docker-pkg's defaults for the keys templates may read (cli.py).</summary>
        private static readonly IReadOnlyDictionary<string, object?> DockerPkgDefaults = new Dictionary<string, object?>
        {
            ["registry"] = "",
            ["namespace"] = "",
            ["apt_options"] = "",
            ["http_proxy"] = null,
            ["apt_only_proxy"] = null,
            ["base_images"] = new List<object?>(),
            ["update_id"] = "s",
            ["distribution"] = "wikimedia",
            ["fallback_author"] = "Author",
            ["fallback_email"] = "email@domain",
            ["known_uid_mappings"] = new Dictionary<string, object?> { ["root"] = 0L, ["www-data"] = 33L, ["nobody"] = 65534L },
        };

        public string? FilePath { get; private set; }
        /// <summary>Registry host[:port] images are published to; null for local-only trees.</summary>
        public string? Registry { get; private set; }
        public string? Namespace { get; private set; }
        /// <summary>docker-pkg's <c>username</c>/<c>password</c>: the tree registry's login when no -Credential is given. Never shown.</summary>
        public string? UserName { get; private set; }
        public string? Password { get; private set; }
        /// <summary>
        /// docker-pkg's <c>http_proxy</c>, as its builds and verification get it: the build args and environment
        /// variables http_proxy, https_proxy, HTTP_PROXY and HTTPS_PROXY. Not a build input: a proxy change rebuilds nothing.
        /// </summary>
        public IReadOnlyDictionary<string, string> ProxyVariables { get; private set; } = new Dictionary<string, string>();
        public IReadOnlyDictionary<string, string> BuildArgs { get; private set; } = new Dictionary<string, string>();
        public IReadOnlyDictionary<string, string> Labels { get; private set; } = new Dictionary<string, string>();
        public IReadOnlyList<string> BaseImages { get; private set; } = Array.Empty<string>();
        public string? VerifyCommand { get; private set; }
        public IReadOnlyList<string>? VerifyArgs { get; private set; }
        public int? Parallelism { get; private set; }
        /// <summary>
        /// <c>registry_timeout</c>: seconds one attempt of one registry request may take (1–3600); null: the
        /// default (60). A cmdlet's -TimeoutSec, when given, wins over it.
        /// </summary>
        public int? RegistryTimeout { get; private set; }
        public string UpdateId { get; private set; } = "s";
        public string Distribution { get; private set; } = "wikimedia";
        public string? FallbackAuthor { get; private set; }
        public string? FallbackEmail { get; private set; }
        public IReadOnlyList<string> InsecureRegistries { get; private set; } = Array.Empty<string>();
        /// <summary>
        /// More places every image is published to besides registry/namespace, each <c>registry[/namespace]</c>
        /// (docker_build's several DOCKER_REPOSITORY entries): the same digests and tags, in the same atomic run.
        /// </summary>
        public IReadOnlyList<string> ExtraRepositories { get; private set; } = Array.Empty<string>();
        /// <summary>A PEM bundle of extra CAs for registries (docker-pkg's ca_bundle), relative to the tree root.</summary>
        public string? CaBundle { get; private set; }
        /// <summary>Everything templates can read: docker-pkg defaults overlaid with this file's keys.</summary>
        public IReadOnlyDictionary<string, object?> Variables { get; private set; } = DockerPkgDefaults;

        /// <summary>The keys that say how this host reaches the network: never build inputs (docs/formats.md).</summary>
        public static readonly IReadOnlyList<string> ProxyKeys = new[] { "http_proxy", "apt_only_proxy" };

        /// <summary>
        /// <see cref="Variables"/> with the proxy keys at docker-pkg's default (unset), for the rendering the inputs digest
        /// hashes; null when no proxy is set (the rendering is the same).
        /// </summary>
        public IReadOnlyDictionary<string, object?>? ProxyNeutralVariables { get; private set; }

        /// <summary>The same settings publishing under another registry and namespace (a docker_images file's account).</summary>
        public TreeConfig WithRepository(string registry, string? ns)
        {
            var copy = (TreeConfig)MemberwiseClone();
            copy.Registry = registry;
            copy.Namespace = ns;
            return copy;
        }

        /// <summary>A config with no file behind it: every default.</summary>
        public static TreeConfig Empty { get; } = new TreeConfig();

        /// <summary>Reads the config at the root of <paramref name="treeRoot"/>, or returns the defaults.</summary>
        public static TreeConfig Load(string treeRoot)
        {
            var path = Path.Combine(treeRoot, FileName);
            if (!File.Exists(path)) path = Path.Combine(treeRoot, DockerPkgFileName);
            return File.Exists(path) ? FromYaml(YamlFile.Load(path)) : Empty;
        }

        private static IReadOnlyDictionary<string, object?> WithoutProxies(IReadOnlyDictionary<string, object?> variables)
        {
            var neutral = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var pair in variables) neutral[pair.Key] = pair.Value;
            foreach (var key in ProxyKeys) neutral[key] = DockerPkgDefaults[key];
            return neutral;
        }

        public static TreeConfig Parse(string text, string path) => FromYaml(YamlFile.Parse(text, path));

        private static TreeConfig FromYaml(YamlFile yaml)
        {
            var variables = new Dictionary<string, object?>(DockerPkgDefaults.Count, StringComparer.Ordinal);
            foreach (var pair in DockerPkgDefaults) variables[pair.Key] = pair.Value;
            foreach (var entry in yaml.Entries()) variables[entry.Key] = YamlFile.ToPlain(entry.Value);
            var proxy = NullIfEmpty(yaml.String("http_proxy"));
            // docker-pkg: without an apt_only_proxy, templates' apt configuration uses the http_proxy.
            if (proxy != null && variables["apt_only_proxy"] == null) variables["apt_only_proxy"] = proxy;

            var config = new TreeConfig
            {
                FilePath = yaml.Path,
                Registry = NullIfEmpty(yaml.String("registry")),
                Namespace = NullIfEmpty(yaml.String("namespace")?.Trim('/')),
                UserName = NullIfEmpty(yaml.String("username")),
                Password = yaml.String("password"),
                ProxyVariables = proxy == null ? new Dictionary<string, string>()
                    : new Dictionary<string, string>(StringComparer.Ordinal) { ["http_proxy"] = proxy, ["https_proxy"] = proxy, ["HTTP_PROXY"] = proxy, ["HTTPS_PROXY"] = proxy },
                BuildArgs = yaml.StringMap("build_args"),
                Labels = yaml.StringMap("labels"),
                BaseImages = yaml.StringList("base_images"),
                VerifyCommand = NullIfEmpty(yaml.String("verify_command")),
                VerifyArgs = yaml.Node("verify_args") == null ? null : yaml.StringList("verify_args"),
                Parallelism = yaml.Integer("parallelism"),
                RegistryTimeout = yaml.Integer("registry_timeout"),
                // docker-pkg takes an empty or null update_id as no identifier (1.0-3 → 1.0-4); only a missing key means "s".
                UpdateId = yaml.LineOf("update_id") > 0 ? (yaml.String("update_id") ?? "").Trim() : "s",
                Distribution = NullIfEmpty(yaml.String("distribution")) ?? "wikimedia",
                FallbackAuthor = NullIfEmpty(yaml.String("fallback_author")),
                FallbackEmail = NullIfEmpty(yaml.String("fallback_email")),
                InsecureRegistries = yaml.StringList("insecure_registries"),
                ExtraRepositories = yaml.StringList("extra_repositories").Select(r => r.Trim().TrimEnd('/')).ToList(),
                CaBundle = NullIfEmpty(yaml.String("ca_bundle")) is { } bundle ? Path.GetFullPath(Path.Combine(Path.GetDirectoryName(yaml.Path)!, bundle)) : null,
                Variables = variables,
                ProxyNeutralVariables = ProxyKeys.All(k => variables[k] == null) ? null : WithoutProxies(variables),
            };
            if (config.Parallelism is int p && p < 1)
                throw YamlFile.Invalid(yaml.Path, yaml.Node("parallelism")!, "'parallelism' must be 1 or more.");
            if (config.RegistryTimeout is int t && (t < 1 || t > 3600))
                throw YamlFile.Invalid(yaml.Path, yaml.Node("registry_timeout")!,
                    "'registry_timeout' must be a number of seconds from 1 to 3600 (how long one attempt of one registry request may take).");
            if (config.Registry != null &&
                !References.ImageReference.IsValidRegistry(config.Registry))
                throw YamlFile.Invalid(yaml.Path, yaml.Node("registry")!,
                    $"'registry' must be a registry host with an optional port, like registry.example.org or localhost:5000, not '{config.Registry}'.");
            if (config.Namespace != null)
                ValidateNamespace(config.Namespace, yaml);
            foreach (var extra in config.ExtraRepositories)
            {
                var slash = extra.IndexOf('/');
                var host = slash < 0 ? extra : extra.Substring(0, slash);
                if (!References.ImageReference.IsValidRegistry(host) || (slash >= 0 && !References.ImageReference.IsValidRepository(extra.Substring(slash + 1))))
                    throw YamlFile.Invalid(yaml.Path, yaml.Node("extra_repositories")!,
                        $"'{extra}' in 'extra_repositories' must be a registry host with an optional namespace, like mirror.example.org/team.");
            }
            return config;
        }

        private static void ValidateNamespace(string ns, YamlFile yaml)
        {
            if (!References.ImageReference.TryParse(ns, out var parsed, out var error) || parsed!.Registry != null || parsed.Tag != null || parsed.Digest != null)
                throw YamlFile.Invalid(yaml.Path, yaml.Node("namespace")!,
                    $"'namespace' must be lower-case path components like 'team/images': {error ?? ns}");
        }

        private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
    }
}
