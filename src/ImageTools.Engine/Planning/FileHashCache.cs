using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO;
using System.Text;

namespace ImageTools.Planning
{
    /// <summary>
    /// Remembers file hashes by (path, size, modification time) so unchanged files are not read
    /// again. Only a speed-up: a miss or a corrupt cache file just means hashing. netstandard2.0
    /// exposes no inode or ctime, so a file replaced by another of the same size and mtime would
    /// be missed; build tools that keep mtimes (e.g. rsync -t) and same-size edits are the rare case.
    /// </summary>
    internal sealed class FileHashCache
    {
        private const string Header = "imagetools-file-hashes-v1";
        // Git's "racy clean" problem: a file written in the same instant as its entry may change again unseen.
        private static readonly TimeSpan RacyWindow = TimeSpan.FromSeconds(2);
        private readonly ConcurrentDictionary<string, (long Length, long Ticks, string Hash)> _entries =
            new ConcurrentDictionary<string, (long, long, string)>(StringComparer.Ordinal);
        private readonly string? _path;
        private int _changed;

        public FileHashCache(string? path)
        {
            _path = path;
            if (path != null) Load(path);
        }

        /// <summary>The default location: $XDG_CACHE_HOME/imagetools, ~/.cache/imagetools, or %LOCALAPPDATA%\ImageTools.</summary>
        public static string DefaultPath()
        {
            var windows = Path.DirectorySeparatorChar == '\\';
            var root = windows
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "ImageTools")
                : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
                    : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "imagetools");
            return Path.Combine(root, "file-hashes");
        }

        /// <summary>How many files were hashed (not answered from the cache) since creation.</summary>
        public int HashedCount => _hashed;
        private int _hashed;

        public string HashOf(FileInfo file, Func<string> hash)
        {
            var ticks = file.LastWriteTimeUtc.Ticks;
            if (_entries.TryGetValue(file.FullName, out var entry) && entry.Length == file.Length && entry.Ticks == ticks)
                return entry.Hash;
            var value = hash();
            System.Threading.Interlocked.Increment(ref _hashed);
            if (DateTime.UtcNow - file.LastWriteTimeUtc > RacyWindow)
            {
                _entries[file.FullName] = (file.Length, ticks, value);
                System.Threading.Interlocked.Exchange(ref _changed, 1);
            }
            return value;
        }

        /// <summary>Writes the cache atomically (temp file + rename) when it changed; failures are ignored.</summary>
        public void Save()
        {
            if (_path == null || _changed == 0) return;
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
                var text = new StringBuilder(Header + "\n");
                foreach (var pair in _entries)
                    text.Append($"{pair.Value.Length.ToString(CultureInfo.InvariantCulture)}\t{pair.Value.Ticks.ToString(CultureInfo.InvariantCulture)}\t{pair.Value.Hash}\t{pair.Key}\n");
                AtomicFile.WriteAllText(_path, text.ToString());
                _changed = 0;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { }
        }

        private void Load(string path)
        {
            try
            {
                if (!File.Exists(path)) return;
                using var reader = new StreamReader(path, Encoding.UTF8);
                if (reader.ReadLine() != Header) return;
                string? line;
                while ((line = reader.ReadLine()) != null)
                {
                    var fields = line.Split(new[] { '\t' }, 4);
                    if (fields.Length == 4 &&
                        long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var length) &&
                        long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) &&
                        fields[2].Length == 64)
                        _entries[fields[3]] = (length, ticks, fields[2]);
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { _entries.Clear(); }
        }
    }
}
