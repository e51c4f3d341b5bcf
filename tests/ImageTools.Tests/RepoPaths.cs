using System;
using System.IO;

namespace ImageTools.Tests
{
    /// <summary>Files of the repository itself (manifest, format file, examples), found from the test binaries upward.</summary>
    public static class RepoPaths
    {
        public static string Root { get; } = FindRoot();

        public static string Of(string relativePath) => Path.Combine(Root, relativePath.Replace('/', Path.DirectorySeparatorChar));

        private static string FindRoot()
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory != null; directory = directory.Parent)
                if (File.Exists(Path.Combine(directory.FullName, "ImageTools.sln"))) return directory.FullName;
            throw new InvalidOperationException($"No ImageTools.sln above {AppContext.BaseDirectory}.");
        }
    }
}
