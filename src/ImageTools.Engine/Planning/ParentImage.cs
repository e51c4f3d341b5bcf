namespace ImageTools.Planning
{
    /// <summary>
    /// A parent of the tree as the rebuild check saw it where images are published. The build of a
    /// child pulls exactly this image when the parent is not rebuilt in the same run, so a
    /// concurrent pipeline moving the parent's tag cannot change what the child builds on.
    /// </summary>
    public sealed class ParentImage
    {
        internal ParentImage(string name, string reference, string digest, string? manifestDigest)
        {
            Name = name;
            Reference = reference;
            Digest = digest;
            ManifestDigest = manifestDigest;
        }

        /// <summary>The parent's name in the tree.</summary>
        public string Name { get; }
        /// <summary>The reference that was looked up (the parent's version tag).</summary>
        public string Reference { get; }
        /// <summary>The image id (config digest): what the child's labels record.</summary>
        public string Digest { get; }
        /// <summary>The manifest digest in the registry, what is pulled; null when the check looked at the local engine.</summary>
        public string? ManifestDigest { get; }

        public override string ToString() => $"{Reference}@{ManifestDigest ?? Digest}";
    }
}
