using System;
using System.Globalization;
using System.Linq;
using ImageTools.Json;

namespace ImageTools.Publishing
{
    /// <summary>
    /// One image in an archive directory: <c>NAME_TAG.tar</c> plus a <c>.tar.entry</c> record
    /// (key=value lines) written after the tar is complete. The record is the proof an archive is
    /// whole: a tar without one is an interrupted save and is written again.
    /// </summary>
    internal sealed class ArchiveEntry
    {
        public const string RecordExtension = ".entry";

        public ArchiveEntry(string name, string tag, string reference, string digest, DateTimeOffset created, long size, string file,
            DateTimeOffset? imageCreated = null)
        {
            ImageCreated = imageCreated;
            Name = name;
            Tag = tag;
            Reference = reference;
            Digest = digest;
            Created = created;
            Size = size;
            File = file;
        }

        public string Name { get; }
        public string Tag { get; }
        public string Reference { get; }
        /// <summary>The image id (config digest) that was saved.</summary>
        public string Digest { get; }
        /// <summary>When the image was archived.</summary>
        public DateTimeOffset Created { get; }
        /// <summary>The image's own creation time (its config's <c>created</c>); records written before it was kept have none.</summary>
        public DateTimeOffset? ImageCreated { get; }
        public long Size { get; }
        /// <summary>The tar's file name inside the archive directory.</summary>
        public string File { get; }

        /// <summary>A file name safe on Windows and Linux for an image and tag.</summary>
        public static string FileNameFor(string name, string tag) => name.Replace('/', '_') + "_" + tag + ".tar";

        internal string ToRecord() => string.Join("\n", new[]
        {
            "name=" + Name, "tag=" + Tag, "reference=" + Reference, "digest=" + Digest,
            "created=" + Created.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), "size=" + Size.ToString(CultureInfo.InvariantCulture),
            "file=" + File,
        }.Concat(ImageCreated is { } imageCreated ? new[] { "imagecreated=" + Stamp(imageCreated) } : new string[0])) + "\n";

        private static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

        /// <summary>Null for a record that is missing or not whole.</summary>
        internal static ArchiveEntry? FromRecord(string path)
        {
            if (!System.IO.File.Exists(path)) return null;
            var fields = System.IO.File.ReadAllLines(path).Select(l => l.Split(new[] { '=' }, 2)).Where(p => p.Length == 2)
                .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            string? Field(string key) => fields.TryGetValue(key, out var value) ? value : null;
            if (Field("name") is not { } name || Field("tag") is not { } tag || Field("reference") is not { } reference ||
                Field("digest") is not { } digest || Field("file") is not { } file ||
                !DateTimeOffset.TryParse(Field("created"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created) ||
                !long.TryParse(Field("size"), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
                return null;
            var imageCreated = DateTimeOffset.TryParse(Field("imagecreated"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var stamped)
                ? stamped : (DateTimeOffset?)null;
            return new ArchiveEntry(name, tag, reference, digest, created, size, file, imageCreated);
        }

        /// <summary>The entry as a JSON object (the index is read by ConvertFrom-Json).</summary>
        internal JsonValue ToJson() => JsonValue.Object(
            ("name", JsonValue.String(Name)), ("tag", JsonValue.String(Tag)), ("reference", JsonValue.String(Reference)),
            ("digest", JsonValue.String(Digest)),
            ("created", JsonValue.String(Created.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture))),
            ("size", JsonValue.Number(Size)), ("file", JsonValue.String(File)),
            ("imageCreated", ImageCreated is { } imageCreated ? JsonValue.String(Stamp(imageCreated)) : JsonValue.Null));
    }
}
