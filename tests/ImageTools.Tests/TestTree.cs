using System;
using System.IO;

namespace ImageTools.Tests
{
    /// <summary>A throw-away image tree on disk: tests write the files they need, paths with '/'.</summary>
    public sealed class TestTree : IDisposable
    {
        public TestTree() : this(Path.GetTempPath())
        {
        }

        /// <summary>A tree in a new directory under <paramref name="parent"/>.</summary>
        public TestTree(string parent)
        {
            Root = Path.Combine(parent, "imagetools-test-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Root);
        }

        public string Root { get; }

        public TestTree Write(string relativePath, string content)
        {
            var path = PathOf(relativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, content.Replace("\r\n", "\n"));
            return this;
        }

        /// <summary>An image directory with a plain Dockerfile.</summary>
        public TestTree Image(string directory, string dockerfile) => Write(directory + "/Dockerfile", dockerfile);

        public static string Changelog(string name, string version) =>
            $"{name} ({version}) imagetools; urgency=medium\n\n  * Initial release.\n\n -- Test Person <test@example.org>  Sun, 22 Nov 2026 10:00:00 +0000\n";

        public string PathOf(string relativePath) => Path.Combine(Root, relativePath.Replace('/', Path.DirectorySeparatorChar));

        public void Dispose()
        {
            try { Directory.Delete(Root, recursive: true); }
            catch (IOException) { }
        }
    }
}
