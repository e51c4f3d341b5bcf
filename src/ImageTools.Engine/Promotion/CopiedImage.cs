namespace ImageTools.Promotion
{
    public enum CopyStatus
    {
        /// <summary>Copied by digest and its tags moved (or, with no tags, stored by digest).</summary>
        Copied,
        /// <summary>The destination already held the content under every tag; nothing was sent.</summary>
        UpToDate,
        /// <summary>Copied by digest, but no tag moved: another copy of the run failed (all or nothing); see HeldBackBy.</summary>
        HeldBack,
        /// <summary>Not copied, or its tags did not move; see Error.</summary>
        Failed,
    }

    /// <summary>
    /// One destination reference of a Copy-Image run: a destination repository and the tags that now point at one
    /// digest there. That digest is the source's, unless the tag held an index with other platforms that was merged
    /// (then <see cref="Merged"/> is true and the digest is the merged index's).
    /// </summary>
    public sealed class CopiedImage
    {
        internal CopiedImage(string source, string destination)
        {
            Source = source;
            Destination = destination;
        }

        /// <summary>The source reference as given (registry/repository:tag or @digest).</summary>
        public string Source { get; }
        /// <summary>The digest of the source's manifest or index.</summary>
        public string? SourceDigest { get; internal set; }
        /// <summary>The destination repository, registry/repository.</summary>
        public string Destination { get; }
        /// <summary>What the tags point at in the destination: the source digest, or the merged index's.</summary>
        public string? Digest { get; internal set; }
        /// <summary>The destination tags of this reference; they moved when <see cref="Status"/> is Copied or UpToDate.</summary>
        public string[] Tags { get; internal set; } = new string[0];
        public CopyStatus Status { get; internal set; } = CopyStatus.Failed;
        /// <summary>Platforms of the source (os/architecture[/variant]); empty for a single-platform manifest.</summary>
        public string[] Platforms { get; internal set; } = new string[0];
        /// <summary>True when the tags hold a merged index: the source's platforms and the destination's others (a new digest).</summary>
        public bool Merged { get; internal set; }
        /// <summary>The destination's platforms that the merge kept (those the source does not have).</summary>
        public string[] KeptPlatforms { get; internal set; } = new string[0];
        /// <summary>Blobs of the copy the destination repository already held (not sent again).</summary>
        public int BlobsSkipped { get; internal set; }
        /// <summary>Blobs linked from another repository of the destination registry (cross-repository mount), not sent.</summary>
        public int BlobsMounted { get; internal set; }
        /// <summary>Blobs streamed from the source registry into the destination.</summary>
        public int BlobsCopied { get; internal set; }
        /// <summary>Bytes streamed (the copied blobs' sizes).</summary>
        public long BytesCopied { get; internal set; }
        public string? Error { get; internal set; }
        public string? ErrorId { get; internal set; }
        /// <summary>For <see cref="CopyStatus.HeldBack"/>: the destinations of the run whose failure held this one's tags back.</summary>
        public string[] HeldBackBy { get; internal set; } = new string[0];
        /// <summary>What was said about it on the warning stream (a tag whose manifest kind was replaced).</summary>
        public string[] Warnings { get; internal set; } = new string[0];

        /// <summary>registry/repository:tag (the first tag), or @digest when no tag moves.</summary>
        public string Reference => Tags.Length > 0 ? $"{Destination}:{Tags[0]}" : $"{Destination}@{Digest}";

        public override string ToString() => $"{Reference}: {Status}";
    }
}
