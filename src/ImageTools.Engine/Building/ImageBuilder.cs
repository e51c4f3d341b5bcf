using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Engines;
using ImageTools.Graph;
using ImageTools.Processes;
using ImageTools.Provenance;
using ImageTools.References;
using ImageTools.Registry;

namespace ImageTools.Building
{
    /// <summary>
    /// Builds the selected images of a graph in dependency order, independent ones in parallel.
    /// Each image goes build → verify → tag; a failure marks its dependents Skipped and the other
    /// branches go on. Tags move only after verification, and never half-way through a stop.
    /// </summary>
    internal sealed class ImageBuilder
    {
        private readonly IContainerEngine _engine;
        private readonly BuildOptions _options;
        private readonly IProgress<BuildEvent>? _progress;

        public ImageBuilder(IContainerEngine engine, BuildOptions options, IProgress<BuildEvent>? progress = null)
        {
            _engine = engine;
            _options = options;
            _progress = progress;
            if (options.ThrottleLimit < 1)
                throw new ImageToolsException("InvalidThrottleLimit", FaultKind.InvalidArgument, "-ThrottleLimit must be 1 or more.");
        }

        /// <summary>The log directory of the last run.</summary>
        public string? LogDirectory { get; private set; }

        public async Task<IReadOnlyList<BuildResult>> BuildAsync(ImageGraph graph, IEnumerable<ImageNode> selection, CancellationToken cancellationToken)
        {
            var selected = graph.InBuildOrder(selection);
            var engineVersion = await _engine.GetVersionAsync(cancellationToken).ConfigureAwait(false);
            if (_options.Builder != null) await _engine.CheckBuilderAsync(_options.Builder, cancellationToken).ConfigureAwait(false);
            LogDirectory = _options.LogDirectory ?? Path.Combine(Path.GetTempPath(), "imagetools", "logs",
                _options.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N").Substring(0, 6));
            Directory.CreateDirectory(LogDirectory);

            var run = new Run(graph, selected, new Lazy<Task<(string?, string?)>>(() => GitProvenanceAsync(graph.Tree.Root)), _options.TagSuffix);
            await RefreshExternalBasesAsync(run, selected, cancellationToken).ConfigureAwait(false);
            using var throttle = new SemaphoreSlim(_options.ThrottleLimit);
            try { await Task.WhenAll(selected.Select(node => Task.Run(() => BuildOneAsync(node, run, throttle, cancellationToken)))).ConfigureAwait(false); }
            finally { _options.InputDigester.SaveCache(); }
            var results = selected.Select(n => run.Results[n.Name]).ToList();
            // Asked once here and passed on, so publishing the results asks the engine neither again.
            foreach (var result in results) result.EngineVersion = engineVersion;
            return results;
        }

        private sealed class Run
        {
            public Run(ImageGraph graph, IReadOnlyList<ImageNode> selected, Lazy<Task<(string?, string?)>> git, string? tagSuffix)
            {
                Graph = graph;
                Git = git;
                Results = selected.ToDictionary(n => n.Name, n => new BuildResult(n, BuildStatus.Skipped, tagSuffix), StringComparer.Ordinal);
                Finished = selected.ToDictionary(n => n.Name, _ => new TaskCompletionSource<BuildResult>(), StringComparer.Ordinal);
                // Indexed once: a scan of every edge per image made a run quadratic in the tree.
                var referenced = graph.Edges.Where(e => e.Reference != null).ToList();
                UsesOf = referenced.ToLookup(e => e.Dependent, StringComparer.Ordinal);
                UsedBy = referenced.ToLookup(e => e.Dependency, StringComparer.Ordinal);
            }

            public ImageGraph Graph { get; }
            /// <summary>External bases that could not be refreshed (-Pull, base_images), by <see cref="PullKey"/>, with the reason.</summary>
            public Dictionary<string, string> PullErrors { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
            /// <summary>
            /// External bases pinned for the run, by <see cref="PullKey"/>: the image id each got when it was first
            /// looked up (refreshed, pulled because missing, or found). Every image of the run records that id.
            /// </summary>
            public System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<string?>>> Bases { get; } =
                new System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<string?>>>(StringComparer.Ordinal);
            public Lazy<Task<(string? Revision, string? Source)>> Git { get; }
            public Dictionary<string, BuildResult> Results { get; }
            public Dictionary<string, TaskCompletionSource<BuildResult>> Finished { get; }
            /// <summary>The edges with a Dockerfile reference (FROM, COPY --from, RUN --mount), by the image whose Dockerfile holds them.</summary>
            public ILookup<string, DependencyEdge> UsesOf { get; }
            /// <summary>The same edges, by the image they name.</summary>
            public ILookup<string, DependencyEdge> UsedBy { get; }
            /// <summary>
            /// The engine's fail-fast switch for the run, as <see cref="Registry.RegistryCircuit"/> is a registry's: the first
            /// image that found the engine down (<c>EngineUnavailable</c>, its probe included) and why. Images not started yet
            /// are then not attempted: each says so, naming that first failure, instead of asking a dead engine again.
            /// </summary>
            public (string Image, ImageToolsException Error)? EngineDown
            {
                get { lock (_engineLock) return _engineDown; }
            }

            public void NoteFailure(string image, ImageToolsException error)
            {
                if (error.ErrorId != "EngineUnavailable") return;
                lock (_engineLock) _engineDown ??= (image, error);
            }

            public const string NotAttempted = "Not attempted: ";
            private readonly object _engineLock = new object();
            private (string Image, ImageToolsException Error)? _engineDown;

            /// <summary>Parents this run does not build, made present once per parent and platform: the image id they got.</summary>
            public System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<string>>> ReadyParents { get; } =
                new System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<string>>>(StringComparer.Ordinal);
        }

        private async Task BuildOneAsync(ImageNode node, Run run, SemaphoreSlim throttle, CancellationToken cancellationToken)
        {
            var result = run.Results[node.Name];
            try
            {
                foreach (var dependency in run.Graph.DependenciesOf(node).Where(d => run.Finished.ContainsKey(d.Name)))
                {
                    var parent = await run.Finished[dependency.Name].Task.ConfigureAwait(false);
                    if (parent.Status == BuildStatus.Built) continue;
                    Fail(result, BuildStatus.Skipped, "DependencyFailed",
                        $"Not built: '{dependency.Name}', which it builds on, {(parent.Status == BuildStatus.Failed ? "failed" : "was " + parent.Status.ToString().ToLowerInvariant())}.");
                    return;
                }
                var pullError = node.BaseImages.Select(b => PullKey(b, node.Definition.Platform)).Where(run.PullErrors.ContainsKey)
                    .Select(k => run.PullErrors[k]).FirstOrDefault();
                if (pullError != null)
                {
                    Fail(result, BuildStatus.Failed, "PullFailed", pullError);
                    return;
                }
                await throttle.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    if (run.EngineDown is var (downWhile, first))
                    {
                        Fail(result, BuildStatus.Failed, first.ErrorId,
                            $"{Run.NotAttempted}the engine was found down earlier in this run, while building '{downWhile}', so '{node.Name}' was not built " +
                            $"and none of its tags moved (nothing more of this run goes to the engine). The first failure: {first.Message}");
                        return;
                    }
                    await BuildVerifyTagAsync(node, result, run, cancellationToken).ConfigureAwait(false);
                }
                finally { throttle.Release(); }
            }
            catch (OperationCanceledException)
            {
                Fail(result, BuildStatus.Skipped, "Stopped", "The run was stopped before this image was done; none of its tags moved.");
            }
            catch (ImageToolsException e)
            {
                run.NoteFailure(node.Name, e);
                Fail(result, BuildStatus.Failed, e.ErrorId, e.Message);
            }
            finally
            {
                _progress?.Report(new BuildEvent(node.Name, $"{result.Reference}: {result.Status}" + (result.Error == null ? "" : $" — {result.Error}"), result));
                run.Finished[node.Name].TrySetResult(result);
            }
        }

        private async Task BuildVerifyTagAsync(ImageNode node, BuildResult result, Run run, CancellationToken cancellationToken)
        {
            var watch = Stopwatch.StartNew();
            try
            {
                result.LogPath = Path.Combine(LogDirectory!, node.Name.Replace('/', '_') + ".log");
                File.WriteAllText(result.LogPath, "");
                await BindParentsNotRebuiltAsync(node, run, cancellationToken).ConfigureAwait(false);
                _progress?.Report(new BuildEvent(node.Name, $"Building {node.Reference} (level {node.Level})"));
                var repointed = NightlyParentUses(node, run);
                var dockerfile = Formats.Dockerfiles.DockerfileReferences.Replace(node.Definition.DockerfileText, repointed, node.Definition.DockerfilePath);
                var builtOn = repointed.GroupBy(r => r.Use.Reference, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Reference, StringComparer.Ordinal);
                var request = new BuildRequest(node.Name, node.Definition.ContextPath, dockerfile)
                {
                    // The tree's proxy lies under every build arg the image and -BuildArg set, and is no input of the digest.
                    BuildArgs = Dictionaries.Overlay(Dictionaries.Overlay(run.Graph.Tree.Config.ProxyVariables, node.Definition.BuildArgs), _options.BuildArgs),
                    Labels = await LabelsAsync(node, run, builtOn, cancellationToken).ConfigureAwait(false),
                    Target = node.Definition.Target,
                    Platforms = node.Definition.Platforms,
                    NoCache = _options.NoCache,
                    Builder = _options.Builder,
                    LogPath = result.LogPath,
                    DockerfilePath = node.Definition.DockerfilePath,
                    Steps = _progress == null ? null : new StepEvents(_progress, node),
                };
                result.ImageId = await _engine.BuildAsync(request, cancellationToken).ConfigureAwait(false);
                result.Platform = await CheckPlatformAsync(node, result.ImageId, builtOn, cancellationToken).ConfigureAwait(false);

                _progress?.Report(new BuildEvent(node.Name, $"Verifying {node.Reference}"));
                result.Verified = await Verifier.VerifyAsync(node, result.ImageId, _engine, result.LogPath, cancellationToken, _options.PowerShell).ConfigureAwait(false);

                // The last point to stop: past it every tag moves, so a stop never leaves some moved and some not.
                cancellationToken.ThrowIfCancellationRequested();
                var tags = TagsFor(node, run);
                foreach (var tag in tags) await _engine.TagAsync(result.ImageId, tag, CancellationToken.None).ConfigureAwait(false);
                result.Tags = tags;
                result.Status = BuildStatus.Built;
            }
            finally
            {
                result.Duration = watch.Elapsed;
            }
        }

        /// <summary>A build step as a progress event of its image.</summary>
        private sealed class StepEvents : IProgress<string>
        {
            private readonly IProgress<BuildEvent> _progress;
            private readonly ImageNode _node;

            public StepEvents(IProgress<BuildEvent> progress, ImageNode node)
            {
                _progress = progress;
                _node = node;
            }

            public void Report(string value) => _progress.Report(new BuildEvent(_node.Name, $"{_node.Reference}: {value}"));
        }

        /// <summary>
        /// The image's own reference, plus every reference text its dependents use in FROM or
        /// COPY --from, so a child builds on this run's parent and never on a stale or pulled copy.
        /// A -Nightly build leaves out the references that name the plain version tag: that tag
        /// keeps the published image, and the children are pointed at the nightly tag instead
        /// (<see cref="NightlyParentUses"/>).
        /// </summary>
        private string[] TagsFor(ImageNode node, Run run)
        {
            var own = node.ReferenceWithTag(node.Tag + _options.TagSuffix).ToString();
            var aliases = run.UsedBy[node.Name].Select(e => e.Reference!).Where(r => _options.TagSuffix == null || !NamesPlainTag(r, node));
            return new[] { own }.Concat(aliases).Distinct(StringComparer.Ordinal).ToArray();
        }

        /// <summary>True when the reference names the tag the image has without -Nightly (its version tag, or latest without a version).</summary>
        private static bool NamesPlainTag(string reference, ImageNode image) =>
            ImageReference.TryParse(reference, out var parsed, out _) && parsed!.Digest == null && (parsed.Tag ?? "latest") == image.Tag;

        /// <summary>
        /// Under -Nightly: the image's FROM and COPY --from uses that name the plain version tag of a parent
        /// built in this run, each with the parent's nightly reference to build on instead.
        /// </summary>
        private List<(Formats.Dockerfiles.ImageUse Use, string Reference)> NightlyParentUses(ImageNode node, Run run)
        {
            var repointed = new List<(Formats.Dockerfiles.ImageUse, string)>();
            if (_options.TagSuffix == null) return repointed;
            foreach (var use in node.Definition.ImageUses)
            {
                var edge = run.UsesOf[node.Name].FirstOrDefault(e => e.Line == use.Line && e.Reference == use.Reference);
                if (edge == null || !run.Results.TryGetValue(edge.Dependency, out var parent) || parent.Status != BuildStatus.Built) continue;
                if (NamesPlainTag(use.Reference, parent.Node)) repointed.Add((use, parent.Reference));
            }
            return repointed;
        }

        /// <summary>
        /// Makes every parent of the tree that this run does not rebuild present under each reference the
        /// image's Dockerfile uses for it, before the build: pulled from the registry by the manifest digest
        /// the rebuild check saw (never by tag), else taken from the local engine when there is no registry.
        /// The daemon then never resolves such a reference itself, on Docker Hub or elsewhere.
        /// </summary>
        private async Task BindParentsNotRebuiltAsync(ImageNode node, Run run, CancellationToken cancellationToken)
        {
            var uses = run.UsesOf[node.Name].Where(e => !run.Finished.ContainsKey(e.Dependency)).GroupBy(e => e.Dependency, StringComparer.Ordinal);
            foreach (var use in uses)
            {
                var parent = run.Graph[use.Key];
                var platform = node.Definition.Platform;
                var imageId = await run.ReadyParents.GetOrAdd(parent.Name + " " + platform,
                    _ => new Lazy<Task<string>>(() => FetchParentAsync(node, parent, platform, cancellationToken))).Value.ConfigureAwait(false);
                foreach (var reference in use.Select(e => e.Reference!).Distinct(StringComparer.Ordinal))
                {
                    var local = await _engine.InspectAsync(reference, cancellationToken).ConfigureAwait(false);
                    if (local?.Id != imageId) await _engine.TagAsync(imageId, reference, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        /// <summary>The parent's image id, present in the engine.</summary>
        private async Task<string> FetchParentAsync(ImageNode child, ImageNode parent, ImagePlatform? platform, CancellationToken cancellationToken)
        {
            var seen = _options.PublishedParents.FirstOrDefault(p => p.Name == parent.Name);
            if (seen == null && _options.ParentSource != null)
            {
                var found = await _options.ParentSource.FindAsync(parent.ImageReference, platform, cancellationToken).ConfigureAwait(false);
                if (found == null)
                    throw new ImageToolsException("ParentNotPublished", FaultKind.ObjectNotFound,
                        $"{child.Name} builds on {parent.Name}, which this run does not build and {_options.ParentSource.Description} does not hold ({parent.Reference}); " +
                        $"nothing was built. Build {parent.Name} in the same run (select it too), or publish it first.", imageName: child.Name);
                seen = new Planning.ParentImage(parent.Name, parent.Reference, found.Digest, found.ManifestDigest);
            }
            if (seen != null)
            {
                // An image id is its config's digest: an engine that holds it holds exactly that parent, so
                // there is nothing to pull (a developer's host, an agent that built it in an earlier leg).
                var present = await _engine.InspectAsync(seen.Digest, cancellationToken).ConfigureAwait(false);
                if (present?.Id == seen.Digest) return present.Id;
            }
            if (seen?.ManifestDigest != null)
            {
                // The same place the check looked the parent up; the tag is dropped so nothing can swap the image.
                var byDigest = parent.ImageReference.ByDigest(seen.ManifestDigest).ToString();
                _progress?.Report(new BuildEvent(child.Name, $"Pulling parent {byDigest}" + (platform == null ? "" : $" for {platform}")));
                await _engine.PullAsync(byDigest, platform, cancellationToken).ConfigureAwait(false);
                var pulled = await _engine.InspectAsync(byDigest, cancellationToken).ConfigureAwait(false);
                if (pulled == null || pulled.Id != seen.Digest)
                    throw new ImageToolsException("ParentChanged", FaultKind.InvalidOperation,
                        $"{byDigest} was pulled for {child.Name} but is image {pulled?.Id ?? "(none)"}, not {seen.Digest} as the rebuild check saw; nothing was built. " +
                        "Run Test-ImageNeedsRebuild again.", imageName: child.Name);
                return pulled.Id;
            }
            var held = await _engine.InspectAsync(parent.Reference, cancellationToken).ConfigureAwait(false);
            if (held == null)
                throw new ImageToolsException("ParentMissing", FaultKind.ObjectNotFound,
                    $"{child.Name} builds on {parent.Name} ({parent.Reference}), which this run does not build and the local engine does not hold; nothing was built. " +
                    $"Build {parent.Name} in the same run (Invoke-ImageBuild -Name {parent.Name},{child.Name}), or set 'registry' in imagetools.yaml to pull it from there.",
                    imageName: child.Name);
            return held.Id;
        }

        /// <summary>The labels stamped on the image; <c>builtOn</c> maps a reference written to the one the engine builds on instead (-Nightly).</summary>
        private async Task<IReadOnlyDictionary<string, string>> LabelsAsync(ImageNode node, Run run, IReadOnlyDictionary<string, string> builtOn,
            CancellationToken cancellationToken)
        {
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var label in node.Definition.Labels) labels[label.Key] = label.Value;
            labels[ImageLabels.Name] = node.Name;
            labels[ImageLabels.InputsDigest] = _options.InputsDigests.TryGetValue(node.Name, out var known)
                ? known
                : _options.InputDigester.Compute(node.Definition, _options.BuildArgs, cancellationToken);
            labels[ImageLabels.InputsScheme] = Planning.BuildInputDigester.Scheme;
            if (node.Version != null) labels[ImageLabels.Version] = node.Version + (_options.TagSuffix ?? "");
            labels[ImageLabels.Created] = _options.Now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            labels[ImageLabels.BuildStarted] = _options.Clock().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            // A git context is its own source: its commit and URL (without credentials), not the tree's checkout.
            var (revision, source) = node.Definition.GitContext is { } gitContext
                ? (gitContext.Commit, gitContext.Url.DisplayRemote)
                : await run.Git.Value.ConfigureAwait(false);
            if (revision != null) labels[ImageLabels.Revision] = revision;
            if (source != null) labels[ImageLabels.Source] = source;

            var parents = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var use in node.Definition.ImageUses)
            {
                if (parents.ContainsKey(use.Reference)) continue;
                var platform = node.Definition.Platform;
                var external = !run.UsesOf[node.Name].Any(e => e.Reference == use.Reference);
                var id = external
                    ? await PinnedBaseAsync(run, use.Reference, platform, refresh: false, cancellationToken).ConfigureAwait(false)
                    : (await _engine.InspectAsync(builtOn.TryGetValue(use.Reference, out var instead) ? instead : use.Reference, cancellationToken).ConfigureAwait(false))?.Id;
                if (id != null) parents[use.Reference] = id;
            }
            if (parents.Count > 0) labels[ImageLabels.Parents] = ImageLabels.FormatParents(parents);
            var finalBase = node.Definition.FinalBase;
            if (finalBase != null)
            {
                labels[ImageLabels.BaseName] = finalBase.Reference;
                if (parents.TryGetValue(finalBase.Reference, out var digest)) labels[ImageLabels.BaseDigest] = digest;
            }
            return labels;
        }

        /// <summary>
        /// Before any build: the external bases to refresh (every one with -Pull, else those the tree lists in
        /// base_images), each pulled once per platform an image of the run builds on it for. A failure is kept
        /// by <see cref="PullKey"/> and fails the images on that base; the others go on.
        /// </summary>
        private async Task RefreshExternalBasesAsync(Run run, IReadOnlyList<ImageNode> selected, CancellationToken cancellationToken)
        {
            var listed = new HashSet<ImageReference>(run.Graph.Tree.Config.BaseImages
                .Select(b => ImageReference.TryParse(b, out var parsed, out _) ? parsed : null).Where(r => r != null)!);
            var refreshes = selected.SelectMany(n => n.BaseImages.Select(b => (Reference: b, n.Definition.Platform)))
                .Where(b => _options.Pull || (ImageReference.TryParse(b.Reference, out var parsed, out _) && listed.Contains(parsed!)))
                .GroupBy(b => PullKey(b.Reference, b.Platform), StringComparer.Ordinal).Select(g => g.First()).ToList();
            foreach (var (reference, platform) in refreshes)
            {
                try { await PinnedBaseAsync(run, reference, platform, refresh: true, cancellationToken).ConfigureAwait(false); }
                catch (ImageToolsException e)
                {
                    var what = platform == null ? reference : $"{reference} for {platform}";
                    var key = PullKey(reference, platform);
                    // -Pull is asked for on the command line: a refresh it cannot make fails the images. base_images asks on every
                    // run, offline ones too: there the engine's copy is used (and recorded), with one warning for the run.
                    var held = _options.Pull ? null : await _engine.InspectAsync(reference, cancellationToken).ConfigureAwait(false);
                    if (held != null && (platform == null || held.Platform == null || PlatformMatcher.Matches(platform, held.Platform)))
                    {
                        run.Bases[key] = new Lazy<Task<string?>>(() => Task.FromResult<string?>(held.Id));
                        _progress?.Report(new BuildEvent(reference,
                            $"base_images could not refresh the base image {what}, so this run builds on the engine's copy ({held.Id}): {e.Message}", isWarning: true));
                    }
                    else run.PullErrors[key] = $"{(_options.Pull ? "-Pull" : "base_images")} could not refresh the base image {what}: {e.Message}";
                }
            }
        }

        /// <summary>
        /// The id an external base has for the whole run: looked up once per platform (refreshed first when
        /// <paramref name="refresh"/>), then the same for every image, so that no image of the run builds on,
        /// or records, another copy. A base the engine does not hold (for this platform) is pulled: its digest is
        /// recorded, and the classic builder would build on a local copy of another platform as it is.
        /// </summary>
        private Task<string?> PinnedBaseAsync(Run run, string reference, ImagePlatform? platform, bool refresh, CancellationToken cancellationToken) =>
            run.Bases.GetOrAdd(PullKey(reference, platform), _ => new Lazy<Task<string?>>(async () =>
            {
                var what = platform == null ? reference : $"{reference} for {platform}";
                if (!refresh)
                {
                    var held = await _engine.InspectAsync(reference, cancellationToken).ConfigureAwait(false);
                    if (held != null && (platform == null || held.Platform == null || PlatformMatcher.Matches(platform, held.Platform))) return held.Id;
                }
                _progress?.Report(new BuildEvent(reference, $"Pulling {what}"));
                await _engine.PullAsync(reference, platform, cancellationToken).ConfigureAwait(false);
                return (await _engine.InspectAsync(reference, cancellationToken).ConfigureAwait(false))?.Id;
            })).Value;

        private static string PullKey(string reference, ImagePlatform? platform) => platform == null ? reference : $"{reference} {platform}";

        /// <summary>
        /// An image.yaml platform is a promise about what gets tagged and published. The classic builder
        /// builds on a local base of another platform without a word, so the result is checked.
        /// </summary>
        /// <summary>The platform the engine built the image for; throws PlatformMismatch when image.yaml asked for another.</summary>
        private async Task<ImagePlatform?> CheckPlatformAsync(ImageNode node, string imageId, IReadOnlyDictionary<string, string> builtOn, CancellationToken cancellationToken)
        {
            var wanted = node.Definition.Platform;
            var built = (await _engine.InspectAsync(imageId, cancellationToken).ConfigureAwait(false))?.Platform;
            if (wanted == null || built == null || PlatformMatcher.Matches(wanted, built)) return built;
            var culprits = new List<string>();
            foreach (var use in node.Definition.ImageUses.Select(u => u.Reference).Distinct(StringComparer.Ordinal))
            {
                var basePlatform = (await _engine.InspectAsync(builtOn.TryGetValue(use, out var instead) ? instead : use, cancellationToken).ConfigureAwait(false))?.Platform;
                if (basePlatform != null && !PlatformMatcher.Matches(wanted, basePlatform)) culprits.Add($"{use} ({basePlatform})");
            }
            var because = culprits.Count == 0 ? "" : $" It builds on {string.Join(", ", culprits)}, which the engine used as it is.";
            throw new ImageToolsException("PlatformMismatch", FaultKind.InvalidOperation,
                $"The engine built {node.Name} for {built}, but {node.Definition.Spec?.FilePath ?? "its image.yaml"} asks for {wanted}; nothing was tagged.{because} " +
                $"Build its bases for {wanted} too (image.yaml platforms), or remove the platforms entry.");
        }

        private static async Task<(string?, string?)> GitProvenanceAsync(string directory)
        {
            async Task<string?> Git(params string[] arguments)
            {
                try
                {
                    var outcome = await ProcessRunner.RunAsync("git", arguments, CancellationToken.None, directory).ConfigureAwait(false);
                    return outcome.ExitCode == 0 && outcome.StandardOutput.Trim().Length > 0 ? outcome.StandardOutput.Trim() : null;
                }
                catch (ImageToolsException) { return null; }
            }
            var source = await Git("config", "--get", "remote.origin.url").ConfigureAwait(false);
            // A remote URL may carry a token (https://user:token@host/repo); it must never reach a label.
            if (source != null) source = System.Text.RegularExpressions.Regex.Replace(source, "^([a-z][a-z0-9+.-]*://)[^/@]*@", "$1");
            return (await Git("rev-parse", "HEAD").ConfigureAwait(false), source);
        }

        private static void Fail(BuildResult result, BuildStatus status, string errorId, string message)
        {
            result.Status = status;
            result.ErrorId = errorId;
            result.Error = message;
        }
    }
}
