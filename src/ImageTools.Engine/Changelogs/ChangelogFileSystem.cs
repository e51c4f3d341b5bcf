using System.IO;

namespace ImageTools.Changelogs
{
    /// <summary>The file operations an update needs, so tests can make one of them fail midway.</summary>
    internal interface IChangelogFileSystem
    {
        string ReadAllText(string path);
        void WriteAllText(string path, string text);
        /// <summary>Moves <paramref name="source"/> over <paramref name="destination"/> in one step.</summary>
        void Replace(string source, string destination);
        void DeleteIfExists(string path);
    }

    internal sealed class ChangelogFileSystem : IChangelogFileSystem
    {
        public static readonly ChangelogFileSystem Instance = new ChangelogFileSystem();

        // No BOM and '\n' as written: changelogs are compared byte for byte by Debian tooling.
        private static readonly System.Text.Encoding Utf8 = new System.Text.UTF8Encoding(false);

        public string ReadAllText(string path) => File.ReadAllText(path, Utf8);

        public void WriteAllText(string path, string text)
        {
            using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
            var bytes = Utf8.GetBytes(text);
            stream.Write(bytes, 0, bytes.Length);
            stream.Flush(flushToDisk: true);
        }

        public void Replace(string source, string destination) => AtomicFile.MoveOver(source, destination);

        public void DeleteIfExists(string path)
        {
            if (File.Exists(path)) File.Delete(path);
        }
    }
}
