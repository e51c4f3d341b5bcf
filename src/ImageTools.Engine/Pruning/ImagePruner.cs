using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Engines;
using ImageTools.Graph;
using ImageTools.Provenance;

namespace ImageTools.Pruning
{
    /// <summary>What to prune: every old tag, or only nightly builds (of one date).</summary>
    internal sealed class PruneOptions
    {
        /// <summary>Only nightly tags (<c>VERSION-yyyyMMdd</c>).</summary>
        public bool NightlyOnly { get; set; }
        /// <summary>With <see cref="NightlyOnly"/>: only the nightly builds of this date (<c>yyyyMMdd</c>).</summary>
        public string? NightlyDate { get; set; }
        /// <summary>The nightly builds of this date (<c>yyyyMMdd</c>) stay whatever else goes: docker-pkg's <c>prune --nightly ID</c> keeps that build.</summary>
        public string? KeepNightlyDate { get; set; }
    }

    /// <summary>A local tag that would go, and why it may: decided before anything is removed.</summary>
    internal sealed class PruneCandidate
    {
        public PruneCandidate(ImageNode node, string reference, string tag, string imageId, bool nightly)
        {
            Node = node;
            Reference = reference;
            Tag = tag;
            ImageId = imageId;
            Nightly = nightly;
        }

        public ImageNode Node { get; }
        public string Reference { get; }
        public string Tag { get; }
        public string ImageId { get; }
        public bool Nightly { get; }

        public PrunedImage ToResult() => new PrunedImage(Node.Name, Reference, Tag, ImageId, Nightly);
    }

    /// <summary>
    /// docker-pkg's <c>prune</c>: removes the local tags of the tree's repositories that are not the current version,
    /// <c>latest</c> or an extra tag, nor anything a current image of the tree was built on (its
    /// <see cref="ImageLabels.Parents"/> label names the parents' references and image ids).
    /// </summary>
    internal sealed class ImagePruner
    {
        private static readonly Regex NightlyTag = new Regex(@"-(\d{8})$", RegexOptions.CultureInvariant);
        private readonly IContainerEngine _engine;
        private readonly ILocalImageCatalog _catalog;

        public ImagePruner(IContainerEngine engine, ILocalImageCatalog catalog)
        {
            _engine = engine;
            _catalog = catalog;
        }

        /// <summary>The tags of <paramref name="selected"/>'s repositories that may go; the whole <paramref name="graph"/> protects what it builds on.</summary>
        public async Task<IReadOnlyList<PruneCandidate>> PlanAsync(ImageGraph graph, IEnumerable<ImageNode> selected, PruneOptions options,
            CancellationToken cancellationToken)
        {
            var (keptReferences, keptIds) = await InUseAsync(graph, cancellationToken).ConfigureAwait(false);
            var candidates = new List<PruneCandidate>();
            foreach (var node in selected)
            {
                var current = new HashSet<string>(new[] { node.Tag, "latest" }.Concat(node.Definition.ExtraTags), StringComparer.Ordinal);
                foreach (var reference in await _catalog.ListTagsAsync(node.ImageReference.Name, cancellationToken).ConfigureAwait(false))
                {
                    var tag = reference.Substring(reference.LastIndexOf(':') + 1);
                    if (current.Contains(tag) || keptReferences.Contains(reference)) continue;
                    var nightly = NightlyTag.Match(tag);
                    if (options.NightlyOnly && (!nightly.Success || (options.NightlyDate != null && nightly.Groups[1].Value != options.NightlyDate))) continue;
                    if (options.KeepNightlyDate != null && nightly.Success && nightly.Groups[1].Value == options.KeepNightlyDate) continue;
                    var inspection = await _engine.InspectAsync(reference, cancellationToken).ConfigureAwait(false);
                    if (inspection == null || keptIds.Contains(inspection.Id)) continue;
                    candidates.Add(new PruneCandidate(node, reference, tag, inspection.Id, nightly.Success));
                }
            }
            return candidates;
        }

        /// <summary>Removes one tag (the engine deletes the image with its last tag).</summary>
        public Task RemoveAsync(PruneCandidate candidate, CancellationToken cancellationToken) =>
            _engine.RemoveAsync(candidate.Reference, cancellationToken);

        /// <summary>The references and image ids the current images of the tree were built on, read from their labels.</summary>
        private async Task<(HashSet<string> References, HashSet<string> Ids)> InUseAsync(ImageGraph graph, CancellationToken cancellationToken)
        {
            var references = new HashSet<string>(StringComparer.Ordinal);
            var ids = new HashSet<string>(StringComparer.Ordinal);
            foreach (var node in graph.Nodes)
            foreach (var tag in new[] { node.Tag, "latest" }.Distinct(StringComparer.Ordinal))
            {
                var current = await _engine.InspectAsync(node.ReferenceWithTag(tag).ToString(), cancellationToken).ConfigureAwait(false);
                if (current == null) continue;
                ids.Add(current.Id);
                current.Labels.TryGetValue(ImageLabels.Parents, out var parents);
                foreach (var parent in ImageLabels.ParseParents(parents))
                {
                    references.Add(parent.Key);
                    ids.Add(parent.Value);
                }
            }
            return (references, ids);
        }
    }
}
