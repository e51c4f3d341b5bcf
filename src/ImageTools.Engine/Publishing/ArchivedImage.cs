using System;

namespace ImageTools.Publishing
{
    /// <summary>One image an archive directory holds: what Get-ImageArchive emits (keepdocker's <c>--list</c>).</summary>
    public sealed class ArchivedImage
    {
        internal ArchivedImage(string archive, string repository, string tag, string imageId, DateTimeOffset? created, long size,
            DateTimeOffset archivedAt, string file)
        {
            Archive = archive;
            Repository = repository;
            Tag = tag;
            ImageId = imageId;
            Created = created;
            Size = size;
            ArchivedAt = archivedAt;
            File = file;
        }

        /// <summary>The image's repository (its name in the tree, or the repository of an archived reference).</summary>
        public string Repository { get; }
        public string Tag { get; }
        /// <summary><c>Repository:Tag</c>.</summary>
        public string Reference => Repository + ":" + Tag;
        /// <summary>The image id (config digest), <c>sha256:…</c>.</summary>
        public string ImageId { get; }
        /// <summary>When the image itself was built (its config's <c>created</c>, as <c>docker images</c> shows); null if the tar does not say.</summary>
        public DateTimeOffset? Created { get; }
        /// <summary>The tar's size in bytes.</summary>
        public long Size { get; }
        /// <summary>When the image was written to the archive.</summary>
        public DateTimeOffset ArchivedAt { get; }
        /// <summary>The tar's full path (<c>docker load --input</c> takes it).</summary>
        public string File { get; }
        /// <summary>The archive directory.</summary>
        public string Archive { get; }

        public override string ToString() => $"{Reference} ({ImageId})";
    }
}
