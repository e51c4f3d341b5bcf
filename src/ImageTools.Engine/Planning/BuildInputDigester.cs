using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ImageTools.Definitions;
using ImageTools.Formats;

namespace ImageTools.Planning
{
    /// <summary>
    /// One digest over everything that shapes an image: the context after .dockerignore (paths,
    /// file types, exec bits, contents), the rendered Dockerfile, build args, target and platforms.
    /// Stable across machines; line endings are not normalised because they change the image.
    /// </summary>
    internal sealed class BuildInputDigester
    {
        /// <summary>Stamped beside the digest; a new encoding gets a new scheme so old and new never compare equal by accident.</summary>
        public const string Scheme = "imagetools-inputs-v1";

        private readonly FileHashCache _cache;
        private readonly int _parallelism;

        public BuildInputDigester(FileHashCache? cache = null, int? maxParallelism = null)
        {
            _cache = cache ?? new FileHashCache(null);
            _parallelism = maxParallelism ?? Math.Max(2, Environment.ProcessorCount);
        }

        public string Compute(ImageDefinition image, IReadOnlyDictionary<string, string>? extraBuildArgs = null, CancellationToken cancellationToken = default)
        {
            var context = image.ContextPath;
            var ignorePath = Path.Combine(context, ".dockerignore");
            var ignore = File.Exists(ignorePath) ? DockerIgnore.Parse(File.ReadAllText(ignorePath), ignorePath) : DockerIgnore.Empty;
            var entries = Walk(context, ignore, image.DockerfilePath, cancellationToken);

            var hashes = new string[entries.Count];
            Parallel.For(0, entries.Count, new ParallelOptions { MaxDegreeOfParallelism = _parallelism, CancellationToken = cancellationToken }, i =>
            {
                var entry = entries[i];
                hashes[i] = entry.Kind == 'f' ? _cache.HashOf(new FileInfo(entry.FullPath), () => HashFile(entry.FullPath))
                    : entry.Kind == 'l' ? Sha256(Encoding.UTF8.GetBytes(entry.LinkTarget ?? "")) : "";
            });

            using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            void Field(string value)
            {
                var bytes = Encoding.UTF8.GetBytes(value);
                digest.AppendData(BitConverter.GetBytes(bytes.Length));
                digest.AppendData(bytes);
            }
            Field(Scheme);
            Field("context");
            Field(entries.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            for (var i = 0; i < entries.Count; i++)
            {
                Field(entries[i].Kind + (entries[i].Executable ? "x" : "-"));
                Field(entries[i].RelativePath);
                Field(hashes[i]);
            }
            Field("dockerfile");
            Field(image.DockerfileText);
            var buildArgs = Dictionaries.Overlay(image.BuildArgs, extraBuildArgs);
            Field("args");
            Field(buildArgs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            foreach (var arg in buildArgs.OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                Field(arg.Key);
                Field(arg.Value);
            }
            Field("target");
            Field(image.Target ?? "");
            Field("platforms");
            Field(string.Join(",", image.Platforms.OrderBy(p => p, StringComparer.Ordinal)));
            // Labels from image.yaml and imagetools.yaml go into the image; the latter is outside the context.
            // Only when there are any, so digests of images without labels stay what they were under this scheme.
            if (image.Labels.Count > 0)
            {
                Field("labels");
                Field(image.Labels.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
                foreach (var label in image.Labels.OrderBy(l => l.Key, StringComparer.Ordinal))
                {
                    Field(label.Key);
                    Field(label.Value);
                }
            }
            return "sha256:" + Hex(digest.GetHashAndReset());
        }

        public void SaveCache() => _cache.Save();

        private sealed class Entry
        {
            public Entry(string relativePath, string fullPath, char kind, bool executable, string? linkTarget)
            {
                RelativePath = relativePath;
                FullPath = fullPath;
                Kind = kind;
                Executable = executable;
                LinkTarget = linkTarget;
            }

            public string RelativePath { get; }
            public string FullPath { get; }
            /// <summary>f file, d directory, l symbolic link.</summary>
            public char Kind { get; }
            public bool Executable { get; }
            public string? LinkTarget { get; }
        }

        /// <summary>Every entry the engine would receive, sorted by '/'-separated path. Links are recorded, not followed.</summary>
        private static List<Entry> Walk(string context, DockerIgnore ignore, string dockerfilePath, CancellationToken cancellationToken)
        {
            var entries = new List<Entry>();
            var pending = new Stack<(DirectoryInfo Directory, string Relative)>();
            pending.Push((new DirectoryInfo(context), ""));
            var dockerfile = Path.GetFullPath(dockerfilePath);
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
                        if (!excluded) entries.Add(new Entry(path, child.FullName, 'd', false, null));
                        if (!excluded || ignore.HasExceptions) pending.Push((child, path));
                        continue;
                    }
                    // The Dockerfile is hashed as rendered text, and .dockerignore by its effect.
                    if (excluded || path == ".dockerignore" || string.Equals(item.FullName, dockerfile, StringComparison.Ordinal)) continue;
                    entries.Add(isLink
                        ? new Entry(path, item.FullName, 'l', false, Native.ReadLink(item.FullName))
                        : new Entry(path, item.FullName, 'f', Native.IsExecutable(item.FullName), null));
                }
            }
            entries.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
            return entries;
        }

        private static string HashFile(string path)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 81920, FileOptions.SequentialScan);
            using var sha = SHA256.Create();
            return Hex(sha.ComputeHash(stream));
        }

        private static string Sha256(byte[] bytes)
        {
            using var sha = SHA256.Create();
            return Hex(sha.ComputeHash(bytes));
        }

        private static string Hex(byte[] bytes)
        {
            var text = new StringBuilder(bytes.Length * 2);
            foreach (var b in bytes) text.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            return text.ToString();
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
