using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Engines;
using ImageTools.References;

namespace ImageTools.Planning
{
    /// <summary>An image as found where images are published: its digest and config labels.</summary>
    internal sealed class PublishedImage
    {
        public PublishedImage(string digest, IReadOnlyDictionary<string, string> labels, string? manifestDigest = null, TimeSpan? buildDuration = null)
        {
            Digest = digest;
            Labels = labels;
            ManifestDigest = manifestDigest;
            BuildDuration = buildDuration;
        }

        /// <summary>How long its build took, when its labels and config say (see <see cref="Provenance.ImageLabels.BuildStarted"/>).</summary>
        public TimeSpan? BuildDuration { get; }

        /// <summary>The config's <c>created</c> (the builder's last step) less the build-started label; null when either is missing or they disagree.</summary>
        public static TimeSpan? DurationOf(IReadOnlyDictionary<string, string> labels, string? created)
        {
            if (created == null || !labels.TryGetValue(Provenance.ImageLabels.BuildStarted, out var started)) return null;
            var styles = System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal;
            if (!DateTimeOffset.TryParse(started, System.Globalization.CultureInfo.InvariantCulture, styles, out var begin) ||
                !DateTimeOffset.TryParse(created, System.Globalization.CultureInfo.InvariantCulture, styles, out var end)) return null;
            var duration = end - begin;
            // A config older than the label means a cached image, whose created time says nothing about this build.
            return duration >= TimeSpan.Zero ? duration : (TimeSpan?)null;
        }

        /// <summary>The image id, which is the config digest a registry manifest names.</summary>
        public string Digest { get; }
        /// <summary>
        /// The digest of the image's own manifest (an index resolved to the platform asked for), what
        /// <c>repository@digest</c> pulls; null where the place of record is the local engine.
        /// </summary>
        public string? ManifestDigest { get; }
        public IReadOnlyDictionary<string, string> Labels { get; }
    }

    /// <summary>Where the planner looks images up: the registry, or the local engine when the tree has none.</summary>
    internal interface IPublishedImageSource
    {
        /// <summary>For messages, e.g. "the local engine".</summary>
        string Description { get; }

        /// <summary>
        /// Null when the reference does not exist there. A multi-platform index resolves to
        /// <paramref name="platform"/> (null: the platform local builds produce).
        /// </summary>
        Task<PublishedImage?> FindAsync(ImageReference reference, ImagePlatform? platform, CancellationToken cancellationToken);
    }

    /// <summary>
    /// The local engine as the place of record, for trees without a registry. It owns the engine it is
    /// given: disposing it closes the engine's connections.
    /// </summary>
    internal sealed class LocalEngineImageSource : IPublishedImageSource, IDisposable
    {
        private readonly IContainerEngine _engine;

        public LocalEngineImageSource(IContainerEngine engine) => _engine = engine;

        public void Dispose() => (_engine as IDisposable)?.Dispose();

        public string Description => "the local engine";

        /// <summary>A local tag holds one image, so there is no platform to choose.</summary>
        public async Task<PublishedImage?> FindAsync(ImageReference reference, ImagePlatform? platform, CancellationToken cancellationToken)
        {
            var inspection = await _engine.InspectAsync(reference.ToString(), cancellationToken).ConfigureAwait(false);
            return inspection == null ? null : new PublishedImage(inspection.Id, inspection.Labels);
        }
    }
}
