using System;
using System.Collections.Generic;
using System.Linq;

namespace ImageTools.Provenance
{
    /// <summary>
    /// The labels every image built by ImageTools carries in its config, so that a registry can
    /// answer "what was this built from?" without pulling layers. The one definition: the builder
    /// stamps them and the rebuild planner reads them.
    /// </summary>
    internal static class ImageLabels
    {
        public const string Version = "org.opencontainers.image.version";
        public const string Created = "org.opencontainers.image.created";
        public const string Revision = "org.opencontainers.image.revision";
        public const string Source = "org.opencontainers.image.source";
        /// <summary>The final stage's base as written in FROM.</summary>
        public const string BaseName = "org.opencontainers.image.base.name";
        /// <summary>The digest (or local image id) the final stage's base had when this image was built.</summary>
        public const string BaseDigest = "org.opencontainers.image.base.digest";

        public const string Prefix = "io.imagetools.";
        /// <summary>The image's name in its tree; its presence marks an image built by ImageTools.</summary>
        public const string Name = Prefix + "name";
        /// <summary>Every image the build read (FROM, COPY --from, RUN --mount) with the digest it had: <c>ref@digest,ref@digest</c>.</summary>
        public const string Parents = Prefix + "parents";
        /// <summary>Digest of all build inputs; the label scheme version goes with it so a new scheme never compares with an old one.</summary>
        public const string InputsDigest = Prefix + "inputs.digest";
        public const string InputsScheme = Prefix + "inputs.scheme";
        /// <summary>
        /// When this image's own build began (ISO 8601, UTC). With the config's <c>created</c>, which the
        /// builder sets at its last step, it gives the build's duration, which the next plan weighs legs by.
        /// </summary>
        public const string BuildStarted = Prefix + "build.started";

        public static string FormatParents(IEnumerable<KeyValuePair<string, string>> parents) =>
            string.Join(",", parents.Select(p => p.Key + "@" + p.Value));

        /// <summary>Reads <see cref="Parents"/> back: reference → digest. A malformed entry is skipped, not fatal.</summary>
        public static IReadOnlyDictionary<string, string> ParseParents(string? text)
        {
            var parents = new Dictionary<string, string>(StringComparer.Ordinal);
            if (string.IsNullOrEmpty(text)) return parents;
            foreach (var entry in text!.Split(','))
            {
                // The digest follows the last '@': a reference may itself hold one.
                var at = entry.LastIndexOf('@');
                if (at > 0 && at < entry.Length - 1) parents[entry.Substring(0, at)] = entry.Substring(at + 1);
            }
            return parents;
        }
    }
}
