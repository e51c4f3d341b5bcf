using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace ImageTools.Formats
{
    /// <summary>One entry of a build context: a file, a directory or a symbolic link.</summary>
    internal sealed class BuildContextEntry
    {
        public BuildContextEntry(string relativePath, string fullPath, char kind, bool executable, string? linkTarget)
        {
            RelativePath = relativePath;
            FullPath = fullPath;
            Kind = kind;
            Executable = executable;
            LinkTarget = linkTarget;
        }

        /// <summary>'/'-separated, relative to the context directory.</summary>
        public string RelativePath { get; }
        public string FullPath { get; }
        /// <summary>f file, d directory, l symbolic link.</summary>
        public char Kind { get; }
        public bool Executable { get; }
        public string? LinkTarget { get; }
    }

    /// <summary>
    /// The files of a build context as the engine receives them: <c>.dockerignore</c> applied here
    /// and nowhere else. The inputs digest hashes this list and the Engine API build sends it as its
    /// context tar, so what is hashed is what is sent. The Dockerfile itself and <c>.dockerignore</c>
    /// are left out: the first is hashed as rendered text, the second by its effect.
    /// </summary>
    internal static class BuildContext
    {
        public const string IgnoreFileName = ".dockerignore";

        /// <summary>Every entry, sorted by '/'-separated path. Links are recorded, not followed.</summary>
        /// <param name="contextPath">The context directory.</param>
        /// <param name="dockerfilePath">The Dockerfile (or template) that defines the image, wherever it is; empty for none.</param>
        /// <param name="cancellationToken">Stops the walk.</param>
        public static List<BuildContextEntry> Collect(string contextPath, string dockerfilePath, CancellationToken cancellationToken = default)
        {
            var ignorePath = Path.Combine(contextPath, IgnoreFileName);
            var ignore = File.Exists(ignorePath) ? DockerIgnore.Parse(File.ReadAllText(ignorePath), ignorePath) : DockerIgnore.Empty;
            var entries = new List<BuildContextEntry>();
            var pending = new Stack<(DirectoryInfo Directory, string Relative)>();
            pending.Push((new DirectoryInfo(contextPath), ""));
            var dockerfile = dockerfilePath.Length == 0 ? "" : Path.GetFullPath(dockerfilePath);
            while (pending.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (directory, relative) = pending.Pop();
                foreach (var item in directory.EnumerateFileSystemInfos())
                {
                    var path = relative.Length == 0 ? item.Name : relative + "/" + item.Name;
                    var excluded = ignore.IsExcluded(path);
                    var isLink = (item.Attributes & FileAttributes.ReparsePoint) != 0;
                    if (item is DirectoryInfo child && !isLink)
                    {
                        // An excluded directory may still hold re-included files when exceptions exist.
                        if (!excluded) entries.Add(new BuildContextEntry(path, child.FullName, 'd', false, null));
                        if (!excluded || ignore.HasExceptions) pending.Push((child, path));
                        continue;
                    }
                    if (excluded || path == IgnoreFileName || string.Equals(item.FullName, dockerfile, StringComparison.Ordinal)) continue;
                    entries.Add(isLink
                        ? new BuildContextEntry(path, item.FullName, 'l', false, Native.ReadLink(item.FullName))
                        : new BuildContextEntry(path, item.FullName, 'f', Native.IsExecutable(item.FullName), null));
                }
            }
            entries.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
            return entries;
        }

        /// <summary>
        /// File modes and link targets through libc: netstandard2.0 has no API for either. access()
        /// answers for the current user, who owns the files of a checkout. Windows has no exec bit;
        /// there every file counts as not executable, so a tree digested on Windows and on Linux
        /// differs only where a file is executable.
        /// </summary>
        private static class Native
        {
            private static readonly bool Unix = !RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

            [DllImport("libc", EntryPoint = "access", SetLastError = true)]
            private static extern int Access(string path, int mode);

            [DllImport("libc", EntryPoint = "readlink", SetLastError = true)]
            private static extern IntPtr ReadLinkRaw(string path, byte[] buffer, IntPtr size);

            public static bool IsExecutable(string path) => Unix && Access(path, 1 /* X_OK */) == 0;

            public static string? ReadLink(string path)
            {
                if (!Unix) return null;
                var buffer = new byte[4096];
                var length = ReadLinkRaw(path, buffer, (IntPtr)buffer.Length).ToInt64();
                return length < 0 ? null : Encoding.UTF8.GetString(buffer, 0, (int)length);
            }
        }
    }
}
