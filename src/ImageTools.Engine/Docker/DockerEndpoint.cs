using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using ImageTools.Json;

namespace ImageTools.Docker
{
    /// <summary>
    /// The engine endpoint, found as the docker CLI finds it: <c>DOCKER_HOST</c>, else
    /// <c>DOCKER_CONTEXT</c>, else the config's <c>currentContext</c>, else the platform default.
    /// Shared by the API and CLI adapters so both talk to the same engine.
    /// </summary>
    internal sealed class DockerEndpoint
    {
        public const string UnixDefault = "unix:///var/run/docker.sock";
        public const string WindowsDefault = "npipe:////./pipe/docker_engine";

        public DockerEndpoint(Uri host, string source, bool tls = false, bool tlsVerify = false, string? certificateDirectory = null)
        {
            Host = host;
            Source = source;
            Tls = tls;
            TlsVerify = tlsVerify;
            CertificateDirectory = certificateDirectory;
        }

        public Uri Host { get; }
        /// <summary>Where the endpoint came from, for messages: DOCKER_HOST, context 'x', or the platform default.</summary>
        public string Source { get; }
        public bool Tls { get; }
        public bool TlsVerify { get; }
        /// <summary>Holds ca.pem, cert.pem and key.pem when <see cref="Tls"/>.</summary>
        public string? CertificateDirectory { get; }

        public override string ToString() => $"{Host.OriginalString} ({Source})";

        /// <summary>From the process environment.</summary>
        public static DockerEndpoint Resolve(IReadOnlyDictionary<string, string?>? overrides = null) =>
            Resolve(name => overrides != null && overrides.TryGetValue(name, out var value) ? value : Environment.GetEnvironmentVariable(name),
                Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
                RuntimeInformation.IsOSPlatform(OSPlatform.Windows));

        /// <summary>The rules themselves, over any environment and home folder (unit tests).</summary>
        public static DockerEndpoint Resolve(Func<string, string?> environment, string home, bool windows)
        {
            var host = environment("DOCKER_HOST");
            var configDirectory = NonEmpty(environment("DOCKER_CONFIG")) ?? Path.Combine(home, ".docker");
            if (NonEmpty(host) != null)
            {
                // As the CLI: DOCKER_TLS_VERIFY (any non-empty value) turns TLS on and verifies; DOCKER_CERT_PATH
                // defaults to the config folder.
                var verify = NonEmpty(environment("DOCKER_TLS_VERIFY")) != null;
                var certs = NonEmpty(environment("DOCKER_CERT_PATH"));
                var tls = verify || certs != null;
                return new DockerEndpoint(ParseHost(host!, "DOCKER_HOST", tls), "DOCKER_HOST", tls, verify, tls ? certs ?? configDirectory : null);
            }
            var context = NonEmpty(environment("DOCKER_CONTEXT")) ?? CurrentContext(configDirectory);
            if (context != null && context != "default") return FromContext(context, configDirectory);
            return new DockerEndpoint(new Uri(windows ? WindowsDefault : UnixDefault), "the platform default");
        }

        private static string? CurrentContext(string configDirectory)
        {
            var path = Path.Combine(configDirectory, "config.json");
            if (!File.Exists(path)) return null;
            try { return NonEmpty(JsonValue.Parse(File.ReadAllBytes(path), allowByteOrderMark: true)["currentContext"]?.AsString); }
            catch (JsonFormatException e)
            {
                throw new ImageToolsException("DockerConfigInvalid", FaultKind.InvalidData,
                    $"The docker config is not valid JSON ({e.Reason} at offset {e.Position}). Fix or remove it.", filePath: path, inner: e);
            }
        }

        private static DockerEndpoint FromContext(string name, string configDirectory)
        {
            var id = ContextId(name);
            var meta = Path.Combine(configDirectory, "contexts", "meta", id, "meta.json");
            if (!File.Exists(meta))
                throw new ImageToolsException("DockerContextNotFound", FaultKind.ObjectNotFound,
                    $"The docker context '{name}' does not exist (no {meta}). 'docker context ls' lists the contexts; set DOCKER_CONTEXT or DOCKER_HOST to one that does.");
            JsonValue docker;
            try { docker = JsonValue.Parse(File.ReadAllBytes(meta), allowByteOrderMark: true)["Endpoints"]?["docker"] ?? JsonValue.Null; }
            catch (JsonFormatException e)
            {
                throw new ImageToolsException("DockerContextInvalid", FaultKind.InvalidData,
                    $"The docker context '{name}' has invalid metadata ({e.Reason} at offset {e.Position}).", filePath: meta, inner: e);
            }
            var host = docker.Kind == JsonKind.Object ? NonEmpty(docker["Host"]?.AsString) : null;
            if (host == null)
                throw new ImageToolsException("DockerContextInvalid", FaultKind.InvalidData,
                    $"The docker context '{name}' names no docker endpoint host.", filePath: meta);
            var tlsDirectory = Path.Combine(configDirectory, "contexts", "tls", id, "docker");
            var tls = Directory.Exists(tlsDirectory);
            var skipVerify = docker["SkipTLSVerify"]?.AsBoolean ?? false;
            return new DockerEndpoint(ParseHost(host, $"context '{name}'", tls), $"context '{name}'", tls, tls && !skipVerify, tls ? tlsDirectory : null);
        }

        /// <summary>The CLI stores a context's files under the hex SHA-256 of its name.</summary>
        public static string ContextId(string name)
        {
            using var sha = SHA256.Create();
            return string.Concat(sha.ComputeHash(Encoding.UTF8.GetBytes(name)).Select(b => b.ToString("x2")));
        }

        private static Uri ParseHost(string host, string source, bool tls)
        {
            // The CLI accepts a bare host:port as tcp.
            var text = host.Contains("://") ? host : "tcp://" + host;
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || !new[] { "unix", "npipe", "tcp", "http", "https", "ssh" }.Contains(uri.Scheme))
                throw new ImageToolsException("DockerHostInvalid", FaultKind.InvalidArgument,
                    $"The docker endpoint '{host}' from {source} is not a unix://, npipe://, tcp:// or ssh:// address.");
            return uri;
        }

        private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
    }
}
