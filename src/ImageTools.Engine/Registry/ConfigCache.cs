using System;
using System.IO;
using ImageTools.References;

namespace ImageTools.Registry
{
    /// <summary>
    /// Config blobs on disk under <c>DIR/sha256/HEX</c>. A digest names its content for ever, so an
    /// entry is never stale; entries are written to a temporary file and renamed (readers never see
    /// half a file, concurrent writers write the same bytes), and checked against their digest on
    /// every read so a damaged file is fetched again rather than believed.
    /// </summary>
    internal sealed class ConfigCache
    {
        private readonly string _directory;

        public ConfigCache(string directory) => _directory = directory;

        private string PathFor(string digest)
        {
            var colon = digest.IndexOf(':');
            return Path.Combine(_directory, digest.Substring(0, colon), digest.Substring(colon + 1));
        }

        /// <summary>The cached bytes, or null when missing, unreadable or damaged (a damaged entry is removed).</summary>
        public byte[]? TryRead(string digest)
        {
            var path = PathFor(digest);
            byte[] bytes;
            try
            {
                if (!File.Exists(path)) return null;
                bytes = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return null;
            }
            if (Digests.Matches(digest, bytes)) return bytes;
            TryDelete(path);
            return null;
        }

        /// <summary>Stores verified bytes; a cache that cannot be written is only slower, never an error.</summary>
        public void Write(string digest, byte[] bytes)
        {
            var path = PathFor(digest);
            var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(temporary, bytes);
                if (File.Exists(path)) { TryDelete(temporary); return; }
                File.Move(temporary, path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                // Another process may have renamed the same content into place first.
                TryDelete(temporary);
            }
        }

        private static void TryDelete(string path)
        {
            try { File.Delete(path); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException) { }
        }
    }
}
