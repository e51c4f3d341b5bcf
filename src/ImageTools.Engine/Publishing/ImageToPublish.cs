using ImageTools.Graph;
using ImageTools.References;

namespace ImageTools.Publishing
{
    /// <summary>
    /// A built image and the local tag it was built under: the image's version tag, or that tag
    /// with a nightly suffix (<c>1.0-20261122</c>), which is then the version tag published.
    /// </summary>
    internal sealed class ImageToPublish
    {
        public ImageToPublish(ImageNode node, string imageId, string? tag = null, ImagePlatform? platform = null, string? engineVersion = null,
            ImageReference? repository = null)
        {
            Node = node;
            ImageId = imageId;
            Tag = tag ?? node.Tag;
            Platform = platform;
            EngineVersion = engineVersion;
            _repository = repository;
        }

        private readonly ImageReference? _repository;

        /// <summary>The same image for another repository (an extra repository of the tree), the same tag.</summary>
        public ImageToPublish To(ImageReference repository) => new ImageToPublish(Node, ImageId, Tag, Platform, EngineVersion, repository);

        /// <summary>The same repository and tag for another image id (an equivalent build's published one).</summary>
        public ImageToPublish WithImageId(string imageId) => new ImageToPublish(Node, imageId, Tag, Platform, EngineVersion, _repository);

        /// <summary>The platform the image was built for, when the build that made it in this run said; else asked of the engine.</summary>
        public ImagePlatform? Platform { get; }
        /// <summary>The engine's version when the build that made it in this run asked; then the engine is not asked again.</summary>
        public string? EngineVersion { get; }

        public ImageNode Node { get; }
        /// <summary>The config digest (<c>sha256:…</c>) of the built image.</summary>
        public string ImageId { get; }
        public string Tag { get; }
        /// <summary>The node's reference with <see cref="Tag"/> for its tag.</summary>
        public ImageReference ImageReference => _repository?.WithTag(Tag) ?? Node.ReferenceWithTag(Tag);
        /// <summary><see cref="ImageReference"/> as text, for the engine's calls and for messages.</summary>
        public string Reference => ImageReference.ToString();
        /// <summary>The local tag the build left, what the engine saves: the tree's own reference even when publishing to an extra repository.</summary>
        public string LocalReference => Node.ReferenceWithTag(Tag).ToString();

        public override string ToString() => $"{Reference} ({ImageId})";
    }
}

namespace ImageTools.Publishing
{
    /// <summary>
    /// An image of the run that cannot be published (its build or verification failed, it was skipped,
    /// or it is missing locally). In an atomic publish it holds back every tag of the run.
    /// </summary>
    internal sealed class UnpublishableImage
    {
        public UnpublishableImage(ImageNode node, string reference, string errorId, string reason)
        {
            Node = node;
            Reference = reference;
            ErrorId = errorId;
            Reason = reason;
        }

        public ImageNode Node { get; }
        public string Reference { get; }
        public string ErrorId { get; }
        public string Reason { get; }
    }
}
