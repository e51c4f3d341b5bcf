using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using ImageTools.Engines;
using ImageTools.References;
using ImageTools.Registry;

namespace ImageTools.Docker.Api
{
    /// <summary>
    /// The engine through the Docker Engine API (Docker.DotNet.Enhanced, the maintained fork: the
    /// original Docker.DotNet is dormant and lacks unix-socket transports on netstandard2.0 and
    /// API version negotiation). One client, one connection pool: no process per call.
    /// Push and pull take their credentials from the registry client's source, sent as X-Registry-Auth.
    /// </summary>
    internal sealed class DockerApiEngine : IContainerEngine, IDisposable
    {
        private readonly DockerClient _client;
        private readonly IRegistryCredentialSource _credentials;
        private readonly IReadOnlyDictionary<string, string?> _environment;

        public DockerApiEngine(DockerEndpoint endpoint, IRegistryCredentialSource? credentials = null,
            IReadOnlyDictionary<string, string?>? environment = null)
        {
            Endpoint = endpoint;
            _credentials = credentials ?? new DockerConfigCredentialSource();
            _environment = environment ?? new Dictionary<string, string?>();
            if (endpoint.Tls)
                throw new ImageToolsException("EngineTlsUnsupported", FaultKind.InvalidArgument,
                    $"The Docker engine at {endpoint} needs TLS client certificates, which the API adapter does not load; use the docker CLI for it.");
            _client = new DockerClientBuilder().WithEndpoint(endpoint.Host).Build();
        }

        public DockerEndpoint Endpoint { get; }

        public IReadOnlyDictionary<string, string?> ClientEnvironment => _environment;

        public void Dispose() => _client.Dispose();

        public async Task<string> GetVersionAsync(CancellationToken cancellationToken)
        {
            var version = await Call(() => _client.System.GetVersionAsync(cancellationToken), "report its version", null).ConfigureAwait(false);
            var info = await Call(() => _client.System.GetSystemInfoAsync(cancellationToken), "report its configuration", null).ConfigureAwait(false);
            var driverStatus = info.DriverStatus ?? new List<string[]>();
            if (driverStatus.Any(pair => pair.Any(v => v != null && v.IndexOf("io.containerd.snapshotter", StringComparison.Ordinal) >= 0)))
                throw new ImageToolsException("ImageStoreUnsupported", FaultKind.ResourceUnavailable,
                    $"The Docker engine at {Endpoint} (version {version.Version}) keeps images in the containerd image store, where an image id is its " +
                    "manifest digest; ImageTools compares config digests, so its rebuild and publish decisions would be wrong there. " +
                    "Use an engine with the classic image store: set \"features\": {\"containerd-snapshotter\": false} in the daemon's daemon.json " +
                    "and restart it (images pulled or built under the containerd store are not carried over).");
            return version.Version;
        }

        public Task CheckBuilderAsync(string builder, CancellationToken cancellationToken) =>
            throw new ImageToolsException("BuildxMissing", FaultKind.InvalidArgument,
                $"-Builder '{builder}' needs the docker CLI with the buildx plugin, and no docker CLI is on PATH. Install it, or build on {Endpoint} without -Builder.");

        public Task<string> BuildAsync(BuildRequest request, CancellationToken cancellationToken) =>
            throw new ImageToolsException("BuildNeedsDockerCli", FaultKind.InvalidOperation,
                $"Building '{request.ImageName}' needs the docker CLI on PATH; the Engine API build path is not there yet.", imageName: request.ImageName);

        public async Task<ImageInspection?> InspectAsync(string image, CancellationToken cancellationToken)
        {
            ImageInspectResponse response;
            try { response = await Call(() => _client.Images.InspectImageAsync(image, cancellationToken), $"inspect {image}", image).ConfigureAwait(false); }
            catch (ImageToolsException e) when (e.ErrorId == "ImageNotFound") { return null; }
            var labels = response.Config?.Labels ?? new Dictionary<string, string>();
            return new ImageInspection(response.ID, new Dictionary<string, string>(labels, StringComparer.Ordinal),
                (response.RepoTags ?? new List<string>()).ToList(), (response.RepoDigests ?? new List<string>()).ToList(),
                string.IsNullOrEmpty(response.Os) || string.IsNullOrEmpty(response.Architecture) ? null
                    : new ImagePlatform(response.Os, response.Architecture, string.IsNullOrEmpty(response.Variant) ? null : response.Variant));
        }

        public async Task TagAsync(string image, string reference, CancellationToken cancellationToken)
        {
            var (repository, tag) = Split(reference);
            await Call(() => _client.Images.TagImageAsync(image, new ImageTagParameters { RepositoryName = repository, Tag = tag }, cancellationToken),
                $"tag {image} as {reference}", image).ConfigureAwait(false);
        }

        public async Task RemoveAsync(string image, CancellationToken cancellationToken) =>
            await Call(() => _client.Images.DeleteImageAsync(image, new ImageDeleteParameters(), cancellationToken), $"remove {image}", image).ConfigureAwait(false);

        public async Task PullAsync(string reference, ImagePlatform? platform, CancellationToken cancellationToken)
        {
            var (repository, tag) = Split(reference);
            var auth = await AuthFor(reference, cancellationToken).ConfigureAwait(false);
            var stream = new StreamErrors();
            var what = platform == null ? $"pull {reference}" : $"pull {reference} for {platform}";
            await Call(() => _client.Images.CreateImageAsync(
                new ImagesCreateParameters { FromImage = repository, Tag = tag, Platform = platform?.ToString() }, auth, stream, cancellationToken),
                what, reference).ConfigureAwait(false);
            stream.ThrowIfFailed(this, what, reference);
        }

        public async Task PushAsync(string reference, CancellationToken cancellationToken)
        {
            var (repository, tag) = Split(reference);
            var auth = await AuthFor(reference, cancellationToken).ConfigureAwait(false);
            var stream = new StreamErrors();
            await Call(() => _client.Images.PushImageAsync(repository, new ImagePushParameters { Tag = tag }, auth, stream, cancellationToken),
                $"push {reference}", reference).ConfigureAwait(false);
            stream.ThrowIfFailed(this, $"push {reference}", reference);
        }

        public async Task SaveAsync(string reference, string path, CancellationToken cancellationToken)
        {
            // Written beside the target and moved into place, so a failed save leaves no half archive.
            var partial = path + ".partial-" + Guid.NewGuid().ToString("N");
            try
            {
                using (var tar = await Call(() => _client.Images.SaveImageAsync(reference, cancellationToken), $"save {reference}", reference).ConfigureAwait(false))
                using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
                {
                    await tar.CopyToAsync(file, 81920, cancellationToken).ConfigureAwait(false);
                }
                if (File.Exists(path)) File.Delete(path);
                File.Move(partial, path);
            }
            finally
            {
                if (File.Exists(partial)) File.Delete(partial);
            }
        }

        /// <summary>The credential the registry client would use, as X-Registry-Auth; null for anonymous.</summary>
        private async Task<AuthConfig?> AuthFor(string reference, CancellationToken cancellationToken)
        {
            var registry = ImageReference.Parse(reference).RegistryHost;
            var credential = await _credentials.GetAsync(registry, null, cancellationToken).ConfigureAwait(false);
            if (credential == null) return null;
            return new AuthConfig
            {
                ServerAddress = DockerConfigCredentialSource.KeyFor(registry),
                Username = credential.UserName,
                Password = credential.Secret,
                IdentityToken = credential.IdentityToken,
            };
        }

        /// <summary>Name and tag apart, as the API wants them; a digest stays in the name.</summary>
        internal static (string Repository, string? Tag) Split(string reference)
        {
            var parsed = ImageReference.Parse(reference);
            if (parsed.Digest != null) return (parsed.Name + "@" + parsed.Digest, null);
            return (parsed.Name, parsed.Tag ?? "latest");
        }

        private async Task<T> Call<T>(Func<Task<T>> call, string what, string? image)
        {
            try { return await call().ConfigureAwait(false); }
            catch (Exception e) when (Translate(e, what, image) is ImageToolsException translated) { throw translated; }
        }

        private async Task Call(Func<Task> call, string what, string? image)
        {
            try { await call().ConfigureAwait(false); }
            catch (Exception e) when (Translate(e, what, image) is ImageToolsException translated) { throw translated; }
        }

        private ImageToolsException? Translate(Exception e, string what, string? image)
        {
            switch (e)
            {
                case OperationCanceledException _ when !(e is TaskCanceledException) || !(e.InnerException is TimeoutException):
                    return null;
                case DockerImageNotFoundException _:
                    return new ImageToolsException("ImageNotFound", FaultKind.ObjectNotFound,
                        $"The Docker engine at {Endpoint} has no image '{image}'.", imageName: image, inner: e);
                case DockerApiException api:
                    var message = ApiMessage(api);
                    if (api.StatusCode == HttpStatusCode.NotFound)
                        return new ImageToolsException("ImageNotFound", FaultKind.ObjectNotFound,
                            $"The Docker engine at {Endpoint} could not {what}: {message}", imageName: image, inner: e);
                    if (api.StatusCode == HttpStatusCode.Unauthorized || LooksLikeAuthentication(message))
                        return AuthenticationFailed(what, image, message, e);
                    return new ImageToolsException("EngineCommandFailed", FaultKind.InvalidOperation,
                        $"The Docker engine at {Endpoint} could not {what}: {message}", imageName: image, inner: e);
                case HttpRequestException _:
                case IOException _:
                case System.Net.Sockets.SocketException _:
                case TimeoutException _:
                case TaskCanceledException _:
                    return new ImageToolsException("EngineUnavailable", FaultKind.ResourceUnavailable,
                        $"The Docker engine does not answer at {Endpoint}: {Innermost(e).Message} Start it, or point DOCKER_HOST/DOCKER_CONTEXT at one that runs.",
                        imageName: image, inner: e);
                default:
                    return null;
            }
        }

        internal ImageToolsException AuthenticationFailed(string what, string? image, string message, Exception? inner = null) =>
            new ImageToolsException("RegistryAuthenticationFailed", FaultKind.AuthenticationError,
                $"The Docker engine at {Endpoint} could not {what}: the registry refused the credentials ({message}). " +
                "Pass -Credential, or log in with 'docker login' (config.json auths, credsStore or credHelpers).", imageName: image, inner: inner);

        internal static bool LooksLikeAuthentication(string message) =>
            message.IndexOf("unauthorized", StringComparison.OrdinalIgnoreCase) >= 0 ||
            message.IndexOf("authentication required", StringComparison.OrdinalIgnoreCase) >= 0 ||
            message.IndexOf("denied", StringComparison.OrdinalIgnoreCase) >= 0 ||
            message.IndexOf("no basic auth credentials", StringComparison.OrdinalIgnoreCase) >= 0;

        private static string ApiMessage(DockerApiException e)
        {
            var body = e.ResponseBody?.Trim() ?? "";
            // The engine answers {"message": "..."}.
            try
            {
                var message = Json.JsonValue.Parse(body)["message"]?.AsString;
                if (!string.IsNullOrEmpty(message)) return message!;
            }
            catch (Json.JsonFormatException) { }
            return body.Length > 0 ? body : e.StatusCode.ToString();
        }

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException != null) e = e.InnerException;
            return e;
        }

        /// <summary>
        /// Collects the errors a pull or push progress stream reports: the engine answers 200 and
        /// reports a failed push only inside the stream, and Docker.DotNet does not raise it.
        /// </summary>
        private sealed class StreamErrors : IProgress<JSONMessage>
        {
            private readonly List<string> _errors = new List<string>();

            public void Report(JSONMessage value)
            {
                var error = value.Error?.Message;
                if (string.IsNullOrEmpty(error)) return;
                lock (_errors) _errors.Add(error!);
            }

            public void ThrowIfFailed(DockerApiEngine engine, string what, string image)
            {
                string? error;
                lock (_errors) error = _errors.FirstOrDefault();
                if (error == null) return;
                if (LooksLikeAuthentication(error)) throw engine.AuthenticationFailed(what, image, error);
                throw new ImageToolsException(what.StartsWith("push", StringComparison.Ordinal) ? "PushFailed" : "PullFailed", FaultKind.InvalidOperation,
                    $"The Docker engine at {engine.Endpoint} could not {what}: {error}", imageName: image);
            }
        }
    }
}
