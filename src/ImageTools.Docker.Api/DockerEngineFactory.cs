using System;
using System.Collections.Generic;
using ImageTools.Docker.Cli;
using ImageTools.Engines;
using ImageTools.Registry;

namespace ImageTools.Docker.Api
{
    /// <summary>The one place the shipped engine is put together (the cmdlets call it).</summary>
    internal static class DockerEngineFactory
    {
        /// <summary>Chooses the builder: <c>api</c>, <c>cli</c>, or <c>auto</c> (the default: the CLI when one is on PATH).</summary>
        public const string BuilderVariable = "IMAGETOOLS_BUILDER";

        /// <summary>
        /// The API for everything but builds, the docker CLI for builds when one is on PATH (unless
        /// IMAGETOOLS_BUILDER=api). TLS endpoints too: the API adapter loads the client certificates
        /// from DOCKER_CERT_PATH as the CLI does.
        /// </summary>
        /// <param name="environment">Overrides of DOCKER_HOST, IMAGETOOLS_BUILDER and friends; else the process environment.</param>
        /// <param name="credentials">What push and pull authenticate with; else the docker config.</param>
        /// <param name="useCli">False builds through the API even where a docker CLI exists.</param>
        public static IContainerEngine Create(IReadOnlyDictionary<string, string?>? environment = null,
            IRegistryCredentialSource? credentials = null, bool useCli = true)
        {
            var endpoint = DockerEndpoint.Resolve(environment);
            var builder = (environment != null && environment.TryGetValue(BuilderVariable, out var chosen) ? chosen : Environment.GetEnvironmentVariable(BuilderVariable))?.Trim().ToLowerInvariant();
            if (!string.IsNullOrEmpty(builder) && builder != "auto" && builder != "api" && builder != "cli")
                throw new ImageToolsException("BuilderChoiceInvalid", FaultKind.InvalidArgument,
                    $"{BuilderVariable}='{builder}' is not a builder: use 'api' (the Engine API's build endpoint), 'cli' (the docker CLI) or 'auto'.");
            var cliPath = useCli && builder != "api" ? DockerEngine.FindCli() : null;
            if (builder == "cli" && cliPath == null)
                throw new ImageToolsException("BuildNeedsDockerCli", FaultKind.ResourceUnavailable,
                    $"{BuilderVariable}=cli, and no docker CLI is on PATH. Install it (or put it on PATH), or unset {BuilderVariable} to build through the Engine API.");
            var cli = cliPath == null ? null : new DockerCliEngine(cliPath, environment);
            return new DockerEngine(new DockerApiEngine(endpoint, credentials, environment), cli);
        }
    }
}
