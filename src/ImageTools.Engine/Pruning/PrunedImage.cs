namespace ImageTools.Pruning
{
    /// <summary>A local tag of a tree image that Remove-ImageBuild removed: what it emits.</summary>
    public sealed class PrunedImage
    {
        internal PrunedImage(string name, string reference, string tag, string imageId, bool nightly)
        {
            Name = name;
            Reference = reference;
            Tag = tag;
            ImageId = imageId;
            Nightly = nightly;
        }

        /// <summary>The tree image whose repository the tag was in.</summary>
        public string Name { get; }
        /// <summary>The local reference that was removed (<c>repository:tag</c>).</summary>
        public string Reference { get; }
        public string Tag { get; }
        /// <summary>The image id the tag pointed at; the engine deletes the image once no tag is left on it.</summary>
        public string ImageId { get; }
        /// <summary>True for a nightly build's tag (<c>VERSION-yyyyMMdd</c>).</summary>
        public bool Nightly { get; }

        public override string ToString() => Reference;
    }
}
