using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Graph;
using ImageTools.Provenance;

namespace ImageTools.Planning
{
    internal sealed class RebuildOptions
    {
        /// <summary>Images to force. With <see cref="All"/> the meaning flips (docker_build's xor): all but these.</summary>
        public IReadOnlyCollection<string> Forced { get; set; } = new string[0];
        public bool All { get; set; }
        /// <summary>Build args the build will add; they are build inputs too.</summary>
        public IReadOnlyDictionary<string, string> BuildArgs { get; set; } = new Dictionary<string, string>();
        /// <summary>How many look-ups run at once.</summary>
        public int ThrottleLimit { get; set; } = 32;
    }

    /// <summary>
    /// Decides, without local state, which images need a rebuild and why: every image's inputs are
    /// digested and compared with the labels of its published image, and a rebuild cascades to
    /// every dependent in one pass over the graph, so a dry run shows the whole wave.
    /// </summary>
    internal sealed class RebuildPlanner
    {
        private readonly IPublishedImageSource _source;
        private readonly BuildInputDigester _digester;
        private readonly RebuildOptions _options;
        private readonly ConcurrentQueue<string> _warnings = new ConcurrentQueue<string>();

        public RebuildPlanner(IPublishedImageSource source, BuildInputDigester digester, RebuildOptions options)
        {
            _source = source;
            _digester = digester;
            _options = options;
        }

        /// <summary>What the last plan could not tell (e.g. an external base whose registry did not answer).</summary>
        public IReadOnlyList<string> Warnings => _warnings.ToArray();

        public async Task<IReadOnlyList<RebuildStatus>> PlanAsync(ImageGraph graph, IEnumerable<ImageNode> selection, CancellationToken cancellationToken)
        {
            var selected = graph.InBuildOrder(selection);
            // Parents outside the selection still decide the cascade, so they are looked at too: one
            // closure of the whole selection, not one per image.
            var selectedNames = new HashSet<string>(selected.Select(n => n.Name), StringComparer.Ordinal);
            var considered = graph.Select(selectedNames.Contains, includeDependencies: true);
            var published = new ConcurrentDictionary<string, PublishedImage?>(StringComparer.Ordinal);
            var digests = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);

            using var throttle = new SemaphoreSlim(_options.ThrottleLimit);
            // One failed look-up (registry down, credentials refused) fails the plan: the others are
            // stopped rather than each waiting through its own retries before the error is shown.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Exception? firstFailure = null;
            async Task Look(ImageNode node)
            {
                await throttle.WaitAsync(stop.Token).ConfigureAwait(false);
                try
                {
                    published[node.Name] = await _source.FindAsync(node.ImageReference, node.Definition.Platform, stop.Token).ConfigureAwait(false);
                    digests[node.Name] = _digester.Compute(node.Definition, _options.BuildArgs, stop.Token);
                }
                catch (Exception e) when (!(e is OperationCanceledException))
                {
                    Interlocked.CompareExchange(ref firstFailure, e, null);
                    stop.Cancel();
                    throw;
                }
                finally { throttle.Release(); }
            }
            try { await Task.WhenAll(considered.Select(n => Task.Run(() => Look(n)))).ConfigureAwait(false); }
            // WhenAll may surface a look-up that was stopped; the failure that stopped it is the news.
            catch (Exception) when (firstFailure != null && !cancellationToken.IsCancellationRequested)
            {
                ExceptionDispatchInfo.Capture(firstFailure).Throw();
            }
            finally { _digester.SaveCache(); }

            var externals = await CurrentExternalDigestsAsync(considered, cancellationToken).ConfigureAwait(false);
            var edgesByUse = EdgesByUse(graph);
            var statuses = new Dictionary<string, RebuildStatus>(StringComparer.Ordinal);
            foreach (var node in considered)
                statuses[node.Name] = Decide(node, graph, published, digests[node.Name], externals, edgesByUse, statuses);
            return selected.Select(n => statuses[n.Name]).ToList();
        }

        private RebuildStatus Decide(ImageNode node, ImageGraph graph, IReadOnlyDictionary<string, PublishedImage?> published, string inputs,
            IReadOnlyDictionary<string, string?> externals, IReadOnlyDictionary<(string Dependent, string Reference), DependencyEdge> edgesByUse,
            IReadOnlyDictionary<string, RebuildStatus> decided)
        {
            var status = new RebuildStatus(node, inputs)
            {
                BuildArgs = _options.BuildArgs,
                Parents = graph.DependenciesOf(node).Where(p => published.TryGetValue(p.Name, out var seen) && seen != null)
                    .Select(p => new ParentImage(p.Name, p.Reference, published[p.Name]!.Digest, published[p.Name]!.ManifestDigest)).ToList(),
            };
            var named = _options.Forced.Contains(node.Name, StringComparer.Ordinal);
            if (named ^ _options.All)
                status.Add(RebuildReason.Forced, _options.All ? "Forced: -All." : "Forced by name.");

            var image = published[node.Name];
            if (image == null)
            {
                status.Add(RebuildReason.NotPublished, $"{node.Reference} is not in {_source.Description}.");
            }
            else
            {
                status.PublishedDigest = image.Digest;
                status.LastBuildDuration = image.BuildDuration;
                if (!image.Labels.ContainsKey(ImageLabels.Name))
                {
                    status.Add(RebuildReason.NoBuildMetadata,
                        $"{node.Reference} exists but carries no {ImageLabels.Prefix}* labels: it was not built by ImageTools, so nothing can be compared.");
                }
                else
                {
                    image.Labels.TryGetValue(ImageLabels.InputsDigest, out var stamped);
                    image.Labels.TryGetValue(ImageLabels.InputsScheme, out var scheme);
                    status.PublishedInputsDigest = stamped;
                    if (stamped != inputs || scheme != BuildInputDigester.Scheme)
                    {
                        status.Add(RebuildReason.InputsChanged, $"Build inputs changed: published {Short(stamped)}, now {Short(inputs)}." + CommitMoved(node, image.Labels));
                        status.VersionBumpNeeded = node.Version != null;
                    }
                    foreach (var change in BaseChanges(node, image, published, externals, edgesByUse))
                        status.Add(RebuildReason.BaseChanged, change);
                }
            }

            var rebuiltParents = graph.DependenciesOf(node).Where(p => decided.TryGetValue(p.Name, out var parent) && parent.NeedsRebuild).Select(p => p.Name).ToList();
            if (rebuiltParents.Count > 0)
                status.Add(RebuildReason.ParentRebuilt, $"Builds on {string.Join(", ", rebuiltParents)}, which will be rebuilt.");
            return status;
        }

        /// <summary>Each base or parent recorded at build time whose digest is now another.</summary>
        private static IEnumerable<string> BaseChanges(ImageNode node, PublishedImage image, IReadOnlyDictionary<string, PublishedImage?> published,
            IReadOnlyDictionary<string, string?> externals, IReadOnlyDictionary<(string Dependent, string Reference), DependencyEdge> edgesByUse)
        {
            image.Labels.TryGetValue(ImageLabels.Parents, out var recorded);
            foreach (var parent in ImageLabels.ParseParents(recorded))
            {
                var current = edgesByUse.TryGetValue((node.Name, parent.Key), out var edge)
                    ? (published.TryGetValue(edge.Dependency, out var sibling) ? sibling?.Digest : null)
                    : (externals.TryGetValue(ExternalKey(parent.Key, node), out var external) ? external : null);
                if (current != null && current != parent.Value)
                    yield return $"Base {parent.Key} changed: built on {Short(parent.Value)}, now {Short(current)}.";
            }
        }

        /// <summary>
        /// The edge of the tree each image's reference binds to, indexed once per plan: looking each
        /// recorded parent up in the whole edge list made the check O(images × edges). The first
        /// edge of a reference wins, as the scan in graph order did.
        /// </summary>
        private static IReadOnlyDictionary<(string Dependent, string Reference), DependencyEdge> EdgesByUse(ImageGraph graph)
        {
            var index = new Dictionary<(string Dependent, string Reference), DependencyEdge>();
            foreach (var edge in graph.Edges)
            {
                if (edge.Reference == null) continue;
                var key = (edge.Dependent, edge.Reference);
                if (!index.ContainsKey(key)) index[key] = edge;
            }
            return index;
        }

        /// <summary>
        /// The current digest of every external base the considered images were built on, for the
        /// platform each builds for, looked up once per base and platform (keyed by <see cref="ExternalKey"/>).
        /// </summary>
        private async Task<IReadOnlyDictionary<string, string?>> CurrentExternalDigestsAsync(IReadOnlyList<ImageNode> considered, CancellationToken cancellationToken)
        {
            var lookups = considered.SelectMany(n => n.BaseReferences.Select(b => (Key: ExternalKey(b.ToString(), n), Reference: b, n.Definition.Platform)))
                .GroupBy(l => l.Key, StringComparer.Ordinal).Select(g => g.First()).ToList();
            var found = await Task.WhenAll(lookups.Select(async lookup =>
            {
                var reference = lookup.Reference;
                // An unreachable upstream must not hide the rest of the verdicts: BaseChanged just cannot be told for it.
                try { return (await _source.FindAsync(reference, lookup.Platform, cancellationToken).ConfigureAwait(false))?.Digest; }
                catch (ImageToolsException e)
                {
                    _warnings.Enqueue($"Cannot tell whether the base image {reference} changed: {e.Message}");
                    return null;
                }
            })).ConfigureAwait(false);
            return lookups.Zip(found, (lookup, digest) => (lookup.Key, digest)).ToDictionary(p => p.Key, p => p.digest, StringComparer.Ordinal);
        }

        /// <summary>A base as seen by an image: the same reference can name other images on other platforms.</summary>
        private static string ExternalKey(string reference, ImageNode node) => reference + " " + node.Definition.Platform;

        /// <summary>For a git context whose ref moved: which commit the published image was built from, and which the ref names now.</summary>
        private static string CommitMoved(ImageNode node, IReadOnlyDictionary<string, string> labels)
        {
            var git = node.Definition.GitContext;
            if (git == null) return "";
            return labels.TryGetValue(ImageLabels.Revision, out var built) && !string.Equals(built, git.Commit, StringComparison.OrdinalIgnoreCase)
                ? $" Its git context {git.Url.Display} was built from commit {Abbreviate(built)}; {git.ResolvedRef} is now {Abbreviate(git.Commit)}."
                : "";
        }

        private static string Abbreviate(string commit) => commit.Length > 12 ? commit.Substring(0, 12) : commit;

        private static string Short(string? digest) =>
            digest == null ? "(none)" : digest.StartsWith("sha256:", StringComparison.Ordinal) && digest.Length > 19 ? digest.Substring(0, 19) : digest;
    }
}
