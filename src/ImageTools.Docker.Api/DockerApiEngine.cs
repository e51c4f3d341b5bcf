using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Handler.Abstractions;
using Docker.DotNet.Models;
using Docker.DotNet.X509;
using ImageTools.Engines;
using ImageTools.Formats;
using ImageTools.Formats.Dockerfiles;
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
    internal sealed class DockerApiEngine : IContainerEngine, ILocalImageCatalog, IDisposable
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
            var builder = new DockerClientBuilder().WithEndpoint(endpoint.Host);
            if (endpoint.Tls) builder = builder.WithAuthProvider(TlsCredentials(endpoint));
            _client = builder.Build();
        }

        /// <summary>Where the certificates come from, as users set it: DOCKER_CERT_PATH, or a context's TLS folder.</summary>
        private static string CertificateSource(DockerEndpoint endpoint) =>
            endpoint.Source == "DOCKER_HOST" ? $"DOCKER_CERT_PATH ({endpoint.CertificateDirectory})" : $"the TLS folder of {endpoint.Source} ({endpoint.CertificateDirectory})";

        /// <summary>
        /// TLS as the docker CLI sets it up: the client certificate from cert.pem and key.pem, and with
        /// DOCKER_TLS_VERIFY the engine's certificate checked against ca.pem; without it the engine's
        /// certificate is not checked (the CLI's DOCKER_CERT_PATH-only mode). PEM files are read through
        /// Docker.DotNet.X509 (BouncyCastle on netstandard2.0, isolated in dependencies/ like the rest).
        /// </summary>
        private static IAuthProvider TlsCredentials(DockerEndpoint endpoint)
        {
            var directory = endpoint.CertificateDirectory ?? "";
            var source = CertificateSource(endpoint);
            string PathOf(string name) => Path.Combine(directory, name);
            var missing = new[] { "cert.pem", "key.pem" }.Concat(endpoint.TlsVerify ? new[] { "ca.pem" } : Array.Empty<string>())
                .Where(name => !File.Exists(PathOf(name))).ToList();
            if (missing.Count > 0)
                throw new ImageToolsException("EngineTlsCertificateMissing", FaultKind.InvalidArgument,
                    $"The Docker engine at {endpoint} is reached over TLS, and {source} has no {string.Join(", ", missing)}. " +
                    "Point DOCKER_CERT_PATH at the folder with the client certificate (cert.pem, key.pem) and the engine's CA (ca.pem), as for the docker CLI.",
                    filePath: directory);
            X509Certificate2 client;
            X509Certificate2? authority = null;
            try
            {
                client = DockerTlsCertificates.LoadCertificateFromPemFiles(PathOf("cert.pem"), PathOf("key.pem"));
                if (endpoint.TlsVerify) authority = DockerTlsCertificates.LoadCertificateAuthorityFromPemFile(PathOf("ca.pem"));
            }
            catch (Exception e) when (!(e is OperationCanceledException))
            {
                throw new ImageToolsException("EngineTlsCertificateInvalid", FaultKind.InvalidData,
                    $"The TLS files in {source} cannot be read ({e.Message}). cert.pem, key.pem and ca.pem must be PEM files as 'docker --tlsverify' takes them.",
                    filePath: directory, inner: e);
            }
            return new CertificateCredentials(client)
            {
                ServerCertificateValidationCallback = authority != null
                    ? DockerTlsCertificates.CreateCertificateAuthorityValidationCallback(authority)
                    : (sender, certificate, chain, errors) => true,
            };
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

        /// <summary>
        /// A classic build through <c>POST /build</c> (the daemon's own builder; BuildKit over the API needs
        /// a session this client does not speak). The context tar is made from <see cref="BuildContext"/>'s
        /// list, the one the inputs digest hashes, plus the rendered Dockerfile (labels in one LABEL step, as
        /// the CLI's classic path writes it) under a name the daemon drops before any COPY sees the context.
        /// Bases are never pulled: a FROM or COPY --from image the engine lacks fails before the build.
        /// </summary>
        public async Task<string> BuildAsync(BuildRequest request, CancellationToken cancellationToken)
        {
            if (request.Builder != null) await CheckBuilderAsync(request.Builder, cancellationToken).ConfigureAwait(false);
            if (request.Platforms.Count > 1)
                throw new ImageToolsException("MultiPlatformBuildNeedsBuildx", FaultKind.InvalidArgument,
                    $"'{request.ImageName}' is for {string.Join(", ", request.Platforms)}; the Engine API's builder builds one platform at a time. " +
                    "Build it with docker buildx (put the docker CLI with buildx on PATH), or give it one platform.", imageName: request.ImageName);
            await CheckBasesPresentAsync(request, cancellationToken).ConfigureAwait(false);

            var labeled = DockerfileLabels.AddToBuiltStage(request.DockerfileText, request.Target, request.Labels);
            var dockerfileName = ".imagetools-dockerfile-" + Guid.NewGuid().ToString("N");
            var entries = BuildContext.Collect(request.ContextPath, request.DockerfilePath ?? "", cancellationToken);
            var extras = new[]
            {
                new KeyValuePair<string, byte[]>(dockerfileName, Encoding.UTF8.GetBytes(labeled.Text)),
                // The daemon removes .dockerignore and the Dockerfile from the context when .dockerignore names
                // them, before any COPY; buildah reads it too. The user's own .dockerignore was applied here already.
                new KeyValuePair<string, byte[]>(BuildContext.IgnoreFileName, Encoding.UTF8.GetBytes(BuildContext.IgnoreFileName + "\n" + dockerfileName + "\n")),
            };
            var parameters = new ImageBuildParameters
            {
                Dockerfile = dockerfileName,
                BuildArgs = request.BuildArgs.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal),
                Labels = labeled.Unplaced.ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal),
                Target = request.Target,
                Platform = request.Platforms.Count == 1 ? request.Platforms[0] : null,
                NoCache = request.NoCache ? true : (bool?)null,
                // As docker build --force-rm: no container of a failed step is left behind.
                Remove = true,
                ForceRemove = true,
                Version = "1",
            };

            // Written out first, so the request body is a plain file of known length and a context that cannot be
            // read fails before anything is sent.
            var context = Path.Combine(Path.GetTempPath(), "imagetools-context-" + Guid.NewGuid().ToString("N") + ".tar");
            try
            {
                try
                {
                    using var tar = new FileStream(context, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920);
                    BuildContextArchive.Write(tar, entries, extras, cancellationToken);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    throw new ImageToolsException("BuildContextUnreadable", FaultKind.ResourceUnavailable,
                        $"The build context of '{request.ImageName}' cannot be sent: {e.Message} Make its files readable, or leave them out in .dockerignore.",
                        filePath: request.ContextPath, imageName: request.ImageName, inner: e);
                }
                using var log = request.LogPath == null ? null : new StreamWriter(request.LogPath, append: true) { AutoFlush = true };
                log?.WriteLine($"POST /build on {Endpoint}: {entries.Count} context entries from {request.ContextPath}" +
                               (request.Target != null ? $", target {request.Target}" : "") + (parameters.Platform != null ? $", platform {parameters.Platform}" : ""));
                var output = new BuildStream(log, request.Steps);
                using (var body = new FileStream(context, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true))
                {
                    try
                    {
                        await _client.Images.BuildImageFromDockerfileAsync(parameters, body, Array.Empty<AuthConfig>(), new Dictionary<string, string>(), output, cancellationToken)
                            .ConfigureAwait(false);
                    }
                    catch (DockerApiException e)
                    {
                        // The daemon refuses a build it cannot start (a Dockerfile it cannot parse, an unknown target) with 4xx/5xx.
                        output.Fail(ApiMessage(e));
                    }
                    catch (Exception e) when (Translate(e, $"build {request.ImageName}", request.ImageName) is ImageToolsException translated)
                    {
                        throw translated;
                    }
                }
                output.Flush();
                if (output.Error != null)
                    throw new ImageToolsException("BuildFailed", FaultKind.InvalidOperation,
                        $"The build of '{request.ImageName}' on the Docker engine at {Endpoint} failed" +
                        (output.LastStep != null ? $" at {output.LastStep}" : "") + $": {output.Error}" +
                        (request.LogPath != null ? $" (full log: {request.LogPath})" : ""), imageName: request.ImageName);
                var id = output.ImageId;
                if (id == null || !id.StartsWith("sha256:", StringComparison.Ordinal))
                {
                    // Engines that do not send the id as aux say "Successfully built <short id>" instead.
                    var found = id == null ? null : await InspectAsync(id, cancellationToken).ConfigureAwait(false);
                    if (found == null)
                        throw new ImageToolsException("BuildFailed", FaultKind.InvalidOperation,
                            $"The build of '{request.ImageName}' on the Docker engine at {Endpoint} ended without naming an image" +
                            (request.LogPath != null ? $" (full log: {request.LogPath})" : "."), imageName: request.ImageName);
                    id = found.Id;
                }
                log?.WriteLine($"built {id}");
                return id;
            }
            finally
            {
                try { File.Delete(context); } catch (IOException) { }
            }
        }

        /// <summary>
        /// docker build --pull never: the daemon's builder would pull a FROM or COPY --from image it
        /// lacks from that image's registry (Docker Hub for a short name). The run makes its parents and
        /// bases present beforehand; one still missing here is an error, not a lookup on a stranger's registry.
        /// </summary>
        private async Task CheckBasesPresentAsync(BuildRequest request, CancellationToken cancellationToken)
        {
            var dockerfile = DockerfileParser.Parse(request.DockerfileText, request.DockerfilePath ?? "Dockerfile", request.BuildArgs);
            // The classic builder runs every stage up to the target, needed or not.
            var last = request.Target == null ? dockerfile.FinalStage.Index : dockerfile.FindStage(request.Target)?.Index ?? dockerfile.FinalStage.Index;
            foreach (var use in dockerfile.ImageUses.Where(u => u.StageIndex <= last && u.Instruction != ImageUse.RunMount)
                         .GroupBy(u => u.Reference, StringComparer.Ordinal).Select(g => g.First()))
            {
                if (await InspectAsync(use.Reference, cancellationToken).ConfigureAwait(false) != null) continue;
                throw new ImageToolsException("BaseImageMissing", FaultKind.ObjectNotFound,
                    $"'{request.ImageName}' builds on '{use.Reference}' ({use.Instruction}, line {use.Line}), which the Docker engine at {Endpoint} does not hold. " +
                    "Builds through the Engine API never pull: pull it first (-Pull, or base_images in imagetools.yaml), or build it in the same run.",
                    filePath: request.DockerfilePath, line: use.Line, imageName: request.ImageName);
            }
        }

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

        /// <summary>
        /// <c>GET /images/json</c> with the <c>reference</c> filter <c>docker image ls REPOSITORY</c> sends. An image's
        /// summary can still list tags of other repositories (Podman lists them all), so each tag's repository is compared
        /// again here; Podman spells a name without registry as <c>localhost/name</c>, which counts as the same repository.
        /// </summary>
        public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken cancellationToken)
        {
            var wanted = ImageReference.Parse(repository).Normalize().Name;
            var podmanLocal = ImageReference.Parse(repository).Registry == null ? ImageReference.Parse("localhost/" + repository).Normalize().Name : null;
            var parameters = new ImagesListParameters
            {
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["reference"] = new Dictionary<string, bool> { [repository] = true } },
            };
            var images = await Call(() => _client.Images.ListImagesAsync(parameters, cancellationToken), $"list the images of {repository}", null).ConfigureAwait(false);
            var tags = new List<string>();
            foreach (var image in images)
            foreach (var tag in image.RepoTags ?? new List<string>())
            {
                // Untagged images show as <none>:<none>; only tags can be pruned by name.
                if (!ImageReference.TryParse(tag, out var parsed, out _) || parsed!.Tag == null) continue;
                var name = parsed.Normalize().Name;
                if ((name == wanted || name == podmanLocal) && !tags.Contains(tag)) tags.Add(tag);
            }
            return tags;
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
                case AuthenticationException _:
                case IOException _:
                case System.Net.Sockets.SocketException _:
                case TimeoutException _:
                case TaskCanceledException _:
                    if (Endpoint.Tls && IsTlsFailure(e))
                        return new ImageToolsException("EngineTlsFailed", FaultKind.AuthenticationError,
                            $"The Docker engine at {Endpoint} refused the TLS connection ({Innermost(e).Message}). Check the certificates in " +
                            $"{CertificateSource(Endpoint)}: cert.pem and key.pem must be a client certificate signed by the CA the engine trusts " +
                            "(its --tlscacert), and ca.pem the CA that signed the engine's certificate.",
                            imageName: image, inner: e);
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

        /// <summary>
        /// A handshake the engine refused: an AuthenticationException, or (TLS 1.3, where a refused client
        /// certificate is only seen on the first read) the connection closed before any answer.
        /// </summary>
        private static bool IsTlsFailure(Exception e)
        {
            for (var current = e; current != null; current = current.InnerException)
            {
                if (current is AuthenticationException) return true;
                if (current is IOException && (current.Message.IndexOf("SSL", StringComparison.OrdinalIgnoreCase) >= 0 ||
                                               current.Message.IndexOf("TLS", StringComparison.OrdinalIgnoreCase) >= 0 ||
                                               current.Message.IndexOf("unexpected EOF", StringComparison.OrdinalIgnoreCase) >= 0 ||
                                               current.Message.IndexOf("reset by peer", StringComparison.OrdinalIgnoreCase) >= 0)) return true;
            }
            return false;
        }

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException != null) e = e.InnerException;
            return e;
        }

        /// <summary>
        /// The JSON stream of <c>POST /build</c>: output text (in pieces that need not end at a line) to
        /// the log line by line, step lines to progress, the image id from <c>aux</c>, and the first error.
        /// A failed step arrives as an error inside a 200 answer, which Docker.DotNet does not raise.
        /// </summary>
        private sealed class BuildStream : IProgress<JSONMessage>
        {
            private static readonly Regex SuccessfullyBuilt = new Regex(@"^Successfully built ([0-9a-f]{12,64})\s*$", RegexOptions.CultureInvariant);
            private readonly StreamWriter? _log;
            private readonly IProgress<string>? _steps;
            private readonly StringBuilder _pending = new StringBuilder();
            private readonly object _gate = new object();

            public BuildStream(StreamWriter? log, IProgress<string>? steps)
            {
                _log = log;
                _steps = steps;
            }

            public string? ImageId { get; private set; }
            public string? Error { get; private set; }
            public string? LastStep { get; private set; }

            public void Report(JSONMessage value)
            {
                lock (_gate)
                {
                    if (!string.IsNullOrEmpty(value.Stream))
                    {
                        _pending.Append(value.Stream);
                        var text = _pending.ToString();
                        var end = text.LastIndexOf('\n');
                        if (end >= 0)
                        {
                            foreach (var line in text.Substring(0, end).Split('\n')) Line(line.TrimEnd('\r'));
                            _pending.Clear().Append(text.Substring(end + 1));
                        }
                    }
                    if (value.Aux?.ExtensionData != null && value.Aux.ExtensionData.TryGetValue("ID", out var id) && id?.ToString() is string text2 && text2.Length > 0)
                        ImageId = text2;
                    var error = value.Error?.Message;
                    if (!string.IsNullOrEmpty(error)) Fail(error!);
                }
            }

            public void Fail(string error)
            {
                lock (_gate)
                {
                    _log?.WriteLine("error: " + error);
                    Error ??= error.Trim();
                }
            }

            public void Flush()
            {
                lock (_gate)
                {
                    if (_pending.Length > 0) Line(_pending.ToString().TrimEnd('\r'));
                    _pending.Clear();
                }
            }

            private void Line(string line)
            {
                _log?.WriteLine(line);
                if (BuildOutput.IsStep(line))
                {
                    LastStep = line.Trim();
                    _steps?.Report(LastStep);
                }
                var built = SuccessfullyBuilt.Match(line);
                if (built.Success && ImageId == null) ImageId = built.Groups[1].Value;
            }
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
