using System;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace ImageTools.Changelogs
{
    /// <summary>
    /// The lock that makes changelog updates of one tree take turns: two runs that both read the tree,
    /// plan a cascade and write would otherwise each write over the other's entries. It is an OS file
    /// lock (<see cref="FileShare.None"/>) on <c>.imagetools-changelog.lock</c> in the tree root, held
    /// open from before the tree is read until after the last write. The OS releases it when the process
    /// ends, however it ends (a SIGKILL included), so a stale lock file never blocks: the file itself
    /// is left in place and means nothing. A second run waits for the lock up to a bound, then fails
    /// naming the lock file.
    /// </summary>
    internal sealed class ChangelogLock : IDisposable
    {
        public const string FileName = ".imagetools-changelog.lock";
        public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(60);

        private readonly FileStream _file;

        private ChangelogLock(FileStream file) => _file = file;

        public static string PathFor(string treeRoot) => Path.Combine(treeRoot, FileName);

        /// <summary>Takes the tree's lock, waiting up to <paramref name="wait"/> for another run to release it.</summary>
        public static ChangelogLock Acquire(string treeRoot, TimeSpan wait, CancellationToken cancellationToken)
        {
            var path = PathFor(treeRoot);
            var clock = Stopwatch.StartNew();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    return new ChangelogLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
                }
                catch (IOException e) when (IsHeldByAnother(e))
                {
                    if (clock.Elapsed >= wait)
                        throw new ImageToolsException("ChangelogLocked", FaultKind.ResourceUnavailable,
                            $"Another run is updating the changelogs of this tree and held the lock for more than {wait.TotalSeconds:0} s; " +
                            "no changelog was changed. Wait for it to finish and run again. (The lock is released when that process ends; " +
                            "the file itself may stay.)", filePath: path, inner: e);
                    cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(100));
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    throw new ImageToolsException("ChangelogLockFailed", FaultKind.ResourceUnavailable,
                        $"Could not create the lock file that keeps two changelog updates of this tree apart ({e.Message}); no changelog was changed. " +
                        "Check that the tree root is writable.", filePath: path, inner: e);
                }
            }
        }

        // A sharing violation (Windows) or a held flock (Unix) is a plain IOException; a missing directory, a bad path
        // or a refused permission have types of their own, and waiting would not cure them.
        private static bool IsHeldByAnother(IOException e) =>
            !(e is FileNotFoundException) && !(e is DirectoryNotFoundException) && !(e is PathTooLongException) && !(e is DriveNotFoundException);

        public void Dispose() => _file.Dispose();
    }
}
