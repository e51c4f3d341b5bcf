using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Json;
using ImageTools.Processes;

namespace ImageTools.Registry
{
    /// <summary>
    /// Credentials the way the docker CLI finds them in <c>$DOCKER_CONFIG/config.json</c> (else
    /// <c>~/.docker/config.json</c>): a <c>credHelpers</c> entry for the registry, else the
    /// <c>credsStore</c>, else the <c>auths</c> entry (base64 <c>auth</c>, or <c>identitytoken</c>).
    /// Helpers are run as <c>docker-credential-NAME get</c> without a shell, with the server URL
    /// on standard input. A helper that has no credentials, fails or is missing means anonymous
    /// (with a warning event), as for <c>docker pull</c>; one that hangs is stopped after
    /// <see cref="HelperTimeout"/> and reported.
    /// </summary>
    internal sealed class DockerConfigCredentialSource : IRegistryCredentialSource
    {
        /// <summary>The key Docker Hub credentials are stored under, by docker login and every helper.</summary>
        public const string DockerHubKey = "https://index.docker.io/v1/";

        private readonly string? _searchPath;
        private readonly IReadOnlyDictionary<string, string?>? _helperEnvironment;

        /// <param name="configDirectory">The directory of config.json; null: $DOCKER_CONFIG, else ~/.docker.</param>
        /// <param name="helperSearchPath">Where to look for docker-credential-* programs (PATH syntax); null: $PATH.</param>
        /// <param name="helperEnvironment">Extra environment for helper processes (null values remove a variable).</param>
        /// <param name="helperTimeout">How long a helper may take to answer; 30 s when null.</param>
        public DockerConfigCredentialSource(string? configDirectory = null, string? helperSearchPath = null,
            IReadOnlyDictionary<string, string?>? helperEnvironment = null, TimeSpan? helperTimeout = null)
        {
            ConfigDirectory = configDirectory ?? DefaultConfigDirectory();
            _searchPath = helperSearchPath;
            _helperEnvironment = helperEnvironment;
            HelperTimeout = helperTimeout ?? TimeSpan.FromSeconds(30);
        }

        public string ConfigDirectory { get; }
        public string ConfigPath => Path.Combine(ConfigDirectory, "config.json");
        public TimeSpan HelperTimeout { get; }

        public static string DefaultConfigDirectory()
        {
            var fromEnvironment = Environment.GetEnvironmentVariable("DOCKER_CONFIG");
            if (!string.IsNullOrEmpty(fromEnvironment)) return fromEnvironment!;
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker");
        }

        /// <summary>The key docker uses for a registry: Docker Hub's v1 URL, else the host[:port].</summary>
        public static string KeyFor(string registry) => IsDockerHub(Hostname(registry)) ? DockerHubKey : Hostname(registry);

        public async Task<RegistryCredential?> GetAsync(string registry, IProgress<RegistryEvent>? progress, CancellationToken cancellationToken)
        {
            var path = ConfigPath;
            if (!File.Exists(path)) return null;
            JsonValue config;
            try { config = JsonValue.Parse(File.ReadAllBytes(path), allowByteOrderMark: true); }
            catch (JsonFormatException e)
            {
                throw new ImageToolsException("DockerConfigInvalid", FaultKind.InvalidData,
                    $"The docker configuration is not valid JSON ({e.Reason} at character {e.Position + 1}). Fix or remove it, or pass -Credential.",
                    filePath: path, inner: e);
            }
            if (config.Kind != JsonKind.Object)
                throw new ImageToolsException("DockerConfigInvalid", FaultKind.InvalidData,
                    "The docker configuration must be a JSON object. Fix or remove it, or pass -Credential.", filePath: path);

            var key = KeyFor(registry);
            var host = Hostname(registry);
            var helper = FindByHost(config["credHelpers"], host)?.AsString;
            var origin = "credHelpers";
            if (string.IsNullOrEmpty(helper))
            {
                helper = config["credsStore"]?.AsString;
                origin = "credsStore";
            }
            if (!string.IsNullOrEmpty(helper))
                return await FromHelperAsync(helper!, origin, key, registry, progress, cancellationToken).ConfigureAwait(false);

            var entry = FindByHost(config["auths"], host);
            return entry == null ? null : FromAuthsEntry(entry, path, registry);
        }

        private static RegistryCredential? FromAuthsEntry(JsonValue entry, string path, string registry)
        {
            var origin = $"{path} (auths)";
            var identityToken = entry["identitytoken"]?.AsString;
            string? user = entry["username"]?.AsString, secret = entry["password"]?.AsString;
            var auth = entry["auth"]?.AsString;
            if (!string.IsNullOrEmpty(auth))
            {
                string decoded;
                try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth!)); }
                catch (FormatException)
                {
                    throw new ImageToolsException("DockerConfigInvalid", FaultKind.InvalidData,
                        $"The 'auth' entry for {registry} is not base64 of 'user:password'. Run 'docker login {registry}' again, or pass -Credential.",
                        filePath: path);
                }
                var colon = decoded.IndexOf(':');
                if (colon <= 0)
                    throw new ImageToolsException("DockerConfigInvalid", FaultKind.InvalidData,
                        $"The 'auth' entry for {registry} does not hold 'user:password'. Run 'docker login {registry}' again, or pass -Credential.",
                        filePath: path);
                user = decoded.Substring(0, colon);
                secret = decoded.Substring(colon + 1);
            }
            if (!string.IsNullOrEmpty(identityToken)) return RegistryCredential.FromIdentityToken(user, identityToken!, origin);
            if (!string.IsNullOrEmpty(user)) return RegistryCredential.FromPassword(user!, secret ?? "", origin);
            return null;
        }

        private async Task<RegistryCredential?> FromHelperAsync(string helper, string origin, string key, string registry,
            IProgress<RegistryEvent>? progress, CancellationToken cancellationToken)
        {
            var program = "docker-credential-" + helper;
            var located = Locate(program);
            if (located == null)
            {
                progress?.Report(new RegistryEvent(RegistryEventKind.Warning, registry,
                    $"{ConfigPath} names the credential helper '{helper}' ({origin}), but {program} is not on PATH; going on anonymously."));
                return null;
            }

            ProcessOutcome outcome;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(HelperTimeout);
                try
                {
                    outcome = await ProcessRunner.RunAsync(located, new[] { "get" }, timeout.Token,
                        environment: _helperEnvironment, standardInput: key + "\n").ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    // A helper that dies before it reads the registry name breaks the pipe we write it to.
                    progress?.Report(new RegistryEvent(RegistryEventKind.Warning, registry,
                        $"The credential helper {program} ('{origin}' in {ConfigPath}) crashed before it read its input ({e.Message}) for {key}; " +
                        "going on anonymously. Fix or remove the helper, or pass -Credential."));
                    return null;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new ImageToolsException("CredentialHelperTimeout", FaultKind.ResourceUnavailable,
                        $"The credential helper {program} did not answer for {registry} within {HelperTimeout.TotalSeconds:0} s " +
                        $"(it may be waiting for a keychain to be unlocked). Unlock it, fix '{origin}' in {ConfigPath}, or pass -Credential.",
                        imageName: null);
                }
            }

            // Helpers print "credentials not found in native keychain" and exit 1 when they have nothing.
            if (outcome.ExitCode != 0)
            {
                var notFound = outcome.StandardOutput.IndexOf("credentials not found", StringComparison.OrdinalIgnoreCase) >= 0;
                progress?.Report(new RegistryEvent(notFound ? RegistryEventKind.Credentials : RegistryEventKind.Warning, registry,
                    notFound
                        ? $"{program} has no credentials for {key}; going on anonymously."
                        : $"The credential helper {program} ('{origin}' in {ConfigPath}) failed (exit code {outcome.ExitCode}) for {key}; going on anonymously. " +
                          "Fix or remove the helper, or pass -Credential."));
                return null;
            }

            JsonValue answer;
            try { answer = JsonValue.Parse(outcome.StandardOutput); }
            catch (JsonFormatException)
            {
                // Never echo the output: it may hold the secret.
                throw new ImageToolsException("CredentialHelperInvalidOutput", FaultKind.InvalidData,
                    $"The credential helper {program} did not print the JSON the docker credential protocol asks for. " +
                    $"Check the helper, fix '{origin}' in {ConfigPath}, or pass -Credential.");
            }
            var user = answer["Username"]?.AsString;
            var secret = answer["Secret"]?.AsString;
            var helperOrigin = $"{program} ({origin} in {ConfigPath})";
            if (string.IsNullOrEmpty(secret)) return null;
            if (user == "<token>" || string.IsNullOrEmpty(user)) return RegistryCredential.FromIdentityToken(null, secret!, helperOrigin);
            return RegistryCredential.FromPassword(user!, secret!, helperOrigin);
        }

        private string? Locate(string program)
        {
            var searchPath = _searchPath ?? Environment.GetEnvironmentVariable("PATH") ?? "";
            var windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
            foreach (var directory in searchPath.Split(Path.PathSeparator))
            {
                if (directory.Length == 0) continue;
                var candidate = Path.Combine(directory, windows ? program + ".exe" : program);
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }

        /// <summary>The member of an auths/credHelpers object whose key names this host, in any of the forms docker writes.</summary>
        private static JsonValue? FindByHost(JsonValue? map, string host)
        {
            if (map == null || map.Kind != JsonKind.Object) return null;
            foreach (var member in map.Members)
                if (Hostname(member.Key) == host || (IsDockerHub(host) && IsDockerHub(Hostname(member.Key)))) return member.Value;
            return null;
        }

        /// <summary>host[:port] of a key such as <c>https://host:5000/v1/</c> or <c>host:5000</c>, like docker's ConvertToHostname.</summary>
        internal static string Hostname(string key)
        {
            var text = key.Trim();
            if (text.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) text = text.Substring(7);
            else if (text.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) text = text.Substring(8);
            var slash = text.IndexOf('/');
            if (slash >= 0) text = text.Substring(0, slash);
            return text.ToLowerInvariant();
        }

        private static bool IsDockerHub(string host) =>
            host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io";
    }
}
