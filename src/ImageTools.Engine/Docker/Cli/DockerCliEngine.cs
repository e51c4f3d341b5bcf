using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Engines;
using ImageTools.Formats.Dockerfiles;
using ImageTools.Processes;
using ImageTools.References;

namespace ImageTools.Docker.Cli
{
    /// <summary>
    /// The engine through the docker CLI: <c>docker buildx build --load</c> when buildx is there,
    /// else <c>docker build</c>. DOCKER_HOST, DOCKER_CONTEXT, DOCKER_BUILDKIT and DOCKER_CONFIG
    /// pass through from the environment, so remote engines and contexts work as in a shell.
    /// </summary>
    internal sealed class DockerCliEngine : IContainerEngine, ILocalImageCatalog
    {
        private readonly string _docker;
        private readonly IReadOnlyDictionary<string, string?> _environment;
        private readonly Lazy<Task<bool>> _hasBuildx;

        public DockerCliEngine(string docker = "docker", IReadOnlyDictionary<string, string?>? environment = null)
        {
            _docker = docker;
            _environment = environment ?? new Dictionary<string, string?>();
            _hasBuildx = new Lazy<Task<bool>>(async () =>
                (await ProcessRunner.RunAsync(_docker, new[] { "buildx", "version" }, CancellationToken.None, environment: _environment).ConfigureAwait(false)).ExitCode == 0);
        }

        public IReadOnlyDictionary<string, string?> ClientEnvironment => _environment;

        public async Task<string> GetVersionAsync(CancellationToken cancellationToken)
        {
            ProcessOutcome outcome;
            try { outcome = await Docker(cancellationToken, "version", "--format", "{{.Server.Version}}").ConfigureAwait(false); }
            catch (ImageToolsException e) when (e.ErrorId == "ProgramNotFound")
            {
                throw new ImageToolsException("EngineUnavailable", FaultKind.ResourceUnavailable,
                    $"The docker CLI ('{_docker}') cannot be started. Install Docker, or put docker on PATH.", inner: e);
            }
            if (outcome.ExitCode != 0 || outcome.StandardOutput.Trim().Length == 0)
                throw EngineUnavailable(outcome);
            var version = outcome.StandardOutput.Trim();
            await CheckImageStoreAsync(version, cancellationToken).ConfigureAwait(false);
            return version;
        }

        /// <summary>
        /// Docker's containerd image store (the default of new Docker 29 installs) gives an image the id
        /// of its manifest, not of its config. This tool records and compares config digests (labels of
        /// parents, publish checks), so there it would rebuild forever and refuse to republish. Better
        /// one clear error than quietly wrong decisions.
        /// </summary>
        private async Task CheckImageStoreAsync(string version, CancellationToken cancellationToken)
        {
            var info = await Docker(cancellationToken, "info", "--format", "{{json .DriverStatus}}").ConfigureAwait(false);
            if (info.ExitCode != 0 || info.StandardOutput.IndexOf("io.containerd.snapshotter", StringComparison.Ordinal) < 0) return;
            throw new ImageToolsException("ImageStoreUnsupported", FaultKind.ResourceUnavailable,
                $"The Docker engine{HostHint()} (version {version}) keeps images in the containerd image store, where an image id is its " +
                "manifest digest; ImageTools compares config digests, so its rebuild and publish decisions would be wrong there. " +
                "Use an engine with the classic image store: set \"features\": {\"containerd-snapshotter\": false} in the daemon's daemon.json " +
                "and restart it (images pulled or built under the containerd store are not carried over).");
        }

        public async Task CheckBuilderAsync(string builder, CancellationToken cancellationToken)
        {
            // Without buildx, docker build would quietly build on the local engine instead.
            if (!await _hasBuildx.Value.ConfigureAwait(false))
                throw new ImageToolsException("BuildxMissing", FaultKind.InvalidArgument,
                    $"-Builder '{builder}' needs the docker buildx plugin, which '{_docker}' lacks. Install buildx, or build on the engine DOCKER_HOST names without -Builder.");
            var outcome = await Docker(cancellationToken, "buildx", "inspect", builder).ConfigureAwait(false);
            if (outcome.ExitCode != 0)
                throw new ImageToolsException("BuilderNotFound", FaultKind.ObjectNotFound,
                    $"docker buildx cannot use the builder '{builder}': {LastError(outcome)}. 'docker buildx ls' lists the builders.");
        }

        public async Task<string> BuildAsync(BuildRequest request, CancellationToken cancellationToken)
        {
            var scratch = Path.Combine(Path.GetTempPath(), "imagetools-build-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(scratch);
            try
            {
                var buildx = await _hasBuildx.Value.ConfigureAwait(false);
                // BuildKit stamps --label for free; the classic builder makes each one a step (container + commit).
                var labeled = buildx
                    ? new LabeledDockerfile(request.DockerfileText, request.Labels)
                    : DockerfileLabels.AddToBuiltStage(request.DockerfileText, request.Target, request.Labels);
                var dockerfile = Path.Combine(scratch, "Dockerfile");
                File.WriteAllText(dockerfile, labeled.Text);
                var idFile = Path.Combine(scratch, "image-id");
                var arguments = new List<string>();
                // The classic builder keeps the container of a failed step unless told otherwise.
                arguments.AddRange(buildx ? new[] { "buildx", "build", "--load" } : new[] { "build", "--force-rm" });
                if (request.Builder != null) arguments.AddRange(new[] { "--builder", request.Builder });
                arguments.AddRange(new[] { "--file", dockerfile, "--iidfile", idFile });
                foreach (var arg in request.BuildArgs.OrderBy(a => a.Key, StringComparer.Ordinal)) arguments.AddRange(new[] { "--build-arg", $"{arg.Key}={arg.Value}" });
                foreach (var label in labeled.Unplaced.OrderBy(l => l.Key, StringComparer.Ordinal)) arguments.AddRange(new[] { "--label", $"{label.Key}={label.Value}" });
                if (request.Target != null) arguments.AddRange(new[] { "--target", request.Target });
                if (request.Platforms.Count > 0) arguments.AddRange(new[] { "--platform", string.Join(",", request.Platforms) });
                if (request.NoCache) arguments.Add("--no-cache");
                arguments.Add(request.ContextPath);

                using var log = request.LogPath == null ? null : new StreamWriter(request.LogPath, append: true) { AutoFlush = true };
                var logGate = new object();
                log?.WriteLine($"$ {_docker} {ProcessRunner.JoinArguments(arguments)}");
                // stdout and stderr arrive on two threads; one writer serves both.
                var outcome = await ProcessRunner.RunAsync(_docker, arguments, cancellationToken, environment: _environment,
                    onOutputLine: line =>
                    {
                        lock (logGate) log?.WriteLine(line);
                        if (BuildOutput.IsStep(line)) request.Steps?.Report(line.Trim());
                    }).ConfigureAwait(false);
                // A build counts only when the CLI exits 0 and wrote the image id (--iidfile): a failed step makes
                // both builders exit non-zero, and without the id file there is no image to verify or tag.
                // An engine that died mid-build makes the CLI fail like a build step would (often with only the
                // step's last line): ask the engine whether it still answers before blaming the Dockerfile.
                if (outcome.ExitCode != 0 && !cancellationToken.IsCancellationRequested && !await EngineAnswersAsync(cancellationToken).ConfigureAwait(false))
                    throw new ImageToolsException("EngineUnavailable", FaultKind.ResourceUnavailable,
                        $"The Docker engine{HostHint()} stopped answering while it built '{request.ImageName}' (docker build exit code {outcome.ExitCode}: " +
                        $"{LastError(outcome)}); nothing of it was tagged. Start the engine again, or point DOCKER_HOST/DOCKER_CONTEXT at one that runs, " +
                        "and run again: images already built are not built again." + (request.LogPath != null ? $" (full log: {request.LogPath})" : ""),
                        imageName: request.ImageName);
                if (outcome.ExitCode != 0 || !File.Exists(idFile))
                    throw new ImageToolsException("BuildFailed", FaultKind.InvalidOperation,
                        $"docker build of '{request.ImageName}' failed (exit code {outcome.ExitCode}): {LastError(outcome)}" +
                        (request.LogPath != null ? $" (full log: {request.LogPath})" : ""), imageName: request.ImageName);
                return File.ReadAllText(idFile).Trim();
            }
            finally
            {
                try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
            }
        }

        public async Task TagAsync(string image, string reference, CancellationToken cancellationToken) =>
            await Check(await Docker(cancellationToken, "tag", image, reference).ConfigureAwait(false), $"tag {image} as {reference}").ConfigureAwait(false);

        public async Task PullAsync(string reference, ImagePlatform? platform, CancellationToken cancellationToken)
        {
            var arguments = platform == null
                ? new[] { "pull", "--quiet", reference }
                : new[] { "pull", "--quiet", "--platform", platform.ToString(), reference };
            var what = platform == null ? $"pull {reference}" : $"pull {reference} for {platform}";
            await Check(await Docker(cancellationToken, arguments).ConfigureAwait(false), what).ConfigureAwait(false);
        }

        public async Task PushAsync(string reference, CancellationToken cancellationToken) =>
            await Check(await Docker(cancellationToken, "push", "--quiet", reference).ConfigureAwait(false), $"push {reference}").ConfigureAwait(false);

        public async Task RemoveAsync(string image, CancellationToken cancellationToken) =>
            await Check(await Docker(cancellationToken, "image", "rm", image).ConfigureAwait(false), $"remove {image}").ConfigureAwait(false);

        public async Task SaveAsync(string reference, string path, CancellationToken cancellationToken)
        {
            var outcome = await Docker(cancellationToken, "save", "--output", path, reference).ConfigureAwait(false);
            // docker save writes the file itself, so a full disk reaches us only as the CLI's error line. It becomes
            // the IOException our own writes (and the Engine API adapter's) give, so callers decide on the type.
            if (outcome.ExitCode != 0 && outcome.StandardError.IndexOf("no space left on device", StringComparison.OrdinalIgnoreCase) >= 0)
                throw new IOException("No space left on device", new ImageToolsException("EngineCommandFailed", FaultKind.ResourceUnavailable,
                    $"docker could not save {reference}: {FirstLine(outcome.StandardError)}"));
            await Check(outcome, $"save {reference}").ConfigureAwait(false);
        }

        public async Task<ImageInspection?> InspectAsync(string image, CancellationToken cancellationToken)
        {
            // One value per line, read without a JSON parser; a label value holding a newline would be misread
            // here, which the Engine API path (DockerApiEngine, typed models) is not. Variant goes through index:
            // it is left out when empty, and older CLIs' inspect types lack it (both fail a plain .Variant).
            var outcome = await Docker(cancellationToken, "image", "inspect", "--format",
                "{{.Id}}\nplatform {{.Os}}/{{.Architecture}}/{{with index . \"Variant\"}}{{.}}{{end}}\n{{range $k, $v := .Config.Labels}}label {{$k}}={{$v}}\n{{end}}{{range .RepoTags}}tag {{.}}\n{{end}}{{range .RepoDigests}}digest {{.}}\n{{end}}",
                image).ConfigureAwait(false);
            if (outcome.ExitCode != 0)
            {
                if (Regex.IsMatch(outcome.StandardError, "No such (image|object)", RegexOptions.IgnoreCase)) return null;
                await Check(outcome, $"inspect {image}").ConfigureAwait(false);
            }
            var lines = outcome.StandardOutput.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var line in lines.Where(l => l.StartsWith("label ", StringComparison.Ordinal)))
            {
                var pair = line.Substring(6).Split(new[] { '=' }, 2);
                labels[pair[0]] = pair.Length > 1 ? pair[1] : "";
            }
            var platform = lines.FirstOrDefault(l => l.StartsWith("platform ", StringComparison.Ordinal))?.Substring(9).Split('/');
            return new ImageInspection(lines[0], labels,
                lines.Where(l => l.StartsWith("tag ", StringComparison.Ordinal)).Select(l => l.Substring(4)).ToList(),
                lines.Where(l => l.StartsWith("digest ", StringComparison.Ordinal)).Select(l => l.Substring(7)).ToList(),
                platform == null || platform.Length != 3 || platform[0].Length == 0 || platform[1].Length == 0 ? null
                    : new ImagePlatform(platform[0], platform[1], platform[2].Length == 0 ? null : platform[2]));
        }

        public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken cancellationToken)
        {
            var outcome = await Docker(cancellationToken, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repository).ConfigureAwait(false);
            await Check(outcome, $"list the images of {repository}").ConfigureAwait(false);
            // Untagged images show as <none>; only tags can be pruned by name.
            return outcome.StandardOutput.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.EndsWith(":<none>", StringComparison.Ordinal))
                .Distinct(StringComparer.Ordinal).ToList();
        }

        /// <summary>Whether the engine answers a version probe within 10 s (the daemon, not only the CLI).</summary>
        private async Task<bool> EngineAnswersAsync(CancellationToken cancellationToken)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                var probe = await Docker(deadline.Token, "version", "--format", "{{.Server.Version}}").ConfigureAwait(false);
                return probe.ExitCode == 0 && probe.StandardOutput.Trim().Length > 0;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { return false; }
            catch (ImageToolsException) { return false; }
        }

        private Task<ProcessOutcome> Docker(CancellationToken cancellationToken, params string[] arguments) =>
            ProcessRunner.RunAsync(_docker, arguments, cancellationToken, environment: _environment);

        private async Task Check(ProcessOutcome outcome, string what)
        {
            if (outcome.ExitCode == 0) return;
            if (Regex.IsMatch(outcome.StandardError, "Cannot connect to the Docker daemon|error during connect", RegexOptions.IgnoreCase))
                throw EngineUnavailable(outcome);
            // "connection refused" is also what a push or pull says of a registry that is down (issue 18: a dead
            // registry reported as a dead engine): the engine is blamed only if it does not answer itself.
            if (Regex.IsMatch(outcome.StandardError, "connection refused", RegexOptions.IgnoreCase))
            {
                if (!await EngineAnswersAsync(CancellationToken.None).ConfigureAwait(false)) throw EngineUnavailable(outcome);
                var address = Regex.Match(outcome.StandardError, @"dial tcp ([^:\s]+:\d+|\[[^\]]+\]:\d+)");
                throw new ImageToolsException("RegistryUnreachable", FaultKind.ResourceUnavailable,
                    $"docker could not {what}: the Docker engine{HostHint()} answers, but " +
                    (address.Success ? $"the registry at {address.Groups[1].Value} refused the connection" : "a registry refused the connection") +
                    $" ({FirstLine(outcome.StandardError)}). Is the registry running? is the address right?");
            }
            throw new ImageToolsException("EngineCommandFailed", FaultKind.InvalidOperation, $"docker could not {what}: {FirstLine(outcome.StandardError)}");
        }

        private ImageToolsException EngineUnavailable(ProcessOutcome outcome)
        {
            var reason = FirstLine(outcome.StandardError);
            var stop = reason.EndsWith(".", StringComparison.Ordinal) || reason.EndsWith("?", StringComparison.Ordinal) ? "" : ".";
            return new ImageToolsException("EngineUnavailable", FaultKind.ResourceUnavailable,
                $"The Docker engine does not answer{HostHint()}: {reason}{stop} Start it, or point DOCKER_HOST/DOCKER_CONTEXT at one that runs.");
        }

        private string HostHint()
        {
            var host = _environment.TryGetValue("DOCKER_HOST", out var fromOptions) ? fromOptions : Environment.GetEnvironmentVariable("DOCKER_HOST");
            return string.IsNullOrEmpty(host) ? "" : $" at {host}";
        }

        private static string FirstLine(string text) => text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "no output";

        /// <summary>The most telling line of a failed build: the last one that looks like an error.</summary>
        private static string LastError(ProcessOutcome outcome)
        {
            var lines = (outcome.StandardError + "\n" + outcome.StandardOutput).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
            return lines.LastOrDefault(l => Regex.IsMatch(l, "error|failed|returned a non-zero code|not found", RegexOptions.IgnoreCase))
                   ?? lines.LastOrDefault() ?? "no output";
        }
    }
}
