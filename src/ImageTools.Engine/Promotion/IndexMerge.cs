using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using ImageTools.Json;
using ImageTools.References;
using ImageTools.Registry;

namespace ImageTools.Promotion
{
    /// <summary>
    /// What a destination tag ends up holding (pubtools-quay's multi-arch merge): the source's own bytes, or, when the
    /// tag holds an index with platforms the source index does not have, an index of the source's entries followed by
    /// the tag's other entries (a new digest). Attestation entries of the tag (buildx's unknown/unknown ones) stay only
    /// with the image they describe.
    /// </summary>
    internal static class IndexMerge
    {
        /// <summary>The outcome for one tag.</summary>
        internal sealed class Outcome
        {
            public Outcome(byte[] bytes, string mediaType, IReadOnlyList<ImagePlatform> kept, string? warning)
            {
                Bytes = bytes;
                MediaType = mediaType;
                Digest = Digests.Sha256(bytes);
                Kept = kept;
                Warning = warning;
            }

            public byte[] Bytes { get; }
            public string MediaType { get; }
            public string Digest { get; }
            /// <summary>The tag's platforms kept beside the source's; empty when the tag gets the source as it is.</summary>
            public IReadOnlyList<ImagePlatform> Kept { get; }
            public bool Merged => Kept.Count > 0;
            /// <summary>Why the tag's content is replaced rather than merged, for the warning stream; null when nothing to say.</summary>
            public string? Warning { get; }
        }

        /// <param name="source">The source manifest or index.</param>
        /// <param name="current">What the tag holds now; null when it does not exist.</param>
        /// <param name="merge">Merge into an index with other platforms (the default); false: replace it.</param>
        /// <param name="tag">registry/repository:tag, for the warning.</param>
        public static Outcome For(RegistryManifest source, RegistryManifest? current, bool merge, string tag)
        {
            var asIs = new Outcome(source.Bytes, source.MediaType, Array.Empty<ImagePlatform>(), null);
            if (current == null || current.Digest == source.Digest) return asIs;
            if (current.IsIndex != source.IsIndex)
                return new Outcome(source.Bytes, source.MediaType, Array.Empty<ImagePlatform>(), current.IsIndex
                    ? $"{tag} held a multi-platform index ({current.Digest}); it is replaced by the single-platform manifest {source.Digest}, and its other platforms are no longer under the tag."
                    : $"{tag} held a single-platform manifest ({current.Digest}); it is replaced by the multi-platform index {source.Digest}.");
            if (!source.IsIndex) return asIs;

            var ours = source.Manifests.Where(m => m.Platform != null && !IsAttestation(m)).Select(m => m.Platform!).ToList();
            var entries = current.Manifests.Select((m, i) => (Descriptor: m, Json: current.Json["manifests"]!.Items[i])).ToList();
            var others = entries.Where(e => !IsAttestation(e.Descriptor) && e.Descriptor.Platform != null
                && !ours.Any(p => Same(p, e.Descriptor.Platform!))).ToList();
            if (others.Count == 0) return asIs;
            if (!merge)
                return new Outcome(source.Bytes, source.MediaType, Array.Empty<ImagePlatform>(),
                    $"{tag} held the platforms {string.Join(", ", others.Select(o => o.Descriptor.Platform))} that the source does not have; " +
                    "they are no longer under the tag (-NoMerge).");
            var keptDigests = new HashSet<string>(others.Select(o => o.Descriptor.Digest), StringComparer.Ordinal);
            var attestations = entries.Where(e => IsAttestation(e.Descriptor) && e.Descriptor.Annotations.TryGetValue("vnd.docker.reference.digest", out var of)
                && keptDigests.Contains(of));
            var manifests = source.Json["manifests"]!.Items.Concat(others.Select(o => o.Json)).Concat(attestations.Select(a => a.Json));
            var members = new List<(string, JsonValue)> { ("schemaVersion", JsonValue.Number(2)), ("mediaType", JsonValue.String(source.MediaType)), ("manifests", JsonValue.Array(manifests)) };
            return new Outcome(Encoding.UTF8.GetBytes(JsonValue.Object(members.ToArray()).ToJson()), source.MediaType,
                others.Select(o => o.Descriptor.Platform!).ToList(), null);
        }

        /// <summary>The source's platforms, attestations left out.</summary>
        public static IReadOnlyList<ImagePlatform> PlatformsOf(RegistryManifest manifest) =>
            manifest.Manifests.Where(m => m.Platform != null && !IsAttestation(m)).Select(m => m.Platform!).ToList();

        private static bool IsAttestation(ManifestDescriptor entry) =>
            entry.Annotations.TryGetValue("vnd.docker.reference.type", out var type) && type == "attestation-manifest";

        private static bool Same(ImagePlatform a, ImagePlatform b) => PlatformMatcher.Matches(a, b) && PlatformMatcher.Matches(b, a);
    }
}
