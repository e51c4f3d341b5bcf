using System.Collections.Generic;
using ImageTools.Docker.Cli;
using ImageTools.Engines;
using ImageTools.Registry;

namespace ImageTools.Docker.Api
{
    /// <summary>The one place the shipped engine is put together (the cmdlets call it).</summary>
    internal static class DockerEngineFactory
    {
        /// <summary>
        /// The API for everything but builds, the docker CLI for builds when one is on PATH. An
        /// endpoint with TLS client certificates stays on the CLI altogether, which loads them itself.
        /// </summary>
        /// <param name="environment">Overrides of DOCKER_HOST and friends; else the process environment.</param>
        /// <param name="credentials">What push and pull authenticate with; else the docker config.</param>
        /// <param name="useCli">False builds through the API even where a docker CLI exists.</param>
        public static IContainerEngine Create(IReadOnlyDictionary<string, string?>? environment = null,
            IRegistryCredentialSource? credentials = null, bool useCli = true)
        {
            var endpoint = DockerEndpoint.Resolve(environment);
            var cliPath = useCli ? DockerEngine.FindCli() : null;
            var cli = cliPath == null ? null : new DockerCliEngine(cliPath, environment);
            if (endpoint.Tls && cli != null) return cli;
            return new DockerEngine(new DockerApiEngine(endpoint, credentials, environment), cli);
        }
    }
}
