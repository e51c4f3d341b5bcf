using ImageTools.Graph;

namespace ImageTools.Publishing
{
    public enum PublishStatus
    {
        /// <summary>Pushed to a registry.</summary>
        Pushed,
        /// <summary>The destination already held this exact image; nothing was sent.</summary>
        AlreadyPublished,
        /// <summary>Written to an archive directory.</summary>
        Archived,
        /// <summary>Not published; see Error.</summary>
        Failed,
        /// <summary>
        /// Uploaded by digest, but no tag moved because another image of the run failed (atomic publish);
        /// <see cref="PublishResult.HeldBackBy"/> names it. Publishing again after the fix moves the tags.
        /// </summary>
        HeldBack,
        /// <summary>
        /// Uploaded by digest for a plan's promote (Publish-Image -Plan -Stage); no tag moved yet. The leg's
        /// record names <see cref="PublishResult.ManifestDigest"/>, which later legs build on.
        /// </summary>
        Staged,
    }

    /// <summary>One image's publishing outcome: what Publish-Image emits.</summary>
    public sealed class PublishResult
    {
        internal PublishResult(ImageToPublish image, string destination) : this(image.Node, image.Reference, destination)
        {
        }

        internal PublishResult(ImageNode node, string reference, string destination) : this(node.Name, reference, destination)
        {
            Node = node;
        }

        /// <summary>An image that is not of a tree (Publish-Image -Reference): named by its repository.</summary>
        internal PublishResult(string name, string reference, string destination)
        {
            Name = name;
            Reference = reference;
            Destination = destination;
        }

        public string Name { get; }
        /// <summary>The reference published under its version tag (with a nightly suffix, if it was built with one).</summary>
        public string Reference { get; }
        /// <summary>The image id (config digest) published.</summary>
        public string? Digest { get; internal set; }
        /// <summary>
        /// The digest of the image's manifest in the registry, what pins it: <c>repository@ManifestDigest</c>
        /// (docker push prints this one, not <see cref="Digest"/>). For a tag holding an index, the entry of
        /// the image's platform. None for archives.
        /// </summary>
        public string? ManifestDigest { get; internal set; }
        public string[] Tags { get; internal set; } = new string[0];
        public PublishStatus Status { get; internal set; } = PublishStatus.Failed;
        /// <summary>The registry, or the archive directory.</summary>
        public string Destination { get; }
        /// <summary>The archive file, for archive publishing.</summary>
        public string? Path { get; internal set; }
        public int Attempts { get; internal set; }
        public string? Error { get; internal set; }
        public string? ErrorId { get; internal set; }
        /// <summary>For <see cref="PublishStatus.HeldBack"/>: the images of the run whose failure held this one's tags back.</summary>
        public string[] HeldBackBy { get; internal set; } = new string[0];
        /// <summary>The tree image; none for an image archived by reference (Publish-Image -Reference).</summary>
        public ImageNode? Node { get; }

        public override string ToString() => $"{Reference}: {Status}";
    }
}
