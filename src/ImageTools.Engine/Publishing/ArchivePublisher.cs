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
            CreateDirectory();
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
        public static IReadOnlyList<ArchiveEntry> List(string directory)
        {
            if (!Directory.Exists(directory)) return new ArchiveEntry[0];
            var entries = Directory.GetFiles(directory, "*.tar" + ArchiveEntry.RecordExtension)
                .Select(path => (Record: Path.GetFileName(path), Entry: ArchiveEntry.FromRecord(path)))
                .Where(e => e.Entry != null && File.Exists(Path.Combine(directory, e.Entry.File)))
                .ToDictionary(e => e.Record, e => e.Entry!, StringComparer.Ordinal);
            // A deduplicated name's record points at another name's tar: it holds only while that tar's own record says the same image.
            return entries
                .Where(e => e.Key == e.Value.File + ArchiveEntry.RecordExtension ||
                    (entries.TryGetValue(e.Value.File + ArchiveEntry.RecordExtension, out var owner) && owner.Digest == e.Value.Digest))
                .Select(e => e.Value)
                .OrderBy(e => e.Name, StringComparer.Ordinal).ThenBy(e => e.Tag, StringComparer.Ordinal)
                .ToList();
        }

        private Task<PublishResult> ArchiveOneAsync(ImageToPublish image, CancellationToken cancellationToken)
        {
            var result = new PublishResult(image, _directory) { Digest = image.ImageId, Tags = new[] { image.Tag }, Attempts = 1 };
            return ArchiveAsync(image.Node.Name, image.Tag, image.Reference, image.ImageId, force: false, result, cancellationToken);
        }

        /// <summary>
        /// Archives local images that need not be of a tree (keepdocker: any image the engine holds), under their repository
        /// and tag. An image already archived under another name is not stored again: its record points at that tar.
        /// With <c>force</c> the tar is written again even if the archive holds the image.
        /// </summary>
        public async Task<IReadOnlyList<PublishResult>> PublishReferencesAsync(IEnumerable<string> references, bool force, CancellationToken cancellationToken)
        {
            CreateDirectory();
            var results = new List<PublishResult>();
            try
            {
                foreach (var text in references)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (!References.ImageReference.TryParse(text, out var parsed, out var error))
                    {
                        results.Add(new PublishResult(text, text, _directory) { ErrorId = "InvalidReference", Error = $"'{text}' is not an image reference: {error}" });
                        continue;
                    }
                    var tag = parsed!.Tag ?? "latest";
                    var reference = parsed.Name + ":" + tag;
                    var result = new PublishResult(parsed.Name, reference, _directory) { Tags = new[] { tag }, Attempts = 1 };
                    results.Add(await ArchiveAsync(parsed.Name, tag, reference, expectedId: null, force, result, cancellationToken).ConfigureAwait(false));
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

        private void CreateDirectory()
        {
            try { Directory.CreateDirectory(_directory); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ImageToolsException("ArchiveUnavailable", FaultKind.ResourceUnavailable,
                    $"Cannot create the archive directory: {e.Message}. Check the path and its permissions.", _directory, inner: e);
            }
        }

        /// <summary>
        /// Archives one image under <c>name</c> and <c>tag</c>: <c>expectedId</c> is the image id a build made, which the local
        /// tag must still point at; null takes what the tag holds.
        /// </summary>
        private async Task<PublishResult> ArchiveAsync(string name, string tag, string reference, string? expectedId, bool force, PublishResult result,
            CancellationToken cancellationToken)
        {
            var fileName = ArchiveEntry.FileNameFor(name, tag);
            var tar = Path.Combine(_directory, fileName);
            var record = tar + ArchiveEntry.RecordExtension;
            result.Path = tar;
            try
            {
                using var held = await LockAsync(tar + ".lock", reference, name, cancellationToken).ConfigureAwait(false);
                RemoveLeftovers(fileName);
                var existing = ArchiveEntry.FromRecord(record);
                if (!force && expectedId != null && existing != null && existing.Digest == expectedId && Holds(existing))
                {
                    result.Status = PublishStatus.AlreadyPublished;
                    return result;
                }
                var current = await _engine.InspectAsync(reference, cancellationToken).ConfigureAwait(false);
                if (expectedId == null && current == null)
                    throw new ImageToolsException("ImageNotFound", FaultKind.ObjectNotFound,
                        $"The engine has no image {reference}; nothing was archived. Pull or build it first.", imageName: name);
                if (current == null || (expectedId != null && current.Id != expectedId))
                    throw new ImageToolsException("ImageChanged", FaultKind.InvalidOperation,
                        $"{reference} no longer points at the built image {expectedId}; it was not archived. Build and publish it again.",
                        imageName: name);
                var imageId = current.Id;
                result.Digest = imageId;
                // keepdocker locks per image hash: two runs archiving one image under two names must not both write it
                // (the second finds the first's tar below). Always taken after the name's lock, so no two runs wait on each other.
                using var imageHeld = await LockAsync(Path.Combine(_directory, ".image-" + imageId.Replace(':', '-') + ".lock"), reference, name, cancellationToken)
                    .ConfigureAwait(false);
                if (!force)
                {
                    if (existing != null && existing.Digest == imageId && Holds(existing))
                    {
                        result.Status = PublishStatus.AlreadyPublished;
                        result.Path = Path.Combine(_directory, existing.File);
                        return result;
                    }
                    // keepdocker stores an image once: another name's whole tar of the same image id serves this name too.
                    var stored = List(_directory).FirstOrDefault(e => e.Digest == imageId && e.File != fileName && IsOwnTar(e));
                    if (stored != null)
                    {
                        AtomicFile.WriteAllText(record, new ArchiveEntry(name, tag, reference, imageId, DateTimeOffset.UtcNow, stored.Size, stored.File,
                            stored.ImageCreated).ToRecord());
                        result.Path = Path.Combine(_directory, stored.File);
                        result.Status = PublishStatus.Archived;
                        return result;
                    }
                }

                // Names deduplicated onto this tar keep their image: the old tar becomes the first one's own before it is replaced.
                if (existing != null && IsOwnTar(existing)) await HandOverAsync(existing, tar, cancellationToken).ConfigureAwait(false);
                // Drop the old record first: a crash after the new tar lands must not leave a record vouching for it.
                if (File.Exists(record)) File.Delete(record);
                var partial = tar + ".partial-" + Guid.NewGuid().ToString("N").Substring(0, 8);
                try
                {
                    // A full disk is an IOException from every engine adapter, reported below as our own writes are.
                    await _engine.SaveAsync(reference, partial, cancellationToken).ConfigureAwait(false);
                    AtomicFile.MoveOver(partial, tar);
                }
                finally
                {
                    if (File.Exists(partial)) File.Delete(partial);
                }
                var entry = new ArchiveEntry(name, tag, reference, imageId, DateTimeOffset.UtcNow, new FileInfo(tar).Length, fileName,
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

        /// <summary>
        /// Before <paramref name="tar"/> is replaced by another image: the names whose records point at it for the old image
        /// (stored once, indexed twice) would lose theirs, so the old tar moves to the first such name's own file (under that
        /// name's lock) and their records follow it. A crash between the move and the records leaves those names unlisted
        /// until they are archived again, never listed with the wrong image.
        /// </summary>
        private async Task HandOverAsync(ArchiveEntry owner, string tar, CancellationToken cancellationToken)
        {
            var dependents = List(_directory)
                .Where(e => e.File == owner.File && e.Digest == owner.Digest && ArchiveEntry.FileNameFor(e.Name, e.Tag) != owner.File).ToList();
            if (dependents.Count == 0) return;
            var heir = dependents[0];
            var heirFile = ArchiveEntry.FileNameFor(heir.Name, heir.Tag);
            var heirTar = Path.Combine(_directory, heirFile);
            // Not waited for: a run holding the heir's lock is archiving that name itself, and writes its own tar once this
            // one's record is gone; waiting here while holding this image's lock could deadlock with it.
            using var held = TryLock(heirTar + ".lock");
            if (held == null) return;
            AtomicFile.MoveOver(tar, heirTar);
            foreach (var dependent in dependents)
                AtomicFile.WriteAllText(Path.Combine(_directory, ArchiveEntry.FileNameFor(dependent.Name, dependent.Tag) + ArchiveEntry.RecordExtension),
                    new ArchiveEntry(dependent.Name, dependent.Tag, dependent.Reference, dependent.Digest, dependent.Created, dependent.Size, heirFile,
                        dependent.ImageCreated).ToRecord());
        }

        /// <summary>
        /// What a run killed while writing this image left (SIGKILL runs no finally block): its partial tar and
        /// temporary record files. Only the holder of the image's lock writes them, so under the lock they are
        /// nobody's; on Unix a writer still holding one open keeps writing to an unlinked file.
        /// </summary>
        private void RemoveLeftovers(string fileName)
        {
            var patterns = new[] { fileName + ".partial-*", fileName + ".tmp-*", fileName + ArchiveEntry.RecordExtension + ".tmp-*" };
            foreach (var leftover in patterns.SelectMany(p => Directory.EnumerateFiles(_directory, p)))
            {
                try { File.Delete(leftover); }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { }
            }
        }

        private bool IsWhole(ArchiveEntry entry)
        {
            var tar = Path.Combine(_directory, entry.File);
            return File.Exists(tar) && new FileInfo(tar).Length == entry.Size;
        }

        /// <summary>The entry's tar is whole and holds its image: its own, or (deduplicated) another name's whose record says the same image.</summary>
        private bool Holds(ArchiveEntry entry)
        {
            if (IsOwnTar(entry)) return true;
            var owner = ArchiveEntry.FromRecord(Path.Combine(_directory, entry.File + ArchiveEntry.RecordExtension));
            return owner != null && owner.Digest == entry.Digest && IsWhole(owner);
        }

        /// <summary>An entry whose tar is its own (not a deduplicated name pointing at another's), whole.</summary>
        private bool IsOwnTar(ArchiveEntry entry) =>
            entry.File == ArchiveEntry.FileNameFor(entry.Name, entry.Tag) && IsWhole(entry);

        /// <summary>The image's creation time from the tar just written; a tar we cannot read for it still archives (the listing shows none).</summary>
        internal static DateTimeOffset? ImageCreatedIn(string tar, string imageId)
        {
            try { return Formats.SavedImageArchive.Open(tar).ImageCreated(imageId); }
            catch (Exception e) when (e is ImageToolsException || e is IOException || e is JsonFormatException) { return null; }
        }

        /// <summary>The lock at <paramref name="path"/> if no other run holds it, else null.</summary>
        private static IDisposable? TryLock(string path)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose); }
            catch (IOException) { return null; }
        }

        /// <summary>An exclusive lock file per image; another run holding it is waited for, up to the timeout.</summary>
        private async Task<IDisposable> LockAsync(string path, string reference, string name, CancellationToken cancellationToken)
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
                        $"Another run has been writing {reference} to this archive for over {_lockTimeout.TotalMinutes:F0} minutes. " +
                        $"If no other run is active, delete {path}.", path, imageName: name, inner: e);
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
