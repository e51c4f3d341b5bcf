using System.Collections.Generic;
using System.Linq;
using ImageTools.Registry;

namespace ImageTools.Promotion
{
    /// <summary>What a Copy-Image run would do, read from the registries before anything is written: for -WhatIf, and for the cmdlet to approve destination by destination.</summary>
    internal sealed class CopyPlan
    {
        public CopyPlan(IReadOnlyList<PlannedCopy> copies) => Copies = copies;

        public IReadOnlyList<PlannedCopy> Copies { get; }

        /// <summary>Every destination of every copy, in the order given.</summary>
        public IEnumerable<PlannedDestination> Destinations => Copies.SelectMany(c => c.Destinations);
    }

    /// <summary>A source as read: its manifest or index and every manifest it names; or why it could not be read.</summary>
    internal sealed class PlannedCopy
    {
        public PlannedCopy(CopyRequest request) => Request = request;

        public CopyRequest Request { get; }
        public RegistryManifest? Root { get; internal set; }
        /// <summary>Every manifest below the root (an index's entries, by digest).</summary>
        public IReadOnlyDictionary<string, RegistryManifest> Children { get; internal set; } = new Dictionary<string, RegistryManifest>();
        public ImageToolsException? Error { get; internal set; }
        public List<PlannedDestination> Destinations { get; } = new List<PlannedDestination>();
        public string SourceRepository => Request.Source.Normalize().Repository;
    }

    /// <summary>One destination repository of a copy: what each of its tags holds now and will hold.</summary>
    internal sealed class PlannedDestination
    {
        public PlannedDestination(PlannedCopy copy, CopyDestination destination)
        {
            Copy = copy;
            Destination = destination;
        }

        public PlannedCopy Copy { get; }
        public CopyDestination Destination { get; }
        public string Repository => Destination.Repository.Normalize().Repository;
        /// <summary>Each tag with what it holds now (digest or null) and what it gets.</summary>
        public List<(string Tag, string? Current, IndexMerge.Outcome Outcome)> Tags { get; } = new List<(string, string?, IndexMerge.Outcome)>();
        public ImageToolsException? Error { get; internal set; }

        /// <summary>The tags grouped by the digest they get (the source's first); with no tags, one group: the source by digest.</summary>
        public IReadOnlyList<(IndexMerge.Outcome Outcome, IReadOnlyList<string> Tags)> Groups
        {
            get
            {
                if (Tags.Count == 0 && Copy.Root != null)
                    return new[] { (new IndexMerge.Outcome(Copy.Root.Bytes, Copy.Root.MediaType, new References.ImagePlatform[0], null), (IReadOnlyList<string>)new string[0]) };
                return Tags.GroupBy(t => t.Outcome.Digest).OrderBy(g => g.Key == Copy.Root?.Digest ? 0 : 1)
                    .Select(g => (g.First().Outcome, (IReadOnlyList<string>)g.Select(t => t.Tag).ToList())).ToList();
            }
        }

        /// <summary>For -WhatIf and -Confirm: what happens to this destination.</summary>
        public string Action
        {
            get
            {
                var root = Copy.Root;
                if (root == null) return $"Copy {Copy.Request.SourceText}";
                var what = root.IsIndex ? $"index of {string.Join(", ", IndexMerge.PlatformsOf(root))}" : "single-platform manifest";
                var tags = Tags.Count == 0 ? "by digest, no tag" : "then move " + string.Join(", ", Tags.Select(t =>
                    t.Outcome.Merged ? $"{t.Tag} (merged with its {string.Join(", ", t.Outcome.Kept)}: new digest {t.Outcome.Digest})"
                    : t.Current == t.Outcome.Digest ? $"{t.Tag} (already there)" : t.Tag));
                return $"Copy {Copy.Request.SourceText} ({root.Digest}, {what}) by digest, {tags}";
            }
        }
    }
}
