using System;
using System.Collections.Generic;
using ImageTools.Graph;

namespace ImageTools.Planning
{
    /// <summary>Why an image needs a rebuild; an image can have several.</summary>
    public enum RebuildReason
    {
        /// <summary>Asked for by name or -All.</summary>
        Forced,
        /// <summary>Its tag is missing where images are published (the registry, or the local engine without one).</summary>
        NotPublished,
        /// <summary>The digest of its build inputs differs from the one stamped on the published image.</summary>
        InputsChanged,
        /// <summary>A base or parent it was built on now has another digest.</summary>
        BaseChanged,
        /// <summary>An image of the tree it builds on needs a rebuild (cascade).</summary>
        ParentRebuilt,
        /// <summary>The published image was not built by ImageTools, so nothing can be compared.</summary>
        NoBuildMetadata,
    }

    /// <summary>One image's verdict: what Test-ImageNeedsRebuild emits and Invoke-ImageBuild takes.</summary>
    public sealed class RebuildStatus
    {
        internal RebuildStatus(ImageNode node, string inputsDigest)
        {
            Node = node;
            InputsDigest = inputsDigest;
        }

        public string Name => Node.Name;
        public string Reference => Node.Reference;
        public bool NeedsRebuild => Reasons.Count > 0;
        public IReadOnlyList<RebuildReason> Reasons => _reasons;
        /// <summary>One sentence per reason, in the same order.</summary>
        public IReadOnlyList<string> Details => _details;
        /// <summary>The digest of the build inputs as they are now.</summary>
        public string InputsDigest { get; }
        /// <summary>The build args over the tree's that <see cref="InputsDigest"/> was computed with (-BuildArg).</summary>
        internal IReadOnlyDictionary<string, string> BuildArgs { get; set; } = new Dictionary<string, string>();
        /// <summary>The inputs digest stamped on the published image, when there is one.</summary>
        public string? PublishedInputsDigest { get; internal set; }
        /// <summary>The published image's digest (image id / config digest), when it exists.</summary>
        public string? PublishedDigest { get; internal set; }
        /// <summary>How long the published image's build took, when it recorded it; New-ImageBuildPlan weighs legs by it.</summary>
        public TimeSpan? LastBuildDuration { get; internal set; }
        /// <summary>Inputs changed under an unchanged explicit version: publishing needs a new version first.</summary>
        public bool VersionBumpNeeded { get; internal set; }
        /// <summary>
        /// Every image of the tree this one builds on, as found where images are published (those not
        /// published are absent). A build that does not rebuild a parent uses exactly this image of it.
        /// </summary>
        public IReadOnlyList<ParentImage> Parents { get; internal set; } = new ParentImage[0];
        public ImageNode Node { get; }

        private readonly List<RebuildReason> _reasons = new List<RebuildReason>();
        private readonly List<string> _details = new List<string>();

        internal void Add(RebuildReason reason, string detail)
        {
            _reasons.Add(reason);
            _details.Add(detail);
        }

        public override string ToString() => NeedsRebuild ? $"{Reference}: {string.Join(", ", Reasons)}" : $"{Reference}: up to date";
    }
}
