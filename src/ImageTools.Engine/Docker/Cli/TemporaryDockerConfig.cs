using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Processes;

namespace ImageTools.Docker.Cli
{
    /// <summary>
    /// A throw-away Docker config directory logged in to one registry, for pushes with
    /// -Credential: the user's own ~/.docker/config.json is never touched, and the secret reaches
    /// docker on standard input only (--password-stdin), never on a command line or in a message.
    /// </summary>
    internal sealed class TemporaryDockerConfig : IDisposable
    {
        private TemporaryDockerConfig(string directory) => Directory = directory;

        public string Directory { get; }

        /// <summary>The environment that points docker at this config.</summary>
        public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?> { ["DOCKER_CONFIG"] = Directory };

        public static async Task<TemporaryDockerConfig> LoginAsync(string registry, string userName, string secret,
            IReadOnlyDictionary<string, string?>? environment = null, string docker = "docker", CancellationToken cancellationToken = default)
        {
            var directory = Path.Combine(Path.GetTempPath(), "imagetools-docker-config-" + Guid.NewGuid().ToString("N"));
            System.IO.Directory.CreateDirectory(directory);
            var config = new TemporaryDockerConfig(directory);
            try
            {
                var outcome = await ProcessRunner.RunAsync(docker, new[] { "--config", directory, "login", "--username", userName, "--password-stdin", registry },
                    cancellationToken, environment: environment, standardInput: secret).ConfigureAwait(false);
                if (outcome.ExitCode != 0)
                {
                    var reason = (outcome.StandardError + "\n" + outcome.StandardOutput).Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "no output";
                    throw new ImageToolsException("RegistryAuthenticationFailed", FaultKind.AuthenticationError,
                        $"docker login to {registry} as '{userName}' failed: {reason.Replace(secret, "***")}. Check the user name and password or token.");
                }
                return config;
            }
            catch
            {
                config.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            try { if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
