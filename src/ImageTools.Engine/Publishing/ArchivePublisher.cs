using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Engines;
using ImageTools.Json;

namespace ImageTools.Publishing
{
    /// <summary>
    /// Publishes images to a directory of docker-archive tars for air-gapped transfer. Resumable:
    /// tars are written under a temporary name and renamed, and only a finished tar gets its
    /// record; images already archived with the same digest are skipped. A lock per image keeps
    /// two runs from writing the same image at once.
    /// </summary>
    internal sealed class ArchivePublisher
    {
        public const string IndexFileName = "index.json";
        private static readonly TimeSpan LockPoll = TimeSpan.FromMilliseconds(200);
        private readonly IContainerEngine _engine;
        private readonly string _directory;
        private readonly TimeSpan _lockTimeout;

        public ArchivePublisher(IContainerEngine engine, string directory, TimeSpan? lockTimeout = null)
        {
            _engine = engine;
            _directory = Path.GetFullPath(directory);
            _lockTimeout = lockTimeout ?? TimeSpan.FromMinutes(10);
        }

        /// <summary>Archives each image (whose local tag must still point at <c>ImageId</c>), then rewrites the index.</summary>
        public async Task<IReadOnlyList<PublishResult>> PublishAsync(IEnumerable<ImageToPublish> images, CancellationToken cancellationToken)
        {
            try { Directory.CreateDirectory(_directory); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ImageToolsException("ArchiveUnavailable", FaultKind.ResourceUnavailable,
                    $"Cannot create the archive directory: {e.Message}. Check the path and its permissions.", _directory, inner: e);
            }
            var results = new List<PublishResult>();
            try
            {
                foreach (var image in images)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    results.Add(await ArchiveOneAsync(image, cancellationToken).ConfigureAwait(false));
                }
            }
            finally
            {
                var listingError = TryWriteIndex();
                if (listingError != null)
                    foreach (var result in results.Where(r => r.Status != PublishStatus.Failed)) result.Error = listingError;
            }
            return results;
        }

        /// <summary>What the archive directory holds: every whole entry, by file name.</summary>
        public static IReadOnlyList<ArchiveEntry> List(string directory) =>
            !Directory.Exists(directory) ? new ArchiveEntry[0]
                : Directory.GetFiles(directory, "*.tar" + ArchiveEntry.RecordExtension)
                    .Select(ArchiveEntry.FromRecord)
                    .Where(e => e != null && File.Exists(Path.Combine(directory, e.File)))
                    .Select(e => e!)
                    .OrderBy(e => e.File, StringComparer.Ordinal)
                    .ToList();

        private async Task<PublishResult> ArchiveOneAsync(ImageToPublish image, CancellationToken cancellationToken)
        {
            var (node, imageId) = (image.Node, image.ImageId);
            var fileName = ArchiveEntry.FileNameFor(node.Name, image.Tag);
            var tar = Path.Combine(_directory, fileName);
            var record = tar + ArchiveEntry.RecordExtension;
            var result = new PublishResult(image, _directory) { Path = tar, Digest = imageId, Tags = new[] { image.Tag }, Attempts = 1 };
            try
            {
                using var held = await LockAsync(tar + ".lock", image, cancellationToken).ConfigureAwait(false);
                var existing = ArchiveEntry.FromRecord(record);
                if (existing != null && existing.Digest == imageId && File.Exists(tar) && new FileInfo(tar).Length == existing.Size)
                {
                    result.Status = PublishStatus.AlreadyPublished;
                    return result;
                }
                var current = await _engine.InspectAsync(image.Reference, cancellationToken).ConfigureAwait(false);
                if (current == null || current.Id != imageId)
                    throw new ImageToolsException("ImageChanged", FaultKind.InvalidOperation,
                        $"{image.Reference} no longer points at the built image {imageId}; it was not archived. Build and publish it again.",
                        imageName: node.Name);

                // Drop the old record first: a crash after the new tar lands must not leave a record vouching for it.
                if (File.Exists(record)) File.Delete(record);
                var partial = tar + ".partial-" + Guid.NewGuid().ToString("N").Substring(0, 8);
                try
                {
                    // A full disk is an IOException from every engine adapter, reported below as our own writes are.
                    await _engine.SaveAsync(image.Reference, partial, cancellationToken).ConfigureAwait(false);
                    AtomicFile.MoveOver(partial, tar);
                }
                finally
                {
                    if (File.Exists(partial)) File.Delete(partial);
                }
                var entry = new ArchiveEntry(node.Name, image.Tag, image.Reference, imageId, DateTimeOffset.UtcNow, new FileInfo(tar).Length, fileName,
                    ImageCreatedIn(tar, imageId));
                AtomicFile.WriteAllText(record, entry.ToRecord());
                result.Status = PublishStatus.Archived;
            }
            catch (ImageToolsException e)
            {
                result.Error = e.Message;
                result.ErrorId = e.ErrorId;
            }
            catch (IOException e)
            {
                result.Error = $"Writing {tar} failed: {e.Message}. Check free disk space; the next run resumes where this one stopped.";
                result.ErrorId = "ArchiveWriteFailed";
            }
            return result;
        }

        /// <summary>The image's creation time from the tar just written; a tar we cannot read for it still archives (the listing shows none).</summary>
        internal static DateTimeOffset? ImageCreatedIn(string tar, string imageId)
        {
            try { return Formats.SavedImageArchive.Open(tar).ImageCreated(imageId); }
            catch (Exception e) when (e is ImageToolsException || e is IOException || e is JsonFormatException) { return null; }
        }

        /// <summary>An exclusive lock file per image; another run holding it is waited for, up to the timeout.</summary>
        private async Task<IDisposable> LockAsync(string path, ImageToPublish image, CancellationToken cancellationToken)
        {
            var deadline = DateTime.UtcNow + _lockTimeout;
            while (true)
            {
                try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose); }
                // Held by another run only if it exists; otherwise it could not be created (full disk), which the caller reports.
                catch (IOException) when (File.Exists(path) && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(LockPoll, cancellationToken).ConfigureAwait(false);
                }
                catch (IOException e) when (File.Exists(path))
                {
                    throw new ImageToolsException("ArchiveLocked", FaultKind.ResourceUnavailable,
                        $"Another run has been writing {image.Reference} to this archive for over {_lockTimeout.TotalMinutes:F0} minutes. " +
                        $"If no other run is active, delete {path}.", path, imageName: image.Node.Name, inner: e);
                }
            }
        }

        /// <summary>
        /// Rewrites index.json from the per-image records; returns why it could not, or null. The
        /// records stay the truth and the old listing stays whole, so a failure here fails no image.
        /// </summary>
        private string? TryWriteIndex()
        {
            var path = Path.Combine(_directory, IndexFileName);
            try
            {
                var entries = List(_directory);
                AtomicFile.WriteAllText(path, JsonValue.Array(entries.Select(e => e.ToJson())).ToIndentedJson());
                return null;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return $"The listing {path} could not be rewritten ({e.Message}); the archived tars and their records are whole. " +
                    "Check free disk space; the next run rewrites the listing.";
            }
        }
    }
}
