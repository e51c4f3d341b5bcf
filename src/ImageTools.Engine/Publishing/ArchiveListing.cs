using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ImageTools.Publishing
{
    /// <summary>
    /// Reads what an archive directory holds from its per-image records (the truth index.json is
    /// rewritten from). Records written before the image's creation time was kept get it from the tar.
    /// </summary>
    internal static class ArchiveListing
    {
        /// <summary>Every whole entry, by file name; <c>ArchiveNotFound</c> or <c>ArchiveUnreadable</c> naming the path otherwise.</summary>
        public static IReadOnlyList<ArchivedImage> Read(string directory)
        {
            directory = Path.GetFullPath(directory);
            if (!Directory.Exists(directory))
                throw new ImageToolsException("ArchiveNotFound", FaultKind.ObjectNotFound,
                    File.Exists(directory)
                        ? "This is a file, not an archive directory. Name the directory Publish-Image -ArchivePath wrote."
                        : "There is no archive here. Check the path (Publish-Image -ArchivePath creates one).", directory);
            IReadOnlyList<ArchiveEntry> entries;
            try
            {
                var hasIndex = File.Exists(Path.Combine(directory, ArchivePublisher.IndexFileName));
                entries = ArchivePublisher.List(directory);
                if (!hasIndex && entries.Count == 0)
                    throw new ImageToolsException("ArchiveNotFound", FaultKind.ObjectNotFound,
                        $"This is not an image archive: it has no {ArchivePublisher.IndexFileName} and no archived images. Check the path.", directory);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ImageToolsException("ArchiveUnreadable", FaultKind.ResourceUnavailable,
                    $"The archive could not be read: {e.Message}. Check its permissions.", directory, inner: e);
            }
            return entries.Select(e =>
            {
                var tar = Path.Combine(directory, e.File);
                var created = e.ImageCreated ?? ArchivePublisher.ImageCreatedIn(tar, e.Digest);
                return new ArchivedImage(directory, e.Name, e.Tag, e.Digest, created, e.Size, e.Created, tar);
            }).ToList();
        }
    }
}
